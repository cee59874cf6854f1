/*  zaio_broker.c: the broker actor; see zaio_broker.h and schemas/PROTOCOL.md.

    One thread owns every socket; this file sets them up and runs the
    loop, and keeps what ties the broker's classes together:

      * zaio_sessions: what the broker knows of each client connection,
        and the replies it holds for clients that do not read;
      * zaio_order: the order a client asks for among its jobs (keys,
        barriers, links), one per session;
      * zaio_jobs: the accepted jobs, by number;
      * zaio_dispatch: the volumes' queues, and which worker gets a job
        (the credit pools of workers/zaio_credit.h);
      * zaio_backend: the worker connections (READY, DONE, BYE, heartbeats);
      * zaio_events: the completion events for monitors;
      * zaio_stats: the counters the stats op reports.

    A request travels: the frontend ROUTER -> s_handle_request (decoded,
    admitted against the bounds, a job in zaio_jobs, ordered in its
    session) -> released -> its volume's queue -> at the end of the pass,
    zaio_dispatch hands it to a worker with credit -> the worker answers
    DONE with the client's reply header already built -> zaio_backend ->
    s_finish: the reply goes out (or is held), the event is published,
    the jobs that waited for it are released.
*/

#include "zaio_admission.h"
#include "zaio_log.h"
#include "zaio_auth.h"
#include "zaio_backend.h"
#include "zaio_broker_config.h"
#include "zaio_curve.h"
#include "zaio_dispatch.h"
#include "zaio_endpoints.h"
#include "zaio_events.h"
#include "zaio_grants.h"
#include "zaio_guard.h"
#include "zaio_jobs.h"
#include "zaio_metrics.h"
#include "zaio_sessions.h"
#include "zaio_snapshot.h"
#include "zaio_sock.h"
#include "zaio_stats.h"
#include "zaio_worker.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S_TICK_MS         100         //  timer granularity: deadlines, heartbeats, drain
#define S_REFUSALS_LOG_MS 1000        //  refused requests: a line a second per error at most
#define S_BATCH           256         //  messages taken from one socket per loop turn
#define S_POLL_EVERY      64          //  busy loop turns between polls of every socket
#define S_PARTS_MAX       5           //  parts kept (valid ones have at most 4, but batches)
#define S_WHY_SIZE        256         //  bytes of a refusal's reason
#define S_QUIET_MS        200         //  silence from clients that ends a shutdown
#define S_TRANSPORT_SLACK (64 * 1024) //  header room above payload_max in ZMQ_MAXMSGSIZE
//  The longest frame an event subscriber may send: a subscription is a
//  byte and a prefix, and no topic is longer ("<status>.<op>.<volume>");
//  CURVE's handshake commands must fit too (its INITIATE carries the
//  peer's metadata, some hundreds of bytes).
#define S_EVENTS_FRAME_MAX 4096
_Static_assert(S_EVENTS_FRAME_MAX >= 1 + sizeof "err." + sizeof "writefile." + ZAIO_VOLUME_MAX,
               "a subscription to any topic fits");
#define S_GUARDS 3 //  listener guards: clients', events', workers' sockets

#define S_WHY_SHUTDOWN     "broker is shutting down; job not run"
#define S_WHY_HELD_EXPIRED "deadline passed while the job waited for others before it"
#define S_WHY_INSECURE                                                                             \
    "insecure: this broker serves tcp without CURVE beyond loopback; anyone who reaches "          \
    "it can read, write and delete"

typedef struct {
    zsock_t *pipe;
    zaio_broker_config_t config;
    zlist_t *owned_strings; //  copies of config strings
    zsock_t *frontend;      //  clients' ROUTER
    zsock_t *backend;       //  workers' ROUTER
    void *frontend_zmq;     //  their libzmq handles, resolved once
    void *backend_zmq;
    zaio_endpoints_t *endpoints; //  bound, for ENDPOINTS
    zcert_t *certificate;        //  the broker's, with its secret key, or NULL
    zaio_auth_t *auth;           //  its ZAP domains, while it has a certificate
    zaio_grants_t *grants;       //  what each identity may do
    zaio_volume_t *default_volume;
    zactor_t **local_workers;
    uint32_t local_worker_count;
    char backend_inproc[64];
    zaio_jobs_t *jobs;
    zaio_sessions_t *sessions;
    zaio_dispatch_t *dispatch;
    zaio_backend_t *workers;
    zaio_events_t *events;
    zaio_stats_t *stats;
    int64_t started_ms;       //  zclock_mono at start, for uptime
    zaio_metrics_t *metrics;  //  /metrics, or NULL
    char metrics_inproc[64];  //  the client endpoint it asks stats on
    zmq_msg_t *worker_parts;  //  a worker message's: routing id, ZAIO_WORKER_PARTS_MAX
    zmq_msg_t *request_parts; //  a client message's parts: S_PARTS_MAX, and a batch's
                              //  batch_max data frames
    int request_parts_max;
    //  Listeners backed off when accept fails (zaio_guard.h).
    zaio_guard_t *guards[S_GUARDS];
    zaio_list_t released;       //  of job->queued: last blocker finished, to run or cancel
    zaio_heap_t held_deadlines; //  of job->held_deadline: jobs with deadlines held behind others
    bool releasing;             //  draining released, so completions only append to it
    int64_t pass_us;            //  when this pass of the loop began (deadlines count in passes)
    bool draining;
    int64_t drain_until_ms;
    int64_t last_request_ms; //  when the last request arrived (while draining)
    //  Refused requests, logged as a sample without verbose (per error).
    zaio_log_samples_t refusals;
} s_broker_t;

//  ---------------------------------------------------------------------
//  Ending jobs: the one reply, the event, and what waited for the job

static void s_fail_on (void *arg, zaio_job_t **job_p, int code, const char *why,
                       const char *worker);

static void
s_fail (void *arg, zaio_job_t **job_p, int code, const char *why)
{
    s_fail_on (arg, job_p, code, why, "");
}

//  Released jobs run, or are answered if cancelled or the broker is
//  stopping. Answering may release more; the loop, not recursion, takes
//  them, so a long cancelled chain cannot exhaust the stack.
static void
s_run_released (s_broker_t *self)
{
    if (self->releasing) return;
    self->releasing = true;
    zaio_link_t *link;
    while ((link = zaio_list_pop (&self->released))) {
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, queued);
        if (job->held_deadline.slot) zaio_heap_remove (&self->held_deadlines, &job->held_deadline);
        if (job->cancel)
            s_fail (self, &job, ECANCELED, "a linked job before this one failed");
        else if (job->answered) //  its deadline passed while it was held
            s_fail (self, &job, ETIMEDOUT, S_WHY_HELD_EXPIRED);
        else if (self->draining)
            s_fail (self, &job, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
        else
            zaio_dispatch_enqueue (self->dispatch, job, false);
    }
    self->releasing = false;
}

