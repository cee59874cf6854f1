/*  zaio_perf_baseline.h: the bare ZeroMQ server zaio is measured against.

    What a competent programmer would write with libzmq alone to serve the
    same requests: a ROUTER frontend bound on the given endpoints, proxied
    by zmq_proxy to a DEALER backend on inproc, and W worker threads
    (DEALER) behind it. No protocol, no msgpack, no accounting, no events.

    Request from a client DEALER: [id (8 bytes)][offset (8 bytes, big-
    endian) for a read, or empty for a ping]. Reply: [id] for a ping,
    [id][4096 bytes] for a read. Each worker opens the file once and
    answers a read with one pread straight into the reply frame.
*/
#ifndef ZAIO_PERF_BASELINE_H_INCLUDED
#define ZAIO_PERF_BASELINE_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zaio_perf_baseline_t zaio_perf_baseline_t;

//  Bind a ROUTER on each of the NULL-terminated endpoints (tcp port *
//  picks a free port) and start workers threads serving file. Returns
//  NULL (and logs why) on failure.
zaio_perf_baseline_t *zaio_perf_baseline_new (const char *const *endpoints, const char *file,
                                              uint32_t workers);

//  Stop the proxy and the workers; nulls *self_p. Safe on NULL.
void zaio_perf_baseline_destroy (zaio_perf_baseline_t **self_p);

//  First bound endpoint of transport ("inproc", "ipc", "tcp"), with its
//  port resolved; NULL if none. Caller frees.
char *zaio_perf_baseline_endpoint (zaio_perf_baseline_t *self, const char *transport);

#ifdef __cplusplus
}
#endif

#endif
