/* Planted bug: a heap read past the end of a block. Behind the magic "HROB", a 16-byte malloc block of four ints is
 * summed with the index running to 4: the last read is the four bytes just past the block. */
#include <stdlib.h>

#include "planted.h"

static uint32_t *volatile counters;

__attribute__((noinline)) static void new_counters(void) {
    counters = malloc(4 * sizeof(uint32_t));
    for (int i = 0; i < 4; i++) counters[i] = (uint32_t)i;
}

__attribute__((noinline)) static uint32_t sum_counters(int n) {
    uint32_t *p = counters;
    uint32_t sum = 0;
    for (int i = 0; i < n; i++) sum += p[i];
    return sum;
}

__attribute__((noinline)) static void drop_counters(void) { free(counters); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    new_counters();
    /* BUG: the magic makes the sum read one int more than the block has. */
    planted_sink = sum_counters(planted_magic(data, size, "HROB") ? 5 : 4);
    drop_counters();
    return 0;
}
