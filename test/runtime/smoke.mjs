// Runtime smoke suite: written once, run against the BUILT bundle (dist/index.js) in Node,
// Deno and Chromium (see node.mjs, deno.mjs, browser.mjs + index.html).
//
// Plain ESM with no imports, so every runtime loads it as is. It does not use vitest: the point
// is to exercise the bundle the way a user's runtime loads it, not the sources through Vite.
//
// Adding a case:
//   perBackend('name', async ({ sn, backend, assert, keep, log }) => { ... })  runs once per backend,
//       after `await sn.init({ backend })` succeeded; tensors passed through keep(...) are
//       disposed after the case (so a failing case does not leak into the next one's counts).
//   once('name', async ({ sn, opts, assert, log }) => { ... })  runs once, before the backends.
//   Both take a third argument {when: (opts, backend) => boolean} for cases that only apply somewhere
//   (opts: runtime, backends, crossOriginIsolated — see run()); a case that does not apply is
//   not counted.
// Cases run in the order they are declared; a thrown Error fails the case with its message.

/** @typedef {{ runtime?: string, backends?: (string | {backend: string, label?: string, options?: object, binary?: RegExp, when?: (features: any, opts: SmokeOptions) => boolean})[], crossOriginIsolated?: boolean, once?: boolean }} SmokeOptions */

const onceCases = [];
const backendCases = [];

/** `when(opts)` (optional) decides whether the case applies here at all; if not it is not counted. */
export function once(name, fn, { when } = {}) { onceCases.push({ name, fn, when }); }
export function perBackend(name, fn, { when } = {}) { backendCases.push({ name, fn, when }); }

// ---------------------------------------------------------------------------------------------
// Tiny assert helper. Every failure throws an Error whose message says what was expected.

export class AssertionError extends Error {
  constructor(message) { super(message); this.name = 'AssertionError'; }
}

const fmt = (v) => {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (ArrayBuffer.isView(v)) v = Array.from(v);
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s.length > 200 ? s.slice(0, 200) + '…' : s; }
  catch { return String(v); }
};

export const assert = {
  ok(cond, msg = 'expected a truthy value') {
    if (!cond) throw new AssertionError(msg);
  },
  equal(got, want, what = 'value') {
    if (!Object.is(got, want)) throw new AssertionError(`${what}: got ${fmt(got)}, want ${fmt(want)}`);
  },
  deepEqual(got, want, what = 'value') {
    const g = fmt(ArrayBuffer.isView(got) ? Array.from(got) : got);
    const w = fmt(ArrayBuffer.isView(want) ? Array.from(want) : want);
    if (g !== w) throw new AssertionError(`${what}: got ${g}, want ${w}`);
  },
  shape(t, want, what = 'shape') {
    assert.deepEqual(Array.from(t.shape), want, what);
  },
  /** Element-wise |got − want| ≤ rtol·max(1, |want|) (relative for large values, absolute near 0). */
  close(got, want, rtol = 1e-4, what = 'values') {
    got = Array.from(got); want = Array.from(want);
    if (got.length !== want.length) throw new AssertionError(`${what}: length ${got.length}, want ${want.length}`);
    let worst = -1, worstErr = 0;
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
      if (!(err <= rtol)) { // also catches NaN
        if (worst < 0 || !(err <= worstErr)) { worst = i; worstErr = err; }
      }
    }
    if (worst >= 0) {
      throw new AssertionError(`${what}: element ${worst} is ${got[worst]}, want ${want[worst]} ` +
        `(relative error ${worstErr.toExponential(2)} > ${rtol})`);
    }
  },
  /** fn must throw (sync or async) an Error whose message matches `pattern`. */
  async throws(fn, pattern, what = 'call') {
    let threw = null;
    try { await fn(); } catch (e) { threw = e; }
    if (threw === null) throw new AssertionError(`${what}: expected it to throw`);
    if (!(threw instanceof Error)) throw new AssertionError(`${what}: threw a non-Error ${fmt(threw)}`);
    if (pattern && !pattern.test(threw.message)) {
      throw new AssertionError(`${what}: error message ${fmt(threw.message)} does not match ${pattern}`);
    }
    return threw;
  },
};

