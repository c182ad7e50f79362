// `simdnn tune [file.csv] --target COL [--budget 60s | --trials N]`: read and split the CSV as `train`
// does, search hyperparameters with tune() on the training rows (a live leaderboard on a terminal, a line
// per new best elsewhere), save the best model retrained on every training row, then score it on the
// test rows next to the model `simdnn train` makes with its defaults on the same split.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as sd from '../index.js';
import { BACKENDS, DEFAULTS } from './defaults.js';
import { choice, int, nameList, parse, real, str, type OptionSpec } from './args.js';
import { bytes, count, metric, plural, seconds, table } from './format.js';
import { asInput, UsageError, version, type CliIO } from './io.js';
import { ReadProgress } from './progress.js';
import { ClassifierScores, probabilities, regressionSummary, scoreBatch } from './report.js';
import { builtInDataset, builtInName, checkFile, checkOut, describeBackend, display, moments, unscaleOutput } from './train.js';

const CMD = 'simdnn tune';

export const TUNE_OPTIONS: Record<string, OptionSpec> = {
  target: { type: 'string', short: 't' },
  features: { type: 'string' },
  task: { type: 'string' },
  missing: { type: 'string' },
  budget: { type: 'string' },
  trials: { type: 'string' },
  epochs: { type: 'string', short: 'e' },
  folds: { type: 'string' },
  val: { type: 'string' },
  test: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string', short: 'o' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
};

/** The default budget when neither --budget nor --trials is given. */
const DEFAULT_BUDGET_S = 60;
/** Trials shown on the live leaderboard. */
const SHOWN = 5;

export function tuneHelp(): string {
  return `Usage: simdnn tune [data.csv | digits | iris | diabetes] [options]

Searches hyperparameters for an MLP on a CSV table: random draws (hidden sizes, activation,
learning rate, dropout, weight decay, batch size, optimizer) raced by successive halving on
validation folds of the training rows, with a live leaderboard. Saves the best model, retrained on
every training row, and prints its test metrics next to those of 'simdnn train' with its defaults
on the same split. With no file: the built-in digits data; 'iris' or 'diabetes' names another
built-in table.

Data
  -t, --target COL        the column to predict (default: the last column; a built-in table's own target)
      --features A,B,...  the feature columns (default: every other column)
      --task T            classification | regression (default: guessed from the target)
      --missing M         drop | mean | median | mostFrequent | error (default: drop rows)
      --test F            fraction held out for testing (default ${DEFAULTS.test})
      --seed N            seed of the split and the search (default ${DEFAULTS.seed}); the same seed draws the same trials
Search
      --budget T          wall time, e.g. 60s, 2m, 90 (seconds; default ${DEFAULT_BUDGET_S}s unless --trials is given)
      --trials N          the most configurations to try
  -e, --epochs N          epochs of a trial that survives every round (default: about 2,000 batches)
      --folds K           K-fold validation (default: 5 below 600 rows, 3 below 5,000)
      --val F             a hold-out fraction for validation instead of folds
      --backend B         ${BACKENDS.join(' | ')} (default ${DEFAULTS.backend})
Output
  -o, --out FILE          where to save the best model (default ${DEFAULTS.out})
  -q, --quiet             no leaderboard or header; only the comparison and the saved path
  -h, --help              this help
`;
}

/** "60s", "2m", "1.5min", "90" (seconds), "500ms" → seconds. */
function budget(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|sec|m|min)?\s*$/i.exec(raw);
  const v = m ? Number(m[1]) * ({ ms: 1e-3, s: 1, sec: 1, m: 60, min: 60 }[(m[2] ?? 's').toLowerCase() as 'ms'] ?? 1) : NaN;
  if (!(v > 0)) throw new UsageError(`${CMD}: --budget must be a positive time such as 60s, 2m or 90, got '${raw}'.`);
  return v;
}

