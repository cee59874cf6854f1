/*  zaio_proc.c: daemons as child processes; see zaio_proc.h. */

#include "zaio_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  In the child, between fork and exec: only async-signal-safe calls.
static void
s_child (const char *const *argv, int out, const zaio_proc_options_t *options, pid_t parent)
{
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent) _exit (127); //  the parent died before prctl
    dup2 (out, 1);
    if (options->log_path) {
        int log = open (options->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log >= 0) dup2 (log, 2);
    }
    //  A descriptor the test opened without O_CLOEXEC would count against
    //  the child's limit and keep the test's connections open.
    for (int fd = 3; fd < 1024; fd++) close (fd);
    if (options->nofile > 0) {
        struct rlimit limit = {(rlim_t)options->nofile, (rlim_t)options->nofile};
        if (setrlimit (RLIMIT_NOFILE, &limit)) _exit (126);
    }
    //  Signals blocked by the test (czmq's handler is not ours) would be
    //  inherited blocked: the daemons sigwait for theirs, so that is fine,
    //  but start them with an empty mask all the same.
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    execv (argv[0], (char *const *)argv);
    _exit (127);
}

//  Reads the child's stdout until "ready", keeping the lines before it.
static int
s_read_until_ready (zaio_proc_t *self, int timeout_ms)
{
    char buffer[4096];
    size_t used = 0;
    int64_t until = s_now_ms () + timeout_ms;
    while (true) {
        int64_t left = until - s_now_ms ();
        if (left <= 0) return -1;
        struct pollfd item = {self->out, POLLIN, 0};
        int rc = poll (&item, 1, (int)left);
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) return -1;
        ssize_t got = read (self->out, buffer + used, sizeof buffer - 1 - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1; //  it exited (or closed stdout) first
        used += (size_t)got;
        buffer[used] = 0;
        char *line = buffer, *newline;
        while ((newline = strchr (line, '\n'))) {
            *newline = 0;
            if (strcmp (line, "ready") == 0) return 0;
            if (self->line_count < ZAIO_PROC_LINES)
                snprintf (self->lines[self->line_count++], ZAIO_PROC_LINE_MAX, "%.*s",
                          ZAIO_PROC_LINE_MAX - 1, line); //  longer lines are cut
            line = newline + 1;
        }
        used = strlen (line);
        memmove (buffer, line, used);
        if (used == sizeof buffer - 1) used = 0; //  an absurd line: drop it
    }
}

int
zaio_proc_start (zaio_proc_t *self, const char *const *argv, const char *log_path, int timeout_ms)
{
    zaio_proc_options_t options = {.log_path = log_path, .timeout_ms = timeout_ms};
    return zaio_proc_start_with (self, argv, &options);
}

int
zaio_proc_start_with (zaio_proc_t *self, const char *const *argv,
                      const zaio_proc_options_t *options)
{
    int timeout_ms = options->timeout_ms;
    memset (self, 0, sizeof *self);
    int out[2];
    if (pipe2 (out, O_CLOEXEC)) return -1;
    //  Whatever the test printed must not be printed again by the child.
    fflush (stdout);
    fflush (stderr);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        close (out[0]);
        close (out[1]);
        return -1;
    }
    if (pid == 0) s_child (argv, out[1], options, parent);
    close (out[1]);
    self->pid = pid;
    self->out = out[0];
    self->open = true;
    if (s_read_until_ready (self, timeout_ms)) {
        fprintf (stderr, "zaio_proc: %s did not print 'ready' within %d ms\n", argv[0], timeout_ms);
        zaio_proc_stop (self);
        return -1;
    }
    return 0;
}

const char *
zaio_proc_line (const zaio_proc_t *self, const char *prefix)
{
    size_t length = strlen (prefix);
    for (size_t i = 0; i < self->line_count; i++)
        if (strncmp (self->lines[i], prefix, length) == 0) return self->lines[i] + length;
    return NULL;
}

int
zaio_proc_signal (zaio_proc_t *self, int sig)
{
    if (self->pid <= 0) return -1;
    return kill (self->pid, sig);
}

int
zaio_proc_wait (zaio_proc_t *self, int timeout_ms)
{
    if (self->pid <= 0) return self->status;
    //  A pidfd becomes readable when the child exits: poll it, no sleeping.
    int pidfd = (int)syscall (SYS_pidfd_open, self->pid, 0);
    int64_t until = s_now_ms () + timeout_ms;
    while (true) {
        int status;
        pid_t rc = waitpid (self->pid, &status, WNOHANG);
        if (rc == self->pid) {
            self->status = status;
            self->pid = 0;
            break;
        }
        int64_t left = until - s_now_ms ();
        if (left <= 0) break;
        if (pidfd >= 0) {
            struct pollfd item = {pidfd, POLLIN, 0};
            poll (&item, 1, (int)left);
        } else {
            struct timespec pause = {0, 5 * 1000 * 1000}; //  old kernel: poll waitpid
            nanosleep (&pause, NULL);
        }
    }
    if (pidfd >= 0) close (pidfd);
    return self->pid ? -1 : self->status;
}

bool
zaio_proc_exited_ok (const zaio_proc_t *self)
{
    return self->pid == 0 && WIFEXITED (self->status) && WEXITSTATUS (self->status) == 0;
}

void
zaio_proc_stop (zaio_proc_t *self)
{
    if (self->pid > 0) {
        kill (self->pid, SIGKILL);
        int status;
        if (waitpid (self->pid, &status, 0) == self->pid) self->status = status;
        self->pid = 0;
    }
    if (self->open) close (self->out);
    self->open = false;
}
