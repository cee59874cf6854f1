/*  zaio_codec.c: the ZAIO/1 codec; see zaio_codec.h. */

#include "zaio_codec.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  The op table: one row per op drives validation, retries and routing.

//  Fields every op may carry (ordering, routing and scheduling).
#define COMMON_FIELDS                                                                              \
    (ZAIO_FIELD_VOLUME | ZAIO_FIELD_KEY | ZAIO_FIELD_BARRIER | ZAIO_FIELD_LINK |                   \
     ZAIO_FIELD_DEADLINE | ZAIO_FIELD_PRIORITY)

typedef struct {
    const char *name;
    uint32_t required;
    uint32_t optional;
    bool idempotent;
    bool takes_data;
    bool returns_data;
    bool mutates;
} s_op_spec_t;

static const s_op_spec_t s_ops[ZAIO_OP_COUNT] = {
    [ZAIO_OP_PING] = {"ping", 0, 0, true, false, false, false},
    [ZAIO_OP_HELLO] = {"hello", 0, 0, true, false, false, false},
    [ZAIO_OP_STAT] = {"stat", ZAIO_FIELD_PATH, 0, true, false, false, false},
    [ZAIO_OP_READ] = {"read", ZAIO_FIELD_PATH | ZAIO_FIELD_LENGTH, ZAIO_FIELD_OFFSET, true, false,
                      true, false},
    [ZAIO_OP_WRITE] = {"write", ZAIO_FIELD_PATH,
                       ZAIO_FIELD_OFFSET | ZAIO_FIELD_CREATE | ZAIO_FIELD_MODE, false, true, false,
                       true},
    [ZAIO_OP_APPEND] = {"append", ZAIO_FIELD_PATH, ZAIO_FIELD_CREATE | ZAIO_FIELD_MODE, false, true,
                        false, true},
    [ZAIO_OP_READFILE] = {"readfile", ZAIO_FIELD_PATH, 0, true, false, true, false},
    [ZAIO_OP_WRITEFILE] = {"writefile", ZAIO_FIELD_PATH, ZAIO_FIELD_MODE, false, true, false, true},
    [ZAIO_OP_TRUNCATE] = {"truncate", ZAIO_FIELD_PATH | ZAIO_FIELD_SIZE, 0, false, false, false,
                          true},
    [ZAIO_OP_FSYNC] = {"fsync", ZAIO_FIELD_PATH, ZAIO_FIELD_DATASYNC, false, false, false, false},
    [ZAIO_OP_UNLINK] = {"unlink", ZAIO_FIELD_PATH, 0, false, false, false, true},
    [ZAIO_OP_RENAME] = {"rename", ZAIO_FIELD_PATH | ZAIO_FIELD_TO, 0, false, false, false, true},
    [ZAIO_OP_MKDIR] = {"mkdir", ZAIO_FIELD_PATH, ZAIO_FIELD_PARENTS | ZAIO_FIELD_MODE, false, false,
                       false, true},
    [ZAIO_OP_RMDIR] = {"rmdir", ZAIO_FIELD_PATH, 0, false, false, false, true},
    [ZAIO_OP_LISTDIR] = {"listdir", ZAIO_FIELD_PATH, ZAIO_FIELD_AFTER | ZAIO_FIELD_LIMIT, true,
                         false, false, false},
    [ZAIO_OP_COPY] = {"copy", ZAIO_FIELD_PATH | ZAIO_FIELD_TO, 0, false, false, false, true},
    //  Its data are its entries (PROTOCOL.md section 3.4), not one frame.
    [ZAIO_OP_BATCH] = {"batch", 0, 0, false, false, false, false},
    //  Answered by the broker itself (PROTOCOL.md section 5.3).
    [ZAIO_OP_STATS] = {"stats", 0, ZAIO_FIELD_TOP, true, false, false, false},
};

const char *
zaio_op_name (zaio_op_t op)
{
    return (unsigned)op < ZAIO_OP_COUNT ? s_ops[op].name : NULL;
}

//  True if the len bytes at key are name. The first byte is compared
//  first: decoders look keys up in tables, and most entries differ there.
static bool
s_key_is (const char *key, size_t len, const char *name)
{
    return len > 0 && *key == *name && strlen (name) == len && memcmp (key, name, len) == 0;
}

int
zaio_op_lookup (const char *name, size_t len)
{
    for (int op = 0; op < ZAIO_OP_COUNT; op++)
        if (s_key_is (name, len, s_ops[op].name)) return op;
    return -1;
}

bool
zaio_op_idempotent (zaio_op_t op)
{
    return s_ops[op].idempotent;
}

bool
zaio_op_takes_data (zaio_op_t op)
{
    return s_ops[op].takes_data;
}

bool
zaio_op_returns_data (zaio_op_t op)
{
    return s_ops[op].returns_data;
}

bool
zaio_op_mutates (zaio_op_t op)
{
    return s_ops[op].mutates;
}

//  ---------------------------------------------------------------------
//  Error names

typedef struct {
    int code;
    const char *name;
} s_error_name_t;

#define ERRNO_ROW(e)                                                                               \
    {                                                                                              \
        e, #e                                                                                      \
    }
static const s_error_name_t s_errors[] = {
    ERRNO_ROW (EPERM),
    ERRNO_ROW (ENOENT),
    ERRNO_ROW (EIO),
    ERRNO_ROW (EBADF),
    ERRNO_ROW (EAGAIN),
    ERRNO_ROW (ENOMEM),
    ERRNO_ROW (EACCES),
    ERRNO_ROW (EBUSY),
    ERRNO_ROW (EEXIST),
    ERRNO_ROW (EXDEV),
    ERRNO_ROW (ENODEV),
    ERRNO_ROW (ENOTDIR),
    ERRNO_ROW (EISDIR),
    ERRNO_ROW (EINVAL),
    ERRNO_ROW (ENFILE),
    ERRNO_ROW (EMFILE),
    ERRNO_ROW (ETXTBSY),
    ERRNO_ROW (EFBIG),
    ERRNO_ROW (ENOSPC),
    ERRNO_ROW (ESPIPE),
    ERRNO_ROW (EROFS),
    ERRNO_ROW (EMLINK),
    ERRNO_ROW (ERANGE),
    ERRNO_ROW (ENAMETOOLONG),
    ERRNO_ROW (ENOTEMPTY),
    ERRNO_ROW (ELOOP),
    ERRNO_ROW (EOVERFLOW),
    ERRNO_ROW (ENOTSUP),
    ERRNO_ROW (ETIMEDOUT),
    ERRNO_ROW (ECANCELED),
    ERRNO_ROW (EDQUOT),
    ERRNO_ROW (ESTALE),
    ERRNO_ROW (EINTR),
    {ZAIO_ERR_BADVERSION, "BADVERSION"},
    {ZAIO_ERR_MALFORMED, "MALFORMED"},
    {ZAIO_ERR_UNKNOWN_OP, "UNKNOWN_OP"},
    {ZAIO_ERR_TOOBIG, "TOOBIG"},
    {ZAIO_ERR_QUEUE_FULL, "QUEUE_FULL"},
    {ZAIO_ERR_SHUTDOWN, "SHUTDOWN"},
    {ZAIO_ERR_NOVOLUME, "NOVOLUME"},
    {ZAIO_ERR_UNKNOWN_OUTCOME, "UNKNOWN_OUTCOME"},
    {ZAIO_ERR_INTERNAL, "INTERNAL"},
};
#define ERROR_COUNT (sizeof (s_errors) / sizeof (s_errors[0]))

const char *
zaio_error_name (int code)
{
    for (size_t i = 0; i < ERROR_COUNT; i++)
        if (s_errors[i].code == code) return s_errors[i].name;
    return code > ZAIO_ERR_BASE ? "INTERNAL" : "EIO";
}

int
zaio_error_lookup (const char *name, size_t len)
{
    for (size_t i = 0; i < ERROR_COUNT; i++)
        if (strlen (s_errors[i].name) == len && memcmp (s_errors[i].name, name, len) == 0)
            return s_errors[i].code;
    return ZAIO_ERR_INTERNAL;
}

const char *
zaio_error_text (int code)
{
    switch (code) {
        case ZAIO_OK:
            return "success";
        case ZAIO_ERR_BADVERSION:
            return "not a ZAIO/1 message";
        case ZAIO_ERR_MALFORMED:
            return "malformed message";
        case ZAIO_ERR_UNKNOWN_OP:
            return "unknown op";
        case ZAIO_ERR_TOOBIG:
            return "limit exceeded";
        case ZAIO_ERR_QUEUE_FULL:
            return "queue full, retry later";
        case ZAIO_ERR_SHUTDOWN:
            return "broker is shutting down";
        case ZAIO_ERR_NOVOLUME:
            return "no worker serves this volume";
        case ZAIO_ERR_UNKNOWN_OUTCOME:
            return "worker lost while running the job; outcome unknown";
        case ZAIO_ERR_INTERNAL:
            return "internal error";
        default:
            return strerror (code);
    }
}

//  ---------------------------------------------------------------------
//  Request fields: one table for encoding and decoding, in canonical order
//  (after "id" and "op", keys ascend bytewise).

//  S_NAME: a file name, a str when it is UTF-8, else a bin holding its raw
//  bytes (PROTOCOL.md section 5, listdir).
typedef enum { S_BOOL, S_UINT, S_STR, S_NAME } s_kind_t;

typedef struct {
    const char *name;
    zaio_field_t field;
    s_kind_t kind;
    uint64_t max;  //  highest value, or longest string in bytes
    size_t offset; //  of the member in zaio_request_t
} s_field_spec_t;

