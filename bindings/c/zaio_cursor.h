/*  zaio_cursor.h: a strict, allocation-free msgpack reader.

    Every byte from the network is read through this class. It never
    allocates, so a five-byte input cannot ask for gigabytes; every length is
    checked against the bytes that remain; nesting is bounded; and the caller
    checks zaio_cursor_done () so trailing bytes are an error, not ignored.

    All readers return 0 on success and -1 when the next value is missing,
    truncated or of another type. After -1 the cursor is unchanged.
*/
#ifndef ZAIO_CURSOR_H_INCLUDED
#define ZAIO_CURSOR_H_INCLUDED

#include "zaio_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const uint8_t *pos;
    const uint8_t *end;
} zaio_cursor_t;

//  msgpack families as zaio_cursor_peek () reports them.
typedef enum {
    ZAIO_MP_INVALID,
    ZAIO_MP_NIL,
    ZAIO_MP_BOOL,
    ZAIO_MP_UINT,
    ZAIO_MP_INT, //  negative integers
    ZAIO_MP_FLOAT,
    ZAIO_MP_STR,
    ZAIO_MP_BIN,
    ZAIO_MP_ARRAY,
    ZAIO_MP_MAP,
    ZAIO_MP_EXT
} zaio_mp_type_t;

//  Start reading size bytes at data. The cursor borrows the bytes.
ZAIO_EXPORT void zaio_cursor_init (zaio_cursor_t *self, const void *data, size_t size);

//  True when every byte has been consumed.
ZAIO_EXPORT bool zaio_cursor_done (const zaio_cursor_t *self);

//  Family of the next value, without consuming it.
ZAIO_EXPORT zaio_mp_type_t zaio_cursor_peek (const zaio_cursor_t *self);

//  Map or array header; *count is checked to be plausible (each element
//  needs at least one byte), so callers may loop over it safely.
ZAIO_EXPORT int zaio_cursor_map (zaio_cursor_t *self, uint32_t *count);
ZAIO_EXPORT int zaio_cursor_array (zaio_cursor_t *self, uint32_t *count);

//  A str; *str points into the input and is NOT NUL-terminated.
ZAIO_EXPORT int zaio_cursor_str (zaio_cursor_t *self, const char **str, uint32_t *len);

//  A bin; *data points into the input.
ZAIO_EXPORT int zaio_cursor_bin (zaio_cursor_t *self, const uint8_t **data, uint32_t *len);

//  A str copied into buf (NUL-terminated). Fails if it holds more than
//  max_len bytes, does not fit buf, or contains a NUL byte.
ZAIO_EXPORT int zaio_cursor_str_copy (zaio_cursor_t *self, char *buf, size_t buf_size,
                                      size_t max_len);

//  An unsigned integer (any msgpack int encoding with a value >= 0).
ZAIO_EXPORT int zaio_cursor_uint (zaio_cursor_t *self, uint64_t *value);

//  A signed integer that fits int64.
ZAIO_EXPORT int zaio_cursor_int (zaio_cursor_t *self, int64_t *value);

ZAIO_EXPORT int zaio_cursor_bool (zaio_cursor_t *self, bool *value);

//  Consumes a nil if one is next; -1 (nothing consumed) otherwise.
ZAIO_EXPORT int zaio_cursor_nil (zaio_cursor_t *self);

//  Skip one value of any type, refusing nesting deeper than max_depth.
ZAIO_EXPORT int zaio_cursor_skip (zaio_cursor_t *self, int max_depth);

#ifdef __cplusplus
}
#endif

#endif
