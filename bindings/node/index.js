'use strict';
/*  zaio: Node.js client for the zaio IO broker (schemas/PROTOCOL.md, ZAIO/1).

    One DEALER socket per client, one receive loop, a map of pending requests
    by id resolved as replies come, and a bounded send queue drained by one
    sender (zeromq.js allows one pending send per socket). Every request has
    its own timeout. QUEUE_FULL replies (the broker did not accept the job)
    are retried after a short back-off a bounded number of times.

    Batches: when the broker's hello lists the `batch` op, requests queued
    together leave as one wire batch (split by its batch_max and
    batch_bytes_max), each keeping its own reply, timeout and retries.
    Calls made in the same tick are queued together: the sender starts in
    a microtask (`coalesce`, on by default), so `Promise.all([c.read(..),
    c.read(..)])` is one message; client.batch() groups calls explicitly.
    The client asks with its own hello the first time calls come together
    on a connection.

    What the broker could not answer by id is refused here with TOOBIG: a
    header over 8192 bytes (the broker drops it unread and answers id 0),
    and a data frame over the broker's payload_max, learned from a hello
    (one per connection) before the first data frame over 64 KiB: ZeroMQ
    cuts off a frame over payload_max + 64 KiB with the whole connection.
*/

const os = require('node:os');
const zmq = require('zeromq');
const codec = require('./codec');
const { curveOptions, HandshakeVerdict } = require('./cert');

const U64_MAX = (1n << 64n) - 1n;

//  Data frames up to this size cannot reach the broker's transport limit
//  (payload_max + 64 KiB, spec 6), so they need no payload_max: the broker
//  answers one over payload_max with TOOBIG itself.
const UNCHECKED_DATA_MAX = 64 * 1024;

const DEFAULTS = {
    timeout: 30000,          //  ms per request, 0 or Infinity for none
    inflightMax: 64,         //  requests sent and not yet answered: reply_hwm / 2
    sendQueueMax: 65536,     //  requests waiting to be sent
    queueFullRetries: 5,     //  QUEUE_FULL retries per request
    queueFullBackoff: 5,     //  ms before the first retry, doubled each time
    coalesce: true,          //  calls of one tick leave together (batches)
};

//  ---------------------------------------------------------------------
//  Errors

//  An error from the broker (`code` is the protocol's error name, e.g.
//  'ENOENT' or 'QUEUE_FULL') or from the client itself, with `local` set:
//  'TIMEOUT' when a request's timeout expires, 'CLOSED' when the client
//  is closed with the request pending, 'QUEUE_FULL' when the local send
//  queue is full, 'TOOBIG' when the header or data frame is over the
//  limit, 'BAD_REPLY' when the broker's reply breaks the protocol, 'EIO'
//  when the socket fails, 'AUTH' when authentication between this client
//  and the broker failed at the ZeroMQ handshake and trying again will not
//  help (see HandshakeVerdict in cert.js).
const RETRYABLE = new Set(['QUEUE_FULL', 'SHUTDOWN']);
//  Ops never sent in a wire batch: the broker refuses them there (spec 5.2).
const ALONE_OPS = new Set(['hello', 'stats']);

class ZaioError extends Error {
    constructor (code, message, info = {}) {
        const where = info.path !== undefined
            ? `, ${info.op} '${info.path}'${info.dest !== undefined ? ` -> '${info.dest}'` : ''}`
            : info.op ? `, ${info.op}` : '';
        super(`${code}: ${message || code}${where}`);
        this.name = 'ZaioError';
        this.code = code;
        const errno = os.constants.errno[code];
        //  As in Node's own fs errors: the negated errno for POSIX names.
        this.errno = errno !== undefined ? -errno : undefined;
        this.reason = message || '';
        this.op = info.op;
        this.path = info.path;
        this.dest = info.dest;
        this.id = info.id;
        this.local = Boolean(info.local);
        //  The spec says the request was not run and may be sent again.
        this.retryable = RETRYABLE.has(code);
    }
}

function localError (code, message, entry) {
    return new ZaioError(code, message, {
        op: entry && entry.op, path: entry && entry.path, dest: entry && entry.dest,
        id: entry && entry.id, local: true,
    });
}

//  ---------------------------------------------------------------------
//  Argument checks: wrong types are programmer errors and reject with a
//  TypeError before anything is sent; ranges are the broker's to judge.

function checkString (name, v) {
    if (typeof v !== 'string')
        throw new TypeError(`${name} must be a string, got ${typeof v}`);
    return v;
}

function checkUint (name, v) {
    if (typeof v === 'number' ? !Number.isInteger(v) || v < 0 : typeof v !== 'bigint' || v < 0n)
        throw new TypeError(`${name} must be a non-negative integer (number or bigint)`);
    if (typeof v === 'bigint' ? v > U64_MAX : v > Number.MAX_SAFE_INTEGER)
        throw new RangeError(`${name} is too large: ${v} (use a bigint above 2^53-1)`);
    return v;
}

function optUint (name, v) {
    return v === undefined ? undefined : checkUint(name, v);
}

function optBool (name, v) {
    if (v !== undefined && typeof v !== 'boolean')
        throw new TypeError(`${name} must be a boolean`);
    return v;
}

function optString (name, v) {
    return v === undefined ? undefined : checkString(name, v);
}

