/*  test_cli_watch.c: `zaio watch`, run as a program. Against a real broker:
    one line per event for a prefix (time, op, path, outcome, bytes,
    latency, worker), and the JSON form. Against a scripted publisher that
    skips sequence numbers: the gap is reported.
*/

#include "testutil.h"
#include "zaio.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

//  Start `zaio --events EP watch ARGS...` with stdout into path.
static pid_t
s_spawn_watch (const char *events, const char *path, const char *arg1, const char *arg2,
               const char *arg3, const char *arg4)
{
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        FILE *out = freopen (path, "w", stdout);
        assert (out);
        execl (ZAIO_TOOL_BIN, ZAIO_TOOL_BIN, "--events", events, "watch", arg1, arg2, arg3, arg4,
               (char *)NULL);
        _exit (127);
    }
    return pid;
}

//  Run action until the watcher exits (10 s at most), waiting for its exit
//  20 ms between runs; returns its output.
static char *
s_until_exit (pid_t pid, const char *path, void (*action) (void *), void *arg)
{
    int64_t until = zclock_mono () + 10000;
    struct pollfd exited = {(int)syscall (SYS_pidfd_open, pid, 0), POLLIN, 0};
    assert (exited.fd >= 0);
    do {
        if (zclock_mono () > until) {
            kill (pid, SIGKILL);
            fprintf (stderr, "test_cli_watch: zaio watch did not finish\n");
            assert (false);
        }
        if (action) action (arg);
    } while (poll (&exited, 1, 20) == 0);
    close (exited.fd);
    int status = 0;
    assert (waitpid (pid, &status, 0) == pid);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    FILE *file = fopen (path, "r");
    assert (file);
    char *text = (char *)calloc (1, 65536);
    size_t size = fread (text, 1, 65535, file);
    text[size] = 0;
    fclose (file);
    return text;
}

static void
s_stats (void *arg)
{
    zaio_client_t *client = (zaio_client_t *)arg;
    zaio_stat_t st;
    assert (zaio_client_stat (client, "missing.txt", &st) == ENOENT);
    assert (zaio_client_stat (client, "", &st) == 0); //  filtered out
}

static void
s_pings (void *arg)
{
    assert (zaio_client_ping ((zaio_client_t *)arg) == 0);
}

static int
s_lines (const char *text)
{
    int lines = 0;
    for (const char *c = text; *c; c++) lines += *c == '\n';
    return lines;
}

//  Against a broker: one line per event for a prefix, and the JSON form.
static void
s_test_lines_and_json (void)
{
    char *dir = zaio_test_tempdir ("cli-watch");
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    zaio_client_t *client = zaio_client_new (broker.ipc);
    char *path = zsys_sprintf ("%s/watch.out", dir);

    pid_t pid = s_spawn_watch (broker.events, path, "--count", "3", "err.stat.", NULL);
    char *text = s_until_exit (pid, path, s_stats, client);
    assert (s_lines (text) == 3);
    char *line = text;
    for (int i = 0; i < 3; i++) {
        //  2026-01-02T03:04:05.123456Z stat      missing.txt err:ENOENT 0B 12us host/1/0
        char when[64], op[16], target[64], outcome[32], bytes[16], latency[16], worker[128];
        assert (sscanf (line, "%63s %15s %63s %31s %15s %15s %127s", when, op, target, outcome,
                        bytes, latency, worker) == 7);
        assert (strlen (when) == 27 && when[4] == '-' && when[10] == 'T' && when[26] == 'Z');
        assert (streq (op, "stat") && streq (target, "missing.txt"));
        assert (streq (outcome, "err:ENOENT") && streq (bytes, "0B"));
        assert (latency[strlen (latency) - 1] == 's' && strstr (latency, "us"));
        line = strchr (line, '\n') + 1;
    }
    free (text);

    pid = s_spawn_watch (broker.events, path, "--json", "--count", "2", "ok.ping.");
    text = s_until_exit (pid, path, s_pings, client);
    assert (s_lines (text) == 2);
    assert (strncmp (text, "{\"seq\":", 7) == 0);
    assert (strstr (text, "\"op\":\"ping\",\"path\":\"\",\"volume\":\"default\",\"outcome\":\"ok\","
                          "\"error\":null,\"bytes\":0,\"latency_us\":"));
    free (text);

    zstr_free (&path);
    zaio_client_destroy (&client);
    zaio_test_broker_stop (&broker);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

typedef struct {
    zsock_t *pub;
    bool sent;
} gap_t;

//  Once the watcher has subscribed, publish seq 1, 2 and 5.
static void
s_publish_gap (void *arg)
{
    gap_t *gap = (gap_t *)arg;
    if (gap->sent) return;
    zpoller_t *poller = zpoller_new (gap->pub, NULL);
    bool subscribed = zpoller_wait (poller, 0) == gap->pub;
    zpoller_destroy (&poller);
    if (!subscribed) return;
    zframe_t *subscription = zframe_recv (gap->pub);
    zframe_destroy (&subscription);
    uint64_t seqs[] = {1, 2, 5};
    for (int i = 0; i < 3; i++) {
        zaio_event_t event;
        memset (&event, 0, sizeof event);
        event.seq = seqs[i];
        event.op = ZAIO_OP_WRITE;
        event.bytes = 10;
        snprintf (event.path, sizeof event.path, "p%d", i);
        snprintf (event.volume, sizeof event.volume, "default");
        char topic[64];
        zaio_event_topic (&event, topic, sizeof topic);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, topic);
        zmsg_addstr (msg, ZAIO_SIGNATURE);
        zmsg_append (msg, &(zframe_t *){zaio_event_encode (&event)});
        zmsg_send (&msg, gap->pub);
    }
    gap->sent = true;
}

//  Against a publisher that skips sequence numbers: the gap is reported.
static void
s_test_gap_reported (void)
{
    char *dir = zaio_test_tempdir ("cli-watch");
    gap_t gap = {zsock_new (ZMQ_XPUB), false};
    assert (zsock_bind (gap.pub, "tcp://127.0.0.1:*") > 0);
    char *path = zsys_sprintf ("%s/gap.out", dir);
    pid_t pid = s_spawn_watch (zsock_endpoint (gap.pub), path, "--count", "3", NULL, NULL);
    char *text = s_until_exit (pid, path, s_publish_gap, &gap);
    assert (s_lines (text) == 4);
    assert (strstr (text, " write     p1 ok 10B 0us -\n-- missed 2 events (seq 3..4)\n"));
    assert (strstr (text, " write     p2 ok 10B 0us -\n"));
    free (text);
    zstr_free (&path);
    zsock_destroy (&gap.pub);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_lines_and_json),
        ZAIO_TEST_CASE (s_test_gap_reported),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