#define MEMBER(m) offsetof (zaio_request_t, m)
static const s_field_spec_t s_fields[] = {
    {"after", ZAIO_FIELD_AFTER, S_NAME, ZAIO_NAME_MAX, MEMBER (after)},
    {"barrier", ZAIO_FIELD_BARRIER, S_BOOL, 1, MEMBER (barrier)},
    {"create", ZAIO_FIELD_CREATE, S_BOOL, 1, MEMBER (create)},
    {"datasync", ZAIO_FIELD_DATASYNC, S_BOOL, 1, MEMBER (datasync)},
    {"deadline", ZAIO_FIELD_DEADLINE, S_UINT, UINT32_MAX, MEMBER (deadline_ms)},
    {"key", ZAIO_FIELD_KEY, S_STR, ZAIO_KEY_MAX, MEMBER (key)},
    {"length", ZAIO_FIELD_LENGTH, S_UINT, INT64_MAX, MEMBER (length)},
    {"limit", ZAIO_FIELD_LIMIT, S_UINT, ZAIO_LISTDIR_MAX, MEMBER (limit)},
    {"link", ZAIO_FIELD_LINK, S_BOOL, 1, MEMBER (link)},
    {"mode", ZAIO_FIELD_MODE, S_UINT, 07777, MEMBER (mode)},
    {"offset", ZAIO_FIELD_OFFSET, S_UINT, INT64_MAX, MEMBER (offset)},
    {"parents", ZAIO_FIELD_PARENTS, S_BOOL, 1, MEMBER (parents)},
    {"path", ZAIO_FIELD_PATH, S_STR, ZAIO_PATH_MAX, MEMBER (path)},
    {"priority", ZAIO_FIELD_PRIORITY, S_UINT, 255, MEMBER (priority)},
    {"size", ZAIO_FIELD_SIZE, S_UINT, INT64_MAX, MEMBER (size)},
    {"to", ZAIO_FIELD_TO, S_STR, ZAIO_PATH_MAX, MEMBER (to)},
    {"top", ZAIO_FIELD_TOP, S_UINT, ZAIO_STATS_TOP_MAX, MEMBER (top)},
    {"volume", ZAIO_FIELD_VOLUME, S_STR, ZAIO_VOLUME_MAX, MEMBER (volume)},
};
#define FIELD_COUNT (sizeof (s_fields) / sizeof (s_fields[0]))

static const s_field_spec_t *
s_field_by_bit (zaio_field_t field)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (s_fields[i].field == field) return &s_fields[i];
    return NULL;
}

static const s_field_spec_t *
s_field_by_name (const char *name, size_t len)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (s_key_is (name, len, s_fields[i].name)) return &s_fields[i];
    return NULL;
}

//  Every numeric member is uint64_t or uint32_t; which one follows from max.
static bool
s_is_wide (const s_field_spec_t *spec)
{
    return spec->max > UINT32_MAX;
}

static void
s_store_uint (zaio_request_t *req, const s_field_spec_t *spec, uint64_t value)
{
    char *member = (char *)req + spec->offset;
    if (spec->kind == S_BOOL)
        *(bool *)member = value != 0;
    else if (s_is_wide (spec))
        *(uint64_t *)member = value;
    else
        *(uint32_t *)member = (uint32_t)value;
}

static uint64_t
s_load_uint (const zaio_request_t *req, const s_field_spec_t *spec)
{
    const char *member = (const char *)req + spec->offset;
    if (spec->kind == S_BOOL) return *(const bool *)member;
    return s_is_wide (spec) ? *(const uint64_t *)member : *(const uint32_t *)member;
}

void
zaio_request_init (zaio_request_t *req, zaio_op_t op, uint64_t id)
{
    assert (req);
    assert ((unsigned)op < ZAIO_OP_COUNT);
    memset (req, 0, sizeof (*req));
    req->id = id;
    req->op = op;
    req->fields = ZAIO_FIELD_ID | ZAIO_FIELD_OP;
}

int
zaio_request_set_str (zaio_request_t *req, zaio_field_t field, const char *value)
{
    const s_field_spec_t *spec = s_field_by_bit (field);
    assert (spec && (spec->kind == S_STR || spec->kind == S_NAME));
    size_t len = strlen (value);
    if (len > spec->max) return -1;
    memcpy ((char *)req + spec->offset, value, len + 1);
    req->fields |= field;
    return 0;
}

void
zaio_request_set_uint (zaio_request_t *req, zaio_field_t field, uint64_t value)
{
    const s_field_spec_t *spec = s_field_by_bit (field);
    assert (spec && (spec->kind == S_BOOL || spec->kind == S_UINT));
    s_store_uint (req, spec, value);
    req->fields |= field;
}

//  Declared printf-like so every reason's arguments are checked, and so
//  -Wformat=2 (CMakeLists.txt) accepts the vsnprintf under clang.
static int s_fail (char *why, size_t why_size, int code, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail (char *why, size_t why_size, int code, const char *format, ...)
{
    if (why && why_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (why, why_size, format, args);
        va_end (args);
    }
    return code;
}

//  Printable copy of untrusted bytes for an error message.
static void
s_sanitize (char *out, size_t out_size, const char *in, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < out_size; i++)
        out[o++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    out[o] = 0;
}

//  A printable copy of untrusted bytes (a key, an op name) for an error's
//  reason; longer ones are cut to fit.
typedef struct {
    char text[32];
} s_quote_t;

//  Fill quote from the len bytes at bytes (s_sanitize); returns its text.
static const char *
s_quote (s_quote_t *quote, const char *bytes, size_t len)
{
    s_sanitize (quote->text, sizeof quote->text, bytes, len);
    return quote->text;
}

//  Volume names appear in event topics between dots, so they hold no dots.
static bool
s_volume_name_valid (const char *name, size_t len)
{
    if (len == 0 || len > ZAIO_VOLUME_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') return false;
    return true;
}

bool
zaio_volume_name_valid (const char *name)
{
    return s_volume_name_valid (name, strlen (name));
}

//  True if the len bytes at text are well-formed UTF-8 (RFC 3629: no
//  overlong forms, no surrogates, nothing above U+10FFFF).
static bool
s_utf8_valid (const uint8_t *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = text[i];
        size_t extra;
        uint32_t min, point;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0)
            extra = 1, min = 0x80, point = b & 0x1f;
        else if ((b & 0xf0) == 0xe0)
            extra = 2, min = 0x800, point = b & 0x0f;
        else if ((b & 0xf8) == 0xf0)
            extra = 3, min = 0x10000, point = b & 0x07;
        else
            return false;
        if (len - i <= extra) return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((text[i + k] & 0xc0) != 0x80) return false;
            point = (point << 6) | (text[i + k] & 0x3f);
        }
        if (point < min || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return false;
        i += extra + 1;
    }
    return true;
}

//  Rule 7 for every string of a request, op included: no NUL byte
//  (EINVAL), well-formed UTF-8 (MALFORMED). name is the field's, for why.
static int
s_check_str (const char *name, const char *str, uint32_t len, char *why, size_t why_size)
{
    if (memchr (str, 0, len))
        return s_fail (why, why_size, EINVAL, "field '%s' contains a NUL byte", name);
    if (!s_utf8_valid ((const uint8_t *)str, len))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "field '%s' is not valid UTF-8", name);
    return 0;
}

//  A name field sent as bin (S_NAME): raw bytes, at most spec->max of them
//  (TOOBIG), without a NUL byte (EINVAL), copied into req.
static int
s_decode_name_bin (zaio_request_t *req, const s_field_spec_t *spec, zaio_cursor_t *cursor,
                   char *why, size_t why_size)
{
    const uint8_t *bytes;
    uint32_t len;
    if (zaio_cursor_bin (cursor, &bytes, &len))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "field '%s' must be a string or bin",
                       spec->name);
    if (len > spec->max)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "field '%s' is longer than %u bytes",
                       spec->name, (unsigned)spec->max);
    if (memchr (bytes, 0, len))
        return s_fail (why, why_size, EINVAL, "field '%s' contains a NUL byte", spec->name);
    char *member = (char *)req + spec->offset;
    memcpy (member, bytes, len);
    member[len] = 0;
    return 0;
}

//  Decode one known field's value into req.
static int
s_decode_field (zaio_request_t *req, const s_field_spec_t *spec, zaio_cursor_t *cursor, char *why,
                size_t why_size)
{
    if (spec->kind == S_NAME && zaio_cursor_peek (cursor) == ZAIO_MP_BIN)
        return s_decode_name_bin (req, spec, cursor, why, why_size);
    if (spec->kind == S_STR || spec->kind == S_NAME) {
        char *member = (char *)req + spec->offset;
        const char *str;
        uint32_t len;
        if (zaio_cursor_str (cursor, &str, &len))
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "field '%s' must be a string",
                           spec->name);
        if (len > spec->max) {
            int code = spec->field == ZAIO_FIELD_PATH || spec->field == ZAIO_FIELD_TO
                           ? ENAMETOOLONG
                           : ZAIO_ERR_TOOBIG;
            return s_fail (why, why_size, code, "field '%s' is longer than %u bytes", spec->name,
                           (unsigned)spec->max);
        }
        int code = s_check_str (spec->name, str, len, why, why_size);
        if (code) return code;
        if (spec->field == ZAIO_FIELD_VOLUME && !s_volume_name_valid (str, len))
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED,
                           "volume names are 1 to %d letters, digits, '-' or '_'", ZAIO_VOLUME_MAX);
        memcpy (member, str, len);
        member[len] = 0;
        return 0;
    }
    uint64_t value;
    if (spec->kind == S_BOOL) {
        bool flag;
        if (zaio_cursor_bool (cursor, &flag))
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "field '%s' must be a boolean",
                           spec->name);
        value = flag;
    } else {
        if (zaio_cursor_uint (cursor, &value))
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED,
                           "field '%s' must be an unsigned integer", spec->name);
        if (value > spec->max)
            return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "field '%s' exceeds %llu", spec->name,
                           (unsigned long long)spec->max);
    }
    s_store_uint (req, spec, value);
    return 0;
}

const char *
zaio_request_volume (const zaio_request_t *req)
{
    return (req->fields & ZAIO_FIELD_VOLUME) ? req->volume : ZAIO_DEFAULT_VOLUME;
}

