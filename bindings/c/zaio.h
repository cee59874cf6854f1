/*  zaio.h: libzaio, the C client of the zaio IO broker.

    A zaio_client_t holds one DEALER connection to a broker and keeps any
    number of requests ("calls") in flight on it, matched to their replies by
    id. There are three ways to wait for a call:

      * blocking: zaio_client_stat (client, "a.txt", &st) returns when the
        reply is in;
      * a handle: zaio_client_start () returns a zaio_call_t at once; poll it
        with zaio_call_done () or block on it with zaio_call_wait ();
      * a callback: zaio_call_then () (or zaio_client_submit ()) hands the
        call to the client, which runs your function once it completes.
        Callbacks run only inside zaio_client_dispatch (), on the thread that
        calls it, never on a hidden thread.

    Event loops: zaio_client_fd () is a file descriptor that polls readable
    (POLLIN / EPOLLIN, level-triggered) whenever zaio_client_dispatch () has
    something to do: replies, expired timeouts, retries or callbacks ready to
    run. ZeroMQ's own ZMQ_FD is edge-triggered and easy to misuse; the
    client hides it and handles its rules itself. See examples/epoll_cat.c.

        zaio_client_t *client = zaio_client_new (NULL);   //  $ZAIO_ENDPOINT
        struct epoll_event ev = {.events = EPOLLIN};
        epoll_ctl (epfd, EPOLL_CTL_ADD, zaio_client_fd (client), &ev);
        ...   //  start calls with callbacks; in the loop, when fd is ready:
        zaio_client_dispatch (client, 0);

    Reliability. Every call completes exactly once, with a reply or an
    error; none is dropped silently.
      * Each call has a timeout (zaio_client_set_timeout, default 30 s;
        zaio_call_set_timeout per call): no result by then completes it with
        ZAIO_ERR_TIMEOUT.
      * The client keeps at most the broker's `inflight_max` (from `hello`)
        calls sent at once, and at most half its `reply_hwm` (more would
        get replies held at the broker while the client reads), and queues
        the rest; QUEUE_FULL and SHUTDOWN replies (the job was not run) are
        retried after a back-off.
      * A lost broker (the connection drops, a restart, or ZMTP heartbeats
        unanswered for 3 intervals) is the "lazy pirate" case: the client
        closes the socket, opens a fresh one after a back-off, and resends
        its idempotent calls (ping, hello, stat, read, readfile, listdir, stats;
        see zaio_op_idempotent) at most `retries` times. A non-idempotent
        call that may have reached the lost broker is NEVER re-sent: it
        completes with ZAIO_ERR_CONNLOST (it may or may not have run). Calls
        that had not been sent, or were sent on a connection that never
        completed, cannot have run and are sent on the fresh connection.
      * If no connection can be made after `retries` attempts and for
        `retry_ms` (default 5 s) since the broker was lost, waiting calls
        complete with ZAIO_ERR_UNREACHABLE.
      * If the broker refuses the handshake (zaio_client_set_curve: our key
        unknown to it; or one side uses CURVE and the other does not),
        waiting calls complete at once with ZAIO_ERR_AUTH, without retries;
        the next call tries again. Under CURVE, a broker that hangs up in
        the handshake on each of the `retries` reconnects (a wrong server
        key) is AUTH too, rather than UNREACHABLE.

    Ownership. A `T **` parameter takes ownership and nulls the caller's
    pointer; a `T *` parameter borrows. Data read from the broker arrives
    as a zaio_buf_t: the received ZeroMQ frame itself, not a copy; you own
    it and release it with zaio_buf_destroy (). Every "caller frees" below
    says with what.

    Threads. ZeroMQ sockets must not be used from two threads at once, and
    the same goes for a zaio_client_t and everything tied to it: one client,
    its calls and its callbacks belong to one thread at a time. Either give
    each thread its own client (they are cheap and may share a broker), or
    guard every call on a client, including zaio_call_* on its calls and
    zaio_client_dispatch (), with one mutex of your own. Clients in
    different threads never interfere. A zaio_buf_t is independent of its
    client once taken: it may be read, passed to, and destroyed on any
    thread, and may outlive the client. A zaio_watch_t is like a client:
    one thread at a time.

    Errors. Functions that talk to the broker return 0 for success or an
    error code: a POSIX errno value (ENOENT...) the broker reported, a
    protocol error (ZAIO_ERR_* in zaio_proto.h), or one of the client-side
    codes below. zaio_strerror () and zaio_errname () name every code.
    Asserts fire only on programmer errors (NULL where an object is
    required, a call used after destroy), never on anything a broker sends.
*/
#ifndef ZAIO_H_INCLUDED
#define ZAIO_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Where a client connects and a watcher subscribes when given NULL: the
//  environment variable if set, else the broker's default endpoint.
#define ZAIO_ENDPOINT_ENV     "ZAIO_ENDPOINT"
#define ZAIO_EVENTS_ENV       "ZAIO_EVENTS"
#define ZAIO_DEFAULT_ENDPOINT "ipc:///tmp/zaio.ipc"
#define ZAIO_DEFAULT_EVENTS   "ipc:///tmp/zaio-events.ipc"

