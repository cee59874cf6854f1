/*  zaio_volume.h: a named directory tree that workers serve.

    The volume holds an O_PATH descriptor of its root; every path a job
    names is resolved against it with openat2 (RESOLVE_BENEATH), never by
    string manipulation, so nothing outside the root can be reached.
*/
#ifndef ZAIO_VOLUME_H_INCLUDED
#define ZAIO_VOLUME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zaio_volume_t zaio_volume_t;

//  writefile's temporary files (PROTOCOL.md section 5) are named
//  .NAME.zaio-tmp.HOST.PID.RANDOM, HOST and PID naming the process that
//  writes it: HOST the host name cut to ZAIO_VOLUME_HOST_MAX letters,
//  digits and '-' (anything else becomes '-').
#define ZAIO_VOLUME_TEMP_MARK ".zaio-tmp."
#define ZAIO_VOLUME_HOST_MAX  32
//  Default age (s) past which any temporary file is stale, whoever made
//  it: writefiles of another host, or of a process whose pid was reused.
#define ZAIO_VOLUME_TEMP_MAX_AGE_S 3600

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

//  True if name is that of a writefile temporary file: it begins with a
//  dot and holds ZAIO_VOLUME_TEMP_MARK. listdir leaves such names out.
bool zaio_volume_is_temp (const char *name);

//  Into temp (NAME_MAX + 1 bytes): the temporary name of this process for
//  a file whose name is the first len bytes of name (cut to fit), ending
//  in random (letters and digits).
void zaio_volume_temp_name (char *temp, const char *name, size_t len, const char *random);

//  Start removing, on a thread of the volume's own, the stale temporary
//  files under the root (not crossing into other filesystems, at most
//  64 directories deep): those that this host's processes made and that
//  are gone (no such pid), and, if max_age_s is not 0, any whose mtime is
//  older than that. Returns at once; the thread logs what it removed and
//  ends when done, or at zaio_volume_destroy. Call at most once.
void zaio_volume_sweep_temps (zaio_volume_t *self, uint32_t max_age_s);

//  Wait until the sweep has gone through the whole tree (at once if none
//  was started).
void zaio_volume_sweep_join (zaio_volume_t *self);

#ifdef __cplusplus
}
#endif

#endif
