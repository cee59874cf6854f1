/*  zaio_auth.h: the ZAP handler (RFC 27) that admits peers to a broker's
    CURVE endpoints (PROTOCOL.md section 11).

    libzmq asks one ZAP handler per process (inproc://zeromq.zap.01)
    about every CURVE handshake, naming the ZAP domain of the socket the
    peer reached. czmq's zauth keeps one certificate store for all
    domains; a broker needs two (clients, workers) and a rule for event
    subscribers. So this handler keeps, per domain, the keys of a
    certificate directory (read again at a handshake when a file in it was
    added, removed, renamed or rewritten since: a certificate counts from
    the next handshake; files that are not certificates are left out)
    and the identities it refuses there. Each broker
    registers three domains of its own; the handler runs on its own
    thread while any broker in the process uses it, and answers only
    through ZAP messages.

    A peer is admitted when its public key is in the domain's directory
    and its identity is not refused there; its identity, sent back as the
    ZMTP User-Id, is the certificate's `name` metadata when that is a
    valid name (zaio_grants_name_valid), else its z85 public key. A peer
    of an ipc or inproc listener of the same socket (libzmq asks about
    them too once the socket has a domain) is admitted with no identity:
    only those listeners speak NULL, since every tcp one of a broker with
    a certificate requires CURVE. Every other request (another mechanism, an unknown domain or key)
   gets 400, so the peer never reaches the broker's loop and its libzmq reports
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH.

    The handler cannot share the ZAP endpoint: an application that runs
    czmq's zauth in the same process cannot also embed a CURVE broker.
*/
#ifndef ZAIO_AUTH_H_INCLUDED
#define ZAIO_AUTH_H_INCLUDED

#include <czmq.h>

typedef struct _zaio_auth_t zaio_auth_t;

typedef struct {
    const char *client_certs; //  directory of clients' certificates; NULL: none admitted
    const char *worker_certs; //  directory of workers' certificates; NULL: none admitted
    zlist_t *unmonitored;     //  client identities refused as event subscribers (borrowed)
} zaio_auth_config_t;

//  Registers a broker's domains with the process's ZAP handler, starting
//  it if none runs. Returns NULL (and logs why) if a directory given is
//  not one, or the ZAP endpoint is taken by another handler.
zaio_auth_t *zaio_auth_new (const zaio_auth_config_t *config);
//  Unregisters; the handler stops with the last broker. Safe on NULL.
void zaio_auth_destroy (zaio_auth_t **self_p);

//  The ZAP domain for a broker socket of kind "client", "events" or
//  "workers" (borrowed).
const char *zaio_auth_domain (zaio_auth_t *self, const char *kind);

#endif
