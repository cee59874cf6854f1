/*  zaio_sessions.h: what the broker knows of each client connection, and
    the replies it holds for clients that do not read (PROTOCOL.md
    section 7).

    A session exists while its client has unfinished jobs or held replies
    (or must remember that its last linked job failed), keyed by routing
    id. What a client may have in the broker is counted in its account:
    the sessions of an authenticated identity's connections share one, so
    the identity, not the connection, is the unit of inflight_max, of the
    queue share and of held replies; an unauthenticated connection has
    one of its own (PROTOCOL.md section 11). Replies go out through
    zaio_sessions_deliver, which never blocks: a reply that finds the
    client's queue full (reply_hwm replies it has not taken) is held, and
    so is every later one while any is, and meanwhile the client's jobs
    are kept from the workers (parked), so a client that stops reading
    soon stops costing anything but the replies held. Those are counted in
    bytes, per account and in all: the reply of an accepted job is always
    held (it is owed exactly once), while a refusal or a hello reply is
    dropped, with a warning, once its account holds held_bytes_max or the
    broker held_bytes_total (the admission bounds then refuse the client's
    new jobs). Private to the broker.
*/
#ifndef ZAIO_SESSIONS_H_INCLUDED
#define ZAIO_SESSIONS_H_INCLUDED

#include "zaio_grants.h"
#include "zaio_order.h"
#include "zaio_reply_batch.h"
#include "zaio_route.h"

//  What one client has in the broker, across its connections.
typedef struct {
    char client[ZAIO_IDENTITY_MAX + 1]; //  its name: identity, or routing id (zaio_route_name)
    size_t unfinished;                  //  jobs accepted, not yet answered
    size_t held;                        //  replies held
    size_t held_bytes;                  //  what they cost (zaio_sessions_deliver)
    size_t sessions;                    //  sessions sharing it
} zaio_account_t;

struct _zaio_session_t {
    zaio_routing_id_t peer;    //  its key in the table
    zaio_account_t *account;   //  its client's: own, or its identity's
    zaio_account_t own;        //  the account of an unauthenticated connection
    zaio_order_t order;        //  its unfinished jobs, and how they wait for each other
    zaio_list_t held;          //  of held replies: those its full queue had no room for
    zaio_list_t parked;        //  of job->queued: jobs kept from workers while replies are held
    zaio_link_t backlogged;    //  in the table's backlogged list, while it has held replies
    zaio_link_t broken;        //  in the table's broken list, while only link_broken keeps it
    uint64_t dropped;          //  replies dropped since its replies were first held
    zaio_reply_batch_t *batch; //  replies to its batch entries being gathered, or NULL
    zaio_link_t batching;      //  in the table's batching list, while batch is not NULL
};

typedef struct _zaio_sessions_t zaio_sessions_t;

//  Sessions of clients on frontend (a ROUTER's libzmq handle, borrowed),
//  holding refusals only while their account holds less than
//  held_bytes_max bytes of replies and all accounts less than
//  held_bytes_total. verbose logs dropped replies.
zaio_sessions_t *zaio_sessions_new (void *frontend, size_t held_bytes_max, size_t held_bytes_total,
                                    bool verbose);
//  Frees every session, dropping (with a warning) replies still held.
void zaio_sessions_destroy (zaio_sessions_t **self_p);

//  The client's session, or NULL if it has none.
zaio_session_t *zaio_sessions_lookup (zaio_sessions_t *self, const zaio_routing_id_t *client);

//  The client's session, made if it has none, in the account of identity
//  (NULL for an unauthenticated connection).
zaio_session_t *zaio_sessions_require (zaio_sessions_t *self, const zaio_routing_id_t *client,
                                       const char *identity);

//  The account of a request from client with identity (NULL if
//  unauthenticated): its session's, else its identity's, else NULL if the
//  client has nothing in the broker.
const zaio_account_t *zaio_sessions_account (zaio_sessions_t *self, const zaio_routing_id_t *client,
                                             const char *identity);

