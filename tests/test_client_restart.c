/*  test_client_restart.c: the real zaio-broker daemon killed and restarted
    under a running client (the daemon is a child process on a fixed tcp
    port below the ephemeral range, so the restart gets the same port).

    A workload keeps reads (idempotent) and appends (not) in flight with
    callbacks. Three ways to lose the broker:
      kill:   SIGSTOP, more calls sent into the stopped broker's socket,
              SIGKILL, restart;
      term:   SIGTERM (graceful: SHUTDOWN for what it will not run), restart;
      hang:   SIGSTOP only: ZMTP heartbeats notice, then SIGCONT.
    And gap: calls started while the broker is down for a second (libzaio
    and the zaio tool, with their default retry settings) complete once it
    is back.
    Every read completes successfully; every append either succeeds or
    fails with CONNLOST (never another error, never silence); appends sent
    to the killed broker fail with CONNLOST; and the appended file holds
    each successful append exactly once and no append twice.
*/

#include "testutil.h"
#include "zaio.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IN_FLIGHT  24
#define RECORD_LEN 11 //  "rec-NNNNNN\n"
#define RECORDS    100000

typedef struct {
    zaio_test_site_t site; //  its root and endpoints, across restarts
    zaio_test_daemon_t run;
} daemon_t;

typedef struct {
    zaio_client_t *client;
    int started;
    int reads_ok;
    int reads_failed;
    int appends_ok;
    int appends_lost;
    int appends_failed;
    int next_record;
    char status[RECORDS]; //  per append: 0 pending, 'o' ok, 'l' lost
    bool stop;
    char phase; //  'k'ill, 't'erm, 'h'ang: marks CONNLOST appends
} load_t;

//  Progress on stderr, with the time, so a stall shows where it is.
static void
s_phase (const char *what)
{
    static int64_t start = 0;
    if (!start) start = zclock_mono ();
    fprintf (stderr, "test_client_restart: %6.3f s %s\n", (double)(zclock_mono () - start) / 1000,
             what);
}

//  A daemon on a fresh site: a fixed tcp port below the ephemeral range,
//  so that a restart gets the same port, and a root holding seed (4096
//  bytes of 's') as seed.bin. Not yet started.
static void
s_daemon_new (daemon_t *self, char *seed)
{
    memset (self, 0, sizeof *self);
    char *endpoint = zsys_sprintf ("tcp://127.0.0.1:%d", zaio_test_free_port ());
    zaio_test_site_new (&self->site, "restart", endpoint);
    zstr_free (&endpoint);
    memset (seed, 's', 4096);
    zaio_test_write_file (self->site.root, "seed.bin", seed, 4096);
}

static void
s_daemon_start (daemon_t *self)
{
    //  If the test dies, so does the daemon (and with it the output pipe
    //  ctest waits on): zaio_proc.h.
    zaio_test_daemon_options_t options = {.binary = ZAIO_BROKER_BIN,
                                          .root = self->site.root,
                                          .bind = self->site.client,
                                          .events = self->site.events,
                                          .workers = 2};
    zaio_test_daemon_start (&self->run, &options);
    //  Its local workers are known before the workload's calls come.
    zaio_test_served (self->site.client);
    s_phase ("daemon ready");
}

//  Send signal; with wait, reap the daemon, which must exit within 15 s.
//  SIGSTOP always waits until the daemon has stopped: a stop is not
//  immediate, and what the test sends next must reach a broker that can
//  no longer answer it.
static void
s_daemon_signal (daemon_t *self, int signal, bool wait)
{
    char what[64];
    snprintf (what, sizeof what, "signal %d%s", signal, wait ? ", waiting for exit" : "");
    s_phase (what);
    if (wait) {
        zaio_test_daemon_stop (&self->run, signal, 15000);
        return;
    }
    assert (zaio_proc_signal (&self->run.proc, signal) == 0);
    if (signal == SIGSTOP) {
        int status;
        pid_t stopped = waitpid (self->run.proc.pid, &status, WUNTRACED);
        assert (stopped == self->run.proc.pid && WIFSTOPPED (status));
    }
}

static load_t s_load;

static void s_start_one (load_t *load);

//  arg: the record number of an append.
static void
s_done (zaio_call_t *call, void *arg)
{
    load_t *load = &s_load;
    int rc = zaio_call_error (call);
    if (zaio_call_op (call) == ZAIO_OP_READ) {
        if (rc == 0)
            load->reads_ok++;
        else {
            fprintf (stderr, "read failed: %s %s\n", zaio_errname (rc), zaio_call_message (call));
            load->reads_failed++;
        }
    } else {
        int record = (int)(intptr_t)arg;
        if (rc == 0) {
            load->appends_ok++;
            load->status[record] = 'o';
        } else if (rc == ZAIO_ERR_CONNLOST) {
            load->appends_lost++;
            load->status[record] = load->phase;
        } else {
            fprintf (stderr, "append failed: %s %s\n", zaio_errname (rc), zaio_call_message (call));
            load->appends_failed++;
        }
    }
    if (!load->stop) s_start_one (load);
}

