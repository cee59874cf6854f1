/*  testutil.c: shared helpers for the C test programs; see testutil.h. */

#include "testutil.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  Named cases

static const char *s_current_case; //  while a case runs

const char *
zaio_test_case_name (const char *name)
{
    if (strncmp (name, "s_test_", 7) == 0) return name + 7;
    if (strncmp (name, "s_", 2) == 0) return name + 2;
    return name;
}

const char *
zaio_test_case_current (void)
{
    return s_current_case;
}

//  A failed assert aborts: name the case on stderr (with write, which a
//  signal handler may call), then die of the signal as before.
static void
s_on_abort (int signum)
{
    const char *name = s_current_case ? s_current_case : "(between cases)";
    const char *parts[] = {"FAILED case ", name, "\n"};
    for (size_t i = 0; i < 3; i++)
        if (write (STDERR_FILENO, parts[i], strlen (parts[i])) < 0) break;
    signal (signum, SIG_DFL);
    raise (signum);
}

static void
s_list_cases (FILE *out, const zaio_test_case_t *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) fprintf (out, "%s\n", zaio_test_case_name (cases[i].name));
}

int
zaio_test_run (int argc, char *argv[], const zaio_test_case_t *cases, size_t count)
{
    assert (cases && count > 0);
    const char *program = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
    if (argc == 2 && streq (argv[1], "--list")) {
        s_list_cases (stdout, cases, count);
        return 0;
    }
    for (int arg = 1; arg < argc; arg++) {
        size_t i = 0;
        while (i < count && !streq (zaio_test_case_name (cases[i].name), argv[arg])) i++;
        if (i == count) {
            fprintf (stderr, "%s: no case named '%s'; the cases are:\n", program, argv[arg]);
            s_list_cases (stderr, cases, count);
            return 2;
        }
    }
    //  Each line out before the next case starts, whatever stdout is.
    setvbuf (stdout, NULL, _IOLBF, 0);
    signal (SIGABRT, s_on_abort);
    for (size_t i = 0; i < count; i++) {
        const char *name = zaio_test_case_name (cases[i].name);
        bool chosen = argc == 1;
        for (int arg = 1; arg < argc; arg++) chosen |= streq (name, argv[arg]);
        if (!chosen) continue;
        printf ("case %s\n", name);
        s_current_case = name;
        cases[i].fn ();
        s_current_case = NULL;
        printf ("ok %s\n", name);
    }
    signal (SIGABRT, SIG_DFL);
    zsys_shutdown ();
    printf ("%s: OK\n", program);
    return 0;
}

//  ---------------------------------------------------------------------
//  Files and brokers

char *
zaio_test_tempdir (const char *tag)
{
    char *path = zsys_sprintf ("/tmp/zaio-%s-XXXXXX", tag);
    assert (mkdtemp (path));
    return path;
}

static int
s_remove (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove (path);
    return 0;
}

