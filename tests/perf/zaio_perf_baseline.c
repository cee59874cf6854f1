/*  zaio_perf_baseline.c: the bare ZeroMQ servers; see zaio_perf_baseline.h.

    The proxy is libzmq's own zmq_proxy_steerable, run on a thread of its
    own with a PAIR control socket, exactly as the zguide would have it.
    Its sockets are made and bound on the caller's thread and handed to the
    proxy thread (pthread_create and pthread_join are the memory barriers
    libzmq asks for when a socket changes threads).
*/

#include "zaio_perf_baseline.h"
#include "zaio_codec.h"
#include "zaio_sock.h"

#include <czmq.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_ZAIO_PARTS_MAX 4       //  routing id and the frames the codec reads
#define S_ZAIO_READ_MAX  1048576 //  the largest read the floor serves

struct _zaio_perf_baseline_t {
    zsock_t *frontend;     //  ROUTER for clients; used by the proxy thread while it runs
    zsock_t *backend;      //  DEALER to the workers, likewise
    zsock_t *control;      //  PAIR we steer the proxy with
    zsock_t *control_peer; //  PAIR the proxy listens on
    pthread_t proxy;
    bool proxy_running;
    zactor_t **workers;
    uint32_t worker_count;
    zlist_t *endpoints; //  bound endpoints, ports resolved
    char backend_endpoint[64];
    char *file;
    zaio_perf_dialect_t dialect;
};

//  What a worker thread needs; read before it signals that it is ready.
typedef struct {
    const char *endpoint;
    const char *file;
    zaio_perf_dialect_t dialect;
} s_worker_args_t;

//  The file a worker serves, opened once.
typedef struct {
    int fd;
    uint64_t size;
} s_file_t;

//  ---------------------------------------------------------------------
//  A worker thread

//  Serves one bare request if one is waiting: [routing id][id][offset or
//  empty]. Returns -1 when the socket is empty.
static int
s_serve_bare (void *dealer, const s_file_t *file)
{
    zmq_msg_t routing, id, body;
    zmq_msg_init (&routing);
    if (zmq_msg_recv (&routing, dealer, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&routing);
        return -1;
    }
    //  The rest of a multipart message is already here.
    zmq_msg_init (&id);
    zmq_msg_init (&body);
    bool valid = zmq_msg_more (&routing) && zmq_msg_recv (&id, dealer, 0) != -1 &&
                 zmq_msg_more (&id) && zmq_msg_recv (&body, dealer, 0) != -1 &&
                 !zmq_msg_more (&body);
    if (!valid) {
        //  Not from our client: drop the rest of it.
        int more = 1;
        size_t size = sizeof more;
        zmq_getsockopt (dealer, ZMQ_RCVMORE, &more, &size);
        while (more) {
            zmq_msg_t rest;
            zmq_msg_init (&rest);
            more = zmq_msg_recv (&rest, dealer, 0) != -1 && zmq_msg_more (&rest);
            zmq_msg_close (&rest);
        }
    } else if (zmq_msg_size (&body) == 8) {
        //  read: one pread of a block straight into the reply frame
        uint64_t offset = 0;
        const uint8_t *bytes = (const uint8_t *)zmq_msg_data (&body);
        for (int i = 0; i < 8; i++) offset = (offset << 8) | bytes[i];
        zmq_msg_t data;
        zmq_msg_init_size (&data, ZAIO_PERF_BLOCK);
        ssize_t got = pread (file->fd, zmq_msg_data (&data), ZAIO_PERF_BLOCK, (off_t)offset);
        if (got < ZAIO_PERF_BLOCK) {
            //  The client sees the short frame and reports it.
            zmq_msg_close (&data);
            zmq_msg_init_size (&data, got > 0 ? (size_t)got : 0);
        }
        zmq_msg_send (&routing, dealer, ZMQ_SNDMORE);
        zmq_msg_send (&id, dealer, ZMQ_SNDMORE);
        if (zmq_msg_send (&data, dealer, 0) == -1) zmq_msg_close (&data);
    } else {
        //  ping
        zmq_msg_send (&routing, dealer, ZMQ_SNDMORE);
        zmq_msg_send (&id, dealer, 0);
    }
    //  Sent messages are empty now; closing them is harmless.
    zmq_msg_close (&routing);
    zmq_msg_close (&id);
    zmq_msg_close (&body);
    return 0;
}

