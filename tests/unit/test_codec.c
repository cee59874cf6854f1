/*  test_codec.c: the codec's unhappy paths, beyond the golden vectors.

    * every truncation of every valid request, reply and event is refused;
    * 200,000 seeded random mutations of valid messages never crash, and
      each either decodes (and then survives an encode/decode round trip)
      or is refused with an error the spec allows;
    * the cursor at every msgpack width and family, with lying lengths and
      counts, ext and float skipping, 0xc1 and the depth limit;
    * request fields at and past their limits, and message framing;
    * reply and event decoders on missing, mistyped and oversized fields;
    * hello and listdir entry encoders and decoders: round trips at the
      edges, what a client skips, and malformed input;
    * READY, outcome and envelope round trips and malformed input;
    * the error and op name tables, and zaio_request_set_str limits.

    Inputs are copied to heap buffers of their exact size, so a read past
    the end shows under valgrind or a sanitizer.
*/

#undef NDEBUG
#include "testutil.h"
#include "vectors_json.h"
#include "codec_compare.h"
#include "zaio_codec.h"
#include "zaio_worker_proto.h"

#include <errno.h>

#ifndef ZAIO_SOURCE_DIR
#error "ZAIO_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

#define VECTORS_DIR   ZAIO_SOURCE_DIR "/schemas/vectors"
#define MUTATIONS     200000
#define MUTATION_SEED 0x5a41494f2f31ULL //  "ZAIO/1"
#define SAMPLES_MAX   64
#define JSON_TEXT_MAX 16384
#define REPEAT_MAX    8192 //  longest s_repeat string, well below JSON_TEXT_MAX

//  ---------------------------------------------------------------------
//  Helpers

//  A deterministic xorshift64* generator, so every run mutates alike.
static uint64_t s_random_state = MUTATION_SEED;

static uint64_t
s_random (void)
{
    s_random_state ^= s_random_state >> 12;
    s_random_state ^= s_random_state << 25;
    s_random_state ^= s_random_state >> 27;
    return s_random_state * 2685821657736338717ULL;
}

static size_t
s_random_below (size_t bound)
{
    return bound ? (size_t)(s_random () % bound) : 0;
}

typedef enum {
    DECODE_REQUEST,
    DECODE_REPLY,
    DECODE_EVENT,
    DECODE_READY,
    DECODE_OUTCOME,
    DECODE_BATCH, //  a batch's entries frame, walked pair by pair
    DECODE_KINDS
} s_decoder_t;

//  What a decoder fills. The reply's slices point into a freed buffer
//  once s_decode returns and must not be followed.
typedef struct {
    zaio_request_t request;
    zaio_reply_t reply;
    zaio_event_t event;
    zaio_ready_t ready;
    zaio_outcome_t outcome;
    uint32_t batch_count; //  pairs a batch walk read
    char why[256];
} s_decoded_t;

static s_decoded_t s_out;

//  Walks a batch's entries frame to its end with zaio_batch_cursor.
//  Returns 0 with the pairs read in out, or the cursor's error.
static int
s_batch_walk (const void *data, size_t size, s_decoded_t *out)
{
    zaio_batch_cursor_t cursor;
    uint32_t count;
    int code = zaio_batch_cursor_init (&cursor, data, size, ZAIO_BATCH_MAX, &count, out->why,
                                       sizeof out->why);
    const uint8_t *header;
    size_t header_size;
    bool has_data;
    uint32_t read = 0;
    while (code == 0 && (code = zaio_batch_cursor_next (&cursor, &header, &header_size, &has_data,
                                                        out->why, sizeof out->why)) == 0) {
        assert (header >= (const uint8_t *)data &&
                header + header_size <= (const uint8_t *)data + size);
        read++;
    }
    if (code != 1) return code;
    assert (read == count);
    out->batch_count = read;
    return 0;
}

//  Runs one decoder on a heap copy of exactly size bytes. Returns its code.
static int
s_decode (s_decoder_t which, const void *data, size_t size, s_decoded_t *out)
{
    uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
    assert (copy);
    if (size) memcpy (copy, data, size);
    out->why[0] = 0;
    int code = -1;
    switch (which) {
        case DECODE_REQUEST:
            code = zaio_request_decode (&out->request, copy, size, out->why, sizeof out->why);
            break;
        case DECODE_REPLY:
            code = zaio_reply_decode (&out->reply, copy, size, out->why, sizeof out->why);
            break;
        case DECODE_EVENT:
            code = zaio_event_decode (&out->event, copy, size);
            break;
        case DECODE_READY:
            code = zaio_ready_decode (&out->ready, copy, size);
            break;
        case DECODE_OUTCOME:
            code = zaio_outcome_decode (&out->outcome, copy, size);
            break;
        case DECODE_BATCH:
            code = s_batch_walk (copy, size, out);
            break;
        default:
            assert (false);
    }
    free (copy);
    return code;
}

//  msgpack of a JSON text (in a frame the caller destroys).
static zframe_t *
s_pack (const char *json_text)
{
    char why[128] = "";
    zaio_json_t *json = zaio_json_parse (json_text, strlen (json_text), why, sizeof why);
    if (!json) fprintf (stderr, "test_codec: bad JSON in test: %s: %s\n", why, json_text);
    assert (json);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    //  In the order written: decoders must accept any order.
    zaio_json_pack (&writer.packer, json, ZAIO_JSON_PACK_WRITTEN);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    zaio_json_destroy (&json);
    return frame;
}

//  Decodes the msgpack of a JSON text. Returns the decoder's code.
static int
s_decode_json (s_decoder_t which, const char *json_text)
{
    zframe_t *frame = s_pack (json_text);
    int code = s_decode (which, zframe_data (frame), zframe_size (frame), &s_out);
    zframe_destroy (&frame);
    return code;
}

//  json_text, packed and decoded as decoder says, gives code; a refused
//  request also gives a reason.
static void
s_expect (s_decoder_t decoder, int code, const char *json_text)
{
    static const char *names[DECODE_KINDS] = {"request", "reply",   "event",
                                              "ready",   "outcome", "batch"};
    int got = s_decode_json (decoder, json_text);
    if (got != code)
        fprintf (stderr, "test_codec: %s %.200s: got %s (%s), want %s\n", names[decoder], json_text,
                 zaio_error_name (got), s_out.why, code ? zaio_error_name (code) : "success");
    assert (got == code);
    assert (decoder != DECODE_REQUEST || code == 0 || s_out.why[0]);
}

//  A string of n copies of c, in a static buffer.
static const char *
s_repeat (char c, size_t n)
{
    static char text[REPEAT_MAX];
    assert (n < sizeof text);
    memset (text, c, n);
    text[n] = 0;
    return text;
}

//  One valid message of the golden vectors.
typedef struct {
    s_decoder_t decoder;
    uint8_t *bytes;
    size_t size;
} s_sample_t;

static s_sample_t s_samples[SAMPLES_MAX];
static size_t s_sample_count = 0;

static void
s_add_sample (s_decoder_t decoder, const void *data, size_t size)
{
    assert (s_sample_count < SAMPLES_MAX);
    s_sample_t *sample = &s_samples[s_sample_count++];
    sample->decoder = decoder;
    sample->bytes = (uint8_t *)malloc (size ? size : 1);
    assert (sample->bytes);
    if (size) memcpy (sample->bytes, data, size);
    sample->size = size;
}

//  The msgpack frame of every valid vector in file: frame index of each,
//  or for a batch vector its entries frame, and a request batch's header.
static void
s_load_samples (const char *file, s_decoder_t decoder, size_t frame_index)
{
    char path[512];
    char why[256] = "";
    snprintf (path, sizeof path, "%s/%s", VECTORS_DIR, file);
    zaio_json_t *root = zaio_json_load (path, why, sizeof why);
    if (!root) fprintf (stderr, "test_codec: %s: %s\n", path, why);
    assert (root);
    const zaio_json_t *vectors = zaio_json_get (root, "vectors");
    assert (zaio_json_size (vectors) > 0);
    for (size_t i = 0; i < zaio_json_size (vectors); i++) {
        const zaio_json_t *vector = zaio_json_at (vectors, i);
        const zaio_json_t *frames = zaio_json_get (vector, "frames");
        bool batch = zaio_json_get (vector, "entries") != NULL;
        size_t size;
        uint8_t *bytes = zaio_json_hex (zaio_json_at (frames, frame_index), &size);
        assert (bytes);
        s_add_sample (batch && decoder == DECODE_REPLY ? DECODE_BATCH : decoder, bytes, size);
        free (bytes);
        if (batch && decoder == DECODE_REQUEST) {
            bytes = zaio_json_hex (zaio_json_at (frames, frame_index + 1), &size);
            assert (bytes);
            s_add_sample (DECODE_BATCH, bytes, size);
            free (bytes);
        }
    }
    zaio_json_destroy (&root);
}

static void
s_load_all_samples (void)
{
    s_load_samples ("requests.json", DECODE_REQUEST, 1);
    s_load_samples ("replies.json", DECODE_REPLY, 1);
    s_load_samples ("events.json", DECODE_EVENT, 2);

    zaio_ready_t ready;
    memset (&ready, 0, sizeof ready);
    ready.credit = 4;
    ready.pid = 4242;
    ready.heartbeat_ms = 1000;
    strcpy (ready.host, "host1");
    ready.volume_count = 2;
    strcpy (ready.volumes[0].name, "default");
    strcpy (ready.volumes[1].name, "photos");
    ready.volumes[1].readonly = true;
    zframe_t *frame = zaio_ready_encode (&ready);
    s_add_sample (DECODE_READY, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);

    zaio_outcome_t outcomes[] = {{0, 4096, 30}, {EACCES, 0, 7}};
    for (size_t i = 0; i < sizeof (outcomes) / sizeof (outcomes[0]); i++) {
        frame = zaio_outcome_encode (&outcomes[i]);
        s_add_sample (DECODE_OUTCOME, zframe_data (frame), zframe_size (frame));
        zframe_destroy (&frame);
    }
}

static void
s_free_samples (void)
{
    for (size_t i = 0; i < s_sample_count; i++) free (s_samples[i].bytes);
    s_sample_count = 0;
}

//  ---------------------------------------------------------------------
//  Truncation and mutation

//  Every proper prefix of every sample is refused.
static void
s_test_truncation (void)
{
    s_load_all_samples ();
    size_t checked = 0;
    for (size_t i = 0; i < s_sample_count; i++) {
        const s_sample_t *sample = &s_samples[i];
        assert (s_decode (sample->decoder, sample->bytes, sample->size, &s_out) == 0);
        //  Every proper prefix of a map or array lacks part of a value.
        for (size_t size = 0; size < sample->size; size++) {
            int code = s_decode (sample->decoder, sample->bytes, size, &s_out);
            if (sample->decoder == DECODE_REQUEST)
                assert (code == ZAIO_ERR_MALFORMED || code == ZAIO_ERR_TOOBIG);
            else
                assert (code == ZAIO_ERR_MALFORMED);
            checked++;
        }
    }
    printf ("%zu prefixes of %zu messages refused\n", checked, s_sample_count);
    s_free_samples ();
}

//  A decoded request keeps every promise of zaio_codec.h and the spec.
static void
s_check_request_invariants (const zaio_request_t *req)
{
    assert (req->id != 0);
    assert ((unsigned)req->op < ZAIO_OP_COUNT);
    assert ((req->fields & (ZAIO_FIELD_ID | ZAIO_FIELD_OP)) == (ZAIO_FIELD_ID | ZAIO_FIELD_OP));
    assert (strnlen (req->path, sizeof req->path) < sizeof req->path);
    assert (strnlen (req->to, sizeof req->to) < sizeof req->to);
    assert (strnlen (req->after, sizeof req->after) < sizeof req->after);
    assert (strnlen (req->volume, sizeof req->volume) < sizeof req->volume);
    assert (strnlen (req->key, sizeof req->key) < sizeof req->key);
    assert (req->offset <= INT64_MAX && req->length <= INT64_MAX && req->size <= INT64_MAX);
    assert (req->mode <= 07777 && req->priority <= 255);
    assert (!(req->fields & ZAIO_FIELD_LIMIT) ||
            (req->limit >= 1 && req->limit <= ZAIO_LISTDIR_MAX));
}

