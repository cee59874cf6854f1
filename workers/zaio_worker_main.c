/*  zaio-worker: serve volumes to a remote broker. A thin wrapper over
    zaio_relay_new; see zaio_relay.h. */

#include "zaio_relay.h"
#include "zaio_log.h"
#include "zaio_worker_proto.h"

#include "zaio_curve.h"
#include "zaio_daemon.h"
#include "zaio_sock.h"
#include "zaio_zpl.h"

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
             "       zaio-worker --config FILE [OPTIONS]\n"
             "\n"
             "Serve directories as named volumes to a zaio broker, running jobs with a\n"
             "pool of IO threads. Several workers may serve the same volume (from shared\n"
             "storage); the broker spreads its jobs over them.\n"
             "\n"
             "  -c, --connect ENDPOINT  the broker's worker endpoint (its --worker-bind),\n"
             "                          e.g. tcp://10.0.0.1:5672\n"
             "  -v, --volume NAME=DIR   serve DIR as volume NAME, repeatable; append :ro\n"
             "                          to refuse changes (EROFS), :nolinks to refuse files\n"
             "                          with more than one hard link (EMLINK); replaces\n"
             "                          the config file's volumes\n"
             "  -w, --threads N         IO threads [number of CPUs]\n"
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
             "  -C, --config FILE       ZPL settings file (czmq zconfig), section worker;\n"
             "                          flags override it. Every key, with its default:\n"
             "                          the example zaio-worker.cfg (dist/config/),\n"
             "                          zaio-worker(8). An unknown key is an error naming\n"
             "                          it and its line:\n"
             "                            worker\n"
             "                                connect = tcp://10.0.0.1:5672\n"
             "                                volumes\n"
             "                                    photos = /srv/photos:ro\n"
             "      --log-format FORMAT text (one line per event) or json (one object per\n"
             "                          line, for log shippers) [text]\n"
             "      --verbose           log connections\n"
             "  -V, --version           print 'zaio-worker VERSION' and exit\n"
             "  -h, --help              this help\n"
             "\n"
             "A tcp broker not on a loopback address needs --curve-cert and --broker-key,\n"
             "or --insecure. Prints 'ready' on stdout once its volumes are open and it is\n"
             "connecting (READY=1 to systemd, under a Type=notify unit; the broker may\n"
             "come later: the worker keeps trying). SIGINT/SIGTERM: take no new jobs\n"
             "(STOPPING=1), finish held ones, exit 0. Exit status 1: could not start (a\n"
             "volume, a certificate, plain tcp off loopback, the config file); 2: usage\n"
             "error.\n");
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

//  NAME=DIR[:ro][:nolinks] (in either order; modified) into a volume, or
//  exit: 2 (usage) if the spec is not one, 1 if the volume cannot be
//  served. where names the option or config key it came from.
static zaio_volume_t *
s_parse_volume (char *spec, const char *where)
{
    char *equals = strchr (spec, '=');
    if (equals) *equals = 0;
    if (!equals || !zaio_volume_name_valid (spec) || !equals[1]) {
        fprintf (stderr,
                 "zaio-worker: %s needs NAME=DIR, NAME of letters, digits, '-' "
                 "or '_', not '%s'\n",
                 where, spec);
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

//  The short options, each with the meaning it has in all three binaries.
#define S_SHORT_OPTIONS "c:v:w:n:C:" ZAIO_DAEMON_SHORT_OPTIONS

//  zaio-worker's long options, in the order getopt_long names them when an
//  abbreviation is ambiguous.
enum { S_OPT_CREDIT = 256, S_OPT_CURVE_CERT, S_OPT_BROKER_KEY, S_OPT_INSECURE, S_OPT_TMP_MAX_AGE };

static const struct option s_long_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"volume", required_argument, NULL, 'v'},
    {"threads", required_argument, NULL, 'w'},
    {"credit", required_argument, NULL, S_OPT_CREDIT},
    ZAIO_DAEMON_SHARED_OPTIONS,
    {"name", required_argument, NULL, 'n'},
    {"curve-cert", required_argument, NULL, S_OPT_CURVE_CERT},
    {"broker-key", required_argument, NULL, S_OPT_BROKER_KEY},
    {"insecure", no_argument, NULL, S_OPT_INSECURE},
    {"tmp-max-age", required_argument, NULL, S_OPT_TMP_MAX_AGE},
    {"config", required_argument, NULL, 'C'},
    ZAIO_DAEMON_LAST_OPTIONS};

