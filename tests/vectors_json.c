/*  vectors_json.c: strict JSON reader for the golden vectors; see
    vectors_json.h for the contract. Recursive descent over the text, one
    allocation per node, bounded depth.
*/

#include "vectors_json.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _zaio_json_t {
    zaio_json_type_t type;
    bool boolean;
    bool negative;
    uint64_t magnitude;
    char *string;        //  ZAIO_JSON_STRING: bytes, NUL-terminated
    size_t length;       //  ZAIO_JSON_STRING: bytes, without the NUL
    zaio_json_t **items; //  ZAIO_JSON_ARRAY and _OBJECT: members
    zaio_json_t **keys;  //  ZAIO_JSON_OBJECT: a string node per member
    size_t count;
    size_t capacity;
};

typedef struct {
    const char *start;
    const char *pos;
    const char *end;
    char *why;
    size_t why_size;
} s_parser_t;

static zaio_json_t *s_value (s_parser_t *self, int depth);

//  Records a reason with the byte offset it applies to; returns NULL so
//  callers can write `return s_error (...)`.
static zaio_json_t *s_error (s_parser_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static zaio_json_t *
s_error (s_parser_t *self, const char *format, ...)
{
    if (self->why && self->why_size) {
        int used =
            snprintf (self->why, self->why_size, "offset %zu: ", (size_t)(self->pos - self->start));
        if (used >= 0 && (size_t)used < self->why_size) {
            va_list args;
            va_start (args, format);
            vsnprintf (self->why + used, self->why_size - (size_t)used, format, args);
            va_end (args);
        }
    }
    return NULL;
}

static zaio_json_t *
s_node_new (zaio_json_type_t type)
{
    zaio_json_t *self = (zaio_json_t *)calloc (1, sizeof (zaio_json_t));
    assert (self);
    self->type = type;
    return self;
}

void
zaio_json_destroy (zaio_json_t **self_p)
{
    assert (self_p);
    zaio_json_t *self = *self_p;
    if (!self) return;
    for (size_t i = 0; i < self->count; i++) {
        zaio_json_destroy (&self->items[i]);
        if (self->keys) zaio_json_destroy (&self->keys[i]);
    }
    free (self->items);
    free (self->keys);
    free (self->string);
    free (self);
    *self_p = NULL;
}

//  Appends item (and key, for objects); the container takes both.
static void
s_append (zaio_json_t *self, zaio_json_t *key, zaio_json_t *item)
{
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 4;
        self->items = (zaio_json_t **)realloc (self->items, self->capacity * sizeof (item));
        assert (self->items);
        if (self->type == ZAIO_JSON_OBJECT) {
            self->keys = (zaio_json_t **)realloc (self->keys, self->capacity * sizeof (key));
            assert (self->keys);
        }
    }
    if (self->type == ZAIO_JSON_OBJECT) self->keys[self->count] = key;
    self->items[self->count++] = item;
}

static void
s_skip_space (s_parser_t *self)
{
    while (self->pos < self->end &&
           (*self->pos == ' ' || *self->pos == '\t' || *self->pos == '\n' || *self->pos == '\r'))
        self->pos++;
}

static bool
s_accept (s_parser_t *self, char c)
{
    if (self->pos < self->end && *self->pos == c) {
        self->pos++;
        return true;
    }
    return false;
}

//  Value of a hex digit, or -1.
static int
s_hex_digit (char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

//  Reads the four hex digits of a \u escape (pos is after the 'u').
static int
s_read_u16 (s_parser_t *self, uint32_t *unit)
{
    if (self->end - self->pos < 4) return -1;
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = s_hex_digit (self->pos[i]);
        if (digit < 0) return -1;
        value = (value << 4) | (uint32_t)digit;
    }
    self->pos += 4;
    *unit = value;
    return 0;
}

