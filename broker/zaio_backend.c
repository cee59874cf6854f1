/*  zaio_backend.c: worker connections and their state machine; see
    zaio_backend.h.

    A connection's life, checked against PROTOCOL.md section 9. A
    connection the table does not hold is unknown; every message from a
    known one renews its expiry (heartbeat_ms x heartbeat_misses of its
    own interval), and a READY, HEARTBEAT or BYE gives its newest stamp.

      state      event            action                                    next
      unknown    READY (valid)    seat it in its volumes' pools, dispatch   ACTIVE
      unknown    READY (invalid)  log, ignore                               unknown
      unknown    anything else    log, drop                                 unknown
      known      READY            forget it (REPLACED), then as unknown     ACTIVE
      ACTIVE     DONE             answer its jobs, credit back, dispatch    ACTIVE
      ACTIVE     BYE              BYE back, no more credit                  LEAVING
      LEAVING    DONE             answer its jobs                           LEAVING
      LEAVING    BYE              BYE back                                  LEAVING
      known      HEARTBEAT        HEARTBEAT back, with a fresh fence        same
      known      STALE_DONE       log, ignore (see below)                   same
      LEAVING    holds no job     forget it                                 unknown
      known      BAD_ENVELOPE,    forget it: retry or fail its jobs         unknown
                 BAD_DONE,
                 UNEXPECTED
      known      SILENT (tick)    forget it: retry or fail its jobs         unknown

    A DONE for a job the connection no longer holds (presumed lost, and
    answered or retried already) is stale: the client has its one reply.
    A DONE carries many completions (PROTOCOL.md section 9): each is
    answered or found stale in turn, and the connection is forgotten
    (LEAVING, holding none) only after the last.

    JOBs go out batched: zaio_backend_hand_over only notes a job as the
    connection's (credit taken, held), and zaio_backend_flush, at the end
    of dispatch's round, sends each connection the jobs noted for it as
    one JOB (more only past ZAIO_WORKER_BATCH_BYTES), so a client batch
    split across workers by credit costs each worker one message.

    Fences (zaio_fence.h): every JOB, HEARTBEAT and BYE to a heartbeated
    worker carries the newest stamp heard from it plus the window after
    which this class presumes it dead, less a margin (s_fence). Its expiry
    is renewed at least as late as that stamp was heard, so the worker,
    which starts no non-idempotent job at or past the fence by its clock,
    never starts one this class has given up on by expiry.
*/

#include "zaio_backend.h"
#include "zaio_log.h"
#include "zaio_broker.h"
#include "zaio_fence.h"

//  Taken off every fence: a millisecond, since the expiry is kept in
//  milliseconds and may fire up to one before a microsecond clock would;
//  and 1/S_FENCE_RATE of the window, for the two clocks' rates, each of
//  which NTP may slew by up to 500 ppm from real time, plus drift.
#define S_FENCE_MARGIN_US 1000
#define S_FENCE_RATE      500

typedef enum { S_ACTIVE, S_LEAVING } s_state_t;

typedef enum {
    E_DONE,         //  a valid DONE (its completions, held or stale)
    E_BYE,          //  it asks to leave
    E_HEARTBEAT,    //  it is alive
    E_BAD_ENVELOPE, //  a message without a ZAIOW/5 envelope
    E_BAD_DONE,     //  a DONE whose parts or outcome are malformed
    E_UNEXPECTED,   //  a command a worker does not send
    E_SILENT,       //  its expiry passed
    E_REPLACED,     //  it announced itself again
} s_event_t;

//  A message from a worker, as the state machine sees it.
typedef struct {
    uint64_t number;        //  its envelope's number
    zaio_entries_t entries; //  a DONE's completions
    zmq_msg_t *parts;       //  [routing id][envelope and entries][data...]
    int count;
} s_message_t;

struct _zaio_workerconn_t {
    zaio_taker_t taker;         //  its credit, seen by its volumes' pools
    zaio_routing_id_t identity; //  its key in the table
    char name[128];             //  HOST/PID/SLOT for events
    s_state_t state;
    zaio_list_t jobs; //  of job->held: the jobs it holds
    //  The jobs handed over since the last flush: the last `pending` of
    //  jobs, from pending_first on; linked in the backend's pending list.
    zaio_link_t *pending_first;
    uint32_t pending;
    zaio_link_t flush;
    zaio_service_t *services[ZAIO_WORKER_VOLUMES_MAX];
    void *seats[ZAIO_WORKER_VOLUMES_MAX]; //  in each service's pool, while it has credit
    uint32_t service_count;
    uint32_t heartbeat_ms; //  0: in-process, never expires
    uint64_t stamp_us;     //  the newest stamp heard from it, on its clock
    int64_t expiry_ms;
    int64_t next_heartbeat_ms;
};

