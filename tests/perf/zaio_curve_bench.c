/*  zaio_curve_bench: what CURVE costs zaio over tcp, against what it costs
    libzmq itself, in one run.

    Usage: zaio_curve_bench [--quick | --smoke] [--json] [--seconds S]
                            [--warmup S] [--repeat N] [--sizes 4k,1m]
                            [--inflight N] [--inflight-large N]
                            [--workers N] [--io-threads N]
                            [--client-io-threads N] [--clients N]
                            [--setups LIST]
                            [--file-mib M] [--dir PATH]

    Pipelined reads of 4 KiB (64 in flight) and of 1 MiB (8 in flight) at
    varying aligned offsets of a file in the page cache, from one DEALER
    over tcp on loopback (--clients N: N DEALERs at once, each with its
    own requests in flight), against four servers living in this process:

      zaio tcp     an embedded broker (zaio_broker_new) with W local
                   workers, plain tcp;
      zaio curve   the same with --curve-cert and --client-certs (the
                   client's certificate admitted by the broker's ZAP
                   handler);
      echo tcp     a bare libzmq ROUTER answering each request with a
                   pread into the reply frame, on its own thread and
                   context (zaio_perf_echo.h): the same bytes each way,
                   a small request and a reply of the read's size;
      echo curve   the same as a CURVE server: the encryption ceiling.

    The client's socket lives in a libzmq context of its own, as in a
    client process: the two ends never share an I/O thread, so each end
    encrypts and decrypts on its own. The servers' contexts have
    --io-threads I/O threads (default 1, what zaio-broker runs with:
    czmq's default).

    Reported per setup: requests/s, MB/s of read data, and CPU time per
    request: of the whole process (client and server), of the client's
    threads, of the servers' libzmq I/O threads, where CURVE encrypts
    replies and decrypts requests, and of the servers' other threads (the
    broker's loop and workers, or the echo's thread); "I/O busy" is the
    I/O threads' as a fraction of one core: near 1.0 (with one I/O
    thread) the I/O thread is what limits the server; and the process's
    context switches per request. Ratios, round by round: zaio curve /
    echo curve (target >= 0.8), zaio curve / zaio tcp, echo curve / echo
    tcp, zaio tcp / echo tcp for reference, zaio curve's CPU per request
    over the echo's, and the "I/O-bound" ratio: echo curve's server I/O
    CPU per request over zaio curve's, the ratio to expect where the
    server's I/O thread is the bottleneck (clients on other hosts, cores
    to spare) rather than, as on a small machine running both ends, the
    CPU of the whole process.

    The setups' runs alternate in N rounds (--repeat N), so drift on a
    shared machine hits them alike; each figure is the median of its N
    runs, each ratio the median of the N ratios of one round's runs,
    with their range. It is a benchmark, not a test: the target is
    reported, never asserted. The exit status is 0 when every
    measurement produced results, 1 otherwise. Options it does not know
    (scripts/bench passes its own to every section) are ignored.
*/

#include "zaio_broker.h"
#include "zaio_perf_client.h"
#include "zaio_perf_echo.h"
#include "zaio_perf_fixture.h"
#include "zaio_perf_options.h"
#include "zaio_perf_report.h"

#include <czmq.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_CURVE_TARGET 0.8 //  zaio curve ops/s over echo curve ops/s, at least
#define S_CLIENTS_MAX  64
#define S_SIZES        2
#define S_SETUPS       4
#define S_RATIOS       6
#define S_SMALL        4096
#define S_LARGE        (1024 * 1024)
#define S_ENDPOINT_TCP "tcp://127.0.0.1:*"
#define S_CERT_SERVER  "server"  //  the broker's certificate, in the work directory
#define S_CERT_CLIENTS "clients" //  the directory of admitted clients' certificates
#define S_CERT_CLIENT  "bench"   //  the client's public certificate in it

