// sgemm throughput of the wasm kernels (assembly/gemm.ts), in GFLOP/s: single thread, and through the
// wasm-threads backend on 1 and 2 threads (its tile function splits rows or columns of C over workers).
//
//   npm run bench:gemm                 full table (~40 s)
//   npm run bench:gemm -- --quick      smaller sizes, fewer samples (~10 s)
//   npm run bench:gemm -- --cpu        time with process CPU time instead of wall clock
//                                      (steadier on a shared machine; same numbers when idle;
//                                      threaded columns keep the wall clock: CPU time sums threads)
//   npm run bench:gemm -- --no-threads skip the threaded columns
//
// Rows are square products in every form and the layers of the 784-512-256-10 MLP at batch 128
// (forward with its bias+relu epilogue, and both backward products). Columns are backends: each
// is an object { name, init(), prepare(form, m, n, k, epilogue) }, so a threaded backend adds a
// column by pushing one more object onto `backends` (see the bottom of this file).
import v8 from 'node:v8';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadOpTable } from '../scripts/gen-optable.mjs';

// Node 20 validates relaxed SIMD only behind this flag; it must be set before any compile.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = fileURLToPath(new URL('..', import.meta.url));
const { Unary } = await loadOpTable(root);
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const cpuClock = argv.includes('--cpu');
const SAMPLES = quick ? 5 : 7;
const SAMPLE_MS = quick ? 8 : 30;

const FORMS = ['nn', 'nt', 'tn', 'tt'];
const SQUARES = quick ? [64, 128, 256, 512] : [64, 128, 256, 512, 1024];
const BATCH = 128;
const LAYERS = [[784, 512], [512, 256], [256, 10]];

/** Rows of the table: {label, form, m, n, k, epilogue}. */
function rows() {
  const out = [];
  for (const N of SQUARES) for (const form of FORMS) out.push({ label: `${N}×${N}·${N}×${N}`, form, m: N, n: N, k: N, epilogue: 'none' });
  for (const [fin, fout] of LAYERS) {
    const hidden = fout !== 10;
    out.push({ label: `Y = X·W    ${BATCH}×${fin}·${fin}×${fout}`, form: 'nn', m: BATCH, n: fout, k: fin, epilogue: hidden ? 'bias+relu' : 'bias' });
    out.push({ label: `dX = dY·Wᵀ ${BATCH}×${fout}·${fout}×${fin}`, form: 'nt', m: BATCH, n: fin, k: fout, epilogue: 'none' });
    out.push({ label: `dW = Xᵀ·dY ${fin}×${BATCH}·${BATCH}×${fout}`, form: 'tn', m: fin, n: fout, k: BATCH, epilogue: 'none' });
  }
  return out;
}

