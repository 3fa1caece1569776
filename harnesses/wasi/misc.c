/* Everything that is not the filesystem: arguments and environment, clocks, randomness, poll_oneoff, sched_yield,
 * proc_raise, sockets, standard streams and preopen descriptions, with their error paths. Expects the arguments
 * "a1" and "b 2", the environment FOO=bar and EMPTY=, and the preopens "/sandbox" and "/ro". */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static void args_and_env(int argc, char **argv) {
    CHECK(argc == 3);
    CHECK(argc == 3 && strcmp(argv[1], "a1") == 0 && strcmp(argv[2], "b 2") == 0);
    const char *foo = getenv("FOO");
    CHECK(foo && strcmp(foo, "bar") == 0);
    const char *empty = getenv("EMPTY");
    CHECK(empty && *empty == 0);
    CHECK(getenv("MISSING") == NULL);

    __wasi_size_t count, size;
    OK(__wasi_args_sizes_get(&count, &size));
    CHECK(count == 3);
    CHECK(size == strlen(argv[0]) + 1 + 3 + 4);
    OK(__wasi_environ_sizes_get(&count, &size));
    CHECK(count == 2 && size == 8 + 7);
    static uint8_t *ptrs[8];
    static uint8_t buf[64];
    OK(__wasi_environ_get(ptrs, buf));
    CHECK(strcmp((char *)ptrs[0], "FOO=bar") == 0 && strcmp((char *)ptrs[1], "EMPTY=") == 0);
    CHECK_ERR(raw_args_get(BAD_PTR, (int32_t)buf), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_args_get((int32_t)ptrs, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_environ_get((int32_t)ptrs, BAD_PTR), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_args_sizes_get(BAD_PTR, (int32_t)&size), __WASI_ERRNO_FAULT);
}

static void clocks(void) {
    __wasi_timestamp_t res, t1, t2;
    for (int id = 0; id < 4; id++) {
        OK(__wasi_clock_res_get(id, &res));
        CHECK(res > 0);
        OK(__wasi_clock_time_get(id, 1, &t1));
    }
    CHECK_ERR(__wasi_clock_res_get(9, &res), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_clock_time_get(9, 1, &t1), __WASI_ERRNO_INVAL);
    CHECK_ERR(raw_clock_time_get(0, 1, BAD_PTR), __WASI_ERRNO_FAULT);
    OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t1));
    CHECK(t1 > 1600000000ull * 1000000000ull);
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1));
    volatile uint64_t x = 0;
    for (int i = 0; i < 100000; i++) x += (uint64_t)i * i;
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t2));
    CHECK(t2 > t1 && x != 1);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1600000000);
    CHECK(time(NULL) > 1600000000);
}

static void randomness(void) {
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
    OK(__wasi_random_get(a, sizeof a));
    OK(__wasi_random_get(b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    OK(__wasi_random_get(a, 0));
    CHECK_ERR(raw_random_get(BAD_PTR, 16), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_random_get((int32_t)a, -1), __WASI_ERRNO_FAULT);
}

static void poll(void) {
    __wasi_timestamp_t before, after;
    static __wasi_subscription_t subs[3];
    static __wasi_event_t events[3];
    __wasi_size_t n;

    /* A lone relative clock: time moves on by at least the timeout. */
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 42;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 5000000; /* 5 ms */
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &before));
    OK(__wasi_poll_oneoff(subs, events, 1, &n));
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &after));
    CHECK(n == 1 && events[0].userdata == 42 && events[0].type == __WASI_EVENTTYPE_CLOCK &&
          events[0].error == 0);
    CHECK(after - before >= 5000000);

    /* An absolute clock in the past fires at once. */
    subs[0].u.u.clock.timeout = 1;
    subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    OK(__wasi_poll_oneoff(subs, events, 1, &n));
    CHECK(n == 1);

    /* Descriptors are ready at once; a far clock does not fire alongside. */
    subs[0].u.u.clock.flags = 0;
    subs[0].u.u.clock.timeout = 1000000000000ull;
    subs[1].userdata = 7;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    subs[2].userdata = 8;
    subs[2].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[2].u.u.fd_read.file_descriptor = 99;
    OK(__wasi_poll_oneoff(subs, events, 3, &n));
    CHECK(n == 2);
    CHECK(events[0].userdata == 7 && events[0].type == __WASI_EVENTTYPE_FD_WRITE &&
          events[0].error == 0);
    CHECK(events[1].userdata == 8 && events[1].error == __WASI_ERRNO_BADF);

    CHECK_ERR(__wasi_poll_oneoff(subs, events, 0, &n), __WASI_ERRNO_INVAL);
    subs[0].u.tag = 9;
    CHECK_ERR(__wasi_poll_oneoff(subs, events, 1, &n), __WASI_ERRNO_INVAL);
    CHECK_ERR(raw_poll_oneoff(BAD_PTR, (int32_t)events, 1, (int32_t)&n), __WASI_ERRNO_FAULT);
    CHECK_ERR(raw_poll_oneoff((int32_t)subs, BAD_PTR, 1, (int32_t)&n), __WASI_ERRNO_FAULT);

    /* libc's sleep goes through poll_oneoff. */
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &before));
    CHECK(usleep(20000) == 0);
    OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &after));
    CHECK(after - before >= 20000000);
}