static const char *s_size_names[S_SIZES] = {"4k", "1m"};
static const char *s_size_labels[S_SIZES] = {"4 KiB", "1 MiB"};
static const uint64_t s_size_bytes[S_SIZES] = {S_SMALL, S_LARGE};
enum { S_ZAIO_TCP, S_ZAIO_CURVE, S_ECHO_TCP, S_ECHO_CURVE };
static const char *s_setup_names[S_SETUPS] = {"zaio-tcp", "zaio-curve", "echo-tcp", "echo-curve"};
static const char *s_setup_labels[S_SETUPS] = {"zaio tcp", "zaio curve", "echo tcp", "echo curve"};

//  The ratios reported, each top setup over bottom setup, round by round.
typedef struct {
    const char *name;  //  JSON key
    const char *label; //  table heading
    int top;
    int bottom;
    size_t field; //  offset of the figure in s_sample_t
    bool inverse; //  a cost per request: compare the rates it allows, 1 / figure
} s_ratio_spec_t;

typedef struct {
    zaio_perf_options_t common; //  mode, json, seconds, warmup, repeat, file_mib, dir
    uint32_t inflight[S_SIZES];
    uint32_t workers;
    uint32_t io_threads;
    uint32_t client_io_threads;
    uint32_t clients;
    bool sizes[S_SIZES];
    bool setups[S_SETUPS];
} s_options_t;

//  What one run measures; a figure is the median of each over the runs.
typedef struct {
    double ops_per_sec;
    double cpu_us_per_op;
    double client_cpu_us_per_op;
    double client_io_us_per_op;
    double server_io_us_per_op;
    double switches_per_op;
} s_sample_t;

#define S_FIELDS (sizeof (s_sample_t) / sizeof (double))

#define S_OPS       offsetof (s_sample_t, ops_per_sec)
#define S_CPU       offsetof (s_sample_t, cpu_us_per_op)
#define S_SERVER_IO offsetof (s_sample_t, server_io_us_per_op)

//  The last one is the ratio to expect where the server's I/O thread is
//  the bottleneck (clients on other hosts, cores to spare): the rates its
//  CPU per request allows.
static const s_ratio_spec_t s_ratio_specs[S_RATIOS] = {
    {"zaio_curve_vs_echo_curve", "zaio curve / echo curve", S_ZAIO_CURVE, S_ECHO_CURVE, S_OPS,
     false},
    {"zaio_curve_vs_zaio_tcp", "zaio curve / zaio tcp", S_ZAIO_CURVE, S_ZAIO_TCP, S_OPS, false},
    {"echo_curve_vs_echo_tcp", "echo curve / echo tcp", S_ECHO_CURVE, S_ECHO_TCP, S_OPS, false},
    {"zaio_tcp_vs_echo_tcp", "zaio tcp / echo tcp", S_ZAIO_TCP, S_ECHO_TCP, S_OPS, false},
    {"cpu_zaio_curve_vs_echo_curve", "CPU/req zaio/echo curve", S_ZAIO_CURVE, S_ECHO_CURVE, S_CPU,
     false},
    {"io_bound_zaio_curve_vs_echo_curve", "I/O-bound zaio/echo curve", S_ZAIO_CURVE, S_ECHO_CURVE,
     S_SERVER_IO, true},
};

typedef struct {
    bool done;
    s_sample_t median;
    char error[256];
} s_figure_t;

typedef struct {
    s_sample_t runs[ZAIO_PERF_REPEAT_MAX];
    uint32_t count;
} s_runs_t;

typedef struct {
    s_figure_t figures[S_SIZES][S_SETUPS];
    zaio_perf_ratio_t ratios[S_SIZES][S_RATIOS];
} s_results_t;

//  What the client needs to reach each setup.
typedef struct {
    char *endpoints[S_SETUPS];
    char curve_server[41];
    char curve_public[41];
    char curve_secret[41];
    void *client_context;
    uint64_t file_bytes;
} s_targets_t;

