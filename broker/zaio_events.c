/*  zaio_events.c: completion events on an XPUB; see zaio_events.h. */

#include "zaio_events.h"
#include "zaio_log.h"

#include <string.h>
#include <time.h>

#define S_REFUSED_LOG_MS 10000 //  at most one line about refused subscriptions this often

//  An identity (over CURVE) that brought prefixes in.
typedef struct {
    uint32_t prefixes; //  subscribed prefixes charged to it
    char name[];
} s_identity_t;

//  A node of the trie: the prefix spelt by the bytes from the root to it.
typedef struct _s_node_t s_node_t;
struct _s_node_t {
    s_node_t *parent;
    s_node_t **children;    //  by byte, ascending; NULL while it has none
    s_identity_t *identity; //  subscribed: the identity charged for it, or NULL
    uint16_t count;         //  children
    uint16_t room;          //  slots at children
    uint8_t byte;           //  the prefix's last byte (none at the root)
    bool subscribed;        //  the prefix is subscribed to
};

struct _zaio_events_t {
    zsock_t *socket;
    s_node_t root;         //  the empty prefix
    uint32_t count;        //  prefixes subscribed to
    uint32_t max;          //  at most
    uint32_t identity_max; //  at most, charged to one identity
    zhashx_t *identities;  //  name -> s_identity_t *, for those charged with a prefix
    size_t topic_max;      //  bytes in the longest topic
    uint64_t refused;      //  subscriptions refused since the last line about it
    int64_t refused_logged_ms;
    uint64_t seq;   //  of the last job's end
    bool published; //  sent an event since subscriptions were last taken in
};

static void
s_identity_free (void **item)
{
    free (*item);
    *item = NULL;
}

zaio_events_t *
zaio_events_new (uint32_t hwm, uint32_t subscriptions_max, uint32_t identity_max)
{
    zaio_events_t *self = (zaio_events_t *)zmalloc (sizeof (zaio_events_t));
    //  XPUB, so the broker knows when anyone listens; verbose, so that a
    //  prefix refused for one subscriber is still taken in for the next.
    self->socket = zsock_new (ZMQ_XPUB);
    assert (self->socket);
    zsock_set_xpub_verbose (self->socket, 1);
    zsock_set_sndhwm (self->socket, (int)hwm);
    zsock_set_rcvtimeo (self->socket, 0);
    zsock_set_linger (self->socket, 0);
    self->max = subscriptions_max;
    self->identity_max = identity_max;
    self->identities = zhashx_new ();
    zhashx_set_destructor (self->identities, s_identity_free);
    size_t op_max = 0;
    for (int op = 0; op < ZAIO_OP_COUNT; op++) {
        const char *name = zaio_op_name ((zaio_op_t)op);
        if (name && strlen (name) > op_max) op_max = strlen (name);
    }
    self->topic_max = strlen ("err..") + op_max + ZAIO_VOLUME_MAX;
    self->refused_logged_ms = zclock_mono () - S_REFUSED_LOG_MS;
    return self;
}

//  Frees every node below the root, children before parents.
static void
s_trie_free (zaio_events_t *self)
{
    s_node_t *node = &self->root;
    while (node->count || node != &self->root) {
        if (node->count)
            node = node->children[node->count - 1];
        else {
            s_node_t *parent = node->parent;
            parent->count--;
            free (node->children);
            free (node);
            node = parent;
        }
    }
    free (self->root.children);
}

