/* kvconf: a whole WASI program, fuzzed unmodified. It sets up a lookup table (a few million instructions: the
 * initialization a snapshot saves), then reads `key=value` lines from standard input, or from the file named by its
 * first argument. Planted bug: in `mode=warp`, a `size` over 4096 aborts (the seeds use `mode=fast`: the fuzzer
 * learns `warp` from the string comparison).
 *
 * Build: clang --target=wasm32-wasi -O2 kvconf.c -o kvconf.wasm
 * Fuzz:  capicola fuzz kvconf.wasm            (input on stdin)
 *        capicola fuzz kvconf.wasm -- @@      (input in a file) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned table[256];

static void init_table(void) {
    for (unsigned round = 0; round < 2000; round++) {
        for (unsigned i = 0; i < 256; i++) table[i] = table[i] * 31u + i + round;
    }
}

int main(int argc, char **argv) {
    init_table();
    fputs("kvconf: table ready\n", stderr);
    FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    char line[256];
    int warp = 0;
    unsigned sum = 0;
    while (fgets(line, sizeof line, in)) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        char *value = eq + 1;
        value[strcspn(value, "\n")] = 0;
        if (strcmp(line, "mode") == 0) {
            warp = strcmp(value, "warp") == 0;
        } else if (strcmp(line, "size") == 0) {
            long size = strtol(value, NULL, 10);
            if (warp && size > 4096) abort();
            sum += table[size & 0xff];
        }
    }
    printf("%u\n", sum);
    return 0;
}
