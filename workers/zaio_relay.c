/*  zaio_relay.c: one heartbeating broker connection in front of IO threads;
    see zaio_relay.h and schemas/PROTOCOL.md section 9. */

#include "zaio_relay.h"
#include "zaio_log.h"
#include "zaio_credit.h"
#include "zaio_fence.h"
#include "zaio_list.h"
#include "zaio_sock.h"
#include "zaio_worker_proto.h"

#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S_BACKOFF_MAX 32  //  heartbeat intervals between reconnects, at most
#define S_BATCH       256 //  messages taken from one socket per loop turn

//  A job handed to a thread: which broker connection it came on, and the
//  broker's number for it. The relay numbers jobs itself so a reply from
//  an earlier connection can never be taken for a job of the current one.
typedef struct {
    uint64_t epoch;
    uint64_t broker_number;
} s_held_t;

//  A job from the broker that no thread has yet: renumbered, its header
//  copied out of the broker's JOB, its data frame (if any) kept.
typedef struct {
    uint64_t local_number;
    zframe_t *data;
    size_t header_size;
    uint8_t header[];
} s_pending_t;

//  An IO thread as the relay sees it: a taker whose capacity is the credit
//  its READY offered, and the JOB being filled for it by s_dispatch.
typedef struct {
    zaio_taker_t taker;
    zframe_t *identity;
    void *seat;       //  in the relay's pool while it has credit, else NULL
    zaio_batch_t job; //  the JOB being filled for it
    zmsg_t *data;     //  that JOB's data frames
    bool touched;     //  listed in the relay's touched array
} s_thread_t;

//  The broker connection's states; s_relay_on has the table.
typedef enum {
    S_CONNECTING, //  READY sent on a fresh socket, the broker not heard on it yet
    S_CONNECTED,  //  the broker heard on this socket
    S_DRAINING,   //  BYE sent, the broker's BYE not come yet
    S_FINISHING,  //  the broker's BYE came, so no JOB can follow: finishing those held
    S_GONE        //  the actor ends
} s_state_t;

//  What moves the broker connection.
typedef enum {
    S_HEARD,         //  a message from the broker, whatever it is
    S_BYE_ANSWERED,  //  the broker's BYE
    S_SILENT,        //  broker_expiry_ms has come: nothing heard for that long
    S_HEARTBEAT_DUE, //  next_heartbeat_ms has come: no stamp sent for that long
    S_STOP,          //  $TERM from the actor's owner
    S_JOBS_DONE,     //  no job of the connection left, queued or running
    S_DRAIN_TIME_UP  //  stop_deadline_ms has come
} s_event_t;

typedef struct {
    zsock_t *pipe;
    zaio_relay_config_t config;
    char host[64];
    char endpoint[64]; //  inproc endpoint the threads connect to
    zsock_t *upstream; //  DEALER to the broker
    zsock_t *monitor;  //  PAIR of upstream's monitor: refused handshakes
    bool refused;      //  a refusal of upstream's handshake was logged
    zsock_t *local;    //  ROUTER for the threads
    zactor_t **threads;
    uint32_t thread_count;
    zhashx_t *thread_table; //  hex identity -> s_thread_t
    zaio_credit_t *pool;    //  the threads with credit
    zlistx_t *backlog;      //  s_pending_t * jobs waiting for a thread with credit
    s_thread_t **touched;   //  threads whose JOB s_dispatch is filling
    zaio_batch_t done;      //  the DONE to the broker being filled
    zmsg_t *done_data;      //  its data frames
    zhashx_t *held;         //  relay job number (text) -> s_held_t
    zaio_fence_t *fence;    //  the threads read it before each job (zaio_fence.h)
    uint32_t credit;        //  offered to the broker: threads x credit, capped
    uint64_t next_number;
    uint64_t epoch;
    s_state_t state;
    int64_t broker_expiry_ms;  //  the broker is presumed gone after this
    int64_t next_heartbeat_ms; //  the next HEARTBEAT goes then, busy or not
    int64_t stop_deadline_ms;  //  the drain time is up; none (INT64_MAX) before STOP
    uint32_t backoff;          //  heartbeat intervals a fresh connection waits, at least
} s_relay_t;

static void
s_held_free (void **item)
{
    s_held_t *held = (s_held_t *)*item;
    if (held) {
        free (held);
        *item = NULL;
    }
}