//  Decoded once, a message survives encode and decode unchanged.
static void
s_check_round_trip (s_decoder_t which)
{
    static s_decoded_t again;
    zframe_t *frame = NULL;
    switch (which) {
        case DECODE_REQUEST:
            s_check_request_invariants (&s_out.request);
            frame = zaio_request_encode (&s_out.request);
            break;
        case DECODE_EVENT:
            frame = zaio_event_encode (&s_out.event);
            break;
        case DECODE_READY:
            frame = zaio_ready_encode (&s_out.ready);
            break;
        case DECODE_OUTCOME:
            frame = zaio_outcome_encode (&s_out.outcome);
            break;
        default:
            return; //  replies have no struct encoder
    }
    assert (frame);
    int code = s_decode (which, zframe_data (frame), zframe_size (frame), &again);
    assert (code == 0);
    switch (which) {
        case DECODE_REQUEST:
            zaio_test_normalize_request (&again.request);
            zaio_test_normalize_request (&s_out.request);
            assert (memcmp (&again.request, &s_out.request, sizeof again.request) == 0);
            break;
        case DECODE_EVENT:
            zaio_test_normalize_event (&s_out.event);
            assert (memcmp (&again.event, &s_out.event, sizeof again.event) == 0);
            break;
        case DECODE_READY:
            zaio_test_normalize_ready (&s_out.ready);
            assert (memcmp (&again.ready, &s_out.ready, sizeof again.ready) == 0);
            break;
        default:
            assert (memcmp (&again.outcome, &s_out.outcome, sizeof again.outcome) == 0);
            break;
    }
    zframe_destroy (&frame);
}

//  Bytes a mutation likes to plant: msgpack type bytes with lengths.
static const uint8_t s_interesting[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                        0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4,
                                        0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};

static void
s_test_mutations (void)
{
    s_load_all_samples ();
    size_t size_max = 0;
    for (size_t i = 0; i < s_sample_count; i++)
        if (s_samples[i].size > size_max) size_max = s_samples[i].size;
    uint8_t *buffer = (uint8_t *)malloc (size_max + 16);
    assert (buffer);
    size_t decoded[DECODE_KINDS] = {0};
    size_t refused[DECODE_KINDS] = {0};

    for (int round = 0; round < MUTATIONS; round++) {
        const s_sample_t *sample = &s_samples[s_random_below (s_sample_count)];
        size_t size = sample->size;
        memcpy (buffer, sample->bytes, size);
        int edits = 1 + (int)s_random_below (4);
        for (int edit = 0; edit < edits; edit++) {
            size_t at = s_random_below (size + 1);
            switch (s_random_below (6)) {
                case 0: //  flip a bit
                    if (at < size) buffer[at] ^= (uint8_t)(1u << s_random_below (8));
                    break;
                case 1: //  any byte
                    if (at < size) buffer[at] = (uint8_t)s_random ();
                    break;
                case 2: //  a type byte
                    if (at < size)
                        buffer[at] = s_interesting[s_random_below (sizeof s_interesting)];
                    break;
                case 3: //  insert a byte
                    if (size < size_max + 16) {
                        memmove (buffer + at + 1, buffer + at, size - at);
                        buffer[at] = (uint8_t)s_random ();
                        size++;
                    }
                    break;
                case 4: //  delete a byte
                    if (at < size) {
                        memmove (buffer + at, buffer + at + 1, size - at - 1);
                        size--;
                    }
                    break;
                default: //  cut the tail
                    size = at;
                    break;
            }
        }
        int code = s_decode (sample->decoder, buffer, size, &s_out);
        if (code == 0) {
            decoded[sample->decoder]++;
            s_check_round_trip (sample->decoder);
        } else {
            refused[sample->decoder]++;
            if (sample->decoder == DECODE_REQUEST)
                assert (code == ZAIO_ERR_MALFORMED || code == ZAIO_ERR_TOOBIG ||
                        code == ZAIO_ERR_UNKNOWN_OP || code == ENAMETOOLONG || code == EINVAL);
            else if (sample->decoder == DECODE_BATCH)
                assert (code == ZAIO_ERR_MALFORMED || code == ZAIO_ERR_TOOBIG);
            else
                assert (code == ZAIO_ERR_MALFORMED);
        }
        //  Every other decoder must cope with the same bytes.
        for (int other = 0; other < DECODE_KINDS; other++)
            if (other != (int)sample->decoder) s_decode ((s_decoder_t)other, buffer, size, &s_out);
    }
    free (buffer);
    printf ("%d mutations (seed 0x%llx); decoded/refused: request %zu/%zu, "
            "reply %zu/%zu, event %zu/%zu, ready %zu/%zu, outcome %zu/%zu, batch %zu/%zu\n",
            MUTATIONS, (unsigned long long)MUTATION_SEED, decoded[DECODE_REQUEST],
            refused[DECODE_REQUEST], decoded[DECODE_REPLY], refused[DECODE_REPLY],
            decoded[DECODE_EVENT], refused[DECODE_EVENT], decoded[DECODE_READY],
            refused[DECODE_READY], decoded[DECODE_OUTCOME], refused[DECODE_OUTCOME],
            decoded[DECODE_BATCH], refused[DECODE_BATCH]);
    s_free_samples ();
}

//  ---------------------------------------------------------------------
//  Cursor

//  A cursor over a heap copy of the bytes, freed by s_cursor_free.
static zaio_cursor_t
s_cursor (const void *data, size_t size)
{
    uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
    assert (copy);
    if (size) memcpy (copy, data, size);
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, copy, size);
    return cursor;
}

static void
s_cursor_free (zaio_cursor_t *cursor, const void *start)
{
    free ((void *)start);
    cursor->pos = cursor->end = NULL;
}

//  A byte array literal and its size, as two arguments.
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof ((const uint8_t[]){__VA_ARGS__})

//  One unsigned integer encoding: reads as value, fully consumed.
static void
s_expect_uint (const uint8_t *data, size_t size, uint64_t value, bool fits_int64)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    assert (zaio_cursor_peek (&cursor) == ZAIO_MP_UINT ||
            zaio_cursor_peek (&cursor) == ZAIO_MP_INT);
    uint64_t u = 0;
    int64_t i = 0;
    assert (zaio_cursor_int (&cursor, &i) == (fits_int64 ? 0 : -1));
    if (fits_int64) {
        assert ((uint64_t)i == value && zaio_cursor_done (&cursor));
        cursor.pos = start;
    } else
        assert (cursor.pos == start);
    assert (zaio_cursor_uint (&cursor, &u) == 0 && u == value && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    //  Any byte short, the read fails and moves nothing.
    for (size_t cut = 0; cut < size; cut++) {
        cursor = s_cursor (data, cut);
        start = cursor.pos;
        assert (zaio_cursor_uint (&cursor, &u) == -1 && cursor.pos == start);
        assert (zaio_cursor_int (&cursor, &i) == -1 && cursor.pos == start);
        assert (zaio_cursor_skip (&cursor, 0) == -1 && cursor.pos == start);
        s_cursor_free (&cursor, start);
    }
}

//  One negative integer encoding: an int, never a uint.
static void
s_expect_negative (const uint8_t *data, size_t size, int64_t value)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    assert (zaio_cursor_peek (&cursor) == ZAIO_MP_INT);
    uint64_t u;
    int64_t i;
    assert (zaio_cursor_uint (&cursor, &u) == -1 && cursor.pos == start);
    assert (zaio_cursor_int (&cursor, &i) == 0 && i == value && zaio_cursor_done (&cursor));
    cursor.pos = start;
    assert (zaio_cursor_skip (&cursor, 0) == 0 && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    for (size_t cut = 0; cut < size; cut++) {
        cursor = s_cursor (data, cut);
        start = cursor.pos;
        assert (zaio_cursor_int (&cursor, &i) == -1 && cursor.pos == start);
        s_cursor_free (&cursor, start);
    }
}

static void
s_test_cursor_integers (void)
{
    s_expect_uint (BYTES (0x00), 0, true);
    s_expect_uint (BYTES (0x7f), 127, true);
    s_expect_uint (BYTES (0xcc, 0xff), 255, true);
    s_expect_uint (BYTES (0xcd, 0xff, 0xff), 65535, true);
    s_expect_uint (BYTES (0xce, 0xff, 0xff, 0xff, 0xff), UINT32_MAX, true);
    s_expect_uint (BYTES (0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), INT64_MAX, true);
    s_expect_uint (BYTES (0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0), (uint64_t)INT64_MAX + 1, false);
    s_expect_uint (BYTES (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), UINT64_MAX, false);
    //  Signed encodings of values >= 0 are valid msgpack and read as uint.
    s_expect_uint (BYTES (0xd0, 0x05), 5, true);
    s_expect_uint (BYTES (0xd1, 0x7f, 0xff), 32767, true);
    s_expect_uint (BYTES (0xd2, 0x00, 0x01, 0x00, 0x00), 65536, true);
    s_expect_uint (BYTES (0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), INT64_MAX, true);

    s_expect_negative (BYTES (0xff), -1);
    s_expect_negative (BYTES (0xe0), -32);
    s_expect_negative (BYTES (0xd0, 0x80), -128);
    s_expect_negative (BYTES (0xd0, 0xff), -1);
    s_expect_negative (BYTES (0xd1, 0x80, 0x00), INT16_MIN);
    s_expect_negative (BYTES (0xd2, 0x80, 0x00, 0x00, 0x00), INT32_MIN);
    s_expect_negative (BYTES (0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), INT64_MIN);
    s_expect_negative (BYTES (0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), -1);

    //  Other families are not integers.
    const uint8_t others[] = {0xc0, 0xc2, 0xc3, 0xa0, 0x80, 0x90, 0xca, 0xc1};
    for (size_t n = 0; n < sizeof others; n++) {
        zaio_cursor_t cursor = s_cursor (&others[n], 1);
        const uint8_t *start = cursor.pos;
        uint64_t u;
        int64_t i;
        assert (zaio_cursor_uint (&cursor, &u) == -1 && zaio_cursor_int (&cursor, &i) == -1);
        assert (cursor.pos == start);
        s_cursor_free (&cursor, start);
    }
}

//  A str encoding of text (len bytes): reads back and skips whole.
static void
s_expect_str (const uint8_t *data, size_t size, const char *text, size_t len)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    assert (zaio_cursor_peek (&cursor) == ZAIO_MP_STR);
    const char *str;
    uint32_t got;
    assert (zaio_cursor_str (&cursor, &str, &got) == 0 && got == len);
    assert (len == 0 || memcmp (str, text, len) == 0);
    assert (zaio_cursor_done (&cursor));
    cursor.pos = start;
    assert (zaio_cursor_skip (&cursor, 0) == 0 && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    for (size_t cut = 0; cut < size; cut++) {
        cursor = s_cursor (data, cut);
        start = cursor.pos;
        assert (zaio_cursor_str (&cursor, &str, &got) == -1 && cursor.pos == start);
        assert (zaio_cursor_skip (&cursor, 0) == -1 && cursor.pos == start);
        s_cursor_free (&cursor, start);
    }
}

//  Bytes that must not read as a str, nor skip.
static void
s_expect_bad_str (const uint8_t *data, size_t size)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    const char *str;
    uint32_t len;
    char buf[8];
    assert (zaio_cursor_str (&cursor, &str, &len) == -1 && cursor.pos == start);
    assert (zaio_cursor_str_copy (&cursor, buf, sizeof buf, 7) == -1 && cursor.pos == start);
    assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);
}

