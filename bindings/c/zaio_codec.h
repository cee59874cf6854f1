/*  zaio_codec.h: encode and decode every zaio message (schemas/PROTOCOL.md).

    One place turns bytes into structs and back, for the broker, the workers
    and the clients alike. Decoders take untrusted bytes: they never assert,
    never allocate from a declared length, and return a zaio error code with
    a human reason instead. Encoders emit the canonical form the golden
    vectors in schemas/vectors/ pin (shortest integers, keys in spec order).
*/
#ifndef ZAIO_CODEC_H_INCLUDED
#define ZAIO_CODEC_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>

#include "zaio_cursor.h"
#include "zaio_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  ---------------------------------------------------------------------
//  Ops and errors

//  Wire name of op ("read"); NULL if op is out of range.
const char *zaio_op_name (zaio_op_t op);

//  Op named by the len bytes at name; -1 if no op has that name.
int zaio_op_lookup (const char *name, size_t len);

//  True if running the op twice has the effect of running it once, so a
//  lost job may be retried: ping, hello, stat, read, readfile, listdir.
bool zaio_op_idempotent (zaio_op_t op);

//  True if the request carries a data frame (write, append, writefile).
bool zaio_op_takes_data (zaio_op_t op);

//  True if a successful reply carries a data frame (read, readfile).
bool zaio_op_returns_data (zaio_op_t op);

//  True if the op changes the volume (refused on read-only volumes).
bool zaio_op_mutates (zaio_op_t op);

//  Wire name of an error code: "ENOENT" for errno values, "MALFORMED" for
//  protocol errors. An errno without a wire name travels as "EIO".
const char *zaio_error_name (int code);

//  Code of the len bytes at name; ZAIO_ERR_INTERNAL if unknown.
int zaio_error_lookup (const char *name, size_t len);

//  Human text for a code (strerror for errno values).
const char *zaio_error_text (int code);

//  True if name is a valid volume name: 1 to ZAIO_VOLUME_MAX letters,
//  digits, '-' or '_' (no dots: names are part of event topics).
bool zaio_volume_name_valid (const char *name);

//  ---------------------------------------------------------------------
//  Requests

typedef struct {
    uint64_t id; //  client-chosen, non-zero
    zaio_op_t op;
    uint32_t fields; //  ZAIO_FIELD_* bits present on the wire
    char path[ZAIO_PATH_MAX + 1];
    char to[ZAIO_PATH_MAX + 1];
    char after[ZAIO_NAME_MAX + 1];
    char volume[ZAIO_VOLUME_MAX + 1];
    char key[ZAIO_KEY_MAX + 1];
    uint64_t offset;
    uint64_t length;
    uint64_t size;
    uint32_t mode;
    uint32_t limit;
    uint32_t deadline_ms;
    uint32_t priority;
    bool create;
    bool parents;
    bool datasync;
    bool barrier;
    bool link;
} zaio_request_t;

//  Clear req and set its id and op (both always on the wire). Set other
//  fields with the zaio_request_set_* helpers so the presence bits follow.
void zaio_request_init (zaio_request_t *req, zaio_op_t op, uint64_t id);

//  Set a string field (ZAIO_FIELD_PATH, _TO, _AFTER, _VOLUME or _KEY).
//  Returns -1 if value is too long for the field.
int zaio_request_set_str (zaio_request_t *req, zaio_field_t field, const char *value);

//  Set a numeric or boolean field.
void zaio_request_set_uint (zaio_request_t *req, zaio_field_t field, uint64_t value);

//  The volume req names, or ZAIO_DEFAULT_VOLUME. Borrowed from req.
const char *zaio_request_volume (const zaio_request_t *req);

//  Decode a request header frame. Returns 0, or an error code with a
//  reason in why. req->id is set as soon as a valid id was read, so the
//  caller can address its error reply (0 means no id could be read).
int zaio_request_decode (zaio_request_t *req, const void *data, size_t size, char *why,
                         size_t why_size);

//  Decode a whole request message as a client sent it (routing id already
//  removed): the signature, the header, and exactly the data frame the op
//  needs, within payload_max. msg stays the caller's (its frame cursor
//  moves). Returns 0 or an error code as zaio_request_decode does.
int zaio_request_decode_message (zaio_request_t *req, zmsg_t *msg, size_t payload_max, char *why,
                                 size_t why_size);

