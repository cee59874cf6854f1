/*  zaio_broker.c: the broker actor; see zaio_broker.h and schemas/PROTOCOL.md.

    One thread owns every socket. Clients' requests are decoded once,
    admitted against the queue and per-client bounds, queued per volume
    (a "service", as in Majordomo), and handed to workers that have credit.
    Workers answer DONE with the client's reply header already built; the
    broker forwards it, publishes the completion event, and returns the
    worker's credit.
*/

#include "zaio_broker.h"
#include "zaio_codec.h"
#include "zaio_sock.h"
#include "zaio_worker.h"
#include "zaio_worker_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TICK_MS         100         //  timer granularity: deadlines, heartbeats, drain
#define S_BATCH           256         //  messages taken from one socket per loop turn
#define S_POLL_EVERY      64          //  busy loop turns between polls of every socket
#define S_PARTS_MAX       5           //  parts of a message kept (valid ones have at most 4)
#define S_QUIET_MS        200         //  silence from clients that ends a shutdown
#define S_TRANSPORT_SLACK (64 * 1024) //  header room above payload_max in ZMQ_MAXMSGSIZE
#define S_SPARE_JOBS      1024        //  finished jobs kept for reuse, at most
#define S_PATH_ROOM       64          //  least bytes a job's path buffer has

//  Reasons given for jobs the broker answers itself, in more than one place.
#define S_WHY_SHUTDOWN "broker is shutting down; job not run"
#define S_WHY_EXPIRED  "deadline passed before a worker was free"

typedef struct _s_broker_t s_broker_t;
typedef struct _s_service_t s_service_t;
typedef struct _s_worker_t s_worker_t;
typedef struct _s_job_t s_job_t;
typedef struct _s_client_t s_client_t;

//  An intrusive doubly linked list: a job carries the links of the lists
//  it can be on, so queueing and holding jobs allocates nothing.
typedef struct _s_link_t {
    struct _s_link_t *prev;
    struct _s_link_t *next;
} s_link_t;

typedef struct {
    s_link_t head; //  the list is empty when head links to itself
    size_t size;
} s_list_t;

//  The structure of type that holds link as its member.
#define S_HOLDER(link, type, member) ((type *)((char *)(link)-offsetof (type, member)))

static void
s_list_init (s_list_t *list)
{
    list->head.prev = list->head.next = &list->head;
    list->size = 0;
}

static void
s_list_add (s_list_t *list, s_link_t *link, bool front)
{
    s_link_t *after = front ? &list->head : list->head.prev;
    link->prev = after;
    link->next = after->next;
    after->next->prev = link;
    after->next = link;
    list->size++;
}

static void
s_list_remove (s_list_t *list, s_link_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = link->next = NULL;
    list->size--;
}

//  The first link, or NULL; and the one after link, or NULL.
static s_link_t *
s_list_first (s_list_t *list)
{
    return list->size ? list->head.next : NULL;
}

static s_link_t *
s_list_next (s_list_t *list, s_link_t *link)
{
    return link->next == &list->head ? NULL : link->next;
}

//  Takes the first link off the list; NULL if it is empty.
static s_link_t *
s_list_pop (s_list_t *list)
{
    s_link_t *link = s_list_first (list);
    if (link) s_list_remove (list, link);
    return link;
}

//  True if link is on a list: removal unlinks it, and a zeroed link is on
//  none.
static bool
s_linked (const s_link_t *link)
{
    return link->next != NULL;
}

//  A peer's routing id, as its ROUTER gives it: 1 to 255 bytes.
typedef struct {
    uint8_t size;
    byte data[255];
} s_routing_id_t;

//  A volume and the jobs and workers for it.
struct _s_service_t {
    char name[ZAIO_VOLUME_MAX + 1];
    bool readonly;
    s_list_t queue;    //  of job->queued, FIFO
    s_list_t urgent;   //  likewise, the jobs with a deadline: for idle workers only
    zlistx_t *waiting; //  s_worker_t * with credit left, least recently used first
    uint32_t worker_count;
    s_link_t due; //  in broker->dispatch_due, when linked
};

//  One worker connection.
struct _s_worker_t {
    s_routing_id_t identity; //  its key in broker->workers
    char name[128];          //  HOST/PID/SLOT for events
    uint32_t credit;         //  jobs it can take now
    s_list_t jobs;           //  of job->held: the jobs it holds
    s_service_t *services[ZAIO_WORKER_VOLUMES_MAX];
    void *waiting_handles[ZAIO_WORKER_VOLUMES_MAX];
    uint32_t service_count;
    uint32_t heartbeat_ms; //  0: in-process, never expires
    int64_t expiry_ms;
    int64_t next_heartbeat_ms;
    bool leaving; //  said BYE: finishes what it holds, takes nothing new
};

//  What the broker knows of a client with unfinished jobs or held
//  replies: enough to bound it and to order its jobs when it asks
//  (PROTOCOL.md section 7).
struct _s_client_t {
    s_routing_id_t identity; //  its key in broker->clients
    s_list_t unfinished;     //  of job->ordered: accepted, not yet answered, oldest first
    zhashx_t *keys;          //  ordering key -> its newest unfinished s_job_t (NULL until used)
    s_job_t *barrier;        //  newest unfinished barrier job
    s_job_t *last;           //  newest unfinished job, for link
    bool link_broken;        //  the newest job was linked and failed: cancel the next
    s_link_t broken;         //  in broker->broken, while only link_broken keeps it
    s_list_t held;           //  of reply->link: replies its full queue had no room for
    s_list_t parked;         //  of job->queued: jobs kept from workers while replies are held
    s_link_t backlogged;     //  in broker->backlogged, while it has held replies
    uint64_t dropped;        //  replies dropped since its replies were first held
};

//  A reply waiting for room in its client's queue (s_deliver).
typedef struct {
    s_link_t link; //  in client->held
    zmq_msg_t header;
    zmq_msg_t data;
    bool has_data;
} s_reply_t;

//  One accepted request.
struct _s_job_t {
    uint64_t number;   //  generation << 32 | slot in broker->slots
    s_client_t *owner; //  its client's state (lives while it has unfinished jobs)
    s_link_t ordered;  //  in owner->unfinished
    s_link_t queued;   //  in broker->released, or its service's queue or urgent
    s_link_t held;     //  in worker->jobs
    char *key;         //  ordering key, or NULL
    bool barrier;
    bool link;
    uint32_t blockers;    //  unfinished jobs this one waits for
    zlistx_t *dependents; //  s_job_t * waiting for this one (NULL until needed)
    s_job_t *link_next;   //  the client's next job, if this one is linked
    bool cancel;          //  a linked predecessor failed
    bool answered;        //  replied to while still held (at shutdown)
    uint64_t id;
    zaio_op_t op;
    char *path;
    size_t path_room; //  bytes allocated at path (a recycled job keeps them)
    s_service_t *service;
    zmq_msg_t header; //  as received; kept across attempts for idempotent ops
    zmq_msg_t data;   //  as received; moves to the worker
    bool has_header;
    bool has_data;
    int64_t received_us;
    int64_t dispatched_us;
    int64_t deadline_us; //  must start by then, on the pass clock; 0 = no deadline
    uint32_t attempts;
    s_worker_t *worker;
};

struct _s_broker_t {
    zsock_t *pipe;
    zaio_broker_config_t config;
    zlist_t *owned_strings; //  copies of config strings
    zsock_t *frontend;
    zsock_t *backend;
    void *frontend_zmq; //  their libzmq handles, resolved once
    void *backend_zmq;
    zsock_t *events;
    zlist_t *endpoints; //  "client tcp://..." for ENDPOINTS
    zlist_t *ipc_files; //  of s_ipc_file_t: socket files we made, removed at exit
    zaio_volume_t *default_volume;
    s_service_t *default_service; //  once a worker has made it; services are never removed
    zactor_t **local_workers;
    uint32_t local_worker_count;
    char backend_inproc[64];
    zhashx_t *services; //  name -> s_service_t
    zhashx_t *workers;  //  identity frame -> s_worker_t
    zhashx_t *clients;  //  routing id frame -> s_client_t
    s_job_t **slots;    //  accepted jobs by slot; a job number names its slot
    uint32_t *generations;
    uint32_t *free_slots;
    uint32_t slot_count;
    uint32_t free_count;
    zlistx_t *subscriptions; //  event topic prefixes someone subscribes to
    uint64_t event_seq;
    bool published;           //  sent an event since the last look for subscriptions
    uint32_t accepted;        //  queued + running
    size_t queued_bytes;      //  request data held by jobs not yet sent to a worker
    s_list_t released;        //  of job->queued: last blocker finished, to run or cancel
    s_list_t dispatch_due;    //  of service->due: with jobs and free workers, maybe
    s_list_t spare_jobs;      //  of job->queued: finished jobs kept for reuse
    s_list_t backlogged;      //  of client->backlogged: clients with held replies
    s_list_t broken;          //  of client->broken: kept for a failed link, oldest first
    uint64_t links_forgotten; //  clients forgotten from broken, for the log
    bool releasing;           //  draining released, so completions only append to it
    int64_t pass_us;          //  when this pass of the loop began (deadlines count in passes)
    bool draining;
    int64_t drain_until_ms;
    int64_t last_request_ms; //  when the last request arrived (while draining)
};

//  An ipc socket file the broker made. libzmq 4.3 leaves it behind when
//  the socket closes (it removes only those it names itself, for ipc://*),
//  so the broker removes it at exit: if it is still the same file, not one
//  a later bind of the same path put there.
typedef struct {
    char *path; //  absolute
    dev_t dev;
    ino_t ino;
} s_ipc_file_t;

