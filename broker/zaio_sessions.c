/*  zaio_sessions.c: client sessions and held replies; see zaio_sessions.h. */

#include "zaio_sessions.h"
#include "zaio_log.h"
#include "zaio_broker.h"

//  A reply waiting for room in its client's queue: a single one (header
//  and data), or a reply batch.
typedef struct {
    zaio_link_t link; //  in session->held
    zmq_msg_t header;
    zmq_msg_t data;
    bool has_data;
    size_t bytes;              //  what it costs: this, and its parts
    zaio_reply_batch_t *batch; //  a reply batch, sealed; NULL for a single reply
    size_t replies;            //  replies it carries: 1, or the batch's
} s_reply_t;

struct _zaio_sessions_t {
    void *frontend;           //  the clients' ROUTER
    size_t held_bytes_max;    //  bytes held per account past which refusals are dropped
    size_t held_bytes_total;  //  the same in all
    size_t held_bytes;        //  bytes held in all
    size_t held;              //  replies held in all (a reply batch's entries each)
    bool verbose;             //  log replies dropped for departed clients
    zhashx_t *table;          //  routing id -> zaio_session_t
    zhashx_t *accounts;       //  identity -> zaio_account_t, shared by its sessions
    zaio_list_t backlogged;   //  of session->backlogged: those with held replies
    zaio_list_t broken;       //  of session->broken: kept for a failed link, oldest first
    uint64_t links_forgotten; //  sessions forgotten from broken, for the log
    uint32_t batch_max;       //  replies in a reply batch, at most
    size_t batch_bytes_max;   //  bytes of its entries, at most
    size_t batch_data_max;    //  bytes of its data, at most
    zaio_list_t batching;     //  of session->batching: those gathering a reply batch
};

//  Puts reply behind any held for session, counting its replies and
//  bytes on its account and the broker's (s_reply_destroy takes them off).
static void
s_keep (zaio_sessions_t *self, zaio_session_t *session, s_reply_t *reply)
{
    if (session->held.size == 0) zaio_list_add (&self->backlogged, &session->backlogged, false);
    zaio_list_add (&session->held, &reply->link, false);
    session->account->held += reply->replies;
    session->account->held_bytes += reply->bytes;
    self->held_bytes += reply->bytes;
    self->held += reply->replies;
}

//  Frees a held reply, taking it off its account's and the broker's
//  bytes.
static void
s_reply_destroy (zaio_sessions_t *self, zaio_session_t *session, s_reply_t **reply_p)
{
    s_reply_t *reply = *reply_p;
    session->account->held -= reply->replies;
    session->account->held_bytes -= reply->bytes;
    self->held_bytes -= reply->bytes;
    self->held -= reply->replies;
    zmq_msg_close (&reply->header);
    zmq_msg_close (&reply->data);
    zaio_reply_batch_destroy (&reply->batch);
    free (reply);
    *reply_p = NULL;
}

//  Drops the replies held for session; returns how many there were.
static size_t
s_drop_held (zaio_sessions_t *self, zaio_session_t *session)
{
    size_t count = 0;
    zaio_link_t *link;
    while ((link = zaio_list_pop (&session->held))) {
        s_reply_t *reply = ZAIO_HOLDER (link, s_reply_t, link);
        count += reply->replies;
        s_reply_destroy (self, session, &reply);
    }
    return count;
}

//  Forgets a session, the last of an identity taking its account along.
static void
s_forget (zaio_sessions_t *self, zaio_session_t *session)
{
    zaio_account_t *account = session->account;
    bool shared = account != &session->own;
    zhashx_delete (self->table, &session->peer);
    if (shared && --account->sessions == 0) zhashx_delete (self->accounts, account->client);
}

static void
s_account_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  Frees a session; its held replies are gone (zaio_sessions_destroy).
static void
s_session_free (void **item)
{
    zaio_session_t *session = (zaio_session_t *)*item;
    if (session) {
        assert (session->parked.size == 0 && session->held.size == 0);
        zaio_reply_batch_destroy (&session->batch);
        zaio_order_clear (&session->order);
        free (session);
        *item = NULL;
    }
}

