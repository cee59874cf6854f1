/*  zaio_bench: zaio against a bare ZeroMQ baseline, in one run.

    Usage: zaio_bench [--quick | --smoke] [--json] [--workers N]
                      [--seconds S] [--warmup S] [--repeat N] [--inflight N]
                      [--file-mib M] [--transports inproc,ipc,tcp]
                      [--cases ping,read] [--dir PATH]

    For each case (ping; 4 KiB read at a varying aligned offset of a file
    in the page cache) and each transport, measures pipelined throughput
    (`inflight` requests in flight from one DEALER) and one-in-flight
    latency (p50, p99) against servers living in this process:

      zaio      an embedded broker (zaio_broker_new) with W local workers,
                bound on inproc, ipc and tcp at once;
      baseline  a bare ROUTER -> zmq_proxy -> DEALER -> W DEALER workers
                doing the same pread, with no protocol
                (zaio_perf_baseline.h);
      floor     the same proxy and workers speaking ZAIO/1: each worker
                decodes the request and encodes the reply with zaio's
                codec, and does nothing else. It splits zaio's cost into
                what the wire format costs (floor over baseline) and what
                zaio adds to it (zaio over floor). Throughput runs only.

    The client runs on its own thread (zaio_perf_client.h). The sides'
    runs alternate, in N rounds (--repeat N), so drift on a shared machine
    hits them alike. Each figure is the median of its side's N runs; each
    ratio is the median of the N ratios of one round's two runs, shown
    with their range: a round's runs are seconds apart, so its ratio is
    what this machine's slow and fast spells move least.

    It is a benchmark, not a test: targets (throughput >= 0.8x baseline,
    p50 latency <= 1.3x baseline) are reported, never asserted. The exit
    status is 0 when every measurement produced results, 1 otherwise.
*/

#include "zaio_broker.h"
#include "zaio_perf_baseline.h"
#include "zaio_perf_client.h"
#include "zaio_perf_fixture.h"
#include "zaio_perf_options.h"
#include "zaio_perf_report.h"

#include <czmq.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define S_THROUGHPUT_TARGET 0.8 //  zaio ops/s over baseline ops/s, at least
#define S_LATENCY_TARGET    1.3 //  zaio p50 over baseline p50, at most
#define S_TRANSPORTS        3
#define S_CASES             2
#define S_SIDES             3

static const char *s_transport_names[S_TRANSPORTS] = {"inproc", "ipc", "tcp"};
static const char *s_case_names[S_CASES] = {"ping", "read"};
enum { S_ZAIO, S_BASELINE, S_FLOOR };
static const char *s_side_names[S_SIDES] = {"zaio", "baseline", "floor"};
static const char *s_mode_names[2] = {"throughput", "latency"};

typedef struct {
    zaio_perf_options_t common; //  mode, json, seconds, warmup, repeat, file_mib, dir
    uint32_t workers;
    uint32_t credit; //  zaio worker credit; 0 = the broker's default
    uint32_t inflight;
    bool transports[S_TRANSPORTS];
    bool cases[S_CASES];
    bool sides[S_SIDES];
    bool modes[2]; //  throughput, latency
} s_options_t;

//  One figure, the median over the repeats; error set if any run failed.
typedef struct {
    bool done;
    double ops_per_sec;
    double p50_us;
    double p99_us;
    double cpu_us_per_op;
    double switches_per_op;
    uint64_t samples;
    char error[256];
} s_figure_t;

//  The ratios of one case over one transport: zaio over baseline, and
//  for throughput the floor over baseline and zaio over the floor.
typedef struct {
    zaio_perf_ratio_t ops;
    zaio_perf_ratio_t cpu;
    zaio_perf_ratio_t switches;
    zaio_perf_ratio_t p50;
    zaio_perf_ratio_t p99;
    zaio_perf_ratio_t floor_ops;
    zaio_perf_ratio_t zaio_floor_ops;
    zaio_perf_ratio_t zaio_floor_cpu;
} s_ratios_t;

//  [case][transport][side], and the ratios [case][transport]
typedef struct {
    s_figure_t throughput[S_CASES][S_TRANSPORTS][S_SIDES];
    s_figure_t latency[S_CASES][S_TRANSPORTS][S_SIDES];
    s_ratios_t ratios[S_CASES][S_TRANSPORTS];
} s_results_t;

