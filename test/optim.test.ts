// Optimizers and schedules (every backend's optimStep kernel against the js oracle is in the conformance
// suite, test/conformance.test.ts).
//  1. Optimizers through the public API on js and wasm, against the textbook update (torch.optim's
//     algorithm) written out below in float64 with plain loops, independent of src/.
//  2. Schedules against hand-written formulas, including torch's OneCycleLR and ReduceLROnPlateau logic.
//  3. Option validation, allocation-free steps, dispose, JSON round trips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { optimizers, schedules, type Optimizer } from '../src/optim/index.js';
import { mismatch, rng } from './helpers.js';

// ================================================================================ 1. textbook updates

type Kind = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
type Opts = Record<string, any>;

/** torch's defaults, restated here so the textbook code does not read src/. */
const DEFAULTS: Record<Kind, Opts> = {
  sgd: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, l1: 0 },
  adam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, l1: 0 },
  adamw: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false, l1: 0 },
  rmsprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0, l1: 0 },
  adagrad: { lr: 1e-2, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, weightDecay: 0, l1: 0 },
};

/**
 * The textbook updates (torch.optim's documented algorithms) in float64. `grads[k][i]` is the gradient of
 * parameter i at step k (undefined while it has not joined yet); `lrs[k]` the learning rate of step k.
 * Each parameter keeps its own step count t, as torch does.
 */
function textbook(kind: Kind, options: Opts, init: Float32Array[], grads: (Float32Array | undefined)[][], lrs: number[]): Float64Array[] {
  const o = { ...DEFAULTS[kind], ...options };
  const P = init.map((a) => Float64Array.from(a));
  const S = init.map((a) => ({ t: 0, a: new Float64Array(a.length), b: new Float64Array(a.length), c: new Float64Array(a.length) }));
  if (kind === 'adagrad') for (const s of S) s.a.fill(o.initialAccumulatorValue);
  const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
  for (let k = 0; k < grads.length; k++) {
    const lr = lrs[k];
    let scale = 1;
    if (o.clipNorm !== undefined) {
      let ss = 0;
      for (const g of grads[k]) if (g) for (const x of g) ss += x * x;
      scale = Math.min(1, o.clipNorm / (Math.sqrt(ss) + 1e-6));
    }
    grads[k].forEach((gi, i) => {
      if (!gi) return;
      const p = P[i], s = S[i];
      const t = ++s.t;
      for (let j = 0; j < p.length; j++) {
        let g = scale * gi[j];
        g += o.l1 * sign(p[j]);
        const coupledDecay = kind !== 'adamw';
        if (coupledDecay) g += o.weightDecay * p[j];
        if (kind === 'sgd') {
          let d = g;
          if (o.momentum !== 0) {
            s.a[j] = t === 1 ? g : o.momentum * s.a[j] + (1 - o.dampening) * g;
            d = o.nesterov ? g + o.momentum * s.a[j] : s.a[j];
          }
          p[j] -= lr * d;
        } else if (kind === 'adam' || kind === 'adamw') {
          const [b1, b2] = o.betas;
          if (kind === 'adamw') p[j] *= 1 - lr * o.weightDecay;
          s.a[j] = b1 * s.a[j] + (1 - b1) * g;
          s.b[j] = b2 * s.b[j] + (1 - b2) * g * g;
          const mHat = s.a[j] / (1 - b1 ** t);
          let vv = s.b[j];
          if (o.amsgrad) vv = s.c[j] = Math.max(s.c[j], s.b[j]);
          const vHat = vv / (1 - b2 ** t);
          p[j] -= (lr * mHat) / (Math.sqrt(vHat) + o.eps);
        } else if (kind === 'rmsprop') {
          s.a[j] = o.alpha * s.a[j] + (1 - o.alpha) * g * g;
          let vt = s.a[j];
          if (o.centered) {
            s.c[j] = o.alpha * s.c[j] + (1 - o.alpha) * g;
            vt -= s.c[j] * s.c[j];
          }
          if (o.momentum > 0) {
            s.b[j] = o.momentum * s.b[j] + g / (Math.sqrt(vt) + o.eps);
            p[j] -= lr * s.b[j];
          } else p[j] -= (lr * g) / (Math.sqrt(vt) + o.eps);
        } else {
          const clr = lr / (1 + (t - 1) * o.lrDecay);
          s.a[j] += g * g;
          p[j] -= (clr * g) / (Math.sqrt(s.a[j]) + o.eps);
        }
      }
    });
  }
  return P;
}

