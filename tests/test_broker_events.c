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

//  The next event on sub must be for request id (a marker this test sent
//  last): whatever matched the filter before it is read and counted.
//  Returns how many events came before the marker.
static int
s_skip_to (zsock_t *sub, uint64_t id)
{
    int skipped = 0;
    zaio_event_t event;
    for (zaio_test_next_event (sub, &event, NULL, 0); event.id != id;
         zaio_test_next_event (sub, &event, NULL, 0))
        skipped++;
    return skipped;
}

//  A broker, a client on it, and three subscribers whose subscriptions
//  have all arrived: each has seen an event of its own filter, and all
//  that came before has been read.
typedef struct {
    zaio_test_broker_t broker;
    zsock_t *client;
    zsock_t *all;
    zsock_t *errors;
    zsock_t *writes;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    zaio_test_broker_start (&rig->broker, NULL);
    rig->client = zaio_test_client (rig->broker.inproc);
    rig->all = s_subscriber (rig->broker.events, "");
    rig->errors = s_subscriber (rig->broker.events, "err.");
    rig->writes = s_subscriber (rig->broker.events, "ok.writefile.");
    //  Subscriptions travel asynchronously: send what each one wants to
    //  see until it sees it, then read up to the last request sent.
    struct {
        zsock_t *sub;
        zaio_op_t op;
        const char *path;
        int error;
    } warm[] = {{rig->all, ZAIO_OP_PING, NULL, 0},
                {rig->errors, ZAIO_OP_READ, "missing.txt", ENOENT},
                {rig->writes, ZAIO_OP_WRITEFILE, "warm.txt", 0}};
    uint64_t id = 1;
    for (size_t i = 0; i < sizeof warm / sizeof warm[0]; i++) {
        zpoller_t *poller = zpoller_new (warm[i].sub, NULL);
        do
            assert (s_call (rig->client, warm[i].op, id++, warm[i].path,
                            warm[i].op == ZAIO_OP_WRITEFILE ? "warm" : NULL) == warm[i].error);
        while (!zpoller_wait (poller, 20));
        zpoller_destroy (&poller);
    }
    assert (s_call (rig->client, ZAIO_OP_READ, 50, "missing.txt", NULL) == ENOENT);
    assert (s_call (rig->client, ZAIO_OP_WRITEFILE, 51, "warm.txt", "warm") == 0);
    s_skip_to (rig->errors, 50);
    s_skip_to (rig->writes, 51);
    s_skip_to (rig->all, 51);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zsock_destroy (&rig->all);
    zsock_destroy (&rig->errors);
    zsock_destroy (&rig->writes);
    zsock_destroy (&rig->client);
    zaio_test_broker_stop (&rig->broker);
}

//  Topics, filters, sequence and fields as specified.
static void
s_test_topics_filters_fields (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    char topic[128];
    zaio_event_t event;
    uint64_t last_seq = 0;

    int64_t before_us = zclock_time () * 1000;
    assert (s_call (rig.client, ZAIO_OP_WRITEFILE, 100, "a.txt", "hello") == 0);
    assert (s_call (rig.client, ZAIO_OP_READ, 101, "missing.txt", NULL) == ENOENT);
    assert (s_call (rig.client, ZAIO_OP_READ, 102, "a.txt", NULL) == 0);

    //  Everything, in order, no gaps; times in µs, not ms times 1000 (the
    //  three cannot all fall on a whole millisecond but once in 10^9).
    const char *expected[] = {"ok.writefile.default", "err.read.default", "ok.read.default"};
    int whole_ms = 0;
    for (int i = 0; i < 3; i++) {
        zaio_test_next_event (rig.all, &event, topic, sizeof topic);
        assert (streq (topic, expected[i]));
        assert (event.id == (uint64_t)(100 + i));
        if (last_seq) assert (event.seq == last_seq + 1);
        last_seq = event.seq;
        assert (streq (event.volume, "default"));
        assert (strlen (event.client) > 0);
        assert (event.time_us >= before_us);
        whole_ms += event.time_us % 1000 == 0;
        assert (strlen (event.worker) > 0); //  a local worker ran it
    }
    assert (whole_ms < 3);
    //  Errors only, with the error name.
    zaio_test_next_event (rig.errors, &event, topic, sizeof topic);
    assert (streq (topic, "err.read.default"));
    assert (event.id == 101 && event.error == ENOENT && streq (event.path, "missing.txt"));
    //  Successful whole-file writes only, with their byte count.
    zaio_test_next_event (rig.writes, &event, topic, sizeof topic);
    assert (event.id == 100 && event.error == 0 && event.bytes == 5);
    assert (event.op == ZAIO_OP_WRITEFILE && streq (event.path, "a.txt"));
    //  Nothing else matched the filters: the next event each filter
    //  passes is the one of a request sent after all the others.
    assert (s_call (rig.client, ZAIO_OP_READ, 103, "missing.txt", NULL) == ENOENT);
    assert (s_call (rig.client, ZAIO_OP_WRITEFILE, 104, "b.txt", "more") == 0);
    assert (s_skip_to (rig.errors, 103) == 0);
    assert (s_skip_to (rig.writes, 104) == 0);
    s_rig_stop (&rig);
}