export async function tune(argv: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parse(CMD, argv, TUNE_OPTIONS, 1);
  if (v.help) {
    io.stdout(tuneHelp());
    return 0;
  }
  const o = {
    budget: budget(str(v.budget)),
    trials: v.trials === undefined ? undefined : int(CMD, 'trials', str(v.trials), 1, 1),
    epochs: v.epochs === undefined ? undefined : int(CMD, 'epochs', str(v.epochs), 1, 1, 100_000),
    folds: v.folds === undefined ? undefined : int(CMD, 'folds', str(v.folds), 5, 2, 100),
    val: v.val === undefined ? undefined : real(CMD, 'val', str(v.val), 0.2, { lo: 0, hi: 1, openLo: true, openHi: true }),
    test: real(CMD, 'test', str(v.test), DEFAULTS.test, { lo: 0, hi: 1, openLo: true, openHi: true, what: 'a fraction in (0, 1): the tuned and default models are compared on the test rows' }),
    seed: int(CMD, 'seed', str(v.seed), DEFAULTS.seed, 0),
    task: v.task === undefined ? undefined : choice(CMD, 'task', str(v.task), 'classification', ['classification', 'regression'] as const),
    missing: v.missing === undefined ? undefined : choice(CMD, 'missing', str(v.missing), 'drop', ['drop', 'mean', 'median', 'mostFrequent', 'error'] as const),
    backend: choice(CMD, 'backend', str(v.backend), DEFAULTS.backend, BACKENDS),
    features: nameList(str(v.features)),
    out: str(v.out) ?? DEFAULTS.out,
    quiet: !!v.quiet,
  };
  if (o.folds !== undefined && o.val !== undefined) throw new UsageError(`${CMD}: give --folds or --val, not both.`);
  if (o.features && o.features.length === 0) throw new UsageError(`${CMD}: --features needs at least one column name.`);
  const seconds_ = o.budget ?? (o.trials === undefined ? DEFAULT_BUDGET_S : undefined);
  const named = builtInName(positionals[0], io.cwd);
  const builtIn = named !== null;
  const shipped = named ? builtInDataset(named) : null;
  const file = shipped ? shipped.file : resolve(io.cwd, positionals[0]);
  const target = str(v.target) ?? shipped?.target;
  checkFile(file, builtIn ? 'the built-in dataset' : positionals[0], builtIn, CMD);
  const out = resolve(io.cwd, o.out);
  checkOut(out, o.out, CMD);
  const say = (s: string) => void (o.quiet || io.stdout(s));

  const info = await sd.init({ backend: o.backend });
  const owned: { dispose(): void }[] = [];
  try {
    const reading = new ReadProgress(io, display(file, io.cwd), o.quiet);
    const ds = await asInput(() =>
      sd.data.readCsv(file, { from: 'path', target, features: o.features, task: o.task, missing: o.missing, onProgress: (p) => reading.update(p) }),
    ).finally(() => reading.done());
    owned.push(ds.x, ds.y);
    const task = ds.task, classes = ds.classes ?? [];
    if (task === 'classification' && classes.length < 2) throw new UsageError(`${CMD}: the target '${ds.target}' has a single class; classification needs at least two.`);
    const loss: sd.LossName = task === 'classification' ? 'softmaxCrossEntropy' : 'mse';
    const s = await asInput(() => sd.data.split(ds.x, ds.y, { test: o.test, stratify: task === 'classification', seed: o.seed }));
    owned.push(s.train.x, s.train.y, s.test.x, s.test.y);
    const nTrain = s.train.x.shape[0];
    const scaler = sd.data.standardize(s.train.x);
    const preprocessing: sd.Preprocessing = { scaler, classes: ds.classes, columns: ds.columns, target: ds.target, task, encoding: ds.encoding };
    say(`simdnn ${version()} · backend ${describeBackend(info)} · ${info.runtime}${typeof process !== 'undefined' ? ` ${process.version}` : ''}\n`);
    say(
      `data     ${display(file, io.cwd)}${builtIn ? ' (built-in)' : ''}: ${plural(ds.report.rows, 'row')} × ${plural(ds.columns.length, 'feature')}, target '${ds.target}': ${task}` +
        `${task === 'classification' ? `, ${plural(classes.length, 'class', 'classes')}` : ''}\n`,
    );
    say(`split    train ${count(nTrain)} · test ${count(s.test.x.shape[0])}${task === 'classification' ? ', stratified' : ''}, seed ${o.seed}\n`);
    const validation = o.folds !== undefined ? { folds: o.folds } : o.val !== undefined ? o.val : 'auto';
    const budgetText = [seconds_ !== undefined ? seconds(seconds_ * 1000) : '', o.trials !== undefined ? plural(o.trials, 'trial') : ''].filter(Boolean).join(' or ');
    say(`search   the default space (${spaceText()}), successive halving, budget ${budgetText}\n\n`);

    // ---- search ----
    const board = new Board(io, o.quiet, seconds_, task === 'classification' ? 'val acc' : 'val R²');
    const res = await sd.tune('auto', s.train.x, s.train.y, {
      loss, seed: o.seed, preprocessing, refit: true, validation,
      ...(seconds_ !== undefined ? { seconds: seconds_ } : {}), ...(o.trials !== undefined ? { trials: o.trials } : {}), ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
      callbacks: { onTrialBegin: (t) => board.begin(t), onTrialEnd: (t, lb) => board.end(t, lb) },
    });
    board.done();
    if (!res.model) throw new Error(`the search stopped (${res.stopped}) before any trial was scored.`);
    owned.push(res.model);
    const best = res.leaderboard[0];
    const perMin = res.trials / (res.ms / 60_000);
    io.stdout(
      `tuned    ${plural(res.trials, 'trial')} in ${seconds(res.ms)} (${perMin.toFixed(0)} a minute), ${res.validation.kind === 'folds' ? `${res.validation.folds}-fold` : `${res.validation.fraction} hold-out`} validation · ` +
        `best: trial ${best.id}, ${best.summary} · ${best.epochs} epochs · ${board.label} ${metric(best.score!)}\n`,
    );
    await sd.saveFile(res.model, out);
    io.stdout(`saved    ${display(out, io.cwd)} (${bytes(statSync(out).size)}), retrained on all ${count(nTrain)} training rows; to use it: simdnn predict ${display(out, io.cwd)} FILE.csv\n`);

    // ---- the untuned default, as `simdnn train` makes it, on the same split ----
    const base = sd.mlp([ds.columns.length, ...DEFAULTS.hidden, task === 'classification' ? classes.length : 1], { activation: DEFAULTS.activation, seed: o.seed });
    owned.push(base);
    base.preprocessing = { scaler };
    let yFit = s.train.y, yMean = 0, yStd = 1;
    if (task === 'regression') {
      ({ mean: yMean, std: yStd } = moments(s.train.y.dataSync()));
      owned.push((yFit = sd.tensor(Float32Array.from(s.train.y.dataSync(), (t) => (t - yMean) / yStd))));
    }
    const optimizer = sd.optimizers.adam({ lr: DEFAULTS.lr });
    owned.push(optimizer);
    await base.fit(s.train.x, yFit, { loss, optimizer, epochs: DEFAULTS.epochs, batchSize: DEFAULTS.batchSize, seed: o.seed, validationSplit: DEFAULTS.val });
    if (task === 'regression') unscaleOutput(base, yMean, yStd);

    const rows = s.test.x.shape[0];
    const a = score(base, s.test.x, s.test.y, task, classes), b = score(res.model, s.test.x, s.test.y, task, classes);
    const lines: string[][] = [[`test set (${plural(rows, 'row')})`, 'default', 'tuned']];
    for (const [k, label] of (task === 'classification'
      ? [['accuracy', 'accuracy'], ['f1', 'F1 (macro)'], ['logLoss', 'log-loss']]
      : [['r2', 'R²'], ['rmse', 'RMSE'], ['mae', 'MAE']]) as [string, string][])
      lines.push([label, metric(a[k]), metric(b[k])]);
    io.stdout(`\n${table(lines, (c) => c > 0)}`);
    io.stdout(`  default: ${[ds.columns.length, ...DEFAULTS.hidden, task === 'classification' ? classes.length : 1].join('-')} ${DEFAULTS.activation}, adam ${DEFAULTS.lr}, batch ${DEFAULTS.batchSize}, ${DEFAULTS.epochs} epochs (simdnn train's defaults)\n`);
    return 0;
  } finally {
    for (const t of owned.reverse()) t.dispose();
  }
}

