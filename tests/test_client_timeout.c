/*  test_client_timeout.c: every call completes, in time, when the broker
    does not answer: per-call and default timeouts (blocking, handle,
    callback fired from the client's descriptor alone), late replies after
    a timeout, and brokers that are not there at all (UNREACHABLE), with a
    scripted broker so the timing is exact. Brokers whose answers cannot be
    used: a hello reply the client cannot read fails the connection like
    no answer (retried, then UNREACHABLE, even with no call timeout), and
    a listdir page longer than the spec allows is MALFORMED.
*/

#include "test_client_fake.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static int s_callback_error = -1;

static void
s_on_done (zaio_call_t *call, void *arg)
{
    s_callback_error = zaio_call_error (call);
    *(int64_t *)arg = zclock_mono ();
}

//  A scripted broker and a client that has said hello to it; the broker
//  then swallows every request (SILENT) unless silent is false.
typedef struct {
    fake_broker_t fake;
    zaio_client_t *client;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, bool silent)
{
    fake_start (&rig->fake, 1000, 0);
    rig->client = zaio_client_new (rig->fake.endpoint);
    assert (rig->client);
    assert (zaio_client_ping (rig->client) == 0);
    if (silent) fake_command (&rig->fake, "SILENT 1");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zaio_client_destroy (&rig->client);
    fake_stop (&rig->fake);
}

//  A handle with its own timeout.
static void
s_test_handle_timeout (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "x");
    int64_t start = zclock_mono ();
    zaio_call_t *call = zaio_client_start (rig.client, &req, NULL);
    zaio_call_set_timeout (call, 200);
    assert (!zaio_call_done (call));
    assert (zaio_call_wait (call, 50) == -1); //  the wait's own limit
    assert (zaio_call_wait (call, -1) == 0);
    int64_t elapsed = zclock_mono () - start;
    assert (elapsed >= 195 && elapsed < 1000);
    assert (zaio_call_error (call) == ZAIO_ERR_TIMEOUT);
    assert (strstr (zaio_call_message (call), "no reply within 200 ms"));
    assert (zaio_call_reply (call) == NULL);
    zaio_call_destroy (&call);
    s_rig_stop (&rig);
}

//  The client's default applies to blocking calls.
static void
s_test_default_timeout (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zaio_client_set_timeout (rig.client, 150);
    zaio_stat_t st;
    int64_t start = zclock_mono ();
    assert (zaio_client_stat (rig.client, "x", &st) == ZAIO_ERR_TIMEOUT);
    int64_t elapsed = zclock_mono () - start;
    assert (elapsed >= 145 && elapsed < 1000);
    assert (zaio_client_write (rig.client, "w", 0, "ab", 2, true) == ZAIO_ERR_TIMEOUT);
    s_rig_stop (&rig);
}

//  A callback whose only trigger is the timer behind the descriptor.
static void
s_test_callback_timeout_from_descriptor (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zaio_client_t *client = rig.client;
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "x");
    int epfd = epoll_create1 (0);
    struct epoll_event event = {.events = EPOLLIN};
    assert (epoll_ctl (epfd, EPOLL_CTL_ADD, zaio_client_fd (client), &event) == 0);
    zaio_client_set_timeout (client, 300);
    int64_t fired = 0;
    int64_t start = zclock_mono ();
    zaio_client_submit (client, &req, NULL, s_on_done, &fired);
    assert (zaio_client_pending (client) == 1);
    while (zaio_client_pending (client)) {
        assert (epoll_wait (epfd, &event, 1, 2000) == 1);
        zaio_client_dispatch (client, 0);
        assert (zclock_mono () - start < 2000);
    }
    assert (s_callback_error == ZAIO_ERR_TIMEOUT);
    assert (fired - start >= 295 && fired - start < 1000);
    close (epfd);
    s_rig_stop (&rig);
}

//  No timeout at all: the call waits as long as it takes.
static void
s_test_no_timeout_waits (void)
{
    s_rig_t rig;
    s_rig_start (&rig, false);
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "x");
    zaio_client_set_timeout (rig.client, 0);
    fake_command (&rig.fake, "HOLD 1");
    zaio_call_t *call = zaio_client_start (rig.client, &req, NULL);
    assert (zaio_call_wait (call, 300) == -1);
    fake_command (&rig.fake, "RELEASE");
    assert (zaio_call_wait (call, 5000) == 0 && zaio_call_error (call) == 0);
    zaio_call_destroy (&call);
    s_rig_stop (&rig);
}

//  Late replies to timed-out calls are dropped; the client carries on.
static void
s_test_late_replies_dropped (void)
{
    s_rig_t rig;
    s_rig_start (&rig, false);
    zaio_client_t *client = rig.client;
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "x");
    fake_command (&rig.fake, "HOLD 1");
    zaio_client_set_timeout (client, 100);
    for (int i = 0; i < 10; i++) {
        zaio_call_t *call = zaio_client_start (client, &req, NULL);
        assert (zaio_call_wait (call, -1) == 0 && zaio_call_error (call) == ZAIO_ERR_TIMEOUT);
        zaio_call_destroy (&call);
    }
    //  an abandoned call: its reply comes later and is dropped too (the
    //  client coalesces: zaio_call_done sends it)
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    zaio_call_done (call);
    zaio_call_destroy (&call);
    int64_t until = zclock_mono () + 2000;
    while (fake_query (&rig.fake, "HELD") < 11) {
        assert (zclock_mono () < until);
        zclock_sleep (5);
    }
    fake_command (&rig.fake, "RELEASE");
    fake_command (&rig.fake, "HOLD 0");
    zaio_client_set_timeout (client, 5000);
    zaio_stat_t st;
    assert (zaio_client_stat (client, "x", &st) == 0 && st.size == 4);
    assert (zaio_client_pending (client) == 0);
    s_rig_stop (&rig);
}