//  ---------------------------------------------------------------------
//  Options

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: zaio_curve_bench [options]\n"
        "  --quick                  about 1 s per run, one round\n"
        "  --smoke                  a few seconds in all; only checks the bench runs\n"
        "  --json                   print machine-readable results instead of the table\n"
        "  --seconds S              measured seconds per run (full 2, quick 1)\n"
        "  --warmup S               unmeasured seconds before each run (full 0.5, quick 0.25)\n"
        "  --repeat N               rounds of runs, one per setup (full 5, quick 1)\n"
        "  --sizes LIST             comma-separated subset of 4k,1m\n"
        "  --setups LIST            subset of zaio-tcp,zaio-curve,echo-tcp,echo-curve\n"
        "  --inflight N             4 KiB reads in flight (default 64)\n"
        "  --inflight-large N       1 MiB reads in flight (default 8)\n"
        "  --workers N              the broker's local worker threads (default: CPUs)\n"
        "  --io-threads N           libzmq I/O threads of the servers' contexts (default 1)\n"
        "  --client-io-threads N    libzmq I/O threads of the client's context (default 1)\n"
        "  --clients N              clients (connections) at once, each with its own\n"
        "                           requests in flight (default 1)\n"
        "  --file-mib M             size of the file reads pick blocks from (default 64)\n"
        "  --dir PATH               where the served root and certificates go (default /tmp)\n"
        "  --help                   this text\n");
}

//  Returns 0, 1 for --help, -1 on a bad command line.
static int
s_parse_options (int argc, char *argv[], s_options_t *options)
{
    memset (options, 0, sizeof *options);
    zaio_perf_options_t *common = &options->common;
    zaio_perf_options_init (common, "zaio_curve_bench");
    options->inflight[0] = 64;
    options->inflight[1] = 8;
    options->io_threads = 1;
    options->client_io_threads = 1;
    options->clients = 1;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    options->workers = cpus > 0 ? (uint32_t)cpus : 1;
    for (int i = 0; i < S_SIZES; i++) options->sizes[i] = true;
    for (int i = 0; i < S_SETUPS; i++) options->setups[i] = true;
    double number = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = zaio_perf_options_parse (common, argc, argv, &i);
        if (rc > 0) continue; //  one of the shared options, taken
        if (rc < 0) return -1;
        uint32_t *count = NULL; //  a count option's destination
        if (streq (arg, "--help") || streq (arg, "-h"))
            return 1;
        else if (streq (arg, "--sizes"))
            rc = zaio_perf_options_list (common, value, s_size_names, S_SIZES, options->sizes), i++;
        else if (streq (arg, "--setups"))
            rc = zaio_perf_options_list (common, value, s_setup_names, S_SETUPS, options->setups),
            i++;
        else if (streq (arg, "--inflight"))
            count = &options->inflight[0];
        else if (streq (arg, "--inflight-large"))
            count = &options->inflight[1];
        else if (streq (arg, "--workers"))
            count = &options->workers;
        else if (streq (arg, "--io-threads"))
            count = &options->io_threads;
        else if (streq (arg, "--client-io-threads"))
            count = &options->client_io_threads;
        else if (streq (arg, "--clients"))
            count = &options->clients;
        else if (strncmp (arg, "--", 2) == 0)
            fprintf (stderr, "zaio_curve_bench: ignoring option '%s'\n", arg);
        if (count) {
            rc = zaio_perf_options_number (common, value, 1, 1024, &number);
            *count = (uint32_t)number;
            i++;
        }
        if (rc) return -1;
    }
    if (options->clients > S_CLIENTS_MAX) {
        fprintf (stderr, "zaio_curve_bench: at most %d clients\n", S_CLIENTS_MAX);
        return -1;
    }
    zaio_perf_options_close (common, 2.0);
    return 0;
}

//  ---------------------------------------------------------------------
//  The certificates

