/*  zaio_worker.h: one IO thread that runs jobs for a broker.

    A worker is a czmq actor with one DEALER connected to a worker endpoint
    (the broker's inproc backend, or a zaio-worker process's relay). It
    speaks ZAIOW/5 (schemas/PROTOCOL.md section 9): it announces itself with
    READY, then takes in each JOB (many jobs), makes their blocking calls
    through the op table in order and answers them in DONEs of many
    completions (when they go: zaio_worker.c).
    Right before it starts a job it checks its fence (zaio_fence.h): a
    non-idempotent job past it, and any job of a broker connection its
    relay has replaced, is not run but answered UNKNOWN_OUTCOME.
    Between jobs it keeps only a few files open for reading, which it looks
    up again for each JOB (zaio_fdcache.h).

    The volumes are shared read-only by the threads of one process: each
    holds only a name and a root descriptor that never changes after
    creation, and every job resolves its paths against it independently.
*/
#ifndef ZAIO_WORKER_H_INCLUDED
#define ZAIO_WORKER_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_fence.h"
#include "zaio_volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *endpoint;    //  where to connect the DEALER
    zaio_volume_t **volumes; //  borrowed; must outlive the actor
    size_t volume_count;
    uint32_t credit;     //  jobs to hold at once (>= 1)
    size_t payload_max;  //  largest read or readfile reply
    uint32_t slot;       //  thread number, for the worker's name
    zaio_fence_t *fence; //  its relay's, borrowed, must outlive the actor; NULL in the broker
} zaio_worker_config_t;

//  Start a worker thread. config is copied; strings and the volumes array
//  are borrowed for the actor's lifetime.
zactor_t *zaio_worker_new (const zaio_worker_config_t *config);

//  Stop the thread after the job it is running, if any; nulls *self_p.
void zaio_worker_destroy (zactor_t **self_p);

//  A READY message, [envelope][body], offering credit jobs at once for the
//  given volumes, named host/pid/slot, stamped with the worker's clock
//  (zaio_fence_clock_us). Caller owns it.
zmsg_t *zaio_worker_ready_message (zaio_volume_t **volumes, size_t volume_count, uint32_t credit,
                                   const char *host, uint32_t slot, uint32_t heartbeat_ms);

#ifdef __cplusplus
}
#endif

#endif
