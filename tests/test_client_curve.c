/*  test_client_curve.c: libzaio over CURVE (zaio_client_set_curve,
    zaio_watch_set_curve), against the scripted broker made a CURVE server
    and czmq's zauth as its ZAP handler, which lets in the certificates of
    one directory.

    An allowed client works. What the others see, and how fast: a key the
    broker does not know fails with AUTH at once, and so does CURVE against
    a plain broker and plain against a CURVE one (when ZeroMQ sees the
    mismatch; else as a wrong server key); a wrong server key, which
    ZeroMQ shows only as the broker hanging up in the handshake, fails
    AUTH once every reconnect was hung up on, well before the call's
    timeout, while a broker that is not there stays UNREACHABLE. A refused client
    tries again on its next call; keys set on a client already connected
    apply to a fresh connection. Certificate files that are missing,
    unreadable, not certificates or lack the secret key are refused and
    change nothing. A watcher subscribes over CURVE, and one the broker
    refuses says AUTH and stops.
*/

#include "test_client_fake.h"
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>

#define S_CALL_TIMEOUT_MS 20000 //  what the fast failures must stay well under
#define S_FAST_MS         5000  //  "at once", on a busy two-core machine

//  Certificates in a fresh directory: the broker's pair, an allowed
//  client's (its public half in allowed/, which zauth reads), a stranger's
//  and an impostor broker's.
typedef struct {
    char *dir;
    char *allowed;  //  the directory zauth reads
    char *broker;   //  PATH of the broker's pair (PATH and PATH_secret)
    char *alice;    //  allowed
    char *mallory;  //  not allowed
    char *impostor; //  another broker's key
    zactor_t *auth;
} s_keys_t;

static char *
s_make_cert (const char *dir, const char *name)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    int rc = zcert_save (cert, path);
    assert (rc == 0);
    zcert_destroy (&cert);
    return path;
}

//  Copy the public certificate at path into the allowed directory.
static void
s_allow (s_keys_t *keys, const char *path, const char *name)
{
    zcert_t *cert = zcert_load (path);
    assert (cert);
    char *public_path = zsys_sprintf ("%s/%s", keys->allowed, name);
    int rc = zcert_save_public (cert, public_path);
    assert (rc == 0);
    zstr_free (&public_path);
    zcert_destroy (&cert);
}

static void
s_keys_new (s_keys_t *keys)
{
    keys->dir = zaio_test_tempdir ("curve");
    keys->allowed = zsys_sprintf ("%s/allowed", keys->dir);
    int rc = zsys_dir_create ("%s", keys->allowed);
    assert (rc == 0);
    keys->broker = s_make_cert (keys->dir, "broker");
    keys->alice = s_make_cert (keys->dir, "alice");
    keys->mallory = s_make_cert (keys->dir, "mallory");
    keys->impostor = s_make_cert (keys->dir, "impostor");
    s_allow (keys, keys->alice, "alice");
    zaio_test_zap_free ();
    keys->auth = zactor_new (zauth, NULL);
    assert (keys->auth);
    zstr_sendx (keys->auth, "CURVE", keys->allowed, NULL);
    zsock_wait (keys->auth);
}

static void
s_keys_destroy (s_keys_t *keys)
{
    zactor_destroy (&keys->auth);
    zaio_test_rmtree (keys->dir);
    zstr_free (&keys->dir);
    zstr_free (&keys->allowed);
    zstr_free (&keys->broker);
    zstr_free (&keys->alice);
    zstr_free (&keys->mallory);
    zstr_free (&keys->impostor);
}

//  The scripted broker as a CURVE server with the broker's certificate.
static void
s_fake_curve (fake_broker_t *fake, const s_keys_t *keys)
{
    fake_start (fake, 100, 0);
    char command[512];
    snprintf (command, sizeof command, "CURVE %s", keys->broker);
    fake_command (fake, command);
}

static zaio_client_t *
s_client (const char *endpoint)
{
    zaio_client_t *client = zaio_client_new (endpoint);
    assert (client);
    zaio_client_set_timeout (client, S_CALL_TIMEOUT_MS);
    return client;
}

//  A ping's error, and how long it took in *msecs.
static int
s_ping (zaio_client_t *client, int64_t *msecs)
{
    int64_t start = zclock_mono ();
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    int rc = zaio_call_wait (call, -1);
    assert (rc == 0);
    *msecs = zclock_mono () - start;
    int error = zaio_call_error (call);
    if (error) printf ("ping: %s: %s\n", zaio_errname (error), zaio_call_message (call));
    zaio_call_destroy (&call);
    return error;
}

