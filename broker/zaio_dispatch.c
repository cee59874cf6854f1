/*  zaio_dispatch.c: volumes' queues and credit; see zaio_dispatch.h. */

#include "zaio_dispatch.h"
#include "zaio_log.h"
#include "zaio_broker.h"
#include "zaio_sessions.h"

#define S_WHY_EXPIRED "deadline passed before a worker was free"

struct _zaio_dispatch_t {
    zaio_dispatch_hooks_t hooks;
    zhashx_t *services;              //  name -> zaio_service_t
    zaio_service_t *default_service; //  once a worker has announced it
    zaio_list_t due;                 //  of service->due: with jobs and free workers, maybe
    uint32_t forget_ms;              //  idle time after which a service is forgotten
};

static void
s_service_destroy (void **item)
{
    zaio_service_t *service = (zaio_service_t *)*item;
    if (service) {
        assert (service->queue.size == 0 && service->urgent.size == 0);
        zaio_credit_destroy (&service->pool);
        free (service);
        *item = NULL;
    }
}

zaio_dispatch_t *
zaio_dispatch_new (const zaio_dispatch_hooks_t *hooks, uint32_t forget_ms)
{
    zaio_dispatch_t *self = (zaio_dispatch_t *)zmalloc (sizeof (zaio_dispatch_t));
    self->hooks = *hooks;
    self->forget_ms = forget_ms;
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_service_destroy);
    zaio_list_init (&self->due);
    return self;
}

void
zaio_dispatch_destroy (zaio_dispatch_t **self_p)
{
    zaio_dispatch_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->services);
        free (self);
        *self_p = NULL;
    }
}

zaio_service_t *
zaio_dispatch_lookup (zaio_dispatch_t *self, const char *name)
{
    return (zaio_service_t *)zhashx_lookup (self->services, name);
}

//  Most requests name no volume, and theirs is kept at hand.
zaio_service_t *
zaio_dispatch_lookup_request (zaio_dispatch_t *self, const zaio_request_t *req)
{
    if (req->fields & ZAIO_FIELD_VOLUME) return zaio_dispatch_lookup (self, req->volume);
    if (!self->default_service)
        self->default_service = zaio_dispatch_lookup (self, ZAIO_DEFAULT_VOLUME);
    return self->default_service;
}

zaio_service_t *
zaio_dispatch_require (zaio_dispatch_t *self, const char *name, bool readonly)
{
    zaio_service_t *service = zaio_dispatch_lookup (self, name);
    if (!service) {
        service = (zaio_service_t *)zmalloc (sizeof (zaio_service_t));
        snprintf (service->name, sizeof service->name, "%s", name);
        service->readonly = readonly;
        zaio_list_init (&service->queue);
        zaio_list_init (&service->urgent);
        service->pool = zaio_credit_new ();
        zhashx_insert (self->services, name, service);
    }
    return service;
}

size_t
zaio_dispatch_size (zaio_dispatch_t *self)
{
    return zhashx_size (self->services);
}

//  An idle service (no worker, no job) has its queues empty and is held
//  by no worker: once it is not due either, nothing but the table points
//  to it.
void
zaio_dispatch_forget (zaio_dispatch_t *self, int64_t now_ms)
{
    zaio_service_t *gone[ZAIO_BROKER_VOLUMES_MAX];
    size_t count = 0;
    for (zaio_service_t *service = (zaio_service_t *)zhashx_first (self->services); service;
         service = (zaio_service_t *)zhashx_next (self->services)) {
        if (service->worker_count || service->jobs)
            service->idle_ms = 0;
        else if (!service->idle_ms)
            service->idle_ms = now_ms;
        else if (now_ms - service->idle_ms >= self->forget_ms && !zaio_linked (&service->due) &&
                 count < ZAIO_BROKER_VOLUMES_MAX)
            gone[count++] = service; //  (one due this pass goes at a later tick)
    }
    if (count)
        zaio_log_info ("dispatch",
                       "%zu volumes no worker has served for %u ms forgotten, '%s' first", count,
                       self->forget_ms, gone[0]->name);
    for (size_t i = 0; i < count; i++) {
        if (gone[i] == self->default_service) self->default_service = NULL;
        zhashx_delete (self->services, gone[i]->name);
    }
}

//  The broker knows at most ZAIO_BROKER_VOLUMES_MAX volumes (zaio_backend
//  refuses a READY that would pass it), and a hello carries them all.
_Static_assert(ZAIO_BROKER_VOLUMES_MAX <= ZAIO_HELLO_VOLUMES_MAX, "hello holds every volume");

void
zaio_dispatch_describe (zaio_dispatch_t *self, zaio_hello_t *hello)
{
    hello->volume_count = 0;
    for (zaio_service_t *service = (zaio_service_t *)zhashx_first (self->services); service;
         service = (zaio_service_t *)zhashx_next (self->services)) {
        zaio_hello_volume_t *volume = &hello->volumes[hello->volume_count++];
        snprintf (volume->name, sizeof volume->name, "%s", service->name);
        volume->readonly = service->readonly;
        volume->workers = service->worker_count;
    }
}

void
zaio_dispatch_later (zaio_dispatch_t *self, zaio_service_t *service)
{
    if (!zaio_linked (&service->due)) zaio_list_add (&self->due, &service->due, false);
}

void
zaio_dispatch_enqueue (zaio_dispatch_t *self, zaio_job_t *job, bool front)
{
    zaio_service_t *service = job->service;
    zaio_list_add (job->deadline_us ? &service->urgent : &service->queue, &job->queued, front);
    zaio_dispatch_later (self, service);
}

