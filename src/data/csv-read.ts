// readCsv: read the source a chunk at a time (csv-stream.ts: Papa Parse on chunks of text), keep each
// field only as a float32 in one growing row-major array (plus small per-column dictionaries for the
// columns that may turn out categorical, and the target), then decide which columns are numeric or
// categorical, handle missing values (drop or impute, always reported), one-hot the categorical
// features, label-encode a classification target, and describe all of it in a JSON `encoding` that
// re-encodes new rows for prediction (encodeRows). Rows never exist as arrays of strings beyond one
// chunk, so a 1e6 × 20 file needs about its x in memory, not ten times the file.
// Loaded on first use as the 'csv' part (src/runtime/lazy.ts); csv.ts holds the public types and readCsv.
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import { DEFAULT_NA_VALUES, fastNumber, hasNumericNa, plural, type CsvEncoding, type CsvReport, type CsvSource, type Dataset, type EncodedFeature, type MissingStrategy, type ReadCsvOptions, type Task } from './csv.js';
import { openText, streamCsv, type TextSource } from './csv-stream.js';
import { checkOptions, list, parseNumber, q, sortLabels } from './util.js';

const READ_KEYS = ['from', 'target', 'features', 'categorical', 'missing', 'task', 'delimiter', 'naValues', 'maxCategories', 'onProgress'] as const;
const STRATEGIES: readonly MissingStrategy[] = ['drop', 'mean', 'median', 'mostFrequent', 'error'];

/** A numeric integer target with at most this many distinct values is read as class labels. */
const MAX_LABEL_INTEGERS = 20;
/**
 * A classification target with more classes than this, and fewer than ID_ROWS_PER_CLASS rows per class
 * on average, is reported as looking like an id (or a number): a classifier cannot learn classes it
 * sees once or twice, and its output layer grows with every class.
 */
const ID_LIKE_MIN_CLASSES = 20;
const ID_ROWS_PER_CLASS = 5;
/** Distinct values counted exactly up to here (targets' integers, text of id-like columns); beyond, messages say "more than". */
const COUNT_CAP = 100_000;
/**
 * Distinct spellings of numbers kept for a target that may turn out to hold text. A text target's
 * classes are the fields as written ('2.0' stays '2.0'); past this many distinct numeric spellings
 * (a numeric target, in practice) later numbers are named by their value (String(2) is '2'), which
 * differs only for a target that mixes text with thousands of distinct numbers.
 */
const TARGET_NUMBER_SPELLINGS = 4096;

/** readCsv (csv.ts says what it reads). */
export async function readCsv(source: CsvSource, options?: ReadCsvOptions): Promise<Dataset> {
  const op = 'readCsv';
  const o = checkOptions(options, READ_KEYS, op) as ReadCsvOptions;
  checkReadOptions(o);
  const src = await openText(source, o.from, op);
  const b = new Builder(o, src);
  const onProgress = o.onProgress;
  await streamCsv(src, {
    op,
    delimiter: o.delimiter,
    rows: (rows, first, delimiter) => b.add(rows, first, delimiter),
    progress: onProgress ? (p) => onProgress(p) : undefined,
  });
  return b.finish();
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
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new TypeError(`${op}: onProgress must be a function, got ${o.onProgress === null ? 'null' : typeof o.onProgress}.`);
}

function resolveColumn(c: string | number, header: string[], op: string, what: string): number {
  if (typeof c === 'number') {
    const n = header.length;
    if (c < -n || c >= n) throw new RangeError(`${op}: ${what} index ${c} is out of range; the CSV has ${plural(n, 'column')} (0..${n - 1}, or -${n}..-1 from the end).`);
    return c < 0 ? c + n : c;
  }
  const i = header.indexOf(c);
  if (i < 0) {
    const hint = header.length === 1 && /[;\t|]/.test(header[0]) ? ` (the header was read as one column: pass the delimiter, e.g. {delimiter: ';'})` : '';
    throw new RangeError(`${op}: no column ${q(c)}${what === 'target' ? '' : ` (in ${what})`}; the columns are ${list(header, 40)}${hint}.`);
  }
  return i;
}

// ---- reading: one pass over the rows, chunk by chunk ----

