/*  zaio_reply_batch.h: one reply batch the broker builds for a client
    connection (PROTOCOL.md sections 3.4 and 5.2).

    The replies to a connection's batch entries are gathered here as they
    complete: each reply header is copied into the entries frame, each
    data part moved in without a copy. The batch is bounded: it takes at
    most max replies and, unless it is empty, none that would take its
    entries frame over bytes_max or its data parts over data_max (a client
    takes a message whole); the caller sends it then (or at the end of the
    broker's pass) and starts another. Once sealed it is only sent
    (or held, whole, until its client has room). Private to the broker.
*/
#ifndef ZAIO_REPLY_BATCH_H_INCLUDED
#define ZAIO_REPLY_BATCH_H_INCLUDED

#include "zaio_route.h"

typedef struct _zaio_reply_batch_t zaio_reply_batch_t;

//  An empty batch of at most max replies, bytes_max bytes of entries and
//  data_max bytes of data.
zaio_reply_batch_t *zaio_reply_batch_new (uint32_t max, size_t bytes_max, size_t data_max);
//  Frees the batch and the parts it holds (a batch never sent is dropped).
void zaio_reply_batch_destroy (zaio_reply_batch_t **self_p);

//  True if a reply of header_size bytes with data_size bytes of data fits:
//  the batch is empty, or no bound would be passed.
bool zaio_reply_batch_fits (const zaio_reply_batch_t *self, size_t header_size, size_t data_size);

//  Adds a reply: the header part is copied and closed, the data part (NULL
//  if none) moved. The batch must not be sealed and the reply must fit.
//  Returns true if the batch is full now (no further reply would fit).
bool zaio_reply_batch_add (zaio_reply_batch_t *self, zmq_msg_t *header, zmq_msg_t *data);

//  Replies in the batch.
uint32_t zaio_reply_batch_count (const zaio_reply_batch_t *self);

//  Bytes the batch holds: its entries frame and data parts.
size_t zaio_reply_batch_bytes (const zaio_reply_batch_t *self);

//  Sends the batch as [peer][signature][entries][data...] on a ROUTER,
//  sealing it first. Returns 0 (the parts are taken: destroy the batch),
//  or -1 if the peer has gone or its queue is full (zmq_errno says which):
//  nothing is sent, and the batch is kept as it was, sealed.
int zaio_reply_batch_send (zaio_reply_batch_t *self, void *handle, const zaio_routing_id_t *peer);

#endif