zaio_sessions_t *
zaio_sessions_new (void *frontend, size_t held_bytes_max, size_t held_bytes_total, bool verbose)
{
    zaio_sessions_t *self = (zaio_sessions_t *)zmalloc (sizeof (zaio_sessions_t));
    self->frontend = frontend;
    self->held_bytes_max = held_bytes_max;
    self->held_bytes_total = held_bytes_total;
    self->verbose = verbose;
    self->table = zaio_route_table_new (s_session_free);
    self->accounts = zhashx_new ();
    zhashx_set_destructor (self->accounts, s_account_free);
    zaio_list_init (&self->backlogged);
    zaio_list_init (&self->broken);
    zaio_list_init (&self->batching);
    self->batch_max = ZAIO_BATCH_MAX;
    self->batch_bytes_max = ZAIO_BATCH_BYTES_MAX;
    self->batch_data_max = ZAIO_PAYLOAD_MAX;
    return self;
}

void
zaio_sessions_destroy (zaio_sessions_t **self_p)
{
    zaio_sessions_t *self = *self_p;
    if (self) {
        zaio_link_t *link;
        while ((link = zaio_list_pop (&self->backlogged))) {
            zaio_session_t *session = ZAIO_HOLDER (link, zaio_session_t, backlogged);
            zaio_log (ZAIO_LOG_WARNING, "sessions", session->account->client,
                      "%zu replies held for a client that stopped reading dropped at exit",
                      s_drop_held (self, session));
        }
        zhashx_destroy (&self->table);
        zhashx_destroy (&self->accounts);
        free (self);
        *self_p = NULL;
    }
}

zaio_session_t *
zaio_sessions_lookup (zaio_sessions_t *self, const zaio_routing_id_t *client)
{
    return (zaio_session_t *)zhashx_lookup (self->table, client);
}

//  The account of identity, made if it has none.
static zaio_account_t *
s_account_require (zaio_sessions_t *self, const char *identity)
{
    zaio_account_t *account = (zaio_account_t *)zhashx_lookup (self->accounts, identity);
    if (!account) {
        account = (zaio_account_t *)zmalloc (sizeof (zaio_account_t));
        snprintf (account->client, sizeof account->client, "%s", identity);
        zhashx_insert (self->accounts, identity, account);
    }
    return account;
}

zaio_session_t *
zaio_sessions_require (zaio_sessions_t *self, const zaio_routing_id_t *client, const char *identity)
{
    zaio_session_t *session = zaio_sessions_lookup (self, client);
    if (!session) {
        session = (zaio_session_t *)zmalloc (sizeof (zaio_session_t));
        session->peer = *client;
        session->account = identity ? s_account_require (self, identity) : &session->own;
        if (!identity) zaio_route_name (session->own.client, sizeof session->own.client, client);
        session->account->sessions++;
        zaio_order_init (&session->order);
        zaio_list_init (&session->held);
        zaio_list_init (&session->parked);
        zhashx_insert (self->table, client, session);
    }
    return session;
}

const zaio_account_t *
zaio_sessions_account (zaio_sessions_t *self, const zaio_routing_id_t *client, const char *identity)
{
    zaio_session_t *session = zaio_sessions_lookup (self, client);
    if (session) return session->account;
    return identity ? (const zaio_account_t *)zhashx_lookup (self->accounts, identity) : NULL;
}

bool
zaio_sessions_admit (zaio_sessions_t *self, zaio_session_t *session, zaio_job_t *job)
{
    job->owner = session;
    session->account->unfinished++;
    bool runnable = zaio_order_admit (&session->order, job);
    //  A request clears a failed link: no longer only that keeps it.
    if (zaio_linked (&session->broken)) zaio_list_remove (&self->broken, &session->broken);
    return runnable;
}