//  Zeroes the size bytes at object but for those from `from` up to `to`:
//  decoders clear their struct so, all but its string buffers, of which
//  they clear the first bytes. What lies after a string's NUL means
//  nothing, and kilobytes zeroed per message would cost more than a decode.
static void
s_clear_around (void *object, size_t size, size_t from, size_t to)
{
    memset (object, 0, from);
    memset ((char *)object + to, 0, size - to);
}

static void
s_request_clear (zaio_request_t *req)
{
    //  The string buffers lie together, path to key.
    s_clear_around (req, sizeof *req, offsetof (zaio_request_t, path),
                    offsetof (zaio_request_t, key) + sizeof req->key);
    req->path[0] = req->to[0] = req->after[0] = req->volume[0] = req->key[0] = 0;
}

//  The op a request's header names, judged only once the whole map is
//  read, so a map that names its op last is as valid as one that names it
//  first.
typedef struct {
    int op;           //  a zaio_op_t, or -1: unknown, or not named yet
    const char *name; //  as sent (borrows the input), for the error if unknown
    uint32_t len;     //  of name
} s_op_named_t;

//  Mark bit present in req, or fail MALFORMED if it already was. key and
//  key_len are the key as sent, for why.
static int
s_decode_mark (zaio_request_t *req, uint32_t bit, const char *key, uint32_t key_len, char *why,
               size_t why_size)
{
    if (req->fields & bit) {
        s_quote_t quote;
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "field '%s' appears twice",
                       s_quote (&quote, key, key_len));
    }
    req->fields |= bit;
    return 0;
}

//  The value of "id" at cursor into req. Returns 0 or MALFORMED.
static int
s_decode_id (zaio_request_t *req, zaio_cursor_t *cursor, const char *key, uint32_t key_len,
             char *why, size_t why_size)
{
    uint64_t id;
    if (zaio_cursor_uint (cursor, &id) || id == 0)
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED,
                       "'id' must be an unsigned integer above zero");
    int code = s_decode_mark (req, ZAIO_FIELD_ID, key, key_len, why, why_size);
    if (code == 0) req->id = id;
    return code;
}

//  The value of "op" at cursor into *named (it borrows the input). Only an
//  unknown name is checked against rule 7 here; a known one keeps it.
//  Returns 0 or an error.
static int
s_decode_op (zaio_request_t *req, zaio_cursor_t *cursor, s_op_named_t *named, const char *key,
             uint32_t key_len, char *why, size_t why_size)
{
    const char *name;
    uint32_t name_len;
    if (zaio_cursor_str (cursor, &name, &name_len))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "'op' must be a string");
    int code = s_decode_mark (req, ZAIO_FIELD_OP, key, key_len, why, why_size);
    if (code) return code;
    named->op = zaio_op_lookup (name, name_len);
    named->name = name;
    named->len = name_len;
    return named->op < 0 ? s_check_str ("op", name, name_len, why, why_size) : 0;
}

//  One key of a request's header map and its value, from cursor into req
//  (the op into *named). Returns 0 or an error, with why saying which.
static int
s_decode_pair (zaio_request_t *req, zaio_cursor_t *cursor, s_op_named_t *named, char *why,
               size_t why_size)
{
    const char *key;
    uint32_t key_len;
    if (zaio_cursor_str (cursor, &key, &key_len))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "header keys must be strings");
    if (s_key_is (key, key_len, "id"))
        return s_decode_id (req, cursor, key, key_len, why, why_size);
    if (s_key_is (key, key_len, "op"))
        return s_decode_op (req, cursor, named, key, key_len, why, why_size);
    const s_field_spec_t *spec = s_field_by_name (key, key_len);
    if (!spec) {
        s_quote_t quote;
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "unknown field '%s'",
                       s_quote (&quote, key, key_len));
    }
    int code = s_decode_mark (req, spec->field, key, key_len, why, why_size);
    return code ? code : s_decode_field (req, spec, cursor, why, why_size);
}

//  Once the map is read: the id and op every request has, and its op a
//  known one, which goes into req. Returns 0 or an error.
static int
s_decode_need_op (zaio_request_t *req, const s_op_named_t *named, char *why, size_t why_size)
{
    if (!(req->fields & ZAIO_FIELD_ID))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "missing field 'id'");
    if (!(req->fields & ZAIO_FIELD_OP))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "missing field 'op'");
    if (named->op < 0) {
        s_quote_t quote;
        return s_fail (why, why_size, ZAIO_ERR_UNKNOWN_OP, "unknown op '%s'",
                       s_quote (&quote, named->name, named->len));
    }
    req->op = (zaio_op_t)named->op;
    return 0;
}

//  The fields of req against its op's row of s_ops: MALFORMED for the first
//  (in s_fields order) the op needs and lacks or does not take, and for a
//  limit of 0. A batch's header takes none of the common fields: they
//  belong to its entries (PROTOCOL.md section 4, rule 5), and neither does
//  stats, which names no volume and is never queued (section 5.3). Returns
//  0 or MALFORMED.
static int
s_decode_op_fields (const zaio_request_t *req, char *why, size_t why_size)
{
    const s_op_spec_t *spec = &s_ops[req->op];
    uint32_t common = req->op == ZAIO_OP_BATCH || req->op == ZAIO_OP_STATS ? 0 : COMMON_FIELDS;
    uint32_t allowed = ZAIO_FIELD_ID | ZAIO_FIELD_OP | common | spec->required | spec->optional;
    uint32_t missing = spec->required & ~req->fields;
    uint32_t extra = req->fields & ~allowed;
    for (size_t i = 0; i < FIELD_COUNT && (missing | extra); i++) {
        if (missing & s_fields[i].field)
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "op '%s' needs field '%s'",
                           spec->name, s_fields[i].name);
        if (extra & s_fields[i].field)
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "op '%s' takes no field '%s'",
                           spec->name, s_fields[i].name);
    }
    if ((req->fields & ZAIO_FIELD_LIMIT) && req->limit == 0)
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "'limit' must be at least 1");
    return 0;
}

int
zaio_request_decode (zaio_request_t *req, const void *data, size_t size, char *why, size_t why_size)
{
    s_request_clear (req);
    if (size > ZAIO_HEADER_MAX)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "header is %zu bytes, limit %d", size,
                       ZAIO_HEADER_MAX);
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    if (zaio_cursor_map (&cursor, &count))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "header must be a msgpack map");
    s_op_named_t named = {-1, NULL, 0};
    for (uint32_t i = 0; i < count; i++) {
        int code = s_decode_pair (req, &cursor, &named, why, why_size);
        if (code) return code;
    }
    if (!zaio_cursor_done (&cursor))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "trailing bytes after the header map");
    int code = s_decode_need_op (req, &named, why, why_size);
    return code ? code : s_decode_op_fields (req, why, why_size);
}

int
zaio_request_decode_frames (zaio_request_t *req, const void *const *frames, const size_t *sizes,
                            size_t count, size_t payload_max, char *why, size_t why_size)
{
    if (count < 1 || sizes[0] != strlen (ZAIO_SIGNATURE) ||
        memcmp (frames[0], ZAIO_SIGNATURE, sizes[0]) != 0) {
        memset (req, 0, sizeof (*req));
        return s_fail (why, why_size, ZAIO_ERR_BADVERSION, "first frame must be '%s'",
                       ZAIO_SIGNATURE);
    }
    if (count < 2) {
        memset (req, 0, sizeof (*req));
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "no header frame");
    }
    int code = zaio_request_decode (req, frames[1], sizes[1], why, why_size);
    if (code) return code;
    //  A batch's frames after its entries are counted by zaio_batch_check.
    if (req->op == ZAIO_OP_BATCH)
        return count < 3 ? s_fail (why, why_size, ZAIO_ERR_MALFORMED, "batch has no entries frame")
                         : 0;
    size_t want = zaio_op_takes_data (req->op) ? 3 : 2;
    if (count != want)
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "op '%s' takes %zu frames, got %zu",
                       zaio_op_name (req->op), want, count);
    if (count == 3 && sizes[2] > payload_max)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "data frame is %zu bytes, limit %zu",
                       sizes[2], payload_max);
    if (req->op == ZAIO_OP_READ && req->length > payload_max)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "read length %llu exceeds limit %zu",
                       (unsigned long long)req->length, payload_max);
    return 0;
}

//  Frames beyond these three only matter as a count.
#define S_FRAMES_SEEN 3

int
zaio_request_decode_message (zaio_request_t *req, zmsg_t *msg, size_t payload_max, char *why,
                             size_t why_size)
{
    const void *frames[S_FRAMES_SEEN];
    size_t sizes[S_FRAMES_SEEN];
    size_t count = 0;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg), count++)
        if (count < S_FRAMES_SEEN) {
            frames[count] = zframe_data (frame);
            sizes[count] = zframe_size (frame);
        }
    return zaio_request_decode_frames (req, frames, sizes, count, payload_max, why, why_size);
}

//  ---------------------------------------------------------------------
//  Writer and pack helpers

//  Room for len more bytes; out of the way of the append path, which
//  msgpack calls for every few bytes. Returns 0, or -1 out of memory.
static int __attribute__ ((noinline)) s_writer_grow (zaio_writer_t *self, size_t len)
{
    size_t capacity = self->capacity * 2;
    while (capacity < self->size + len) capacity *= 2;
    char *grown = self->data == self->inline_buffer ? (char *)malloc (capacity)
                                                    : (char *)realloc (self->data, capacity);
    if (!grown) {
        self->failed = true;
        return -1;
    }
    if (self->data == self->inline_buffer) memcpy (grown, self->data, self->size);
    self->data = grown;
    self->capacity = capacity;
    return 0;
}

//  Room for len more bytes at the end of what was written, or NULL once
//  memory has run out (the writer has failed then).
static uint8_t *
s_writer_room (zaio_writer_t *self, size_t len)
{
    if (self->size + len > self->capacity && s_writer_grow (self, len)) return NULL;
    return (uint8_t *)self->data + self->size;
}