//  ---------------------------------------------------------------------
//  Options

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: zaio_bench [options]\n"
        "  --quick            about 1 s per measurement, under a minute in all\n"
        "  --smoke            a few seconds in all; only checks the bench runs\n"
        "  --json             print machine-readable results instead of the table\n"
        "  --workers N        worker threads on both sides (default: CPUs)\n"
        "  --credit N         jobs each zaio worker holds at once (default: broker's)\n"
        "  --seconds S        measured seconds per run (full 3, quick 1)\n"
        "  --warmup S         unmeasured seconds before each run (full 0.5, quick 0.25)\n"
        "  --repeat N         rounds of runs, one per side, medians reported (full 5, quick 1)\n"
        "  --inflight N       requests in flight for throughput (default 64)\n"
        "  --file-mib M       size of the file reads pick blocks from (default 64)\n"
        "  --transports LIST  comma-separated subset of inproc,ipc,tcp\n"
        "  --cases LIST       comma-separated subset of ping,read\n"
        "  --sides LIST       comma-separated subset of zaio,baseline,floor (for profiling)\n"
        "  --modes LIST       comma-separated subset of throughput,latency\n"
        "  --dir PATH         where the served root and ipc sockets go (default /tmp)\n"
        "  --help             this text\n");
}

//  Returns 0, 1 for --help, -1 on a bad command line.
static int
s_parse_options (int argc, char *argv[], s_options_t *options)
{
    memset (options, 0, sizeof *options);
    zaio_perf_options_t *common = &options->common;
    zaio_perf_options_init (common, "zaio_bench");
    options->inflight = 64;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    options->workers = cpus > 0 ? (uint32_t)cpus : 1;
    for (int i = 0; i < S_TRANSPORTS; i++) options->transports[i] = true;
    for (int i = 0; i < S_CASES; i++) options->cases[i] = true;
    for (int i = 0; i < S_SIDES; i++) options->sides[i] = true;
    options->modes[0] = options->modes[1] = true;
    double number;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = zaio_perf_options_parse (common, argc, argv, &i);
        if (rc > 0) continue; //  one of the shared options, taken
        if (rc < 0) return -1;
        if (streq (arg, "--help") || streq (arg, "-h"))
            return 1;
        else if (streq (arg, "--workers")) {
            rc = zaio_perf_options_number (common, value, 1, 1024, &number);
            options->workers = (uint32_t)number;
            i++;
        } else if (streq (arg, "--credit")) {
            rc = zaio_perf_options_number (common, value, 1, 1024, &number);
            options->credit = (uint32_t)number;
            i++;
        } else if (streq (arg, "--inflight")) {
            rc = zaio_perf_options_number (common, value, 1, 1024, &number);
            options->inflight = (uint32_t)number;
            i++;
        } else if (streq (arg, "--transports")) {
            rc = zaio_perf_options_list (common, value, s_transport_names, S_TRANSPORTS,
                                         options->transports);
            i++;
        } else if (streq (arg, "--cases")) {
            rc = zaio_perf_options_list (common, value, s_case_names, S_CASES, options->cases);
            i++;
        } else if (streq (arg, "--sides")) {
            rc = zaio_perf_options_list (common, value, s_side_names, S_SIDES, options->sides);
            i++;
        } else if (streq (arg, "--modes")) {
            rc = zaio_perf_options_list (common, value, s_mode_names, 2, options->modes);
            i++;
        } else {
            fprintf (stderr, "zaio_bench: unknown option '%s'\n", arg);
            rc = -1;
        }
        if (rc) return -1;
    }
    zaio_perf_options_close (common, 3.0);
    return 0;
}

//  ---------------------------------------------------------------------
//  Measuring

typedef struct {
    double ops_per_sec[ZAIO_PERF_REPEAT_MAX];
    double p50_us[ZAIO_PERF_REPEAT_MAX];
    double p99_us[ZAIO_PERF_REPEAT_MAX];
    double cpu_us_per_op[ZAIO_PERF_REPEAT_MAX];
    double switches_per_op[ZAIO_PERF_REPEAT_MAX];
    uint64_t samples;
    uint32_t runs;
} s_runs_t;