//  Forgets a session with nothing unfinished, no reply held and none
//  being gathered, unless it must remember that its last linked job
//  failed. Those are bounded: a client that has gone never sends the
//  request that would clear it.
static void
s_release (zaio_sessions_t *self, zaio_session_t *session)
{
    if (zaio_order_unfinished (&session->order) || session->held.size || session->batch) return;
    if (!session->order.link_broken) {
        s_forget (self, session);
        return;
    }
    if (!zaio_linked (&session->broken)) zaio_list_add (&self->broken, &session->broken, false);
    if (self->broken.size > ZAIO_BROKER_BROKEN_LINKS_MAX) {
        zaio_session_t *oldest =
            ZAIO_HOLDER (zaio_list_pop (&self->broken), zaio_session_t, broken);
        if (self->links_forgotten++ == 0)
            zaio_log_warning ("sessions",
                              "over %d clients with a failed linked job; the oldest "
                              "are forgotten, and their next requests will run",
                              ZAIO_BROKER_BROKEN_LINKS_MAX);
        oldest->order.link_broken = false;
        s_release (self, oldest);
    }
}

void
zaio_sessions_finish (zaio_sessions_t *self, zaio_job_t *job, bool failed, zaio_list_t *released)
{
    zaio_session_t *session = job->owner;
    session->account->unfinished--;
    zaio_order_finish (&session->order, job, failed, released);
    s_release (self, session);
}

//  True if a reply that is not owed is dropped rather than held for
//  session (s_hold says when).
static bool
s_over (zaio_sessions_t *self, zaio_session_t *session)
{
    return session->account->held_bytes >= self->held_bytes_max ||
           (session->held.size && self->held_bytes >= self->held_bytes_total);
}

//  Drops a reply that is not owed past the bounds (s_over); takes header
//  and data.
static void
s_drop (zaio_sessions_t *self, zaio_session_t *session, zmq_msg_t *header, zmq_msg_t *data)
{
    if (session->dropped++ == 0)
        zaio_log (ZAIO_LOG_WARNING, "sessions", session->account->client,
                  "client reads no replies; refusals past %zu bytes held (%zu in all) are "
                  "dropped",
                  self->held_bytes_max, self->held_bytes_total);
    zaio_route_close (header, data);
    //  A session made for this reply (its identity's account is over)
    //  keeps nothing.
    if (session->held.size == 0) s_release (self, session);
}

//  Keeps a reply its client's full queue has no room for, behind any held
//  before it; takes header and data. An owed reply (an accepted job's) is
//  always kept: the admission bounds stop accepting jobs from a client
//  past the byte bounds, so what is owed past them is the replies of the
//  jobs it had accepted by then. Any other reply (a refusal, a hello)
//  past them is dropped: only a client that keeps sending while it reads
//  nothing gets there. Past the total, only the replies of a connection
//  that has some held already are: one that just found its queue full
//  costs one reply.
static void
s_hold (zaio_sessions_t *self, zaio_session_t *session, zmq_msg_t *header, zmq_msg_t *data,
        bool owed)
{
    if (!owed && s_over (self, session)) {
        s_drop (self, session, header, data);
        return;
    }
    s_reply_t *reply = (s_reply_t *)zmalloc (sizeof (s_reply_t));
    reply->bytes = sizeof (s_reply_t) + zmq_msg_size (header) + (data ? zmq_msg_size (data) : 0);
    reply->replies = 1;
    zmq_msg_init (&reply->header);
    zmq_msg_move (&reply->header, header);
    zmq_msg_init (&reply->data);
    if (data) {
        zmq_msg_move (&reply->data, data);
        zmq_msg_close (data);
        reply->has_data = true;
    }
    zmq_msg_close (header);
    s_keep (self, session, reply);
}

static int
s_send (zaio_sessions_t *self, const zaio_routing_id_t *client, zmq_msg_t *header, zmq_msg_t *data)
{
    return zaio_route_send (self->frontend, client, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), header,
                            data);
}

//  A reply (what) to a client that has gone, dropped: said with --verbose.
static void
s_log_departed (const zaio_routing_id_t *client, const char *what)
{
    char name[2 * 32 + 1];
    zaio_route_name (name, sizeof name, client);
    zaio_log (ZAIO_LOG_DEBUG, "sessions", name, "%s to departed client dropped", what);
}

