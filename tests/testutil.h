/*  testutil.h: shared helpers for the C test programs.

    Tests bind ephemeral ports, wait with pollers and timeouts, and clean
    up what they create. Every helper fails the test (assert) rather than
    returning errors: these are test programs, not library code.

    A program is a list of named cases, one behaviour each (libzmq's tests
    in spirit), run by zaio_test_run:

        static void
        s_test_refuses_unknown_volume (void)
        {
            ...
        }

        int
        main (int argc, char *argv[])
        {
            static const zaio_test_case_t cases[] = {
                ZAIO_TEST_CASE (s_test_refuses_unknown_volume),
                ...
            };
            return ZAIO_TEST_RUN (argc, argv, cases);
        }

    It prints "case NAME" before a case and "ok NAME" after it; a case that
    fails (an assert) is named again on stderr as the program aborts.
    `test_x NAME...` runs only the cases named, `test_x --list` lists them.
    A case sets up what it uses and tears it down, so it runs alone as
    well as in the list.
*/
#ifndef ZAIO_TESTUTIL_H_INCLUDED
#define ZAIO_TESTUTIL_H_INCLUDED

#include "zaio_broker.h"
#include "zaio_codec.h"
#include "zaio_proc.h"
#include "zaio_worker_proto.h"

#include <czmq.h>

#define ZAIO_TEST_QUIET_HEARTBEAT_MS 3600000 //  an hour: never missed, never sent in a test

//  ---------------------------------------------------------------------
//  Named cases

typedef void (zaio_test_case_fn) (void);

typedef struct {
    const char *name; //  shown without a leading "s_test_" or "s_"
    zaio_test_case_fn *fn;
} zaio_test_case_t;

//  A case named after its function.
#define ZAIO_TEST_CASE(fn)                                                                         \
    {                                                                                              \
        ZAIO_TEST_NAME_OF (fn), fn                                                                 \
    }
#define ZAIO_TEST_NAME_OF(fn) #fn

//  Run the cases named in argv[1..] (all if none), in the list's order,
//  then zsys_shutdown () and print "PROGRAM: OK". Returns main's exit
//  status: 0, or 2 for an unknown case name (the cases are listed).
int zaio_test_run (int argc, char *argv[], const zaio_test_case_t *cases, size_t count);

#define ZAIO_TEST_RUN(argc, argv, cases)                                                           \
    zaio_test_run ((argc), (argv), (cases), sizeof (cases) / sizeof ((cases)[0]))

//  name without a leading "s_test_" or "s_" (a pointer into name).
const char *zaio_test_case_name (const char *name);

//  The name of the case running now; NULL outside one.
const char *zaio_test_case_current (void);

//  ---------------------------------------------------------------------
//  Files and brokers

//  Fresh empty directory under /tmp; caller frees the string after
//  zaio_test_rmtree.
char *zaio_test_tempdir (const char *tag);

//  rm -rf path.
void zaio_test_rmtree (const char *path);

//  Write size bytes to path under dir (creating parents); asserts on error.
void zaio_test_write_file (const char *dir, const char *path, const void *data, size_t size);

//  Whole file under dir into a new buffer (caller frees, NUL-terminated);
//  NULL if missing. Its size in *size if size is not NULL.
char *zaio_test_read_file (const char *dir, const char *path, size_t *size);

//  What this process writes to stderr (its logs, a broker actor's
//  included) goes to a temporary file from zaio_test_log_catch until
//  zaio_test_log_release, which points stderr back, closes the file and
//  nulls *log_p, and returns the text caught (caller frees).
FILE *zaio_test_log_catch (void);
char *zaio_test_log_release (FILE **log_p);
//  The text caught so far, the catch going on (caller frees).
char *zaio_test_log_peek (FILE *log);

//  A broker on a fresh temp root, bound to inproc, ipc and an ephemeral
//  tcp port. config_or_null overrides defaults (its endpoints and root are
//  replaced).
typedef struct {
    char *root;
    zactor_t *broker;
    char *inproc;
    char *ipc;
    char *tcp;
    char *events;     //  tcp events endpoint
    char *events_ipc; //  ipc events endpoint, in a path of its own: a
                      //  subscriber that outlives the broker hears no other
                      //  (czmq hands out tcp "*" ports lowest first, and a
                      //  SUB reconnects to whoever binds the port next)
} zaio_test_broker_t;

