// readCsv: load the text (string, path, URL, File/Blob), parse it with Papa Parse (parseTable in
// csv.ts), decide which columns are numeric or categorical, handle missing values (drop or impute,
// always reported), one-hot the categorical features, label-encode a classification target, and
// describe all of it in a JSON `encoding` that re-encodes new rows for prediction (encodeRows).
// Loaded on first use as the 'csv' part (src/lazy.ts); csv.ts holds the public types and readCsv.
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { DEFAULT_NA_VALUES, parseTable, type CsvEncoding, type CsvReport, type CsvSource, type Dataset, type EncodedFeature, type MissingStrategy, type ReadCsvOptions, type Task } from './csv.js';
import { checkOptions, list, parseNumber, q, sortLabels } from './util.js';

const READ_KEYS = ['from', 'target', 'features', 'categorical', 'missing', 'task', 'delimiter', 'naValues', 'maxCategories'] as const;
const STRATEGIES: readonly MissingStrategy[] = ['drop', 'mean', 'median', 'mostFrequent', 'error'];
const F_NUM = 0, F_MISSING = 1, F_INVALID = 2; // state of one numeric field

/** readCsv (csv.ts says what it reads). */
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