//  Sends a job's one reply and publishes its event; takes the parts.
static void
s_answer (s_broker_t *self, zaio_job_t *job, zmq_msg_t *header, zmq_msg_t *data,
          const zaio_outcome_t *outcome, const char *worker)
{
    assert (!job->answered);
    zaio_session_t *owner = job->owner;
    if (job->batched)
        zaio_sessions_deliver_entry (self->sessions, &owner->peer, NULL, owner, header, data, true);
    else
        zaio_sessions_deliver (self->sessions, &owner->peer, NULL, owner, header, data, true);
    uint64_t queue_us = job->dispatched_us ? (uint64_t)(job->dispatched_us - job->received_us) : 0;
    zaio_events_publish (self->events, owner->account->client, job->id, job->op, job->path,
                         job->service->name, outcome, queue_us, worker);
    zaio_stats_job (self->stats, owner->account->client, job->op, job->service->name,
                    outcome->error, outcome->bytes, job->dispatched_us != 0, queue_us,
                    outcome->service_us, worker);
    job->answered = true;
}

//  Ends a job (no longer held by any worker) with its reply, unless it was
//  answered already, and releases what waited for it. Takes the parts and
//  the job.
static void
s_finish (void *arg, zaio_job_t **job_p, zmq_msg_t *header, zmq_msg_t *data,
          const zaio_outcome_t *outcome, const char *worker)
{
    s_broker_t *self = (s_broker_t *)arg;
    zaio_job_t *job = *job_p;
    if (job->answered)
        zaio_route_close (header, data);
    else
        s_answer (self, job, header, data, outcome, worker);
    zaio_sessions_finish (self->sessions, job, outcome->error != 0, &self->released);
    job->service->jobs--;
    zaio_jobs_remove (self->jobs, job_p);
    s_run_released (self);
}

//  Ends a job with an error the broker makes, naming in its event the
//  worker that held it ("" if none did).
static void
s_fail_on (void *arg, zaio_job_t **job_p, int code, const char *why, const char *worker)
{
    zmq_msg_t header;
    zaio_reply_error_part (&header, (*job_p)->id, code, why);
    zaio_outcome_t outcome = {code, 0, 0};
    s_finish (arg, job_p, &header, NULL, &outcome, worker);
}

//  Dispatch picked a worker for job: the backend sends it.
static void
s_hand_over (void *arg, zaio_taker_t *taker, zaio_job_t *job, int64_t now_us)
{
    zaio_backend_hand_over (((s_broker_t *)arg)->workers, taker, job, now_us);
}

//  Dispatch's round is over: the backend sends the jobs it was given.
static void
s_flush_jobs (void *arg)
{
    zaio_backend_flush (((s_broker_t *)arg)->workers);
}

//  ---------------------------------------------------------------------
//  Client requests

//  Who sent a request: the connection, and the identity it authenticated
//  as over CURVE (NULL if it did not) with what that may do; and whether
//  the requests are a batch's entries, whose replies go in reply batches.
typedef struct {
    zaio_routing_id_t peer;
    const char *identity;             //  the ZMTP User-Id the ZAP handler gave
    const zaio_grant_t *grant;        //  NULL: everything
    char name[ZAIO_IDENTITY_MAX + 1]; //  for events: identity, or routing id
    bool batch;
} s_sender_t;

//  The sender of a request whose first part (the routing id) is part.
static void
s_sender_of (s_broker_t *self, s_sender_t *sender, zmq_msg_t *part)
{
    zaio_routing_id_from (&sender->peer, part);
    sender->identity = zaio_route_identity (part);
    sender->grant = zaio_grants_client (self->grants, sender->identity);
    sender->name[0] = 0;
    sender->batch = false;
}

//  Sends a reply that no job carries (a refusal, a hello: not owed) to
//  sender: alone, or in its reply batch if it answers a batch's entry.
//  Takes header.
static void
s_deliver (s_broker_t *self, const s_sender_t *sender, zmq_msg_t *header)
{
    if (sender->batch)
        zaio_sessions_deliver_entry (self->sessions, &sender->peer, sender->identity, NULL, header,
                                     NULL, false);
    else
        zaio_sessions_deliver (self->sessions, &sender->peer, sender->identity, NULL, header, NULL,
                               false);
}

//  The sender's name in events, made when first needed.
static const char *
s_sender_name (s_sender_t *sender)
{
    if (!sender->name[0]) {
        if (sender->identity)
            snprintf (sender->name, sizeof sender->name, "%s", sender->identity);
        else
            zaio_route_name (sender->name, sizeof sender->name, &sender->peer);
    }
    return sender->name;
}

//  Logs a refused request: every one with verbose; else, at INFO, at most
//  one a second per error, counting the ones not shown (a peer can send
//  bad requests faster than a log can take them).
static void
s_log_refusal (s_broker_t *self, s_sender_t *sender, const zaio_request_t *req, int code,
               const char *why)
{
    uint64_t held = 0;
    if (!self->config.verbose && !zaio_log_sample (zaio_log_samples_of (&self->refusals, code),
                                                   zclock_mono (), S_REFUSALS_LOG_MS, &held))
        return;
    char more[96] = "";
    if (held)
        snprintf (more, sizeof more, " (+%" PRIu64 " more refused %s since the last such line)",
                  held, zaio_error_name (code));
    zaio_log (self->config.verbose ? ZAIO_LOG_DEBUG : ZAIO_LOG_INFO, "broker",
              s_sender_name (sender), "request %" PRIu64 " refused %s: %s%s", req->id,
              zaio_error_name (code), why && *why ? why : "-", more);
}

//  Counts of refusals held back, each error's once its second is over, or
//  all of them (at the end).
static void
s_log_refusals_held (s_broker_t *self, bool all)
{
    int64_t now_ms = all ? INT64_MAX : zclock_mono ();
    uint64_t held;
    for (size_t i = 0; i < self->refusals.count; i++)
        if (zaio_log_sample_flush (&self->refusals.samples[i], now_ms, S_REFUSALS_LOG_MS, &held))
            zaio_log_info ("broker", "%" PRIu64 " more requests refused %s, not shown", held,
                           zaio_error_name (self->refusals.keys[i]));
}

