/*  test_client_fake.h: a scripted broker for the libzaio tests.

    A czmq actor with a ROUTER on an ephemeral tcp port that speaks just
    enough ZAIO/1 to drive the client into the corners a real broker
    reaches only by chance: silence, QUEUE_FULL, SHUTDOWN, held replies,
    a dropped connection and a restart on the same port. Included by the
    test_client_*.c programs that need it (static functions only).

    Commands (fake_command, answered "OK"; fake_query, answered a number):
        SILENT 0|1      swallow every request but hello
        QUEUEFULL N     answer the first N receipts of each id QUEUE_FULL
        SHUTDOWN N      answer the first N receipts of each id SHUTDOWN
        BADHELLO 0|1    answer hello with a header that is no valid reply
        ENTRIES N       answer listdir with N (empty) entries
        HOLD 0|1        keep requests unanswered until RELEASE
        RELEASE         answer every held request
        RESTART         close the ROUTER if open (all connections drop) and
                        bind a new one on the same port; held requests are lost
        GONE            close the ROUTER until RESTART
        BATCH N         list batch_max N in hello (0: none, the default) and
                        take wire batches, answered with one reply batch
                        (QUEUEFULL applies to their entries; HOLD, SILENT
                        and SHUTDOWN do not)
        REFUSE 0|1      answer each wire batch with one MALFORMED reply to its
                        tag (a whole-batch refusal)
        CURVE FILE      as RESTART, the new ROUTER (and those after it) a
                        CURVE server with the secret certificate FILE; a
                        ZAP handler (czmq's zauth) in the test decides who
                        gets in
        HELD            -> requests held now
        HELDMAX         -> most requests held at once
        RECEIVED        -> requests received (hello excluded; a batch's
                           entries each)
        BATCHES         -> wire batches received
        SEEN PATH       -> requests received naming PATH
*/
#ifndef TEST_CLIENT_FAKE_H_INCLUDED
#define TEST_CLIENT_FAKE_H_INCLUDED

#include "zaio.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    zactor_t *actor;
    char *endpoint;
} fake_broker_t;

typedef struct {
    zsock_t *router;
    char *endpoint;
    uint32_t inflight_max;
    uint32_t reply_hwm; //  0: not reported
    bool silent;
    bool hold;
    bool bad_hello;
    long entries;
    long queue_full;
    long shutdown;
    zcert_t *curve; //  the ROUTER's secret certificate; NULL: plain
    zlist_t *held;  //  zmsg_t * requests as received (routing id first)
    long held_max;
    long received;
    uint32_t batch_max; //  0: no batches
    bool refuse;        //  refuse whole batches
    long batches;
    zhash_t *receipts; //  "id" -> count, as strings
    zhash_t *paths;    //  path -> count
} fake_state_t;

//  The first bind picks a port below the kernel's ephemeral range (32768+
//  here), so that while the fake is GONE no other program's "tcp://...:*"
//  bind or outgoing connection can take it; RESTART binds the same port.
static void
fake_bind (fake_state_t *self)
{
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zsock_set_linger (self->router, 0);
    zsock_set_router_mandatory (self->router, 1);
    if (self->curve) {
        zcert_apply (self->curve, self->router);
        zsock_set_curve_server (self->router, 1);
        zsock_set_zap_domain (self->router, "fake");
    }
    if (!self->endpoint) {
        unsigned seed = (unsigned)zclock_usecs () ^ (unsigned)getpid ();
        for (int attempt = 0; !self->endpoint; attempt++) {
            assert (attempt < 1000);
            char *endpoint = zsys_sprintf ("tcp://127.0.0.1:%d", 20000 + rand_r (&seed) % 12000);
            if (zsock_bind (self->router, "%s", endpoint) >= 0)
                self->endpoint = endpoint;
            else
                zstr_free (&endpoint);
        }
        return;
    }
    //  The old socket's port frees up when ZeroMQ's reaper closes it.
    int64_t until = zclock_mono () + 5000;
    while (zsock_bind (self->router, "%s", self->endpoint) < 0) {
        if (zclock_mono () >= until) {
            fprintf (stderr, "fake: cannot bind %s: %s\n", self->endpoint,
                     zmq_strerror (zmq_errno ()));
            assert (false);
        }
        zclock_sleep (10);
    }
}

