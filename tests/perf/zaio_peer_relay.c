/*  zaio_peer_relay: the bare relay of the peers section, the floor under
    a remote zaio-worker on one machine. It moves the bytes a remote read
    moves, over the same path, with no IO and no protocol work: a client
    DEALER sends requests over loopback tcp to a ROUTER/DEALER proxy (the
    broker's place), which passes them over loopback tcp to a worker
    DEALER (the zaio-worker's place); the worker answers each with a reply
    header and --size bytes of data, which go back the same way. So every
    byte crosses loopback TCP twice, as a remote read's do.

    zaio_peer_relay [--seconds S] [--inflight N] [--size BYTES] [--batch]

    Unbatched, one request a message ([S_REQUEST_BYTES]) and one reply a
    message ([S_REPLY_BYTES][data]), --inflight of them in flight. With
    --batch, as zaio's batched client does (zaio_peer_zaio.c): whenever
    half the window has come back, the client fills it again with one
    message of that many requests in one frame, and the worker answers a
    message with one reply message: their headers in one frame, then one
    data frame per request (ZAIOW/5's and ZAIO/1's reply batch's shape).
    Three threads (client, proxy, worker) in one process; cpu_us_per_op
    is all of them. Prints the JSON line of zaio_peer_side.h, side
    "bare_relay".
*/

#include "zaio_peer_side.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_REQUEST_BYTES 48 //  about a read's request header and its framing
#define S_REPLY_BYTES   32 //  about a read's reply header and outcome

typedef struct {
    void *context;
    char frontend[64];
    char backend[64];
    uint64_t size;
    void *proxy_front;
    void *proxy_back;
} s_relay_t;

static void *
s_proxy (void *arg)
{
    s_relay_t *self = (s_relay_t *)arg;
    zmq_proxy (self->proxy_front, self->proxy_back, NULL); //  until the context ends
    zmq_close (self->proxy_front);
    zmq_close (self->proxy_back);
    return NULL;
}

//  Answers every message [id][requests] with [id][replies][data...], one
//  data frame per request.
static void *
s_worker (void *arg)
{
    s_relay_t *self = (s_relay_t *)arg;
    void *sock = zmq_socket (self->context, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_connect (sock, self->backend);
    char *data = (char *)calloc (1, self->size);
    char replies[S_REPLY_BYTES * 1024];
    memset (replies, 'h', sizeof replies);
    while (true) {
        zmq_msg_t id, requests;
        zmq_msg_init (&id);
        zmq_msg_init (&requests);
        if (zmq_msg_recv (&id, sock, 0) == -1) break;
        if (zmq_msg_recv (&requests, sock, 0) == -1) break;
        size_t count = zmq_msg_size (&requests) / S_REQUEST_BYTES;
        if (count > 1024) count = 1024;
        zmq_msg_send (&id, sock, ZMQ_SNDMORE);
        zmq_send (sock, replies, count * S_REPLY_BYTES, ZMQ_SNDMORE);
        for (size_t i = 0; i < count; i++)
            zmq_send (sock, data, self->size, i + 1 < count ? ZMQ_SNDMORE : 0);
        zmq_msg_close (&requests);
    }
    free (data);
    zmq_close (sock);
    return NULL;
}

//  Binds sock on an ephemeral loopback port, its endpoint into endpoint.
static void
s_bind (void *sock, char *endpoint, size_t size)
{
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &zero, sizeof zero);
    int rc = zmq_bind (sock, "tcp://127.0.0.1:*");
    assert (rc == 0);
    zmq_getsockopt (sock, ZMQ_LAST_ENDPOINT, endpoint, &size);
}

//  Sends count requests in one message.
static void
s_send (void *sock, uint32_t count)
{
    char requests[S_REQUEST_BYTES * 1024];
    memset (requests, 'q', (size_t)count * S_REQUEST_BYTES);
    zmq_send (sock, requests, (size_t)count * S_REQUEST_BYTES, 0);
}

//  Takes one reply message; returns the replies it held and counts bytes
//  short of --size as errors.
static uint32_t
s_take (void *sock, uint64_t size, uint64_t *errors)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    zmq_msg_recv (&part, sock, 0);
    uint32_t count = (uint32_t)(zmq_msg_size (&part) / S_REPLY_BYTES);
    for (uint32_t i = 0; i < count && zmq_msg_more (&part); i++) {
        zmq_msg_recv (&part, sock, 0);
        if (zmq_msg_size (&part) != size) (*errors)++;
    }
    zmq_msg_close (&part);
    return count;
}

int
main (int argc, char *argv[])
{
    zaio_peer_options_t options;
    if (zaio_peer_options_parse (&options, "zaio_peer_relay", argc, argv)) return 2;
    if (options.inflight > 1024) options.inflight = 1024;
    s_relay_t relay;
    memset (&relay, 0, sizeof relay);
    relay.size = options.size;
    relay.context = zmq_ctx_new ();
    relay.proxy_front = zmq_socket (relay.context, ZMQ_ROUTER);
    relay.proxy_back = zmq_socket (relay.context, ZMQ_DEALER);
    s_bind (relay.proxy_front, relay.frontend, sizeof relay.frontend);
    s_bind (relay.proxy_back, relay.backend, sizeof relay.backend);
    pthread_t proxy, worker;
    pthread_create (&proxy, NULL, s_proxy, &relay);
    pthread_create (&worker, NULL, s_worker, &relay);
    void *client = zmq_socket (relay.context, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (client, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (client, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (client, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_connect (client, relay.frontend);

    //  A first round trip: the connections are up before the clock starts.
    uint64_t errors = 0, ops = 0;
    s_send (client, 1);
    s_take (client, options.size, &errors);

    zaio_peer_clock_t start, end;
    zaio_peer_clock_read (&options, &start);
    double until = start.wall + options.seconds;
    uint32_t outstanding = 0;
    bool sending = true;
    while (sending || outstanding) {
        if (sending && (options.batch ? outstanding <= options.inflight / 2
                                      : outstanding < options.inflight)) {
            uint32_t count = options.batch ? options.inflight - outstanding : 1;
            s_send (client, count);
            outstanding += count;
            if (!options.batch) continue;
        }
        uint32_t got = s_take (client, options.size, &errors);
        outstanding -= got;
        ops += got;
        if (sending && (ops & 63) == 0) sending = zaio_peer_now () < until;
        if (sending && options.batch) sending = zaio_peer_now () < until;
    }
    zaio_peer_clock_read (&options, &end);
    zmq_close (client);
    zmq_ctx_shutdown (relay.context);
    pthread_join (worker, NULL);
    pthread_join (proxy, NULL);
    zmq_ctx_term (relay.context);
    return zaio_peer_print (&options, "bare_relay", &start, &end, ops, errors);
}
