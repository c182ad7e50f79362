// The webgpu backend, where a WebGPU adapter exists (in Node: Dawn from the npm 'webgpu' package on
// SwiftShader, set up by vitest.config.ts; elsewhere each suite is skipped with the reason in its name). Its
// kernels run the shared conformance suite (test/conformance.test.ts) like every backend; here is what is
// about webgpu itself:
//  1. what the backend promises: batching and ordering, one buffer bound once in several slots, the buffer
//     pool, empty work, the default arm of the op switches;
//  2. the runtime on webgpu: init's rules, the API with `await data()`, fit → predict on iris, the figures
//     (dispatches per step, bytes read back per epoch, compile time), device loss and re-init.
// Tolerances: exact where the result is, else the conformance suite's (and their reasons) where a check
// compares with float arithmetic.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/core/backend.js';
import { BINARY_NAMES, Binary, LabelMode, OPTIM_NAMES, Optim, Reduce, UNARY_NAMES, Unary } from '../src/core/optable.js';
import { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { startWebGpu } from '../src/backend/webgpu/device.js';
import { engine } from '../src/core/engine.js';
import * as sd from '../src/index.js';
import { EPS, hyper, mismatch, oracle, put, rng, testGpu, ulp } from './helpers.js';
import { SWIFTSHADER_ICD } from './runtime/webgpu-env.mjs';

// CI installs chromium, whose SwiftShader driver gives Node an adapter (vitest.config.ts): there a skip
// would hide a broken setup, so it fails instead.
if (!!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0' && existsSync(SWIFTSHADER_ICD))
  it('CI with chromium installed has a WebGPU adapter for Node', async () => {
    expect((await testGpu()).reason).toBe('');
  });

const GUARD = 8;
const SENTINEL = 12345.5;
const FTZ = 2 ** -126;
const { gpu, reason } = await testGpu();
const skip = gpu ? '' : ` (skipped: ${reason})`;
const js = oracle();

/** The js oracle's result of running `fn` on fresh uploads. */
function jsRun(n: number, fn: (b: Backend, out: unknown) => void): Float32Array {
  const o = js.alloc(n);
  fn(js, o);
  return js.readSync(o, n);
}

describe.skipIf(!gpu)(`the webgpu backend${skip}`, () => {
  let b: WebGpuBackend;
  beforeAll(async () => {
    const r = await startWebGpu(gpu!, true, 'node');
    if (!r.backend) throw new Error(`webgpu did not start: ${r.reason}`);
    b = r.backend;
  }, 120_000);
  afterAll(() => b?.dispose());

  /** An output buffer of n floats followed by GUARD sentinels. */
  function out(n: number): unknown {
    const h = b.alloc(n + GUARD);
    b.write(h, new Float32Array(n + GUARD).fill(SENTINEL));
    return h;
  }
  /** Reads n floats (and checks the guards after them). */
  async function got(h: unknown, n: number): Promise<Float32Array> {
    const all = await b.read(h, n + GUARD);
    for (let i = n; i < n + GUARD; i++) if (all[i] !== SENTINEL) throw new Error(`kernel wrote past the end of its output (index ${i} of ${n})`);
    return all.subarray(0, n);
  }
  /** Checks queue up and are awaited together: reads overlap instead of waiting one by one. */
  function checker() {
    const pending: Promise<void>[] = [];
    return {
      add(what: string, read: Promise<Float32Array>, want: Float32Array, tol: (i: number) => number): void {
        pending.push(read.then((g) => expect(mismatch(g, want, (i) => tol(i) + FTZ), what).toBe('')));
      },
      async done(): Promise<number> {
        await Promise.all(pending);
        return pending.length;
      },
    };
  }

  // ------------------------------------------------------------------------------------------ the backend
  it('batches hundreds of dispatches per submission and keeps their order', async () => {
    const before = { ...b.counters };
    const x = put(b, new Float32Array(1000).fill(1)), y = put(b, new Float32Array(1000));
    for (let i = 0; i < 700; i++) b.axpy(1000, 1, x, y); // more than one batch (256 dispatches)
    const r = await b.read(y, 1000);
    expect(r.every((v) => v === 700)).toBe(true);
    const submits = b.counters.submits - before.submits;
    expect(b.counters.dispatches - before.dispatches).toBe(700);
    expect(submits).toBeLessThanOrEqual(5); // 700 / 256 → 3 batches (the read rides on the last)
    expect(b.counters.bytesRead - before.bytesRead).toBe(4000);
  });

  it('a write waits for the recorded kernels that use its buffer; a read sees everything before it', async () => {
    const src = put(b, [1, 2, 3, 4]), dst = b.alloc(4);
    b.copy(4, src, dst); // recorded, not yet submitted
    b.write(src, Float32Array.of(9, 9, 9, 9)); // must not overtake the copy
    const first = b.read(dst, 4);
    b.copy(4, src, dst); // after the read was issued: the read must not see it
    expect(Array.from(await first)).toEqual([1, 2, 3, 4]);
    expect(Array.from(await b.read(dst, 4))).toEqual([9, 9, 9, 9]);
    b.write(src, Float32Array.of(5, 6), 2); // at an offset
    expect(Array.from(await b.read(src, 4))).toEqual([9, 9, 5, 6]);
  });

  it('one buffer in several slots of a kernel (x·xᵀ, x⊙x in place, y += 2y, relu\' from y = x): bound once', async () => {
    const r = rng(21);
    const X = r.array(17 * 5);
    const want = jsRun(17 * 17, (be, o) => { const h = put(be, X); be.gemm({ m: 17, n: 17, k: 5, a: h, transA: false, b: h, transB: true, c: o, bias: null, act: Unary.identity, alpha: 0, beta: 0 }); });
    const hx = put(b, X), hc = out(17 * 17);
    b.gemm({ m: 17, n: 17, k: 5, a: hx, transA: false, b: hx, transB: true, c: hc, bias: null, act: Unary.identity, alpha: 0, beta: 0 });
    const c = checker();
    c.add('x·xᵀ', got(hc, 17 * 17), want, (i) => 9 * EPS * 5 + 6 * ulp(want[i]));
    const full = { s0: 85, s1: 5, s2: 1 };
    b.binary(Binary.mul, 1, 17, 5, hx, full, hx, full, hx);
    c.add('x⊙x in place', b.read(hx, 85), X.map((v) => Math.fround(v * v)), () => 0);
    const hy = put(b, X);
    b.axpy(85, 2, hy, hy);
    c.add('y += 2y', b.read(hy, 85), X.map((v) => Math.fround(3 * v)), (i) => ulp(3 * X[i]));
    const hr = put(b, X), hd = put(b, new Float32Array(85).fill(2));
    b.unaryGrad(Unary.relu, 85, hr, hr, hd, hd, 0);
    c.add("relu' with x = y and dx = dy", b.read(hd, 85), X.map((v) => (v > 0 ? 2 : 0)), () => 0);
    await c.done();
  });

  it("the op switches' default arm writes NaN, never x (a code the backend's check would have refused first)", async () => {
    // A dispatch with a code outside the table, past checkCode (which refuses it in every backend method, see
    // the conformance suite): what a kernel that lacked an op of the table would do. NaN fails the suite.
    const run = (b as any).elementwise.bind(b) as (name: string, n: number, values: number[], bufs: unknown[]) => void;
    const x = put(b, [1, -2, 3, 0.5]), y = out(4), dx = out(4), o = out(4), p = put(b, [1, 2, 3, 4]);
    run('unary', 4, [4, UNARY_NAMES.length, 0], [x, y]);
    run('unaryGrad', 4, [4, UNARY_NAMES.length, 0], [x, x, x, dx]);
    run('binary', 4, [4, 1, 4, BINARY_NAMES.length, 0, 0, 1, 0, 0, 1], [x, x, o]);
    run('optim', 4, [4, OPTIM_NAMES.length, ...new Array(14).fill(0)], [p, x, null, null]);
    for (const [what, h] of [['unary', y], ['unaryGrad', dx], ['binary', o]] as const) expect(Array.from(await got(h, 4)), what).toEqual([NaN, NaN, NaN, NaN]);
    expect(Array.from(await b.read(p, 4)), 'optim').toEqual([NaN, NaN, NaN, NaN]);
  });

  it('free returns buffers to the pool (no new GPUBuffer for a size seen before); stats count them', async () => {
    const s0 = b.stats();
    const h1 = b.alloc(1000);
    const created = b.counters.buffersCreated;
    expect(b.stats().allocatedBytes - s0.allocatedBytes).toBeGreaterThanOrEqual(4000);
    b.free(h1);
    expect(b.stats().allocatedBytes).toBe(s0.allocatedBytes);
    const h2 = b.alloc(990); // same bucket
    expect(b.counters.buffersCreated).toBe(created);
    expect((h2 as any).buffer).toBe((h1 as any).buffer);
    b.free(h2);
    b.free(h2); // twice: harmless
    expect(b.stats().reservedBytes).toBeGreaterThanOrEqual(b.stats().allocatedBytes);
  });

  it('empty work is accepted and does nothing; readSync says to await', async () => {
    const e = b.alloc(0), z = put(b, [7]);
    const d0 = b.counters.dispatches;
    b.unary(Unary.exp, 0, e, e, 0);
    b.binary(Binary.add, 0, 3, 3, e, { s0: 0, s1: 0, s2: 0 }, e, { s0: 0, s1: 0, s2: 0 }, e);
    b.gemm({ m: 0, n: 5, k: 3, a: e, transA: false, b: e, transB: false, c: e, bias: null, act: Unary.identity, alpha: 0, beta: 0 });
    b.reduce(Reduce.sum, 0, 5, 1, e, e);
    b.softmax(0, 4, e, e, false);
    b.softmaxXent(0, 4, e, e, LabelMode.index, e, e);
    b.transpose(0, 3, e, e);
    b.fill(0, e, 1);
    b.dropout(0, e, e, e, 0.5, 1, 0);
    b.optimStep(Optim.adam, 0, e, e, e, e, hyper('adam', { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: 0, bc1: 0.1, bc2: 0.001, l1: 0, gscale: 1, amsgrad: 0 }));
    expect(b.counters.dispatches).toBe(d0);
    expect((await b.read(e, 0)).length).toBe(0);
    expect(Array.from(await b.read(z, 1))).toEqual([7]);
    expect(() => b.readSync(z, 1)).toThrow(/asynchronous.*await tensor\.data\(\)/);
  });
});

// ================================================================================ 3. the runtime on webgpu

function irisData() {
  const lines = readFileSync(new URL('../data/iris.csv', import.meta.url), 'utf8').trim().split(/\r?\n/).slice(1);
  const names: string[] = [];
  const x: number[][] = [], y: number[] = [];
  for (const l of lines) {
    const cells = l.split(',');
    const label = cells[cells.length - 1].trim();
    if (!names.includes(label)) names.push(label);
    x.push(cells.slice(0, 4).map(Number));
    y.push(names.indexOf(label));
  }
  // Standardised with the training rows' statistics; every 5th row is held out (stratified: the file is
  // sorted by class, 50 rows each).
  const test = (i: number) => i % 5 === 2;
  const mean = [0, 1, 2, 3].map((j) => x.filter((_, i) => !test(i)).reduce((s, r) => s + r[j], 0) / 120);
  const std = [0, 1, 2, 3].map((j) => Math.sqrt(x.filter((_, i) => !test(i)).reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / 120));
  const z = x.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
  const pick = (want: boolean) => ({ x: z.filter((_, i) => test(i) === want), y: y.filter((_, i) => test(i) === want) });
  return { train: pick(false), test: pick(true) };
}

async function accuracyOf(model: sd.Sequential, x: number[][], y: number[]): Promise<number> {
  const pred = model.predict(x);
  const p = await pred.data();
  pred.dispose();
  const k = p.length / y.length;
  let hits = 0;
  y.forEach((label, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    if (best === label) hits++;
  });
  return hits / y.length;
}

describe.skipIf(!gpu)(`the runtime on webgpu${skip}`, () => {
  afterAll(() => sd.shutdown());

  it("init's rules: 'webgpu' needs a GPU object in Node; 'auto' uses WebGPU only with webgpu: true", async () => {
    await expect(sd.init({ backend: 'webgpu' })).rejects.toThrow(/cannot start here: Node has no navigator\.gpu.*create\(\[\]\)/);
    await expect(sd.init({ backend: 'webgpu', gpu: {} as any })).rejects.toThrow(/gpu must be a GPU object/);
    await expect(sd.init({ backend: 'auto', webgpu: 'yes' as any })).rejects.toThrow(/webgpu must be true or false/);
    const a = await sd.init({ backend: 'auto', gpu: gpu! });
    expect(a.backend).not.toBe('webgpu');
    expect(a.notes.join('\n')).toMatch(/webgpu: not tried \(opt in with init\(\{webgpu: true\}\)/);
    const off = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: false });
    expect(off.notes.join('\n')).toMatch(/webgpu: not tried/);
    const on = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: true });
    expect(on.backend).toBe('webgpu');
  });

  it('fit → predict on iris reaches the js backend\'s accuracy; dispatches per step, bytes per epoch and compile time', async () => {
    const { train, test } = irisData();
    let be: WebGpuBackend | null = null;
    const run = async () => {
      const model = sd.mlp([4, 16, 3], { seed: 3 });
      const optimizer = sd.optimizers.adam({ lr: 1e-2 });
      const steps: { dispatches: number; submits: number; ms: number }[] = [];
      const epochs: number[] = [];
      let last = performance.now(), d0 = be?.counters.dispatches ?? 0, s0 = be?.counters.submits ?? 0, r0 = be?.counters.bytesRead ?? 0;
      const h = await model.fit(train.x, train.y, {
        loss: 'softmaxCrossEntropy', optimizer, epochs: 40, batchSize: 16, seed: 3,
        callbacks: {
          onBatchEnd: () => {
            const now = performance.now();
            if (be) steps.push({ dispatches: be.counters.dispatches - d0, submits: be.counters.submits - s0, ms: now - last });
            last = now;
            d0 = be?.counters.dispatches ?? 0;
            s0 = be?.counters.submits ?? 0;
          },
          onEpochEnd: () => {
            epochs.push((be?.counters.bytesRead ?? 0) - r0);
            r0 = be?.counters.bytesRead ?? 0;
          },
        },
      });
      const acc = await accuracyOf(model, test.x, test.y);
      optimizer.dispose();
      model.dispose();
      return { h, acc, steps, epochs };
    };
    // The js oracle first, then the same training on webgpu (which the next test goes on using).
    await sd.init({ backend: 'js' });
    const j = await run();
    const info = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: true });
    expect(info.backend).toBe('webgpu');
    expect(info.notes.join('\n')).toMatch(/webgpu: adapter .*pipelines compiled in \d+ ms/);
    be = engine.backend as WebGpuBackend;
    const g = await run();
    const bee = be;
    // The figure for the MLP of the design notes, 784-512-256-10 (relu, adam, index labels): one step's
    // dispatches and submissions, counted on a small batch (the count does not depend on its size).
    const big = sd.mlp([784, 512, 256, 10], { seed: 1 });
    const bx = sd.tensor(rng(1).array(16 * 784), [16, 784]), by = sd.tensor(Array.from({ length: 16 }, (_, i) => i % 10));
    const bigSteps: number[][] = [];
    let c0 = { ...bee.counters };
    const bigOpt = sd.optimizers.adam({ lr: 1e-3 });
    await big.fit(bx, by, {
      loss: 'softmaxCrossEntropy', optimizer: bigOpt, epochs: 1, batchSize: 8, seed: 1,
      callbacks: { onBatchEnd: () => { bigSteps.push([bee.counters.dispatches - c0.dispatches, bee.counters.submits - c0.submits]); c0 = { ...bee.counters }; } },
    });
    console.log(`MLP 784-512-256-10 on webgpu: ${bigSteps[1][0]} dispatches and ${bigSteps[1][1]} submission per training step`);
    // gather 2, forward 3 gemm, loss 2 (softmaxXent, mean), backward from the seed: fill 1, mean's rule 2
    // (scale, broadcast), softmaxXentGrad 1, layers 3 + 4 + 3 (the first layer's input needs no gradient),
    // tally 5, adam 6.
    expect(bigSteps[1]).toEqual([32, 1]);
    bigOpt.dispose();
    big.dispose();
    sd.dispose([bx, by]);
    console.log(
      `iris on webgpu: test accuracy ${g.acc.toFixed(3)} (js ${j.acc.toFixed(3)}), final loss ${g.h.loss.at(-1)!.toFixed(4)} (js ${j.h.loss.at(-1)!.toFixed(4)}); ` +
        `dispatches per step ${g.steps[1].dispatches}, submits per step ${g.steps[1].submits}, bytes read back per epoch ${g.epochs[1]}; ` +
        `compile ${Math.round(bee.counters.compileMs)} ms for ${bee.counters.pipelines} pipelines; first step ${g.steps[0].ms.toFixed(1)} ms, later steps ${(g.steps.slice(1).reduce((s, x) => s + x.ms, 0) / (g.steps.length - 1)).toFixed(1)} ms`,
    );
    expect(g.acc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(g.acc - j.acc)).toBeLessThanOrEqual(0.07);
    // Same seeds, same math: the first epoch's loss agrees to float32 noise, the last stays close.
    expect(Math.abs(g.h.loss[0] - j.h.loss[0])).toBeLessThan(1e-4 * Math.max(1, j.h.loss[0]));
    expect(Math.abs(g.h.loss.at(-1)! - j.h.loss.at(-1)!)).toBeLessThan(0.02);
    // One readback per epoch: the loss total (1 float) and the hits (1 float). (fit's data checks read x
    // and y once before the first epoch.)
    expect(g.epochs.slice(1)).toEqual(new Array(g.epochs.length - 1).fill(8));
    // relu MLP, index labels, adam: gather 2, forward 2 gemm, loss 2, seed 1, mean's rule 2,
    // softmaxXentGrad 1, backward 3 + 3 (no gradient for the data), tally 5, adam 4.
    expect(g.steps[1].dispatches).toBe(25);
    expect(g.steps[1].submits).toBe(1);
  }, 180_000);

  it('the API on webgpu: ops, autograd, await data(), a clear error from dataSync(); fit with validation and early stopping', async () => {
    if (engine.backend?.name !== 'webgpu') await sd.init({ backend: 'webgpu', gpu: gpu! }); // else the iris test's
    const a = sd.tensor([[1, 2], [3, 4]]);
    const c = sd.matmul(a, sd.tensor([[5, 6], [7, 8]])).add(1).relu();
    expect(Array.from(await c.data())).toEqual([20, 23, 44, 51]);
    const sm = sd.softmax(a);
    expect(await sm.array()).toEqual([[expect.closeTo(0.26894, 4), expect.closeTo(0.73106, 4)], [expect.closeTo(0.26894, 4), expect.closeTo(0.73106, 4)]]);
    expect(() => c.dataSync()).toThrow(/reads asynchronously; use `await tensor\.data\(\)`/);
    const picked = sd.gatherRows(a, sd.tensor([1, 0, 5])); // 5 is not a row: NaN on an async backend
    expect(Array.from(await picked.data())).toEqual([3, 4, 1, 2, NaN, NaN]);
    // Autograd: d/dw Σ (x·w)² = 2·xᵀ(x·w).
    const x = sd.tensor([[1, 2], [3, 4], [5, 6]]);
    const w = sd.tensor([[0.5], [-0.25]]);
    const { value, grads } = sd.valueAndGrad((ww: sd.Tensor) => sd.sum(sd.matmul(x, ww).square()))(w);
    expect((await value.data())[0]).toBeCloseTo(0 + 0.25 + 1, 6); // x·w = [0, 0.5, 1]
    expect(Array.from(await grads[0].data())).toEqual([2 * (0 + 1.5 + 5), 2 * (0 + 2 + 6)]);
    sd.dispose([a, c, sm, picked, x, w, value, grads]);
    // fit's paths that read: a validation split, early stopping that keeps the best weights, evaluate().
    const { train } = irisData();
    const model = sd.mlp([4, 8, 3], { seed: 2 });
    const optimizer = sd.optimizers.sgd({ lr: 2 });
    const h = await model.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', epochs: 30, batchSize: 16, validationSplit: 0.25, earlyStopping: { patience: 3 }, optimizer });
    expect(h.valLoss.length).toBe(h.epochs.length);
    const ev = await model.evaluate(train.x, train.y, { loss: 'softmaxCrossEntropy' });
    expect(ev.accuracy).toBeGreaterThan(0.6);
    if (h.stoppedEarly) expect(h.bestEpoch).toBeLessThan(h.epochs.length - 1);
    optimizer.dispose();
    model.dispose();
  });

  it('a lost device makes later calls throw a clear error; init() again starts a new one', async () => {
    await sd.init({ backend: 'webgpu', gpu: gpu! });
    const t = sd.tensor([1, 2, 3]);
    const be = engine.backend as WebGpuBackend;
    be.device.destroy(); // what a driver reset or a GPU unplug looks like from here
    await new Promise((r) => setTimeout(r, 50));
    expect(() => t.add(1)).toThrow(/the GPU device was lost.*init\(\) again/);
    await expect(t.data()).rejects.toThrow(/the GPU device was lost/);
    expect(sd.info().notes.join('\n')).toMatch(/device was lost/);
    const again = await sd.init({ backend: 'webgpu', gpu: gpu! });
    expect(again.backend).toBe('webgpu');
    const u = sd.tensor([1, 2, 3]).mul(2);
    expect(Array.from(await u.data())).toEqual([2, 4, 6]);
    u.dispose();
  });
});