//  The broker's certificate pair in work (S_CERT_SERVER and its _secret)
//  and the client's public certificate in work/S_CERT_CLIENTS, as `zaio
//  keygen` would write them; the keys the client and the echo need go to
//  targets and *echo_secret. Returns 0 or -1.
static int
s_make_certs (const char *work, s_targets_t *targets, char echo_secret[41])
{
    zcert_t *server = zcert_new ();
    zcert_t *client = zcert_new ();
    assert (server && client);
    zcert_set_meta (client, "name", "%s", S_CERT_CLIENT);
    char *server_path = zsys_sprintf ("%s/%s", work, S_CERT_SERVER);
    char *clients = zsys_sprintf ("%s/%s", work, S_CERT_CLIENTS);
    char *client_path = zsys_sprintf ("%s/%s", clients, S_CERT_CLIENT);
    int rc = mkdir (clients, 0700);
    if (rc == 0) rc = zcert_save (server, server_path);
    if (rc == 0) rc = zcert_save_public (client, client_path);
    snprintf (targets->curve_server, sizeof targets->curve_server, "%s", zcert_public_txt (server));
    snprintf (targets->curve_public, sizeof targets->curve_public, "%s", zcert_public_txt (client));
    snprintf (targets->curve_secret, sizeof targets->curve_secret, "%s", zcert_secret_txt (client));
    snprintf (echo_secret, 41, "%s", zcert_secret_txt (server));
    zstr_free (&client_path);
    zstr_free (&clients);
    zstr_free (&server_path);
    zcert_destroy (&client);
    zcert_destroy (&server);
    return rc;
}

//  ---------------------------------------------------------------------
//  Measuring

//  Field offset (bytes into s_sample_t, a double) of each of the runs,
//  into values.
static void
s_values (const s_runs_t *runs, size_t offset, double *values)
{
    for (uint32_t r = 0; r < runs->count; r++)
        values[r] = *(const double *)((const char *)&runs->runs[r] + offset);
}

//  Folds the runs into a figure, each field's median.
static void
s_figure_close (s_figure_t *figure, s_runs_t *runs)
{
    if (*figure->error || runs->count == 0) return;
    figure->done = true;
    for (size_t f = 0; f < S_FIELDS; f++) {
        double values[ZAIO_PERF_REPEAT_MAX];
        s_values (runs, f * sizeof (double), values);
        ((double *)&figure->median)[f] = zaio_perf_report_median (values, runs->count);
    }
}

//  The ratio of two setups' runs, round by round; a cost per request
//  (inverse) compares the rates it allows, bottom over top.
static void
s_ratio_close (zaio_perf_ratio_t *ratio, const s_ratio_spec_t *spec, const s_runs_t *runs)
{
    const s_runs_t *top = &runs[spec->inverse ? spec->bottom : spec->top];
    const s_runs_t *bottom = &runs[spec->inverse ? spec->top : spec->bottom];
    double tops[ZAIO_PERF_REPEAT_MAX], bottoms[ZAIO_PERF_REPEAT_MAX];
    s_values (top, spec->field, tops);
    s_values (bottom, spec->field, bottoms);
    zaio_perf_report_ratio (ratio, tops, top->count, bottoms, bottom->count);
}

//  One client's run, on a thread of its own.
typedef struct {
    zaio_perf_client_config_t config;
    zaio_perf_result_t result;
    int rc;
    pthread_t thread;
} s_client_t;

static void *
s_client_run (void *args)
{
    s_client_t *self = (s_client_t *)args;
    self->rc = zaio_perf_client_run (&self->config, &self->result);
    return NULL;
}

