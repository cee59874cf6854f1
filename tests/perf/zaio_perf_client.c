/*  zaio_perf_client.c: the benchmark's load generator; see zaio_perf_client.h.

    Request ids carry their slot: id = (sequence << 16) | slot, so a reply
    finds its request without a hash lookup, and a stray or repeated reply
    is caught. Both dialects pay the same client costs: one clock read per
    send and per reply, frames sent and received with the libzmq calls.

    The CPU split reads each thread's run time from /proc/self/task (the
    scheduler's nanoseconds where the kernel keeps them, else ticks) at the
    two ends of the measured stretch, and sorts threads by name.
*/

#include "zaio_perf_client.h"
#include "zaio_codec.h"

#include <czmq.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define S_SLOT_BITS   16
#define S_SLOT_MASK   ((1u << S_SLOT_BITS) - 1)
#define S_FRAMES_MAX  4    //  frames a valid reply can have, plus one
#define S_SAMPLES_MIN 4096 //  initial room for latency samples
#define S_STRETCH_MIN 16   //  replies a measured stretch holds, at least

//  CPU seconds of the process's threads, sorted by who they serve.
typedef struct {
    double client;    //  the client's thread and its context's threads
    double client_io; //  of which its context's I/O threads
    double other_io;  //  every other libzmq I/O thread
} s_threads_cpu_t;

typedef struct {
    const zaio_perf_client_config_t *config;
    zaio_perf_result_t *result;
    void *sock;             //  the DEALER
    uint64_t block;         //  bytes per read
    zaio_request_t request; //  ZAIO/1 template: op, path, length; id and offset per send
    uint64_t rng;           //  picks read offsets; same sequence for both dialects
    uint64_t sequence;      //  requests sent
    uint64_t *pending;      //  id in flight per slot, 0 = free
    int64_t *sent_ns;       //  when the slot's request was sent
    double *samples;        //  round trip times, microseconds
    size_t sample_count;
    size_t sample_max;
} s_client_t;

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  Records why the run failed; returns -1.
static int
s_fail (s_client_t *self, const char *format, ...)
{
    if (*self->result->error == 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (self->result->error, sizeof self->result->error, format, args);
        va_end (args);
    }
    return -1;
}

//  Next 4 KiB-aligned read offset inside the file (a 64-bit LCG).
static uint64_t
s_next_offset (s_client_t *self)
{
    self->rng = self->rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((self->rng >> 33) % self->config->file_blocks) * self->block;
}

static void
s_put_u64 (uint8_t *buffer, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8) buffer[i] = (uint8_t)value;
}

static uint64_t
s_get_u64 (const uint8_t *buffer)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) value = (value << 8) | buffer[i];
    return value;
}

//  Sends the next request from slot.
static int
s_send (s_client_t *self, uint32_t slot)
{
    const zaio_perf_client_config_t *config = self->config;
    uint64_t id = (++self->sequence << S_SLOT_BITS) | slot;
    uint64_t offset = config->op == ZAIO_PERF_CASE_READ ? s_next_offset (self) : 0;
    self->pending[slot] = id;
    self->sent_ns[slot] = s_now_ns ();
    int rc;
    if (config->dialect == ZAIO_PERF_DIALECT_ZAIO) {
        //  [signature][header]
        self->request.id = id;
        if (config->op == ZAIO_PERF_CASE_READ) self->request.offset = offset;
        zaio_writer_t header;
        zaio_writer_init (&header);
        zaio_request_pack (&header.packer, &self->request);
        rc = zmq_send (self->sock, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), ZMQ_SNDMORE);
        if (rc != -1) rc = zmq_send (self->sock, header.data, header.size, 0);
        zaio_writer_release (&header);
    } else {
        //  [id][offset, and the length if not ZAIO_PERF_BLOCK; empty for ping]
        uint8_t id_bytes[8], body[16];
        s_put_u64 (id_bytes, id);
        s_put_u64 (body, offset);
        s_put_u64 (body + 8, self->block);
        size_t body_size = config->op != ZAIO_PERF_CASE_READ ? 0
                           : self->block == ZAIO_PERF_BLOCK  ? 8
                                                             : 16;
        rc = zmq_send (self->sock, id_bytes, sizeof id_bytes, ZMQ_SNDMORE);
        if (rc != -1) rc = zmq_send (self->sock, body, body_size, 0);
    }
    if (rc == -1) return s_fail (self, "send failed: %s", zmq_strerror (zmq_errno ()));
    return 0;
}

