/*  zaio_snapshot.c: what the broker holds at one moment; see
    zaio_snapshot.h. */

#include "zaio_snapshot.h"

#include <stdlib.h>
#include <time.h>

struct _zaio_snapshot_t {
    zaio_stats_snapshot_t stats;
    zaio_stats_volume_t *volumes; //  stats' volumes, in the order of services
    zaio_service_t **services;    //  services[i] is volumes[i]'s, ascending by address
    zaio_stats_worker_t *workers; //  stats' worker list
    const char **names;           //  every listed worker's volume names, in one array
    size_t name_count;
    const char **live; //  every worker's name, listed or not
    size_t live_count;
};

//  The wall clock in nanoseconds since the epoch.
static int64_t
s_wall_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int
s_service_compare (const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (zaio_service_t *const *)a;
    uintptr_t y = (uintptr_t) * (zaio_service_t *const *)b;
    return x < y ? -1 : x > y;
}

//  The snapshot's entry of service (binary search), or NULL.
static zaio_stats_volume_t *
s_volume (zaio_snapshot_t *self, const zaio_service_t *service)
{
    zaio_service_t **found =
        (zaio_service_t **)bsearch (&service, self->services, self->stats.volume_count,
                                    sizeof self->services[0], s_service_compare);
    return found ? &self->volumes[found - self->services] : NULL;
}

//  One worker connection: its credit into its volumes, its jobs into
//  theirs' running, and itself into the list while there is room.
static void
s_worker (const zaio_backend_info_t *info, void *arg)
{
    zaio_snapshot_t *self = (zaio_snapshot_t *)arg;
    for (uint32_t i = 0; i < info->service_count; i++) {
        zaio_stats_volume_t *volume = s_volume (self, info->services[i]);
        if (!volume) continue;
        volume->credit += info->credit;
        volume->capacity += info->capacity;
    }
    for (zaio_link_t *link = zaio_list_first ((zaio_list_t *)info->jobs); link;
         link = zaio_list_next ((zaio_list_t *)info->jobs, link)) {
        zaio_stats_volume_t *volume =
            s_volume (self, ZAIO_HOLDER (link, zaio_job_t, held)->service);
        if (volume) volume->running++;
    }
    self->stats.running += info->jobs->size;
    self->live[self->live_count++] = info->name;
    if (self->stats.worker_count == ZAIO_STATS_WORKERS_LISTED) return;
    zaio_stats_worker_t *worker = &self->workers[self->stats.worker_count++];
    *worker = (zaio_stats_worker_t){info->name,
                                    self->names + self->name_count,
                                    0,
                                    info->credit,
                                    info->capacity,
                                    info->jobs->size,
                                    info->remote};
    for (uint32_t i = 0; i < info->service_count; i++)
        self->names[self->name_count + worker->volume_count++] = info->services[i]->name;
    self->name_count += worker->volume_count;
}

//  Adds the volume names of one worker connection to *arg (a size_t).
static void
s_count_names (const zaio_backend_info_t *info, void *arg)
{
    *(size_t *)arg += info->service_count;
}

zaio_snapshot_t *
zaio_snapshot_new (zaio_dispatch_t *dispatch, zaio_backend_t *backend, zaio_jobs_t *jobs,
                   zaio_sessions_t *sessions, zaio_events_t *events, uint64_t uptime_ms)
{
    zaio_snapshot_t *self = (zaio_snapshot_t *)zmalloc (sizeof (zaio_snapshot_t));
    self->stats = (zaio_stats_snapshot_t){
        .uptime_ms = uptime_ms,
        .time_ns = s_wall_ns (),
        .queued_bytes = zaio_jobs_data_bytes (jobs),
        .inflight = zaio_jobs_count (jobs),
        .held_replies = zaio_sessions_held (sessions),
        .held_bytes = zaio_sessions_held_bytes (sessions),
        .clients = zaio_sessions_size (sessions),
        .workers = zaio_backend_size (backend),
        .subscriptions = zaio_events_subscriptions (events),
    };
    size_t service_count = zaio_dispatch_size (dispatch);
    self->services = (zaio_service_t **)zmalloc (sizeof (zaio_service_t *) * (service_count + 1));
    self->volumes =
        (zaio_stats_volume_t *)zmalloc (sizeof (zaio_stats_volume_t) * (service_count + 1));
    self->workers =
        (zaio_stats_worker_t *)zmalloc (sizeof (zaio_stats_worker_t) * ZAIO_STATS_WORKERS_LISTED);
    size_t name_count = 0;
    zaio_backend_each (backend, s_count_names, &name_count);
    self->names = (const char **)zmalloc (sizeof (const char *) * (name_count + 1));
    self->live = (const char **)zmalloc (sizeof (const char *) * (self->stats.workers + 1));
    size_t count = 0;
    for (zaio_service_t *service = zaio_dispatch_first (dispatch); service && count < service_count;
         service = zaio_dispatch_next (dispatch))
        self->services[count++] = service;
    qsort (self->services, count, sizeof self->services[0], s_service_compare);
    for (size_t i = 0; i < count; i++) {
        const zaio_service_t *service = self->services[i];
        zaio_stats_volume_t *volume = &self->volumes[i];
        snprintf (volume->name, sizeof volume->name, "%s", service->name);
        volume->workers = service->worker_count;
        volume->queued = service->queue.size + service->urgent.size;
        self->stats.queued += volume->queued;
    }
    self->stats.volume_count = count;
    self->stats.volumes = self->volumes;
    self->stats.worker_list = self->workers;
    zaio_backend_each (backend, s_worker, self);
    return self;
}

void
zaio_snapshot_destroy (zaio_snapshot_t **self_p)
{
    zaio_snapshot_t *self = *self_p;
    if (!self) return;
    free (self->live);
    free (self->names);
    free (self->workers);
    free (self->volumes);
    free (self->services);
    free (self);
    *self_p = NULL;
}

const zaio_stats_snapshot_t *
zaio_snapshot_stats (zaio_snapshot_t *self)
{
    return &self->stats;
}

const char **
zaio_snapshot_live (zaio_snapshot_t *self, size_t *count_p)
{
    *count_p = self->live_count;
    return self->live;
}
