// lrFinder (the learning-rate range test) and oneCycle({maxLr: 'find'}): the curve is fit()'s own steps,
// the model and the optimizer come out bit for bit as they went in, the suggestion trains digits, and bad
// input gets a clear Error without leaking.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { suggest } from '../src/train/lr-finder.js';

const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

function digits(): { x: sd.Tensor; y: sd.Tensor } {
  const rows = readFileSync(new URL('../data/digits.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  return { x: sd.tensor(rows.map((r) => r.slice(0, 64))), y: sd.tensor(rows.map((r) => r[64])) };
}

/** A layer of a type never registered: load() could not rebuild it, so the finder cannot copy it. */
class Scale extends sd.Layer {
  readonly type = 'test-scale';
  readonly w = sd.layers.parameter([3], 'ones');
  override params() {
    return [this.w];
  }
  override paramNames() {
    return ['w'];
  }
  forward(x: sd.Tensor) {
    return sd.mul(x, this.w);
  }
  outFeatures(n: number) {
    return n;
  }
  config() {
    return { type: this.type };
  }
}

describe.each(['js', 'wasm'] as const)('lrFinder on %s', (backend) => {
  beforeAll(async () => {
    await sd.init({ backend });
  });
  afterAll(() => sd.shutdown());
  let live = 0;
  beforeEach(() => {
    live = sd.memory().tensors;
  });
  afterEach(() => {
    expect(sd.memory().tensors, 'tensors left behind by the test').toBe(live);
  });

  // A small table every batch of which has the same size (96 rows, batches of 16).
  function table(seed = 1) {
    let s = seed;
    const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const xs = Array.from({ length: 96 }, () => [r(), r(), r()]);
    return { x: sd.tensor(xs), y: sd.tensor(xs.map((v) => (v[0] + 0.5 * v[1] > 0 ? 1 : 0) + (v[2] > 0.3 ? 1 : 0))) };
  }

  it("runs fit()'s recorded steps: the curve is, bit for bit, what fit() sees with the same rates (dropout included)", async () => {
    const { x, y } = table();
    const build = () => sd.sequential([sd.layers.linear(3, 8, { activation: 'relu', seed: 2 }), sd.layers.dropout(0.2), sd.layers.linear(8, 3, { seed: 3 })], { seed: 5 });
    const model = build();
    const f = await sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 16, steps: 30, smoothing: 0, maxLr: 1, divergence: 1e9, optimizer: sd.optimizers.sgd({ lr: 0.1, momentum: 0.9 }) });
    expect(f.lrs.length).toBe(30);
    expect(f.stopped).toBe(null);
    // The rates rise exponentially from minLr to maxLr.
    expect(f.lrs[0]).toBe(1e-7);
    expect(f.lrs[29]).toBeCloseTo(1, 12);
    for (let i = 2; i < 30; i++) expect(f.lrs[i] / f.lrs[i - 1]).toBeCloseTo(f.lrs[1] / f.lrs[0], 9);
    // fit() on a fresh copy, its rate set per batch to the finder's: the same losses, bit for bit.
    const twin = build();
    const seen: number[] = [];
    const rates: sd.Schedule = {
      kind: 'exponential', unit: 'batch', options: {}, begin() {}, endEpoch() {}, reset() {},
      lr: (_base, at) => f.lrs[at.step],
      toJSON: () => ({ kind: 'exponential', options: {} }),
    };
    const opt = sd.optimizers.sgd({ lr: 0.1, momentum: 0.9 });
    await sd.fit(twin, x, y, { loss: 'softmaxCrossEntropy', optimizer: opt, batchSize: 16, epochs: 5, seed: 5, schedule: rates, callbacks: { onBatchEnd: (_b, l) => void seen.push(l.loss) } });
    expect(seen).toEqual(f.losses);
    opt.dispose();
    sd.dispose([model, twin, x, y]);
  });

  it("leaves the model's weights and the optimizer's state bit for bit as they were", async () => {
    const { x, y } = table(3);
    const a = sd.mlp([3, 16, 3], { seed: 4, dropout: 0.1 }), b = sd.mlp([3, 16, 3], { seed: 4, dropout: 0.1 });
    const oa = sd.optimizers.adam({ lr: 0.01 }), ob = sd.optimizers.adam({ lr: 0.01 });
    const opts = { loss: 'softmaxCrossEntropy' as const, epochs: 2, batchSize: 16, seed: 1 };
    await sd.fit(a, x, y, { ...opts, optimizer: oa });
    await sd.fit(b, x, y, { ...opts, optimizer: ob });
    const before = bits(a.getWeights());
    const f = await sd.lrFinder(a, x, y, { loss: 'softmaxCrossEntropy', optimizer: oa, batchSize: 16 });
    expect(f.lrs.length).toBeGreaterThan(8);
    expect(bits(a.getWeights())).toEqual(before);
    expect([oa.lr, oa.stepCount, oa.stateBytes()]).toEqual([ob.lr, ob.stepCount, ob.stateBytes()]);
    // The moments too: one more epoch with each optimizer gives the same weights.
    await sd.fit(a, x, y, { ...opts, epochs: 1, optimizer: oa });
    await sd.fit(b, x, y, { ...opts, epochs: 1, optimizer: ob });
    expect(bits(a.getWeights())).toEqual(bits(b.getWeights()));
    oa.dispose();
    ob.dispose();
    sd.dispose([a, b, x, y]);
  });

  it('a layer that cannot be rebuilt (unregistered custom type) is tested in place, held against fit(), and put back', async () => {
    const { x, y } = table(5);
    const model = sd.sequential([new Scale(), sd.layers.linear(3, 3, { seed: 1 })]);
    const before = bits(model.getWeights());
    const running = sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 16, steps: 400, maxLr: 1e-3 });
    await expect(sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 1 })).rejects.toThrow('fit: lrFinder is running on this model; await it first.');
    const f = await running;
    expect(f.lrs.length).toBe(400);
    expect(bits(model.getWeights())).toEqual(before);
    await sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 1 }); // free again
    sd.dispose([model, x, y]);
  });

  it('stops when the loss diverges, and a curve too short for a suggestion is a clear Error', async () => {
    const { x, y } = table(7);
    const model = sd.mlp([3, 8, 3], { seed: 1 });
    const f = await sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 16, optimizer: sd.optimizers.sgd({ lr: 1 }), maxLr: 1e6 });
    expect(f.stopped).toBe('diverged');
    expect(f.lrs.at(-1)!).toBeLessThan(1e6);
    expect(f.suggestion).toBe(f.minimum.lr / 10);
    // sgd from a rate of 1e4 on a mean squared error of targets around 1e3 blows up at once.
    const reg = sd.mlp([3, 8, 1], { seed: 1 });
    const yy = sd.tensor(Array.from({ length: 96 }, (_, i) => 1000 + i));
    await expect(sd.lrFinder(reg, x, yy, { loss: 'mse', minLr: 1e4, maxLr: 1e8, optimizer: sd.optimizers.sgd({ lr: 1 }) })).rejects.toThrow(
      /^lrFinder: the loss diverged after \d+ steps? \(at lr .*\), too early for a suggestion; lower minLr \(now 10000\)/,
    );
    sd.dispose([model, reg, x, y, yy]);
  });

  it('an aborted signal stops between two steps and keeps the curve so far', async () => {
    const { x, y } = table(9);
    const model = sd.mlp([3, 8, 3], { seed: 1 });
    // A signal that reads as aborted from its 21st look on: the test looks once before each step.
    let looks = 0;
    const signal = { get aborted() { return ++looks > 20; } } as unknown as AbortSignal;
    const f = await sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 16, signal });
    expect([f.stopped, f.lrs.length, f.losses.length]).toEqual(['aborted', 20, 20]);
    const ctl = new AbortController();
    ctl.abort();
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', signal: ctl.signal })).rejects.toThrow('lrFinder: aborted after 0 steps, too few for a suggestion (8 are needed).');
    sd.dispose([model, x, y]);
  });

  it('bad options and data get clear errors and leave nothing behind', async () => {
    const { x, y } = table(11);
    const model = sd.mlp([3, 8, 3], { seed: 1 });
    await expect(sd.lrFinder(model, x, y, undefined as any)).rejects.toThrow("lrFinder: options {loss} are required, e.g. {loss: 'softmaxCrossEntropy'}.");
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', step: 10 } as any)).rejects.toThrow("lrFinder: unknown option 'step' (did you mean 'steps'?)");
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', minLr: 1, maxLr: 0.1 })).rejects.toThrow('lrFinder: maxLr (0.1) must be above minLr (1); the test sweeps from minLr up to maxLr.');
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', steps: 2 })).rejects.toThrow('lrFinder: steps must be an integer ≥ 5 (the rates tried), got 2.');
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', smoothing: 1 })).rejects.toThrow(/^lrFinder: smoothing must be a number in \[0, 1\)/);
    await expect(sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', divergence: 1 })).rejects.toThrow(/^lrFinder: divergence must be a finite number > 1/);
    await expect(sd.lrFinder(model, [[1, 2]], [0], { loss: 'softmaxCrossEntropy' })).rejects.toThrow(/^lrFinder: the model takes 3 features per row/);
    await expect(sd.lrFinder(model, [[1, NaN, 2]], [0], { loss: 'softmaxCrossEntropy' })).rejects.toThrow(/^lrFinder: x holds NaN at row 0, column 1/);
    const gone = sd.mlp([3, 2], { seed: 1 });
    gone.dispose();
    await expect(sd.lrFinder(gone, x, y, { loss: 'mse' })).rejects.toThrow('lrFinder: the model was disposed; build or load it again.');
    sd.dispose([model, x, y]);
  });

  it("oneCycle({maxLr: 'find'}) runs the test in fit() before the first batch, on the training rows, and peaks at its suggestion", async () => {
    const { x, y } = table(13);
    const model = sd.mlp([3, 16, 3], { seed: 2 });
    const direct = await sd.lrFinder(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 16, steps: 50, seed: 4 });
    const schedule = sd.schedules.oneCycle({ maxLr: 'find', finder: { steps: 50 } });
    expect(schedule.found).toBe(null);
    const rates: number[] = [];
    // 10 epochs of 6 batches: the peak falls on a step (0.3 × 60 − 1).
    const h = await sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', schedule, epochs: 10, batchSize: 16, seed: 4, callbacks: { onBatchEnd: (_b, l) => void rates.push(l.lr) } });
    // The same curve as lrFinder() on the same rows and settings, and the cycle's length is the run's.
    expect(schedule.found!.lrs).toEqual(direct.lrs);
    expect(schedule.found!.losses).toEqual(direct.losses);
    expect(rates.length).toBe(h.steps);
    expect(Math.max(...rates)).toBeCloseTo(direct.suggestion, 12);
    expect(rates[0]).toBeCloseTo(direct.suggestion / 25, 12);
    expect(JSON.parse(JSON.stringify(schedule)).options).toEqual({ maxLr: 'find', finder: { minLr: 1e-7, maxLr: 10, steps: 50, smoothing: 0.8 }, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, anneal: 'cos', threePhase: false, unit: 'batch' });
    // With validationSplit the test sees the training rows only: a different curve.
    const other = sd.schedules.oneCycle({ maxLr: 'find', finder: { steps: 50 } });
    await sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', schedule: other, epochs: 1, batchSize: 16, seed: 4, validationSplit: 0.25 });
    expect(other.found!.losses).not.toEqual(schedule.found!.losses);
    sd.dispose([model, x, y]);
  });

  it("oneCycle({maxLr: 'find'}) outside fit(), or with a typo, says what to do", () => {
    const s = sd.schedules.oneCycle({ maxLr: 'find' });
    expect(() => s.begin({ epochs: 2, stepsPerEpoch: 3, baseLr: 1 })).toThrow("schedules.oneCycle: maxLr 'find' runs a learning-rate range test on the run's model and data, which fit() provides; in a loop of your own, run lrFinder() and pass maxLr: its suggestion.");
    expect(() => s.lr(1, { epoch: 0, step: 0 })).toThrow("schedules.oneCycle: maxLr 'find' has no rate before begin() has run the range test");
    expect(() => sd.schedules.oneCycle({ maxLr: 'fnd' as any })).toThrow("schedules.oneCycle: maxLr must be a positive finite number or 'find' (a range test picks it), got 'fnd'.");
    expect(() => sd.schedules.oneCycle({ maxLr: 0.1, finder: { steps: 10 } })).toThrow("schedules.oneCycle: finder sets up the range test of maxLr: 'find'; give maxLr: 'find' too, or leave finder out.");
    expect(() => sd.schedules.oneCycle({ maxLr: 'find', finder: { step: 10 } as any })).toThrow("schedules.oneCycle: finder has an unknown option 'step' (did you mean 'steps'?)");
    // Without totalSteps the cycle is the run begin() announces.
    const c = sd.schedules.oneCycle({ maxLr: 1 });
    expect(() => c.lr(1, { epoch: 0, step: 0 })).toThrow(/without totalSteps the cycle takes its length from the run; call begin/);
    c.begin({ epochs: 10, stepsPerEpoch: 10, baseLr: 1 });
    expect(c.lr(1, { epoch: 0, step: 29 })).toBeCloseTo(1, 12);
    expect(() => c.lr(1, { epoch: 0, step: 100 })).toThrow(/past the cycle's totalSteps 100/);
  });

  it('suggest(): the minimum of the smoothed curve over 10, and the steepest fall before it', () => {
    const lrs = Array.from({ length: 20 }, (_, i) => 10 ** (i - 12));
    // A blip in the first tenth (the running average has seen two batches) is passed over.
    const sm = [3, 2, 3, 3, 3, 2.9, 2.2, 1.5, 1.2, 0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.62, 2, 9, 30, 90];
    const s = suggest(lrs, sm);
    expect(s.minimum).toEqual({ lr: lrs[14], loss: 0.6 });
    expect(s.suggestion).toBeCloseTo(lrs[13], 15);
    expect(s.steepest).toBe(lrs[6]); // (1.5 − 2.9)/2 decades, the largest fall past the first two points
  });
});

