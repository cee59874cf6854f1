/*  zaio-broker: the broker as a daemon. A thin wrapper over zaio_broker_new. */

#include "zaio_broker.h"
#include "zaio_log.h"
#include "zaio_broker_config.h"
#include "zaio_proto.h"
#include "zaio_worker_proto.h"

#include "zaio_daemon.h"
#include "zaio_metrics.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zaio-broker [OPTIONS]\n"
             "\n"
             "Serve file IO over ZeroMQ (protocol ZAIO/1, see schemas/PROTOCOL.md).\n"
             "\n"
             "  -R, --root DIR          directory served as volume 'default' (created)\n"
             "                          [./zaio-root]\n"
             "  -b, --bind ENDPOINT     client endpoint, repeatable; inproc, ipc and tcp\n"
             "                          [ipc:///tmp/zaio.ipc, tcp://127.0.0.1:5670]\n"
             "  -e, --events ENDPOINT   completion event PUB endpoint, repeatable\n"
             "                          [ipc:///tmp/zaio-events.ipc, tcp://127.0.0.1:5671]\n"
             "  -W, --worker-bind EP    endpoint for remote zaio-worker processes, repeatable\n"
             "                          [none]\n"
             "  -w, --workers N         local worker threads [number of CPUs]\n"
             "      --worker-credit N   jobs each local worker holds at once [64]\n"
             "      --queue-max N       jobs accepted (queued + running) in all [65536];\n"
             "                          a client gets one only while it has fewer than\n"
             "                          twice the room left\n"
             "      --queue-bytes-max BYTES  request data held for jobs not yet running\n"
             "                          [1073741824]\n"
             "      --inflight-max N    jobs accepted per client, with its replies held\n"
             "                          [16384]; above 2/3 of --queue-max, a client alone\n"
             "                          meets its share of the queue first\n"
             "      --reply-hwm N       replies queued to a client before the rest are held\n"
             "                          and its jobs wait until it reads [128]\n"
             "      --payload-max BYTES largest data frame and read [67108864]\n"
             "      --heartbeat-ms MS   remote worker heartbeat interval [1000]\n"
             "      --heartbeat-misses N  silent intervals before a worker is dead [3]\n"
             "      --drain-ms MS       longest wait for running jobs at shutdown [10000]\n"
             "\n"
             "Trust (see README.md, Security):\n"
             "      --curve-cert FILE   the broker's secret certificate (zaio keygen): every\n"
             "                          tcp endpoint then requires CURVE\n"
             "      --client-certs DIR  certificates of the clients and event subscribers\n"
             "                          admitted over CURVE [none]\n"
             "      --worker-certs DIR  certificates of the workers admitted [none]\n"
             "      --insecure          allow tcp without CURVE on addresses other than\n"
             "                          loopback (refused otherwise)\n"
             "      --ipc-mode MODE     file mode of ipc socket files [0660]\n"
             "      --handshake-ms MS   longest handshake of a new connection [5000]\n"
             "      --nolinks           refuse files of the root with more than one hard link\n"
             "                          (a link to a file outside it would reach that file)\n"
             "      --tmp-max-age S     at start, remove writefile temporary files of the\n"
             "                          root older than S seconds, whoever made them (0:\n"
             "                          none by age); those of this host's dead processes\n"
             "                          go at any age [3600]\n"
             "  Grants per certificate name go in the config file (section grants).\n"
             "      --metrics-bind ADDR:PORT\n"
             "                          serve Prometheus metrics at http://ADDR:PORT/metrics\n"
             "                          (config metrics_bind); loopback only unless\n"
             "                          --insecure; port 0 picks a free one [none]\n"
             "\n"
             "  -C, --config FILE       ZPL settings file (czmq zconfig); flags override it.\n"
             "                          Every key, with its default: the example\n"
             "                          zaio-broker.cfg (dist/config/), zaio-broker(8).\n"
             "                          An unknown key is an error naming it and its line:\n"
             "                            broker\n"
             "                                root = /srv/data\n"
             "                                workers = 8\n"
             "                                bind\n"
             "                                    tcp = tcp://0.0.0.0:5670\n"
             "      --log-format FORMAT text (one line per event) or json (one object per\n"
             "                          line, for log shippers) [text]\n"
             "      --verbose           log every rejected request and worker change\n"
             "                          (without it: a sample of rejected requests, at\n"
             "                          most one line a second per error, with a count)\n"
             "  -V, --version           print 'zaio-broker VERSION' and exit\n"
             "  -h, --help              this help\n"
             "\n"
             "On start, prints one line per bound endpoint ('client tcp://...', 'events ...',\n"
             "'workers ...') and then 'ready' on stdout (and READY=1 to systemd, under a\n"
             "Type=notify unit). A tcp port of * picks a free port. SIGINT/SIGTERM stop\n"
             "accepting work (STOPPING=1), answer queued jobs SHUTDOWN, let running jobs\n"
             "finish, and exit 0. Exit status 1: could not start; 2: usage error.\n");
}

