/*  zaio-worker: serve volumes to a remote broker. A thin wrapper over
    zaio_relay_new; see zaio_relay.h. */

#include "zaio_relay.h"
#include "zaio_log.h"
#include "zaio_worker_proto.h"

#include "zaio_curve.h"
#include "zaio_daemon.h"
#include "zaio_sock.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_VOLUMES_MAX 64

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zaio-worker --connect ENDPOINT --volume NAME=DIR[:ro][:nolinks] [OPTIONS]\n"
             "\n"
             "Serve directories as named volumes to a zaio broker, running jobs with a\n"
             "pool of IO threads. Several workers may serve the same volume (from shared\n"
             "storage); the broker spreads its jobs over them.\n"
             "\n"
             "  -c, --connect ENDPOINT  the broker's worker endpoint (its --worker-bind),\n"
             "                          e.g. tcp://10.0.0.1:5672\n"
             "  -V, --volume NAME=DIR   serve DIR as volume NAME, repeatable; append :ro\n"
             "                          to refuse changes (EROFS), :nolinks to refuse files\n"
             "                          with more than one hard link (EMLINK)\n"
             "  -t, --threads N         IO threads [number of CPUs]\n"
             "      --credit N          jobs each thread holds at once [64]\n"
             "      --payload-max BYTES largest read or readfile reply [67108864]\n"
             "      --heartbeat-ms MS   heartbeat interval; match the broker's [1000]\n"
             "      --heartbeat-misses N  silent intervals before the broker is presumed\n"
             "                          gone and the worker reconnects [3]\n"
             "      --drain-ms MS       longest wait for held jobs on SIGTERM [10000]\n"
             "      --tmp-max-age S     at start, remove writefile temporary files older\n"
             "                          than S seconds, whoever made them (0: none by\n"
             "                          age); those of this host's dead processes go\n"
             "                          at any age [3600]\n"
             "  -n, --name NAME         host identity in completion events [hostname]\n"
             "      --curve-cert FILE   this worker's secret CURVE certificate (from zaio\n"
             "                          keygen; FILE or FILE_secret)\n"
             "      --broker-key FILE   the broker's public CURVE certificate; with\n"
             "                          --curve-cert, the connection uses CURVE\n"
             "      --insecure          allow plain tcp to a broker that is not on a\n"
             "                          loopback address (logs a warning)\n"
             "  -v, --verbose           log connections\n"
             "  -h, --help              this help\n"
             "\n"
             "A tcp broker not on a loopback address needs --curve-cert and --broker-key,\n"
             "or --insecure. Prints 'ready' on stdout once started. SIGINT/SIGTERM: take\n"
             "no new jobs, finish held ones, exit 0. Exit status 1: could not start (a\n"
             "volume, a certificate, plain tcp off loopback); 2: usage error.\n");
}

//  Takes suffix (":ro") off the end of dir if it is there; true if it was.
static bool
s_take_suffix (char *dir, const char *suffix)
{
    size_t len = strlen (dir), suffix_len = strlen (suffix);
    if (len <= suffix_len || !streq (dir + len - suffix_len, suffix)) return false;
    dir[len - suffix_len] = 0;
    return true;
}

//  NAME=DIR[:ro][:nolinks] (in either order) into a volume, or exit with
//  a usage error.
static zaio_volume_t *
s_parse_volume (char *spec)
{
    char *equals = strchr (spec, '=');
    if (equals) *equals = 0;
    if (!equals || !zaio_volume_name_valid (spec) || !equals[1]) {
        fprintf (stderr,
                 "zaio-worker: --volume needs NAME=DIR, NAME of letters, digits, '-' "
                 "or '_', not '%s'\n",
                 spec);
        exit (2);
    }
    char *dir = equals + 1;
    bool readonly = false, nolinks = false;
    for (bool more = true; more;) {
        bool ro = s_take_suffix (dir, ":ro"), nl = s_take_suffix (dir, ":nolinks");
        readonly |= ro;
        nolinks |= nl;
        more = ro || nl;
    }
    zaio_volume_t *volume = zaio_volume_new (spec, dir, readonly, false);
    if (!volume) {
        fprintf (stderr, "zaio-worker: cannot serve %s from %s\n", spec, dir);
        exit (1);
    }
    zaio_volume_set_nolinks (volume, nolinks);
    return volume;
}

//  zaio-worker's long options, in the order getopt_long names them when an
//  abbreviation is ambiguous.
enum { S_OPT_CREDIT = 256, S_OPT_CURVE_CERT, S_OPT_BROKER_KEY, S_OPT_INSECURE, S_OPT_TMP_MAX_AGE };
static const struct option s_long_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"volume", required_argument, NULL, 'V'},
    {"threads", required_argument, NULL, 't'},
    {"credit", required_argument, NULL, S_OPT_CREDIT},
    ZAIO_DAEMON_SHARED_OPTIONS,
    {"name", required_argument, NULL, 'n'},
    {"curve-cert", required_argument, NULL, S_OPT_CURVE_CERT},
    {"broker-key", required_argument, NULL, S_OPT_BROKER_KEY},
    {"insecure", no_argument, NULL, S_OPT_INSECURE},
    {"tmp-max-age", required_argument, NULL, S_OPT_TMP_MAX_AGE},
    ZAIO_DAEMON_LAST_OPTIONS};

//  How the worker is to reach its broker safely, from the command line.
typedef struct {
    const char *curve_cert; //  --curve-cert
    const char *broker_key; //  --broker-key
    bool insecure;          //  --insecure
} s_trust_t;

//  --tmp-max-age: see zaio_volume_sweep_temps.
static uint32_t s_tmp_max_age = ZAIO_VOLUME_TEMP_MAX_AGE_S;