struct _zaio_backend_t {
    void *router;
    zaio_jobs_t *jobs;
    zaio_dispatch_t *dispatch;
    zaio_backend_config_t config;
    zaio_backend_hooks_t hooks;
    zhashx_t *table;    //  routing id -> zaio_workerconn_t
    bool no_retries;    //  the broker is stopping
    zaio_list_t flush;  //  of worker->flush: connections with jobs to send
    zaio_batch_t batch; //  the JOB being written
};

static void
s_worker_free (void **item)
{
    zaio_workerconn_t *worker = (zaio_workerconn_t *)*item;
    if (worker) {
        assert (worker->jobs.size == 0);
        free (worker);
        *item = NULL;
    }
}

zaio_backend_t *
zaio_backend_new (void *router, zaio_jobs_t *jobs, zaio_dispatch_t *dispatch,
                  const zaio_backend_config_t *config, const zaio_backend_hooks_t *hooks)
{
    zaio_backend_t *self = (zaio_backend_t *)zmalloc (sizeof (zaio_backend_t));
    self->router = router;
    self->jobs = jobs;
    self->dispatch = dispatch;
    self->config = *config;
    self->hooks = *hooks;
    self->table = zaio_route_table_new (s_worker_free);
    zaio_list_init (&self->flush);
    zaio_batch_init (&self->batch);
    return self;
}

void
zaio_backend_destroy (zaio_backend_t **self_p)
{
    zaio_backend_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->table);
        zaio_batch_release (&self->batch);
        free (self);
        *self_p = NULL;
    }
}

//  The fence for worker now: none for an in-process worker, else its
//  newest stamp plus the window after which it is presumed dead (its
//  interval x heartbeat_misses, as its expiry counts it), less the margin.
static uint64_t
s_fence (zaio_backend_t *self, zaio_workerconn_t *worker)
{
    if (!worker->heartbeat_ms) return ZAIO_FENCE_NONE;
    uint64_t window = (uint64_t)worker->heartbeat_ms * self->config.heartbeat_misses * 1000;
    uint64_t margin = S_FENCE_MARGIN_US + window / S_FENCE_RATE;
    if (window <= margin) return 0;
    window -= margin;
    //  A stamp near the end of the clock's range is a worker's lie; it
    //  fences itself, and never reaches "none".
    return worker->stamp_us < ZAIO_FENCE_NONE - window ? worker->stamp_us + window
                                                       : ZAIO_FENCE_NONE - 1;
}

