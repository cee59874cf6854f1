/*  test_vectors.c: the C codec against the golden vectors.

    For every vector in schemas/vectors/ (their meaning is written in
    scripts/gen-vectors.py):

    * request: the frames decode to exactly the header's fields, and the
      header built from the JSON meaning with the zaio_request_* setters
      encodes to exactly frame 1;
    * reply: the header decodes to the JSON's scalars, listdir entries and
      hello map, and the same reply packed with zaio_reply_pack_* (nested
      parts with msgpack_pack_*) is byte for byte frame 1; listdir entries
      and hello results also decode through zaio_dirents_decode and
      zaio_hello_decode to the JSON and pack back with zaio_dirent_pack and
      zaio_hello_pack to exactly the bytes they came from;
    * event: the body decodes to the JSON, re-encodes to the same bytes,
      and its topic is the vector's topic;
    * invalid_request: the frames are refused with exactly the named error.

    One named case per kind (and one for the JSON reader the vectors are
    read with); a case prints one line per vector it checks and fails after
    reporting every mismatch it found.
*/

#include "codec_compare.h"
#include "testutil.h"
#include "vectors_json.h"
#include "zaio_codec.h"

#include <dirent.h>

#ifndef ZAIO_SOURCE_DIR
#error "ZAIO_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

#define VECTORS_DIR ZAIO_SOURCE_DIR "/schemas/vectors"
#define FILES_MAX   64

static const char *s_vector = ""; //  name of the vector being checked
static int s_failures = 0;

//  Reports a failed expectation and carries on, so one run lists them all.
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "test_vectors: %s: FAIL (line %d): ", s_vector, __LINE__);            \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fprintf (stderr, "\n");                                                                \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

//  ---------------------------------------------------------------------
//  Frames and generic comparison

//  The vector's frames as a message; NULL if they are not hex strings.
static zmsg_t *
s_frames (const zaio_json_t *vector)
{
    const zaio_json_t *frames = zaio_json_get (vector, "frames");
    if (!frames || zaio_json_type (frames) != ZAIO_JSON_ARRAY) return NULL;
    zmsg_t *msg = zmsg_new ();
    assert (msg);
    for (size_t i = 0; i < zaio_json_size (frames); i++) {
        size_t size;
        uint8_t *bytes = zaio_json_hex (zaio_json_at (frames, i), &size);
        if (!bytes) {
            zmsg_destroy (&msg);
            return NULL;
        }
        int rc = zmsg_addmem (msg, bytes, size);
        assert (rc == 0);
        free (bytes);
    }
    return msg;
}

//  Frame index of msg (borrowed); NULL past the end.
static zframe_t *
s_frame_at (zmsg_t *msg, size_t index)
{
    zframe_t *frame = zmsg_first (msg);
    for (size_t i = 0; i < index && frame; i++) frame = zmsg_next (msg);
    return frame;
}

//  True if frame is there and holds exactly text.
static bool
s_frame_is (zframe_t *frame, const char *text)
{
    return frame && zframe_streq (frame, text);
}

//  Index of the member of object whose key is the len bytes at key; -1 if
//  there is none.
static int
s_member_index (const zaio_json_t *object, const char *key, uint32_t len)
{
    size_t key_len;
    const char *name;
    for (size_t index = 0; (name = zaio_json_key_at (object, index, &key_len)); index++)
        if (key_len == len && memcmp (name, key, len) == 0) return (int)index;
    return -1;
}

//  True if the next msgpack value at cursor equals json (any encoding, any
//  key order, no key twice) and consumes it. where names the value in
//  failure reports.
static bool
s_matches (zaio_cursor_t *cursor, const zaio_json_t *json, const char *where)
{
    bool flag;
    uint64_t u;
    int64_t i;
    const char *str;
    uint32_t len, count;
    size_t json_len;
    switch (zaio_json_type (json)) {
        case ZAIO_JSON_NULL:
            if (zaio_cursor_nil (cursor)) {
                CHECK (false, "%s: expected nil", where);
                return false;
            }
            return true;
        case ZAIO_JSON_BOOL:
            if (zaio_cursor_bool (cursor, &flag) || flag != zaio_json_bool (json)) {
                CHECK (false, "%s: expected %s", where, zaio_json_bool (json) ? "true" : "false");
                return false;
            }
            return true;
        case ZAIO_JSON_INT:
            if (zaio_json_negative (json)) {
                int64_t want;
                int rc = zaio_json_int (json, &want);
                assert (rc == 0);
                if (zaio_cursor_int (cursor, &i) || i != want) {
                    CHECK (false, "%s: expected %lld", where, (long long)want);
                    return false;
                }
            } else if (zaio_cursor_uint (cursor, &u) || u != zaio_json_magnitude (json)) {
                CHECK (false, "%s: expected %llu", where,
                       (unsigned long long)zaio_json_magnitude (json));
                return false;
            }
            return true;
        case ZAIO_JSON_STRING: {
            const char *want = zaio_json_string (json, &json_len);
            if (zaio_cursor_str (cursor, &str, &len) || len != json_len ||
                memcmp (str, want, len) != 0) {
                CHECK (false, "%s: expected string '%s'", where, want);
                return false;
            }
            return true;
        }
        case ZAIO_JSON_ARRAY:
            if (zaio_cursor_array (cursor, &count) || count != zaio_json_size (json)) {
                CHECK (false, "%s: expected an array of %zu", where, zaio_json_size (json));
                return false;
            }
            for (size_t index = 0; index < count; index++) {
                char inner[256];
                snprintf (inner, sizeof inner, "%s[%zu]", where, index);
                if (!s_matches (cursor, zaio_json_at (json, index), inner)) return false;
            }
            return true;
        case ZAIO_JSON_OBJECT: {
            uint8_t *bin = zaio_json_bin (json, &json_len);
            if (bin) {
                const uint8_t *bytes;
                bool same = zaio_cursor_bin (cursor, &bytes, &len) == 0 && len == json_len &&
                            memcmp (bytes, bin, len) == 0;
                free (bin);
                CHECK (same, "%s: expected a bin of %zu bytes", where, json_len);
                return same;
            }
            if (zaio_cursor_map (cursor, &count) || count != zaio_json_size (json)) {
                CHECK (false, "%s: expected a map of %zu", where, zaio_json_size (json));
                return false;
            }
            //  Equal sizes and no key seen twice: the key sets are equal.
            bool *seen = (bool *)calloc (count + 1, sizeof (bool));
            assert (seen);
            bool ok = true;
            for (uint32_t pair = 0; pair < count && ok; pair++) {
                int index = -1;
                if (zaio_cursor_str (cursor, &str, &len) == 0)
                    index = s_member_index (json, str, len);
                ok = index >= 0 && !seen[index];
                CHECK (ok, "%s: map key %u is unexpected, repeated or not a string", where, pair);
                if (ok) {
                    seen[index] = true;
                    char inner[256];
                    snprintf (inner, sizeof inner, "%s.%s", where,
                              zaio_json_key_at (json, (size_t)index, NULL));
                    ok = s_matches (cursor, zaio_json_at (json, (size_t)index), inner);
                }
            }
            free (seen);
            return ok;
        }
    }
    return false;
}

