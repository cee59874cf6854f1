/*  test_broker_stats: the stats op (PROTOCOL.md section 5.3) over sockets.

    Known jobs show in their rows (op x outcome x volume) and latencies;
    refusals count under their error, a request that does not decode under
    op ""; a flood of unknown volume names stays in one row; the request's
    own rules (top, fields, batches) are enforced; and over CURVE only an
    identity allowed to watch every volume may ask (EACCES otherwise).
*/

#include "testutil.h"

#include <string.h>
#include <sys/stat.h>

//  True if the map at cursor, and every map inside it, has its keys in
//  the canonical order (PROTOCOL.md section 3.3): first, if given, then
//  ascending bytewise. Consumes the map.
static bool
s_canonical_map (zaio_cursor_t *cursor, const char *const *first, size_t first_count)
{
    uint32_t count;
    assert (zaio_cursor_map (cursor, &count) == 0);
    const char *last = NULL;
    uint32_t last_len = 0;
    bool canonical = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *key;
        uint32_t len;
        assert (zaio_cursor_str (cursor, &key, &len) == 0);
        if (i < first_count)
            canonical &= strlen (first[i]) == len && memcmp (key, first[i], len) == 0;
        else if (last) {
            int order = memcmp (last, key, last_len < len ? last_len : len);
            canonical &= order < 0 || (order == 0 && last_len < len);
        }
        if (i >= first_count) last = key, last_len = len;
        zaio_mp_type_t type = zaio_cursor_peek (cursor);
        if (type == ZAIO_MP_MAP)
            canonical &= s_canonical_map (cursor, NULL, 0);
        else if (type == ZAIO_MP_ARRAY) {
            uint32_t items;
            assert (zaio_cursor_array (cursor, &items) == 0);
            for (uint32_t k = 0; k < items; k++)
                if (zaio_cursor_peek (cursor) == ZAIO_MP_MAP)
                    canonical &= s_canonical_map (cursor, NULL, 0);
                else
                    assert (zaio_cursor_skip (cursor, 2) == 0);
        } else
            assert (zaio_cursor_skip (cursor, 1) == 0);
    }
    return canonical;
}

//  Sends stats (top clients: top, unless 0) as request id on client and
//  returns the decoded report (caller destroys).
static zaio_stats_report_t *
s_stats (zsock_t *client, uint64_t id, uint32_t top)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, id);
    if (top) zaio_request_set_uint (&req, ZAIO_FIELD_TOP, top);
    zaio_test_send (client, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (client, &reply, &msg, 5000);
    assert (reply.id == id && reply.ok);
    zaio_stats_report_t *report;
    assert (zaio_stats_report_decode (&report, reply.hello, reply.hello_size) == 0);
    //  Keys in the canonical order, nested maps too.
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, reply.hello, reply.hello_size);
    const char *first[] = {"id", "ok"};
    assert (s_canonical_map (&cursor, first, 2) && zaio_cursor_done (&cursor));
    zmsg_destroy (&msg);
    return report;
}

//  The row of op x outcome x volume, NULL if the report has none.
static const zaio_stats_report_row_t *
s_row (const zaio_stats_report_t *report, const char *op, const char *outcome, const char *volume)
{
    for (size_t i = 0; i < report->row_count; i++) {
        const zaio_stats_report_row_t *row = &report->rows[i];
        if (streq (row->op, op) && streq (row->outcome, outcome) && streq (row->volume, volume))
            return row;
    }
    return NULL;
}

static uint64_t
s_jobs (const zaio_stats_report_t *report, const char *op, const char *outcome, const char *volume)
{
    const zaio_stats_report_row_t *row = s_row (report, op, outcome, volume);
    return row ? row->jobs : 0;
}

static const zaio_stats_report_latency_t *
s_latency (const zaio_stats_report_t *report, const char *op)
{
    for (size_t i = 0; i < report->latency_count; i++)
        if (streq (report->latency[i].op, op)) return &report->latency[i];
    return NULL;
}

//  Sends req (data: size bytes, or NULL) and expects error (0: ok).
static void
s_expect (zsock_t *client, zaio_request_t *req, const char *data, size_t size, int error)
{
    zaio_test_send (client, req, data, size);
    zaio_test_expect (client, req->id, error);
}