static void
s_test_allowed_client_works (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    fake_broker_t fake;
    s_fake_curve (&fake, &keys);
    zaio_client_t *client = s_client (fake.endpoint);
    //  Either half may name PATH or PATH_secret.
    char *secret = zsys_sprintf ("%s_secret", keys.alice);
    assert (zaio_client_set_curve (client, keys.broker, secret) == 0);
    int64_t msecs;
    assert (s_ping (client, &msecs) == 0);
    zaio_hello_t hello;
    assert (zaio_client_hello (client, &hello) == 0);
    assert (zaio_client_stat (client, "a", &(zaio_stat_t){0}) == 0);
    zaio_client_destroy (&client);

    client = s_client (fake.endpoint);
    assert (zaio_client_set_curve (client, secret, keys.alice) == 0); //  the public half is read
    zaio_client_destroy (&client);
    zstr_free (&secret);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

static void
s_test_unknown_key_is_auth_at_once (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    fake_broker_t fake;
    s_fake_curve (&fake, &keys);
    zaio_client_t *client = s_client (fake.endpoint);
    assert (zaio_client_set_curve (client, keys.broker, keys.mallory) == 0);
    int64_t msecs;
    assert (s_ping (client, &msecs) == ZAIO_ERR_AUTH);
    assert (msecs < S_FAST_MS);
    //  Every call waiting for the connection fails with it, callbacks too.
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_STAT, "x");
    zaio_call_t *calls[3];
    for (int i = 0; i < 3; i++) calls[i] = zaio_client_start (client, &req, NULL);
    for (int i = 0; i < 3; i++) {
        assert (zaio_call_wait (calls[i], -1) == 0);
        assert (zaio_call_error (calls[i]) == ZAIO_ERR_AUTH);
        assert (strstr (zaio_call_message (calls[i]), "refused this key"));
        zaio_call_destroy (&calls[i]);
    }
    assert (fake_query (&fake, "RECEIVED") == 0);
    assert (streq (zaio_errname (ZAIO_ERR_AUTH), "AUTH"));
    assert (strstr (zaio_strerror (ZAIO_ERR_AUTH), "refused"));

    //  Refusal is not for good: once the broker knows the key, the next
    //  call gets in. (zauth rereads its directory when it changes.)
    s_allow (&keys, keys.mallory, "mallory");
    int64_t until = zclock_mono () + 10000;
    while (s_ping (client, &msecs) == ZAIO_ERR_AUTH) {
        assert (zclock_mono () < until);
        zclock_sleep (100); //  the directory's mtime has a coarse grain
    }
    assert (s_ping (client, &msecs) == 0);
    zaio_client_destroy (&client);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

static void
s_test_wrong_server_key_is_auth_after_the_retries (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    fake_broker_t fake;
    s_fake_curve (&fake, &keys);
    zaio_client_t *client = s_client (fake.endpoint);
    zaio_client_set_retries (client, 2);
    assert (zaio_client_set_curve (client, keys.impostor, keys.alice) == 0);
    //  The broker cannot open our HELLO and hangs up; ZeroMQ tells us
    //  nothing more. Hung up on at every attempt, that is AUTH, and the
    //  message says what to check.
    int64_t start = zclock_mono ();
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, -1) == 0);
    assert (zaio_call_error (call) == ZAIO_ERR_AUTH);
    assert (strstr (zaio_call_message (call), "public key"));
    assert (zclock_mono () - start < S_FAST_MS);
    zaio_call_destroy (&call);
    assert (fake_query (&fake, "RECEIVED") == 0);
    zaio_client_destroy (&client);

    //  A broker that is not there is UNREACHABLE, CURVE or not.
    fake_command (&fake, "GONE");
    client = s_client (fake.endpoint);
    zaio_client_set_retries (client, 1);
    assert (zaio_client_set_curve (client, keys.broker, keys.alice) == 0);
    int64_t msecs;
    assert (s_ping (client, &msecs) == ZAIO_ERR_UNREACHABLE);
    zaio_client_destroy (&client);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

