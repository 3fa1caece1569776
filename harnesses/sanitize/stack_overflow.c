/* Planted bug: a stack buffer overflow in a callee. Behind the magic "STKO", up to 40 more bytes of the input are
 * copied into a 16-byte local array of `parse_name`; the copy runs past the top of parse_name's frame into the gap
 * the sanitizer keeps below its caller's frame. The caller keeps a frame of its own (a local array whose address
 * escapes) so that gap is there; without the sanitizer the overflow lands in that array, no longer used, and the
 * run ends normally. */
#include <string.h>

#include "planted.h"

__attribute__((noinline)) static uint32_t checksum(const uint8_t *p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + p[i];
    return sum;
}

__attribute__((noinline)) static uint32_t parse_name(const uint8_t *data, size_t size) {
    uint8_t name[16];
    memcpy(name, data, size); /* BUG: no bound on size */
    return checksum(name, sizeof name);
}

__attribute__((noinline)) static uint32_t parse_record(const uint8_t *data, size_t size) {
    uint8_t header[32];
    size_t n = size < sizeof header ? size : sizeof header;
    memcpy(header, data, n);
    uint32_t sum = checksum(header, n);
    if (planted_magic(data, size, "STKO")) sum += parse_name(data + 4, size - 4 < 40 ? size - 4 : 40);
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    planted_sink = parse_record(data, size);
    return 0;
}
