/*  zaio_netns_load: the client host of tests/netns/run.sh. One step of the
    multi-host scenario per invocation, so the script can restart daemons
    between steps:

        zaio_netns_load --connect EP [--events EP] --volume NAME=DIR
                        --volume NAME=DIR [--tag T] [--jobs N] [--clients C]
                        [--window W] [--expect NAME=COUNT]... [--settle-ms MS]
                        [--kill-pid PID --kill-name NAME --kill-credit K
                         [--kill-at N] [--term]] [--after NAME=COUNT]...
                        [--novolume NAME] [--prepare-only]

    --expect waits (up to --settle-ms) until hello reports COUNT workers
    for NAME, and reports how long that took; then --jobs runs the load of
    zaio_load.h (0: none), killing --kill-pid half way (or after --kill-at
    replies); --after waits for hello's counts again; --novolume checks
    that jobs for NAME are answered NOVOLUME. The first --volume is the one
    that may lose a worker. Exit 0 when every check passed, 1 otherwise,
    2 on a usage error.
*/

#include "zaio_codec.h"
#include "zaio_load.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>

#define S_EXPECT_MAX 8

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    int count;
} s_expect_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: zaio_netns_load --connect EP [--events EP] --volume NAME=DIR "
                  "--volume NAME=DIR [--tag T]\n"
                  "       [--jobs N] [--clients C] [--window W] [--expect NAME=COUNT]... "
                  "[--settle-ms MS]\n"
                  "       [--kill-pid PID --kill-name NAME --kill-credit K [--kill-at N] "
                  "[--term]]\n"
                  "       [--after NAME=COUNT]... [--novolume NAME] [--prepare-only]\n"
                  "       [--curve SERVER_CERT,CLIENT_CERT]\n");
}

//  --curve SERVER_CERT,CLIENT_CERT: every socket speaks CURVE.
static void
s_curve (const char *spec)
{
    char *copy = strdup (spec);
    char *comma = strchr (copy, ',');
    if (!comma) {
        fprintf (stderr, "zaio_netns_load: --curve needs SERVER_CERT,CLIENT_CERT\n");
        exit (2);
    }
    *comma = 0;
    if (zaio_load_set_curve (copy, comma + 1)) {
        fprintf (stderr, "zaio_netns_load: cannot load the certificates %s\n", spec);
        exit (2);
    }
    free (copy);
}

static unsigned long
s_number (const char *option, const char *text)
{
    char *end;
    unsigned long value = strtoul (text, &end, 10);
    if (end == text || *end) {
        fprintf (stderr, "zaio_netns_load: %s needs a number, not '%s'\n", option, text);
        exit (2);
    }
    return value;
}

static void
s_add_expect (s_expect_t *list, size_t *count, const char *spec)
{
    const char *equals = strchr (spec, '=');
    if (!equals || *count == S_EXPECT_MAX || equals - spec > ZAIO_VOLUME_MAX) {
        fprintf (stderr, "zaio_netns_load: expected NAME=COUNT, not '%s'\n", spec);
        exit (2);
    }
    snprintf (list[*count].name, sizeof list[*count].name, "%.*s", (int)(equals - spec), spec);
    list[*count].count = (int)s_number ("NAME=COUNT", equals + 1);
    (*count)++;
}

//  Waits for each expected count; returns how many never came.
static int
s_wait_all (const char *endpoint, const s_expect_t *list, size_t count, int settle_ms)
{
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        int took = zaio_load_wait_workers (endpoint, list[i].name, list[i].count, settle_ms);
        if (took < 0) {
            fprintf (stderr,
                     "netns_load: FAIL: hello never reported %d workers for %s in %d ms "
                     "(it says %d)\n",
                     list[i].count, list[i].name, settle_ms,
                     zaio_load_hello_workers (endpoint, list[i].name, 5000));
            failed++;
        } else
            printf ("netns_load: hello reports %d worker(s) for %s (after %d ms)\n", list[i].count,
                    list[i].name, took);
    }
    return failed;
}

