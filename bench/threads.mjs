// The wasm-threads backend: what threads buy, measured on this machine.
//
//   node bench/threads.mjs            MLP training 784-512-256-10, batch 128, adam, synthetic data:
//                                     samples/s on wasm, and on wasm-threads with 1 and 2 threads
//   node bench/threads.mjs --grain    the dispatch cost and, per kind of kernel, the size from which
//                                     splitting over 2 threads beats one thread (the grains in
//                                     src/backend/threads/backend.ts come from this)
//   --quick                           fewer samples; --threads=1,2,3 other thread counts
//   --busy=N                          N busy-looping processes run beside the MLP training, as other work
//                                     on a loaded machine does (the threads backend then runs calls that
//                                     recur on the calling thread alone when that is faster)
//
// It runs the sources (src/), bundled on the fly with esbuild into .tmp/bench-threads/ (index.js, the
// threads backend and worker.js side by side, as in dist/), so it needs no `npm run build`.
// Every figure is a median of several runs; the machine should be otherwise idle.
import v8 from 'node:v8';
import os from 'node:os';
import { mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

// Node 20 validates relaxed SIMD only behind this flag; it must be set before any compile.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles src/index.ts, the threads backend and its worker into .tmp/bench-threads/ and imports them:
 * { sn: the public API, WasmThreadsBackend, WasmBackend }. bench/gemm.mjs uses it too.
 */
export async function loadThreads() {
  const esbuild = await import('esbuild');
  const { wasmInline } = await import('../scripts/wasm-inline.mjs');
  const outdir = join(root, '.tmp', 'bench-threads');
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', plugins: [wasmInline()], charset: 'utf8',
    external: ['node:*'], mainFields: ['module', 'main'], logLevel: 'warning', absWorkingDir: root,
    entryPoints: { index: 'src/index.ts', threads: 'src/backend/threads/backend.ts', wasm: 'src/backend/wasm/backend.ts', worker: 'src/backend/threads/worker.ts', optable: 'src/core/optable.ts' },
    // Each entry is a bundle of its own: each installs where its copy of the backends finds the kernel bytes.
    inject: ['src/runtime/kernels.ts'],
    outdir,
  });
  const url = (f) => pathToFileURL(join(outdir, f)).href;
  const [sn, threads, wasm, optable] = await Promise.all([import(url('index.js')), import(url('threads.js')), import(url('wasm.js')), import(url('optable.js'))]);
  return { sn, WasmThreadsBackend: threads.WasmThreadsBackend, WasmBackend: wasm.WasmBackend, optable };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median seconds per call of fn: batches of at least minMs, `samples` of them. */
function timeCall(fn, samples, minMs = 20) {
  fn(); fn();
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t >= minMs || reps >= 1 << 20) break;
    reps *= 2;
  }
  const xs = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    xs.push((performance.now() - t) / reps / 1000);
  }
  return median(xs);
}

function rand(n, seed, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return a;
}

// ---- MLP training ----------------------------------------------------------------------------
async function mlp({ sn }, threadCounts, quick) {
  const SIZES = [784, 512, 256, 10], BATCH = 128, N = quick ? 1024 : 2048, RUNS = quick ? 3 : 7;
  const xs = rand(N * 784, 1, 0, 1);
  const ys = Float32Array.from({ length: N }, (_, i) => (i * 7919) % 10);
  const variants = [{ label: 'wasm', options: { backend: 'wasm' } }, ...threadCounts.map((t) => ({ label: `wasm-threads ×${t}`, options: { backend: 'wasm-threads', threads: t } }))];
  console.log(`MLP ${SIZES.join('-')}, batch ${BATCH}, adam, ${N} synthetic samples per epoch: samples/s, median of ${RUNS} epochs`);
  const rows = [];
  for (const v of variants) {
    let info;
    try {
      info = await sn.init(v.options);
    } catch (e) {
      console.log(`  ${v.label.padEnd(18)} could not start: ${e.message}`);
      continue;
    }
    const x = sn.tensor(xs, [N, 784]), y = sn.tensor(ys);
    const model = sn.mlp(SIZES, { seed: 1 });
    const opts = { loss: 'softmaxCrossEntropy', optimizer: sn.optimizers.adam({ lr: 1e-3 }), epochs: 1, batchSize: BATCH, shuffle: false, yieldEvery: 1e9 };
    await model.fit(x, y, opts); // warm-up: compile tiers, plan, workspaces
    const rates = [];
    for (let r = 0; r < RUNS; r++) {
      const h = await model.fit(x, y, opts);
      rates.push(N / (h.ms / 1000));
    }
    const rate = median(rates);
    rows.push({ label: v.label, rate, threads: info.threads });
    console.log(`  ${v.label.padEnd(18)} ${rate.toFixed(0).padStart(7)} samples/s   (${info.binary}; runs ${rates.map((r) => r.toFixed(0)).join(' ')})`);
    model.dispose();
    sn.dispose([x, y]);
  }
  sn.shutdown();
  const one = rows.find((r) => r.label === 'wasm-threads ×1') ?? rows.find((r) => r.label === 'wasm');
  for (const r of rows) if (r.threads > 1 && one) console.log(`  speedup ${r.label} / ${one.label}: ${(r.rate / one.rate).toFixed(2)}×`);
}

