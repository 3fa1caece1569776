/* Planted bug: an invalid free. Behind the magic "IFRE", a pointer into the middle of a block (past its header) is
 * passed to free. */
#include <stdlib.h>

#include "planted.h"

struct message {
    uint32_t length;
    uint8_t body[28];
};

static struct message *volatile message;

__attribute__((noinline)) static void new_message(size_t size) {
    message = malloc(sizeof(struct message));
    message->length = (uint32_t)size;
}

__attribute__((noinline)) static void free_message_body(void *body) { free(body); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    new_message(size);
    planted_sink = message->length;
    if (planted_magic(data, size, "IFRE"))
        free_message_body(message->body); /* BUG: frees the body, 4 bytes into the block */
    else
        free(message);
    return 0;
}
