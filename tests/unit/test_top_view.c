/*  test_top_view.c: the view of `zaio top` (bindings/c/zaio_top.c)
    on reports made here: percentiles from histogram buckets, rates from
    two reports' differences (and none across a broker restart), sorting
    and the volume filter, rendering within a terminal's size, and
    `zaio stats --json`'s keys.
*/

#include "testutil.h"
#include "zaio_top.h"

#include <math.h>
#include <string.h>

//  A report at uptime_ms with room for rows, latencies and workers.
static zaio_stats_report_t *
s_report (uint64_t uptime_ms)
{
    zaio_stats_report_t *report = (zaio_stats_report_t *)calloc (1, sizeof *report);
    assert (report);
    snprintf (report->version, sizeof report->version, "9.9.9");
    report->uptime_ms = uptime_ms;
    report->bound_count = ZAIO_STATS_REPORT_BOUNDS;
    for (size_t i = 0; i < ZAIO_STATS_REPORT_BOUNDS; i++) report->bounds_us[i] = 1ull << i;
    report->rows = (zaio_stats_report_row_t *)calloc (8, sizeof (zaio_stats_report_row_t));
    report->latency =
        (zaio_stats_report_latency_t *)calloc (4, sizeof (zaio_stats_report_latency_t));
    report->worker_list =
        (zaio_stats_report_worker_t *)calloc (2, sizeof (zaio_stats_report_worker_t));
    report->clients_top =
        (zaio_stats_report_client_t *)calloc (2, sizeof (zaio_stats_report_client_t));
    report->volumes = (zaio_stats_report_volume_t *)calloc (2, sizeof (zaio_stats_report_volume_t));
    assert (report->rows && report->latency && report->worker_list && report->clients_top &&
            report->volumes);
    return report;
}

static void
s_row (zaio_stats_report_t *report, const char *op, const char *outcome, const char *volume,
       uint64_t jobs, uint64_t bytes)
{
    zaio_stats_report_row_t *row = &report->rows[report->row_count++];
    snprintf (row->op, sizeof row->op, "%s", op);
    snprintf (row->outcome, sizeof row->outcome, "%s", outcome);
    snprintf (row->volume, sizeof row->volume, "%s", volume);
    row->jobs = jobs;
    row->bytes = bytes;
}

//  An op's latencies: count jobs, all in service bucket `service` and
//  queue bucket `queue`.
static void
s_latency (zaio_stats_report_t *report, const char *op, uint64_t count, int service, int queue)
{
    zaio_stats_report_latency_t *lat = &report->latency[report->latency_count++];
    snprintf (lat->op, sizeof lat->op, "%s", op);
    lat->count = count;
    lat->service[service] = count;
    lat->queue[queue] = count;
}

static bool
s_near (double value, double expected)
{
    return fabs (value - expected) < 1e-6;
}

static void
s_test_percentile (void)
{
    uint64_t bounds[ZAIO_STATS_REPORT_BOUNDS];
    for (size_t i = 0; i < ZAIO_STATS_REPORT_BOUNDS; i++) bounds[i] = 1ull << i;
    uint64_t counts[ZAIO_STATS_REPORT_BUCKETS] = {0}, before[ZAIO_STATS_REPORT_BUCKETS] = {0};
    size_t n = ZAIO_STATS_REPORT_BOUNDS;
    assert (zaio_top_percentile (counts, NULL, bounds, n, 0.5) == -1);
    //  100 values in (4, 8]: p50 halfway, p99 near the top
    counts[3] = 100;
    assert (s_near (zaio_top_percentile (counts, NULL, bounds, n, 0.5), 6));
    assert (s_near (zaio_top_percentile (counts, NULL, bounds, n, 0.99), 7.96));
    //  the first bucket starts at 0
    counts[3] = 0;
    counts[0] = 10;
    assert (s_near (zaio_top_percentile (counts, NULL, bounds, n, 0.5), 0.5));
    //  90 fast (<= 1 us), 10 slow (in (512, 1024]): p50 fast, p99 slow
    counts[0] = 90;
    counts[10] = 10;
    assert (zaio_top_percentile (counts, NULL, bounds, n, 0.5) <= 1);
    double p99 = zaio_top_percentile (counts, NULL, bounds, n, 0.99);
    assert (p99 > 512 && p99 <= 1024);
    //  since `before`: only what came after counts
    before[0] = 90;
    assert (zaio_top_percentile (counts, before, bounds, n, 0.5) > 512);
    before[10] = 10;
    assert (zaio_top_percentile (counts, before, bounds, n, 0.5) == -1);
    //  the overflow bucket gives the largest bound
    memset (counts, 0, sizeof counts);
    counts[ZAIO_STATS_REPORT_BOUNDS] = 5;
    assert (s_near (zaio_top_percentile (counts, NULL, bounds, n, 0.99), (double)(1ull << 26)));
}