//  After writefiles, a readfile, a stat of a missing file and pings, the
//  rows count them with their bytes, the latencies their jobs, the gauges
//  are at rest, the default volume and its workers show, and the client
//  is the busiest.
static void
s_test_counts_known_jobs (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    zsock_t *client = zaio_test_client (rig.inproc);
    zaio_stats_report_t *before = s_stats (client, 1, 0);
    zaio_request_t req;
    for (uint64_t id = 10; id < 13; id++) {
        zaio_request_init (&req, ZAIO_OP_WRITEFILE, id);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, "a.txt");
        s_expect (client, &req, "hello", 5, 0);
    }
    zaio_request_init (&req, ZAIO_OP_READFILE, 20);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "a.txt");
    s_expect (client, &req, NULL, 0, 0);
    zaio_request_init (&req, ZAIO_OP_STAT, 21);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "missing");
    s_expect (client, &req, NULL, 0, ENOENT);
    zaio_stats_report_t *report = s_stats (client, 2, 0);

    assert (streq (report->version, ZAIO_VERSION_STRING));
    assert (report->uptime_ms >= before->uptime_ms && report->time_ns >= before->time_ns);
    assert (report->time_ns > 1700000000ll * 1000000000ll);
    const zaio_stats_report_row_t *row = s_row (report, "writefile", "ok", "default");
    assert (row && row->jobs == 3 && row->bytes == 15);
    row = s_row (report, "readfile", "ok", "default");
    assert (row && row->jobs == 1 && row->bytes == 5);
    assert (s_jobs (report, "stat", "ENOENT", "default") == 1);
    //  stats and hello are answered by the broker, under volume "".
    assert (s_jobs (report, "stats", "ok", "") == 2);
    assert (s_jobs (before, "stats", "ok", "") == 1);
    const zaio_stats_report_latency_t *latency = s_latency (report, "writefile");
    assert (latency && latency->count == 3);
    uint64_t in_buckets = 0;
    for (int i = 0; i < ZAIO_STATS_REPORT_BUCKETS; i++) in_buckets += latency->service[i];
    assert (in_buckets == 3 && latency->service_sum_us > 0);
    assert (!s_latency (report, "stats")); //  no worker ran it
    assert (report->bound_count == ZAIO_STATS_REPORT_BOUNDS);
    for (int i = 0; i < ZAIO_STATS_REPORT_BOUNDS; i++) assert (report->bounds_us[i] == 1ull << i);

    assert (report->inflight == 0 && report->queued == 0 && report->running == 0);
    assert (report->held_replies == 0 && report->held_bytes == 0);
    assert (report->workers >= 1 && report->worker_count == report->workers);
    assert (report->volume_count == 1 && streq (report->volumes[0].name, "default"));
    assert (report->volumes[0].workers == report->workers);
    assert (report->volumes[0].credit == report->volumes[0].capacity);
    uint64_t done = 0;
    for (size_t i = 0; i < report->worker_count; i++) {
        assert (streq (report->worker_list[i].volumes, "default"));
        assert (!report->worker_list[i].remote);
        done += report->worker_list[i].jobs;
    }
    assert (done >= 5); //  the jobs above, and the readiness pings before them
    //  This client: two stats, three writefiles, a readfile, a stat.
    bool found = false;
    for (size_t i = 0; i < report->client_count; i++)
        found |= report->clients_top[i].jobs == 7 && report->clients_top[i].errors == 1;
    assert (found);
    zaio_stats_report_destroy (&report);
    zaio_stats_report_destroy (&before);
    zsock_destroy (&client);
    zaio_test_broker_stop (&rig);
}

//  Refusals count under their error: NOVOLUME under volume "", a
//  read-only volume's EACCES... and a request that does not decode under
//  op "" (MALFORMED); the client's errors add up.
static void
s_test_counts_errors (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    zsock_t *client = zaio_test_client (rig.inproc);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STAT, 1);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "x");
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "nosuch");
    s_expect (client, &req, NULL, 0, ZAIO_ERR_NOVOLUME);
    zmsg_t *bad = zmsg_new ();
    zmsg_addstr (bad, ZAIO_SIGNATURE);
    zmsg_addstr (bad, "not msgpack at all");
    zmsg_send (&bad, client);
    zaio_test_expect (client, 0, ZAIO_ERR_MALFORMED);
    zaio_request_init (&req, ZAIO_OP_READ, 2); //  no length
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "x");
    zframe_t *header = zaio_request_encode (&req);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &header);
    zmsg_send (&msg, client);
    zaio_test_expect (client, 2, ZAIO_ERR_MALFORMED);

    zaio_stats_report_t *report = s_stats (client, 3, 0);
    assert (s_jobs (report, "stat", "NOVOLUME", "") == 1);
    assert (!s_row (report, "stat", "NOVOLUME", "nosuch"));
    assert (s_jobs (report, "", "MALFORMED", "") == 2);
    assert (report->clients_top[0].errors == 3);
    zaio_stats_report_destroy (&report);
    zsock_destroy (&client);
    zaio_test_broker_stop (&rig);
}

