/*  zaio_peer_zaio: zaio's side of the peers section: 4 KiB reads at random
    offsets through libzaio, --inflight in flight from one client, against
    a running broker (--endpoint: ipc, or tcp to a broker with remote
    workers) or an embedded one over inproc (--root: zaio_broker_new with
    --threads local workers, in this process).

    zaio_peer_zaio --path PATH (--endpoint EP | --root DIR) [--volume NAME]
                   [--batch] [--broker-pid PID] [--worker-pid PID]
                   [--seconds S] [--inflight N] [--threads N] [--size BYTES]

    Unbatched, each completion starts the next read (zaio_client_submit).
    With --batch, reads go out through zaio_client_start_batch: whenever
    half the window has completed, the completed half is submitted again
    as one batch (what the client sends per batch is libzaio's to decide).
    Prints the JSON line of zaio_peer_side.h, side "zaio"; with
    --broker-pid, what the broker daemon spent per read too. The first
    stat of --path is retried for up to S_READY_MS: a volume a remote
    zaio-worker serves is unknown until the worker has connected.
*/

#include "zaio.h"
#include "zaio_broker.h"
#include "zaio_peer_side.h"

#include <unistd.h>

#define S_READY_MS 10000

typedef struct {
    const zaio_peer_options_t *options;
    zaio_client_t *client;
    uint64_t blocks;
    uint64_t state;
    double until;
    uint32_t outstanding; //  reads submitted and not completed
    uint64_t ops;
    uint64_t errors;
} s_bench_t;

static void s_submit (s_bench_t *self);

//  A read's request, at the next random offset.
static void
s_request (s_bench_t *self, zaio_request_t *req)
{
    zaio_request_init (req, ZAIO_OP_READ, 0);
    zaio_request_set_str (req, ZAIO_FIELD_PATH, self->options->path);
    zaio_request_set_uint (req, ZAIO_FIELD_OFFSET,
                           zaio_peer_offset (&self->state, self->blocks, self->options->size));
    zaio_request_set_uint (req, ZAIO_FIELD_LENGTH, self->options->size);
}

//  Runs in zaio_client_dispatch when a read completes: counts it and,
//  unbatched and until the time is up, starts the next.
static void
s_on_read (zaio_call_t *call, void *arg)
{
    s_bench_t *self = (s_bench_t *)arg;
    zaio_buf_t *data = zaio_call_take_data (call);
    if (zaio_call_error (call) || !data || zaio_buf_size (data) != self->options->size)
        self->errors++;
    zaio_buf_destroy (&data);
    self->ops++;
    self->outstanding--;
    if (!self->options->batch && zaio_peer_now () < self->until) s_submit (self);
}

static void
s_submit (s_bench_t *self)
{
    zaio_request_t req;
    s_request (self, &req);
    self->outstanding++;
    zaio_client_submit (self->client, &req, NULL, s_on_read, self);
}

//  Fills the window up to --inflight with one zaio_client_start_batch,
//  reqs and calls having room for it.
static void
s_submit_batch (s_bench_t *self, zaio_request_t *reqs, zaio_call_t **calls)
{
    size_t count = self->options->inflight - self->outstanding;
    for (size_t i = 0; i < count; i++) s_request (self, &reqs[i]);
    zaio_client_start_batch (self->client, reqs, NULL, count, calls);
    self->outstanding += (uint32_t)count;
    for (size_t i = 0; i < count; i++) zaio_call_then (&calls[i], s_on_read, self);
}

//  Runs the reads for --seconds, then waits for the last ones.
static void
s_run (s_bench_t *self)
{
    const zaio_peer_options_t *options = self->options;
    if (!options->batch) {
        for (uint32_t i = 0; i < options->inflight; i++) s_submit (self);
        while (zaio_client_pending (self->client)) zaio_client_dispatch (self->client, -1);
        return;
    }
    zaio_request_t *reqs = (zaio_request_t *)calloc (options->inflight, sizeof (zaio_request_t));
    zaio_call_t **calls = (zaio_call_t **)calloc (options->inflight, sizeof (zaio_call_t *));
    assert (reqs && calls);
    while (zaio_peer_now () < self->until) {
        if (self->outstanding <= options->inflight / 2) s_submit_batch (self, reqs, calls);
        zaio_client_dispatch (self->client, -1);
    }
    while (zaio_client_pending (self->client)) zaio_client_dispatch (self->client, -1);
    free (calls);
    free (reqs);
}

int
main (int argc, char *argv[])
{
    zaio_peer_options_t options;
    if (zaio_peer_options_parse (&options, "zaio_peer_zaio", argc, argv)) return 2;
    if (!options.path || !options.endpoint == !options.root) {
        fprintf (stderr, "zaio_peer_zaio: --path, and one of --endpoint and --root\n");
        return 2;
    }
    zactor_t *broker = NULL;
    char *inproc = NULL;
    if (options.root) {
        zaio_broker_config_t config;
        zaio_broker_config_defaults (&config);
        inproc = zsys_sprintf ("inproc://zaio-peers-%d", (int)getpid ());
        char *events = zsys_sprintf ("inproc://zaio-peers-events-%d", (int)getpid ());
        config.root = options.root;
        config.bind[0] = inproc;
        config.bind[1] = NULL;
        config.events[0] = events;
        config.events[1] = NULL;
        config.workers = options.threads;
        broker = zaio_broker_new (&config);
        zstr_free (&events);
        if (!broker) {
            fprintf (stderr, "zaio_peer_zaio: cannot start a broker on %s\n", options.root);
            return 1;
        }
    }
    s_bench_t self = {.options = &options, .state = 0x9e3779b97f4a7c15ull};
    const char *endpoint = options.root ? inproc : options.endpoint;
    self.client = zaio_client_new (endpoint);
    zaio_stat_t stat;
    int64_t ready_until = zclock_mono () + S_READY_MS;
    int rc =
        self.client && !(options.volume && zaio_client_set_volume (self.client, options.volume))
            ? zaio_client_stat (self.client, options.path, &stat)
            : -1;
    while (self.client && rc && zclock_mono () < ready_until) {
        zclock_sleep (100);
        rc = zaio_client_stat (self.client, options.path, &stat);
    }
    if (rc || stat.size < options.size) {
        fprintf (stderr, "zaio_peer_zaio: cannot stat %s at %s\n", options.path, endpoint);
        return 1;
    }
    self.blocks = stat.size / options.size;
    zaio_peer_clock_t start, end;
    zaio_peer_clock_read (&options, &start);
    self.until = start.wall + options.seconds;
    s_run (&self);
    zaio_peer_clock_read (&options, &end);
    zaio_client_destroy (&self.client);
    zaio_broker_destroy (&broker);
    zstr_free (&inproc);
    rc = zaio_peer_print (&options, "zaio", &start, &end, self.ops, self.errors);
    zsys_shutdown ();
    return rc;
}