//  One run of size z against setup s, from every client at once; adds the result to runs, or sets
//  figure->error. Returns 0 or -1.
static int
s_run_one (const s_options_t *options, const s_targets_t *targets, int z, int s, s_runs_t *runs,
           s_figure_t *figure)
{
    bool zaio = s == S_ZAIO_TCP || s == S_ZAIO_CURVE;
    bool curve = s == S_ZAIO_CURVE || s == S_ECHO_CURVE;
    zaio_perf_client_config_t config = {
        .dialect = zaio ? ZAIO_PERF_DIALECT_ZAIO : ZAIO_PERF_DIALECT_BARE,
        .op = ZAIO_PERF_CASE_READ,
        .endpoint = targets->endpoints[s],
        .path = ZAIO_PERF_FILE_NAME,
        .block = s_size_bytes[z],
        .file_blocks = targets->file_bytes / s_size_bytes[z],
        .context = targets->client_context,
        .curve_server = curve ? targets->curve_server : NULL,
        .curve_public = curve ? targets->curve_public : NULL,
        .curve_secret = curve ? targets->curve_secret : NULL,
        .inflight = options->inflight[z],
        .warmup_ms = (uint64_t)(options->common.warmup * 1000),
        .duration_ms = (uint64_t)(options->common.seconds * 1000),
    };
    fprintf (stderr, "zaio_curve_bench: %-5s %-10s run %u/%u ... ", s_size_labels[z],
             s_setup_labels[s], runs->count + 1, options->common.repeat);
    s_client_t clients[S_CLIENTS_MAX];
    for (uint32_t i = 0; i < options->clients; i++) {
        clients[i].config = config;
        int rc = pthread_create (&clients[i].thread, NULL, s_client_run, &clients[i]);
        assert (rc == 0);
    }
    //  Each client's figures are the process's over its own stretch (the
    //  stretches nearly coincide): CPU per request over all the clients'
    //  requests is each one's CPU rate over the sum of their rates.
    s_sample_t *sample = &runs->runs[runs->count];
    memset (sample, 0, sizeof *sample);
    const char *error = NULL;
    for (uint32_t i = 0; i < options->clients; i++) {
        pthread_join (clients[i].thread, NULL);
        const zaio_perf_result_t *result = &clients[i].result;
        if (clients[i].rc && !error) error = result->error;
        sample->ops_per_sec += result->ops_per_sec;
    }
    if (error) {
        fprintf (stderr, "FAILED: %s\n", error);
        snprintf (figure->error, sizeof figure->error, "%s", error);
        return -1;
    }
    for (uint32_t i = 0; i < options->clients; i++) {
        const zaio_perf_result_t *result = &clients[i].result;
        double share = result->ops_per_sec / sample->ops_per_sec / options->clients;
        sample->cpu_us_per_op += result->cpu_us_per_op * share;
        sample->client_cpu_us_per_op += result->client_cpu_us_per_op * share;
        sample->client_io_us_per_op += result->client_io_us_per_op * share;
        sample->server_io_us_per_op += result->server_io_us_per_op * share;
        sample->switches_per_op += result->switches_per_op * share;
    }
    runs->count++;
    fprintf (stderr, "%.0f ops/s, %.1f CPU us/op (client %.1f, server I/O %.1f)\n",
             sample->ops_per_sec, sample->cpu_us_per_op, sample->client_cpu_us_per_op,
             sample->server_io_us_per_op);
    return 0;
}

//  Runs every measurement, the setups alternating within each round.
//  Returns the number that failed.
static int
s_measure_all (const s_options_t *options, const s_targets_t *targets, s_results_t *results)
{
    int failed = 0;
    for (int z = 0; z < S_SIZES; z++) {
        if (!options->sizes[z]) continue;
        s_figure_t *figures = results->figures[z];
        s_runs_t runs[S_SETUPS];
        memset (runs, 0, sizeof runs);
        for (uint32_t r = 0; r < options->common.repeat && !zsys_interrupted; r++)
            for (int s = 0; s < S_SETUPS; s++)
                if (options->setups[s] && targets->endpoints[s] && !*figures[s].error &&
                    s_run_one (options, targets, z, s, &runs[s], &figures[s]))
                    failed++;
        //  Ratios first: a figure's median sorts its values.
        for (int i = 0; i < S_RATIOS; i++)
            s_ratio_close (&results->ratios[z][i], &s_ratio_specs[i], runs);
        for (int s = 0; s < S_SETUPS; s++) s_figure_close (&figures[s], &runs[s]);
    }
    return failed;
}

//  ---------------------------------------------------------------------
//  Reporting

