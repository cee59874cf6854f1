/*  zaio_reply_batch.c: a reply batch being built; see zaio_reply_batch.h. */

#include "zaio_reply_batch.h"
#include "zaio_codec.h"

#define S_PARTS_FIRST 8 //  data parts room made first; it doubles up to max

struct _zaio_reply_batch_t {
    uint32_t max;               //  replies at most
    size_t bytes_max;           //  bytes of the entries frame at most
    size_t data_max;            //  bytes of the data parts at most
    zaio_batch_writer_t writer; //  the entries, until sealed
    zmq_msg_t entries;          //  the entries frame, once sealed
    bool sealed;
    uint32_t count;   //  replies in it
    zmq_msg_t *parts; //  their data parts, in order
    uint32_t part_count;
    uint32_t part_room; //  parts allocated
    size_t data_bytes;  //  of the data parts
};

zaio_reply_batch_t *
zaio_reply_batch_new (uint32_t max, size_t bytes_max, size_t data_max)
{
    assert (max > 0);
    zaio_reply_batch_t *self = (zaio_reply_batch_t *)zmalloc (sizeof (zaio_reply_batch_t));
    self->max = max;
    self->bytes_max = bytes_max;
    self->data_max = data_max;
    zaio_batch_writer_init (&self->writer);
    return self;
}

void
zaio_reply_batch_destroy (zaio_reply_batch_t **self_p)
{
    zaio_reply_batch_t *self = *self_p;
    if (!self) return;
    for (uint32_t i = 0; i < self->part_count; i++) zmq_msg_close (&self->parts[i]);
    free (self->parts);
    if (self->sealed) zmq_msg_close (&self->entries);
    zaio_batch_writer_release (&self->writer);
    free (self);
    *self_p = NULL;
}

//  The most bytes one more pair adds around a header: its array and bin
//  heads and its flag, and the growth of the array's own head.
#define S_PAIR_SLACK 12

bool
zaio_reply_batch_fits (const zaio_reply_batch_t *self, size_t header_size, size_t data_size)
{
    if (self->count == 0) return true;
    return self->count < self->max &&
           zaio_batch_writer_size (&self->writer) + header_size + S_PAIR_SLACK <= self->bytes_max &&
           self->data_bytes + data_size <= self->data_max;
}

bool
zaio_reply_batch_add (zaio_reply_batch_t *self, zmq_msg_t *header, zmq_msg_t *data)
{
    assert (!self->sealed &&
            zaio_reply_batch_fits (self, zmq_msg_size (header), data ? zmq_msg_size (data) : 0));
    int rc = zaio_batch_writer_add (&self->writer, zmq_msg_data (header), zmq_msg_size (header),
                                    data != NULL);
    assert (rc == 0); //  out of memory, as czmq's allocations abort
    zmq_msg_close (header);
    if (data) {
        if (self->part_count == self->part_room) {
            self->part_room = self->part_room ? self->part_room * 2 : S_PARTS_FIRST;
            if (self->part_room > self->max) self->part_room = self->max;
            self->parts = (zmq_msg_t *)realloc (self->parts, self->part_room * sizeof (zmq_msg_t));
            assert (self->parts);
        }
        zmq_msg_t *part = &self->parts[self->part_count++];
        zmq_msg_init (part);
        zmq_msg_move (part, data);
        zmq_msg_close (data);
        self->data_bytes += zmq_msg_size (part);
    }
    self->count++;
    return !zaio_reply_batch_fits (self, 0, 0) || self->data_bytes >= self->data_max;
}

uint32_t
zaio_reply_batch_count (const zaio_reply_batch_t *self)
{
    return self->count;
}

size_t
zaio_reply_batch_bytes (const zaio_reply_batch_t *self)
{
    size_t entries =
        self->sealed ? zmq_msg_size (&self->entries) : zaio_batch_writer_size (&self->writer);
    return entries + self->data_bytes;
}

int
zaio_reply_batch_send (zaio_reply_batch_t *self, void *handle, const zaio_routing_id_t *peer)
{
    assert (self->count > 0);
    if (!self->sealed) {
        zaio_batch_writer_part (&self->writer, &self->entries);
        zaio_batch_writer_release (&self->writer);
        self->sealed = true;
    }
    //  Once the routing id is queued, so is the rest (zaio_route_send).
    if (zmq_send (handle, peer->data, peer->size, ZMQ_SNDMORE) == -1) return -1;
    zmq_send (handle, ZAIO_SIGNATURE, strlen (ZAIO_SIGNATURE), ZMQ_SNDMORE);
    bool more = self->part_count > 0;
    if (zmq_msg_send (&self->entries, handle, more ? ZMQ_SNDMORE : 0) == -1)
        zmq_msg_close (&self->entries);
    for (uint32_t i = 0; i < self->part_count; i++)
        if (zmq_msg_send (&self->parts[i], handle, i + 1 < self->part_count ? ZMQ_SNDMORE : 0) ==
            -1)
            zmq_msg_close (&self->parts[i]);
    //  Every part has gone (sent, or closed if the peer left meanwhile).
    self->sealed = false;
    self->part_count = 0;
    self->count = 0;
    self->data_bytes = 0;
    return 0;
}
