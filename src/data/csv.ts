// CSV: the types of a Dataset and its `encoding`, and encodeRows, which turns new rows into the x a
// model was trained on, as readCsv encoded its data. readCsv itself (reading the source in chunks,
// deciding which columns are numeric or categorical, handling missing values, one-hot and label
// encoding) is in csv-read.ts and csv-stream.ts, which pages load only when they read a CSV (the 'csv'
// part, see src/runtime/lazy.ts). The parser (Papa Parse, parseTable) stays here in the core: encodeRows takes
// CSV text and is synchronous, so it cannot wait for a part to load.
import type { BlobObject, UrlObject } from '../core/platform.js';
import Papa from 'papaparse/papaparse.min.js'; // not 'papaparse': see papaparse.d.ts
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import type { CsvProgress } from './csv-stream.js';
import { checkOptions, list, parseNumber, q } from './util.js';

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The value of a field that is a plain decimal ('-12.5', '.5', '7.') of at most 15 digits, without
 * spaces or exponent, else NaN: the caller then trims and tries parseNumber, which takes every form.
 * Exactly parseFloat's result, at a fraction of parseNumber's cost (a regular expression, then
 * parseFloat): the digits make an integer below 2^53 and 10^k is exact for k ≤ 22, so m / 10^k is one
 * correctly rounded division, which is what parseFloat returns for the decimal m·10^-k (Clinger's
 * fast path). Reading a million rows parses twenty million fields.
 */
export function fastNumber(s: string): number {
  const n = s.length;
  if (n === 0 || n > 17) return NaN;
  let i = 0, neg = false;
  let c = s.charCodeAt(0);
  if (c === 45) (neg = true), i++;
  else if (c === 43) i++;
  let m = 0, digits = 0, frac = -1;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) frac = 0;
    else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = frac > 0 ? m / POW10[frac] : m;
  return neg ? -v : v;
}

/** Some value in naValues is a number (as '-999'): a field that parses must still be checked against them. */
export function hasNumericNa(naValues: readonly string[]): boolean {
  return naValues.some((v) => !Number.isNaN(parseNumber(v.trim())));
}

/** "1 row", "3 rows": the count and the word, plural unless the count is 1. */
export const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

export type { CsvProgress } from './csv-stream.js';

/** CSV text, a path or a URL (see readCsv), a File or Blob, or the file's bytes (ArrayBuffer, Uint8Array, a Node Buffer). */
export type CsvSource = string | UrlObject | BlobObject | ArrayBuffer | ArrayBufferView;
/** What readCsv does with missing values (ReadCsvOptions.missing). */
export type MissingStrategy = 'drop' | 'mean' | 'median' | 'mostFrequent' | 'error';
/** What a Dataset's target is for: classes or numbers. */
export type Task = 'classification' | 'regression';

/** The options of data.readCsv (and data.load): as pandas' read_csv arguments plus the cleaning and encoding. */
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
  /**
   * Called as the source is read, after each chunk (about 1 MB): bytes read so far, the total when
   * known, rows so far. For a progress bar; reading a 150 MB file takes seconds.
   */
  onProgress?: (progress: CsvProgress) => void;
}

/** Field values read as missing by default (trimmed, case-sensitive), as pandas' defaults plus '?' (UCI files). */
export const DEFAULT_NA_VALUES: readonly string[] = ['', 'NA', 'N/A', 'n/a', '#N/A', '<NA>', 'NaN', 'nan', '-NaN', '-nan', 'NULL', 'null', 'None', '?'];

/** How one feature column is encoded: a number as it is (with its fill for missing values), or one-hot levels. */
export type EncodedFeature =
  | { name: string; kind: 'numeric'; fill: number | null }
  | { name: string; kind: 'categorical'; levels: string[]; fill: string | null };

/**
 * Everything needed to turn new rows into the x a model was trained on: JSON-serializable, so it can
 * travel in a saved model's metadata. `fill` is the value imputed for a missing field (null when the
 * data was read with missing: 'drop' or 'error').
 */
export interface CsvEncoding {
  /** Marks the object as a simdnn CSV encoding. */
  format: 'simdnn.csv-encoding';
  /** The format version of this encoding. */
  version: 1;
  /** The feature columns in order, each with how it is encoded. */
  features: EncodedFeature[];
  /** The columns of x, after one-hot expansion ('color=red'). */
  columns: string[];
  /** The target column. */
  target: string;
  /** Classification or regression. */
  task: Task;
  /** Class names in index order (classification), else null. */
  classes: string[] | null;
  /** How missing values were handled. */
  missing: MissingStrategy;
  /** The field values read as missing. */
  naValues: string[];
}

