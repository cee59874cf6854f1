/*  zaio_worker_proto.c: the ZAIOW/4 codec; see zaio_worker_proto.h. */

#include "zaio_worker_proto.h"

#include <string.h>

//  True if the len bytes at key are name.
static bool
s_key_is (const char *key, size_t len, const char *name)
{
    return strlen (name) == len && memcmp (key, name, len) == 0;
}

//  ---------------------------------------------------------------------
//  Envelope

//  value as 8 bytes big-endian at bytes.
static void
s_put_u64 (uint8_t *bytes, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8) bytes[i] = (uint8_t)value;
}

static uint64_t
s_get_u64 (const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = (value << 8) | bytes[i];
    return value;
}

void
zaio_envelope_put (uint8_t *bytes, zaio_worker_command_t command, uint64_t number)
{
    size_t size = strlen (ZAIO_WORKER_SIGNATURE);
    memcpy (bytes, ZAIO_WORKER_SIGNATURE, size);
    bytes[size] = (uint8_t)command;
    s_put_u64 (bytes + size + 1, number);
}

zframe_t *
zaio_envelope_frame (zaio_worker_command_t command, uint64_t number)
{
    assert (command != ZAIO_WORKER_JOB);
    uint8_t bytes[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (bytes, command, number);
    return zframe_new (bytes, sizeof bytes);
}

void
zaio_job_envelope_put (uint8_t *bytes, uint64_t job, uint64_t until_us)
{
    zaio_envelope_put (bytes, ZAIO_WORKER_JOB, job);
    s_put_u64 (bytes + ZAIO_ENVELOPE_SIZE, until_us);
}

zframe_t *
zaio_job_envelope_frame (uint64_t job, uint64_t until_us)
{
    uint8_t bytes[ZAIO_JOB_ENVELOPE_SIZE];
    zaio_job_envelope_put (bytes, job, until_us);
    return zframe_new (bytes, sizeof bytes);
}

int
zaio_envelope_get (const void *data, size_t size, uint64_t *number)
{
    size_t signature = strlen (ZAIO_WORKER_SIGNATURE);
    const uint8_t *bytes = (const uint8_t *)data;
    if (size < ZAIO_ENVELOPE_SIZE || memcmp (bytes, ZAIO_WORKER_SIGNATURE, signature) != 0)
        return -1;
    int command = bytes[signature];
    if (command < ZAIO_WORKER_READY || command > ZAIO_WORKER_BYE) return -1;
    if (command == ZAIO_WORKER_JOB ? size != ZAIO_JOB_ENVELOPE_SIZE
                                   : size > ZAIO_ENVELOPE_SIZE && command != ZAIO_WORKER_DONE)
        return -1;
    *number = s_get_u64 (bytes + signature + 1);
    return command;
}

uint64_t
zaio_job_envelope_fence (const void *data)
{
    return s_get_u64 ((const uint8_t *)data + ZAIO_ENVELOPE_SIZE);
}

//  ---------------------------------------------------------------------
//  READY

zframe_t *
zaio_ready_encode (const zaio_ready_t *ready)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_packer *pk = &writer.packer;
    msgpack_pack_map (pk, 6);
    zaio_pack_key_uint (pk, "credit", ready->credit);
    zaio_pack_key_uint (pk, "heartbeat_ms", ready->heartbeat_ms);
    zaio_pack_key_str (pk, "host", ready->host);
    zaio_pack_key_uint (pk, "pid", ready->pid);
    zaio_pack_key_uint (pk, "slot", ready->slot);
    zaio_pack_str (pk, "volumes");
    msgpack_pack_array (pk, ready->volume_count);
    for (uint32_t i = 0; i < ready->volume_count; i++) {
        msgpack_pack_map (pk, 2);
        zaio_pack_key_str (pk, "name", ready->volumes[i].name);
        zaio_pack_key_bool (pk, "readonly", ready->volumes[i].readonly);
    }
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

//  READY's "volumes": an array of {name, readonly} maps. Returns 0 or -1.
static int
s_decode_volumes (zaio_ready_t *ready, zaio_cursor_t *cursor)
{
    uint32_t count;
    if (zaio_cursor_array (cursor, &count) || count > ZAIO_WORKER_VOLUMES_MAX) return -1;
    //  A repeated "volumes" key replaces the list whole: nothing of an
    //  earlier one (a readonly flag, a stale entry) may leak into this one.
    memset (ready->volumes, 0, sizeof ready->volumes);
    ready->volume_count = 0;
    for (uint32_t i = 0; i < count; i++) {
        zaio_volume_info_t *volume = &ready->volumes[i];
        uint32_t fields;
        if (zaio_cursor_map (cursor, &fields)) return -1;
        bool have_name = false;
        for (uint32_t f = 0; f < fields; f++) {
            const char *key;
            uint32_t len;
            if (zaio_cursor_str (cursor, &key, &len)) return -1;
            int rc;
            if (s_key_is (key, len, "name"))
                rc = zaio_cursor_str_copy (cursor, volume->name, sizeof volume->name,
                                           ZAIO_VOLUME_MAX),
                have_name = true;
            else if (s_key_is (key, len, "readonly"))
                rc = zaio_cursor_bool (cursor, &volume->readonly);
            else
                rc = zaio_cursor_skip (cursor, 1);
            if (rc) return -1;
        }
        if (!have_name || !zaio_volume_name_valid (volume->name)) return -1;
    }
    ready->volume_count = count;
    return 0;
}

int
zaio_ready_decode (zaio_ready_t *ready, const void *data, size_t size)
{
    memset (ready, 0, sizeof (*ready));
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    if (zaio_cursor_map (&cursor, &count)) return ZAIO_ERR_MALFORMED;
    bool have_credit = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        if (zaio_cursor_str (&cursor, &key, &len)) return ZAIO_ERR_MALFORMED;
        uint64_t value = 0;
        int rc;
        if (s_key_is (key, len, "credit")) {
            rc = zaio_cursor_uint (&cursor, &value) || value == 0 || value > ZAIO_CREDIT_MAX;
            ready->credit = (uint32_t)value;
            have_credit = true;
        } else if (s_key_is (key, len, "heartbeat_ms")) {
            rc = zaio_cursor_uint (&cursor, &value) || value > 3600 * 1000;
            ready->heartbeat_ms = (uint32_t)value;
        } else if (s_key_is (key, len, "pid")) {
            rc = zaio_cursor_uint (&cursor, &value) || value > UINT32_MAX;
            ready->pid = (uint32_t)value;
        } else if (s_key_is (key, len, "slot")) {
            rc = zaio_cursor_uint (&cursor, &value) || value > UINT32_MAX;
            ready->slot = (uint32_t)value;
        } else if (s_key_is (key, len, "host"))
            rc = zaio_cursor_str_copy (&cursor, ready->host, sizeof ready->host,
                                       sizeof ready->host - 1);
        else if (s_key_is (key, len, "volumes"))
            rc = s_decode_volumes (ready, &cursor);
        else
            rc = zaio_cursor_skip (&cursor, ZAIO_DEPTH_MAX - 1);
        if (rc) return ZAIO_ERR_MALFORMED;
    }
    return zaio_cursor_done (&cursor) && have_credit ? 0 : ZAIO_ERR_MALFORMED;
}