//  Sends a worker a HEARTBEAT or BYE with its fence. Returns -1 if the
//  worker has gone (its queue has no limit: credit bounds it).
static int
s_send (zaio_backend_t *self, zaio_workerconn_t *worker, zaio_worker_command_t command)
{
    uint8_t envelope[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (envelope, command, s_fence (self, worker));
    return zaio_route_send (self->router, &worker->identity, envelope, sizeof envelope, NULL, NULL);
}

//  Seats worker, which has credit again, in its volumes' pools; unseats it
//  from them, when it has none; or marks it used in each, after it took a
//  job and has credit left, so work spreads.
static void
s_seat (zaio_workerconn_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (!worker->seats[i])
            worker->seats[i] = zaio_credit_seat (worker->services[i]->pool, &worker->taker);
}

static void
s_unseat (zaio_workerconn_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (worker->seats[i]) {
            zaio_credit_unseat (worker->services[i]->pool, worker->seats[i]);
            worker->seats[i] = NULL;
        }
}

static void
s_used (zaio_workerconn_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (worker->seats[i]) zaio_credit_used (worker->services[i]->pool, worker->seats[i]);
}

//  Every volume of worker is looked at at the end of the pass.
static void
s_dispatch_later (zaio_backend_t *self, zaio_workerconn_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        zaio_dispatch_later (self->dispatch, worker->services[i]);
}

void
zaio_backend_hand_over (zaio_backend_t *self, zaio_taker_t *taker, zaio_job_t *job, int64_t now_us)
{
    zaio_workerconn_t *worker = ZAIO_HOLDER (taker, zaio_workerconn_t, taker);
    job->worker = worker;
    job->attempts++;
    job->dispatched_us = now_us;
    zaio_list_add (&worker->jobs, &job->held, false);
    if (worker->pending++ == 0) {
        worker->pending_first = &job->held;
        zaio_list_add (&self->flush, &worker->flush, false);
    }
    if (zaio_taker_took (&worker->taker))
        s_unseat (worker);
    else
        s_used (worker);
}

//  Sends worker the jobs of its list from *link_p on, at most left, as
//  one JOB: as many as fit (zaio_batch_full), at least one. Idempotent
//  jobs keep their header for a retry; the others hand it over (it is
//  closed once copied into the message). Moves *link_p past those sent
//  and returns how many they were.
static uint32_t
s_send_jobs (zaio_backend_t *self, zaio_workerconn_t *worker, zaio_link_t **link_p, uint32_t left)
{
    zaio_batch_t *batch = &self->batch;
    zaio_batch_start (batch, ZAIO_WORKER_JOB, s_fence (self, worker));
    zaio_link_t *first = *link_p, *link = first;
    uint32_t count = 0;
    while (count < left && !(count && zaio_batch_full (batch))) {
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, held);
        zaio_batch_add_job (batch, job->number, zmq_msg_data (&job->header),
                            zmq_msg_size (&job->header), job->has_data,
                            job->has_data ? zmq_msg_size (&job->data) : 0);
        if (!zaio_op_idempotent (job->op)) {
            zmq_msg_close (&job->header);
            zmq_msg_init (&job->header);
            job->has_header = false;
        }
        count++;
        link = zaio_list_next (&worker->jobs, link);
    }
    *link_p = link;
    uint32_t data_frames = batch->data_count;
    zmq_msg_t part;
    zaio_batch_part (batch, &part);
    int rc = zmq_send (self->router, worker->identity.data, worker->identity.size, ZMQ_SNDMORE);
    if (rc != -1) rc = zmq_msg_send (&part, self->router, data_frames ? ZMQ_SNDMORE : 0);
    if (rc == -1) {
        //  The worker vanished between READY and now; its expiry handles
        //  the jobs like any other it held.
        zaio_log (ZAIO_LOG_WARNING, "backend", worker->name, "cannot send %u jobs to worker: %s",
                  count, zmq_strerror (zmq_errno ()));
        zmq_msg_close (&part);
    }
    //  Once the first part has gone the others cannot fail (ROUTER_MANDATORY
    //  checks the peer at the first).
    link = first;
    for (uint32_t i = 0; i < count; i++, link = zaio_list_next (&worker->jobs, link)) {
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, held);
        zmq_msg_t *data = zaio_jobs_take_data (self->jobs, job);
        if (!data) continue;
        if (rc == -1 || zmq_msg_send (data, self->router, --data_frames ? ZMQ_SNDMORE : 0) == -1)
            zmq_msg_close (data);
    }
    return count;
}

void
zaio_backend_flush (zaio_backend_t *self)
{
    zaio_link_t *flush;
    while ((flush = zaio_list_pop (&self->flush))) {
        zaio_workerconn_t *worker = ZAIO_HOLDER (flush, zaio_workerconn_t, flush);
        zaio_link_t *link = worker->pending_first;
        while (worker->pending)
            worker->pending -= s_send_jobs (self, worker, &link, worker->pending);
        worker->pending_first = NULL;
    }
}

//  Forgets a worker connection. Jobs it held are retried elsewhere if
//  idempotent and attempts remain; otherwise answered UNKNOWN_OUTCOME.
//  Its volumes are looked at again: retried jobs go to the survivors, and
//  in volumes with none left every queued job is answered NOVOLUME
//  (zaio_dispatch), unless a worker for it has announced itself by then.
static void
s_forget (zaio_backend_t *self, zaio_workerconn_t *worker, const char *why)
{
    zaio_log (ZAIO_LOG_INFO, "backend", worker->name, "worker gone (%s), %zu jobs in flight", why,
              worker->jobs.size);
    s_unseat (worker);
    //  Jobs handed over and not sent yet go back like the others.
    if (worker->pending) zaio_list_remove (&self->flush, &worker->flush);
    worker->pending = 0;
    for (uint32_t i = 0; i < worker->service_count; i++) worker->services[i]->worker_count--;
    zaio_link_t *link;
    while ((link = zaio_list_pop (&worker->jobs))) {
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, held);
        job->worker = NULL;
        if (job->has_header && job->attempts < self->config.retries_max && !self->no_retries)
            zaio_dispatch_enqueue (self->dispatch, job, true); //  first: it has waited already
        else {
            char text[256];
            snprintf (text, sizeof text, "worker %s lost while running the job (attempt %u)",
                      worker->name, job->attempts);
            //  The event names the worker that took the job and was lost.
            self->hooks.fail (self->hooks.arg, &job, ZAIO_ERR_UNKNOWN_OUTCOME, text, worker->name);
        }
    }
    s_dispatch_later (self, worker);
    zhashx_delete (self->table, &worker->identity);
}

