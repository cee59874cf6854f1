/*  test_broker_backpressure: a client that reads its replies slowly loses
    none, a client that reads none costs the broker a bounded number of
    replies, and neither holds up other clients or a shutdown; its jobs
    wait unstarted, but still expire on time. The data of queued writes is
    bounded in bytes (queue_bytes_max).

    The broker queues at most reply_hwm (here 4) replies to a client; the
    clients here connect over inproc with a receive HWM of 2, so a client
    that reads nothing has room for 4 + 2 replies and the broker must hold
    the rest, refusing a client's new requests (and dropping the refusals)
    once it holds held_bytes_max (here 64 KiB) for it, or 96 KiB for all. Jobs are run by hand by
   fake workers serving "hand" (credit 8) and "narrow" (credit 1), or by the broker's own thread for
    "default". */

#include "testutil.h"

#include <string.h>

#define S_ROOM 6 //  replies a client that reads nothing has room for
//  Silence from the broker that means it has sent all it will: many of its
//  100 ms ticks, on which it retries held replies when otherwise idle.
#define S_FLUSH_QUIET_MS   2000
#define S_HELD_BYTES_MAX   65536
#define S_HELD_BYTES_TOTAL 98304
//  A held reply costs at least this much in the broker (two zmq_msg_t):
//  so a bound of B bytes holds at most B / S_HELD_REPLY_MIN replies.
#define S_HELD_REPLY_MIN 128

static zsock_t *
s_slow_client (const char *endpoint)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (client);
    zsock_set_linger (client, 0);
    zsock_set_rcvhwm (client, 2);
    assert (zsock_connect (client, "%s", endpoint) == 0);
    return client;
}

static void
s_send_ping (zsock_t *client, const char *volume, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    zaio_test_send (client, &req, NULL, 0);
}

//  Runs every job the fake worker has been given, answering each at once;
//  returns how many there were.
static int
s_work_all (zsock_t *worker, int quiet_ms)
{
    int count = 0;
    zpoller_t *poller = zpoller_new (worker, NULL);
    while (zpoller_wait (poller, quiet_ms)) {
        zmsg_t *msg = zmsg_recv (worker);
        //  A JOB may carry many jobs (PROTOCOL.md section 9).
        enum { MAX = ZAIO_CREDIT_MAX };
        static uint64_t jobs[MAX];
        static zaio_request_t reqs[MAX];
        int taken = zaio_test_fake_jobs (&msg, jobs, reqs, MAX);
        for (int i = 0; i < taken; i++) zaio_test_fake_done (worker, jobs[i], reqs[i].id, 0);
        count += taken;
    }
    zpoller_destroy (&poller);
    return count;
}