int
main (int argc, char *argv[])
{
    enum {
        OPT_EVENTS = 256,
        OPT_TAG,
        OPT_JOBS,
        OPT_CLIENTS,
        OPT_WINDOW,
        OPT_EXPECT,
        OPT_SETTLE,
        OPT_KILL_PID,
        OPT_KILL_NAME,
        OPT_KILL_CREDIT,
        OPT_KILL_AT,
        OPT_TERM,
        OPT_AFTER,
        OPT_NOVOLUME,
        OPT_PREPARE,
        OPT_CURVE
    };
    static const struct option options[] = {
        {"connect", required_argument, NULL, 'c'},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"volume", required_argument, NULL, 'V'},
        {"tag", required_argument, NULL, OPT_TAG},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"clients", required_argument, NULL, OPT_CLIENTS},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"settle-ms", required_argument, NULL, OPT_SETTLE},
        {"kill-pid", required_argument, NULL, OPT_KILL_PID},
        {"kill-name", required_argument, NULL, OPT_KILL_NAME},
        {"kill-credit", required_argument, NULL, OPT_KILL_CREDIT},
        {"kill-at", required_argument, NULL, OPT_KILL_AT},
        {"term", no_argument, NULL, OPT_TERM},
        {"after", required_argument, NULL, OPT_AFTER},
        {"novolume", required_argument, NULL, OPT_NOVOLUME},
        {"prepare-only", no_argument, NULL, OPT_PREPARE},
        {"curve", required_argument, NULL, OPT_CURVE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    zaio_load_config_t config = {
        .tag = "netns",
        .clients = 8,
        .window = 16,
        .timeout_ms = 30000,
        .kill_signal = SIGKILL,
    };
    s_expect_t expect[S_EXPECT_MAX], after[S_EXPECT_MAX];
    size_t expect_count = 0, after_count = 0, volume_count = 0;
    const char *novolume = NULL;
    bool kill_at_set = false, prepare_only = false;
    int settle_ms = 20000;
    int option;
    while ((option = getopt_long (argc, argv, "c:V:h", options, NULL)) != -1) {
        switch (option) {
            case 'c':
                config.endpoint = optarg;
                break;
            case OPT_EVENTS:
                config.events = optarg;
                break;
            case 'V': {
                char *equals = strchr (optarg, '=');
                if (!equals || volume_count == ZAIO_LOAD_VOLUMES) {
                    fprintf (stderr, "zaio_netns_load: two --volume NAME=DIR, not '%s'\n", optarg);
                    return 2;
                }
                *equals = 0;
                config.volume[volume_count] = optarg;
                config.dir[volume_count++] = equals + 1;
                break;
            }
            case OPT_TAG:
                config.tag = optarg;
                break;
            case OPT_JOBS:
                config.jobs = (uint32_t)s_number ("--jobs", optarg);
                break;
            case OPT_CLIENTS:
                config.clients = (uint32_t)s_number ("--clients", optarg);
                break;
            case OPT_WINDOW:
                config.window = (uint32_t)s_number ("--window", optarg);
                break;
            case OPT_EXPECT:
                s_add_expect (expect, &expect_count, optarg);
                break;
            case OPT_SETTLE:
                settle_ms = (int)s_number ("--settle-ms", optarg);
                break;
            case OPT_KILL_PID:
                config.kill_pid = (pid_t)s_number ("--kill-pid", optarg);
                break;
            case OPT_KILL_NAME:
                config.kill_name = optarg;
                break;
            case OPT_KILL_CREDIT:
                config.kill_credit = (uint32_t)s_number ("--kill-credit", optarg);
                break;
            case OPT_KILL_AT:
                config.kill_at = (uint32_t)s_number ("--kill-at", optarg);
                kill_at_set = true;
                break;
            case OPT_TERM:
                config.kill_signal = SIGTERM;
                break;
            case OPT_AFTER:
                s_add_expect (after, &after_count, optarg);
                break;
            case OPT_NOVOLUME:
                novolume = optarg;
                break;
            case OPT_PREPARE:
                prepare_only = true;
                break;
            case OPT_CURVE:
                s_curve (optarg);
                break;
            case 'h':
                s_usage (stdout);
                return 0;
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (!config.endpoint || optind < argc || (config.jobs && volume_count != 2) ||
        config.clients == 0 || config.window == 0) {
        s_usage (stderr);
        return 2;
    }
    if (!kill_at_set) config.kill_at = config.jobs / 2;
    setvbuf (stdout, NULL, _IOLBF, 0);

    int failed = s_wait_all (config.endpoint, expect, expect_count, settle_ms);
    if (config.jobs && !failed) {
        if (zaio_load_prepare (&config)) {
            fprintf (stderr, "netns_load: FAIL: cannot write the fixtures\n");
            return 1;
        }
        if (!prepare_only) {
            zaio_load_result_t result;
            failed += zaio_load_run (&config, &result) ? 1 : 0;
            //  With two or more workers on the first volume, each ran some.
            if (result.worker_count[0] == 0 || result.worker_count[1] == 0) {
                fprintf (stderr, "netns_load: FAIL: a volume's jobs ran on no worker\n");
                failed++;
            }
        }
    }
    if (!failed) failed += s_wait_all (config.endpoint, after, after_count, settle_ms);
    if (!failed && novolume) {
        uint32_t wrong = zaio_load_expect_error (config.endpoint, novolume, 6, ZAIO_ERR_NOVOLUME);
        if (wrong) {
            fprintf (stderr, "netns_load: FAIL: %u jobs for %s were not answered NOVOLUME\n", wrong,
                     novolume);
            failed++;
        } else
            printf ("netns_load: jobs for %s are answered NOVOLUME\n", novolume);
    }
    zsys_shutdown ();
    printf ("netns_load: %s\n", failed ? "FAIL" : "PASS");
    return failed ? 1 : 0;
}