//  Copies a few bytes; a call to memcpy costs more than copying them.
//  From 4 to 16 bytes, two fixed-size copies that may overlap: plain moves.
static void
s_copy_small (uint8_t *to, const void *from, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)from;
    if (len > 16)
        memcpy (to, bytes, len);
    else if (len >= 8) {
        memcpy (to, bytes, 8);
        memcpy (to + len - 8, bytes + len - 8, 8);
    } else if (len >= 4) {
        memcpy (to, bytes, 4);
        memcpy (to + len - 4, bytes + len - 4, 4);
    } else
        for (size_t i = 0; i < len; i++) to[i] = bytes[i];
}

//  msgpack's packer callback: it hands over a few bytes at a time.
static int
s_writer_append (void *data, const char *bytes, size_t len)
{
    zaio_writer_t *self = (zaio_writer_t *)data;
    uint8_t *to = s_writer_room (self, len);
    if (!to) return -1;
    s_copy_small (to, bytes, len);
    self->size += len;
    return 0;
}

void
zaio_writer_init (zaio_writer_t *self)
{
    self->data = self->inline_buffer;
    self->size = 0;
    self->capacity = sizeof self->inline_buffer;
    self->failed = false;
    msgpack_packer_init (&self->packer, self, s_writer_append);
}

void
zaio_writer_reset (zaio_writer_t *self)
{
    self->size = 0;
    self->failed = false;
}

zframe_t *
zaio_writer_frame (zaio_writer_t *self)
{
    zframe_t *frame = self->failed ? NULL : zframe_new (self->data, self->size);
    zaio_writer_reset (self);
    return frame;
}

void
zaio_writer_part (zaio_writer_t *self, zmq_msg_t *part)
{
    assert (!self->failed);
    int rc = zmq_msg_init_size (part, self->size);
    assert (rc == 0);
    memcpy (zmq_msg_data (part), self->data, self->size);
    zaio_writer_reset (self);
}

void
zaio_writer_release (zaio_writer_t *self)
{
    if (self->data != self->inline_buffer) free (self->data);
    self->data = self->inline_buffer;
    self->capacity = sizeof self->inline_buffer;
    self->size = 0;
}

//  The writer a packer belongs to. Every packer is a zaio_writer_t's
//  (zaio_writer_init), so the helpers below, which build every header's
//  keys and scalars, write into it directly: through msgpack's callback
//  each key would cost two calls and each value one more.
static zaio_writer_t *
s_writer_of (msgpack_packer *pk)
{
    assert (pk->callback == s_writer_append);
    return (zaio_writer_t *)pk->data;
}

//  The most bytes s_put_str's header and s_put_uint take.
#define S_STR_HEAD_MAX 5
#define S_UINT_MAX     9

//  Encoders into room made beforehand; each returns the bytes it wrote,
//  in msgpack's shortest form, as msgpack-c writes them.
static size_t
s_put_be (uint8_t *to, uint8_t tag, uint64_t value, int width)
{
    to[0] = tag;
    for (int i = width; i > 0; i--, value >>= 8) to[i] = (uint8_t)value;
    return 1 + (size_t)width;
}

static size_t
s_put_uint (uint8_t *to, uint64_t value)
{
    if (value < 0x80) {
        to[0] = (uint8_t)value;
        return 1;
    }
    if (value <= UINT8_MAX) return s_put_be (to, 0xcc, value, 1);
    if (value <= UINT16_MAX) return s_put_be (to, 0xcd, value, 2);
    if (value <= UINT32_MAX) return s_put_be (to, 0xce, value, 4);
    return s_put_be (to, 0xcf, value, 8);
}

static size_t
s_put_str (uint8_t *to, const char *str, size_t len)
{
    size_t head;
    if (len < 32) {
        to[0] = (uint8_t)(0xa0 | len);
        head = 1;
    } else if (len <= UINT8_MAX)
        head = s_put_be (to, 0xd9, len, 1);
    else if (len <= UINT16_MAX)
        head = s_put_be (to, 0xda, len, 2);
    else
        head = s_put_be (to, 0xdb, len, 4);
    s_copy_small (to + head, str, len);
    return head + len;
}

void
zaio_pack_str (msgpack_packer *pk, const char *str)
{
    zaio_writer_t *writer = s_writer_of (pk);
    size_t len = strlen (str);
    uint8_t *to = s_writer_room (writer, S_STR_HEAD_MAX + len);
    if (to) writer->size += s_put_str (to, str, len);
}

//  Writes key with room for value_max more bytes after it; returns where
//  the value goes, or NULL once memory has run out. s_writer_end then
//  takes in what the caller wrote there.
static uint8_t *
s_key_start (zaio_writer_t *writer, const char *key, size_t value_max)
{
    size_t len = strlen (key);
    uint8_t *to = s_writer_room (writer, S_STR_HEAD_MAX + len + value_max);
    return to ? to + s_put_str (to, key, len) : NULL;
}

static void
s_writer_end (zaio_writer_t *writer, const uint8_t *end)
{
    writer->size = (size_t)(end - (const uint8_t *)writer->data);
}

void
zaio_pack_uint (msgpack_packer *pk, uint64_t value)
{
    zaio_writer_t *writer = s_writer_of (pk);
    uint8_t *to = s_writer_room (writer, S_UINT_MAX);
    if (to) writer->size += s_put_uint (to, value);
}

void
zaio_pack_key_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    zaio_writer_t *writer = s_writer_of (pk);
    uint8_t *to = s_key_start (writer, key, S_UINT_MAX);
    if (to) s_writer_end (writer, to + s_put_uint (to, value));
}

void
zaio_pack_key_int (msgpack_packer *pk, const char *key, int64_t value)
{
    if (value >= 0)
        zaio_pack_key_uint (pk, key, (uint64_t)value); //  msgpack-c's form for these
    else {
        zaio_pack_str (pk, key);
        msgpack_pack_int64 (pk, value);
    }
}

void
zaio_pack_key_bool (msgpack_packer *pk, const char *key, bool value)
{
    zaio_writer_t *writer = s_writer_of (pk);
    uint8_t *to = s_key_start (writer, key, 1);
    if (!to) return;
    *to = value ? 0xc3 : 0xc2;
    s_writer_end (writer, to + 1);
}

void
zaio_pack_key_str (msgpack_packer *pk, const char *key, const char *value)
{
    zaio_writer_t *writer = s_writer_of (pk);
    size_t len = strlen (value);
    uint8_t *to = s_key_start (writer, key, S_STR_HEAD_MAX + len);
    if (to) s_writer_end (writer, to + s_put_str (to, value, len));
}

//  key, then name as a str if it is well-formed UTF-8, else as a bin of its
//  raw bytes (PROTOCOL.md section 5, listdir).
static void
s_pack_key_name (msgpack_packer *pk, const char *key, const char *name)
{
    size_t len = strlen (name);
    if (s_utf8_valid ((const uint8_t *)name, len))
        zaio_pack_key_str (pk, key, name);
    else {
        zaio_pack_str (pk, key);
        msgpack_pack_bin (pk, len);
        msgpack_pack_bin_body (pk, name, len);
    }
}

void
zaio_request_pack (msgpack_packer *pk, const zaio_request_t *req)
{
    uint32_t count = 2;
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (req->fields & s_fields[i].field) count++;
    msgpack_pack_map (pk, count);
    zaio_pack_key_uint (pk, "id", req->id);
    zaio_pack_key_str (pk, "op", zaio_op_name (req->op));
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        const s_field_spec_t *spec = &s_fields[i];
        if (!(req->fields & spec->field)) continue;
        if (spec->kind == S_STR)
            zaio_pack_key_str (pk, spec->name, (const char *)req + spec->offset);
        else if (spec->kind == S_NAME)
            s_pack_key_name (pk, spec->name, (const char *)req + spec->offset);
        else if (spec->kind == S_BOOL)
            zaio_pack_key_bool (pk, spec->name, s_load_uint (req, spec) != 0);
        else
            zaio_pack_key_uint (pk, spec->name, s_load_uint (req, spec));
    }
}

zframe_t *
zaio_request_encode (const zaio_request_t *req)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_request_pack (&writer.packer, req);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

//  ---------------------------------------------------------------------
//  Replies

void
zaio_reply_pack_ok (msgpack_packer *pk, uint64_t id, uint32_t result_count)
{
    msgpack_pack_map (pk, 2 + result_count);
    zaio_pack_key_uint (pk, "id", id);
    zaio_pack_key_bool (pk, "ok", true);
}

void
zaio_reply_pack_error (msgpack_packer *pk, uint64_t id, int code, const char *message)
{
    msgpack_pack_map (pk, 4);
    zaio_pack_key_uint (pk, "id", id);
    zaio_pack_key_bool (pk, "ok", false);
    zaio_pack_key_str (pk, "error", zaio_error_name (code));
    zaio_pack_key_str (pk, "message", message ? message : zaio_error_text (code));
}

void
zaio_reply_error_part (zmq_msg_t *part, uint64_t id, int code, const char *message)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_reply_pack_error (&writer.packer, id, code, message);
    zaio_writer_part (&writer, part);
    zaio_writer_release (&writer);
}

//  Reply header keys: one table drives zaio_reply_decode, as s_fields
//  drives zaio_request_decode. Keys not in it are results a later broker
//  added, and are skipped.

typedef enum {
    S_RESULT_UINT,    //  uint64_t member, or uint32_t where max fits one
    S_RESULT_INT,     //  int64_t member
    S_RESULT_BOOL,    //  bool member
    S_RESULT_TEXT,    //  char[max + 1] member: the str as sent
    S_RESULT_ERROR,   //  int member: the code the error name stands for
    S_RESULT_MESSAGE, //  char[max + 1] member: the str made printable, cut to fit
    S_RESULT_SLICE,   //  a container left encoded: pointer member, then its size_t size
} s_result_kind_t;

typedef struct {
    const char *name;
    uint32_t bit; //  presence: ZAIO_RESULT_*, S_SEEN_ID or S_SEEN_OK, or 0
    s_result_kind_t kind;
    uint64_t max;  //  UINT: highest value; TEXT, MESSAGE: longest text; SLICE: deepest nesting
    size_t offset; //  of the member in zaio_reply_t
} s_result_spec_t;