static void
s_test_cursor_strings (void)
{
    s_expect_str (BYTES (0xa0), "", 0);
    s_expect_str (BYTES (0xa3, 'a', 'b', 'c'), "abc", 3);
    s_expect_str (BYTES (0xd9, 0x00), "", 0);
    s_expect_str (BYTES (0xd9, 0x03, 'a', 'b', 'c'), "abc", 3);
    s_expect_str (BYTES (0xda, 0x00, 0x03, 'a', 'b', 'c'), "abc", 3);
    s_expect_str (BYTES (0xdb, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c'), "abc", 3);

    //  Lengths that claim more than there is.
    s_expect_bad_str (BYTES (0xa5, 'a'));
    s_expect_bad_str (BYTES (0xd9, 0x04, 'a', 'b', 'c'));
    s_expect_bad_str (BYTES (0xda, 0xff, 0xff, 'a'));
    s_expect_bad_str (BYTES (0xdb, 0xff, 0xff, 0xff, 0xff));
    s_expect_bad_str (BYTES (0xdb, 0x00, 0x00));

    //  bin is not str, though it skips.
    zaio_cursor_t cursor = s_cursor (BYTES (0xc4, 0x01, 'a'));
    const uint8_t *start = cursor.pos;
    const char *str;
    uint32_t len;
    assert (zaio_cursor_peek (&cursor) == ZAIO_MP_BIN);
    assert (zaio_cursor_str (&cursor, &str, &len) == -1 && cursor.pos == start);
    assert (zaio_cursor_skip (&cursor, 0) == 0 && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    cursor = s_cursor (BYTES (0xc6, 0xff, 0xff, 0xff, 0xff, 0x00));
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 0) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);

    //  str_copy: NUL bytes, max_len and buffer size each refuse.
    char buf[4];
    cursor = s_cursor (BYTES (0xa3, 'a', 0x00, 'b'));
    start = cursor.pos;
    assert (zaio_cursor_str_copy (&cursor, buf, sizeof buf, 3) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);
    cursor = s_cursor (BYTES (0xa3, 'a', 'b', 'c'));
    start = cursor.pos;
    assert (zaio_cursor_str_copy (&cursor, buf, sizeof buf, 2) == -1 && cursor.pos == start);
    assert (zaio_cursor_str_copy (&cursor, buf, 3, 3) == -1 && cursor.pos == start);
    assert (zaio_cursor_str_copy (&cursor, buf, sizeof buf, 3) == 0 && strcmp (buf, "abc") == 0);
    assert (zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
}

//  A container header: reads as count of the family, or fails unmoved.
static void
s_expect_container (const uint8_t *data, size_t size, zaio_mp_type_t family, int count)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    uint32_t got = 0;
    int (*read) (zaio_cursor_t *, uint32_t *) =
        family == ZAIO_MP_MAP ? zaio_cursor_map : zaio_cursor_array;
    int (*other) (zaio_cursor_t *, uint32_t *) =
        family == ZAIO_MP_MAP ? zaio_cursor_array : zaio_cursor_map;
    assert (zaio_cursor_peek (&cursor) == family);
    assert (other (&cursor, &got) == -1 && cursor.pos == start);
    if (count < 0) {
        assert (read (&cursor, &got) == -1 && cursor.pos == start);
        assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == -1 && cursor.pos == start);
    } else {
        assert (read (&cursor, &got) == 0 && got == (uint32_t)count);
        cursor.pos = start;
        assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == 0 && zaio_cursor_done (&cursor));
    }
    s_cursor_free (&cursor, start);
}

static void
s_test_cursor_containers (void)
{
    s_expect_container (BYTES (0x80), ZAIO_MP_MAP, 0);
    s_expect_container (BYTES (0x81, 0xa1, 'a', 0x01), ZAIO_MP_MAP, 1);
    s_expect_container (BYTES (0xde, 0x00, 0x01, 0xa1, 'a', 0x01), ZAIO_MP_MAP, 1);
    s_expect_container (BYTES (0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 'a', 0x01), ZAIO_MP_MAP, 1);
    s_expect_container (BYTES (0xde, 0x00, 0x00), ZAIO_MP_MAP, 0);
    //  Counts the remaining bytes cannot hold.
    s_expect_container (BYTES (0x82, 0x01, 0x02), ZAIO_MP_MAP, -1);
    s_expect_container (BYTES (0xde, 0xff, 0xff, 0x01, 0x02), ZAIO_MP_MAP, -1);
    s_expect_container (BYTES (0xdf, 0xff, 0xff, 0xff, 0xff), ZAIO_MP_MAP, -1);
    s_expect_container (BYTES (0xdf, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02, 0x03), ZAIO_MP_MAP, -1);
    s_expect_container (BYTES (0xde, 0x00), ZAIO_MP_MAP, -1);
    s_expect_container (BYTES (0xdf, 0x00, 0x00, 0x00), ZAIO_MP_MAP, -1);

    s_expect_container (BYTES (0x90), ZAIO_MP_ARRAY, 0);
    s_expect_container (BYTES (0x92, 0x01, 0x02), ZAIO_MP_ARRAY, 2);
    s_expect_container (BYTES (0xdc, 0x00, 0x02, 0x01, 0x02), ZAIO_MP_ARRAY, 2);
    s_expect_container (BYTES (0xdd, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02), ZAIO_MP_ARRAY, 2);
    s_expect_container (BYTES (0x93, 0x01, 0x02), ZAIO_MP_ARRAY, -1);
    s_expect_container (BYTES (0xdc, 0x00, 0x03, 0x01, 0x02), ZAIO_MP_ARRAY, -1);
    s_expect_container (BYTES (0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), ZAIO_MP_ARRAY, -1);
    s_expect_container (BYTES (0xdc), ZAIO_MP_ARRAY, -1);

    //  A plausible count whose elements are truncated fails in skip.
    zaio_cursor_t cursor = s_cursor (BYTES (0x92, 0x01, 0xcd, 0x01));
    const uint8_t *start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 1) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);
}

//  Bytes that skip whole (good) or fail to skip, unmoved.
static void
s_expect_skip (const uint8_t *data, size_t size, zaio_mp_type_t family, bool good)
{
    zaio_cursor_t cursor = s_cursor (data, size);
    const uint8_t *start = cursor.pos;
    assert (zaio_cursor_peek (&cursor) == family);
    if (good) {
        assert (zaio_cursor_skip (&cursor, 0) == 0 && zaio_cursor_done (&cursor));
        s_cursor_free (&cursor, start);
        for (size_t cut = 0; cut < size; cut++) {
            cursor = s_cursor (data, cut);
            start = cursor.pos;
            assert (zaio_cursor_skip (&cursor, 0) == -1 && cursor.pos == start);
            s_cursor_free (&cursor, start);
        }
    } else {
        assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == -1 && cursor.pos == start);
        s_cursor_free (&cursor, start);
    }
}

static void
s_test_cursor_skip (void)
{
    //  ext: every fixed and variable width, skipped as opaque values.
    s_expect_skip (BYTES (0xd4, 0x01, 0xaa), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xd5, 0x01, 0xaa, 0xbb), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xd6, 0xff, 1, 2, 3, 4), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xd7, 0xff, 1, 2, 3, 4, 5, 6, 7, 8), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xd8, 0x05, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
                   ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xc7, 0x00, 0x01), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xc7, 0x03, 0x01, 1, 2, 3), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xc8, 0x00, 0x03, 0x01, 1, 2, 3), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xc9, 0x00, 0x00, 0x00, 0x03, 0x01, 1, 2, 3), ZAIO_MP_EXT, true);
    s_expect_skip (BYTES (0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 1), ZAIO_MP_EXT, false);
    s_expect_skip (BYTES (0xc8, 0xff, 0xff, 0x01), ZAIO_MP_EXT, false);
    s_expect_skip (BYTES (0xc7, 0x02, 0x01, 1), ZAIO_MP_EXT, false);

    //  Floats are skipped, never read as integers.
    s_expect_skip (BYTES (0xca, 0x3f, 0x80, 0x00, 0x00), ZAIO_MP_FLOAT, true);
    s_expect_skip (BYTES (0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), ZAIO_MP_FLOAT, true);
    s_expect_skip (BYTES (0xc0), ZAIO_MP_NIL, true);
    s_expect_skip (BYTES (0xc2), ZAIO_MP_BOOL, true);
    s_expect_skip (BYTES (0xc3), ZAIO_MP_BOOL, true);

    //  0xc1 is never used: nothing reads it.
    zaio_cursor_t cursor = s_cursor (BYTES (0xc1));
    const uint8_t *start = cursor.pos;
    uint32_t count;
    uint64_t u;
    bool flag;
    const char *str;
    assert (zaio_cursor_peek (&cursor) == ZAIO_MP_INVALID);
    assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == -1);
    assert (zaio_cursor_map (&cursor, &count) == -1 && zaio_cursor_array (&cursor, &count) == -1);
    assert (zaio_cursor_str (&cursor, &str, &count) == -1 && zaio_cursor_uint (&cursor, &u) == -1);
    assert (zaio_cursor_bool (&cursor, &flag) == -1 && zaio_cursor_nil (&cursor) == -1);
    assert (cursor.pos == start && !zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    //  Inside a container, it fails the whole skip.
    cursor = s_cursor (BYTES (0x92, 0x01, 0xc1));
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 1) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);

    //  An empty input holds nothing.
    cursor = s_cursor (NULL, 0);
    start = cursor.pos;
    assert (zaio_cursor_done (&cursor) && zaio_cursor_peek (&cursor) == ZAIO_MP_INVALID);
    assert (zaio_cursor_skip (&cursor, 1) == -1 && zaio_cursor_uint (&cursor, &u) == -1);
    assert (zaio_cursor_map (&cursor, &count) == -1 && zaio_cursor_nil (&cursor) == -1);
    assert (zaio_cursor_bool (&cursor, &flag) == -1 &&
            zaio_cursor_str (&cursor, &str, &count) == -1);
    s_cursor_free (&cursor, start);

    //  Regression: (NULL, 0) is an empty input, not a NULL + 0 that
    //  UBSan reports (run under scripts/fuzz or ZAIO_SANITIZE to see it).
    zaio_cursor_init (&cursor, NULL, 0);
    assert (zaio_cursor_done (&cursor) && zaio_cursor_skip (&cursor, 1) == -1);
    assert (zaio_request_decode (&s_out.request, NULL, 0, NULL, 0) == ZAIO_ERR_MALFORMED);
    assert (zaio_reply_decode (&s_out.reply, NULL, 0, NULL, 0) == ZAIO_ERR_MALFORMED);
    assert (zaio_event_decode (&s_out.event, NULL, 0) == ZAIO_ERR_MALFORMED);
    assert (zaio_ready_decode (&s_out.ready, NULL, 0) == ZAIO_ERR_MALFORMED);
    assert (zaio_outcome_decode (&s_out.outcome, NULL, 0) == ZAIO_ERR_MALFORMED);

    //  Depth: n nested arrays need max_depth n; a map's values count too.
    cursor = s_cursor (BYTES (0x91, 0x91, 0x91, 0x90));
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 3) == -1 && cursor.pos == start);
    assert (zaio_cursor_skip (&cursor, 4) == 0 && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    cursor = s_cursor (BYTES (0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x90));
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 2) == -1 && cursor.pos == start);
    assert (zaio_cursor_skip (&cursor, 3) == 0 && zaio_cursor_done (&cursor));
    s_cursor_free (&cursor, start);
    cursor = s_cursor (BYTES (0x90));
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, 0) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);
    //  A deep bomb is refused at the limit, without deep recursion.
    size_t deep = 100000;
    uint8_t *bomb = (uint8_t *)malloc (deep + 1);
    assert (bomb);
    memset (bomb, 0x91, deep);
    bomb[deep] = 0x90;
    cursor = s_cursor (bomb, deep + 1);
    start = cursor.pos;
    assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == -1 && cursor.pos == start);
    s_cursor_free (&cursor, start);
    free (bomb);
}

//  ---------------------------------------------------------------------
//  Requests

