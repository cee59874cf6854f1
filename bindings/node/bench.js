#!/usr/bin/env node
'use strict';
/*  bench.js: pipelined read throughput of the Node client.

    node bench.js --endpoint ipc:///tmp/zaio.ipc --path bench.bin --seconds 5
                  [--inflight 64] [--size 4096] [--volume NAME]

    Keeps --inflight reads of --size bytes (default 64 of 4 KiB) in flight
    on one client for --seconds, walking the file in --size steps, and
    prints one JSON line: {"ops_per_sec": ..., ...}. The file is created
    with 1 MiB of data if it does not exist. Exits 1 on any failed read.
*/

const { Client } = require('./index');

function parseArgs (argv) {
    const args = { endpoint: 'ipc:///tmp/zaio.ipc', path: 'bench.bin', seconds: 5, inflight: 64, size: 4096,
        volume: undefined };
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
        if (!m || !(m[1] in args)) {
            process.stderr.write(`bench.js: unknown argument ${argv[i]}\n`);
            process.exit(2);
        }
        const value = m[2] !== undefined ? m[2] : argv[++i];
        if (value === undefined) {
            process.stderr.write(`bench.js: --${m[1]} needs a value\n`);
            process.exit(2);
        }
        args[m[1]] = ['seconds', 'inflight', 'size'].includes(m[1]) ? Number(value) : value;
    }
    if (!(args.seconds > 0) || !(args.inflight >= 1) || !(args.size >= 1)) {
        process.stderr.write('bench.js: --seconds, --inflight and --size must be positive\n');
        process.exit(2);
    }
    return args;
}

async function main () {
    const args = parseArgs(process.argv.slice(2));
    const client = new Client(args.endpoint, { timeout: 30000, inflightMax: args.inflight });
    const opts = args.volume ? { volume: args.volume } : {};
    try {
        let size;
        try {
            size = Number((await client.stat(args.path, opts)).size);
        } catch (err) {
            if (err.code !== 'ENOENT')
                throw err;
            size = 1024 * 1024;
            await client.writefile(args.path, Buffer.alloc(size, 0x5a), opts);
        }
        const blocks = Math.max(1, Math.floor(size / args.size));
        let next = 0;
        let ops = 0;
        let bytes = 0;
        const start = process.hrtime.bigint();
        const end = start + BigInt(Math.round(args.seconds * 1e9));
        //  Each lane issues its next read as soon as its last one returns.
        const lane = async () => {
            while (process.hrtime.bigint() < end) {
                const offset = (next++ % blocks) * args.size;
                const data = await client.read(args.path, offset, args.size, opts);
                ops++;
                bytes += data.length;
            }
        };
        await Promise.all(Array.from({ length: args.inflight }, lane));
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        process.stdout.write(JSON.stringify({
            ops_per_sec: Math.round(ops / seconds),
            mib_per_sec: Math.round((bytes / seconds / 1048576) * 10) / 10,
            ops,
            seconds: Math.round(seconds * 1000) / 1000,
            inflight: args.inflight,
            size: args.size,
            client: 'node',
        }) + '\n');
    } finally {
        client.close();
    }
}

main().catch((err) => {
    process.stderr.write(`bench.js: ${err.stack || err}\n`);
    process.exit(1);
});
