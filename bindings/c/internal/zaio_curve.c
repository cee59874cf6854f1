/*  zaio_curve.c: CURVE keys and refusals; see zaio_curve.h. */

#include "zaio_curve.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

//  ZAP status code of a refused peer (RFC 27).
#define S_ZAP_REFUSED 400

//  The certificate at path (PATH or PATH_secret), or NULL with errno.
//  zcert_load reads PATH_secret first and falls back on PATH, saying
//  nothing of why it fails, so access () finds the reason first: ENOENT or
//  EACCES for the file wanted, EINVAL for one that holds no certificate,
//  or no secret key when need_secret.
static zcert_t *
s_cert_load (const char *path, bool need_secret)
{
    char secret[PATH_MAX];
    snprintf (secret, sizeof secret, "%s_secret", path);
    bool secret_readable = access (secret, R_OK) == 0;
    if (!secret_readable && need_secret && errno == EACCES) return NULL;
    if (!secret_readable && access (path, R_OK)) return NULL;
    zcert_t *cert = zcert_load (path);
    static const uint8_t s_zero[ZAIO_CURVE_KEY_SIZE];
    if (cert && need_secret && !memcmp (zcert_secret_key (cert), s_zero, ZAIO_CURVE_KEY_SIZE))
        zcert_destroy (&cert);
    if (!cert) errno = EINVAL;
    return cert;
}

int
zaio_curve_load (zaio_curve_t *self, const char *server_cert, const char *own_cert,
                 const char **which_p)
{
    assert (self);
    assert (server_cert && own_cert);
    zcert_t *server = s_cert_load (server_cert, false);
    zcert_t *own = server ? s_cert_load (own_cert, true) : NULL;
    if (!server || !own) {
        int error = errno;
        if (which_p) *which_p = server ? own_cert : server_cert;
        zcert_destroy (&server);
        errno = error;
        return -1;
    }
    memcpy (self->server_key, zcert_public_key (server), ZAIO_CURVE_KEY_SIZE);
    memcpy (self->public_key, zcert_public_key (own), ZAIO_CURVE_KEY_SIZE);
    memcpy (self->secret_key, zcert_secret_key (own), ZAIO_CURVE_KEY_SIZE);
    zcert_destroy (&server);
    zcert_destroy (&own);
    return 0;
}

void
zaio_curve_apply (const zaio_curve_t *self, void *handle)
{
    assert (self);
    int rc = zmq_setsockopt (handle, ZMQ_CURVE_SERVERKEY, self->server_key, ZAIO_CURVE_KEY_SIZE);
    assert (rc == 0);
    rc = zmq_setsockopt (handle, ZMQ_CURVE_PUBLICKEY, self->public_key, ZAIO_CURVE_KEY_SIZE);
    assert (rc == 0);
    rc = zmq_setsockopt (handle, ZMQ_CURVE_SECRETKEY, self->secret_key, ZAIO_CURVE_KEY_SIZE);
    assert (rc == 0);
}

const char *
zaio_curve_refusal (uint16_t event, uint32_t value, bool curve)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == S_ZAP_REFUSED)
        return "the broker refused this key (unknown, or not allowed here)";
    if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return NULL;
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return curve ? "the broker does not use CURVE"
                     : "the broker requires CURVE: give its public certificate and ours";
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        return "the broker failed CURVE authentication: is its public key the right one?";
    return NULL;
}