const wallNow = () => performance.now();
function clockNow() {
  if (!cpuClock) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Median seconds per call: warm-up, then SAMPLES timed batches of at least SAMPLE_MS each. */
function timeCall(run, now = clockNow) {
  run(); run();
  let reps = 1;
  for (;;) {
    const t = now();
    for (let i = 0; i < reps; i++) run();
    if (now() - t >= SAMPLE_MS || reps >= 1 << 20) break;
    reps *= 2;
  }
  const samples = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = now();
    for (let i = 0; i < reps; i++) run();
    samples.push((now() - t) / reps / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

/** The bytes of one kernel module (an asconfig.json target: 'simd', the core, or 'relaxed-gemm'), built when missing. */
function loadModule(target) {
  const t = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')).targets[target];
  const file = join(root, t.outFile);
  if (!existsSync(file)) {
    console.log(`(building ${file})`);
    execFileSync('npx', ['asc', t.entry, '--target', target], { cwd: root, stdio: 'inherit' });
  }
  return readFileSync(file);
}

/**
 * The exports of a build as the runtime puts it together (src/backend/wasm/backend.ts): 'simd' is the
 * core module; 'relaxed' the core plus the relaxed gemm module on the same memory, whose gemm exports
 * replace the core's (it imports the core's f32_unary for its activation epilogue).
 */
async function instantiateBuild(build, memory) {
  const core = (await WebAssembly.instantiate(loadModule('simd'), { env: { memory } })).instance.exports;
  if (build === 'simd') return core;
  const gemm = (await WebAssembly.instantiate(loadModule('relaxed-gemm'), { env: { memory, f32_unary: core.f32_unary } })).instance.exports;
  return { ...core, ...gemm };
}

/** Whether a build validates here. */
const validates = (build) => WebAssembly.validate(loadModule('simd')) && (!build.startsWith('relaxed') || WebAssembly.validate(loadModule('relaxed-gemm')));

/** One wasm build ('simd' or 'relaxed'), run on the calling thread. */
function wasmBackend(name, target) {
  let ex, memory, top0, top;
  const alloc = (bytes) => {
    const p = top;
    top = (top + bytes + 16 + 15) & ~15; // 16-byte tail pad, 16-byte alignment
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
    if (need > 0) memory.grow(need);
    return p;
  };
  return {
    name,
    /** Returns null when ready, else why this column is empty. */
    async init() {
      if (!validates(target)) return 'does not validate here';
      memory = new WebAssembly.Memory({ initial: 256, maximum: 65536 });
      ex = await instantiateBuild(target, memory);
      top0 = (ex.heap_base() + 15) & ~15;
      if (!checkSmall(this)) return 'WRONG RESULTS';
      // V8 starts wasm in its baseline compiler and swaps in optimized code in the background:
      // run every path (square, thin m, thin n) for a while first so no sample times the switch.
      const until = performance.now() + (quick ? 150 : 300);
      while (performance.now() < until) {
        for (const form of FORMS) for (const [m, n, k] of [[96, 96, 96], [1, 64, 64], [64, 10, 64]]) this.prepare(form, m, n, k, 'bias+relu').run();
      }
      return null;
    },
    /** Buffers for one product; returns the call to time. */
    prepare(form, m, n, k, epilogue) {
      top = top0;
      const ta = form[0] === 't', tb = form[1] === 't';
      const lda = ta ? m : k, ldb = tb ? k : n;
      const a = alloc(m * k * 4), b = alloc(k * n * 4), c = alloc(m * n * 4), bias = alloc(n * 4);
      const ws = alloc(ex.f32_gemm_workspace(m, n, k));
      const h = new Float32Array(memory.buffer);
      fill(h.subarray(a >> 2, (a >> 2) + m * k), 1);
      fill(h.subarray(b >> 2, (b >> 2) + k * n), 2);
      fill(h.subarray(bias >> 2, (bias >> 2) + n), 3);
      const fn = ex[`f32_gemm_${form}`];
      const biasPtr = epilogue === 'none' ? 0 : bias;
      const act = epilogue === 'bias+relu' ? Unary.relu : Unary.identity;
      return {
        run: () => fn(m, n, k, a, lda, b, ldb, c, n, biasPtr, act, 0, 0, ws),
        result: () => new Float32Array(memory.buffer, c, m * n).slice(),
        inputs: () => ({ a: new Float32Array(memory.buffer, a, m * k).slice(), b: new Float32Array(memory.buffer, b, k * n).slice() }),
      };
    },
  };
}

function fill(view, seed) {
  let s = seed * 2654435761 >>> 0;
  for (let i = 0; i < view.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    view[i] = s / 4294967296 - 0.5;
  }
}

/** Guards against timing a broken build: one odd-sized product per form against float64. */
function checkSmall(backend) {
  const m = 37, n = 29, k = 45;
  for (const form of FORMS) {
    const p = backend.prepare(form, m, n, k, 'none');
    p.run();
    const c = p.result(), { a, b } = p.inputs();
    const ta = form[0] === 't', tb = form[1] === 't';
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
      if (Math.abs(c[i * n + j] - s) > 1e-4) return false;
    }
  }
  return true;
}

/**
 * The wasm-threads backend (src/backend/threads, bundled on the fly by bench/threads.mjs) on `threads`
 * threads: its gemm() splits C into row or column tiles that the calling thread and the workers claim.
 * Timed on the wall clock whatever --cpu says.
 */
function threadsBackend(name, target, threads) {
  let b, held = [];
  return {
    name,
    wall: true,
    async init() {
      if (!validates(target)) return 'does not validate here';
      const { WasmThreadsBackend } = await (threadsModule ??= import('./threads.mjs').then((m) => m.loadThreads()));
      b = await WasmThreadsBackend.create({ binary: target, threads });
      await b.startWorkers(); // now, not after its first 20 ms of work
      if (b.build !== target) return `runs ${b.build} instead: ${b.notes.join('; ')}`;
      if (!checkSmall(this)) return 'WRONG RESULTS';
      const until = performance.now() + (quick ? 150 : 300);
      while (performance.now() < until) {
        for (const form of FORMS) for (const [m, n, k] of [[96, 96, 96], [1, 64, 64], [64, 10, 64], [256, 256, 64]]) this.prepare(form, m, n, k, 'bias+relu').run();
      }
      return null;
    },
    prepare(form, m, n, k, epilogue) {
      for (const h of held) b.free(h);
      const put = (size, seed) => {
        const v = new Float32Array(size);
        fill(v, seed);
        const h = b.alloc(size);
        b.write(h, v);
        return h;
      };
      const a = put(m * k, 1), bb = put(k * n, 2), c = b.alloc(m * n), bias = put(n, 3);
      held = [a, bb, c, bias];
      const args = { m, n, k, a, transA: form[0] === 't', b: bb, transB: form[1] === 't', c, bias: epilogue === 'none' ? null : bias, act: epilogue === 'bias+relu' ? Unary.relu : Unary.identity, alpha: 0, beta: 0 };
      return {
        run: () => b.gemm(args),
        result: () => b.readSync(c, m * n),
        inputs: () => ({ a: b.readSync(a, m * k), b: b.readSync(bb, k * n) }),
      };
    },
  };
}
let threadsModule;

const backends = [wasmBackend('simd', 'simd'), wasmBackend('relaxed', 'relaxed')];
if (!argv.includes('--no-threads')) backends.push(threadsBackend('relaxed×1', 'relaxed-shared', 1), threadsBackend('relaxed×2', 'relaxed-shared', 2));

const t0 = performance.now();
const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown cpu';
console.log(`simdnn gemm bench: GFLOP/s, median of ${SAMPLES}${cpuClock ? ' (CPU time; threaded columns wall clock)' : ''}${quick ? ', quick' : ''}; ×N = wasm-threads on N threads`);
console.log(`${cpu}, ${os.cpus().length} logical cores, Node ${process.version}, V8 ${process.versions.v8}\n`);

const live = [];
for (const be of backends) {
  const why = await be.init();
  if (why) console.log(`${be.name}: ${why}, column left empty`);
  live.push(!why);
}

const W = 40;
const ratioCol = backends.findIndex((b) => b.name === 'relaxed×1'), ratioOf = backends.findIndex((b) => b.name === 'relaxed×2');
const withRatio = ratioCol >= 0 && ratioOf >= 0;
console.log('product'.padEnd(W) + 'form  epilogue   ' + backends.map((b) => b.name.padStart(11)).join('') + (withRatio ? '  ×2/×1'.padStart(9) : ''));
let lastGroup = '';
for (const r of rows()) {
  const group = r.label.includes('=') ? 'mlp' : 'square';
  if (group !== lastGroup && lastGroup) console.log('');
  lastGroup = group;
  const gflops = backends.map((be, i) => {
    if (!live[i]) return NaN;
    const { run } = be.prepare(r.form, r.m, r.n, r.k, r.epilogue);
    const sec = timeCall(run, be.wall ? wallNow : clockNow);
    return 2 * r.m * r.n * r.k / sec / 1e9;
  });
  const cells = gflops.map((g) => (Number.isNaN(g) ? '-' : g.toFixed(1)).padStart(11));
  const ratio = withRatio && !Number.isNaN(gflops[ratioCol] * gflops[ratioOf]) ? `${(gflops[ratioOf] / gflops[ratioCol]).toFixed(2)}×`.padStart(9) : '';
  console.log(r.label.padEnd(W) + r.form.padEnd(6) + r.epilogue.padEnd(11) + cells.join('') + ratio);
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
