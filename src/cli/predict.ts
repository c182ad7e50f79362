// `simdnn predict model.safetensors file.csv [--out predictions.csv]`: read the CSV a chunk at a time,
// encode each chunk's rows exactly as the training data was (columns by name, the model's one-hot
// levels and fill values), predict them, write their lines of the predictions CSV, and score them when
// the file has the target column. Memory stays in proportion to a chunk, not the file: a million rows
// stream through in a few MB (plus one predicted class or value per row for the metrics).
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openText, streamCsv } from '../data/csv-stream.js';
import * as sd from '../index.js';
import { BACKENDS } from './defaults.js';
import { choice, parse, str, type OptionSpec } from './args.js';
import { csvField, f32, names, plural } from './format.js';
import { predictHelp } from './help.js';
import { asInput, oneLine, UsageError, type CliIO } from './io.js';
import { ReadProgress } from './progress.js';
import { ClassifierScores, probabilities, regressionSummary, scoreBatch } from './report.js';
import { display } from './train.js';


/** Refuses input files (`[path, as the user typed it]`) that do not exist or are directories. */
export function checkInputFiles(cmd: string, files: readonly (readonly [string, string])[]): void {
  for (const [p, shown] of files) {
    if (!existsSync(p)) throw new UsageError(`${cmd}: no such file '${shown}'.`);
    if (statSync(p).isDirectory()) throw new UsageError(`${cmd}: '${shown}' is a directory, not a file.`);
  }
}

/** The column of each of the model's features in a CSV header; refuses a header that lacks any. */
export function featureColumns(cmd: string, header: readonly string[], encoding: { features: readonly { name: string }[] }, csvArg: string): number[] {
  const lacking = encoding.features.map((f) => f.name).filter((nm) => !header.includes(nm));
  if (lacking.length)
    throw new UsageError(
      `${cmd}: '${csvArg}' lacks the feature column${lacking.length > 1 ? 's' : ''} ${names(lacking)} that the model was trained on ` +
        `(it needs ${names(encoding.features.map((f) => f.name), 12)}; the file has ${names(header as string[], 12)}).`,
    );
  return encoding.features.map((f) => header.indexOf(f.name));
}

const CMD = 'simdnn predict';

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000'];

/**
 * A float32 probability as toFixed(6) writes it, about twice as fast (a million rows of ten classes
 * are ten million of them). p·10⁶ is exact in float64 for a float32 p (24 + 20 bits), so Math.round
 * rounds the exact value, ties up, as toFixed does.
 */
function prob6(p: number): string {
  const q = Math.round(p * 1e6);
  if (q >= 0 && q < 1e6) {
    const d = String(q);
    return `0.${ZEROS[6 - d.length]}${d}`;
  }
  return p.toFixed(6);
}

export const PREDICT_OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', short: 'o' },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Where the predictions go: a file written beside its final name and renamed into place at the end (no half-written file under that name), or stdout. */
export interface Sink {
  write(text: string): void;
  /** The predictions are complete. */
  commit(): void;
  /** Called on failure: removes the partial file. */
  abandon(): void;
}

