/*  zaio_load.c: a mixed, checkable job load; see zaio_load.h. */

#include "zaio_load.h"
#include "zaio_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_READ_FILES  16    //  read fixtures per volume
#define S_READ_SIZE   16384 //  bytes in each
#define S_READ_MAX    4096  //  longest read
#define S_LIST_FILES  12    //  entries in the listdir fixture
#define S_APPEND_LOGS 4     //  append targets per volume
#define S_PAYLOAD_MAX 3000  //  longest data frame a job sends
#define S_WRITE_STEP  512   //  write offsets are multiples of this
#define S_LINGER_MS   300   //  quiet time after the last reply, for strays
#define S_EVENTS_MS   5000  //  longest wait for the last events
#define S_PRIME_MS    10000 //  longest wait for the event stream to start
#define S_CALL_MS     10000 //  longest wait for a reply outside a run

//  What job i does; a pure function of i, so fixtures and checks agree.
typedef struct {
    zaio_op_t op;
    uint32_t volume;
    uint32_t file;   //  read, stat, readfile: fixture; append: log
    uint64_t offset; //  read, write
    uint64_t length; //  read: bytes asked; write, writefile, append: bytes sent
} s_plan_t;

typedef struct {
    s_plan_t plan;
    uint32_t client;
    uint32_t replies;
    uint32_t events;
    bool sent;
    int error;       //  from the reply
    int event_error; //  from the event
    uint64_t offset; //  append: where the reply says it landed
} s_job_t;

typedef struct {
    const zaio_load_config_t *config;
    zaio_load_result_t *result;
    s_job_t *jobs;
    zsock_t **clients;
    char **client_keys; //  hex routing ids, as events name clients
    uint32_t *inflight;
    zsock_t *events;
    uint64_t last_seq;
    uint32_t next;
    bool killed;
    uint64_t prime_id; //  ids above jobs are pings that start the event stream
    bool primed;
} s_run_t;

//  ---------------------------------------------------------------------
//  Plans, payloads, fixtures

static uint64_t
s_mix (uint64_t x)
{
    //  splitmix64: a well-spread hash of the job number.
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void
s_plan (uint32_t i, s_plan_t *plan)
{
    uint64_t r = s_mix (i);
    memset (plan, 0, sizeof *plan);
    plan->volume = r % 3 == 0 ? 1 : 0; //  two thirds on the volume that loses a worker
    uint32_t pick = (uint32_t)((r >> 8) % 100);
    static const struct {
        uint32_t below;
        zaio_op_t op;
    } mix[] = {{25, ZAIO_OP_READ},     {35, ZAIO_OP_STAT},      {40, ZAIO_OP_LISTDIR},
               {50, ZAIO_OP_READFILE}, {62, ZAIO_OP_WRITEFILE}, {72, ZAIO_OP_WRITE},
               {82, ZAIO_OP_APPEND},   {88, ZAIO_OP_UNLINK},    {94, ZAIO_OP_RENAME},
               {100, ZAIO_OP_MKDIR}};
    size_t k = 0;
    while (pick >= mix[k].below) k++;
    plan->op = mix[k].op;
    uint64_t s = r >> 16;
    switch (plan->op) {
        case ZAIO_OP_READ:
            plan->file = (uint32_t)(s % S_READ_FILES);
            plan->length = 1 + (s >> 8) % S_READ_MAX;
            plan->offset = (s >> 24) % (S_READ_SIZE - plan->length + 1);
            break;
        case ZAIO_OP_STAT:
        case ZAIO_OP_READFILE:
            plan->file = (uint32_t)(s % S_READ_FILES);
            break;
        case ZAIO_OP_WRITE:
            plan->offset = (s % 4) * S_WRITE_STEP;
            plan->length = 1 + (s >> 8) % S_PAYLOAD_MAX;
            break;
        case ZAIO_OP_WRITEFILE:
            plan->length = (s >> 8) % S_PAYLOAD_MAX;
            break;
        case ZAIO_OP_APPEND:
            plan->file = (uint32_t)(s % S_APPEND_LOGS);
            plan->length = 1 + (s >> 8) % 200;
            break;
        default:
            break;
    }
}

static uint8_t
s_fixture_byte (uint32_t file, uint64_t at)
{
    return (uint8_t)(at * 31 + file * 17 + (at >> 9));
}

static uint8_t
s_payload_byte (uint32_t job, uint64_t at)
{
    return (uint8_t)('a' + (job * 7 + at * 13) % 26);
}

static void
s_payload (uint32_t job, uint64_t length, uint8_t *out)
{
    for (uint64_t at = 0; at < length; at++) out[at] = s_payload_byte (job, at);
}

//  Path of job i's target under tag (to: rename's destination instead).
static void
s_job_path (const char *tag, uint32_t i, const s_plan_t *plan, char *path, size_t size, bool to)
{
    switch (plan->op) {
        case ZAIO_OP_READ:
        case ZAIO_OP_STAT:
        case ZAIO_OP_READFILE:
            snprintf (path, size, "%s/r/%u", tag, plan->file);
            break;
        case ZAIO_OP_LISTDIR:
            snprintf (path, size, "%s/l", tag);
            break;
        case ZAIO_OP_WRITEFILE:
            snprintf (path, size, "%s/f/%u", tag, i);
            break;
        case ZAIO_OP_WRITE:
            snprintf (path, size, "%s/w/%u", tag, i);
            break;
        case ZAIO_OP_APPEND:
            snprintf (path, size, "%s/a/%u", tag, plan->file);
            break;
        case ZAIO_OP_UNLINK:
            snprintf (path, size, "%s/u/%u", tag, i);
            break;
        case ZAIO_OP_RENAME:
            snprintf (path, size, "%s/n/%u%s", tag, i, to ? ".to" : "");
            break;
        case ZAIO_OP_MKDIR:
            snprintf (path, size, "%s/m/%u", tag, i);
            break;
        default:
            snprintf (path, size, "%s", tag);
            break;
    }
}

static int
s_write_whole (const char *path, const void *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    ssize_t wrote = write (fd, data, size);
    close (fd);
    return wrote == (ssize_t)size ? 0 : -1;
}

//  Whole file into a new buffer (caller frees); NULL if it cannot be read.
static uint8_t *
s_read_whole (const char *path, size_t *size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat (fd, &st) == 0 && (data = (uint8_t *)malloc ((size_t)st.st_size + 1)))
        if (pread (fd, data, (size_t)st.st_size, 0) != st.st_size) {
            free (data);
            data = NULL;
        }
    close (fd);
    if (data) *size = (size_t)st.st_size;
    return data;
}

