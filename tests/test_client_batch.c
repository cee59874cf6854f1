/*  test_client_batch.c: 10,000 calls submitted in one batch, all in flight
    from one client at once (the broker's inflight_max allows it), a mix of
    writes to distinct offsets of one file, reads, stats and pings; every
    one completes, and the file holds exactly what was written. Then the
    same with a small inflight_max, where the client's window does the
    pacing, and with callbacks. Against a broker with the batch op, the
    calls travel as wire batches: valid and invalid entries mixed, ordering
    inside and across batches. Against a scripted broker: how many wire
    batches leave (batch_max, the window, coalescing on and off, a broker
    without batches), and QUEUE_FULL entries retried alone.
*/

#include "test_client_fake.h"
#include "testutil.h"
#include "zaio.h"

#include <string.h>

#define CALLS  10000
#define RECORD 16

static int s_callbacks = 0;

static void
s_on_done (zaio_call_t *call, void *arg)
{
    assert (zaio_call_error (call) == 0);
    s_callbacks++;
}

static void
s_batch (const char *endpoint, const char *root, bool callbacks)
{
    zaio_client_t *client = zaio_client_new (endpoint);
    assert (client);
    zaio_request_t *reqs = (zaio_request_t *)calloc (CALLS, sizeof (zaio_request_t));
    zaio_buf_t **data = (zaio_buf_t **)calloc (CALLS, sizeof (zaio_buf_t *));
    zaio_call_t **calls = (zaio_call_t **)calloc (CALLS, sizeof (zaio_call_t *));
    assert (reqs && data && calls);
    int writes = 0;
    for (int i = 0; i < CALLS; i++) {
        zaio_request_t *req = &reqs[i];
        switch (i % 4) {
            case 0:
                zaio_request_init (req, ZAIO_OP_WRITE, 0);
                zaio_request_set_str (req, ZAIO_FIELD_PATH, "batch.bin");
                zaio_request_set_uint (req, ZAIO_FIELD_OFFSET, (uint64_t)writes * RECORD);
                zaio_request_set_uint (req, ZAIO_FIELD_CREATE, 1);
                char record[32];
                snprintf (record, sizeof record, "record-%09d", writes);
                data[i] = zaio_buf_new (record, RECORD);
                writes++;
                break;
            case 1:
                zaio_request_init (req, ZAIO_OP_READ, 0);
                zaio_request_set_str (req, ZAIO_FIELD_PATH, "seed.txt");
                zaio_request_set_uint (req, ZAIO_FIELD_LENGTH, 4);
                break;
            case 2:
                zaio_request_init (req, ZAIO_OP_STAT, 0);
                zaio_request_set_str (req, ZAIO_FIELD_PATH, "seed.txt");
                break;
            default:
                zaio_request_init (req, ZAIO_OP_PING, 0);
        }
    }
    int64_t start = zclock_mono ();
    zaio_client_start_batch (client, reqs, data, CALLS, calls);
    for (int i = 0; i < CALLS; i++) assert (data[i] == NULL); //  taken
    assert (zaio_client_pending (client) <= CALLS);           //  some may be done already
    if (callbacks) {
        s_callbacks = 0;
        for (int i = 0; i < CALLS; i++) zaio_call_then (&calls[i], s_on_done, NULL);
        int64_t until = zclock_mono () + 60000;
        while (zaio_client_pending (client)) {
            assert (zclock_mono () < until);
            assert (zaio_client_dispatch (client, 1000) >= 0);
        }
        assert (s_callbacks == CALLS);
    } else {
        for (int i = 0; i < CALLS; i++) {
            assert (zaio_call_wait (calls[i], 60000) == 0);
            if (zaio_call_error (calls[i])) {
                fprintf (stderr, "call %d: %s %s\n", i, zaio_errname (zaio_call_error (calls[i])),
                         zaio_call_message (calls[i]));
                assert (false);
            }
            if (i % 4 == 1) {
                zaio_buf_t *buf = zaio_call_take_data (calls[i]);
                assert (zaio_buf_size (buf) == 4 && memcmp (zaio_buf_data (buf), "seed", 4) == 0);
                zaio_buf_destroy (&buf);
            }
            zaio_call_destroy (&calls[i]);
        }
    }
    int64_t elapsed = zclock_mono () - start;
    printf ("%d calls over %s in %d ms (%.0f calls/s)%s\n", CALLS, endpoint, (int)elapsed,
            CALLS * 1000.0 / (elapsed ? elapsed : 1), callbacks ? ", callbacks" : "");
    assert (zaio_client_pending (client) == 0);

    size_t size;
    char *file = zaio_test_read_file (root, "batch.bin", &size);
    assert (file && size == (size_t)writes * RECORD);
    for (int i = 0; i < writes; i++) {
        char record[32];
        snprintf (record, sizeof record, "record-%09d", i);
        assert (memcmp (file + (size_t)i * RECORD, record, RECORD) == 0);
    }
    free (file);
    assert (zaio_client_unlink (client, "batch.bin") == 0);
    zaio_client_destroy (&client);
    free (reqs);
    free (data);
    free (calls);
}

