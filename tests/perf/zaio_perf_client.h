/*  zaio_perf_client.h: the load generator of the zaio benchmark.

    One DEALER on its own thread drives one server, in one of two dialects:
    ZAIO/1 (schemas/PROTOCOL.md, through the codec a real client uses) or
    the bare frames of the baseline (zaio_perf_baseline.h). The pattern is
    the same for both: a request id per request, replies matched by id,
    either `inflight` requests kept in flight (throughput) or one at a
    time with each round trip timed (latency). Nothing here asserts on
    timings; a wrong or missing reply ends the run with an error text.
*/
#ifndef ZAIO_PERF_CLIENT_H_INCLUDED
#define ZAIO_PERF_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PERF_BLOCK        4096  //  bytes per read, and their alignment
#define ZAIO_PERF_INFLIGHT_MAX 65535 //  request slots a client can track
#define ZAIO_PERF_TIMEOUT_MS   10000 //  a reply later than this fails the run
//  libzmq thread name prefix of a client context: its threads are "7/ZMQbg/..."
#define ZAIO_PERF_CLIENT_PREFIX 7

typedef enum { ZAIO_PERF_DIALECT_ZAIO, ZAIO_PERF_DIALECT_BARE } zaio_perf_dialect_t;

typedef enum { ZAIO_PERF_CASE_PING, ZAIO_PERF_CASE_READ } zaio_perf_case_t;

typedef struct {
    zaio_perf_dialect_t dialect;
    zaio_perf_case_t op;
    const char *endpoint; //  borrowed for the run
    const char *path;     //  zaio: the file's path in the volume
    uint64_t block;       //  bytes per read, and their alignment; 0 = ZAIO_PERF_BLOCK
    uint64_t file_blocks; //  reads pick a block in 0..file_blocks-1
    void *context;        //  libzmq context of the client's socket; NULL = czmq's
    //  CURVE, z85 keys (40 characters), borrowed for the run; all NULL = plain
    const char *curve_server; //  the server's public key
    const char *curve_public; //  the client's key pair
    const char *curve_secret;
    uint32_t inflight;    //  requests kept in flight; 1 = latency run
    uint64_t warmup_ms;   //  replies in this first stretch are not counted
    uint64_t duration_ms; //  replies in the stretch after it are: it lasts at
                          //  least this long and holds at least a few replies
} zaio_perf_client_config_t;

typedef struct {
    uint64_t ops;       //  replies counted in the measured stretch
    double seconds;     //  its length, from the reply that opened it
    double ops_per_sec; //  ops / seconds
    uint64_t samples;   //  round trips timed (latency runs)
    double p50_us;      //  latency percentiles, microseconds
    double p99_us;
    double cpu_us_per_op;   //  CPU time of the whole process (client and server
                            //  threads) per reply in the measured stretch
    double switches_per_op; //  context switches of the process, likewise
    //  With a context of the client's own, the CPU time per reply of the
    //  client's threads (its thread and its context's), of its context's
    //  I/O threads alone, and of every other libzmq I/O thread (the
    //  server's, where CURVE encrypts and decrypts); 0 without one.
    double client_cpu_us_per_op;
    double client_io_us_per_op;
    double server_io_us_per_op;
    char error[256]; //  why the run failed; empty on success
} zaio_perf_result_t;

//  A libzmq context for clients, its threads named with
//  ZAIO_PERF_CLIENT_PREFIX; io_threads 0 = libzmq's default. The caller
//  terminates it (zmq_ctx_term).
void *zaio_perf_client_context_new (int io_threads);

//  Run one measurement on a new client thread and wait for it. Returns 0,
//  or -1 with result->error set.
int zaio_perf_client_run (const zaio_perf_client_config_t *config, zaio_perf_result_t *result);

#ifdef __cplusplus
}
#endif

#endif
