/*  test_broker_batch: request batches and reply batches over sockets
    (PROTOCOL.md sections 3.4 and 5.2).

    A batch's entries are requests like any other: each gets exactly one
    reply, in reply batches that go out as replies complete; bad entries
    fail alone; ordering fields and admission bounds work per entry, inside
    and across batches and single requests; a batch that breaks the
    whole-batch rules gets one refusal and nothing runs. Hand-driven
    workers (testutil.h) show which entries the broker starts, and when. */

#include "testutil.h"

#include <string.h>

#define S_IDS_MAX  20000 //  request ids a case uses, 1..S_IDS_MAX (0: refused unread)
#define S_WAIT_MS  20000 //  a reply this late has failed, even on a loaded machine
#define S_QUIET_MS 150   //  no job or reply within this: none is coming

//  ---------------------------------------------------------------------
//  Sending batches

//  A ping (or another op without fields) to volume (NULL: the default),
//  with its ordering fields.
static void
s_order_request (zaio_request_t *req, uint64_t id, const char *volume, const char *key,
                 bool barrier, bool link)
{
    zaio_request_init (req, ZAIO_OP_PING, id);
    if (volume) zaio_request_set_str (req, ZAIO_FIELD_VOLUME, volume);
    if (key) zaio_request_set_str (req, ZAIO_FIELD_KEY, key);
    if (barrier) zaio_request_set_uint (req, ZAIO_FIELD_BARRIER, 1);
    if (link) zaio_request_set_uint (req, ZAIO_FIELD_LINK, 1);
}

//  ---------------------------------------------------------------------
//  Receiving replies, single or batched

typedef struct {
    uint32_t count[S_IDS_MAX + 1]; //  replies per id
    int error[S_IDS_MAX + 1];      //  the last one's error
    size_t data[S_IDS_MAX + 1];    //  its data frame's size
    size_t replies;                //  in all
    size_t messages;               //  messages they came in
    size_t batches;                //  of them reply batches
    uint32_t largest;              //  replies in the largest reply batch
    size_t largest_frame;          //  bytes of the largest entries frame of 2 replies or more
    size_t largest_data;           //  bytes of data in the largest reply batch of 2 or more
} s_replies_t;

static void
s_note (s_replies_t *got, const zaio_reply_t *reply, size_t data)
{
    assert (reply->id <= S_IDS_MAX);
    got->count[reply->id]++;
    got->error[reply->id] = reply->ok ? 0 : reply->error;
    got->data[reply->id] = data;
    got->replies++;
}

//  One message from client within timeout_ms (asserts one comes): a single
//  reply or a reply batch, each reply noted in got. Returns true if it was
//  a batch.
static bool
s_take (zsock_t *client, s_replies_t *got, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (client, NULL);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (which != client) {
        fprintf (stderr, "test_broker_batch: no reply within %d ms (%zu so far)\n", timeout_ms,
                 got->replies);
        assert (false);
    }
    zmsg_t *msg = zmsg_recv (client);
    assert (msg && zmsg_size (msg) >= 2);
    assert (zframe_streq (zmsg_first (msg), ZAIO_SIGNATURE));
    zframe_t *first = zmsg_next (msg);
    zaio_reply_t reply;
    char why[128] = "";
    got->messages++;
    bool batch = zaio_batch_is (zframe_data (first), zframe_size (first));
    if (!batch) {
        assert (zaio_reply_decode (&reply, zframe_data (first), zframe_size (first), why,
                                   sizeof why) == 0);
        zframe_t *data = zmsg_next (msg);
        s_note (got, &reply, data ? zframe_size (data) : 0);
        zmsg_destroy (&msg);
        return false;
    }
    got->batches++;
    uint32_t count;
    int code = zaio_batch_check (zframe_data (first), zframe_size (first), zmsg_size (msg) - 2,
                                 ZAIO_BROKER_BATCH_CEILING, SIZE_MAX, &count, why, sizeof why);
    if (code) fprintf (stderr, "test_broker_batch: bad reply batch: %s\n", why);
    assert (code == 0);
    if (count > got->largest) got->largest = count;
    if (count > 1 && zframe_size (first) > got->largest_frame)
        got->largest_frame = zframe_size (first);
    zaio_batch_cursor_t cursor;
    assert (zaio_batch_cursor_init (&cursor, zframe_data (first), zframe_size (first), count,
                                    &count, why, sizeof why) == 0);
    const uint8_t *header;
    size_t size;
    bool has_data;
    size_t data_bytes = 0;
    while (zaio_batch_cursor_next (&cursor, &header, &size, &has_data, why, sizeof why) == 0) {
        assert (zaio_reply_decode (&reply, header, size, why, sizeof why) == 0);
        zframe_t *data = has_data ? zmsg_next (msg) : NULL;
        assert (!has_data || data);
        s_note (got, &reply, data ? zframe_size (data) : 0);
        data_bytes += data ? zframe_size (data) : 0;
    }
    if (count > 1 && data_bytes > got->largest_data) got->largest_data = data_bytes;
    zmsg_destroy (&msg);
    return true;
}