static void
s_thread_free (void **item)
{
    s_thread_t *thread = (s_thread_t *)*item;
    if (thread) {
        zframe_destroy (&thread->identity);
        zaio_batch_release (&thread->job);
        zmsg_destroy (&thread->data);
        free (thread);
        *item = NULL;
    }
}

//  Sends to the broker without ever blocking or dropping: the socket has
//  no high-water mark, since credit bounds the DONEs that can queue on it
//  and a silent broker's socket is replaced, heartbeats and all. A send
//  fails only on a socket that takes nothing more (the context is ending);
//  that message is dropped.
static void
s_send_upstream (s_relay_t *self, zmsg_t **msg_p)
{
    if (zmsg_send (msg_p, self->upstream)) zmsg_destroy (msg_p);
}

//  A stamped message (READY, HEARTBEAT, BYE) has gone: the next HEARTBEAT
//  is due one interval later. DONEs do not put it off: the broker's fences
//  are only as fresh as the stamps it hears.
static void
s_stamped (s_relay_t *self)
{
    self->next_heartbeat_ms = zclock_mono () + self->config.heartbeat_ms;
}

//  Sends a bare command (HEARTBEAT, BYE) to the broker, stamped with our
//  clock, as s_send_upstream.
static void
s_send_command (s_relay_t *self, zaio_worker_command_t command)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (command, zaio_fence_clock_us ())});
    s_send_upstream (self, &msg);
    s_stamped (self);
}

//  A held job's key in self->held: its relay job number, as text.
static void
s_held_key (char *key, size_t size, uint64_t local_number)
{
    snprintf (key, size, "%" PRIu64, local_number);
}

//  The command of a message's envelope (its first frame) and its job
//  number, or -1.
static int
s_envelope (zmsg_t *msg, uint64_t *job)
{
    zframe_t *frame = zmsg_first (msg);
    return frame ? zaio_envelope_get (zframe_data (frame), zframe_size (frame), job) : -1;
}

//  Forgets the jobs no thread has been given, all of the connection being
//  replaced: the broker has answered them (UNKNOWN_OUTCOME) or sent them
//  to another worker, and run now they could undo newer work. Jobs a thread
//  holds cannot be called back; their DONEs are dropped (see s_held_t).
//  Returns how many were dropped.
static size_t
s_drop_backlog (s_relay_t *self)
{
    size_t count = zlistx_size (self->backlog);
    for (s_pending_t *job = (s_pending_t *)zlistx_first (self->backlog); job;
         job = (s_pending_t *)zlistx_next (self->backlog)) {
        char key[24];
        s_held_key (key, sizeof key, job->local_number);
        zhashx_delete (self->held, key);
    }
    zlistx_purge (self->backlog);
    return count;
}

//  Close the broker connection and its monitor, if open. The monitor
//  stops first: the events of the close would block ZeroMQ's I/O thread
//  on a pipe nobody reads.
static void
s_disconnect (s_relay_t *self)
{
    if (self->monitor) zmq_socket_monitor (zsock_resolve (self->upstream), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->upstream);
}

