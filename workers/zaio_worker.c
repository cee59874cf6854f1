/*  zaio_worker.c: one IO thread speaking ZAIOW/5; see zaio_worker.h.

    When completions go (the rule PROTOCOL.md section 9 describes): a
    thread runs the jobs of the JOB in hand in order and adds each
    completion to one DONE, which it sends

      * when it is full (zaio_batch_full: ZAIO_CREDIT_MAX completions, or
        ZAIO_WORKER_BATCH_BYTES of entries, or ZAIO_WORKER_BATCH_DATA of
        data);
      * when it has no job left in hand: the JOB's jobs are done and no
        other JOB has arrived;
      * before a job that may block long (s_may_block: every op but
        ping, stat, and read, write or append of at most S_QUICK_BYTES),
        so a fast reply never waits behind a slow job;
      * after a job, once its first completion has waited S_DONE_WAIT_US,
        so a reply waits behind a run of quick jobs that long at most.
*/

#include "zaio_worker.h"
#include "zaio_log.h"
#include "zaio_ops.h"
#include "zaio_sock.h"
#include "zaio_worker_proto.h"

#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S_CACHE_FILES   16          //  files a worker keeps open for reading
#define S_CACHE_IDLE_MS 1000        //  how long it keeps one nobody reads
#define S_QUICK_BYTES   (64 * 1024) //  a read or write this big or smaller is quick
#define S_DONE_WAIT_US  1000        //  the longest a completion waits for others

typedef struct {
    zsock_t *pipe;
    zsock_t *dealer;
    zaio_worker_config_t config;
    zaio_fdcache_t *files;
    zmq_msg_t *parts;      //  the JOB in hand: ZAIO_WORKER_PARTS_MAX
    int64_t clock_us;      //  when the last job ended, or the JOB began
    zaio_batch_t done;     //  the DONE being filled
    zmq_msg_t *data;       //  its data frames (done.data_count): ZAIO_CREDIT_MAX
    int64_t done_since_us; //  when its first completion was added
    char host[64];
} s_worker_t;

static zaio_volume_t *
s_find_volume (s_worker_t *self, const char *name)
{
    for (size_t i = 0; i < self->config.volume_count; i++)
        if (streq (zaio_volume_name (self->config.volumes[i]), name))
            return self->config.volumes[i];
    return NULL;
}

zmsg_t *
zaio_worker_ready_message (zaio_volume_t **volumes, size_t volume_count, uint32_t credit,
                           const char *host, uint32_t slot, uint32_t heartbeat_ms)
{
    zaio_ready_t ready;
    memset (&ready, 0, sizeof ready);
    ready.credit = credit;
    snprintf (ready.host, sizeof ready.host, "%s", host);
    ready.pid = (uint32_t)getpid ();
    ready.slot = slot;
    ready.heartbeat_ms = heartbeat_ms;
    for (size_t i = 0; i < volume_count && i < ZAIO_WORKER_VOLUMES_MAX; i++) {
        snprintf (ready.volumes[i].name, sizeof ready.volumes[i].name, "%s",
                  zaio_volume_name (volumes[i]));
        ready.volumes[i].readonly = zaio_volume_readonly (volumes[i]);
        ready.volume_count++;
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg,
                 &(zframe_t *){zaio_envelope_frame (ZAIO_WORKER_READY, zaio_fence_clock_us ())});
    zmsg_append (msg, &(zframe_t *){zaio_ready_encode (&ready)});
    return msg;
}

//  True if job, whose JOB came with fence until_us, must not start now:
//  it is of a broker connection since replaced (its DONE goes nowhere),
//  or it is not idempotent and its fence has passed (the broker may have
//  given up on it, and run late it could undo newer work). Read right
//  before the op, so nothing but the op's own calls comes between.
static bool
s_fenced (s_worker_t *self, uint64_t job, uint64_t until_us, zaio_op_t op)
{
    zaio_fence_verdict_t verdict =
        zaio_fence_check (self->config.fence, job, until_us, zaio_fence_clock_us ());
    return verdict == ZAIO_FENCE_OLD || (verdict == ZAIO_FENCE_PASSED && !zaio_op_idempotent (op));
}

//  A job about to make a late change (zaio_ops_gate_fn): may it still?
typedef struct {
    s_worker_t *self;
    uint64_t job;
    uint64_t until_us;
    zaio_op_t op;
} s_gate_t;

static bool
s_gate_open (void *arg)
{
    s_gate_t *gate = (s_gate_t *)arg;
    return !s_fenced (gate->self, gate->job, gate->until_us, gate->op);
}

//  Sends the DONE being filled, if it holds any completion. A DEALER
//  with no HWM does not refuse parts once the first is queued.
static void
s_send_done (s_worker_t *self)
{
    if (self->done.count == 0) return;
    void *handle = zsock_resolve (self->dealer);
    uint32_t count = self->done.data_count; //  before zaio_batch_part resets it
    zmq_msg_t part;
    zaio_batch_part (&self->done, &part);
    if (zmq_msg_send (&part, handle, count ? ZMQ_SNDMORE : 0) == -1) zmq_msg_close (&part);
    for (uint32_t i = 0; i < count; i++)
        if (zmq_msg_send (&self->data[i], handle, i + 1 < count ? ZMQ_SNDMORE : 0) == -1)
            zmq_msg_close (&self->data[i]);
    zaio_batch_start (&self->done, ZAIO_WORKER_DONE, 0);
}

