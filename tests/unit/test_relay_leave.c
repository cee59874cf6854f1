/*  test_relay_leave: a remote worker's relay (zaio_relay.h) keeps its word
    to a broker that is slow or silent. The test plays the broker on a
    ROUTER.

    1. leave: a relay that leaves after a drain delivers the DONE of its
       last job before it goes, even when that DONE is large and the broker
       is slow to take it. Dropping it (a socket that lingers 0) would make
       the broker take the worker for dead with the job in flight, and
       answer UNKNOWN_OUTCOME for a job that ran. The broker takes READY,
       then the relay's BYE when the relay is told to stop, sends one JOB
       (a 32 MiB read, more than loopback TCP buffers hold) and the BYE
       answer after it, and only then, once the relay has had time to
       finish and leave, reads.
    2. slow: a broker that reads nothing for a while, with the relay's
       whole credit of jobs out (1024 reads of 64 KiB), still gets every
       DONE exactly once. Its socket takes in one message and a few KiB
       before it reads, so the relay's socket queues more DONEs than a
       default high-water mark (1000) allows; a DONE dropped there would
       leave its client without a reply and the broker a credit short.
    3. stale: jobs the relay took on a connection it has since replaced
       never run, whether the thread holds them already or they wait in
       the relay. Its one IO thread is frozen (a signal handler that
       waits) with a job of the first connection, and a job of the second
       queues in the relay; the broker goes silent twice. On the third
       connection the thread is thawed: only the third connection's job
       may run. The broker has answered the others already
       (UNKNOWN_OUTCOME, or another worker ran them), and running them
       late would undo newer changes.
    4. deadline: a relay told to stop leaves when its drain time is up,
       though the broker never answers its BYE and heartbeats are an hour
       apart. */

#include "testutil.h"
#include "zaio_relay.h"
#include "zaio_volume.h"

#include <dirent.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define S_FILE_SIZE    (32 * 1024 * 1024)
#define S_JOB_NUMBER   7
#define S_TIMEOUT_MS   5000
#define S_SLOW_READ_MS 300 //  how long the broker leaves a DONE unread

#define S_SLOW_THREADS 2
#define S_SLOW_CREDIT  512       //  x S_SLOW_THREADS: the most a READY may offer
#define S_SLOW_CHUNK   (1 << 16) //  bytes each job reads: few DONEs fit in TCP buffers
#define S_SLOW_IDLE_MS 1000      //  how long the broker reads nothing

#define S_STALE_HEARTBEAT_MS 100
#define S_STALE_MISSES       3

#define S_DRAIN_MS 300

//  The next message from the relay other than a heartbeat, within the
//  timeout. Returns its command and sets *job; the relay's identity is the
//  message's first frame. Returns -1 if none came.
static int
s_expect (zsock_t *broker, zmsg_t **msg_p, uint64_t *job)
{
    zpoller_t *poller = zpoller_new (broker, NULL);
    int command;
    do {
        if (zpoller_wait (poller, S_TIMEOUT_MS) != broker) {
            zpoller_destroy (&poller);
            return -1;
        }
        *msg_p = zmsg_recv (broker);
        assert (*msg_p && zmsg_size (*msg_p) >= 2);
        zmsg_first (*msg_p);
        zframe_t *envelope = zmsg_next (*msg_p);
        command = zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), job);
        if (command == ZAIO_WORKER_DONE) {
            //  Its first completion's job (a DONE may carry more: s_jobs_of).
            zaio_entries_t entries;
            zaio_entry_t entry;
            assert (zaio_entries_open (&entries, zframe_data (envelope), zframe_size (envelope),
                                       zmsg_size (*msg_p) - 2) == 0);
            assert (zaio_entries_next (&entries, &entry));
            *job = entry.job;
        }
        if (command == ZAIO_WORKER_HEARTBEAT) zmsg_destroy (msg_p);
    } while (command == ZAIO_WORKER_HEARTBEAT);
    zpoller_destroy (&poller);
    return command;
}