//  A broker (config_or_null) whose root holds seed.txt; a batch over the
//  transport named ("ipc", "tcp" or "inproc").
static void
s_batch_on (const zaio_broker_config_t *config_or_null, const char *transport, bool callbacks)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, config_or_null);
    zaio_test_write_file (broker.root, "seed.txt", "seed", 4);
    const char *endpoint = streq (transport, "ipc")   ? broker.ipc
                           : streq (transport, "tcp") ? broker.tcp
                                                      : broker.inproc;
    s_batch (endpoint, broker.root, callbacks);
    zaio_test_broker_stop (&broker);
}

static void
s_test_batch_waited (void)
{
    s_batch_on (NULL, "ipc", false);
}

static void
s_test_batch_with_callbacks (void)
{
    s_batch_on (NULL, "tcp", true);
}

//  A broker that allows 64 in flight per client: the window paces.
static void
s_test_batch_paced_by_window (void)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.inflight_max = 64;
    config.workers = 2;
    s_batch_on (&config, "inproc", false);
}

//  A client of the fake, connected (its hello answered) before it returns.
static zaio_client_t *
s_fake_client (fake_broker_t *fake)
{
    zaio_client_t *client = zaio_client_new (fake->endpoint);
    assert (client);
    zaio_client_set_timeout (client, 10000);
    assert (zaio_client_ping (client) == 0);
    return client;
}

//  Start count calls of op with zaio_client_start_batch and wait for all;
//  each must succeed.
static void
s_fake_batch (zaio_client_t *client, zaio_op_t op, int count)
{
    zaio_request_t reqs[32];
    zaio_call_t *calls[32];
    assert (count <= 32);
    for (int i = 0; i < count; i++) fake_request (&reqs[i], op, "f");
    zaio_client_start_batch (client, reqs, NULL, (size_t)count, calls);
    for (int i = 0; i < count; i++) {
        assert (zaio_call_wait (calls[i], 10000) == 0);
        assert (zaio_call_error (calls[i]) == 0);
        if (op == ZAIO_OP_READ) {
            zaio_buf_t *buf = zaio_call_take_data (calls[i]);
            assert (buf && zaio_buf_size (buf) == 4 &&
                    memcmp (zaio_buf_data (buf), "fake", 4) == 0);
            zaio_buf_destroy (&buf);
        }
        zaio_call_destroy (&calls[i]);
    }
}

