/*  test_broker_accept: the broker backs off when it runs out of
    descriptors, rather than spin.

    zaio-broker runs under a low RLIMIT_NOFILE; the test opens more tcp
    connections than it has descriptors left and holds them. libzmq's tcp
    listener, left alone, retries accept (2) at once on EMFILE and its I/O
    thread spins a core for as long as they are held. The broker's guard
    (broker/zaio_guard.h) pauses its listeners instead: the broker's CPU
    time over the hold stays far below a core, the episode is logged once,
    and once the connections close the listener comes back, so a new client
    and a client connected before both get answers within a bounded time.
*/

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_NOFILE    64    //  the broker's descriptor limit
#define S_FLOOD     128   //  connections opened: well past what is left
#define S_HOLD_MS   2000  //  how long they are held, and CPU measured
#define S_REDIAL_MS 50    //  a connection the broker dropped is made again after this
#define S_CPU_MAX   0.30  //  of the hold: a spinning core is 1.0
#define S_RETURN_MS 10000 //  the listener back and answering within this
#define S_WARNING   "guard: client listeners cannot accept"
#define S_STOP_MS   30000 //  for the broker to exit after SIGTERM

//  Starts zaio-broker with RLIMIT_NOFILE of S_NOFILE, one local worker
//  and its client endpoint on a free port below the ephemeral range (as
//  a service's is), its stderr in a file; returns once it has printed
//  "ready". While the guard has the listener unbound, its port is free: an
//  ephemeral one could go to any outgoing connection on the machine (the
//  flood's own redials, or another test's), and the guard could not bind
//  it again.
static void
s_daemon_start (zaio_test_daemon_t *self)
{
    char bind[64];
    snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", zaio_test_free_port ());
    zaio_test_daemon_options_t options = {
        .bind = bind, .events = ZAIO_TEST_ANY_TCP, .workers = 1, .nofile = S_NOFILE};
    zaio_test_daemon_start (self, &options);
}

//  The process's user + system CPU time, in ms.
static int64_t
s_cpu_ms (pid_t pid)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen (path, "r");
    assert (file);
    char text[1024];
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[size] = 0;
    //  Fields after the command's ")": state is the 3rd, utime the 14th.
    char *rest = strrchr (text, ')');
    assert (rest);
    unsigned long utime = 0, stime = 0;
    int got =
        sscanf (rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    assert (got == 2);
    return (int64_t)(utime + stime) * 1000 / sysconf (_SC_CLK_TCK);
}

