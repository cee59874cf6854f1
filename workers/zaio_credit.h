/*  zaio_credit.h: which taker gets the next job.

    A taker is whatever runs jobs for a queue and says how many it takes
    at once: a worker connection in the broker (per volume), an IO thread
    in a zaio-worker's relay. A pool seats the takers of one queue that
    have credit left; the queue's owner asks it for the taker of each job
    in turn. The rule, the same in the broker and the relay:

      * the taker with the most credit left gets the job (the least loaded,
        so a slow taker is not buried while the others idle); of those with
        as much, the one that waited longest;
      * a job that must start at once (a deadline) goes only to a taker
        that holds nothing, the one that waited longest.

    A taker can sit in several pools (a worker serving several volumes has
    one credit for all of them): its owner seats it in each while it has
    credit, unseats it everywhere when its credit runs out, and marks it
    used in each after it takes a job (zaio_taker_took says which). The
    pool never frees a taker.
*/
#ifndef ZAIO_CREDIT_H_INCLUDED
#define ZAIO_CREDIT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Embedded in the taker's own struct: the pool reads it, the owner keeps
//  it up to date.
typedef struct {
    uint32_t credit;   //  jobs it can take now
    uint32_t capacity; //  jobs it takes at once: it holds none when credit is this
} zaio_taker_t;

typedef struct _zaio_credit_t zaio_credit_t;

zaio_credit_t *zaio_credit_new (void);
void zaio_credit_destroy (zaio_credit_t **self_p);

//  Seats taker (borrowed) last in the pool, as the one used most recently.
//  Returns its seat, for zaio_credit_unseat and zaio_credit_used.
void *zaio_credit_seat (zaio_credit_t *self, zaio_taker_t *taker);

//  Takes a seat out of the pool; the seat is gone after. seat must not be
//  NULL (zlistx would take the first seat instead): an owner that keeps
//  NULL for "not seated" checks it first.
void zaio_credit_unseat (zaio_credit_t *self, void *seat);

//  The seated taker that gets the next job (see above), its seat in
//  *seat_p; NULL if none fits. idle_only: only a taker that holds nothing.
zaio_taker_t *zaio_credit_pick (zaio_credit_t *self, bool idle_only, void **seat_p);

//  The seat's taker took a job: it goes last, so work spreads. seat must
//  not be NULL, as for zaio_credit_unseat.
void zaio_credit_used (zaio_credit_t *self, void *seat);

//  Takers seated.
size_t zaio_credit_size (zaio_credit_t *self);

//  Takes one credit from taker, which has some. Returns true if that was
//  its last: its owner then unseats it from every pool, and otherwise
//  marks it used in each.
bool zaio_taker_took (zaio_taker_t *taker);

//  Gives taker, which holds a job (credit below capacity), one credit
//  back. Returns true if it had none: its owner then seats it again in
//  every pool. Credit past capacity would hide the taker from idle-only
//  picks for good, so the owner gives back only for a job it handed over.
bool zaio_taker_returned (zaio_taker_t *taker);

#ifdef __cplusplus
}
#endif

#endif
