/* Planted bug: a stack use after return. Behind the magic "SUAR", `remember_total` keeps the address of its local
 * in a global, and the caller reads through it after it has returned. `remember_total` is called below
 * `with_workspace`, whose 256-byte local array puts the dead local far below the reader's stack pointer: a read
 * within the 128 bytes below it is what a leaf function may use without a frame, which the sanitizer allows. */
#include <string.h>

#include "planted.h"

static uint32_t *volatile remembered;

__attribute__((noinline)) static uint32_t checksum(const uint8_t *p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + p[i];
    return sum;
}

__attribute__((noinline)) static void remember_total(uint32_t value) {
    uint32_t total[4] = {value, value + 1, value + 2, value + 3};
    remembered = total; /* BUG: the address outlives the frame */
    planted_sink = checksum((const uint8_t *)total, sizeof total);
}

__attribute__((noinline)) static void with_workspace(const uint8_t *data, size_t size) {
    uint8_t workspace[256];
    size_t n = size < sizeof workspace ? size : sizeof workspace;
    memcpy(workspace, data, n);
    remember_total(checksum(workspace, n));
}

__attribute__((noinline)) static uint32_t read_total(void) { return remembered[0]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    with_workspace(data, size);
    if (planted_magic(data, size, "SUAR")) planted_sink = read_total(); /* reads the dead frame */
    return 0;
}
