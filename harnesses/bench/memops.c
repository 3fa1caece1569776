// memcpy-, memmove-, memset- and memcmp-like loops over 64 KiB buffers at varying alignments, byte-wise and
// word-wise, alongside wasi-libc's own memcpy and memmove.
// bench: kind=memory n=32 smoke=1

#include <stdint.h>
#include <string.h>

#define SIZE 65536
static uint8_t src[SIZE + 64], dst[SIZE + 64];

static void copy_bytes(uint8_t *d, const uint8_t *s, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) d[i] = s[i];
}

static void copy_words(uint8_t *d, const uint8_t *s, uint32_t len) {
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, s + i, 8);
        __builtin_memcpy(d + i, &w, 8);
    }
    for (; i < len; i++) d[i] = s[i];
}

static void move_back(uint8_t *d, const uint8_t *s, uint32_t len) {
    while (len--) d[len] = s[len];
}

static void fill(uint8_t *d, uint8_t v, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) d[i] = (uint8_t)(v + (i >> 8));
}

static int compare(const uint8_t *a, const uint8_t *b, uint32_t len) {
    for (uint32_t i = 0; i < len; i++)
        if (a[i] != b[i]) return (int)a[i] - (int)b[i];
    return 0;
}

static uint32_t fold(const uint8_t *p, uint32_t len) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i += 61) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Hide the pointers from clang so it cannot turn the loops back into libc calls. */
static uint8_t *opaque(uint8_t *p) {
    __asm__("" : "+r"(p));
    return p;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        uint32_t off = r % 8, off2 = (r * 3) % 8;
        fill(opaque(src), (uint8_t)r, SIZE + 64);
        copy_bytes(opaque(dst) + off, src + off2, SIZE);
        h ^= fold(dst, SIZE);
        copy_words(opaque(src) + off2, dst + off, SIZE);
        h = h * 31 + (uint32_t)compare(src + off2, dst + off, SIZE);
        move_back(opaque(src) + 17, src + 3, SIZE - 32);
        h ^= fold(src, SIZE);
        memmove(src + 5, src + 40, SIZE - 40);
        memcpy(dst, src, SIZE);
        h = h * 31 + (uint32_t)compare(opaque(src), dst, SIZE);
        h ^= fold(dst + off, SIZE - 8);
    }
    return h;
}
