/*  zaio_fence.h: until when a zaio-worker may start the jobs it holds
    (schemas/PROTOCOL.md section 9, "Fences").

    The broker presumes a heartbeated worker dead, and answers or retries
    the jobs it holds, once it has heard nothing from it for a window. A
    worker stamps its READY, HEARTBEAT and BYE with its own clock
    (zaio_fence_clock_us); the broker puts a fence in every JOB, HEARTBEAT
    and BYE it sends: the newest stamp it has heard from that worker plus
    the window, less a margin. The stamp left the worker before the broker
    heard it, so the broker gives up on the connection's jobs no earlier
    than that fence, on the worker's clock. A worker starts no
    non-idempotent job at or past its connection's newest fence.

    One fence per zaio-worker: its relay, the one thread that hears the
    broker, moves it on (a new connection, a newer fence); its IO threads
    read it right before they start a job. A fence that came behind the
    jobs it covers would wait in a thread's queue behind them, so it is
    shared (two atomic words, one writer) rather than sent as a message.
    In-process workers the broker never presumes dead have none: their
    JOBs carry ZAIO_FENCE_NONE.
*/
#ifndef ZAIO_FENCE_H_INCLUDED
#define ZAIO_FENCE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A fence that never passes: for workers the broker never expires.
#define ZAIO_FENCE_NONE UINT64_MAX

typedef struct _zaio_fence_t zaio_fence_t;

//  What a worker may do with a job it is about to start.
typedef enum {
    ZAIO_FENCE_OPEN,   //  start it
    ZAIO_FENCE_PASSED, //  the broker may have given up on it: start it only if idempotent
    ZAIO_FENCE_OLD,    //  it came on a connection since replaced: its DONE goes nowhere
} zaio_fence_verdict_t;

//  The worker's clock for stamps and fences, in microseconds: CLOCK_BOOTTIME,
//  monotonic like CLOCK_MONOTONIC, and it goes on counting while the host
//  is suspended, which a fence must see.
uint64_t zaio_fence_clock_us (void);

//  A fence that has passed, on no connection yet.
zaio_fence_t *zaio_fence_new (void);
void zaio_fence_destroy (zaio_fence_t **self_p);

//  The relay: a new broker connection, whose jobs are numbered first and
//  up; jobs numbered below are of connections replaced. Its fence has
//  passed until the broker sends one.
void zaio_fence_connection (zaio_fence_t *self, uint64_t first);

//  The relay: a fence the broker sent on the current connection. An older
//  one than it has is ignored.
void zaio_fence_extend (zaio_fence_t *self, uint64_t until_us);

//  A thread, right before it starts job (the relay's number for it), at
//  now_us: job_until_us is the fence its JOB came with. self may be NULL
//  (a thread of the broker's own, whose JOBs carry ZAIO_FENCE_NONE): then
//  only that fence counts.
zaio_fence_verdict_t zaio_fence_check (zaio_fence_t *self, uint64_t job, uint64_t job_until_us,
                                       uint64_t now_us);

#ifdef __cplusplus
}
#endif

#endif
