/*  zaio_daemon.h: what zaio-broker and zaio-worker share as processes. It
    lives in the internal library, so neither daemon reaches into the
    other's folder for it.

    Signals: the daemon blocks SIGINT and SIGTERM before it starts any
    thread, so every thread inherits the mask and never sees EINTR; its main
    thread alone waits for them with sigwait. Logs go to stderr under the
    daemon's name; stdout is line-buffered for the lines tests read. The
    open file limit is raised to its hard limit.

    Under systemd (Type=notify: NOTIFY_SOCKET set), the daemon tells the
    service manager READY=1 when it prints "ready", and STOPPING=1 when a
    signal makes it drain (sd_notify, libsystemd). Only the daemons link
    this file, so neither libzaio nor the embedded broker needs libsystemd.
*/
#ifndef ZAIO_DAEMON_H_INCLUDED
#define ZAIO_DAEMON_H_INCLUDED

#include "zaio_log.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct option;

//  Call first in main, before any thread exists. name is the log ident.
void zaio_daemon_init (const char *name);

//  Sets the log format of the process (zaio_log_set_format). In json,
//  czmq's own log lines (its format, not JSON) are turned off too, so
//  that every line on stderr parses; in text they stay on.
void zaio_daemon_log_format (zaio_log_format_t format);

//  Before the options are parsed: applies --log-format if argv holds a
//  valid one (so the config file's errors are logged in it too; a bad one
//  is refused later, by zaio_daemon_option), and returns the value of the
//  last --config/-C, or NULL if there is none (borrowed from argv). It
//  reads argv with getopt_long and the daemon's own short_options and
//  long_options, as zaio_daemon_option will, so they agree on every form.
const char *zaio_daemon_early (int argc, char **argv, const char *short_options,
                               const struct option *long_options);

//  Parse option's value text as a number in [min, max]; on anything else
//  print "NAME: OPTION needs a number in MIN..MAX" and exit 2 (usage).
uint64_t zaio_daemon_number (const char *option, const char *text, uint64_t min, uint64_t max);

//  The options both daemons take, with the same names and ranges: a
//  daemon's getopt_long table holds ZAIO_DAEMON_SHARED_OPTIONS among its
//  own and ends with ZAIO_DAEMON_LAST_OPTIONS (--verbose, --log-format,
//  -V/--version, -h/--help, the end); its short options end with
//  ZAIO_DAEMON_SHORT_OPTIONS. --verbose has no short form: -v is --volume
//  in zaio and zaio-worker (one meaning per letter across the three).
enum {
    ZAIO_DAEMON_OPT_PAYLOAD = 0x1000,
    ZAIO_DAEMON_OPT_HEARTBEAT,
    ZAIO_DAEMON_OPT_MISSES,
    ZAIO_DAEMON_OPT_DRAIN,
    ZAIO_DAEMON_OPT_VERBOSE,
    ZAIO_DAEMON_OPT_LOG_FORMAT
};
// clang-format off
#define ZAIO_DAEMON_SHARED_OPTIONS                                            \
    {"payload-max", required_argument, NULL, ZAIO_DAEMON_OPT_PAYLOAD},        \
    {"heartbeat-ms", required_argument, NULL, ZAIO_DAEMON_OPT_HEARTBEAT},     \
    {"heartbeat-misses", required_argument, NULL, ZAIO_DAEMON_OPT_MISSES},    \
    {"drain-ms", required_argument, NULL, ZAIO_DAEMON_OPT_DRAIN}
#define ZAIO_DAEMON_LAST_OPTIONS                                              \
    {"verbose", no_argument, NULL, ZAIO_DAEMON_OPT_VERBOSE},                  \
    {"log-format", required_argument, NULL, ZAIO_DAEMON_OPT_LOG_FORMAT},      \
    {"version", no_argument, NULL, 'V'},                                      \
    {"help", no_argument, NULL, 'h'},                                         \
    {NULL, 0, NULL, 0}
// clang-format on
#define ZAIO_DAEMON_SHORT_OPTIONS "Vh"

//  Where the shared options' values go.
typedef struct {
    size_t *payload_max;
    uint32_t *heartbeat_ms;
    uint32_t *heartbeat_misses;
    uint32_t *drain_ms;
    bool *verbose;
    const char **log_format; //  "text" or "json", checked (and applied)
} zaio_daemon_shared_t;

//  A daemon's command line, as zaio_daemon_option reads it (all borrowed).
typedef struct {
    const char *short_options;         //  for getopt_long
    const struct option *long_options; //  for getopt_long
    void (*usage) (FILE *out);         //  prints the daemon's usage text
    zaio_daemon_shared_t shared;
} zaio_daemon_args_t;

//  The next option of the daemon's own, as getopt_long returns it (optarg
//  holds its value), or -1 after the last option. Stores the shared ones,
//  --verbose and --log-format itself (and applies the last two to the
//  log); --help prints the usage on stdout and exits 0, --version prints
//  "NAME VERSION" on stdout and exits 0; an unknown option, or one without
//  its value, prints the usage on stderr and exits 2. Exits 2 on a bad
//  value of a shared option.
int zaio_daemon_option (int argc, char **argv, const zaio_daemon_args_t *args);

//  Say the daemon is up, on stdout: the lines of the list *lines_p, if
//  there is one (it is destroyed and *lines_p nulled; lines_p may be NULL),
//  then "ready", the line scripts and tests wait for, and READY=1 to
//  systemd. Then block until SIGINT or SIGTERM arrives, tell systemd
//  STOPPING=1, and return which.
int zaio_daemon_ready (zlist_t **lines_p);

#ifdef __cplusplus
}
#endif

#endif
