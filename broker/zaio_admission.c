/*  zaio_admission.c: the bounds a request must pass; see zaio_admission.h. */

#include "zaio_admission.h"
#include "zaio_proto.h"

#include <stdio.h>

int
zaio_admission_check (const zaio_broker_config_t *config, const zaio_admission_t *state, char *why,
                      size_t why_size)
{
    if (state->accepted >= config->queue_max) {
        snprintf (why, why_size, "broker queue is full (%u jobs)", config->queue_max);
        return ZAIO_ERR_QUEUE_FULL;
    }
    //  A client's share of the queue shrinks as the queue fills: it may
    //  add a job only while it has fewer than twice the room left (the
    //  dynamic threshold of shared switch buffers). However many clients
    //  flood, room is left for the rest, and one alone can take two
    //  thirds of the queue.
    uint32_t room = config->queue_max - state->accepted;
    if (state->known && state->unfinished >= 2 * (size_t)room) {
        snprintf (why, why_size,
                  "client has %zu jobs queued or running, its share while the broker queue "
                  "has room for %u",
                  state->unfinished, room);
        return ZAIO_ERR_QUEUE_FULL;
    }
    if (state->inflight >= config->inflight_max) {
        snprintf (why, why_size, "client has %zu jobs in flight or replies held, the limit",
                  state->inflight);
        return ZAIO_ERR_QUEUE_FULL;
    }
    //  Replies held, in bytes: a client that reads none is refused once
    //  its own reach held_bytes_max, and once all clients' reach
    //  held_bytes_total, every client with any held (those that do not
    //  read) is, so the others are served on.
    if (state->held_bytes >= config->held_bytes_max ||
        (state->held_bytes && state->held_bytes_all >= config->held_bytes_total)) {
        snprintf (why, why_size, "client reads no replies: %zu bytes held for it, %zu in all",
                  state->held_bytes, state->held_bytes_all);
        return ZAIO_ERR_QUEUE_FULL;
    }
    //  One request may always be queued, however large: the payload limit
    //  bounds it.
    if (state->has_data && state->queued_bytes &&
        state->queued_bytes + state->data_size > config->queue_bytes_max) {
        snprintf (why, why_size, "broker holds %zu bytes of data for queued jobs (limit %zu)",
                  state->queued_bytes, config->queue_bytes_max);
        return ZAIO_ERR_QUEUE_FULL;
    }
    return 0;
}
