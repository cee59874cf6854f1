/*  test_remote_curve: zaio-worker over CURVE (--curve-cert, --broker-key),
    against a CURVE ROUTER that stands in for the broker's worker endpoint,
    with czmq's zauth as its ZAP handler letting in the certificates of
    one directory.

    1. registers: a worker whose key is allowed connects over CURVE and
       its READY arrives, naming its volume.
    2. unknown_key: a worker whose key is not allowed is refused in the
       handshake (the ROUTER's monitor sees the ZAP refusal), nothing it
       sends ever reaches the ROUTER, and it logs that it was refused.
*/

#include "testutil.h"
#include "zaio_proc.h"

#include <signal.h>

#define S_START_MS 20000 //  the worker prints "ready" within this
#define S_WAIT_MS  20000 //  a READY, or a refusal, comes within this

typedef struct {
    char *dir;
    char *volume;   //  the directory the worker serves
    char *allowed;  //  the certificates zauth lets in
    char *broker;   //  the broker's pair
    char *worker;   //  an allowed worker's pair
    char *stranger; //  a worker whose key is not allowed
    zactor_t *auth;
    zsock_t *router;  //  CURVE server with the broker's keys
    zsock_t *monitor; //  the ROUTER's handshake failures
    char *endpoint;
} s_rig_t;

static char *
s_make_cert (const char *dir, const char *name, const char *public_copy)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    int rc = zcert_save (cert, path);
    assert (rc == 0);
    if (public_copy) zcert_save_public (cert, public_copy);
    zcert_destroy (&cert);
    return path;
}

static void
s_rig_start (s_rig_t *rig)
{
    memset (rig, 0, sizeof *rig);
    rig->dir = zaio_test_tempdir ("remote-curve");
    rig->volume = zsys_sprintf ("%s/volume", rig->dir);
    rig->allowed = zsys_sprintf ("%s/allowed", rig->dir);
    zsys_dir_create ("%s", rig->volume);
    zsys_dir_create ("%s", rig->allowed);
    char *allowed_copy = zsys_sprintf ("%s/worker", rig->allowed);
    rig->broker = s_make_cert (rig->dir, "broker", NULL);
    rig->worker = s_make_cert (rig->dir, "worker", allowed_copy);
    rig->stranger = s_make_cert (rig->dir, "stranger", NULL);
    zstr_free (&allowed_copy);
    zaio_test_zap_free ();
    rig->auth = zactor_new (zauth, NULL);
    zstr_sendx (rig->auth, "CURVE", rig->allowed, NULL);
    zsock_wait (rig->auth);

    rig->router = zsock_new (ZMQ_ROUTER);
    zcert_t *cert = zcert_load (rig->broker);
    zcert_apply (cert, rig->router);
    zcert_destroy (&cert);
    zsock_set_curve_server (rig->router, 1);
    zsock_set_zap_domain (rig->router, "workers");
    zsock_set_rcvtimeo (rig->router, S_WAIT_MS);
    //  A name of its own per rig: libzmq frees one only once its socket is
    //  reaped, which may be after the next case starts.
    static int s_rigs;
    char *monitor = zsys_sprintf ("inproc://remote-curve-monitor-%d", s_rigs++);
    int rc =
        zmq_socket_monitor (zsock_resolve (rig->router), monitor, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (rc == 0);
    rig->monitor = zsock_new (ZMQ_PAIR);
    rc = zsock_connect (rig->monitor, "%s", monitor);
    assert (rc == 0);
    zstr_free (&monitor);
    zsock_set_rcvtimeo (rig->monitor, S_WAIT_MS);
    int port = zsock_bind (rig->router, "tcp://127.0.0.1:*");
    assert (port > 0);
    rig->endpoint = zsys_sprintf ("tcp://127.0.0.1:%d", port);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zmq_socket_monitor (zsock_resolve (rig->router), NULL, 0);
    zsock_destroy (&rig->monitor);
    zsock_destroy (&rig->router);
    zactor_destroy (&rig->auth);
    zaio_test_rmtree (rig->dir);
    char **strings[] = {&rig->dir,    &rig->volume,   &rig->allowed, &rig->broker,
                        &rig->worker, &rig->stranger, &rig->endpoint};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) zstr_free (strings[i]);
}

//  zaio-worker serving "photos" to the rig, with key as its certificate,
//  logging to the file log.
static void
s_worker_start (zaio_proc_t *proc, const s_rig_t *rig, const char *key, const char *log)
{
    char *volume = zsys_sprintf ("photos=%s", rig->volume);
    char *binary = zsys_sprintf ("%s/workers/zaio-worker", ZAIO_BINARY_DIR);
    const char *argv[] = {binary, "--connect",    rig->endpoint, "--volume",
                          volume, "--threads",    "1",           "--curve-cert",
                          key,    "--broker-key", rig->broker,   NULL};
    int rc = zaio_proc_start (proc, argv, log, S_START_MS);
    assert (rc == 0);
    zstr_free (&volume);
    zstr_free (&binary);
}

static void
s_test_registers (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_proc_t worker;
    s_worker_start (&worker, &rig, rig.worker, NULL);
    zmsg_t *msg = zmsg_recv (rig.router); //  routing id, envelope, READY body
    assert (msg && zmsg_size (msg) == 3);
    zmsg_first (msg); //  the routing id
    zframe_t *envelope = zmsg_next (msg);
    uint64_t job;
    assert (zaio_envelope_get (zframe_data (envelope), zframe_size (envelope), &job) ==
            ZAIO_WORKER_READY);
    zframe_t *body = zmsg_next (msg);
    zaio_ready_t ready;
    assert (zaio_ready_decode (&ready, zframe_data (body), zframe_size (body)) == 0);
    assert (ready.volume_count == 1 && streq (ready.volumes[0].name, "photos"));
    zmsg_destroy (&msg);
    zaio_proc_signal (&worker, SIGTERM);
    zaio_proc_wait (&worker, S_WAIT_MS);
    zaio_proc_stop (&worker);
    s_rig_stop (&rig);
}

static void
s_test_unknown_key (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_proc_t worker;
    char *log = zsys_sprintf ("%s/worker.log", rig.dir);
    s_worker_start (&worker, &rig, rig.stranger, log);
    //  The refusal is seen at the ROUTER; the worker tries again and again
    //  (a few refusals), and never gets a message through.
    for (int refusals = 0; refusals < 3; refusals++) {
        zmsg_t *event = zmsg_recv (rig.monitor);
        assert (event);
        uint16_t number;
        memcpy (&number, zframe_data (zmsg_first (event)), sizeof number);
        assert (number == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
        zmsg_destroy (&event);
    }
    zsock_set_rcvtimeo (rig.router, 0);
    zmsg_t *msg = zmsg_recv (rig.router);
    assert (!msg);
    zaio_proc_stop (&worker);
    size_t size;
    char *text = zaio_test_read_file (rig.dir, "worker.log", &size);
    assert (text && strstr (text, "refused this worker: the broker refused this key"));
    free (text);
    zstr_free (&log);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_registers),
        ZAIO_TEST_CASE (s_test_unknown_key),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
