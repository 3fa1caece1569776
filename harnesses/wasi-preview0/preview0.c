// A WASI preview-0 program: every call goes to `wasi_unstable`, written by hand (wasi-libc speaks preview 1 only),
// and checks the layouts and values in which preview 0 differs from preview 1 — `filestat` with a 32-bit
// `nlink`, `whence` numbered cur/end/set, clock subscriptions with an `identifier` — besides the ones they share.
// Built freestanding (no libc): `clang --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -Wl,--export=_start`.
// Run with a writable preopened directory; it creates `p0.txt` there. Prints "preview0: N checks passed" and
// exits 0, or names the first check that failed and exits 1.

#include <stddef.h>
#include <stdint.h>

#define P0(name) __attribute__((import_module("wasi_unstable"), import_name(#name)))

typedef struct {
    const void *buf;
    uint32_t len;
} ciovec;

typedef struct {
    void *buf;
    uint32_t len;
} iovec;

// Preview 0's `filestat`: 56 bytes, `nlink` 32 bits at offset 20.
typedef struct {
    uint64_t dev;
    uint64_t ino;
    uint8_t filetype;
    uint32_t nlink;
    uint64_t size;
    uint64_t atim;
    uint64_t mtim;
    uint64_t ctim;
} filestat0;

_Static_assert(sizeof(filestat0) == 56, "preview-0 filestat is 56 bytes");
_Static_assert(offsetof(filestat0, nlink) == 20, "nlink at 20");
_Static_assert(offsetof(filestat0, size) == 24, "size at 24");

// Preview 0's `subscription`: 56 bytes; a clock one has a 64-bit `identifier` before the clock id.
typedef struct {
    uint64_t userdata;
    uint8_t tag;
    union {
        struct {
            uint64_t identifier;
            uint32_t id;
            uint64_t timeout;
            uint64_t precision;
            uint16_t flags;
        } clock;
        struct {
            uint32_t fd;
        } fd_readwrite;
    } u;
} subscription0;

_Static_assert(sizeof(subscription0) == 56, "preview-0 subscription is 56 bytes");

typedef struct {
    uint64_t userdata;
    uint16_t error;
    uint8_t type;
    uint64_t nbytes;
    uint16_t flags;
} event;

_Static_assert(sizeof(event) == 32, "event is 32 bytes");

P0(fd_write) int32_t p0_fd_write(int32_t fd, const ciovec *iovs, int32_t n, uint32_t *written);
P0(fd_read) int32_t p0_fd_read(int32_t fd, const iovec *iovs, int32_t n, uint32_t *read);
P0(fd_close) int32_t p0_fd_close(int32_t fd);
P0(fd_seek) int32_t p0_fd_seek(int32_t fd, int64_t offset, int32_t whence, uint64_t *new_offset);
P0(fd_tell) int32_t p0_fd_tell(int32_t fd, uint64_t *offset);
P0(fd_filestat_get) int32_t p0_fd_filestat_get(int32_t fd, filestat0 *buf);
P0(fd_prestat_get) int32_t p0_fd_prestat_get(int32_t fd, uint32_t *buf);
P0(fd_prestat_dir_name) int32_t p0_fd_prestat_dir_name(int32_t fd, char *buf, int32_t len);
P0(fd_readdir) int32_t p0_fd_readdir(int32_t fd, void *buf, int32_t len, uint64_t cookie, uint32_t *used);
P0(path_open)
int32_t p0_path_open(int32_t dirfd, int32_t dirflags, const char *path, int32_t path_len, int32_t oflags,
                     int64_t rights_base, int64_t rights_inheriting, int32_t fdflags, int32_t *fd);
P0(path_filestat_get)
int32_t p0_path_filestat_get(int32_t dirfd, int32_t flags, const char *path, int32_t path_len, filestat0 *buf);
P0(path_link)
int32_t p0_path_link(int32_t old_fd, int32_t old_flags, const char *old_path, int32_t old_len, int32_t new_fd,
                     const char *new_path, int32_t new_len);
