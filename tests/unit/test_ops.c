/*  test_ops.c: the op table, called directly on a temporary volume.

    Every op's success path and its error paths, and every route out of the
    root (.., absolute paths, absolute and relative symlinks, a symlinked
    directory used as a parent), checked against a file outside the root
    that must never be read, written, renamed or deleted; modes a client
    must not get (setuid, setgid); lookups through '..' racing renames.
    A named case per op (or concern), each on a fresh tree holding what it
    is given, run four times: with openat2 and in a child process where a
    seccomp filter makes openat2 answer ENOSYS, so the userspace resolver
    that older kernels (and valgrind) use is held to the same rules; each
    as it is and with reads through a small cache of open files.
*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "testutil.h"
#include "zaio_ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAYLOAD_MAX (64u * 1024 * 1024)
#define ESCAPE_TEXT "path escapes the volume root"
#define SECRET      "top secret"
#define BIG_SIZE    (3u * 1024 * 1024)
#define RACE_MS     400 //  how long lookups race a renamer, per suite

//  The sparse copy: its data tail begins after a 1 GiB hole; a truncate
//  then adds a trailing hole; its copy may allocate at most SPARSE_USE.
#define SPARSE_HOLE (1u << 30)
#define SPARSE_END  (SPARSE_HOLE + 4096)
#define SPARSE_USE  (1u << 20)

static char s_base[256];    //  the temp directory holding everything
static char s_root[300];    //  the volume root: s_base/root
static char s_outside[300]; //  beside the root: s_base/outside
static uint64_t s_id;
static zaio_fdcache_t *s_cache; //  the suite's second pass reads through one
static bool s_batched;          //  calls run as one worker batch: no recheck between

//  --------------------------------------------------------------------------
//  Local filesystem helpers (plain POSIX, outside the code under test)

//  Formatted text into buf; asserts it fits.
static void s_format (char *buf, size_t size, const char *format, ...) CHECK_PRINTF (3);

static void
s_format (char *buf, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int len = vsnprintf (buf, size, format, args);
    va_end (args);
    assert (len >= 0 && (size_t)len < size);
}

//  root/rel into buf.
static const char *
s_local (char *buf, size_t size, const char *rel)
{
    s_format (buf, size, "%s/%s", s_root, rel);
    return buf;
}

static void
s_make_file (const char *rel, const void *data, size_t size)
{
    char path[512];
    int fd = open (s_local (path, sizeof path, rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert (fd >= 0);
    assert (write (fd, data, size) == (ssize_t)size);
    close (fd);
}

static void
s_make_text (const char *rel, const char *text)
{
    s_make_file (rel, text, strlen (text));
}

static void
s_make_dir (const char *rel)
{
    char path[512];
    assert (mkdir (s_local (path, sizeof path, rel), 0755) == 0);
}

static void
s_make_link (const char *rel, const char *target)
{
    char path[512];
    assert (symlink (target, s_local (path, sizeof path, rel)) == 0);
}

//  Whole file at an absolute path into a new buffer (caller frees); NULL if
//  it cannot be read.
static char *
s_slurp_abs (const char *path, size_t *size)
{
    int fd = open (path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    assert (fstat (fd, &st) == 0);
    char *data = (char *)malloc ((size_t)st.st_size + 1);
    assert (data);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t rc = read (fd, data + done, (size_t)st.st_size - done);
        assert (rc > 0);
        done += (size_t)rc;
    }
    data[done] = 0;
    close (fd);
    if (size) *size = done;
    return data;
}

//  True if the file at root/rel holds exactly text.
static bool
s_holds (const char *rel, const char *text)
{
    char path[512];
    size_t size;
    char *data = s_slurp_abs (s_local (path, sizeof path, rel), &size);
    bool same = data && size == strlen (text) && memcmp (data, text, size) == 0;
    free (data);
    return same;
}

static bool
s_exists (const char *rel)
{
    char path[512];
    struct stat st;
    return lstat (s_local (path, sizeof path, rel), &st) == 0;
}

static int
s_rmtree_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove (path);
}

static void
s_rmtree (const char *path)
{
    assert (nftw (path, s_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

//  Number of entries in root/rel whose name contains part.
static int
s_count_named (const char *rel, const char *part)
{
    char path[512];
    DIR *dir = opendir (s_local (path, sizeof path, rel));
    assert (dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        if (strstr (entry->d_name, part)) count++;
    closedir (dir);
    return count;
}

//  --------------------------------------------------------------------------
//  Calling the op table

typedef struct {
    zframe_t *header;
    zframe_t *data;
    zaio_outcome_t outcome;
    zaio_reply_t reply;
} s_call_t;

static zaio_request_t
s_req (zaio_op_t op, const char *path)
{
    zaio_request_t req;
    zaio_request_init (&req, op, ++s_id);
    if (path) assert (zaio_request_set_str (&req, ZAIO_FIELD_PATH, path) == 0);
    return req;
}

static zaio_request_t
s_req2 (zaio_op_t op, const char *path, const char *to)
{
    zaio_request_t req = s_req (op, path);
    assert (zaio_request_set_str (&req, ZAIO_FIELD_TO, to) == 0);
    return req;
}

//  The gate every job runs with (zaio_ops_gate_fn): open unless a test
//  shuts it, as a worker's fence does once it passes.
static bool s_gate_shut;

static bool
s_gate (void *arg)
{
    (void)arg;
    return !s_gate_shut;
}

//  Run req with a data frame of size bytes at data (none if data is NULL),
//  decode the reply header and check what every reply must satisfy.
static void
s_run (s_call_t *call, zaio_volume_t *volume, const zaio_request_t *req, const void *data,
       size_t size, size_t payload_max)
{
    zmq_msg_t input;
    zmq_msg_init_size (&input, size);
    if (size) memcpy (zmq_msg_data (&input), data, size);
    zaio_ops_result_t result;
    memset (&result, 0xAA, sizeof result);
    //  As a worker does for each batch it takes in; here a call is a batch.
    if (s_cache && !s_batched) zaio_fdcache_recheck (s_cache);
    zaio_ops_execute (volume, req, data ? &input : NULL, payload_max, s_cache, s_gate, NULL,
                      &result);
    zmq_msg_close (&input);
    //  Kept as frames: the decoded reply points into its header.
    call->header = zframe_new (zmq_msg_data (&result.header), zmq_msg_size (&result.header));
    zmq_msg_close (&result.header);
    call->data = NULL;
    if (result.has_data) {
        call->data = zframe_new (zmq_msg_data (&result.data), zmq_msg_size (&result.data));
        zmq_msg_close (&result.data);
    }
    char why[128] = "";
    int rc = zaio_reply_decode (&call->reply, zframe_data (call->header),
                                zframe_size (call->header), why, sizeof why);
    if (rc) fprintf (stderr, "test_ops: bad reply: %s\n", why);
    assert (rc == 0);
    assert (call->reply.id == req->id);
    //  (An errno without a wire name travels as EIO, in both.)
    assert (streq (zaio_error_name (call->reply.error), zaio_error_name (result.outcome.error)));
    assert (call->reply.ok == (result.outcome.error == 0));
    assert (result.outcome.service_us == 0);
    if (call->reply.ok)
        assert ((call->data != NULL) == zaio_op_returns_data (req->op));
    else {
        assert (call->data == NULL);
        assert (*call->reply.message);
    }
    call->outcome = result.outcome;
}

static void
s_done (s_call_t *call)
{
    zframe_destroy (&call->header);
    zframe_destroy (&call->data);
}

//  Run req (with text as its data frame if not NULL) and return the error
//  code of the reply, 0 for success.
static int
s_code (zaio_volume_t *volume, const zaio_request_t *req, const char *text)
{
    s_call_t call;
    s_run (&call, volume, req, text, text ? strlen (text) : 0, PAYLOAD_MAX);
    int code = call.reply.error;
    if (code == EXDEV) assert (streq (call.reply.message, ESCAPE_TEXT));
    s_done (&call);
    return code;
}

static int
s_op (zaio_volume_t *volume, zaio_op_t op, const char *path)
{
    zaio_request_t req = s_req (op, path);
    return s_code (volume, &req, NULL);
}

static int
s_op2 (zaio_volume_t *volume, zaio_op_t op, const char *path, const char *to)
{
    zaio_request_t req = s_req2 (op, path, to);
    return s_code (volume, &req, NULL);
}

//  write, append or writefile of text; create applies to write and append.
static int
s_put (zaio_volume_t *volume, zaio_op_t op, const char *path, const char *text, bool create)
{
    zaio_request_t req = s_req (op, path);
    if (create) zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    return s_code (volume, &req, text);
}

static int
s_read (zaio_volume_t *volume, const char *path, uint64_t offset, uint64_t length)
{
    zaio_request_t req = s_req (ZAIO_OP_READ, path);
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, offset);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, length);
    return s_code (volume, &req, NULL);
}

static int
s_mkdir (zaio_volume_t *volume, const char *path, bool parents)
{
    zaio_request_t req = s_req (ZAIO_OP_MKDIR, path);
    if (parents) zaio_request_set_uint (&req, ZAIO_FIELD_PARENTS, 1);
    return s_code (volume, &req, NULL);
}

//  read of length at offset: asserts success and the bytes and eof results.
static void
s_expect_read (zaio_volume_t *volume, const char *path, uint64_t offset, uint64_t length,
               const char *expect, bool eof)
{
    zaio_request_t req = s_req (ZAIO_OP_READ, path);
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, offset);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, length);
    s_call_t call;
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok);
    assert (call.reply.present == (ZAIO_RESULT_BYTES | ZAIO_RESULT_EOF));
    assert (call.reply.bytes == strlen (expect));
    assert (call.outcome.bytes == strlen (expect));
    assert (zframe_size (call.data) == strlen (expect));
    assert (memcmp (zframe_data (call.data), expect, strlen (expect)) == 0);
    assert (call.reply.eof == eof);
    s_done (&call);
}

//  stat: asserts success and returns the type, size and mode.
static void
s_expect_stat (zaio_volume_t *volume, const char *path, const char *type, uint64_t size,
               uint32_t mode)
{
    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_STAT, path);
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok);
    assert (call.reply.present ==
            (ZAIO_RESULT_TYPE | ZAIO_RESULT_SIZE | ZAIO_RESULT_MODE | ZAIO_RESULT_MTIME));
    assert (streq (call.reply.type, type));
    if (size != UINT64_MAX) assert (call.reply.size == size);
    if (mode) assert (call.reply.mode == mode);
    assert (call.reply.mtime_ns > 0);
    s_done (&call);
}

//  --------------------------------------------------------------------------
//  The tests

static void
s_test_volume (void)
{
    char dir[400];
    s_format (dir, sizeof dir, "%s/made", s_base);
    assert (zaio_volume_new ("v", dir, false, false) == NULL);
    zaio_volume_t *volume = zaio_volume_new ("v", dir, true, true);
    assert (volume);
    struct stat st;
    assert (stat (dir, &st) == 0 && S_ISDIR (st.st_mode));
    assert (streq (zaio_volume_name (volume), "v"));
    assert (streq (zaio_volume_dir (volume), dir));
    assert (zaio_volume_readonly (volume));
    int flags = fcntl (zaio_volume_root_fd (volume), F_GETFD);
    assert (flags >= 0 && (flags & FD_CLOEXEC));
    zaio_volume_destroy (&volume);
    assert (volume == NULL);
    zaio_volume_destroy (&volume);
    //  Existing directory with create: fine. A file is not a directory.
    volume = zaio_volume_new ("v", dir, false, true);
    assert (volume && !zaio_volume_readonly (volume));
    zaio_volume_destroy (&volume);
    assert (rmdir (dir) == 0);
    s_format (dir, sizeof dir, "%s/outside/secret", s_base);
    assert (zaio_volume_new ("v", dir, false, false) == NULL);
}

static void
s_test_ping_hello (zaio_volume_t *volume)
{
    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_PING, NULL);
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.present == 0 && !call.data);
    assert (call.outcome.error == 0 && call.outcome.bytes == 0);
    //  id, ok and nothing else.
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, zframe_data (call.header), zframe_size (call.header));
    uint32_t count;
    assert (zaio_cursor_map (&cursor, &count) == 0 && count == 2);
    s_done (&call);

    req = s_req (ZAIO_OP_HELLO, NULL);
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.error == ZAIO_ERR_INTERNAL);
    assert (streq (call.reply.message, "hello is answered by the broker"));
    s_done (&call);
}

static void
s_test_write_read (zaio_volume_t *volume)
{
    //  write needs create for a missing file.
    assert (s_put (volume, ZAIO_OP_WRITE, "f", "hello world", false) == ENOENT);
    assert (!s_exists ("f"));

    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_WRITE, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    s_run (&call, volume, &req, "hello world", 11, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.present == ZAIO_RESULT_BYTES);
    assert (call.reply.bytes == 11 && call.outcome.bytes == 11);
    s_done (&call);
    assert (s_holds ("f", "hello world"));
    s_expect_stat (volume, "f", "file", 11, 0644);

    //  In place at an offset, without create.
    req = s_req (ZAIO_OP_WRITE, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, 6);
    assert (s_code (volume, &req, "WORLD") == 0);
    assert (s_holds ("f", "hello WORLD"));

    //  mode for a created file.
    req = s_req (ZAIO_OP_WRITE, "g");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 0600);
    assert (s_code (volume, &req, "") == 0);
    s_expect_stat (volume, "g", "file", 0, 0600);

    //  Past the end: a hole, then the byte.
    req = s_req (ZAIO_OP_WRITE, "g");
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, 20);
    assert (s_code (volume, &req, "x") == 0);
    s_expect_stat (volume, "g", "file", 21, 0600);

    //  Reads: whole, head, tail, past the end, zero length.
    s_expect_read (volume, "f", 0, 100, "hello WORLD", true);
    s_expect_read (volume, "f", 0, 5, "hello", false);
    s_expect_read (volume, "f", 6, 5, "WORLD", true);
    s_expect_read (volume, "f", 10, 5, "D", true);
    s_expect_read (volume, "f", 11, 5, "", true);
    s_expect_read (volume, "f", 1000, 10, "", true);
    s_expect_read (volume, "f", 0, 0, "", false);
    s_expect_read (volume, "f", 11, 0, "", true);
    //  Lengths far beyond the file (its frame is sized from the file) and
    //  offsets no file can reach.
    s_expect_read (volume, "f", 0, 1 << 20, "hello WORLD", true);
    s_expect_read (volume, "f", 6, 1 << 20, "WORLD", true);
    s_expect_read (volume, "f", 100, 1 << 20, "", true);
    s_expect_read (volume, "f", INT64_MAX, 10, "", true);
    s_expect_read (volume, "f", UINT64_MAX - 3, 10, "", true);
    s_expect_read (volume, "f", UINT64_MAX, 1 << 20, "", true);

    //  A length far beyond the file does not allocate length bytes.
    s_call_t big;
    req = s_req (ZAIO_OP_READ, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, PAYLOAD_MAX);
    s_run (&big, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (big.reply.ok && zframe_size (big.data) == 11);
    s_done (&big);

    s_make_dir ("d");
    assert (s_read (volume, "missing", 0, 10) == ENOENT);
    assert (s_read (volume, "d", 0, 10) == EISDIR);
    assert (s_read (volume, "f/x", 0, 10) == ENOTDIR);
    assert (s_read (volume, "f", 0, PAYLOAD_MAX + 1) == ZAIO_ERR_TOOBIG);
    assert (s_put (volume, ZAIO_OP_WRITE, "d", "x", true) == EISDIR);
    assert (s_put (volume, ZAIO_OP_WRITE, "d", "x", false) == EISDIR);
    assert (s_put (volume, ZAIO_OP_WRITE, "nodir/x", "x", true) == ENOENT);
    assert (s_put (volume, ZAIO_OP_WRITE, "f/x", "x", true) == ENOTDIR);
    assert (!s_exists ("nodir"));

    //  A write op without its data frame is a broker fault, not a crash.
    req = s_req (ZAIO_OP_WRITE, "f");
    assert (s_code (volume, &req, NULL) == ZAIO_ERR_MALFORMED);
    assert (s_holds ("f", "hello WORLD"));

    //  A FIFO is neither read nor waited on.
    char path[512];
    assert (mkfifo (s_local (path, sizeof path, "fifo"), 0644) == 0);
    assert (s_read (volume, "fifo", 0, 10) == EINVAL);
    assert (s_put (volume, ZAIO_OP_WRITE, "fifo", "x", false) == EINVAL);
    assert (unlink (path) == 0);

    //  1 MiB read, byte exact, straight into the frame.
    size_t size = 1024 * 1024;
    byte *data = (byte *)malloc (size);
    assert (data);
    for (size_t i = 0; i < size; i++) data[i] = (byte)(i * 7 + (i >> 11));
    s_make_file ("mib", data, size);
    req = s_req (ZAIO_OP_READ, "mib");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, size);
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.eof && call.reply.bytes == size);
    assert (zframe_size (call.data) == size && memcmp (zframe_data (call.data), data, size) == 0);
    s_done (&call);
    free (data);
    assert (unlink (s_local (path, sizeof path, "mib")) == 0);
}

static void
s_test_append (zaio_volume_t *volume)
{
    assert (s_put (volume, ZAIO_OP_APPEND, "log", "abc", false) == ENOENT);
    assert (!s_exists ("log"));
    const char *parts[] = {"abc", "defg", "", "h"};
    uint64_t offsets[] = {0, 3, 7, 7};
    for (int i = 0; i < 4; i++) {
        s_call_t call;
        zaio_request_t req = s_req (ZAIO_OP_APPEND, "log");
        zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
        s_run (&call, volume, &req, parts[i], strlen (parts[i]), PAYLOAD_MAX);
        assert (call.reply.ok);
        assert (call.reply.present == (ZAIO_RESULT_BYTES | ZAIO_RESULT_OFFSET));
        assert (call.reply.bytes == strlen (parts[i]));
        assert (call.reply.offset == offsets[i]);
        s_done (&call);
    }
    assert (s_holds ("log", "abcdefgh"));
    assert (s_put (volume, ZAIO_OP_APPEND, "d", "x", true) == EISDIR);
}

static void
s_test_readfile (zaio_volume_t *volume)
{
    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_READFILE, "f");
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.present == ZAIO_RESULT_BYTES);
    assert (call.reply.bytes == 11 && call.outcome.bytes == 11);
    assert (zframe_size (call.data) == 11 &&
            memcmp (zframe_data (call.data), "hello WORLD", 11) == 0);
    s_done (&call);

    //  Exactly at the limit is fine; one byte over is EFBIG.
    s_run (&call, volume, &req, NULL, 0, 11);
    assert (call.reply.ok && zframe_size (call.data) == 11);
    s_done (&call);
    s_run (&call, volume, &req, NULL, 0, 10);
    assert (call.reply.error == EFBIG && call.outcome.bytes == 0);
    s_done (&call);

    s_make_text ("empty", "");
    req = s_req (ZAIO_OP_READFILE, "empty");
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.bytes == 0 && zframe_size (call.data) == 0);
    s_done (&call);

    assert (s_op (volume, ZAIO_OP_READFILE, "missing") == ENOENT);
    assert (s_op (volume, ZAIO_OP_READFILE, "d") == EISDIR);
    assert (s_op (volume, ZAIO_OP_READFILE, "") == EISDIR);
}

static void
s_test_writefile (zaio_volume_t *volume)
{
    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_WRITEFILE, "wf");
    s_run (&call, volume, &req, "one", 3, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.present == ZAIO_RESULT_BYTES && call.reply.bytes == 3);
    assert (call.outcome.bytes == 3);
    s_done (&call);
    assert (s_holds ("wf", "one"));
    s_expect_stat (volume, "wf", "file", 3, 0644);

    //  Replacement is a new file renamed over the old: a hard link to the
    //  old one keeps the old content, and no temporary file is left.
    char path[512], old[512];
    assert (link (s_local (path, sizeof path, "wf"), s_local (old, sizeof old, "wf.old")) == 0);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "wf", "second version", false) == 0);
    assert (s_holds ("wf", "second version"));
    assert (s_holds ("wf.old", "one"));
    assert (unlink (old) == 0);
    assert (s_count_named ("", ".zaio-tmp.") == 0);

    //  A gate that shuts while the file is written (a worker frozen past
    //  its fence) leaves the old file as it was, and no temporary file.
    s_gate_shut = true;
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "wf", "late version", false) ==
            ZAIO_ERR_UNKNOWN_OUTCOME);
    s_gate_shut = false;
    assert (s_holds ("wf", "second version"));
    assert (s_count_named ("", ".zaio-tmp.") == 0);

    req = s_req (ZAIO_OP_WRITEFILE, "d/wf");
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 0600);
    assert (s_code (volume, &req, "") == 0);
    s_expect_stat (volume, "d/wf", "file", 0, 0600);

    //  A long name still gets a temporary name that fits.
    char name[NAME_MAX + 1];
    memset (name, 'n', NAME_MAX);
    name[NAME_MAX] = 0;
    assert (s_put (volume, ZAIO_OP_WRITEFILE, name, "long", false) == 0);
    assert (s_holds (name, "long"));
    assert (unlink (s_local (path, sizeof path, name)) == 0);

    //  Failures leave no temporary file behind.
    s_make_dir ("full");
    s_make_text ("full/x", "x");
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "full", "data", false) == EISDIR);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "wf/", "data", false) == ENOTDIR);
    assert (s_count_named ("", ".zaio-tmp.") == 0);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "nodir/x", "data", false) == ENOENT);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "f/x", "data", false) == ENOTDIR);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "", "data", false) == EINVAL);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, ".", "data", false) == EINVAL);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "d/..", "data", false) == EINVAL);
    assert (s_holds ("wf", "second version"));
}

static void
s_test_truncate (zaio_volume_t *volume)
{
    s_make_text ("t", "abcdef");
    zaio_request_t req = s_req (ZAIO_OP_TRUNCATE, "t");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 100);
    assert (s_code (volume, &req, NULL) == 0);
    s_expect_stat (volume, "t", "file", 100, 0);
    s_expect_read (volume, "t", 0, 6, "abcdef", false);
    req = s_req (ZAIO_OP_TRUNCATE, "t");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 3);
    assert (s_code (volume, &req, NULL) == 0);
    assert (s_holds ("t", "abc"));
    req = s_req (ZAIO_OP_TRUNCATE, "missing");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 3);
    assert (s_code (volume, &req, NULL) == ENOENT);
    req = s_req (ZAIO_OP_TRUNCATE, "d");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 3);
    assert (s_code (volume, &req, NULL) == EISDIR);
}

static void
s_test_fsync (zaio_volume_t *volume)
{
    assert (s_op (volume, ZAIO_OP_FSYNC, "f") == 0);
    assert (s_op (volume, ZAIO_OP_FSYNC, "d") == 0);
    assert (s_op (volume, ZAIO_OP_FSYNC, "d/") == 0);
    assert (s_op (volume, ZAIO_OP_FSYNC, "") == 0);
    assert (s_op (volume, ZAIO_OP_FSYNC, ".") == 0);
    zaio_request_t req = s_req (ZAIO_OP_FSYNC, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_DATASYNC, 1);
    assert (s_code (volume, &req, NULL) == 0);
    assert (s_op (volume, ZAIO_OP_FSYNC, "missing") == ENOENT);
    assert (s_op (volume, ZAIO_OP_FSYNC, "f/") == ENOTDIR);
}

static void
s_test_unlink_rmdir (zaio_volume_t *volume)
{
    s_make_text ("u", "u");
    assert (s_op (volume, ZAIO_OP_UNLINK, "u") == 0);
    assert (!s_exists ("u"));
    assert (s_op (volume, ZAIO_OP_UNLINK, "u") == ENOENT);
    assert (s_op (volume, ZAIO_OP_UNLINK, "nodir/u") == ENOENT);
    assert (s_op (volume, ZAIO_OP_UNLINK, "d") == EISDIR);
    assert (s_op (volume, ZAIO_OP_UNLINK, "f/") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_UNLINK, "f/x") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_UNLINK, "") == EINVAL);
    assert (s_op (volume, ZAIO_OP_UNLINK, ".") == EINVAL);
    assert (s_op (volume, ZAIO_OP_UNLINK, "d/..") == EINVAL);
    assert (s_exists ("f") && s_exists ("d"));

    s_make_dir ("e");
    assert (s_op (volume, ZAIO_OP_RMDIR, "e") == 0);
    assert (!s_exists ("e"));
    s_make_dir ("e");
    assert (s_op (volume, ZAIO_OP_RMDIR, "e/") == 0);
    assert (!s_exists ("e"));
    assert (s_op (volume, ZAIO_OP_RMDIR, "e") == ENOENT);
    assert (s_op (volume, ZAIO_OP_RMDIR, "full") == ENOTEMPTY);
    assert (s_op (volume, ZAIO_OP_RMDIR, "f") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_RMDIR, "") == EINVAL);
    assert (s_op (volume, ZAIO_OP_RMDIR, ".") == EINVAL);
    assert (s_op (volume, ZAIO_OP_RMDIR, "full/..") == EINVAL);
    assert (s_exists ("full/x"));
}

static void
s_test_rename (zaio_volume_t *volume)
{
    s_make_text ("r1", "first");
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r1", "r2") == 0);
    assert (!s_exists ("r1") && s_holds ("r2", "first"));
    //  Over an existing file, which it replaces.
    s_make_text ("r3", "old");
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r2", "r3") == 0);
    assert (!s_exists ("r2") && s_holds ("r3", "first"));
    //  Into a directory and back, and a directory with a trailing slash.
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3", "d/r3") == 0);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "d/r3", "r3") == 0);
    s_make_dir ("rd");
    assert (s_op2 (volume, ZAIO_OP_RENAME, "rd/", "rd2/") == 0);
    assert (s_exists ("rd2") && !s_exists ("rd"));

    assert (s_op2 (volume, ZAIO_OP_RENAME, "missing", "x") == ENOENT);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3", "nodir/x") == ENOENT);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3", "d") == EISDIR);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "rd2", "full") == ENOTEMPTY);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "rd2", "r3") == ENOTDIR);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3/", "r4") == ENOTDIR);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "", "x") == EINVAL);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3", "") == EINVAL);
    assert (s_op2 (volume, ZAIO_OP_RENAME, "r3", "d/..") == EINVAL);
    assert (s_holds ("r3", "first") && s_exists ("full/x"));
}

static void
s_test_mkdir (zaio_volume_t *volume)
{
    assert (s_mkdir (volume, "m", false) == 0);
    s_expect_stat (volume, "m", "dir", UINT64_MAX, 0755);
    assert (s_mkdir (volume, "m", false) == EEXIST);
    assert (s_mkdir (volume, "f", false) == EEXIST);
    zaio_request_t req = s_req (ZAIO_OP_MKDIR, "m700/");
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 0700);
    assert (s_code (volume, &req, NULL) == 0);
    s_expect_stat (volume, "m700", "dir", UINT64_MAX, 0700);
    assert (s_mkdir (volume, "x/y", false) == ENOENT);
    assert (s_mkdir (volume, "f/y", false) == ENOTDIR);
    assert (s_mkdir (volume, "", false) == EINVAL);
    assert (s_mkdir (volume, "m/..", false) == EINVAL);

    //  parents: deep, idempotent, through . and .., refusing files.
    assert (s_mkdir (volume, "p/q/r", true) == 0);
    s_expect_stat (volume, "p/q/r", "dir", UINT64_MAX, 0755);
    assert (s_mkdir (volume, "p/q/r", true) == 0);
    assert (s_mkdir (volume, "p/q/r/", true) == 0);
    assert (s_mkdir (volume, "p//q/./r", true) == 0);
    assert (s_mkdir (volume, "", true) == 0);
    assert (s_mkdir (volume, ".", true) == 0);
    assert (s_mkdir (volume, "p/./s/../t", true) == 0);
    assert (s_exists ("p/s") && s_exists ("p/t"));
    req = s_req (ZAIO_OP_MKDIR, "pm/a/b");
    zaio_request_set_uint (&req, ZAIO_FIELD_PARENTS, 1);
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 0700);
    assert (s_code (volume, &req, NULL) == 0);
    s_expect_stat (volume, "pm", "dir", UINT64_MAX, 0755);
    s_expect_stat (volume, "pm/a/b", "dir", UINT64_MAX, 0700);
    assert (s_mkdir (volume, "f", true) == EEXIST);
    assert (s_mkdir (volume, "f/sub", true) == ENOTDIR);
    assert (s_mkdir (volume, "f/sub/deeper", true) == ENOTDIR);
    //  A symlink to a directory inside the root counts as the directory.
    s_make_link ("plink", "p");
    assert (s_mkdir (volume, "plink", true) == 0);
    assert (s_mkdir (volume, "plink/u", true) == 0);
    assert (s_exists ("p/u"));
}

//  One listdir call; stores the names (caller frees each) and more.
static size_t
s_listdir (zaio_volume_t *volume, const char *path, const char *after, uint32_t limit, char **names,
           size_t names_max, bool *more)
{
    zaio_request_t req = s_req (ZAIO_OP_LISTDIR, path);
    if (after) assert (zaio_request_set_str (&req, ZAIO_FIELD_AFTER, after) == 0);
    if (limit) zaio_request_set_uint (&req, ZAIO_FIELD_LIMIT, limit);
    s_call_t call;
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok);
    assert (call.reply.present == (ZAIO_RESULT_ENTRIES | ZAIO_RESULT_MORE));
    *more = call.reply.more;
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, call.reply.entries, call.reply.entries_size);
    uint32_t count;
    assert (zaio_cursor_array (&cursor, &count) == 0);
    assert (count <= names_max);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t fields;
        assert (zaio_cursor_map (&cursor, &fields) == 0 && fields == 4);
        const char *key;
        uint32_t len;
        //  Keys in ascending byte order: mtime_ns, name, size, type.
        int64_t mtime_ns;
        assert (zaio_cursor_str (&cursor, &key, &len) == 0 && len == 8 &&
                memcmp (key, "mtime_ns", 8) == 0);
        assert (zaio_cursor_int (&cursor, &mtime_ns) == 0 && mtime_ns > 0);
        assert (zaio_cursor_str (&cursor, &key, &len) == 0 && len == 4 &&
                memcmp (key, "name", 4) == 0);
        //  A str, or a bin for a name that is not UTF-8 (s_test_listdir_names).
        char name[NAME_MAX + 1];
        const char *bytes;
        assert (zaio_cursor_str (&cursor, &bytes, &len) == 0 ||
                zaio_cursor_bin (&cursor, (const uint8_t **)&bytes, &len) == 0);
        assert (len <= NAME_MAX && !memchr (bytes, 0, len));
        memcpy (name, bytes, len);
        name[len] = 0;
        assert (zaio_cursor_str (&cursor, &key, &len) == 0 && len == 4 &&
                memcmp (key, "size", 4) == 0);
        uint64_t size;
        assert (zaio_cursor_uint (&cursor, &size) == 0);
        assert (zaio_cursor_str (&cursor, &key, &len) == 0 && len == 4 &&
                memcmp (key, "type", 4) == 0);
        char type[16];
        assert (zaio_cursor_str_copy (&cursor, type, sizeof type, 15) == 0);
        //  Each entry as lstat sees it.
        char rel[512], local[600];
        s_format (rel, sizeof rel, "%s%s%s", path, *path ? "/" : "", name);
        struct stat st;
        assert (lstat (s_local (local, sizeof local, rel), &st) == 0);
        assert (size == (uint64_t)st.st_size);
        assert (mtime_ns == (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
        assert (streq (type, S_ISREG (st.st_mode)   ? "file"
                             : S_ISDIR (st.st_mode) ? "dir"
                             : S_ISLNK (st.st_mode) ? "symlink"
                                                    : "other"));
        names[i] = strdup (name);
        if (i > 0) assert (strcmp (names[i - 1], names[i]) < 0);
        if (after) assert (strcmp (names[i], after) > 0);
    }
    assert (zaio_cursor_done (&cursor));
    s_done (&call);
    return count;
}

static void
s_free_names (char **names, size_t count)
{
    for (size_t i = 0; i < count; i++) free (names[i]);
}

static void
s_test_listdir (zaio_volume_t *volume)
{
    s_make_dir ("ls");
    for (int i = 24; i >= 0; i--) {
        char rel[32], text[32];
        s_format (rel, sizeof rel, "ls/n%02d", i);
        s_format (text, sizeof text, "%*s", i, "");
        s_make_text (rel, text);
    }
    s_make_dir ("ls/sub");
    s_make_link ("ls/zlink", "sub");
    char fifo[512];
    assert (mkfifo (s_local (fifo, sizeof fifo, "ls/pipe"), 0644) == 0);
    //  28 entries: n00..n24, pipe, sub, zlink. Pages of 10: 10, 10, 8.
    char *all[64];
    size_t total = 0;
    const char *after = NULL;
    bool more = true;
    int pages = 0;
    while (more) {
        size_t count = s_listdir (volume, "ls", after, 10, all + total, 64 - total, &more);
        assert (count == (pages < 2 ? 10 : 8));
        assert (more == (pages < 2));
        total += count;
        after = all[total - 1];
        pages++;
    }
    assert (pages == 3 && total == 28);
    assert (streq (all[0], "n00") && streq (all[24], "n24"));
    assert (streq (all[25], "pipe") && streq (all[26], "sub") && streq (all[27], "zlink"));

    //  Default limit returns everything; the cursor skips what sorts before.
    char *page[64];
    size_t count = s_listdir (volume, "ls", NULL, 0, page, 64, &more);
    assert (count == 28 && !more);
    for (size_t i = 0; i < count; i++) assert (streq (page[i], all[i]));
    s_free_names (page, count);
    count = s_listdir (volume, "ls", "n24", 0, page, 64, &more);
    assert (count == 3 && !more && streq (page[0], "pipe"));
    s_free_names (page, count);
    count = s_listdir (volume, "ls", "n1", 2, page, 64, &more);
    assert (count == 2 && more && streq (page[0], "n10") && streq (page[1], "n11"));
    s_free_names (page, count);
    count = s_listdir (volume, "ls", "zzz", 0, page, 64, &more);
    assert (count == 0 && !more);
    //  Exactly limit entries left: more is false.
    count = s_listdir (volume, "ls", "n24", 3, page, 64, &more);
    assert (count == 3 && !more);
    s_free_names (page, count);
    s_free_names (all, total);

    //  Bytewise order, empty directories, the root, through a symlink.
    s_make_dir ("order");
    s_make_text ("order/a", "");
    s_make_text ("order/B", "");
    s_make_text ("order/_", "");
    s_make_text ("order/\xc3\xa9", "");
    count = s_listdir (volume, "order", NULL, 0, page, 64, &more);
    assert (count == 4 && streq (page[0], "B") && streq (page[1], "_") && streq (page[2], "a") &&
            streq (page[3], "\xc3\xa9"));
    s_free_names (page, count);
    count = s_listdir (volume, "ls/sub", NULL, 0, page, 64, &more);
    assert (count == 0 && !more);
    count = s_listdir (volume, "ls/zlink/", NULL, 0, page, 64, &more);
    assert (count == 0 && !more);
    count = s_listdir (volume, "", NULL, 0, page, 64, &more);
    assert (count > 10 && !more);
    s_free_names (page, count);
    count = s_listdir (volume, ".", NULL, 0, page, 64, &more);
    assert (count > 10 && !more);
    s_free_names (page, count);

    assert (s_op (volume, ZAIO_OP_LISTDIR, "missing") == ENOENT);
    assert (s_op (volume, ZAIO_OP_LISTDIR, "f") == ENOTDIR);
}

//  Names that are not UTF-8 (PROTOCOL.md section 5, listdir): each comes
//  as a bin of its raw bytes, so the reply stays well-formed msgpack with
//  valid strings; UTF-8 names stay str. The client decoder gives the bytes
//  back with name_bin set, and such a name works as the `after` cursor.
static void
s_test_listdir_names (zaio_volume_t *volume)
{
    //  Sorted bytewise: Latin-1, above U+10FFFF, overlong '/', a surrogate,
    //  then a valid two-byte character.
    const char *names[] = {"caf\xe9", "h\xf4\x90\x80\x80", "o\xc0\xaf", "s\xed\xa0\x80",
                           "\xc3\xa9"};
    const bool raw[] = {true, true, true, true, false};
    const size_t count = sizeof names / sizeof names[0];
    s_make_dir ("raw");
    for (size_t i = 0; i < count; i++) {
        char rel[64];
        s_format (rel, sizeof rel, "raw/%s", names[i]);
        s_make_text (rel, "x");
    }
    s_call_t call;
    zaio_request_t req = s_req (ZAIO_OP_LISTDIR, "raw");
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok);
    //  On the wire: each name's type.
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, call.reply.entries, call.reply.entries_size);
    uint32_t entries, fields;
    assert (zaio_cursor_array (&cursor, &entries) == 0 && entries == count);
    for (size_t i = 0; i < count; i++) {
        assert (zaio_cursor_map (&cursor, &fields) == 0 && fields == 4);
        assert (zaio_cursor_skip (&cursor, 1) == 0 && zaio_cursor_skip (&cursor, 1) == 0);
        assert (zaio_cursor_skip (&cursor, 1) == 0); //  key "name"
        assert (zaio_cursor_peek (&cursor) == (raw[i] ? ZAIO_MP_BIN : ZAIO_MP_STR));
        assert (zaio_cursor_skip (&cursor, 1) == 0);
        for (int k = 0; k < 4; k++) assert (zaio_cursor_skip (&cursor, 1) == 0);
    }
    assert (zaio_cursor_done (&cursor));
    //  As a client decodes them.
    zaio_dirent_t *decoded;
    size_t decoded_count;
    assert (zaio_dirents_decode (call.reply.entries, call.reply.entries_size, &decoded,
                                 &decoded_count) == 0);
    assert (decoded_count == count);
    for (size_t i = 0; i < count; i++) {
        assert (streq (decoded[i].name, names[i]));
        assert (decoded[i].name_bin == raw[i]);
        assert (decoded[i].size == 1 && streq (decoded[i].type, "file"));
    }
    free (decoded);
    s_done (&call);
    //  Paging past each raw name with it as `after` (sent as a bin).
    for (size_t i = 0; i + 1 < count; i++) {
        char *page[2];
        bool more;
        size_t got = s_listdir (volume, "raw", names[i], 1, page, 2, &more);
        assert (got == 1 && streq (page[0], names[i + 1]) && more == (i + 2 < count));
        s_free_names (page, got);
    }
}

//  writefile's temporary files: named after this host and process,
//  never listed, and swept by zaio_volume_sweep_temps when stale: this
//  host's with no process behind them, and any past the age; not those
//  of a live process or of another host younger than the age.
static void
s_test_temps (zaio_volume_t *volume)
{
    char temp[NAME_MAX + 1];
    zaio_volume_temp_name (temp, "name", 4, "abcdef");
    const char *host = strstr (temp, ".zaio-tmp.");
    assert (temp[0] == '.' && strncmp (temp + 1, "name", 4) == 0 && host == temp + 5);
    host += strlen (".zaio-tmp.");
    const char *dot = strchr (host, '.');
    assert (dot && dot > host && dot - host <= ZAIO_VOLUME_HOST_MAX);
    char pid[32];
    s_format (pid, sizeof pid, ".%ld.abcdef", (long)getpid ());
    assert (streq (dot, pid));
    assert (zaio_volume_is_temp (temp) && !zaio_volume_is_temp ("x.zaio-tmp.y"));
    //  Long names are cut to fit.
    char name[NAME_MAX + 1];
    memset (name, 'n', NAME_MAX);
    char cut[NAME_MAX + 1];
    zaio_volume_temp_name (cut, name, NAME_MAX, "abcdef");
    assert (strlen (cut) == NAME_MAX && zaio_volume_is_temp (cut));

    //  A pid that is gone: a child, reaped.
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) _exit (0);
    assert (waitpid (child, NULL, 0) == child);
    int host_len = (int)(dot - host);
    char gone[64], live[64], other[64], old[64], legacy[64], sub[80];
    s_format (gone, sizeof gone, ".a.zaio-tmp.%.*s.%ld.r1", host_len, host, (long)child);
    s_format (live, sizeof live, ".b.zaio-tmp.%.*s.1.r2", host_len, host); //  pid 1 lives
    s_format (other, sizeof other, ".c.zaio-tmp.%.*sX.%ld.r3", host_len, host, (long)child);
    s_format (old, sizeof old, ".d.zaio-tmp.%.*sX.%ld.r4", host_len, host, (long)child);
    s_format (legacy, sizeof legacy, ".e.zaio-tmp.Abc123");
    s_make_dir ("t");
    s_make_dir ("t/deep");
    s_format (sub, sizeof sub, "t/deep/%s", gone);
    const char *made[] = {gone, live, other, old, legacy, sub};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) s_make_text (made[i], "leftover");
    s_make_dir ("t/.f.zaio-tmp.dir"); //  not a file: kept
    char path[512];
    struct timespec times[2] = {{0, UTIME_OMIT}, {time (NULL) - 7200, 0}};
    assert (utimensat (AT_FDCWD, s_local (path, sizeof path, old), times, 0) == 0);
    assert (utimensat (AT_FDCWD, s_local (path, sizeof path, legacy), times, 0) == 0);
    s_make_text ("kept", "");

    //  None is listed.
    char *page[64];
    bool more;
    size_t count = s_listdir (volume, "", NULL, 0, page, 64, &more);
    for (size_t i = 0; i < count; i++) assert (!strstr (page[i], ".zaio-tmp."));
    s_free_names (page, count);
    count = s_listdir (volume, "t", NULL, 0, page, 64, &more);
    assert (count == 1 && streq (page[0], "deep"));
    s_free_names (page, count);

    //  The sweep, on a volume of its own, to its end.
    zaio_volume_t *swept = zaio_volume_new ("swept", s_root, false, false);
    assert (swept);
    zaio_volume_sweep_temps (swept, 3600);
    zaio_volume_sweep_join (swept);
    zaio_volume_destroy (&swept);

    assert (!s_exists (gone) && !s_exists (sub) && !s_exists (old) && !s_exists (legacy));
    assert (s_exists (live) && s_exists (other) && s_exists ("t/.f.zaio-tmp.dir"));
    assert (s_exists ("kept"));
    //  Age 0: none goes by age.
    s_make_text (old, "leftover");
    assert (utimensat (AT_FDCWD, s_local (path, sizeof path, old), times, 0) == 0);
    swept = zaio_volume_new ("swept", s_root, false, false);
    zaio_volume_sweep_temps (swept, 0);
    zaio_volume_sweep_join (swept);
    zaio_volume_destroy (&swept);
    assert (s_exists (old));
}

static void
s_test_copy (zaio_volume_t *volume)
{
    byte *data = (byte *)malloc (BIG_SIZE);
    assert (data);
    uint32_t state = 2463534242u;
    for (size_t i = 0; i < BIG_SIZE; i++) {
        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
        data[i] = (byte)state;
    }
    s_make_file ("big", data, BIG_SIZE);
    char path[512];
    assert (chmod (s_local (path, sizeof path, "big"), 0640) == 0);

    s_call_t call;
    zaio_request_t req = s_req2 (ZAIO_OP_COPY, "big", "big2");
    s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
    assert (call.reply.ok && call.reply.present == ZAIO_RESULT_BYTES);
    assert (call.reply.bytes == BIG_SIZE && call.outcome.bytes == BIG_SIZE);
    s_done (&call);
    size_t size;
    char *copy = s_slurp_abs (s_local (path, sizeof path, "big2"), &size);
    assert (copy && size == BIG_SIZE && memcmp (copy, data, BIG_SIZE) == 0);
    free (copy);
    s_expect_stat (volume, "big2", "file", BIG_SIZE, 0640);

    //  Over a larger file, which it truncates; an empty file.
    s_make_text ("small", "tiny");
    assert (s_op2 (volume, ZAIO_OP_COPY, "small", "big2") == 0);
    assert (s_holds ("big2", "tiny"));
    assert (s_op2 (volume, ZAIO_OP_COPY, "empty", "d/empty2") == 0);
    assert (s_holds ("d/empty2", ""));

    assert (s_op2 (volume, ZAIO_OP_COPY, "missing", "x") == ENOENT);
    assert (s_op2 (volume, ZAIO_OP_COPY, "d", "x") == EISDIR);
    assert (s_op2 (volume, ZAIO_OP_COPY, "small", "d") == EISDIR);
    assert (s_op2 (volume, ZAIO_OP_COPY, "small", "nodir/x") == ENOENT);
    assert (!s_exists ("x"));
    //  Onto itself, by name or through a hard link: refused, source kept.
    assert (s_op2 (volume, ZAIO_OP_COPY, "big", "big") == EINVAL);
    char alias[512];
    assert (link (s_local (path, sizeof path, "big"), s_local (alias, sizeof alias, "alias")) == 0);
    assert (s_op2 (volume, ZAIO_OP_COPY, "alias", "./big") == EINVAL);
    copy = s_slurp_abs (s_local (path, sizeof path, "big"), &size);
    assert (copy && size == BIG_SIZE && memcmp (copy, data, BIG_SIZE) == 0);
    free (copy);
    free (data);
    assert (unlink (alias) == 0);
}

//  A sparse source (a data head, a 1 GiB hole, a data tail, then a trailing
//  hole) copies as a sparse file of the same size and content: two small
//  requests, a truncate and a copy, must not make a worker write a disk's
//  worth of zeros.
static void
s_test_copy_sparse (zaio_volume_t *volume)
{
    char path[512];
    s_make_text ("sparse", "head");
    int fd = open (s_local (path, sizeof path, "sparse"), O_WRONLY);
    assert (fd >= 0);
    assert (ftruncate (fd, SPARSE_HOLE) == 0);
    struct stat st;
    assert (fstat (fd, &st) == 0);
    //  Without holes here the allocation check would be meaningless.
    bool holes = (uint64_t)st.st_blocks * 512 < SPARSE_USE;
    if (!holes) printf ("test_ops: no sparse files in /tmp: copy allocation not checked\n");
    assert (pwrite (fd, "tail", 4, SPARSE_HOLE) == 4);
    close (fd);

    //  Copied once as it is, then again over that copy after a truncate
    //  leaves a hole at its end, which only the size can carry.
    const uint64_t sizes[] = {SPARSE_HOLE + 4, SPARSE_END};
    for (size_t i = 0; i < 2; i++) {
        if (i == 1) {
            zaio_request_t req = s_req (ZAIO_OP_TRUNCATE, "sparse");
            zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, SPARSE_END);
            assert (s_code (volume, &req, NULL) == 0);
        }
        s_call_t call;
        zaio_request_t req = s_req2 (ZAIO_OP_COPY, "sparse", "sparse2");
        s_run (&call, volume, &req, NULL, 0, PAYLOAD_MAX);
        assert (call.reply.ok && call.reply.bytes == sizes[i]);
        s_done (&call);

        fd = open (s_local (path, sizeof path, "sparse2"), O_RDONLY);
        assert (fd >= 0);
        assert (fstat (fd, &st) == 0);
        assert ((uint64_t)st.st_size == sizes[i]);
        if (holes) assert ((uint64_t)st.st_blocks * 512 < SPARSE_USE);
        char buffer[4096];
        assert (pread (fd, buffer, 4, 0) == 4 && memcmp (buffer, "head", 4) == 0);
        //  The tail, then zeros to the end (the trailing hole).
        ssize_t tail = (ssize_t)(sizes[i] - SPARSE_HOLE);
        assert (pread (fd, buffer, sizeof buffer, SPARSE_HOLE) == tail);
        assert (memcmp (buffer, "tail", 4) == 0);
        for (ssize_t b = 4; b < tail; b++) assert (buffer[b] == 0);
        //  Zeros just after the head, in the middle and just before the tail.
        const off_t zeros[] = {4, SPARSE_HOLE / 2, SPARSE_HOLE - sizeof buffer};
        for (size_t z = 0; z < 3; z++) {
            assert (pread (fd, buffer, sizeof buffer, zeros[z]) == sizeof buffer);
            for (size_t b = 0; b < sizeof buffer; b++) assert (buffer[b] == 0);
        }
        close (fd);
    }
    assert (unlink (s_local (path, sizeof path, "sparse")) == 0);
    assert (unlink (s_local (path, sizeof path, "sparse2")) == 0);
}

//  Modes never gain setuid or setgid from a client: not as a requested
//  mode, nor copied from a source, nor kept on a file a client writes. A
//  worker running as root would otherwise make privileged executables for
//  anyone who can send a request. The sticky bit stays.
static void
s_test_setid (zaio_volume_t *volume)
{
    const zaio_op_t creating[] = {ZAIO_OP_WRITE, ZAIO_OP_APPEND, ZAIO_OP_WRITEFILE};
    for (size_t i = 0; i < sizeof creating / sizeof creating[0]; i++) {
        char name[32];
        s_format (name, sizeof name, "setid%zu", i);
        zaio_request_t req = s_req (creating[i], name);
        if (creating[i] != ZAIO_OP_WRITEFILE) zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
        zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 07755);
        assert (s_code (volume, &req, "#!/bin/sh\n") == 0);
        s_expect_stat (volume, name, "file", UINT64_MAX, 01755);
    }
    zaio_request_t req = s_req (ZAIO_OP_MKDIR, "setid-dir");
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 07755);
    assert (s_code (volume, &req, NULL) == 0);
    s_expect_stat (volume, "setid-dir", "dir", UINT64_MAX, 01755);
    req = s_req (ZAIO_OP_MKDIR, "setid-dir/a/b");
    zaio_request_set_uint (&req, ZAIO_FIELD_PARENTS, 1);
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, 06700);
    assert (s_code (volume, &req, NULL) == 0);
    s_expect_stat (volume, "setid-dir/a/b", "dir", UINT64_MAX, 0700);

    //  A setuid source is copied without the bits.
    char path[512];
    s_make_text ("setid-src", "#!/bin/sh\n");
    assert (chmod (s_local (path, sizeof path, "setid-src"), 06755) == 0);
    assert (s_op2 (volume, ZAIO_OP_COPY, "setid-src", "setid-copy") == 0);
    s_expect_stat (volume, "setid-copy", "file", UINT64_MAX, 0755);
    s_expect_stat (volume, "setid-src", "file", UINT64_MAX, 06755);

    //  Writing into a file with the bits clears them, as the kernel does
    //  for writers without CAP_FSETID; reading leaves them.
    const char *names[] = {"setid0", "setid1", "setid2", "setid-copy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert (chmod (s_local (path, sizeof path, names[i]), 06755) == 0);
    assert (s_read (volume, "setid0", 0, 1) == 0);
    s_expect_stat (volume, "setid0", "file", UINT64_MAX, 06755);
    assert (s_put (volume, ZAIO_OP_WRITE, "setid0", "#", false) == 0);
    assert (s_put (volume, ZAIO_OP_APPEND, "setid1", "#", false) == 0);
    req = s_req (ZAIO_OP_TRUNCATE, "setid2");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 1);
    assert (s_code (volume, &req, NULL) == 0);
    assert (s_op2 (volume, ZAIO_OP_COPY, "f", "setid-copy") == 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        s_expect_stat (volume, names[i], "file", UINT64_MAX, 0755);
}

static void
s_test_symlinks_inside (zaio_volume_t *volume)
{
    //  Symlinks that stay inside are followed, except by stat.
    s_make_link ("sl", "f");
    s_make_link ("sdir", "d");
    s_make_link ("d/up", "../f");
    s_expect_stat (volume, "sl", "symlink", 1, 0);
    s_expect_stat (volume, "sdir", "symlink", 1, 0);
    s_expect_stat (volume, "sdir/", "dir", UINT64_MAX, 0);
    s_expect_stat (volume, "d", "dir", UINT64_MAX, 0);
    s_expect_stat (volume, "", "dir", UINT64_MAX, 0);
    s_expect_stat (volume, ".", "dir", UINT64_MAX, 0);
    s_expect_stat (volume, "d/../f", "file", 11, 0);
    s_expect_read (volume, "sl", 0, 100, "hello WORLD", true);
    s_expect_read (volume, "d/up", 0, 5, "hello", false);
    s_expect_read (volume, "d/../f", 0, 5, "hello", false);
    s_expect_read (volume, "sdir/../sdir/up", 0, 5, "hello", false);
    assert (s_put (volume, ZAIO_OP_WRITE, "sdir/new", "via link", true) == 0);
    assert (s_holds ("d/new", "via link"));
    assert (s_op (volume, ZAIO_OP_STAT, "missing") == ENOENT);
    assert (s_op (volume, ZAIO_OP_STAT, "f/x") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_STAT, "f/") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_STAT, "sl/") == ENOTDIR);
    assert (s_read (volume, "sl/", 0, 1) == ENOTDIR);
    assert (s_read (volume, "sdir", 0, 1) == EISDIR);
    assert (s_op (volume, ZAIO_OP_LISTDIR, "sl/") == ENOTDIR);
    assert (s_op (volume, ZAIO_OP_LISTDIR, "sl") == ENOTDIR);

    //  A symlink loop.
    s_make_link ("loop1", "loop2");
    s_make_link ("loop2", "loop1");
    assert (s_read (volume, "loop1", 0, 1) == ELOOP);
    s_expect_stat (volume, "loop1", "symlink", UINT64_MAX, 0);
}

//  Set to stop s_renamer.
static atomic_bool s_renamer_stop;

//  Renames race/a to race/b and back, without pause, until told to stop.
//  (A plain thread: a czmq actor would start the ZeroMQ context, whose
//  descriptors the suite's count of open descriptors would see.)
static void *
s_renamer (void *args)
{
    char from[512], to[512];
    s_local (from, sizeof from, "race/a");
    s_local (to, sizeof to, "race/b");
    while (!atomic_load (&s_renamer_stop))
        assert (rename (from, to) == 0 && rename (to, from) == 0);
    return NULL;
}

//  Lookups through '..' while another thread renames: openat2 with
//  RESOLVE_BENEATH answers EAGAIN when any rename on the system overlaps
//  a lookup of '..', and a client must never see that.
static void
s_test_rename_race (zaio_volume_t *volume)
{
    s_make_dir ("race");
    s_make_dir ("race/sub");
    s_make_text ("race/a", "");
    s_make_text ("race/f", "raced");
    atomic_store (&s_renamer_stop, false);
    pthread_t renamer;
    assert (pthread_create (&renamer, NULL, s_renamer, NULL) == 0);
    int lookups = 0, failures = 0, last = 0;
    int64_t end = zclock_mono () + RACE_MS;
    while (zclock_mono () < end) {
        int codes[] = {
            s_op (volume, ZAIO_OP_STAT, "race/sub/../f"),
            s_op (volume, ZAIO_OP_READFILE, "race/sub/../sub/../f"),
            s_put (volume, ZAIO_OP_WRITE, "race/sub/../sub/g", "x", true),
        };
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++, lookups++)
            if (codes[i]) failures++, last = codes[i];
    }
    atomic_store (&s_renamer_stop, true);
    assert (pthread_join (renamer, NULL) == 0);
    if (failures)
        fprintf (stderr, "test_ops: %d of %d lookups failed while renames ran, the last with %s\n",
                 failures, lookups, zaio_error_name (last));
    assert (failures == 0);
}

//  Every attempt to reach s_outside from inside the root.
static void
s_test_escapes (zaio_volume_t *volume)
{
    char target[400];
    s_format (target, sizeof target, "%s/secret", s_outside);
    s_make_link ("etc", "/etc");
    s_make_link ("abs_secret", target);
    s_make_link ("rel", "../outside");
    s_make_link ("relfile", "../outside/secret");
    s_make_link ("d/deep", "../../outside");
    struct stat before;
    assert (stat (target, &before) == 0);

    //  Paths to the secret: nothing may read, write or copy it. (Paths into
    //  /etc are only ever read, or name files that do not exist, so a
    //  broken build cannot damage the machine.)
    const char *files[] = {
        "../outside/secret",
        "d/../../outside/secret",
        target,
        "abs_secret",
        "relfile",
        "rel/secret",
        "d/deep/secret",
        "./../outside/secret",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *path = files[i];
        assert (s_read (volume, path, 0, 100) == EXDEV);
        assert (s_op (volume, ZAIO_OP_READFILE, path) == EXDEV);
        assert (s_put (volume, ZAIO_OP_WRITE, path, "pwned", false) == EXDEV);
        assert (s_put (volume, ZAIO_OP_WRITE, path, "pwned", true) == EXDEV);
        assert (s_put (volume, ZAIO_OP_APPEND, path, "pwned", true) == EXDEV);
        zaio_request_t req = s_req (ZAIO_OP_TRUNCATE, path);
        zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 0);
        assert (s_code (volume, &req, NULL) == EXDEV);
        assert (s_op (volume, ZAIO_OP_FSYNC, path) == EXDEV);
        assert (s_op2 (volume, ZAIO_OP_COPY, path, "stolen") == EXDEV);
        assert (s_op2 (volume, ZAIO_OP_COPY, "f", path) == EXDEV);
    }
    const char *system[] = {"/etc/passwd", "etc/passwd", "etc/../etc/passwd"};
    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++) {
        assert (s_read (volume, system[i], 0, 100) == EXDEV);
        assert (s_op (volume, ZAIO_OP_READFILE, system[i]) == EXDEV);
        assert (s_op (volume, ZAIO_OP_STAT, system[i]) == EXDEV);
        assert (s_op2 (volume, ZAIO_OP_COPY, system[i], "stolen") == EXDEV);
    }
    assert (s_put (volume, ZAIO_OP_WRITE, "etc/zaio-test-never", "x", true) == EXDEV);
    assert (s_put (volume, ZAIO_OP_WRITE, "/etc/zaio-test-never", "x", true) == EXDEV);
    assert (s_op2 (volume, ZAIO_OP_COPY, "f", "etc/zaio-test-never") == EXDEV);
    //  Through an escaping parent: the final component is never reached.
    const char *entries[] = {
        "../outside/secret", "d/../../outside/secret", target,        "rel/secret", "d/deep/secret",
        "rel/sub",           "etc/zaio-test-never",    "rel/planted",
    };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        const char *path = entries[i];
        assert (s_op (volume, ZAIO_OP_STAT, path) == EXDEV);
        assert (s_op (volume, ZAIO_OP_UNLINK, path) == EXDEV);
        assert (s_op (volume, ZAIO_OP_RMDIR, path) == EXDEV);
        assert (s_mkdir (volume, path, false) == EXDEV);
        assert (s_op2 (volume, ZAIO_OP_RENAME, path, "stolen") == EXDEV);
        assert (s_op2 (volume, ZAIO_OP_RENAME, "f", path) == EXDEV);
        assert (s_put (volume, ZAIO_OP_WRITEFILE, path, "pwned", false) == EXDEV);
    }
    const char *dirs[] = {"..",     "../outside", "rel",  "rel/",      "etc",
                          "d/deep", "/",          "/tmp", "../root/.."};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        assert (s_op (volume, ZAIO_OP_LISTDIR, dirs[i]) == EXDEV);
        assert (s_op (volume, ZAIO_OP_FSYNC, dirs[i]) == EXDEV);
    }
    const char *made[] = {"rel/a/b",       "../outside/x", "d/deep/x",
                          "etc/zaio-test", "p/../../x",    "/tmp/zaio-x"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        assert (s_mkdir (volume, made[i], true) == EXDEV);
    assert (s_op (volume, ZAIO_OP_STAT, "/") == EXDEV);
    assert (s_op (volume, ZAIO_OP_STAT, "..") == EXDEV);
    //  .. that climbs out and back in is still refused: the kernel checks
    //  every step, not the final place.
    assert (s_read (volume, "../root/f", 0, 10) == EXDEV);

    //  Nothing outside changed, nothing came in.
    struct stat after;
    assert (stat (target, &after) == 0);
    assert (after.st_ino == before.st_ino && after.st_size == before.st_size);
    assert (after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
            after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    assert (after.st_mode == before.st_mode);
    size_t size;
    char *secret = s_slurp_abs (target, &size);
    assert (secret && streq (secret, SECRET));
    free (secret);
    DIR *dir = opendir (s_outside);
    assert (dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (streq (entry->d_name, ".") || streq (entry->d_name, "..")) continue;
        assert (streq (entry->d_name, "secret") || streq (entry->d_name, "sub"));
        count++;
    }
    closedir (dir);
    assert (count == 2);
    char sub[400];
    s_format (sub, sizeof sub, "%s/sub", s_outside);
    assert (stat (sub, &after) == 0 && S_ISDIR (after.st_mode));
    assert (!s_exists ("stolen"));
    assert (access ("/etc/zaio-test", F_OK) == -1);
    assert (access ("/etc/zaio-test-never", F_OK) == -1);

    //  The links themselves are inside: stat reports them, listdir lists
    //  them, unlink removes the link and never its target.
    s_expect_stat (volume, "relfile", "symlink", UINT64_MAX, 0);
    s_expect_stat (volume, "rel", "symlink", UINT64_MAX, 0);
    assert (s_op (volume, ZAIO_OP_UNLINK, "relfile") == 0);
    assert (s_op (volume, ZAIO_OP_UNLINK, "rel") == 0);
    assert (s_op (volume, ZAIO_OP_UNLINK, "abs_secret") == 0);
    assert (!s_exists ("relfile") && !s_exists ("rel"));
    secret = s_slurp_abs (target, &size);
    assert (secret && streq (secret, SECRET));
    free (secret);
}

static void
s_test_readonly (zaio_volume_t *readonly)
{
    assert (s_put (readonly, ZAIO_OP_WRITE, "f", "nope", false) == EROFS);
    assert (s_put (readonly, ZAIO_OP_WRITE, "ro-new", "nope", true) == EROFS);
    assert (s_put (readonly, ZAIO_OP_APPEND, "f", "nope", false) == EROFS);
    assert (s_put (readonly, ZAIO_OP_WRITEFILE, "f", "nope", false) == EROFS);
    zaio_request_t req = s_req (ZAIO_OP_TRUNCATE, "f");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 0);
    assert (s_code (readonly, &req, NULL) == EROFS);
    assert (s_op (readonly, ZAIO_OP_UNLINK, "f") == EROFS);
    assert (s_op (readonly, ZAIO_OP_RMDIR, "m") == EROFS);
    assert (s_mkdir (readonly, "ro-dir", false) == EROFS);
    assert (s_mkdir (readonly, "ro-dir", true) == EROFS);
    assert (s_op2 (readonly, ZAIO_OP_RENAME, "f", "ro-moved") == EROFS);
    assert (s_op2 (readonly, ZAIO_OP_COPY, "f", "ro-copy") == EROFS);
    assert (s_holds ("f", "hello WORLD") && s_exists ("m"));
    assert (!s_exists ("ro-new") && !s_exists ("ro-dir") && !s_exists ("ro-moved") &&
            !s_exists ("ro-copy"));
    //  Reading is fine; so are ping and fsync.
    s_expect_read (readonly, "f", 0, 5, "hello", false);
    s_expect_stat (readonly, "f", "file", 11, 0);
    assert (s_op (readonly, ZAIO_OP_READFILE, "f") == 0);
    assert (s_op (readonly, ZAIO_OP_LISTDIR, "") == 0);
    assert (s_op (readonly, ZAIO_OP_PING, NULL) == 0);
    assert (s_op (readonly, ZAIO_OP_FSYNC, "f") == 0);
    //  Escapes are still escapes on a read-only volume.
    assert (s_read (readonly, "../outside/secret", 0, 10) == EXDEV);
}

//  A hard link in the root to a file outside reaches that file, unless
//  the volume refuses files with more than one link (nolinks): then every
//  op that opens a file's content is EMLINK on it, and the file outside
//  is unchanged; files with one link are served as before.
static void
s_test_nolinks (zaio_volume_t *volume)
{
    char secret[400], leak[400];
    s_format (secret, sizeof secret, "%s/secret", s_outside);
    s_format (leak, sizeof leak, "%s/leak", s_root);
    assert (link (secret, leak) == 0);
    zaio_volume_t *open = zaio_volume_new ("open", s_root, false, false);
    s_expect_read (open, "leak", 0, 3, "top", false); //  the hole, without nolinks
    zaio_volume_destroy (&open);
    zaio_volume_set_nolinks (volume, true);
    assert (s_read (volume, "leak", 0, 10) == EMLINK);
    assert (s_op (volume, ZAIO_OP_READFILE, "leak") == EMLINK);
    assert (s_put (volume, ZAIO_OP_WRITE, "leak", "gotcha", false) == EMLINK);
    assert (s_put (volume, ZAIO_OP_APPEND, "leak", "gotcha", false) == EMLINK);
    zaio_request_t req = s_req (ZAIO_OP_TRUNCATE, "leak");
    zaio_request_set_uint (&req, ZAIO_FIELD_SIZE, 0);
    assert (s_code (volume, &req, NULL) == EMLINK);
    assert (s_op2 (volume, ZAIO_OP_COPY, "leak", "copied") == EMLINK);
    assert (!s_exists ("copied"));
    size_t size;
    char *text = s_slurp_abs (secret, &size);
    assert (text && streq (text, SECRET));
    free (text);
    s_expect_read (volume, "f", 0, 5, "hello", false);
    zaio_volume_set_nolinks (volume, false);
}

//  Descriptors open in this process.
static int
s_fd_count (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    assert (dir);
    int count = 0;
    while (readdir (dir)) count++;
    closedir (dir);
    return count;
}

//  Reads through the cache see every change to what a path names: the file
//  replaced, renamed over, unlinked, truncated, its directory swapped, a
//  symlink repointed, out of the root too; more files than the cache holds.
static void
s_test_cache (zaio_volume_t *volume)
{
    s_make_dir ("c");
    s_make_text ("c/file", "one");
    s_expect_read (volume, "c/file", 0, 100, "one", true);
    s_expect_read (volume, "c/file", 1, 100, "ne", true);
    assert (s_put (volume, ZAIO_OP_WRITEFILE, "c/file", "two", false) == 0);
    s_expect_read (volume, "c/file", 0, 100, "two", true);
    s_make_text ("c/other", "three");
    assert (s_op2 (volume, ZAIO_OP_RENAME, "c/other", "c/file") == 0);
    s_expect_read (volume, "c/file", 0, 100, "three", true);
    char local[512];
    assert (unlink (s_local (local, sizeof local, "c/file")) == 0);
    assert (s_read (volume, "c/file", 0, 100) == ENOENT);
    s_make_text ("c/file", "four");
    s_expect_read (volume, "c/file", 0, 100, "four", true);
    assert (truncate (s_local (local, sizeof local, "c/file"), 2) == 0);
    s_expect_read (volume, "c/file", 0, 100, "fo", true);
    assert (s_put (volume, ZAIO_OP_WRITE, "c/file", "urteen", false) == 0);
    s_expect_read (volume, "c/file", 0, 4, "urte", false);

    char moved[512];
    assert (rename (s_local (local, sizeof local, "c"), s_local (moved, sizeof moved, "c-old")) ==
            0);
    s_make_dir ("c");
    s_make_text ("c/file", "five");
    s_expect_read (volume, "c/file", 0, 100, "five", true);

    //  A symlink read through, then pointed out of the root: the cached
    //  descriptor is not the file it names now, and the new one is refused.
    s_make_link ("c/link", "file");
    s_expect_read (volume, "c/link", 0, 100, "five", true);
    char target[400];
    s_format (target, sizeof target, "%s/secret", s_outside);
    const char *escapes[] = {target, "../../outside/secret"};
    for (size_t i = 0; i < 2; i++) {
        assert (unlink (s_local (local, sizeof local, "c/link")) == 0);
        s_make_link ("c/link", escapes[i]);
        assert (s_read (volume, "c/link", 0, 100) == EXDEV);
        assert (s_op (volume, ZAIO_OP_READFILE, "c/link") == EXDEV);
        assert (unlink (s_local (local, sizeof local, "c/link")) == 0);
        s_make_link ("c/link", "file");
        s_expect_read (volume, "c/link", 0, 100, "five", true);
    }

    //  The file replaced by an absolute symlink to a hard link of it made
    //  outside the root: the link leads to the cached file, but the path
    //  now escapes, and a read must say so as it would uncached.
    char hard[400];
    s_format (hard, sizeof hard, "%s/hard", s_outside);
    s_expect_read (volume, "c/file", 0, 100, "five", true);
    assert (link (s_local (local, sizeof local, "c/file"), hard) == 0);
    assert (unlink (local) == 0);
    s_make_link ("c/file", hard);
    assert (s_read (volume, "c/file", 0, 100) == EXDEV);
    assert (s_op (volume, ZAIO_OP_READFILE, "c/file") == EXDEV);
    assert (unlink (local) == 0 && rename (hard, local) == 0);
    s_expect_read (volume, "c/file", 0, 100, "five", true);

    //  Within one batch a file is looked up once, unless a job of the batch
    //  changed names: the batch's jobs were all sent before that look.
    s_batched = true;
    s_expect_read (volume, "c/file", 0, 100, "five", true);
    s_make_text ("c/other", "six");
    assert (s_op2 (volume, ZAIO_OP_RENAME, "c/other", "c/file") == 0);
    s_expect_read (volume, "c/file", 0, 100, "six", true);
    s_make_text ("c/other", "seven");
    assert (rename (s_local (local, sizeof local, "c/other"),
                    s_local (moved, sizeof moved, "c/file")) == 0);
    s_expect_read (volume, "c/file", 0, 100, "six", true);
    s_batched = false;
    s_expect_read (volume, "c/file", 0, 100, "seven", true);

    //  The size that look saw holds for the batch too: what an outside
    //  writer appends is not read, what it truncates is a short read, and
    //  a job of the batch that writes makes the next read look again.
    s_batched = true;
    s_expect_read (volume, "c/file", 0, 100, "seven", true);
    int fd = open (s_local (local, sizeof local, "c/file"), O_WRONLY | O_APPEND);
    assert (fd >= 0 && write (fd, " eight", 6) == 6);
    close (fd);
    s_expect_read (volume, "c/file", 0, 100, "seven", true);
    s_expect_read (volume, "c/file", 5, 100, "", true);
    assert (truncate (local, 3) == 0);
    s_expect_read (volume, "c/file", 0, 100, "sev", true);
    s_expect_read (volume, "c/file", 0, 4, "sev", true);
    assert (s_put (volume, ZAIO_OP_APPEND, "c/file", "en!", false) == 0);
    s_expect_read (volume, "c/file", 0, 100, "seven!", true);
    s_expect_read (volume, "c/file", 0, 5, "seven", false);
    s_batched = false;
    s_make_text ("c/file", "seven");
    s_expect_read (volume, "c/file", 0, 100, "seven", true);

    //  More files than the cache holds, read in turns.
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 40; i++) {
            char name[64], text[64];
            s_format (name, sizeof name, "c/n%02d", i);
            s_format (text, sizeof text, "file %d", i);
            if (round == 0) s_make_text (name, text);
            s_expect_read (volume, name, 0, 100, text, true);
        }
}

//  True if openat2 answers ENOSYS in this process.
static bool
s_openat2_missing (void)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC};
    long fd = syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd >= 0) close ((int)fd);
    return fd < 0 && errno == ENOSYS;
}

//  Make openat2 answer ENOSYS in this process from now on, as on a kernel
//  without it. Returns false where this cannot be arranged.
static bool
s_hide_openat2 (void)
{
#if defined(__x86_64__)
#define S_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define S_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef S_AUDIT_ARCH
    struct sock_filter filter[] = {
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, S_AUDIT_ARCH, 1, 0),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {
        .len = (unsigned short)(sizeof filter / sizeof filter[0]),
        .filter = filter,
    };
    return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
#else
    return false;
#endif
}

//  --------------------------------------------------------------------------
//  Running a test in every configuration

typedef void (s_op_test_fn) (zaio_volume_t *volume);

typedef enum { S_PLAIN, S_READONLY, S_CACHED_ONLY } s_needs_t;

//  What a test finds in the root when it starts (an empty root if none):
//  what the op tests before it in the suite used to leave there.
enum {
    S_GIVEN_F = 1,     //  f: "hello WORLD", mode 0644
    S_GIVEN_D = 2,     //  d/
    S_GIVEN_EMPTY = 4, //  empty: an empty file
    S_GIVEN_FULL = 8,  //  full/x: a directory that is not empty
    S_GIVEN_M = 16,    //  m/
    S_GIVEN_MANY = 32, //  old-00 .. old-09: a root of many entries
};

static void
s_given (int given)
{
    if (given & S_GIVEN_F) s_make_text ("f", "hello WORLD");
    if (given & S_GIVEN_D) s_make_dir ("d");
    if (given & S_GIVEN_EMPTY) s_make_text ("empty", "");
    if (given & S_GIVEN_FULL) {
        s_make_dir ("full");
        s_make_text ("full/x", "x");
    }
    if (given & S_GIVEN_M) s_make_dir ("m");
    for (int i = 0; (given & S_GIVEN_MANY) && i < 10; i++) {
        char name[32];
        s_format (name, sizeof name, "old-%02d", i);
        s_make_text (name, name);
    }
}

//  A fresh tree: the root, and beside it outside/ with sub/ and the
//  secret no op may reach.
static void
s_tree_make (void)
{
    strcpy (s_base, "/tmp/zaio-test-ops-XXXXXX");
    assert (mkdtemp (s_base));
    s_format (s_root, sizeof s_root, "%s/root", s_base);
    s_format (s_outside, sizeof s_outside, "%s/outside", s_base);
    assert (mkdir (s_root, 0755) == 0);
    assert (mkdir (s_outside, 0755) == 0);
    char path[400];
    s_format (path, sizeof path, "%s/sub", s_outside);
    assert (mkdir (path, 0755) == 0);
    s_format (path, sizeof path, "%s/secret", s_outside);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert (fd >= 0 && write (fd, SECRET, strlen (SECRET)) == (ssize_t)strlen (SECRET));
    close (fd);
}

//  test on a fresh tree, given a volume on its root (read-only if needs
//  says so): as it is, then with reads through a small cache (so it
//  fills). Every op closes what it opens, on every path.
static void
s_in_tree (const char *label, s_op_test_fn *test, s_needs_t needs, int given)
{
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && needs == S_CACHED_ONLY) continue;
        if (pass == 1) s_cache = zaio_fdcache_new (4);
        s_tree_make ();
        s_given (given);
        zaio_volume_t *volume = zaio_volume_new ("default", s_root, false, false);
        zaio_volume_t *readonly = zaio_volume_new ("ro", s_root, true, false);
        assert (volume && readonly);
        int fds = s_fd_count ();
        test (needs == S_READONLY ? readonly : volume);
        if (s_cache) assert (zaio_fdcache_expire (s_cache, 0) == 0);
        assert (s_fd_count () == fds);
        zaio_volume_destroy (&readonly);
        zaio_volume_destroy (&volume);
        s_rmtree (s_base);
        if (s_cache) zaio_fdcache_destroy (&s_cache);
        printf ("%s%s: OK\n", label, pass ? ", through a cache of open files" : "");
    }
}

static bool s_openat2_missing (void);
static bool s_hide_openat2 (void);

//  test with both resolvers: first in a child where openat2 answers
//  ENOSYS, as on a kernel without it (the userspace resolver), then here.
static void
s_both_resolvers (s_op_test_fn *test, s_needs_t needs, int given)
{
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        //  czmq starts afresh in a forked child: here, not while a case
        //  counts descriptors.
        zsys_init ();
        if (s_openat2_missing () || s_hide_openat2 ()) {
            assert (s_openat2_missing ());
            s_in_tree ("userspace resolver", test, needs, given);
        } else
            printf ("userspace resolver: skipped (no seccomp)\n");
        fflush (stdout);
        _exit (0); //  the parent's exit handlers are the parent's
    }
    int status;
    assert (waitpid (pid, &status, 0) == pid);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    s_in_tree (s_openat2_missing () ? "userspace resolver (no openat2 here)" : "openat2", test,
               needs, given);
}

//  The volume checks need no volume of their own.
static void
s_volume_checks (zaio_volume_t *unused)
{
    s_test_volume ();
}

static void
s_case_volume (void)
{
    s_both_resolvers (s_volume_checks, S_PLAIN, 0);
}

static void
s_case_ping_hello (void)
{
    s_both_resolvers (s_test_ping_hello, S_PLAIN, 0);
}

static void
s_case_write_read (void)
{
    s_both_resolvers (s_test_write_read, S_PLAIN, 0);
}

static void
s_case_append (void)
{
    s_both_resolvers (s_test_append, S_PLAIN, S_GIVEN_D);
}

static void
s_case_readfile (void)
{
    s_both_resolvers (s_test_readfile, S_PLAIN, S_GIVEN_F | S_GIVEN_D);
}

static void
s_case_writefile (void)
{
    s_both_resolvers (s_test_writefile, S_PLAIN, S_GIVEN_F | S_GIVEN_D);
}

static void
s_case_truncate (void)
{
    s_both_resolvers (s_test_truncate, S_PLAIN, S_GIVEN_D);
}

static void
s_case_fsync (void)
{
    s_both_resolvers (s_test_fsync, S_PLAIN, S_GIVEN_F | S_GIVEN_D);
}

static void
s_case_unlink_rmdir (void)
{
    s_both_resolvers (s_test_unlink_rmdir, S_PLAIN, S_GIVEN_F | S_GIVEN_D | S_GIVEN_FULL);
}

static void
s_case_rename (void)
{
    s_both_resolvers (s_test_rename, S_PLAIN, S_GIVEN_D | S_GIVEN_FULL);
}

static void
s_case_mkdir (void)
{
    s_both_resolvers (s_test_mkdir, S_PLAIN, S_GIVEN_F);
}

static void
s_case_listdir (void)
{
    s_both_resolvers (s_test_listdir, S_PLAIN, S_GIVEN_F | S_GIVEN_MANY);
}

static void
s_case_listdir_names (void)
{
    s_both_resolvers (s_test_listdir_names, S_PLAIN, 0);
}

static void
s_case_temps (void)
{
    s_both_resolvers (s_test_temps, S_PLAIN, 0);
}

static void
s_case_copy (void)
{
    s_both_resolvers (s_test_copy, S_PLAIN, S_GIVEN_D | S_GIVEN_EMPTY);
}

static void
s_case_copy_sparse (void)
{
    s_both_resolvers (s_test_copy_sparse, S_PLAIN, 0);
}

static void
s_case_setid (void)
{
    s_both_resolvers (s_test_setid, S_PLAIN, S_GIVEN_F);
}

static void
s_case_symlinks_inside (void)
{
    s_both_resolvers (s_test_symlinks_inside, S_PLAIN, S_GIVEN_F | S_GIVEN_D);
}

static void
s_case_rename_race (void)
{
    s_both_resolvers (s_test_rename_race, S_PLAIN, 0);
}

static void
s_case_escapes (void)
{
    s_both_resolvers (s_test_escapes, S_PLAIN, S_GIVEN_F | S_GIVEN_D);
}

static void
s_case_readonly (void)
{
    s_both_resolvers (s_test_readonly, S_READONLY, S_GIVEN_F | S_GIVEN_M);
}

static void
s_case_nolinks (void)
{
    s_both_resolvers (s_test_nolinks, S_PLAIN, S_GIVEN_F);
}

static void
s_case_cache (void)
{
    s_both_resolvers (s_test_cache, S_CACHED_ONLY, 0);
}

int
main (int argc, char *argv[])
{
    umask (022);
    //  czmq starts (a context, no threads: this program has no sockets) at
    //  the first message an op logs; started here, it adds no descriptor
    //  while a case counts them, and every child forks from it as it is.
    zsys_init ();
    static const zaio_test_case_t cases[] = {
        {"volume", s_case_volume},
        {"ping_hello", s_case_ping_hello},
        {"write_read", s_case_write_read},
        {"append", s_case_append},
        {"readfile", s_case_readfile},
        {"writefile", s_case_writefile},
        {"truncate", s_case_truncate},
        {"fsync", s_case_fsync},
        {"unlink_rmdir", s_case_unlink_rmdir},
        {"rename", s_case_rename},
        {"mkdir", s_case_mkdir},
        {"listdir", s_case_listdir},
        {"listdir_names", s_case_listdir_names},
        {"temps", s_case_temps},
        {"copy", s_case_copy},
        {"copy_sparse", s_case_copy_sparse},
        {"setid", s_case_setid},
        {"symlinks_inside", s_case_symlinks_inside},
        {"rename_race", s_case_rename_race},
        {"escapes", s_case_escapes},
        {"readonly", s_case_readonly},
        {"nolinks", s_case_nolinks},
        {"cache", s_case_cache},
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
