/*  codec_compare.h: decoded messages in a form memcmp can compare, for the
    codec's round-trip checks (test_codec and the fuzzer). */
#ifndef ZAIO_CODEC_COMPARE_H_INCLUDED
#define ZAIO_CODEC_COMPARE_H_INCLUDED

#include "zaio_codec.h"
#include "zaio_worker_proto.h"

//  Zeroes every string member's bytes after its NUL. A repeated key may
//  leave the tail of a longer earlier value there, and a request decode
//  leaves its path buffers' tails as they were: no part of what was
//  decoded, but it would upset a byte-for-byte comparison.
void zaio_test_normalize_request (zaio_request_t *req);
void zaio_test_normalize_event (zaio_event_t *event);
void zaio_test_normalize_ready (zaio_ready_t *ready);

#endif
