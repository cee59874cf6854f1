/*  zaio_events.c: completion events on an XPUB; see zaio_events.h. */

#include "zaio_events.h"

#include <string.h>
#include <time.h>

struct _zaio_events_t {
    zsock_t *socket;
    zlistx_t *subscriptions; //  zframe_t * topic prefixes someone subscribes to
    uint64_t seq;            //  of the last job's end
    bool published;          //  sent an event since subscriptions were last taken in
};

static void
s_subscription_free (void **item)
{
    zframe_destroy ((zframe_t **)item);
}

zaio_events_t *
zaio_events_new (uint32_t hwm)
{
    zaio_events_t *self = (zaio_events_t *)zmalloc (sizeof (zaio_events_t));
    //  XPUB, so the broker knows when anyone listens.
    self->socket = zsock_new (ZMQ_XPUB);
    assert (self->socket);
    zsock_set_sndhwm (self->socket, (int)hwm);
    zsock_set_rcvtimeo (self->socket, 0);
    zsock_set_linger (self->socket, 0);
    self->subscriptions = zlistx_new ();
    zlistx_set_destructor (self->subscriptions, s_subscription_free);
    return self;
}

void
zaio_events_destroy (zaio_events_t **self_p)
{
    zaio_events_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->subscriptions);
        zsock_destroy (&self->socket);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
zaio_events_socket (zaio_events_t *self)
{
    return self->socket;
}

//  True if some subscriber's prefix matches topic.
static bool
s_subscribed (zaio_events_t *self, const char *topic)
{
    for (zframe_t *prefix = (zframe_t *)zlistx_first (self->subscriptions); prefix;
         prefix = (zframe_t *)zlistx_next (self->subscriptions))
        if (strncmp (topic, (const char *)zframe_data (prefix), zframe_size (prefix)) == 0)
            return true;
    return false;
}

//  Microseconds since the Unix epoch (zclock_time counts milliseconds).
static int64_t
s_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

void
zaio_events_publish (zaio_events_t *self, const char *client, uint64_t id, zaio_op_t op,
                     const char *path, const char *volume, const zaio_outcome_t *outcome,
                     uint64_t queue_us, const char *worker)
{
    uint64_t seq = ++self->seq;
    if (zlistx_size (self->subscriptions) == 0) return;
    char topic[ZAIO_VOLUME_MAX + 64];
    zaio_topic_format (outcome->error, op, volume, topic, sizeof topic);
    if (!s_subscribed (self, topic)) return;
    zaio_event_t event;
    event.seq = seq;
    event.id = id;
    snprintf (event.client, sizeof event.client, "%s", client);
    event.op = op;
    snprintf (event.path, sizeof event.path, "%s", path);
    snprintf (event.volume, sizeof event.volume, "%s", volume);
    event.error = outcome->error;
    event.bytes = outcome->bytes;
    event.queue_us = queue_us;
    event.service_us = outcome->service_us;
    snprintf (event.worker, sizeof event.worker, "%s", worker);
    event.time_us = s_now_us ();
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_event_encode (&event)});
    if (zmsg_send (&msg, self->socket)) zmsg_destroy (&msg);
    self->published = true;
}

//  XPUB passes up the first subscription to a prefix and the last
//  unsubscription, so the list holds exactly the prefixes in use.
void
zaio_events_take_subscriptions (zaio_events_t *self)
{
    self->published = false;
    zframe_t *frame;
    while ((frame = zframe_recv (self->socket))) {
        size_t size = zframe_size (frame);
        const uint8_t *bytes = zframe_data (frame);
        if (size >= 1 && bytes[0] == 1)
            zlistx_add_end (self->subscriptions, zframe_new (bytes + 1, size - 1));
        else if (size >= 1 && bytes[0] == 0) {
            for (zframe_t *prefix = (zframe_t *)zlistx_first (self->subscriptions); prefix;
                 prefix = (zframe_t *)zlistx_next (self->subscriptions))
                if (zframe_size (prefix) == size - 1 &&
                    memcmp (zframe_data (prefix), bytes + 1, size - 1) == 0) {
                    zlistx_delete (self->subscriptions, zlistx_cursor (self->subscriptions));
                    break;
                }
        }
        zframe_destroy (&frame);
    }
}

bool
zaio_events_published (zaio_events_t *self)
{
    return self->published;
}
