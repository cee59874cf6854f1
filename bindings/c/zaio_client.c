/*  zaio_client.c: zaio_client_t, one DEALER connection to a broker, and
    zaio_call_t, one request on it (see zaio.h for the contract).

    Inside, a call is in one of four states:

        QUEUED  waiting in the send queue (for the connection, or the window)
        SENT    on the wire; in the `sent` table by id, counted in `inflight`
        WAIT    backing off after QUEUE_FULL or SHUTDOWN; queued again later
        DONE    completed; the user polls it or its callback is due

    A DONE call may still be "in flight" (timed out, or abandoned by its
    owner): it stays in the `sent` table, holding its place in the window,
    until its late reply arrives or the connection goes. Calls are freed
    when nothing refers to them any more (no handle, no pending callback,
    no reply due).

    The connection is a state machine, its table above s_conn_on: DOWN
    (no socket), BACKOFF (waiting to reconnect), CONNECTING (socket open,
    our hello not yet answered), READY, or CLOSED (destroyed). Only READY
    sends user calls, at most `window` at a time (the broker's
    inflight_max, or half its reply_hwm if that is less). A socket monitor
    reports the ZMTP handshake and disconnects; a disconnect, or no
    answer to our hello within connect_timeout, is a lost broker.

    Batches: when the broker's hello lists the `batch` op, calls at the
    head of the queue go out together as one wire batch (PROTOCOL.md 5.2),
    as many as the window and its batch_max and batch_bytes_max allow:
    the calls of zaio_client_start_batch always, any queued calls when the
    client coalesces (zaio_client_set_coalesce). A coalescing client does
    not send as a call starts: it sends everything queued the next time it
    runs (a wait, zaio_call_done, a dispatch), and its fd polls readable
    meanwhile. A batch's tag (its id) is answered only by a refusal of the
    whole batch, which becomes each entry's error; reply batches are taken
    apart reply by reply.

    Waiting: `inner` is an epoll set over the ZeroMQ descriptors (the
    socket's and the monitor's ZMQ_FD), so every pass drains both until
    neither has input, asking again after its sends (the ZMQ_FD rule,
    zaio_sock.h). `outer`, the descriptor users poll, adds a timerfd armed
    for the next deadline and an eventfd raised while callbacks wait to
    run, so it is readable exactly when dispatch has work.
*/

#include "zaio.h"
#include "zaio_buf.h"
#include "zaio_curve.h"
#include "zaio_heap.h"
#include "zaio_list.h"
#include "zaio_sock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

//  Longest single sleep, so an interrupt is noticed even if the signal
//  landed on another thread.
#define S_WAIT_SLICE_MS 500
//  First back-off after QUEUE_FULL, doubling up to S_BUSY_MAX_MS.
#define S_BUSY_BACKOFF_MS 5
#define S_BUSY_MAX_MS     250
//  Largest message we accept: the highest payload limit plus headers.
#define S_MAXMSGSIZE ((int64_t)ZAIO_PAYLOAD_CEILING + 65536)

typedef enum { S_QUEUED, S_SENT, S_WAIT, S_DONE } s_state_t;
#define S_STATE_BIT(state) (1u << (state))
//  The connection's states and events: see s_conn_on for what they mean
//  and the table of what each event does in each state.
typedef enum { C_DOWN, C_BACKOFF, C_CONNECTING, C_READY, C_CLOSED } s_conn_t;
typedef enum {
    E_CONNECT,      //  a call was started, or the client created
    E_HANDSHAKE,    //  the monitor saw the ZMTP handshake succeed
    E_HELLO_OK,     //  our hello was answered, the broker's limits read
    E_HELLO_FAILED, //  our hello was answered with an error, or unreadably
    E_LOST,         //  the monitor saw the connection fail or go
    E_REFUSED,      //  the monitor saw the broker refuse our handshake
    E_REKEY,        //  zaio_client_set_curve gave new keys
    E_TIMER,        //  the state's timer (conn_deadline) ran out
    E_DESTROY,      //  zaio_client_destroy
    E_COUNT
} s_event_t;

struct _zaio_call_t {
    zaio_client_t *client; //  NULL once the client is destroyed
    uint64_t id;
    zaio_op_t op;
    s_state_t state;
    bool internal;    //  the client's own hello
    bool held;        //  the user holds a handle
    bool in_flight;   //  a reply is due: in `sent`, counted in inflight
    bool batch;       //  started by zaio_client_start_batch: goes in a wire batch
    uint64_t tag;     //  id of the wire batch it was last sent in; 0: sent alone
    zaio_done_fn *fn; //  callback still to run
    void *arg;
    zframe_t *header; //  encoded request header, kept for resends
    zmq_msg_t data;   //  data frame (ops that take data)
    bool has_data;
    uint32_t attempts;      //  sends lost with the broker, SHUTDOWN replies
    uint32_t busy;          //  QUEUE_FULL replies
    int64_t started;        //  monotonic ms
    int64_t deadline;       //  0: none
    int64_t retry_at;       //  WAIT: when to queue again
    zaio_heap_node_t timer; //  on `timers` at the earlier of the two
    zaio_list_t *list;      //  the list `link` is on (queue or done), if any
    zaio_link_t link;       //  on `queue` or `done`
    zaio_link_t all_link;   //  on `all` until freed, or the client goes
    //  Result
    int error;
    char message[256];
    bool have_reply;
    zaio_reply_t reply;
    zmq_msg_t reply_header; //  reply's slices point into this
    zmq_msg_t reply_data;
    bool have_data;
};

struct _zaio_client_t {
    char *endpoint;
    bool is_inproc;
    //  Settings
    uint32_t timeout_ms;
    uint32_t retries;
    uint32_t retry_ms; //  keep reconnecting at least this long after a loss
    uint32_t connect_timeout_ms;
    uint32_t heartbeat_ms;
    uint32_t backoff_ms;
    uint32_t backoff_max_ms;
    char volume[ZAIO_VOLUME_MAX + 1]; //  for calls that name none; "" = the broker's default
    bool curve;                       //  connect with CURVE, using `keys`
    zaio_curve_t keys;
    //  Connection
    s_conn_t conn;
    int64_t conn_deadline; //  when the state's timer fires; 0: none
    zsock_t *dealer;
    zsock_t *monitor;
    bool connected;    //  handshake done: what we sent may have arrived
    uint32_t failures; //  lost connections in a row
    int64_t lost_at;   //  when the first of them was lost (monotonic ms)
    uint32_t hangups;  //  of those, hung up on in the handshake (s_hung_up)
    zaio_call_t *hello_call;
    zaio_hello_t hello;
    bool have_hello;
    size_t window;
    size_t inflight;
    bool coalesce;               //  zaio_client_set_coalesce
    zaio_batch_writer_t entries; //  builds wire batches' entries frames
    zaio_call_t **gathered;      //  the calls of the batch being sent
    size_t gathered_max;         //  room in gathered
    zmq_msg_t *parts;            //  a received message's parts
    int parts_max;               //  room in parts: a reply batch of batch_max, or 3
    //  Calls
    uint64_t next_id;
    zhashx_t *sent;     //  id -> call, every call with a reply due
    zaio_list_t queue;  //  to send, in order
    zaio_list_t done;   //  completed, callback to run
    zaio_list_t all;    //  every call not yet freed, newest first
    zaio_heap_t timers; //  calls by their next wake-up
    size_t pending;
    uint64_t completions;
    bool dispatching;
    //  Descriptors
    int inner;
    int outer;
    int timer_fd;
    int64_t timer_armed;
    int event_fd;
    bool event_raised;
};

//  Why a connection was lost when the broker hung up in the handshake: a
//  wrong server key under CURVE looks like this (see s_monitor_drain).
static const char s_hung_up[] = "hung up in the handshake";

static void s_pump (zaio_client_t *self);
static void s_recv_all (zaio_client_t *self);

//  ---------------------------------------------------------------------
//  Error names

const char *
zaio_errname (int code)
{
    switch (code) {
        case 0:
            return "OK";
        case ZAIO_ERR_TIMEOUT:
            return "TIMEOUT";
        case ZAIO_ERR_CONNLOST:
            return "CONNLOST";
        case ZAIO_ERR_UNREACHABLE:
            return "UNREACHABLE";
        case ZAIO_ERR_AUTH:
            return "AUTH";
        default:
            return zaio_error_name (code);
    }
}

const char *
zaio_strerror (int code)
{
    switch (code) {
        case ZAIO_ERR_TIMEOUT:
            return "no reply from the broker in time";
        case ZAIO_ERR_CONNLOST:
            return "connection to the broker lost; the request may or may not have run";
        case ZAIO_ERR_UNREACHABLE:
            return "broker unreachable";
        case ZAIO_ERR_AUTH:
            return "the broker refused this client's credentials (CURVE)";
        default:
            return zaio_error_text (code);
    }
}

//  ---------------------------------------------------------------------
//  Small helpers: time, lists, timers

