/*  zaio_perf_echo.h: a bare libzmq ROUTER that answers reads, the ceiling
    a server speaking over one connection can reach.

    One thread and one ROUTER, on a libzmq context of its own (so its I/O
    threads are its own, as in a server process), bound on one endpoint;
    with a secret key it is a CURVE server (and, with no ZAP handler in
    its context, admits any client key: authentication happens once per
    connection and costs nothing per message). No proxy, no workers, no
    protocol: each request is answered on the spot with a pread into the
    reply frame, so what it costs is what libzmq costs to move the bytes,
    encrypting them or not.

    Request from a client DEALER, the bare dialect of zaio_perf_client.h:
    [id (8 bytes)][offset (8 bytes, big-endian)] for ZAIO_PERF_BLOCK
    bytes, or [id][offset][length (8 bytes, big-endian)]. Reply:
    [id][the bytes of the file at offset]. A request of any other shape is
    dropped.
*/
#ifndef ZAIO_PERF_ECHO_H_INCLUDED
#define ZAIO_PERF_ECHO_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PERF_ECHO_READ_MAX (64u * 1024 * 1024) //  the longest read it serves

typedef struct _zaio_perf_echo_t zaio_perf_echo_t;

//  Bind a ROUTER on endpoint (tcp port * picks a free one) in a new
//  context with io_threads I/O threads (0 = libzmq's default) and serve
//  file from a thread. curve_secret: the server's secret key in z85 (40
//  characters), or NULL for plain. Returns NULL (and logs why) on failure.
zaio_perf_echo_t *zaio_perf_echo_new (const char *endpoint, const char *file, int io_threads,
                                      const char *curve_secret);

//  Stop the thread and terminate the context; nulls *self_p. Safe on NULL.
void zaio_perf_echo_destroy (zaio_perf_echo_t **self_p);

//  The bound endpoint, port resolved; owned by self.
const char *zaio_perf_echo_endpoint (zaio_perf_echo_t *self);

#ifdef __cplusplus
}
#endif

#endif