static void s_dispatch_later (s_broker_t *self, s_service_t *service);
static void s_fail_job (s_broker_t *self, s_job_t **job_p, int code, const char *why);

//  ---------------------------------------------------------------------
//  Services, workers, clients

static s_service_t *
s_service_require (s_broker_t *self, const char *name, bool readonly)
{
    s_service_t *service = (s_service_t *)zhashx_lookup (self->services, name);
    if (!service) {
        service = (s_service_t *)zmalloc (sizeof (s_service_t));
        snprintf (service->name, sizeof service->name, "%s", name);
        service->readonly = readonly;
        s_list_init (&service->queue);
        s_list_init (&service->urgent);
        service->waiting = zlistx_new ();
        zhashx_insert (self->services, name, service);
    }
    return service;
}

//  The service a request names. Most name none, and theirs is kept at hand.
static s_service_t *
s_service_find (s_broker_t *self, const zaio_request_t *req)
{
    if (req->fields & ZAIO_FIELD_VOLUME)
        return (s_service_t *)zhashx_lookup (self->services, req->volume);
    if (!self->default_service)
        self->default_service = (s_service_t *)zhashx_lookup (self->services, ZAIO_DEFAULT_VOLUME);
    return self->default_service;
}

static void
s_service_destroy (void **item)
{
    s_service_t *service = (s_service_t *)*item;
    if (service) {
        assert (service->queue.size == 0 && service->urgent.size == 0);
        zlistx_destroy (&service->waiting);
        free (service);
        *item = NULL;
    }
}

//  Clients and workers are keyed by their routing ids as they are: no hex
//  strings on the hot path.
static size_t
s_id_hash (const void *key)
{
    const s_routing_id_t *id = (const s_routing_id_t *)key;
    size_t hash = 2166136261u; //  FNV-1a
    for (size_t i = 0; i < id->size; i++) hash = (hash ^ id->data[i]) * 16777619u;
    return hash;
}

static int
s_id_compare (const void *a, const void *b)
{
    const s_routing_id_t *first = (const s_routing_id_t *)a, *second = (const s_routing_id_t *)b;
    return first->size == second->size && memcmp (first->data, second->data, first->size) == 0 ? 0
                                                                                               : 1;
}

static void *
s_id_duplicate (const void *key)
{
    s_routing_id_t *copy = (s_routing_id_t *)malloc (sizeof (s_routing_id_t));
    assert (copy);
    memcpy (copy, key, sizeof (s_routing_id_t));
    return copy;
}

static void
s_id_free (void **key)
{
    free (*key);
    *key = NULL;
}

static zhashx_t *
s_id_table_new (zhashx_destructor_fn *destructor)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_key_hasher (table, s_id_hash);
    zhashx_set_key_comparator (table, s_id_compare);
    zhashx_set_key_duplicator (table, s_id_duplicate);
    zhashx_set_key_destructor (table, s_id_free);
    zhashx_set_destructor (table, destructor);
    return table;
}

//  The routing id a ROUTER put first in a message.
static void
s_id_from (s_routing_id_t *id, zmq_msg_t *part)
{
    size_t size = zmq_msg_size (part);
    id->size = (uint8_t)(size < sizeof id->data ? size : sizeof id->data);
    memcpy (id->data, zmq_msg_data (part), id->size);
}

static void
s_reply_destroy (s_reply_t **reply_p)
{
    s_reply_t *reply = *reply_p;
    zmq_msg_close (&reply->header);
    zmq_msg_close (&reply->data);
    free (reply);
    *reply_p = NULL;
}

//  Drops the replies held for client; returns how many there were.
static size_t
s_client_drop_held (s_client_t *client)
{
    size_t count = client->held.size;
    s_link_t *link;
    while ((link = s_list_pop (&client->held))) {
        s_reply_t *reply = S_HOLDER (link, s_reply_t, link);
        s_reply_destroy (&reply);
    }
    return count;
}

static void
s_client_free (void **item)
{
    s_client_t *client = (s_client_t *)*item;
    if (client) {
        assert (client->unfinished.size == 0 && client->parked.size == 0);
        if (client->held.size)
            zsys_warning (
                "broker: %zu replies held for a client that stopped reading dropped at exit",
                s_client_drop_held (client));
        zhashx_destroy (&client->keys);
        free (client);
        *item = NULL;
    }
}

static s_client_t *
s_client_require (s_broker_t *self, const s_routing_id_t *identity)
{
    s_client_t *client = (s_client_t *)zhashx_lookup (self->clients, identity);
    if (!client) {
        client = (s_client_t *)zmalloc (sizeof (s_client_t));
        client->identity = *identity;
        s_list_init (&client->unfinished);
        s_list_init (&client->held);
        s_list_init (&client->parked);
        zhashx_insert (self->clients, identity, client);
    }
    return client;
}

//  Forgets a client with nothing unfinished and no reply held, unless it
//  must remember that its last linked job failed. Those are bounded: a
//  client that has gone never sends the request that would clear it.
static void
s_client_release (s_broker_t *self, s_client_t *client)
{
    if (client->unfinished.size || client->held.size) return;
    if (!client->link_broken) {
        zhashx_delete (self->clients, &client->identity);
        return;
    }
    if (!s_linked (&client->broken)) s_list_add (&self->broken, &client->broken, false);
    if (self->broken.size > ZAIO_BROKER_BROKEN_LINKS_MAX) {
        s_client_t *oldest = S_HOLDER (s_list_pop (&self->broken), s_client_t, broken);
        if (self->links_forgotten++ == 0)
            zsys_warning ("broker: over %d clients with a failed linked job; the oldest "
                          "are forgotten, and their next requests will run",
                          ZAIO_BROKER_BROKEN_LINKS_MAX);
        oldest->link_broken = false;
        s_client_release (self, oldest);
    }
}

//  ---------------------------------------------------------------------
//  Job numbers: a slot in a table, and a generation so that a number from
//  a job long gone never finds the job now in its slot.

static uint64_t
s_slot_take (s_broker_t *self, s_job_t *job)
{
    if (self->free_count == 0) {
        uint32_t grown = self->slot_count ? self->slot_count * 2 : 1024;
        self->slots = (s_job_t **)realloc (self->slots, grown * sizeof (s_job_t *));
        self->generations = (uint32_t *)realloc (self->generations, grown * sizeof (uint32_t));
        self->free_slots = (uint32_t *)realloc (self->free_slots, grown * sizeof (uint32_t));
        assert (self->slots && self->generations && self->free_slots);
        for (uint32_t slot = grown; slot > self->slot_count; slot--) {
            self->slots[slot - 1] = NULL;
            self->generations[slot - 1] = 0;
            self->free_slots[self->free_count++] = slot - 1;
        }
        self->slot_count = grown;
    }
    uint32_t slot = self->free_slots[--self->free_count];
    self->slots[slot] = job;
    return (uint64_t)++self->generations[slot] << 32 | slot;
}

static s_job_t *
s_slot_job (s_broker_t *self, uint64_t number)
{
    uint32_t slot = (uint32_t)number;
    if (slot >= self->slot_count) return NULL;
    s_job_t *job = self->slots[slot];
    return job && job->number == number ? job : NULL;
}

static void
s_slot_free (s_broker_t *self, uint64_t number)
{
    uint32_t slot = (uint32_t)number;
    self->slots[slot] = NULL;
    self->free_slots[self->free_count++] = slot;
}

//  Takes the first job off a list of job->queued links, or returns NULL.
static s_job_t *
s_queue_pop (s_list_t *list)
{
    s_link_t *link = s_list_pop (list);
    return link ? S_HOLDER (link, s_job_t, queued) : NULL;
}

//  A job for path, zeroed but for its path: a finished job is kept for
//  reuse (up to S_SPARE_JOBS), path buffer and all, so accepting one
//  usually allocates nothing.
static s_job_t *
s_job_new (s_broker_t *self, const char *path)
{
    s_job_t *job = s_queue_pop (&self->spare_jobs);
    char *buffer = NULL;
    size_t room = 0;
    if (job) {
        buffer = job->path;
        room = job->path_room;
        memset (job, 0, sizeof *job);
    } else
        job = (s_job_t *)zmalloc (sizeof (s_job_t));
    size_t size = strlen (path) + 1;
    if (size > room) {
        free (buffer);
        room = size < S_PATH_ROOM ? S_PATH_ROOM : size;
        buffer = (char *)malloc (room);
        assert (buffer);
    }
    memcpy (buffer, path, size);
    job->path = buffer;
    job->path_room = room;
    return job;
}