static void
s_rename_content (uint32_t i, char *out, size_t size)
{
    snprintf (out, size, "rename source of job %u\n", i);
}

//  CURVE keys for every socket, once zaio_load_set_curve has been called.
static zcert_t *s_curve_server;
static zcert_t *s_curve_own;

int
zaio_load_set_curve (const char *server_cert, const char *client_cert)
{
    zcert_destroy (&s_curve_server);
    zcert_destroy (&s_curve_own);
    s_curve_server = zcert_load (server_cert);
    s_curve_own = zcert_load (client_cert);
    return s_curve_server && s_curve_own && zcert_meta (s_curve_own, "name") ? 0 : -1;
}

//  A new socket of type, with the CURVE keys if there are any.
static zsock_t *
s_socket (int type)
{
    zsock_t *sock = zsock_new (type);
    assert (sock);
    if (s_curve_own) {
        zcert_apply (s_curve_own, sock);
        zsock_set_curve_serverkey (sock, zcert_public_txt (s_curve_server));
    }
    return sock;
}

int
zaio_load_prepare (const zaio_load_config_t *config)
{
    static const char *subdirs[] = {"", "/r", "/l", "/f", "/w", "/a", "/u", "/n", "/m"};
    char path[1024];
    uint8_t data[S_READ_SIZE];
    for (uint32_t v = 0; v < ZAIO_LOAD_VOLUMES; v++) {
        for (size_t d = 0; d < sizeof subdirs / sizeof subdirs[0]; d++) {
            snprintf (path, sizeof path, "%s/%s%s", config->dir[v], config->tag, subdirs[d]);
            if (mkdir (path, 0755) && errno != EEXIST) return -1;
        }
        for (uint32_t k = 0; k < S_READ_FILES; k++) {
            for (uint64_t at = 0; at < S_READ_SIZE; at++) data[at] = s_fixture_byte (k, at);
            snprintf (path, sizeof path, "%s/%s/r/%u", config->dir[v], config->tag, k);
            if (s_write_whole (path, data, S_READ_SIZE)) return -1;
        }
        for (uint32_t k = 0; k < S_LIST_FILES; k++) {
            snprintf (path, sizeof path, "%s/%s/l/entry-%02u", config->dir[v], config->tag, k);
            if (s_write_whole (path, "x", 1)) return -1;
        }
    }
    for (uint32_t i = 0; i < config->jobs; i++) {
        s_plan_t plan;
        s_plan (i, &plan);
        if (plan.op != ZAIO_OP_UNLINK && plan.op != ZAIO_OP_RENAME) continue;
        char relative[256], content[64];
        s_job_path (config->tag, i, &plan, relative, sizeof relative, false);
        snprintf (path, sizeof path, "%s/%s", config->dir[plan.volume], relative);
        s_rename_content (i, content, sizeof content);
        if (s_write_whole (path, content, strlen (content))) return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Reporting

static void s_violation (s_run_t *run, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_violation (s_run_t *run, const char *format, ...)
{
    //  The first few in full; then only counted, so a broken run stays readable.
    if (run->result->violations++ < 20) {
        va_list args;
        va_start (args, format);
        fprintf (stderr, "load %s: VIOLATION: ", run->config->tag);
        vfprintf (stderr, format, args);
        fprintf (stderr, "\n");
        va_end (args);
    }
}

static const char *
s_job_text (s_run_t *run, uint32_t i, char *buf, size_t size)
{
    const s_plan_t *plan = &run->jobs[i].plan;
    char path[256];
    s_job_path (run->config->tag, i, plan, path, sizeof path, false);
    snprintf (buf, size, "job %u (%s %s:%s)", i + 1, zaio_op_name (plan->op),
              run->config->volume[plan->volume], path);
    return buf;
}

//  ---------------------------------------------------------------------
//  Sending

static void
s_send (s_run_t *run, uint32_t c, uint32_t i)
{
    s_job_t *job = &run->jobs[i];
    const s_plan_t *plan = &job->plan;
    zaio_request_t req;
    zaio_request_init (&req, plan->op, (uint64_t)i + 1);
    char path[256];
    s_job_path (run->config->tag, i, plan, path, sizeof path, false);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
    zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, run->config->volume[plan->volume]);
    if (plan->op == ZAIO_OP_READ) {
        zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, plan->offset);
        zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, plan->length);
    } else if (plan->op == ZAIO_OP_WRITE) {
        zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, plan->offset);
        zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    } else if (plan->op == ZAIO_OP_APPEND)
        zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    else if (plan->op == ZAIO_OP_RENAME) {
        s_job_path (run->config->tag, i, plan, path, sizeof path, true);
        zaio_request_set_str (&req, ZAIO_FIELD_TO, path);
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    if (zaio_op_takes_data (plan->op)) {
        zframe_t *data = zframe_new (NULL, plan->length);
        s_payload (i, plan->length, zframe_data (data));
        zmsg_append (msg, &data);
    }
    int rc = zmsg_send (&msg, run->clients[c]);
    assert (rc == 0); //  sndhwm 0: a DEALER with a peer queues without limit
    job->sent = true;
    job->client = c;
    run->inflight[c]++;
}

