/* Planted bug: a host function reading freed memory. Behind the magic "HOST", a message buffer is freed and then
 * passed to `write`, whose WASI call (`fd_write`) reads it: the engine checks what host functions touch too. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planted.h"

static char *volatile message;

__attribute__((noinline)) static void compose(void) {
    message = malloc(8);
    memcpy(message, "status\n", 8);
}

__attribute__((noinline)) static void discard(void) { free(message); }

__attribute__((noinline)) static void emit(void) { planted_sink = (uint32_t)write(1, message, 7); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    compose();
    int early = planted_magic(data, size, "HOST");
    if (early) {
        discard();
        emit(); /* BUG: the host reads the freed buffer */
        return 0;
    }
    discard();
    return 0;
}
