// `simdnn train [file.csv] --target COL ...`: read a CSV (with its progress), split, scale, build an
// MLP, train it with a progress bar, save the model with its preprocessing, then report test metrics
// and throughput. Saving comes before scoring: whatever goes wrong in scoring, the training is kept.
import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import * as sd from '../index.js';
import { BACKENDS, DEFAULTS, HIDDEN_ACTIVATIONS } from './defaults.js';
import { choice, int, intList, nameList, parse, real, str, type OptionSpec } from './args.js';
import { bytes, count, names, plural, rate, seconds } from './format.js';
import { trainHelp } from './help.js';
import { asInput, oneLine, packageFile, UsageError, version, type CliIO } from './io.js';
import { Progress, ReadProgress } from './progress.js';
import { scoreModel } from './report.js';
import { autoLr } from './lr-plot.js';
import { explainReport } from './explain.js';

const CMD = 'simdnn train';

export const TRAIN_OPTIONS: Record<string, OptionSpec> = {
  target: { type: 'string', short: 't' },
  features: { type: 'string' },
  task: { type: 'string' },
  missing: { type: 'string' },
  hidden: { type: 'string' },
  activation: { type: 'string' },
  dropout: { type: 'string' },
  epochs: { type: 'string', short: 'e' },
  lr: { type: 'string' },
  'batch-size': { type: 'string', short: 'b' },
  optimizer: { type: 'string' },
  'weight-decay': { type: 'string' },
  loss: { type: 'string' },
  patience: { type: 'string' },
  'dp-epsilon': { type: 'string' },
  'dp-delta': { type: 'string' },
  'dp-clip': { type: 'string' },
  scale: { type: 'string' },
  val: { type: 'string' },
  test: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string', short: 'o' },
  explain: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
};


const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const;
const LOSSES = ['softmaxCrossEntropy', 'binaryCrossEntropy', 'mse', 'mae', 'huber'] as const;
const CLASS_LOSSES: readonly string[] = ['softmaxCrossEntropy', 'binaryCrossEntropy'];
const MISSING = ['drop', 'mean', 'median', 'mostFrequent', 'error'] as const;
const SCALES = ['standard', 'minmax', 'none'] as const;

/**
 * A dataset shipped in the package (data/<name>.csv, with its attribution in data/README.md): digits when
 * no file is given, or the one named (`simdnn train iris`), with its target column.
 */
export function builtInDataset(name: sd.DatasetName = 'digits'): { file: string; target: string } {
  const d = sd.data.DATASETS[name];
  return { file: packageFile(d.file), target: d.target };
}

/** A positional that names a built-in dataset (and no file of that name is in the way). */
export function builtInName(arg: string | undefined, cwd: string): sd.DatasetName | null {
  if (arg === undefined) return 'digits';
  return Object.hasOwn(sd.data.DATASETS, arg) && !existsSync(resolve(cwd, arg)) ? (arg as sd.DatasetName) : null;
}

