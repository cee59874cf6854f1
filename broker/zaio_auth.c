/*  zaio_auth.c: the process's ZAP handler; see zaio_auth.h. */

#include "zaio_auth.h"
#include "zaio_log.h"
#include "zaio_curve.h"
#include "zaio_grants.h"

#include <dirent.h>
#include <limits.h>

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_KINDS        3

static const char *s_kinds[S_KINDS] = {"client", "events", "workers"};

struct _zaio_auth_t {
    char domains[S_KINDS][48]; //  per kind, in s_kinds order
};

//  The handler thread, shared by every broker of the process.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static zactor_t *s_handler;  //  while s_users > 0
static size_t s_users;       //  brokers registered
static uint64_t s_next_name; //  numbers the domains

//  ---------------------------------------------------------------------
//  The handler's thread

//  Who a domain admits.
typedef struct {
    char *directory;    //  of certificates; NULL: nobody
    zhashx_t *keys;     //  z85 public key -> identity, of the certificates in it
    uint64_t signature; //  of the directory when keys were read (s_signature)
    zhashx_t *refused;  //  identities refused although their key is known
} s_domain_t;

static void
s_domain_destroy (void **item)
{
    s_domain_t *domain = (s_domain_t *)*item;
    if (domain) {
        zhashx_destroy (&domain->keys);
        zstr_free (&domain->directory);
        zhashx_destroy (&domain->refused);
        free (domain);
        *item = NULL;
    }
}

//  Calls fn on each regular file of directory (dot files left out), with
//  its path and its stat.
static void
s_each_file (const char *directory, void (*fn) (const char *path, struct stat *st, void *arg),
             void *arg)
{
    DIR *dir = opendir (directory);
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        char path[PATH_MAX];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", directory, entry->d_name);
        if (entry->d_name[0] != '.' && stat (path, &st) == 0 && S_ISREG (st.st_mode))
            fn (path, &st, arg);
    }
    if (dir) closedir (dir);
}

//  Folds a file's mtime, size and inode into the signature at arg.
static void
s_sign (const char *path, struct stat *st, void *arg)
{
    (void)path;
    uint64_t *signature = (uint64_t *)arg;
    uint64_t mix = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    *signature = (*signature ^ mix ^ (uint64_t)st->st_size ^ st->st_ino) * 0x100000001b3ull;
}

//  What the directory holds, to the nanosecond of every file's mtime: a
//  certificate added, removed, renamed or rewritten changes it.
static uint64_t
s_signature (const char *directory)
{
    uint64_t signature = 0xcbf29ce484222325ull;
    struct stat st;
    if (stat (directory, &st) == 0) s_sign (directory, &st, &signature);
    s_each_file (directory, s_sign, &signature);
    return signature;
}

//  Adds the certificate at path, if it is one, to keys (arg): its z85
//  public key, and its identity: its name metadata if valid, else the key.
static void
s_add_key (const char *path, struct stat *st, void *arg)
{
    (void)st;
    zcert_t *cert = zaio_curve_cert_load (path);
    if (!cert) return; //  not a certificate: no key to admit
    const char *name = zcert_meta (cert, "name");
    const char *key = zcert_public_txt (cert);
    zhashx_update ((zhashx_t *)arg, key,
                   (void *)(name && zaio_grants_name_valid (name) ? name : key));
    zcert_destroy (&cert);
}

//  The domain's keys, read again at each handshake that finds its
//  directory changed since (s_signature). NULL if it admits nobody.
static zhashx_t *
s_keys (s_domain_t *domain)
{
    if (!domain->directory) return NULL;
    uint64_t signature = s_signature (domain->directory);
    if (!domain->keys || signature != domain->signature) {
        zhashx_destroy (&domain->keys);
        domain->keys = zhashx_new ();
        zhashx_set_duplicator (domain->keys, (zhashx_duplicator_fn *)strdup);
        zhashx_set_destructor (domain->keys, (zhashx_destructor_fn *)zstr_free);
        s_each_file (domain->directory, s_add_key, domain->keys);
        domain->signature = signature;
    }
    return domain->keys;
}

