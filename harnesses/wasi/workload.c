/* A long-running program that keeps state everywhere a snapshot must carry it: it computes, appends to a log file,
 * rewrites a scratch file, renames and removes files, reads the clock and random bytes, and at the end prints it
 * all. An uninterrupted run and one paused half-way and resumed in a fresh store must print the same. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static uint64_t mix(uint64_t x) {
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

int main(void) {
    uint64_t state = 0x1234567;
    FILE *log = fopen("/sandbox/log.txt", "a");
    if (!log) return 1;
    int scratch = open("/sandbox/scratch.bin", O_RDWR | O_CREAT, 0644);
    if (scratch < 0) return 1;
    for (int step = 0; step < 40; step++) {
        state = mix(state + (uint64_t)step);
        uint8_t rnd[4];
        if (__wasi_random_get(rnd, sizeof rnd) != 0) return 1;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(log, "step %02d state %016llx rnd %02x%02x%02x%02x t %lld.%09ld\n", step,
                (unsigned long long)state, rnd[0], rnd[1], rnd[2], rnd[3], (long long)ts.tv_sec,
                ts.tv_nsec);
        fflush(log);
        pwrite(scratch, &state, sizeof state, (off_t)(step % 8) * 8);
        char name[32];
        snprintf(name, sizeof name, "/sandbox/f%02d", step);
        FILE *f = fopen(name, "w");
        if (!f) return 1;
        fprintf(f, "%d", step);
        fclose(f);
        if (step % 3 == 0) {
            char to[32];
            snprintf(to, sizeof to, "/sandbox/r%02d", step);
            rename(name, to);
        } else if (step % 3 == 1) {
            unlink(name);
        }
        if (step % 10 == 9) usleep(1000);
    }
    fclose(log);
    close(scratch);

    FILE *in = fopen("/sandbox/log.txt", "r");
    char line[128];
    while (in && fgets(line, sizeof line, in)) fputs(line, stdout);
    if (in) fclose(in);
    DIR *dir = opendir("/sandbox");
    struct dirent *ent;
    while (dir && (ent = readdir(dir)) != NULL) printf("%s ", ent->d_name);
    if (dir) closedir(dir);
    struct stat st;
    stat("/sandbox/scratch.bin", &st);
    printf("\nscratch %lld bytes, mtime %lld\n", (long long)st.st_size, (long long)st.st_mtim.tv_sec);
    return 0;
}