//  Makes job (just accepted) the session's, in the order its client asks
//  for. Returns true if it may run at once (zaio_order_admit).
bool zaio_sessions_admit (zaio_sessions_t *self, zaio_session_t *session, zaio_job_t *job);

//  Unties job, which has had its reply, from its session's order: jobs it
//  released go on released. The session is forgotten if nothing keeps it.
void zaio_sessions_finish (zaio_sessions_t *self, zaio_job_t *job, bool failed,
                           zaio_list_t *released);

//  Sends [signature][header][data?] to client; takes header and data.
//  session is the client's if the caller has it at hand, else NULL (it is
//  looked up: a refusal must not pass replies held for the client;
//  identity is then its identity, for a session made to hold the reply).
//  owed is true for the reply of an accepted job, which is held whatever
//  the byte bounds; any other reply that would be held past them is
//  dropped. A client that has gone gets nothing: there is no one left to
//  tell.
void zaio_sessions_deliver (zaio_sessions_t *self, const zaio_routing_id_t *client,
                            const char *identity, zaio_session_t *session, zmq_msg_t *header,
                            zmq_msg_t *data, bool owed);

//  Bytes of replies held for all clients.
size_t zaio_sessions_held_bytes (zaio_sessions_t *self);

//  Replies held for all clients (each entry of a held reply batch counts),
//  and sessions (client connections with something in the broker): for
//  the stats op.
size_t zaio_sessions_held (zaio_sessions_t *self);
size_t zaio_sessions_size (zaio_sessions_t *self);

//  Replies to batch entries go in reply batches of at most batch_max
//  replies, batch_bytes_max bytes of entries and batch_data_max bytes of
//  data (zaio_reply_batch.h); the defaults are ZAIO_BATCH_MAX,
//  ZAIO_BATCH_BYTES_MAX and ZAIO_PAYLOAD_MAX.
void zaio_sessions_set_batch (zaio_sessions_t *self, uint32_t batch_max, size_t batch_bytes_max,
                              size_t batch_data_max);

//  As zaio_sessions_deliver, for the reply to an entry of a request batch:
//  it goes in the client's reply batch, which is sent once full, else by
//  zaio_sessions_send_batches. The session is made if the client has none.
//  A reply that is not owed is dropped if the client has replies held past
//  the byte bounds; one that goes in can be held with its batch past them
//  (by at most one batch per connection: later ones are judged again).
void zaio_sessions_deliver_entry (zaio_sessions_t *self, const zaio_routing_id_t *client,
                                  const char *identity, zaio_session_t *session, zmq_msg_t *header,
                                  zmq_msg_t *data, bool owed);

//  Sends every reply batch being gathered, or holds it (whole, counting
//  one held reply per entry, and its bytes) behind its client's held
//  replies, as
//  zaio_sessions_deliver does a single reply. The broker calls it at the
//  end of each pass, so no reply waits for a later one. Returns true if
//  there was any.
bool zaio_sessions_send_batches (zaio_sessions_t *self);

//  Keeps job from the workers while its client has replies held: its
//  reply would only be held too. True if it did.
bool zaio_sessions_park (zaio_job_t *job);

//  Sends held replies while their clients' queues have room. A client
//  whose held replies have all gone (or were dropped) gets its parked jobs
//  back: they go on resumed, to go back to the front of their queues from
//  the last to the first. Returns true if it sent any reply.
bool zaio_sessions_flush (zaio_sessions_t *self, zaio_list_t *resumed);

//  Sessions with held replies: how many, and each in turn (NULL after the
//  last). The list must not change while it is walked.
size_t zaio_sessions_backlogged (zaio_sessions_t *self);
zaio_session_t *zaio_sessions_first_backlogged (zaio_sessions_t *self);
zaio_session_t *zaio_sessions_next_backlogged (zaio_sessions_t *self, zaio_session_t *session);

//  Every session, in no order (NULL after the last); the table must not
//  change while it is walked.
zaio_session_t *zaio_sessions_first (zaio_sessions_t *self);
zaio_session_t *zaio_sessions_next (zaio_sessions_t *self);

#endif