//  A hello is published under the volume it named, as any request is
//  (here one no worker serves: NOVOLUME).
static void
s_test_hello_published_under_its_volume (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    char topic[128];
    zaio_event_t event;
    assert (s_call (rig.client, ZAIO_OP_PING, 102, NULL, NULL) == 0);
    zaio_test_next_event (rig.all, &event, topic, sizeof topic);
    assert (event.id == 102);
    uint64_t last_seq = event.seq;

    zaio_request_t hello;
    zaio_request_init (&hello, ZAIO_OP_HELLO, 103);
    zaio_request_set_str (&hello, ZAIO_FIELD_VOLUME, "elsewhere");
    zaio_reply_t reply;
    assert (zaio_test_call (rig.client, &hello, NULL, 0, &reply, NULL, NULL) == ZAIO_ERR_NOVOLUME);
    zaio_test_next_event (rig.all, &event, topic, sizeof topic);
    assert (streq (topic, "err.hello.elsewhere") && streq (event.volume, "elsewhere"));
    assert (event.id == 103 && event.seq == last_seq + 1);
    s_rig_stop (&rig);
}

//  Pings volume (NULL: the default) until sub has an event, and returns
//  that event's request id: by then the broker has taken in every
//  subscription sub sent before.
static uint64_t
s_ping_until_event (zsock_t *client, zsock_t *sub, uint64_t *id, const char *volume)
{
    zpoller_t *poller = zpoller_new (sub, NULL);
    do {
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_PING, ++*id);
        if (volume) zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
        zaio_reply_t reply;
        zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL);
        assert (*id < 1000);
    } while (!zpoller_wait (poller, 20));
    zpoller_destroy (&poller);
    zaio_event_t event;
    zaio_test_next_event (sub, &event, NULL, 0);
    return event.id;
}

//  Prefixes that share bytes: dropping one keeps the others, a prefix
//  longer than a topic does not match it, and once the last prefix that
//  matches a topic goes its events are no longer published.
static void
s_test_overlapping_prefixes_come_and_go (void)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    zsock_t *client = zaio_test_client (broker.inproc);
    zsock_t *sub = s_subscriber (broker.events, "ok.p");
    zsock_set_subscribe (sub, "ok.ping.");
    zsock_set_subscribe (sub, "ok.ping.default.longer");
    uint64_t id = 0;
    s_ping_until_event (client, sub, &id, NULL);
    zsock_set_unsubscribe (sub, "ok.p");
    zsock_set_subscribe (sub, "err.ping.nosuch"); //  a marker: taken in after the above
    while (s_ping_until_event (client, sub, &id, "nosuch") != id)
        ;
    uint64_t ping = s_ping_until_event (client, sub, &id, NULL);
    assert (ping == id); //  "ok.ping." still in
    zsock_set_unsubscribe (sub, "ok.ping.");
    zsock_set_unsubscribe (sub, "err.ping.nosuch");
    zsock_set_subscribe (sub, "err.ping.");
    while (s_ping_until_event (client, sub, &id, "nosuch") != id)
        ;
    //  Only "ok.ping.default.longer" is left of ok.ping: no event for a ping.
    assert (s_call (client, ZAIO_OP_PING, ++id, NULL, NULL) == 0);
    uint64_t marker = s_ping_until_event (client, sub, &id, "nosuch");
    assert (marker == id);
    zsock_destroy (&sub);
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_topics_filters_fields),
        ZAIO_TEST_CASE (s_test_hello_published_under_its_volume),
        ZAIO_TEST_CASE (s_test_overlapping_prefixes_come_and_go),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
