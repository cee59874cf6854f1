/*  test_client_sync.c: libzaio's blocking calls, every op, over inproc,
    ipc and tcp, against a real broker: results, error codes, and the
    zero-copy read buffer. Requests over the broker's limits are refused
    by the client (TOOBIG) without being sent: data over the payload_max
    hello reported, which would cost the connection and every call on it.
*/

#include "testutil.h"
#include "zaio.h"

#include <errno.h>
#include <string.h>

static void
s_check_ops (const char *endpoint, const char *root)
{
    zaio_client_t *client = zaio_client_new (endpoint);
    assert (client);
    assert (streq (zaio_client_endpoint (client), endpoint));
    assert (zaio_client_ping (client) == 0);

    //  hello, and the limits the client keeps from its own hello
    zaio_hello_t hello;
    assert (zaio_client_hello (client, &hello) == 0);
    assert (hello.protocol == 1);
    assert (hello.payload_max == ZAIO_PAYLOAD_MAX);
    assert (hello.inflight_max > 0);
    zaio_broker_config_t defaults;
    zaio_broker_config_defaults (&defaults);
    assert (hello.reply_hwm == defaults.reply_hwm);
    assert (hello.queue_bytes_max == defaults.queue_bytes_max);
    assert (hello.ops & (1u << ZAIO_OP_READ));
    assert (hello.volume_count >= 1 && streq (hello.volumes[0].name, "default"));
    const zaio_hello_t *limits = zaio_client_limits (client);
    assert (limits && limits->inflight_max == hello.inflight_max);

    //  writefile, readfile: the buffer is the frame, ours to keep
    const char *text = "hello, zaio\n";
    assert (zaio_client_writefile (client, "a.txt", text, strlen (text)) == 0);
    zaio_buf_t *buf = NULL;
    assert (zaio_client_readfile (client, "a.txt", &buf) == 0);
    assert (buf && zaio_buf_size (buf) == strlen (text));
    assert (memcmp (zaio_buf_data (buf), text, strlen (text)) == 0);
    zaio_buf_destroy (&buf);
    assert (buf == NULL);
    zaio_buf_destroy (&buf); //  idempotent

    //  read at an offset, with eof
    bool eof = true;
    assert (zaio_client_read (client, "a.txt", 0, 5, &buf, &eof) == 0);
    assert (zaio_buf_size (buf) == 5 && memcmp (zaio_buf_data (buf), "hello", 5) == 0);
    assert (!eof);
    zaio_buf_destroy (&buf);
    assert (zaio_client_read (client, "a.txt", 7, 100, &buf, &eof) == 0);
    assert (zaio_buf_size (buf) == 5 && memcmp (zaio_buf_data (buf), "zaio\n", 5) == 0);
    assert (eof);
    zaio_buf_destroy (&buf);

    //  write, append, truncate, stat
    assert (zaio_client_write (client, "b.bin", 0, "xy", 2, false) == ENOENT);
    assert (zaio_client_write (client, "b.bin", 4, "xy", 2, true) == 0);
    uint64_t where = 0;
    assert (zaio_client_append (client, "b.bin", "zz", 2, false, &where) == 0);
    assert (where == 6);
    zaio_stat_t st;
    assert (zaio_client_stat (client, "b.bin", &st) == 0);
    assert (streq (st.type, "file") && st.size == 8 && st.mtime_ns > 0);
    assert (zaio_client_truncate (client, "b.bin", 3) == 0);
    assert (zaio_client_stat (client, "b.bin", &st) == 0 && st.size == 3);
    assert (zaio_client_fsync (client, "b.bin", false) == 0);
    assert (zaio_client_fsync (client, "b.bin", true) == 0);

    //  directories
    assert (zaio_client_mkdir (client, "d/e/f", false) == ENOENT);
    assert (zaio_client_mkdir (client, "d/e/f", true) == 0);
    assert (zaio_client_mkdir (client, "d/e/f", true) == 0);
    assert (zaio_client_mkdir (client, "d", false) == EEXIST);
    assert (zaio_client_stat (client, "d/e", &st) == 0 && streq (st.type, "dir"));
    assert (zaio_client_copy (client, "a.txt", "d/copy.txt", &where) == 0);
    assert (where == strlen (text));
    assert (zaio_client_rename (client, "d/copy.txt", "d/moved.txt") == 0);
    assert (zaio_client_stat (client, "d/copy.txt", &st) == ENOENT);

    zaio_dirent_t *entries;
    size_t count;
    bool more;
    assert (zaio_client_listdir (client, "d", NULL, 0, &entries, &count, &more) == 0);
    assert (count == 2 && !more);
    assert (streq (entries[0].name, "e") && streq (entries[0].type, "dir"));
    assert (streq (entries[1].name, "moved.txt") && entries[1].size == strlen (text));
    free (entries);
    //  paging
    assert (zaio_client_listdir (client, "d", NULL, 1, &entries, &count, &more) == 0);
    assert (count == 1 && more && streq (entries[0].name, "e"));
    free (entries);
    assert (zaio_client_listdir (client, "d", "e", 1, &entries, &count, &more) == 0);
    assert (count == 1 && !more && streq (entries[0].name, "moved.txt"));
    free (entries);

    assert (zaio_client_rmdir (client, "d") == ENOTEMPTY);
    assert (zaio_client_unlink (client, "d/moved.txt") == 0);
    assert (zaio_client_unlink (client, "d/moved.txt") == ENOENT);
    assert (zaio_client_rmdir (client, "d/e/f") == 0);

    //  errors the broker names, and their names and texts
    assert (zaio_client_stat (client, "../escape", &st) == EXDEV);
    assert (zaio_client_readfile (client, "nope", &buf) == ENOENT && buf == NULL);
    assert (streq (zaio_errname (ENOENT), "ENOENT"));
    assert (streq (zaio_strerror (ENOENT), "No such file or directory"));
    assert (streq (zaio_errname (ZAIO_ERR_CONNLOST), "CONNLOST"));
    assert (streq (zaio_errname (ZAIO_ERR_QUEUE_FULL), "QUEUE_FULL"));

    //  a path the client refuses before sending
    char long_path[ZAIO_PATH_MAX + 10];
    memset (long_path, 'x', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = 0;
    assert (zaio_client_stat (client, long_path, &st) == ENAMETOOLONG);

    //  the file on disk is what we wrote
    size_t size;
    char *disk = zaio_test_read_file (root, "a.txt", &size);
    assert (disk && size == strlen (text) && memcmp (disk, text, size) == 0);
    free (disk);

    //  a buffer outlives its client
    assert (zaio_client_readfile (client, "a.txt", &buf) == 0);
    zaio_client_destroy (&client);
    assert (client == NULL);
    zaio_client_destroy (&client);
    assert (memcmp (zaio_buf_data (buf), text, strlen (text)) == 0);
    zaio_buf_destroy (&buf);

    //  leave the root empty for the next round
    client = zaio_client_new (endpoint);
    assert (zaio_client_unlink (client, "a.txt") == 0);
    assert (zaio_client_unlink (client, "b.bin") == 0);
    assert (zaio_client_rmdir (client, "d/e") == 0);
    assert (zaio_client_rmdir (client, "d") == 0);
    zaio_client_destroy (&client);
}

//  A broker with a small payload limit, over tcp where its transport limit
//  (payload_max plus some slack) applies.
static void
s_test_payload_limit (void)
{
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.payload_max = 65536;
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, &config);
    size_t big_size = config.payload_max + 2 * 65536; //  past the slack too
    char *big = (char *)calloc (1, big_size);
    assert (big);
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITE, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "big.bin");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);

    //  started before the client has its hello: refused once it has
    zaio_client_t *client = zaio_client_new (broker.tcp);
    assert (client);
    zaio_buf_t *buf = zaio_buf_new (big, big_size);
    zaio_call_t *call = zaio_client_start (client, &req, &buf);
    assert (zaio_call_wait (call, 5000) == 0);
    assert (zaio_call_error (call) == ZAIO_ERR_TOOBIG);
    zaio_call_destroy (&call);
    assert (zaio_client_limits (client)->payload_max == config.payload_max);

    //  with the limit known, refused at once; a write in flight beside it
    //  is unaffected
    zaio_request_t small_req = req;
    zaio_request_set_str (&small_req, ZAIO_FIELD_PATH, "small.bin");
    buf = zaio_buf_new (big, 100);
    zaio_call_t *small = zaio_client_start (client, &small_req, &buf);
    buf = zaio_buf_new (big, big_size);
    call = zaio_client_start (client, &req, &buf);
    assert (zaio_call_done (call) && zaio_call_error (call) == ZAIO_ERR_TOOBIG);
    assert (strstr (zaio_call_message (call), "65536"));
    assert (zaio_call_wait (small, 5000) == 0 && zaio_call_error (small) == 0);
    zaio_call_destroy (&call);
    zaio_call_destroy (&small);
    assert (zaio_client_write (client, "big.bin", 0, big, config.payload_max + 1, true) ==
            ZAIO_ERR_TOOBIG);
    //  the limit itself is allowed
    assert (zaio_client_write (client, "edge.bin", 0, big, config.payload_max, true) == 0);
    zaio_stat_t st;
    assert (zaio_client_stat (client, "big.bin", &st) == ENOENT);

    //  The largest request a zaio_request_t can hold fits in a header
    //  (the broker answers an oversized one with id 0, which no call could
    //  match); a path over ZAIO_PATH_MAX is refused before any of that.
    zaio_request_t max;
    zaio_request_init (&max, ZAIO_OP_COPY, UINT64_MAX);
    char text[ZAIO_PATH_MAX + 1];
    memset (text, 'x', ZAIO_PATH_MAX);
    text[ZAIO_PATH_MAX] = 0;
    zaio_request_set_str (&max, ZAIO_FIELD_PATH, text);
    zaio_request_set_str (&max, ZAIO_FIELD_TO, text);
    zaio_request_set_str (&max, ZAIO_FIELD_AFTER, text + ZAIO_PATH_MAX - ZAIO_NAME_MAX);
    zaio_request_set_str (&max, ZAIO_FIELD_VOLUME, text + ZAIO_PATH_MAX - ZAIO_VOLUME_MAX);
    zaio_request_set_str (&max, ZAIO_FIELD_KEY, text + ZAIO_PATH_MAX - ZAIO_KEY_MAX);
    zaio_field_t numbers[] = {ZAIO_FIELD_OFFSET,   ZAIO_FIELD_LENGTH,  ZAIO_FIELD_SIZE,
                              ZAIO_FIELD_MODE,     ZAIO_FIELD_LIMIT,   ZAIO_FIELD_DEADLINE,
                              ZAIO_FIELD_PRIORITY, ZAIO_FIELD_CREATE,  ZAIO_FIELD_PARENTS,
                              ZAIO_FIELD_DATASYNC, ZAIO_FIELD_BARRIER, ZAIO_FIELD_LINK};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        zaio_request_set_uint (&max, numbers[i], UINT64_MAX);
    zframe_t *header = zaio_request_encode (&max);
    assert (header && zframe_size (header) <= ZAIO_HEADER_MAX);
    zframe_destroy (&header);
    char long_path[9000];
    memset (long_path, 'x', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = 0;
    assert (zaio_client_stat (client, long_path, &st) == ENAMETOOLONG);

    zaio_client_destroy (&client);
    free (big);
    zaio_test_broker_stop (&broker);
}

