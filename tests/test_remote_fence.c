/*  test_remote_fence: a zaio-worker that was frozen never runs late the
    jobs the broker gave up on (schemas/PROTOCOL.md section 9, fences).

    A zaio-broker process and one zaio-worker ("fenced", one thread with
    credit 64) serving volume "v" from the broker's own root, so the
    broker's threads (volume "default") reach the same files. Heartbeats
    of 100 ms, 3 missed (300 ms) before a peer is dead: the broker gives
    up on the frozen worker quickly.

    Each round:
      1. the worker is frozen (SIGSTOP) and then sent writefiles and
         appends on "v": they wait for it in its connection, held by it as
         far as the broker knows;
      2. the broker presumes it dead and answers them UNKNOWN_OUTCOME;
      3. the client rewrites every file with new content and appends a
         mark to the log, through "default";
      4. the worker resumes (SIGCONT), announces itself again on a fresh
         connection, and answers a ping on "v": its one thread has taken
         the stale jobs before that ping, so by then it has run (or
         refused) them all;
      5. every file still holds the new content (a stale overwrite
         otherwise) and nothing follows the mark (a late append otherwise).

    The worker is frozen, in every thread (waitpid says so), before the
    jobs reach it, so none is running when it stops: a job already under
    way at a freeze is a window the fence cannot close (section 9.1 says
    so).

    A second case checks the broker's side of it on the wire, with a fake
    worker: the fence in each JOB, HEARTBEAT and BYE is the newest stamp
    plus heartbeat_ms x misses, less the margin section 9.1 gives, and
    every HEARTBEAT of the worker's is answered at once.
*/

#include "testutil.h"
#include "zaio_load.h"
#include "zaio_proc.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S_HEARTBEAT_MS      100
#define S_MISSES            3
#define S_CREDIT            64 //  more than the jobs of a round: all go to the one thread
#define S_ROUNDS            20
#define S_WRITES            8     //  writefiles a round
#define S_APPENDS           8     //  appends a round
#define S_START_MS          20000 //  a daemon prints "ready" within this
#define S_SETTLE_MS         15000 //  hello shows a change within this
#define S_REPLY_MS          10000 //  a job the broker gave up on is answered within this
#define S_FAKE_HEARTBEAT_MS 10000 //  the fake's interval: never missed within the case
#define S_FAKE_MISSES       3     //  the broker's default

typedef struct {
    char *root;
    zaio_test_daemon_t broker;
    zaio_proc_t worker;
} s_rig_t;

typedef struct {
    uint32_t unknown;  //  jobs on "v" answered UNKNOWN_OUTCOME
    uint32_t other;    //  answered otherwise (NOVOLUME: the broker knew before they came)
    uint32_t stale;    //  files the frozen worker overwrote after their rewrite
    uint32_t late;     //  records the frozen worker appended after the mark
    int64_t resume_ms; //  longest from SIGCONT to the ping answered on "v"
} s_tally_t;

static char *
s_binary (const char *name)
{
    return zsys_sprintf ("%s/%s", ZAIO_BINARY_DIR, name);
}

static void
s_rig_start (s_rig_t *self)
{
    memset (self, 0, sizeof *self);
    self->root = zaio_test_tempdir ("fence");
    char heartbeat[16], misses[16], credit[16];
    snprintf (heartbeat, sizeof heartbeat, "%d", S_HEARTBEAT_MS);
    snprintf (misses, sizeof misses, "%d", S_MISSES);
    snprintf (credit, sizeof credit, "%d", S_CREDIT);
    //  Events on a port of its own: the default ipc path is any broker's.
    zaio_test_daemon_options_t options = {.root = self->root,
                                          .bind = ZAIO_TEST_ANY_TCP,
                                          .events = ZAIO_TEST_ANY_TCP,
                                          .worker_bind = ZAIO_TEST_ANY_TCP,
                                          .workers = 1,
                                          .heartbeat_ms = S_HEARTBEAT_MS,
                                          .heartbeat_misses = S_MISSES,
                                          .start_ms = S_START_MS};
    zaio_test_daemon_start (&self->broker, &options);
    assert (self->broker.workers[0]);

    char *worker = s_binary ("workers/zaio-worker");
    char *volume = zsys_sprintf ("v=%s", self->root);
    const char *worker_argv[] = {worker,
                                 "--connect",
                                 self->broker.workers,
                                 "--volume",
                                 volume,
                                 "--threads",
                                 "1",
                                 "--credit",
                                 credit,
                                 "--heartbeat-ms",
                                 heartbeat,
                                 "--heartbeat-misses",
                                 misses,
                                 "--name",
                                 "fenced",
                                 NULL};
    int rc = zaio_proc_start (&self->worker, worker_argv, NULL, S_START_MS);
    assert (rc == 0);
    zstr_free (&volume);
    zstr_free (&worker);
}

