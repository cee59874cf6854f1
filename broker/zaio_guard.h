/*  zaio_guard.h: backs a socket's listeners off when accept fails.

    When a process runs out of descriptors, libzmq 4.3's tcp listener
    meets accept (2) failing with EMFILE, reports ZMQ_EVENT_ACCEPT_FAILED,
    and tries again at once: the connection still waits in the backlog, so
    its I/O thread spins at 100% CPU for as long as the descriptors stay
    taken. Its ipc listener does the same on ENFILE, and on EMFILE fails
    an assertion that aborts the process (ipc_listener.cpp): no guard can
    catch that, but pausing every ipc listener of the broker as soon as
    one listener finds descriptors exhausted narrows the window for it.

    A guard watches one socket's listeners through a socket monitor. On an
    accept that failed for want of descriptors or memory, it unbinds the
    socket's tcp and ipc endpoints (a client meanwhile sees its connection
    refused, and libzmq clients retry), and binds them again after a pause
    of 100 ms, doubling on each further failure up to a few seconds, and
    only once some descriptors are free. It logs once when an episode
    begins and once when accepts succeed again, which also resets the
    pause. It rebinds through zaio_endpoints_rebind, so a listener comes
    back with the socket options and ports it was first bound with.

    Unbinding an endpoint also closes every connection accepted through
    it (libzmq's listener owns their sessions): an episode sheds the idle
    and half-open connections that took the descriptors, and established
    peers of that endpoint with them; libzmq peers reconnect once it is
    back. Private to the broker.
*/
#ifndef ZAIO_GUARD_H_INCLUDED
#define ZAIO_GUARD_H_INCLUDED

#include "zaio_endpoints.h"

#include <czmq.h>

#define ZAIO_GUARD_PAUSE_MIN_MS 100   //  the first pause of an episode
#define ZAIO_GUARD_PAUSE_MAX_MS 3200  //  the pause doubles up to this
#define ZAIO_GUARD_CALM_MS      10000 //  accepting this long without failure ends an episode
#define ZAIO_GUARD_HEADROOM     16    //  descriptors that must be free before a rebind

typedef struct _zaio_guard_t zaio_guard_t;

//  A guard for sock's listeners: the endpoints of kind ("client",
//  "events", "workers") in endpoints, which it rebinds them through. Both
//  are borrowed and must outlive the guard. Call it on the socket's
//  thread.
zaio_guard_t *zaio_guard_new (zsock_t *sock, const char *kind, zaio_endpoints_t *endpoints);

//  Stops monitoring the socket; listeners paused stay unbound.
void zaio_guard_destroy (zaio_guard_t **self_p);

//  The monitor socket to wait on for input (borrowed). It follows the
//  ZMQ_FD rule of zaio_sock.h: zaio_guard_handle leaves it safe to wait on.
zsock_t *zaio_guard_monitor (zaio_guard_t *self);

//  Takes every event waiting on the monitor; an accept that failed for
//  want of descriptors pauses the listeners at once. Returns true if an
//  episode began: descriptors are the process's, so the caller pauses the
//  ipc listeners of its other guards too (zaio_guard_pause_ipc).
bool zaio_guard_handle (zaio_guard_t *self, int64_t now_ms);

//  Unbinds the ipc listeners, unless paused already, for the pause now
//  due: an ipc accept meeting EMFILE would abort the process.
void zaio_guard_pause_ipc (zaio_guard_t *self, int64_t now_ms);

//  Rebinds the listeners if their pause is over (or pauses them longer if
//  descriptors are still short or a rebind failed), and ends an episode
//  once accepts have succeeded for ZAIO_GUARD_CALM_MS. Call it every tick.
void zaio_guard_tick (zaio_guard_t *self, int64_t now_ms);

#endif
