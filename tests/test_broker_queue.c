/*  test_broker_queue: bounded queues answer QUEUE_FULL at once, deadlines
    answer ETIMEDOUT, unknown volumes answer NOVOLUME, hello reports what is
    in force, a job with a deadline never waits in a busy worker's queue,
    a worker that sends garbage (or will not heartbeat over tcp) is dropped
    without harm, a client that floods the queue leaves the others their
    share, and every request still gets exactly one reply.

    Jobs are held running by workers the test drives by hand, serving the
    volumes "slow" (credit 1) and "wide" (credit 4). */

#include "testutil.h"

#include <string.h>
#include <unistd.h>

static void
s_send_ping_to (zsock_t *client, const char *volume, uint64_t id, int64_t deadline_ms)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    if (deadline_ms >= 0) zaio_request_set_uint (&req, ZAIO_FIELD_DEADLINE, (uint64_t)deadline_ms);
    zaio_test_send (client, &req, NULL, 0);
}

static void
s_send_ping (zsock_t *client, uint64_t id, int64_t deadline_ms)
{
    s_send_ping_to (client, "slow", id, deadline_ms);
}

//  Nothing arrives on sock (a client or a fake worker) for ms.
static void
s_expect_silence (zsock_t *sock, int ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    assert (zpoller_wait (poller, ms) == NULL);
    zpoller_destroy (&poller);
}

//  A broker with room for 5 queued jobs, 3 per client; a worker serving
//  "slow" that takes one job at a time, known to the broker; alice over
//  inproc and bob over tcp.
typedef struct {
    zaio_test_broker_t broker;
    char *worker_endpoint;
    zsock_t *worker;
    zsock_t *alice;
    zsock_t *bob;
} s_rig_t;

static char *s_start_broker (zaio_test_broker_t *broker, uint32_t queue_max, uint32_t inflight_max);