//  The volume of a request: named in its fields (request()) or options, or
//  in both if they agree.
function requestVolume (fields, opts) {
    const volume = optString('volume', opts.volume);
    if (fields.volume === undefined)
        return volume;
    if (volume !== undefined && volume !== fields.volume)
        throw new TypeError(`volume '${fields.volume}' in fields but '${volume}' in options: name it once`);
    return fields.volume;
}

//  The spec's default offset is 0; leave it out, for the shortest header.
function nonZero (v) {
    return v === 0 || v === 0n ? undefined : v;
}

function toBuffer (name, data) {
    if (Buffer.isBuffer(data))
        return data;
    if (typeof data === 'string')
        return Buffer.from(data, 'utf8');
    if (ArrayBuffer.isView(data))
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer)
        return Buffer.from(data);
    throw new TypeError(`${name} must be a Buffer, TypedArray, ArrayBuffer or string`);
}

function toBigInt (v) {
    return typeof v === 'bigint' ? v : BigInt(v);
}

//  Canonical JavaScript form of an id: a Number when exact, else a BigInt,
//  the same form codec.normalize gives decoded ids, so map lookups match.
function idKey (id) {
    return typeof id === 'bigint' && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
}

//  The result of stat, read like fs.Stats: isFile(), isDirectory(),
//  isSymbolicLink() (below, shared with Dirent), size, mtimeMs (a Number), mtimeNs (a BigInt, as
//  fs.Stats with bigint: true has it) and mtime (a Date). The protocol's
//  fields stay as they were: type, size, mode (the permission bits only,
//  st_mode & 0o7777, unlike fs.Stats, whose mode has the type bits too)
//  and mtime_ns.
class Stats {
    constructor (h) {
        this.type = h.type;
        this.size = h.size;
        this.mode = h.mode;
        this.mtime_ns = toBigInt(h.mtime_ns);
        this.mtimeNs = this.mtime_ns;
        this.mtimeMs = Number(this.mtime_ns / 1000n) / 1000;
    }

    get mtime () {
        return new Date(this.mtimeMs);
    }
}

//  What zaio-broker binds when not told otherwise (--bind, --events).
const DEFAULT_ENDPOINT = 'ipc:///tmp/zaio.ipc';
const DEFAULT_EVENTS = 'ipc:///tmp/zaio-events.ipc';

function statResult (h) {
    return new Stats(h);
}

//  An entry of listdir, read like fs.Dirent: isFile(), isDirectory(),
//  isSymbolicLink(), beside the protocol's name, type, size and mtime_ns.
class Dirent {
    constructor (e) {
        this.name = e.name;
        this.type = e.type;
        this.size = e.size;
        this.mtime_ns = toBigInt(e.mtime_ns);
    }
}
for (const C of [Stats, Dirent]) {
    C.prototype.isFile = function () { return this.type === 'file'; };
    C.prototype.isDirectory = function () { return this.type === 'dir'; };
    C.prototype.isSymbolicLink = function () { return this.type === 'symlink'; };
}

function entryResult (e) {
    return new Dirent(e);
}

//  ---------------------------------------------------------------------
//  A FIFO with O(1) push and shift.

class Fifo {
    constructor () {
        this.items = [];
        this.head = 0;
    }

    get length () {
        return this.items.length - this.head;
    }

    push (item) {
        this.items.push(item);
    }

    peek () {
        return this.head < this.items.length ? this.items[this.head] : undefined;
    }

    shift () {
        if (this.head >= this.items.length)
            return undefined;
        const item = this.items[this.head];
        this.items[this.head++] = undefined;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
        }
        return item;
    }

    clear () {
        const rest = this.items.slice(this.head);
        this.items = [];
        this.head = 0;
        return rest;
    }
}

//  ---------------------------------------------------------------------
//  Client

const QUEUED = 1;    //  in the send queue
const SENT = 2;      //  sent, awaiting the reply; counts as in flight
const BACKOFF = 3;   //  answered QUEUE_FULL, waiting to be queued again
const DONE = 4;      //  settled; ignore whatever comes later
const LIMIT = 5;     //  a big data frame waiting for the broker's payload_max

class Client {
    //  endpoint: a ZeroMQ endpoint of the broker's client socket (or an
    //  array of them). options: see index.d.ts (ClientOptions).
    //  Without an endpoint (undefined or null): $ZAIO_ENDPOINT, else the
    //  broker's default ipc:///tmp/zaio.ipc, and events from $ZAIO_EVENTS,
    //  else ipc:///tmp/zaio-events.ipc, unless options.events says; as
    //  libzaio and the Python client do.
    constructor (endpoint, options = {}) {
        if (endpoint === undefined || endpoint === null) {
            endpoint = process.env.ZAIO_ENDPOINT || DEFAULT_ENDPOINT;
            if (options.events === undefined)
                options = { ...options, events: process.env.ZAIO_EVENTS || DEFAULT_EVENTS };
        }
        const endpoints = Array.isArray(endpoint) ? endpoint : [endpoint];
        if (endpoints.length === 0 || !endpoints.every((e) => typeof e === 'string'))
            throw new TypeError('endpoint must be a string or an array of strings');
        this.options = { ...DEFAULTS, ...options };
        //  Loaded before any socket exists, so a bad file makes none.
        this._curve = curveOptions(this.options);
        this._endpoints = endpoints;
        const ev = this.options.events;
        this._eventEndpoints = ev === undefined ? [] : Array.isArray(ev) ? ev : [ev];
        this._nextId = idKey(this.options.firstId === undefined ? 1 : checkUint('firstId', this.options.firstId));
        if (this._nextId === 0)
            this._nextId = 1;
        this._pending = new Map();
        this._queue = new Fifo();
        this._queued = 0;        //  live (QUEUED) entries in _queue
        this._inflight = 0;
        this._pumping = false;
        this._closed = false;
        this._streams = new Set();
        this._payloadMax = undefined;    //  from the last hello on this connection
        this._payloadHello = null;       //  the hello asked for it, while it is out
        //  {max, bytesMax} when this connection's broker takes batches,
        //  null when it does not, undefined until its hello said.
        this._batchLimits = undefined;
        this._batchHello = null;         //  the hello asking, while it is out
        this._tags = new Map();          //  batch tag id -> tag, while a refusal may come
        this._hold = 0;                  //  > 0: client.batch() is queueing; do not send
        this._batching = false;          //  calls made now are a client.batch()'s
        this._pumpSoon = false;          //  a pump is due in a microtask
        this.stats = { sent: 0, replies: 0, retries: 0, timeouts: 0, badReplies: 0, unmatched: 0, batches: 0 };
        //  Whether the last connection was given up on (by libzmq, or by
        //  a verdict of AUTH), so that the next call needs a new socket.
        this._renew = false;
        this._openDealer();
    }

