/*  zaio_endpoints.h: the endpoints a broker has bound.

    Binds a socket to a list of endpoints and remembers each as it was
    bound ("client tcp://127.0.0.1:41234": ephemeral ports resolved), for
    zaio_broker_endpoints. libzmq 4.3 leaves an ipc socket file behind
    when its socket closes (it removes only those it names itself, for a
    wildcard ipc endpoint), so the class notes the files its binds made
    and removes them when destroyed, if each is still the same file and
    not one a later bind of the same path put there. Private to the
    broker.

    zaio_guard unbinds listeners when descriptors run out and binds them
    again through zaio_endpoints_rebind, which binds as the first bind did:
    whatever a bind sets up for one endpoint belongs in the one bind path
    both share, so a rebind repeats it.
*/
#ifndef ZAIO_ENDPOINTS_H_INCLUDED
#define ZAIO_ENDPOINTS_H_INCLUDED

#include <czmq.h>

typedef struct _zaio_endpoints_t zaio_endpoints_t;

zaio_endpoints_t *zaio_endpoints_new (void);
//  Removes the ipc socket files the binds made.
void zaio_endpoints_destroy (zaio_endpoints_t **self_p);

//  Binds sock to every endpoint of list (NULL-terminated), noting each as
//  "KIND ENDPOINT". Returns -1 (and logs why) if one cannot be bound.
int zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                         const char *const *list);

//  Every endpoint bound, as "KIND ENDPOINT" strings, in order (borrowed).
zlist_t *zaio_endpoints_list (zaio_endpoints_t *self);

//  The endpoints of kind that can be unbound and bound again: tcp and ipc
//  as bound (ports resolved), but not a wildcard ipc one (libzmq removes
//  its directory on unbind). A new list of strings; the caller destroys it.
zlist_t *zaio_endpoints_listeners (zaio_endpoints_t *self, const char *kind);

//  Binds sock again to endpoint, one of zaio_endpoints_listeners that was
//  unbound, as zaio_endpoints_bind bound it. Returns -1 (errno set) if it
//  cannot be bound.
int zaio_endpoints_rebind (zaio_endpoints_t *self, zsock_t *sock, const char *endpoint);

#endif