//  Takes the first job off a list of job->queued links, or returns NULL.
static zaio_job_t *
s_pop (zaio_list_t *list)
{
    zaio_link_t *link = zaio_list_pop (list);
    return link ? ZAIO_HOLDER (link, zaio_job_t, queued) : NULL;
}

//  A deadline counts from the start of the loop pass that received the
//  job, and the pass's dispatch uses that same time: so a job may still
//  start in the pass its deadline falls in, and deadline 0 (PROTOCOL.md:
//  "only if it can start at once") means in the pass it arrived.
static bool
s_expired (zaio_job_t *job, int64_t pass_us)
{
    return job->deadline_us && pass_us > job->deadline_us;
}

void
zaio_dispatch_fail_list (zaio_dispatch_t *self, zaio_list_t *list, int code, const char *why)
{
    zaio_job_t *job;
    while ((job = s_pop (list))) self->hooks.fail (self->hooks.arg, &job, code, why);
}

//  Ends every job queued for service with code, emptying its queues.
static void
s_fail_queued (zaio_dispatch_t *self, zaio_service_t *service, int code, const char *why)
{
    zaio_dispatch_fail_list (self, &service->urgent, code, why);
    zaio_dispatch_fail_list (self, &service->queue, code, why);
}

void
zaio_dispatch_fail_all (zaio_dispatch_t *self, int code, const char *why)
{
    for (zaio_service_t *service = (zaio_service_t *)zhashx_first (self->services); service;
         service = (zaio_service_t *)zhashx_next (self->services))
        s_fail_queued (self, service, code, why);
}

//  Hands the first job of list to the worker whose taker was picked,
//  unless it has expired (then it is answered) or its client reads no
//  replies (then it is parked). Returns true if it was handed over.
static bool
s_hand_first (zaio_dispatch_t *self, zaio_list_t *list, zaio_taker_t *taker, int64_t pass_us,
              int64_t now_us)
{
    zaio_job_t *job = s_pop (list);
    if (s_expired (job, pass_us)) {
        self->hooks.fail (self->hooks.arg, &job, ETIMEDOUT, S_WHY_EXPIRED);
        return false;
    }
    if (zaio_sessions_park (job)) return false;
    self->hooks.hand_over (self->hooks.arg, taker, job, now_us);
    return true;
}

//  Sends a service's queued jobs to its workers while both last: urgent
//  ones to idle workers first, the rest only once no urgent one waits.
//  Returns true if it sent any job.
static bool
s_dispatch (zaio_dispatch_t *self, zaio_service_t *service, int64_t pass_us, int64_t now_us)
{
    if (service->worker_count == 0) {
        //  Its last worker has gone. Jobs still reach its queues after
        //  that: those that waited for others (ordering) or were parked
        //  (held replies). Each is answered as a new request would be.
        s_fail_queued (self, service, ZAIO_ERR_NOVOLUME, "last worker of the volume lost");
        return false;
    }
    bool sent = false;
    zaio_taker_t *taker;
    while (service->urgent.size && (taker = zaio_credit_pick (service->pool, true, NULL)))
        sent |= s_hand_first (self, &service->urgent, taker, pass_us, now_us);
    while (service->urgent.size == 0 && service->queue.size &&
           (taker = zaio_credit_pick (service->pool, false, NULL)))
        sent |= s_hand_first (self, &service->queue, taker, pass_us, now_us);
    return sent;
}

//  The clock is read once for the round: a round takes microseconds, and
//  its jobs share one dispatch time.
bool
zaio_dispatch_run (zaio_dispatch_t *self, int64_t pass_us)
{
    if (self->due.size == 0) return false;
    int64_t now_us = zclock_usecs ();
    bool sent = false;
    zaio_link_t *link;
    while ((link = zaio_list_pop (&self->due)))
        sent |= s_dispatch (self, ZAIO_HOLDER (link, zaio_service_t, due), pass_us, now_us);
    //  Every job of the round went to its worker's batch: out they go, a
    //  message per worker.
    if (sent) self->hooks.flush (self->hooks.arg);
    return sent;
}

bool
zaio_dispatch_expire_list (zaio_dispatch_t *self, zaio_list_t *list, int64_t pass_us,
                           const char *why)
{
    bool expired = false;
    zaio_link_t *link = zaio_list_first (list);
    while (link) {
        zaio_link_t *next = zaio_list_next (list, link);
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, queued);
        if (s_expired (job, pass_us)) {
            zaio_list_remove (list, link);
            self->hooks.fail (self->hooks.arg, &job, ETIMEDOUT, why);
            expired = true;
        }
        link = next;
    }
    return expired;
}

//  Jobs without a deadline wait behind one (s_dispatch): once an urgent
//  queue has lost some, its service is looked at again, since they may go
//  to workers that had room all along.
void
zaio_dispatch_expire (zaio_dispatch_t *self, int64_t pass_us)
{
    for (zaio_service_t *service = (zaio_service_t *)zhashx_first (self->services); service;
         service = (zaio_service_t *)zhashx_next (self->services))
        if (zaio_dispatch_expire_list (self, &service->urgent, pass_us, S_WHY_EXPIRED))
            zaio_dispatch_later (self, service);
}

zaio_service_t *
zaio_dispatch_first (zaio_dispatch_t *self)
{
    return (zaio_service_t *)zhashx_first (self->services);
}

zaio_service_t *
zaio_dispatch_next (zaio_dispatch_t *self)
{
    return (zaio_service_t *)zhashx_next (self->services);
}