void
zaio_events_destroy (zaio_events_t **self_p)
{
    zaio_events_t *self = *self_p;
    if (self) {
        s_trie_free (self);
        zhashx_destroy (&self->identities);
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

//  Where byte's child is among node's children (*found) or would go: a
//  binary search, so at most 8 steps whatever a subscriber sent.
static size_t
s_find (const s_node_t *node, uint8_t byte, bool *found)
{
    size_t low = 0, high = node->count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        uint8_t at = node->children[middle]->byte;
        if (at == byte) {
            *found = true;
            return middle;
        }
        if (at < byte)
            low = middle + 1;
        else
            high = middle;
    }
    *found = false;
    return low;
}

//  node's child for byte, or NULL.
static s_node_t *
s_child (const s_node_t *node, uint8_t byte)
{
    bool found;
    size_t at = s_find (node, byte, &found);
    return found ? node->children[at] : NULL;
}

//  A new child of node for byte, which it has none for.
static s_node_t *
s_add_child (s_node_t *node, uint8_t byte)
{
    bool found;
    size_t at = s_find (node, byte, &found);
    assert (!found);
    if (node->count == node->room) {
        node->room = node->room ? 2 * node->room : 2;
        node->children = (s_node_t **)realloc (node->children, node->room * sizeof (s_node_t *));
        assert (node->children);
    }
    memmove (node->children + at + 1, node->children + at,
             (node->count - at) * sizeof (s_node_t *));
    s_node_t *child = (s_node_t *)zmalloc (sizeof (s_node_t));
    child->parent = node;
    child->byte = byte;
    node->children[at] = child;
    node->count++;
    return child;
}

//  Frees child, which has no children, and takes it from its parent's.
static void
s_remove_child (s_node_t *child)
{
    s_node_t *node = child->parent;
    bool found;
    size_t at = s_find (node, child->byte, &found);
    assert (found && child->count == 0);
    memmove (node->children + at, node->children + at + 1,
             (node->count - at - 1) * sizeof (s_node_t *));
    if (--node->count == 0) {
        free (node->children);
        node->children = NULL;
        node->room = 0;
    }
    free (child->children);
    free (child);
}

//  True if some subscriber's prefix matches topic: one step per byte.
static bool
s_subscribed (zaio_events_t *self, const char *topic)
{
    const s_node_t *node = &self->root;
    if (node->subscribed) return true;
    for (const char *byte = topic; *byte; byte++) {
        node = s_child (node, (uint8_t)*byte);
        if (!node) return false;
        if (node->subscribed) return true;
    }
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
    if (self->count == 0) return;
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

//  A subscription past a cap is left out; says so at most once per
//  S_REFUSED_LOG_MS, with how many were since the last line.
static void
s_refuse (zaio_events_t *self, const char *identity)
{
    self->refused++;
    int64_t now = zclock_mono ();
    if (now - self->refused_logged_ms < S_REFUSED_LOG_MS) return;
    if (identity)
        zaio_log_warning ("events",
                          "subscription refused: %s has %u, its cap; %" PRIu64
                          " refused since the last report, matching no event",
                          identity, self->identity_max, self->refused);
    else
        zaio_log_warning ("events",
                          "subscription refused: %u in all, the cap; %" PRIu64
                          " refused since the last report, matching no event",
                          self->max, self->refused);
    self->refused = 0;
    self->refused_logged_ms = now;
}

//  Adds prefix (size bytes), which identity (or no one) subscribed to,
//  unless it is in already, longer than any topic, or past a cap.
static void
s_subscribe (zaio_events_t *self, const uint8_t *prefix, size_t size, const char *identity)
{
    if (size > self->topic_max) return;
    s_node_t *node = &self->root;
    size_t used = 0;
    for (s_node_t *child; used < size && (child = s_child (node, prefix[used])); used++)
        node = child;
    if (used == size && node->subscribed) return;
    s_identity_t *charged =
        identity ? (s_identity_t *)zhashx_lookup (self->identities, identity) : NULL;
    if (self->count >= self->max) {
        s_refuse (self, NULL);
        return;
    }
    if (charged && charged->prefixes >= self->identity_max) {
        s_refuse (self, identity);
        return;
    }
    for (; used < size; used++) node = s_add_child (node, prefix[used]);
    node->subscribed = true;
    self->count++;
    if (identity) {
        if (!charged) {
            size_t length = strlen (identity);
            charged = (s_identity_t *)zmalloc (sizeof (s_identity_t) + length + 1);
            memcpy (charged->name, identity, length + 1);
            zhashx_insert (self->identities, identity, charged);
        }
        charged->prefixes++;
        node->identity = charged;
    }
}

//  Removes prefix (size bytes) if it is in, and the nodes only it used.
static void
s_unsubscribe (zaio_events_t *self, const uint8_t *prefix, size_t size)
{
    if (size > self->topic_max) return;
    s_node_t *node = &self->root;
    for (size_t i = 0; i < size && node; i++) node = s_child (node, prefix[i]);
    if (!node || !node->subscribed) return; //  refused, or too long
    node->subscribed = false;
    self->count--;
    s_identity_t *charged = node->identity;
    node->identity = NULL;
    if (charged && --charged->prefixes == 0) zhashx_delete (self->identities, charged->name);
    while (node != &self->root && !node->subscribed && node->count == 0) {
        s_node_t *parent = node->parent;
        s_remove_child (node);
        node = parent;
    }
}

//  XPUB passes up every subscription, with the subscriber's ZMTP User-Id
//  when it has one, and a prefix's unsubscription when its last
//  subscriber drops it (also by going: those carry no User-Id), so a
//  prefix stays in until no subscriber holds it.
void
zaio_events_take_subscriptions (zaio_events_t *self)
{
    self->published = false;
    void *socket = zsock_resolve (self->socket);
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) >= 0) {
        size_t size = zmq_msg_size (&msg);
        const uint8_t *bytes = (const uint8_t *)zmq_msg_data (&msg);
        if (size >= 1 && bytes[0] == 1)
            s_subscribe (self, bytes + 1, size - 1, zaio_route_identity (&msg));
        else if (size >= 1 && bytes[0] == 0)
            s_unsubscribe (self, bytes + 1, size - 1);
    }
    zmq_msg_close (&msg);
}

bool
zaio_events_published (zaio_events_t *self)
{
    return self->published;
}

uint32_t
zaio_events_subscriptions (zaio_events_t *self)
{
    return self->count;
}