//  Watch upstream, about to connect, for the broker refusing its
//  handshake: ZeroMQ retries such a connection by itself, and without the
//  monitor a refused worker would only see a silent broker.
static void
s_open_monitor (s_relay_t *self)
{
    char endpoint[96];
    zaio_sock_inproc_name (endpoint, sizeof endpoint, "zaio-relay-monitor");
    int rc =
        zmq_socket_monitor (zsock_resolve (self->upstream), endpoint,
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    assert (rc == 0);
    self->monitor = zsock_new (ZMQ_PAIR);
    assert (self->monitor);
    rc = zsock_connect (self->monitor, "%s", endpoint);
    assert (rc == 0);
    self->refused = false;
}

//  Log the first refusal the monitor reports for this connection (the
//  retries that follow are refused alike). Returns false once drained.
static bool
s_handle_monitor (s_relay_t *self)
{
    uint16_t event;
    uint32_t value;
    if (zaio_sock_monitor_event (zsock_resolve (self->monitor), &event, &value)) return false;
    const char *why = zaio_curve_refusal (event, value, self->config.curve != NULL);
    if (why && !self->refused) {
        zaio_log_error ("relay", "%s refused this worker: %s", self->config.broker, why);
        self->refused = true;
    }
    return true;
}

//  A fresh socket and READY: after a silent broker, a new connection is
//  the only way to be sure the broker knows us. Jobs the threads hold of
//  the old one will not start: the fence moves to the new connection.
static void
s_connect (s_relay_t *self)
{
    size_t dropped = s_drop_backlog (self);
    if (dropped)
        zaio_log_warning ("relay",
                          "%zu jobs of the old connection dropped unrun: the broker has "
                          "answered them",
                          dropped);
    //  Completions of the old connection not sent yet go nowhere.
    if (self->done.count) {
        zaio_batch_start (&self->done, ZAIO_WORKER_DONE, 0);
        zmsg_destroy (&self->done_data);
        self->done_data = zmsg_new ();
    }
    zaio_fence_connection (self->fence, self->next_number + 1);
    s_disconnect (self);
    self->upstream = zsock_new (ZMQ_DEALER);
    assert (self->upstream);
    zsock_set_linger (self->upstream, 0);
    zsock_set_sndtimeo (self->upstream, 0);
    zsock_set_sndhwm (self->upstream, 0);   //  bounded by credit: see s_send_upstream
    zsock_set_rcvtimeo (self->upstream, 0); //  handlers take messages until EAGAIN
    zsock_set_maxmsgsize (self->upstream, (int64_t)self->config.payload_max + 64 * 1024);
    zsock_set_reconnect_ivl (self->upstream, 100);
    zsock_set_reconnect_ivl_max (self->upstream, (int)self->config.heartbeat_ms);
    if (self->config.curve) zaio_curve_apply (self->config.curve, zsock_resolve (self->upstream));
    if (strncmp (self->config.broker, "inproc://", 9)) s_open_monitor (self);
    if (zsock_connect (self->upstream, "%s", self->config.broker))
        zaio_log_error ("relay", "cannot connect to %s", self->config.broker);
    self->epoch++;
    int64_t now = zclock_mono ();
    uint32_t patience = self->config.heartbeat_ms * self->config.heartbeat_misses;
    uint32_t wait = self->config.heartbeat_ms * self->backoff;
    self->broker_expiry_ms = now + (wait > patience ? wait : patience);
    zmsg_t *ready =
        zaio_worker_ready_message (self->config.volumes, self->config.volume_count, self->credit,
                                   self->host, 0, self->config.heartbeat_ms);
    s_send_upstream (self, &ready);
    s_stamped (self);
    if (self->config.verbose)
        zaio_log_info ("relay", "connected to %s (connection %" PRIu64 ")", self->config.broker,
                       self->epoch);
}

//  The message of a batch being filled (its entries frame, then the data
//  frames gathered in *data_p, which starts afresh), or NULL if it holds
//  no entry.
static zmsg_t *
s_batch_message (zaio_batch_t *batch, zmsg_t **data_p)
{
    if (batch->count == 0) return NULL;
    zmsg_t *msg = *data_p;
    *data_p = zmsg_new ();
    zmsg_prepend (msg, &(zframe_t *){zaio_batch_frame (batch)});
    return msg;
}

//  Sends thread the JOB filled for it, if any: [identity][entries][data...].
//  Its fence is 0: the threads read the connection's newest fence from
//  the shared one (zaio_fence.h), which every JOB of the broker's moved
//  on before its jobs got here.
static void
s_send_thread (s_relay_t *self, s_thread_t *thread)
{
    zmsg_t *msg = s_batch_message (&thread->job, &thread->data);
    if (!msg) return;
    zmsg_prepend (msg, &(zframe_t *){zframe_dup (thread->identity)});
    if (zmsg_send (&msg, self->local)) zmsg_destroy (&msg);
}

//  Puts a job (its local number, header and data frame: taken, may be
//  NULL) in the JOB being filled for the thread whose taker the pool
//  picked, sends that JOB if it is full, and takes the thread's credit.
//  The thread goes on touched (count in *touched_p) for s_send_touched.
static void
s_give (s_relay_t *self, zaio_taker_t *taker, uint32_t *touched_p, uint64_t local_number,
        const void *header, size_t header_size, zframe_t **data_p)
{
    s_thread_t *thread = ZAIO_HOLDER (taker, s_thread_t, taker);
    if (thread->job.count == 0) zaio_batch_start (&thread->job, ZAIO_WORKER_JOB, 0);
    if (!thread->touched) {
        thread->touched = true;
        self->touched[(*touched_p)++] = thread;
    }
    zaio_batch_add_job (&thread->job, local_number, header, header_size, *data_p != NULL,
                        *data_p ? zframe_size (*data_p) : 0);
    if (*data_p) zmsg_append (thread->data, data_p);
    if (zaio_batch_full (&thread->job)) s_send_thread (self, thread);
    if (zaio_taker_took (&thread->taker)) {
        zaio_credit_unseat (self->pool, thread->seat);
        thread->seat = NULL;
    } else
        zaio_credit_used (self->pool, thread->seat);
}

//  Sends each touched thread the JOB filled for it in this round.
static void
s_send_touched (s_relay_t *self, uint32_t touched)
{
    for (uint32_t i = 0; i < touched; i++) {
        s_send_thread (self, self->touched[i]);
        self->touched[i]->touched = false;
    }
}

//  Hands backlog jobs, oldest first, to threads with credit: each to the
//  one the pool picks (zaio_credit.h: the most credit left, then the one
//  that waited longest), the rule the broker follows for workers. The jobs
//  a thread gets in one round go as one JOB (more only when one fills:
//  zaio_batch_full), so a broker's JOB reaches the threads in as few
//  messages as its split by credit allows.
static void
s_dispatch (s_relay_t *self)
{
    zaio_taker_t *taker;
    uint32_t touched = 0;
    while (zlistx_size (self->backlog) && (taker = zaio_credit_pick (self->pool, false, NULL))) {
        s_pending_t *job = (s_pending_t *)zlistx_detach (self->backlog, NULL); //  first, not freed
        s_give (self, taker, &touched, job->local_number, job->header, job->header_size,
                &job->data);
        free (job);
    }
    s_send_touched (self, touched);
}

//  JOB from the broker: [envelope and entries][data...]. Each job is
//  renumbered and goes to a thread as s_dispatch would send it; only
//  those no thread has credit for are copied into the backlog (the relay
//  offers the broker no more credit than its threads have, so that is
//  rare: around a reconnect). A malformed JOB is dropped whole, with a
//  log line. Takes the message.
static void
s_handle_job (s_relay_t *self, zmsg_t **msg_p)
{
    zmsg_t *msg = *msg_p;
    zframe_t *first = zmsg_first (msg);
    zaio_entries_t entries;
    if (zmsg_size (msg) > ZAIO_WORKER_PARTS_MAX ||
        zaio_entries_open (&entries, zframe_data (first), zframe_size (first),
                           zmsg_size (msg) - 1)) {
        zaio_log_warning ("relay", "malformed JOB dropped");
        zmsg_destroy (msg_p);
        return;
    }
    zaio_fence_extend (self->fence, entries.number);
    zframe_t *head = zmsg_pop (msg);
    zaio_entry_t entry;
    uint32_t touched = 0;
    zaio_taker_t *taker;
    while (zaio_entries_next (&entries, &entry)) {
        s_held_t *held = (s_held_t *)zmalloc (sizeof (s_held_t));
        held->epoch = self->epoch;
        held->broker_number = entry.job;
        uint64_t local_number = ++self->next_number;
        char key[24];
        s_held_key (key, sizeof key, local_number);
        zhashx_insert (self->held, key, held);
        zframe_t *data = entry.has_data ? zmsg_pop (msg) : NULL;
        if (zlistx_size (self->backlog) == 0 &&
            (taker = zaio_credit_pick (self->pool, false, NULL))) {
            s_give (self, taker, &touched, local_number, entry.header, entry.header_size, &data);
            continue;
        }
        s_pending_t *job = (s_pending_t *)zmalloc (sizeof (s_pending_t) + entry.header_size);
        job->local_number = local_number;
        job->header_size = entry.header_size;
        memcpy (job->header, entry.header, entry.header_size);
        job->data = data;
        zlistx_add_end (self->backlog, job);
    }
    s_send_touched (self, touched);
    zframe_destroy (&head);
    zmsg_destroy (msg_p);
    s_dispatch (self); //  the backlog, should credit have come back meanwhile
}

//  Sends the broker the DONE being filled, if it holds any completion.
static void
s_send_done (s_relay_t *self)
{
    zmsg_t *msg = s_batch_message (&self->done, &self->done_data);
    if (msg) s_send_upstream (self, &msg);
}

//  ---------------------------------------------------------------------
//  The broker connection

//  Anything from the broker proves it is there: the full patience again,
//  and the shortest backoff for the next reconnect.
static void
s_broker_heard (s_relay_t *self)
{
    self->broker_expiry_ms =
        zclock_mono () + (int64_t)self->config.heartbeat_ms * self->config.heartbeat_misses;
    self->backoff = 1;
}

//  The broker fell silent: a fresh connection, each waiting twice as long
//  as the last (up to S_BACKOFF_MAX intervals) while the broker stays away.
static void
s_reconnect (s_relay_t *self)
{
    zaio_log_warning ("relay", "broker %s silent, reconnecting", self->config.broker);
    if (self->backoff < S_BACKOFF_MAX) self->backoff *= 2;
    s_connect (self);
}

//  Take nothing new, finish what we hold, then go: BYE, and drain_ms for it.
static void
s_say_bye (s_relay_t *self)
{
    self->stop_deadline_ms = zclock_mono () + self->config.drain_ms;
    s_send_command (self, ZAIO_WORKER_BYE);
}

//  The last DONEs may not have left yet: give them what is left of the
//  drain time (at linger 0 libzmq would drop them, and the broker would
//  take us for dead with those jobs).
static void
s_linger (s_relay_t *self)
{
    int64_t now = zclock_mono ();
    if (now < self->stop_deadline_ms)
        zsock_set_linger (self->upstream, (int)(self->stop_deadline_ms - now));
}

//  One case label per (state, event) pair of the table in s_relay_on.
#define S_ON(state, event) ((int)(state) << 8 | (int)(event))

//  Moves the broker connection on event. The table, to check against
//  PROTOCOL.md section 9 (READY, HEARTBEAT, BYE, a replaced connection)
//  and 10 (expiry and backoff), and README's "What happens when something
//  dies" (the broker restarts; a worker is stopped):
//
//    state                  event          action                               next
//    CONNECTING, CONNECTED  HEARD          expiry heartbeat x misses from now;  CONNECTED
//                                          backoff 1
//    DRAINING, FINISHING    HEARD          the same                             (same)
//    CONNECTING, CONNECTED  SILENT         backoff x 2, up to S_BACKOFF_MAX;    CONNECTING
//                                          drop the backlog; fresh socket and
//                                          READY; expiry heartbeat x max
//                                          (backoff, misses) from now
//    all but GONE           HEARTBEAT_DUE  HEARTBEAT                            (same)
//    CONNECTING, CONNECTED  STOP           BYE; drain deadline drain_ms on      DRAINING
//    DRAINING               BYE_ANSWERED   -                                    FINISHING
//    FINISHING              JOBS_DONE      linger up to the drain deadline      GONE
//    DRAINING, FINISHING    SILENT         - (nobody waits for the rest)        GONE
//    DRAINING, FINISHING    DRAIN_TIME_UP  -                                    GONE
//
//  Any other pair changes nothing: a second STOP, a BYE from the broker
//  unasked, JOBS_DONE before the broker's BYE (a JOB may still be on its
//  way). JOBs and DONEs flow in every state but GONE, outside the table:
//  a JOB that comes while DRAINING was sent before the broker's BYE, and
//  runs.
static void
s_relay_on (s_relay_t *self, s_event_t event)
{
    switch (S_ON (self->state, event)) {
        case S_ON (S_CONNECTING, S_HEARD):
        case S_ON (S_CONNECTED, S_HEARD):
            s_broker_heard (self);
            self->state = S_CONNECTED;
            break;
        case S_ON (S_DRAINING, S_HEARD):
        case S_ON (S_FINISHING, S_HEARD):
            s_broker_heard (self);
            break;
        case S_ON (S_CONNECTING, S_SILENT):
        case S_ON (S_CONNECTED, S_SILENT):
            s_reconnect (self);
            self->state = S_CONNECTING;
            break;
        case S_ON (S_CONNECTING, S_HEARTBEAT_DUE):
        case S_ON (S_CONNECTED, S_HEARTBEAT_DUE):
        case S_ON (S_DRAINING, S_HEARTBEAT_DUE):
        case S_ON (S_FINISHING, S_HEARTBEAT_DUE):
            s_send_command (self, ZAIO_WORKER_HEARTBEAT);
            break;
        case S_ON (S_CONNECTING, S_STOP):
        case S_ON (S_CONNECTED, S_STOP):
            s_say_bye (self);
            self->state = S_DRAINING;
            break;
        case S_ON (S_DRAINING, S_BYE_ANSWERED):
            self->state = S_FINISHING;
            break;
        case S_ON (S_FINISHING, S_JOBS_DONE):
            s_linger (self);
            self->state = S_GONE;
            break;
        case S_ON (S_DRAINING, S_SILENT):
        case S_ON (S_FINISHING, S_SILENT):
        case S_ON (S_DRAINING, S_DRAIN_TIME_UP):
        case S_ON (S_FINISHING, S_DRAIN_TIME_UP):
            self->state = S_GONE;
            break;
        default:
            break;
    }
}

//  A command from the actor's owner: $TERM stops the relay; others are
//  ignored.
static void
s_handle_pipe (s_relay_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (command && streq (command, "$TERM")) s_relay_on (self, S_STOP);
    zstr_free (&command);
}

//  One message from the broker; false if none was waiting. Every message
//  is HEARD, a BYE is BYE_ANSWERED besides, and a JOB goes to a thread.
//  The fence each carries (a JOB's after its number, a HEARTBEAT's or
//  BYE's as its number) moves the threads' on before a JOB reaches them.
static bool
s_handle_upstream (s_relay_t *self)
{
    zmsg_t *msg = zmsg_recv (self->upstream);
    if (!msg) return false;
    s_relay_on (self, S_HEARD);
    uint64_t number;
    int command = s_envelope (msg, &number);
    if (command == -1)
        zaio_log_warning ("relay", "message without a %s envelope dropped", ZAIO_WORKER_SIGNATURE);
    else if (command == ZAIO_WORKER_JOB)
        s_handle_job (self, &msg);
    else if (command == ZAIO_WORKER_BYE) {
        zaio_fence_extend (self->fence, number);
        s_relay_on (self, S_BYE_ANSWERED);
    } else if (command == ZAIO_WORKER_HEARTBEAT)
        zaio_fence_extend (self->fence, number);
    else
        zaio_log_warning ("relay", "unexpected command from broker dropped");
    zmsg_destroy (&msg);
    return true;
}

//  A thread's DONE, [envelope and entries][data...]: each completion of a
//  job of the current connection joins the DONE to the broker, with the
//  broker's number for the job; those of a replaced connection are
//  dropped. Credit comes back for each. It goes when full, or once the
//  threads' messages waiting are taken in (s_relay_actor): what is ready
//  goes, never waiting for more.
static void
s_take_done (s_relay_t *self, s_thread_t *thread, zmsg_t *msg)
{
    zframe_t *first = zmsg_first (msg);
    zaio_entries_t entries;
    if (zmsg_size (msg) > ZAIO_WORKER_PARTS_MAX ||
        zaio_entries_open (&entries, zframe_data (first), zframe_size (first),
                           zmsg_size (msg) - 1)) {
        zaio_log_warning ("relay", "malformed DONE from a thread dropped");
        return;
    }
    zframe_t *head = zmsg_pop (msg); //  the entries point into it
    zaio_entry_t entry;
    while (zaio_entries_next (&entries, &entry)) {
        zframe_t *data = entry.has_data ? zmsg_pop (msg) : NULL;
        char number_key[24];
        s_held_key (number_key, sizeof number_key, entry.job);
        s_held_t *held = (s_held_t *)zhashx_lookup (self->held, number_key);
        if (held && held->epoch == self->epoch) {
            if (self->done.count == 0) zaio_batch_start (&self->done, ZAIO_WORKER_DONE, 0);
            zaio_batch_add_done (&self->done, held->broker_number, &entry.outcome, entry.header,
                                 entry.header_size, data != NULL, data ? zframe_size (data) : 0);
            if (data) zmsg_append (self->done_data, &data);
            if (zaio_batch_full (&self->done)) s_send_done (self);
        }
        zframe_destroy (&data);
        if (held) zhashx_delete (self->held, number_key);
        if (zaio_taker_returned (&thread->taker))
            thread->seat = zaio_credit_seat (self->pool, &thread->taker);
    }
    zframe_destroy (&head);
}

//  From a thread: READY (its credit) or DONE (s_take_done). False if no
//  message was waiting.
static bool
s_handle_local (s_relay_t *self)
{
    zmsg_t *msg = zmsg_recv (self->local);
    if (!msg) return false;
    zframe_t *identity = zmsg_pop (msg);
    uint64_t local_number;
    int command = s_envelope (msg, &local_number);
    char *key = zframe_strhex (identity);
    s_thread_t *thread = (s_thread_t *)zhashx_lookup (self->thread_table, key);
    if (command == ZAIO_WORKER_READY) {
        zframe_t *body = zmsg_next (msg);
        zaio_ready_t ready;
        if (!thread && body &&
            zaio_ready_decode (&ready, zframe_data (body), zframe_size (body)) == 0) {
            thread = (s_thread_t *)zmalloc (sizeof (s_thread_t));
            thread->identity = zframe_dup (identity);
            thread->taker.credit = thread->taker.capacity = ready.credit;
            zaio_batch_init (&thread->job);
            thread->data = zmsg_new ();
            thread->seat = zaio_credit_seat (self->pool, &thread->taker);
            zhashx_insert (self->thread_table, key, thread);
        }
    } else if (thread && command == ZAIO_WORKER_DONE)
        s_take_done (self, thread, msg);
    s_dispatch (self);
    zstr_free (&key);
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
    return true;
}

//  Jobs of the current connection not yet answered.
static size_t
s_current_jobs (s_relay_t *self)
{
    size_t count = 0;
    for (s_held_t *held = (s_held_t *)zhashx_first (self->held); held;
         held = (s_held_t *)zhashx_next (self->held))
        count += held->epoch == self->epoch;
    return count;
}

//  Raises the events the counts and the clock bring, once the loop has
//  taken in what arrived. JOBS_DONE first: a relay that has finished
//  leaves with its linger even if the broker fell silent meanwhile. It is
//  looked for only where the table uses it, since counting walks every
//  held job. A SILENT that reconnects sends READY, which puts the
//  heartbeat off; after GONE nothing more happens.
static void
s_relay_tick (s_relay_t *self)
{
    if (self->state == S_FINISHING && s_current_jobs (self) == 0) s_relay_on (self, S_JOBS_DONE);
    int64_t now = zclock_mono ();
    if (now >= self->broker_expiry_ms) s_relay_on (self, S_SILENT);
    if (now >= self->stop_deadline_ms) s_relay_on (self, S_DRAIN_TIME_UP);
    if (now >= self->next_heartbeat_ms) s_relay_on (self, S_HEARTBEAT_DUE);
}

//  Milliseconds the loop may wait for input: until the next heartbeat,
//  the broker's expiry or the drain deadline, whichever comes first.
static long
s_relay_timeout (s_relay_t *self)
{
    int64_t wake = self->next_heartbeat_ms;
    if (self->broker_expiry_ms < wake) wake = self->broker_expiry_ms;
    if (self->stop_deadline_ms < wake) wake = self->stop_deadline_ms;
    int64_t now = zclock_mono ();
    return wake > now ? (long)(wake - now) : 0;
}

static void
s_backlog_free (void **item)
{
    s_pending_t *job = (s_pending_t *)*item;
    if (job) {
        zframe_destroy (&job->data);
        free (job);
        *item = NULL;
    }
}

//  Stops the threads (each after the job it is running), then frees the
//  relay: queued jobs unrun, the broker socket at the linger it has (0,
//  or what s_linger gave it). Nulls *self_p; idempotent.
static void
s_relay_destroy (s_relay_t **self_p)
{
    s_relay_t *self = *self_p;
    if (!self) return;
    for (uint32_t i = 0; i < self->thread_count; i++) zaio_worker_destroy (&self->threads[i]);
    free (self->threads);
    zaio_credit_destroy (&self->pool);
    zlistx_destroy (&self->backlog);
    zhashx_destroy (&self->thread_table);
    zhashx_destroy (&self->held);
    zaio_fence_destroy (&self->fence); //  the threads that read it have stopped
    free (self->touched);
    zaio_batch_release (&self->done);
    zmsg_destroy (&self->done_data);
    zsock_destroy (&self->local);
    s_disconnect (self);
    free (self);
    *self_p = NULL;
}

//  Starts the IO threads, connected to self->local; they announce
//  themselves with READY there. -1 if one cannot start (those started are
//  stopped with the relay).
static int
s_start_threads (s_relay_t *self)
{
    self->threads = (zactor_t **)zmalloc (sizeof (zactor_t *) * self->config.threads);
    for (uint32_t i = 0; i < self->config.threads; i++) {
        zaio_worker_config_t worker = {
            .endpoint = self->endpoint,
            .volumes = self->config.volumes,
            .volume_count = self->config.volume_count,
            .credit = self->config.credit,
            .payload_max = self->config.payload_max,
            .slot = i,
            .fence = self->fence,
        };
        self->threads[i] = zaio_worker_new (&worker);
        if (!self->threads[i]) return -1;
        self->thread_count++;
    }
    return 0;
}

//  A relay with its threads started and READY sent on its first broker
//  connection (CONNECTING); config is copied, its strings and volumes
//  borrowed. NULL if the inproc endpoint or a thread cannot start.
static s_relay_t *
s_relay_new (zsock_t *pipe, const zaio_relay_config_t *config)
{
    s_relay_t *self = (s_relay_t *)zmalloc (sizeof (s_relay_t));
    self->pipe = pipe;
    self->config = *config;
    if (config->name)
        snprintf (self->host, sizeof self->host, "%s", config->name);
    else if (gethostname (self->host, sizeof self->host - 1))
        strcpy (self->host, "localhost");
    self->thread_table = zhashx_new ();
    zhashx_set_destructor (self->thread_table, s_thread_free);
    self->pool = zaio_credit_new ();
    self->backlog = zlistx_new ();
    zlistx_set_destructor (self->backlog, s_backlog_free);
    self->held = zhashx_new ();
    zhashx_set_destructor (self->held, s_held_free);
    self->fence = zaio_fence_new ();
    self->touched = (s_thread_t **)zmalloc (sizeof (s_thread_t *) * config->threads);
    zaio_batch_init (&self->done);
    self->done_data = zmsg_new ();
    self->backoff = 1;
    self->stop_deadline_ms = INT64_MAX;
    //  The broker drops a READY that offers more as malformed. Capped, the
    //  credit still gives every thread work: there are no more threads
    //  than ZAIO_CREDIT_MAX, and s_dispatch hands each job to the thread
    //  with the most credit left.
    uint32_t wanted = config->threads * config->credit;
    self->credit = wanted < ZAIO_CREDIT_MAX ? wanted : ZAIO_CREDIT_MAX;
    if (self->credit < wanted)
        zaio_log_notice ("relay",
                         "%u threads x %u credit capped to %u jobs at once, the most a READY "
                         "may offer",
                         config->threads, config->credit, self->credit);
    self->local = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->local, 1);
    zsock_set_sndhwm (self->local, 0); //  bounded by credit
    zsock_set_rcvhwm (self->local, 0);
    zsock_set_rcvtimeo (self->local, 0);
    zaio_sock_inproc_name (self->endpoint, sizeof self->endpoint, "zaio-relay");
    if (zsock_bind (self->local, "%s", self->endpoint) < 0) {
        s_relay_destroy (&self);
        return NULL;
    }
    if (s_start_threads (self)) {
        s_relay_destroy (&self);
        return NULL;
    }
    self->state = S_CONNECTING;
    s_connect (self);
    return self;
}