//  Returns once the broker serves its default volume (see
//  zaio_test_served).
void zaio_test_broker_start (zaio_test_broker_t *self, const zaio_broker_config_t *config_or_null);
void zaio_test_broker_stop (zaio_test_broker_t *self);

//  Returns once the broker at endpoint serves its default volume. Its
//  local workers announce themselves on threads of their own after the
//  broker has started, and a request that comes before them is answered
//  NOVOLUME: this pings, from a client of its own, until a ping is
//  answered ok (asserts within 10 s).
void zaio_test_served (const char *endpoint);

//  A connected DEALER.
zsock_t *zaio_test_client (const char *endpoint);

//  Send a request built from req (and data, copied, if not NULL).
void zaio_test_send (zsock_t *client, const zaio_request_t *req, const void *data, size_t size);

//  Receive one reply within timeout_ms; asserts if none comes. Decodes the
//  header into reply (its container slices point into *msg_p's frames);
//  *msg_p holds the message for the caller to destroy (frames: signature,
//  header, data?).
void zaio_test_recv (zsock_t *client, zaio_reply_t *reply, zmsg_t **msg_p, int timeout_ms);

//  Asks hello (request id) on client; its answer must come within
//  timeout_ms, ok. Returns it decoded (caller frees).
zaio_hello_t *zaio_test_hello (zsock_t *client, uint64_t id, int timeout_ms);

//  Send req and wait for its reply; returns the error code (0 = ok).
//  data_out, if not NULL, receives a copy of the reply data frame (caller
//  frees) and size_out its size.
int zaio_test_call (zsock_t *client, const zaio_request_t *req, const void *data, size_t size,
                    zaio_reply_t *reply, char **data_out, size_t *size_out);

//  Defaults for a broker on root with one client endpoint, no events and
//  one worker thread (both strings borrowed).
void zaio_test_single_config (zaio_broker_config_t *config, const char *root, const char *endpoint);

//  Defaults for a broker whose volumes fake workers serve: one thread of
//  its own for "default", a tcp worker endpoint, and heartbeats that never
//  come within a test (ZAIO_TEST_QUIET_HEARTBEAT_MS).
void zaio_test_fake_config (zaio_broker_config_t *config);
//  A worker the test drives by hand, over the broker's ZAIOW/5 worker
//  endpoint: it announces volume with credit and then holds jobs until the
//  test answers them, so a test can keep jobs running as long as it likes.
//  Over tcp it must announce a heartbeat: ZAIO_TEST_QUIET_HEARTBEAT_MS,
//  with zaio_test_fake_config, keeps heartbeats out of a test.
zsock_t *zaio_test_fake_worker (const char *endpoint, const char *volume, uint32_t credit,
                                uint32_t heartbeat_ms);

//  Sends the READY of zaio_test_fake_worker on worker, a DEALER the test
//  connected itself (over CURVE, say).
void zaio_test_fake_ready (zsock_t *worker, const char *volume, uint32_t credit,
                           uint32_t heartbeat_ms);

//  Returns once the broker at endpoint routes jobs for volume to worker
//  (a fake worker whose READY may still be on its way): a ping to the
//  volume, from a client of its own, is sent again while it is answered
//  NOVOLUME, until worker takes it; it is answered ok and its reply read.
void zaio_test_fake_known (const char *endpoint, zsock_t *worker, const char *volume);

//  Next JOB within timeout_ms (asserts one comes); heartbeats are skipped.
void zaio_test_fake_take (zsock_t *worker, uint64_t *job, zaio_request_t *req, int timeout_ms);

//  A message a fake worker received, destroyed here: true if it is a JOB
//  of one job (its number in *job, its request in *req); false if it is a
//  heartbeat; a JOB of more jobs fails the test.
bool zaio_test_fake_job (zmsg_t **msg_p, uint64_t *job, zaio_request_t *req);