    //  A DEALER connected to the endpoints, with its receive loop and the
    //  verdict on its handshakes (HandshakeVerdict in cert.js). libzmq
    //  never reconnects after a handshake refused or a mechanism mismatch,
    //  nor this client after a verdict, so the next call after one gets a
    //  new socket.
    _openDealer () {
        const dealer = new zmq.Dealer({ linger: 0, ...this._curve });
        this._dealer = dealer;
        this._verdict = new HandshakeVerdict(Object.keys(this._curve).length > 0);
        //  The next connection may be to a broker restarted with other limits.
        dealer.events.on('disconnect', () => {
            this._payloadMax = undefined;
            this._batchLimits = undefined;
        });
        for (const type of ['handshake', 'handshake:error:auth', 'handshake:error:protocol', 'handshake:error:other'])
            dealer.events.on(type, (ev) => this._onHandshake(dealer, ev));
        for (const e of this._endpoints)
            dealer.connect(e);
        this._receiving = this._receiveLoop(dealer);
    }

    //  A handshake of `dealer` succeeded or failed. On a verdict of AUTH
    //  every pending request fails with it, and the socket is closed: it
    //  stops connecting, and a send waiting in it is dropped, so no
    //  request runs later unseen.
    _onHandshake (dealer, ev) {
        if (dealer !== this._dealer || dealer.closed || this._closed)
            return;
        const refused = this._verdict.feed(ev);
        if (this._verdict.ended)
            this._renew = true;
        if (!refused)
            return;
        const entries = [...this._pending.values()];
        this._pending.clear();
        for (const entry of entries) {
            if (entry.state === SENT)
                this._inflight--;
            this._settle(entry, localError('AUTH', refused, entry));
        }
        this._queue.clear();
        dealer.close();
    }

    get closed () {
        return this._closed;
    }

    //  Requests sent and not yet answered.
    get inflight () {
        return this._inflight;
    }

    //  Requests not yet settled: queued, in flight or backing off.
    get pending () {
        return this._pending.size;
    }

    //  -- ops -----------------------------------------------------------

    async ping (opts = {}) {
        await this._call('ping', {}, undefined, opts);
    }

    async hello (opts = {}) {
        const { header } = await this._call('hello', {}, undefined, opts);
        return { limits: header.limits, ops: header.ops, protocol: header.protocol,
            version: header.version, volumes: header.volumes };
    }

    //  The broker's counters, gauges, volumes, workers, latency histograms
    //  and `opts.top` busiest clients (default 10, at most 100): the
    //  results of the `stats` op (spec 5.3) as an object. Named so because
    //  `client.stats` is this client's own counters. stats names no volume:
    //  `opts.volume` is refused. EACCES for an identity whose grant entry
    //  lacks `monitor`.
    async brokerStats (opts = {}) {
        if (opts === null || typeof opts !== 'object')
            throw new TypeError('options must be an object');
        if (opts.volume !== undefined)
            throw new TypeError('stats names no volume');
        const top = opts.top === undefined ? undefined : checkUint('top', opts.top);
        const { header } = await this._call('stats', { top }, undefined, { timeout: opts.timeout });
        const result = { ...header };
        delete result.id;
        delete result.ok;
        return result;
    }

    async stat (path, opts = {}) {
        const { header } = await this._call('stat', { path: checkString('path', path) }, undefined, opts);
        return statResult(header);
    }

    async read (path, offset, length, opts = {}) {
        const { data } = await this._call('read', {
            path: checkString('path', path),
            offset: nonZero(checkUint('offset', offset)),
            length: checkUint('length', length),
        }, undefined, opts);
        return data;
    }

    async write (path, offset, data, opts = {}) {
        const { header } = await this._call('write', {
            path: checkString('path', path),
            offset: nonZero(checkUint('offset', offset)),
            create: optBool('create', opts.create),
            mode: optUint('mode', opts.mode),
        }, toBuffer('data', data), opts);
        return header.bytes;
    }

    async append (path, data, opts = {}) {
        const { header } = await this._call('append', {
            path: checkString('path', path),
            create: optBool('create', opts.create),
            mode: optUint('mode', opts.mode),
        }, toBuffer('data', data), opts);
        return header.offset;
    }

