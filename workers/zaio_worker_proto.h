/*  zaio_worker_proto.h: the worker protocol, ZAIOW/5 (schemas/PROTOCOL.md
    section 9), between the broker and its workers.

    The codec of the messages only the broker, the relay and the worker
    threads exchange: the envelope every message starts with, READY, and
    the entries of JOB and DONE with a DONE's outcomes. Clients never see them, so none of this is
   in libzaio. It builds on the ZAIO/1 codec (zaio_codec.h): headers are written with its writer and
   pack helpers and read with zaio_cursor, and decoders keep its rules: untrusted bytes, no assert,
   ZAIO_ERR_MALFORMED on anything wrong.
*/
#ifndef ZAIO_WORKER_PROTO_H_INCLUDED
#define ZAIO_WORKER_PROTO_H_INCLUDED

#include "zaio_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How every broker <-> worker envelope starts (see zaio_envelope_put).
#define ZAIO_WORKER_SIGNATURE "ZAIOW/5"
//  What every ZAIOW signature starts with: a message that has it and
//  another version is an older (or newer) worker's, refused by name.
#define ZAIO_WORKER_SIGNATURE_STEM "ZAIOW/"
//  The most credit a worker's READY may offer; one offering more is malformed.
#define ZAIO_CREDIT_MAX 1024

//  Each message starts with one envelope part: the signature, a command
//  byte and a number (8 bytes, big-endian): in a JOB the fence of its jobs
//  (zaio_fence.h), in a DONE 0; in a worker's READY, HEARTBEAT and BYE its
//  clock, in the broker's HEARTBEAT and BYE the worker's fence. A JOB's
//  and a DONE's first part goes on with their entries (PROTOCOL.md
//  section 9): a JOB carries 1 to ZAIO_CREDIT_MAX jobs, a DONE as many
//  completions, and the data frames of those that have one follow as
//  parts of their own.
typedef enum {
    ZAIO_WORKER_READY = 1,
    ZAIO_WORKER_JOB = 2,
    ZAIO_WORKER_DONE = 3,
    ZAIO_WORKER_HEARTBEAT = 4,
    ZAIO_WORKER_BYE = 5,
} zaio_worker_command_t;

#define ZAIO_ENVELOPE_SIZE 16
//  A JOB's or DONE's first part: the envelope, then a 2-byte count.
#define ZAIO_ENTRIES_HEAD_SIZE (ZAIO_ENVELOPE_SIZE + 2)
//  Each entry's fixed bytes: a JOB's job (8), flags (1), header length (4);
//  a DONE's the same and an outcome length (1).
#define ZAIO_JOB_ENTRY_SIZE  13
#define ZAIO_DONE_ENTRY_SIZE 14
//  Entry flags: a data frame belongs to the entry. No other bit is set.
#define ZAIO_ENTRY_DATA 1
//  Parts of a JOB or DONE at most: the first, and one data frame a job.
#define ZAIO_WORKER_PARTS_MAX (1 + ZAIO_CREDIT_MAX)
//  A sender ends a JOB or DONE once its first part has passed this many
//  bytes, or its data frames together have (a single entry larger than
//  that travels alone), so one message never holds much more than one
//  job would.
#define ZAIO_WORKER_BATCH_BYTES (64 * 1024)
#define ZAIO_WORKER_BATCH_DATA  (1024 * 1024)

//  Writes an envelope into bytes (ZAIO_ENVELOPE_SIZE of them).
void zaio_envelope_put (uint8_t *bytes, zaio_worker_command_t command, uint64_t number);
//  An envelope as a new frame: READY, HEARTBEAT or BYE (the others carry
//  entries: zaio_batch_t).
zframe_t *zaio_envelope_frame (zaio_worker_command_t command, uint64_t number);
//  Reads an envelope: returns its command and stores its number in
//  *number, or returns -1 if data is not an envelope (signature or
//  command wrong; a size other than ZAIO_ENVELOPE_SIZE, but for a JOB or
//  DONE, whose entries follow it: zaio_entries_open checks those).
int zaio_envelope_get (const void *data, size_t size, uint64_t *number);
//  True if data starts as a ZAIOW envelope of another version than this
//  one (an old worker's READY, say).
bool zaio_envelope_other_version (const void *data, size_t size);

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

//  ---------------------------------------------------------------------
//  JOB and DONE entries (PROTOCOL.md section 9)

//  One entry as read: header points into the message's first part.
typedef struct {
    uint64_t job;           //  the broker's (or relay's) number for the job
    bool has_data;          //  a data frame belongs to it
    const uint8_t *header;  //  the request (JOB) or reply (DONE) header
    size_t header_size;     //  1 or more
    zaio_outcome_t outcome; //  a DONE's
} zaio_entry_t;

//  Reads the entries of a JOB's or DONE's first part, checked whole first.
typedef struct {
    int command;         //  ZAIO_WORKER_JOB or ZAIO_WORKER_DONE
    uint64_t number;     //  the envelope's: a JOB's fence
    uint32_t count;      //  entries
    uint32_t data_count; //  entries with a data frame
    const uint8_t *next; //  the next entry
    uint32_t left;       //  entries not read yet
} zaio_entries_t;

//  Opens the first part (data, size) of a message whose other parts are
//  data_frames: checks the envelope (a JOB or DONE), the count (1 to
//  ZAIO_CREDIT_MAX), every entry (flags, a header of 1 byte or more that
//  fits, a DONE's outcome that decodes exactly), that the part ends with
//  the last entry, and that data_frames is the number of entries with a
//  data flag. Returns 0, or ZAIO_ERR_MALFORMED (reader then reads nothing).
int zaio_entries_open (zaio_entries_t *reader, const void *data, size_t size, size_t data_frames);
//  The next entry into *entry, or false when none is left.
bool zaio_entries_next (zaio_entries_t *reader, zaio_entry_t *entry);

//  Writes a JOB's or DONE's first part, entry by entry. Its buffer grows
//  as needed and is kept between messages.
typedef struct {
    zaio_writer_t writer;
    uint32_t count;    //  entries so far
    size_t data_bytes; //  bytes of their data frames (the caller's to send)
    uint32_t data_count;
} zaio_batch_t;

void zaio_batch_init (zaio_batch_t *self);
void zaio_batch_release (zaio_batch_t *self);
//  Starts a message: a JOB with fence number, or a DONE (number 0).
void zaio_batch_start (zaio_batch_t *self, zaio_worker_command_t command, uint64_t number);
//  Adds a job with its request header; data_size is its data frame's size,
//  if has_data.
void zaio_batch_add_job (zaio_batch_t *self, uint64_t job, const void *header, size_t size,
                         bool has_data, size_t data_size);
//  Adds a completion: its outcome and reply header.
void zaio_batch_add_done (zaio_batch_t *self, uint64_t job, const zaio_outcome_t *outcome,
                          const void *header, size_t size, bool has_data, size_t data_size);
//  True if the message should go before another entry joins it: it holds
//  ZAIO_CREDIT_MAX entries, or its first part or its data have passed the
//  ZAIO_WORKER_BATCH_ limits.
bool zaio_batch_full (zaio_batch_t *self);
//  The first part as a new message part (the caller sends or closes it);
//  the batch is empty after it (start the next with zaio_batch_start).
void zaio_batch_part (zaio_batch_t *self, zmq_msg_t *part);
//  The same as a new frame.
zframe_t *zaio_batch_frame (zaio_batch_t *self);

#ifdef __cplusplus
}
#endif

#endif
