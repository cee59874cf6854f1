/*  zaio_top.c: zaio_top_t, `zaio top` and `zaio stats` (see zaio_top.h).

    A report holds counters since the broker started; the view keeps the
    last two and shows, per op and volume, the jobs, bytes and errors per
    second between them (over the broker's own uptime, so that a slow
    round trip does not skew the rate), and per op the p50 and p99 of
    queue and service time of the jobs finished between them, from the
    difference of the histograms. Gauges (queued, running, held replies,
    workers' load) are shown as the last report has them.

    The full-screen loop is ncurses: getch with a timeout that ends at the
    next refresh, keys handled in between. When stdout is not a terminal
    the same lines are printed, one table per refresh, with no key line.
*/

#include "zaio_top.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_NAME_MAX     80  //  an op:volume key, a client or worker name
#define S_LINE_MAX     512 //  a rendered line
#define S_INTERVAL_MIN 100 //  ms between refreshes, at least
#define S_BAR_WIDTH    10  //  a worker's load bar
#define S_PROMPT_MAX   64  //  the volume typed at the v prompt

//  One row of the op table: an op on a volume, all outcomes together.
typedef struct {
    char op[16];
    char volume[ZAIO_VOLUME_MAX + 1];
    uint64_t jobs, bytes, errors;             //  since the broker started
    double jobs_rate, bytes_rate, error_rate; //  -1: not known
    double svc50, svc99, que50, que99;        //  us; -1: none finished
} s_row_t;

struct _zaio_top_t {
    const char *endpoint;
    zaio_stats_report_t *now;    //  the last report, NULL before one
    zaio_stats_report_t *before; //  the one before it, same broker run
    double seconds;              //  between them, by the broker's uptime
    s_row_t *rows;               //  the op table, filtered and sorted
    size_t row_count;
    zaio_top_column_t sort;
    bool reverse;
    char volume[ZAIO_VOLUME_MAX + 1]; //  "": every volume
    char alert[256];
    uint32_t interval_ms;
};

static const char *s_column_names[ZAIO_TOP_COL_COUNT] = {
    "OP", "VOLUME", "JOBS/S", "BYTES/S", "ERR/S", "SVC50", "SVC99", "QUE50", "QUE99"};

//  ---------------------------------------------------------------------
//  Numbers

double
zaio_top_percentile (const uint64_t *counts, const uint64_t *before, const uint64_t *bounds,
                     size_t bound_count, double q)
{
    assert (counts && bounds && bound_count > 0 && q > 0 && q <= 1);
    uint64_t total = 0;
    for (size_t i = 0; i <= bound_count; i++) {
        uint64_t count = counts[i] - (before && before[i] <= counts[i] ? before[i] : 0);
        total += count;
    }
    if (total == 0) return -1;
    double target = q * (double)total, seen = 0;
    for (size_t i = 0; i <= bound_count; i++) {
        double count = (double)(counts[i] - (before && before[i] <= counts[i] ? before[i] : 0));
        if (count > 0 && seen + count >= target) {
            double lower = i ? (double)bounds[i - 1] : 0;
            if (i == bound_count) return lower; //  above every bound
            return lower + ((double)bounds[i] - lower) * (target - seen) / count;
        }
        seen += count;
    }
    return (double)bounds[bound_count - 1];
}

//  count as 950, 12.3k, 4.56M... into buf; "-" if negative (not known).
static void
s_format_count (double count, char *buf, size_t size)
{
    if (count < 0)
        snprintf (buf, size, "-");
    else if (count < 1000)
        snprintf (buf, size, count < 10 && count != floor (count) ? "%.1f" : "%.0f", count);
    else if (count < 1e6)
        snprintf (buf, size, "%.1fk", count / 1e3);
    else if (count < 1e9)
        snprintf (buf, size, "%.2fM", count / 1e6);
    else
        snprintf (buf, size, "%.2fG", count / 1e9);
}

//  bytes as 512 B, 1.5 KiB, 3.2 MiB...; "-" if negative.
static void
s_format_bytes (double bytes, char *buf, size_t size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 0) {
        snprintf (buf, size, "-");
        return;
    }
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        unit++;
    }
    snprintf (buf, size, unit ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
}

//  us as 12us, 1.5ms, 2.25s; "-" if negative.
static void
s_format_us (double us, char *buf, size_t size)
{
    if (us < 0)
        snprintf (buf, size, "-");
    else if (us < 1000)
        snprintf (buf, size, "%.0fus", us);
    else if (us < 1e6)
        snprintf (buf, size, "%.1fms", us / 1e3);
    else
        snprintf (buf, size, "%.2fs", us / 1e6);
}

//  ---------------------------------------------------------------------
//  The op table

//  The key of op on volume in a row index: "OP VOLUME" (neither has a
//  space).
static void
s_row_key (char *buf, size_t size, const char *op, const char *volume)
{
    snprintf (buf, size, "%s %s", op, volume);
}