//  Folds the runs into a figure.
static void
s_figure_close (s_figure_t *figure, s_runs_t *runs)
{
    if (*figure->error || runs->runs == 0) return;
    figure->done = true;
    figure->ops_per_sec = zaio_perf_report_median (runs->ops_per_sec, runs->runs);
    figure->p50_us = zaio_perf_report_median (runs->p50_us, runs->runs);
    figure->p99_us = zaio_perf_report_median (runs->p99_us, runs->runs);
    figure->cpu_us_per_op = zaio_perf_report_median (runs->cpu_us_per_op, runs->runs);
    figure->switches_per_op = zaio_perf_report_median (runs->switches_per_op, runs->runs);
    figure->samples = runs->samples;
}

//  The ratios of one field (an array of s_runs_t, at offset) of two sides'
//  runs, round by round, top[i] over bottom[i].
static void
s_ratio_close (zaio_perf_ratio_t *ratio, const s_runs_t *top, const s_runs_t *bottom, size_t offset)
{
    zaio_perf_report_ratio (ratio, (const double *)((const char *)top + offset), top->runs,
                            (const double *)((const char *)bottom + offset), bottom->runs);
}

//  One run of case c over transport t against side s; adds the result to
//  runs, or sets figure->error. Returns 0 or -1.
static int
s_run_one (const s_options_t *options, const char *endpoint, uint64_t file_blocks, int c, int t,
           int s, bool latency, s_runs_t *runs, s_figure_t *figure)
{
    zaio_perf_client_config_t config = {
        .dialect = s == S_BASELINE ? ZAIO_PERF_DIALECT_BARE : ZAIO_PERF_DIALECT_ZAIO,
        .op = c == 0 ? ZAIO_PERF_CASE_PING : ZAIO_PERF_CASE_READ,
        .endpoint = endpoint,
        .path = ZAIO_PERF_FILE_NAME,
        .file_blocks = file_blocks,
        .inflight = latency ? 1 : options->inflight,
        .warmup_ms = (uint64_t)(options->common.warmup * 1000),
        .duration_ms = (uint64_t)(options->common.seconds * 1000),
    };
    fprintf (stderr, "zaio_bench: %-4s %-6s %-10s %-8s run %u/%u ... ", s_case_names[c],
             s_transport_names[t], s_mode_names[latency], s_side_names[s], runs->runs + 1,
             options->common.repeat);
    zaio_perf_result_t result;
    if (zaio_perf_client_run (&config, &result)) {
        fprintf (stderr, "FAILED: %s\n", result.error);
        snprintf (figure->error, sizeof figure->error, "%s", result.error);
        return -1;
    }
    if (latency)
        fprintf (stderr, "p50 %.1f us, p99 %.1f us\n", result.p50_us, result.p99_us);
    else
        fprintf (stderr, "%.0f ops/s, %.1f CPU us/op, %.2f switches/op\n", result.ops_per_sec,
                 result.cpu_us_per_op, result.switches_per_op);
    runs->ops_per_sec[runs->runs] = result.ops_per_sec;
    runs->p50_us[runs->runs] = result.p50_us;
    runs->p99_us[runs->runs] = result.p99_us;
    runs->cpu_us_per_op[runs->runs] = result.cpu_us_per_op;
    runs->switches_per_op[runs->runs] = result.switches_per_op;
    runs->samples += result.samples;
    runs->runs++;
    return 0;
}