//  Answers a request that never became a job: an error reply and, if it
//  decoded, its event.
static void
s_reject (s_broker_t *self, s_sender_t *sender, const zaio_request_t *req, bool decoded, int code,
          const char *why)
{
    s_log_refusal (self, sender, req, code, why);
    zmq_msg_t header;
    zaio_reply_error_part (&header, req->id, code, why && *why ? why : NULL);
    s_deliver (self, sender, &header);
    //  A volume counts by name only if the broker knows it (zaio_stats.h);
    //  stats, and hello without a volume, name none.
    bool volumeless = req->op == ZAIO_OP_STATS ||
                      (req->op == ZAIO_OP_HELLO && !(req->fields & ZAIO_FIELD_VOLUME));
    const zaio_service_t *service =
        decoded && !volumeless ? zaio_dispatch_lookup_request (self->dispatch, req) : NULL;
    zaio_stats_answer (self->stats, s_sender_name (sender),
                       decoded ? (int)req->op : ZAIO_STATS_OP_NONE, service ? service->name : NULL,
                       code);
    if (decoded) {
        zaio_outcome_t outcome = {code, 0, 0};
        zaio_events_publish (self->events, s_sender_name (sender), req->id, req->op, req->path,
                             zaio_request_volume (req), &outcome, 0, "");
    }
}

//  Leaves in hello only the volumes grant allows, marked read-only where
//  it allows no writes.
static void
s_hello_grant (zaio_hello_t *hello, const zaio_grant_t *grant)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < hello->volume_count; i++) {
        zaio_access_t access = zaio_grant_access (grant, hello->volumes[i].name);
        if (access == ZAIO_ACCESS_NONE) continue;
        hello->volumes[kept] = hello->volumes[i];
        hello->volumes[kept++].readonly |= access == ZAIO_ACCESS_READ;
    }
    hello->volume_count = kept;
}

//  hello: the limits in force, every op, the volumes the sender may use,
//  and a warning when the broker is exposed without CURVE.
static void
s_answer_hello (s_broker_t *self, s_sender_t *sender, const zaio_request_t *req)
{
    zaio_hello_t hello = {
        .protocol = ZAIO_PROTOCOL_VERSION,
        .version = ZAIO_VERSION_STRING,
        .header_max = ZAIO_HEADER_MAX,
        .path_max = ZAIO_PATH_MAX,
        .payload_max = self->config.payload_max,
        .listdir_max = ZAIO_LISTDIR_MAX,
        .inflight_max = self->config.inflight_max,
        .queue_max = self->config.queue_max,
        .queue_bytes_max = self->config.queue_bytes_max,
        .reply_hwm = self->config.reply_hwm,
        .ops = (1u << ZAIO_OP_COUNT) - 1,
        .batch_max = self->config.batch_max,
        .batch_bytes_max = self->config.batch_bytes_max,
    };
    zaio_dispatch_describe (self->dispatch, &hello);
    s_hello_grant (&hello, sender->grant);
    if (zaio_endpoints_exposed (self->endpoints))
        snprintf (hello.warning, sizeof hello.warning, "%s", S_WHY_INSECURE);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_hello_pack (&writer.packer, req->id, &hello);
    zmq_msg_t header;
    zaio_writer_part (&writer, &header);
    zaio_writer_release (&writer);
    s_deliver (self, sender, &header);
    zaio_stats_answer (self->stats, s_sender_name (sender), req->op, NULL, 0);
    zaio_outcome_t outcome = {0, 0, 0};
    zaio_events_publish (self->events, s_sender_name (sender), req->id, req->op, "",
                         zaio_request_volume (req), &outcome, 0, "");
}

//  ---------------------------------------------------------------------
//  stats (PROTOCOL.md section 5.3)

//  stats: the counters, and what the broker holds now. Only a client
//  that may watch every volume may ask (zaio_grant_monitor: the monitor
//  grant, or no grant entry at all, as without CURVE): others are
//  answered EACCES. Answered at once, like hello, draining or not.
static void
s_answer_stats (s_broker_t *self, s_sender_t *sender, const zaio_request_t *req)
{
    zaio_outcome_t outcome = {0, 0, 0};
    if (!zaio_grant_monitor (sender->grant)) {
        s_reject (self, sender, req, true, EACCES, "stats needs the monitor grant");
        return;
    }
    zaio_snapshot_t *snapshot =
        zaio_snapshot_new (self->dispatch, self->workers, self->jobs, self->sessions, self->events,
                           (uint64_t)(zclock_mono () - self->started_ms));
    size_t live_count;
    const char **live = zaio_snapshot_live (snapshot, &live_count);
    zaio_stats_prune (self->stats, live, live_count);
    //  Counted before it is packed, so a stats reply counts itself.
    zaio_stats_answer (self->stats, s_sender_name (sender), req->op, NULL, 0);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_stats_pack (self->stats, &writer.packer, req->id, zaio_snapshot_stats (snapshot),
                     req->fields & ZAIO_FIELD_TOP ? req->top : ZAIO_STATS_TOP_DEFAULT);
    zmq_msg_t header;
    zaio_writer_part (&writer, &header);
    zaio_writer_release (&writer);
    zaio_snapshot_destroy (&snapshot);
    s_deliver (self, sender, &header);
    zaio_events_publish (self->events, s_sender_name (sender), req->id, req->op, "",
                         zaio_request_volume (req), &outcome, 0, "");
}

//  NOVOLUME (with the reason in why) if no live worker serves the volume
//  of req (service, NULL if unknown) or the sender may not use it, else 0.
//  A volume the sender may not use is answered exactly as one that does
//  not exist, so grants cannot be probed.
static int
s_volume_refusal (const s_sender_t *sender, const zaio_request_t *req,
                  const zaio_service_t *service, char *why, size_t why_size)
{
    zaio_access_t access = zaio_grant_access (sender->grant, zaio_request_volume (req));
    if (service && service->worker_count && access != ZAIO_ACCESS_NONE) return 0;
    snprintf (why, why_size, "no live worker serves volume '%s'", zaio_request_volume (req));
    return ZAIO_ERR_NOVOLUME;
}

//  Why a decoded request (not hello) cannot be accepted now: an error
//  code with a reason in why, or 0. data is its data part, NULL if none.
static int
s_refusal (s_broker_t *self, const s_sender_t *sender, const zaio_request_t *req,
           zaio_service_t *service, zmq_msg_t *data, char *why, size_t why_size)
{
    if (self->draining) return ZAIO_ERR_SHUTDOWN;
    if (s_volume_refusal (sender, req, service, why, why_size)) return ZAIO_ERR_NOVOLUME;
    zaio_access_t access = zaio_grant_access (sender->grant, zaio_request_volume (req));
    if (access == ZAIO_ACCESS_READ && zaio_op_mutates (req->op)) {
        snprintf (why, why_size, "not permitted for this client");
        return EACCES;
    }
    const zaio_account_t *account =
        zaio_sessions_account (self->sessions, &sender->peer, sender->identity);
    zaio_admission_t state = {
        .accepted = zaio_jobs_count (self->jobs),
        .queued_bytes = zaio_jobs_data_bytes (self->jobs),
        .known = account != NULL,
        .unfinished = account ? account->unfinished : 0,
        .inflight = account ? account->unfinished + account->held : 0,
        .held_bytes = account ? account->held_bytes : 0,
        .held_bytes_all = zaio_sessions_held_bytes (self->sessions),
        .has_data = data != NULL,
        .data_size = data ? zmq_msg_size (data) : 0,
    };
    return zaio_admission_check (&self->config, &state, why, why_size);
}