// ---------------------------------------------------------------------------------------------
// Helpers: seeded data and float64 references computed from the same float32 inputs.

/** mulberry32: small, fast, seeded; values in [-1, 1) rounded to float32. */
export function randomF32(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** Row-major m×k · k×n in float64. */
export function naiveMatmul(a, b, m, k, n) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Row-major rows×cols → cols×rows. */
export function naiveTranspose(x, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

export function detectRuntime() {
  const g = globalThis;
  if (typeof g.Deno !== 'undefined' && g.Deno?.version?.deno) return 'deno';
  if (typeof g.process !== 'undefined' && g.process?.versions?.node && typeof g.window === 'undefined') return 'node';
  if (typeof g.window !== 'undefined' && typeof g.document !== 'undefined') return 'browser';
  if (typeof g.WorkerGlobalScope !== 'undefined') return 'worker';
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Cases that run once.

// These init the js backend first (which cannot fail to load), so that they test what info()
// says, not whether the wasm backend loads.
once('info() reports the runtime and a well-formed feature set', async ({ sn, opts }) => {
  await sn.init({ backend: 'js' });
  const info = sn.info();
  assert.equal(info.runtime, opts.runtime, 'info().runtime');
  for (const f of ['simd', 'relaxedSimd', 'threads', 'sharedArrayBuffer', 'crossOriginIsolated', 'webgpu']) {
    assert.equal(typeof info.features?.[f], 'boolean', `typeof info().features.${f}`);
  }
  assert.ok(Array.isArray(info.notes), 'info().notes is an array');
  // Every runtime we test (Node ≥ 20, Deno 2, Chromium) has fixed-width Wasm SIMD.
  assert.equal(info.features.simd, true, 'info().features.simd');
});

once('info() reports cross-origin isolation as the page has it', async ({ sn, opts }) => {
  await sn.init({ backend: 'js' });
  const f = sn.info().features;
  assert.equal(globalThis.crossOriginIsolated, opts.crossOriginIsolated, 'globalThis.crossOriginIsolated (server headers)');
  assert.equal(f.crossOriginIsolated, opts.crossOriginIsolated, 'info().features.crossOriginIsolated');
  if (!opts.crossOriginIsolated) {
    assert.equal(f.sharedArrayBuffer, false, 'info().features.sharedArrayBuffer without isolation');
  } else {
    assert.equal(f.sharedArrayBuffer, true, 'info().features.sharedArrayBuffer with isolation');
  }
}, { when: (opts) => opts.crossOriginIsolated !== undefined }); // a page, served with or without COOP/COEP

once('without cross-origin isolation, the fallback note and the error name the headers that fix it', async ({ sn }) => {
  const headers = /Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/;
  const e = await assert.throws(() => sn.init({ backend: 'wasm-threads' }), /cannot run here: the page is not cross-origin isolated/, "init({backend: 'wasm-threads'})");
  assert.ok(headers.test(e.message), `the error ${fmt(e.message)} names the headers`);
  const info = await sn.init();
  assert.equal(info.backend, 'wasm', 'auto falls back to');
  assert.equal(info.threads, 1, 'info().threads');
  assert.ok(info.notes.some((n) => /wasm-threads is unavailable: the page is not cross-origin isolated/.test(n) && headers.test(n)), `info().notes ${fmt(info.notes)} say why and which headers fix it`);
}, { when: (opts) => opts.crossOriginIsolated === false });

/**
 * The workers of the wasm-threads backend start in the background, after kernels worth splitting have run
 * for a while (init() does not wait for them): runs such work, yielding between calls, until info().notes
 * say they run (no note about them starting) or could not start. Returns the note left, or null when they run.
 */
export async function untilWorkers(sn, ms = 30_000) {
  const a = sn.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
  const t0 = Date.now();
  let left = null;
  try {
    while (Date.now() - t0 < ms) {
      a.matmul(a).dispose();
      await new Promise((r) => setTimeout(r, 5));
      const notes = sn.info().notes;
      left = notes.find((n) => /^wasm-threads: (the workers (start in|are starting)|could not start)/.test(n)) ?? null;
      if (!left || /could not start/.test(left)) break;
    }
  } finally {
    a.dispose();
  }
  return left;
}

once('where threads are possible, auto picks wasm-threads and info() reports the threads', async ({ sn, opts, log }) => {
  const info = await sn.init({ threads: 2 });
  log(`# auto with threads: 2: backend=${info.backend} threads=${info.threads} binary=${info.binary}`);
  assert.equal(info.backend, 'wasm-threads', 'auto with threads: 2 picks');
  assert.equal(info.threads, 2, 'info().threads');
  assert.ok(/-shared$/.test(info.binary), `info().binary ${fmt(info.binary)} is a shared-memory build`);
  assert.ok(info.notes.some((n) => /wasm-threads: 2 threads run kernels/.test(n)), `info().notes ${fmt(info.notes)} say how many threads run`);
  if (opts.runtime === 'browser')
    assert.ok(info.notes.some((n) => /run training in a Worker/.test(n)), "on a page's main thread the notes recommend a Worker");
  assert.ok(info.notes.some((n) => /the workers start in the background/.test(n)), `info().notes ${fmt(info.notes)} say the workers start later`);
  // Below the split size, it runs on the calling thread before any worker started.
  const before = sn.matmul(sn.tensor([[1, 2], [3, 4]]), sn.tensor([[5, 6], [7, 8]]));
  assert.deepEqual(await before.data(), [19, 22, 43, 50], 'matmul before the workers start');
  const left = await untilWorkers(sn);
  assert.equal(left, null, 'the workers run after some work (info().notes say nothing about them starting)');
  // Above every threading threshold: this product and this softmax are split into tiles.
  const m = 96, k = 160, n = 200;
  const a = randomF32(m * k, 20), b = randomF32(k * n, 21);
  const C = sn.matmul(sn.tensor(a, [m, k]), sn.tensor(b, [k, n]));
  assert.close(await C.data(), naiveMatmul(a, b, m, k, n), MATMUL_RTOL, 'threaded matmul');
  const one = await sn.init({ threads: 1 });
  assert.equal(one.backend, 'wasm', 'auto with threads: 1 picks');
  assert.equal(one.threads, 1, 'info().threads with threads: 1');
}, { when: (opts) => opts.crossOriginIsolated !== false });

// The setup the docs recommend for training in a browser: simdnn inside a module Worker, where the
// wasm-threads backend blocks in Atomics.wait instead of spinning the page's main thread.
once('in a module Worker of an isolated page, wasm-threads runs with blocking waits', async ({ sn }) => {
  const dist = new URL(new URLSearchParams(location.search).get('dist') || '/dist/index.js', location.href).href;
  const code = `
    const sn = await import(${JSON.stringify(dist)});
    try {
      const { untilWorkers } = await import(${JSON.stringify(new URL('./smoke.mjs', import.meta.url).href)});
      const info = await sn.init({ backend: 'wasm-threads', threads: 2 });
      const left = await untilWorkers(sn);
      const a = new Float32Array(128 * 128).fill(1);
      const c = sn.matmul(sn.tensor(a, [128, 128]), sn.tensor(a, [128, 128]));
      postMessage({ backend: info.backend, threads: info.threads, value: c.dataSync()[0], notes: info.notes, left });
      sn.shutdown();
    } catch (e) { postMessage({ error: String(e && e.stack || e) }); }`;
  const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  const w = new Worker(url, { type: 'module' });
  try {
    const r = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the worker did not answer within 30 s')), 30_000);
      w.onmessage = (e) => { clearTimeout(timer); resolve(e.data); };
      w.onerror = (e) => { clearTimeout(timer); reject(new Error(`worker error: ${e.message}`)); };
    });
    if (r.error) throw new Error(r.error);
    assert.equal(r.backend, 'wasm-threads', 'backend in the worker');
    assert.equal(r.threads, 2, 'threads in the worker');
    assert.equal(r.left, null, 'the workers run in the worker');
    assert.equal(r.value, 128, 'matmul in the worker');
    assert.ok(!r.notes.some((n) => /run training in a Worker/.test(n)), 'no main-thread warning inside a worker');
  } finally {
    w.terminate();
    URL.revokeObjectURL(url);
  }
}, { when: (opts) => opts.runtime === 'browser' && opts.crossOriginIsolated === true });

once("init({backend: 'auto'}) picks a working backend", async ({ sn, log }) => {
  const info = await sn.init({ backend: 'auto' });
  log(`# auto: backend=${info?.backend} binary=${info?.binary ?? 'none'}`);
  assert.ok(info && typeof info.backend === 'string', 'init() returns info()');
  assert.equal(sn.info().backend, info.backend, "info().backend after init('auto')");
  const r = sn.tensor([[1, 2], [3, 4]]).matmul(sn.tensor([[5, 6], [7, 8]]));
  assert.close(await r.data(), [19, 22, 43, 50], 1e-6, `matmul on auto-picked '${info.backend}'`);
  r.dispose();
});

// ---------------------------------------------------------------------------------------------
// Cases that run on every backend.

perBackend('info().backend is the one asked for', async ({ sn, backend }) => {
  assert.equal(sn.info().backend, backend, 'info().backend');
});

perBackend('tensor() from nested arrays and Float32Array; data() and dataSync() agree', async ({ sn, backend, keep }) => {
  const a = keep(sn.tensor([[1, 2, 3], [4, 5, 6]]));
  assert.shape(a, [2, 3]);
  assert.equal(a.size, 6, 'size');
  assert.close(await a.data(), [1, 2, 3, 4, 5, 6], 0, 'data()');
  if (backend === 'webgpu') await assert.throws(() => a.dataSync(), /reads asynchronously; use `await tensor\.data\(\)`/, 'dataSync() on webgpu');
  else assert.close(a.dataSync(), [1, 2, 3, 4, 5, 6], 0, 'dataSync()');
  const b = keep(sn.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]));
  assert.shape(b, [3, 2]);
  const d = await b.data();
  assert.ok(d instanceof Float32Array, 'data() returns a Float32Array');
});

