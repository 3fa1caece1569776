// CoreMark-like integer kernels: linked-list find/reverse/merge sort, 16-bit matrix arithmetic, a numeric-token
// state machine, all folded into a CRC-16 like CoreMark's.
// bench: kind=integer n=90 smoke=1

#include <stdint.h>

static uint16_t crc8(uint8_t data, uint16_t crc) {
    for (int i = 0; i < 8; i++) {
        uint8_t x16 = (uint8_t)((data & 1) ^ ((uint8_t)crc & 1));
        data >>= 1;
        if (x16 == 1) {
            crc ^= 0x4002;
            crc = (uint16_t)((crc >> 1) | 0x8000);
        } else {
            crc >>= 1;
        }
    }
    return crc;
}

static uint16_t crc16(uint16_t v, uint16_t crc) {
    crc = crc8((uint8_t)v, crc);
    return crc8((uint8_t)(v >> 8), crc);
}

static uint16_t crc32w(uint32_t v, uint16_t crc) {
    crc = crc16((uint16_t)v, crc);
    return crc16((uint16_t)(v >> 16), crc);
}

/* ---- list ---- */

typedef struct node {
    struct node *next;
    int16_t data;
    int16_t idx;
} node;

#define LIST_N 200
static node nodes[LIST_N];

static node *list_init(uint32_t seed) {
    for (int i = 0; i < LIST_N; i++) {
        seed = seed * 1103515245u + 12345u;
        nodes[i].data = (int16_t)((seed >> 16) & 0x7fff);
        nodes[i].idx = (int16_t)i;
        nodes[i].next = i + 1 < LIST_N ? &nodes[i + 1] : 0;
    }
    return &nodes[0];
}

static node *list_reverse(node *l) {
    node *prev = 0;
    while (l) {
        node *next = l->next;
        l->next = prev;
        prev = l;
        l = next;
    }
    return prev;
}

static node *list_find(node *l, int16_t data) {
    while (l && (l->data & 0xff) != (data & 0xff))
        l = l->next;
    return l;
}

static int cmp_data(const node *a, const node *b) { return (int)a->data - (int)b->data; }
static int cmp_idx(const node *a, const node *b) { return (int)a->idx - (int)b->idx; }