//  The row of rows for op and volume (found through index, which maps keys
//  to rows), added if new. rows has room.
static s_row_t *
s_row_for (s_row_t *rows, size_t *count, zhashx_t *index, const char *op, const char *volume)
{
    char key[S_NAME_MAX + ZAIO_VOLUME_MAX];
    s_row_key (key, sizeof key, op, volume);
    s_row_t *row = (s_row_t *)zhashx_lookup (index, key);
    if (row) return row;
    row = &rows[(*count)++];
    memset (row, 0, sizeof *row);
    snprintf (row->op, sizeof row->op, "%s", op);
    snprintf (row->volume, sizeof row->volume, "%s", volume);
    zhashx_insert (index, key, row);
    return row;
}

//  The report's rows summed per op and volume into a new array (caller
//  frees), *count of them, each under its key in index (which borrows
//  them): one pass, however many rows the broker lists.
static s_row_t *
s_sum_rows (const zaio_stats_report_t *report, size_t *count, zhashx_t *index)
{
    s_row_t *rows = (s_row_t *)calloc (report->row_count + 1, sizeof (s_row_t));
    assert (rows);
    *count = 0;
    for (size_t i = 0; i < report->row_count; i++) {
        const zaio_stats_report_row_t *in = &report->rows[i];
        s_row_t *row = s_row_for (rows, count, index, in->op, in->volume);
        row->jobs += in->jobs;
        row->bytes += in->bytes;
        if (!streq (in->outcome, "ok")) row->errors += in->jobs;
    }
    return rows;
}

static const zaio_stats_report_latency_t *
s_latency (const zaio_stats_report_t *report, const char *op)
{
    for (size_t i = 0; report && i < report->latency_count; i++)
        if (streq (report->latency[i].op, op)) return &report->latency[i];
    return NULL;
}

//  A counter's rate between two values over seconds; -1 if not known.
//  A counter that went down (its row folded into volume "" by the
//  broker's bound) counts as still.
static double
s_rate (uint64_t now, uint64_t before, double seconds)
{
    if (seconds <= 0) return -1;
    return now >= before ? (double)(now - before) / seconds : 0;
}

static int s_sort_order (const void *a, const void *b, void *arg);

//  Rebuild the op table from the last two reports, filter and sort it.
static void
s_build (zaio_top_t *self)
{
    free (self->rows);
    self->rows = NULL;
    self->row_count = 0;
    if (!self->now) return;
    size_t count, old_count = 0;
    zhashx_t *index = zhashx_new (), *old_index = zhashx_new ();
    assert (index && old_index);
    s_row_t *rows = s_sum_rows (self->now, &count, index);
    s_row_t *old = self->before ? s_sum_rows (self->before, &old_count, old_index) : NULL;
    double seconds = self->before ? self->seconds : 0;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        s_row_t *row = &rows[i];
        if (*self->volume && !streq (row->volume, self->volume)) continue;
        s_row_t zero;
        memset (&zero, 0, sizeof zero);
        char key[S_NAME_MAX + ZAIO_VOLUME_MAX];
        s_row_key (key, sizeof key, row->op, row->volume);
        const s_row_t *was = (const s_row_t *)zhashx_lookup (old_index, key);
        if (!was) was = &zero;
        row->jobs_rate = s_rate (row->jobs, was->jobs, seconds);
        row->bytes_rate = s_rate (row->bytes, was->bytes, seconds);
        row->error_rate = s_rate (row->errors, was->errors, seconds);
        const zaio_stats_report_latency_t *lat = s_latency (self->now, row->op);
        const zaio_stats_report_latency_t *lat_was =
            seconds > 0 ? s_latency (self->before, row->op) : NULL;
        row->svc50 = row->svc99 = row->que50 = row->que99 = -1;
        size_t bounds = self->now->bound_count;
        if (lat && bounds && (seconds > 0 || !self->before)) {
            const uint64_t *svc_was = lat_was ? lat_was->service : NULL;
            const uint64_t *que_was = lat_was ? lat_was->queue : NULL;
            //  Before rates are known, since the start.
            row->svc50 =
                zaio_top_percentile (lat->service, svc_was, self->now->bounds_us, bounds, 0.5);
            row->svc99 =
                zaio_top_percentile (lat->service, svc_was, self->now->bounds_us, bounds, 0.99);
            row->que50 =
                zaio_top_percentile (lat->queue, que_was, self->now->bounds_us, bounds, 0.5);
            row->que99 =
                zaio_top_percentile (lat->queue, que_was, self->now->bounds_us, bounds, 0.99);
        }
        rows[kept++] = *row;
    }
    free (old);
    zhashx_destroy (&index);
    zhashx_destroy (&old_index);
    qsort_r (rows, kept, sizeof (s_row_t), s_sort_order, self);
    self->rows = rows;
    self->row_count = kept;
}

//  The value of row in column, for sorting numbers.
static double
s_value (const s_row_t *row, zaio_top_column_t column)
{
    switch (column) {
        case ZAIO_TOP_COL_JOBS:
            return row->jobs_rate >= 0 ? row->jobs_rate : (double)row->jobs * 1e-12;
        case ZAIO_TOP_COL_BYTES:
            return row->bytes_rate >= 0 ? row->bytes_rate : (double)row->bytes * 1e-12;
        case ZAIO_TOP_COL_ERRORS:
            return row->error_rate >= 0 ? row->error_rate : (double)row->errors * 1e-12;
        case ZAIO_TOP_COL_SVC50:
            return row->svc50;
        case ZAIO_TOP_COL_SVC99:
            return row->svc99;
        case ZAIO_TOP_COL_QUE50:
            return row->que50;
        case ZAIO_TOP_COL_QUE99:
            return row->que99;
        default:
            return 0;
    }
}