    async readfile (path, opts = {}) {
        const { data } = await this._call('readfile', { path: checkString('path', path) }, undefined, opts);
        return data;
    }

    async writefile (path, data, opts = {}) {
        const { header } = await this._call('writefile', {
            path: checkString('path', path),
            mode: optUint('mode', opts.mode),
        }, toBuffer('data', data), opts);
        return header.bytes;
    }

    async truncate (path, size, opts = {}) {
        await this._call('truncate', { path: checkString('path', path), size: checkUint('size', size) },
            undefined, opts);
    }

    async fsync (path, opts = {}) {
        await this._call('fsync', { path: checkString('path', path), datasync: optBool('datasync', opts.datasync) },
            undefined, opts);
    }

    async unlink (path, opts = {}) {
        await this._call('unlink', { path: checkString('path', path) }, undefined, opts);
    }

    async rename (path, to, opts = {}) {
        await this._call('rename', { path: checkString('path', path), to: checkString('to', to) }, undefined, opts);
    }

    //  opts as fs.mkdir takes them too: {recursive: true} is parents (and
    //  resolves undefined, not the first directory made), a number is mode.
    async mkdir (path, opts = {}) {
        if (typeof opts === 'number')
            opts = { mode: opts };
        const parents = optBool('parents', opts.parents);
        const recursive = optBool('recursive', opts.recursive);
        if (parents !== undefined && recursive !== undefined && parents !== recursive)
            throw new TypeError('parents and recursive disagree');
        await this._call('mkdir', {
            path: checkString('path', path),
            parents: parents ?? recursive,
            mode: optUint('mode', opts.mode),
        }, undefined, opts);
    }

    async rmdir (path, opts = {}) {
        await this._call('rmdir', { path: checkString('path', path) }, undefined, opts);
    }

    async listdir (path, opts = {}) {
        const { header } = await this._call('listdir', {
            path: checkString('path', path),
            after: Buffer.isBuffer(opts.after) ? opts.after : optString('after', opts.after),
            limit: optUint('limit', opts.limit),
        }, undefined, opts);
        return { entries: header.entries.map(entryResult), more: header.more };
    }

    //  Every entry of a directory, page by page (`limit` entries a page),
    //  as an async iterator.
    async * listdirIter (path, opts = {}) {
        let after = opts.after;
        for (;;) {
            const page = await this.listdir(path, { ...opts, after });
            yield * page.entries;
            if (!page.more || page.entries.length === 0)
                return;
            after = page.entries[page.entries.length - 1].name;
        }
    }

    //  Every entry of a directory in one array, paging through listdir.
    async listdirAll (path, opts = {}) {
        const all = [];
        for await (const e of this.listdirIter(path, opts))
            all.push(e);
        return all;
    }

    async copy (path, to, opts = {}) {
        const { header } = await this._call('copy', { path: checkString('path', path), to: checkString('to', to) },
            undefined, opts);
        return header.bytes;
    }

    //  Any request, as the protocol spells it: `fields` are header fields
    //  other than id and op (including key, barrier, link, deadline and
    //  priority), `data` the data frame for write, append and writefile.
    //  `volume` may be given in fields or in opts. Resolves {header, data}
    //  of the reply; rejects with ZaioError on an error reply.
    async request (op, fields = {}, data, opts = {}) {
        checkString('op', op);
        const header = {};
        for (const [k, v] of Object.entries(fields)) {
            if (k === 'id' || k === 'op')
                throw new TypeError('id and op are not fields');
            header[k] = v;
        }
        return this._call(op, header, data === undefined ? undefined : toBuffer('data', data), opts);
    }

    //  Calls collected and sent together: `const b = client.batch();
    //  const head = b.read('f', 0, 4096); const st = b.stat('f'); await
    //  b.send();`. Each op method of the batch (and request) takes the
    //  client method's arguments and returns the promise of that call; the
    //  calls start at send(), which first makes sure the client knows
    //  whether the broker takes batches, and resolves once each has
    //  settled (Promise.allSettled's outcomes, in order).
    batch () {
        return new Batch(this);
    }

    //  -- events ---------------------------------------------------------

    //  Completion events whose topic starts with `prefix` (or any of an
    //  array of prefixes; '' for all), from the broker's events endpoint.
    events (prefix = '', opts = {}) {
        const endpoints = opts.endpoint !== undefined
            ? (Array.isArray(opts.endpoint) ? opts.endpoint : [opts.endpoint])
            : this._eventEndpoints;
        if (this._closed)
            throw localError('CLOSED', 'client is closed');
        if (endpoints.length === 0)
            throw new TypeError('no events endpoint: pass {events} to the Client constructor');
        const prefixes = Array.isArray(prefix) ? prefix : [prefix];
        if (prefixes.length === 0)
            throw new TypeError('no prefix: pass \'\' for every event');
        prefixes.forEach((p) => checkString('prefix', p));
        const stream = new EventStream(this, endpoints, prefixes, () => this._streams.delete(stream), opts.bufferMax);
        this._streams.add(stream);
        return stream;
    }

    //  -- life -------------------------------------------------------------

    //  Close the socket at once (linger 0) and every event stream; reject
    //  every request not yet answered with CLOSED. Idempotent.
    close () {
        if (this._closed)
            return;
        this._closed = true;
        for (const stream of [...this._streams])
            stream.close();
        if (!this._dealer.closed)
            this._dealer.close();
        const entries = [...this._pending.values()];
        this._pending.clear();
        this._queue.clear();
        for (const entry of entries)
            this._settle(entry, localError('CLOSED', 'client closed before the reply', entry));
    }