static void
s_rig_start (s_rig_t *rig)
{
    rig->worker_endpoint = s_start_broker (&rig->broker, 5, 3);
    rig->worker =
        zaio_test_fake_worker (rig->worker_endpoint, "slow", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->alice = zaio_test_client (rig->broker.inproc);
    rig->bob = zaio_test_client (rig->broker.tcp);
    zaio_test_fake_known (rig->broker.inproc, rig->worker, "slow");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zstr_free (&rig->worker_endpoint);
    zsock_destroy (&rig->worker);
    zsock_destroy (&rig->alice);
    zsock_destroy (&rig->bob);
    zaio_test_broker_stop (&rig->broker);
}

//  A worker serving "wide" with room for four jobs, known to the broker.
static zsock_t *
s_wide_worker (s_rig_t *rig)
{
    zsock_t *wide =
        zaio_test_fake_worker (rig->worker_endpoint, "wide", 4, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig->broker.inproc, wide, "wide");
    return wide;
}

//  The worker "wide" could hold four jobs, but a job with a deadline only
//  goes to it when it holds none, and jobs without one wait behind it.
static void
s_test_deadline_waits_for_idle (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *alice = rig.alice, *bob = rig.bob, *wide = s_wide_worker (&rig);
    uint64_t jobs[2], job;
    zaio_request_t taken;
    s_send_ping_to (alice, "wide", 40, -1);
    s_send_ping_to (alice, "wide", 41, -1);
    zaio_test_fake_take (wide, &jobs[0], &taken, 5000);
    assert (taken.id == 40);
    zaio_test_fake_take (wide, &jobs[1], &taken, 5000);
    assert (taken.id == 41);
    s_send_ping_to (alice, "wide", 42, 5000);
    s_send_ping_to (bob, "wide", 43, -1);
    s_expect_silence (wide, 200);
    zaio_test_fake_done (wide, jobs[0], 40, 0);
    zaio_test_expect (alice, 40, 0);
    s_expect_silence (wide, 200);
    zaio_test_fake_done (wide, jobs[1], 41, 0);
    zaio_test_expect (alice, 41, 0);
    zaio_test_fake_take (wide, &job, &taken, 5000);
    assert (taken.id == 42);
    zaio_test_fake_done (wide, job, 42, 0);
    zaio_test_fake_take (wide, &job, &taken, 5000);
    assert (taken.id == 43);
    zaio_test_fake_done (wide, job, 43, 0);
    zaio_test_expect (alice, 42, 0);
    zaio_test_expect (bob, 43, 0);
    zsock_destroy (&wide);
    s_rig_stop (&rig);
}

//  Deadline 0: the job runs if a worker can take it at once, and is
//  answered ETIMEDOUT if none can.
static void
s_test_deadline_zero (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *alice = rig.alice, *bob = rig.bob, *slow = rig.worker;
    uint64_t job;
    zaio_request_t taken;
    s_send_ping (alice, 60, 0); //  the worker is idle
    zaio_test_fake_take (slow, &job, &taken, 5000);
    assert (taken.id == 60);
    s_send_ping (bob, 61, 0); //  the worker is busy
    zaio_test_expect (bob, 61, ETIMEDOUT);
    zaio_test_fake_done (slow, job, 60, 0);
    zaio_test_expect (alice, 60, 0);
    s_expect_silence (slow, 100);
    s_rig_stop (&rig);
}

//  When the job with a deadline that held the others back expires, they
//  go to the worker that had room all along, not when its job ends.
static void
s_test_deadline_expiry_frees_queue (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *alice = rig.alice, *bob = rig.bob, *wide = s_wide_worker (&rig);
    uint64_t running, job;
    zaio_request_t taken;
    s_send_ping_to (alice, "wide", 70, -1);
    zaio_test_fake_take (wide, &running, &taken, 5000);
    assert (taken.id == 70);
    s_send_ping_to (bob, "wide", 71, 50); //  waits for an idle worker, and expires
    s_send_ping_to (bob, "wide", 72, -1); //  waits behind it (one connection: in order)
    zaio_test_expect (bob, 71, ETIMEDOUT);
    zaio_test_fake_take (wide, &job, &taken, 1000);
    assert (taken.id == 72);
    zaio_test_fake_done (wide, job, 72, 0);
    zaio_test_fake_done (wide, running, 70, 0);
    zaio_test_expect (bob, 72, 0);
    zaio_test_expect (alice, 70, 0);
    zsock_destroy (&wide);
    s_rig_stop (&rig);
}

//  Checks hello reports what is configured; returns how many volumes it
//  lists.
static uint32_t
s_check_hello (zsock_t *client)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_HELLO, 1);
    zaio_test_send (client, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, 5000);
    assert (reply.ok && reply.id == 1);
    //  Walk the whole header for the facts we configured.
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, reply.hello, reply.hello_size);
    uint32_t count;
    assert (zaio_cursor_map (&cursor, &count) == 0);
    bool saw_limits = false, saw_volume = false;
    uint32_t ops = 0, volumes = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        assert (zaio_cursor_str (&cursor, &key, &len) == 0);
        if (len == 6 && memcmp (key, "limits", 6) == 0) {
            uint32_t limits;
            assert (zaio_cursor_map (&cursor, &limits) == 0);
            for (uint32_t l = 0; l < limits; l++) {
                const char *name;
                uint32_t name_len;
                uint64_t value;
                assert (zaio_cursor_str (&cursor, &name, &name_len) == 0);
                assert (zaio_cursor_uint (&cursor, &value) == 0);
                if (name_len == 9 && memcmp (name, "queue_max", 9) == 0) assert (value == 5);
                if (name_len == 12 && memcmp (name, "inflight_max", 12) == 0) assert (value == 3);
                if (name_len == 9 && memcmp (name, "reply_hwm", 9) == 0) assert (value == 128);
            }
            saw_limits = true;
        } else if (len == 3 && memcmp (key, "ops", 3) == 0) {
            assert (zaio_cursor_array (&cursor, &ops) == 0);
            for (uint32_t o = 0; o < ops; o++) assert (zaio_cursor_skip (&cursor, 1) == 0);
        } else if (len == 7 && memcmp (key, "volumes", 7) == 0) {
            assert (zaio_cursor_array (&cursor, &volumes) == 0);
            for (uint32_t v = 0; v < volumes; v++) assert (zaio_cursor_skip (&cursor, 2) == 0);
            saw_volume = true;
        } else
            assert (zaio_cursor_skip (&cursor, 3) == 0);
    }
    assert (saw_limits && saw_volume && ops == ZAIO_OP_COUNT);
    zmsg_destroy (&msg);
    return volumes;
}

static void s_announce (zsock_t *worker, char names[][ZAIO_VOLUME_MAX + 1], uint32_t count);

