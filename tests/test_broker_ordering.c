/*  test_broker_ordering: jobs run freely in parallel unless the client asks
    for order: ordering keys, barriers and linked chains (PROTOCOL.md
    section 7). A hand-driven worker with plenty of credit shows exactly
    which jobs the broker lets start, and when. */

#include "testutil.h"

#include <string.h>

//  A broker whose volume "slow" a hand-driven worker serves, known to the
//  broker, and two clients: one over inproc, the other over tcp.
typedef struct {
    zaio_test_broker_t broker;
    char *endpoint; //  the broker's tcp worker endpoint
    zsock_t *worker;
    zsock_t *client;
    zsock_t *other;
    uint64_t jobs[1024]; //  job number by request id, for answering
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    memset (rig, 0, sizeof *rig);
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    zaio_test_broker_start (&rig->broker, &config);
    rig->endpoint = zaio_broker_endpoint (rig->broker.broker, "workers", "tcp");
    rig->worker = zaio_test_fake_worker (rig->endpoint, "slow", 64, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->client = zaio_test_client (rig->broker.inproc);
    rig->other = zaio_test_client (rig->broker.tcp);
    zaio_test_fake_known (rig->broker.inproc, rig->worker, "slow");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zstr_free (&rig->endpoint);
    zsock_destroy (&rig->worker);
    zsock_destroy (&rig->client);
    zsock_destroy (&rig->other);
    zaio_test_broker_stop (&rig->broker);
}

static void
s_send_to (zsock_t *client, const char *volume, uint64_t id, const char *key, bool barrier,
           bool link)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    if (key) zaio_request_set_str (&req, ZAIO_FIELD_KEY, key);
    if (barrier) zaio_request_set_uint (&req, ZAIO_FIELD_BARRIER, 1);
    if (link) zaio_request_set_uint (&req, ZAIO_FIELD_LINK, 1);
    zaio_test_send (client, &req, NULL, 0);
}

static void
s_send (zsock_t *client, uint64_t id, const char *key, bool barrier, bool link)
{
    s_send_to (client, "slow", id, key, barrier, link);
}

//  The worker must now hold exactly the jobs listed (0-terminated), no more.
static void
s_started (s_rig_t *rig, const uint64_t *ids)
{
    size_t count = 0;
    while (ids[count]) count++;
    bool seen[1024] = {false};
    for (size_t i = 0; i < count; i++) {
        uint64_t job;
        zaio_request_t req;
        zaio_test_fake_take (rig->worker, &job, &req, 5000);
        bool expected = false;
        for (size_t e = 0; e < count; e++) expected |= ids[e] == req.id;
        if (!expected || seen[req.id]) {
            fprintf (stderr, "job %" PRIu64 " started out of order\n", req.id);
            assert (false);
        }
        seen[req.id] = true;
        rig->jobs[req.id] = job;
    }
    zpoller_t *poller = zpoller_new (rig->worker, NULL);
    void *more = zpoller_wait (poller, 150);
    zpoller_destroy (&poller);
    if (more) {
        uint64_t job;
        zaio_request_t req;
        zaio_test_fake_take (rig->worker, &job, &req, 10);
        fprintf (stderr, "job %" PRIu64 " started too early\n", req.id);
        assert (false);
    }
}

static void
s_finish (s_rig_t *rig, uint64_t id, int error)
{
    zaio_test_fake_done (rig->worker, rig->jobs[id], id, error);
}

//  Keys serialise their jobs, per client.
static void
s_test_keys (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    s_send (rig->client, 1, "k", false, false);
    s_send (rig->client, 2, "k", false, false);
    s_send (rig->client, 3, NULL, false, false); //  no key: free to run
    s_send (rig->client, 4, "j", false, false);  //  another key: free to run
    s_send (rig->other, 5, "k", false, false);   //  keys are per client
    s_started (rig, (uint64_t[]){1, 3, 4, 5, 0});
    s_finish (rig, 3, 0);
    zaio_test_expect (rig->client, 3, 0);
    s_started (rig, (uint64_t[]){0}); //  2 still waits for 1
    s_finish (rig, 1, ENOENT);        //  a failed key predecessor does not cancel
    zaio_test_expect (rig->client, 1, ENOENT);
    s_started (rig, (uint64_t[]){2, 0});
    s_finish (rig, 2, 0);
    s_finish (rig, 4, 0);
    s_finish (rig, 5, 0);
    zaio_test_expect (rig->client, 2, 0);
    zaio_test_expect (rig->client, 4, 0);
    zaio_test_expect (rig->other, 5, 0);
    s_rig_stop (rig);
}

