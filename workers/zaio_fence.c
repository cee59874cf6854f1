/*  zaio_fence.c: a zaio-worker's fence; see zaio_fence.h.

    One writer (the relay), readers (the IO threads). The relay stores
    first before it stores any fence of that connection, so a reader that
    loads a fence, then first (both sequentially consistent), never takes a
    newer connection's fence for a job of an older one. A reader that sees
    an older fence for a job of a newer connection refuses at worst what it
    need not have: that fence has passed, or soon will.
*/

#include "zaio_fence.h"

#include <assert.h>
#include <czmq.h>
#include <stdatomic.h>
#include <time.h>

struct _zaio_fence_t {
    _Atomic uint64_t first; //  the current connection's first job number
    _Atomic uint64_t until; //  the newest fence heard on it, in zaio_fence_clock_us
};

uint64_t
zaio_fence_clock_us (void)
{
    struct timespec now;
    int rc = clock_gettime (CLOCK_BOOTTIME, &now);
    assert (rc == 0);
    return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

zaio_fence_t *
zaio_fence_new (void)
{
    zaio_fence_t *self = (zaio_fence_t *)zmalloc (sizeof (zaio_fence_t));
    atomic_init (&self->first, 0);
    atomic_init (&self->until, 0);
    return self;
}

void
zaio_fence_destroy (zaio_fence_t **self_p)
{
    zaio_fence_t *self = *self_p;
    if (self) {
        free (self);
        *self_p = NULL;
    }
}

void
zaio_fence_connection (zaio_fence_t *self, uint64_t first)
{
    atomic_store (&self->first, first);
    atomic_store (&self->until, 0);
}

void
zaio_fence_extend (zaio_fence_t *self, uint64_t until_us)
{
    if (until_us > atomic_load (&self->until)) atomic_store (&self->until, until_us);
}

zaio_fence_verdict_t
zaio_fence_check (zaio_fence_t *self, uint64_t job, uint64_t job_until_us, uint64_t now_us)
{
    uint64_t until = 0;
    if (self) {
        until = atomic_load (&self->until);
        if (job < atomic_load (&self->first)) return ZAIO_FENCE_OLD;
    }
    return now_us < job_until_us || now_us < until ? ZAIO_FENCE_OPEN : ZAIO_FENCE_PASSED;
}