//  Names A to Z and numbers largest first, or the other way if reversed;
//  ties by op, then volume.
static int
s_sort_order (const void *a, const void *b, void *arg)
{
    const zaio_top_t *self = (const zaio_top_t *)arg;
    const s_row_t *x = (const s_row_t *)a, *y = (const s_row_t *)b;
    int order = 0;
    if (self->sort == ZAIO_TOP_COL_OP)
        order = strcmp (x->op, y->op);
    else if (self->sort == ZAIO_TOP_COL_VOLUME)
        order = strcmp (x->volume, y->volume);
    else {
        double vx = s_value (x, self->sort), vy = s_value (y, self->sort);
        order = vx > vy ? -1 : vx < vy ? 1 : 0;
    }
    if (self->reverse) order = -order;
    if (order == 0) order = strcmp (x->op, y->op);
    if (order == 0) order = strcmp (x->volume, y->volume);
    return order;
}

//  ---------------------------------------------------------------------
//  The view

zaio_top_t *
zaio_top_new (const char *endpoint)
{
    zaio_top_t *self = (zaio_top_t *)calloc (1, sizeof (zaio_top_t));
    assert (self);
    self->endpoint = endpoint ? endpoint : "";
    self->sort = ZAIO_TOP_COL_JOBS;
    self->interval_ms = 1000;
    return self;
}

void
zaio_top_destroy (zaio_top_t **self_p)
{
    assert (self_p);
    zaio_top_t *self = *self_p;
    if (self) {
        zaio_stats_report_destroy (&self->now);
        zaio_stats_report_destroy (&self->before);
        free (self->rows);
        free (self);
        *self_p = NULL;
    }
}

void
zaio_top_update (zaio_top_t *self, zaio_stats_report_t **report_p)
{
    assert (self && report_p && *report_p);
    zaio_stats_report_t *report = *report_p;
    *report_p = NULL;
    zaio_stats_report_destroy (&self->before);
    //  A smaller uptime is a new broker: its counters start again.
    if (self->now && report->uptime_ms > self->now->uptime_ms) {
        self->before = self->now;
        self->seconds = (double)(report->uptime_ms - self->now->uptime_ms) / 1000.0;
    } else
        zaio_stats_report_destroy (&self->now);
    self->now = report;
    self->alert[0] = 0;
    s_build (self);
}

bool
zaio_top_has_rates (zaio_top_t *self)
{
    assert (self);
    return self->before != NULL;
}

void
zaio_top_set_alert (zaio_top_t *self, const char *text)
{
    assert (self);
    snprintf (self->alert, sizeof self->alert, "%s", text ? text : "");
}

void
zaio_top_set_sort (zaio_top_t *self, zaio_top_column_t column, bool reverse)
{
    assert (self && column < ZAIO_TOP_COL_COUNT);
    self->sort = column;
    self->reverse = reverse;
    if (self->rows) qsort_r (self->rows, self->row_count, sizeof (s_row_t), s_sort_order, self);
}

zaio_top_column_t
zaio_top_sort (zaio_top_t *self, bool *reverse_p)
{
    assert (self);
    if (reverse_p) *reverse_p = self->reverse;
    return self->sort;
}

void
zaio_top_set_volume (zaio_top_t *self, const char *volume)
{
    assert (self);
    snprintf (self->volume, sizeof self->volume, "%s", volume ? volume : "");
    s_build (self);
}

void
zaio_top_set_interval (zaio_top_t *self, uint32_t msecs)
{
    assert (self);
    self->interval_ms = msecs;
}

size_t
zaio_top_rows (zaio_top_t *self)
{
    assert (self);
    return self->row_count;
}

void
zaio_top_row (zaio_top_t *self, size_t i, const char **op, const char **volume, double *jobs_rate)
{
    assert (self && i < self->row_count);
    *op = self->rows[i].op;
    *volume = self->rows[i].volume;
    *jobs_rate = self->rows[i].jobs_rate;
}

//  ---------------------------------------------------------------------
//  Rendering

typedef struct {
    zaio_top_line_fn *fn;
    void *arg;
    int width;
    int left; //  lines left; -1: no limit
} s_out_t;

//  One line, cut to the width; false (nothing sent) when no line is left.
static bool
s_line (s_out_t *out, zaio_top_style_t style, const char *text)
{
    if (out->left == 0) return false;
    char line[S_LINE_MAX];
    snprintf (line, sizeof line, "%.*s",
              out->width > 0 && out->width < S_LINE_MAX ? out->width : S_LINE_MAX - 1, text);
    out->fn (out->arg, style, line);
    if (out->left > 0) out->left--;
    return true;
}

//  "1d 02:03:04" or "02:03:04" for ms of uptime.
static void
s_format_uptime (uint64_t ms, char *buf, size_t size)
{
    uint64_t s = ms / 1000;
    if (s >= 86400)
        snprintf (buf, size, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
                  s / 3600 % 24, s / 60 % 60, s % 60);
    else
        snprintf (buf, size, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
                  s % 60);
}