//  A TCP port that accepts connections and never speaks ZMTP.
static int
s_mute_listener (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    assert (bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    assert (listen (fd, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname (fd, (struct sockaddr *)&addr, &len);
    *port = ntohs (addr.sin_port);
    return fd;
}

//  Nothing listens: refused at once, a few quick retries, then UNREACHABLE.
static void
s_test_nothing_listens (void)
{
    char *dir = zaio_test_tempdir ("unreach");
    char *endpoints[2] = {zsys_sprintf ("ipc://%s/none.ipc", dir), NULL};
    int port;
    int mute = s_mute_listener (&port);
    close (mute); //  now a port where nothing listens
    endpoints[1] = zsys_sprintf ("tcp://127.0.0.1:%d", port);
    for (int i = 0; i < 2; i++) {
        zaio_client_t *client = zaio_client_new (endpoints[i]);
        assert (client);
        zaio_client_set_retries (client, 2);
        zaio_client_set_retry_ms (client, 0); //  the retries alone
        zaio_client_set_backoff (client, 20, 100);
        int64_t start = zclock_mono ();
        assert (zaio_client_ping (client) == ZAIO_ERR_UNREACHABLE);
        //  never delivered, so even a write is UNREACHABLE, not CONNLOST
        assert (zaio_client_write (client, "w", 0, "ab", 2, true) == ZAIO_ERR_UNREACHABLE);
        assert (zclock_mono () - start < 3000);
        zaio_client_destroy (&client);
    }
    zstr_free (&endpoints[0]);
    zstr_free (&endpoints[1]);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  A listener that never completes the handshake: the connect timeout.
static void
s_test_handshake_never_done (void)
{
    int port;
    int mute = s_mute_listener (&port);
    char *endpoint = zsys_sprintf ("tcp://127.0.0.1:%d", port);
    zaio_client_t *client = zaio_client_new (endpoint);
    zaio_client_set_retries (client, 1);
    zaio_client_set_retry_ms (client, 0);
    zaio_client_set_connect_timeout (client, 150);
    zaio_client_set_backoff (client, 10, 10);
    int64_t start = zclock_mono ();
    zaio_call_t *call;
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, 5000) == 0);
    assert (zaio_call_error (call) == ZAIO_ERR_UNREACHABLE);
    assert (strstr (zaio_call_message (call), "connect timed out"));
    int64_t elapsed = zclock_mono () - start;
    assert (elapsed >= 290 && elapsed < 3000);
    zaio_call_destroy (&call);
    zaio_client_destroy (&client);
    close (mute);
    zstr_free (&endpoint);
}

//  A hello reply the client cannot read fails the connection like no
//  answer: retried, then UNREACHABLE, even with no call timeout.
static void
s_test_bad_hello (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    fake_command (&fake, "BADHELLO 1");
    zaio_client_t *client = zaio_client_new (fake.endpoint);
    assert (client);
    zaio_client_set_timeout (client, 0);
    zaio_client_set_retries (client, 1);
    zaio_client_set_retry_ms (client, 0);
    zaio_client_set_connect_timeout (client, 150);
    zaio_client_set_backoff (client, 10, 10);
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    //  the first connection has the default connect timeout, the retry 150 ms
    assert (zaio_call_wait (call, 2 * ZAIO_CLIENT_CONNECT_TIMEOUT_MS) == 0);
    assert (zaio_call_error (call) == ZAIO_ERR_UNREACHABLE);
    assert (strstr (zaio_call_message (call), "no answer to hello"));
    zaio_call_destroy (&call);
    //  a broker that answers properly again is used at the next call
    fake_command (&fake, "BADHELLO 0");
    zaio_client_set_timeout (client, 5000);
    assert (zaio_client_ping (client) == 0);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

//  A listdir page longer than the spec allows is MALFORMED.
static void
s_test_bad_listdir (void)
{
    fake_broker_t fake;
    fake_start (&fake, 1000, 0);
    zaio_client_t *client = zaio_client_new (fake.endpoint);
    assert (client);
    zaio_dirent_t *entries;
    size_t count;
    fake_command (&fake, "ENTRIES 10000");
    assert (zaio_client_listdir (client, "", NULL, 0, &entries, &count, NULL) == 0);
    assert (count == ZAIO_LISTDIR_MAX);
    free (entries);
    //  one more than a page may hold: the count is not believed
    fake_command (&fake, "ENTRIES 10001");
    assert (zaio_client_listdir (client, "", NULL, 0, &entries, &count, NULL) ==
            ZAIO_ERR_MALFORMED);
    assert (entries == NULL && count == 0);
    zaio_client_destroy (&client);
    fake_stop (&fake);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_handle_timeout),
        ZAIO_TEST_CASE (s_test_default_timeout),
        ZAIO_TEST_CASE (s_test_callback_timeout_from_descriptor),
        ZAIO_TEST_CASE (s_test_no_timeout_waits),
        ZAIO_TEST_CASE (s_test_late_replies_dropped),
        ZAIO_TEST_CASE (s_test_nothing_listens),
        ZAIO_TEST_CASE (s_test_handshake_never_done),
        ZAIO_TEST_CASE (s_test_bad_hello),
        ZAIO_TEST_CASE (s_test_bad_listdir),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