static void
s_send_ping (zsock_t *client, uint64_t id, const char *volume)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    if (volume) zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    if (zmsg_send (&msg, client)) zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Replies

static void
s_check_ok (s_run_t *run, uint32_t i, const zaio_reply_t *reply, zframe_t *data)
{
    s_job_t *job = &run->jobs[i];
    const s_plan_t *plan = &job->plan;
    char text[400];
    bool good = true;
    switch (plan->op) {
        case ZAIO_OP_READ:
            good = data && zframe_size (data) == plan->length && reply->bytes == plan->length;
            for (uint64_t at = 0; good && at < plan->length; at++)
                good = zframe_data (data)[at] == s_fixture_byte (plan->file, plan->offset + at);
            break;
        case ZAIO_OP_READFILE:
            good = data && zframe_size (data) == S_READ_SIZE;
            for (uint64_t at = 0; good && at < S_READ_SIZE; at++)
                good = zframe_data (data)[at] == s_fixture_byte (plan->file, at);
            break;
        case ZAIO_OP_STAT:
            good = reply->size == S_READ_SIZE && streq (reply->type, "file");
            break;
        case ZAIO_OP_LISTDIR: {
            zaio_cursor_t cursor;
            uint32_t count = 0;
            zaio_cursor_init (&cursor, reply->entries, reply->entries_size);
            good = reply->entries && zaio_cursor_array (&cursor, &count) == 0 &&
                   count == S_LIST_FILES && !reply->more;
            break;
        }
        case ZAIO_OP_WRITE:
        case ZAIO_OP_WRITEFILE:
            good = reply->bytes == plan->length;
            break;
        case ZAIO_OP_APPEND:
            good = reply->bytes == plan->length && (reply->present & ZAIO_RESULT_OFFSET);
            job->offset = reply->offset;
            break;
        default:
            break;
    }
    if (!good) s_violation (run, "%s: wrong result", s_job_text (run, i, text, sizeof text));
    run->result->ok++;
    if (zaio_op_idempotent (plan->op)) run->result->idempotent_ok++;
}

