/*  zaio_endpoints.c: bound endpoints and their ipc files; see
    zaio_endpoints.h. */

#include "zaio_endpoints.h"
#include "zaio_sock.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  An ipc socket file a bind made.
typedef struct {
    char *path; //  absolute
    dev_t dev;
    ino_t ino;
} s_ipc_file_t;

struct _zaio_endpoints_t {
    zlist_t *bound;     //  "KIND ENDPOINT" strings (autofree)
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
    zlist_destroy (&self->bound);
    free (self);
    *self_p = NULL;
}

//  Gives the socket file an ipc endpoint just bound made the broker's
//  mode, and notes it for removal unless libzmq removes it itself (a
//  wildcard); the abstract namespace has no file. -1 (logged) if the mode
//  cannot be set.
static int
s_secure_ipc_file (zaio_endpoints_t *self, const char *requested, const char *bound)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (requested, scheme, length) || requested[length] == '@') return 0;
    if (chmod (bound + length, self->ipc_mode)) {
        zsys_error ("broker: cannot set mode %04o on %s: %s", self->ipc_mode, bound + length,
                    strerror (errno));
        return -1;
    }
    char *path = requested[length] == '*' ? NULL : realpath (bound + length, NULL);
    struct stat st;
    if (path && stat (path, &st) == 0 && S_ISSOCK (st.st_mode)) {
        s_ipc_file_t *file = (s_ipc_file_t *)zmalloc (sizeof *file);
        *file = (s_ipc_file_t){path, st.st_dev, st.st_ino};
        zlist_append (self->ipc_files, file);
    } else
        free (path);
    return 0;
}

//  Sets sock's options for the listener endpoint is about to get: CURVE
//  for tcp when the broker has a certificate, plain otherwise. -1 (and
//  logs why) if endpoint is tcp beyond loopback and may not be plain.
static int
s_secure (zaio_endpoints_t *self, zsock_t *sock, const char *endpoint, const char *zap_domain)
{
    bool tcp = strncmp (endpoint, "tcp://", 6) == 0;
    if (tcp && self->curve) {
        zsock_set_curve_server (sock, 1);
        zcert_apply (self->curve, sock);
        zsock_set_zap_domain (sock, zap_domain);
        return 0;
    }
    //  The ZAP domain stays (libzmq 4.3 cannot clear it): the handler
    //  admits plain peers of such listeners (zaio_auth.h).
    zsock_set_curve_server (sock, 0);
    if (!tcp || zaio_sock_is_loopback (endpoint)) return 0;
    if (!self->insecure) {
        zsys_error ("broker: %s is not loopback: give --curve-cert (or --insecure)", endpoint);
        return -1;
    }
    zsys_warning ("broker: INSECURE: %s has no CURVE: anyone who reaches it can read, write "
                  "and delete every file",
                  endpoint);
    self->exposed = true;
    return 0;
}

int
zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                     const char *zap_domain, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (s_secure (self, sock, list[i], zap_domain)) return -1;
        if (zsock_bind (sock, "%s", list[i]) < 0) {
            zsys_error ("broker: cannot bind %s endpoint %s: %s", kind, list[i],
                        zmq_strerror (zmq_errno ()));
            return -1;
        }
        char *bound = zsock_last_endpoint (sock);
        int rc = s_secure_ipc_file (self, list[i], bound);
        char *entry = zsys_sprintf ("%s %s", kind, bound);
        zlist_append (self->bound, entry); //  autofree: the list keeps a copy
        zstr_free (&entry);
        zstr_free (&bound);
        if (rc) return -1;
    }
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
