/*  zaio_events.h: the broker's completion events (PROTOCOL.md section 8).

    Every job's end takes a sequence number; its event is built and sent
    on an XPUB socket only if some subscription matches its topic, so
    events cost nothing unwatched. XPUB never blocks: a slow subscriber
    loses events (past events_hwm) and sees a gap in seq; the job path
    never waits for it. The class owns its socket; the broker binds it and
    polls it, and calls zaio_events_take_subscriptions when it is
    readable. Private to the broker.

    The prefixes subscribed to are a trie, one node per byte, each with
    its children sorted by byte: an event's topic is matched in one step
    per byte of it (a binary search among at most 256 children), and a
    prefix added or removed in one per byte of it, however many there are.
    XPUB (verbose) passes up every subscription, and an unsubscription
    when a prefix's last subscriber goes, so the trie holds each prefix in
    use once, and a prefix refused for one subscriber is taken in when the
    next subscribes to it (if the caps allow). It holds at most
    subscriptions_max of them, each no longer than the longest topic (ZAIO_VOLUME_MAX + 14 bytes),
   at about 64 bytes a node: 20 MiB for 4,096 prefixes that share nothing, at worst. Over CURVE, the
    identity whose subscription brought a prefix in (the ZMTP User-Id
    XPUB attaches to it) is charged for it until it goes, and may have at
    most identity_subscriptions_max. A prefix past either cap, or longer
    than any topic, is left out: it matches nothing. Refusals are logged,
    at most one line per 10 s.
*/
#ifndef ZAIO_EVENTS_H_INCLUDED
#define ZAIO_EVENTS_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_route.h"
#include "zaio_worker_proto.h"

typedef struct _zaio_events_t zaio_events_t;

//  An XPUB that queues at most hwm events per subscriber, and takes in at
//  most subscriptions_max prefixes, identity_max of them from one identity.
zaio_events_t *zaio_events_new (uint32_t hwm, uint32_t subscriptions_max, uint32_t identity_max);
void zaio_events_destroy (zaio_events_t **self_p);

//  The socket, to bind and to wait on (borrowed).
zsock_t *zaio_events_socket (zaio_events_t *self);

//  A job's end: client (its identity, or hex routing id: zaio_route_name)
//  sent request id of op on path in volume; outcome says how it went,
//  queue_us how long it waited for a worker, worker which ran it ("" if
//  none did). Strings are copied.
void zaio_events_publish (zaio_events_t *self, const char *client, uint64_t id, zaio_op_t op,
                          const char *path, const char *volume, const zaio_outcome_t *outcome,
                          uint64_t queue_us, const char *worker);

//  Takes in the subscriptions and unsubscriptions waiting on the socket,
//  until none is left (which also leaves the socket safe to wait on).
void zaio_events_take_subscriptions (zaio_events_t *self);

//  True if an event was sent since the last zaio_events_take_subscriptions:
//  a send may have taken the signal that a subscription arrived, so the
//  socket must be looked at before the broker sleeps.
bool zaio_events_published (zaio_events_t *self);

//  Prefixes subscribed to now (for the stats op).
uint32_t zaio_events_subscriptions (zaio_events_t *self);

#endif