//  Runs every measurement, the sides alternating. Returns the number that
//  failed.
static int
s_measure_all (const s_options_t *options, char *endpoints[S_TRANSPORTS][S_SIDES],
               uint64_t file_blocks, s_results_t *results)
{
    int failed = 0;
    for (int c = 0; c < S_CASES; c++)
        for (int t = 0; t < S_TRANSPORTS; t++)
            for (int latency = 0; latency < 2; latency++) {
                if (!options->cases[c] || !options->transports[t] || !options->modes[latency])
                    continue;
                s_figure_t *figures = latency ? results->latency[c][t] : results->throughput[c][t];
                s_runs_t runs[S_SIDES];
                memset (runs, 0, sizeof runs);
                for (uint32_t r = 0; r < options->common.repeat && !zsys_interrupted; r++)
                    for (int s = 0; s < S_SIDES; s++)
                        if (options->sides[s] && !(latency && s == S_FLOOR) && !*figures[s].error &&
                            s_run_one (options, endpoints[t][s], file_blocks, c, t, s, latency,
                                       &runs[s], &figures[s]))
                            failed++;
                //  Ratios first: a figure's median sorts its runs.
                s_ratios_t *ratios = &results->ratios[c][t];
                const s_runs_t *zaio = &runs[S_ZAIO], *baseline = &runs[S_BASELINE],
                               *floor_runs = &runs[S_FLOOR];
                if (latency) {
                    s_ratio_close (&ratios->p50, zaio, baseline, offsetof (s_runs_t, p50_us));
                    s_ratio_close (&ratios->p99, zaio, baseline, offsetof (s_runs_t, p99_us));
                } else {
                    size_t ops = offsetof (s_runs_t, ops_per_sec),
                           cpu = offsetof (s_runs_t, cpu_us_per_op);
                    s_ratio_close (&ratios->ops, zaio, baseline, ops);
                    s_ratio_close (&ratios->cpu, zaio, baseline, cpu);
                    s_ratio_close (&ratios->switches, zaio, baseline,
                                   offsetof (s_runs_t, switches_per_op));
                    s_ratio_close (&ratios->floor_ops, floor_runs, baseline, ops);
                    s_ratio_close (&ratios->zaio_floor_ops, zaio, floor_runs, ops);
                    s_ratio_close (&ratios->zaio_floor_cpu, zaio, floor_runs, cpu);
                }
                for (int s = 0; s < S_SIDES; s++) s_figure_close (&figures[s], &runs[s]);
            }
    return failed;
}

//  ---------------------------------------------------------------------
//  Reporting

//  A figure's value in width columns, "error" if it failed, "-" if not run.
static void
s_print_cell (const s_figure_t *figure, int width, int precision, double value)
{
    if (figure->done)
        printf ("%*.*f ", width, precision, value);
    else
        printf ("%*s ", width, *figure->error ? "error" : "-");
}

//  A ratio's median, with its range if asked ("0.78 0.56-0.84"), and the
//  verdict against a target if one is given (target_min: the ratio must be
//  at least target, else at most); blanks if it was not measured.
static void
s_print_ratio (const zaio_perf_ratio_t *ratio, bool range, const double *target, bool target_min)
{
    if (ratio->done)
        printf ("%5.2f", ratio->median);
    else
        printf ("%5s", "");
    if (range) {
        if (ratio->done)
            printf (" %4.2f-%4.2f", ratio->low, ratio->high);
        else
            printf (" %9s", "");
    }
    if (target) {
        bool met = target_min ? ratio->median >= *target : ratio->median <= *target;
        printf (" %-4s", !ratio->done ? "" : met ? "ok" : "MISS");
    }
}