const CASES: [Kind, Opts][] = [
  ['sgd', { lr: 0.1 }],
  ['sgd', { lr: 0.05, momentum: 0.9 }],
  ['sgd', { lr: 0.05, momentum: 0.9, dampening: 0.3 }],
  ['sgd', { lr: 0.05, momentum: 0.9, nesterov: true }],
  ['sgd', { lr: 0.05, momentum: 0.5, weightDecay: 0.1 }],
  ['sgd', { lr: 0.1, l1: 0.01, weightDecay: 0.01 }],
  ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01, l1: 0.001, clipNorm: 1 }],
  ['adam', {}],
  ['adam', { lr: 0.01, weightDecay: 0.1 }],
  ['adam', { lr: 0.01, amsgrad: true }],
  ['adam', { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, l1: 0.01 }],
  ['adam', { lr: 0.01, clipNorm: 0.5, weightDecay: 0.01 }],
  ['adamw', {}],
  ['adamw', { lr: 0.01, weightDecay: 0.1, amsgrad: true }],
  ['adamw', { lr: 0.01, l1: 0.01, clipNorm: 2 }],
  ['rmsprop', {}],
  ['rmsprop', { momentum: 0.9 }],
  ['rmsprop', { centered: true, alpha: 0.9 }],
  ['rmsprop', { centered: true, momentum: 0.5, alpha: 0.9 }],
  ['rmsprop', { lr: 0.001, weightDecay: 0.1, l1: 0.01, clipNorm: 1 }],
  ['adagrad', {}],
  ['adagrad', { lr: 0.1, lrDecay: 0.05 }],
  ['adagrad', { lr: 0.1, initialAccumulatorValue: 0.1, weightDecay: 0.01 }],
  ['adagrad', { lr: 0.1, eps: 1e-6, l1: 0.01, clipNorm: 0.5 }],
];

// Sizes that walk the kernels' unrolled body (8 floats), 4-lane body and scalar tail.
const SHAPES = [[5, 7], [12], [3], [129]];
const STEPS = 20;
// Tolerance: the backends keep parameters and state in float32, so every step rounds each stored value
// (relative 2^-24) and the wasm kernels compute the update with a few float32 operations (a few 2^-24 of
// the update, which is at most ~lr·(a few) here). Modelled as ~4·2^-24 of max(1, |p|) per step, 20 steps
// allow 4.8e-6; we use 5e-6·max(1, |p|) (the largest error seen is 5.5e-7, on the wasm backend). An
// algorithmic slip (a missed bias correction, coupled instead of decoupled decay, dampening on the first
// momentum step, the lr change or the late parameter's own step count ignored) moves parameters by 1e-4
// or more within 20 steps. Where eps sits barely matters at eps = 1e-8; a dedicated test checks it.
const TOL = (p: number) => 5e-6 * Math.max(1, Math.abs(p));

