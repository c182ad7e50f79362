// The demo's module worker: simdnn runs here, off the page's thread, so the page stays responsive
// while it trains. The page sends requests {id, type, ...} and gets {id, ok, result | error} back;
// during training the worker also sends {type: 'batch' | 'epoch'} progress events.
// In your own app, import from 'simdnn' instead of the bundle path.
import * as sd from './dist/index.js';

const MODEL_KEY = 'digits-mlp'; // IndexedDB key (database 'simdnn', store 'models')
const SPLIT_SEED = 7;

let ready = null; // Promise of {info, data}
let data = null; // {train: {x, y}, test: {x, y}, columns, classes, encoding, scaler, rows}
let model = null;
let optimizer = null; // one Adam across fit() calls, so its moments carry over on resume
let run = null; // {target, done, steps, seconds, controller, busy, origin}

const post = (msg, transfer) => self.postMessage(msg, transfer ?? []);

async function start() {
  const info = await sd.init({ backend: 'auto' });
  // The CSV arrives through the service worker's cache when offline.
  const ds = await sd.data.readCsv(new URL('./data/digits.csv', import.meta.url), { target: 'digit', task: 'classification' });
  const parts = sd.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed: SPLIT_SEED });
  ds.x.dispose();
  ds.y.dispose();
  data = {
    train: parts.train, test: parts.test, columns: ds.columns, classes: ds.classes, encoding: ds.encoding, target: ds.target,
    scaler: sd.data.standardize(parts.train.x), rows: ds.report.rows,
  };
  let saved = false;
  try { saved = (await sd.idbList()).includes(MODEL_KEY); } catch { /* no IndexedDB (private mode): no saved model */ }
  return {
    info: { ...sd.info(), crossOriginIsolated: self.crossOriginIsolated === true },
    data: { rows: data.rows, train: parts.train.x.shape[0], test: parts.test.x.shape[0], features: ds.columns.length, classes: ds.classes },
    saved,
  };
}

function describe(m) {
  const sizes = [m.inputSize];
  for (const l of m.layers) {
    const c = l.config();
    if (c.type === 'linear') sizes.push(c.outFeatures);
  }
  const params = m.parameters().reduce((s, p) => s + p.size, 0);
  return { sizes, params };
}

/** Accuracy and confusion matrix on the held-out test digits. */
function testReport() {
  const pred = model.predictClasses(data.test.x);
  const labels = data.test.y.dataSync();
  return { accuracy: sd.metrics.accuracy(pred, labels), confusion: sd.metrics.confusionMatrix(pred, labels, 10), n: labels.length };
}

function newModel({ hidden, lr, seed }) {
  model?.dispose();
  optimizer?.dispose();
  model = sd.mlp([64, ...hidden, 10], { seed });
  // fit, predict and save all apply the scaler: the model takes raw 0..16 pixel counts.
  model.preprocessing = {
    scaler: data.scaler, classes: data.classes, columns: data.columns, target: data.target, task: 'classification', encoding: data.encoding,
  };
  optimizer = sd.optimizers.adam({ lr });
  run = { target: 0, done: 0, steps: 0, seconds: 0, controller: null, busy: false, origin: 'trained', privacy: null };
}

// Private training (DP-SGD): δ below 1/n for the 1,437 training digits, and each digit's gradient clipped to
// norm 1. The run's noise is chosen when it starts, for its planned epochs; Resume keeps it and its batch
// size, and ε then counts every private step of the run (it passes the target if you train on).
const DP_DELTA = 1e-5;
const DP_CLIP = 1;

/** ε spent by the run's private steps so far. */
function spentEpsilon(p, steps) {
  return sd.privacy.epsilon({ n: data.train.x.shape[0], batchSize: p.batchSize, noiseMultiplier: p.sigma, steps, delta: DP_DELTA }).epsilon;
}

