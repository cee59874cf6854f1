/*  zaio_fdcache.c: a worker thread's few files kept open; see zaio_fdcache.h.

    A handful of entries searched in order: a worker reads few files at a
    time, and a string compare over a short array beats a hash table there.
*/

#include "zaio_fdcache.h"

#include <czmq.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int root;   //  the volume root the path is beneath
    char *path; //  as the request named it; NULL = free entry
    int fd;     //  read-only descriptor of the file
    dev_t dev;  //  the file's identity when opened
    ino_t ino;
    uint64_t size;    //  its size when the path was last checked
    int64_t used;     //  zclock_mono of the last use
    uint64_t checked; //  the cache's epoch when the path was last checked
} s_entry_t;

struct _zaio_fdcache_t {
    s_entry_t *entries;
    size_t capacity;
    size_t count;   //  entries in use
    uint64_t epoch; //  advanced by each recheck; starts at 1
    int64_t now;    //  zclock_mono at the last recheck: a use's time, near enough
};

static void
s_entry_drop (zaio_fdcache_t *self, s_entry_t *entry)
{
    close (entry->fd);
    zstr_free (&entry->path);
    self->count--;
}

zaio_fdcache_t *
zaio_fdcache_new (size_t capacity)
{
    assert (capacity >= 1);
    zaio_fdcache_t *self = (zaio_fdcache_t *)zmalloc (sizeof (zaio_fdcache_t));
    self->entries = (s_entry_t *)zmalloc (capacity * sizeof (s_entry_t));
    self->capacity = capacity;
    self->epoch = 1;
    self->now = zclock_mono ();
    return self;
}

void
zaio_fdcache_destroy (zaio_fdcache_t **self_p)
{
    assert (self_p);
    zaio_fdcache_t *self = *self_p;
    if (!self) return;
    zaio_fdcache_expire (self, 0);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

int
zaio_fdcache_get (zaio_fdcache_t *self, int root, const char *path, uint64_t *size)
{
    assert (self && path && size);
    for (size_t i = 0; i < self->capacity; i++) {
        s_entry_t *entry = &self->entries[i];
        if (!entry->path || entry->root != root || strcmp (entry->path, path)) continue;
        //  One fstatat decides whether the descriptor is still the file;
        //  a confined lookup (openat2, fstat, close) would cost as much as
        //  the open the cache saves. The last component is not followed:
        //  a symlink there never matches, even one leading back to the
        //  file (absolute, out of the root, /proc/self/fd/N), so the path
        //  is opened again through openat2, and reads through a symlink
        //  reopen once per recheck.
        //
        //  Left unconfined: the walk follows symlinks in earlier
        //  components and climbs ".." unchecked. A directory on the path
        //  replaced by a symlink out of the root (or a ".." climbing
        //  through one) that reaches this same file under the same name
        //  (its directory moved out, or a hard link or bind mount of it)
        //  passes, where openat2 would answer EXDEV; the entry serves it
        //  until a check fails or the entry expires. Never another file.
        if (entry->checked != self->epoch) {
            struct stat st;
            if (fstatat (root, path, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != entry->dev ||
                st.st_ino != entry->ino) {
                s_entry_drop (self, entry);
                return -1;
            }
            entry->size = (uint64_t)st.st_size;
            entry->checked = self->epoch;
        }
        *size = entry->size;
        entry->used = self->now;
        return entry->fd;
    }
    return -1;
}

void
zaio_fdcache_recheck (zaio_fdcache_t *self)
{
    assert (self);
    self->epoch++;
    self->now = zclock_mono ();
}

void
zaio_fdcache_put (zaio_fdcache_t *self, int root, const char *path, int fd, const struct stat *st)
{
    assert (self && path && fd >= 0 && st);
    //  A free entry, or else the least recently used.
    s_entry_t *slot = &self->entries[0];
    for (size_t i = 0; i < self->capacity && slot->path; i++) {
        s_entry_t *entry = &self->entries[i];
        if (!entry->path || entry->used < slot->used) slot = entry;
    }
    if (slot->path) s_entry_drop (self, slot);
    slot->root = root;
    slot->path = strdup (path);
    slot->fd = fd;
    slot->dev = st->st_dev;
    slot->ino = st->st_ino;
    slot->size = (uint64_t)st->st_size;
    slot->used = self->now;
    slot->checked = self->epoch;
    self->count++;
}

size_t
zaio_fdcache_expire (zaio_fdcache_t *self, int64_t idle_ms)
{
    assert (self);
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < self->capacity && self->count; i++) {
        s_entry_t *entry = &self->entries[i];
        if (entry->path && now - entry->used >= idle_ms) s_entry_drop (self, entry);
    }
    return self->count;
}
