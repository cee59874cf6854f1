/*  zaio_volume.c: a named directory tree that workers serve.

    The volume owns one O_PATH descriptor of its root, opened once at
    creation. Ops resolve every path against it (see zaio_ops.c); the
    descriptor keeps naming the same directory even if the directory given
    at creation is later renamed or replaced by a symlink.

    Temporary files: writefile's are named after the host and process
    that write them (zaio_volume_temp_name), so that a process killed in
    the middle of one leaves a file a later process can judge: the sweep
    (zaio_volume_sweep_temps) removes those of this host whose process is
    gone, and any past an age, and nothing of a live process elsewhere
    (two hosts may serve one volume from shared storage). It walks the
    tree on a thread of its own, so start-up does not wait for it; its
    cost is a readdir of every directory and an lstat of each name that
    looks like a temporary file, like `find ROOT -name '.*.zaio-tmp.*'`.
*/

//  openat2, O_PATH and copy_file_range are Linux extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "zaio_volume.h"
#include "zaio_log.h"

#include <ctype.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Mode of a root directory the volume creates; the process umask applies.
#define S_ROOT_MODE 0755
//  Directories the sweep descends below the root, at most (one
//  descriptor each).
#define S_SWEEP_DEPTH_MAX 64

struct _zaio_volume_t {
    char *name;    //  volume name, as clients send it
    char *dir;     //  directory given at creation
    int root_fd;   //  O_PATH | O_DIRECTORY | O_CLOEXEC descriptor of the root
    bool readonly; //  refuse ops that change the tree
    bool nolinks;  //  refuse regular files with more than one link
    //  The sweep of stale temporary files, if started
    pthread_t sweeper;
    bool sweeping;          //  sweeper was started: join it
    atomic_bool sweep_stop; //  set by destroy: the sweep ends at its next entry
    uint32_t max_age_s;     //  0: no removal by age
};

//  This host's name as temporary names carry it (zaio_volume.h), made once.
static char s_host[ZAIO_VOLUME_HOST_MAX + 1];
static pthread_once_t s_host_once = PTHREAD_ONCE_INIT;

