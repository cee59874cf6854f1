/*  zaio_credit.c: the credit pool; see zaio_credit.h. */

#include "zaio_credit.h"

#include <assert.h>
#include <czmq.h>

struct _zaio_credit_t {
    zlistx_t *seated; //  zaio_taker_t *, least recently used first
};

zaio_credit_t *
zaio_credit_new (void)
{
    zaio_credit_t *self = (zaio_credit_t *)zmalloc (sizeof (zaio_credit_t));
    self->seated = zlistx_new ();
    return self;
}

void
zaio_credit_destroy (zaio_credit_t **self_p)
{
    zaio_credit_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->seated);
        free (self);
        *self_p = NULL;
    }
}

void *
zaio_credit_seat (zaio_credit_t *self, zaio_taker_t *taker)
{
    return zlistx_add_end (self->seated, taker);
}

void
zaio_credit_unseat (zaio_credit_t *self, void *seat)
{
    assert (seat);
    zlistx_delete (self->seated, seat);
}

//  One pass over the seats, least recently used first: the first idle
//  one for an urgent job, else the first with the most credit. A pool
//  holds the takers of one queue (a few workers or threads), so the scan
//  is short; it is what makes the choice fair.
zaio_taker_t *
zaio_credit_pick (zaio_credit_t *self, bool idle_only, void **seat_p)
{
    zaio_taker_t *best = NULL;
    void *best_seat = NULL;
    for (zaio_taker_t *taker = (zaio_taker_t *)zlistx_first (self->seated); taker;
         taker = (zaio_taker_t *)zlistx_next (self->seated)) {
        bool fits =
            idle_only ? taker->credit == taker->capacity : !best || taker->credit > best->credit;
        if (fits) {
            best = taker;
            best_seat = zlistx_cursor (self->seated);
            if (idle_only) break;
        }
    }
    if (seat_p) *seat_p = best_seat;
    return best;
}

void
zaio_credit_used (zaio_credit_t *self, void *seat)
{
    assert (seat);
    zlistx_move_end (self->seated, seat);
}

size_t
zaio_credit_size (zaio_credit_t *self)
{
    return zlistx_size (self->seated);
}

bool
zaio_taker_took (zaio_taker_t *taker)
{
    assert (taker->credit > 0);
    return --taker->credit == 0;
}

bool
zaio_taker_returned (zaio_taker_t *taker)
{
    assert (taker->credit < taker->capacity);
    return taker->credit++ == 0;
}
