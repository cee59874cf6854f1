/*  zaio_perf_fixture.c: the work directory and the cached file; see
    zaio_perf_fixture.h.
*/

#include "zaio_perf_fixture.h"

#include <czmq.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

struct _zaio_perf_fixture_t {
    char *work;
    char *root;
    char *file;
    uint64_t file_bytes;
};

//  Writes file_mib MiB of pseudo-random bytes to path, then reads it all
//  once so every block is in the page cache. Returns 0 or -1.
static int
s_make_file (const char *path, uint32_t file_mib)
{
    int fd = open (path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    uint64_t *chunk = (uint64_t *)malloc (ZAIO_PERF_MIB);
    assert (chunk);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    int rc = 0;
    for (uint32_t mib = 0; mib < file_mib && rc == 0; mib++) {
        for (size_t i = 0; i < ZAIO_PERF_MIB / sizeof (uint64_t); i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            chunk[i] = state;
        }
        if (write (fd, chunk, ZAIO_PERF_MIB) != ZAIO_PERF_MIB) rc = -1;
    }
    for (off_t offset = 0; rc == 0 && offset < (off_t)file_mib * ZAIO_PERF_MIB;
         offset += ZAIO_PERF_MIB)
        if (pread (fd, chunk, ZAIO_PERF_MIB, offset) != ZAIO_PERF_MIB) rc = -1;
    free (chunk);
    close (fd);
    return rc;
}

static int
s_remove (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove (path);
    return 0;
}

zaio_perf_fixture_t *
zaio_perf_fixture_new (const char *program, const char *dir, const char *name, uint32_t file_mib)
{
    assert (program && dir && name);
    zaio_perf_fixture_t *self = (zaio_perf_fixture_t *)zmalloc (sizeof *self);
    assert (self);
    self->work = zsys_sprintf ("%s/%s-XXXXXX", dir, name);
    if (!mkdtemp (self->work)) {
        fprintf (stderr, "%s: cannot create %s: %s\n", program, self->work, strerror (errno));
        zstr_free (&self->work);
        zaio_perf_fixture_destroy (&self);
        return NULL;
    }
    self->root = zsys_sprintf ("%s/root", self->work);
    self->file = zsys_sprintf ("%s/%s", self->root, ZAIO_PERF_FILE_NAME);
    self->file_bytes = (uint64_t)file_mib * ZAIO_PERF_MIB;
    fprintf (stderr, "%s: writing and caching %u MiB in %s\n", program, file_mib, self->file);
    if (mkdir (self->root, 0755) || s_make_file (self->file, file_mib)) {
        fprintf (stderr, "%s: cannot write %s: %s\n", program, self->file, strerror (errno));
        zaio_perf_fixture_destroy (&self); //  nulls self
    }
    return self;
}

void
zaio_perf_fixture_destroy (zaio_perf_fixture_t **self_p)
{
    assert (self_p);
    zaio_perf_fixture_t *self = *self_p;
    if (!self) return;
    if (self->work) nftw (self->work, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    zstr_free (&self->file);
    zstr_free (&self->root);
    zstr_free (&self->work);
    free (self);
    *self_p = NULL;
}

const char *
zaio_perf_fixture_work (zaio_perf_fixture_t *self)
{
    assert (self);
    return self->work;
}

const char *
zaio_perf_fixture_root (zaio_perf_fixture_t *self)
{
    assert (self);
    return self->root;
}

const char *
zaio_perf_fixture_file (zaio_perf_fixture_t *self)
{
    assert (self);
    return self->file;
}

uint64_t
zaio_perf_fixture_file_bytes (zaio_perf_fixture_t *self)
{
    assert (self);
    return self->file_bytes;
}
