/*  zaio_stats.c: the broker's counters; see zaio_stats.h.

    Three fixed tables, none of which allocates after zaio_stats_new:

      * rows: an array of ZAIO_STATS_ROWS_MAX rows filled in order, found
        through an open-addressing index of twice as many slots (linear
        probing; rows are never removed, so no tombstones);
      * the top clients: Metwally's Stream-Summary. Clients with the same
        job count share a bucket; buckets form a list in ascending count.
        A job moves its client to the bucket of count + 1 (made after its
        own if there is none, its own reused if it was alone), so the
        client with the fewest jobs, the one evicted when the table is
        full, is the first of the first bucket: O(1) each. Names are found
        through chained hashing over a fixed array of heads;
      * workers' finished jobs: open addressing by name, rebuilt without
        the gone ones by zaio_stats_prune.
*/

#include "zaio_stats.h"

#include <errno.h>
#include <string.h>

#define S_ROW_SLOTS    (2 * ZAIO_STATS_ROWS_MAX)
#define S_CLIENT_HEADS (2 * ZAIO_STATS_CLIENTS_MAX)
#define S_WORKER_SLOTS (2 * ZAIO_STATS_WORKERS_MAX)
#define S_NAME_SIZE    72 //  an identity (at most 64 bytes) or a routing id in hex
#define S_WORKER_NAME  128

typedef struct s_bucket_t s_bucket_t;
typedef struct s_entry_t s_entry_t;

struct s_entry_t {
    char name[S_NAME_SIZE];
    uint32_t hash;
    uint64_t bytes;
    uint64_t errors;
    s_bucket_t *bucket;
    s_entry_t *prev, *next; //  in its bucket
    s_entry_t *chain;       //  in its hash head's chain
};

struct s_bucket_t {
    uint64_t count;          //  jobs of each of its clients
    s_bucket_t *prev, *next; //  ascending count
    s_entry_t *head;
};

typedef struct {
    char name[S_WORKER_NAME];
    uint64_t jobs;
} s_worker_t;

struct _zaio_stats_t {
    zaio_stats_row_t rows[ZAIO_STATS_ROWS_MAX];
    size_t row_count;
    size_t named_rows;
    uint16_t row_slots[S_ROW_SLOTS]; //  row index + 1, 0: empty
    zaio_stats_latency_t latency[ZAIO_OP_COUNT];
    s_entry_t entries[ZAIO_STATS_CLIENTS_MAX];
    size_t entry_count;
    s_entry_t *heads[S_CLIENT_HEADS];
    s_bucket_t buckets[ZAIO_STATS_CLIENTS_MAX + 1]; //  one more, while a client moves
    s_bucket_t *free_buckets;
    s_bucket_t *low, *high;
    s_worker_t workers[S_WORKER_SLOTS]; //  name "" : empty
    size_t worker_count;
};

//  FNV-1a over a string, from seed.
static uint32_t
s_hash (uint32_t seed, const char *text)
{
    uint32_t hash = seed;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        hash = (hash ^ *c) * 16777619u;
    return hash;
}

zaio_stats_t *
zaio_stats_new (void)
{
    zaio_stats_t *self = (zaio_stats_t *)zmalloc (sizeof (zaio_stats_t));
    for (size_t i = 0; i < ZAIO_STATS_CLIENTS_MAX + 1; i++) {
        self->buckets[i].next = self->free_buckets;
        self->free_buckets = &self->buckets[i];
    }
    return self;
}