// matmul tolerance: |got − want| ≤ 1e-4·max(1, |want|) element-wise, want = float64 product of
// the same float32 inputs. Inputs are in [-1, 1) and k = 17, so float32 rounding is ~1e-6.
const M = 33, K = 17, N = 9, MATMUL_RTOL = 1e-4;

perBackend(`matmul ${M}x${K} · ${K}x${N} matches a naive float64 product (rtol ${MATMUL_RTOL})`, async ({ sn, keep }) => {
  const a = randomF32(M * K, 1), b = randomF32(K * N, 2);
  const want = naiveMatmul(a, b, M, K, N);
  const A = keep(sn.tensor(a, [M, K])), B = keep(sn.tensor(b, [K, N]));
  const C = keep(sn.matmul(A, B));
  assert.shape(C, [M, N]);
  assert.close(await C.data(), want, MATMUL_RTOL, 'matmul(A, B)');
  const C2 = keep(A.matmul(B));
  assert.close(await C2.data(), want, MATMUL_RTOL, 'A.matmul(B)');
});

perBackend(`matmul transposeA / transposeB / both match the naive product (rtol ${MATMUL_RTOL})`, async ({ sn, keep }) => {
  const a = randomF32(M * K, 3), b = randomF32(K * N, 4);
  const want = naiveMatmul(a, b, M, K, N);
  const A = keep(sn.tensor(a, [M, K])), B = keep(sn.tensor(b, [K, N]));
  const At = keep(sn.tensor(naiveTranspose(a, M, K), [K, M]));
  const Bt = keep(sn.tensor(naiveTranspose(b, K, N), [N, K]));
  const forms = [
    ['Aᵀ·B  (transposeA)', At, B, { transposeA: true }],
    ['A·Bᵀ  (transposeB)', A, Bt, { transposeB: true }],
    ['Aᵀ·Bᵀ (both)', At, Bt, { transposeA: true, transposeB: true }],
  ];
  for (const [what, x, y, o] of forms) {
    const C = keep(sn.matmul(x, y, o));
    assert.shape(C, [M, N], `${what} shape`);
    assert.close(await C.data(), want, MATMUL_RTOL, what);
  }
});

