/*  zaio_volume.h: a named directory tree that workers serve.

    The volume holds an O_PATH descriptor of its root; every path a job
    names is resolved against it with openat2 (RESOLVE_BENEATH), never by
    string manipulation, so nothing outside the root can be reached.
*/
#ifndef ZAIO_VOLUME_H_INCLUDED
#define ZAIO_VOLUME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zaio_volume_t zaio_volume_t;

//  Open the volume name served from directory dir, creating dir (one
//  level) if create is true. Returns NULL (and logs why) if dir cannot be
//  opened as a directory.
zaio_volume_t *zaio_volume_new (const char *name, const char *dir, bool readonly, bool create);

void zaio_volume_destroy (zaio_volume_t **self_p);

const char *zaio_volume_name (zaio_volume_t *self);

//  Directory given at creation.
const char *zaio_volume_dir (zaio_volume_t *self);

//  Descriptor of the root (O_PATH | O_DIRECTORY), owned by the volume.
int zaio_volume_root_fd (zaio_volume_t *self);

bool zaio_volume_readonly (zaio_volume_t *self);

//  Refuse (EMLINK) to open a regular file that has more than one link: a
//  hard link inside the root to a file outside it would otherwise reach
//  that file (PROTOCOL.md section 4.1). Off by default.
void zaio_volume_set_nolinks (zaio_volume_t *self, bool nolinks);
bool zaio_volume_nolinks (zaio_volume_t *self);

#ifdef __cplusplus
}
#endif

#endif
