/*  test_stats.c: the broker's counters (broker/zaio_stats.h): histogram
    buckets, rows, their bound under a flood of volume names, the top
    clients' table and its space-saving eviction, workers' counts.
*/

#undef NDEBUG
#include "testutil.h"
#include "zaio_stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

//  Bucket i counts values <= 2^i us (and above the bucket before); the
//  last, values above 2^26 us.
static void
s_test_histogram_buckets_are_log_scale (void)
{
    //  Buckets: <= 2^i us in bucket i, the overflow last.
    assert (zaio_stats_bucket (0) == 0);
    assert (zaio_stats_bucket (1) == 0);
    assert (zaio_stats_bucket (2) == 1);
    assert (zaio_stats_bucket (3) == 2);
    assert (zaio_stats_bucket (4) == 2);
    assert (zaio_stats_bucket (5) == 3);
    assert (zaio_stats_bucket (1000) == 10);
    assert (zaio_stats_bucket (1024) == 10);
    assert (zaio_stats_bucket (1025) == 11);
    assert (zaio_stats_bucket (1ull << 26) == 26);
    assert (zaio_stats_bucket ((1ull << 26) + 1) == ZAIO_STATS_BOUNDS);
    assert (zaio_stats_bucket (UINT64_MAX) == ZAIO_STATS_BOUNDS);
}

//  Known jobs land in their rows (op x outcome x volume), NOVOLUME and
//  undecoded requests under volume "", latency buckets, clients by jobs.
static void
s_test_counts_rows_latency_and_clients (void)
{
    zaio_stats_t *self = zaio_stats_new ();
    zaio_stats_job (self, "alice", ZAIO_OP_READ, "default", 0, 100, true, 3, 1000, "w1");
    zaio_stats_job (self, "alice", ZAIO_OP_READ, "default", 0, 50, true, 1, 2000, "w1");
    zaio_stats_job (self, "bob", ZAIO_OP_READ, "default", ENOENT, 0, true, 2, 10, "w2");
    zaio_stats_answer (self, "bob", ZAIO_OP_READ, "photos", ZAIO_ERR_NOVOLUME);
    zaio_stats_answer (self, "bob", ZAIO_STATS_OP_NONE, NULL, ZAIO_ERR_MALFORMED);
    assert (zaio_stats_rows (self) == 4);
    const zaio_stats_row_t *row = zaio_stats_row (self, 0);
    assert (row->op == ZAIO_OP_READ && streq (row->outcome, "ok") &&
            streq (row->volume, "default") && row->jobs == 2 && row->bytes == 150);
    row = zaio_stats_row (self, 1);
    assert (streq (row->outcome, "ENOENT") && row->jobs == 1);
    row = zaio_stats_row (self, 2); //  NOVOLUME: under "", whatever the volume
    assert (streq (row->outcome, "NOVOLUME") && streq (row->volume, ""));
    row = zaio_stats_row (self, 3);
    assert (row->op == ZAIO_STATS_OP_NONE && streq (row->outcome, "MALFORMED"));
    const zaio_stats_latency_t *latency = zaio_stats_latency (self, ZAIO_OP_READ);
    assert (latency->count == 3 && latency->queue_sum_us == 6 && latency->service_sum_us == 3010);
    assert (latency->queue[zaio_stats_bucket (3)] == 1 && latency->queue[0] == 1);
    assert (latency->service[10] == 1 && latency->service[11] == 1 && latency->service[4] == 1);
    assert (zaio_stats_worker_jobs (self, "w1") == 2 && zaio_stats_worker_jobs (self, "w3") == 0);
    zaio_stats_client_t top[4];
    size_t count = zaio_stats_top (self, top, 4);
    assert (count == 2);
    assert (streq (top[0].client, "bob") && top[0].jobs == 3 && top[0].errors == 3);
    assert (streq (top[1].client, "alice") && top[1].jobs == 2 && top[1].bytes == 150);
    zaio_stats_destroy (&self);
}

