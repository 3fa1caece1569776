// Zstandard (the zstd-sys package's sources) compressing a block of word-like text at level 3 and decompressing it
// again, n times over different blocks; the checksum folds in every compressed frame, and the round trip must
// restore the block.
// bench: kind=compression n=16 smoke=1 from=zstd-sys

#include <stdint.h>
#include <string.h>

#include "input.h"
#include "zstd.h"

#define LEN (32 * 1024)

static uint8_t text[LEN];
static uint8_t restored[LEN];
static uint8_t frame[LEN + LEN / 64 + 1024];

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t sum = 2166136261u;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!cctx || !dctx)
        return 0xbad00000u;
    for (uint32_t i = 0; i < n; i++) {
        input_text(text, LEN, i + 1);
        size_t size = ZSTD_compressCCtx(cctx, frame, sizeof frame, text, LEN, 3);
        if (ZSTD_isError(size))
            return 0xbad00001u;
        size_t back = ZSTD_decompressDCtx(dctx, restored, LEN, frame, size);
        if (ZSTD_isError(back) || back != LEN || memcmp(text, restored, LEN) != 0)
            return 0xbad00002u;
        sum = input_hash(sum, frame, size);
        sum ^= (uint32_t)size;
    }
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    return sum;
}