void
zaio_test_rmtree (const char *path)
{
    nftw (path, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

void
zaio_test_write_file (const char *dir, const char *path, const void *data, size_t size)
{
    char *full = zsys_sprintf ("%s/%s", dir, path);
    //  Create the parents, one component at a time.
    for (char *slash = strchr (full + strlen (dir) + 1, '/'); slash;
         slash = strchr (slash + 1, '/')) {
        *slash = 0;
        mkdir (full, 0755);
        *slash = '/';
    }
    FILE *file = fopen (full, "wb");
    assert (file);
    assert (fwrite (data, 1, size, file) == size);
    assert (fclose (file) == 0);
    zstr_free (&full);
}

//  The whole of file, from its start, into a new NUL-terminated buffer
//  (caller frees); its size in *size if size is not NULL. Closes file.
static char *
s_read_all (FILE *file, size_t *size)
{
    assert (fflush (file) == 0 && fseek (file, 0, SEEK_END) == 0);
    long length = ftell (file);
    assert (length >= 0);
    rewind (file);
    char *buffer = (char *)malloc ((size_t)length + 1);
    assert (buffer);
    assert (fread (buffer, 1, (size_t)length, file) == (size_t)length);
    buffer[length] = 0;
    fclose (file);
    if (size) *size = (size_t)length;
    return buffer;
}

char *
zaio_test_read_file (const char *dir, const char *path, size_t *size)
{
    char *full = zsys_sprintf ("%s/%s", dir, path);
    FILE *file = fopen (full, "rb");
    zstr_free (&full);
    return file ? s_read_all (file, size) : NULL;
}

//  Where stderr was while a catch is on.
static int s_saved_stderr = -1;

FILE *
zaio_test_log_catch (void)
{
    assert (s_saved_stderr == -1);
    FILE *log = tmpfile ();
    assert (log);
    fflush (stderr);
    s_saved_stderr = dup (STDERR_FILENO);
    assert (s_saved_stderr >= 0 && dup2 (fileno (log), STDERR_FILENO) == STDERR_FILENO);
    return log;
}

char *
zaio_test_log_peek (FILE *log)
{
    assert (log && s_saved_stderr >= 0);
    fflush (stderr);
    off_t size = lseek (fileno (log), 0, SEEK_END);
    assert (size >= 0);
    char *text = (char *)malloc ((size_t)size + 1);
    assert (text && pread (fileno (log), text, (size_t)size, 0) == (ssize_t)size);
    text[size] = 0;
    return text;
}

char *
zaio_test_log_release (FILE **log_p)
{
    assert (log_p && *log_p && s_saved_stderr >= 0);
    fflush (stderr);
    assert (dup2 (s_saved_stderr, STDERR_FILENO) == STDERR_FILENO);
    close (s_saved_stderr);
    s_saved_stderr = -1;
    char *text = s_read_all (*log_p, NULL);
    *log_p = NULL;
    return text;
}

void
zaio_test_broker_start (zaio_test_broker_t *self, const zaio_broker_config_t *config_or_null)
{
    memset (self, 0, sizeof (*self));
    zaio_broker_config_t config;
    if (config_or_null)
        config = *config_or_null;
    else
        zaio_broker_config_defaults (&config);
    self->root = zaio_test_tempdir ("root");
    //  A name of its own: a broker before it may have had the same self,
    //  and libzmq releases an inproc name only once the reaper has closed
    //  the socket that bound it.
    static atomic_uint s_brokers;
    char *inproc = zsys_sprintf ("inproc://zaio-test-%u", atomic_fetch_add (&s_brokers, 1));
    char *ipc = zsys_sprintf ("ipc://%s.ipc", self->root);
    char *events_ipc = zsys_sprintf ("ipc://%s-events.ipc", self->root);
    config.root = self->root;
    config.bind[0] = inproc;
    config.bind[1] = ipc;
    config.bind[2] = "tcp://127.0.0.1:*";
    config.bind[3] = NULL;
    config.events[0] = "tcp://127.0.0.1:*";
    config.events[1] = events_ipc;
    config.events[2] = NULL;
    if (!config_or_null) config.workers = 2;
    self->broker = zaio_broker_new (&config);
    assert (self->broker);
    self->inproc = inproc;
    self->ipc = ipc;
    self->tcp = zaio_broker_endpoint (self->broker, "client", "tcp");
    self->events = zaio_broker_endpoint (self->broker, "events", "tcp");
    assert (self->tcp && self->events);
    self->events_ipc = events_ipc;
    zaio_test_served (self->inproc);
}

void
zaio_test_served (const char *endpoint)
{
    zsock_t *client = zaio_test_client (endpoint);
    zpoller_t *poller = zpoller_new (client, NULL);
    int64_t until = zclock_mono () + 10000;
    //  Ids far above any a test uses.
    for (uint64_t id = (uint64_t)1 << 49;; id++) {
        assert (zclock_mono () < until);
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_PING, id);
        zaio_reply_t reply;
        int error = zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL);
        if (error == 0) break;
        assert (error == ZAIO_ERR_NOVOLUME);
        zpoller_wait (poller, 10); //  nothing comes: a pause before asking again
    }
    zpoller_destroy (&poller);
    zsock_destroy (&client);
}

void
zaio_test_broker_stop (zaio_test_broker_t *self)
{
    zaio_broker_destroy (&self->broker);
    //  The broker removes the socket files of its ipc endpoints.
    char *ipc_file = zsys_sprintf ("%s.ipc", self->root);
    char *events_file = zsys_sprintf ("%s-events.ipc", self->root);
    assert (!zsys_file_exists (ipc_file) && !zsys_file_exists (events_file));
    zstr_free (&ipc_file);
    zstr_free (&events_file);
    zaio_test_rmtree (self->root);
    zstr_free (&self->root);
    zstr_free (&self->inproc);
    zstr_free (&self->ipc);
    zstr_free (&self->tcp);
    zstr_free (&self->events);
    zstr_free (&self->events_ipc);
}