static void
s_print_table (const s_options_t *options, const s_results_t *results)
{
    printf ("zaio curve bench: pipelined reads over tcp on loopback, plain and CURVE, zaio\n"
            "against a bare libzmq ROUTER echo; %u in flight for 4 KiB, %u for 1 MiB; zaio\n"
            "%u workers; %u client%s; servers' contexts %u I/O thread%s, client's %u\n",
            options->inflight[0], options->inflight[1], options->workers, options->clients,
            options->clients == 1 ? "" : "s", options->io_threads,
            options->io_threads == 1 ? "" : "s", options->client_io_threads);
    zaio_perf_report_runs (&options->common);
    printf ("CPU us/req: all threads (client and server); client: the client's threads;\n"
            "server I/O: the servers' libzmq I/O threads (CURVE's work), and their busy share "
            "of one core;\nserver rest: the other threads (broker and workers, or the echo's "
            "thread); switches:\nthe process's context switches per request\n\n");
    printf ("%-5s %-10s | %9s %8s | %-35s %5s | %8s\n", "", "", "", "", "CPU us/req", "I/O",
            "switches");
    printf ("%-5s %-10s | %9s %8s | %8s %8s %8s %8s %5s | %8s\n", "size", "setup", "req/s", "MB/s",
            "all", "client", "srv I/O", "srv rest", "busy", "/req");
    for (int z = 0; z < S_SIZES; z++) {
        if (!options->sizes[z]) continue;
        for (int s = 0; s < S_SETUPS; s++) {
            if (!options->setups[s]) continue;
            const s_figure_t *figure = &results->figures[z][s];
            printf ("%-5s %-10s | ", s_size_labels[z], s_setup_labels[s]);
            if (!figure->done) {
                printf ("%9s\n", *figure->error ? "error" : "-");
                continue;
            }
            const s_sample_t *m = &figure->median;
            printf ("%9.0f %8.1f | %8.1f %8.1f %8.1f %8.1f %5.2f | %8.2f\n", m->ops_per_sec,
                    m->ops_per_sec * (double)s_size_bytes[z] / 1e6, m->cpu_us_per_op,
                    m->client_cpu_us_per_op, m->server_io_us_per_op,
                    m->cpu_us_per_op - m->client_cpu_us_per_op - m->server_io_us_per_op,
                    m->server_io_us_per_op * m->ops_per_sec / 1e6, m->switches_per_op);
        }
    }
    printf ("\nratios of req/s, median and range of the rounds' pairs (CPU/req: of CPU us/req;\n"
            "I/O-bound: of the rates the servers' I/O CPU per request allows, what to expect\n"
            "where the server's I/O thread is the bottleneck); target: zaio curve >= %.1fx echo "
            "curve\n",
            S_CURVE_TARGET);
    printf ("%-26s", "ratio");
    for (int z = 0; z < S_SIZES; z++)
        if (options->sizes[z]) printf (" | %-19s", s_size_labels[z]);
    printf ("\n");
    for (int i = 0; i < S_RATIOS; i++) {
        printf ("%-26s", s_ratio_specs[i].label);
        for (int z = 0; z < S_SIZES; z++) {
            if (!options->sizes[z]) continue;
            const zaio_perf_ratio_t *ratio = &results->ratios[z][i];
            printf (" | ");
            if (ratio->done)
                printf ("%4.2f %4.2f-%4.2f", ratio->median, ratio->low, ratio->high);
            else
                printf ("%-14s", "-");
            const char *verdict = i != 0 || !ratio->done            ? ""
                                  : ratio->median >= S_CURVE_TARGET ? "ok"
                                                                    : "MISS";
            printf (" %-4s", verdict);
        }
        printf ("\n");
    }
    for (int z = 0; z < S_SIZES; z++)
        for (int s = 0; s < S_SETUPS; s++)
            if (*results->figures[z][s].error)
                printf ("error: %s %s: %s\n", s_size_labels[z], s_setup_labels[s],
                        results->figures[z][s].error);
}

