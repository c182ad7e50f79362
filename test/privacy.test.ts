// Differentially private training: the ghost clipping of a private step against per-sample gradients
// clipped one by one, the private path's equality with the ordinary one at σ = 0 and C = ∞, the noise, the
// accountant against an independent computation, and the refusals before training.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { hash32, normalAt } from '../src/backend/math.js';
import { engine } from '../src/core/engine.js';
import { epsilonOf, logA, ORDERS, rdpStep } from '../src/train/accountant.js';
import { privateStepGradients } from '../src/train/step.js';
import { bucket, type Privacy } from '../src/train/privacy.js';
import { initOptions, rng, threadsAvailable } from './helpers.js';

const backends = ['js', 'wasm', ...((await threadsAvailable()) ? ['wasm-threads' as const] : [])] as const;
const ref = JSON.parse(readFileSync(new URL('./fixtures/accountant-reference.json', import.meta.url), 'utf8'));

/** A per-feature affine map written with the dense op: its weight and bias clip like a linear layer's. */
class DenseBlock extends sd.Layer {
  readonly type = 'denseBlock';
  readonly w: sd.Tensor;
  readonly b: sd.Tensor;
  constructor(readonly width: number) {
    super();
    this.w = sd.layers.parameter([width, width], 'glorot', 4);
    this.b = sd.layers.parameter([width], 'zeros');
  }
  override get inFeatures() {
    return this.width;
  }
  override params() {
    return [this.w, this.b];
  }
  forward(x: sd.Tensor) {
    return sd.add(x, sd.dense(x, this.w, this.b, 'tanh'));
  }
  outFeatures(n: number) {
    return n;
  }
  config() {
    return { type: 'denseBlock', width: this.width };
  }
}

/** A layer with an elementwise parameter: its per-sample gradient is not a dense layer's. */
class Gain extends sd.Layer {
  readonly type = 'gain';
  readonly g: sd.Tensor;
  constructor(readonly width: number) {
    super();
    this.g = sd.layers.parameter([width], 'ones');
  }
  override params() {
    return [this.g];
  }
  forward(x: sd.Tensor) {
    return sd.mul(x, this.g);
  }
  outFeatures(n: number) {
    return n;
  }
  config() {
    return { type: 'gain', width: this.width };
  }
}

