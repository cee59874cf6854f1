/*  zaio_tool.c: `zaio`, the command-line client of a zaio broker.

    A thin layer over libzaio: each command is one function taking its own
    arguments. get, put and cat move files in chunks with several calls in
    flight (completion callbacks, dispatched here), started back to back so
    that the client sends them as wire batches (zaio_client_set_coalesce)
    when the broker takes them; everything else is one blocking call per
    path. Errors go to stderr as
    `zaio: OP PATH: ENOENT (No such file or directory)`.
*/

#include "zaio.h"
#include "zaio_curve.h"
#include "zaio_top.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  Exit codes (documented in --help).
#define EXIT_FAILED      1   //  the broker refused the operation, or a local file error
#define EXIT_USAGE       2   //  bad command line
#define EXIT_UNREACHABLE 3   //  no broker answered (unreachable, lost, timed out)
#define EXIT_AUTH        4   //  the broker refused our handshake (AUTH)
#define EXIT_INTERRUPTED 130 //  SIGINT / SIGTERM

#define S_CHUNK_MAX    (4u * 1024 * 1024) //  bytes per get/put/cat call
#define S_DEPTH        8                  //  calls in flight per transfer
#define S_PROGRESS_MS  200                //  progress bar refresh
#define S_LISTDIR_PAGE 1000
#define S_SETTLE_MS    5000 //  interrupted: wait for the calls in flight
#define S_CLEANUP_MS   2000 //  timeout of the unlink that removes a temp file
#define S_TEMP_TRIES   16   //  names tried for a local temporary file

typedef struct {
    const char *endpoint;
    const char *events;
    uint32_t timeout_ms;
    int retries;      //  -1: library default
    int64_t retry_ms; //  -1: library default
    zaio_client_t *client;
    const char *volume;       //  NULL: the broker's default
    const char *curve_server; //  the broker's public certificate; NULL: no CURVE
    const char *curve_cert;   //  our secret certificate
    zaio_call_t *call;        //  the last blocking call (s_call), for its results
    int why_code;             //  the last failure a broker or the client explained...
    char why[256];            //  ...and its explanation, made printable
} s_tool_t;

typedef struct {
    const char *name;
    int (*run) (s_tool_t *tool, int argc, char **argv);
    const char *synopsis;
    const char *help;
} s_command_t;

static const s_command_t *s_find (const char *name);

//  ---------------------------------------------------------------------
//  Errors and exits

//  The environment variable name, NULL if unset or empty.
static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    return value && *value ? value : NULL;
}

//  text as a whole decimal number in 0..max into *value. Returns 0 or -1.
static int
s_parse_number (const char *text, long max, long *value)
{
    char *end;
    *value = strtol (text, &end, 10);
    return *end || *value < 0 || *value > max ? -1 : 0;
}

static int
s_exit_code (int code)
{
    if (code == ZAIO_ERR_UNREACHABLE || code == ZAIO_ERR_CONNLOST || code == ZAIO_ERR_TIMEOUT)
        return EXIT_UNREACHABLE;
    if (code == ZAIO_ERR_AUTH) return EXIT_AUTH;
    if (code == EINTR) return EXIT_INTERRUPTED;
    return EXIT_FAILED;
}

//  Whether a progress meter's line is open on stderr: a message printed
//  now would land on it.
static bool s_meter_open;

//  `zaio: OP PATH: NAME (text)` on a fresh line; returns the exit code for
//  code.
static int
s_say (const char *op, const char *path, int code, const char *text)
{
    if (s_meter_open) fputc ('\n', stderr);
    s_meter_open = false;
    if (path)
        fprintf (stderr, "zaio: %s %s: %s (%s)\n", op, *path ? path : "\"\"", zaio_errname (code),
                 text);
    else
        fprintf (stderr, "zaio: %s: %s (%s)\n", op, zaio_errname (code), text);
    return s_exit_code (code);
}

//  A local failure (an errno value from this machine) as s_say prints it.
static int
s_fail (const char *op, const char *path, int code)
{
    return s_say (op, path, code, zaio_strerror (code));
}

//  Keep what the broker or the client said about a failed call, control
//  characters replaced: the broker's words are untrusted bytes.
static void
s_keep_why (s_tool_t *tool, int code, const char *message)
{
    tool->why_code = code;
    snprintf (tool->why, sizeof tool->why, "%s", message ? message : "");
    for (char *c = tool->why; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
}

//  A failure of a request to the broker, explained so that it can be acted
//  on: what the broker said (which names the volume, or says a path
//  escapes the volume root), and for the client's own codes the endpoint.
//  Returns the exit code.
static int
s_fail_remote (s_tool_t *tool, const char *op, const char *path, int code)
{
    const char *said = tool->why_code == code ? tool->why : "";
    const char *endpoint = tool->client ? zaio_client_endpoint (tool->client) : "?";
    char text[512];
    if (code == ZAIO_ERR_UNREACHABLE || code == ZAIO_ERR_AUTH)
        snprintf (text, sizeof text, "%s", *said ? said : zaio_strerror (code));
    else if (code == ZAIO_ERR_TIMEOUT)
        snprintf (text, sizeof text, "no reply from the broker at %s in time", endpoint);
    else if (code == ZAIO_ERR_CONNLOST)
        snprintf (text, sizeof text,
                  "connection to the broker at %s lost; the request may or may not have run",
                  endpoint);
    else if (code == ZAIO_ERR_NOVOLUME && !*said)
        snprintf (text, sizeof text, "no live worker serves volume '%s'",
                  tool->volume && *tool->volume ? tool->volume : "(the broker's default)");
    else if (code == EXDEV && !*said)
        snprintf (text, sizeof text, "path escapes the volume root");
    else
        snprintf (text, sizeof text, "%s", *said ? said : zaio_strerror (code));
    //  UNREACHABLE and AUTH as the client words them name the endpoint;
    //  an older library's may not.
    if ((code == ZAIO_ERR_UNREACHABLE || code == ZAIO_ERR_AUTH) && !strstr (text, endpoint))
        snprintf (text + strlen (text), sizeof text - strlen (text), ", broker at %s", endpoint);
    return s_say (op, path, code, text);
}

//  `usage: zaio [OPTIONS] SYNOPSIS` and cmd's help, on stdout.
static void
s_command_help (const s_command_t *cmd)
{
    printf ("usage: zaio [OPTIONS] %s\n\n%s", cmd->synopsis, cmd->help);
}

static int
s_usage (const char *command, const char *problem)
{
    const s_command_t *cmd = command ? s_find (command) : NULL;
    fprintf (stderr, "zaio: %s\n", problem);
    if (cmd)
        fprintf (stderr, "usage: zaio [OPTIONS] %s\n       (zaio %s --help for more)\n",
                 cmd->synopsis, cmd->name);
    else
        fprintf (stderr, "usage: zaio [OPTIONS] COMMAND [ARGS...]   (zaio --help for more)\n");
    return EXIT_USAGE;
}

//  Give the client, or else the watcher, the CURVE certificates of
//  --curve-server and --curve-cert, if any. Returns 0, or -1 after saying
//  what is wrong: only one given, or a file that cannot serve (which).
static int
s_curve (s_tool_t *tool, zaio_client_t *client, zaio_watch_t *watch)
{
    if (!tool->curve_server && !tool->curve_cert) return 0;
    if (!tool->curve_server || !tool->curve_cert) {
        s_usage (NULL, "--curve-server and --curve-cert go together");
        return -1;
    }
    int rc = client ? zaio_client_set_curve (client, tool->curve_server, tool->curve_cert)
                    : zaio_watch_set_curve (watch, tool->curve_server, tool->curve_cert);
    if (rc == 0) return 0;
    int error = errno;
    //  The server's certificate is read first: if it loads, ours failed.
    zcert_t *cert = zaio_curve_cert_load (tool->curve_server);
    const char *option = cert ? "--curve-cert" : "--curve-server";
    const char *path = cert ? tool->curve_cert : tool->curve_server;
    zcert_destroy (&cert);
    if (error != EINVAL)
        fprintf (stderr, "zaio: %s %s: cannot read: %s\n", option, path, strerror (error));
    else
        fprintf (stderr, "zaio: %s %s: not a CURVE certificate%s (zaio keygen makes them)\n",
                 option, path, streq (option, "--curve-cert") ? " with its secret key" : "");
    return -1;
}

//  The client, connected on first use. Exits with a usage error (the
//  client closed) if the options cannot make one.
static zaio_client_t *
s_client (s_tool_t *tool)
{
    if (!tool->client) {
        tool->client = zaio_client_new (tool->endpoint);
        if (!tool->client) {
            fprintf (stderr, "zaio: bad endpoint '%s'\n", tool->endpoint ? tool->endpoint : "");
            exit (EXIT_USAGE);
        }
        zaio_client_set_timeout (tool->client, tool->timeout_ms);
        bool bad_volume = zaio_client_set_volume (tool->client, tool->volume) != 0;
        if (bad_volume) fprintf (stderr, "zaio: bad volume name '%s'\n", tool->volume);
        if (bad_volume || s_curve (tool, tool->client, NULL)) {
            zaio_client_destroy (&tool->client);
            exit (EXIT_USAGE);
        }
        if (tool->retries >= 0) zaio_client_set_retries (tool->client, (uint32_t)tool->retries);
        if (tool->retry_ms >= 0) zaio_client_set_retry_ms (tool->client, (uint32_t)tool->retry_ms);
        //  The chunks of get, put and cat leave together, as wire batches.
        zaio_client_set_coalesce (tool->client, true);
    }
    return tool->client;
}

//  Run req and wait for it: a blocking call whose handle stays in
//  tool->call (replacing the one before) for its results. What a failure's
//  reply or the client said is kept for s_fail_remote. Returns 0 or the
//  error code; EINTR if interrupted.
static int
s_call (s_tool_t *tool, const zaio_request_t *req)
{
    zaio_call_destroy (&tool->call);
    tool->why_code = 0;
    tool->call = zaio_client_start (s_client (tool), req, NULL);
    if (zaio_call_wait (tool->call, -1)) return EINTR;
    int rc = zaio_call_error (tool->call);
    if (rc) s_keep_why (tool, rc, zaio_call_message (tool->call));
    return rc;
}

//  A request for op on path (NULL: none) into req, with `to` (NULL: none)
//  for rename and copy. Returns 0, or ENAMETOOLONG.
static int
s_request (zaio_request_t *req, zaio_op_t op, const char *path, const char *to)
{
    zaio_request_init (req, op, 0);
    if (path && zaio_request_set_str (req, ZAIO_FIELD_PATH, path)) return ENAMETOOLONG;
    if (to && zaio_request_set_str (req, ZAIO_FIELD_TO, to)) return ENAMETOOLONG;
    return 0;
}

//  op on path (and to, NULL if none) with the uint field set to value
//  (field 0: none), whose reply carries nothing more. Returns 0 or the
//  error code.
static int
s_simple (s_tool_t *tool, zaio_op_t op, const char *path, const char *to, zaio_field_t field,
          uint64_t value)
{
    zaio_request_t req;
    int rc = s_request (&req, op, path, to);
    if (rc) return rc;
    if (field) zaio_request_set_uint (&req, field, value);
    return s_call (tool, &req);
}

//  stat path into *st. Returns 0 or the error code.
static int
s_stat (s_tool_t *tool, const char *path, zaio_stat_t *st)
{
    memset (st, 0, sizeof *st);
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_STAT, path, NULL);
    if (!rc) rc = s_call (tool, &req);
    return rc ? rc : zaio_call_stat (tool->call, st);
}

