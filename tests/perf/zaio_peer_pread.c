/*  zaio_peer_pread: the physical reference of the peers section: one
    thread calling pread (2) in a loop, one read at a time.

    zaio_peer_pread --file FILE [--seconds S] [--size BYTES]

    Prints the JSON line of zaio_peer_side.h, side "pread".
*/

#include "zaio_peer_side.h"

#include <stdlib.h>
#include <unistd.h>

int
main (int argc, char *argv[])
{
    zaio_peer_options_t options;
    if (zaio_peer_options_parse (&options, "zaio_peer_pread", argc, argv)) return 2;
    options.inflight = options.threads = 1;
    uint64_t blocks;
    int fd = zaio_peer_open (&options, &blocks);
    if (fd < 0) return 1;
    char *block = (char *)malloc (options.size);
    uint64_t state = 0x9e3779b97f4a7c15ull, ops = 0, errors = 0;
    zaio_peer_clock_t start, end;
    zaio_peer_clock_read (&options, &start);
    double until = start.wall + options.seconds;
    //  The clock is read every 256 reads: a read of a cached block costs
    //  about a microsecond, the clock a fair part of that.
    while ((ops & 255) || zaio_peer_now () < until) {
        off_t offset = (off_t)zaio_peer_offset (&state, blocks, options.size);
        if (pread (fd, block, options.size, offset) != (ssize_t)options.size) errors++;
        ops++;
    }
    zaio_peer_clock_read (&options, &end);
    free (block);
    close (fd);
    return zaio_peer_print (&options, "pread", &start, &end, ops, errors);
}
