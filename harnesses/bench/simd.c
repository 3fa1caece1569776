// 128-bit SIMD: an i16 dot product (i32x4.dot_i16x8_s), an f32x4 saxpy, a 16-bin byte histogram by lane
// compares and a nibble table lookup by swizzle.
// gabagool 0.1.1 parses SIMD but executes none of it beyond v128.const (`todo!()` in its interpreter).
// bench: kind=simd n=64 smoke=1 cflags=-msimd128 unsupported=gabagool

#include <stdint.h>
#include <wasm_simd128.h>

#define N 8192
static int16_t xs[N], ys[N];
static float fa[N], fb[N];
static uint8_t bytes[4 * N];

static int32_t dot(void) {
    v128_t acc = wasm_i32x4_splat(0);
    for (int i = 0; i < N; i += 8) {
        v128_t a = wasm_v128_load(&xs[i]);
        v128_t b = wasm_v128_load(&ys[i]);
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(a, b));
    }
    return wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
           wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
}

static void saxpy(float k) {
    v128_t kv = wasm_f32x4_splat(k);
    for (int i = 0; i < N; i += 4) {
        v128_t a = wasm_v128_load(&fa[i]);
        v128_t b = wasm_v128_load(&fb[i]);
        v128_t r = wasm_f32x4_add(wasm_f32x4_mul(kv, a), b);
        r = wasm_f32x4_min(wasm_f32x4_max(r, wasm_f32x4_splat(-4.0f)), wasm_f32x4_splat(4.0f));
        wasm_v128_store(&fb[i], r);
    }
}

/* Counts how many bytes fall in each of 16 bins (their high nibble). */
static void histogram(uint32_t *bins) {
    v128_t counts[16];
    for (int b = 0; b < 16; b++) counts[b] = wasm_i32x4_splat(0);
    const v128_t high = wasm_u8x16_splat(0xf0);
    for (int i = 0; i < 4 * N; i += 16) {
        v128_t v = wasm_v128_and(wasm_v128_load(&bytes[i]), high);
        for (int b = 0; b < 16; b++) {
            v128_t eq = wasm_i8x16_eq(v, wasm_u8x16_splat((uint8_t)(b << 4)));
            /* Each matching lane is -1: widen pairwise and subtract. */
            v128_t w = wasm_i16x8_extadd_pairwise_i8x16(eq);
            counts[b] = wasm_i32x4_sub(counts[b], wasm_i32x4_extadd_pairwise_i16x8(w));
        }
    }
    for (int b = 0; b < 16; b++)
        bins[b] = (uint32_t)(wasm_i32x4_extract_lane(counts[b], 0) + wasm_i32x4_extract_lane(counts[b], 1) +
                             wasm_i32x4_extract_lane(counts[b], 2) + wasm_i32x4_extract_lane(counts[b], 3));
}

/* Maps each byte through a 16-entry table indexed by its low nibble, then folds the lanes with a bitmask. */
static uint32_t lookup(void) {
    const v128_t table = wasm_i8x16_make(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3);
    const v128_t low = wasm_u8x16_splat(0x0f);
    v128_t acc = wasm_i8x16_splat(0);
    uint32_t mask = 0;
    for (int i = 0; i < 4 * N; i += 16) {
        v128_t v = wasm_v128_load(&bytes[i]);
        v128_t t = wasm_i8x16_swizzle(table, wasm_v128_and(v, low));
        acc = wasm_i8x16_add(acc, t);
        mask += (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_gt(t, wasm_i8x16_splat(4)));
    }
    return mask ^ (uint32_t)wasm_i32x4_extract_lane(acc, 0) ^ (uint32_t)wasm_i32x4_extract_lane(acc, 3);
}

static uint32_t fbits(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    return v.u;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t seed = 99, h = 0;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        xs[i] = (int16_t)(seed >> 16);
        ys[i] = (int16_t)seed;
        fa[i] = (float)((int32_t)(seed >> 9) % 1000) / 997.0f;
        fb[i] = (float)((int32_t)(seed >> 3) % 1000) / 1009.0f;
    }
    for (int i = 0; i < 4 * N; i++) {
        seed = seed * 1664525u + 1013904223u;
        bytes[i] = (uint8_t)(seed >> 24);
    }
    for (uint32_t r = 0; r < n; r++) {
        h = h * 31 + (uint32_t)dot();
        saxpy(0.75f + (float)(r & 3) * 0.125f);
        h ^= fbits(fb[r % N]);
        uint32_t bins[16];
        histogram(bins);
        for (int b = 0; b < 16; b++) h = h * 17 + bins[b];
        h ^= lookup();
        /* Perturb the inputs so rounds differ. */
        xs[r % N] ^= (int16_t)h;
        bytes[(r * 131) % (4 * N)] ^= (uint8_t)h;
    }
    return h;
}
