/*  zaio_worker_proto.h: the worker protocol, ZAIOW/4 (schemas/PROTOCOL.md
    section 9), between the broker and its workers.

    The codec of the messages only the broker, the relay and the worker
    threads exchange: the envelope every message starts with, READY and a
    DONE's outcome. Clients never see them, so none of this is in libzaio.
    It builds on the ZAIO/1 codec (zaio_codec.h): headers are written with
    its writer and pack helpers and read with zaio_cursor, and decoders keep
    its rules: untrusted bytes, no assert, ZAIO_ERR_MALFORMED on anything
    wrong.
*/
#ifndef ZAIO_WORKER_PROTO_H_INCLUDED
#define ZAIO_WORKER_PROTO_H_INCLUDED

#include "zaio_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How every broker <-> worker envelope starts (see zaio_envelope_put).
#define ZAIO_WORKER_SIGNATURE "ZAIOW/4"
//  The most credit a worker's READY may offer; one offering more is malformed.
#define ZAIO_CREDIT_MAX 1024

//  Each message starts with one envelope part: the signature, a command
//  byte and a number (8 bytes, big-endian): a JOB's or DONE's job number;
//  in a worker's READY, HEARTBEAT and BYE its clock (zaio_fence.h), in the
//  broker's HEARTBEAT and BYE the worker's fence. A JOB's envelope goes on
//  with its fence (8 bytes more); a DONE's with the job's outcome
//  (zaio_done_pack), so a DONE needs no part of its own for it.
typedef enum {
    ZAIO_WORKER_READY = 1,
    ZAIO_WORKER_JOB = 2,
    ZAIO_WORKER_DONE = 3,
    ZAIO_WORKER_HEARTBEAT = 4,
    ZAIO_WORKER_BYE = 5,
} zaio_worker_command_t;

#define ZAIO_ENVELOPE_SIZE     16
#define ZAIO_JOB_ENVELOPE_SIZE 24 //  a JOB's: the envelope, then the fence

//  Writes an envelope into bytes (ZAIO_ENVELOPE_SIZE of them; for a JOB,
//  the first ZAIO_ENVELOPE_SIZE of its envelope, the fence left as it is).
void zaio_envelope_put (uint8_t *bytes, zaio_worker_command_t command, uint64_t number);
//  An envelope as a new frame; not a JOB's (zaio_job_envelope_frame).
zframe_t *zaio_envelope_frame (zaio_worker_command_t command, uint64_t number);
//  A JOB's envelope into bytes (ZAIO_JOB_ENVELOPE_SIZE of them), or as a
//  new frame: job number job, fence until_us (zaio_fence.h).
void zaio_job_envelope_put (uint8_t *bytes, uint64_t job, uint64_t until_us);
zframe_t *zaio_job_envelope_frame (uint64_t job, uint64_t until_us);
//  Reads an envelope: returns its command and stores its number in
//  *number, or returns -1 if data is not an envelope (signature or
//  command wrong, or a size other than ZAIO_ENVELOPE_SIZE: exactly
//  ZAIO_JOB_ENVELOPE_SIZE for a JOB, more for a DONE, its outcome
//  following).
int zaio_envelope_get (const void *data, size_t size, uint64_t *number);
//  The fence of a JOB's envelope, one zaio_envelope_get has read.
uint64_t zaio_job_envelope_fence (const void *data);

#define ZAIO_WORKER_VOLUMES_MAX 64

typedef struct {
    char name[ZAIO_VOLUME_MAX + 1];
    bool readonly;
} zaio_volume_info_t;

//  What a worker connection offers in READY.
typedef struct {
    uint32_t credit; //  jobs it accepts at once
    char host[64];
    uint32_t pid;
    uint32_t slot;         //  thread number within the process
    uint32_t heartbeat_ms; //  its heartbeat interval
    uint32_t volume_count;
    zaio_volume_info_t volumes[ZAIO_WORKER_VOLUMES_MAX];
} zaio_ready_t;

//  A READY body. Caller owns the returned frame.
zframe_t *zaio_ready_encode (const zaio_ready_t *ready);
//  Decodes a READY body: credit 1 to ZAIO_CREDIT_MAX, at most
//  ZAIO_WORKER_VOLUMES_MAX volumes with valid names. Returns 0 or
//  ZAIO_ERR_MALFORMED.
int zaio_ready_decode (zaio_ready_t *ready, const void *data, size_t size);

//  What the broker needs of a finished job, so it never decodes the reply
//  header it forwards: [ok, error name or nil, bytes, service_us].
typedef struct {
    int error;
    uint64_t bytes;
    uint64_t service_us;
} zaio_outcome_t;

//  An outcome as a new frame (caller owns it), or packed into pk.
zframe_t *zaio_outcome_encode (const zaio_outcome_t *outcome);
void zaio_outcome_pack (msgpack_packer *pk, const zaio_outcome_t *outcome);
//  Returns 0 or ZAIO_ERR_MALFORMED.
int zaio_outcome_decode (zaio_outcome_t *outcome, const void *data, size_t size);

//  A DONE's envelope part: the envelope for job, then its outcome.
void zaio_done_pack (zaio_writer_t *writer, uint64_t job, const zaio_outcome_t *outcome);
//  The outcome of a DONE's envelope part of size bytes (whose envelope
//  zaio_envelope_get has read). Returns 0 or ZAIO_ERR_MALFORMED.
int zaio_done_outcome (zaio_outcome_t *outcome, const void *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