// ---- grains: where splitting starts to pay -----------------------------------------------------
async function grains({ WasmThreadsBackend, optable }, quick) {
  const S = quick ? 3 : 5;
  const { Binary, Optim, Unary, HYPER } = optable;
  // adam's named scalars (the op table's layout), as the optimizer writes them.
  const adamHyper = [];
  for (const [f, v] of Object.entries({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: 0, bc1: 0.1, bc2: 0.01, l1: 0, gscale: 1, amsgrad: 0 })) adamHyper[HYPER.adam[f]] = v;
  const binary = 'relaxed-shared'; // validates here: the V8 flag is set above
  const one = await WasmThreadsBackend.create({ binary, threads: 1 });
  // Split everything (no threshold), with the production tile shapes, always shared with the worker.
  const two = await WasmThreadsBackend.create({ binary, threads: 2, grain: { mem: 1, math: 1, optim: 1, gemm: 1, adapt: false } });
  await two.startWorkers(); // now, not after its first 20 ms of work
  const big = 1 << 21;
  const alloc = (b, n, seed) => { const h = b.alloc(n); b.write(h, rand(n, seed, 0.1, 1)); return h; };
  const bufs = (b) => ({ x: alloc(b, big, 1), y: alloc(b, big, 2), z: alloc(b, big, 3), w: alloc(b, big, 4), v: alloc(b, 2 * big, 5) });
  const B1 = bufs(one), B2 = bufs(two);

  // Dispatch cost: a job of two tiny tiles, workers spinning (back to back) and asleep (after a pause).
  const tiny = () => two.fill(64, B2.x, 1);
  const hot = timeCall(tiny, S) * 1e6;
  const coldSamples = [];
  for (let i = 0; i < (quick ? 20 : 60); i++) {
    const until = performance.now() + 3; // longer than the workers' spin: they are asleep
    while (performance.now() < until);
    const t = performance.now();
    tiny();
    coldSamples.push((performance.now() - t) * 1000);
  }
  console.log(`dispatch (2 threads, a 64-element fill split in 2): ${hot.toFixed(1)} µs with the worker spinning, ${median(coldSamples).toFixed(1)} µs when it must be woken`);

  const kinds = [
    ['mem: affine', 'mem', (b, B, n) => () => b.affine(n, B.x, B.y, 1.5, 0.5)],
    ['mem: binary add', 'mem', (b, B, n) => () => b.binary(Binary.add, 1, 1, n, B.x, { s0: 0, s1: 0, s2: 1 }, B.y, { s0: 0, s1: 0, s2: 1 }, B.z)],
    ['math: unary tanh', 'math', (b, B, n) => () => b.unary(Unary.tanh, n, B.x, B.y, 0)],
    ['math: softmax ×100 cols', 'math', (b, B, n) => () => b.softmax(Math.max(1, n / 100 | 0), 100, B.x, B.y, false)],
    ['optim: adam', 'optim', (b, B, n) => () => b.optimStep(Optim.adam, n, B.x, B.y, B.z, B.v, adamHyper)],
  ];
  const sizes = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 1 << 20];
  console.log(`\nper-call time, 1 thread vs 2 threads split at every size (µs); the grain is about half the first size where 2 threads win clearly\n${'kernel'.padEnd(26)}${sizes.map((n) => String(n).padStart(16)).join('')}`);
  for (const [label, , make] of kinds) {
    const cells = sizes.map((n) => {
      const t1 = timeCall(make(one, B1, n), S, 10) * 1e6, t2 = timeCall(make(two, B2, n), S, 10) * 1e6;
      return `${t1.toFixed(1)}/${t2.toFixed(1)}${t2 < t1 * 0.8 ? '*' : ' '}`.padStart(16);
    });
    console.log(label.padEnd(26) + cells.join(''));
  }
  const shapes = [[32, 32, 32], [64, 64, 64], [96, 96, 96], [128, 128, 128], [128, 64, 128], [128, 10, 256], [256, 128, 128], [256, 256, 256]];
  console.log(`\ngemm nn per call, 1 vs 2 threads (µs; * where 2 threads win by > 20%)`);
  for (const [m, n, k] of shapes) {
    const a1 = alloc(one, m * k, 7), b1 = alloc(one, k * n, 8), c1 = one.alloc(m * n);
    const a2 = alloc(two, m * k, 7), b2 = alloc(two, k * n, 8), c2 = two.alloc(m * n);
    const g = (a, b, c) => ({ m, n, k, a, transA: false, b, transB: false, c, bias: null, act: Unary.identity, alpha: 0, beta: 0 });
    const t1 = timeCall(() => one.gemm(g(a1, b1, c1)), S, 10) * 1e6, t2 = timeCall(() => two.gemm(g(a2, b2, c2)), S, 10) * 1e6;
    console.log(`  ${`${m}×${n}×${k}`.padEnd(14)} ${(2 * m * n * k / 1e6).toFixed(2).padStart(7)} MFLOP  ${t1.toFixed(1).padStart(8)} / ${t2.toFixed(1).padStart(8)}${t2 < t1 * 0.8 ? ' *' : ''}`);
  }
  one.dispose();
  two.dispose();
}

// ---- main ------------------------------------------------------------------------------------
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const threadCounts = (argv.find((a) => a.startsWith('--threads='))?.split('=')[1] ?? '1,2').split(',').map(Number);
  const t0 = performance.now();
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown cpu';
  console.log(`simdnn threads bench: ${cpu}, ${os.availableParallelism?.() ?? os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const mod = await loadThreads();
  const busy = Number(argv.find((a) => a.startsWith('--busy='))?.split('=')[1] ?? 0);
  const hogs = Array.from({ length: busy }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
  if (busy) console.log(`${busy} busy-looping process${busy === 1 ? '' : 'es'} running beside the benchmark\n`);
  try {
    if (argv.includes('--grain')) await grains(mod, quick);
    else await mlp(mod, threadCounts, quick);
  } finally {
    for (const h of hogs) h.kill();
  }
  console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
