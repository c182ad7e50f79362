// explain(): integrated gradients, gradients, gradient × input and permutation importance, on every
// backend: those that read synchronously, and webgpu (Dawn on SwiftShader in Node, set up by
// vitest.config.ts), which does not, so every value here is read with `await data()`. The bars: completeness
// within 1% on a trained digits model, exact attributions for a linear model, and the right features found
// on a table built to depend on two.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { initOptions, rng, testGpu, threadsAvailable } from './helpers.js';

const { gpu, reason: noGpu } = await testGpu();
const backends = ['js', 'wasm', ...((await threadsAvailable()) ? ['wasm-threads' as const] : []), 'webgpu'] as const;
type Name = (typeof backends)[number];
const start = async (backend: Name) => (backend === 'webgpu' ? { backend, gpu: gpu! } : initOptions(backend));
/** A suite's name: webgpu's says why it is skipped where Node has no adapter. */
const title = (backend: Name) => (backend === 'webgpu' && !gpu ? `webgpu (skipped: ${noGpu})` : backend);

/**
 * The digits table, split on the host (every 5th row held out) with a standard scaler of the training rows'
 * float64 statistics: data.split and data.standardize read synchronously, which webgpu cannot.
 */
function digits(): { train: { x: sd.Tensor; y: sd.Tensor }; test: sd.Tensor; scaler: sd.Scaler } {
  const rows = readFileSync(new URL('../data/digits.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const train = rows.filter((_, i) => i % 5 !== 2), test = rows.filter((_, i) => i % 5 === 2);
  const mean = Array.from({ length: 64 }, (_, j) => train.reduce((s, r) => s + r[j], 0) / train.length);
  const std = mean.map((m, j) => Math.sqrt(train.reduce((s, r) => s + (r[j] - m) ** 2, 0) / train.length) || 1);
  return {
    train: { x: sd.tensor(train.map((r) => r.slice(0, 64))), y: sd.tensor(train.map((r) => r[64])) },
    test: sd.tensor(test.slice(0, 40).map((r) => r.slice(0, 64))),
    scaler: sd.data.scalerFromJSON({ kind: 'standard', mean, std }),
  };
}

/** The predicted class of each row, read asynchronously (webgpu has no dataSync). */
async function classes(model: sd.Sequential, x: sd.Tensor): Promise<number[]> {
  const p = model.predict(x);
  const out = await p.data();
  p.dispose();
  const K = model.outputSize;
  return Array.from({ length: out.length / K }, (_, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (out[r * K + k] > out[r * K + best]) best = k;
    return best;
  });
}

describe.each(backends.map((b) => [title(b), b] as const))('explain on %s', (_title, backend) => {
  const it_ = backend === 'webgpu' && !gpu ? it.skip : it;
  beforeAll(async () => {
    if (backend === 'webgpu' && !gpu) return;
    await sd.init(await start(backend));
  }, 120_000);
  afterAll(() => sd.shutdown());

  it_('integrated gradients on a trained digits model: completeness within 1% of |f(x) − f(baseline)| at 64 steps, for logits and probabilities', async () => {
    const { train, test: rows, scaler } = digits();
    const model = sd.mlp([64, 64, 10], { seed: 0 });
    model.preprocessing = { scaler };
    await model.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', epochs: 15, batchSize: 32 });
    for (const output of ['raw', 'probability'] as const) {
      const e = await sd.explain(model, rows, { output });
      expect(e.rows).toBe(40);
      expect(e.attributions.length).toBe(40 * 64);
      const worst = Math.max(...Array.from(e.gap!, (g, i) => g / Math.abs(e.outputs![i] - e.baselineOutputs![i])));
      console.log(`digits IG (${backend}, ${output}): worst completeness gap ${(100 * worst).toFixed(3)}% of |f(x) − f(baseline)| over 40 rows`);
      expect(worst).toBeLessThanOrEqual(0.01);
      // The predicted class is explained by default.
      expect(e.targets).toEqual(await classes(model, rows));
    }
    // The default baseline is zero after the scaler: the training mean in raw units.
    const mean = (model.preprocessing.scaler as sd.Scaler).params as { mean: Float32Array };
    const e0 = await sd.explain(model, rows, { baseline: 'zeros', steps: 8, target: 3 });
    const e1 = await sd.explain(model, rows, { baseline: mean.mean, steps: 8, target: 3 });
    const e2 = await sd.explain(model, rows, { baseline: 'mean', steps: 8, target: 3 });
    for (let i = 0; i < e0.attributions.length; i++) {
      expect(e1.attributions[i]).toBeCloseTo(e0.attributions[i], 4);
      expect(e2.attributions[i]).toBe(e1.attributions[i]);
    }
    sd.dispose([train.x, train.y, rows]);
    model.dispose();
    expect(sd.memory().tensors).toBe(0);
  }, 300_000);

  it_('a linear model: attributions are w·(x − baseline) exactly (float32), and the gradient is w', async () => {
    const r = rng(5);
    const F = 6;
    const model = sd.sequential([sd.layers.linear(F, 1, { seed: 3 })]);
    const w = await model.parameters()[0].data();
    const xs = r.array(4 * F, -3, 3), base = r.array(F, -1, 1);
    const ig = await sd.explain(model, sd.tensor(xs, [4, F]), { baseline: base });
    const grad = await sd.explain(model, sd.tensor(xs, [4, F]), { method: 'gradient' });
    const gxi = await sd.explain(model, sd.tensor(xs, [4, F]), { method: 'gradientXInput' });
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < F; j++) {
        const want = w[j] * (xs[i * F + j] - base[j]);
        expect(Math.abs(ig.attributions[i * F + j] - want)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.max(1, Math.abs(want)));
        expect(grad.attributions[i * F + j]).toBe(w[j]);
        expect(gxi.attributions[i * F + j]).toBe(Math.fround(w[j] * xs[i * F + j]));
      }
    expect(Math.max(...ig.gap!)).toBeLessThan(1e-5);
    // explain() keeps the quadratures it computed; the arrays quadrature() hands out are the caller's to change.
    const q = sd.quadrature(64, 'gaussLegendre');
    q.nodes.fill(0);
    q.weights.fill(0);
    const again = await sd.explain(model, sd.tensor(xs, [4, F]), { baseline: base });
    expect(Array.from(again.attributions)).toEqual(Array.from(ig.attributions));
    model.dispose();
  }, 300_000);

  it_('a table where y depends on features 0 and 3 only: permutation importance and mean |IG| rank them first, the rest near zero; seeded', async () => {
    const r = rng(8);
    const n = 600, F = 6;
    const xs = r.array(n * F, -2, 2);
    const ys = Float32Array.from({ length: n }, (_, i) => (xs[i * F] + 0.8 * xs[i * F + 3] > 0 ? 1 : 0));
    const x = sd.tensor(xs, [n, F]), y = sd.tensor(ys);
    const model = sd.mlp([F, 16, 2], { seed: 1 });
    await model.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 40, batchSize: 32, optimizer: sd.optimizers.adam({ lr: 1e-2 }) });
    const perm = await sd.explain(model, x, { method: 'permutation', y, repeats: 3, seed: 4 });
    expect(perm.permutation!.metric).toBe('accuracy');
    expect(perm.permutation!.score).toBeGreaterThan(0.95);
    expect(perm.top(2).map((t) => t.index).sort()).toEqual([0, 3]);
    for (const j of [1, 2, 4, 5]) expect(Math.abs(perm.attributions[j])).toBeLessThan(0.02);
    expect(perm.attributions[0]).toBeGreaterThan(0.2);
    const again = await sd.explain(model, x, { method: 'permutation', y, repeats: 3, seed: 4 });
    expect(Array.from(again.attributions)).toEqual(Array.from(perm.attributions));
    const ig = await sd.explain(model, sd.gatherRows(x, Array.from({ length: 100 }, (_, i) => i)), { target: 1 });
    const top = ig.top();
    expect(top.slice(0, 2).map((t) => t.index).sort()).toEqual([0, 3]);
    expect(top[2].value).toBeLessThan(0.1 * top[1].value);
    sd.dispose([x, y]);
    model.dispose();
  }, 300_000);

  it_("output 'probability' of a model that ends in softmax, logSoftmax or sigmoid is its output (not squashed twice)", async () => {
    const r = rng(12);
    const xs = sd.tensor(r.array(5 * 3, -2, 2), [5, 3]);
    const same = async (plain: sd.Sequential, ending: sd.Sequential, target: number) => {
      for (const method of ['integratedGradients', 'gradient'] as const) {
        const want = await sd.explain(plain, xs, { method, output: 'probability', target, steps: 16 });
        const got = await sd.explain(ending, xs, { method, output: 'probability', target, steps: 16 });
        // Equal but for rounding: exp(logSoftmax(z)) is another path to softmax(z) (exp is a 'transcendental'
        // op, 4 ulp, and its derivative reads the rounded y), so 2 × 4 ulp of the largest attribution. Before
        // the fix, the second softmax changed every value by far more (a squashed softmax is nearly flat).
        const scale = Math.max(...want.attributions.map(Math.abs));
        for (let i = 0; i < want.attributions.length; i++) expect(Math.abs(got.attributions[i] - want.attributions[i])).toBeLessThanOrEqual(8 * 2 ** -23 * scale);
      }
      plain.dispose();
      ending.dispose();
    };
    // Same seeds, same weights: the ending is the only difference.
    await same(sd.mlp([3, 5, 3], { seed: 2 }), sd.mlp([3, 5, 3], { seed: 2, outputActivation: 'softmax' }), 1);
    await same(sd.mlp([3, 5, 3], { seed: 2 }), sd.mlp([3, 5, 3], { seed: 2, outputActivation: 'logSoftmax' }), 2);
    await same(sd.mlp([3, 5, 1], { seed: 2 }), sd.mlp([3, 5, 1], { seed: 2, outputActivation: 'sigmoid' }), 0);
    xs.dispose();
  }, 300_000);

  it_('permutation importance of a one-output classifier scores accuracy (class: logit > 0, or sigmoid > 0.5)', async () => {
    const r = rng(13);
    const n = 400, F = 3;
    const xs = r.array(n * F, -1, 1);
    const x = sd.tensor(xs, [n, F]), y = sd.tensor(Float32Array.from({ length: n }, (_, i) => (xs[i * F] > 0 ? 1 : 0)));
    for (const outputActivation of ['linear', 'sigmoid'] as const) {
      // y = [x0 > 0]: a logit of 5·x0, or its sigmoid.
      const model = sd.sequential(outputActivation === 'linear' ? [sd.layers.linear(F, 1)] : [sd.layers.linear(F, 1, { activation: 'sigmoid' })]);
      model.setWeights([[5, 0, 0], [0]]);
      model.preprocessing = { task: 'classification' };
      const perm = await sd.explain(model, x, { method: 'permutation', y, repeats: 2, seed: 1 });
      expect(perm.permutation!.metric).toBe('accuracy');
      expect(perm.permutation!.score).toBe(1);
      expect(perm.attributions[0]).toBeGreaterThan(0.3); // about half the rows flip
      expect(perm.attributions[1]).toBe(0);
      expect(perm.attributions[2]).toBe(0);
      model.dispose();
    }
    sd.dispose([x, y]);
  }, 300_000);

  it_('bad input gets a clear Error naming the fix, and leaves nothing behind', async () => {
    const model = sd.mlp([3, 4, 2], { seed: 1 });
    const before = sd.memory().tensors;
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => sd.explain(model, [[1, 2]]), /takes 3 features per row, got x of shape \[1, 2\]; give \[rows, 3\]/],
      [() => sd.explain(model, [[1, 2, 3]], { target: 2 }), /target 2 is not an output of the model \(0..1\)/],
      [() => sd.explain(model, [[1, 2, 3], [1, 2, 3]], { target: [0] }), /target gives 1 classes for 2 rows/],
      [() => sd.explain(model, [[1, NaN, 3]]), /x holds NaN at row 0, column 1; explanations need finite features/],
      [() => sd.explain(model, [[1, 2, 3]], { steps: 0 }), /steps must be a positive integer/],
      [() => sd.explain(model, [[1, 2, 3]], { steps: 2.5 }), /steps must be a positive integer/],
      [() => sd.explain(model, [[1, 2, 3]], { method: 'shap' as any }), /unknown method 'shap'/],
      [() => sd.explain(model, [[1, 2, 3]], { method: 'permutation' }), /give y \(the labels of x's rows\)/],
      [() => sd.explain(model, [[1, 2, 3]], { baseline: [1, 2] }), /takes 3 features per row, got a baseline of shape \[2\]/],
      [() => sd.explain(model, [[1, 2, 3]], { baseline: 'mean' }), /baseline 'mean' is the training mean that a standard scaler keeps, and this model has no scaler/],
      [() => sd.explain(model, [[1, 2, 3]], { rule: 'simpson' as any }), /rule must be 'gaussLegendre' or 'trapezoid'/],
      [() => sd.explain(model, [[1, 2, 3]], { steps: 8, bogus: 1 } as any), /unknown option 'bogus'/],
    ];
    for (const [call, re] of cases) await expect(call()).rejects.toThrow(re);
    expect(sd.memory().tensors).toBe(before);
    model.dispose();
  }, 300_000);
});

describe('quadrature', () => {
  it('Gauss–Legendre integrates polynomials of degree 2m − 1 exactly on [0, 1]; the trapezoid weights sum to 1', () => {
    for (const m of [1, 2, 5, 16, 64]) {
      const { nodes, weights } = sd.quadrature(m, 'gaussLegendre');
      for (let d = 0; d <= 2 * m - 1; d++) {
        const got = nodes.reduce((s, t, i) => s + weights[i] * t ** d, 0);
        expect(got).toBeCloseTo(1 / (d + 1), 12);
      }
      expect(nodes.every((t, i) => t > 0 && t < 1 && (i === 0 || t > nodes[i - 1]))).toBe(true);
      const tr = sd.quadrature(m, 'trapezoid');
      expect(tr.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    }
  });
});