//  The verdict on a ZAP request's frames (six for NULL, seven for CURVE):
//  the identity admitted ("" for a plain peer), or NULL with the reason
//  in why. key receives a CURVE peer's z85 key.
static const char *
s_judge (zhashx_t *domains, zframe_t **frames, size_t count, char *key, const char **why)
{
    char name[256] = "";
    if (!zframe_streq (frames[0], "1.0") || zframe_size (frames[2]) >= sizeof name) {
        *why = "malformed request";
        return NULL;
    }
    memcpy (name, zframe_data (frames[2]), zframe_size (frames[2]));
    s_domain_t *domain = (s_domain_t *)zhashx_lookup (domains, name);
    if (!domain) {
        *why = "not a zaio domain";
        return NULL;
    }
    //  libzmq cannot clear a socket's ZAP domain, so ipc and inproc
    //  listeners bound after a CURVE one (a rebind) ask too; a tcp peer
    //  cannot reach them, nor speak NULL to a CURVE listener.
    if (zframe_streq (frames[5], "NULL")) return "";
    if (count != 7 || !zframe_streq (frames[5], "CURVE") || zframe_size (frames[6]) != 32) {
        *why = "CURVE required";
        return NULL;
    }
    zmq_z85_encode (key, zframe_data (frames[6]), 32);
    zhashx_t *keys = s_keys (domain);
    const char *identity = keys ? (const char *)zhashx_lookup (keys, key) : NULL;
    if (!identity) {
        *why = "unknown key";
        return NULL;
    }
    if (zhashx_lookup (domain->refused, identity)) {
        *why = "not permitted here";
        return NULL;
    }
    return identity;
}

//  Refusals are logged at most once a second, with a count of those left
//  out since: anyone who reaches a port can ask for one.
typedef struct {
    int64_t quiet_until_ms; //  no line before this
    uint64_t left_out;      //  refusals not logged since the last line
} s_refusals_t;

static void
s_log_refusal (s_refusals_t *refusals, zframe_t *address, const char *key, const char *why)
{
    int64_t now_ms = zclock_mono ();
    if (now_ms < refusals->quiet_until_ms) {
        refusals->left_out++;
        return;
    }
    char *peer = address ? zframe_strdup (address) : NULL;
    zaio_log_info ("auth", "refused %s%s%s: %s (and %" PRIu64 " more since the last line)",
                   peer ? peer : "a peer", *key ? " key " : "", key, why, refusals->left_out);
    zstr_free (&peer);
    refusals->left_out = 0;
    refusals->quiet_until_ms = now_ms + 1000;
}

//  Answers one ZAP request on zap: 200 with the peer's identity, or 400
//  (logged, with the peer's address and key, as s_log_refusal allows).
static void
s_answer (zsock_t *zap, zhashx_t *domains, s_refusals_t *refusals)
{
    zmsg_t *request = zmsg_recv (zap);
    if (!request) return;
    zframe_t *frames[7] = {NULL};
    size_t count = zmsg_size (request);
    for (size_t i = 0; i < 7 && i < count; i++)
        frames[i] = i ? zmsg_next (request) : zmsg_first (request);
    char key[41] = "";
    const char *why = "malformed request";
    const char *identity =
        count == 7 || count == 6 ? s_judge (domains, frames, count, key, &why) : NULL;
    if (!identity) s_log_refusal (refusals, count >= 6 ? frames[3] : NULL, key, why);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zframe_t *request_id = count > 1 ? zframe_dup (frames[1]) : zframe_new_empty ();
    zmsg_append (reply, &request_id);
    zmsg_addstr (reply, identity ? "200" : "400");
    zmsg_addstr (reply, identity ? "OK" : why);
    zmsg_addstr (reply, identity ? identity : "");
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, zap);
    zmsg_destroy (&request);
}

//  ADD DOMAIN DIR [REFUSED...] (DIR "" for none), or REMOVE DOMAIN, from
//  the pipe; answered with a signal. Returns false on $TERM.
static bool
s_command (zsock_t *pipe, zhashx_t *domains)
{
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg) return false;
    char *command = zmsg_popstr (msg);
    char *name = zmsg_popstr (msg);
    bool more = command && !streq (command, "$TERM");
    if (more && streq (command, "ADD")) {
        char *directory = zmsg_popstr (msg);
        s_domain_t *domain = (s_domain_t *)zmalloc (sizeof (s_domain_t));
        domain->directory = directory && *directory ? strdup (directory) : NULL;
        domain->refused = zhashx_new ();
        char *identity;
        while ((identity = zmsg_popstr (msg))) {
            zhashx_update (domain->refused, identity, (void *)1);
            zstr_free (&identity);
        }
        zhashx_update (domains, name, domain);
        zstr_free (&directory);
    } else if (more)
        zhashx_delete (domains, name);
    if (more) zsock_signal (pipe, 0);
    zstr_free (&command);
    zstr_free (&name);
    zmsg_destroy (&msg);
    return more;
}