static void
s_job_destroy (s_broker_t *self, s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (job) {
        s_slot_free (self, job->number);
        zstr_free (&job->key);
        zlistx_destroy (&job->dependents);
        if (job->has_header) zmq_msg_close (&job->header);
        if (job->has_data) {
            self->queued_bytes -= zmq_msg_size (&job->data);
            zmq_msg_close (&job->data);
        }
        if (self->spare_jobs.size < S_SPARE_JOBS)
            s_list_add (&self->spare_jobs, &job->queued, true);
        else {
            free (job->path);
            free (job);
        }
        *job_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Replies and events

//  True if some subscriber's prefix matches topic.
static bool
s_subscribed (s_broker_t *self, const char *topic)
{
    for (zframe_t *prefix = (zframe_t *)zlistx_first (self->subscriptions); prefix;
         prefix = (zframe_t *)zlistx_next (self->subscriptions))
        if (strncmp (topic, (const char *)zframe_data (prefix), zframe_size (prefix)) == 0)
            return true;
    return false;
}

//  Every completion takes a sequence number; its event is built and sent
//  only if a subscription matches, so events cost nothing unwatched.
static void
s_publish (s_broker_t *self, const s_routing_id_t *client, uint64_t id, zaio_op_t op,
           const char *path, const char *volume, const zaio_outcome_t *outcome, uint64_t queue_us,
           const char *worker)
{
    uint64_t seq = ++self->event_seq;
    if (zlistx_size (self->subscriptions) == 0) return;
    char topic[ZAIO_VOLUME_MAX + 64];
    zaio_topic_format (outcome->error, op, volume, topic, sizeof topic);
    if (!s_subscribed (self, topic)) return;
    zaio_event_t event;
    event.seq = seq;
    event.id = id;
    static const char digits[] = "0123456789ABCDEF";
    size_t length = 0;
    for (size_t i = 0; i < client->size && length + 2 < sizeof event.client; i++) {
        event.client[length++] = digits[client->data[i] >> 4];
        event.client[length++] = digits[client->data[i] & 15];
    }
    event.client[length] = 0;
    event.op = op;
    snprintf (event.path, sizeof event.path, "%s", path);
    snprintf (event.volume, sizeof event.volume, "%s", volume);
    event.error = outcome->error;
    event.bytes = outcome->bytes;
    event.queue_us = queue_us;
    event.service_us = outcome->service_us;
    snprintf (event.worker, sizeof event.worker, "%s", worker);
    event.time_us = zclock_time () * 1000;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_event_encode (&event)});
    //  XPUB never blocks; a slow subscriber loses events and sees a seq gap.
    if (zmsg_send (&msg, self->events)) zmsg_destroy (&msg);
    self->published = true;
}

static void
s_subscription_free (void **item)
{
    zframe_destroy ((zframe_t **)item);
}