//  The rows' ops in order, as "op/volume op/volume ...".
static void
s_order (zaio_top_t *top, char *buf, size_t size)
{
    buf[0] = 0;
    for (size_t i = 0; i < zaio_top_rows (top); i++) {
        const char *op, *volume;
        double rate;
        zaio_top_row (top, i, &op, &volume, &rate);
        snprintf (buf + strlen (buf), size - strlen (buf), "%s%s/%s", i ? " " : "", op, volume);
    }
}

static double
s_rate_of (zaio_top_t *top, const char *want_op, const char *want_volume)
{
    for (size_t i = 0; i < zaio_top_rows (top); i++) {
        const char *op, *volume;
        double rate;
        zaio_top_row (top, i, &op, &volume, &rate);
        if (streq (op, want_op) && streq (volume, want_volume)) return rate;
    }
    assert (false);
    return 0;
}

static void
s_test_rates_sort_filter (void)
{
    zaio_top_t *top = zaio_top_new ("ipc://test");
    zaio_stats_report_t *a = s_report (1000);
    s_row (a, "read", "ok", "default", 100, 1000);
    s_row (a, "read", "ENOENT", "default", 10, 0);
    s_row (a, "stat", "ok", "photos", 50, 0);
    zaio_top_update (top, &a);
    assert (a == NULL);
    assert (!zaio_top_has_rates (top));
    assert (zaio_top_rows (top) == 2);
    assert (s_rate_of (top, "read", "default") == -1); //  not known yet

    zaio_stats_report_t *b = s_report (3000); //  two seconds on
    s_row (b, "read", "ok", "default", 300, 5000);
    s_row (b, "read", "ENOENT", "default", 30, 0);
    s_row (b, "stat", "ok", "photos", 50, 0);
    s_row (b, "write", "ok", "photos", 20, 2048);
    zaio_top_update (top, &b);
    assert (zaio_top_has_rates (top));
    assert (s_near (s_rate_of (top, "read", "default"), 110));
    assert (s_near (s_rate_of (top, "write", "photos"), 10)); //  new since
    assert (s_near (s_rate_of (top, "stat", "photos"), 0));
    char order[256];
    s_order (top, order, sizeof order);
    assert (streq (order, "read/default write/photos stat/photos")); //  jobs/s, busiest first
    zaio_top_set_sort (top, ZAIO_TOP_COL_OP, false);
    s_order (top, order, sizeof order);
    assert (streq (order, "read/default stat/photos write/photos"));
    zaio_top_set_sort (top, ZAIO_TOP_COL_OP, true);
    s_order (top, order, sizeof order);
    assert (streq (order, "write/photos stat/photos read/default"));
    zaio_top_set_sort (top, ZAIO_TOP_COL_BYTES, false);
    s_order (top, order, sizeof order);
    assert (streq (order, "read/default write/photos stat/photos"));
    zaio_top_set_sort (top, ZAIO_TOP_COL_ERRORS, false);
    s_order (top, order, sizeof order);
    assert (strncmp (order, "read/default", 12) == 0);
    //  the volume filter, and back
    zaio_top_set_sort (top, ZAIO_TOP_COL_JOBS, false);
    zaio_top_set_volume (top, "photos");
    s_order (top, order, sizeof order);
    assert (streq (order, "write/photos stat/photos"));
    zaio_top_set_volume (top, "nowhere");
    assert (zaio_top_rows (top) == 0);
    zaio_top_set_volume (top, "");
    assert (zaio_top_rows (top) == 3);

    //  A smaller uptime is a restarted broker: no rates across it
    zaio_stats_report_t *c = s_report (500);
    s_row (c, "read", "ok", "default", 5, 10);
    zaio_top_update (top, &c);
    assert (!zaio_top_has_rates (top));
    assert (s_rate_of (top, "read", "default") == -1);
    zaio_top_destroy (&top);
    assert (top == NULL);
    zaio_top_destroy (&top);
}