static long
fake_count (zhash_t *hash, const char *key)
{
    char *value = (char *)zhash_lookup (hash, key);
    long count = value ? atol (value) + 1 : 1;
    zhash_update (hash, key, zsys_sprintf ("%ld", count));
    zhash_freefn (hash, key, free);
    return count;
}

static void
fake_send (fake_state_t *self, zframe_t *routing_id, zframe_t *header, zframe_t *data)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &(zframe_t *){zframe_dup (routing_id)});
    zmsg_addstr (reply, ZAIO_SIGNATURE);
    zmsg_append (reply, &header);
    if (data) zmsg_append (reply, &data);
    zmsg_send (&reply, self->router); //  a dropped peer is fine
    zmsg_destroy (&reply);
}

//  A success reply to req with plausible results: its header frame, and
//  its data frame in *data_p (NULL: none).
static zframe_t *
fake_reply (fake_state_t *self, const zaio_request_t *req, zframe_t **data_p)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    msgpack_packer *pk = &writer.packer;
    zframe_t *data = NULL;
    if (req->op == ZAIO_OP_HELLO) {
        zaio_reply_pack_ok (pk, req->id, 4);
        zaio_pack_str (pk, "limits");
        msgpack_pack_map (pk, 2 + (self->reply_hwm ? 1 : 0) + (self->batch_max ? 2 : 0));
        if (self->batch_max) {
            zaio_pack_key_uint (pk, "batch_bytes_max", ZAIO_BATCH_BYTES_MAX);
            zaio_pack_key_uint (pk, "batch_max", self->batch_max);
        }
        zaio_pack_key_uint (pk, "inflight_max", self->inflight_max);
        if (self->reply_hwm) zaio_pack_key_uint (pk, "reply_hwm", self->reply_hwm);
        zaio_pack_key_uint (pk, "payload_max", ZAIO_PAYLOAD_MAX);
        zaio_pack_str (pk, "ops");
        msgpack_pack_array (pk, ZAIO_OP_COUNT);
        for (int op = 0; op < ZAIO_OP_COUNT; op++) zaio_pack_str (pk, zaio_op_name (op));
        zaio_pack_key_uint (pk, "protocol", 1);
        zaio_pack_key_str (pk, "version", "fake");
    } else if (req->op == ZAIO_OP_LISTDIR) {
        zaio_reply_pack_ok (pk, req->id, 2);
        zaio_pack_str (pk, "entries");
        msgpack_pack_array (pk, (uint32_t)self->entries);
        for (long i = 0; i < self->entries; i++) msgpack_pack_map (pk, 0);
        zaio_pack_key_bool (pk, "more", false);
    } else if (req->op == ZAIO_OP_READ || req->op == ZAIO_OP_READFILE) {
        zaio_reply_pack_ok (pk, req->id, req->op == ZAIO_OP_READ ? 2 : 1);
        zaio_pack_key_uint (pk, "bytes", 4);
        if (req->op == ZAIO_OP_READ) zaio_pack_key_bool (pk, "eof", true);
        data = zframe_new ("fake", 4);
    } else if (req->op == ZAIO_OP_STAT) {
        zaio_reply_pack_ok (pk, req->id, 4);
        zaio_pack_key_uint (pk, "mode", 0644);
        zaio_pack_key_int (pk, "mtime_ns", 1);
        zaio_pack_key_uint (pk, "size", 4);
        zaio_pack_key_str (pk, "type", "file");
    } else if (req->op == ZAIO_OP_WRITE || req->op == ZAIO_OP_APPEND) {
        zaio_reply_pack_ok (pk, req->id, 1);
        zaio_pack_key_uint (pk, "bytes", 0);
    } else
        zaio_reply_pack_ok (pk, req->id, 0);
    zframe_t *header = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    *data_p = data;
    return header;
}