//  Makes an accepted request a job, ordered among its client's, and runs
//  it if nothing it waits for is unfinished. Takes the header and data
//  parts (data NULL if the op takes none).
static void
s_accept (s_broker_t *self, const s_sender_t *sender, const zaio_request_t *req,
          zaio_service_t *service, zmq_msg_t *header, zmq_msg_t *data)
{
    zaio_job_t *job = zaio_jobs_add (self->jobs, req->path);
    job->id = req->id;
    job->op = req->op;
    job->service = service;
    service->jobs++; //  so its volume is not forgotten under it
    zmq_msg_move (&job->header, header);
    job->has_header = true;
    if (data) zaio_jobs_put_data (self->jobs, job, data);
    job->received_us = self->pass_us;
    if (req->fields & ZAIO_FIELD_DEADLINE)
        job->deadline_us = self->pass_us + (int64_t)req->deadline_ms * 1000;
    if (req->fields & ZAIO_FIELD_KEY) job->key = strdup (req->key);
    job->barrier = req->barrier;
    job->link = req->link;
    job->batched = sender->batch;
    zaio_session_t *owner = zaio_sessions_require (self->sessions, &sender->peer, sender->identity);
    if (zaio_sessions_admit (self->sessions, owner, job)) {
        zaio_list_add (&self->released, &job->queued, false);
        s_run_released (self);
    } else if (job->deadline_us)
        zaio_heap_set (&self->held_deadlines, &job->held_deadline, job->deadline_us);
}

//  A request that decoded, alone or a batch's entry: hello is answered,
//  and any other refused or accepted. Takes the header and data parts
//  (data NULL if the op takes none); why is the caller's buffer of
//  S_WHY_SIZE bytes for a refusal's reason.
static void
s_handle_decoded (s_broker_t *self, s_sender_t *sender, const zaio_request_t *req,
                  zmq_msg_t *header, zmq_msg_t *data, char *why)
{
    const size_t why_size = S_WHY_SIZE;
    zaio_service_t *service = zaio_dispatch_lookup_request (self->dispatch, req);
    int code;
    if (req->op == ZAIO_OP_STATS) {
        s_answer_stats (self, sender, req);
        return;
    }
    //  hello names a volume only if the client does (it is answered for
    //  every volume); one it may not use is answered as for any op.
    if (req->op == ZAIO_OP_HELLO && !self->draining) {
        code = req->fields & ZAIO_FIELD_VOLUME
                   ? s_volume_refusal (sender, req, service, why, why_size)
                   : 0;
        if (code)
            s_reject (self, sender, req, true, code, why);
        else
            s_answer_hello (self, sender, req);
        return;
    }
    code = s_refusal (self, sender, req, service, data, why, why_size);
    if (code)
        s_reject (self, sender, req, true, code, why);
    else
        s_accept (self, sender, req, service, header, data);
}

//  One entry of a batch: size bytes of header at bytes, and its data part
//  (NULL if its flag is false), decoded as a message of its own would be,
//  so it meets every rule a single request does; batch and hello are
//  refused in a batch (PROTOCOL.md section 5.2). Takes data.
static void
s_handle_entry (s_broker_t *self, s_sender_t *sender, const uint8_t *bytes, size_t size,
                zmq_msg_t *data)
{
    const void *frames[3] = {ZAIO_SIGNATURE, bytes, data ? zmq_msg_data (data) : NULL};
    size_t sizes[3] = {strlen (ZAIO_SIGNATURE), size, data ? zmq_msg_size (data) : 0};
    zaio_request_t req;
    char why[S_WHY_SIZE] = "";
    int code = zaio_request_decode_frames (&req, frames, sizes, data ? 3 : 2,
                                           self->config.payload_max, why, sizeof why);
    if (code == 0 &&
        (req.op == ZAIO_OP_BATCH || req.op == ZAIO_OP_HELLO || req.op == ZAIO_OP_STATS)) {
        snprintf (why, sizeof why, "op '%s' cannot be a batch entry", zaio_op_name (req.op));
        code = ZAIO_ERR_MALFORMED;
    }
    if (code) {
        s_reject (self, sender, &req, false, code, why);
        return;
    }
    zmq_msg_t header;
    int rc = zmq_msg_init_size (&header, size);
    assert (rc == 0);
    memcpy (zmq_msg_data (&header), bytes, size);
    why[0] = 0;
    s_handle_decoded (self, sender, &req, &header, data, why);
    zmq_msg_close (&header); //  empty if a job took it
}

//  A request batch, its header decoded: refused whole if its entries or
//  frames break section 5.2's rules, else each entry handled in order as
//  the requests it stands for, their data parts moved, not copied.
static void
s_handle_batch (s_broker_t *self, s_sender_t *sender, const zaio_request_t *batch, zmq_msg_t *parts,
                int count)
{
    char why[S_WHY_SIZE] = "";
    uint32_t entries;
    int code = zaio_batch_check (zmq_msg_data (&parts[3]), zmq_msg_size (&parts[3]),
                                 (size_t)count - 4, self->config.batch_max,
                                 self->config.batch_bytes_max, &entries, why, sizeof why);
    if (code) {
        s_reject (self, sender, batch, false, code, why);
        return;
    }
    sender->batch = true;
    zaio_batch_cursor_t cursor;
    zaio_batch_cursor_init (&cursor, zmq_msg_data (&parts[3]), zmq_msg_size (&parts[3]), entries,
                            &entries, why, sizeof why);
    int next_data = 4;
    const uint8_t *header;
    size_t size;
    bool has_data;
    //  zaio_batch_check walked the same pairs: none fails now.
    while (zaio_batch_cursor_next (&cursor, &header, &size, &has_data, why, sizeof why) == 0)
        s_handle_entry (self, sender, header, size, has_data ? &parts[next_data++] : NULL);
}