//  The same for a JOB of up to max jobs: their numbers and requests in
//  jobs and reqs, and how many there were (0 for a heartbeat).
int zaio_test_fake_jobs (zmsg_t **msg_p, uint64_t *jobs, zaio_request_t *reqs, int max);

//  The command of a worker message whose envelope part is envelope, with
//  data_frames parts after it. A JOB or DONE must hold one entry: *number
//  is its job, and *entry (if not NULL) the entry, its header pointing
//  into envelope. For the others *number is the envelope's number.
int zaio_test_worker_command (zframe_t *envelope, size_t data_frames, uint64_t *number,
                              zaio_entry_t *entry);

//  A JOB of one job with fence, or a DONE of one completion, as a new
//  message (ZAIOW/5): header and data (may be NULL) are taken.
zmsg_t *zaio_test_job_message (uint64_t job, uint64_t fence, zframe_t **header_p,
                               zframe_t **data_p);
zmsg_t *zaio_test_done_message (uint64_t job, const zaio_outcome_t *outcome, zframe_t **header_p,
                                zframe_t **data_p);

//  Answer job for request id with error (0 = an empty success).
void zaio_test_fake_done (zsock_t *worker, uint64_t job, uint64_t id, int error);

//  The next reply on client, within 5 s, must be for request id with error
//  (0 = success); otherwise the test fails, saying what came instead.
void zaio_test_expect (zsock_t *client, uint64_t id, int error);

//  The next event on a SUB socket, within its receive timeout (asserts one
//  comes, well formed: [topic][signature][event]). The topic is copied to
//  topic if that is not NULL.
void zaio_test_next_event (zsock_t *sub, zaio_event_t *event, char *topic, size_t topic_size);

//  A request batch a test builds (PROTOCOL.md section 3.4): its entries
//  frame and their data frames.
typedef struct {
    zaio_batch_writer_t writer;
    zmsg_t *data;
} zaio_test_batch_t;

void zaio_test_batch_init (zaio_test_batch_t *batch);
//  An entry whose header is size bytes at header, as sent, with a data
//  frame of data_size bytes if data is not NULL.
void zaio_test_batch_raw (zaio_test_batch_t *batch, const void *header, size_t size,
                          const void *data, size_t data_size);
//  An entry encoding req; data as zaio_test_batch_raw.
void zaio_test_batch_add (zaio_test_batch_t *batch, const zaio_request_t *req, const void *data,
                          size_t data_size);
//  Sends the batch as request batch id on client; the batch is spent.
void zaio_test_batch_send (zaio_test_batch_t *batch, zsock_t *client, uint64_t id);

//  A certificate named name (its `name` metadata): its pair saved as
//  dir/name and dir/name_secret, as zaio keygen writes them, and, if sub
//  is not NULL, its public half as dir/sub/name, as an operator admits
//  it. The caller destroys it.
zcert_t *zaio_test_cert (const char *dir, const char *sub, const char *name);

//  A socket of type that will speak CURVE to a server whose public key is
//  server's, as own (both borrowed); not yet connected, so that a monitor
//  (zaio_test_monitor) sees its first handshake.
zsock_t *zaio_test_curve_socket (int type, zcert_t *server, zcert_t *own);

//  A PAIR that receives sock's handshake events (libzmq's socket monitor).
//  Destroy it after sock: libzmq's I/O thread blocks on a monitor that
//  has lost its reader.
zsock_t *zaio_test_monitor (zsock_t *sock);

//  The first handshake outcome monitor reports within timeout_ms:
//  ZMQ_EVENT_HANDSHAKE_SUCCEEDED, _FAILED_AUTH, _FAILED_PROTOCOL or
//  _FAILED_NO_DETAIL; 0 if none came.
int zaio_test_handshake (zsock_t *monitor, int timeout_ms);

//  Returns once libzmq's ZAP endpoint (inproc://zeromq.zap.01) is free to
//  bind, for a ZAP handler (czmq's zauth) a case starts: libzmq frees an
//  inproc name only once the socket that bound it, in the case before, has
//  been reaped (asserts within 5 s).
void zaio_test_zap_free (void);

