/*  zaio_cursor.c: strict msgpack reader; see zaio_cursor.h for the contract.

    A reader that fails puts back only pos, the one member that moves:
    copying the whole cursor would load as one 16 bytes its caller has
    just stored as two halves, and that load waits (a store-forwarding
    stall, on x86 about as long as the read itself).
*/

#include "zaio_cursor.h"

#include <assert.h>
#include <endian.h>
#include <string.h>

void
zaio_cursor_init (zaio_cursor_t *self, const void *data, size_t size)
{
    self->pos = (const uint8_t *)data;
    //  (NULL, 0) is a valid empty input; NULL + 0 is not valid C.
    self->end = size ? self->pos + size : self->pos;
}

bool
zaio_cursor_done (const zaio_cursor_t *self)
{
    return self->pos == self->end;
}

static size_t
s_remaining (const zaio_cursor_t *self)
{
    return (size_t)(self->end - self->pos);
}

//  Big-endian unsigned integer of width (1, 2, 4 or 8) bytes at p, as
//  one load each: a loop over the bytes was a tenth of a decode.
static uint64_t
s_be (const uint8_t *p, int width)
{
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (width) {
        case 1:
            return p[0];
        case 2:
            memcpy (&u16, p, 2);
            return be16toh (u16);
        case 4:
            memcpy (&u32, p, 4);
            return be32toh (u32);
        default:
            assert (width == 8);
            memcpy (&u64, p, 8);
            return be64toh (u64);
    }
}

zaio_mp_type_t
zaio_cursor_peek (const zaio_cursor_t *self)
{
    if (s_remaining (self) == 0) return ZAIO_MP_INVALID;
    uint8_t b = *self->pos;
    if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf) return ZAIO_MP_UINT;
    if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3)) return ZAIO_MP_INT;
    if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) return ZAIO_MP_MAP;
    if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) return ZAIO_MP_ARRAY;
    if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) return ZAIO_MP_STR;
    if (b == 0xc0) return ZAIO_MP_NIL;
    if (b == 0xc2 || b == 0xc3) return ZAIO_MP_BOOL;
    if (b >= 0xc4 && b <= 0xc6) return ZAIO_MP_BIN;
    if (b == 0xca || b == 0xcb) return ZAIO_MP_FLOAT;
    if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) return ZAIO_MP_EXT;
    return ZAIO_MP_INVALID; //  0xc1 is never used
}

//  Reads a container header of the given family. Each element takes at
//  least one byte, so a count above the bytes left is a lie.
static int
s_container (zaio_cursor_t *self, zaio_mp_type_t family, uint32_t *count)
{
    if (s_remaining (self) == 0) return -1;
    uint8_t b = *self->pos;
    //  fixmap 0x80-0x8f, map16 0xde, map32 0xdf; fixarray 0x90-0x9f,
    //  array16 0xdc, array32 0xdd.
    uint8_t fixed = family == ZAIO_MP_MAP ? 0x80 : 0x90;
    uint8_t wide = family == ZAIO_MP_MAP ? 0xde : 0xdc;
    size_t header = 1;
    uint64_t n;
    if ((b & 0xf0) == fixed)
        n = b & 0x0f;
    else if (b != wide && b != wide + 1)
        return -1;
    else {
        int width = b == wide ? 2 : 4;
        if (s_remaining (self) < 1 + (size_t)width) return -1;
        n = s_be (self->pos + 1, width);
        header += (size_t)width;
    }
    uint64_t min_bytes = family == ZAIO_MP_MAP ? n * 2 : n;
    if (min_bytes > s_remaining (self) - header) return -1;
    self->pos += header;
    *count = (uint32_t)n;
    return 0;
}

int
zaio_cursor_map (zaio_cursor_t *self, uint32_t *count)
{
    return s_container (self, ZAIO_MP_MAP, count);
}

int
zaio_cursor_array (zaio_cursor_t *self, uint32_t *count)
{
    return s_container (self, ZAIO_MP_ARRAY, count);
}