//  XPUB passes up the first subscription to a prefix and the last
//  unsubscription, so the list holds exactly the prefixes in use.
static void
s_handle_subscription (s_broker_t *self)
{
    self->published = false;
    zframe_t *frame;
    while ((frame = zframe_recv (self->events))) {
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

static void
s_close_parts (zmq_msg_t *first, zmq_msg_t *second)
{
    if (first) zmq_msg_close (first);
    if (second) zmq_msg_close (second);
}

//  Sends [peer][lead][first?][second?] on a ROUTER, lead being size bytes
//  (a signature, or a worker envelope). Under ZMQ_ROUTER_MANDATORY the
//  first part fails if the peer has gone (EHOSTUNREACH) or its queue is
//  full (EAGAIN, the socket's send timeout being 0); then nothing is sent,
//  the parts stay the caller's, and this returns -1. Once the first part
//  is queued so is the rest, since the high-water mark counts whole
//  messages; the parts that are not NULL are then taken.
static int
s_route (void *handle, const s_routing_id_t *peer, const void *lead, size_t size, zmq_msg_t *first,
         zmq_msg_t *second)
{
    if (zmq_send (handle, peer->data, peer->size, ZMQ_SNDMORE) == -1) return -1;
    zmq_msg_t *parts[] = {first, second};
    size_t count = first ? (second ? 2 : 1) : 0;
    zmq_send (handle, lead, size, count ? ZMQ_SNDMORE : 0);
    for (size_t i = 0; i < count; i++)
        if (zmq_msg_send (parts[i], handle, i + 1 < count ? ZMQ_SNDMORE : 0) == -1)
            zmq_msg_close (parts[i]);
    return 0;
}

//  Sends a worker [envelope][first?][second?]; takes the parts. Returns -1
//  if the worker has gone (its queue has no limit: credit bounds it).
static int
s_route_worker (s_broker_t *self, s_worker_t *worker, zaio_worker_command_t command, uint64_t job,
                zmq_msg_t *first, zmq_msg_t *second)
{
    uint8_t envelope[ZAIO_ENVELOPE_SIZE];
    zaio_envelope_put (envelope, command, job);
    int rc =
        s_route (self->backend_zmq, &worker->identity, envelope, sizeof envelope, first, second);
    if (rc) s_close_parts (first, second);
    return rc;
}

//  Sends a client [signature][header][data?]; as s_route.
static int
s_route_client (s_broker_t *self, const s_routing_id_t *identity, zmq_msg_t *header,
                zmq_msg_t *data)
{
    return s_route (self->frontend_zmq, identity, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), header,
                    data);
}

//  Keeps a reply its client's full queue has no room for, behind any held
//  before it; takes header and data. A client that reads its replies has
//  at most as many held as it keeps requests in flight, so only one that
//  keeps sending while it reads nothing reaches the bound (a refusal held
//  costs a few hundred bytes), and replies past it are dropped.
static void
s_hold_reply (s_broker_t *self, s_client_t *client, zmq_msg_t *header, zmq_msg_t *data)
{
    size_t held_max = self->config.inflight_max > ZAIO_BROKER_HELD_MIN ? self->config.inflight_max
                                                                       : ZAIO_BROKER_HELD_MIN;
    if (client->held.size >= held_max) {
        if (client->dropped++ == 0)
            zsys_warning ("broker: a client reads no replies; those past %zu held are dropped",
                          held_max);
        s_close_parts (header, data);
        return;
    }
    s_reply_t *reply = (s_reply_t *)zmalloc (sizeof (s_reply_t));
    zmq_msg_init (&reply->header);
    zmq_msg_move (&reply->header, header);
    zmq_msg_init (&reply->data);
    if (data) {
        zmq_msg_move (&reply->data, data);
        zmq_msg_close (data);
        reply->has_data = true;
    }
    zmq_msg_close (header);
    if (client->held.size == 0) s_list_add (&self->backlogged, &client->backlogged, false);
    s_list_add (&client->held, &reply->link, false);
}

//  Sends [identity][signature][header][data?] to a client; takes header
//  and data. client is the identity's state if the caller has it at hand,
//  else NULL (it is looked up: a refusal must not pass replies held for
//  the client, which come first). A reply that finds the client's queue
//  full (reply_hwm replies it has not taken) is held, and so is every later
//  one while any is (s_flush_held sends them in order); meanwhile the
//  client's jobs are kept from the workers (s_job_park), so a client that
//  stops reading soon stops costing memory.
static void
s_deliver (s_broker_t *self, const s_routing_id_t *identity, s_client_t *client, zmq_msg_t *header,
           zmq_msg_t *data)
{
    if (!client) client = (s_client_t *)zhashx_lookup (self->clients, identity);
    if (!client || client->held.size == 0) {
        if (s_route_client (self, identity, header, data) == 0) return;
        if (zmq_errno () != EAGAIN) {
            //  EHOSTUNREACH: the client has gone; there is no one left to tell.
            if (self->config.verbose) zsys_debug ("broker: reply to departed client dropped");
            s_close_parts (header, data);
            return;
        }
        if (!client) client = s_client_require (self, identity);
    }
    s_hold_reply (self, client, header, data);
}

//  Answers a request that never became a job (or stopped being one before
//  a worker took it): an error reply and, if it decoded, its event.
static void
s_reject (s_broker_t *self, const s_routing_id_t *client, const zaio_request_t *req, bool decoded,
          int code, const char *why)
{
    zmq_msg_t header;
    zaio_reply_error_part (&header, req->id, code, why && *why ? why : NULL);
    s_deliver (self, client, NULL, &header, NULL);
    if (decoded) {
        zaio_outcome_t outcome = {code, 0, 0};
        s_publish (self, client, req->id, req->op, req->path, zaio_request_volume (req), &outcome,
                   0, "");
    }
}

//  Makes job wait for blocker to finish.
static void
s_job_wait_for (s_job_t *job, s_job_t *blocker)
{
    if (!blocker->dependents) blocker->dependents = zlistx_new ();
    zlistx_add_end (blocker->dependents, job);
    job->blockers++;
}

//  One of job's blockers finished; at zero it is released.
static void
s_job_unblock (s_broker_t *self, s_job_t *job)
{
    assert (job->blockers > 0);
    if (--job->blockers == 0) s_list_add (&self->released, &job->queued, false);
}

//  Puts job in its volume's queue (the urgent one if it has a deadline),
//  at the back or (a retry) the front.
static void
s_job_enqueue (s_job_t *job, bool front)
{
    s_list_add (job->deadline_us ? &job->service->urgent : &job->service->queue, &job->queued,
                front);
}

//  Released jobs run, or are answered if cancelled or the broker is
//  stopping. Answering may release more; the loop, not recursion, takes
//  them, so a long cancelled chain cannot exhaust the stack.
static void
s_run_released (s_broker_t *self)
{
    if (self->releasing) return;
    self->releasing = true;
    s_job_t *job;
    while ((job = s_queue_pop (&self->released))) {
        if (job->cancel)
            s_fail_job (self, &job, ECANCELED, "a linked job before this one failed");
        else if (self->draining)
            s_fail_job (self, &job, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
        else {
            s_job_enqueue (job, false);
            s_dispatch_later (self, job->service);
        }
    }
    self->releasing = false;
}

//  Ties a new job into its client's order: behind the previous job with
//  its key, behind an unfinished barrier, behind everything if it is a
//  barrier itself, behind a linked predecessor. Returns true if it may
//  run at once.
static bool
s_job_order (s_broker_t *self, s_job_t *job, s_client_t *client)
{
    if (job->key) {
        if (!client->keys) client->keys = zhashx_new ();
        s_job_t *previous = (s_job_t *)zhashx_lookup (client->keys, job->key);
        if (previous) s_job_wait_for (job, previous);
        zhashx_update (client->keys, job->key, job);
    }
    if (job->barrier) {
        for (s_link_t *link = s_list_first (&client->unfinished); link;
             link = s_list_next (&client->unfinished, link))
            s_job_wait_for (job, S_HOLDER (link, s_job_t, ordered));
        client->barrier = job;
    } else if (client->barrier)
        s_job_wait_for (job, client->barrier);
    if (client->last && client->last->link) {
        client->last->link_next = job;
        job->blockers++;
    } else if (client->link_broken)
        job->cancel = true;
    client->link_broken = false;
    if (s_linked (&client->broken)) s_list_remove (&self->broken, &client->broken);
    client->last = job;
    s_list_add (&client->unfinished, &job->ordered, false);
    job->owner = client;
    return job->blockers == 0;
}

//  Unties a finished job from its client's order and releases the jobs
//  that waited for it.
static void
s_job_unorder (s_broker_t *self, s_job_t *job, bool failed)
{
    s_client_t *client = job->owner;
    s_list_remove (&client->unfinished, &job->ordered);
    if (job->key && zhashx_lookup (client->keys, job->key) == job)
        zhashx_delete (client->keys, job->key);
    if (client->barrier == job) client->barrier = NULL;
    if (client->last == job) {
        client->last = NULL;
        client->link_broken = job->link && failed;
    }
    if (job->dependents)
        for (s_job_t *waiter = (s_job_t *)zlistx_first (job->dependents); waiter;
             waiter = (s_job_t *)zlistx_next (job->dependents))
            s_job_unblock (self, waiter);
    if (job->link_next) {
        if (failed) job->link_next->cancel = true;
        s_job_unblock (self, job->link_next);
    }
    s_client_release (self, client);
}

//  Sends a job's one reply and publishes its event; takes the parts.
static void
s_answer (s_broker_t *self, s_job_t *job, zmq_msg_t *header, zmq_msg_t *data,
          const zaio_outcome_t *outcome, const char *worker_name)
{
    assert (!job->answered);
    s_deliver (self, &job->owner->identity, job->owner, header, data);
    uint64_t queue_us = job->dispatched_us ? (uint64_t)(job->dispatched_us - job->received_us) : 0;
    s_publish (self, &job->owner->identity, job->id, job->op, job->path, job->service->name,
               outcome, queue_us, worker_name);
    job->answered = true;
}

//  Completes a job with its reply (the job's worker, if any, is already
//  detached), unless it was answered already, and releases what waited.
static void
s_finish_job (s_broker_t *self, s_job_t **job_p, zmq_msg_t *header, zmq_msg_t *data,
              const zaio_outcome_t *outcome, const char *worker_name)
{
    s_job_t *job = *job_p;
    if (job->answered) {
        zmq_msg_close (header);
        if (data) zmq_msg_close (data);
    } else
        s_answer (self, job, header, data, outcome, worker_name);
    s_job_unorder (self, job, outcome->error != 0);
    self->accepted--;
    s_job_destroy (self, job_p);
    s_run_released (self);
}

//  Completes a job with an error the broker makes, naming the worker that
//  held it (if any) in the event.
static void
s_fail_job_on (s_broker_t *self, s_job_t **job_p, int code, const char *why,
               const char *worker_name)
{
    zmq_msg_t header;
    zaio_reply_error_part (&header, (*job_p)->id, code, why);
    zaio_outcome_t outcome = {code, 0, 0};
    s_finish_job (self, job_p, &header, NULL, &outcome, worker_name);
}

//  Completes a job no worker ran with an error.
static void
s_fail_job (s_broker_t *self, s_job_t **job_p, int code, const char *why)
{
    s_fail_job_on (self, job_p, code, why, "");
}

//  ---------------------------------------------------------------------
//  Hello

static void
s_answer_hello (s_broker_t *self, const s_routing_id_t *client, const zaio_request_t *req)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_packer *pk = &writer.packer;
    zaio_reply_pack_ok (pk, req->id, 5);
    zaio_pack_str (pk, "limits");
    msgpack_pack_map (pk, 8);
    zaio_pack_key_uint (pk, "header_max", ZAIO_HEADER_MAX);
    zaio_pack_key_uint (pk, "inflight_max", self->config.inflight_max);
    zaio_pack_key_uint (pk, "listdir_max", ZAIO_LISTDIR_MAX);
    zaio_pack_key_uint (pk, "path_max", ZAIO_PATH_MAX);
    zaio_pack_key_uint (pk, "payload_max", self->config.payload_max);
    zaio_pack_key_uint (pk, "queue_bytes_max", self->config.queue_bytes_max);
    zaio_pack_key_uint (pk, "queue_max", self->config.queue_max);
    zaio_pack_key_uint (pk, "reply_hwm", self->config.reply_hwm);
    zaio_pack_str (pk, "ops");
    msgpack_pack_array (pk, ZAIO_OP_COUNT);
    for (int op = 0; op < ZAIO_OP_COUNT; op++) zaio_pack_str (pk, zaio_op_name ((zaio_op_t)op));
    zaio_pack_key_uint (pk, "protocol", ZAIO_PROTOCOL_VERSION);
    zaio_pack_key_str (pk, "version", ZAIO_VERSION_STRING);
    zaio_pack_str (pk, "volumes");
    zlistx_t *names = zhashx_keys (self->services);
    zlistx_set_comparator (names, (zlistx_comparator_fn *)strcmp);
    zlistx_sort (names);
    msgpack_pack_array (pk, (uint32_t)zlistx_size (names));
    for (char *name = (char *)zlistx_first (names); name; name = (char *)zlistx_next (names)) {
        s_service_t *service = (s_service_t *)zhashx_lookup (self->services, name);
        msgpack_pack_map (pk, 3);
        zaio_pack_key_str (pk, "name", service->name);
        zaio_pack_key_bool (pk, "readonly", service->readonly);
        zaio_pack_key_uint (pk, "workers", service->worker_count);
    }
    zlistx_destroy (&names);
    zmq_msg_t header;
    zaio_writer_part (&writer, &header);
    zaio_writer_release (&writer);
    s_deliver (self, client, NULL, &header, NULL);
    zaio_outcome_t outcome = {0, 0, 0};
    s_publish (self, client, req->id, req->op, "", zaio_request_volume (req), &outcome, 0, "");
}

//  ---------------------------------------------------------------------
//  Client requests

//  Admits one request: [client][signature][header][data?].
static void
s_handle_request (s_broker_t *self, zmq_msg_t *parts, int count)
{
    s_routing_id_t id;
    s_id_from (&id, &parts[0]);
    const s_routing_id_t *client = &id;
    if (self->draining) self->last_request_ms = zclock_mono ();
    const void *frames[3] = {NULL};
    size_t sizes[3] = {0};
    for (int i = 1; i < count && i <= 3; i++) {
        frames[i - 1] = zmq_msg_data (&parts[i]);
        sizes[i - 1] = zmq_msg_size (&parts[i]);
    }
    zaio_request_t req;
    char why[256] = "";
    int code = zaio_request_decode_frames (&req, frames, sizes, (size_t)count - 1,
                                           self->config.payload_max, why, sizeof why);
    if (code) {
        if (self->config.verbose)
            zsys_debug ("broker: bad request (%s): %s", zaio_error_name (code), why);
        s_reject (self, client, &req, false, code, why);
        return;
    }
    const char *volume = zaio_request_volume (&req);
    s_service_t *service = s_service_find (self, &req);
    s_client_t *owner = (s_client_t *)zhashx_lookup (self->clients, client);
    size_t inflight = owner ? owner->unfinished.size + owner->held.size : 0;
    if (self->draining)
        s_reject (self, client, &req, true, ZAIO_ERR_SHUTDOWN, NULL);
    else if (req.op == ZAIO_OP_HELLO)
        s_answer_hello (self, client, &req);
    else if (!service || service->worker_count == 0) {
        snprintf (why, sizeof why, "no live worker serves volume '%s'", volume);
        s_reject (self, client, &req, true, ZAIO_ERR_NOVOLUME, why);
    } else if (self->accepted >= self->config.queue_max) {
        snprintf (why, sizeof why, "broker queue is full (%u jobs)", self->config.queue_max);
        s_reject (self, client, &req, true, ZAIO_ERR_QUEUE_FULL, why);
    } else if (owner &&
               owner->unfinished.size >= 2 * (size_t)(self->config.queue_max - self->accepted)) {
        //  A client's share of the queue shrinks as the queue fills: it
        //  may add a job only while it has fewer than twice the room left
        //  (the dynamic threshold of shared switch buffers). However many
        //  clients flood, room is left for the rest, and one alone can
        //  take two thirds of the queue.
        snprintf (why, sizeof why,
                  "client has %zu jobs queued or running, its share while the broker queue "
                  "has room for %u",
                  owner->unfinished.size, self->config.queue_max - self->accepted);
        s_reject (self, client, &req, true, ZAIO_ERR_QUEUE_FULL, why);
    } else if (inflight >= self->config.inflight_max) {
        snprintf (why, sizeof why, "client has %zu jobs in flight or replies held, the limit",
                  inflight);
        s_reject (self, client, &req, true, ZAIO_ERR_QUEUE_FULL, why);
    } else if (count == 4 && self->queued_bytes &&
               self->queued_bytes + zmq_msg_size (&parts[3]) > self->config.queue_bytes_max) {
        //  One request may always be queued, however large: the payload
        //  limit bounds it.
        snprintf (why, sizeof why, "broker holds %zu bytes of data for queued jobs (limit %zu)",
                  self->queued_bytes, self->config.queue_bytes_max);
        s_reject (self, client, &req, true, ZAIO_ERR_QUEUE_FULL, why);
    } else {
        s_job_t *job = s_job_new (self, req.path);
        job->number = s_slot_take (self, job);
        job->id = req.id;
        job->op = req.op;
        job->service = service;
        zmq_msg_init (&job->header);
        zmq_msg_move (&job->header, &parts[2]);
        job->has_header = true;
        zmq_msg_init (&job->data);
        job->has_data = count == 4; //  only when the op takes data
        if (job->has_data) {
            zmq_msg_move (&job->data, &parts[3]);
            self->queued_bytes += zmq_msg_size (&job->data);
        }
        job->received_us = self->pass_us;
        if (req.fields & ZAIO_FIELD_DEADLINE)
            job->deadline_us = self->pass_us + (int64_t)req.deadline_ms * 1000;
        if (req.fields & ZAIO_FIELD_KEY) job->key = strdup (req.key);
        job->barrier = req.barrier;
        job->link = req.link;
        self->accepted++;
        if (s_job_order (self, job, owner ? owner : s_client_require (self, client))) {
            s_list_add (&self->released, &job->queued, false);
            s_run_released (self);
        }
    }
}

//  ---------------------------------------------------------------------
//  Dispatch

static void
s_worker_leave_waiting (s_worker_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (worker->waiting_handles[i]) {
            zlistx_delete (worker->services[i]->waiting, worker->waiting_handles[i]);
            worker->waiting_handles[i] = NULL;
        }
}

static void
s_worker_join_waiting (s_worker_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (!worker->waiting_handles[i])
            worker->waiting_handles[i] = zlistx_add_end (worker->services[i]->waiting, worker);
}

//  Moves worker to the back of every waiting list, so work spreads.
static void
s_worker_requeue (s_worker_t *worker)
{
    for (uint32_t i = 0; i < worker->service_count; i++)
        if (worker->waiting_handles[i])
            zlistx_move_end (worker->services[i]->waiting, worker->waiting_handles[i]);
}

//  A deadline counts from the start of the loop pass that received the
//  job, and the pass's dispatch uses that same time: so a job may still
//  start in the pass its deadline falls in, and deadline 0 (PROTOCOL.md:
//  "only if it can start at once") means in the pass it arrived.
static bool
s_job_expired (s_job_t *job, int64_t now_us)
{
    return job->deadline_us && now_us > job->deadline_us;
}

static void
s_send_job (s_broker_t *self, s_worker_t *worker, s_job_t *job, int64_t now_us)
{
    zmq_msg_t header;
    //  Idempotent jobs keep their header for a retry; the others hand it over.
    zmq_msg_init (&header);
    if (zaio_op_idempotent (job->op))
        zmq_msg_copy (&header, &job->header);
    else {
        zmq_msg_move (&header, &job->header);
        job->has_header = false;
    }
    job->worker = worker;
    job->attempts++;
    job->dispatched_us = now_us;
    s_list_add (&worker->jobs, &job->held, false);
    zmq_msg_t *data = job->has_data ? &job->data : NULL;
    job->has_data = false; //  the data moves to the worker
    if (data) self->queued_bytes -= zmq_msg_size (data);
    if (s_route_worker (self, worker, ZAIO_WORKER_JOB, job->number, &header, data))
        //  The worker vanished between READY and now; its expiry handles
        //  the job like any other it held.
        zsys_warning ("broker: cannot send job to worker %s: %s", worker->name,
                      zmq_strerror (zmq_errno ()));
}

//  Keeps job from the workers while its client has replies held: its own
//  would only be held too (s_deliver). True if it did.
static bool
s_job_park (s_job_t *job)
{
    if (job->owner->held.size == 0) return false;
    s_list_add (&job->owner->parked, &job->queued, false);
    return true;
}

//  The worker for a service's next job: among those with credit left, the
//  one with the most (the least loaded; on a tie, the least recently
//  used), or for an urgent job the first that holds nothing at all.
static s_worker_t *
s_pick_worker (s_service_t *service, bool urgent)
{
    s_worker_t *best = NULL;
    for (s_worker_t *worker = (s_worker_t *)zlistx_first (service->waiting); worker;
         worker = (s_worker_t *)zlistx_next (service->waiting))
        if (urgent ? worker->jobs.size == 0 : !best || worker->credit > best->credit) {
            best = worker;
            if (urgent) break;
        }
    return best;
}

//  Hands job to worker, which has credit.
static void
s_hand_over (s_broker_t *self, s_worker_t *worker, s_job_t *job, int64_t now_us)
{
    s_send_job (self, worker, job, now_us);
    if (--worker->credit == 0)
        s_worker_leave_waiting (worker);
    else
        s_worker_requeue (worker);
}

//  Fails every job of a waiting list (of job->queued).
static void
s_fail_waiting (s_broker_t *self, s_list_t *list, int code, const char *why)
{
    s_job_t *job;
    while ((job = s_queue_pop (list))) s_fail_job (self, &job, code, why);
}

//  Answers every job queued for service with code, and empties its queues.
static void
s_fail_queued (s_broker_t *self, s_service_t *service, int code, const char *why)
{
    s_fail_waiting (self, &service->urgent, code, why);
    s_fail_waiting (self, &service->queue, code, why);
}

//  Sends queued jobs to workers while both last. A job with a deadline goes
//  only to a worker holding nothing, so it starts as it arrives and never
//  waits behind another in a worker's queue (PROTOCOL.md: a deadline is
//  the time a job may take to *start*); until then it waits here, where
//  its deadline is kept, and jobs without one wait behind it so that some
//  worker soon holds nothing. Returns true if it sent any job.
static bool
s_dispatch (s_broker_t *self, s_service_t *service, int64_t now_us)
{
    if (service->worker_count == 0) {
        //  Its last worker has gone. Jobs still reach its queues after
        //  that: those that waited for others (ordering) or were parked
        //  (held replies). Each is answered as a new request would be.
        s_fail_queued (self, service, ZAIO_ERR_NOVOLUME, "last worker of the volume lost");
        return false;
    }
    bool sent = false;
    s_worker_t *worker;
    while (service->urgent.size && (worker = s_pick_worker (service, true))) {
        s_job_t *job = s_queue_pop (&service->urgent);
        if (s_job_expired (job, self->pass_us))
            s_fail_job (self, &job, ETIMEDOUT, S_WHY_EXPIRED);
        else if (!s_job_park (job)) {
            s_hand_over (self, worker, job, now_us);
            sent = true;
        }
    }
    while (service->urgent.size == 0 && service->queue.size &&
           (worker = s_pick_worker (service, false))) {
        s_job_t *job = s_queue_pop (&service->queue);
        if (!s_job_park (job)) {
            s_hand_over (self, worker, job, now_us);
            sent = true;
        }
    }
    return sent;
}

//  A client whose held replies have all gone (or were dropped): its parked
//  jobs go back to the front of their queues, in the order they left.
static void
s_client_unblock (s_broker_t *self, s_client_t *client)
{
    s_list_remove (&self->backlogged, &client->backlogged);
    if (client->dropped)
        zsys_warning ("broker: %" PRIu64 " replies to a client that stopped reading were dropped",
                      client->dropped);
    client->dropped = 0;
    while (client->parked.size) {
        s_link_t *last = client->parked.head.prev;
        s_list_remove (&client->parked, last);
        s_job_t *job = S_HOLDER (last, s_job_t, queued);
        s_job_enqueue (job, true);
        s_dispatch_later (self, job->service);
    }
    s_client_release (self, client);
}

//  Sends held replies while their clients' queues have room. Returns true
//  if it sent any.
static bool
s_flush_held (s_broker_t *self)
{
    bool sent = false;
    s_link_t *link = s_list_first (&self->backlogged);
    while (link) {
        s_link_t *next = s_list_next (&self->backlogged, link);
        s_client_t *client = S_HOLDER (link, s_client_t, backlogged);
        s_link_t *held;
        while ((held = s_list_first (&client->held))) {
            s_reply_t *reply = S_HOLDER (held, s_reply_t, link);
            if (s_route_client (self, &client->identity, &reply->header,
                                reply->has_data ? &reply->data : NULL)) {
                //  EHOSTUNREACH: the client has gone, and nothing held
                //  for it can reach it.
                if (zmq_errno () != EAGAIN) s_client_drop_held (client);
                break;
            }
            s_list_remove (&client->held, held);
            s_reply_destroy (&reply);
            sent = true;
        }
        if (client->held.size == 0) s_client_unblock (self, client);
        link = next;
    }
    return sent;
}

//  Dispatch waits for the end of the loop's pass, so a worker gets the
//  jobs freed by a batch of completions in one burst: one wake-up for the
//  burst instead of one per job.
static void
s_dispatch_later (s_broker_t *self, s_service_t *service)
{
    if (!s_linked (&service->due)) s_list_add (&self->dispatch_due, &service->due, false);
}

//  Returns true if any job was sent. The clock is read once for the round:
//  a round takes microseconds, and its jobs share one dispatch time.
static bool
s_dispatch_due (s_broker_t *self)
{
    if (self->dispatch_due.size == 0) return false;
    int64_t now_us = zclock_usecs ();
    bool sent = false;
    s_link_t *link;
    while ((link = s_list_pop (&self->dispatch_due)))
        sent |= s_dispatch (self, S_HOLDER (link, s_service_t, due), now_us);
    return sent;
}

//  ---------------------------------------------------------------------
//  Workers

static void
s_worker_free (void **item)
{
    s_worker_t *worker = (s_worker_t *)*item;
    if (worker) {
        assert (worker->jobs.size == 0);
        free (worker);
        *item = NULL;
    }
}

//  Removes a worker. Jobs it held are retried elsewhere if idempotent and
//  attempts remain; otherwise answered UNKNOWN_OUTCOME.
static void
s_worker_delete (s_broker_t *self, s_worker_t *worker, const char *why)
{
    zsys_info ("broker: worker %s gone (%s), %zu jobs in flight", worker->name, why,
               worker->jobs.size);
    s_worker_leave_waiting (worker);
    for (uint32_t i = 0; i < worker->service_count; i++) worker->services[i]->worker_count--;
    s_link_t *link;
    while ((link = s_list_pop (&worker->jobs))) {
        s_job_t *job = S_HOLDER (link, s_job_t, held);
        job->worker = NULL;
        if (job->has_header && job->attempts < self->config.retries_max && !self->draining)
            s_job_enqueue (job, true); //  a retry goes first: it has waited already
        else {
            char text[256];
            snprintf (text, sizeof text, "worker %s lost while running the job (attempt %u)",
                      worker->name, job->attempts);
            //  The event names the worker that took the job and was lost.
            s_fail_job_on (self, &job, ZAIO_ERR_UNKNOWN_OUTCOME, text, worker->name);
        }
    }
    uint32_t service_count = worker->service_count;
    s_service_t *services[ZAIO_WORKER_VOLUMES_MAX];
    memcpy (services, worker->services, sizeof services);
    zhashx_delete (self->workers, &worker->identity);
    //  Retried jobs go to the survivors; in volumes with none left, every
    //  queued job is answered NOVOLUME (s_dispatch), unless a worker for it
    //  has announced itself by then.
    for (uint32_t i = 0; i < service_count; i++) s_dispatch_later (self, services[i]);
}

static void
s_handle_ready (s_broker_t *self, const s_routing_id_t *identity, zmq_msg_t *body)
{
    zaio_ready_t ready;
    int rc = body ? zaio_ready_decode (&ready, zmq_msg_data (body), zmq_msg_size (body))
                  : ZAIO_ERR_MALFORMED;
    if (rc || ready.volume_count == 0) {
        zsys_warning ("broker: malformed READY from a worker ignored");
        return;
    }
    //  Only in-process workers may skip heartbeats: the broker hears of a
    //  dead peer in no other way. ZMTP metadata marks a tcp or ipc peer.
    if (ready.heartbeat_ms == 0 && zmq_msg_gets (body, "Socket-Type")) {
        zsys_warning ("broker: READY without heartbeat_ms over tcp or ipc ignored");
        return;
    }
    size_t unknown = 0;
    for (uint32_t i = 0; i < ready.volume_count; i++)
        unknown += zhashx_lookup (self->services, ready.volumes[i].name) == NULL;
    if (zhashx_size (self->services) + unknown > ZAIO_BROKER_VOLUMES_MAX) {
        zsys_warning ("broker: READY ignored: its volumes would make more than %d",
                      ZAIO_BROKER_VOLUMES_MAX);
        return;
    }
    s_worker_t *existing = (s_worker_t *)zhashx_lookup (self->workers, identity);
    if (existing) s_worker_delete (self, existing, "announced itself again");

    s_worker_t *worker = (s_worker_t *)zmalloc (sizeof (s_worker_t));
    worker->identity = *identity;
    snprintf (worker->name, sizeof worker->name, "%s/%u/%u", ready.host, ready.pid, ready.slot);
    worker->credit = ready.credit;
    s_list_init (&worker->jobs);
    worker->heartbeat_ms = ready.heartbeat_ms;
    int64_t now_ms = zclock_mono ();
    worker->expiry_ms = now_ms + (int64_t)ready.heartbeat_ms * self->config.heartbeat_misses;
    worker->next_heartbeat_ms = now_ms + self->config.heartbeat_ms;
    for (uint32_t i = 0; i < ready.volume_count; i++) {
        s_service_t *service =
            s_service_require (self, ready.volumes[i].name, ready.volumes[i].readonly);
        service->worker_count++;
        worker->services[worker->service_count++] = service;
    }
    zhashx_insert (self->workers, identity, worker);
    s_worker_join_waiting (worker);
    if (self->config.verbose)
        zsys_debug ("broker: worker %s ready, credit %u, %u volumes", worker->name, worker->credit,
                    worker->service_count);
    for (uint32_t i = 0; i < worker->service_count; i++)
        s_dispatch_later (self, worker->services[i]);
}

//  DONE: [envelope and outcome][header][data?], for the job its number
//  names (NULL if none). Returns -1 if the message is bad. A DONE for a
//  job the worker no longer holds (it was presumed lost
//  and answered or retried already) is ignored: the client has its one
//  reply.
static int
s_handle_done (s_broker_t *self, s_worker_t *worker, uint64_t number, s_job_t *job,
               zmq_msg_t *parts, int count)
{
    if (count < 3 || count > 4) return -1;
    zaio_outcome_t outcome;
    int rc = -1;
    if (zaio_done_outcome (&outcome, zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1])) == 0) {
        rc = 0;
        if (job && job->worker == worker) {
            s_list_remove (&worker->jobs, &job->held);
            job->worker = NULL;
            s_finish_job (self, &job, &parts[2], count == 4 ? &parts[3] : NULL, &outcome,
                          worker->name);
            if (worker->leaving) {
                if (worker->jobs.size == 0) s_worker_delete (self, worker, "left");
            } else {
                if (worker->credit++ == 0) s_worker_join_waiting (worker);
                for (uint32_t i = 0; i < worker->service_count; i++)
                    s_dispatch_later (self, worker->services[i]);
            }
        } else
            zsys_warning ("broker: worker %s finished job %" PRIu64 " it no longer holds",
                          worker->name, number);
    }
    return rc;
}

