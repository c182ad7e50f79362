// `simdnn predict model.safetensors file.csv [--out predictions.csv]`: encode the rows exactly as the
// training data was (columns by name, the model's one-hot levels and fill values), predict, write a
// CSV of predictions, and score them when the file has the target column.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Papa from 'papaparse/papaparse.min.js'; // as src/data/csv.ts: the build without Node streams
import * as sd from '../index.js';
import { BACKENDS } from './defaults.js';
import { choice, parse, str, type OptionSpec } from './args.js';
import { count, csvField, f32, names } from './format.js';
import { predictHelp } from './help.js';
import { asInput, UsageError, type CliIO } from './io.js';
import { classificationSummary, probabilities, regressionSummary } from './report.js';
import { display } from './train.js';

const CMD = 'simdnn predict';

export const PREDICT_OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', short: 'o' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export async function predict(argv: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parse(CMD, argv, PREDICT_OPTIONS, 2);
  if (v.help) {
    io.stdout(predictHelp());
    return 0;
  }
  if (positionals.length < 2)
    throw new UsageError(`${CMD}: needs a model file and a CSV file, as in: simdnn predict model.safetensors data.csv [--out predictions.csv].`);
  const backend = choice(CMD, 'backend', str(v.backend), 'auto', BACKENDS);
  const [modelArg, csvArg] = positionals;
  const modelPath = resolve(io.cwd, modelArg), csvPath = resolve(io.cwd, csvArg);
  for (const [p, shown] of [[modelPath, modelArg], [csvPath, csvArg]]) {
    if (!existsSync(p)) throw new UsageError(`${CMD}: no such file '${shown}'.`);
    if (statSync(p).isDirectory()) throw new UsageError(`${CMD}: '${shown}' is a directory, not a file.`);
  }
  const outArg = str(v.out);
  const outPath = outArg === undefined ? null : resolve(io.cwd, outArg);
  if (outPath !== null) {
    if (outArg === '') throw new UsageError(`${CMD}: --out needs a file name.`);
    if (!existsSync(dirname(outPath))) throw new UsageError(`${CMD}: cannot write '${outArg}': the directory '${dirname(outPath)}' does not exist.`);
  }

  await sd.init({ backend });
  const model = await asInput(() => sd.load(modelPath));
  const owned: { dispose(): void }[] = [model];
  try {
    const pre = model.preprocessing;
    const encoding = encodingOf(model);
    let text = await asInput(() => readFile(csvPath, 'utf8'));
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: 'greedy', delimiter: '' });
    const header = (parsed.data[0] ?? []).map((h) => h.trim());
    if (parsed.data.length < 2) throw new UsageError(`${CMD}: '${csvArg}' has no data rows; it needs a header row and at least one row.`);
    const lacking = encoding.features.map((f) => f.name).filter((n) => !header.includes(n));
    if (lacking.length)
      throw new UsageError(
        `${CMD}: '${csvArg}' lacks the feature column${lacking.length > 1 ? 's' : ''} ${names(lacking)} that the model was trained on ` +
          `(it needs ${names(encoding.features.map((f) => f.name), 12)}; the file has ${names(header, 12)}).`,
      );
    const x = await asInput(() => sd.data.encodeRows(encoding, text));
    owned.push(x);
    const n = x.shape[0];
    const out = model.predict(x);
    owned.push(out);
    const task = pre.task ?? (pre.classes ? 'classification' : 'regression');
    const classes = pre.classes ?? encoding.classes ?? [];

    // ---- the predictions as CSV ----
    const lines: string[] = [];
    let probs: sd.Tensor | null = null;
    if (task === 'classification') {
      if (classes.length === 0) throw new UsageError(`${CMD}: the model is a classifier but its file has no class names.`);
      probs = probabilities(model, out);
      owned.push(probs);
      const p = probs.dataSync(), k = probs.shape[1];
      const labels = k === 1 ? classes.slice(0, 2) : classes;
      lines.push(['prediction', ...labels.map((c) => `prob_${c}`)].map(csvField).join(','));
      for (let i = 0; i < n; i++) {
        const row = k === 1 ? [1 - p[i], p[i]] : Array.from(p.subarray(i * k, (i + 1) * k));
        let best = 0;
        for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
        if (k === 1) best = p[i] > 0.5 ? 1 : 0;
        lines.push([csvField(labels[best] ?? String(best)), ...row.map((v) => v.toFixed(6))].join(','));
      }
    } else {
      const p = out.dataSync(), k = out.shape[1];
      lines.push((k === 1 ? ['prediction'] : Array.from({ length: k }, (_, j) => `prediction_${j}`)).map(csvField).join(','));
      for (let i = 0; i < n; i++) lines.push(Array.from(p.subarray(i * k, (i + 1) * k), f32).join(','));
    }
    const csv = lines.join('\n') + '\n';

    // ---- metrics, when the file has the target ----
    const target = pre.target ?? encoding.target;
    let metricsText = '';
    const ti = target ? header.indexOf(target) : -1;
    if (ti >= 0) {
      const na = new Set(encoding.naValues);
      const rows = parsed.data.slice(1);
      const keep: number[] = [], truth: number[] = [];
      rows.forEach((r, i) => {
        const s = (r[ti] ?? '').trim();
        if (na.has(s)) return;
        if (task === 'classification') {
          let c = classes.indexOf(s);
          if (c < 0 && s !== '' && !Number.isNaN(Number(s))) c = classes.findIndex((name) => name.trim() !== '' && Number(name) === Number(s));
          if (c < 0)
            throw new UsageError(`${CMD}: row ${i + 2} of '${csvArg}' has ${target} '${s}', a class the model does not know (it knows ${names(classes, 12)}).`);
          truth.push(c);
        } else {
          const y = Number(s);
          if (!Number.isFinite(y)) throw new UsageError(`${CMD}: row ${i + 2} of '${csvArg}' has ${target} '${s}', which is not a number.`);
          truth.push(y);
        }
        keep.push(i);
      });
      if (rows.length !== n) throw new Error(`internal: ${rows.length} rows read but ${n} encoded.`);
      if (keep.length > 0) {
        const idx = Uint32Array.from(keep);
        const title = `metrics against '${target}' (${count(keep.length)} rows${keep.length < n ? `; ${n - keep.length} without a ${target} left out` : ''})`;
        if (task === 'classification') {
          const sel = sd.gatherRows(probs!, idx);
          owned.push(sel);
          metricsText = classificationSummary(sel, truth, classes, title).text;
        } else {
          const sel = sd.gatherRows(out, idx);
          owned.push(sel);
          metricsText = regressionSummary(sel, truth, title).text;
        }
      }
    }

    if (outPath !== null) {
      await sd.writeFileAtomic(outPath, new TextEncoder().encode(csv));
      io.stdout(`wrote ${count(n)} prediction${n === 1 ? '' : 's'} to ${display(outPath, io.cwd)}\n`);
      if (metricsText) io.stdout(`\n${metricsText}`);
    } else {
      // The CSV alone on stdout, so that `simdnn predict m x.csv > out.csv` gives a clean file.
      io.stdout(csv);
      if (metricsText) io.stderr(`\n${metricsText}`);
    }
    return 0;
  } finally {
    for (const t of owned.reverse()) t.dispose();
  }
}

/**
 * The model's CSV encoding; for a model trained from tensors that only recorded its feature names, a
 * numeric encoding of those columns.
 */
function encodingOf(model: sd.Sequential): sd.data.CsvEncoding {
  const pre = model.preprocessing;
  const enc = pre.encoding as sd.data.CsvEncoding | null | undefined;
  if (enc && typeof enc === 'object' && Array.isArray(enc.features)) return enc;
  if (Array.isArray(pre.columns) && pre.columns.length === model.inputSize) {
    return {
      format: 'simdnn.csv-encoding',
      version: 1,
      features: pre.columns.map((name) => ({ name, kind: 'numeric' as const, fill: null })),
      columns: pre.columns.slice(),
      target: pre.target ?? '',
      task: pre.task ?? (pre.classes ? 'classification' : 'regression'),
      classes: pre.classes ?? null,
      missing: 'error',
      naValues: [...sd.data.DEFAULT_NA_VALUES],
    };
  }
  throw new UsageError(
    `${CMD}: the model file records no feature columns, so the CSV's columns cannot be matched to its inputs; ` +
      'train it with simdnn train, or set model.preprocessing.columns (or .encoding) before saving.',
  );
}