describe.each(['js', 'wasm'] as const)('optimizers on the %s backend agree with the textbook update', (backend) => {
  beforeAll(async () => {
    await sd.init({ backend });
  });
  afterAll(() => sd.shutdown());

  /** Runs our optimizer; `join[i]` is the step at which parameter i first takes part. */
  function ours(opt: Optimizer, init: Float32Array[], grads: (Float32Array | undefined)[][], lrs: number[]): Float32Array[] {
    const params = init.map((a, i) => sd.tensor(a, SHAPES[i]));
    for (let k = 0; k < grads.length; k++) {
      opt.lr = lrs[k];
      const ps: sd.Tensor[] = [], gs: sd.Tensor[] = [];
      grads[k].forEach((g, i) => {
        if (!g) return;
        ps.push(params[i]);
        gs.push(sd.tensor(g, SHAPES[i]));
      });
      opt.step(ps, gs);
      sd.dispose(gs);
    }
    const out = params.map((p) => p.dataSync());
    sd.dispose(params);
    return out;
  }

  for (const [kind, options] of CASES) {
    it(`${kind}(${JSON.stringify(options)}): ${STEPS} steps, lr changed midway, a parameter joining late`, () => {
      const r = rng(JSON.stringify([kind, options]).length * 31 + CASES.findIndex((c) => c[1] === options));
      const init = SHAPES.map((s) => r.array(s.reduce((a, b) => a * b, 1)));
      init[0][0] = 0; // sign(0) = 0 for L1
      const join = [0, 0, 3, 1];
      const grads = Array.from({ length: STEPS }, (_, k) => init.map((a, i) => (k >= join[i] ? r.array(a.length, -1.5, 1.5) : undefined)));
      const base = options.lr ?? DEFAULTS[kind].lr;
      const lrs = Array.from({ length: STEPS }, (_, k) => (k < STEPS / 2 ? base : base * 0.5));
      const opt = (optimizers as any)[kind](options) as Optimizer;
      const got = ours(opt, init, grads, lrs);
      const want = textbook(kind, options, init, grads, lrs);
      expect(opt.stepCount).toBe(STEPS);
      for (let i = 0; i < init.length; i++) {
        expect(mismatch(got[i], want[i], (j) => TOL(want[i][j])), `param ${i} [${SHAPES[i]}]`).toBe('');
        // The run must have moved the parameter, or the comparison proves nothing.
        expect(Math.max(...want[i].map((w, j) => Math.abs(w - init[i][j])))).toBeGreaterThan(1e-3);
      }
      opt.dispose();
      expect(sd.memory().tensors).toBe(0);
    });
  }

  it('eps sits outside the square root, after bias correction (adam)', () => {
    // One step from zero state: m̂ = g, v̂ = g², so p moves by lr·g/(|g| + eps). With eps = 0.5 and
    // g = 0.5 that is lr/2 exactly; eps inside the root would give lr·0.5/sqrt(0.75).
    const opt = optimizers.adam({ lr: 0.1, eps: 0.5 });
    const p = sd.tensor([1]), g = sd.tensor([0.5]);
    opt.step([p], [g]);
    expect(p.dataSync()[0]).toBeCloseTo(1 - 0.05, 6);
    sd.dispose([p, g]);
    opt.dispose();
  });

  it('adam couples weight decay into the gradient; adamw decays the parameter', () => {
    // Zero gradient: adam sees g = wd·p, so its first step moves p by lr·sign(p) (m̂/sqrt(v̂) = ±1);
    // adamw sees g = 0 (no Adam step) and only shrinks p by the factor 1 − lr·wd.
    const a = optimizers.adam({ lr: 0.01, weightDecay: 0.5 }), w = optimizers.adamw({ lr: 0.01, weightDecay: 0.5 });
    const pa = sd.tensor([2]), pw = sd.tensor([2]), g = sd.tensor([0]);
    a.step([pa], [g]);
    w.step([pw], [g]);
    expect(pa.dataSync()[0]).toBeCloseTo(2 - 0.01, 6);
    expect(pw.dataSync()[0]).toBeCloseTo(2 * (1 - 0.01 * 0.5), 6);
    sd.dispose([pa, pw, g]);
    a.dispose();
    w.dispose();
  });

  it('sgd momentum starts as the first gradient, without dampening', () => {
    const opt = optimizers.sgd({ lr: 1, momentum: 0.9, dampening: 0.5 });
    const p = sd.tensor([0]), g = sd.tensor([1]);
    opt.step([p], [g]); // buf = 1 → p = −1
    expect(p.dataSync()[0]).toBeCloseTo(-1, 6);
    opt.step([p], [g]); // buf = 0.9 + 0.5 = 1.4 → p = −2.4
    expect(p.dataSync()[0]).toBeCloseTo(-2.4, 5);
    sd.dispose([p, g]);
    opt.dispose();
  });

  it('clipNorm scales by the global norm and leaves the gradients unchanged', () => {
    // Two grads with global norm 5 (3-4-5), clipped to 1: plain sgd moves by lr·g/5·(5/(5 + 1e-6)).
    const opt = optimizers.sgd({ lr: 1, clipNorm: 1 });
    const p1 = sd.tensor([0]), p2 = sd.tensor([0]), g1 = sd.tensor([3]), g2 = sd.tensor([4]);
    opt.step([p1, p2], [g1, g2]);
    const s = 1 / (5 + 1e-6);
    expect(p1.dataSync()[0]).toBeCloseTo(-3 * s, 6);
    expect(p2.dataSync()[0]).toBeCloseTo(-4 * s, 6);
    expect(g1.dataSync()[0]).toBe(3);
    // Below the limit nothing changes: scale min(1, 10/(5 + 1e-6)) = 1.
    const big = optimizers.sgd({ lr: 1, clipNorm: 10 });
    big.step([p1, p2], [g1, g2]);
    expect(p1.dataSync()[0]).toBeCloseTo(-3 * s - 3, 5);
    sd.dispose([p1, p2, g1, g2]);
    opt.dispose();
    big.dispose();
  });

  it('allocates nothing after the first step, keeps state out of tidy, and dispose frees the state', () => {
    const params = [sd.tensor(rng(1).array(100), [10, 10]), sd.tensor(rng(2).array(7))];
    const grads = [sd.tensor(rng(3).array(100), [10, 10]), sd.tensor(rng(4).array(7))];
    const before = sd.memory();
    for (const opt of [
      optimizers.adam({ amsgrad: true, clipNorm: 1 }), optimizers.sgd({ lr: 0.1, momentum: 0.9 }), optimizers.sgd({ lr: 0.1 }),
      optimizers.rmsprop({ momentum: 0.9, centered: true }), optimizers.adagrad({ initialAccumulatorValue: 0.1 }), optimizers.adamw(),
    ]) {
      sd.tidy(() => opt.step(params, grads)); // first step, inside a scope: state must survive it
      const after1 = sd.memory();
      for (let k = 0; k < 30; k++) opt.step(params, grads);
      const after = sd.memory();
      expect(after.tensors, opt.kind).toBe(after1.tensors);
      expect(after.backend.allocatedBytes, opt.kind).toBe(after1.backend.allocatedBytes);
      const n = 107;
      const perParam = { adam: 3, adamw: 2, sgd: (opt.options as { momentum?: number }).momentum ? 1 : 0, rmsprop: 3, adagrad: 1 }[opt.kind];
      expect(opt.stateBytes(), opt.kind).toBe(perParam * n * 4);
      opt.dispose();
      expect(opt.stateBytes()).toBe(0);
      expect(sd.memory().tensors, opt.kind).toBe(before.tensors);
      expect(sd.memory().backend.allocatedBytes, opt.kind).toBe(before.backend.allocatedBytes);
    }
    sd.dispose([...params, ...grads]);
  });

  it('reset() forgets the state, the step count and a scheduled lr', () => {
    const opt = optimizers.adam({ lr: 0.01 });
    const p = sd.tensor([1, 2]), g = sd.tensor([0.5, -0.5]);
    opt.step([p], [g]);
    const first = p.dataSync();
    opt.lr = 0.5;
    opt.step([p], [g]);
    opt.reset();
    expect(opt.stepCount).toBe(0);
    expect(opt.lr).toBe(0.01);
    expect(opt.stateBytes()).toBe(0);
    const q = sd.tensor([1, 2]);
    opt.step([q], [g]);
    expect(Array.from(q.dataSync())).toEqual(Array.from(first));
    sd.dispose([p, g, q]);
    opt.dispose();
  });

  it('step() rejects mismatched or bad arguments with clear errors', () => {
    const opt = optimizers.sgd({ lr: 0.1 });
    const p = sd.tensor([1, 2]), g = sd.tensor([1, 2, 3]);
    expect(() => opt.step([p], [])).toThrow(/1 parameters but 0 gradients/);
    expect(() => opt.step([p], [g])).toThrow(/grads\[0\] has shape \[3\] but params\[0\] has shape \[2\]/);
    expect(() => opt.step([p], [[1, 2] as any])).toThrow(/grads\[0\] must be a Tensor/);
    expect(() => opt.step(p as any, [g])).toThrow(/expects \(params: Tensor\[\], grads: Tensor\[\]\)/);
    const d = sd.tensor([1, 2]);
    d.dispose();
    expect(() => opt.step([p], [d])).toThrow(/was disposed/);
    expect(() => { opt.lr = NaN; }).toThrow(/lr must be a finite number ≥ 0, got NaN/);
    sd.dispose([p, g]);
  });
});

