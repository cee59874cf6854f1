/*  zaio_watch.c: zaio_watch_t, a subscriber to a broker's completion
    events (schemas/PROTOCOL.md section 8).

    One SUB socket; ZeroMQ's prefix filters select topics at the broker.
    Each event is three frames (topic, signature, msgpack body); anything
    else is skipped, and so is a body the codec refuses.
*/

#include "zaio.h"
#include "zaio_sock.h"

#include <errno.h>
#include <string.h>

struct _zaio_watch_t {
    zsock_t *sub;
    bool everything; //  subscribed to "": sequence gaps are real losses
    bool have_seq;
    uint64_t last_seq;
    uint64_t missed;
};

zaio_watch_t *
zaio_watch_new (const char *endpoint)
{
    if (!endpoint) endpoint = getenv (ZAIO_EVENTS_ENV);
    if (!endpoint || !*endpoint) endpoint = ZAIO_DEFAULT_EVENTS;
    zaio_watch_t *self = (zaio_watch_t *)calloc (1, sizeof (zaio_watch_t));
    assert (self);
    self->sub = zsock_new (ZMQ_SUB);
    assert (self->sub);
    zsock_set_linger (self->sub, 0);
    if (zmq_connect (zsock_resolve (self->sub), endpoint)) {
        zaio_watch_destroy (&self);
        return NULL;
    }
    return self;
}

void
zaio_watch_destroy (zaio_watch_t **self_p)
{
    assert (self_p);
    zaio_watch_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->sub);
        free (self);
        *self_p = NULL;
    }
}

int
zaio_watch_subscribe (zaio_watch_t *self, const char *prefix)
{
    assert (self);
    assert (prefix);
    if (*prefix == 0) self->everything = true;
    return zmq_setsockopt (zsock_resolve (self->sub), ZMQ_SUBSCRIBE, prefix, strlen (prefix));
}

int
zaio_watch_unsubscribe (zaio_watch_t *self, const char *prefix)
{
    assert (self);
    assert (prefix);
    if (*prefix == 0) self->everything = false;
    return zmq_setsockopt (zsock_resolve (self->sub), ZMQ_UNSUBSCRIBE, prefix, strlen (prefix));
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
        if (wait <= 0 || zsys_interrupted) return -1;
        zmq_pollitem_t item = {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, wait > 500 ? 500 : (long)wait) == -1 && errno == EINTR &&
            zsys_interrupted)
            return -1;
    }
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