//  The summary lines: the broker, then its totals and gauges.
static void
s_render_title (zaio_top_t *self, s_out_t *out)
{
    char line[S_LINE_MAX], uptime[32], when[32];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    bool reverse;
    zaio_top_column_t sort = zaio_top_sort (self, &reverse);
    if (!self->now) {
        snprintf (line, sizeof line, "zaio top: %s  broker at %s: no report yet", when,
                  self->endpoint);
        s_line (out, ZAIO_TOP_TITLE, line);
    } else {
        s_format_uptime (self->now->uptime_ms, uptime, sizeof uptime);
        snprintf (line, sizeof line, "zaio top: %s  broker %s at %s, up %s  every %.1f s", when,
                  self->now->version, self->endpoint, uptime, self->interval_ms / 1000.0);
        s_line (out, ZAIO_TOP_TITLE, line);
        double jobs = self->before ? 0 : -1, bytes = jobs, errors = jobs;
        for (size_t i = 0; i < self->row_count && self->before; i++) {
            jobs += self->rows[i].jobs_rate;
            bytes += self->rows[i].bytes_rate;
            errors += self->rows[i].error_rate;
        }
        char j[32], b[32], e[32], qb[32], hb[32];
        s_format_count (jobs, j, sizeof j);
        s_format_bytes (bytes, b, sizeof b);
        s_format_count (errors, e, sizeof e);
        s_format_bytes ((double)self->now->queued_bytes, qb, sizeof qb);
        s_format_bytes ((double)self->now->held_bytes, hb, sizeof hb);
        snprintf (line, sizeof line,
                  "jobs %s/s  bytes %s/s  errors %s/s   queued %" PRIu64 " (%s)  running %" PRIu64
                  "  in flight %" PRIu64 "  held %" PRIu64 " (%s)",
                  j, b, e, self->now->queued, qb, self->now->running, self->now->inflight,
                  self->now->held_replies, hb);
        s_line (out, ZAIO_TOP_TITLE, line);
        snprintf (line, sizeof line,
                  "sort %s%s  volume %s   clients %" PRIu64 "  workers %" PRIu64
                  "  subscriptions %" PRIu64,
                  s_column_names[sort], reverse ? " (reversed)" : "",
                  *self->volume ? self->volume : "(all)", self->now->clients, self->now->workers,
                  self->now->subscriptions);
        s_line (out, ZAIO_TOP_TITLE, line);
    }
    if (*self->alert) s_line (out, ZAIO_TOP_ALERT, self->alert);
}

//  The op table: its heading (the sort column marked with *) and at most
//  max rows (-1: all), then how many did not fit.
static void
s_render_ops (zaio_top_t *self, s_out_t *out, int max)
{
    char names[ZAIO_TOP_COL_COUNT][16];
    for (int c = 0; c < ZAIO_TOP_COL_COUNT; c++)
        snprintf (names[c], sizeof names[c], "%s%s", s_column_names[c],
                  c == (int)self->sort ? "*" : "");
    char line[S_LINE_MAX];
    snprintf (line, sizeof line, "%-10s %-16s %9s %11s %8s %8s %8s %8s %8s", names[0], names[1],
              names[2], names[3], names[4], names[5], names[6], names[7], names[8]);
    s_line (out, ZAIO_TOP_HEADING, line);
    size_t shown = 0;
    for (; shown < self->row_count && (max < 0 || (int)shown < max); shown++) {
        const s_row_t *row = &self->rows[shown];
        char j[32], b[32], e[32], s50[16], s99[16], q50[16], q99[16];
        s_format_count (row->jobs_rate, j, sizeof j);
        s_format_bytes (row->bytes_rate, b, sizeof b);
        s_format_count (row->error_rate, e, sizeof e);
        s_format_us (row->svc50, s50, sizeof s50);
        s_format_us (row->svc99, s99, sizeof s99);
        s_format_us (row->que50, q50, sizeof q50);
        s_format_us (row->que99, q99, sizeof q99);
        snprintf (line, sizeof line, "%-10s %-16s %9s %11s %8s %8s %8s %8s %8s",
                  *row->op ? row->op : "?", *row->volume ? row->volume : "-", j, b, e, s50, s99,
                  q50, q99);
        if (!s_line (out, ZAIO_TOP_TEXT, line)) return;
    }
    if (shown < self->row_count) {
        snprintf (line, sizeof line, "... %zu more", self->row_count - shown);
        s_line (out, ZAIO_TOP_TEXT, line);
    }
}

//  True if worker serves volume (its comma-separated list names it).
static bool
s_serves (const zaio_stats_report_worker_t *worker, const char *volume)
{
    size_t len = strlen (volume);
    for (const char *at = worker->volumes; *at;) {
        size_t span = strcspn (at, ",");
        if (span == len && strncmp (at, volume, len) == 0) return true;
        at += span + (at[span] == ',');
    }
    return false;
}

