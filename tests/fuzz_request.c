/*  fuzz_request.c: libFuzzer target for every decoder of untrusted bytes.

    Each input goes to zaio_request_decode, zaio_reply_decode (and, for
    the results it finds, zaio_dirents_decode and zaio_hello_decode),
    zaio_event_decode, zaio_ready_decode, zaio_outcome_decode and
    zaio_cursor_skip. Beyond "no crash, no sanitizer report" it checks the
    codec's promises: a refusal is an error the spec allows, with a reason;
    whatever decodes survives encode and decode unchanged; borrowed slices
    stay inside the input.

    Not a test_*.c file: ctest builds those with gcc. Build and run with
    scripts/fuzz, which seeds the corpus from schemas/vectors/.
*/

#undef NDEBUG
#include "codec_compare.h"
#include "zaio_codec.h"
#include "zaio_worker_proto.h"

#include <errno.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Decoded structs are large; keep them off the fuzzer's stack.
static zaio_request_t s_request, s_request_again;
static zaio_event_t s_event, s_event_again;
static zaio_ready_t s_ready, s_ready_again;
static zaio_outcome_t s_outcome, s_outcome_again;
static zaio_reply_t s_reply;
static zaio_hello_t s_hello, s_hello_again;

static void
s_check_request (const uint8_t *data, size_t size)
{
    char why[256] = "";
    int code = zaio_request_decode (&s_request, data, size, why, sizeof why);
    if (code) {
        assert (code == ZAIO_ERR_MALFORMED || code == ZAIO_ERR_TOOBIG ||
                code == ZAIO_ERR_UNKNOWN_OP || code == ENAMETOOLONG || code == EINVAL);
        assert (why[0]);
        return;
    }
    assert (s_request.id != 0 && (unsigned)s_request.op < ZAIO_OP_COUNT);
    assert (memchr (s_request.path, 0, sizeof s_request.path));
    assert (memchr (s_request.to, 0, sizeof s_request.to));
    assert (memchr (s_request.after, 0, sizeof s_request.after));
    assert (memchr (s_request.volume, 0, sizeof s_request.volume));
    assert (memchr (s_request.key, 0, sizeof s_request.key));
    zframe_t *frame = zaio_request_encode (&s_request);
    assert (frame);
    code = zaio_request_decode (&s_request_again, zframe_data (frame), zframe_size (frame), why,
                                sizeof why);
    assert (code == 0);
    zaio_test_normalize_request (&s_request);
    zaio_test_normalize_request (&s_request_again);
    assert (memcmp (&s_request, &s_request_again, sizeof s_request) == 0);
    zframe_destroy (&frame);
}

//  Listdir entries that decode pack back to the same entries.
static void
s_check_entries (const uint8_t *data, size_t size)
{
    zaio_dirent_t *entries, *again;
    size_t count, count_again;
    int code = zaio_dirents_decode (data, size, &entries, &count);
    assert (code == 0 || code == ZAIO_ERR_MALFORMED || code == ENOMEM);
    if (code) {
        assert (entries == NULL && count == 0);
        return;
    }
    assert (count <= ZAIO_LISTDIR_MAX);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_pack_array (&writer.packer, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        assert (memchr (entries[i].name, 0, sizeof entries[i].name));
        assert (memchr (entries[i].type, 0, sizeof entries[i].type));
        zaio_dirent_pack (&writer.packer, &entries[i]);
    }
    zframe_t *frame = zaio_writer_frame (&writer);
    assert (frame);
    assert (zaio_dirents_decode (zframe_data (frame), zframe_size (frame), &again, &count_again) ==
            0);
    assert (count_again == count && memcmp (entries, again, count * sizeof *entries) == 0);
    zframe_destroy (&frame);
    zaio_writer_release (&writer);
    free (entries);
    free (again);
}

//  A hello that decodes packs to a canonical reply that decodes to the
//  same hello but for the order of its volumes, which packing sorts:
//  packing that again gives the same bytes.
static void
s_check_hello (const uint8_t *data, size_t size)
{
    if (zaio_hello_decode (&s_hello, data, size)) return;
    assert (s_hello.volume_count <= ZAIO_HELLO_VOLUMES_MAX);
    assert (memchr (s_hello.version, 0, sizeof s_hello.version));
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_hello_pack (&writer.packer, 1, &s_hello);
    zframe_t *first = zaio_writer_frame (&writer);
    assert (first);
    zaio_reply_t reply;
    char why[256];
    assert (zaio_reply_decode (&reply, zframe_data (first), zframe_size (first), why, sizeof why) ==
            0);
    assert (reply.hello && zaio_hello_decode (&s_hello_again, reply.hello, reply.hello_size) == 0);
    assert (s_hello_again.volume_count == s_hello.volume_count);
    zaio_hello_pack (&writer.packer, 1, &s_hello_again);
    zframe_t *second = zaio_writer_frame (&writer);
    assert (second && zframe_eq (first, second));
    zframe_destroy (&first);
    zframe_destroy (&second);
    zaio_writer_release (&writer);
}

