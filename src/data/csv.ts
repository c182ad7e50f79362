// CSV → tensors: load the text (string, path, URL, File/Blob), parse it with Papa Parse, decide which
// columns are numeric or categorical, handle missing values (drop or impute, always reported), one-hot
// the categorical features, label-encode a classification target, and describe all of it in a JSON
// `encoding` that re-encodes new rows for prediction (encodeRows).
import Papa from 'papaparse/papaparse.min.js'; // not 'papaparse': see papaparse.d.ts
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { checkOptions, list, parseNumber, q, sortLabels } from './util.js';

export type CsvSource = string | URL | Blob;
export type MissingStrategy = 'drop' | 'mean' | 'median' | 'mostFrequent' | 'error';
export type Task = 'classification' | 'regression';

export interface ReadCsvOptions {
  /** How to read `source` when it is a string or URL; by default it is guessed (see readCsv). */
  from?: 'string' | 'path' | 'url';
  /** The target column: a name, or an index (negative counts from the end). Default: the last column. */
  target?: string | number;
  /** The feature columns (names or indices), in the order wanted. Default: every column but the target. */
  features?: (string | number)[];
  /**
   * Feature columns to one-hot encode. Default: the feature columns whose present values are mostly
   * (more than half) not numbers; in a numeric column, the few values that are not numbers count as
   * missing (and are reported under `invalid`).
   */
  categorical?: (string | number)[];
  /**
   * What to do with missing values (empty fields and naValues) and values that are not numbers in a
   * numeric column:
   * - 'drop' (default): drop those rows (also rows whose target is missing);
   * - 'mean' / 'median': fill numeric features with the column's mean / median, categorical ones with
   *   their most frequent level;
   * - 'mostFrequent': fill every feature with its most frequent value (the smallest on ties);
   * - 'error': throw, naming the first one.
   * A missing target is never imputed: 'drop' drops the row, the other strategies throw.
   */
  missing?: MissingStrategy;
  /**
   * 'classification' or 'regression'. Default: classification when the target has values that are not
   * numbers, or when all of them are integers with at most 20 distinct values (labels such as 0–9);
   * otherwise regression.
   */
  task?: Task;
  /** The field delimiter; default: detected (',', tab, '|' or ';'). */
  delimiter?: string;
  /** Field values (after trimming) that mean "missing". Default: DEFAULT_NA_VALUES. */
  naValues?: string[];
  /** An auto-detected categorical column with more levels than this is an error (it looks like an id or free text). Default 50. */
  maxCategories?: number;
}

/** Field values read as missing by default (trimmed, case-sensitive), as pandas' defaults plus '?' (UCI files). */
export const DEFAULT_NA_VALUES: readonly string[] = ['', 'NA', 'N/A', 'n/a', '#N/A', '<NA>', 'NaN', 'nan', '-NaN', '-nan', 'NULL', 'null', 'None', '?'];

export type EncodedFeature =
  | { name: string; kind: 'numeric'; fill: number | null }
  | { name: string; kind: 'categorical'; levels: string[]; fill: string | null };

/**
 * Everything needed to turn new rows into the x a model was trained on: JSON-serializable, so it can
 * travel in a saved model's metadata. `fill` is the value imputed for a missing field (null when the
 * data was read with missing: 'drop' or 'error').
 */
export interface CsvEncoding {
  format: 'simdnn.csv-encoding';
  version: 1;
  features: EncodedFeature[];
  /** The columns of x, after one-hot expansion ('color=red'). */
  columns: string[];
  target: string;
  task: Task;
  /** Class names in index order (classification), else null. */
  classes: string[] | null;
  missing: MissingStrategy;
  naValues: string[];
}

export interface CsvReport {
  /** Rows in x and y. */
  rows: number;
  /** Data rows in the file (the header not counted). */
  rowsRead: number;
  /** Rows dropped for missing or invalid values (missing: 'drop'). */
  dropped: number;
  /** Missing fields (empty or naValues) per column, over the rows read; columns without any are left out. */
  missing: Record<string, number>;
  /** Values that are not numbers in numeric columns (treated as missing) per column. */
  invalid: Record<string, number>;
  /** Values filled in per column. */
  imputed: Record<string, number>;
  /** The levels of each one-hot encoded feature. */
  categorical: Record<string, string[]>;
  /** Columns in the file that are neither features nor the target. */
  ignored: string[];
  task: Task;
  /** Why the task is what it is. */
  taskReason: string;
  /** The same, as sentences for a log. */
  notes: string[];
}

