/*  test_client_lost.c: the lazy pirate, against a scripted broker that
    drops its connections (a crash and restart on the same port) while it
    holds requests. Idempotent calls are sent again on a fresh connection
    and succeed; a non-idempotent call that reached the lost broker fails
    with CONNLOST and is never sent again; a call started while the broker
    is away waits and is sent once; an idempotent call lost more than
    `retries` times fails with UNREACHABLE. A callback that destroy runs
    (ECANCELED) and that starts another call, with the connection up,
    coming up or backing off: that call is cancelled at once too, its
    callback runs, and nothing is sent or connected.
*/

#include "test_client_fake.h"
#include "testutil.h"

static void
s_wait_held (fake_broker_t *fake, zaio_client_t *client, long count)
{
    int64_t until = zclock_mono () + 5000;
    while (fake_query (fake, "HELD") < count) {
        assert (zclock_mono () < until);
        zaio_client_dispatch (client, 2);
    }
}

static zaio_call_t *
s_start (zaio_client_t *client, zaio_op_t op, const char *path)
{
    zaio_request_t req;
    fake_request (&req, op, path);
    return zaio_client_start (client, &req, NULL);
}

typedef struct {
    zaio_client_t *client;
    int runs;
    int cancelled;
} chain_t;

//  The first run starts one more call, as zaio.h allows a callback to.
static void
s_chain (zaio_call_t *call, void *arg)
{
    chain_t *chain = (chain_t *)arg;
    chain->runs++;
    if (zaio_call_error (call) == ECANCELED) chain->cancelled++;
    if (chain->runs == 1) {
        zaio_request_t req;
        fake_request (&req, ZAIO_OP_WRITE, "D-chained");
        zaio_client_submit (chain->client, &req, NULL, s_chain, chain);
    }
}

//  Keep the client going for msecs without letting it wait.
static void
s_spin (zaio_client_t *client, int msecs)
{
    for (int i = 0; i < msecs / 5; i++) {
        zclock_sleep (5);
        zaio_client_dispatch (client, 0);
    }
}

//  A scripted broker and a client over tcp that has said hello to it.
typedef struct {
    fake_broker_t fake;
    zaio_client_t *client;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    fake_start (&rig->fake, 100, 0);
    rig->client = zaio_client_new (rig->fake.endpoint);
    assert (rig->client);
    zaio_client_set_timeout (rig->client, 10000);
    assert (zaio_client_ping (rig->client) == 0);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zaio_client_destroy (&rig->client);
    fake_stop (&rig->fake);
}

//  A crash with three requests held, two idempotent, one not: the
//  idempotent two come back on the new connection and succeed; the write
//  fails with CONNLOST and is never sent again.
static void
s_test_crash_with_requests_held (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    fake_broker_t *fake = &rig.fake;
    zaio_client_t *client = rig.client;
    fake_command (fake, "HOLD 1");
    zaio_call_t *read = s_start (client, ZAIO_OP_READ, "L-read");
    zaio_call_t *write = s_start (client, ZAIO_OP_WRITE, "L-write");
    zaio_call_t *stat = s_start (client, ZAIO_OP_STAT, "L-stat");
    s_wait_held (fake, client, 3);
    fake_command (fake, "RESTART");
    assert (zaio_call_wait (write, 5000) == 0);
    assert (zaio_call_error (write) == ZAIO_ERR_CONNLOST);
    assert (strstr (zaio_call_message (write), "may or may not have run"));
    //  the idempotent two come back on the new connection
    s_wait_held (fake, client, 2);
    assert (!zaio_call_done (read) && !zaio_call_done (stat));
    fake_command (fake, "RELEASE");
    assert (zaio_call_wait (read, 5000) == 0 && zaio_call_error (read) == 0);
    assert (zaio_call_wait (stat, 5000) == 0 && zaio_call_error (stat) == 0);
    zaio_buf_t *data = zaio_call_take_data (read);
    assert (data && zaio_buf_size (data) == 4);
    zaio_buf_destroy (&data);
    assert (fake_query (fake, "SEEN L-read") == 2);
    assert (fake_query (fake, "SEEN L-stat") == 2);
    assert (fake_query (fake, "SEEN L-write") == 1);
    zaio_call_destroy (&read);
    zaio_call_destroy (&write);
    zaio_call_destroy (&stat);
    s_rig_stop (&rig);
}

//  The broker goes away; a write started meanwhile cannot have reached
//  it, so it waits for the next broker and is sent exactly once.
static void
s_test_call_while_gone_sent_once (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    fake_broker_t *fake = &rig.fake;
    zaio_client_t *client = rig.client;
    fake_command (fake, "GONE");
    //  (dispatch returns at once with nothing pending: let the client see
    //  the disconnect before the write starts)
    for (int i = 0; i < 20; i++) {
        zclock_sleep (10);
        zaio_client_dispatch (client, 0);
    }
    zaio_call_t *write = s_start (client, ZAIO_OP_WRITE, "L-late");
    if (zaio_call_wait (write, 250) == 0)
        fprintf (stderr, "unexpected: %s %s\n", zaio_errname (zaio_call_error (write)),
                 zaio_call_message (write));
    assert (!zaio_call_done (write));
    fake_command (fake, "RESTART");
    assert (zaio_call_wait (write, 5000) == 0 && zaio_call_error (write) == 0);
    assert (fake_query (fake, "SEEN L-late") == 1);
    zaio_call_destroy (&write);
    s_rig_stop (&rig);
}