    //  -- internals -------------------------------------------------------

    _allocId () {
        for (;;) {
            const id = this._nextId;
            if (typeof id === 'number')
                this._nextId = id < Number.MAX_SAFE_INTEGER ? id + 1 : BigInt(id) + 1n;
            else
                this._nextId = id < U64_MAX ? id + 1n : 1;
            if (!this._pending.has(id) && !this._tags.has(id))
                return id;
        }
    }

    _call (op, fields, data, opts) {
        if (opts === null || typeof opts !== 'object')
            throw new TypeError('options must be an object');
        const info = { op, path: fields.path, dest: fields.to };
        if (this._closed)
            return Promise.reject(localError('CLOSED', 'client is closed', info));
        if (this._queued >= this.options.sendQueueMax)
            return Promise.reject(localError('QUEUE_FULL',
                `client send queue full (${this.options.sendQueueMax} requests)`, info));
        if (this._renew) {
            //  libzmq gave up on the last connection: the old socket goes
            //  (a send stuck in it rejects, and its request is queued again).
            this._renew = false;
            const old = this._dealer;
            this._openDealer();
            if (!old.closed)
                old.close();
        }
        const id = this._allocId();
        const header = { id, op, ...fields, volume: requestVolume(fields, opts) };
        const frames = codec.encodeRequest(header, data);
        const timeout = opts.timeout === undefined ? this.options.timeout : opts.timeout;
        if (typeof timeout !== 'number' || !(timeout >= 0))
            throw new TypeError('timeout must be a non-negative number of ms (0 or Infinity: none)');
        if (frames[1].length > codec.HEADER_MAX)
            return Promise.reject(localError('TOOBIG',
                `request header is ${frames[1].length} bytes, over the protocol's ${codec.HEADER_MAX}`, { ...info, id }));
        return new Promise((resolve, reject) => {
            const entry = {
                id, ...info, request: header, frames, resolve, reject,
                state: QUEUED, attempts: 0, timer: null, retryTimer: null,
                batch: this._batching, tag: null,
            };
            if (timeout > 0 && Number.isFinite(timeout))
                entry.timer = setTimeout(() => this._onTimeout(entry, timeout), timeout);
            this._pending.set(id, entry);
            if (data !== undefined && data.length > UNCHECKED_DATA_MAX)
                this._enqueueWithinPayloadMax(entry, data.length);
            else
                this._enqueue(entry);
        });
    }

    _enqueue (entry) {
        entry.state = QUEUED;
        this._untag(entry);
        this._queue.push(entry);
        this._queued++;
        this._kick(entry.batch);
    }

    //  Start the sender: at once, or, when coalescing or `soon`, in a
    //  microtask, so that every call of this tick is queued by then.
    _kick (soon) {
        if (!(this.options.coalesce || soon)) {
            this._pump();
        } else if (!this._pumpSoon) {
            this._pumpSoon = true;
            queueMicrotask(() => {
                this._pumpSoon = false;
                this._pump();
            });
        }
    }

    //  Resolves once the client knows whether this connection's broker
    //  takes batches (_batchLimits), asking with a hello (one for all
    //  callers) if it does not. A hello that fails leaves it unknown.
    _learnBatch () {
        if (this._batchLimits !== undefined)
            return Promise.resolve();
        if (!this._batchHello)
            this._batchHello = this.hello().then(() => {}).finally(() => {
                this._batchHello = null;
            });
        return this._batchHello;
    }

    //  The entry is no longer waiting on its batch's refusal: its tag goes
    //  once no entry is.
    _untag (entry) {
        const tag = entry.tag;
        if (!tag)
            return;
        entry.tag = null;
        if (--tag.left === 0)
            this._tags.delete(tag.id);
    }

    //  Queue a request whose data frame is `size` bytes once the broker's
    //  payload_max is known, or fail it with TOOBIG if it is over.
    _enqueueWithinPayloadMax (entry, size) {
        entry.state = LIMIT;
        this._learnPayloadMax().then((max) => {
            if (entry.state !== LIMIT)
                return;
            if (size <= max)
                this._enqueue(entry);
            else
                this._finish(entry, localError('TOOBIG',
                    `data frame is ${size} bytes, over the broker's payload_max of ${max}`, entry));
        }, (err) => {
            if (entry.state === LIMIT)
                this._finish(entry, localError(err.code, `no payload_max from the broker: ${err.reason}`, entry));
        });
    }

    //  Resolves the broker's payload_max, asking with a hello (one for all
    //  callers) when this connection has not told it yet.
    _learnPayloadMax () {
        if (this._payloadMax !== undefined)
            return Promise.resolve(this._payloadMax);
        if (!this._payloadHello)
            this._payloadHello = this.hello()
                .then((hello) => hello.limits.payload_max)
                .finally(() => {
                    this._payloadHello = null;
                });
        return this._payloadHello;
    }