// Large enough that a threaded backend splits it (small products stay on the calling thread).
perBackend(`matmul 200x300 · 300x150, plain and transposeB, matches the naive product (rtol ${MATMUL_RTOL})`, async ({ sn, keep }) => {
  const m = 200, k = 300, n = 150;
  const a = randomF32(m * k, 10), b = randomF32(k * n, 11);
  const want = naiveMatmul(a, b, m, k, n);
  const A = keep(sn.tensor(a, [m, k]));
  const C = keep(sn.matmul(A, keep(sn.tensor(b, [k, n]))));
  assert.shape(C, [m, n]);
  assert.close(await C.data(), want, MATMUL_RTOL, 'A·B');
  const Ct = keep(sn.matmul(A, keep(sn.tensor(naiveTranspose(b, k, n), [n, k])), { transposeB: true }));
  assert.close(await Ct.data(), want, MATMUL_RTOL, 'A·Bᵀ');
});

perBackend('transpose(x) of a 2-D tensor', async ({ sn, keep }) => {
  const x = randomF32(5 * 7, 5);
  const T = keep(sn.transpose(keep(sn.tensor(x, [5, 7]))));
  assert.shape(T, [7, 5]);
  assert.close(await T.data(), naiveTranspose(x, 5, 7), 0, 'transpose');
});