//  Takes messages until got holds total replies.
static void
s_collect (zsock_t *client, s_replies_t *got, size_t total)
{
    while (got->replies < total) s_take (client, got, S_WAIT_MS);
    assert (got->replies == total);
}

//  Nothing more arrives on sock for a while.
static void
s_quiet (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    void *which = zpoller_wait (poller, S_QUIET_MS);
    zpoller_destroy (&poller);
    assert (which == NULL);
}

//  Id got a reply exactly once, with error.
static void
s_got (const s_replies_t *got, uint64_t id, int error)
{
    if (got->count[id] != 1 || got->error[id] != error) {
        fprintf (stderr, "test_broker_batch: id %" PRIu64 ": %u replies, %s; want one, %s\n", id,
                 got->count[id], got->count[id] ? zaio_error_name (got->error[id]) : "-",
                 error ? zaio_error_name (error) : "ok");
        assert (false);
    }
}

//  ---------------------------------------------------------------------
//  A broker whose volume "slow" hand-driven workers serve

typedef struct {
    zaio_test_broker_t broker;
    char *endpoint; //  the broker's tcp worker endpoint
    zsock_t *worker;
    zsock_t *client;
    uint64_t jobs[S_IDS_MAX + 1]; //  job number by request id, for answering
    s_replies_t *got;
} s_rig_t;

//  config_or_null's bounds, or the defaults; worker offers credit.
static void
s_rig_start (s_rig_t *rig, const zaio_broker_config_t *config_or_null, uint32_t credit)
{
    memset (rig, 0, sizeof *rig);
    zaio_broker_config_t config;
    zaio_test_fake_config (&config);
    if (config_or_null) {
        config.inflight_max = config_or_null->inflight_max;
        config.batch_max = config_or_null->batch_max;
    }
    zaio_test_broker_start (&rig->broker, &config);
    rig->endpoint = zaio_broker_endpoint (rig->broker.broker, "workers", "tcp");
    rig->worker =
        zaio_test_fake_worker (rig->endpoint, "slow", credit, ZAIO_TEST_QUIET_HEARTBEAT_MS);
    rig->client = zaio_test_client (rig->broker.inproc);
    rig->got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    zaio_test_fake_known (rig->broker.inproc, rig->worker, "slow");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zstr_free (&rig->endpoint);
    zsock_destroy (&rig->worker);
    zsock_destroy (&rig->client);
    free (rig->got);
    zaio_test_broker_stop (&rig->broker);
}

//  The worker must now hold exactly the jobs listed (0-terminated), no more.
static void
s_started (s_rig_t *rig, const uint64_t *ids)
{
    size_t count = 0;
    while (ids[count]) count++;
    bool seen[S_IDS_MAX + 1] = {false};
    for (size_t i = 0; i < count; i++) {
        uint64_t job;
        zaio_request_t req;
        zaio_test_fake_take (rig->worker, &job, &req, S_WAIT_MS);
        bool expected = false;
        for (size_t e = 0; e < count; e++) expected |= ids[e] == req.id;
        if (!expected || seen[req.id]) {
            fprintf (stderr, "test_broker_batch: job %" PRIu64 " started out of order\n", req.id);
            assert (false);
        }
        seen[req.id] = true;
        rig->jobs[req.id] = job;
    }
    s_quiet (rig->worker);
}

static void
s_finish (s_rig_t *rig, uint64_t id, int error)
{
    zaio_test_fake_done (rig->worker, rig->jobs[id], id, error);
}

//  The next replies on the rig's client are exactly those listed, with
//  their errors (0-terminated ids), in one or more messages.
static void
s_replied (s_rig_t *rig, const uint64_t *ids, const int *errors)
{
    size_t count = 0;
    while (ids[count]) count++;
    s_replies_t *got = rig->got;
    memset (got, 0, sizeof *got);
    s_collect (rig->client, got, count);
    for (size_t i = 0; i < count; i++) s_got (got, ids[i], errors[i]);
}

//  ---------------------------------------------------------------------
//  Events

//  A subscriber to every event of the broker whose events endpoint is
//  endpoint, subscribed for sure: client pings (ids from 1000) until one
//  ping's event comes (PROTOCOL.md section 8).
static zsock_t *
s_subscriber (const char *endpoint, zsock_t *client)
{
    zsock_t *sub = zsock_new_sub (endpoint, "");
    assert (sub);
    zsock_set_rcvtimeo (sub, 100);
    zaio_request_t req;
    zaio_reply_t reply;
    for (uint64_t id = 1000;; id++) {
        assert (id < 1000 + 200);
        zaio_request_init (&req, ZAIO_OP_PING, id);
        assert (zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL) == 0);
        zmsg_t *msg = zmsg_recv (sub);
        if (msg) {
            zmsg_destroy (&msg);
            break;
        }
    }
    zsock_set_rcvtimeo (sub, S_WAIT_MS);
    return sub;
}