zsock_t *
zaio_test_client (const char *endpoint)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (client);
    zsock_set_linger (client, 0);
    zsock_set_sndhwm (client, 0);
    zsock_set_rcvhwm (client, 0);
    assert (zsock_connect (client, "%s", endpoint) == 0);
    return client;
}

void
zaio_test_send (zsock_t *client, const zaio_request_t *req, const void *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (req)});
    if (data) zmsg_addmem (msg, data, size);
    assert (zmsg_send (&msg, client) == 0);
}

void
zaio_test_recv (zsock_t *client, zaio_reply_t *reply, zmsg_t **msg_p, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (client, NULL);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (which != client) {
        fprintf (stderr, "testutil: no reply within %d ms\n", timeout_ms);
        assert (false);
    }
    zmsg_t *msg = zmsg_recv (client);
    assert (msg);
    assert (zmsg_size (msg) >= 2);
    assert (zframe_streq (zmsg_first (msg), ZAIO_SIGNATURE));
    zframe_t *header = zmsg_next (msg);
    char why[128];
    int rc = zaio_reply_decode (reply, zframe_data (header), zframe_size (header), why, sizeof why);
    if (rc) {
        fprintf (stderr, "testutil: bad reply: %s\n", why);
        assert (false);
    }
    *msg_p = msg;
}

int
zaio_test_call (zsock_t *client, const zaio_request_t *req, const void *data, size_t size,
                zaio_reply_t *reply, char **data_out, size_t *size_out)
{
    zaio_test_send (client, req, data, size);
    zmsg_t *msg;
    zaio_test_recv (client, reply, &msg, 10000);
    assert (reply->id == req->id);
    if (data_out) {
        zmsg_first (msg);
        zmsg_next (msg);
        zframe_t *frame = zmsg_next (msg);
        *data_out = NULL;
        *size_out = 0;
        if (frame) {
            *size_out = zframe_size (frame);
            *data_out = (char *)malloc (*size_out + 1);
            memcpy (*data_out, zframe_data (frame), *size_out);
            (*data_out)[*size_out] = 0;
        }
    }
    //  Container slices would dangle once msg goes: callers needing them
    //  use zaio_test_recv.
    reply->entries = NULL;
    reply->hello = NULL;
    zmsg_destroy (&msg);
    return reply->ok ? 0 : reply->error;
}

void
zaio_test_single_config (zaio_broker_config_t *config, const char *root, const char *endpoint)
{
    zaio_broker_config_defaults (config);
    config->root = root;
    config->bind[0] = endpoint;
    config->bind[1] = NULL;
    config->events[0] = NULL;
    config->workers = 1;
}

void
zaio_test_fake_config (zaio_broker_config_t *config)
{
    zaio_broker_config_defaults (config);
    config->workers = 1;
    config->heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS;
    config->worker_bind[0] = "tcp://127.0.0.1:*";
}

zsock_t *
zaio_test_fake_worker (const char *endpoint, const char *volume, uint32_t credit,
                       uint32_t heartbeat_ms)
{
    zsock_t *worker = zaio_test_client (endpoint);
    zaio_test_fake_ready (worker, volume, credit, heartbeat_ms);
    return worker;
}

void
zaio_test_fake_ready (zsock_t *worker, const char *volume, uint32_t credit, uint32_t heartbeat_ms)
{
    zaio_ready_t ready;
    memset (&ready, 0, sizeof ready);
    ready.credit = credit;
    ready.heartbeat_ms = heartbeat_ms;
    snprintf (ready.host, sizeof ready.host, "fake");
    ready.pid = (uint32_t)getpid ();
    ready.volume_count = 1;
    snprintf (ready.volumes[0].name, sizeof ready.volumes[0].name, "%s", volume);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_envelope_frame (ZAIO_WORKER_READY, 0)});
    zmsg_append (msg, &(zframe_t *){zaio_ready_encode (&ready)});
    assert (zmsg_send (&msg, worker) == 0);
}

