/*  test_broker_trust: CURVE, the ZAP handler and grants (PROTOCOL.md
    section 11). Peers without an admitted key never reach the broker;
    admitted ones get exactly what their grants allow, and a volume not
    granted looks as if it did not exist.

    Every case runs against one kind of broker: tcp endpoints (clients,
    events, workers) over CURVE, an inproc and an ipc endpoint beside
    them, and these certificates and grants:

        alice     read-only on default, no events
        bob       no entry: everything
        watcher   default read-write, and events (monitor = 1)
        mallory   not in any directory
        wk-photos a worker that may serve photos only
        wk-any    a worker with no entry: any volume
*/

#include "testutil.h"

#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_REFUSED_MS 1000 //  how long a refused peer is watched for a reply

static const char *s_grants_text = "grants\n"
                                   "    client\n"
                                   "        alice\n"
                                   "            volumes\n"
                                   "                default = ro\n"
                                   "        watcher\n"
                                   "            monitor = 1\n"
                                   "            volumes\n"
                                   "                default = rw\n"
                                   "    worker\n"
                                   "        wk-photos\n"
                                   "            volumes\n"
                                   "                photos\n";

typedef struct {
    char *dir; //  certificates: broker, clients/, workers/, others/
    zcert_t *broker, *alice, *bob, *watcher, *mallory, *wk_photos, *wk_any;
    zconfig_t *grants;
    zaio_test_broker_t broker_rig;
    char *workers_tcp; //  the broker's tcp worker endpoint
    char *workers_ipc; //  its ipc worker endpoint (trusted by file mode)
    char *paths[3];    //  a restarted broker's certificate, client keys, worker endpoint
} s_rig_t;

static void
s_rig_start (s_rig_t *rig, bool with_grants)
{
    memset (rig, 0, sizeof *rig);
    rig->dir = zaio_test_tempdir ("certs");
    for (const char *sub = "clients"; sub; sub = streq (sub, "clients") ? "workers" : NULL) {
        char *path = zsys_sprintf ("%s/%s", rig->dir, sub);
        assert (mkdir (path, 0700) == 0);
        zstr_free (&path);
    }
    rig->broker = zaio_test_cert (rig->dir, NULL, "broker");
    rig->alice = zaio_test_cert (rig->dir, "clients", "alice");
    rig->bob = zaio_test_cert (rig->dir, "clients", "bob");
    rig->watcher = zaio_test_cert (rig->dir, "clients", "watcher");
    rig->mallory = zaio_test_cert (rig->dir, NULL, "mallory");
    rig->wk_photos = zaio_test_cert (rig->dir, "workers", "wk-photos");
    rig->wk_any = zaio_test_cert (rig->dir, "workers", "wk-any");
    rig->grants = with_grants ? zconfig_str_load (s_grants_text) : NULL;

    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 2;
    char *curve_cert = zsys_sprintf ("%s/broker", rig->dir);
    char *clients = zsys_sprintf ("%s/clients", rig->dir);
    char *workers = zsys_sprintf ("%s/workers", rig->dir);
    char *workers_ipc = zsys_sprintf ("ipc://%s/workers.ipc", rig->dir);
    config.curve_cert = curve_cert;
    config.client_certs = clients;
    config.worker_certs = workers;
    config.grants = rig->grants ? zconfig_locate (rig->grants, "grants") : NULL;
    config.worker_bind[0] = "tcp://127.0.0.1:*";
    config.worker_bind[1] = workers_ipc;
    config.worker_bind[2] = NULL;
    config.heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS;
    zaio_test_broker_start (&rig->broker_rig, &config);
    rig->workers_tcp = zaio_broker_endpoint (rig->broker_rig.broker, "workers", "tcp");
    rig->workers_ipc = zaio_broker_endpoint (rig->broker_rig.broker, "workers", "ipc");
    assert (rig->workers_tcp && rig->workers_ipc);
    zstr_free (&curve_cert);
    zstr_free (&clients);
    zstr_free (&workers);
    zstr_free (&workers_ipc);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zaio_test_broker_stop (&rig->broker_rig);
    zcert_t **certs[] = {&rig->broker,  &rig->alice,     &rig->bob,   &rig->watcher,
                         &rig->mallory, &rig->wk_photos, &rig->wk_any};
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) zcert_destroy (certs[i]);
    zconfig_destroy (&rig->grants);
    zstr_free (&rig->workers_tcp);
    zstr_free (&rig->workers_ipc);
    for (int i = 0; i < 3; i++) zstr_free (&rig->paths[i]);
    zaio_test_rmtree (rig->dir);
    zstr_free (&rig->dir);
}