static void
s_test_request_limits (void)
{
    char text[JSON_TEXT_MAX];
    static const struct {
        const char *op;
        const char *field;
        size_t max;
        int code;
    } strings[] = {
        {"stat", "path", ZAIO_PATH_MAX, ENAMETOOLONG},
        {"rename\", \"path\": \"a", "to", ZAIO_PATH_MAX, ENAMETOOLONG},
        {"listdir\", \"path\": \"a", "after", ZAIO_NAME_MAX, ZAIO_ERR_TOOBIG},
        {"ping", "volume", ZAIO_VOLUME_MAX, ZAIO_ERR_TOOBIG},
        {"ping", "key", ZAIO_KEY_MAX, ZAIO_ERR_TOOBIG},
    };
    for (size_t i = 0; i < sizeof (strings) / sizeof (strings[0]); i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            snprintf (text, sizeof text, "{\"id\": 1, \"op\": \"%s\", \"%s\": \"%s\"}",
                      strings[i].op, strings[i].field, s_repeat ('x', strings[i].max + extra));
            s_expect (DECODE_REQUEST, extra ? strings[i].code : 0, text);
        }
        //  A NUL byte anywhere is EINVAL.
        snprintf (text, sizeof text, "{\"id\": 1, \"op\": \"%s\", \"%s\": \"x\\u0000\"}",
                  strings[i].op, strings[i].field);
        s_expect (DECODE_REQUEST, EINVAL, text);
    }
    //  Numbers at and past their maxima.
    static const struct {
        const char *text;
        int code;
    } numbers[] = {
        {"{\"id\": 1, \"op\": \"listdir\", \"path\": \"\", \"limit\": 10000}", 0},
        {"{\"id\": 1, \"op\": \"listdir\", \"path\": \"\", \"limit\": 10001}", ZAIO_ERR_TOOBIG},
        {"{\"id\": 1, \"op\": \"listdir\", \"path\": \"\", \"limit\": 1}", 0},
        {"{\"id\": 1, \"op\": \"ping\", \"priority\": 255}", 0},
        {"{\"id\": 1, \"op\": \"ping\", \"priority\": 256}", ZAIO_ERR_TOOBIG},
        {"{\"id\": 1, \"op\": \"ping\", \"deadline\": 4294967295}", 0},
        {"{\"id\": 1, \"op\": \"ping\", \"deadline\": 4294967296}", ZAIO_ERR_TOOBIG},
        {"{\"id\": 1, \"op\": \"mkdir\", \"path\": \"a\", \"mode\": 4095}", 0},
        {"{\"id\": 1, \"op\": \"truncate\", \"path\": \"a\", \"size\": 9223372036854775807}", 0},
        {"{\"id\": 1, \"op\": \"truncate\", \"path\": \"a\", \"size\": 9223372036854775808}",
         ZAIO_ERR_TOOBIG},
        {"{\"id\": 1, \"op\": \"read\", \"path\": \"a\", \"length\": 18446744073709551615}",
         ZAIO_ERR_TOOBIG},
        {"{\"id\": 1, \"op\": \"truncate\", \"path\": \"a\", \"size\": -1}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"priority\": true}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"link\": 0}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"link\": null}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"volume\": 7}", ZAIO_ERR_MALFORMED},
        //  Order, repetition and presence.
        {"{\"path\": \"a\", \"op\": \"stat\", \"id\": 9}", 0},
        {"{\"id\": 1, \"op\": \"PING\"}", ZAIO_ERR_UNKNOWN_OP},
        {"{\"id\": 1, \"op\": \"\"}", ZAIO_ERR_UNKNOWN_OP},
        //  op is a string like the others: a NUL byte is EINVAL (rule 7).
        {"{\"id\": 1, \"op\": \"ping\\u0000\"}", EINVAL},
        {"{\"id\": 1, \"op\": \"\\u0000\", \"path\": \"a\"}", EINVAL},
        {"{\"id\": 1, \"op\": \"hello\", \"path\": \"a\"}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"rename\", \"path\": \"a\"}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"truncate\", \"path\": \"a\"}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"append\", \"path\": \"a\", \"offset\": 0}", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"\": 1}", ZAIO_ERR_MALFORMED},
        {"{}", ZAIO_ERR_MALFORMED},
        {"[]", ZAIO_ERR_MALFORMED},
        {"\"id\"", ZAIO_ERR_MALFORMED},
        {"{\"id\": 1, \"op\": \"ping\", \"key\": \"k\", \"barrier\": true, \"link\": false, "
         "\"deadline\": 0, \"priority\": 0, \"volume\": \"v\"}",
         0},
    };
    for (size_t i = 0; i < sizeof (numbers) / sizeof (numbers[0]); i++)
        s_expect (DECODE_REQUEST, numbers[i].code, numbers[i].text);

    //  The id is kept once read, so an error reply can be addressed.
    s_expect (DECODE_REQUEST, ZAIO_ERR_UNKNOWN_OP, "{\"id\": 77, \"op\": \"format_disk\"}");
    assert (s_out.request.id == 77);
    s_expect (DECODE_REQUEST, ZAIO_ERR_MALFORMED, "{\"id\": 78, \"x\": 1, \"op\": \"ping\"}");
    assert (s_out.request.id == 78);
    s_expect (DECODE_REQUEST, ZAIO_ERR_MALFORMED, "{\"op\": \"ping\", \"id\": \"79\"}");
    assert (s_out.request.id == 0);

    //  A key twice is refused, whichever key (JSON cannot say this).
    const uint8_t twice_id[] = {0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa4,
                                'p',  'i',  'n', 'g', 0xa2, 'i',  'd', 0x02};
    const uint8_t twice_op[] = {0x83, 0xa2, 'i',  'd', 0x01, 0xa2, 'o', 'p', 0xa4, 'p', 'i',
                                'n',  'g',  0xa2, 'o', 'p',  0xa4, 'p', 'i', 'n',  'g'};
    const uint8_t twice_link[] = {0x84, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa4,
                                  'p',  'i',  'n', 'g', 0xa4, 'l',  'i', 'n', 'k',
                                  0xc3, 0xa4, 'l', 'i', 'n',  'k',  0xc3};
    assert (s_decode (DECODE_REQUEST, twice_id, sizeof twice_id, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_out.request.id == 1);
    assert (s_decode (DECODE_REQUEST, twice_op, sizeof twice_op, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_decode (DECODE_REQUEST, twice_link, sizeof twice_link, &s_out) == ZAIO_ERR_MALFORMED);
    //  An op that is not UTF-8 is malformed, like any other string.
    const uint8_t op_latin1[] = {0x82, 0xa2, 'i', 'd',  0x01, 0xa2, 'o',
                                 'p',  0xa4, 'p', 0xe9, 'n',  'g'};
    assert (s_decode (DECODE_REQUEST, op_latin1, sizeof op_latin1, &s_out) == ZAIO_ERR_MALFORMED);

    //  Any integer encoding is accepted; the size limit comes first.
    uint8_t header[] = {0x82, 0xa2, 'i',  'd', 0xd3, 0,    0,   0,   0,   0,  0,
                        0,    0x05, 0xa2, 'o', 'p',  0xa4, 'p', 'i', 'n', 'g'};
    assert (s_decode (DECODE_REQUEST, header, sizeof header, &s_out) == 0);
    assert (s_out.request.id == 5 && s_out.request.op == ZAIO_OP_PING);
    uint8_t *big = (uint8_t *)calloc (1, ZAIO_HEADER_MAX + 1);
    assert (big);
    memcpy (big, header, sizeof header);
    assert (s_decode (DECODE_REQUEST, big, ZAIO_HEADER_MAX, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_decode (DECODE_REQUEST, big, ZAIO_HEADER_MAX + 1, &s_out) == ZAIO_ERR_TOOBIG);
    free (big);
}

//  A message of the given frames through zaio_request_decode_message.
static int
s_decode_message (const char *signature, const char *header_json, int data_frames, size_t data_size,
                  size_t payload_max)
{
    zmsg_t *msg = zmsg_new ();
    if (signature) zmsg_addstr (msg, signature);
    if (header_json) {
        zframe_t *frame = s_pack (header_json);
        zmsg_append (msg, &frame);
    }
    char *data = (char *)calloc (1, data_size + 1);
    assert (data);
    for (int i = 0; i < data_frames; i++) zmsg_addmem (msg, data, data_size);
    free (data);
    zaio_request_t req;
    char why[256] = "";
    int code = zaio_request_decode_message (&req, msg, payload_max, why, sizeof why);
    assert (code == 0 || why[0]);
    zmsg_destroy (&msg);
    return code;
}

static void
s_test_request_messages (void)
{
    const char *write = "{\"id\": 1, \"op\": \"write\", \"path\": \"a\"}";
    const char *read = "{\"id\": 1, \"op\": \"read\", \"path\": \"a\", \"length\": 16}";
    assert (s_decode_message (ZAIO_SIGNATURE, write, 1, 16, 16) == 0);
    assert (s_decode_message (ZAIO_SIGNATURE, write, 1, 17, 16) == ZAIO_ERR_TOOBIG);
    assert (s_decode_message (ZAIO_SIGNATURE, write, 1, 0, 16) == 0);
    assert (s_decode_message (ZAIO_SIGNATURE, write, 2, 0, 16) == ZAIO_ERR_MALFORMED);
    assert (s_decode_message (ZAIO_SIGNATURE, write, 0, 0, 16) == ZAIO_ERR_MALFORMED);
    assert (s_decode_message (ZAIO_SIGNATURE, read, 0, 0, 16) == 0);
    assert (s_decode_message (ZAIO_SIGNATURE, read, 0, 0, 15) == ZAIO_ERR_TOOBIG);
    assert (s_decode_message (ZAIO_SIGNATURE, read, 1, 0, 16) == ZAIO_ERR_MALFORMED);
    assert (s_decode_message ("ZAIO/1 ", read, 0, 0, 16) == ZAIO_ERR_BADVERSION);
    assert (s_decode_message ("ZAIOW/1", read, 0, 0, 16) == ZAIO_ERR_BADVERSION);
    assert (s_decode_message ("", read, 0, 0, 16) == ZAIO_ERR_BADVERSION);
    assert (s_decode_message (NULL, NULL, 0, 0, 16) == ZAIO_ERR_BADVERSION);
    assert (s_decode_message (ZAIO_SIGNATURE, NULL, 0, 0, 16) == ZAIO_ERR_MALFORMED);
    //  A header error wins over a frame count error.
    assert (s_decode_message (ZAIO_SIGNATURE, "{\"id\": 1, \"op\": \"x\"}", 3, 0, 16) ==
            ZAIO_ERR_UNKNOWN_OP);
}

static void
s_test_request_set_str (void)
{
    static const struct {
        zaio_field_t field;
        size_t max;
    } fields[] = {
        {ZAIO_FIELD_PATH, ZAIO_PATH_MAX},  {ZAIO_FIELD_TO, ZAIO_PATH_MAX},
        {ZAIO_FIELD_AFTER, ZAIO_NAME_MAX}, {ZAIO_FIELD_VOLUME, ZAIO_VOLUME_MAX},
        {ZAIO_FIELD_KEY, ZAIO_KEY_MAX},
    };
    zaio_request_t req;
    for (size_t i = 0; i < sizeof (fields) / sizeof (fields[0]); i++) {
        zaio_request_init (&req, ZAIO_OP_PING, 1);
        assert (zaio_request_set_str (&req, fields[i].field, s_repeat ('y', fields[i].max + 1)) ==
                -1);
        assert (req.fields == (ZAIO_FIELD_ID | ZAIO_FIELD_OP));
        assert (zaio_request_set_str (&req, fields[i].field, s_repeat ('y', fields[i].max)) == 0);
        assert (req.fields & fields[i].field);
        assert (zaio_request_set_str (&req, fields[i].field, "") == 0);
    }
    zaio_request_init (&req, ZAIO_OP_STAT, 1);
    assert (zaio_request_set_str (&req, ZAIO_FIELD_PATH, "abc") == 0);
    assert (zaio_request_set_str (&req, ZAIO_FIELD_PATH, s_repeat ('z', 5000)) == -1);
    assert (strcmp (req.path, "abc") == 0);
}

//  ---------------------------------------------------------------------
//  Replies and events

static void
s_test_replies (void)
{
    s_expect (DECODE_REPLY, 0, "{\"ok\": true, \"id\": 1}");
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": true, \"future\": {\"a\": [1, {\"b\": 2}]}}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED,
              "{\"id\": 1, \"ok\": true, \"future\": {\"a\": [1, {\"b\": [2]}]}}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"ok\": true}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": -1, \"ok\": true}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": 1}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": true, \"bytes\": -1}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": true, \"eof\": \"yes\"}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": true, \"mode\": 4294967296}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED,
              "{\"id\": 1, \"ok\": true, \"type\": \"0123456789abcdef\"}");
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": true, \"type\": \"0123456789abcde\"}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED,
              "{\"id\": 1, \"ok\": true, \"mtime_ns\": 9223372036854775808}");
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": true, \"mtime_ns\": -9223372036854775808}");
    assert (s_out.reply.mtime_ns == INT64_MIN && (s_out.reply.present & ZAIO_RESULT_MTIME));
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": true, \"entries\": [[[1]]]}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": false, \"error\": 2}");
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1, \"ok\": false, \"message\": null}");
    //  Errors the client does not know, or that are missing, are INTERNAL.
    s_expect (DECODE_REPLY, 0,
              "{\"id\": 1, \"ok\": false, \"error\": \"EWHAT\", \"message\": \"m\"}");
    assert (s_out.reply.error == ZAIO_ERR_INTERNAL);
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": false}");
    assert (s_out.reply.error == ZAIO_ERR_INTERNAL);
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": false, \"error\": \"ENOENT\"}");
    assert (s_out.reply.error == ENOENT && !s_out.reply.ok);
    //  Messages are cut to fit and made printable.
    char text[JSON_TEXT_MAX];
    snprintf (text, sizeof text,
              "{\"id\": 1, \"ok\": false, \"error\": \"EIO\", \"message\": \"\\u00e9\\n%s\"}",
              s_repeat ('m', 1000));
    s_expect (DECODE_REPLY, 0, text);
    assert (strlen (s_out.reply.message) == sizeof s_out.reply.message - 1);
    for (const char *c = s_out.reply.message; *c; c++) assert (*c >= 0x20 && *c < 0x7f);
    //  Trailing bytes.
    uint8_t trailing[] = {0x82, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'k', 0xc3, 0xc0};
    assert (s_decode (DECODE_REPLY, trailing, sizeof trailing, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_decode (DECODE_REPLY, trailing, sizeof trailing - 1, &s_out) == 0);
}

