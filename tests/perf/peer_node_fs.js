#!/usr/bin/env node
'use strict';
/*  peer_node_fs.js: Node's own file reads, the peer of Node through zaio
    in the peers section (scripts/bench --only peers).

    UV_THREADPOOL_SIZE=2 node peer_node_fs.js --api callback|promises --file FILE
                                              [--seconds S] [--inflight N] [--size BYTES]

    Keeps --inflight reads of --size bytes (default 64 of 4 KiB) at random
    aligned offsets of FILE in flight for --seconds: with fs.read (the
    callback API) or with fs.promises' FileHandle.read. Both run on libuv's
    thread pool, whose size the caller sets in the environment. Prints the
    JSON line of tests/perf/zaio_peer_side.h, side "node_fs_callback" or
    "node_fs_promises".
*/

const fs = require('fs');

function parseArgs (argv) {
    const args = { api: 'callback', file: undefined, seconds: 1, inflight: 64, size: 4096 };
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, '');
        if (!(name in args) || argv[i + 1] === undefined) {
            process.stderr.write(`peer_node_fs.js: bad argument ${argv[i]}\n`);
            process.exit(2);
        }
        args[name] = ['seconds', 'inflight', 'size'].includes(name) ? Number(argv[i + 1]) : argv[i + 1];
    }
    if (!args.file || !['callback', 'promises'].includes(args.api) || !(args.seconds > 0) ||
        !(args.inflight >= 1) || !(args.size >= 1)) {
        process.stderr.write('peer_node_fs.js: --api callback|promises --file FILE, positive numbers\n');
        process.exit(2);
    }
    return args;
}

//  Random aligned offsets (xorshift, as the C sides).
function offsets (blocks, size) {
    let state = 0x9e3779b9;
    return () => {
        state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
        return ((state >>> 0) % blocks) * size;
    };
}

function report (args, side, ops, errors, start, cpu) {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    process.stdout.write(JSON.stringify({
        side,
        ops_per_sec: Math.round(ops / seconds),
        ops,
        seconds: Math.round(seconds * 1000) / 1000,
        inflight: args.inflight,
        threads: Number(process.env.UV_THREADPOOL_SIZE || 4),
        size: args.size,
        errors,
        cpu_us_per_op: Math.round(((used.user + used.system) / Math.max(ops, 1)) * 100) / 100,
    }) + '\n');
    return errors || !ops ? 1 : 0;
}

function runCallback (args, blocks) {
    const fd = fs.openSync(args.file, 'r');
    const next = offsets(blocks, args.size);
    let ops = 0, errors = 0, lanes = args.inflight;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(args.seconds * 1e9));
    //  Each lane reads into its own buffer and starts its next read from
    //  the callback of its last.
    const lane = (buffer) => {
        fs.read(fd, buffer, 0, args.size, next(), (err, bytes) => {
            ops++;
            if (err || bytes !== args.size)
                errors++;
            if (process.hrtime.bigint() < end)
                lane(buffer);
            else if (--lanes === 0) {
                process.exitCode = report(args, 'node_fs_callback', ops, errors, start, cpu);
                fs.closeSync(fd);
            }
        });
    };
    for (let i = 0; i < args.inflight; i++)
        lane(Buffer.alloc(args.size));
}

async function runPromises (args, blocks) {
    const handle = await fs.promises.open(args.file, 'r');
    const next = offsets(blocks, args.size);
    let ops = 0, errors = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(args.seconds * 1e9));
    const lane = async () => {
        const buffer = Buffer.alloc(args.size);
        while (process.hrtime.bigint() < end) {
            const { bytesRead } = await handle.read(buffer, 0, args.size, next());
            ops++;
            if (bytesRead !== args.size)
                errors++;
        }
    };
    await Promise.all(Array.from({ length: args.inflight }, lane));
    process.exitCode = report(args, 'node_fs_promises', ops, errors, start, cpu);
    await handle.close();
}

const args = parseArgs(process.argv.slice(2));
const blocks = Math.floor(fs.statSync(args.file).size / args.size);
if (blocks < 1) {
    process.stderr.write(`peer_node_fs.js: ${args.file} holds no ${args.size}-byte block\n`);
    process.exit(1);
}
if (args.api === 'callback')
    runCallback(args, blocks);
else
    runPromises(args, blocks).catch((err) => {
        process.stderr.write(`peer_node_fs.js: ${err.stack || err}\n`);
        process.exit(1);
    });