void
zaio_test_fake_known (const char *endpoint, zsock_t *worker, const char *volume)
{
    zsock_t *client = zaio_test_client (endpoint);
    zpoller_t *poller = zpoller_new (client, worker, NULL);
    zpoller_t *ready = zpoller_new (worker, NULL);
    int64_t until = zclock_mono () + 10000;
    //  Ids far above any a test uses.
    for (uint64_t id = (uint64_t)1 << 48;; id++) {
        assert (zclock_mono () < until);
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_PING, id);
        zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
        zaio_test_send (client, &req, NULL, 0);
        void *which = zpoller_wait (poller, 5000);
        assert (which);
        if (which == client) {
            //  Not known yet: wait for the worker's socket to stir, or a
            //  little, before asking again.
            zaio_test_expect (client, id, ZAIO_ERR_NOVOLUME);
            zpoller_wait (ready, 10);
            continue;
        }
        uint64_t job;
        zaio_request_t taken;
        zaio_test_fake_take (worker, &job, &taken, 5000);
        assert (taken.id == id);
        zaio_test_fake_done (worker, job, id, 0);
        zaio_test_expect (client, id, 0);
        break;
    }
    zpoller_destroy (&ready);
    zpoller_destroy (&poller);
    zsock_destroy (&client);
}

//  Jobs of a JOB a fake worker has not been given yet: a JOB carries
//  many (PROTOCOL.md section 9), zaio_test_fake_take gives them one by
//  one. Tests are single-threaded.
typedef struct {
    zsock_t *worker;
    uint64_t job;
    zaio_request_t req;
} s_stashed_t;
static zlistx_t *s_stash;

//  The stashed job of worker first received, taken, if any.
static bool
s_unstash (zsock_t *worker, uint64_t *job, zaio_request_t *req)
{
    if (!s_stash) return false;
    for (s_stashed_t *item = (s_stashed_t *)zlistx_first (s_stash); item;
         item = (s_stashed_t *)zlistx_next (s_stash))
        if (item->worker == worker) {
            *job = item->job;
            *req = item->req;
            zlistx_detach_cur (s_stash);
            free (item);
            return true;
        }
    return false;
}

void
zaio_test_fake_take (zsock_t *worker, uint64_t *job, zaio_request_t *req, int timeout_ms)
{
    if (s_unstash (worker, job, req)) return;
    zpoller_t *poller = zpoller_new (worker, NULL);
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        assert (left > 0 && zpoller_wait (poller, (int)left) == worker);
        zmsg_t *msg = zmsg_recv (worker);
        enum { MAX = ZAIO_CREDIT_MAX };
        static uint64_t jobs[MAX];
        static zaio_request_t reqs[MAX];
        int count = zaio_test_fake_jobs (&msg, jobs, reqs, MAX);
        if (count == 0) continue;
        *job = jobs[0];
        *req = reqs[0];
        if (!s_stash) s_stash = zlistx_new ();
        for (int i = 1; i < count; i++) {
            s_stashed_t *item = (s_stashed_t *)zmalloc (sizeof (s_stashed_t));
            item->worker = worker;
            item->job = jobs[i];
            item->req = reqs[i];
            zlistx_add_end (s_stash, item);
        }
        break;
    }
    zpoller_destroy (&poller);
}

int
zaio_test_fake_jobs (zmsg_t **msg_p, uint64_t *jobs, zaio_request_t *reqs, int max)
{
    zmsg_t *msg = *msg_p;
    assert (msg);
    zframe_t *envelope = zmsg_first (msg);
    uint64_t number;
    int command = zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), &number);
    assert (command == ZAIO_WORKER_JOB || command == ZAIO_WORKER_HEARTBEAT);
    int count = 0;
    if (command == ZAIO_WORKER_JOB) {
        zaio_entries_t entries;
        assert (zaio_entries_open (&entries, zframe_data (envelope), zframe_size (envelope),
                                   zmsg_size (msg) - 1) == 0);
        zaio_entry_t entry;
        while (zaio_entries_next (&entries, &entry)) {
            assert (count < max);
            jobs[count] = entry.job;
            assert (zaio_request_decode (&reqs[count], entry.header, entry.header_size, NULL, 0) ==
                    0);
            count++;
        }
    }
    zmsg_destroy (msg_p);
    return count;
}

bool
zaio_test_fake_job (zmsg_t **msg_p, uint64_t *job, zaio_request_t *req)
{
    int count = zaio_test_fake_jobs (msg_p, job, req, 1);
    return count == 1;
}

