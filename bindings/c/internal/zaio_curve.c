/*  zaio_curve.c: CURVE keys and refusals; see zaio_curve.h. */

#include "zaio_curve.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

//  ZAP status code of a refused peer (RFC 27).
#define S_ZAP_REFUSED 400

#define S_CERT_FILE_MAX 65536 //  bytes of a certificate file read at most

//  The text of the file at path (at most S_CERT_FILE_MAX bytes), or NULL
//  with errno. Caller frees.
static char *
s_read_text (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) return NULL;
    char *text = (char *)malloc (S_CERT_FILE_MAX + 1);
    assert (text);
    size_t size = fread (text, 1, S_CERT_FILE_MAX, file);
    fclose (file);
    text[size] = 0;
    return text;
}

//  A binary key from the z85 text at key_path in root, into key; false
//  if there is none or it is not 40 z85 characters.
static bool
s_key (zconfig_t *root, const char *key_path, uint8_t *key)
{
    const char *text = zconfig_get (root, key_path, NULL);
    return text && strlen (text) == 40 && zmq_z85_decode (key, text) != NULL;
}

//  The certificate in a parsed file, or NULL if it holds no public key.
static zcert_t *
s_cert_from (zconfig_t *root)
{
    uint8_t public_key[ZAIO_CURVE_KEY_SIZE], secret_key[ZAIO_CURVE_KEY_SIZE] = {0};
    if (!s_key (root, "curve/public-key", public_key)) return NULL;
    if (zconfig_get (root, "curve/secret-key", NULL) &&
        !s_key (root, "curve/secret-key", secret_key))
        return NULL;
    zcert_t *cert = zcert_new_from (public_key, secret_key);
    zconfig_t *metadata = zconfig_locate (root, "metadata");
    for (zconfig_t *item = metadata ? zconfig_child (metadata) : NULL; item;
         item = zconfig_next (item))
        if (zconfig_value (item))
            zcert_set_meta (cert, zconfig_name (item), "%s", zconfig_value (item));
    return cert;
}

zcert_t *
zaio_curve_cert_load (const char *path)
{
    char secret[PATH_MAX];
    snprintf (secret, sizeof secret, "%s_secret", path);
    char *text = s_read_text (secret);
    if (!text && errno != ENOENT) text = NULL;
    if (!text) text = s_read_text (path);
    if (!text) return NULL;
    zconfig_t *root = zconfig_str_load (text);
    free (text);
    zcert_t *cert = root ? s_cert_from (root) : NULL;
    zconfig_destroy (&root);
    if (!cert) errno = EINVAL;
    return cert;
}

bool
zaio_curve_cert_has_secret (zcert_t *cert)
{
    static const uint8_t s_zero[ZAIO_CURVE_KEY_SIZE];
    return memcmp (zcert_secret_key (cert), s_zero, ZAIO_CURVE_KEY_SIZE) != 0;
}

//  The certificate at path (PATH or PATH_secret), or NULL with errno:
//  ENOENT or EACCES for the file wanted, EINVAL for one that holds no
//  certificate, or no secret key when need_secret. An unreadable secret
//  file is the error when a secret is needed.
static zcert_t *
s_cert_load (const char *path, bool need_secret)
{
    char secret[PATH_MAX];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (need_secret && access (secret, R_OK) && errno == EACCES) return NULL;
    zcert_t *cert = zaio_curve_cert_load (path);
    if (cert && need_secret && !zaio_curve_cert_has_secret (cert)) {
        zcert_destroy (&cert);
        errno = EINVAL;
    }
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