//  A barrier waits for all before it, and holds all after.
static void
s_test_barrier (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    s_send (rig->client, 10, NULL, false, false);
    s_send (rig->client, 11, NULL, false, false);
    s_send (rig->client, 12, NULL, true, false); //  barrier
    s_send (rig->client, 13, NULL, false, false);
    s_send (rig->other, 14, NULL, false, false); //  other clients are not held
    s_started (rig, (uint64_t[]){10, 11, 14, 0});
    s_finish (rig, 11, 0);
    zaio_test_expect (rig->client, 11, 0);
    s_started (rig, (uint64_t[]){0});
    s_finish (rig, 10, EIO);
    zaio_test_expect (rig->client, 10, EIO);
    s_started (rig, (uint64_t[]){12, 0});
    s_finish (rig, 12, 0);
    zaio_test_expect (rig->client, 12, 0);
    s_started (rig, (uint64_t[]){13, 0});
    s_finish (rig, 13, 0);
    s_finish (rig, 14, 0);
    zaio_test_expect (rig->client, 13, 0);
    zaio_test_expect (rig->other, 14, 0);
    s_rig_stop (rig);
}

//  Linked chains run in turn and cancel after a failure.
static void
s_test_links (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    //  A chain that succeeds runs one job after the other.
    s_send (rig->client, 20, NULL, false, true);
    s_send (rig->client, 21, NULL, false, false);
    s_started (rig, (uint64_t[]){20, 0});
    s_finish (rig, 20, 0);
    zaio_test_expect (rig->client, 20, 0);
    s_started (rig, (uint64_t[]){21, 0});
    s_finish (rig, 21, 0);
    zaio_test_expect (rig->client, 21, 0);
    //  A chain whose first job fails cancels the rest, and only the rest.
    s_send (rig->client, 30, NULL, false, true);
    s_send (rig->client, 31, NULL, false, true);
    s_send (rig->client, 32, NULL, false, false);
    s_send (rig->client, 33, NULL, false, false); //  after the chain: runs
    s_started (rig, (uint64_t[]){30, 33, 0});
    s_finish (rig, 30, EACCES);
    zaio_test_expect (rig->client, 30, EACCES);
    zaio_test_expect (rig->client, 31, ECANCELED);
    zaio_test_expect (rig->client, 32, ECANCELED);
    s_finish (rig, 33, 0);
    zaio_test_expect (rig->client, 33, 0);
    //  A linked job that already failed cancels the next request to come.
    s_send (rig->client, 40, NULL, false, true);
    s_started (rig, (uint64_t[]){40, 0});
    s_finish (rig, 40, ENOENT);
    zaio_test_expect (rig->client, 40, ENOENT);
    s_send (rig->client, 41, NULL, false, false);
    zaio_test_expect (rig->client, 41, ECANCELED);
    s_send (rig->client, 42, NULL, false, false);
    s_started (rig, (uint64_t[]){42, 0});
    s_finish (rig, 42, 0);
    zaio_test_expect (rig->client, 42, 0);
    s_rig_stop (rig);
}

//  A job held behind another, for a volume whose last worker leaves
//  meanwhile, is answered NOVOLUME when it is released, as a new request
//  for that volume would be.
static void
s_test_volume_lost (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    zsock_t *photos =
        zaio_test_fake_worker (rig->endpoint, "photos", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig->broker.inproc, photos, "photos");
    s_send_to (rig->client, "slow", 45, "p", false, false);
    s_send_to (rig->client, "photos", 46, "p", false, false); //  held behind 45
    s_started (rig, (uint64_t[]){45, 0});
    zframe_t *bye = zaio_envelope_frame (ZAIO_WORKER_BYE, 0);
    zframe_send (&bye, photos, 0);
    zframe_t *answer = zframe_recv (photos); //  the broker's BYE: it has let go
    uint64_t number;
    assert (answer && zaio_envelope_get (zframe_data (answer), zframe_size (answer), &number) ==
                          ZAIO_WORKER_BYE);
    zframe_destroy (&answer);
    s_finish (rig, 45, 0);
    zaio_test_expect (rig->client, 45, 0);
    zaio_test_expect (rig->client, 46, ZAIO_ERR_NOVOLUME);
    zsock_destroy (&photos);
    s_rig_stop (rig);
}

