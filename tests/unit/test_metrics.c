/*  test_metrics.c: the /metrics class (broker/zaio_metrics.h) apart from a
    broker: which addresses it takes, the exposition it renders from a
    report (label values escaped, histograms cumulative, in seconds),
    checked by `promtool check metrics`, a port in use refused, and a
    broker that does not answer met with 503 after the timeout.
*/

#undef NDEBUG
#include "testutil.h"
#include "zaio_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  Loopback only unless insecure; malformed addresses and ports refused.
static void
s_test_addresses (void)
{
    char why[512];
    const char *good[] = {"127.0.0.1:9464", "127.1.2.3:0", "localhost:9464", "[::1]:9464",
                          "[::ffff:127.0.0.1]:1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert (zaio_metrics_check (good[i], false, why, sizeof why) == 0);
    const char *outside[] = {"0.0.0.0:9464", "192.0.2.1:80", "[::]:9464", "[2001:db8::1]:1"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        assert (zaio_metrics_check (outside[i], false, why, sizeof why) == -1);
        assert (strstr (why, "not a loopback address"));
        assert (zaio_metrics_check (outside[i], true, why, sizeof why) == 0);
    }
    const char *bad[] = {"9464",         ":9464",       "127.0.0.1:",     "127.0.0.1:65536",
                         "127.0.0.1:-1", "127.0.0.1:x", "host.example:1", "[::1:9464",
                         "::1:9464",     "[]:1",        "127.0.0.1:+5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert (zaio_metrics_check (bad[i], true, why, sizeof why) == -1);
}

//  A report with one of everything, and names that need escaping.
static zaio_stats_report_t *
s_report (void)
{
    zaio_stats_report_t *report = (zaio_stats_report_t *)calloc (1, sizeof *report);
    snprintf (report->version, sizeof report->version, "0.1.0");
    report->uptime_ms = 61234;
    report->queued = 3;
    report->workers = 2;
    report->bound_count = ZAIO_STATS_REPORT_BOUNDS;
    for (int i = 0; i < ZAIO_STATS_REPORT_BOUNDS; i++) report->bounds_us[i] = 1ull << i;
    report->row_count = 2;
    report->rows = (zaio_stats_report_row_t *)calloc (2, sizeof *report->rows);
    report->rows[0] = (zaio_stats_report_row_t){"read", "ok", "default", 5, 4096};
    report->rows[1] = (zaio_stats_report_row_t){"", "MALFORMED", "", 1, 0};
    report->latency_count = 1;
    report->latency = (zaio_stats_report_latency_t *)calloc (1, sizeof *report->latency);
    zaio_stats_report_latency_t *latency = &report->latency[0];
    snprintf (latency->op, sizeof latency->op, "read");
    latency->count = 5;
    latency->queue[0] = 2;
    latency->queue[3] = 2;
    latency->queue[ZAIO_STATS_REPORT_BOUNDS] = 1; //  above 67 s
    latency->queue_sum_us = 70000000;
    latency->service[10] = 5;
    latency->service_sum_us = 5000;
    report->volume_count = 1;
    report->volumes = (zaio_stats_report_volume_t *)calloc (1, sizeof *report->volumes);
    report->volumes[0] = (zaio_stats_report_volume_t){"default", 2, 100, 128, 28, 3};
    report->client_count = 1;
    report->clients_top = (zaio_stats_report_client_t *)calloc (1, sizeof *report->clients_top);
    report->clients_top[0] = (zaio_stats_report_client_t){"a\"b\\c\nd", 6, 4096, 1};
    return report;
}

//  The exposition: escaped labels, cumulative buckets in seconds, sums in
//  seconds, and promtool accepts it.
static void
s_test_render (void)
{
    zaio_stats_report_t *report = s_report ();
    size_t size;
    char *text = zaio_metrics_render (report, &size);
    assert (text && strlen (text) == size);
    const char *want[] = {
        "zaio_build_info{version=\"0.1.0\"} 1\n",
        "zaio_uptime_seconds 61.234\n",
        "zaio_jobs_total{op=\"read\",outcome=\"ok\",volume=\"default\"} 5\n",
        "zaio_job_bytes_total{op=\"read\",outcome=\"ok\",volume=\"default\"} 4096\n",
        "zaio_jobs_total{op=\"\",outcome=\"MALFORMED\",volume=\"\"} 1\n",
        "zaio_job_queue_seconds_bucket{op=\"read\",le=\"0.000001\"} 2\n",
        "zaio_job_queue_seconds_bucket{op=\"read\",le=\"0.000004\"} 2\n",
        "zaio_job_queue_seconds_bucket{op=\"read\",le=\"0.000008\"} 4\n",
        "zaio_job_queue_seconds_bucket{op=\"read\",le=\"67.108864\"} 4\n",
        "zaio_job_queue_seconds_bucket{op=\"read\",le=\"+Inf\"} 5\n",
        "zaio_job_queue_seconds_sum{op=\"read\"} 70.000000\n",
        "zaio_job_queue_seconds_count{op=\"read\"} 5\n",
        "zaio_job_service_seconds_bucket{op=\"read\",le=\"0.001024\"} 5\n",
        "zaio_job_service_seconds_sum{op=\"read\"} 0.005000\n",
        "zaio_queue_depth 3\n",
        "zaio_workers{volume=\"default\"} 2\n",
        "zaio_volume_credit{volume=\"default\"} 100\n",
        "zaio_top_client_jobs{client=\"a\\\"b\\\\c\\nd\"} 6\n",
        "# TYPE zaio_job_service_seconds histogram\n",
        "# TYPE zaio_jobs_total counter\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr (text, want[i])) {
            fprintf (stderr, "missing: %s\nin:\n%s", want[i], text);
            assert (false);
        }
    char *dir = zaio_test_tempdir ("metrics");
    zaio_test_write_file (dir, "metrics.txt", text, size);
    char *command = zsys_sprintf ("promtool check metrics < %s/metrics.txt", dir);
    assert (system (command) == 0);
    zstr_free (&command);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
    free (text);
    zaio_stats_report_destroy (&report);

    //  An empty report: the families that have no samples are left out.
    report = (zaio_stats_report_t *)calloc (1, sizeof *report);
    text = zaio_metrics_render (report, &size);
    assert (strstr (text, "zaio_queue_depth 0\n") && !strstr (text, "zaio_jobs_total"));
    free (text);
    zaio_stats_report_destroy (&report);
}

//  The status line of a GET of path from the server at url's port.
static void
s_get (const char *url, const char *path, char *status, size_t status_size)
{
    int port = atoi (strrchr (url, ':') + 1);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    assert (connect (fd, (struct sockaddr *)&address, sizeof address) == 0);
    char request[256];
    snprintf (request, sizeof request, "GET %s HTTP/1.0\r\n\r\n", path);
    assert (write (fd, request, strlen (request)) == (ssize_t)strlen (request));
    char answer[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof answer - 1 && (n = read (fd, answer + got, sizeof answer - 1 - got)) > 0)
        got += (size_t)n;
    answer[got] = 0;
    close (fd);
    snprintf (status, status_size, "%.*s", (int)strcspn (answer, "\r"), answer);
}

//  A port in use: zaio_metrics_new says so and returns NULL; a free one
//  serves, port 0 resolved in its URL.
static void
s_test_port_in_use (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    socklen_t length = sizeof address;
    assert (bind (fd, (struct sockaddr *)&address, length) == 0 && listen (fd, 1) == 0);
    assert (getsockname (fd, (struct sockaddr *)&address, &length) == 0);
    char bind_text[64];
    snprintf (bind_text, sizeof bind_text, "127.0.0.1:%u", ntohs (address.sin_port));
    FILE *log = zaio_test_log_catch ();
    zaio_metrics_t *metrics = zaio_metrics_new (bind_text, false, "inproc://nowhere");
    char *text = zaio_test_log_release (&log);
    assert (metrics == NULL);
    assert (strstr (text, "Address already in use"));
    zstr_free (&text);
    close (fd);
    metrics = zaio_metrics_new ("127.0.0.1:0", false, "inproc://nowhere");
    assert (metrics);
    assert (strncmp (zaio_metrics_url (metrics), "http://127.0.0.1:", 17) == 0);
    assert (!strstr (zaio_metrics_url (metrics), ":0/"));
    //  Nobody answers its stats: 503 after the timeout, and the server
    //  goes on serving (404 at once).
    char status[128];
    int64_t start = zclock_mono ();
    s_get (zaio_metrics_url (metrics), "/metrics", status, sizeof status);
    assert (streq (status, "HTTP/1.1 503 Service Unavailable"));
    assert (zclock_mono () - start >= ZAIO_METRICS_TIMEOUT_MS - 10);
    s_get (zaio_metrics_url (metrics), "/", status, sizeof status);
    assert (streq (status, "HTTP/1.1 404 Not Found"));
    zaio_metrics_destroy (&metrics);
    assert (metrics == NULL);
    zaio_metrics_destroy (&metrics);
    assert (zaio_metrics_new ("192.0.2.1:0", false, "inproc://nowhere") == NULL);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_addresses),
        ZAIO_TEST_CASE (s_test_render),
        ZAIO_TEST_CASE (s_test_port_in_use),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
