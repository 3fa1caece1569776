// Sorting 32-bit keys: an introsort-like quicksort with insertion sort for short runs, then a heap sort of a
// copy; memory-bound loads, stores and swaps.
// bench: kind=memory n=4 smoke=1

#include <stdint.h>

#define N 32768
static uint32_t keys[N], copy[N];

static void insertion(uint32_t *v, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        uint32_t x = v[i];
        int j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void quicksort(uint32_t *v, int lo, int hi) {
    while (hi - lo > 16) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo]) { uint32_t s = v[mid]; v[mid] = v[lo]; v[lo] = s; }
        if (v[hi] < v[lo]) { uint32_t s = v[hi]; v[hi] = v[lo]; v[lo] = s; }
        if (v[hi] < v[mid]) { uint32_t s = v[hi]; v[hi] = v[mid]; v[mid] = s; }
        uint32_t pivot = v[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                uint32_t s = v[i]; v[i] = v[j]; v[j] = s;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller side, loop on the larger. */
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
    insertion(v, lo, hi);
}

static void sift(uint32_t *v, int root, int end) {
    for (;;) {
        int child = 2 * root + 1;
        if (child > end) return;
        if (child + 1 <= end && v[child] < v[child + 1]) child++;
        if (v[root] >= v[child]) return;
        uint32_t s = v[root]; v[root] = v[child]; v[child] = s;
        root = child;
    }
}

static void heapsort(uint32_t *v, int n) {
    for (int i = n / 2 - 1; i >= 0; i--) sift(v, i, n - 1);
    for (int end = n - 1; end > 0; end--) {
        uint32_t s = v[0]; v[0] = v[end]; v[end] = s;
        sift(v, 0, end - 1);
    }
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t x = 2463534242u, h = 0;
    for (uint32_t r = 0; r < n; r++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            /* Some duplicates: keys drawn from a range smaller than N for odd rounds. */
            keys[i] = (r & 1) ? x % (N / 4) : x;
            copy[i] = keys[i];
        }
        quicksort(keys, 0, N - 1);
        heapsort(copy, N);
        for (int i = 0; i < N; i++) {
            if (keys[i] != copy[i] || (i > 0 && keys[i - 1] > keys[i])) return 0xdeadu;
            h = h * 16777619u ^ keys[i];
        }
    }
    return h;
}
