/*  zaio_route.c: routing ids and sends to ROUTER peers; see zaio_route.h. */

#include "zaio_route.h"

#include <string.h>

void
zaio_routing_id_from (zaio_routing_id_t *id, zmq_msg_t *part)
{
    size_t size = zmq_msg_size (part);
    id->size = (uint8_t)(size < sizeof id->data ? size : sizeof id->data);
    memcpy (id->data, zmq_msg_data (part), id->size);
}

bool
zaio_routing_id_eq (const zaio_routing_id_t *a, const zaio_routing_id_t *b)
{
    return a->size == b->size && memcmp (a->data, b->data, a->size) == 0;
}

static size_t
s_id_hash (const void *key)
{
    const zaio_routing_id_t *id = (const zaio_routing_id_t *)key;
    size_t hash = 2166136261u; //  FNV-1a
    for (size_t i = 0; i < id->size; i++) hash = (hash ^ id->data[i]) * 16777619u;
    return hash;
}

static int
s_id_compare (const void *a, const void *b)
{
    return zaio_routing_id_eq ((const zaio_routing_id_t *)a, (const zaio_routing_id_t *)b) ? 0 : 1;
}

static void *
s_id_duplicate (const void *key)
{
    zaio_routing_id_t *copy = (zaio_routing_id_t *)malloc (sizeof (zaio_routing_id_t));
    assert (copy);
    memcpy (copy, key, sizeof (zaio_routing_id_t));
    return copy;
}

static void
s_id_free (void **key)
{
    free (*key);
    *key = NULL;
}

zhashx_t *
zaio_route_table_new (zhashx_destructor_fn *destructor)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_key_hasher (table, s_id_hash);
    zhashx_set_key_comparator (table, s_id_compare);
    zhashx_set_key_duplicator (table, s_id_duplicate);
    zhashx_set_key_destructor (table, s_id_free);
    zhashx_set_destructor (table, destructor);
    return table;
}

int
zaio_route_send (void *handle, const zaio_routing_id_t *peer, const void *lead, size_t size,
                 zmq_msg_t *first, zmq_msg_t *second)
{
    if (zmq_send (handle, peer->data, peer->size, ZMQ_SNDMORE) == -1) return -1;
    zmq_msg_t *parts[] = {first, second};
    size_t count = first ? (second ? 2 : 1) : 0;
    zmq_send (handle, lead, size, count ? ZMQ_SNDMORE : 0);
    for (size_t i = 0; i < count; i++)
        if (zmq_msg_send (parts[i], handle, i + 1 < count ? ZMQ_SNDMORE : 0) == -1)
            zmq_msg_close (parts[i]);
    return 0;
}

void
zaio_route_close (zmq_msg_t *first, zmq_msg_t *second)
{
    if (first) zmq_msg_close (first);
    if (second) zmq_msg_close (second);
}

void
zaio_route_name (char *text, size_t size, const zaio_routing_id_t *peer)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t length = 0;
    for (size_t i = 0; i < peer->size && length + 2 < size; i++) {
        text[length++] = digits[peer->data[i] >> 4];
        text[length++] = digits[peer->data[i] & 15];
    }
    text[length] = 0;
}

const char *
zaio_route_identity (zmq_msg_t *part)
{
    const char *identity = zmq_msg_gets (part, "User-Id");
    return identity && *identity ? identity : NULL;
}