//  Answer a request with success and plausible results.
static void
fake_answer (fake_state_t *self, zframe_t *routing_id, const zaio_request_t *req)
{
    zframe_t *data;
    zframe_t *header = fake_reply (self, req, &data);
    fake_send (self, routing_id, header, data);
}

static void
fake_release (fake_state_t *self)
{
    zmsg_t *msg;
    while ((msg = (zmsg_t *)zlist_pop (self->held))) {
        zframe_t *routing_id = zmsg_first (msg);
        zmsg_next (msg);
        zframe_t *header = zmsg_next (msg);
        zaio_request_t req;
        char why[128];
        int rc =
            zaio_request_decode (&req, zframe_data (header), zframe_size (header), why, sizeof why);
        assert (rc == 0);
        fake_answer (self, routing_id, &req);
        zmsg_destroy (&msg);
    }
}

static void
fake_drop_held (fake_state_t *self)
{
    zmsg_t *msg;
    while ((msg = (zmsg_t *)zlist_pop (self->held))) zmsg_destroy (&msg);
}

//  An error reply header as a frame.
static zframe_t *
fake_error (uint64_t id, int code)
{
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    zaio_reply_pack_error (&writer.packer, id, code, NULL);
    zframe_t *frame = zaio_writer_frame (&writer);
    zaio_writer_release (&writer);
    return frame;
}

//  Count a request's receipt and its path; returns its receipts so far.
static long
fake_receipt (fake_state_t *self, const zaio_request_t *req)
{
    self->received++;
    char id[32];
    snprintf (id, sizeof id, "%" PRIu64, req->id);
    if (req->fields & ZAIO_FIELD_PATH) fake_count (self->paths, req->path);
    return fake_count (self->receipts, id);
}

//  A wire batch: its entries (after the batch header) and data frames
//  left in msg. Each entry is answered (QUEUE_FULL for its first
//  QUEUEFULL receipts), all in one reply batch.
static void
fake_on_batch (fake_state_t *self, zframe_t *routing_id, uint64_t tag, zmsg_t *msg)
{
    self->batches++;
    if (self->refuse) {
        fake_send (self, routing_id, fake_error (tag, ZAIO_ERR_MALFORMED), NULL);
        return;
    }
    zframe_t *entries = zmsg_next (msg);
    assert (entries);
    char why[128];
    uint32_t count;
    int rc = zaio_batch_check (zframe_data (entries), zframe_size (entries), zmsg_size (msg) - 4,
                               self->batch_max, ZAIO_BATCH_BYTES_MAX, &count, why, sizeof why);
    assert (rc == 0);
    zaio_batch_cursor_t cursor;
    rc = zaio_batch_cursor_init (&cursor, zframe_data (entries), zframe_size (entries),
                                 self->batch_max, &count, why, sizeof why);
    assert (rc == 0);
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &(zframe_t *){zframe_dup (routing_id)});
    zmsg_addstr (reply, ZAIO_SIGNATURE);
    zmsg_t *data_frames = zmsg_new ();
    const uint8_t *header;
    size_t size;
    bool has_data;
    while (zaio_batch_cursor_next (&cursor, &header, &size, &has_data, why, sizeof why) == 0) {
        if (has_data) zmsg_next (msg); //  its data frame: not kept
        zaio_request_t req;
        rc = zaio_request_decode (&req, header, size, why, sizeof why);
        assert (rc == 0);
        zframe_t *data = NULL;
        zframe_t *answer = fake_receipt (self, &req) <= self->queue_full
                               ? fake_error (req.id, ZAIO_ERR_QUEUE_FULL)
                               : fake_reply (self, &req, &data);
        rc = zaio_batch_writer_add (&writer, zframe_data (answer), zframe_size (answer),
                                    data != NULL);
        assert (rc == 0);
        zframe_destroy (&answer);
        if (data) zmsg_append (data_frames, &data);
    }
    zmsg_append (reply, &(zframe_t *){zaio_batch_writer_frame (&writer)});
    zframe_t *frame;
    while ((frame = zmsg_pop (data_frames))) zmsg_append (reply, &frame);
    zmsg_destroy (&data_frames);
    zaio_batch_writer_release (&writer);
    zmsg_send (&reply, self->router); //  a dropped peer is fine
    zmsg_destroy (&reply);
}

