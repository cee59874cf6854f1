/*  zaio_peer_uv: libuv's answer to the peers section's reads:
    uv_fs_read (2) on libuv's thread pool of --threads threads
    (UV_THREADPOOL_SIZE), --inflight reads in flight from one loop.

    zaio_peer_uv --file FILE [--seconds S] [--inflight N] [--threads N]
                 [--size BYTES]

    Prints the JSON line of zaio_peer_side.h, side "libuv". Built only
    where libuv is found (Debian libuv1-dev).
*/

#include "zaio_peer_side.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
    const zaio_peer_options_t *options;
    uv_loop_t *loop;
    uv_file fd;
    uint64_t blocks;
    uint64_t state;
    double until;
    uint64_t ops;
    uint64_t errors;
} s_bench_t;

//  One read in flight: its request and its block; req.data is the bench.
typedef struct {
    uv_fs_t req;
    uv_buf_t buf;
} s_slot_t;

static void s_submit (s_bench_t *self, s_slot_t *slot);

//  Runs on the loop's thread when a read is done: counts it and, until
//  the time is up, starts the next one in the same slot.
static void
s_on_read (uv_fs_t *req)
{
    s_bench_t *self = (s_bench_t *)req->data;
    if (req->result != (ssize_t)self->options->size) self->errors++;
    self->ops++;
    uv_fs_req_cleanup (req);
    if (zaio_peer_now () < self->until) s_submit (self, (s_slot_t *)req);
}

static void
s_submit (s_bench_t *self, s_slot_t *slot)
{
    slot->req.data = self;
    int64_t offset = (int64_t)zaio_peer_offset (&self->state, self->blocks, self->options->size);
    if (uv_fs_read (self->loop, &slot->req, self->fd, &slot->buf, 1, offset, s_on_read)) {
        self->errors++;
        self->ops++;
    }
}

int
main (int argc, char *argv[])
{
    zaio_peer_options_t options;
    if (zaio_peer_options_parse (&options, "zaio_peer_uv", argc, argv)) return 2;
    //  Read by libuv when its pool first starts, at the first read.
    char threads[16];
    snprintf (threads, sizeof threads, "%u", options.threads);
    setenv ("UV_THREADPOOL_SIZE", threads, 1);
    s_bench_t self = {.options = &options, .state = 0x9e3779b97f4a7c15ull};
    self.fd = zaio_peer_open (&options, &self.blocks);
    if (self.fd < 0) return 1;
    self.loop = uv_default_loop ();
    s_slot_t *slots = (s_slot_t *)calloc (options.inflight, sizeof (s_slot_t));
    char *blocks = (char *)malloc (options.inflight * options.size);
    if (!slots || !blocks) return 1;
    zaio_peer_clock_t start, end;
    zaio_peer_clock_read (&options, &start);
    self.until = start.wall + options.seconds;
    for (uint32_t i = 0; i < options.inflight; i++) {
        slots[i].buf = uv_buf_init (blocks + i * options.size, (unsigned int)options.size);
        s_submit (&self, &slots[i]);
    }
    uv_run (self.loop, UV_RUN_DEFAULT);
    zaio_peer_clock_read (&options, &end);
    uv_loop_close (self.loop);
    free (blocks);
    free (slots);
    close (self.fd);
    return zaio_peer_print (&options, "libuv", &start, &end, self.ops, self.errors);
}
