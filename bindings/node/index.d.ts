/// <reference types="node" />
//  zaio: Node.js client for the zaio IO broker (protocol ZAIO/1).

/** An unsigned or signed integer from the wire: a number when it is exact
 *  (|n| <= 2^53-1), a bigint otherwise. */
export type Int = number | bigint;

/** Bytes a write accepts. Strings are sent as UTF-8. */
export type Data = Buffer | NodeJS.TypedArray | DataView | ArrayBuffer | string;

export interface ClientOptions {
    /** The broker's events (PUB) endpoint(s), for {@link Client.events}. */
    events?: string | string[];
    /** Default per-request timeout in ms (30000). 0 or Infinity: none. */
    timeout?: number;
    /** Most requests sent and not yet answered (500); more wait in the send queue.
     *  Keep it at or under the broker's `limits.inflight_max` and half its
     *  `limits.reply_hwm` (default 1000): past that, replies are held at the
     *  broker while the client reads, and its jobs wait. */
    inflightMax?: number;
    /** Most requests waiting to be sent (65536); beyond it calls reject with
     *  code 'QUEUE_FULL' at once. */
    sendQueueMax?: number;
    /** How many times a request answered QUEUE_FULL is sent again (5). */
    queueFullRetries?: number;
    /** ms before the first QUEUE_FULL retry, doubled (with jitter) each time (5). */
    queueFullBackoff?: number;
    /** Calls made in the same tick leave together, as one wire batch when
     *  the broker's hello lists the `batch` op (true). The client asks with
     *  a hello of its own the first time calls come together. */
    coalesce?: boolean;
    /** The first request id (1); ids count up from it and wrap at 2^64-1. */
    firstId?: Int;
    /** With `curveCert`, speak CURVE (event streams too): the broker's
     *  public certificate file in czmq's format (`zaio keygen` writes it;
     *  PATH or PATH_secret, only the public key is used) or its z85 public
     *  key (40 characters). */
    curveServer?: string;
    /** With `curveServer`: this client's certificate file, which must hold
     *  its secret key (PATH_secret is read if it exists, else PATH). */
    curveCert?: string;
}

/** Options every operation accepts. */
export interface CallOptions {
    /** ms to wait for the reply, from the call; overrides the client's default. */
    timeout?: number;
    /** Volume the path lives on (the broker's default: "default"). For
     *  {@link Client.request} it may be in the fields instead (or in both, alike). */
    volume?: string;
}

export interface WriteOptions extends CallOptions {
    /** Create the file if missing (default false). */
    create?: boolean;
    /** Permission bits for a created file (default 0o644, umask applies). */
    mode?: number;
}

export interface WritefileOptions extends CallOptions {
    mode?: number;
}

export interface FsyncOptions extends CallOptions {
    /** fdatasync instead of fsync. */
    datasync?: boolean;
}

export interface MkdirOptions extends CallOptions {
    /** Create missing parents; no error if the directory exists. */
    parents?: boolean;
    /** The same as parents, as fs.mkdir names it. */
    recursive?: boolean;
    /** Permission bits (default 0o755, umask applies). */
    mode?: number;
}

