/*  zaio_stats_bench: what watching a broker costs it (issue 21); run by
    `./scripts/bench --only watch`, which starts the broker.

        zaio_stats_bench ENDPOINT METRICS_PORT BROKER_PID [SECONDS ROUNDS CLIENTS]

    Against a running zaio-broker (client ENDPOINT, /metrics on
    127.0.0.1:METRICS_PORT, process BROKER_PID), in one run:

      1. throughput: CLIENTS threads each keep 64 pings in flight on a
         DEALER of their own; rounds of SECONDS alternate between no
         watcher and a watcher that asks `stats` every 100 ms and GETs
         /metrics every second. Prints jobs/s of each round, the means and
         their ratio (watched / unwatched);
      2. cost: 2000 stats requests one after the other on an idle broker,
         and 200 scrapes; prints the broker's CPU time (utime + stime from
         /proc) per stats call and per scrape, and the reply's size.

    A benchmark, not a test: nothing is enforced.
*/

#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_WINDOW 64

static const char *s_endpoint;
static int s_port;
static atomic_bool s_running;
static atomic_uint_fast64_t s_done;

//  One load thread: pings, S_WINDOW in flight, until s_running is false.
static void *
s_load (void *arg)
{
    (void)arg;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_connect (dealer, "%s", s_endpoint);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, 1);
    zframe_t *header = zaio_request_encode (&req);
    int inflight = 0;
    while (atomic_load (&s_running) || inflight) {
        while (atomic_load (&s_running) && inflight < S_WINDOW) {
            zsock_send (dealer, "sf", ZAIO_SIGNATURE, header);
            inflight++;
        }
        zmsg_t *reply = zmsg_recv (dealer);
        if (!reply) break;
        //  A ping's reply is {"id": 1, "ok": true}: 9 bytes, 0xc3 (true) last.
        zframe_t *frame = zmsg_last (reply);
        assert (zmsg_size (reply) == 2 && zframe_size (frame) == 9 &&
                zframe_data (frame)[8] == 0xc3);
        zmsg_destroy (&reply);
        inflight--;
        atomic_fetch_add (&s_done, 1);
    }
    zframe_destroy (&header);
    zsock_destroy (&dealer);
    return NULL;
}

//  One stats request on dealer; returns the reply's header size.
static size_t
s_stats (zsock_t *dealer, uint64_t id)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, id);
    zframe_t *header = zaio_request_encode (&req);
    zsock_send (dealer, "sf", ZAIO_SIGNATURE, header);
    zframe_destroy (&header);
    zmsg_t *reply = zmsg_recv (dealer);
    assert (reply && zmsg_size (reply) == 2);
    zaio_reply_t decoded;
    char why[64];
    zframe_t *frame = zmsg_last (reply);
    assert (zaio_reply_decode (&decoded, zframe_data (frame), zframe_size (frame), why,
                               sizeof why) == 0 &&
            decoded.ok);
    size_t size = zframe_size (frame);
    zmsg_destroy (&reply);
    return size;
}

//  One GET of /metrics; returns the bytes received.
static size_t
s_scrape (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)s_port)};
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    assert (connect (fd, (struct sockaddr *)&address, sizeof address) == 0);
    const char *request = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    assert (write (fd, request, strlen (request)) == (ssize_t)strlen (request));
    char buffer[65536];
    size_t total = 0;
    ssize_t got;
    while ((got = read (fd, buffer, sizeof buffer)) > 0) total += (size_t)got;
    close (fd);
    return total;
}

//  A thread's CPU time in microseconds, from its schedstat (ns, exact,
//  unlike stat's clock ticks); its name into comm.
static uint64_t
s_thread_cpu (int pid, const char *tid, char *comm, size_t comm_size)
{
    char path[512];
    snprintf (path, sizeof path, "/proc/%d/task/%s/comm", pid, tid);
    FILE *file = fopen (path, "r");
    comm[0] = 0;
    if (file) {
        if (fgets (comm, (int)comm_size, file)) comm[strcspn (comm, "\n")] = 0;
        fclose (file);
    }
    snprintf (path, sizeof path, "/proc/%d/task/%s/schedstat", pid, tid);
    file = fopen (path, "r");
    unsigned long long ns = 0;
    if (file) {
        if (fscanf (file, "%llu", &ns) != 1) ns = 0;
        fclose (file);
    }
    return ns / 1000;
}