//  Checks a reply's frames; sets *id. Returns 0 or -1 with the reason.
static int
s_check_reply (s_client_t *self, zmq_msg_t *frames, int count, uint64_t *id)
{
    bool read = self->config->op == ZAIO_PERF_CASE_READ;
    if (self->config->dialect == ZAIO_PERF_DIALECT_ZAIO) {
        //  [signature][header][data if read]
        if (count < 2) return s_fail (self, "zaio reply has %d frames", count);
        if (zmq_msg_size (&frames[0]) != strlen (ZAIO_SIGNATURE) ||
            memcmp (zmq_msg_data (&frames[0]), ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE)))
            return s_fail (self, "zaio reply without signature");
        zaio_reply_t reply;
        char why[128];
        if (zaio_reply_decode (&reply, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), why,
                               sizeof why))
            return s_fail (self, "malformed zaio reply: %s", why);
        if (!reply.ok)
            return s_fail (self, "zaio error reply %s: %s", zaio_error_name (reply.error),
                           reply.message);
        if (count != (read ? 3 : 2)) return s_fail (self, "zaio reply has %d frames", count);
        if (read && (zmq_msg_size (&frames[2]) != self->block || reply.bytes != self->block))
            return s_fail (self, "zaio read returned %zu bytes", zmq_msg_size (&frames[2]));
        *id = reply.id;
    } else {
        //  [id][data if read]
        if (count != (read ? 2 : 1) || zmq_msg_size (&frames[0]) != 8)
            return s_fail (self, "baseline reply has %d frames", count);
        if (read && zmq_msg_size (&frames[1]) != self->block)
            return s_fail (self, "baseline read returned %zu bytes", zmq_msg_size (&frames[1]));
        *id = s_get_u64 ((const uint8_t *)zmq_msg_data (&frames[0]));
    }
    return 0;
}

//  Receives one frame into an initialised frame, waiting up to the timeout.
static int
s_recv_frame (s_client_t *self, zmq_msg_t *frame)
{
    while (zmq_msg_recv (frame, self->sock, 0) == -1) {
        if (zmq_errno () == EINTR && !zsys_interrupted) continue;
        if (zmq_errno () == EAGAIN)
            return s_fail (self, "no reply within %d ms", ZAIO_PERF_TIMEOUT_MS);
        return s_fail (self, "recv failed: %s", zmq_strerror (zmq_errno ()));
    }
    return 0;
}

//  Receives one reply and frees its slot, returned in *slot.
static int
s_recv (s_client_t *self, uint32_t *slot)
{
    zmq_msg_t frames[S_FRAMES_MAX];
    int count = 0; //  frames received
    int kept = 0;  //  of which held in frames[]
    int rc = 0;
    bool more = true;
    while (more && rc == 0) {
        zmq_msg_t scratch;
        zmq_msg_t *frame = kept < S_FRAMES_MAX ? &frames[kept] : &scratch;
        zmq_msg_init (frame);
        rc = s_recv_frame (self, frame);
        more = rc == 0 && zmq_msg_more (frame);
        if (rc == 0) count++;
        if (rc || frame == &scratch)
            zmq_msg_close (frame);
        else
            kept++;
    }
    uint64_t id = 0;
    if (rc == 0) rc = s_check_reply (self, frames, count, &id);
    for (int i = 0; i < kept; i++) zmq_msg_close (&frames[i]);
    if (rc) return rc;
    *slot = (uint32_t)(id & S_SLOT_MASK);
    if (*slot >= self->config->inflight || self->pending[*slot] != id)
        return s_fail (self, "reply with unexpected id %" PRIu64, id);
    self->pending[*slot] = 0;
    return 0;
}

