/*  zaio_jobs.h: the jobs the broker has accepted, by number.

    A job is one accepted request, from admission until its one reply. The
    table owns every job: zaio_jobs_add makes one and gives it a number,
    zaio_jobs_remove frees it. A number is a slot in the table and a
    generation, so a number from a job long gone (a late DONE) never finds
    the job now in its slot. Finished jobs are kept for reuse, path buffer
    and all, so accepting a job usually allocates nothing.

    The table also counts what the limits of PROTOCOL.md section 7 need:
    jobs accepted (queued + running) and the request data held by jobs not
    yet handed to a worker. The job's fields are open to the broker's
    classes, each of which says which fields are its own. Private to the
    broker.
*/
#ifndef ZAIO_JOBS_H_INCLUDED
#define ZAIO_JOBS_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_heap.h"
#include "zaio_list.h"

typedef struct _zaio_job_t zaio_job_t;
typedef struct _zaio_session_t zaio_session_t;
typedef struct _zaio_service_t zaio_service_t;
typedef struct _zaio_workerconn_t zaio_workerconn_t;

struct _zaio_job_t {
    uint64_t number; //  generation << 32 | slot in the table
    //  The request
    uint64_t id;
    zaio_op_t op;
    char *path;
    size_t path_room; //  bytes allocated at path (a reused job keeps them)
    zmq_msg_t header; //  as received; kept across attempts for idempotent ops
    zmq_msg_t data;   //  as received; moves to the worker (zaio_jobs_take_data)
    bool has_header;
    bool has_data;
    //  Its client's order (zaio_order.c)
    zaio_session_t *owner; //  its client's state, which lives while it has unfinished jobs
    zaio_link_t ordered;   //  in owner's order: unfinished, oldest first
    char *key;             //  ordering key, or NULL
    bool barrier;
    bool link;
    uint32_t blockers;     //  what it still waits for: its key, a barrier, a link (0..3)
    bool barrier_wait;     //  waits for a barrier (a barrier: for every job before it)
    zaio_job_t *key_next;  //  the client's next job with this key, waiting for this one
    zaio_job_t *link_next; //  the client's next job, if this one is linked
    bool cancel;           //  a linked predecessor failed
    //  Its way to a worker (zaio_dispatch.c, zaio_backend.c)
    zaio_link_t queued; //  in the broker's released list, its service's queue or urgent
                        //  list, or its owner's parked list
    zaio_link_t held;   //  in its worker's jobs
    zaio_service_t *service;
    zaio_workerconn_t *worker; //  the worker holding it, or NULL
    uint32_t attempts;
    int64_t received_us;
    int64_t dispatched_us;
    int64_t deadline_us;            //  must start by then, on the pass clock; 0 = no deadline
    zaio_heap_node_t held_deadline; //  on the broker's heap while held behind others
    bool answered; //  replied to while still held behind others (deadline, shutdown)
    bool batched;  //  an entry of a request batch: its reply goes in a reply batch
};

typedef struct _zaio_jobs_t zaio_jobs_t;

zaio_jobs_t *zaio_jobs_new (void);
//  Frees the table and the jobs kept for reuse; every job must have been
//  removed.
void zaio_jobs_destroy (zaio_jobs_t **self_p);

//  A new job for path (copied), numbered, every other field zero.
zaio_job_t *zaio_jobs_add (zaio_jobs_t *self, const char *path);

//  The job number names, or NULL if it is gone.
zaio_job_t *zaio_jobs_find (zaio_jobs_t *self, uint64_t number);

//  Frees a job (closing what it still holds) and nulls *job_p. The caller
//  has taken it off every list.
void zaio_jobs_remove (zaio_jobs_t *self, zaio_job_t **job_p);

//  Gives job the request's data part (moved in), counted until taken.
void zaio_jobs_put_data (zaio_jobs_t *self, zaio_job_t *job, zmq_msg_t *data);

//  The job's data, moving to a worker: NULL if it has none; else the part,
//  which the caller sends or closes, no longer counted.
zmq_msg_t *zaio_jobs_take_data (zaio_jobs_t *self, zaio_job_t *job);

//  Jobs accepted, and bytes of request data they hold unsent.
uint32_t zaio_jobs_count (zaio_jobs_t *self);
size_t zaio_jobs_data_bytes (zaio_jobs_t *self);

#endif