//  The workers (of the volume shown, if one is): name, volumes, load as a
//  bar of running / capacity, jobs/s.
static void
s_render_workers (zaio_top_t *self, s_out_t *out, int max)
{
    char line[S_LINE_MAX];
    snprintf (line, sizeof line, "%-28s %-16s %-*s %9s %9s %8s", "WORKER", "VOLUMES",
              S_BAR_WIDTH + 2, "LOAD", "RUNNING", "CAPACITY", "JOBS/S");
    s_line (out, ZAIO_TOP_HEADING, line);
    int shown = 0, hidden = 0;
    for (size_t i = 0; i < self->now->worker_count; i++) {
        const zaio_stats_report_worker_t *worker = &self->now->worker_list[i];
        if (*self->volume && !s_serves (worker, self->volume)) continue;
        if (max >= 0 && shown >= max) {
            hidden++;
            continue;
        }
        double rate = -1;
        for (size_t j = 0; self->before && j < self->before->worker_count; j++)
            if (streq (self->before->worker_list[j].name, worker->name))
                rate = s_rate (worker->jobs, self->before->worker_list[j].jobs, self->seconds);
        char bar[S_BAR_WIDTH + 3];
        int filled =
            worker->capacity
                ? (int)((worker->running * S_BAR_WIDTH + worker->capacity - 1) / worker->capacity)
                : 0;
        if (filled > S_BAR_WIDTH) filled = S_BAR_WIDTH;
        bar[0] = '[';
        for (int k = 0; k < S_BAR_WIDTH; k++) bar[1 + k] = k < filled ? '|' : ' ';
        bar[S_BAR_WIDTH + 1] = ']';
        bar[S_BAR_WIDTH + 2] = 0;
        char r[32];
        s_format_count (rate, r, sizeof r);
        snprintf (line, sizeof line, "%-28s %-16s %s %9" PRIu64 " %9" PRIu64 " %8s%s", worker->name,
                  worker->volumes, bar, worker->running, worker->capacity, r,
                  worker->remote ? "" : "  (local)");
        if (!s_line (out, ZAIO_TOP_TEXT, line)) return;
        shown++;
    }
    if (hidden || self->now->workers > self->now->worker_count) {
        snprintf (line, sizeof line, "... %d more shown, %" PRIu64 " workers in all", hidden,
                  self->now->workers);
        s_line (out, ZAIO_TOP_TEXT, line);
    }
}

//  The busiest clients: jobs/s, bytes/s, errors/s since the report
//  before (of those it listed too), and their totals.
static void
s_render_clients (zaio_top_t *self, s_out_t *out, int max)
{
    char line[S_LINE_MAX];
    snprintf (line, sizeof line, "%-40s %9s %11s %8s %12s", "CLIENT", "JOBS/S", "BYTES/S", "ERR/S",
              "JOBS");
    s_line (out, ZAIO_TOP_HEADING, line);
    for (size_t i = 0; i < self->now->client_count && (max < 0 || (int)i < max); i++) {
        const zaio_stats_report_client_t *client = &self->now->clients_top[i];
        double jobs = -1, bytes = -1, errors = -1;
        for (size_t j = 0; self->before && j < self->before->client_count; j++) {
            const zaio_stats_report_client_t *was = &self->before->clients_top[j];
            if (!streq (was->client, client->client)) continue;
            jobs = s_rate (client->jobs, was->jobs, self->seconds);
            bytes = s_rate (client->bytes, was->bytes, self->seconds);
            errors = s_rate (client->errors, was->errors, self->seconds);
        }
        char j[32], b[32], e[32];
        s_format_count (jobs, j, sizeof j);
        s_format_bytes (bytes, b, sizeof b);
        s_format_count (errors, e, sizeof e);
        snprintf (line, sizeof line, "%-40s %9s %11s %8s %12" PRIu64, client->client, j, b, e,
                  client->jobs);
        if (!s_line (out, ZAIO_TOP_TEXT, line)) return;
    }
}

void
zaio_top_render (zaio_top_t *self, int width, int height, zaio_top_line_fn *fn, void *arg)
{
    assert (self && fn);
    s_out_t out = {fn, arg, width, height > 0 ? height - 1 : -1};
    s_render_title (self, &out);
    if (self->now) {
        //  The rest of the screen: the op table gets what it needs of
        //  half, then workers and clients share what is left.
        int left = out.left;
        int ops = left < 0 ? -1 : (left - 2) / 2;
        if (ops >= 0 && (size_t)ops > self->row_count) ops = (int)self->row_count;
        s_line (&out, ZAIO_TOP_TEXT, "");
        s_render_ops (self, &out, ops);
        int rest = out.left < 0 ? -1 : (out.left - 4) / 2;
        if (rest >= 0 && rest < 1) rest = 1;
        s_line (&out, ZAIO_TOP_TEXT, "");
        s_render_workers (self, &out, rest);
        s_line (&out, ZAIO_TOP_TEXT, "");
        s_render_clients (self, &out, out.left < 0 ? -1 : out.left > 0 ? out.left - 1 : 0);
    }
    if (height > 0) {
        while (out.left > 0) s_line (&out, ZAIO_TOP_TEXT, "");
        out.left = 1;
        s_line (&out, ZAIO_TOP_KEYS,
                "q quit  s next sort column  < > sort left/right  r reverse  v volume  h help");
    }
}

//  ---------------------------------------------------------------------
//  zaio stats

//  JSON string body of text (no quotes) to out.
static void
s_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if (*c == '"' || *c == '\\')
            fprintf (out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf (out, "\\u%04x", *c);
        else
            fputc (*c, out);
    fputc ('"', out);
}

