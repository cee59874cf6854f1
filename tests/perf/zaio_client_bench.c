/*  zaio_client_bench: pipelined reads through libzaio against a running
    broker, the C figure that the Python and Node bindings' bench.py and
    bench.js are set beside (same arguments, same JSON line).

    zaio_client_bench --endpoint EP --path FILE [--seconds S] [--inflight N]
                      [--size BYTES]

    Keeps --inflight reads of --size bytes (default 64 of 4 KiB) in flight
    on one client, walking the file in --size steps, for --seconds (default
    5), and prints {"client": "c", "ops_per_sec": ..., ...}. */

#include "zaio.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    zaio_client_t *client;
    const char *path;
    uint64_t size;      //  bytes per read
    uint64_t file_size; //  reads walk [0, file_size)
    uint64_t offset;
    int64_t until_us;
    uint64_t done;
    uint64_t errors;
} s_bench_t;

static void s_submit (s_bench_t *self);

static void
s_on_read (zaio_call_t *call, void *arg)
{
    s_bench_t *self = (s_bench_t *)arg;
    if (zaio_call_error (call)) self->errors++;
    zaio_buf_t *data = zaio_call_take_data (call);
    zaio_buf_destroy (&data);
    self->done++;
    if (zclock_usecs () < self->until_us) s_submit (self);
}

static void
s_submit (s_bench_t *self)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, self->path);
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, self->offset);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, self->size);
    self->offset = (self->offset + self->size) % (self->file_size - self->size + 1);
    zaio_client_submit (self->client, &req, NULL, s_on_read, self);
}

static double
s_cpu_seconds (void)
{
    struct timespec now;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int
main (int argc, char *argv[])
{
    static const struct option options[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"path", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'},  {"inflight", required_argument, NULL, 'i'},
        {"size", required_argument, NULL, 'z'},     {NULL, 0, NULL, 0}};
    const char *endpoint = NULL, *path = NULL;
    double seconds = 5;
    int inflight = 64;
    uint64_t size = 4096;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'e':
                endpoint = optarg;
                break;
            case 'p':
                path = optarg;
                break;
            case 's':
                seconds = atof (optarg);
                break;
            case 'i':
                inflight = atoi (optarg);
                break;
            case 'z':
                size = strtoull (optarg, NULL, 10);
                break;
            default:
                return 2;
        }
    }
    if (!endpoint || !path || seconds <= 0 || inflight < 1 || size < 1) {
        fprintf (stderr, "usage: zaio_client_bench --endpoint EP --path FILE [--seconds S] "
                         "[--inflight N] [--size BYTES]\n");
        return 2;
    }
    s_bench_t self = {.path = path, .size = size};
    self.client = zaio_client_new (endpoint);
    zaio_stat_t stat;
    if (!self.client || zaio_client_stat (self.client, path, &stat) || stat.size < size) {
        fprintf (stderr, "zaio_client_bench: cannot stat %s at %s\n", path, endpoint);
        return 1;
    }
    self.file_size = stat.size;
    double cpu_start = s_cpu_seconds ();
    int64_t start_us = zclock_usecs ();
    self.until_us = start_us + (int64_t)(seconds * 1e6);
    for (int i = 0; i < inflight; i++) s_submit (&self);
    while (zaio_client_pending (self.client)) zaio_client_dispatch (self.client, -1);
    double elapsed = (double)(zclock_usecs () - start_us) / 1e6;
    double cpu = s_cpu_seconds () - cpu_start;
    printf ("{\"client\": \"c\", \"ops_per_sec\": %.0f, \"ops\": %llu, \"errors\": %llu, "
            "\"client_cpu_us_per_op\": %.1f}\n",
            (double)self.done / elapsed, (unsigned long long)self.done,
            (unsigned long long)self.errors, self.done ? cpu * 1e6 / (double)self.done : 0);
    zaio_client_destroy (&self.client);
    zsys_shutdown ();
    return self.errors ? 1 : 0;
}