//  Adds to a NULL-terminated endpoint list; the first use replaces defaults.
static void
s_add_endpoint (const char **list, bool *replaced, const char *endpoint)
{
    if (!*replaced) {
        list[0] = NULL;
        *replaced = true;
    }
    size_t count = 0;
    while (list[count]) count++;
    if (count == ZAIO_BROKER_ENDPOINTS_MAX) {
        fprintf (stderr, "zaio-broker: at most %d endpoints of a kind\n",
                 ZAIO_BROKER_ENDPOINTS_MAX);
        exit (2);
    }
    list[count] = endpoint;
    list[count + 1] = NULL;
}

//  The short options, each with the meaning it has in all three binaries.
#define S_SHORT_OPTIONS "R:b:e:W:w:C:" ZAIO_DAEMON_SHORT_OPTIONS

//  zaio-broker's long options, in the order getopt_long names them when an
//  abbreviation is ambiguous.
enum {
    S_OPT_CREDIT = 256,
    S_OPT_QUEUE,
    S_OPT_QUEUE_BYTES,
    S_OPT_INFLIGHT,
    S_OPT_REPLY_HWM,
    S_OPT_CURVE_CERT,
    S_OPT_CLIENT_CERTS,
    S_OPT_WORKER_CERTS,
    S_OPT_INSECURE,
    S_OPT_IPC_MODE,
    S_OPT_HANDSHAKE,
    S_OPT_NOLINKS,
    S_OPT_TMP_MAX_AGE,
    S_OPT_METRICS_BIND
};

static const struct option s_long_options[] = {
    {"root", required_argument, NULL, 'R'},
    {"bind", required_argument, NULL, 'b'},
    {"events", required_argument, NULL, 'e'},
    {"worker-bind", required_argument, NULL, 'W'},
    {"workers", required_argument, NULL, 'w'},
    {"worker-credit", required_argument, NULL, S_OPT_CREDIT},
    {"queue-max", required_argument, NULL, S_OPT_QUEUE},
    {"queue-bytes-max", required_argument, NULL, S_OPT_QUEUE_BYTES},
    {"inflight-max", required_argument, NULL, S_OPT_INFLIGHT},
    {"reply-hwm", required_argument, NULL, S_OPT_REPLY_HWM},
    {"curve-cert", required_argument, NULL, S_OPT_CURVE_CERT},
    {"client-certs", required_argument, NULL, S_OPT_CLIENT_CERTS},
    {"worker-certs", required_argument, NULL, S_OPT_WORKER_CERTS},
    {"insecure", no_argument, NULL, S_OPT_INSECURE},
    {"ipc-mode", required_argument, NULL, S_OPT_IPC_MODE},
    {"handshake-ms", required_argument, NULL, S_OPT_HANDSHAKE},
    {"nolinks", no_argument, NULL, S_OPT_NOLINKS},
    {"tmp-max-age", required_argument, NULL, S_OPT_TMP_MAX_AGE},
    {"metrics-bind", required_argument, NULL, S_OPT_METRICS_BIND},
    ZAIO_DAEMON_SHARED_OPTIONS,
    {"config", required_argument, NULL, 'C'},
    ZAIO_DAEMON_LAST_OPTIONS};

//  A trust option into config. Exits 2 on a bad mode.
static void
s_trust_option (int option, zaio_broker_config_t *config)
{
    switch (option) {
        case S_OPT_CURVE_CERT:
            config->curve_cert = optarg;
            break;
        case S_OPT_CLIENT_CERTS:
            config->client_certs = optarg;
            break;
        case S_OPT_WORKER_CERTS:
            config->worker_certs = optarg;
            break;
        case S_OPT_INSECURE:
            config->insecure = true;
            break;
        case S_OPT_IPC_MODE:
            if (zaio_broker_config_mode (optarg, &config->ipc_mode)) {
                fprintf (stderr, "zaio-broker: bad --ipc-mode '%s' (octal, e.g. 0660)\n", optarg);
                exit (2);
            }
            break;
        case S_OPT_NOLINKS:
            config->nolinks = true;
            break;
        case S_OPT_TMP_MAX_AGE:
            config->tmp_max_age_s =
                (uint32_t)zaio_daemon_number ("--tmp-max-age", optarg, 0, UINT32_MAX);
            break;
        case S_OPT_METRICS_BIND:
            config->metrics_bind = optarg;
            break;
        case S_OPT_HANDSHAKE:
            config->handshake_ms =
                (uint32_t)zaio_daemon_number ("--handshake-ms", optarg, 100, 3600000);
            break;
    }
}