//  One completion of a DONE for a job worker holds: the reply goes to
//  the client, the credit comes back. data is its data frame, or NULL.
static void
s_done (zaio_backend_t *self, zaio_workerconn_t *worker, zaio_job_t *job, const zaio_entry_t *entry,
        zmq_msg_t *data)
{
    zaio_list_remove (&worker->jobs, &job->held);
    job->worker = NULL;
    zmq_msg_t header;
    int rc = zmq_msg_init_size (&header, entry->header_size);
    assert (rc == 0);
    memcpy (zmq_msg_data (&header), entry->header, entry->header_size);
    self->hooks.finish (self->hooks.arg, &job, &header, data, &entry->outcome, worker->name);
    if (worker->state == S_ACTIVE) {
        if (zaio_taker_returned (&worker->taker)) s_seat (worker);
        s_dispatch_later (self, worker);
    }
}

//  A DONE's completions, in order: each answers the job it names if worker
//  still holds it, else it is stale (logged, its data dropped).
static void
s_done_all (zaio_backend_t *self, zaio_workerconn_t *worker, s_message_t *msg)
{
    zaio_entry_t entry;
    int data = 2;
    while (zaio_entries_next (&msg->entries, &entry)) {
        zmq_msg_t *part = entry.has_data ? &msg->parts[data++] : NULL;
        zaio_job_t *job = zaio_jobs_find (self->jobs, entry.job);
        if (job && job->worker == worker)
            s_done (self, worker, job, &entry, part);
        else
            zaio_log (ZAIO_LOG_WARNING, "backend", worker->name,
                      "worker finished job %" PRIu64 " it no longer holds", entry.job);
    }
}

//  BYE: the worker takes nothing new. BYE goes back at once: every JOB
//  sent to the worker before it is ahead of it on the connection, so the
//  worker knows when no more can come.
static void
s_bye (zaio_backend_t *self, zaio_workerconn_t *worker)
{
    worker->state = S_LEAVING;
    worker->taker.credit = 0;
    s_unseat (worker);
    s_send (self, worker, ZAIO_WORKER_BYE);
}

//  The state machine: what event does to a known worker (the table at the
//  top of this file). msg is the message that made the event (NULL for
//  the tick's and READY's). The worker may be gone after it.
static void
s_on (zaio_backend_t *self, zaio_workerconn_t *worker, s_event_t event, s_message_t *msg)
{
    switch (event) {
        case E_DONE:
            s_done_all (self, worker, msg);
            if (worker->state == S_LEAVING && worker->jobs.size == 0)
                s_forget (self, worker, "left");
            break;
        case E_BYE:
            worker->stamp_us = msg->number;
            s_bye (self, worker);
            if (worker->jobs.size == 0) s_forget (self, worker, "said BYE");
            break;
        case E_HEARTBEAT:
            worker->stamp_us = msg->number;
            s_send (self, worker, ZAIO_WORKER_HEARTBEAT);
            worker->next_heartbeat_ms = zclock_mono () + self->config.heartbeat_ms;
            break;
        case E_BAD_ENVELOPE:
            s_forget (self, worker, "malformed message");
            break;
        case E_BAD_DONE:
            s_forget (self, worker, "malformed DONE");
            break;
        case E_UNEXPECTED:
            s_forget (self, worker, "unexpected command");
            break;
        case E_SILENT:
            s_forget (self, worker, "heartbeat expired");
            break;
        case E_REPLACED:
            s_forget (self, worker, "announced itself again");
            break;
    }
}

//  True if the worker identity (NULL: unauthenticated, trusted as the
//  transport it came by is) may serve every volume ready announces; logs
//  the first it may not.
static bool
s_granted (zaio_backend_t *self, const zaio_ready_t *ready, const char *identity)
{
    for (uint32_t i = 0; i < ready->volume_count; i++)
        if (!zaio_grants_may_serve (self->config.grants, identity, ready->volumes[i].name)) {
            zaio_log (ZAIO_LOG_WARNING, "backend", identity,
                      "READY from worker '%s' (%s/%u) refused: it may not serve volume '%s'",
                      identity, ready->host, ready->pid, ready->volumes[i].name);
            return false;
        }
    return true;
}

