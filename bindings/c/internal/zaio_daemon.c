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

//  The value of option (a long one, "--config", or a short one, "-C") at
//  argv[*i], in any of getopt's forms; NULL if argv[*i] is not it. Moves
//  *i past a value that was the next argument.
static const char *
s_early_value (int argc, char **argv, int *i, const char *long_name, const char *short_name)
{
    const char *arg = argv[*i];
    size_t long_len = strlen (long_name);
    if (strncmp (arg, long_name, long_len) == 0 && arg[long_len] == '=') return arg + long_len + 1;
    bool is_long = strcmp (arg, long_name) == 0;
    bool is_short = short_name && strcmp (arg, short_name) == 0;
    if (is_long || is_short) return *i + 1 < argc ? argv[++*i] : NULL;
    if (short_name && strncmp (arg, short_name, 2) == 0 && arg[2]) return arg + 2;
    return NULL;
}

const char *
zaio_daemon_early (int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--") == 0) break;
        const char *value;
        zaio_log_format_t format;
        if ((value = s_early_value (argc, argv, &i, "--config", "-C")))
            config = value;
        else if ((value = s_early_value (argc, argv, &i, "--log-format", NULL)) &&
                 zaio_log_format_parse (value, &format) == 0)
            zaio_daemon_log_format (format);
    }
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
