// Compiled (not run) by test/types.test.js: the declarations must cover the
// whole API as the README uses it.
import { Client, ZaioError, ZaioEvent, Stat, DirEntry, HelloResult, Int, BrokerStats, StatsRow } from 'zaio';
import { encodeRequest, decodeReply, checkResult, replyId, decodeValue, Float, HEADER_MAX, CodecError,
    encodeBatch, isBatch, decodeReplyBatch, encodeReplyBatch } from 'zaio/codec';

async function main(): Promise<void> {
    const client = new Client('ipc:///tmp/zaio.ipc', { events: 'tcp://127.0.0.1:5556', timeout: 5000 });
    await client.ping();
    const secure = new Client('tcp://storage:5555', { curveServer: '/etc/zaio/broker', curveCert: '/etc/zaio/alice' });
    secure.close();
    const hello: HelloResult = await client.hello({ timeout: 1000 });
    const max: number = hello.limits.payload_max;
    const report: BrokerStats = await client.brokerStats({ top: 5, timeout: 1000 });
    const rows: StatsRow[] = report.jobs;
    const inflight: Int = report.gauges.inflight;
    const p99bucket: Int = report.latency[0].service[report.latency_bounds_us.length];
    const st: Stat = await client.stat('a', { volume: 'default' });
    const ns: bigint = st.mtime_ns;
    const buf: Buffer = await client.read('a', 0, 4096);
    const big: Buffer = await client.read('a', 1n << 40n, 10);
    const n: Int = await client.write('a', 0, Buffer.from('x'), { create: true, mode: 0o600 });
    const off: Int = await client.append('log', 'line\n', { create: true });
    const whole: Buffer = await client.readfile('a');
    await client.writefile('a', new Uint8Array([1, 2]), { mode: 0o644 });
    await client.truncate('a', 0);
    await client.fsync('a', { datasync: true });
    await client.rename('a', 'b');
    await client.copy('b', 'c');
    await client.unlink('c');
    await client.mkdir('d/e', { parents: true, mode: 0o755 });
    await client.rmdir('d/e');
    const page = await client.listdir('', { after: 'm', limit: 10 });
    const more: boolean = page.more;
    const all: DirEntry[] = await client.listdirAll('');
    for await (const e of client.listdirIter('', { limit: 2 })) console.log(e.name, e.type);
    const raw = await client.request('read', { path: 'a', length: 1, deadline: 100, volume: 'photos' });
    console.log(raw.header.ok, raw.data?.length);
    for await (const ev of client.events('err.')) {
        const e: ZaioEvent = ev;
        console.log(e.topic, e.seq, e.error, e.gap);
        break;
    }
    const stream = client.events(['ok.write.', 'err.write.']);
    await stream.ready({ timeout: 1000 });
    console.log(stream.lost);
    stream.close();
    try {
        await client.stat('missing');
    } catch (err) {
        if (err instanceof ZaioError && err.code === 'ENOENT') console.log(err.errno, err.path, err.retryable, err.local);
    }
    const frames: Buffer[] = encodeRequest({ id: 1n, op: 'ping' });
    try { checkResult({ op: 'read', length: 1 }, decodeReply(frames)); } catch (e) { if (e instanceof CodecError) console.log(e.code); }
    const id: number | bigint | undefined = replyId(frames);
    const v = decodeValue(frames[1]);
    console.log(id, v instanceof Float ? v.value : v, frames[1].length <= HEADER_MAX);
    console.log(max, ns, buf, big, n, off, whole, more, all, client.stats.retries, client.inflight);
    const batch = client.batch();
    const head: Promise<Buffer> = batch.read('f', 0, 4096);
    const later: Promise<Stat> = batch.stat('f');
    const outcomes = await batch.send();
    console.log(await head, (await later).size, outcomes.length, client.stats.batches);
    const replies = decodeReplyBatch(encodeReplyBatch([{ header: { id: 1, ok: true } }]));
    console.log(replies, isBatch(encodeBatch(2, [{ header: frames[1] }])));
    client.close();
}
main();
