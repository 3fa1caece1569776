// A register-machine bytecode interpreter: a `switch` dispatch loop running a prime sieve by trial division and
// a string hash; branchy, with a jump table.
// bench: kind=branchy n=5 smoke=1

#include <stdint.h>

enum { LI, MOV, ADD, ADDI, SUB, MUL, REM, XOR, SHRI, AND, JGE, JGT, JNZ, JZ, JMP, LDB, HALT };

typedef struct {
    uint8_t op, a, b, c;
    int32_t imm;
} insn;

static uint8_t heap[256];

static uint32_t execute(const insn *code, uint32_t *r) {
    uint32_t pc = 0, steps = 0;
    for (;;) {
        const insn *i = &code[pc++];
        steps++;
        switch (i->op) {
        case LI: r[i->a] = (uint32_t)i->imm; break;
        case MOV: r[i->a] = r[i->b]; break;
        case ADD: r[i->a] = r[i->b] + r[i->c]; break;
        case ADDI: r[i->a] = r[i->b] + (uint32_t)i->imm; break;
        case SUB: r[i->a] = r[i->b] - r[i->c]; break;
        case MUL: r[i->a] = r[i->b] * r[i->c]; break;
        case REM: r[i->a] = r[i->c] ? r[i->b] % r[i->c] : 0; break;
        case XOR: r[i->a] = r[i->b] ^ r[i->c]; break;
        case SHRI: r[i->a] = r[i->b] >> (i->imm & 31); break;
        case AND: r[i->a] = r[i->b] & r[i->c]; break;
        case JGE: if (r[i->a] >= r[i->b]) pc = (uint32_t)i->imm; break;
        case JGT: if (r[i->a] > r[i->b]) pc = (uint32_t)i->imm; break;
        case JNZ: if (r[i->a]) pc = (uint32_t)i->imm; break;
        case JZ: if (!r[i->a]) pc = (uint32_t)i->imm; break;
        case JMP: pc = (uint32_t)i->imm; break;
        case LDB: r[i->a] = heap[r[i->b] & 255]; break;
        case HALT: return steps;
        default: return 0xffffffffu;
        }
    }
}

/* r0 candidate, r1 limit, r2 count, r3 divisor, r4 scratch, r5 hash, r6 31, r7 byte index */
static const insn primes[] = {
    /* 0 */ {LI, 0, 0, 0, 2},
    /* 1 */ {LI, 2, 0, 0, 0},
    /* 2 */ {LI, 6, 0, 0, 31},
    /* 3 */ {JGE, 0, 1, 0, 14},  /* L0: candidate >= limit -> string hash */
    /* 4 */ {LI, 3, 0, 0, 2},
    /* 5 */ {MUL, 4, 3, 3, 0},   /* L1 */
    /* 6 */ {JGT, 4, 0, 0, 11},  /* divisor^2 > candidate -> prime */
    /* 7 */ {REM, 4, 0, 3, 0},
    /* 8 */ {JZ, 4, 0, 0, 12},   /* divides -> next */
    /* 9 */ {ADDI, 3, 3, 0, 1},
    /* 10 */ {JMP, 0, 0, 0, 5},
    /* 11 */ {ADDI, 2, 2, 0, 1}, /* PRIME */
    /* 12 */ {ADDI, 0, 0, 0, 1}, /* NEXT */
    /* 13 */ {JMP, 0, 0, 0, 3},
    /* 14 */ {LI, 7, 0, 0, 0},   /* hash the heap bytes, 64 passes */
    /* 15 */ {LI, 0, 0, 0, 16384},
    /* 16 */ {LDB, 4, 7, 0, 0},  /* L2 */
    /* 17 */ {XOR, 5, 5, 4, 0},
    /* 18 */ {MUL, 5, 5, 6, 0},
    /* 19 */ {SHRI, 4, 5, 0, 13},
    /* 20 */ {XOR, 5, 5, 4, 0},
    /* 21 */ {ADDI, 7, 7, 0, 1},
    /* 22 */ {JGE, 7, 0, 0, 24},
    /* 23 */ {JMP, 0, 0, 0, 16},
    /* 24 */ {HALT, 0, 0, 0, 0},
};

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t h = 0;
    for (int i = 0; i < 256; i++) heap[i] = (uint8_t)(i * 167 + 13);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t r[8] = {0};
        r[1] = 12000 + k;
        uint32_t steps = execute(primes, r);
        h = (h * 31 + r[2]) ^ r[5] ^ steps;
    }
    return h;
}
