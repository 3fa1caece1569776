// Write-back regression: a file renamed over an existing file is written at its new path.
// before: a.txt=AAA
// before: b.txt=BBB
// after: b.txt=AAA
// status: 0
#include <wasi/api.h>

int main(void) { return __wasi_path_rename(3, "a.txt", 3, "b.txt"); }