static void
s_print_table (const s_options_t *options, const s_results_t *results)
{
    const double throughput_target = S_THROUGHPUT_TARGET, latency_target = S_LATENCY_TARGET;
    printf ("zaio core bench: %u workers (zaio credit %u), %u in flight, 4 KiB reads over a %u "
            "MiB cached file\n",
            options->workers, options->credit, options->inflight, options->common.file_mib);
    zaio_perf_report_runs (&options->common);
    printf ("figures: medians of each side's runs; ratios: median and range of the pairs' ratios\n"
            "targets: throughput >= %.1fx baseline, p50 latency <= %.1fx baseline\n\n",
            throughput_target, latency_target);
    printf ("%-4s %-6s | %9s %9s %5s %9s %-4s | %7s %7s %5s %9s %-4s | %7s %7s %5s\n", "", "",
            "zaio", "baseline", "", "pairs", "", "zaio", "baseline", "", "pairs", "", "zaio",
            "baseline", "");
    printf ("%-4s %-6s | %9s %9s %5s %9s %-4s | %7s %7s %5s %9s %-4s | %7s %7s %5s\n", "case",
            "trans", "ops/s", "ops/s", "ratio", "range", "", "p50 us", "p50 us", "ratio", "range",
            "", "p99 us", "p99 us", "ratio");
    for (int c = 0; c < S_CASES; c++) {
        if (!options->cases[c]) continue;
        for (int t = 0; t < S_TRANSPORTS; t++) {
            if (!options->transports[t]) continue;
            const s_figure_t *thr = results->throughput[c][t];
            const s_figure_t *lat = results->latency[c][t];
            const s_ratios_t *ratios = &results->ratios[c][t];
            printf ("%-4s %-6s | ", s_case_names[c], s_transport_names[t]);
            s_print_cell (&thr[0], 9, 0, thr[0].ops_per_sec);
            s_print_cell (&thr[1], 9, 0, thr[1].ops_per_sec);
            s_print_ratio (&ratios->ops, true, &throughput_target, true);
            printf (" | ");
            s_print_cell (&lat[0], 7, 1, lat[0].p50_us);
            s_print_cell (&lat[1], 7, 1, lat[1].p50_us);
            s_print_ratio (&ratios->p50, true, &latency_target, false);
            printf (" | ");
            s_print_cell (&lat[0], 7, 1, lat[0].p99_us);
            s_print_cell (&lat[1], 7, 1, lat[1].p99_us);
            s_print_ratio (&ratios->p99, false, NULL, false);
            printf ("\n");
        }
    }
    printf ("\npipelined efficiency: CPU time of all threads (client, server, libzmq) and\n"
            "context switches, per request\n");
    printf ("%-4s %-6s | %8s %8s %5s | %8s %8s %5s\n", "", "", "zaio", "baseline", "", "zaio",
            "baseline", "");
    printf ("%-4s %-6s | %8s %8s %5s | %8s %8s %5s\n", "case", "trans", "CPU us", "CPU us", "ratio",
            "switches", "switches", "ratio");
    for (int c = 0; c < S_CASES; c++) {
        if (!options->cases[c]) continue;
        for (int t = 0; t < S_TRANSPORTS; t++) {
            if (!options->transports[t]) continue;
            const s_figure_t *thr = results->throughput[c][t];
            const s_ratios_t *ratios = &results->ratios[c][t];
            printf ("%-4s %-6s | ", s_case_names[c], s_transport_names[t]);
            s_print_cell (&thr[0], 8, 1, thr[0].cpu_us_per_op);
            s_print_cell (&thr[1], 8, 1, thr[1].cpu_us_per_op);
            s_print_ratio (&ratios->cpu, false, NULL, false);
            printf (" | ");
            s_print_cell (&thr[0], 8, 2, thr[0].switches_per_op);
            s_print_cell (&thr[1], 8, 2, thr[1].switches_per_op);
            s_print_ratio (&ratios->switches, false, NULL, false);
            printf ("\n");
        }
    }
    printf ("\nprotocol floor: the baseline's proxy and workers speaking ZAIO/1, doing\n"
            "nothing but decode each request and encode its reply (pipelined)\n");
    printf ("%-4s %-6s | %9s %15s | %15s | %8s %5s\n", "", "", "floor", "floor/baseline",
            "zaio/floor", "floor", "zaio/");
    printf ("%-4s %-6s | %9s %15s | %15s | %8s %5s\n", "case", "trans", "ops/s", "ratio     range",
            "ratio     range", "CPU us", "floor");
    for (int c = 0; c < S_CASES; c++) {
        if (!options->cases[c]) continue;
        for (int t = 0; t < S_TRANSPORTS; t++) {
            if (!options->transports[t]) continue;
            const s_figure_t *floor_figure = &results->throughput[c][t][S_FLOOR];
            const s_ratios_t *ratios = &results->ratios[c][t];
            printf ("%-4s %-6s | ", s_case_names[c], s_transport_names[t]);
            s_print_cell (floor_figure, 9, 0, floor_figure->ops_per_sec);
            s_print_ratio (&ratios->floor_ops, true, NULL, false);
            printf (" | ");
            s_print_ratio (&ratios->zaio_floor_ops, true, NULL, false);
            printf (" | ");
            s_print_cell (floor_figure, 8, 1, floor_figure->cpu_us_per_op);
            s_print_ratio (&ratios->zaio_floor_cpu, false, NULL, false);
            printf ("\n");
        }
    }
    for (int c = 0; c < S_CASES; c++)
        for (int t = 0; t < S_TRANSPORTS; t++)
            for (int s = 0; s < S_SIDES; s++)
                for (int latency = 0; latency < 2; latency++) {
                    const s_figure_t *figure =
                        latency ? &results->latency[c][t][s] : &results->throughput[c][t][s];
                    if (*figure->error)
                        printf ("error: %s %s %s %s: %s\n", s_case_names[c], s_transport_names[t],
                                s_side_names[s], latency ? "latency" : "throughput", figure->error);
                }
}

