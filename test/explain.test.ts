// explain(): integrated gradients, gradients, gradient × input and permutation importance, on every
// backend that reads synchronously or not. The bars: completeness within 1% on a trained digits model,
// exact attributions for a linear model, and the right features found on a table built to depend on two.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { initOptions, rng, threadsAvailable } from './helpers.js';

const backends = ['js', 'wasm', ...((await threadsAvailable()) ? ['wasm-threads' as const] : [])] as const;

function digits(): { x: sd.Tensor; y: sd.Tensor } {
  const rows = readFileSync(new URL('../data/digits.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { x: sd.tensor(rows.map((r) => r.slice(0, 64))), y: sd.tensor(rows.map((r) => r[64])) };
}

describe.each(backends)('explain on %s', (backend) => {
  beforeAll(async () => {
    await sd.init(await initOptions(backend));
  });
  afterAll(() => sd.shutdown());

  it('integrated gradients on a trained digits model: completeness within 1% of |f(x) − f(baseline)| at 64 steps, for logits and probabilities', async () => {
    const { x, y } = digits();
    const s = sd.data.split(x, y, { test: 0.2, stratify: true, seed: 0 });
    const model = sd.mlp([64, 64, 10], { seed: 0 });
    model.preprocessing = { scaler: sd.data.standardize(s.train.x) };
    await model.fit(s.train.x, s.train.y, { loss: 'softmaxCrossEntropy', epochs: 15, batchSize: 32 });
    const rows = sd.gatherRows(s.test.x, Array.from({ length: 40 }, (_, i) => i));
    for (const output of ['raw', 'probability'] as const) {
      const e = await sd.explain(model, rows, { output });
      expect(e.rows).toBe(40);
      expect(e.attributions.length).toBe(40 * 64);
      const worst = Math.max(...Array.from(e.gap!, (g, i) => g / Math.abs(e.outputs![i] - e.baselineOutputs![i])));
      console.log(`digits IG (${backend}, ${output}): worst completeness gap ${(100 * worst).toFixed(3)}% of |f(x) − f(baseline)| over 40 rows`);
      expect(worst).toBeLessThanOrEqual(0.01);
      // The predicted class is explained by default.
      expect(e.targets).toEqual(model.predictClasses(rows));
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
    sd.dispose([x, y, s.train.x, s.train.y, s.test.x, s.test.y, rows]);
    model.dispose();
    expect(sd.memory().tensors).toBe(0);
  });

  it('a linear model: attributions are w·(x − baseline) exactly (float32), and the gradient is w', async () => {
    const r = rng(5);
    const F = 6;
    const model = sd.sequential([sd.layers.linear(F, 1, { seed: 3 })]);
    const w = model.getWeights()[0];
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
    model.dispose();
  });

  it('a table where y depends on features 0 and 3 only: permutation importance and mean |IG| rank them first, the rest near zero; seeded', async () => {
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
  });

  it('bad input gets a clear Error naming the fix, and leaves nothing behind', async () => {
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
  });
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