static void
s_check_error (s_run_t *run, uint32_t i, const zaio_reply_t *reply)
{
    const zaio_load_config_t *config = run->config;
    const s_plan_t *plan = &run->jobs[i].plan;
    char text[400];
    s_job_text (run, i, text, sizeof text);
    if (reply->error != ZAIO_ERR_UNKNOWN_OUTCOME) {
        s_violation (run, "%s answered %s: %s", text, zaio_error_name (reply->error),
                     reply->message);
        return;
    }
    run->result->unknown_outcome++;
    //  The broker names the lost worker: "worker HOST/PID/SLOT lost ...".
    char prefix[160] = "";
    if (config->kill_name) snprintf (prefix, sizeof prefix, "worker %s/", config->kill_name);
    if (zaio_op_idempotent (plan->op))
        s_violation (run, "%s is idempotent, yet answered UNKNOWN_OUTCOME: %s", text,
                     reply->message);
    else if (!run->killed || config->kill_signal != SIGKILL)
        s_violation (run, "%s answered UNKNOWN_OUTCOME though no worker was killed: %s", text,
                     reply->message);
    else if (plan->volume != 0)
        s_violation (run, "%s answered UNKNOWN_OUTCOME on a volume that lost no worker: %s", text,
                     reply->message);
    else if (!*prefix || strncmp (reply->message, prefix, strlen (prefix)))
        s_violation (run, "%s answered UNKNOWN_OUTCOME not naming the killed worker %s: %s", text,
                     config->kill_name ? config->kill_name : "?", reply->message);
}

static void
s_on_reply (s_run_t *run, uint32_t c, zmsg_t *msg)
{
    zframe_t *signature = zmsg_first (msg);
    zframe_t *header = zmsg_next (msg);
    zframe_t *data = zmsg_next (msg);
    zaio_reply_t reply;
    char why[128];
    if (!signature || !header || !zframe_streq (signature, ZAIO_SIGNATURE) ||
        zaio_reply_decode (&reply, zframe_data (header), zframe_size (header), why, sizeof why)) {
        s_violation (run, "client %u: undecodable reply", c);
        return;
    }
    if (reply.id > run->config->jobs && reply.id <= run->prime_id) return; //  a priming ping
    if (reply.id == 0 || reply.id > run->config->jobs) {
        s_violation (run, "client %u: reply with unknown id %" PRIu64, c, reply.id);
        return;
    }
    uint32_t i = (uint32_t)(reply.id - 1);
    s_job_t *job = &run->jobs[i];
    char text[400];
    if (!job->sent || job->client != c) {
        s_violation (run, "%s: reply on client %u, which did not send it",
                     s_job_text (run, i, text, sizeof text), c);
        return;
    }
    if (job->replies++) {
        s_violation (run, "%s: second reply (%s)", s_job_text (run, i, text, sizeof text),
                     reply.ok ? "ok" : zaio_error_name (reply.error));
        return;
    }
    run->inflight[c]--;
    run->result->answered++;
    job->error = reply.ok ? 0 : reply.error;
    if (reply.ok)
        s_check_ok (run, i, &reply, data);
    else
        s_check_error (run, i, &reply);
}

//  ---------------------------------------------------------------------
//  Events

static void
s_worker_count (zaio_load_result_t *result, uint32_t volume, const char *name)
{
    for (uint32_t w = 0; w < result->worker_count[volume]; w++)
        if (streq (result->workers[volume][w].name, name)) {
            result->workers[volume][w].jobs++;
            return;
        }
    if (result->worker_count[volume] < ZAIO_LOAD_WORKERS_MAX) {
        zaio_load_worker_t *worker = &result->workers[volume][result->worker_count[volume]++];
        snprintf (worker->name, sizeof worker->name, "%s", name);
        worker->jobs = 1;
    }
}

static void
s_on_event (s_run_t *run, zmsg_t *msg)
{
    zframe_t *topic = zmsg_first (msg);
    zframe_t *signature = zmsg_next (msg);
    zframe_t *body = zmsg_next (msg);
    zaio_event_t event;
    if (!topic || !signature || !body || !zframe_streq (signature, ZAIO_SIGNATURE) ||
        zaio_event_decode (&event, zframe_data (body), zframe_size (body))) {
        s_violation (run, "undecodable event");
        return;
    }
    uint32_t c = 0;
    while (c < run->config->clients && !streq (event.client, run->client_keys[c])) c++;
    bool ours = c < run->config->clients;
    if (ours && event.id > run->config->jobs && event.id <= run->prime_id && !run->primed) {
        run->primed = true; //  the stream is flowing; count from here
        run->last_seq = event.seq;
        return;
    }
    if (!run->primed) return;
    if (event.seq != run->last_seq + 1)
        s_violation (run, "event seq %" PRIu64 " after %" PRIu64 " (lost or reordered)", event.seq,
                     run->last_seq);
    run->last_seq = event.seq;
    if (!ours || event.id == 0 || event.id > run->config->jobs) return;
    uint32_t i = (uint32_t)(event.id - 1);
    s_job_t *job = &run->jobs[i];
    char text[400];
    s_job_text (run, i, text, sizeof text);
    if (job->events++) {
        s_violation (run, "%s: second event", text);
        return;
    }
    run->result->events++;
    job->event_error = event.error;
    if (event.op != job->plan.op || !streq (event.volume, run->config->volume[job->plan.volume]))
        s_violation (run, "%s: event says %s on %s", text, zaio_op_name (event.op), event.volume);
    if (event.error == 0) {
        if (!*event.worker)
            s_violation (run, "%s: ok event names no worker", text);
        else
            s_worker_count (run->result, job->plan.volume, event.worker);
    }
}