//  The reply table: every result lands in its member with its presence
//  bit, at the edges of its type, and a mistyped one is named in why.
static void
s_test_reply_table (void)
{
    s_expect (DECODE_REPLY, 0, "{\"id\": 1, \"ok\": true}");
    assert (s_out.reply.present == 0 && s_out.reply.id == 1 && s_out.reply.ok);
    s_expect (DECODE_REPLY, 0,
              "{\"id\": 18446744073709551615, \"ok\": true, \"bytes\": "
              "18446744073709551615, \"offset\": 1, \"size\": 2, \"mode\": 4294967295, "
              "\"mtime_ns\": -9223372036854775808, \"eof\": true, \"more\": false, "
              "\"type\": \"dir\", \"entries\": [{\"name\": \"a\"}], \"later\": 1}");
    const zaio_reply_t *reply = &s_out.reply;
    assert (reply->present == (ZAIO_RESULT_BYTES | ZAIO_RESULT_OFFSET | ZAIO_RESULT_SIZE |
                               ZAIO_RESULT_MODE | ZAIO_RESULT_MTIME | ZAIO_RESULT_EOF |
                               ZAIO_RESULT_MORE | ZAIO_RESULT_TYPE | ZAIO_RESULT_ENTRIES));
    assert (reply->id == UINT64_MAX && reply->bytes == UINT64_MAX && reply->offset == 1);
    assert (reply->size == 2 && reply->mode == UINT32_MAX && reply->mtime_ns == INT64_MIN);
    assert (reply->eof && !reply->more && strcmp (reply->type, "dir") == 0);
    assert (reply->entries_size == 9); //  0x91 0x81 0xa4 "name" 0xa1 "a"
    assert (reply->error == 0 && reply->message[0] == 0);

    static const char *const keys[] = {"id",     "ok",   "error",  "message",  "bytes",
                                       "offset", "size", "mode",   "mtime_ns", "eof",
                                       "more",   "type", "entries"};
    for (size_t i = 0; i < sizeof (keys) / sizeof (keys[0]); i++) {
        char text[256], want[64];
        //  A nil is of no scalar result's type; entries may be any value
        //  no deeper than a page of entry maps.
        const char *bad = strcmp (keys[i], "entries") == 0 ? "[[[1]]]" : "null";
        snprintf (text, sizeof text, "{\"id\": 1, \"ok\": true, \"%s\": %s}", keys[i], bad);
        if (strcmp (keys[i], "id") == 0 || strcmp (keys[i], "ok") == 0)
            snprintf (text, sizeof text, "{\"%s\": null}", keys[i]);
        s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, text);
        snprintf (want, sizeof want, "reply field '%s' is malformed", keys[i]);
        assert (strcmp (s_out.why, want) == 0);
    }
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "[1]");
    assert (strcmp (s_out.why, "reply header must be a map") == 0);
    s_expect (DECODE_REPLY, ZAIO_ERR_MALFORMED, "{\"id\": 1}");
    assert (strcmp (s_out.why, "reply lacks 'id' or 'ok'") == 0);
    printf ("test_codec: reply table OK\n");
}

//  Decodes a heap copy of exactly the frame's bytes.
static int
s_hello_decode_frame (zaio_hello_t *hello, zframe_t *frame)
{
    size_t size = zframe_size (frame);
    uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
    assert (copy);
    memcpy (copy, zframe_data (frame), size);
    int code = zaio_hello_decode (hello, copy, size);
    free (copy);
    return code;
}

static int
s_hello_json (zaio_hello_t *hello, const char *json_text)
{
    zframe_t *frame = s_pack (json_text);
    int code = s_hello_decode_frame (hello, frame);
    zframe_destroy (&frame);
    return code;
}

//  A hello packed with zaio_hello_pack, as a frame the caller destroys.
static zframe_t *
s_hello_frame (uint64_t id, const zaio_hello_t *hello)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_hello_pack (&writer.packer, id, hello);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    assert (frame);
    return frame;
}

static void
s_test_hello (void)
{
    //  Round trip at the edges; volumes come back sorted by name whatever
    //  order they were packed in.
    static zaio_hello_t hello, sorted, back;
    memset (&hello, 0, sizeof hello);
    memset (&sorted, 0, sizeof sorted);
    hello.protocol = UINT32_MAX;
    strcpy (hello.version, s_repeat ('v', sizeof hello.version - 1));
    hello.header_max = UINT64_MAX;
    hello.queue_bytes_max = 1;
    hello.reply_hwm = 1000;
    hello.ops = (1u << ZAIO_OP_COUNT) - 1;
    hello.volume_count = sorted.volume_count = ZAIO_HELLO_VOLUMES_MAX;
    for (int i = 0; i < ZAIO_HELLO_VOLUMES_MAX; i++) {
        zaio_hello_volume_t *volume = &hello.volumes[ZAIO_HELLO_VOLUMES_MAX - 1 - i];
        snprintf (volume->name, sizeof volume->name, "v%03d", i);
        if (i == 0) //  the longest name, first in order
            memset (volume->name + 4, 'n', ZAIO_VOLUME_MAX - 4);
        volume->readonly = i % 3 == 0;
        volume->workers = UINT32_MAX - (uint32_t)i;
        sorted.volumes[i] = *volume;
    }
    memcpy (sorted.version, hello.version, sizeof hello.version);
    sorted.protocol = hello.protocol;
    sorted.header_max = hello.header_max;
    sorted.queue_bytes_max = hello.queue_bytes_max;
    sorted.reply_hwm = hello.reply_hwm;
    sorted.ops = hello.ops;
    zframe_t *frame = s_hello_frame (7, &hello);
    assert (s_hello_decode_frame (&back, frame) == 0);
    assert (memcmp (&back, &sorted, sizeof back) == 0);
    //  The same reply to the reply decoder, and every prefix refused.
    assert (s_decode (DECODE_REPLY, zframe_data (frame), zframe_size (frame), &s_out) == 0);
    assert (s_out.reply.id == 7 && s_out.reply.ok && s_out.reply.present == 0);
    for (size_t size = 0; size < zframe_size (frame); size++) {
        uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
        assert (copy);
        memcpy (copy, zframe_data (frame), size);
        assert (zaio_hello_decode (&back, copy, size) == ZAIO_ERR_MALFORMED);
        free (copy);
    }
    zframe_destroy (&frame);

    //  Nothing set: every limit 0, no ops, no volumes, all still on the wire.
    memset (&hello, 0, sizeof hello);
    frame = s_hello_frame (1, &hello);
    assert (s_hello_decode_frame (&back, frame) == 0);
    assert (memcmp (&back, &hello, sizeof back) == 0);
    zframe_destroy (&frame);
    //  Only the ops whose bit is set, in op order.
    hello.ops = (1u << ZAIO_OP_COPY) | (1u << ZAIO_OP_PING) | (1u << 31);
    frame = s_hello_frame (1, &hello);
    assert (s_hello_decode_frame (&back, frame) == 0);
    assert (back.ops == ((1u << ZAIO_OP_COPY) | (1u << ZAIO_OP_PING)));
    zframe_destroy (&frame);

    //  What a client skips: unknown keys, limits, ops and volume fields,
    //  limits of other types; versions are cut to fit.
    assert (s_hello_json (&back,
                          "{\"id\": 1, \"ok\": true, \"later\": {\"a\": [1]}, \"limits\": "
                          "{\"payload_max\": 5, \"new_max\": 6, \"queue_max\": \"x\"}, "
                          "\"ops\": [\"ping\", \"teleport\"], \"volumes\": [{\"name\": "
                          "\"a\", \"readonly\": true, \"workers\": 3, \"zone\": [1]}]}") == 0);
    assert (back.payload_max == 5 && back.queue_max == 0 && back.ops == 1u << ZAIO_OP_PING);
    assert (back.volume_count == 1 && strcmp (back.volumes[0].name, "a") == 0);
    assert (back.volumes[0].readonly && back.volumes[0].workers == 3);
    char text[JSON_TEXT_MAX];
    snprintf (text, sizeof text, "{\"version\": \"%s\"}", s_repeat ('v', 100));
    assert (s_hello_json (&back, text) == 0);
    assert (strlen (back.version) == sizeof back.version - 1);
    //  Volumes past ZAIO_HELLO_VOLUMES_MAX are dropped.
    size_t used = (size_t)snprintf (text, sizeof text, "{\"volumes\": [");
    for (int i = 0; i <= ZAIO_HELLO_VOLUMES_MAX; i++)
        used += (size_t)snprintf (text + used, sizeof text - used, "%s{\"name\": \"v%d\"}",
                                  i ? ", " : "", i);
    snprintf (text + used, sizeof text - used, "]}");
    assert (s_hello_json (&back, text) == 0);
    assert (back.volume_count == ZAIO_HELLO_VOLUMES_MAX);
    assert (strcmp (back.volumes[ZAIO_HELLO_VOLUMES_MAX - 1].name, "v255") == 0);

    static const char *const malformed[] = {
        "[1]",
        "{\"limits\": [1]}",
        "{\"limits\": {\"a\": [[1]]}}",
        "{\"ops\": {}}",
        "{\"ops\": [1]}",
        "{\"protocol\": -1}",
        "{\"protocol\": 4294967296}",
        "{\"version\": 1}",
        "{\"volumes\": {}}",
        "{\"volumes\": [[]]}",
        "{\"volumes\": [{\"readonly\": 1}]}",
        "{\"volumes\": [{\"workers\": 4294967296}]}",
        "{\"volumes\": [{\"name\": \"a\\u0000\"}]}",
        "{\"volumes\": [{\"name\": \"a\", \"zone\": [[1]]}]}",
        "{\"later\": [[[[1]]]]}",
    };
    for (size_t i = 0; i < sizeof (malformed) / sizeof (malformed[0]); i++)
        assert (s_hello_json (&back, malformed[i]) == ZAIO_ERR_MALFORMED);
    snprintf (text, sizeof text, "{\"volumes\": [{\"name\": \"%s\"}]}",
              s_repeat ('n', ZAIO_VOLUME_MAX + 1));
    assert (s_hello_json (&back, text) == ZAIO_ERR_MALFORMED);
    uint8_t trailing[] = {0x80, 0xc0};
    assert (zaio_hello_decode (&back, trailing, sizeof trailing) == ZAIO_ERR_MALFORMED);
    assert (zaio_hello_decode (&back, trailing, 1) == 0);
    printf ("test_codec: hello OK\n");
}

//  Decodes a heap copy of exactly size bytes of data; frees the entries.
static int
s_dirents_decode (const void *data, size_t size, size_t *count_p)
{
    uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
    assert (copy);
    if (size) memcpy (copy, data, size);
    zaio_dirent_t *entries = (zaio_dirent_t *)copy; //  anything but NULL
    int code = zaio_dirents_decode (copy, size, &entries, count_p);
    assert (code == 0 ? entries != NULL : entries == NULL && *count_p == 0);
    free (entries);
    free (copy);
    return code;
}

static int
s_dirents_json (const char *json_text, size_t *count_p)
{
    zframe_t *frame = s_pack (json_text);
    int code = s_dirents_decode (zframe_data (frame), zframe_size (frame), count_p);
    zframe_destroy (&frame);
    return code;
}

