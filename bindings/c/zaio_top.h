/*  zaio_top.h: `zaio top` and `zaio stats`, a broker seen through its
    stats op (PROTOCOL.md section 5.3). Part of the zaio tool, never of
    libzaio.

    zaio_top_t is the view: it takes successive stats reports, computes
    rates from the differences of counters between the last two (over the
    broker's uptime between them) and percentiles from the differences of
    their latency histograms, and renders lines, sorted and filtered as
    asked, for a terminal (ncurses, zaio_top_run) or a pipe (a plain table
    per refresh).
*/
#ifndef ZAIO_TOP_H_INCLUDED
#define ZAIO_TOP_H_INCLUDED

#include "zaio.h"

#include <stdio.h>

//  The columns of the op table, in order; the view sorts by one of them.
typedef enum {
    ZAIO_TOP_COL_OP,
    ZAIO_TOP_COL_VOLUME,
    ZAIO_TOP_COL_JOBS,   //  jobs/s
    ZAIO_TOP_COL_BYTES,  //  bytes/s
    ZAIO_TOP_COL_ERRORS, //  errors/s
    ZAIO_TOP_COL_SVC50,  //  service time, p50 over the last interval
    ZAIO_TOP_COL_SVC99,
    ZAIO_TOP_COL_QUE50, //  queue time, p50 over the last interval
    ZAIO_TOP_COL_QUE99,
    ZAIO_TOP_COL_COUNT
} zaio_top_column_t;

//  How a rendered line is to be shown.
typedef enum {
    ZAIO_TOP_TEXT,    //  plain
    ZAIO_TOP_TITLE,   //  the summary at the top
    ZAIO_TOP_HEADING, //  a table's column names (reverse video)
    ZAIO_TOP_ALERT,   //  an error, e.g. the broker not answering
    ZAIO_TOP_KEYS     //  the key help on the last line (reverse video)
} zaio_top_style_t;

//  Called once per rendered line, top to bottom; text is borrowed.
typedef void (zaio_top_line_fn) (void *arg, zaio_top_style_t style, const char *text);

typedef struct _zaio_top_t zaio_top_t;

//  A view of the broker at endpoint (for the title; borrowed, must outlive
//  the view). Sorted by jobs/s, busiest first, no volume filter.
zaio_top_t *zaio_top_new (const char *endpoint);

//  Nulls *self_p; safe on NULL.
void zaio_top_destroy (zaio_top_t **self_p);

//  Take a new report (ownership; *report_p nulled): rates and percentiles
//  now cover the time since the report before, if there was one from the
//  same broker run (a smaller uptime is a restart: rates start again).
void zaio_top_update (zaio_top_t *self, zaio_stats_report_t **report_p);

//  Whether rates are known: two reports of one broker run are in.
bool zaio_top_has_rates (zaio_top_t *self);

//  Say that the last attempt at a report failed (NULL: it did not): shown
//  on the view until the next report. text is copied.
void zaio_top_set_alert (zaio_top_t *self, const char *text);

//  Sort by column, in its natural order (names A to Z, numbers largest
//  first), or the other way if reverse.
void zaio_top_set_sort (zaio_top_t *self, zaio_top_column_t column, bool reverse);
zaio_top_column_t zaio_top_sort (zaio_top_t *self, bool *reverse_p);

//  Show only volume (NULL or "": every volume). Copied.
void zaio_top_set_volume (zaio_top_t *self, const char *volume);

//  The refresh interval, for the title.
void zaio_top_set_interval (zaio_top_t *self, uint32_t msecs);

//  Render the view in at most height lines of at most width columns
//  (height 0: no limit, as for a pipe; then no key line either), calling
//  fn for each.
void zaio_top_render (zaio_top_t *self, int width, int height, zaio_top_line_fn *fn, void *arg);

//  The rows of the op table, after filter and sort, as rendered: their
//  count, and for test programs, row i's op, volume and jobs/s (-1 if not
//  known yet).
size_t zaio_top_rows (zaio_top_t *self);
void zaio_top_row (zaio_top_t *self, size_t i, const char **op, const char **volume,
                   double *jobs_rate);

//  The q quantile (0 < q <= 1) of the values counted in a latency
//  histogram since `before` (NULL: since the start): counts and before
//  hold bound_count + 1 buckets, bucket i counting values up to bounds[i]
//  and above bounds[i - 1], the last one the values above every bound.
//  Interpolates linearly inside the bucket; the overflow bucket gives its
//  lower bound. Returns microseconds, or -1 if nothing was counted.
double zaio_top_percentile (const uint64_t *counts, const uint64_t *before, const uint64_t *bounds,
                            size_t bound_count, double q);

//  What `zaio top` was asked for.
typedef struct {
    uint32_t interval_ms; //  between refreshes
    long count;           //  refreshes before exiting, 0: until q or an interrupt
    uint32_t top;         //  busiest clients to ask for
} zaio_top_options_t;

//  Run `zaio top` against client until q, an interrupt or count
//  refreshes: full-screen (ncurses) when stdout is a terminal, else a
//  plain table per refresh. Returns 0, EINTR if interrupted, or the error
//  of a stats call that failed in plain mode (full-screen, failures are
//  shown and retried), with what the broker or client said of it in why.
int zaio_top_run (zaio_client_t *client, const zaio_top_options_t *options, char *why,
                  size_t why_size);

//  Print report to out: as text (gauges, volumes, workers, jobs per op,
//  outcome and volume, latency percentiles since the start, busiest
//  clients), or as one JSON object with the reply's keys.
void zaio_top_print_stats (const zaio_stats_report_t *report, bool json, FILE *out);

#endif