export interface ListdirOptions extends CallOptions {
    /** Return entries whose name sorts (bytewise) after this one (a Buffer
     *  for a name that is not UTF-8, as a DirEntry gives it). */
    after?: string | Buffer;
    /** Most entries per page, 1..10000 (broker default 1000). */
    limit?: number;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

/** The result of stat, read like fs.Stats. */
export declare class Stats {
    type: FileType;
    size: Int;
    /** The permission bits only (st_mode & 0o7777), as the protocol sends
     *  them; fs.Stats' mode has the file type bits too. */
    mode: number;
    /** Modification time, ns since the Unix epoch. */
    mtime_ns: bigint;
    /** The same, as fs.Stats has it with bigint: true. */
    mtimeNs: bigint;
    /** Modification time, ms since the Unix epoch. */
    mtimeMs: number;
    readonly mtime: Date;
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
}

/** The former names of Stats and Dirent. */
export type Stat = Stats;
export type DirEntry = Dirent;

/** An entry of listdir, read like fs.Dirent. */
export declare class Dirent {
    /** A Buffer of its raw bytes for a name that is not UTF-8 (sent as
     *  msgpack bin); such a name works as `after` but not in a path. */
    name: string | Buffer;
    type: FileType;
    size: Int;
    mtime_ns: bigint;
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
}

export interface ListdirResult {
    /** Sorted by name, bytewise. */
    entries: DirEntry[];
    /** True when entries remain: ask again with `after` = the last name. */
    more: boolean;
}

export interface Limits {
    header_max: number;
    path_max: number;
    payload_max: number;
    listdir_max: number;
    inflight_max: number;
    queue_max: number;
    /** Reported by brokers since these bounds exist. */
    queue_bytes_max?: number;
    reply_hwm?: number;
    /** Entries a batch and bytes of its entries frame (brokers with `batch`). */
    batch_max?: number;
    batch_bytes_max?: number;
    [key: string]: unknown;
}

export interface VolumeInfo {
    name: string;
    readonly: boolean;
    workers: number;
    [key: string]: unknown;
}

export interface HelloResult {
    limits: Limits;
    ops: string[];
    protocol: number;
    version: string;
    volumes: VolumeInfo[];
}

/** Options of {@link Client.brokerStats}: no volume (stats names none). */
export interface BrokerStatsOptions {
    /** ms to wait for the reply, from the call; overrides the client's default. */
    timeout?: number;
    /** Busiest clients to list: default 10, at most 100. */
    top?: number;
}

/** One op x outcome x volume row of a stats reply, since the broker started. */
export interface StatsRow {
    op: string;
    /** "ok" or an error name. */
    outcome: string;
    /** "" for volumes the broker does not know. */
    volume: string;
    jobs: Int;
    bytes: Int;
}

/** The results of the `stats` op (PROTOCOL.md section 5.3). */
export interface BrokerStats {
    version: string;
    uptime_ms: Int;
    /** The broker's wall clock at the snapshot, ns since the epoch. */
    time_ns: Int;
    gauges: { queued: Int; queued_bytes: Int; running: Int; inflight: Int; held_replies: Int;
        held_bytes: Int; clients: Int; workers: Int; subscriptions: Int; [key: string]: unknown };
    volumes: { name: string; workers: Int; credit: Int; capacity: Int; running: Int;
        queued: Int; [key: string]: unknown }[];
    workers: { name: string; volumes: string[]; credit: Int; capacity: Int; running: Int;
        jobs: Int; remote: boolean; [key: string]: unknown }[];
    jobs: StatsRow[];
    /** Upper bounds of the histogram buckets, µs: 2^0 .. 2^26. */
    latency_bounds_us: Int[];
    /** Per op; `queue` and `service` have one count per bound and the overflow. */
    latency: { op: string; count: Int; queue_sum_us: Int; service_sum_us: Int; queue: Int[];
        service: Int[]; [key: string]: unknown }[];
    top_clients: { client: string; jobs: Int; bytes: Int; errors: Int }[];
    [key: string]: unknown;
}

/** A reply as the protocol spells it (for {@link Client.request}). */
export interface Reply {
    header: { id: Int; ok: boolean; [key: string]: unknown };
    /** The data frame of a read or readfile reply. */
    data?: Buffer;
}

/** Header fields of a raw request (everything but id and op). */
export type RequestFields = Record<string, boolean | number | bigint | string | undefined>;

/** A completion event (spec section 8). Fields the broker adds later appear too. */
export interface ZaioEvent {
    /** `OUTCOME.OP.VOLUME`, e.g. 'ok.read.default'. */
    topic: string;
    seq: Int;
    id: Int;
    client: string;
    op: string;
    outcome: 'ok' | 'err';
    /** Present when outcome is 'err'. */
    error?: string;
    path: string;
    volume: string;
    bytes: Int;
    queue_us: Int;
    service_us: Int;
    time_us: Int;
    worker: string;
    /** Events lost just before this one (seq gap). Only set on a stream
     *  subscribed to everything (prefix ''), since filtered streams skip
     *  seq numbers by design. */
    gap?: number;
    [key: string]: unknown;
}

export interface EventsOptions {
    /** Events endpoint(s) to use instead of the client's `events` option. */
    endpoint?: string | string[];
    /** Most events held for a consumer that falls behind (10000); newer ones
     *  are dropped (counted in `dropped`, and seen as gaps on '' streams). */
    bufferMax?: number;
}

/** An async iterator over completion events, on its own SUB socket. */
export declare class EventStream implements AsyncIterableIterator<ZaioEvent> {
    /** Events lost so far (sum of gaps; prefix '' streams only). */
    readonly lost: number;
    /** Event messages that did not decode and were skipped. */
    readonly bad: number;
    /** Events dropped because more than `bufferMax` were waiting. */
    readonly dropped: number;
    readonly closed: boolean;
    /** Resolve once the subscription has reached the broker (ZeroMQ's "slow
     *  joiner"): subscribes to ping events too, pings through the client
     *  until an event arrives, then drops the ping subscription. Events of
     *  this stream that arrive meanwhile are kept. Rejects with 'TIMEOUT'
     *  after `timeout` ms (default: the client's). */
    ready(opts?: { timeout?: number }): Promise<void>;
    next(): Promise<IteratorResult<ZaioEvent>>;
    return(): Promise<IteratorResult<ZaioEvent>>;
    [Symbol.asyncIterator](): this;
    /** Close the SUB socket; pending and later next() calls end the
     *  iteration (buffered events are dropped). */
    close(): void;
}

/** An error reply from the broker, or a client-side failure.
 *  Broker codes: POSIX names ('ENOENT', 'EEXIST', 'EXDEV', ...) and protocol
 *  names ('MALFORMED', 'TOOBIG', 'QUEUE_FULL', 'NOVOLUME', ...).
 *  Client codes (`local` true): 'TIMEOUT', 'CLOSED', 'QUEUE_FULL' (send
 *  queue full), 'TOOBIG' (header over 8192 bytes, or data frame over the
 *  broker's payload_max), 'BAD_REPLY' (a reply broke the protocol, or its
 *  results do not match the op), 'EIO' (socket failure), 'AUTH' (the
 *  ZeroMQ handshake failed for good: the broker refused this client's
 *  CURVE key, CURVE on one side only, or under CURVE the broker hung up in
 *  4 handshakes in a row, as with a wrong curveServer key; every pending
 *  request fails with it, and the next call connects again). */
export declare class ZaioError extends Error {
    readonly name: 'ZaioError';
    /** The error name, as the protocol spells it. */
    readonly code: string;
    /** Negated errno for POSIX names, as in Node's fs errors; undefined otherwise. */
    readonly errno: number | undefined;
    /** The broker's (or client's) message, without the code and path. */
    readonly reason: string;
    readonly op: string | undefined;
    readonly path: string | undefined;
    /** The `to` path of rename and copy. */
    readonly dest: string | undefined;
    /** The request id. */
    readonly id: Int | undefined;
    /** True when the client, not the broker, raised it. */
    readonly local: boolean;
    /** The spec says the request was not run and may be sent again
     *  (QUEUE_FULL, SHUTDOWN). */
    readonly retryable: boolean;
}

export interface ClientStats {
    sent: number;
    replies: number;
    retries: number;
    timeouts: number;
    badReplies: number;
    unmatched: number;
    /** Wire batches sent (their requests count in `sent`). */
    batches: number;
}

export declare class Client {
    /** Connect a DEALER to the broker's client endpoint(s) (tcp, ipc or inproc). */
    /** Without an endpoint: $ZAIO_ENDPOINT, else ipc:///tmp/zaio.ipc (events:
     *  $ZAIO_EVENTS, else ipc:///tmp/zaio-events.ipc, unless options.events). */
    constructor(endpoint?: string | string[] | null, options?: ClientOptions);
    readonly options: Required<Omit<ClientOptions, 'events' | 'firstId' | 'curveServer' | 'curveCert'>> & ClientOptions;
    readonly stats: ClientStats;
    readonly closed: boolean;
    /** Requests sent and not yet answered. */
    readonly inflight: number;
    /** Requests not yet settled (queued, in flight or backing off). */
    readonly pending: number;