static void
fake_on_request (fake_state_t *self, zmsg_t **msg_p)
{
    zmsg_t *msg = *msg_p;
    zframe_t *routing_id = zmsg_first (msg);
    zframe_t *signature = zmsg_next (msg);
    zframe_t *header = zmsg_next (msg);
    assert (signature && zframe_streq (signature, ZAIO_SIGNATURE) && header);
    zaio_request_t req;
    char why[128];
    int rc =
        zaio_request_decode (&req, zframe_data (header), zframe_size (header), why, sizeof why);
    assert (rc == 0);
    if (req.op == ZAIO_OP_HELLO && self->bad_hello) {
        //  The id alone, without "ok": a client cannot decode it, so
        //  cannot match it to its hello either.
        zaio_writer_t writer;
        zaio_writer_init (&writer);
        msgpack_pack_map (&writer.packer, 1);
        zaio_pack_key_uint (&writer.packer, "id", req.id);
        fake_send (self, routing_id, zaio_writer_frame (&writer), NULL);
        zaio_writer_release (&writer);
        zmsg_destroy (msg_p);
        return;
    }
    if (req.op == ZAIO_OP_HELLO) {
        fake_answer (self, routing_id, &req);
        zmsg_destroy (msg_p);
        return;
    }
    if (req.op == ZAIO_OP_BATCH) {
        fake_on_batch (self, routing_id, req.id, msg);
        zmsg_destroy (msg_p);
        return;
    }
    long receipt = fake_receipt (self, &req);

    if (receipt <= self->queue_full)
        fake_send (self, routing_id, fake_error (req.id, ZAIO_ERR_QUEUE_FULL), NULL);
    else if (receipt <= self->queue_full + self->shutdown)
        fake_send (self, routing_id, fake_error (req.id, ZAIO_ERR_SHUTDOWN), NULL);
    else if (self->silent)
        ;
    else if (self->hold) {
        zlist_append (self->held, msg);
        *msg_p = NULL;
        long held = (long)zlist_size (self->held);
        if (held > self->held_max) self->held_max = held;
        return;
    } else
        fake_answer (self, routing_id, &req);
    zmsg_destroy (msg_p);
}