//  A client that sends count requests before it reads any reply. Once its
//  queue is full the broker holds replies and starts none of its jobs,
//  while it starts another client's. Then the client reads: every request
//  is answered once, and the jobs in the order they finished. Past its
//  allowance of 64, most requests are refused (how many depends on how
//  far the broker got before the client read); within it, none.
static void
s_slow_reader (const char *endpoint, zsock_t *worker, zsock_t *bob, int count, int inflight_max)
{
    enum { COUNT_MAX = 200 };
    assert (count <= COUNT_MAX);
    zsock_t *slow = s_slow_client (endpoint);
    for (uint64_t id = 1; id <= (uint64_t)count; id++) s_send_ping (slow, "hand", id);
    //  Only the jobs the worker took before replies were held run (its
    //  credit, and those that replaced finished ones while the queue had
    //  room; none, if refusals filled the queue first).
    int run = s_work_all (worker, 300);
    printf ("%d of %d jobs ran before the client read\n", run, count);
    assert (run <= S_ROOM + 1 + 8);
    //  Within the allowance, only job replies can fill the queue.
    if (count <= inflight_max) assert (run > S_ROOM);

    //  Another client's jobs still start.
    s_send_ping (bob, "hand", 1000);
    assert (s_work_all (worker, 300) == 1);
    zaio_test_expect (bob, 1000, 0);

    //  The slow client reads, while the worker runs what comes.
    bool seen[COUNT_MAX + 1] = {false};
    uint64_t last_done = 0;
    int answered = 0, refused = 0;
    zpoller_t *poller = zpoller_new (slow, worker, NULL);
    while (answered < count) {
        void *which = zpoller_wait (poller, 5000);
        assert (which);
        if (which == worker) {
            s_work_all (worker, 0);
            continue;
        }
        zaio_reply_t reply;
        zmsg_t *msg;
        zaio_test_recv (slow, &reply, &msg, 0);
        assert (reply.id >= 1 && reply.id <= (uint64_t)count && !seen[reply.id]);
        seen[reply.id] = true;
        answered++;
        if (reply.error == ZAIO_ERR_QUEUE_FULL)
            refused++;
        else {
            assert (reply.error == 0 && reply.id > last_done);
            last_done = reply.id;
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (count <= inflight_max) assert (refused == 0);
    assert (s_work_all (worker, 200) == 0);
    zpoller_t *after = zpoller_new (slow, NULL);
    assert (zpoller_wait (after, 200) == NULL);
    zpoller_destroy (&after);
    zsock_destroy (&slow);
    printf ("a slow reader gets all %d replies (%d QUEUE_FULL)\n", count, refused);
}

//  Floods sends count pings to "default" from each of its clients, which
//  read nothing, then reads every reply that comes until the broker has
//  been silent for S_FLUSH_QUIET_MS; returns how many came, in all. Each
//  reply is one of a ping sent, and comes once.
static int
s_flood_read (zsock_t **floods, int clients, int count)
{
    for (int i = 0; i < clients; i++)
        for (uint64_t id = 1; id <= (uint64_t)count; id++) s_send_ping (floods[i], "default", id);
    //  Everything they will get has come once the broker has been silent
    //  for S_FLUSH_QUIET_MS: held replies go out in bursts on the broker's
    //  idle passes, at least one a tick, and the parked jobs run once the
    //  last is out. Silence is the only sign there is: how many replies
    //  were dropped is the broker's to know.
    bool *seen = (bool *)zmalloc ((size_t)clients * (count + 1));
    int ok = 0, full = 0;
    zpoller_t *poller = zpoller_new (NULL);
    for (int i = 0; i < clients; i++) zpoller_add (poller, floods[i]);
    void *which;
    while ((which = zpoller_wait (poller, S_FLUSH_QUIET_MS))) {
        int i = 0;
        while (floods[i] != which) i++;
        zaio_reply_t reply;
        zmsg_t *msg;
        zaio_test_recv (floods[i], &reply, &msg, 0);
        assert (reply.id >= 1 && reply.id <= (uint64_t)count && !seen[i * (count + 1) + reply.id]);
        seen[i * (count + 1) + reply.id] = true;
        assert (reply.error == 0 || reply.error == ZAIO_ERR_QUEUE_FULL);
        if (reply.error)
            full++;
        else
            ok++;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    free (seen);
    printf ("%d clients that read nothing got %d replies (%d ok, %d QUEUE_FULL) of %d\n", clients,
            ok + full, ok, full, clients * count);
    assert (ok >= clients && ok <= clients * (S_ROOM + 64));
    return ok + full;
}

//  Clients that send many more requests than the broker holds replies for
//  and read nothing: their replies held count against their in-flight
//  allowance (here 64), so they are soon told QUEUE_FULL, and once the
//  replies held for one come to S_HELD_BYTES_MAX bytes (or for all to
//  S_HELD_BYTES_TOTAL), it is refused and the refusals dropped. What
//  reaches each at most: what fits in its queue, the replies of its jobs
//  (at most 64), and the refusals held within the bounds. Another client
//  is served meanwhile, and the flooders are served again once they read.
static void
s_flood (const char *endpoint, zsock_t *bob, int clients)
{
    enum { COUNT = 20000, CLIENTS_MAX = 4 };
    assert (clients <= CLIENTS_MAX);
    zsock_t *floods[CLIENTS_MAX];
    for (int i = 0; i < clients; i++) floods[i] = s_slow_client (endpoint);
    s_send_ping (bob, "default", 2000);
    zaio_test_expect (bob, 2000, 0);
    int got = s_flood_read (floods, clients, COUNT);
    //  One refusal each may pass a bound before it is met.
    int bytes = clients == 1 ? S_HELD_BYTES_MAX : S_HELD_BYTES_TOTAL;
    assert (got <= clients * (S_ROOM + 64 + 1) + bytes / S_HELD_REPLY_MIN);
    s_send_ping (bob, "default", 2001);
    zaio_test_expect (bob, 2001, 0);

    //  Having read, they are served again.
    for (int i = 0; i < clients; i++) {
        s_send_ping (floods[i], "default", COUNT + 1);
        zaio_test_expect (floods[i], COUNT + 1, 0);
        zsock_destroy (&floods[i]);
    }
    printf ("flooders are bounded in bytes; others are served\n");
}

//  The replies of accepted jobs are owed, and held past the byte bound
//  (here 1 byte): a client that reads nothing gets them all, once each,
//  once it reads, and is served again. (Refusals past the bound are
//  dropped: s_flood counts them.)
static void
s_owed_past_bound (const char *endpoint, zsock_t *worker)
{
    enum { COUNT = S_ROOM + 2 };
    zsock_t *client = s_slow_client (endpoint);
    //  The worker takes all (so each was accepted while nothing was held),
    //  then answers: the last two replies are held.
    uint64_t jobs[COUNT];
    for (uint64_t id = 1; id <= COUNT; id++) s_send_ping (client, "hand", id);
    for (int i = 0; i < COUNT; i++) {
        zaio_request_t taken;
        zaio_test_fake_take (worker, &jobs[i], &taken, 5000);
        assert (taken.id == (uint64_t)i + 1);
    }
    for (int i = 0; i < COUNT; i++) zaio_test_fake_done (worker, jobs[i], (uint64_t)i + 1, 0);
    for (uint64_t id = 1; id <= COUNT; id++) zaio_test_expect (client, id, 0);
    zpoller_t *poller = zpoller_new (client, NULL);
    assert (zpoller_wait (poller, 300) == NULL);
    zpoller_destroy (&poller);
    s_send_ping (client, "hand", 101);
    assert (s_work_all (worker, 300) == 1);
    zaio_test_expect (client, 101, 0);
    zsock_destroy (&client);
    printf ("replies owed past the byte bound are delivered\n");
}

//  Returns once errors (subscribed to "err.ping.hand") hears the broker:
//  a ping to "hand", failed by the worker, is sent again until an event
//  comes; then the events are read up to the last one's.
static void
s_subscribed (const char *endpoint, zsock_t *worker, zsock_t *errors)
{
    zsock_t *client = zaio_test_client (endpoint);
    zpoller_t *poller = zpoller_new (errors, NULL);
    uint64_t id = 1000;
    do {
        s_send_ping (client, "hand", ++id);
        uint64_t job;
        zaio_request_t taken;
        zaio_test_fake_take (worker, &job, &taken, 5000);
        assert (taken.id == id);
        zaio_test_fake_done (worker, job, id, ENOENT);
        zaio_test_expect (client, id, ENOENT);
    } while (!zpoller_wait (poller, 20));
    zaio_event_t event;
    do zaio_test_next_event (errors, &event, NULL, 0);
    while (event.id != id);
    zpoller_destroy (&poller);
    zsock_destroy (&client);
}

//  A job parked while its client reads nothing still expires on time: its
//  ETIMEDOUT is published (and its place in the queue comes free) while
//  the client is not reading, and the reply waits behind the held ones.
static void
s_parked_deadline (zaio_test_broker_t *broker, zsock_t *worker)
{
    zsock_t *errors = zsock_new_sub (broker->events, "err.ping.hand");
    assert (errors);
    zsock_set_rcvtimeo (errors, 3000);
    zsock_t *idle = s_slow_client (broker->inproc);
    s_subscribed (broker->inproc, worker, errors);
    for (uint64_t id = 1; id <= S_ROOM + 1; id++) s_send_ping (idle, "hand", id);
    assert (s_work_all (worker, 300) == S_ROOM + 1); //  the last reply is held
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, S_ROOM + 2);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "hand");
    zaio_request_set_uint (&req, ZAIO_FIELD_DEADLINE, 100);
    zaio_test_send (idle, &req, NULL, 0);
    int64_t sent = zclock_mono ();

    zaio_event_t event;
    zaio_test_next_event (errors, &event, NULL, 0);
    int64_t took = zclock_mono () - sent;
    assert (event.id == S_ROOM + 2 && event.error == ETIMEDOUT);
    printf ("a parked job expired after %" PRId64 " ms unread\n", took);
    assert (s_work_all (worker, 100) == 0); //  it never ran

    for (uint64_t id = 1; id <= S_ROOM + 1; id++) zaio_test_expect (idle, id, 0);
    zaio_test_expect (idle, S_ROOM + 2, ETIMEDOUT);
    zsock_destroy (&idle);
    zsock_destroy (&errors);
}

static void
s_send_write (zsock_t *client, uint64_t id, const void *data, size_t size)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITE, id);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "f");
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "narrow");
    zaio_test_send (client, &req, data, size);
}

