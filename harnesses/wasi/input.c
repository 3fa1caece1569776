/* Reads all of its input — standard input, or the file named by the environment variable INPUT_FILE — and reports its size, line
 * count, FNV-1a hash and first line: the shape of a program fuzzed through stdin or a file (the fuzzer snapshots
 * it right before its first read of the input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    FILE *in = stdin;
    const char *path = getenv("INPUT_FILE");
    if (path) {
        in = fopen(path, "r");
        if (!in) {
            perror(path);
            return 1;
        }
    }
    static char data[1 << 16];
    size_t len = fread(data, 1, sizeof data, in);
    uint32_t hash = 2166136261u;
    int lines = 0;
    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ (uint8_t)data[i]) * 16777619u;
        lines += data[i] == '\n';
    }
    size_t first = strcspn(data, "\n");
    printf("bytes %zu, lines %d, fnv1a %08x, first line \"%.*s\"\n", len, lines, (unsigned)hash,
           (int)(first < len ? first : len), data);
    return 0;
}