/** What readCsv did to the data: rows read and dropped, missing and invalid values, imputations, encodings. */
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
  /** Classification or regression (see taskReason). */
  task: Task;
  /** Why the task is what it is. */
  taskReason: string;
  /**
   * Things that will likely go wrong in training, as sentences: a classification target with more than
   * 20 classes and fewer than 5 rows per class on average looks like an id (or a number to regress).
   */
  warnings: string[];
  /** The same as the fields above, as sentences for a log (warnings included, prefixed 'warning: '). */
  notes: string[];
}

/** What data.readCsv and data.load return: features and targets as tensors, with what is needed to encode new rows the same way. */
export interface Dataset {
  /** Features [rows, columns.length], float32, no NaN. */
  x: Tensor;
  /** Targets [rows]: class indices as floats (classification) or values (regression). */
  y: Tensor;
  /** The names of x's columns, after one-hot expansion ('color=red'). */
  columns: string[];
  /** The target column's name. */
  target: string;
  /** Class names in index order (classification), else null. */
  classes: string[] | null;
  /** Classification or regression. */
  task: Task;
  /** What the cleaning did (dropped rows, imputed values, warnings). */
  report: CsvReport;
  /** The encoding, to turn new rows into x the same way (data.encodeRows; saved with a model). */
  encoding: CsvEncoding;
}


// ---- parsing (shared with readCsv) ----

export interface Table {
  header: string[];
  rows: string[][];
}

export function parseTable(text: string, delimiter: string | undefined, op: string): Table {
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
        `${op}: row ${i + 2} (counting the header as row 1) has ${plural(rows[i].length, 'field')} but the header has ${header.length} ` +
          `(${list(header)}); every row needs one field per column: fix that row, or quote fields that contain ${q(d)}.`,
      );
    }
  return { header, rows };
}

// ---- re-encoding new rows ----

/** The options of data.encodeRows. */
export interface EncodeRowsOptions {
  /** A categorical value not seen in training: 'error' (default) or 'ignore' (all of its one-hot columns 0). */
  unknown?: 'error' | 'ignore';
  /** The delimiter of CSV text (default: detected). */
  delimiter?: string;
  /**
   * For an array of rows: the number that messages give rows[0] (default 0), so that a caller encoding
   * a large table in chunks gets errors that name the row in the whole table.
   */
  firstRow?: number;
}

/** One field of a row given to encodeRows: text, a number, or missing (null / undefined). */
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
  const o = checkOptions(options, ['unknown', 'delimiter', 'firstRow'], op);
  const unknown = o.unknown ?? 'error';
  if (unknown !== 'error' && unknown !== 'ignore') throw new RangeError(`${op}: unknown must be 'error' or 'ignore', got ${JSON.stringify(unknown)}.`);
  const first = o.firstRow ?? 0;
  if (!Number.isSafeInteger(first) || first < 0) throw new RangeError(`${op}: firstRow must be a non-negative integer, got ${String(o.firstRow)}.`);
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
    rowLabel = (r) => `row ${r + first}`;
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (Array.isArray(row)) {
        if (row.length !== feats.length)
          throw new RangeError(`${op}: ${rowLabel(r)} has ${plural(row.length, 'value')} but the model has ${plural(feats.length, 'feature')} (${list(feats.map((x) => x.name), 40)}), in that order.`);
      } else if (!row || typeof row !== 'object') throw new TypeError(`${op}: ${rowLabel(r)} must be an object keyed by column name or an array of values, got ${row === null ? 'null' : typeof row}.`);
      else for (const fe of feats) if (!(fe.name in row)) throw new RangeError(`${op}: ${rowLabel(r)} has no ${q(fe.name)}; give every feature (${list(feats.map((x) => x.name), 40)}), null for a missing value.`);
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
  const naNumeric = hasNumericNa(enc.naValues);
  const levelIndex = feats.map((fe) => (fe.kind === 'categorical' ? new Map(fe.levels.map((l, j) => [l, j])) : null));
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
      if (fe.kind === 'numeric' && typeof raw === 'string') {
        // The common field, a plain decimal, without trimming, a regular expression or a Set lookup.
        const v = fastNumber(raw);
        if (v === v && !(naNumeric && na.has(raw))) {
          x[r * f + col] = v;
          col++;
          continue;
        }
      }
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
        const j = levelIndex[k]!.get(level);
        if (j !== undefined) x[r * f + col + j] = 1;
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
  if (width !== enc.columns.length) throw new TypeError(`${op}: the encoding is corrupt (its features make ${plural(width, 'column')} but it lists ${enc.columns.length}).`);
  if (!Array.isArray(enc.naValues)) throw new TypeError(`${op}: the encoding is corrupt (no naValues).`);
  return enc;
}