//  The events after the subscription's own pings, up to that of a ping
//  999 client sends now: seen[id] counts each (ids up to 999).
static void
s_events_until_ping (zsock_t *sub, zsock_t *client, uint32_t *seen)
{
    zaio_request_t req;
    zaio_reply_t reply;
    zaio_request_init (&req, ZAIO_OP_PING, 999);
    assert (zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL) == 0);
    zaio_event_t event;
    do {
        zaio_test_next_event (sub, &event, NULL, 0);
        if (event.op == ZAIO_OP_PING && event.id >= 1000) continue;
        assert (event.id <= 999);
        seen[event.id]++;
    } while (event.id != 999);
}

//  ---------------------------------------------------------------------
//  Cases

//  What the broker says in hello.
static void
s_hello (zsock_t *client, zaio_hello_t *hello)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_HELLO, S_IDS_MAX);
    zaio_test_send (client, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, S_WAIT_MS);
    assert (reply.id == S_IDS_MAX && reply.ok);
    assert (zaio_hello_decode (hello, reply.hello, reply.hello_size) == 0);
    zmsg_destroy (&msg);
}

//  hello lists batch and reports its bounds.
static void
s_test_hello (void)
{
    zaio_test_broker_t broker;
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.batch_max = 7;
    config.batch_bytes_max = 4096;
    zaio_test_broker_start (&broker, &config);
    zsock_t *client = zaio_test_client (broker.inproc);
    zaio_hello_t hello;
    s_hello (client, &hello);
    assert (hello.ops & (1u << ZAIO_OP_BATCH));
    assert (hello.batch_max == 7 && hello.batch_bytes_max == 4096);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

//  10,000 mixed requests, split into wire batches of the batch_max hello
//  reports: every id answered once, reads with their bytes, writes done,
//  and the replies batched.
static void
s_test_ten_thousand (void)
{
    zaio_test_broker_t broker;
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 2;
    zaio_test_broker_start (&broker, &config);
    static char content[65536];
    memset (content, 'c', sizeof content);
    zaio_test_write_file (broker.root, "data.bin", content, sizeof content);
    zsock_t *client = zaio_test_client (broker.ipc);
    zaio_hello_t hello;
    s_hello (client, &hello);
    assert (hello.batch_max == ZAIO_BATCH_MAX);
    zaio_request_t req;

    const uint64_t total = 10000;
    uint64_t sent = 0;
    for (uint64_t batch_id = 1; sent < total; batch_id++) {
        zaio_test_batch_t batch;
        zaio_test_batch_init (&batch);
        for (uint64_t n = 0; n < hello.batch_max && sent < total; n++) {
            uint64_t id = ++sent;
            char path[32];
            switch (id % 5) {
                case 0:
                    zaio_request_init (&req, ZAIO_OP_PING, id);
                    zaio_test_batch_add (&batch, &req, NULL, 0);
                    break;
                case 1:
                    zaio_request_init (&req, ZAIO_OP_STAT, id);
                    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "data.bin");
                    zaio_test_batch_add (&batch, &req, NULL, 0);
                    break;
                case 2:
                    zaio_request_init (&req, ZAIO_OP_READ, id);
                    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "data.bin");
                    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, (id * 7) % 60000);
                    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 100);
                    zaio_test_batch_add (&batch, &req, NULL, 0);
                    break;
                case 3:
                    snprintf (path, sizeof path, "w%02d", (int)(id % 20));
                    zaio_request_init (&req, ZAIO_OP_WRITE, id);
                    zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
                    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
                    zaio_test_batch_add (&batch, &req, "0123456789", 10);
                    break;
                default:
                    zaio_request_init (&req, ZAIO_OP_LISTDIR, id);
                    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "");
                    zaio_request_set_uint (&req, ZAIO_FIELD_LIMIT, 3);
                    zaio_test_batch_add (&batch, &req, NULL, 0);
                    break;
            }
        }
        zaio_test_batch_send (&batch, client, batch_id);
    }
    s_replies_t *got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    s_collect (client, got, total);
    for (uint64_t id = 1; id <= total; id++) {
        s_got (got, id, 0);
        if (id % 5 == 2) assert (got->data[id] == 100);
    }
    //  Replies came batched: far fewer messages than replies.
    printf ("%zu replies in %zu messages, %zu of them reply batches\n", got->replies, got->messages,
            got->batches);
    assert (got->batches > 0 && got->messages < total / 2);
    size_t size;
    char *written = zaio_test_read_file (broker.root, "w03", &size);
    assert (written && size == 10 && memcmp (written, "0123456789", 10) == 0);
    free (written);
    s_quiet (client);
    free (got);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

