/*  zaio_admission.h: whether a request may become a job now.

    The bounds of PROTOCOL.md section 7, in the order the spec gives them:
    the broker's queue (queue_max jobs accepted in all), a client's fair
    share of what is left, a client's jobs in flight with its replies held
    (inflight_max), the bytes of replies held for it and for all clients
    (held_bytes_max, held_bytes_total), and the request data held for jobs
    not yet sent to a worker (queue_bytes_max). A pure function of the numbers it is given,
    so every bound can be tested alone. Private to the broker.
*/
#ifndef ZAIO_ADMISSION_H_INCLUDED
#define ZAIO_ADMISSION_H_INCLUDED

#include "zaio_broker.h"

//  What admission looks at, counted by the broker's classes.
typedef struct {
    uint32_t accepted;     //  jobs accepted (queued + running) in all
    size_t queued_bytes;   //  request data held by jobs not yet sent to a worker
    bool known;            //  the client has a session (jobs or held replies)
    size_t unfinished;     //  its jobs accepted and not yet answered
    size_t inflight;       //  those, and its replies held
    size_t held_bytes;     //  bytes of its replies held
    size_t held_bytes_all; //  bytes of every client's replies held
    bool has_data;         //  the request carries a data part
    size_t data_size;      //  of that many bytes
} zaio_admission_t;

//  0 if the request may be accepted under config's limits, else
//  ZAIO_ERR_QUEUE_FULL with the reason in why.
int zaio_admission_check (const zaio_broker_config_t *config, const zaio_admission_t *state,
                          char *why, size_t why_size);

#endif