void
zaio_sessions_deliver (zaio_sessions_t *self, const zaio_routing_id_t *client, const char *identity,
                       zaio_session_t *session, zmq_msg_t *header, zmq_msg_t *data, bool owed)
{
    if (!session) session = zaio_sessions_lookup (self, client);
    if (!session || session->held.size == 0) {
        if (s_send (self, client, header, data) == 0) return;
        if (zmq_errno () != EAGAIN) {
            //  EHOSTUNREACH: the client has gone; there is no one left to tell.
            if (self->verbose) s_log_departed (client, "reply");
            zaio_route_close (header, data);
            return;
        }
        if (!session) session = zaio_sessions_require (self, client, identity);
    }
    s_hold (self, session, header, data, owed);
}

size_t
zaio_sessions_held_bytes (zaio_sessions_t *self)
{
    return self->held_bytes;
}

void
zaio_sessions_set_batch (zaio_sessions_t *self, uint32_t batch_max, size_t batch_bytes_max,
                         size_t batch_data_max)
{
    assert (batch_max > 0);
    self->batch_max = batch_max;
    self->batch_bytes_max = batch_bytes_max;
    self->batch_data_max = batch_data_max;
}

//  Keeps session's reply batch, sealed, behind any reply held before it,
//  whole, counting each of its replies and its bytes. Always kept: the
//  refusals in it were judged when they went in (zaio_sessions_deliver_entry).
static void
s_hold_batch (zaio_sessions_t *self, zaio_session_t *session, zaio_reply_batch_t **batch_p)
{
    s_reply_t *reply = (s_reply_t *)zmalloc (sizeof (s_reply_t));
    zmq_msg_init (&reply->header);
    zmq_msg_init (&reply->data);
    reply->batch = *batch_p;
    *batch_p = NULL;
    reply->replies = zaio_reply_batch_count (reply->batch);
    reply->bytes = sizeof (s_reply_t) + zaio_reply_batch_bytes (reply->batch);
    s_keep (self, session, reply);
}

//  Sends session's reply batch, or holds it if its queue is full or
//  replies are held before it. The caller releases the session.
static void
s_send_batch (zaio_sessions_t *self, zaio_session_t *session)
{
    zaio_list_remove (&self->batching, &session->batching);
    if (session->held.size == 0 &&
        zaio_reply_batch_send (session->batch, self->frontend, &session->peer) == 0)
        zaio_reply_batch_destroy (&session->batch);
    else if (session->held.size == 0 && zmq_errno () != EAGAIN) {
        if (self->verbose) s_log_departed (&session->peer, "reply batch");
        zaio_reply_batch_destroy (&session->batch);
    } else
        s_hold_batch (self, session, &session->batch);
}

void
zaio_sessions_deliver_entry (zaio_sessions_t *self, const zaio_routing_id_t *client,
                             const char *identity, zaio_session_t *session, zmq_msg_t *header,
                             zmq_msg_t *data, bool owed)
{
    if (!session) session = zaio_sessions_require (self, client, identity);
    //  Judged as s_hold judges a single reply, when the batch would be
    //  held for certain; a batch that finds the queue full is held whole.
    if (!owed && session->held.size && s_over (self, session)) {
        s_drop (self, session, header, data);
        return;
    }
    if (session->batch && !zaio_reply_batch_fits (session->batch, zmq_msg_size (header),
                                                  data ? zmq_msg_size (data) : 0))
        s_send_batch (self, session);
    if (!session->batch) {
        session->batch =
            zaio_reply_batch_new (self->batch_max, self->batch_bytes_max, self->batch_data_max);
        zaio_list_add (&self->batching, &session->batching, false);
    }
    if (zaio_reply_batch_add (session->batch, header, data)) {
        s_send_batch (self, session);
        s_release (self, session);
    }
}