//  The two keys every reply has, beside the ZAIO_RESULT_* bits while a
//  header is read; never left in zaio_reply_t.present.
#define S_SEEN_ID   (1u << 30)
#define S_SEEN_OK   (1u << 31)
#define S_SEEN_BOTH (S_SEEN_ID | S_SEEN_OK)

#define RESULT_AT(m)   offsetof (zaio_reply_t, m)
#define RESULT_ROOM(m) (sizeof (((zaio_reply_t *)0)->m) - 1)
static const s_result_spec_t s_results[] = {
    {"id", S_SEEN_ID, S_RESULT_UINT, UINT64_MAX, RESULT_AT (id)},
    {"ok", S_SEEN_OK, S_RESULT_BOOL, 1, RESULT_AT (ok)},
    {"error", 0, S_RESULT_ERROR, 0, RESULT_AT (error)},
    {"message", 0, S_RESULT_MESSAGE, RESULT_ROOM (message), RESULT_AT (message)},
    {"bytes", ZAIO_RESULT_BYTES, S_RESULT_UINT, UINT64_MAX, RESULT_AT (bytes)},
    {"offset", ZAIO_RESULT_OFFSET, S_RESULT_UINT, UINT64_MAX, RESULT_AT (offset)},
    {"size", ZAIO_RESULT_SIZE, S_RESULT_UINT, UINT64_MAX, RESULT_AT (size)},
    {"mode", ZAIO_RESULT_MODE, S_RESULT_UINT, UINT32_MAX, RESULT_AT (mode)},
    {"mtime_ns", ZAIO_RESULT_MTIME, S_RESULT_INT, 0, RESULT_AT (mtime_ns)},
    {"eof", ZAIO_RESULT_EOF, S_RESULT_BOOL, 1, RESULT_AT (eof)},
    {"more", ZAIO_RESULT_MORE, S_RESULT_BOOL, 1, RESULT_AT (more)},
    {"type", ZAIO_RESULT_TYPE, S_RESULT_TEXT, RESULT_ROOM (type), RESULT_AT (type)},
    {"entries", ZAIO_RESULT_ENTRIES, S_RESULT_SLICE, 2, RESULT_AT (entries)},
};
#define RESULT_COUNT (sizeof (s_results) / sizeof (s_results[0]))

_Static_assert(RESULT_AT (entries_size) == RESULT_AT (entries) + sizeof (const uint8_t *),
               "a slice's size member follows its pointer");

static const s_result_spec_t *
s_result_by_name (const char *name, size_t len)
{
    for (size_t i = 0; i < RESULT_COUNT; i++)
        if (s_key_is (name, len, s_results[i].name)) return &s_results[i];
    return NULL;
}

//  Decode the value at cursor into spec's member of reply. A slice
//  borrows the input. Returns 0, or -1 if the value is missing, of another
//  type or past spec's max.
static int
s_decode_result (zaio_reply_t *reply, const s_result_spec_t *spec, zaio_cursor_t *cursor)
{
    char *member = (char *)reply + spec->offset;
    const uint8_t *start = cursor->pos;
    const char *str;
    uint32_t len;
    uint64_t value;
    switch (spec->kind) {
        case S_RESULT_UINT:
            if (zaio_cursor_uint (cursor, &value) || value > spec->max) return -1;
            if (spec->max > UINT32_MAX)
                *(uint64_t *)member = value;
            else
                *(uint32_t *)member = (uint32_t)value;
            return 0;
        case S_RESULT_INT:
            return zaio_cursor_int (cursor, (int64_t *)member);
        case S_RESULT_BOOL:
            return zaio_cursor_bool (cursor, (bool *)member);
        case S_RESULT_TEXT:
            return zaio_cursor_str_copy (cursor, member, spec->max + 1, spec->max);
        case S_RESULT_ERROR:
            if (zaio_cursor_str (cursor, &str, &len)) return -1;
            *(int *)member = zaio_error_lookup (str, len);
            return 0;
        case S_RESULT_MESSAGE:
            if (zaio_cursor_str (cursor, &str, &len)) return -1;
            s_sanitize (member, spec->max + 1, str, len);
            return 0;
        case S_RESULT_SLICE:
            if (zaio_cursor_skip (cursor, (int)spec->max)) return -1;
            *(const uint8_t **)member = start;
            *(size_t *)(member + sizeof (const uint8_t *)) = (size_t)(cursor->pos - start);
            return 0;
    }
    return -1;
}

int
zaio_reply_decode (zaio_reply_t *reply, const void *data, size_t size, char *why, size_t why_size)
{
    s_clear_around (reply, sizeof *reply, offsetof (zaio_reply_t, message),
                    offsetof (zaio_reply_t, message) + sizeof reply->message);
    reply->message[0] = 0;
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    if (zaio_cursor_map (&cursor, &count))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "reply header must be a map");
    uint32_t seen = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (&cursor, &key, &len))
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "reply keys must be strings");
        const s_result_spec_t *spec = s_result_by_name (key, len);
        int rc = spec ? s_decode_result (reply, spec, &cursor)
                      : zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX - 1);
        if (rc) {
            s_quote_t quote;
            return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "reply field '%s' is malformed",
                           s_quote (&quote, key, len));
        }
        seen |= spec ? spec->bit : 0;
    }
    if (!zaio_cursor_done (&cursor))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "trailing bytes after reply header");
    if ((seen & S_SEEN_BOTH) != S_SEEN_BOTH)
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "reply lacks 'id' or 'ok'");
    reply->present = seen & ~S_SEEN_BOTH;
    if (!reply->ok && reply->error == 0) reply->error = ZAIO_ERR_INTERNAL;
    reply->hello = (const uint8_t *)data;
    reply->hello_size = size;
    return 0;
}

//  ---------------------------------------------------------------------
//  Listdir entries

void
zaio_dirent_pack (msgpack_packer *pk, const zaio_dirent_t *entry)
{
    msgpack_pack_map (pk, 4);
    zaio_pack_key_int (pk, "mtime_ns", entry->mtime_ns);
    s_pack_key_name (pk, "name", entry->name);
    zaio_pack_key_uint (pk, "size", entry->size);
    zaio_pack_key_str (pk, "type", entry->type);
}

//  An entry's name, a str or a bin (PROTOCOL.md section 5: a name that is
//  not UTF-8 comes as a bin of its raw bytes), into entry: at most
//  ZAIO_NAME_MAX bytes, no NUL. name_bin says whether the bytes are not
//  UTF-8, however they came (a broker before bin names sent them as str).
//  Returns 0 or -1.
static int
s_dirent_name (zaio_dirent_t *entry, zaio_cursor_t *cursor)
{
    const char *name;
    uint32_t len;
    if (zaio_cursor_str (cursor, &name, &len) &&
        zaio_cursor_bin (cursor, (const uint8_t **)&name, &len))
        return -1;
    if (len > ZAIO_NAME_MAX || memchr (name, 0, len)) return -1;
    memcpy (entry->name, name, len);
    entry->name[len] = 0;
    entry->name_bin = !s_utf8_valid ((const uint8_t *)name, len);
    return 0;
}

//  Decode the entry map at cursor into entry, which the caller zeroed;
//  unknown keys are skipped. Returns 0, or -1 if the map is malformed.
static int
s_dirent_decode (zaio_dirent_t *entry, zaio_cursor_t *cursor)
{
    uint32_t fields;
    if (zaio_cursor_map (cursor, &fields)) return -1;
    for (uint32_t i = 0; i < fields; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (cursor, &key, &len)) return -1;
        int rc;
        if (s_key_is (key, len, "name"))
            rc = s_dirent_name (entry, cursor);
        else if (s_key_is (key, len, "type"))
            rc = zaio_cursor_str_copy (cursor, entry->type, sizeof entry->type,
                                       sizeof entry->type - 1);
        else if (s_key_is (key, len, "size"))
            rc = zaio_cursor_uint (cursor, &entry->size);
        else if (s_key_is (key, len, "mtime_ns"))
            rc = zaio_cursor_int (cursor, &entry->mtime_ns);
        else
            rc = zaio_cursor_skip (cursor, 1);
        if (rc) return -1;
    }
    return 0;
}

int
zaio_dirents_decode (const void *data, size_t size, zaio_dirent_t **entries_p, size_t *count_p)
{
    *entries_p = NULL;
    *count_p = 0;
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    //  The spec bounds a page; the reply's size alone would let a broker
    //  have us allocate gigabytes.
    if (zaio_cursor_array (&cursor, &count) || count > ZAIO_LISTDIR_MAX) return ZAIO_ERR_MALFORMED;
    zaio_dirent_t *entries = (zaio_dirent_t *)calloc (count ? count : 1, sizeof (zaio_dirent_t));
    if (!entries) return ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < count; i++) rc = s_dirent_decode (&entries[i], &cursor);
    if (rc || !zaio_cursor_done (&cursor)) {
        free (entries);
        return ZAIO_ERR_MALFORMED;
    }
    *entries_p = entries;
    *count_p = count;
    return 0;
}

//  ---------------------------------------------------------------------
//  Batches (PROTOCOL.md section 3.4)

//  The most bytes a msgpack array or bin header takes.
#define S_HEAD_MAX 5

//  Writes a msgpack header of one of the families in shortest form: tags
//  are the fix form's (or 0 if none), 8-, 16- and 32-bit forms' (0 if
//  none). Returns the bytes written.
static size_t
s_put_head (uint8_t *to, uint8_t fix, uint8_t fix_max, uint8_t tag8, uint8_t tag16, uint8_t tag32,
            uint32_t value)
{
    if (fix && value <= fix_max) {
        to[0] = (uint8_t)(fix | value);
        return 1;
    }
    if (tag8 && value <= UINT8_MAX) return s_put_be (to, tag8, value, 1);
    if (value <= UINT16_MAX) return s_put_be (to, tag16, value, 2);
    return s_put_be (to, tag32, value, 4);
}

