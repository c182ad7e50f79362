// The wasm-threads backend beyond the shared conformance suite (test/conformance.test.ts runs it with 1, 2
// and 3 threads through candidates()): threaded results are
// bit-identical to one thread on the same kernel build, init() options and notes, and the lifecycle —
// workers that start in the background after init() (or never, for a short process), shutdown, re-init,
// a process (Node or Deno) that forgets to shut down, a worker script that is not simdnn's, a worker that
// dies or hangs mid-job.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import type { Backend } from '../src/core/backend.js';
import { WasmThreadsBackend } from '../src/backend/threads/backend.js';
import { Adapt, MAX_TRY, WINDOW } from '../src/backend/threads/adapt.js';
import { WasmBackend } from '../src/backend/wasm/backend.js';
import { engine } from '../src/core/engine.js';
import { detectFeatures } from '../src/backend/features.js';
import { ACTIVATIONS, Binary, LabelMode, Optim, Reduce, Unary, activationOp, paramOf, type OptimCode } from '../src/core/optable.js';
import { hyper, put, rng, threadsAvailable, threadsWorkerUrl } from './helpers.js';

const available = await threadsAvailable();
const features = await detectFeatures([], true);
const shared = features.relaxedSimd ? 'relaxed-shared' : 'simd-shared';
// Deno comes with the devDependencies (npm 'deno'); else the one on PATH.
const localDeno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
const deno = existsSync(localDeno) ? localDeno : 'deno';

/** Same bits: threads change who computes an element, never how. */
function sameBits(got: Float32Array, want: Float32Array, what: string) {
  expect(got.length, what).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length), w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let bad = -1;
  for (let i = 0; i < w.length; i++) if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) { bad = i; break; }
  expect(bad < 0 ? '' : `${what}: element ${bad} is ${got[bad]}, single thread ${want[bad]}`).toBe('');
}

