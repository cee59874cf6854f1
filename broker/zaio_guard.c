/*  zaio_guard.c: listener back-off on accept failures; see zaio_guard.h. */

#include "zaio_guard.h"
#include "zaio_log.h"
#include "zaio_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

//  A listener: one endpoint of the socket, bound or paused.
typedef struct {
    char *endpoint; //  as bound, port resolved
    bool bound;
} s_listener_t;

struct _zaio_guard_t {
    zsock_t *sock;               //  watched (borrowed)
    char *kind;                  //  for logs
    zaio_endpoints_t *endpoints; //  rebinds (borrowed)
    s_listener_t *listeners;
    size_t listener_count;
    zsock_t *monitor;  //  PAIR, the socket monitor's events
    bool paused;       //  some listener is unbound
    bool episode;      //  accepts failed and have not succeeded since
    bool accepted;     //  an accept succeeded since the last failure
    bool rebind_told;  //  a rebind failure of this episode was logged
    int64_t pause_ms;  //  the next pause
    int64_t resume_ms; //  when the listeners are due back
    int64_t failed_ms; //  the last failure seen (or pause made)
    uint64_t failures; //  accepts failed in this episode
};

zaio_guard_t *
zaio_guard_new (zsock_t *sock, const char *kind, zaio_endpoints_t *endpoints)
{
    assert (sock && kind && endpoints);
    zaio_guard_t *self = (zaio_guard_t *)zmalloc (sizeof (zaio_guard_t));
    self->sock = sock;
    self->kind = strdup (kind);
    self->endpoints = endpoints;
    zlist_t *list = zaio_endpoints_listeners (endpoints, kind);
    self->listeners = (s_listener_t *)zmalloc (sizeof (s_listener_t) * (zlist_size (list) + 1));
    for (char *item = (char *)zlist_first (list); item; item = (char *)zlist_next (list))
        self->listeners[self->listener_count++] = (s_listener_t){strdup (item), true};
    zlist_destroy (&list);
    self->pause_ms = ZAIO_GUARD_PAUSE_MIN_MS;
    //  The broker takes the events at least every few passes; a spin
    //  stops at the first one.
    self->monitor = zaio_sock_monitor (zsock_resolve (sock),
                                       ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED, "zaio-guard");
    //  Looked at once, so it is safe to wait on (the ZMQ_FD rule).
    zaio_sock_has_input (zsock_resolve (self->monitor));
    return self;
}

void
zaio_guard_destroy (zaio_guard_t **self_p)
{
    zaio_guard_t *self = *self_p;
    if (!self) return;
    zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
    zsock_destroy (&self->monitor);
    for (size_t i = 0; i < self->listener_count; i++) free (self->listeners[i].endpoint);
    free (self->listeners);
    free (self->kind);
    free (self);
    *self_p = NULL;
}

zsock_t *
zaio_guard_monitor (zaio_guard_t *self)
{
    return self->monitor;
}

