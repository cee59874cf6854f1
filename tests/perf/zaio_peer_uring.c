/*  zaio_peer_uring: io_uring's answer to the peers section's reads: one
    thread keeping --inflight reads in flight on one ring (liburing),
    submitting what completed in one io_uring_submit_and_wait per round.
    Reads of cached blocks complete inline in the kernel; the ring has no
    thread pool of its own to size (--threads is not used).

    zaio_peer_uring --file FILE [--seconds S] [--inflight N] [--size BYTES]

    Prints the JSON line of zaio_peer_side.h, side "io_uring", or
    {"side": "io_uring", "missing": WHY} where the kernel will not set up a
    ring. Built only where liburing is found (Debian liburing-dev).
*/

#include "zaio_peer_side.h"

#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Queues a read into block slot of blocks, its user data the slot.
static void
s_queue (struct io_uring *ring, int fd, char *blocks, uint64_t slot, uint64_t offset, uint64_t size)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe (ring);
    io_uring_prep_read (sqe, fd, blocks + slot * size, (unsigned)size, offset);
    io_uring_sqe_set_data64 (sqe, slot);
}

int
main (int argc, char *argv[])
{
    zaio_peer_options_t options;
    if (zaio_peer_options_parse (&options, "zaio_peer_uring", argc, argv)) return 2;
    options.threads = 1;
    uint64_t blocks_in_file, state = 0x9e3779b97f4a7c15ull, ops = 0, errors = 0;
    int fd = zaio_peer_open (&options, &blocks_in_file);
    if (fd < 0) return 1;
    struct io_uring ring;
    int rc = io_uring_queue_init (options.inflight, &ring, 0);
    if (rc < 0) {
        //  A kernel without io_uring, or one that refuses it here (seccomp,
        //  kernel.io_uring_disabled): nothing to measure, which is no failure.
        printf ("{\"side\": \"io_uring\", \"missing\": \"io_uring_queue_init: %s\"}\n",
                strerror (-rc));
        return 0;
    }
    char *blocks = (char *)malloc (options.inflight * options.size);
    if (!blocks) return 1;
    zaio_peer_clock_t start, end;
    zaio_peer_clock_read (&options, &start);
    double until = start.wall + options.seconds;
    for (uint64_t slot = 0; slot < options.inflight; slot++)
        s_queue (&ring, fd, blocks, slot, zaio_peer_offset (&state, blocks_in_file, options.size),
                 options.size);
    uint32_t inflight = options.inflight;
    bool more = true;
    while (inflight) {
        if (io_uring_submit_and_wait (&ring, 1) < 0) break;
        more = more && zaio_peer_now () < until;
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe (&ring, head, cqe)
        {
            if (cqe->res != (int)options.size) errors++;
            ops++;
            seen++;
            if (more)
                s_queue (&ring, fd, blocks, io_uring_cqe_get_data64 (cqe),
                         zaio_peer_offset (&state, blocks_in_file, options.size), options.size);
            else
                inflight--;
        }
        io_uring_cq_advance (&ring, seen);
    }
    zaio_peer_clock_read (&options, &end);
    io_uring_queue_exit (&ring);
    free (blocks);
    close (fd);
    return zaio_peer_print (&options, "io_uring", &start, &end, ops, errors);
}