//  One listdir page of path after `after` ("" from the start): *entries_p
//  (caller frees with free ()), *count_p of them, *more_p if more remain.
//  Returns 0 or the error code.
static int
s_listdir (s_tool_t *tool, const char *path, const char *after, zaio_dirent_t **entries_p,
           size_t *count_p, bool *more_p)
{
    *entries_p = NULL;
    *count_p = 0;
    *more_p = false;
    zaio_request_t req;
    int rc = s_request (&req, ZAIO_OP_LISTDIR, path, NULL);
    if (!rc && *after && zaio_request_set_str (&req, ZAIO_FIELD_AFTER, after)) rc = ENAMETOOLONG;
    if (rc) return rc;
    zaio_request_set_uint (&req, ZAIO_FIELD_LIMIT, S_LISTDIR_PAGE);
    rc = s_call (tool, &req);
    return rc ? rc : zaio_call_entries (tool->call, entries_p, count_p, more_p);
}

//  dir and name joined with a slash (none after "" or a trailing one).
//  Caller frees with zstr_free.
static char *
s_join (const char *dir, const char *name)
{
    size_t len = strlen (dir);
    return zsys_sprintf ("%s%s%s", dir, len && dir[len - 1] != '/' ? "/" : "", name);
}

//  Start count requests at once, as wire batches, and wait for all of
//  them. calls[i] gets each handle (the caller destroys every one).
//  Returns 0, or EINTR if interrupted.
static int
s_batch (s_tool_t *tool, const zaio_request_t *reqs, size_t count, zaio_call_t **calls)
{
    zaio_client_start_batch (s_client (tool), reqs, NULL, count, calls);
    for (size_t i = 0; i < count; i++)
        if (zaio_call_wait (calls[i], -1)) return EINTR;
    return 0;
}

//  Per-command options: flags given as a string of letters that take no
//  value. Returns the index of the first operand, or -1 (usage printed)
//  on an unknown option. --help prints the command's help and exits.
static int
s_options (const char *command, int argc, char **argv, const char *flags, bool *set)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (streq (arg, "--")) return i + 1;
        if (arg[0] != '-' || arg[1] == 0) break;
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_command_help (s_find (command));
            exit (0);
        }
        for (const char *letter = arg + 1; *letter; letter++) {
            const char *at = strchr (flags, *letter);
            if (arg[1] == '-' || !at) {
                char problem[128];
                snprintf (problem, sizeof problem, "%s: unknown option '%s'", command, arg);
                s_usage (command, problem);
                return -1;
            }
            set[at - flags] = true;
        }
    }
    return i;
}

//  ---------------------------------------------------------------------
//  Formatting

static void
s_format_time (int64_t ns, char *buf, size_t size)
{
    time_t seconds = (time_t)(ns / 1000000000);
    long rest = (long)(ns % 1000000000);
    if (rest < 0) {
        seconds--;
        rest += 1000000000;
    }
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char date[32];
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (buf, size, "%s.%09ldZ", date, rest);
}

static void
s_format_bytes (double bytes, char *buf, size_t size)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        unit++;
    }
    snprintf (buf, size, unit ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
}

//  JSON string body (no quotes) of text into buf.
static void
s_json_escape (const char *text, char *buf, size_t size)
{
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c && used + 7 < size; c++) {
        if (*c == '"' || *c == '\\')
            used += (size_t)snprintf (buf + used, size - used, "\\%c", *c);
        else if (*c < 0x20)
            used += (size_t)snprintf (buf + used, size - used, "\\u%04x", *c);
        else
            buf[used++] = (char)*c;
    }
    buf[used] = 0;
}

//  ---------------------------------------------------------------------
//  Progress bar: only when stderr is a terminal.

typedef struct {
    bool enabled;
    const char *label;
    uint64_t total; //  0: unknown
    int64_t started;
    int64_t shown;
} s_progress_t;

static void
s_progress_init (s_progress_t *self, const char *label, uint64_t total)
{
    self->enabled = isatty (STDERR_FILENO);
    self->label = label;
    self->total = total;
    self->started = zclock_mono ();
    self->shown = 0;
}

static void
s_progress_show (s_progress_t *self, uint64_t done, bool final)
{
    if (!self->enabled) return;
    int64_t now = zclock_mono ();
    if (!final && now - self->shown < S_PROGRESS_MS) return;
    self->shown = now;
    double seconds = (double)(now - self->started) / 1000.0;
    double rate = seconds > 0 ? (double)done / seconds : 0;
    char done_text[32], total_text[32], rate_text[32], eta[32] = "";
    s_format_bytes ((double)done, done_text, sizeof done_text);
    s_format_bytes (rate, rate_text, sizeof rate_text);
    if (self->total) {
        s_format_bytes ((double)self->total, total_text, sizeof total_text);
        if (rate > 0 && done < self->total) {
            long left = (long)((double)(self->total - done) / rate + 0.5);
            snprintf (eta, sizeof eta, "  ETA %ld:%02ld", left / 60, left % 60);
        }
        int percent = (int)(done * 100 / self->total);
        fprintf (stderr, "\r%s  %s / %s  %3d%%  %s/s%s\033[K", self->label, done_text, total_text,
                 percent, rate_text, eta);
    } else
        fprintf (stderr, "\r%s  %s  %s/s\033[K", self->label, done_text, rate_text);
    if (final) fprintf (stderr, "\n");
    s_meter_open = !final;
}

//  ---------------------------------------------------------------------
//  Chunked transfers: get and cat (reads), put (writes)

typedef struct {
    s_tool_t *tool;
    zaio_client_t *client;
    const char *op;
    const char *remote; //  remote path (the temp name for put)
    int fd;             //  local file
    bool ordered;       //  output is not seekable: write chunks in order
    size_t chunk;
    uint64_t end;     //  get: size from stat; put: unused
    uint64_t next;    //  offset of the next call
    uint64_t written; //  ordered output: bytes written so far
    uint64_t moved;   //  bytes through so far
    uint64_t eof_at;  //  get: where the file ended; UINT64_MAX before
    bool source_done; //  put: local input exhausted
    uint32_t mode;    //  put: mode of the new file
    int in_flight;
    int error;                  //  first remote error
    int local_error;            //  first local errno
    const char *local;          //  local path, for messages
    zaio_buf_t *slots[S_DEPTH]; //  ordered output: chunks waiting their turn
    s_progress_t progress;
} s_xfer_t;

typedef struct {
    s_xfer_t *xfer;
    uint64_t offset;
} s_piece_t;

static int
s_write_all (int fd, const void *data, size_t size, off_t offset, bool positional)
{
    const char *bytes = (const char *)data;
    while (size) {
        ssize_t n = positional ? pwrite (fd, bytes, size, offset) : write (fd, bytes, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        bytes += n;
        size -= (size_t)n;
        offset += n;
    }
    return 0;
}

static void s_read_more (s_xfer_t *xfer);

//  Ordered output: write every chunk that is next in line.
static void
s_flush_slots (s_xfer_t *xfer)
{
    for (;;) {
        size_t slot = (size_t)(xfer->written / xfer->chunk) % S_DEPTH;
        zaio_buf_t *buf = xfer->slots[slot];
        if (!buf) break;
        xfer->slots[slot] = NULL;
        if (!xfer->local_error)
            xfer->local_error =
                s_write_all (xfer->fd, zaio_buf_data (buf), zaio_buf_size (buf), 0, false);
        //  A short chunk ends the file; later slots hold nothing.
        xfer->written += zaio_buf_size (buf) < xfer->chunk ? xfer->chunk : zaio_buf_size (buf);
        zaio_buf_destroy (&buf);
    }
}

static void
s_read_done (zaio_call_t *call, void *arg)
{
    s_piece_t *piece = (s_piece_t *)arg;
    s_xfer_t *xfer = piece->xfer;
    xfer->in_flight--;
    int rc = zaio_call_error (call);
    if (rc) {
        if (!xfer->error) {
            xfer->error = rc;
            s_keep_why (xfer->tool, rc, zaio_call_message (call));
        }
    } else if (xfer->error == EINTR) {
        //  Interrupted: a read that lands while the transfer settles only
        //  ends its call; nothing more is written.
    } else {
        const zaio_reply_t *reply = zaio_call_reply (call);
        zaio_buf_t *data = zaio_call_take_data (call);
        size_t size = data ? zaio_buf_size (data) : 0;
        if (reply->eof || size < xfer->chunk) {
            if (piece->offset + size < xfer->eof_at) xfer->eof_at = piece->offset + size;
        }
        xfer->moved += size;
        if (xfer->ordered) {
            if (!data) data = zaio_buf_new (NULL, 0);
            xfer->slots[(piece->offset / xfer->chunk) % S_DEPTH] = data;
            data = NULL;
            s_flush_slots (xfer);
        } else if (size && !xfer->local_error)
            xfer->local_error =
                s_write_all (xfer->fd, zaio_buf_data (data), size, (off_t)piece->offset, true);
        zaio_buf_destroy (&data);
        s_progress_show (&xfer->progress, xfer->moved, false);
    }
    free (piece);
    s_read_more (xfer);
}

//  Keep S_DEPTH reads going until the file's end is known and reached.
//  The reads started here in one go leave as one wire batch.
static void
s_read_more (s_xfer_t *xfer)
{
    while (!xfer->error && !xfer->local_error && xfer->next < xfer->eof_at) {
        //  Ordered output also counts chunks waiting for their turn.
        uint64_t waiting = xfer->ordered ? (xfer->next - xfer->written) / xfer->chunk : 0;
        if (xfer->in_flight >= S_DEPTH || (int)waiting >= S_DEPTH) break;
        //  Past the size stat gave, go on one read at a time until a read
        //  meets the end (the file grew).
        if (xfer->next >= xfer->end && xfer->in_flight > 0) break;
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_READ, 0);
        zaio_request_set_str (&req, ZAIO_FIELD_PATH, xfer->remote);
        zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, xfer->next);
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, xfer->chunk);
        s_piece_t *piece = (s_piece_t *)calloc (1, sizeof (s_piece_t));
        assert (piece);
        piece->xfer = xfer;
        piece->offset = xfer->next;
        xfer->next += xfer->chunk;
        xfer->in_flight++;
        zaio_client_submit (xfer->client, &req, NULL, s_read_done, piece);
    }
}