//  BYE: the worker takes nothing new and is forgotten once it holds nothing.
//  BYE goes back at once: every JOB sent to the worker before it is ahead
//  of it on the connection, so the worker knows when no more can come.
static void
s_handle_bye (s_broker_t *self, s_worker_t *worker)
{
    worker->leaving = true;
    worker->credit = 0;
    s_worker_leave_waiting (worker);
    s_route_worker (self, worker, ZAIO_WORKER_BYE, 0, NULL, NULL);
    if (worker->jobs.size == 0) s_worker_delete (self, worker, "said BYE");
}

static void
s_handle_worker_message (s_broker_t *self, zmq_msg_t *parts, int count)
{
    s_routing_id_t id;
    s_id_from (&id, &parts[0]);
    const s_routing_id_t *identity = &id;
    uint64_t job = 0;
    int command = count >= 2
                      ? zaio_envelope_get (zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]), &job)
                      : -1;
    //  A DONE names its job, which names the worker holding it: when that
    //  is the sender, as it nearly always is, no table lookup is needed.
    s_job_t *held = command == ZAIO_WORKER_DONE ? s_slot_job (self, job) : NULL;
    s_worker_t *worker = NULL;
    if (held && held->worker && s_id_compare (&held->worker->identity, identity) == 0)
        worker = held->worker;
    if (!worker) worker = (s_worker_t *)zhashx_lookup (self->workers, identity);
    //  Any message proves a known worker alive (READY sets a new one's time).
    if (worker && worker->heartbeat_ms)
        worker->expiry_ms =
            zclock_mono () + (int64_t)worker->heartbeat_ms * self->config.heartbeat_misses;
    if (command == -1) {
        zsys_warning ("broker: worker message without a %s envelope", ZAIO_WORKER_SIGNATURE);
        if (worker) s_worker_delete (self, worker, "malformed message");
    } else if (command == ZAIO_WORKER_READY)
        s_handle_ready (self, identity, count == 3 ? &parts[2] : NULL);
    else if (!worker)
        zsys_warning ("broker: message from an unknown worker dropped");
    else if (command == ZAIO_WORKER_DONE) {
        if (s_handle_done (self, worker, job, held, parts, count))
            s_worker_delete (self, worker, "malformed DONE");
    } else if (command == ZAIO_WORKER_BYE)
        s_handle_bye (self, worker);
    else if (command != ZAIO_WORKER_HEARTBEAT)
        s_worker_delete (self, worker, "unexpected command");
}