//  Starts the rig's broker again on config (defaults the caller has
//  tuned), with one thread, the rig's broker and client keys and no
//  grants, and a fake worker over ipc serving volume "slow": returned.
static zsock_t *
s_rig_restart (s_rig_t *rig, zaio_broker_config_t *config)
{
    zaio_test_broker_stop (&rig->broker_rig);
    rig->paths[0] = zsys_sprintf ("%s/broker", rig->dir);
    rig->paths[1] = zsys_sprintf ("%s/clients", rig->dir);
    rig->paths[2] = zsys_sprintf ("ipc://%s/workers.ipc", rig->dir);
    config->curve_cert = rig->paths[0];
    config->client_certs = rig->paths[1];
    config->worker_bind[0] = rig->paths[2];
    config->worker_bind[1] = NULL;
    config->workers = 1; //  one thread: jobs run in the order they came
    config->heartbeat_ms = ZAIO_TEST_QUIET_HEARTBEAT_MS;
    zaio_test_broker_start (&rig->broker_rig, config);
    zsock_t *worker =
        zaio_test_fake_worker (rig->paths[2], "slow", 16, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig->broker_rig.inproc, worker, "slow");
    return worker;
}

//  A DEALER connected over CURVE as own, with its monitor in *monitor_p
//  (NULL: none). A monitor must outlive its socket: libzmq's I/O thread
//  blocks on a monitor with no reader.
static zsock_t *
s_connect (const char *endpoint, zcert_t *server, zcert_t *own, zsock_t **monitor_p)
{
    zsock_t *sock = zaio_test_curve_socket (ZMQ_DEALER, server, own);
    if (monitor_p) *monitor_p = zaio_test_monitor (sock);
    assert (zsock_connect (sock, "%s", endpoint) == 0);
    return sock;
}

//  Sends op (with path, and data for writes) and returns the error code
//  of its reply, the message copied into why if not NULL.
static int
s_call (zsock_t *client, zaio_op_t op, uint64_t id, const char *volume, const char *path, char *why,
        size_t why_size)
{
    zaio_request_t req;
    zaio_request_init (&req, op, id);
    if (volume) zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    if (path) zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
    const char *data = NULL;
    if (op == ZAIO_OP_READ) zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 100);
    if (op == ZAIO_OP_WRITE || op == ZAIO_OP_APPEND || op == ZAIO_OP_WRITEFILE) data = "evil";
    if (op == ZAIO_OP_WRITE) zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, 0);
    if (op == ZAIO_OP_TRUNCATE) zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 0);
    if (op == ZAIO_OP_RENAME || op == ZAIO_OP_COPY)
        zaio_request_set_str (&req, ZAIO_FIELD_TO, "moved.txt");
    zaio_test_send (client, &req, data, data ? strlen (data) : 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, 10000);
    assert (reply.id == id);
    if (why) snprintf (why, why_size, "%s", reply.message);
    zmsg_destroy (&msg);
    return reply.ok ? 0 : reply.error;
}

//  True if client gets any message within S_REFUSED_MS of a ping.
static bool
s_answered (zsock_t *client)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    //  A refused connection may have no pipe left to queue on: a ping
    //  that cannot even be sent is not answered either.
    zsock_set_sndtimeo (client, 0);
    if (zmsg_send (&msg, client) != 0) {
        zmsg_destroy (&msg);
        return false;
    }
    zpoller_t *poller = zpoller_new (client, NULL);
    bool answered = zpoller_wait (poller, S_REFUSED_MS) != NULL;
    zpoller_destroy (&poller);
    return answered;
}

static void
s_test_allowed_client_works (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *monitor;
    zsock_t *bob = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, &monitor);
    assert (zaio_test_handshake (monitor, 10000) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert (s_call (bob, ZAIO_OP_WRITEFILE, 2, NULL, "bob.txt", NULL, 0) == 0);
    assert (s_call (bob, ZAIO_OP_READ, 3, NULL, "bob.txt", NULL, 0) == 0);
    size_t size;
    char *text = zaio_test_read_file (rig.broker_rig.root, "bob.txt", &size);
    assert (size == 4 && memcmp (text, "evil", 4) == 0);
    free (text);
    zsock_destroy (&bob);
    zsock_destroy (&monitor);
    s_rig_stop (&rig);
}

