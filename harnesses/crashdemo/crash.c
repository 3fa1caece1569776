/* A small libFuzzer target with one planted memory-safety bug, built with -g for the time-travel debugger's tests
 * and README walk-through: a name longer than 8 bytes runs over `current.name` into `current.len`, and the later
 * table store through the corrupted length traps out of bounds — far from the write that caused it. */
#include <stddef.h>
#include <stdint.h>

struct record {
    char name[8];
    int len;
};

struct record current;
int table[16];
int names_seen;

__attribute__((noinline)) static void parse_name(const uint8_t *data, size_t size) {
    size_t i = 0;
    while (i < size && data[i] != ';') {
        current.name[i] = (char)data[i]; /* BUG: no bound on i */
        i++;
    }
    names_seen++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    current.len = 4;
    parse_name(data, size);
    table[current.len] = 1; /* FAULT: the store that traps */
    return 0;
}
