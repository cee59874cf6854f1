/*  zaio_daemon.h: what zaio-broker and zaio-worker share as processes.

    Signals: the daemon blocks SIGINT and SIGTERM before it starts any
    thread, so every thread inherits the mask and never sees EINTR; its main
    thread alone waits for them with sigwait. Logs go to stderr under the
    daemon's name; stdout is line-buffered for the lines tests read. The
    open file limit is raised to its hard limit.
*/
#ifndef ZAIO_DAEMON_H_INCLUDED
#define ZAIO_DAEMON_H_INCLUDED

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

#ifdef __cplusplus
}
#endif

#endif