function spaceText(): string {
  const d = sd.DEFAULT_SPACE;
  const h = d.hidden as { layers: readonly [number, number]; units: { min: number; max: number } };
  const lr = d.lr as { min: number; max: number };
  return `${h.layers[0]}–${h.layers[1]} hidden layers of ${h.units.min}–${h.units.max}, ${(d.activation as readonly string[]).join('|')}, lr ${lr.min}–${lr.max}, ` +
    `dropout ${(d.dropout as readonly number[]).join('|')}, weight decay ${(d.weightDecay as readonly number[]).join('|')}, batch ${(d.batchSize as readonly number[]).join('|')}, ${(d.optimizer as readonly string[]).join('|')}`;
}

/** Test metrics of a model: accuracy, macro F1 and log-loss, or R², RMSE and MAE. */
function score(model: sd.Sequential, x: sd.Tensor, y: sd.Tensor, task: 'classification' | 'regression', classes: readonly string[]): Record<string, number> {
  const scores = new ClassifierScores();
  const n = x.shape[0];
  const pred = new Float32Array(task === 'regression' ? n : 0);
  let at = 0;
  for (const batch of sd.data.batches(x, y, { batchSize: scoreBatch(model.outputSize) })) {
    const out = model.predict(batch.x);
    try {
      if (task === 'regression') pred.set(out.dataSync(), at);
      else sd.tidy(() => scores.add(probabilities(model, out), batch.y!.dataSync()));
      at += batch.x.shape[0];
    } finally {
      sd.dispose([out, batch.x, batch.y!]);
    }
  }
  if (task === 'regression') {
    const r = regressionSummary(pred, y.dataSync(), '');
    return { r2: r.r2, rmse: r.rmse, mae: r.mae };
  }
  const c = scores.summary(classes, '');
  return { accuracy: c.accuracy, f1: c.f1, logLoss: c.logLoss };
}

