/*  test_broker_transports: many concurrent clients over inproc, ipc and tcp,
    each keeping many requests in flight, get exactly one correct reply per
    request; a request sent the moment zaio_broker_new returns is served;
    and a broker removes the ipc socket files it made, and only those, when
    it stops. */

#include "testutil.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENTS_PER_TRANSPORT 6
#define REQUESTS_PER_CLIENT   600
#define IN_FLIGHT             32
#define FILE_SIZE             (256 * 1024)

typedef struct {
    const char *endpoint;
    uint32_t index;
    const uint8_t *content; //  what "shared.bin" holds
    int failures;
} s_client_args_t;

//  Request number n of a client: reads of shared.bin, and writes, stats and
//  pings on the client's own file, so replies can be checked exactly.
static void
s_build (zaio_request_t *req, uint32_t client, uint32_t n, char *data, size_t *size)
{
    uint64_t id = ((uint64_t)client << 32) | (n + 1);
    char path[64];
    snprintf (path, sizeof path, "own-%u.bin", client);
    *size = 0;
    switch (n % 4) {
        case 0:
            zaio_request_init (req, ZAIO_OP_READ, id);
            zaio_request_set_str (req, ZAIO_FIELD_PATH, "shared.bin");
            zaio_request_set_uint (req, ZAIO_FIELD_OFFSET, (n * 4096ull) % FILE_SIZE);
            zaio_request_set_uint (req, ZAIO_FIELD_LENGTH, 4096);
            break;
        case 1:
            zaio_request_init (req, ZAIO_OP_WRITE, id);
            zaio_request_set_str (req, ZAIO_FIELD_PATH, path);
            zaio_request_set_uint (req, ZAIO_FIELD_OFFSET, n * 8ull);
            zaio_request_set_uint (req, ZAIO_FIELD_CREATE, 1);
            *size = 8;
            snprintf (data, 9, "%08u", n % 100000000u); //  8 digits and the NUL
            break;
        case 2:
            zaio_request_init (req, ZAIO_OP_PING, id);
            break;
        default:
            zaio_request_init (req, ZAIO_OP_STAT, id);
            zaio_request_set_str (req, ZAIO_FIELD_PATH, "shared.bin");
            break;
    }
}

static void
s_client_thread (zsock_t *pipe, void *args)
{
    s_client_args_t *self = (s_client_args_t *)args;
    zsock_signal (pipe, 0);
    zsock_t *client = zaio_test_client (self->endpoint);
    uint8_t *replied = (uint8_t *)zmalloc (REQUESTS_PER_CLIENT);
    uint32_t sent = 0, received = 0;
    while (received < REQUESTS_PER_CLIENT) {
        while (sent < REQUESTS_PER_CLIENT && sent - received < IN_FLIGHT) {
            zaio_request_t req;
            char data[16];
            size_t size;
            s_build (&req, self->index, sent, data, &size);
            zaio_test_send (client, &req, size ? data : NULL, size);
            sent++;
        }
        zaio_reply_t reply;
        zmsg_t *msg;
        zaio_test_recv (client, &reply, &msg, 10000);
        uint32_t n = (uint32_t)(reply.id & 0xffffffff) - 1;
        bool good =
            (reply.id >> 32) == self->index && n < REQUESTS_PER_CLIENT && !replied[n] && reply.ok;
        if (good && n % 4 == 0) {
            zmsg_first (msg);
            zmsg_next (msg);
            zframe_t *data = zmsg_next (msg);
            size_t offset = (n * 4096ull) % FILE_SIZE;
            good = data && zframe_size (data) == 4096 && reply.bytes == 4096 &&
                   memcmp (zframe_data (data), self->content + offset, 4096) == 0;
        }
        if (good && n % 4 == 3) good = reply.size == FILE_SIZE && streq (reply.type, "file");
        if (!good) self->failures++;
        if (n < REQUESTS_PER_CLIENT) replied[n] = 1;
        received++;
        zmsg_destroy (&msg);
    }
    //  Exactly one reply each: nothing more arrives.
    zpoller_t *poller = zpoller_new (client, NULL);
    if (zpoller_wait (poller, 200)) self->failures++;
    zpoller_destroy (&poller);
    free (replied);
    zsock_destroy (&client);
}