describe.each(backends)('private training on %s', (backend) => {
  beforeAll(async () => {
    await sd.init(await initOptions(backend));
  });
  afterAll(() => sd.shutdown());

  const cases: { name: string; build: () => sd.Sequential; loss: sd.LossName; y: (r: ReturnType<typeof rng>, n: number) => sd.Tensor }[] = [
    { name: 'relu mlp, softmax cross-entropy', build: () => sd.mlp([5, 7, 6, 3], { seed: 1 }), loss: 'softmaxCrossEntropy', y: (r, n) => sd.tensor(Array.from({ length: n }, () => r.int(3))) },
    { name: 'gelu (reads x), mse', build: () => sd.mlp([5, 8, 2], { activation: 'gelu', seed: 2 }), loss: 'mse', y: (r, n) => sd.tensor(r.array(n * 2), [n, 2]) },
    { name: 'tanh and sigmoid (read y), elu, binary cross-entropy', build: () => sd.sequential([sd.layers.linear(5, 6, { activation: 'tanh', seed: 1 }), sd.layers.linear(6, 6, { activation: 'elu', seed: 2 }), sd.layers.linear(6, 1, { activation: 'sigmoid', seed: 3 })]), loss: 'binaryCrossEntropy', y: (r, n) => sd.tensor(Array.from({ length: n }, () => r.int(2))) },
    { name: 'a layer of the user\'s own built on the dense op, standalone activation, no bias, huber', build: () => sd.sequential([sd.layers.linear(5, 4, { seed: 1, bias: false }), new DenseBlock(4), sd.layers.relu(), sd.layers.linear(4, 1, { seed: 5 })]), loss: 'huber', y: (r, n) => sd.tensor(r.array(n, -3, 3)) },
  ];

  for (const c of cases) {
    it(`a private step's clipped sum equals the per-sample gradients clipped one by one: ${c.name}`, () => {
      const r = rng(6);
      const n = 9;
      const model = c.build();
      const x = sd.tensor(r.array(n * 5, -2, 2), [n, 5]);
      const y = c.y(r, n);
      for (const clip of [0.05, 0.5, Infinity]) {
        const privacy: Privacy = { clip, sigma: 0, delta: 1e-5, sampling: 'shuffle', q: 1 };
        const got = privateStepGradients(model, x, y, c.loss, privacy);
        // Each row alone through autograd: its gradient over all parameters, its norm, its clip factor.
        const params = model.parameters();
        const want = params.map((p) => new Float64Array(p.size));
        let clipped = 0;
        for (let i = 0; i < n; i++) {
          const g = sd.tidy(() => {
            const xi = sd.gatherRows(x, [i]), yi = sd.gatherRows(y, [i]);
            sd.backward(sd.losses[c.loss](model.forward(xi, { training: true }), yi));
            return params.map((p) => p.grad!.dataSync());
          });
          model.zeroGrad();
          const norm = Math.sqrt(g.reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0));
          const f = Math.min(1, clip / (norm + 1e-6));
          if (f < 1) clipped++;
          g.forEach((a, k) => a.forEach((v, j) => (want[k][j] += (f * v) / n)));
        }
        if (clip === 0.05) expect(clipped).toBe(n); // the clipping is exercised
        got.forEach((g, k) => {
          const scale = Math.max(1e-3, ...Array.from(want[k], Math.abs));
          for (let j = 0; j < g.length; j++) expect(Math.abs(g[j] - want[k][j]), `C=${clip} param ${k}[${j}]`).toBeLessThanOrEqual(2e-5 * scale);
        });
      }
      sd.dispose([x, y]);
      model.dispose();
      expect(sd.memory().tensors).toBe(0);
    });
  }

  it('σ = 0 and C = ∞ with shuffled batches is the ordinary run, bit for bit (dropout included)', async () => {
    const r = rng(3);
    const n = 50;
    const x = sd.tensor(r.array(n * 6, -2, 2), [n, 6]), y = sd.tensor(Array.from({ length: n }, () => r.int(3)));
    const run = async (privacy?: sd.PrivacyOptions) => {
      const m = sd.mlp([6, 12, 3], { dropout: 0.2, seed: 4 });
      const h = await m.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 3, batchSize: 16, seed: 9, privacy });
      const w = m.getWeights();
      m.dispose();
      return { h, w };
    };
    const a = await run(), b = await run({ noiseMultiplier: 0, maxGradNorm: Infinity, sampling: 'shuffle' });
    b.w.forEach((w, i) => expect(Array.from(w), `parameter ${i}`).toEqual(Array.from(a.w[i])));
    expect(b.h.loss).toEqual(a.h.loss);
    expect(b.h.accuracy).toEqual(a.h.accuracy);
    expect(b.h.epsilon).toEqual([Infinity, Infinity, Infinity]);
    sd.dispose([x, y]);
  });

  it('Poisson-sampled private training: reproducible bit for bit, ε in the history equals the accountant, and it learns', async () => {
    const r = rng(11);
    const n = 400;
    const xs = r.array(n * 4, -2, 2);
    const x = sd.tensor(xs, [n, 4]), y = sd.tensor(Array.from({ length: n }, (_, i) => (xs[4 * i] + xs[4 * i + 1] > 0 ? 1 : 0)));
    const run = async (seed: number) => {
      const m = sd.mlp([4, 16, 2], { seed: 1 });
      const epochs: number[] = [];
      const optimizer = sd.optimizers.adam({ lr: 1e-2 });
      const h = await m.fit(x, y, {
        loss: 'softmaxCrossEntropy', epochs: 8, batchSize: 40, seed, optimizer,
        privacy: { noiseMultiplier: 0.8, maxGradNorm: 1, delta: 1e-4 },
        callbacks: { onEpochEnd: (_e, l) => void epochs.push(l.epsilon!) },
      });
      const w = m.getWeights();
      const acc = sd.metrics.accuracy(m.predictClasses(x), y);
      m.dispose();
      optimizer.dispose();
      return { h, w, acc, epochs };
    };
    const a = await run(5), b = await run(5), c = await run(6);
    b.w.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(a.w[i])));
    expect(c.w[0]).not.toEqual(a.w[0]);
    expect(a.h.steps).toBe(8 * 10);
    const want = sd.privacy.epsilon({ n, batchSize: 40, noiseMultiplier: 0.8, steps: 80, delta: 1e-4 }).epsilon;
    expect(a.h.epsilon.at(-1)).toBeCloseTo(want, 10);
    expect(a.epochs).toEqual(a.h.epsilon);
    expect(a.h.epsilon.every((e, i) => i === 0 || e > a.h.epsilon[i - 1])).toBe(true);
    console.log(`Poisson DP on ${backend}: accuracy ${a.acc.toFixed(3)} at ε = ${want.toFixed(2)} (δ = 1e-4)`);
    expect(a.acc).toBeGreaterThan(0.8);
    sd.dispose([x, y]);
    expect(sd.memory().tensors).toBe(0);
  });

  it('addNormal: a stream split into calls at any offset and length adds the bits of one call, and 2^18 values stay within float32 rounding of normalAt', () => {
    const be = engine.requireBackend();
    const N = 1 << 18;
    for (const [seed, base] of [[3, 0], [77, 0x7ffffff7], [0xdeadbeef, 0xfffe0001]]) {
      const key = hash32(seed);
      const h = be.alloc(N);
      be.write(h, new Float32Array(N));
      be.addNormal(N, h, 1, seed, base);
      const whole = be.readSync(h, N);
      be.free(h);
      // Box–Muller in float32 (wasm): the polynomials and log leave ~2e-7·(1 + |z|); rounding u1 = h1·2^-32 to
      // float32 moves u1 by up to 2^-25 relatively, which moves r = √(−2 ln u1) by up to 2^-25/r near u1 = 1
      // (and by at most 2^-12 where u1 rounds to 1): the second term. js is the float64 reference itself.
      let bad = '';
      for (let i = 0; i < N && !bad; i++) {
        const z = normalAt(key, (base + i) >>> 0), az = Math.abs(z);
        if (Math.abs(whole[i] - z) > 5e-7 * (1 + az) + 2 ** -24 / Math.max(az, 2 ** -12)) bad = `element ${i} (counter ${(base + i) >>> 0}): ${whole[i]}, normalAt ${z}`;
      }
      expect(bad).toBe('');
      // Slices through every path of the kernels: an odd start, the 16-value body, an 8-value group, the tail.
      for (const [start, len] of [[0, 1], [1, 2], [3, 7], [5, 8], [8, 9], [13, 15], [16, 16], [17, 17], [31, 23], [40, 24], [63, 25], [100, 33], [1001, 4099]]) {
        const part = be.alloc(len);
        const y0 = rng(start).array(len);
        be.write(part, y0);
        be.addNormal(len, part, 1.5, seed, (base + start) >>> 0);
        const got = be.readSync(part, len);
        be.free(part);
        // y0 + 1.5·z in float32, z the bits of the one call (the kernels' float32 operations; js adds 1.5·z in float64).
        const want = y0.map((v, i) => (backend === 'js' ? v + 1.5 * normalAt(key, (base + start + i) >>> 0) : v + Math.fround(1.5 * whole[start + i])));
        expect(Array.from(got), `seed ${seed} offset ${base}+${start}, ${len} values`).toEqual(Array.from(want));
      }
    }
  });

  it('bad privacy options, δ ≥ 1/n, a batch above n, and a layer the clipper cannot handle are refused before any training', async () => {
    const r = rng(2);
    const x = sd.tensor(r.array(20 * 3), [20, 3]), y = sd.tensor(Array.from({ length: 20 }, () => r.int(2)));
    const model = sd.sequential([sd.layers.linear(3, 4, { seed: 1 }), new Gain(4), sd.layers.linear(4, 2, { seed: 2 })]);
    const before = model.getWeights();
    const plain = sd.mlp([3, 4, 2], { seed: 1 });
    const fit = (m: sd.Sequential, privacy: unknown, extra: Partial<sd.FitOptions> = {}) => m.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 2, batchSize: 5, privacy: privacy as sd.PrivacyOptions, ...extra });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => fit(plain, { noiseMultiplier: -1, maxGradNorm: 1 }), /privacy.noiseMultiplier must be a finite number ≥ 0, got -1/],
      [() => fit(plain, { noiseMultiplier: 1, maxGradNorm: 0 }), /privacy.maxGradNorm must be a positive number/],
      [() => fit(plain, { noiseMultiplier: 1, maxGradNorm: 1, delta: 0.05 }), /privacy.delta 0.05 is not below 1\/n = 0.05 for the 20 training rows/],
      [() => fit(plain, { noiseMultiplier: 1, maxGradNorm: 1, delta: 0.01 }, { batchSize: 21 }), /privacy needs batchSize ≤ the 20 training rows/],
      [() => fit(plain, { noiseMultiplier: 1, targetEpsilon: 2, maxGradNorm: 1, delta: 0.01 }), /privacy needs noiseMultiplier \(σ\) or targetEpsilon .*not both/],
      [() => fit(plain, { maxGradNorm: 1, delta: 0.01 }), /not neither/],
      [() => fit(plain, { noiseMultiplier: 1, maxGradNorm: 1, delta: 0.01, sampling: 'uniform' }), /privacy.sampling must be 'poisson' or 'shuffle'/],
      [() => fit(plain, { noiseMultiplier: 1, maxGradNorm: 1, delta: 0.01, clip: 1 }), /privacy has an unknown option 'clip'/],
      [() => fit(model, { noiseMultiplier: 1, maxGradNorm: 1, delta: 0.01 }), /privacy clips per-sample gradients of dense layers .* parameter 2 \[4\] gets its gradient from another op/],
    ];
    for (const [call, re] of cases) await expect(call()).rejects.toThrow(re);
    model.getWeights().forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(before[i])));
    model.dispose();
    plain.dispose();
    sd.dispose([x, y]);
    expect(sd.memory().tensors).toBe(0);
  });
});

