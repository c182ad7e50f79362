// The public API, written once and run on every backend that init() can start here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { EPS, initOptions, mismatch, rng, threadsAvailable } from './helpers.js';

const backends = ['js', 'wasm', ...((await threadsAvailable()) ? ['wasm-threads' as const] : [])] as const;

describe.each(backends)('API on the %s backend', (name) => {
  beforeAll(async () => {
    const info = await sd.init(await initOptions(name));
    expect(info.backend).toBe(name);
  });
  afterAll(() => sd.shutdown());

  it('creates tensors from numbers, nested arrays and typed arrays', () => {
    sd.tidy(() => {
      expect(sd.tensor(3).shape).toEqual([]);
      expect(sd.tensor(3).dataSync()[0]).toBe(3);
      const t = sd.tensor([[1, 2, 3], [4, 5, 6]]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.size).toBe(6);
      expect(t.rank).toBe(2);
      expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(t.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
      expect(sd.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]).arraySync()).toEqual([[1, 2], [3, 4]]);
      expect(sd.tensor(Int32Array.of(7, 8)).arraySync()).toEqual([7, 8]);
      expect(sd.zeros([2, 0]).size).toBe(0);
      expect(Array.from(sd.full([3], 2.5).dataSync())).toEqual([2.5, 2.5, 2.5]);
      expect(Array.from(sd.ones([2]).dataSync())).toEqual([1, 1]);
    });
  });

  it('reads asynchronously with data() and array()', async () => {
    const t = sd.tensor([[1, 2], [3, 4]]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4]);
    expect(await t.array()).toEqual([[1, 2], [3, 4]]);
    t.dispose();
  });

  it('matmul in all forms, as a function and as a method', () => {
    sd.tidy(() => {
      const a = sd.tensor([[1, 2, 3], [4, 5, 6]]); // [2, 3]
      const b = sd.tensor([[1, 0], [0, 1], [1, 1]]); // [3, 2]
      expect(sd.matmul(a, b).arraySync()).toEqual([[4, 5], [10, 11]]);
      expect(a.matmul(b).arraySync()).toEqual([[4, 5], [10, 11]]);
      expect(sd.matmul(a, a, { transposeB: true }).arraySync()).toEqual([[14, 32], [32, 77]]);
      expect(sd.matmul(a, a, { transposeA: true }).arraySync()).toEqual([[17, 22, 27], [22, 29, 36], [27, 36, 45]]);
      expect(sd.matmul(b, a, { transposeA: true, transposeB: true }).arraySync()).toEqual([[4, 10], [5, 11]]);
    });
  });

  it('dense fuses matmul, bias and activation', () => {
    sd.tidy(() => {
      const x = sd.tensor([[1, -2], [3, 4]]);
      const w = sd.tensor([[1, 0, -1], [0, 1, 1]]);
      const bias = sd.tensor([0.5, -10, 0]);
      expect(sd.dense(x, w, bias).arraySync()).toEqual([[1.5, -12, -3], [3.5, -6, 1]]);
      expect(sd.dense(x, w, bias, 'relu').arraySync()).toEqual([[1.5, 0, 0], [3.5, 0, 1]]);
      const lr = sd.dense(x, w, null, 'leakyRelu', 0.5).dataSync();
      expect(Array.from(lr)).toEqual([1, -1, -1.5, 3, 4, 1]);
      const sig = sd.dense(x, w, bias, 'sigmoid').dataSync();
      expect(sig[0]).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 6);
    });
  });

  it('broadcasts binary ops like numpy, and accepts numbers', () => {
    sd.tidy(() => {
      const a = sd.tensor([[1, 2, 3], [4, 5, 6]]);
      expect(a.add(sd.tensor([10, 20, 30])).arraySync()).toEqual([[11, 22, 33], [14, 25, 36]]);
      expect(a.sub(sd.tensor([[1], [2]])).arraySync()).toEqual([[0, 1, 2], [2, 3, 4]]);
      expect(a.mul(2).arraySync()).toEqual([[2, 4, 6], [8, 10, 12]]);
      expect(sd.div(12, a).arraySync()).toEqual([[12, 6, 4], [3, 2.4000000953674316, 2]]);
      expect(sd.tensor([[1], [2]]).add(sd.tensor([10, 20, 30])).arraySync()).toEqual([[11, 21, 31], [12, 22, 32]]);
      const c = sd.tensor(new Float32Array(24).map((_, i) => i), [2, 3, 4]);
      const d = sd.tensor([100, 200, 300], [1, 3, 1]);
      const e = c.add(d).dataSync();
      for (let i = 0; i < 24; i++) expect(e[i]).toBe(i + 100 * (1 + (Math.floor(i / 4) % 3)));
      expect(sd.maximum(a, 3.5).arraySync()).toEqual([[3.5, 3.5, 3.5], [4, 5, 6]]);
      expect(a.greater(3).arraySync()).toEqual([[0, 0, 0], [1, 1, 1]]);
      expect(a.pow(2).arraySync()).toEqual([[1, 4, 9], [16, 25, 36]]);
      expect(() => a.add(sd.tensor([1, 2]))).toThrow(/add: shapes \[2, 3\] and \[2\] cannot be broadcast/);
    });
  });

  it('unary ops and activations', () => {
    sd.tidy(() => {
      const x = sd.tensor([-2, -0.5, 0, 0.5, 2]);
      expect(Array.from(x.relu().dataSync())).toEqual([0, 0, 0, 0.5, 2]);
      expect(Array.from(x.abs().dataSync())).toEqual([2, 0.5, 0, 0.5, 2]);
      expect(Array.from(x.neg().dataSync())).toEqual([2, 0.5, -0, -0.5, -2]);
      expect(Array.from(sd.leakyRelu(x, 0.1).dataSync())).toEqual([Math.fround(-0.2), Math.fround(-0.05), 0, 0.5, 2]);
      const checks: [sd.Tensor, (v: number) => number][] = [
        [x.sigmoid(), (v) => 1 / (1 + Math.exp(-v))],
        [x.tanh(), Math.tanh],
        [x.exp(), Math.exp],
        [x.softplus(), (v) => Math.log1p(Math.exp(v))],
        [x.elu(), (v) => (v > 0 ? v : Math.expm1(v))],
        [x.square(), (v) => v * v],
      ];
      const xs = [-2, -0.5, 0, 0.5, 2];
      for (const [t, f] of checks) expect(mismatch(t.dataSync(), xs.map(f), (i) => 8 * EPS * Math.max(1, Math.abs(f(xs[i]))))).toBe('');
      const g = sd.gelu(sd.tensor([-1, 0, 1])).dataSync();
      expect(g[0]).toBeCloseTo(-0.15865525, 6);
      expect(g[2]).toBeCloseTo(0.84134475, 6);
    });
  });

  it('reduces over all axes, one axis, several axes, with keepDims', () => {
    sd.tidy(() => {
      const a = sd.tensor([[1, 5, 3], [4, 2, 6]]);
      expect(a.sum().arraySync()).toBe(21);
      expect(a.sum(0).arraySync()).toEqual([5, 7, 9]);
      expect(a.sum(1).arraySync()).toEqual([9, 12]);
      expect(a.sum(-1, true).shape).toEqual([2, 1]);
      expect(a.mean(1).arraySync()).toEqual([3, 4]);
      expect(a.max(0).arraySync()).toEqual([4, 5, 6]);
      expect(a.min(1).arraySync()).toEqual([1, 2]);
      expect(a.argmax(1).arraySync()).toEqual([1, 2]);
      expect(a.argmin(0).arraySync()).toEqual([0, 1, 0]);
      expect(a.sum([0, 1]).arraySync()).toBe(21);
      expect(a.sumSquares().arraySync()).toBe(91);
      const c = sd.tensor(new Float32Array(24).map((_, i) => i), [2, 3, 4]);
      expect(c.sum(1).arraySync()).toEqual([[12, 15, 18, 21], [48, 51, 54, 57]]);
      expect(c.mean([0, 2]).arraySync()).toEqual([7.5, 11.5, 15.5]);
      expect(sd.zeros([0]).sum().arraySync()).toBe(0);
      expect(() => sd.zeros([0]).max()).toThrow(/max: cannot reduce an empty axis/);
      expect(() => a.sum(2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
    });
  });

  it('softmax, logSoftmax and softmaxCrossEntropy', () => {
    sd.tidy(() => {
      const z = sd.tensor([[1, 2, 3], [0, 0, 1000]]);
      const p = z.softmax().arraySync() as number[][];
      expect(p[1]).toEqual([0, 0, 1]);
      expect(p[0].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      const lp = z.logSoftmax().arraySync() as number[][];
      expect(lp[0][2]).toBeCloseTo(-0.40760596, 6);
      const labels = sd.tensor([2, 0]);
      const loss = sd.softmaxCrossEntropy(z, labels).dataSync()[0];
      expect(loss).toBeCloseTo((0.40760596 + 1000) / 2, 3);
      const perRow = sd.softmaxCrossEntropy(z, sd.tensor([[0, 0, 1], [1, 0, 0]]), 'none').dataSync();
      expect(perRow[0]).toBeCloseTo(0.40760596, 6);
      expect(() => sd.softmaxCrossEntropy(z, sd.tensor([3, 0]))).toThrow(/label 3 at row 0 is not a class index in 0..2/);
      expect(() => sd.softmaxCrossEntropy(z, sd.tensor([1, 0, 1]))).toThrow(/labels \[3\] do not match logits \[2, 3\]/);
    });
  });

  it('reshape shares storage; transpose and clone copy', () => {
    const before = sd.memory();
    sd.tidy(() => {
      const a = sd.tensor([[1, 2, 3], [4, 5, 6]]);
      const r = a.reshape([3, -1]);
      expect(r.shape).toEqual([3, 2]);
      expect(sd.memory().bytes - before.bytes).toBe(24); // one storage for both
      expect(a.transpose().arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
      expect(a.flatten().shape).toEqual([2, 3]);
      expect(() => a.reshape([4, 2])).toThrow(/cannot reshape \[2, 3\] \(6 values\) to \[4, 2\]/);
    });
    expect(sd.memory().tensors).toBe(before.tensors);
  });

  it('tidy frees intermediates and keeps what is returned; dispose is idempotent', () => {
    const before = sd.memory();
    const kept = sd.tidy(() => {
      const a = sd.tensor([1, 2, 3]);
      const b = a.mul(2).add(1);
      return { b, list: [a.exp()] };
    });
    expect(sd.memory().tensors).toBe(before.tensors + 2);
    expect(Array.from(kept.b.dataSync())).toEqual([3, 5, 7]);
    sd.dispose(kept);
    kept.b.dispose();
    expect(sd.memory().tensors).toBe(before.tensors);
    expect(sd.memory().bytes).toBe(before.bytes);
    // Nested scopes and keep().
    const outer = sd.tidy(() => {
      const inner = sd.tidy(() => sd.tensor([1]).add(1));
      const k = sd.keep(sd.tensor([5]));
      expect(inner.isDisposed).toBe(false);
      return k;
    });
    expect(outer.isDisposed).toBe(false);
    outer.dispose();
    expect(sd.memory().tensors).toBe(before.tensors);
    // A throwing function still frees its tensors.
    expect(() => sd.tidy(() => { sd.tensor([1, 2]); throw new Error('boom'); })).toThrow('boom');
    expect(sd.memory().tensors).toBe(before.tensors);
    expect(() => sd.tidy((async () => sd.tensor([1])) as any)).toThrow(/synchronous/);
    expect(sd.memory().tensors).toBe(before.tensors);
  });

  it('memory() stays flat over a long run of ops', () => {
    const r = rng(1);
    const w = sd.tensor(r.array(64 * 32), [64, 32]);
    const step = () => sd.tidy(() => sd.tensor(r.array(16 * 64), [16, 64]).matmul(w).relu().softmax().sum(0));
    for (let i = 0; i < 20; i++) step().dispose();
    const warm = sd.memory();
    for (let i = 0; i < 500; i++) step().dispose();
    const after = sd.memory();
    expect(after.tensors).toBe(warm.tensors);
    expect(after.bytes).toBe(warm.bytes);
    expect(after.backend.allocatedBytes).toBe(warm.backend.allocatedBytes);
    expect(after.backend.reservedBytes).toBe(warm.backend.reservedBytes);
    w.dispose();
  });

  it('refuses bad input with errors that name the op and the fix, and stays usable', () => {
    const a = sd.tensor([[1, 2], [3, 4]]);
    const cases: [() => unknown, RegExp][] = [
      [() => sd.matmul(a, sd.tensor([[1, 2, 3]])), /matmul: inner sizes differ: a is \[2, 2\] and b is \[1, 3\]/],
      [() => sd.matmul(a, sd.tensor([1, 2])), /matmul: expects 2-D tensors/],
      [() => sd.matmul(a, [[1]] as any), /matmul: b must be a Tensor, got an array/],
      [() => sd.tensor([[1, 2], [3]]), /ragged/],
      [() => sd.tensor([1, 2, 3], [2, 2]), /shape \[2, 2\] holds 4 values but the data has 3/],
      [() => sd.zeros([2, -1]), /every size must be a non-negative integer/],
      [() => sd.zeros([2.5]), /every size must be a non-negative integer/],
      [() => sd.zeros([Infinity]), /every size must be a non-negative integer/],
      [() => sd.zeros([2 ** 20, 2 ** 20]), /limit is 2\^30/],
      [() => sd.tensor('abc' as any), /data must be a number, an array of numbers or a typed array/],
      [() => sd.softmax(a, 0), /only the last axis/],
      [() => sd.dense(a, a, sd.tensor([1, 2, 3])), /bias must have shape \[2\]/],
      [() => sd.dense(a, a, null, 'swish' as any), /unknown activation 'swish'/],
      [() => sd.leakyRelu(a, NaN), /slope must be a finite number/],
      [() => sd.maximum(a, sd.tensor([1, 2, 3])), /^maximum: shapes \[2, 2\] and \[3\] cannot be broadcast/],
      [() => sd.matmul(a, a, { transposeb: true } as any), /matmul: unknown option 'transposeb' \(did you mean 'transposeB'\?\); known options: transposeA, transposeB/],
      [() => sd.layers.linear(2, 3, { activaton: 'relu' } as any), /layers.linear: unknown option 'activaton'/],
    ];
    for (const [fn, re] of cases) expect(fn).toThrow(re);
    const d = sd.tensor([1]);
    d.dispose();
    expect(() => d.add(1)).toThrow(/was disposed/);
    expect(() => d.dataSync()).toThrow(/was disposed/);
    expect(a.matmul(a).arraySync()).toEqual([[7, 10], [15, 22]]);
    a.dispose();
  });
});

describe('weight initialisation', () => {
  afterAll(() => sd.shutdown());

  it('gives bit-identical weights on every backend (He, LeCun and Glorot; odd sizes; several seeds)', async () => {
    // wasm fills normal weights in a kernel (f32_fill_normal) and js in JS (src/core/random.ts): the same
    // stream and the same float64 arithmetic, so the same float32 weights, to the bit.
    const build = () => [
      ...[0, 1, 7, 2 ** 40 + 3].map((seed) => sd.mlp([784, 512, 256, 10], { seed })),
      sd.mlp([3, 5, 7, 1], { seed: 11 }),
      sd.mlp([13, 1], { seed: 5, outputActivation: 'relu' }),
      sd.mlp([5, 3, 2], { seed: 9, init: 'lecun' }),
      sd.sequential([new sd.Linear(9, 7, { activation: 'tanh', init: 'lecun', seed: 3 }), new sd.Linear(7, 1, { init: 'he', seed: 4 })]),
    ];
    const weights = async (name: 'js' | 'wasm' | 'wasm-threads') => {
      await sd.init(await initOptions(name));
      const models = build();
      const w = models.map((m) => m.getWeights());
      for (const m of models) m.dispose();
      return w;
    };
    const want = await weights('js');
    for (const name of backends.filter((b) => b !== 'js')) {
      const got = await weights(name);
      for (let m = 0; m < want.length; m++)
        for (let p = 0; p < want[m].length; p++) {
          const a = new Uint32Array(want[m][p].buffer, want[m][p].byteOffset, want[m][p].length);
          const b = new Uint32Array(got[m][p].buffer, got[m][p].byteOffset, got[m][p].length);
          expect(b.length).toBe(a.length);
          const at = a.findIndex((x, i) => x !== b[i]); // (toEqual on 400k elements takes seconds)
          expect(at, `${name}: model ${m}, parameter ${p}: first difference at ${at}: ${want[m][p][at]} vs ${got[m][p][at]}`).toBe(-1);
        }
    }
  });
});

describe('init and info', () => {
  afterAll(() => sd.shutdown());

  it('refuses to run before init, with the fix in the message', () => {
    sd.shutdown();
    expect(() => sd.tensor([1])).toThrow(/call `await init\(\)` first/);
    expect(() => sd.info()).toThrow(/not initialised/);
  });

  it('auto picks the wasm backend here and says which build runs and why', async () => {
    const info = await sd.init();
    expect(info.backend).toBe('wasm');
    expect(info.runtime).toBe('node');
    expect(info.features.simd).toBe(true);
    expect(['simd', 'relaxed']).toContain(info.binary);
    expect(info.binary === 'relaxed').toBe(info.features.relaxedSimd);
    expect(info.notes.some((n) => /threads/.test(n))).toBe(true);
    const off = await sd.init({ relaxedSimd: false });
    expect(off.binary).toBe('simd');
    expect(off.notes.join(' ')).toMatch(/relaxed SIMD turned off/);
  });

  it('rejects unknown backends and options clearly', async () => {
    await expect(sd.init({ backend: 'cuda' as any })).rejects.toThrow(/unknown backend 'cuda'; use one of 'auto', 'js', 'wasm'/);
    await expect(sd.init({ backnd: 'js' } as any)).rejects.toThrow(/unknown option 'backnd'/);
    await expect(sd.init({ maxMemoryMB: -1 })).rejects.toThrow(/maxMemoryMB/);
  });

  it('tensors of a replaced backend give a clear error', async () => {
    await sd.init({ backend: 'js' });
    const t = sd.tensor([1, 2]);
    await sd.init({ backend: 'wasm' });
    expect(() => t.add(1)).toThrow(/belongs to the 'js' backend, which init\(\) has since replaced/);
    expect(sd.memory().tensors).toBe(0);
    t.dispose();
    expect(sd.memory().tensors).toBe(0);
  });

  it('running out of wasm memory is a clear error and the runtime stays usable', async () => {
    await sd.init({ backend: 'wasm', maxMemoryMB: 8 });
    const small = sd.tensor([1, 2, 3]);
    expect(() => sd.zeros([4, 1024, 1024])).toThrow(/out of memory: .* cannot grow past 8\.0 MiB/);
    expect(sd.memory().tensors).toBe(1);
    expect(Array.from(small.add(1).dataSync())).toEqual([2, 3, 4]);
  });
});