//  zaio_client_start_batch sends wire batches of batch_max calls, whether
//  the client coalesces or not; each call gets its own reply (and data)
//  out of the reply batches.
static void
s_test_start_batch_wire (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    fake_command (&fake, "BATCH 4");
    zaio_client_t *client = s_fake_client (&fake);
    s_fake_batch (client, ZAIO_OP_READ, 10);
    assert (fake_query (&fake, "BATCHES") == 3); //  4, 4, 2
    zaio_client_set_coalesce (client, false);
    s_fake_batch (client, ZAIO_OP_STAT, 8);
    assert (fake_query (&fake, "BATCHES") == 5);
    assert (fake_query (&fake, "RECEIVED") == 1 + 10 + 8);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  Calls started back to back leave in one wire batch when the client
//  coalesces (the default), one by one when it does not.
static void
s_test_coalescing (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    fake_command (&fake, "BATCH 64");
    zaio_client_t *client = s_fake_client (&fake);
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_READ, "f");
    for (int round = 0; round < 2; round++) {
        zaio_call_t *calls[5];
        for (int i = 0; i < 5; i++) calls[i] = zaio_client_start (client, &req, NULL);
        for (int i = 0; i < 5; i++) {
            assert (zaio_call_wait (calls[i], 10000) == 0 && zaio_call_error (calls[i]) == 0);
            zaio_call_destroy (&calls[i]);
        }
        assert (fake_query (&fake, "BATCHES") == 1);
        zaio_client_set_coalesce (client, false);
    }
    assert (fake_query (&fake, "RECEIVED") == 1 + 10);
    //  A coalescing client's fd polls readable while a call waits to go.
    zaio_client_set_coalesce (client, true);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    zmq_pollitem_t item = {NULL, zaio_client_fd (client), ZMQ_POLLIN, 0};
    assert (zmq_poll (&item, 1, 0) == 1);
    assert (zaio_call_wait (call, 10000) == 0 && zaio_call_error (call) == 0);
    zaio_call_destroy (&call);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  A broker whose hello gives no batch_max gets single requests.
static void
s_test_no_batches (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    zaio_client_t *client = s_fake_client (&fake);
    s_fake_batch (client, ZAIO_OP_STAT, 6);
    assert (fake_query (&fake, "BATCHES") == 0);
    assert (fake_query (&fake, "RECEIVED") == 1 + 6);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  Entries answered QUEUE_FULL inside a reply batch are retried, each on
//  its own back-off, and the window bounds a batch.
static void
s_test_queue_full_entries (void)
{
    fake_broker_t fake;
    fake_start (&fake, 3, 0);
    fake_command (&fake, "BATCH 64");
    fake_command (&fake, "QUEUEFULL 2");
    zaio_client_t *client = s_fake_client (&fake);
    s_fake_batch (client, ZAIO_OP_READ, 9);
    //  ping, then 9 entries received 3 times each
    assert (fake_query (&fake, "RECEIVED") == 3 + 27);
    assert (fake_query (&fake, "BATCHES") >= 3); //  the window is 3
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  A whole-batch refusal (a reply to the batch's tag) is each call's error.
static void
s_test_refused_batch (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    fake_command (&fake, "BATCH 64");
    fake_command (&fake, "REFUSE 1");
    zaio_client_t *client = s_fake_client (&fake);
    zaio_request_t reqs[3];
    zaio_call_t *calls[3];
    for (int i = 0; i < 3; i++) fake_request (&reqs[i], ZAIO_OP_STAT, "f");
    zaio_client_start_batch (client, reqs, NULL, 3, calls);
    for (int i = 0; i < 3; i++) {
        assert (zaio_call_wait (calls[i], 10000) == 0);
        assert (zaio_call_error (calls[i]) == ZAIO_ERR_MALFORMED);
        zaio_call_destroy (&calls[i]);
    }
    assert (zaio_client_pending (client) == 0);
    fake_command (&fake, "REFUSE 0");
    s_fake_batch (client, ZAIO_OP_STAT, 3);
    assert (fake_query (&fake, "BATCHES") == 2);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  A broker with the batch op: a batch mixing valid and invalid entries
//  fails only the invalid ones; appends with one key land in order inside
//  and across batches and single calls.
static void
s_test_mixed_and_ordered (void)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    zaio_test_write_file (broker.root, "f", "abc", 3);
    zaio_client_t *client = zaio_client_new (broker.ipc);
    assert (client);
    assert (zaio_client_ping (client) == 0);
    const zaio_hello_t *hello = zaio_client_limits (client);
    assert (hello && hello->batch_max && (hello->ops & (1u << ZAIO_OP_BATCH)));

    zaio_request_t reqs[6];
    zaio_call_t *calls[6];
    fake_request (&reqs[0], ZAIO_OP_STAT, "f");
    fake_request (&reqs[1], ZAIO_OP_STAT, "nope");
    fake_request (&reqs[2], ZAIO_OP_STAT, "../outside");
    fake_request (&reqs[3], ZAIO_OP_READ, "f");
    zaio_request_set_uint (&reqs[3], ZAIO_FIELD_LENGTH, (uint64_t)1 << 40);
    fake_request (&reqs[4], ZAIO_OP_READ, "f");
    zaio_request_init (&reqs[5], ZAIO_OP_STAT, 0); //  no path: MALFORMED
    zaio_client_start_batch (client, reqs, NULL, 6, calls);
    int want[6] = {0, ENOENT, -1, ZAIO_ERR_TOOBIG, 0, ZAIO_ERR_MALFORMED};
    for (int i = 0; i < 6; i++) {
        assert (zaio_call_wait (calls[i], 10000) == 0);
        int error = zaio_call_error (calls[i]);
        if (want[i] == -1)
            assert (error != 0);
        else if (error != want[i]) {
            fprintf (stderr, "entry %d: %s %s\n", i, zaio_errname (error),
                     zaio_call_message (calls[i]));
            assert (false);
        }
        zaio_call_destroy (&calls[i]);
    }

    //  Three batches of 50 keyed appends, a single one after each.
    char want_log[3 * (50 * 5 + 1) + 1] = "";
    for (int round = 0; round < 3; round++) {
        zaio_request_t appends[50];
        zaio_buf_t *data[50];
        zaio_call_t *done[50];
        for (int i = 0; i < 50; i++) {
            char piece[8];
            snprintf (piece, sizeof piece, "%d.%02d,", round, i);
            strcat (want_log, piece);
            zaio_request_init (&appends[i], ZAIO_OP_APPEND, 0);
            zaio_request_set_str (&appends[i], ZAIO_FIELD_PATH, "log");
            zaio_request_set_str (&appends[i], ZAIO_FIELD_KEY, "k");
            zaio_request_set_uint (&appends[i], ZAIO_FIELD_CREATE, 1);
            data[i] = zaio_buf_new (piece, strlen (piece));
        }
        zaio_client_start_batch (client, appends, data, 50, done);
        zaio_request_t bar;
        zaio_request_init (&bar, ZAIO_OP_APPEND, 0);
        zaio_request_set_str (&bar, ZAIO_FIELD_PATH, "log");
        zaio_request_set_str (&bar, ZAIO_FIELD_KEY, "k");
        zaio_buf_t *pipe_data = zaio_buf_new ("|", 1);
        zaio_call_t *single = zaio_client_start (client, &bar, &pipe_data);
        strcat (want_log, "|");
        for (int i = 0; i < 50; i++) {
            assert (zaio_call_wait (done[i], 10000) == 0 && zaio_call_error (done[i]) == 0);
            zaio_call_destroy (&done[i]);
        }
        assert (zaio_call_wait (single, 10000) == 0 && zaio_call_error (single) == 0);
        zaio_call_destroy (&single);
    }
    size_t size;
    char *log = zaio_test_read_file (broker.root, "log", &size);
    assert (log && size == strlen (want_log) && memcmp (log, want_log, size) == 0);
    free (log);
    zaio_client_destroy (&client);
    zaio_test_broker_stop (&broker);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_batch_waited),
        ZAIO_TEST_CASE (s_test_batch_with_callbacks),
        ZAIO_TEST_CASE (s_test_batch_paced_by_window),
        ZAIO_TEST_CASE (s_test_start_batch_wire),
        ZAIO_TEST_CASE (s_test_coalescing),
        ZAIO_TEST_CASE (s_test_no_batches),
        ZAIO_TEST_CASE (s_test_queue_full_entries),
        ZAIO_TEST_CASE (s_test_refused_batch),
        ZAIO_TEST_CASE (s_test_mixed_and_ordered),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
