/*  zaio_load.h: a mixed job load whose every outcome can be checked, for
    the remote-worker failure tests (tests/test_remote_failover.c on
    loopback, tests/netns/ across network namespaces).

    A run sends `jobs` requests from several pipelined DEALERs over two
    volumes (the first is the one that may lose a worker): idempotent ops
    (read, stat, listdir, readfile) on fixtures zaio_load_prepare wrote
    directly into the volumes' directories, and non-idempotent ones
    (writefile, write, append, unlink, rename, mkdir) on paths of their
    own. Optionally it kills a worker process when half the replies are in.

    It then checks, and reports every breach on stderr:
      * every job got exactly one reply (no silence, no duplicates);
      * every idempotent job succeeded, with the right data;
      * every acknowledged change is on disk, read back from the directory;
        appends land where their replies said, and each file holds no more
        than the acknowledged plus the unknown appends (nothing ran twice);
      * UNKNOWN_OUTCOME only for non-idempotent jobs of the first volume,
        after the kill, naming the killed worker, at most its credit;
      * with an events endpoint: one completion event per job, in seq
        order without gaps, whose outcome matches the reply; and the
        workers that ran each volume's jobs (to see load shared).

    Request ids are job numbers; DEALER routing ids are
    "load-<tag>-<pid>-<n>", so a run's events are told apart.
*/
#ifndef ZAIO_LOAD_H_INCLUDED
#define ZAIO_LOAD_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_LOAD_VOLUMES     2
#define ZAIO_LOAD_WORKERS_MAX 16 //  worker names tracked per volume

typedef struct {
    const char *endpoint;                  //  broker client endpoint
    const char *events;                    //  broker events endpoint; NULL: no event checks
    const char *volume[ZAIO_LOAD_VOLUMES]; //  [0] may lose a worker, [1] must not
    const char *dir[ZAIO_LOAD_VOLUMES];    //  their directories, as this process sees them
    const char *tag;                       //  names this run's files; unique per run
    uint32_t jobs;
    uint32_t clients;    //  DEALER sockets
    uint32_t window;     //  requests in flight per DEALER
    uint32_t timeout_ms; //  longest wait for any reply before the run is declared stuck
    //  Optional: when kill_at replies are in, send kill_signal to kill_pid.
    //  After SIGKILL, jobs the worker held may be answered UNKNOWN_OUTCOME
    //  (at most kill_credit, naming kill_name); after SIGTERM (BYE) none.
    pid_t kill_pid;
    int kill_signal;
    uint32_t kill_at;
    const char *kill_name;
    uint32_t kill_credit;
    bool quiet; //  no summary line on stdout
} zaio_load_config_t;

typedef struct {
    char name[128]; //  HOST/PID/SLOT as events name it
    uint32_t jobs;
} zaio_load_worker_t;

typedef struct {
    uint32_t violations; //  breaches of the invariants above; 0 = pass
    uint32_t answered;
    uint32_t ok;
    uint32_t unknown_outcome;
    uint32_t idempotent_ok;
    uint32_t changes_checked; //  acknowledged changes read back from disk
    uint32_t events;
    double seconds; //  first request to last reply
    double jobs_per_sec;
    //  Who ran the jobs, from the events.
    zaio_load_worker_t workers[ZAIO_LOAD_VOLUMES][ZAIO_LOAD_WORKERS_MAX];
    uint32_t worker_count[ZAIO_LOAD_VOLUMES];
} zaio_load_result_t;

//  Every socket the load makes from now on (clients, events, hello) speaks
//  CURVE to the broker whose public certificate is server_cert, as the
//  client of client_cert (czmq certificate files); events then name the
//  load's clients by that certificate's name. Returns -1 if either cannot
//  be loaded.
int zaio_load_set_curve (const char *server_cert, const char *client_cert);

//  Writes the fixtures of a run into both directories. Returns 0 or -1.
int zaio_load_prepare (const zaio_load_config_t *config);

//  Runs the load and checks it. Returns result->violations.
uint32_t zaio_load_run (const zaio_load_config_t *config, zaio_load_result_t *result);

//  Number of live workers hello reports for volume: -1 if hello does not
//  list it, -2 if no reply came within timeout_ms.
int zaio_load_hello_workers (const char *endpoint, const char *volume, int timeout_ms);

//  Asks hello every 50 ms until it reports count workers for volume.
//  Returns the milliseconds that took, or -1 after timeout_ms.
int zaio_load_wait_workers (const char *endpoint, const char *volume, int count, int timeout_ms);

//  Sends jobs requests for volume, one at a time (ping and a writefile of
//  "expect-error", alternately), and expects each to be answered with
//  error (a zaio error code, 0 for ok). Returns how many were not.
uint32_t zaio_load_expect_error (const char *endpoint, const char *volume, uint32_t jobs,
                                 int error);

#ifdef __cplusplus
}
#endif

#endif
