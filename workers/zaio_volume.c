/*  zaio_volume.c: a named directory tree that workers serve.

    The volume owns one O_PATH descriptor of its root, opened once at
    creation. Ops resolve every path against it (see zaio_ops.c); the
    descriptor keeps naming the same directory even if the directory given
    at creation is later renamed or replaced by a symlink.
*/

//  openat2, O_PATH and copy_file_range are Linux extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "zaio_volume.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Mode of a root directory the volume creates; the process umask applies.
#define S_ROOT_MODE 0755

struct _zaio_volume_t {
    char *name;    //  volume name, as clients send it
    char *dir;     //  directory given at creation
    int root_fd;   //  O_PATH | O_DIRECTORY | O_CLOEXEC descriptor of the root
    bool readonly; //  refuse ops that change the tree
    bool nolinks;  //  refuse regular files with more than one link
};

//  --------------------------------------------------------------------------
//  Open the volume name served from directory dir, creating dir (one level)
//  if create is true. Returns NULL (and logs why) if dir cannot be opened as
//  a directory.

zaio_volume_t *
zaio_volume_new (const char *name, const char *dir, bool readonly, bool create)
{
    assert (name);
    assert (dir);
    if (create && mkdir (dir, S_ROOT_MODE) == -1 && errno != EEXIST) {
        zsys_error ("volume: cannot create %s for volume %s: %s", dir, name, strerror (errno));
        return NULL;
    }
    int root_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd == -1) {
        zsys_error ("volume: cannot open %s for volume %s: %s", dir, name, strerror (errno));
        return NULL;
    }
    zaio_volume_t *self = (zaio_volume_t *)zmalloc (sizeof (zaio_volume_t));
    assert (self);
    self->name = strdup (name);
    self->dir = strdup (dir);
    assert (self->name && self->dir);
    self->root_fd = root_fd;
    self->readonly = readonly;
    return self;
}

//  --------------------------------------------------------------------------
//  Close the root descriptor and free the volume; nulls the caller's
//  pointer. Safe to call with a NULL volume.

void
zaio_volume_destroy (zaio_volume_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zaio_volume_t *self = *self_p;
        close (self->root_fd);
        free (self->dir);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Volume name; owned by the volume.

const char *
zaio_volume_name (zaio_volume_t *self)
{
    assert (self);
    return self->name;
}

//  --------------------------------------------------------------------------
//  Directory given at creation; owned by the volume.

const char *
zaio_volume_dir (zaio_volume_t *self)
{
    assert (self);
    return self->dir;
}

//  --------------------------------------------------------------------------
//  Descriptor of the root (O_PATH | O_DIRECTORY), owned by the volume: use
//  it as a dirfd, never close it.

int
zaio_volume_root_fd (zaio_volume_t *self)
{
    assert (self);
    return self->root_fd;
}

//  --------------------------------------------------------------------------
//  True if the volume refuses ops that change the tree (EROFS).

bool
zaio_volume_readonly (zaio_volume_t *self)
{
    assert (self);
    return self->readonly;
}

void
zaio_volume_set_nolinks (zaio_volume_t *self, bool nolinks)
{
    assert (self);
    self->nolinks = nolinks;
}

bool
zaio_volume_nolinks (zaio_volume_t *self)
{
    assert (self);
    return self->nolinks;
}