//  Length-prefixed str or bin: header size and payload length.
static int
s_blob (const zaio_cursor_t *self, size_t *header, uint64_t *len)
{
    uint8_t b = *self->pos;
    int width;
    if ((b & 0xe0) == 0xa0) {
        *header = 1;
        *len = b & 0x1f;
        return *len <= s_remaining (self) - 1 ? 0 : -1;
    }
    if (b == 0xd9 || b == 0xc4)
        width = 1;
    else if (b == 0xda || b == 0xc5)
        width = 2;
    else
        width = 4;
    if (s_remaining (self) < 1 + (size_t)width) return -1;
    *header = 1 + (size_t)width;
    *len = s_be (self->pos + 1, width);
    return *len <= s_remaining (self) - *header ? 0 : -1;
}

int
zaio_cursor_str (zaio_cursor_t *self, const char **str, uint32_t *len)
{
    //  Asked for at every key, which is nearly always a fixstr: that case
    //  first, then the two tests peek would make, not its ladder.
    if (s_remaining (self) == 0) return -1;
    uint8_t b = *self->pos;
    if ((b & 0xe0) == 0xa0) {
        size_t fixed = b & 0x1f;
        if (fixed > s_remaining (self) - 1) return -1;
        *str = (const char *)self->pos + 1;
        *len = (uint32_t)fixed;
        self->pos += 1 + fixed;
        return 0;
    }
    if (b < 0xd9 || b > 0xdb) return -1;
    size_t header;
    uint64_t n;
    if (s_blob (self, &header, &n)) return -1;
    *str = (const char *)self->pos + header;
    *len = (uint32_t)n;
    self->pos += header + n;
    return 0;
}

//  A bin; *data points into the input.
int
zaio_cursor_bin (zaio_cursor_t *self, const uint8_t **data, uint32_t *len)
{
    if (zaio_cursor_peek (self) != ZAIO_MP_BIN) return -1;
    size_t header;
    uint64_t n;
    if (s_blob (self, &header, &n)) return -1;
    *data = self->pos + header;
    *len = (uint32_t)n;
    self->pos += header + n;
    return 0;
}

int
zaio_cursor_str_copy (zaio_cursor_t *self, char *buf, size_t buf_size, size_t max_len)
{
    const uint8_t *saved = self->pos;
    const char *str;
    uint32_t len;
    if (zaio_cursor_str (self, &str, &len) || len > max_len || len >= buf_size ||
        memchr (str, 0, len)) {
        self->pos = saved;
        return -1;
    }
    memcpy (buf, str, len);
    buf[len] = 0;
    return 0;
}

//  The bytes after the tag of uint 8/16/32/64 (0xcc-0xcf) and of int
//  8/16/32/64 (0xd0-0xd3): 1, 2, 4, 8.
static int
s_int_width (uint8_t tag)
{
    return 1 << ((tag - 0xcc) & 3);
}

//  The bits stored after the uint or int tag at the cursor, which moves
//  past them; -1 if the data ends first.
static int
s_tagged_bits (zaio_cursor_t *self, uint64_t *raw)
{
    size_t width = (size_t)s_int_width (*self->pos);
    if (s_remaining (self) < 1 + width) return -1;
    *raw = s_be (self->pos + 1, (int)width);
    self->pos += 1 + width;
    return 0;
}

//  Any integer encoding, as a sign flag and magnitude-preserving bits.
static int
s_integer (zaio_cursor_t *self, uint64_t *bits, bool *negative)
{
    if (s_remaining (self) == 0) return -1;
    uint8_t b = *self->pos;
    if (b <= 0x7f) {
        *bits = b;
        *negative = false;
        self->pos++;
        return 0;
    }
    if (b >= 0xe0) {
        *bits = (uint64_t)(int64_t)(int8_t)b;
        *negative = true;
        self->pos++;
        return 0;
    }
    if (b < 0xcc || b > 0xd3) return -1;
    bool is_signed = b >= 0xd0;
    int width = s_int_width (b);
    uint64_t raw;
    if (s_tagged_bits (self, &raw)) return -1;
    if (is_signed && width < 8 && (raw >> (width * 8 - 1)))
        raw |= ~(uint64_t)0 << (width * 8); //  sign-extend
    *bits = raw;
    *negative = is_signed && (int64_t)raw < 0;
    return 0;
}