interface FeatureCol {
  name: string;
  /** The column in the file. */
  index: number;
  /** Listed in the categorical option: categorical from the start, never parsed as numbers. */
  forced: boolean;
  missing: number;
  /** Text in a column read as numbers (counted as missing unless the column turns out categorical). */
  invalid: number;
  firstMissing: number;
  firstMissingRaw: string;
  firstInvalid: number;
  firstInvalidRaw: string;
  /** The numbers' sum in float64 (the mean) and count. */
  sum: number;
  count: number;
  /**
   * Distinct present fields (trimmed, as written) → code ≥ 1; code 0 is missing. Kept while there are
   * at most `cap` of them: a column that turns out categorical needs each row's field as written
   * ('1.0' and '1' are two levels), and one with more levels than maxCategories is an error anyway.
   */
  dict: Map<string, number> | null;
  levels: string[];
  codes: Uint16Array | Int32Array | null;
  cap: number;
  /** Once `dict` gave up: the distinct text values, only to say how many there were. */
  texts: Set<string> | null;
  /** The count in `texts` is short: numbers came after the dictionary gave up, or COUNT_CAP was reached. */
  textsInexact: boolean;
  /** Distinct numbers among the levels when the dictionary gave up. */
  numbersAtGiveUp: number;
}

interface TargetCol {
  name: string;
  index: number;
  missing: number;
  firstMissing: number;
  invalid: number;
  firstInvalid: number;
  firstInvalidRaw: string;
  /** The number in each row (NaN when missing or text). */
  values: Float64Array;
  /** Per row: 0 missing, -1 a number without its spelling (TARGET_NUMBER_SPELLINGS), else a code into levels. Null for task: 'regression'. */
  codes: Int32Array | null;
  dict: Map<string, number> | null;
  levels: string[];
  spellings: number;
  /** Every number so far is an integer; their distinct values (up to COUNT_CAP) while so. */
  ints: boolean;
  distinct: Set<number> | null;
  distinctCapped: boolean;
}

const emptyF32 = new Float32Array(0);

class Builder {
  private readonly op = 'readCsv';
  private readonly na: Set<string>;
  /** Some naValue is a number (as '-999'): a field that parses must still be checked against them. */
  private readonly naNumeric: boolean;
  private readonly naValues: string[];
  private readonly strategy: MissingStrategy;
  private readonly maxCategories: number;
  private header: string[] | null = null;
  private cols: FeatureCol[] = [];
  private t!: TargetCol;
  private ignored: string[] = [];
  /** Row-major features as read: [capacity, S], S = cols.length, NaN where missing or not a number. */
  private store = emptyF32;
  private S = 0;
  private capacity = 0;
  private estimated = false;
  /** Data rows read. */
  private n = 0;

  constructor(
    private readonly o: ReadCsvOptions,
    private readonly src: TextSource,
  ) {
    this.naValues = o.naValues ?? [...DEFAULT_NA_VALUES];
    this.na = new Set(this.naValues);
    this.naNumeric = hasNumericNa(this.naValues);
    this.strategy = o.missing ?? 'drop';
    this.maxCategories = o.maxCategories ?? 50;
  }

  add(rows: string[][], first: number, delimiter: string): void {
    let i = 0;
    if (!this.header) {
      this.setHeader(rows[0]);
      i = 1;
      if (rows.length === 1) return;
    }
    // The columns are resolved at the first data row, so that a file without rows says so first.
    if (!this.cols.length) this.resolveColumns();
    const width = this.header!.length;
    this.ensure(this.n + rows.length - i);
    const cols = this.cols, nf = cols.length, S = this.S, ti = this.t.index;
    for (; i < rows.length; i++) {
      const row = rows[i];
      if (row.length !== width) this.ragged(row, first + i + 1, delimiter);
      const r = this.n++;
      const base = r * S;
      for (let k = 0; k < nf; k++) this.feature(cols[k], row[cols[k].index], r, base + k);
      this.target(row[ti], r);
    }
  }

  private setHeader(first: string[]): void {
    const op = this.op;
    const header = first.map((h, i) => h.trim() || `column${i + 1}`);
    const seen = new Map<string, number>();
    header.forEach((h, i) => {
      if (seen.has(h)) throw new Error(`${op}: the header names column ${q(h)} twice (columns ${seen.get(h)! + 1} and ${i + 1}); column names must be unique, rename one.`);
      seen.set(h, i);
    });
    this.header = header;
  }

