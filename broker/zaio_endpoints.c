/*  zaio_endpoints.c: bound endpoints and their ipc files; see
    zaio_endpoints.h. */

#include "zaio_endpoints.h"

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
    zlist_t *listeners; //  those zaio_endpoints_rebind can bind again (autofree)
    zlist_t *ipc_files; //  of s_ipc_file_t
};

zaio_endpoints_t *
zaio_endpoints_new (void)
{
    zaio_endpoints_t *self = (zaio_endpoints_t *)zmalloc (sizeof (zaio_endpoints_t));
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

//  Notes the socket file an ipc endpoint just bound made; none for a
//  wildcard or the abstract namespace. A rebind of the same path made a
//  new file: its note is brought up to date.
static void
s_note_ipc_file (zaio_endpoints_t *self, const char *requested, const char *bound)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (requested, scheme, length) || requested[length] == '*' || requested[length] == '@')
        return;
    char *path = realpath (bound + length, NULL);
    struct stat st;
    if (!path || stat (path, &st) || !S_ISSOCK (st.st_mode)) {
        free (path);
        return;
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
}

//  Binds sock to endpoint and notes the ipc file it made: the one bind
//  path, shared by zaio_endpoints_bind and zaio_endpoints_rebind, so what
//  an endpoint needs set before its bind goes here. Returns the endpoint
//  as bound (ports resolved; the caller frees it), NULL (errno set) if it
//  cannot be bound.
static char *
s_bind_one (zaio_endpoints_t *self, zsock_t *sock, const char *endpoint)
{
    if (zsock_bind (sock, "%s", endpoint) < 0) return NULL;
    char *bound = zsock_last_endpoint (sock);
    s_note_ipc_file (self, endpoint, bound);
    return bound;
}

int
zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                     const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        char *bound = s_bind_one (self, sock, list[i]);
        if (!bound) {
            zsys_error ("broker: cannot bind %s endpoint %s: %s", kind, list[i],
                        zmq_strerror (zmq_errno ()));
            return -1;
        }
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
    char *bound = s_bind_one (self, sock, endpoint);
    if (!bound) return -1;
    zstr_free (&bound);
    return 0;
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
