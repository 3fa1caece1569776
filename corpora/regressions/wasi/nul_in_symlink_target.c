// Write-back regression: a name the host cannot hold (a symlink target with a NUL byte) is found while planning,
// and the whole write-back is refused: `data.txt`, renamed by the guest, is neither deleted nor half moved.
// before: data.txt=precious
// after: unchanged
// status: 2
#include <stdint.h>
#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_symlink")))
int32_t raw_path_symlink(int32_t target, int32_t target_len, int32_t fd, int32_t name, int32_t name_len);

static const char target[] = "a\0b";
static const char name[] = "link";

int main(void) {
    if (__wasi_path_rename(3, "data.txt", 3, "zz_data.txt")) return 1;
    return raw_path_symlink((int32_t)(uintptr_t)target, 3, 3, (int32_t)(uintptr_t)name, 4);
}