//  ---------------------------------------------------------------------
//  Timers

static void
s_send_heartbeat (s_broker_t *self, s_worker_t *worker)
{
    s_route_worker (self, worker, ZAIO_WORKER_HEARTBEAT, 0, NULL, NULL);
}

//  Fails the jobs of a waiting list (of job->queued) whose deadline has
//  passed.
//  Answers the jobs of a waiting list whose deadline has passed; true if
//  there were any.
static bool
s_expire_waiting (s_broker_t *self, s_list_t *list, const char *why)
{
    bool expired = false;
    s_link_t *link = s_list_first (list);
    while (link) {
        s_link_t *next = s_list_next (list, link);
        s_job_t *job = S_HOLDER (link, s_job_t, queued);
        if (s_job_expired (job, self->pass_us)) {
            s_list_remove (list, link);
            s_fail_job (self, &job, ETIMEDOUT, why);
            expired = true;
        }
        link = next;
    }
    return expired;
}

static void
s_tick (s_broker_t *self)
{
    int64_t now_ms = self->pass_us / 1000;
    //  Expire silent workers, heartbeat the rest. Collect first: deleting
    //  while iterating a zhashx is not allowed.
    zlistx_t *expired = zlistx_new ();
    for (s_worker_t *worker = (s_worker_t *)zhashx_first (self->workers); worker;
         worker = (s_worker_t *)zhashx_next (self->workers)) {
        if (!worker->heartbeat_ms) continue;
        if (now_ms >= worker->expiry_ms)
            zlistx_add_end (expired, worker);
        else if (now_ms >= worker->next_heartbeat_ms) {
            s_send_heartbeat (self, worker);
            worker->next_heartbeat_ms = now_ms + self->config.heartbeat_ms;
        }
    }
    for (s_worker_t *worker = (s_worker_t *)zlistx_first (expired); worker;
         worker = (s_worker_t *)zlistx_next (expired))
        s_worker_delete (self, worker, "heartbeat expired");
    zlistx_destroy (&expired);

    //  Answer waiting jobs whose deadline has passed: queued ones, and
    //  those parked while their clients read no replies (their answers
    //  are held like the rest, but their places in the queue come free).
    //  Jobs without a deadline wait behind one (s_dispatch): once none is
    //  left they may go to workers that had room all along.
    for (s_service_t *service = (s_service_t *)zhashx_first (self->services); service;
         service = (s_service_t *)zhashx_next (self->services))
        if (s_expire_waiting (self, &service->urgent, S_WHY_EXPIRED))
            s_dispatch_later (self, service);
    for (s_link_t *link = s_list_first (&self->backlogged); link;
         link = s_list_next (&self->backlogged, link))
        s_expire_waiting (self, &S_HOLDER (link, s_client_t, backlogged)->parked,
                          "deadline passed while the client read no replies");
}