//  Valid and invalid entries in one batch: each invalid one gets its
//  error (with the id the rules give), the rest run, and data frames stay
//  matched to their entries by flag.
static void
s_test_mixed (void)
{
    zaio_test_broker_t broker;
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.payload_max = 4096;
    zaio_test_broker_start (&broker, &config);
    zsock_t *client = zaio_test_client (broker.inproc);
    zsock_t *sub = s_subscriber (broker.events, client);
    zaio_test_batch_t batch;
    zaio_test_batch_init (&batch);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_test_batch_raw (&batch, "\xc1", 1, NULL, 0); //  no msgpack at all: id 0
    zaio_request_init (&req, ZAIO_OP_STAT, 3);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "nofile");
    zaio_test_batch_add (&batch, &req, NULL, 0);
    //  {"id": 4, "op": "ping", "x": 1}: an unknown field
    static const char unknown_field[] = "\x83\xa2id\x04\xa2op\xa4ping\xa1x\x01";
    zaio_test_batch_raw (&batch, unknown_field, sizeof unknown_field - 1, NULL, 0);
    zaio_request_init (&req, ZAIO_OP_WRITE, 5); //  flag false on an op that takes data
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "five");
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_request_init (&req, ZAIO_OP_PING, 6); //  flag true on one that takes none
    zaio_test_batch_add (&batch, &req, "zzz", 3);
    zaio_request_init (&req, ZAIO_OP_HELLO, 7);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_request_init (&req, ZAIO_OP_BATCH, 8);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    //  {"id": 9, "op": "format"}
    static const char unknown_op[] = "\x82\xa2id\x09\xa2op\xa6"
                                     "format";
    zaio_test_batch_raw (&batch, unknown_op, sizeof unknown_op - 1, NULL, 0);
    static char big[5000];
    memset (big, 'b', sizeof big);
    zaio_request_init (&req, ZAIO_OP_WRITE, 10);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "ten");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_test_batch_add (&batch, &req, big, sizeof big);
    zaio_request_init (&req, ZAIO_OP_READ, 11);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "nofile");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 5000);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_request_init (&req, ZAIO_OP_STAT, 12);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "a");
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "nosuch");
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_request_init (&req, ZAIO_OP_WRITE, 13);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "ok.txt");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_test_batch_add (&batch, &req, "hello", 5);
    zaio_test_batch_raw (&batch, big, sizeof big, NULL, 0); //  over header_max: TOOBIG, id 0
    zaio_test_batch_send (&batch, client, 100);

    s_replies_t *got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    s_collect (client, got, 14);
    s_got (got, 1, 0);
    assert (got->count[0] == 2); //  the undecodable entry and the one over header_max
    s_got (got, 3, ENOENT);
    s_got (got, 4, ZAIO_ERR_MALFORMED);
    s_got (got, 5, ZAIO_ERR_MALFORMED);
    s_got (got, 6, ZAIO_ERR_MALFORMED);
    s_got (got, 7, ZAIO_ERR_MALFORMED);
    s_got (got, 8, ZAIO_ERR_MALFORMED);
    s_got (got, 9, ZAIO_ERR_UNKNOWN_OP);
    s_got (got, 10, ZAIO_ERR_TOOBIG);
    s_got (got, 11, ZAIO_ERR_TOOBIG);
    s_got (got, 12, ZAIO_ERR_NOVOLUME);
    s_got (got, 13, 0);
    assert (got->count[100] == 0); //  the batch itself gets no reply
    s_quiet (client);
    size_t size;
    char *written = zaio_test_read_file (broker.root, "ok.txt", &size);
    assert (written && size == 5 && memcmp (written, "hello", 5) == 0);
    free (written);
    assert (!zaio_test_read_file (broker.root, "five", &size));
    //  An event for each entry whose header decoded, as for single requests.
    uint32_t seen[1000] = {0};
    s_events_until_ping (sub, client, seen);
    for (int id = 0; id < 999; id++)
        assert (seen[id] == (id == 1 || id == 3 || id == 12 || id == 13));
    zsock_destroy (&sub);
    free (got);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

