/// <reference types="node" />
//  The ZAIO/1 wire codec: canonical encoders and strict decoders.

/** `ZAIO/1`, frame 0 of requests and replies, frame 1 of events. */
export declare const SIGNATURE: Buffer;
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

export type Scalar = boolean | number | bigint | string;
export type Value = null | Scalar | Uint8Array | Value[] | { [key: string]: Value };

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

/** Exactly one msgpack value filling `bytes`; integers as number when exact, else bigint. */
export declare function decodeValue(bytes: Uint8Array): Value;
export declare function decodeRequest(frames: Buffer[]): { header: { id: number | bigint; op: string; [key: string]: Scalar }; data?: Buffer };
export declare function decodeReply(frames: Buffer[]): { header: { id: number | bigint; ok: boolean; [key: string]: unknown }; data?: Buffer };
export declare function decodeEvent(frames: Buffer[]): { topic: string; body: { seq: number | bigint; op: string; outcome: string; [key: string]: unknown } };
/** Turn exact bigints into numbers, in place for arrays and maps. */
export declare function normalize<T>(value: T): T;
