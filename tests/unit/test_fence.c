/*  test_fence: a zaio-worker starts no non-idempotent job past its fence
    (zaio_fence.h, schemas/PROTOCOL.md section 9).

    1. verdicts: zaio_fence_check on its own: a job's own fence, the
       connection's newest one, a job of a connection replaced, and a
       thread of the broker's own (no shared fence).
    2. relay: the test plays the broker on a ROUTER. The relay stamps its
       READY with its clock; a writefile whose fence has passed is
       answered UNKNOWN_OUTCOME and not run, a stat past its fence runs;
       after a HEARTBEAT carrying a fence to come, a writefile whose own
       fence has passed runs.
    3. busy: a relay kept busy (a job sent as soon as the last is done)
       still sends a stamped HEARTBEAT every interval: the fences the
       broker sends are only as fresh as the stamps it hears.
*/

#include "testutil.h"
#include "zaio_fence.h"
#include "zaio_relay.h"
#include "zaio_volume.h"

#include <string.h>

#define S_TIMEOUT_MS        5000
#define S_AHEAD_US          (60 * 1000 * 1000) //  a fence a minute ahead
#define S_DRAIN_MS          100
#define S_BUSY_HEARTBEAT_MS 50
#define S_BUSY_MS           1000 //  how long the relay is kept busy

//  ---------------------------------------------------------------------
//  1. verdicts

static void
s_test_verdicts (void)
{
    //  A thread of the broker's: only the job's own fence counts.
    assert (zaio_fence_check (NULL, 1, ZAIO_FENCE_NONE, UINT64_MAX - 1) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (NULL, 1, 100, 99) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (NULL, 1, 100, 100) == ZAIO_FENCE_PASSED);

    zaio_fence_t *fence = zaio_fence_new ();
    //  No connection yet: nothing shared has come.
    assert (zaio_fence_check (fence, 1, 0, 1) == ZAIO_FENCE_PASSED);
    zaio_fence_connection (fence, 1);
    assert (zaio_fence_check (fence, 1, 50, 60) == ZAIO_FENCE_PASSED);
    //  The connection's newest fence opens its jobs whose own has passed;
    //  an older one changes nothing.
    zaio_fence_extend (fence, 200);
    zaio_fence_extend (fence, 150);
    assert (zaio_fence_check (fence, 1, 50, 199) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (fence, 1, 50, 200) == ZAIO_FENCE_PASSED);
    assert (zaio_fence_check (fence, 1, 300, 250) == ZAIO_FENCE_OPEN);
    //  A new connection from job 5 on: the jobs before are old, whatever
    //  their fences, and its own fence starts passed.
    zaio_fence_connection (fence, 5);
    assert (zaio_fence_check (fence, 4, ZAIO_FENCE_NONE, 10) == ZAIO_FENCE_OLD);
    assert (zaio_fence_check (fence, 5, 50, 100) == ZAIO_FENCE_PASSED);
    zaio_fence_extend (fence, 1000);
    assert (zaio_fence_check (fence, 5, 50, 100) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (fence, 4, 50, 100) == ZAIO_FENCE_OLD);
    zaio_fence_destroy (&fence);
    zaio_fence_destroy (&fence);
    assert (!fence);
    //  The clock moves on.
    uint64_t before = zaio_fence_clock_us ();
    zclock_sleep (2);
    assert (zaio_fence_clock_us () > before);
}

//  ---------------------------------------------------------------------
//  2. relay

//  The next message from the relay other than a heartbeat. Returns its
//  command, its envelope's number in *number; *msg_p to destroy.
static int
s_expect (zsock_t *broker, zmsg_t **msg_p, uint64_t *number)
{
    int command;
    zpoller_t *poller = zpoller_new (broker, NULL);
    do {
        assert (zpoller_wait (poller, S_TIMEOUT_MS) == broker);
        *msg_p = zmsg_recv (broker);
        assert (*msg_p && zmsg_size (*msg_p) >= 2);
        zmsg_first (*msg_p);
        zframe_t *envelope = zmsg_next (*msg_p);
        command = zaio_test_worker_command (envelope, zmsg_size (*msg_p) - 2, number, NULL);
        assert (command != -1);
        if (command == ZAIO_WORKER_HEARTBEAT) zmsg_destroy (msg_p);
    } while (command == ZAIO_WORKER_HEARTBEAT);
    zpoller_destroy (&poller);
    return command;
}