//  Takes the narrow worker's next job, which must be request id, and
//  answers it.
static void
s_run_next (zsock_t *narrow, uint64_t id)
{
    uint64_t job;
    zaio_request_t taken;
    zaio_test_fake_take (narrow, &job, &taken, 5000);
    assert (taken.id == id);
    zaio_test_fake_done (narrow, job, id, 0);
}

//  With queue_bytes_max 250000, two queued writes of 100000 bytes fit and
//  a third does not; data counts until a worker takes it, and requests
//  without data are not held to it.
static void
s_queued_bytes (zsock_t *bob, zsock_t *narrow)
{
    enum { SIZE = 100000 };
    char *data = (char *)zmalloc (SIZE);
    uint64_t job;
    zaio_request_t taken;
    s_send_write (bob, 1, data, SIZE);
    zaio_test_fake_take (narrow, &job, &taken, 5000); //  held running: its data left
    assert (taken.id == 1);
    s_send_write (bob, 2, data, SIZE); //  100000 bytes queued
    s_send_write (bob, 3, data, SIZE); //  200000
    s_send_write (bob, 4, data, SIZE); //  would be 300000
    zaio_test_expect (bob, 4, ZAIO_ERR_QUEUE_FULL);
    s_send_ping (bob, "narrow", 5); //  no data: queued
    zaio_test_fake_done (narrow, job, 1, 0);
    zaio_test_expect (bob, 1, 0);
    s_run_next (narrow, 2); //  100000 queued again
    zaio_test_expect (bob, 2, 0);
    s_send_write (bob, 6, data, SIZE); //  200000: fits
    s_run_next (narrow, 3);
    s_run_next (narrow, 5);
    s_run_next (narrow, 6);
    zaio_test_expect (bob, 3, 0);
    zaio_test_expect (bob, 5, 0);
    zaio_test_expect (bob, 6, 0);
    free (data);
    printf ("queued write data is bounded in bytes\n");
}