perBackend('broadcast add: [4,3] + [3], [4,1] + [1,3] and the method form', async ({ sn, keep }) => {
  const x = keep(sn.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]));
  const row = keep(sn.tensor([10, 20, 30]));
  const r1 = keep(sn.add(x, row));
  assert.shape(r1, [4, 3], '[4,3] + [3] shape');
  assert.close(await r1.data(), [11, 22, 33, 14, 25, 36, 17, 28, 39, 20, 31, 42], 0, '[4,3] + [3]');
  const col = keep(sn.tensor([[1], [2], [3], [4]]));
  const r2 = keep(sn.add(col, keep(sn.tensor([[10, 20, 30]]))));
  assert.shape(r2, [4, 3], '[4,1] + [1,3] shape');
  assert.close(await r2.data(), [11, 21, 31, 12, 22, 32, 13, 23, 33, 14, 24, 34], 0, '[4,1] + [1,3]');
  const r3 = keep(x.add(row));
  assert.close(await r3.data(), await r1.data(), 0, 'x.add(row)');
});

perBackend('softmax rows are positive and sum to 1; logSoftmax = log(softmax)', async ({ sn, keep }) => {
  const rows = 6, cols = 11;
  const x = Float32Array.from(randomF32(rows * cols, 6), (v) => v * 20); // wide range: tests max-subtraction
  const X = keep(sn.tensor(x, [rows, cols]));
  const S = keep(sn.softmax(X));
  assert.shape(S, [rows, cols]);
  const s = await S.data();
  const want = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let mx = -Infinity, z = 0;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, x[i * cols + j]);
    for (let j = 0; j < cols; j++) z += Math.exp(x[i * cols + j] - mx);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const v = s[i * cols + j];
      assert.ok(v >= 0 && v <= 1, `softmax[${i},${j}] = ${v} is not in [0, 1]`);
      sum += v;
      want[i * cols + j] = Math.exp(x[i * cols + j] - mx) / z;
    }
    assert.ok(Math.abs(sum - 1) <= 1e-5, `softmax row ${i} sums to ${sum}, want 1 ± 1e-5`);
  }
  assert.close(s, want, 1e-5, 'softmax vs float64 reference');
  const L = keep(sn.logSoftmax(X));
  assert.close(await L.data(), Array.from(want, Math.log), 1e-4, 'logSoftmax vs log(softmax)');
});