//  As many rows as a broker lists (4096 op x volume rows, two outcomes
//  each): every row's rate found, the busiest first.
static void
s_test_many_rows (void)
{
    zaio_top_t *top = zaio_top_new ("ipc://test");
    for (int pass = 0; pass < 2; pass++) {
        zaio_stats_report_t *report = s_report (1000 + 1000 * (uint64_t)pass);
        free (report->rows);
        report->rows = (zaio_stats_report_row_t *)calloc (8192, sizeof (zaio_stats_report_row_t));
        assert (report->rows);
        for (int i = 0; i < 4096; i++) {
            char volume[16];
            snprintf (volume, sizeof volume, "v%d", i / 2);
            const char *op = i % 2 ? "write" : "read";
            s_row (report, op, "ok", volume, (uint64_t)(pass * i), 0);
            s_row (report, op, "EIO", volume, (uint64_t)pass, 0);
        }
        zaio_top_update (top, &report);
    }
    assert (zaio_top_rows (top) == 4096);
    const char *op, *volume;
    double rate;
    zaio_top_row (top, 0, &op, &volume, &rate);
    assert (streq (op, "write") && streq (volume, "v2047") && s_near (rate, 4096));
    zaio_top_row (top, 4095, &op, &volume, &rate);
    assert (streq (op, "read") && streq (volume, "v0") && s_near (rate, 1));
    zaio_top_destroy (&top);
}

typedef struct {
    int lines;
    int keys;
    int longest;
    char text[8192];
} s_screen_t;

static void
s_collect (void *arg, zaio_top_style_t style, const char *text)
{
    s_screen_t *screen = (s_screen_t *)arg;
    screen->lines++;
    if (style == ZAIO_TOP_KEYS) screen->keys++;
    if ((int)strlen (text) > screen->longest) screen->longest = (int)strlen (text);
    size_t used = strlen (screen->text);
    snprintf (screen->text + used, sizeof screen->text - used, "%s\n", text);
}