//  After an interrupt: start nothing more, let the calls in flight finish
//  for up to wait_ms (a second interrupt stops the wait), then cancel the
//  rest by destroying the client, so that every callback has run while xfer
//  still exists. The caller's exit status carries the interrupt from here.
static void
s_settle (s_xfer_t *xfer, int wait_ms)
{
    if (!xfer->error) xfer->error = EINTR;
    zsys_interrupted = 0;
    int64_t until = zclock_mono () + wait_ms;
    while (xfer->in_flight && !zsys_interrupted && zclock_mono () < until)
        zaio_client_dispatch (xfer->client, (int)(until - zclock_mono ()));
    if (xfer->in_flight) {
        zaio_call_destroy (&xfer->tool->call);
        zaio_client_destroy (&xfer->tool->client);
        xfer->client = NULL;
    }
}

//  Run the callbacks of calls in flight, at least one unless interrupted.
//  Dispatch reports an interrupt only when it has to wait, which a fast
//  transfer never does: the flag is checked here too. Returns -1 if
//  interrupted.
static int
s_dispatch (s_xfer_t *xfer)
{
    return zsys_interrupted || zaio_client_dispatch (xfer->client, -1) == -1 ? -1 : 0;
}

//  Run the transfer's callbacks until nothing is in flight. Returns -1 if
//  interrupted. The reads in flight then settle before the client goes:
//  closing its socket while a reply is half received makes libzmq (4.3)
//  drop that reply's first frames from the pipe without closing them,
//  which leaks them.
static int
s_drain (s_xfer_t *xfer)
{
    while (xfer->in_flight)
        if (s_dispatch (xfer)) {
            s_settle (xfer, S_SETTLE_MS);
            return -1;
        }
    return 0;
}

//  The broker's payload limit, capped at S_CHUNK_MAX; 0 (with *rc set) if
//  the broker does not answer.
static size_t
s_chunk_size (s_tool_t *tool, int *rc)
{
    const zaio_hello_t *limits = zaio_client_limits (s_client (tool));
    if (!limits) {
        *rc = s_simple (tool, ZAIO_OP_PING, NULL, NULL, 0, 0);
        if (*rc) return 0;
        limits = zaio_client_limits (s_client (tool));
    }
    size_t chunk = S_CHUNK_MAX;
    if (limits && limits->payload_max && limits->payload_max < chunk)
        chunk = (size_t)limits->payload_max;
    return chunk;
}

//  A temporary name beside path: ".NAME.zaio-TAG-PID-RANDOM" in the same
//  directory, so that a rename over path stays in one filesystem. Caller
//  frees.
static char *
s_temp_name (const char *path, const char *tag)
{
    const char *slash = strrchr (path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    return zsys_sprintf ("%.*s.%s.zaio-%s-%d-%04x", dir_len, path, path + dir_len, tag,
                         (int)getpid (), (unsigned)randof (65536));
}

//  Start xfer: op moves remote through the local descriptor fd (local
//  names it in messages), chunk bytes a call, on tool's client. Borrows
//  every pointer; fd stays the caller's. The caller sets what its
//  direction needs, and the progress.
static void
s_xfer_init (s_xfer_t *xfer, s_tool_t *tool, const char *op, const char *remote, int fd,
             size_t chunk, const char *local)
{
    memset (xfer, 0, sizeof *xfer);
    xfer->tool = tool;
    xfer->client = s_client (tool);
    xfer->op = op;
    xfer->remote = remote;
    xfer->fd = fd;
    xfer->chunk = chunk;
    xfer->local = local;
}

//  Fetch remote into fd (get, cat). Returns an exit code.
static int
s_fetch (s_tool_t *tool, const char *op, const char *remote, int fd, bool ordered,
         const char *local)
{
    zaio_stat_t st;
    int rc = s_stat (tool, remote, &st);
    if (rc) return s_fail_remote (tool, op, remote, rc);
    if (streq (st.type, "dir")) return s_fail (op, remote, EISDIR);
    size_t chunk = s_chunk_size (tool, &rc);
    if (!chunk) return s_fail_remote (tool, op, remote, rc);
    s_xfer_t xfer;
    s_xfer_init (&xfer, tool, op, remote, fd, chunk, local);
    xfer.ordered = ordered;
    xfer.end = st.size;
    xfer.eof_at = UINT64_MAX;
    //  No meter over what goes to standard output: on a terminal it would
    //  mix with the content.
    s_progress_init (&xfer.progress, remote, st.size);
    if (fd == STDOUT_FILENO) xfer.progress.enabled = false;
    s_read_more (&xfer);
    if (s_drain (&xfer)) rc = EINTR;
    for (int i = 0; i < S_DEPTH; i++) zaio_buf_destroy (&xfer.slots[i]);
    if (rc == 0 && xfer.error) rc = xfer.error;
    if (rc) return s_fail_remote (tool, op, remote, rc);
    if (xfer.local_error) return s_fail (op, local, xfer.local_error);
    s_progress_show (&xfer.progress, xfer.moved, true);
    return 0;
}

static void
s_write_done (zaio_call_t *call, void *arg)
{
    s_xfer_t *xfer = (s_xfer_t *)arg;
    xfer->in_flight--;
    int rc = zaio_call_error (call);
    if (rc && !xfer->error) {
        xfer->error = rc;
        s_keep_why (xfer->tool, rc, zaio_call_message (call));
    }
    if (!rc) {
        xfer->moved += zaio_call_reply (call)->bytes;
        s_progress_show (&xfer->progress, xfer->moved, false);
    }
}

//  Read the next chunk of local input and send it; false when done.
static bool
s_write_next (s_xfer_t *xfer)
{
    zaio_buf_t *buf = zaio_buf_new (NULL, xfer->chunk);
    if (!buf) {
        xfer->local_error = ENOMEM;
        return false;
    }
    //  Fill the message's own memory: the bytes are never copied again.
    char *data = (char *)zaio_buf_data (buf);
    size_t filled = 0;
    while (filled < xfer->chunk) {
        ssize_t n = read (xfer->fd, data + filled, xfer->chunk - filled);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            xfer->local_error = errno;
            zaio_buf_destroy (&buf);
            return false;
        }
        if (n == 0) {
            xfer->source_done = true;
            break;
        }
        filled += (size_t)n;
    }
    //  The first write always goes, so an empty file is still created.
    if (filled == 0 && xfer->next > 0) {
        zaio_buf_destroy (&buf);
        return false;
    }
    //  Writes after the first reopen the file, which a broker that is not
    //  root may do only if its owner can write it; there is no chmod op to
    //  take the bit away afterwards.
    if (xfer->next == 0 && !xfer->source_done) xfer->mode |= S_IWUSR;
    if (filled < xfer->chunk) {
        zaio_buf_t *exact = zaio_buf_new (data, filled);
        zaio_buf_destroy (&buf);
        buf = exact;
    }
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITE, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, xfer->remote);
    if (xfer->next) zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, xfer->next);
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    zaio_request_set_uint (&req, ZAIO_FIELD_MODE, xfer->mode);
    xfer->next += filled;
    xfer->in_flight++;
    zaio_client_submit (xfer->client, &req, &buf, s_write_done, xfer);
    return !xfer->source_done;
}

//  ---------------------------------------------------------------------
//  Commands