//  Garbage on the worker endpoint: messages that are not ZAIOW/5 (READYs
//  of the older ZAIOW/1 and ZAIOW/2 among them, and a DONE too short for
//  its entries) are dropped, and a worker that sends a
//  malformed DONE is dropped too, its job answered once.
static void
s_test_worker_garbage (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    const char *worker_endpoint = rig.worker_endpoint;
    zsock_t *alice = rig.alice;
    zsock_t *stranger = zaio_test_client (worker_endpoint);
    uint8_t envelope[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (envelope, ZAIO_WORKER_DONE, 1);
    zstr_send (stranger, "ZAIOW/4");
    zstr_sendm (stranger, "ZAIOW/1");
    zstr_sendm (stranger, "READY");
    zstr_send (stranger, "{}");
    zmq_send (zsock_resolve (stranger), envelope, sizeof envelope - 1, 0);
    zmq_send (zsock_resolve (stranger), envelope, sizeof envelope, 0); //  from no worker
    envelope[7] = ZAIO_WORKER_BYE + 1;
    zmq_send (zsock_resolve (stranger), envelope, sizeof envelope, 0);
    zaio_envelope_put (envelope, ZAIO_WORKER_READY, 0);
    zmq_send (zsock_resolve (stranger), envelope, sizeof envelope, ZMQ_SNDMORE);
    zstr_send (stranger, "not msgpack");
    zaio_ready_t ready = {.credit = 1, .volume_count = 1, .volumes = {{.name = "junk"}}};
    zframe_t *body = zaio_ready_encode (&ready);
    envelope[6] = '2';
    zmq_send (zsock_resolve (stranger), envelope, sizeof envelope, ZMQ_SNDMORE);
    zframe_send (&body, stranger, 0);

    zsock_t *junk =
        zaio_test_fake_worker (worker_endpoint, "junk", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig.broker.inproc, junk, "junk");
    s_send_ping_to (alice, "junk", 40, -1);
    uint64_t job;
    zaio_request_t taken;
    zaio_test_fake_take (junk, &job, &taken, 5000);
    assert (taken.id == 40);
    zaio_envelope_put (envelope, ZAIO_WORKER_DONE, job);
    zmq_send (zsock_resolve (junk), envelope, sizeof envelope, 0); //  no outcome, no header
    zaio_test_expect (alice, 40, ZAIO_ERR_NOVOLUME);
    s_expect_silence (alice, 200);

    //  A worker over tcp that will not heartbeat could die unnoticed. Its
    //  READY, ignored, is followed on the same connection by one that is
    //  taken: once that one serves, the broker has seen both.
    zsock_t *silent = zaio_test_fake_worker (worker_endpoint, "silent", 1, 0);
    char after[1][ZAIO_VOLUME_MAX + 1] = {"after"};
    s_announce (silent, after, 1);
    zaio_test_fake_known (rig.broker.inproc, silent, "after");
    s_send_ping_to (alice, "silent", 43, -1);
    zaio_test_expect (alice, 43, ZAIO_ERR_NOVOLUME);

    //  Still serving, and nothing the stranger sent made it a worker.
    s_send_ping_to (alice, "default", 41, -1);
    zaio_test_expect (alice, 41, 0);
    s_send_ping_to (alice, "junk", 42, -1);
    zaio_test_expect (alice, 42, ZAIO_ERR_NOVOLUME);
    zsock_destroy (&silent);
    zsock_destroy (&junk);
    zsock_destroy (&stranger);
    s_rig_stop (&rig);
}

//  Announces names[0..count) as the volumes of worker, a connection to
//  the worker endpoint.
static void
s_announce (zsock_t *worker, char names[][ZAIO_VOLUME_MAX + 1], uint32_t count)
{
    zaio_ready_t ready = {.credit = 1, .heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS};
    for (uint32_t i = 0; i < count; i++) strcpy (ready.volumes[i].name, names[i]);
    ready.volume_count = count;
    zframe_t *envelope = zaio_envelope_frame (ZAIO_WORKER_READY, 0);
    zframe_send (&envelope, worker, ZFRAME_MORE);
    zframe_t *body = zaio_ready_encode (&ready);
    zframe_send (&body, worker, 0);
}

//  The fake worker says BYE, and hears the broker's.
static void
s_bye (zsock_t *worker)
{
    zframe_t *bye = zaio_envelope_frame (ZAIO_WORKER_BYE, 0);
    zframe_send (&bye, worker, 0);
    zframe_t *answer = zframe_recv (worker);
    uint64_t number;
    assert (answer && zaio_envelope_get (zframe_data (answer), zframe_size (answer), &number) ==
                          ZAIO_WORKER_BYE);
    zframe_destroy (&answer);
}

//  The number of volumes is bounded: a READY that would pass
//  ZAIO_BROKER_VOLUMES_MAX is ignored, one that names known volumes is
//  not (a volume whose worker has gone stays known for a while).
static void
s_test_volume_bound (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    const char *worker_endpoint = rig.worker_endpoint;
    zsock_t *alice = rig.alice;
    //  A volume known, whose only worker has gone (said BYE, and heard it).
    zsock_t *gone =
        zaio_test_fake_worker (worker_endpoint, "junk", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig.broker.inproc, gone, "junk");
    s_bye (gone);
    zsock_destroy (&gone);

    enum { WORKERS_MAX = ZAIO_BROKER_VOLUMES_MAX / ZAIO_WORKER_VOLUMES_MAX + 3 };
    zsock_t *workers[WORKERS_MAX];
    uint32_t known = s_check_hello (alice), count = 0;
    char names[ZAIO_WORKER_VOLUMES_MAX][ZAIO_VOLUME_MAX + 1];
    //  Up to one short of the bound: these fit in whatever order they come.
    //  Each worker is known once it serves the first of its volumes.
    while (known < ZAIO_BROKER_VOLUMES_MAX - 1) {
        uint32_t batch = ZAIO_BROKER_VOLUMES_MAX - 1 - known;
        if (batch > ZAIO_WORKER_VOLUMES_MAX) batch = ZAIO_WORKER_VOLUMES_MAX;
        for (uint32_t i = 0; i < batch; i++) snprintf (names[i], sizeof names[i], "v%u", known + i);
        workers[count] = zaio_test_client (worker_endpoint);
        s_announce (workers[count], names, batch);
        zaio_test_fake_known (rig.broker.inproc, workers[count++], names[0]);
        known += batch;
    }
    assert (s_check_hello (alice) == known);
    //  On one connection, taken in order: two new volumes (one too many,
    //  ignored), then one (accepted). Once that one serves, the broker has
    //  seen both.
    zsock_t *last = workers[count++] = zaio_test_client (worker_endpoint);
    strcpy (names[0], "last");
    strcpy (names[1], "one-too-many");
    s_announce (last, names, 2);
    s_announce (last, names, 1);
    zaio_test_fake_known (rig.broker.inproc, last, "last");
    assert (s_check_hello (alice) == ZAIO_BROKER_VOLUMES_MAX);
    s_send_ping_to (alice, "one-too-many", 51, -1);
    zaio_test_expect (alice, 51, ZAIO_ERR_NOVOLUME);
    //  At the bound, a known volume whose worker has gone can still be
    //  served.
    zsock_t *junk = workers[count++] = zaio_test_client (worker_endpoint);
    strcpy (names[0], "junk");
    s_announce (junk, names, 1);
    zaio_test_fake_known (rig.broker.inproc, junk, "junk");
    while (count) zsock_destroy (&workers[--count]);
    s_rig_stop (&rig);
}

#define S_HELLO_ID 1000 //  above the ids of the jobs beside it

//  Whether hello, asked by client, lists volume name.
static bool
s_listed (zsock_t *client, const char *name)
{
    zaio_hello_t *hello = zaio_test_hello (client, S_HELLO_ID, 5000);
    bool found = false;
    for (uint32_t i = 0; i < hello->volume_count; i++)
        found |= streq (hello->volumes[i].name, name);
    free (hello);
    return found;
}

//  Asks hello until it lists name (listed) or does not, for at most 5 s.
static void
s_await_listed (zsock_t *client, const char *name, bool listed)
{
    int64_t until = zclock_mono () + 5000;
    while (s_listed (client, name) != listed) assert (zclock_mono () < until);
}

#define S_FORGET_MS 300 //  volume_forget_ms of s_test_volumes_forgotten

//  A volume that no worker serves and no job names is forgotten after
//  volume_forget_ms (here S_FORGET_MS), so a table filled by workers that
//  have gone takes new volumes again. A job held (by its key) for a
//  volume keeps it known; when it would start, with no worker left, it is
//  answered NOVOLUME, and then the volume goes too.
static void
s_test_volumes_forgotten (void)
{
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    config.volume_forget_ms = S_FORGET_MS;
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, &config);
    char *worker_endpoint = zaio_broker_endpoint (broker.broker, "workers", "tcp");
    zsock_t *slow =
        zaio_test_fake_worker (worker_endpoint, "slow", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (broker.inproc, slow, "slow");
    zsock_t *alice = zaio_test_client (broker.inproc);

    //  The table filled: "default", "slow", and the fillers f0, f1, ...
    enum { WORKERS_MAX = ZAIO_BROKER_VOLUMES_MAX / ZAIO_WORKER_VOLUMES_MAX + 1 };
    zsock_t *fillers[WORKERS_MAX];
    char names[ZAIO_WORKER_VOLUMES_MAX][ZAIO_VOLUME_MAX + 1];
    uint32_t known = 2, count = 0;
    while (known < ZAIO_BROKER_VOLUMES_MAX) {
        uint32_t batch = ZAIO_BROKER_VOLUMES_MAX - known;
        if (batch > ZAIO_WORKER_VOLUMES_MAX) batch = ZAIO_WORKER_VOLUMES_MAX;
        for (uint32_t i = 0; i < batch; i++)
            snprintf (names[i], sizeof names[i], "f%u", known - 2 + i);
        fillers[count] = zaio_test_client (worker_endpoint);
        s_announce (fillers[count], names, batch);
        zaio_test_fake_known (broker.inproc, fillers[count++], names[0]);
        known += batch;
    }
    //  Job 2 names f0 and waits, by its key, for job 1, which runs.
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
    zaio_request_set_str (&req, ZAIO_FIELD_KEY, "k");
    zaio_test_send (alice, &req, NULL, 0);
    uint64_t job;
    zaio_request_t taken;
    zaio_test_fake_take (slow, &job, &taken, 5000);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "f0");
    req.id = 2;
    zaio_test_send (alice, &req, NULL, 0);
    //  Once hello is answered, job 2 (sent before it) was accepted: the
    //  fillers may go.
    assert (s_listed (alice, "f0"));
    for (uint32_t i = 0; i < count; i++) s_bye (fillers[i]);

    //  The fillers go, but f0, which job 2 names; and a new volume fits.
    s_await_listed (alice, "f1", false);
    assert (s_listed (alice, "f0") && s_listed (alice, "slow"));
    zsock_t *fresh =
        zaio_test_fake_worker (worker_endpoint, "fresh", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (broker.inproc, fresh, "fresh");
    zaio_test_fake_done (slow, job, 1, 0);
    zaio_test_expect (alice, 1, 0);
    zaio_test_expect (alice, 2, ZAIO_ERR_NOVOLUME);
    s_await_listed (alice, "f0", false);
    printf ("volumes no worker serves are forgotten after %d ms\n", S_FORGET_MS);

    while (count) zsock_destroy (&fillers[--count]);
    zsock_destroy (&fresh);
    zsock_destroy (&slow);
    zsock_destroy (&alice);
    zstr_free (&worker_endpoint);
    zaio_test_broker_stop (&broker);
}

//  A broker with the queue bounds given, for fake workers; returns the
//  endpoint they connect to.
static char *
s_start_broker (zaio_test_broker_t *broker, uint32_t queue_max, uint32_t inflight_max)
{
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    config.queue_max = queue_max;
    config.inflight_max = inflight_max;
    zaio_test_broker_start (broker, &config);
    return zaio_broker_endpoint (broker->broker, "workers", "tcp");
}

//  A client that floods a broker's queue leaves room for the others: each
//  may add a job only while it has fewer than twice the room left. With
//  room for 9 and a worker that holds its first job: alice gets 6, bob
//  then 2, carol the last one; each gets exactly one reply per request.
static void
s_test_fair_share (void)
{
    zaio_test_broker_t broker;
    char *worker_endpoint = s_start_broker (&broker, 9, 100);
    zsock_t *worker =
        zaio_test_fake_worker (worker_endpoint, "slow", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zsock_t *clients[3] = {zaio_test_client (broker.inproc), zaio_test_client (broker.tcp),
                           zaio_test_client (broker.inproc)};
    zaio_test_fake_known (broker.inproc, worker, "slow");

    const uint64_t first[3] = {100, 200, 300};
    const int sent[3] = {10, 4, 2};
    const int admitted[3] = {6, 2, 1};
    uint64_t job;
    zaio_request_t taken;
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < sent[c]; i++) s_send_ping (clients[c], first[c] + (uint64_t)i, -1);
        if (c == 0) {
            zaio_test_fake_take (worker, &job, &taken, 5000);
            assert (taken.id == first[0]);
        }
        for (int i = admitted[c]; i < sent[c]; i++)
            zaio_test_expect (clients[c], first[c] + (uint64_t)i, ZAIO_ERR_QUEUE_FULL);
        s_expect_silence (clients[c], 100);
    }
    //  The worker runs every admitted job, in the order they came.
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < admitted[c]; i++) {
            uint64_t id = first[c] + (uint64_t)i;
            if (id != first[0]) {
                zaio_test_fake_take (worker, &job, &taken, 5000);
                assert (taken.id == id);
            }
            zaio_test_fake_done (worker, job, id, 0);
            zaio_test_expect (clients[c], id, 0);
        }
    for (int c = 0; c < 3; c++) {
        s_expect_silence (clients[c], 100);
        zsock_destroy (&clients[c]);
    }
    s_expect_silence (worker, 100);
    zsock_destroy (&worker);
    zstr_free (&worker_endpoint);
    zaio_test_broker_stop (&broker);
}