//  Defaults of the client's settings (zaio_client_set_*).
#define ZAIO_CLIENT_TIMEOUT_MS         30000 //  per call, from start to completion
#define ZAIO_CLIENT_RETRIES            3     //  resends of an idempotent call; reconnects
#define ZAIO_CLIENT_RETRY_MS           5000  //  reconnecting goes on this long after a loss
#define ZAIO_CLIENT_CONNECT_TIMEOUT_MS 2000  //  for a connection to come up
#define ZAIO_CLIENT_HEARTBEAT_MS       1000  //  ZMTP ping interval; 3 missed = lost
#define ZAIO_CLIENT_BACKOFF_MS         100   //  first back-off; doubles per attempt
#define ZAIO_CLIENT_BACKOFF_MAX_MS     2000  //  back-off ceiling
#define ZAIO_CLIENT_WINDOW_DEFAULT     64    //  calls in flight if hello gives no inflight_max

//  Client-side error codes. They never travel on the wire; they say what
//  the client saw when the broker did not answer.
#define ZAIO_ERR_CLIENT_BASE 20000
typedef enum {
    //  No result within the call's timeout. The broker may still run the
    //  job: for a non-idempotent op the outcome is unknown.
    ZAIO_ERR_TIMEOUT = ZAIO_ERR_CLIENT_BASE + 1,
    //  The connection to the broker was lost after this non-idempotent call
    //  may have reached it. It may or may not have run; the client did not
    //  send it again. (The client-side twin of UNKNOWN_OUTCOME.)
    ZAIO_ERR_CONNLOST,
    //  No broker answered after the allowed reconnects, or an idempotent
    //  call was lost with the broker more than `retries` times.
    ZAIO_ERR_UNREACHABLE,
    //  The broker refused the handshake: it does not know this client's
    //  CURVE key (or does not let it in), or only one side uses CURVE; or,
    //  under CURVE, it hung up in the handshake on every attempt, which is
    //  all ZeroMQ shows of a wrong server key. The request was not sent.
    ZAIO_ERR_AUTH,
    ZAIO_ERR_CLIENT_END
} zaio_client_error_t;

//  Short name of any code: "ENOENT", "QUEUE_FULL", "TIMEOUT", "CONNLOST",
//  "UNREACHABLE", "AUTH". Static string.
ZAIO_EXPORT const char *zaio_errname (int code);

//  Human text of any code: strerror () for errno values. Static string.
ZAIO_EXPORT const char *zaio_strerror (int code);

//  ---------------------------------------------------------------------
//  zaio_buf_t: bytes, usually a received ZeroMQ frame (zero-copy).

typedef struct _zaio_buf_t zaio_buf_t;

//  A buffer of size bytes, with a copy of data if data is not NULL (else
//  uninitialised, for you to fill through zaio_buf_data before sending it).
//  Returns NULL only if size is too large to allocate.
ZAIO_EXPORT zaio_buf_t *zaio_buf_new (const void *data, size_t size);