describe.runIf(available)('wasm-threads results are bit-identical to one thread on the same build', () => {
  let one: Backend;
  const many: [string, WasmThreadsBackend][] = [];
  beforeAll(async () => {
    one = await WasmBackend.create({ binary: shared });
    const workerUrl = await threadsWorkerUrl();
    many.push(['2 threads', await WasmThreadsBackend.create({ binary: shared, threads: 2, workerUrl })]);
    many.push(['3 threads', await WasmThreadsBackend.create({ binary: shared, threads: 3, workerUrl })]);
    for (const [, b] of many) {
      await b.startWorkers();
      expect(b.pool).toBe('running');
    }
  });
  afterAll(() => {
    for (const [, b] of many) b.dispose();
  });

  /** Runs f on the single-thread backend and on each threaded one; compares the outputs bit for bit. */
  function agree(what: string, inputs: Float32Array[], outSizes: number[], f: (b: Backend, ins: unknown[], outs: unknown[]) => void) {
    const run = (b: Backend) => {
      const ins = inputs.map((x) => put(b, x));
      const outs = outSizes.map((n) => put(b, new Float32Array(n).fill(0.5)));
      f(b, ins, outs);
      return outs.map((h, i) => b.readSync(h, outSizes[i]));
    };
    const want = run(one);
    for (const [name, b] of many) {
      const got = run(b);
      got.forEach((g, i) => sameBits(g, want[i], `${what} on ${name}, output ${i}`));
    }
  }

  it('gemm in all four forms, row and column tiles, with bias, activation and accumulation', () => {
    const r = rng(11);
    // Shapes over the threading threshold: square, MLP layers, thin m, thin n, sizes off every tile edge.
    const shapes = [[256, 256, 256], [128, 512, 784], [128, 784, 512], [784, 512, 128], [512, 10, 784], [4, 2048, 1024], [2048, 4, 512],
      [24, 1000, 400], [40, 300, 500], [300, 40, 500], [333, 129, 257], [64, 1000, 33], [130, 70, 90]];
    for (const [m, n, k] of shapes)
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        const op = activationOp(ACTIVATIONS[r.int(ACTIVATIONS.length)]), beta = (r.int(2) as 0 | 1), withBias = r.next() < 0.7;
        agree(`gemm ${ta ? 't' : 'n'}${tb ? 't' : 'n'} ${m}×${n}×${k} ${op} beta ${beta}`, [r.array(m * k), r.array(k * n), r.array(n)], [m * n], (b, [a, bb, bias], [c]) =>
          b.gemm({ m, n, k, a, transA: ta, b: bb, transB: tb, c, bias: withBias ? bias : null, act: Unary[op], alpha: 1.3 * paramOf(op), beta }));
      }
  });

  it('elementwise, binary, reductions, softmax, losses, gather, dropout, noise and optimizer steps', () => {
    const r = rng(12);
    const N = 200_003; // over every grain, not a multiple of any alignment
    const x = r.array(N, -4, 4), y = r.array(N, -4, 4), z = r.array(N);
    for (const op of ['relu', 'gelu', 'sigmoid', 'tanh', 'exp', 'softplus'] as const) {
      agree(`unary ${op}`, [x], [N], (b, [xi], [o]) => b.unary(Unary[op], N, xi, o, 0.1));
      agree(`unaryGrad ${op}`, [x, y, z], [N], (b, [xi, yi, dy], [o]) => b.unaryGrad(Unary[op], N, xi, yi, dy, o, 0.1));
    }
    const S = { s0: 0, s1: 1000, s2: 1 }, R = { s0: 0, s1: 0, s2: 1 }, C = { s0: 0, s1: 1, s2: 0 };
    for (const name of ['add', 'mul', 'div', 'pow'] as const) {
      const op = Binary[name];
      agree(`binary ${name} full`, [x, y], [N], (b, [a, bb], [o]) => b.binary(op, 1, 200, 1000, a, S, bb, S, o));
      agree(`binary ${name} row broadcast`, [x, y], [N], (b, [a, bb], [o]) => b.binary(op, 1, 200, 1000, a, S, bb, R, o));
      agree(`binary ${name} column broadcast, outer axis`, [x, y], [N], (b, [a, bb], [o]) => b.binary(op, 4, 50, 1000, a, { s0: 50000, s1: 1000, s2: 1 }, bb, C, o));
      agree(`binary ${name} one long row`, [x, y], [N], (b, [a, bb], [o]) => b.binary(op, 1, 1, N, a, S, bb, S, o));
    }
    for (const name of ['sum', 'mean', 'max', 'argmax', 'sumSquares'] as const) {
      const op = Reduce[name];
      agree(`reduce ${name} rows`, [x], [2000], (b, [xi], [o]) => b.reduce(op, 2000, 100, 1, xi, o));
      agree(`reduce ${name} middle`, [x], [4000], (b, [xi], [o]) => b.reduce(op, 40, 50, 100, xi, o));
    }
    agree('softmax', [x], [N], (b, [xi], [o]) => b.softmax(2000, 100, xi, o, false));
    agree('log-softmax', [x], [N], (b, [xi], [o]) => b.softmax(2000, 100, xi, o, true));
    const labels = Float32Array.from({ length: 2000 }, () => r.int(100));
    const dense = new Float32Array(2000 * 100).map(() => r.next());
    agree('softmax cross-entropy, index labels', [x, labels], [N, 2000], (b, [l, lab], [p, loss]) => b.softmaxXent(2000, 100, l, lab, LabelMode.index, p, loss));
    agree('softmax cross-entropy, dense labels', [x, dense], [N, 2000], (b, [l, lab], [p, loss]) => b.softmaxXent(2000, 100, l, lab, LabelMode.dense, p, loss));
    agree('softmax cross-entropy gradient', [z, labels, y], [N], (b, [p, lab, dy], [dl]) => b.softmaxXentGrad(2000, 100, p, lab, LabelMode.index, dy, dl));
    const idx = Float32Array.from({ length: 3000 }, () => r.int(2000));
    agree('gatherRows', [x, idx], [3000 * 100], (b, [xi, ii], [o]) => b.gatherRows(3000, 100, xi, ii, o));
    agree('dropout with an offset', [x], [N, N], (b, [xi], [o, mask]) => b.dropout(N, xi, o, mask, 0.7, 1234, 987654));
    // The noise of private training: tiles start on 16-value boundaries, so an odd counter offset makes every
    // tile start odd (its first value one by one) and lengths off 16 give tiles a group of 8 and a tail.
    for (const [n, offset] of [[N, 0], [N, 987655], [N - 8, 0xfffffff1], [70_001, 3]])
      agree(`addNormal of ${n} values at offset ${offset}`, [x], [n], (b, [xi], [o]) => {
        b.copy(n, xi, o);
        b.addNormal(n, o, 0.7, 4321, offset);
      });
    agree('fill, copy, affine, axpy', [x, y], [N, N], (b, [xi, yi], [o, p]) => {
      b.fill(N, o, 2.5);
      b.copy(N, xi, p);
      b.affine(N, p, o, 0.3, -1);
      b.axpy(N, 0.7, yi, o);
    });
    // Optimizer steps update param and state in place: copy the inputs into the outputs first.
    const g = r.array(N), st = r.array(2 * N, 0, 1);
    const step = (kind: OptimCode, h: number[], s2: boolean) => (b: Backend, [p0, gi, s10, s20]: unknown[], [p, s1, s2o]: unknown[]) => {
      b.copy(N, p0, p);
      b.copy(N, s10, s1);
      b.copy(2 * N, s20, s2o);
      b.optimStep(kind, N, p, gi, s1, s2 ? s2o : null, h);
    };
    const ins = [x, g, r.array(N, 0, 1), st];
    agree('sgd with momentum', ins, [N, N, 2 * N], step(Optim.sgd, hyper('sgd', { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: 1, first: 0, l1: 0, gscale: 1 }), false));
    agree('adam (amsgrad)', ins, [N, N, 2 * N], step(Optim.adam, hyper('adam', { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: 1, bc1: 0.1, bc2: 0.002, l1: 0, gscale: 1, amsgrad: 1 }), true));
    agree('rmsprop (centered, momentum)', ins, [N, N, 2 * N], step(Optim.rmsprop, hyper('rmsprop', { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: 1, l1: 0, gscale: 1 }), true));
    agree('adagrad', ins, [N, N, 2 * N], step(Optim.adagrad, hyper('adagrad', { clr: 0.01, eps: 1e-10, weightDecay: 0, l1: 0, gscale: 1 }), false));
  });

  it('calls run alone on the calling thread (as on a busy machine) give the same bits', () => {
    const r = rng(13);
    const before = many.map(([, b]) => [b.jobs, b.aloneJobs]);
    for (const [, b] of many) b._testAlone(true);
    try {
      for (const [m, n, k] of [[128, 512, 784], [784, 512, 128], [128, 10, 256]])
        agree(`gemm nn ${m}×${n}×${k} alone`, [r.array(m * k), r.array(k * n), r.array(n)], [m * n], (b, [a, bb, bias], [c]) =>
          b.gemm({ m, n, k, a, transA: false, b: bb, transB: false, c, bias, act: Unary.relu, alpha: 0, beta: 0 }));
      const N = 100_003;
      agree('unary tanh alone', [r.array(N, -4, 4)], [N], (b, [xi], [o]) => b.unary(Unary.tanh, N, xi, o, 0));
    } finally {
      for (const [, b] of many) b._testAlone(null);
    }
    many.forEach(([name, b], i) => {
      expect(b.jobs - before[i][0], `${name}: split calls`).toBeGreaterThan(0);
      expect(b.aloneJobs - before[i][1], `${name}: every split call ran alone`).toBe(b.jobs - before[i][0]);
    });
    // And shared again afterwards.
    const [, two] = many[0];
    const jobs = two.jobs, alone = two.aloneJobs;
    const x = two.alloc(1 << 20);
    two.fill(1 << 20, x, 1);
    expect([two.jobs - jobs, two.aloneJobs - alone]).toEqual([1, 0]);
  });
});