void
zaio_batch_writer_init (zaio_batch_writer_t *self)
{
    zaio_writer_init (&self->elements);
    self->count = 0;
    self->data_count = 0;
}

void
zaio_batch_writer_reset (zaio_batch_writer_t *self)
{
    zaio_writer_reset (&self->elements);
    self->count = 0;
    self->data_count = 0;
}

void
zaio_batch_writer_release (zaio_batch_writer_t *self)
{
    zaio_writer_release (&self->elements);
    self->count = 0;
    self->data_count = 0;
}

int
zaio_batch_writer_add (zaio_batch_writer_t *self, const void *header, size_t size, bool has_data)
{
    assert (header || size == 0);
    if (self->elements.failed || size > UINT32_MAX || self->count == UINT32_MAX) return -1;
    uint8_t *to = s_writer_room (&self->elements, 1 + S_HEAD_MAX + size + 1);
    if (!to) return -1;
    size_t at = 0;
    to[at++] = 0x92; //  [header, data]
    at += s_put_head (to + at, 0, 0, 0xc4, 0xc5, 0xc6, (uint32_t)size);
    if (size) memcpy (to + at, header, size);
    at += size;
    to[at++] = has_data ? 0xc3 : 0xc2;
    self->elements.size += at;
    self->count++;
    self->data_count += has_data;
    return 0;
}

size_t
zaio_batch_writer_size (const zaio_batch_writer_t *self)
{
    uint8_t head[S_HEAD_MAX];
    return s_put_head (head, 0x90, 15, 0, 0xdc, 0xdd, self->count) + self->elements.size;
}

//  The entries frame's bytes into to, which has zaio_batch_writer_size ()
//  bytes of room; the writer is reset.
static void
s_batch_writer_take (zaio_batch_writer_t *self, uint8_t *to)
{
    size_t at = s_put_head (to, 0x90, 15, 0, 0xdc, 0xdd, self->count);
    memcpy (to + at, self->elements.data, self->elements.size);
    zaio_batch_writer_reset (self);
}

void
zaio_batch_writer_part (zaio_batch_writer_t *self, zmq_msg_t *part)
{
    assert (!self->elements.failed && self->count > 0);
    int rc = zmq_msg_init_size (part, zaio_batch_writer_size (self));
    assert (rc == 0);
    s_batch_writer_take (self, (uint8_t *)zmq_msg_data (part));
}

zframe_t *
zaio_batch_writer_frame (zaio_batch_writer_t *self)
{
    zframe_t *frame = NULL;
    if (!self->elements.failed && self->count > 0)
        frame = zframe_new (NULL, zaio_batch_writer_size (self));
    if (frame)
        s_batch_writer_take (self, zframe_data (frame));
    else
        zaio_batch_writer_reset (self);
    return frame;
}

bool
zaio_batch_is (const void *data, size_t size)
{
    if (size == 0) return false;
    uint8_t first = *(const uint8_t *)data;
    return (first & 0xf0) == 0x90 || first == 0xdc || first == 0xdd;
}

int
zaio_batch_cursor_init (zaio_batch_cursor_t *self, const void *data, size_t size,
                        uint32_t batch_max, uint32_t *count_p, char *why, size_t why_size)
{
    zaio_cursor_init (&self->cursor, data, size);
    self->count = self->left = 0;
    *count_p = 0;
    uint32_t count;
    if (zaio_cursor_array (&self->cursor, &count))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "batch entries must be a msgpack array");
    if (count == 0) return s_fail (why, why_size, ZAIO_ERR_MALFORMED, "batch has no entries");
    if (count > batch_max)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "batch has %u entries, limit %u", count,
                       batch_max);
    self->count = self->left = count;
    *count_p = count;
    return 0;
}

int
zaio_batch_cursor_next (zaio_batch_cursor_t *self, const uint8_t **header_p, size_t *size_p,
                        bool *has_data_p, char *why, size_t why_size)
{
    if (self->left == 0)
        return zaio_cursor_done (&self->cursor)
                   ? 1
                   : s_fail (why, why_size, ZAIO_ERR_MALFORMED, "trailing bytes after the batch");
    zaio_cursor_t at = self->cursor;
    uint32_t pair;
    const uint8_t *header;
    uint32_t size;
    bool has_data;
    if (zaio_cursor_array (&at, &pair) || pair != 2 || zaio_cursor_bin (&at, &header, &size) ||
        zaio_cursor_bool (&at, &has_data))
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED,
                       "batch entry %u is not a [bin, bool] pair",
                       (unsigned)(self->count - self->left));
    self->cursor = at;
    self->left--;
    *header_p = header;
    *size_p = size;
    *has_data_p = has_data;
    return 0;
}

int
zaio_batch_check (const void *data, size_t size, size_t data_frames, uint32_t batch_max,
                  size_t bytes_max, uint32_t *count_p, char *why, size_t why_size)
{
    *count_p = 0;
    if (size > bytes_max)
        return s_fail (why, why_size, ZAIO_ERR_TOOBIG, "batch entries are %zu bytes, limit %zu",
                       size, bytes_max);
    zaio_batch_cursor_t cursor;
    uint32_t count;
    int code = zaio_batch_cursor_init (&cursor, data, size, batch_max, &count, why, why_size);
    size_t flagged = 0;
    const uint8_t *header;
    size_t header_size;
    bool has_data;
    while (code == 0 && (code = zaio_batch_cursor_next (&cursor, &header, &header_size, &has_data,
                                                        why, why_size)) == 0)
        flagged += has_data;
    if (code != 1) return code;
    if (flagged != data_frames)
        return s_fail (why, why_size, ZAIO_ERR_MALFORMED,
                       "batch flags %zu data frames, message has %zu", flagged, data_frames);
    *count_p = count;
    return 0;
}

//  ---------------------------------------------------------------------
//  Hello

//  The limits map, keys in canonical (ascending) order: one table for
//  zaio_hello_pack and zaio_hello_decode.
typedef struct {
    const char *name;
    size_t offset; //  of the uint64_t member in zaio_hello_t
} s_limit_spec_t;

#define LIMIT(m)                                                                                   \
    {                                                                                              \
#m, offsetof(zaio_hello_t, m)                                                              \
    }
static const s_limit_spec_t s_limits[] = {
    LIMIT (batch_bytes_max), LIMIT (batch_max), LIMIT (header_max),  LIMIT (inflight_max),
    LIMIT (listdir_max),     LIMIT (path_max),  LIMIT (payload_max), LIMIT (queue_bytes_max),
    LIMIT (queue_max),       LIMIT (reply_hwm),
};
#define LIMIT_COUNT (sizeof (s_limits) / sizeof (s_limits[0]))

//  qsort's order for pointers to hello volumes: by name, bytewise.
static int
s_volume_compare (const void *a, const void *b)
{
    const zaio_hello_volume_t *x = *(const zaio_hello_volume_t *const *)a;
    const zaio_hello_volume_t *y = *(const zaio_hello_volume_t *const *)b;
    return strcmp (x->name, y->name);
}

void
zaio_hello_pack (msgpack_packer *pk, uint64_t id, const zaio_hello_t *hello)
{
    assert (hello);
    assert (hello->volume_count <= ZAIO_HELLO_VOLUMES_MAX);
    zaio_reply_pack_ok (pk, id, hello->warning[0] ? 6 : 5);
    //  The batch limits only from a broker that has them (it lists batch).
    bool batch_limits = hello->batch_max != 0;
    zaio_pack_str (pk, "limits");
    msgpack_pack_map (pk, LIMIT_COUNT - (batch_limits ? 0 : 2));
    for (size_t i = batch_limits ? 0 : 2; i < LIMIT_COUNT; i++)
        zaio_pack_key_uint (pk, s_limits[i].name,
                            *(const uint64_t *)((const char *)hello + s_limits[i].offset));
    uint32_t op_count = 0;
    for (int op = 0; op < ZAIO_OP_COUNT; op++) op_count += (hello->ops >> op) & 1;
    zaio_pack_str (pk, "ops");
    msgpack_pack_array (pk, op_count);
    for (int op = 0; op < ZAIO_OP_COUNT; op++)
        if (hello->ops & (1u << op)) zaio_pack_str (pk, zaio_op_name ((zaio_op_t)op));
    zaio_pack_key_uint (pk, "protocol", hello->protocol);
    zaio_pack_key_str (pk, "version", hello->version);
    //  By name, so the bytes do not depend on the order the caller found
    //  its volumes in.
    const zaio_hello_volume_t *order[ZAIO_HELLO_VOLUMES_MAX];
    for (uint32_t i = 0; i < hello->volume_count; i++) order[i] = &hello->volumes[i];
    qsort (order, hello->volume_count, sizeof order[0], s_volume_compare);
    zaio_pack_str (pk, "volumes");
    msgpack_pack_array (pk, hello->volume_count);
    for (uint32_t i = 0; i < hello->volume_count; i++) {
        msgpack_pack_map (pk, 3);
        zaio_pack_key_str (pk, "name", order[i]->name);
        zaio_pack_key_bool (pk, "readonly", order[i]->readonly);
        zaio_pack_key_uint (pk, "workers", order[i]->workers);
    }
    if (hello->warning[0]) zaio_pack_key_str (pk, "warning", hello->warning);
}

//  The readers of hello's results: each reads one value at cursor into
//  hello and returns 0, or -1 if it is malformed.

//  Limits of another type than uint, or with names this client does not
//  know, are skipped.
static int
s_hello_limits (zaio_hello_t *hello, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_map (cursor, &count)) return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *name;
        uint32_t len;
        uint64_t value;
        if (zaio_cursor_str (cursor, &name, &len)) return -1;
        if (zaio_cursor_peek (cursor) != ZAIO_MP_UINT) {
            if (zaio_cursor_skip (cursor, 1)) return -1;
            continue;
        }
        if (zaio_cursor_uint (cursor, &value)) return -1;
        for (size_t l = 0; l < LIMIT_COUNT; l++)
            if (s_key_is (name, len, s_limits[l].name))
                *(uint64_t *)((char *)hello + s_limits[l].offset) = value;
    }
    return 0;
}