//  Reads the block req asks for into data; 0 or an error code with why.
static int
s_read_block (const s_file_t *file, const zaio_request_t *req, zmq_msg_t *data, char *why,
              size_t why_size)
{
    size_t want = 0;
    if (req->offset < file->size)
        want = file->size - req->offset < req->length ? (size_t)(file->size - req->offset)
                                                      : (size_t)req->length;
    zmq_msg_init_size (data, want);
    ssize_t got = pread (file->fd, zmq_msg_data (data), want, (off_t)req->offset);
    if (got == (ssize_t)want) return 0;
    zmq_msg_close (data);
    snprintf (why, why_size, "short read of the served file");
    return got == -1 ? errno : EIO;
}

//  Serves one ZAIO/1 request if one is waiting: [routing id][signature]
//  [header]. A ping gets its ok; a read of any path, the bytes of the one
//  file; anything else an error reply, as from zaio. Returns -1 when the
//  socket is empty.
static int
s_serve_zaio (void *dealer, const s_file_t *file)
{
    zmq_msg_t parts[S_ZAIO_PARTS_MAX];
    int count = zaio_sock_recv_parts (dealer, parts, S_ZAIO_PARTS_MAX);
    if (count == -1) return -1;
    if (count > 1) {
        const void *frames[S_ZAIO_PARTS_MAX - 1] = {NULL};
        size_t sizes[S_ZAIO_PARTS_MAX - 1] = {0};
        for (int i = 1; i < count && i < S_ZAIO_PARTS_MAX; i++) {
            frames[i - 1] = zmq_msg_data (&parts[i]);
            sizes[i - 1] = zmq_msg_size (&parts[i]);
        }
        zaio_request_t req;
        char why[128] = "";
        int code = zaio_request_decode_frames (&req, frames, sizes, (size_t)count - 1,
                                               S_ZAIO_READ_MAX, why, sizeof why);
        zmq_msg_t header, data;
        bool has_data = false;
        if (code == 0 && req.op == ZAIO_OP_READ) {
            code = s_read_block (file, &req, &data, why, sizeof why);
            has_data = code == 0;
        } else if (code == 0 && req.op != ZAIO_OP_PING) {
            snprintf (why, sizeof why, "the floor serves ping and read only");
            code = ZAIO_ERR_UNKNOWN_OP;
        }
        if (code)
            zaio_reply_error_part (&header, req.id, code, why);
        else {
            zaio_writer_t writer;
            zaio_writer_init (&writer);
            if (has_data) {
                size_t got = zmq_msg_size (&data);
                zaio_reply_pack_ok (&writer.packer, req.id, 2);
                zaio_pack_key_uint (&writer.packer, "bytes", got);
                zaio_pack_key_bool (&writer.packer, "eof",
                                    got < req.length || req.offset + got >= file->size);
            } else
                zaio_reply_pack_ok (&writer.packer, req.id, 0);
            zaio_writer_part (&writer, &header);
            zaio_writer_release (&writer);
        }
        //  [routing id][signature][header][data?]
        zmq_msg_send (&parts[0], dealer, ZMQ_SNDMORE);
        zmq_send (dealer, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), ZMQ_SNDMORE);
        if (zmq_msg_send (&header, dealer, has_data ? ZMQ_SNDMORE : 0) == -1)
            zmq_msg_close (&header);
        if (has_data && zmq_msg_send (&data, dealer, 0) == -1) zmq_msg_close (&data);
    }
    //  Sent parts are empty now; closing them is harmless.
    for (int i = 0; i < count && i < S_ZAIO_PARTS_MAX; i++) zmq_msg_close (&parts[i]);
    return 0;
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    const s_worker_args_t *config = (const s_worker_args_t *)args;
    bool zaio = config->dialect == ZAIO_PERF_DIALECT_ZAIO;
    //  So perf tells the servers' threads apart.
    prctl (PR_SET_NAME, zaio ? "floor-io" : "base-io");
    int (*serve) (void *, const s_file_t *) = zaio ? s_serve_zaio : s_serve_bare;
    s_file_t file = {open (config->file, O_RDONLY | O_CLOEXEC), 0};
    struct stat st;
    if (file.fd >= 0 && fstat (file.fd, &st) == 0) file.size = (uint64_t)st.st_size;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_linger (dealer, 0);
    int rc = file.fd >= 0 ? zsock_connect (dealer, "%s", config->endpoint) : -1;
    //  zactor_new consumes the first signal; the second carries our status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, rc == 0 ? 0 : 1);
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (dealer), 0, ZMQ_POLLIN, 0}};
    while (rc == 0) {
        if (zmq_poll (items, 2, -1) == -1) continue; //  EINTR
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            bool stop = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (stop) break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            while (serve (zsock_resolve (dealer), &file) == 0) {
            }
    }
    zsock_destroy (&dealer);
    if (file.fd >= 0) close (file.fd);
}

