/*  codec_compare.c: see codec_compare.h. */

#include "codec_compare.h"

#include <string.h>

static void
s_clear_tail (char *text, size_t size)
{
    size_t len = strnlen (text, size);
    memset (text + len, 0, size - len);
}

void
zaio_test_normalize_request (zaio_request_t *req)
{
    s_clear_tail (req->path, sizeof req->path);
    s_clear_tail (req->to, sizeof req->to);
    s_clear_tail (req->after, sizeof req->after);
    s_clear_tail (req->volume, sizeof req->volume);
    s_clear_tail (req->key, sizeof req->key);
}

void
zaio_test_normalize_event (zaio_event_t *event)
{
    s_clear_tail (event->client, sizeof event->client);
    s_clear_tail (event->path, sizeof event->path);
    s_clear_tail (event->volume, sizeof event->volume);
    s_clear_tail (event->worker, sizeof event->worker);
}

void
zaio_test_normalize_ready (zaio_ready_t *ready)
{
    s_clear_tail (ready->host, sizeof ready->host);
    for (size_t i = 0; i < ZAIO_WORKER_VOLUMES_MAX; i++)
        s_clear_tail (ready->volumes[i].name, sizeof ready->volumes[i].name);
}
