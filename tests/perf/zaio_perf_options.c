/*  zaio_perf_options.c: the options every bench shares; see
    zaio_perf_options.h.
*/

#include "zaio_perf_options.h"

#include <czmq.h>
#include <math.h>

void
zaio_perf_options_init (zaio_perf_options_t *self, const char *program)
{
    assert (self && program);
    memset (self, 0, sizeof *self);
    self->program = program;
    self->mode = "full";
    self->seconds = -1; //  -1 and 0: not given
    self->warmup = -1;
    self->dir = "/tmp";
}

int
zaio_perf_options_parse (zaio_perf_options_t *self, int argc, char *argv[], int *i)
{
    assert (self && argv && i && *i < argc);
    const char *arg = argv[*i];
    const char *value = *i + 1 < argc ? argv[*i + 1] : NULL;
    double number = 0;
    int rc = 0;
    if (streq (arg, "--quick"))
        self->mode = "quick";
    else if (streq (arg, "--smoke"))
        self->mode = "smoke";
    else if (streq (arg, "--json"))
        self->json = true;
    else if (streq (arg, "--seconds"))
        rc = zaio_perf_options_number (self, value, 0.01, 3600, &self->seconds), (*i)++;
    else if (streq (arg, "--warmup"))
        rc = zaio_perf_options_number (self, value, 0, 3600, &self->warmup), (*i)++;
    else if (streq (arg, "--repeat")) {
        rc = zaio_perf_options_number (self, value, 1, ZAIO_PERF_REPEAT_MAX, &number), (*i)++;
        self->repeat = (uint32_t)number;
    } else if (streq (arg, "--file-mib")) {
        rc = zaio_perf_options_number (self, value, 1, 65536, &number), (*i)++;
        self->file_mib = (uint32_t)number;
    } else if (streq (arg, "--dir"))
        self->dir = value, rc = value ? 0 : -1, (*i)++;
    else
        return 0;
    return rc ? -1 : 1;
}

void
zaio_perf_options_close (zaio_perf_options_t *self, double full_seconds)
{
    assert (self);
    bool quick = streq (self->mode, "quick"), smoke = streq (self->mode, "smoke");
    if (self->seconds <= 0) self->seconds = smoke ? 0.1 : quick ? 1.0 : full_seconds;
    if (self->warmup < 0) self->warmup = smoke ? 0.05 : quick ? 0.25 : 0.5;
    if (self->repeat == 0) self->repeat = quick || smoke ? 1 : 5;
    if (self->file_mib == 0) self->file_mib = smoke ? 4 : 64;
}

int
zaio_perf_options_number (const zaio_perf_options_t *self, const char *text, double min, double max,
                          double *value)
{
    assert (self && value);
    char *end;
    double number = text ? strtod (text, &end) : NAN;
    if (!text || end == text || *end || !(number >= min && number <= max)) {
        fprintf (stderr, "%s: '%s' is not a number in %g..%g\n", self->program, text ? text : "",
                 min, max);
        return -1;
    }
    *value = number;
    return 0;
}

int
zaio_perf_options_list (const zaio_perf_options_t *self, const char *list, const char **names,
                        size_t count, bool *flags)
{
    assert (self && names && flags);
    if (!list) return -1;
    memset (flags, 0, count * sizeof (bool));
    char *copy = strdup (list);
    assert (copy);
    int rc = 0;
    for (char *save, *item = strtok_r (copy, ",", &save); item && rc == 0;
         item = strtok_r (NULL, ",", &save)) {
        size_t i = 0;
        while (i < count && strcmp (item, names[i])) i++;
        if (i == count) {
            fprintf (stderr, "%s: unknown name '%s'\n", self->program, item);
            rc = -1;
        } else
            flags[i] = true;
    }
    free (copy);
    return rc;
}