static void
s_start_one (load_t *load)
{
    zaio_request_t req;
    if (load->started++ % 2) {
        zaio_request_init (&req, ZAIO_OP_READ, 0);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "seed.bin");
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 4096);
        zaio_client_submit (load->client, &req, NULL, s_done, NULL);
    } else {
        int record = load->next_record++;
        assert (record < RECORDS);
        char text[32];
        snprintf (text, sizeof text, "rec-%06d\n", record);
        zaio_request_init (&req, ZAIO_OP_APPEND, 0);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "log.txt");
        zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
        zaio_buf_t *data = zaio_buf_new (text, RECORD_LEN);
        zaio_client_submit (load->client, &req, &data, s_done, (void *)(intptr_t)record);
    }
}

//  Run the workload until `completions` more calls have completed.
static void
s_run (load_t *load, int completions)
{
    int target = load->reads_ok + load->reads_failed + load->appends_ok + load->appends_lost +
                 load->appends_failed + completions;
    int64_t until = zclock_mono () + 20000;
    while (load->reads_ok + load->reads_failed + load->appends_ok + load->appends_lost +
               load->appends_failed <
           target) {
        assert (zclock_mono () < until);
        assert (zaio_client_dispatch (load->client, 100) >= 0);
    }
}

static void
s_report (const char *phase, load_t *load)
{
    printf ("%-5s reads ok %d failed %d, appends ok %d lost %d failed %d\n", phase, load->reads_ok,
            load->reads_failed, load->appends_ok, load->appends_lost, load->appends_failed);
}

//  A daemon on a fresh root holding seed.bin, and the workload running
//  against it (IN_FLIGHT calls, 200 completed).
static void
s_scenario_start (daemon_t *daemon, load_t *load)
{
    memset (load, 0, sizeof *load);
    char seed[4096];
    s_daemon_new (daemon, seed);
    s_daemon_start (daemon);

    load->client = zaio_client_new (daemon->site.client);
    assert (load->client);
    zaio_client_set_retries (load->client, 10);
    zaio_client_set_backoff (load->client, 50, 400);
    zaio_client_set_timeout (load->client, 20000);
    for (int i = 0; i < IN_FLIGHT; i++) s_start_one (load);
    s_run (load, 200);
}

//  Lets everything in flight finish, then checks the outcome: every read
//  succeeded, every append succeeded or was CONNLOST, and the log holds
//  each successful append exactly once and no append twice.
static void
s_scenario_finish (daemon_t *daemon, load_t *load)
{
    s_phase ("winding down");
    load->stop = true;
    int64_t until = zclock_mono () + 20000;
    while (zaio_client_pending (load->client)) {
        assert (zclock_mono () < until);
        zaio_client_dispatch (load->client, 100);
    }
    assert (load->reads_failed == 0 && load->appends_failed == 0);
    assert (load->reads_ok > 0 && load->appends_ok > 0);

    size_t size;
    char *log = zaio_test_read_file (daemon->site.root, "log.txt", &size);
    assert (log && size % RECORD_LEN == 0);
    int *seen = (int *)calloc (RECORDS, sizeof (int));
    for (size_t at = 0; at < size; at += RECORD_LEN) {
        int record = atoi (log + at + 4);
        assert (record >= 0 && record < load->next_record);
        seen[record]++;
    }
    int lost[3] = {0, 0, 0}, ran[3] = {0, 0, 0};
    for (int i = 0; i < load->next_record; i++) {
        assert (seen[i] <= 1);
        if (load->status[i] == 'o') assert (seen[i] == 1);
        const char *at = load->status[i] ? strchr ("kth", load->status[i]) : NULL;
        if (at) {
            lost[at - "kth"]++;
            ran[at - "kth"] += seen[i];
        }
    }
    printf ("%zu records in the log; CONNLOST appends that had run: "
            "kill %d/%d, term %d/%d, hang %d/%d\n",
            size / RECORD_LEN, ran[0], lost[0], ran[1], lost[1], ran[2], lost[2]);
    free (seen);
    free (log);

    zaio_client_destroy (&load->client);
    s_daemon_signal (daemon, SIGTERM, true);
    zaio_test_site_destroy (&daemon->site);
}

//  kill: SIGSTOP, more calls sent into the stopped broker's socket,
//  SIGKILL, restart. Appends sent to the killed broker fail CONNLOST.
static void
s_test_kill_and_restart (void)
{
    daemon_t daemon;
    load_t *load = &s_load;
    s_scenario_start (&daemon, load);
    load->phase = 'k';
    s_daemon_signal (&daemon, SIGSTOP, false);
    int lost_before = load->appends_lost;
    for (int i = 0; i < 10; i++) s_start_one (load); //  5 appends land in the dead socket
    zaio_client_dispatch (load->client, 100);
    s_daemon_signal (&daemon, SIGKILL, true);
    zclock_sleep (200);
    s_daemon_start (&daemon);
    s_run (load, 300);
    assert (load->appends_lost - lost_before >= 5);
    s_report ("kill", load);
    s_scenario_finish (&daemon, load);
}

