/*  test_client_tmpfiles.c: writefile's temporary files across a killed
    zaio-broker daemon (PROTOCOL.md section 5).

    A writefile of a large file is under way when the daemon is killed
    (SIGKILL, the moment its temporary file appears): the file stays. The
    daemon started again on the same root removes it, being this host's
    and its process gone, but not a temporary file of a live process nor
    one of another host; listdir never shows any of them.

    ZAIO_TEST_BROKER, if set, names the broker to run instead of the one
    built with the test (to run the test against another build).
*/

#include "testutil.h"
#include "zaio.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIG_SIZE  (48u * 1024 * 1024)
#define MARK      ".zaio-tmp."
#define ROUNDS    5     //  kills tried until one lands before the rename
#define S_STOP_MS 30000 //  for the daemon to exit after a signal

typedef struct {
    zaio_test_site_t site; //  its root and endpoints, across restarts
    zaio_test_daemon_t run;
} daemon_t;

static const char *
s_broker_bin (void)
{
    const char *bin = getenv ("ZAIO_TEST_BROKER");
    return bin && *bin ? bin : ZAIO_BROKER_BIN;
}

//  Start the daemon on its root; returns once it serves.
static void
s_daemon_start (daemon_t *self)
{
    zaio_test_daemon_options_t options = {.binary = s_broker_bin (),
                                          .root = self->site.root,
                                          .bind = self->site.client,
                                          .events = self->site.events,
                                          .workers = 1};
    zaio_test_daemon_start (&self->run, &options);
    zaio_test_served (self->site.client);
}

//  Send signal and reap the daemon.
static void
s_daemon_stop (daemon_t *self, int signal)
{
    zaio_test_daemon_stop (&self->run, signal, S_STOP_MS);
}

//  The first name in the root holding the temporary mark into name
//  (NAME_MAX + 1 bytes); false if there is none.
static bool
s_find_temp (const char *root, char *name)
{
    DIR *dir = opendir (root);
    assert (dir);
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir (dir)))
        if (strstr (entry->d_name, MARK)) {
            snprintf (name, NAME_MAX + 1, "%s", entry->d_name);
            found = true;
        }
    closedir (dir);
    return found;
}

//  Wait (at most 10 s) for an inotify event of the watch on fd about a
//  name holding the temporary mark; true if one came.
static bool
s_wait_temp_event (int fd)
{
    int64_t until = zclock_mono () + 10000;
    char buffer[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
    while (zclock_mono () < until) {
        struct pollfd item = {fd, POLLIN, 0};
        if (poll (&item, 1, (int)(until - zclock_mono ())) <= 0) continue;
        ssize_t size = read (fd, buffer, sizeof buffer);
        assert (size > 0);
        for (char *at = buffer; at < buffer + size;) {
            struct inotify_event *event = (struct inotify_event *)at;
            if (event->len && strstr (event->name, MARK)) return true;
            at += sizeof (struct inotify_event) + event->len;
        }
    }
    return false;
}

static bool
s_exists (const char *root, const char *name)
{
    char *path = zsys_sprintf ("%s/%s", root, name);
    bool exists = access (path, F_OK) == 0;
    zstr_free (&path);
    return exists;
}

//  Kill the daemon the moment a writefile's temporary file appears, until
//  one is left behind. Fills left with its name.
static void
s_kill_mid_writefile (daemon_t *daemon, zaio_client_t *client, char *left)
{
    byte *big = (byte *)malloc (BIG_SIZE);
    assert (big);
    memset (big, 'b', BIG_SIZE);
    for (int round = 0; round < ROUNDS; round++) {
        if (round) s_daemon_start (daemon);
        int fd = inotify_init1 (IN_CLOEXEC);
        assert (fd >= 0 && inotify_add_watch (fd, daemon->site.root, IN_CREATE) >= 0);
        zaio_request_t req;
        zaio_request_init (&req, ZAIO_OP_WRITEFILE, 0);
        assert (zaio_request_set_str (&req, ZAIO_FIELD_PATH, "big") == 0);
        zaio_buf_t *data = zaio_buf_new (big, BIG_SIZE);
        zaio_call_t *call = zaio_client_start (client, &req, &data);
        //  The client sends as it dispatches; the event comes from the broker.
        bool created = false;
        int64_t until = zclock_mono () + 10000;
        while (!created && zclock_mono () < until) {
            zaio_client_dispatch (client, 0);
            struct pollfd items[2] = {{fd, POLLIN, 0}, {zaio_client_fd (client), POLLIN, 0}};
            if (poll (items, 2, 100) > 0 && (items[0].revents & POLLIN))
                created = s_wait_temp_event (fd);
        }
        assert (created);
        s_daemon_stop (daemon, SIGKILL);
        close (fd);
        zaio_call_wait (call, 10000);
        zaio_call_destroy (&call);
        if (s_find_temp (daemon->site.root, left)) {
            printf ("round %d: killed mid-writefile, %s left\n", round + 1, left);
            free (big);
            return;
        }
        printf ("round %d: the writefile was through before the kill\n", round + 1);
    }
    assert (false);
}

static void
s_test_killed_writefile (void)
{
    daemon_t daemon;
    memset (&daemon, 0, sizeof daemon);
    zaio_test_site_new (&daemon.site, "tmpfiles", NULL);
    s_daemon_start (&daemon);
    zaio_client_t *client = zaio_client_new (daemon.site.client);
    assert (client);
    zaio_client_set_timeout (client, 20000);
    assert (zaio_client_ping (client) == 0);
    pid_t killed = daemon.run.proc.pid;
    char left[NAME_MAX + 1];
    s_kill_mid_writefile (&daemon, client, left);

    //  Beside it: a temporary file of a live process of this host (this
    //  test) and one of another host whose pid is gone here.
    const char *host = strstr (left, MARK) + strlen (MARK);
    const char *dot = strchr (host, '.'); //  none in a name without host and pid
    int host_len = dot ? (int)(dot - host) : 0;
    char *live = zsys_sprintf (".live%s%.*s.%ld.abcdef", MARK, host_len, host, (long)getpid ());
    char *other = zsys_sprintf (".other%sother-host.%ld.abcdef", MARK, (long)killed);
    zaio_test_write_file (daemon.site.root, live, "x", 1);
    zaio_test_write_file (daemon.site.root, other, "x", 1);
    zaio_test_write_file (daemon.site.root, "kept", "x", 1);

    //  Started again, the daemon removes the one the killed process left.
    int fd = inotify_init1 (IN_CLOEXEC);
    assert (fd >= 0 && inotify_add_watch (fd, daemon.site.root, IN_DELETE) >= 0);
    s_daemon_start (&daemon);
    while (s_exists (daemon.site.root, left)) assert (s_wait_temp_event (fd));
    close (fd);
    assert (s_exists (daemon.site.root, live) && s_exists (daemon.site.root, other));

    //  listdir shows none of them.
    zaio_dirent_t *entries;
    size_t count;
    assert (zaio_client_listdir (client, "", NULL, 0, &entries, &count, NULL) == 0);
    assert (count == 1 && streq (entries[0].name, "kept"));
    free (entries);

    zaio_client_destroy (&client);
    s_daemon_stop (&daemon, SIGTERM);
    zstr_free (&live);
    zstr_free (&other);
    zaio_test_site_destroy (&daemon.site);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_killed_writefile),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
