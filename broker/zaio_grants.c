/*  zaio_grants.c: grants per identity; see zaio_grants.h. */

#include "zaio_grants.h"
#include "zaio_log.h"
#include "zaio_codec.h"

#include <string.h>

struct _zaio_grant_t {
    zhashx_t *volumes; //  volume name -> zaio_access_t (as a pointer)
    bool monitor;
};

struct _zaio_grants_t {
    zhashx_t *clients; //  identity -> zaio_grant_t
    zhashx_t *workers; //  identity -> zaio_grant_t (volumes it may serve)
};

static void
s_grant_destroy (void **item)
{
    zaio_grant_t *grant = (zaio_grant_t *)*item;
    if (grant) {
        zhashx_destroy (&grant->volumes);
        free (grant);
        *item = NULL;
    }
}

bool
zaio_grants_name_valid (const char *name)
{
    size_t length = strlen (name);
    if (length == 0 || length > ZAIO_IDENTITY_MAX) return false;
    for (const char *c = name; *c; c++)
        if (!isalnum ((unsigned char)*c) && !strchr ("._-@+", *c)) return false;
    return true;
}

//  A setting's value, "" if it has none.
static const char *
s_value (zconfig_t *item)
{
    const char *value = zconfig_value (item);
    return value ? value : "";
}

//  The access a volume entry gives: rw or ro for a client, no value for a
//  worker (which serves or not). -1 if it is none of those.
static int
s_access (zconfig_t *item, bool worker)
{
    const char *value = s_value (item);
    if (worker) return *value ? -1 : ZAIO_ACCESS_READWRITE;
    if (streq (value, "rw")) return ZAIO_ACCESS_READWRITE;
    if (streq (value, "ro")) return ZAIO_ACCESS_READ;
    return -1;
}

//  Reads the volumes of one entry into grant. -1 (logged) on a bad one.
static int
s_load_volumes (zaio_grant_t *grant, zconfig_t *volumes, const char *path, bool worker)
{
    for (zconfig_t *item = zconfig_child (volumes); item; item = zconfig_next (item)) {
        const char *volume = zconfig_name (item);
        int access = s_access (item, worker);
        if (!zaio_volume_name_valid (volume) || access < 0) {
            zaio_log_error ("config", "%s/volumes/%s = '%s': %s", path, volume, s_value (item),
                            !zaio_volume_name_valid (volume) ? "not a volume name"
                            : worker                         ? "takes no value"
                                                             : "is neither ro nor rw");
            return -1;
        }
        zhashx_update (grant->volumes, volume, (void *)(intptr_t)access);
    }
    return 0;
}

//  Reads one identity's entry (client or worker) into grant. -1 (logged)
//  on an unknown key or bad value.
static int
s_load_entry (zaio_grant_t *grant, zconfig_t *entry, const char *path, bool worker)
{
    for (zconfig_t *item = zconfig_child (entry); item; item = zconfig_next (item)) {
        const char *key = zconfig_name (item);
        const char *value = s_value (item);
        if (streq (key, "volumes")) {
            if (s_load_volumes (grant, item, path, worker)) return -1;
        } else if (!worker && streq (key, "monitor") && (streq (value, "0") || streq (value, "1")))
            grant->monitor = streq (value, "1");
        else {
            zaio_log_error ("config", "%s/%s = '%s': unknown, or not 0 or 1", path, key, value);
            return -1;
        }
    }
    return 0;
}

//  Reads the entries of one kind ("client" or "worker") into table.
static int
s_load_kind (zhashx_t *table, zconfig_t *kind, bool worker)
{
    for (zconfig_t *entry = zconfig_child (kind); entry; entry = zconfig_next (entry)) {
        const char *name = zconfig_name (entry);
        char path[128];
        snprintf (path, sizeof path, "grants/%s/%.64s", zconfig_name (kind), name);
        if (!zaio_grants_name_valid (name)) {
            zaio_log_error ("config",
                            "%s: not a certificate name (letters, digits, ._-@+; "
                            "at most %d)",
                            path, ZAIO_IDENTITY_MAX);
            return -1;
        }
        zaio_grant_t *grant = (zaio_grant_t *)zmalloc (sizeof (zaio_grant_t));
        grant->volumes = zhashx_new ();
        zhashx_update (table, name, grant);
        if (s_load_entry (grant, entry, path, worker)) return -1;
    }
    return 0;
}

zaio_grants_t *
zaio_grants_new (zconfig_t *section)
{
    zaio_grants_t *self = (zaio_grants_t *)zmalloc (sizeof (zaio_grants_t));
    self->clients = zhashx_new ();
    self->workers = zhashx_new ();
    zhashx_set_destructor (self->clients, s_grant_destroy);
    zhashx_set_destructor (self->workers, s_grant_destroy);
    int rc = 0;
    for (zconfig_t *kind = section ? zconfig_child (section) : NULL; kind && rc == 0;
         kind = zconfig_next (kind)) {
        if (streq (zconfig_name (kind), "client"))
            rc = s_load_kind (self->clients, kind, false);
        else if (streq (zconfig_name (kind), "worker"))
            rc = s_load_kind (self->workers, kind, true);
        else {
            zaio_log_error ("config", "grants/%s: neither client nor worker", zconfig_name (kind));
            rc = -1;
        }
    }
    if (rc) zaio_grants_destroy (&self);
    return self;
}

void
zaio_grants_destroy (zaio_grants_t **self_p)
{
    zaio_grants_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->clients);
        zhashx_destroy (&self->workers);
        free (self);
        *self_p = NULL;
    }
}

const zaio_grant_t *
zaio_grants_client (zaio_grants_t *self, const char *identity)
{
    return identity ? (const zaio_grant_t *)zhashx_lookup (self->clients, identity) : NULL;
}

zaio_access_t
zaio_grant_access (const zaio_grant_t *grant, const char *volume)
{
    if (!grant) return ZAIO_ACCESS_READWRITE;
    return (zaio_access_t)(intptr_t)zhashx_lookup (grant->volumes, volume);
}

bool
zaio_grant_monitor (const zaio_grant_t *grant)
{
    return !grant || grant->monitor;
}

bool
zaio_grants_may_serve (zaio_grants_t *self, const char *identity, const char *volume)
{
    const zaio_grant_t *grant =
        identity ? (const zaio_grant_t *)zhashx_lookup (self->workers, identity) : NULL;
    return zaio_grant_access (grant, volume) != ZAIO_ACCESS_NONE;
}

void
zaio_grants_unmonitored (zaio_grants_t *self, zlist_t *names)
{
    for (zaio_grant_t *grant = (zaio_grant_t *)zhashx_first (self->clients); grant;
         grant = (zaio_grant_t *)zhashx_next (self->clients))
        if (!grant->monitor) zlist_append (names, (void *)zhashx_cursor (self->clients));
}