  private resolveColumns(): void {
    const op = this.op, o = this.o, header = this.header!;
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
    this.ignored = header.filter((_, i) => i !== ti && !fIdx.includes(i));
    this.cols = fIdx.map((index) => {
      const forced = forcedCat.has(index);
      return {
        name: header[index], index, forced, missing: 0, invalid: 0, firstMissing: -1, firstMissingRaw: '', firstInvalid: -1, firstInvalidRaw: '',
        sum: 0, count: 0, dict: new Map(), levels: [], codes: null, cap: forced ? Infinity : this.maxCategories,
        texts: null, textsInexact: false, numbersAtGiveUp: 0,
      };
    });
    this.S = fIdx.length;
    const classify = o.task !== 'regression';
    this.t = {
      name: target, index: ti, missing: 0, firstMissing: -1, invalid: 0, firstInvalid: -1, firstInvalidRaw: '',
      values: new Float64Array(0), codes: classify ? new Int32Array(0) : null, dict: classify ? new Map() : null, levels: [], spellings: 0,
      ints: true, distinct: new Set(), distinctCapped: false,
    };
  }

  /** Room for `rows` data rows: the first time from the source's size, then by doubling. */
  private ensure(rows: number): void {
    if (rows <= this.capacity) return;
    let next = Math.max(rows, this.capacity * 2, 1024);
    const { total, read } = this.src;
    if (!this.estimated && total && read > 0 && rows > 0) {
      // Rows per byte of what was read so far, over the whole source, with 2% to spare; a wrong guess
      // only costs a doubling later.
      next = Math.max(next, Math.ceil((rows / read) * total * 1.02) + 64);
      this.estimated = true;
    }
    const grow = <T extends Float32Array | Float64Array | Int32Array | Uint16Array>(a: T, size: number, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.store = grow(this.store, next * this.S, (n) => new Float32Array(n));
    for (const c of this.cols) if (c.dict) c.codes = grow(c.codes ?? codeArray(c.cap, 0), next, (n) => codeArray(c.cap, n));
    const t = this.t;
    t.values = grow(t.values, next, (n) => new Float64Array(n));
    if (t.codes) t.codes = grow(t.codes, next, (n) => new Int32Array(n));
    this.capacity = next;
  }

  private ragged(row: string[], rowNumber: number, d: string): never {
    const header = this.header!;
    throw new Error(
      `${this.op}: row ${rowNumber} (counting the header as row 1) has ${plural(row.length, 'field')} but the header has ${header.length} ` +
        `(${list(header)}); every row needs one field per column: fix that row, or quote fields that contain ${q(d)}.`,
    );
  }

  private feature(c: FeatureCol, s: string, r: number, at: number): void {
    if (c.forced) {
      const t = s.trim();
      if (this.na.has(t)) this.missed(c, r, t);
      else this.code(c, t, r);
      return;
    }
    let v = fastNumber(s), t = s;
    if (v !== v) {
      t = s.trim();
      if (this.na.has(t)) {
        this.store[at] = NaN;
        this.missed(c, r, t);
        return;
      }
      v = parseNumber(t);
    } else if (this.naNumeric && this.na.has(s)) {
      this.store[at] = NaN;
      this.missed(c, r, s);
      return;
    }
    this.store[at] = v;
    if (v === v) {
      c.sum += v;
      c.count++;
      if (c.dict) this.code(c, t, r);
      else c.textsInexact = true;
    } else {
      c.invalid++;
      if (c.firstInvalid < 0) (c.firstInvalid = r), (c.firstInvalidRaw = t);
      if (c.dict) this.code(c, t, r);
      else this.text(c, t);
    }
  }

  private missed(c: FeatureCol, r: number, raw: string): void {
    c.missing++;
    if (c.firstMissing < 0) (c.firstMissing = r), (c.firstMissingRaw = raw);
  }

  private code(c: FeatureCol, raw: string, r: number): void {
    let id = c.dict!.get(raw);
    if (id === undefined) {
      if (c.levels.length >= c.cap) {
        // More distinct values than maxCategories: as numbers the column needs no levels, and as
        // categories it is an error that only needs their count.
        c.numbersAtGiveUp = c.levels.filter((l) => !Number.isNaN(parseNumber(l))).length;
        c.texts = new Set(c.levels.filter((l) => Number.isNaN(parseNumber(l))));
        c.dict = null;
        c.codes = null;
        c.levels = [];
        if (Number.isNaN(parseNumber(raw))) this.text(c, raw);
        else c.textsInexact = true;
        return;
      }
      c.levels.push(raw);
      id = c.levels.length;
      c.dict!.set(raw, id);
    }
    c.codes![r] = id;
  }

  private text(c: FeatureCol, raw: string): void {
    if (c.texts!.size < COUNT_CAP) c.texts!.add(raw);
    else c.textsInexact = true;
  }

  private target(s: string, r: number): void {
    const T = this.t;
    let v = fastNumber(s), t = s;
    if (v !== v) {
      t = s.trim();
      if (this.na.has(t)) return this.targetMissing(r);
      v = parseNumber(t);
    } else if (this.naNumeric && this.na.has(s)) return this.targetMissing(r);
    T.values[r] = v;
    const codes = T.codes;
    if (v === v) {
      if (T.ints) {
        if (!Number.isInteger(v)) (T.ints = false), (T.distinct = null);
        else if (T.distinct!.size < COUNT_CAP) T.distinct!.add(v);
        else if (!T.distinct!.has(v)) T.distinctCapped = true;
      }
      if (codes) {
        const id = T.dict!.get(t);
        if (id !== undefined) codes[r] = id;
        else if (T.spellings < TARGET_NUMBER_SPELLINGS) {
          T.spellings++;
          T.levels.push(t);
          T.dict!.set(t, T.levels.length);
          codes[r] = T.levels.length;
        } else codes[r] = -1;
      }
    } else {
      T.invalid++;
      if (T.firstInvalid < 0) (T.firstInvalid = r), (T.firstInvalidRaw = t);
      if (codes) {
        let id = T.dict!.get(t);
        if (id === undefined) {
          T.levels.push(t);
          id = T.levels.length;
          T.dict!.set(t, id);
        }
        codes[r] = id;
      }
    }
  }

  private targetMissing(r: number): void {
    const T = this.t;
    T.values[r] = NaN;
    T.missing++;
    if (T.firstMissing < 0) T.firstMissing = r;
    // codes[r] stays 0 (missing)
  }

  // ---- after the last row ----

  finish(): Dataset {
    const op = this.op;
    if (!this.header) throw new Error(`${op}: the CSV is empty; it needs a header row and at least one data row.`);
    const header = this.header;
    const n0 = this.n;
    if (n0 === 0) throw new Error(`${op}: the CSV has a header (${list(header)}) but no data rows.`);
    const { cols, strategy, maxCategories, S } = this;
    const T = this.t;
    const target = T.name;

    // ---- features: numeric or categorical ----
    const isCat = cols.map((c) => c.forced || (c.invalid > 0 && c.invalid * 2 > n0 - c.missing));
    cols.forEach((c, k) => {
      if (c.missing === n0) throw new Error(`${op}: column ${q(c.name)} has no values (${n0 === 1 ? 'its one field is' : `all ${n0} are`} missing); leave it out with the features option.`);
      if (isCat[k] && !c.forced && !c.dict) {
        const exact = !c.textsInexact;
        const count = exact ? `${c.texts!.size + c.numbersAtGiveUp}` : `more than ${Math.max(maxCategories, c.texts!.size)}`;
        throw new Error(
          `${op}: column ${q(c.name)} holds text with ${count} distinct values, too many to one-hot (maxCategories is ${maxCategories}); ` +
            `it looks like an id or free text: leave it out with the features option, or list it in categorical to encode it anyway.`,
        );
      }
    });

    // ---- target ----
    const numericTarget = T.invalid === 0;
    let task: Task, taskReason: string;
    if (this.o.task) {
      task = this.o.task;
      taskReason = `task: '${task}' was given`;
      if (task === 'regression' && !numericTarget)
        throw new Error(
          `${op}: task is 'regression' but the target ${q(target)} holds ${JSON.stringify(T.firstInvalidRaw)} in row ${T.firstInvalid + 2}, which is not a number; use task: 'classification' or clean the column.`,
        );
    } else if (!numericTarget) {
      task = 'classification';
      taskReason = `the target ${q(target)} holds text`;
    } else if (T.ints && T.distinct!.size <= MAX_LABEL_INTEGERS) {
      task = 'classification';
      taskReason = `the target ${q(target)} holds ${plural(T.distinct!.size, 'distinct integer')}, read as class labels (${MAX_LABEL_INTEGERS} or fewer are; pass task: 'regression' to override)`;
    } else {
      task = 'regression';
      const distinct = T.distinctCapped ? `more than ${COUNT_CAP.toLocaleString('en')}` : String(T.distinct?.size);
      taskReason = T.ints
        ? `the target ${q(target)} holds ${distinct} distinct integers (more than ${MAX_LABEL_INTEGERS})`
        : `the target ${q(target)} holds numbers that are not all integers`;
    }
    if (T.missing > 0 && strategy !== 'drop')
      throw new Error(
        `${op}: the target ${q(target)} is missing in ${plural(T.missing, 'row')} (first in row ${T.firstMissing + 2}); a target cannot be imputed: ` +
          `use missing: 'drop' to drop those rows, or fill them in.`,
      );

    // ---- missing values ----
    const report: CsvReport = {
      rows: 0, rowsRead: n0, dropped: 0, missing: {}, invalid: {}, imputed: {}, categorical: {}, ignored: this.ignored, task, taskReason, warnings: [], notes: [],
    };
    cols.forEach((c, k) => {
      if (c.missing) report.missing[c.name] = c.missing;
      if (c.invalid && !isCat[k]) report.invalid[c.name] = c.invalid;
    });
    if (T.missing) report.missing[target] = T.missing;

    if (strategy === 'error') {
      // The first bad field in reading order: the earliest row, then the leftmost column.
      let row = Infinity, bk = -1;
      cols.forEach((c, k) => {
        const firsts = isCat[k] ? [c.firstMissing] : [c.firstMissing, c.firstInvalid];
        for (const f of firsts) if (f >= 0 && f < row) (row = f), (bk = k);
      });
      if (bk >= 0) {
        const c = cols[bk];
        const what = c.firstMissing === row ? (c.firstMissingRaw ? `missing (${JSON.stringify(c.firstMissingRaw)})` : 'empty') : `${JSON.stringify(c.firstInvalidRaw)}, which is not a number`;
        throw new Error(
          `${op}: column ${q(c.name)} is ${what} in row ${row + 2} (counting the header as row 1); ` +
            `use missing: 'drop' to drop such rows, or 'mean', 'median' or 'mostFrequent' to fill them in.`,
        );
      }
    }

    // Rows kept: all of them unless missing: 'drop' (a missing target with another strategy threw above).
    const store = this.store;
    const targetMissing = (r: number) => (T.codes ? T.codes[r] === 0 : T.values[r] !== T.values[r]);
    let keep: Int32Array | null = null; // null: every row
    let n = n0;
    const anyBad = T.missing > 0 || cols.some((c, k) => c.missing > 0 || (!isCat[k] && c.invalid > 0));
    if (strategy === 'drop' && anyBad) {
      const kept = new Int32Array(n0);
      n = 0;
      for (let r = 0; r < n0; r++) {
        if (targetMissing(r)) continue;
        let ok = true;
        for (let k = 0; k < cols.length && ok; k++) ok = isCat[k] ? cols[k].codes![r] !== 0 : store[r * S + k] === store[r * S + k];
        if (ok) kept[n++] = r;
      }
      if (n < n0) keep = kept.subarray(0, n);
    }
    const rowAt = keep ? (j: number) => keep![j] : (j: number) => j;
    report.dropped = n0 - n;
    report.rows = n;
    if (n === 0) {
      const per = new Map<string, number>();
      for (const r of [report.missing, report.invalid]) for (const [c, m] of Object.entries(r)) per.set(c, (per.get(c) ?? 0) + m);
      const worst = [...per].sort((a, b) => b[1] - a[1]).map(([c, m]) => `${c}: ${m}`);
      throw new Error(
        `${op}: ${n0 === 1 ? 'the only row was' : `every one of the ${n0} rows was`} dropped for missing or invalid values (${list(worst)}); ` +
          `fill them with missing: 'median' (or 'mean', 'mostFrequent'), or leave the emptiest columns out with the features option.`,
      );
    }

    // ---- encode features ----
    const imputing = strategy !== 'drop' && strategy !== 'error';
    const features: EncodedFeature[] = [];
    const columns: string[] = [];
    /** Per categorical column: code → one-hot position (-1: a level of dropped rows only). */
    const onehot: (Int32Array | null)[] = [];
    cols.forEach((c, k) => {
      if (isCat[k]) {
        const counts = new Int32Array(c.levels.length + 1);
        const codes = c.codes!;
        for (let j = 0; j < n; j++) counts[codes[rowAt(j)]]++;
        const present = c.levels.filter((_, i) => counts[i + 1] > 0);
        const levels = sortLabels(present);
        const pos = new Map(levels.map((l, j) => [l, j]));
        onehot.push(Int32Array.from({ length: c.levels.length + 1 }, (_, code) => (code === 0 ? -1 : (pos.get(c.levels[code - 1]) ?? -1))));
        let fill: string | null = null;
        if (imputing) {
          // The most frequent level; the first in sorted order on ties.
          let best = -1;
          const byLevel = new Map(c.levels.map((l, i) => [l, counts[i + 1]]));
          for (const l of levels) if (byLevel.get(l)! > best) (best = byLevel.get(l)!), (fill = l);
        }
        features.push({ name: c.name, kind: 'categorical', levels, fill });
        report.categorical[c.name] = levels;
        for (const l of levels) columns.push(`${c.name}=${l}`);
      } else {
        onehot.push(null);
        // Every row is kept when imputing, so the statistics are over all rows read.
        features.push({ name: c.name, kind: 'numeric', fill: imputing ? numericFill(store, S, k, n0, c, strategy) : null });
        columns.push(c.name);
      }
    });

    const f = columns.length;
    let x: Float32Array;
    if (!isCat.some(Boolean)) {
      // The common case: x is the store itself, compacted over dropped rows and filled in place.
      if (keep) for (let j = 0; j < n; j++) if (keep[j] !== j) store.copyWithin(j * S, keep[j] * S, keep[j] * S + S);
      x = store.subarray(0, n * S);
      if (imputing)
        features.forEach((fe, k) => {
          const fill = (fe as { fill: number }).fill;
          let imputed = 0;
          for (let j = k; j < x.length; j += S) if (x[j] !== x[j]) (x[j] = fill), imputed++;
          if (imputed) report.imputed[fe.name] = imputed;
        });
    } else {
      x = new Float32Array(n * f);
      let col = 0;
      cols.forEach((c, k) => {
        const fe = features[k];
        let imputed = 0;
        if (fe.kind === 'numeric') {
          for (let j = 0; j < n; j++) {
            let v = store[rowAt(j) * S + k];
            if (v !== v) (v = fe.fill!), imputed++;
            x[j * f + col] = v;
          }
          col++;
        } else {
          const codes = c.codes!, pos = onehot[k]!;
          const fillPos = fe.fill === null ? -1 : fe.levels.indexOf(fe.fill);
          for (let j = 0; j < n; j++) {
            let p = pos[codes[rowAt(j)]];
            if (p < 0) (p = fillPos), imputed++; // missing (only when imputing: 'drop' dropped the row)
            x[j * f + col + p] = 1;
          }
          col += fe.levels.length;
        }
        if (imputed) report.imputed[c.name] = imputed;
      });
    }
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i])) throw new Error(`${op}: internal error: a non-finite value reached x at row ${Math.floor(i / f)}, column ${columns[i % f]}.`);

    // ---- target ----
    const y = new Float32Array(n);
    let classes: string[] | null = null;
    if (task === 'classification') classes = this.classes(y, n, rowAt, numericTarget);
    else for (let j = 0; j < n; j++) y[j] = T.values[rowAt(j)];
    // The big arrays are x (or its view) and y from here on.
    this.store = emptyF32;
    for (const c of cols) c.codes = null;

    // ---- notes ----
    const notes = report.notes;
    notes.push(`read ${plural(n0, 'row')} × ${plural(header.length, 'column')}; ${plural(n, 'row')}, ${plural(f, 'feature column')}, target ${q(target)}`);
    notes.push(`task: ${task}, as ${taskReason}${classes ? `; ${plural(classes.length, 'class', 'classes')}: ${list(classes)}` : ''}`);
    const counts = (r: Record<string, number>) => Object.entries(r).map(([c, m]) => `${c}: ${m}`);
    if (Object.keys(report.missing).length) notes.push(`missing values: ${list(counts(report.missing))}`);
    if (Object.keys(report.invalid).length) notes.push(`values that are not numbers, treated as missing: ${list(counts(report.invalid))}`);
    if (report.dropped) notes.push(`dropped ${plural(report.dropped, 'row')} with missing or invalid values`);
    if (Object.keys(report.imputed).length) notes.push(`imputed (${strategy}): ${list(counts(report.imputed))}`);
    for (const [c, l] of Object.entries(report.categorical)) notes.push(`one-hot ${q(c)}: ${plural(l.length, 'level')} (${list(l)})`);
    if (this.ignored.length) notes.push(`ignored columns: ${list(this.ignored)}`);
    if (classes && classes.length < 2) notes.push(`only one class (${q(classes[0])}) is present; a classifier needs at least two`);
    if (classes && classes.length > ID_LIKE_MIN_CLASSES && classes.length * ID_ROWS_PER_CLASS > n) {
      const w =
        `the target ${q(target)} has ${classes.length} classes for ${n} rows (${(n / classes.length).toFixed(1)} per class): it looks like an id or a number rather than a class label; ` +
        `${numericTarget ? `pass task: 'regression' if it is a quantity to predict, or ` : ''}choose another target (and leave an id column out of the features)`;
      report.warnings.push(w);
      notes.push(`warning: ${w}`);
    }

    const encoding: CsvEncoding = {
      format: 'simdnn.csv-encoding', version: 1, features, columns: columns.slice(), target, task, classes: classes && classes.slice(), missing: strategy, naValues: this.naValues,
    };
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

  /** Class names (sorted naturally) and y as class indices over the kept rows. */
  private classes(y: Float32Array, n: number, rowAt: (j: number) => number, numericTarget: boolean): string[] {
    const T = this.t;
    if (numericTarget) {
      // Numbers name their class by value (String(2.0) is '2'): one name per distinct value.
      const byValue = new Map<number, number>();
      for (let j = 0; j < n; j++) byValue.set(T.values[rowAt(j)], 0);
      const classes = sortLabels([...byValue.keys()].map(String));
      const index = new Map(classes.map((c, i) => [c, i]));
      for (const v of byValue.keys()) byValue.set(v, index.get(String(v))!);
      for (let j = 0; j < n; j++) y[j] = byValue.get(T.values[rowAt(j)])!;
      return classes;
    }
    // Text: fields as written, except numbers past TARGET_NUMBER_SPELLINGS (code -1), named by value.
    const codes = T.codes!;
    const used = new Uint8Array(T.levels.length + 1);
    const spelled = new Map<number, string>();
    for (let j = 0; j < n; j++) {
      const r = rowAt(j), c = codes[r];
      if (c > 0) used[c] = 1;
      else spelled.set(T.values[r], String(T.values[r]));
    }
    const names = new Set<string>(spelled.values());
    T.levels.forEach((l, i) => used[i + 1] && names.add(l));
    const classes = sortLabels(names);
    const index = new Map(classes.map((c, i) => [c, i]));
    const byCode = Int32Array.from({ length: T.levels.length + 1 }, (_, c) => (c > 0 && used[c] ? index.get(T.levels[c - 1])! : -1));
    for (let j = 0; j < n; j++) {
      const r = rowAt(j), c = codes[r];
      y[j] = c > 0 ? byCode[c] : index.get(String(T.values[r]))!;
    }
    return classes;
  }
}