//  The whole of size bytes at data is one msgpack value equal to json.
static void
s_check_msgpack (const void *data, size_t size, const zaio_json_t *json, const char *where)
{
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    if (s_matches (&cursor, json, where))
        CHECK (zaio_cursor_done (&cursor), "%s: trailing bytes", where);
}

//  ---------------------------------------------------------------------
//  Batches

static zframe_t *s_pack_reply (const zaio_json_t *header);

//  One batch element's header bytes against its JSON meaning: decoded by
//  the codec and packed again to the same bytes. Returns the packed frame
//  (caller destroys it), NULL if it could not be made.
static zframe_t *
s_check_batch_header (const uint8_t *bytes, size_t size, const zaio_json_t *want, bool request,
                      uint32_t index)
{
    char where[32];
    snprintf (where, sizeof where, "entries[%u]", index);
    s_check_msgpack (bytes, size, want, where);
    char why[256] = "";
    uint64_t id = 0;
    zaio_json_uint (zaio_json_get (want, "id"), &id);
    if (!request) {
        zaio_reply_t reply;
        int code = zaio_reply_decode (&reply, bytes, size, why, sizeof why);
        CHECK (code == 0 && reply.id == id, "%s: reply decode: %s (%s)", where,
               zaio_error_name (code), why);
        return s_pack_reply (want);
    }
    zaio_request_t req;
    int code = zaio_request_decode (&req, bytes, size, why, sizeof why);
    CHECK (code == 0 && req.id == id, "%s: request decode: %s (%s)", where, zaio_error_name (code),
           why);
    return code == 0 ? zaio_request_encode (&req) : NULL;
}

//  A batch vector: the entries frame at index first of msg walks to the
//  vector's "entries" (headers and flags), the data frames follow it, and
//  zaio_batch_writer packs the entries back to exactly that frame.
static void
s_check_batch (const zaio_json_t *vector, zmsg_t *msg, size_t first, bool request)
{
    const zaio_json_t *entries = zaio_json_get (vector, "entries");
    zframe_t *frame = s_frame_at (msg, first);
    CHECK (entries && zaio_json_type (entries) == ZAIO_JSON_ARRAY, "no entries array");
    CHECK (frame, "no entries frame");
    if (!entries || !frame) return;
    char why[256] = "";
    uint32_t count;
    int code =
        zaio_batch_check (zframe_data (frame), zframe_size (frame), zmsg_size (msg) - first - 1,
                          ZAIO_BATCH_MAX, ZAIO_BATCH_BYTES_MAX, &count, why, sizeof why);
    CHECK (code == 0, "zaio_batch_check: %s (%s)", zaio_error_name (code), why);
    CHECK (zaio_batch_is (zframe_data (frame), zframe_size (frame)), "not seen as a batch");
    zaio_batch_cursor_t cursor;
    code = zaio_batch_cursor_init (&cursor, zframe_data (frame), zframe_size (frame),
                                   ZAIO_BATCH_MAX, &count, why, sizeof why);
    CHECK (code == 0 && count == zaio_json_size (entries), "%u entries, want %zu", count,
           zaio_json_size (entries));
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    size_t data_frame = first + 1;
    const uint8_t *header;
    size_t size;
    bool has_data;
    for (uint32_t i = 0; code == 0 && i < count; i++) {
        code = zaio_batch_cursor_next (&cursor, &header, &size, &has_data, why, sizeof why);
        CHECK (code == 0, "entries[%u]: %s (%s)", i, zaio_error_name (code), why);
        if (code) break;
        const zaio_json_t *want = zaio_json_at (entries, i);
        CHECK (zaio_json_bool (zaio_json_get (want, "data")) == has_data, "entries[%u]: flag", i);
        if (has_data) CHECK (s_frame_at (msg, data_frame++), "entries[%u]: no data frame", i);
        zframe_t *packed =
            s_check_batch_header (header, size, zaio_json_get (want, "header"), request, i);
        CHECK (packed && zframe_size (packed) == size &&
                   memcmp (zframe_data (packed), header, size) == 0,
               "entries[%u]: encoding differs", i);
        if (packed)
            zaio_batch_writer_add (&writer, zframe_data (packed), zframe_size (packed), has_data);
        zframe_destroy (&packed);
    }
    if (code == 0)
        CHECK (zaio_batch_cursor_next (&cursor, &header, &size, &has_data, why, sizeof why) == 1,
               "entries do not end after %u", count);
    CHECK (data_frame == zmsg_size (msg), "%zu frames, want %zu", zmsg_size (msg), data_frame);
    zframe_t *packed = zaio_batch_writer_frame (&writer);
    CHECK (packed && zframe_eq (packed, frame), "zaio_batch_writer differs from the frame");
    zframe_destroy (&packed);
    zaio_batch_writer_release (&writer);
}

//  ---------------------------------------------------------------------
//  Requests

typedef enum { KIND_UINT, KIND_BOOL, KIND_STR } s_kind_t;

//  The request header keys of PROTOCOL.md section 4, written out here
//  rather than taken from the codec so the test checks the codec's table.
static const struct {
    const char *name;
    zaio_field_t field;
    s_kind_t kind;
} s_request_keys[] = {
    {"id", ZAIO_FIELD_ID, KIND_UINT},
    {"op", ZAIO_FIELD_OP, KIND_STR},
    {"path", ZAIO_FIELD_PATH, KIND_STR},
    {"to", ZAIO_FIELD_TO, KIND_STR},
    {"offset", ZAIO_FIELD_OFFSET, KIND_UINT},
    {"length", ZAIO_FIELD_LENGTH, KIND_UINT},
    {"size", ZAIO_FIELD_SIZE, KIND_UINT},
    {"mode", ZAIO_FIELD_MODE, KIND_UINT},
    {"create", ZAIO_FIELD_CREATE, KIND_BOOL},
    {"parents", ZAIO_FIELD_PARENTS, KIND_BOOL},
    {"datasync", ZAIO_FIELD_DATASYNC, KIND_BOOL},
    {"after", ZAIO_FIELD_AFTER, KIND_STR},
    {"limit", ZAIO_FIELD_LIMIT, KIND_UINT},
    {"volume", ZAIO_FIELD_VOLUME, KIND_STR},
    {"key", ZAIO_FIELD_KEY, KIND_STR},
    {"barrier", ZAIO_FIELD_BARRIER, KIND_BOOL},
    {"link", ZAIO_FIELD_LINK, KIND_BOOL},
    {"deadline", ZAIO_FIELD_DEADLINE, KIND_UINT},
    {"priority", ZAIO_FIELD_PRIORITY, KIND_UINT},
    {"top", ZAIO_FIELD_TOP, KIND_UINT},
};
#define REQUEST_KEY_COUNT (sizeof (s_request_keys) / sizeof (s_request_keys[0]))