static void
s_json_figure (const s_figure_t *figure, bool latency)
{
    if (zaio_perf_report_json_unmeasured (figure->done, figure->error))
        return; //  null if not run (--sides)
    if (latency)
        printf ("{\"p50_us\": %.2f, \"p99_us\": %.2f, \"samples\": %" PRIu64 "}", figure->p50_us,
                figure->p99_us, figure->samples);
    else
        printf ("{\"ops_per_sec\": %.1f, \"cpu_us_per_op\": %.2f, \"switches_per_op\": %.3f}",
                figure->ops_per_sec, figure->cpu_us_per_op, figure->switches_per_op);
}

static void
s_print_json (const s_options_t *options, const s_results_t *results)
{
    printf ("{\"bench\": \"core\", \"config\": {\"mode\": \"%s\", \"workers\": %u, \"credit\": %u, "
            "\"inflight\": %u, \"seconds\": %g, \"warmup\": %g, \"repeat\": %u, "
            "\"file_mib\": %u, \"block\": %d, ",
            options->common.mode, options->workers, options->credit, options->inflight,
            options->common.seconds, options->common.warmup, options->common.repeat,
            options->common.file_mib, ZAIO_PERF_BLOCK);
    zaio_perf_report_json_platform ();
    printf ("},\n");
    printf (" \"targets\": {\"throughput_ratio_min\": %.2f, \"latency_p50_ratio_max\": %.2f},\n",
            S_THROUGHPUT_TARGET, S_LATENCY_TARGET);
    printf (" \"results\": [");
    bool first = true, all_met = true;
    for (int c = 0; c < S_CASES; c++) {
        if (!options->cases[c]) continue;
        for (int t = 0; t < S_TRANSPORTS; t++) {
            if (!options->transports[t]) continue;
            const s_figure_t *thr = results->throughput[c][t];
            const s_figure_t *lat = results->latency[c][t];
            printf ("%s\n  {\"case\": \"%s\", \"transport\": \"%s\",\n   \"throughput\": {",
                    first ? "" : ",", s_case_names[c], s_transport_names[t]);
            first = false;
            for (int s = 0; s < S_SIDES; s++) {
                printf ("\"%s\": ", s_side_names[s]);
                s_json_figure (&thr[s], false);
                printf (", ");
            }
            const s_ratios_t *ratios = &results->ratios[c][t];
            bool ops_met = ratios->ops.done && ratios->ops.median >= S_THROUGHPUT_TARGET;
            all_met &= ops_met;
            zaio_perf_report_json_ratio ("ratio", &ratios->ops);
            printf (", \"meets_target\": %s,\n    ", !ratios->ops.done ? "null"
                                                     : ops_met         ? "true"
                                                                       : "false");
            zaio_perf_report_json_ratio ("floor_ratio", &ratios->floor_ops);
            printf (", ");
            zaio_perf_report_json_ratio ("zaio_floor_ratio", &ratios->zaio_floor_ops);
            printf (", ");
            zaio_perf_report_json_ratio ("zaio_floor_cpu_ratio", &ratios->zaio_floor_cpu);
            printf ("},\n   \"latency\": {");
            for (int s = 0; s < S_SIDES; s++) {
                printf ("\"%s\": ", s_side_names[s]);
                s_json_figure (&lat[s], true);
                printf (", ");
            }
            if (ratios->p50.done) {
                bool met = ratios->p50.median <= S_LATENCY_TARGET;
                all_met &= met;
                printf ("\"p50_ratio\": %.3f, \"p50_ratio_range\": [%.3f, %.3f], "
                        "\"p99_ratio\": %.3f, \"meets_target\": %s}}",
                        ratios->p50.median, ratios->p50.low, ratios->p50.high, ratios->p99.median,
                        met ? "true" : "false");
            } else {
                all_met = false;
                printf ("\"p50_ratio\": null, \"p99_ratio\": null, \"meets_target\": null}}");
            }
        }
    }
    printf ("\n ],\n \"all_targets_met\": %s}\n", all_met ? "true" : "false");
}