//  Writes code point cp as UTF-8 at out; returns the bytes written.
static size_t
s_put_utf8 (char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

//  Length of the well-formed UTF-8 sequence at p (at most left bytes),
//  or 0 if it is not one (overlong forms and surrogates included).
static size_t
s_utf8_length (const uint8_t *p, size_t left)
{
    uint8_t b = p[0];
    size_t length;
    uint8_t low = 0x80, high = 0xbf; //  range of the second byte
    if (b < 0x80) return 1;
    if (b >= 0xc2 && b <= 0xdf)
        length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        length = 3;
        if (b == 0xe0) low = 0xa0;
        if (b == 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        length = 4;
        if (b == 0xf0) low = 0x90;
        if (b == 0xf4) high = 0x8f;
    } else
        return 0;
    if (left < length || p[1] < low || p[1] > high) return 0;
    for (size_t i = 2; i < length; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return length;
}

//  A string; pos is on the opening quote.
static zaio_json_t *
s_string (s_parser_t *self)
{
    if (!s_accept (self, '"')) return s_error (self, "expected a string");
    //  The decoded text is never longer than its source, so the source
    //  span bounds the buffer.
    const char *scan = self->pos;
    while (scan < self->end && *scan != '"') scan += *scan == '\\' && self->end - scan > 1 ? 2 : 1;
    if (scan >= self->end) return s_error (self, "unterminated string");
    char *text = (char *)malloc ((size_t)(scan - self->pos) + 1);
    assert (text);
    size_t length = 0;
    while (*self->pos != '"') {
        uint8_t c = (uint8_t)*self->pos;
        if (c < 0x20) {
            free (text);
            return s_error (self, "control character in string");
        }
        if (c != '\\') {
            size_t width =
                s_utf8_length ((const uint8_t *)self->pos, (size_t)(self->end - self->pos));
            if (width == 0) {
                free (text);
                return s_error (self, "invalid UTF-8 in string");
            }
            memcpy (text + length, self->pos, width);
            length += width;
            self->pos += width;
            continue;
        }
        self->pos++;
        char escape = *self->pos++;
        const char *simple = strchr ("\"\\/bfnrt", escape);
        if (escape && simple) {
            text[length++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        uint32_t unit, low;
        if (escape != 'u' || s_read_u16 (self, &unit)) {
            free (text);
            return s_error (self, "bad escape in string");
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) {
            free (text);
            return s_error (self, "lone low surrogate in string");
        }
        if (unit >= 0xd800 && unit <= 0xdbff) {
            if (!s_accept (self, '\\') || !s_accept (self, 'u') || s_read_u16 (self, &low) ||
                low < 0xdc00 || low > 0xdfff) {
                free (text);
                return s_error (self, "high surrogate without its low half");
            }
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        }
        length += s_put_utf8 (text + length, unit);
    }
    self->pos++; //  closing quote
    text[length] = 0;
    zaio_json_t *node = s_node_new (ZAIO_JSON_STRING);
    node->string = text;
    node->length = length;
    return node;
}

//  An integer; pos is on '-' or a digit.
static zaio_json_t *
s_number (s_parser_t *self)
{
    bool negative = s_accept (self, '-');
    if (self->pos == self->end || *self->pos < '0' || *self->pos > '9')
        return s_error (self, "expected a digit");
    if (*self->pos == '0' && self->end - self->pos > 1 && self->pos[1] >= '0' &&
        self->pos[1] <= '9')
        return s_error (self, "leading zero in number");
    uint64_t limit = negative ? (uint64_t)1 << 63 : UINT64_MAX;
    uint64_t value = 0;
    while (self->pos < self->end && *self->pos >= '0' && *self->pos <= '9') {
        uint64_t digit = (uint64_t)(*self->pos - '0');
        if (value > (limit - digit) / 10) return s_error (self, "integer out of range");
        value = value * 10 + digit;
        self->pos++;
    }
    if (self->pos < self->end && (*self->pos == '.' || *self->pos == 'e' || *self->pos == 'E'))
        return s_error (self, "only integers are supported");
    zaio_json_t *node = s_node_new (ZAIO_JSON_INT);
    node->negative = negative && value != 0;
    node->magnitude = value;
    return node;
}

//  true, false or null.
static zaio_json_t *
s_literal (s_parser_t *self)
{
    static const struct {
        const char *word;
        zaio_json_type_t type;
        bool value;
    } literals[] = {
        {"true", ZAIO_JSON_BOOL, true},
        {"false", ZAIO_JSON_BOOL, false},
        {"null", ZAIO_JSON_NULL, false},
    };
    for (size_t i = 0; i < sizeof (literals) / sizeof (literals[0]); i++) {
        size_t len = strlen (literals[i].word);
        if ((size_t)(self->end - self->pos) >= len &&
            memcmp (self->pos, literals[i].word, len) == 0) {
            self->pos += len;
            zaio_json_t *node = s_node_new (literals[i].type);
            node->boolean = literals[i].value;
            return node;
        }
    }
    return s_error (self, "unexpected character");
}

static zaio_json_t *
s_array (s_parser_t *self, int depth)
{
    self->pos++; //  '['
    zaio_json_t *node = s_node_new (ZAIO_JSON_ARRAY);
    s_skip_space (self);
    if (s_accept (self, ']')) return node;
    while (true) {
        zaio_json_t *item = s_value (self, depth + 1);
        if (!item) break;
        s_append (node, NULL, item);
        s_skip_space (self);
        if (s_accept (self, ']')) return node;
        if (!s_accept (self, ',')) {
            s_error (self, "expected ',' or ']'");
            break;
        }
    }
    zaio_json_destroy (&node);
    return NULL;
}

static bool
s_has_key (const zaio_json_t *self, const zaio_json_t *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->keys[i]->length == key->length &&
            memcmp (self->keys[i]->string, key->string, key->length) == 0)
            return true;
    return false;
}

static zaio_json_t *
s_object (s_parser_t *self, int depth)
{
    self->pos++; //  '{'
    zaio_json_t *node = s_node_new (ZAIO_JSON_OBJECT);
    s_skip_space (self);
    if (s_accept (self, '}')) return node;
    while (true) {
        const char *key_pos = self->pos;
        zaio_json_t *key = s_string (self);
        if (!key) break;
        if (s_has_key (node, key)) {
            self->pos = key_pos;
            s_error (self, "duplicate key '%s'", key->string);
            zaio_json_destroy (&key);
            break;
        }
        s_skip_space (self);
        zaio_json_t *item =
            s_accept (self, ':') ? s_value (self, depth + 1) : s_error (self, "expected ':'");
        if (!item) {
            zaio_json_destroy (&key);
            break;
        }
        s_append (node, key, item);
        s_skip_space (self);
        if (s_accept (self, '}')) return node;
        if (!s_accept (self, ',')) {
            s_error (self, "expected ',' or '}'");
            break;
        }
        s_skip_space (self);
    }
    zaio_json_destroy (&node);
    return NULL;
}

//  Any value, after optional white space.
static zaio_json_t *
s_value (s_parser_t *self, int depth)
{
    s_skip_space (self);
    if (self->pos == self->end) return s_error (self, "unexpected end of text");
    char c = *self->pos;
    if (c == '[' || c == '{') {
        if (depth >= ZAIO_JSON_DEPTH_MAX) return s_error (self, "nested too deeply");
        return c == '[' ? s_array (self, depth) : s_object (self, depth);
    }
    if (c == '"') return s_string (self);
    if (c == '-' || (c >= '0' && c <= '9')) return s_number (self);
    return s_literal (self);
}

zaio_json_t *
zaio_json_parse (const char *text, size_t size, char *why, size_t why_size)
{
    assert (text || size == 0);
    s_parser_t parser = {text, text, text + size, why, why_size};
    zaio_json_t *root = s_value (&parser, 0);
    if (!root) return NULL;
    s_skip_space (&parser);
    if (parser.pos != parser.end) {
        s_error (&parser, "trailing characters after the value");
        zaio_json_destroy (&root);
    }
    return root;
}

zaio_json_t *
zaio_json_load (const char *filename, char *why, size_t why_size)
{
    assert (filename);
    FILE *file = fopen (filename, "rb");
    if (!file) {
        if (why && why_size) snprintf (why, why_size, "cannot open %s", filename);
        return NULL;
    }
    size_t size = 0, capacity = 4096;
    char *text = (char *)malloc (capacity);
    assert (text);
    size_t got;
    while ((got = fread (text + size, 1, capacity - size, file)) > 0) {
        size += got;
        if (size == capacity) {
            capacity *= 2;
            text = (char *)realloc (text, capacity);
            assert (text);
        }
    }
    bool failed = ferror (file) != 0;
    fclose (file);
    zaio_json_t *root = NULL;
    if (failed) {
        if (why && why_size) snprintf (why, why_size, "cannot read %s", filename);
    } else
        root = zaio_json_parse (text, size, why, why_size);
    free (text);
    return root;
}

zaio_json_type_t
zaio_json_type (const zaio_json_t *self)
{
    assert (self);
    return self->type;
}

bool
zaio_json_bool (const zaio_json_t *self)
{
    return self && self->type == ZAIO_JSON_BOOL && self->boolean;
}

bool
zaio_json_negative (const zaio_json_t *self)
{
    return self && self->type == ZAIO_JSON_INT && self->negative;
}

uint64_t
zaio_json_magnitude (const zaio_json_t *self)
{
    return self && self->type == ZAIO_JSON_INT ? self->magnitude : 0;
}

int
zaio_json_uint (const zaio_json_t *self, uint64_t *value)
{
    if (!self || self->type != ZAIO_JSON_INT || self->negative) return -1;
    *value = self->magnitude;
    return 0;
}

int
zaio_json_int (const zaio_json_t *self, int64_t *value)
{
    if (!self || self->type != ZAIO_JSON_INT) return -1;
    if (self->negative) {
        //  -2^63 has no positive int64 twin; negate in unsigned arithmetic.
        *value = (int64_t)(0 - self->magnitude);
        return 0;
    }
    if (self->magnitude > (uint64_t)INT64_MAX) return -1;
    *value = (int64_t)self->magnitude;
    return 0;
}

const char *
zaio_json_string (const zaio_json_t *self, size_t *len)
{
    if (!self || self->type != ZAIO_JSON_STRING) return NULL;
    if (len) *len = self->length;
    return self->string;
}

bool
zaio_json_streq (const zaio_json_t *self, const char *text)
{
    assert (text);
    return self && self->type == ZAIO_JSON_STRING && self->length == strlen (text) &&
           memcmp (self->string, text, self->length) == 0;
}

size_t
zaio_json_size (const zaio_json_t *self)
{
    if (!self || (self->type != ZAIO_JSON_ARRAY && self->type != ZAIO_JSON_OBJECT)) return 0;
    return self->count;
}

zaio_json_t *
zaio_json_at (const zaio_json_t *self, size_t index)
{
    return index < zaio_json_size (self) ? self->items[index] : NULL;
}

const char *
zaio_json_key_at (const zaio_json_t *self, size_t index, size_t *len)
{
    if (!self || self->type != ZAIO_JSON_OBJECT || index >= self->count) return NULL;
    return zaio_json_string (self->keys[index], len);
}

zaio_json_t *
zaio_json_get (const zaio_json_t *self, const char *key)
{
    assert (key);
    if (!self || self->type != ZAIO_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (zaio_json_streq (self->keys[i], key)) return self->items[i];
    return NULL;
}

uint8_t *
zaio_json_hex (const zaio_json_t *self, size_t *size)
{
    size_t len;
    const char *text = zaio_json_string (self, &len);
    if (!text || len % 2) return NULL;
    uint8_t *bytes = (uint8_t *)malloc (len / 2 + 1);
    assert (bytes);
    for (size_t i = 0; i < len / 2; i++) {
        int high = s_hex_digit (text[2 * i]);
        int low = s_hex_digit (text[2 * i + 1]);
        if (high < 0 || low < 0) {
            free (bytes);
            return NULL;
        }
        bytes[i] = (uint8_t)(high << 4 | low);
    }
    *size = len / 2;
    return bytes;
}

uint8_t *
zaio_json_bin (const zaio_json_t *self, size_t *size)
{
    size_t len;
    const char *key = self->type == ZAIO_JSON_OBJECT && self->count == 1
                          ? zaio_json_key_at (self, 0, &len)
                          : NULL;
    if (!key || len != 4 || memcmp (key, "$bin", 4) != 0) return NULL;
    return zaio_json_hex (self->items[0], size);
}

//  ---------------------------------------------------------------------
//  Writing msgpack

size_t
zaio_json_canonical_order (const zaio_json_t *object, const char *const *first, size_t first_count,
                           size_t *order)
{
    size_t n = 0;
    size_t size = zaio_json_size (object);
    for (size_t f = 0; f < first_count; f++)
        for (size_t index = 0; index < size; index++)
            if (strcmp (zaio_json_key_at (object, index, NULL), first[f]) == 0) order[n++] = index;
    size_t head = n;
    for (size_t index = 0; index < size; index++) {
        const char *key = zaio_json_key_at (object, index, NULL);
        bool is_first = false;
        for (size_t f = 0; f < first_count; f++) is_first |= strcmp (key, first[f]) == 0;
        if (is_first) continue;
        //  Insertion sort by bytes; keys hold no NUL, so strcmp is bytewise.
        size_t at = n++;
        while (at > head && strcmp (zaio_json_key_at (object, order[at - 1], NULL), key) > 0) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = index;
    }
    return n;
}

static void
s_pack_str (msgpack_packer *pk, const char *str, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, str, len);
}

void
zaio_json_pack (msgpack_packer *pk, const zaio_json_t *self, zaio_json_order_t order)
{
    assert (pk && self);
    size_t len;
    const char *str;
    switch (self->type) {
        case ZAIO_JSON_NULL:
            msgpack_pack_nil (pk);
            break;
        case ZAIO_JSON_BOOL:
            if (self->boolean)
                msgpack_pack_true (pk);
            else
                msgpack_pack_false (pk);
            break;
        case ZAIO_JSON_INT:
            if (self->negative) {
                //  The reader keeps negatives within int64.
                int64_t value;
                int rc = zaio_json_int (self, &value);
                assert (rc == 0);
                msgpack_pack_int64 (pk, value);
            } else
                msgpack_pack_uint64 (pk, self->magnitude);
            break;
        case ZAIO_JSON_STRING:
            s_pack_str (pk, self->string, self->length);
            break;
        case ZAIO_JSON_ARRAY:
            msgpack_pack_array (pk, self->count);
            for (size_t i = 0; i < self->count; i++) zaio_json_pack (pk, self->items[i], order);
            break;
        case ZAIO_JSON_OBJECT: {
            uint8_t *bin = zaio_json_bin (self, &len);
            if (bin) {
                msgpack_pack_bin (pk, len);
                msgpack_pack_bin_body (pk, bin, len);
                free (bin);
                break;
            }
            size_t *members = (size_t *)calloc (self->count + 1, sizeof (size_t));
            assert (members);
            if (order == ZAIO_JSON_PACK_CANONICAL)
                zaio_json_canonical_order (self, NULL, 0, members);
            else
                for (size_t i = 0; i < self->count; i++) members[i] = i;
            msgpack_pack_map (pk, self->count);
            for (size_t i = 0; i < self->count; i++) {
                str = zaio_json_key_at (self, members[i], &len);
                s_pack_str (pk, str, len);
                zaio_json_pack (pk, self->items[members[i]], order);
            }
            free (members);
            break;
        }
    }
}