zmsg_t *
zaio_test_done_message (uint64_t job, const zaio_outcome_t *outcome, zframe_t **header_p,
                        zframe_t **data_p)
{
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_DONE, 0);
    zframe_t *header = *header_p;
    zaio_batch_add_done (&batch, job, outcome, zframe_data (header), zframe_size (header),
                         data_p && *data_p, data_p && *data_p ? zframe_size (*data_p) : 0);
    zframe_destroy (header_p);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_batch_frame (&batch)});
    if (data_p && *data_p) zmsg_append (msg, data_p);
    zaio_batch_release (&batch);
    return msg;
}

zmsg_t *
zaio_test_job_message (uint64_t job, uint64_t fence, zframe_t **header_p, zframe_t **data_p)
{
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, fence);
    zframe_t *header = *header_p;
    zaio_batch_add_job (&batch, job, zframe_data (header), zframe_size (header), data_p && *data_p,
                        data_p && *data_p ? zframe_size (*data_p) : 0);
    zframe_destroy (header_p);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zaio_batch_frame (&batch)});
    if (data_p && *data_p) zmsg_append (msg, data_p);
    zaio_batch_release (&batch);
    return msg;
}

int
zaio_test_worker_command (zframe_t *envelope, size_t data_frames, uint64_t *number,
                          zaio_entry_t *entry)
{
    int command = zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), number);
    if (command == ZAIO_WORKER_JOB || command == ZAIO_WORKER_DONE) {
        zaio_entries_t entries;
        zaio_entry_t first;
        assert (zaio_entries_open (&entries, zframe_data (envelope), zframe_size (envelope),
                                   data_frames) == 0);
        assert (entries.count == 1 && zaio_entries_next (&entries, &first));
        *number = first.job;
        if (entry) *entry = first;
    }
    return command;
}

void
zaio_test_fake_done (zsock_t *worker, uint64_t job, uint64_t id, int error)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    if (error)
        zaio_reply_pack_error (&writer.packer, id, error, NULL);
    else
        zaio_reply_pack_ok (&writer.packer, id, 0);
    zaio_outcome_t outcome = {error, 0, 1};
    zframe_t *header = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    zmsg_t *msg = zaio_test_done_message (job, &outcome, &header, NULL);
    assert (zmsg_send (&msg, worker) == 0);
}

void
zaio_test_expect (zsock_t *client, uint64_t id, int error)
{
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, 5000);
    if (reply.id != id || reply.error != error) {
        fprintf (stderr, "expected reply %" PRIu64 " %s, got %" PRIu64 " %s (%s)\n", id,
                 error ? zaio_error_name (error) : "ok", reply.id,
                 reply.ok ? "ok" : zaio_error_name (reply.error), reply.message);
        assert (false);
    }
    zmsg_destroy (&msg);
}

static void
s_destroyer (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    zaio_broker_destroy ((zactor_t **)args);
}

zactor_t *
zaio_test_stop_in_background (zactor_t **broker_p)
{
    return zactor_new (s_destroyer, broker_p);
}

void
zaio_test_next_event (zsock_t *sub, zaio_event_t *event, char *topic, size_t topic_size)
{
    zmsg_t *msg = zmsg_recv (sub);
    assert (msg && zmsg_size (msg) == 3);
    if (topic) {
        char *text = zmsg_popstr (msg);
        snprintf (topic, topic_size, "%s", text);
        zstr_free (&text);
    } else
        zframe_destroy (&(zframe_t *){zmsg_pop (msg)});
    assert (zframe_streq (zmsg_first (msg), ZAIO_SIGNATURE));
    zframe_t *body = zmsg_next (msg);
    assert (zaio_event_decode (event, zframe_data (body), zframe_size (body)) == 0);
    zmsg_destroy (&msg);
}

void
zaio_test_zap_free (void)
{
    const char *zap = "inproc://zeromq.zap.01";
    zsock_t *probe = zsock_new (ZMQ_REP);
    assert (probe);
    int64_t until = zclock_mono () + 5000;
    while (zmq_bind (zsock_resolve (probe), zap)) {
        assert (zclock_mono () < until);
        zclock_sleep (5);
    }
    //  An inproc unbind frees the name at once, unlike a close.
    int rc = zmq_unbind (zsock_resolve (probe), zap);
    assert (rc == 0);
    zsock_destroy (&probe);
}

zsock_t *
zaio_test_curve_socket (int type, zcert_t *server, zcert_t *own)
{
    zsock_t *sock = zsock_new (type);
    assert (sock);
    zsock_set_linger (sock, 0);
    zcert_apply (own, sock);
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    return sock;
}

