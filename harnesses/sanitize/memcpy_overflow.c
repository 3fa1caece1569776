/* Planted bug: a memcpy that runs 64 bytes past a heap buffer. Behind the magic "MCPY", an 80-byte record is
 * copied into a 16-byte block; the length comes from a volatile, so clang keeps the call to the C library's
 * memcpy. The copy is made from one of two call sites, by the parity of the input's fifth byte: the two crash at
 * different offsets in the same functions, one bug that a campaign must save once. The overflowed block is not
 * freed, so that without the sanitizer the allocator never reads the chunk header the copy overwrote, and the run
 * ends normally. */
#include <stdlib.h>
#include <string.h>

#include "planted.h"

static uint8_t record[80];
static volatile size_t record_length = 16;
static uint8_t *volatile copy;

__attribute__((noinline)) static void copy_record(void) {
    copy = malloc(16);
    memcpy(copy, record, record_length);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memcpy(record, data, size < sizeof record ? size : sizeof record);
    int overflow = planted_magic(data, size, "MCPY");
    record_length = overflow ? sizeof record : 16; /* BUG: 80 bytes into 16 */
    if (size > 4 && (data[4] & 1)) {
        planted_sink = 1;
        copy_record();
    } else {
        copy_record();
        planted_sink = 2;
    }
    planted_sink = copy[0];
    if (!overflow) free(copy);
    return 0;
}