    //  The one sender: drains the queue while the in-flight count allows,
    //  one message at a time: a wire batch of the queued entries when the
    //  broker takes batches and the client coalesces (or they are a
    //  client.batch()'s), else one request.
    async _pump () {
        if (this._pumping || this._hold)
            return;
        this._pumping = true;
        try {
            while (!this._closed && this._inflight < this.options.inflightMax) {
                const group = this._takeGroup();
                if (group.length === 0)
                    break;
                for (const entry of group) {
                    this._queued--;
                    entry.state = SENT;
                    this._inflight++;
                }
                let frames = group[0].frames;
                if (group.length > 1) {
                    const tag = { id: this._allocId(), entries: group, left: group.length };
                    this._tags.set(tag.id, tag);
                    for (const entry of group)
                        entry.tag = tag;
                    frames = codec.encodeBatch(tag.id, group.map((e) => ({ header: e.frames[1], data: e.frames[2] })));
                }
                const dealer = this._dealer;
                try {
                    await dealer.send(frames);
                    this.stats.sent += group.length;
                    if (group.length > 1)
                        this.stats.batches++;
                } catch (err) {
                    if (this._closed)
                        break;
                    for (const entry of group) {
                        if (entry.state !== SENT)
                            continue;
                        this._inflight--;
                        if (dealer !== this._dealer)
                            //  The socket was replaced under the send: the
                            //  request never left, so it goes on the new one.
                            this._enqueue(entry);
                        else
                            this._finish(entry, localError('EIO', `send failed: ${err.message}`, entry));
                    }
                }
            }
        } finally {
            this._pumping = false;
        }
    }

    //  The next message's entries, taken off the queue: the first queued
    //  entry, and after it, when it may go in a batch, as many more as may
    //  go with it, within the window and the broker's batch limits.
    _takeGroup () {
        const group = [];
        let entry;
        while ((entry = this._queue.shift()) && entry.state !== QUEUED)
            continue;
        if (!entry)
            return group;
        group.push(entry);
        const limits = this._batchLimits;
        if (limits === undefined && this.options.coalesce && this._queued > 1)
            //  Calls came together: are batches possible? (singles meanwhile)
            this._learnBatch().catch(() => {});
        //  hello and stats are asked alone (spec 5.2).
        const batching = (e) => limits && (this.options.coalesce || e.batch) && !ALONE_OPS.has(e.op);
        if (!batching(entry))
            return group;
        const room = this.options.inflightMax - this._inflight;
        let bytes = 5 + codec.entrySize(entry.frames[1].length);
        while (group.length < Math.min(room, limits.max)) {
            const next = this._queue.peek();
            if (!next)
                break;
            if (next.state !== QUEUED) {
                this._queue.shift();
                continue;
            }
            const size = codec.entrySize(next.frames[1].length);
            if (!batching(next) || bytes + size > limits.bytesMax)
                break;
            bytes += size;
            group.push(this._queue.shift());
        }
        return group;
    }

    async _receiveLoop (dealer) {
        while (!this._closed) {
            let frames;
            try {
                frames = await dealer.receive();
            } catch (err) {
                if (this._closed || dealer !== this._dealer || this._renew)
                    return;    //  closed by close(), a refusal or a new socket
                //  A receive error on an open socket is not expected; fail
                //  loudly rather than hang every pending request.
                const entries = [...this._pending.values()];
                this._pending.clear();
                for (const entry of entries)
                    this._settle(entry, localError('EIO', `receive failed: ${err.message}`, entry));
                this.close();
                return;
            }
            this._onReply(frames);
        }
    }

    //  A message from the broker: a reply, or a reply batch, each reply
    //  handed to its request. A reply batch that breaks the protocol
    //  fails the requests whose ids can be read in it (BAD_REPLY).
    _onReply (frames) {
        if (!codec.isBatch(frames)) {
            let reply = null;
            let broken = null;
            try {
                reply = codec.decodeReply(frames);
            } catch (err) {
                broken = err;
            }
            const tag = reply && this._tags.get(reply.header.id);
            if (tag)
                this._onRefusal(tag, reply);
            else
                this._onOne(reply, broken, reply ? reply.header.id : codec.replyId(frames));
            return;
        }
        let replies;
        try {
            replies = codec.decodeReplyBatch(frames);
        } catch (err) {
            for (const id of codec.batchReplyIds(frames))
                this._onOne(null, err, id);
            this.stats.badReplies++;
            return;
        }
        for (const r of replies) {
            if (r instanceof codec.CodecError)
                this._onOne(null, r, r.id);
            else
                this._onOne(r, null, r.header.id);
        }
    }

    //  The broker refused a whole batch (one reply, the tag's id): each of
    //  its entries still waiting gets that error as its own reply.
    _onRefusal (tag, reply) {
        this._tags.delete(tag.id);
        for (const entry of tag.entries) {
            if (entry.tag !== tag || entry.state !== SENT)
                continue;
            entry.tag = null;
            this.stats.replies++;
            this._inflight--;
            this._answer(entry, { header: { ...reply.header, id: entry.id }, data: undefined });
        }
        this._pump();
    }

    //  One reply (or `broken`, why it did not decode) for request `id`.
    _onOne (reply, broken, id) {
        if (broken)
            this.stats.badReplies++;
        //  A broken reply whose id can be read still ends its request,
        //  which would otherwise wait out its timeout.
        const entry = id === undefined ? undefined : this._pending.get(id);
        if (!entry || entry.state !== SENT) {
            if (reply)
                this.stats.unmatched++;
            return;
        }
        this.stats.replies++;
        this._inflight--;
        if (entry.tag) {
            //  The broker took the batch: no refusal will come.
            this._tags.delete(entry.tag.id);
            entry.tag = null;
        }
        if (broken)
            this._finish(entry, localError('BAD_REPLY', broken.message, entry));
        else
            this._answer(entry, reply);
        this._pump();
    }

