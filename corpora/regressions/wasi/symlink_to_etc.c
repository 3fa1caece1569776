// Write-back regression: a guest symlink to an absolute path (`/etc`) is never written to the host: making
// it is refused with EPERM (63, as wasmtime), which the program returns, and the directory stays as it was.
// before: keep=kept
// after: keep=kept
// status: 63
#include <wasi/api.h>

int main(void) { return __wasi_path_symlink("/etc", 3, "etclink"); }