export interface Dataset {
  /** Features [rows, columns.length], float32, no NaN. */
  x: Tensor;
  /** Targets [rows]: class indices as floats (classification) or values (regression). */
  y: Tensor;
  /** The names of x's columns, after one-hot expansion ('color=red'). */
  columns: string[];
  target: string;
  /** Class names in index order (classification), else null. */
  classes: string[] | null;
  task: Task;
  report: CsvReport;
  encoding: CsvEncoding;
}

const READ_KEYS = ['from', 'target', 'features', 'categorical', 'missing', 'task', 'delimiter', 'naValues', 'maxCategories'] as const;
const STRATEGIES: readonly MissingStrategy[] = ['drop', 'mean', 'median', 'mostFrequent', 'error'];
const F_NUM = 0, F_MISSING = 1, F_INVALID = 2; // state of one numeric field

/**
 * Reads a CSV with a header row into a Dataset (x, y, column names, classes, a cleaning report and a
 * reusable encoding). `source` is
 * - a URL object, or a string starting with http:// or https:// — fetched (file: URLs are read as files);
 * - a File or Blob — read with .text();
 * - a string with a newline or a comma — the CSV text itself;
 * - any other string — a file path (Node and Deno; in a web page, a URL relative to the page).
 * `{from: 'string' | 'path' | 'url'}` overrides the guess. Quoted fields, a BOM, CRLF line ends and
 * empty lines are handled; field values are trimmed.
 */
export async function readCsv(source: CsvSource, options?: ReadCsvOptions): Promise<Dataset> {
  const o = checkOptions(options, READ_KEYS, 'readCsv');
  checkReadOptions(o);
  const text = await loadText(source, o.from);
  return parseCsvText(text, o as ReadCsvOptions);
}

