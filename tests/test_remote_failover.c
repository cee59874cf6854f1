/*  test_remote_failover: remote zaio-worker processes fail and nothing is
    lost (schemas/PROTOCOL.md sections 7, 9 and 10), on loopback tcp.

    A zaio-broker process with a worker endpoint; workers "shared-a" and
    "shared-b" serve volume "shared" from ONE directory, "solo" serves
    volume "solo" from its own. Short heartbeats keep the test quick: 100
    ms, and 10 missed (1 s) before a peer is dead, which rides out a busy
    2-core machine stalling a process for half a second.

    Each case runs a cluster of its own:

    1. failover: a few thousand mixed jobs from pipelined DEALERs on both
       volumes; shared-a is killed with SIGKILL half way. Every job gets one
       reply, idempotent jobs all succeed, acknowledged changes are on disk,
       UNKNOWN_OUTCOME only for shared-a's non-idempotent jobs (zaio_load.h
       checks all that), and hello's worker count for "shared" drops.
    2. restart: the broker is stopped (SIGTERM) and started again on the
       same worker endpoint; the surviving workers re-register and serve.
    3. bye: shared-c joins; shared-b gets SIGTERM under load, says BYE and
       finishes what it holds: not one job fails, and it exits 0. Five
       rounds: shared-d replaces shared-c, and so on.
    4. novolume: solo is killed; its volume answers NOVOLUME at once.
    5. retries: a job that takes down every worker that picks it up is
       answered after retries_max (3) attempts, and the workers that never
       took it keep serving. zaio-worker has no hook to crash on a given
       job, so the workers of this volume are fake ones the test drives
       over ZAIOW/5 (testutil.h): each takes the job and goes silent.
    6. wide: a worker with more threads x credit than a READY may offer
       (32 x 64) registers, says what it capped, and serves.
*/

#include "testutil.h"
#include "zaio_load.h"
#include "zaio_proc.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_HEARTBEAT_MS  100
#define S_MISSES        10
#define S_THREADS       2
#define S_CREDIT        2                      //  --credit per thread: keeps the lost set small
#define S_WORKER_CREDIT (S_THREADS * S_CREDIT) //  jobs one zaio-worker holds at most
#define S_START_MS      20000                  //  a daemon prints "ready" within this
#define S_SETTLE_MS     15000                  //  hello shows a change within this
#define S_STUCK_MS      20000                  //  a run with no reply this long has failed
#define S_FAKE_WORKERS  4
#define S_RETRIES_MAX   3 //  the broker's default, PROTOCOL.md section 10
#define S_BYE_ROUNDS    5
#define S_WIDE_THREADS  32 //  x S_WIDE_CREDIT: twice what a READY may offer
#define S_WIDE_CREDIT   64

typedef struct {
    char *base;
    char *root;
    char *shared;
    char *solo;
    zaio_test_daemon_t broker;
} s_cluster_t;

static char *
s_binary (const char *name)
{
    return zsys_sprintf ("%s/%s", ZAIO_BINARY_DIR, name);
}

//  Starts zaio-broker with its worker endpoint on worker_bind.
static void
s_broker_start (s_cluster_t *self, const char *worker_bind)
{
    zaio_test_daemon_options_t options = {.root = self->root,
                                          .bind = ZAIO_TEST_ANY_TCP,
                                          .events = ZAIO_TEST_ANY_TCP,
                                          .worker_bind = worker_bind,
                                          .workers = 1,
                                          .heartbeat_ms = S_HEARTBEAT_MS,
                                          .heartbeat_misses = S_MISSES,
                                          .start_ms = S_START_MS};
    zaio_test_daemon_start (&self->broker, &options);
    assert (self->broker.events[0] && self->broker.workers[0]);
}