/** Trains until run.done reaches run.target, or until stopped; `oneCycle`: one cycle per run, peaking at lr. */
async function train({ fresh, hidden = [64], lr = 1e-3, epochs = 30, batchSize = 32, seed = 1, oneCycle = false, epsilon = null }) {
  if (run?.busy) throw new Error('already training');
  if (fresh || !model) newModel({ hidden, lr, seed });
  if (fresh) run.target = epochs;
  else if (run.done >= run.target) run.target = run.done + epochs; // "train more"
  if (fresh && epsilon) {
    const n = data.train.x.shape[0];
    // fit() runs ceil(n / batchSize) steps per epoch: the noise is chosen for exactly those steps.
    run.privacy = { target: epsilon, batchSize, sigma: sd.privacy.noiseFor({ targetEpsilon: epsilon, delta: DP_DELTA, n, batchSize, steps: epochs * Math.ceil(n / batchSize) }) };
  }
  const p = run.privacy;
  if (p) batchSize = p.batchSize; // a private run keeps its batch size (its noise was chosen for it)
  const r = run;
  r.busy = true;
  r.controller = new AbortController();
  const perEpoch = Math.ceil(data.train.x.shape[0] / batchSize);
  const first = r.done;
  let sent = 0;
  const epochEvent = (logs, partial) => ({
    type: 'epoch', epoch: first + logs.epoch + 1, target: r.target, partial,
    loss: logs.loss, accuracy: logs.accuracy, valLoss: logs.valLoss, valAccuracy: logs.valAccuracy, ms: logs.ms,
    epsilon: p ? spentEpsilon(p, r.steps) : null,
  });
  try {
    const history = await model.fit(data.train.x, data.train.y, {
      loss: 'softmaxCrossEntropy', optimizer, epochs: r.target - r.done, batchSize, seed: seed + first,
      ...(oneCycle ? { schedule: sd.schedules.oneCycle({ maxLr: lr }) } : {}),
      ...(p ? { privacy: { noiseMultiplier: p.sigma, maxGradNorm: DP_CLIP, delta: DP_DELTA } } : {}),
      validationData: [data.test.x, data.test.y], signal: r.controller.signal,
      callbacks: {
        onBatchEnd(batch, logs) {
          r.steps++;
          if (batch % 4 === 3 && Number.isFinite(logs.loss))
            post({ type: 'batch', x: first + logs.epoch + (batch + 1) / perEpoch, loss: logs.loss, step: r.steps });
        },
        onEpochEnd(epoch, logs) {
          sent++;
          post(epochEvent(logs, false));
        },
      },
    });
    // A stop mid-epoch still records that epoch (fit's history has it); count and draw it too.
    for (const logs of history.epochs.slice(sent)) post(epochEvent(logs, true));
    r.done += history.epochs.length;
    r.seconds += history.ms / 1000;
    const stopped = r.done < r.target;
    const privacy = p ? { epsilon: spentEpsilon(p, r.steps), target: p.target, delta: DP_DELTA, sigma: p.sigma, clip: DP_CLIP, batchSize: p.batchSize } : null;
    return { stopped, done: r.done, target: r.target, seconds: r.seconds, ...testReport(), model: describe(model), privacy };
  } finally {
    r.busy = false;
    r.controller = null;
  }
}

function adopt(m, origin) {
  if (run?.busy) throw new Error('stop training before loading a model');
  if (m.inputSize !== 64 || m.outputSize !== 10) {
    const got = `${m.inputSize} inputs and ${m.outputSize} outputs`;
    m.dispose();
    throw new Error(`this model has ${got}; the digits demo needs 64 inputs (8×8 pixels) and 10 outputs`);
  }
  model?.dispose();
  optimizer?.dispose();
  model = m;
  // Adam's moments are not part of the file: training a loaded model starts a fresh optimizer.
  optimizer = sd.optimizers.adam({ lr: 1e-3 });
  run = { target: 0, done: 0, steps: 0, seconds: 0, controller: null, busy: false, origin, privacy: null };
  return { ...testReport(), model: describe(m), origin };
}

// ---- choosing for the user: the learning-rate range test, and a short hyperparameter search ----

let tuning = null; // the AbortController of a running search

/** The range test for a fresh model of these settings, on the training digits (the current model is left alone). */
async function findLr({ hidden = [64], batchSize = 32, seed = 1 }) {
  if (run?.busy || tuning) throw new Error('wait for training to finish');
  const probe = sd.mlp([64, ...hidden, 10], { seed });
  probe.preprocessing = { scaler: data.scaler };
  try {
    const f = await sd.lrFinder(probe, data.train.x, data.train.y, { loss: 'softmaxCrossEntropy', batchSize, seed });
    return { lrs: f.lrs, losses: f.losses, smoothed: f.smoothed, suggestion: f.suggestion, minimum: f.minimum, stopped: f.stopped, ms: f.ms };
  } finally {
    probe.dispose();
  }
}