//  Row of s_request_keys for a key; -1 if the spec has no such key.
static int
s_request_key (const char *name)
{
    for (size_t i = 0; i < REQUEST_KEY_COUNT; i++)
        if (strcmp (s_request_keys[i].name, name) == 0) return (int)i;
    return -1;
}

//  String member of req for field (borrowed); NULL for other fields.
static const char *
s_request_str (const zaio_request_t *req, zaio_field_t field)
{
    switch (field) {
        case ZAIO_FIELD_PATH:
            return req->path;
        case ZAIO_FIELD_TO:
            return req->to;
        case ZAIO_FIELD_AFTER:
            return req->after;
        case ZAIO_FIELD_VOLUME:
            return req->volume;
        case ZAIO_FIELD_KEY:
            return req->key;
        default:
            return NULL;
    }
}

//  Numeric or boolean member of req for field.
static uint64_t
s_request_uint (const zaio_request_t *req, zaio_field_t field)
{
    switch (field) {
        case ZAIO_FIELD_ID:
            return req->id;
        case ZAIO_FIELD_OFFSET:
            return req->offset;
        case ZAIO_FIELD_LENGTH:
            return req->length;
        case ZAIO_FIELD_SIZE:
            return req->size;
        case ZAIO_FIELD_MODE:
            return req->mode;
        case ZAIO_FIELD_LIMIT:
            return req->limit;
        case ZAIO_FIELD_DEADLINE:
            return req->deadline_ms;
        case ZAIO_FIELD_PRIORITY:
            return req->priority;
        case ZAIO_FIELD_TOP:
            return req->top;
        case ZAIO_FIELD_CREATE:
            return req->create;
        case ZAIO_FIELD_PARENTS:
            return req->parents;
        case ZAIO_FIELD_DATASYNC:
            return req->datasync;
        case ZAIO_FIELD_BARRIER:
            return req->barrier;
        case ZAIO_FIELD_LINK:
            return req->link;
        default:
            assert (false);
            return 0;
    }
}

//  A JSON header value of a numeric or boolean key as a number (booleans
//  as 0/1); -1 if its JSON type is not the key's.
static int
s_json_number (const zaio_json_t *value, s_kind_t kind, uint64_t *number)
{
    if (kind == KIND_BOOL) {
        if (zaio_json_type (value) != ZAIO_JSON_BOOL) return -1;
        *number = zaio_json_bool (value);
        return 0;
    }
    return kind == KIND_UINT ? zaio_json_uint (value, number) : -1;
}

