#!/usr/bin/env node
'use strict';
/*  bench.js: pipelined read throughput of the Node client.

    node bench.js --endpoint ipc:///tmp/zaio.ipc --path bench.bin --seconds 5
                  [--inflight 64] [--size 4096] [--volume NAME]
                  [--random] [--batch] [--broker-pid PID]

    Keeps --inflight reads of --size bytes (default 64 of 4 KiB) in flight
    on one client for --seconds, walking the file in --size steps
    (--random: at random aligned offsets), and prints one JSON line:
    {"ops_per_sec": ..., ...}. The file is created with 1 MiB of data if it
    does not exist. Exits 1 on any failed read.

    --batch sends the reads through `client.batch()`, two batches of half
    the window in flight. The shape assumed until that API lands (issue 20:
    "collects calls and sends them as one"): `b = client.batch()`,
    `b.read(...)` a Promise per call, `await b.send()`. A client without
    `batch` prints {"missing": "client has no batch API yet"} and measures
    nothing. --broker-pid adds the broker process's CPU time per read in
    the same stretch (from /proc).
*/

const fs = require('fs');
const { Client } = require('./index');

const MISSING_BATCH = 'client has no batch API yet';
const FLAGS = ['random', 'batch'];

//  The CPU seconds (user and system) process pid has used; 0 for pid 0.
function procCpu (pid) {
    if (!pid)
        return 0;
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
    //  In clock ticks: Linux's USER_HZ, 100 (Node cannot ask sysconf).
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

function parseArgs (argv) {
    const args = { endpoint: 'ipc:///tmp/zaio.ipc', path: 'bench.bin', seconds: 5, inflight: 64, size: 4096,
        volume: undefined, random: false, batch: false, 'broker-pid': 0 };
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
        if (!m || !(m[1] in args)) {
            process.stderr.write(`bench.js: unknown argument ${argv[i]}\n`);
            process.exit(2);
        }
        if (FLAGS.includes(m[1])) {
            args[m[1]] = true;
            continue;
        }
        const value = m[2] !== undefined ? m[2] : argv[++i];
        if (value === undefined) {
            process.stderr.write(`bench.js: --${m[1]} needs a value\n`);
            process.exit(2);
        }
        args[m[1]] = ['seconds', 'inflight', 'size', 'broker-pid'].includes(m[1]) ? Number(value) : value;
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
        if (args.batch && typeof client.batch !== 'function') {
            process.stdout.write(JSON.stringify({ missing: MISSING_BATCH, client: 'node' }) + '\n');
            return;
        }
        const blocks = Math.max(1, Math.floor(size / args.size));
        let next = 0;
        let state = 0x9e3779b9;
        const offset = () => {
            if (!args.random)
                return (next++ % blocks) * args.size;
            state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
            return ((state >>> 0) % blocks) * args.size;
        };
        let ops = 0;
        let bytes = 0;
        const cpu = process.cpuUsage();
        const broker = procCpu(args['broker-pid']);
        const start = process.hrtime.bigint();
        const end = start + BigInt(Math.round(args.seconds * 1e9));
        //  Each lane issues its next read as soon as its last one returns.
        const lane = async () => {
            while (process.hrtime.bigint() < end) {
                const data = await client.read(args.path, offset(), args.size, opts);
                ops++;
                bytes += data.length;
            }
        };
        //  Each lane sends count reads as one batch, and the next batch once
        //  they have all returned.
        const batchLane = async (count) => {
            while (process.hrtime.bigint() < end) {
                const batch = client.batch();
                const reads = Array.from({ length: count }, () => batch.read(args.path, offset(), args.size, opts));
                await batch.send();
                for (const data of await Promise.all(reads)) {
                    ops++;
                    bytes += data.length;
                }
            }
        };
        if (args.batch) {
            const halves = [Math.floor(args.inflight / 2), args.inflight - Math.floor(args.inflight / 2)];
            await Promise.all(halves.filter((n) => n > 0).map(batchLane));
        } else
            await Promise.all(Array.from({ length: args.inflight }, lane));
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const used = process.cpuUsage(cpu);
        const brokerUsed = procCpu(args['broker-pid']) - broker;
        process.stdout.write(JSON.stringify({
            ops_per_sec: Math.round(ops / seconds),
            mib_per_sec: Math.round((bytes / seconds / 1048576) * 10) / 10,
            ops,
            seconds: Math.round(seconds * 1000) / 1000,
            inflight: args.inflight,
            size: args.size,
            client: 'node',
            //  This process's CPU per read (all its threads), as bench.py.
            client_cpu_us_per_op: Math.round(((used.user + used.system) / Math.max(ops, 1)) * 10) / 10,
            batch: args.batch,
            ...(args['broker-pid']
                ? { broker_cpu_us_per_op: Math.round((brokerUsed / Math.max(ops, 1)) * 1e8) / 100 }
                : {}),
        }) + '\n');
    } finally {
        client.close();
    }
}

main().catch((err) => {
    process.stderr.write(`bench.js: ${err.stack || err}\n`);
    process.exit(1);
});