//  The command line into config and trust; the volumes it names go to
//  config->volumes (owned by the caller, to destroy). Exits as
//  zaio_daemon_option and s_parse_volume say. Returns 0, or -1 after
//  printing what is wrong.
static int
s_options (int argc, char **argv, zaio_relay_config_t *config, s_trust_t *trust)
{
    zaio_daemon_args_t args = {"c:V:t:n:" ZAIO_DAEMON_SHORT_OPTIONS,
                               s_long_options,
                               s_usage,
                               {&config->payload_max, &config->heartbeat_ms,
                                &config->heartbeat_misses, &config->drain_ms, &config->verbose}};
    int option;
    while ((option = zaio_daemon_option (argc, argv, &args)) != -1) {
        switch (option) {
            case 'c':
                config->broker = optarg;
                break;
            case 'V':
                if (config->volume_count == S_VOLUMES_MAX) {
                    fprintf (stderr, "zaio-worker: at most %d volumes\n", S_VOLUMES_MAX);
                    return -1;
                }
                config->volumes[config->volume_count++] = s_parse_volume (optarg);
                break;
            case 't':
                config->threads =
                    (uint32_t)zaio_daemon_number ("--threads", optarg, 1, ZAIO_CREDIT_MAX);
                break;
            case S_OPT_CREDIT:
                config->credit =
                    (uint32_t)zaio_daemon_number ("--credit", optarg, 1, ZAIO_CREDIT_MAX);
                break;
            case 'n':
                config->name = optarg;
                break;
            case S_OPT_CURVE_CERT:
                trust->curve_cert = optarg;
                break;
            case S_OPT_BROKER_KEY:
                trust->broker_key = optarg;
                break;
            case S_OPT_INSECURE:
                trust->insecure = true;
                break;
            case S_OPT_TMP_MAX_AGE:
                s_tmp_max_age =
                    (uint32_t)zaio_daemon_number ("--tmp-max-age", optarg, 0, UINT32_MAX);
                break;
        }
    }
    if (!trust->curve_cert != !trust->broker_key) {
        fprintf (stderr, "zaio-worker: --curve-cert and --broker-key go together\n");
        return -1;
    }
    if (!config->broker || config->volume_count == 0 || optind < argc) {
        fprintf (stderr, "zaio-worker: --connect and at least one --volume are required\n");
        s_usage (stderr);
        return -1;
    }
    return 0;
}

//  Load the CURVE keys into *keys and point config at them, or, without
//  them, make sure the connection may go plain: a tcp broker that is not
//  on loopback needs --insecure, and gets a warning. Returns 0, or -1
//  after saying why the worker cannot start.
static int
s_trust (const s_trust_t *trust, zaio_relay_config_t *config, zaio_curve_t *keys)
{
    if (trust->curve_cert) {
        const char *which;
        if (zaio_curve_load (keys, trust->broker_key, trust->curve_cert, &which) == 0) {
            config->curve = keys;
            return 0;
        }
        const char *option = which == trust->curve_cert ? "--curve-cert" : "--broker-key";
        if (errno == EINVAL)
            fprintf (stderr, "zaio-worker: %s %s: not a CURVE certificate%s\n", option, which,
                     which == trust->curve_cert ? " with its secret key" : "");
        else
            fprintf (stderr, "zaio-worker: %s %s: cannot read: %s\n", option, which,
                     strerror (errno));
        return -1;
    }
    if (strncmp (config->broker, "tcp://", 6) || zaio_sock_is_loopback (config->broker)) return 0;
    if (!trust->insecure) {
        fprintf (stderr,
                 "zaio-worker: %s is not loopback: give --curve-cert and --broker-key (or "
                 "--insecure)\n",
                 config->broker);
        return -1;
    }
    zaio_log_warning ("relay",
                      "--insecure: jobs and data to and from %s travel in plain tcp, "
                      "readable and forgeable on the way, and anyone may pose as the broker",
                      config->broker);
    return 0;
}

int
main (int argc, char *argv[])
{
    zaio_daemon_init ("zaio-worker"); //  first: before any thread, for the signal mask
    zaio_volume_t *volumes[S_VOLUMES_MAX];
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    zaio_relay_config_t config = {
        .threads = cpus < 1                 ? 1
                   : cpus > ZAIO_CREDIT_MAX ? ZAIO_CREDIT_MAX
                                            : (uint32_t)cpus,
        .credit = 64, //  as the broker's own threads: fewer wake-ups per job
        .payload_max = ZAIO_PAYLOAD_MAX,
        .heartbeat_ms = 1000,
        .heartbeat_misses = 3,
        .drain_ms = 10000,
        .volumes = volumes,
    };
    s_trust_t trust = {NULL, NULL, false};
    int status = s_options (argc, argv, &config, &trust) ? 2 : 0;
    zaio_curve_t keys;
    if (status == 0 && s_trust (&trust, &config, &keys)) status = 1;
    zactor_t *relay = status == 0 ? zaio_relay_new (&config) : NULL;
    if (status == 0 && !relay) {
        fprintf (stderr, "zaio-worker: could not start\n");
        status = 1;
    }
    //  Temporary files that killed writefiles left, on threads of their own.
    for (size_t i = 0; relay && i < config.volume_count; i++)
        zaio_volume_sweep_temps (volumes[i], s_tmp_max_age);
    if (relay) zaio_daemon_ready (NULL);
    zaio_relay_destroy (&relay);
    for (size_t i = 0; i < config.volume_count; i++) zaio_volume_destroy (&volumes[i]);
    zsys_shutdown ();
    return status;
}
