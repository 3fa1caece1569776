// zlib (the libz-sys package's sources) deflating a block of word-like text at level 6 and inflating it again, n
// times over different blocks; the checksum folds in every compressed stream, and the round trip must restore the
// block.
// bench: kind=compression n=5 smoke=1 from=libz-sys

#include <stdint.h>
#include <string.h>

#include "input.h"
#include "zlib.h"

#define LEN (32 * 1024)

static uint8_t text[LEN];
static uint8_t restored[LEN];
static uint8_t stream[LEN + LEN / 64 + 1024];

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t sum = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        input_text(text, LEN, i + 1);
        uLongf size = sizeof stream;
        if (compress2(stream, &size, text, LEN, 6) != Z_OK)
            return 0xbad00001u;
        uLongf back = LEN;
        if (uncompress(restored, &back, stream, size) != Z_OK || back != LEN || memcmp(text, restored, LEN) != 0)
            return 0xbad00002u;
        sum = input_hash(sum, stream, size);
        sum ^= (uint32_t)size;
    }
    return sum;
}