zsock_t *
zaio_test_monitor (zsock_t *sock)
{
    static atomic_uint s_monitors;
    char *endpoint =
        zsys_sprintf ("inproc://zaio-test-monitor-%u", atomic_fetch_add (&s_monitors, 1));
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    assert (zmq_socket_monitor (zsock_resolve (sock), endpoint, events) == 0);
    //  Without a limit, so a monitor read only once never stalls libzmq.
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    assert (monitor);
    zsock_set_rcvhwm (monitor, 0);
    assert (zsock_connect (monitor, "%s", endpoint) == 0);
    zstr_free (&endpoint);
    return monitor;
}

int
zaio_test_handshake (zsock_t *monitor, int timeout_ms)
{
    zsock_set_rcvtimeo (monitor, timeout_ms);
    zmsg_t *msg = zmsg_recv (monitor);
    if (!msg) return 0;
    zframe_t *first = zmsg_first (msg);
    assert (zframe_size (first) == 6);
    uint16_t event;
    memcpy (&event, zframe_data (first), sizeof event);
    zmsg_destroy (&msg);
    return event;
}

zcert_t *
zaio_test_cert (const char *dir, const char *sub, const char *name)
{
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    char *path = zsys_sprintf ("%s/%s", dir, name);
    assert (zcert_save (cert, path) == 0);
    zstr_free (&path);
    if (sub) {
        path = zsys_sprintf ("%s/%s/%s", dir, sub, name);
        assert (zcert_save_public (cert, path) == 0);
        zstr_free (&path);
    }
    return cert;
}

//  The text after prefix on the daemon's first line that starts with it,
//  into line; "" if there is none.
static void
s_daemon_line (const zaio_test_daemon_t *self, const char *prefix, char *line)
{
    const char *found = zaio_proc_line (&self->proc, prefix);
    snprintf (line, ZAIO_PROC_LINE_MAX, "%s", found ? found : "");
}

void
zaio_test_daemon_start (zaio_test_daemon_t *self, const zaio_test_daemon_options_t *options)
{
    assert (options->bind);
    assert (!options->config_text || !options->root);
    memset (self, 0, sizeof *self);
    char *root = NULL, *config = NULL;
    if (options->log) self->log = strdup (options->log);
    if (!options->root) {
        self->dir = zaio_test_tempdir ("daemon");
        if (!self->log) self->log = zsys_sprintf ("%s/broker.log", self->dir);
        root = zsys_sprintf ("%s/root", self->dir);
        if (options->config_text) {
            config = zsys_sprintf ("%s/broker.cfg", self->dir);
            zaio_test_write_file (self->dir, "broker.cfg", options->config_text,
                                  strlen (options->config_text));
        }
    }
    char *binary = options->binary ? strdup (options->binary)
                                   : zsys_sprintf ("%s/broker/zaio-broker", ZAIO_BINARY_DIR);
    char workers[16], heartbeat[16], misses[16];
    snprintf (workers, sizeof workers, "%d", options->workers);
    snprintf (heartbeat, sizeof heartbeat, "%d", options->heartbeat_ms);
    snprintf (misses, sizeof misses, "%d", options->heartbeat_misses);
    const char *argv[20];
    size_t argc = 0;
    argv[argc++] = binary;
    argv[argc++] = "--root";
    argv[argc++] = options->root ? options->root : root;
    argv[argc++] = "--bind";
    argv[argc++] = options->bind;
    const char *optional[][2] = {
        {"--config", config},
        {"--events", options->events},
        {"--worker-bind", options->worker_bind},
        {"--workers", options->workers ? workers : NULL},
        {"--heartbeat-ms", options->heartbeat_ms ? heartbeat : NULL},
        {"--heartbeat-misses", options->heartbeat_misses ? misses : NULL},
    };
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        if (optional[i][1]) {
            argv[argc++] = optional[i][0];
            argv[argc++] = optional[i][1];
        }
    argv[argc] = NULL;
    assert (argc < sizeof argv / sizeof argv[0]);
    zaio_proc_options_t proc_options = {
        .log_path = self->log,
        .nofile = options->nofile,
        .timeout_ms = options->start_ms ? options->start_ms : ZAIO_TEST_DAEMON_START_MS};
    int rc = zaio_proc_start_with (&self->proc, argv, &proc_options);
    assert (rc == 0);
    s_daemon_line (self, "client ", self->client);
    s_daemon_line (self, "events ", self->events);
    s_daemon_line (self, "workers ", self->workers);
    assert (self->client[0]);
    zstr_free (&binary);
    zstr_free (&config);
    zstr_free (&root);
}