static void
s_rig_stop (s_rig_t *self)
{
    zaio_proc_stop (&self->worker);
    zaio_test_daemon_stop (&self->broker, SIGTERM, 30000);
    zaio_test_rmtree (self->root);
    zstr_free (&self->root);
}

static void
s_send (zsock_t *client, zaio_op_t op, uint64_t id, const char *volume, const char *path,
        const char *data)
{
    zaio_request_t req;
    zaio_request_init (&req, op, id);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    zaio_test_send (client, &req, data, strlen (data));
}

//  op on path with data through volume, answered ok.
static void
s_call_ok (zsock_t *client, zaio_op_t op, uint64_t id, const char *volume, const char *path,
           const char *data)
{
    s_send (client, op, id, volume, path, data);
    zaio_test_expect (client, id, 0);
}

//  Waits until the worker serves "v" again and has answered a ping there:
//  the ping comes after the stale jobs on its one thread. Returns the
//  milliseconds since since.
static int64_t
s_wait_resumed (s_rig_t *self, zsock_t *client, uint64_t id, int64_t since)
{
    int took = zaio_load_wait_workers (self->broker.client, "v", 1, S_SETTLE_MS);
    assert (took >= 0);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "v");
    //  A broker that presumed the worker dead once more (a busy machine)
    //  answers NOVOLUME until it announces itself again: ask again.
    int64_t until = zclock_mono () + S_SETTLE_MS;
    while (true) {
        zaio_reply_t reply;
        int error = zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL);
        if (error == 0) break;
        assert (error == ZAIO_ERR_NOVOLUME && zclock_mono () < until);
        zaio_load_wait_workers (self->broker.client, "v", 1, S_SETTLE_MS);
    }
    return zclock_mono () - since;
}