static int
s_cmd_ping (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("ping", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    long count = 1;
    if (first < argc) {
        char *end;
        count = strtol (argv[first], &end, 10);
        if (*end || count < 1 || first + 1 < argc) return s_usage ("ping", "ping: bad COUNT");
    }
    for (long i = 0; i < count; i++) {
        int64_t start = zclock_usecs ();
        int rc = s_simple (tool, ZAIO_OP_PING, NULL, NULL, 0, 0);
        if (rc) return s_fail_remote (tool, "ping", NULL, rc);
        printf ("pong from %s: %.3f ms\n", zaio_client_endpoint (tool->client),
                (double)(zclock_usecs () - start) / 1000.0);
    }
    return 0;
}

static int
s_cmd_hello (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("hello", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (first < argc) return s_usage ("hello", "hello: takes no arguments");
    zaio_hello_t hello;
    zaio_request_t req;
    s_request (&req, ZAIO_OP_HELLO, NULL, NULL);
    int rc = s_call (tool, &req);
    if (!rc) rc = zaio_call_hello (tool->call, &hello);
    if (rc) return s_fail_remote (tool, "hello", NULL, rc);
    printf ("broker %s at %s, protocol %u\n", hello.version, zaio_client_endpoint (tool->client),
            hello.protocol);
    printf ("limits: header_max %" PRIu64 ", path_max %" PRIu64 ", payload_max %" PRIu64
            ", listdir_max %" PRIu64 ", inflight_max %" PRIu64 ", queue_max %" PRIu64,
            hello.header_max, hello.path_max, hello.payload_max, hello.listdir_max,
            hello.inflight_max, hello.queue_max);
    //  Brokers before these limits existed do not report them.
    if (hello.queue_bytes_max) printf (", queue_bytes_max %" PRIu64, hello.queue_bytes_max);
    if (hello.reply_hwm) printf (", reply_hwm %" PRIu64, hello.reply_hwm);
    printf ("\n");
    printf ("ops:");
    for (int op = 0; op < ZAIO_OP_COUNT; op++)
        if (hello.ops & (1u << op)) printf (" %s", zaio_op_name ((zaio_op_t)op));
    printf ("\nvolumes:");
    for (uint32_t i = 0; i < hello.volume_count; i++)
        printf ("%s %s (%s, %u worker%s)", i ? "," : "", hello.volumes[i].name,
                hello.volumes[i].readonly ? "read-only" : "read-write", hello.volumes[i].workers,
                hello.volumes[i].workers == 1 ? "" : "s");
    printf ("\n");
    return 0;
}

static int
s_cmd_stat (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("stat", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (first >= argc) return s_usage ("stat", "stat: which PATH?");
    int status = 0;
    for (int i = first; i < argc; i++) {
        zaio_stat_t st;
        int rc = s_stat (tool, argv[i], &st);
        if (rc) {
            status = s_fail_remote (tool, "stat", argv[i], rc);
            if (status != EXIT_FAILED) return status;
            continue;
        }
        char mtime[64];
        s_format_time (st.mtime_ns, mtime, sizeof mtime);
        printf ("%s: %s, %" PRIu64 " bytes, mode %04o, modified %s\n", argv[i], st.type, st.size,
                st.mode, mtime);
    }
    return status;
}

//  An entry's name and a newline. A name that is not UTF-8 (name_bin) is
//  escaped so it shows and cannot pass for another: its bytes outside
//  printable ASCII as \xHH, a backslash as \\.
static void
s_print_name (const zaio_dirent_t *entry, FILE *out)
{
    if (!entry->name_bin) {
        fprintf (out, "%s\n", entry->name);
        return;
    }
    for (const unsigned char *at = (const unsigned char *)entry->name; *at; at++)
        if (*at == '\\')
            fputs ("\\\\", out);
        else if (*at < 0x20 || *at > 0x7e)
            fprintf (out, "\\x%02x", *at);
        else
            fputc (*at, out);
    fputc ('\n', out);
}

//  rm -r met entry of dir, which no request can name (not UTF-8): say so.
//  Returns the exit status.
static int
s_fail_unnamable (const char *dir, const zaio_dirent_t *entry)
{
    fprintf (stderr, "zaio: rm %s: holds a name no request can give (not UTF-8): ", dir);
    s_print_name (entry, stderr);
    return EXIT_FAILED;
}

//  ls -l's first column: the type (d, -, l, ?) and, if mode is known
//  (known), the permission bits as ls shows them, else question marks.
static void
s_format_mode (const char *type, uint32_t mode, bool known, char *buf)
{
    buf[0] = streq (type, "dir")       ? 'd'
             : streq (type, "symlink") ? 'l'
             : streq (type, "file")    ? '-'
                                       : '?';
    const char *letters = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) buf[1 + i] = !known ? '?' : mode & (0400u >> i) ? letters[i] : '-';
    if (known) {
        //  setuid, setgid, sticky: s, s, t over x; S, S, T without it
        if (mode & 04000) buf[3] = mode & 0100 ? 's' : 'S';
        if (mode & 02000) buf[6] = mode & 0010 ? 's' : 'S';
        if (mode & 01000) buf[9] = mode & 0001 ? 't' : 'T';
    }
    buf[10] = 0;
}

//  One line of ls: the name, or with longform the mode (from st; NULL if
//  unknown), size, modification time (UTC) and name.
static void
s_print_entry (const zaio_dirent_t *entry, bool longform, const zaio_stat_t *st)
{
    if (longform) {
        char mtime[64], mode[16];
        s_format_time (entry->mtime_ns, mtime, sizeof mtime);
        mtime[19] = 0; //  to the second
        s_format_mode (entry->type, st ? st->mode : 0, st != NULL, mode);
        printf ("%s %12" PRIu64 " %s ", mode, entry->size, mtime);
    }
    s_print_name (entry, stdout);
}

//  Print a page of dir's entries; for longform, the modes of all of them
//  come from one batch of stats (an entry whose stat fails, gone since or
//  not namable, shows question marks). Returns 0 or EINTR.
static int
s_print_page (s_tool_t *tool, const char *dir, const zaio_dirent_t *entries, size_t count,
              bool longform)
{
    if (!longform || !count) {
        for (size_t i = 0; i < count; i++) s_print_entry (&entries[i], false, NULL);
        return 0;
    }
    zaio_request_t *reqs = (zaio_request_t *)calloc (count, sizeof *reqs);
    zaio_call_t **calls = (zaio_call_t **)calloc (count, sizeof *calls);
    assert (reqs && calls);
    for (size_t i = 0; i < count; i++) {
        char *path = s_join (dir, entries[i].name);
        //  A name no request can hold (not UTF-8, too long) gets a ping
        //  in its place, and its mode shows as unknown.
        if (entries[i].name_bin || s_request (&reqs[i], ZAIO_OP_STAT, path, NULL))
            s_request (&reqs[i], ZAIO_OP_PING, NULL, NULL);
        zstr_free (&path);
    }
    int rc = s_batch (tool, reqs, count, calls);
    for (size_t i = 0; i < count; i++) {
        zaio_stat_t st;
        bool known = !rc && reqs[i].op == ZAIO_OP_STAT && zaio_call_stat (calls[i], &st) == 0;
        if (!rc) s_print_entry (&entries[i], true, known ? &st : NULL);
        zaio_call_destroy (&calls[i]);
    }
    free (calls);
    free (reqs);
    return rc;
}

static int
s_cmd_ls (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false}; //  -l
    int first = s_options ("ls", argc, argv, "l", set);
    if (first < 0) return EXIT_USAGE;
    char *none[] = {""};
    char **paths = first < argc ? argv + first : none;
    int count = first < argc ? argc - first : 1;
    int status = 0;
    for (int i = 0; i < count; i++) {
        if (count > 1) printf ("%s%s:\n", i ? "\n" : "", paths[i]);
        char after[ZAIO_NAME_MAX + 1] = "";
        bool more = true;
        while (more) {
            zaio_dirent_t *entries;
            size_t entry_count;
            int rc = s_listdir (tool, paths[i], after, &entries, &entry_count, &more);
            if (rc == ENOTDIR) {
                //  Like ls: a file lists as itself.
                zaio_stat_t st;
                rc = s_stat (tool, paths[i], &st);
                if (rc == 0) {
                    zaio_dirent_t entry = {.size = st.size, .mtime_ns = st.mtime_ns};
                    snprintf (entry.name, sizeof entry.name, "%s", paths[i]);
                    snprintf (entry.type, sizeof entry.type, "%s", st.type);
                    s_print_entry (&entry, set[0], &st);
                }
                more = false;
            }
            if (!rc) rc = s_print_page (tool, paths[i], entries, entry_count, set[0]);
            if (rc) {
                free (entries);
                status = s_fail_remote (tool, "ls", paths[i], rc);
                if (status != EXIT_FAILED) return status;
                break;
            }
            if (entry_count) snprintf (after, sizeof after, "%s", entries[entry_count - 1].name);
            free (entries);
        }
    }
    return status;
}

static int
s_cmd_cat (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("cat", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (first >= argc) return s_usage ("cat", "cat: which PATH?");
    int status = 0;
    fflush (stdout);
    for (int i = first; i < argc; i++) {
        int rc = s_fetch (tool, "cat", argv[i], STDOUT_FILENO, true, "(stdout)");
        if (rc) {
            status = rc;
            if (rc != EXIT_FAILED) return rc;
        }
    }
    return status;
}

//  get into a regular file (old: its stat, NULL if there is none yet):
//  fetched into a temporary file beside it, flushed, then renamed over it.
//  LOCAL is untouched unless the whole file arrived.
static int
s_get_file (s_tool_t *tool, const char *remote, const char *local, const struct stat *old)
{
    //  Through a symlink: replace the file it names, not the link. Refuse
    //  what opening it for writing would refuse.
    char *real = old ? realpath (local, NULL) : NULL;
    const char *path = real ? real : local;
    if (old && access (path, W_OK)) {
        int status = s_fail ("get", local, errno);
        free (real);
        return status;
    }
    char *temp = NULL;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < S_TEMP_TRIES; tries++) {
        zstr_free (&temp);
        temp = s_temp_name (path, "get");
        fd = open (temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    int status =
        fd < 0 ? s_fail ("get", local, errno) : s_fetch (tool, "get", remote, fd, false, local);
    //  Replacing a file keeps its permissions, as writing into it would.
    if (status == 0 && old && fchmod (fd, old->st_mode & 0777))
        status = s_fail ("get", local, errno);
    if (status == 0 && fsync (fd)) status = s_fail ("get", local, errno);
    if (fd >= 0 && close (fd) && status == 0) status = s_fail ("get", local, errno);
    //  An interrupt that came once the last byte was in (while it was
    //  flushed, say) still cancels: LOCAL is replaced only if none came.
    if (status == 0 && zsys_interrupted) status = s_fail ("get", local, EINTR);
    if (status == 0 && rename (temp, path)) status = s_fail ("get", local, errno);
    if (status && fd >= 0) unlink (temp);
    zstr_free (&temp);
    free (real);
    return status;
}

static int
s_cmd_get (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("get", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (argc - first != 2) return s_usage ("get", "get: needs REMOTE and LOCAL");
    const char *remote = argv[first], *local = argv[first + 1];
    if (streq (local, "-")) return s_fetch (tool, "get", remote, STDOUT_FILENO, true, "(stdout)");
    //  Into a directory: under the remote file's name.
    char *target = NULL;
    struct stat st;
    bool exists = stat (local, &st) == 0;
    if (exists && S_ISDIR (st.st_mode)) {
        char *copy = strdup (remote);
        target = zsys_sprintf ("%s/%s", local, basename (copy));
        free (copy);
        local = target;
        exists = stat (local, &st) == 0;
    }
    int status;
    if (exists && !S_ISREG (st.st_mode)) {
        //  A pipe, terminal or device is written as the bytes come, not
        //  replaced; pwrite needs a seekable one, the rest take chunks in order.
        int fd = open (local, O_WRONLY | O_CLOEXEC);
        status = fd < 0 ? s_fail ("get", local, errno)
                        : s_fetch (tool, "get", remote, fd, lseek (fd, 0, SEEK_CUR) < 0, local);
        if (fd >= 0 && close (fd) && status == 0) status = s_fail ("get", local, errno);
    } else
        status = s_get_file (tool, remote, local, exists ? &st : NULL);
    zstr_free (&target);
    return status;
}

//  Send a put's local input as writes, S_DEPTH in flight, until all of it
//  is through or a call fails. Returns true if interrupted (writes may
//  still be in flight), false when none is.
static bool
s_put_send (s_xfer_t *xfer)
{
    bool more = true;
    while (more || xfer->in_flight) {
        while (more && xfer->in_flight < S_DEPTH && !xfer->error && !xfer->local_error)
            more = s_write_next (xfer);
        if (xfer->error || xfer->local_error) more = false;
        if (xfer->in_flight && s_dispatch (xfer)) return true;
    }
    return false;
}

//  End a put whose writes are over: if all went through, flush the
//  temporary file (xfer->remote) and rename it over remote; if not, remove
//  it as far as the broker lets. Returns the exit status.
static int
s_put_commit (s_xfer_t *xfer, const char *remote, bool interrupted)
{
    int rc = interrupted ? EINTR : xfer->error;
    if (!rc && !xfer->local_error) {
        rc = s_simple (xfer->tool, ZAIO_OP_FSYNC, xfer->remote, NULL, 0, 0);
        if (!rc) rc = s_simple (xfer->tool, ZAIO_OP_RENAME, xfer->remote, remote, 0, 0);
    }
    if (rc || xfer->local_error) {
        //  Best effort: leave no temporary file behind. An interrupt stops
        //  the transfer, not this.
        zsys_interrupted = 0;
        zaio_client_set_timeout (s_client (xfer->tool), S_CLEANUP_MS);
        int why_code = xfer->tool->why_code;
        char why[sizeof xfer->tool->why];
        memcpy (why, xfer->tool->why, sizeof why);
        s_simple (xfer->tool, ZAIO_OP_UNLINK, xfer->remote, NULL, 0, 0);
        //  The failure reported is the put's, not the clean-up's.
        s_keep_why (xfer->tool, why_code, why);
        return rc ? s_fail_remote (xfer->tool, "put", remote, rc)
                  : s_fail ("put", xfer->local, xfer->local_error);
    }
    s_progress_show (&xfer->progress, xfer->moved, true);
    return 0;
}

//  put LOCAL REMOTE (s_commands says how): LOCAL into a temporary file
//  beside REMOTE, renamed over REMOTE once flushed. Returns the exit status.
static int
s_cmd_put (s_tool_t *tool, int argc, char **argv)
{
    bool set[1] = {false};
    int first = s_options ("put", argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (argc - first != 2) return s_usage ("put", "put: needs LOCAL and REMOTE");
    const char *local = argv[first], *remote = argv[first + 1];
    int fd = streq (local, "-") ? STDIN_FILENO : open (local, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return s_fail ("put", local, errno);
    struct stat st;
    if (fstat (fd, &st)) return s_fail ("put", local, errno);
    if (S_ISDIR (st.st_mode)) return s_fail ("put", local, EISDIR);
    int rc = 0;
    size_t chunk = s_chunk_size (tool, &rc);
    if (!chunk) return s_fail_remote (tool, "put", remote, rc);
    if (strlen (remote) + 48 > ZAIO_PATH_MAX) return s_fail ("put", remote, ENAMETOOLONG);

    //  Write a temporary file beside the target, then rename it over the
    //  target: readers see the old file or the whole new one.
    char *temp = s_temp_name (remote, "put");
    s_xfer_t xfer;
    s_xfer_init (&xfer, tool, "put", temp, fd, chunk, local);
    xfer.mode = S_ISREG (st.st_mode) ? (uint32_t)(st.st_mode & 07777) : 0644;
    s_progress_init (&xfer.progress, remote, S_ISREG (st.st_mode) ? (uint64_t)st.st_size : 0);
    bool interrupted = s_put_send (&xfer);
    //  A write still in flight (create: true) would bring the temporary
    //  file back after the unlink in s_put_commit.
    if (interrupted) s_settle (&xfer, S_SETTLE_MS);
    if (fd != STDIN_FILENO) close (fd);
    int status = s_put_commit (&xfer, remote, interrupted);
    zstr_free (&temp);
    return status;
}

//  cp, mv: two paths, one call.
static int
s_cmd_two (s_tool_t *tool, int argc, char **argv, const char *name, zaio_op_t op)
{
    bool set[1] = {false};
    int first = s_options (name, argc, argv, "", set);
    if (first < 0) return EXIT_USAGE;
    if (argc - first != 2) return s_usage (name, "needs SOURCE and DEST");
    int rc = s_simple (tool, op, argv[first], argv[first + 1], 0, 0);
    return rc ? s_fail_remote (tool, name, argv[first], rc) : 0;
}

static int
s_cmd_cp (s_tool_t *tool, int argc, char **argv)
{
    return s_cmd_two (tool, argc, argv, "cp", ZAIO_OP_COPY);
}

static int
s_cmd_mv (s_tool_t *tool, int argc, char **argv)
{
    return s_cmd_two (tool, argc, argv, "mv", ZAIO_OP_RENAME);
}

//  rm, mkdir, rmdir, sync: one call per path.
static int
s_cmd_each (s_tool_t *tool, int argc, char **argv, const char *name, const char *flags)
{
    bool set[2] = {false, false};
    int first = s_options (name, argc, argv, flags, set);
    if (first < 0) return EXIT_USAGE;
    if (first >= argc) return s_usage (name, "which PATH?");
    int status = 0;
    for (int i = first; i < argc; i++) {
        int rc;
        if (streq (name, "mkdir"))
            rc = s_simple (tool, ZAIO_OP_MKDIR, argv[i], NULL, set[0] ? ZAIO_FIELD_PARENTS : 0, 1);
        else if (streq (name, "rmdir"))
            rc = s_simple (tool, ZAIO_OP_RMDIR, argv[i], NULL, 0, 0);
        else
            rc = s_simple (tool, ZAIO_OP_FSYNC, argv[i], NULL, set[0] ? ZAIO_FIELD_DATASYNC : 0, 1);
        if (rc) {
            status = s_fail_remote (tool, name, argv[i], rc);
            if (status != EXIT_FAILED) return status;
        }
    }
    return status;
}

//  True if path names the volume's root ("", ".", "/", "a/..", "./"...).
static bool
s_is_root (const char *path)
{
    int depth = 0;
    for (const char *at = path; *at;) {
        size_t len = strcspn (at, "/");
        if (len == 2 && strncmp (at, "..", 2) == 0)
            depth = depth > 0 ? depth - 1 : 0;
        else if (len && !(len == 1 && *at == '.'))
            depth++;
        at += len;
        while (*at == '/') at++;
        if (depth == 0 && *at == 0) return true;
    }
    return depth == 0;
}

static int s_remove_tree (s_tool_t *tool, const char *path, bool force);

//  Unlink the count entries of dir that are not directories, as one batch.
//  Returns 0 or the exit status after saying which failed (an entry
//  already gone is no failure).
static int
s_remove_files (s_tool_t *tool, const char *dir, const zaio_dirent_t *entries, size_t count)
{
    zaio_request_t *reqs = (zaio_request_t *)calloc (count, sizeof *reqs);
    zaio_call_t **calls = (zaio_call_t **)calloc (count, sizeof *calls);
    char **paths = (char **)calloc (count, sizeof *paths);
    assert (reqs && calls && paths);
    size_t files = 0;
    int status = 0;
    for (size_t i = 0; i < count && !status; i++) {
        if (streq (entries[i].type, "dir")) continue;
        paths[files] = s_join (dir, entries[i].name);
        if (entries[i].name_bin)
            status = s_fail_unnamable (dir, &entries[i]);
        else if (s_request (&reqs[files], ZAIO_OP_UNLINK, paths[files], NULL))
            status = s_fail ("rm", paths[files], ENAMETOOLONG);
        files++;
    }
    int rc = status || !files ? 0 : s_batch (tool, reqs, files, calls);
    if (rc) status = s_fail ("rm", dir, rc);
    for (size_t i = 0; i < files; i++) {
        rc = calls[i] ? zaio_call_error (calls[i]) : 0;
        if (rc && rc != ENOENT && !status) {
            s_keep_why (tool, rc, zaio_call_message (calls[i]));
            status = s_fail_remote (tool, "rm", paths[i], rc);
        }
        zaio_call_destroy (&calls[i]);
        zstr_free (&paths[i]);
    }
    free (paths);
    free (calls);
    free (reqs);
    return status;
}

//  Remove the directory dir and everything in it, a listdir page at a
//  time: the page's files in one batch, then its subdirectories, depth
//  first. Returns 0 or the exit status after saying what failed.
static int
s_remove_dir (s_tool_t *tool, const char *dir)
{
    char after[ZAIO_NAME_MAX + 1] = "";
    bool more = true;
    int status = 0;
    while (more && !status) {
        zaio_dirent_t *entries;
        size_t count;
        int rc = s_listdir (tool, dir, after, &entries, &count, &more);
        if (rc) return s_fail_remote (tool, "rm", dir, rc);
        status = s_remove_files (tool, dir, entries, count);
        zlist_t *subdirs = zlist_new ();
        assert (subdirs);
        zlist_autofree (subdirs);
        for (size_t i = 0; i < count && !status; i++)
            if (streq (entries[i].type, "dir")) {
                char *path = s_join (dir, entries[i].name);
                if (entries[i].name_bin) status = s_fail_unnamable (dir, &entries[i]);
                zlist_append (subdirs, path);
                zstr_free (&path);
            }
        if (count) snprintf (after, sizeof after, "%s", entries[count - 1].name);
        free (entries);
        for (char *path = (char *)zlist_first (subdirs); path && !status;
             path = (char *)zlist_next (subdirs))
            status = s_remove_tree (tool, path, false);
        zlist_destroy (&subdirs);
    }
    if (status) return status;
    int rc = s_simple (tool, ZAIO_OP_RMDIR, dir, NULL, 0, 0);
    return rc ? s_fail_remote (tool, "rm", dir, rc) : 0;
}

//  Remove path, and if it is a directory, everything under it (a symlink
//  is removed, never followed). force: a missing path is no error.
//  Returns 0 or the exit status after saying what failed.
static int
s_remove_tree (s_tool_t *tool, const char *path, bool force)
{
    zaio_stat_t st;
    int rc = s_stat (tool, path, &st);
    if (rc == ENOENT && force) return 0;
    if (rc) return s_fail_remote (tool, "rm", path, rc);
    if (streq (st.type, "dir")) return s_remove_dir (tool, path);
    rc = s_simple (tool, ZAIO_OP_UNLINK, path, NULL, 0, 0);
    if (rc == ENOENT && force) return 0;
    return rc ? s_fail_remote (tool, "rm", path, rc) : 0;
}

//  rm [-f] [-r] PATH...
static int
s_cmd_rm (s_tool_t *tool, int argc, char **argv)
{
    bool set[3] = {false, false, false}; //  -f, -r, -R
    int first = s_options ("rm", argc, argv, "frR", set);
    if (first < 0) return EXIT_USAGE;
    if (first >= argc) return s_usage ("rm", "which PATH?");
    bool force = set[0], recursive = set[1] || set[2];
    int status = 0;
    for (int i = first; i < argc; i++) {
        int rc = 0;
        if (recursive && s_is_root (argv[i])) {
            fprintf (stderr, "zaio: rm -r %s: refusing to remove the volume's root\n",
                     *argv[i] ? argv[i] : "\"\"");
            rc = EXIT_FAILED;
        } else if (recursive)
            rc = s_remove_tree (tool, argv[i], force);
        else {
            int code = s_simple (tool, ZAIO_OP_UNLINK, argv[i], NULL, 0, 0);
            if (code && !(code == ENOENT && force)) rc = s_fail_remote (tool, "rm", argv[i], code);
        }
        if (rc) {
            status = rc;
            if (rc != EXIT_FAILED) return rc;
        }
    }
    return status;
}

static int
s_cmd_mkdir (s_tool_t *tool, int argc, char **argv)
{
    return s_cmd_each (tool, argc, argv, "mkdir", "p");
}

static int
s_cmd_rmdir (s_tool_t *tool, int argc, char **argv)
{
    return s_cmd_each (tool, argc, argv, "rmdir", "");
}

static int
s_cmd_sync (s_tool_t *tool, int argc, char **argv)
{
    return s_cmd_each (tool, argc, argv, "sync", "d");
}

//  A size: digits with an optional K, M, G or T suffix (powers of 1024).
static int
s_parse_size (const char *text, uint64_t *size)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || end == text || *text == '-') return -1;
    int shift = 0;
    switch (*end) {
        case 0:
            break;
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        case 'T':
            shift = 40;
            break;
        default:
            return -1;
    }
    if (*end && end[1]) return -1;
    if (value > (UINT64_MAX >> 1) >> shift) return -1;
    *size = (uint64_t)value << shift;
    return 0;
}

static int
s_cmd_truncate (s_tool_t *tool, int argc, char **argv)
{
    //  Both `truncate -s SIZE PATH` (as coreutils) and `truncate PATH SIZE`.
    const char *path = NULL, *size_text = NULL;
    bool set[1] = {false};
    if (argc >= 2 && streq (argv[1], "-s")) {
        if (argc != 4) return s_usage ("truncate", "truncate: needs SIZE and PATH");
        size_text = argv[2];
        path = argv[3];
    } else {
        int first = s_options ("truncate", argc, argv, "", set);
        if (first < 0) return EXIT_USAGE;
        if (argc - first != 2) return s_usage ("truncate", "truncate: needs PATH and SIZE");
        path = argv[first];
        size_text = argv[first + 1];
    }
    uint64_t size;
    if (s_parse_size (size_text, &size)) return s_usage ("truncate", "truncate: bad SIZE");
    int rc = s_simple (tool, ZAIO_OP_TRUNCATE, path, NULL, ZAIO_FIELD_SIZE, size);
    return rc ? s_fail_remote (tool, "truncate", path, rc) : 0;
}

static void
s_print_event (const zaio_event_t *event, bool json)
{
    uint64_t latency = event->queue_us + event->service_us;
    if (json) {
        const char *outcome = event->error ? "err" : "ok";
        char path[2 * ZAIO_PATH_MAX + 8], worker[300], client[160], volume[140];
        s_json_escape (event->path, path, sizeof path);
        s_json_escape (event->worker, worker, sizeof worker);
        s_json_escape (event->client, client, sizeof client);
        s_json_escape (event->volume, volume, sizeof volume);
        char error[40] = "null";
        if (event->error) snprintf (error, sizeof error, "\"%s\"", zaio_errname (event->error));
        printf (
            "{\"seq\":%" PRIu64 ",\"time_us\":%" PRId64
            ",\"op\":\"%s\",\"path\":\"%s\",\"volume\":\"%s\",\"outcome\":\"%s\","
            "\"error\":%s,\"bytes\":%" PRIu64 ",\"latency_us\":%" PRIu64 ",\"queue_us\":%" PRIu64
            ",\"service_us\":%" PRIu64 ",\"worker\":\"%s\",\"client\":\"%s\",\"id\":%" PRIu64 "}\n",
            event->seq, event->time_us, zaio_op_name (event->op), path, volume, outcome, error,
            event->bytes, latency, event->queue_us, event->service_us, worker, client, event->id);
    } else {
        char when[64];
        s_format_time (event->time_us * 1000, when, sizeof when);
        when[26] = 'Z'; //  microseconds are what the broker measured
        when[27] = 0;
        char result[48];
        if (event->error)
            snprintf (result, sizeof result, "err:%s", zaio_errname (event->error));
        else
            snprintf (result, sizeof result, "ok");
        printf ("%s %-9s %s %s %" PRIu64 "B %" PRIu64 "us %s\n", when, zaio_op_name (event->op),
                *event->path ? event->path : "-", result, event->bytes, latency,
                *event->worker ? event->worker : "-");
    }
}

//  watch's arguments into *json, *count and prefixes (which borrows them
//  from argv). --help prints watch's help and exits. Returns 0, or
//  EXIT_USAGE after printing what is wrong.
static int
s_watch_options (int argc, char **argv, bool *json, long *count, zlist_t *prefixes)
{
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--help") || streq (argv[i], "-h")) {
            s_command_help (s_find ("watch"));
            exit (0);
        } else if (streq (argv[i], "--json"))
            *json = true;
        else if (streq (argv[i], "--count") && i + 1 < argc) {
            char *end;
            *count = strtol (argv[++i], &end, 10);
            if (*end || *count < 1) return s_usage ("watch", "watch: bad --count");
        } else if (argv[i][0] == '-' && argv[i][1])
            return s_usage ("watch", "watch: unknown option");
        else
            zlist_append (prefixes, argv[i]);
    }
    return 0;
}

//  The line saying that the missed events before event were lost.
static void
s_print_missed (uint64_t missed, const zaio_event_t *event, bool json)
{
    if (json)
        printf ("{\"missed\":%" PRIu64 ",\"from_seq\":%" PRIu64 ",\"to_seq\":%" PRIu64 "}\n",
                missed, event->seq - missed, event->seq - 1);
    else
        printf ("-- missed %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64 ")\n", missed,
                event->seq - missed, event->seq - 1);
}

//  The line saying that the broker restarted: event's seq is not after
//  last, the one before it; the count of missed events starts again.
static void
s_print_restart (uint64_t last, const zaio_event_t *event, bool json)
{
    if (json)
        printf ("{\"restart\":true,\"seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 "}\n", event->seq,
                last);
    else
        printf ("-- broker restarted (seq %" PRIu64 " after %" PRIu64 "); events before it are "
                "not counted as missed\n",
                event->seq, last);
}