//  Starts zaio-worker serving volume (NAME=DIR) as host name, with
//  thread_count threads of credit_each; its log goes to log_path unless
//  that is NULL.
static void
s_worker_run (s_cluster_t *self, zaio_proc_t *worker, const char *volume, const char *name,
              int thread_count, int credit_each, const char *log_path)
{
    char *binary = s_binary ("workers/zaio-worker");
    char heartbeat[16], misses[16], threads[16], credit[16];
    snprintf (credit, sizeof credit, "%d", credit_each);
    snprintf (heartbeat, sizeof heartbeat, "%d", S_HEARTBEAT_MS);
    snprintf (misses, sizeof misses, "%d", S_MISSES);
    snprintf (threads, sizeof threads, "%d", thread_count);
    const char *argv[] = {binary,
                          "--connect",
                          self->broker.workers,
                          "--volume",
                          volume,
                          "--threads",
                          threads,
                          "--heartbeat-ms",
                          heartbeat,
                          "--heartbeat-misses",
                          misses,
                          "--name",
                          name,
                          "--credit",
                          credit,
                          NULL};
    int rc = zaio_proc_start (worker, argv, log_path, S_START_MS);
    assert (rc == 0);
    zstr_free (&binary);
}

//  Starts zaio-worker serving volume (NAME=DIR) as host name, the way the
//  failover cases run it.
static void
s_worker_start (s_cluster_t *self, zaio_proc_t *worker, const char *volume, const char *name)
{
    s_worker_run (self, worker, volume, name, S_THREADS, S_CREDIT, NULL);
}

//  Waits until hello reports count workers for volume.
static void
s_expect_workers (s_cluster_t *self, const char *volume, int count)
{
    int took = zaio_load_wait_workers (self->broker.client, volume, count, S_SETTLE_MS);
    if (took < 0) {
        fprintf (stderr, "hello did not report %d workers for %s within %d ms (it says %d)\n",
                 count, volume, S_SETTLE_MS,
                 zaio_load_hello_workers (self->broker.client, volume, 5000));
        assert (false);
    }
    printf ("hello reports %d worker(s) for %s (after %d ms)\n", count, volume, took);
}

static void
s_load_config (s_cluster_t *self, zaio_load_config_t *config, const char *tag, uint32_t jobs)
{
    memset (config, 0, sizeof *config);
    config->endpoint = self->broker.client;
    config->events = self->broker.events;
    config->volume[0] = "shared";
    config->volume[1] = "solo";
    config->dir[0] = self->shared;
    config->dir[1] = self->solo;
    config->tag = tag;
    config->jobs = jobs;
    config->clients = 4;
    config->window = 16;
    config->timeout_ms = S_STUCK_MS;
}

static void
s_run_load (const zaio_load_config_t *config, zaio_load_result_t *result)
{
    int rc = zaio_load_prepare (config);
    assert (rc == 0);
    uint32_t violations = zaio_load_run (config, result);
    assert (violations == 0);
    assert (result->answered == config->jobs);
}

//  True if name (a --name) ran jobs of volume v in the run.
static bool
s_ran (const zaio_load_result_t *result, uint32_t v, const char *name)
{
    size_t length = strlen (name);
    for (uint32_t w = 0; w < result->worker_count[v]; w++)
        if (strncmp (result->workers[v][w].name, name, length) == 0 &&
            result->workers[v][w].name[length] == '/')
            return true;
    return false;
}

//  ---------------------------------------------------------------------
//  5. retries: fake workers that die holding the job

//  A fake worker's heartbeat, as a live worker sends when otherwise quiet.
static void
s_fake_heartbeat (zsock_t *fake)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (ZAIO_WORKER_HEARTBEAT, 0)});
    int rc = zmsg_send (&msg, fake);
    assert (rc == 0);
}