//  One round: freeze, jobs on "v", answered; rewrite; resume; check.
static void
s_round (s_rig_t *self, zsock_t *client, int round, s_tally_t *tally)
{
    uint64_t id = (uint64_t)round * 1000 + 1;
    char log_path[32];
    snprintf (log_path, sizeof log_path, "log-%d", round);
    zaio_test_write_file (self->root, log_path, "", 0);
    assert (zaio_load_wait_workers (self->broker.client, "v", 1, S_SETTLE_MS) >= 0);

    assert (zaio_proc_signal (&self->worker, SIGSTOP) == 0);
    //  Stopped in every thread before the jobs come: none is running then.
    int status;
    assert (waitpid (self->worker.pid, &status, WUNTRACED) == self->worker.pid);
    assert (WIFSTOPPED (status));
    for (int i = 0; i < S_WRITES + S_APPENDS; i++) {
        char path[32], data[64];
        if (i < S_WRITES) {
            snprintf (path, sizeof path, "file-%d-%d", round, i);
            snprintf (data, sizeof data, "old %d %d", round, i);
            s_send (client, ZAIO_OP_WRITEFILE, id + (uint64_t)i, "v", path, data);
        } else {
            snprintf (data, sizeof data, "old %d %d\n", round, i);
            s_send (client, ZAIO_OP_APPEND, id + (uint64_t)i, "v", log_path, data);
        }
    }
    for (int i = 0; i < S_WRITES + S_APPENDS; i++) {
        zaio_reply_t reply;
        zmsg_t *msg = NULL;
        zaio_test_recv (client, &reply, &msg, S_REPLY_MS);
        assert (reply.id >= id && reply.id < id + S_WRITES + S_APPENDS);
        if (reply.error == ZAIO_ERR_UNKNOWN_OUTCOME)
            tally->unknown++;
        else {
            assert (!reply.ok);
            tally->other++;
        }
        zmsg_destroy (&msg);
    }

    //  The client has every reply: it writes anew, through "default".
    uint64_t next = id + S_WRITES + S_APPENDS;
    for (int i = 0; i < S_WRITES; i++) {
        char path[32], data[64];
        snprintf (path, sizeof path, "file-%d-%d", round, i);
        snprintf (data, sizeof data, "new %d %d", round, i);
        s_call_ok (client, ZAIO_OP_WRITEFILE, next++, ZAIO_DEFAULT_VOLUME, path, data);
    }
    s_call_ok (client, ZAIO_OP_APPEND, next++, ZAIO_DEFAULT_VOLUME, log_path, "mark\n");
    size_t size;
    char *acknowledged = zaio_test_read_file (self->root, log_path, &size);
    assert (acknowledged);

    int64_t resumed = zclock_mono ();
    assert (zaio_proc_signal (&self->worker, SIGCONT) == 0);
    int64_t took = s_wait_resumed (self, client, next++, resumed);
    if (took > tally->resume_ms) tally->resume_ms = took;

    for (int i = 0; i < S_WRITES; i++) {
        char path[32], expected[64];
        snprintf (path, sizeof path, "file-%d-%d", round, i);
        snprintf (expected, sizeof expected, "new %d %d", round, i);
        char *content = zaio_test_read_file (self->root, path, &size);
        assert (content);
        if (size != strlen (expected) || memcmp (content, expected, size) != 0) tally->stale++;
        free (content);
    }
    char *log = zaio_test_read_file (self->root, log_path, &size);
    assert (log && size >= strlen (acknowledged));
    assert (memcmp (log, acknowledged, strlen (acknowledged)) == 0);
    for (const char *c = log + strlen (acknowledged); c < log + size; c++)
        tally->late += *c == '\n';
    free (log);
    free (acknowledged);
}

//  Many rounds of freeze, give up, rewrite, resume: not one stale
//  overwrite, not one late append.
static void
s_test_frozen_worker (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *client = zaio_test_client (rig.broker.client);
    s_tally_t tally;
    memset (&tally, 0, sizeof tally);
    int64_t started = zclock_mono ();
    for (int round = 0; round < S_ROUNDS; round++) s_round (&rig, client, round, &tally);
    printf ("%d rounds in %" PRId64 " ms: %u jobs answered UNKNOWN_OUTCOME, %u otherwise; "
            "%u stale overwrites of %d rewrites, %u late appends; resumed within %" PRId64 " ms\n",
            S_ROUNDS, zclock_mono () - started, tally.unknown, tally.other, tally.stale,
            S_ROUNDS * S_WRITES, tally.late, tally.resume_ms);
    assert (tally.unknown > 0);
    assert (tally.stale == 0);
    assert (tally.late == 0);
    zsock_destroy (&client);
    s_rig_stop (&rig);
}

//  ---------------------------------------------------------------------
//  The broker's fences, on the wire

//  The fence section 9.1 gives for stamp: the window heartbeat_ms x
//  misses, less a millisecond and 1/500 of the window.
static uint64_t
s_fence_for (uint64_t stamp)
{
    uint64_t window = (uint64_t)S_FAKE_HEARTBEAT_MS * S_FAKE_MISSES * 1000;
    return stamp + window - 1000 - window / 500;
}

//  Sends a stamped command, or a READY for volume "fenced" stamped so.
static void
s_fake_send (zsock_t *fake, zaio_worker_command_t command, uint64_t stamp)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (command, stamp)});
    if (command == ZAIO_WORKER_READY) {
        zaio_ready_t ready;
        memset (&ready, 0, sizeof ready);
        ready.credit = 4;
        ready.heartbeat_ms = S_FAKE_HEARTBEAT_MS;
        snprintf (ready.host, sizeof ready.host, "fake");
        ready.volume_count = 1;
        snprintf (ready.volumes[0].name, sizeof ready.volumes[0].name, "fenced");
        zmsg_append (msg, &(zframe_t *){zaio_ready_encode (&ready)});
    }
    assert (zmsg_send (&msg, fake) == 0);
}