static void
s_test_mechanism_mismatch_is_auth (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    //  CURVE against a plain broker: it cannot prove who it is.
    fake_broker_t fake;
    fake_start (&fake, 100, 0);
    zaio_client_t *client = s_client (fake.endpoint);
    assert (zaio_client_set_curve (client, keys.broker, keys.alice) == 0);
    int64_t msecs;
    zaio_call_t *call = NULL;
    assert (s_ping (client, &msecs) == ZAIO_ERR_AUTH);
    assert (msecs < S_FAST_MS);
    zaio_client_destroy (&client);
    fake_stop (&fake);

    //  Plain against a CURVE broker: it lets nobody in without a key.
    //  AUTH when ZeroMQ reports the mismatch; but the broker's end of the
    //  refused handshake may reset the connection before the client has
    //  read its greeting, and then every attempt looks like a hang-up,
    //  which a plain client cannot tell from a broker gone: UNREACHABLE
    //  after its retries.
    s_fake_curve (&fake, &keys);
    client = s_client (fake.endpoint);
    zaio_client_set_retries (client, 3);
    zaio_client_set_retry_ms (client, 0);
    zaio_request_t req;
    fake_request (&req, ZAIO_OP_PING, NULL);
    call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, -1) == 0);
    int plain_error = zaio_call_error (call);
    assert (plain_error == ZAIO_ERR_AUTH || plain_error == ZAIO_ERR_UNREACHABLE);
    assert (plain_error != ZAIO_ERR_AUTH || strstr (zaio_call_message (call), "requires CURVE"));
    zaio_call_destroy (&call);
    assert (fake_query (&fake, "RECEIVED") == 0);
    zaio_client_destroy (&client);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