//  READY, stamped stamp_us: a new connection, if its announcement holds.
//  Only in-process workers may skip heartbeats: the broker hears of a dead
//  peer in no other way (ZMTP metadata marks a tcp or ipc peer). The
//  volume table is bounded: a READY that would pass
//  ZAIO_BROKER_VOLUMES_MAX is ignored.
static void
s_ready (zaio_backend_t *self, const zaio_routing_id_t *identity, uint64_t stamp_us,
         zmq_msg_t *body)
{
    zaio_ready_t ready;
    int rc = body ? zaio_ready_decode (&ready, zmq_msg_data (body), zmq_msg_size (body))
                  : ZAIO_ERR_MALFORMED;
    if (rc || ready.volume_count == 0) {
        zaio_log_warning ("backend", "malformed READY from a worker ignored");
        return;
    }
    if (ready.heartbeat_ms == 0 && zmq_msg_gets (body, "Socket-Type")) {
        zaio_log_warning ("backend", "READY without heartbeat_ms over tcp or ipc ignored");
        return;
    }
    if (!s_granted (self, &ready, zaio_route_identity (body))) return;
    size_t unknown = 0;
    for (uint32_t i = 0; i < ready.volume_count; i++)
        unknown += zaio_dispatch_lookup (self->dispatch, ready.volumes[i].name) == NULL;
    if (zaio_dispatch_size (self->dispatch) + unknown > ZAIO_BROKER_VOLUMES_MAX) {
        zaio_log_warning ("backend", "READY ignored: its volumes would make more than %d",
                          ZAIO_BROKER_VOLUMES_MAX);
        return;
    }
    zaio_workerconn_t *existing = (zaio_workerconn_t *)zhashx_lookup (self->table, identity);
    if (existing) s_on (self, existing, E_REPLACED, NULL);

    zaio_workerconn_t *worker = (zaio_workerconn_t *)zmalloc (sizeof (zaio_workerconn_t));
    worker->identity = *identity;
    snprintf (worker->name, sizeof worker->name, "%s/%u/%u", ready.host, ready.pid, ready.slot);
    worker->taker.credit = worker->taker.capacity = ready.credit;
    zaio_list_init (&worker->jobs);
    worker->heartbeat_ms = ready.heartbeat_ms;
    worker->stamp_us = stamp_us;
    int64_t now_ms = zclock_mono ();
    worker->expiry_ms = now_ms + (int64_t)ready.heartbeat_ms * self->config.heartbeat_misses;
    worker->next_heartbeat_ms = now_ms + self->config.heartbeat_ms;
    for (uint32_t i = 0; i < ready.volume_count; i++) {
        zaio_service_t *service = zaio_dispatch_require (self->dispatch, ready.volumes[i].name,
                                                         ready.volumes[i].readonly);
        service->worker_count++;
        worker->services[worker->service_count++] = service;
    }
    zhashx_insert (self->table, identity, worker);
    s_seat (worker);
    if (self->config.verbose)
        zaio_log (ZAIO_LOG_DEBUG, "backend", worker->name, "worker ready, credit %u, %u volumes",
                  worker->taker.credit, worker->service_count);
    s_dispatch_later (self, worker);
}

//  The event a message with command from a known worker is. A DONE's
//  outcome is decoded into msg.
static s_event_t
s_event_of (int command, s_message_t *msg)
{
    switch (command) {
        case ZAIO_WORKER_DONE:
            //  Opened in zaio_backend_handle; a count past the parts kept
            //  did not open.
            return msg->entries.count ? E_DONE : E_BAD_DONE;
        case ZAIO_WORKER_BYE:
            return E_BYE;
        case ZAIO_WORKER_HEARTBEAT:
            return E_HEARTBEAT;
        default:
            return E_UNEXPECTED;
    }
}