//  Thousands of requests for volumes nobody serves, each with a name of
//  its own, stay in one row; the top table and the rows stay small.
static void
s_test_unknown_volume_flood_bounded (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    zsock_t *client = zaio_test_client (rig.inproc);
    const int flood = 5000;
    for (int i = 0; i < flood; i++) {
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_PING, (uint64_t)i + 1);
        char volume[32];
        snprintf (volume, sizeof volume, "flood-%d", i);
        zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
        zaio_test_send (client, &req, NULL, 0);
        if (i % 64 == 63 || i == flood - 1) //  read as we go: the replies fit the queue
            for (int k = i - (i % 64); k <= i; k++) {
                zaio_reply_t reply;
                zmsg_t *msg;
                zaio_test_recv (client, &reply, &msg, 5000);
                assert (!reply.ok && reply.error == ZAIO_ERR_NOVOLUME);
                zmsg_destroy (&msg);
            }
    }
    zaio_stats_report_t *report = s_stats (client, 1, 0);
    assert (s_jobs (report, "ping", "NOVOLUME", "") == (uint64_t)flood);
    assert (report->row_count < 10);
    for (size_t i = 0; i < report->row_count; i++)
        assert (strncmp (report->rows[i].volume, "flood-", 6) != 0);
    assert (report->volume_count == 1);
    zaio_stats_report_destroy (&report);
    zsock_destroy (&client);
    zaio_test_broker_stop (&rig);
}

//  stats takes `top` (1..100, default 10) and nothing else, and is never
//  a batch entry.
static void
s_test_request_rules (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    //  Twelve clients, so that top has more than it lists.
    zsock_t *clients[12];
    for (int i = 0; i < 12; i++) {
        clients[i] = zaio_test_client (rig.inproc);
        for (int k = 0; k <= i; k++) {
            zaio_request_t req;
            zaio_request_init (&req, ZAIO_OP_PING, (uint64_t)k + 1);
            s_expect (clients[i], &req, NULL, 0, 0);
        }
    }
    zsock_t *client = clients[0];
    zaio_stats_report_t *report = s_stats (client, 1, 0);
    assert (report->client_count == ZAIO_STATS_TOP_DEFAULT);
    assert (report->clients_top[0].jobs == 12 && report->clients_top[1].jobs == 11);
    zaio_stats_report_destroy (&report);
    report = s_stats (client, 2, 3);
    assert (report->client_count == 3);
    zaio_stats_report_destroy (&report);
    report = s_stats (client, 3, ZAIO_STATS_TOP_MAX);
    //  And the client zaio_test_broker_start pinged from.
    assert (report->client_count == 13);
    zaio_stats_report_destroy (&report);

    //  top over the maximum: TOOBIG; of the wrong type, or a volume, or
    //  a path: MALFORMED.
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    //  {"id": 4, "op": "stats", "top": 101}
    zmsg_addmem (msg, "\x83\xa2id\x04\xa2op\xa5stats\xa3top\x65", 19);
    zmsg_send (&msg, client);
    zaio_test_expect (client, 4, ZAIO_ERR_TOOBIG);
    msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    //  {"id": 5, "op": "stats", "top": "10"}
    zmsg_addmem (msg,
                 "\x83\xa2id\x05\xa2op\xa5stats\xa3top\xa2"
                 "10",
                 21);
    zmsg_send (&msg, client);
    zaio_test_expect (client, 5, ZAIO_ERR_MALFORMED);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, 6);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, "default");
    s_expect (client, &req, NULL, 0, ZAIO_ERR_MALFORMED);
    zaio_request_init (&req, ZAIO_OP_STATS, 7);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "x");
    s_expect (client, &req, NULL, 0, ZAIO_ERR_MALFORMED);

    //  In a batch: that entry alone is MALFORMED; the ping beside it runs.
    zaio_batch_writer_t writer;
    zaio_batch_writer_init (&writer);
    zaio_request_init (&req, ZAIO_OP_STATS, 8);
    zframe_t *entry = zaio_request_encode (&req);
    assert (zaio_batch_writer_add (&writer, zframe_data (entry), zframe_size (entry), false) == 0);
    zframe_destroy (&entry);
    zaio_request_init (&req, ZAIO_OP_PING, 9);
    entry = zaio_request_encode (&req);
    assert (zaio_batch_writer_add (&writer, zframe_data (entry), zframe_size (entry), false) == 0);
    zframe_destroy (&entry);
    zaio_request_init (&req, ZAIO_OP_BATCH, 100);
    msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zframe_t *head = zaio_request_encode (&req);
    zmsg_append (msg, &head);
    zframe_t *entries = zaio_batch_writer_frame (&writer);
    zmsg_append (msg, &entries);
    zmsg_send (&msg, client);
    zaio_batch_writer_release (&writer);
    //  The two replies come in one reply batch, or in two.
    int seen = 0;
    while (seen < 2) {
        zmsg_t *reply = zmsg_recv (client);
        assert (reply && zmsg_size (reply) == 2);
        zmsg_first (reply);
        zframe_t *frame = zmsg_next (reply);
        zaio_batch_cursor_t cursor;
        uint32_t count;
        char why[128];
        assert (zaio_batch_cursor_init (&cursor, zframe_data (frame), zframe_size (frame), 16,
                                        &count, why, sizeof why) == 0);
        const uint8_t *bytes;
        size_t size;
        bool has_data;
        while (zaio_batch_cursor_next (&cursor, &bytes, &size, &has_data, why, sizeof why) == 0) {
            zaio_reply_t decoded;
            assert (zaio_reply_decode (&decoded, bytes, size, why, sizeof why) == 0);
            if (decoded.id == 8)
                assert (!decoded.ok && decoded.error == ZAIO_ERR_MALFORMED);
            else
                assert (decoded.id == 9 && decoded.ok);
            seen++;
        }
        zmsg_destroy (&reply);
    }
    for (int i = 0; i < 12; i++) zsock_destroy (&clients[i]);
    zaio_test_broker_stop (&rig);
}

