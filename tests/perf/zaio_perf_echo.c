/*  zaio_perf_echo.c: the bare ROUTER that answers reads; see
    zaio_perf_echo.h.

    The socket is made and bound on the caller's thread and handed to the
    server thread (pthread_create and pthread_join are the memory barriers
    libzmq asks for when a socket changes threads). zmq_ctx_shutdown stops
    the thread: its blocking receive returns ETERM.
*/

#include "zaio_perf_echo.h"
#include "zaio_perf_client.h"

#include <czmq.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S_ENDPOINT_MAX 256

struct _zaio_perf_echo_t {
    void *context;
    void *router; //  used by the thread while it runs
    pthread_t thread;
    bool running;
    int fd;
    char endpoint[S_ENDPOINT_MAX];
};

static uint64_t
s_get_u64 (const uint8_t *bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = (value << 8) | bytes[i];
    return value;
}

//  Receives one request and answers it. Returns -1 when the context is
//  shut down.
static int
s_serve (zaio_perf_echo_t *self)
{
    zmq_msg_t parts[3];
    int count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *part = count < 3 ? &parts[count] : &scratch;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, self->router, 0) == -1) {
            zmq_msg_close (part);
            for (int i = 0; i < count && i < 3; i++) zmq_msg_close (&parts[i]);
            return zmq_errno () == ETERM ? -1 : 0;
        }
        more = zmq_msg_more (part);
        if (part == &scratch) zmq_msg_close (part);
        count++;
    }
    //  [routing id][id][offset, or offset and length]
    size_t body = count == 3 ? zmq_msg_size (&parts[2]) : 0;
    if (count == 3 && (body == 8 || body == 16)) {
        const uint8_t *bytes = (const uint8_t *)zmq_msg_data (&parts[2]);
        uint64_t offset = s_get_u64 (bytes);
        uint64_t length = body == 16 ? s_get_u64 (bytes + 8) : ZAIO_PERF_BLOCK;
        if (length > ZAIO_PERF_ECHO_READ_MAX) length = 0;
        zmq_msg_t data;
        zmq_msg_init_size (&data, length);
        ssize_t got = pread (self->fd, zmq_msg_data (&data), length, (off_t)offset);
        if (got < (ssize_t)length) {
            //  The client sees the short frame and reports it.
            zmq_msg_close (&data);
            zmq_msg_init_size (&data, got > 0 ? (size_t)got : 0);
        }
        zmq_msg_send (&parts[0], self->router, ZMQ_SNDMORE);
        zmq_msg_send (&parts[1], self->router, ZMQ_SNDMORE);
        if (zmq_msg_send (&data, self->router, 0) == -1) zmq_msg_close (&data);
    }
    //  Sent parts are empty now; closing them is harmless.
    for (int i = 0; i < count && i < 3; i++) zmq_msg_close (&parts[i]);
    return 0;
}

static void *
s_thread (void *args)
{
    zaio_perf_echo_t *self = (zaio_perf_echo_t *)args;
    prctl (PR_SET_NAME, "echo-server"); //  so perf tells threads apart
    while (s_serve (self) == 0) {
    }
    return NULL;
}

zaio_perf_echo_t *
zaio_perf_echo_new (const char *endpoint, const char *file, int io_threads,
                    const char *curve_secret)
{
    assert (endpoint && file);
    zaio_perf_echo_t *self = (zaio_perf_echo_t *)zmalloc (sizeof *self);
    self->fd = open (file, O_RDONLY | O_CLOEXEC);
    self->context = zmq_ctx_new ();
    assert (self->context);
    if (io_threads > 0) zmq_ctx_set (self->context, ZMQ_IO_THREADS, io_threads);
    self->router = zmq_socket (self->context, ZMQ_ROUTER);
    assert (self->router);
    int zero = 0, one = 1;
    zmq_setsockopt (self->router, ZMQ_LINGER, &zero, sizeof zero);
    int rc = self->fd >= 0 ? 0 : -1;
    if (rc == 0 && curve_secret) {
        rc = zmq_setsockopt (self->router, ZMQ_CURVE_SERVER, &one, sizeof one);
        if (rc == 0) rc = zmq_setsockopt (self->router, ZMQ_CURVE_SECRETKEY, curve_secret, 40);
    }
    if (rc == 0) rc = zmq_bind (self->router, endpoint);
    size_t size = sizeof self->endpoint;
    if (rc == 0) rc = zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &size);
    if (rc) {
        zsys_error ("echo: cannot serve %s on %s: %s", file, endpoint,
                    self->fd < 0 ? strerror (errno) : zmq_strerror (zmq_errno ()));
        zaio_perf_echo_destroy (&self);
        return NULL;
    }
    rc = pthread_create (&self->thread, NULL, s_thread, self);
    assert (rc == 0);
    self->running = true;
    return self;
}

void
zaio_perf_echo_destroy (zaio_perf_echo_t **self_p)
{
    assert (self_p);
    zaio_perf_echo_t *self = *self_p;
    if (!self) return;
    zmq_ctx_shutdown (self->context);
    if (self->running) pthread_join (self->thread, NULL);
    zmq_close (self->router);
    zmq_ctx_term (self->context);
    if (self->fd >= 0) close (self->fd);
    free (self);
    *self_p = NULL;
}

const char *
zaio_perf_echo_endpoint (zaio_perf_echo_t *self)
{
    assert (self);
    return self->endpoint;
}