//  The same for a message given as count frames, frames[i] of sizes[i]
//  bytes; only the first three are read, the rest only counted.
int zaio_request_decode_frames (zaio_request_t *req, const void *const *frames, const size_t *sizes,
                                size_t count, size_t payload_max, char *why, size_t why_size);

//  Encode a request header. Caller owns the returned frame.
zframe_t *zaio_request_encode (const zaio_request_t *req);

//  ---------------------------------------------------------------------
//  Replies

//  A msgpack buffer for building headers. Small headers (the usual case)
//  stay in the inline buffer, so building one costs no allocation.
typedef struct {
    msgpack_packer packer;
    char *data; //  inline_buffer, or heap once it outgrows it
    size_t size;
    size_t capacity;
    bool failed; //  out of memory: the frame will be NULL
    char inline_buffer[480];
} zaio_writer_t;

void zaio_writer_init (zaio_writer_t *self);
//  Forget what was written, keeping the buffer.
void zaio_writer_reset (zaio_writer_t *self);
//  Frame with the bytes written so far (NULL if memory ran out); the
//  writer is reset for reuse.
zframe_t *zaio_writer_frame (zaio_writer_t *self);
//  The same as a new message part (initialised here; the caller sends or
//  closes it). Running out of memory here aborts, as czmq's allocations do.
void zaio_writer_part (zaio_writer_t *self, zmq_msg_t *part);
void zaio_writer_release (zaio_writer_t *self);

//  Keys and scalars, msgpack's shortest forms. pk must be a zaio_writer_t's
//  packer: these write into the writer directly.
void zaio_pack_str (msgpack_packer *pk, const char *str);
void zaio_pack_key_uint (msgpack_packer *pk, const char *key, uint64_t value);
void zaio_pack_key_int (msgpack_packer *pk, const char *key, int64_t value);
void zaio_pack_key_bool (msgpack_packer *pk, const char *key, bool value);
void zaio_pack_key_str (msgpack_packer *pk, const char *key, const char *value);

//  Pack a request header, as zaio_request_encode does, for a caller that
//  sends from its own writer without a frame in between.
void zaio_request_pack (msgpack_packer *pk, const zaio_request_t *req);

//  Start a success reply: a map of 2 + result_count entries, "id" and
//  "ok": true. The caller then packs result_count key/value pairs, keys in
//  ascending byte order.
void zaio_reply_pack_ok (msgpack_packer *pk, uint64_t id, uint32_t result_count);

//  A complete error reply: {id, ok: false, error: NAME, message: TEXT}.
//  message NULL uses zaio_error_text (code).
void zaio_reply_pack_error (msgpack_packer *pk, uint64_t id, int code, const char *message);

//  Error reply header as a new message part (initialised here).
void zaio_reply_error_part (zmq_msg_t *part, uint64_t id, int code, const char *message);

//  Reply header fields a client reads. Scalars are decoded; container
//  results are left as raw msgpack slices into the decoded frame (borrowed,
//  valid while the frame lives) to read with zaio_cursor.
typedef struct {
    uint64_t id;
    bool ok;
    int error; //  0 when ok
    char message[256];
    uint32_t present; //  ZAIO_RESULT_* bits
    uint64_t bytes;
    uint64_t offset;
    uint64_t size;
    uint32_t mode;
    int64_t mtime_ns;
    bool eof;
    bool more;
    char type[16];
    const uint8_t *entries; //  listdir: array of entry maps
    size_t entries_size;
    const uint8_t *hello; //  hello: the whole header map
    size_t hello_size;
} zaio_reply_t;

typedef enum {
    ZAIO_RESULT_BYTES = 1u << 0,
    ZAIO_RESULT_OFFSET = 1u << 1,
    ZAIO_RESULT_SIZE = 1u << 2,
    ZAIO_RESULT_MODE = 1u << 3,
    ZAIO_RESULT_MTIME = 1u << 4,
    ZAIO_RESULT_EOF = 1u << 5,
    ZAIO_RESULT_MORE = 1u << 6,
    ZAIO_RESULT_TYPE = 1u << 7,
    ZAIO_RESULT_ENTRIES = 1u << 8,
} zaio_result_t;

//  Decode a reply header. Unknown keys are skipped (brokers may add
//  results). Returns 0 or ZAIO_ERR_MALFORMED with a reason in why.
int zaio_reply_decode (zaio_reply_t *reply, const void *data, size_t size, char *why,
                       size_t why_size);