describe.runIf(available)('training on wasm-threads matches single-thread wasm', () => {
  afterAll(() => sd.shutdown());

  /**
   * Losses of a few adam steps of 784-128-10 on batch 128, with dropout: every kernel of a step, threaded
   * (`workers`: 'first', started before training; 'midway', as init() leaves them: they join during it).
   */
  async function losses(opts: sd.InitOptions, workers: 'first' | 'midway' = 'first'): Promise<number[]> {
    const info = await sd.init(opts);
    expect(info.backend).toBe(opts.backend);
    if (opts.backend === 'wasm-threads' && workers === 'first') await (engine.backend as WasmThreadsBackend).startWorkers();
    const r = rng(5);
    const x = sd.tensor(r.array(256 * 784), [256, 784]);
    const y = sd.tensor(Array.from({ length: 256 }, () => r.int(10)));
    const model = sd.sequential([sd.layers.linear(784, 128, { activation: 'relu', seed: 1 }), sd.layers.dropout(0.2), sd.layers.linear(128, 10, { seed: 2 })]);
    const h = await model.fit(x, y, { loss: 'softmaxCrossEntropy', optimizer: sd.optimizers.adam({ lr: 1e-3 }), epochs: 3, batchSize: 128, seed: 9, shuffle: true });
    sd.dispose([x, y]);
    model.dispose();
    if (opts.backend === 'wasm-threads' && workers === 'first') expect((engine.backend as WasmThreadsBackend).jobs).toBeGreaterThan(10); // it did split work
    return h.loss;
  }

  it('gives the same losses, bit for bit (shared and plain builds run the same kernel code)', async () => {
    const want = await losses({ backend: 'wasm', relaxedSimd: features.relaxedSimd });
    const saved = WasmThreadsBackend.grainForTests;
    WasmThreadsBackend.grainForTests = undefined; // the measured tiles, as users get them
    const got = await losses({ backend: 'wasm-threads', threads: 2, workerUrl: await threadsWorkerUrl() });
    // Workers that start after POOL_START_MS of work and join between two kernel calls change nothing either.
    const midway = await losses({ backend: 'wasm-threads', threads: 2, workerUrl: await threadsWorkerUrl() }, 'midway');
    WasmThreadsBackend.grainForTests = saved;
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
    expect(midway).toEqual(want);
  });
});

