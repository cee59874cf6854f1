/*  zaio_daemon.c: process plumbing shared by the daemons; see zaio_daemon.h. */

#include "zaio_daemon.h"
#include "zaio_log.h"
#include "zaio_proto.h"

#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

static const char *s_name = "zaio";

static void
s_signals (sigset_t *signals)
{
    sigemptyset (signals);
    sigaddset (signals, SIGINT);
    sigaddset (signals, SIGTERM);
}

void
zaio_daemon_init (const char *name)
{
    s_name = name;
    zsys_handler_set (NULL); //  czmq's handler would interrupt every thread
    sigset_t signals;
    s_signals (&signals);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    zsys_set_logident (name);
    zaio_log_set_program (name);
    zsys_set_logstream (stderr);
    setvbuf (stdout, NULL, _IOLBF, 0);
    //  Connections, and the files each IO thread keeps open for reads, want
    //  more descriptors than the usual soft limit of 1024: take what the
    //  hard limit allows, as servers do.
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &files))
            zaio_log_warning ("daemon", "cannot raise the open file limit: %s", strerror (errno));
    }
}

void
zaio_daemon_log_format (zaio_log_format_t format)
{
    zaio_log_set_format (format);
    zsys_set_logstream (format == ZAIO_LOG_JSON ? NULL : stderr);
}

const char *
zaio_daemon_early (int argc, char **argv, const char *short_options,
                   const struct option *long_options)
{
    //  The same parser the real pass uses, so every form it takes (a
    //  shortened long name, "-Cfile", "--config=file") counts here too;
    //  its complaints wait for the real pass.
    const char *config = NULL;
    int saved_opterr = opterr;
    opterr = 0;
    optind = 0; //  glibc: start afresh
    int option;
    while ((option = getopt_long (argc, argv, short_options, long_options, NULL)) != -1) {
        zaio_log_format_t format;
        if (option == 'C')
            config = optarg;
        else if (option == ZAIO_DAEMON_OPT_LOG_FORMAT &&
                 zaio_log_format_parse (optarg, &format) == 0)
            zaio_daemon_log_format (format);
    }
    opterr = saved_opterr;
    optind = 0;
    return config;
}

//  Block until SIGINT or SIGTERM arrives; returns which.
static int
s_wait (void)
{
    sigset_t signals;
    s_signals (&signals);
    int signal_number = 0;
    while (sigwait (&signals, &signal_number) != 0) {
    }
    return signal_number;
}

uint64_t
zaio_daemon_number (const char *option, const char *text, uint64_t min, uint64_t max)
{
    char *end;
    unsigned long long value = strtoull (text, &end, 10);
    if (end == text || *end || *text == '-' || value < min || value > max) {
        fprintf (stderr, "%s: %s needs a number in %llu..%llu, not '%s'\n", s_name, option,
                 (unsigned long long)min, (unsigned long long)max, text);
        exit (2);
    }
    return value;
}

//  Stores text for option if it is a shared one (--verbose too) and returns
//  true; false for any other option. Exits 2 on a bad value.
static bool
s_shared_option (int option, const char *text, const zaio_daemon_shared_t *into)
{
    switch (option) {
        case ZAIO_DAEMON_OPT_PAYLOAD:
            *into->payload_max =
                (size_t)zaio_daemon_number ("--payload-max", text, 1, ZAIO_PAYLOAD_CEILING);
            return true;
        case ZAIO_DAEMON_OPT_HEARTBEAT:
            *into->heartbeat_ms =
                (uint32_t)zaio_daemon_number ("--heartbeat-ms", text, 10, 3600000);
            return true;
        case ZAIO_DAEMON_OPT_MISSES:
            *into->heartbeat_misses =
                (uint32_t)zaio_daemon_number ("--heartbeat-misses", text, 1, 1000);
            return true;
        case ZAIO_DAEMON_OPT_DRAIN:
            *into->drain_ms = (uint32_t)zaio_daemon_number ("--drain-ms", text, 0, 3600000);
            return true;
        case ZAIO_DAEMON_OPT_VERBOSE:
            *into->verbose = true;
            zaio_log_set_level (ZAIO_LOG_DEBUG);
            return true;
        case ZAIO_DAEMON_OPT_LOG_FORMAT: {
            zaio_log_format_t format;
            if (zaio_log_format_parse (text, &format)) {
                fprintf (stderr, "%s: --log-format is text or json, not '%s'\n", s_name, text);
                exit (2);
            }
            zaio_daemon_log_format (format);
            *into->log_format = text;
            return true;
        }
        default:
            return false;
    }
}

int
zaio_daemon_option (int argc, char **argv, const zaio_daemon_args_t *args)
{
    while (true) {
        int option = getopt_long (argc, argv, args->short_options, args->long_options, NULL);
        if (s_shared_option (option, optarg, &args->shared)) continue;
        if (option == 'h') {
            args->usage (stdout);
            exit (0);
        }
        if (option == 'V') {
            printf ("%s %s\n", s_name, ZAIO_VERSION_STRING);
            exit (0);
        }
        if (option == '?') {
            args->usage (stderr);
            exit (2);
        }
        return option;
    }
}

int
zaio_daemon_ready (zlist_t **lines_p)
{
    if (lines_p && *lines_p) {
        for (char *line = (char *)zlist_first (*lines_p); line;
             line = (char *)zlist_next (*lines_p))
            printf ("%s\n", line);
        zlist_destroy (lines_p);
    }
    printf ("ready\n");
    //  Without NOTIFY_SOCKET (not under systemd) sd_notify does nothing.
    sd_notifyf (0, "READY=1\nSTATUS=serving\nMAINPID=%lu", (unsigned long)getpid ());
    int signal_number = s_wait ();
    sd_notifyf (0, "STOPPING=1\nSTATUS=draining after %s",
                signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    return signal_number;
}