static void
s_check_request (const zaio_json_t *vector)
{
    const zaio_json_t *header = zaio_json_get (vector, "header");
    zmsg_t *msg = s_frames (vector);
    CHECK (header && zaio_json_type (header) == ZAIO_JSON_OBJECT, "no header object");
    CHECK (msg, "frames are not hex strings");
    if (!header || !msg) {
        zmsg_destroy (&msg);
        return;
    }
    zframe_t *signature = s_frame_at (msg, 0);
    zframe_t *frame = s_frame_at (msg, 1);
    CHECK (s_frame_is (signature, ZAIO_SIGNATURE), "frame 0 is not the signature");
    CHECK (frame, "no header frame");

    //  Decode, and compare every field with the JSON meaning.
    zaio_request_t decoded;
    char why[256] = "";
    int code = zaio_request_decode_message (&decoded, msg, ZAIO_PAYLOAD_MAX, why, sizeof why);
    CHECK (code == 0, "decode failed: %s (%s)", zaio_error_name (code), why);
    uint32_t fields = 0;
    for (size_t i = 0; i < zaio_json_size (header); i++) {
        const char *name = zaio_json_key_at (header, i, NULL);
        const zaio_json_t *value = zaio_json_at (header, i);
        int row = s_request_key (name);
        CHECK (row >= 0, "header key '%s' is not in the spec", name);
        if (row < 0) continue;
        zaio_field_t field = s_request_keys[row].field;
        fields |= field;
        if (code) continue;
        uint64_t number;
        if (field == ZAIO_FIELD_OP)
            CHECK (zaio_json_streq (value, zaio_op_name (decoded.op)), "op decoded as '%s'",
                   zaio_op_name (decoded.op));
        else if (s_request_keys[row].kind == KIND_STR) {
            size_t len;
            const char *want = zaio_json_string (value, &len);
            const char *got = s_request_str (&decoded, field);
            CHECK (want && strlen (got) == len && memcmp (got, want, len) == 0,
                   "'%s' decoded as '%s'", name, got);
        } else if (s_json_number (value, s_request_keys[row].kind, &number) == 0)
            CHECK (s_request_uint (&decoded, field) == number, "'%s' decoded as %llu, want %llu",
                   name, (unsigned long long)s_request_uint (&decoded, field),
                   (unsigned long long)number);
        else
            CHECK (false, "header value of '%s' has the wrong JSON type", name);
    }
    if (code == 0)
        CHECK (decoded.fields == fields, "fields 0x%x, want 0x%x", decoded.fields, fields);
    if (frame) s_check_msgpack (zframe_data (frame), zframe_size (frame), header, "header");

    //  Build the same request from the JSON meaning; it must encode to
    //  exactly frame 1, and equal the decoded struct member for member.
    uint64_t id = 0;
    size_t op_len = 0;
    const char *op_name = zaio_json_string (zaio_json_get (header, "op"), &op_len);
    int op = op_name ? zaio_op_lookup (op_name, op_len) : -1;
    CHECK (zaio_json_uint (zaio_json_get (header, "id"), &id) == 0, "no numeric id");
    CHECK (op >= 0, "no known op");
    if (op >= 0) {
        zaio_request_t built;
        zaio_request_init (&built, (zaio_op_t)op, id);
        for (size_t i = 0; i < zaio_json_size (header); i++) {
            const char *name = zaio_json_key_at (header, i, NULL);
            const zaio_json_t *value = zaio_json_at (header, i);
            int row = s_request_key (name);
            if (row < 0 || s_request_keys[row].field == ZAIO_FIELD_ID ||
                s_request_keys[row].field == ZAIO_FIELD_OP)
                continue;
            uint64_t number;
            if (s_request_keys[row].kind == KIND_STR)
                CHECK (zaio_json_string (value, NULL) &&
                           zaio_request_set_str (&built, s_request_keys[row].field,
                                                 zaio_json_string (value, NULL)) == 0,
                       "cannot set '%s'", name);
            else if (s_json_number (value, s_request_keys[row].kind, &number) == 0)
                zaio_request_set_uint (&built, s_request_keys[row].field, number);
        }
        zframe_t *encoded = zaio_request_encode (&built);
        assert (encoded);
        CHECK (frame && zframe_eq (encoded, frame), "encoding differs from frame 1");
        zframe_destroy (&encoded);
        zaio_test_normalize_request (&built);
        zaio_test_normalize_request (&decoded);
        if (code == 0) CHECK (memcmp (&built, &decoded, sizeof built) == 0, "built != decoded");
        if (op == ZAIO_OP_BATCH)
            s_check_batch (vector, msg, 2, true);
        else
            CHECK (zmsg_size (msg) == (zaio_op_takes_data ((zaio_op_t)op) ? 3u : 2u),
                   "%zu frames for op '%s'", zmsg_size (msg), zaio_op_name ((zaio_op_t)op));
    }
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Replies

//  True if want, a name in a vector's JSON, is name: a string that is
//  name and not name_bin, or a {"$bin": HEX} of name's bytes and name_bin.
static bool
s_name_is (const zaio_json_t *want, const char *name, bool name_bin)
{
    size_t size;
    uint8_t *bin = zaio_json_bin (want, &size);
    if (!bin) return !name_bin && zaio_json_streq (want, name);
    bool same = name_bin && size == strlen (name) && memcmp (bin, name, size) == 0;
    free (bin);
    return same;
}

//  One listdir entry as a client reads it.
typedef struct {
    char name[ZAIO_NAME_MAX + 1];
    bool name_bin; //  came as a bin
    char type[16];
    uint64_t size;
    int64_t mtime_ns;
    int keys;
} s_entry_t;

//  Reads the entry map at cursor; -1 if it is malformed.
static int
s_read_entry (zaio_cursor_t *cursor, s_entry_t *entry)
{
    memset (entry, 0, sizeof (*entry));
    uint32_t count;
    if (zaio_cursor_map (cursor, &count)) return -1;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (cursor, &key, &len)) return -1;
        int rc;
        const uint8_t *bin;
        uint32_t bin_len;
        if (len == 4 && memcmp (key, "name", 4) == 0 && zaio_cursor_peek (cursor) == ZAIO_MP_BIN) {
            rc = zaio_cursor_bin (cursor, &bin, &bin_len) || bin_len > ZAIO_NAME_MAX;
            if (rc == 0) memcpy (entry->name, bin, bin_len);
            entry->name_bin = true;
        } else if (len == 4 && memcmp (key, "name", 4) == 0)
            rc = zaio_cursor_str_copy (cursor, entry->name, sizeof entry->name, ZAIO_NAME_MAX);
        else if (len == 4 && memcmp (key, "type", 4) == 0)
            rc = zaio_cursor_str_copy (cursor, entry->type, sizeof entry->type,
                                       sizeof entry->type - 1);
        else if (len == 4 && memcmp (key, "size", 4) == 0)
            rc = zaio_cursor_uint (cursor, &entry->size);
        else if (len == 8 && memcmp (key, "mtime_ns", 8) == 0)
            rc = zaio_cursor_int (cursor, &entry->mtime_ns);
        else
            rc = zaio_cursor_skip (cursor, ZAIO_DEPTH_MAX);
        if (rc) return -1;
        entry->keys++;
    }
    return 0;
}

//  Walks the listdir entries slice the way a client does.
static void
s_check_entries (const zaio_reply_t *reply, const zaio_json_t *entries)
{
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, reply->entries, reply->entries_size);
    uint32_t count;
    if (zaio_cursor_array (&cursor, &count) || count != zaio_json_size (entries)) {
        CHECK (false, "entries: expected an array of %zu", zaio_json_size (entries));
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const zaio_json_t *want = zaio_json_at (entries, i);
        s_entry_t entry;
        if (s_read_entry (&cursor, &entry)) {
            CHECK (false, "entries[%u] is malformed", i);
            return;
        }
        uint64_t size;
        int64_t mtime_ns;
        CHECK (entry.keys == (int)zaio_json_size (want), "entries[%u] has %d keys", i, entry.keys);
        CHECK (s_name_is (zaio_json_get (want, "name"), entry.name, entry.name_bin),
               "entries[%u].name is '%s'", i, entry.name);
        CHECK (zaio_json_streq (zaio_json_get (want, "type"), entry.type),
               "entries[%u].type is '%s'", i, entry.type);
        CHECK (zaio_json_uint (zaio_json_get (want, "size"), &size) == 0 && size == entry.size,
               "entries[%u].size is %llu", i, (unsigned long long)entry.size);
        CHECK (zaio_json_int (zaio_json_get (want, "mtime_ns"), &mtime_ns) == 0 &&
                   mtime_ns == entry.mtime_ns,
               "entries[%u].mtime_ns is %lld", i, (long long)entry.mtime_ns);
    }
    CHECK (zaio_cursor_done (&cursor), "entries: trailing bytes");
}

//  Scalar reply results the codec decodes into zaio_reply_t.
typedef enum { RESULT_UINT, RESULT_INT, RESULT_BOOL, RESULT_STR } s_result_kind_t;

static const struct {
    const char *name;
    zaio_result_t bit;
    s_result_kind_t kind;
} s_results[] = {
    {"bytes", ZAIO_RESULT_BYTES, RESULT_UINT},   {"offset", ZAIO_RESULT_OFFSET, RESULT_UINT},
    {"size", ZAIO_RESULT_SIZE, RESULT_UINT},     {"mode", ZAIO_RESULT_MODE, RESULT_UINT},
    {"mtime_ns", ZAIO_RESULT_MTIME, RESULT_INT}, {"eof", ZAIO_RESULT_EOF, RESULT_BOOL},
    {"more", ZAIO_RESULT_MORE, RESULT_BOOL},     {"type", ZAIO_RESULT_TYPE, RESULT_STR},
};
#define RESULT_COUNT (sizeof (s_results) / sizeof (s_results[0]))

