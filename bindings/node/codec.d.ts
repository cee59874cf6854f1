/// <reference types="node" />
//  The ZAIO/1 wire codec: canonical encoders and strict decoders.

/** `ZAIO/1`, frame 0 of requests and replies, frame 1 of events. */
export declare const SIGNATURE: Buffer;
/** Most bytes in a request header frame (8192, spec 4). */
export declare const HEADER_MAX: number;
/** Ops whose requests carry a data frame. */
export declare const DATA_OPS: ReadonlySet<string>;
/** Ops whose successful replies carry a data frame. */
export declare const DATA_REPLY_OPS: ReadonlySet<string>;

/** Bytes that are not a valid message; `code` is the ZAIO/1 error name
 *  ('MALFORMED' or 'BADVERSION'). */
export declare class CodecError extends Error {
    readonly name: 'CodecError';
    readonly code: string;
}

/** A decoded msgpack float (ZAIO/1 sends none): kept apart from numbers so
 *  that it never passes for an integer. Encoded as float64. */
export declare class Float {
    constructor(value: number);
    readonly value: number;
}

export type Scalar = boolean | number | bigint | string;
export type Value = null | Scalar | Float | Uint8Array | Value[] | { [key: string]: Value };

/** Canonical msgpack of any value: shortest integers, str for strings;
 *  the top map's keys `first` lead, then the rest ascending bytewise. */
export declare function encodeCanonical(value: Value, first?: string[]): Buffer;
/** The header frame of a request: `id`, `op`, then the rest ascending. */
export declare function encodeRequestHeader(header: { id: number | bigint; op: string; [key: string]: Scalar | undefined }): Buffer;
/** All frames of a request (signature, header, data frame for write/append/writefile). */
export declare function encodeRequest(header: { id: number | bigint; op: string; [key: string]: Scalar | undefined }, data?: Buffer): Buffer[];
/** All frames of a reply (signature, header with `id`, `ok` leading, data). */
export declare function encodeReply(header: { id: number | bigint; ok: boolean; [key: string]: Value }, data?: Buffer): Buffer[];
/** All frames of an event (topic, signature, body with keys ascending). */
export declare function encodeEvent(topic: string, body: { [key: string]: Value }): Buffer[];

/** Exactly one msgpack value filling `bytes`, strictly (no duplicate keys,
 *  valid UTF-8, no ext types); integers as number when exact, else bigint;
 *  floats as {@link Float}. */
export declare function decodeValue(bytes: Uint8Array): Value;
export declare function decodeRequest(frames: Buffer[]): { header: { id: number | bigint; op: string; [key: string]: Scalar }; data?: Buffer };
export interface DecodedReply { header: { id: number | bigint; ok: boolean; [key: string]: unknown }; data?: Buffer }
/** A reply's frames: `id` and `ok`, and `error` and `message` for errors, checked. */
export declare function decodeReply(frames: Buffer[]): DecodedReply;
/** Check a successful reply against the request it answers (`op`, and
 *  `length` for read): the results of its op and their types (spec 5), and
 *  a data frame for read and readfile of exactly `bytes` bytes. Throws a CodecError. */
export declare function checkResult(request: { op: string; length?: number | bigint; [key: string]: unknown }, reply: DecodedReply): void;
/** The id (> 0) of a reply decodeReply refused, if its header still reads
 *  as a map with one; else undefined. */
export declare function replyId(frames: Buffer[]): number | bigint | undefined;
export declare function decodeEvent(frames: Buffer[]): { topic: string; body: { seq: number | bigint; op: string; outcome: string; [key: string]: unknown } };
/** Turn exact bigints into numbers, in place for arrays and maps. */
export declare function normalize<T>(value: T): T;

/** Entries a batch and bytes of its entries frame when hello does not say. */
export declare const BATCH_MAX: number;
export declare const BATCH_BYTES_MAX: number;
/** Bytes an entry whose encoded header is `size` bytes adds to an entries frame. */
export declare function entrySize(size: number): number;
/** The frames of a request batch tagged `bid`: each entry an encoded
 *  request header and, for write/append/writefile, its data frame. */
export declare function encodeBatch(bid: number | bigint, entries: { header: Buffer; data?: Buffer }[]): Buffer[];
/** Whether a message's frame 1 is an array (a batch), not a map. */
export declare function isBatch(frames: Buffer[]): boolean;
/** A request batch's tag and entries (for tests and fake brokers). */
export declare function decodeBatch(frames: Buffer[]): { id: number | bigint; entries: ReturnType<typeof decodeRequest>[] };
/** A reply batch's replies in order, strictly; an element whose header does
 *  not decode is its CodecError (with `id` when readable). Throws a
 *  CodecError when the batch as a whole is malformed. */
export declare function decodeReplyBatch(frames: Buffer[]): (DecodedReply | CodecError)[];
/** Ids readable in a reply batch decodeReplyBatch refused. */
export declare function batchReplyIds(frames: Buffer[]): (number | bigint)[];
/** The frames of a reply batch (for tests and fake brokers). */
export declare function encodeReplyBatch(replies: { header: { id: number | bigint; ok: boolean; [key: string]: Value }; data?: Buffer }[]): Buffer[];
