/*  zaio_order.h: the order a client asks for among its jobs (PROTOCOL.md
    section 7): ordering keys, barriers and linked chains.

    Jobs run freely in parallel unless the client ties them: a job with a
    key waits for the client's previous unfinished job with that key; a
    barrier waits for every unfinished job before it, and every job after
    it waits for the barrier; a job after a linked one waits for it, and is
    cancelled (ECANCELED) if it failed. Each job costs a few fields, and
    each completion constant time plus a step per job that waited for it (see
    zaio_order.c), whatever a client sends. One zaio_order_t per client
    connection, embedded in its session; the fields it owns in zaio_job_t
    are under "Its client's order". Private to the broker.
*/
#ifndef ZAIO_ORDER_H_INCLUDED
#define ZAIO_ORDER_H_INCLUDED

#include "zaio_jobs.h"

typedef struct {
    zaio_list_t unfinished; //  of job->ordered: accepted, not yet finished, oldest first
    zhashx_t *keys;         //  ordering key -> its newest unfinished zaio_job_t (NULL until used)
    zaio_job_t *barrier;    //  newest unfinished barrier job
    zaio_job_t *last;       //  newest unfinished job, for link
    bool link_broken;       //  the newest job was linked and failed: cancel the next
} zaio_order_t;

void zaio_order_init (zaio_order_t *self);
//  Frees what init and use allocated; nothing may be unfinished.
void zaio_order_clear (zaio_order_t *self);

//  Ties a new job (from this client) in: behind the previous job with its
//  key, behind an unfinished barrier, behind everything if it is a barrier
//  itself, behind a linked predecessor; marks it cancelled if the linked
//  job before it failed. Returns true if it may run at once; otherwise
//  zaio_order_finish releases it later.
bool zaio_order_admit (zaio_order_t *self, zaio_job_t *job);

//  Unties a job that has its reply and releases the jobs that waited for
//  it: each whose last blocker this was goes on released (by its queued
//  link), cancelled if it was linked to this one and this one failed.
void zaio_order_finish (zaio_order_t *self, zaio_job_t *job, bool failed, zaio_list_t *released);

//  Jobs accepted and not yet answered.
size_t zaio_order_unfinished (const zaio_order_t *self);

#endif
