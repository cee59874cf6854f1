/*  zaio_order.c: keys, barriers and links among a client's jobs; see
    zaio_order.h. */

#include "zaio_order.h"

void
zaio_order_init (zaio_order_t *self)
{
    memset (self, 0, sizeof *self);
    zaio_list_init (&self->unfinished);
}

void
zaio_order_clear (zaio_order_t *self)
{
    assert (self->unfinished.size == 0);
    zhashx_destroy (&self->keys);
}

//  Makes job wait for blocker to finish.
static void
s_wait_for (zaio_job_t *job, zaio_job_t *blocker)
{
    if (!blocker->dependents) blocker->dependents = zlistx_new ();
    zlistx_add_end (blocker->dependents, job);
    job->blockers++;
}

bool
zaio_order_admit (zaio_order_t *self, zaio_job_t *job)
{
    if (job->key) {
        if (!self->keys) self->keys = zhashx_new ();
        zaio_job_t *previous = (zaio_job_t *)zhashx_lookup (self->keys, job->key);
        if (previous) s_wait_for (job, previous);
        zhashx_update (self->keys, job->key, job);
    }
    if (job->barrier) {
        for (zaio_link_t *link = zaio_list_first (&self->unfinished); link;
             link = zaio_list_next (&self->unfinished, link))
            s_wait_for (job, ZAIO_HOLDER (link, zaio_job_t, ordered));
        self->barrier = job;
    } else if (self->barrier)
        s_wait_for (job, self->barrier);
    if (self->last && self->last->link) {
        self->last->link_next = job;
        job->blockers++;
    } else if (self->link_broken)
        job->cancel = true;
    self->link_broken = false;
    self->last = job;
    zaio_list_add (&self->unfinished, &job->ordered, false);
    return job->blockers == 0;
}

//  One of job's blockers finished; at zero it is released.
static void
s_unblock (zaio_job_t *job, zaio_list_t *released)
{
    assert (job->blockers > 0);
    if (--job->blockers == 0) zaio_list_add (released, &job->queued, false);
}

void
zaio_order_finish (zaio_order_t *self, zaio_job_t *job, bool failed, zaio_list_t *released)
{
    zaio_list_remove (&self->unfinished, &job->ordered);
    if (job->key && zhashx_lookup (self->keys, job->key) == job)
        zhashx_delete (self->keys, job->key);
    if (self->barrier == job) self->barrier = NULL;
    if (self->last == job) {
        self->last = NULL;
        self->link_broken = job->link && failed;
    }
    if (job->dependents)
        for (zaio_job_t *waiter = (zaio_job_t *)zlistx_first (job->dependents); waiter;
             waiter = (zaio_job_t *)zlistx_next (job->dependents))
            s_unblock (waiter, released);
    if (job->link_next) {
        if (failed) job->link_next->cancel = true;
        s_unblock (job->link_next, released);
    }
}

size_t
zaio_order_unfinished (const zaio_order_t *self)
{
    return self->unfinished.size;
}