//  True if accept failed for want of descriptors or memory: what does not
//  go away by trying again at once. Others (a connection reset before it
//  was taken) are passing.
static bool
s_exhausted (uint32_t error)
{
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

//  The listeners wait out the pause due (paused), and the next is longer.
static void
s_schedule (zaio_guard_t *self, int64_t now_ms)
{
    self->paused = true;
    self->resume_ms = now_ms + self->pause_ms;
    self->pause_ms *= 2;
    if (self->pause_ms > ZAIO_GUARD_PAUSE_MAX_MS) self->pause_ms = ZAIO_GUARD_PAUSE_MAX_MS;
}

//  Unbinds the listeners still bound (only the ipc ones if ipc_only) and,
//  unless some were paused already, schedules their return.
static void
s_pause (zaio_guard_t *self, int64_t now_ms, bool ipc_only)
{
    bool unbound = false;
    for (size_t i = 0; i < self->listener_count; i++) {
        s_listener_t *listener = &self->listeners[i];
        if (!listener->bound || (ipc_only && strncmp (listener->endpoint, "ipc://", 6))) continue;
        zsock_unbind (self->sock, "%s", listener->endpoint);
        listener->bound = false;
        unbound = true;
    }
    self->failed_ms = now_ms;
    if (unbound && !self->paused) s_schedule (self, now_ms);
}

//  An accept failed with error: the episode begins (logged) if none is
//  under way, and the listeners pause. Returns true if an episode began.
static bool
s_failed (zaio_guard_t *self, int64_t now_ms, uint32_t error)
{
    bool began = !self->episode;
    if (began) {
        zaio_log_warning ("guard",
                          "%s listeners cannot accept (%s): pausing them, then retrying "
                          "every %d to %d ms",
                          self->kind, strerror ((int)error), ZAIO_GUARD_PAUSE_MIN_MS,
                          ZAIO_GUARD_PAUSE_MAX_MS);
        self->episode = true;
        self->rebind_told = false;
        self->failures = 0;
        self->pause_ms = ZAIO_GUARD_PAUSE_MIN_MS;
    }
    self->failures++;
    self->accepted = false;
    s_pause (self, now_ms, false);
    return began;
}

bool
zaio_guard_handle (zaio_guard_t *self, int64_t now_ms)
{
    bool began = false;
    void *handle = zsock_resolve (self->monitor);
    zmq_msg_t parts[2];
    int count;
    //  While a listener spins, events come as fast as they are taken: the
    //  first failure unbinds it, and the rest end soon after.
    while ((count = zaio_sock_recv_parts (handle, parts, 2)) > 0) {
        if (zmq_msg_size (&parts[0]) == 6) { //  event (uint16), value (uint32)
            uint16_t event;
            uint32_t value;
            memcpy (&event, zmq_msg_data (&parts[0]), sizeof event);
            memcpy (&value, (char *)zmq_msg_data (&parts[0]) + 2, sizeof value);
            if (event == ZMQ_EVENT_ACCEPTED)
                self->accepted = true;
            else if (event == ZMQ_EVENT_ACCEPT_FAILED && s_exhausted (value))
                began |= s_failed (self, now_ms, value);
        }
        for (int i = 0; i < count && i < 2; i++) zmq_msg_close (&parts[i]);
    }
    return began;
}

void
zaio_guard_pause_ipc (zaio_guard_t *self, int64_t now_ms)
{
    s_pause (self, now_ms, true);
}

//  True if at least want descriptors are free, found by taking and
//  returning them: a listener bound again while none are would fail its
//  first accept at once.
static bool
s_headroom (int probe_fd, int want)
{
    int taken[ZAIO_GUARD_HEADROOM];
    int count = 0;
    while (count < want && (taken[count] = fcntl (probe_fd, F_DUPFD_CLOEXEC, 0)) >= 0) count++;
    for (int i = 0; i < count; i++) close (taken[i]);
    return count == want;
}

//  Binds the paused listeners again if descriptors allow; while they do
//  not, or a listener cannot be bound (the first such failure of an
//  episode logged), the rest wait another pause.
static void
s_resume (zaio_guard_t *self, int64_t now_ms)
{
    if (!s_headroom (zsock_fd (self->monitor), ZAIO_GUARD_HEADROOM)) {
        s_schedule (self, now_ms);
        return;
    }
    self->paused = false;
    for (size_t i = 0; i < self->listener_count; i++) {
        s_listener_t *listener = &self->listeners[i];
        if (listener->bound) continue;
        if (zaio_endpoints_rebind (self->endpoints, self->sock, listener->endpoint) == 0) {
            listener->bound = true;
            continue;
        }
        int error = zmq_errno ();
        if (!self->rebind_told && !s_exhausted ((uint32_t)error)) {
            zaio_log_warning ("guard", "cannot bind %s endpoint %s again: %s (retrying)",
                              self->kind, listener->endpoint, zmq_strerror (error));
            self->rebind_told = true;
        }
        self->paused = true;
    }
    if (self->paused) s_schedule (self, now_ms);
}

void
zaio_guard_tick (zaio_guard_t *self, int64_t now_ms)
{
    if (self->paused) {
        if (now_ms >= self->resume_ms) s_resume (self, now_ms);
        return;
    }
    //  Calm: listening, and no failure for a while. An episode ends once
    //  an accept has also succeeded, and the pauses start short again.
    if (now_ms - self->failed_ms < ZAIO_GUARD_CALM_MS) return;
    if (self->episode) {
        if (!self->accepted) return;
        zaio_log_notice ("guard", "%s listeners accept again (%" PRIu64 " accepts failed)",
                         self->kind, self->failures);
        self->episode = false;
    }
    self->pause_ms = ZAIO_GUARD_PAUSE_MIN_MS;
}