static void
s_test_dirents (void)
{
    //  Round trip at the edges.
    zaio_dirent_t entries[3];
    memset (entries, 0, sizeof entries);
    strcpy (entries[0].name, s_repeat ('n', ZAIO_NAME_MAX));
    strcpy (entries[0].type, "symlink");
    entries[0].size = UINT64_MAX;
    entries[0].mtime_ns = INT64_MIN;
    strcpy (entries[1].name, "\xc3\xa9t\xc3\xa9");
    strcpy (entries[1].type, s_repeat ('t', sizeof entries[1].type - 1));
    entries[1].mtime_ns = INT64_MAX;
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_pack_array (&writer.packer, 3);
    for (int i = 0; i < 3; i++) zaio_dirent_pack (&writer.packer, &entries[i]);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_dirent_t *back = NULL;
    size_t count = 0;
    assert (zaio_dirents_decode (zframe_data (frame), zframe_size (frame), &back, &count) == 0);
    assert (count == 3 && memcmp (back, entries, sizeof entries) == 0);
    free (back);
    for (size_t size = 0; size < zframe_size (frame); size++)
        assert (s_dirents_decode (zframe_data (frame), size, &count) == ZAIO_ERR_MALFORMED);
    zframe_destroy (&frame);

    //  Up to ZAIO_LISTDIR_MAX entries, not one more; unknown keys skipped.
    assert (s_dirents_json ("[]", &count) == 0 && count == 0);
    assert (s_dirents_json ("[{}, {\"name\": \"a\", \"later\": [1]}]", &count) == 0 && count == 2);
    for (uint32_t n = ZAIO_LISTDIR_MAX; n <= ZAIO_LISTDIR_MAX + 1; n++) {
        msgpack_pack_array (&writer.packer, n);
        for (uint32_t i = 0; i < n; i++) msgpack_pack_map (&writer.packer, 0);
        frame = zaio_writer_frame (&writer);
        int code = s_dirents_decode (zframe_data (frame), zframe_size (frame), &count);
        assert (n == ZAIO_LISTDIR_MAX ? code == 0 && count == n : code == ZAIO_ERR_MALFORMED);
        zframe_destroy (&frame);
    }
    zaio_writer_release (&writer);

    char text[JSON_TEXT_MAX];
    snprintf (text, sizeof text, "[{\"name\": \"%s\"}]", s_repeat ('n', ZAIO_NAME_MAX + 1));
    assert (s_dirents_json (text, &count) == ZAIO_ERR_MALFORMED);
    static const char *const malformed[] = {
        "{}",
        "[1]",
        "[[]]",
        "[{\"name\": \"a\\u0000\"}]",
        "[{\"type\": \"0123456789abcdef\"}]",
        "[{\"size\": -1}]",
        "[{\"mtime_ns\": 9223372036854775808}]",
        "[{\"later\": [[1]]}]",
        "[{\"name\": 1}]",
    };
    for (size_t i = 0; i < sizeof (malformed) / sizeof (malformed[0]); i++)
        assert (s_dirents_json (malformed[i], &count) == ZAIO_ERR_MALFORMED);
    uint8_t trailing[] = {0x90, 0xc0};
    assert (s_dirents_decode (trailing, sizeof trailing, &count) == ZAIO_ERR_MALFORMED);
    assert (s_dirents_decode (trailing, 1, &count) == 0);
    printf ("test_codec: listdir entries OK\n");
}

//  Names that are not UTF-8 (PROTOCOL.md section 5, listdir): packed as
//  bin, decoded from bin (or from the invalid str an older broker sent)
//  with name_bin set; `after` carries one as a bin; a bad bin is refused.
static void
s_test_raw_names (void)
{
    zaio_dirent_t entry;
    memset (&entry, 0, sizeof entry);
    strcpy (entry.name, "caf\xe9");
    strcpy (entry.type, "file");
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_pack_array (&writer.packer, 1);
    zaio_dirent_pack (&writer.packer, &entry);
    zframe_t *frame = zaio_writer_frame (&writer);
    static const uint8_t bin_name[] = {0xa4, 'n', 'a', 'm', 'e', 0xc4, 4, 'c', 'a', 'f', 0xe9};
    assert (zframe_size (frame) > sizeof bin_name);
    assert (memmem (zframe_data (frame), zframe_size (frame), bin_name, sizeof bin_name));
    zaio_dirent_t *back;
    size_t count;
    assert (zaio_dirents_decode (zframe_data (frame), zframe_size (frame), &back, &count) == 0);
    assert (count == 1 && streq (back[0].name, "caf\xe9") && back[0].name_bin);
    free (back);
    zframe_destroy (&frame);

    //  [{"name": X}] with X as given.
    static const uint8_t old_str[] = {0x91, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa2, 'a', 0xff};
    assert (zaio_dirents_decode (old_str, sizeof old_str, &back, &count) == 0);
    assert (count == 1 && streq (back[0].name, "a\xff") && back[0].name_bin);
    free (back);
    static const uint8_t valid_bin[] = {0x91, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xc4, 1, 'a'};
    assert (zaio_dirents_decode (valid_bin, sizeof valid_bin, &back, &count) == 0);
    assert (count == 1 && streq (back[0].name, "a") && !back[0].name_bin);
    free (back);
    static const uint8_t nul_bin[] = {0x91, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xc4, 2, 'a', 0};
    assert (s_dirents_decode (nul_bin, sizeof nul_bin, &count) == ZAIO_ERR_MALFORMED);
    uint8_t long_bin[10 + ZAIO_NAME_MAX + 1] = {0x91, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xc5, 1, 0};
    memset (long_bin + 10, 'n', ZAIO_NAME_MAX + 1);
    assert (s_dirents_decode (long_bin, sizeof long_bin, &count) == ZAIO_ERR_MALFORMED);

    //  `after`: a bin when it is not UTF-8, a str when it is.
    zaio_request_t req, decoded;
    zaio_request_init (&req, ZAIO_OP_LISTDIR, 7);
    assert (zaio_request_set_str (&req, ZAIO_FIELD_PATH, "d") == 0);
    assert (zaio_request_set_str (&req, ZAIO_FIELD_AFTER, "caf\xe9") == 0);
    frame = zaio_request_encode (&req);
    static const uint8_t bin_after[] = {0xa5, 'a', 'f', 't', 'e', 'r',
                                        0xc4, 4,   'c', 'a', 'f', 0xe9};
    assert (memmem (zframe_data (frame), zframe_size (frame), bin_after, sizeof bin_after));
    char why[128];
    assert (zaio_request_decode (&decoded, zframe_data (frame), zframe_size (frame), why,
                                 sizeof why) == 0);
    assert (streq (decoded.after, "caf\xe9") && (decoded.fields & ZAIO_FIELD_AFTER));
    zframe_destroy (&frame);
    //  {"id": 1, "op": "listdir", "path": "", "after": X}
    uint8_t head[] = {0x84, 0xa2, 'i',  'd', 1,   0xa2, 'o', 'p',  0xa7, 'l', 'i', 's', 't', 'd',
                      'i',  'r',  0xa4, 'p', 'a', 't',  'h', 0xa0, 0xa5, 'a', 'f', 't', 'e', 'r'};
    uint8_t bad[sizeof head + 3 + ZAIO_NAME_MAX + 1];
    memcpy (bad, head, sizeof head);
    memcpy (bad + sizeof head,
            "\xc4\x02"
            "a\0",
            4);
    assert (zaio_request_decode (&decoded, bad, sizeof head + 4, why, sizeof why) == EINVAL);
    //  A bin16 of ZAIO_NAME_MAX + 1 bytes (paths stay str: vector path_wrong_type).
    bad[sizeof head] = 0xc5;
    bad[sizeof head + 1] = (ZAIO_NAME_MAX + 1) >> 8;
    bad[sizeof head + 2] = (ZAIO_NAME_MAX + 1) & 0xff;
    memset (bad + sizeof head + 3, 'n', ZAIO_NAME_MAX + 1);
    assert (zaio_request_decode (&decoded, bad, sizeof bad, why, sizeof why) == ZAIO_ERR_TOOBIG);
    zaio_writer_release (&writer);
}

static void
s_test_events (void)
{
    char text[JSON_TEXT_MAX];
    s_expect (DECODE_EVENT, 0, "{\"seq\": 1, \"op\": \"ping\"}");
    s_expect (DECODE_EVENT, 0, "{\"op\": \"ping\", \"seq\": 1, \"new_field\": [1, 2, {}]}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"op\": \"ping\"}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"seq\": 1}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"seq\": 1, \"op\": \"nope\"}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"seq\": 1, \"op\": 1}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"seq\": -1, \"op\": \"ping\"}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED,
              "{\"seq\": 1, \"op\": \"ping\", \"time_us\": true}");
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, "{\"seq\": 1, \"op\": \"ping\", \"error\": 5}");
    s_expect (DECODE_EVENT, 0, "{\"seq\": 1, \"op\": \"ping\", \"time_us\": -1}");
    assert (s_out.event.time_us == -1);
    snprintf (text, sizeof text, "{\"seq\": 1, \"op\": \"stat\", \"path\": \"%s\"}",
              s_repeat ('p', ZAIO_PATH_MAX));
    s_expect (DECODE_EVENT, 0, text);
    snprintf (text, sizeof text, "{\"seq\": 1, \"op\": \"stat\", \"path\": \"%s\"}",
              s_repeat ('p', ZAIO_PATH_MAX + 1));
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, text);
    snprintf (text, sizeof text, "{\"seq\": 1, \"op\": \"stat\", \"client\": \"%s\"}",
              s_repeat ('c', 65));
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, text);
    snprintf (text, sizeof text, "{\"seq\": 1, \"op\": \"stat\", \"volume\": \"%s\"}",
              s_repeat ('v', ZAIO_VOLUME_MAX + 1));
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, text);
    snprintf (text, sizeof text, "{\"seq\": 1, \"op\": \"stat\", \"worker\": \"%s\"}",
              s_repeat ('w', 128));
    s_expect (DECODE_EVENT, ZAIO_ERR_MALFORMED, text);

    //  Regression (scripts/fuzz): a repeated "client" key decodes as its
    //  last value; the longer first one leaves bytes after the NUL, which a
    //  round trip must not count as a difference.
    static const uint8_t twice_client[] = {
        0x84, 0xa6, 'c', 'l',  'i', 'e', 'n', 't',  0xaa, '0', '0', '8',  '0', '0', '0', '0',
        '0',  '0',  '2', 0xa3, 's', 'e', 'q', 0x01, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g',
        0xa6, 'c',  'l', 'i',  'e', 'n', 't', 0xa6, 'p',  'h', 'o', 't',  'o', 's'};
    assert (s_decode (DECODE_EVENT, twice_client, sizeof twice_client, &s_out) == 0);
    assert (strcmp (s_out.event.client, "photos") == 0);
    s_check_round_trip (DECODE_EVENT);

    //  Topics name outcome, op and volume.
    zaio_event_t event;
    memset (&event, 0, sizeof event);
    event.op = ZAIO_OP_COPY;
    strcpy (event.volume, "v");
    event.error = ENOSPC;
    zaio_event_topic (&event, text, sizeof text);
    assert (strcmp (text, "err.copy.v") == 0);
    zaio_event_topic (&event, text, 5);
    assert (strcmp (text, "err.") == 0);
    event.error = 0;
    zaio_event_topic (&event, text, sizeof text);
    assert (strcmp (text, "ok.copy.v") == 0);
}

//  ---------------------------------------------------------------------
//  Worker protocol

//  READY text with n volumes named v0, v1... after the given fields.
static const char *
s_ready_text (const char *fields, int volumes)
{
    static char text[JSON_TEXT_MAX];
    size_t used = (size_t)snprintf (text, sizeof text, "{%s, \"volumes\": [", fields);
    for (int i = 0; i < volumes; i++)
        used += (size_t)snprintf (text + used, sizeof text - used,
                                  "%s{\"name\": \"v%d\", \"readonly\": %s}", i ? ", " : "", i,
                                  i % 2 ? "true" : "false");
    snprintf (text + used, sizeof text - used, "]}");
    return text;
}