//  What watch has said about its connection to the events endpoint.
typedef struct {
    const char *endpoint;
    int64_t started;      //  when watch started, for the "no broker yet" line
    uint32_t connections; //  connections made, as last reported
    bool connected;       //  one is up, as last reported
    bool have_seq;        //  an event came (last_seq is its seq)
    uint64_t last_seq;
} s_link_t;

//  Say on stderr what changed in the watcher's connection since the last
//  check: the first connection, a loss, a reconnect (even one quicker than
//  a check, seen from the count of connections), and, once, that no
//  broker answered within ZAIO_CLIENT_CONNECT_TIMEOUT_MS of the start.
static void
s_link_check (s_link_t *link, zaio_watch_t *watch)
{
    uint32_t connections = zaio_watch_connections (watch);
    bool connected = zaio_watch_connected (watch);
    if (link->connected && (!connected || connections > link->connections))
        fprintf (stderr, "zaio: watch: lost the broker at %s; reconnecting\n", link->endpoint);
    if (connections > link->connections)
        fprintf (stderr, "zaio: watch: connected to %s%s\n", link->endpoint,
                 link->connections ? " again" : "");
    if (connections > link->connections && !connected)
        fprintf (stderr, "zaio: watch: lost the broker at %s; reconnecting\n", link->endpoint);
    if (connections == 0 && link->started &&
        zclock_mono () - link->started >= ZAIO_CLIENT_CONNECT_TIMEOUT_MS) {
        fprintf (stderr, "zaio: watch: no broker at %s yet; still trying\n", link->endpoint);
        link->started = 0;
    }
    link->connections = connections;
    link->connected = connected;
}

