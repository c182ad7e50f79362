// tune(): the search finds good models on the shipped tables, is reproducible from its seed, keeps memory
// flat over many trials, stops on its budget or signal with the best so far, and turns bad input (an
// empty space, a budget ≤ 0, a loss that is NaN in every trial) into a clear Error, never a hang.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { checkSpace, drawParams } from '../src/train/tune-space.js';
import { rng } from '../src/core/random.js';
import { holdOut } from '../src/train/data.js';

async function table(file: string): Promise<{ x: sd.Tensor; y: sd.Tensor; yv: number[] }> {
  const ds = await sd.data.readCsv(new URL(`../${file}`, import.meta.url).pathname, { from: 'path' } as any);
  return { x: ds.x, y: ds.y, yv: Array.from(ds.y.dataSync()) };
}

const strip = (board: sd.TrialInfo[]) => board.map(({ ms, ...rest }) => rest);

describe('tune (wasm)', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
  });
  afterAll(() => sd.shutdown());
  let live = 0;
  beforeEach(() => {
    live = sd.memory().tensors;
  });
  afterEach(() => {
    expect(sd.memory().tensors, 'tensors left behind by the test').toBe(live);
  });

  it('iris: a small search beats a constant guess by far, ranks its leaderboard, and is reproducible from its seed', async () => {
    const { x: X, y: Y, yv: y } = await table('data/iris.csv');
    const scaler = sd.data.standardize(X);
    const run = () => sd.tune('auto', X, Y, { loss: 'softmaxCrossEntropy', trials: 9, epochs: 30, seed: 3, preprocessing: { scaler } });
    const a = await run();
    expect(a.validation).toEqual({ kind: 'folds', folds: 5 }); // 150 rows: 'auto' is 5 folds
    expect([a.trials, a.stopped, a.refit, a.metric]).toEqual([9, 'done', true, 'accuracy']);
    expect(a.leaderboard).toHaveLength(9);
    // Best first: stage, then score.
    for (let i = 1; i < 9; i++) {
      const [p, q] = [a.leaderboard[i - 1], a.leaderboard[i]];
      expect(p.stage > q.stage || (p.stage === q.stage && p.score! >= q.score!)).toBe(true);
    }
    expect(a.leaderboard[0].epochs).toBe(30);
    expect(a.score).toBe(a.leaderboard[0].score);
    expect(a.score!).toBeGreaterThan(0.9);
    expect(a.model!.preprocessing.scaler).toBe(scaler);
    const acc = sd.metrics.accuracy(a.model!.predictClasses(X), y);
    expect(acc).toBeGreaterThan(0.9);
    // The same seed: the same trials, scores and final weights, bit for bit.
    const b = await run();
    expect(strip(b.leaderboard)).toEqual(strip(a.leaderboard));
    expect(b.model!.getWeights()).toEqual(a.model!.getWeights());
    sd.dispose([a.model!, b.model!, X, Y]);
  }, 60_000);

  it('regression: trains on the standardized target and folds it back, so the model predicts in the original units', async () => {
    const { x: X, y: Y, yv: y } = await table('data/diabetes.csv');
    const scaler = sd.data.standardize(X);
    const r = await sd.tune({ hidden: [[16]], lr: { min: 1e-3, max: 1e-2 }, batchSize: [32] }, X, Y, { loss: 'mse', trials: 3, epochs: 20, validation: 0.2, refit: true, preprocessing: { scaler } });
    expect(r.metric).toBe('r2');
    expect(r.validation).toEqual({ kind: 'holdout', fraction: 0.2 });
    const pred = r.model!.predict(X);
    const p = pred.dataSync();
    const meanP = p.reduce((a, b) => a + b, 0) / p.length, meanY = y.reduce((a, b) => a + b, 0) / y.length;
    // Without the fold the predictions would be about 0 (a standardized target); the target's mean is 152.
    expect(Math.abs(meanP - meanY)).toBeLessThan(15);
    expect(sd.metrics.r2(p, y)).toBeGreaterThan(0.4);
    pred.dispose();
    sd.dispose([r.model!, X, Y]);
  }, 60_000);

  it('a builder gets every draw, its own dimensions included; folds and refit by default', async () => {
    const { x, y } = await table('data/iris.csv');
    const seen: sd.TrialParams[] = [];
    const builder = (p: sd.TrialParams) => {
      seen.push(p);
      return sd.mlp([4, p.width as number, 3], { seed: p.seed });
    };
    const r = await sd.tune(builder, x, y, { loss: 'softmaxCrossEntropy', space: { width: [4, 8, 16], lr: { min: 1e-3, max: 3e-2 } }, trials: 4, epochs: 9, validation: { folds: 3 } });
    expect(r.validation).toEqual({ kind: 'folds', folds: 3 });
    expect(r.refit).toBe(true);
    for (const p of seen) {
      expect([4, 8, 16]).toContain(p.width);
      expect(p.lr).toBeGreaterThanOrEqual(1e-3);
      expect(p.lr).toBeLessThanOrEqual(3e-2);
    }
    expect(r.model!.layers[0].params()[0].shape).toEqual([4, r.params!.width]);
    expect(r.leaderboard.every((t) => t.summary.includes('width'))).toBe(true);
    sd.dispose([r.model!, x, y]);
  }, 60_000);

  it('memory after 100 trials equals memory after 1', async () => {
    const { x: X, y: Y } = await table('data/iris.csv');
    const space = { hidden: [[4], [6]], lr: { min: 1e-3, max: 1e-1 }, batchSize: [32, 64] } as const;
    const o = { loss: 'softmaxCrossEntropy' as const, epochs: 3, minEpochs: 1, validation: 0.2 };
    const after = async (trials: number) => {
      const liveDuring: number[] = [];
      const r = await sd.tune(space, X, Y, { ...o, trials, callbacks: { onTrialEnd: () => void liveDuring.push(sd.memory().tensors) } });
      expect(r.trials).toBe(trials);
      r.model!.dispose();
      const m = sd.memory();
      return { tensors: m.tensors, bytes: m.bytes, allocated: m.backend.allocatedBytes, peak: Math.max(...liveDuring) };
    };
    const one = await after(1);
    const hundred = await after(100);
    expect([hundred.tensors, hundred.bytes, hundred.allocated]).toEqual([one.tensors, one.bytes, one.allocated]);
    // While it runs, too: a bracket holds at most 9 trials' models whatever the count.
    expect(hundred.peak).toBeLessThan(one.peak + 9 * 12);
    sd.dispose([X, Y]);
  }, 120_000);

  it('a loss that is NaN in every trial is a clear Error, not a hang, and leaves nothing behind', async () => {
    const { x, y: labels } = await table('data/iris.csv');
    const y = sd.tensor(Array.from(x.dataSync().filter((_, i) => i % 4 === 0), (v) => v * 1e6));
    const p = sd.tune({ hidden: [[8]], lr: [1e3, 1e4], optimizer: 'sgd' }, x, y, { loss: 'mse', trials: 4, epochs: 3, scaleTarget: false });
    await expect(p).rejects.toThrow(/^tune: all 4 trials that ran failed; the first: fit: training diverged: .*give preprocessing \{scaler: data.standardize\(x\)\}, or lower the learning rates/);
    sd.dispose([x, y, labels]);
  }, 60_000);

  it('an aborted signal stops within a batch and returns the best trial so far, as it was when scored (no refit)', async () => {
    const { x, y } = await table('data/iris.csv');
    // Armed when the leading trial resumes for its next stage; reads as aborted 5 batches later, so that the
    // leader's models are part-way into a stage its score does not cover. tune looks after every batch.
    let leader = -1, armed = -1, looks = 0;
    const signal = {
      get aborted() {
        if (armed < 0) return false;
        looks++;
        return looks > armed;
      },
    } as unknown as AbortSignal;
    const r = await sd.tune('auto', x, y, {
      loss: 'softmaxCrossEntropy', trials: 50, epochs: 30, validation: 0.3, refit: true, signal,
      callbacks: {
        onTrialEnd: (_t, board) => void (leader = board[0].id),
        onTrialBegin: (t) => void (t.epochs > 0 && t.id === leader && armed < 0 && (armed = 5)),
      },
    });
    expect(r.stopped).toBe('aborted');
    expect(r.refit).toBe(false);
    // The look that saw it aborted ended the trial's training; the search's loop looked twice more.
    expect(looks).toBe(8);
    expect(r.leaderboard[0].id).toBe(leader);
    expect(r.leaderboard[0].status).toBe('stopped');
    expect(r.score).toBe(r.leaderboard[0].score);
    // The model is the one that earned the score: its accuracy on the validation rows (tune's hold-out,
    // drawn as fit's validationSplit draws) is the score, not that of the weights 5 batches later.
    const { val } = holdOut(150, 0.3, await y.data(), 0 ^ 0x5bd1e995);
    const vx = sd.gatherRows(x, val), vy = sd.gatherRows(y, val);
    expect(sd.metrics.accuracy(r.model!.predictClasses(vx), vy)).toBe(r.score);
    const v = await sd.evaluate(r.model!, vx, vy, { loss: 'softmaxCrossEntropy' });
    expect(v.loss).toBe(r.leaderboard[0].valLoss);
    sd.dispose([r.model!, x, y, vx, vy]);
  }, 60_000);

  it('a time budget ends the search with stopped: time; too small a budget says so', async () => {
    const { x, y } = await table('data/iris.csv');
    const r = await sd.tune('auto', x, y, { loss: 'softmaxCrossEntropy', seconds: 1.5, epochs: 20, validation: 0.2 });
    expect(r.stopped).toBe('time');
    expect(r.trials).toBeGreaterThan(1);
    r.model!.dispose();
    await expect(sd.tune('auto', x, y, { loss: 'softmaxCrossEntropy', seconds: 1e-6 })).rejects.toThrow(/^tune: the time budget ran out before any trial finished its first stage \(\d+ epochs? on each of 5 folds\); give more seconds/);
    sd.dispose([x, y]);
  }, 60_000);

  it('bad spaces, budgets and options get clear errors before any work', async () => {
    const x = [[1, 2], [3, 4], [5, 6], [7, 8]], y = [0, 1, 0, 1];
    const t = (space: any, o: any = {}) => sd.tune(space, x, y, { loss: 'softmaxCrossEntropy', ...o });
    await expect(t({})).rejects.toThrow(/^tune: the search space is empty, so there is nothing to tune; give at least one dimension \(hidden, activation, lr, dropout, weightDecay, batchSize, optimizer\)/);
    await expect(t({ lr: 1e-3, hidden: [64], activation: ['relu'] })).rejects.toThrow(/^tune: every dimension of the search space has one value, so every trial would be the same/);
    await expect(t({ activation: [] })).rejects.toThrow("tune: the search space's activation is an empty list of choices; give at least one value");
    await expect(t({ activation: ['relu', 'swish'] })).rejects.toThrow(/^tune: the search space's activation\[1\] must be one of relu/);
    await expect(t({ lr: { min: 1e-2, max: 1e-3 } })).rejects.toThrow("tune: the search space's lr range has min 0.01 above max 0.001; give {min, max} with min ≤ max.");
    await expect(t({ weightDecay: { min: 0, max: 1e-3 } })).rejects.toThrow(/^tune: the search space's weightDecay range is log-uniform but starts at 0/);
    await expect(t({ lr: { min: 1e-3, mx: 1 } })).rejects.toThrow(/^tune: the search space's lr range has an unknown option 'mx'/);
    await expect(t({ hiden: [[8]] })).rejects.toThrow(/^tune: the search space has an unknown option 'hiden' \(did you mean 'hidden'\?\)/);
    await expect(t({ hidden: { layers: [2, 1], units: [8, 16] } })).rejects.toThrow(/^tune: the search space's hidden.layers must be a count or \[fewest, most\]/);
    await expect(t('auto', { trials: 0 })).rejects.toThrow('tune: trials must be a positive integer (the budget of configurations to try), got 0.');
    await expect(t('auto', { seconds: 0 })).rejects.toThrow('tune: seconds must be a positive number (the time budget), got 0.');
    await expect(t('auto', { seconds: -5 })).rejects.toThrow('tune: seconds must be a positive number (the time budget), got -5.');
    await expect(t('auto', { trails: 5 })).rejects.toThrow(/^tune: unknown option 'trails' \(did you mean 'trials'\?\)/);
    await expect(t('auto', { metric: 'r2' })).rejects.toThrow("tune: metric 'r2' is for regression; with 'softmaxCrossEntropy' use 'accuracy' or 'loss'.");
    await expect(t('auto', { validation: 1.5 })).rejects.toThrow(/^tune: validation must be a fraction in \(0, 1\), \{folds: k\} or 'auto', got 1.5/);
    await expect(t('auto', { validation: { folds: 1 } })).rejects.toThrow('tune: validation.folds must be an integer ≥ 2, got 1.');
    await expect(t('auto', { validation: { folds: 9 } })).rejects.toThrow('tune: 9 folds need at least 9 rows, got 4; use fewer folds or a hold-out fraction.');
    await expect(t('auto', { space: { lr: 1 } })).rejects.toThrow('tune: options.space goes with a builder; with a search space as the first argument, leave it out.');
    await expect(t(() => sd.mlp([2, 2]), { preprocessing: {} })).rejects.toThrow('tune: preprocessing is for search-space models; a builder sets its model\'s preprocessing itself.');
    await expect(t(() => 42, { space: { lr: [0.1, 0.2] } })).rejects.toThrow('tune: the builder must return a model (mlp(...) or sequential(...)), got 42.');
    await expect(sd.tune('auto', x, y, undefined as any)).rejects.toThrow("tune: options {loss} are required, e.g. {loss: 'softmaxCrossEntropy', seconds: 60}.");
    await expect(t('auto', { loss: 'cross' })).rejects.toThrow(/^tune: unknown loss 'cross'/);
    await expect(sd.tune('auto', [[1, NaN]], [0], { loss: 'softmaxCrossEntropy' })).rejects.toThrow(/^tune: x holds NaN at row 0, column 1/);
  });

  it('draws: log-uniform rates inside their range, choices from their lists, the same draws from the same seed', () => {
    const space = checkSpace({ lr: { min: 1e-4, max: 1e-1 }, dropout: { min: 0, max: 0.5 }, hidden: { layers: [1, 3], units: [16, 256] } }, false, 'tune');
    expect(space.varying).toEqual(['hidden', 'lr', 'dropout']);
    const r = rng(5), again = rng(5);
    const lrs: number[] = [];
    for (let i = 0; i < 400; i++) {
      const p = drawParams(space, r, i);
      expect(drawParams(space, again, i)).toEqual(p);
      expect(p.hidden.length).toBeGreaterThanOrEqual(1);
      expect(p.hidden.length).toBeLessThanOrEqual(3);
      for (const u of p.hidden) expect(u >= 16 && u <= 256).toBe(true);
      expect(p.dropout >= 0 && p.dropout < 0.5).toBe(true);
      expect([p.batchSize, p.optimizer, p.activation, p.weightDecay]).toEqual([32, 'adam', 'relu', 0]); // left out: fixed
      lrs.push(p.lr);
    }
    // Log-uniform: as many draws per decade (about 133 of 400 in each of 1e-4..1e-3..1e-2..1e-1).
    const decade = (lo: number) => lrs.filter((v) => v >= lo && v < lo * 10).length;
    for (const lo of [1e-4, 1e-3, 1e-2]) expect(Math.abs(decade(lo) - 400 / 3)).toBeLessThan(35);
  });
});
