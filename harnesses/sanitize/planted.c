/* The magic-byte gate of the planted-bug harnesses (planted.h). */
#include "planted.h"

volatile uint32_t planted_sink;

int planted_magic(const uint8_t *data, size_t size, const char magic[4]) {
    if (size < 4) return 0;
    if (data[0] != (uint8_t)magic[0]) return 0;
    if (data[1] != (uint8_t)magic[1]) return 0;
    if (data[2] != (uint8_t)magic[2]) return 0;
    if (data[3] != (uint8_t)magic[3]) return 0;
    return 1;
}
