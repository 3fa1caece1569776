/* tlvconf: a small parser for a binary configuration format made of typed, length-prefixed records.
 *
 * Layout (all integers little-endian):
 *   header  u32 magic "TLV1" | u32 total length of the document | u16 version (1 or 2) | u16 record count
 *   record  u8 type | u8 flags | u16 payload length | payload
 * Record types: 'I' integer (u32), 'S' string, 'T' table lookup (version 2), 'X' extension (keyword + checksum).
 *
 * The parser has planted bugs for the fuzzer to find; see README.md beside this file. */
#ifndef TLV_H
#define TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_MAGIC 0x31564c54u /* "TLV1" */
#define TLV_MAX_STRINGS 8
#define TLV_COLUMNS 16

enum tlv_status {
    TLV_OK = 0,
    TLV_ETRUNC = -1,
    TLV_EMAGIC = -2,
    TLV_ELENGTH = -3,
    TLV_EVERSION = -4,
    TLV_ETYPE = -5,
    TLV_ECHECKSUM = -6,
};

struct tlv_doc {
    uint16_t version;
    uint32_t integers;
    uint64_t integer_sum;
    uint32_t nstrings;
    char strings[TLV_MAX_STRINGS][32];
    uint32_t column_sum;
    uint32_t extensions;
};

/* Parses `size` bytes at `data` into `doc`; returns TLV_OK or a negative tlv_status. */
int tlv_parse(const uint8_t *data, size_t size, struct tlv_doc *doc);

/* FNV-1a of a byte range: the checksum of extension records. */
uint32_t tlv_checksum(const uint8_t *data, size_t size);

#endif