//  True if a job may block long: completions waiting go before it.
static bool
s_may_block (const zaio_request_t *req, const zaio_entry_t *entry, zmq_msg_t *data)
{
    switch (req->op) {
        case ZAIO_OP_PING:
        case ZAIO_OP_STAT:
            return false;
        case ZAIO_OP_READ:
            return req->length > S_QUICK_BYTES;
        case ZAIO_OP_WRITE:
        case ZAIO_OP_APPEND:
            return !entry->has_data || zmq_msg_size (data) > S_QUICK_BYTES;
        default:
            return true;
    }
}

//  Runs one job of a JOB fenced at until_us (entry, and data its data
//  frame or NULL) and adds its completion to the DONE being filled: the
//  outcome and the reply header and data; a fenced job (s_fenced) is
//  answered UNKNOWN_OUTCOME, not run, and so is one the fence passes by
//  before its late change (s_gate_open). The header is decoded again
//  here, strictly, because a worker trusts its connection no more than a
//  broker. The job's service time runs from the end of the job before it:
//  one clock read a job.
static void
s_run_job (s_worker_t *self, const zaio_entry_t *entry, uint64_t until_us, zmq_msg_t *data)
{
    uint64_t job_number = entry->job;
    zaio_request_t req;
    char why[256] = "";
    zaio_ops_result_t result;
    memset (&result, 0, sizeof result);
    int code = zaio_request_decode (&req, entry->header, entry->header_size, why, sizeof why);
    zaio_volume_t *volume = NULL;
    if (code == 0) {
        volume = s_find_volume (self, zaio_request_volume (&req));
        if (!volume) {
            code = ZAIO_ERR_NOVOLUME;
            snprintf (why, sizeof why, "this worker does not serve volume '%s'",
                      zaio_request_volume (&req));
        } else if (zaio_op_takes_data (req.op) != (data != NULL)) {
            code = ZAIO_ERR_MALFORMED;
            snprintf (why, sizeof why, "data frame does not match op '%s'", zaio_op_name (req.op));
        } else if (s_may_block (&req, entry, data)) {
            s_send_done (self);
        }
    }
    //  The fence is read right before the op's first system call: after
    //  the DONE that may have gone just above, not before it.
    if (code == 0 && s_fenced (self, job_number, until_us, req.op)) {
        code = ZAIO_ERR_UNKNOWN_OUTCOME;
        snprintf (why, sizeof why,
                  "not run: the worker was out of touch with the broker, which may have "
                  "given up on the job");
    }
    if (code == 0) {
        s_gate_t gate = {self, job_number, until_us, req.op};
        zaio_ops_execute (volume, &req, data, self->config.payload_max, self->files, s_gate_open,
                          &gate, &result);
    } else {
        zaio_reply_error_part (&result.header, req.id, code, why);
        result.outcome.error = code;
    }
    int64_t started = self->clock_us;
    self->clock_us = zclock_usecs ();
    result.outcome.service_us = (uint64_t)(self->clock_us - started);

    if (self->done.count == 0) self->done_since_us = self->clock_us;
    zaio_batch_add_done (&self->done, job_number, &result.outcome, zmq_msg_data (&result.header),
                         zmq_msg_size (&result.header), result.has_data,
                         result.has_data ? zmq_msg_size (&result.data) : 0);
    zmq_msg_close (&result.header);
    if (result.has_data) {
        //  zaio_batch_add_done counted it: its frame is the last one.
        zmq_msg_t *frame = &self->data[self->done.data_count - 1];
        zmq_msg_init (frame);
        zmq_msg_move (frame, &result.data);
        zmq_msg_close (&result.data);
    }
    if (zaio_batch_full (&self->done) || self->clock_us - self->done_since_us >= S_DONE_WAIT_US)
        s_send_done (self);
}

//  One JOB: [envelope and entries][data frames], count parts, its jobs
//  run in order. A malformed JOB is dropped whole, with a log line.
static void
s_handle_message (s_worker_t *self, zmq_msg_t *parts, int count)
{
    uint64_t number;
    int command = zaio_envelope_get (zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]), &number);
    if (command == -1) {
        zaio_log_warning ("worker", "message without a %s envelope dropped", ZAIO_WORKER_SIGNATURE);
        return;
    }
    if (command == ZAIO_WORKER_HEARTBEAT) return;
    zaio_entries_t entries;
    if (command != ZAIO_WORKER_JOB || count > ZAIO_WORKER_PARTS_MAX ||
        zaio_entries_open (&entries, zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]),
                           (size_t)count - 1)) {
        zaio_log_warning ("worker", "malformed or unexpected message (command %d) dropped",
                          command);
        return;
    }
    zaio_entry_t entry;
    int data = 1;
    while (zaio_entries_next (&entries, &entry))
        s_run_job (self, &entry, entries.number, entry.has_data ? &parts[data++] : NULL);
}