//  A buffer over your memory, without copying. free_fn (data, hint) runs
//  once the buffer and every in-flight send of it are done, possibly on a
//  ZeroMQ I/O thread; free_fn may be NULL if the memory outlives all use.
ZAIO_EXPORT zaio_buf_t *zaio_buf_new_wrap (void *data, size_t size,
                                           void (*free_fn) (void *data, void *hint), void *hint);

//  Release the buffer; nulls *self_p. Safe on NULL.
ZAIO_EXPORT void zaio_buf_destroy (zaio_buf_t **self_p);

//  The bytes (borrowed, valid until zaio_buf_destroy) and their count.
ZAIO_EXPORT void *zaio_buf_data (zaio_buf_t *self);
ZAIO_EXPORT size_t zaio_buf_size (zaio_buf_t *self);

//  ---------------------------------------------------------------------
//  Results of the blocking helpers (zaio_dirent_t and zaio_hello_t, which
//  the codec encodes and decodes, are in zaio_codec.h)

typedef struct {
    char type[16]; //  "file", "dir", "symlink" or "other"
    uint64_t size;
    uint32_t mode;    //  permission bits
    int64_t mtime_ns; //  nanoseconds since the Unix epoch
} zaio_stat_t;

//  ---------------------------------------------------------------------
//  zaio_client_t: a connection to a broker

typedef struct _zaio_client_t zaio_client_t;
typedef struct _zaio_call_t zaio_call_t;

//  Completion callback. call is borrowed and valid until fn returns (take
//  its data with zaio_call_take_data to keep it); the client destroys it
//  afterwards. fn may start new calls on the same client.
typedef void (zaio_done_fn) (zaio_call_t *call, void *arg);

//  Connect to endpoint ("ipc:///tmp/zaio.ipc", "tcp://host:5670",
//  "inproc://..."); NULL means $ZAIO_ENDPOINT, else ZAIO_DEFAULT_ENDPOINT.
//  Connecting is asynchronous: this returns at once and the first call
//  waits for the broker. Returns NULL if the endpoint is malformed.
ZAIO_EXPORT zaio_client_t *zaio_client_new (const char *endpoint);

//  Close the connection at once (linger 0); nulls *self_p, safe on NULL.
//  Every unfinished call completes with ECANCELED: callbacks still queued
//  run now, inside destroy; handles you hold stay valid (done, ECANCELED)
//  until you destroy them. A call those callbacks start completes at once
//  with ECANCELED, unsent, and its callback runs inside destroy too.
ZAIO_EXPORT void zaio_client_destroy (zaio_client_t **self_p);

//  The endpoint this client connects to. Borrowed.
ZAIO_EXPORT const char *zaio_client_endpoint (zaio_client_t *self);

//  Volume for calls started from now on that name none themselves (NULL or
//  "": the broker's default volume). Returns -1 if volume is not a valid
//  volume name.
ZAIO_EXPORT int zaio_client_set_volume (zaio_client_t *self, const char *volume);

//  Default timeout of calls started from now on, in ms; 0 means none.
ZAIO_EXPORT void zaio_client_set_timeout (zaio_client_t *self, uint32_t msecs);

//  How many times an idempotent call is re-sent after losing the broker,
//  and how many reconnects in a row are tried at least before waiting
//  calls fail with ZAIO_ERR_UNREACHABLE (see zaio_client_set_retry_ms).
ZAIO_EXPORT void zaio_client_set_retries (zaio_client_t *self, uint32_t retries);

//  How long, in ms, reconnecting goes on after the broker was lost, even
//  past `retries` failed connections, before waiting calls fail with
//  ZAIO_ERR_UNREACHABLE (default ZAIO_CLIENT_RETRY_MS: a broker restarted
//  within it is found, with back-off between tries; the last try is made
//  when it ends). 0: give up after `retries` failures alone. Each call's
//  own timeout still applies.
ZAIO_EXPORT void zaio_client_set_retry_ms (zaio_client_t *self, uint32_t msecs);

//  Time allowed for a fresh connection to come up (the handshake and the
//  broker's answer to the client's own hello) before it counts as a failed
//  attempt, in ms.
ZAIO_EXPORT void zaio_client_set_connect_timeout (zaio_client_t *self, uint32_t msecs);

