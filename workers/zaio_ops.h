/*  zaio_ops.h: the op table, one entry per op: validate, work, result.

    zaio_ops_execute runs on a worker thread and makes the blocking system
    calls. It turns a decoded request into the client's reply header (and
    data frame), plus the outcome the broker accounts with. It never
    asserts on request content: every failure is an error reply.
*/
#ifndef ZAIO_OPS_H_INCLUDED
#define ZAIO_OPS_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_fdcache.h"
#include "zaio_volume.h"
#include "zaio_worker_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What a job produced; the parts are the caller's to send or close.
typedef struct {
    zmq_msg_t header;       //  reply header; always set
    zmq_msg_t data;         //  reply data part, if has_data
    bool has_data;          //  for a successful read or readfile
    zaio_outcome_t outcome; //  error code (0 = ok) and bytes moved; service_us left 0
} zaio_ops_result_t;

//  Asked right before an op makes a change others can see after a long
//  wait of its own (writefile's rename, after writing and syncing the
//  whole file): true if the job may still go on. A worker's fence
//  (zaio_fence.h) answers it, so a job that started in time but was frozen
//  mid-way does not land late.
typedef bool (zaio_ops_gate_fn) (void *arg);

//  Run req against volume. data is the request's data part (borrowed; NULL
//  for ops without one). payload_max bounds what a read or readfile may
//  return. cache, if not NULL, is the calling thread's: reads keep their
//  files open in it. gate, if not NULL, is asked (with gate_arg) before a
//  late change; when it says no, the job undoes what it did and is
//  answered UNKNOWN_OUTCOME, unchanged. Always fills result.
void zaio_ops_execute (zaio_volume_t *volume, const zaio_request_t *req, zmq_msg_t *data,
                       size_t payload_max, zaio_fdcache_t *cache, zaio_ops_gate_fn *gate,
                       void *gate_arg, zaio_ops_result_t *result);

#ifdef __cplusplus
}
#endif

#endif