/** tune('auto') on the training digits for `seconds`; the best model, retrained on them, becomes the model. */
async function tune({ seconds = 20 }) {
  if (run?.busy || tuning) throw new Error('wait for training to finish');
  tuning = new AbortController();
  const t0 = performance.now();
  try {
    const res = await sd.tune('auto', data.train.x, data.train.y, {
      loss: 'softmaxCrossEntropy', seconds, refit: true, signal: tuning.signal,
      preprocessing: { scaler: data.scaler, classes: data.classes, columns: data.columns, target: data.target, task: 'classification', encoding: data.encoding },
      callbacks: {
        onTrialEnd(t, board) {
          post({
            type: 'trial', elapsed: (performance.now() - t0) / 1000, seconds, trials: board.length,
            top: board.filter((b) => b.score !== null).slice(0, 5).map((b) => ({ id: b.id, epochs: b.epochs, score: b.score, summary: b.summary })),
          });
        },
      },
    });
    if (!res.model) throw new Error(`the search stopped before any trial was scored`);
    const best = res.leaderboard[0];
    const r = adopt(res.model, 'tuned');
    return { ...r, trials: res.trials, seconds: res.ms / 1000, stopped: res.stopped, best: { summary: best.summary, score: best.score, epochs: best.epochs }, validation: res.validation };
  } finally {
    tuning = null;
  }
}

// The heat map's "no signal": a blank pad (no ink anywhere). Against it, only inked cells get credit, and
// the credits add up to the predicted class's logit minus its logit on a blank pad. (explain()'s default
// baseline would be the scaler's zero, the mean digit of the training set.)
const BLANK = new Float32Array(64);
// The path from a blank pad crosses many relu kinks, where the quadrature's error falls only as 1/steps:
// 128 steps keep the gap under ~0.3% of the map's total |credit| on the test digits (64: ~0.6%), for
// well under a millisecond on a 64-64-10 network.
const HEAT_STEPS = 128;

/**
 * The probabilities of a drawing and, with `heat`, why: integrated gradients of the predicted class's
 * logit, one value per cell of the 8×8 grid (> 0: that ink pushed toward the class, < 0: against it).
 */
async function predict({ pixels, heat = false }) {
  if (!model) return null;
  const row = Float32Array.from(pixels);
  const probs = sd.tidy(() => sd.softmax(model.predict(sd.tensor(row, [1, 64])), -1).dataSync());
  const result = { probabilities: Array.from(probs) };
  if (heat) {
    const t0 = performance.now();
    const target = probs.indexOf(Math.max(...probs));
    const e = await sd.explain(model, row, { target, baseline: BLANK, steps: HEAT_STEPS });
    result.heat = {
      target, steps: HEAT_STEPS, values: Array.from(e.attributions), ms: performance.now() - t0,
      // Completeness: Σ values = logit(drawing) − logit(blank pad), up to the quadrature's gap.
      delta: e.outputs[0] - e.baselineOutputs[0], gap: e.gap[0],
    };
  }
  return result;
}

const handlers = {
  start: () => (ready ??= start()),
  train: (msg) => train(msg),
  stop: () => {
    run?.controller?.abort();
    tuning?.abort();
    return { stopping: !!run?.busy || !!tuning };
  },
  predict,
  findLr,
  tune: (msg) => tune(msg),
  /** A row of the test split as raw pixel counts (for the tests, and to compare with a drawing). */
  sample: ({ index }) => {
    const n = data.test.x.shape[0];
    const i = ((index ?? Math.floor(Math.random() * n)) % n + n) % n;
    return { index: i, pixels: Array.from(data.test.x.dataSync().subarray(i * 64, i * 64 + 64)), label: data.test.y.dataSync()[i] };
  },
  save: async () => {
    if (!model) throw new Error('there is no model yet: train one first');
    await sd.saveIndexedDB(model, MODEL_KEY);
    return { key: MODEL_KEY, bytes: sd.save(model).byteLength };
  },
  loadSaved: async () => adopt(await sd.loadIndexedDB(MODEL_KEY), 'IndexedDB'),
  loadBytes: ({ bytes, name }) => adopt(sd.loadBytes(new Uint8Array(bytes)), name || 'file'),
  exportBytes: () => {
    if (!model) throw new Error('there is no model yet: train one first');
    const bytes = sd.save(model);
    return { result: { bytes }, transfer: [bytes.buffer] };
  },
};

self.onmessage = async (event) => {
  const msg = event.data ?? {};
  const handler = handlers[msg.type];
  try {
    if (!handler) throw new Error(`unknown request '${msg.type}'`);
    if (msg.type !== 'start') await handlers.start();
    let result = await handler(msg);
    let transfer;
    if (result && result.transfer) ({ result, transfer } = result);
    post({ id: msg.id, ok: true, result }, transfer);
  } catch (e) {
    post({ id: msg.id, ok: false, error: e?.message ?? String(e) });
  }
};