static void
s_json_figure (const s_figure_t *figure, uint64_t bytes)
{
    const s_sample_t *m = &figure->median;
    if (zaio_perf_report_json_unmeasured (figure->done, figure->error))
        return; //  null if not run (--setups)
    printf ("{\"ops_per_sec\": %.1f, \"mb_per_sec\": %.1f, \"cpu_us_per_op\": %.2f, "
            "\"client_cpu_us_per_op\": %.2f, \"client_io_us_per_op\": %.2f, "
            "\"server_io_us_per_op\": %.2f, \"server_io_busy\": %.3f, "
            "\"switches_per_op\": %.3f}",
            m->ops_per_sec, m->ops_per_sec * (double)bytes / 1e6, m->cpu_us_per_op,
            m->client_cpu_us_per_op, m->client_io_us_per_op, m->server_io_us_per_op,
            m->server_io_us_per_op * m->ops_per_sec / 1e6, m->switches_per_op);
}

static void
s_print_json (const s_options_t *options, const s_results_t *results)
{
    printf ("{\"bench\": \"curve\", \"config\": {\"mode\": \"%s\", \"workers\": %u, "
            "\"clients\": %u, \"io_threads\": %u, \"client_io_threads\": %u, \"inflight\": "
            "{\"4k\": %u, \"1m\": "
            "%u}, \"seconds\": %g, \"warmup\": %g, \"repeat\": %u, \"file_mib\": %u, ",
            options->common.mode, options->workers, options->clients, options->io_threads,
            options->client_io_threads, options->inflight[0], options->inflight[1],
            options->common.seconds, options->common.warmup, options->common.repeat,
            options->common.file_mib);
    zaio_perf_report_json_platform ();
    printf ("},\n");
    printf (" \"targets\": {\"zaio_curve_vs_echo_curve_min\": %.2f},\n \"results\": [",
            S_CURVE_TARGET);
    bool first = true, all_met = true;
    for (int z = 0; z < S_SIZES; z++) {
        if (!options->sizes[z]) continue;
        printf ("%s\n  {\"size\": \"%s\", \"bytes\": %" PRIu64 ", \"inflight\": %u,\n   ",
                first ? "" : ",", s_size_names[z], s_size_bytes[z], options->inflight[z]);
        first = false;
        for (int s = 0; s < S_SETUPS; s++) {
            printf ("\"%s\": ", s_setup_names[s]);
            s_json_figure (&results->figures[z][s], s_size_bytes[z]);
            printf (",\n   ");
        }
        for (int i = 0; i < S_RATIOS; i++) {
            zaio_perf_report_json_ratio (s_ratio_specs[i].name, &results->ratios[z][i]);
            printf (", ");
        }
        const zaio_perf_ratio_t *target = &results->ratios[z][0];
        bool met = target->done && target->median >= S_CURVE_TARGET;
        all_met &= met;
        printf ("\"meets_target\": %s}", !target->done ? "null" : met ? "true" : "false");
    }
    printf ("\n ],\n \"all_targets_met\": %s}\n", all_met ? "true" : "false");
}

//  ---------------------------------------------------------------------
//  Main

//  An embedded broker on tcp serving root, with CURVE if certs is the
//  work directory holding the certificates (s_make_certs), else plain.
static zactor_t *
s_broker_new (const s_options_t *options, const char *root, const char *events, const char *certs)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.root = root;
    config.bind[0] = S_ENDPOINT_TCP;
    config.bind[1] = NULL;
    config.events[0] = events; //  published as in production; nobody listens
    config.events[1] = NULL;
    config.workers = options->workers;
    char *curve_cert = NULL, *client_certs = NULL;
    if (certs) {
        curve_cert = zsys_sprintf ("%s/%s_secret", certs, S_CERT_SERVER);
        client_certs = zsys_sprintf ("%s/%s", certs, S_CERT_CLIENTS);
        config.curve_cert = curve_cert;
        config.client_certs = client_certs;
    }
    zactor_t *broker = zaio_broker_new (&config);
    zstr_free (&curve_cert);
    zstr_free (&client_certs);
    return broker;
}

