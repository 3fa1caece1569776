// LZ77 compression with a hash-chain match finder over a 64 KiB window of word-like text, then decompression
// and a check that the round trip restores the input.
// bench: kind=compression n=5 smoke=1

#include <stdint.h>

#define LEN 65536
#define HASH_BITS 14
#define WINDOW 32768
#define MIN_MATCH 4
#define MAX_MATCH 258
#define MAX_CHAIN 32

static uint8_t input[LEN], packed[LEN * 2], output[LEN];
static int32_t head[1 << HASH_BITS], prev[LEN];

static void make_text(uint32_t seed) {
    static const char *const words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog ",
                                        "interpreter ", "snapshot ", "fuel ", "module ", "store ", "trap ",
                                        "memory ", "table ", "\n", ", ", ". ", "wasm "};
    uint32_t at = 0;
    while (at < LEN) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 20];
        if ((seed >> 8) % 17 == 0) {
            /* A run of noise so that not everything matches. */
            for (int k = 0; k < 6 && at < LEN; k++) {
                seed = seed * 1103515245u + 12345u;
                input[at++] = (uint8_t)(seed >> 24);
            }
        }
        while (*w && at < LEN) input[at++] = (uint8_t)*w++;
    }
}

static uint32_t hash4(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Token format: a literal run is [0x00 | len-1 (7 bits)] bytes...; a match is [0x80 | len-4 (7 bits)] hi lo
   with a 16-bit distance, and a length byte extension when the 7 bits saturate. */
static uint32_t compress(void) {
    for (int i = 0; i < (1 << HASH_BITS); i++) head[i] = -1;
    uint32_t out = 0, lit_start = 0, i = 0;
    while (i < LEN) {
        uint32_t best_len = 0, best_dist = 0;
        if (i + MIN_MATCH <= LEN) {
            uint32_t h = hash4(&input[i]);
            int32_t cand = head[h];
            int chain = 0;
            while (cand >= 0 && i - (uint32_t)cand <= WINDOW && chain++ < MAX_CHAIN) {
                uint32_t len = 0, max = LEN - i < MAX_MATCH ? LEN - i : MAX_MATCH;
                while (len < max && input[(uint32_t)cand + len] == input[i + len]) len++;
                if (len > best_len) {
                    best_len = len;
                    best_dist = i - (uint32_t)cand;
                }
                cand = prev[cand];
            }
            prev[i] = head[h];
            head[h] = (int32_t)i;
        }
        if (best_len >= MIN_MATCH) {
            while (lit_start < i) {
                uint32_t run = i - lit_start > 128 ? 128 : i - lit_start;
                packed[out++] = (uint8_t)(run - 1);
                for (uint32_t k = 0; k < run; k++) packed[out++] = input[lit_start + k];
                lit_start += run;
            }
            uint32_t l = best_len - MIN_MATCH;
            packed[out++] = (uint8_t)(0x80 | (l < 127 ? l : 127));
            if (l >= 127) packed[out++] = (uint8_t)(l - 127);
            packed[out++] = (uint8_t)(best_dist >> 8);
            packed[out++] = (uint8_t)best_dist;
            /* Index the skipped positions too. */
            for (uint32_t k = 1; k < best_len && i + k + MIN_MATCH <= LEN; k++) {
                uint32_t h = hash4(&input[i + k]);
                prev[i + k] = head[h];
                head[h] = (int32_t)(i + k);
            }
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    while (lit_start < LEN) {
        uint32_t run = LEN - lit_start > 128 ? 128 : LEN - lit_start;
        packed[out++] = (uint8_t)(run - 1);
        for (uint32_t k = 0; k < run; k++) packed[out++] = input[lit_start + k];
        lit_start += run;
    }
    return out;
}

static uint32_t decompress(uint32_t len) {
    uint32_t in = 0, out = 0;
    while (in < len) {
        uint8_t tag = packed[in++];
        if (tag & 0x80) {
            uint32_t l = tag & 0x7f;
            if (l == 127) l += packed[in++];
            l += MIN_MATCH;
            uint32_t dist = (uint32_t)packed[in] << 8 | packed[in + 1];
            in += 2;
            for (uint32_t k = 0; k < l; k++, out++) output[out] = output[out - dist];
        } else {
            uint32_t run = (uint32_t)tag + 1;
            for (uint32_t k = 0; k < run; k++) output[out++] = packed[in++];
        }
    }
    return out;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        make_text(r + 1);
        uint32_t size = compress();
        uint32_t back = decompress(size);
        if (back != LEN) return 0xbad0u;
        uint32_t a = 1, b = 0;
        for (uint32_t i = 0; i < LEN; i++) {
            if (output[i] != input[i]) return 0xbad1u;
            a = (a + packed[i % size]) % 65521;
            b = (b + a) % 65521;
        }
        h = h * 31 + size + (b << 16 | a);
    }
    return h;
}