void
zaio_stats_destroy (zaio_stats_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

int
zaio_stats_bucket (uint64_t us)
{
    if (us <= 1) return 0;
    int bucket = 64 - __builtin_clzll (us - 1);
    return bucket > ZAIO_STATS_BOUNDS - 1 ? ZAIO_STATS_BOUNDS : bucket;
}

//  ---------------------------------------------------------------------
//  Rows

//  The row of op x outcome x volume, made if new and there is room;
//  NULL if not (only for a named volume: "" always has room).
static zaio_stats_row_t *
s_row (zaio_stats_t *self, int op, const char *outcome, const char *volume)
{
    uint32_t hash =
        s_hash (2166136261u ^ (uint32_t)op * 2654435761u ^ (uint32_t)(uintptr_t)outcome, volume);
    uint32_t slot = hash & (S_ROW_SLOTS - 1);
    while (self->row_slots[slot]) {
        zaio_stats_row_t *row = &self->rows[self->row_slots[slot] - 1];
        if (row->op == op && row->outcome == outcome && streq (row->volume, volume)) return row;
        slot = (slot + 1) & (S_ROW_SLOTS - 1);
    }
    bool named = *volume != 0;
    if (named && self->named_rows >= ZAIO_STATS_NAMED_ROWS_MAX) return NULL;
    assert (self->row_count < ZAIO_STATS_ROWS_MAX); //  "" rows: ops x outcomes < the rest
    zaio_stats_row_t *row = &self->rows[self->row_count++];
    row->op = op;
    row->outcome = outcome;
    snprintf (row->volume, sizeof row->volume, "%s", volume);
    self->row_slots[slot] = (uint16_t)self->row_count;
    if (named) self->named_rows++;
    return row;
}

//  Counts one request in its row: volume NULL or a NOVOLUME go under "".
static void
s_count (zaio_stats_t *self, int op, const char *volume, int error, uint64_t bytes)
{
    const char *outcome = error ? zaio_error_name (error) : "ok";
    if (!volume || error == ZAIO_ERR_NOVOLUME) volume = "";
    zaio_stats_row_t *row = s_row (self, op, outcome, volume);
    if (!row) row = s_row (self, op, outcome, "");
    row->jobs++;
    row->bytes += bytes;
}

size_t
zaio_stats_rows (zaio_stats_t *self)
{
    return self->row_count;
}

const zaio_stats_row_t *
zaio_stats_row (zaio_stats_t *self, size_t index)
{
    assert (index < self->row_count);
    return &self->rows[index];
}

const zaio_stats_latency_t *
zaio_stats_latency (zaio_stats_t *self, zaio_op_t op)
{
    assert ((unsigned)op < ZAIO_OP_COUNT);
    return &self->latency[op];
}

//  ---------------------------------------------------------------------
//  Top clients (Stream-Summary)

static s_bucket_t *
s_bucket_new (zaio_stats_t *self, uint64_t count)
{
    s_bucket_t *bucket = self->free_buckets;
    assert (bucket); //  at most one bucket per client, and one more
    self->free_buckets = bucket->next;
    memset (bucket, 0, sizeof *bucket);
    bucket->count = count;
    return bucket;
}

//  Links bucket after prev (NULL: first).
static void
s_bucket_link (zaio_stats_t *self, s_bucket_t *bucket, s_bucket_t *prev)
{
    bucket->prev = prev;
    bucket->next = prev ? prev->next : self->low;
    if (bucket->next)
        bucket->next->prev = bucket;
    else
        self->high = bucket;
    if (prev)
        prev->next = bucket;
    else
        self->low = bucket;
}

//  Unlinks an empty bucket and frees it.
static void
s_bucket_free (zaio_stats_t *self, s_bucket_t *bucket)
{
    assert (!bucket->head);
    if (bucket->prev)
        bucket->prev->next = bucket->next;
    else
        self->low = bucket->next;
    if (bucket->next)
        bucket->next->prev = bucket->prev;
    else
        self->high = bucket->prev;
    bucket->next = self->free_buckets;
    self->free_buckets = bucket;
}

static void
s_entry_attach (s_entry_t *entry, s_bucket_t *bucket)
{
    entry->bucket = bucket;
    entry->prev = NULL;
    entry->next = bucket->head;
    if (bucket->head) bucket->head->prev = entry;
    bucket->head = entry;
}

static void
s_entry_detach (s_entry_t *entry)
{
    s_bucket_t *bucket = entry->bucket;
    if (entry->prev)
        entry->prev->next = entry->next;
    else
        bucket->head = entry->next;
    if (entry->next) entry->next->prev = entry->prev;
    entry->bucket = NULL;
}

//  One more job for entry: to the bucket of count + 1.
static void
s_entry_increment (zaio_stats_t *self, s_entry_t *entry)
{
    s_bucket_t *bucket = entry->bucket;
    s_bucket_t *next = bucket->next;
    if (next && next->count == bucket->count + 1) {
        s_entry_detach (entry);
        s_entry_attach (entry, next);
        if (!bucket->head) s_bucket_free (self, bucket);
    } else if (!entry->prev && !entry->next)
        bucket->count++; //  alone in its bucket: the bucket moves with it
    else {
        next = s_bucket_new (self, bucket->count + 1);
        s_bucket_link (self, next, bucket);
        s_entry_detach (entry);
        s_entry_attach (entry, next);
    }
}

static void
s_hash_remove (zaio_stats_t *self, s_entry_t *entry)
{
    s_entry_t **link = &self->heads[entry->hash & (S_CLIENT_HEADS - 1)];
    while (*link != entry) link = &(*link)->chain;
    *link = entry->chain;
}

static void
s_hash_insert (zaio_stats_t *self, s_entry_t *entry)
{
    s_entry_t **head = &self->heads[entry->hash & (S_CLIENT_HEADS - 1)];
    entry->chain = *head;
    *head = entry;
}

//  The entry of client, made if new (evicting the one with fewest jobs
//  when the table is full: the newcomer takes its counts over); a new
//  one's jobs are 0 until s_entry_increment.
static s_entry_t *
s_client (zaio_stats_t *self, const char *client)
{
    uint32_t hash = s_hash (2166136261u, client);
    for (s_entry_t *entry = self->heads[hash & (S_CLIENT_HEADS - 1)]; entry; entry = entry->chain)
        if (entry->hash == hash && streq (entry->name, client)) return entry;
    s_entry_t *entry;
    if (self->entry_count < ZAIO_STATS_CLIENTS_MAX) {
        entry = &self->entries[self->entry_count++];
        memset (entry, 0, sizeof *entry);
        //  At count 0 for a moment: the bucket of 0 comes first.
        s_bucket_t *zero = self->low && self->low->count == 0 ? self->low : NULL;
        if (!zero) {
            zero = s_bucket_new (self, 0);
            s_bucket_link (self, zero, NULL);
        }
        s_entry_attach (entry, zero);
    } else {
        entry = self->low->head; //  the fewest jobs
        s_hash_remove (self, entry);
    }
    snprintf (entry->name, sizeof entry->name, "%s", client);
    entry->hash = hash;
    s_hash_insert (self, entry);
    return entry;
}

//  One request of client: a job more, its bytes, an error if it failed.
static void
s_client_count (zaio_stats_t *self, const char *client, int error, uint64_t bytes)
{
    if (!client || !*client) return;
    s_entry_t *entry = s_client (self, client);
    entry->bytes += bytes;
    entry->errors += error != 0;
    s_entry_increment (self, entry);
}

size_t
zaio_stats_top (zaio_stats_t *self, zaio_stats_client_t *clients, size_t max)
{
    size_t count = 0;
    for (s_bucket_t *bucket = self->high; bucket && count < max; bucket = bucket->prev)
        for (s_entry_t *entry = bucket->head; entry && count < max; entry = entry->next)
            clients[count++] =
                (zaio_stats_client_t){entry->name, bucket->count, entry->bytes, entry->errors};
    return count;
}

size_t
zaio_stats_clients (zaio_stats_t *self)
{
    return self->entry_count;
}

//  ---------------------------------------------------------------------
//  Workers

//  The slot of worker: its own, or the empty one where it would go.
static s_worker_t *
s_worker_slot (s_worker_t *slots, const char *worker)
{
    uint32_t slot = s_hash (2166136261u, worker) & (S_WORKER_SLOTS - 1);
    while (slots[slot].name[0] && strcmp (slots[slot].name, worker) != 0)
        slot = (slot + 1) & (S_WORKER_SLOTS - 1);
    return &slots[slot];
}

static void
s_worker_count (zaio_stats_t *self, const char *worker)
{
    if (!worker || !*worker || strlen (worker) >= S_WORKER_NAME) return;
    s_worker_t *slot = s_worker_slot (self->workers, worker);
    if (!slot->name[0]) {
        if (self->worker_count >= ZAIO_STATS_WORKERS_MAX) return; //  until a prune
        snprintf (slot->name, sizeof slot->name, "%s", worker);
        self->worker_count++;
    }
    slot->jobs++;
}

uint64_t
zaio_stats_worker_jobs (zaio_stats_t *self, const char *worker)
{
    if (!worker || !*worker || strlen (worker) >= S_WORKER_NAME) return 0;
    return s_worker_slot (self->workers, worker)->jobs;
}

void
zaio_stats_prune (zaio_stats_t *self, const char *const *live, size_t count)
{
    if (self->worker_count <= ZAIO_STATS_WORKERS_MAX * 3 / 4) return;
    s_worker_t *kept = (s_worker_t *)zmalloc (sizeof (s_worker_t) * count);
    size_t kept_count = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t jobs = zaio_stats_worker_jobs (self, live[i]);
        if (jobs == 0) continue;
        snprintf (kept[kept_count].name, S_WORKER_NAME, "%s", live[i]);
        kept[kept_count++].jobs = jobs;
    }
    memset (self->workers, 0, sizeof self->workers);
    self->worker_count = 0;
    for (size_t i = 0; i < kept_count && self->worker_count < ZAIO_STATS_WORKERS_MAX; i++) {
        s_worker_t *slot = s_worker_slot (self->workers, kept[i].name);
        if (slot->name[0]) continue; //  a name listed twice
        *slot = kept[i];
        self->worker_count++;
    }
    free (kept);
}