//  ---------------------------------------------------------------------
//  Checking the volumes' directories

typedef struct {
    uint64_t acknowledged; //  bytes of acknowledged appends
    uint64_t unknown;      //  bytes of appends with unknown outcome
} s_log_t;

static void
s_check_disk (s_run_t *run)
{
    const zaio_load_config_t *config = run->config;
    s_log_t logs[ZAIO_LOAD_VOLUMES][S_APPEND_LOGS];
    memset (logs, 0, sizeof logs);
    uint8_t *expected = (uint8_t *)malloc (S_PAYLOAD_MAX + S_WRITE_STEP * 4);
    assert (expected);
    for (uint32_t i = 0; i < config->jobs; i++) {
        s_job_t *job = &run->jobs[i];
        const s_plan_t *plan = &job->plan;
        if (zaio_op_idempotent (plan->op) || job->replies == 0) continue;
        bool acknowledged = job->error == 0;
        bool unknown = job->error == ZAIO_ERR_UNKNOWN_OUTCOME;
        char relative[256], path[1300], text[400];
        s_job_path (config->tag, i, plan, relative, sizeof relative, false);
        snprintf (path, sizeof path, "%s/%s", config->dir[plan->volume], relative);
        s_job_text (run, i, text, sizeof text);
        struct stat st;
        size_t size = 0;
        uint8_t *content = NULL;
        bool good = true;
        switch (plan->op) {
            case ZAIO_OP_WRITEFILE:
                //  Atomic: after an unknown outcome, all of it or nothing.
                content = s_read_whole (path, &size);
                s_payload (i, plan->length, expected);
                if (acknowledged || content)
                    good = content && size == plan->length && memcmp (content, expected, size) == 0;
                break;
            case ZAIO_OP_WRITE:
                if (!acknowledged) break;
                content = s_read_whole (path, &size);
                memset (expected, 0, plan->offset);
                s_payload (i, plan->length, expected + plan->offset);
                good = content && size == plan->offset + plan->length &&
                       memcmp (content, expected, size) == 0;
                break;
            case ZAIO_OP_APPEND:
                if (unknown) logs[plan->volume][plan->file].unknown += plan->length;
                if (!acknowledged) break;
                logs[plan->volume][plan->file].acknowledged += plan->length;
                content = s_read_whole (path, &size);
                s_payload (i, plan->length, expected);
                good = content && job->offset + plan->length <= size &&
                       memcmp (content + job->offset, expected, plan->length) == 0;
                break;
            case ZAIO_OP_UNLINK:
                if (acknowledged) good = lstat (path, &st) == -1 && errno == ENOENT;
                break;
            case ZAIO_OP_RENAME:
                if (acknowledged) {
                    char to[1300], moved[64];
                    s_job_path (config->tag, i, plan, relative, sizeof relative, true);
                    snprintf (to, sizeof to, "%s/%s", config->dir[plan->volume], relative);
                    s_rename_content (i, moved, sizeof moved);
                    content = s_read_whole (to, &size);
                    good = lstat (path, &st) == -1 && content && size == strlen (moved) &&
                           memcmp (content, moved, size) == 0;
                }
                break;
            case ZAIO_OP_MKDIR:
                if (acknowledged) good = stat (path, &st) == 0 && S_ISDIR (st.st_mode);
                break;
            default:
                break;
        }
        free (content);
        if (acknowledged) run->result->changes_checked++;
        if (!good)
            s_violation (run, "%s: %s, but the volume's directory disagrees", text,
                         acknowledged ? "acknowledged" : "unknown outcome");
    }
    //  Appends ran at most once: each log holds the acknowledged appends
    //  and at most the unknown ones, nothing more.
    for (uint32_t v = 0; v < ZAIO_LOAD_VOLUMES; v++)
        for (uint32_t k = 0; k < S_APPEND_LOGS; k++) {
            char path[1300];
            snprintf (path, sizeof path, "%s/%s/a/%u", config->dir[v], config->tag, k);
            struct stat st;
            uint64_t size = stat (path, &st) == 0 ? (uint64_t)st.st_size : 0;
            s_log_t *log = &logs[v][k];
            if (size < log->acknowledged || size > log->acknowledged + log->unknown)
                s_violation (run,
                             "%s: %" PRIu64 " bytes, but %" PRIu64 " acknowledged and %" PRIu64
                             " unknown were appended",
                             path, size, log->acknowledged, log->unknown);
        }
    free (expected);
}

//  ---------------------------------------------------------------------
//  The run