static void
fake_actor (zsock_t *pipe, void *args)
{
    fake_state_t *self = (fake_state_t *)args;
    self->held = zlist_new ();
    self->receipts = zhash_new ();
    self->paths = zhash_new ();
    fake_bind (self);
    zsock_signal (pipe, 0);
    zstr_send (pipe, self->endpoint);
    bool running = true;
    while (running) {
        //  Without a ROUTER (GONE) the list ends at the pipe.
        zpoller_t *poller = zpoller_new (pipe, self->router, NULL);
        void *which = zpoller_wait (poller, -1);
        zpoller_destroy (&poller);
        if (which == self->router && self->router) {
            zmsg_t *msg = zmsg_recv (self->router);
            if (msg) fake_on_request (self, &msg);
            zmsg_destroy (&msg);
            continue;
        }
        if (which != pipe) break;
        char *command = zstr_recv (pipe);
        if (!command) break;
        char name[32] = "", arg[256] = "";
        sscanf (command, "%31s %255s", name, arg);
        long number = -1;
        if (streq (name, "$TERM"))
            running = false;
        else if (streq (name, "SILENT"))
            self->silent = atoi (arg);
        else if (streq (name, "QUEUEFULL"))
            self->queue_full = atol (arg);
        else if (streq (name, "SHUTDOWN"))
            self->shutdown = atol (arg);
        else if (streq (name, "BADHELLO"))
            self->bad_hello = atoi (arg);
        else if (streq (name, "ENTRIES"))
            self->entries = atol (arg);
        else if (streq (name, "HOLD"))
            self->hold = atoi (arg);
        else if (streq (name, "REFUSE"))
            self->refuse = atoi (arg);
        else if (streq (name, "BATCH"))
            self->batch_max = (uint32_t)atol (arg);
        else if (streq (name, "RELEASE"))
            fake_release (self);
        else if (streq (name, "RESTART") || streq (name, "GONE") || streq (name, "CURVE")) {
            if (streq (name, "CURVE")) {
                zcert_destroy (&self->curve);
                self->curve = zcert_load (arg);
                assert (self->curve);
            }
            fake_drop_held (self);
            zsock_destroy (&self->router);
            if (!streq (name, "GONE")) fake_bind (self);
        } else if (streq (name, "HELD"))
            number = (long)zlist_size (self->held);
        else if (streq (name, "HELDMAX"))
            number = self->held_max;
        else if (streq (name, "RECEIVED"))
            number = self->received;
        else if (streq (name, "BATCHES"))
            number = self->batches;
        else if (streq (name, "SEEN")) {
            char *value = (char *)zhash_lookup (self->paths, arg);
            number = value ? atol (value) : 0;
        } else
            assert (false);
        if (running) {
            if (number >= 0)
                zstr_sendf (pipe, "%ld", number);
            else
                zstr_send (pipe, "OK");
        }
        zstr_free (&command);
    }
    fake_drop_held (self);
    zlist_destroy (&self->held);
    zhash_destroy (&self->receipts);
    zhash_destroy (&self->paths);
    zsock_destroy (&self->router);
    zcert_destroy (&self->curve);
}

static fake_state_t s_fake_state;

static void
fake_start (fake_broker_t *fake, uint32_t inflight_max, uint32_t reply_hwm)
{
    memset (&s_fake_state, 0, sizeof s_fake_state);
    s_fake_state.inflight_max = inflight_max;
    s_fake_state.reply_hwm = reply_hwm;
    fake->actor = zactor_new (fake_actor, &s_fake_state);
    assert (fake->actor);
    fake->endpoint = zstr_recv (fake->actor);
}

static void
fake_stop (fake_broker_t *fake)
{
    zactor_destroy (&fake->actor);
    zstr_free (&fake->endpoint);
    zstr_free (&s_fake_state.endpoint);
    s_fake_state.endpoint = NULL;
}

static void
fake_command (fake_broker_t *fake, const char *command)
{
    zstr_send (fake->actor, command);
    char *answer = zstr_recv (fake->actor);
    assert (answer && streq (answer, "OK"));
    zstr_free (&answer);
}

static long
fake_query (fake_broker_t *fake, const char *command)
{
    zstr_send (fake->actor, command);
    char *answer = zstr_recv (fake->actor);
    assert (answer);
    long number = atol (answer);
    zstr_free (&answer);
    return number;
}

//  A request for op on path (NULL: none); read asks for 4 bytes.
static void
fake_request (zaio_request_t *req, zaio_op_t op, const char *path)
{
    zaio_request_init (req, op, 0);
    if (path) zaio_request_set_str (req, ZAIO_FIELD_PATH, path);
    if (op == ZAIO_OP_READ) zaio_request_set_uint (req, ZAIO_FIELD_LENGTH, 4);
    if (op == ZAIO_OP_WRITE) zaio_request_set_uint (req, ZAIO_FIELD_CREATE, 1);
}

#endif