static void
s_test_concurrent_clients (void)
{
    zaio_test_broker_t the_broker, *broker = &the_broker;
    zaio_test_broker_start (broker, NULL);
    uint8_t *content = (uint8_t *)malloc (FILE_SIZE);
    for (size_t i = 0; i < FILE_SIZE; i++) content[i] = (uint8_t)(i * 7 + i / 4096);
    zaio_test_write_file (broker->root, "shared.bin", content, FILE_SIZE);
    const char *endpoints[] = {broker->inproc, broker->ipc, broker->tcp};
    enum { TOTAL = 3 * CLIENTS_PER_TRANSPORT };
    s_client_args_t args[TOTAL];
    zactor_t *actors[TOTAL];
    int64_t started = zclock_mono ();
    for (uint32_t i = 0; i < TOTAL; i++) {
        args[i] = (s_client_args_t){endpoints[i % 3], i, content, 0};
        actors[i] = zactor_new (s_client_thread, &args[i]);
    }
    int failures = 0;
    for (uint32_t i = 0; i < TOTAL; i++) {
        zactor_destroy (&actors[i]); //  waits for the thread to finish
        failures += args[i].failures;
    }
    printf ("%d clients x %d requests over inproc/ipc/tcp in %" PRId64 " ms, %d failures\n", TOTAL,
            REQUESTS_PER_CLIENT, zclock_mono () - started, failures);
    assert (failures == 0);
    //  Every write landed where it was aimed.
    for (uint32_t i = 0; i < TOTAL; i++) {
        char path[64];
        snprintf (path, sizeof path, "own-%u.bin", i);
        size_t size;
        char *own = zaio_test_read_file (broker->root, path, &size);
        assert (own);
        for (uint32_t n = 1; n < REQUESTS_PER_CLIENT; n += 4) {
            char expected[9];
            snprintf (expected, sizeof expected, "%08u", n);
            assert (memcmp (own + n * 8, expected, 8) == 0);
        }
        free (own);
    }
    free (content);
    zaio_test_broker_stop (broker);
}

//  The inode of the socket file at path, or 0 if there is none.
static ino_t
s_socket_inode (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0 && S_ISSOCK (st.st_mode) ? st.st_ino : 0;
}

static zactor_t *
s_start_ipc_broker (const char *root, const char *endpoint)
{
    zaio_broker_config_t config;
    zaio_test_single_config (&config, root, endpoint);
    zactor_t *broker = zaio_broker_new (&config);
    assert (broker);
    return broker;
}

//  A socket file with no listener, as a broker killed with SIGKILL leaves.
static void
s_stale_socket (const char *path)
{
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s", path);
    assert (bind (fd, (struct sockaddr *)&address, sizeof address) == 0);
    close (fd);
}

//  A client on endpoint gets a ping answered.
static void
s_pings (const char *endpoint)
{
    zsock_t *client = zaio_test_client (endpoint);
    zaio_request_t ping;
    zaio_request_init (&ping, ZAIO_OP_PING, 1);
    zaio_reply_t reply;
    assert (zaio_test_call (client, &ping, NULL, 0, &reply, NULL, NULL) == 0);
    zsock_destroy (&client);
}

//  libzmq unlinks whatever is at an ipc path it binds, so a second broker
//  started by mistake on a live broker's path would take it over: it is
//  refused instead, and the first keeps serving. A stale file (no
//  listener) is taken over. libzmq leaves socket files behind; the
//  broker removes its own, and only its own.
static void
s_test_ipc_files (void)
{
    char *root = zaio_test_tempdir ("ipc");
    char *path = zsys_sprintf ("%s/client.ipc", root);
    char *endpoint = zsys_sprintf ("ipc://%s", path);
    zactor_t *first = s_start_ipc_broker (root, endpoint);
    ino_t first_inode = s_socket_inode (path);
    assert (first_inode);
    zaio_broker_config_t config;
    zaio_test_single_config (&config, root, endpoint);
    assert (zaio_broker_new (&config) == NULL);
    assert (s_socket_inode (path) == first_inode);
    zaio_test_served (endpoint);
    s_pings (endpoint);
    zaio_broker_destroy (&first);
    assert (s_socket_inode (path) == 0);

    s_stale_socket (path);
    zactor_t *second = s_start_ipc_broker (root, endpoint);
    zaio_test_served (endpoint);
    s_pings (endpoint);
    zaio_broker_destroy (&second);
    assert (s_socket_inode (path) == 0);
    //  A file that is not the broker's socket any more stays: here, a
    //  regular file put where the socket was.
    zactor_t *third = s_start_ipc_broker (root, endpoint);
    assert (unlink (path) == 0);
    zaio_test_write_file (root, "client.ipc", "keep", 4);
    zaio_broker_destroy (&third);
    struct stat st;
    assert (lstat (path, &st) == 0 && S_ISREG (st.st_mode));
    zaio_test_rmtree (root);
    zstr_free (&endpoint);
    zstr_free (&path);
    zstr_free (&root);
}

//  zaio_broker_new returns a broker that serves its default volume: a
//  request sent at once is run, never answered NOVOLUME because the local
//  workers had not announced themselves yet. Many rounds, since it is a
//  race when it goes wrong.
static void
s_test_served_at_once (void)
{
    char *root = zaio_test_tempdir ("served-at-once");
    for (int round = 0; round < 50; round++) {
        char endpoint[64];
        snprintf (endpoint, sizeof endpoint, "inproc://served-at-once-%d", round);
        zaio_broker_config_t config;
        zaio_test_single_config (&config, root, endpoint);
        config.workers = 2;
        zactor_t *broker = zaio_broker_new (&config);
        assert (broker);
        zsock_t *client = zaio_test_client (endpoint);
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_PING, 1);
        zaio_test_send (client, &req, NULL, 0);
        zaio_test_expect (client, 1, 0);
        zsock_destroy (&client);
        zaio_broker_destroy (&broker);
    }
    zaio_test_rmtree (root);
    zstr_free (&root);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_concurrent_clients),
        ZAIO_TEST_CASE (s_test_served_at_once),
        ZAIO_TEST_CASE (s_test_ipc_files),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