//  ---------------------------------------------------------------------
//  Main

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

    //  The work directory also holds the ipc sockets, which libzmq leaves
    //  behind, so removing it leaves nothing.
    zaio_perf_fixture_t *fixture = zaio_perf_fixture_new ("zaio_bench", options.common.dir,
                                                          "zaio-bench", options.common.file_mib);
    if (!fixture) return 1;
    const char *work = zaio_perf_fixture_work (fixture);
    const char *root = zaio_perf_fixture_root (fixture);
    const char *file = zaio_perf_fixture_file (fixture);
    uint64_t file_blocks = zaio_perf_fixture_file_bytes (fixture) / ZAIO_PERF_BLOCK;

    //  Every server binds the same transports; tcp ports are ephemeral.
    int pid = (int)getpid ();
    char *bind[S_SIDES][S_TRANSPORTS + 1];
    for (int s = 0; s < S_SIDES; s++) {
        size_t n = 0;
        if (options.transports[0])
            bind[s][n++] = zsys_sprintf ("inproc://zaio-bench-%s-%d", s_side_names[s], pid);
        if (options.transports[1])
            bind[s][n++] = zsys_sprintf ("ipc://%s/%s.ipc", work, s_side_names[s]);
        if (options.transports[2]) bind[s][n++] = strdup ("tcp://127.0.0.1:*");
        bind[s][n] = NULL;
    }
    char *events = zsys_sprintf ("inproc://zaio-bench-events-%d", pid);
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.root = root;
    for (int i = 0; i <= S_TRANSPORTS; i++) config.bind[i] = bind[S_ZAIO][i];
    config.events[0] = events; //  published as in production; nobody listens
    config.events[1] = NULL;
    config.workers = options.workers;
    if (options.credit) config.worker_credit = options.credit;
    options.credit = config.worker_credit; //  reported as used
    zactor_t *broker = zaio_broker_new (&config);
    zaio_perf_baseline_t *baseline = zaio_perf_baseline_new (
        (const char *const *)bind[S_BASELINE], file, options.workers, ZAIO_PERF_DIALECT_BARE);
    zaio_perf_baseline_t *floor_server = zaio_perf_baseline_new (
        (const char *const *)bind[S_FLOOR], file, options.workers, ZAIO_PERF_DIALECT_ZAIO);
    int failed = 0;
    s_results_t results;
    memset (&results, 0, sizeof results);
    if (!broker || !baseline || !floor_server) {
        fprintf (stderr, "zaio_bench: cannot start the %s\n",
                 !broker     ? "broker"
                 : !baseline ? "baseline"
                             : "floor");
        failed = 1;
    } else {
        char *endpoints[S_TRANSPORTS][S_SIDES] = {{NULL}};
        for (int t = 0; t < S_TRANSPORTS; t++) {
            if (!options.transports[t]) continue;
            const char *name = s_transport_names[t];
            endpoints[t][S_ZAIO] = zaio_broker_endpoint (broker, "client", name);
            endpoints[t][S_BASELINE] = zaio_perf_baseline_endpoint (baseline, name);
            endpoints[t][S_FLOOR] = zaio_perf_baseline_endpoint (floor_server, name);
            for (int s = 0; s < S_SIDES; s++) assert (endpoints[t][s]);
        }
        failed = s_measure_all (&options, endpoints, file_blocks, &results);
        for (int t = 0; t < S_TRANSPORTS; t++)
            for (int s = 0; s < S_SIDES; s++) free (endpoints[t][s]);
    }
    zaio_broker_destroy (&broker);
    zaio_perf_baseline_destroy (&baseline);
    zaio_perf_baseline_destroy (&floor_server);
    zaio_perf_fixture_destroy (&fixture);

    if (options.common.json)
        s_print_json (&options, &results);
    else
        s_print_table (&options, &results);
    for (int s = 0; s < S_SIDES; s++)
        for (int i = 0; bind[s][i]; i++) free (bind[s][i]);
    zstr_free (&events);
    return failed || zsys_interrupted ? 1 : 0;
}
