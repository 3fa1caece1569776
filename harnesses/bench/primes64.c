// 64-bit integer arithmetic: deterministic Miller-Rabin primality tests with Montgomery multiplication (64x64->128
// products built from 32-bit halves), counting primes in a window above 2^62.
// bench: kind=int64 n=8000 smoke=40

#include <stdint.h>

static uint64_t mulhi(uint64_t a, uint64_t b) {
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

typedef struct {
    uint64_t m, inv, r2;
} mont;

/* inv = -m^-1 mod 2^64 (Newton iteration); r2 = 2^128 mod m by doubling. */
static mont mont_new(uint64_t m) {
    mont s;
    s.m = m;
    uint64_t x = m;
    for (int i = 0; i < 6; i++) x *= 2 - m * x;
    s.inv = (uint64_t)0 - x;
    uint64_t r = ((uint64_t)0 - m) % m; /* 2^64 mod m */
    for (int i = 0; i < 64; i++) {
        r = r >= m - r ? r - (m - r) : r + r;
    }
    s.r2 = r;
    return s;
}

static uint64_t redc(const mont *s, uint64_t lo, uint64_t hi) {
    uint64_t q = lo * s->inv;
    uint64_t t = mulhi(q, s->m);
    /* lo + q * m is 0 mod 2^64 by the choice of q: it carries exactly when lo is not 0. */
    uint64_t res = hi + t + (lo != 0);
    /* hi + t + carry may exceed m once (all values < m < 2^63). */
    return res >= s->m ? res - s->m : res;
}

static uint64_t mmul(const mont *s, uint64_t a, uint64_t b) { return redc(s, a * b, mulhi(a, b)); }

static int is_prime(uint64_t n) {
    if (n < 2) return 0;
    static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    for (int i = 0; i < 12; i++) {
        if (n == small[i]) return 1;
        if (n % small[i] == 0) return 0;
    }
    mont s = mont_new(n);
    uint64_t d = n - 1;
    int r = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        r++;
    }
    uint64_t one = mmul(&s, 1, s.r2), minus_one = n - one;
    for (int i = 0; i < 12; i++) {
        uint64_t a = mmul(&s, small[i] % n, s.r2), x = one, e = d;
        while (e) {
            if (e & 1) x = mmul(&s, x, a);
            a = mmul(&s, a, a);
            e >>= 1;
        }
        if (x == one || x == minus_one) continue;
        int composite = 1;
        for (int j = 1; j < r; j++) {
            x = mmul(&s, x, x);
            if (x == minus_one) {
                composite = 0;
                break;
            }
        }
        if (composite) return 0;
    }
    return 1;
}

/* Tests the n odd numbers above 2^62 + 1; the checksum mixes the count and the last prime found. */
__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint64_t base = ((uint64_t)1 << 62) + 1, last = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = base + 2 * (uint64_t)i;
        if (is_prime(c)) {
            count++;
            last = c;
        }
    }
    return count * 0x9e3779b1u ^ (uint32_t)last ^ (uint32_t)(last >> 32);
}
