/*  zaio_proto.h: constants of the zaio wire protocol (schemas/PROTOCOL.md).

    Everything a peer needs to agree on lives here: signatures, ops, error
    codes, field names and limits. The codec (zaio_codec.h) and every
    component include this file; nothing else defines a wire constant.
*/
#ifndef ZAIO_PROTO_H_INCLUDED
#define ZAIO_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Marks the functions libzaio exports: the client API (zaio.h) and the
//  ZAIO/1 codec (zaio_codec.h, zaio_cursor.h). libzaio is built with hidden
//  visibility, so whatever else it holds stays inside it.
#if defined(__GNUC__)
#define ZAIO_EXPORT __attribute__ ((visibility ("default")))
#else
#define ZAIO_EXPORT
#endif

#define ZAIO_VERSION_MAJOR  0
#define ZAIO_VERSION_MINOR  1
#define ZAIO_VERSION_PATCH  0
#define ZAIO_VERSION_STRING "0.1.0"

//  First frame of every client request, reply and event body.
#define ZAIO_SIGNATURE        "ZAIO/1"
#define ZAIO_PROTOCOL_VERSION 1

//  Limits a request must respect. The broker may lower the payload limit by
//  configuration and reports the values in force in `hello`.
#define ZAIO_HEADER_MAX      8192                  //  bytes in a request header frame
#define ZAIO_PATH_MAX        1024                  //  bytes in a path, without NUL
#define ZAIO_NAME_MAX        255                   //  bytes in one path component
#define ZAIO_VOLUME_MAX      63                    //  bytes in a volume name
#define ZAIO_KEY_MAX         255                   //  bytes in an ordering key
#define ZAIO_DEPTH_MAX       4                     //  nesting of any msgpack we decode
#define ZAIO_PAYLOAD_MAX     (64u * 1024 * 1024)   //  default data frame limit
#define ZAIO_PAYLOAD_CEILING (1024u * 1024 * 1024) // highest configurable payload limit
#define ZAIO_LISTDIR_DEFAULT 1000                  //  entries per listdir page by default
#define ZAIO_LISTDIR_MAX     10000                 //  entries per listdir page at most
#define ZAIO_DEFAULT_VOLUME  "default"
#define ZAIO_BATCH_MAX       1024           //  entries in a batch by default
#define ZAIO_BATCH_BYTES_MAX (1024u * 1024) //  bytes of a batch's entries frame by default

//  Top clients a stats reply lists by default, and at most (section 5.3).
#define ZAIO_STATS_TOP_DEFAULT 10
#define ZAIO_STATS_TOP_MAX     100

//  Operations, in the order of the spec's op table.
typedef enum {
    ZAIO_OP_PING,
    ZAIO_OP_HELLO,
    ZAIO_OP_STAT,
    ZAIO_OP_READ,
    ZAIO_OP_WRITE,
    ZAIO_OP_APPEND,
    ZAIO_OP_READFILE,
    ZAIO_OP_WRITEFILE,
    ZAIO_OP_TRUNCATE,
    ZAIO_OP_FSYNC,
    ZAIO_OP_UNLINK,
    ZAIO_OP_RENAME,
    ZAIO_OP_MKDIR,
    ZAIO_OP_RMDIR,
    ZAIO_OP_LISTDIR,
    ZAIO_OP_COPY,
    ZAIO_OP_BATCH, //  many requests in one message (PROTOCOL.md section 5.2)
    ZAIO_OP_STATS, //  the broker's counters, gauges and latencies (PROTOCOL.md section 5.3)
    ZAIO_OP_COUNT
} zaio_op_t;

//  Request header fields, one bit each in zaio_request_t.fields.
typedef enum {
    ZAIO_FIELD_ID = 1u << 0,
    ZAIO_FIELD_OP = 1u << 1,
    ZAIO_FIELD_PATH = 1u << 2,
    ZAIO_FIELD_TO = 1u << 3,
    ZAIO_FIELD_OFFSET = 1u << 4,
    ZAIO_FIELD_LENGTH = 1u << 5,
    ZAIO_FIELD_SIZE = 1u << 6,
    ZAIO_FIELD_MODE = 1u << 7,
    ZAIO_FIELD_CREATE = 1u << 8,
    ZAIO_FIELD_PARENTS = 1u << 9,
    ZAIO_FIELD_DATASYNC = 1u << 10,
    ZAIO_FIELD_AFTER = 1u << 11,
    ZAIO_FIELD_LIMIT = 1u << 12,
    ZAIO_FIELD_VOLUME = 1u << 13,
    ZAIO_FIELD_KEY = 1u << 14,
    ZAIO_FIELD_BARRIER = 1u << 15,
    ZAIO_FIELD_LINK = 1u << 16,
    ZAIO_FIELD_DEADLINE = 1u << 17,
    ZAIO_FIELD_PRIORITY = 1u << 18,
    ZAIO_FIELD_TOP = 1u << 19, //  stats: how many top clients
} zaio_field_t;

//  Error codes. Positive values below ZAIO_ERR_BASE are POSIX errno values
//  and travel as their names ("ENOENT"); the protocol's own errors start at
//  ZAIO_ERR_BASE and travel as upper-case names without an E prefix.
typedef enum {
    ZAIO_OK = 0,
    ZAIO_ERR_BASE = 10000,
    ZAIO_ERR_BADVERSION,      //  first frame is not the signature
    ZAIO_ERR_MALFORMED,       //  frames, msgpack, types or fields are wrong
    ZAIO_ERR_UNKNOWN_OP,      //  op is not one this broker knows
    ZAIO_ERR_TOOBIG,          //  a limit was exceeded
    ZAIO_ERR_QUEUE_FULL,      //  not accepted now; retry later
    ZAIO_ERR_SHUTDOWN,        //  broker is stopping; job was not run
    ZAIO_ERR_NOVOLUME,        //  no such volume, or no live worker serves it
    ZAIO_ERR_UNKNOWN_OUTCOME, //  worker lost while running a non-idempotent job
    ZAIO_ERR_INTERNAL,        //  broker bug or resource failure; see message
    ZAIO_ERR_END
} zaio_error_t;

#ifdef __cplusplus
}
#endif

#endif