//  Authenticate with CURVE (ZeroMQ RFC 26) on the connections made from now
//  on. Both are czmq certificate files (zcert_save's format; `zaio keygen`
//  writes them): server_cert the broker's, of which only the public key
//  is used (PATH or PATH_secret), client_cert this client's own, which
//  must hold its secret key (PATH, read as PATH_secret if that exists, or
//  PATH_secret). A connection already up or coming up is closed and made
//  again with the keys: its calls settle as on a lost broker (see
//  Reliability above), so set keys before starting calls. Returns 0, or -1
//  with errno (ENOENT, EACCES: a file cannot be read; EINVAL: not a
//  certificate, or client_cert has no secret key) and nothing changed.
//  Over inproc, which has no handshake, the keys are not used.
ZAIO_EXPORT int zaio_client_set_curve (zaio_client_t *self, const char *server_cert,
                                       const char *client_cert);

//  ZMTP heartbeat interval for connections made from now on, in ms; the
//  broker counts as lost after three intervals without an answer. 0 turns
//  heartbeats off (then only a dropped connection reveals a lost broker).
ZAIO_EXPORT void zaio_client_set_heartbeat (zaio_client_t *self, uint32_t msecs);

//  Whether calls started back to back leave together (default true). A
//  coalescing client does not send as a call starts (zaio_client_start,
//  zaio_client_submit): what is queued goes out the next time the client
//  runs (zaio_call_wait, zaio_call_done, zaio_client_dispatch, a blocking
//  call), as wire batches when the broker takes them, and
//  zaio_client_fd () polls readable until then. Start-then-wait costs
//  nothing more; an event loop pays one more wake-up per burst. Off: each
//  call is sent as it starts, for latency-sensitive use where calls are
//  started and not waited on at once.
ZAIO_EXPORT void zaio_client_set_coalesce (zaio_client_t *self, bool coalesce);

//  First back-off before a reconnect or a retry, and its ceiling, in ms.
ZAIO_EXPORT void zaio_client_set_backoff (zaio_client_t *self, uint32_t initial_ms,
                                          uint32_t max_ms);

//  What the broker said in the hello that opened the current connection
//  (limits, ops, volumes); NULL until a connection has been made. Borrowed,
//  valid until the next call on the client.
ZAIO_EXPORT const zaio_hello_t *zaio_client_limits (zaio_client_t *self);

//  Calls started and not yet finished, counting completed calls whose
//  callbacks have not yet run. `while (zaio_client_pending (c))
//  zaio_client_dispatch (c, -1);` runs everything to completion.
ZAIO_EXPORT size_t zaio_client_pending (zaio_client_t *self);

//  A file descriptor that polls readable while zaio_client_dispatch () has
//  work. Owned by the client; do not read it or close it.
ZAIO_EXPORT int zaio_client_fd (zaio_client_t *self);

//  Receive replies, fire timeouts and retries, send queued calls, and run
//  the callbacks of completed calls, on this thread. Waits up to
//  timeout_ms (0: not at all, -1: no limit) for at least one callback to
//  run; returns at once when nothing is pending. Returns the number of
//  callbacks run, or -1 if interrupted (SIGINT/SIGTERM, czmq's
//  zsys_interrupted).
ZAIO_EXPORT int zaio_client_dispatch (zaio_client_t *self, int timeout_ms);

//  ---------------------------------------------------------------------
//  Asynchronous calls

//  Start a call described by req (see zaio_codec.h: zaio_request_init,
//  zaio_request_set_str, zaio_request_set_uint). The client assigns the
//  id; req is only read. data_p: for write, append and writefile, the bytes
//  to send (ownership taken, *data_p nulled; NULL or *data_p NULL sends
//  none); ignored (and released) for other ops. Never fails: problems
//  surface as the call's error. Data over the broker's payload_max (once
//  its hello has told it) completes with ZAIO_ERR_TOOBIG, unsent. The caller destroys the handle
//  with zaio_call_destroy, or hands it over with zaio_call_then.
ZAIO_EXPORT zaio_call_t *zaio_client_start (zaio_client_t *self, const zaio_request_t *req,
                                            zaio_buf_t **data_p);