describe.runIf(available)('init() with wasm-threads', () => {
  afterAll(() => sd.shutdown());

  it('starts the asked thread count and reports it', async () => {
    const workerUrl = await threadsWorkerUrl();
    for (const threads of [1, 2, 3]) {
      const info = await sd.init({ backend: 'wasm-threads', threads, workerUrl });
      expect(info.backend).toBe('wasm-threads');
      expect(info.threads).toBe(threads);
      expect(info.binary).toBe(shared);
      expect(info.notes.join('\n')).toMatch(new RegExp(`wasm-threads: ${threads} threads? run kernels`));
      expect(sd.tensor([[1, 2], [3, 4]]).matmul(sd.tensor([[5, 6], [7, 8]])).arraySync()).toEqual([[19, 22], [43, 50]]);
    }
    const def = await sd.init({ backend: 'wasm-threads', workerUrl });
    expect(def.threads).toBeGreaterThanOrEqual(1);
    expect(def.threads).toBeLessThanOrEqual(8);
    expect(def.notes.join('\n')).toMatch(/by default one per core/);
  });

  it('validates the threads and workerUrl options', async () => {
    for (const bad of [0, -1, 1.5, 65, NaN, '2'])
      await expect(sd.init({ backend: 'wasm-threads', threads: bad as any })).rejects.toThrow(/threads must be a positive integer/);
    await expect(sd.init({ backend: 'wasm-threads', workerUrl: 3 as any })).rejects.toThrow(/workerUrl must be a string or a URL/);
    const info = await sd.init({ backend: 'wasm', threads: 2 });
    expect(info.threads).toBe(1);
    expect(info.notes.join('\n')).toMatch(/threads option applies to wasm-threads only/);
  });

  it('a missing worker script fails init() clearly; a broken one leaves a working one-thread backend that says why', async () => {
    const missing = new URL('../.tmp/no-such-worker.js', import.meta.url);
    await expect(sd.init({ backend: 'wasm-threads', threads: 2, workerUrl: missing })).rejects.toThrow(/could not start 1 worker: the worker script .*no-such-worker\.js does not exist/);
    const dir = new URL('../.tmp/test-broken-worker/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    const broken = new URL('broken.js', dir);
    writeFileSync(broken, 'throw new Error("broken on purpose");\n');
    // The script loads only when the workers start, after init() has returned: the failure is a note then.
    const info = await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl: broken });
    expect([info.backend, info.threads]).toEqual(['wasm-threads', 2]);
    await (engine.backend as WasmThreadsBackend).startWorkers();
    const after = sd.info();
    expect(after.threads).toBe(1);
    expect(after.notes.join('\n')).toMatch(/wasm-threads: could not start 1 worker: worker 1 (failed|exited).*; kernels run on the calling thread only/);
    const big = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
    expect(sd.matmul(big, big).dataSync()[0]).toBe(256); // large enough to split: runs whole here
    expect((engine.backend as WasmThreadsBackend).jobs).toBe(0);
    expect((engine.backend as WasmThreadsBackend).failure).toBe(null);
    // auto falls back to single-thread wasm and says why.
    const auto = await sd.init({ threads: 2, workerUrl: missing });
    expect(auto.backend).toBe('wasm');
    expect(auto.notes.join('\n')).toMatch(/wasm-threads failed to start \(.*does not exist.*\): using single-thread wasm/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('auto takes wasm-threads when more than one thread is possible, and wasm for threads: 1', async () => {
    const workerUrl = await threadsWorkerUrl();
    const info = await sd.init({ threads: 2, workerUrl });
    expect(info.backend).toBe('wasm-threads');
    expect(info.threads).toBe(2);
    const one = await sd.init({ threads: 1, workerUrl });
    expect(one.backend).toBe('wasm');
    expect(one.notes.join('\n')).toMatch(/wasm-threads: threads: 1 was asked for/);
  });
});

describe.runIf(available)('wasm-threads lifecycle', () => {
  let workerUrl: URL;
  beforeAll(async () => {
    workerUrl = await threadsWorkerUrl();
  });
  afterAll(() => sd.shutdown());

  const matmulWorks = () => expect(sd.tensor([[1, 2], [3, 4]]).matmul(sd.tensor([[1], [1]])).arraySync()).toEqual([[3], [7]]);

  /** The bundle as users get it (src/index.ts and the worker side by side, as in dist/), built once. */
  let bundled: string | null = null;
  const bundle = (): string => {
    if (bundled) return bundled;
    const dir = fileURLToPath(new URL('../.tmp/test-exit-bundle/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(process.execPath, ['-e', `
      const esbuild = await import('esbuild');
      const { wasmInline } = await import('./scripts/wasm-inline.mjs');
      const o = { bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', plugins: [wasmInline()], charset: 'utf8', external: ['node:*'], mainFields: ['module', 'main'], logLevel: 'error' };
      await esbuild.build({ ...o, entryPoints: { index: 'src/index.ts', worker: 'src/backend/threads/worker.ts' }, outdir: ${JSON.stringify(dir)} });
    `, '--input-type=module'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return (bundled = dir);
  };
  afterAll(() => {
    if (bundled) rmSync(bundled, { recursive: true, force: true });
  });
  /**
   * Script text that runs split-worthy matmuls (yielding to the event loop between them) until the workers
   * of the wasm-threads backend run or could not start, as info().notes tells: the notes left, in `state`.
   */
  const untilWorkers = `
    async function untilWorkers(sd, a) {
      const t0 = Date.now();
      let state = [];
      while (Date.now() - t0 < 30000) {
        a.matmul(a).dispose();
        await new Promise((r) => setTimeout(r, 5));
        state = sd.info().notes.filter((n) => /^wasm-threads: (the workers (start in|are starting)|could not start)/.test(n));
        if (!state.some((n) => /workers (start in|are starting)/.test(n))) break;
      }
      return state;
    }
  `;
  /** Starts 3 threads, lets the workers start and run a split matmul, prints backend, threads and an element; no shutdown(). */
  const forgetScript = (index: string) => `
    const sd = await import(${JSON.stringify(index)});
    ${untilWorkers}
    const info = await sd.init({ backend: 'wasm-threads', threads: 3 });
    const a = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
    const state = await untilWorkers(sd, a);
    if (state.length) throw new Error('the workers did not start: ' + state.join('; '));
    console.log(info.backend, info.threads, a.matmul(a).dataSync()[0]);
    // no shutdown(): the workers must not keep the process alive
  `;

  it('init() starts no worker: kernels run on the calling thread until the work is worth it, then the workers start in the background and join', async () => {
    const info = await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl });
    const b = engine.backend as WasmThreadsBackend;
    expect([info.backend, info.threads, b.pool, b.workerCount, b.jobs]).toEqual(['wasm-threads', 2, 'idle', 0, 0]);
    expect(info.notes.join('\n')).toMatch(/wasm-threads: the workers start in the background once kernels large enough to split have run for 20 ms/);
    // Work below the split size never starts them, however much of it there is.
    const small = sd.tensor(new Float32Array(32 * 32).fill(1), [32, 32]);
    for (let i = 0; i < 2000; i++) sd.matmul(small, small).dispose();
    expect([b.pool, b.workerCount]).toEqual(['idle', 0]);
    // Work worth splitting runs whole here and, after 20 ms of it, starts them; calls go on meanwhile.
    const big = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
    for (let i = 0; i < 10_000 && b.pool === 'idle'; i++) expect(sd.matmul(big, big).dataSync()[0]).toBe(256);
    expect(b.pool).toBe('starting');
    expect(b.jobs).toBe(0);
    expect(sd.info().notes.join('\n')).toMatch(/wasm-threads: the workers are starting; kernels run on the calling thread until they are ready/);
    for (let i = 0; i < 2000 && b.pool === 'starting'; i++) {
      expect(sd.matmul(big, big).dataSync()[0]).toBe(256);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect([b.pool, b.workerCount, b.startError]).toEqual(['running', 1, null]);
    const jobs = b.jobs;
    expect(sd.matmul(big, big).dataSync()[0]).toBe(256);
    expect(b.jobs).toBe(jobs + 1); // split over the threads now
    expect(sd.info().notes.join('\n')).not.toMatch(/workers (start in|are starting)/);
  });

  it('training whose workers join midway allocates nothing after its first step (their gemm workspaces come with it)', async () => {
    await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl });
    const b = engine.backend as WasmThreadsBackend;
    const r = rng(8);
    const model = sd.mlp([784, 128, 10], { seed: 2 });
    const x = sd.tensor(r.array(256 * 784), [256, 784]);
    const y = sd.tensor(Array.from({ length: 256 }, () => r.int(10)));
    const optimizer = sd.optimizers.adam({ lr: 1e-3 });
    const snaps: { jobs: number; allocated: number; reserved: number; tensors: number }[] = [];
    const seen = () => {
      const m = sd.memory();
      snaps.push({ jobs: b.jobs, allocated: m.backend.allocatedBytes, reserved: m.backend.reservedBytes, tensors: m.tensors });
    };
    // Until the workers have joined and split some steps (a few hundred ms at most on an idle machine).
    let epochs = 0;
    while (epochs < 400 && !(snaps.length && snaps[snaps.length - 1].jobs > 50)) {
      await model.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 1, batchSize: 128, optimizer, callbacks: { onBatchEnd: seen } });
      epochs++;
    }
    expect(snaps[0].jobs, 'the first step ran on the calling thread').toBe(0);
    expect(snaps[snaps.length - 1].jobs, 'later steps were split over the threads').toBeGreaterThan(50);
    // After the first step (each fit() call records its own step once: compare the steps of the same fit).
    const after = snaps.slice(2);
    for (const s of after) expect([s.allocated, s.reserved, s.tensors]).toEqual([after[0].allocated, after[0].reserved, after[0].tensors]);
    sd.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }, 60_000);

  it('a process that predicts one row never starts a worker, and one that exits while its workers start is not kept alive', () => {
    const dir = bundle();
    const index = JSON.stringify(pathToFileURL(join(dir, 'index.js')).href);
    const state = `sd.info().notes.filter((n) => /^wasm-threads: (the workers|could not start)/.test(n)).map((n) => n.slice(0, 40)).join('; ')`;
    writeFileSync(join(dir, 'one-row.mjs'), `
      const sd = await import(${index});
      const info = await sd.init({ threads: 3 });
      const out = sd.mlp([784, 512, 256, 10], { seed: 0 }).predict(new Float32Array(784).fill(0.5)).dataSync();
      console.log(info.backend, out.length, ${state});
      // no shutdown()
    `);
    writeFileSync(join(dir, 'exit-while-starting.mjs'), `
      const sd = await import(${index});
      await sd.init({ threads: 3 });
      const a = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
      for (let i = 0; i < 10000 && !/are starting/.test(${state}); i++) a.matmul(a).dispose();
      await new Promise((r) => setTimeout(r, 20)); // the workers are being created now
      console.log(${state});
      // no shutdown(): done, while the workers are still starting
    `);
    const run = (f: string) => spawnSync(process.execPath, [join(dir, f)], { encoding: 'utf8', timeout: 20_000 });
    const one = run('one-row.mjs');
    expect(one.error?.message ?? '', `did not exit within 20 s: ${one.stderr}`).toBe('');
    expect(one.stdout.trim(), one.stderr).toMatch(/^wasm-threads 10 wasm-threads: the workers start in the b/);
    expect(one.status).toBe(0);
    const t0 = Date.now();
    const starting = run('exit-while-starting.mjs');
    const seconds = (Date.now() - t0) / 1000;
    expect(starting.error?.message ?? '', `did not exit within 20 s: ${starting.stderr}`).toBe('');
    expect(starting.stdout.trim(), starting.stderr).toMatch(/^wasm-threads: the workers are starting/);
    expect(starting.status).toBe(0);
    expect(seconds).toBeLessThan(10);
  });

  it('shutdown() and a later init() terminate the workers of the backend they replace', async () => {
    await sd.init({ backend: 'wasm-threads', threads: 3, workerUrl });
    const first = engine.backend as WasmThreadsBackend;
    expect(first.workerCount).toBe(0); // not started yet
    await first.startWorkers();
    expect(first.workerCount).toBe(2);
    await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl });
    expect(first.workerCount).toBe(0);
    const second = engine.backend as WasmThreadsBackend;
    await second.startWorkers();
    expect(second.workerCount).toBe(1);
    matmulWorks();
    sd.shutdown();
    expect(second.workerCount).toBe(0);
    expect(() => second.fill(4, second.alloc(4), 1)).toThrow(/was disposed/);
  });

  it('a Node process that never calls shutdown() still exits', () => {
    const dir = bundle();
    const script = join(dir, 'forget.mjs');
    writeFileSync(script, forgetScript(pathToFileURL(join(dir, 'index.js')).href));
    const t0 = Date.now();
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    const seconds = (Date.now() - t0) / 1000;
    expect(child.error?.message ?? '', `did not exit within 20 s: ${child.stderr}`).toBe('');
    expect(child.stdout.trim(), child.stderr).toBe('wasm-threads 3 256');
    expect(child.status).toBe(0);
    expect(seconds).toBeLessThan(10);
  });

  it('a Deno process that never calls shutdown() still exits (its workers are unref\'d worker_threads)', () => {
    const dir = bundle();
    const script = join(dir, 'forget-deno.mjs');
    writeFileSync(script, forgetScript(pathToFileURL(join(dir, 'index.js')).href));
    const child = spawnSync(deno, ['run', '--allow-read', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.error?.message ?? '', `did not exit within 20 s: ${child.stderr}`).toBe('');
    expect(child.stdout.trim(), child.stderr).toBe('wasm-threads 3 256');
    expect(child.status).toBe(0);
  });

  // These two mostly wait (for the idle hint, for the handshake timeout) in child processes and share
  // nothing: they run side by side.
  it.concurrent('Deno with a worker script that is not a file (web Workers, no unref): a one-line hint on stderr once idle', async () => {
    // A blob: URL of the same worker code: Deno's worker_threads take only file: and data: URLs, so this
    // runs web Workers, which keep the process alive; the process must then say why it does not exit.
    const dir = bundle();
    const script = join(dir, 'forget-blob.mjs');
    writeFileSync(script, `
      const sd = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.js')).href)});
      const code = await Deno.readTextFile(new URL('./worker.js', import.meta.url));
      const workerUrl = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
      ${untilWorkers}
      const info = await sd.init({ backend: 'wasm-threads', threads: 3, workerUrl });
      const a = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
      const state = await untilWorkers(sd, a);
      console.log(info.backend, info.threads, a.matmul(a).dataSync()[0], state.length ? state.join('; ') : 'workers running');
      console.log(info.notes.find((n) => n.includes('keep the process alive')) ?? 'no note');
    `);
    const child = spawn(deno, ['run', '--allow-read', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    const t0 = Date.now();
    const hint = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 25_000);
      child.stderr.on('data', (d) => {
        err += d;
        const line = err.split('\n').find((l) => l.startsWith('simdnn: '));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    const seconds = (Date.now() - t0) / 1000;
    child.kill('SIGKILL');
    expect(out.split('\n')[0], err).toBe('wasm-threads 3 256 workers running');
    expect(out).toMatch(/Deno runs web Workers, which keep the process alive once started .*call shutdown\(\) when done/);
    expect(hint, `no hint on stderr within 25 s (stdout: ${out}; stderr: ${err})`).toBe('simdnn: 2 worker threads keep this process alive; call shutdown() when done');
    expect(seconds).toBeGreaterThanOrEqual(4); // only after idling, not at start
  });

  it.concurrent('an unrelated worker.js beside the bundle: auto and wasm-threads run on the calling thread with a note naming it and workerUrl; its workers end and the process exits', async () => {
    // As a user's folder can be: the bundle, and someone else's worker.js next to it that loads, keeps
    // running and never answers. It ticks a file while it runs, so the test sees it end.
    const dir = join(bundle(), '..', 'test-unrelated-worker');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(bundle(), 'index.js'), join(dir, 'index.js'));
    writeFileSync(join(dir, 'worker.js'), `
      import { appendFileSync } from 'node:fs';
      setInterval(() => appendFileSync(process.env.SIMDNN_TEST_BEAT, '.'), 20);
    `);
    const run = (mode: 'auto' | 'wasm-threads') => {
      const beat = join(dir, `beat-${mode}`);
      rmSync(beat, { force: true });
      writeFileSync(join(dir, `${mode}.mjs`), `
        import { statSync } from 'node:fs';
        const sd = await import('./index.js');
        ${untilWorkers}
        const beats = () => statSync(${JSON.stringify(beat)}, { throwIfNoEntry: false })?.size ?? 0;
        const out = {};
        try {
          const info = await sd.init({ backend: ${JSON.stringify(mode)}, threads: 3 });
          out.backend = info.backend;
          // The workers start after some work, and are given up after the handshake timeout (10 s).
          const a = sd.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
          out.state = await untilWorkers(sd, a);
          out.notes = sd.info().notes;
          out.threads = sd.info().threads;
          out.works = a.matmul(a).dataSync()[0];
        } catch (e) {
          out.error = e.message;
        }
        out.beats = beats();
        await new Promise((r) => setTimeout(r, 300));
        out.beatsLater = beats() - out.beats;
        console.log(JSON.stringify(out));
        // no shutdown(): nothing may keep the process alive
      `);
      return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [join(dir, `${mode}.mjs`)], { encoding: 'utf8', timeout: 40_000, env: { ...process.env, SIMDNN_TEST_BEAT: beat } }, (e, out, err) =>
          resolve({ code: e ? ((e as any).code ?? -1) : 0, out, err: err + (e?.killed ? ' (killed: did not exit within 40 s)' : '') }));
      });
    };
    const url = pathToFileURL(join(dir, 'worker.js')).href;
    const [auto, asked] = await Promise.all([run('auto'), run('wasm-threads')]);
    for (const [what, r] of [['auto', auto], ['wasm-threads', asked]] as const) {
      expect(r.code, `${what}: ${r.err}`).toBe(0);
      const o = JSON.parse(r.out);
      expect(o.beats, `${what}: the unrelated workers never ran`).toBeGreaterThan(0);
      expect(o.beatsLater, `${what}: the unrelated workers still run after the backend gave them up`).toBe(0);
      expect(o.error, what).toBe(undefined);
      expect([o.backend, o.threads, o.works], what).toEqual(['wasm-threads', 1, 256]);
      expect(o.state.length, `${what}: ${o.state}`).toBe(1);
      const note = o.state[0];
      expect(note).toMatch(/^wasm-threads: could not start 2 workers: the worker script .* did not answer within \d+ s.*init\(\{ workerUrl \}\).*; kernels run on the calling thread only$/);
      expect(note).toContain(url);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a worker that exits in the middle of a job makes that call and later calls throw, never hang', async () => {
    await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl });
    const b = engine.backend as WasmThreadsBackend;
    await b.startWorkers();
    matmulWorks();
    const t0 = performance.now();
    expect(() => b._testFault('exit')).toThrow(/wasm-threads backend is unusable: worker 1 exited during a kernel call\. Call init\(\) again/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(b.failure).toMatch(/worker 1 exited/);
    expect(() => matmulWorks()).toThrow(/wasm-threads backend is unusable: worker 1 exited/);
    expect(sd.info().notes.join('\n')).toMatch(/wasm-threads is unusable: worker 1 exited.*call init\(\) again/);
    // init() again gives a working backend.
    await sd.init({ backend: 'wasm-threads', threads: 2, workerUrl });
    matmulWorks();
  });

  it('a worker that stops responding mid-job is reported after the stall timeout, not waited for forever', async () => {
    const b = await WasmThreadsBackend.create({ binary: shared, threads: 2, workerUrl, stallMs: 300 });
    await b.startWorkers();
    const t0 = performance.now();
    expect(() => b._testFault('hang')).toThrow(/no kernel tile finished for \d+ ms \(a worker stopped responding\)/);
    expect(performance.now() - t0).toBeLessThan(5000);
    const x = b.alloc(8);
    expect(() => b.fill(8, x, 1)).toThrow(/unusable/);
    b.dispose();
  });

  it('a worker killed between jobs is noticed at the next call', async () => {
    const b = await WasmThreadsBackend.create({ binary: shared, threads: 3, workerUrl });
    await b.startWorkers();
    const x = b.alloc(1 << 20);
    b.fill(1 << 20, x, 1);
    b._testFault('terminate');
    await new Promise((r) => setTimeout(r, 200)); // the 'exit' event arrives through the event loop
    expect(b.failure).toMatch(/worker 1 exited/);
    expect(() => b.fill(1 << 20, x, 2)).toThrow(/wasm-threads backend is unusable: worker 1 exited/);
    b.dispose();
  });

  it('workers see the memory the calling thread grew while they waited', async () => {
    const b = await WasmThreadsBackend.create({ binary: shared, threads: 3, workerUrl });
    await b.startWorkers();
    const start = b.stats().reservedBytes;
    const held: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      const n = (1 << 20) + i * 4093; // 4 MB and up: every allocation grows the memory
      const x = b.alloc(n);
      held.push(x);
      b.fill(n, x, i + 0.5); // split over the threads, up to the new top of the memory
      b.axpy(n, 2, x, x);
      const got = b.readSync(x, n);
      expect([got[0], got[n >> 1], got[n - 1]]).toEqual([3 * (i + 0.5), 3 * (i + 0.5), 3 * (i + 0.5)]);
    }
    expect(b.stats().reservedBytes).toBeGreaterThan(start + 40 * 2 ** 20);
    expect(b.jobs).toBeGreaterThanOrEqual(24);
    b.dispose();
  });

  it('a tile that traps is an ordinary error: the backend stays usable', async () => {
    const b = await WasmThreadsBackend.create({ binary: shared, threads: 2, workerUrl, grain: 'fine' });
    await b.startWorkers();
    const x = b.alloc(1024);
    // A pointer past the end of the memory: every tile traps.
    expect(() => b.fill(1024, 0x7ffffff0, 1)).toThrow(/kernel tile failed on .*(RuntimeError|memory access out of bounds)/);
    expect(b.failure).toBe(null);
    b.fill(1024, x, 3);
    expect(b.readSync(x, 4)).toEqual(new Float32Array([3, 3, 3, 3]));
    b.dispose();
  });
});

describe('shared or alone: the choice from call timings (adapt.ts)', () => {
  /** Runs `calls` calls cycling over shapes whose times each way `t` gives; returns the share run alone. */
  function drive(ad: Adapt, calls: number, t: (shape: number, alone: boolean) => number): number {
    let alone = 0;
    for (let i = 0; i < calls; i++) {
      const k = i % 3, s = ad.shape(`shape ${k}`), a = ad.runAlone;
      if (a) alone++;
      ad.record(s, a, t(k, a));
    }
    return alone / calls;
  }
  const idle = (k: number, alone: boolean) => (k + 1) * (alone ? 1.8 : 1); // sharing wins clearly
  const busy = (k: number, alone: boolean) => (k + 1) * (alone ? 2 : 3); // a loaded machine: alone wins

  it('an idle machine shares every call and never tries alone, through the usual jitter', () => {
    const ad = new Adapt(), r = rng(14);
    expect(drive(ad, 20_000, (k, a) => idle(k, a) * (0.85 + 0.3 * r.next()))).toBe(0);
  });

  it('a loaded machine moves to alone within a few windows, and tries sharing again ever more rarely', () => {
    const ad = new Adapt();
    drive(ad, 200, idle);
    expect(drive(ad, 10 * WINDOW, busy)).toBeGreaterThan(0.3);
    expect(ad.alone).toBe(true);
    expect(drive(ad, 20_000, busy)).toBeGreaterThan(0.98); // shared trials: a window now and then
  });

  it('when the machine quietens again it goes back to sharing within MAX_TRY calls', () => {
    const ad = new Adapt();
    drive(ad, 200, idle);
    drive(ad, 20_000, busy);
    expect(ad.alone).toBe(true);
    drive(ad, MAX_TRY + 2 * WINDOW, idle);
    expect(ad.alone).toBe(false);
    expect(drive(ad, 5000, idle)).toBe(0);
  });

  it('a slower machine on which sharing still wins keeps sharing (alone is tried once)', () => {
    const ad = new Adapt();
    drive(ad, 200, idle);
    expect(drive(ad, 20_000, (k, a) => 2 * idle(k, a))).toBeLessThanOrEqual(WINDOW / 20_000);
    expect(ad.alone).toBe(false);
  });

  it('one call descheduled for a long time does not change the way', () => {
    const ad = new Adapt();
    drive(ad, 200, idle);
    let n = 0;
    expect(drive(ad, 2000, (k, a) => (++n === 500 ? 1000 : idle(k, a)))).toBe(0);
  });
});

describe.skipIf(available)('wasm-threads where threads are impossible (skipped where threads work, as here: it checks the error a runtime without them gives)', () => {
  it('an explicit request is a clear error', async () => {
    await expect(sd.init({ backend: 'wasm-threads' })).rejects.toThrow(/cannot run here/);
  });
});