int
main (int argc, char *argv[])
{
    s_options_t options;
    int rc = s_parse_options (argc, argv, &options);
    if (rc) {
        s_usage (rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr); //  stdout is for the table or the JSON
    //  The brokers' context (czmq's), before any socket starts its threads.
    zsys_set_io_threads (options.io_threads);

    //  The work directory also holds the certificates.
    zaio_perf_fixture_t *fixture = zaio_perf_fixture_new (
        "zaio_curve_bench", options.common.dir, "zaio-curve-bench", options.common.file_mib);
    if (!fixture) return 1;
    const char *work = zaio_perf_fixture_work (fixture);
    const char *root = zaio_perf_fixture_root (fixture);
    const char *file = zaio_perf_fixture_file (fixture);
    s_targets_t targets;
    memset (&targets, 0, sizeof targets);
    targets.file_bytes = zaio_perf_fixture_file_bytes (fixture);
    char echo_secret[41];
    if (s_make_certs (work, &targets, echo_secret)) {
        fprintf (stderr, "zaio_curve_bench: cannot write the certificates in %s: %s\n", work,
                 strerror (errno));
        zaio_perf_fixture_destroy (&fixture);
        return 1;
    }

    int pid = (int)getpid ();
    char *events[2] = {zsys_sprintf ("inproc://zaio-curve-bench-events-tcp-%d", pid),
                       zsys_sprintf ("inproc://zaio-curve-bench-events-curve-%d", pid)};
    zactor_t *brokers[2] = {NULL, NULL};
    zaio_perf_echo_t *echoes[2] = {NULL, NULL};
    int failed = 0;
    if (options.setups[S_ZAIO_TCP]) brokers[0] = s_broker_new (&options, root, events[0], NULL);
    if (options.setups[S_ZAIO_CURVE]) brokers[1] = s_broker_new (&options, root, events[1], work);
    if (options.setups[S_ECHO_TCP])
        echoes[0] = zaio_perf_echo_new (S_ENDPOINT_TCP, file, (int)options.io_threads, NULL);
    if (options.setups[S_ECHO_CURVE])
        echoes[1] = zaio_perf_echo_new (S_ENDPOINT_TCP, file, (int)options.io_threads, echo_secret);
    for (int i = 0; i < 2; i++) {
        int zaio_setup = i ? S_ZAIO_CURVE : S_ZAIO_TCP, echo_setup = i ? S_ECHO_CURVE : S_ECHO_TCP;
        if (brokers[i])
            targets.endpoints[zaio_setup] = zaio_broker_endpoint (brokers[i], "client", "tcp");
        if (echoes[i]) targets.endpoints[echo_setup] = strdup (zaio_perf_echo_endpoint (echoes[i]));
    }
    s_results_t results;
    memset (&results, 0, sizeof results);
    for (int s = 0; s < S_SETUPS; s++)
        if (options.setups[s] && !targets.endpoints[s]) {
            fprintf (stderr, "zaio_curve_bench: cannot start %s\n", s_setup_labels[s]);
            snprintf (results.figures[0][s].error, sizeof results.figures[0][s].error,
                      "cannot start %s", s_setup_labels[s]);
            results.figures[1][s] = results.figures[0][s];
            failed++;
        }
    targets.client_context = zaio_perf_client_context_new ((int)options.client_io_threads);
    failed += s_measure_all (&options, &targets, &results);
    zmq_ctx_term (targets.client_context);
    for (int i = 0; i < 2; i++) {
        zaio_broker_destroy (&brokers[i]);
        zaio_perf_echo_destroy (&echoes[i]);
        zstr_free (&events[i]);
    }
    for (int s = 0; s < S_SETUPS; s++) free (targets.endpoints[s]);
    zaio_perf_fixture_destroy (&fixture);

    if (options.common.json)
        s_print_json (&options, &results);
    else
        s_print_table (&options, &results);
    return failed || zsys_interrupted ? 1 : 0;
}