//  ---------------------------------------------------------------------
//  Shutdown

//  Stop accepting: every queued job is answered SHUTDOWN now; running jobs
//  finish within drain_ms.
static void
s_start_drain (s_broker_t *self)
{
    self->draining = true;
    self->drain_until_ms = zclock_mono () + self->config.drain_ms;
    self->last_request_ms = zclock_mono ();
    for (s_service_t *service = (s_service_t *)zhashx_first (self->services); service;
         service = (s_service_t *)zhashx_next (self->services))
        s_fail_queued (self, service, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
    //  So are jobs parked while their clients' replies are held. Their
    //  replies are held too, so no client is forgotten here.
    for (s_link_t *link = s_list_first (&self->backlogged); link;
         link = s_list_next (&self->backlogged, link))
        s_fail_waiting (self, &S_HOLDER (link, s_client_t, backlogged)->parked, ZAIO_ERR_SHUTDOWN,
                        S_WHY_SHUTDOWN);
    //  Jobs held behind others are answered now too; each is freed when
    //  what it waits for finishes, without a second reply.
    for (s_client_t *client = (s_client_t *)zhashx_first (self->clients); client;
         client = (s_client_t *)zhashx_next (self->clients))
        for (s_link_t *link = s_list_first (&client->unfinished); link;
             link = s_list_next (&client->unfinished, link)) {
            s_job_t *job = S_HOLDER (link, s_job_t, ordered);
            if (job->blockers && !job->answered) {
                zmq_msg_t header;
                zaio_reply_error_part (&header, job->id, ZAIO_ERR_SHUTDOWN, S_WHY_SHUTDOWN);
                zaio_outcome_t outcome = {ZAIO_ERR_SHUTDOWN, 0, 0};
                s_answer (self, job, &header, NULL, &outcome, "");
            }
        }
}

//  Jobs still running when the drain time is up.
static void
s_abandon_running (s_broker_t *self)
{
    for (s_worker_t *worker = (s_worker_t *)zhashx_first (self->workers); worker;
         worker = (s_worker_t *)zhashx_next (self->workers)) {
        s_link_t *link;
        while ((link = s_list_pop (&worker->jobs))) {
            s_job_t *job = S_HOLDER (link, s_job_t, held);
            s_fail_job_on (self, &job, ZAIO_ERR_UNKNOWN_OUTCOME,
                           "broker stopped before the job finished", worker->name);
        }
    }
}

//  ---------------------------------------------------------------------
//  Setup

//  A copy of text that lives as long as the broker (the autofree list
//  duplicates what it is given).
static char *
s_own (s_broker_t *self, const char *text)
{
    zlist_append (self->owned_strings, (void *)text);
    return (char *)zlist_last (self->owned_strings);
}

//  Notes the socket file an ipc endpoint just bound made, to remove at
//  exit (s_remove_ipc_files); none for ipc://* or the abstract namespace.
static void
s_note_ipc_file (s_broker_t *self, const char *requested, const char *bound)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (requested, scheme, length) || requested[length] == '*' || requested[length] == '@')
        return;
    char *path = realpath (bound + length, NULL);
    struct stat st;
    if (path && stat (path, &st) == 0 && S_ISSOCK (st.st_mode)) {
        s_ipc_file_t *file = (s_ipc_file_t *)zmalloc (sizeof *file);
        *file = (s_ipc_file_t){path, st.st_dev, st.st_ino};
        zlist_append (self->ipc_files, file);
    } else
        free (path);
}

static void
s_remove_ipc_files (s_broker_t *self)
{
    s_ipc_file_t *file;
    while ((file = (s_ipc_file_t *)zlist_pop (self->ipc_files))) {
        struct stat st;
        if (lstat (file->path, &st) == 0 && S_ISSOCK (st.st_mode) && st.st_dev == file->dev &&
            st.st_ino == file->ino)
            unlink (file->path);
        free (file->path);
        free (file);
    }
}

static int
s_bind_all (s_broker_t *self, zsock_t *sock, const char *kind, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (zsock_bind (sock, "%s", list[i]) < 0) {
            zsys_error ("broker: cannot bind %s endpoint %s: %s", kind, list[i],
                        zmq_strerror (zmq_errno ()));
            return -1;
        }
        char *bound = zsock_last_endpoint (sock);
        s_note_ipc_file (self, list[i], bound);
        char *entry = zsys_sprintf ("%s %s", kind, bound);
        zlist_append (self->endpoints, entry); //  autofree: the list keeps a copy
        zstr_free (&entry);
        zstr_free (&bound);
    }
    return 0;
}

static void
s_broker_destroy (s_broker_t **self_p)
{
    s_broker_t *self = *self_p;
    if (!self) return;
    for (uint32_t i = 0; i < self->local_worker_count; i++)
        zaio_worker_destroy (&self->local_workers[i]);
    free (self->local_workers);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->services);
    zhashx_destroy (&self->clients);
    zlistx_destroy (&self->subscriptions);
    s_job_t *spare;
    while ((spare = s_queue_pop (&self->spare_jobs))) {
        free (spare->path);
        free (spare);
    }
    free (self->slots);
    free (self->generations);
    free (self->free_slots);
    zsock_destroy (&self->backend);
    zsock_destroy (&self->frontend);
    zsock_destroy (&self->events);
    if (self->ipc_files) s_remove_ipc_files (self);
    zlist_destroy (&self->ipc_files);
    zaio_volume_destroy (&self->default_volume);
    zlist_destroy (&self->endpoints);
    zlist_destroy (&self->owned_strings);
    free (self);
    *self_p = NULL;
}

static void
s_copy_list (s_broker_t *self, const char **dest, const char *const *src)
{
    size_t i = 0;
    for (; src[i] && i < ZAIO_BROKER_ENDPOINTS_MAX; i++) dest[i] = s_own (self, src[i]);
    dest[i] = NULL;
}

