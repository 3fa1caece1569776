// Call-heavy recursion: naive Fibonacci, Ackermann and Takeuchi functions (deep call chains, few instructions
// per call).
// bench: kind=calls n=16 smoke=1

#include <stdint.h>

__attribute__((noinline)) static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* Depth stays under 1024 frames for m = 3, n <= 6 (gabagool's call-depth limit). */
__attribute__((noinline)) static uint32_t ack(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

__attribute__((noinline)) static int32_t tak(int32_t x, int32_t y, int32_t z) {
    if (y >= x) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++) {
        h = h * 31 + fib(24 + (i & 1));
        h = h * 31 + ack(3, 5 + (i & 1));
        h = h * 31 + (uint32_t)tak(18, 12, 6 - (int32_t)(i & 1));
    }
    return h;
}