//  Keeps live fakes heartbeating until one receives a JOB (returns its
//  index, the job number in *job, the request in *req) or the client gets
//  a reply (returns -1, *reply decoded, *reply_msg to destroy).
static int
s_fakes_pump (zsock_t **fakes, zsock_t *client, uint64_t *job, zaio_request_t *req,
              zaio_reply_t *reply, zmsg_t **reply_msg, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    int64_t next_heartbeat = 0;
    while (zclock_mono () < until) {
        if (zclock_mono () >= next_heartbeat) {
            for (int f = 0; f < S_FAKE_WORKERS; f++)
                if (fakes[f]) s_fake_heartbeat (fakes[f]);
            next_heartbeat = zclock_mono () + S_HEARTBEAT_MS / 2;
        }
        zmq_pollitem_t items[S_FAKE_WORKERS + 1];
        int map[S_FAKE_WORKERS + 1], count = 0;
        for (int f = 0; f < S_FAKE_WORKERS; f++)
            if (fakes[f]) {
                map[count] = f;
                items[count++] = (zmq_pollitem_t){zsock_resolve (fakes[f]), 0, ZMQ_POLLIN, 0};
            }
        map[count] = -1;
        items[count++] = (zmq_pollitem_t){zsock_resolve (client), 0, ZMQ_POLLIN, 0};
        int64_t wait = next_heartbeat - zclock_mono ();
        if (zmq_poll (items, count, wait > 0 ? wait : 0) <= 0) continue;
        for (int k = 0; k < count; k++) {
            if (!(items[k].revents & ZMQ_POLLIN)) continue;
            if (map[k] < 0) {
                zaio_test_recv (client, reply, reply_msg, 1000);
                return -1;
            }
            zmsg_t *msg = zmsg_recv (fakes[map[k]]);
            if (zaio_test_fake_job (&msg, job, req)) return map[k];
        }
    }
    fprintf (stderr, "no job for a fake worker, nor a reply, within %d ms\n", timeout_ms);
    assert (false);
    return -1;
}

static void
s_retries (s_cluster_t *self)
{
    zsock_t *fakes[S_FAKE_WORKERS];
    for (int f = 0; f < S_FAKE_WORKERS; f++)
        fakes[f] = zaio_test_fake_worker (self->broker.workers, "poison", 1, S_HEARTBEAT_MS);
    //  Keep them alive while the broker takes their READYs in.
    zsock_t *client = zaio_test_client (self->broker.client);
    zaio_reply_t reply;
    zmsg_t *reply_msg = NULL;
    uint64_t job;
    zaio_request_t taken;
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 77);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "poison");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 1);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "poison");
    //  Wait for all four READYs: hello, heartbeating meanwhile.
    int64_t until = zclock_mono () + S_SETTLE_MS;
    while (zaio_load_hello_workers (self->broker.client, "poison", 1000) != S_FAKE_WORKERS) {
        assert (zclock_mono () < until);
        for (int f = 0; f < S_FAKE_WORKERS; f++) s_fake_heartbeat (fakes[f]);
    }
    zaio_test_send (client, &req, NULL, 0);

    int deaths = 0;
    int64_t started = zclock_mono ();
    while (true) {
        int f = s_fakes_pump (fakes, client, &job, &taken, &reply, &reply_msg, S_SETTLE_MS);
        if (f < 0) break; //  the client's reply
        assert (taken.id == 77 && taken.op == ZAIO_OP_READ);
        //  The job "kills" the worker that took it: it goes silent for good.
        zsock_destroy (&fakes[f]);
        deaths++;
        assert (deaths <= S_RETRIES_MAX);
    }
    assert (reply.id == 77);
    if (reply.error != ZAIO_ERR_UNKNOWN_OUTCOME || deaths != S_RETRIES_MAX) {
        fprintf (stderr, "poison job: %d workers died, then %s: %s\n", deaths,
                 reply.ok ? "ok" : zaio_error_name (reply.error), reply.message);
        assert (false);
    }
    printf ("a job that took down %d workers was answered %s after "
            "%" PRId64 " ms: %s\n",
            deaths, zaio_error_name (reply.error), zclock_mono () - started, reply.message);
    zmsg_destroy (&reply_msg);

    //  The worker that never took it is alive and serving; so is the rest.
    int survivor = -1;
    for (int f = 0; f < S_FAKE_WORKERS; f++)
        if (fakes[f]) survivor = f;
    assert (survivor >= 0);
    assert (zaio_load_hello_workers (self->broker.client, "poison", 5000) == 1);
    zaio_request_init (&req, ZAIO_OP_PING, 78);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "poison");
    zaio_test_send (client, &req, NULL, 0);
    int f = s_fakes_pump (fakes, client, &job, &taken, &reply, &reply_msg, S_SETTLE_MS);
    assert (f == survivor && taken.id == 78);
    zaio_test_fake_done (fakes[f], job, 78, 0);
    zaio_test_recv (client, &reply, &reply_msg, 10000);
    assert (reply.id == 78 && reply.ok);
    zmsg_destroy (&reply_msg);
    assert (zaio_load_expect_error (self->broker.client, "shared", 4, 0) == 0);
    printf ("the surviving poison worker and the shared volume still "
            "serve\n");
    for (int k = 0; k < S_FAKE_WORKERS; k++) zsock_destroy (&fakes[k]);
    zsock_destroy (&client);
}

