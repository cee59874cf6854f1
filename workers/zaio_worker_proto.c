/*  zaio_worker_proto.c: the ZAIOW/5 codec; see zaio_worker_proto.h. */

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
    assert (command != ZAIO_WORKER_JOB && command != ZAIO_WORKER_DONE);
    uint8_t bytes[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (bytes, command, number);
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
    bool entries = command == ZAIO_WORKER_JOB || command == ZAIO_WORKER_DONE;
    if (entries ? size < ZAIO_ENTRIES_HEAD_SIZE : size != ZAIO_ENVELOPE_SIZE) return -1;
    *number = s_get_u64 (bytes + signature + 1);
    return command;
}

bool
zaio_envelope_other_version (const void *data, size_t size)
{
    size_t stem = strlen (ZAIO_WORKER_SIGNATURE_STEM);
    size_t signature = strlen (ZAIO_WORKER_SIGNATURE);
    return size >= signature && memcmp (data, ZAIO_WORKER_SIGNATURE_STEM, stem) == 0 &&
           memcmp (data, ZAIO_WORKER_SIGNATURE, signature) != 0;
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

//  ---------------------------------------------------------------------
//  JOB and DONE entries

static uint32_t
s_get_u32 (const uint8_t *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

//  Reads one entry at at, which has left bytes after it, into *entry; the
//  bytes it took, or 0 if it is malformed.
static size_t
s_read_entry (int command, const uint8_t *at, size_t left, zaio_entry_t *entry)
{
    size_t fixed = command == ZAIO_WORKER_JOB ? ZAIO_JOB_ENTRY_SIZE : ZAIO_DONE_ENTRY_SIZE;
    if (left < fixed) return 0;
    entry->job = s_get_u64 (at);
    uint8_t flags = at[8];
    if (flags & ~ZAIO_ENTRY_DATA) return 0;
    entry->has_data = flags & ZAIO_ENTRY_DATA;
    size_t used = 9;
    if (command == ZAIO_WORKER_DONE) {
        size_t outcome = at[used++];
        if (left - fixed < outcome ||
            zaio_outcome_decode (&entry->outcome, at + used, outcome) != 0)
            return 0;
        used += outcome;
    } else
        memset (&entry->outcome, 0, sizeof entry->outcome);
    size_t header = s_get_u32 (at + used);
    used += 4;
    if (header == 0 || left - used < header) return 0;
    entry->header = at + used;
    entry->header_size = header;
    return used + header;
}

int
zaio_entries_open (zaio_entries_t *reader, const void *data, size_t size, size_t data_frames)
{
    memset (reader, 0, sizeof *reader);
    uint64_t number;
    int command = zaio_envelope_get (data, size, &number);
    if (command != ZAIO_WORKER_JOB && command != ZAIO_WORKER_DONE) return ZAIO_ERR_MALFORMED;
    if (command == ZAIO_WORKER_DONE && number != 0) return ZAIO_ERR_MALFORMED;
    const uint8_t *bytes = (const uint8_t *)data;
    uint32_t count = (uint32_t)bytes[ZAIO_ENVELOPE_SIZE] << 8 | bytes[ZAIO_ENVELOPE_SIZE + 1];
    if (count == 0 || count > ZAIO_CREDIT_MAX) return ZAIO_ERR_MALFORMED;
    const uint8_t *at = bytes + ZAIO_ENTRIES_HEAD_SIZE;
    size_t left = size - ZAIO_ENTRIES_HEAD_SIZE;
    uint32_t with_data = 0;
    for (uint32_t i = 0; i < count; i++) {
        zaio_entry_t entry;
        size_t used = s_read_entry (command, at, left, &entry);
        if (used == 0) return ZAIO_ERR_MALFORMED;
        with_data += entry.has_data;
        at += used;
        left -= used;
    }
    if (left != 0 || with_data != data_frames) return ZAIO_ERR_MALFORMED;
    reader->command = command;
    reader->number = number;
    reader->count = reader->left = count;
    reader->data_count = with_data;
    reader->next = bytes + ZAIO_ENTRIES_HEAD_SIZE;
    return 0;
}

bool
zaio_entries_next (zaio_entries_t *reader, zaio_entry_t *entry)
{
    if (reader->left == 0) return false;
    //  Checked whole by zaio_entries_open: the entry is there and fits.
    size_t used = s_read_entry (reader->command, reader->next, SIZE_MAX, entry);
    assert (used);
    reader->next += used;
    reader->left--;
    return true;
}

void
zaio_batch_init (zaio_batch_t *self)
{
    memset (self, 0, sizeof *self);
    zaio_writer_init (&self->writer);
}

void
zaio_batch_release (zaio_batch_t *self)
{
    zaio_writer_release (&self->writer);
}

void
zaio_batch_start (zaio_batch_t *self, zaio_worker_command_t command, uint64_t number)
{
    assert (command == ZAIO_WORKER_JOB || command == ZAIO_WORKER_DONE);
    zaio_writer_reset (&self->writer);
    uint8_t head[ZAIO_ENTRIES_HEAD_SIZE];
    zaio_envelope_put (head, command, number);
    head[ZAIO_ENVELOPE_SIZE] = head[ZAIO_ENVELOPE_SIZE + 1] = 0; //  the count, at the end
    msgpack_pack_bin_body (&self->writer.packer, head, sizeof head);
    self->count = 0;
    self->data_bytes = 0;
    self->data_count = 0;
}

//  The fixed bytes before an entry's header: job, flags and (a DONE's)
//  outcome; then the header's length and the header.
static void
s_add_header (zaio_batch_t *self, const void *header, size_t size, bool has_data, size_t data_size)
{
    assert (size > 0 && size <= UINT32_MAX && self->count < ZAIO_CREDIT_MAX);
    uint8_t length[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8),
                         (uint8_t)size};
    msgpack_pack_bin_body (&self->writer.packer, length, sizeof length);
    msgpack_pack_bin_body (&self->writer.packer, header, size);
    self->count++;
    if (has_data) {
        self->data_count++;
        self->data_bytes += data_size;
    }
}

void
zaio_batch_add_job (zaio_batch_t *self, uint64_t job, const void *header, size_t size,
                    bool has_data, size_t data_size)
{
    uint8_t fixed[9];
    s_put_u64 (fixed, job);
    fixed[8] = has_data ? ZAIO_ENTRY_DATA : 0;
    msgpack_pack_bin_body (&self->writer.packer, fixed, sizeof fixed);
    s_add_header (self, header, size, has_data, data_size);
}

void
zaio_batch_add_done (zaio_batch_t *self, uint64_t job, const zaio_outcome_t *outcome,
                     const void *header, size_t size, bool has_data, size_t data_size)
{
    uint8_t fixed[10];
    s_put_u64 (fixed, job);
    fixed[8] = has_data ? ZAIO_ENTRY_DATA : 0;
    fixed[9] = 0; //  the outcome's length, once packed
    msgpack_pack_bin_body (&self->writer.packer, fixed, sizeof fixed);
    size_t at = self->writer.size;
    zaio_outcome_pack (&self->writer.packer, outcome);
    size_t packed = self->writer.size - at;
    assert (packed <= UINT8_MAX); //  4 small fields: an error name, two uints
    if (!self->writer.failed) self->writer.data[at - 1] = (char)packed;
    s_add_header (self, header, size, has_data, data_size);
}

bool
zaio_batch_full (zaio_batch_t *self)
{
    return self->count >= ZAIO_CREDIT_MAX || self->writer.size >= ZAIO_WORKER_BATCH_BYTES ||
           self->data_bytes >= ZAIO_WORKER_BATCH_DATA;
}

//  Writes the count into the head.
static void
s_finish (zaio_batch_t *self)
{
    assert (self->count > 0 && !self->writer.failed);
    self->writer.data[ZAIO_ENVELOPE_SIZE] = (char)(self->count >> 8);
    self->writer.data[ZAIO_ENVELOPE_SIZE + 1] = (char)self->count;
    self->count = 0;
    self->data_bytes = 0;
    self->data_count = 0;
}

void
zaio_batch_part (zaio_batch_t *self, zmq_msg_t *part)
{
    s_finish (self);
    zaio_writer_part (&self->writer, part);
}

zframe_t *
zaio_batch_frame (zaio_batch_t *self)
{
    s_finish (self);
    return zaio_writer_frame (&self->writer);
}
