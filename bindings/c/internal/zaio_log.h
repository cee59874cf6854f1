/*  zaio_log.h: the log lines of zaio-broker, zaio-worker and the embedded
    broker.

    One line per event on stderr: an ISO-8601 UTC timestamp with
    milliseconds, the level, the program, the component (the class that
    speaks, e.g. "backend") and, for a line about one request or one
    worker, that peer's identity (zaio_route_name, or a worker's name),
    then the message. Lines are written whole, with one write each, so
    threads never interleave them.

    Two formats, chosen once per process (zaio_log_set_format):
        text: 2026-12-08T01:16:37.464Z WARN zaio-broker backend [alice]: message
        json: {"ts":"2026-12-08T01:16:37.464Z","level":"WARN",
               "program":"zaio-broker","component":"backend","peer":"alice",
               "msg":"message"}            (one object per line; no peer
                                            key when the line has none)
    The peer and the message may hold bytes a client chose: control
    characters are escaped in both formats (text: \xNN; json: \u00NN), and
    in json, bytes that are not UTF-8 too, so every line parses.
*/
#ifndef ZAIO_LOG_H_INCLUDED
#define ZAIO_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

typedef enum {
    ZAIO_LOG_TEXT,
    ZAIO_LOG_JSON,
} zaio_log_format_t;

//  Names the program on every later line (the default is "zaio"). Call
//  before any thread logs; program must outlive the process's logging.
void zaio_log_set_program (const char *program);

//  Lines below level (less severe) are not written; the default is
//  ZAIO_LOG_INFO. The daemons' --verbose sets ZAIO_LOG_DEBUG.
void zaio_log_set_level (zaio_log_level_t level);

//  The format of later lines; the default is ZAIO_LOG_TEXT. Call before
//  threads log (the daemons do, from --log-format; the embedded broker
//  from its config's log_format).
void zaio_log_set_format (zaio_log_format_t format);

//  "text" or "json" into *format; -1 if name is neither (or NULL).
int zaio_log_format_parse (const char *name, zaio_log_format_t *format);

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

//  A rate limit for a kind of line that a peer can cause at will (a
//  rejected request): at most one line per interval, and the line that
//  is written counts the ones held back since the last. One thread owns
//  each (no locking); zero-initialise it.
typedef struct {
    int64_t next_ms;     //  when the next line may be written
    uint64_t suppressed; //  lines held back since the last written
} zaio_log_sample_t;

//  True if a line of this kind may be written at now_ms (a monotonic
//  clock); then *suppressed_p holds how many were held back before it, and
//  the next may come interval_ms later. False: the caller writes nothing,
//  and the line is counted.
bool zaio_log_sample (zaio_log_sample_t *self, int64_t now_ms, uint32_t interval_ms,
                      uint64_t *suppressed_p);

//  True if lines were held back and interval_ms has passed since the last
//  was written (or if now_ms is INT64_MAX: at the end, whenever it is);
//  then *suppressed_p holds how many, for a line of their own, and the
//  count starts again. Called on a timer, so that a burst's last lines
//  are counted soon after it ends, not only when the next one comes.
bool zaio_log_sample_flush (zaio_log_sample_t *self, int64_t now_ms, uint32_t interval_ms,
                            uint64_t *suppressed_p);

//  Samples of several kinds of line, each kind an int key (an error
//  code); past ZAIO_LOG_SAMPLE_KEYS kinds, the last one serves the rest,
//  so the table is bounded whatever a peer sends. Zero-initialise it.
#define ZAIO_LOG_SAMPLE_KEYS 16u
typedef struct {
    int keys[ZAIO_LOG_SAMPLE_KEYS];
    zaio_log_sample_t samples[ZAIO_LOG_SAMPLE_KEYS];
    size_t count;
} zaio_log_samples_t;

//  The sample of key's kind of line (made if new; see above).
zaio_log_sample_t *zaio_log_samples_of (zaio_log_samples_t *self, int key);

#ifdef __cplusplus
}
#endif

#endif