//  An idempotent call lost more often than retries allow: UNREACHABLE.
static void
s_test_lost_more_than_retries (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    fake_broker_t *fake = &rig.fake;
    zaio_client_t *client = rig.client;
    zaio_client_set_retries (client, 1);
    fake_command (fake, "HOLD 1");
    zaio_call_t *read = s_start (client, ZAIO_OP_READ, "L-twice");
    s_wait_held (fake, client, 1);
    fake_command (fake, "RESTART");
    s_wait_held (fake, client, 1);
    fake_command (fake, "RESTART");
    assert (zaio_call_wait (read, 5000) == 0);
    assert (zaio_call_error (read) == ZAIO_ERR_UNREACHABLE);
    assert (strstr (zaio_call_message (read), "broker lost 2 times"));
    assert (fake_query (fake, "SEEN L-twice") == 2);
    zaio_call_destroy (&read);
    s_rig_stop (&rig);
}

//  Calls still pending when the client goes complete with ECANCELED.
static void
s_test_destroy_cancels_pending (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    fake_command (&rig.fake, "HOLD 1");
    zaio_call_t *read = s_start (rig.client, ZAIO_OP_READ, "L-cancel");
    zaio_call_t *held = s_start (rig.client, ZAIO_OP_READ, "L-held");
    s_wait_held (&rig.fake, rig.client, 2);
    zaio_call_destroy (&read); //  abandoned: fine
    zaio_client_destroy (&rig.client);
    assert (zaio_call_done (held) && zaio_call_error (held) == ECANCELED);
    zaio_call_destroy (&held);
    s_rig_stop (&rig);
}

//  A callback destroy runs (ECANCELED) starts another call, with the
//  connection up (READY, the first call held at the broker): that call is
//  cancelled at once too, its callback runs, and nothing is sent.
static void
s_test_destroy_chain_ready (void)
{
    fake_broker_t the_fake, *fake = &the_fake;
    fake_start (fake, 100, 0);
    chain_t chain = {zaio_client_new (fake->endpoint), 0, 0};
    assert (zaio_client_ping (chain.client) == 0);
    fake_command (fake, "HOLD 1");
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_WRITE, "D-ready");
    zaio_client_submit (chain.client, &req, NULL, s_chain, &chain);
    s_wait_held (fake, chain.client, 1);
    zaio_client_destroy (&chain.client);
    assert (chain.runs == 2 && chain.cancelled == 2);
    assert (fake_query (fake, "SEEN D-chained") == 0);
    fake_stop (fake);
}

//  The same with the connection coming up (CONNECTING: the broker's
//  answer to the client's hello is unreadable).
static void
s_test_destroy_chain_connecting (void)
{
    fake_broker_t the_fake, *fake = &the_fake;
    fake_start (fake, 100, 0);
    fake_command (fake, "BADHELLO 1");
    chain_t chain = {zaio_client_new (fake->endpoint), 0, 0};
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_WRITE, "D-connecting");
    zaio_client_submit (chain.client, &req, NULL, s_chain, &chain);
    s_spin (chain.client, 100);
    zaio_client_destroy (&chain.client);
    assert (chain.runs == 2 && chain.cancelled == 2);
    assert (fake_query (fake, "SEEN D-chained") == 0);
    fake_stop (fake);
}

//  The same backing off, its reconnect overdue: the broker went away under
//  a read, and the client was not called again until the back-off had
//  passed; nothing is connected.
static void
s_test_destroy_chain_backoff (void)
{
    fake_broker_t the_fake, *fake = &the_fake;
    fake_start (fake, 100, 0);
    chain_t chain = {zaio_client_new (fake->endpoint), 0, 0};
    zaio_client_set_backoff (chain.client, 200, 200);
    assert (zaio_client_ping (chain.client) == 0);
    fake_command (fake, "HOLD 1");
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_READ, "D-backoff");
    zaio_client_submit (chain.client, &req, NULL, s_chain, &chain);
    s_wait_held (fake, chain.client, 1);
    fake_command (fake, "GONE");
    s_spin (chain.client, 50);
    zclock_sleep (300);
    zaio_client_destroy (&chain.client);
    assert (chain.runs == 2 && chain.cancelled == 2);
    fake_command (fake, "HOLD 0");
    fake_command (fake, "RESTART");
    assert (fake_query (fake, "SEEN D-chained") == 0);
    fake_stop (fake);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_crash_with_requests_held),
        ZAIO_TEST_CASE (s_test_call_while_gone_sent_once),
        ZAIO_TEST_CASE (s_test_lost_more_than_retries),
        ZAIO_TEST_CASE (s_test_destroy_cancels_pending),
        ZAIO_TEST_CASE (s_test_destroy_chain_ready),
        ZAIO_TEST_CASE (s_test_destroy_chain_connecting),
        ZAIO_TEST_CASE (s_test_destroy_chain_backoff),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