export async function train(argv: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parse(CMD, argv, TRAIN_OPTIONS, 1);
  if (v.help) {
    io.stdout(trainHelp());
    return 0;
  }
  // ---- options (all checked before anything slow starts) ----
  const lrAuto = str(v.lr)?.trim().toLowerCase() === 'auto';
  const o = {
    hidden: intList(CMD, 'hidden', str(v.hidden), [...DEFAULTS.hidden]),
    epochs: int(CMD, 'epochs', str(v.epochs), DEFAULTS.epochs, 1, 1_000_000),
    lr: lrAuto ? DEFAULTS.lr : real(CMD, 'lr', str(v.lr), DEFAULTS.lr, { lo: 0, hi: Infinity, openLo: true, openHi: true, what: "a positive number or 'auto'" }),
    batchSize: int(CMD, 'batch-size', str(v['batch-size']), DEFAULTS.batchSize, 1, 1 << 20),
    optimizer: choice(CMD, 'optimizer', str(v.optimizer), DEFAULTS.optimizer, OPTIMIZERS),
    weightDecay: v['weight-decay'] === undefined ? undefined : real(CMD, 'weight-decay', str(v['weight-decay']), 0, { lo: 0, hi: Infinity, openHi: true, what: 'a number ≥ 0' }),
    activation: choice(CMD, 'activation', str(v.activation), DEFAULTS.activation, HIDDEN_ACTIVATIONS),
    dropout: real(CMD, 'dropout', str(v.dropout), 0, { lo: 0, hi: 1, openHi: true }),
    val: real(CMD, 'val', str(v.val), DEFAULTS.val, { lo: 0, hi: 1, openHi: true }),
    test: real(CMD, 'test', str(v.test), DEFAULTS.test, { lo: 0, hi: 1, openHi: true }),
    seed: int(CMD, 'seed', str(v.seed), DEFAULTS.seed, 0),
    loss: v.loss === undefined ? undefined : choice(CMD, 'loss', str(v.loss), 'mse', LOSSES),
    task: v.task === undefined ? undefined : choice(CMD, 'task', str(v.task), 'classification', ['classification', 'regression'] as const),
    backend: choice(CMD, 'backend', str(v.backend), DEFAULTS.backend, BACKENDS),
    missing: v.missing === undefined ? undefined : choice(CMD, 'missing', str(v.missing), 'drop', MISSING),
    scale: choice(CMD, 'scale', str(v.scale), 'standard', SCALES),
    patience: v.patience === undefined ? undefined : int(CMD, 'patience', str(v.patience), 5, 1),
    features: nameList(str(v.features)),
    // Private training: the ε to spend, δ and the clipping norm (see the README's section on privacy).
    dpEpsilon: v['dp-epsilon'] === undefined ? undefined : real(CMD, 'dp-epsilon', str(v['dp-epsilon']), 3, { lo: 0, hi: Infinity, openLo: true, openHi: true, what: 'a positive number (the ε to spend)' }),
    dpDelta: v['dp-delta'] === undefined ? undefined : real(CMD, 'dp-delta', str(v['dp-delta']), 1e-5, { lo: 0, hi: 1, openLo: true, openHi: true, what: 'a number in (0, 1), below 1/rows' }),
    dpClip: v['dp-clip'] === undefined ? undefined : real(CMD, 'dp-clip', str(v['dp-clip']), 1, { lo: 0, hi: Infinity, openLo: true, openHi: true, what: 'a positive number (the per-sample gradient norm)' }),
    out: str(v.out) ?? DEFAULTS.out,
    quiet: !!v.quiet,
  };
  if (o.patience !== undefined && o.val === 0) throw new UsageError(`${CMD}: --patience (early stopping) watches the validation loss; give --val > 0.`);
  if (o.features && o.features.length === 0) throw new UsageError(`${CMD}: --features needs at least one column name.`);
  if (o.dpEpsilon === undefined && (o.dpDelta !== undefined || o.dpClip !== undefined))
    throw new UsageError(`${CMD}: --dp-delta and --dp-clip set up private training, which --dp-epsilon turns on; give --dp-epsilon too.`);
  const privacy = o.dpEpsilon === undefined ? undefined : { targetEpsilon: o.dpEpsilon, delta: o.dpDelta ?? 1e-5, maxGradNorm: o.dpClip ?? 1 };

  const named = builtInName(positionals[0], io.cwd);
  const builtIn = named !== null;
  const shipped = named ? builtInDataset(named) : null;
  const file = shipped ? shipped.file : resolve(io.cwd, positionals[0]);
  const target = str(v.target) ?? shipped?.target;
  if (str(v.target) === '') throw new UsageError(`${CMD}: --target needs a column name.`);
  checkFile(file, builtIn ? 'the built-in dataset' : positionals[0], builtIn);
  const out = resolve(io.cwd, o.out);
  checkOut(out, o.out);

  // The header waits until the data and options have passed their checks, so that an input error
  // prints the error alone.
  let held: string[] | null = [];
  const say = (s: string) => {
    if (o.quiet) return;
    if (held) held.push(s);
    else io.stdout(s);
  };
  const flush = () => {
    if (held && !o.quiet) io.stdout(held.join(''));
    held = null;
  };
  const info = await sd.init({ backend: o.backend });
  say(`simdnn ${version()} · backend ${describeBackend(info)} · ${info.runtime}${typeof process !== 'undefined' ? ` ${process.version}` : ''}\n`);
  if (info.backend === 'js' && o.backend === 'auto') for (const n of info.notes) say(`  note: ${n}\n`);

  const owned: { dispose(): void }[] = [];
  try {
    // ---- data ----
    const reading = new ReadProgress(io, display(file, io.cwd), o.quiet);
    const ds = await asInput(() =>
      sd.data.readCsv(file, { from: 'path', target, features: o.features, task: o.task, missing: o.missing, onProgress: (p) => reading.update(p) }),
    ).finally(() => reading.done());
    owned.push(ds.x, ds.y);
    const task = ds.task;
    const classes = ds.classes ?? [];
    const shown = builtIn ? `${display(file, io.cwd)} (built-in)` : display(file, io.cwd);
    say(
      `data     ${shown}: ${plural(ds.report.rows, 'row')} × ${plural(ds.columns.length, 'feature')}, target '${ds.target}'` +
        `${target === undefined ? ' (the last column; choose with --target)' : ''}: ${task}` +
        `${task === 'classification' ? `, ${plural(classes.length, 'class', 'classes')}` : ''}\n`,
    );
    // What readCsv did to the data (dropped, imputed, one-hot, ignored), and why the task is what it is.
    for (const n of ds.report.notes) if (!/^(read|task:|warning:) /.test(n)) say(`         ${n}\n`);
    // Warnings go to stderr even with --quiet: an id read as 25,000 classes trains for nothing.
    for (const w of ds.report.warnings) io.stderr(`warning: ${cliWording(w)}\n`);
    if (!o.task) say(`         ${task}: ${ds.report.taskReason.replace(/pass task: '(\w+)'/, '--task $1')}\n`);
    if (task === 'classification' && classes.length < 2)
      throw new UsageError(`${CMD}: the target '${ds.target}' has a single class (${names(classes)}); classification needs at least two.`);

    const loss = o.loss ?? (task === 'classification' ? 'softmaxCrossEntropy' : 'mse');
    if (task === 'classification' && !CLASS_LOSSES.includes(loss))
      throw new UsageError(`${CMD}: --loss ${loss} is for regression, but '${ds.target}' is a class label; use softmaxCrossEntropy (or binaryCrossEntropy for two classes), or --task regression.`);
    if (task === 'regression' && CLASS_LOSSES.includes(loss))
      throw new UsageError(`${CMD}: --loss ${loss} is for classification, but '${ds.target}' is a number (regression); use mse, mae or huber, or --task classification.`);
    if (loss === 'binaryCrossEntropy' && classes.length !== 2)
      throw new UsageError(`${CMD}: --loss binaryCrossEntropy needs two classes, but '${ds.target}' has ${classes.length}; use softmaxCrossEntropy.`);

    // ---- split ----
    let trainX = ds.x, trainY = ds.y, testX: sd.Tensor | null = null, testY: sd.Tensor | null = null;
    if (o.test > 0) {
      const s = await asInput(() => sd.data.split(ds.x, ds.y, { test: o.test, stratify: task === 'classification', seed: o.seed }));
      owned.push(s.train.x, s.train.y, s.test.x, s.test.y);
      ({ x: trainX, y: trainY } = s.train);
      ({ x: testX, y: testY } = s.test);
    }
    const nTrain = trainX.shape[0];
    const nVal = o.val > 0 ? Math.round(nTrain * o.val) : 0;
    say(
      `split    train ${count(nTrain - nVal)} · validation ${count(nVal)} · test ${testX ? count(testX.shape[0]) : '0 (metrics on the training rows)'}` +
        `${task === 'classification' && testX ? ', stratified' : ''}, seed ${o.seed}\n`,
    );

    // ---- model ----
    const scaler = o.scale === 'standard' ? sd.data.standardize(trainX) : o.scale === 'minmax' ? sd.data.minMaxScale(trainX) : null;
    const outputs = task === 'classification' ? (loss === 'binaryCrossEntropy' ? 1 : classes.length) : 1;
    const sizes = [ds.columns.length, ...o.hidden, outputs];
    const model = sd.mlp(sizes, { activation: o.activation, dropout: o.dropout, seed: o.seed });
    owned.push(model);
    model.preprocessing = { scaler, classes: ds.classes, columns: ds.columns, target: ds.target, task, encoding: ds.encoding };
    const nParams = model.parameters().reduce((s, p) => s + p.size, 0);
    const arch = sizes.map((n, i) => (i > 0 && i < sizes.length - 1 ? `${n} ${o.activation}` : String(n))).join(' → ');
    say(
      `model    ${arch}${o.dropout ? ` (dropout ${o.dropout})` : ''} · ${plural(nParams, 'parameter')} · ${loss} · ${o.optimizer} lr ${lrAuto ? 'auto (range test, then one-cycle)' : o.lr}` +
        `${o.weightDecay !== undefined ? ` weight decay ${o.weightDecay}` : ''} · batch ${o.batchSize} · ${plural(o.epochs, 'epoch')}` +
        `${o.patience ? ` (early stopping, patience ${o.patience})` : ''}\n`,
    );

    flush();

    // Regression trains on a standardized target (a raw target such as 25..346 would need thousands of
    // steps just to move the output bias); the scaling is folded into the last layer afterwards, so
    // the saved model predicts in the original units.
    let yFit = trainY, yMean = 0, yStd = 1;
    if (task === 'regression') {
      ({ mean: yMean, std: yStd } = moments(trainY.dataSync()));
      yFit = sd.tensor(Float32Array.from(trainY.dataSync(), (y) => (y - yMean) / yStd));
      owned.push(yFit);
      say(`         the loss is on the standardized target (mean ${fmt(yMean)}, std ${fmt(yStd)}); the saved model predicts in the original units\n`);
    }
    say('\n');

    // ---- train ----
    const optimizer = makeOptimizer(o.optimizer, o.lr, o.weightDecay);
    owned.push(optimizer);
    const progress = new Progress(io, o.epochs, nTrain - nVal, o.quiet);
    const auto = lrAuto ? autoLr((text) => say(text)) : null;
    const history = await model.fit(trainX, yFit, {
      loss,
      optimizer,
      epochs: o.epochs,
      batchSize: o.batchSize,
      seed: o.seed,
      ...(o.val > 0 ? { validationSplit: o.val } : {}),
      ...(o.patience ? { earlyStopping: { patience: o.patience, restoreBest: true } } : {}),
      ...(auto ? { schedule: auto.schedule } : {}),
      ...(privacy ? { privacy } : {}),
      callbacks: auto ? { ...progress.callbacks(), onTrainBegin: auto.onTrainBegin } : progress.callbacks(),
    });
    if (task === 'regression') unscaleOutput(model, yMean, yStd);
    const done = history.epochs.length;
    const stopped = history.stoppedEarly ? ` (stopped early; weights of epoch ${history.bestEpoch + 1} restored)` : '';
    io.stdout(
      `\ntraining ${plural(done, 'epoch')}${stopped}, ${plural(history.steps, 'step')} in ${seconds(history.ms)} · ` +
        `${rate(progress.samplesPerSecond)} samples/s on ${describeBackend(info)}\n`,
    );
    if (privacy) {
      const sigma = sd.privacy.noiseFor({ targetEpsilon: privacy.targetEpsilon, delta: privacy.delta, n: nTrain - nVal, batchSize: o.batchSize, steps: o.epochs * Math.ceil((nTrain - nVal) / o.batchSize) });
      io.stdout(
        `privacy  (ε = ${history.epsilon.at(-1)!.toFixed(2)}, δ = ${privacy.delta < 1e-3 ? privacy.delta.toExponential() : privacy.delta})-differentially private: DP-SGD, per-sample gradients clipped to ${privacy.maxGradNorm}, ` +
          `noise σ = ${sigma.toFixed(3)}, Poisson-sampled batches of ${o.batchSize} expected rows (target ε ${privacy.targetEpsilon})\n`,
      );
    }

    // ---- save, then evaluate ----
    await sd.saveFile(model, out);
    const size = statSync(out).size;
    io.stdout(`saved    ${display(out, io.cwd)} (${bytes(size)}); to use it: simdnn predict ${quoteArg(display(out, io.cwd))} FILE.csv\n`);

    const evalX = testX ?? trainX, evalY = testY ?? trainY;
    const rows = evalX.shape[0];
    const title = testX ? `test set (${plural(rows, 'row')})` : `training rows (${count(rows)}; no test split)`;
    let report: string;
    try {
      report = scoreModel(model, evalX, evalY, task, classes, title);
    } catch (e) {
      throw new Error(`scoring the model on the ${testX ? 'test set' : 'training rows'} failed (the model is saved, in ${display(out, io.cwd)}): ${oneLine(e)}`);
    }
    io.stdout(`\n${report}`);
    if (v.explain) io.stdout(`\n${await explainReport(model, evalX, evalY, ds.columns, o.seed, testX ? `test set (${plural(rows, 'row')})` : 'training rows')}`);
    return 0;
  } finally {
    for (const t of owned.reverse()) t.dispose();
  }
}