//  ---------------------------------------------------------------------
//  6. wide: threads x credit above what a READY may offer

//  The broker refuses a READY offering more than 1024 jobs as malformed:
//  a worker that offered threads x credit would never register.
static void
s_wide (s_cluster_t *self)
{
    char *dir = zsys_sprintf ("%s/wide", self->base);
    char *volume = zsys_sprintf ("wide=%s", dir);
    char *log_path = zsys_sprintf ("%s/wide.log", self->base);
    assert (mkdir (dir, 0755) == 0);
    zaio_proc_t wide;
    s_worker_run (self, &wide, volume, "wide", S_WIDE_THREADS, S_WIDE_CREDIT, log_path);
    s_expect_workers (self, "wide", 1);
    assert (zaio_load_expect_error (self->broker.client, "wide", 8, 0) == 0);
    assert (zaio_proc_signal (&wide, SIGTERM) == 0);
    assert (zaio_proc_wait (&wide, 20000) >= 0 && zaio_proc_exited_ok (&wide));
    zaio_proc_stop (&wide);
    //  It said, once, what it capped.
    size_t size;
    char *log = zaio_test_read_file (self->base, "wide.log", &size);
    assert (log);
    char *capped = strstr (log, "capped");
    assert (capped && !strstr (capped + 1, "capped"));
    printf ("a worker with %d x %d credit registered and served\n", S_WIDE_THREADS, S_WIDE_CREDIT);
    free (log);
    zstr_free (&log_path);
    zstr_free (&volume);
    zstr_free (&dir);
}

//  ---------------------------------------------------------------------

//  A cluster: its directories, the broker on a worker endpoint of its own
//  port, and the volume specs of the shared and solo volumes.
typedef struct {
    s_cluster_t cluster;
    char worker_endpoint[128];
    char *shared_volume;
    char *solo_volume;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    memset (rig, 0, sizeof *rig);
    s_cluster_t *cluster = &rig->cluster;
    cluster->base = zaio_test_tempdir ("remote");
    cluster->root = zsys_sprintf ("%s/root", cluster->base);
    cluster->shared = zsys_sprintf ("%s/shared", cluster->base);
    cluster->solo = zsys_sprintf ("%s/solo", cluster->base);
    assert (mkdir (cluster->root, 0755) == 0);
    assert (mkdir (cluster->shared, 0755) == 0);
    assert (mkdir (cluster->solo, 0755) == 0);
    rig->shared_volume = zsys_sprintf ("shared=%s", cluster->shared);
    rig->solo_volume = zsys_sprintf ("solo=%s", cluster->solo);
    srandom ((unsigned)getpid () ^ (unsigned)zclock_usecs ());
    snprintf (rig->worker_endpoint, sizeof rig->worker_endpoint, "tcp://127.0.0.1:%d",
              zaio_test_free_port ());
    s_broker_start (cluster, rig->worker_endpoint);
    assert (streq (cluster->broker.workers, rig->worker_endpoint));
}

