/*  test_broker_transit: what a peer can make the broker hold in a message
    it has not finished (PROTOCOL.md section 6). libzmq hands the broker
    only whole messages and bounds each frame (ZMQ_MAXMSGSIZE), not how
    many a message has; the broker sets the bound on every socket a peer
    sends to. A client frame over payload_max + 64 KiB, or an event
    subscriber's over the longest subscription, closes that connection
    before the frame is read, and the broker serves the others. */

#include "testutil.h"

#include <string.h>

#define S_PAYLOAD_MAX      4096
#define S_TRANSPORT_MAX    (S_PAYLOAD_MAX + 64 * 1024) //  a client frame, at most
#define S_SUBSCRIPTION_BIG 8192 //  over the 4 KiB a subscriber may send in a frame
#define S_EVENT_MS         5000 //  how long a connection's event is waited for

//  A socket of type connected to endpoint, and in *monitor_p the events of
//  its connection: handshakes done and disconnections.
static zsock_t *
s_watched (int type, const char *endpoint, zsock_t **monitor_p)
{
    static int s_monitors;
    zsock_t *sock = zsock_new (type);
    assert (sock);
    zsock_set_linger (sock, 0);
    char *name = zsys_sprintf ("inproc://transit-monitor-%d", s_monitors++);
    assert (zmq_socket_monitor (zsock_resolve (sock), name,
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) == 0);
    *monitor_p = zsock_new (ZMQ_PAIR);
    assert (*monitor_p);
    zsock_set_rcvhwm (*monitor_p, 0);
    assert (zsock_connect (*monitor_p, "%s", name) == 0);
    zstr_free (&name);
    assert (zsock_connect (sock, "%s", endpoint) == 0);
    assert (zaio_test_handshake (*monitor_p, S_EVENT_MS) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    return sock;
}

static void
s_send_write (zsock_t *client, uint64_t id, size_t size)
{
    char *data = (char *)zmalloc (size);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITE, id);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, 0);
    zaio_test_send (client, &req, data, size);
    free (data);
}

static void
s_ping (zsock_t *client, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_test_send (client, &req, NULL, 0);
    zaio_test_expect (client, id, 0);
}

static void
s_start (zaio_test_broker_t *broker)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.workers = 1;
    config.payload_max = S_PAYLOAD_MAX;
    zaio_test_broker_start (broker, &config);
}

//  A frame of the transport limit is read (and its request answered
//  TOOBIG); one byte more closes the connection, unanswered, over tcp and
//  ipc alike, while another client is served.
static void
s_test_client_frame_over_max (void)
{
    zaio_test_broker_t broker;
    s_start (&broker);
    zsock_t *bob = zaio_test_client (broker.inproc);
    const char *endpoints[] = {broker.tcp, broker.ipc};
    for (int i = 0; i < 2; i++) {
        zsock_t *monitor;
        zsock_t *client = s_watched (ZMQ_DEALER, endpoints[i], &monitor);
        s_send_write (client, 1, S_TRANSPORT_MAX);
        zaio_test_expect (client, 1, ZAIO_ERR_TOOBIG);
        s_send_write (client, 2, S_TRANSPORT_MAX + 1);
        assert (zaio_test_handshake (monitor, S_EVENT_MS) == ZMQ_EVENT_DISCONNECTED);
        s_ping (bob, 10 + i);
        //  The client's libzmq connects again, and the broker serves it.
        assert (zaio_test_handshake (monitor, S_EVENT_MS) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        s_ping (client, 3);
        zsock_destroy (&client);
        zsock_destroy (&monitor);
    }
    zsock_destroy (&bob);
    zaio_test_broker_stop (&broker);
    printf ("a client frame over payload_max + 64 KiB closes its connection\n");
}

//  An event subscriber that sends a frame far longer than any
//  subscription could be is cut off; a subscriber beside it still gets its
//  events.
static void
s_test_subscriber_frame_over_max (void)
{
    zaio_test_broker_t broker;
    s_start (&broker);
    zsock_t *monitor;
    zsock_t *rogue = s_watched (ZMQ_XSUB, broker.events, &monitor);
    char big[S_SUBSCRIPTION_BIG + 1];
    big[0] = 1; //  subscribe
    memset (big + 1, 'x', S_SUBSCRIPTION_BIG);
    assert (zmq_send (zsock_resolve (rogue), big, sizeof big, 0) == (int)sizeof big);
    assert (zaio_test_handshake (monitor, S_EVENT_MS) == ZMQ_EVENT_DISCONNECTED);

    zsock_t *sub = zsock_new_sub (broker.events, "ok.ping");
    assert (sub);
    zsock_t *client = zaio_test_client (broker.inproc);
    //  A subscription reaches the broker some time after it is made: ping
    //  until an event comes.
    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t until = zclock_mono () + S_EVENT_MS;
    uint64_t id = 0;
    do {
        assert (zclock_mono () < until);
        s_ping (client, ++id);
    } while (!zpoller_wait (poller, 100));
    zaio_event_t event;
    zaio_test_next_event (sub, &event, NULL, 0);
    assert (event.error == 0);
    zpoller_destroy (&poller);
    zsock_destroy (&client);
    zsock_destroy (&sub);
    zsock_destroy (&rogue);
    zsock_destroy (&monitor);
    zaio_test_broker_stop (&broker);
    printf ("an event subscriber's frame over 4 KiB closes its connection\n");
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_client_frame_over_max),
        ZAIO_TEST_CASE (s_test_subscriber_frame_over_max),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