//  ---------------------------------------------------------------------
//  Outcome and DONE

//  [ok, error name or nil, bytes, service_us], in msgpack's shortest forms.
void
zaio_outcome_pack (msgpack_packer *pk, const zaio_outcome_t *outcome)
{
    msgpack_pack_array (pk, 4);
    if (outcome->error) {
        msgpack_pack_false (pk);
        zaio_pack_str (pk, zaio_error_name (outcome->error));
    } else {
        msgpack_pack_true (pk);
        msgpack_pack_nil (pk);
    }
    zaio_pack_uint (pk, outcome->bytes);
    zaio_pack_uint (pk, outcome->service_us);
}

zframe_t *
zaio_outcome_encode (const zaio_outcome_t *outcome)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_outcome_pack (&writer.packer, outcome);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

int
zaio_outcome_decode (zaio_outcome_t *outcome, const void *data, size_t size)
{
    memset (outcome, 0, sizeof (*outcome));
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, data, size);
    uint32_t count;
    bool ok;
    if (zaio_cursor_array (&cursor, &count) || count != 4 || zaio_cursor_bool (&cursor, &ok))
        return ZAIO_ERR_MALFORMED;
    if (ok) {
        if (zaio_cursor_nil (&cursor)) return ZAIO_ERR_MALFORMED;
    } else {
        const char *name;
        uint32_t len;
        if (zaio_cursor_str (&cursor, &name, &len)) return ZAIO_ERR_MALFORMED;
        outcome->error = zaio_error_lookup (name, len);
    }
    if (zaio_cursor_uint (&cursor, &outcome->bytes) ||
        zaio_cursor_uint (&cursor, &outcome->service_us) || !zaio_cursor_done (&cursor))
        return ZAIO_ERR_MALFORMED;
    return 0;
}

//  A body writer appends bytes as they are, with no msgpack header: the
//  envelope goes first, raw, then the outcome.
void
zaio_done_pack (zaio_writer_t *writer, uint64_t job, const zaio_outcome_t *outcome)
{
    uint8_t envelope[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (envelope, ZAIO_WORKER_DONE, job);
    msgpack_pack_bin_body (&writer->packer, envelope, sizeof envelope);
    zaio_outcome_pack (&writer->packer, outcome);
}

int
zaio_done_outcome (zaio_outcome_t *outcome, const void *data, size_t size)
{
    assert (size >= ZAIO_ENVELOPE_SIZE);
    return zaio_outcome_decode (outcome, (const uint8_t *)data + ZAIO_ENVELOPE_SIZE,
                                size - ZAIO_ENVELOPE_SIZE);
}
