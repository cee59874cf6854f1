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
    zlist_t *ipc_files; //  of s_ipc_file_t
};

zaio_endpoints_t *
zaio_endpoints_new (void)
{
    zaio_endpoints_t *self = (zaio_endpoints_t *)zmalloc (sizeof (zaio_endpoints_t));
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

//  Notes the socket file an ipc endpoint just bound made; none for a
//  wildcard or the abstract namespace.
static void
s_note_ipc_file (zaio_endpoints_t *self, const char *requested, const char *bound)
{
    const char *scheme = "ipc://";
    size_t length = strlen (scheme);
    if (strncmp (requested, scheme, length) || requested[length] == '*' || requested[length] == '@')
        return;
    char *path = realpath (bound + length, NULL);
    struct stat st;
    if (path && stat (path, &st) == 0 && S_ISSOCK (st.st_mode)) {
        s_ipc_file_t *file = (s_ipc_file_t *)zmalloc (sizeof *file);
        *file = (s_ipc_file_t){path, st.st_dev, st.st_ino};
        zlist_append (self->ipc_files, file);
    } else
        free (path);
}

int
zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                     const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (zsock_bind (sock, "%s", list[i]) < 0) {
            zsys_error ("broker: cannot bind %s endpoint %s: %s", kind, list[i],
                        zmq_strerror (zmq_errno ()));
            return -1;
        }
        char *bound = zsock_last_endpoint (sock);
        s_note_ipc_file (self, list[i], bound);
        char *entry = zsys_sprintf ("%s %s", kind, bound);
        zlist_append (self->bound, entry); //  autofree: the list keeps a copy
        zstr_free (&entry);
        zstr_free (&bound);
    }
    return 0;
}

zlist_t *
zaio_endpoints_list (zaio_endpoints_t *self)
{
    return self->bound;
}
