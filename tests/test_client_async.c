/*  test_client_async.c: the asynchronous styles against a real broker.
    Poll: start calls and spin on zaio_call_done while "doing other work".
    Wait: zaio_call_wait with and without a limit. Callback: submit and
    zaio_call_then, run by zaio_client_dispatch on this thread only, also
    for a call that completed before its callback was attached; callbacks
    that start further calls (a chain of reads walking a file).
*/

#include "testutil.h"
#include "zaio.h"

#include <pthread.h>
#include <string.h>

#define FILE_SIZE (1024 * 1024)
#define CHUNK     (64 * 1024)

static pthread_t s_main_thread;

//  A broker whose root holds data.bin (content), and a client over ipc.
typedef struct {
    zaio_test_broker_t broker;
    uint8_t *content;
    zaio_client_t *client;
} s_rig_t;

static void
s_rig_start (s_rig_t *rig)
{
    s_main_thread = pthread_self ();
    zaio_test_broker_start (&rig->broker, NULL);
    rig->content = (uint8_t *)malloc (FILE_SIZE);
    for (size_t i = 0; i < FILE_SIZE; i++) rig->content[i] = (uint8_t)(i * 7 + i / 4096);
    zaio_test_write_file (rig->broker.root, "data.bin", rig->content, FILE_SIZE);
    rig->client = zaio_client_new (rig->broker.ipc);
    assert (rig->client);
}

static void
s_rig_stop (s_rig_t *rig)
{
    assert (zaio_client_pending (rig->client) == 0);
    zaio_client_destroy (&rig->client);
    free (rig->content);
    zaio_test_broker_stop (&rig->broker);
}

static zaio_request_t
s_read_req (uint64_t offset, uint64_t length)
{
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "data.bin");
    zaio_request_set_uint (&req, ZAIO_FIELD_OFFSET, offset);
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, length);
    return req;
}

//  Poll: start calls and spin on zaio_call_done while "doing other work".
static void
s_test_poll (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_client_t *client = rig.client;
    const uint8_t *content = rig.content;
    zaio_call_t *calls[FILE_SIZE / CHUNK];
    for (int i = 0; i < FILE_SIZE / CHUNK; i++) {
        zaio_request_t req = s_read_req ((uint64_t)i * CHUNK, CHUNK);
        calls[i] = zaio_client_start (client, &req, NULL);
    }
    int remaining = FILE_SIZE / CHUNK, spins = 0;
    int64_t until = zclock_mono () + 10000;
    while (remaining) {
        assert (zclock_mono () < until);
        remaining = 0;
        for (int i = 0; i < FILE_SIZE / CHUNK; i++)
            if (!zaio_call_done (calls[i])) remaining++;
        spins++; //  "other work"
    }
    for (int i = 0; i < FILE_SIZE / CHUNK; i++) {
        assert (zaio_call_error (calls[i]) == 0);
        const zaio_reply_t *reply = zaio_call_reply (calls[i]);
        assert (reply && reply->ok && reply->bytes == CHUNK);
        assert (zaio_call_op (calls[i]) == ZAIO_OP_READ && zaio_call_id (calls[i]) > 0);
        zaio_buf_t *data = zaio_call_take_data (calls[i]);
        assert (zaio_buf_size (data) == CHUNK);
        assert (memcmp (zaio_buf_data (data), content + (size_t)i * CHUNK, CHUNK) == 0);
        assert (zaio_call_take_data (calls[i]) == NULL); //  taken once
        zaio_buf_destroy (&data);
        zaio_call_destroy (&calls[i]);
    }
    printf ("poll: %d spins\n", spins);
    s_rig_stop (&rig);
}