//  term: a graceful stop (SHUTDOWN for what it will not run), restart.
static void
s_test_term_and_restart (void)
{
    daemon_t daemon;
    load_t *load = &s_load;
    s_scenario_start (&daemon, load);
    load->phase = 't';
    s_daemon_signal (&daemon, SIGTERM, true);
    s_daemon_start (&daemon);
    s_run (load, 300);
    s_report ("term", load);
    s_scenario_finish (&daemon, load);
}

//  hang: SIGSTOP only; ZMTP heartbeats notice, appends sent to the stopped
//  broker are lost; then SIGCONT.
static void
s_test_hang_noticed_by_heartbeats (void)
{
    daemon_t daemon;
    load_t *load = &s_load;
    s_scenario_start (&daemon, load);
    zaio_client_set_heartbeat (load->client, 100); //  for connections from now on
    //  Calls leave when started, not when the client next runs: those
    //  started while the broker is stopped must reach its connection.
    zaio_client_set_coalesce (load->client, false);
    load->phase = 'h';
    s_daemon_signal (&daemon, SIGKILL, true);
    s_daemon_start (&daemon);
    s_run (load, 100);
    int lost_before_hang = load->appends_lost;
    s_daemon_signal (&daemon, SIGSTOP, false);
    //  The calls in flight may all have been answered before the stop.
    for (int i = 0; i < 10; i++) s_start_one (load); //  5 appends land in the stopped broker
    zclock_sleep (600);
    s_daemon_signal (&daemon, SIGCONT, false);
    s_run (load, 300);
    //  the heartbeats noticed: appends sent to the stopped broker are lost
    assert (load->appends_lost - lost_before_hang >= 5);
    s_report ("hang", load);
    s_scenario_finish (&daemon, load);
}

//  Run the zaio tool with args (NULL-terminated) in a child; returns its pid.
static pid_t
s_tool_spawn (const char *const *args)
{
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        execv (ZAIO_TOOL_BIN, (char *const *)args);
        _exit (127);
    }
    return pid;
}

//  The child's exit status, which must come within 20 s.
static int
s_tool_status (pid_t pid)
{
    struct pollfd exited = {(int)syscall (SYS_pidfd_open, pid, 0), POLLIN, 0};
    assert (exited.fd >= 0);
    assert (poll (&exited, 1, 20000) == 1);
    close (exited.fd);
    int status;
    assert (waitpid (pid, &status, 0) == pid);
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

//  gap: the broker stopped, and started again a second later on the same
//  endpoint. A libzaio ping, and `zaio ping` and `zaio get`, all started
//  in the gap with the default retry settings, succeed once it is back.
static void
s_test_gap_of_a_second (void)
{
    daemon_t daemon;
    char seed[4096];
    s_daemon_new (&daemon, seed);
    s_daemon_start (&daemon);
    zaio_client_t *client = zaio_client_new (daemon.site.client);
    assert (client);
    assert (zaio_client_ping (client) == 0);

    s_daemon_signal (&daemon, SIGTERM, true);
    int64_t down = zclock_mono ();
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 0);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    char *local = zsys_sprintf ("%s.got", daemon.site.root);
    const char *ping[] = {ZAIO_TOOL_BIN, "--connect", daemon.site.client, "ping", NULL};
    const char *get[] = {ZAIO_TOOL_BIN, "--connect", daemon.site.client, "get", "seed.bin",
                         local,         NULL};
    pid_t ping_pid = s_tool_spawn (ping);
    pid_t get_pid = s_tool_spawn (get);
    //  The gap: the client works on its call meanwhile.
    zaio_call_wait (call, 1000);
    assert (!zaio_call_done (call) || zaio_call_error (call) == 0);
    s_daemon_start (&daemon);
    int64_t up = zclock_mono ();
    int rc = zaio_call_wait (call, 20000);
    printf ("gap: broker down %.2f s; libzaio ping %s after %.2f s\n", (double)(up - down) / 1000,
            zaio_errname (rc), (double)(zclock_mono () - down) / 1000);
    assert (rc == 0);
    zaio_call_destroy (&call);
    assert (s_tool_status (ping_pid) == 0);
    assert (s_tool_status (get_pid) == 0);
    size_t size;
    char *got = zaio_test_read_file ("/", local, &size);
    assert (got && size == sizeof seed && memcmp (got, seed, size) == 0);
    free (got);
    unlink (local);
    zstr_free (&local);

    zaio_client_destroy (&client);
    s_daemon_signal (&daemon, SIGTERM, true);
    zaio_test_site_destroy (&daemon.site);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_kill_and_restart),
        ZAIO_TEST_CASE (s_test_term_and_restart),
        ZAIO_TEST_CASE (s_test_hang_noticed_by_heartbeats),
        ZAIO_TEST_CASE (s_test_gap_of_a_second),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