//  The broker stops cleanly; every worker process is gone.
static void
s_rig_stop (s_rig_t *rig, zaio_proc_t **workers, size_t count)
{
    s_cluster_t *cluster = &rig->cluster;
    assert (zaio_test_daemon_stop (&cluster->broker, SIGTERM, 30000) == 0); //  exited 0
    for (size_t i = 0; i < count; i++) zaio_proc_stop (workers[i]);
    zaio_test_rmtree (cluster->base);
    zstr_free (&rig->shared_volume);
    zstr_free (&rig->solo_volume);
    zstr_free (&cluster->root);
    zstr_free (&cluster->shared);
    zstr_free (&cluster->solo);
    zstr_free (&cluster->base);
}

//  A worker stops cleanly on SIGTERM.
static void
s_worker_stop (zaio_proc_t *worker)
{
    assert (zaio_proc_signal (worker, SIGTERM) == 0);
    assert (zaio_proc_wait (worker, 20000) >= 0 && zaio_proc_exited_ok (worker));
}

//  1. failover: a few thousand mixed jobs on both volumes, shared-a killed
//  with SIGKILL half way; nothing lost, and hello's count drops.
static void
s_test_failover (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_cluster_t *cluster = &rig.cluster;
    zaio_proc_t shared_a, shared_b, solo;
    s_worker_start (cluster, &shared_a, rig.shared_volume, "shared-a");
    s_worker_start (cluster, &shared_b, rig.shared_volume, "shared-b");
    s_worker_start (cluster, &solo, rig.solo_volume, "solo");
    s_expect_workers (cluster, "shared", 2);
    s_expect_workers (cluster, "solo", 1);

    zaio_load_config_t config;
    zaio_load_result_t result;
    s_load_config (cluster, &config, "failover", 4000);
    config.kill_pid = shared_a.pid;
    config.kill_signal = SIGKILL;
    config.kill_at = config.jobs / 2;
    config.kill_name = "shared-a";
    config.kill_credit = S_WORKER_CREDIT;
    s_run_load (&config, &result);
    assert (s_ran (&result, 0, "shared-a") && s_ran (&result, 0, "shared-b"));
    assert (s_ran (&result, 1, "solo"));
    assert (zaio_proc_wait (&shared_a, 10000) >= 0);
    assert (WIFSIGNALED (shared_a.status) && WTERMSIG (shared_a.status) == SIGKILL);
    s_expect_workers (cluster, "shared", 1);
    s_expect_workers (cluster, "solo", 1);
    s_worker_stop (&shared_b);
    zaio_proc_t *workers[] = {&shared_a, &shared_b, &solo};
    s_rig_stop (&rig, workers, 3);
}

//  2. restart: the broker is stopped (SIGTERM) and started again on the
//  same worker endpoint; the workers re-register and serve.
static void
s_test_restart (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_cluster_t *cluster = &rig.cluster;
    zaio_proc_t shared_b, solo;
    s_worker_start (cluster, &shared_b, rig.shared_volume, "shared-b");
    s_worker_start (cluster, &solo, rig.solo_volume, "solo");
    s_expect_workers (cluster, "shared", 1);
    s_expect_workers (cluster, "solo", 1);

    assert (zaio_test_daemon_stop (&cluster->broker, SIGTERM, 30000) == 0); //  exited 0
    s_broker_start (cluster, rig.worker_endpoint);
    assert (streq (cluster->broker.workers, rig.worker_endpoint));
    printf ("broker restarted on %s\n", rig.worker_endpoint);
    s_expect_workers (cluster, "shared", 1);
    s_expect_workers (cluster, "solo", 1);
    zaio_load_config_t config;
    zaio_load_result_t result;
    s_load_config (cluster, &config, "restart", 1500);
    s_run_load (&config, &result);
    assert (s_ran (&result, 0, "shared-b") && s_ran (&result, 1, "solo"));
    s_worker_stop (&shared_b);
    zaio_proc_t *workers[] = {&shared_b, &solo};
    s_rig_stop (&rig, workers, 2);
}