//  No CURVE, an unknown key, the wrong server key: no access. Only the
//  unknown key is told (ZAP 400 reaches the client as a failed
//  authentication); the others fail below the ZAP handler.
static void
s_test_strangers_get_nothing (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *plain = zaio_test_client (rig.broker_rig.tcp);
    assert (!s_answered (plain));
    zsock_destroy (&plain);

    zsock_t *monitor;
    zsock_t *mallory = s_connect (rig.broker_rig.tcp, rig.broker, rig.mallory, &monitor);
    assert (zaio_test_handshake (monitor, 10000) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (!s_answered (mallory));
    zsock_destroy (&mallory);
    zsock_destroy (&monitor);

    zsock_t *fooled = s_connect (rig.broker_rig.tcp, rig.mallory, rig.bob, NULL);
    assert (!s_answered (fooled));
    zsock_destroy (&fooled);
    s_rig_stop (&rig);
}

//  Every op that changes something is EACCES on a read-only grant, and
//  the file stays as it was; reads work.
static void
s_test_readonly_grant (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zaio_test_write_file (rig.broker_rig.root, "keep.txt", "kept", 4);
    zsock_t *alice = s_connect (rig.broker_rig.tcp, rig.broker, rig.alice, NULL);
    assert (s_call (alice, ZAIO_OP_READ, 1, NULL, "keep.txt", NULL, 0) == 0);
    assert (s_call (alice, ZAIO_OP_STAT, 2, NULL, "keep.txt", NULL, 0) == 0);
    uint64_t id = 10;
    for (int op = 0; op < ZAIO_OP_COUNT; op++) {
        if (!zaio_op_mutates ((zaio_op_t)op)) continue;
        char why[256];
        int code = s_call (alice, (zaio_op_t)op, id++, NULL, "keep.txt", why, sizeof why);
        if (code != EACCES || !streq (why, "not permitted for this client")) {
            fprintf (stderr, "%s: %s (%s)\n", zaio_op_name ((zaio_op_t)op), zaio_error_name (code),
                     why);
            assert (false);
        }
    }
    size_t size;
    char *text = zaio_test_read_file (rig.broker_rig.root, "keep.txt", &size);
    assert (size == 4 && memcmp (text, "kept", 4) == 0);
    free (text);
    zsock_destroy (&alice);
    s_rig_stop (&rig);
}

//  The volumes of a hello reply, as "name:ro name:rw ...", sorted.
static void
s_hello_volumes (zsock_t *client, uint64_t id, char *text, size_t size)
{
    zaio_hello_t *hello = zaio_test_hello (client, id, 10000);
    text[0] = 0;
    for (uint32_t i = 0; i < hello->volume_count; i++)
        snprintf (text + strlen (text), size - strlen (text), "%s%s:%s", i ? " " : "",
                  hello->volumes[i].name, hello->volumes[i].readonly ? "ro" : "rw");
    free (hello);
}

//  A volume alice may not use is NOVOLUME with the very message of one
//  that does not exist, for hello too, and hello does not list it.
static void
s_test_volume_not_granted (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *worker =
        zaio_test_fake_worker (rig.workers_ipc, "photos", 4, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig.broker_rig.inproc, worker, "photos");
    zsock_t *alice = s_connect (rig.broker_rig.tcp, rig.broker, rig.alice, NULL);
    zsock_t *bob = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    char why_granted[256], why_absent[256];
    assert (s_call (alice, ZAIO_OP_STAT, 1, "photos", "x", why_granted, sizeof why_granted) ==
            ZAIO_ERR_NOVOLUME);
    assert (s_call (alice, ZAIO_OP_STAT, 2, "nothere", "x", why_absent, sizeof why_absent) ==
            ZAIO_ERR_NOVOLUME);
    char *expected = zsys_sprintf ("no live worker serves volume '%s'", "photos");
    assert (streq (why_granted, expected));
    zstr_free (&expected);
    char volumes[256];
    s_hello_volumes (alice, 3, volumes, sizeof volumes);
    assert (streq (volumes, "default:ro"));
    s_hello_volumes (bob, 4, volumes, sizeof volumes);
    assert (streq (volumes, "default:rw photos:rw"));
    //  hello naming a volume is answered as any op naming it.
    char why_hello[256];
    assert (s_call (alice, ZAIO_OP_HELLO, 5, "photos", NULL, why_hello, sizeof why_hello) ==
            ZAIO_ERR_NOVOLUME);
    assert (streq (why_hello, why_granted));
    assert (s_call (bob, ZAIO_OP_HELLO, 6, "nothere", NULL, NULL, 0) == ZAIO_ERR_NOVOLUME);
    assert (s_call (bob, ZAIO_OP_HELLO, 7, "photos", NULL, NULL, 0) == 0);
    assert (s_call (alice, ZAIO_OP_HELLO, 8, "default", NULL, NULL, 0) == 0);
    zsock_destroy (&alice);
    zsock_destroy (&bob);
    zsock_destroy (&worker);
    s_rig_stop (&rig);
}

//  A worker with an unknown key cannot register; wk-photos may serve
//  photos but not archive; wk-any may serve anything.
static void
s_test_worker_grants (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *monitor;
    zsock_t *rogue = s_connect (rig.workers_tcp, rig.broker, rig.mallory, &monitor);
    assert (zaio_test_handshake (monitor, 10000) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    zaio_test_fake_ready (rogue, "rogue", 1024, ZAIO_TEST_QUIET_HEARTBEAT_MS);

    zsock_t *photos = s_connect (rig.workers_tcp, rig.broker, rig.wk_photos, NULL);
    zaio_test_fake_ready (photos, "archive", 4, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_ready (photos, "photos", 4, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig.broker_rig.inproc, photos, "photos");
    zsock_t *any = s_connect (rig.workers_tcp, rig.broker, rig.wk_any, NULL);
    zaio_test_fake_ready (any, "logs", 4, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    zaio_test_fake_known (rig.broker_rig.inproc, any, "logs");

    //  The READYs before photos' were handled before it: what hello says
    //  now is final for them.
    zsock_t *client = zaio_test_client (rig.broker_rig.inproc);
    char volumes[256];
    s_hello_volumes (client, 1, volumes, sizeof volumes);
    assert (streq (volumes, "default:rw logs:rw photos:rw"));
    zsock_destroy (&client);
    zsock_destroy (&rogue);
    zsock_destroy (&monitor);
    zsock_destroy (&photos);
    zsock_destroy (&any);
    s_rig_stop (&rig);
}

//  Subscribers authenticate like clients; one with a grant entry needs
//  monitor = 1. Events name the client by its identity.
static void
s_test_events_carry_identity (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *monitor;
    zsock_t *nosy = zaio_test_curve_socket (ZMQ_SUB, rig.broker, rig.alice);
    zsock_t *nosy_monitor = zaio_test_monitor (nosy);
    zsock_set_subscribe (nosy, "");
    assert (zsock_connect (nosy, "%s", rig.broker_rig.events) == 0);
    assert (zaio_test_handshake (nosy_monitor, 10000) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);

    zsock_t *watcher = zaio_test_curve_socket (ZMQ_SUB, rig.broker, rig.watcher);
    monitor = zaio_test_monitor (watcher);
    zsock_set_subscribe (watcher, "ok.stat.");
    zsock_set_rcvtimeo (watcher, 200);
    assert (zsock_connect (watcher, "%s", rig.broker_rig.events) == 0);
    assert (zaio_test_handshake (monitor, 10000) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    zsock_t *bob = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    //  The subscription travels on its own: stat until an event comes.
    zaio_event_t event = {0};
    for (uint64_t id = 1; !event.id; id++) {
        assert (id < 200);
        assert (s_call (bob, ZAIO_OP_STAT, id, NULL, "", NULL, 0) == 0);
        zmsg_t *msg = zmsg_recv (watcher);
        if (msg) {
            zframe_t *body = zmsg_last (msg);
            assert (zaio_event_decode (&event, zframe_data (body), zframe_size (body)) == 0);
            zmsg_destroy (&msg);
        }
    }
    assert (streq (event.client, "bob"));
    zsock_destroy (&nosy);
    zsock_destroy (&watcher);
    zsock_destroy (&monitor);
    zsock_destroy (&nosy_monitor);
    zsock_destroy (&bob);
    s_rig_stop (&rig);
}

//  A certificate taken out of the directory stops working for new
//  connections without a restart.
static void
s_test_removed_key (void)
{
    s_rig_t rig;
    s_rig_start (&rig, true);
    zsock_t *bob = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    assert (s_call (bob, ZAIO_OP_PING, 1, NULL, NULL, NULL, 0) == 0);
    char *path = zsys_sprintf ("%s/clients/bob", rig.dir);
    assert (unlink (path) == 0);
    zstr_free (&path);
    zsock_t *monitor;
    zsock_t *again = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, &monitor);
    assert (zaio_test_handshake (monitor, 10000) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    zsock_destroy (&again);
    zsock_destroy (&monitor);
    zsock_destroy (&bob);
    s_rig_stop (&rig);
}

//  The identity, not the connection, is the unit of inflight_max: two
//  connections as bob share one allowance.
static void
s_test_identity_shares_inflight (void)
{
    s_rig_t rig;
    s_rig_start (&rig, false);
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.inflight_max = 3;
    config.drain_ms = 100; //  the held jobs are never answered
    zsock_t *worker = s_rig_restart (&rig, &config);
    zsock_t *first = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    zsock_t *second = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    zaio_request_t req;
    for (uint64_t id = 1; id <= 3; id++) {
        zaio_request_init (&req, ZAIO_OP_STAT, id);
        zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "");
        zaio_test_send (id == 1 ? first : second, &req, NULL, 0);
        uint64_t job;
        zaio_request_t taken;
        zaio_test_fake_take (worker, &job, &taken, 10000); //  held, never answered
    }
    assert (s_call (second, ZAIO_OP_STAT, 4, "slow", "", NULL, 0) == ZAIO_ERR_QUEUE_FULL);
    zsock_t *alice = s_connect (rig.broker_rig.tcp, rig.broker, rig.alice, NULL);
    assert (s_call (alice, ZAIO_OP_PING, 5, NULL, NULL, NULL, 0) == 0);
    zsock_destroy (&alice);
    zsock_destroy (&first);
    zsock_destroy (&second);
    zsock_destroy (&worker);
    s_rig_stop (&rig);
}

//  The replies the broker holds, from a stats call on client.
static uint64_t
s_held_replies (zsock_t *client, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, id);
    zaio_test_send (client, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, 10000);
    assert (reply.id == id && reply.ok);
    zmsg_first (msg); //  the signature
    zframe_t *header = zmsg_next (msg);
    zaio_stats_report_t *report;
    assert (zaio_stats_report_decode (&report, zframe_data (header), zframe_size (header)) == 0);
    uint64_t held = report->held_replies;
    zaio_stats_report_destroy (&report);
    zmsg_destroy (&msg);
    return held;
}

//  A connection that stops reading and goes away takes its held replies
//  off its identity's account once: the identity's other connection, which
//  keeps the account alive with a job of its own, is served as before, up
//  to inflight_max.
static void
s_test_departed_connection_frees_held (void)
{
    s_rig_t rig;
    s_rig_start (&rig, false);
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.reply_hwm = 2;
    config.inflight_max = 64;
    //  Room for first's 40 MiB held, so second is not refused meanwhile.
    config.held_bytes_max = config.held_bytes_total = 256u * 1024 * 1024;
    config.verbose = true;
    FILE *log = zaio_test_log_catch ();
    zsock_t *worker = s_rig_restart (&rig, &config);
    zsock_t *first = zaio_test_curve_socket (ZMQ_DEALER, rig.broker, rig.bob);
    zsock_set_rcvhwm (first, 1);
    assert (zsock_connect (first, "%s", rig.broker_rig.tcp) == 0);
    zsock_t *second = s_connect (rig.broker_rig.tcp, rig.broker, rig.bob, NULL);
    //  A job the fake worker holds keeps second's session, and so bob's
    //  account, alive throughout.
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STAT, 1000);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "");
    zaio_test_send (second, &req, NULL, 0);
    uint64_t job;
    zaio_request_t taken;
    zaio_test_fake_take (worker, &job, &taken, 10000);
    //  40 reads of 1 MiB that first never takes: the socket buffers fill
    //  with the first few, and the broker holds the rest.
    size_t size = 1024 * 1024;
    char *big = (char *)zmalloc (size);
    zaio_test_write_file (rig.broker_rig.root, "big", big, size);
    free (big);
    for (uint64_t id = 1; id <= 40; id++) {
        zaio_request_init (&req, ZAIO_OP_READ, id);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "big");
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, size);
        zaio_test_send (first, &req, NULL, 0);
    }
    //  Wait until the broker holds some (bob has no grant entry, so may
    //  ask for stats).
    int64_t until = zclock_mono () + 10000;
    uint64_t id = 1001;
    while (s_held_replies (second, id++) == 0)
        if (zclock_mono () >= until) {
            printf ("no reply held within 10 s\n"); //  stderr is caught
            assert (false);
        }
    zsock_destroy (&first);
    //  Each ping makes the broker try the held replies again; once it
    //  finds the connection gone it drops them, and says so.
    const char *dropped = "replies held for a client that has gone dropped";
    until = zclock_mono () + 10000;
    bool gone = false;
    while (!gone && zclock_mono () < until) {
        assert (s_call (second, ZAIO_OP_PING, id++, NULL, NULL, NULL, 0) == 0);
        char *text = zaio_test_log_peek (log);
        gone = strstr (text, dropped) != NULL;
        free (text);
    }
    char *text = zaio_test_log_release (&log);
    if (!gone) fprintf (stderr, "no drop logged within 10 s; the broker's log:\n%s", text);
    assert (gone);
    free (text);
    //  Bob has the one stat in flight: 63 pings at once all run.
    for (uint64_t n = 0; n < 63; n++) {
        zaio_request_init (&req, ZAIO_OP_PING, 3000 + n);
        zaio_test_send (second, &req, NULL, 0);
    }
    for (uint64_t n = 0; n < 63; n++) zaio_test_expect (second, 3000 + n, 0);
    zaio_test_fake_done (worker, job, 1000, 0);
    zaio_test_expect (second, 1000, 0);
    zsock_destroy (&second);
    zsock_destroy (&worker);
    s_rig_stop (&rig);
}