/** readCsv's warnings with the CLI's options for its option names. */
function cliWording(w: string): string {
  return w
    .replace(/pass task: '(\w+)'/g, 'use --task $1')
    .replace(/choose another target/g, 'choose another --target')
    .replace(/out of the features\b/g, 'out of --features');
}

/** Refuses a training table that does not exist or is a directory. */
export function checkFile(path: string, shown: string, builtIn: boolean, cmd = CMD): void {
  if (!existsSync(path)) {
    if (builtIn) throw new UsageError(`${cmd}: the built-in dataset is missing at ${path}; reinstall simdnn, or pass a CSV file.`);
    throw new UsageError(`${cmd}: no such file '${shown}'.`);
  }
  if (statSync(path).isDirectory()) throw new UsageError(`${cmd}: '${shown}' is a directory; give a CSV file.`);
}

/** Refuses a model path (--out) that is empty, a directory, or in a directory that does not exist. */
export function checkOut(path: string, shown: string, cmd = CMD): void {
  if (shown === '') throw new UsageError(`${cmd}: --out needs a file name.`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${cmd}: --out '${shown}' is a directory; give a file name such as model.safetensors.`);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${cmd}: cannot save to '${shown}': the directory '${dir}' does not exist.`);
}

export function describeBackend(info: sd.Info): string {
  if (info.backend === 'wasm' || info.backend === 'wasm-threads') return `${info.backend} (${info.binary?.startsWith('relaxed') ? 'relaxed SIMD' : 'SIMD'})`;
  return info.backend;
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function quoteArg(s: string): string {
  return /^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function fmt(v: number): string {
  return Number(v.toPrecision(5)).toString();
}

export function moments(v: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length;
  let m2 = 0;
  for (let i = 0; i < v.length; i++) m2 += (v[i] - mean) ** 2;
  const std = Math.sqrt(m2 / v.length);
  return { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

/** Folds y = z·std + mean into the last linear layer (W ← W·std, b ← b·std + mean). */
export function unscaleOutput(model: sd.Sequential, mean: number, std: number): void {
  const last = model.layers[model.layers.length - 1];
  const c = last.config() as { type: string; activation?: string; bias?: boolean };
  if (c.type !== 'linear' || c.activation !== 'linear') throw new Error('internal: the regression model must end in a linear layer.');
  const w = model.getWeights();
  const names = model.parameterNames();
  const i = names.lastIndexOf(`layers.${model.layers.length - 1}.weight`);
  w[i] = w[i].map((x) => x * std);
  const b = names.lastIndexOf(`layers.${model.layers.length - 1}.bias`);
  if (b < 0) throw new Error('internal: the regression model needs a bias in its last layer.');
  w[b] = w[b].map((x) => x * std + mean);
  model.setWeights(w);
}

function makeOptimizer(kind: (typeof OPTIMIZERS)[number], lr: number, weightDecay: number | undefined): sd.Optimizer {
  const wd = weightDecay === undefined ? {} : { weightDecay };
  switch (kind) {
    case 'adam': return sd.optimizers.adam({ lr, ...wd });
    case 'adamw': return sd.optimizers.adamw({ lr, ...wd });
    case 'sgd': return sd.optimizers.sgd({ lr, momentum: 0.9, ...wd });
    case 'rmsprop': return sd.optimizers.rmsprop({ lr, ...wd });
    case 'adagrad': return sd.optimizers.adagrad({ lr, ...wd });
  }
}
