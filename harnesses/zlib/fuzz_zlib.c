/* The libFuzzer harness of zlib (its sources come from the crates.io package libz-sys, fetched by build.sh).
 *
 * The first input byte chooses what the rest is used for:
 *   bit 7 clear: a compressed stream to inflate. Bits 0-1 pick the wrapper (zlib, raw deflate, gzip, or
 *                zlib/gzip detected from the header); bits 2-4 the size of the output window handed to inflate
 *                per call (1 byte up to 64 KiB), so the decoder stops and resumes inside every kind of block.
 *   bit 7 set:   data to compress and inflate again. Bits 0-3 pick the level (10 and up: 9), bits 4-5 the
 *                strategy, bit 6 a small memLevel and window; a round trip that changes the data aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zlib.h"

#define OUT_SIZE 65536

static unsigned char out[OUT_SIZE];
static unsigned char packed[2 * OUT_SIZE];

static const int window_bits[4] = {15, -15, 15 + 16, 15 + 32};

static void inflate_stream(const uint8_t *data, size_t size, uint8_t mode) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, window_bits[mode & 3]) != Z_OK) return;
    unsigned window = 1u << (2 * ((mode >> 2) & 7)); /* 1, 4, 16, ... 16384 */
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)size;
    size_t total = 0;
    for (;;) {
        s.next_out = out + (total % (OUT_SIZE - window));
        s.avail_out = window;
        int ret = inflate(&s, Z_NO_FLUSH);
        total += window - s.avail_out;
        if (ret == Z_NEED_DICT) {
            static const char dict[] = "capicola zlib dictionary";
            if (inflateSetDictionary(&s, (const Bytef *)dict, sizeof dict - 1) != Z_OK) break;
            continue;
        }
        if (ret != Z_OK || total > 16 * OUT_SIZE) break;
        if (s.avail_in == 0 && s.avail_out != 0) break;
    }
    inflateEnd(&s);
}

static void round_trip(const uint8_t *data, size_t size, uint8_t mode) {
    if (size > OUT_SIZE) size = OUT_SIZE;
    int level = mode & 15;
    if (level > 9) level = 9;
    int strategy = (mode >> 4) & 3; /* default, filtered, huffman only, RLE */
    int small = (mode >> 6) & 1;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, level, Z_DEFLATED, small ? 9 : 15, small ? 1 : 8, strategy) != Z_OK) return;
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)size;
    s.next_out = packed;
    s.avail_out = sizeof packed;
    int ret = deflate(&s, Z_FINISH);
    size_t packed_len = sizeof packed - s.avail_out;
    deflateEnd(&s);
    if (ret != Z_STREAM_END) abort();

    uLongf unpacked_len = OUT_SIZE;
    if (uncompress(out, &unpacked_len, packed, (uLong)packed_len) != Z_OK) abort();
    if (unpacked_len != size || memcmp(out, data, size) != 0) abort();
    if (adler32(1, data, (uInt)size) != adler32(1, out, (uInt)unpacked_len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t mode = data[0];
    if (mode & 0x80) {
        round_trip(data + 1, size - 1, mode);
    } else {
        inflate_stream(data + 1, size - 1, mode);
    }
    return 0;
}
