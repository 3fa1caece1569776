/* tlvconf: the parser (see tlv.h for the format). */
#include "tlv.h"

#include <assert.h>
#include <string.h>

static const uint32_t column_widths[TLV_COLUMNS] = {4, 8, 8, 12, 16, 4, 4, 2, 1, 1, 8, 32, 64, 4, 4, 4};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t tlv_checksum(const uint8_t *data, size_t size) {
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < size; i++) hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

static int parse_string(const uint8_t *payload, uint16_t len, struct tlv_doc *doc) {
    if (doc->nstrings == TLV_MAX_STRINGS) return TLV_OK;
    size_t n = len < 31 ? len : 31;
    memcpy(doc->strings[doc->nstrings], payload, n);
    doc->strings[doc->nstrings][n] = 0;
    doc->nstrings++;
    return TLV_OK;
}

/* A table record names columns by index. BUG 1: the index is trusted, so a large one reads far outside
 * column_widths (out of bounds memory access in Wasm). */
static __attribute__((noinline)) int parse_table(const uint8_t *payload, uint16_t len, uint8_t flags,
                                                 struct tlv_doc *doc) {
    if (len < 4 || !(flags & 0x80)) return TLV_OK;
    for (uint16_t at = 0; at + 4 <= len; at += 4) {
        uint32_t column = rd32(payload + at);
        doc->column_sum += column_widths[column];
    }
    return TLV_OK;
}

/* An extension record: an 8-byte keyword, a u32 checksum of the rest, then its body. BUG 2: an "OVERFLOW"
 * extension with a correct checksum and a body shorter than 16 bytes fails an assertion (abort). */
static __attribute__((noinline)) int parse_extension(const uint8_t *payload, uint16_t len, struct tlv_doc *doc) {
    if (len < 12) return TLV_ETRUNC;
    if (memcmp(payload, "OVERFLOW", 8) == 0) {
        uint32_t stored = rd32(payload + 8);
        if (stored != tlv_checksum(payload + 12, len - 12u)) return TLV_ECHECKSUM;
        assert(len - 12u >= 16 && "overflow extension body too short");
    }
    doc->extensions++;
    return TLV_OK;
}

int tlv_parse(const uint8_t *data, size_t size, struct tlv_doc *doc) {
    memset(doc, 0, sizeof *doc);
    if (size < 12) return TLV_ETRUNC;
    if (rd32(data) != TLV_MAGIC) return TLV_EMAGIC;
    if (rd32(data + 4) != size) return TLV_ELENGTH;
    doc->version = rd16(data + 8);
    if (doc->version < 1 || doc->version > 2) return TLV_EVERSION;
    uint16_t count = rd16(data + 10);
    const uint8_t *p = data + 12, *end = data + size;
    for (uint16_t i = 0; i < count; i++) {
        if (end - p < 4) return TLV_ETRUNC;
        uint8_t type = p[0], flags = p[1];
        uint16_t len = rd16(p + 2);
        p += 4;
        if (len > end - p) return TLV_ETRUNC;
        int status = TLV_OK;
        switch (type) {
        case 'I':
            if (len != 4) return TLV_ETRUNC;
            doc->integers++;
            doc->integer_sum += rd32(p);
            break;
        case 'S':
            status = parse_string(p, len, doc);
            break;
        case 'T':
            if (doc->version < 2) return TLV_EVERSION;
            status = parse_table(p, len, flags, doc);
            break;
        case 'X':
            status = parse_extension(p, len, doc);
            break;
        default:
            return TLV_ETYPE;
        }
        if (status != TLV_OK) return status;
        p += len;
    }
    return TLV_OK;
}