function checkReadOptions(o: Record<string, any>): void {
  const op = 'readCsv';
  if (o.from !== undefined && !['string', 'path', 'url'].includes(o.from))
    throw new RangeError(`${op}: from must be 'string', 'path' or 'url', got ${JSON.stringify(o.from)}.`);
  if (o.missing !== undefined && !STRATEGIES.includes(o.missing))
    throw new RangeError(`${op}: missing must be one of ${STRATEGIES.map(q).join(', ')}, got ${JSON.stringify(o.missing)}.`);
  if (o.task !== undefined && o.task !== 'classification' && o.task !== 'regression')
    throw new RangeError(`${op}: task must be 'classification' or 'regression', got ${JSON.stringify(o.task)}.`);
  if (o.target !== undefined && typeof o.target !== 'string' && !Number.isInteger(o.target))
    throw new TypeError(`${op}: target must be a column name or an integer index, got ${typeof o.target === 'number' ? o.target : typeof o.target}.`);
  for (const k of ['features', 'categorical'] as const)
    if (o[k] !== undefined && (!Array.isArray(o[k]) || !o[k].every((c: unknown) => typeof c === 'string' || Number.isInteger(c))))
      throw new TypeError(`${op}: ${k} must be an array of column names or indices.`);
  if (o.delimiter !== undefined && (typeof o.delimiter !== 'string' || o.delimiter.length === 0 || /["\r\n]/.test(o.delimiter)))
    throw new TypeError(`${op}: delimiter must be a non-empty string without quotes or line breaks, got ${JSON.stringify(o.delimiter)}.`);
  if (o.naValues !== undefined && (!Array.isArray(o.naValues) || !o.naValues.every((v: unknown) => typeof v === 'string')))
    throw new TypeError(`${op}: naValues must be an array of strings.`);
  if (o.maxCategories !== undefined && (!Number.isInteger(o.maxCategories) || o.maxCategories < 1))
    throw new RangeError(`${op}: maxCategories must be a positive integer, got ${String(o.maxCategories)}.`);
}

// ---- loading ----

async function loadText(source: unknown, from: 'string' | 'path' | 'url' | undefined): Promise<string> {
  const op = 'readCsv';
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (from !== undefined) throw new TypeError(`${op}: from: '${from}' does not apply to a File or Blob.`);
    return source.text();
  }
  if (source instanceof URL) {
    if (from === 'string') throw new TypeError(`${op}: from: 'string' needs the CSV text as a string, got a URL.`);
    return source.protocol === 'file:' ? readPath(source) : fetchText(source.href);
  }
  if (typeof source !== 'string') {
    // A File/Blob from another realm, or a look-alike with .text().
    if (source && typeof (source as Blob).text === 'function' && from === undefined) return (source as Blob).text();
    throw new TypeError(`${op}: source must be CSV text, a file path, a URL or a File/Blob; got ${source === null ? 'null' : typeof source}.`);
  }
  const kind = from ?? guessKind(source);
  if (kind === 'string') return source;
  if (kind === 'url') return fetchText(source);
  return /^file:\/\//i.test(source) ? readPath(new URL(source)) : readPath(source);
}

function guessKind(s: string): 'string' | 'path' | 'url' {
  if (/^https?:\/\//i.test(s)) return 'url';
  if (/^file:\/\//i.test(s)) return 'path';
  if (/[\r\n,]/.test(s)) return 'string';
  return 'path';
}

async function fetchText(url: string): Promise<string> {
  const op = 'readCsv';
  if (typeof fetch !== 'function') throw new Error(`${op}: cannot fetch ${url}: this runtime has no fetch(); read the file yourself and pass its text.`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${op}: could not fetch ${url} (${(e as Error).message}); check the address and your connection (a browser also needs CORS on that server).`);
  }
  if (!res.ok) throw new Error(`${op}: fetching ${url} failed with HTTP ${res.status} ${res.statusText}.`);
  return res.text();
}

async function readPath(path: string | URL): Promise<string> {
  const op = 'readCsv';
  const shown = typeof path === 'string' ? path : path.href;
  const deno = (globalThis as any).Deno;
  try {
    if (deno && typeof deno.readTextFile === 'function') return await deno.readTextFile(path);
    if ((globalThis as any).process?.versions?.node) {
      // A specifier web bundlers cannot see, so they leave Node's fs out of browser builds.
      const specifier = ['node', 'fs/promises'].join(':');
      const fs = await import(/* @vite-ignore */ specifier);
      return await fs.readFile(path, 'utf8');
    }
  } catch (e) {
    throw new Error(`${op}: cannot read the file '${shown}': ${(e as Error).message}`);
  }
  // A web page (or worker): a relative path means a file next to the page, as fetch() resolves it.
  const here = (globalThis as any).location?.href;
  if (typeof path === 'string' && typeof here === 'string' && typeof fetch === 'function') return fetchText(new URL(path, here).href);
  throw new Error(
    `${op}: cannot read the path '${shown}' here: this runtime has no file system. In a browser pass a URL (a string starting with http(s):// or a URL object), a File/Blob, or the CSV text ({from: 'string'}).`,
  );
}

// ---- parsing ----

interface Table {
  header: string[];
  rows: string[][];
}

function parseTable(text: string, delimiter: string | undefined, op: string): Table {
  if (typeof text !== 'string') throw new TypeError(`${op}: the CSV source did not give text.`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark
  const res = Papa.parse<string[]>(text, { header: false, dynamicTyping: false, skipEmptyLines: 'greedy', delimiter: delimiter ?? '' });
  for (const e of res.errors) {
    if (e.code === 'UndetectableDelimiter') continue; // one column: the default ',' is right
    const where = e.row !== undefined ? ` in row ${e.row + 1} (counting the header as row 1)` : '';
    const fix = e.type === 'Quotes' ? '; close the quote or double any quote inside a quoted field ("")' : '';
    throw new Error(`${op}: the CSV is malformed${where}: ${e.message}${fix}.`);
  }
  const data = res.data;
  if (data.length === 0) throw new Error(`${op}: the CSV is empty; it needs a header row and at least one data row.`);
  const header = data[0].map((h, i) => h.trim() || `column${i + 1}`);
  const seen = new Map<string, number>();
  header.forEach((h, i) => {
    if (seen.has(h)) throw new Error(`${op}: the header names column ${q(h)} twice (columns ${seen.get(h)! + 1} and ${i + 1}); column names must be unique, rename one.`);
    seen.set(h, i);
  });
  const rows = data.slice(1);
  if (rows.length === 0) throw new Error(`${op}: the CSV has a header (${list(header)}) but no data rows.`);
  for (let i = 0; i < rows.length; i++)
    if (rows[i].length !== header.length) {
      const d = res.meta.delimiter;
      throw new Error(
        `${op}: row ${i + 2} (counting the header as row 1) has ${rows[i].length} field${rows[i].length === 1 ? '' : 's'} but the header has ${header.length} ` +
          `(${list(header)}); every row needs one field per column: fix that row, or quote fields that contain ${q(d)}.`,
      );
    }
  return { header, rows };
}

function resolveColumn(c: string | number, header: string[], op: string, what: string): number {
  if (typeof c === 'number') {
    const n = header.length;
    if (c < -n || c >= n) throw new RangeError(`${op}: ${what} index ${c} is out of range; the CSV has ${n} columns (0..${n - 1}, or -${n}..-1 from the end).`);
    return c < 0 ? c + n : c;
  }
  const i = header.indexOf(c);
  if (i < 0) {
    const hint = header.length === 1 && /[;\t|]/.test(header[0]) ? ` (the header was read as one column: pass the delimiter, e.g. {delimiter: ';'})` : '';
    throw new RangeError(`${op}: no column ${q(c)}${what === 'target' ? '' : ` (in ${what})`}; the columns are ${list(header, 40)}${hint}.`);
  }
  return i;
}

interface ColumnScan {
  name: string;
  /** Parsed numbers (NaN where missing or invalid). */
  nums: Float64Array;
  /** F_NUM / F_MISSING / F_INVALID per row. */
  state: Uint8Array;
  raw: string[];
  missing: number;
  invalid: number;
}

function scanColumn(name: string, rows: string[][], col: number, na: Set<string>): ColumnScan {
  const n = rows.length;
  const nums = new Float64Array(n), state = new Uint8Array(n), raw = new Array<string>(n);
  let missing = 0, invalid = 0;
  for (let i = 0; i < n; i++) {
    const s = rows[i][col].trim();
    raw[i] = s;
    if (na.has(s)) {
      state[i] = F_MISSING;
      nums[i] = NaN;
      missing++;
      continue;
    }
    const v = parseNumber(s);
    nums[i] = v;
    if (Number.isNaN(v)) {
      state[i] = F_INVALID;
      invalid++;
    }
  }
  return { name, nums, state, raw, missing, invalid };
}

/** Parses CSV text (already loaded) into a Dataset; readCsv() with the text does the same. */
function parseCsvText(text: string, o: ReadCsvOptions): Dataset {
  const op = 'readCsv';
  const { header, rows } = parseTable(text, o.delimiter, op);
  const naValues = o.naValues ?? [...DEFAULT_NA_VALUES];
  const na = new Set(naValues);
  const strategy: MissingStrategy = o.missing ?? 'drop';
  const maxCategories = o.maxCategories ?? 50;

  const ti = resolveColumn(o.target ?? -1, header, op, 'target');
  const target = header[ti];
  let fIdx: number[];
  if (o.features) {
    fIdx = o.features.map((c) => resolveColumn(c, header, op, 'features'));
    const dup = fIdx.find((c, i) => fIdx.indexOf(c) !== i);
    if (dup !== undefined) throw new RangeError(`${op}: features names column ${q(header[dup])} twice.`);
    if (fIdx.includes(ti)) throw new RangeError(`${op}: the target ${q(target)} is also listed in features; a column cannot be both.`);
    if (fIdx.length === 0) throw new RangeError(`${op}: features is empty; give at least one feature column.`);
  } else {
    fIdx = header.map((_, i) => i).filter((i) => i !== ti);
    if (fIdx.length === 0) throw new RangeError(`${op}: the CSV has only the target column ${q(target)}; it needs at least one feature column.`);
  }
  const forcedCat = new Set<number>();
  for (const c of o.categorical ?? []) {
    const i = resolveColumn(c, header, op, 'categorical');
    if (!fIdx.includes(i))
      throw new RangeError(`${op}: categorical names ${q(header[i])}, which is ${i === ti ? 'the target (a text target is label-encoded by itself)' : 'not a feature column'}.`);
    forcedCat.add(i);
  }
  const ignored = header.filter((_, i) => i !== ti && !fIdx.includes(i));

  // ---- features: numeric or categorical ----
  const n0 = rows.length;
  const scans = fIdx.map((c) => scanColumn(header[c], rows, c, na));
  const isCat = fIdx.map((c, k) => {
    if (forcedCat.has(c)) return true;
    const s = scans[k];
    const present = n0 - s.missing;
    return s.invalid > 0 && s.invalid * 2 > present;
  });
  scans.forEach((s, k) => {
    if (s.missing === n0) throw new Error(`${op}: column ${q(s.name)} has no values (all ${n0} are missing); leave it out with the features option.`);
    if (isCat[k] && !forcedCat.has(fIdx[k])) {
      const levels = new Set<string>();
      for (let i = 0; i < n0; i++) if (s.state[i] !== F_MISSING) levels.add(s.raw[i]);
      if (levels.size > maxCategories)
        throw new Error(
          `${op}: column ${q(s.name)} holds text with ${levels.size} distinct values, too many to one-hot (maxCategories is ${maxCategories}); ` +
            `it looks like an id or free text: leave it out with the features option, or list it in categorical to encode it anyway.`,
        );
    }
  });
  // A categorical field is bad only when missing; a numeric one when missing or not a number.
  const bad = (k: number, i: number) => (isCat[k] ? scans[k].state[i] === F_MISSING : scans[k].state[i] !== F_NUM);

  // ---- target ----
  const ts = scanColumn(target, rows, ti, na);
  const numericTarget = ts.invalid === 0;
  let task: Task, taskReason: string;
  if (o.task) {
    task = o.task;
    taskReason = `task: '${task}' was given`;
    if (task === 'regression' && !numericTarget) {
      const i = ts.state.indexOf(F_INVALID);
      throw new Error(`${op}: task is 'regression' but the target ${q(target)} holds ${JSON.stringify(ts.raw[i])} in row ${i + 2}, which is not a number; use task: 'classification' or clean the column.`);
    }
  } else if (!numericTarget) {
    task = 'classification';
    taskReason = `the target ${q(target)} holds text`;
  } else {
    const distinct = new Set<number>();
    let ints = true;
    for (let i = 0; i < n0; i++)
      if (ts.state[i] === F_NUM) {
        distinct.add(ts.nums[i]);
        if (!Number.isInteger(ts.nums[i])) ints = false;
      }
    if (ints && distinct.size <= 20) {
      task = 'classification';
      taskReason = `the target ${q(target)} holds ${distinct.size} distinct integers, read as class labels (20 or fewer are; pass task: 'regression' to override)`;
    } else {
      task = 'regression';
      taskReason = ints
        ? `the target ${q(target)} holds ${distinct.size} distinct integers (more than 20)`
        : `the target ${q(target)} holds numbers that are not all integers`;
    }
  }
  if (ts.missing > 0 && strategy !== 'drop') {
    const i = ts.state.indexOf(F_MISSING);
    throw new Error(
      `${op}: the target ${q(target)} is missing in ${ts.missing} row${ts.missing === 1 ? '' : 's'} (first in row ${i + 2}); a target cannot be imputed: ` +
        `use missing: 'drop' to drop those rows, or fill them in.`,
    );
  }

  // ---- missing values ----
  const report: CsvReport = { rows: 0, rowsRead: n0, dropped: 0, missing: {}, invalid: {}, imputed: {}, categorical: {}, ignored, task, taskReason, notes: [] };
  for (const s of scans) {
    if (s.missing) report.missing[s.name] = s.missing;
    if (s.invalid && !isCat[scans.indexOf(s)]) report.invalid[s.name] = s.invalid;
  }
  if (ts.missing) report.missing[target] = ts.missing;

  if (strategy === 'error')
    for (let i = 0; i < n0; i++)
      for (let k = 0; k < scans.length; k++)
        if (bad(k, i)) {
          const s = scans[k];
          const what = s.state[i] === F_MISSING ? (s.raw[i] ? `missing (${JSON.stringify(s.raw[i])})` : 'empty') : `${JSON.stringify(s.raw[i])}, which is not a number`;
          throw new Error(
            `${op}: column ${q(s.name)} is ${what} in row ${i + 2} (counting the header as row 1); ` +
              `use missing: 'drop' to drop such rows, or 'mean', 'median' or 'mostFrequent' to fill them in.`,
          );
        }

  const keep: number[] = [];
  for (let i = 0; i < n0; i++) {
    if (ts.state[i] === F_MISSING) continue; // strategy is 'drop' here
    if (strategy === 'drop' && scans.some((_, k) => bad(k, i))) continue;
    keep.push(i);
  }
  const n = keep.length;
  report.dropped = n0 - n;
  report.rows = n;
  if (n === 0) {
    const per = new Map<string, number>();
    for (const r of [report.missing, report.invalid]) for (const [c, m] of Object.entries(r)) per.set(c, (per.get(c) ?? 0) + m);
    const worst = [...per].sort((a, b) => b[1] - a[1]).map(([c, m]) => `${c}: ${m}`);
    throw new Error(
      `${op}: every one of the ${n0} rows was dropped for missing or invalid values (${list(worst)}); ` +
        `fill them with missing: 'median' (or 'mean', 'mostFrequent'), or leave the emptiest columns out with the features option.`,
    );
  }

  // ---- encode features ----
  const features: EncodedFeature[] = [];
  const columns: string[] = [];
  scans.forEach((s, k) => {
    if (isCat[k]) {
      const counts = new Map<string, number>();
      for (const i of keep) if (s.state[i] !== F_MISSING) counts.set(s.raw[i], (counts.get(s.raw[i]) ?? 0) + 1);
      const levels = sortLabels(counts.keys());
      let fill: string | null = null;
      if (strategy !== 'drop' && strategy !== 'error') {
        let best = -1;
        for (const l of levels) if ((counts.get(l) ?? 0) > best) (best = counts.get(l)!), (fill = l);
      }
      features.push({ name: s.name, kind: 'categorical', levels, fill });
      report.categorical[s.name] = levels;
      for (const l of levels) columns.push(`${s.name}=${l}`);
    } else {
      let fill: number | null = null;
      if (strategy !== 'drop' && strategy !== 'error') {
        const vals: number[] = [];
        for (const i of keep) if (s.state[i] === F_NUM) vals.push(s.nums[i]);
        fill = impute(vals, strategy);
      }
      features.push({ name: s.name, kind: 'numeric', fill });
      columns.push(s.name);
    }
  });

  const f = columns.length;
  const x = new Float32Array(n * f);
  let col = 0;
  scans.forEach((s, k) => {
    const feat = features[k];
    let imputed = 0;
    if (feat.kind === 'numeric') {
      for (let r = 0; r < n; r++) {
        const i = keep[r];
        let v = s.nums[i];
        if (s.state[i] !== F_NUM) {
          v = feat.fill!;
          imputed++;
        }
        x[r * f + col] = v;
      }
      col++;
    } else {
      const index = new Map(feat.levels.map((l, j) => [l, j]));
      for (let r = 0; r < n; r++) {
        const i = keep[r];
        let l = s.raw[i];
        if (s.state[i] === F_MISSING) {
          l = feat.fill!;
          imputed++;
        }
        x[r * f + col + index.get(l)!] = 1;
      }
      col += feat.levels.length;
    }
    if (imputed) report.imputed[s.name] = imputed;
  });
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i])) throw new Error(`${op}: internal error: a non-finite value reached x at row ${Math.floor(i / f)}, column ${columns[i % f]}.`);

  // ---- target ----
  const y = new Float32Array(n);
  let classes: string[] | null = null;
  if (task === 'classification') {
    const names = keep.map((i) => (numericTarget ? String(ts.nums[i]) : ts.raw[i]));
    classes = sortLabels(names);
    const index = new Map(classes.map((c, j) => [c, j]));
    names.forEach((c, r) => (y[r] = index.get(c)!));
  } else {
    keep.forEach((i, r) => (y[r] = ts.nums[i]));
  }

  // ---- notes ----
  const notes = report.notes;
  notes.push(`read ${n0} rows × ${header.length} columns; ${n} rows, ${f} feature columns, target ${q(target)}`);
  notes.push(`task: ${task}, as ${taskReason}${classes ? `; ${classes.length} classes: ${list(classes)}` : ''}`);
  const counts = (r: Record<string, number>) => Object.entries(r).map(([c, m]) => `${c}: ${m}`);
  if (Object.keys(report.missing).length) notes.push(`missing values: ${list(counts(report.missing))}`);
  if (Object.keys(report.invalid).length) notes.push(`values that are not numbers, treated as missing: ${list(counts(report.invalid))}`);
  if (report.dropped) notes.push(`dropped ${report.dropped} row${report.dropped === 1 ? '' : 's'} with missing or invalid values`);
  if (Object.keys(report.imputed).length) notes.push(`imputed (${strategy}): ${list(counts(report.imputed))}`);
  for (const [c, l] of Object.entries(report.categorical)) notes.push(`one-hot ${q(c)}: ${l.length} levels (${list(l)})`);
  if (ignored.length) notes.push(`ignored columns: ${list(ignored)}`);
  if (classes && classes.length < 2) notes.push(`only one class (${q(classes[0])}) is present; a classifier needs at least two`);

  const encoding: CsvEncoding = { format: 'simdnn.csv-encoding', version: 1, features, columns: columns.slice(), target, task, classes: classes && classes.slice(), missing: strategy, naValues };
  const xt = tensor(x, [n, f]);
  let yt: Tensor;
  try {
    yt = tensor(y, [n]);
  } catch (e) {
    xt.dispose();
    throw e;
  }
  return { x: xt, y: yt, columns, target, classes, task, report, encoding };
}

function impute(vals: number[], strategy: MissingStrategy): number {
  if (vals.length === 0) return 0; // unreachable: an all-missing column is an error earlier
  if (strategy === 'mean') {
    let s = 0;
    for (const v of vals) s += v;
    return s / vals.length;
  }
  const sorted = Float64Array.from(vals).sort();
  if (strategy === 'median') {
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
  // mostFrequent: the smallest of the most frequent values (scikit-learn's SimpleImputer).
  let best = sorted[0], bestCount = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) (best = sorted[i]), (bestCount = j - i);
    i = j;
  }
  return best;
}

// ---- re-encoding new rows ----

export interface EncodeRowsOptions {
  /** A categorical value not seen in training: 'error' (default) or 'ignore' (all of its one-hot columns 0). */
  unknown?: 'error' | 'ignore';
  /** The delimiter of CSV text (default: detected). */
  delimiter?: string;
}

export type RowValue = string | number | null | undefined;

/**
 * Encodes new rows exactly as readCsv encoded the training data, returning x [rows, encoding.columns.length].
 * rows is CSV text with a header (columns matched by name; others, such as the target, are ignored),
 * an array of objects keyed by column name, or an array of arrays in the order of encoding.features.
 * Missing fields get the training fill value; with missing: 'drop' or 'error' there is none, and a
 * missing field is an error.
 */
export function encodeRows(encoding: CsvEncoding, rows: string | readonly (Record<string, RowValue> | readonly RowValue[])[], options?: EncodeRowsOptions): Tensor {
  const op = 'encodeRows';
  const enc = checkEncoding(encoding, op);
  const o = checkOptions(options, ['unknown', 'delimiter'], op);
  const unknown = o.unknown ?? 'error';
  if (unknown !== 'error' && unknown !== 'ignore') throw new RangeError(`${op}: unknown must be 'error' or 'ignore', got ${JSON.stringify(unknown)}.`);
  const na = new Set(enc.naValues);
  const feats = enc.features;

  // Normalise to a getter: value of feature k in row r.
  let n: number;
  let get: (r: number, k: number) => RowValue;
  let rowLabel: (r: number) => string;
  if (typeof rows === 'string') {
    const t = parseTable(rows, o.delimiter, op);
    const cols = feats.map((fe) => {
      const i = t.header.indexOf(fe.name);
      if (i < 0) throw new RangeError(`${op}: the rows have no column ${q(fe.name)}; the model needs ${list(feats.map((x) => x.name), 40)} (the header has ${list(t.header, 40)}).`);
      return i;
    });
    n = t.rows.length;
    get = (r, k) => t.rows[r][cols[k]];
    rowLabel = (r) => `row ${r + 2} (counting the header as row 1)`;
  } else if (Array.isArray(rows)) {
    n = rows.length;
    rowLabel = (r) => `row ${r}`;
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (Array.isArray(row)) {
        if (row.length !== feats.length)
          throw new RangeError(`${op}: row ${r} has ${row.length} values but the model has ${feats.length} features (${list(feats.map((x) => x.name), 40)}), in that order.`);
      } else if (!row || typeof row !== 'object') throw new TypeError(`${op}: row ${r} must be an object keyed by column name or an array of values, got ${row === null ? 'null' : typeof row}.`);
      else for (const fe of feats) if (!(fe.name in row)) throw new RangeError(`${op}: row ${r} has no ${q(fe.name)}; give every feature (${list(feats.map((x) => x.name), 40)}), null for a missing value.`);
    }
    get = (r, k) => {
      const row = rows[r] as any;
      return Array.isArray(row) ? row[k] : row[feats[k].name];
    };
  } else {
    throw new TypeError(`${op}: rows must be CSV text or an array of rows, got ${rows === null ? 'null' : typeof rows}.`);
  }

  const f = enc.columns.length;
  const x = new Float32Array(n * f);
  const missingFill = (r: number, fe: EncodedFeature, what: string) => {
    if (fe.fill === null)
      throw new Error(
        `${op}: ${q(fe.name)} is ${what} in ${rowLabel(r)}, and the training data was read with missing: '${enc.missing}', which leaves no value to fill in; ` +
          `give a value, or train with missing: 'median' (or 'mean', 'mostFrequent').`,
      );
    return fe.fill;
  };
  for (let r = 0; r < n; r++) {
    let col = 0;
    for (let k = 0; k < feats.length; k++) {
      const fe = feats[k];
      const raw = get(r, k);
      const s = raw === null || raw === undefined ? '' : typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : typeof raw === 'string' ? raw.trim() : null;
      if (s === null) throw new TypeError(`${op}: ${q(fe.name)} in ${rowLabel(r)} is a ${typeof raw}; values must be strings, numbers or null.`);
      if (fe.kind === 'numeric') {
        let v: number;
        if (na.has(s)) v = missingFill(r, fe, 'missing') as number;
        else {
          v = parseNumber(s); // numbers too (via String): this also rejects values beyond float32
          if (Number.isNaN(v)) v = missingFill(r, fe, `${JSON.stringify(s)}, not a number,`) as number;
        }
        x[r * f + col] = v;
        col++;
      } else {
        const level = na.has(s) ? (missingFill(r, fe, 'missing') as string) : s;
        const j = fe.levels.indexOf(level);
        if (j >= 0) x[r * f + col + j] = 1;
        else if (unknown === 'error')
          throw new RangeError(
            `${op}: ${q(fe.name)} is ${JSON.stringify(level)} in ${rowLabel(r)}, a value the training data did not have (it had ${list(fe.levels)}); ` +
              `pass {unknown: 'ignore'} to encode unseen values as all zeros.`,
          );
        col += fe.levels.length;
      }
    }
  }
  return tensor(x, [n, f]);
}

function checkEncoding(e: unknown, op: string): CsvEncoding {
  if (typeof e === 'string') {
    try {
      e = JSON.parse(e);
    } catch {
      throw new TypeError(`${op}: the encoding string is not JSON.`);
    }
  }
  const enc = e as CsvEncoding;
  if (!enc || typeof enc !== 'object' || enc.format !== 'simdnn.csv-encoding' || !Array.isArray(enc.features) || !Array.isArray(enc.columns))
    throw new TypeError(`${op}: encoding must be the encoding of a Dataset from readCsv (dataset.encoding, or its JSON).`);
  if (enc.version !== 1) throw new RangeError(`${op}: encoding version ${String(enc.version)} is not supported by this version of simdnn (it reads version 1).`);
  let width = 0;
  for (const fe of enc.features) {
    if (!fe || typeof fe.name !== 'string' || (fe.kind !== 'numeric' && fe.kind !== 'categorical')) throw new TypeError(`${op}: the encoding is corrupt (a feature without a name or kind).`);
    if (fe.kind === 'categorical' && (!Array.isArray(fe.levels) || fe.levels.length === 0)) throw new TypeError(`${op}: the encoding is corrupt (categorical ${q(fe.name)} has no levels).`);
    width += fe.kind === 'numeric' ? 1 : fe.levels.length;
  }
  if (width !== enc.columns.length) throw new TypeError(`${op}: the encoding is corrupt (its features make ${width} columns but it lists ${enc.columns.length}).`);
  if (!Array.isArray(enc.naValues)) throw new TypeError(`${op}: the encoding is corrupt (no naValues).`);
  return enc;
}