//  An attacker picks volume names: past ZAIO_STATS_NAMED_ROWS_MAX rows
//  they go under "", and every op x outcome under "" still has room.
static void
s_test_rows_stay_bounded_under_a_flood_of_volumes (void)
{
    //  Rows are bounded: a flood of volume names ends under "".
    zaio_stats_t *self = zaio_stats_new ();
    for (int i = 0; i < 2 * ZAIO_STATS_ROWS_MAX; i++) {
        char volume[32];
        snprintf (volume, sizeof volume, "v%d", i);
        zaio_stats_job (self, "c", ZAIO_OP_STAT, volume, 0, 1, false, 0, 0, "");
    }
    assert (zaio_stats_rows (self) == ZAIO_STATS_NAMED_ROWS_MAX + 1);
    const zaio_stats_row_t *row = zaio_stats_row (self, ZAIO_STATS_NAMED_ROWS_MAX);
    assert (streq (row->volume, "") &&
            row->jobs == 2 * ZAIO_STATS_ROWS_MAX - ZAIO_STATS_NAMED_ROWS_MAX);
    //  Every op x outcome under "" still has room.
    for (int op = 0; op <= ZAIO_STATS_OP_NONE; op++)
        for (int error = 1; error < 200; error++) zaio_stats_answer (self, "c", op, "x", error);
    assert (zaio_stats_rows (self) <= ZAIO_STATS_ROWS_MAX);
    zaio_stats_destroy (&self);
}

//  Space-saving: a flood of new names evicts the least busy, never the
//  busiest; the table stays at its bound and the counts add up.
static void
s_test_top_clients_survive_a_flood_of_names (void)
{
    //  Top clients: the busiest survive a flood of new names, and the
    //  table stays at its bound.
    zaio_stats_t *self = zaio_stats_new ();
    for (int i = 0; i < 100; i++)
        zaio_stats_job (self, "heavy", ZAIO_OP_PING, "default", 0, 0, false, 0, 0, "");
    for (int i = 0; i < 50; i++)
        zaio_stats_job (self, "medium", ZAIO_OP_PING, "default", 0, 0, false, 0, 0, "");
    for (int i = 0; i < 10 * ZAIO_STATS_CLIENTS_MAX; i++) {
        char client[32];
        snprintf (client, sizeof client, "flood-%d", i);
        zaio_stats_answer (self, client, ZAIO_OP_PING, NULL, ZAIO_ERR_NOVOLUME);
    }
    assert (zaio_stats_clients (self) == ZAIO_STATS_CLIENTS_MAX);
    zaio_stats_client_t top[2];
    size_t count = zaio_stats_top (self, top, 2);
    assert (count == 2 && streq (top[0].client, "heavy") && top[0].jobs == 100);
    assert (streq (top[1].client, "medium") && top[1].jobs == 50);
    //  Every count stays at most what was sent in all, and the newest
    //  flooder holds the smallest count plus one (space-saving).
    zaio_stats_client_t all[ZAIO_STATS_CLIENTS_MAX];
    count = zaio_stats_top (self, all, ZAIO_STATS_CLIENTS_MAX);
    assert (count == ZAIO_STATS_CLIENTS_MAX);
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        total += all[i].jobs;
        assert (i == 0 || all[i].jobs <= all[i - 1].jobs);
    }
    assert (total == 150 + 10 * ZAIO_STATS_CLIENTS_MAX);
    zaio_stats_destroy (&self);
}

//  Workers' finished jobs: a bounded table, pruned to the live workers.
static void
s_test_worker_counts_are_pruned_to_live_ones (void)
{
    //  Workers: pruned to the live ones when the table fills.
    zaio_stats_t *self = zaio_stats_new ();
    for (int i = 0; i < ZAIO_STATS_WORKERS_MAX + 10; i++) {
        char worker[32];
        snprintf (worker, sizeof worker, "host/%d/0", i);
        zaio_stats_job (self, "", ZAIO_OP_PING, "default", 0, 0, true, 0, 0, worker);
    }
    assert (zaio_stats_worker_jobs (self, "host/1/0") == 1);
    assert (zaio_stats_worker_jobs (self, "host/1030/0") == 0); //  past the bound
    const char *live[] = {"host/1/0", "host/2/0"};
    zaio_stats_prune (self, live, 2);
    assert (zaio_stats_worker_jobs (self, "host/1/0") == 1);
    assert (zaio_stats_worker_jobs (self, "host/3/0") == 0);
    zaio_stats_job (self, "", ZAIO_OP_PING, "default", 0, 0, true, 0, 0, "host/1030/0");
    assert (zaio_stats_worker_jobs (self, "host/1030/0") == 1);
    zaio_stats_destroy (&self);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_histogram_buckets_are_log_scale),
        ZAIO_TEST_CASE (s_test_counts_rows_latency_and_clients),
        ZAIO_TEST_CASE (s_test_rows_stay_bounded_under_a_flood_of_volumes),
        ZAIO_TEST_CASE (s_test_top_clients_survive_a_flood_of_names),
        ZAIO_TEST_CASE (s_test_worker_counts_are_pruned_to_live_ones),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