P0(poll_oneoff) int32_t p0_poll_oneoff(const subscription0 *in, event *out, int32_t n, uint32_t *nevents);
P0(args_sizes_get) int32_t p0_args_sizes_get(uint32_t *argc, uint32_t *size);
P0(args_get) int32_t p0_args_get(char **argv, char *buf);
P0(clock_time_get) int32_t p0_clock_time_get(int32_t id, uint64_t precision, uint64_t *time);
P0(random_get) int32_t p0_random_get(void *buf, int32_t len);
P0(proc_exit) _Noreturn void p0_proc_exit(int32_t code);

// Preview 0's `whence`.
enum { WHENCE_CUR = 0, WHENCE_END = 1, WHENCE_SET = 2 };
enum { FILETYPE_DIRECTORY = 3, FILETYPE_REGULAR_FILE = 4 };
enum { OFLAGS_CREAT = 1, OFLAGS_TRUNC = 8 };

// The compiler may call these for struct initialization and copies; there is no libc.
void *memset(void *dst, int c, size_t n) {
    volatile unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

static size_t length(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void out(const char *s) {
    ciovec iov = {s, (uint32_t)length(s)};
    uint32_t written;
    p0_fd_write(1, &iov, 1, &written);
}

static void out_u64(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out(buf + i);
}

static int checks;

static void check(int ok, const char *what) {
    checks++;
    if (!ok) {
        out("preview0: FAILED ");
        out(what);
        out("\n");
        p0_proc_exit(1);
    }
}

static int same(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static char scratch[4096] __attribute__((aligned(8)));

void _start(void) {
    // Arguments come through as in preview 1.
    uint32_t argc = 0, argv_size = 0;
    check(p0_args_sizes_get(&argc, &argv_size) == 0, "args_sizes_get");
    char *argv[16];
    check(argc >= 1 && argc <= 16 && argv_size <= sizeof scratch, "argument count");
    check(p0_args_get(argv, scratch) == 0, "args_get");
    out("args:");
    for (uint32_t i = 1; i < argc; i++) {
        out(" ");
        out(argv[i]);
    }
    out("\n");

    // The first preopened directory.
    int32_t dir = -1;
    for (int32_t fd = 3; fd < 16 && dir < 0; fd++) {
        uint32_t prestat[2];
        if (p0_fd_prestat_get(fd, prestat) == 0 && prestat[0] == 0) dir = fd;
    }
    check(dir >= 0, "a preopened directory");

    // Write a file of 13 bytes.
    static const char text[] = "preview zero\n";
    int32_t fd;
    check(p0_path_open(dir, 0, "p0.txt", 6, OFLAGS_CREAT | OFLAGS_TRUNC, 0x1fffffff, 0x1fffffff, 0, &fd) == 0,
          "path_open creating p0.txt");
    ciovec iov = {text, 13};
    uint32_t written = 0;
    check(p0_fd_write(fd, &iov, 1, &written) == 0 && written == 13, "fd_write of 13 bytes");
    check(p0_path_link(dir, 0, "p0.txt", 6, dir, "p0-link.txt", 11) == 0, "path_link");

    // `filestat` in preview 0's layout, and nothing written past its 56 bytes.
    struct {
        filestat0 stat;
        uint64_t canary;
    } st;
    st.canary = 0x5a5a5a5a5a5a5a5aull;
    check(p0_fd_filestat_get(fd, &st.stat) == 0, "fd_filestat_get");
    check(st.stat.filetype == FILETYPE_REGULAR_FILE, "fd_filestat_get: filetype");
    check(st.stat.nlink == 2, "fd_filestat_get: 32-bit nlink at 20 (2 names)");
    check(st.stat.size == 13, "fd_filestat_get: size at 24");
    check(st.stat.mtim != 0 && st.stat.ctim != 0, "fd_filestat_get: times");
    check(st.canary == 0x5a5a5a5a5a5a5a5aull, "fd_filestat_get writes 56 bytes");
    uint64_t ino = st.stat.ino;

    st.canary = 0x5a5a5a5a5a5a5a5aull;
    check(p0_path_filestat_get(dir, 1, "p0-link.txt", 11, &st.stat) == 0, "path_filestat_get");
    check(st.stat.ino == ino && st.stat.nlink == 2 && st.stat.size == 13, "path_filestat_get: fields");
    check(st.canary == 0x5a5a5a5a5a5a5a5aull, "path_filestat_get writes 56 bytes");
    check(p0_path_filestat_get(dir, 1, ".", 1, &st.stat) == 0 && st.stat.filetype == FILETYPE_DIRECTORY,
          "path_filestat_get of the directory");

    // `whence`: cur 0, end 1, set 2.
    uint64_t at = 99;
    check(p0_fd_seek(fd, -5, WHENCE_END, &at) == 0 && at == 8, "fd_seek from the end (whence 1)");
    check(p0_fd_seek(fd, 2, WHENCE_CUR, &at) == 0 && at == 10, "fd_seek from the current offset (whence 0)");
    check(p0_fd_seek(fd, 3, WHENCE_SET, &at) == 0 && at == 3, "fd_seek from the start (whence 2)");
    check(p0_fd_tell(fd, &at) == 0 && at == 3, "fd_tell");
    check(p0_fd_seek(fd, 0, 3, &at) == 28, "fd_seek with an undefined whence is EINVAL");
    char got[4];
    iovec riov = {got, 4};
    uint32_t nread = 0;
    check(p0_fd_read(fd, &riov, 1, &nread) == 0 && nread == 4 && same(got, "view", 4), "fd_read after seeking");

    // A clock subscription with an identifier (a clock id read at preview 1's offset would be the identifier's
    // low half, 0xdead, and fail) and a descriptor subscription.
    subscription0 subs[2] = {0};
    subs[0].userdata = 0x1111;
    subs[0].tag = 0;
    subs[0].u.clock.identifier = 0xdead;
    subs[0].u.clock.id = 1;
    subs[0].u.clock.timeout = 0;
    subs[1].userdata = 0x2222;
    subs[1].tag = 1;
    subs[1].u.fd_readwrite.fd = (uint32_t)fd;
    event events[2];
    uint32_t nevents = 0;
    check(p0_poll_oneoff(subs, events, 2, &nevents) == 0, "poll_oneoff");
    int clock_seen = 0, fd_seen = 0;
    for (uint32_t i = 0; i < nevents; i++) {
        if (events[i].userdata == 0x1111 && events[i].type == 0 && events[i].error == 0) clock_seen = 1;
        if (events[i].userdata == 0x2222 && events[i].type == 1 && events[i].error == 0) fd_seen = 1;
    }
    check(clock_seen, "poll_oneoff: the clock subscription fired");
    check(fd_seen, "poll_oneoff: the descriptor subscription fired");

    // `dirent` is the same as preview 1's: 24 bytes, then the name.
    uint32_t used = 0;
    check(p0_fd_readdir(dir, scratch, sizeof scratch, 0, &used) == 0, "fd_readdir");
    int listed = 0;
    for (uint32_t off = 0; off + 24 <= used;) {
        uint32_t namlen = *(uint32_t *)(scratch + off + 16);
        uint8_t type = *(uint8_t *)(scratch + off + 20);
        if (namlen == 6 && off + 24 + namlen <= used && same(scratch + off + 24, "p0.txt", 6) &&
            type == FILETYPE_REGULAR_FILE && *(uint64_t *)(scratch + off + 8) == ino)
            listed = 1;
        off += 24 + namlen;
    }
    check(listed, "fd_readdir lists p0.txt with its inode");

    uint64_t now = 0;
    check(p0_clock_time_get(0, 1, &now) == 0 && now != 0, "clock_time_get");
    uint8_t bytes[16] = {0};
    check(p0_random_get(bytes, 16) == 0, "random_get");
    check(p0_fd_close(fd) == 0, "fd_close");

    out("preview0: ");
    out_u64((uint64_t)checks);
    out(" checks passed\n");
    p0_proc_exit(0);
}
