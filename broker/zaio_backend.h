/*  zaio_backend.h: the broker's worker connections (PROTOCOL.md section 9).

    Workers, the broker's own threads over inproc and zaio-worker
    processes over tcp or ipc, connect to the backend ROUTER and speak
    ZAIOW/5: READY announces a connection with its credit and volumes,
    JOB hands it jobs, DONE answers some and returns their credit, BYE asks
    to leave, HEARTBEAT proves it alive. This class keeps one record per
    connection (its credit, the jobs it holds, its volumes' pools) and
    runs each through a small state machine (zaio_backend.c). A worker
    that falls silent or misbehaves is forgotten: each job it held is
    retried on another worker if its op is idempotent and attempts remain,
    and otherwise answered UNKNOWN_OUTCOME. It ends jobs through the hooks
    the broker gives it. Private to the broker.
*/
#ifndef ZAIO_BACKEND_H_INCLUDED
#define ZAIO_BACKEND_H_INCLUDED

#include "zaio_dispatch.h"
#include "zaio_grants.h"
#include "zaio_route.h"
#include "zaio_worker_proto.h"

typedef struct {
    //  Ends job with the reply a worker sent (header, data: taken).
    void (*finish) (void *arg, zaio_job_t **job_p, zmq_msg_t *header, zmq_msg_t *data,
                    const zaio_outcome_t *outcome, const char *worker);
    //  Ends job with an error the broker makes; worker names the one that
    //  held it, for its event.
    void (*fail) (void *arg, zaio_job_t **job_p, int code, const char *why, const char *worker);
    void *arg;
} zaio_backend_hooks_t;

typedef struct {
    uint32_t heartbeat_ms;     //  between heartbeats to a worker
    uint32_t heartbeat_misses; //  silent intervals before a worker is dead
    uint32_t retries_max;      //  attempts per idempotent job across worker deaths
    zaio_grants_t *grants;     //  which volumes each worker identity may serve (borrowed)
    bool verbose;
} zaio_backend_config_t;

typedef struct _zaio_backend_t zaio_backend_t;

//  Worker connections on router (a ROUTER's libzmq handle), whose jobs are
//  in jobs and whose volumes dispatch keeps (all borrowed). config and
//  hooks are copied.
zaio_backend_t *zaio_backend_new (void *router, zaio_jobs_t *jobs, zaio_dispatch_t *dispatch,
                                  const zaio_backend_config_t *config,
                                  const zaio_backend_hooks_t *hooks);
//  Every connection must hold no job (see zaio_backend_abandon).
void zaio_backend_destroy (zaio_backend_t **self_p);

//  One message from a worker: [routing id][envelope][body...], count
//  parts of which the first ones are in parts; those it keeps it moves
//  out, the caller closes the rest.
void zaio_backend_handle (zaio_backend_t *self, zmq_msg_t *parts, int count);

//  Gives job to the worker connection whose taker was picked (it has
//  credit) at now_us, and takes one credit. The job is sent at the next
//  zaio_backend_flush, with the others given to that connection since.
void zaio_backend_hand_over (zaio_backend_t *self, zaio_taker_t *taker, zaio_job_t *job,
                             int64_t now_us);

//  Sends each connection the jobs handed over to it since the last flush,
//  in as few JOB messages as the batch limits allow (one, mostly).
void zaio_backend_flush (zaio_backend_t *self);

//  The timer: forgets workers silent past their expiry, heartbeats the
//  others when due. now_ms is the loop's clock.
void zaio_backend_tick (zaio_backend_t *self, int64_t now_ms);

//  The broker is stopping: jobs of a lost worker are no longer retried.
void zaio_backend_stop_retries (zaio_backend_t *self);

//  The drain time is up: every job still held is answered UNKNOWN_OUTCOME.
void zaio_backend_abandon (zaio_backend_t *self);

//  What the stats op shows of one worker connection (borrowed from it,
//  valid while the connection's table does not change).
typedef struct {
    const char *name;                //  HOST/PID/SLOT
    uint32_t credit;                 //  jobs it can take now
    uint32_t capacity;               //  jobs it takes at once
    bool remote;                     //  heartbeated (a zaio-worker), not in-process
    uint32_t service_count;          //  volumes it serves
    zaio_service_t *const *services; //  of service_count
    const zaio_list_t *jobs;         //  of job->held: the jobs it holds
} zaio_backend_info_t;

//  Worker connections.
size_t zaio_backend_size (zaio_backend_t *self);

//  Calls fn (info, arg) for each worker connection, in no order; fn must
//  not change the table.
void zaio_backend_each (zaio_backend_t *self,
                        void (*fn) (const zaio_backend_info_t *info, void *arg), void *arg);

#endif
