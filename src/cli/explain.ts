// `simdnn explain model.safetensors data.csv [...]`: why the model predicts what it does. The CSV streams
// in as `simdnn predict` reads it (columns by name, encoded by the model's stored encoding, a chunk at a
// time) until --rows rows are in; explain() attributes each row's prediction to its features (integrated
// gradients by default); a table shows the features that matter most over those rows and for the first
// few, and --out writes every row's attributions as CSV. Permutation importance scores the model on
// labelled rows instead: it reads the target column the model was trained on from the CSV.
//
// `simdnn train --explain` adds the same global ranking to its report (explainReport): permutation
// importance on the test rows, as the drop of the test metric when a feature's column is shuffled, in
// the units a reader of that report already has in mind (accuracy, R²).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openText, streamCsv } from '../data/csv-stream.js';
import * as sd from '../index.js';
import { choice, int, parse, str, type OptionSpec } from './args.js';
import { BACKENDS, DEFAULTS } from './defaults.js';
import { count, csvField, f32, names, plural } from './format.js';
import { asInput, oneLine, UsageError, type CliIO } from './io.js';
import { checkInputFiles, encodingOf, featureColumns, fileSink, type Sink } from './predict.js';
import { ReadProgress } from './progress.js';
import { display } from './train.js';

const CMD = 'simdnn explain';