describe('the noise and the accountant', () => {
  it('the counter-based Gaussian stream has mean 0, variance 1 and a normal distribution (Kolmogorov–Smirnov)', () => {
    const key = hash32(12345);
    const n = 200_000;
    const z = Float64Array.from({ length: n }, (_, i) => normalAt(key, i));
    const mean = z.reduce((a, b) => a + b, 0) / n;
    const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    z.sort();
    // Φ by the error function's relation to erfc (a series good to 1e-7 is plenty for a KS bound of ~4e-3).
    const phi = (t: number) => 0.5 * (1 + erf(t / Math.SQRT2));
    let d = 0;
    for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(phi(z[i]) - (i + 0.5) / n));
    expect(d).toBeLessThan(1.63 / Math.sqrt(n)); // the 1% critical value
    expect(Math.max(...z.slice(-5))).toBeLessThan(6.8);
  });

  it('ε matches an independent computation (mpmath integration) within 1% on five settings, TensorFlow Privacy\'s MNIST tutorial among them', () => {
    for (const s of ref.settings) {
      const got = sd.privacy.epsilon({ n: s.n, batchSize: s.batchSize, noiseMultiplier: s.noiseMultiplier, epochs: s.epochs, delta: s.delta });
      expect(Math.abs(got.epsilon / s.epsilon - 1), JSON.stringify(s)).toBeLessThan(0.01);
      expect(got.steps).toBe(s.steps);
    }
    const tf = ref.settings[0];
    expect(tf.epsilon).toBeGreaterThan(2.9);
    expect(tf.epsilon).toBeLessThan(3.1);
    for (const a of ref.logA) expect(Math.abs(logA(a.q, a.sigma, a.alpha) / a.logA - 1), JSON.stringify(a)).toBeLessThan(1e-6);
  });

  it('ε from the memoised per-step RDP curve equals the conversion computed afresh, also after the memo has turned over', () => {
    // The curve computed here once per setting, and the classic conversion written out again.
    const curve = (q: number, sigma: number) => ORDERS.map((a) => rdpStep(q, sigma, a));
    const fresh = (rdp: number[], steps: number, delta: number) => {
      let best = { epsilon: Infinity, order: NaN };
      ORDERS.forEach((a, j) => {
        const e = steps * rdp[j] + Math.log(1 / delta) / (a - 1);
        if (e < best.epsilon) best = { epsilon: e, order: a };
      });
      return best;
    };
    const settings = ([[128 / 8000, 1.1], [256 / 60000, 1.1], [64 / 1437, 0.7], [0.5, 3], [1, 2], [0.01, 0]] as const).map(([q, sigma]) => ({ q, sigma, rdp: curve(q, sigma) }));
    for (let round = 0; round < 2; round++) {
      for (const { q, sigma, rdp } of settings) {
        for (const steps of [1, 63, 630, 10_000])
          for (const delta of [1e-5, 1e-7]) expect(epsilonOf(q, sigma, steps, delta), `q ${q} σ ${sigma} steps ${steps} δ ${delta}`).toEqual(fresh(rdp, steps, delta));
        expect(epsilonOf(q, sigma, 63, 1e-5, false)).toEqual(fresh(rdp, 63, 1e-5));
      }
      // Other settings push the first ones out of the memo before the next round.
      for (let k = 0; k < 10; k++) epsilonOf(0.02 + k / 1000, 1 + k / 10, 10, 1e-5);
    }
    const e = sd.privacy.epsilon({ n: 8000, batchSize: 128, noiseMultiplier: 1.1, steps: 63, delta: 1e-5 });
    expect({ epsilon: e.epsilon, order: e.order }).toEqual(fresh(settings[0].rdp, 63, 1e-5));
  });

  it('Poisson batches are padded to bucket sizes: monotone, at least 16, padding below max(8, √rows) rows, few sizes per fit', () => {
    let prev = 0;
    for (let rows = 0; rows <= 20_000; rows++) {
      const b = bucket(rows);
      expect(b >= rows && b >= 16 && b >= prev && b % 8 === 0, `rows ${rows} → ${b}`).toBe(true);
      // Padding costs a whole row's work each: keep it within the spread of Poisson batch sizes (σ ≈ √batch).
      if (rows >= 16) expect(b - rows, `rows ${rows} → ${b}`).toBeLessThan(Math.max(8, Math.sqrt(rows)));
      prev = b;
    }
    // Each size is a program of its own: batch sizes within ±4σ of the expected batch meet at most ~16.
    for (const batch of [32, 128, 256, 1000, 4096, 20_000]) {
      const sd4 = 4 * Math.sqrt(batch);
      const sizes = new Set<number>();
      for (let rows = Math.max(0, Math.floor(batch - sd4)); rows <= batch + sd4; rows++) sizes.add(bucket(rows));
      expect(sizes.size, `batch ${batch}`).toBeLessThanOrEqual(17);
    }
  });

  it('noiseFor inverts epsilon: the σ it finds spends at most the target, and 1% less noise would spend more', () => {
    for (const [targetEpsilon, n, batchSize, epochs] of [[1, 60000, 256, 60], [3, 1437, 64, 30], [8, 10000, 128, 10]] as const) {
      const delta = 1e-5;
      const sigma = sd.privacy.noiseFor({ targetEpsilon, delta, n, batchSize, epochs });
      expect(sd.privacy.epsilon({ n, batchSize, noiseMultiplier: sigma, epochs, delta }).epsilon).toBeLessThanOrEqual(targetEpsilon);
      expect(sd.privacy.epsilon({ n, batchSize, noiseMultiplier: sigma * 0.99, epochs, delta }).epsilon).toBeGreaterThan(targetEpsilon);
    }
    expect(() => sd.privacy.epsilon({ n: 100, batchSize: 10, noiseMultiplier: 1, epochs: 1, delta: 0.02 })).toThrow(/delta 0.02 is not below 1\/n = 0.01/);
    expect(() => sd.privacy.epsilon({ n: 100, batchSize: 200, noiseMultiplier: 1, epochs: 1, delta: 1e-4 })).toThrow(/batchSize 200 is larger than the 100 rows/);
    expect(() => sd.privacy.epsilon({ n: 100, batchSize: 10, noiseMultiplier: 1, delta: 1e-4 } as any)).toThrow(/give epochs or steps/);
  });
});

/** erf by its Taylor series (|t| < 3) or 1 − erfc by its continued fraction: ~1e-12 absolute. */
function erf(t: number): number {
  const a = Math.abs(t);
  let v: number;
  if (a < 3) {
    let term = a, s = a;
    for (let k = 1; k < 200; k++) {
      term *= (-a * a) / k;
      s += term / (2 * k + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    v = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (a + f);
    v = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return t < 0 ? -v : v;
}