//  Start count calls at once, in the spirit of lio_listio: reqs [i] with
//  data [i] (data may be NULL; each non-NULL data [i] is taken and nulled).
//  Handles go to calls [i], which must have room for count; wait for all
//  (zaio_call_wait on each), any (zaio_client_dispatch with callbacks, or
//  zaio_call_done), or hand them callbacks (zaio_call_then). When the
//  broker's hello lists the `batch` op, the calls leave as wire batches of
//  up to its batch_max calls and batch_bytes_max header bytes (and the
//  window), whether or not the client coalesces; else one by one. Each
//  call keeps its own id, reply, timeout and retries.
ZAIO_EXPORT void zaio_client_start_batch (zaio_client_t *self, const zaio_request_t *reqs,
                                          zaio_buf_t **data, size_t count, zaio_call_t **calls);

//  Start a call whose completion runs fn (call, arg) inside
//  zaio_client_dispatch. Same as zaio_client_start + zaio_call_then.
ZAIO_EXPORT void zaio_client_submit (zaio_client_t *self, const zaio_request_t *req,
                                     zaio_buf_t **data_p, zaio_done_fn *fn, void *arg);

//  True once the call has completed. Does not block: it takes in whatever
//  replies have arrived, so polling it alone makes progress.
ZAIO_EXPORT bool zaio_call_done (zaio_call_t *self);

//  Block until the call completes or timeout_ms passes (-1: no limit; the
//  call's own timeout still applies). Returns 0 when it has completed, -1
//  on timeout or interrupt. Callbacks of other calls do not run here.
ZAIO_EXPORT int zaio_call_wait (zaio_call_t *self, int timeout_ms);

//  0 if the call succeeded, else its error code. Meaningful once done.
ZAIO_EXPORT int zaio_call_error (zaio_call_t *self);

//  The broker's (or the client's) explanation of the error; "" when none.
//  Borrowed, valid while the call lives.
ZAIO_EXPORT const char *zaio_call_message (zaio_call_t *self);

//  The decoded reply header (results: bytes, eof, size...), or NULL when
//  no reply arrived (pending, or a client-side error). Borrowed, valid
//  while the call lives; its entries and hello slices point into the
//  reply frame the call holds.
ZAIO_EXPORT const zaio_reply_t *zaio_call_reply (zaio_call_t *self);

//  The data a successful read or readfile returned, without copying. The
//  caller owns the buffer (zaio_buf_destroy); NULL if there is none or it
//  was already taken.
ZAIO_EXPORT zaio_buf_t *zaio_call_take_data (zaio_call_t *self);

//  The call's op and the id the client gave it.
ZAIO_EXPORT zaio_op_t zaio_call_op (zaio_call_t *self);
ZAIO_EXPORT uint64_t zaio_call_id (zaio_call_t *self);

//  Replace the call's timeout: msecs after it was started (0: none).
ZAIO_EXPORT void zaio_call_set_timeout (zaio_call_t *self, uint32_t msecs);

//  Results of a completed, successful stat, hello or listdir call, decoded
//  into the caller's struct. Return 0, or the call's error, or
//  ZAIO_ERR_MALFORMED if the reply does not hold them (or holds more than
//  ZAIO_LISTDIR_MAX entries). zaio_call_entries allocates *entries_p
//  (caller frees with free ()); ENOMEM if it cannot.
ZAIO_EXPORT int zaio_call_stat (zaio_call_t *self, zaio_stat_t *stat);
ZAIO_EXPORT int zaio_call_hello (zaio_call_t *self, zaio_hello_t *hello);
ZAIO_EXPORT int zaio_call_entries (zaio_call_t *self, zaio_dirent_t **entries_p, size_t *count_p,
                                   bool *more_p);

//  The report of a completed, successful stats call (zaio_client_stats),
//  decoded into a new *report_p (destroy it with zaio_stats_report_destroy).
//  Returns 0, the call's error, ZAIO_ERR_MALFORMED or ENOMEM.
ZAIO_EXPORT int zaio_call_stats (zaio_call_t *self, zaio_stats_report_t **report_p);

//  Hand the call to the client: fn (call, arg) runs once, inside
//  zaio_client_dispatch, when it completes (at the next dispatch if it
//  already has); then the client destroys it. Nulls *self_p.
ZAIO_EXPORT void zaio_call_then (zaio_call_t **self_p, zaio_done_fn *fn, void *arg);

