/* Planted bug: a heap read after free. Behind the magic "UAFR", a session block is freed early and then read. */
#include <stdlib.h>

#include "planted.h"

struct session {
    uint32_t id;
    uint32_t bytes;
};

static struct session *volatile session;

__attribute__((noinline)) static void open_session(size_t size) {
    session = malloc(sizeof(struct session));
    session->id = 7;
    session->bytes = (uint32_t)size;
}

__attribute__((noinline)) static void close_session(void) { free(session); }

__attribute__((noinline)) static uint32_t session_bytes(void) { return session->bytes; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    open_session(size);
    int early = planted_magic(data, size, "UAFR");
    if (early) close_session();
    planted_sink = session_bytes(); /* BUG: reads the freed session after an early close */
    if (!early) close_session();
    return 0;
}