describe('optimizer state across init()', () => {
  afterAll(() => sd.shutdown());
  it('starts fresh state when init() replaced the backend', async () => {
    await sd.init({ backend: 'js' });
    const opt = optimizers.adam({ lr: 0.1 });
    const p = sd.tensor([1, 2, 3]), g = sd.tensor([1, 1, 1]);
    opt.step([p], [g]);
    await sd.init({ backend: 'wasm' });
    expect(() => opt.step([p], [g])).toThrow(/init\(\) has since replaced/);
    const q = sd.tensor([1, 2, 3]), h = sd.tensor([1, 1, 1]);
    opt.step([q], [h]);
    // A first step again (fresh m, v and bias corrections): Adam moves each value by lr·sign(g).
    const got = Array.from(q.dataSync());
    [0.9, 1.9, 2.9].forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
    expect(opt.stateBytes()).toBe(2 * 3 * 4);
    expect(opt.stepCount).toBe(2);
    opt.dispose();
    sd.dispose([q, h]);
    expect(sd.memory().tensors).toBe(0);
  });
});

// ================================================================================ 3. options and JSON

describe('optimizer options', () => {
  it('follow PyTorch defaults', () => {
    expect(optimizers.adam().options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, l1: 0, amsgrad: false });
    expect(optimizers.adamw().options).toMatchObject({ lr: 1e-3, weightDecay: 0.01 });
    expect(optimizers.sgd({ lr: 0.1 }).options).toEqual({ lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, l1: 0 });
    expect(optimizers.rmsprop().options).toEqual({ lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0, l1: 0 });
    expect(optimizers.adagrad().options).toEqual({ lr: 1e-2, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, weightDecay: 0, l1: 0 });
    const o = optimizers.adam();
    expect(Object.isFrozen(o.options)).toBe(true);
    expect(o.kind).toBe('adam');
    expect(o.lr).toBe(1e-3);
  });

  it('are validated with clear errors', () => {
    expect(() => optimizers.adam({ lr: -1 })).toThrow('adam: lr must be a positive finite number, got -1');
    expect(() => optimizers.adam({ lr: 0 })).toThrow('adam: lr must be a positive finite number, got 0');
    expect(() => optimizers.sgd({ lr: Infinity })).toThrow('sgd: lr must be a positive finite number, got Infinity');
    expect(() => optimizers.sgd({ lr: '0.1' as any })).toThrow("sgd: lr must be a positive finite number, got '0.1'");
    expect(() => (optimizers.sgd as any)()).toThrow(/sgd: needs options with at least lr/);
    expect(() => optimizers.sgd({} as any)).toThrow('sgd: lr must be a positive finite number, got undefined');
    expect(() => optimizers.adam({ betas: [0.9, 1] })).toThrow('adam: betas[1] must be in [0, 1), got 1');
    expect(() => optimizers.adam({ betas: [-0.1, 0.9] })).toThrow('adam: betas[0] must be in [0, 1), got -0.1');
    expect(() => optimizers.adam({ betas: [0.9] as any })).toThrow(/betas must be an array of two numbers/);
    expect(() => optimizers.sgd({ lr: 0.1, momentum: -0.5 })).toThrow('sgd: momentum must be a finite number ≥ 0, got -0.5');
    expect(() => optimizers.sgd({ lr: 0.1, nesterov: true })).toThrow('sgd: nesterov momentum requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0');
    expect(() => optimizers.sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/requires momentum > 0 and dampening = 0/);
    expect(() => optimizers.sgd({ lr: 0.1, nesterov: 1 as any })).toThrow('sgd: nesterov must be true or false, got 1');
    expect(() => optimizers.adam({ weightDecay: -1 })).toThrow('adam: weightDecay must be a finite number ≥ 0, got -1');
    expect(() => optimizers.adam({ clipNorm: 0 })).toThrow(/adam: clipNorm must be a positive finite number/);
    expect(() => optimizers.rmsprop({ alpha: 1.5 })).toThrow('rmsprop: alpha must be a number in [0, 1], got 1.5');
    expect(() => optimizers.adagrad({ lrDecay: -1 })).toThrow('adagrad: lrDecay must be a finite number ≥ 0, got -1');
    expect(() => optimizers.adam({ learningRate: 0.1 } as any)).toThrow("adam: unknown option 'learningRate'; known options: lr, weightDecay, l1, clipNorm, betas, eps, amsgrad.");
    expect(() => optimizers.sgd({ lr: 0.1, mometum: 0.9 } as any)).toThrow(/unknown option 'mometum' \(did you mean 'momentum'\?\); known options: .*momentum/);
    expect(() => optimizers.adam(5 as any)).toThrow('adam: options must be an object, got 5.');
  });

  it('travel through JSON', () => {
    for (const o of [
      optimizers.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, clipNorm: 5 }), optimizers.adam({ lr: 0.002, betas: [0.8, 0.99], amsgrad: true }),
      optimizers.adamw(), optimizers.rmsprop({ centered: true }), optimizers.adagrad({ lrDecay: 0.1 }),
    ]) {
      const text = JSON.stringify(o);
      const back = optimizers.fromJSON(JSON.parse(text));
      expect(back.kind).toBe(o.kind);
      expect(back.options).toEqual(o.options);
      expect(optimizers.fromJSON(text).options).toEqual(o.options);
    }
    expect(JSON.parse(JSON.stringify(optimizers.adam()))).toEqual({ kind: 'adam', options: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, l1: 0, amsgrad: false } });
    expect(() => optimizers.fromJSON({ kind: 'lion' as any, options: {} })).toThrow(/unknown optimizer kind "lion"; known kinds: sgd, adam, adamw, rmsprop, adagrad/);
    expect(() => optimizers.fromJSON({ kind: 'toString' as any, options: {} })).toThrow(/unknown optimizer kind/);
    expect(() => optimizers.fromJSON('{')).toThrow(/not valid JSON/);
    expect(() => optimizers.fromJSON({ kind: 'adam', options: { lr: -2 } })).toThrow('adam: lr must be a positive finite number, got -2');
  });
});

