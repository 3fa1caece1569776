// Write-back: symlinks whose targets stay inside the directory are written back as they are.
// before: f=F
// after: f=F
// after: d/
// after: l -> f
// after: d/up -> ../f
// status: 0
#include <wasi/api.h>

int main(void) {
    int e = __wasi_path_create_directory(3, "d");
    e = e ? e : __wasi_path_symlink("f", 3, "l");
    return e ? e : __wasi_path_symlink("../f", 3, "d/up");
}
