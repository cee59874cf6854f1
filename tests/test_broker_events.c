/*  test_broker_events: every completion is published once, with gap-free
    sequence numbers and the fields of the spec, under topics a subscriber
    can filter by outcome and op. */

#include "testutil.h"

#include <string.h>

static zsock_t *
s_subscriber (const char *endpoint, const char *prefix)
{
    zsock_t *sub = zsock_new_sub (endpoint, prefix);
    assert (sub);
    zsock_set_rcvtimeo (sub, 5000);
    return sub;
}

static int
s_call (zsock_t *client, zaio_op_t op, uint64_t id, const char *path, const char *data)
{
    zaio_request_t req;
    zaio_request_init (&req, op, id);
    if (path) zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
    if (op == ZAIO_OP_READ) zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 100);
    zaio_reply_t reply;
    return zaio_test_call (client, &req, data, data ? strlen (data) : 0, &reply, NULL, NULL);
}

int
main (void)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    zsock_t *client = zaio_test_client (broker.inproc);
    zsock_t *all = s_subscriber (broker.events, "");
    zsock_t *errors = s_subscriber (broker.events, "err.");
    zsock_t *writes = s_subscriber (broker.events, "ok.writefile.");

    //  Subscriptions travel asynchronously: ping until both have arrived.
    uint64_t id = 1;
    zpoller_t *poller = zpoller_new (all, NULL);
    while (true) {
        assert (s_call (client, ZAIO_OP_PING, id++, NULL, NULL) == 0);
        if (zpoller_wait (poller, 20)) break;
    }
    zpoller_destroy (&poller);
    zclock_sleep (100); //  the other two subscriptions were sent at the same time
    //  Skip what the first subscriber saw of the warm-up.
    zsock_set_rcvtimeo (all, 100);
    char topic[128];
    zaio_event_t event;
    uint64_t last_seq = 0;
    zmsg_t *stale;
    while ((stale = zmsg_recv (all))) {
        zmsg_destroy (&stale);
    }
    zsock_set_rcvtimeo (all, 5000);

    int64_t before_us = zclock_time () * 1000;
    assert (s_call (client, ZAIO_OP_WRITEFILE, 100, "a.txt", "hello") == 0);
    assert (s_call (client, ZAIO_OP_READ, 101, "missing.txt", NULL) == ENOENT);
    assert (s_call (client, ZAIO_OP_READ, 102, "a.txt", NULL) == 0);

    //  Everything, in order, no gaps.
    const char *expected[] = {"ok.writefile.default", "err.read.default", "ok.read.default"};
    for (int i = 0; i < 3; i++) {
        zaio_test_next_event (all, &event, topic, sizeof topic);
        assert (streq (topic, expected[i]));
        assert (event.id == (uint64_t)(100 + i));
        if (last_seq) assert (event.seq == last_seq + 1);
        last_seq = event.seq;
        assert (streq (event.volume, "default"));
        assert (strlen (event.client) > 0);
        assert (event.time_us >= before_us);
        assert (strlen (event.worker) > 0); //  a local worker ran it
    }
    //  Errors only, with the error name.
    zaio_test_next_event (errors, &event, topic, sizeof topic);
    assert (streq (topic, "err.read.default"));
    assert (event.id == 101 && event.error == ENOENT && streq (event.path, "missing.txt"));
    //  Successful whole-file writes only, with their byte count.
    zaio_test_next_event (writes, &event, topic, sizeof topic);
    assert (event.id == 100 && event.error == 0 && event.bytes == 5);
    assert (event.op == ZAIO_OP_WRITEFILE && streq (event.path, "a.txt"));
    //  Nothing else matched the filters.
    zsock_set_rcvtimeo (errors, 200);
    zsock_set_rcvtimeo (writes, 200);
    zmsg_t *extra = zmsg_recv (errors);
    assert (!extra);
    extra = zmsg_recv (writes);
    assert (!extra);
    printf ("test_broker_events: topics, filters, sequence and fields as specified\n");

    //  A hello is published under the volume it named, as any request is.
    zaio_request_t hello;
    zaio_request_init (&hello, ZAIO_OP_HELLO, 103);
    zaio_request_set_str (&hello, ZAIO_FIELD_VOLUME, "elsewhere");
    zaio_reply_t reply;
    assert (zaio_test_call (client, &hello, NULL, 0, &reply, NULL, NULL) == 0);
    zaio_test_next_event (all, &event, topic, sizeof topic);
    assert (streq (topic, "ok.hello.elsewhere") && streq (event.volume, "elsewhere"));
    assert (event.id == 103 && event.seq == last_seq + 1);
    printf ("test_broker_events: hello published under its volume\n");

    zsock_destroy (&all);
    zsock_destroy (&errors);
    zsock_destroy (&writes);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
    zsys_shutdown ();
    printf ("test_broker_events: OK\n");
    return 0;
}
