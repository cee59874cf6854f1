/*  zaio_log.c: log lines; see zaio_log.h. */

#include "zaio_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_program = "zaio";

static zaio_log_level_t s_level = ZAIO_LOG_INFO;

static zaio_log_format_t s_format = ZAIO_LOG_TEXT;

static const char *s_level_names[] = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"};

//  A line longer than this is cut (at a character boundary in json).
#define S_LINE_MAX 2048

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

void
zaio_log_set_format (zaio_log_format_t format)
{
    s_format = format;
}

int
zaio_log_format_parse (const char *name, zaio_log_format_t *format)
{
    if (name && strcmp (name, "text") == 0)
        *format = ZAIO_LOG_TEXT;
    else if (name && strcmp (name, "json") == 0)
        *format = ZAIO_LOG_JSON;
    else
        return -1;
    return 0;
}

bool
zaio_log_sample (zaio_log_sample_t *self, int64_t now_ms, uint32_t interval_ms,
                 uint64_t *suppressed_p)
{
    if (now_ms < self->next_ms) {
        self->suppressed++;
        return false;
    }
    *suppressed_p = self->suppressed;
    self->suppressed = 0;
    self->next_ms = now_ms + interval_ms;
    return true;
}

bool
zaio_log_sample_flush (zaio_log_sample_t *self, int64_t now_ms, uint32_t interval_ms,
                       uint64_t *suppressed_p)
{
    if (self->suppressed == 0 || (now_ms < self->next_ms && now_ms != INT64_MAX)) return false;
    *suppressed_p = self->suppressed;
    self->suppressed = 0;
    self->next_ms = now_ms == INT64_MAX ? now_ms : now_ms + interval_ms;
    return true;
}

zaio_log_sample_t *
zaio_log_samples_of (zaio_log_samples_t *self, int key)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->keys[i] == key) return &self->samples[i];
    if (self->count == ZAIO_LOG_SAMPLE_KEYS) return &self->samples[ZAIO_LOG_SAMPLE_KEYS - 1];
    self->keys[self->count] = key;
    return &self->samples[self->count++];
}

//  A line being built: bytes in text, at most S_LINE_MAX - 1 - reserve
//  (room for the newline, and for what must close the line). Once a piece
//  does not fit, the line is full: later pieces are dropped too, so a cut
//  falls between whole characters and escapes.
typedef struct {
    char text[S_LINE_MAX];
    size_t used;
    size_t reserve;
    bool full;
} s_line_t;

//  Appends size bytes as they are, if they all fit.
static void
s_put (s_line_t *line, const char *bytes, size_t size)
{
    if (line->full || line->used + size > sizeof line->text - 1 - line->reserve) {
        line->full = true;
        return;
    }
    memcpy (line->text + line->used, bytes, size);
    line->used += size;
}

static void
s_puts (s_line_t *line, const char *text)
{
    s_put (line, text, strlen (text));
}

//  Length of the UTF-8 sequence at bytes (at most size), or 0 if it is not
//  a valid one (overlong forms, surrogates and values past U+10FFFF too).
static size_t
s_utf8_length (const unsigned char *bytes, size_t size)
{
    unsigned char lead = bytes[0];
    size_t length;
    uint32_t min, code;
    if (lead >= 0xc2 && lead <= 0xdf)
        length = 2, min = 0x80, code = lead & 0x1f;
    else if (lead >= 0xe0 && lead <= 0xef)
        length = 3, min = 0x800, code = lead & 0x0f;
    else if (lead >= 0xf0 && lead <= 0xf4)
        length = 4, min = 0x10000, code = lead & 0x07;
    else
        return 0;
    if (length > size) return 0;
    for (size_t i = 1; i < length; i++) {
        if ((bytes[i] & 0xc0) != 0x80) return 0;
        code = (code << 6) | (bytes[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
    return length;
}

//  Appends text escaped for the format: in text, control characters as
//  \xNN; in json, as a string's inside (quotes, backslashes, control
//  characters, and bytes that are not UTF-8 as \u00NN).
static void
s_put_escaped (s_line_t *line, const char *text)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t size = strlen (text);
    char escape[8];
    for (size_t i = 0; i < size;) {
        unsigned char c = bytes[i];
        if (s_format == ZAIO_LOG_JSON && (c == '"' || c == '\\')) {
            escape[0] = '\\', escape[1] = (char)c;
            s_put (line, escape, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf (escape, sizeof escape, s_format == ZAIO_LOG_JSON ? "\\u%04x" : "\\x%02x", c);
            s_puts (line, escape);
            i++;
        } else if (c < 0x80 || s_format == ZAIO_LOG_TEXT) {
            s_put (line, text + i, 1);
            i++;
        } else {
            size_t length = s_utf8_length (bytes + i, size - i);
            if (length) {
                s_put (line, text + i, length);
                i += length;
            } else {
                snprintf (escape, sizeof escape, "\\u%04x", c);
                s_puts (line, escape);
                i++;
            }
        }
    }
}

void
zaio_log (zaio_log_level_t level, const char *component, const char *peer, const char *format, ...)
{
    if (level > s_level) return;
    char message[S_LINE_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r (&now.tv_sec, &utc);
    char stamp[40];
    size_t length = strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf (stamp + length, sizeof stamp - length, ".%03ldZ", now.tv_nsec / 1000000);

    s_line_t line;
    line.used = 0;
    line.reserve = 0;
    line.full = false;
    if (s_format == ZAIO_LOG_JSON) {
        s_puts (&line, "{\"ts\":\"");
        s_puts (&line, stamp);
        s_puts (&line, "\",\"level\":\"");
        s_puts (&line, s_level_names[level]);
        s_puts (&line, "\",\"program\":\"");
        s_put_escaped (&line, s_program);
        s_puts (&line, "\",\"component\":\"");
        s_put_escaped (&line, component);
        if (peer) {
            s_puts (&line, "\",\"peer\":\"");
            s_put_escaped (&line, peer);
        }
        s_puts (&line, "\",\"msg\":\"");
        //  The message is the one part that can be long: cut it so that
        //  the object still closes.
        line.reserve = 2;
        s_put_escaped (&line, message);
        line.reserve = 0;
        line.full = false;
        s_puts (&line, "\"}");
    } else {
        s_puts (&line, stamp);
        s_puts (&line, " ");
        s_puts (&line, s_level_names[level]);
        s_puts (&line, " ");
        s_puts (&line, s_program);
        s_puts (&line, " ");
        s_puts (&line, component);
        if (peer) {
            s_puts (&line, " [");
            s_put_escaped (&line, peer);
            s_puts (&line, "]");
        }
        s_puts (&line, ": ");
        s_put_escaped (&line, message);
    }
    line.text[line.used++] = '\n';
    //  One write per line: concurrent threads' lines never interleave.
    ssize_t written = write (STDERR_FILENO, line.text, line.used);
    (void)written;
}