static void
s_drain_clients (s_run_t *run, zmq_pollitem_t *items)
{
    for (uint32_t c = 0; c < run->config->clients; c++) {
        if (!(items[c].revents & ZMQ_POLLIN)) continue;
        zmsg_t *msg;
        while ((zsock_events (run->clients[c]) & ZMQ_POLLIN) &&
               (msg = zmsg_recv (run->clients[c]))) {
            s_on_reply (run, c, msg);
            zmsg_destroy (&msg);
        }
    }
}

static void
s_drain_events (s_run_t *run)
{
    if (!run->events) return;
    zmsg_t *msg;
    while ((zsock_events (run->events) & ZMQ_POLLIN) && (msg = zmsg_recv (run->events))) {
        s_on_event (run, msg);
        zmsg_destroy (&msg);
    }
}

//  Polls every socket once for up to timeout_ms and handles what came.
static void
s_poll (s_run_t *run, zmq_pollitem_t *items, int timeout_ms)
{
    uint32_t count = run->config->clients + (run->events ? 1 : 0);
    if (zmq_poll (items, (int)count, timeout_ms) <= 0) return;
    s_drain_clients (run, items);
    if (run->events && (items[run->config->clients].revents & ZMQ_POLLIN)) s_drain_events (run);
}

//  Pings until our own event comes back, so no event of the run is lost
//  to the subscription's slow start.
static void
s_prime_events (s_run_t *run, zmq_pollitem_t *items)
{
    int64_t until = zclock_mono () + S_PRIME_MS;
    int64_t next_ping = 0;
    while (!run->primed && zclock_mono () < until) {
        if (zclock_mono () >= next_ping) {
            s_send_ping (run->clients[0], ++run->prime_id, NULL);
            next_ping = zclock_mono () + 100;
        }
        s_poll (run, items, 20);
    }
    if (!run->primed) s_violation (run, "no completion event within %d ms", S_PRIME_MS);
}

static void
s_summary (s_run_t *run)
{
    const zaio_load_config_t *config = run->config;
    zaio_load_result_t *result = run->result;
    printf ("load %s: %u jobs in %.2f s (%.0f/s): %u ok (%u idempotent), %u UNKNOWN_OUTCOME, "
            "%u changes read back, %u events\n",
            config->tag, result->answered, result->seconds, result->jobs_per_sec, result->ok,
            result->idempotent_ok, result->unknown_outcome, result->changes_checked,
            result->events);
    for (uint32_t v = 0; v < ZAIO_LOAD_VOLUMES; v++) {
        printf ("load %s:   %s ran on", config->tag, config->volume[v]);
        for (uint32_t w = 0; w < result->worker_count[v]; w++)
            printf (" %s (%u)", result->workers[v][w].name, result->workers[v][w].jobs);
        printf ("\n");
    }
}