//  A batch that breaks a whole-batch rule gets one single reply with its
//  own id, runs no entry, answers none and publishes no event.
static void
s_test_refused (void)
{
    zaio_test_broker_t broker;
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.batch_max = 4;
    config.batch_bytes_max = 256;
    zaio_test_broker_start (&broker, &config);
    zsock_t *client = zaio_test_client (broker.inproc);
    zsock_t *sub = s_subscriber (broker.events, client);
    zaio_request_t req;

    zframe_t *write_header;
    zaio_request_init (&req, ZAIO_OP_WRITE, 1);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "refused");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    write_header = zaio_request_encode (&req);
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    //  [[write, true]] and its data: the entry every refused batch carries
    zaio_batch_writer_add (&writer, zframe_data (write_header), zframe_size (write_header), true);
    zframe_t *one = zaio_batch_writer_frame (&writer);
    for (int i = 0; i < 5; i++)
        zaio_batch_writer_add (&writer, zframe_data (write_header), zframe_size (write_header),
                               true);
    zframe_t *five = zaio_batch_writer_frame (&writer); //  over batch_max
    static char padding[300];
    memset (padding, 'p', sizeof padding);
    zaio_batch_writer_add (&writer, padding, sizeof padding, false);
    zframe_t *long_entries = zaio_batch_writer_frame (&writer); //  over batch_bytes_max
    zaio_batch_writer_release (&writer);

    static const struct {
        const char *header;  //  hex; NULL: {"id": 200 + i, "op": "batch"}
        const char *entries; //  hex; NULL: one, FIVE or LONG below
        int which;           //  0 one, 1 five, 2 long
        int data_frames;
        int error;
    } cases[] = {
        {"83a26964ccc8a26f70a56261746368a36b6579a16b", NULL, 0, 1, ZAIO_ERR_MALFORMED}, //  + key
        {NULL, "81a16101", 0, 1, ZAIO_ERR_MALFORMED},                                   //  a map
        {NULL, "90", 0, 1, ZAIO_ERR_MALFORMED},                                         //  empty
        {NULL, "9191c40180", 0, 1, ZAIO_ERR_MALFORMED}, //  not a pair
        {NULL, NULL, 0, 0, ZAIO_ERR_MALFORMED},         //  data missing
        {NULL, NULL, 0, 2, ZAIO_ERR_MALFORMED},         //  data extra
        {NULL, NULL, 1, 5, ZAIO_ERR_TOOBIG},            //  5 > 4
        {NULL, NULL, 2, 0, ZAIO_ERR_TOOBIG},            //  > 256 bytes
        {NULL, "", -1, 0, ZAIO_ERR_MALFORMED},          //  no entries
    };
    zframe_t *entries_of[] = {one, five, long_entries};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t id = 200 + i;
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, ZAIO_SIGNATURE);
        if (cases[i].header) {
            //  {"id": 200, "op": "batch", "key": "k"}: ids 200 in this one
            zframe_t *header = zframe_new (NULL, strlen (cases[i].header) / 2);
            for (size_t b = 0; b < zframe_size (header); b++)
                sscanf (cases[i].header + 2 * b, "%2hhx", zframe_data (header) + b);
            zmsg_append (msg, &header);
            id = 200;
        } else {
            zaio_request_init (&req, ZAIO_OP_BATCH, id);
            zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
        }
        if (cases[i].which < 0)
            ; //  the entries frame missing
        else if (cases[i].entries) {
            zframe_t *entries = zframe_new (NULL, strlen (cases[i].entries) / 2);
            for (size_t b = 0; b < zframe_size (entries); b++)
                sscanf (cases[i].entries + 2 * b, "%2hhx", zframe_data (entries) + b);
            zmsg_append (msg, &entries);
        } else
            zmsg_append (msg, &(zframe_t *){zframe_dup (entries_of[cases[i].which])});
        for (int d = 0; d < cases[i].data_frames; d++) zmsg_addstr (msg, "data");
        assert (zmsg_send (&msg, client) == 0);
        zaio_test_expect (client, id, cases[i].error); //  a single reply
    }
    //  Nothing ran, nothing else came, and the next event is this ping's.
    uint32_t seen[1000] = {0};
    s_events_until_ping (sub, client, seen);
    for (int id = 0; id < 999; id++) assert (seen[id] == 0);
    size_t size;
    assert (!zaio_test_read_file (broker.root, "refused", &size));
    s_quiet (client);
    zframe_destroy (&one);
    zframe_destroy (&five);
    zframe_destroy (&long_entries);
    zframe_destroy (&write_header);
    zsock_destroy (&sub);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

