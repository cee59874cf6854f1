/*  test_client_batch.c: 10,000 calls submitted in one batch, all in flight
    from one client at once (the broker's inflight_max allows it), a mix of
    writes to distinct offsets of one file, reads, stats and pings; every
    one completes, and the file holds exactly what was written. Then the
    same with a small inflight_max, where the client's window does the
    pacing, and with callbacks.
*/

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

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_batch_waited),
        ZAIO_TEST_CASE (s_test_batch_with_callbacks),
        ZAIO_TEST_CASE (s_test_batch_paced_by_window),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
