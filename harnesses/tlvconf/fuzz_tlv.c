/* The libFuzzer harness of tlvconf: parse the input as a document. */
#include <stddef.h>
#include <stdint.h>

#include "tlv.h"

static struct tlv_doc doc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tlv_parse(data, size, &doc);
    return 0;
}