//  key, barrier, link and deadline inside batches, and across batches and
//  single requests: the entries are consecutive requests.
static void
s_test_ordering (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig, NULL, 64);
    zaio_request_t req;
    zaio_test_batch_t batch;
    //  Keys inside a batch; a single request after it with the key waits too.
    zaio_test_batch_init (&batch);
    s_order_request (&req, 1, "slow", "k", false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 2, "slow", "k", false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 3, "slow", NULL, false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_test_batch_send (&batch, rig->client, 100);
    s_order_request (&req, 4, "slow", "k", false, false);
    zaio_test_send (rig->client, &req, NULL, 0);
    s_started (rig, (uint64_t[]){1, 3, 0});
    s_finish (rig, 1, 0);
    s_replied (rig, (uint64_t[]){1, 0}, (int[]){0});
    s_started (rig, (uint64_t[]){2, 0});
    //  A barrier in the next batch waits for 2, 3 and 4, and holds 6.
    zaio_test_batch_init (&batch);
    s_order_request (&req, 5, "slow", NULL, true, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 6, "slow", NULL, false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_test_batch_send (&batch, rig->client, 101);
    s_started (rig, (uint64_t[]){0});
    s_finish (rig, 2, 0);
    s_finish (rig, 3, 0);
    s_replied (rig, (uint64_t[]){2, 3, 0}, (int[]){0, 0});
    s_started (rig, (uint64_t[]){4, 0});
    s_finish (rig, 4, 0);
    s_replied (rig, (uint64_t[]){4, 0}, (int[]){0});
    s_started (rig, (uint64_t[]){5, 0});
    s_finish (rig, 5, 0);
    s_replied (rig, (uint64_t[]){5, 0}, (int[]){0});
    s_started (rig, (uint64_t[]){6, 0});
    s_finish (rig, 6, 0);
    s_replied (rig, (uint64_t[]){6, 0}, (int[]){0});
    //  A link inside a batch cancels the next entry when it fails, and a
    //  link at a batch's end holds the next single request.
    zaio_test_batch_init (&batch);
    s_order_request (&req, 7, "slow", NULL, false, true);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 8, "slow", NULL, false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 9, "slow", NULL, false, true);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_test_batch_send (&batch, rig->client, 102);
    s_started (rig, (uint64_t[]){7, 9, 0});
    s_finish (rig, 7, EIO);
    s_replied (rig, (uint64_t[]){7, 8, 0}, (int[]){EIO, ECANCELED});
    s_order_request (&req, 10, "slow", NULL, false, false);
    zaio_test_send (rig->client, &req, NULL, 0);
    s_started (rig, (uint64_t[]){0});
    s_finish (rig, 9, 0);
    s_replied (rig, (uint64_t[]){9, 0}, (int[]){0});
    s_started (rig, (uint64_t[]){10, 0});
    s_finish (rig, 10, 0);
    zaio_test_expect (rig->client, 10, 0); //  a single request's reply stays single
    //  A deadline counts from the batch's arrival, even held behind a key.
    zaio_test_batch_init (&batch);
    s_order_request (&req, 11, "slow", "d", false, false);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 12, "slow", "d", false, false);
    zaio_request_set_uint (&req, ZAIO_FIELD_DEADLINE, 100);
    zaio_test_batch_add (&batch, &req, NULL, 0);
    zaio_test_batch_send (&batch, rig->client, 103);
    s_started (rig, (uint64_t[]){11, 0});
    s_replied (rig, (uint64_t[]){12, 0}, (int[]){ETIMEDOUT}); //  11 still runs
    s_finish (rig, 11, 0);
    s_replied (rig, (uint64_t[]){11, 0}, (int[]){0});
    s_quiet (rig->client);
    s_rig_stop (rig);
}

//  A batch over inflight_max: the entries past the bound are answered
//  QUEUE_FULL at once, the others run.
static void
s_test_inflight (void)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.inflight_max = 5;
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig, &config, 64);
    zaio_test_batch_t batch;
    zaio_test_batch_init (&batch);
    zaio_request_t req;
    for (uint64_t id = 1; id <= 8; id++) {
        s_order_request (&req, id, "slow", NULL, false, false);
        zaio_test_batch_add (&batch, &req, NULL, 0);
    }
    zaio_test_batch_send (&batch, rig->client, 100);
    s_replied (rig, (uint64_t[]){6, 7, 8, 0},
               (int[]){ZAIO_ERR_QUEUE_FULL, ZAIO_ERR_QUEUE_FULL, ZAIO_ERR_QUEUE_FULL});
    s_started (rig, (uint64_t[]){1, 2, 3, 4, 5, 0});
    for (uint64_t id = 1; id <= 5; id++) s_finish (rig, id, 0);
    s_replied (rig, (uint64_t[]){1, 2, 3, 4, 5, 0}, (int[]){0, 0, 0, 0, 0});
    s_rig_stop (rig);
}

//  The replies to one batch come back in several reply batches, as they
//  complete: an entry held behind a slow one does not hold the fast ones.
static void
s_test_split_replies (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig, NULL, 64);
    zaio_test_batch_t batch;
    zaio_test_batch_init (&batch);
    zaio_request_t req;
    s_order_request (&req, 1, "slow", "k", false, false); //  slow
    zaio_test_batch_add (&batch, &req, NULL, 0);
    s_order_request (&req, 2, "slow", "k", false, false); //  held behind it
    zaio_test_batch_add (&batch, &req, NULL, 0);
    for (uint64_t id = 3; id <= 5; id++) {
        s_order_request (&req, id, "slow", NULL, false, false);
        zaio_test_batch_add (&batch, &req, NULL, 0);
    }
    zaio_test_batch_send (&batch, rig->client, 100);
    s_started (rig, (uint64_t[]){1, 3, 4, 5, 0});
    s_finish (rig, 3, 0);
    s_finish (rig, 4, 0);
    s_finish (rig, 5, 0);
    s_replied (rig, (uint64_t[]){3, 4, 5, 0}, (int[]){0, 0, 0});
    assert (rig->got->batches == rig->got->messages); //  batched, not single
    s_quiet (rig->client);
    s_finish (rig, 1, 0);
    s_replied (rig, (uint64_t[]){1, 0}, (int[]){0});
    s_started (rig, (uint64_t[]){2, 0});
    s_finish (rig, 2, 0);
    s_replied (rig, (uint64_t[]){2, 0}, (int[]){0});
    s_rig_stop (rig);
}

