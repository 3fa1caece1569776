/* Planted bug: an off-by-one heap write. Behind the magic "HWOB", the input's next 17 bytes (or fewer, zero-padded)
 * are stored into a 16-byte malloc block: the last store lands one byte past its end. */
#include <stdlib.h>

#include "planted.h"

static uint8_t *volatile block;

__attribute__((noinline)) static void new_block(void) { block = malloc(16); }

__attribute__((noinline)) static void fill_block(const uint8_t *data, size_t size) {
    uint8_t *p = block;
    for (size_t i = 0; i <= 16; i++) /* BUG: <= writes p[16] */
        p[i] = i < size ? data[i] : 0;
}

__attribute__((noinline)) static void drop_block(void) { free(block); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    new_block();
    if (planted_magic(data, size, "HWOB")) fill_block(data + 4, size - 4);
    planted_sink = block[0];
    drop_block();
    return 0;
}