//  Wait: zaio_call_wait with and without a limit; results from handles.
static void
s_test_wait (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_client_t *client = rig.client;
    zaio_request_t req = s_read_req (FILE_SIZE - 10, 100);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, 5000) == 0);
    assert (zaio_call_wait (call, 0) == 0); //  done stays done
    assert (zaio_call_error (call) == 0 && zaio_call_reply (call)->eof);
    assert (zaio_call_reply (call)->bytes == 10);
    zaio_call_destroy (&call);

    zaio_request_init (&req, ZAIO_OP_STAT, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "missing");
    call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, -1) == 0);
    assert (zaio_call_error (call) == ENOENT);
    assert (zaio_call_reply (call) && !zaio_call_reply (call)->ok);
    assert (*zaio_call_message (call)); //  the broker's explanation
    zaio_stat_t st;
    assert (zaio_call_stat (call, &st) == ENOENT);
    zaio_call_destroy (&call);

    //  stat, hello and listdir results from handles
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "data.bin");
    call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, -1) == 0 && zaio_call_stat (call, &st) == 0);
    assert (st.size == FILE_SIZE && streq (st.type, "file"));
    zaio_call_destroy (&call);
    zaio_request_init (&req, ZAIO_OP_LISTDIR, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "");
    call = zaio_client_start (client, &req, NULL);
    zaio_dirent_t *entries;
    size_t count;
    bool more;
    assert (zaio_call_wait (call, -1) == 0);
    assert (zaio_call_entries (call, &entries, &count, &more) == 0);
    assert (count == 1 && !more && streq (entries[0].name, "data.bin"));
    free (entries);
    zaio_call_destroy (&call);
    s_rig_stop (&rig);
}

//  A chain: each completed read starts the next one until the file ends.
typedef struct {
    zaio_client_t *client;
    const uint8_t *content;
    uint64_t offset;
    int reads;
    int failures;
} walk_t;

static void
s_walk_next (zaio_call_t *call, void *arg)
{
    walk_t *walk = (walk_t *)arg;
    assert (pthread_equal (pthread_self (), s_main_thread));
    walk->reads++;
    zaio_buf_t *data = zaio_call_take_data (call);
    if (zaio_call_error (call) || !data ||
        memcmp (zaio_buf_data (data), walk->content + walk->offset, zaio_buf_size (data)))
        walk->failures++;
    else {
        walk->offset += zaio_buf_size (data);
        if (!zaio_call_reply (call)->eof) {
            zaio_request_t req = s_read_req (walk->offset, 100 * 1000);
            zaio_client_submit (walk->client, &req, NULL, s_walk_next, walk);
        }
    }
    zaio_buf_destroy (&data);
}

static int s_counted = 0;

static void
s_count (zaio_call_t *call, void *arg)
{
    assert (pthread_equal (pthread_self (), s_main_thread));
    assert (zaio_call_error (call) == 0);
    s_counted += *(int *)arg;
}

//  Callbacks run by zaio_client_dispatch on this thread only, also for a
//  call that completed before its callback was attached; callbacks that
//  start further calls.
static void
s_test_callbacks (void)
{
    s_rig_t rig;
    s_rig_start (&rig);
    zaio_client_t *client = rig.client;
    const uint8_t *content = rig.content;
    walk_t walk = {client, content, 0, 0, 0};
    zaio_request_t req = s_read_req (0, 100 * 1000);
    zaio_client_submit (client, &req, NULL, s_walk_next, &walk);

    //  callbacks run only in dispatch: none ran yet
    int one = 1, ten = 10;
    zaio_request_init (&req, ZAIO_OP_PING, 0);
    zaio_call_t *call = zaio_client_start (client, &req, NULL);
    assert (zaio_call_wait (call, 5000) == 0);
    assert (walk.reads == 0);
    //  a call already done when its callback is attached
    zaio_call_then (&call, s_count, &ten);
    assert (call == NULL);
    assert (s_counted == 0);
    zaio_client_submit (client, &req, NULL, s_count, &one);

    int64_t until = zclock_mono () + 10000;
    while (zaio_client_pending (client)) {
        assert (zclock_mono () < until);
        assert (zaio_client_dispatch (client, 1000) >= 0);
    }
    assert (walk.failures == 0 && walk.offset == FILE_SIZE);
    assert (walk.reads == FILE_SIZE / (100 * 1000) + 1);
    assert (s_counted == 11);
    //  nothing pending: dispatch returns at once
    int64_t start = zclock_mono ();
    assert (zaio_client_dispatch (client, 5000) == 0);
    assert (zclock_mono () - start < 100);
    s_rig_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_poll),
        ZAIO_TEST_CASE (s_test_wait),
        ZAIO_TEST_CASE (s_test_callbacks),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