//  A client named number, connected to endpoint.
static zsock_t *
s_client_named (const char *endpoint, int number)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (client);
    zsock_set_linger (client, 0);
    char name[32];
    snprintf (name, sizeof name, "gone-%d", number);
    zmq_setsockopt (zsock_resolve (client), ZMQ_ROUTING_ID, name, strlen (name));
    assert (zsock_connect (client, "%s", endpoint) == 0);
    return client;
}

//  A failed linked job cancels its client's next request, however late it
//  comes; but clients that go away after one never send it, so the broker
//  remembers at most ZAIO_BROKER_BROKEN_LINKS_MAX of them, forgetting the
//  oldest first. (Coming back under the same routing id shows which; not
//  under the last one, whose old connection the broker may not have closed
//  yet, and a ROUTER ignores a second connection with the same id.)
static void
s_test_broken_links_bounded (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    const char *endpoint = rig.broker.inproc;
    zaio_request_t req;
    for (int number = 0; number <= ZAIO_BROKER_BROKEN_LINKS_MAX; number++) {
        zsock_t *client = s_client_named (endpoint, number);
        zaio_request_init (&req, ZAIO_OP_STAT, 60);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "missing");
        zaio_request_set_uint (&req, ZAIO_FIELD_LINK, 1);
        zaio_test_send (client, &req, NULL, 0);
        zaio_test_expect (client, 60, ENOENT);
        zsock_destroy (&client);
    }
    const struct {
        int number;
        int error;
    } returns[] = {{0, 0}, {1, ECANCELED}, {2, ECANCELED}};
    for (size_t i = 0; i < sizeof returns / sizeof returns[0]; i++) {
        zsock_t *client = s_client_named (endpoint, returns[i].number);
        zaio_request_init (&req, ZAIO_OP_PING, 61);
        zaio_test_send (client, &req, NULL, 0);
        zaio_test_expect (client, 61, returns[i].error);
        zsock_destroy (&client);
    }
    s_rig_stop (&rig);
}

//  Held jobs are answered too when the broker stops.
static void
s_test_held_at_shutdown (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    zaio_test_broker_t *broker = &rig->broker;
    s_send (rig->client, 50, "z", false, false);
    s_send (rig->client, 51, "z", false, false); //  held behind 50
    s_started (rig, (uint64_t[]){50, 0});
    zactor_t *stopper = zaio_test_stop_in_background (&broker->broker);
    zaio_test_expect (rig->client, 51, ZAIO_ERR_SHUTDOWN);
    s_finish (rig, 50, 0);
    zaio_test_expect (rig->client, 50, 0);
    zactor_destroy (&stopper);
    assert (broker->broker == NULL);
    s_rig_stop (rig);
}

//  A job with a deadline held behind a key whose job does not finish is
//  answered ETIMEDOUT when its deadline passes, not when the job before
//  it ends; that end then releases it without a second reply, and the
//  key goes on.
static void
s_test_deadline_while_held (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig);
    s_send (rig->client, 1, "k", false, false);
    s_started (rig, (uint64_t[]){1, 0});
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 2);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
    zaio_request_set_str (&req, ZAIO_FIELD_KEY, "k");
    zaio_request_set_uint (&req, ZAIO_FIELD_DEADLINE, 200);
    int64_t sent_ms = zclock_mono ();
    zaio_test_send (rig->client, &req, NULL, 0);
    zaio_test_expect (rig->client, 2, ETIMEDOUT);
    int64_t waited_ms = zclock_mono () - sent_ms;
    assert (waited_ms >= 150 && waited_ms < 2000);
    s_finish (rig, 1, 0);
    zaio_test_expect (rig->client, 1, 0);
    s_send (rig->client, 3, "k", false, false);
    s_started (rig, (uint64_t[]){3, 0}); //  2 never ran
    s_finish (rig, 3, 0);
    zaio_test_expect (rig->client, 3, 0); //  and 2 got no second reply before it
    s_rig_stop (rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_keys),
        ZAIO_TEST_CASE (s_test_barrier),
        ZAIO_TEST_CASE (s_test_links),
        ZAIO_TEST_CASE (s_test_volume_lost),
        ZAIO_TEST_CASE (s_test_broken_links_bounded),
        ZAIO_TEST_CASE (s_test_held_at_shutdown),
        ZAIO_TEST_CASE (s_test_deadline_while_held),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
