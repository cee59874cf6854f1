/*  zaio_perf_baseline.h: the bare ZeroMQ servers zaio is measured against.

    What a competent programmer would write with libzmq alone to serve the
    same requests: a ROUTER frontend bound on the given endpoints, proxied
    by zmq_proxy to a DEALER backend on inproc, and W worker threads
    (DEALER) behind it. No broker: no accounting, no events, no path
    confinement. Each worker opens the file once and answers a read with
    one pread straight into the reply frame. It speaks one of two dialects:

    bare (the baseline): no protocol at all. Request from a client DEALER:
    [id (8 bytes)][offset (8 bytes, big-endian) for a read, or empty for
    a ping]. Reply: [id] for a ping, [id][4096 bytes] for a read.

    ZAIO/1 (the protocol floor): the frames of schemas/PROTOCOL.md. The
    worker decodes each request strictly with the codec zaio uses and
    encodes the reply with it; a read of any path reads the one file. So
    it costs what the wire format costs and nothing of what zaio does with
    a request: the cheapest server a ZAIO/1 client can talk to.
*/
#ifndef ZAIO_PERF_BASELINE_H_INCLUDED
#define ZAIO_PERF_BASELINE_H_INCLUDED

#include "zaio_perf_client.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zaio_perf_baseline_t zaio_perf_baseline_t;

//  Bind a ROUTER on each of the NULL-terminated endpoints (tcp port *
//  picks a free port) and start workers threads serving file in dialect.
//  Returns NULL (and logs why) on failure.
zaio_perf_baseline_t *zaio_perf_baseline_new (const char *const *endpoints, const char *file,
                                              uint32_t workers, zaio_perf_dialect_t dialect);

//  Stop the proxy and the workers; nulls *self_p. Safe on NULL.
void zaio_perf_baseline_destroy (zaio_perf_baseline_t **self_p);

//  First bound endpoint of transport ("inproc", "ipc", "tcp"), with its
//  port resolved; NULL if none. Caller frees.
char *zaio_perf_baseline_endpoint (zaio_perf_baseline_t *self, const char *transport);

#ifdef __cplusplus
}
#endif

#endif
