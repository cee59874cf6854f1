/*  zaio_perf_fixture.h: what a bench serves, made before it runs and
    removed after.

    A work directory of the bench's own, DIR/NAME-XXXXXX, holding the
    served root and in it ZAIO_PERF_FILE_NAME: file_mib MiB of
    pseudo-random bytes, read once so every block is in the page cache.
    Whatever else a bench puts in the work directory (ipc sockets, which
    libzmq leaves behind; certificates) goes with it when the fixture is
    destroyed, so a run leaves nothing.
*/
#ifndef ZAIO_PERF_FIXTURE_H_INCLUDED
#define ZAIO_PERF_FIXTURE_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_PERF_FILE_NAME "bench.dat" //  the file's name in the root: its path in the volume
#define ZAIO_PERF_MIB       (1024 * 1024)

typedef struct _zaio_perf_fixture_t zaio_perf_fixture_t;

//  Create DIR/NAME-XXXXXX, its root and the cached file, saying on stderr
//  (each line prefixed with program) what it writes. Returns NULL, having
//  said why and removed what it made, on failure.
zaio_perf_fixture_t *zaio_perf_fixture_new (const char *program, const char *dir, const char *name,
                                            uint32_t file_mib);

//  Remove the work directory and all in it; nulls *self_p. Safe on NULL.
//  Whatever serves from it must have stopped.
void zaio_perf_fixture_destroy (zaio_perf_fixture_t **self_p);

//  The work directory, the root, and the file's path; owned by self.
const char *zaio_perf_fixture_work (zaio_perf_fixture_t *self);
const char *zaio_perf_fixture_root (zaio_perf_fixture_t *self);
const char *zaio_perf_fixture_file (zaio_perf_fixture_t *self);

//  The file's size in bytes.
uint64_t zaio_perf_fixture_file_bytes (zaio_perf_fixture_t *self);

#ifdef __cplusplus
}
#endif

#endif