static s_broker_t *
s_broker_new (zsock_t *pipe, const zaio_broker_config_t *config)
{
    s_broker_t *self = (s_broker_t *)zmalloc (sizeof (s_broker_t));
    self->pipe = pipe;
    self->owned_strings = zlist_new ();
    zlist_autofree (self->owned_strings);
    self->config = *config;
    self->config.root = s_own (self, config->root);
    s_copy_list (self, self->config.bind, config->bind);
    s_copy_list (self, self->config.events, config->events);
    s_copy_list (self, self->config.worker_bind, config->worker_bind);
    if (self->config.workers == 0) self->config.workers = (uint32_t)sysconf (_SC_NPROCESSORS_ONLN);
    if (self->config.workers == 0) self->config.workers = 1;
    //  The fair share (s_handle_request) caps a lone client below
    //  inflight_max if that is above two thirds of queue_max: say so once.
    uint64_t lone_max = (2 * (uint64_t)self->config.queue_max + 2) / 3;
    if (self->config.inflight_max > lone_max)
        zsys_warning ("broker: inflight_max %u is more than a client alone can have accepted, "
                      "%" PRIu64 " (its fair share of queue_max %u)",
                      self->config.inflight_max, lone_max, self->config.queue_max);
    self->endpoints = zlist_new ();
    zlist_autofree (self->endpoints);
    self->ipc_files = zlist_new ();
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_service_destroy);
    self->workers = s_id_table_new (s_worker_free);
    self->clients = s_id_table_new (s_client_free);
    s_list_init (&self->released);
    s_list_init (&self->dispatch_due);
    s_list_init (&self->spare_jobs);
    s_list_init (&self->backlogged);
    s_list_init (&self->broken);
    self->subscriptions = zlistx_new ();
    zlistx_set_destructor (self->subscriptions, s_subscription_free);

    self->default_volume = zaio_volume_new (ZAIO_DEFAULT_VOLUME, self->config.root, false, true);
    if (!self->default_volume) {
        s_broker_destroy (&self);
        return NULL;
    }
    int64_t transport_max = (int64_t)self->config.payload_max + S_TRANSPORT_SLACK;
    self->frontend = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->frontend, 1);
    //  A client's full queue makes a send fail at once (EAGAIN), and the
    //  broker holds the reply (s_deliver) rather than block or drop it.
    zsock_set_sndhwm (self->frontend, (int)self->config.reply_hwm);
    zsock_set_sndtimeo (self->frontend, 0);
    zsock_set_maxmsgsize (self->frontend, transport_max);
    zsock_set_linger (self->frontend, 2000);
    zsock_set_heartbeat_ivl (self->frontend, 10000);
    zsock_set_heartbeat_timeout (self->frontend, 30000);
    self->backend = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->backend, 1);
    zsock_set_sndhwm (self->backend, 0); //  bounded by credit
    zsock_set_rcvhwm (self->backend, 0);
    zsock_set_maxmsgsize (self->backend, transport_max + 4 * 1024 * 1024);
    zsock_set_linger (self->backend, 0);
    //  Handlers take messages until EAGAIN, never waiting.
    zsock_set_rcvtimeo (self->frontend, 0);
    zsock_set_rcvtimeo (self->backend, 0);
    self->frontend_zmq = zsock_resolve (self->frontend);
    self->backend_zmq = zsock_resolve (self->backend);
    //  XPUB, so the broker knows when anyone listens (s_publish).
    self->events = zsock_new (ZMQ_XPUB);
    zsock_set_sndhwm (self->events, (int)self->config.events_hwm);
    zsock_set_rcvtimeo (self->events, 0);
    zsock_set_linger (self->events, 0);
    zaio_sock_inproc_name (self->backend_inproc, sizeof self->backend_inproc, "zaio-workers");
    bool bound = s_bind_all (self, self->frontend, "client", self->config.bind) == 0 &&
                 s_bind_all (self, self->events, "events", self->config.events) == 0;
    if (bound && zsock_bind (self->backend, "%s", self->backend_inproc) < 0) {
        zsys_error ("broker: cannot bind %s: %s", self->backend_inproc,
                    zmq_strerror (zmq_errno ()));
        bound = false;
    }
    if (!bound || s_bind_all (self, self->backend, "workers", self->config.worker_bind)) {
        s_broker_destroy (&self);
        return NULL;
    }
    self->local_workers = (zactor_t **)zmalloc (sizeof (zactor_t *) * self->config.workers);
    for (uint32_t i = 0; i < self->config.workers; i++) {
        zaio_worker_config_t worker = {
            .endpoint = self->backend_inproc,
            .volumes = &self->default_volume,
            .volume_count = 1,
            .credit = self->config.worker_credit,
            .payload_max = self->config.payload_max,
            .slot = i,
        };
        self->local_workers[i] = zaio_worker_new (&worker);
        assert (self->local_workers[i]);
        self->local_worker_count++;
    }
    return self;
}

//  ---------------------------------------------------------------------
//  The actor

static bool
s_handle_pipe (s_broker_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) return true;
    char *command = zmsg_popstr (msg);
    bool stop = false;
    if (streq (command, "$TERM"))
        stop = true;
    else if (streq (command, "ENDPOINTS")) {
        zmsg_t *reply = zmsg_new ();
        for (char *item = (char *)zlist_first (self->endpoints); item;
             item = (char *)zlist_next (self->endpoints))
            zmsg_addstr (reply, item);
        zmsg_send (&reply, self->pipe);
    } else
        zsys_error ("broker: invalid pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
    return stop;
}

//  A handler gets a message of count parts, of which the first S_PARTS_MAX
//  are in parts; it moves out those it keeps, and all are closed after it.
typedef void (s_handler_fn) (s_broker_t *self, zmq_msg_t *parts, int count);

//  Takes up to S_BATCH messages from a socket (receive timeout 0: until
//  EAGAIN), so no socket starves the others. Returns how many it took.
static int
s_drain_socket (s_broker_t *self, void *handle, s_handler_fn *handler)
{
    int taken = 0;
    for (; taken < S_BATCH; taken++) {
        zmq_msg_t parts[S_PARTS_MAX];
        int count = zaio_sock_recv_parts (handle, parts, S_PARTS_MAX);
        if (count < 0) break;
        handler (self, parts, count);
        for (int i = 0; i < count && i < S_PARTS_MAX; i++) zmq_msg_close (&parts[i]);
    }
    return taken;
}

//  Commands from the pipe, until none is left: that also leaves the pipe
//  safe to wait on again. True if the broker should start to stop.
static bool
s_handle_commands (s_broker_t *self)
{
    bool stop = false;
    while (zsock_events (self->pipe) & ZMQ_POLLIN) stop |= s_handle_pipe (self);
    return stop;
}

static void
s_broker_actor (zsock_t *pipe, void *args)
{
    prctl (PR_SET_NAME, "zaio-broker"); //  so top -H and perf tell threads apart
    s_broker_t *self = s_broker_new (pipe, (const zaio_broker_config_t *)args);
    //  zactor_new consumes the first signal; the second carries our status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, self ? 0 : 1);
    if (!self) return;

    //  The loop drains the two ROUTERs until a pass receives nothing and
    //  sends nothing; only then does it sleep, on the sockets' ZMQ_FDs
    //  (zaio_sock_wait says why that is safe just then). While busy it
    //  looks at the pipe every S_POLL_EVERY passes, so commands never starve.
    enum { PIPE, BACKEND, FRONTEND, EVENTS, SOCKETS };
    zsock_t *socks[SOCKETS] = {pipe, self->backend, self->frontend, self->events};
    bool readable[SOCKETS] = {true, false, false, true}; //  first pass: look at all
    int64_t next_tick = zclock_mono () + S_TICK_MS;
    int busy_passes = 0;
    bool busy = true;
    while (true) {
        bool looking = !busy || ++busy_passes >= S_POLL_EVERY;
        if (looking) {
            busy_passes = 0;
            long timeout = busy ? 0 : (long)(next_tick - zclock_mono ());
            zaio_sock_wait (socks, SOCKETS, timeout > 0 ? (int)timeout : 0, readable);
        }
        //  One clock read a pass serves its deadlines, dispatch and tick.
        self->pass_us = zclock_usecs ();
        int64_t now_ms = self->pass_us / 1000;
        if (readable[PIPE] && s_handle_commands (self) && !self->draining) s_start_drain (self);
        //  Publishing may take the signal of a subscription arriving.
        if (readable[EVENTS] || self->published) s_handle_subscription (self);
        readable[PIPE] = readable[EVENTS] = false;
        if (now_ms >= next_tick) {
            s_tick (self);
            next_tick = now_ms + S_TICK_MS;
        }
        //  Completions first: they free the capacity new requests need.
        int handled = s_drain_socket (self, self->backend_zmq, s_handle_worker_message);
        //  Receiving on the frontend also takes in libzmq's word that a
        //  full client queue has room again, so held replies go after it.
        //  They are tried on passes that look at every socket: each pass
        //  when the broker is otherwise idle, every S_POLL_EVERY when it
        //  is busy. A send tried on every pass for each client that reads
        //  nothing would slow every pass for everyone.
        handled += s_drain_socket (self, self->frontend_zmq, s_handle_request);
        bool flushed = looking && self->backlogged.size && s_flush_held (self);
        //  An event sent (even by the tick) calls for one more look at
        //  the events socket before sleeping.
        busy = s_dispatch_due (self) || handled > 0 || flushed || self->published;
        if (self->draining) {
            int64_t now = zclock_mono ();
            if (self->accepted && now >= self->drain_until_ms) {
                zsys_warning ("broker: drain time up with %u jobs running", self->accepted);
                s_abandon_running (self);
            }
            //  Requests already on their way are answered SHUTDOWN rather
            //  than met with silence: stop once the clients have gone quiet
            //  and have taken every reply, or the drain time is up.
            bool quiet = now - self->last_request_ms >= S_QUIET_MS && self->backlogged.size == 0;
            if (self->accepted == 0 && (quiet || now >= self->drain_until_ms)) break;
        }
    }
    s_broker_destroy (&self);
}

zactor_t *
zaio_broker_new (const zaio_broker_config_t *config)
{
    assert (config && config->root);
    zactor_t *actor = zactor_new (s_broker_actor, (void *)config);
    if (actor && zsock_wait (actor) != 0) zactor_destroy (&actor);
    return actor;
}

void
zaio_broker_destroy (zactor_t **self_p)
{
    zactor_destroy (self_p);
}

zlist_t *
zaio_broker_endpoints (zactor_t *self)
{
    assert (self);
    zstr_send (self, "ENDPOINTS");
    zmsg_t *reply = zmsg_recv (self);
    zlist_t *list = zlist_new ();
    zlist_autofree (list);
    char *item;
    while (reply && (item = zmsg_popstr (reply))) {
        zlist_append (list, item);
        zstr_free (&item);
    }
    zmsg_destroy (&reply);
    return list;
}

char *
zaio_broker_endpoint (zactor_t *self, const char *kind, const char *transport)
{
    zlist_t *list = zaio_broker_endpoints (self);
    char prefix[64];
    snprintf (prefix, sizeof prefix, "%s %s://", kind, transport);
    char *found = NULL;
    for (char *item = (char *)zlist_first (list); item && !found; item = (char *)zlist_next (list))
        if (strncmp (item, prefix, strlen (prefix)) == 0) found = strdup (item + strlen (kind) + 1);
    zlist_destroy (&list);
    return found;
}
