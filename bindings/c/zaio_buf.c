/*  zaio_buf.c: zaio_buf_t, bytes held in a ZeroMQ message.

    A buffer is a zmq_msg_t. Received data frames are moved into one without
    copying; buffers sent as data are copied by reference (zmq_msg_copy
    shares the content of large messages), so a write can be retried after
    QUEUE_FULL without keeping a second copy of its bytes.
*/

#include "zaio_buf.h"

struct _zaio_buf_t {
    zmq_msg_t msg;
};

zaio_buf_t *
zaio_buf_new (const void *data, size_t size)
{
    zaio_buf_t *self = (zaio_buf_t *)calloc (1, sizeof (zaio_buf_t));
    assert (self);
    if (zmq_msg_init_size (&self->msg, size)) {
        free (self);
        return NULL;
    }
    if (data && size) memcpy (zmq_msg_data (&self->msg), data, size);
    return self;
}

zaio_buf_t *
zaio_buf_new_wrap (void *data, size_t size, void (*free_fn) (void *data, void *hint), void *hint)
{
    zaio_buf_t *self = (zaio_buf_t *)calloc (1, sizeof (zaio_buf_t));
    assert (self);
    //  zmq_msg_init_data takes a NULL ffn to mean "never free".
    int rc = zmq_msg_init_data (&self->msg, data, size, free_fn, hint);
    assert (rc == 0);
    return self;
}

zaio_buf_t *
zaio_buf_from_msg (zmq_msg_t *msg)
{
    assert (msg);
    zaio_buf_t *self = (zaio_buf_t *)calloc (1, sizeof (zaio_buf_t));
    assert (self);
    zmq_msg_init (&self->msg);
    zmq_msg_move (&self->msg, msg);
    return self;
}

zmq_msg_t *
zaio_buf_msg (zaio_buf_t *self)
{
    assert (self);
    return &self->msg;
}

void
zaio_buf_destroy (zaio_buf_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zmq_msg_close (&(*self_p)->msg);
        free (*self_p);
        *self_p = NULL;
    }
}

void *
zaio_buf_data (zaio_buf_t *self)
{
    assert (self);
    return zmq_msg_data (&self->msg);
}

size_t
zaio_buf_size (zaio_buf_t *self)
{
    assert (self);
    return zmq_msg_size (&self->msg);
}