//  Destroy *broker_p on another thread, so the test can watch the stop
//  (SHUTDOWN replies, running jobs finishing). Destroying the returned
//  actor waits until the broker has stopped; *broker_p is then NULL.
zactor_t *zaio_test_stop_in_background (zactor_t **broker_p);

//  ---------------------------------------------------------------------
//  The zaio-broker daemon as a child process (zaio_proc.h)

#define ZAIO_TEST_ANY_TCP         "tcp://127.0.0.1:*" //  an ephemeral loopback port
#define ZAIO_TEST_DAEMON_START_MS 10000               //  for "ready"

//  How to run it: each option that is NULL or 0 is left to the daemon.
typedef struct {
    const char *binary;      //  zaio-broker to run; NULL: the one built with the tests
    const char *root;        //  --root; NULL: root/ in a directory of the runner's own
    const char *config_text; //  ZPL for --config, in the runner's directory (root NULL)
    const char *bind;        //  --bind (required)
    const char *events;      //  --events
    const char *worker_bind; //  --worker-bind
    int workers;             //  --workers, local worker threads
    int heartbeat_ms;        //  --heartbeat-ms
    int heartbeat_misses;    //  --heartbeat-misses
    const char *log;         //  its stderr, appended; NULL: ours, or broker.log in the
                             //  runner's directory (root NULL)
    int nofile;              //  its RLIMIT_NOFILE
    int start_ms;            //  for "ready"; 0: ZAIO_TEST_DAEMON_START_MS
} zaio_test_daemon_options_t;

typedef struct {
    zaio_proc_t proc;                 //  proc.pid is the daemon's while it runs
    char *dir;                        //  the runner's directory (root NULL), else NULL:
                                      //  root/, broker.cfg and broker.log
    char *log;                        //  its stderr's file, if it has one
    char client[ZAIO_PROC_LINE_MAX];  //  what its first "client " line names
    char events[ZAIO_PROC_LINE_MAX];  //  its first "events " line; "" if none
    char workers[ZAIO_PROC_LINE_MAX]; //  its first "workers " line; "" if none
} zaio_test_daemon_t;

//  Starts zaio-broker as options say; returns once it has printed "ready"
//  (asserts within options->start_ms), with the endpoints it printed. Its
//  local workers may not be known yet: zaio_test_served waits for them.
void zaio_test_daemon_start (zaio_test_daemon_t *self, const zaio_test_daemon_options_t *options);

//  Sends sig (none if 0) and reaps the daemon, which must exit within
//  timeout_ms (else it is killed and the test fails, naming sig); then
//  removes the runner's directory, if it made one. Returns its wait
//  status: 0 if it exited 0. Safe on a daemon already reaped.
int zaio_test_daemon_stop (zaio_test_daemon_t *self, int sig, int timeout_ms);

//  Lines of its log (self->log) that hold text.
int zaio_test_daemon_log_count (const zaio_test_daemon_t *self, const char *text);

//  Where a daemon the test stops and starts again lives, so that every
//  start finds the same root and endpoints: dir, a fresh directory, holds
//  its root and its ipc sockets.
typedef struct {
    char *dir;
    char *root;   //  dir/root, made empty
    char *client; //  client endpoint: as given, else ipc://dir/client.ipc
    char *events; //  events endpoint: ipc://dir/events.ipc
} zaio_test_site_t;

//  A site in a fresh directory named after tag; client_or_null as above.
void zaio_test_site_new (zaio_test_site_t *self, const char *tag, const char *client_or_null);

//  rm -rf its directory; frees its strings.
void zaio_test_site_destroy (zaio_test_site_t *self);

//  A loopback tcp port free when this returns, for a daemon that must bind
//  it again when it restarts. Not "*": czmq hands out ports from 49152 up,
//  lowest free first, so a test running beside us would take the port the
//  moment our daemon let go of it. Nor the kernel's ephemeral range (32768
//  and up): from below it, at random, checked by binding it.
int zaio_test_free_port (void);

#endif