static void
s_check_result (const zaio_reply_t *reply, size_t row, const zaio_json_t *want)
{
    const char *name = s_results[row].name;
    zaio_result_t bit = s_results[row].bit;
    CHECK (!!(reply->present & bit) == !!want, "result '%s' presence differs", name);
    if (!want || !(reply->present & bit)) return;
    uint64_t u = 0;
    int64_t i = 0;
    switch (bit) {
        case ZAIO_RESULT_BYTES:
            u = reply->bytes;
            break;
        case ZAIO_RESULT_OFFSET:
            u = reply->offset;
            break;
        case ZAIO_RESULT_SIZE:
            u = reply->size;
            break;
        case ZAIO_RESULT_MODE:
            u = reply->mode;
            break;
        case ZAIO_RESULT_MTIME:
            i = reply->mtime_ns;
            break;
        case ZAIO_RESULT_EOF:
            u = reply->eof;
            break;
        case ZAIO_RESULT_MORE:
            u = reply->more;
            break;
        default:
            break;
    }
    uint64_t want_u;
    int64_t want_i;
    switch (s_results[row].kind) {
        case RESULT_UINT:
            CHECK (zaio_json_uint (want, &want_u) == 0 && u == want_u, "'%s' decoded as %llu", name,
                   (unsigned long long)u);
            break;
        case RESULT_INT:
            CHECK (zaio_json_int (want, &want_i) == 0 && i == want_i, "'%s' decoded as %lld", name,
                   (long long)i);
            break;
        case RESULT_BOOL:
            CHECK (zaio_json_type (want) == ZAIO_JSON_BOOL && zaio_json_bool (want) == (u != 0),
                   "'%s' decoded as %s", name, u ? "true" : "false");
            break;
        case RESULT_STR:
            CHECK (zaio_json_streq (want, reply->type), "'%s' decoded as '%s'", name, reply->type);
            break;
    }
}

//  Packs the reply the JSON means with the codec's reply helpers; the
//  nested results (entries, limits, ops, volumes) with msgpack_pack_*.
static zframe_t *
s_pack_reply (const zaio_json_t *header)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_packer *pk = &writer.packer;
    uint64_t id = 0;
    zaio_json_uint (zaio_json_get (header, "id"), &id);
    if (!zaio_json_bool (zaio_json_get (header, "ok"))) {
        const char *error = zaio_json_string (zaio_json_get (header, "error"), NULL);
        zaio_reply_pack_error (pk, id, error ? zaio_error_lookup (error, strlen (error)) : 0,
                               zaio_json_string (zaio_json_get (header, "message"), NULL));
    } else {
        static const char *const first[] = {"id", "ok"};
        size_t size = zaio_json_size (header);
        size_t *order = (size_t *)calloc (size + 1, sizeof (size_t));
        assert (order);
        zaio_json_canonical_order (header, first, 2, order);
        zaio_reply_pack_ok (pk, id, (uint32_t)(size - 2));
        for (size_t i = 2; i < size; i++) {
            const char *key = zaio_json_key_at (header, order[i], NULL);
            const zaio_json_t *value = zaio_json_at (header, order[i]);
            int64_t number;
            switch (zaio_json_type (value)) {
                case ZAIO_JSON_BOOL:
                    zaio_pack_key_bool (pk, key, zaio_json_bool (value));
                    break;
                case ZAIO_JSON_STRING:
                    zaio_pack_key_str (pk, key, zaio_json_string (value, NULL));
                    break;
                case ZAIO_JSON_INT:
                    if (!zaio_json_negative (value))
                        zaio_pack_key_uint (pk, key, zaio_json_magnitude (value));
                    else if (zaio_json_int (value, &number) == 0)
                        zaio_pack_key_int (pk, key, number);
                    break;
                default:
                    zaio_pack_str (pk, key);
                    zaio_json_pack (pk, value, ZAIO_JSON_PACK_CANONICAL);
                    break;
            }
        }
        free (order);
    }
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

//  The entries slice through the codec's own entry decoder and encoder:
//  it decodes to the JSON, and zaio_dirent_pack packs the decoded entries
//  back to exactly the slice's bytes.
static void
s_check_dirents (const zaio_reply_t *reply, const zaio_json_t *entries)
{
    zaio_dirent_t *decoded = NULL;
    size_t count = 0;
    int code = zaio_dirents_decode (reply->entries, reply->entries_size, &decoded, &count);
    CHECK (code == 0, "zaio_dirents_decode failed: %s", zaio_error_name (code));
    if (code) return;
    CHECK (count == zaio_json_size (entries), "zaio_dirents_decode gave %zu entries", count);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_pack_array (&writer.packer, (uint32_t)count);
    for (size_t i = 0; i < count && i < zaio_json_size (entries); i++) {
        const zaio_json_t *want = zaio_json_at (entries, i);
        uint64_t size;
        int64_t mtime_ns;
        CHECK (s_name_is (zaio_json_get (want, "name"), decoded[i].name, decoded[i].name_bin) &&
                   zaio_json_streq (zaio_json_get (want, "type"), decoded[i].type) &&
                   zaio_json_uint (zaio_json_get (want, "size"), &size) == 0 &&
                   size == decoded[i].size &&
                   zaio_json_int (zaio_json_get (want, "mtime_ns"), &mtime_ns) == 0 &&
                   mtime_ns == decoded[i].mtime_ns,
               "zaio_dirents_decode: entries[%zu] ('%s') differs", i, decoded[i].name);
        zaio_dirent_pack (&writer.packer, &decoded[i]);
    }
    zframe_t *packed = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    CHECK (packed && zframe_size (packed) == reply->entries_size &&
               memcmp (zframe_data (packed), reply->entries, reply->entries_size) == 0,
           "zaio_dirent_pack differs from the entries slice");
    zframe_destroy (&packed);
    free (decoded);
}

