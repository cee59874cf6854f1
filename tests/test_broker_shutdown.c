/*  test_broker_shutdown: stopping the broker answers every job. Queued jobs
    and new requests get SHUTDOWN at once, running jobs finish and are
    answered, every one of them is published as an event, and the
    zaio-broker daemon exits 0 on SIGTERM (leak-free under valgrind when
    valgrind is installed). */

#include "testutil.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void
s_send_ping (zsock_t *client, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
    zaio_test_send (client, &req, NULL, 0);
}

//  The events a subscriber got for requests 1..count: the errors by id, and
//  checks there is one each and no other.
static void
s_expect_events (zsock_t *events, int *errors, uint64_t count)
{
    bool seen[16] = {false};
    assert (count < sizeof seen);
    zsock_set_rcvtimeo (events, 5000);
    char topic[128];
    zaio_event_t event;
    for (uint64_t i = 0; i < count; i++) {
        zaio_test_next_event (events, &event, topic, sizeof topic);
        if (!(event.id >= 1 && event.id <= count && !seen[event.id]))
            fprintf (stderr, "unexpected event %s for request %" PRIu64 " (seq %" PRIu64 ")\n",
                     topic, event.id, event.seq);
        assert (event.id >= 1 && event.id <= count && !seen[event.id]);
        seen[event.id] = true;
        errors[event.id] = event.error;
    }
    zsock_set_rcvtimeo (events, 200);
    zpoller_t *poller = zpoller_new (events, NULL);
    bool extra = zpoller_wait (poller, 200) != NULL;
    zpoller_destroy (&poller);
    if (extra) {
        zaio_test_next_event (events, &event, topic, sizeof topic);
        fprintf (stderr, "an event too many: %s for request %" PRIu64 " (seq %" PRIu64 ")\n", topic,
                 event.id, event.seq);
    }
    assert (!extra);
}

//  A ping to the broker's own volume, answered; its id is above those the
//  cases count.
static void
s_ping_default (zsock_t *client, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_reply_t reply;
    int error = zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL);
    if (error) fprintf (stderr, "ping %" PRIu64 ": %s\n", id, zaio_error_name (error));
    assert (error == 0);
}

//  Reads events up to that of request id.
static void
s_events_to (zsock_t *events, uint64_t id)
{
    zsock_set_rcvtimeo (events, 5000);
    zaio_event_t event;
    do zaio_test_next_event (events, &event, NULL, 0);
    while (event.id != id);
}

//  Returns once events receives the broker's events: pings until one
//  comes, then reads up to the last.
static void
s_subscribed (zsock_t *client, zsock_t *events)
{
    zpoller_t *poller = zpoller_new (events, NULL);
    uint64_t id = 1000;
    do s_ping_default (client, ++id);
    while (!zpoller_wait (poller, 20));
    zpoller_destroy (&poller);
    s_events_to (events, id);
}