//  ---------------------------------------------------------------------
//  The hooks

void
zaio_stats_job (zaio_stats_t *self, const char *client, zaio_op_t op, const char *volume, int error,
                uint64_t bytes, bool dispatched, uint64_t queue_us, uint64_t service_us,
                const char *worker)
{
    assert ((unsigned)op < ZAIO_OP_COUNT);
    s_count (self, op, volume, error, bytes);
    s_client_count (self, client, error, bytes);
    if (dispatched) {
        zaio_stats_latency_t *latency = &self->latency[op];
        latency->count++;
        latency->queue_sum_us += queue_us;
        latency->service_sum_us += service_us;
        latency->queue[zaio_stats_bucket (queue_us)]++;
        latency->service[zaio_stats_bucket (service_us)]++;
    }
    s_worker_count (self, worker);
}

void
zaio_stats_answer (zaio_stats_t *self, const char *client, int op, const char *volume, int error)
{
    assert (op >= 0 && op <= ZAIO_STATS_OP_NONE);
    s_count (self, op, volume, error, 0);
    s_client_count (self, client, error, 0);
}

//  ---------------------------------------------------------------------
//  The reply

//  The name of a row's op: "" for requests that did not decode.
static const char *
s_op_name (int op)
{
    return op == ZAIO_STATS_OP_NONE ? "" : zaio_op_name ((zaio_op_t)op);
}

