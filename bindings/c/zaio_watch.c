/*  zaio_watch.c: zaio_watch_t, a subscriber to a broker's completion
    events (schemas/PROTOCOL.md section 8).

    One SUB socket; ZeroMQ's prefix filters select topics at the broker.
    Each event is three frames (topic, signature, msgpack body); anything
    else is skipped, and so is a body the codec refuses. ZeroMQ reconnects
    the SUB by itself; a socket monitor (not over inproc) watches for the
    broker refusing the handshake, after which the watcher stops
    connecting: every later attempt would be refused the same way. Under
    CURVE, S_HANGUPS_MAX handshakes in a row that the broker hung up on
    count as a refusal too: a wrong server key shows as nothing else. New
    keys get a fresh SUB and monitor, so that no event of a connection
    made without them can be taken for a refusal of them; the watcher
    keeps its subscriptions to replay on it. The same monitor tells when a
    connection comes up (a handshake completed) and when it drops, so that
    a program can say so (zaio_watch_connected, zaio_watch_connections).
*/

#include "zaio.h"
#include "zaio_curve.h"
#include "zaio_sock.h"

#include <errno.h>
#include <string.h>

//  Handshakes in a row the broker hung up on, under CURVE, that make a
//  refusal: as many as a client's connection attempts by default.
#define S_HANGUPS_MAX (ZAIO_CLIENT_RETRIES + 1)
//  What the monitor reports: refusals, hang-ups, the successes that end a
//  run of hang-ups (and are connections), and connections dropped.
#define S_MONITOR_EVENTS                                                                           \
    (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                       \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |                        \
     ZMQ_EVENT_DISCONNECTED)

struct _zaio_watch_t {
    char *endpoint;
    zsock_t *sub;
    zsock_t *monitor; //  PAIR of the SUB's monitor; NULL over inproc
    bool curve;       //  the SUB uses CURVE, with `keys`
    zaio_curve_t keys;
    int error;            //  ZAIO_ERR_AUTH once refused: no longer connected
    uint32_t hangups;     //  handshakes in a row the broker hung up on
    bool connected;       //  a connection is up (handshake done, not dropped since)
    uint32_t connections; //  handshakes completed, over the watcher's life
    zlistx_t *prefixes;   //  subscriptions, as strings, one per subscribe
    bool everything;      //  subscribed to "": sequence gaps are real losses
    bool have_seq;
    uint64_t last_seq;
    uint64_t missed;
};

//  Close the SUB and its monitor. The monitor stops first: the events of
//  the close would block ZeroMQ's I/O thread on a pipe nobody reads (as
//  in the client).
static void
s_close (zaio_watch_t *self)
{
    if (self->monitor) zmq_socket_monitor (zsock_resolve (self->sub), NULL, 0);
    zsock_destroy (&self->sub);
    zsock_destroy (&self->monitor);
}

//  Open a SUB (with the keys, if any, and a monitor unless over inproc),
//  subscribe it to the prefixes and connect it. Returns -1, nothing left
//  open, if ZeroMQ refuses the endpoint.
static int
s_open (zaio_watch_t *self)
{
    self->sub = zsock_new (ZMQ_SUB);
    assert (self->sub);
    void *handle = zsock_resolve (self->sub);
    zsock_set_linger (self->sub, 0);
    if (self->curve) zaio_curve_apply (&self->keys, handle);
    for (char *prefix = (char *)zlistx_first (self->prefixes); prefix;
         prefix = (char *)zlistx_next (self->prefixes))
        zmq_setsockopt (handle, ZMQ_SUBSCRIBE, prefix, strlen (prefix));
    self->connected = false;
    if (strncmp (self->endpoint, "inproc://", 9)) {
        self->monitor = zaio_sock_monitor (handle, S_MONITOR_EVENTS, "zaio-watch-monitor");
    }
    if (zmq_connect (handle, self->endpoint)) {
        s_close (self);
        return -1;
    }
    return 0;
}

zaio_watch_t *
zaio_watch_new (const char *endpoint)
{
    if (!endpoint) endpoint = getenv (ZAIO_EVENTS_ENV);
    if (!endpoint || !*endpoint) endpoint = ZAIO_DEFAULT_EVENTS;
    zaio_watch_t *self = (zaio_watch_t *)calloc (1, sizeof (zaio_watch_t));
    assert (self);
    self->endpoint = strdup (endpoint);
    assert (self->endpoint);
    self->prefixes = zlistx_new ();
    assert (self->prefixes);
    zlistx_set_destructor (self->prefixes, (zlistx_destructor_fn *)zstr_free);
    if (s_open (self)) zaio_watch_destroy (&self);
    return self;
}

