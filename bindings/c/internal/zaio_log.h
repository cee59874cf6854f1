/*  zaio_log.h: the log lines of zaio-broker, zaio-worker and the embedded
    broker.

    One line per event on stderr: an ISO-8601 UTC timestamp with
    milliseconds, the level, the program, the component (the class that
    speaks, e.g. "backend") and, for a line about one request or one
    worker, that peer's identity (zaio_route_name, or a worker's name),
    then the message. Lines are written whole, with one write each, so
    threads never interleave them.
*/
#ifndef ZAIO_LOG_H_INCLUDED
#define ZAIO_LOG_H_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZAIO_LOG_ERROR,
    ZAIO_LOG_WARNING,
    ZAIO_LOG_NOTICE,
    ZAIO_LOG_INFO,
    ZAIO_LOG_DEBUG,
} zaio_log_level_t;

//  Names the program on every later line (the default is "zaio"). Call
//  before any thread logs; program must outlive the process's logging.
void zaio_log_set_program (const char *program);

//  Lines below level (less severe) are not written; the default is
//  ZAIO_LOG_INFO. The daemons' --verbose sets ZAIO_LOG_DEBUG.
void zaio_log_set_level (zaio_log_level_t level);

//  Writes one line at level for component, about peer (NULL when the line
//  is about no one peer), formatted as printf does. Never fails the
//  caller: a line that cannot be written is lost.
void zaio_log (zaio_log_level_t level, const char *component, const char *peer, const char *format,
               ...) __attribute__ ((format (printf, 4, 5)));

#define zaio_log_error(component, ...)   zaio_log (ZAIO_LOG_ERROR, component, NULL, __VA_ARGS__)
#define zaio_log_warning(component, ...) zaio_log (ZAIO_LOG_WARNING, component, NULL, __VA_ARGS__)
#define zaio_log_notice(component, ...)  zaio_log (ZAIO_LOG_NOTICE, component, NULL, __VA_ARGS__)
#define zaio_log_info(component, ...)    zaio_log (ZAIO_LOG_INFO, component, NULL, __VA_ARGS__)
#define zaio_log_debug(component, ...)   zaio_log (ZAIO_LOG_DEBUG, component, NULL, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