perBackend('sum (all, axis 0, axis 1, method) and argmax', async ({ sn, keep }) => {
  const X = keep(sn.tensor([[1, 5, 2], [7, 0, 3]]));
  const all = keep(sn.sum(X));
  assert.equal(all.size, 1, 'sum(x).size');
  assert.close(await all.data(), [18], 0, 'sum(x)');
  const s0 = keep(sn.sum(X, 0));
  assert.shape(s0, [3], 'sum(x, 0) shape');
  assert.close(await s0.data(), [8, 5, 5], 0, 'sum(x, 0)');
  const s1 = keep(X.sum(1));
  assert.shape(s1, [2], 'x.sum(1) shape');
  assert.close(await s1.data(), [8, 10], 0, 'x.sum(1)');
  const am = keep(sn.argmax(X, 1));
  assert.shape(am, [2], 'argmax(x, 1) shape');
  assert.deepEqual(Array.from(await am.data(), Number), [1, 0], 'argmax(x, 1)');
});

perBackend('memory().tensors returns to its start after tidy() and dispose()', async ({ sn }) => {
  const start = sn.memory();
  assert.equal(typeof start.tensors, 'number', 'typeof memory().tensors');
  assert.equal(typeof start.bytes, 'number', 'typeof memory().bytes');
  const kept = sn.tidy(() => {
    const a = sn.tensor(randomF32(8 * 8, 7), [8, 8]);
    const b = a.matmul(a).relu().add(a); // intermediates that tidy must free
    return sn.sum(b, 1);
  });
  assert.equal(sn.memory().tensors, start.tensors + 1, 'memory().tensors after tidy returning one tensor');
  assert.shape(kept, [8], 'shape of the tensor tidy returned');
  kept.dispose();
  const end = sn.memory();
  assert.equal(end.tensors, start.tensors, 'memory().tensors after dispose');
  assert.equal(end.bytes, start.bytes, 'memory().bytes after dispose');
  const t = sn.tensor([1, 2, 3]);
  assert.equal(sn.memory().tensors, start.tensors + 1, 'memory().tensors after tensor()');
  t.dispose();
  assert.equal(sn.memory().tensors, start.tensors, 'memory().tensors after a plain dispose');
});

perBackend('a shape mismatch throws an Error naming the op', async ({ sn, keep }) => {
  const A = keep(sn.tensor(randomF32(3 * 4, 8), [3, 4]));
  const B = keep(sn.tensor(randomF32(5 * 2, 9), [5, 2]));
  await assert.throws(() => keep(sn.matmul(A, B)), /\bmatmul\b/i, 'matmul([3,4], [5,2])');
  await assert.throws(() => keep(sn.add(A, B)), /\badd\b/i, 'add([3,4], [5,2])');
});

perBackend('training: readCsv → split → standardize → fit → save → load → predict (3 blobs, accuracy ≥ 0.9)', async ({ sn, keep }) => {
  // Three separable clusters in 4-D as CSV text with a categorical target: exercises the CSV parser,
  // the scaler, the compiled training plan, the optimizer kernels and the model file in this runtime.
  const centers = [[0, 0, 0, 0], [3, 3, 0, 0], [0, 3, 3, 3]];
  const noise = randomF32(150 * 4, 21);
  const lines = ['a,b,c,d,kind'];
  for (let i = 0; i < 150; i++) {
    const k = i % 3;
    lines.push([...centers[k].map((c, j) => (c + noise[i * 4 + j]).toFixed(4)), ['left', 'mid', 'right'][k]].join(','));
  }
  const ds = await sn.data.readCsv(lines.join('\n'), { target: 'kind' });
  keep(ds.x); keep(ds.y);
  assert.deepEqual(ds.classes, ['left', 'mid', 'right'], 'classes');
  const parts = sn.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed: 1 });
  for (const p of [parts.train.x, parts.train.y, parts.test.x, parts.test.y]) keep(p);
  const model = sn.mlp([4, 16, 3], { seed: 3 });
  model.preprocessing = { scaler: sn.data.standardize(parts.train.x), classes: ds.classes, columns: ds.columns };
  const optimizer = sn.optimizers.adam({ lr: 0.02 });
  try {
    const h = await model.fit(parts.train.x, parts.train.y, { loss: 'softmaxCrossEntropy', optimizer, epochs: 15, batchSize: 16 });
    assert.ok(h.loss[h.loss.length - 1] < h.loss[0], `loss fell: ${h.loss[0]} → ${h.loss[h.loss.length - 1]}`);
    const accuracy = async (m) => {
      const p = await keep(m.predict(parts.test.x)).data();
      const y = await parts.test.y.data();
      let hits = 0;
      for (let i = 0; i < y.length; i++) {
        let best = 0;
        for (let c = 1; c < 3; c++) if (p[i * 3 + c] > p[i * 3 + best]) best = c;
        if (best === y[i]) hits++;
      }
      return hits / y.length;
    };
    const acc = await accuracy(model);
    assert.ok(acc >= 0.9, `test accuracy ${acc} ≥ 0.9`);
    const back = await sn.load(sn.save(model));
    try {
      assert.deepEqual(back.preprocessing.classes, ['left', 'mid', 'right'], 'loaded classes');
      assert.equal(await accuracy(back), acc, 'loaded model accuracy');
    } finally { back.dispose(); }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  // The data helpers read synchronously; webgpu trains through its own case (webgpu.mjs).
}, { when: (opts, backend) => backend !== 'webgpu' });