// ================================================================================ 2. schedules

describe('schedules', () => {
  const at = (epoch: number, step = epoch * 10) => ({ epoch, step });
  const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

  it('constant', () => {
    const s = schedules.constant();
    expect(s.kind).toBe('constant');
    for (const e of [0, 1, 50]) expect(s.lr(0.3, at(e))).toBe(0.3);
  });

  it('step: base·gamma^⌊t/stepSize⌋, by epoch or by batch', () => {
    const s = schedules.step({ stepSize: 3 });
    expect(s.unit).toBe('epoch');
    const want = [1, 1, 1, 0.1, 0.1, 0.1, 0.01];
    want.forEach((w, e) => close(s.lr(1, at(e, 1000 + e)), w));
    const b = schedules.step({ stepSize: 2, gamma: 0.5, unit: 'batch' });
    expect(b.unit).toBe('batch');
    [0.2, 0.2, 0.1, 0.1, 0.05].forEach((w, k) => close(b.lr(0.2, { epoch: 0, step: k }), w));
  });

  it('exponential: base·gamma^t', () => {
    const s = schedules.exponential({ gamma: 0.9 });
    for (const e of [0, 1, 2, 10]) close(s.lr(0.5, at(e)), 0.5 * 0.9 ** e);
    const b = schedules.exponential({ gamma: 0.99, unit: 'batch' });
    close(b.lr(1, { epoch: 3, step: 7 }), 0.99 ** 7);
  });

  it('cosine: torch CosineAnnealingLR without warm-up; linear warm-up before', () => {
    const s = schedules.cosine({ tMax: 10, minLr: 0.01 });
    // η_t = η_min + (η_max − η_min)(1 + cos(π t/T_max))/2
    for (const e of [0, 1, 3, 5, 9, 10]) close(s.lr(0.1, at(e)), 0.01 + (0.1 - 0.01) * (1 + Math.cos((Math.PI * e) / 10)) / 2);
    close(s.lr(0.1, at(0)), 0.1);
    close(s.lr(0.1, at(5)), 0.055);
    close(s.lr(0.1, at(10)), 0.01);
    close(s.lr(0.1, at(25)), 0.01); // stays at minLr
    const w = schedules.cosine({ tMax: 12, warmup: 4, unit: 'batch' });
    [0.2, 0.4, 0.6, 0.8].forEach((v, k) => close(w.lr(1, { epoch: 0, step: k }), v));
    close(w.lr(1, { epoch: 0, step: 4 }), 1);
    close(w.lr(1, { epoch: 0, step: 8 }), 0.5);
    close(w.lr(1, { epoch: 0, step: 10 }), (1 + Math.cos(Math.PI * 0.75)) / 2);
    close(w.lr(1, { epoch: 0, step: 12 }), 0);
  });

  /** torch.optim.lr_scheduler.OneCycleLR.get_lr, transcribed (last_epoch = step). */
  function torchOneCycle(o: { maxLr: number; totalSteps: number; pctStart?: number; divFactor?: number; finalDivFactor?: number; anneal?: string; threePhase?: boolean }, step: number): number {
    const pct = o.pctStart ?? 0.3, div = o.divFactor ?? 25, fin = o.finalDivFactor ?? 1e4, T = o.totalSteps;
    const initial = o.maxLr / div, min = initial / fin;
    const phases = o.threePhase
      ? [{ end: pct * T - 1, s: initial, e: o.maxLr }, { end: 2 * pct * T - 2, s: o.maxLr, e: initial }, { end: T - 1, s: initial, e: min }]
      : [{ end: pct * T - 1, s: initial, e: o.maxLr }, { end: T - 1, s: o.maxLr, e: min }];
    const cos = (s: number, e: number, p: number) => e + ((s - e) / 2.0) * (Math.cos(Math.PI * p) + 1);
    const lin = (s: number, e: number, p: number) => (e - s) * p + s;
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i];
      if (step <= ph.end || i === phases.length - 1) {
        const p = (step - start) / (ph.end - start);
        return (o.anneal === 'linear' ? lin : cos)(ph.s, ph.e, p);
      }
      start = ph.end;
    }
    throw new Error('unreachable');
  }

  it('oneCycle follows torch OneCycleLR at every step', () => {
    const configs = [
      { maxLr: 0.1, totalSteps: 100 },
      { maxLr: 1, totalSteps: 37, pctStart: 0.25, anneal: 'linear' as const },
      { maxLr: 0.01, totalSteps: 50, divFactor: 10, finalDivFactor: 100, threePhase: true },
      { maxLr: 0.5, totalSteps: 17, threePhase: true, anneal: 'linear' as const },
    ];
    for (const c of configs) {
      const s = schedules.oneCycle(c);
      expect(s.unit).toBe('batch');
      for (let k = 0; k < c.totalSteps; k++) close(s.lr(123, { epoch: 0, step: k }), torchOneCycle(c, k));
      expect(() => s.lr(1, { epoch: 0, step: c.totalSteps })).toThrow(/past the cycle's totalSteps/);
    }
    // Landmarks: starts at maxLr/25, peaks at step pctStart·T − 1, ends at maxLr/25/1e4.
    const s = schedules.oneCycle({ maxLr: 1, totalSteps: 100 });
    close(s.lr(9, { epoch: 0, step: 0 }), 0.04);
    close(s.lr(9, { epoch: 0, step: 29 }), 1);
    close(s.lr(9, { epoch: 0, step: 99 }), 0.04 / 1e4);
    // maxLr defaults to the optimizer's rate.
    close(schedules.oneCycle({ totalSteps: 100 }).lr(0.5, { epoch: 0, step: 29 }), 0.5);
  });

  it('reduceOnPlateau follows torch ReduceLROnPlateau (rel threshold, patience, cooldown, minLr)', () => {
    const s = schedules.reduceOnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02 });
    expect(s.unit).toBe('epoch');
    let lr = s.lr(0.1, at(0));
    expect(lr).toBe(0.1);
    // Epoch by epoch (bad = epochs without a 1e-4 relative improvement; a reduction needs bad > patience):
    //   0: best 1; 1: best 0.9; 2: 0.89995 is not < 0.9·(1 − 1e-4) → bad 1; 3: bad 2; 4: bad 3 → 0.05,
    //   cooldown 1; 5: bad 1, zeroed by the cooldown; 6, 7: bad 1, 2; 8: bad 3 → 0.025, cooldown;
    //   9: zeroed; 10: best 0.5; 11, 12: bad 1, 2; 13: bad 3 → max(0.0125, minLr) = 0.02; 14: zeroed.
    const metrics = [1, 0.9, 0.89995, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6];
    const want = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02];
    const got: number[] = [];
    for (const m of metrics) {
      lr = s.observe!(m, lr);
      got.push(lr);
      expect(s.lr(0.1, at(got.length))).toBe(lr);
    }
    expect(got).toEqual(want);
    expect(got).toEqual(torchPlateau(metrics, 0.1, { factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02, threshold: 1e-4, mode: 'min' }));
    s.reset();
    expect(s.lr(0.3, at(0))).toBe(0.3);

    // mode 'max' (an accuracy): improvements must exceed best·(1 + threshold).
    const m = schedules.reduceOnPlateau({ mode: 'max', patience: 0, factor: 0.1 });
    expect(m.observe!(0.5, 1)).toBe(1);
    expect(m.observe!(0.6, 1)).toBe(1);
    expect(m.observe!(0.6, 1)).toBeCloseTo(0.1, 12);
    // NaN never improves.
    const n = schedules.reduceOnPlateau({ patience: 0 });
    expect(n.observe!(1, 1)).toBe(1);
    expect(n.observe!(NaN, 1)).toBeCloseTo(0.1, 12);
  });

  it('every schedule runs through begin / lr / endEpoch (what fit calls): reduceOnPlateau watches valLoss ?? loss; oneCycle checks it covers the run in its unit', () => {
    const metrics = [1, 0.9, 0.89995, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6];
    const s = schedules.reduceOnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02 });
    s.observe!(0.1, 0.1); // state from an earlier run, which begin() forgets
    s.begin({ epochs: 15, stepsPerEpoch: 3, baseLr: 0.1 });
    const got: number[] = [];
    metrics.forEach((m, e) => {
      for (let b = 0; b < 3; b++) got.push(s.lr(0.1, { epoch: e, step: 3 * e + b }));
      s.endEpoch(e % 2 ? { loss: 99, valLoss: m } : { loss: m }); // valLoss when there is one
    });
    const perEpoch = [0.1, ...torchPlateau(metrics, 0.1, { factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02, threshold: 1e-4, mode: 'min' }).slice(0, -1)];
    expect(got).toEqual(perEpoch.flatMap((r) => [r, r, r]));
    // Stateless schedules ignore endEpoch.
    const c = schedules.cosine({ tMax: 10 });
    c.begin({ epochs: 10, stepsPerEpoch: 4, baseLr: 1 });
    const before = c.lr(1, { epoch: 3, step: 12 });
    c.endEpoch({ loss: 1 });
    expect(c.lr(1, { epoch: 3, step: 12 })).toBe(before);
    // oneCycle counts batches by default, epochs with unit 'epoch'.
    expect(() => schedules.oneCycle({ totalSteps: 39 }).begin({ epochs: 10, stepsPerEpoch: 4, baseLr: 1 })).toThrow('schedules.oneCycle: totalSteps is 39 but training runs 40 batches (10 epochs × 4); set totalSteps to at least 40.');
    expect(() => schedules.oneCycle({ totalSteps: 40 }).begin({ epochs: 10, stepsPerEpoch: 4, baseLr: 1 })).not.toThrow();
    expect(() => schedules.oneCycle({ totalSteps: 10, unit: 'epoch' }).begin({ epochs: 10, stepsPerEpoch: 4, baseLr: 1 })).not.toThrow();
    expect(() => schedules.oneCycle({ totalSteps: 9, unit: 'epoch' }).begin({ epochs: 10, stepsPerEpoch: 4, baseLr: 1 })).toThrow('schedules.oneCycle: totalSteps is 9 epochs but training runs 10; set totalSteps to at least 10.');
    expect(() => c.begin({ epochs: 0, stepsPerEpoch: 4, baseLr: 1 })).toThrow('schedules.cosine.begin: epochs must be a positive integer, got 0.');
  });

  /** torch ReduceLROnPlateau.step, transcribed ('rel' threshold mode, eps 1e-8). */
  function torchPlateau(metrics: number[], lr: number, o: { factor: number; patience: number; cooldown: number; minLr: number; threshold: number; mode: 'min' | 'max' }): number[] {
    let best = o.mode === 'min' ? Infinity : -Infinity, bad = 0, cooldownCounter = 0;
    const out: number[] = [];
    for (const current of metrics) {
      const isBetter = o.mode === 'min' ? current < best * (1 - o.threshold) : current > best * (o.threshold + 1);
      if (isBetter) { best = current; bad = 0; } else bad += 1;
      if (cooldownCounter > 0) { cooldownCounter -= 1; bad = 0; }
      if (bad > o.patience) {
        const newLr = Math.max(lr * o.factor, o.minLr);
        if (lr - newLr > 1e-8) lr = newLr;
        cooldownCounter = o.cooldown;
        bad = 0;
      }
      out.push(lr);
    }
    return out;
  }

  it('validate options with clear errors', () => {
    expect(() => schedules.step({} as any)).toThrow('schedules.step: option stepSize is required (a positive integer).');
    expect(() => schedules.step({ stepSize: 0 })).toThrow('schedules.step: stepSize must be a positive integer, got 0.');
    expect(() => schedules.step({ stepSize: 2, gama: 0.5 } as any)).toThrow("schedules.step: unknown option 'gama' (did you mean 'gamma'?); known options: stepSize, gamma, unit.");
    expect(() => schedules.step({ stepSize: 2, unit: 'batches' as any })).toThrow("schedules.step: unit must be one of 'epoch', 'batch', got 'batches'.");
    expect(() => schedules.exponential({ gamma: -1 })).toThrow('schedules.exponential: gamma must be a positive finite number, got -1.');
    expect(() => schedules.cosine({ tMax: 5, warmup: 5 })).toThrow(/warmup \(5\) must be less than tMax \(5\)/);
    expect(() => schedules.cosine({ tMax: 2.5 })).toThrow('schedules.cosine: tMax must be a positive integer, got 2.5.');
    expect(() => schedules.oneCycle({ maxLr: 0.1, totalSteps: 100, pctStart: 1.5 })).toThrow('schedules.oneCycle: pctStart must be a number in [0, 1], got 1.5.');
    expect(() => schedules.oneCycle({ maxLr: 0.1, totalSteps: 100, anneal: 'cosine' as any })).toThrow("schedules.oneCycle: anneal must be one of 'cos', 'linear', got 'cosine'.");
    expect(() => schedules.oneCycle({ maxLr: -0.1, totalSteps: 100 })).toThrow('schedules.oneCycle: maxLr must be a positive finite number, got -0.1.');
    expect(() => schedules.reduceOnPlateau({ factor: 1 })).toThrow('schedules.reduceOnPlateau: factor must be a number in (0, 1), got 1.');
    expect(() => schedules.reduceOnPlateau({ mode: 'minimum' as any })).toThrow(/mode must be one of 'min', 'max'/);
    expect(() => schedules.constant({ x: 1 } as any)).toThrow("schedules.constant: unknown option 'x'; known options: .");
    const s = schedules.step({ stepSize: 2 });
    expect(() => s.lr(-1, at(0))).toThrow(/baseLr must be a finite number ≥ 0, got -1/);
    expect(() => s.lr(0.1, { epoch: 1.5, step: 0 })).toThrow(/epoch must be an integer ≥ 0, got 1.5/);
    expect(() => schedules.reduceOnPlateau().observe!('0.5' as any, 0.1)).toThrow(/metric must be a number/);
  });

  it('travel through JSON', () => {
    for (const s of [
      schedules.constant(), schedules.step({ stepSize: 3, gamma: 0.5 }), schedules.exponential({ gamma: 0.9, unit: 'batch' }),
      schedules.cosine({ tMax: 10, warmup: 2, minLr: 1e-4 }), schedules.oneCycle({ maxLr: 0.1, totalSteps: 40, threePhase: true }),
      schedules.reduceOnPlateau({ patience: 3, mode: 'max' }),
    ]) {
      const back = schedules.fromJSON(JSON.parse(JSON.stringify(s)));
      expect(back.kind).toBe(s.kind);
      expect(back.unit).toBe(s.unit);
      expect(back.options).toEqual(s.options);
      for (const e of [0, 1, 2, 5]) expect(back.lr(0.1, at(e, e))).toBe(s.lr(0.1, at(e, e)));
    }
    expect(() => schedules.fromJSON({ kind: 'linear' as any, options: {} })).toThrow(/unknown schedule kind "linear"/);
  });
});