//  An embedded broker whose fake worker (volume "slow", credit 1) is
//  running the job of ping 1 from client; events subscribes to all.
typedef struct {
    zaio_test_broker_t broker;
    char *worker_endpoint;
    zsock_t *worker;
    zsock_t *client;
    zsock_t *events;
    uint64_t job; //  the worker's number for ping 1
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, uint32_t drain_ms)
{
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    config.drain_ms = drain_ms;
    zaio_test_broker_start (&rig->broker, &config);
    rig->worker_endpoint = zaio_broker_endpoint (rig->broker.broker, "workers", "tcp");
    rig->worker =
        zaio_test_fake_worker (rig->worker_endpoint, "slow", 1, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->client = zaio_test_client (rig->broker.tcp);
    //  Read after the broker has stopped: over ipc, so that no broker of
    //  another test can take its place (testutil.h).
    rig->events = zsock_new_sub (rig->broker.events_ipc, "");
    assert (rig->events);
    //  READY and the subscription arrive before the first job.
    zaio_test_fake_known (rig->broker.inproc, rig->worker, "slow");
    s_subscribed (rig->client, rig->events);
    s_send_ping (rig->client, 1);
    zaio_request_t taken;
    zaio_test_fake_take (rig->worker, &rig->job, &taken, 5000);
}

static void
s_rig_destroy (s_rig_t *rig)
{
    zstr_free (&rig->worker_endpoint);
    zsock_destroy (&rig->worker);
    zsock_destroy (&rig->client);
    zsock_destroy (&rig->events);
    zaio_test_broker_stop (&rig->broker);
}

//  The embedded broker answers queued, new and running jobs, and
//  publishes each.
static void
s_test_embedded (void)
{
    s_rig_t rig;
    s_rig_start (&rig, 10000);
    for (uint64_t id = 2; id <= 6; id++) s_send_ping (rig.client, id);
    //  Queued before the stop begins: a ping behind them on the same
    //  connection has been answered (and its event read).
    s_ping_default (rig.client, 100);
    s_events_to (rig.events, 100);

    zactor_t *stopper = zaio_test_stop_in_background (&rig.broker.broker);
    for (uint64_t id = 2; id <= 6; id++) zaio_test_expect (rig.client, id, ZAIO_ERR_SHUTDOWN);
    s_send_ping (rig.client, 7);
    zaio_test_expect (rig.client, 7, ZAIO_ERR_SHUTDOWN);
    //  The running job finishes and is answered. It finishes after the
    //  clients have been quiet long enough (S_QUIET_MS in the broker), so
    //  the broker stops as soon as it has answered and published it.
    zclock_sleep (300);
    zaio_test_fake_done (rig.worker, rig.job, 1, 0);
    zaio_test_expect (rig.client, 1, 0);
    zactor_destroy (&stopper); //  returns once the broker has stopped
    assert (rig.broker.broker == NULL);
    //  Each was published, the last completion too, though the broker
    //  stopped right after it.
    int errors[8] = {0};
    s_expect_events (rig.events, errors, 7);
    assert (errors[1] == 0);
    for (uint64_t id = 2; id <= 7; id++) assert (errors[id] == ZAIO_ERR_SHUTDOWN);
    s_rig_destroy (&rig);
}

//  A job still running when the drain time is up is answered
//  UNKNOWN_OUTCOME, and its event names the worker that held it.
static void
s_test_drain_time_up (void)
{
    s_rig_t rig;
    s_rig_start (&rig, 300);
    int64_t stop_ms = zclock_mono ();
    zactor_t *stopper = zaio_test_stop_in_background (&rig.broker.broker);
    zaio_test_expect (rig.client, 1, ZAIO_ERR_UNKNOWN_OUTCOME); //  the worker never answers
    assert (zclock_mono () - stop_ms >= 300);
    zactor_destroy (&stopper);
    zaio_event_t event;
    zsock_set_rcvtimeo (rig.events, 5000);
    zaio_test_next_event (rig.events, &event, NULL, 0);
    char name[128];
    snprintf (name, sizeof name, "fake/%u/0", (unsigned)getpid ());
    assert (event.id == 1 && event.error == ZAIO_ERR_UNKNOWN_OUTCOME && streq (event.worker, name));
    s_rig_destroy (&rig);
}

//  Starts the daemon (under valgrind if present); returns its pid and the
//  tcp client endpoint it printed.
static pid_t
s_spawn_daemon (const char *root, char *endpoint, size_t endpoint_size, bool *valgrind)
{
    int out[2];
    assert (pipe (out) == 0);
    setvbuf (stdout, NULL, _IOLBF, 0);
    char *binary = zsys_sprintf ("%s/broker/zaio-broker", ZAIO_BINARY_DIR);
#ifdef ZAIO_SANITIZE
    *valgrind = false; //  the sanitizers check this build instead
#else
    *valgrind = system ("valgrind --version >/dev/null 2>&1") == 0;
#endif
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL); //  no orphan if the test dies
        dup2 (out[1], 1);
        close (out[0]);
        close (out[1]);
        const char *args[] = {binary,
                              "--root",
                              root,
                              "--bind",
                              "tcp://127.0.0.1:*",
                              "--events",
                              "tcp://127.0.0.1:*",
                              "--workers",
                              "2",
                              NULL};
        if (*valgrind) {
            const char *vg[] = {"valgrind",
                                "-q",
                                "--leak-check=full",
                                "--errors-for-leak-kinds=definite,indirect",
                                "--error-exitcode=99",
                                binary,
                                "--root",
                                root,
                                "--bind",
                                "tcp://127.0.0.1:*",
                                "--events",
                                "tcp://127.0.0.1:*",
                                "--workers",
                                "2",
                                NULL};
            execvp ("valgrind", (char **)vg);
        } else
            execv (binary, (char **)args);
        _exit (127);
    }
    close (out[1]);
    FILE *lines = fdopen (out[0], "r");
    char line[120];
    *endpoint = 0;
    while (fgets (line, sizeof line, lines)) {
        line[strcspn (line, "\n")] = 0;
        if (strncmp (line, "client tcp://", 13) == 0)
            snprintf (endpoint, endpoint_size, "%s", line + 7);
        if (streq (line, "ready")) break;
    }
    fclose (lines);
    zstr_free (&binary);
    assert (*endpoint);
    return pid;
}

//  The daemon exits 0 on SIGTERM, leak-free under valgrind if installed.
static void
s_test_daemon (void)
{
    char *root = zaio_test_tempdir ("daemon");
    char endpoint[128];
    bool valgrind;
    pid_t pid = s_spawn_daemon (root, endpoint, sizeof endpoint, &valgrind);
    zaio_test_served (endpoint);
    zsock_t *client = zaio_test_client (endpoint);
    //  A mix of successes and failures through every layer.
    for (uint64_t id = 1; id <= 40; id++) {
        zaio_request_t req;
        zaio_request_init (&req, id % 2 ? ZAIO_OP_WRITEFILE : ZAIO_OP_READFILE, id);
        //  Odd ids write file-ID; even ids read the file just written, or
        //  (every fourth) one that was never written.
        char path[32];
        snprintf (path, sizeof path, "file-%" PRIu64, id % 2 == 1 || id % 4 == 0 ? id : id - 1);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
        zaio_reply_t reply;
        int code = zaio_test_call (client, &req, id % 2 ? "data" : NULL, id % 2 ? 4 : 0, &reply,
                                   NULL, NULL);
        assert (code == (id % 4 == 0 ? ENOENT : 0));
    }
    assert (kill (pid, SIGTERM) == 0);
    int status;
    assert (waitpid (pid, &status, 0) == pid);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "zaio-broker exited with status %d%s\n", WEXITSTATUS (status),
                 WEXITSTATUS (status) == 99 ? " (valgrind found errors or leaks)" : "");
        assert (false);
    }
    printf ("daemon exited 0 on SIGTERM%s\n",
            valgrind ? ", no leaks or errors under valgrind" : " (valgrind not installed)");
    zsock_destroy (&client);
    zaio_test_rmtree (root);
    zstr_free (&root);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_embedded),
        ZAIO_TEST_CASE (s_test_drain_time_up),
        ZAIO_TEST_CASE (s_test_daemon),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
