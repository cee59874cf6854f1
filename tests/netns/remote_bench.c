/*  zaio_remote_bench: remote zaio-worker processes against the broker's own
    threads, over tcp on loopback, in one run.

    Usage: zaio_remote_bench [--quick | --smoke] [--json] [--threads N]
                             [--credit N] [--seconds S] [--warmup S]
                             [--repeat N] [--inflight N] [--file-mib M]

    The case: 4 KiB reads at varying aligned offsets of a file in the page
    cache, `inflight` (64) requests in flight from one DEALER, replies
    checked. Each setup is a zaio-broker process (and zaio-worker
    processes) started for it, clients and workers on tcp://127.0.0.1:

      local        the broker's threads serve the file (volume default)
      1 worker     one zaio-worker with N threads serves it (volume bench)
      2 workers    two zaio-workers with N threads each
      local 2N     the broker's threads again, as many as the two workers

    Local threads and remote workers hold the same credit (jobs per
    thread; --credit, default 64, the default of both). "vs local" divides
    by the local row with the same number of IO threads. Each figure is
    the median of --repeat runs. It is a benchmark: nothing is asserted;
    the exit status is 1 only if a setup failed to start or to answer.
    Options it does not know (scripts/bench passes its own) are ignored.
*/

#include "zaio_codec.h"
#include "zaio_load.h"
#include "zaio_proc.h"

#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#ifndef ZAIO_BROKER_BIN
#define ZAIO_BROKER_BIN "zaio-broker"
#endif
#ifndef ZAIO_WORKER_BIN
#define ZAIO_WORKER_BIN "zaio-worker"
#endif

#define S_READ_SIZE  4096
#define S_FILE_NAME  "bench.dat"
#define S_HISTOGRAM  1000000 //  latency buckets of 1 us; the last takes the rest
#define S_START_MS   20000
#define S_REPEAT_MAX 15
#define S_SETUPS     4
#define S_WORKER_MAX 2

typedef struct {
    const char *mode;
    bool json;
    uint32_t threads;
    uint32_t credit;
    double seconds;
    double warmup;
    uint32_t repeat;
    uint32_t inflight;
    uint32_t file_mib;
} s_options_t;

typedef struct {
    const char *name;
    uint32_t workers;      //  zaio-worker processes; 0: the broker's threads
    uint32_t thread_scale; //  IO threads per process, in units of --threads
} s_setup_t;

typedef struct {
    bool done;
    uint32_t io_threads;
    uint32_t credit;
    double ops_per_sec;
    double p50_us;
    double p99_us;
    uint64_t errors;
} s_figure_t;

static const s_setup_t s_setups[S_SETUPS] = {
    {"local", 0, 1},
    {"1 worker", 1, 1},
    {"2 workers", 2, 1},
    {"local 2N", 0, 2},
};

//  ---------------------------------------------------------------------
//  The client

typedef struct {
    zsock_t *client;
    const char *volume; //  NULL: default
    uint64_t file_size;
    uint32_t inflight;
    int64_t *sent_us; //  per slot: when its request went
    uint64_t *histogram;
    uint64_t completed;
    uint64_t errors;
    bool counting;
} s_client_t;

static void
s_send_read (s_client_t *self, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, id);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, S_FILE_NAME);
    if (self->volume) zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, self->volume);
    uint64_t blocks = self->file_size / S_READ_SIZE;
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, (id * 7919 % blocks) * S_READ_SIZE);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, S_READ_SIZE);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    int rc = zmsg_send (&msg, self->client);
    assert (rc == 0);
    self->sent_us[(id - 1) % self->inflight] = zclock_usecs ();
}

