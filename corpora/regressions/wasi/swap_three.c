// Write-back regression: a three-way swap of unmodified files is written back as it happened.
// before: a=A
// before: b=B
// before: c=C
// after: a=B
// after: b=C
// after: c=A
// status: 0
#include <wasi/api.h>

int main(void) {
    int e = __wasi_path_rename(3, "a", 3, "t");
    e = e ? e : __wasi_path_rename(3, "b", 3, "a");
    e = e ? e : __wasi_path_rename(3, "c", 3, "b");
    e = e ? e : __wasi_path_rename(3, "t", 3, "c");
    return e;
}