    ping(opts?: CallOptions): Promise<void>;
    hello(opts?: CallOptions): Promise<HelloResult>;
    /** The broker's counters, gauges, workers and latencies (the `stats` op;
     *  named so because {@link Client.stats} is this client's own counters).
     *  EACCES for an identity whose grant entry lacks `monitor`. */
    brokerStats(opts?: BrokerStatsOptions): Promise<BrokerStats>;
    stat(path: string, opts?: CallOptions): Promise<Stat>;
    /** At most `length` bytes from `offset`; fewer at end of file. */
    read(path: string, offset: Int, length: Int, opts?: CallOptions): Promise<Buffer>;
    /** pwrite at `offset`; resolves the bytes written. */
    write(path: string, offset: Int, data: Data, opts?: WriteOptions): Promise<Int>;
    /** O_APPEND write; resolves the offset where the data landed. */
    append(path: string, data: Data, opts?: WriteOptions): Promise<Int>;
    /** The whole file. */
    readfile(path: string, opts?: CallOptions): Promise<Buffer>;
    /** Replace the file atomically and durably; resolves the bytes written. */
    writefile(path: string, data: Data, opts?: WritefileOptions): Promise<Int>;
    truncate(path: string, size: Int, opts?: CallOptions): Promise<void>;
    fsync(path: string, opts?: FsyncOptions): Promise<void>;
    unlink(path: string, opts?: CallOptions): Promise<void>;
    rename(path: string, to: string, opts?: CallOptions): Promise<void>;
    mkdir(path: string, opts?: MkdirOptions | number): Promise<void>;
    rmdir(path: string, opts?: CallOptions): Promise<void>;
    /** One page of a directory. */
    listdir(path: string, opts?: ListdirOptions): Promise<ListdirResult>;
    /** Every entry, paging through listdir. */
    listdirIter(path: string, opts?: ListdirOptions): AsyncGenerator<DirEntry, void, undefined>;
    /** Every entry in one array, paging through listdir. */
    listdirAll(path: string, opts?: ListdirOptions): Promise<DirEntry[]>;
    /** Copy inside the broker, creating or truncating `to`; resolves its size. */
    copy(path: string, to: string, opts?: CallOptions): Promise<Int>;
    /** Any request as the protocol spells it; rejects with ZaioError on an error reply.
     *  A `volume` in `fields` and one in `opts` must agree (else TypeError). */
    request(op: string, fields?: RequestFields, data?: Data, opts?: CallOptions): Promise<Reply>;