//  tcp beyond loopback needs CURVE, or insecure (then hello warns); ipc
//  socket files get the broker's mode.
static void
s_test_safe_defaults (void)
{
    char *root = zaio_test_tempdir ("root");
    char *ipc = zsys_sprintf ("ipc://%s.ipc", root);
    zaio_broker_config_t config;
    zaio_test_single_config (&config, root, "tcp://0.0.0.0:*");
    assert (zaio_broker_new (&config) == NULL);
    config.bind[1] = ipc;
    config.bind[2] = NULL;
    config.insecure = true;
    config.ipc_mode = 0600;
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    struct stat st;
    assert (stat (ipc + strlen ("ipc://"), &st) == 0 && (st.st_mode & 0777) == 0600);
    zaio_test_served (ipc);
    zsock_t *client = zaio_test_client (ipc);
    zaio_hello_t *hello = zaio_test_hello (client, 1, 10000);
    assert (strncmp (hello->warning, "insecure:", 9) == 0);
    free (hello);
    zsock_destroy (&client);
    zaio_broker_destroy (&broker);
    zaio_test_rmtree (root);
    zstr_free (&root);
    zstr_free (&ipc);
}

//  A connection that never finishes its handshake is closed after
//  handshake_ms: a raw TCP peer that sends nothing sees the broker's
//  greeting, then the end of the stream.
static void
s_test_handshake_bounded (void)
{
    char *root = zaio_test_tempdir ("root");
    zaio_broker_config_t config;
    zaio_test_single_config (&config, root, "tcp://127.0.0.1:*");
    config.handshake_ms = 300;
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    char *endpoint = zaio_broker_endpoint (broker, "client", "tcp");
    int port = atoi (strrchr (endpoint, ':') + 1);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert (connect (fd, (struct sockaddr *)&address, sizeof address) == 0);
    int64_t start = zclock_mono ();
    char buffer[256];
    ssize_t got;
    struct pollfd item = {fd, POLLIN, 0};
    while (poll (&item, 1, 10000) == 1 && (got = read (fd, buffer, sizeof buffer)) > 0)
        ;
    int64_t open_ms = zclock_mono () - start;
    assert (open_ms >= 200 && open_ms < 5000);
    close (fd);
    zstr_free (&endpoint);
    zaio_broker_destroy (&broker);
    zaio_test_rmtree (root);
    zstr_free (&root);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_allowed_client_works),
        ZAIO_TEST_CASE (s_test_strangers_get_nothing),
        ZAIO_TEST_CASE (s_test_readonly_grant),
        ZAIO_TEST_CASE (s_test_volume_not_granted),
        ZAIO_TEST_CASE (s_test_worker_grants),
        ZAIO_TEST_CASE (s_test_events_carry_identity),
        ZAIO_TEST_CASE (s_test_removed_key),
        ZAIO_TEST_CASE (s_test_identity_shares_inflight),
        ZAIO_TEST_CASE (s_test_departed_connection_frees_held),
        ZAIO_TEST_CASE (s_test_safe_defaults),
        ZAIO_TEST_CASE (s_test_handshake_bounded),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