//  True if event's topic starts with one of prefixes, or prefixes is empty.
static bool
s_watch_wanted (zlist_t *prefixes, const zaio_event_t *event)
{
    bool wanted = zlist_size (prefixes) == 0;
    char topic[128];
    zaio_event_topic (event, topic, sizeof topic);
    for (char *prefix = (char *)zlist_first (prefixes); prefix && !wanted;
         prefix = (char *)zlist_next (prefixes))
        wanted = strncmp (topic, prefix, strlen (prefix)) == 0;
    return wanted;
}

//  watch [--json] [--count N] [PREFIX...]: a line per completion event
//  until interrupted or N are printed. Returns the exit status.
static int
s_cmd_watch (s_tool_t *tool, int argc, char **argv)
{
    bool json = false;
    long count = 0;
    zlist_t *prefixes = zlist_new ();
    int status = s_watch_options (argc, argv, &json, &count, prefixes);
    if (status) {
        zlist_destroy (&prefixes);
        return status;
    }
    zaio_watch_t *watch = zaio_watch_new (tool->events);
    if (!watch) {
        zlist_destroy (&prefixes);
        fprintf (stderr, "zaio: bad events endpoint '%s'\n", tool->events ? tool->events : "");
        return EXIT_USAGE;
    }
    if (s_curve (tool, NULL, watch)) {
        zaio_watch_destroy (&watch);
        zlist_destroy (&prefixes);
        return EXIT_USAGE;
    }
    //  Everything is received and prefixes are matched here, so gaps in
    //  the sequence numbers are real losses, not filtered events.
    zaio_watch_subscribe (watch, "");
    setvbuf (stdout, NULL, _IOLBF, 0);
    s_link_t link = {
        tool->events ? tool->events : s_env (ZAIO_EVENTS_ENV), zclock_mono (), 0, false, false, 0};
    if (!link.endpoint) link.endpoint = ZAIO_DEFAULT_EVENTS;
    long printed = 0;
    while (!zsys_interrupted && (count == 0 || printed < count)) {
        zaio_event_t event;
        int rc = zaio_watch_recv (watch, &event, 500);
        s_link_check (&link, watch);
        if (rc) {
            if (!zaio_watch_error (watch)) continue;
            status = s_fail ("watch", NULL, zaio_watch_error (watch));
            break;
        }
        //  seq runs 1, 2, 3... per broker: a step back is a new one.
        if (link.have_seq && event.seq <= link.last_seq)
            s_print_restart (link.last_seq, &event, json);
        link.have_seq = true;
        link.last_seq = event.seq;
        uint64_t missed = zaio_watch_missed (watch);
        if (missed) s_print_missed (missed, &event, json);
        if (!s_watch_wanted (prefixes, &event)) continue;
        s_print_event (&event, json);
        printed++;
    }
    zaio_watch_destroy (&watch);
    zlist_destroy (&prefixes);
    return status;
}