//  Runs every job that has arrived, JOB by JOB: each JOB's jobs were all
//  sent before the file cache's recheck, so one look at a file serves
//  them all (zaio_fdcache.h). The DONE being filled goes once no JOB is
//  waiting (s_send_done's rule, at the top of this file). Returns after a
//  receive that found nothing, with nothing sent since and nothing left
//  unsent: a send may take in the socket's word that a JOB has arrived,
//  and the ZMQ_FD the loop then waits on would not wake for it.
static void
s_handle_dealer (s_worker_t *self)
{
    void *handle = zsock_resolve (self->dealer);
    while (true) {
        int count = zaio_sock_recv_parts (handle, self->parts, ZAIO_WORKER_PARTS_MAX);
        if (count <= 0 && self->done.count == 0) break;
        if (count <= 0) {
            s_send_done (self); //  then receive once more
            continue;
        }
        zaio_fdcache_recheck (self->files);
        self->clock_us = zclock_usecs ();
        s_handle_message (self, self->parts, count);
        for (int part = 0; part < count && part < ZAIO_WORKER_PARTS_MAX; part++)
            zmq_msg_close (&self->parts[part]);
    }
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    s_worker_t self;
    memset (&self, 0, sizeof self);
    self.pipe = pipe;
    self.config = *(const zaio_worker_config_t *)args;
    char name[16]; //  the most a thread name holds
    snprintf (name, sizeof name, "zaio-io-%u", self.config.slot);
    prctl (PR_SET_NAME, name);
    if (gethostname (self.host, sizeof self.host - 1)) strcpy (self.host, "localhost");
    self.files = zaio_fdcache_new (S_CACHE_FILES);
    self.parts = (zmq_msg_t *)zmalloc (ZAIO_WORKER_PARTS_MAX * sizeof (zmq_msg_t));
    self.data = (zmq_msg_t *)zmalloc (ZAIO_CREDIT_MAX * sizeof (zmq_msg_t));
    zaio_batch_init (&self.done);
    zaio_batch_start (&self.done, ZAIO_WORKER_DONE, 0);
    self.dealer = zsock_new (ZMQ_DEALER);
    assert (self.dealer);
    zsock_set_linger (self.dealer, 0);
    zsock_set_sndhwm (self.dealer, 0); //  credit bounds what we hold
    zsock_set_rcvhwm (self.dealer, 0);
    zsock_set_rcvtimeo (self.dealer, 0);
    int rc = zsock_connect (self.dealer, "%s", self.config.endpoint);
    if (rc == 0) {
        //  READY goes before the signal, so it is on its way by the time
        //  zaio_worker_new returns: a broker that starts its workers before
        //  it answers its caller takes their READYs (its backend first)
        //  before any request, and never answers NOVOLUME for lack of them.
        //  heartbeat_ms 0: in-process, or behind a relay that heartbeats.
        zmsg_t *ready =
            zaio_worker_ready_message (self.config.volumes, self.config.volume_count,
                                       self.config.credit, self.host, self.config.slot, 0);
        if (zmsg_send (&ready, self.dealer)) zmsg_destroy (&ready);
    }
    //  zactor_new consumes the first signal; the second carries our status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, rc == 0 ? 0 : 1);
    if (rc == 0) {
        //  Each turn ends with a receive that found nothing on the dealer
        //  and, if it fired, a look at the pipe until it was empty: so
        //  waiting on their ZMQ_FDs is safe (zaio_sock_wait).
        zsock_t *socks[] = {pipe, self.dealer};
        bool readable[2] = {true, true};
        bool running = true;
        size_t open_files = 0;
        while (running) {
            while (running && readable[0] && (zsock_events (pipe) & ZMQ_POLLIN)) {
                char *command = zstr_recv (pipe);
                running = !(command && streq (command, "$TERM"));
                zstr_free (&command);
            }
            if (!running) break;
            s_handle_dealer (&self);
            //  Signals are the broker's business, not ours: EINTR just loops.
            zaio_sock_wait (socks, 2, open_files ? S_CACHE_IDLE_MS : -1, readable);
            open_files = zaio_fdcache_expire (self.files, S_CACHE_IDLE_MS);
        }
    }
    zsock_destroy (&self.dealer);
    zaio_fdcache_destroy (&self.files);
    zaio_batch_release (&self.done);
    free (self.data);
    free (self.parts);
}

zactor_t *
zaio_worker_new (const zaio_worker_config_t *config)
{
    assert (config && config->endpoint && config->credit >= 1);
    zactor_t *actor = zactor_new (s_worker_actor, (void *)config);
    if (actor && zsock_wait (actor) != 0) zactor_destroy (&actor);
    return actor;
}

void
zaio_worker_destroy (zactor_t **self_p)
{
    zactor_destroy (self_p);
}