void
zaio_backend_handle (zaio_backend_t *self, zmq_msg_t *parts, int count)
{
    zaio_routing_id_t identity;
    zaio_routing_id_from (&identity, &parts[0]);
    uint64_t number = 0;
    int command =
        count >= 2 ? zaio_envelope_get (zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]), &number)
                   : -1;
    //  A DONE's first completion names its job, which names the worker
    //  holding it: when that is the sender, as it nearly always is, no
    //  table lookup is needed.
    s_message_t msg = {.number = number, .parts = parts, .count = count};
    if (command == ZAIO_WORKER_DONE &&
        (count > ZAIO_WORKER_PARTS_MAX + 1 ||
         zaio_entries_open (&msg.entries, zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]),
                            (size_t)count - 2)))
        memset (&msg.entries, 0, sizeof msg.entries); //  E_BAD_DONE
    zaio_workerconn_t *worker = (zaio_workerconn_t *)zhashx_lookup (self->table, &identity);
    //  Any message proves a known worker alive (READY sets a new one's time).
    if (worker && worker->heartbeat_ms)
        worker->expiry_ms =
            zclock_mono () + (int64_t)worker->heartbeat_ms * self->config.heartbeat_misses;
    if (command == -1 && count >= 2 &&
        zaio_envelope_other_version (zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]))) {
        //  An older zaio-worker (ZAIOW/4 sent one job a JOB): it cannot be
        //  served, and says so with its first READY.
        const char *theirs = (const char *)zmq_msg_data (&parts[1]);
        zaio_log (ZAIO_LOG_WARNING, "backend", worker ? worker->name : NULL,
                  "worker speaking %.7s refused: this broker speaks %s; upgrade the worker to "
                  "this broker's version",
                  theirs, ZAIO_WORKER_SIGNATURE);
        if (worker) s_on (self, worker, E_BAD_ENVELOPE, NULL);
    } else if (command == -1) {
        zaio_log (ZAIO_LOG_WARNING, "backend", worker ? worker->name : NULL,
                  "worker message without a %s envelope", ZAIO_WORKER_SIGNATURE);
        if (worker) s_on (self, worker, E_BAD_ENVELOPE, NULL);
    } else if (command == ZAIO_WORKER_READY)
        s_ready (self, &identity, number, count == 3 ? &parts[2] : NULL);
    else if (!worker)
        zaio_log_warning ("backend", "message from an unknown worker dropped");
    else {
        s_on (self, worker, s_event_of (command, &msg), &msg);
    }
}

void
zaio_backend_tick (zaio_backend_t *self, int64_t now_ms)
{
    //  Collect first: deleting while iterating a zhashx is not allowed.
    zlistx_t *silent = zlistx_new ();
    for (zaio_workerconn_t *worker = (zaio_workerconn_t *)zhashx_first (self->table); worker;
         worker = (zaio_workerconn_t *)zhashx_next (self->table)) {
        if (!worker->heartbeat_ms) continue;
        if (now_ms >= worker->expiry_ms)
            zlistx_add_end (silent, worker);
        else if (now_ms >= worker->next_heartbeat_ms) {
            s_send (self, worker, ZAIO_WORKER_HEARTBEAT);
            worker->next_heartbeat_ms = now_ms + self->config.heartbeat_ms;
        }
    }
    for (zaio_workerconn_t *worker = (zaio_workerconn_t *)zlistx_first (silent); worker;
         worker = (zaio_workerconn_t *)zlistx_next (silent))
        s_on (self, worker, E_SILENT, NULL);
    zlistx_destroy (&silent);
}

void
zaio_backend_stop_retries (zaio_backend_t *self)
{
    self->no_retries = true;
}

void
zaio_backend_abandon (zaio_backend_t *self)
{
    for (zaio_workerconn_t *worker = (zaio_workerconn_t *)zhashx_first (self->table); worker;
         worker = (zaio_workerconn_t *)zhashx_next (self->table)) {
        zaio_link_t *link;
        while ((link = zaio_list_pop (&worker->jobs))) {
            zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, held);
            job->worker = NULL;
            self->hooks.fail (self->hooks.arg, &job, ZAIO_ERR_UNKNOWN_OUTCOME,
                              "broker stopped before the job finished", worker->name);
        }
    }
}

size_t
zaio_backend_size (zaio_backend_t *self)
{
    return zhashx_size (self->table);
}

void
zaio_backend_each (zaio_backend_t *self, void (*fn) (const zaio_backend_info_t *info, void *arg),
                   void *arg)
{
    for (zaio_workerconn_t *worker = (zaio_workerconn_t *)zhashx_first (self->table); worker;
         worker = (zaio_workerconn_t *)zhashx_next (self->table)) {
        zaio_backend_info_t info = {worker->name,           worker->taker.credit,
                                    worker->taker.capacity, worker->heartbeat_ms > 0,
                                    worker->service_count,  worker->services,
                                    &worker->jobs};
        fn (&info, arg);
    }
}
