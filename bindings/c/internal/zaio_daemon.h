/*  zaio_daemon.h: what zaio-broker and zaio-worker share as processes. It
    lives in the internal library, so neither daemon reaches into the
    other's folder for it.

    Signals: the daemon blocks SIGINT and SIGTERM before it starts any
    thread, so every thread inherits the mask and never sees EINTR; its main
    thread alone waits for them with sigwait. Logs go to stderr under the
    daemon's name; stdout is line-buffered for the lines tests read. The
    open file limit is raised to its hard limit.
*/
#ifndef ZAIO_DAEMON_H_INCLUDED
#define ZAIO_DAEMON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Call first in main, before any thread exists. name is the log ident.
void zaio_daemon_init (const char *name);

//  Block until SIGINT or SIGTERM arrives; returns which.
int zaio_daemon_wait (void);

//  Parse option's value text as a number in [min, max]; on anything else
//  print "NAME: OPTION needs a number in MIN..MAX" and exit 2 (usage).
uint64_t zaio_daemon_number (const char *option, const char *text, uint64_t min, uint64_t max);

//  The options both daemons take, with the same names and ranges: put
//  ZAIO_DAEMON_SHARED_OPTIONS in the getopt_long table, and hand every
//  option getopt returns to zaio_daemon_shared_option first.
enum {
    ZAIO_DAEMON_OPT_PAYLOAD = 0x1000,
    ZAIO_DAEMON_OPT_HEARTBEAT,
    ZAIO_DAEMON_OPT_MISSES,
    ZAIO_DAEMON_OPT_DRAIN
};
// clang-format off
#define ZAIO_DAEMON_SHARED_OPTIONS                                            \
    {"payload-max", required_argument, NULL, ZAIO_DAEMON_OPT_PAYLOAD},        \
    {"heartbeat-ms", required_argument, NULL, ZAIO_DAEMON_OPT_HEARTBEAT},     \
    {"heartbeat-misses", required_argument, NULL, ZAIO_DAEMON_OPT_MISSES},    \
    {"drain-ms", required_argument, NULL, ZAIO_DAEMON_OPT_DRAIN}
// clang-format on

//  Where the shared options' values go.
typedef struct {
    size_t *payload_max;
    uint32_t *heartbeat_ms;
    uint32_t *heartbeat_misses;
    uint32_t *drain_ms;
} zaio_daemon_shared_t;

//  Stores text for option if it is a shared one and returns true; false
//  for any other option. Exits 2 on a bad value.
bool zaio_daemon_shared_option (int option, const char *text, const zaio_daemon_shared_t *into);

#ifdef __cplusplus
}
#endif

#endif