//  The relay's thread: signals its status twice (zactor_new, then
//  zaio_relay_new), then runs until the broker connection is GONE: after
//  $TERM, when the jobs are done, the broker is silent or the drain time
//  is up. Input first, then the clock's events (s_relay_tick).
static void
s_relay_actor (zsock_t *pipe, void *args)
{
    prctl (PR_SET_NAME, "zaio-relay");
    s_relay_t *self = s_relay_new (pipe, (const zaio_relay_config_t *)args);
    //  zactor_new consumes the first signal; the second carries our status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, self ? 0 : 1);
    if (!self) return;
    while (self->state != S_GONE) {
        zmq_pollitem_t items[] = {
            {zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->upstream), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->local), 0, ZMQ_POLLIN, 0},
            {self->monitor ? zsock_resolve (self->monitor) : NULL, 0, ZMQ_POLLIN, 0}};
        int count = self->monitor ? 4 : 3;
        if (zmq_poll (items, count, s_relay_timeout (self)) < 0) continue; //  EINTR: main's
        if (items[0].revents & ZMQ_POLLIN) s_handle_pipe (self);
        //  What has arrived, in batches: one poll per burst, not per message.
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < S_BATCH && s_handle_upstream (self); i++) {
            }
        if (items[2].revents & ZMQ_POLLIN) {
            for (int i = 0; i < S_BATCH && s_handle_local (self); i++) {
            }
            //  The threads' completions taken in go now, however few.
            s_send_done (self);
        }
        if (count == 4 && (items[3].revents & ZMQ_POLLIN))
            while (s_handle_monitor (self)) continue;
        s_relay_tick (self);
    }
    s_relay_destroy (&self);
}

zactor_t *
zaio_relay_new (const zaio_relay_config_t *config)
{
    assert (config && config->broker && config->threads >= 1 && config->credit >= 1);
    assert (config->threads <= ZAIO_CREDIT_MAX && config->credit <= ZAIO_CREDIT_MAX);
    assert (config->volume_count >= 1 && config->heartbeat_ms >= 1);
    zactor_t *actor = zactor_new (s_relay_actor, (void *)config);
    if (actor && zsock_wait (actor) != 0) zactor_destroy (&actor);
    return actor;
}

void
zaio_relay_destroy (zactor_t **self_p)
{
    zactor_destroy (self_p);
}