//  Keys set while connected apply at once, to a fresh connection: a
//  client that pinged a plain broker, given keys, is refused by it.
static void
s_test_keys_apply_to_a_live_connection (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    fake_broker_t fake;
    fake_start (&fake, 100, 0);
    zaio_client_t *client = s_client (fake.endpoint);
    int64_t msecs;
    assert (s_ping (client, &msecs) == 0);
    assert (zaio_client_set_curve (client, keys.broker, keys.alice) == 0);
    assert (s_ping (client, &msecs) == ZAIO_ERR_AUTH);
    zaio_client_destroy (&client);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

static void
s_test_bad_certificate_files_are_refused (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    fake_broker_t fake;
    fake_start (&fake, 100, 0);
    zaio_client_t *client = s_client (fake.endpoint);
    char *missing = zsys_sprintf ("%s/nobody", keys.dir);
    char *junk = zsys_sprintf ("%s/junk", keys.dir);
    char *public_only = zsys_sprintf ("%s/alice", keys.allowed);
    zaio_test_write_file (keys.dir, "junk", "not a certificate\n", 18);

    errno = 0;
    assert (zaio_client_set_curve (client, missing, keys.alice) == -1 && errno == ENOENT);
    assert (zaio_client_set_curve (client, keys.broker, missing) == -1 && errno == ENOENT);
    assert (zaio_client_set_curve (client, junk, keys.alice) == -1 && errno == EINVAL);
    //  Our own certificate must hold the secret key.
    assert (zaio_client_set_curve (client, keys.broker, public_only) == -1 && errno == EINVAL);
    if (geteuid () != 0) { //  root reads any file
        char *secret = zsys_sprintf ("%s_secret", keys.alice);
        chmod (secret, 0);
        assert (zaio_client_set_curve (client, keys.broker, keys.alice) == -1 && errno == EACCES);
        chmod (secret, 0600);
        zstr_free (&secret);
    }
    //  Nothing changed: the client still talks plain.
    int64_t msecs;
    assert (s_ping (client, &msecs) == 0);

    zaio_watch_t *watch = zaio_watch_new (fake.endpoint);
    assert (zaio_watch_set_curve (watch, keys.broker, missing) == -1 && errno == ENOENT);
    assert (zaio_watch_set_curve (watch, keys.broker, public_only) == -1 && errno == EINVAL);
    zaio_watch_destroy (&watch);
    zstr_free (&missing);
    zstr_free (&junk);
    zstr_free (&public_only);
    zaio_client_destroy (&client);
    fake_stop (&fake);
    s_keys_destroy (&keys);
}

//  A PUB like the broker's events endpoint, CURVE with the broker's keys.
static zsock_t *
s_curve_pub (const s_keys_t *keys, char **endpoint_p)
{
    zsock_t *pub = zsock_new (ZMQ_PUB);
    assert (pub);
    zcert_t *cert = zcert_load (keys->broker);
    zcert_apply (cert, pub);
    zcert_destroy (&cert);
    zsock_set_curve_server (pub, 1);
    zsock_set_zap_domain (pub, "events");
    int port = zsock_bind (pub, "tcp://127.0.0.1:*");
    assert (port > 0);
    *endpoint_p = zsys_sprintf ("tcp://127.0.0.1:%d", port);
    return pub;
}

//  Publish one event as the broker does: topic, signature, body.
static void
s_publish (zsock_t *pub, uint64_t seq)
{
    zaio_event_t event;
    memset (&event, 0, sizeof event);
    event.seq = seq;
    event.op = ZAIO_OP_STAT;
    snprintf (event.path, sizeof event.path, "p");
    snprintf (event.volume, sizeof event.volume, "default");
    char topic[128];
    zaio_event_topic (&event, topic, sizeof topic);
    zframe_t *body = zaio_event_encode (&event);
    assert (body);
    zsock_send (pub, "ssf", topic, ZAIO_SIGNATURE, body);
    zframe_destroy (&body);
}

static void
s_test_watch_over_curve (void)
{
    s_keys_t keys;
    s_keys_new (&keys);
    char *endpoint;
    zsock_t *pub = s_curve_pub (&keys, &endpoint);
    zaio_watch_t *watch = zaio_watch_new (endpoint);
    assert (watch);
    assert (zaio_watch_subscribe (watch, "") == 0);
    assert (zaio_watch_set_curve (watch, keys.broker, keys.alice) == 0);
    //  A subscription takes a moment to reach the PUB: publish until one
    //  event arrives.
    zaio_event_t event;
    uint64_t seq = 0;
    int64_t until = zclock_mono () + 10000;
    do {
        assert (zclock_mono () < until);
        s_publish (pub, ++seq);
    } while (zaio_watch_recv (watch, &event, 100));
    assert (event.seq >= 1 && event.op == ZAIO_OP_STAT);
    assert (zaio_watch_error (watch) == 0);
    zaio_watch_destroy (&watch);

    //  A stranger is refused: AUTH, and recv gives up at once.
    watch = zaio_watch_new (endpoint);
    assert (zaio_watch_subscribe (watch, "") == 0);
    assert (zaio_watch_set_curve (watch, keys.broker, keys.mallory) == 0);
    int64_t start = zclock_mono ();
    assert (zaio_watch_recv (watch, &event, S_CALL_TIMEOUT_MS) == -1);
    assert (zclock_mono () - start < S_FAST_MS);
    assert (zaio_watch_error (watch) == ZAIO_ERR_AUTH);
    assert (zaio_watch_recv (watch, &event, S_CALL_TIMEOUT_MS) == -1);
    zaio_watch_destroy (&watch);

    //  The wrong server key: the publisher hangs up on every handshake.
    watch = zaio_watch_new (endpoint);
    assert (zaio_watch_subscribe (watch, "") == 0);
    assert (zaio_watch_set_curve (watch, keys.impostor, keys.alice) == 0);
    start = zclock_mono ();
    assert (zaio_watch_recv (watch, &event, S_CALL_TIMEOUT_MS) == -1);
    assert (zclock_mono () - start < S_FAST_MS);
    assert (zaio_watch_error (watch) == ZAIO_ERR_AUTH);
    zaio_watch_destroy (&watch);

    //  Plain against the CURVE publisher: AUTH too.
    watch = zaio_watch_new (endpoint);
    assert (zaio_watch_subscribe (watch, "") == 0);
    assert (zaio_watch_recv (watch, &event, S_CALL_TIMEOUT_MS) == -1);
    assert (zaio_watch_error (watch) == ZAIO_ERR_AUTH);
    zaio_watch_destroy (&watch);

    zstr_free (&endpoint);
    zsock_destroy (&pub);
    s_keys_destroy (&keys);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_allowed_client_works),
        ZAIO_TEST_CASE (s_test_unknown_key_is_auth_at_once),
        ZAIO_TEST_CASE (s_test_wrong_server_key_is_auth_after_the_retries),
        ZAIO_TEST_CASE (s_test_mechanism_mismatch_is_auth),
        ZAIO_TEST_CASE (s_test_keys_apply_to_a_live_connection),
        ZAIO_TEST_CASE (s_test_bad_certificate_files_are_refused),
        ZAIO_TEST_CASE (s_test_watch_over_curve),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