    /** Completion events whose topic starts with `prefix` (or any of several;
     *  '' for all). Needs the `events` option or `opts.endpoint`. */
    events(prefix?: string | string[], opts?: EventsOptions): EventStream;

    /** Calls collected, then started together by {@link Batch.send}: as
     *  wire batches (split by the broker's batch_max and batch_bytes_max)
     *  when its hello lists the `batch` op, else one by one. Each call keeps
     *  its own reply, timeout and retries. */
    batch(): Batch;

    /** Close at once (linger 0): pending requests reject with 'CLOSED',
     *  event streams end. Idempotent. */
    close(): void;
}

/** Calls of one client collected by its op methods (the client's own
 *  signatures, each returning that call's promise) and started together by
 *  {@link Batch.send}. */
export declare class Batch {
    ping: Client['ping'];
    hello: Client['hello'];
    stat: Client['stat'];
    read: Client['read'];
    write: Client['write'];
    append: Client['append'];
    readfile: Client['readfile'];
    writefile: Client['writefile'];
    truncate: Client['truncate'];
    fsync: Client['fsync'];
    unlink: Client['unlink'];
    rename: Client['rename'];
    mkdir: Client['mkdir'];
    rmdir: Client['rmdir'];
    listdir: Client['listdir'];
    copy: Client['copy'];
    request: Client['request'];
    /** Start every call collected since the last send; resolves their
     *  outcomes in order, as Promise.allSettled does. */
    send(): Promise<PromiseSettledResult<unknown>[]>;
}

/** The wire codec (also `require('zaio/codec')`). */
export declare const codec: typeof import('./codec');