static int64_t
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Put the call, which is on no list, at the front or back of list (the
//  client's queue or done list).
static void
s_list_push (zaio_list_t *list, zaio_call_t *call, bool front)
{
    assert (!call->list);
    call->list = list;
    zaio_list_add (list, &call->link, front);
}

//  Take the call off the list it is on, if any.
static void
s_list_remove (zaio_call_t *call)
{
    if (!call->list) return;
    zaio_list_remove (call->list, &call->link);
    call->list = NULL;
}

//  The first call of list; NULL if it is empty.
static zaio_call_t *
s_list_first (const zaio_list_t *list)
{
    zaio_link_t *link = zaio_list_first (list);
    return link ? ZAIO_HOLDER (link, zaio_call_t, link) : NULL;
}

//  Put the call on `timers` at its next wake-up (its deadline, or the end
//  of its back-off), or take it off if it has none.
static void
s_timer_update (zaio_client_t *self, zaio_call_t *call)
{
    int64_t wake = 0;
    if (call->state != S_DONE) {
        wake = call->deadline;
        if (call->state == S_WAIT && (!wake || call->retry_at < wake)) wake = call->retry_at;
    }
    if (wake)
        zaio_heap_set (&self->timers, &call->timer, wake);
    else
        zaio_heap_remove (&self->timers, &call->timer);
}

//  zhashx keyed by the uint64 id itself (stored in the key pointer).
static size_t
s_id_hash (const void *key)
{
    uint64_t id = (uint64_t)(uintptr_t)key;
    return (size_t)(id * 0x9E3779B97F4A7C15ull);
}

static int
s_id_compare (const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y ? -1 : x > y;
}

static uint32_t
s_backoff (zaio_client_t *self, uint32_t attempt)
{
    uint64_t delay = self->backoff_ms;
    for (uint32_t i = 1; i < attempt && delay < self->backoff_max_ms; i++) delay *= 2;
    return (uint32_t)(delay < self->backoff_max_ms ? delay : self->backoff_max_ms);
}

//  ---------------------------------------------------------------------
//  Call life cycle

//  Free the call once nothing refers to it: no handle, no callback due,
//  no reply due, not on a queue.
static void
s_call_maybe_free (zaio_call_t *call)
{
    if (call->held || call->fn || call->in_flight || call->state != S_DONE || call->list) return;
    zaio_client_t *self = call->client;
    if (self) {
        zaio_heap_remove (&self->timers, &call->timer);
        zaio_list_remove (&self->all, &call->all_link);
    }
    zframe_destroy (&call->header);
    zmq_msg_close (&call->data);
    zmq_msg_close (&call->reply_header);
    zmq_msg_close (&call->reply_data);
    free (call);
}

static void
s_raise (zaio_client_t *self)
{
    if (!self->event_raised) {
        uint64_t one = 1;
        ssize_t rc = write (self->event_fd, &one, sizeof one);
        assert (rc == sizeof one);
        self->event_raised = true;
    }
}

static void s_hello_done (zaio_client_t *self, zaio_call_t *call);

//  The call has its result (error and message already set). A reply still
//  due keeps it in `sent` (the caller removes it first when the reply is
//  what completed it).
static void
s_complete (zaio_client_t *self, zaio_call_t *call, int error)
{
    assert (call->state != S_DONE);
    s_list_remove (call);
    call->state = S_DONE;
    call->error = error;
    s_timer_update (self, call);
    if (call->internal) {
        s_hello_done (self, call);
        return;
    }
    self->completions++;
    if (call->fn) {
        s_list_push (&self->done, call, false);
        s_raise (self);
    } else {
        assert (call->held);
        self->pending--;
    }
}

static void
s_fail (zaio_client_t *self, zaio_call_t *call, int error, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (call->message, sizeof call->message, format, args);
    va_end (args);
    s_complete (self, call, error);
}

//  Fail every user call whose state is one of `states` (S_STATE_BIT
//  each) with error and message, newest first. The calls stay held by
//  the client until their callbacks have run or their handles go.
static void
s_fail_calls (zaio_client_t *self, unsigned states, int error, const char *message)
{
    zaio_link_t *link = zaio_list_first (&self->all);
    while (link) {
        zaio_call_t *call = ZAIO_HOLDER (link, zaio_call_t, all_link);
        link = zaio_list_next (&self->all, link);
        if (!call->internal && (states & S_STATE_BIT (call->state)))
            s_fail (self, call, error, "%s", message);
    }
}

//  Queue the call to be sent, at the front (a resend, a retry) or the back.
static void
s_enqueue (zaio_client_t *self, zaio_call_t *call, bool front)
{
    call->state = S_QUEUED;
    s_list_push (&self->queue, call, front);
    s_timer_update (self, call);
}

//  Back off, then queue again.
static void
s_retry_later (zaio_client_t *self, zaio_call_t *call, uint32_t delay_ms)
{
    call->state = S_WAIT;
    call->retry_at = s_now () + delay_ms;
    s_timer_update (self, call);
}

//  A new call for req, on no queue yet, its header encoded with a fresh id.
//  Takes *data_p and nulls it; its bytes are the data frame of ops that
//  take data. A user call is held by the caller and counted in pending;
//  an internal one (our hello) is the client's. Never sends.
static zaio_call_t *
s_call_new (zaio_client_t *self, const zaio_request_t *req, zaio_buf_t **data_p, bool internal)
{
    assert (req);
    assert ((unsigned)req->op < ZAIO_OP_COUNT);
    zaio_call_t *call = (zaio_call_t *)calloc (1, sizeof (zaio_call_t));
    assert (call);
    call->client = self;
    call->id = self->next_id++;
    call->op = req->op;
    call->internal = internal;
    call->held = !internal;
    zmq_msg_init (&call->data);
    zmq_msg_init (&call->reply_header);
    zmq_msg_init (&call->reply_data);

    //  The header is encoded once, with our id, and kept for resends. A
    //  request copy is a few kB on the stack; encoding is cheap next to IO.
    zaio_request_t wire = *req;
    wire.id = call->id;
    wire.fields |= ZAIO_FIELD_ID | ZAIO_FIELD_OP;
    //  hello names a volume only if asked to; stats never does (it takes none).
    if (*self->volume && !(wire.fields & ZAIO_FIELD_VOLUME) && wire.op != ZAIO_OP_HELLO &&
        wire.op != ZAIO_OP_STATS)
        zaio_request_set_str (&wire, ZAIO_FIELD_VOLUME, self->volume);
    call->header = zaio_request_encode (&wire);
    assert (call->header);

    if (zaio_op_takes_data (req->op)) {
        call->has_data = true;
        if (data_p && *data_p) zmq_msg_move (&call->data, zaio_buf_msg (*data_p));
    }
    if (data_p) zaio_buf_destroy (data_p);

    call->started = s_now ();
    if (!internal && self->timeout_ms) call->deadline = call->started + self->timeout_ms;
    zaio_list_add (&self->all, &call->all_link, true);
    if (!internal) self->pending++;
    return call;
}

//  ---------------------------------------------------------------------
//  The connection

//  Close the socket and its monitor, if open. Leaves the calls and the
//  state alone.
static void
s_disconnect (zaio_client_t *self)
{
    if (self->dealer) {
        //  Stop the monitor first: ZeroMQ closes the socket later, on its
        //  own thread, and the events of that close would block its I/O
        //  thread for good on a monitor pipe nobody reads any more.
        if (self->monitor) zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
        epoll_ctl (self->inner, EPOLL_CTL_DEL, zsock_fd (self->dealer), NULL);
        zsock_destroy (&self->dealer);
    }
    if (self->monitor) {
        epoll_ctl (self->inner, EPOLL_CTL_DEL, zsock_fd (self->monitor), NULL);
        zsock_destroy (&self->monitor);
    }
}

//  Send the call's data frame, a copy sharing its bytes; flags are
//  zmq_msg_send's (ZMQ_SNDMORE unless it is the message's last part).
static void
s_send_data (void *handle, zaio_call_t *call, int flags)
{
    zmq_msg_t copy;
    zmq_msg_init (&copy);
    zmq_msg_copy (&copy, &call->data); //  shares the bytes of large messages
    int rc = zmq_msg_send (&copy, handle, flags);
    assert (rc >= 0);
}

//  The call is on the wire, alone (tag 0) or in the wire batch tag: its
//  reply is due.
static void
s_sent (zaio_client_t *self, zaio_call_t *call, uint64_t tag)
{
    s_list_remove (call);
    call->state = S_SENT;
    call->in_flight = true;
    call->tag = tag;
    self->inflight++;
    int rc = zhashx_insert (self->sent, (void *)(uintptr_t)call->id, call);
    assert (rc == 0);
    s_timer_update (self, call);
}

static bool s_refuse_oversize (zaio_client_t *self, zaio_call_t *call);

//  Send one call. Returns -1 (call untouched) if the socket will not take
//  it now.
static int
s_send (zaio_client_t *self, zaio_call_t *call)
{
    void *handle = zsock_resolve (self->dealer);
    if (zmq_send (handle, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
        -1)
        return -1;
    //  Once the first part is accepted, the rest of the message is too.
    int rc = zmq_send (handle, zframe_data (call->header), zframe_size (call->header),
                       call->has_data ? ZMQ_SNDMORE : 0);
    assert (rc >= 0);
    if (call->has_data) s_send_data (handle, call, 0);
    s_sent (self, call, 0);
    return 0;
}

//  Whether the broker of this connection takes batches (its hello lists
//  the op and gives batch_max).
static bool
s_batches (zaio_client_t *self)
{
    return self->have_hello && self->hello.batch_max && (self->hello.ops & (1u << ZAIO_OP_BATCH));
}

//  Bytes an entry whose header frame is size bytes adds to an entries
//  frame: the pair's head, the bin's head and bytes, the flag.
static size_t
s_entry_size (size_t size)
{
    return 1 + (size < 0x100 ? 2 : size < 0x10000 ? 3 : 5) + size + 1;
}

//  Gather into `gathered` the calls at the head of the queue that go in
//  one wire batch with the first: queued by zaio_client_start_batch, or
//  any when coalescing; at most max of them, within batch_bytes_max (the
//  spec's default if hello gave none). A call over payload_max fails on
//  the way, unsent. Returns how many.
static size_t
s_gather (zaio_client_t *self, size_t max)
{
    if (max > self->gathered_max) max = self->gathered_max;
    size_t count = 0;
    size_t bytes = 5; //  the array's head at most
    size_t bytes_max =
        self->hello.batch_bytes_max ? (size_t)self->hello.batch_bytes_max : ZAIO_BATCH_BYTES_MAX;
    zaio_link_t *link = zaio_list_first (&self->queue);
    while (link && count < max) {
        zaio_call_t *call = ZAIO_HOLDER (link, zaio_call_t, link);
        link = zaio_list_next (&self->queue, link);
        if (!(self->coalesce || call->batch)) break;
        //  hello and stats are asked alone (PROTOCOL.md section 5.2).
        if (call->op == ZAIO_OP_HELLO || call->op == ZAIO_OP_STATS) break;
        if (s_refuse_oversize (self, call)) continue;
        size_t size = s_entry_size (zframe_size (call->header));
        if (count && bytes + size > bytes_max) break;
        bytes += size;
        self->gathered[count++] = call;
    }
    return count;
}

//  Send the first count gathered calls as one wire batch, under a fresh
//  tag. Returns -1 (calls untouched) if the socket will not take it now.
static int
s_send_batch (zaio_client_t *self, size_t count)
{
    void *handle = zsock_resolve (self->dealer);
    if (zmq_send (handle, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
        -1)
        return -1;
    uint64_t tag = self->next_id++;
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_BATCH, tag);
    zframe_t *head = zaio_request_encode (&req);
    assert (head);
    int rc = zmq_send (handle, zframe_data (head), zframe_size (head), ZMQ_SNDMORE);
    assert (rc >= 0);
    zframe_destroy (&head);
    size_t with_data = 0;
    for (size_t i = 0; i < count; i++) {
        zaio_call_t *call = self->gathered[i];
        rc = zaio_batch_writer_add (&self->entries, zframe_data (call->header),
                                    zframe_size (call->header), call->has_data);
        assert (rc == 0);
        with_data += call->has_data;
    }
    zmq_msg_t entries;
    zaio_batch_writer_part (&self->entries, &entries);
    rc = zmq_msg_send (&entries, handle, with_data ? ZMQ_SNDMORE : 0);
    assert (rc >= 0);
    for (size_t i = 0; i < count; i++) {
        zaio_call_t *call = self->gathered[i];
        if (call->has_data) s_send_data (handle, call, --with_data ? ZMQ_SNDMORE : 0);
        s_sent (self, call, tag);
    }
    return 0;
}

//  Open the monitor of handle, the DEALER about to connect: a PAIR that
//  reports the ZMTP handshake and the ways a connection fails or goes.
static void
s_open_monitor (zaio_client_t *self, void *handle)
{
    self->monitor = zaio_sock_monitor (
        handle,
        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
            ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
        "zaio-client-monitor");
    struct epoll_event event = {.events = EPOLLIN};
    int rc = epoll_ctl (self->inner, EPOLL_CTL_ADD, zsock_fd (self->monitor), &event);
    assert (rc == 0);
}

//  Open a fresh socket (and its monitor, but over inproc) and start
//  connecting; the state is the caller's to change. Returns -1, with
//  nothing left open, if ZeroMQ refuses the endpoint (zaio_client_new
//  sees that first: it is checked once).
static int
s_open (zaio_client_t *self)
{
    assert (!self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    void *handle = zsock_resolve (self->dealer);
    int zero = 0;
    int64_t maxmsgsize = S_MAXMSGSIZE;
    zmq_setsockopt (handle, ZMQ_LINGER, &zero, sizeof zero);
    //  The window bounds what we queue; the socket need not.
    zmq_setsockopt (handle, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (handle, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (handle, ZMQ_MAXMSGSIZE, &maxmsgsize, sizeof maxmsgsize);
    //  No reconnects by ZeroMQ: a lost connection gets a fresh socket from
    //  us. This also bounds the monitor events one socket can raise (each
    //  retry would add one), so an application that does not call us for
    //  a long time cannot fill the monitor pipe and stall ZeroMQ's thread.
    int no_reconnect = -1;
    zmq_setsockopt (handle, ZMQ_RECONNECT_IVL, &no_reconnect, sizeof no_reconnect);
    if (self->heartbeat_ms) {
        int ivl = (int)self->heartbeat_ms, timeout = (int)self->heartbeat_ms * 3;
        zmq_setsockopt (handle, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
        zmq_setsockopt (handle, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    }
    if (self->curve) zaio_curve_apply (&self->keys, handle);
    if (!self->is_inproc) s_open_monitor (self, handle);
    if (zmq_connect (handle, self->endpoint)) {
        s_disconnect (self);
        return -1;
    }
    struct epoll_event event = {.events = EPOLLIN};
    int rc = epoll_ctl (self->inner, EPOLL_CTL_ADD, zsock_fd (self->dealer), &event);
    assert (rc == 0);
    return 0;
}

//  Send our own hello, with which every connection opens, to learn the
//  broker's limits. The client owns the call (hello_call) until it is
//  answered (s_hello_done) or the connection goes (s_drop). The socket
//  refuses it only if the connection failed already (ZeroMQ dropped its
//  pipe, a fast refusal): then it waits queued for the monitor's news.
static void
s_hello_send (zaio_client_t *self)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_HELLO, 0);
    self->hello_call = s_call_new (self, &req, NULL, true);
    if (s_send (self, self->hello_call)) s_enqueue (self, self->hello_call, true);
}

static int
s_call_compare (const void *a, const void *b)
{
    uint64_t x = (*(zaio_call_t *const *)a)->id, y = (*(zaio_call_t *const *)b)->id;
    return x < y ? -1 : x > y;
}

//  Settle a call that had a reply due on a lost connection. A done call
//  (timed out, abandoned) only frees its place, and our hello goes. A call
//  that may have reached the broker (maybe_delivered) fails with CONNLOST
//  unless it is idempotent, then with UNREACHABLE once resent `retries`
//  times; any other goes back to the front of the queue.
static void
s_settle (zaio_client_t *self, zaio_call_t *call, bool maybe_delivered, const char *why)
{
    call->in_flight = false;
    if (call->state == S_DONE) {
        s_call_maybe_free (call);
        return;
    }
    assert (call->state == S_SENT);
    if (call->internal) {
        self->hello_call = NULL;
        call->state = S_DONE;
        s_call_maybe_free (call);
    } else if (maybe_delivered && !zaio_op_idempotent (call->op))
        s_fail (self, call, ZAIO_ERR_CONNLOST,
                "%s: connection to the broker lost after the request was sent; it may or may "
                "not have run and was not sent again",
                why);
    else if (maybe_delivered && call->attempts >= self->retries)
        s_fail (self, call, ZAIO_ERR_UNREACHABLE, "%s: broker lost %u times while running it", why,
                call->attempts + 1);
    else {
        if (maybe_delivered) call->attempts++;
        s_enqueue (self, call, true);
    }
}

//  The connection is lost (why says how): drop the socket, count the
//  failure and settle every call that was on it, oldest first so that
//  those queued again keep their order. The state is the caller's
//  (s_conn_on) to change.
static void
s_drop (zaio_client_t *self, const char *why)
{
    s_disconnect (self);
    if (self->failures++ == 0) self->lost_at = s_now ();
    if (why == s_hung_up) self->hangups++;
    bool maybe_delivered = self->connected;
    self->connected = false;
    size_t count = zhashx_size (self->sent);
    zaio_call_t **calls = (zaio_call_t **)malloc ((count ? count : 1) * sizeof (zaio_call_t *));
    assert (calls);
    size_t n = 0;
    for (zaio_call_t *call = (zaio_call_t *)zhashx_first (self->sent); call;
         call = (zaio_call_t *)zhashx_next (self->sent))
        calls[n++] = call;
    zhashx_purge (self->sent);
    self->inflight = 0;
    qsort (calls, n, sizeof (zaio_call_t *), s_call_compare);
    for (size_t i = n; i-- > 0;) s_settle (self, calls[i], maybe_delivered, why);
    free (calls);
    if (self->hello_call) {
        //  Backing off after QUEUE_FULL or SHUTDOWN: not in `sent`.
        zaio_call_t *hello = self->hello_call;
        self->hello_call = NULL;
        s_list_remove (hello);
        hello->state = S_DONE;
        s_timer_update (self, hello);
        s_call_maybe_free (hello);
    }
}

//  Calls a connection may have in flight under hello's limits: its
//  inflight_max (at most 2^20), and at most half its reply_hwm: libzmq
//  tells the broker that we took replies only every reply_hwm / 2 of
//  them, so a wider window gets replies held and our jobs parked while we
//  read (PROTOCOL.md section 7).
static size_t
s_window (const zaio_hello_t *hello)
{
    size_t window = ZAIO_CLIENT_WINDOW_DEFAULT;
    if (hello->inflight_max)
        window = hello->inflight_max < (1u << 20) ? hello->inflight_max : (1u << 20);
    if (hello->reply_hwm) {
        size_t read_window = hello->reply_hwm > 1 ? hello->reply_hwm / 2 : 1;
        if (read_window < window) window = read_window;
    }
    return window;
}

//  Make room for what this connection's batches may hold: the calls of
//  one wire batch, and the parts of one reply batch. Called before each
//  receive and send, never during one (the arrays move).
static void
s_batch_room (zaio_client_t *self)
{
    size_t max = s_batches (self) ? self->hello.batch_max : 1;
    if (max > (1u << 20)) max = 1u << 20;
    if (max > self->gathered_max) {
        self->gathered = (zaio_call_t **)realloc (self->gathered, max * sizeof (zaio_call_t *));
        assert (self->gathered);
        self->gathered_max = max;
    }
    if ((int)max + 2 > self->parts_max) {
        self->parts = (zmq_msg_t *)realloc (self->parts, (max + 2) * sizeof (zmq_msg_t));
        assert (self->parts);
        self->parts_max = (int)max + 2;
    }
}

//  ---------------------------------------------------------------------
//  The connection's state machine: every change of `conn` is made in
//  s_conn_on, one case per (state, event) pair below, in this order.
//
//  DOWN        no socket: none opened yet, or given up after more than
//              `retries` failed connections in a row that took `retry_ms`
//              or more since the first; a new call retries
//  BACKOFF     no socket; a fresh one when the back-off runs out
//  CONNECTING  a socket with our hello on it, not yet answered: only the
//              hello is sent (again after QUEUE_FULL), no user call
//  READY       our hello answered: user calls go out, `window` at a time
//  CLOSED      zaio_client_destroy: no socket, no connecting, ever again
//
//  Beside the state, `connected` says the ZMTP handshake was seen: from
//  then on what we sent may have reached the broker, so a lost connection
//  fails non-idempotent calls with CONNLOST instead of resending them.
//  `conn_deadline` is the state's timer, which raises TIMER: the end of
//  the back-off in BACKOFF, the connect timeout in CONNECTING (none over
//  inproc), none in the other states.
//
//  state       event         next        action
//  ----------  ------------  ----------  ---------------------------------------------
//  DOWN        CONNECT       CONNECTING  failures = hangups = 0, then as BACKOFF + TIMER
//  BACKOFF     TIMER         CONNECTING  open a fresh socket, send our hello, set the
//                                        connect timeout; if ZeroMQ refuses the
//                                        endpoint, stay (and return -1)
//  CONNECTING  HANDSHAKE     CONNECTING  connected = true
//  READY       HANDSHAKE     READY       connected = true
//  CONNECTING  HELLO_OK      READY       window from the broker's limits; failures =
//                                        hangups = 0
//  CONNECTING  HELLO_FAILED  READY       default window; failures = hangups = 0 (any answer,
//                                        even an error, proves a broker is there)
//  CONNECTING  TIMER         (as LOST)   why: "connect timed out", or "no answer to
//                                        hello" once connected
//  CONNECTING  LOST          BACKOFF     drop the socket, failures++, settle its calls
//  READY       LOST          or DOWN     (s_drop); BACKOFF while failures <= retries or
//                                        retry_ms has not passed since lost_at (s_retry_at),
//                                        else DOWN: waiting calls fail UNREACHABLE, or
//                                        AUTH if under CURVE the broker hung up in the
//                                        handshake every time (hangups == failures)
//  CONNECTING  REFUSED       DOWN        drop the socket and settle its calls (s_drop);
//  READY       REFUSED                   waiting calls fail AUTH at once: trying again
//                                        would be refused again
//  CONNECTING  REKEY         CONNECTING  drop the socket and settle its calls (s_drop),
//  READY       REKEY                     then as DOWN + CONNECT, with the new keys
//  any but     DESTROY       CLOSED      drop the socket
//    CLOSED
//
//  Any other pair changes nothing: CONNECT outside DOWN (the call waits
//  for the connection there is or will be), REKEY without a socket (the
//  next one gets the keys), DESTROY in CLOSED, and pairs
//  that cannot occur (HANDSHAKE and LOST come from the monitor of an open
//  socket, HELLO_* from our hello, out only in CONNECTING, TIMER only
//  while conn_deadline is set).

#define S_ON(state, event) ((int)(state)*E_COUNT + (int)(event))

//  Enter state, whose timer fires at deadline (0: it has none).
static void
s_conn_enter (zaio_client_t *self, s_conn_t state, int64_t deadline)
{
    self->conn = state;
    self->conn_deadline = deadline;
}

//  After `failures` lost connections in a row, when to try the next one: a
//  back-off from now, doubling per failure up to its ceiling. Past
//  `retries` failures the client keeps trying until `retry_ms` after the
//  first (lost_at), the last try at that instant, so a broker that comes
//  back within it is found; but not under CURVE when the broker hung up in
//  every handshake (s_give_up_lost: AUTH, which time will not mend).
//  Returns 0 when it is time to give up.
static int64_t
s_retry_at (zaio_client_t *self)
{
    int64_t now = s_now ();
    int64_t at = now + s_backoff (self, self->failures);
    if (self->failures <= self->retries) return at;
    if (self->curve && self->hangups == self->failures) return 0;
    int64_t end = self->lost_at + self->retry_ms;
    if (now >= end) return 0;
    return at < end ? at : end;
}

//  Fail every call waiting to be sent (queued, or backing off) with error:
//  UNREACHABLE when no broker answered `failures` connections in a row,
//  AUTH when the broker refused our handshake. why says how.
static void
s_give_up (zaio_client_t *self, int error, const char *why)
{
    char message[sizeof ((zaio_call_t *)0)->message];
    if (error == ZAIO_ERR_AUTH)
        snprintf (message, sizeof message, "broker at %s: %s", self->endpoint, why);
    else
        snprintf (message, sizeof message, "no broker at %s after %u attempts (%s)", self->endpoint,
                  self->failures, why);
    s_fail_calls (self, S_STATE_BIT (S_QUEUED) | S_STATE_BIT (S_WAIT), error, message);
}

//  Give up after `failures` lost connections. Under CURVE, a broker that
//  took every connection and hung up in every handshake failed to
//  authenticate us or itself: ZeroMQ reports a wrong server key (the
//  broker cannot open our HELLO), and often a broker without CURVE, only
//  as that. Retrying will not help, so that is AUTH, not UNREACHABLE.
static void
s_give_up_lost (zaio_client_t *self, const char *why)
{
    if (self->curve && self->hangups == self->failures)
        s_give_up (self, ZAIO_ERR_AUTH,
                   "hung up in the CURVE handshake on every attempt: is the broker's public key "
                   "the right one, and does it use CURVE?");
    else
        s_give_up (self, ZAIO_ERR_UNREACHABLE, why);
}

//  Event happened to the connection: make the one transition the table
//  above gives for it. why says how the connection was lost or refused
//  (LOST and REFUSED only).
//  Returns -1 if a socket was to be opened and ZeroMQ refused the endpoint,
//  else 0.
static int
s_conn_on (zaio_client_t *self, s_event_t event, const char *why)
{
    int64_t retry_at;
    switch (S_ON (self->conn, event)) {
        case S_ON (C_CONNECTING, E_REKEY):
        case S_ON (C_READY, E_REKEY):
            s_drop (self, "CURVE keys changed");
            //  fall through
        case S_ON (C_DOWN, E_CONNECT):
            self->failures = self->hangups = 0;
            //  fall through
        case S_ON (C_BACKOFF, E_TIMER):
            if (s_open (self)) return -1;
            //  inproc has no monitor events; an inproc broker cannot be half there.
            self->connected = self->is_inproc;
            s_conn_enter (self, C_CONNECTING,
                          self->is_inproc ? 0 : s_now () + self->connect_timeout_ms);
            s_hello_send (self);
            break;
        case S_ON (C_CONNECTING, E_HANDSHAKE):
        case S_ON (C_READY, E_HANDSHAKE):
            self->connected = true;
            break;
        case S_ON (C_CONNECTING, E_HELLO_OK):
            self->have_hello = true;
            self->window = s_window (&self->hello);
            self->failures = self->hangups = 0;
            s_conn_enter (self, C_READY, 0);
            break;
        case S_ON (C_CONNECTING, E_HELLO_FAILED):
            self->window = ZAIO_CLIENT_WINDOW_DEFAULT;
            self->failures = self->hangups = 0;
            s_conn_enter (self, C_READY, 0);
            break;
        case S_ON (C_CONNECTING, E_TIMER):
            why = self->connected ? "no answer to hello" : "connect timed out";
            //  fall through
        case S_ON (C_CONNECTING, E_LOST):
        case S_ON (C_READY, E_LOST):
            s_drop (self, why);
            retry_at = s_retry_at (self);
            if (retry_at)
                s_conn_enter (self, C_BACKOFF, retry_at);
            else {
                s_conn_enter (self, C_DOWN, 0);
                s_give_up_lost (self, why);
            }
            break;
        case S_ON (C_CONNECTING, E_REFUSED):
        case S_ON (C_READY, E_REFUSED):
            s_drop (self, why);
            s_conn_enter (self, C_DOWN, 0);
            s_give_up (self, ZAIO_ERR_AUTH, why);
            break;
        case S_ON (C_DOWN, E_DESTROY):
        case S_ON (C_BACKOFF, E_DESTROY):
        case S_ON (C_CONNECTING, E_DESTROY):
        case S_ON (C_READY, E_DESTROY):
            s_disconnect (self);
            s_conn_enter (self, C_CLOSED, 0);
            break;
        default:
            break;
    }
    return 0;
}

//  Our hello completed, with any answer: QUEUE_FULL and SHUTDOWN are
//  retried before they get here, and it has no timeout of its own. Reads
//  the broker's limits into `hello` if it can, frees the call and tells
//  the state machine.
static void
s_hello_done (zaio_client_t *self, zaio_call_t *call)
{
    assert (call == self->hello_call);
    self->hello_call = NULL;
    bool limits = call->error == 0 && call->have_reply && call->reply.hello &&
                  zaio_hello_decode (&self->hello, call->reply.hello, call->reply.hello_size) == 0;
    s_call_maybe_free (call);
    s_conn_on (self, limits ? E_HELLO_OK : E_HELLO_FAILED, NULL);
}

//  Drain the socket monitor and tell the state machine what it saw: each
//  handshake as it comes, and a refusal or a loss (the first reason seen)
//  once the monitor is drained and the replies that came before it, still
//  in the socket, are taken. A refusal (zaio_curve_refusal) comes before
//  the disconnect that follows it, and wins over it.
static void
s_monitor_drain (zaio_client_t *self)
{
    void *handle = zsock_resolve (self->monitor);
    const char *lost = NULL, *refused = NULL;
    uint16_t event;
    uint32_t value;
    while (zaio_sock_monitor_event (handle, &event, &value) == 0) {
        const char *why = NULL;
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            s_conn_on (self, E_HANDSHAKE, NULL);
        else if (event == ZMQ_EVENT_DISCONNECTED)
            why = "connection lost";
        else if ((event == ZMQ_EVENT_CLOSED || event == ZMQ_EVENT_CONNECT_RETRIED) &&
                 !self->connected)
            why = "connection refused";
        else if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) {
            //  A wrong server key looks like this: the broker only hangs up.
            why = s_hung_up;
            if (!refused) refused = zaio_curve_refusal (event, value, self->curve);
        }
        if (!lost) lost = why;
    }
    if (refused || lost) {
        s_recv_all (self);
        s_conn_on (self, refused ? E_REFUSED : E_LOST, refused ? refused : lost);
    }
}

//  ---------------------------------------------------------------------
//  Replies

//  A reply no call waits for: if it is an error carrying the tag of a wire
//  batch (the broker refused the whole batch), every call of that batch
//  still waiting gets the error as its own reply; else it is dropped.
static void
s_handle_refusal (zaio_client_t *self, const zaio_reply_t *reply)
{
    if (reply->ok || !reply->id) return;
    //  Collected first: zhashx must not change while it is walked.
    zaio_call_t **calls =
        (zaio_call_t **)malloc ((zhashx_size (self->sent) + 1) * sizeof (zaio_call_t *));
    assert (calls);
    size_t count = 0;
    for (zaio_call_t *call = (zaio_call_t *)zhashx_first (self->sent); call;
         call = (zaio_call_t *)zhashx_next (self->sent))
        if (call->tag == reply->id) calls[count++] = call;
    for (size_t i = 0; i < count; i++) {
        zaio_call_t *call = calls[i];
        zhashx_delete (self->sent, (void *)(uintptr_t)call->id);
        call->in_flight = false;
        self->inflight--;
        if (call->state == S_DONE)
            s_call_maybe_free (call);
        else
            s_fail (self, call, reply->error, "%s", reply->message);
    }
    free (calls);
}

//  One reply: header, and its data frame (NULL: none), both taken if the
//  reply completes a call. One that does not decode is dropped: its call
//  will time out.
static void
s_handle_reply (zaio_client_t *self, zmq_msg_t *header, zmq_msg_t *data)
{
    zaio_reply_t reply;
    char why[128];
    if (zaio_reply_decode (&reply, zmq_msg_data (header), zmq_msg_size (header), why, sizeof why))
        return; //  unreadable: its call will time out
    zaio_call_t *call = (zaio_call_t *)zhashx_lookup (self->sent, (void *)(uintptr_t)reply.id);
    if (!call) {
        s_handle_refusal (self, &reply);
        return;
    }
    zhashx_delete (self->sent, (void *)(uintptr_t)reply.id);
    call->in_flight = false;
    self->inflight--;
    if (call->state == S_DONE) {
        //  Timed out or abandoned: the late reply only frees its place.
        s_call_maybe_free (call);
        return;
    }
    assert (call->state == S_SENT);
    if (!reply.ok && reply.error == ZAIO_ERR_QUEUE_FULL) {
        //  Not accepted; always safe to send again.
        uint32_t delay = S_BUSY_BACKOFF_MS << (call->busy < 6 ? call->busy : 6);
        call->busy++;
        s_retry_later (self, call, delay < S_BUSY_MAX_MS ? delay : S_BUSY_MAX_MS);
        return;
    }
    if (!reply.ok && reply.error == ZAIO_ERR_SHUTDOWN && call->attempts < self->retries) {
        //  Not run: the broker is stopping. Another (or the restarted)
        //  broker may take it.
        call->attempts++;
        s_retry_later (self, call, s_backoff (self, call->attempts));
        return;
    }
    //  Keep the header frame: the reply's slices point into it. A small
    //  frame lives inside the zmq_msg_t, so decode again once it is moved.
    zmq_msg_move (&call->reply_header, header);
    int rc = zaio_reply_decode (&call->reply, zmq_msg_data (&call->reply_header),
                                zmq_msg_size (&call->reply_header), why, sizeof why);
    assert (rc == 0);
    call->have_reply = true;
    snprintf (call->message, sizeof call->message, "%s", call->reply.message);
    if (reply.ok && zaio_op_returns_data (call->op)) {
        if (!data) {
            s_fail (self, call, ZAIO_ERR_MALFORMED, "reply lacks its data frame");
            return;
        }
        zmq_msg_move (&call->reply_data, data);
        call->have_data = true;
    }
    s_complete (self, call, reply.ok ? 0 : reply.error);
}

//  A reply batch: count parts, the entries frame parts[1] and its data
//  frames after it (parts past parts_max were dropped). One that breaks
//  the protocol as a whole is dropped, as an unreadable reply is; else
//  each reply is handled as if it came alone.
static void
s_handle_batch (zaio_client_t *self, zmq_msg_t *parts, int count)
{
    const void *data = zmq_msg_data (&parts[1]);
    size_t size = zmq_msg_size (&parts[1]);
    char why[128];
    uint32_t entries;
    if (count > self->parts_max || zaio_batch_check (data, size, (size_t)count - 2, UINT32_MAX,
                                                     SIZE_MAX, &entries, why, sizeof why))
        return;
    zaio_batch_cursor_t cursor;
    int rc = zaio_batch_cursor_init (&cursor, data, size, UINT32_MAX, &entries, why, sizeof why);
    assert (rc == 0);
    const uint8_t *header;
    size_t header_size;
    bool has_data;
    int next = 2;
    while (zaio_batch_cursor_next (&cursor, &header, &header_size, &has_data, why, sizeof why) ==
           0) {
        zmq_msg_t one;
        rc = zmq_msg_init_size (&one, header_size);
        assert (rc == 0);
        memcpy (zmq_msg_data (&one), header, header_size);
        s_handle_reply (self, &one, has_data ? &parts[next++] : NULL);
        zmq_msg_close (&one);
    }
}

//  Receive one message. Returns -1 if there was none.
static int
s_recv_one (zaio_client_t *self)
{
    s_batch_room (self);
    zmq_msg_t *parts = self->parts;
    int count = zaio_sock_recv_parts (zsock_resolve (self->dealer), parts, self->parts_max);
    if (count < 0) return -1;
    //  Not a ZAIO/1 reply: nothing to match it to.
    if (count >= 2 && zmq_msg_size (&parts[0]) == strlen (ZAIO_SIGNATURE) &&
        !memcmp (zmq_msg_data (&parts[0]), ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE))) {
        if (zaio_batch_is (zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1])))
            s_handle_batch (self, parts, count);
        else if (count <= 3)
            s_handle_reply (self, &parts[1], count == 3 ? &parts[2] : NULL);
    }
    for (int i = 0; i < count && i < self->parts_max; i++) zmq_msg_close (&parts[i]);
    return 0;
}

static void
s_recv_all (zaio_client_t *self)
{
    if (self->dealer)
        while (s_recv_one (self) == 0) continue;
}

//  ---------------------------------------------------------------------
//  The engine: one pass takes in everything that has arrived, fires due
//  timers and sends what the window allows, until nothing is left.

//  Fire every timer due at now: calls past their deadline fail with
//  TIMEOUT, calls whose back-off is over are queued again, and the
//  connection's own timer raises TIMER.
static void
s_timers (zaio_client_t *self, int64_t now)
{
    zaio_heap_node_t *first;
    while ((first = zaio_heap_first (&self->timers)) && first->key <= now) {
        zaio_call_t *call = ZAIO_HOLDER (first, zaio_call_t, timer);
        if (call->deadline && call->deadline <= now) {
            uint32_t msecs = (uint32_t)(call->deadline - call->started);
            if (call->state == S_SENT)
                s_fail (self, call, ZAIO_ERR_TIMEOUT,
                        "no reply within %u ms; the broker may still run the request", msecs);
            else
                s_fail (self, call, ZAIO_ERR_TIMEOUT, "not sent within %u ms (%s)", msecs,
                        self->conn == C_READY ? "window full" : "no connection to the broker");
        } else {
            assert (call->state == S_WAIT);
            s_enqueue (self, call, true);
        }
    }
    //  The end of a back-off, or the connect timeout: the connection is up
    //  only once our hello is answered, so a broker that shakes hands and
    //  then answers nothing we can read (an unreadable reply matches no
    //  call) is as good as none.
    if (self->conn_deadline && now >= self->conn_deadline) s_conn_on (self, E_TIMER, NULL);
}

//  Fail a call whose data is over the payload_max our hello reported,
//  rather than send it: past the broker's transport limit (payload_max and
//  some slack) it would drop the connection unanswered, and every call on
//  it with CONNLOST (PROTOCOL.md section 4, rule 9). Returns true if the
//  call failed.
static bool
s_refuse_oversize (zaio_client_t *self, zaio_call_t *call)
{
    size_t size = zmq_msg_size (&call->data);
    if (!self->have_hello || !self->hello.payload_max || size <= self->hello.payload_max)
        return false;
    s_fail (self, call, ZAIO_ERR_TOOBIG,
            "%zu bytes of data; the broker takes at most %" PRIu64 " in one request", size,
            self->hello.payload_max);
    return true;
}

//  Send what the connection's state and the window allow, in queue order;
//  stops at the first call the socket will not take now.
static void
s_flush (zaio_client_t *self)
{
    //  Until the hello is answered only the hello goes out (again, if it
    //  was told QUEUE_FULL).
    if (self->conn == C_CONNECTING && self->hello_call && self->hello_call->state == S_QUEUED)
        s_send (self, self->hello_call);
    if (self->conn != C_READY) return;
    while (self->queue.size && self->inflight < self->window) {
        //  Calls queued before this connection's hello are checked now (and
        //  by s_gather: the head may have failed there).
        s_batch_room (self);
        size_t count = s_batches (self) ? s_gather (self, self->window - self->inflight) : 0;
        if (count > 1) {
            if (s_send_batch (self, count)) break;
            continue;
        }
        zaio_call_t *call = s_list_first (&self->queue);
        if (call && !s_refuse_oversize (self, call) && s_send (self, call)) break;
    }
}

//  Whether s_flush would send something now.
static bool
s_sendable (zaio_client_t *self)
{
    return self->conn == C_READY && self->queue.size && self->inflight < self->window;
}

//  Earliest time something is due; 0 if nothing is.
static int64_t
s_next_wake (zaio_client_t *self)
{
    zaio_heap_node_t *first = zaio_heap_first (&self->timers);
    int64_t next = first ? first->key : 0;
    int64_t other = self->conn_deadline;
    if (other && (!next || other < next)) next = other;
    return next;
}

//  Make `outer` readable exactly when dispatch has work: the timerfd at
//  the next deadline, the eventfd while callbacks are due.
static void
s_arm (zaio_client_t *self)
{
    int64_t next = s_next_wake (self);
    if (next != self->timer_armed) {
        struct itimerspec spec = {{0, 0}, {0, 0}};
        if (next) {
            spec.it_value.tv_sec = next / 1000;
            spec.it_value.tv_nsec = (next % 1000) * 1000000;
        }
        int rc = timerfd_settime (self->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
        assert (rc == 0);
        self->timer_armed = next;
    }
    if (self->done.size || s_sendable (self))
        s_raise (self);
    else if (self->event_raised) {
        uint64_t value;
        if (read (self->event_fd, &value, sizeof value) < 0) assert (errno == EAGAIN);
        self->event_raised = false;
    }
}

//  One pass of the engine, never blocking: take in replies and monitor
//  events, fire timers and send, until no input waits; then arm `outer`.
//  Does nothing once the client is CLOSED.
static void
s_pump (zaio_client_t *self)
{
    //  The sockets are gone; calls started by destroy's callbacks are
    //  cancelled as they start.
    if (self->conn == C_CLOSED) return;
    for (;;) {
        //  Replies first: a disconnect the monitor reports must not drop
        //  replies that came in before it.
        s_recv_all (self);
        if (self->monitor) s_monitor_drain (self);
        s_timers (self, s_now ());
        s_flush (self);
        //  Sleep only as the ZMQ_FD rule (zaio_sock.h) allows.
        bool again = (self->dealer && zaio_sock_has_input (zsock_resolve (self->dealer))) ||
                     (self->monitor && zaio_sock_has_input (zsock_resolve (self->monitor)));
        if (!again) break;
    }
    s_arm (self);
}

//  Block until `call` is done (or, with call NULL, until any call
//  completes), or timeout_ms passes. Returns 0, or -1 on timeout or
//  interrupt.
static int
s_wait (zaio_client_t *self, zaio_call_t *call, int timeout_ms)
{
    int64_t until = timeout_ms < 0 ? -1 : s_now () + timeout_ms;
    uint64_t completions = self->completions;
    for (;;) {
        s_pump (self);
        if (call ? call->state == S_DONE
                 : (self->done.size || self->pending == 0 || self->completions != completions))
            return 0;
        if (zsys_interrupted) {
            errno = EINTR;
            return -1;
        }
        int64_t now = s_now ();
        if (until >= 0 && now >= until) {
            errno = EAGAIN;
            return -1;
        }
        int64_t wait = until < 0 ? S_WAIT_SLICE_MS : until - now;
        int64_t next = s_next_wake (self);
        if (next && next - now < wait) wait = next > now ? next - now : 0;
        if (wait > S_WAIT_SLICE_MS) wait = S_WAIT_SLICE_MS;
        struct epoll_event events[4];
        epoll_wait (self->inner, events, 4, (int)wait);
    }
}

//  Run the first max callbacks due, oldest first. Returns how many ran.
static int
s_run_callbacks (zaio_client_t *self, size_t max)
{
    int ran = 0;
    bool dispatching = self->dispatching;
    self->dispatching = true;
    zaio_call_t *call;
    while (max-- && (call = s_list_first (&self->done))) {
        s_list_remove (call);
        zaio_done_fn *fn = call->fn;
        call->fn = NULL;
        self->pending--;
        fn (call, call->arg);
        s_call_maybe_free (call);
        ran++;
    }
    self->dispatching = dispatching;
    return ran;
}

//  ---------------------------------------------------------------------
//  zaio_client_t

zaio_client_t *
zaio_client_new (const char *endpoint)
{
    if (!endpoint) endpoint = getenv (ZAIO_ENDPOINT_ENV);
    if (!endpoint || !*endpoint) endpoint = ZAIO_DEFAULT_ENDPOINT;
    zaio_client_t *self = (zaio_client_t *)calloc (1, sizeof (zaio_client_t));
    assert (self);
    self->endpoint = strdup (endpoint);
    assert (self->endpoint);
    self->is_inproc = strncmp (endpoint, "inproc://", 9) == 0;
    self->timeout_ms = ZAIO_CLIENT_TIMEOUT_MS;
    self->retries = ZAIO_CLIENT_RETRIES;
    self->retry_ms = ZAIO_CLIENT_RETRY_MS;
    self->connect_timeout_ms = ZAIO_CLIENT_CONNECT_TIMEOUT_MS;
    self->heartbeat_ms = ZAIO_CLIENT_HEARTBEAT_MS;
    self->backoff_ms = ZAIO_CLIENT_BACKOFF_MS;
    self->backoff_max_ms = ZAIO_CLIENT_BACKOFF_MAX_MS;
    self->next_id = 1;
    self->window = ZAIO_CLIENT_WINDOW_DEFAULT;
    self->coalesce = true;
    zaio_batch_writer_init (&self->entries);
    s_batch_room (self);
    zaio_list_init (&self->queue);
    zaio_list_init (&self->done);
    zaio_list_init (&self->all);
    zaio_heap_init (&self->timers);
    self->sent = zhashx_new ();
    assert (self->sent);
    zhashx_set_key_hasher (self->sent, s_id_hash);
    zhashx_set_key_comparator (self->sent, s_id_compare);
    zhashx_set_key_duplicator (self->sent, NULL);
    zhashx_set_key_destructor (self->sent, NULL);

    self->inner = epoll_create1 (EPOLL_CLOEXEC);
    self->outer = epoll_create1 (EPOLL_CLOEXEC);
    self->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    self->event_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert (self->inner >= 0 && self->outer >= 0 && self->timer_fd >= 0 && self->event_fd >= 0);
    struct epoll_event event = {.events = EPOLLIN};
    int rc = epoll_ctl (self->outer, EPOLL_CTL_ADD, self->inner, &event);
    assert (rc == 0);
    rc = epoll_ctl (self->outer, EPOLL_CTL_ADD, self->timer_fd, &event);
    assert (rc == 0);
    rc = epoll_ctl (self->outer, EPOLL_CTL_ADD, self->event_fd, &event);
    assert (rc == 0);

    if (s_conn_on (self, E_CONNECT, NULL)) {
        zaio_client_destroy (&self);
        return NULL;
    }
    s_pump (self);
    return self;
}

void
zaio_client_destroy (zaio_client_t **self_p)
{
    assert (self_p);
    zaio_client_t *self = *self_p;
    if (!self) return;
    assert (!self->dispatching); //  not from inside a callback
    s_conn_on (self, E_DESTROY, NULL);
    //  Every unfinished call completes with ECANCELED; due callbacks run,
    //  and so do those of calls they start (cancelled at once).
    s_fail_calls (self, S_STATE_BIT (S_QUEUED) | S_STATE_BIT (S_SENT) | S_STATE_BIT (S_WAIT),
                  ECANCELED, "client destroyed");
    s_run_callbacks (self, SIZE_MAX);
    //  Handles the user holds outlive the client; the rest go.
    zaio_link_t *link;
    while ((link = zaio_list_pop (&self->all))) {
        zaio_call_t *call = ZAIO_HOLDER (link, zaio_call_t, all_link);
        call->in_flight = false;
        s_list_remove (call);
        zaio_heap_remove (&self->timers, &call->timer);
        call->state = S_DONE;
        call->client = NULL;
        s_call_maybe_free (call);
    }
    zhashx_destroy (&self->sent);
    zaio_heap_release (&self->timers);
    zaio_batch_writer_release (&self->entries);
    free (self->gathered);
    free (self->parts);
    close (self->event_fd);
    close (self->timer_fd);
    close (self->outer);
    close (self->inner);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
zaio_client_endpoint (zaio_client_t *self)
{
    assert (self);
    return self->endpoint;
}

int
zaio_client_set_volume (zaio_client_t *self, const char *volume)
{
    assert (self);
    if (volume && *volume && !zaio_volume_name_valid (volume)) return -1;
    snprintf (self->volume, sizeof self->volume, "%s", volume ? volume : "");
    return 0;
}

void
zaio_client_set_timeout (zaio_client_t *self, uint32_t msecs)
{
    assert (self);
    self->timeout_ms = msecs;
}

void
zaio_client_set_retries (zaio_client_t *self, uint32_t retries)
{
    assert (self);
    self->retries = retries;
}

void
zaio_client_set_retry_ms (zaio_client_t *self, uint32_t msecs)
{
    assert (self);
    self->retry_ms = msecs;
}

void
zaio_client_set_connect_timeout (zaio_client_t *self, uint32_t msecs)
{
    assert (self);
    self->connect_timeout_ms = msecs ? msecs : 1;
}

int
zaio_client_set_curve (zaio_client_t *self, const char *server_cert, const char *client_cert)
{
    assert (self);
    zaio_curve_t keys;
    if (zaio_curve_load (&keys, server_cert, client_cert, NULL)) return -1;
    self->keys = keys;
    self->curve = true;
    s_conn_on (self, E_REKEY, NULL);
    s_pump (self);
    return 0;
}

void
zaio_client_set_coalesce (zaio_client_t *self, bool coalesce)
{
    assert (self);
    self->coalesce = coalesce;
}

void
zaio_client_set_heartbeat (zaio_client_t *self, uint32_t msecs)
{
    assert (self);
    self->heartbeat_ms = msecs;
}

void
zaio_client_set_backoff (zaio_client_t *self, uint32_t initial_ms, uint32_t max_ms)
{
    assert (self);
    self->backoff_ms = initial_ms ? initial_ms : 1;
    self->backoff_max_ms = max_ms > self->backoff_ms ? max_ms : self->backoff_ms;
}

const zaio_hello_t *
zaio_client_limits (zaio_client_t *self)
{
    assert (self);
    return self->have_hello ? &self->hello : NULL;
}

size_t
zaio_client_pending (zaio_client_t *self)
{
    assert (self);
    return self->pending;
}

int
zaio_client_fd (zaio_client_t *self)
{
    assert (self);
    return self->outer;
}

int
zaio_client_dispatch (zaio_client_t *self, int timeout_ms)
{
    assert (self);
    //  Whatever woke the caller is about to be handled.
    uint64_t value;
    if (read (self->timer_fd, &value, sizeof value) < 0) assert (errno == EAGAIN);
    self->timer_armed = -1;
    int rc = 0;
    if (timeout_ms != 0 && self->pending && !self->done.size)
        rc = s_wait (self, NULL, timeout_ms);
    else
        s_pump (self);
    if (rc == -1 && errno == EINTR) return -1;

    //  Run the callbacks due now; those that become due while they run
    //  wait for the next dispatch, so a busy client cannot starve the loop.
    int ran = s_run_callbacks (self, self->done.size);
    s_pump (self);
    return ran;
}

//  ---------------------------------------------------------------------
//  Starting calls

//  Start a user call and return it (the caller holds it): queued, and the
//  connection asked for; failed at once if the client is CLOSED or its
//  data is over the broker's payload_max. Sends nothing (s_pump does).
static zaio_call_t *
s_start (zaio_client_t *self, const zaio_request_t *req, zaio_buf_t **data_p)
{
    zaio_call_t *call = s_call_new (self, req, data_p, false);
    if (self->conn == C_CLOSED)
        s_fail (self, call, ECANCELED, "client destroyed");
    else if (!s_refuse_oversize (self, call)) {
        s_enqueue (self, call, false);
        //  After the broker was given up on, a new call tries again.
        s_conn_on (self, E_CONNECT, NULL);
    }
    return call;
}

//  After calls were started: send them now, or, when coalescing, the next
//  time the client runs (the fd polls readable until then).
static void
s_started (zaio_client_t *self)
{
    if (self->coalesce)
        s_arm (self);
    else
        s_pump (self);
}

zaio_call_t *
zaio_client_start (zaio_client_t *self, const zaio_request_t *req, zaio_buf_t **data_p)
{
    assert (self);
    zaio_call_t *call = s_start (self, req, data_p);
    s_started (self);
    return call;
}

void
zaio_client_start_batch (zaio_client_t *self, const zaio_request_t *reqs, zaio_buf_t **data,
                         size_t count, zaio_call_t **calls)
{
    assert (self);
    assert (reqs || count == 0);
    assert (calls || count == 0);
    for (size_t i = 0; i < count; i++) {
        calls[i] = s_start (self, &reqs[i], data ? &data[i] : NULL);
        calls[i]->batch = true;
    }
    s_pump (self);
}

void
zaio_client_submit (zaio_client_t *self, const zaio_request_t *req, zaio_buf_t **data_p,
                    zaio_done_fn *fn, void *arg)
{
    assert (self);
    assert (fn);
    zaio_call_t *call = s_start (self, req, data_p);
    zaio_call_then (&call, fn, arg);
    s_started (self);
}

//  ---------------------------------------------------------------------
//  zaio_call_t

bool
zaio_call_done (zaio_call_t *self)
{
    assert (self);
    if (self->state != S_DONE && self->client) s_pump (self->client);
    return self->state == S_DONE;
}

int
zaio_call_wait (zaio_call_t *self, int timeout_ms)
{
    assert (self);
    if (self->state == S_DONE) return 0;
    assert (self->client); //  without a client, every call is done
    return s_wait (self->client, self, timeout_ms);
}

int
zaio_call_error (zaio_call_t *self)
{
    assert (self);
    return self->error;
}

const char *
zaio_call_message (zaio_call_t *self)
{
    assert (self);
    return self->message;
}

const zaio_reply_t *
zaio_call_reply (zaio_call_t *self)
{
    assert (self);
    return self->have_reply ? &self->reply : NULL;
}

zaio_buf_t *
zaio_call_take_data (zaio_call_t *self)
{
    assert (self);
    if (!self->have_data) return NULL;
    self->have_data = false;
    return zaio_buf_from_msg (&self->reply_data);
}

zaio_op_t
zaio_call_op (zaio_call_t *self)
{
    assert (self);
    return self->op;
}

uint64_t
zaio_call_id (zaio_call_t *self)
{
    assert (self);
    return self->id;
}

void
zaio_call_set_timeout (zaio_call_t *self, uint32_t msecs)
{
    assert (self);
    if (self->state == S_DONE || !self->client) return;
    self->deadline = msecs ? self->started + msecs : 0;
    s_timer_update (self->client, self);
    s_arm (self->client);
}

int
zaio_call_stat (zaio_call_t *self, zaio_stat_t *stat)
{
    assert (self);
    assert (stat);
    memset (stat, 0, sizeof (*stat));
    if (self->state != S_DONE) return EAGAIN;
    if (self->error) return self->error;
    const zaio_reply_t *reply = &self->reply;
    if (!(reply->present & ZAIO_RESULT_TYPE)) return ZAIO_ERR_MALFORMED;
    snprintf (stat->type, sizeof stat->type, "%s", reply->type);
    stat->size = reply->size;
    stat->mode = reply->mode;
    stat->mtime_ns = reply->mtime_ns;
    return 0;
}

int
zaio_call_hello (zaio_call_t *self, zaio_hello_t *hello)
{
    assert (self);
    assert (hello);
    memset (hello, 0, sizeof (*hello));
    if (self->state != S_DONE) return EAGAIN;
    if (self->error) return self->error;
    return zaio_hello_decode (hello, self->reply.hello, self->reply.hello_size);
}

int
zaio_call_stats (zaio_call_t *self, zaio_stats_report_t **report_p)
{
    assert (self);
    assert (report_p);
    *report_p = NULL;
    if (self->state != S_DONE) return EAGAIN;
    if (self->error) return self->error;
    return zaio_stats_report_decode (report_p, self->reply.hello, self->reply.hello_size);
}

int
zaio_call_entries (zaio_call_t *self, zaio_dirent_t **entries_p, size_t *count_p, bool *more_p)
{
    assert (self);
    assert (entries_p);
    assert (count_p);
    *entries_p = NULL;
    *count_p = 0;
    if (more_p) *more_p = false;
    if (self->state != S_DONE) return EAGAIN;
    if (self->error) return self->error;
    if (!(self->reply.present & ZAIO_RESULT_ENTRIES)) return ZAIO_ERR_MALFORMED;
    if (more_p) *more_p = self->reply.more;
    return zaio_dirents_decode (self->reply.entries, self->reply.entries_size, entries_p, count_p);
}

void
zaio_call_then (zaio_call_t **self_p, zaio_done_fn *fn, void *arg)
{
    assert (self_p);
    assert (*self_p);
    assert (fn);
    zaio_call_t *self = *self_p;
    *self_p = NULL;
    assert (self->held && !self->fn);
    self->held = false;
    self->fn = fn;
    self->arg = arg;
    zaio_client_t *client = self->client;
    if (!client) {
        //  The client is gone (the call is done, ECANCELED): nobody will
        //  dispatch, so run it now.
        self->fn = NULL;
        fn (self, arg);
        s_call_maybe_free (self);
    } else if (self->state == S_DONE) {
        //  Completed while held: counted out of pending then; back in
        //  until its callback runs.
        client->pending++;
        s_list_push (&client->done, self, false);
        s_raise (client);
    }
}

void
zaio_call_destroy (zaio_call_t **self_p)
{
    assert (self_p);
    zaio_call_t *self = *self_p;
    if (!self) return;
    *self_p = NULL;
    assert (self->held);
    self->held = false;
    zaio_client_t *client = self->client;
    if (client && self->state != S_DONE) {
        //  Abandoned: forget it. A reply still due keeps it in `sent`.
        s_list_remove (self);
        self->state = S_DONE;
        s_timer_update (client, self);
        client->pending--;
    }
    s_call_maybe_free (self);
}

//  ---------------------------------------------------------------------
//  Blocking calls

//  Start req (with a copy of data for ops that take it) and wait. Returns
//  the completed call, or NULL with *rc = EINTR if interrupted.
static zaio_call_t *
s_call_sync (zaio_client_t *self, const zaio_request_t *req, const void *data, size_t size, int *rc)
{
    assert (self);
    zaio_buf_t *buf = NULL;
    if (zaio_op_takes_data (req->op)) {
        buf = zaio_buf_new (data, size);
        if (!buf) {
            *rc = ENOMEM;
            return NULL;
        }
    }
    zaio_call_t *call = zaio_client_start (self, req, &buf);
    if (zaio_call_wait (call, -1)) {
        zaio_call_destroy (&call);
        *rc = EINTR;
        return NULL;
    }
    *rc = call->error;
    return call;
}

//  Build a request for op on path; -1 (ENAMETOOLONG) if path is too long.
static int
s_request (zaio_request_t *req, zaio_op_t op, const char *path)
{
    zaio_request_init (req, op, 0);
    if (path && zaio_request_set_str (req, ZAIO_FIELD_PATH, path)) return ENAMETOOLONG;
    return 0;
}

//  Run a request whose reply carries nothing we need.
static int
s_simple (zaio_client_t *self, const zaio_request_t *req)
{
    int rc;
    zaio_call_t *call = s_call_sync (self, req, NULL, 0, &rc);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_ping (zaio_client_t *self)
{
    zaio_request_t req;
    s_request (&req, ZAIO_OP_PING, NULL);
    return s_simple (self, &req);
}

int
zaio_client_hello (zaio_client_t *self, zaio_hello_t *hello)
{
    assert (hello);
    zaio_request_t req;
    s_request (&req, ZAIO_OP_HELLO, NULL);
    int rc;
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call) rc = zaio_call_hello (call, hello);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_stats (zaio_client_t *self, uint32_t top, zaio_stats_report_t **report_p)
{
    assert (report_p);
    *report_p = NULL;
    if (top > ZAIO_STATS_TOP_MAX) return EINVAL;
    zaio_request_t req;
    s_request (&req, ZAIO_OP_STATS, NULL);
    if (top) zaio_request_set_uint (&req, ZAIO_FIELD_TOP, top);
    int rc;
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call) rc = zaio_call_stats (call, report_p);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_stat (zaio_client_t *self, const char *path, zaio_stat_t *stat)
{
    assert (path);
    assert (stat);
    memset (stat, 0, sizeof (*stat));
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_STAT, path);
    if (rc) return rc;
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call) rc = zaio_call_stat (call, stat);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_read (zaio_client_t *self, const char *path, uint64_t offset, uint64_t length,
                  zaio_buf_t **buf_p, bool *eof_p)
{
    assert (path);
    assert (buf_p);
    *buf_p = NULL;
    if (eof_p) *eof_p = false;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_READ, path);
    if (rc) return rc;
    if (offset) zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, offset);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, length);
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call && rc == 0) {
        *buf_p = zaio_call_take_data (call);
        if (eof_p) *eof_p = call->reply.eof;
    }
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_write (zaio_client_t *self, const char *path, uint64_t offset, const void *data,
                   size_t size, bool create)
{
    assert (path);
    assert (data || size == 0);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_WRITE, path);
    if (rc) return rc;
    if (offset) zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, offset);
    if (create) zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_call_t *call = s_call_sync (self, &req, data, size, &rc);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_append (zaio_client_t *self, const char *path, const void *data, size_t size,
                    bool create, uint64_t *offset_p)
{
    assert (path);
    assert (data || size == 0);
    if (offset_p) *offset_p = 0;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_APPEND, path);
    if (rc) return rc;
    if (create) zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_call_t *call = s_call_sync (self, &req, data, size, &rc);
    if (call && rc == 0 && offset_p) *offset_p = call->reply.offset;
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_readfile (zaio_client_t *self, const char *path, zaio_buf_t **buf_p)
{
    assert (path);
    assert (buf_p);
    *buf_p = NULL;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_READFILE, path);
    if (rc) return rc;
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call && rc == 0) *buf_p = zaio_call_take_data (call);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_writefile (zaio_client_t *self, const char *path, const void *data, size_t size)
{
    assert (path);
    assert (data || size == 0);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_WRITEFILE, path);
    if (rc) return rc;
    zaio_call_t *call = s_call_sync (self, &req, data, size, &rc);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_truncate (zaio_client_t *self, const char *path, uint64_t size)
{
    assert (path);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_TRUNCATE, path);
    if (rc) return rc;
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, size);
    return s_simple (self, &req);
}