//  How the worker is to reach its broker safely, from the command line.
typedef struct {
    const char *curve_cert; //  --curve-cert
    const char *broker_key; //  --broker-key
    bool insecure;          //  --insecure
} s_trust_t;

//  --tmp-max-age: see zaio_volume_sweep_temps.
static uint32_t s_tmp_max_age = ZAIO_VOLUME_TEMP_MAX_AGE_S;

//  The volumes to serve, as NAME=DIR[:ro][:nolinks] specs (autofree: each
//  a copy), from the config file until the first --volume replaces them;
//  opened once the options are all read.
typedef struct {
    zlist_t *specs;
    bool from_command_line;
} s_volume_specs_t;

//  Every key of zaio-worker's config file (zaio_zpl.h); the example
//  dist/config/zaio-worker.cfg shows each with its default.
static const char *const s_known_keys[] = {
    "worker/connect",     "worker/volumes/*",    "worker/threads",          "worker/credit",
    "worker/payload_max", "worker/heartbeat_ms", "worker/heartbeat_misses", "worker/drain_ms",
    "worker/tmp_max_age", "worker/name",         "worker/curve_cert",       "worker/broker_key",
    "worker/insecure",    "worker/log_format",   "worker/verbose",          NULL};

//  Lays the ZPL file at path over config, trust and volumes; strings point
//  into *zconfig_p, which the caller destroys once the worker has stopped.
//  Returns 0, or -1 after logging what is wrong (a missing file, an
//  unknown key and its line, a bad value).
static int
s_config_load (const char *path, zaio_relay_config_t *config, s_trust_t *trust,
               s_volume_specs_t *volumes, const char **log_format, zconfig_t **zconfig_p)
{
    if (zaio_zpl_check (path, s_known_keys)) return -1;
    zconfig_t *root = zaio_zpl_load (path);
    if (!root) {
        zaio_log_error ("config", "cannot load %s: not a ZPL file (czmq zconfig)", path);
        return -1;
    }
    *zconfig_p = root;
    config->broker = zconfig_get (root, "worker/connect", config->broker);
    config->name = zconfig_get (root, "worker/name", config->name);
    trust->curve_cert = zconfig_get (root, "worker/curve_cert", trust->curve_cert);
    trust->broker_key = zconfig_get (root, "worker/broker_key", trust->broker_key);
    *log_format = zconfig_get (root, "worker/log_format", *log_format);
    zaio_log_format_t format;
    if (*log_format && zaio_log_format_parse (*log_format, &format)) {
        zaio_log_error ("config", "worker/log_format = '%s' is not text or json", *log_format);
        return -1;
    }
    uint64_t threads = config->threads, credit = config->credit, payload_max = config->payload_max,
             heartbeat_ms = config->heartbeat_ms, misses = config->heartbeat_misses,
             drain_ms = config->drain_ms, tmp_max_age = s_tmp_max_age, insecure = trust->insecure,
             verbose = config->verbose;
    if (zaio_zpl_uint (root, "worker/threads", 0, ZAIO_CREDIT_MAX, &threads) ||
        zaio_zpl_uint (root, "worker/credit", 1, ZAIO_CREDIT_MAX, &credit) ||
        zaio_zpl_uint (root, "worker/payload_max", 1, ZAIO_PAYLOAD_CEILING, &payload_max) ||
        zaio_zpl_uint (root, "worker/heartbeat_ms", 10, 3600000, &heartbeat_ms) ||
        zaio_zpl_uint (root, "worker/heartbeat_misses", 1, 1000, &misses) ||
        zaio_zpl_uint (root, "worker/drain_ms", 0, 3600000, &drain_ms) ||
        zaio_zpl_uint (root, "worker/tmp_max_age", 0, UINT32_MAX, &tmp_max_age) ||
        zaio_zpl_uint (root, "worker/insecure", 0, 1, &insecure) ||
        zaio_zpl_uint (root, "worker/verbose", 0, 1, &verbose))
        return -1;
    if (threads) config->threads = (uint32_t)threads; //  0: one per CPU, as without it
    config->credit = (uint32_t)credit;
    config->payload_max = (size_t)payload_max;
    config->heartbeat_ms = (uint32_t)heartbeat_ms;
    config->heartbeat_misses = (uint32_t)misses;
    config->drain_ms = (uint32_t)drain_ms;
    s_tmp_max_age = (uint32_t)tmp_max_age;
    trust->insecure = insecure;
    config->verbose = verbose;
    if (verbose) zaio_log_set_level (ZAIO_LOG_DEBUG);
    zconfig_t *section = zconfig_locate (root, "worker/volumes");
    for (zconfig_t *item = section ? zconfig_child (section) : NULL; item;
         item = zconfig_next (item)) {
        const char *name = zconfig_name (item), *dir = zconfig_value (item);
        if (!zaio_volume_name_valid (name) || !dir || !*dir) {
            zaio_log_error ("config",
                            "worker/volumes/%s = '%s': a volume needs a NAME of letters, "
                            "digits, '-' or '_' and a DIR[:ro][:nolinks]",
                            name, dir ? dir : "");
            return -1;
        }
        if (zlist_size (volumes->specs) == S_VOLUMES_MAX) {
            zaio_log_error ("config", "more than %d volumes in worker/volumes", S_VOLUMES_MAX);
            return -1;
        }
        char *spec = zsys_sprintf ("%s=%s", name, dir);
        zlist_append (volumes->specs, spec);
        zstr_free (&spec);
    }
    return 0;
}

