// Indirect calls: shapes with per-kind function tables (virtual dispatch) and a table of binary operators
// picked by a pseudo-random stream, all through `call_indirect`.
// bench: kind=indirect n=60 smoke=1

#include <stdint.h>

typedef struct shape shape;
typedef struct {
    int32_t (*area)(const shape *);
    int32_t (*perimeter)(const shape *);
    void (*scale)(shape *, int32_t);
} vtable;

struct shape {
    const vtable *vt;
    int32_t w, h;
};

__attribute__((noinline)) static int32_t rect_area(const shape *s) { return s->w * s->h; }
__attribute__((noinline)) static int32_t rect_perimeter(const shape *s) { return 2 * (s->w + s->h); }
__attribute__((noinline)) static void rect_scale(shape *s, int32_t k) { s->w = (s->w * k) % 1000 + 1; s->h = (s->h * k) % 1000 + 1; }
__attribute__((noinline)) static int32_t tri_area(const shape *s) { return s->w * s->h / 2; }
__attribute__((noinline)) static int32_t tri_perimeter(const shape *s) { return s->w + s->h + (s->w > s->h ? s->w : s->h); }
__attribute__((noinline)) static void tri_scale(shape *s, int32_t k) { s->w = (s->w + k) % 997 + 1; s->h = (s->h * k) % 991 + 1; }
__attribute__((noinline)) static int32_t circ_area(const shape *s) { return 3 * s->w * s->w; }
__attribute__((noinline)) static int32_t circ_perimeter(const shape *s) { return 6 * s->w; }
__attribute__((noinline)) static void circ_scale(shape *s, int32_t k) { s->w = (s->w ^ k) % 500 + 1; }

static const vtable vtables[3] = {
    {rect_area, rect_perimeter, rect_scale},
    {tri_area, tri_perimeter, tri_scale},
    {circ_area, circ_perimeter, circ_scale},
};

typedef uint32_t (*binop)(uint32_t, uint32_t);
__attribute__((noinline)) static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
__attribute__((noinline)) static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
__attribute__((noinline)) static uint32_t op_mul(uint32_t a, uint32_t b) { return a * b + 1; }
__attribute__((noinline)) static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
__attribute__((noinline)) static uint32_t op_rotl(uint32_t a, uint32_t b) { return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)); }
__attribute__((noinline)) static uint32_t op_min(uint32_t a, uint32_t b) { return a < b ? a : b ^ 0x55; }
__attribute__((noinline)) static uint32_t op_div(uint32_t a, uint32_t b) { return a / (b | 1); }
__attribute__((noinline)) static uint32_t op_mix(uint32_t a, uint32_t b) { return (a ^ (b >> 3)) * 0x9e3779b1u; }

static binop ops[8] = {op_add, op_sub, op_mul, op_xor, op_rotl, op_min, op_div, op_mix};

#define NSHAPES 512
static shape shapes[NSHAPES];

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t seed = 77, h = 1;
    for (int i = 0; i < NSHAPES; i++) {
        seed = seed * 1103515245u + 12345u;
        shapes[i].vt = &vtables[(seed >> 16) % 3];
        shapes[i].w = (int32_t)((seed >> 4) % 100) + 1;
        shapes[i].h = (int32_t)((seed >> 11) % 100) + 1;
    }
    for (uint32_t r = 0; r < n; r++) {
        for (int pass = 0; pass < 8; pass++) {
            for (int i = 0; i < NSHAPES; i++) {
                shape *s = &shapes[i];
                h = h * 31 + (uint32_t)s->vt->area(s);
                h ^= (uint32_t)s->vt->perimeter(s);
                s->vt->scale(s, (int32_t)(h & 7) + 1);
            }
        }
        uint32_t x = r + 1;
        for (int i = 0; i < 16384; i++) {
            seed = seed * 1664525u + 1013904223u;
            x = ops[seed >> 29](x, seed);
        }
        h ^= x;
    }
    return h;
}
