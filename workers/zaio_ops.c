/*  zaio_ops.c: the op table, one entry per op (schemas/PROTOCOL.md, 5).

    Every op runs on a worker thread and makes blocking system calls. Each
    entry of s_ops takes a job, does the work and, on success, packs its
    reply header (and sets the data frame); on failure it returns an error
    code and zaio_ops_execute packs the error reply. Nothing here asserts on
    request content.

    Confinement: every path is resolved against the volume's root
    descriptor by the kernel, with openat2 (RESOLVE_BENEATH |
    RESOLVE_NO_MAGICLINKS), so `..`, absolute paths and symlinks cannot
    leave the root at the moment of use. Ops on a final component (unlink,
    rmdir, mkdir, rename, the temporary file of writefile) open its parent
    that way and then call the *at () function on a single name, which the
    kernel never follows out of the parent. Where openat2 does not exist
    (kernels before 5.6, or valgrind before 3.22), s_walk resolves the path
    one component at a time with O_NOFOLLOW and the same rules.

    Modes: nothing a client sends makes a setuid or setgid file or
    directory, and a file a client changes loses those bits (s_mode,
    s_clear_setid), so a worker running as root cannot be used to plant
    or rewrite a privileged executable.
*/

//  openat2, O_PATH and copy_file_range are Linux extensions.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "zaio_ops.h"
#include "zaio_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define S_FILE_MODE      0644          //  default mode of created files
#define S_DIR_MODE       0755          //  default mode of created directories
#define S_COPY_CHUNK     (1u << 30)    //  bytes asked of one copy_file_range
#define S_COPY_BUFFER    (256u * 1024) //  buffer of the read/write copy fallback
#define S_TEMP_TRIES     64            //  names tried for a writefile temp file
#define S_TEMP_RANDOM    6             //  random characters in a temp name
#define S_MESSAGE_MAX    160           //  bytes in an error message
#define S_WALK_LINKS_MAX 40            //  symlinks one resolution may follow
#define S_WALK_DEPTH_MAX 512           //  directories one resolution may descend
#define S_OPENAT2_TRIES  4             //  openat2 calls before s_walk resolves (EAGAIN)
#define S_ESCAPE_TEXT    "path escapes the volume root"

//  The bits of "Modes" above.
#define S_SETID_BITS (S_ISUID | S_ISGID)

//  One job in flight: the request, its input, and what the reply needs.
typedef struct {
    const zaio_request_t *req;   //  the decoded request (borrowed)
    zmq_msg_t *input;            //  request data part (borrowed), or NULL
    int root;                    //  volume root descriptor (borrowed)
    bool nolinks;                //  refuse regular files with more than one link
    zaio_fdcache_t *cache;       //  the thread's open files (borrowed), or NULL
    size_t payload_max;          //  most bytes a read or readfile may return
    msgpack_packer *pk;          //  reply header under construction
    zaio_ops_result_t *result;   //  where a read's data part goes
    zaio_ops_gate_fn *gate;      //  asked before a late change, or NULL
    void *gate_arg;              //  its argument
    uint64_t bytes;              //  bytes moved so far
    char message[S_MESSAGE_MAX]; //  error text; empty means strerror
} s_job_t;

//  An op: on success packs the whole reply header and returns 0; on failure
//  packs nothing and returns an errno value or a ZAIO_ERR_* code.
typedef int (s_op_fn_t) (s_job_t *job);

//  --------------------------------------------------------------------------
//  Record a message for the error reply and return code, so an op can say
//  `return s_fail (job, EINVAL, "...")`.

static int s_fail (s_job_t *job, int code, const char *format, ...) CHECK_PRINTF (3);

static int
s_fail (s_job_t *job, int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (job->message, sizeof job->message, format, args);
    va_end (args);
    return code;
}

//  --------------------------------------------------------------------------
//  Path resolution

//  Set once openat2 answered ENOSYS; from then on s_walk resolves paths.
static atomic_bool s_no_openat2;

//  --------------------------------------------------------------------------
//  Split the first component off *rest: returns its length and sets *name;
//  *rest moves past it and past the slashes after it. Returns 0 at the end.

static size_t
s_next_component (const char **rest, const char **name)
{
    const char *p = *rest;
    while (*p == '/') p++;
    *name = p;
    while (*p && *p != '/') p++;
    size_t len = (size_t)(p - *name);
    while (*p == '/') p++;
    *rest = p;
    return len;
}

//  --------------------------------------------------------------------------
//  Userspace equivalent of openat2 (root, path, RESOLVE_BENEATH |
//  RESOLVE_NO_MAGICLINKS) for kernels without it: walks one component at a
//  time with O_NOFOLLOW from descriptors it holds, keeps the descriptors of
//  the directories it descended through so `..` returns to one of them
//  (never above root: EXDEV), reads symlinks itself and refuses absolute
//  targets (EXDEV).

//  One resolution in progress.
typedef struct {
    int dirs[S_WALK_DEPTH_MAX]; //  dirs[0] the root, dirs[depth] the current directory (owned)
    int depth;                  //  directories descended below the root
    int links;                  //  symlinks followed so far
    char *pending;              //  the path still to resolve (owned)
    const char *rest;           //  where in pending the next component starts
} s_walker_t;

//  `..`: close the current directory and go back to the one it was entered
//  from. Returns 0, or EXDEV at the root, which it never leaves.

static int
s_walk_dotdot (s_walker_t *walker)
{
    if (walker->depth == 0) return EXDEV;
    close (walker->dirs[walker->depth--]);
    return 0;
}

//  A component with more after it (or a trailing slash): opens it with
//  O_PATH | O_NOFOLLOW and, if it is a directory, makes it the current one.
//  Returns 0 having descended, 0 with *link set if it is a symlink to follow
//  (nothing held open), or an errno: ENAMETOOLONG past S_WALK_DEPTH_MAX,
//  ENOTDIR for anything else, or what openat or fstat said.