/**
 * The live leaderboard. On a terminal: the top trials and a status line, redrawn in place (at most every
 * 100 ms). Elsewhere: a line whenever the best trial changes.
 */
class Board {
  private drawn = 0;
  private last = 0;
  private bestId = -1;
  private top: sd.TrialInfo[] = [];
  private running: sd.TrialInfo | null = null;
  private scored = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly io: CliIO,
    private readonly quiet: boolean,
    private readonly budget: number | undefined,
    readonly label: string,
  ) {}

  begin(t: sd.TrialInfo): void {
    this.running = t;
    this.draw(false);
  }

  end(t: sd.TrialInfo, board: readonly sd.TrialInfo[]): void {
    this.scored++;
    this.top = board.filter((b) => b.score !== null).slice(0, SHOWN);
    const best = this.top[0];
    if (!this.io.isTTY && !this.quiet && best && best.id !== this.bestId && best.id === t.id)
      this.io.stderr(`${seconds(performance.now() - this.t0).padStart(7)}  best so far: trial ${best.id}, ${best.epochs} epochs, ${this.label} ${metric(best.score!)} · ${best.summary}\n`);
    if (best) this.bestId = best.id;
    this.draw(false);
  }

  done(): void {
    this.draw(true);
    if (this.io.isTTY && !this.quiet) this.io.stderr('\n');
  }

  private draw(force: boolean): void {
    if (this.quiet || !this.io.isTTY) return;
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const w = this.io.columns - 1;
    const clip = (s: string) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);
    const rows = [['#', 'trial', 'epochs', this.label, 'configuration']];
    this.top.forEach((t, i) => rows.push([String(i + 1), String(t.id), String(t.epochs), metric(t.score!), t.summary]));
    const lines = table(rows, (c) => c > 0 && c < 4).trimEnd().split('\n').map(clip);
    const elapsed = (now - this.t0) / 1000;
    const r = this.running;
    lines.push(clip(`  ${this.scored} rounds scored · ${elapsed.toFixed(0)} s${this.budget ? ` of ${this.budget.toFixed(0)} s` : ''}${r && !force ? ` · training trial ${r.id}` : ''}`));
    // Back to the top of the last drawing, and over it.
    this.io.stderr(`${this.drawn ? `\x1b[${this.drawn}F` : ''}${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J\n`);
    this.drawn = lines.length;
  }
}