int
zaio_test_daemon_stop (zaio_test_daemon_t *self, int sig, int timeout_ms)
{
    if (self->proc.pid > 0 && sig) assert (zaio_proc_signal (&self->proc, sig) == 0);
    if (zaio_proc_wait (&self->proc, timeout_ms) == -1) {
        fprintf (stderr, "%s: zaio-broker did not exit in %d ms after signal %d\n",
                 zaio_test_case_current () ? zaio_test_case_current () : "test", timeout_ms, sig);
        zaio_proc_stop (&self->proc);
        assert (false);
    }
    zaio_proc_stop (&self->proc);
    if (self->dir) zaio_test_rmtree (self->dir);
    zstr_free (&self->dir);
    zstr_free (&self->log);
    return self->proc.status;
}

int
zaio_test_daemon_log_count (const zaio_test_daemon_t *self, const char *text)
{
    assert (self->log);
    FILE *file = fopen (self->log, "r");
    assert (file);
    char line[512];
    int count = 0;
    while (fgets (line, sizeof line, file))
        if (strstr (line, text)) count++;
    fclose (file);
    return count;
}

void
zaio_test_site_new (zaio_test_site_t *self, const char *tag, const char *client_or_null)
{
    self->dir = zaio_test_tempdir (tag);
    self->root = zsys_sprintf ("%s/root", self->dir);
    assert (mkdir (self->root, 0755) == 0);
    self->client =
        client_or_null ? strdup (client_or_null) : zsys_sprintf ("ipc://%s/client.ipc", self->dir);
    self->events = zsys_sprintf ("ipc://%s/events.ipc", self->dir);
}

void
zaio_test_site_destroy (zaio_test_site_t *self)
{
    zaio_test_rmtree (self->dir);
    zstr_free (&self->dir);
    zstr_free (&self->root);
    zstr_free (&self->client);
    zstr_free (&self->events);
}

int
zaio_test_free_port (void)
{
    unsigned seed = (unsigned)zclock_usecs () ^ (unsigned)getpid ();
    for (int attempt = 0; attempt < 100; attempt++) {
        int port = 20000 + (int)(rand_r (&seed) % 12000);
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        assert (fd >= 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
        address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = bind (fd, (struct sockaddr *)&address, sizeof address);
        close (fd);
        if (rc == 0) return port;
    }
    assert (false);
    return -1;
}

zaio_hello_t *
zaio_test_hello (zsock_t *client, uint64_t id, int timeout_ms)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_HELLO, id);
    zaio_test_send (client, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, timeout_ms);
    zaio_hello_t *hello = (zaio_hello_t *)malloc (sizeof *hello);
    assert (hello);
    assert (reply.ok && reply.id == id);
    assert (zaio_hello_decode (hello, reply.hello, reply.hello_size) == 0);
    zmsg_destroy (&msg);
    return hello;
}

void
zaio_test_batch_init (zaio_test_batch_t *batch)
{
    zaio_batch_writer_init (&batch->writer);
    batch->data = zmsg_new ();
}

void
zaio_test_batch_raw (zaio_test_batch_t *batch, const void *header, size_t size, const void *data,
                     size_t data_size)
{
    assert (zaio_batch_writer_add (&batch->writer, header, size, data != NULL) == 0);
    if (data) zmsg_addmem (batch->data, data, data_size);
}

void
zaio_test_batch_add (zaio_test_batch_t *batch, const zaio_request_t *req, const void *data,
                     size_t data_size)
{
    zframe_t *header = zaio_request_encode (req);
    zaio_test_batch_raw (batch, zframe_data (header), zframe_size (header), data, data_size);
    zframe_destroy (&header);
}

void
zaio_test_batch_send (zaio_test_batch_t *batch, zsock_t *client, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_BATCH, id);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    zmsg_append (msg, &(zframe_t *){zaio_batch_writer_frame (&batch->writer)});
    zframe_t *frame;
    while ((frame = zmsg_pop (batch->data))) zmsg_append (msg, &frame);
    assert (zmsg_send (&msg, client) == 0);
    zmsg_destroy (&batch->data);
    zaio_batch_writer_release (&batch->writer);
}