//  Sends the relay at identity a JOB (number, fence until_us) for req,
//  with data if not NULL.
static void
s_job (zsock_t *broker, zframe_t *identity, uint64_t number, uint64_t until_us,
       const zaio_request_t *req, const char *data)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (identity)});
    zframe_t *header = zaio_request_encode (req);
    zframe_t *body = data ? zframe_from (data) : NULL;
    zmsg_t *job = zaio_test_job_message (number, until_us, &header, &body);
    zmsg_append (msg, &(zframe_t *){zmsg_pop (job)});
    if (zmsg_size (job)) zmsg_append (msg, &(zframe_t *){zmsg_pop (job)});
    zmsg_destroy (&job);
    assert (zmsg_send (&msg, broker) == 0);
}

//  The DONE for job number must come next; returns its outcome's error.
static int
s_done (zsock_t *broker, uint64_t number)
{
    zmsg_t *msg;
    uint64_t job;
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_DONE && job == number);
    zmsg_first (msg);
    zframe_t *envelope = zmsg_next (msg);
    zaio_entry_t entry;
    zaio_test_worker_command (envelope, zmsg_size (msg) - 2, &job, &entry);
    zmsg_destroy (&msg);
    return entry.outcome.error;
}

static void
s_writefile (zaio_request_t *req, uint64_t id, const char *path)
{
    zaio_request_init (req, ZAIO_OP_WRITEFILE, id);
    zaio_request_set_str (req, ZAIO_FIELD_PATH, path);
}

//  A relay serving one volume on a fresh root, and the test as its
//  broker: a ROUTER the relay connects to.
typedef struct {
    char *root;
    zaio_volume_t *volume;
    zsock_t *broker;
    char *endpoint;
    zactor_t *relay;
    zframe_t *identity; //  the relay's, on broker
    uint64_t ready;     //  the stamp of its READY
} s_rig_t;

//  Starts the relay with credit and heartbeat_ms, as name; returns once
//  its READY has come.
static void
s_rig_start (s_rig_t *self, uint32_t credit, uint32_t heartbeat_ms, const char *name)
{
    self->root = zaio_test_tempdir (name);
    self->volume = zaio_volume_new (ZAIO_DEFAULT_VOLUME, self->root, false, false);
    assert (self->volume);
    self->broker = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->broker, 0);
    assert (zsock_bind (self->broker, "tcp://127.0.0.1:*") > 0);
    self->endpoint = zsock_last_endpoint (self->broker);
    zaio_relay_config_t config = {
        .broker = self->endpoint,
        .volumes = &self->volume,
        .volume_count = 1,
        .threads = 1,
        .credit = credit,
        .payload_max = ZAIO_PAYLOAD_MAX,
        .heartbeat_ms = heartbeat_ms,
        .heartbeat_misses = 3,
        .drain_ms = S_DRAIN_MS, //  the test answers no BYE: it leaves when this is up
        .name = name,
    };
    self->relay = zaio_relay_new (&config);
    assert (self->relay);
    zmsg_t *msg;
    assert (s_expect (self->broker, &msg, &self->ready) == ZAIO_WORKER_READY);
    self->identity = zframe_dup (zmsg_first (msg));
    zmsg_destroy (&msg);
}

static void
s_rig_stop (s_rig_t *self)
{
    zaio_relay_destroy (&self->relay);
    zframe_destroy (&self->identity);
    zstr_free (&self->endpoint);
    zsock_destroy (&self->broker);
    zaio_volume_destroy (&self->volume);
    zaio_test_rmtree (self->root);
    zstr_free (&self->root);
}

