/*  zaio_grants.h: what each authenticated identity may do (PROTOCOL.md
    section 11).

    Grants come from the `grants` section of the broker's config file,
    keyed by the `name` metadata of a certificate:

        grants
            client
                alice
                    volumes
                        default = ro        #  ro or rw
                        scratch = rw
                dashboard
                    monitor = 1             #  may subscribe to events and ask stats
            worker
                storage-b
                    volumes
                        photos              #  may serve photos

    Being admitted (a certificate in --client-certs or --worker-certs) is
    the right to everything; an entry narrows it. So an identity with no
    entry, and a connection with no identity at all (inproc, ipc, plain
    tcp), may use every volume read-write, serve any volume and subscribe
    to events. A client entry lists the volumes it may use (others are,
    to it, absent) and whether it may write to each; it may subscribe
    and ask for stats (PROTOCOL.md section 5.3) only with `monitor = 1`.
    A worker entry lists the volumes it may serve. Read once at start;
    private to the broker.
*/
#ifndef ZAIO_GRANTS_H_INCLUDED
#define ZAIO_GRANTS_H_INCLUDED

#include <czmq.h>

//  What a client may do with one volume.
typedef enum {
    ZAIO_ACCESS_NONE,      //  nothing: the volume is, to it, absent
    ZAIO_ACCESS_READ,      //  ops that change nothing
    ZAIO_ACCESS_READWRITE, //  every op
} zaio_access_t;

typedef struct _zaio_grants_t zaio_grants_t;
//  One identity's entry.
typedef struct _zaio_grant_t zaio_grant_t;

//  Longest identity name: a certificate name longer than this, or with
//  other characters than letters, digits and . _ - @ +, is not used, and
//  the identity is the z85 public key (40 characters) instead.
#define ZAIO_IDENTITY_MAX 64

//  True if name may name an identity (see ZAIO_IDENTITY_MAX).
bool zaio_grants_name_valid (const char *name);

//  The grants of section (the config's `grants`; NULL for none), which is
//  only read. Returns NULL (and logs why) if it is not as above: an
//  unknown key, a volume name or access that is not valid.
zaio_grants_t *zaio_grants_new (zconfig_t *section);
void zaio_grants_destroy (zaio_grants_t **self_p);

//  The entry of client identity (a certificate's name or z85 key); NULL
//  if it has none or identity is NULL: then it may do everything.
const zaio_grant_t *zaio_grants_client (zaio_grants_t *self, const char *identity);

//  What grant (NULL: no entry) allows on volume.
zaio_access_t zaio_grant_access (const zaio_grant_t *grant, const char *volume);

//  True if grant (NULL: no entry) allows subscribing to events and the
//  stats op: watching every volume and client.
bool zaio_grant_monitor (const zaio_grant_t *grant);

//  True if worker identity (NULL: unauthenticated) may serve volume.
bool zaio_grants_may_serve (zaio_grants_t *self, const char *identity, const char *volume);

//  The client identities that may not subscribe to events (an entry
//  without monitor), appended to names (an autofree list of strings).
void zaio_grants_unmonitored (zaio_grants_t *self, zlist_t *names);

#endif