//  A plain tcp connection to the endpoint's port, started without waiting
//  (a full backlog may leave it pending): it holds one of the broker's
//  descriptors once accepted, and sends nothing.
static int
s_raw_connect (const char *endpoint)
{
    int port = atoi (strrchr (endpoint, ':') + 1);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert (fd >= 0);
    int rc = connect (fd, (struct sockaddr *)&address, sizeof address);
    assert (rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
    return fd;
}

//  A connection the broker closed (or refused): EOF, reset or error;
//  bytes it sent (its ZMTP greeting) are read and dropped.
static bool
s_dropped (struct pollfd *item)
{
    if (item->revents & (POLLERR | POLLHUP)) return true;
    if (!(item->revents & POLLIN)) return false;
    char bytes[256];
    ssize_t size = recv (item->fd, bytes, sizeof bytes, 0);
    return size == 0 || (size < 0 && errno != EAGAIN);
}

//  Holds the connections in fds for hold_ms as an attacker would: each one
//  the broker drops is made again S_REDIAL_MS later. Returns how many
//  were made again.
static int
s_hold (int *fds, int count, const char *endpoint, int64_t hold_ms)
{
    struct pollfd items[S_FLOOD];
    int64_t redial_ms[S_FLOOD];
    for (int i = 0; i < count; i++) items[i] = (struct pollfd){fds[i], POLLIN, 0};
    int64_t until = zclock_mono () + hold_ms;
    int redials = 0;
    int64_t now;
    while ((now = zclock_mono ()) < until) {
        int64_t wait = until - now < S_REDIAL_MS ? until - now : S_REDIAL_MS;
        poll (items, (nfds_t)count, (int)wait); //  those dropped (fd -1) are left out
        now = zclock_mono ();
        for (int i = 0; i < count; i++)
            if (items[i].fd >= 0 && s_dropped (&items[i])) {
                close (items[i].fd);
                items[i].fd = -1;
                redial_ms[i] = now + S_REDIAL_MS;
            } else if (items[i].fd < 0 && now >= redial_ms[i]) {
                items[i] = (struct pollfd){s_raw_connect (endpoint), POLLIN, 0};
                redials++;
            }
    }
    for (int i = 0; i < count; i++) fds[i] = items[i].fd;
    return redials;
}

//  Pings on client until answered; returns how long it took (ms), or -1
//  if no answer came within S_RETURN_MS.
static int64_t
s_ping_within (zsock_t *client, uint64_t id)
{
    int64_t start = zclock_mono ();
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, id);
    zaio_test_send (client, &req, NULL, 0);
    zpoller_t *poller = zpoller_new (client, NULL);
    void *which = zpoller_wait (poller, S_RETURN_MS);
    zpoller_destroy (&poller);
    if (which != client) return -1;
    zmsg_t *msg = zmsg_recv (client);
    assert (msg && zmsg_size (msg) >= 2);
    assert (zframe_streq (zmsg_first (msg), ZAIO_SIGNATURE));
    zframe_t *header = zmsg_next (msg);
    zaio_reply_t reply;
    char why[128];
    assert (zaio_reply_decode (&reply, zframe_data (header), zframe_size (header), why,
                               sizeof why) == 0);
    assert (reply.id == id && reply.error == 0);
    zmsg_destroy (&msg);
    return zclock_mono () - start;
}

//  Descriptors run out under a flood of idle connections: no spin, one
//  warning, and the listener back for new and earlier clients after.
static void
s_test_exhaustion_backs_off (void)
{
    zaio_test_daemon_t daemon;
    s_daemon_start (&daemon);
    zaio_test_served (daemon.client);
    zsock_t *early = zaio_test_client (daemon.client);
    assert (s_ping_within (early, 1) >= 0);

    int fds[S_FLOOD];
    int64_t cpu_before = s_cpu_ms (daemon.proc.pid);
    int64_t start = zclock_mono ();
    for (int i = 0; i < S_FLOOD; i++) fds[i] = s_raw_connect (daemon.client);
    int redials = s_hold (fds, S_FLOOD, daemon.client, S_HOLD_MS);
    int64_t cpu = s_cpu_ms (daemon.proc.pid) - cpu_before;
    int64_t window = zclock_mono () - start;
    printf ("broker CPU %" PRId64 " ms over %" PRId64 " ms held (%.0f%% of a core), %d "
            "connections made again\n",
            cpu, window, 100.0 * (double)cpu / (double)window, redials);
    int warnings = zaio_test_daemon_log_count (&daemon, S_WARNING);
    assert (cpu < (int64_t)(S_CPU_MAX * (double)window));
    assert (warnings == 1);

    for (int i = 0; i < S_FLOOD; i++)
        if (fds[i] >= 0) close (fds[i]);
    //  Each step says when it is done, so a run that hangs shows where.
    printf ("flood released\n");
    zsock_t *late = zaio_test_client (daemon.client);
    int64_t late_ms = s_ping_within (late, 2);
    printf ("new client: %" PRId64 " ms\n", late_ms);
    int64_t early_ms = s_ping_within (early, 3);
    printf ("after release: new client answered in %" PRId64 " ms, earlier one in %" PRId64
            " ms more\n",
            late_ms, early_ms);
    if (late_ms < 0 || early_ms < 0) {
        char *log = zaio_test_read_file ("/", daemon.log, NULL);
        fprintf (stderr, "broker log:\n%s", log ? log : "(none)\n");
        free (log);
    }
    assert (late_ms >= 0 && early_ms >= 0);
    zsock_destroy (&late);
    zsock_destroy (&early);
    assert (zaio_test_daemon_stop (&daemon, SIGTERM, S_STOP_MS) == 0);
}

int
main (int argc, char *argv[])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_exhaustion_backs_off),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