export const EXPLAIN_OPTIONS: Record<string, OptionSpec> = {
  method: { type: 'string', short: 'm' },
  rows: { type: 'string', short: 'n' },
  out: { type: 'string', short: 'o' },
  target: { type: 'string', short: 't' },
  steps: { type: 'string' },
  baseline: { type: 'string' },
  repeats: { type: 'string' },
  seed: { type: 'string' },
  top: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const EXPLAIN_DEFAULTS = { method: 'ig', rows: 1000, steps: 64, baseline: 'zeros', repeats: 5, seed: 0, top: 10 } as const;
export const EXPLAIN_METHODS = ['ig', 'gradient', 'gradientXInput', 'permutation'] as const;
const METHOD: Record<(typeof EXPLAIN_METHODS)[number], sd.ExplainMethod> = {
  ig: 'integratedGradients', gradient: 'gradient', gradientXInput: 'gradientXInput', permutation: 'permutation',
};
/** Rows of the table's "first rows" part, and features shown on each. */
const FIRST_ROWS = 3, PER_ROW = 5;
/** Rows per block of the attributions CSV (one write each). */
const CSV_BLOCK = 4096;

/** Thrown from the CSV callback to end the read once enough rows are in. */
const ENOUGH = Symbol('enough rows');

export async function explain(argv: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parse(CMD, argv, EXPLAIN_OPTIONS, 2);
  if (v.help) {
    io.stdout(explainHelp());
    return 0;
  }
  if (positionals.length < 2)
    throw new UsageError(`${CMD}: needs a model file and a CSV file, as in: simdnn explain model.safetensors data.csv [--method ig] [--out attributions.csv].`);
  const methodArg = choice(CMD, 'method', str(v.method), EXPLAIN_DEFAULTS.method, [...EXPLAIN_METHODS, 'integratedGradients'] as const);
  const method = methodArg === 'integratedGradients' ? 'integratedGradients' : METHOD[methodArg];
  const rowsArg = str(v.rows);
  const maxRows = rowsArg !== undefined && rowsArg.trim().toLowerCase() === 'all' ? Infinity : int(CMD, 'rows', rowsArg, EXPLAIN_DEFAULTS.rows, 1);
  const steps = int(CMD, 'steps', str(v.steps), EXPLAIN_DEFAULTS.steps, 1, 100_000);
  const baseline = choice(CMD, 'baseline', str(v.baseline), EXPLAIN_DEFAULTS.baseline, ['zeros', 'mean'] as const);
  const repeats = int(CMD, 'repeats', str(v.repeats), EXPLAIN_DEFAULTS.repeats, 1, 10_000);
  const seed = int(CMD, 'seed', str(v.seed), EXPLAIN_DEFAULTS.seed, 0);
  const top = int(CMD, 'top', str(v.top), EXPLAIN_DEFAULTS.top, 1);
  const backend = choice(CMD, 'backend', str(v.backend), DEFAULTS.backend, BACKENDS);
  // An option of another method would be ignored: say so rather than leave the user wondering.
  const applies: Record<string, boolean> = {
    steps: method === 'integratedGradients', baseline: method === 'integratedGradients',
    repeats: method === 'permutation', seed: method === 'permutation', target: method !== 'permutation',
  };
  for (const [flag, ok] of Object.entries(applies))
    if (!ok && v[flag] !== undefined)
      throw new UsageError(
        `${CMD}: --${flag} does not apply to --method ${methodArg}` +
          `${flag === 'target' ? ' (permutation importance scores the whole model, not one class)' : ` (it is an option of --method ${flag === 'steps' || flag === 'baseline' ? 'ig' : 'permutation'})`}.`,
      );

  const [modelArg, csvArg] = positionals;
  const modelPath = resolve(io.cwd, modelArg), csvPath = resolve(io.cwd, csvArg);
  checkInputFiles(CMD, [[modelPath, modelArg], [csvPath, csvArg]]);
  const outArg = str(v.out);
  const toStdout = outArg === '-';
  const outPath = outArg === undefined || toStdout ? null : resolve(io.cwd, outArg);
  if (outArg === '') throw new UsageError(`${CMD}: --out needs a file name (or - for stdout).`);
  if (outPath !== null && !existsSync(dirname(outPath))) throw new UsageError(`${CMD}: cannot write '${outArg}': the directory '${dirname(outPath)}' does not exist.`);
  // With the CSV on stdout, the table goes to stderr, so that `... --out - > a.csv` gives a clean file.
  const say = toStdout ? io.stderr : io.stdout;

  await sd.init({ backend });
  const model = await asInput(() => sd.load(modelPath));
  let sink: Sink | null = null;
  try {
    const pre = model.preprocessing;
    const encoding = encodingOf(model, CMD);
    const F = model.inputSize, K = model.outputSize;
    const task = pre.task ?? (pre.classes ? 'classification' : 'regression');
    const classes = pre.classes ?? encoding.classes ?? [];
    const featureNames = pre.columns?.length === F ? pre.columns.slice() : encoding.columns.length === F ? encoding.columns.slice() : Array.from({ length: F }, (_, i) => `x${i}`);
    const targetCol = pre.target ?? encoding.target;
    const target = classTarget(str(v.target), task, classes, K);

    // ---- read: the first maxRows rows, encoded; and the labels, for permutation importance ----
    const chunks: Float32Array[] = [];
    const labels: number[] = [];
    const unlabelled: number[] = [];
    let n = 0;
    let header: string[] | null = null;
    let featureCols: number[] = [];
    let ti = -1;
    const labelOf = labelReader(task, classes, targetCol, csvArg);
    const onRows = (rows: string[][], first: number) => {
      let i = 0;
      if (!header) {
        header = rows[0].map((h) => h.trim());
        i = 1;
        featureCols = featureColumns(CMD, header, encoding, csvArg);
        ti = targetCol ? header.indexOf(targetCol) : -1;
        if (method === 'permutation' && ti < 0)
          throw new UsageError(
            targetCol
              ? `${CMD}: permutation importance scores the model against labels, and '${csvArg}' has no '${targetCol}' column (the target the model was trained on); give a CSV with it, or use --method ig.`
              : `${CMD}: permutation importance scores the model against labels, and the model file does not name its target column; use --method ig (or a model saved by simdnn train).`,
          );
      }
      const take = Math.min(rows.length - i, maxRows - n);
      if (take <= 0) throw ENOUGH;
      const width = header.length;
      const inputs = new Array<string[]>(take);
      for (let j = 0; j < take; j++) {
        const row = rows[i + j], rowNumber = first + i + j + 1;
        if (row.length !== width)
          throw new UsageError(
            `${CMD}: row ${rowNumber} of '${csvArg}' has ${plural(row.length, 'field')} but the header has ${width}; ` +
              `every row needs one field per column: fix that row, or quote fields that contain the delimiter.`,
          );
        inputs[j] = featureCols.map((c) => row[c]);
        if (method === 'permutation') {
          const y = labelOf(row[ti], rowNumber);
          if (y === null) unlabelled.push(n + j);
          else labels.push(y);
        }
      }
      const x = sd.data.encodeRows(encoding, inputs, { firstRow: first + i + 1 });
      try {
        chunks.push(x.dataSync());
      } finally {
        x.dispose();
      }
      n += take;
      if (n >= maxRows) throw ENOUGH;
    };
    const reading = new ReadProgress(io, display(csvPath, io.cwd));
    try {
      const src = await asInput(() => openText(csvPath, 'path', CMD));
      await streamCsv(src, { op: CMD, rows: onRows, progress: (p) => reading.update(p) });
    } catch (e) {
      if (e !== ENOUGH) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(oneLine(e)); // a malformed or unreadable CSV, or a field encodeRows refused
      }
    } finally {
      reading.done();
    }
    if (n === 0) throw new UsageError(`${CMD}: '${csvArg}' has no data rows; it needs a header row and at least one row.`);
    let values = new Float32Array(n * F);
    for (let c = 0, at = 0; c < chunks.length; at += chunks[c].length, c++) values.set(chunks[c], at);
    chunks.length = 0;

    const file = display(csvPath, io.cwd);
    const header0 = `explain  ${display(modelPath, io.cwd)} on ${file}: ${plural(n, 'row')}${n === maxRows ? ` (the first; --rows sets how many)` : ''} × ${plural(F, 'feature')}\n`;

    // ---- permutation importance: one ranking for the model ----
    if (method === 'permutation') {
      if (unlabelled.length) {
        const keep = new Float32Array((n - unlabelled.length) * F);
        const skip = new Set(unlabelled);
        for (let r = 0, w = 0; r < n; r++) if (!skip.has(r)) keep.set(values.subarray(r * F, (r + 1) * F), F * w++);
        values = keep;
      }
      const m = labels.length;
      if (m === 0) throw new UsageError(`${CMD}: no row of '${csvArg}' has a '${targetCol}' value; permutation importance needs labelled rows.`);
      const x = sd.tensor(values, [m, F]), y = sd.tensor(Float32Array.from(labels));
      let e: sd.Explanation;
      try {
        e = await sd.explain(model, x, { method: 'permutation', y, repeats, seed });
      } finally {
        sd.dispose([x, y]);
      }
      const p = e.permutation!;
      say(header0);
      say(
        `         permutation importance: the drop in ${metricName(p.metric)} (${fmtScore(p.score)} on these ${plural(m, 'row')}` +
          `${unlabelled.length ? `; ${count(unlabelled.length)} without a '${targetCol}' left out` : ''}) when one feature's column is shuffled, ` +
          `mean ± std of ${plural(repeats, 'shuffle')} (seed ${seed})\n\n`,
      );
      say(rankingTable(e, featureNames, top, p.std));
      if (outPath !== null || toStdout) {
        sink = outPath !== null ? fileSink(outPath) : { write: (t) => io.stdout(t), commit() {}, abandon() {} };
        sink.write(['statistic', ...featureNames].map(csvField).join(',') + '\n');
        sink.write(['importance', ...Array.from(e.attributions, f32)].join(',') + '\n');
        sink.write(['std', ...Array.from(p.std, f32)].join(',') + '\n');
        sink.commit();
        if (outPath !== null) say(`\nwrote the importance of ${plural(F, 'feature')} to ${display(outPath, io.cwd)}\n`);
      }
      return 0;
    }

    // ---- per-row attributions ----
    const x = sd.tensor(values, [n, F]);
    let e: sd.Explanation;
    try {
      e = await asInput(() =>
        sd.explain(model, x, {
          method,
          ...(target ? { target: target.index } : {}),
          ...(method === 'integratedGradients' ? { steps, baseline } : {}),
        }),
      );
    } finally {
      x.dispose();
    }
    // A one-output classifier explains the logit (or probability) of its second class; the first's is its
    // negation, exactly (log-odds −z, probability 1 − p).
    if (target?.negate) for (let i = 0; i < e.attributions.length; i++) e.attributions[i] = -e.attributions[i];
    const className = (i: number) =>
      task !== 'classification' ? '' : K === 1 ? target ? classes[target.negate ? 0 : 1] ?? '1' : classes[1] ?? '1' : classes[e.targets[i]] ?? String(e.targets[i]);
    say(header0);
    say(describe(method, task, K, className, target !== null, steps, baseline, model, e));
    say(rankingTable(e, featureNames, top));
    say(firstRows(e, featureNames, className, task === 'classification'));
    if (outPath !== null || toStdout) {
      sink = outPath !== null ? fileSink(outPath) : { write: (t) => io.stdout(t), commit() {}, abandon() {} };
      const cls = task === 'classification';
      sink.write([...(cls ? ['row', 'class'] : ['row']), ...featureNames].map(csvField).join(',') + '\n');
      for (let r0 = 0; r0 < n; r0 += CSV_BLOCK) {
        let lines = '';
        for (let r = r0; r < Math.min(n, r0 + CSV_BLOCK); r++) {
          const a = e.row(r);
          let line = cls ? `${r + 1},${csvField(className(r))}` : String(r + 1);
          for (let j = 0; j < F; j++) line += `,${f32(a[j])}`;
          lines += line + '\n';
        }
        sink.write(lines);
      }
      sink.commit();
      if (outPath !== null) say(`\nwrote the attributions of ${plural(n, 'row')} to ${display(outPath, io.cwd)}\n`);
    }
    return 0;
  } catch (e) {
    (sink as Sink | null)?.abandon();
    throw e;
  } finally {
    model.dispose();
  }
}

