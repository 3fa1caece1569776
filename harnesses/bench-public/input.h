// The input the public benchmark programs work on: compressible, word-like text made by a fixed generator, so that
// every engine sees the same bytes.
#ifndef BENCH_PUBLIC_INPUT_H
#define BENCH_PUBLIC_INPUT_H

#include <stddef.h>
#include <stdint.h>

// A 32-bit xorshift generator; `*state` must not be 0.
static inline uint32_t input_next(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

// Fills `out[0..len)` with words drawn from a small vocabulary (skewed towards its first words), spaces, commas and
// newlines, and now and then a run of random letters; `seed` picks the text.
static inline void input_text(uint8_t *out, size_t len, uint32_t seed) {
    static const char *const words[] = {
        "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as",
        "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but",
        "not", "what", "all", "were", "we", "when", "your", "can", "said", "there", "use", "an", "each",
        "which", "she", "do", "how", "their", "if", "will", "up", "other", "about", "out", "many", "then",
        "them", "these", "so", "some", "her", "would", "make", "like", "him", "into", "time", "has", "look",
    };
    const uint32_t count = sizeof words / sizeof words[0];
    uint32_t state = seed * 2654435761u + 1;
    size_t i = 0;
    while (i < len) {
        uint32_t r = input_next(&state);
        const char *word = words[(r % count) * ((r >> 8) % count) / count];
        if ((r >> 20) % 64 == 0) {
            for (uint32_t k = 0; k < 4 + (r >> 26) % 12 && i < len; k++)
                out[i++] = (uint8_t)('a' + input_next(&state) % 26);
        } else {
            for (const char *c = word; *c && i < len; c++)
                out[i++] = (uint8_t)*c;
        }
        if (i < len)
            out[i++] = (uint8_t)((r >> 16) % 16 == 0 ? '\n' : (r >> 16) % 16 == 1 ? ',' : ' ');
    }
}

// FNV-1a over `data[0..len)`, continuing from `hash`.
static inline uint32_t input_hash(uint32_t hash, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

#endif