static void
s_test_ready (void)
{
    //  Round trips at the edges.
    zaio_ready_t ready, back;
    memset (&ready, 0, sizeof ready);
    ready.credit = 1024;
    ready.heartbeat_ms = 3600 * 1000;
    ready.pid = UINT32_MAX;
    strcpy (ready.host, s_repeat ('h', sizeof ready.host - 1));
    ready.volume_count = ZAIO_WORKER_VOLUMES_MAX;
    for (int i = 0; i < ZAIO_WORKER_VOLUMES_MAX; i++) {
        strcpy (ready.volumes[i].name, i ? "v" : s_repeat ('n', ZAIO_VOLUME_MAX));
        ready.volumes[i].readonly = i % 3 == 0;
    }
    zframe_t *frame = zaio_ready_encode (&ready);
    assert (zaio_ready_decode (&back, zframe_data (frame), zframe_size (frame)) == 0);
    assert (memcmp (&ready, &back, sizeof ready) == 0);
    zframe_destroy (&frame);
    memset (&ready, 0, sizeof ready);
    ready.credit = 1;
    frame = zaio_ready_encode (&ready);
    assert (zaio_ready_decode (&back, zframe_data (frame), zframe_size (frame)) == 0);
    assert (memcmp (&ready, &back, sizeof ready) == 0);
    zframe_destroy (&frame);

    s_expect (DECODE_READY, 0, s_ready_text ("\"credit\": 1", 0));
    s_expect (DECODE_READY, 0, s_ready_text ("\"credit\": 1, \"later\": {\"a\": [1]}", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"credit\": 0", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"credit\": 1025", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"credit\": -1", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"credit\": \"1\"", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"pid\": 1", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              s_ready_text ("\"credit\": 1, \"pid\": 4294967296", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              s_ready_text ("\"credit\": 1, \"heartbeat_ms\": 3600001", 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text ("\"credit\": 1, \"host\": 5", 1));
    char fields[JSON_TEXT_MAX];
    snprintf (fields, sizeof fields, "\"credit\": 1, \"host\": \"%s\"", s_repeat ('h', 64));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, s_ready_text (fields, 1));
    s_expect (DECODE_READY, 0, s_ready_text ("\"credit\": 1", ZAIO_WORKER_VOLUMES_MAX));
    assert (s_out.ready.volume_count == ZAIO_WORKER_VOLUMES_MAX);
    assert (strcmp (s_out.ready.volumes[63].name, "v63") == 0 && s_out.ready.volumes[63].readonly);
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              s_ready_text ("\"credit\": 1", ZAIO_WORKER_VOLUMES_MAX + 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, "{\"credit\": 1, \"volumes\": {}}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              "{\"credit\": 1, \"volumes\": [{\"readonly\": true}]}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, "{\"credit\": 1, \"volumes\": [{\"name\": \"\"}]}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              "{\"credit\": 1, \"volumes\": [{\"name\": \"a\\u0000\"}]}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              "{\"credit\": 1, \"volumes\": [{\"name\": \"a\", \"readonly\": 1}]}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, "{\"credit\": 1, \"volumes\": [[]]}");
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED,
              "{\"credit\": 1, \"volumes\": [{\"name\": \"a\", \"x\": [[1]]}]}");
    snprintf (fields, sizeof fields, "{\"credit\": 1, \"volumes\": [{\"name\": \"%s\"}]}",
              s_repeat ('n', ZAIO_VOLUME_MAX + 1));
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, fields);
    s_expect (DECODE_READY, ZAIO_ERR_MALFORMED, "[1]");

    //  Regression: a second "volumes" key replaces the first entirely; no
    //  readonly flag or stale entry of the first leaks into the result.
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_pack_map (&writer.packer, 3);
    zaio_pack_key_uint (&writer.packer, "credit", 1);
    zaio_pack_str (&writer.packer, "volumes");
    msgpack_pack_array (&writer.packer, 2);
    msgpack_pack_map (&writer.packer, 2);
    zaio_pack_key_str (&writer.packer, "name", "a");
    zaio_pack_key_bool (&writer.packer, "readonly", true);
    msgpack_pack_map (&writer.packer, 1);
    zaio_pack_key_str (&writer.packer, "name", "b");
    zaio_pack_str (&writer.packer, "volumes");
    msgpack_pack_array (&writer.packer, 1);
    msgpack_pack_map (&writer.packer, 1);
    zaio_pack_key_str (&writer.packer, "name", "c");
    frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    assert (s_decode (DECODE_READY, zframe_data (frame), zframe_size (frame), &s_out) == 0);
    assert (s_out.ready.volume_count == 1 && strcmp (s_out.ready.volumes[0].name, "c") == 0);
    assert (!s_out.ready.volumes[0].readonly && s_out.ready.volumes[1].name[0] == 0);
    zframe_destroy (&frame);
    uint8_t trailing[] = {0x81, 0xa6, 'c', 'r', 'e', 'd', 'i', 't', 0x01, 0x00};
    assert (s_decode (DECODE_READY, trailing, sizeof trailing, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_decode (DECODE_READY, trailing, sizeof trailing - 1, &s_out) == 0);
}

static void
s_test_outcome (void)
{
    zaio_outcome_t outcomes[] = {
        {0, 0, 0},
        {ENOENT, 123, 456},
        {ZAIO_ERR_UNKNOWN_OUTCOME, UINT64_MAX, UINT64_MAX},
        {ZAIO_ERR_QUEUE_FULL, 0, 1},
    };
    for (size_t i = 0; i < sizeof (outcomes) / sizeof (outcomes[0]); i++) {
        zaio_outcome_t back;
        zframe_t *frame = zaio_outcome_encode (&outcomes[i]);
        assert (zaio_outcome_decode (&back, zframe_data (frame), zframe_size (frame)) == 0);
        assert (back.error == outcomes[i].error && back.bytes == outcomes[i].bytes &&
                back.service_us == outcomes[i].service_us);
        zframe_destroy (&frame);
    }
    s_expect (DECODE_OUTCOME, 0, "[true, null, 1, 2]");
    assert (s_out.outcome.error == 0 && s_out.outcome.bytes == 1 && s_out.outcome.service_us == 2);
    s_expect (DECODE_OUTCOME, 0, "[false, \"EROFS\", 0, 0]");
    assert (s_out.outcome.error == EROFS);
    s_expect (DECODE_OUTCOME, 0, "[false, \"NO_SUCH_ERROR\", 0, 0]");
    assert (s_out.outcome.error == ZAIO_ERR_INTERNAL);
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[true, null, 1]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[true, null, 1, 2, 3]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[1, null, 1, 2]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[true, \"ENOENT\", 1, 2]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[false, null, 1, 2]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[false, 2, 1, 2]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[true, null, -1, 2]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "[true, null, 1, \"2\"]");
    s_expect (DECODE_OUTCOME, ZAIO_ERR_MALFORMED, "{\"ok\": true}");
    uint8_t trailing[] = {0x94, 0xc3, 0xc0, 0x01, 0x02, 0xc0};
    assert (s_decode (DECODE_OUTCOME, trailing, sizeof trailing, &s_out) == ZAIO_ERR_MALFORMED);
    assert (s_decode (DECODE_OUTCOME, trailing, sizeof trailing - 1, &s_out) == 0);
    assert (s_decode (DECODE_OUTCOME, trailing, 0, &s_out) == ZAIO_ERR_MALFORMED);
}

static void
s_test_envelope (void)
{
    //  READY, HEARTBEAT and BYE: 16 bytes, the number back as written.
    //  JOB and DONE carry entries: tests/unit/test_worker_proto.c.
    const uint64_t numbers[] = {0, 1, 0x0102030405060708ULL, UINT64_MAX};
    const zaio_worker_command_t bare[] = {ZAIO_WORKER_READY, ZAIO_WORKER_HEARTBEAT,
                                          ZAIO_WORKER_BYE};
    for (size_t c = 0; c < sizeof (bare) / sizeof (bare[0]); c++)
        for (size_t i = 0; i < sizeof (numbers) / sizeof (numbers[0]); i++) {
            zframe_t *frame = zaio_envelope_frame (bare[c], numbers[i]);
            assert (zframe_size (frame) == ZAIO_ENVELOPE_SIZE);
            uint64_t back = ~numbers[i];
            assert (zaio_envelope_get (zframe_data (frame), zframe_size (frame), &back) ==
                        (int)bare[c] &&
                    back == numbers[i]);
            zframe_destroy (&frame);
        }
    //  The bytes, pinned: signature, command, number big-endian.
    uint8_t bytes[ZAIO_ENTRIES_HEAD_SIZE + 1];
    zaio_envelope_put (bytes, ZAIO_WORKER_HEARTBEAT, 0x0102030405060708ULL);
    assert (memcmp (bytes, "ZAIOW/5\x04\x01\x02\x03\x04\x05\x06\x07\x08", 16) == 0);
    //  Sizes: the bare commands are 16 bytes exactly; JOB and DONE at
    //  least ZAIO_ENTRIES_HEAD_SIZE (their entries follow).
    uint64_t number = 42;
    for (size_t size = 0; size < ZAIO_ENVELOPE_SIZE; size++)
        assert (zaio_envelope_get (bytes, size, &number) == -1);
    assert (zaio_envelope_get (bytes, ZAIO_ENVELOPE_SIZE + 1, &number) == -1);
    for (int command = ZAIO_WORKER_JOB; command <= ZAIO_WORKER_DONE; command++) {
        zaio_envelope_put (bytes, (zaio_worker_command_t)command, 9);
        assert (zaio_envelope_get (bytes, ZAIO_ENVELOPE_SIZE, &number) == -1);
        assert (zaio_envelope_get (bytes, ZAIO_ENTRIES_HEAD_SIZE - 1, &number) == -1);
        assert (zaio_envelope_get (bytes, ZAIO_ENTRIES_HEAD_SIZE, &number) == command);
    }
    assert (number == 9);
    number = 42;
    //  ZAIOW/4 (one job a JOB) and ZAIOW/3 among the breaks; they are
    //  another version, told apart from garbage.
    const struct {
        size_t at;
        uint8_t value;
        bool other_version;
    } breaks[] = {{0, 'z', false},
                  {6, '4', true},
                  {6, '3', true},
                  {7, 0, false},
                  {7, ZAIO_WORKER_BYE + 1, false},
                  {7, 0xFF, false}};
    for (size_t i = 0; i < sizeof (breaks) / sizeof (breaks[0]); i++) {
        zaio_envelope_put (bytes, ZAIO_WORKER_READY, 8);
        bytes[breaks[i].at] = breaks[i].value;
        assert (zaio_envelope_get (bytes, ZAIO_ENVELOPE_SIZE, &number) == -1);
        assert (zaio_envelope_other_version (bytes, ZAIO_ENVELOPE_SIZE) == breaks[i].other_version);
    }
    zaio_envelope_put (bytes, ZAIO_WORKER_READY, 8);
    assert (!zaio_envelope_other_version (bytes, ZAIO_ENVELOPE_SIZE));
    assert (!zaio_envelope_other_version ("ZAIOW/", 6));
    assert (number == 42);
}

//  ---------------------------------------------------------------------
//  Names

static void
s_test_names (void)
{
    //  Every code with a name of its own maps back from that name.
    size_t names = 0;
    for (int code = 1; code < 4096; code++) {
        const char *name = zaio_error_name (code);
        assert (name && zaio_error_text (code));
        if (strcmp (name, "EIO") == 0 && code != EIO) continue;
        assert (zaio_error_lookup (name, strlen (name)) == code);
        names++;
    }
    for (int code = ZAIO_ERR_BASE + 1; code < ZAIO_ERR_END; code++) {
        const char *name = zaio_error_name (code);
        assert (name[0] != 'E'); //  protocol names have no E prefix
        assert (zaio_error_lookup (name, strlen (name)) == code);
        assert (zaio_error_text (code) && strlen (zaio_error_text (code)) > 0);
        names++;
    }
    //  Every name the spec lists, by name -> code -> the same name.
    static const char *const spec[] = {
        "ENOENT",     "EACCES",       "EEXIST",    "ENOTDIR",         "EISDIR",
        "ENOTEMPTY",  "EXDEV",        "EINVAL",    "EFBIG",           "ENOSPC",
        "EROFS",      "ENAMETOOLONG", "ELOOP",     "ETIMEDOUT",       "ECANCELED",
        "EIO",        "BADVERSION",   "MALFORMED", "UNKNOWN_OP",      "TOOBIG",
        "QUEUE_FULL", "SHUTDOWN",     "NOVOLUME",  "UNKNOWN_OUTCOME", "INTERNAL",
    };
    for (size_t i = 0; i < sizeof (spec) / sizeof (spec[0]); i++) {
        int code = zaio_error_lookup (spec[i], strlen (spec[i]));
        assert (strcmp (zaio_error_name (code), spec[i]) == 0);
    }
    assert (zaio_error_lookup ("ENOENT", 6) == ENOENT);
    assert (zaio_error_lookup ("ENOENTX", 6) == ENOENT);
    assert (zaio_error_lookup ("ENOEN", 5) == ZAIO_ERR_INTERNAL);
    assert (zaio_error_lookup ("enoent", 6) == ZAIO_ERR_INTERNAL);
    assert (zaio_error_lookup ("", 0) == ZAIO_ERR_INTERNAL);
    assert (strcmp (zaio_error_name (ZAIO_ERR_END + 7), "INTERNAL") == 0);
    assert (strcmp (zaio_error_name (4000), "EIO") == 0);

    //  Ops: names round trip, and the table matches the spec's columns.
    for (int op = 0; op < ZAIO_OP_COUNT; op++) {
        const char *name = zaio_op_name ((zaio_op_t)op);
        assert (name && zaio_op_lookup (name, strlen (name)) == op);
        bool takes = op == ZAIO_OP_WRITE || op == ZAIO_OP_APPEND || op == ZAIO_OP_WRITEFILE;
        bool returns = op == ZAIO_OP_READ || op == ZAIO_OP_READFILE;
        bool idempotent = op == ZAIO_OP_PING || op == ZAIO_OP_HELLO || op == ZAIO_OP_STAT ||
                          op == ZAIO_OP_READ || op == ZAIO_OP_READFILE || op == ZAIO_OP_LISTDIR ||
                          op == ZAIO_OP_STATS;
        assert (zaio_op_takes_data ((zaio_op_t)op) == takes);
        assert (zaio_op_returns_data ((zaio_op_t)op) == returns);
        assert (zaio_op_idempotent ((zaio_op_t)op) == idempotent);
    }
    assert (zaio_op_name (ZAIO_OP_COUNT) == NULL);
    assert (zaio_op_name ((zaio_op_t)-1) == NULL);
    assert (zaio_op_lookup ("pin", 3) == -1 && zaio_op_lookup ("pingx", 5) == -1);
    assert (zaio_op_lookup ("", 0) == -1);
    printf ("%zu error names round trip\n", names);
}

//  ---------------------------------------------------------------------
//  Batches

//  The entries frame a writer makes of count pairs of header (size bytes)
//  and alternate flags, checked against its own size; caller destroys it.
static zframe_t *
s_batch_frame (uint32_t count, const void *header, size_t size)
{
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    for (uint32_t i = 0; i < count; i++)
        assert (zaio_batch_writer_add (&writer, header, size, i % 2 == 1) == 0);
    assert (writer.count == count && writer.data_count == count / 2);
    size_t want = zaio_batch_writer_size (&writer);
    zframe_t *frame = zaio_batch_writer_frame (&writer);
    assert (frame && zframe_size (frame) == want);
    assert (writer.count == 0 && zaio_batch_writer_size (&writer) == 1);
    zaio_batch_writer_release (&writer);
    return frame;
}

static int
s_batch_check_bytes (const void *bytes, size_t size, size_t data_frames)
{
    uint32_t count = 99;
    char why[128] = "";
    int code = zaio_batch_check (bytes, size, data_frames, ZAIO_BATCH_MAX, ZAIO_BATCH_BYTES_MAX,
                                 &count, why, sizeof why);
    assert (code == 0 || (why[0] && count == 0));
    return code;
}

static void
s_test_batches (void)
{
    //  Shortest forms: fixarray, array16, array32; bin8, bin16.
    uint8_t header[300];
    memset (header, 0x80, sizeof header);
    zframe_t *frame = s_batch_frame (2, header, 1);
    static const uint8_t two[] = {0x92, 0x92, 0xc4, 0x01, 0x80, 0xc2, 0x92, 0xc4, 0x01, 0x80, 0xc3};
    assert (zframe_size (frame) == sizeof two &&
            memcmp (zframe_data (frame), two, sizeof two) == 0);
    assert (zaio_batch_is (zframe_data (frame), zframe_size (frame)));
    assert (s_batch_check_bytes (two, sizeof two, 1) == 0);
    assert (s_batch_check_bytes (two, sizeof two, 0) == ZAIO_ERR_MALFORMED);
    assert (s_batch_check_bytes (two, sizeof two, 2) == ZAIO_ERR_MALFORMED);
    zframe_destroy (&frame);
    frame = s_batch_frame (16, header, 300);
    const uint8_t *bytes = zframe_data (frame);
    assert (bytes[0] == 0xdc && bytes[1] == 0 && bytes[2] == 16);
    assert (bytes[3] == 0x92 && bytes[4] == 0xc5 && bytes[5] == 0x01 && bytes[6] == 0x2c);
    assert (s_batch_check_bytes (bytes, zframe_size (frame), 8) == 0);
    zframe_destroy (&frame);
    frame = s_batch_frame (65536, header, 0);
    bytes = zframe_data (frame);
    assert (bytes[0] == 0xdd && zframe_size (frame) == 5 + 65536 * 4);
    //  More pairs than batch_max: TOOBIG before a pair is read.
    assert (s_batch_check_bytes (bytes, zframe_size (frame), 32768) == ZAIO_ERR_TOOBIG);
    zframe_destroy (&frame);

    //  Nothing appended: no frame. A writer that ran out of memory makes none.
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    assert (zaio_batch_writer_frame (&writer) == NULL);
    zaio_batch_writer_release (&writer);

    //  The whole-batch refusals of PROTOCOL.md section 5.2.
    static const struct {
        const char *hex;
        int code;
    } refused[] = {
        {"", ZAIO_ERR_MALFORMED},               //  nothing
        {"90", ZAIO_ERR_MALFORMED},             //  no entries
        {"80", ZAIO_ERR_MALFORMED},             //  a map
        {"c4", ZAIO_ERR_MALFORMED},             //  a bin header, cut
        {"91", ZAIO_ERR_MALFORMED},             //  an entry missing
        {"9191c40180", ZAIO_ERR_MALFORMED},     //  [bin]
        {"9193c40180c2c2", ZAIO_ERR_MALFORMED}, //  [bin, bool, bool]
        {"9192a180c2", ZAIO_ERR_MALFORMED},     //  [str, bool]
        {"9192c4018000", ZAIO_ERR_MALFORMED},   //  [bin, 0]
        {"9192c40180c0", ZAIO_ERR_MALFORMED},   //  [bin, nil]
        {"9192c40280c2", ZAIO_ERR_MALFORMED},   //  bin longer than what follows
        {"9192c40180c2c0", ZAIO_ERR_MALFORMED}, //  trailing bytes
        {"9292c40180c2", ZAIO_ERR_MALFORMED},   //  one of two entries
        {"9182c40180c2", ZAIO_ERR_MALFORMED},   //  a map for a pair
        {"dd00000401", ZAIO_ERR_MALFORMED},     //  1025 declared, none there
        {"ddffffffff", ZAIO_ERR_MALFORMED},     //  more than the bytes could hold
        {"9192c40080c2", ZAIO_ERR_MALFORMED},   //  empty bin, then a stray byte
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint8_t raw[32];
        size_t size = strlen (refused[i].hex) / 2;
        for (size_t b = 0; b < size; b++) sscanf (refused[i].hex + 2 * b, "%2hhx", &raw[b]);
        int code = s_batch_check_bytes (raw, size, 0);
        if (code != refused[i].code)
            fprintf (stderr, "test_codec: batch %s: got %s\n", refused[i].hex,
                     zaio_error_name (code));
        assert (code == refused[i].code);
    }
    //  An empty header is a pair like another: its entry fails alone.
    static const uint8_t empty_header[] = {0x91, 0x92, 0xc4, 0x00, 0xc2};
    assert (s_batch_check_bytes (empty_header, sizeof empty_header, 0) == 0);
    //  Over bytes_max: TOOBIG, whatever the bytes.
    uint32_t count;
    char why[128] = "";
    assert (zaio_batch_check (two, sizeof two, 1, ZAIO_BATCH_MAX, sizeof two - 1, &count, why,
                              sizeof why) == ZAIO_ERR_TOOBIG);
    assert (zaio_batch_check (two, sizeof two, 1, 1, sizeof two, &count, why, sizeof why) ==
            ZAIO_ERR_TOOBIG);

    //  The cursor hands out each header and flag, and stays put on an error.
    static const uint8_t mixed[] = {0x92, 0x92, 0xc4, 0x01, 0x81, 0xc3, 0x92, 0xa1, 0x80, 0xc2};
    zaio_batch_cursor_t cursor;
    assert (zaio_batch_cursor_init (&cursor, mixed, sizeof mixed, 2, &count, why, sizeof why) == 0);
    assert (count == 2);
    const uint8_t *entry;
    size_t size;
    bool has_data;
    assert (zaio_batch_cursor_next (&cursor, &entry, &size, &has_data, why, sizeof why) == 0);
    assert (entry == mixed + 4 && size == 1 && has_data);
    zaio_batch_cursor_t before = cursor;
    assert (zaio_batch_cursor_next (&cursor, &entry, &size, &has_data, why, sizeof why) ==
            ZAIO_ERR_MALFORMED);
    assert (memcmp (&before, &cursor, sizeof cursor) == 0 && strstr (why, "entry 1"));

    //  Reply batches tell themselves from single replies by the first byte.
    static const uint8_t firsts[] = {0x90, 0x9f, 0xdc, 0xdd, 0x80, 0x8f, 0xde, 0xdf, 0xc0};
    for (size_t i = 0; i < sizeof firsts; i++) assert (zaio_batch_is (&firsts[i], 1) == (i < 4));
    assert (!zaio_batch_is (firsts, 0));

    //  A batch header takes id and op only, and needs its entries frame.
    s_expect (DECODE_REQUEST, 0, "{\"id\": 9, \"op\": \"batch\"}");
    static const char *const per_job[] = {
        "\"volume\": \"v\"", "\"key\": \"k\"",  "\"barrier\": true", "\"link\": true",
        "\"deadline\": 5",   "\"priority\": 1", "\"path\": \"a\""};
    for (size_t i = 0; i < sizeof per_job / sizeof per_job[0]; i++) {
        char text[128];
        snprintf (text, sizeof text, "{\"id\": 9, \"op\": \"batch\", %s}", per_job[i]);
        s_expect (DECODE_REQUEST, ZAIO_ERR_MALFORMED, text);
        assert (s_out.request.id == 9);
    }
    zframe_t *batch_header = s_pack ("{\"id\": 9, \"op\": \"batch\"}");
    const void *frames[3] = {ZAIO_SIGNATURE, zframe_data (batch_header), two};
    size_t sizes[3] = {strlen (ZAIO_SIGNATURE), zframe_size (batch_header), sizeof two};
    zaio_request_t req;
    assert (zaio_request_decode_frames (&req, frames, sizes, 2, ZAIO_PAYLOAD_MAX, why,
                                        sizeof why) == ZAIO_ERR_MALFORMED &&
            req.id == 9);
    assert (zaio_request_decode_frames (&req, frames, sizes, 4, ZAIO_PAYLOAD_MAX, why,
                                        sizeof why) == 0 &&
            req.op == ZAIO_OP_BATCH);
    zframe_destroy (&batch_header);

    //  hello: the batch limits travel only when batch_max is set.
    static zaio_hello_t hello, back;
    memset (&hello, 0, sizeof hello);
    hello.batch_max = ZAIO_BATCH_MAX;
    hello.batch_bytes_max = ZAIO_BATCH_BYTES_MAX;
    hello.ops = 1u << ZAIO_OP_BATCH;
    frame = s_hello_frame (3, &hello);
    assert (s_hello_decode_frame (&back, frame) == 0);
    assert (back.batch_max == ZAIO_BATCH_MAX && back.batch_bytes_max == ZAIO_BATCH_BYTES_MAX);
    assert (back.ops == 1u << ZAIO_OP_BATCH);
    zframe_destroy (&frame);
    hello.batch_max = 0;
    frame = s_hello_frame (3, &hello);
    assert (s_hello_decode_frame (&back, frame) == 0);
    assert (back.batch_max == 0 && back.batch_bytes_max == 0);
    zframe_destroy (&frame);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_truncation),
        ZAIO_TEST_CASE (s_test_cursor_integers),
        ZAIO_TEST_CASE (s_test_cursor_strings),
        ZAIO_TEST_CASE (s_test_cursor_containers),
        ZAIO_TEST_CASE (s_test_cursor_skip),
        ZAIO_TEST_CASE (s_test_request_limits),
        ZAIO_TEST_CASE (s_test_request_messages),
        ZAIO_TEST_CASE (s_test_request_set_str),
        ZAIO_TEST_CASE (s_test_replies),
        ZAIO_TEST_CASE (s_test_reply_table),
        ZAIO_TEST_CASE (s_test_hello),
        ZAIO_TEST_CASE (s_test_dirents),
        ZAIO_TEST_CASE (s_test_raw_names),
        ZAIO_TEST_CASE (s_test_events),
        ZAIO_TEST_CASE (s_test_ready),
        ZAIO_TEST_CASE (s_test_outcome),
        ZAIO_TEST_CASE (s_test_envelope),
        ZAIO_TEST_CASE (s_test_batches),
        ZAIO_TEST_CASE (s_test_names),
        ZAIO_TEST_CASE (s_test_mutations),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
