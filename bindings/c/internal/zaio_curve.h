/*  zaio_curve.h: CURVE keys for the peers that connect to a broker (the
    client, the watcher, zaio-worker's relay), and what their socket
    monitors say when a CURVE handshake is refused.

    Certificates are czmq's ZPL files as zcert_save writes them: NAME (the
    public key) and NAME_secret (both keys). Never installed, never
    exported: compiled into libzaio and zaio_internal.
*/
#ifndef ZAIO_CURVE_H_INCLUDED
#define ZAIO_CURVE_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_CURVE_KEY_SIZE 32 //  bytes of a binary CURVE key

//  The certificate in the czmq ZPL file at path, read as zcert_load reads
//  it (PATH_secret first, then PATH) but without its leak of the file on
//  a syntax error: its public key, its secret key (zero if the file has
//  none) and its metadata. NULL with errno (ENOENT or EACCES if neither
//  file can be read, EINVAL if what was read is not a certificate).
zcert_t *zaio_curve_cert_load (const char *path);

//  True if cert holds a secret key.
bool zaio_curve_cert_has_secret (zcert_t *cert);

//  The keys a connecting peer needs: the broker's public key, and its own
//  pair. A value, copied freely.
typedef struct {
    uint8_t server_key[ZAIO_CURVE_KEY_SIZE];
    uint8_t public_key[ZAIO_CURVE_KEY_SIZE];
    uint8_t secret_key[ZAIO_CURVE_KEY_SIZE];
} zaio_curve_t;

//  Load server_cert (PATH or PATH_secret; only its public key is used) and
//  own_cert (PATH or PATH_secret, as zcert_load reads it: it must hold a
//  secret key) into *self. Returns 0, or -1 with errno: ENOENT or EACCES
//  if a file cannot be read, EINVAL if it is not a certificate or
//  own_cert has no secret key; *self is then untouched. *which_p, if not
//  NULL, is set to the path that failed.
int zaio_curve_load (zaio_curve_t *self, const char *server_cert, const char *own_cert,
                     const char **which_p);

//  Make the libzmq socket handle a CURVE client with these keys, for the
//  connections it makes from now on.
void zaio_curve_apply (const zaio_curve_t *self, void *handle);

//  If the socket monitor event (with its value) means the broker refused
//  the handshake for good, why, as a static string; NULL if it does not
//  (the peer may do better on the next connection). Refused: ZAP status
//  400 (the broker does not know our key), a CURVE peer that fails
//  authentication (ZMTP cryptographic error), and a mechanism mismatch
//  (one side CURVE, the other not); curve says whether we used CURVE.
//  A wrong server key is not among them: the broker cannot open our
//  HELLO and only drops the connection, which looks like any other drop.
const char *zaio_curve_refusal (uint16_t event, uint32_t value, bool curve);

#ifdef __cplusplus
}
#endif

#endif