//  Destroy a handle; nulls *self_p, safe on NULL. A call still in flight is
//  abandoned: it is not cancelled at the broker, its result is discarded.
ZAIO_EXPORT void zaio_call_destroy (zaio_call_t **self_p);

//  ---------------------------------------------------------------------
//  Blocking calls: each starts a call and waits for it (its timeout
//  applies). Return 0 or an error code; EINTR if interrupted.

ZAIO_EXPORT int zaio_client_ping (zaio_client_t *self);

//  A fresh hello round trip, decoded into *hello.
ZAIO_EXPORT int zaio_client_hello (zaio_client_t *self, zaio_hello_t *hello);

ZAIO_EXPORT int zaio_client_stat (zaio_client_t *self, const char *path, zaio_stat_t *stat);

//  Read up to length bytes at offset. On success *buf_p is the data (caller
//  destroys; fewer bytes than asked at end of file) and *eof_p, if not
//  NULL, is true when the read reached the end of the file.
ZAIO_EXPORT int zaio_client_read (zaio_client_t *self, const char *path, uint64_t offset,
                                  uint64_t length, zaio_buf_t **buf_p, bool *eof_p);

//  Write size bytes (copied) at offset; create the file if missing and
//  create is true.
ZAIO_EXPORT int zaio_client_write (zaio_client_t *self, const char *path, uint64_t offset,
                                   const void *data, size_t size, bool create);

//  Append size bytes (copied); *offset_p, if not NULL, is where they landed.
ZAIO_EXPORT int zaio_client_append (zaio_client_t *self, const char *path, const void *data,
                                    size_t size, bool create, uint64_t *offset_p);

//  The whole file; *buf_p as for zaio_client_read.
ZAIO_EXPORT int zaio_client_readfile (zaio_client_t *self, const char *path, zaio_buf_t **buf_p);

//  Replace the file atomically and durably with size bytes (copied).
ZAIO_EXPORT int zaio_client_writefile (zaio_client_t *self, const char *path, const void *data,
                                       size_t size);

ZAIO_EXPORT int zaio_client_truncate (zaio_client_t *self, const char *path, uint64_t size);
ZAIO_EXPORT int zaio_client_fsync (zaio_client_t *self, const char *path, bool datasync);
ZAIO_EXPORT int zaio_client_unlink (zaio_client_t *self, const char *path);
ZAIO_EXPORT int zaio_client_rename (zaio_client_t *self, const char *path, const char *to);
ZAIO_EXPORT int zaio_client_mkdir (zaio_client_t *self, const char *path, bool parents);
ZAIO_EXPORT int zaio_client_rmdir (zaio_client_t *self, const char *path);

//  One page of a directory: at most limit entries (0: the broker's default)
//  named after `after` (NULL: from the start). *entries_p is allocated
//  (caller frees with free ()), *count_p entries; *more_p, if not NULL, is
//  true when more remain: ask again with after = the last name.
ZAIO_EXPORT int zaio_client_listdir (zaio_client_t *self, const char *path, const char *after,
                                     uint32_t limit, zaio_dirent_t **entries_p, size_t *count_p,
                                     bool *more_p);

//  Copy path to `to` inside the broker; *bytes_p, if not NULL, is the size.
ZAIO_EXPORT int zaio_client_copy (zaio_client_t *self, const char *path, const char *to,
                                  uint64_t *bytes_p);

//  What the broker holds and has done (PROTOCOL.md section 5.3), for
//  monitors such as `zaio top` and the /metrics endpoint: gauges (queued,
//  running, in flight, held replies, clients, workers, subscriptions),
//  the volumes with their workers' credit and load, the workers (at most
//  256), jobs and bytes per op x outcome x volume and latency histograms
//  per op since the broker started, and the `top` busiest clients (0: the
//  broker's default, 10; at most ZAIO_STATS_TOP_MAX, 100). Answered by the
//  broker at once, never queued behind jobs, and never sent in a wire
//  batch. On success *report_p is a new report (zaio_codec.h: every array
//  is inside it; the caller destroys it with zaio_stats_report_destroy,
//  from any thread); on failure it is NULL. Returns 0 or an error code:
//  EACCES when the broker's grants keep this client's identity from
//  watching every volume (it lacks the `monitor` grant), UNKNOWN_OP from
//  a broker that predates stats, EINVAL if top is over the maximum.
//  Cost: one round trip; the reply is some kB (up to a few hundred with
//  thousands of rows), built by the broker in one pass over its tables.
ZAIO_EXPORT int zaio_client_stats (zaio_client_t *self, uint32_t top,
                                   zaio_stats_report_t **report_p);