int
zaio_cursor_uint (zaio_cursor_t *self, uint64_t *value)
{
    //  The unsigned forms first (fixint, uint 8 to 64): what encoders
    //  write, read here without s_integer's sign handling.
    if (s_remaining (self) && *self->pos <= 0x7f) {
        *value = *self->pos++;
        return 0;
    }
    if (s_remaining (self) && *self->pos >= 0xcc && *self->pos <= 0xcf)
        return s_tagged_bits (self, value);
    //  A signed form holding a value of zero or more is valid too.
    const uint8_t *saved = self->pos;
    bool negative;
    if (s_integer (self, value, &negative) || negative) {
        self->pos = saved;
        return -1;
    }
    return 0;
}

int
zaio_cursor_int (zaio_cursor_t *self, int64_t *value)
{
    const uint8_t *saved = self->pos;
    uint64_t bits;
    bool negative;
    //  A uint64 above INT64_MAX does not fit.
    if (s_integer (self, &bits, &negative) || (!negative && bits > (uint64_t)INT64_MAX)) {
        self->pos = saved;
        return -1;
    }
    *value = (int64_t)bits;
    return 0;
}

int
zaio_cursor_bool (zaio_cursor_t *self, bool *value)
{
    if (s_remaining (self) == 0 || (*self->pos != 0xc2 && *self->pos != 0xc3)) return -1;
    *value = *self->pos++ == 0xc3;
    return 0;
}

int
zaio_cursor_nil (zaio_cursor_t *self)
{
    if (zaio_cursor_peek (self) != ZAIO_MP_NIL) return -1;
    self->pos++;
    return 0;
}

//  Fixed payload widths of the ext family, by type byte.
static int
s_skip_ext (zaio_cursor_t *self)
{
    uint8_t b = *self->pos;
    size_t header;
    uint64_t len;
    if (b >= 0xd4 && b <= 0xd8) {
        header = 2;
        len = (uint64_t)1 << (b - 0xd4);
    } else {
        int width = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;
        header = 2 + (size_t)width;
        if (s_remaining (self) < header) return -1;
        len = s_be (self->pos + 1, width);
    }
    if (s_remaining (self) < header || len > s_remaining (self) - header) return -1;
    self->pos += header + len;
    return 0;
}

static int
s_skip (zaio_cursor_t *self, int depth_left)
{
    uint64_t u;
    bool flag;
    uint32_t count;
    size_t header;
    switch (zaio_cursor_peek (self)) {
        case ZAIO_MP_NIL:
            return zaio_cursor_nil (self);
        case ZAIO_MP_BOOL:
            return zaio_cursor_bool (self, &flag);
        case ZAIO_MP_UINT:
        case ZAIO_MP_INT:
            return s_integer (self, &u, &flag);
        case ZAIO_MP_FLOAT: {
            size_t width = *self->pos == 0xca ? 5 : 9;
            if (s_remaining (self) < width) return -1;
            self->pos += width;
            return 0;
        }
        case ZAIO_MP_STR:
        case ZAIO_MP_BIN:
            if (s_blob (self, &header, &u)) return -1;
            self->pos += header + u;
            return 0;
        case ZAIO_MP_EXT:
            return s_skip_ext (self);
        case ZAIO_MP_ARRAY:
        case ZAIO_MP_MAP: {
            if (depth_left <= 0) return -1;
            bool is_map = zaio_cursor_peek (self) == ZAIO_MP_MAP;
            if (s_container (self, is_map ? ZAIO_MP_MAP : ZAIO_MP_ARRAY, &count)) return -1;
            uint64_t items = is_map ? (uint64_t)count * 2 : count;
            for (uint64_t i = 0; i < items; i++)
                if (s_skip (self, depth_left - 1)) return -1;
            return 0;
        }
        default:
            return -1;
    }
}

int
zaio_cursor_skip (zaio_cursor_t *self, int max_depth)
{
    const uint8_t *saved = self->pos;
    if (s_skip (self, max_depth)) {
        self->pos = saved;
        return -1;
    }
    return 0;
}