//  The whole header through zaio_hello_decode and zaio_hello_pack: every
//  result decodes to the JSON, and the decoded hello packs to exactly frame.
static void
s_check_hello (const zaio_reply_t *reply, const zaio_json_t *header, zframe_t *frame)
{
    zaio_hello_t hello;
    int code = zaio_hello_decode (&hello, reply->hello, reply->hello_size);
    CHECK (code == 0, "zaio_hello_decode failed: %s", zaio_error_name (code));
    if (code) return;
    uint64_t number;
    CHECK (zaio_json_uint (zaio_json_get (header, "protocol"), &number) == 0 &&
               number == hello.protocol,
           "protocol decoded as %u", hello.protocol);
    CHECK (zaio_json_streq (zaio_json_get (header, "version"), hello.version),
           "version decoded as '%s'", hello.version);
    const zaio_json_t *limits = zaio_json_get (header, "limits");
    const uint64_t values[] = {hello.header_max,      hello.path_max,     hello.payload_max,
                               hello.listdir_max,     hello.inflight_max, hello.queue_max,
                               hello.queue_bytes_max, hello.reply_hwm,    hello.batch_max,
                               hello.batch_bytes_max};
    static const char *const names[] = {
        "header_max", "path_max",        "payload_max", "listdir_max", "inflight_max",
        "queue_max",  "queue_bytes_max", "reply_hwm",   "batch_max",   "batch_bytes_max"};
    for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++) {
        //  A limit the broker does not report decodes as 0.
        number = 0;
        const zaio_json_t *limit = zaio_json_get (limits, names[i]);
        CHECK ((!limit || zaio_json_uint (limit, &number) == 0) && number == values[i],
               "limit '%s' decoded as %llu", names[i], (unsigned long long)values[i]);
    }
    const zaio_json_t *ops = zaio_json_get (header, "ops");
    uint32_t bits = 0;
    for (size_t i = 0; i < zaio_json_size (ops); i++) {
        size_t len;
        const char *name = zaio_json_string (zaio_json_at (ops, i), &len);
        int op = name ? zaio_op_lookup (name, len) : -1;
        if (op >= 0) bits |= 1u << op;
    }
    CHECK (hello.ops == bits, "ops decoded as 0x%x, want 0x%x", hello.ops, bits);
    const zaio_json_t *volumes = zaio_json_get (header, "volumes");
    CHECK (hello.volume_count == zaio_json_size (volumes), "%u volumes decoded",
           hello.volume_count);
    for (uint32_t i = 0; i < hello.volume_count && i < zaio_json_size (volumes); i++) {
        const zaio_json_t *want = zaio_json_at (volumes, i);
        CHECK (zaio_json_streq (zaio_json_get (want, "name"), hello.volumes[i].name) &&
                   zaio_json_bool (zaio_json_get (want, "readonly")) == hello.volumes[i].readonly &&
                   zaio_json_uint (zaio_json_get (want, "workers"), &number) == 0 &&
                   number == hello.volumes[i].workers,
               "volumes[%u] decoded as '%s'", i, hello.volumes[i].name);
    }
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_hello_pack (&writer.packer, reply->id, &hello);
    zframe_t *packed = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    CHECK (zframe_eq (packed, frame), "zaio_hello_pack differs from frame 1");
    zframe_destroy (&packed);
}