static void
s_json_buckets (FILE *out, const char *key, const uint64_t *buckets, size_t count)
{
    fprintf (out, ",\"%s\":[", key);
    for (size_t i = 0; i < count; i++) fprintf (out, "%s%" PRIu64, i ? "," : "", buckets[i]);
    fputc (']', out);
}

//  The report as one JSON object with the keys of the stats reply.
static void
s_print_json (const zaio_stats_report_t *report, FILE *out)
{
    fprintf (out, "{\"version\":");
    s_json_string (out, report->version);
    fprintf (out,
             ",\"uptime_ms\":%" PRIu64 ",\"time_ns\":%" PRId64 ",\"gauges\":{\"queued\":%" PRIu64
             ",\"queued_bytes\":%" PRIu64 ",\"running\":%" PRIu64 ",\"inflight\":%" PRIu64
             ",\"held_replies\":%" PRIu64 ",\"held_bytes\":%" PRIu64 ",\"clients\":%" PRIu64
             ",\"workers\":%" PRIu64 ",\"subscriptions\":%" PRIu64 "}",
             report->uptime_ms, report->time_ns, report->queued, report->queued_bytes,
             report->running, report->inflight, report->held_replies, report->held_bytes,
             report->clients, report->workers, report->subscriptions);
    fprintf (out, ",\"volumes\":[");
    for (size_t i = 0; i < report->volume_count; i++) {
        const zaio_stats_report_volume_t *v = &report->volumes[i];
        fprintf (out, "%s{\"name\":", i ? "," : "");
        s_json_string (out, v->name);
        fprintf (out,
                 ",\"workers\":%" PRIu64 ",\"credit\":%" PRIu64 ",\"capacity\":%" PRIu64
                 ",\"running\":%" PRIu64 ",\"queued\":%" PRIu64 "}",
                 v->workers, v->credit, v->capacity, v->running, v->queued);
    }
    fprintf (out, "],\"workers\":[");
    for (size_t i = 0; i < report->worker_count; i++) {
        const zaio_stats_report_worker_t *w = &report->worker_list[i];
        fprintf (out, "%s{\"name\":", i ? "," : "");
        s_json_string (out, w->name);
        fprintf (out, ",\"volumes\":[");
        for (const char *at = w->volumes; *at;) {
            size_t span = strcspn (at, ",");
            char name[ZAIO_VOLUME_MAX + 1];
            snprintf (name, sizeof name, "%.*s", (int)span, at);
            fprintf (out, "%s", at == w->volumes ? "" : ",");
            s_json_string (out, name);
            at += span + (at[span] == ',');
        }
        fprintf (out,
                 "],\"credit\":%" PRIu64 ",\"capacity\":%" PRIu64 ",\"running\":%" PRIu64
                 ",\"jobs\":%" PRIu64 ",\"remote\":%s}",
                 w->credit, w->capacity, w->running, w->jobs, w->remote ? "true" : "false");
    }
    fprintf (out, "],\"jobs\":[");
    for (size_t i = 0; i < report->row_count; i++) {
        const zaio_stats_report_row_t *r = &report->rows[i];
        fprintf (out, "%s{\"op\":", i ? "," : "");
        s_json_string (out, r->op);
        fprintf (out, ",\"outcome\":");
        s_json_string (out, r->outcome);
        fprintf (out, ",\"volume\":");
        s_json_string (out, r->volume);
        fprintf (out, ",\"jobs\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", r->jobs, r->bytes);
    }
    fprintf (out, "],\"latency_bounds_us\":[");
    for (size_t i = 0; i < report->bound_count; i++)
        fprintf (out, "%s%" PRIu64, i ? "," : "", report->bounds_us[i]);
    fprintf (out, "],\"latency\":[");
    size_t buckets = report->bound_count ? report->bound_count + 1 : 0;
    for (size_t i = 0; i < report->latency_count; i++) {
        const zaio_stats_report_latency_t *l = &report->latency[i];
        fprintf (out, "%s{\"op\":", i ? "," : "");
        s_json_string (out, l->op);
        fprintf (out,
                 ",\"count\":%" PRIu64 ",\"queue_sum_us\":%" PRIu64 ",\"service_sum_us\":%" PRIu64,
                 l->count, l->queue_sum_us, l->service_sum_us);
        s_json_buckets (out, "queue", l->queue, buckets);
        s_json_buckets (out, "service", l->service, buckets);
        fputc ('}', out);
    }
    fprintf (out, "],\"top_clients\":[");
    for (size_t i = 0; i < report->client_count; i++) {
        const zaio_stats_report_client_t *c = &report->clients_top[i];
        fprintf (out, "%s{\"client\":", i ? "," : "");
        s_json_string (out, c->client);
        fprintf (out, ",\"jobs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
                 c->jobs, c->bytes, c->errors);
    }
    fprintf (out, "]}\n");
}

