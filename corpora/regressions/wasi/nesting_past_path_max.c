// Write-back regression: directories nested past PATH_MAX are found while planning, and the whole write-back is
// refused: `data.txt`, renamed by the guest, is neither deleted nor half moved.
// before: data.txt=precious
// after: unchanged
// status: 2
#include <string.h>
#include <wasi/api.h>

int main(void) {
    if (__wasi_path_rename(3, "data.txt", 3, "zz_data.txt")) return 1;
    char name[201];
    memset(name, 'n', 200);
    name[200] = 0;
    const __wasi_rights_t rights = __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_OPEN;
    __wasi_fd_t fd = 3;
    for (int i = 0; i < 25; i++) {
        if (__wasi_path_create_directory(fd, name)) return 2;
        __wasi_fd_t next;
        if (__wasi_path_open(fd, 0, name, __WASI_OFLAGS_DIRECTORY, rights, rights, 0, &next))
            return 3;
        fd = next;
    }
    return 0;
}