    //  Settle a request with its reply, or send it again after QUEUE_FULL.
    _answer (entry, reply) {
        const { header } = reply;
        if (!header.ok && header.error === 'QUEUE_FULL' && entry.attempts < this.options.queueFullRetries) {
            //  Not accepted, so safe to send again, after a pause.
            const delay = this.options.queueFullBackoff * 2 ** entry.attempts * (0.5 + Math.random());
            entry.attempts++;
            entry.state = BACKOFF;
            this.stats.retries++;
            entry.retryTimer = setTimeout(() => {
                entry.retryTimer = null;
                if (entry.state === BACKOFF && !this._closed)
                    this._enqueue(entry);
            }, delay);
            return;
        }
        if (!header.ok) {
            this._finish(entry, new ZaioError(header.error, header.message, entry));
            return;
        }
        try {
            codec.checkResult(entry.request, reply);
        } catch (err) {
            this.stats.badReplies++;
            this._finish(entry, localError('BAD_REPLY', err.message, entry));
            return;
        }
        if (entry.op === 'hello') {
            this._payloadMax = header.limits.payload_max;
            this._batchLimits = header.ops.includes('batch')
                ? { max: header.limits.batch_max || codec.BATCH_MAX,
                    bytesMax: header.limits.batch_bytes_max || codec.BATCH_BYTES_MAX }
                : null;
        }
        this._finish(entry, null, reply);
    }

    _onTimeout (entry, timeout) {
        entry.timer = null;
        if (entry.state === DONE)
            return;
        if (entry.state === SENT)
            this._inflight--;
        this.stats.timeouts++;
        const trouble = this._verdict.trouble;
        const why = trouble ? `; no connection to the broker: ${trouble}` : '';
        this._finish(entry, localError('TIMEOUT', `no reply within ${timeout} ms${why}`, entry));
        this._pump();
    }

    //  Remove a pending request and settle it.
    _finish (entry, err, value) {
        this._pending.delete(entry.id);
        this._settle(entry, err, value);
    }

    _settle (entry, err, value) {
        if (entry.state === DONE)
            return;
        if (entry.state === QUEUED)
            this._queued--;
        entry.state = DONE;
        this._untag(entry);
        if (entry.timer)
            clearTimeout(entry.timer);
        if (entry.retryTimer)
            clearTimeout(entry.retryTimer);
        entry.frames = null;
        if (err)
            entry.reject(err);
        else
            entry.resolve(value);
    }
}

//  ---------------------------------------------------------------------
//  Batch: calls of one client collected, then started together (see
//  Client.batch).

const BATCH_METHODS = ['ping', 'hello', 'stat', 'read', 'write', 'append', 'readfile', 'writefile',
    'truncate', 'fsync', 'unlink', 'rename', 'mkdir', 'rmdir', 'listdir', 'copy', 'request'];

class Batch {
    constructor (client) {
        this._client = client;
        this._calls = [];
    }

    //  Start every call collected since the last send, in one go; resolves
    //  their outcomes ({status, value | reason}) in order.
    async send () {
        const calls = this._calls.splice(0);
        const client = this._client;
        await client._learnBatch().catch(() => {});
        client._hold++;
        client._batching = true;
        try {
            for (const call of calls) {
                let promise;
                try {
                    promise = client[call.method](...call.args);
                } catch (err) {
                    promise = Promise.reject(err);
                }
                promise.then(call.resolve, call.reject);
            }
        } finally {
            client._batching = false;
            client._hold--;
        }
        client._pump();
        return Promise.allSettled(calls.map((c) => c.promise));
    }
}

for (const method of BATCH_METHODS) {
    Batch.prototype[method] = function (...args) {
        const call = { method, args };
        call.promise = new Promise((resolve, reject) => {
            call.resolve = resolve;
            call.reject = reject;
        });
        //  Its outcome is also in send()'s result: not an unhandled rejection.
        call.promise.catch(() => {});
        this._calls.push(call);
        return call.promise;
    };
}

//  ---------------------------------------------------------------------
//  EventStream: an async iterator over completion events on its own SUB
//  socket. Each event is the body map of spec section 8 plus `topic`, and,
//  on a stream that takes everything (prefix ''), `gap`: how many events
//  were lost just before this one (seq numbers every completion, so a
//  narrower filter sees gaps by design and `gap` is undefined there).
//
//  One receive loop per stream (started by the first next() or ready())
//  moves events into a bounded buffer; when the consumer falls behind by
//  more than `bufferMax` events, newer ones are dropped, as the broker's
//  PUB socket would drop them, and show as gaps.

//  Topic prefix of the events a ping produces, whatever its volume.
const PING_TOPIC = 'ok.ping.';

class EventStream {
    constructor (client, endpoints, prefixes, onClose, bufferMax = 10000) {
        this._client = client;
        this._sub = new zmq.Subscriber({ linger: 0, ...client._curve });
        //  On a verdict of AUTH (HandshakeVerdict in cert.js) the stream
        //  stops connecting and fails with AUTH for good.
        this._refused = null;
        this._verdict = new HandshakeVerdict(Object.keys(client._curve).length > 0, 'subscriber');
        for (const type of ['handshake', 'handshake:error:auth', 'handshake:error:protocol', 'handshake:error:other'])
            this._sub.events.on(type, (ev) => this._onHandshake(ev));
        this._endpoints = endpoints;
        for (const e of endpoints)
            this._sub.connect(e);
        this._sub.subscribe(...prefixes);
        this._prefixes = prefixes;
        this._all = prefixes.includes('');
        this._bufferMax = bufferMax;
        this._buffer = new Fifo();
        this._takers = [];           //  next() calls waiting for an event: {resolve, reject}
        this._watchers = new Set();  //  ready() calls waiting for any message
        this._loop = null;
        this._last = undefined;
        this._onClose = onClose;
        this.lost = 0;
        this.dropped = 0;
        this.bad = 0;
    }

