// EEMBC's CoreMark (its own sources, from COREMARK_SRC: see build-program.sh) with the port in coremark_port/:
// `run(n)` runs CoreMark's main for n iterations of its performance run (seeds 0, 0, 0x66; 2,000 bytes of data) and
// returns its final CRC; `report(k)` then gives what CoreMark reported, so that the benchmark can compare engines
// and check CoreMark's own validation. CoreMark's score is n divided by the time `run(n)` takes, measured by the
// benchmark.
// bench: kind=integer n=250 smoke=1 from=EEMBC-CoreMark report=6

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "coremark.h"

// CoreMark's main, renamed by the build.
int coremark_main(int argc, char *argv[]);

// The seeds CoreMark reads through get_seed_32(): 1 to 3 pick the data (these are its performance run's), 4 is the
// number of iterations, 5 which algorithms run (0: all).
volatile ee_s32 seed1_volatile = 0;
volatile ee_s32 seed2_volatile = 0;
volatile ee_s32 seed3_volatile = 0x66;
volatile ee_s32 seed4_volatile = 1;
volatile ee_s32 seed5_volatile = 0;

ee_u32 default_num_contexts = 1;

void portable_init(core_portable *p, int *argc, char *argv[]) {
    (void)argc, (void)argv;
    p->portable_id = 1;
}

void portable_fini(core_portable *p) {
    p->portable_id = 0;
}

// No clock: CoreMark sees no time pass, and its "must run for at least 10 secs" complaint is not counted below.
void start_time(void) {}

void stop_time(void) {}

CORE_TICKS get_time(void) {
    return 0;
}

secs_ret time_in_secs(CORE_TICKS ticks) {
    (void)ticks;
    return 0;
}

// What report(k) returns, in this order.
enum { SEEDCRC, CRCLIST, CRCMATRIX, CRCSTATE, CRCFINAL, ERRORS, REPORTED };

static uint32_t reported[REPORTED];

// CoreMark's report lines that carry a value: "seedcrc : 0x%04x" and "[%d]crcNAME : 0x%04x" (the bracket holds
// the context, always 0 here).
static const struct {
    const char *prefix;
    int slot;
} values[] = {
    {"seedcrc ", SEEDCRC},
    {"[%d]crclist ", CRCLIST},
    {"[%d]crcmatrix ", CRCMATRIX},
    {"[%d]crcstate ", CRCSTATE},
    {"[%d]crcfinal ", CRCFINAL},
};

// Keeps the values of CoreMark's report and counts its errors (a CRC that is not the known one for these seeds, a
// data type of the wrong size, seeds it cannot validate) instead of printing.
int ee_printf(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t len = strlen(values[i].prefix);
        if (strncmp(fmt, values[i].prefix, len) == 0) {
            if (fmt[0] == '[')
                (void)va_arg(args, int);
            reported[values[i].slot] = (uint32_t)va_arg(args, int);
        }
    }
    va_end(args);
    if ((strstr(fmt, "ERROR") && !strstr(fmt, "at least 10 secs")) || strstr(fmt, "Cannot validate"))
        reported[ERRORS]++;
    return 0;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    memset(reported, 0, sizeof reported);
    seed4_volatile = (ee_s32)(n ? n : 1);
    char name[] = "coremark";
    char *argv[] = {name, NULL};
    coremark_main(1, argv);
    return reported[CRCFINAL] | reported[ERRORS] << 16;
}

// What the last run reported: 0 seedcrc, 1 crclist, 2 crcmatrix, 3 crcstate, 4 crcfinal, 5 the number of errors
// CoreMark found.
__attribute__((export_name("report"))) uint32_t report(uint32_t k) {
    return k < REPORTED ? reported[k] : 0;
}
