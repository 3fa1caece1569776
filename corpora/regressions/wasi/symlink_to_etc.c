// Write-back regression: a guest symlink to an absolute path (`/etc`) is never written to the host; the
// write-back is refused and the directory stays as it was.
// before: keep=kept
// after: unchanged
// status: 2
#include <wasi/api.h>

int main(void) { return __wasi_path_symlink("/etc", 3, "etclink"); }
