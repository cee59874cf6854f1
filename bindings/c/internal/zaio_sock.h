/*  zaio_sock.h: the socket and loop helpers zaio's own code shares.

    Receiving a whole message into libzmq parts, waiting on several sockets
    at once, naming inproc endpoints. Never installed, never exported:
    compiled into libzaio (the client) and zaio_internal (the daemons).

    The ZMQ_FD rule. A libzmq socket's ZMQ_FD is edge-triggered: it polls
    readable when the socket's state may have changed, only says "look
    again", and libzmq may clear it whenever the socket is used. So a socket may
    only be waited on (zaio_sock_wait, or its ZMQ_FD in a poll or epoll set)
    when the last thing done with it was a receive that found nothing, or a
    ZMQ_EVENTS query (zaio_sock_has_input) that showed no input. A send can
    take the signal that input arrived: after sending, ask before sleeping.
    A socket whose ZMQ_FD fired may still turn out to have nothing.
*/
#ifndef ZAIO_SOCK_H_INCLUDED
#define ZAIO_SOCK_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The most sockets zaio_sock_wait takes at once.
#define ZAIO_SOCK_WAIT_MAX 8

//  Receive one whole message from a libzmq socket handle without waiting:
//  its first max parts into parts (each initialised here; the caller
//  closes the first min (count, max)), the rest dropped. Returns the
//  number of parts the message had, or -1 if none was waiting.
int zaio_sock_recv_parts (void *handle, zmq_msg_t *parts, int max);

//  True if the libzmq socket handle has input waiting (ZMQ_EVENTS). This
//  query, when it answers false, makes the socket safe to wait on.
bool zaio_sock_has_input (void *handle);

//  Waits up to timeout_ms (-1: forever) for input on any of socks (1 to
//  ZAIO_SOCK_WAIT_MAX of them, each waited on only as the ZMQ_FD rule
//  above allows), and sets readable[i] for each socket whose ZMQ_FD fired.
//  It is one poll(2) on the sockets' ZMQ_FDs, where zmq_poll makes two
//  system calls more per socket each time. Returns how many are readable,
//  0 on timeout, -1 if interrupted.
int zaio_sock_wait (zsock_t **socks, int count, int timeout_ms, bool *readable);

//  Writes to name "inproc://" prefix "-" N, N never given before in this
//  process: libzmq frees an inproc name only once the socket that bound it
//  has been reaped, after it closed, so a name reused at once (after an
//  address, say) may still be taken.
void zaio_sock_inproc_name (char *name, size_t size, const char *prefix);

//  A PAIR receiving the events of the libzmq socket handle (an OR of
//  ZMQ_EVENT_*), over an inproc name starting with prefix. Made before
//  the socket connects or binds, or its first events are lost. libzmq
//  sends events from its I/O thread, waiting while the PAIR's queue is
//  full, with the socket's monitor lock held: a stalled reader would
//  stall every socket of the context, so the queue has no limit. Stop
//  the monitor (zmq_socket_monitor (handle, NULL, 0)) before destroying
//  the PAIR.
zsock_t *zaio_sock_monitor (void *handle, int events, const char *prefix);

//  Read one event off a socket monitor's PAIR (zmq_socket_monitor) into
//  *event and *value (both 0 if its first frame is too short to hold
//  them), dropping the endpoint frame after it. Returns -1 if none was
//  waiting.
int zaio_sock_monitor_event (void *handle, uint16_t *event, uint32_t *value);

//  True if endpoint is tcp to or on a loopback address: 127.0.0.0/8,
//  ::1 (written [::1]), an IPv4-mapped 127.x, the name localhost or the
//  interface lo. Only the address after a source address
//  (tcp://SOURCE;HOST:PORT) counts. False for everything else: other
//  hosts and interfaces, "*", and every other transport (whose callers
//  decide for themselves).
bool zaio_sock_is_loopback (const char *endpoint);

#ifdef __cplusplus
}
#endif

#endif