static int
s_walk_descend (s_walker_t *walker, const char *component, bool *link)
{
    if (walker->depth + 1 == S_WALK_DEPTH_MAX) return ENAMETOOLONG;
    int fd = openat (walker->dirs[walker->depth], component, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd == -1 || fstat (fd, &st) == -1) {
        int error = errno;
        if (fd >= 0) close (fd);
        return error;
    }
    if (S_ISDIR (st.st_mode)) {
        walker->dirs[++walker->depth] = fd;
        return 0;
    }
    close (fd);
    if (!S_ISLNK (st.st_mode)) return ENOTDIR;
    *link = true;
    return 0;
}

//  The last component: opens it in the current directory with flags,
//  O_NOFOLLOW and O_CLOEXEC added, and mode. Unless flags hold O_NOFOLLOW,
//  a symlink is not opened but followed: it is looked at with fstatat
//  first (opened with O_NOFOLLOW, a symlink is only an error), and ELOOP
//  from openat means it became one since. Returns the descriptor, or -1
//  with errno set, or -1 with *link set for a symlink to follow.

static int
s_walk_open_last (s_walker_t *walker, const char *component, int flags, mode_t mode, bool *link)
{
    int dir = walker->dirs[walker->depth];
    struct stat st;
    if (!(flags & O_NOFOLLOW) && fstatat (dir, component, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK (st.st_mode)) {
        *link = true;
        return -1;
    }
    int fd = openat (dir, component, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    *link = fd == -1 && errno == ELOOP && !(flags & O_NOFOLLOW);
    return fd;
}

//  Follow the symlink component of the current directory: counts it
//  against S_WALK_LINKS_MAX (ELOOP), reads its target, refuses an absolute
//  one (EXDEV), and makes the target, then what followed the link, the new
//  pending path. slash: the link was named with a trailing slash. Returns
//  0 or an errno; on failure pending is unchanged.

static int
s_walk_follow (s_walker_t *walker, const char *component, bool slash)
{
    if (++walker->links > S_WALK_LINKS_MAX) return ELOOP;
    char target[PATH_MAX];
    ssize_t size = readlinkat (walker->dirs[walker->depth], component, target, sizeof target);
    if (size == -1 || (size_t)size == sizeof target) return size == -1 ? errno : ENAMETOOLONG;
    if (size > 0 && target[0] == '/') return EXDEV;
    size_t tail = strlen (walker->rest);
    char *next = (char *)malloc ((size_t)size + tail + 2);
    if (!next) return ENOMEM;
    memcpy (next, target, (size_t)size);
    next[size] = '/';
    //  No slash after a final symlink's target unless the path had one:
    //  a trailing slash demands a directory.
    memcpy (next + size + (tail || slash ? 1 : 0), walker->rest, tail + 1);
    free (walker->pending);
    walker->pending = next;
    walker->rest = next;
    return 0;
}

//  Resolve the next component of the pending path. Returns true to go on;
//  false once the walk is over, with *fd the opened descriptor or -1 and
//  *error the errno to report.

static bool
s_walk_step (s_walker_t *walker, int flags, mode_t mode, int *fd, int *error)
{
    *fd = -1;
    const char *name;
    size_t len = s_next_component (&walker->rest, &name);
    if (len == 0) {
        //  Every component walked: the path names the current directory.
        *fd = openat (walker->dirs[walker->depth], ".", flags | O_CLOEXEC, mode);
        *error = errno;
        return false;
    }
    if (len > NAME_MAX) {
        *error = ENAMETOOLONG;
        return false;
    }
    char component[NAME_MAX + 1];
    memcpy (component, name, len);
    component[len] = 0;
    //  A last component with a trailing slash is walked as a directory.
    bool slash = name[len] == '/';
    bool last = *walker->rest == 0 && !slash;
    if (strcmp (component, ".") == 0) return true;
    if (strcmp (component, "..") == 0) {
        *error = s_walk_dotdot (walker);
        return *error == 0;
    }
    bool link = false;
    if (last) {
        *fd = s_walk_open_last (walker, component, flags, mode, &link);
        *error = errno;
        if (!link) return false;
    } else {
        *error = s_walk_descend (walker, component, &link);
        if (*error || !link) return *error == 0;
    }
    *error = s_walk_follow (walker, component, slash);
    return *error == 0;
}

//  Open path beneath root as openat2 would (see above), with flags
//  (O_CLOEXEC is added) and mode. Holds every descriptor it opens on the
//  way and closes them before it returns. Returns a descriptor or -1 with
//  errno set.

static int
s_walk (int root, const char *path, int flags, mode_t mode)
{
    if (*path == '/') {
        errno = EXDEV;
        return -1;
    }
    s_walker_t walker;
    walker.pending = strdup (path);
    if (!walker.pending) return -1;
    walker.dirs[0] = openat (root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (walker.dirs[0] == -1) {
        free (walker.pending);
        return -1;
    }
    walker.depth = 0;
    walker.links = 0;
    walker.rest = walker.pending;
    int fd, error;
    while (s_walk_step (&walker, flags, mode, &fd, &error)) {
    }
    while (walker.depth >= 0) close (walker.dirs[walker.depth--]);
    free (walker.pending);
    errno = error;
    return fd;
}

//  --------------------------------------------------------------------------
//  Open path beneath root with flags (O_CLOEXEC is added) and mode, refusing
//  every route out of the root. Returns a descriptor or -1 with errno set;
//  EXDEV means the path tried to escape.

static int
s_open_beneath (int root, const char *path, int flags, mode_t mode)
{
    if (*path == '/') {
        errno = EXDEV;
        return -1;
    }
    if (*path == 0) path = ".";
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    //  EAGAIN: a rename or mount anywhere on the system overlapped the
    //  lookup of a "..", so the kernel could not prove it stayed beneath
    //  root, and says to try again. Each try is a fresh chance (under a
    //  rename loop we saw at most 3 in a row); past S_OPENAT2_TRIES s_walk
    //  decides, as it never looks ".." up and so never fails that way. It
    //  also answers the other EAGAIN, a lease held against O_NONBLOCK.
    for (int tries = 0;
         tries < S_OPENAT2_TRIES && !atomic_load_explicit (&s_no_openat2, memory_order_relaxed);
         tries++) {
        long fd = syscall (SYS_openat2, root, path, &how, sizeof how);
        if (fd >= 0 || (errno != EAGAIN && errno != ENOSYS)) return (int)fd;
        if (errno == ENOSYS) {
            atomic_store (&s_no_openat2, true);
            zaio_log_warning ("ops", "openat2 is not available; resolving paths in userspace");
        }
    }
    return s_walk (root, path, flags, mode);
}

//  --------------------------------------------------------------------------
//  Open path for a job; on success stores the descriptor in *fd and returns
//  0, else returns the errno (with the escape message for EXDEV).

static int
s_open (s_job_t *job, const char *path, int flags, mode_t mode, int *fd)
{
    *fd = s_open_beneath (job->root, path, flags, mode);
    if (*fd >= 0) return 0;
    if (errno == EXDEV) return s_fail (job, EXDEV, S_ESCAPE_TEXT);
    return errno;
}

//  --------------------------------------------------------------------------
//  Open a file with flags, check it is a regular file, and fill *st. A
//  directory is EISDIR, any other non-regular file EINVAL, one with more
//  than one link EMLINK on a nolinks volume (O_NONBLOCK while
//  opening keeps a FIFO from blocking the worker). Returns 0 or an error.

static int
s_open_file (s_job_t *job, const char *path, int flags, mode_t mode, int *fd, struct stat *st)
{
    int rc = s_open (job, path, flags | O_NONBLOCK, mode, fd);
    //  ENXIO: a FIFO without a reader, a socket or a device without a driver.
    if (rc == ENXIO) return s_fail (job, EINVAL, "not a regular file");
    if (rc) return rc;
    if (fstat (*fd, st) == -1)
        rc = errno;
    else if (S_ISDIR (st->st_mode))
        rc = EISDIR;
    else if (!S_ISREG (st->st_mode))
        rc = s_fail (job, EINVAL, "not a regular file");
    else if (job->nolinks && st->st_nlink > 1)
        rc = s_fail (job, EMLINK, "file has %lu links; this volume serves files with one only",
                     (unsigned long)st->st_nlink);
    //  O_NONBLOCK stays: Linux ignores it for regular files, the only kind
    //  that gets this far, and clearing it would cost two system calls.
    if (rc) {
        close (*fd);
        *fd = -1;
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Open the job's path for reading: the thread's cached descriptor if it
//  still names the file, else s_open_file, and a new descriptor goes into
//  the cache. *size is the file's size when its path was looked up, at
//  some moment after the job was sent. Pair with s_reading_done.

static int
s_open_reading (s_job_t *job, int *fd, uint64_t *size)
{
    *fd = job->cache ? zaio_fdcache_get (job->cache, job->root, job->req->path, size) : -1;
    if (*fd >= 0) return 0;
    struct stat st;
    int rc = s_open_file (job, job->req->path, O_RDONLY, 0, fd, &st);
    if (rc) return rc;
    *size = (uint64_t)st.st_size;
    if (job->cache) zaio_fdcache_put (job->cache, job->root, job->req->path, *fd, &st);
    return 0;
}

//  A read is over: a descriptor no cache took is closed.
static void
s_reading_done (s_job_t *job, int fd)
{
    if (!job->cache) close (fd);
}

//  The parent directory of a path's final component, and that component.
typedef struct {
    int dir;                        //  descriptor of the parent
    const char *name;               //  final component, trailing slashes kept
    char buffer[ZAIO_PATH_MAX + 2]; //  parent path, NUL, name
} s_entry_t;

//  --------------------------------------------------------------------------
//  Open the parent of path (with dir_flags; O_DIRECTORY is added) and point
//  entry->name at the final component. The name keeps its trailing slashes
//  so the *at () calls apply POSIX rules to them without following a
//  symlink. A final component that is empty, "." or ".." is EINVAL: these
//  ops need a name inside a directory. Returns 0 or an error.

static int
s_entry_open (s_job_t *job, const char *path, int dir_flags, s_entry_t *entry)
{
    entry->dir = -1;
    size_t size = strlen (path);
    if (size > ZAIO_PATH_MAX) return ENAMETOOLONG;
    if (*path == '/') return s_fail (job, EXDEV, S_ESCAPE_TEXT);
    size_t end = size;
    while (end > 0 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t len = end - start;
    if (len == 0 || (len == 1 && path[start] == '.') ||
        (len == 2 && path[start] == '.' && path[start + 1] == '.'))
        return s_fail (job, EINVAL, "path must end in a name, not in '.', '..' or the root");
    if (len > NAME_MAX) return ENAMETOOLONG;
    //  The parent's path, its NUL, then the name.
    memcpy (entry->buffer, path, start);
    entry->buffer[start] = 0;
    memcpy (entry->buffer + start + 1, path + start, size - start + 1);
    entry->name = entry->buffer + start + 1;
    return s_open (job, entry->buffer, dir_flags | O_DIRECTORY, 0, &entry->dir);
}

//  --------------------------------------------------------------------------
//  Close what s_entry_open opened (safe if it failed).

static void
s_entry_close (s_entry_t *entry)
{
    if (entry->dir >= 0) close (entry->dir);
    entry->dir = -1;
}

//  --------------------------------------------------------------------------
//  Shared IO loops

//  --------------------------------------------------------------------------
//  Read size bytes at offset into a new frame, looping on short reads; the
//  frame is cut short if the file ends sooner. Returns 0 or an errno.

static int
s_read_frame (int fd, uint64_t offset, size_t size, zmq_msg_t *frame)
{
    int rc = zmq_msg_init_size (frame, size);
    assert (rc == 0);
    byte *data = (byte *)zmq_msg_data (frame);
    size_t done = 0;
    while (done < size) {
        ssize_t got = pread (fd, data + done, size - done, (off_t)(offset + done));
        if (got == -1 && errno == EINTR) continue;
        if (got == -1) {
            int error = errno;
            zmq_msg_close (frame);
            return error;
        }
        if (got == 0) break;
        done += (size_t)got;
    }
    if (done < size) {
        //  The file ended sooner: a part of the size that arrived.
        zmq_msg_t fitted;
        zmq_msg_init_size (&fitted, done);
        memcpy (zmq_msg_data (&fitted), data, done);
        zmq_msg_move (frame, &fitted); //  closes the larger one
        zmq_msg_close (&fitted);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Write size bytes from data at offset (pwrite), or at the file position
//  when offset is negative (write; O_APPEND files), looping on short
//  writes. Adds what was written to *written; returns 0 or an errno.

static int
s_write_all (int fd, const void *data, size_t size, off_t offset, uint64_t *written)
{
    const byte *bytes = (const byte *)data;
    size_t done = 0;
    while (done < size) {
        ssize_t rc = offset < 0 ? write (fd, bytes + done, size - done)
                                : pwrite (fd, bytes + done, size - done, offset + (off_t)done);
        if (rc == -1 && errno == EINTR) continue;
        if (rc == -1) return errno;
        if (rc == 0) return EIO;
        done += (size_t)rc;
        *written += (uint64_t)rc;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The request's data frame as (data, size); a write op without one is a
//  broker fault, answered MALFORMED.

static int
s_input (s_job_t *job, const void **data, size_t *size)
{
    if (!job->input)
        return s_fail (job, ZAIO_ERR_MALFORMED, "op '%s' needs a data frame",
                       zaio_op_name (job->req->op));
    *data = zmq_msg_data (job->input);
    *size = zmq_msg_size (job->input);
    return 0;
}

//  --------------------------------------------------------------------------
//  Mode for a created file or directory: the request's, else fallback (a
//  default, or the source's for copy, which takes no mode field), without
//  setuid and setgid. Masked like the umask, not refused: a client that
//  copies modes from elsewhere keeps working.

static mode_t
s_mode (s_job_t *job, mode_t fallback)
{
    mode_t mode = (job->req->fields & ZAIO_FIELD_MODE) ? (mode_t)job->req->mode : fallback;
    return mode & 07777 & ~(mode_t)S_SETID_BITS;
}

//  --------------------------------------------------------------------------
//  A file about to be changed, whose status is st, loses its setuid and
//  setgid bits. The kernel takes them only from writers without
//  CAP_FSETID, and a worker running as root has it. Returns 0 or an errno.

static int
s_clear_setid (int fd, const struct stat *st)
{
    if (!(st->st_mode & S_SETID_BITS)) return 0;
    //  EPERM: the worker neither owns the file nor has CAP_FOWNER, so
    //  (unless it was given CAP_FSETID alone) the kernel clears the bits
    //  itself when the file is written.
    if (fchmod (fd, st->st_mode & 07777 & ~(mode_t)S_SETID_BITS) == -1 && errno != EPERM)
        return errno;
    return 0;
}

//  --------------------------------------------------------------------------
//  Wire name of a file type.

static const char *
s_type_name (mode_t mode)
{
    if (S_ISREG (mode)) return "file";
    if (S_ISDIR (mode)) return "dir";
    if (S_ISLNK (mode)) return "symlink";
    return "other";
}

static int64_t
s_mtime_ns (const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

//  --------------------------------------------------------------------------
//  The ops, in the order of the spec's table

//  --------------------------------------------------------------------------
//  ping: no IO, no results.

static int
s_op_ping (s_job_t *job)
{
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  hello: the broker answers it; reaching a worker is a broker fault.

static int
s_op_hello (s_job_t *job)
{
    return s_fail (job, ZAIO_ERR_INTERNAL, "hello is answered by the broker");
}

//  --------------------------------------------------------------------------
//  stat: type, size, mode and mtime of path, not following a final symlink
//  (O_PATH | O_NOFOLLOW opens the link itself; the kernel still resolves
//  and confines every earlier component, and a trailing slash).

static int
s_op_stat (s_job_t *job)
{
    int fd;
    int rc = s_open (job, job->req->path, O_PATH | O_NOFOLLOW, 0, &fd);
    if (rc) return rc;
    struct stat st;
    rc = fstat (fd, &st) == -1 ? errno : 0;
    close (fd);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 4);
    zaio_pack_key_uint (job->pk, "mode", st.st_mode & 07777);
    zaio_pack_key_int (job->pk, "mtime_ns", s_mtime_ns (&st));
    zaio_pack_key_uint (job->pk, "size", (uint64_t)st.st_size);
    zaio_pack_key_str (job->pk, "type", s_type_name (st.st_mode));
    return 0;
}

//  --------------------------------------------------------------------------
//  read: at most length bytes at offset, read straight into the reply
//  frame, which is sized from the file, not from length. eof compares the
//  end of what was read with the size the path lookup saw.

static int
s_op_read (s_job_t *job)
{
    const zaio_request_t *req = job->req;
    if (req->length > job->payload_max)
        return s_fail (job, ZAIO_ERR_TOOBIG, "read length exceeds the payload limit");
    int fd;
    uint64_t size;
    int rc = s_open_reading (job, &fd, &size);
    if (rc) return rc;
    size_t want = 0;
    if (req->offset < size)
        want =
            size - req->offset < req->length ? (size_t)(size - req->offset) : (size_t)req->length;
    rc = s_read_frame (fd, req->offset, want, &job->result->data);
    s_reading_done (job, fd);
    if (rc) return rc;
    job->result->has_data = true;
    size_t got = zmq_msg_size (&job->result->data);
    job->bytes = got;
    zaio_reply_pack_ok (job->pk, req->id, 2);
    zaio_pack_key_uint (job->pk, "bytes", got);
    zaio_pack_key_bool (job->pk, "eof", got < want || req->offset + got >= size);
    return 0;
}

//  --------------------------------------------------------------------------
//  write and append share this: open path for writing (creating it if
//  asked), write the data frame at offset or at the end, and reply bytes
//  (and for append, offset: where the data landed).

static int
s_write_common (s_job_t *job, bool append)
{
    const zaio_request_t *req = job->req;
    const void *data = NULL;
    size_t size = 0;
    int rc = s_input (job, &data, &size);
    if (rc) return rc;
    int flags = O_WRONLY | (req->create ? O_CREAT : 0) | (append ? O_APPEND : 0);
    int fd;
    struct stat st;
    rc = s_open_file (job, req->path, flags, s_mode (job, S_FILE_MODE), &fd, &st);
    if (rc) return rc;
    rc = s_clear_setid (fd, &st);
    if (rc == 0) rc = s_write_all (fd, data, size, append ? -1 : (off_t)req->offset, &job->bytes);
    //  After an O_APPEND write the position is the new end of the file.
    off_t end = rc == 0 && append && size > 0 ? lseek (fd, 0, SEEK_CUR) : st.st_size;
    if (rc == 0 && end == -1) rc = errno;
    close (fd);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, req->id, append ? 2 : 1);
    zaio_pack_key_uint (job->pk, "bytes", job->bytes);
    if (append) zaio_pack_key_uint (job->pk, "offset", (uint64_t)end - job->bytes);
    return 0;
}

static int
s_op_write (s_job_t *job)
{
    return s_write_common (job, false);
}

static int
s_op_append (s_job_t *job)
{
    return s_write_common (job, true);
}

//  --------------------------------------------------------------------------
//  readfile: the whole file, EFBIG if it is larger than the payload limit.

static int
s_op_readfile (s_job_t *job)
{
    int fd;
    uint64_t size;
    int rc = s_open_reading (job, &fd, &size);
    if (rc) return rc;
    if (size > job->payload_max)
        rc = s_fail (job, EFBIG, "file is %" PRIu64 " bytes, payload limit %zu", size,
                     job->payload_max);
    else
        rc = s_read_frame (fd, 0, (size_t)size, &job->result->data);
    s_reading_done (job, fd);
    if (rc) return rc;
    job->result->has_data = true;
    job->bytes = zmq_msg_size (&job->result->data);
    zaio_reply_pack_ok (job->pk, job->req->id, 1);
    zaio_pack_key_uint (job->pk, "bytes", job->bytes);
    return 0;
}

//  --------------------------------------------------------------------------
//  Create a new temporary file beside entry->name, named
//  .NAME.zaio-tmp.HOST.PID.XXXXXX (zaio_volume_temp_name: a later process
//  can tell whether its writer is gone), with O_EXCL. Stores its name in
//  temp (at least NAME_MAX + 1 bytes) and returns the descriptor, or -1
//  with errno set.

static int
s_temp_open (const s_entry_t *entry, mode_t mode, char *temp)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t len = strcspn (entry->name, "/");
    for (int attempt = 0; attempt < S_TEMP_TRIES; attempt++) {
        unsigned char random[S_TEMP_RANDOM];
        if (getrandom (random, sizeof random, 0) != (ssize_t)sizeof random) return -1;
        char suffix[S_TEMP_RANDOM + 1];
        for (int i = 0; i < S_TEMP_RANDOM; i++)
            suffix[i] = alphabet[random[i] % (sizeof alphabet - 1)];
        suffix[S_TEMP_RANDOM] = 0;
        zaio_volume_temp_name (temp, entry->name, len, suffix);
        int fd =
            openat (entry->dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

//  --------------------------------------------------------------------------
//  writefile: replace path atomically and durably: write a temporary file
//  in the same directory, fsync it, rename it over path, fsync the
//  directory. The temporary file is removed on any failure before the
//  rename.

static int
s_op_writefile (s_job_t *job)
{
    const void *data = NULL;
    size_t size = 0;
    int rc = s_input (job, &data, &size);
    if (rc) return rc;
    s_entry_t entry;
    //  O_RDONLY rather than O_PATH: the directory itself is fsync'ed.
    rc = s_entry_open (job, job->req->path, O_RDONLY, &entry);
    if (rc) return rc;
    char temp[NAME_MAX + 1];
    int fd = s_temp_open (&entry, s_mode (job, S_FILE_MODE), temp);
    if (fd == -1) {
        rc = errno;
        s_entry_close (&entry);
        return rc;
    }
    rc = s_write_all (fd, data, size, 0, &job->bytes);
    if (rc == 0 && fsync (fd) == -1) rc = errno;
    if (close (fd) == -1 && rc == 0) rc = errno;
    //  Writing and syncing a big file takes a while: the worker may have
    //  been frozen meanwhile and the broker have given up on the job.
    if (rc == 0 && job->gate && !job->gate (job->gate_arg))
        rc = s_fail (job, ZAIO_ERR_UNKNOWN_OUTCOME,
                     "not done: the worker lost touch with the broker before the file was "
                     "replaced, which it left as it was");
    if (rc == 0 && renameat (entry.dir, temp, entry.dir, entry.name) == -1) rc = errno;
    if (rc)
        unlinkat (entry.dir, temp, 0);
    else if (fsync (entry.dir) == -1)
        rc = s_fail (job, errno, "file replaced but its directory was not synced: %s",
                     strerror (errno));
    s_entry_close (&entry);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 1);
    zaio_pack_key_uint (job->pk, "bytes", job->bytes);
    return 0;
}

//  --------------------------------------------------------------------------
//  truncate: set the file's size.

static int
s_op_truncate (s_job_t *job)
{
    int fd;
    struct stat st;
    int rc = s_open_file (job, job->req->path, O_WRONLY, 0, &fd, &st);
    if (rc) return rc;
    rc = s_clear_setid (fd, &st);
    if (rc == 0 && ftruncate (fd, (off_t)job->req->size) == -1) rc = errno;
    close (fd);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  fsync: flush a file or directory (fdatasync if datasync).

static int
s_op_fsync (s_job_t *job)
{
    int fd;
    int rc = s_open (job, job->req->path, O_RDONLY | O_NONBLOCK, 0, &fd);
    if (rc) return rc;
    if ((job->req->datasync ? fdatasync (fd) : fsync (fd)) == -1) rc = errno;
    close (fd);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  unlink and rmdir share this: unlinkat the final component of path in
//  its confined parent, with flags 0 or AT_REMOVEDIR.

static int
s_remove_common (s_job_t *job, int flags)
{
    s_entry_t entry;
    int rc = s_entry_open (job, job->req->path, O_PATH, &entry);
    if (rc == 0 && unlinkat (entry.dir, entry.name, flags) == -1) rc = errno;
    s_entry_close (&entry);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

static int
s_op_unlink (s_job_t *job)
{
    return s_remove_common (job, 0);
}

static int
s_op_rmdir (s_job_t *job)
{
    return s_remove_common (job, AT_REMOVEDIR);
}

//  --------------------------------------------------------------------------
//  rename: path over to (replacing it, POSIX rules), both in confined
//  parents.

static int
s_op_rename (s_job_t *job)
{
    s_entry_t from, to;
    int rc = s_entry_open (job, job->req->path, O_PATH, &from);
    if (rc == 0) {
        rc = s_entry_open (job, job->req->to, O_PATH, &to);
        if (rc == 0 && renameat (from.dir, from.name, to.dir, to.name) == -1) rc = errno;
        s_entry_close (&to);
    }
    s_entry_close (&from);
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  mkdir -p: create each missing component of path in turn, each in a
//  parent opened afresh with openat2, so every step is confined. Existing
//  directories are fine; an existing non-directory is EEXIST at the end
//  and ENOTDIR before it. Ancestors get the default mode, the last
//  directory the requested one. Returns 0 or an error.

static int
s_mkdir_parents (s_job_t *job, mode_t mode)
{
    const char *path = job->req->path;
    if (*path == '/') return s_fail (job, EXDEV, S_ESCAPE_TEXT);
    char prefix[ZAIO_PATH_MAX + 1];
    const char *rest = path;
    while (true) {
        const char *name;
        size_t start = (size_t)(rest - path);
        size_t len = s_next_component (&rest, &name);
        if (len == 0) return 0;
        if (len > NAME_MAX) return ENAMETOOLONG;
        bool last = *rest == 0;
        bool dots = (len == 1 && name[0] == '.') || (len == 2 && memcmp (name, "..", 2) == 0);
        //  prefix is the parent's path: everything before this component.
        memcpy (prefix, path, start);
        prefix[start] = 0;
        int dir;
        int rc = s_open (job, prefix, O_PATH | O_DIRECTORY, 0, &dir);
        if (rc) return rc;
        char component[NAME_MAX + 1];
        memcpy (component, name, len);
        component[len] = 0;
        if (!dots && mkdirat (dir, component, last ? mode : S_DIR_MODE) == -1) rc = errno;
        close (dir);
        if (rc == 0 && !dots) continue;
        if (rc && rc != EEXIST) return rc;
        //  Something is there (or the name is "." / ".."): it must be a
        //  directory, reached without leaving the root.
        size_t through = (size_t)(name - path) + len;
        memcpy (prefix, path, through);
        prefix[through] = 0;
        rc = s_open (job, prefix, O_PATH | O_DIRECTORY, 0, &dir);
        if (rc == ENOTDIR && last) return s_fail (job, EEXIST, "exists and is not a directory");
        if (rc) return rc;
        close (dir);
    }
}

//  --------------------------------------------------------------------------
//  mkdir: one directory in a confined parent, or with parents, mkdir -p.

static int
s_op_mkdir (s_job_t *job)
{
    mode_t mode = s_mode (job, S_DIR_MODE);
    int rc;
    if (job->req->parents)
        rc = s_mkdir_parents (job, mode);
    else {
        s_entry_t entry;
        rc = s_entry_open (job, job->req->path, O_PATH, &entry);
        if (rc == 0 && mkdirat (entry.dir, entry.name, mode) == -1) rc = errno;
        s_entry_close (&entry);
    }
    if (rc) return rc;
    zaio_reply_pack_ok (job->pk, job->req->id, 0);
    return 0;
}

//  One listdir entry, as lstat saw it.
typedef struct {
    char *name;
    struct stat st;
} s_listing_t;

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

//  --------------------------------------------------------------------------
//  Read every name in dir except ., .. and temporary files into a new
//  sorted array (caller frees each name and the array). Returns 0 or an
//  errno.

static int
s_read_names (DIR *dir, char ***names_p, size_t *count_p)
{
    char **names = NULL;
    size_t count = 0, capacity = 0;
    int rc = 0;
    while (true) {
        errno = 0;
        struct dirent *dirent = readdir (dir);
        if (!dirent) {
            rc = errno;
            break;
        }
        if (strcmp (dirent->d_name, ".") == 0 || strcmp (dirent->d_name, "..") == 0) continue;
        //  writefile's temporary files, in progress or left by a crash.
        if (zaio_volume_is_temp (dirent->d_name)) continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            char **grown = (char **)realloc (names, capacity * sizeof (char *));
            if (!grown) {
                rc = ENOMEM;
                break;
            }
            names = grown;
        }
        names[count] = strdup (dirent->d_name);
        if (!names[count]) {
            rc = ENOMEM;
            break;
        }
        count++;
    }
    if (rc) {
        while (count) free (names[--count]);
        free (names);
        return rc;
    }
    if (count) qsort (names, count, sizeof (char *), s_compare_names);
    *names_p = names;
    *count_p = count;
    return 0;
}

//  --------------------------------------------------------------------------
//  One listdir page in the making.
typedef struct {
    char **names;      //  every name in the directory, sorted (owned, each name too)
    size_t count;      //  of names
    s_listing_t *page; //  the entries taken (owned; their names borrowed from names)
    size_t taken;      //  of page
    size_t next;       //  index of the first name not looked at
} s_listdir_t;

//  Take into ls->page the names after req's cursor (if any) that still
//  exist in dir, at most limit of them, each with what lstat says. Returns
//  0 or an errno.

static int
s_listdir_take (s_listdir_t *ls, DIR *dir, const zaio_request_t *req, size_t limit)
{
    if (req->fields & ZAIO_FIELD_AFTER)
        while (ls->next < ls->count && strcmp (ls->names[ls->next], req->after) <= 0) ls->next++;
    size_t room = ls->count - ls->next < limit ? ls->count - ls->next : limit;
    ls->page = (s_listing_t *)calloc (room ? room : 1, sizeof (s_listing_t));
    if (!ls->page) return ENOMEM;
    while (ls->next < ls->count && ls->taken < limit) {
        s_listing_t *entry = &ls->page[ls->taken];
        if (fstatat (dirfd (dir), ls->names[ls->next], &entry->st, AT_SYMLINK_NOFOLLOW) == 0)
            entry->name = ls->names[ls->next], ls->taken++;
        else if (errno != ENOENT)
            return errno;
        ls->next++;
    }
    return 0;
}

//  Pack the whole reply header of a listdir: the page's entries, and more.

static void
s_listdir_pack (s_job_t *job, const s_listdir_t *ls)
{
    msgpack_packer *pk = job->pk;
    zaio_reply_pack_ok (pk, job->req->id, 2);
    zaio_pack_str (pk, "entries");
    msgpack_pack_array (pk, ls->taken);
    for (size_t i = 0; i < ls->taken; i++) {
        const s_listing_t *listing = &ls->page[i];
        zaio_dirent_t entry = {.size = (uint64_t)listing->st.st_size,
                               .mtime_ns = s_mtime_ns (&listing->st)};
        snprintf (entry.name, sizeof entry.name, "%s", listing->name);
        snprintf (entry.type, sizeof entry.type, "%s", s_type_name (listing->st.st_mode));
        zaio_dirent_pack (pk, &entry);
    }
    zaio_pack_key_bool (pk, "more", ls->next < ls->count);
}

//  --------------------------------------------------------------------------
//  listdir: a page of entries sorted bytewise, after the cursor, at most
//  limit of them; more says whether entries remain. Entries are lstat'ed
//  by name in the opened directory; one that vanished meanwhile is left
//  out.

static int
s_op_listdir (s_job_t *job)
{
    const zaio_request_t *req = job->req;
    size_t limit = (req->fields & ZAIO_FIELD_LIMIT) ? req->limit : ZAIO_LISTDIR_DEFAULT;
    if (limit == 0 || limit > ZAIO_LISTDIR_MAX)
        return s_fail (job, EINVAL, "limit must be 1..%d", ZAIO_LISTDIR_MAX);
    int fd;
    int rc = s_open (job, req->path, O_RDONLY | O_DIRECTORY, 0, &fd);
    if (rc) return rc;
    DIR *dir = fdopendir (fd);
    if (!dir) {
        rc = errno;
        close (fd);
        return rc;
    }
    s_listdir_t ls = {NULL, 0, NULL, 0, 0};
    rc = s_read_names (dir, &ls.names, &ls.count);
    if (rc == 0) rc = s_listdir_take (&ls, dir, req, limit);
    closedir (dir);
    if (rc == 0) s_listdir_pack (job, &ls);
    for (size_t i = 0; i < ls.count; i++) free (ls.names[i]);
    free (ls.names);
    free (ls.page);
    return rc;
}

//  --------------------------------------------------------------------------
//  Copy bytes *at to end of src to the same offsets of dst with pread and
//  pwrite, for filesystems that copy_file_range cannot serve. Advances *at,
//  stopping short where src ends; returns 0 or an errno.

static int
s_copy_fallback (int src, int dst, off_t *at, off_t end)
{
    byte *buffer = (byte *)malloc (S_COPY_BUFFER);
    if (!buffer) return ENOMEM;
    int rc = 0;
    while (*at < end) {
        size_t want = end - *at < S_COPY_BUFFER ? (size_t)(end - *at) : S_COPY_BUFFER;
        ssize_t got = pread (src, buffer, want, *at);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0) {
            rc = got == -1 ? errno : 0;
            break;
        }
        uint64_t written = 0;
        rc = s_write_all (dst, buffer, (size_t)got, *at, &written);
        if (rc) break;
        *at += got;
    }
    free (buffer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Copy bytes *at to end of src to the same offsets of dst in the kernel
//  (copy_file_range), falling back to pread/pwrite where it cannot.
//  Advances *at, stopping short where src ends; returns 0 or an errno.

static int
s_copy_range (int src, int dst, off_t *at, off_t end)
{
    while (*at < end) {
        off_t in = *at, out = *at;
        size_t want = end - *at < S_COPY_CHUNK ? (size_t)(end - *at) : S_COPY_CHUNK;
        ssize_t rc = copy_file_range (src, &in, dst, &out, want, 0);
        if (rc > 0)
            *at += rc;
        else if (rc == 0)
            return 0;
        else if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)
            return s_copy_fallback (src, dst, at, end);
        else if (errno != EINTR)
            return errno;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Copy the first size bytes of src to dst, an empty file: only its data
//  extents (SEEK_DATA, SEEK_HOLE), then dst's size set to size, so holes
//  stay holes and a truncated-up source costs no writes for its hole.
//  Where the filesystem cannot tell holes (EINVAL), every byte is data. If
//  src shrinks meanwhile, dst reads zeros past src's new end. Returns 0 or
//  an errno.

static int
s_copy_data (int src, int dst, off_t size)
{
    off_t at = 0;
    while (at < size) {
        off_t data = lseek (src, at, SEEK_DATA);
        //  On failure errno is that of whichever lseek failed.
        off_t hole = data == -1 ? -1 : lseek (src, data, SEEK_HOLE);
        if (hole == -1 && errno == ENXIO) break; //  nothing but a hole from at
        if (hole == -1 && errno != EINVAL) return errno;
        if (hole == -1) {
            data = at;
            hole = size;
        }
        off_t end = hole < size ? hole : size;
        at = data;
        int rc = s_copy_range (src, dst, &at, end);
        if (rc) return rc;
        if (at < end) break; //  src ended early
    }
    return ftruncate (dst, size) == -1 ? errno : 0;
}

//  --------------------------------------------------------------------------
//  copy: path to `to`, creating `to` with the source's mode (less setuid
//  and setgid) or truncating it. Copying a file onto itself is refused
//  (EINVAL), since truncating the destination would destroy the source.

static int
s_op_copy (s_job_t *job)
{
    int src, dst;
    struct stat src_st, dst_st;
    int rc = s_open_file (job, job->req->path, O_RDONLY, 0, &src, &src_st);
    if (rc) return rc;
    rc = s_open_file (job, job->req->to, O_WRONLY | O_CREAT, s_mode (job, src_st.st_mode), &dst,
                      &dst_st);
    if (rc) {
        close (src);
        return rc;
    }
    if (src_st.st_dev == dst_st.st_dev && src_st.st_ino == dst_st.st_ino)
        rc = s_fail (job, EINVAL, "source and destination are the same file");
    else
        rc = s_clear_setid (dst, &dst_st);
    if (rc == 0 && ftruncate (dst, 0) == -1) rc = errno;
    if (rc == 0) rc = s_copy_data (src, dst, src_st.st_size);
    close (src);
    if (close (dst) == -1 && rc == 0) rc = errno;
    if (rc) return rc;
    job->bytes = (uint64_t)src_st.st_size;
    zaio_reply_pack_ok (job->pk, job->req->id, 1);
    zaio_pack_key_uint (job->pk, "bytes", job->bytes);
    return 0;
}

//  The op table: one entry per op, indexed by zaio_op_t.
static s_op_fn_t *const s_ops[ZAIO_OP_COUNT] = {
    [ZAIO_OP_PING] = s_op_ping,         [ZAIO_OP_HELLO] = s_op_hello,
    [ZAIO_OP_STAT] = s_op_stat,         [ZAIO_OP_READ] = s_op_read,
    [ZAIO_OP_WRITE] = s_op_write,       [ZAIO_OP_APPEND] = s_op_append,
    [ZAIO_OP_READFILE] = s_op_readfile, [ZAIO_OP_WRITEFILE] = s_op_writefile,
    [ZAIO_OP_TRUNCATE] = s_op_truncate, [ZAIO_OP_FSYNC] = s_op_fsync,
    [ZAIO_OP_UNLINK] = s_op_unlink,     [ZAIO_OP_RENAME] = s_op_rename,
    [ZAIO_OP_MKDIR] = s_op_mkdir,       [ZAIO_OP_RMDIR] = s_op_rmdir,
    [ZAIO_OP_LISTDIR] = s_op_listdir,   [ZAIO_OP_COPY] = s_op_copy,
};

//  --------------------------------------------------------------------------
//  Run req against volume. data is the request's data frame (borrowed; NULL
//  for ops without one). payload_max bounds what a read or readfile may
//  return; gate is asked before a late change. Always fills result: a reply header, a data frame
//  for a successful read or readfile, and the outcome (error code, bytes moved).

void
zaio_ops_execute (zaio_volume_t *volume, const zaio_request_t *req, zmq_msg_t *data,
                  size_t payload_max, zaio_fdcache_t *cache, zaio_ops_gate_fn *gate, void *gate_arg,
                  zaio_ops_result_t *result)
{
    assert (volume);
    assert (req);
    assert (result);
    zaio_writer_t writer;
    zaio_writer_init (&writer);
    s_job_t job = {
        .req = req,
        .input = data,
        .root = zaio_volume_root_fd (volume),
        .nolinks = zaio_volume_nolinks (volume),
        .cache = cache,
        .payload_max = payload_max,
        .pk = &writer.packer,
        .result = result,
        .gate = gate,
        .gate_arg = gate_arg,
    };
    result->has_data = false;
    int rc;
    if ((unsigned)req->op >= ZAIO_OP_COUNT || !s_ops[req->op])
        rc = s_fail (&job, ZAIO_ERR_INTERNAL, "no such op");
    else if (zaio_volume_readonly (volume) && zaio_op_mutates (req->op))
        rc = s_fail (&job, EROFS, "volume '%s' is read-only", zaio_volume_name (volume));
    else
        rc = s_ops[req->op](&job);
    //  Names may have changed: later reads check their files again.
    if (cache && zaio_op_mutates (req->op)) zaio_fdcache_recheck (cache);
    if (rc) {
        //  Ops pack nothing when they fail; the error reply stands alone.
        zaio_writer_reset (&writer);
        zaio_reply_pack_error (job.pk, req->id, rc, *job.message ? job.message : NULL);
        if (result->has_data) zmq_msg_close (&result->data);
        result->has_data = false;
    }
    zaio_writer_part (&writer, &result->header);
    result->outcome = (zaio_outcome_t){.error = rc, .bytes = job.bytes, .service_us = 0};
    zaio_writer_release (&writer);
}
