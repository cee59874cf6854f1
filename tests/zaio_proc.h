/*  zaio_proc.h: zaio-broker and zaio-worker as child processes, for the
    tests that run the daemons themselves (testutil.h's zaio_test_daemon),
    the remote-worker tests and the remote bench.

    A child is started with its stdout on a pipe; zaio_proc_start returns
    once it has printed "ready" (both daemons do, after binding or
    starting), keeping the lines before it ("client tcp://...", "workers
    ..."). The pipe stays open until the child is reaped, so a late line
    never kills it with SIGPIPE. Every child has PR_SET_PDEATHSIG SIGKILL:
    if the test dies, nothing it started outlives it. It inherits no
    descriptor of the test's but its stdin, stdout and stderr.
*/
#ifndef ZAIO_PROC_H_INCLUDED
#define ZAIO_PROC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PROC_LINES    8
#define ZAIO_PROC_LINE_MAX 160

typedef struct {
    pid_t pid;  //  0 once reaped
    int out;    //  read end of its stdout, when open
    bool open;  //  out is open
    int status; //  wait status once reaped
    char lines[ZAIO_PROC_LINES][ZAIO_PROC_LINE_MAX];
    size_t line_count;
} zaio_proc_t;

typedef struct {
    const char *log_path; //  its stderr, appended, if not NULL; else ours
    int nofile;           //  its RLIMIT_NOFILE (soft and hard), if not 0
    int timeout_ms;       //  for "ready"
} zaio_proc_options_t;

//  Starts argv[0] (a path) with argv (NULL-terminated) as options say.
//  Waits up to options->timeout_ms for it to print "ready". Returns 0, or
//  -1 (the child is killed and reaped) if it exits or stays silent.
int zaio_proc_start_with (zaio_proc_t *self, const char *const *argv,
                          const zaio_proc_options_t *options);

//  zaio_proc_start_with, its stderr to log_path (appended) if not NULL,
//  else to ours, under our own limits.
int zaio_proc_start (zaio_proc_t *self, const char *const *argv, const char *log_path,
                     int timeout_ms);

//  What follows prefix on the first line that starts with it (e.g.
//  "workers " gives "tcp://127.0.0.1:41234"); NULL if no line does.
const char *zaio_proc_line (const zaio_proc_t *self, const char *prefix);

//  Sends sig to a running child. Returns 0 or -1.
int zaio_proc_signal (zaio_proc_t *self, int sig);

//  Waits up to timeout_ms for the child to exit and reaps it. Returns its
//  wait status, or -1 if it is still running (it is left running).
int zaio_proc_wait (zaio_proc_t *self, int timeout_ms);

//  True if the child exited normally with status 0.
bool zaio_proc_exited_ok (const zaio_proc_t *self);

//  SIGKILL if still running, reap, close the pipe. Safe to call twice,
//  and on a zeroed zaio_proc_t that was never started.
void zaio_proc_stop (zaio_proc_t *self);

#ifdef __cplusplus
}
#endif

#endif