/** A dictionary's per-row codes: 16 bits while the levels fit. */
function codeArray(cap: number, n: number): Uint16Array | Int32Array {
  return cap < 0xffff ? new Uint16Array(n) : new Int32Array(n);
}

/**
 * The value imputed into numeric column k. The mean is over the numbers as parsed (float64, as summed
 * while reading); the median and the most frequent value are over the float32 values x holds.
 */
function numericFill(store: Float32Array, S: number, k: number, n: number, c: FeatureCol, strategy: MissingStrategy): number {
  if (c.count === 0) return 0; // unreachable: an all-missing column is an error earlier
  if (strategy === 'mean') return c.sum / c.count;
  const vals = new Float32Array(c.count);
  let m = 0;
  for (let i = k, end = n * S; i < end; i += S) if (store[i] === store[i]) vals[m++] = store[i];
  vals.sort();
  if (strategy === 'median') {
    const h = m >> 1;
    return m % 2 ? vals[h] : (vals[h - 1] + vals[h]) / 2;
  }
  // mostFrequent: the smallest of the most frequent values (scikit-learn's SimpleImputer).
  let best = vals[0], bestCount = 0;
  for (let i = 0; i < m; ) {
    let j = i;
    while (j < m && vals[j] === vals[i]) j++;
    if (j - i > bestCount) (best = vals[i]), (bestCount = j - i);
    i = j;
  }
  return best;
}