static void
s_pack_key_array (msgpack_packer *pk, const char *key, const uint64_t *values, size_t count)
{
    zaio_pack_str (pk, key);
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) zaio_pack_uint (pk, values[i]);
}

static void
s_pack_gauges (msgpack_packer *pk, const zaio_stats_snapshot_t *snapshot)
{
    zaio_pack_str (pk, "gauges");
    msgpack_pack_map (pk, 9);
    zaio_pack_key_uint (pk, "clients", snapshot->clients);
    zaio_pack_key_uint (pk, "held_bytes", snapshot->held_bytes);
    zaio_pack_key_uint (pk, "held_replies", snapshot->held_replies);
    zaio_pack_key_uint (pk, "inflight", snapshot->inflight);
    zaio_pack_key_uint (pk, "queued", snapshot->queued);
    zaio_pack_key_uint (pk, "queued_bytes", snapshot->queued_bytes);
    zaio_pack_key_uint (pk, "running", snapshot->running);
    zaio_pack_key_uint (pk, "subscriptions", snapshot->subscriptions);
    zaio_pack_key_uint (pk, "workers", snapshot->workers);
}

static void
s_pack_rows (zaio_stats_t *self, msgpack_packer *pk)
{
    zaio_pack_str (pk, "jobs");
    msgpack_pack_array (pk, self->row_count);
    for (size_t i = 0; i < self->row_count; i++) {
        const zaio_stats_row_t *row = &self->rows[i];
        msgpack_pack_map (pk, 5);
        zaio_pack_key_uint (pk, "bytes", row->bytes);
        zaio_pack_key_uint (pk, "jobs", row->jobs);
        zaio_pack_key_str (pk, "op", s_op_name (row->op));
        zaio_pack_key_str (pk, "outcome", row->outcome);
        zaio_pack_key_str (pk, "volume", row->volume);
    }
}

