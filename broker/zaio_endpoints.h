/*  zaio_endpoints.h: the endpoints a broker has bound.

    Binds a socket to a list of endpoints and remembers each as it was
    bound ("client tcp://127.0.0.1:41234": ephemeral ports resolved), for
    zaio_broker_endpoints. libzmq 4.3 leaves an ipc socket file behind
    when its socket closes (it removes only those it names itself, for a
    wildcard ipc endpoint), so the class notes the files its binds made
    and removes them when destroyed, if each is still the same file and
    not one a later bind of the same path put there. libzmq also unlinks
    whatever is at a path it binds, so an ipc path a live listener holds
    (another broker started on it by mistake) is refused rather than
    taken over; a stale file is taken over.

    It also secures each endpoint as it binds it (PROTOCOL.md section 11):
    with the broker's certificate, a tcp endpoint requires CURVE and asks
    the ZAP handler about each peer in the socket's domain; without it, a
    tcp endpoint on an address other than loopback is refused unless the
    broker runs insecure. ipc socket files get the broker's file mode.
    libzmq copies a socket's options into each listener when it binds, so
    one socket can serve ipc and inproc plainly and tcp over CURVE.

    zaio_guard unbinds listeners when descriptors run out and binds them
    again through zaio_endpoints_rebind, which binds as the first bind did:
    whatever a bind sets up for one endpoint belongs in the one bind path
    both share, so a rebind repeats it.
    Private to the broker.
*/
#ifndef ZAIO_ENDPOINTS_H_INCLUDED
#define ZAIO_ENDPOINTS_H_INCLUDED

#include <czmq.h>

typedef struct _zaio_endpoints_t zaio_endpoints_t;

//  Endpoints secured by curve (the broker's certificate with its secret
//  key, borrowed for the class's life; NULL: no CURVE). insecure allows
//  plain tcp on addresses other than loopback; ipc_mode is the file mode
//  of ipc socket files.
zaio_endpoints_t *zaio_endpoints_new (zcert_t *curve, bool insecure, uint32_t ipc_mode);
//  Removes the ipc socket files the binds made.
void zaio_endpoints_destroy (zaio_endpoints_t **self_p);

//  Binds sock to every endpoint of list (NULL-terminated), noting each as
//  "KIND ENDPOINT"; CURVE peers are judged in zap_domain. Returns -1 (and
//  logs why) if one cannot be bound or may not be bound plainly.
int zaio_endpoints_bind (zaio_endpoints_t *self, zsock_t *sock, const char *kind,
                         const char *zap_domain, const char *const *list);

//  True if a tcp endpoint on an address other than loopback was bound
//  without CURVE (the broker runs insecure).
bool zaio_endpoints_exposed (zaio_endpoints_t *self);

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
