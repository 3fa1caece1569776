/* A libFuzzer harness to start from (README: "Write your own harness"). capicola calls LLVMFuzzerTestOneInput
 * once per input, each time in the module's state right after initialization. The planted bug: a record's name
 * length comes from the input and is not checked against the 8 bytes the record holds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct record {
    char name[8];
    uint32_t value;
};

/* A record is 'R', a name length, the name, then a 4-byte little-endian value. */
static int parse(const uint8_t *data, size_t size, struct record *out) {
    if (size < 2 || data[0] != 'R') return -1;
    size_t len = data[1];
    if (size < 2 + len + 4) return -1;
    memcpy(out->name, data + 2, len); /* BUG: len may be more than sizeof out->name */
    memcpy(&out->value, data + 2 + len, 4);
    return 0;
}

/* What the harness keeps of the last record; volatile, so the compiler cannot drop the parsing as unused. */
static volatile uint32_t last_value;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct record *r = malloc(sizeof *r);
    if (r == NULL) return 0;
    if (parse(data, size, r) == 0) {
        last_value = r->value + (uint32_t)r->name[0];
    }
    free(r);
    return 0;
}
