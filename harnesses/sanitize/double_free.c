/* Planted bug: a double free. Behind the magic "DFRE", an error path frees a block that the normal path then frees
 * again. */
#include <stdlib.h>

#include "planted.h"

static uint8_t *volatile scratch;

__attribute__((noinline)) static void take_scratch(void) {
    scratch = malloc(32);
    scratch[0] = 1;
}

__attribute__((noinline)) static void give_back_scratch(void) { free(scratch); }

__attribute__((noinline)) static void fail_parse(void) { give_back_scratch(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    take_scratch();
    if (planted_magic(data, size, "DFRE")) fail_parse(); /* frees once ... */
    planted_sink = (uint32_t)size;
    free(scratch); /* BUG: ... and again here */
    return 0;
}
