/*  test_broker_config: a ZPL settings file is laid over the defaults, and a
    bad or missing one is refused with a clear message; a broker warns when
    the fair share caps a lone client below inflight_max. */

#include "testutil.h"

#include <string.h>

static char *
s_write_config (const char *dir, const char *text)
{
    zaio_test_write_file (dir, "zaio.cfg", text, strlen (text));
    return zsys_sprintf ("%s/zaio.cfg", dir);
}

//  Starts and stops a broker with these bounds, its log in a file; true if
//  it warned that inflight_max is above a lone client's fair share.
static bool
s_warns_of_fair_share (const char *dir, uint32_t queue_max, uint32_t inflight_max)
{
    FILE *log = zaio_test_log_catch ();
    char *endpoint = zsys_sprintf ("inproc://zaio-test-config-%u", inflight_max);
    zaio_broker_config_t config;
    zaio_test_single_config (&config, dir, endpoint);
    config.queue_max = queue_max;
    config.inflight_max = inflight_max;
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    zaio_broker_destroy (&broker);
    char *text = zaio_test_log_release (&log);
    zstr_free (&endpoint);
    bool warned = strstr (text, "fair share of queue_max") != NULL;
    free (text);
    return warned;
}

//  A full file: every setting it names is taken, the rest stay default.
static void
s_test_file_over_defaults (void)
{
    char *dir = zaio_test_tempdir ("config");
    zaio_broker_config_t config;
    char *path = s_write_config (dir, "broker\n"
                                      "    root = /srv/data\n"
                                      "    workers = 8\n"
                                      "    queue_max = 100\n"
                                      "    queue_bytes_max = 5000000\n"
                                      "    reply_hwm = 10\n"
                                      "    payload_max = 1048576\n"
                                      "    heartbeat_ms = 250\n"
                                      "    held_bytes_max = 65536\n"
                                      "    bind\n"
                                      "        a = tcp://127.0.0.1:7000\n"
                                      "        b = ipc:///tmp/x.ipc\n"
                                      "    events\n"
                                      "        a = tcp://127.0.0.1:7001\n");
    zaio_broker_config_defaults (&config);
    zconfig_t *zconfig = NULL;
    assert (zaio_broker_config_load (&config, path, &zconfig) == 0);
    assert (streq (config.root, "/srv/data"));
    assert (config.workers == 8 && config.queue_max == 100);
    assert (config.queue_bytes_max == 5000000 && config.reply_hwm == 10);
    assert (config.payload_max == 1048576 && config.heartbeat_ms == 250);
    assert (config.inflight_max == 16384 && config.heartbeat_misses == 3); //  defaults
    assert (config.held_bytes_max == 65536 && config.held_bytes_total == 64u * 1024 * 1024);
    assert (config.volume_forget_ms == 300000);
    assert (streq (config.bind[0], "tcp://127.0.0.1:7000"));
    assert (streq (config.bind[1], "ipc:///tmp/x.ipc") && config.bind[2] == NULL);
    assert (streq (config.events[0], "tcp://127.0.0.1:7001") && config.events[1] == NULL);
    zconfig_destroy (&zconfig);
    zstr_free (&path);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  Bad values are refused, and so is a missing file.
static void
s_test_bad_or_missing_file_refused (void)
{
    char *dir = zaio_test_tempdir ("config");
    zaio_broker_config_t config;
    zconfig_t *zconfig = NULL;
    const char *bad[] = {"broker\n    workers = many\n",
                         "broker\n    queue_max = 0\n",
                         "broker\n    payload_max = 99999999999999\n",
                         "broker\n    heartbeat_ms = -5\n",
                         "broker\n    workers = 12abc\n",
                         "broker\n    reply_hwm = 0\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = s_write_config (dir, bad[i]);
        zaio_broker_config_defaults (&config);
        assert (zaio_broker_config_load (&config, path, &zconfig) == -1);
        assert (zconfig == NULL);
        zstr_free (&path);
    }
    zaio_broker_config_defaults (&config);
    assert (zaio_broker_config_load (&config, "/nonexistent/zaio.cfg", &zconfig) == -1);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  A key the broker does not know is an error that names the key and its
//  line, wherever it is (a typo at the top level, in broker, or below a
//  list); every key of the example file dist/config/zaio-broker.cfg is
//  known (test_broker_service starts a broker from it).
static void
s_test_unknown_key_named (void)
{
    char *dir = zaio_test_tempdir ("config");
    struct {
        const char *text, *said;
    } cases[] = {
        {"broker\n    root = /srv\n\n    # a comment\n    wrokers = 8\n",
         "zaio.cfg:5: unknown key 'broker/wrokers'"},
        {"brokers\n    root = /srv\n", "zaio.cfg:1: unknown key 'brokers'"},
        {"broker\n    bind\n        a = tcp://127.0.0.1:1\n            deeper = 1\n",
         "zaio.cfg:4: unknown key 'broker/bind/a/deeper'"},
        {"broker\n    log_format = xml\n", "broker/log_format = 'xml' is not text or json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = s_write_config (dir, cases[i].text);
        zaio_broker_config_t config;
        zaio_broker_config_defaults (&config);
        zconfig_t *zconfig = NULL;
        FILE *log = zaio_test_log_catch ();
        int rc = zaio_broker_config_load (&config, path, &zconfig);
        char *text = zaio_test_log_release (&log);
        if (rc != -1 || !strstr (text, cases[i].said))
            fprintf (stderr, "case %zu: rc %d, log: %s\n", i, rc, text);
        assert (rc == -1 && strstr (text, cases[i].said) && zconfig == NULL);
        free (text);
        zstr_free (&path);
    }
    //  Known keys, grants' own included, and the settings of logs.
    char *path = s_write_config (dir, "broker\n"
                                      "    log_format = json\n"
                                      "    verbose = 1\n"
                                      "    worker_bind\n"
                                      "        tcp = tcp://127.0.0.1:7002\n"
                                      "grants\n"
                                      "    client\n"
                                      "        alice\n"
                                      "            monitor = 1\n");
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    zconfig_t *zconfig = NULL;
    assert (zaio_broker_config_load (&config, path, &zconfig) == 0);
    assert (streq (config.log_format, "json") && config.verbose);
    assert (streq (config.worker_bind[0], "tcp://127.0.0.1:7002"));
    zconfig_destroy (&zconfig);
    zstr_free (&path);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  An embedded broker's host chooses the log format with log_format: a
//  broker with "json" makes the process's lines JSON objects, one with
//  "text" makes them text again, and one with a format it does not know
//  does not start.
static void
s_test_embedded_log_format (void)
{
    char *dir = zaio_test_tempdir ("config");
    zaio_broker_config_t config;
    zaio_test_single_config (&config, dir, "inproc://zaio-test-log-format");
    config.queue_max = 9;
    config.inflight_max = 7; //  warns of the fair share, so the broker logs a line
    config.log_format = "json";
    FILE *log = zaio_test_log_catch ();
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    zaio_broker_destroy (&broker);
    //  A name of its own: libzmq frees an inproc name only once the socket
    //  that bound it has been reaped.
    config.bind[0] = "inproc://zaio-test-log-format-text";
    config.log_format = "text";
    broker = zaio_broker_new (&config);
    assert (broker);
    zaio_broker_destroy (&broker);
    config.log_format = "yaml";
    assert (zaio_broker_new (&config) == NULL);
    char *text = zaio_test_log_release (&log);
    assert (strstr (text, "{\"ts\":\"") && strstr (text, "\"component\":\"config\""));
    assert (strstr (text, " WARN zaio config: inflight_max 7"));
    assert (strstr (text, "log_format 'yaml' is not text or json"));
    free (text);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  The trust settings come from the file too; grants are read when the
//  broker starts, and one that is not valid stops it.
static void
s_test_trust_settings (void)
{
    char *dir = zaio_test_tempdir ("config");
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    zconfig_t *zconfig = NULL;
    char *path = s_write_config (dir, "broker\n"
                                      "    curve_cert = /etc/zaio/broker_secret\n"
                                      "    client_certs = /etc/zaio/clients\n"
                                      "    worker_certs = /etc/zaio/workers\n"
                                      "    insecure = 1\n"
                                      "    ipc_mode = 0600\n"
                                      "    handshake_ms = 2000\n"
                                      "grants\n"
                                      "    client\n"
                                      "        alice\n"
                                      "            monitor = 1\n");
    assert (zaio_broker_config_load (&config, path, &zconfig) == 0);
    assert (streq (config.curve_cert, "/etc/zaio/broker_secret"));
    assert (streq (config.client_certs, "/etc/zaio/clients"));
    assert (streq (config.worker_certs, "/etc/zaio/workers"));
    assert (config.insecure && config.ipc_mode == 0600 && config.handshake_ms == 2000);
    assert (config.grants && zconfig_locate (config.grants, "client/alice"));
    zconfig_destroy (&zconfig);
    zstr_free (&path);
    const char *bad_files[] = {"broker\n    ipc_mode = 999\n", "broker\n    insecure = 2\n",
                               "broker\n    handshake_ms = 5\n"};
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        path = s_write_config (dir, bad_files[i]);
        zaio_broker_config_defaults (&config);
        assert (zaio_broker_config_load (&config, path, &zconfig) == -1);
        zstr_free (&path);
    }
    const char *bad_grants[] = {
        "grants\n    client\n        alice\n            volumes\n                default = rx\n",
        "grants\n    client\n        alice\n            write = 1\n",
        "grants\n    client\n        alice\n            monitor = yes\n",
        "grants\n    worker\n        w\n            volumes\n                photos = rw\n",
        "grants\n    client\n        alice\n            volumes\n                bad/name = ro\n",
        "grants\n    clients\n        alice\n",
        "grants\n    client\n        a&b\n            monitor = 1\n"};
    for (size_t i = 0; i < sizeof bad_grants / sizeof bad_grants[0]; i++) {
        zconfig_t *root = zconfig_str_load (bad_grants[i]);
        assert (root);
        zaio_test_single_config (&config, dir, "inproc://zaio-test-grants");
        config.grants = zconfig_locate (root, "grants");
        zactor_t *broker = zaio_broker_new (&config);
        if (broker) fprintf (stderr, "accepted: %s", bad_grants[i]);
        assert (broker == NULL);
        zconfig_destroy (&root);
    }
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  A broker does not start with a certificate that has no secret key, a
//  certificate directory that is not one, or a tcp endpoint beyond
//  loopback without CURVE; the daemon says why and exits 1.
static void
s_test_trust_refusals (void)
{
    char *dir = zaio_test_tempdir ("config");
    zcert_t *cert = zcert_new ();
    char *secret = zsys_sprintf ("%s/broker", dir);
    char *public_only = zsys_sprintf ("%s/public", dir);
    assert (zcert_save (cert, secret) == 0 && zcert_save_public (cert, public_only) == 0);
    zaio_broker_config_t config;
    zaio_test_single_config (&config, dir, "inproc://zaio-test-trust");
    config.curve_cert = public_only;
    assert (zaio_broker_new (&config) == NULL);
    config.curve_cert = secret;
    config.client_certs = "/nonexistent/clients";
    assert (zaio_broker_new (&config) == NULL);
    config.client_certs = dir;
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    zaio_broker_destroy (&broker);
    char *command = zsys_sprintf ("%s/broker/zaio-broker --root %s --bind 'tcp://0.0.0.0:*' "
                                  "--events ipc://%s/e.ipc >/dev/null 2>%s/err",
                                  ZAIO_BINARY_DIR, dir, dir, dir);
    int status = system (command);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 1);
    size_t size;
    char *err = zaio_test_read_file (dir, "err", &size);
    assert (strstr (err, "tcp://0.0.0.0:* is not loopback: give --curve-cert (or --insecure)"));
    free (err);
    zstr_free (&command);
    zcert_destroy (&cert);
    zstr_free (&secret);
    zstr_free (&public_only);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

//  The daemon says so and exits 1; usage errors exit 2.
static void
s_test_daemon_exit_codes (void)
{
    char *command = zsys_sprintf ("%s/broker/zaio-broker --config /nonexistent/zaio.cfg "
                                  ">/dev/null 2>&1",
                                  ZAIO_BINARY_DIR);
    int status = system (command);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 1);
    zstr_free (&command);
    command =
        zsys_sprintf ("%s/broker/zaio-broker --workers lots >/dev/null 2>&1", ZAIO_BINARY_DIR);
    status = system (command);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 2);
    zstr_free (&command);
}

//  A client alone may have two thirds of queue_max accepted, rounded up:
//  6 of 9 (test_broker_queue checks the 6).
static void
s_test_fair_share_warning (void)
{
    char *dir = zaio_test_tempdir ("config");
    assert (!s_warns_of_fair_share (dir, 9, 6));
    assert (s_warns_of_fair_share (dir, 9, 7));
    assert (!s_warns_of_fair_share (dir, 65536, 16384)); //  the defaults
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_file_over_defaults),
        ZAIO_TEST_CASE (s_test_bad_or_missing_file_refused),
        ZAIO_TEST_CASE (s_test_unknown_key_named),
        ZAIO_TEST_CASE (s_test_embedded_log_format),
        ZAIO_TEST_CASE (s_test_trust_settings),
        ZAIO_TEST_CASE (s_test_trust_refusals),
        ZAIO_TEST_CASE (s_test_daemon_exit_codes),
        ZAIO_TEST_CASE (s_test_fair_share_warning),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