void
zaio_top_print_stats (const zaio_stats_report_t *report, bool json, FILE *out)
{
    assert (report && out);
    if (json) {
        s_print_json (report, out);
        return;
    }
    char uptime[32], qb[32], hb[32];
    s_format_uptime (report->uptime_ms, uptime, sizeof uptime);
    s_format_bytes ((double)report->queued_bytes, qb, sizeof qb);
    s_format_bytes ((double)report->held_bytes, hb, sizeof hb);
    fprintf (out, "broker %s, up %s\n", report->version, uptime);
    fprintf (out,
             "queued %" PRIu64 " (%s), running %" PRIu64 ", in flight %" PRIu64 ", held %" PRIu64
             " (%s), clients %" PRIu64 ", workers %" PRIu64 ", subscriptions %" PRIu64 "\n",
             report->queued, qb, report->running, report->inflight, report->held_replies, hb,
             report->clients, report->workers, report->subscriptions);
    fprintf (out, "\n%-16s %8s %9s %9s %9s %9s\n", "VOLUME", "WORKERS", "RUNNING", "CAPACITY",
             "CREDIT", "QUEUED");
    for (size_t i = 0; i < report->volume_count; i++) {
        const zaio_stats_report_volume_t *v = &report->volumes[i];
        fprintf (out, "%-16s %8" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
                 v->name, v->workers, v->running, v->capacity, v->credit, v->queued);
    }
    fprintf (out, "\n%-28s %-16s %9s %9s %12s %s\n", "WORKER", "VOLUMES", "RUNNING", "CAPACITY",
             "JOBS", "WHERE");
    for (size_t i = 0; i < report->worker_count; i++) {
        const zaio_stats_report_worker_t *w = &report->worker_list[i];
        fprintf (out, "%-28s %-16s %9" PRIu64 " %9" PRIu64 " %12" PRIu64 " %s\n", w->name,
                 w->volumes, w->running, w->capacity, w->jobs, w->remote ? "remote" : "local");
    }
    fprintf (out, "\n%-10s %-14s %-16s %12s %12s\n", "OP", "OUTCOME", "VOLUME", "JOBS", "BYTES");
    for (size_t i = 0; i < report->row_count; i++) {
        const zaio_stats_report_row_t *r = &report->rows[i];
        fprintf (out, "%-10s %-14s %-16s %12" PRIu64 " %12" PRIu64 "\n", *r->op ? r->op : "?",
                 r->outcome, *r->volume ? r->volume : "-", r->jobs, r->bytes);
    }
    fprintf (out, "\n%-10s %12s %9s %9s %9s %9s\n", "OP", "JOBS", "SVC50", "SVC99", "QUE50",
             "QUE99");
    for (size_t i = 0; i < report->latency_count && report->bound_count; i++) {
        const zaio_stats_report_latency_t *l = &report->latency[i];
        char s50[16], s99[16], q50[16], q99[16];
        size_t n = report->bound_count;
        s_format_us (zaio_top_percentile (l->service, NULL, report->bounds_us, n, 0.5), s50, 16);
        s_format_us (zaio_top_percentile (l->service, NULL, report->bounds_us, n, 0.99), s99, 16);
        s_format_us (zaio_top_percentile (l->queue, NULL, report->bounds_us, n, 0.5), q50, 16);
        s_format_us (zaio_top_percentile (l->queue, NULL, report->bounds_us, n, 0.99), q99, 16);
        fprintf (out, "%-10s %12" PRIu64 " %9s %9s %9s %9s\n", l->op, l->count, s50, s99, q50, q99);
    }
    fprintf (out, "\n%-40s %12s %14s %9s\n", "CLIENT", "JOBS", "BYTES", "ERRORS");
    for (size_t i = 0; i < report->client_count; i++) {
        const zaio_stats_report_client_t *c = &report->clients_top[i];
        fprintf (out, "%-40s %12" PRIu64 " %14" PRIu64 " %9" PRIu64 "\n", c->client, c->jobs,
                 c->bytes, c->errors);
    }
}

//  ---------------------------------------------------------------------
//  zaio top: the loop

//  Ask for a report and give it to the view; on failure say so on the
//  view, and what the broker or client said in why. Returns 0 or the
//  error.
static int
s_refresh (zaio_top_t *self, zaio_client_t *client, uint32_t top, char *why, size_t why_size)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, 0);
    zaio_request_set_uint (&req, ZAIO_FIELD_TOP, top);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    zaio_stats_report_t *report = NULL;
    int rc = zaio_call_wait (call, -1) ? EINTR : zaio_call_stats (call, &report);
    if (rc == 0) {
        zaio_call_destroy (&call);
        zaio_top_update (self, &report);
        return 0;
    }
    //  The broker's and the client's words are untrusted: no control
    //  characters reach the terminal.
    snprintf (why, why_size, "%s",
              *zaio_call_message (call) ? zaio_call_message (call) : zaio_strerror (rc));
    for (char *c = why; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    zaio_call_destroy (&call);
    char text[512];
    snprintf (text, sizeof text, "broker at %s: %s (%s); trying again", self->endpoint,
              zaio_errname (rc), why);
    zaio_top_set_alert (self, text);
    return rc;
}

static void
s_print_line (void *arg, zaio_top_style_t style, const char *text)
{
    fprintf ((FILE *)arg, "%s\n", text);
}

//  Plain mode: a table per refresh, the first once rates are known.
static int
s_run_plain (zaio_top_t *self, zaio_client_t *client, const zaio_top_options_t *options, char *why,
             size_t why_size)
{
    int rc = s_refresh (self, client, options->top, why, why_size);
    long printed = 0;
    while (rc == 0 && !zsys_interrupted && (options->count == 0 || printed < options->count)) {
        zclock_sleep ((int)options->interval_ms);
        if (zsys_interrupted) break;
        rc = s_refresh (self, client, options->top, why, why_size);
        if (rc) break;
        zaio_top_render (self, 0, 0, s_print_line, stdout);
        printf ("\n");
        fflush (stdout);
        printed++;
    }
    if (rc == 0 && zsys_interrupted) rc = EINTR;
    return rc;
}