//  stats [--json]: the broker's stats report, as text or JSON.
static int
s_cmd_stats (s_tool_t *tool, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--help") || streq (argv[i], "-h")) {
            s_command_help (s_find ("stats"));
            exit (0);
        } else if (streq (argv[i], "--json"))
            json = true;
        else
            return s_usage ("stats", "stats: takes --json only");
    }
    zaio_request_t req;
    s_request (&req, ZAIO_OP_STATS, NULL, NULL);
    zaio_stats_report_t *report = NULL;
    int rc = s_call (tool, &req);
    if (!rc) rc = zaio_call_stats (tool->call, &report);
    if (rc) return s_fail_remote (tool, "stats", NULL, rc);
    zaio_top_print_stats (report, json, stdout);
    zaio_stats_report_destroy (&report);
    return 0;
}

//  top [-n COUNT] [--interval MS]: see zaio_top_run.
static int
s_cmd_top (s_tool_t *tool, int argc, char **argv)
{
    zaio_top_options_t options = {1000, 0, ZAIO_STATS_TOP_DEFAULT};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        long value;
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_command_help (s_find ("top"));
            exit (0);
        } else if ((streq (arg, "-n") || streq (arg, "--count")) && i + 1 < argc) {
            if (s_parse_number (argv[++i], LONG_MAX, &value) || value < 1)
                return s_usage ("top", "top: bad COUNT");
            options.count = value;
        } else if (streq (arg, "--interval") && i + 1 < argc) {
            if (s_parse_number (argv[++i], 3600000, &value) || value < 100)
                return s_usage ("top", "top: bad --interval (100 to 3600000 ms)");
            options.interval_ms = (uint32_t)value;
        } else
            return s_usage ("top", "top: unknown option or operand");
    }
    //  A stats call that hangs would freeze the screen: give up on one
    //  after two intervals (2 s at least), and try again at the next.
    zaio_client_t *client = s_client (tool);
    uint32_t patience = options.interval_ms * 2 < 2000 ? 2000 : options.interval_ms * 2;
    zaio_client_set_timeout (
        client, tool->timeout_ms && tool->timeout_ms < patience ? tool->timeout_ms : patience);
    char why[256] = "";
    int rc = zaio_top_run (client, &options, why, sizeof why);
    if (rc) s_keep_why (tool, rc, why);
    return rc ? s_fail_remote (tool, "top", NULL, rc) : 0;
}