static void
s_test_relay (void)
{
    uint64_t before = zaio_fence_clock_us ();
    s_rig_t rig;
    s_rig_start (&rig, 4, ZAIO_TEST_QUIET_HEARTBEAT_MS, "fenced");
    zsock_t *broker = rig.broker;
    zframe_t *identity = rig.identity;
    const char *root = rig.root;
    //  READY is stamped with the relay's clock.
    assert (rig.ready >= before && rig.ready <= zaio_fence_clock_us ());

    //  Past its fence, a writefile is not run; a stat is.
    zaio_request_t req;
    s_writefile (&req, 1, "late");
    s_job (broker, identity, 1, 1, &req, "late");
    assert (s_done (broker, 1) == ZAIO_ERR_UNKNOWN_OUTCOME);
    zaio_request_init (&req, ZAIO_OP_STAT, 2);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, ".");
    s_job (broker, identity, 2, 1, &req, NULL);
    assert (s_done (broker, 2) == 0);
    size_t size;
    assert (!zaio_test_read_file (root, "late", &size));

    //  A HEARTBEAT's fence to come covers the jobs after it.
    zmsg_t *heartbeat = zmsg_new ();
    zmsg_append (heartbeat, &(zframe_t *){zframe_dup (identity)});
    zmsg_append (heartbeat, &(zframe_t *){zaio_envelope_frame (
                                ZAIO_WORKER_HEARTBEAT, zaio_fence_clock_us () + S_AHEAD_US)});
    assert (zmsg_send (&heartbeat, broker) == 0);
    s_writefile (&req, 3, "covered");
    s_job (broker, identity, 3, 1, &req, "covered");
    assert (s_done (broker, 3) == 0);
    char *content = zaio_test_read_file (root, "covered", &size);
    assert (content && size == 7 && memcmp (content, "covered", 7) == 0);
    free (content);

    s_rig_stop (&rig);
}

//  ---------------------------------------------------------------------
//  3. busy

static void
s_test_busy (void)
{
    s_rig_t rig;
    s_rig_start (&rig, 1, S_BUSY_HEARTBEAT_MS, "busy");
    zsock_t *broker = rig.broker;
    zframe_t *identity = rig.identity;
    zmsg_t *msg;
    uint64_t number;

    //  One job at a time, the next as soon as the last is done, so a DONE
    //  goes far more often than every interval; the jobs' own fence keeps
    //  the relay's patience (every JOB is heard).
    zaio_request_t req;
    uint64_t job = 1, last_stamp = 0;
    uint32_t heartbeats = 0, dones = 0;
    zaio_request_init (&req, ZAIO_OP_PING, job);
    s_job (broker, identity, job, ZAIO_FENCE_NONE, &req, NULL);
    zpoller_t *poller = zpoller_new (broker, NULL);
    int64_t until = zclock_mono () + S_BUSY_MS;
    while (zclock_mono () < until) {
        assert (zpoller_wait (poller, S_TIMEOUT_MS) == broker);
        msg = zmsg_recv (broker);
        zmsg_first (msg);
        zframe_t *envelope = zmsg_next (msg);
        int command = zaio_test_worker_command (envelope, zmsg_size (msg) - 2, &number, NULL);
        if (command == ZAIO_WORKER_HEARTBEAT) {
            assert (number > last_stamp && number <= zaio_fence_clock_us ());
            last_stamp = number;
            heartbeats++;
        } else {
            assert (command == ZAIO_WORKER_DONE && number == job);
            dones++;
            zaio_request_init (&req, ZAIO_OP_PING, ++job);
            s_job (broker, identity, job, ZAIO_FENCE_NONE, &req, NULL);
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    printf ("busy for %d ms: %u DONEs, %u HEARTBEATs (one due every %d ms)\n", S_BUSY_MS, dones,
            heartbeats, S_BUSY_HEARTBEAT_MS);
    //  Room for a busy machine, which may stall the relay for a while.
    assert (dones > 2 * (S_BUSY_MS / S_BUSY_HEARTBEAT_MS));
    assert (heartbeats >= S_BUSY_MS / S_BUSY_HEARTBEAT_MS / 2);

    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_verdicts),
        ZAIO_TEST_CASE (s_test_relay),
        ZAIO_TEST_CASE (s_test_busy),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