//  The broker's CPU time so far, in microseconds: of the whole process, or
//  only of its threads named zaio-broker (the main thread, which waits,
//  and the broker's loop).
static uint64_t
s_cpu_us (int pid, bool loop_only)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/task", pid);
    DIR *dir = opendir (path);
    assert (dir);
    uint64_t total = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.') continue;
        char comm[64];
        uint64_t used = s_thread_cpu (pid, entry->d_name, comm, sizeof comm);
        if (!loop_only || streq (comm, "zaio-broker")) total += used;
    }
    closedir (dir);
    return total;
}

//  One round of seconds: the load, watched or not. Returns jobs/s.
static double
s_round (int seconds, int clients, bool watched)
{
    atomic_store (&s_done, 0);
    atomic_store (&s_running, true);
    pthread_t threads[64];
    for (int i = 0; i < clients; i++) pthread_create (&threads[i], NULL, s_load, NULL);
    zsock_t *dealer = watched ? zsock_new_dealer (s_endpoint) : NULL;
    zclock_sleep (200); //  warm-up
    uint64_t start_done = atomic_load (&s_done);
    int64_t start = zclock_usecs ();
    int64_t end = start + (int64_t)seconds * 1000000;
    int64_t next_stats = start, next_scrape = start;
    uint64_t id = 1;
    while (zclock_usecs () < end) {
        if (watched && zclock_usecs () >= next_stats) {
            s_stats (dealer, id++);
            next_stats += 100000;
        }
        if (watched && zclock_usecs () >= next_scrape) {
            s_scrape ();
            next_scrape += 1000000;
        }
        zclock_sleep (5);
    }
    uint64_t done = atomic_load (&s_done) - start_done;
    double rate = (double)done * 1e6 / (double)(zclock_usecs () - start);
    atomic_store (&s_running, false);
    for (int i = 0; i < clients; i++) pthread_join (threads[i], NULL);
    zsock_destroy (&dealer);
    return rate;
}

int
main (int argc, char *argv[])
{
    if (argc < 4) {
        fprintf (
            stderr,
            "usage: zaio_stats_bench ENDPOINT METRICS_PORT BROKER_PID [SECONDS ROUNDS CLIENTS]\n");
        return 2;
    }
    zsys_init (); //  once, before the load threads make sockets at once
    s_endpoint = argv[1];
    s_port = atoi (argv[2]);
    int pid = atoi (argv[3]);
    int seconds = argc > 4 ? atoi (argv[4]) : 3;
    int rounds = argc > 5 ? atoi (argv[5]) : 5;
    int clients = argc > 6 ? atoi (argv[6]) : 2;

    double sum[2] = {0, 0};
    for (int r = 0; r < 2 * rounds; r++) {
        bool watched = (r % 2) == (r / 2 % 2); //  ABBA order, so drift cancels
        double rate = s_round (seconds, clients, watched);
        sum[watched] += rate;
        printf ("round %2d  %-9s  %10.0f pings/s\n", r + 1, watched ? "watched" : "unwatched",
                rate);
        fflush (stdout);
    }
    printf ("mean      unwatched  %10.0f pings/s\n", sum[0] / rounds);
    printf ("mean      watched    %10.0f pings/s  (stats every 100 ms, /metrics every 1 s)\n",
            sum[1] / rounds);
    printf ("ratio     %.4f\n", sum[1] / sum[0]);

    zsock_t *dealer = zsock_new_dealer (s_endpoint);
    size_t size = s_stats (dealer, 1);
    const int calls = 5000, scrapes = 500;
    uint64_t loop = s_cpu_us (pid, true), all = s_cpu_us (pid, false);
    int64_t start = zclock_usecs ();
    for (int i = 0; i < calls; i++) s_stats (dealer, (uint64_t)i + 2);
    int64_t elapsed = zclock_usecs () - start;
    printf ("stats     %d calls: broker loop CPU %.1f us a call (process %.1f), round trip "
            "%.1f us, reply %zu bytes\n",
            calls, (double)(s_cpu_us (pid, true) - loop) / calls,
            (double)(s_cpu_us (pid, false) - all) / calls, (double)elapsed / calls, size);
    loop = s_cpu_us (pid, true), all = s_cpu_us (pid, false);
    start = zclock_usecs ();
    size_t bytes = 0;
    for (int i = 0; i < scrapes; i++) bytes = s_scrape ();
    elapsed = zclock_usecs () - start;
    printf ("/metrics  %d scrapes: broker loop CPU %.1f us a scrape (process, HTTP thread "
            "included, %.1f), %.1f us each, %zu bytes\n",
            scrapes, (double)(s_cpu_us (pid, true) - loop) / scrapes,
            (double)(s_cpu_us (pid, false) - all) / scrapes, (double)elapsed / scrapes, bytes);
    zsock_destroy (&dealer);
    return 0;
}