//  Create the missing directories above path, private to their owner
//  (they are to hold secret keys). Returns 0, or an errno value.
static int
s_make_parents (const char *path)
{
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s", path);
    for (char *slash = strchr (dir + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (mkdir (dir, 0700) && errno != EEXIST) return errno;
        *slash = '/';
    }
    return 0;
}

//  keygen PATH [NAME]: a new CURVE certificate pair in czmq's format, as
//  zcert_save writes it: PATH holds the public key (and NAME, if given, as
//  its "name" metadata), PATH_secret the secret key too, readable by its
//  owner only. Never overwrites a file: a secret key replaced by mistake
//  cannot be had back. Needs no broker.
static int
s_cmd_keygen (s_tool_t *tool, int argc, char **argv)
{
    int first = s_options ("keygen", argc, argv, "", NULL);
    if (first < 0) return EXIT_USAGE;
    if (argc - first < 1 || argc - first > 2) return s_usage ("keygen", "keygen: PATH [NAME]");
    const char *path = argv[first];
    char *secret = zsys_sprintf ("%s_secret", path);
    int status = 0;
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        fprintf (stderr, "zaio: keygen %s: a certificate is there already; not replaced\n", path);
        status = EXIT_FAILED;
    } else {
        zcert_t *cert = zcert_new ();
        assert (cert);
        if (argc - first == 2) zcert_set_meta (cert, "name", "%s", argv[first + 1]);
        //  zcert writes the secret file with a private umask; the chmod
        //  makes sure whatever the process umask was.
        errno = s_make_parents (path);
        if (errno || zcert_save (cert, path) || chmod (secret, 0600)) {
            fprintf (stderr, "zaio: keygen %s: %s\n", path, strerror (errno));
            status = EXIT_FAILED;
        } else
            printf ("%s\n", zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    zstr_free (&secret);
    return status;
}

//  ---------------------------------------------------------------------
//  The command table and main

static const s_command_t s_commands[] = {
    {"ping", s_cmd_ping, "ping [COUNT]",
     "Ask the broker for an empty reply COUNT times (1) and print the round trip.\n"},
    {"hello", s_cmd_hello, "hello",
     "Print what the broker speaks: version, protocol, limits, ops and volumes.\n"},
    {"stat", s_cmd_stat, "stat PATH...",
     "Print type, size, mode and modification time of each PATH (symlinks not followed).\n"},
    {"ls", s_cmd_ls, "ls [-l] [PATH...]",
     "List the entries of each directory (the root if none), sorted by name.\n"
     "  -l   long form: type (d, -, l, ?) and permissions as ls shows them, size,\n"
     "       modification time (UTC), name; the modes of a page of entries come\n"
     "       from one batch of stats\n"
     "A name that is not UTF-8 is shown escaped: its bytes outside printable ASCII\n"
     "as \\xHH, a backslash as \\\\. No request can name such a file.\n"},
    {"cat", s_cmd_cat, "cat PATH...",
     "Write each file to standard output, fetched in pipelined chunks. No\n"
     "progress bar: it would mix with the content on a terminal.\n"},
    {"get", s_cmd_get, "get REMOTE LOCAL",
     "Copy REMOTE from the broker to the local file LOCAL (into it if a directory;\n"
     "standard output if -), in chunks of up to 4 MiB with 8 in flight, written to a\n"
     "temporary file beside LOCAL, flushed, then renamed over it (keeping the mode\n"
     "of the file it replaces): if the get fails or is interrupted, LOCAL is left\n"
     "as it was. An existing LOCAL that is not a regular file (a fifo, a device) is\n"
     "written directly. A progress bar (bytes, rate, ETA) is shown when standard\n"
     "error is a terminal, unless LOCAL is -.\n"},
    {"put", s_cmd_put, "put LOCAL REMOTE",
     "Copy the local file LOCAL (standard input if -) to REMOTE, in chunks of up to\n"
     "4 MiB with 8 in flight, written to a temporary file beside REMOTE, flushed, then\n"
     "renamed over it: REMOTE is replaced atomically. Progress as for get. REMOTE\n"
     "gets LOCAL's mode; when LOCAL takes more than one chunk, the owner's write bit\n"
     "is added (the broker reopens the file for each chunk, and the protocol has no\n"
     "chmod to drop it after the last).\n"},
    {"cp", s_cmd_cp, "cp SOURCE DEST", "Copy SOURCE to DEST inside the broker.\n"},
    {"mv", s_cmd_mv, "mv SOURCE DEST", "Rename SOURCE to DEST (replacing DEST).\n"},
    {"rm", s_cmd_rm, "rm [-f] [-r] PATH...",
     "Remove files.\n"
     "  -f   a missing file is not an error\n"
     "  -r   (or -R) remove directories and everything under them; symlinks are\n"
     "       removed, never followed; the volume's root is refused\n"},
    {"mkdir", s_cmd_mkdir, "mkdir [-p] PATH...",
     "Create directories.\n  -p   create missing parents; an existing directory is fine\n"},
    {"rmdir", s_cmd_rmdir, "rmdir PATH...", "Remove empty directories.\n"},
    {"truncate", s_cmd_truncate, "truncate -s SIZE PATH  |  truncate PATH SIZE",
     "Set the size of a file. SIZE is bytes, or with a K, M, G or T suffix.\n"},
    {"sync", s_cmd_sync, "sync [-d] PATH...",
     "Flush files or directories to stable storage (fsync).\n  -d   fdatasync instead\n"},
    {"stats", s_cmd_stats, "stats [--json]",
     "Print the broker's counters, gauges and latencies (its stats op): queue depth,\n"
     "jobs running and in flight, held replies, volumes and workers with their\n"
     "load, jobs and bytes per op, outcome and volume since it started, p50 and\n"
     "p99 of queue and service time per op, and the busiest clients. With\n"
     "authentication on, only identities with the monitor grant may ask.\n"
     "  --json     the report as one JSON object\n"},
    {"top", s_cmd_top, "top [-n COUNT] [--interval MS]",
     "A live view of the broker, refreshed every second: jobs/s, bytes/s and\n"
     "errors/s per op and volume, p50/p99 of service and queue time, workers and\n"
     "their load, the busiest clients. Keys: q quit, s next sort column, < >\n"
     "sort column left/right, r reverse, v show one volume (empty: all), h help.\n"
     "When standard output is not a terminal, prints a plain table per refresh.\n"
     "  -n, --count COUNT  exit after COUNT refreshes\n"
     "  --interval MS      refresh every MS milliseconds [1000]\n"},
    {"keygen", s_cmd_keygen, "keygen PATH [NAME]",
     "Make a CURVE certificate pair in czmq's format: PATH (the public key, and\n"
     "NAME as its 'name' metadata) and PATH_secret (the secret key, mode 0600),\n"
     "and print the public key (z85). Missing directories above PATH are made,\n"
     "mode 0700. Existing files are never replaced.\n"},
    {"watch", s_cmd_watch, "watch [--json] [--count N] [PREFIX...]",
     "Print one line per completion event from the broker's events endpoint:\n"
     "time (UTC), op, path, outcome, bytes, latency (queue + service), worker.\n"
     "PREFIXes select topics OUTCOME.OP.VOLUME, e.g. err. or ok.write. (all if\n"
     "none). Lost events (gaps in sequence numbers) are reported as\n"
     "'-- missed N events', a broker restart (a lower sequence number) as\n"
     "'-- broker restarted (seq N after M)'. Standard error says when no broker\n"
     "answers yet, when watch connects, loses the broker, and connects again.\n"
     "Runs until interrupted.\n"
     "  --json     one JSON object per line instead\n"
     "  --count N  exit after N events\n"},
};
#define S_COMMAND_COUNT (sizeof (s_commands) / sizeof (s_commands[0]))

static const s_command_t *
s_find (const char *name)
{
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        if (streq (s_commands[i].name, name)) return &s_commands[i];
    return NULL;
}

static void
s_help (void)
{
    printf ("usage: zaio [OPTIONS] COMMAND [ARGS...]\n\n"
            "Talk to a zaio broker: file IO done by the broker, over ZeroMQ.\n\n"
            "Options:\n"
            "  -c, --connect ENDPOINT  broker endpoint [$" ZAIO_ENDPOINT_ENV
            ", else " ZAIO_DEFAULT_ENDPOINT "]\n"
            "  -e, --events ENDPOINT   events endpoint for watch [$" ZAIO_EVENTS_ENV
            ", else " ZAIO_DEFAULT_EVENTS "]\n"
            "  -t, --timeout MS        per-request timeout [30000]\n"
            "  -r, --retries N         resends/reconnects after losing the broker [3]\n"
            "      --retry-ms MS       reconnect for this long after losing the broker,\n"
            "                          even past --retries (a broker restart) [5000]\n"
            "  -v, --volume NAME       volume the paths live on [$ZAIO_VOLUME, else the\n"
            "                          broker's default volume]\n"
            "      --curve-server FILE the broker's public CURVE certificate [$ZAIO_CURVE_SERVER]\n"
            "      --curve-cert FILE   this client's secret CURVE certificate (from zaio\n"
            "                          keygen; FILE or FILE_secret) [$ZAIO_CURVE_CERT]; with\n"
            "                          both, every command, watch too, uses CURVE\n"
            "  -h, --help              this help; zaio COMMAND --help for a command's\n"
            "  -V, --version           print the version\n\n"
            "Commands:\n");
    for (size_t i = 0; i < S_COMMAND_COUNT; i++) printf ("  %s\n", s_commands[i].synopsis);
    printf ("\nErrors are printed as 'zaio: OP PATH: NAME (explanation)', e.g. 'zaio: stat\n"
            "a.txt: ENOENT (No such file or directory)'; the explanation names the volume\n"
            "(NOVOLUME) or the broker's endpoint (UNREACHABLE, TIMEOUT, CONNLOST, AUTH).\n"
            "Exit status:\n"
            "  0    success\n"
            "  1    the operation failed (an error from the broker, or a local file error)\n"
            "  2    usage error\n"
            "  3    broker unreachable (no answer, connection lost, or timed out)\n"
            "  4    AUTH: the broker refused this client's credentials (CURVE key unknown\n"
            "       or not allowed, or CURVE on one side only)\n"
            "  130  interrupted\n");
}

//  True if the global option name takes a value, after '=' or as the next
//  argument.
static bool
s_takes_value (const char *name)
{
    return streq (name, "-c") || streq (name, "--connect") || streq (name, "-e") ||
           streq (name, "--events") || streq (name, "-t") || streq (name, "--timeout") ||
           streq (name, "-r") || streq (name, "--retries") || streq (name, "--retry-ms") ||
           streq (name, "-v") || streq (name, "--volume") || streq (name, "--curve-server") ||
           streq (name, "--curve-cert");
}

//  The global option at argv[*at] into tool; *at moves past its value if
//  that is the next argument. Returns -1 to go on, or the exit status: 0
//  after --help or --version, EXIT_USAGE after printing what is wrong.
static int
s_global_option (s_tool_t *tool, int argc, char **argv, int *at)
{
    const char *arg = argv[*at];
    const char *value = NULL;
    const char *equals = strchr (arg, '=');
    char name[32];
    snprintf (name, sizeof name, "%.*s", equals ? (int)(equals - arg) : (int)strlen (arg), arg);
    if (s_takes_value (name)) {
        value = equals ? equals + 1 : (*at + 1 < argc ? argv[++*at] : NULL);
        if (!value) return s_usage (NULL, "option needs a value");
    }
    long number;
    if (streq (name, "-h") || streq (name, "--help")) {
        s_help ();
        return 0;
    } else if (streq (name, "-V") || streq (name, "--version")) {
        printf ("zaio %s\n", ZAIO_VERSION_STRING);
        return 0;
    } else if (streq (name, "-c") || streq (name, "--connect"))
        tool->endpoint = value;
    else if (streq (name, "-e") || streq (name, "--events"))
        tool->events = value;
    else if (streq (name, "-v") || streq (name, "--volume"))
        tool->volume = value;
    else if (streq (name, "--curve-server"))
        tool->curve_server = value;
    else if (streq (name, "--curve-cert"))
        tool->curve_cert = value;
    else if (streq (name, "-t") || streq (name, "--timeout")) {
        if (s_parse_number (value, LONG_MAX, &number)) return s_usage (NULL, "bad --timeout");
        tool->timeout_ms = (uint32_t)number;
    } else if (streq (name, "-r") || streq (name, "--retries")) {
        if (s_parse_number (value, 100, &number)) return s_usage (NULL, "bad --retries");
        tool->retries = (int)number;
    } else if (streq (name, "--retry-ms")) {
        if (s_parse_number (value, UINT32_MAX, &number)) return s_usage (NULL, "bad --retry-ms");
        tool->retry_ms = number;
    } else {
        char problem[96];
        snprintf (problem, sizeof problem, "unknown option '%s'", arg);
        return s_usage (NULL, problem);
    }
    return -1;
}

//  Run the command argv[0] with its arguments, or print help: "help" alone
//  for all, "help COMMAND" for one. Returns the exit status: EXIT_USAGE for
//  an unknown command (printed), and a failure to write stdout fails a
//  command that succeeded.
static int
s_run_command (s_tool_t *tool, int argc, char **argv)
{
    if (streq (argv[0], "help")) {
        const s_command_t *cmd = argc > 1 ? s_find (argv[1]) : NULL;
        if (cmd)
            s_command_help (cmd);
        else
            s_help ();
        return 0;
    }
    const s_command_t *cmd = s_find (argv[0]);
    if (!cmd) {
        char problem[96];
        snprintf (problem, sizeof problem, "unknown command '%.40s'", argv[0]);
        return s_usage (NULL, problem);
    }
    int status = cmd->run (tool, argc, argv);
    zaio_call_destroy (&tool->call);
    zaio_client_destroy (&tool->client);
    if (fflush (stdout) && status == 0) status = s_fail (cmd->name, "(stdout)", errno);
    return status;
}

int
main (int argc, char *argv[])
{
    s_tool_t tool = {NULL,
                     NULL,
                     ZAIO_CLIENT_TIMEOUT_MS,
                     -1,
                     -1,
                     NULL,
                     getenv ("ZAIO_VOLUME"),
                     s_env ("ZAIO_CURVE_SERVER"),
                     s_env ("ZAIO_CURVE_CERT"),
                     NULL,
                     0,
                     ""};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        int status = s_global_option (&tool, argc, argv, &i);
        if (status >= 0) return status;
    }
    if (i >= argc) return s_usage (NULL, "which command?");
    return s_run_command (&tool, argc - i, argv + i);
}
