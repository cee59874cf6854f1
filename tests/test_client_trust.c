/*  test_client_trust.c: libzaio against the real broker run with CURVE
    (--curve-cert, --client-certs, a read-only grant), embedded in the test
    (zaio_broker.h) with its own ZAP handler. test_client_curve covers the
    same client against a stand-in; this checks that the two fit.

    1. admitted: a client whose certificate is in the broker's directory
       works over tcp; with a read-only grant, a write is EACCES and the
       file is unchanged; a watcher over CURVE receives the events it
       caused, naming it.
    2. refused: an unknown key, a wrong server key and no CURVE all end in
       AUTH, each well before the call's timeout, and nothing was run.
*/

#include "testutil.h"
#include "zaio.h"

#include <errno.h>
#include <sys/stat.h>

#define S_CALL_TIMEOUT_MS 20000
#define S_FAST_MS         5000

static const char *s_grants_text = "grants\n"
                                   "    client\n"
                                   "        reader\n"
                                   "            volumes\n"
                                   "                default = ro\n";

typedef struct {
    char *dir;
    zconfig_t *grants;
    zaio_test_broker_t broker;
} s_rig_t;

//  A certificate (zaio_test_cert) the test needs only as files.
static void
s_cert (const char *dir, const char *sub, const char *name)
{
    zcert_t *cert = zaio_test_cert (dir, sub, name);
    zcert_destroy (&cert);
}

static void
s_rig_start (s_rig_t *rig)
{
    memset (rig, 0, sizeof *rig);
    rig->dir = zaio_test_tempdir ("client-trust");
    char *clients = zsys_sprintf ("%s/clients", rig->dir);
    assert (mkdir (clients, 0700) == 0);
    s_cert (rig->dir, NULL, "broker");
    s_cert (rig->dir, NULL, "impostor");
    s_cert (rig->dir, NULL, "mallory");
    s_cert (rig->dir, "clients", "alice");
    s_cert (rig->dir, "clients", "reader");
    rig->grants = zconfig_str_load (s_grants_text);
    assert (rig->grants);
    char *curve_cert = zsys_sprintf ("%s/broker", rig->dir);
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.curve_cert = curve_cert;
    config.client_certs = clients;
    config.grants = zconfig_locate (rig->grants, "grants");
    zaio_test_zap_free (); //  the broker's ZAP handler binds it
    zaio_test_broker_start (&rig->broker, &config);
    zstr_free (&curve_cert);
    zstr_free (&clients);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zaio_test_broker_stop (&rig->broker);
    zconfig_destroy (&rig->grants);
    zaio_test_rmtree (rig->dir);
    zstr_free (&rig->dir);
}

//  A client of the rig's tcp endpoint as name (NULL: without CURVE), the
//  broker's key taken from server.
static zaio_client_t *
s_client (const s_rig_t *rig, const char *server, const char *name)
{
    zaio_client_t *client = zaio_client_new (rig->broker.tcp);
    assert (client);
    zaio_client_set_timeout (client, S_CALL_TIMEOUT_MS);
    if (name) {
        char *server_path = zsys_sprintf ("%s/%s", rig->dir, server);
        char *own_path = zsys_sprintf ("%s/%s", rig->dir, name);
        assert (zaio_client_set_curve (client, server_path, own_path) == 0);
        zstr_free (&server_path);
        zstr_free (&own_path);
    }
    return client;
}

static void
s_test_admitted (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_watch_t *watch = zaio_watch_new (rig.broker.events);
    char *server_path = zsys_sprintf ("%s/broker", rig.dir);
    char *alice_path = zsys_sprintf ("%s/alice", rig.dir);
    assert (zaio_watch_set_curve (watch, server_path, alice_path) == 0);
    assert (zaio_watch_subscribe (watch, "ok.writefile.") == 0);

    zaio_client_t *alice = s_client (&rig, "broker", "alice");
    zaio_event_t event;
    int64_t until = zclock_mono () + 10000;
    do { //  until the subscription has reached the broker
        assert (zclock_mono () < until);
        assert (zaio_client_writefile (alice, "a.txt", "alice", 5) == 0);
    } while (zaio_watch_recv (watch, &event, 200));
    assert (streq (event.client, "alice") && streq (event.path, "a.txt"));
    assert (zaio_watch_error (watch) == 0);

    zaio_client_t *reader = s_client (&rig, "broker", "reader");
    zaio_buf_t *buf = NULL;
    assert (zaio_client_readfile (reader, "a.txt", &buf) == 0);
    assert (zaio_buf_size (buf) == 5 && memcmp (zaio_buf_data (buf), "alice", 5) == 0);
    zaio_buf_destroy (&buf);
    assert (zaio_client_writefile (reader, "a.txt", "reader", 6) == EACCES);
    size_t size;
    char *text = zaio_test_read_file (rig.broker.root, "a.txt", &size);
    assert (text && size == 5 && memcmp (text, "alice", 5) == 0);
    free (text);

    zaio_client_destroy (&reader);
    zaio_client_destroy (&alice);
    zaio_watch_destroy (&watch);
    zstr_free (&server_path);
    zstr_free (&alice_path);
    s_rig_stop (&rig);
}

//  The error of a writefile by client, checked to come well before the
//  call's timeout.
static int
s_refused_write (zaio_client_t *client)
{
    int64_t start = zclock_mono ();
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITEFILE, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "refused.txt");
    zaio_buf_t *data = zaio_buf_new ("x", 1);
    zaio_call_t *call = zaio_client_start (client, &req, &data);
    assert (zaio_call_wait (call, -1) == 0);
    int error = zaio_call_error (call);
    printf ("refused: %s: %s\n", zaio_errname (error), zaio_call_message (call));
    zaio_call_destroy (&call);
    assert (zclock_mono () - start < S_FAST_MS);
    return error;
}

static void
s_test_refused (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_client_t *client = s_client (&rig, "broker", "mallory");
    assert (s_refused_write (client) == ZAIO_ERR_AUTH);
    zaio_client_destroy (&client);
    client = s_client (&rig, "impostor", "alice");
    assert (s_refused_write (client) == ZAIO_ERR_AUTH);
    zaio_client_destroy (&client);
    //  Without CURVE: the mismatch shows on most connections; retries to
    //  spare make sure one does.
    client = s_client (&rig, NULL, NULL);
    zaio_client_set_retries (client, 20);
    assert (s_refused_write (client) == ZAIO_ERR_AUTH);
    zaio_client_destroy (&client);
    size_t size;
    char *text = zaio_test_read_file (rig.broker.root, "refused.txt", &size);
    assert (!text);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_admitted),
        ZAIO_TEST_CASE (s_test_refused),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