//  One request: [client][signature][header][data?], or a batch:
//  [client][signature][header][entries][data...]. Decoded strictly,
//  answered at once if it is bad, hello, or cannot be accepted now.
static void
s_handle_request (void *arg, zmq_msg_t *parts, int count)
{
    s_broker_t *self = (s_broker_t *)arg;
    s_sender_t sender;
    s_sender_of (self, &sender, &parts[0]);
    if (self->draining) self->last_request_ms = zclock_mono ();
    const void *frames[3] = {NULL};
    size_t sizes[3] = {0};
    for (int i = 1; i < count && i <= 3; i++) {
        frames[i - 1] = zmq_msg_data (&parts[i]);
        sizes[i - 1] = zmq_msg_size (&parts[i]);
    }
    zaio_request_t req;
    char why[S_WHY_SIZE] = "";
    int code = zaio_request_decode_frames (&req, frames, sizes, (size_t)count - 1,
                                           self->config.payload_max, why, sizeof why);
    if (code) {
        s_reject (self, &sender, &req, false, code, why);
    } else if (req.op == ZAIO_OP_BATCH)
        s_handle_batch (self, &sender, &req, parts, count);
    else
        s_handle_decoded (self, &sender, &req, &parts[2], count == 4 ? &parts[3] : NULL, why);
}

//  ---------------------------------------------------------------------
//  Timers and shutdown

//  Answers a job still held behind others with an error now; it is freed
//  when what it waits for finishes (s_run_released), without a second
//  reply.
static void
s_answer_held (s_broker_t *self, zaio_job_t *job, int code, const char *why)
{
    zmq_msg_t header;
    zaio_reply_error_part (&header, job->id, code, why);
    zaio_outcome_t outcome = {code, 0, 0};
    s_answer (self, job, &header, NULL, &outcome, "");
}

//  Jobs held behind others (ordering) are answered SHUTDOWN now.
static void
s_answer_blocked (s_broker_t *self)
{
    for (zaio_session_t *session = zaio_sessions_first (self->sessions); session;
         session = zaio_sessions_next (self->sessions))
        for (zaio_link_t *link = zaio_list_first (&session->order.unfinished); link;
             link = zaio_list_next (&session->order.unfinished, link)) {
            zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, ordered);
            if (job->blockers && !job->answered)
                s_answer_held (self, job, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
        }
}

//  Jobs held behind others whose deadline has passed are answered
//  ETIMEDOUT now, not when what they wait for ends: O(log n) each, by the
//  heap of held deadlines.
static void
s_expire_held (s_broker_t *self)
{
    zaio_heap_node_t *first;
    while ((first = zaio_heap_first (&self->held_deadlines)) && first->key <= self->pass_us) {
        zaio_heap_remove (&self->held_deadlines, first);
        zaio_job_t *job = ZAIO_HOLDER (first, zaio_job_t, held_deadline);
        if (!job->answered) s_answer_held (self, job, ETIMEDOUT, S_WHY_HELD_EXPIRED);
    }
}

//  Silent workers, deadlines: those of jobs queued, of jobs held behind
//  others, and of jobs parked while their clients read no replies (their
//  answers are held like the rest, but their places in the queue come
//  free).
static void
s_tick (s_broker_t *self)
{
    s_expire_held (self);
    s_log_refusals_held (self, false);
    for (int i = 0; i < S_GUARDS; i++) zaio_guard_tick (self->guards[i], self->pass_us / 1000);
    zaio_backend_tick (self->workers, self->pass_us / 1000);
    zaio_dispatch_expire (self->dispatch, self->pass_us);
    zaio_dispatch_forget (self->dispatch, self->pass_us / 1000);
    for (zaio_session_t *session = zaio_sessions_first_backlogged (self->sessions); session;
         session = zaio_sessions_next_backlogged (self->sessions, session))
        zaio_dispatch_expire_list (self->dispatch, &session->parked, self->pass_us,
                                   "deadline passed while the client read no replies");
}