export function fileSink(path: string): Sink {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | null = openSync(tmp, 'w');
  return {
    write: (text) => void writeSync(fd!, text),
    commit: () => {
      closeSync(fd!);
      fd = null;
      renameSync(tmp, path);
    },
    abandon: () => {
      if (fd !== null) closeSync(fd);
      fd = null;
      rmSync(tmp, { force: true });
    },
  };
}

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
  checkInputFiles(CMD, [[modelPath, modelArg], [csvPath, csvArg]]);
  const outArg = str(v.out);
  const outPath = outArg === undefined ? null : resolve(io.cwd, outArg);
  if (outPath !== null) {
    if (outArg === '') throw new UsageError(`${CMD}: --out needs a file name.`);
    if (!existsSync(dirname(outPath))) throw new UsageError(`${CMD}: cannot write '${outArg}': the directory '${dirname(outPath)}' does not exist.`);
  }

  await sd.init({ backend });
  const model = await asInput(() => sd.load(modelPath));
  let sink: Sink | null = null;
  try {
    const pre = model.preprocessing;
    const encoding = encodingOf(model);
    const task = pre.task ?? (pre.classes ? 'classification' : 'regression');
    const classes = pre.classes ?? encoding.classes ?? [];
    if (task === 'classification' && classes.length === 0) throw new UsageError(`${CMD}: the model is a classifier but its file has no class names.`);
    const target = pre.target ?? encoding.target;
    const na = new Set(encoding.naValues);
    const classIndex = new Map(classes.map((c, i) => [c, i]));
    // A label written as a number matches a class of the same value ('2.0' is class '2').
    const classByValue = new Map<number, number>();
    classes.forEach((c, i) => c.trim() !== '' && !Number.isNaN(Number(c)) && !classByValue.has(Number(c)) && classByValue.set(Number(c), i));

    // What streams: the header, then batches of rows.
    let header: string[] | null = null;
    let featureCols: number[] = [];
    let ti = -1;
    let n = 0; // rows predicted
    let headerLine = '';
    const scores = new ClassifierScores();
    let regPred = new Float64Array(0), regTruth = new Float64Array(0), scored = 0;
    const batch = scoreBatch(model.outputSize);
    let predicting = false; // a failure while predicting is the runtime's; anything else is the input's

    const onRows = (rows: string[][], first: number) => {
      let i = 0;
      if (!header) {
        header = rows[0].map((h) => h.trim());
        i = 1;
        featureCols = featureColumns(CMD, header, encoding, csvArg);
        ti = target ? header.indexOf(target) : -1;
      }
      for (; i < rows.length; i += batch) predictRows(rows.slice(i, i + batch), first + i + 1);
    };

    /** Encodes, predicts, writes and scores rows whose first is `rowNumber` in the file (the header is row 1). */
    const predictRows = (rows: string[][], rowNumber: number) => {
      const width = header!.length;
      const m = rows.length;
      const inputs = new Array<string[]>(m);
      for (let j = 0; j < m; j++) {
        const row = rows[j];
        if (row.length !== width)
          throw new UsageError(
            `${CMD}: row ${rowNumber + j} of '${csvArg}' has ${plural(row.length, 'field')} but the header has ${width}; ` +
              `every row needs one field per column: fix that row, or quote fields that contain the delimiter.`,
          );
        inputs[j] = featureCols.map((c) => row[c]);
      }
      // The truth, when the file has the target column: rows without one are left out of the metrics.
      let truthRows: number[] | null = null, truth: number[] | null = null;
      if (ti >= 0) {
        truthRows = [];
        truth = [];
        for (let j = 0; j < m; j++) {
          const s = rows[j][ti].trim();
          if (na.has(s)) continue;
          if (task === 'classification') {
            let c = classIndex.get(s);
            if (c === undefined && s !== '' && !Number.isNaN(Number(s))) c = classByValue.get(Number(s));
            if (c === undefined)
              throw new UsageError(`${CMD}: row ${rowNumber + j} of '${csvArg}' has ${target} '${s}', a class the model does not know (it knows ${names(classes, 12)}).`);
            truth.push(c);
          } else {
            const y = Number(s);
            if (s === '' || !Number.isFinite(y)) throw new UsageError(`${CMD}: row ${rowNumber + j} of '${csvArg}' has ${target} '${s}', which is not a number.`);
            truth.push(y);
          }
          truthRows.push(j);
        }
      }
      const owned: sd.Tensor[] = [];
      try {
        const x = sd.data.encodeRows(encoding, inputs, { firstRow: rowNumber });
        owned.push(x);
        predicting = true;
        const out = model.predict(x);
        owned.push(out);
        let lines = '';
        if (task === 'classification') {
          const probs = probabilities(model, out);
          owned.push(probs);
          const p = probs.dataSync(), k = probs.shape[1];
          const labels = k === 1 ? classes.slice(0, 2) : classes;
          if (n === 0) headerLine = ['prediction', ...labels.map((c) => `prob_${c}`)].map(csvField).join(',') + '\n';
          const shown = labels.map((c, j) => csvField(c ?? String(j)));
          for (let r = 0; r < m; r++) {
            let best = 0, line = '';
            if (k === 1) {
              best = p[r] > 0.5 ? 1 : 0;
              line = `${(1 - p[r]).toFixed(6)},${prob6(p[r])}`; // 1 - p is not a float32
            } else {
              for (let j = 0; j < k; j++) {
                const pj = p[r * k + j];
                if (pj > p[r * k + best]) best = j;
                line += j ? `,${prob6(pj)}` : prob6(pj);
              }
            }
            lines += `${shown[best]},${line}\n`;
          }
          if (truthRows && truthRows.length) scores.add(probs, truth!, Uint32Array.from(truthRows));
        } else {
          const p = out.dataSync(), k = out.shape[1];
          if (n === 0) headerLine = (k === 1 ? ['prediction'] : Array.from({ length: k }, (_, j) => `prediction_${j}`)).map(csvField).join(',') + '\n';
          for (let r = 0; r < m; r++) lines += (k === 1 ? f32(p[r]) : Array.from(p.subarray(r * k, (r + 1) * k), f32).join(',')) + '\n';
          if (truthRows && truthRows.length) {
            if (scored + truthRows.length > regPred.length) {
              const size = Math.max(scored + truthRows.length, regPred.length * 2, 1024);
              const a = new Float64Array(size), b = new Float64Array(size);
              a.set(regPred.subarray(0, scored));
              b.set(regTruth.subarray(0, scored));
              (regPred = a), (regTruth = b);
            }
            truthRows.forEach((r, j) => ((regPred[scored + j] = p[r * k]), (regTruth[scored + j] = truth![j])));
            scored += truthRows.length;
          }
        }
        predicting = false;
        if (n === 0) {
          // The output starts with the first predictions, so that a file without rows writes nothing.
          sink ??= outPath !== null ? fileSink(outPath) : { write: (t) => io.stdout(t), commit() {}, abandon() {} };
          sink.write(headerLine);
        }
        sink!.write(lines);
        n += m;
      } finally {
        sd.dispose(owned);
      }
    };

    const reading = new ReadProgress(io, display(csvPath, io.cwd));
    try {
      const src = await asInput(() => openText(csvPath, 'path', CMD));
      await streamCsv(src, { op: CMD, rows: onRows, progress: (p) => reading.update(p) });
    } catch (e) {
      if (e instanceof UsageError || predicting) throw e;
      throw new UsageError(oneLine(e)); // a malformed or unreadable CSV, or a field encodeRows refused
    } finally {
      reading.done();
    }
    if (n === 0) throw new UsageError(`${CMD}: '${csvArg}' has no data rows; it needs a header row and at least one row.`);

    // ---- metrics, when the file has the target ----
    let metricsText = '';
    const m = task === 'classification' ? scores.n : scored;
    if (m > 0) {
      const title = `metrics against '${target}' (${plural(m, 'row')}${m < n ? `; ${n - m} without a ${target} left out` : ''})`;
      metricsText = task === 'classification' ? scores.summary(classes, title).text : regressionSummary(regPred.subarray(0, m), regTruth.subarray(0, m), title).text;
    }
    sink!.commit();
    if (outPath !== null) {
      io.stdout(`wrote ${plural(n, 'prediction')} to ${display(outPath, io.cwd)}\n`);
      if (metricsText) io.stdout(`\n${metricsText}`);
    } else if (metricsText) {
      // The CSV alone on stdout, so that `simdnn predict m x.csv > out.csv` gives a clean file.
      io.stderr(`\n${metricsText}`);
    }
    return 0;
  } catch (e) {
    (sink as Sink | null)?.abandon();
    throw e;
  } finally {
    model.dispose();
  }
}

/**
 * The model's CSV encoding; for a model trained from tensors that only recorded its feature names, a
 * numeric encoding of those columns.
 */
export function encodingOf(model: sd.Sequential, cmd = CMD): sd.data.CsvEncoding {
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
    `${cmd}: the model file records no feature columns, so the CSV's columns cannot be matched to its inputs; ` +
      'train it with simdnn train, or set model.preprocessing.columns (or .encoding) before saving.',
  );
}