//  The next READY, which must come on a connection other than the one
//  known as *identity_p; that becomes the new one (*identity_p is freed,
//  and may be NULL).
static void
s_expect_ready (zsock_t *broker, zframe_t **identity_p)
{
    zmsg_t *msg;
    uint64_t job;
    int command = s_expect (broker, &msg, &job);
    assert (command == ZAIO_WORKER_READY);
    assert (!*identity_p || !zframe_eq (*identity_p, zmsg_first (msg)));
    zframe_destroy (identity_p);
    *identity_p = zframe_dup (zmsg_first (msg));
    zmsg_destroy (&msg);
}

//  Sends command to the relay at identity; with req (and data, for ops
//  that take it) for a JOB.
static void
s_send (zsock_t *broker, zframe_t *identity, zaio_worker_command_t command, uint64_t job,
        const zaio_request_t *req, const char *data)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (identity)});
    if (command == ZAIO_WORKER_JOB) {
        zframe_t *header = zaio_request_encode (req);
        zframe_t *body = data ? zframe_from (data) : NULL;
        zmsg_t *one = zaio_test_job_message (job, ZAIO_FENCE_NONE, &header, &body);
        while (zmsg_size (one)) zmsg_append (msg, &(zframe_t *){zmsg_pop (one)});
        zmsg_destroy (&one);
    } else
        zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (command, job)});
    assert (zmsg_send (&msg, broker) == 0);
}

//  A case's world: a served root, the broker the test plays (a ROUTER),
//  and the relay connected to it.
typedef struct {
    char *root;
    char *endpoint;
    zsock_t *broker;
    zaio_volume_t *volume;
    zactor_t *relay;
    zframe_t *identity; //  the relay's connection, once its READY came
} s_rig_t;

//  A root named after tag and a broker, with no relay yet.
static void
s_rig_start (s_rig_t *rig, const char *tag)
{
    memset (rig, 0, sizeof *rig);
    rig->root = zaio_test_tempdir (tag);
    rig->volume = zaio_volume_new (ZAIO_DEFAULT_VOLUME, rig->root, false, false);
    assert (rig->volume);
    rig->broker = zsock_new (ZMQ_ROUTER);
    assert (rig->broker);
    zsock_set_linger (rig->broker, 0);
    zsock_set_router_mandatory (rig->broker, 1);
    zsock_set_sndhwm (rig->broker, 0); //  it never sends beyond the relay's credit
    assert (zsock_bind (rig->broker, "tcp://127.0.0.1:*") > 0);
    rig->endpoint = zsock_last_endpoint (rig->broker);
}

//  Starts the relay with config, whose fields left 0 take defaults (one
//  thread of credit 1, quiet heartbeats, S_TIMEOUT_MS to drain), and takes
//  its READY.
static void
s_rig_relay (s_rig_t *rig, zaio_relay_config_t config)
{
    config.broker = rig->endpoint;
    config.volumes = &rig->volume;
    config.volume_count = 1;
    if (!config.threads) config.threads = 1;
    if (!config.credit) config.credit = 1;
    if (!config.payload_max) config.payload_max = ZAIO_PAYLOAD_MAX;
    if (!config.heartbeat_ms) config.heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS;
    if (!config.heartbeat_misses) config.heartbeat_misses = 3;
    if (!config.drain_ms) config.drain_ms = S_TIMEOUT_MS;
    if (!config.name) config.name = "relay";
    rig->relay = zaio_relay_new (&config);
    assert (rig->relay);
    s_expect_ready (rig->broker, &rig->identity);
}

