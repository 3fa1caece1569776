/* The filesystem functions: files through libc and raw calls, offsets, directories, links, renames, timestamps,
 * rights and flags, and their error paths (bad descriptors, bad pointers, paths escaping a preopen, a read-only
 * preopen). Expects a writable empty preopen "/sandbox" and a read-only "/ro" holding hello.txt, sub/nested.txt
 * and the symlinks link -> hello.txt and escape -> ../outside. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void libc_files(void) {
    write_file("/sandbox/a.txt", "first line\nsecond line\n");
    FILE *f = fopen("/sandbox/a.txt", "r");
    CHECK(f != NULL);
    if (f) {
        char line[64];
        CHECK(fgets(line, sizeof line, f) && strcmp(line, "first line\n") == 0);
        CHECK(fgets(line, sizeof line, f) && strcmp(line, "second line\n") == 0);
        CHECK(fgets(line, sizeof line, f) == NULL);
        fclose(f);
    }

    int fd = open("/sandbox/b.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10);
    CHECK(lseek(fd, 2, SEEK_SET) == 2);
    char buf[16] = {0};
    CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "234", 3) == 0);
    CHECK(lseek(fd, -2, SEEK_END) == 8);
    CHECK(read(fd, buf, 8) == 2 && memcmp(buf, "89", 2) == 0);
    CHECK(read(fd, buf, 8) == 0);
    CHECK(pwrite(fd, "AB", 2, 4) == 2);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10); /* pwrite does not move the offset */
    CHECK(pread(fd, buf, 4, 3) == 4 && memcmp(buf, "3AB6", 4) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10);
    /* Writing past the end leaves a zero-filled gap. */
    CHECK(lseek(fd, 12, SEEK_SET) == 12);
    CHECK(write(fd, "Z", 1) == 1);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 13 && S_ISREG(st.st_mode));
    CHECK(pread(fd, buf, 3, 10) == 3 && buf[0] == 0 && buf[1] == 0 && buf[2] == 'Z');
    CHECK(ftruncate(fd, 4) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4);
    CHECK(ftruncate(fd, 6) == 0);
    CHECK(pread(fd, buf, 8, 0) == 6 && memcmp(buf, "0123\0\0", 6) == 0);
    CHECK(posix_fallocate(fd, 0, 100) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100);
    CHECK(fsync(fd) == 0);
    CHECK(fdatasync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 10, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);

    /* Append mode writes at the end whatever the offset. */
    fd = open("/sandbox/a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "third\n", 6) == 6);
    CHECK(pwrite(fd, "4th\n", 4, 0) == 4);
    close(fd);
    CHECK(stat("/sandbox/a.txt", &st) == 0 && st.st_size == 33);

    CHECK(open("/sandbox/a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) == -1 && errno == EEXIST);
    CHECK(open("/sandbox/missing", O_RDONLY) == -1 && errno == ENOENT);
    CHECK(open("/sandbox/a.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);
    CHECK(open("/sandbox/a.txt", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);

    /* A file removed while open stays readable through its descriptor. */
    write_file("/sandbox/gone.txt", "still here");
    fd = open("/sandbox/gone.txt", O_RDONLY);
    CHECK(unlink("/sandbox/gone.txt") == 0);
    CHECK(access("/sandbox/gone.txt", F_OK) == -1 && errno == ENOENT);
    CHECK(read(fd, buf, 16) == 10 && memcmp(buf, "still here", 10) == 0);
    close(fd);
}

static void directories(void) {
    CHECK(mkdir("/sandbox/d", 0755) == 0);
    CHECK(mkdir("/sandbox/d", 0755) == -1 && errno == EEXIST);
    CHECK(mkdir("/sandbox/d/e", 0755) == 0);
    write_file("/sandbox/d/zeta", "z");
    write_file("/sandbox/d/alpha", "a");

    DIR *dir = opendir("/sandbox/d");
    CHECK(dir != NULL);
    if (dir) {
        char names[256] = "";
        struct dirent *ent;
        while ((ent = readdir(dir)) != NULL) {
            strcat(names, ent->d_name);
            strcat(names, ent->d_type == DT_DIR ? "/ " : " ");
        }
        closedir(dir);
        CHECK(strcmp(names, "./ ../ alpha e/ zeta ") == 0);
    }

    CHECK(rmdir("/sandbox/d") == -1 && errno == ENOTEMPTY);
    CHECK(rmdir("/sandbox/d/alpha") == -1 && errno == ENOTDIR);
    CHECK(unlink("/sandbox/d/e") == -1 && errno == EISDIR);
    CHECK(rmdir("/sandbox/d/e") == 0);
    CHECK(access("/sandbox/d/e", F_OK) == -1 && errno == ENOENT);

    /* Renames: files, directories, replacing, and the refusals. */
    CHECK(rename("/sandbox/d/alpha", "/sandbox/d/beta") == 0);
    CHECK(access("/sandbox/d/alpha", F_OK) == -1);
    CHECK(rename("/sandbox/d/beta", "/sandbox/d/zeta") == 0); /* replaces zeta */
    FILE *f = fopen("/sandbox/d/zeta", "r");
    CHECK(f && fgetc(f) == 'a');
    if (f) fclose(f);
    CHECK(mkdir("/sandbox/d/sub", 0755) == 0);
    CHECK(rename("/sandbox/d", "/sandbox/d/sub/inside") == -1 && errno == EINVAL);
    CHECK(rename("/sandbox/d/zeta", "/sandbox/d/sub") == -1 && errno == EISDIR);
    CHECK(mkdir("/sandbox/full", 0755) == 0);
    write_file("/sandbox/full/x", "x");
    CHECK(rename("/sandbox/d/sub", "/sandbox/full") == -1 && errno == ENOTEMPTY);
    CHECK(rename("/sandbox/d/sub", "/sandbox/moved") == 0);
    struct stat st;
    CHECK(stat("/sandbox/moved", &st) == 0 && S_ISDIR(st.st_mode));

    /* fd_readdir with a small buffer and cookies, through the raw call. */
    int dfd = open("/sandbox/full", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    uint8_t small[30];
    __wasi_size_t used = 0;
    OK(__wasi_fd_readdir(dfd, small, sizeof small, 0, &used));
    CHECK(used == sizeof small); /* full buffer: "." plus part of ".." */
    __wasi_dirent_t ent;
    memcpy(&ent, small, sizeof ent);
    CHECK(ent.d_next == 1 && ent.d_namlen == 1 && ent.d_type == __WASI_FILETYPE_DIRECTORY);
    uint8_t big[256];
    OK(__wasi_fd_readdir(dfd, big, sizeof big, 2, &used));
    CHECK(used == sizeof ent + 1);
    memcpy(&ent, big, sizeof ent);
    CHECK(ent.d_next == 3 && ent.d_namlen == 1 && big[sizeof ent] == 'x' &&
          ent.d_type == __WASI_FILETYPE_REGULAR_FILE);
    OK(__wasi_fd_readdir(dfd, big, sizeof big, 3, &used));
    CHECK(used == 0);
    close(dfd);
}

static void links(void) {
    write_file("/sandbox/target.txt", "target");
    CHECK(symlink("target.txt", "/sandbox/ln") == 0);
    CHECK(symlink("target.txt", "/sandbox/ln") == -1 && errno == EEXIST);
    char buf[64];
    ssize_t n = readlink("/sandbox/ln", buf, sizeof buf);
    CHECK(n == 10 && memcmp(buf, "target.txt", 10) == 0);
    CHECK(readlink("/sandbox/target.txt", buf, sizeof buf) == -1 && errno == EINVAL);
    FILE *f = fopen("/sandbox/ln", "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "target") == 0);
    if (f) fclose(f);

    struct stat st;
    CHECK(lstat("/sandbox/ln", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("/sandbox/ln", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6);

    int sandbox = find_preopen("/sandbox");
    CHECK(sandbox >= 0);
    /* readlink truncates to the buffer. */
    __wasi_size_t used = 0;
    uint8_t tiny[4];
    OK(__wasi_path_readlink(sandbox, "ln", tiny, sizeof tiny, &used));
    CHECK(used == 4 && memcmp(tiny, "targ", 4) == 0);
    /* Opening a symlink without following it is ELOOP. */
    __wasi_fd_t fd;
    CHECK_ERR(__wasi_path_open(sandbox, 0, "ln", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
              __WASI_ERRNO_LOOP);
    CHECK(symlink("self", "/sandbox/self") == 0);
    CHECK(open("/sandbox/self", O_RDONLY) == -1 && errno == ELOOP);
    /* A dangling symlink. */
    CHECK(symlink("nowhere", "/sandbox/dangling") == 0);
    CHECK(stat("/sandbox/dangling", &st) == -1 && errno == ENOENT);
    CHECK(unlink("/sandbox/dangling") == 0);

    /* Hard links share contents and count. */
    CHECK(link("/sandbox/target.txt", "/sandbox/hard") == 0);
    CHECK(stat("/sandbox/target.txt", &st) == 0 && st.st_nlink == 2);
    ino_t ino = st.st_ino;
    CHECK(stat("/sandbox/hard", &st) == 0 && st.st_ino == ino);
    CHECK(link("/sandbox/target.txt", "/sandbox/hard") == -1 && errno == EEXIST);
    CHECK(mkdir("/sandbox/ldir", 0755) == 0);
    CHECK(link("/sandbox/ldir", "/sandbox/ldir2") == -1 && errno == EPERM);
    CHECK(unlink("/sandbox/target.txt") == 0);
    CHECK(stat("/sandbox/hard", &st) == 0 && st.st_nlink == 1 && st.st_size == 6);
    CHECK(stat("/sandbox/ln", &st) == -1 && errno == ENOENT);
}

static void times(void) {
    write_file("/sandbox/t.txt", "t");
    int fd = open("/sandbox/t.txt", O_RDWR);
    struct timespec ts[2] = {{1, 2}, {3, 4}};
    CHECK(futimens(fd, ts) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(st.st_atim.tv_sec == 1 && st.st_atim.tv_nsec == 2);
    CHECK(st.st_mtim.tv_sec == 3 && st.st_mtim.tv_nsec == 4);
    struct timespec ts2[2] = {{5, 0}, {6, 0}};
    CHECK(utimensat(AT_FDCWD, "/sandbox/t.txt", ts2, 0) == 0);
    CHECK(stat("/sandbox/t.txt", &st) == 0 && st.st_atim.tv_sec == 5 && st.st_mtim.tv_sec == 6);
    /* UTIME_NOW and UTIME_OMIT through the raw calls: Debian's wasi-libc headers and library disagree on
     * their values. */
    int sandbox = find_preopen("/sandbox");
    OK(__wasi_path_filestat_set_times(sandbox, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "t.txt",
                                      9000000000ull, 0, __WASI_FSTFLAGS_ATIM));
    CHECK(stat("/sandbox/t.txt", &st) == 0 && st.st_atim.tv_sec == 9 && st.st_mtim.tv_sec == 6);
    OK(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW));
    CHECK(fstat(fd, &st) == 0 && st.st_mtim.tv_sec > 1600000000 && st.st_atim.tv_sec > 1600000000);
    CHECK_ERR(__wasi_fd_filestat_set_times(fd, 0, 0,
                                           __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
              __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_path_filestat_set_times(sandbox, 0, "t.txt", 0, 0,
                                             __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
              __WASI_ERRNO_INVAL);
    OK(__wasi_path_filestat_set_times(sandbox, 0, "t.txt", 7, 8,
                                      __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_filestat_t fst;
    OK(__wasi_path_filestat_get(sandbox, 0, "t.txt", &fst));
    CHECK(fst.atim == 7 && fst.mtim == 8 && fst.filetype == __WASI_FILETYPE_REGULAR_FILE &&
          fst.size == 1 && fst.nlink == 1);
    close(fd);
}

static void flags_and_rights(void) {
    int sandbox = find_preopen("/sandbox");
    int fd;
    OK(open_at(sandbox, "r.txt", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &fd));
    __wasi_fdstat_t st;
    OK(__wasi_fd_fdstat_get(fd, &st));
    CHECK(st.fs_filetype == __WASI_FILETYPE_REGULAR_FILE && st.fs_flags == 0);
    CHECK((st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    OK(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    OK(__wasi_fd_fdstat_get(fd, &st));
    CHECK(st.fs_flags == __WASI_FDFLAGS_APPEND);
    CHECK_ERR(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_fd_fdstat_set_flags(sandbox, 0), __WASI_ERRNO_BADF);

    /* Dropping FD_WRITE makes writes fail; rights cannot be added back. */
    uint64_t reduced = st.fs_rights_base & ~(uint64_t)__WASI_RIGHTS_FD_WRITE;
    OK(__wasi_fd_fdstat_set_rights(fd, reduced, 0));
    __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    CHECK_ERR(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base, 0), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_fdstat_set_rights(fd, reduced & ~(uint64_t)__WASI_RIGHTS_FD_SEEK, 0));
    __wasi_filesize_t pos;
    CHECK_ERR(__wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE);
    OK(__wasi_fd_tell(fd, &pos));
    CHECK(pos == 0);
    close(fd);

    /* A file opened read-only cannot be written. */
    OK(open_at(sandbox, "r.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    CHECK_ERR(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_filestat_set_size(fd, 0), __WASI_ERRNO_NOTCAPABLE);
    close(fd);

    /* A directory cannot be opened for writing. */
    CHECK_ERR(open_at(sandbox, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_WRITE, 0, &fd),
              __WASI_ERRNO_ISDIR);
    CHECK_ERR(open_at(sandbox, "new", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_DIRECTORY, 0, 0, &fd),
              __WASI_ERRNO_INVAL);
}

static void renumber(void) {
    write_file("/sandbox/one", "one");
    write_file("/sandbox/two", "two");
    int a = open("/sandbox/one", O_RDONLY);
    int b = open("/sandbox/two", O_RDONLY);
    CHECK(a >= 0 && b >= 0 && a != b);
    OK(__wasi_fd_renumber(a, b));
    char buf[8] = {0};
    CHECK(read(b, buf, sizeof buf) == 3 && memcmp(buf, "one", 3) == 0);
    CHECK(read(a, buf, 1) == -1 && errno == EBADF);
    CHECK_ERR(__wasi_fd_renumber(a, b), __WASI_ERRNO_BADF);
    OK(__wasi_fd_renumber(b, b));
    close(b);
}

static void bad_descriptors(void) {
    char buf[8];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    __wasi_filesize_t pos;
    CHECK_ERR(__wasi_fd_read(99, &iov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_write(99, &ciov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_close(99), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_seek(99, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_renumber(99, 1), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_sync(99), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_datasync(99), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_advise(99, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_allocate(99, 0, 1), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_filestat_set_size(99, 0), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_fdstat_set_rights(99, 0, 0), __WASI_ERRNO_BADF);
    __wasi_prestat_t pre;
    CHECK_ERR(__wasi_fd_prestat_get(0, &pre), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_prestat_get(99, &pre), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_prestat_dir_name(1, (uint8_t *)buf, sizeof buf), __WASI_ERRNO_NOTDIR);
    int sandbox = find_preopen("/sandbox");
    CHECK_ERR(__wasi_fd_prestat_dir_name(sandbox, (uint8_t *)buf, 3), __WASI_ERRNO_NAMETOOLONG);
    /* Standard streams do not seek; stdin cannot be written nor stdout read. */
    CHECK_ERR(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);
    CHECK_ERR(__wasi_fd_tell(0, &pos), __WASI_ERRNO_SPIPE);
    CHECK_ERR(__wasi_fd_pread(0, &iov, 1, 0, &n), __WASI_ERRNO_SPIPE);
    CHECK_ERR(__wasi_fd_pwrite(1, &ciov, 1, 0, &n), __WASI_ERRNO_SPIPE);
    CHECK_ERR(__wasi_fd_write(0, &ciov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_read(1, &iov, 1, &n), __WASI_ERRNO_BADF);
    /* Directories are not files, files are not directories. */
    CHECK_ERR(__wasi_fd_read(sandbox, &iov, 1, &n), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_seek(sandbox, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_BADF);
    int fd;
    OK(open_at(sandbox, "file", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &fd));
    uint8_t dbuf[64];
    CHECK_ERR(__wasi_fd_readdir(fd, dbuf, sizeof dbuf, 0, &n), __WASI_ERRNO_BADF);
    __wasi_fd_t out;
    CHECK_ERR(__wasi_path_open(fd, 0, "x", 0, 0, 0, 0, &out), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_open(99, 0, "x", 0, 0, 0, 0, &out), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_path_create_directory(fd, "x"), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_fd_seek(fd, -1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_fd_advise(fd, 0, 0, 9), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_path_remove_directory(sandbox, "file"), __WASI_ERRNO_NOTDIR);
    CHECK_ERR(__wasi_path_remove_directory(sandbox, "."), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_path_unlink_file(sandbox, "nothing"), __WASI_ERRNO_NOENT);
    CHECK_ERR(__wasi_path_create_directory(sandbox, "file"), __WASI_ERRNO_EXIST);
    close(fd);
}

static void bad_pointers(void) {
    int sandbox = find_preopen("/sandbox");
    int fd;
    OK(open_at(sandbox, "ptr.txt", __WASI_OFLAGS_CREAT, RW_RIGHTS, 0, &fd));
    static char buf[16];
    static __wasi_iovec_t bad_buf = {(uint8_t *)BAD_PTR, 8};
    static __wasi_ciovec_t good = {(const uint8_t *)"abc", 3};
    static __wasi_size_t n;
    CHECK_ERR(raw_fd_write(fd, BAD_PTR, 1, (int32_t)&n), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_write(fd, (int32_t)&good, 1, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_write(fd, (int32_t)&good, 0x20000000, (int32_t)&n), __WASI_ERRNO_FAULT);
    /* Nothing was written by the failed calls. */
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
    CHECK_ERR(raw_fd_write(fd, (int32_t)&good, 1, (int32_t)&n), 0);
    CHECK_ERR(raw_fd_read(fd, (int32_t)&bad_buf, 1, (int32_t)&n), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_read(0, (int32_t)&bad_buf, 1, (int32_t)&n), __WASI_ERRNO_FAULT);
    static int32_t out;
    const char *path = "ptr.txt";
    CHECK_ERR(raw_path_open(sandbox, 0, BAD_PTR, 4, 0, RW_RIGHTS, 0, 0, (int32_t)&out),
              __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_open(sandbox, 0, (int32_t)path, 7, 0, RW_RIGHTS, 0, 0, BAD_PTR),
              __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_open(sandbox, 0, (int32_t)path, -1, 0, RW_RIGHTS, 0, 0, (int32_t)&out),
              __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_create_directory(sandbox, BAD_PTR, 3), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_filestat_get(sandbox, 0, (int32_t)path, 7, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_unlink_file(sandbox, BAD_PTR, 1), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_path_readlink(sandbox, (int32_t)path, 7, BAD_PTR, 10, (int32_t)&n),
              __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_fdstat_get(fd, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_filestat_get(fd, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_readdir(sandbox, BAD_PTR, 100, 0, (int32_t)&n), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_prestat_dir_name(sandbox, BAD_PTR, 100), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_fd_seek(fd, 0, __WASI_WHENCE_SET, BAD_PTR), __WASI_ERRNO_FAULT);
    /* Invalid UTF-8 in a path. */
    static const char bad_utf8[] = {'a', (char)0xff, 0};
    CHECK_ERR(raw_path_open(sandbox, 0, (int32_t)bad_utf8, 2, 0, RW_RIGHTS, 0, 0, (int32_t)&out),
              __WASI_ERRNO_ILSEQ);
    close(fd);
    (void)buf;
}

static void escapes(void) {
    int sandbox = find_preopen("/sandbox");
    int ro = find_preopen("/ro");
    CHECK(sandbox >= 0 && ro >= 0);
    int fd;
    CHECK_ERR(open_at(sandbox, "..", 0, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_PERM);
    CHECK_ERR(open_at(sandbox, "../ro/hello.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
              __WASI_ERRNO_PERM);
    CHECK_ERR(open_at(sandbox, "/etc/passwd", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
              __WASI_ERRNO_PERM);
    CHECK_ERR(open_at(sandbox, "d/../../x", 0, __WASI_RIGHTS_FD_READ, 0, &fd),
              __WASI_ERRNO_PERM);
    CHECK(mkdir("/sandbox/esc", 0755) == 0);
    CHECK(symlink("../..", "/sandbox/esc/up") == 0);
    /* An absolute target is refused when the link is made, as wasmtime does. */
    CHECK_ERR(__wasi_path_symlink("/etc", sandbox, "abs"), __WASI_ERRNO_PERM);
    CHECK_ERR(open_at(sandbox, "esc/up/x", 0, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_PERM);
    CHECK_ERR(open_at(sandbox, "abs/passwd", 0, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_NOENT);
    CHECK_ERR(open_at(ro, "escape", 0, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_PERM);
    __wasi_filestat_t st;
    CHECK_ERR(__wasi_path_filestat_get(sandbox, 0, "..", &st), __WASI_ERRNO_PERM);
    CHECK_ERR(__wasi_path_create_directory(sandbox, "../new"), __WASI_ERRNO_PERM);
    CHECK_ERR(__wasi_path_symlink("x", sandbox, "../x"), __WASI_ERRNO_PERM);
    CHECK_ERR(__wasi_path_rename(sandbox, "esc", sandbox, "../esc"), __WASI_ERRNO_PERM);
    /* A directory opened below a preopen is a capability of its own: `..` cannot leave it either. */
    int sub;
    OK(open_at(sandbox, "esc", __WASI_OFLAGS_DIRECTORY,
               __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR, 0, &sub));
    CHECK_ERR(open_at(sub, "../a.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd), __WASI_ERRNO_PERM);
    close(sub);
    /* libc maps absolute paths outside every preopen to ENOTCAPABLE itself. */
    CHECK(open("/etc/passwd", O_RDONLY) == -1);
}

static void read_only(void) {
    FILE *f = fopen("/ro/hello.txt", "r");
    char buf[64];
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "hello from the host\n") == 0);
    if (f) fclose(f);
    f = fopen("/ro/sub/nested.txt", "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "nested\n") == 0);
    if (f) fclose(f);
    f = fopen("/ro/link", "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "hello from the host\n") == 0);
    if (f) fclose(f);
    CHECK(open("/ro/hello.txt", O_WRONLY) == -1 && errno == EPERM);
    CHECK(open("/ro/new.txt", O_WRONLY | O_CREAT, 0644) == -1 && errno == EPERM);
    CHECK(mkdir("/ro/newdir", 0755) == -1 && errno == EPERM);
    CHECK(unlink("/ro/hello.txt") == -1 && errno == EPERM);
    CHECK(rename("/ro/hello.txt", "/ro/other.txt") == -1 && errno == EPERM);
    CHECK(rename("/ro/hello.txt", "/sandbox/stolen.txt") == -1 && errno == EPERM);
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    CHECK(utimensat(AT_FDCWD, "/ro/hello.txt", ts, 0) == -1 && errno == EPERM);
    struct stat st;
    CHECK(stat("/ro/hello.txt", &st) == 0 && st.st_size == 20);
}

int main(void) {
    libc_files();
    directories();
    links();
    times();
    flags_and_rights();
    renumber();
    bad_descriptors();
    bad_pointers();
    escapes();
    read_only();
    return finish("fs");
}
