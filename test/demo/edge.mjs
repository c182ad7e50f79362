// The edge inference example over real HTTP on loopback: examples/edge/node.mjs (node:http adapter)
// and examples/edge/deno.mjs (Deno.serve), each with the wasm compiled by simdnn and with simdnn's
// exported kernels precompiled (init({module, gemmModule})); the handler with compiling wasm bytes
// forbidden, as on Cloudflare Workers (edge-no-compile.mjs); and the example run from the packed
// package (npm pack) installed in an empty folder. Predictions are compared with model.predict in this
// process.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assert, assertEqual } from './harness.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const at = (...p) => join(root, ...p);
const LIMIT = 1024 * 1024;

/** Starts a server process; resolves {url, proc, output} once it prints its address. */
function startServer(cmd, args, { timeoutMs = 30_000, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no "listening on" line within ${timeoutMs} ms:\n${output}`)); }, timeoutMs);
    const onData = (d) => {
      output += d;
      const m = output.match(/listening on (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); resolve({ url: m[1], proc, output: () => output }); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before listening:\n${output}`)); });
  });
}

async function post(url, body, headers = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the checks say so */ }
  return { status: res.status, headers: res.headers, json, text };
}

/** A POST whose body is sent in chunks without Content-Length (node:http, so nothing buffers it). */
function postChunked(url, totalBytes) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    let settled = false;
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => { settled = true; resolve({ status: res.statusCode, json: JSON.parse(text) }); });
    });
    // The server may answer and close while we are still sending: that is the point.
    req.on('error', (e) => { if (!settled) setTimeout(() => { if (!settled) reject(e); }, 200); });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const write = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', write);
      }
      req.end();
    };
    req.write('{"rows": [');
    write();
  });
}

function expectError(r, status, ...fragments) {
  assert(r.status === status, `expected HTTP ${status}, got ${r.status}: ${r.text ?? JSON.stringify(r.json)}`);
  assert(r.json && typeof r.json.error === 'string', `expected a JSON {"error": ...} body, got ${r.text}`);
  for (const f of fragments) assert(r.json.error.includes(f), `the message should mention "${f}": ${r.json.error}`);
}