//  The next message to the fake must be command; returns its envelope's
//  number, the fence of a JOB in *fence (its job number in the return).
static uint64_t
s_fake_expect (zsock_t *fake, zaio_worker_command_t command, uint64_t *fence)
{
    zsock_set_rcvtimeo (fake, S_REPLY_MS);
    zmsg_t *msg = zmsg_recv (fake);
    assert (msg);
    zframe_t *envelope = zmsg_first (msg);
    uint64_t number;
    int got = zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), &number);
    assert (got == (int)command);
    if (command == ZAIO_WORKER_JOB) {
        //  A JOB of one job: its fence in the envelope, the job in the entry.
        zaio_entries_t entries;
        zaio_entry_t entry;
        assert (zaio_entries_open (&entries, zframe_data (envelope), zframe_size (envelope),
                                   zmsg_size (msg) - 1) == 0 &&
                entries.count == 1 && zaio_entries_next (&entries, &entry));
        *fence = number;
        number = entry.job;
    }
    zmsg_destroy (&msg);
    return number;
}

static void
s_test_broker_fences (void)
{
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    config.heartbeat_misses = S_FAKE_MISSES;
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, &config);
    char *endpoint = zaio_broker_endpoint (broker.broker, "workers", "tcp");
    zsock_t *fake = zaio_test_client (endpoint);
    const uint64_t stamps[] = {123456789012ULL, 123456789012ULL + 5000000,
                               123456789012ULL + 7000000};
    s_fake_send (fake, ZAIO_WORKER_READY, stamps[0]);
    zaio_test_fake_known (broker.inproc, fake, "fenced");
    zsock_t *client = zaio_test_client (broker.inproc);

    //  READY's stamp fences the first JOBs.
    uint64_t fence;
    s_send (client, ZAIO_OP_WRITEFILE, 1, "fenced", "one", "1");
    uint64_t job1 = s_fake_expect (fake, ZAIO_WORKER_JOB, &fence);
    assert (fence == s_fence_for (stamps[0]));
    //  A HEARTBEAT is answered at once with the fence its stamp gives,
    //  and so are the JOBs after it.
    s_fake_send (fake, ZAIO_WORKER_HEARTBEAT, stamps[1]);
    assert (s_fake_expect (fake, ZAIO_WORKER_HEARTBEAT, NULL) == s_fence_for (stamps[1]));
    s_send (client, ZAIO_OP_WRITEFILE, 2, "fenced", "two", "2");
    uint64_t job2 = s_fake_expect (fake, ZAIO_WORKER_JOB, &fence);
    assert (fence == s_fence_for (stamps[1]));
    //  BYE's stamp fences the BYE that answers it.
    s_fake_send (fake, ZAIO_WORKER_BYE, stamps[2]);
    assert (s_fake_expect (fake, ZAIO_WORKER_BYE, NULL) == s_fence_for (stamps[2]));
    zaio_test_fake_done (fake, job1, 1, 0);
    zaio_test_fake_done (fake, job2, 2, 0);
    zaio_test_expect (client, 1, 0);
    zaio_test_expect (client, 2, 0);
    printf ("fences: stamp + %d ms x %d less %" PRIu64 " us\n", S_FAKE_HEARTBEAT_MS, S_FAKE_MISSES,
            stamps[0] + (uint64_t)S_FAKE_HEARTBEAT_MS * S_FAKE_MISSES * 1000 -
                s_fence_for (stamps[0]));

    zsock_destroy (&client);
    zsock_destroy (&fake);
    zstr_free (&endpoint);
    zaio_test_broker_stop (&broker);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_frozen_worker),
        ZAIO_TEST_CASE (s_test_broker_fences),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