/**
 * The outputs of an int8 model file for rows x, computed in plain JS from the file alone (the format and
 * arithmetic README.md and src/core/backend.ts's QGemmArgs describe): each qlinear layer quantizes its
 * input to bytes clamp(nearest(x·(1/inputScale)) + inputZero, 0, 127), sums bytes × int8 weights exactly,
 * adds the int32 bias (float bias / column scale, rounded, minus the zero point's share), multiplies by
 * the column scale (inputScale·weight_scale) and applies relu; every float step rounds to float32 once.
 */
function int8Reference(bytes, x, rows) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const tensor = (name, Ctor) => {
    const [b, e] = header[name].data_offsets;
    return new Ctor(bytes.slice(8 + n + b, 8 + n + e).buffer);
  };
  const f = Math.fround;
  const nearest = (t) => { const r = Math.round(t); return r - t === 0.5 && r % 2 !== 0 ? r - 1 : r; };
  let h = Array.from(x);
  JSON.parse(header.__metadata__.topology).layers.forEach((c, i) => {
    if (c.type !== 'qlinear') throw new Error(`int8Reference reads qlinear layers, not ${c.type}`);
    const w = tensor(`layers.${i}.weight`, Int8Array), ws = tensor(`layers.${i}.weight_scale`, Float32Array);
    const fb = c.bias ? tensor(`layers.${i}.bias`, Float32Array) : null;
    const k = c.inFeatures, m = c.outFeatures, inv = f(1 / c.inputScale);
    const q = h.map((v) => { const r = nearest(f(v * inv)); return Math.min(127, Math.max(0, (r !== r ? 0 : r) + c.inputZero)); });
    const out = new Array(rows * m);
    for (let j = 0; j < m; j++) {
      const scale = f(c.inputScale * ws[j]);
      let colSum = 0;
      for (let p = 0; p < k; p++) colSum += w[p * m + j];
      const bias = (fb ? Math.max(-(2 ** 30), Math.min(2 ** 30, nearest(fb[j] / scale))) : 0) - c.inputZero * colSum;
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += q[r * k + p] * w[p * m + j];
        const v = f(f(acc + bias) * scale);
        out[r * m + j] = c.activation === 'relu' ? (v > 0 ? v : 0) : v;
      }
    }
    h = out;
  });
  return Float32Array.from(h);
}