void
zaio_watch_destroy (zaio_watch_t **self_p)
{
    assert (self_p);
    zaio_watch_t *self = *self_p;
    if (self) {
        s_close (self);
        zlistx_destroy (&self->prefixes);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

int
zaio_watch_set_curve (zaio_watch_t *self, const char *server_cert, const char *client_cert)
{
    assert (self);
    zaio_curve_t keys;
    if (zaio_curve_load (&keys, server_cert, client_cert, NULL)) return -1;
    s_close (self);
    self->keys = keys;
    self->curve = true;
    self->error = 0;
    self->hangups = 0;
    int rc = s_open (self);
    assert (rc == 0); //  the endpoint was taken before
    return 0;
}

//  Take in what the monitor reported: on a refused handshake, or too many
//  hung up on in a row under CURVE, stop connecting and remember
//  ZAIO_ERR_AUTH. Returns the watcher's error.
static int
s_check (zaio_watch_t *self)
{
    uint16_t event;
    uint32_t value;
    while (self->monitor && !self->error &&
           zaio_sock_monitor_event (zsock_resolve (self->monitor), &event, &value) == 0) {
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->hangups = 0;
            self->connected = true;
            self->connections++;
        } else if (event == ZMQ_EVENT_DISCONNECTED)
            self->connected = false;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && self->curve)
            self->hangups++;
        if (zaio_curve_refusal (event, value, self->curve) || self->hangups >= S_HANGUPS_MAX) {
            self->error = ZAIO_ERR_AUTH;
            zmq_disconnect (zsock_resolve (self->sub), self->endpoint);
        }
    }
    return self->error;
}

int
zaio_watch_error (zaio_watch_t *self)
{
    assert (self);
    return s_check (self);
}

int
zaio_watch_subscribe (zaio_watch_t *self, const char *prefix)
{
    assert (self);
    assert (prefix);
    if (zmq_setsockopt (zsock_resolve (self->sub), ZMQ_SUBSCRIBE, prefix, strlen (prefix)))
        return -1;
    if (*prefix == 0) self->everything = true;
    char *copy = strdup (prefix);
    assert (copy);
    zlistx_add_end (self->prefixes, copy);
    return 0;
}

int
zaio_watch_unsubscribe (zaio_watch_t *self, const char *prefix)
{
    assert (self);
    assert (prefix);
    if (zmq_setsockopt (zsock_resolve (self->sub), ZMQ_UNSUBSCRIBE, prefix, strlen (prefix)))
        return -1;
    if (*prefix == 0) self->everything = false;
    for (char *held = (char *)zlistx_first (self->prefixes); held;
         held = (char *)zlistx_next (self->prefixes))
        if (streq (held, prefix)) {
            zlistx_delete (self->prefixes, zlistx_cursor (self->prefixes));
            break;
        }
    return 0;
}

//  Take one message if there is one. Returns 1 for an event, 0 for a
//  message that was not one, -1 if nothing was waiting.
static int
s_take (zaio_watch_t *self, zaio_event_t *event)
{
    zmq_msg_t parts[3];
    int count = zaio_sock_recv_parts (zsock_resolve (self->sub), parts, 3);
    if (count < 0) return -1;
    int rc = 0;
    if (count == 3 && zmq_msg_size (&parts[1]) == strlen (ZAIO_SIGNATURE) &&
        memcmp (zmq_msg_data (&parts[1]), ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE)) == 0 &&
        zaio_event_decode (event, zmq_msg_data (&parts[2]), zmq_msg_size (&parts[2])) == 0)
        rc = 1;
    for (int i = 0; i < count && i < 3; i++) zmq_msg_close (&parts[i]);
    return rc;
}

int
zaio_watch_recv (zaio_watch_t *self, zaio_event_t *event, int timeout_ms)
{
    assert (self);
    assert (event);
    int64_t until = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    for (;;) {
        int rc = s_take (self, event);
        if (rc == 1) {
            //  seq runs 1, 2, 3... per broker; a step back is a new broker.
            self->missed = 0;
            if (self->have_seq && event->seq > self->last_seq + 1 && self->everything)
                self->missed = event->seq - self->last_seq - 1;
            self->have_seq = true;
            self->last_seq = event->seq;
            return 0;
        }
        if (rc == 0) continue; //  not an event: skip it
        int64_t wait = until < 0 ? 500 : until - zclock_mono ();
        if (wait <= 0 || zsys_interrupted || s_check (self)) return -1;
        zmq_pollitem_t items[] = {
            {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0},
            {self->monitor ? zsock_resolve (self->monitor) : NULL, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, self->monitor ? 2 : 1, wait > 500 ? 500 : (long)wait) == -1 &&
            errno == EINTR && zsys_interrupted)
            return -1;
    }
}

bool
zaio_watch_connected (zaio_watch_t *self)
{
    assert (self);
    s_check (self);
    return self->monitor ? self->connected : !self->error;
}

uint32_t
zaio_watch_connections (zaio_watch_t *self)
{
    assert (self);
    s_check (self);
    return self->monitor ? self->connections : 1;
}

uint64_t
zaio_watch_missed (zaio_watch_t *self)
{
    assert (self);
    return self->missed;
}

int
zaio_watch_fd (zaio_watch_t *self)
{
    assert (self);
    return zsock_fd (self->sub);
}