static void
s_curses_line (void *arg, zaio_top_style_t style, const char *text)
{
    int *row = (int *)arg;
    int attr = style == ZAIO_TOP_HEADING || style == ZAIO_TOP_KEYS ? A_REVERSE
               : style == ZAIO_TOP_TITLE                           ? A_BOLD
               : style == ZAIO_TOP_ALERT                           ? A_BOLD | A_UNDERLINE
                                                                   : A_NORMAL;
    attron (attr);
    mvaddstr (*row, 0, text);
    //  Reverse video runs to the edge, as htop's headings do.
    if (attr & A_REVERSE)
        for (int x = (int)strlen (text); x < COLS; x++) addch (' ');
    attroff (attr);
    (*row)++;
}

static void
s_draw (zaio_top_t *self)
{
    erase ();
    int row = 0;
    zaio_top_render (self, COLS, LINES, s_curses_line, &row);
    refresh ();
}

//  The help screen, until a key.
static void
s_help_screen (void)
{
    static const char *lines[] = {
        "zaio top: keys",
        "",
        "  q       quit",
        "  s       sort by the next column",
        "  < >     sort by the column left or right of the sort column",
        "  r       reverse the order",
        "  v       show one volume only (asks its name; empty: all)",
        "  h ?     this help",
        "",
        "Rates are over the last refresh interval; p50/p99 of the jobs finished in it.",
        "Any key goes back."};
    erase ();
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) mvaddstr ((int)i, 0, lines[i]);
    refresh ();
    timeout (-1);
    getch ();
}

//  The v prompt on the last line: the volume to show, empty for all.
static void
s_volume_prompt (zaio_top_t *self)
{
    char volume[S_PROMPT_MAX] = "";
    move (LINES - 1, 0);
    clrtoeol ();
    attron (A_REVERSE);
    mvaddstr (LINES - 1, 0, "volume (empty: all): ");
    attroff (A_REVERSE);
    echo ();
    curs_set (1);
    timeout (-1);
    getnstr (volume, sizeof volume - 1);
    noecho ();
    curs_set (0);
    zaio_top_set_volume (self, volume);
}

//  Handle key; false to quit.
static bool
s_key (zaio_top_t *self, int key)
{
    bool reverse;
    int column = (int)zaio_top_sort (self, &reverse);
    switch (key) {
        case 'q':
        case 'Q':
            return false;
        case 's':
        case '>':
        case KEY_RIGHT:
            zaio_top_set_sort (self, (zaio_top_column_t)((column + 1) % ZAIO_TOP_COL_COUNT), false);
            break;
        case '<':
        case KEY_LEFT:
            zaio_top_set_sort (
                self, (zaio_top_column_t)((column + ZAIO_TOP_COL_COUNT - 1) % ZAIO_TOP_COL_COUNT),
                false);
            break;
        case 'r':
            zaio_top_set_sort (self, (zaio_top_column_t)column, !reverse);
            break;
        case 'v':
            s_volume_prompt (self);
            break;
        case 'h':
        case '?':
            s_help_screen ();
            break;
        default:
            break;
    }
    return true;
}

//  Full screen: redraw every interval and after each key, until q, an
//  interrupt or count refreshes.
static int
s_run_curses (zaio_top_t *self, zaio_client_t *client, const zaio_top_options_t *options)
{
    char why[256];
    initscr ();
    cbreak ();
    noecho ();
    keypad (stdscr, TRUE);
    curs_set (0);
    s_refresh (self, client, options->top, why, sizeof why);
    s_draw (self);
    long refreshes = 0;
    int64_t next = zclock_mono () + options->interval_ms;
    bool running = true;
    while (running && !zsys_interrupted && (options->count == 0 || refreshes < options->count)) {
        int64_t wait = next - zclock_mono ();
        timeout (wait > 0 ? (int)wait : 0);
        int key = getch ();
        if (key != ERR) {
            running = s_key (self, key);
            if (running) s_draw (self);
            continue;
        }
        if (zclock_mono () < next) continue;
        s_refresh (self, client, options->top, why, sizeof why);
        s_draw (self);
        refreshes++;
        next = zclock_mono () + options->interval_ms;
    }
    endwin ();
    return zsys_interrupted ? EINTR : 0;
}

int
zaio_top_run (zaio_client_t *client, const zaio_top_options_t *options, char *why, size_t why_size)
{
    assert (client && options);
    zaio_top_t *self = zaio_top_new (zaio_client_endpoint (client));
    uint32_t interval =
        options->interval_ms < S_INTERVAL_MIN ? S_INTERVAL_MIN : options->interval_ms;
    zaio_top_options_t opts = *options;
    opts.interval_ms = interval;
    zaio_top_set_interval (self, interval);
    int rc = isatty (STDOUT_FILENO) ? s_run_curses (self, client, &opts)
                                    : s_run_plain (self, client, &opts, why, why_size);
    zaio_top_destroy (&self);
    return rc;
}