//  Stops the relay, answering its BYE: with heartbeats quiet it would
//  otherwise wait for the answer until the hour is up.
static void
s_rig_stop_relay (s_rig_t *rig)
{
    zstr_send (rig->relay, "$TERM");
    zmsg_t *msg;
    uint64_t job;
    assert (s_expect (rig->broker, &msg, &job) == ZAIO_WORKER_BYE);
    zmsg_destroy (&msg);
    s_send (rig->broker, rig->identity, ZAIO_WORKER_BYE, 0, NULL, NULL);
    zaio_relay_destroy (&rig->relay);
}

//  Frees it all; a relay still there is destroyed first.
static void
s_rig_destroy (s_rig_t *rig)
{
    zaio_relay_destroy (&rig->relay);
    zframe_destroy (&rig->identity);
    zaio_volume_destroy (&rig->volume);
    zstr_free (&rig->endpoint);
    zsock_destroy (&rig->broker);
    zaio_test_rmtree (rig->root);
    zstr_free (&rig->root);
}

//  ---------------------------------------------------------------------
//  1. leave

static void
s_test_leave (void)
{
    s_rig_t rig;
    s_rig_start (&rig, "relay-leave");
    uint8_t *content = (uint8_t *)malloc (S_FILE_SIZE);
    assert (content);
    for (size_t i = 0; i < S_FILE_SIZE; i++) content[i] = (uint8_t)(i * 13 + i / 65536);
    zaio_test_write_file (rig.root, "big.bin", content, S_FILE_SIZE);
    s_rig_relay (&rig, (zaio_relay_config_t){.payload_max = 2 * S_FILE_SIZE, .name = "leaver"});
    zsock_t *broker = rig.broker;
    zframe_t *identity = rig.identity;
    zmsg_t *msg;
    uint64_t job;

    //  Told to stop, the relay says BYE and waits for the answer.
    zstr_send (rig.relay, "$TERM");
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_BYE);
    zmsg_destroy (&msg);

    //  A job sent before the broker saw the BYE, then the answer.
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 42);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "big.bin");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, S_FILE_SIZE);
    s_send (broker, identity, ZAIO_WORKER_JOB, S_JOB_NUMBER, &req, NULL);
    s_send (broker, identity, ZAIO_WORKER_BYE, 0, NULL, NULL);

    //  The relay runs the job, sends its DONE and leaves, while the broker
    //  reads nothing; the DONE must still arrive, whole.
    zclock_sleep (S_SLOW_READ_MS);
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_DONE);
    assert (job == S_JOB_NUMBER);
    assert (zmsg_size (msg) == 3); //  routing id, envelope and entries, data
    zmsg_first (msg);
    zaio_entry_t entry;
    zaio_test_worker_command (zmsg_next (msg), 1, &job, &entry);
    assert (entry.outcome.error == 0 && entry.outcome.bytes == S_FILE_SIZE);
    zframe_t *data = zmsg_next (msg);
    assert (zframe_size (data) == S_FILE_SIZE);
    assert (memcmp (zframe_data (data), content, S_FILE_SIZE) == 0);
    zmsg_destroy (&msg);
    printf ("the last DONE (%d MiB) arrived after the relay left\n", S_FILE_SIZE >> 20);

    s_rig_destroy (&rig); //  the relay has left already
    free (content);
}

//  ---------------------------------------------------------------------
//  2. slow