//  Over CURVE with grants: an identity whose entry lacks `monitor` is
//  refused EACCES (and counted); one with it, and one without an entry
//  (the right to everything), get the report, which names identities.
static void
s_test_monitor_grant (void)
{
    char *dir = zaio_test_tempdir ("stats-certs");
    char *clients_dir = zsys_sprintf ("%s/clients", dir);
    assert (mkdir (clients_dir, 0700) == 0);
    zcert_t *server = zaio_test_cert (dir, NULL, "broker");
    zcert_t *reader = zaio_test_cert (dir, "clients", "reader");
    zcert_t *dash = zaio_test_cert (dir, "clients", "dash");
    zcert_t *admin = zaio_test_cert (dir, "clients", "admin");
    zconfig_t *grants = zconfig_str_load ("grants\n"
                                          "    client\n"
                                          "        reader\n"
                                          "            volumes\n"
                                          "                default = rw\n"
                                          "        dash\n"
                                          "            monitor = 1\n");
    char *curve_cert = zsys_sprintf ("%s/broker", dir);
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.curve_cert = curve_cert;
    config.client_certs = clients_dir;
    config.grants = zconfig_locate (grants, "grants");
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, &config);

    zsock_t *as_reader = zaio_test_curve_socket (ZMQ_DEALER, server, reader);
    assert (zsock_connect (as_reader, "%s", rig.tcp) == 0);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    s_expect (as_reader, &req, NULL, 0, 0);
    zaio_request_init (&req, ZAIO_OP_STATS, 2);
    zaio_test_send (as_reader, &req, NULL, 0);
    zaio_reply_t reply;
    zmsg_t *msg;
    zaio_test_recv (as_reader, &reply, &msg, 5000);
    assert (reply.id == 2 && !reply.ok && reply.error == EACCES);
    assert (streq (reply.message, "stats needs the monitor grant"));
    zmsg_destroy (&msg);

    zsock_t *as_dash = zaio_test_curve_socket (ZMQ_DEALER, server, dash);
    assert (zsock_connect (as_dash, "%s", rig.tcp) == 0);
    zaio_stats_report_t *report = s_stats (as_dash, 1, 0);
    assert (s_jobs (report, "stats", "EACCES", "") == 1);
    bool named = false;
    for (size_t i = 0; i < report->client_count; i++)
        named |= streq (report->clients_top[i].client, "reader") &&
                 report->clients_top[i].jobs == 2 && report->clients_top[i].errors == 1;
    assert (named);
    zaio_stats_report_destroy (&report);

    zsock_t *as_admin = zaio_test_curve_socket (ZMQ_DEALER, server, admin);
    assert (zsock_connect (as_admin, "%s", rig.tcp) == 0);
    report = s_stats (as_admin, 1, 0);
    assert (s_jobs (report, "stats", "ok", "") == 2);
    zaio_stats_report_destroy (&report);
    //  Over inproc (no identity): anyone.
    zsock_t *local = zaio_test_client (rig.inproc);
    report = s_stats (local, 1, 0);
    zaio_stats_report_destroy (&report);

    zsock_destroy (&local);
    zsock_destroy (&as_admin);
    zsock_destroy (&as_dash);
    zsock_destroy (&as_reader);
    zaio_test_broker_stop (&rig);
    zconfig_destroy (&grants);
    zcert_destroy (&server);
    zcert_destroy (&reader);
    zcert_destroy (&dash);
    zcert_destroy (&admin);
    zaio_test_rmtree (dir);
    zstr_free (&curve_cert);
    zstr_free (&clients_dir);
    zstr_free (&dir);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_counts_known_jobs),
        ZAIO_TEST_CASE (s_test_counts_errors),
        ZAIO_TEST_CASE (s_test_unknown_volume_flood_bounded),
        ZAIO_TEST_CASE (s_test_request_rules),
        ZAIO_TEST_CASE (s_test_monitor_grant),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