//  Reads for seconds; each reply sends the next request of its slot (id +
//  inflight), so exactly `inflight` are always out. Returns -1 if the
//  broker went silent for 10 s.
static int
s_pump (s_client_t *self, double seconds)
{
    int64_t until = zclock_usecs () + (int64_t)(seconds * 1e6);
    zpoller_t *poller = zpoller_new (self->client, NULL);
    int rc = 0;
    while (zclock_usecs () < until) {
        if (zpoller_wait (poller, 10000) != self->client) {
            rc = -1;
            break;
        }
        zmsg_t *msg;
        while ((zsock_events (self->client) & ZMQ_POLLIN) && (msg = zmsg_recv (self->client))) {
            zframe_t *signature = zmsg_first (msg);
            zframe_t *header = signature ? zmsg_next (msg) : NULL;
            zaio_reply_t reply;
            bool good = header &&
                        zaio_reply_decode (&reply, zframe_data (header), zframe_size (header), NULL,
                                           0) == 0 &&
                        reply.id > 0;
            if (good && self->counting) {
                zframe_t *data = zmsg_next (msg);
                if (!reply.ok || !data || zframe_size (data) != S_READ_SIZE) self->errors++;
                int64_t took = zclock_usecs () - self->sent_us[(reply.id - 1) % self->inflight];
                uint64_t bucket = took < 0 ? 0 : (uint64_t)took;
                self->histogram[bucket < S_HISTOGRAM ? bucket : S_HISTOGRAM - 1]++;
                self->completed++;
            }
            if (good) s_send_read (self, reply.id + self->inflight);
            zmsg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    return rc;
}

static double
s_percentile (const uint64_t *histogram, uint64_t total, double fraction)
{
    uint64_t want = (uint64_t)(total * fraction), seen = 0;
    for (uint64_t us = 0; us < S_HISTOGRAM; us++) {
        seen += histogram[us];
        if (seen > want) return (double)us;
    }
    return S_HISTOGRAM;
}

//  One measurement against endpoint; fills ops/s and latencies.
static int
s_measure (const char *endpoint, const char *volume, const s_options_t *options, uint64_t file_size,
           s_figure_t *figure)
{
    s_client_t self = {.volume = volume, .file_size = file_size, .inflight = options->inflight};
    self.client = zsock_new (ZMQ_DEALER);
    zsock_set_linger (self.client, 0);
    zsock_set_sndhwm (self.client, 0);
    zsock_set_rcvhwm (self.client, 0);
    int rc = zsock_connect (self.client, "%s", endpoint);
    assert (rc == 0);
    self.sent_us = (int64_t *)calloc (options->inflight, sizeof (int64_t));
    self.histogram = (uint64_t *)calloc (S_HISTOGRAM, sizeof (uint64_t));
    assert (self.sent_us && self.histogram);
    for (uint64_t id = 1; id <= options->inflight; id++) s_send_read (&self, id);
    rc = s_pump (&self, options->warmup);
    self.counting = true;
    int64_t start = zclock_usecs ();
    if (rc == 0) rc = s_pump (&self, options->seconds);
    double elapsed = (double)(zclock_usecs () - start) / 1e6;
    figure->ops_per_sec = self.completed / elapsed;
    figure->p50_us = s_percentile (self.histogram, self.completed, 0.50);
    figure->p99_us = s_percentile (self.histogram, self.completed, 0.99);
    figure->errors = self.errors;
    free (self.histogram);
    free (self.sent_us);
    zsock_destroy (&self.client);
    return rc || self.errors ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  Setups

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

//  Starts the setup's processes, measures it options->repeat times, stops
//  them. figure gets the median run (by ops/s).
static int
s_run_setup (const s_setup_t *setup, const s_options_t *options, const char *dir, const char *log,
             uint64_t file_size, s_figure_t *figure)
{
    uint32_t threads = options->threads * setup->thread_scale;
    char threads_text[16], credit_text[16], volume_text[1100];
    snprintf (threads_text, sizeof threads_text, "%u", setup->workers ? 1 : threads);
    snprintf (credit_text, sizeof credit_text, "%u", options->credit);
    const char *broker_argv[] = {ZAIO_BROKER_BIN,
                                 "--root",
                                 dir,
                                 "--bind",
                                 "tcp://127.0.0.1:*",
                                 "--events",
                                 "tcp://127.0.0.1:*",
                                 "--worker-bind",
                                 "tcp://127.0.0.1:*",
                                 "--workers",
                                 threads_text,
                                 "--worker-credit",
                                 credit_text,
                                 NULL};
    zaio_proc_t broker, workers[S_WORKER_MAX];
    memset (workers, 0, sizeof workers);
    if (zaio_proc_start (&broker, broker_argv, log, S_START_MS)) return -1;
    const char *client = zaio_proc_line (&broker, "client ");
    const char *worker_endpoint = zaio_proc_line (&broker, "workers ");
    int rc = client && worker_endpoint ? 0 : -1;
    snprintf (threads_text, sizeof threads_text, "%u", threads);
    snprintf (volume_text, sizeof volume_text, "bench=%s", dir);
    for (uint32_t w = 0; rc == 0 && w < setup->workers; w++) {
        char name[32];
        snprintf (name, sizeof name, "bench-%u", w + 1);
        const char *argv[] = {ZAIO_WORKER_BIN, "--connect", worker_endpoint,
                              "--volume",      volume_text, "--threads",
                              threads_text,    "--name",    name,
                              "--credit",      credit_text, NULL};
        rc = zaio_proc_start (&workers[w], argv, log, S_START_MS);
    }
    if (rc == 0 && setup->workers &&
        zaio_load_wait_workers (client, "bench", (int)setup->workers, S_START_MS) < 0)
        rc = -1;
    double runs[S_REPEAT_MAX];
    s_figure_t measured[S_REPEAT_MAX];
    uint32_t done = 0;
    for (uint32_t r = 0; rc == 0 && r < options->repeat; r++) {
        rc = s_measure (client, setup->workers ? "bench" : NULL, options, file_size, &measured[r]);
        runs[r] = measured[r].ops_per_sec;
        done++;
    }
    for (uint32_t w = 0; w < S_WORKER_MAX; w++) {
        zaio_proc_signal (&workers[w], SIGTERM);
        zaio_proc_wait (&workers[w], 10000);
        zaio_proc_stop (&workers[w]);
    }
    zaio_proc_signal (&broker, SIGTERM);
    zaio_proc_wait (&broker, 10000);
    zaio_proc_stop (&broker);
    if (rc || done == 0) return -1;
    double sorted[S_REPEAT_MAX];
    memcpy (sorted, runs, sizeof (double) * done);
    qsort (sorted, done, sizeof (double), s_compare_double);
    double median = sorted[done / 2];
    for (uint32_t r = 0; r < done; r++)
        if (runs[r] == median) *figure = measured[r];
    figure->done = true;
    figure->io_threads = threads * (setup->workers ? setup->workers : 1);
    figure->credit = options->credit;
    return 0;
}

//  ---------------------------------------------------------------------
//  The file

static int
s_make_file (const char *dir, uint32_t mib, uint64_t *size)
{
    char path[1100];
    snprintf (path, sizeof path, "%s/%s", dir, S_FILE_NAME);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    char *chunk = (char *)malloc (1024 * 1024);
    assert (chunk);
    for (size_t i = 0; i < 1024 * 1024; i++) chunk[i] = (char)(i * 31);
    int rc = 0;
    for (uint32_t m = 0; m < mib && rc == 0; m++)
        if (write (fd, chunk, 1024 * 1024) != 1024 * 1024) rc = -1;
    close (fd);
    //  Read it back once: the bench measures zaio, not the disk.
    fd = open (path, O_RDONLY | O_CLOEXEC);
    while (rc == 0 && fd >= 0 && read (fd, chunk, 1024 * 1024) > 0) {
    }
    if (fd >= 0) close (fd);
    free (chunk);
    *size = (uint64_t)mib * 1024 * 1024;
    return rc;
}

static int
s_remove (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove (path);
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static double
s_vs_local (const s_figure_t *figures, size_t i)
{
    for (size_t j = 0; j < S_SETUPS; j++)
        if (s_setups[j].workers == 0 && figures[j].done &&
            figures[j].io_threads == figures[i].io_threads && figures[j].ops_per_sec > 0)
            return figures[i].ops_per_sec / figures[j].ops_per_sec;
    return 0;
}

static void
s_print_table (const s_options_t *options, const s_figure_t *figures)
{
    printf ("remote workers, tcp on loopback: %u-byte reads of a cached %u MiB file, %u in "
            "flight from one DEALER\n",
            S_READ_SIZE, options->file_mib, options->inflight);
    printf ("median of %u x %.1f s (after %.1f s warm-up), N = %u threads\n\n", options->repeat,
            options->seconds, options->warmup, options->threads);
    printf ("%-30s %8s %7s %10s %8s %8s %9s\n", "setup", "threads", "credit", "ops/s", "p50 us",
            "p99 us", "vs local");
    for (size_t i = 0; i < S_SETUPS; i++) {
        if (!figures[i].done) {
            printf ("%-30s %8s\n", s_setups[i].name, "FAILED");
            continue;
        }
        double ratio = s_vs_local (figures, i);
        printf ("%-30s %8u %7u %10.0f %8.0f %8.0f %8.2fx\n", s_setups[i].name,
                figures[i].io_threads, figures[i].credit, figures[i].ops_per_sec, figures[i].p50_us,
                figures[i].p99_us, ratio);
    }
}

static void
s_print_json (const s_options_t *options, const s_figure_t *figures)
{
    printf ("{\"bench\": \"remote\", \"transport\": \"tcp\", \"op\": \"read\", \"size\": %d, "
            "\"inflight\": %u, \"file_mib\": %u, \"threads\": %u, \"seconds\": %.2f, "
            "\"repeat\": %u, \"mode\": \"%s\", \"setups\": [",
            S_READ_SIZE, options->inflight, options->file_mib, options->threads, options->seconds,
            options->repeat, options->mode);
    for (size_t i = 0; i < S_SETUPS; i++) {
        printf ("%s{\"name\": \"%s\", \"worker_processes\": %u", i ? ", " : "", s_setups[i].name,
                s_setups[i].workers);
        if (figures[i].done)
            printf (", \"io_threads\": %u, \"credit\": %u, \"ops_per_sec\": %.0f, \"p50_us\": "
                    "%.0f, \"p99_us\": %.0f, \"vs_local\": %.3f}",
                    figures[i].io_threads, figures[i].credit, figures[i].ops_per_sec,
                    figures[i].p50_us, figures[i].p99_us, s_vs_local (figures, i));
        else
            printf (", \"error\": \"failed\"}");
    }
    printf ("]}\n");
}

int
main (int argc, char *argv[])
{
    enum {
        OPT_QUICK = 256,
        OPT_SMOKE,
        OPT_JSON,
        OPT_CREDIT,
        OPT_SECONDS,
        OPT_WARMUP,
        OPT_REPEAT,
        OPT_INFLIGHT,
        OPT_FILE
    };
    static const struct option options_table[] = {
        {"quick", no_argument, NULL, OPT_QUICK},
        {"smoke", no_argument, NULL, OPT_SMOKE},
        {"json", no_argument, NULL, OPT_JSON},
        {"threads", required_argument, NULL, 't'},
        {"workers", required_argument, NULL, 't'},
        {"credit", required_argument, NULL, OPT_CREDIT},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"inflight", required_argument, NULL, OPT_INFLIGHT},
        {"file-mib", required_argument, NULL, OPT_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    s_options_t options = {.mode = "full",
                           .threads = cpus > 0 ? (uint32_t)cpus : 1,
                           .credit = 64,
                           .seconds = 2,
                           .warmup = 0.5,
                           .repeat = 3,
                           .inflight = 64,
                           .file_mib = 64};
    opterr = 0; //  scripts/bench passes its own options too
    int option;
    while ((option = getopt_long (argc, argv, "t:h", options_table, NULL)) != -1) {
        switch (option) {
            case OPT_QUICK:
                options.mode = "quick";
                options.seconds = 1;
                options.repeat = 1;
                break;
            case OPT_SMOKE:
                options.mode = "smoke";
                options.seconds = 0.2;
                options.warmup = 0.1;
                options.repeat = 1;
                options.file_mib = 8;
                break;
            case OPT_JSON:
                options.json = true;
                break;
            case 't':
                options.threads = (uint32_t)atoi (optarg);
                break;
            case OPT_CREDIT:
                options.credit = (uint32_t)atoi (optarg);
                break;
            case OPT_SECONDS:
                options.seconds = atof (optarg);
                break;
            case OPT_WARMUP:
                options.warmup = atof (optarg);
                break;
            case OPT_REPEAT:
                options.repeat = (uint32_t)atoi (optarg);
                break;
            case OPT_INFLIGHT:
                options.inflight = (uint32_t)atoi (optarg);
                break;
            case OPT_FILE:
                options.file_mib = (uint32_t)atoi (optarg);
                break;
            case 'h':
                printf ("usage: zaio_remote_bench [--quick | --smoke] [--json] [--threads N] "
                        "[--credit N]\n"
                        "                         [--seconds S] [--warmup S] [--repeat N] "
                        "[--inflight N] [--file-mib M]\n");
                return 0;
            default:
                break; //  not ours
        }
    }
    if (options.threads < 1 || options.threads > 256 || options.credit < 1 ||
        options.credit > 1024 || options.seconds <= 0 || options.warmup < 0 || options.repeat < 1 ||
        options.repeat > S_REPEAT_MAX || options.inflight < 1 || options.file_mib < 1) {
        fprintf (stderr, "zaio_remote_bench: option out of range\n");
        return 2;
    }
    setvbuf (stdout, NULL, _IOLBF, 0);
    char dir[] = "/tmp/zaio-remote-bench-XXXXXX";
    uint64_t file_size;
    if (!mkdtemp (dir) || s_make_file (dir, options.file_mib, &file_size)) {
        fprintf (stderr, "zaio_remote_bench: cannot write the bench file under /tmp\n");
        return 1;
    }
    //  The daemons' logs go to a file, kept if anything failed.
    char log[sizeof dir + 32];
    snprintf (log, sizeof log, "%s.log", dir);
    s_figure_t figures[S_SETUPS];
    memset (figures, 0, sizeof figures);
    int status = 0;
    for (size_t i = 0; i < S_SETUPS; i++) {
        fprintf (stderr, "zaio_remote_bench: %s...\n", s_setups[i].name);
        if (s_run_setup (&s_setups[i], &options, dir, log, file_size, &figures[i])) {
            fprintf (stderr, "zaio_remote_bench: %s failed; daemons' log: %s\n", s_setups[i].name,
                     log);
            status = 1;
        }
    }
    nftw (dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    if (status == 0) unlink (log);
    if (options.json)
        s_print_json (&options, figures);
    else
        s_print_table (&options, figures);
    zsys_shutdown ();
    return status;
}
