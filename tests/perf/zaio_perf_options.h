/*  zaio_perf_options.h: the command-line options every bench shares.

      --quick        about 1 s per run, one round
      --smoke        a few seconds in all; only checks the bench runs
      --json         machine-readable results instead of the table
      --seconds S    measured seconds per run
      --warmup S     unmeasured seconds before each run
      --repeat N     rounds of runs (1..ZAIO_PERF_REPEAT_MAX)
      --file-mib M   size of the file reads pick blocks from
      --dir PATH     where the work directory goes (default /tmp)

    What is not given, the mode sets (zaio_perf_options_close):

                full                  quick   smoke
      seconds   the bench's own       1       0.1
      warmup    0.5                   0.25    0.05
      repeat    5                     1       1
      file_mib  64                    64      4

    A bench parses its own options around these, and names and lists with
    zaio_perf_options_number and zaio_perf_options_list.
*/
#ifndef ZAIO_PERF_OPTIONS_H_INCLUDED
#define ZAIO_PERF_OPTIONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PERF_REPEAT_MAX 99 //  rounds of runs, at most

typedef struct {
    const char *program; //  names the messages on stderr
    const char *mode;    //  "full", "quick" or "smoke"
    bool json;
    double seconds;
    double warmup;
    uint32_t repeat;
    uint32_t file_mib;
    const char *dir; //  borrowed from argv
} zaio_perf_options_t;

//  Every option not given, mode "full", dir /tmp; program names the
//  messages.
void zaio_perf_options_init (zaio_perf_options_t *self, const char *program);

//  If argv[*i] is one of the shared options, take it (advancing *i past
//  its value) and return 1; 0 if it is not one of them; -1 if its value is
//  missing or bad (said on stderr).
int zaio_perf_options_parse (zaio_perf_options_t *self, int argc, char *argv[], int *i);

//  Set what was not given from the mode. full_seconds: the measured
//  seconds per run of a full run, the bench's to choose.
void zaio_perf_options_close (zaio_perf_options_t *self, double full_seconds);

//  *value = text as a number in min..max. Returns 0, or -1 (said on
//  stderr) if text is NULL, not a number, or out of range.
int zaio_perf_options_number (const zaio_perf_options_t *self, const char *text, double min,
                              double max, double *value);

//  flags[i] = whether names[i] is in the comma-separated list, for each of
//  the count names. Returns 0, or -1 if list is NULL or holds a name not in
//  names (said on stderr).
int zaio_perf_options_list (const zaio_perf_options_t *self, const char *list, const char **names,
                            size_t count, bool *flags);

#ifdef __cplusplus
}
#endif

#endif