static void
s_test_slow (void)
{
    s_rig_t rig;
    s_rig_start (&rig, "relay-slow");
    char *chunk = (char *)zmalloc (S_SLOW_CHUNK);
    zaio_test_write_file (rig.root, "chunk.bin", chunk, S_SLOW_CHUNK);
    //  A broker that reads nothing: what it has not taken in stays with
    //  the relay, not in this socket's queue or TCP buffers.
    zsock_t *broker = rig.broker;
    zsock_set_rcvhwm (broker, 1);
    zsock_set_rcvbuf (broker, 4096);
    s_rig_relay (&rig, (zaio_relay_config_t){
                           .threads = S_SLOW_THREADS, .credit = S_SLOW_CREDIT, .name = "slow"});
    zframe_t *identity = rig.identity;

    //  The relay's whole credit, then nothing read for a while.
    uint32_t jobs = S_SLOW_THREADS * S_SLOW_CREDIT;
    zaio_request_t req;
    for (uint32_t number = 1; number <= jobs; number++) {
        zaio_request_init (&req, ZAIO_OP_READ, number);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "chunk.bin");
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, S_SLOW_CHUNK);
        s_send (broker, identity, ZAIO_WORKER_JOB, number, &req, NULL);
    }
    zclock_sleep (S_SLOW_IDLE_MS);

    //  Every job has exactly one DONE.
    uint8_t *done = (uint8_t *)zmalloc (jobs + 1);
    for (uint32_t count = 0; count < jobs; count++) {
        zmsg_t *msg;
        uint64_t job;
        int command = s_expect (broker, &msg, &job);
        if (command != ZAIO_WORKER_DONE) {
            fprintf (stderr, "test_relay_leave: %u of %u DONEs came, then no more\n", count, jobs);
            assert (false);
        }
        //  Completions may share a DONE.
        zmsg_first (msg);
        zframe_t *envelope = zmsg_next (msg);
        zaio_entries_t entries;
        zaio_entry_t entry;
        assert (zaio_entries_open (&entries, zframe_data (envelope), zframe_size (envelope),
                                   zmsg_size (msg) - 2) == 0);
        count += entries.count - 1;
        while (zaio_entries_next (&entries, &entry)) {
            assert (entry.job >= 1 && entry.job <= jobs && !done[entry.job]);
            done[entry.job] = 1;
        }
        zmsg_destroy (&msg);
    }
    printf ("a broker that read nothing for %d ms got all %u DONEs\n", S_SLOW_IDLE_MS, jobs);

    s_rig_stop_relay (&rig);
    s_rig_destroy (&rig);
    free (done);
    free (chunk);
}

//  ---------------------------------------------------------------------
//  3. stale

static sem_t s_frozen; //  posted when the handler holds the thread
static sem_t s_thaw;   //  posted to let it go

//  Holds the thread it interrupts until the test posts s_thaw: a job that
//  takes as long as the test likes, which no op can be made to.
static void
s_freeze (int sig)
{
    sem_post (&s_frozen);
    while (sem_wait (&s_thaw) == -1) {
    }
}

//  The thread id of the thread named name in this process; asserts there
//  is one.
static pid_t
s_thread_named (const char *name)
{
    DIR *tasks = opendir ("/proc/self/task");
    assert (tasks);
    pid_t tid = 0;
    struct dirent *entry;
    while (!tid && (entry = readdir (tasks))) {
        if (entry->d_name[0] == '.') continue;
        char *path = zsys_sprintf ("/proc/self/task/%s/comm", entry->d_name);
        FILE *file = fopen (path, "r");
        zstr_free (&path);
        char comm[32] = "";
        if (!file) continue;
        if (fgets (comm, sizeof comm, file)) comm[strcspn (comm, "\n")] = 0;
        fclose (file);
        if (streq (comm, name)) tid = (pid_t)atoi (entry->d_name);
    }
    closedir (tasks);
    assert (tid);
    return tid;
}

//  Waits until thread tid waits in poll: it holds no lock then, so
//  freezing it stalls nobody else.
static void
s_wait_polling (pid_t tid)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    int64_t until = zclock_mono () + S_TIMEOUT_MS;
    while (true) {
        long number = -1;
        FILE *file = fopen (path, "r");
        assert (file);
        if (fscanf (file, "%ld", &number) != 1) number = -1;
        fclose (file);
#ifdef SYS_poll
        if (number == SYS_poll) break;
#endif
        if (number == SYS_ppoll) break;
        assert (zclock_mono () < until);
        zclock_sleep (1);
    }
}

