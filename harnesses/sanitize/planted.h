/* Shared by the planted-bug harnesses: the magic-byte gate in front of each bug, and a sink clang cannot see
 * through.
 *
 * Each harness plants one memory-safety bug behind a four-byte magic. The bytes are compared one at a time, each
 * with its own branch, so that coverage rewards every byte found and a seeded campaign reaches the bug; the seed
 * under corpora/sanitize/NAME/ carries the first three bytes. The heap pointers the bugs go through live in
 * volatile globals, the functions involved are noinline, and every value read is stored to `planted_sink`, so that
 * clang neither proves the bug away nor drops the access (it deletes an allocation whose pointer it can follow to
 * its free). */
#ifndef PLANTED_H
#define PLANTED_H

#include <stddef.h>
#include <stdint.h>

/* Written with every value a bug reads, so the read stays. */
extern volatile uint32_t planted_sink;

/* Whether `data` starts with the four bytes of `magic`, one compare and branch per byte. */
__attribute__((noinline)) int planted_magic(const uint8_t *data, size_t size, const char magic[4]);

#endif
