/*  zaio_order.c: keys, barriers and links among a client's jobs; see
    zaio_order.h.

    Nothing here costs more than a few fields per job, and no completion
    walks more than what it releases:

    * a key is a queue through key_next: each job with a key waits for the
      one before it, and the table maps a key to its newest job;
    * barriers cut the client's jobs into segments: a barrier and the jobs
      after it up to the next barrier. A job finishes only after it ran,
      so a barrier waits for every job before it exactly until it is the
      oldest unfinished job, and the jobs of its segment, which wait for
      it, are those after it in unfinished up to the next barrier;
    * a link is link_next.
*/

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

bool
zaio_order_admit (zaio_order_t *self, zaio_job_t *job)
{
    if (job->key) {
        if (!self->keys) self->keys = zhashx_new ();
        zaio_job_t *previous = (zaio_job_t *)zhashx_lookup (self->keys, job->key);
        if (previous) {
            previous->key_next = job;
            job->blockers++;
        }
        zhashx_update (self->keys, job->key, job);
    }
    if (job->barrier) {
        job->barrier_wait = self->unfinished.size > 0;
        self->barrier = job;
    } else
        job->barrier_wait = self->barrier != NULL;
    if (job->barrier_wait) job->blockers++;
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

//  One of the things job waits for is done; at none it is released.
static void
s_unblock (zaio_job_t *job, zaio_list_t *released)
{
    assert (job->blockers > 0);
    if (--job->blockers == 0) zaio_list_add (released, &job->queued, false);
}

//  Releases job from waiting for a barrier.
static void
s_pass_barrier (zaio_job_t *job, zaio_list_t *released)
{
    assert (job->barrier_wait);
    job->barrier_wait = false;
    s_unblock (job, released);
}

void
zaio_order_finish (zaio_order_t *self, zaio_job_t *job, bool failed, zaio_list_t *released)
{
    assert (!job->barrier || zaio_list_first (&self->unfinished) == &job->ordered);
    zaio_list_remove (&self->unfinished, &job->ordered);
    if (job->key) {
        if (job->key_next)
            s_unblock (job->key_next, released);
        else {
            assert (zhashx_lookup (self->keys, job->key) == job);
            zhashx_delete (self->keys, job->key);
        }
    }
    if (self->barrier == job) self->barrier = NULL;
    if (self->last == job) {
        self->last = NULL;
        self->link_broken = job->link && failed;
    }
    zaio_link_t *link = zaio_list_first (&self->unfinished);
    if (job->barrier) //  its segment
        for (; link; link = zaio_list_next (&self->unfinished, link)) {
            zaio_job_t *waiter = ZAIO_HOLDER (link, zaio_job_t, ordered);
            if (waiter->barrier) break;
            s_pass_barrier (waiter, released);
        }
    //  The oldest unfinished job, if a barrier, has nothing before it.
    link = zaio_list_first (&self->unfinished);
    zaio_job_t *oldest = link ? ZAIO_HOLDER (link, zaio_job_t, ordered) : NULL;
    if (oldest && oldest->barrier && oldest->barrier_wait) s_pass_barrier (oldest, released);
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