bool
zaio_sessions_send_batches (zaio_sessions_t *self)
{
    bool any = self->batching.size > 0;
    zaio_link_t *link;
    while ((link = zaio_list_first (&self->batching))) {
        zaio_session_t *session = ZAIO_HOLDER (link, zaio_session_t, batching);
        s_send_batch (self, session);
        s_release (self, session);
    }
    return any;
}

bool
zaio_sessions_park (zaio_job_t *job)
{
    if (job->owner->held.size == 0) return false;
    zaio_list_add (&job->owner->parked, &job->queued, false);
    return true;
}

//  A session whose held replies have all gone (or were dropped): its
//  parked jobs go to the front of resumed, in the order they were parked
//  (so the last session unblocked has its jobs first, as if each had gone
//  back to the front of its queue in turn).
static void
s_unblock (zaio_sessions_t *self, zaio_session_t *session, zaio_list_t *resumed)
{
    zaio_list_remove (&self->backlogged, &session->backlogged);
    if (session->dropped)
        zaio_log (ZAIO_LOG_WARNING, "sessions", session->account->client,
                  "%" PRIu64 " replies to the client, which stopped reading, were dropped",
                  session->dropped);
    session->dropped = 0;
    zaio_link_t *link;
    while ((link = zaio_list_last (&session->parked))) {
        zaio_list_remove (&session->parked, link);
        zaio_list_add (resumed, link, true);
    }
    s_release (self, session);
}

bool
zaio_sessions_flush (zaio_sessions_t *self, zaio_list_t *resumed)
{
    bool sent = false;
    zaio_link_t *link = zaio_list_first (&self->backlogged);
    while (link) {
        zaio_link_t *next = zaio_list_next (&self->backlogged, link);
        zaio_session_t *session = ZAIO_HOLDER (link, zaio_session_t, backlogged);
        zaio_link_t *held;
        while ((held = zaio_list_first (&session->held))) {
            s_reply_t *reply = ZAIO_HOLDER (held, s_reply_t, link);
            if (reply->batch ? zaio_reply_batch_send (reply->batch, self->frontend, &session->peer)
                             : s_send (self, &session->peer, &reply->header,
                                       reply->has_data ? &reply->data : NULL)) {
                //  EHOSTUNREACH: the client has gone, and nothing held
                //  for it can reach it.
                if (zmq_errno () != EAGAIN) {
                    size_t dropped = s_drop_held (self, session);
                    if (self->verbose)
                        zaio_log (ZAIO_LOG_DEBUG, "sessions", session->account->client,
                                  "%zu replies held for a client that has gone dropped", dropped);
                }
                break;
            }
            zaio_list_remove (&session->held, held);
            s_reply_destroy (self, session, &reply);
            sent = true;
        }
        if (session->held.size == 0) s_unblock (self, session, resumed);
        link = next;
    }
    return sent;
}

size_t
zaio_sessions_backlogged (zaio_sessions_t *self)
{
    return self->backlogged.size;
}

zaio_session_t *
zaio_sessions_first_backlogged (zaio_sessions_t *self)
{
    zaio_link_t *link = zaio_list_first (&self->backlogged);
    return link ? ZAIO_HOLDER (link, zaio_session_t, backlogged) : NULL;
}

zaio_session_t *
zaio_sessions_next_backlogged (zaio_sessions_t *self, zaio_session_t *session)
{
    zaio_link_t *link = zaio_list_next (&self->backlogged, &session->backlogged);
    return link ? ZAIO_HOLDER (link, zaio_session_t, backlogged) : NULL;
}

zaio_session_t *
zaio_sessions_first (zaio_sessions_t *self)
{
    return (zaio_session_t *)zhashx_first (self->table);
}

zaio_session_t *
zaio_sessions_next (zaio_sessions_t *self)
{
    return (zaio_session_t *)zhashx_next (self->table);
}

size_t
zaio_sessions_held (zaio_sessions_t *self)
{
    return self->held;
}

size_t
zaio_sessions_size (zaio_sessions_t *self)
{
    return zhashx_size (self->table);
}
