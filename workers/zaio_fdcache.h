/*  zaio_fdcache.h: a worker thread's few files kept open for reading.

    A read by path costs openat2, fstat, pread and close; with the file's
    descriptor kept it costs a pread, and now and then an fstatat. The
    size that fstatat sees is kept too: a read needs it to size its frame
    and to tell whether it reached the end of the file. Before a
    descriptor is used, the cache checks that the path still names the file
    it holds (same device and inode), so a file renamed over, replaced or
    unlinked is opened afresh, never read stale. Only descriptors opened
    beneath a volume root with openat2 are ever cached, and the check never
    widens what can be read: when the path now leads anywhere else, or its
    last component is a symlink, the entry is dropped and the caller opens
    the path again with all the usual checks. One gap remains (see
    zaio_fdcache_get): a directory on the path swapped for a symlink out of
    the root that leads to the same file is not noticed.

    A check holds until zaio_fdcache_recheck. A worker calls that after it
    has received a batch of jobs and before it runs them: every job of the
    batch was sent before the check, so whatever had to happen before a
    job (a rename it was ordered after, say) has happened, and the file
    the check found is the one the path named while the job was pending.
    A job that changes names calls it too, so the jobs after it look again.

    An entry lives while it is used: the least recently used goes when the
    cache is full, and zaio_fdcache_expire closes those left idle, so a
    deleted file's space is not held for long. One cache per thread; it is
    not thread-safe.
*/
#ifndef ZAIO_FDCACHE_H_INCLUDED
#define ZAIO_FDCACHE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zaio_fdcache_t zaio_fdcache_t;

//  A cache of at most capacity descriptors (at least 1).
zaio_fdcache_t *zaio_fdcache_new (size_t capacity);
void zaio_fdcache_destroy (zaio_fdcache_t **self_p);

//  The cached descriptor for path beneath root, if the path still names
//  that file (checked once since the last recheck), and in *size the
//  file's size that check saw. The descriptor stays the cache's: do not
//  close it. Returns -1 if there is none to use.
int zaio_fdcache_get (zaio_fdcache_t *self, int root, const char *path, uint64_t *size);

//  Makes every entry check its path again on its next use.
void zaio_fdcache_recheck (zaio_fdcache_t *self);

//  Keeps fd, a regular file opened read-only beneath root for path, whose
//  status is st. Takes the descriptor: the cache closes it.
void zaio_fdcache_put (zaio_fdcache_t *self, int root, const char *path, int fd,
                       const struct stat *st);

//  Closes the descriptors unused for idle_ms or more; returns how many
//  remain open.
size_t zaio_fdcache_expire (zaio_fdcache_t *self, int64_t idle_ms);

#ifdef __cplusplus
}
#endif

#endif