static void
s_add_sample (s_client_t *self, double us)
{
    if (self->sample_count == self->sample_max) {
        self->sample_max = self->sample_max ? self->sample_max * 2 : S_SAMPLES_MIN;
        self->samples = (double *)realloc (self->samples, self->sample_max * sizeof (double));
        assert (self->samples);
    }
    self->samples[self->sample_count++] = us;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

//  Nearest-rank percentile of sorted samples.
static double
s_percentile (const double *sorted, size_t count, double fraction)
{
    size_t rank = (size_t)(fraction * (double)count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    return sorted[rank - 1];
}

//  CPU microseconds and context switches of the whole process so far.
static void
s_usage (double *cpu_us, double *switches)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    *cpu_us = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
              (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    *switches = (double)(usage.ru_nvcsw + usage.ru_nivcsw);
}

//  One thread's CPU seconds so far, from the files of /proc/self/task/TID.
static double
s_thread_cpu (const char *tid)
{
    char path[320];
    snprintf (path, sizeof path, "/proc/self/task/%s/schedstat", tid);
    FILE *file = fopen (path, "r");
    unsigned long long ns = 0, utime = 0, stime = 0;
    if (file) {
        int got = fscanf (file, "%llu", &ns);
        fclose (file);
        if (got == 1) return (double)ns / 1e9;
    }
    snprintf (path, sizeof path, "/proc/self/task/%s/stat", tid);
    file = fopen (path, "r");
    if (!file) return 0;
    char line[1024];
    char *fields = fgets (line, sizeof line, file) ? strrchr (line, ')') : NULL;
    fclose (file);
    //  after "pid (comm)": state and 10 more fields, then utime and stime
    if (!fields || sscanf (fields + 1, " %*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu",
                           &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

//  The process's threads' CPU seconds so far, sorted by their names: the
//  client's thread is "bench-client", its context's threads carry
//  ZAIO_PERF_CLIENT_PREFIX, and libzmq names I/O threads "ZMQbg/IO/N".
static void
s_threads_cpu (s_threads_cpu_t *cpu)
{
    memset (cpu, 0, sizeof *cpu);
    char prefix[16];
    snprintf (prefix, sizeof prefix, "%d/", ZAIO_PERF_CLIENT_PREFIX);
    DIR *tasks = opendir ("/proc/self/task");
    if (!tasks) return;
    struct dirent *entry;
    while ((entry = readdir (tasks))) {
        if (*entry->d_name == '.') continue;
        char path[320], name[32] = "";
        snprintf (path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
        FILE *file = fopen (path, "r");
        if (!file) continue;
        if (!fgets (name, sizeof name, file)) *name = 0;
        fclose (file);
        name[strcspn (name, "\n")] = 0;
        double seconds = s_thread_cpu (entry->d_name);
        bool client = strncmp (name, prefix, strlen (prefix)) == 0;
        bool io = strstr (name, "ZMQbg/IO/") != NULL;
        if (client || streq (name, "bench-client")) cpu->client += seconds;
        if (client && io) cpu->client_io += seconds;
        if (!client && io) cpu->other_io += seconds;
    }
    closedir (tasks);
}

//  Keeps the pipeline full through the warmup and the measured stretch,
//  then collects what is still in flight. The stretch opens at the first
//  reply after the warmup and closes at the first reply that finds it at
//  least duration_ms long and holding S_STRETCH_MIN replies: its bounds
//  are replies, not clock times, so a stall (a loaded machine can stop a
//  process for longer than a short stretch lasts) makes it longer, never
//  empty.
static int
s_measure (s_client_t *self)
{
    const zaio_perf_client_config_t *config = self->config;
    bool latency = config->inflight == 1;
    int64_t warm_until = s_now_ns () + (int64_t)config->warmup_ms * 1000000;
    int64_t duration_ns = (int64_t)config->duration_ms * 1000000;
    int64_t opened = 0, closed = 0; //  the stretch's first and last reply; 0 = not yet
    uint32_t outstanding = 0;
    for (uint32_t slot = 0; slot < config->inflight; slot++, outstanding++)
        if (s_send (self, slot)) return -1;
    uint64_t counted = 0;
    double cpu_from = 0, cpu_until = 0, switches_from = 0, switches_until = 0;
    bool split = config->context != NULL;
    s_threads_cpu_t threads_from = {0}, threads_until = {0};
    while (outstanding) {
        uint32_t slot;
        if (s_recv (self, &slot)) return -1;
        outstanding--;
        int64_t now = s_now_ns ();
        if (opened && !closed) {
            counted++;
            if (latency) s_add_sample (self, (double)(now - self->sent_ns[slot]) / 1000.0);
            if (now - opened >= duration_ns && counted >= S_STRETCH_MIN) {
                closed = now;
                s_usage (&cpu_until, &switches_until);
                if (split) s_threads_cpu (&threads_until);
            }
        } else if (!opened && now >= warm_until) {
            opened = now;
            s_usage (&cpu_from, &switches_from);
            if (split) s_threads_cpu (&threads_from);
        }
        if (!closed && !zsys_interrupted) {
            if (s_send (self, slot)) return -1;
            outstanding++;
        }
    }
    if (zsys_interrupted) return s_fail (self, "interrupted");
    assert (closed > opened && counted >= S_STRETCH_MIN);
    zaio_perf_result_t *result = self->result;
    result->ops = counted;
    result->seconds = (double)(closed - opened) / 1e9;
    result->ops_per_sec = (double)counted / result->seconds;
    result->cpu_us_per_op = (cpu_until - cpu_from) / (double)counted;
    result->switches_per_op = (switches_until - switches_from) / (double)counted;
    if (split) {
        result->client_cpu_us_per_op =
            (threads_until.client - threads_from.client) * 1e6 / (double)counted;
        result->client_io_us_per_op =
            (threads_until.client_io - threads_from.client_io) * 1e6 / (double)counted;
        result->server_io_us_per_op =
            (threads_until.other_io - threads_from.other_io) * 1e6 / (double)counted;
    }
    if (latency) {
        qsort (self->samples, self->sample_count, sizeof (double), s_compare_double);
        result->samples = self->sample_count;
        result->p50_us = s_percentile (self->samples, self->sample_count, 0.50);
        result->p99_us = s_percentile (self->samples, self->sample_count, 0.99);
    }
    return 0;
}

static void *
s_client_thread (void *args)
{
    s_client_t *self = (s_client_t *)args;
    const zaio_perf_client_config_t *config = self->config;
    prctl (PR_SET_NAME, "bench-client"); //  so perf tells threads apart
    self->sock = zmq_socket (config->context ? config->context : zsys_init (), ZMQ_DEALER);
    assert (self->sock);
    int linger = 0, timeout = ZAIO_PERF_TIMEOUT_MS;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (self->sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    int rc = 0;
    if (config->curve_server) {
        //  z85 text, 40 characters each
        rc |= zmq_setsockopt (self->sock, ZMQ_CURVE_SERVERKEY, config->curve_server, 40);
        rc |= zmq_setsockopt (self->sock, ZMQ_CURVE_PUBLICKEY, config->curve_public, 40);
        rc |= zmq_setsockopt (self->sock, ZMQ_CURVE_SECRETKEY, config->curve_secret, 40);
        if (rc) s_fail (self, "bad CURVE keys: %s", zmq_strerror (zmq_errno ()));
    }
    if (rc == 0 && zmq_connect (self->sock, config->endpoint) == 0)
        s_measure (self);
    else
        s_fail (self, "cannot connect to %s: %s", config->endpoint, zmq_strerror (zmq_errno ()));
    zmq_close (self->sock);
    return NULL;
}

void *
zaio_perf_client_context_new (int io_threads)
{
    void *context = zmq_ctx_new ();
    assert (context);
    zmq_ctx_set (context, ZMQ_THREAD_NAME_PREFIX, ZAIO_PERF_CLIENT_PREFIX);
    if (io_threads > 0) zmq_ctx_set (context, ZMQ_IO_THREADS, io_threads);
    return context;
}

int
zaio_perf_client_run (const zaio_perf_client_config_t *config, zaio_perf_result_t *result)
{
    assert (config && config->endpoint && result);
    assert (config->inflight >= 1 && config->inflight <= ZAIO_PERF_INFLIGHT_MAX);
    assert (config->op == ZAIO_PERF_CASE_PING || config->file_blocks > 0);
    assert (!config->curve_server || (config->curve_public && config->curve_secret));
    memset (result, 0, sizeof *result);
    s_client_t self;
    memset (&self, 0, sizeof self);
    self.config = config;
    self.result = result;
    self.rng = 0x2545f4914f6cdd1dull;
    self.block = config->block ? config->block : ZAIO_PERF_BLOCK;
    self.pending = (uint64_t *)calloc (config->inflight, sizeof (uint64_t));
    self.sent_ns = (int64_t *)calloc (config->inflight, sizeof (int64_t));
    assert (self.pending && self.sent_ns);
    if (config->op == ZAIO_PERF_CASE_READ) {
        zaio_request_init (&self.request, ZAIO_OP_READ, 1);
        assert (config->path);
        if (zaio_request_set_str (&self.request, ZAIO_FIELD_PATH, config->path)) {
            snprintf (result->error, sizeof result->error, "path too long");
            return -1;
        }
        zaio_request_set_uint (&self.request, ZAIO_FIELD_OFFSET, 0);
        zaio_request_set_uint (&self.request, ZAIO_FIELD_LENGTH, self.block);
    } else
        zaio_request_init (&self.request, ZAIO_OP_PING, 1);

    pthread_t thread;
    int rc = pthread_create (&thread, NULL, s_client_thread, &self);
    assert (rc == 0);
    pthread_join (thread, NULL);
    free (self.pending);
    free (self.sent_ns);
    free (self.samples);
    return *result->error ? -1 : 0;
}