//  Stop accepting: every queued job is answered SHUTDOWN now, and so are
//  jobs parked while their clients' replies are held (their replies are
//  held too, so no client is forgotten here) and jobs held behind others;
//  running jobs finish within drain_ms.
static void
s_start_drain (s_broker_t *self)
{
    self->draining = true;
    self->drain_until_ms = zclock_mono () + self->config.drain_ms;
    self->last_request_ms = zclock_mono ();
    zaio_backend_stop_retries (self->workers);
    zaio_dispatch_fail_all (self->dispatch, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
    for (zaio_session_t *session = zaio_sessions_first_backlogged (self->sessions); session;
         session = zaio_sessions_next_backlogged (self->sessions, session))
        zaio_dispatch_fail_list (self->dispatch, &session->parked, ZAIO_ERR_SHUTDOWN,
                                 S_WHY_SHUTDOWN);
    s_answer_blocked (self);
}

//  While draining: true once the broker may stop. Requests already on
//  their way are answered SHUTDOWN rather than met with silence, so it
//  stops once no job is left and the clients have gone quiet and taken
//  every reply, or the drain time is up (jobs still running then are
//  answered UNKNOWN_OUTCOME).
static bool
s_drained (s_broker_t *self)
{
    int64_t now = zclock_mono ();
    if (zaio_jobs_count (self->jobs) && now >= self->drain_until_ms) {
        zaio_log_warning ("broker", "drain time up with %u jobs running",
                          zaio_jobs_count (self->jobs));
        zaio_backend_abandon (self->workers);
    }
    bool quiet =
        now - self->last_request_ms >= S_QUIET_MS && zaio_sessions_backlogged (self->sessions) == 0;
    return zaio_jobs_count (self->jobs) == 0 && (quiet || now >= self->drain_until_ms);
}

//  Sends held replies while their clients' queues have room; the parked
//  jobs of clients with none left go back to the front of their queues,
//  in the order they left. Returns true if it sent any reply.
static bool
s_flush_held (s_broker_t *self)
{
    zaio_list_t resumed;
    zaio_list_init (&resumed);
    bool sent = zaio_sessions_flush (self->sessions, &resumed);
    zaio_link_t *link;
    while ((link = zaio_list_last (&resumed))) {
        zaio_list_remove (&resumed, link);
        zaio_dispatch_enqueue (self->dispatch, ZAIO_HOLDER (link, zaio_job_t, queued), true);
    }
    return sent;
}

//  ---------------------------------------------------------------------
//  Setup

//  Frees what s_broker_new made, in reverse: the local worker threads
//  first, so no DONE arrives while the tables go.
static void
s_broker_destroy (s_broker_t **self_p)
{
    s_broker_t *self = *self_p;
    if (!self) return;
    //  First: a scrape waits for this thread's answer, which stops here.
    zaio_metrics_destroy (&self->metrics);
    s_log_refusals_held (self, true);
    for (int i = 0; i < S_GUARDS; i++) zaio_guard_destroy (&self->guards[i]);
    for (uint32_t i = 0; i < self->local_worker_count; i++)
        zaio_worker_destroy (&self->local_workers[i]);
    free (self->local_workers);
    zaio_backend_destroy (&self->workers);
    zaio_dispatch_destroy (&self->dispatch);
    zaio_sessions_destroy (&self->sessions);
    zaio_jobs_destroy (&self->jobs);
    zaio_heap_release (&self->held_deadlines);
    free (self->request_parts);
    free (self->worker_parts);
    zsock_destroy (&self->backend);
    zsock_destroy (&self->frontend);
    zaio_events_destroy (&self->events);
    zaio_stats_destroy (&self->stats);
    zaio_endpoints_destroy (&self->endpoints);
    zaio_auth_destroy (&self->auth);
    zcert_destroy (&self->certificate);
    zaio_grants_destroy (&self->grants);
    zaio_volume_destroy (&self->default_volume);
    zlist_destroy (&self->owned_strings);
    free (self);
    *self_p = NULL;
}

//  The two ROUTERs. Clients': a client's full queue makes a send fail at
//  once (EAGAIN), and the broker holds the reply (zaio_sessions) rather
//  than block or drop it. Workers': unbounded queues, which credit bounds.
//  Handlers take messages until EAGAIN, never waiting.
static void
s_routers_new (s_broker_t *self)
{
    int64_t transport_max = (int64_t)self->config.payload_max + S_TRANSPORT_SLACK;
    self->frontend = zsock_new (ZMQ_ROUTER);
    assert (self->frontend);
    zsock_set_router_mandatory (self->frontend, 1);
    zsock_set_sndhwm (self->frontend, (int)self->config.reply_hwm);
    zsock_set_sndtimeo (self->frontend, 0);
    zsock_set_rcvtimeo (self->frontend, 0);
    zsock_set_maxmsgsize (self->frontend, transport_max);
    zsock_set_linger (self->frontend, 2000);
    zsock_set_heartbeat_ivl (self->frontend, 10000);
    zsock_set_heartbeat_timeout (self->frontend, 30000);
    self->backend = zsock_new (ZMQ_ROUTER);
    assert (self->backend);
    zsock_set_router_mandatory (self->backend, 1);
    zsock_set_sndhwm (self->backend, 0);
    zsock_set_rcvhwm (self->backend, 0);
    zsock_set_rcvtimeo (self->backend, 0);
    zsock_set_maxmsgsize (self->backend, transport_max + 4 * 1024 * 1024);
    zsock_set_linger (self->backend, 0);
    //  A connection that has not finished its handshake by then is
    //  closed, so one that never does holds a descriptor only that long.
    zsock_set_handshake_ivl (self->frontend, (int)self->config.handshake_ms);
    zsock_set_handshake_ivl (self->backend, (int)self->config.handshake_ms);
    self->frontend_zmq = zsock_resolve (self->frontend);
    self->backend_zmq = zsock_resolve (self->backend);
}

//  The classes, wired to each other and to the ROUTERs.
static void
s_classes_new (s_broker_t *self)
{
    self->jobs = zaio_jobs_new ();
    self->sessions = zaio_sessions_new (self->frontend_zmq, self->config.held_bytes_max,
                                        self->config.held_bytes_total, self->config.verbose);
    zaio_sessions_set_batch (self->sessions, self->config.batch_max, self->config.batch_bytes_max,
                             self->config.payload_max);
    self->request_parts_max = S_PARTS_MAX + (int)self->config.batch_max;
    self->worker_parts = (zmq_msg_t *)zmalloc (sizeof (zmq_msg_t) * (1 + ZAIO_WORKER_PARTS_MAX));
    self->request_parts =
        (zmq_msg_t *)zmalloc (sizeof (zmq_msg_t) * (size_t)self->request_parts_max);
    zaio_dispatch_hooks_t dispatch_hooks = {s_hand_over, s_flush_jobs, s_fail, self};
    self->dispatch = zaio_dispatch_new (&dispatch_hooks, self->config.volume_forget_ms);
    zaio_backend_config_t backend_config = {self->config.heartbeat_ms,
                                            self->config.heartbeat_misses, self->config.retries_max,
                                            self->grants, self->config.verbose};
    zaio_backend_hooks_t backend_hooks = {s_finish, s_fail_on, self};
    self->workers = zaio_backend_new (self->backend_zmq, self->jobs, self->dispatch,
                                      &backend_config, &backend_hooks);
    self->events = zaio_events_new (self->config.events_hwm, self->config.subscriptions_max,
                                    self->config.identity_subscriptions_max);
    zsock_set_handshake_ivl (zaio_events_socket (self->events), (int)self->config.handshake_ms);
    zsock_set_maxmsgsize (zaio_events_socket (self->events), S_EVENTS_FRAME_MAX);
    zaio_list_init (&self->released);
    zaio_heap_init (&self->held_deadlines);
    self->stats = zaio_stats_new ();
    self->started_ms = zclock_mono ();
}

//  The ZAP domain of a socket of kind, NULL without CURVE.
static const char *
s_domain (s_broker_t *self, const char *kind)
{
    return self->auth ? zaio_auth_domain (self->auth, kind) : NULL;
}

//  Binds every endpoint, the local workers' inproc one first among the
//  workers'. Returns -1 (and logs why) if one cannot be bound.
static int
s_bind_endpoints (s_broker_t *self)
{
    if (zaio_endpoints_bind (self->endpoints, self->frontend, "client", s_domain (self, "client"),
                             self->config.bind) ||
        zaio_endpoints_bind (self->endpoints, zaio_events_socket (self->events), "events",
                             s_domain (self, "events"), self->config.events))
        return -1;
    zaio_sock_inproc_name (self->backend_inproc, sizeof self->backend_inproc, "zaio-workers");
    if (zsock_bind (self->backend, "%s", self->backend_inproc) < 0) {
        zaio_log_error ("broker", "cannot bind %s: %s", self->backend_inproc,
                        zmq_strerror (zmq_errno ()));
        return -1;
    }
    return zaio_endpoints_bind (self->endpoints, self->backend, "workers",
                                s_domain (self, "workers"), self->config.worker_bind);
}

//  A guard on each socket's listeners, once they are bound.
static void
s_guards_new (s_broker_t *self)
{
    zsock_t *socks[S_GUARDS] = {self->frontend, zaio_events_socket (self->events), self->backend};
    const char *kinds[S_GUARDS] = {"client", "events", "workers"};
    for (int i = 0; i < S_GUARDS; i++)
        self->guards[i] = zaio_guard_new (socks[i], kinds[i], self->endpoints);
}

//  Events from the guards whose monitors are readable. Descriptors are
//  the process's: when one guard finds them exhausted, every ipc listener
//  pauses too (libzmq 4.3 aborts on an ipc accept that meets EMFILE).
static void
s_guards_handle (s_broker_t *self, const bool *readable)
{
    int64_t now_ms = zclock_usecs () / 1000;
    bool exhausted = false;
    for (int i = 0; i < S_GUARDS; i++)
        if (readable[i]) exhausted |= zaio_guard_handle (self->guards[i], now_ms);
    for (int i = 0; exhausted && i < S_GUARDS; i++) zaio_guard_pause_ipc (self->guards[i], now_ms);
}

//  The broker's own worker threads, serving the default volume.
static void
s_start_local_workers (s_broker_t *self)
{
    self->local_workers = (zactor_t **)zmalloc (sizeof (zactor_t *) * self->config.workers);
    for (uint32_t i = 0; i < self->config.workers; i++) {
        zaio_worker_config_t worker = {
            .endpoint = self->backend_inproc,
            .volumes = &self->default_volume,
            .volume_count = 1,
            .credit = self->config.worker_credit,
            .payload_max = self->config.payload_max,
            .slot = i,
        };
        self->local_workers[i] = zaio_worker_new (&worker);
        assert (self->local_workers[i]);
        self->local_worker_count++;
    }
}

//  The broker's certificate (with its secret key) from curve_cert, the
//  grants (from the caller's config: the copy has none), and the ZAP
//  domains its CURVE endpoints use. Returns -1 (and logs why) if one is
//  not valid.
static int
s_trust_new (s_broker_t *self, const zaio_broker_config_t *config)
{
    self->grants = zaio_grants_new (config->grants);
    if (!self->grants) return -1;
    const char *path = self->config.curve_cert;
    if (!path) return 0;
    self->certificate = zaio_curve_cert_load (path);
    if (!self->certificate || !zaio_curve_cert_has_secret (self->certificate)) {
        zaio_log_error ("broker", "%s is not a secret certificate (see zaio keygen)", path);
        return -1;
    }
    zlist_t *unmonitored = zlist_new ();
    zaio_grants_unmonitored (self->grants, unmonitored);
    zaio_auth_config_t auth = {self->config.client_certs, self->config.worker_certs, unmonitored};
    self->auth = zaio_auth_new (&auth);
    zlist_destroy (&unmonitored);
    return self->auth ? 0 : -1;
}

//  /metrics on config.metrics_bind: its HTTP thread asks for stats on an
//  inproc endpoint of the clients' socket of its own (zaio_metrics.h).
//  Returns -1 (logged) if it cannot listen.
static int
s_metrics_new (s_broker_t *self)
{
    zaio_sock_inproc_name (self->metrics_inproc, sizeof self->metrics_inproc, "zaio-metrics");
    if (zsock_bind (self->frontend, "%s", self->metrics_inproc) < 0) {
        zaio_log_error ("broker", "cannot bind %s: %s", self->metrics_inproc,
                        zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->metrics =
        zaio_metrics_new (self->config.metrics_bind, self->config.insecure, self->metrics_inproc);
    return self->metrics ? 0 : -1;
}

//  The broker's state from config (copied, strings and all): its sockets
//  bound, its classes made, its local workers started. Returns NULL (and
//  logs why) if the root cannot be opened, an endpoint bound, or the
//  certificates or grants are not valid.
static s_broker_t *
s_broker_new (zsock_t *pipe, const zaio_broker_config_t *config)
{
    s_broker_t *self = (s_broker_t *)zmalloc (sizeof (s_broker_t));
    self->pipe = pipe;
    self->owned_strings = zlist_new ();
    zlist_autofree (self->owned_strings);
    zaio_broker_config_copy (&self->config, config, self->owned_strings);
    if (self->config.verbose) zaio_log_set_level (ZAIO_LOG_DEBUG);
    zaio_log_format_t log_format;
    if (config->log_format && zaio_log_format_parse (config->log_format, &log_format) == 0)
        zaio_log_set_format (log_format);
    else if (config->log_format) {
        zaio_log_error ("broker", "log_format '%s' is not text or json", config->log_format);
        s_broker_destroy (&self);
        return NULL;
    }
    //  A batch's entries travel in one frame: within the transport limit.
    size_t entries_max = self->config.payload_max + S_TRANSPORT_SLACK;
    if (self->config.batch_bytes_max > entries_max)
        self->config.batch_bytes_max = (uint32_t)entries_max;
    if (s_trust_new (self, config)) {
        s_broker_destroy (&self);
        return NULL;
    }
    self->endpoints =
        zaio_endpoints_new (self->certificate, self->config.insecure, self->config.ipc_mode);
    s_routers_new (self);
    s_classes_new (self);
    self->default_volume = zaio_volume_new (ZAIO_DEFAULT_VOLUME, self->config.root, false, true);
    if (self->default_volume) zaio_volume_set_nolinks (self->default_volume, self->config.nolinks);
    if (!self->default_volume || s_bind_endpoints (self)) {
        s_broker_destroy (&self);
        return NULL;
    }
    if (self->config.metrics_bind && s_metrics_new (self)) {
        s_broker_destroy (&self);
        return NULL;
    }
    //  Temporary files that killed writefiles left, on a thread of its own.
    zaio_volume_sweep_temps (self->default_volume, self->config.tmp_max_age_s);
    s_guards_new (self);
    s_start_local_workers (self);
    return self;
}

//  ---------------------------------------------------------------------
//  The actor

//  One command from the pipe. Returns true if the broker should start to
//  stop ($TERM).
static bool
s_handle_pipe (s_broker_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) return true;
    char *command = zmsg_popstr (msg);
    bool stop = false;
    if (streq (command, "$TERM"))
        stop = true;
    else if (streq (command, "ENDPOINTS")) {
        zmsg_t *reply = zmsg_new ();
        zlist_t *bound = zaio_endpoints_list (self->endpoints);
        for (char *item = (char *)zlist_first (bound); item; item = (char *)zlist_next (bound))
            zmsg_addstr (reply, item);
        if (self->metrics) zmsg_addstrf (reply, "metrics %s", zaio_metrics_url (self->metrics));
        zmsg_send (&reply, self->pipe);
    } else
        zaio_log_error ("broker", "invalid pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
    return stop;
}

//  Commands from the pipe, until none is left: that also leaves the pipe
//  safe to wait on again. True if the broker should start to stop.
static bool
s_handle_commands (s_broker_t *self)
{
    bool stop = false;
    while (zsock_events (self->pipe) & ZMQ_POLLIN) stop |= s_handle_pipe (self);
    return stop;
}

//  A handler gets a message of count parts, of which the first parts_max
//  are in parts; it moves out those it keeps, and all are closed after it.
typedef void (s_handler_fn) (void *arg, zmq_msg_t *parts, int count);

//  Takes up to S_BATCH messages from a socket (receive timeout 0: until
//  EAGAIN), so no socket starves the others, each into parts (room for
//  parts_max). Returns how many it took.
static int
s_drain_socket (void *handle, zmq_msg_t *parts, int parts_max, s_handler_fn *handler, void *arg)
{
    int taken = 0;
    for (; taken < S_BATCH; taken++) {
        int count = zaio_sock_recv_parts (handle, parts, parts_max);
        if (count < 0) break;
        handler (arg, parts, count);
        for (int i = 0; i < count && i < parts_max; i++) zmq_msg_close (&parts[i]);
    }
    return taken;
}

static void
s_handle_worker_message (void *arg, zmq_msg_t *parts, int count)
{
    zaio_backend_handle (((s_broker_t *)arg)->workers, parts, count);
}

//  One pass of the loop, once the sockets that had input are known: the
//  pipe, subscriptions, the tick, then every message waiting (completions
//  first: they free the capacity new requests need), held replies (when
//  looking at every socket), and dispatch. Returns true if the pass did
//  anything, so the loop should not sleep yet.
static bool
s_pass (s_broker_t *self, bool *readable_pipe, bool *readable_events, bool looking,
        int64_t *next_tick)
{
    //  One clock read a pass serves its deadlines, dispatch and tick.
    self->pass_us = zclock_usecs ();
    int64_t now_ms = self->pass_us / 1000;
    if (*readable_pipe && s_handle_commands (self) && !self->draining) s_start_drain (self);
    //  Publishing may take the signal of a subscription arriving.
    if (*readable_events || zaio_events_published (self->events))
        zaio_events_take_subscriptions (self->events);
    *readable_pipe = *readable_events = false;
    if (now_ms >= *next_tick) {
        s_tick (self);
        *next_tick = now_ms + S_TICK_MS;
    }
    int handled = s_drain_socket (self->backend_zmq, self->worker_parts, 1 + ZAIO_WORKER_PARTS_MAX,
                                  s_handle_worker_message, self);
    //  Receiving on the frontend also takes in libzmq's word that a full
    //  client queue has room again, so held replies go after it. They are
    //  tried on passes that look at every socket: each pass when the
    //  broker is otherwise idle, every S_POLL_EVERY when it is busy. A
    //  send tried on every pass for each client that reads nothing would
    //  slow every pass for everyone.
    handled += s_drain_socket (self->frontend_zmq, self->request_parts, self->request_parts_max,
                               s_handle_request, self);
    bool flushed = looking && zaio_sessions_backlogged (self->sessions) && s_flush_held (self);
    //  A pass that did not try the held replies may have taken in the
    //  word that a queue has room (and with it the ZMQ_FD edge that would
    //  wake the broker): the next pass tries them before sleeping, or they
    //  would wait for the tick.
    bool flush_due = !looking && zaio_sessions_backlogged (self->sessions);
    bool dispatched = zaio_dispatch_run (self->dispatch, self->pass_us);
    //  No more completions are ready in this pass: the reply batches go
    //  now, however full, so no reply waits for a slower one.
    bool batches = zaio_sessions_send_batches (self->sessions);
    //  An event sent (even by the tick) calls for one more look at the
    //  events socket before sleeping.
    return dispatched || handled > 0 || flushed || flush_due || batches ||
           zaio_events_published (self->events);
}

//  The loop drains the two ROUTERs until a pass receives nothing and
//  sends nothing; only then does it sleep, on the sockets' ZMQ_FDs
//  (zaio_sock_wait says why that is safe just then). While busy it looks
//  at the pipe every S_POLL_EVERY passes, so commands never starve.
static void
s_broker_actor (zsock_t *pipe, void *args)
{
    prctl (PR_SET_NAME, "zaio-broker"); //  so top -H and perf tell threads apart
    s_broker_t *self = s_broker_new (pipe, (const zaio_broker_config_t *)args);
    //  zactor_new consumes the first signal; the second carries our status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, self ? 0 : 1);
    if (!self) return;

    enum { PIPE, BACKEND, FRONTEND, EVENTS, GUARDS, SOCKETS = GUARDS + S_GUARDS };
    zsock_t *socks[SOCKETS] = {pipe, self->backend, self->frontend,
                               zaio_events_socket (self->events)};
    for (int i = 0; i < S_GUARDS; i++) socks[GUARDS + i] = zaio_guard_monitor (self->guards[i]);
    bool readable[SOCKETS] = {true, false, false, true}; //  first pass: look at all
    int64_t next_tick = zclock_mono () + S_TICK_MS;
    int busy_passes = 0;
    bool busy = true;
    while (!self->draining || !s_drained (self)) {
        bool looking = !busy || ++busy_passes >= S_POLL_EVERY;
        if (looking) {
            busy_passes = 0;
            long timeout = busy ? 0 : (long)(next_tick - zclock_mono ());
            zaio_sock_wait (socks, SOCKETS, timeout > 0 ? (int)timeout : 0, readable);
            s_guards_handle (self, &readable[GUARDS]);
        }
        busy = s_pass (self, &readable[PIPE], &readable[EVENTS], looking, &next_tick);
    }
    s_broker_destroy (&self);
}

zactor_t *
zaio_broker_new (const zaio_broker_config_t *config)
{
    assert (config && config->root);
    zactor_t *actor = zactor_new (s_broker_actor, (void *)config);
    if (actor && zsock_wait (actor) != 0) zactor_destroy (&actor);
    return actor;
}

void
zaio_broker_destroy (zactor_t **self_p)
{
    zactor_destroy (self_p);
}

zlist_t *
zaio_broker_endpoints (zactor_t *self)
{
    assert (self);
    zstr_send (self, "ENDPOINTS");
    zmsg_t *reply = zmsg_recv (self);
    zlist_t *list = zlist_new ();
    zlist_autofree (list);
    char *item;
    while (reply && (item = zmsg_popstr (reply))) {
        zlist_append (list, item);
        zstr_free (&item);
    }
    zmsg_destroy (&reply);
    return list;
}

char *
zaio_broker_endpoint (zactor_t *self, const char *kind, const char *transport)
{
    zlist_t *list = zaio_broker_endpoints (self);
    char prefix[64];
    snprintf (prefix, sizeof prefix, "%s %s://", kind, transport);
    char *found = NULL;
    for (char *item = (char *)zlist_first (list); item && !found; item = (char *)zlist_next (list))
        if (strncmp (item, prefix, strlen (prefix)) == 0) found = strdup (item + strlen (kind) + 1);
    zlist_destroy (&list);
    return found;
}