//  One listdir entry (PROTOCOL.md section 5): a map of mtime_ns, name, size
//  and type.
typedef struct {
    char name[ZAIO_NAME_MAX + 1];
    char type[16]; //  "file", "dir", "symlink" or "other"
    uint64_t size;
    int64_t mtime_ns; //  nanoseconds since the Unix epoch
} zaio_dirent_t;

//  Pack one entry map, keys in canonical order, for a listdir reply's
//  "entries" array (the caller packs the array's header).
void zaio_dirent_pack (msgpack_packer *pk, const zaio_dirent_t *entry);

//  Decode a listdir reply's entries (zaio_reply_t.entries: size bytes at
//  data, an array of at most ZAIO_LISTDIR_MAX entry maps; unknown keys
//  skipped). On success *entries_p is a new array of *count_p entries the
//  caller frees with free (). Returns 0, ZAIO_ERR_MALFORMED or ENOMEM, with
//  *entries_p NULL and *count_p 0 on failure.
int zaio_dirents_decode (const void *data, size_t size, zaio_dirent_t **entries_p, size_t *count_p);

//  The most volumes a broker knows (PROTOCOL.md section 10), so the most a
//  hello reply lists.
#define ZAIO_HELLO_VOLUMES_MAX 256

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    bool readonly;
    uint32_t workers; //  live worker connections serving it
} zaio_hello_volume_t;

//  What a hello reply says (PROTOCOL.md section 5.1). A limit the broker
//  did not report is 0.
typedef struct {
    uint32_t protocol; //  ZAIO_PROTOCOL_VERSION
    char version[32];  //  broker software version
    uint64_t header_max;
    uint64_t path_max;
    uint64_t payload_max; //  largest data frame and largest read
    uint64_t listdir_max;
    uint64_t inflight_max; //  calls one client may have accepted at once
    uint64_t queue_max;
    uint64_t queue_bytes_max; //  request data held for jobs not yet running
    uint64_t reply_hwm;       //  replies queued to a client before the rest are held
    uint32_t ops;             //  bit (1u << op) for each zaio_op_t the broker supports
    uint32_t volume_count;
    zaio_hello_volume_t volumes[ZAIO_HELLO_VOLUMES_MAX];
} zaio_hello_t;

//  Pack a whole hello reply to request id: {id, ok, limits (all eight),
//  ops (those whose bit is set, in op order), protocol, version, volumes
//  (sorted by name, whatever their order in hello)}. hello is borrowed.
void zaio_hello_pack (msgpack_packer *pk, uint64_t id, const zaio_hello_t *hello);

//  Decode the results of a hello reply from its whole header map
//  (zaio_reply_t.hello). Unknown keys, limits, ops and volume fields are
//  skipped, and volumes past ZAIO_HELLO_VOLUMES_MAX dropped. Returns 0 or
//  ZAIO_ERR_MALFORMED.
int zaio_hello_decode (zaio_hello_t *hello, const void *data, size_t size);

//  ---------------------------------------------------------------------
//  Completion events

typedef struct {
    uint64_t seq;    //  per broker, from 1, no gaps at the source
    uint64_t id;     //  the client's request id
    char client[65]; //  hex routing id, or authenticated user
    zaio_op_t op;
    char path[ZAIO_PATH_MAX + 1];
    char volume[ZAIO_VOLUME_MAX + 1];
    int error; //  0 = ok
    uint64_t bytes;
    uint64_t queue_us;   //  accepted -> handed to a worker
    uint64_t service_us; //  worker's time on the job
    char worker[128];    //  which worker ran it ("" if none did)
    int64_t time_us;     //  completion, unix microseconds
} zaio_event_t;

//  Topic frame text: "ok.read.default" / "err.write.photos".
void zaio_event_topic (const zaio_event_t *event, char *buf, size_t buf_size);

//  The same from its parts, for a publisher that has no event yet.
void zaio_topic_format (int error, zaio_op_t op, const char *volume, char *buf, size_t buf_size);

//  Caller owns the returned body frame.
zframe_t *zaio_event_encode (const zaio_event_t *event);

//  Returns 0 or ZAIO_ERR_MALFORMED.
int zaio_event_decode (zaio_event_t *event, const void *data, size_t size);

//  ---------------------------------------------------------------------
//  Worker protocol (ZAIOW/3): broker <-> worker