/* Bottom-up merge sort of a singly linked list (CoreMark's core_list_mergesort). */
static node *list_sort(node *list, int by_idx) {
    int insize = 1;
    for (;;) {
        node *p = list, *tail = 0;
        list = 0;
        int nmerges = 0;
        while (p) {
            nmerges++;
            node *q = p;
            int psize = 0;
            for (int i = 0; i < insize && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = insize;
            while (psize > 0 || (qsize > 0 && q)) {
                node *e;
                if (psize == 0) {
                    e = q; q = q->next; qsize--;
                } else if (qsize == 0 || !q) {
                    e = p; p = p->next; psize--;
                } else if ((by_idx ? cmp_idx(p, q) : cmp_data(p, q)) <= 0) {
                    e = p; p = p->next; psize--;
                } else {
                    e = q; q = q->next; qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (nmerges <= 1)
            return list;
        insize *= 2;
    }
}

static uint16_t bench_list(uint32_t seed, uint16_t crc) {
    node *l = list_init(seed);
    for (int i = 0; i < 16; i++) {
        node *f = list_find(l, (int16_t)(i * 37));
        crc = crc16(f ? (uint16_t)f->idx : 0xffff, crc);
        l = list_reverse(l);
    }
    l = list_sort(l, 0);
    for (node *p = l; p; p = p->next)
        crc = crc16((uint16_t)p->data, crc);
    l = list_sort(l, 1);
    crc = crc16((uint16_t)l->data, crc);
    return crc;
}

/* ---- matrix ---- */

#define MN 20
static int16_t ma[MN * MN], mb[MN * MN];
static int32_t mc[MN * MN];

static uint16_t matrix_sum(uint16_t crc) {
    int32_t prev = 0, sum = 0;
    for (int i = 0; i < MN * MN; i++) {
        int32_t v = mc[i];
        sum += v;
        if (sum > 0x3fffff) {
            crc = crc32w((uint32_t)sum, crc);
            sum = 0;
        } else {
            crc = crc16((uint16_t)(v > prev ? 1 : 0), crc);
        }
        prev = v;
    }
    return crc16((uint16_t)sum, crc);
}

static uint16_t bench_matrix(uint32_t seed, uint16_t crc) {
    for (int i = 0; i < MN * MN; i++) {
        seed = seed * 1664525u + 1013904223u;
        ma[i] = (int16_t)((seed >> 20) & 0xff);
        mb[i] = (int16_t)((seed >> 8) & 0xff);
    }
    int16_t k = (int16_t)(seed & 0xf);
    for (int i = 0; i < MN * MN; i++)
        mc[i] = (int32_t)ma[i] * k;
    crc = matrix_sum(crc);
    for (int i = 0; i < MN; i++) {
        int32_t acc = 0;
        for (int j = 0; j < MN; j++)
            acc += (int32_t)ma[i * MN + j] * mb[j];
        mc[i] = acc;
    }
    crc = matrix_sum(crc);
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t acc = 0;
            for (int x = 0; x < MN; x++)
                acc += (int32_t)ma[i * MN + x] * mb[x * MN + j];
            mc[i * MN + j] = acc;
        }
    crc = matrix_sum(crc);
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t acc = 0;
            for (int x = 0; x < MN; x++) {
                int32_t t = (int32_t)ma[i * MN + x] * mb[x * MN + j];
                acc += ((t >> 2) & 0xf) * ((t >> 5) & 0x7f);
            }
            mc[i * MN + j] = acc;
        }
    return matrix_sum(crc);
}

/* ---- state machine ---- */

enum { S_START, S_INVALID, S_S1, S_S2, S_INT, S_FLOAT, S_EXP, S_SCI, S_COUNT };

static char text[1024];

static void text_init(uint32_t seed) {
    static const char *const pieces[] = {"5012", "1234", "-874", "+122", "35.54400", ".1234500",
                                         "-110.700", "+0.64400", "5.500e+3", "-.123e-2", "-87e+832",
                                         "+0.6e-12", "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^"};
    int at = 0;
    while (at < (int)sizeof text - 10) {
        seed = seed * 1103515245u + 12345u;
        const char *p = pieces[(seed >> 16) & 15];
        while (*p)
            text[at++] = *p++;
        text[at++] = ',';
    }
    text[at] = 0;
}

static int state_step(const char **str, uint32_t *transitions) {
    const char *s = *str;
    int state = S_START;
    for (; *s && state != S_INVALID; s++) {
        char c = *s;
        if (c == ',') {
            s++;
            break;
        }
        switch (state) {
        case S_START:
            if (c >= '0' && c <= '9')
                state = S_INT;
            else if (c == '+' || c == '-')
                state = S_S1;
            else if (c == '.')
                state = S_FLOAT;
            else {
                state = S_INVALID;
                transitions[S_INVALID]++;
            }
            transitions[S_START]++;
            break;
        case S_S1:
            if (c >= '0' && c <= '9') {
                state = S_INT;
                transitions[S_S1]++;
            } else if (c == '.') {
                state = S_FLOAT;
                transitions[S_S1]++;
            } else {
                state = S_INVALID;
                transitions[S_S1]++;
            }
            break;
        case S_INT:
            if (c == '.') {
                state = S_FLOAT;
                transitions[S_INT]++;
            } else if (!(c >= '0' && c <= '9')) {
                state = S_INVALID;
                transitions[S_INT]++;
            }
            break;
        case S_FLOAT:
            if (c == 'E' || c == 'e') {
                state = S_S2;
                transitions[S_FLOAT]++;
            } else if (!(c >= '0' && c <= '9')) {
                state = S_INVALID;
                transitions[S_FLOAT]++;
            }
            break;
        case S_S2:
            if (c == '+' || c == '-') {
                state = S_EXP;
                transitions[S_S2]++;
            } else {
                state = S_INVALID;
                transitions[S_S2]++;
            }
            break;
        case S_EXP:
            if (c >= '0' && c <= '9') {
                state = S_SCI;
                transitions[S_EXP]++;
            } else {
                state = S_INVALID;
                transitions[S_EXP]++;
            }
            break;
        case S_SCI:
            if (!(c >= '0' && c <= '9')) {
                transitions[S_INVALID]++;
                state = S_INVALID;
            }
            break;
        default:
            break;
        }
    }
    *str = s;
    return state;
}

static uint16_t bench_state(uint32_t seed, uint16_t crc) {
    uint32_t final_counts[S_COUNT] = {0}, transitions[S_COUNT] = {0};
    text_init(seed);
    for (int pass = 0; pass < 4; pass++) {
        const char *p = text;
        while (*p)
            final_counts[state_step(&p, transitions)]++;
    }
    for (int i = 0; i < S_COUNT; i++) {
        crc = crc32w(final_counts[i], crc);
        crc = crc32w(transitions[i], crc);
    }
    return crc;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint16_t crc = 0;
    for (uint32_t i = 0; i < n; i++) {
        crc = bench_list(i * 7 + 1, crc);
        crc = bench_matrix(i * 13 + 5, crc);
        crc = bench_state(i * 3 + 11, crc);
    }
    return crc;
}
