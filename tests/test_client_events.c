/*  test_client_events.c: zaio_watch_t against a real broker. A watcher
    subscribed to "err.stat." sees only failed stats, with the fields the
    spec lists; one subscribed to everything sees every op in sequence
    order without gaps; a gap in sequence numbers (from a scripted
    publisher) is reported as missed events.
*/

#include "testutil.h"
#include "zaio.h"

#include <string.h>

//  Keep stat-ing a missing file until the watcher hears of it (a SUB
//  misses what is published before its subscription reaches the broker).
static void
s_sync (zaio_client_t *client, zaio_watch_t *watch)
{
    zaio_event_t event;
    zaio_stat_t st;
    int64_t until = zclock_mono () + 5000;
    while (true) {
        assert (zclock_mono () < until);
        assert (zaio_client_stat (client, "sync-missing", &st) == ENOENT);
        if (zaio_watch_recv (watch, &event, 50) == 0) break;
    }
}

//  Reads events up to the one for path; returns how many came before it.
static int
s_skip_to (zaio_watch_t *watch, const char *path)
{
    int skipped = 0;
    zaio_event_t event;
    while (true) {
        assert (zaio_watch_recv (watch, &event, 5000) == 0);
        if (streq (event.path, path)) return skipped;
        skipped++;
    }
}

//  A broker, a client over ipc, and two watchers whose subscriptions have
//  arrived and which have read all so far: errors ("err.stat.") and all.
typedef struct {
    zaio_test_broker_t broker;
    zaio_client_t *client;
    zaio_watch_t *errors;
    zaio_watch_t *all;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    zaio_test_broker_start (&rig->broker, NULL);
    rig->client = zaio_client_new (rig->broker.ipc);
    rig->errors = zaio_watch_new (rig->broker.events);
    rig->all = zaio_watch_new (rig->broker.events);
    assert (rig->client && rig->errors && rig->all);
    assert (zaio_watch_subscribe (rig->errors, "err.stat.") == 0);
    assert (zaio_watch_subscribe (rig->all, "") == 0);
    assert (zaio_watch_fd (rig->errors) >= 0);
    s_sync (rig->client, rig->errors);
    s_sync (rig->client, rig->all);
    //  Up to a stat both see, sent after all the others.
    zaio_stat_t st;
    assert (zaio_client_stat (rig->client, "synced", &st) == ENOENT);
    s_skip_to (rig->errors, "synced");
    s_skip_to (rig->all, "synced");
}

static void
s_rig_stop (s_rig_t *rig)
{
    zaio_watch_destroy (&rig->errors);
    zaio_watch_destroy (&rig->all);
    assert (rig->all == NULL);
    zaio_watch_destroy (&rig->all);
    zaio_client_destroy (&rig->client);
    zaio_test_broker_stop (&rig->broker);
}

//  Five calls, two of them failing, one a failed stat.
static void
s_five_calls (zaio_client_t *client)
{
    zaio_stat_t st;
    assert (zaio_client_writefile (client, "ev.txt", "12345", 5) == 0);
    assert (zaio_client_stat (client, "ev.txt", &st) == 0);
    assert (zaio_client_stat (client, "nope.txt", &st) == ENOENT);
    zaio_buf_t *buf;
    assert (zaio_client_readfile (client, "nope.txt", &buf) == ENOENT);
    assert (zaio_client_readfile (client, "ev.txt", &buf) == 0);
    zaio_buf_destroy (&buf);
}

//  A watcher subscribed to "err.stat." sees only the failed stat, with the
//  fields the spec lists.
static void
s_test_filtered_watcher (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_five_calls (rig.client);
    zaio_event_t event;
    assert (zaio_watch_recv (rig.errors, &event, 2000) == 0);
    assert (event.op == ZAIO_OP_STAT && event.error == ENOENT);
    assert (streq (event.path, "nope.txt") && streq (event.volume, "default"));
    assert (event.id > 0 && event.seq > 0 && event.time_us > 0);
    //  Nothing else: the next is a failed stat sent after them all.
    zaio_stat_t st;
    assert (zaio_client_stat (rig.client, "end", &st) == ENOENT);
    assert (s_skip_to (rig.errors, "end") == 0);
    s_rig_stop (&rig);
}

