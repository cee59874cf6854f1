/*  zaio_log.c: log lines; see zaio_log.h. */

#include "zaio_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_program = "zaio";

static zaio_log_level_t s_level = ZAIO_LOG_INFO;

static const char *s_level_names[] = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};

void
zaio_log_set_program (const char *program)
{
    s_program = program;
}

void
zaio_log_set_level (zaio_log_level_t level)
{
    s_level = level;
}

//  Appends format's text at line + *used, keeping the line within size
//  bytes (a longer one is cut).
static void
s_append (char *line, size_t size, size_t *used, const char *format, va_list args)
{
    if (*used >= size) return;
    int length = vsnprintf (line + *used, size - *used, format, args);
    if (length > 0) *used += (size_t)length < size - *used ? (size_t)length : size - *used - 1;
}

static void
s_appendf (char *line, size_t size, size_t *used, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_append (line, size, used, format, args);
    va_end (args);
}

void
zaio_log (zaio_log_level_t level, const char *component, const char *peer, const char *format, ...)
{
    if (level > s_level) return;
    char line[2048];
    size_t used = 0;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r (&now.tv_sec, &utc);
    used = strftime (line, sizeof line, "%Y-%m-%dT%H:%M:%S", &utc);
    s_appendf (line, sizeof line, &used, ".%03ldZ %s %s %s", now.tv_nsec / 1000000,
               s_level_names[level], s_program, component);
    if (peer) s_appendf (line, sizeof line, &used, " [%s]", peer);
    s_appendf (line, sizeof line, &used, ": ");
    va_list args;
    va_start (args, format);
    s_append (line, sizeof line, &used, format, args);
    va_end (args);
    if (used > sizeof line - 2) used = sizeof line - 2;
    line[used++] = '\n';
    //  One write per line: concurrent threads' lines never interleave.
    ssize_t written = write (STDERR_FILENO, line, used);
    (void)written;
}