//  hello reports the volumes known (the broker's own "default" and
//  "slow"), the limits in force and every op.
static void
s_test_hello_reports_config (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    assert (s_check_hello (rig.alice) == 2);
    s_rig_stop (&rig);
}

//  Unknown volume: refused at once.
static void
s_test_unknown_volume_refused (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STAT, 2);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "x");
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "nowhere");
    zaio_reply_t reply;
    assert (zaio_test_call (rig.alice, &req, NULL, 0, &reply, NULL, NULL) == ZAIO_ERR_NOVOLUME);
    s_rig_stop (&rig);
}

//  Past a client's limit or the broker's, QUEUE_FULL at once; a deadline
//  passed in the queue, ETIMEDOUT; what was queued runs in order once the
//  worker is free, and capacity comes back.
static void
s_test_queue_full_and_deadline (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *worker = rig.worker, *alice = rig.alice, *bob = rig.bob;
    //  The slow worker takes one job and holds it.
    s_send_ping (alice, 10, -1);
    uint64_t job;
    zaio_request_t taken;
    zaio_test_fake_take (worker, &job, &taken, 5000);
    assert (taken.id == 10);
    s_send_ping (alice, 11, -1); //  queued (alice: 2 in flight)
    s_send_ping (alice, 12, -1); //  queued (alice: 3, her limit)
    s_send_ping (alice, 13, -1); //  over alice's limit
    zaio_test_expect (alice, 13, ZAIO_ERR_QUEUE_FULL);
    s_send_ping (bob, 20, -1); //  queued (broker: 4)
    s_send_ping (bob, 21, 50); //  queued with a 50 ms deadline (broker: 5)
    s_send_ping (bob, 22, -1); //  over the broker's limit
    zaio_test_expect (bob, 22, ZAIO_ERR_QUEUE_FULL);
    //  The deadline passes while the worker is busy.
    zaio_test_expect (bob, 21, ETIMEDOUT);
    s_expect_silence (alice, 100);
    s_expect_silence (bob, 100);

    //  Release the worker: everything queued runs, in order.
    zaio_test_fake_done (worker, job, 10, 0);
    zaio_test_expect (alice, 10, 0);
    for (uint64_t id = 11; id <= 20; id++) {
        if (id > 12 && id < 20) continue;
        zaio_test_fake_take (worker, &job, &taken, 5000);
        assert (taken.id == id);
        zaio_test_fake_done (worker, job, id, 0);
    }
    zaio_test_expect (alice, 11, 0);
    zaio_test_expect (alice, 12, 0);
    zaio_test_expect (bob, 20, 0);
    s_expect_silence (alice, 100);
    s_expect_silence (bob, 100);

    //  Capacity is back.
    s_send_ping (alice, 30, -1);
    zaio_test_fake_take (worker, &job, &taken, 5000);
    zaio_test_fake_done (worker, job, 30, ENOENT);
    zaio_test_expect (alice, 30, ENOENT);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_hello_reports_config),
        ZAIO_TEST_CASE (s_test_unknown_volume_refused),
        ZAIO_TEST_CASE (s_test_queue_full_and_deadline),
        ZAIO_TEST_CASE (s_test_deadline_zero),
        ZAIO_TEST_CASE (s_test_deadline_waits_for_idle),
        ZAIO_TEST_CASE (s_test_deadline_expiry_frees_queue),
        ZAIO_TEST_CASE (s_test_worker_garbage),
        ZAIO_TEST_CASE (s_test_volume_bound),
        ZAIO_TEST_CASE (s_test_volumes_forgotten),
        ZAIO_TEST_CASE (s_test_fair_share),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