int
zaio_client_fsync (zaio_client_t *self, const char *path, bool datasync)
{
    assert (path);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_FSYNC, path);
    if (rc) return rc;
    if (datasync) zaio_request_set_uint (&req, ZAIO_FIELD_DATASYNC, 1);
    return s_simple (self, &req);
}

int
zaio_client_unlink (zaio_client_t *self, const char *path)
{
    assert (path);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_UNLINK, path);
    return rc ? rc : s_simple (self, &req);
}

int
zaio_client_rename (zaio_client_t *self, const char *path, const char *to)
{
    assert (path);
    assert (to);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_RENAME, path);
    if (rc) return rc;
    if (zaio_request_set_str (&req, ZAIO_FIELD_TO, to)) return ENAMETOOLONG;
    return s_simple (self, &req);
}

int
zaio_client_mkdir (zaio_client_t *self, const char *path, bool parents)
{
    assert (path);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_MKDIR, path);
    if (rc) return rc;
    if (parents) zaio_request_set_uint (&req, ZAIO_FIELD_PARENTS, 1);
    return s_simple (self, &req);
}

int
zaio_client_rmdir (zaio_client_t *self, const char *path)
{
    assert (path);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_RMDIR, path);
    return rc ? rc : s_simple (self, &req);
}

int
zaio_client_listdir (zaio_client_t *self, const char *path, const char *after, uint32_t limit,
                     zaio_dirent_t **entries_p, size_t *count_p, bool *more_p)
{
    assert (path);
    assert (entries_p);
    assert (count_p);
    *entries_p = NULL;
    *count_p = 0;
    if (more_p) *more_p = false;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_LISTDIR, path);
    if (rc) return rc;
    if (after && *after && zaio_request_set_str (&req, ZAIO_FIELD_AFTER, after))
        return ENAMETOOLONG;
    if (limit) zaio_request_set_uint (&req, ZAIO_FIELD_LIMIT, limit);
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call) rc = zaio_call_entries (call, entries_p, count_p, more_p);
    zaio_call_destroy (&call);
    return rc;
}

int
zaio_client_copy (zaio_client_t *self, const char *path, const char *to, uint64_t *bytes_p)
{
    assert (path);
    assert (to);
    if (bytes_p) *bytes_p = 0;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_COPY, path);
    if (rc) return rc;
    if (zaio_request_set_str (&req, ZAIO_FIELD_TO, to)) return ENAMETOOLONG;
    zaio_call_t *call = s_call_sync (self, &req, NULL, 0, &rc);
    if (call && rc == 0 && bytes_p) *bytes_p = call->reply.bytes;
    zaio_call_destroy (&call);
    return rc;
}
