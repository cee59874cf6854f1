/*  test_broker_badinput: every malformed request gets the right error reply
    and the broker keeps serving; nothing outside the root is touched. */

#include "testutil.h"
#include "vectors_json.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t s_next_id = 1000;

//  The broker still answers a ping correctly.
static void
s_assert_alive (zsock_t *client)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_PING, ++s_next_id);
    zaio_reply_t reply;
    assert (zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL) == 0);
}

//  Sends raw frames; returns the error name of the reply (static buffer).
static const char *
s_send_raw (zsock_t *client, zmsg_t **msg_p, uint64_t *id)
{
    assert (zmsg_send (msg_p, client) == 0);
    zaio_reply_t reply;
    zmsg_t *answer;
    zaio_test_recv (client, &reply, &answer, 5000);
    zmsg_destroy (&answer);
    assert (!reply.ok);
    *id = reply.id;
    return zaio_error_name (reply.error);
}

//  A broker on a fresh root and a client on its inproc endpoint, alive.
typedef struct {
    zaio_test_broker_t broker;
    zsock_t *client;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    zaio_test_broker_start (&rig->broker, NULL);
    rig->client = zaio_test_client (rig->broker.inproc);
    s_assert_alive (rig->client);
}

static void
s_rig_stop (s_rig_t *rig)
{
    zsock_destroy (&rig->client);
    zaio_test_broker_stop (&rig->broker);
}

//  Every vector of schemas/vectors/invalid.json gets its error reply.
static void
s_test_invalid_vectors (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *client = rig.client;
    char *path = zsys_sprintf ("%s/schemas/vectors/invalid.json", ZAIO_SOURCE_DIR);
    char why[128];
    zaio_json_t *doc = zaio_json_load (path, why, sizeof why);
    assert (doc);
    zaio_json_t *vectors = zaio_json_get (doc, "vectors");
    size_t count = zaio_json_size (vectors);
    assert (count >= 20);
    for (size_t i = 0; i < count; i++) {
        zaio_json_t *vector = zaio_json_at (vectors, i);
        const char *name = zaio_json_string (zaio_json_get (vector, "name"), NULL);
        const char *error = zaio_json_string (zaio_json_get (vector, "error"), NULL);
        zaio_json_t *frames = zaio_json_get (vector, "frames");
        zmsg_t *msg = zmsg_new ();
        for (size_t f = 0; f < zaio_json_size (frames); f++) {
            size_t size;
            uint8_t *bytes = zaio_json_hex (zaio_json_at (frames, f), &size);
            zmsg_addmem (msg, bytes, size);
            free (bytes);
        }
        uint64_t id;
        const char *got = s_send_raw (client, &msg, &id);
        if (strcmp (got, error)) {
            fprintf (stderr, "vector %s: expected %s, got %s\n", name, error, got);
            assert (false);
        }
        s_assert_alive (client);
    }
    printf ("%zu invalid vectors answered correctly\n", count);
    zaio_json_destroy (&doc);
    zstr_free (&path);
    s_rig_stop (&rig);
}

//  Cases the vectors cannot express: frame shapes and transport abuse.
static void
s_test_frame_shapes (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *client = rig.client;
    uint64_t id;
    //  REQ-style empty delimiter first: not our signature.
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    assert (streq (s_send_raw (client, &msg, &id), "BADVERSION"));
    assert (id == 0);
    //  A single empty frame.
    msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    assert (streq (s_send_raw (client, &msg, &id), "BADVERSION"));
    //  Write with two data frames.
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITE, 77);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "two-frames");
    zaio_request_set_uint (&req, ZAIO_FIELD_CREATE, 1);
    msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zmsg_append (msg, &(zframe_t *){zaio_request_encode (&req)});
    zmsg_addstr (msg, "a");
    zmsg_addstr (msg, "b");
    assert (streq (s_send_raw (client, &msg, &id), "MALFORMED"));
    assert (id == 77);
    s_assert_alive (client);
    s_rig_stop (&rig);
}

//  A request through the whole path to a worker; returns its error code.
static int
s_call_path (zsock_t *client, zaio_op_t op, const char *path, const char *to)
{
    zaio_request_t req;
    zaio_request_init (&req, op, ++s_next_id);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, path);
    if (to) zaio_request_set_str (&req, ZAIO_FIELD_TO, to);
    if (op == ZAIO_OP_READ) zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 100);
    if (op == ZAIO_OP_WRITE || op == ZAIO_OP_APPEND || op == ZAIO_OP_WRITEFILE)
        zaio_request_set_uint (&req, op == ZAIO_OP_WRITEFILE ? ZAIO_FIELD_MODE : ZAIO_FIELD_CREATE,
                               op == ZAIO_OP_WRITEFILE ? 0644 : 1);
    bool with_data = zaio_op_takes_data (op);
    zaio_reply_t reply;
    return zaio_test_call (client, &req, with_data ? "evil" : NULL, with_data ? 4 : 0, &reply, NULL,
                           NULL);
}

