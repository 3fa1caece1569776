/* The libFuzzer harness of bzip2 (its sources come from the crates.io package bzip2-sys, fetched by build.sh).
 *
 * The first input byte chooses what the rest is used for:
 *   bit 7 clear: a .bz2 stream to decompress. Bit 0 selects the slow, small-memory decoder; bits 1-3 the size of
 *                the output window handed to the decoder per call (1 byte up to 16 KiB).
 *   bit 7 set:   data to compress and decompress again. Bits 0-3 pick the block size (1-9 x 100k), bits 4-6 the
 *                work factor (how soon the sorter falls back); a round trip that changes the data aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bzlib.h"

#define MAX_DATA 8192

static char out[65536];
static char packed[2 * MAX_DATA + 1024];

/* bzip2 built without stdio reports broken internal invariants here. */
void bz_internal_error(int errcode) {
    (void)errcode;
    abort();
}

static void decompress_stream(const uint8_t *data, size_t size, uint8_t mode) {
    bz_stream s;
    memset(&s, 0, sizeof s);
    if (BZ2_bzDecompressInit(&s, 0, mode & 1) != BZ_OK) return;
    unsigned window = 1u << (2 * ((mode >> 1) & 7)); /* 1, 4, ... 16384 */
    s.next_in = (char *)data;
    s.avail_in = (unsigned)size;
    size_t total = 0;
    for (;;) {
        s.next_out = out + (total % (sizeof out - window));
        s.avail_out = window;
        int ret = BZ2_bzDecompress(&s);
        total += window - s.avail_out;
        if (ret != BZ_OK || total > sizeof out) break;
        if (s.avail_in == 0 && s.avail_out != 0) break;
    }
    BZ2_bzDecompressEnd(&s);
}

static void round_trip(const uint8_t *data, size_t size, uint8_t mode) {
    if (size > MAX_DATA) size = MAX_DATA;
    int block = mode & 15;
    if (block < 1) block = 1;
    if (block > 9) block = 9;
    int work = ((mode >> 4) & 7) * 35; /* 0 (the default, 30) to 245 */
    unsigned packed_len = sizeof packed;
    if (BZ2_bzBuffToBuffCompress(packed, &packed_len, (char *)data, (unsigned)size, block, 0, work) != BZ_OK)
        abort();
    unsigned out_len = sizeof out;
    if (BZ2_bzBuffToBuffDecompress(out, &out_len, packed, packed_len, mode & 1, 0) != BZ_OK) abort();
    if (out_len != size || memcmp(out, data, size) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t mode = data[0];
    if (mode & 0x80) {
        round_trip(data + 1, size - 1, mode);
    } else {
        decompress_stream(data + 1, size - 1, mode);
    }
    return 0;
}