describe('lrFinder on digits (wasm)', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
  });
  afterAll(() => sd.shutdown());

  it('suggests a rate from which one-cycle training reaches ≥ 0.97 test accuracy within 20 epochs', async () => {
    const { x, y } = digits();
    const s = sd.data.split(x, y, { test: 0.2, stratify: true, seed: 0 });
    const model = sd.mlp([64, 128, 10], { seed: 0 });
    model.preprocessing.scaler = sd.data.standardize(s.train.x);
    const before = bits(model.getWeights());
    const f = await sd.lrFinder(model, s.train.x, s.train.y, { loss: 'softmaxCrossEntropy', batchSize: 32 });
    expect(bits(model.getWeights())).toEqual(before);
    await sd.fit(model, s.train.x, s.train.y, { loss: 'softmaxCrossEntropy', epochs: 20, batchSize: 32, schedule: sd.schedules.oneCycle({ maxLr: f.suggestion }) });
    const acc = sd.metrics.accuracy(model.predictClasses(s.test.x), s.test.y);
    console.log(`digits: lrFinder suggests ${f.suggestion.toPrecision(3)} (minimum at ${f.minimum.lr.toPrecision(3)}, ${f.lrs.length} steps, ${f.ms.toFixed(0)} ms); one-cycle 20 epochs → test accuracy ${acc.toFixed(4)}`);
    expect(f.suggestion).toBeGreaterThan(1e-4);
    expect(f.suggestion).toBeLessThan(0.1);
    expect(acc).toBeGreaterThanOrEqual(0.97);
    sd.dispose([model, x, y, s.train.x, s.train.y, s.test.x, s.test.y]);
    expect(sd.memory().tensors).toBe(0);
  }, 60_000);
});