//  ---------------------------------------------------------------------
//  The proxy thread

static void *
s_proxy_thread (void *args)
{
    zaio_perf_baseline_t *self = (zaio_perf_baseline_t *)args;
    prctl (PR_SET_NAME, self->dialect == ZAIO_PERF_DIALECT_ZAIO ? "floor-proxy" : "base-proxy");
    zmq_proxy_steerable (zsock_resolve (self->frontend), zsock_resolve (self->backend), NULL,
                         zsock_resolve (self->control_peer));
    return NULL;
}

//  ---------------------------------------------------------------------
//  The class

zaio_perf_baseline_t *
zaio_perf_baseline_new (const char *const *endpoints, const char *file, uint32_t workers,
                        zaio_perf_dialect_t dialect)
{
    assert (endpoints && file && workers >= 1);
    zaio_perf_baseline_t *self = (zaio_perf_baseline_t *)zmalloc (sizeof *self);
    self->file = strdup (file);
    self->dialect = dialect;
    self->endpoints = zlist_new ();
    zlist_autofree (self->endpoints);
    self->frontend = zsock_new (ZMQ_ROUTER);
    self->backend = zsock_new (ZMQ_DEALER);
    assert (self->frontend && self->backend);
    zsock_set_linger (self->frontend, 0);
    zsock_set_linger (self->backend, 0);
    for (size_t i = 0; endpoints[i]; i++) {
        if (zsock_bind (self->frontend, "%s", endpoints[i]) < 0) {
            zsys_error ("baseline: cannot bind %s: %s", endpoints[i], zmq_strerror (zmq_errno ()));
            zaio_perf_baseline_destroy (&self);
            return NULL;
        }
        char *bound = zsock_last_endpoint (self->frontend);
        zlist_append (self->endpoints, bound);
        zstr_free (&bound);
    }
    snprintf (self->backend_endpoint, sizeof self->backend_endpoint,
              "inproc://zaio-perf-baseline-%p", (void *)self);
    int rc = zsock_bind (self->backend, "%s", self->backend_endpoint);
    assert (rc == 0);

    self->workers = (zactor_t **)zmalloc (workers * sizeof (zactor_t *));
    s_worker_args_t args = {self->backend_endpoint, self->file, dialect};
    for (uint32_t i = 0; i < workers; i++) {
        zactor_t *worker = zactor_new (s_worker_actor, &args);
        if (!worker || zsock_wait (worker) != 0) {
            zsys_error ("baseline: worker cannot open %s", file);
            zactor_destroy (&worker);
            zaio_perf_baseline_destroy (&self);
            return NULL;
        }
        self->workers[self->worker_count++] = worker;
    }

    char control[64];
    snprintf (control, sizeof control, "inproc://zaio-perf-baseline-control-%p", (void *)self);
    self->control_peer = zsock_new (ZMQ_PAIR);
    self->control = zsock_new (ZMQ_PAIR);
    assert (self->control_peer && self->control);
    rc = zsock_bind (self->control_peer, "%s", control);
    assert (rc == 0);
    rc = zsock_connect (self->control, "%s", control);
    assert (rc == 0);
    rc = pthread_create (&self->proxy, NULL, s_proxy_thread, self);
    assert (rc == 0);
    self->proxy_running = true;
    return self;
}

void
zaio_perf_baseline_destroy (zaio_perf_baseline_t **self_p)
{
    assert (self_p);
    zaio_perf_baseline_t *self = *self_p;
    if (!self) return;
    if (self->proxy_running) {
        zstr_send (self->control, "TERMINATE");
        pthread_join (self->proxy, NULL);
    }
    for (uint32_t i = 0; i < self->worker_count; i++) zactor_destroy (&self->workers[i]);
    free (self->workers);
    zsock_destroy (&self->control);
    zsock_destroy (&self->control_peer);
    zsock_destroy (&self->backend);
    zsock_destroy (&self->frontend);
    zlist_destroy (&self->endpoints);
    free (self->file);
    free (self);
    *self_p = NULL;
}

char *
zaio_perf_baseline_endpoint (zaio_perf_baseline_t *self, const char *transport)
{
    assert (self && transport);
    size_t length = strlen (transport);
    for (char *item = (char *)zlist_first (self->endpoints); item;
         item = (char *)zlist_next (self->endpoints))
        if (strncmp (item, transport, length) == 0 && strncmp (item + length, "://", 3) == 0)
            return strdup (item);
    return NULL;
}
