/*  zaio_relay.h: the heart of a zaio-worker process.

    A relay holds ONE connection to a broker's worker endpoint and a pool of
    IO threads (zaio_worker) behind it on inproc. Keeping the connection in
    a thread that never blocks on IO is what lets heartbeats flow while a
    job sits in a slow system call, so the broker can tell a busy worker
    from a dead one (the Paranoid Pirate pattern of the zguide).

    Towards the broker the relay is one worker with credit threads x
    credit (at most ZAIO_CREDIT_MAX), serving the relay's volumes.
    It heartbeats every heartbeat_ms, busy or not, stamped with its clock,
    notices a silent broker after heartbeat_ms x heartbeat_misses, and
    then reconnects with a fresh socket and READY, backing off up to 32
    intervals while the broker stays away. The broker has answered the
    jobs of an earlier connection already: those no thread has been given
    are dropped unrun, the threads start none of the others, and their
    replies are dropped. The fences the broker sends it keeps for its
    threads (zaio_fence.h), which check them before each job: a relay
    frozen past its fence starts no non-idempotent job when it resumes.
*/
#ifndef ZAIO_RELAY_H_INCLUDED
#define ZAIO_RELAY_H_INCLUDED

#include "zaio_curve.h"
#include "zaio_worker.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *broker;      //  the broker's worker endpoint (tcp or ipc)
    zaio_volume_t **volumes; //  borrowed; must outlive the actor
    size_t volume_count;
    uint32_t threads; //  IO threads, 1 to ZAIO_CREDIT_MAX
    uint32_t credit;  //  jobs per thread, 1 to ZAIO_CREDIT_MAX
    size_t payload_max;
    uint32_t heartbeat_ms;
    uint32_t heartbeat_misses;
    uint32_t drain_ms; //  longest wait for held jobs when stopping
    const char *name;  //  host identity in events; NULL = hostname
    bool verbose;
    const zaio_curve_t *curve; //  keys to connect with CURVE (borrowed); NULL: plain
} zaio_relay_config_t;

//  Start the relay and its threads. config is copied; strings, volumes and keys
//  are borrowed for the actor's lifetime. NULL if it cannot start.
zactor_t *zaio_relay_new (const zaio_relay_config_t *config);

//  Graceful stop: says BYE, finishes the jobs it holds (up to drain_ms),
//  stops the threads. Nulls *self_p.
void zaio_relay_destroy (zactor_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