uint32_t
zaio_load_run (const zaio_load_config_t *config, zaio_load_result_t *result)
{
    assert (config->jobs && config->clients && config->window);
    memset (result, 0, sizeof *result);
    s_run_t run_struct = {.config = config, .result = result, .prime_id = config->jobs};
    s_run_t *run = &run_struct;
    run->jobs = (s_job_t *)calloc (config->jobs, sizeof (s_job_t));
    run->clients = (zsock_t **)calloc (config->clients, sizeof (zsock_t *));
    run->client_keys = (char **)calloc (config->clients, sizeof (char *));
    run->inflight = (uint32_t *)calloc (config->clients, sizeof (uint32_t));
    zmq_pollitem_t *items = (zmq_pollitem_t *)calloc (config->clients + 1, sizeof *items);
    assert (run->jobs && run->clients && run->client_keys && run->inflight && items);
    for (uint32_t i = 0; i < config->jobs; i++) s_plan (i, &run->jobs[i].plan);
    for (uint32_t c = 0; c < config->clients; c++) {
        zsock_t *client = s_socket (ZMQ_DEALER);
        char routing_id[128];
        snprintf (routing_id, sizeof routing_id, "load-%s-%d-%u", config->tag, (int)getpid (), c);
        zsock_set_identity (client, routing_id);
        zframe_t *id_frame = zframe_new (routing_id, strlen (routing_id));
        //  Over CURVE, events name the client by its certificate's name.
        run->client_keys[c] =
            s_curve_own ? strdup (zcert_meta (s_curve_own, "name")) : zframe_strhex (id_frame);
        zframe_destroy (&id_frame);
        zsock_set_linger (client, 0);
        zsock_set_sndhwm (client, 0);
        zsock_set_rcvhwm (client, 0);
        int rc = zsock_connect (client, "%s", config->endpoint);
        assert (rc == 0);
        run->clients[c] = client;
        items[c] = (zmq_pollitem_t){zsock_resolve (client), 0, ZMQ_POLLIN, 0};
    }
    if (config->events) {
        run->events = s_socket (ZMQ_SUB);
        zsock_set_rcvhwm (run->events, 0); //  we never drop; the broker must not either
        zsock_set_subscribe (run->events, "");
        int rc = zsock_connect (run->events, "%s", config->events);
        assert (rc == 0);
        items[config->clients] = (zmq_pollitem_t){zsock_resolve (run->events), 0, ZMQ_POLLIN, 0};
        s_prime_events (run, items);
    }

    int64_t start = zclock_usecs ();
    int64_t last_progress = zclock_mono ();
    uint32_t answered_before = 0;
    while (result->answered < config->jobs) {
        for (uint32_t c = 0; c < config->clients; c++)
            while (run->inflight[c] < config->window && run->next < config->jobs)
                s_send (run, c, run->next++);
        s_poll (run, items, 100);
        if (config->kill_pid && !run->killed && result->answered >= config->kill_at) {
            int rc = kill (config->kill_pid, config->kill_signal);
            assert (rc == 0);
            run->killed = true;
            if (!config->quiet)
                printf ("load %s: %s to pid %d after %u replies\n", config->tag,
                        config->kill_signal == SIGKILL ? "SIGKILL" : "SIGTERM",
                        (int)config->kill_pid, result->answered);
        }
        if (result->answered != answered_before) {
            answered_before = result->answered;
            last_progress = zclock_mono ();
        } else if (zclock_mono () - last_progress > config->timeout_ms) {
            s_violation (run, "stuck: %u of %u jobs unanswered after %u ms without a reply",
                         config->jobs - result->answered, config->jobs, config->timeout_ms);
            break;
        }
    }
    result->seconds = (double)(zclock_usecs () - start) / 1e6;
    result->jobs_per_sec = result->seconds > 0 ? result->answered / result->seconds : 0;

    //  Quiet time: a second reply to anything would show up now. Then the
    //  events still on their way.
    int64_t linger_until = zclock_mono () + S_LINGER_MS;
    while (zclock_mono () < linger_until) s_poll (run, items, 50);
    if (run->events) {
        int64_t until = zclock_mono () + S_EVENTS_MS;
        while (result->events < result->answered && zclock_mono () < until) s_poll (run, items, 50);
    }
    for (uint32_t i = 0; i < config->jobs; i++) {
        s_job_t *job = &run->jobs[i];
        char text[400];
        if (job->replies == 0 && result->violations < 20)
            s_violation (run, "%s: no reply", s_job_text (run, i, text, sizeof text));
        if (run->events && job->replies && job->events == 0)
            s_violation (run, "%s: no event", s_job_text (run, i, text, sizeof text));
        if (run->events && job->replies && job->events && job->event_error != job->error)
            s_violation (run, "%s: reply says %s, event says %s",
                         s_job_text (run, i, text, sizeof text), zaio_error_name (job->error),
                         zaio_error_name (job->event_error));
    }
    if (result->unknown_outcome > config->kill_credit)
        s_violation (run,
                     "%u UNKNOWN_OUTCOME replies, more than the %u jobs the killed worker "
                     "could hold",
                     result->unknown_outcome, config->kill_credit);
    s_check_disk (run);
    if (!config->quiet) s_summary (run);
    if (result->violations)
        fprintf (stderr, "load %s: %u violations\n", config->tag, result->violations);

    for (uint32_t c = 0; c < config->clients; c++) {
        zsock_destroy (&run->clients[c]);
        zstr_free (&run->client_keys[c]);
    }
    zsock_destroy (&run->events);
    free (items);
    free (run->inflight);
    free (run->client_keys);
    free (run->clients);
    free (run->jobs);
    return result->violations;
}

//  ---------------------------------------------------------------------
//  hello and single calls

static zsock_t *
s_client (const char *endpoint)
{
    zsock_t *client = s_socket (ZMQ_DEALER);
    zsock_set_linger (client, 0);
    int rc = zsock_connect (client, "%s", endpoint);
    assert (rc == 0);
    return client;
}

