/*  zaio_perf_report.c: medians, ratios and the shared pieces of the
    benches' reports; see zaio_perf_report.h.
*/

#include "zaio_perf_report.h"

#include <czmq.h>
#include <unistd.h>

#ifndef ZAIO_BENCH_BUILD_TYPE
#define ZAIO_BENCH_BUILD_TYPE "unknown"
#endif

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double
zaio_perf_report_median (double *values, size_t count)
{
    assert (values && count > 0);
    qsort (values, count, sizeof (double), s_compare_double);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

void
zaio_perf_report_ratio (zaio_perf_ratio_t *ratio, const double *top, uint32_t top_count,
                        const double *bottom, uint32_t bottom_count)
{
    assert (ratio && top && bottom && top_count <= ZAIO_PERF_REPEAT_MAX);
    if (top_count == 0 || bottom_count != top_count) return;
    double ratios[ZAIO_PERF_REPEAT_MAX];
    for (uint32_t i = 0; i < top_count; i++) ratios[i] = bottom[i] > 0 ? top[i] / bottom[i] : 0;
    ratio->done = true;
    ratio->median = zaio_perf_report_median (ratios, top_count); //  sorts them
    ratio->low = ratios[0];
    ratio->high = ratios[top_count - 1];
}

void
zaio_perf_report_runs (const zaio_perf_options_t *options)
{
    assert (options);
    printf ("%u round%s of %.2g s runs per figure, %.2g s warmup; %ld CPUs; libzmq %d.%d.%d, "
            "czmq %d.%d.%d; build %s\n",
            options->repeat, options->repeat == 1 ? "" : "s", options->seconds, options->warmup,
            sysconf (_SC_NPROCESSORS_ONLN), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH,
            CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH, ZAIO_BENCH_BUILD_TYPE);
}

void
zaio_perf_report_json_platform (void)
{
    printf ("\"cpus\": %ld, \"libzmq\": \"%d.%d.%d\", \"czmq\": \"%d.%d.%d\", "
            "\"build_type\": \"%s\"",
            sysconf (_SC_NPROCESSORS_ONLN), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH,
            CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH, ZAIO_BENCH_BUILD_TYPE);
}

void
zaio_perf_report_json_string (const char *text)
{
    assert (text);
    putchar ('"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf ("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf ("\\u%04x", *p);
        else
            putchar (*p);
    }
    putchar ('"');
}

void
zaio_perf_report_json_ratio (const char *name, const zaio_perf_ratio_t *ratio)
{
    assert (name && ratio);
    if (ratio->done)
        printf ("\"%s\": %.3f, \"%s_range\": [%.3f, %.3f]", name, ratio->median, name, ratio->low,
                ratio->high);
    else
        printf ("\"%s\": null", name);
}

bool
zaio_perf_report_json_unmeasured (bool done, const char *error)
{
    assert (error);
    if (done) return false;
    if (*error) {
        printf ("{\"error\": ");
        zaio_perf_report_json_string (error);
        printf ("}");
    } else
        printf ("null");
    return true;
}
