/* Shared by the WASI test programs: check macros, the raw imports that take explicit pointers and lengths (so
 * that out-of-range pointers reach the host instead of trapping in the guest's own strlen), and preopen lookup. */
#ifndef CAPICOLA_WASI_CHECK_H
#define CAPICOLA_WASI_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int checks, failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                  \
    } while (0)

/* `expr` (an errno-returning call) gives exactly `want`. */
#define CHECK_ERR(expr, want)                                              \
    do {                                                                   \
        int got_ = (int)(expr);                                            \
        checks++;                                                          \
        if (got_ != (int)(want)) {                                         \
            failures++;                                                    \
            printf("FAIL %s:%d: %s gave %d, expected %d\n", __FILE__,      \
                   __LINE__, #expr, got_, (int)(want));                    \
        }                                                                  \
    } while (0)

#define OK(expr) CHECK_ERR(expr, 0)

/* A pointer far beyond the end of the guest's memory. */
#define BAD_PTR ((int32_t)0xFFFFFF00u)

static inline int finish(const char *name) {
    printf("%s: %d checks, %d failures\n", name, checks, failures);
    return failures ? 1 : 0;
}

#define WASI_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

WASI_IMPORT(path_open)
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags,
                      int64_t base, int64_t inheriting, int32_t fdflags, int32_t fd_out);
WASI_IMPORT(path_create_directory)
int32_t raw_path_create_directory(int32_t fd, int32_t path, int32_t path_len);
WASI_IMPORT(path_filestat_get)
int32_t raw_path_filestat_get(int32_t fd, int32_t flags, int32_t path, int32_t path_len, int32_t buf);
WASI_IMPORT(path_unlink_file)
int32_t raw_path_unlink_file(int32_t fd, int32_t path, int32_t path_len);
WASI_IMPORT(fd_write)
int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten);
WASI_IMPORT(fd_read)
int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nread);
WASI_IMPORT(fd_fdstat_get)
int32_t raw_fd_fdstat_get(int32_t fd, int32_t buf);
WASI_IMPORT(fd_filestat_get)
int32_t raw_fd_filestat_get(int32_t fd, int32_t buf);
WASI_IMPORT(fd_readdir)
int32_t raw_fd_readdir(int32_t fd, int32_t buf, int32_t buf_len, int64_t cookie, int32_t used);
WASI_IMPORT(fd_prestat_dir_name)
int32_t raw_fd_prestat_dir_name(int32_t fd, int32_t buf, int32_t len);
WASI_IMPORT(fd_seek)
int32_t raw_fd_seek(int32_t fd, int64_t offset, int32_t whence, int32_t out);
WASI_IMPORT(args_get)
int32_t raw_args_get(int32_t argv, int32_t buf);
WASI_IMPORT(args_sizes_get)
int32_t raw_args_sizes_get(int32_t argc, int32_t size);
WASI_IMPORT(environ_get)
int32_t raw_environ_get(int32_t env, int32_t buf);
WASI_IMPORT(clock_time_get)
int32_t raw_clock_time_get(int32_t id, int64_t precision, int32_t out);
WASI_IMPORT(random_get)
int32_t raw_random_get(int32_t buf, int32_t len);
WASI_IMPORT(poll_oneoff)
int32_t raw_poll_oneoff(int32_t subs, int32_t events, int32_t n, int32_t nevents);
WASI_IMPORT(proc_raise)
int32_t raw_proc_raise(int32_t signal);
WASI_IMPORT(path_readlink)
int32_t raw_path_readlink(int32_t fd, int32_t path, int32_t path_len, int32_t buf, int32_t buf_len,
                          int32_t used);

/* The descriptor of the preopened directory named `name`, or -1. */
static inline int find_preopen(const char *name) {
    for (int fd = 3; fd < 64; fd++) {
        __wasi_prestat_t st;
        if (__wasi_fd_prestat_get(fd, &st) != 0) continue;
        char buf[256];
        size_t len = st.u.dir.pr_name_len;
        if (len >= sizeof buf || __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, len) != 0) continue;
        buf[len] = 0;
        if (strcmp(buf, name) == 0) return fd;
    }
    return -1;
}

/* Opens `path` under the directory descriptor `dir` through the raw call; returns the errno, the fd in *out. */
static inline int open_at(int dir, const char *path, int oflags, uint64_t rights, int fdflags, int *out) {
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    int e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, rights, rights,
                             fdflags, &fd);
    *out = (int)fd;
    return e;
}

#define RW_RIGHTS                                                                                   \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |                           \
     __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS |                      \
     __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_SYNC |                  \
     __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_READDIR)

#endif