//  Op names this client does not know are skipped.
static int
s_hello_ops (zaio_hello_t *hello, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_array (cursor, &count)) return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *name;
        uint32_t len;
        if (zaio_cursor_str (cursor, &name, &len)) return -1;
        int op = zaio_op_lookup (name, len);
        if (op >= 0) hello->ops |= 1u << op;
    }
    return 0;
}

//  A version too long for hello->version is cut to fit.
//  A str result into buffer (of size bytes), cut to fit.
static int
s_hello_text (char *buffer, size_t size, zaio_cursor_t *cursor)
{
    const char *text;
    uint32_t len;
    if (zaio_cursor_str (cursor, &text, &len)) return -1;
    size_t n = len < size - 1 ? len : size - 1;
    memcpy (buffer, text, n);
    buffer[n] = 0;
    return 0;
}

//  Volumes past ZAIO_HELLO_VOLUMES_MAX are read and dropped, as are
//  volume fields this client does not know.
static int
s_hello_volumes (zaio_hello_t *hello, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_array (cursor, &count)) return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t fields;
        if (zaio_cursor_map (cursor, &fields)) return -1;
        zaio_hello_volume_t *volume = hello->volume_count < ZAIO_HELLO_VOLUMES_MAX
                                          ? &hello->volumes[hello->volume_count++]
                                          : NULL;
        for (uint32_t f = 0; f < fields; f++) {
            const char *key;
            uint32_t len;
            uint64_t workers = 0;
            if (zaio_cursor_str (cursor, &key, &len)) return -1;
            int rc;
            if (volume && s_key_is (key, len, "name"))
                rc = zaio_cursor_str_copy (cursor, volume->name, sizeof volume->name,
                                           ZAIO_VOLUME_MAX);
            else if (volume && s_key_is (key, len, "readonly"))
                rc = zaio_cursor_bool (cursor, &volume->readonly);
            else if (volume && s_key_is (key, len, "workers")) {
                rc = zaio_cursor_uint (cursor, &workers) || workers > UINT32_MAX;
                volume->workers = (uint32_t)workers;
            } else
                rc = zaio_cursor_skip (cursor, 1);
            if (rc) return -1;
        }
    }
    return 0;
}

int
zaio_hello_decode (zaio_hello_t *hello, const void *data, size_t size)
{
    assert (hello);
    memset (hello, 0, sizeof (*hello));
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    if (zaio_cursor_map (&cursor, &count)) return ZAIO_ERR_MALFORMED;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (&cursor, &key, &len)) return ZAIO_ERR_MALFORMED;
        uint64_t protocol = 0;
        int rc;
        if (s_key_is (key, len, "limits"))
            rc = s_hello_limits (hello, &cursor);
        else if (s_key_is (key, len, "ops"))
            rc = s_hello_ops (hello, &cursor);
        else if (s_key_is (key, len, "protocol")) {
            rc = zaio_cursor_uint (&cursor, &protocol) || protocol > UINT32_MAX;
            hello->protocol = (uint32_t)protocol;
        } else if (s_key_is (key, len, "version"))
            rc = s_hello_text (hello->version, sizeof hello->version, &cursor);
        else if (s_key_is (key, len, "volumes"))
            rc = s_hello_volumes (hello, &cursor);
        else if (s_key_is (key, len, "warning"))
            rc = s_hello_text (hello->warning, sizeof hello->warning, &cursor);
        else
            rc = zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX - 1); //  id, ok, later results
        if (rc) return ZAIO_ERR_MALFORMED;
    }
    return zaio_cursor_done (&cursor) ? 0 : ZAIO_ERR_MALFORMED;
}

//  ---------------------------------------------------------------------
//  The stats reply

//  How a field of a stats reply is read into its struct.
typedef enum {
    S_STAT_UINT,    //  uint64_t
    S_STAT_INT,     //  int64_t
    S_STAT_BOOL,    //  bool
    S_STAT_TEXT,    //  char[size], a str cut to fit
    S_STAT_BUCKETS, //  uint64_t[ZAIO_STATS_REPORT_BUCKETS], an array of exactly that many
    S_STAT_NAMES,   //  char[size], an array of str joined with commas, cut to fit
} s_stat_kind_t;

typedef struct {
    const char *name;
    s_stat_kind_t kind;
    size_t offset;
    size_t size; //  S_STAT_TEXT, S_STAT_NAMES: of the buffer
} s_stat_field_t;

//  A str at cursor into buffer (size bytes), cut to fit, made printable.
static int
s_stat_text (char *buffer, size_t size, zaio_cursor_t *cursor)
{
    const char *str;
    uint32_t len;
    if (zaio_cursor_str (cursor, &str, &len)) return -1;
    s_sanitize (buffer, size, str, len);
    return 0;
}

static int
s_stat_value (void *object, const s_stat_field_t *field, zaio_cursor_t *cursor)
{
    char *member = (char *)object + field->offset;
    uint32_t count;
    switch (field->kind) {
        case S_STAT_UINT:
            return zaio_cursor_uint (cursor, (uint64_t *)member);
        case S_STAT_INT:
            return zaio_cursor_int (cursor, (int64_t *)member);
        case S_STAT_BOOL:
            return zaio_cursor_bool (cursor, (bool *)member);
        case S_STAT_TEXT:
            return s_stat_text (member, field->size, cursor);
        case S_STAT_BUCKETS:
            if (zaio_cursor_array (cursor, &count) || count != ZAIO_STATS_REPORT_BUCKETS) return -1;
            for (uint32_t i = 0; i < count; i++)
                if (zaio_cursor_uint (cursor, (uint64_t *)member + i)) return -1;
            return 0;
        case S_STAT_NAMES:
            if (zaio_cursor_array (cursor, &count)) return -1;
            member[0] = 0;
            for (uint32_t i = 0; i < count; i++) {
                char name[ZAIO_VOLUME_MAX + 1];
                if (s_stat_text (name, sizeof name, cursor)) return -1;
                size_t used = strlen (member);
                if (used + 2 < field->size)
                    snprintf (member + used, field->size - used, "%s%s", i ? "," : "", name);
            }
            return 0;
    }
    return -1;
}

//  A map at cursor into object by fields (count of them); unknown keys are
//  skipped, nested at most depth deep. Returns 0 or -1.
static int
s_stat_map (void *object, const s_stat_field_t *fields, size_t field_count, zaio_cursor_t *cursor,
            int depth)
{
    uint32_t count;
    if (zaio_cursor_map (cursor, &count)) return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (cursor, &key, &len)) return -1;
        const s_stat_field_t *field = NULL;
        for (size_t f = 0; f < field_count && !field; f++)
            if (s_key_is (key, len, fields[f].name)) field = &fields[f];
        if (field ? s_stat_value (object, field, cursor) : zaio_cursor_skip (cursor, depth))
            return -1;
    }
    return 0;
}

#define S_STAT(type, kind, member)                                                                 \
    {                                                                                              \
#member, kind, offsetof(type, member), sizeof(((type *)0)->member)                         \
    }

static const s_stat_field_t s_stat_gauges[] = {
    S_STAT (zaio_stats_report_t, S_STAT_UINT, clients),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, held_bytes),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, held_replies),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, inflight),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, queued),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, queued_bytes),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, running),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, subscriptions),
    S_STAT (zaio_stats_report_t, S_STAT_UINT, workers),
};
static const s_stat_field_t s_stat_row[] = {
    S_STAT (zaio_stats_report_row_t, S_STAT_UINT, bytes),
    S_STAT (zaio_stats_report_row_t, S_STAT_UINT, jobs),
    S_STAT (zaio_stats_report_row_t, S_STAT_TEXT, op),
    S_STAT (zaio_stats_report_row_t, S_STAT_TEXT, outcome),
    S_STAT (zaio_stats_report_row_t, S_STAT_TEXT, volume),
};
static const s_stat_field_t s_stat_latency[] = {
    S_STAT (zaio_stats_report_latency_t, S_STAT_UINT, count),
    S_STAT (zaio_stats_report_latency_t, S_STAT_TEXT, op),
    S_STAT (zaio_stats_report_latency_t, S_STAT_BUCKETS, queue),
    S_STAT (zaio_stats_report_latency_t, S_STAT_UINT, queue_sum_us),
    S_STAT (zaio_stats_report_latency_t, S_STAT_BUCKETS, service),
    S_STAT (zaio_stats_report_latency_t, S_STAT_UINT, service_sum_us),
};
static const s_stat_field_t s_stat_volume[] = {
    S_STAT (zaio_stats_report_volume_t, S_STAT_UINT, capacity),
    S_STAT (zaio_stats_report_volume_t, S_STAT_UINT, credit),
    S_STAT (zaio_stats_report_volume_t, S_STAT_TEXT, name),
    S_STAT (zaio_stats_report_volume_t, S_STAT_UINT, queued),
    S_STAT (zaio_stats_report_volume_t, S_STAT_UINT, running),
    S_STAT (zaio_stats_report_volume_t, S_STAT_UINT, workers),
};
static const s_stat_field_t s_stat_worker[] = {
    S_STAT (zaio_stats_report_worker_t, S_STAT_UINT, capacity),
    S_STAT (zaio_stats_report_worker_t, S_STAT_UINT, credit),
    S_STAT (zaio_stats_report_worker_t, S_STAT_UINT, jobs),
    S_STAT (zaio_stats_report_worker_t, S_STAT_TEXT, name),
    S_STAT (zaio_stats_report_worker_t, S_STAT_BOOL, remote),
    S_STAT (zaio_stats_report_worker_t, S_STAT_UINT, running),
    S_STAT (zaio_stats_report_worker_t, S_STAT_NAMES, volumes),
};
static const s_stat_field_t s_stat_client[] = {
    S_STAT (zaio_stats_report_client_t, S_STAT_UINT, bytes),
    S_STAT (zaio_stats_report_client_t, S_STAT_TEXT, client),
    S_STAT (zaio_stats_report_client_t, S_STAT_UINT, errors),
    S_STAT (zaio_stats_report_client_t, S_STAT_UINT, jobs),
};
#define S_COUNT(table) (sizeof (table) / sizeof ((table)[0]))