/** --target CLASS as an output index; null when not given (each row's predicted class). */
function classTarget(arg: string | undefined, task: string, classes: readonly string[], K: number): { index: number; negate: boolean } | null {
  if (arg === undefined) return null;
  if (task !== 'classification') throw new UsageError(`${CMD}: --target picks a class, and this model predicts a number (regression); leave it out.`);
  const s = arg.trim();
  let c = classes.indexOf(s);
  if (c < 0 && s !== '' && !Number.isNaN(Number(s))) c = classes.findIndex((name) => name.trim() !== '' && Number(name) === Number(s));
  if (c < 0) throw new UsageError(`${CMD}: --target '${arg}' is not a class of the model (it knows ${names(classes, 12)}).`);
  if (K === 1) return { index: 0, negate: c === 0 };
  return { index: c, negate: false };
}

/** Reads a label field: a class index, a number (regression), or null where it is missing. */
function labelReader(task: string, classes: readonly string[], target: string, csvArg: string): (field: string, rowNumber: number) => number | null {
  const na = new Set(sd.data.DEFAULT_NA_VALUES);
  const index = new Map(classes.map((c, i) => [c, i]));
  // A label written as a number matches a class of the same value ('2.0' is class '2').
  const byValue = new Map<number, number>();
  classes.forEach((c, i) => c.trim() !== '' && !Number.isNaN(Number(c)) && !byValue.has(Number(c)) && byValue.set(Number(c), i));
  return (field, rowNumber) => {
    const s = field.trim();
    if (na.has(s)) return null;
    if (task === 'classification') {
      let c = index.get(s);
      if (c === undefined && s !== '' && !Number.isNaN(Number(s))) c = byValue.get(Number(s));
      if (c === undefined) throw new UsageError(`${CMD}: row ${rowNumber} of '${csvArg}' has ${target} '${s}', a class the model does not know (it knows ${names(classes, 12)}).`);
      return c;
    }
    const y = Number(s);
    if (s === '' || !Number.isFinite(y)) throw new UsageError(`${CMD}: row ${rowNumber} of '${csvArg}' has ${target} '${s}', which is not a number.`);
    return y;
  };
}

