// Runs the commands given as arguments, in order, on files under the preopened directory /d, printing what it
// finds: the tests of lazily read (copy-on-write) host directories and the `dir_startup` benchmark use it.
//
//   cat PATH        prints the file's contents
//   sum PATH        prints the file's size and a checksum of its bytes
//   ls PATH         prints the directory's entries, one a line (name order)
//   write PATH TEXT replaces the file's contents with TEXT (creating it)
//   mv FROM TO      renames
//   rm PATH         removes a file
//   spin N          burns N loop iterations (so that a fuel budget can pause the program here)
//
// A command that fails prints `PATH: errno N` and the program goes on.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path_buf[4096];
static volatile unsigned long long spun;

static const char *at(const char *rel) {
    snprintf(path_buf, sizeof path_buf, "/d/%s", rel);
    return path_buf;
}

static void fail(const char *what) { printf("%s: errno %d\n", what, errno); }

static void read_file(const char *rel, int print) {
    int fd = open(at(rel), O_RDONLY);
    if (fd < 0) {
        fail(rel);
        return;
    }
    static char buf[65536];
    unsigned long long size = 0, sum = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            fail(rel);
            break;
        }
        if (n == 0) break;
        if (print) fwrite(buf, 1, (size_t)n, stdout);
        for (ssize_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)buf[i];
        size += (unsigned long long)n;
    }
    close(fd);
    if (!print) printf("%s: %llu bytes, sum %llx\n", rel, size, sum);
}

static void list(const char *rel) {
    DIR *dir = opendir(at(rel));
    if (!dir) {
        fail(rel);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf("%s\n", e->d_name);
    }
    closedir(dir);
}

static void write_file(const char *rel, const char *text) {
    int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) fail(rel);
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *cmd = argv[i];
        const char *a = i + 1 < argc ? argv[i + 1] : "";
        const char *b = i + 2 < argc ? argv[i + 2] : "";
        if (!strcmp(cmd, "cat")) {
            read_file(a, 1);
            i += 1;
        } else if (!strcmp(cmd, "sum")) {
            read_file(a, 0);
            i += 1;
        } else if (!strcmp(cmd, "ls")) {
            list(a);
            i += 1;
        } else if (!strcmp(cmd, "write")) {
            write_file(a, b);
            i += 2;
        } else if (!strcmp(cmd, "mv")) {
            char from[4096];
            snprintf(from, sizeof from, "/d/%s", a);
            if (rename(from, at(b)) != 0) fail(a);
            i += 2;
        } else if (!strcmp(cmd, "rm")) {
            if (unlink(at(a)) != 0) fail(a);
            i += 1;
        } else if (!strcmp(cmd, "spin")) {
            for (long n = atol(a); n > 0; n--) spun += (unsigned long long)n;
            i += 1;
        } else {
            printf("unknown command %s\n", cmd);
            return 2;
        }
    }
    fflush(stdout);
    return 0;
}