//  One of a report's lists: an array of maps, each read by fields into
//  elements of element_size bytes, allocated here (*array_p, *count_p).
//  More than max is malformed. Returns 0, -1 or ENOMEM.
static int
s_stat_list (void **array_p, size_t *count_p, size_t element_size, size_t max,
             const s_stat_field_t *fields, size_t field_count, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_array (cursor, &count) || count > max || *array_p) return -1;
    char *array = (char *)calloc (count ? count : 1, element_size);
    if (!array) return ENOMEM;
    *array_p = array;
    *count_p = count;
    for (uint32_t i = 0; i < count; i++)
        if (s_stat_map (array + i * element_size, fields, field_count, cursor, 1)) return -1;
    return 0;
}

static int
s_stat_bounds (zaio_stats_report_t *report, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_array (cursor, &count) || count > ZAIO_STATS_REPORT_BOUNDS) return -1;
    report->bound_count = count;
    for (uint32_t i = 0; i < count; i++)
        if (zaio_cursor_uint (cursor, &report->bounds_us[i])) return -1;
    return 0;
}

//  One key of the reply at cursor into report. Returns 0, -1 or ENOMEM.
static int
s_stat_key (zaio_stats_report_t *report, const char *key, uint32_t len, zaio_cursor_t *cursor)
{
    if (s_key_is (key, len, "gauges"))
        return s_stat_map (report, s_stat_gauges, S_COUNT (s_stat_gauges), cursor, 2);
    if (s_key_is (key, len, "jobs"))
        return s_stat_list ((void **)&report->rows, &report->row_count, sizeof (*report->rows),
                            ZAIO_STATS_REPORT_ROWS_MAX, s_stat_row, S_COUNT (s_stat_row), cursor);
    if (s_key_is (key, len, "latency"))
        return s_stat_list ((void **)&report->latency, &report->latency_count,
                            sizeof (*report->latency), ZAIO_STATS_REPORT_LIST_MAX, s_stat_latency,
                            S_COUNT (s_stat_latency), cursor);
    if (s_key_is (key, len, "latency_bounds_us")) return s_stat_bounds (report, cursor);
    if (s_key_is (key, len, "time_ns")) return zaio_cursor_int (cursor, &report->time_ns);
    if (s_key_is (key, len, "top_clients"))
        return s_stat_list ((void **)&report->clients_top, &report->client_count,
                            sizeof (*report->clients_top), ZAIO_STATS_REPORT_LIST_MAX,
                            s_stat_client, S_COUNT (s_stat_client), cursor);
    if (s_key_is (key, len, "uptime_ms")) return zaio_cursor_uint (cursor, &report->uptime_ms);
    if (s_key_is (key, len, "version"))
        return s_stat_text (report->version, sizeof report->version, cursor);
    if (s_key_is (key, len, "volumes"))
        return s_stat_list ((void **)&report->volumes, &report->volume_count,
                            sizeof (*report->volumes), ZAIO_STATS_REPORT_LIST_MAX, s_stat_volume,
                            S_COUNT (s_stat_volume), cursor);
    if (s_key_is (key, len, "workers"))
        return s_stat_list ((void **)&report->worker_list, &report->worker_count,
                            sizeof (*report->worker_list), ZAIO_STATS_REPORT_LIST_MAX,
                            s_stat_worker, S_COUNT (s_stat_worker), cursor);
    return zaio_cursor_skip (cursor, ZAIO_DEPTH_MAX - 1); //  id, ok, later results
}

int
zaio_stats_report_decode (zaio_stats_report_t **report_p, const void *data, size_t size)
{
    assert (report_p);
    *report_p = NULL;
    zaio_stats_report_t *report = (zaio_stats_report_t *)calloc (1, sizeof (zaio_stats_report_t));
    if (!report) return ENOMEM;
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count = 0;
    int rc = zaio_cursor_map (&cursor, &count);
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        const char *key;
        uint32_t len;
        rc = zaio_cursor_str (&cursor, &key, &len);
        if (rc == 0) rc = s_stat_key (report, key, len, &cursor);
    }
    if (rc == 0 && !zaio_cursor_done (&cursor)) rc = -1;
    if (rc) {
        zaio_stats_report_destroy (&report);
        return rc == ENOMEM ? ENOMEM : ZAIO_ERR_MALFORMED;
    }
    *report_p = report;
    return 0;
}

void
zaio_stats_report_destroy (zaio_stats_report_t **report_p)
{
    assert (report_p);
    zaio_stats_report_t *report = *report_p;
    if (report) {
        free (report->rows);
        free (report->latency);
        free (report->volumes);
        free (report->worker_list);
        free (report->clients_top);
        free (report);
        *report_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Events

void
zaio_event_topic (const zaio_event_t *event, char *buf, size_t buf_size)
{
    zaio_topic_format (event->error, event->op, event->volume, buf, buf_size);
}

void
zaio_topic_format (int error, zaio_op_t op, const char *volume, char *buf, size_t buf_size)
{
    snprintf (buf, buf_size, "%s.%s.%s", error ? "err" : "ok", zaio_op_name (op), volume);
}

zframe_t *
zaio_event_encode (const zaio_event_t *event)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_packer *pk = &writer.packer;
    msgpack_pack_map (pk, event->error ? 13 : 12);
    zaio_pack_key_uint (pk, "bytes", event->bytes);
    zaio_pack_key_str (pk, "client", event->client);
    if (event->error) zaio_pack_key_str (pk, "error", zaio_error_name (event->error));
    zaio_pack_key_uint (pk, "id", event->id);
    zaio_pack_key_str (pk, "op", zaio_op_name (event->op));
    zaio_pack_key_str (pk, "outcome", event->error ? "err" : "ok");
    zaio_pack_key_str (pk, "path", event->path);
    zaio_pack_key_uint (pk, "queue_us", event->queue_us);
    zaio_pack_key_uint (pk, "seq", event->seq);
    zaio_pack_key_uint (pk, "service_us", event->service_us);
    zaio_pack_key_int (pk, "time_us", event->time_us);
    zaio_pack_key_str (pk, "volume", event->volume);
    zaio_pack_key_str (pk, "worker", event->worker);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

//  The keys every event has, as bits of what s_event_field saw.
#define S_EVENT_SEQ (1u << 0)
#define S_EVENT_OP  (1u << 1)

//  An event's "op" at cursor into event: a known op's name. Returns 0, or
//  -1 for anything else.
static int
s_event_op (zaio_event_t *event, zaio_cursor_t *cursor)
{
    const char *name;
    uint32_t len;
    int op = zaio_cursor_str (cursor, &name, &len) ? -1 : zaio_op_lookup (name, len);
    if (op < 0) return -1;
    event->op = (zaio_op_t)op;
    return 0;
}

//  An event's "error" at cursor into event: the code its name stands for.
//  Returns 0, or -1 if it is not a string.
static int
s_event_error (zaio_event_t *event, zaio_cursor_t *cursor)
{
    const char *name;
    uint32_t len;
    if (zaio_cursor_str (cursor, &name, &len)) return -1;
    event->error = zaio_error_lookup (name, len);
    return 0;
}

//  The value of the event key key (len bytes) at cursor into event; adds
//  S_EVENT_SEQ or S_EVENT_OP to *seen. A key it does not know (outcome,
//  and later additions) is skipped. Returns 0, or -1 if the value is
//  malformed.
static int
s_event_field (zaio_event_t *event, const char *key, uint32_t len, zaio_cursor_t *cursor,
               uint32_t *seen)
{
    if (s_key_is (key, len, "seq")) {
        *seen |= S_EVENT_SEQ;
        return zaio_cursor_uint (cursor, &event->seq);
    }
    if (s_key_is (key, len, "id")) return zaio_cursor_uint (cursor, &event->id);
    if (s_key_is (key, len, "bytes")) return zaio_cursor_uint (cursor, &event->bytes);
    if (s_key_is (key, len, "queue_us")) return zaio_cursor_uint (cursor, &event->queue_us);
    if (s_key_is (key, len, "service_us")) return zaio_cursor_uint (cursor, &event->service_us);
    if (s_key_is (key, len, "time_us")) return zaio_cursor_int (cursor, &event->time_us);
    if (s_key_is (key, len, "client"))
        return zaio_cursor_str_copy (cursor, event->client, sizeof event->client,
                                     sizeof event->client - 1);
    if (s_key_is (key, len, "path"))
        return zaio_cursor_str_copy (cursor, event->path, sizeof event->path, ZAIO_PATH_MAX);
    if (s_key_is (key, len, "volume"))
        return zaio_cursor_str_copy (cursor, event->volume, sizeof event->volume, ZAIO_VOLUME_MAX);
    if (s_key_is (key, len, "worker"))
        return zaio_cursor_str_copy (cursor, event->worker, sizeof event->worker,
                                     sizeof event->worker - 1);
    if (s_key_is (key, len, "op")) {
        if (s_event_op (event, cursor)) return -1;
        *seen |= S_EVENT_OP;
        return 0;
    }
    if (s_key_is (key, len, "error")) return s_event_error (event, cursor);
    return zaio_cursor_skip (cursor, ZAIO_DEPTH_MAX - 1);
}

int
zaio_event_decode (zaio_event_t *event, const void *data, size_t size)
{
    memset (event, 0, sizeof (*event));
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    if (zaio_cursor_map (&cursor, &count)) return ZAIO_ERR_MALFORMED;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (&cursor, &key, &len) ||
            s_event_field (event, key, len, &cursor, &seen))
            return ZAIO_ERR_MALFORMED;
    }
    bool whole = (seen & (S_EVENT_SEQ | S_EVENT_OP)) == (S_EVENT_SEQ | S_EVENT_OP);
    return zaio_cursor_done (&cursor) && whole ? 0 : ZAIO_ERR_MALFORMED;
}