//  The next reply with id within timeout_ms (others are dropped), decoded
//  into reply; its message, to destroy, or NULL.
static zmsg_t *
s_recv_id (zsock_t *client, uint64_t id, zaio_reply_t *reply, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (client, NULL);
    int64_t until = zclock_mono () + timeout_ms;
    zmsg_t *found = NULL;
    while (!found) {
        int64_t left = until - zclock_mono ();
        if (left <= 0 || zpoller_wait (poller, (int)left) != client) break;
        zmsg_t *msg = zmsg_recv (client);
        zframe_t *signature = msg ? zmsg_first (msg) : NULL;
        zframe_t *header = signature ? zmsg_next (msg) : NULL;
        if (header && zframe_streq (signature, ZAIO_SIGNATURE) &&
            zaio_reply_decode (reply, zframe_data (header), zframe_size (header), NULL, 0) == 0 &&
            reply->id == id)
            found = msg;
        else
            zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return found;
}

//  Workers hello reports for volume, from the reply's raw map; -1 if absent.
static int
s_hello_volume_workers (const zaio_reply_t *reply, const char *volume)
{
    zaio_cursor_t cursor;
    zaio_cursor_init (&cursor, reply->hello, reply->hello_size);
    uint32_t keys;
    if (!reply->hello || zaio_cursor_map (&cursor, &keys)) return -1;
    for (uint32_t k = 0; k < keys; k++) {
        const char *key;
        uint32_t key_len, volumes;
        if (zaio_cursor_str (&cursor, &key, &key_len)) return -1;
        if (key_len != 7 || memcmp (key, "volumes", 7)) {
            if (zaio_cursor_skip (&cursor, 4)) return -1;
            continue;
        }
        if (zaio_cursor_array (&cursor, &volumes)) return -1;
        for (uint32_t v = 0; v < volumes; v++) {
            uint32_t fields;
            char name[ZAIO_VOLUME_MAX + 1] = "";
            uint64_t workers = 0;
            if (zaio_cursor_map (&cursor, &fields)) return -1;
            for (uint32_t f = 0; f < fields; f++) {
                const char *field;
                uint32_t field_len;
                if (zaio_cursor_str (&cursor, &field, &field_len)) return -1;
                if (field_len == 4 && memcmp (field, "name", 4) == 0) {
                    if (zaio_cursor_str_copy (&cursor, name, sizeof name, ZAIO_VOLUME_MAX))
                        return -1;
                } else if (field_len == 7 && memcmp (field, "workers", 7) == 0) {
                    if (zaio_cursor_uint (&cursor, &workers)) return -1;
                } else if (zaio_cursor_skip (&cursor, 4))
                    return -1;
            }
            if (streq (name, volume)) return (int)workers;
        }
        return -1;
    }
    return -1;
}

static int
s_hello (zsock_t *client, uint64_t id, const char *volume, int timeout_ms)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_HELLO, id);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    if (zmsg_send (&msg, client)) zmsg_destroy (&msg);
    zaio_reply_t reply;
    zmsg_t *answer = s_recv_id (client, id, &reply, timeout_ms);
    if (!answer) return -2;
    int workers = reply.ok ? s_hello_volume_workers (&reply, volume) : -1;
    zmsg_destroy (&answer);
    return workers;
}

int
zaio_load_hello_workers (const char *endpoint, const char *volume, int timeout_ms)
{
    zsock_t *client = s_client (endpoint);
    int workers = s_hello (client, 1, volume, timeout_ms);
    zsock_destroy (&client);
    return workers;
}

int
zaio_load_wait_workers (const char *endpoint, const char *volume, int count, int timeout_ms)
{
    zsock_t *client = s_client (endpoint);
    int64_t start = zclock_mono ();
    int64_t until = start + timeout_ms;
    int elapsed = -1;
    for (uint64_t id = 1; zclock_mono () < until; id++) {
        int64_t asked = zclock_mono ();
        if (s_hello (client, id, volume, (int)(until - asked)) == count) {
            elapsed = (int)(zclock_mono () - start);
            break;
        }
        //  The next hello 50 ms after this one was asked: a timer, not a guess.
        int64_t next = asked + 50;
        zpoller_t *poller = zpoller_new (client, NULL);
        while (zclock_mono () < next && zclock_mono () < until) {
            if (zpoller_wait (poller, (int)(next - zclock_mono ())) == client) {
                zmsg_t *stray = zmsg_recv (client);
                zmsg_destroy (&stray);
            }
        }
        zpoller_destroy (&poller);
    }
    zsock_destroy (&client);
    return elapsed;
}

uint32_t
zaio_load_expect_error (const char *endpoint, const char *volume, uint32_t jobs, int error)
{
    zsock_t *client = s_client (endpoint);
    uint32_t wrong = 0;
    for (uint32_t i = 1; i <= jobs; i++) {
        zaio_request_t req;
        bool write = i % 2 == 0;
        zaio_request_init (&req, write ? ZAIO_OP_WRITEFILE : ZAIO_OP_PING, i);
        if (write) zaio_request_set_str (&req, ZAIO_FIELD_PATH, "expect-error");
        zaio_request_set_str (&req, ZAIO_FIELD_VOLUME, volume);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, ZAIO_SIGNATURE);
        zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
        if (write) zmsg_addstr (msg, "x");
        if (zmsg_send (&msg, client)) zmsg_destroy (&msg);
        zaio_reply_t reply;
        zmsg_t *answer = s_recv_id (client, i, &reply, S_CALL_MS);
        int got = !answer ? -1 : reply.ok ? 0 : reply.error;
        if (got != error) {
            fprintf (stderr, "load: %s on %s answered %s, not %s\n", zaio_op_name (req.op), volume,
                     got < 0 ? "nothing"
                     : got   ? zaio_error_name (got)
                             : "ok",
                     zaio_error_name (error));
            wrong++;
        }
        zmsg_destroy (&answer);
    }
    zsock_destroy (&client);
    return wrong;
}