//  A request to append the JOB's data frame to "log".
static void
s_append (zaio_request_t *req, uint64_t id)
{
    zaio_request_init (req, ZAIO_OP_APPEND, id);
    zaio_request_set_str (req, ZAIO_FIELD_PATH, "log");
}

static void
s_test_stale (void)
{
    assert (sem_init (&s_frozen, 0, 0) == 0 && sem_init (&s_thaw, 0, 0) == 0);
    struct sigaction action = {.sa_handler = s_freeze};
    assert (sigaction (SIGUSR1, &action, NULL) == 0);
    s_rig_t rig;
    s_rig_start (&rig, "relay-stale");
    zaio_test_write_file (rig.root, "log", "", 0);
    s_rig_relay (&rig, (zaio_relay_config_t){.heartbeat_ms = S_STALE_HEARTBEAT_MS,
                                             .heartbeat_misses = S_STALE_MISSES,
                                             .name = "stale"});
    zsock_t *broker = rig.broker;

    //  A ping answered: the thread has its credit and waits for work.
    zaio_request_t req;
    zmsg_t *msg;
    uint64_t job;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    s_send (broker, rig.identity, ZAIO_WORKER_JOB, 1, &req, NULL);
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_DONE && job == 1);
    zmsg_destroy (&msg);
    pid_t thread = s_thread_named ("zaio-io-0");
    s_wait_polling (thread);
    assert (syscall (SYS_tgkill, getpid (), thread, SIGUSR1) == 0);
    while (sem_wait (&s_frozen) == -1) {
    }

    //  Connection 1: a job the frozen thread holds, not started.
    s_append (&req, 2);
    s_send (broker, rig.identity, ZAIO_WORKER_JOB, 2, &req, "held ");
    //  Connection 2, after a silence: a job that waits in the relay.
    s_expect_ready (broker, &rig.identity);
    s_append (&req, 3);
    s_send (broker, rig.identity, ZAIO_WORKER_JOB, 3, &req, "stale ");
    //  Connection 3, after another: a job that waits behind it.
    s_expect_ready (broker, &rig.identity);
    s_append (&req, 4);
    s_send (broker, rig.identity, ZAIO_WORKER_JOB, 4, &req, "current");

    //  Thawed, the thread runs what it holds and then what the relay
    //  gives it: connection 3's job alone.
    sem_post (&s_thaw);
    assert (s_expect (broker, &msg, &job) == ZAIO_WORKER_DONE && job == 4);
    assert (zframe_eq (zmsg_first (msg), rig.identity));
    zmsg_destroy (&msg);
    size_t size;
    char *log = zaio_test_read_file (rig.root, "log", &size);
    if (!streq (log, "current")) {
        fprintf (stderr, "test_relay_leave: the log says '%s', not 'current'\n", log);
        assert (false);
    }
    printf ("a job of a replaced connection never ran\n");

    s_rig_stop_relay (&rig);
    s_rig_destroy (&rig);
    free (log);
}

//  ---------------------------------------------------------------------
//  4. deadline

static void
s_test_deadline (void)
{
    s_rig_t rig;
    s_rig_start (&rig, "relay-deadline");
    s_rig_relay (&rig, (zaio_relay_config_t){.drain_ms = S_DRAIN_MS, .name = "deadline"});
    int64_t started = zclock_mono ();
    zaio_relay_destroy (&rig.relay); //  its BYE is never answered
    int64_t took = zclock_mono () - started;
    printf ("left %" PRId64 " ms after being told to stop (drain %d ms)\n", took, S_DRAIN_MS);
    assert (took >= S_DRAIN_MS && took < S_DRAIN_MS + 1000);
    s_rig_destroy (&rig);
}

//  ---------------------------------------------------------------------

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_leave),
        ZAIO_TEST_CASE (s_test_slow),
        ZAIO_TEST_CASE (s_test_stale),
        ZAIO_TEST_CASE (s_test_deadline),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