//  A watcher subscribed to everything sees all five, in order, no gaps.
static void
s_test_full_watcher_in_order (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    s_five_calls (rig.client);
    zaio_op_t ops[5] = {ZAIO_OP_WRITEFILE, ZAIO_OP_STAT, ZAIO_OP_STAT, ZAIO_OP_READFILE,
                        ZAIO_OP_READFILE};
    int errs[5] = {0, 0, ENOENT, ENOENT, 0};
    uint64_t seq = 0;
    zaio_event_t event;
    for (int i = 0; i < 5; i++) {
        assert (zaio_watch_recv (rig.all, &event, 2000) == 0);
        assert (event.op == ops[i] && event.error == errs[i]);
        assert (seq == 0 || event.seq == seq + 1);
        assert (zaio_watch_missed (rig.all) == 0);
        seq = event.seq;
    }
    assert (event.bytes == 5 && streq (event.path, "ev.txt"));
    assert (*event.worker); //  a worker ran it
    //  Nothing else: the next is that of a call made after them all.
    zaio_stat_t st;
    assert (zaio_client_stat (rig.client, "end", &st) == ENOENT);
    assert (s_skip_to (rig.all, "end") == 0);
    s_rig_stop (&rig);
}

//  Unsubscribing stops the flow. The unsubscription has arrived once a
//  subscription made after it on the same watcher has (its events come).
static void
s_test_unsubscribe_stops_flow (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    assert (zaio_watch_unsubscribe (rig.errors, "err.stat.") == 0);
    assert (zaio_watch_subscribe (rig.errors, "ok.mkdir.") == 0);
    zaio_event_t event;
    int64_t until = zclock_mono () + 5000;
    for (int made = 0;; made++) {
        assert (zclock_mono () < until);
        char path[32];
        snprintf (path, sizeof path, "dir-%d", made);
        assert (zaio_client_mkdir (rig.client, path, false) == 0);
        if (zaio_watch_recv (rig.errors, &event, 50) == 0) break;
    }
    zaio_stat_t st;
    assert (zaio_client_stat (rig.client, "nope.txt", &st) == ENOENT);
    assert (zaio_client_mkdir (rig.client, "end", false) == 0);
    //  The failed stat came between: it must not be seen.
    do {
        assert (zaio_watch_recv (rig.errors, &event, 5000) == 0);
        assert (event.op == ZAIO_OP_MKDIR);
    } while (!streq (event.path, "end"));
    s_rig_stop (&rig);
}

//  A publisher that skips sequence numbers: the watcher counts the gap.
static void
s_test_gap_counted (void)
{
    zsock_t *pub = zsock_new (ZMQ_XPUB);
    assert (zsock_bind (pub, "tcp://127.0.0.1:*") > 0);
    const char *endpoint = zsock_endpoint (pub);
    zaio_watch_t *watch = zaio_watch_new (endpoint);
    zaio_watch_subscribe (watch, "");
    char *subscription = zstr_recv (pub); //  XPUB hears the subscription
    assert (subscription);
    zstr_free (&subscription);
    uint64_t seqs[] = {1, 2, 5, 6, 1};
    for (int i = 0; i < 5; i++) {
        zaio_event_t event;
        memset (&event, 0, sizeof event);
        event.seq = seqs[i];
        event.op = ZAIO_OP_READ;
        snprintf (event.volume, sizeof event.volume, "default");
        char topic[64];
        zaio_event_topic (&event, topic, sizeof topic);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, topic);
        zmsg_addstr (msg, ZAIO_SIGNATURE);
        zmsg_append (msg, &(zframe_t *){zaio_event_encode (&event)});
        zmsg_send (&msg, pub);
        //  garbage between events is skipped
        zstr_sendm (pub, "ok.read.default");
        zstr_send (pub, "junk");
    }
    uint64_t missed[] = {0, 0, 2, 0, 0}; //  the last is a restarted broker
    for (int i = 0; i < 5; i++) {
        zaio_event_t event;
        assert (zaio_watch_recv (watch, &event, 2000) == 0);
        assert (event.seq == seqs[i]);
        assert (zaio_watch_missed (watch) == missed[i]);
    }
    zaio_watch_destroy (&watch);
    zsock_destroy (&pub);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_filtered_watcher),
        ZAIO_TEST_CASE (s_test_full_watcher_in_order),
        ZAIO_TEST_CASE (s_test_unsubscribe_stops_flow),
        ZAIO_TEST_CASE (s_test_gap_counted),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