static void
s_handler_actor (zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *zap = zsock_new (ZMQ_REP);
    bool bound = zap && zsock_bind (zap, S_ZAP_ENDPOINT) == 0;
    if (!bound)
        zaio_log_error ("auth", "cannot bind %s (another ZAP handler in this process?): %s",
                        S_ZAP_ENDPOINT, zmq_strerror (zmq_errno ()));
    //  zactor_new consumes the first signal; the second carries the status.
    zsock_signal (pipe, 0);
    zsock_signal (pipe, bound ? 0 : 1);
    zhashx_t *domains = zhashx_new ();
    zhashx_set_destructor (domains, s_domain_destroy);
    s_refusals_t refusals = {0, 0};
    zpoller_t *poller = bound ? zpoller_new (pipe, zap, NULL) : NULL;
    bool running = bound;
    while (running) {
        void *which = zpoller_wait (poller, -1);
        if (which == zap)
            s_answer (zap, domains, &refusals);
        else
            running = which == pipe && s_command (pipe, domains);
    }
    zpoller_destroy (&poller);
    zhashx_destroy (&domains);
    zsock_destroy (&zap);
}

//  ---------------------------------------------------------------------
//  Registration, from the brokers' threads (under s_lock)

//  Sends a command to the handler and waits for its signal.
static void
s_tell (zmsg_t **msg_p)
{
    zmsg_send (msg_p, s_handler);
    zsock_wait (s_handler);
}

//  True if path is NULL or a directory; logs otherwise.
static bool
s_directory_ok (const char *path, const char *what)
{
    struct stat st;
    if (!path || (stat (path, &st) == 0 && S_ISDIR (st.st_mode))) return true;
    zaio_log_error ("auth", "%s %s is not a directory", what, path);
    return false;
}

zaio_auth_t *
zaio_auth_new (const zaio_auth_config_t *config)
{
    if (!s_directory_ok (config->client_certs, "client certificates") ||
        !s_directory_ok (config->worker_certs, "worker certificates"))
        return NULL;
    pthread_mutex_lock (&s_lock);
    if (!s_handler) {
        s_handler = zactor_new (s_handler_actor, NULL);
        if (zsock_wait (s_handler) != 0) zactor_destroy (&s_handler);
    }
    zaio_auth_t *self = NULL;
    if (s_handler) {
        s_users++;
        self = (zaio_auth_t *)zmalloc (sizeof (zaio_auth_t));
        uint64_t number = s_next_name++;
        const char *directories[S_KINDS] = {config->client_certs, config->client_certs,
                                            config->worker_certs};
        for (int kind = 0; kind < S_KINDS; kind++) {
            snprintf (self->domains[kind], sizeof self->domains[kind], "zaio.%" PRIu64 ".%s",
                      number, s_kinds[kind]);
            zmsg_t *msg = zmsg_new ();
            zmsg_addstr (msg, "ADD");
            zmsg_addstr (msg, self->domains[kind]);
            zmsg_addstr (msg, directories[kind] ? directories[kind] : "");
            if (streq (s_kinds[kind], "events") && config->unmonitored)
                for (char *name = (char *)zlist_first (config->unmonitored); name;
                     name = (char *)zlist_next (config->unmonitored))
                    zmsg_addstr (msg, name);
            s_tell (&msg);
        }
    }
    pthread_mutex_unlock (&s_lock);
    return self;
}

void
zaio_auth_destroy (zaio_auth_t **self_p)
{
    zaio_auth_t *self = *self_p;
    if (!self) return;
    pthread_mutex_lock (&s_lock);
    for (int kind = 0; kind < S_KINDS; kind++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "REMOVE");
        zmsg_addstr (msg, self->domains[kind]);
        s_tell (&msg);
    }
    if (--s_users == 0) zactor_destroy (&s_handler);
    pthread_mutex_unlock (&s_lock);
    free (self);
    *self_p = NULL;
}

const char *
zaio_auth_domain (zaio_auth_t *self, const char *kind)
{
    for (int i = 0; i < S_KINDS; i++)
        if (streq (kind, s_kinds[i])) return self->domains[i];
    assert (false);
    return NULL;
}
