/*  epoll_cat.c: libzaio inside your own epoll loop.

    Usage: zaio_example_epoll PATH...      (broker: $ZAIO_ENDPOINT or the default)

    Starts a readfile for every PATH at once, with a completion callback, and
    runs an ordinary epoll loop over the client's descriptor and a one-second
    timerfd standing in for the rest of your program. Each file is printed
    as "== PATH (N bytes)" and its contents, in the order they complete.
    Exits 0 if every file was read, 1 otherwise.

    The rules: add zaio_client_fd () for EPOLLIN (level-triggered is fine),
    and call zaio_client_dispatch (client, 0) whenever it is readable.
    Callbacks run inside dispatch, on this thread.
*/

#include <zaio.h>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

typedef struct {
    const char *path;
    int *failures;
} file_t;

static void
s_file_done (zaio_call_t *call, void *arg)
{
    file_t *file = (file_t *)arg;
    int rc = zaio_call_error (call);
    if (rc) {
        fprintf (stderr, "epoll_cat: %s: %s (%s)\n", file->path, zaio_errname (rc),
                 zaio_strerror (rc));
        (*file->failures)++;
        return;
    }
    zaio_buf_t *data = zaio_call_take_data (call); //  the frame itself, no copy
    printf ("== %s (%zu bytes)\n", file->path, zaio_buf_size (data));
    fwrite (zaio_buf_data (data), 1, zaio_buf_size (data), stdout);
    zaio_buf_destroy (&data);
}

int
main (int argc, char *argv[])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s PATH...\n", argv[0]);
        return 2;
    }
    zaio_client_t *client = zaio_client_new (NULL);
    if (!client) {
        fprintf (stderr, "epoll_cat: bad endpoint\n");
        return 2;
    }
    int failures = 0;
    file_t *files = calloc ((size_t)argc, sizeof (file_t));
    for (int i = 1; i < argc; i++) {
        files[i] = (file_t){argv[i], &failures};
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_READFILE, 0);
        if (zaio_request_set_str (&req, ZAIO_FIELD_PATH, argv[i])) {
            fprintf (stderr, "epoll_cat: %s: path too long\n", argv[i]);
            failures++;
            continue;
        }
        zaio_client_submit (client, &req, NULL, s_file_done, &files[i]);
    }

    //  Your loop: the client's descriptor next to your own.
    int epfd = epoll_create1 (0);
    int tick = timerfd_create (CLOCK_MONOTONIC, 0);
    struct itimerspec second = {{1, 0}, {1, 0}};
    timerfd_settime (tick, 0, &second, NULL);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = zaio_client_fd (client)};
    epoll_ctl (epfd, EPOLL_CTL_ADD, zaio_client_fd (client), &event);
    event.data.fd = tick;
    epoll_ctl (epfd, EPOLL_CTL_ADD, tick, &event);

    while (zaio_client_pending (client)) {
        struct epoll_event ready[4];
        int count = epoll_wait (epfd, ready, 4, -1);
        for (int i = 0; i < count; i++) {
            if (ready[i].data.fd == tick) {
                uint64_t ticks;
                if (read (tick, &ticks, sizeof ticks) > 0)
                    fprintf (stderr, "epoll_cat: %zu files still coming\n",
                             zaio_client_pending (client));
            } else if (zaio_client_dispatch (client, 0) == -1)
                break; //  interrupted
        }
    }
    close (tick);
    close (epfd);
    zaio_client_destroy (&client);
    free (files);
    return failures ? 1 : 0;
}