//  A worker is lost with a batch's entries in flight: the idempotent ones
//  are retried on another worker, the others answered UNKNOWN_OUTCOME.
static void
s_test_worker_lost (void)
{
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig, NULL, 1);
    //  The rig's worker is kept busy with a job of another client, so the
    //  batch goes to the worker that will be lost.
    zsock_t *other = zaio_test_client (rig->broker.inproc);
    zaio_request_t req;
    s_order_request (&req, 50, "slow", NULL, false, false);
    zaio_test_send (other, &req, NULL, 0);
    s_started (rig, (uint64_t[]){50, 0});
    //  Announces a 1 s heartbeat, sends none: lost 3 s after its last word.
    zsock_t *lost = zaio_test_fake_worker (rig->endpoint, "slow", 6, 1000);
    zaio_test_fake_known (rig->broker.inproc, lost, "slow");
    zaio_test_batch_t batch;
    zaio_test_batch_init (&batch);
    for (uint64_t id = 1; id <= 6; id++) {
        if (id % 2) {
            zaio_request_init (&req, ZAIO_OP_STAT, id); //  idempotent
            zaio_request_set_str (&req, ZAIO_FIELD_PATH, "a");
            zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
            zaio_test_batch_add (&batch, &req, NULL, 0);
        } else {
            zaio_request_init (&req, ZAIO_OP_WRITE, id);
            zaio_request_set_str (&req, ZAIO_FIELD_PATH, "a");
            zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "slow");
            zaio_test_batch_add (&batch, &req, "x", 1);
        }
    }
    zaio_test_batch_send (&batch, rig->client, 100);
    for (int i = 0; i < 6; i++) {
        uint64_t job;
        zaio_test_fake_take (lost, &job, &req, S_WAIT_MS);
    }
    //  The rig's worker frees its credit; the lost one goes silent.
    s_finish (rig, 50, 0);
    zaio_test_expect (other, 50, 0);
    s_replies_t *got = rig->got;
    memset (got, 0, sizeof *got);
    for (int retried = 0; retried < 3; retried++) {
        uint64_t job;
        zaio_test_fake_take (rig->worker, &job, &req, S_WAIT_MS);
        assert (req.id % 2 == 1 && req.op == ZAIO_OP_STAT);
        zaio_test_fake_done (rig->worker, job, req.id, 0);
    }
    s_collect (rig->client, got, 6);
    for (uint64_t id = 1; id <= 6; id++) s_got (got, id, id % 2 ? 0 : ZAIO_ERR_UNKNOWN_OUTCOME);
    s_quiet (rig->client);
    zsock_destroy (&lost);
    zsock_destroy (&other);
    s_rig_stop (rig);
}

