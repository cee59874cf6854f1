/*  zaio_route.h: peers of the broker's ROUTER sockets, by routing id.

    Clients and workers are known by the routing id their ROUTER gives
    them, kept as it is (no hex strings on the hot path), and replies and
    jobs go back to them through one send that never blocks: under
    ZMQ_ROUTER_MANDATORY a peer that has gone (EHOSTUNREACH) or whose
    queue is full (EAGAIN) makes the send fail at once, the parts staying
    the caller's. Private to the broker.
*/
#ifndef ZAIO_ROUTE_H_INCLUDED
#define ZAIO_ROUTE_H_INCLUDED

#include <czmq.h>

//  A peer's routing id, as its ROUTER gives it: 1 to 255 bytes.
typedef struct {
    uint8_t size;
    byte data[255];
} zaio_routing_id_t;

//  The routing id a ROUTER put first in a message.
void zaio_routing_id_from (zaio_routing_id_t *id, zmq_msg_t *part);

//  How events and logs name an unauthenticated peer: its routing id in
//  upper-case hex, into text (at least 2 * 32 + 1 bytes; longer ids are
//  cut there).
void zaio_route_name (char *text, size_t size, const zaio_routing_id_t *peer);

//  The identity the peer that sent part authenticated as over CURVE (its
//  ZMTP User-Id, which the broker's ZAP handler sets); NULL if it did not.
const char *zaio_route_identity (zmq_msg_t *part);

//  True if a and b are the same peer.
bool zaio_routing_id_eq (const zaio_routing_id_t *a, const zaio_routing_id_t *b);

//  A hash table keyed by routing id (copied in), whose items destructor
//  frees.
zhashx_t *zaio_route_table_new (zhashx_destructor_fn *destructor);

//  Sends [peer][lead][first?][second?] on a ROUTER, lead being size bytes
//  (a signature, or a worker envelope). Returns -1 if the first part
//  fails (the peer has gone, or its queue is full: zmq_errno says which);
//  nothing is sent then and the parts stay the caller's. Once the first
//  part is queued so is the rest, since the high-water mark counts whole
//  messages; the parts that are not NULL are then taken.
int zaio_route_send (void *handle, const zaio_routing_id_t *peer, const void *lead, size_t size,
                     zmq_msg_t *first, zmq_msg_t *second);

//  Closes the parts that are not NULL.
void zaio_route_close (zmq_msg_t *first, zmq_msg_t *second);

#endif