    get closed () {
        return this._sub.closed;
    }

    [Symbol.asyncIterator] () {
        return this;
    }

    next () {
        this._start();
        if (this._buffer.length)
            return Promise.resolve({ value: this._buffer.shift(), done: false });
        if (this._sub.closed)
            return Promise.resolve({ value: undefined, done: true });
        if (this._refused)
            return Promise.reject(this._refused);
        return new Promise((resolve, reject) => this._takers.push({ resolve, reject }));
    }

    //  Resolve once the subscription has reached the broker. ZeroMQ carries
    //  subscriptions to the publisher asynchronously, so events published
    //  just after events() returns can be missed (the "slow joiner"). This
    //  subscribes to ping events too, pings through the client until any
    //  message arrives, then drops the ping subscription (late ping events
    //  are not passed on).
    async ready (opts = {}) {
        const client = this._client;
        const timeout = opts.timeout === undefined ? client.options.timeout : opts.timeout;
        const deadline = timeout > 0 && Number.isFinite(timeout) ? Date.now() + timeout : Infinity;
        const extra = this._matches(PING_TOPIC) ? [] : [PING_TOPIC];
        let seen = false;
        let wake = null;
        const watcher = () => {
            seen = true;
            if (wake)
                wake();
        };
        this._watchers.add(watcher);
        if (extra.length)
            this._sub.subscribe(...extra);
        this._start();
        let wait = 5;
        try {
            while (!seen) {
                if (this._refused)
                    throw this._refused;
                if (this._sub.closed)
                    throw localError('CLOSED', 'event stream is closed');
                const left = deadline - Date.now();
                if (left <= 0)
                    throw localError('TIMEOUT', 'event subscription not confirmed in time');
                await client.ping({ timeout: Math.min(left, client.options.timeout || left) });
                if (seen)
                    break;
                await new Promise((resolve) => {
                    wake = resolve;
                    setTimeout(resolve, Math.max(1, Math.min(wait, deadline - Date.now())));
                });
                wake = null;
                wait = Math.min(wait * 2, 100);
            }
            if (this._refused)    //  what woke it was the refusal
                throw this._refused;
        } finally {
            this._watchers.delete(watcher);
            if (extra.length && !this._sub.closed)
                this._sub.unsubscribe(...extra);
        }
    }

    //  A handshake succeeded or failed. On a verdict of AUTH the stream
    //  stops connecting, and waiting and later next() and ready() calls
    //  reject with AUTH.
    _onHandshake (ev) {
        if (this._refused || this._sub.closed)
            return;
        const refused = this._verdict.feed(ev);
        if (!refused)
            return;
        this._refused = localError('AUTH', refused);
        for (const e of this._endpoints) {
            try {
                this._sub.disconnect(e);
            } catch (err) {
                //  already gone
            }
        }
        for (const take of this._takers.splice(0))
            take.reject(this._refused);
        for (const w of this._watchers)
            w();
    }

    _matches (topic) {
        return this._prefixes.some((p) => topic.startsWith(p));
    }

    _start () {
        if (!this._loop && !this._sub.closed)
            this._loop = this._receiveLoop();
    }

    async _receiveLoop () {
        while (!this._sub.closed) {
            let frames;
            try {
                frames = await this._sub.receive();
            } catch (err) {
                break;    //  closed, or a socket failure: end the stream
            }
            for (const w of this._watchers)
                w();
            const event = this._decode(frames);
            if (!event)
                continue;
            if (this._takers.length)
                this._takers.shift().resolve({ value: event, done: false });
            else if (this._buffer.length < this._bufferMax)
                this._buffer.push(event);
            else
                this.dropped++;
        }
        this.close();
    }

    //  An event object from frames, or undefined for one that is malformed
    //  or not for this stream (a ping event of ready(), arriving late).
    _decode (frames) {
        let ev;
        try {
            ev = codec.decodeEvent(frames);
        } catch (err) {
            this.bad++;
            return undefined;
        }
        if (!this._matches(ev.topic))
            return undefined;
        const event = { topic: ev.topic, ...ev.body };
        if (this._all) {
            const seq = toBigInt(event.seq);
            const gap = this._last === undefined || seq <= this._last ? 0n : seq - this._last - 1n;
            this._last = seq;
            event.gap = Number(gap);
            this.lost += event.gap;
        }
        return event;
    }

    async return () {
        this.close();
        return { value: undefined, done: true };
    }

    //  Close the socket; waiting and later next() calls end the iteration
    //  (events already buffered are dropped).
    close () {
        if (!this._sub.closed)
            this._sub.close();
        this._buffer.clear();
        for (const take of this._takers.splice(0))
            take.resolve({ value: undefined, done: true });
        if (this._onClose) {
            this._onClose();
            this._onClose = null;
        }
    }
}

module.exports = { Client, ZaioError, EventStream, Batch, Stats, Dirent, codec };
