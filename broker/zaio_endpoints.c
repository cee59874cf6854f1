/*  zaio_endpoints.c: bound endpoints and their ipc files; see
    zaio_endpoints.h. */

#include "zaio_endpoints.h"
#include "zaio_log.h"
#include "zaio_sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

//  An ipc socket file a bind made.
typedef struct {
    char *path; //  absolute
    dev_t dev;
    ino_t ino;
} s_ipc_file_t;

struct _zaio_endpoints_t {
    zlist_t *bound;     //  "KIND ENDPOINT" strings (autofree)
    zlist_t *listeners; //  those zaio_endpoints_rebind can bind again (autofree)
    zlist_t *ipc_files; //  of s_ipc_file_t
    zcert_t *curve;     //  the broker's certificate, or NULL
    bool insecure;      //  plain tcp allowed beyond loopback
    bool exposed;       //  and bound there
    uint32_t ipc_mode;
};

zaio_endpoints_t *
zaio_endpoints_new (zcert_t *curve, bool insecure, uint32_t ipc_mode)
{
    zaio_endpoints_t *self = (zaio_endpoints_t *)zmalloc (sizeof (zaio_endpoints_t));
    self->curve = curve;
    self->insecure = insecure;
    self->ipc_mode = ipc_mode;
    self->bound = zlist_new ();
    zlist_autofree (self->bound);
    self->listeners = zlist_new ();
    zlist_autofree (self->listeners);
    self->ipc_files = zlist_new ();
    return self;
}

void
zaio_endpoints_destroy (zaio_endpoints_t **self_p)
{
    zaio_endpoints_t *self = *self_p;
    if (!self) return;
    s_ipc_file_t *file;
    while ((file = (s_ipc_file_t *)zlist_pop (self->ipc_files))) {
        struct stat st;
        if (lstat (file->path, &st) == 0 && S_ISSOCK (st.st_mode) && st.st_dev == file->dev &&
            st.st_ino == file->ino)
            unlink (file->path);
        free (file->path);
        free (file);
    }
    zlist_destroy (&self->ipc_files);
    zlist_destroy (&self->listeners);
    zlist_destroy (&self->bound);
    free (self);
    *self_p = NULL;
}

//  Gives the socket file an ipc endpoint just bound made the broker's
//  mode, and notes it for removal unless libzmq removes it itself (a
//  wildcard); the abstract namespace has no file. A rebind of the same
//  path made a new file: its note is brought up to date. -1 (logged) if
//  the mode cannot be set.
static int
s_secure_ipc_file (zaio_endpoints_t *self, const char *requested, const char *bound)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (requested, scheme, length) || requested[length] == '@') return 0;
    if (chmod (bound + length, self->ipc_mode)) {
        zaio_log_error ("endpoints", "cannot set mode %04o on %s: %s", self->ipc_mode,
                        bound + length, strerror (errno));
        return -1;
    }
    char *path = requested[length] == '*' ? NULL : realpath (bound + length, NULL);
    struct stat st;
    if (!path || stat (path, &st) || !S_ISSOCK (st.st_mode)) {
        free (path);
        return 0;
    }
    s_ipc_file_t *file = (s_ipc_file_t *)zlist_first (self->ipc_files);
    while (file && strcmp (file->path, path)) file = (s_ipc_file_t *)zlist_next (self->ipc_files);
    if (file) {
        file->dev = st.st_dev;
        file->ino = st.st_ino;
        free (path);
    } else {
        file = (s_ipc_file_t *)zmalloc (sizeof *file);
        *file = (s_ipc_file_t){path, st.st_dev, st.st_ino};
        zlist_append (self->ipc_files, file);
    }
    return 0;
}

