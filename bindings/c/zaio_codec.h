/*  zaio_codec.h: the ZAIO/1 codec: encode and decode the messages clients
    and brokers exchange (schemas/PROTOCOL.md): requests, replies, events.

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
ZAIO_EXPORT const char *zaio_op_name (zaio_op_t op);

//  Op named by the len bytes at name; -1 if no op has that name.
ZAIO_EXPORT int zaio_op_lookup (const char *name, size_t len);

//  True if running the op twice has the effect of running it once, so a
//  lost job may be retried: ping, hello, stat, read, readfile, listdir, stats.
ZAIO_EXPORT bool zaio_op_idempotent (zaio_op_t op);

//  True if the request carries a data frame (write, append, writefile).
ZAIO_EXPORT bool zaio_op_takes_data (zaio_op_t op);

//  True if a successful reply carries a data frame (read, readfile).
ZAIO_EXPORT bool zaio_op_returns_data (zaio_op_t op);

//  True if the op changes the volume (refused on read-only volumes).
ZAIO_EXPORT bool zaio_op_mutates (zaio_op_t op);

//  Wire name of an error code: "ENOENT" for errno values, "MALFORMED" for
//  protocol errors. An errno without a wire name travels as "EIO".
ZAIO_EXPORT const char *zaio_error_name (int code);

//  Code of the len bytes at name; ZAIO_ERR_INTERNAL if unknown.
ZAIO_EXPORT int zaio_error_lookup (const char *name, size_t len);

//  Human text for a code (strerror for errno values).
ZAIO_EXPORT const char *zaio_error_text (int code);

//  True if name is a valid volume name: 1 to ZAIO_VOLUME_MAX letters,
//  digits, '-' or '_' (no dots: names are part of event topics).
ZAIO_EXPORT bool zaio_volume_name_valid (const char *name);

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
    uint32_t top; //  stats: top clients to list
    bool create;
    bool parents;
    bool datasync;
    bool barrier;
    bool link;
} zaio_request_t;

//  Clear req and set its id and op (both always on the wire). Set other
//  fields with the zaio_request_set_* helpers so the presence bits follow.
ZAIO_EXPORT void zaio_request_init (zaio_request_t *req, zaio_op_t op, uint64_t id);

//  Set a string field (ZAIO_FIELD_PATH, _TO, _AFTER, _VOLUME or _KEY).
//  Returns -1 if value is too long for the field. An AFTER that is not
//  UTF-8 (a name a listdir returned with name_bin) is encoded as a bin.
ZAIO_EXPORT int zaio_request_set_str (zaio_request_t *req, zaio_field_t field, const char *value);

//  Set a numeric or boolean field.
ZAIO_EXPORT void zaio_request_set_uint (zaio_request_t *req, zaio_field_t field, uint64_t value);

//  The volume req names, or ZAIO_DEFAULT_VOLUME. Borrowed from req.
ZAIO_EXPORT const char *zaio_request_volume (const zaio_request_t *req);

//  Decode a request header frame. Returns 0, or an error code with a
//  reason in why. req->id is set as soon as a valid id was read, so the
//  caller can address its error reply (0 means no id could be read).
ZAIO_EXPORT int zaio_request_decode (zaio_request_t *req, const void *data, size_t size, char *why,
                                     size_t why_size);

//  Decode a whole request message as a client sent it (routing id already
//  removed): the signature, the header, and exactly the data frame the op
//  needs, within payload_max. msg stays the caller's (its frame cursor
//  moves). Returns 0 or an error code as zaio_request_decode does.
ZAIO_EXPORT int zaio_request_decode_message (zaio_request_t *req, zmsg_t *msg, size_t payload_max,
                                             char *why, size_t why_size);

//  The same for a message given as count frames, frames[i] of sizes[i]
//  bytes; only the first three are read, the rest only counted.
ZAIO_EXPORT int zaio_request_decode_frames (zaio_request_t *req, const void *const *frames,
                                            const size_t *sizes, size_t count, size_t payload_max,
                                            char *why, size_t why_size);

//  Encode a request header. Caller owns the returned frame.
ZAIO_EXPORT zframe_t *zaio_request_encode (const zaio_request_t *req);

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

ZAIO_EXPORT void zaio_writer_init (zaio_writer_t *self);
//  Forget what was written, keeping the buffer.
ZAIO_EXPORT void zaio_writer_reset (zaio_writer_t *self);
//  Frame with the bytes written so far (NULL if memory ran out); the
//  writer is reset for reuse.
ZAIO_EXPORT zframe_t *zaio_writer_frame (zaio_writer_t *self);
//  The same as a new message part (initialised here; the caller sends or
//  closes it). Running out of memory here aborts, as czmq's allocations do.
ZAIO_EXPORT void zaio_writer_part (zaio_writer_t *self, zmq_msg_t *part);
ZAIO_EXPORT void zaio_writer_release (zaio_writer_t *self);

//  Keys and scalars, msgpack's shortest forms. pk must be a zaio_writer_t's
//  packer: these write into the writer directly.
ZAIO_EXPORT void zaio_pack_uint (msgpack_packer *pk, uint64_t value);
ZAIO_EXPORT void zaio_pack_str (msgpack_packer *pk, const char *str);
ZAIO_EXPORT void zaio_pack_key_uint (msgpack_packer *pk, const char *key, uint64_t value);
ZAIO_EXPORT void zaio_pack_key_int (msgpack_packer *pk, const char *key, int64_t value);
ZAIO_EXPORT void zaio_pack_key_bool (msgpack_packer *pk, const char *key, bool value);
ZAIO_EXPORT void zaio_pack_key_str (msgpack_packer *pk, const char *key, const char *value);

//  Pack a request header, as zaio_request_encode does, for a caller that
//  sends from its own writer without a frame in between.
ZAIO_EXPORT void zaio_request_pack (msgpack_packer *pk, const zaio_request_t *req);

//  Start a success reply: a map of 2 + result_count entries, "id" and
//  "ok": true. The caller then packs result_count key/value pairs, keys in
//  ascending byte order.
ZAIO_EXPORT void zaio_reply_pack_ok (msgpack_packer *pk, uint64_t id, uint32_t result_count);

//  A complete error reply: {id, ok: false, error: NAME, message: TEXT}.
//  message NULL uses zaio_error_text (code).
ZAIO_EXPORT void zaio_reply_pack_error (msgpack_packer *pk, uint64_t id, int code,
                                        const char *message);

//  Error reply header as a new message part (initialised here).
ZAIO_EXPORT void zaio_reply_error_part (zmq_msg_t *part, uint64_t id, int code,
                                        const char *message);

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
ZAIO_EXPORT int zaio_reply_decode (zaio_reply_t *reply, const void *data, size_t size, char *why,
                                   size_t why_size);

//  One listdir entry (PROTOCOL.md section 5): a map of mtime_ns, name, size
//  and type. name is the entry's bytes as the directory holds them, which
//  need not be UTF-8: such a name travels as a msgpack bin and name_bin is
//  true. Show such a name escaped; it can be given back as a listdir
//  `after`, but no request can name the file in a path (paths are str).
typedef struct {
    char name[ZAIO_NAME_MAX + 1];
    char type[16]; //  "file", "dir", "symlink" or "other"
    uint64_t size;
    int64_t mtime_ns; //  nanoseconds since the Unix epoch
    bool name_bin;    //  name is not well-formed UTF-8 (decoded entries only)
} zaio_dirent_t;

//  Pack one entry map, keys in canonical order, for a listdir reply's
//  "entries" array (the caller packs the array's header). A name that is
//  not well-formed UTF-8 is packed as a bin, whatever name_bin says.
ZAIO_EXPORT void zaio_dirent_pack (msgpack_packer *pk, const zaio_dirent_t *entry);

//  Decode a listdir reply's entries (zaio_reply_t.entries: size bytes at
//  data, an array of at most ZAIO_LISTDIR_MAX entry maps; unknown keys
//  skipped). On success *entries_p is a new array of *count_p entries the
//  caller frees with free (). Returns 0, ZAIO_ERR_MALFORMED or ENOMEM, with
//  *entries_p NULL and *count_p 0 on failure.
ZAIO_EXPORT int zaio_dirents_decode (const void *data, size_t size, zaio_dirent_t **entries_p,
                                     size_t *count_p);

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
    uint64_t batch_max;       //  entries in one batch (0: the broker has no batch)
    uint64_t batch_bytes_max; //  bytes of a request batch's entries frame
    uint32_t ops;             //  bit (1u << op) for each zaio_op_t the broker supports
    uint32_t volume_count;
    zaio_hello_volume_t volumes[ZAIO_HELLO_VOLUMES_MAX];
    char warning[256]; //  what the broker warns every client of ("" if nothing)
} zaio_hello_t;

//  Pack a whole hello reply to request id: {id, ok, limits (all eight, and
//  batch_max and batch_bytes_max when batch_max is not 0),
//  ops (those whose bit is set, in op order), protocol, version, volumes
//  (sorted by name, whatever their order in hello), warning (only if not
//  "")}. hello is borrowed.
ZAIO_EXPORT void zaio_hello_pack (msgpack_packer *pk, uint64_t id, const zaio_hello_t *hello);

//  Decode the results of a hello reply from its whole header map
//  (zaio_reply_t.hello). Unknown keys, limits, ops and volume fields are
//  skipped, and volumes past ZAIO_HELLO_VOLUMES_MAX dropped. Returns 0 or
//  ZAIO_ERR_MALFORMED.
ZAIO_EXPORT int zaio_hello_decode (zaio_hello_t *hello, const void *data, size_t size);

//  ---------------------------------------------------------------------
//  The stats reply (PROTOCOL.md section 5.3), decoded

//  Histogram buckets of a stats reply: upper bounds 2^0 .. 2^26 us, and
//  the overflow bucket after them.
#define ZAIO_STATS_REPORT_BOUNDS  27
#define ZAIO_STATS_REPORT_BUCKETS (ZAIO_STATS_REPORT_BOUNDS + 1)

//  Jobs and bytes of one op x outcome x volume since the broker started.
typedef struct {
    char op[16];                      //  "" for requests that did not decode
    char outcome[32];                 //  "ok" or an error name ("ENOENT", "NOVOLUME"...)
    char volume[ZAIO_VOLUME_MAX + 1]; //  "" for volumes the broker does not know
    uint64_t jobs;
    uint64_t bytes;
} zaio_stats_report_row_t;

//  One op's latency histograms since the broker started, of the jobs a
//  worker ran: queue = accepted -> handed to a worker, service = the
//  worker's own time. queue[i] counts values <= bounds_us[i] (and above
//  the bucket before), queue[ZAIO_STATS_REPORT_BOUNDS] the rest.
typedef struct {
    char op[16];
    uint64_t count;
    uint64_t queue_sum_us;
    uint64_t service_sum_us;
    uint64_t queue[ZAIO_STATS_REPORT_BUCKETS];
    uint64_t service[ZAIO_STATS_REPORT_BUCKETS];
} zaio_stats_report_latency_t;

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    uint64_t workers;  //  live worker connections serving it
    uint64_t credit;   //  jobs its workers can take now
    uint64_t capacity; //  jobs its workers take at once
    uint64_t running;  //  its jobs workers hold
    uint64_t queued;   //  its jobs waiting for a worker
} zaio_stats_report_volume_t;

typedef struct {
    char name[128];    //  HOST/PID/SLOT
    char volumes[256]; //  the volumes it serves, comma-separated (cut to fit)
    uint64_t credit;
    uint64_t capacity;
    uint64_t running; //  jobs it holds
    uint64_t jobs;    //  jobs it finished
    bool remote;      //  a zaio-worker process, not one of the broker's threads
} zaio_stats_report_worker_t;

typedef struct {
    char client[72]; //  authenticated identity, or routing id in hex
    uint64_t jobs;   //  requests answered (space-saving: may be over, never under)
    uint64_t bytes;
    uint64_t errors;
} zaio_stats_report_client_t;

//  A decoded stats reply. Counters are cumulative since the broker
//  started: rates come from two reports' difference over their time_ns
//  (a smaller uptime_ms means the broker restarted). Arrays are owned by
//  the report; zaio_stats_report_destroy frees them all.
typedef struct {
    char version[32];
    uint64_t uptime_ms;
    int64_t time_ns; //  the broker's wall clock at the snapshot
    //  Gauges, now
    uint64_t queued;        //  jobs waiting for a worker
    uint64_t queued_bytes;  //  request data of jobs no worker has taken
    uint64_t running;       //  jobs workers hold
    uint64_t inflight;      //  jobs accepted, not yet answered
    uint64_t held_replies;  //  replies held for clients that do not read
    uint64_t held_bytes;    //  what they cost
    uint64_t clients;       //  client connections with something in the broker
    uint64_t workers;       //  worker connections (the list below may stop at 256)
    uint64_t subscriptions; //  event prefixes subscribed to
    uint64_t bounds_us[ZAIO_STATS_REPORT_BOUNDS];
    size_t bound_count; //  ZAIO_STATS_REPORT_BOUNDS from a broker of this version
    zaio_stats_report_row_t *rows;
    size_t row_count;
    zaio_stats_report_latency_t *latency;
    size_t latency_count;
    zaio_stats_report_volume_t *volumes;
    size_t volume_count;
    zaio_stats_report_worker_t *worker_list;
    size_t worker_count;
    zaio_stats_report_client_t *clients_top; //  busiest first
    size_t client_count;
} zaio_stats_report_t;

//  Most rows, latencies, volumes, workers and clients a report takes;
//  a reply with more is malformed (a broker lists fewer).
#define ZAIO_STATS_REPORT_ROWS_MAX 8192
#define ZAIO_STATS_REPORT_LIST_MAX 1024

//  Decode the results of a stats reply from its whole header map
//  (zaio_reply_t.hello). Unknown keys are skipped, strings too long for
//  their field are cut. On success *report_p is a new report (destroy it
//  with zaio_stats_report_destroy). Returns 0, ZAIO_ERR_MALFORMED or
//  ENOMEM, with *report_p NULL on failure.
ZAIO_EXPORT int zaio_stats_report_decode (zaio_stats_report_t **report_p, const void *data,
                                          size_t size);

//  Frees a report and its arrays; nulls *report_p, safe on NULL.
ZAIO_EXPORT void zaio_stats_report_destroy (zaio_stats_report_t **report_p);

//  ---------------------------------------------------------------------
//  Batches (PROTOCOL.md sections 3.4 and 5.2)
//
//  A request batch is [signature][{"id", "op": "batch"}][entries][data...]
//  and a reply batch [signature][entries][data...]. The entries frame is a
//  msgpack array of [header: bin, data: bool] pairs, header holding one
//  request or reply header map as packed; the data frames follow it, one
//  per pair whose flag is true, in order.

//  Builds an entries frame: pairs are appended, and the array's header is
//  put in front when the frame is taken. Small batches cost no allocation.
typedef struct {
    zaio_writer_t elements; //  the pairs packed so far
    uint32_t count;         //  pairs appended
    uint32_t data_count;    //  of them with data: true
} zaio_batch_writer_t;

ZAIO_EXPORT void zaio_batch_writer_init (zaio_batch_writer_t *self);
//  Forget the pairs appended, keeping the buffer.
ZAIO_EXPORT void zaio_batch_writer_reset (zaio_batch_writer_t *self);
//  Free the buffer; the writer may be used again after init.
ZAIO_EXPORT void zaio_batch_writer_release (zaio_batch_writer_t *self);

//  Append one pair: size bytes of header (a header map as packed, copied)
//  and whether a data frame goes with it. Returns 0, or -1 if memory ran
//  out (the writer then makes no frame until reset).
ZAIO_EXPORT int zaio_batch_writer_add (zaio_batch_writer_t *self, const void *header, size_t size,
                                       bool has_data);

//  Bytes the entries frame would have now, array header included.
ZAIO_EXPORT size_t zaio_batch_writer_size (const zaio_batch_writer_t *self);

//  The entries frame as a new message part (initialised here; the caller
//  sends or closes it); the writer is reset. The writer must hold a pair
//  and not have failed; running out of memory here aborts, as czmq's
//  allocations do.
ZAIO_EXPORT void zaio_batch_writer_part (zaio_batch_writer_t *self, zmq_msg_t *part);

//  The entries frame (caller owns it), or NULL if the writer holds no pair
//  or memory ran out; the writer is reset.
ZAIO_EXPORT zframe_t *zaio_batch_writer_frame (zaio_batch_writer_t *self);

//  True if a reply's frame 1 (size bytes at data) is a reply batch's
//  entries frame (a msgpack array) rather than a single reply's header.
ZAIO_EXPORT bool zaio_batch_is (const void *data, size_t size);

//  Walks an entries frame of untrusted bytes, pair by pair, strictly.
typedef struct {
    zaio_cursor_t cursor;
    uint32_t count; //  pairs the array declares
    uint32_t left;  //  of them not read yet
} zaio_batch_cursor_t;

//  Start walking size bytes at data (borrowed; the pairs point into it).
//  Returns 0 with the declared pair count in *count_p, or, with a reason
//  in why, ZAIO_ERR_MALFORMED (not an array, or empty) or ZAIO_ERR_TOOBIG
//  (more than batch_max pairs).
ZAIO_EXPORT int zaio_batch_cursor_init (zaio_batch_cursor_t *self, const void *data, size_t size,
                                        uint32_t batch_max, uint32_t *count_p, char *why,
                                        size_t why_size);

//  The next pair: its header (*header_p, borrowed from the frame, *size_p
//  bytes, not decoded) and flag. Returns 0; 1 once every pair has been read
//  and nothing follows the array; or ZAIO_ERR_MALFORMED (a pair that is
//  not [bin, bool], or trailing bytes), with a reason in why. After an
//  error the cursor is unchanged.
ZAIO_EXPORT int zaio_batch_cursor_next (zaio_batch_cursor_t *self, const uint8_t **header_p,
                                        size_t *size_p, bool *has_data_p, char *why,
                                        size_t why_size);

//  The whole-message checks of an entries frame that data_frames data
//  frames follow: at most bytes_max bytes and batch_max pairs (else
//  ZAIO_ERR_TOOBIG), every pair well formed, nothing after the array, and
//  as many true flags as data frames (else ZAIO_ERR_MALFORMED). Returns 0
//  with the pair count in *count_p, or the error with a reason in why.
//  Headers are not decoded: a bad one fails its entry alone.
ZAIO_EXPORT int zaio_batch_check (const void *data, size_t size, size_t data_frames,
                                  uint32_t batch_max, size_t bytes_max, uint32_t *count_p,
                                  char *why, size_t why_size);

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
ZAIO_EXPORT void zaio_event_topic (const zaio_event_t *event, char *buf, size_t buf_size);

//  The same from its parts, for a publisher that has no event yet.
ZAIO_EXPORT void zaio_topic_format (int error, zaio_op_t op, const char *volume, char *buf,
                                    size_t buf_size);

//  Caller owns the returned body frame.
ZAIO_EXPORT zframe_t *zaio_event_encode (const zaio_event_t *event);

//  Returns 0 or ZAIO_ERR_MALFORMED.
ZAIO_EXPORT int zaio_event_decode (zaio_event_t *event, const void *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