//  3. bye, five times over: a worker joins, another leaves (SIGTERM) under
//  load, says BYE and finishes what it holds: not one job fails, and it
//  exits 0. Whether a JOB is still on its way when the leaver's last job
//  ends is a matter of timing, so one round alone proves little.
static void
s_test_bye (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_cluster_t *cluster = &rig.cluster;
    zaio_proc_t shared_b, solo, joiners[S_BYE_ROUNDS];
    memset (joiners, 0, sizeof joiners);
    s_worker_start (cluster, &shared_b, rig.shared_volume, "shared-b");
    s_worker_start (cluster, &solo, rig.solo_volume, "solo");
    s_expect_workers (cluster, "shared", 1);
    s_expect_workers (cluster, "solo", 1);
    zaio_load_config_t config;
    zaio_load_result_t result;
    zaio_proc_t *leaving = &shared_b;
    for (int round = 0; round < S_BYE_ROUNDS; round++) {
        char name[32], tag[32];
        snprintf (name, sizeof name, "shared-%c", 'c' + round);
        snprintf (tag, sizeof tag, "bye%d", round + 1);
        zaio_proc_t *joining = &joiners[round];
        s_worker_start (cluster, joining, rig.shared_volume, name);
        s_expect_workers (cluster, "shared", 2);
        s_load_config (cluster, &config, tag, 1500);
        config.kill_pid = leaving->pid;
        config.kill_signal = SIGTERM;
        config.kill_at = config.jobs / 2;
        s_run_load (&config, &result);
        assert (s_ran (&result, 0, name));
        assert (zaio_proc_wait (leaving, 20000) >= 0);
        assert (zaio_proc_exited_ok (leaving));
        s_expect_workers (cluster, "shared", 1);
        leaving = joining;
    }
    s_worker_stop (leaving);
    zaio_proc_t *workers[S_BYE_ROUNDS + 2] = {&shared_b, &solo};
    for (int round = 0; round < S_BYE_ROUNDS; round++) workers[2 + round] = &joiners[round];
    s_rig_stop (&rig, workers, S_BYE_ROUNDS + 2);
}

//  4. novolume: solo is killed; its volume answers NOVOLUME at once, the
//  others serve.
static void
s_test_novolume (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_cluster_t *cluster = &rig.cluster;
    zaio_proc_t shared, solo;
    s_worker_start (cluster, &shared, rig.shared_volume, "shared-b");
    s_worker_start (cluster, &solo, rig.solo_volume, "solo");
    s_expect_workers (cluster, "shared", 1);
    s_expect_workers (cluster, "solo", 1);
    assert (zaio_proc_signal (&solo, SIGKILL) == 0);
    s_expect_workers (cluster, "solo", 0);
    assert (zaio_load_expect_error (cluster->broker.client, "solo", 6, ZAIO_ERR_NOVOLUME) == 0);
    assert (zaio_load_expect_error (cluster->broker.client, "nosuch", 2, ZAIO_ERR_NOVOLUME) == 0);
    assert (zaio_load_expect_error (cluster->broker.client, "shared", 6, 0) == 0);
    s_worker_stop (&shared);
    zaio_proc_t *workers[] = {&shared, &solo};
    s_rig_stop (&rig, workers, 2);
}

//  5. retries: a job that takes down every worker that picks it up is
//  answered after retries_max attempts; the others keep serving.
static void
s_test_retries (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_proc_t shared;
    s_worker_start (&rig.cluster, &shared, rig.shared_volume, "shared-b");
    s_expect_workers (&rig.cluster, "shared", 1);
    s_retries (&rig.cluster);
    s_worker_stop (&shared);
    zaio_proc_t *workers[] = {&shared};
    s_rig_stop (&rig, workers, 1);
}

//  6. wide: a worker with more threads x credit than a READY may offer
//  registers, says what it capped, and serves.
static void
s_test_wide (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_wide (&rig.cluster);
    s_rig_stop (&rig, NULL, 0);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_failover), ZAIO_TEST_CASE (s_test_restart),
        ZAIO_TEST_CASE (s_test_bye),      ZAIO_TEST_CASE (s_test_novolume),
        ZAIO_TEST_CASE (s_test_retries),  ZAIO_TEST_CASE (s_test_wide),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
