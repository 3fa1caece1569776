// Dense single-precision matrix multiplication (blocked i-k-j loops) with a transpose and a residual reduction.
// bench: kind=float n=12 smoke=1

#include <stdint.h>

#define N 96
static float a[N * N], b[N * N], c[N * N], t[N * N];

static uint32_t bits(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    return v.u;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t seed = 12345, h = 0;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (float)((int32_t)(seed >> 8) % 2001 - 1000) / 1000.0f;
        seed = seed * 1664525u + 1013904223u;
        b[i] = (float)((int32_t)(seed >> 8) % 2001 - 1000) / 1000.0f;
    }
    for (uint32_t r = 0; r < n; r++) {
        for (int i = 0; i < N * N; i++)
            c[i] = 0;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                float aik = a[i * N + k];
                for (int j = 0; j < N; j++)
                    c[i * N + j] += aik * b[k * N + j];
            }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                t[j * N + i] = c[i * N + j];
        double residual = 0;
        for (int i = 0; i < N; i++) {
            float row = 0;
            for (int j = 0; j < N; j++)
                row += t[i * N + j] * a[j * N + i];
            residual += (double)row;
        }
        h = (h * 31) ^ bits((float)residual);
        /* Feed the product back so no round repeats the last one. */
        for (int i = 0; i < N * N; i++)
            b[i] = c[i] * 0.125f - b[i] * 0.5f;
    }
    return h;
}
