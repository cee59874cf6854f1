/*  test_client_epoll.c: the client's descriptor and dispatch in an epoll
    loop. Builds on examples/epoll_cat.c (run here as a program against a
    real broker), then drives 2,000 callback calls from an epoll loop of its
    own and checks the descriptor is quiet when there is nothing to do.
*/

#include "testutil.h"
#include "zaio.h"

#include <string.h>
#include <sys/epoll.h>

#define CALLS 2000

static int s_completed = 0;
static int s_failed = 0;

static void
s_done (zaio_call_t *call, void *arg)
{
    s_completed++;
    if (zaio_call_error (call)) s_failed++;
    zaio_buf_t *data = zaio_call_take_data (call);
    if (!data || zaio_buf_size (data) != 4 || memcmp (zaio_buf_data (data), "four", 4)) s_failed++;
    zaio_buf_destroy (&data);
}

//  examples/epoll_cat.c, run as a program: prints files, and says so and
//  exits 1 for a missing one.
static void
s_test_example_program (void)
{
    zaio_test_broker_t the_broker, *broker = &the_broker;
    zaio_test_broker_start (broker, NULL);
    zaio_test_write_file (broker->root, "one.txt", "first file\n", 11);
    zaio_test_write_file (broker->root, "sub/two.txt", "second file\n", 12);
    char *command = zsys_sprintf ("ZAIO_ENDPOINT=%s %s one.txt sub/two.txt", broker->ipc,
                                  ZAIO_EXAMPLE_EPOLL_BIN);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    char output[4096];
    size_t size = fread (output, 1, sizeof output - 1, pipe);
    output[size] = 0;
    assert (pclose (pipe) == 0);
    assert (strstr (output, "== one.txt (11 bytes)\nfirst file\n"));
    assert (strstr (output, "== sub/two.txt (12 bytes)\nsecond file\n"));
    zstr_free (&command);

    //  a missing file: the example says so and exits 1
    command = zsys_sprintf ("ZAIO_ENDPOINT=%s %s one.txt missing.txt 2>&1", broker->ipc,
                            ZAIO_EXAMPLE_EPOLL_BIN);
    pipe = popen (command, "r");
    size = fread (output, 1, sizeof output - 1, pipe);
    output[size] = 0;
    assert (WEXITSTATUS (pclose (pipe)) == 1);
    assert (strstr (output, "epoll_cat: missing.txt: ENOENT (No such file or directory)"));
    zstr_free (&command);
    zaio_test_broker_stop (broker);
}

//  2,000 callback calls driven from an epoll loop of our own; the
//  descriptor is quiet when there is nothing to do.
static void
s_test_epoll_loop (void)
{
    zaio_test_broker_t the_broker, *broker = &the_broker;
    zaio_test_broker_start (broker, NULL);
    zaio_test_write_file (broker->root, "four.txt", "four", 4);
    zaio_client_t *client = zaio_client_new (broker->tcp);
    assert (client);
    int epfd = epoll_create1 (0);
    struct epoll_event event = {.events = EPOLLIN};
    assert (epoll_ctl (epfd, EPOLL_CTL_ADD, zaio_client_fd (client), &event) == 0);

    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_READ, 0);
    zaio_request_set_str (&req, ZAIO_FIELD_PATH, "four.txt");
    zaio_request_set_uint (&req, ZAIO_FIELD_LENGTH, 100);
    for (int i = 0; i < CALLS; i++) zaio_client_submit (client, &req, NULL, s_done, NULL);
    assert (zaio_client_pending (client) == CALLS);

    int wakeups = 0, idle = 0;
    int64_t until = zclock_mono () + 20000;
    while (zaio_client_pending (client)) {
        assert (zclock_mono () < until);
        struct epoll_event ready;
        int count = epoll_wait (epfd, &ready, 1, 5000);
        assert (count == 1); //  never silent while calls are pending
        wakeups++;
        int ran = zaio_client_dispatch (client, 0);
        assert (ran >= 0);
        if (ran == 0) idle++;
    }
    assert (s_completed == CALLS && s_failed == 0);
    //  Nothing pending: the descriptor is quiet.
    assert (epoll_wait (epfd, &event, 1, 200) == 0);
    printf ("%d calls, %d wakeups (%d without callbacks)\n", CALLS, wakeups, idle);
    close (epfd);
    zaio_client_destroy (&client);
    zaio_test_broker_stop (broker);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_example_program),
        ZAIO_TEST_CASE (s_test_epoll_loop),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