static void
s_host_init (void)
{
    char name[HOST_NAME_MAX + 1] = "";
    if (gethostname (name, sizeof name) == -1) name[0] = 0;
    name[HOST_NAME_MAX] = 0;
    size_t len = 0;
    for (; name[len] && len < ZAIO_VOLUME_HOST_MAX; len++)
        s_host[len] = isalnum ((unsigned char)name[len]) ? name[len] : '-';
    if (len == 0) s_host[len++] = '-';
    s_host[len] = 0;
}

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
        zaio_log_error ("volume", "cannot create %s for volume %s: %s", dir, name,
                        strerror (errno));
        return NULL;
    }
    int root_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd == -1) {
        zaio_log_error ("volume", "cannot open %s for volume %s: %s", dir, name, strerror (errno));
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
        atomic_store (&self->sweep_stop, true);
        zaio_volume_sweep_join (self);
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

bool
zaio_volume_is_temp (const char *name)
{
    assert (name);
    return name[0] == '.' && strstr (name, ZAIO_VOLUME_TEMP_MARK) != NULL;
}

void
zaio_volume_temp_name (char *temp, const char *name, size_t len, const char *random)
{
    assert (temp && name && random);
    pthread_once (&s_host_once, s_host_init);
    char tail[NAME_MAX + 1];
    int tail_len = snprintf (tail, sizeof tail, "%s%s.%ld.%s", ZAIO_VOLUME_TEMP_MARK, s_host,
                             (long)getpid (), random);
    assert (tail_len > 0 && (size_t)tail_len < NAME_MAX);
    size_t room = NAME_MAX - 1 - (size_t)tail_len;
    if (len > room) len = room;
    temp[0] = '.';
    memcpy (temp + 1, name, len);
    memcpy (temp + 1 + len, tail, (size_t)tail_len + 1);
}

//  --------------------------------------------------------------------------
//  The sweep of stale temporary files

//  True if the temporary file name, whose status is st, is stale (see
//  zaio_volume_sweep_temps): past max_age_s (if not 0) at now, or made on
//  this host by a process that no longer exists. A name it cannot read
//  (an older form, .NAME.zaio-tmp.RANDOM) goes by age only; a pid that
//  was reused keeps its file until then.
static bool
s_temp_stale (const char *name, const struct stat *st, uint32_t max_age_s, time_t now)
{
    if (max_age_s && now - st->st_mtim.tv_sec > (time_t)max_age_s) return true;
    //  The last mark: NAME may hold one too. Then HOST.PID.RANDOM.
    const char *host = NULL;
    for (const char *at = name; (at = strstr (at, ZAIO_VOLUME_TEMP_MARK)); at++)
        host = at + strlen (ZAIO_VOLUME_TEMP_MARK);
    const char *dot = host ? strchr (host, '.') : NULL;
    if (!dot || (size_t)(dot - host) != strlen (s_host) || memcmp (host, s_host, strlen (s_host)))
        return false;
    char *end;
    errno = 0;
    long pid = strtol (dot + 1, &end, 10);
    if (end == dot + 1 || *end != '.' || errno || pid <= 0 || pid == (long)getpid ()) return false;
    return kill ((pid_t)pid, 0) == -1 && errno == ESRCH;
}

//  What a sweep did.
typedef struct {
    size_t removed;
    uint64_t bytes;
    size_t dirs;
} s_sweep_stats_t;

//  Sweep the directory dir (a descriptor the sweep owns, closed here),
//  depth levels below the root, on device dev.
static void
s_sweep_dir (zaio_volume_t *self, int dir, int depth, dev_t dev, s_sweep_stats_t *stats)
{
    DIR *stream = fdopendir (dir);
    if (!stream) {
        close (dir);
        return;
    }
    stats->dirs++;
    time_t now = time (NULL);
    struct dirent *entry;
    while (!atomic_load_explicit (&self->sweep_stop, memory_order_relaxed) &&
           (entry = readdir (stream))) {
        const char *name = entry->d_name;
        if (streq (name, ".") || streq (name, "..")) continue;
        bool temp = zaio_volume_is_temp (name);
        bool maybe_dir = entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN;
        if (!temp && !(maybe_dir && depth < S_SWEEP_DEPTH_MAX)) continue;
        struct stat st;
        if (fstatat (dirfd (stream), name, &st, AT_SYMLINK_NOFOLLOW) == -1) continue;
        if (S_ISREG (st.st_mode) && temp && s_temp_stale (name, &st, self->max_age_s, now)) {
            if (unlinkat (dirfd (stream), name, 0) == 0) {
                stats->removed++;
                stats->bytes += (uint64_t)st.st_size;
            }
        } else if (S_ISDIR (st.st_mode) && st.st_dev == dev && depth < S_SWEEP_DEPTH_MAX) {
            int sub =
                openat (dirfd (stream), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) s_sweep_dir (self, sub, depth + 1, dev, stats);
        }
    }
    closedir (stream);
}

//  The sweeper thread: walks the whole tree once, then logs and ends.
static void *
s_sweeper (void *arg)
{
    zaio_volume_t *self = (zaio_volume_t *)arg;
    int64_t start = zclock_mono ();
    struct stat st;
    int root = openat (self->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    s_sweep_stats_t stats = {0, 0, 0};
    if (root >= 0 && fstat (root, &st) == 0)
        s_sweep_dir (self, root, 0, st.st_dev, &stats);
    else if (root >= 0)
        close (root);
    if (stats.removed)
        zaio_log_notice ("volume",
                         "%s: removed %zu stale temporary files (%" PRIu64
                         " bytes) in %zu directories, %" PRId64 " ms",
                         self->name, stats.removed, stats.bytes, stats.dirs,
                         zclock_mono () - start);
    else
        zaio_log_debug ("volume", "%s: no stale temporary files in %zu directories, %" PRId64 " ms",
                        self->name, stats.dirs, zclock_mono () - start);
    return NULL;
}

void
zaio_volume_sweep_temps (zaio_volume_t *self, uint32_t max_age_s)
{
    assert (self);
    assert (!self->sweeping);
    pthread_once (&s_host_once, s_host_init);
    self->max_age_s = max_age_s;
    if (self->readonly) return; //  it may not change the tree
    int rc = pthread_create (&self->sweeper, NULL, s_sweeper, self);
    if (rc)
        zaio_log_warning ("volume", "%s: no sweep of temporary files: %s", self->name,
                          strerror (rc));
    self->sweeping = rc == 0;
}

void
zaio_volume_sweep_join (zaio_volume_t *self)
{
    assert (self);
    if (self->sweeping) pthread_join (self->sweeper, NULL);
    self->sweeping = false;
}