//  Every blocking call over the transport named, against a broker of its
//  own.
static void
s_ops_over (const char *transport)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    const char *endpoint = streq (transport, "ipc")   ? broker.ipc
                           : streq (transport, "tcp") ? broker.tcp
                                                      : broker.inproc;
    s_check_ops (endpoint, broker.root);
    zaio_test_broker_stop (&broker);
}

static void
s_test_ops_over_inproc (void)
{
    s_ops_over ("inproc");
}

static void
s_test_ops_over_ipc (void)
{
    s_ops_over ("ipc");
}

static void
s_test_ops_over_tcp (void)
{
    s_ops_over ("tcp");
}

//  A malformed endpoint is refused at once.
static void
s_test_malformed_endpoint_refused (void)
{
    assert (zaio_client_new ("bogus://x") == NULL);
}

//  Buffers made by the caller.
static void
s_test_caller_buffers (void)
{
    zaio_buf_t *buf = zaio_buf_new ("abc", 3);
    assert (zaio_buf_size (buf) == 3 && memcmp (zaio_buf_data (buf), "abc", 3) == 0);
    zaio_buf_destroy (&buf);
    static char fixed[] = "fixed";
    buf = zaio_buf_new_wrap (fixed, 5, NULL, NULL);
    assert (zaio_buf_data (buf) == fixed);
    zaio_buf_destroy (&buf);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_ops_over_inproc), ZAIO_TEST_CASE (s_test_ops_over_ipc),
        ZAIO_TEST_CASE (s_test_ops_over_tcp),    ZAIO_TEST_CASE (s_test_malformed_endpoint_refused),
        ZAIO_TEST_CASE (s_test_caller_buffers),  ZAIO_TEST_CASE (s_test_payload_limit),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