static void process_and_sockets(void) {
    OK(__wasi_sched_yield());
    CHECK_ERR(raw_proc_raise(15 /* SIGTERM */), __WASI_ERRNO_NOTSUP);
    __wasi_fd_t fd;
    CHECK_ERR(__wasi_sock_accept(0, 0, &fd), __WASI_ERRNO_NOTSOCK);
    CHECK_ERR(__wasi_sock_accept(99, 0, &fd), __WASI_ERRNO_BADF);
    char buf[4];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    __wasi_roflags_t roflags;
    CHECK_ERR(__wasi_sock_recv(0, &iov, 1, 0, &n, &roflags), __WASI_ERRNO_NOTSOCK);
    CHECK_ERR(__wasi_sock_recv(99, &iov, 1, 0, &n, &roflags), __WASI_ERRNO_BADF);
    CHECK_ERR(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
    CHECK_ERR(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
    CHECK_ERR(__wasi_sock_shutdown(99, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
}

static void streams_and_preopens(void) {
    __wasi_fdstat_t st;
    OK(__wasi_fd_fdstat_get(1, &st));
    CHECK((st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    CHECK((st.fs_rights_base & __WASI_RIGHTS_FD_SEEK) == 0);
    OK(__wasi_fd_fdstat_get(0, &st));
    CHECK((st.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0);
    CHECK(!isatty(1)); /* captured output is not a terminal */
    __wasi_filestat_t fst;
    OK(__wasi_fd_filestat_get(2, &fst));
    CHECK(fst.size == 0);
    CHECK_ERR(__wasi_fd_fdstat_get(99, &st), __WASI_ERRNO_BADF);

    int sandbox = find_preopen("/sandbox");
    int ro = find_preopen("/ro");
    CHECK(sandbox == 3 && ro == 4);
    __wasi_prestat_t pre;
    OK(__wasi_fd_prestat_get(3, &pre));
    CHECK(pre.tag == __WASI_PREOPENTYPE_DIR && pre.u.dir.pr_name_len == 8);
    OK(__wasi_fd_fdstat_get(3, &st));
    CHECK(st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
    CHECK((st.fs_rights_inheriting & __WASI_RIGHTS_FD_READ) != 0);

    /* fd_write gathers all its buffers; stderr is separate from stdout. */
    __wasi_ciovec_t parts[3] = {{(const uint8_t *)"gat", 3}, {(const uint8_t *)"", 0},
                                {(const uint8_t *)"hered\n", 6}};
    __wasi_size_t n;
    fflush(stdout);
    OK(__wasi_fd_write(1, parts, 3, &n));
    CHECK(n == 9);
    OK(__wasi_fd_write(2, parts, 1, &n));
    CHECK(n == 3);
}

int main(int argc, char **argv) {
    args_and_env(argc, argv);
    clocks();
    randomness();
    poll();
    process_and_sockets();
    streams_and_preopens();
    return finish("misc");
}
