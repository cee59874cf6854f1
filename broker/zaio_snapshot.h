/*  zaio_snapshot.h: what the broker holds at one moment, for a stats reply
    (PROTOCOL.md section 5.3).

    A snapshot gathers the gauges each class keeps (jobs, sessions,
    events, worker connections), every volume with its workers, free and
    total credit, jobs queued and running, and the worker connections
    themselves (at most ZAIO_STATS_WORKERS_LISTED listed, every name kept
    for zaio_stats_prune). Taking one walks each volume and each worker
    connection once; it is made for one reply and destroyed after it.
    Private to the broker.
*/
#ifndef ZAIO_SNAPSHOT_H_INCLUDED
#define ZAIO_SNAPSHOT_H_INCLUDED

#include "zaio_backend.h"
#include "zaio_events.h"
#include "zaio_sessions.h"
#include "zaio_stats.h"

typedef struct _zaio_snapshot_t zaio_snapshot_t;

//  What the classes (all borrowed, read only) hold now, uptime_ms after
//  the broker started.
zaio_snapshot_t *zaio_snapshot_new (zaio_dispatch_t *dispatch, zaio_backend_t *backend,
                                    zaio_jobs_t *jobs, zaio_sessions_t *sessions,
                                    zaio_events_t *events, uint64_t uptime_ms);
void zaio_snapshot_destroy (zaio_snapshot_t **self_p);

//  Its gauges, volumes and listed workers, as zaio_stats_pack takes them
//  (valid while the snapshot is).
const zaio_stats_snapshot_t *zaio_snapshot_stats (zaio_snapshot_t *self);

//  The names of every live worker connection, listed or not (count in
//  *count_p), as zaio_stats_prune takes them.
const char **zaio_snapshot_live (zaio_snapshot_t *self, size_t *count_p);

#endif
