/*  test_client_sync.c: libzaio's blocking calls, every op, over inproc,
    ipc and tcp, against a real broker: results, error codes, and the
    zero-copy read buffer.
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

int
main (void)
{
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, NULL);
    s_check_ops (broker.inproc, broker.root);
    s_check_ops (broker.ipc, broker.root);
    s_check_ops (broker.tcp, broker.root);

    //  a malformed endpoint is refused at once
    assert (zaio_client_new ("bogus://x") == NULL);

    //  buffers made by the caller
    zaio_buf_t *buf = zaio_buf_new ("abc", 3);
    assert (zaio_buf_size (buf) == 3 && memcmp (zaio_buf_data (buf), "abc", 3) == 0);
    zaio_buf_destroy (&buf);
    static char fixed[] = "fixed";
    buf = zaio_buf_new_wrap (fixed, 5, NULL, NULL);
    assert (zaio_buf_data (buf) == fixed);
    zaio_buf_destroy (&buf);

    zaio_test_broker_stop (&broker);
    zsys_shutdown ();
    printf ("test_client_sync: OK\n");
    return 0;
}