static void
s_pack_latency (zaio_stats_t *self, msgpack_packer *pk)
{
    uint32_t count = 0;
    for (int op = 0; op < ZAIO_OP_COUNT; op++) count += self->latency[op].count > 0;
    zaio_pack_str (pk, "latency");
    msgpack_pack_array (pk, count);
    for (int op = 0; op < ZAIO_OP_COUNT; op++) {
        const zaio_stats_latency_t *latency = &self->latency[op];
        if (!latency->count) continue;
        msgpack_pack_map (pk, 6);
        zaio_pack_key_uint (pk, "count", latency->count);
        zaio_pack_key_str (pk, "op", zaio_op_name ((zaio_op_t)op));
        s_pack_key_array (pk, "queue", latency->queue, ZAIO_STATS_BUCKETS);
        zaio_pack_key_uint (pk, "queue_sum_us", latency->queue_sum_us);
        s_pack_key_array (pk, "service", latency->service, ZAIO_STATS_BUCKETS);
        zaio_pack_key_uint (pk, "service_sum_us", latency->service_sum_us);
    }
    uint64_t bounds[ZAIO_STATS_BOUNDS];
    for (int i = 0; i < ZAIO_STATS_BOUNDS; i++) bounds[i] = 1ull << i;
    s_pack_key_array (pk, "latency_bounds_us", bounds, ZAIO_STATS_BOUNDS);
}

static void
s_pack_top (zaio_stats_t *self, msgpack_packer *pk, uint32_t top)
{
    zaio_stats_client_t clients[ZAIO_STATS_TOP_MAX];
    size_t count =
        zaio_stats_top (self, clients, top < ZAIO_STATS_TOP_MAX ? top : ZAIO_STATS_TOP_MAX);
    zaio_pack_str (pk, "top_clients");
    msgpack_pack_array (pk, count);
    for (size_t i = 0; i < count; i++) {
        msgpack_pack_map (pk, 4);
        zaio_pack_key_uint (pk, "bytes", clients[i].bytes);
        zaio_pack_key_str (pk, "client", clients[i].client);
        zaio_pack_key_uint (pk, "errors", clients[i].errors);
        zaio_pack_key_uint (pk, "jobs", clients[i].jobs);
    }
}

static void
s_pack_volumes (msgpack_packer *pk, const zaio_stats_snapshot_t *snapshot)
{
    zaio_pack_str (pk, "volumes");
    msgpack_pack_array (pk, snapshot->volume_count);
    for (size_t i = 0; i < snapshot->volume_count; i++) {
        const zaio_stats_volume_t *volume = &snapshot->volumes[i];
        msgpack_pack_map (pk, 6);
        zaio_pack_key_uint (pk, "capacity", volume->capacity);
        zaio_pack_key_uint (pk, "credit", volume->credit);
        zaio_pack_key_str (pk, "name", volume->name);
        zaio_pack_key_uint (pk, "queued", volume->queued);
        zaio_pack_key_uint (pk, "running", volume->running);
        zaio_pack_key_uint (pk, "workers", volume->workers);
    }
}

static void
s_pack_workers (zaio_stats_t *self, msgpack_packer *pk, const zaio_stats_snapshot_t *snapshot)
{
    zaio_pack_str (pk, "workers");
    msgpack_pack_array (pk, snapshot->worker_count);
    for (size_t i = 0; i < snapshot->worker_count; i++) {
        const zaio_stats_worker_t *worker = &snapshot->worker_list[i];
        msgpack_pack_map (pk, 7);
        zaio_pack_key_uint (pk, "capacity", worker->capacity);
        zaio_pack_key_uint (pk, "credit", worker->credit);
        zaio_pack_key_uint (pk, "jobs", zaio_stats_worker_jobs (self, worker->name));
        zaio_pack_key_str (pk, "name", worker->name);
        zaio_pack_key_bool (pk, "remote", worker->remote);
        zaio_pack_key_uint (pk, "running", worker->running);
        zaio_pack_str (pk, "volumes");
        msgpack_pack_array (pk, worker->volume_count);
        for (uint32_t v = 0; v < worker->volume_count; v++) zaio_pack_str (pk, worker->volumes[v]);
    }
}

void
zaio_stats_pack (zaio_stats_t *self, msgpack_packer *pk, uint64_t id,
                 const zaio_stats_snapshot_t *snapshot, uint32_t top)
{
    //  Keys in canonical order (PROTOCOL.md section 3.3).
    zaio_reply_pack_ok (pk, id, 10);
    s_pack_gauges (pk, snapshot);
    s_pack_rows (self, pk);
    s_pack_latency (self, pk); //  latency, latency_bounds_us
    zaio_pack_key_int (pk, "time_ns", snapshot->time_ns);
    s_pack_top (self, pk, top);
    zaio_pack_key_uint (pk, "uptime_ms", snapshot->uptime_ms);
    zaio_pack_key_str (pk, "version", ZAIO_VERSION_STRING);
    s_pack_volumes (pk, snapshot);
    s_pack_workers (self, pk, snapshot);
}