//  ---------------------------------------------------------------------
//  zaio_watch_t: completion events (a SUB socket on the events endpoint)

typedef struct _zaio_watch_t zaio_watch_t;

//  Connect to the events endpoint; NULL means $ZAIO_EVENTS, else
//  ZAIO_DEFAULT_EVENTS. Receives nothing until you subscribe. NULL if the
//  endpoint is malformed.
ZAIO_EXPORT zaio_watch_t *zaio_watch_new (const char *endpoint);

//  Nulls *self_p; safe on NULL.
ZAIO_EXPORT void zaio_watch_destroy (zaio_watch_t **self_p);

//  Receive events whose topic starts with prefix ("OUTCOME.OP.VOLUME":
//  "err." all errors, "ok.write." successful writes, "" everything). The
//  broker filters, so unsubscribed events cost nothing. Returns 0 or -1.
ZAIO_EXPORT int zaio_watch_subscribe (zaio_watch_t *self, const char *prefix);
ZAIO_EXPORT int zaio_watch_unsubscribe (zaio_watch_t *self, const char *prefix);

//  Subscribe over CURVE: server_cert and client_cert as for
//  zaio_client_set_curve. The watcher connects again, on a fresh socket,
//  with the keys and its subscriptions (ask zaio_watch_fd again). Returns
//  0, or -1 with errno as zaio_client_set_curve, and nothing changed.
ZAIO_EXPORT int zaio_watch_set_curve (zaio_watch_t *self, const char *server_cert,
                                      const char *client_cert);

//  0, or ZAIO_ERR_AUTH once the broker has refused the watcher's handshake
//  (its key unknown, not allowed to watch, or only one side uses CURVE;
//  or, under CURVE, 4 handshakes in a row hung up on: a wrong server key):
//  the watcher then stops connecting, and zaio_watch_recv returns -1 at
//  once; zaio_watch_set_curve starts it again. zaio_watch_recv checks this
//  as it waits; a program polling zaio_watch_fd asks here.
ZAIO_EXPORT int zaio_watch_error (zaio_watch_t *self);

//  Next event into *event, waiting up to timeout_ms (0: not at all, -1: no
//  limit). Malformed events are skipped. Returns 0, or -1 on timeout,
//  interrupt or refusal (zaio_watch_error).
ZAIO_EXPORT int zaio_watch_recv (zaio_watch_t *self, zaio_event_t *event, int timeout_ms);

//  Events lost just before the last one received, from the gap in
//  sequence numbers (the PUB socket drops for slow subscribers). Exact
//  only when subscribed to "" (with narrower filters every unsubscribed
//  event is a gap too); 0 after the first event or a broker restart.
ZAIO_EXPORT uint64_t zaio_watch_missed (zaio_watch_t *self);

//  Whether a connection to the events endpoint is up now (a handshake
//  completed and the connection not dropped since), and how many were
//  made over the watcher's life: one more after each reconnect (a broker
//  restart, a network cut). Both read what the watcher has been told so
//  far, as zaio_watch_error. Over inproc, which has no handshake: true
//  and 1 until refused.
ZAIO_EXPORT bool zaio_watch_connected (zaio_watch_t *self);
ZAIO_EXPORT uint32_t zaio_watch_connections (zaio_watch_t *self);

//  A file descriptor that polls readable when events may be waiting; then
//  call zaio_watch_recv (w, &event, 0) until it returns -1. Owned by the
//  watcher, until zaio_watch_set_curve.
ZAIO_EXPORT int zaio_watch_fd (zaio_watch_t *self);

#ifdef __cplusplus
}
#endif

#endif