//  A shutdown does not wait past drain_ms for a client that reads nothing.
static void
s_shutdown (zaio_test_broker_t *broker, int drain_ms)
{
    zsock_t *idle = s_slow_client (broker->inproc);
    for (uint64_t id = 1; id <= 30; id++) s_send_ping (idle, "default", id);
    zclock_sleep (200);
    int64_t started = zclock_mono ();
    zactor_t *stopper = zaio_test_stop_in_background (&broker->broker);
    zactor_destroy (&stopper);
    int64_t took = zclock_mono () - started;
    printf ("stopped in %" PRId64 " ms (drain_ms %d)\n", took, drain_ms);
    assert (took < drain_ms + 2000);
    //  What fitted in its queue is there to read.
    for (uint64_t id = 1; id <= S_ROOM; id++) zaio_test_expect (idle, id, 0);
    zsock_destroy (&idle);
}

//  A request refused at once (here: an unknown volume) is answered behind
//  the replies held for its client, never ahead of them, even when it
//  arrives just as the client's queue has room again. Tried a number of
//  times, since that moment is the broker's to see.
static void
s_refusal_in_order (const char *endpoint, zsock_t *worker)
{
    for (int round = 0; round < 20; round++) {
        zsock_t *client = s_slow_client (endpoint);
        for (uint64_t id = 1; id <= S_ROOM + 2; id++) s_send_ping (client, "hand", id);
        assert (s_work_all (worker, 100) == S_ROOM + 2); //  the last two replies are held
        //  Reading half the queue makes room; the refusal follows at once.
        for (uint64_t id = 1; id <= S_ROOM / 2; id++) zaio_test_expect (client, id, 0);
        s_send_ping (client, "nowhere", S_ROOM + 3);
        for (uint64_t id = S_ROOM / 2 + 1; id <= S_ROOM + 2; id++) zaio_test_expect (client, id, 0);
        zaio_test_expect (client, S_ROOM + 3, ZAIO_ERR_NOVOLUME);
        zsock_destroy (&client);
    }
    printf ("refusals wait behind held replies\n");
}