//  The command line's flags into config, over what the config file said
//  (-C is skipped here: main loaded it first). Exits as zaio_daemon_option
//  says. Returns 0, or -1 after printing the usage for an operand.
static int
s_options (int argc, char **argv, zaio_broker_config_t *config)
{
    zaio_daemon_args_t args = {S_SHORT_OPTIONS,
                               s_long_options,
                               s_usage,
                               {&config->payload_max, &config->heartbeat_ms,
                                &config->heartbeat_misses, &config->drain_ms, &config->verbose,
                                &config->log_format}};
    bool bind_set = false, events_set = false, workers_set = false;
    int option;
    while ((option = zaio_daemon_option (argc, argv, &args)) != -1) {
        switch (option) {
            case 'R':
                config->root = optarg;
                break;
            case 'b':
                s_add_endpoint (config->bind, &bind_set, optarg);
                break;
            case 'e':
                s_add_endpoint (config->events, &events_set, optarg);
                break;
            case 'W':
                s_add_endpoint (config->worker_bind, &workers_set, optarg);
                break;
            case 'w':
                config->workers = (uint32_t)zaio_daemon_number ("--workers", optarg, 1, 1024);
                break;
            case S_OPT_CREDIT:
                config->worker_credit =
                    (uint32_t)zaio_daemon_number ("--worker-credit", optarg, 1, ZAIO_CREDIT_MAX);
                break;
            case S_OPT_QUEUE:
                config->queue_max =
                    (uint32_t)zaio_daemon_number ("--queue-max", optarg, 1, 1u << 30);
                break;
            case S_OPT_QUEUE_BYTES:
                config->queue_bytes_max =
                    (size_t)zaio_daemon_number ("--queue-bytes-max", optarg, 1, 1ull << 40);
                break;
            case S_OPT_INFLIGHT:
                config->inflight_max =
                    (uint32_t)zaio_daemon_number ("--inflight-max", optarg, 1, 1u << 30);
                break;
            case S_OPT_REPLY_HWM:
                config->reply_hwm =
                    (uint32_t)zaio_daemon_number ("--reply-hwm", optarg, 1, 1u << 30);
                break;
            case 'C':
                break; //  already loaded
            default:
                s_trust_option (option, config);
        }
    }
    if (optind < argc) {
        fprintf (stderr, "zaio-broker: unexpected argument '%s'\n", argv[optind]);
        s_usage (stderr);
        return -1;
    }
    return 0;
}

int
main (int argc, char *argv[])
{
    zaio_daemon_init ("zaio-broker"); //  first: before any thread, for the signal mask
    //  The config file is read first so that flags override it.
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    zconfig_t *zconfig = NULL;
    const char *config_path = zaio_daemon_early (argc, argv, S_SHORT_OPTIONS, s_long_options);
    if (config_path && zaio_broker_config_load (&config, config_path, &zconfig)) {
        zaio_log_error ("daemon", "not started: bad config file %s", config_path);
        return 1;
    }
    //  The file's log format, unless the command line gives one.
    zaio_log_format_t log_format;
    if (config.log_format && zaio_log_format_parse (config.log_format, &log_format) == 0)
        zaio_daemon_log_format (log_format);
    char why[512];
    if (s_options (argc, argv, &config)) {
        zconfig_destroy (&zconfig);
        return 2;
    }
    if (config.metrics_bind &&
        zaio_metrics_check (config.metrics_bind, config.insecure, why, sizeof why)) {
        fprintf (stderr, "zaio-broker: %s\n", why);
        zconfig_destroy (&zconfig);
        return 2;
    }

    zactor_t *broker = zaio_broker_new (&config);
    zconfig_destroy (&zconfig);
    if (!broker) {
        zaio_log_error ("daemon", "could not start (see the lines above)");
        return 1;
    }
    zlist_t *endpoints = zaio_broker_endpoints (broker);
    int signal_number = zaio_daemon_ready (&endpoints);
    zaio_log_info ("broker", "%s, draining", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    zaio_broker_destroy (&broker);
    zsys_shutdown ();
    return 0;
}
