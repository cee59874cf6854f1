/*  zaio_peer_side.h: what the peers section's C programs share
    (scripts/bench --only peers): one command line, one way to pick
    offsets, to count CPU time, and to print the result.

    Every program reads --size-byte blocks (default 4 KiB) at random
    aligned offsets of --file (a file in the page cache) for --seconds,
    keeping --inflight reads in flight on --threads threads where it has
    them, and prints one JSON line:

      {"side": NAME, "ops_per_sec": ..., "ops": N, "seconds": S,
       "cpu_us_per_op": ..., "errors": N, ...}

    cpu_us_per_op is this process's CPU time (all its threads) per read in
    the measured stretch. With --broker-pid and --worker-pid, the CPU time
    of those processes in the same stretch per read as well
    (broker_cpu_us_per_op, worker_cpu_us_per_op), from /proc. No libzmq
    here: the libuv and io_uring programs link only their own library.
*/
#ifndef ZAIO_PEER_SIDE_H_INCLUDED
#define ZAIO_PEER_SIDE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PEER_SIZE     4096 //  bytes per read unless --size
#define ZAIO_PEER_INFLIGHT 64   //  reads in flight unless --inflight
#define ZAIO_PEER_THREADS  2    //  threads of a threaded side unless --threads
#define ZAIO_PEER_SECONDS  1.0  //  measured seconds unless --seconds

typedef struct {
    const char *program;  //  names the messages on stderr
    const char *file;     //  --file: the path read (pread, libuv, io_uring)
    const char *path;     //  --path: the file's path in a zaio volume
    const char *endpoint; //  --endpoint: a zaio broker's client endpoint
    const char *root;     //  --root: served by an embedded broker (inproc)
    const char *volume;   //  --volume: the zaio volume; NULL = the default
    double seconds;
    uint32_t inflight;
    uint32_t threads;
    uint64_t size;
    bool batch;     //  --batch: submit in batches
    int broker_pid; //  0 = not measured
    int worker_pid;
} zaio_peer_options_t;

//  Parses argv into options (program names the messages). Returns 0, or
//  -1 with the usage said on stderr.
int zaio_peer_options_parse (zaio_peer_options_t *options, const char *program, int argc,
                             char *argv[]);

//  Opens options->file for reading; *blocks = its whole size-byte blocks.
//  Returns the descriptor, or -1 (said on stderr) if it cannot be opened or
//  holds no whole block.
int zaio_peer_open (const zaio_peer_options_t *options, uint64_t *blocks);

//  The next random block of a file of blocks blocks, as a byte offset of
//  size-byte blocks; state is the caller's (any value but 0).
uint64_t zaio_peer_offset (uint64_t *state, uint64_t blocks, uint64_t size);

//  Seconds on a monotonic clock.
double zaio_peer_now (void);

//  The measured stretch: the time and the CPU time of this process and of
//  the pids in options, taken at its start and at its end.
typedef struct {
    double wall;
    double cpu;
    double broker_cpu;
    double worker_cpu;
} zaio_peer_clock_t;

void zaio_peer_clock_read (const zaio_peer_options_t *options, zaio_peer_clock_t *clock);

//  Prints the JSON line of side from the stretch start..end with ops reads
//  done and errors failed, and returns the exit status: 1 if any read
//  failed or none was done, else 0.
int zaio_peer_print (const zaio_peer_options_t *options, const char *side,
                     const zaio_peer_clock_t *start, const zaio_peer_clock_t *end, uint64_t ops,
                     uint64_t errors);

#ifdef __cplusplus
}
#endif

#endif
