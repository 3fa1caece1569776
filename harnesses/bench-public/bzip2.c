// bzip2 (the bzip2-sys package's sources) compressing a block of word-like text with its smallest (100 KB) blocks and
// decompressing it again, n times over different blocks; the checksum folds in every compressed stream, and the
// round trip must restore the block.
// bench: kind=compression n=3 smoke=1 from=bzip2-sys

#include <stdint.h>
#include <string.h>

#include "bzlib.h"
#include "input.h"

#define LEN (32 * 1024)

static uint8_t text[LEN];
static uint8_t restored[LEN];
static uint8_t stream[LEN + LEN / 64 + 1024];

// bzip2 built without its stdio layer calls this on an internal inconsistency; trap.
void bz_internal_error(int code) {
    (void)code;
    __builtin_trap();
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t sum = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        input_text(text, LEN, i + 1);
        unsigned size = sizeof stream;
        if (BZ2_bzBuffToBuffCompress((char *)stream, &size, (char *)text, LEN, 1, 0, 0) != BZ_OK)
            return 0xbad00001u;
        unsigned back = LEN;
        if (BZ2_bzBuffToBuffDecompress((char *)restored, &back, (char *)stream, size, 0, 0) != BZ_OK || back != LEN ||
            memcmp(text, restored, LEN) != 0)
            return 0xbad00002u;
        sum = input_hash(sum, stream, size);
        sum ^= size;
    }
    return sum;
}
