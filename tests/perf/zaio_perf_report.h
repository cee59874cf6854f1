/*  zaio_perf_report.h: what the benches' reports share.

    A figure is the median of its side's runs; a ratio, one side over
    another, is the median of the rounds' ratios (a round's two runs are
    seconds apart, so its ratio is what a shared machine's slow and fast
    spells move least), shown with their range. And the pieces of the
    table and the JSON every bench prints alike: the rounds and the
    platform, JSON strings, ratios and figures that were not measured.
*/
#ifndef ZAIO_PERF_REPORT_H_INCLUDED
#define ZAIO_PERF_REPORT_H_INCLUDED

#include "zaio_perf_options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  One side over another, round by round: the median and the range.
typedef struct {
    bool done;
    double median;
    double low;
    double high;
} zaio_perf_ratio_t;

//  The median of count values (count > 0); sorts them.
double zaio_perf_report_median (double *values, size_t count);

//  Fills ratio with the median and range of top[i] / bottom[i] (0 where
//  bottom[i] is not above 0), round by round; done only if both sides ran
//  every round (the same count, not 0), else it is left as it is.
void zaio_perf_report_ratio (zaio_perf_ratio_t *ratio, const double *top, uint32_t top_count,
                             const double *bottom, uint32_t bottom_count);

//  Prints the table heading's line "N rounds of S s runs per figure, W s
//  warmup; C CPUs; libzmq x.y.z, czmq x.y.z; build T" and a newline.
void zaio_perf_report_runs (const zaio_perf_options_t *options);

//  Prints the end of the JSON config: "cpus", "libzmq", "czmq" and
//  "build_type", with no comma after.
void zaio_perf_report_json_platform (void);

//  Prints text as a JSON string; our strings are ASCII, but error texts
//  may hold quotes.
void zaio_perf_report_json_string (const char *text);

//  Prints "name": median, "name_range": [low, high]; or "name": null if
//  the ratio was not measured.
void zaio_perf_report_json_ratio (const char *name, const zaio_perf_ratio_t *ratio);

//  A figure not done: prints null if it was not run (error empty), else
//  {"error": error}, and returns true; prints nothing for a done one and
//  returns false.
bool zaio_perf_report_json_unmeasured (bool done, const char *error);

#ifdef __cplusplus
}
#endif

#endif