//  A client that does not read: its reply batches are held (whole, the
//  broker's send queue and the client's holding 4 + 2 messages), its
//  entries wait unstarted meanwhile, and once it reads, every entry is
//  answered once.
static void
s_test_held (void)
{
    zaio_test_broker_t broker;
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.reply_hwm = 4;
    zaio_test_broker_start (&broker, &config);
    zsock_t *client = zsock_new (ZMQ_DEALER);
    assert (client);
    zsock_set_linger (client, 0);
    zsock_set_rcvhwm (client, 2);
    assert (zsock_connect (client, "%s", broker.inproc) == 0);
    zsock_t *bob = zaio_test_client (broker.inproc);
    const uint64_t batches = 40, entries = 5;
    zaio_request_t req;
    for (uint64_t b = 0; b < batches; b++) {
        zaio_test_batch_t batch;
        zaio_test_batch_init (&batch);
        for (uint64_t e = 1; e <= entries; e++) {
            zaio_request_init (&req, ZAIO_OP_PING, b * entries + e);
            zaio_test_batch_add (&batch, &req, NULL, 0);
        }
        zaio_test_batch_send (&batch, client, 1000 + b);
        //  Bob's requests pass the client's held replies: each answered
        //  once the broker has taken in the batch before it.
        zaio_reply_t reply;
        zaio_request_init (&req, ZAIO_OP_PING, 5000 + b);
        assert (zaio_test_call (bob, &req, NULL, 0, &reply, NULL, NULL) == 0);
    }
    s_replies_t *got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    s_collect (client, got, batches * entries);
    for (uint64_t id = 1; id <= batches * entries; id++) s_got (got, id, 0);
    printf ("%zu replies in %zu reply batches\n", got->replies, got->batches);
    assert (got->batches == got->messages);
    s_quiet (client);
    free (got);
    zsock_destroy (&bob);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

//  Reply batches keep to batch_max replies and batch_bytes_max bytes of
//  entries; a reply larger than that alone (a long listdir) goes in a
//  reply batch of its own.
static void
s_test_reply_bounds (void)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.batch_max = 4;
    s_rig_t the_rig, *rig = &the_rig;
    s_rig_start (rig, &config, 64);
    //  Twelve pings the worker answers back to back: the broker takes the
    //  answers in as few passes as it can, in reply batches of 4 at most.
    zaio_request_t req;
    for (uint64_t first = 1; first <= 12; first += 4) {
        zaio_test_batch_t batch;
        zaio_test_batch_init (&batch);
        for (uint64_t id = first; id < first + 4; id++) {
            s_order_request (&req, id, "slow", NULL, false, false);
            zaio_test_batch_add (&batch, &req, NULL, 0);
        }
        zaio_test_batch_send (&batch, rig->client, 100 + first);
    }
    s_started (rig, (uint64_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0});
    for (uint64_t id = 1; id <= 12; id++) s_finish (rig, id, 0);
    s_replied (rig, (uint64_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0},
               (int[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    printf ("12 replies in %zu reply batches, at most %u in one\n", rig->got->batches,
            rig->got->largest);
    assert (rig->got->largest <= 4 && rig->got->batches >= 3);
    s_rig_stop (rig);

    //  Bytes: listdir replies of about 1.5 KiB against batch_bytes_max 200.
    zaio_test_broker_t broker;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.batch_bytes_max = 200;
    zaio_test_broker_start (&broker, &config);
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf (name, sizeof name, "file-with-a-longish-name-%02d", i);
        zaio_test_write_file (broker.root, name, "x", 1);
    }
    zsock_t *client = zaio_test_client (broker.inproc);
    //  In request batches of 5: the same bound applies to them.
    for (uint64_t first = 1; first <= 20; first += 5) {
        zaio_test_batch_t batch;
        zaio_test_batch_init (&batch);
        for (uint64_t id = first; id < first + 5; id++) {
            if (id % 10 == 0) {
                zaio_request_init (&req, ZAIO_OP_LISTDIR, id);
                zaio_request_set_str (&req, ZAIO_FIELD_PATH, "");
            } else
                zaio_request_init (&req, ZAIO_OP_PING, id);
            zaio_test_batch_add (&batch, &req, NULL, 0);
        }
        zaio_test_batch_send (&batch, client, 100 + first);
    }
    s_replies_t *got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    s_collect (client, got, 20);
    for (uint64_t id = 1; id <= 20; id++) s_got (got, id, 0);
    printf ("20 replies in %zu reply batches, the largest of several %zu bytes\n", got->batches,
            got->largest_frame);
    assert (got->largest_frame <= 200);
    free (got);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);

    //  Data: reads of 4000 bytes against payload_max 10000, two a batch.
    zaio_broker_config_defaults (&config);
    config.workers = 2;
    config.payload_max = 10000;
    zaio_test_broker_start (&broker, &config);
    static char content[4000 * 24];
    memset (content, 'd', sizeof content);
    zaio_test_write_file (broker.root, "data.bin", content, sizeof content);
    client = zaio_test_client (broker.inproc);
    zaio_test_batch_t batch;
    zaio_test_batch_init (&batch);
    for (uint64_t id = 1; id <= 24; id++) {
        zaio_request_init (&req, ZAIO_OP_READ, id);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "data.bin");
        zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, (id - 1) * 4000);
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 4000);
        zaio_test_batch_add (&batch, &req, NULL, 0);
    }
    zaio_test_batch_send (&batch, client, 100);
    got = (s_replies_t *)zmalloc (sizeof (s_replies_t));
    s_collect (client, got, 24);
    for (uint64_t id = 1; id <= 24; id++) {
        s_got (got, id, 0);
        assert (got->data[id] == 4000);
    }
    printf ("24 reads in %zu reply batches, the most data in one %zu bytes\n", got->batches,
            got->largest_data);
    assert (got->largest_data <= 10000);
    free (got);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_hello),         ZAIO_TEST_CASE (s_test_ten_thousand),
        ZAIO_TEST_CASE (s_test_mixed),         ZAIO_TEST_CASE (s_test_refused),
        ZAIO_TEST_CASE (s_test_ordering),      ZAIO_TEST_CASE (s_test_inflight),
        ZAIO_TEST_CASE (s_test_split_replies), ZAIO_TEST_CASE (s_test_worker_lost),
        ZAIO_TEST_CASE (s_test_held),          ZAIO_TEST_CASE (s_test_reply_bounds),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