//  Each message starts with one envelope part: the signature, a command
//  byte and a job number (8 bytes, big-endian; 0 when the command is not
//  about a job). A DONE's envelope part goes on with the job's outcome
//  (zaio_done_pack), so a DONE needs no part of its own for it.
typedef enum {
    ZAIO_WORKER_READY = 1,
    ZAIO_WORKER_JOB = 2,
    ZAIO_WORKER_DONE = 3,
    ZAIO_WORKER_HEARTBEAT = 4,
    ZAIO_WORKER_BYE = 5,
} zaio_worker_command_t;

#define ZAIO_ENVELOPE_SIZE 16

//  Writes an envelope into bytes (ZAIO_ENVELOPE_SIZE of them).
void zaio_envelope_put (uint8_t *bytes, zaio_worker_command_t command, uint64_t job);
//  An envelope as a new frame.
zframe_t *zaio_envelope_frame (zaio_worker_command_t command, uint64_t job);
//  Reads an envelope: returns its command and stores its job number in
//  *job, or returns -1 if data is not an envelope (signature or command
//  wrong, or a size other than ZAIO_ENVELOPE_SIZE; only a DONE's is
//  longer, its outcome following).
int zaio_envelope_get (const void *data, size_t size, uint64_t *job);

#define ZAIO_WORKER_VOLUMES_MAX 64

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    bool readonly;
} zaio_volume_info_t;

//  What a worker connection offers in READY.
typedef struct {
    uint32_t credit; //  jobs it accepts at once
    char host[64];
    uint32_t pid;
    uint32_t slot;         //  thread number within the process
    uint32_t heartbeat_ms; //  its heartbeat interval
    uint32_t volume_count;
    zaio_volume_info_t volumes[ZAIO_WORKER_VOLUMES_MAX];
} zaio_ready_t;

zframe_t *zaio_ready_encode (const zaio_ready_t *ready);
int zaio_ready_decode (zaio_ready_t *ready, const void *data, size_t size);

//  What the broker needs of a finished job, so it never decodes the reply
//  header it forwards: [ok, error name or nil, bytes, service_us].
typedef struct {
    int error;
    uint64_t bytes;
    uint64_t service_us;
} zaio_outcome_t;

zframe_t *zaio_outcome_encode (const zaio_outcome_t *outcome);
void zaio_outcome_pack (msgpack_packer *pk, const zaio_outcome_t *outcome);
int zaio_outcome_decode (zaio_outcome_t *outcome, const void *data, size_t size);

//  A DONE's envelope part: the envelope for job, then its outcome.
void zaio_done_pack (zaio_writer_t *writer, uint64_t job, const zaio_outcome_t *outcome);
//  The outcome of a DONE's envelope part of size bytes (whose envelope
//  zaio_envelope_get has read). Returns 0 or ZAIO_ERR_MALFORMED.
int zaio_done_outcome (zaio_outcome_t *outcome, const void *data, size_t size);

//  Receive one whole message from a libzmq socket handle without waiting:
//  its first max parts into parts (each initialised here; the caller
//  closes the first min (count, max)), the rest dropped. Returns the
//  number of parts the message had, or -1 if none was waiting.
int zaio_recv_parts (void *handle, zmq_msg_t *parts, int max);

//  True if frame holds exactly the given text.
bool zaio_frame_is (zframe_t *frame, const char *text);

//  Waits up to timeout_ms (-1: forever) for input on any of socks, and
//  sets readable[i] for each socket whose ZMQ_FD fired. It is one poll(2)
//  on the sockets' ZMQ_FDs, where zmq_poll makes two system calls more per
//  socket each time. The rule that makes it safe: a socket may only be
//  waited on when the last thing done with it was a receive that found
//  nothing, or a ZMQ_EVENTS query that showed no input (a send can take
//  the signal that input arrived). A readable socket may still turn out
//  to have nothing. Returns how many are readable, 0 on timeout, -1 if
//  interrupted.
int zaio_wait_input (zsock_t **socks, int count, int timeout_ms, bool *readable);

//  Writes to name "inproc://" prefix "-" N, N never given before in this
//  process: libzmq frees an inproc name only once the socket that bound it
//  has been reaped, after it closed, so a name reused at once (after an
//  address, say) may still be taken.
void zaio_inproc_name (char *name, size_t size, const char *prefix);

#ifdef __cplusplus
}
#endif

#endif