//  Sets sock's options for the listener endpoint is about to get: CURVE
//  for tcp when the broker has a certificate (peers judged in zap_domain;
//  NULL on a rebind keeps the socket's), plain otherwise. -1 (and logs
//  why) if endpoint is tcp beyond loopback and may not be plain.
static int
s_secure (zaio_endpoints_t *self, zsock_t *sock, const char *endpoint, const char *zap_domain)
{
    bool tcp = strncmp (endpoint, "tcp://", 6) == 0;
    if (tcp && self->curve) {
        zsock_set_curve_server (sock, 1);
        zcert_apply (self->curve, sock);
        if (zap_domain) zsock_set_zap_domain (sock, zap_domain);
        return 0;
    }
    //  The ZAP domain stays (libzmq 4.3 cannot clear it): the handler
    //  admits plain peers of such listeners (zaio_auth.h).
    zsock_set_curve_server (sock, 0);
    if (!tcp || zaio_sock_is_loopback (endpoint)) return 0;
    if (!self->insecure) {
        zaio_log_error ("endpoints", "%s is not loopback: give --curve-cert (or --insecure)",
                        endpoint);
        errno = EACCES;
        return -1;
    }
    if (!self->exposed)
        zaio_log_warning ("endpoints",
                          "INSECURE: %s has no CURVE: anyone who reaches it can read, write "
                          "and delete every file",
                          endpoint);
    self->exposed = true;
    return 0;
}

//  True if something listens on the ipc socket file of endpoint (a path,
//  not a wildcard or the abstract namespace): libzmq would unlink it and
//  take its place, cutting off a live broker.
static bool
s_ipc_in_use (const char *endpoint)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (endpoint, scheme, length) || endpoint[length] == '*' || endpoint[length] == '@')
        return false;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen (endpoint + length) >= sizeof address.sun_path) return false;
    strcpy (address.sun_path, endpoint + length);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = fd >= 0 && connect (fd, (struct sockaddr *)&address, sizeof address) == 0;
    if (fd >= 0) close (fd);
    return live;
}

//  Secures and binds sock to endpoint, and secures the ipc file it made:
//  the one bind path, shared by zaio_endpoints_bind and
//  zaio_endpoints_rebind, so what an endpoint needs set before its bind
//  goes here. Returns the endpoint as bound (ports resolved; the caller
//  frees it), NULL if it cannot be secured or bound (logged for a first
//  bind, of kind; a rebind, kind NULL, is the guard's to tell).
static char *
s_bind_one (zaio_endpoints_t *self, zsock_t *sock, const char *kind, const char *endpoint,
            const char *zap_domain)
{
    if (s_secure (self, sock, endpoint, zap_domain)) return NULL;
    if (kind && s_ipc_in_use (endpoint)) {
        zaio_log_error ("endpoints", "%s is in use: another broker listens there", endpoint);
        return NULL;
    }
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        if (kind)
            zaio_log_error ("endpoints", "cannot bind %s endpoint %s: %s", kind, endpoint,
                            zmq_strerror (zmq_errno ()));
        return NULL;
    }
    char *bound = zsock_last_endpoint (sock);
    if (s_secure_ipc_file (self, endpoint, bound)) zstr_free (&bound);
    return bound;
}

int
zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                     const char *zap_domain, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        char *bound = s_bind_one (self, sock, kind, list[i], zap_domain);
        if (!bound) return -1;
        char *entry = zsys_sprintf ("%s %s", kind, bound);
        zlist_append (self->bound, entry); //  autofree: the list keeps a copy
        if (strncmp (list[i], "tcp://", 6) == 0 ||
            (strncmp (list[i], "ipc://", 6) == 0 && list[i][6] != '*'))
            zlist_append (self->listeners, entry);
        zstr_free (&entry);
        zstr_free (&bound);
    }
    return 0;
}

int
zaio_endpoints_rebind (zaio_endpoints_t *self, zsock_t *sock, const char *endpoint)
{
    char *bound = s_bind_one (self, sock, NULL, endpoint, NULL);
    if (!bound) return -1;
    zstr_free (&bound);
    return 0;
}

bool
zaio_endpoints_exposed (zaio_endpoints_t *self)
{
    return self->exposed;
}

zlist_t *
zaio_endpoints_list (zaio_endpoints_t *self)
{
    return self->bound;
}

zlist_t *
zaio_endpoints_listeners (zaio_endpoints_t *self, const char *kind)
{
    zlist_t *list = zlist_new ();
    zlist_autofree (list);
    size_t length = strlen (kind);
    for (char *entry = (char *)zlist_first (self->listeners); entry;
         entry = (char *)zlist_next (self->listeners))
        if (strncmp (entry, kind, length) == 0 && entry[length] == ' ')
            zlist_append (list, entry + length + 1);
    return list;
}
