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

static void
s_drain (zaio_watch_t *watch)
{
    zaio_event_t event;
    while (zaio_watch_recv (watch, &event, 100) == 0) {
    }
}

static void
s_test_filter (zaio_test_broker_t *broker)
{
    zaio_client_t *client = zaio_client_new (broker->ipc);
    zaio_watch_t *errors = zaio_watch_new (broker->events);
    zaio_watch_t *all = zaio_watch_new (broker->events);
    assert (client && errors && all);
    assert (zaio_watch_subscribe (errors, "err.stat.") == 0);
    assert (zaio_watch_subscribe (all, "") == 0);
    assert (zaio_watch_fd (errors) >= 0);
    s_sync (client, errors);
    s_sync (client, all);
    s_drain (errors);
    s_drain (all);

    zaio_stat_t st;
    assert (zaio_client_writefile (client, "ev.txt", "12345", 5) == 0);
    assert (zaio_client_stat (client, "ev.txt", &st) == 0);
    assert (zaio_client_stat (client, "nope.txt", &st) == ENOENT);
    zaio_buf_t *buf;
    assert (zaio_client_readfile (client, "nope.txt", &buf) == ENOENT);
    assert (zaio_client_readfile (client, "ev.txt", &buf) == 0);
    zaio_buf_destroy (&buf);

    //  The filtered watcher: only the failed stat.
    zaio_event_t event;
    assert (zaio_watch_recv (errors, &event, 2000) == 0);
    assert (event.op == ZAIO_OP_STAT && event.error == ENOENT);
    assert (streq (event.path, "nope.txt") && streq (event.volume, "default"));
    assert (event.id > 0 && event.seq > 0 && event.time_us > 0);
    assert (zaio_watch_recv (errors, &event, 300) == -1);

    //  The full watcher: all five, in order, no gaps.
    zaio_op_t ops[5] = {ZAIO_OP_WRITEFILE, ZAIO_OP_STAT, ZAIO_OP_STAT, ZAIO_OP_READFILE,
                        ZAIO_OP_READFILE};
    int errs[5] = {0, 0, ENOENT, ENOENT, 0};
    uint64_t seq = 0;
    for (int i = 0; i < 5; i++) {
        assert (zaio_watch_recv (all, &event, 2000) == 0);
        assert (event.op == ops[i] && event.error == errs[i]);
        assert (seq == 0 || event.seq == seq + 1);
        assert (zaio_watch_missed (all) == 0);
        seq = event.seq;
    }
    assert (event.bytes == 5 && streq (event.path, "ev.txt"));
    assert (*event.worker); //  a worker ran it
    assert (zaio_watch_recv (all, &event, 300) == -1);

    //  unsubscribing stops the flow
    assert (zaio_watch_unsubscribe (errors, "err.stat.") == 0);
    zclock_sleep (100);
    assert (zaio_client_stat (client, "nope.txt", &st) == ENOENT);
    assert (zaio_watch_recv (errors, &event, 300) == -1);

    zaio_watch_destroy (&errors);
    zaio_watch_destroy (&all);
    assert (all == NULL);
    zaio_watch_destroy (&all);
    zaio_client_destroy (&client);
}

//  A publisher that skips sequence numbers: the watcher counts the gap.
static void
s_test_gap (void)
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
main (void)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    s_test_filter (&broker);
    zaio_test_broker_stop (&broker);
    s_test_gap ();
    zsys_shutdown ();
    printf ("test_client_events: OK\n");
    return 0;
}