const close = (a, b, tol) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Runs a command to its end; resolves {code, out, err}. */
function run(cmd, args, { cwd = root, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1' } }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err: err + (e?.killed ? ` (killed after ${timeoutMs / 1000} s)` : '') })));
}

/**
 * edge-no-compile.mjs (copied to `dir`, so that 'simdnn/…' resolves from there) with the handler at
 * `handler`: {health, status, body, refused, notes}.
 */
async function noCompile(dir, handler, modelPath, rows, which) {
  const script = join(dir, 'edge-no-compile.mjs');
  if (!existsSync(script)) cpSync(fileURLToPath(new URL('./edge-no-compile.mjs', import.meta.url)), script);
  const r = await run(process.execPath, [script, pathToFileURL(handler).href, modelPath, JSON.stringify(rows), which], { cwd: dir });
  assert(r.code === 0, `edge-no-compile.mjs ${which} exited ${r.code}: ${r.err.trim().split('\n').slice(-4).join(' | ')}`);
  return JSON.parse(r.out.trim().split('\n').pop());
}

/** Checks a no-compile run: predictions as expected, and which kernels ran for which modules given. */
function checkNoCompile(o, which, expected) {
  assert(o.status === 200, `HTTP ${o.status}: ${JSON.stringify(o.body)}`);
  assertEqual(o.body.predictions, expected.labels, `${which}: predictions`);
  o.body.probabilities.forEach((p, i) => assert(close(p, expected.probs[i], 1e-5), `${which}: row ${i}: probabilities ${p} vs ${expected.probs[i]}`));
  assert(o.health.module === 'precompiled', `module: ${o.health.module}`);
  if (which === 'both') {
    // Both modules handed over: nothing is compiled from bytes, and the relaxed gemm runs.
    assertEqual([o.refused, o.health.binary], [0, 'relaxed'], 'refused compiles, binary');
  } else {
    // The core only: simdnn tries the relaxed gemm from bytes once, is refused, and says what to pass.
    assertEqual([o.refused, o.health.binary], [1, 'simd'], 'refused compiles, binary');
    const note = o.notes.find((n) => n.includes('relaxed-SIMD gemm'));
    assert(note && /disallowed by embedder/.test(note) && note.includes("init({ gemmModule }) ('simdnn/kernels-relaxed-gemm.wasm')"), `note: ${note}`);
  }
}

export async function edgeTests(t, sd) {
  const tmp = mkdtempSync(join(tmpdir(), 'simdnn-edge-'));
  const procs = [];
  try {
    const { trainDigits } = await import('../../examples/edge/train.mjs');
    const handlerModule = await import('../../examples/edge/handler.mjs');

    // The model: trained here with the API, saved, and served from that file by each server.
    const trained = await t.check('edge: train and save a digits model in-process', async () => {
      const r = await trainDigits({ epochs: 15 });
      assert(r.accuracy >= 0.9, `test accuracy ${r.accuracy}`);
      writeFileSync(join(tmp, 'digits.safetensors'), r.bytes);
      return r;
    });
    if (!trained) return;
    const { model } = trained;
    const modelPath = join(tmp, 'digits.safetensors');

    // Rows from the table and what the model says about them here.
    const lines = readFileSync(at('data', 'digits.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const rows = lines.slice(1, 7).map((l) => l.split(',').slice(0, 64).map(Number));
    const expected = sd.tidy(() => {
      const p = sd.softmax(model.predict(sd.tensor(rows)), -1).dataSync();
      const probs = rows.map((_, i) => Array.from(p.subarray(i * 10, i * 10 + 10)));
      return { probs, labels: probs.map((r) => String(r.indexOf(Math.max(...r)))) };
    });
    const byName = (row) => Object.fromEntries(row.map((v, j) => [header[j], v]));

    // Start the servers together (Deno and first-run training take a moment each).
    const deno = existsSync(at('node_modules', '.bin', 'deno')) ? at('node_modules', '.bin', 'deno') : 'deno';
    const fresh = join(tmp, 'first-run', 'model.safetensors');
    mkdirSync(join(tmp, 'first-run'));
    const starts = {
      node: startServer(process.execPath, ['examples/edge/node.mjs', '--port', '0', '--model', modelPath]),
      deno: startServer(deno, ['run', '--allow-net', '--allow-read', 'examples/edge/deno.mjs', '--port', '0', '--model', modelPath]),
      'node, first run': startServer(process.execPath, ['examples/edge/node.mjs', '--port', '0', '--model', fresh]),
    };
    // simdnn/kernels.wasm and simdnn/kernels-relaxed-gemm.wasm, compiled first and handed to init().
    starts['node, precompiled modules'] = startServer(process.execPath, ['examples/edge/node.mjs', '--port', '0', '--model', modelPath, '--precompiled']);
    starts['deno, precompiled modules'] = startServer(deno, ['run', '--allow-net', '--allow-read', 'examples/edge/deno.mjs', '--port', '0', '--model', modelPath, '--precompiled']);
    for (const p of Object.values(starts)) p.then((s) => procs.push(s.proc), () => {});

    for (const [name, started] of Object.entries(starts)) {
      const step = t.flow(`edge ${name}`);
      const s = await step('starts and prints its URL', () => started);
      const url = s?.url;
      const precompiled = name.includes('precompiled');

      await step('GET /health', async () => {
        const res = await fetch(`${url}/health`);
        const h = await res.json();
        assert(res.status === 200 && h.status === 'ok', `status ${res.status}: ${JSON.stringify(h)}`);
        assertEqual([h.model.inputs, h.model.outputs, h.model.classes?.length], [64, 10, 10], 'model shape');
        assert(h.backend === 'wasm', `backend ${h.backend}`);
        assert((h.module === 'precompiled') === precompiled, `module: ${h.module}`);
      });
      if (name === 'node, first run') {
        await step('trained and saved a model on first run, and serves it', async () => {
          assert(existsSync(fresh), `no ${fresh}; output:\n${s.output()}`);
          const r = await post(`${url}/predict`, { rows });
          assert(r.status === 200 && r.json.predictions.length === rows.length, `HTTP ${r.status}: ${r.text}`);
        });
        continue;
      }
      await step('POST /predict {"rows"} matches model.predict in-process', async () => {
        const r = await post(`${url}/predict`, { rows });
        assert(r.status === 200, `HTTP ${r.status}: ${r.text}`);
        assertEqual(r.json.predictions, expected.labels, 'predictions');
        assertEqual(r.json.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'classes');
        r.json.probabilities.forEach((p, i) => assert(close(p, expected.probs[i], 1e-5), `row ${i}: probabilities ${p} vs ${expected.probs[i]}`));
      });
      if (precompiled) continue;

      await step('POST /predict {"features"} by column name', async () => {
        const one = await post(`${url}/predict`, { features: byName(rows[2]) });
        assert(one.status === 200, `HTTP ${one.status}: ${one.text}`);
        assertEqual(one.json.predictions, [expected.labels[2]], 'one object');
        const two = await post(`${url}/predict`, { features: [byName(rows[0]), byName(rows[1])] });
        assertEqual(two.json.predictions, expected.labels.slice(0, 2), 'an array of objects');
      });
      const bad = [
        ['invalid JSON → 400', () => post(`${url}/predict`, '{"rows": [[1, 2'), 400, ['not valid JSON']],
        ['empty body → 400', () => post(`${url}/predict`, ''), 400, ['empty']],
        ['neither rows nor features → 400', () => post(`${url}/predict`, { data: [] }), 400, ['"rows"', '"features"']],
        ['wrong feature count → 400', () => post(`${url}/predict`, { rows: [rows[0].slice(0, 63)] }), 400, ['rows[0] has 63 values', '64 features']],
        ['non-numeric value → 400', () => post(`${url}/predict`, { rows: [[...rows[0].slice(0, 5), 'abc', ...rows[0].slice(6)]] }), 400, ['rows[0][5]', 'p5', 'not a finite number']],
        ['rows not an array → 400', () => post(`${url}/predict`, { rows: 'x' }), 400, ['"rows" must be an array']],
        ['missing feature by name → 400', () => { const f = byName(rows[0]); delete f.p17; return post(`${url}/predict`, { features: f }); }, 400, ['p17']],
        ['non-numeric feature by name → 400', () => post(`${url}/predict`, { features: { ...byName(rows[0]), p3: 'lots' } }), 400, ['p3', 'not a number']],
        ['body over 1 MiB (Content-Length) → 413', () => post(`${url}/predict`, '{"rows": [' + ' '.repeat(LIMIT + 10) + ']}'), 413, ['limit is 1048576 bytes']],
        ['body over 1 MiB (chunked, no length) → 413', () => postChunked(`${url}/predict`, 2 * LIMIT), 413, ['limit is 1048576 bytes']],
        ['GET /predict → 405', async () => {
          const res = await fetch(`${url}/predict`);
          assert(res.headers.get('allow')?.includes('POST'), `Allow: ${res.headers.get('allow')}`);
          return { status: res.status, json: await res.json() };
        }, 405, ['use POST']],
        ['unknown path → 404', async () => { const res = await fetch(`${url}/nope`); return { status: res.status, json: await res.json() }; }, 404, ['/nope', '/predict']],
      ];
      for (const [label, send, status, fragments] of bad) await step(label, async () => expectError(await send(), status, ...fragments));
      await step('still answers after the bad requests', async () => {
        const r = await post(`${url}/predict`, { rows: rows.slice(0, 1) });
        assertEqual(r.json?.predictions, expected.labels.slice(0, 1), 'predictions');
      });
    }

    // Compiling wasm bytes forbidden, as on Cloudflare Workers: the exported modules, precompiled, run.
    for (const which of ['both', 'core'])
      await t.check(`edge: compiling wasm bytes forbidden, ${which === 'both' ? 'simdnn/kernels.wasm and simdnn/kernels-relaxed-gemm.wasm' : 'simdnn/kernels.wasm only'} precompiled: predicts as model.predict`, async () =>
        checkNoCompile(await noCompile(fileURLToPath(new URL('.', import.meta.url)), at('examples', 'edge', 'handler.mjs'), modelPath, rows, which), which, expected));

    // The package as users get it: npm pack, installed in an empty folder, the edge example copied in.
    const pack = t.flow('edge from the packed package');
    const app = join(tmp, 'app');
    const tarball = await pack('npm pack: the tarball holds the bundle, its kernel .wasm files and the types', async () => {
      // --ignore-scripts: dist/ is built already (npm test builds first); `prepare` would build it again.
      const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp]);
      assert(r.code === 0, `npm pack exited ${r.code}: ${r.err}`);
      const [{ filename, files }] = JSON.parse(r.out);
      const paths = new Set(files.map((f) => f.path));
      for (const f of ['dist/index.js', 'dist/kernels.wasm', 'dist/kernels-relaxed-gemm.wasm', 'dist/worker.js', 'dist/chunks.json', 'dist/types/index.d.ts', 'package.json'])
        assert(paths.has(f), `the tarball lacks ${f}`);
      const manifest = JSON.parse(readFileSync(at('dist', 'chunks.json'), 'utf8'));
      for (const f of [...manifest.core, ...Object.values(manifest.parts).flat(), ...manifest.wasm]) assert(paths.has(`dist/${f}`), `the tarball lacks dist/${f}`);
      return join(tmp, filename);
    });
    await pack('npm install of the tarball in an empty folder, offline', async () => {
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'edge-app', private: true, type: 'module' }));
      // simdnn's dependencies from this checkout's node_modules, packed, so that nothing is fetched.
      const pkg = JSON.parse(readFileSync(at('package.json'), 'utf8'));
      const deps = [];
      for (const name of Object.keys(pkg.dependencies ?? {})) {
        const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp, at('node_modules', name)]);
        assert(r.code === 0, `npm pack ${name}: ${r.err}`);
        deps.push(join(tmp, JSON.parse(r.out)[0].filename));
      }
      const r = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', tarball, ...deps], { cwd: app });
      assert(r.code === 0, `npm install exited ${r.code}: ${r.err.trim().split('\n').slice(-5).join(' | ')}`);
      assert(existsSync(join(app, 'node_modules', 'simdnn', 'dist', 'kernels.wasm')), 'node_modules/simdnn/dist/kernels.wasm is missing');
      // The example as a user copies it into a project: it imports 'simdnn' by name.
      for (const f of readdirSync(at('examples', 'edge')).filter((f) => f.endsWith('.mjs'))) cpSync(at('examples', 'edge', f), join(app, f));
    });
    const served = await pack('node.mjs --precompiled from the installed package: GET /health, POST /predict as model.predict', async () => {
      const s = await startServer(process.execPath, ['node.mjs', '--port', '0', '--model', modelPath, '--precompiled'], { cwd: app });
      procs.push(s.proc);
      const h = await (await fetch(`${s.url}/health`)).json();
      assert(h.status === 'ok' && h.backend === 'wasm' && h.module === 'precompiled', JSON.stringify(h));
      const r = await post(`${s.url}/predict`, { rows });
      assert(r.status === 200, `HTTP ${r.status}: ${r.text}`);
      assertEqual(r.json.predictions, expected.labels, 'predictions');
      return s;
    });
    served?.proc.kill('SIGTERM');
    await pack('a default node.mjs run from the installed package reads simdnn\'s kernels beside its bundle (their inlined copies removed)', async () => {
      const dist = join(app, 'node_modules', 'simdnn', 'dist');
      const inlined = readdirSync(dist).filter((f) => /^(kernels|gemm)-\w+\.js$/.test(f));
      assert(inlined.length === 2, `inlined kernel chunks: ${inlined}`);
      for (const f of inlined) rmSync(join(dist, f));
      const s = await startServer(process.execPath, ['node.mjs', '--port', '0', '--model', modelPath], { cwd: app });
      procs.push(s.proc);
      const r = await post(`${s.url}/predict`, { rows });
      assertEqual(r.json?.predictions, expected.labels, 'predictions');
      s.proc.kill('SIGTERM');
    });
    for (const which of ['both', 'core'])
      await pack(`compiling wasm bytes forbidden in the installed package, ${which === 'both' ? 'both modules' : 'the core module only'} precompiled`, async () =>
        checkNoCompile(await noCompile(app, join(app, 'handler.mjs'), modelPath, rows, which), which, expected));

    // Deno without --allow-read: no prompt and no error; the kernels come from the bundle's inlined copies.
    await t.check('edge: Deno without read permission runs on the inlined kernels', async () => {
      const script = join(tmp, 'deno-no-read.mjs');
      writeFileSync(script, `import * as sd from ${JSON.stringify(pathToFileURL(at('dist', 'index.js')).href)};
        const info = await sd.init({ backend: 'wasm' });
        console.log(info.binary, sd.mlp([4, 3, 2], { seed: 1 }).predict(new Float32Array(4).fill(1)).shape.join('x'));`);
      const r = await run(deno, ['run', '--no-prompt', script], { cwd: tmp });
      assert(r.code === 0, `deno exited ${r.code}: ${r.err}`);
      assertEqual(r.out.trim(), 'relaxed 1x2', 'binary and output shape');
    });

    // In-process: a regression model, the CORS preflight, and createHandler's own checks.
    await t.check('edge in-process: regression model answers numbers; OPTIONS; bad options', async () => {
      const ds = await sd.data.readCsv(at('data', 'diabetes.csv'), { from: 'path' });
      const reg = sd.mlp([ds.columns.length, 16, 1], { seed: 3 });
      reg.preprocessing = { scaler: sd.data.standardize(ds.x), columns: ds.columns, target: ds.target, task: 'regression', encoding: ds.encoding };
      const h = handlerModule.createHandler({ model: reg });
      const x = ds.x.dataSync().subarray(0, ds.columns.length);
      const res = await h.fetch(new Request('http://x/predict', { method: 'POST', body: JSON.stringify({ rows: [Array.from(x)] }) }));
      const body = await res.json();
      const want = reg.predict(sd.tensor(Array.from(x), [1, ds.columns.length]));
      assert(res.status === 200 && body.predictions.length === 1 && Math.abs(body.predictions[0] - want.dataSync()[0]) < 1e-4, JSON.stringify(body));
      assert(!('probabilities' in body), 'a regression answer has no probabilities');
      want.dispose();
      const pre = await h.fetch(new Request('http://x/predict', { method: 'OPTIONS' }));
      assert(pre.status === 204 && pre.headers.get('access-control-allow-origin') === '*', `OPTIONS: ${pre.status}`);
      let threw = false;
      try { handlerModule.createHandler({}); } catch (e) { threw = /modelBytes/.test(e.message); }
      assert(threw, 'createHandler({}) should say what it needs');
      reg.dispose();
      sd.dispose([ds.x, ds.y]);
    });
    // In-process: the model's bytes as Node hands them over (Buffers are views into larger memory).
    const ask = async (h, body) => {
      const res = await h.fetch(new Request('http://x/predict', { method: 'POST', body: JSON.stringify(body) }));
      return { status: res.status, json: await res.json() };
    };
    await t.check('edge in-process: modelBytes as a Buffer from readFileSync or fs.promises.readFile, or a DataView', async () => {
      const buf = readFileSync(modelPath);
      const sources = {
        readFileSync: buf,
        'fs.promises.readFile (a function)': () => readFile(modelPath),
        DataView: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
      };
      for (const [what, modelBytes] of Object.entries(sources)) {
        const r = await ask(handlerModule.createHandler({ modelBytes }), { rows });
        assert(r.status === 200, `${what}: HTTP ${r.status}: ${JSON.stringify(r.json)}`);
        assertEqual(r.json.predictions, expected.labels, `${what}: predictions`);
      }
    });

    await t.check('edge in-process: a model file that does not fit its metadata → 503 naming the field', async () => {
      const { tensors, metadata } = sd.decodeSafetensors(trained.bytes);
      const pre = JSON.parse(metadata.preprocessing);
      pre.classes = ['a', 'b', 'c']; // the model has 10 outputs
      const bad = sd.encodeSafetensors([...tensors].map(([name, v]) => ({ name, shape: v.shape, data: v.data })), { ...metadata, preprocessing: JSON.stringify(pre) });
      const h = handlerModule.createHandler({ modelBytes: bad });
      const res = await h.fetch(new Request('http://x/health'));
      const body = await res.json();
      assert(res.status === 503, `HTTP ${res.status}: ${JSON.stringify(body)}`);
      assert(/preprocessing\.classes has 3 names but the model has 10 outputs/.test(body.error), body.error);
      const r = await ask(h, { rows });
      assert(r.status === 503 && /preprocessing\.classes/.test(r.json.error), `predict: HTTP ${r.status}: ${JSON.stringify(r.json)}`);
    });

    await t.check('edge in-process: an output that is not finite → 500 with the reason, never 200 with null', async () => {
      // Finite weights whose products overflow float32: the output is Infinity (NaN after softmax).
      const huge = (m) => m.setWeights(m.getWeights().map((w) => w.fill(3e38)));
      const reg = sd.mlp([2, 1], { seed: 1 });
      huge(reg);
      reg.preprocessing = { task: 'regression' };
      const cls = sd.mlp([2, 3], { seed: 1 });
      huge(cls);
      cls.preprocessing = { task: 'classification', classes: ['a', 'b', 'c'] };
      try {
        for (const [what, m] of [['regression', reg], ['classification', cls]]) {
          const h = handlerModule.createHandler({ model: m });
          const r = await ask(h, { rows: [[1, 2], [10, 10]] });
          assert(r.status === 500, `${what}: HTTP ${r.status}: ${JSON.stringify(r.json)}`);
          assert(/output for row 0 of the request is (Infinity|NaN), not a finite number/.test(r.json.error), `${what}: ${r.json.error}`);
        }
        // A value beyond float32 is the request's fault: 400, before the model runs.
        const h = handlerModule.createHandler({ model: reg });
        const r = await ask(h, { rows: [[1e39, 0]] });
        assert(r.status === 400 && /rows\[0\]\[0\] is 1e\+39, beyond the float32 range/.test(r.json.error), `HTTP ${r.status}: ${JSON.stringify(r.json)}`);
      } finally {
        reg.dispose();
        cls.dispose();
      }
    });
    model.dispose();
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}
