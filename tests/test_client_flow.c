/*  test_client_flow.c: flow control against a scripted broker. The client
    never has more than the broker's inflight_max calls sent at once, nor
    more than half its reply_hwm;
    QUEUE_FULL (not accepted) is retried after a back-off for every op,
    writes included; SHUTDOWN (not run) is retried `retries` times and then
    reported.
*/

#include "test_client_fake.h"
#include "testutil.h"

#define WINDOW 8
#define CALLS  100

//  Wait for the broker to have count requests, keeping the client going.
static void
s_wait_received (fake_broker_t *fake, zaio_client_t *client, long count)
{
    int64_t until = zclock_mono () + 5000;
    while (fake_query (fake, "RECEIVED") < count) {
        assert (zclock_mono () < until);
        zaio_client_dispatch (client, 2);
    }
}

//  A scripted broker with these limits and a client that has said hello
//  to it.
typedef struct {
    fake_broker_t fake;
    zaio_client_t *client;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, uint32_t inflight_max, uint32_t reply_hwm)
{
    fake_start (&rig->fake, inflight_max, reply_hwm);
    rig->client = zaio_client_new (rig->fake.endpoint);
    assert (rig->client);
    assert (zaio_client_ping (rig->client) == 0);
    assert (streq (zaio_client_limits (rig->client)->version, "fake"));
}

static void
s_rig_stop (s_rig_t *rig)
{
    assert (zaio_client_pending (rig->client) == 0);
    zaio_client_destroy (&rig->client);
    fake_stop (&rig->fake);
}

//  The broker sees exactly a window's worth of calls, then nothing more
//  until it answers.
static void
s_window (fake_broker_t *fake, zaio_client_t *client)
{
    fake_command (fake, "HOLD 1");
    long base = fake_query (fake, "RECEIVED");
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    zaio_call_t *calls[CALLS];
    for (int i = 0; i < CALLS; i++) calls[i] = zaio_client_start (client, &req, NULL);
    //  The broker sees exactly a window's worth, then nothing more until
    //  it answers.
    int answered = 0;
    while (answered < CALLS) {
        long expect = answered + WINDOW < CALLS ? answered + WINDOW : CALLS;
        s_wait_received (fake, client, base + expect);
        zaio_client_dispatch (client, 20);
        assert (fake_query (fake, "RECEIVED") == base + expect);
        assert (fake_query (fake, "HELD") == expect - answered);
        fake_command (fake, "RELEASE");
        answered = (int)expect;
    }
    for (int i = 0; i < CALLS; i++) {
        assert (zaio_call_wait (calls[i], 5000) == 0);
        assert (zaio_call_error (calls[i]) == 0);
        zaio_call_destroy (&calls[i]);
    }
    assert (fake_query (fake, "HELDMAX") == WINDOW);
    fake_command (fake, "HOLD 0");
}

//  QUEUE_FULL (not accepted) is retried after a back-off for every op,
//  writes included.
static void
s_test_queue_full_retried (void)
{
    s_rig_t rig;
    s_rig_start (&rig, WINDOW, 0);
    fake_broker_t *fake = &rig.fake;
    zaio_client_t *client = rig.client;
    //  Three refusals for every id: each call is sent four times and succeeds.
    long before = fake_query (fake, "RECEIVED");
    fake_command (fake, "QUEUEFULL 3");
    zaio_request_t reqs[20];
    for (int i = 0; i < 20; i++) {
        char path[32];
        snprintf (path, sizeof path, "qf-%d", i);
        fake_request (&reqs[i], i % 2 ? ZAIO_OP_WRITE : ZAIO_OP_READ, path);
    }
    zaio_call_t *calls[20];
    zaio_client_start_batch (client, reqs, NULL, 20, calls);
    for (int i = 0; i < 20; i++) {
        assert (zaio_call_wait (calls[i], 5000) == 0);
        assert (zaio_call_error (calls[i]) == 0);
        zaio_call_destroy (&calls[i]);
        char seen[40];
        snprintf (seen, sizeof seen, "SEEN qf-%d", i);
        assert (fake_query (fake, seen) == 4);
    }
    assert (fake_query (fake, "RECEIVED") - before == 80);
    fake_command (fake, "QUEUEFULL 0");
    s_rig_stop (&rig);
}

//  SHUTDOWN (not run) is retried `retries` times and then reported.
static void
s_test_shutdown_retried (void)
{
    s_rig_t rig;
    s_rig_start (&rig, WINDOW, 0);
    fake_broker_t *fake = &rig.fake;
    zaio_client_t *client = rig.client;
    //  SHUTDOWN twice, then served: within retries (3) it succeeds.
    fake_command (fake, "SHUTDOWN 2");
    zaio_client_set_backoff (client, 5, 20);
    zaio_buf_t *buf = NULL;
    assert (zaio_client_read (client, "sd-1", 0, 4, &buf, NULL) == 0);
    assert (zaio_buf_size (buf) == 4);
    zaio_buf_destroy (&buf);
    assert (zaio_client_write (client, "sd-2", 0, "x", 1, true) == 0);
    assert (fake_query (fake, "SEEN sd-1") == 3 && fake_query (fake, "SEEN sd-2") == 3);
    //  With one retry allowed, the second SHUTDOWN is the answer.
    zaio_client_set_retries (client, 1);
    zaio_call_t *call;
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "sd-3");
    call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, 5000) == 0);
    assert (zaio_call_error (call) == ZAIO_ERR_SHUTDOWN);
    assert (zaio_call_reply (call) && !zaio_call_reply (call)->ok);
    assert (streq (zaio_errname (zaio_call_error (call)), "SHUTDOWN"));
    zaio_call_destroy (&call);
    zaio_client_set_retries (client, ZAIO_CLIENT_RETRIES);
    fake_command (fake, "SHUTDOWN 0");
    s_rig_stop (&rig);
}

//  Never more than the broker's inflight_max calls sent at once.
static void
s_test_window_of_inflight_max (void)
{
    s_rig_t rig;
    s_rig_start (&rig, WINDOW, 0);
    assert (zaio_client_limits (rig.client)->inflight_max == WINDOW);
    s_window (&rig.fake, rig.client);
    s_rig_stop (&rig);
}

//  A broker whose reply_hwm is the tighter bound: half of it.
static void
s_test_window_of_half_reply_hwm (void)
{
    s_rig_t rig;
    s_rig_start (&rig, 1000, 2 * WINDOW);
    assert (zaio_client_limits (rig.client)->reply_hwm == 2 * WINDOW);
    s_window (&rig.fake, rig.client);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_window_of_inflight_max),
        ZAIO_TEST_CASE (s_test_queue_full_retried),
        ZAIO_TEST_CASE (s_test_shutdown_retried),
        ZAIO_TEST_CASE (s_test_window_of_half_reply_hwm),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