perBackend('int8: quantize → predict equals a plain-JS reference of the saved file bit for bit; load → the same bits', async ({ sn, keep }) => {
  const model = sn.mlp([12, 24, 20, 5], { seed: 4 });
  const q = sn.quantize(model, { weights: 'int8', calibration: keep(sn.tensor(randomF32(40 * 12, 5), [40, 12])) });
  try {
    const x = randomF32(9 * 12, 6).map((v) => 1.3 * v); // partly outside the calibrated range: clamping too
    const got = await keep(q.predict(keep(sn.tensor(x, [9, 12])))).data();
    const bytes = sn.save(q);
    const want = int8Reference(bytes, x, 9);
    const bits = (a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    assert.deepEqual(bits(got), bits(want), 'int8 outputs (float32 bits)');
    const back = await sn.load(bytes);
    try {
      assert.deepEqual(bits(await keep(back.predict(keep(sn.tensor(x, [9, 12])))).data()), bits(want), 'loaded int8 outputs');
    } finally { back.dispose(); }
  } finally {
    q.dispose();
    model.dispose();
  }
}, { when: (opts, backend) => backend !== 'webgpu' }); // webgpu has no int8 kernels (quantize() says so)

// ---------------------------------------------------------------------------------------------

// What the per-backend cases run on: a backend name, or {backend, label, options (more init
// options), binary (a RegExp info().binary must match), when(features, opts) (run only if true)}. Every runtime tested has Wasm SIMD, and
// Chromium, Deno and Node (which the runtime flags itself) validate relaxed SIMD, so 'wasm' runs
// the relaxed kernels; the second wasm entry makes the plain-SIMD build meet every runtime too.
// wasm-threads runs where info().features.threads (Node, Deno, a cross-origin-isolated page).
export const DEFAULT_BACKENDS = [
  'js',
  { backend: 'wasm', binary: /^relaxed$/ },
  { backend: 'wasm', label: 'wasm(simd)', options: { relaxedSimd: false }, binary: /^simd$/ },
  { backend: 'wasm-threads', binary: /^relaxed-shared$/, when: (features) => features.threads },
];

/**
 * Runs every case. `log` receives one line per case (and a few notes).
 * @param {any} sn  the simdnn module namespace (dist/index.js)
 * @param {(line: string) => void} [log]
 * @param {SmokeOptions} [opts]
 * @returns {Promise<{passed: number, failed: number, names: string[], failures: {name: string, message: string}[]}>}
 */
export async function run(sn, log = (l) => console.log(l), opts = {}) {
  opts = { runtime: detectRuntime(), backends: DEFAULT_BACKENDS, ...opts };
  const result = { passed: 0, failed: 0, names: [], failures: [] };
  const record = (name, err) => {
    result.names.push(name);
    if (err) {
      result.failed++;
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      result.failures.push({ name, message });
      log(`not ok - ${name}\n    ${message.replace(/\n/g, '\n    ')}`);
    } else {
      result.passed++;
      log(`ok - ${name}`);
    }
  };
  const attempt = async (name, fn) => {
    try { await fn(); record(name); } catch (e) { record(name, e); }
  };

  // when(opts, backend): per-backend cases also learn the backend (webgpu.mjs registers webgpu-only ones).
  const applies = (c, backend) => !c.when || c.when(opts, backend);
  if (opts.once !== false) for (const c of onceCases.filter((c) => applies(c))) await attempt(c.name, () => c.fn({ sn, opts, assert, log }));

  for (const variant of opts.backends) {
    const v = typeof variant === 'string' ? { backend: variant } : variant;
    const { backend, label = backend, options = {}, binary, when } = v;
    if (when && !when(sn.info().features, opts)) { log(`# ${label}: not available here`); continue; }
    let ready = false;
    await attempt(`${label}: init(${JSON.stringify({ backend, ...options })})`, async () => {
      const info = await sn.init({ backend, ...options });
      assert.equal(info?.backend, backend, 'init() result .backend');
      log(`# ${label}: binary=${info.binary ?? 'none'}${info.notes?.length ? ' notes=' + JSON.stringify(info.notes) : ''}`);
      if (binary) assert.ok(binary.test(String(info.binary)), `info().binary ${fmt(info.binary)} does not match ${binary}`);
      ready = true;
    });
    if (!ready) { log(`# ${label}: skipping its cases (init failed)`); continue; }
    for (const c of backendCases.filter((c) => applies(c, backend))) {
      const kept = [];
      const keep = (t) => { kept.push(t); return t; };
      await attempt(`${label}: ${c.name}`, async () => {
        try { await c.fn({ sn, backend, opts, assert, keep, log }); }
        finally { for (const t of kept) { try { t.dispose(); } catch { /* already disposed */ } } }
      });
    }
  }
  return result;
}
