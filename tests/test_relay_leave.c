/*  test_relay_leave: a remote worker's relay that leaves after a drain
    delivers the DONE of its last job before it goes, even when that DONE
    is large and the broker is slow to take it. Dropping it (a socket that
    lingers 0) would make the broker take the worker for dead with the job
    in flight, and answer UNKNOWN_OUTCOME for a job that ran.

    The test plays the broker on a ROUTER: it takes READY, then the relay's
    BYE when the relay is told to stop, sends one JOB (a 32 MiB read, more
    than loopback TCP buffers hold) and the BYE answer after it, and only
    then, once the relay has had time to finish and leave, reads. */

#include "testutil.h"
#include "zaio_relay.h"
#include "zaio_volume.h"

#include <string.h>

#define S_FILE_SIZE    (32 * 1024 * 1024)
#define S_JOB_NUMBER   7
#define S_TIMEOUT_MS   5000
#define S_SLOW_READ_MS 300 //  how long the broker leaves the DONE unread

//  The next message from the relay, within the timeout; asserts on none.
//  Returns its command and sets *job.
static int
s_expect (zsock_t *broker, zmsg_t **msg_p, uint64_t *job)
{
    zpoller_t *poller = zpoller_new (broker, NULL);
    void *ready = zpoller_wait (poller, S_TIMEOUT_MS);
    zpoller_destroy (&poller);
    assert (ready == broker);
    *msg_p = zmsg_recv (broker);
    assert (*msg_p && zmsg_size (*msg_p) >= 2);
    zmsg_first (*msg_p); //  the relay's identity
    zframe_t *envelope = zmsg_next (*msg_p);
    return zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), job);
}

static void
s_send_command (zsock_t *broker, zframe_t *identity, zaio_worker_command_t command, uint64_t job,
                zframe_t **header_p)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (identity)});
    zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (command, job)});
    if (header_p) zmsg_append (msg, header_p);
    assert (zmsg_send (&msg, broker) == 0);
}

int
main (void)
{
    char *root = zaio_test_tempdir ("relay-leave");
    uint8_t *content = (uint8_t *)malloc (S_FILE_SIZE);
    assert (content);
    for (size_t i = 0; i < S_FILE_SIZE; i++) content[i] = (uint8_t)(i * 13 + i / 65536);
    zaio_test_write_file (root, "big.bin", content, S_FILE_SIZE);

    zsock_t *broker = zsock_new (ZMQ_ROUTER);
    assert (broker);
    zsock_set_linger (broker, 0);
    assert (zsock_bind (broker, "tcp://127.0.0.1:*") > 0);
    char *endpoint = zsock_last_endpoint (broker);

    zaio_volume_t *volume = zaio_volume_new (ZAIO_DEFAULT_VOLUME, root, false, false);
    assert (volume);
    zaio_relay_config_t config = {
        .broker = endpoint,
        .volumes = &volume,
        .volume_count = 1,
        .threads = 1,
        .credit = 1,
        .payload_max = 2 * S_FILE_SIZE,
        .heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS,
        .heartbeat_misses = 3,
        .drain_ms = S_TIMEOUT_MS,
        .name = "leaver",
    };
    zactor_t *relay = zaio_relay_new (&config);
    assert (relay);

    zmsg_t *msg;
    uint64_t job;
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_READY);
    zframe_t *identity = zframe_dup (zmsg_first (msg));
    zmsg_destroy (&msg);

    //  Told to stop, the relay says BYE and waits for the answer.
    zstr_send (relay, "$TERM");
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_BYE);
    zmsg_destroy (&msg);

    //  A job sent before the broker saw the BYE, then the answer.
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 42);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "big.bin");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, S_FILE_SIZE);
    zframe_t *header = zaio_request_encode (&req);
    s_send_command (broker, identity, ZAIO_WORKER_JOB, S_JOB_NUMBER, &header);
    s_send_command (broker, identity, ZAIO_WORKER_BYE, 0, NULL);

    //  The relay runs the job, sends its DONE and leaves, while the broker
    //  reads nothing; the DONE must still arrive, whole.
    zclock_sleep (S_SLOW_READ_MS);
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_DONE);
    assert (job == S_JOB_NUMBER);
    assert (zmsg_size (msg) == 4);
    zmsg_first (msg);
    zframe_t *outcome_frame = zmsg_next (msg); //  the envelope, then the outcome
    zaio_outcome_t outcome;
    assert (zaio_done_outcome (&outcome, zframe_data (outcome_frame),
                               zframe_size (outcome_frame)) == 0);
    assert (outcome.error == 0 && outcome.bytes == S_FILE_SIZE);
    zmsg_next (msg); //  the reply header
    zframe_t *data = zmsg_next (msg);
    assert (zframe_size (data) == S_FILE_SIZE);
    assert (memcmp (zframe_data (data), content, S_FILE_SIZE) == 0);
    zmsg_destroy (&msg);
    printf ("test_relay_leave: the last DONE (%d MiB) arrived after the relay left\n",
            S_FILE_SIZE >> 20);

    zaio_relay_destroy (&relay); //  it has left already
    zframe_destroy (&identity);
    zaio_volume_destroy (&volume);
    zstr_free (&endpoint);
    zsock_destroy (&broker);
    zaio_test_rmtree (root);
    zstr_free (&root);
    free (content);
    zsys_shutdown ();
    printf ("test_relay_leave: OK\n");
    return 0;
}