//  No op reaches outside the root, by '..', an absolute path or a link.
static void
s_test_escapes (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zsock_t *client = rig.client;
    const char *root = rig.broker.root;
    //  A file beside the root that must never change, and links out to it.
    char *outside_dir = zaio_test_tempdir ("outside");
    zaio_test_write_file (outside_dir, "secret", "secret", 6);
    char *link_abs = zsys_sprintf ("%s/abs-link", root);
    char *link_dir = zsys_sprintf ("%s/dir-link", root);
    assert (symlink (outside_dir, link_dir) == 0);
    char *target = zsys_sprintf ("%s/secret", outside_dir);
    assert (symlink (target, link_abs) == 0);

    const char *escapes[] = {"../outside",      "/etc/passwd",  "a/../../x",          "abs-link",
                             "dir-link/secret", "dir-link/new", "dir-link/../secret", NULL};
    const zaio_op_t ops[] = {ZAIO_OP_READ,      ZAIO_OP_READFILE, ZAIO_OP_WRITE,  ZAIO_OP_APPEND,
                             ZAIO_OP_WRITEFILE, ZAIO_OP_TRUNCATE, ZAIO_OP_UNLINK, ZAIO_OP_MKDIR,
                             ZAIO_OP_RMDIR,     ZAIO_OP_LISTDIR,  ZAIO_OP_COPY,   ZAIO_OP_RENAME,
                             ZAIO_OP_FSYNC};
    size_t checked = 0;
    for (size_t p = 0; escapes[p]; p++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            zaio_op_t op = ops[o];
            bool two_paths = op == ZAIO_OP_COPY || op == ZAIO_OP_RENAME;
            //  unlink, rename and writefile (a rename in the end) of
            //  abs-link replace the link itself, which lives inside the
            //  root: allowed, and not an escape.
            bool on_link =
                streq (escapes[p], "abs-link") &&
                (op == ZAIO_OP_UNLINK || op == ZAIO_OP_RENAME || op == ZAIO_OP_WRITEFILE);
            if (op == ZAIO_OP_TRUNCATE || on_link) continue; //  truncate: see test_ops
            int code = s_call_path (client, op, escapes[p], two_paths ? "inside" : NULL);
            if (code == 0)
                fprintf (stderr, "escape through %s %s was allowed\n", zaio_op_name (op),
                         escapes[p]);
            assert (code != 0);
            checked++;
            if (two_paths) {
                //  And the other way round: from inside the root to outside.
                zaio_test_write_file (root, "inside", "in", 2);
                zaio_request_t req;
                zaio_request_init (&req, op, ++s_next_id);
                zaio_request_set_str (&req, ZAIO_FIELD_PATH, "inside");
                zaio_request_set_str (&req, ZAIO_FIELD_TO, escapes[p]);
                zaio_reply_t reply;
                assert (zaio_test_call (client, &req, NULL, 0, &reply, NULL, NULL) != 0);
                checked++;
            }
        }
    size_t size;
    char *secret = zaio_test_read_file (outside_dir, "secret", &size);
    assert (secret && size == 6 && memcmp (secret, "secret", 6) == 0);
    free (secret);
    char *stray = zaio_test_read_file (outside_dir, "new", &size);
    assert (!stray);
    printf ("%zu escape attempts refused, outside untouched\n", checked);
    //  The kernel's answer for an escape is EXDEV.
    assert (s_call_path (client, ZAIO_OP_READ, "../outside", NULL) == EXDEV);
    assert (s_call_path (client, ZAIO_OP_READ, "dir-link/secret", NULL) == EXDEV);
    zaio_test_rmtree (outside_dir);
    zstr_free (&outside_dir);
    zstr_free (&link_abs);
    zstr_free (&link_dir);
    zstr_free (&target);
    s_rig_stop (&rig);
}

//  Over tcp, a message above the transport limit closes that connection;
//  the broker and other clients carry on.
static void
s_test_oversized (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    const char *endpoint = rig.broker.tcp;
    zsock_t *abuser = zaio_test_client (endpoint);
    //  Watch the connection: the broker cutting it is the event awaited.
    zactor_t *monitor = zactor_new (zmonitor, abuser);
    assert (monitor);
    zstr_sendx (monitor, "LISTEN", "DISCONNECTED", NULL);
    zstr_send (monitor, "START");
    zsock_wait (monitor);
    size_t size = ZAIO_PAYLOAD_MAX + 256 * 1024;
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_WRITEFILE, 99);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "huge");
    char *blob = (char *)calloc (1, size);
    zaio_test_send (abuser, &req, blob, size);
    free (blob);
    zsock_set_rcvtimeo (monitor, 5000);
    char *event = zstr_recv (monitor);
    assert (event && streq (event, "DISCONNECTED"));
    zstr_free (&event);
    zactor_destroy (&monitor);
    zpoller_t *poller = zpoller_new (abuser, NULL);
    assert (zpoller_wait (poller, 0) == NULL); //  no reply: the connection was cut
    zpoller_destroy (&poller);
    zsock_destroy (&abuser);
    s_assert_alive (rig.client);
    //  Just over the payload limit but under the transport limit: TOOBIG.
    zsock_t *client = zaio_test_client (endpoint);
    size = ZAIO_PAYLOAD_MAX + 1;
    blob = (char *)calloc (1, size);
    zaio_reply_t reply;
    assert (zaio_test_call (client, &req, blob, size, &reply, NULL, NULL) == ZAIO_ERR_TOOBIG);
    free (blob);
    zsock_destroy (&client);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_invalid_vectors),
        ZAIO_TEST_CASE (s_test_frame_shapes),
        ZAIO_TEST_CASE (s_test_escapes),
        ZAIO_TEST_CASE (s_test_oversized),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