//  The command line into config and trust, over what the config file
//  said (-C is skipped here: main loaded it first); the volumes it names
//  replace the file's in volumes. Exits as zaio_daemon_option says.
//  Returns 0, or -1 after printing what is wrong.
static int
s_options (int argc, char **argv, zaio_relay_config_t *config, s_trust_t *trust,
           s_volume_specs_t *volumes, const char **log_format)
{
    zaio_daemon_args_t args = {S_SHORT_OPTIONS,
                               s_long_options,
                               s_usage,
                               {&config->payload_max, &config->heartbeat_ms,
                                &config->heartbeat_misses, &config->drain_ms, &config->verbose,
                                log_format}};
    int option;
    while ((option = zaio_daemon_option (argc, argv, &args)) != -1) {
        switch (option) {
            case 'c':
                config->broker = optarg;
                break;
            case 'v':
                if (!volumes->from_command_line) zlist_purge (volumes->specs);
                volumes->from_command_line = true;
                if (zlist_size (volumes->specs) == S_VOLUMES_MAX) {
                    fprintf (stderr, "zaio-worker: at most %d volumes\n", S_VOLUMES_MAX);
                    return -1;
                }
                zlist_append (volumes->specs, optarg);
                break;
            case 'C':
                break; //  already loaded
            case 'w':
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
    if (!config->broker || zlist_size (volumes->specs) == 0 || optind < argc) {
        fprintf (stderr, "zaio-worker: --connect and at least one --volume are required "
                         "(or their config keys, worker/connect and worker/volumes)\n");
        s_usage (stderr);
        return -1;
    }
    //  Opened now, so that a bad one stops the start before any thread.
    for (char *spec = (char *)zlist_first (volumes->specs); spec;
         spec = (char *)zlist_next (volumes->specs))
        config->volumes[config->volume_count++] =
            s_parse_volume (spec, volumes->from_command_line ? "--volume" : "worker/volumes");
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
    s_volume_specs_t specs = {zlist_new (), false};
    zlist_autofree (specs.specs);
    const char *log_format = NULL;
    zconfig_t *zconfig = NULL;
    const char *config_path = zaio_daemon_early (argc, argv, S_SHORT_OPTIONS, s_long_options);
    int status = 0;
    if (config_path &&
        s_config_load (config_path, &config, &trust, &specs, &log_format, &zconfig)) {
        zaio_log_error ("daemon", "not started: bad config file %s", config_path);
        status = 1;
    }
    //  The file's log format, until the command line's replaces it.
    zaio_log_format_t format;
    if (status == 0 && log_format && zaio_log_format_parse (log_format, &format) == 0)
        zaio_daemon_log_format (format);
    if (status == 0 && s_options (argc, argv, &config, &trust, &specs, &log_format)) status = 2;
    zaio_curve_t keys;
    if (status == 0 && s_trust (&trust, &config, &keys)) status = 1;
    zactor_t *relay = status == 0 ? zaio_relay_new (&config) : NULL;
    if (status == 0 && !relay) {
        zaio_log_error ("daemon", "could not start (see the lines above)");
        status = 1;
    }
    //  Temporary files that killed writefiles left, on threads of their own.
    for (size_t i = 0; relay && i < config.volume_count; i++)
        zaio_volume_sweep_temps (volumes[i], s_tmp_max_age);
    if (relay) zaio_daemon_ready (NULL);
    zaio_relay_destroy (&relay);
    for (size_t i = 0; i < config.volume_count; i++) zaio_volume_destroy (&volumes[i]);
    zlist_destroy (&specs.specs);
    zconfig_destroy (&zconfig);
    zsys_shutdown ();
    return status;
}