static void
s_check_reply (const zaio_json_t *vector)
{
    const zaio_json_t *header = zaio_json_get (vector, "header");
    zmsg_t *msg = s_frames (vector);
    if (msg && zaio_json_get (vector, "entries")) {
        CHECK (!header, "a reply batch has no header");
        CHECK (s_frame_is (s_frame_at (msg, 0), ZAIO_SIGNATURE), "frame 0 is not the signature");
        s_check_batch (vector, msg, 1, false);
        zmsg_destroy (&msg);
        return;
    }
    CHECK (header && zaio_json_type (header) == ZAIO_JSON_OBJECT, "no header object");
    CHECK (msg, "frames are not hex strings");
    zframe_t *frame = s_frame_at (msg, 1);
    CHECK (frame, "no header frame");
    if (!header || !frame) {
        zmsg_destroy (&msg);
        return;
    }
    CHECK (s_frame_is (s_frame_at (msg, 0), ZAIO_SIGNATURE), "frame 0 is not the signature");
    s_check_msgpack (zframe_data (frame), zframe_size (frame), header, "header");

    zaio_reply_t reply;
    char why[256] = "";
    int code =
        zaio_reply_decode (&reply, zframe_data (frame), zframe_size (frame), why, sizeof why);
    CHECK (code == 0, "decode failed: %s (%s)", zaio_error_name (code), why);
    if (code == 0) {
        uint64_t id;
        CHECK (zaio_json_uint (zaio_json_get (header, "id"), &id) == 0 && reply.id == id,
               "id decoded as %llu", (unsigned long long)reply.id);
        CHECK (zaio_json_bool (zaio_json_get (header, "ok")) == reply.ok, "ok decoded as %s",
               reply.ok ? "true" : "false");
        if (reply.ok)
            CHECK (reply.error == 0, "ok reply has error %d", reply.error);
        else {
            CHECK (zaio_json_streq (zaio_json_get (header, "error"), zaio_error_name (reply.error)),
                   "error decoded as %s", zaio_error_name (reply.error));
            CHECK (zaio_json_streq (zaio_json_get (header, "message"), reply.message),
                   "message decoded as '%s'", reply.message);
        }
        for (size_t row = 0; row < RESULT_COUNT; row++)
            s_check_result (&reply, row, zaio_json_get (header, s_results[row].name));
        const zaio_json_t *entries = zaio_json_get (header, "entries");
        CHECK (!!(reply.present & ZAIO_RESULT_ENTRIES) == !!entries, "entries presence differs");
        if (entries && (reply.present & ZAIO_RESULT_ENTRIES)) {
            s_check_entries (&reply, entries);
            s_check_dirents (&reply, entries);
        }
        //  hello's results are read from the whole header map.
        CHECK (reply.hello == zframe_data (frame) && reply.hello_size == zframe_size (frame),
               "hello slice is not the header");
        if (zaio_json_get (header, "protocol")) {
            s_check_msgpack (reply.hello, reply.hello_size, header, "hello");
            s_check_hello (&reply, header, frame);
        }
        zframe_t *data = s_frame_at (msg, 2);
        if (data && (reply.present & ZAIO_RESULT_BYTES))
            CHECK (reply.bytes == zframe_size (data), "bytes %llu but data frame of %zu",
                   (unsigned long long)reply.bytes, zframe_size (data));
    }
    zframe_t *encoded = s_pack_reply (header);
    CHECK (zframe_eq (encoded, frame), "encoding differs from frame 1");
    zframe_destroy (&encoded);
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Events

static void
s_check_event_field (const zaio_event_t *event, const char *name, const zaio_json_t *want)
{
    static const char *const strings[] = {"client", "path", "volume", "worker"};
    const char *const values[] = {event->client, event->path, event->volume, event->worker};
    for (size_t i = 0; i < sizeof (strings) / sizeof (strings[0]); i++)
        if (strcmp (name, strings[i]) == 0) {
            CHECK (zaio_json_streq (want, values[i]), "'%s' decoded as '%s'", name, values[i]);
            return;
        }
    uint64_t u;
    int64_t i;
    if (strcmp (name, "op") == 0)
        CHECK (zaio_json_streq (want, zaio_op_name (event->op)), "op decoded as '%s'",
               zaio_op_name (event->op));
    else if (strcmp (name, "outcome") == 0)
        CHECK (zaio_json_streq (want, event->error ? "err" : "ok"), "outcome decoded as '%s'",
               event->error ? "err" : "ok");
    else if (strcmp (name, "error") == 0)
        CHECK (event->error && zaio_json_streq (want, zaio_error_name (event->error)),
               "error decoded as '%s'", zaio_error_name (event->error));
    else if (strcmp (name, "time_us") == 0)
        CHECK (zaio_json_int (want, &i) == 0 && i == event->time_us, "time_us decoded as %lld",
               (long long)event->time_us);
    else {
        const uint64_t *value = strcmp (name, "seq") == 0          ? &event->seq
                                : strcmp (name, "id") == 0         ? &event->id
                                : strcmp (name, "bytes") == 0      ? &event->bytes
                                : strcmp (name, "queue_us") == 0   ? &event->queue_us
                                : strcmp (name, "service_us") == 0 ? &event->service_us
                                                                   : NULL;
        CHECK (value, "event key '%s' is not in the spec", name);
        if (value)
            CHECK (zaio_json_uint (want, &u) == 0 && u == *value, "'%s' decoded as %llu", name,
                   (unsigned long long)*value);
    }
}

static void
s_check_event (const zaio_json_t *vector)
{
    const zaio_json_t *header = zaio_json_get (vector, "header");
    const zaio_json_t *topic = zaio_json_get (vector, "topic");
    zmsg_t *msg = s_frames (vector);
    zframe_t *body = s_frame_at (msg, 2);
    CHECK (header && zaio_json_type (header) == ZAIO_JSON_OBJECT, "no header object");
    CHECK (zaio_json_string (topic, NULL), "no topic");
    CHECK (body && zmsg_size (msg) == 3, "an event has three frames");
    if (!header || !body || !zaio_json_string (topic, NULL)) {
        zmsg_destroy (&msg);
        return;
    }
    CHECK (s_frame_is (s_frame_at (msg, 0), zaio_json_string (topic, NULL)),
           "frame 0 is not the topic");
    CHECK (s_frame_is (s_frame_at (msg, 1), ZAIO_SIGNATURE), "frame 1 is not the signature");
    s_check_msgpack (zframe_data (body), zframe_size (body), header, "body");

    zaio_event_t event;
    int code = zaio_event_decode (&event, zframe_data (body), zframe_size (body));
    CHECK (code == 0, "decode failed: %s", zaio_error_name (code));
    if (code == 0) {
        for (size_t i = 0; i < zaio_json_size (header); i++)
            s_check_event_field (&event, zaio_json_key_at (header, i, NULL),
                                 zaio_json_at (header, i));
        CHECK (!event.error || zaio_json_get (header, "error"), "error decoded but absent");
        char text[256];
        zaio_event_topic (&event, text, sizeof text);
        CHECK (zaio_json_streq (topic, text), "topic is '%s'", text);
        zframe_t *encoded = zaio_event_encode (&event);
        CHECK (zframe_eq (encoded, body), "encoding differs from the body frame");
        zframe_destroy (&encoded);
    }
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Invalid requests

static void
s_check_invalid (const zaio_json_t *vector)
{
    const char *error = zaio_json_string (zaio_json_get (vector, "error"), NULL);
    zmsg_t *msg = s_frames (vector);
    CHECK (error, "no error name");
    CHECK (msg, "frames are not hex strings");
    if (!error || !msg) {
        zmsg_destroy (&msg);
        return;
    }
    CHECK (zaio_error_lookup (error, strlen (error)) != ZAIO_ERR_INTERNAL ||
               strcmp (error, "INTERNAL") == 0,
           "'%s' is no error name the codec knows", error);
    zaio_request_t req;
    char why[256] = "";
    int code = zaio_request_decode_message (&req, msg, ZAIO_PAYLOAD_MAX, why, sizeof why);
    //  A batch's entries are checked as a whole once its header decoded.
    if (code == 0 && req.op == ZAIO_OP_BATCH) {
        zframe_t *entries = s_frame_at (msg, 2);
        uint32_t count;
        code = zaio_batch_check (zframe_data (entries), zframe_size (entries), zmsg_size (msg) - 3,
                                 ZAIO_BATCH_MAX, ZAIO_BATCH_BYTES_MAX, &count, why, sizeof why);
    }
    CHECK (code != 0, "decoded, want %s", error);
    if (code)
        CHECK (strcmp (zaio_error_name (code), error) == 0, "got %s (%s), want %s",
               zaio_error_name (code), why, error);
    CHECK (code == 0 || why[0], "no reason given");
    //  The refusal carries the id read before the fault, or 0 (section 3.2).
    uint64_t reply_id;
    CHECK (zaio_json_uint (zaio_json_get (vector, "reply_id"), &reply_id) == 0, "no reply_id");
    CHECK (code == 0 || req.id == reply_id, "refusal carries id %llu, want %llu",
           (unsigned long long)req.id, (unsigned long long)reply_id);
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  The JSON reader the vectors are read with

static zaio_json_t *
s_parse (const char *text)
{
    return zaio_json_parse (text, strlen (text), NULL, 0);
}

//  A case ends here: it fails if any CHECK in it did.
static void
s_case_done (void)
{
    if (s_failures) {
        fprintf (stderr, "test_vectors: %d failures\n", s_failures);
        assert (false);
    }
}

static void
s_test_json_reader (void)
{
    s_vector = "json reader";
    char why[128] = "";
    const char *text = " {\"a\": [1, -2, true, false, null, \"x\"], \"b\": {}} ";
    zaio_json_t *root = zaio_json_parse (text, strlen (text), why, sizeof why);
    CHECK (root, "refused a valid document: %s", why);
    const zaio_json_t *a = zaio_json_get (root, "a");
    CHECK (zaio_json_size (root) == 2 && zaio_json_size (a) == 6, "wrong member counts");
    CHECK (zaio_json_negative (zaio_json_at (a, 1)) &&
               zaio_json_magnitude (zaio_json_at (a, 1)) == 2,
           "-2 misread");
    CHECK (zaio_json_bool (zaio_json_at (a, 2)) && !zaio_json_bool (zaio_json_at (a, 3)),
           "booleans misread");
    CHECK (zaio_json_type (zaio_json_at (a, 4)) == ZAIO_JSON_NULL, "null misread");
    CHECK (zaio_json_streq (zaio_json_at (a, 5), "x"), "string misread");
    CHECK (strcmp (zaio_json_key_at (root, 1, NULL), "b") == 0 && !zaio_json_get (root, "c"),
           "keys misread");
    zaio_json_destroy (&root);
    zaio_json_destroy (&root);

    //  Escapes, surrogate pairs and NUL.
    root = s_parse ("\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\u0000\\b\\f\\r\\t\"");
    size_t len = 0;
    const char *str = zaio_json_string (root, &len);
    static const char want[] = "\xc3\xa9\xf0\x9f\x98\x80\n\"\\/\0\b\f\r\t";
    CHECK (str && len == sizeof want - 1 && memcmp (str, want, len) == 0, "escapes misread");
    zaio_json_destroy (&root);

    //  Integers are exact at both ends.
    uint64_t u = 0;
    int64_t i = 0;
    root = s_parse ("18446744073709551615");
    CHECK (zaio_json_uint (root, &u) == 0 && u == UINT64_MAX, "2^64-1 misread");
    CHECK (zaio_json_int (root, &i) == -1, "2^64-1 read as int64");
    zaio_json_destroy (&root);
    root = s_parse ("-9223372036854775808");
    CHECK (zaio_json_int (root, &i) == 0 && i == INT64_MIN, "-2^63 misread");
    CHECK (zaio_json_uint (root, &u) == -1, "-2^63 read as uint64");
    zaio_json_destroy (&root);
    root = s_parse ("-0");
    CHECK (root && !zaio_json_negative (root) && zaio_json_magnitude (root) == 0, "-0 misread");
    zaio_json_destroy (&root);

    //  Nesting up to the limit, not beyond.
    char deep[2 * ZAIO_JSON_DEPTH_MAX + 3];
    memset (deep, '[', ZAIO_JSON_DEPTH_MAX);
    memset (deep + ZAIO_JSON_DEPTH_MAX, ']', ZAIO_JSON_DEPTH_MAX);
    deep[2 * ZAIO_JSON_DEPTH_MAX] = 0;
    root = s_parse (deep);
    CHECK (root, "refused %d levels", ZAIO_JSON_DEPTH_MAX);
    zaio_json_destroy (&root);
    memset (deep, '[', ZAIO_JSON_DEPTH_MAX + 1);
    memset (deep + ZAIO_JSON_DEPTH_MAX + 1, ']', ZAIO_JSON_DEPTH_MAX + 1);
    deep[2 * ZAIO_JSON_DEPTH_MAX + 2] = 0;
    root = s_parse (deep);
    CHECK (!root, "accepted %d levels", ZAIO_JSON_DEPTH_MAX + 1);
    zaio_json_destroy (&root);

    static const char *const refused[] = {
        "",
        "  ",
        "18446744073709551616",
        "-9223372036854775809",
        "1.5",
        "1e3",
        "01",
        "-",
        "[1,]",
        "[1 2]",
        "{\"a\":1,}",
        "{\"a\":1,\"a\":2}",
        "{\"a\" 1}",
        "{1:2}",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83dx\"",
        "\"\\ud83d\\u0041\"",
        "\"a",
        "\"\\x\"",
        "\"\\u12g4\"",
        "\"\\",
        "\"a\tb\"",
        "\"\xff\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xe2\x82\"",
        "tru",
        "nul",
        "[1] x",
        "{} {}",
        "'a'",
    };
    for (size_t n = 0; n < sizeof (refused) / sizeof (refused[0]); n++) {
        root = zaio_json_parse (refused[n], strlen (refused[n]), why, sizeof why);
        CHECK (!root && why[0], "accepted '%s'", refused[n]);
        zaio_json_destroy (&root);
    }
    s_case_done ();
}

//  ---------------------------------------------------------------------
//  Driver

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

//  The kinds of vector, and the check of each.
static const struct {
    const char *kind;
    void (*check) (const zaio_json_t *vector);
} s_kinds[] = {{"request", s_check_request},
               {"reply", s_check_reply},
               {"event", s_check_event},
               {"invalid_request", s_check_invalid}};

//  Checks the vectors of one kind in one file (with kind NULL, only that
//  each vector's kind is known); returns how many there were.
static size_t
s_check_file (const char *name, const char *kind)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", VECTORS_DIR, name);
    char why[256] = "";
    s_vector = name;
    zaio_json_t *root = zaio_json_load (path, why, sizeof why);
    CHECK (root, "cannot parse %s: %s", path, why);
    const zaio_json_t *vectors = zaio_json_get (root, "vectors");
    CHECK (vectors && zaio_json_type (vectors) == ZAIO_JSON_ARRAY, "no 'vectors' array");
    size_t checked = 0;
    for (size_t i = 0; i < zaio_json_size (vectors); i++) {
        const zaio_json_t *vector = zaio_json_at (vectors, i);
        const zaio_json_t *its_kind = zaio_json_get (vector, "kind");
        s_vector = zaio_json_string (zaio_json_get (vector, "name"), NULL);
        if (!s_vector) s_vector = "(unnamed)";
        if (!kind) {
            bool known = false;
            for (size_t k = 0; k < sizeof s_kinds / sizeof s_kinds[0]; k++)
                known |= zaio_json_streq (its_kind, s_kinds[k].kind);
            CHECK (known, "unknown kind");
            checked++;
            continue;
        }
        if (!zaio_json_streq (its_kind, kind)) continue;
        int failures = s_failures;
        for (size_t k = 0; k < sizeof s_kinds / sizeof s_kinds[0]; k++)
            if (streq (s_kinds[k].kind, kind)) s_kinds[k].check (vector);
        printf ("%-14s %-16s %-26s %s\n", name, kind, s_vector,
                s_failures == failures ? "OK" : "FAIL");
        checked++;
    }
    zaio_json_destroy (&root);
    return checked;
}

//  Every vector of kind (every vector, with kind NULL) in every .json file
//  of the vectors folder, in name order; there must be some.
static void
s_check_kind (const char *kind)
{
    DIR *dir = opendir (VECTORS_DIR);
    assert (dir);
    char *names[FILES_MAX];
    size_t file_count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (len > 5 && strcmp (entry->d_name + len - 5, ".json") == 0) {
            assert (file_count < FILES_MAX);
            names[file_count++] = strdup (entry->d_name);
        }
    }
    closedir (dir);
    qsort (names, file_count, sizeof (char *), s_compare_names);
    size_t total = 0;
    for (size_t i = 0; i < file_count; i++) {
        total += s_check_file (names[i], kind);
        free (names[i]);
    }
    s_vector = "summary";
    CHECK (total > 0, "no %s vectors", kind ? kind : "");
    printf ("%zu vectors\n", total);
    s_case_done ();
}

static void
s_test_requests (void)
{
    s_check_kind ("request");
}

static void
s_test_replies (void)
{
    s_check_kind ("reply");
}

static void
s_test_events (void)
{
    s_check_kind ("event");
}

static void
s_test_invalid_requests (void)
{
    s_check_kind ("invalid_request");
}

//  No vector of a kind nobody checks.
static void
s_test_every_kind_known (void)
{
    s_check_kind (NULL);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_json_reader),      ZAIO_TEST_CASE (s_test_requests),
        ZAIO_TEST_CASE (s_test_replies),          ZAIO_TEST_CASE (s_test_events),
        ZAIO_TEST_CASE (s_test_invalid_requests), ZAIO_TEST_CASE (s_test_every_kind_known),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