static void
s_test_render (void)
{
    zaio_top_t *top = zaio_top_new ("ipc://test");
    s_screen_t screen;
    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 80, 24, s_collect, &screen);
    assert (screen.lines == 24 && screen.keys == 1);
    assert (strstr (screen.text, "no report yet"));

    zaio_stats_report_t *a = s_report (1000);
    s_row (a, "read", "ok", "default", 100, 1000);
    s_latency (a, "read", 100, 4, 2);
    snprintf (a->worker_list[0].name, sizeof a->worker_list[0].name, "host/1/0");
    snprintf (a->worker_list[0].volumes, sizeof a->worker_list[0].volumes, "default,photos");
    a->worker_list[0].capacity = 8;
    a->worker_list[0].running = 4;
    a->worker_count = a->workers = 1;
    snprintf (a->clients_top[0].client, sizeof a->clients_top[0].client, "alice");
    a->clients_top[0].jobs = 100;
    a->client_count = 1;
    zaio_top_update (top, &a);
    zaio_stats_report_t *b = s_report (2000);
    s_row (b, "read", "ok", "default", 1100, 4096000);
    s_latency (b, "read", 1100, 4, 2);
    b->latency[0].service[4] = 100; //  the second's 1000 jobs are slower
    b->latency[0].service[10] = 1000;
    snprintf (b->worker_list[0].name, sizeof b->worker_list[0].name, "host/1/0");
    snprintf (b->worker_list[0].volumes, sizeof b->worker_list[0].volumes, "default,photos");
    b->worker_list[0].capacity = 8;
    b->worker_list[0].running = 8;
    b->worker_list[0].jobs = 500;
    b->worker_count = b->workers = 1;
    snprintf (b->clients_top[0].client, sizeof b->clients_top[0].client, "alice");
    b->clients_top[0].jobs = 1100;
    b->client_count = 1;
    zaio_top_update (top, &b);

    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 100, 30, s_collect, &screen);
    assert (screen.lines == 30 && screen.keys == 1 && screen.longest <= 100);
    assert (strstr (screen.text, "broker 9.9.9 at ipc://test"));
    assert (strstr (screen.text, "JOBS/S*"));
    //  1000 jobs in a second, 4095000 bytes
    //  p50 of service in (512, 1024], of queue in (2, 4]
    assert (strstr (screen.text, "read       default               1.0k     3.9 MiB        0    "
                                 "768us    1.0ms      3us      4us\n"));
    assert (strstr (screen.text, "host/1/0"));
    assert (strstr (screen.text, "[||||||||||]")); //  8 of 8 running
    assert (strstr (screen.text, "alice"));
    zaio_top_set_sort (top, ZAIO_TOP_COL_OP, false);
    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 100, 30, s_collect, &screen);
    assert (strstr (screen.text, "OP*") && !strstr (screen.text, "JOBS/S*"));

    //  A small terminal: never more lines or columns than it has
    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 40, 8, s_collect, &screen);
    assert (screen.lines == 8 && screen.keys == 1 && screen.longest <= 40);
    //  A pipe: no limit, no key line
    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 0, 0, s_collect, &screen);
    assert (screen.keys == 0 && strstr (screen.text, "\nOP*"));
    //  A failure shows until the next report
    zaio_top_set_alert (top, "broker at ipc://test: UNREACHABLE");
    memset (&screen, 0, sizeof screen);
    zaio_top_render (top, 0, 0, s_collect, &screen);
    assert (strstr (screen.text, "UNREACHABLE"));
    zaio_top_destroy (&top);
}

static void
s_test_stats_json (void)
{
    zaio_stats_report_t *report = s_report (1234);
    s_row (report, "read", "ok", "default", 7, 700);
    s_row (report, "stat", "NOVOLUME", "", 2, 0);
    s_latency (report, "read", 7, 3, 1);
    snprintf (report->worker_list[0].name, sizeof report->worker_list[0].name, "h/\"1\"/0");
    snprintf (report->worker_list[0].volumes, sizeof report->worker_list[0].volumes, "a,b");
    report->worker_count = 1;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    zaio_top_print_stats (report, true, out);
    fclose (out);
    assert (strncmp (text, "{\"version\":\"9.9.9\",\"uptime_ms\":1234,", 35) == 0);
    assert (strstr (text, "\"gauges\":{\"queued\":0,"));
    assert (strstr (text, "{\"op\":\"stat\",\"outcome\":\"NOVOLUME\",\"volume\":\"\",\"jobs\":2,"));
    assert (strstr (text, "{\"name\":\"h/\\\"1\\\"/0\",\"volumes\":[\"a\",\"b\"],"));
    assert (strstr (text, "\"latency_bounds_us\":[1,2,4,"));
    assert (strstr (text, "\"queue\":[0,7,0,"));
    assert (text[strlen (text) - 2] == '}' && text[strlen (text) - 1] == '\n');
    free (text);
    out = open_memstream (&text, &size);
    zaio_top_print_stats (report, false, out);
    fclose (out);
    assert (strstr (text, "broker 9.9.9, up 00:00:01\n"));
    assert (strstr (text, "stat       NOVOLUME       -                           2"));
    free (text);
    zaio_stats_report_destroy (&report);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_percentile), ZAIO_TEST_CASE (s_test_rates_sort_filter),
        ZAIO_TEST_CASE (s_test_many_rows),  ZAIO_TEST_CASE (s_test_render),
        ZAIO_TEST_CASE (s_test_stats_json),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
