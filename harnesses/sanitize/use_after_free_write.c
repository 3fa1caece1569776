/* Planted bug: a heap write after free. Behind the magic "UAFW", a buffer is freed early and then written. The
 * write goes to the buffer's seventh word, past the links the allocator keeps in a free chunk, so that without the
 * sanitizer the run goes on unharmed. */
#include <stdlib.h>

#include "planted.h"

static uint32_t *volatile log_buffer;

__attribute__((noinline)) static void open_log(void) {
    log_buffer = malloc(8 * sizeof(uint32_t));
    log_buffer[0] = 0;
}

__attribute__((noinline)) static void close_log(void) { free(log_buffer); }

__attribute__((noinline)) static void log_size(size_t size) { log_buffer[6] = (uint32_t)size; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    open_log();
    int early = planted_magic(data, size, "UAFW");
    if (early) close_log();
    log_size(size); /* BUG: writes into the freed buffer after an early close */
    planted_sink = early;
    if (!early) close_log();
    return 0;
}
