'use strict';
//  Every `js` and `mjs` example in README.md runs, as its own program,
//  against a real broker, so the documentation cannot rot.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { brokerBinary, startBroker } = require('./helpers');

const PKG = path.resolve(__dirname, '..');
const bin = brokerBinary();
if (bin.required)
    throw new Error(bin.missing);
const skip = bin.path ? false : `${bin.missing} (build it, or set ZAIO_BROKER)`;

//  The fenced blocks of a markdown text: [{lang, code, line}].
function codeBlocks (text) {
    const blocks = [];
    const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
    let m;
    while ((m = re.exec(text)) !== null)
        blocks.push({ lang: m[1], code: m[2], line: text.slice(0, m.index).split('\n').length });
    return blocks;
}

const examples = codeBlocks(fs.readFileSync(path.join(PKG, 'README.md'), 'utf8'))
    .filter((b) => b.lang === 'js' || b.lang === 'mjs');

//  What each example must print, in README order.
const EXPECT = [
    /hello, world\n[\s\S]*world\ntrue 13 644 \d+n\nappended at offset \d+\n[\s\S]*file hello.txt 13/,
    /ENOENT -2 no\/such\/file\nENOENT: No such file or directory, stat 'no\/such\/file'\nEXDEV\n/,
    /^100 file 42\n$/,
    /^err\.stat\.default ENOENT missing-file \d+\n$/,
    /^\d+\.\d+\.\d+ 67108864 18\n$/,
];

describe('README examples', { skip }, () => {
    let broker;
    let dir;

    before(async () => {
        broker = await startBroker();
        //  A scratch project whose node_modules/zaio is this package,
        //  so the examples say require('zaio') as a user would.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-readme-'));
        fs.mkdirSync(path.join(dir, 'node_modules'));
        fs.symlinkSync(PKG, path.join(dir, 'node_modules', 'zaio'), 'dir');
    });

    after(async () => {
        if (dir)
            fs.rmSync(dir, { recursive: true, force: true });
        if (broker)
            assert.equal((await broker.stop()).code, 0);
    });

    it('has as many examples as expectations', () => {
        assert.equal(examples.length, EXPECT.length);
    });

    examples.forEach((ex, i) => {
        it(`example ${i + 1} (README.md line ${ex.line}, ${ex.lang})`, async () => {
            const file = path.join(dir, `example-${i + 1}.${ex.lang}`);
            fs.writeFileSync(file, ex.code);
            const { code, stdout, stderr } = await new Promise((resolve) => {
                execFile(process.execPath, [file], {
                    cwd: dir,
                    timeout: 60000,
                    env: { ...process.env, ZAIO_ENDPOINT: broker.ipc, ZAIO_EVENTS: broker.events },
                }, (err, out, errOut) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout: out, stderr: errOut }));
            });
            assert.equal(code, 0, `exit ${code}; stderr: ${stderr}`);
            assert.equal(stderr, '');
            assert.match(stdout, EXPECT[i] || /[\s\S]*/);
        });
    });
});