const metricName = (m: string) => (m === 'r2' ? 'R²' : m === 'mse' ? 'the negated MSE' : m);
const fmtScore = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

/** A value with its sign and 4 significant digits. */
function signed(v: number): string {
  const a = Math.abs(v);
  const s = a === 0 ? '0' : a >= 1e5 || a < 1e-4 ? a.toExponential(2) : a.toPrecision(4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return `${v < 0 ? '−' : '+'}${s}`;
}

function plain(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  return a >= 1e5 || a < 1e-4 ? v.toExponential(3) : v.toPrecision(4);
}

/** What the numbers mean, in two lines under the header. */
function describe(
  method: sd.ExplainMethod, task: string, K: number, className: (i: number) => string, given: boolean,
  steps: number, baseline: string, model: sd.Sequential, e: sd.Explanation,
): string {
  const scaler = model.preprocessing.scaler;
  const what = task === 'classification' ? (given ? `the class '${className(0)}'` : K === 1 ? `the class '${className(0)}' (the model's one output)` : "each row's predicted class") : 'the predicted value';
  const unit = task === 'classification' ? "that class's logit (the model's raw output)" : "the prediction (in the target's units)";
  if (method === 'integratedGradients') {
    const base =
      baseline === 'mean' ? 'the training mean of every feature'
      : !scaler ? 'every feature at 0'
      : (scaler as { kind?: string }).kind === 'standard' ? "zero after the model's standard scaler: the training mean of every feature"
      : "zero after the model's scaler (its lower end: the training minimum of every feature)";
    // The quadrature's gap against the scale of the row's numbers (its total |attribution|): relative to
    // the change itself it reads as huge on a row that the model puts near its baseline.
    let worst = 0;
    e.gap!.forEach((g, i) => {
      let mass = 0;
      for (const a of e.row(i)) mass += Math.abs(a);
      worst = Math.max(worst, g / Math.max(mass, 1e-30));
    });
    return (
      `         integrated gradients of ${what}, ${steps} steps from a baseline of ${base}\n` +
      `         each attribution is a feature's share of the change in ${unit} from the baseline; they add up to it ` +
      `(within ${(100 * worst).toFixed(2)}% of a row's total |attribution|; more --steps for less)\n\n`
    );
  }
  if (method === 'gradient') return `         gradient of ${unit} for ${what}: its change per unit of each raw feature, at the row\n\n`;
  return `         gradient × input for ${what}: each raw feature's value times the gradient of ${unit}\n\n`;
}

/** The global ranking: mean |attribution| (or the permutation drop, ± std), with a bar. */
function rankingTable(e: sd.Explanation, featureNames: readonly string[], top: number, std?: Float64Array): string {
  // Permutation: by the drop itself (a negative one, shuffling that helped, is noise and goes last).
  const ranked = std
    ? Array.from(e.attributions, (value, index) => ({ index, value })).sort((a, b) => b.value - a.value || a.index - b.index).slice(0, top)
    : e.top(top);
  const title = std ? `top features (of ${e.features}): mean drop ± std` : `top features (of ${e.features}): mean |attribution| over ${plural(e.rows, 'row')}`;
  const largest = Math.max(1e-300, ...ranked.map((t) => Math.abs(t.value)));
  const width = Math.max(...ranked.map((t) => featureNames[t.index].length), 7);
  const lines = ranked.map((t, k) => {
    const v = t.value;
    const num = std ? `${plain(v).padStart(10)} ± ${plain(std[t.index]).padEnd(9)}` : plain(v).padStart(10);
    const bar = '█'.repeat(Math.max(v > 0 ? 1 : 0, Math.round((20 * Math.max(0, v)) / largest)));
    return `  ${String(k + 1).padStart(3)}  ${featureNames[t.index].padEnd(width)}  ${num}  ${bar}`.trimEnd();
  });
  return `${title}\n${lines.join('\n')}\n`;
}

/** The first rows: each row's largest attributions, signed. */
function firstRows(e: sd.Explanation, featureNames: readonly string[], className: (i: number) => string, cls: boolean): string {
  const shown = Math.min(FIRST_ROWS, e.rows);
  const lines: string[] = [];
  for (let r = 0; r < shown; r++) {
    const a = e.row(r);
    const order = Array.from(a.keys()).sort((i, j) => Math.abs(a[j]) - Math.abs(a[i]) || i - j).slice(0, PER_ROW);
    const cells = order.map((j) => `${featureNames[j]} ${signed(a[j])}`).join('   ');
    lines.push(`  row ${String(r + 1).padEnd(String(shown).length)}${cls ? `  → ${className(r)}` : ''}   ${cells}`);
  }
  return `\nfirst ${plural(shown, 'row')}: the largest attributions (+ pushed toward ${cls ? 'the class' : 'a larger value'}, − against)\n${lines.join('\n')}\n`;
}

/**
 * `simdnn train --explain`: the global top features of a trained model by permutation importance on the
 * rows it was scored on (the test split): the drop of the metric (accuracy for classes, R² for numbers)
 * when one feature's column is shuffled, 5 seeded shuffles each. Model-agnostic, in the units of the
 * metrics table above it; correlated features share (and can hide) each other's importance.
 */
export async function explainReport(model: sd.Sequential, x: sd.Tensor, y: sd.Tensor, featureNames: readonly string[], seed: number, title: string): Promise<string> {
  const repeats = EXPLAIN_DEFAULTS.repeats;
  const e = await sd.explain(model, x, { method: 'permutation', y, repeats, seed });
  const p = e.permutation!;
  const k = Math.min(EXPLAIN_DEFAULTS.top, e.features);
  return (
    `feature importance on the ${title}: the drop in ${metricName(p.metric)} when one feature's column is shuffled ` +
    `(permutation importance, mean ± std of ${plural(repeats, 'shuffle')}; ${k < e.features ? `the ${k} largest of ${e.features}` : `all ${e.features}`})\n` +
    rankingTable(e, featureNames, k, p.std).split('\n').slice(1).join('\n')
  );
}

export function explainHelp(): string {
  const E = EXPLAIN_DEFAULTS;
  return `Usage: simdnn explain model.safetensors data.csv [options]

Why the model predicts what it does. Reads the CSV's first rows as simdnn predict does (columns by
name, encoded as the training data was), attributes each row's prediction to its features, and
prints the features that matter most over those rows and for the first ${FIRST_ROWS} of them. Attributions are
in the units of the raw features, through the model's scaler.

Methods (--method)
  ig                 integrated gradients (default): each feature's share of the change in the
                     class's logit (or the predicted value) from a baseline row; they add up to it
  gradient           the gradient: the change of the output per unit of each feature, at the row
  gradientXInput     the feature's value times the gradient
  permutation        permutation importance: the drop in accuracy (classes) or R² (numbers) when
                     one feature's column is shuffled; needs the target column in the CSV

Options
  -m, --method M     ${EXPLAIN_METHODS.join(' | ')} (default ${E.method})
  -n, --rows N       explain the first N rows (default ${E.rows}; 'all' for every row)
  -t, --target CLASS explain this class for every row (default: each row's predicted class)
      --steps N      integrated gradients: points on the path (default ${E.steps})
      --baseline B   integrated gradients: zeros (default: zero after the model's scaler, the
                     training mean for a standard scaler) | mean (the training mean)
      --repeats N    permutation: shuffles per feature (default ${E.repeats})
      --seed N       permutation: seed of the shuffles (default ${E.seed})
      --top K        features in the ranking (default ${E.top})
  -o, --out FILE     write every row's attributions as CSV (row, class, one column per feature;
                     permutation: the importance and its std); - writes it to stdout
      --backend B    ${BACKENDS.join(' | ')} (default ${DEFAULTS.backend})
  -h, --help         this help

Attributions explain the model, not the world: correlated features share the credit, and the
baseline decides what "no signal" means.
`;
}