//  A broker with the bounds above, fake workers for "hand" and "narrow"
//  that it knows, and a client, bob, over tcp.
typedef struct {
    zaio_broker_config_t config;
    zaio_test_broker_t broker;
    char *worker_endpoint;
    zsock_t *worker;
    zsock_t *narrow;
    zsock_t *bob;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, size_t held_bytes_max)
{
    zaio_test_fake_config (&rig->config);
    rig->config.reply_hwm = 4;
    rig->config.inflight_max = 64;
    rig->config.drain_ms = 1000;
    rig->config.queue_bytes_max = 250000;
    rig->config.held_bytes_max = held_bytes_max;
    rig->config.held_bytes_total = S_HELD_BYTES_TOTAL;
    zaio_test_broker_start (&rig->broker, &rig->config);
    rig->worker_endpoint = zaio_broker_endpoint (rig->broker.broker, "workers", "tcp");
    rig->worker =
        zaio_test_fake_worker (rig->worker_endpoint, "hand", 8, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->narrow =
        zaio_test_fake_worker (rig->worker_endpoint, "narrow", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->bob = zaio_test_client (rig->broker.tcp);
    zaio_test_fake_known (rig->broker.inproc, rig->worker, "hand");
    zaio_test_fake_known (rig->broker.inproc, rig->narrow, "narrow");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zstr_free (&rig->worker_endpoint);
    zsock_destroy (&rig->worker);
    zsock_destroy (&rig->narrow);
    zsock_destroy (&rig->bob);
    zaio_test_broker_stop (&rig->broker);
}

static void
s_test_slow_reader_within_allowance (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_slow_reader (rig.broker.inproc, rig.worker, rig.bob, 40, (int)rig.config.inflight_max);
    s_rig_stop (&rig);
}

static void
s_test_slow_reader_past_allowance (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_slow_reader (rig.broker.inproc, rig.worker, rig.bob, 150, (int)rig.config.inflight_max);
    s_rig_stop (&rig);
}

static void
s_test_flood_bounded (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_flood (rig.broker.inproc, rig.bob, 1);
    s_rig_stop (&rig);
}

static void
s_test_flood_bounded_in_all (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_flood (rig.broker.inproc, rig.bob, 4);
    s_rig_stop (&rig);
}

static void
s_test_owed_replies_past_bound (void)
{
    s_rig_t rig;
    s_rig_start (&rig, 1);
    s_owed_past_bound (rig.broker.inproc, rig.worker);
    s_rig_stop (&rig);
}

static void
s_test_queued_write_bytes_bounded (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_queued_bytes (rig.bob, rig.narrow);
    s_rig_stop (&rig);
}

static void
s_test_parked_job_expires (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_parked_deadline (&rig.broker, rig.worker);
    s_rig_stop (&rig);
}

static void
s_test_refusal_behind_held_replies (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_refusal_in_order (rig.broker.inproc, rig.worker);
    s_rig_stop (&rig);
}

static void
s_test_shutdown_within_drain (void)
{
    s_rig_t rig;
    s_rig_start (&rig, S_HELD_BYTES_MAX);
    s_shutdown (&rig.broker, (int)rig.config.drain_ms);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_slow_reader_within_allowance),
        ZAIO_TEST_CASE (s_test_slow_reader_past_allowance),
        ZAIO_TEST_CASE (s_test_flood_bounded),
        ZAIO_TEST_CASE (s_test_flood_bounded_in_all),
        ZAIO_TEST_CASE (s_test_owed_replies_past_bound),
        ZAIO_TEST_CASE (s_test_queued_write_bytes_bounded),
        ZAIO_TEST_CASE (s_test_parked_job_expires),
        ZAIO_TEST_CASE (s_test_refusal_behind_held_replies),
        ZAIO_TEST_CASE (s_test_shutdown_within_drain),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
