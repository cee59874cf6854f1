/*  zaio_stats.h: the broker's counters for the `stats` op and /metrics
    (PROTOCOL.md section 5.3).

    The broker tells this class about every request it answers: a job's
    end (zaio_stats_job), a refusal, a hello or a stats (zaio_stats_answer).
    It keeps, since the broker started:

      * rows of jobs and bytes per op x outcome x volume. Volume names are
        the client's choice, so a row names a volume only if the broker
        knows it (the caller says) and the outcome is not NOVOLUME; every
        other row goes under volume "". At most ZAIO_STATS_ROWS_MAX rows
        in all, of which rows for named volumes take at most
        ZAIO_STATS_NAMED_ROWS_MAX: past that they go under "" too, which
        always has room (ops x outcome names is less than the rest);
      * per op, histograms of queue time (accepted -> handed to a worker)
        and service time (the worker's service_us) of the jobs a worker
        ran, in ZAIO_STATS_BUCKETS fixed log-scale buckets: bucket i < 27
        counts values <= 2^i microseconds (and above the bucket before),
        the last one the rest, so histograms of brokers can be added;
      * the top clients by jobs, in a table of at most
        ZAIO_STATS_CLIENTS_MAX names, with the "space-saving" rule of
        Metwally et al. when it is full: the client with the fewest jobs
        is evicted, and the newcomer takes its counts over (so a count
        may be over by at most what the evicted one had; the busiest
        clients are never evicted by a flood of new names);
      * the jobs each worker (by name) has finished, for at most
        ZAIO_STATS_WORKERS_MAX names (zaio_stats_prune forgets the gone).

    Every call costs O(1) and allocates nothing: every table is made at
    zaio_stats_new, about 1.5 MiB in all. Private to the broker.
*/
#ifndef ZAIO_STATS_H_INCLUDED
#define ZAIO_STATS_H_INCLUDED

#include "zaio_codec.h"

#define ZAIO_STATS_ROWS_MAX       4096
#define ZAIO_STATS_NAMED_ROWS_MAX 3072
#define ZAIO_STATS_CLIENTS_MAX    1024
#define ZAIO_STATS_WORKERS_MAX    1024
#define ZAIO_STATS_BOUNDS         27 //  bucket upper bounds: 2^0 .. 2^26 us
#define ZAIO_STATS_BUCKETS        (ZAIO_STATS_BOUNDS + 1)
//  The op of rows of requests that did not decode (no op): "".
#define ZAIO_STATS_OP_NONE ZAIO_OP_COUNT

typedef struct _zaio_stats_t zaio_stats_t;

//  One row: jobs and bytes of op x outcome x volume.
typedef struct {
    int op;              //  a zaio_op_t, or ZAIO_STATS_OP_NONE
    const char *outcome; //  "ok" or an error's wire name (static)
    char volume[ZAIO_VOLUME_MAX + 1];
    uint64_t jobs;
    uint64_t bytes;
} zaio_stats_row_t;

//  One op's latency histograms.
typedef struct {
    uint64_t count; //  jobs a worker ran
    uint64_t queue_sum_us;
    uint64_t service_sum_us;
    uint64_t queue[ZAIO_STATS_BUCKETS];
    uint64_t service[ZAIO_STATS_BUCKETS];
} zaio_stats_latency_t;

//  One top client.
typedef struct {
    const char *client; //  borrowed from the table, valid until the next update
    uint64_t jobs;
    uint64_t bytes;
    uint64_t errors;
} zaio_stats_client_t;

zaio_stats_t *zaio_stats_new (void);
void zaio_stats_destroy (zaio_stats_t **self_p);

//  A job of op ended: its client (name), volume (NULL: one the broker does
//  not know), error (0: ok), bytes moved; dispatched is true if a worker
//  ran it, with queue_us and service_us; worker names it ("" if none).
void zaio_stats_job (zaio_stats_t *self, const char *client, zaio_op_t op, const char *volume,
                     int error, uint64_t bytes, bool dispatched, uint64_t queue_us,
                     uint64_t service_us, const char *worker);

//  A request answered without a job (a refusal, hello, stats): op is
//  ZAIO_STATS_OP_NONE if it did not decode.
void zaio_stats_answer (zaio_stats_t *self, const char *client, int op, const char *volume,
                        int error);

//  The bucket a value of us microseconds falls in: 0 .. ZAIO_STATS_BOUNDS.
int zaio_stats_bucket (uint64_t us);

//  Rows kept, and row index (0 .. count - 1), in the order they came.
size_t zaio_stats_rows (zaio_stats_t *self);
const zaio_stats_row_t *zaio_stats_row (zaio_stats_t *self, size_t index);

//  The latency of op (0 .. ZAIO_OP_COUNT - 1).
const zaio_stats_latency_t *zaio_stats_latency (zaio_stats_t *self, zaio_op_t op);

//  The busiest clients, most jobs first: fills at most max of clients and
//  returns how many. Names are borrowed until the next update.
size_t zaio_stats_top (zaio_stats_t *self, zaio_stats_client_t *clients, size_t max);

//  Clients the top table holds now.
size_t zaio_stats_clients (zaio_stats_t *self);

//  Jobs worker (by name) has finished, 0 if it is not counted.
uint64_t zaio_stats_worker_jobs (zaio_stats_t *self, const char *worker);

//  Forgets the counts of workers no longer live, when the table is more
//  than three quarters full: live (count names) are kept.
void zaio_stats_prune (zaio_stats_t *self, const char *const *live, size_t count);

//  ---------------------------------------------------------------------
//  The stats reply (PROTOCOL.md section 5.3): what the broker's other
//  classes know now, gathered by the broker, and packed with the counters.

//  Workers a reply lists at most (the gauge counts them all).
#define ZAIO_STATS_WORKERS_LISTED 256

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    uint32_t workers;
    uint64_t credit;   //  free now, in all its workers
    uint64_t capacity; //  in all
    uint64_t running;  //  its jobs workers hold
    uint64_t queued;   //  its jobs waiting for a worker
} zaio_stats_volume_t;

typedef struct {
    const char *name;
    const char *const *volumes; //  of volume_count names
    uint32_t volume_count;
    uint32_t credit;
    uint32_t capacity;
    uint64_t running;
    bool remote;
} zaio_stats_worker_t;

typedef struct {
    uint64_t uptime_ms;
    int64_t time_ns;
    //  Gauges
    uint64_t queued, queued_bytes, running, inflight, held_replies, held_bytes, clients, workers,
        subscriptions;
    const zaio_stats_volume_t *volumes;
    size_t volume_count;
    const zaio_stats_worker_t *worker_list; //  at most ZAIO_STATS_WORKERS_LISTED
    size_t worker_count;
} zaio_stats_snapshot_t;

//  Packs the whole success reply to request id: snapshot's gauges,
//  volumes and workers (borrowed), the counters' rows, latencies of the
//  ops a worker ran, and the top clients (at most top).
void zaio_stats_pack (zaio_stats_t *self, msgpack_packer *pk, uint64_t id,
                      const zaio_stats_snapshot_t *snapshot, uint32_t top);

#endif
