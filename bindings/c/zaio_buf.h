/*  zaio_buf.h: library-internal part of zaio_buf_t (the public part is in
    zaio.h). Not installed.
*/
#ifndef ZAIO_BUF_H_INCLUDED
#define ZAIO_BUF_H_INCLUDED

#include "zaio.h"

//  A buffer that takes over the content of msg (msg is left empty).
zaio_buf_t *zaio_buf_from_msg (zmq_msg_t *msg);

//  The message inside the buffer. Borrowed.
zmq_msg_t *zaio_buf_msg (zaio_buf_t *self);

#endif
