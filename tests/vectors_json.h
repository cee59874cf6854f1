/*  vectors_json.h: a small strict JSON reader for the golden vectors.

    Test code only. It reads what the files in schemas/vectors/ hold: objects,
    arrays, strings (with \u escapes, surrogate pairs included), true,
    false, null and integers. Integers are kept exact from -2^63 to 2^64-1
    as a sign flag and a magnitude; fractions and exponents are refused, as
    are trailing commas, leading zeros, duplicate keys, raw control
    characters, invalid UTF-8, lone surrogates and anything after the root
    value. The result is a tiny tree (zaio_json_t) the caller destroys.

    Object members keep their order in the text. Strings are NUL-terminated
    for convenience but may hold NUL bytes (\u0000); use the length.

    zaio_json_pack writes a tree as msgpack, for tests that build their
    input from JSON (test_codec) or encode a vector the way the golden
    files are encoded (test_vectors).
*/
#ifndef ZAIO_VECTORS_JSON_H_INCLUDED
#define ZAIO_VECTORS_JSON_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZAIO_JSON_NULL,
    ZAIO_JSON_BOOL,
    ZAIO_JSON_INT,
    ZAIO_JSON_STRING,
    ZAIO_JSON_ARRAY,
    ZAIO_JSON_OBJECT
} zaio_json_type_t;

//  Deepest nesting of arrays and objects the reader accepts.
#define ZAIO_JSON_DEPTH_MAX 64

typedef struct _zaio_json_t zaio_json_t;

//  Parse size bytes of text. Returns a new tree the caller destroys, or
//  NULL with a reason (and byte offset) in why.
zaio_json_t *zaio_json_parse (const char *text, size_t size, char *why, size_t why_size);

//  Read and parse a whole file. NULL with a reason in why on failure.
zaio_json_t *zaio_json_load (const char *filename, char *why, size_t why_size);

//  Destroy a tree and null the caller's pointer. Idempotent.
void zaio_json_destroy (zaio_json_t **self_p);

zaio_json_type_t zaio_json_type (const zaio_json_t *self);

//  Value of a bool; false for any other type.
bool zaio_json_bool (const zaio_json_t *self);

//  An integer: the magnitude and whether it is negative (a negative zero
//  is read as zero). False / 0 for any other type.
bool zaio_json_negative (const zaio_json_t *self);
uint64_t zaio_json_magnitude (const zaio_json_t *self);

//  An integer as uint64; -1 if not an integer or negative.
int zaio_json_uint (const zaio_json_t *self, uint64_t *value);

//  An integer as int64; -1 if not an integer or out of range.
int zaio_json_int (const zaio_json_t *self, int64_t *value);

//  A string's bytes (NUL-terminated, owned by the tree) and length in
//  *len if len is not NULL; NULL for any other type.
const char *zaio_json_string (const zaio_json_t *self, size_t *len);

//  True if self is a string equal to the C string text.
bool zaio_json_streq (const zaio_json_t *self, const char *text);

//  Members of an array or object; 0 for any other type.
size_t zaio_json_size (const zaio_json_t *self);

//  Member index of an array or object (borrowed); NULL past the end.
zaio_json_t *zaio_json_at (const zaio_json_t *self, size_t index);

//  Key of object member index (borrowed, NUL-terminated); NULL past the
//  end or if self is not an object.
const char *zaio_json_key_at (const zaio_json_t *self, size_t index, size_t *len);

//  Object member named key (borrowed); NULL if absent or not an object.
zaio_json_t *zaio_json_get (const zaio_json_t *self, const char *key);

//  Bytes of a string of hex digits, in a new buffer the caller frees (one
//  spare byte, so an empty result is still a valid pointer). NULL if self
//  is not a string of an even number of hex digits.
uint8_t *zaio_json_hex (const zaio_json_t *self, size_t *size);

//  Bytes of a msgpack bin as the vectors write one, {"$bin": HEX}
//  (PROTOCOL.md section 13), in a new buffer the caller frees; NULL if
//  self is not such an object.
uint8_t *zaio_json_bin (const zaio_json_t *self, size_t *size);

//  The order zaio_json_pack writes an object's members in.
typedef enum {
    ZAIO_JSON_PACK_WRITTEN,  //  as in the text: decoders must take any order
    ZAIO_JSON_PACK_CANONICAL //  keys ascending bytewise, as schemas/vectors/ are
} zaio_json_order_t;

//  Pack self with plain msgpack_pack_* calls: nil, true or false, the
//  shortest integer (signed only if negative), str for strings, bin for
//  {"$bin": HEX}, arrays, and maps with their members in the order asked.
void zaio_json_pack (msgpack_packer *pk, const zaio_json_t *self, zaio_json_order_t order);

//  Members of an object in canonical order: the keys named in first (those
//  present), then the others ascending bytewise. Fills order (room for
//  every member) with member indexes; returns how many.
size_t zaio_json_canonical_order (const zaio_json_t *object, const char *const *first,
                                  size_t first_count, size_t *order);

#ifdef __cplusplus
}
#endif

#endif