static void
s_check_reply (const uint8_t *data, size_t size)
{
    char why[256] = "";
    int code = zaio_reply_decode (&s_reply, data, size, why, sizeof why);
    if (code) {
        assert (code == ZAIO_ERR_MALFORMED && why[0]);
        return;
    }
    assert (memchr (s_reply.message, 0, sizeof s_reply.message));
    assert (memchr (s_reply.type, 0, sizeof s_reply.type));
    assert (s_reply.ok || s_reply.error != 0);
    if (s_reply.present & ZAIO_RESULT_ENTRIES) {
        //  The slice lies inside the input and holds exactly one value.
        assert (s_reply.entries >= data && s_reply.entries + s_reply.entries_size <= data + size);
        zaio_cursor_t cursor;
        zaio_cursor_init (&cursor, s_reply.entries, s_reply.entries_size);
        assert (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == 0 && zaio_cursor_done (&cursor));
        s_check_entries (s_reply.entries, s_reply.entries_size);
    }
    if (s_reply.hello) s_check_hello (s_reply.hello, s_reply.hello_size);
}

static void
s_check_event (const uint8_t *data, size_t size)
{
    if (zaio_event_decode (&s_event, data, size)) return;
    char topic[256];
    zaio_event_topic (&s_event, topic, sizeof topic);
    zframe_t *frame = zaio_event_encode (&s_event);
    assert (frame);
    assert (zaio_event_decode (&s_event_again, zframe_data (frame), zframe_size (frame)) == 0);
    zaio_test_normalize_event (&s_event);
    assert (memcmp (&s_event, &s_event_again, sizeof s_event) == 0);
    zframe_destroy (&frame);
}

static void
s_check_ready (const uint8_t *data, size_t size)
{
    if (zaio_ready_decode (&s_ready, data, size)) return;
    assert (s_ready.credit >= 1 && s_ready.volume_count <= ZAIO_WORKER_VOLUMES_MAX);
    zframe_t *frame = zaio_ready_encode (&s_ready);
    assert (frame);
    assert (zaio_ready_decode (&s_ready_again, zframe_data (frame), zframe_size (frame)) == 0);
    zaio_test_normalize_ready (&s_ready);
    assert (memcmp (&s_ready, &s_ready_again, sizeof s_ready) == 0);
    zframe_destroy (&frame);
}

static void
s_check_outcome (const uint8_t *data, size_t size)
{
    if (zaio_outcome_decode (&s_outcome, data, size)) return;
    zframe_t *frame = zaio_outcome_encode (&s_outcome);
    assert (frame);
    assert (zaio_outcome_decode (&s_outcome_again, zframe_data (frame), zframe_size (frame)) == 0);
    assert (s_outcome.error == s_outcome_again.error && s_outcome.bytes == s_outcome_again.bytes &&
            s_outcome.service_us == s_outcome_again.service_us);
    zframe_destroy (&frame);
}

//  The whole-message path: the first byte picks how many data frames
//  follow (0..3) and a payload limit; the rest is the header frame.
static void
s_check_message (const uint8_t *data, size_t size)
{
    if (size == 0) return;
    zmsg_t *msg = zmsg_new ();
    assert (msg);
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_addmem (msg, data + 1, size - 1);
    for (int i = 0; i < (data[0] & 3); i++) zmsg_addmem (msg, data + 1, (size - 1) / 2);
    size_t payload_max = data[0] >> 2;
    char why[256] = "";
    int code = zaio_request_decode_message (&s_request, msg, payload_max, why, sizeof why);
    assert (code == 0 || why[0]);
    if (code == 0) {
        assert (zmsg_size (msg) == (zaio_op_takes_data (s_request.op) ? 3u : 2u));
        assert (s_request.op != ZAIO_OP_READ || s_request.length <= payload_max);
    }
    zmsg_destroy (&msg);
}

static void
s_check_skip (const uint8_t *data, size_t size)
{
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    const uint8_t *start = cursor.pos;
    while (zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX) == 0) {
        assert (cursor.pos > start && cursor.pos <= cursor.end);
        start = cursor.pos;
    }
    assert (cursor.pos == start);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check_request (data, size);
    s_check_reply (data, size);
    s_check_event (data, size);
    s_check_ready (data, size);
    s_check_outcome (data, size);
    s_check_message (data, size);
    s_check_skip (data, size);
    return 0;
}
