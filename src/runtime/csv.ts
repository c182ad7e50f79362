// data.readCsv: its work (loading, cleaning, encoding) is the 'csv' part, data/csv-read.ts, loaded on
// first use; so the entry point is here, in the runtime, which loads parts. data.load reads the datasets
// that ship in the package (data/*.csv) through it.
import type { CsvSource, Dataset, ReadCsvOptions, Task } from '../data/csv.js';
import { checkOptions } from '../core/validate.js';
import type { UrlObject } from '../core/platform.js';
import { loadCsv } from './lazy.js';

/**
 * Reads a CSV with a header row into a Dataset (x, y, column names, classes, a cleaning report and a
 * reusable encoding). `source` is
 * - a URL object, or a string starting with http:// or https:// — fetched (file: URLs are read as files);
 * - a File or Blob, or bytes (an ArrayBuffer, a Uint8Array, a Node Buffer from fs.readFileSync) — UTF-8;
 * - a string with a newline or a comma — the CSV text itself;
 * - any other string — a file path (Node and Deno; in a web page, a URL relative to the page).
 * `{from: 'string' | 'path' | 'url'}` overrides the guess. Quoted fields, a BOM, CRLF line ends and
 * empty lines are handled; field values are trimmed. Files, Blobs and responses are read in chunks,
 * each parsed as it arrives, so memory stays near the size of x rather than of the text;
 * `onProgress` reports how far the read has come.
 *
 * Like pandas' `read_csv` followed by cleaning and encoding; the built-in tables load by name with
 * {@link load}.
 */
export async function readCsv(source: CsvSource, options?: ReadCsvOptions): Promise<Dataset> {
  return (await loadCsv('readCsv')).readCsv(source, options);
}

/** The name of a dataset that ships with simdnn: see {@link DATASETS}. */
export type DatasetName = 'digits' | 'iris' | 'diabetes';

/** What {@link DATASETS} says of each built-in dataset. */
export interface DatasetInfo {
  /** The file in the package (`simdnn/data/<name>.csv`). */
  file: string;
  /** The target column. */
  target: string;
  /** Classification or regression. */
  task: Task;
  /** Data rows and feature columns. */
  rows: number;
  /** Feature columns. */
  features: number;
  /** One line: what the table is and where it comes from (licenses in the package's data/README.md). */
  description: string;
}

/**
 * The datasets that ship with simdnn (the package's `data/` folder; their sources and licenses are in
 * data/README.md). They are the copies scikit-learn distributes (`load_digits`, `load_iris`,
 * `load_diabetes`), so results can be compared with it.
 */
export const DATASETS: Readonly<Record<DatasetName, Readonly<DatasetInfo>>> = Object.freeze({
  digits: { file: 'data/digits.csv', target: 'digit', task: 'classification', rows: 1797, features: 64, description: 'handwritten digits 0–9 as 8×8 pixel counts (UCI optical digits test set)' },
  iris: { file: 'data/iris.csv', target: 'species', task: 'classification', rows: 150, features: 4, description: "Fisher's iris flowers: four measurements in cm, three species" },
  diabetes: { file: 'data/diabetes.csv', target: 'progression', task: 'regression', rows: 442, features: 10, description: 'diabetes progression after one year from ten baseline values (Efron et al., 2004)' },
} satisfies Record<DatasetName, DatasetInfo>);

/** Options of {@link load}: those of readCsv (the target is the dataset's own), and where to read the file from. */
export interface DatasetOptions extends Omit<ReadCsvOptions, 'target' | 'from'> {
  /**
   * Where the CSV is, when it is not beside simdnn's own files: a URL or path of your copy of
   * `simdnn/data/<name>.csv` (e.g. the asset URL your bundler gives it). Default: the file in the package.
   */
  url?: string | UrlObject;
}

const LOAD_KEYS = ['url', 'features', 'categorical', 'missing', 'task', 'delimiter', 'naValues', 'maxCategories', 'onProgress'] as const;

/**
 * Where the package keeps a dataset, as a URL relative to this module: the bundle's files are in dist/,
 * the tables in data/ beside it (under vitest this module runs from src/runtime/, two levels down).
 */
export function datasetUrl(name: DatasetName): UrlObject {
  const here = import.meta.url;
  return new URL(`${/\/src\/runtime\/[^/]+\.ts$/.test(here) ? '../../' : '../'}${DATASETS[name].file}`, here);
}

/**
 * Loads a dataset that ships with simdnn by name, as a Dataset ready to split and train on (the same as
 * `readCsv` of the file, with its target column): `await data.load('digits')`. As scikit-learn's
 * `load_digits()` / Keras' `datasets.mnist.load_data()`.
 *
 * Where the file comes from: in Node and Deno, the package's `data/` folder (read from disk). In a
 * browser, it is fetched relative to simdnn's module (`new URL('../data/digits.csv', import.meta.url)`),
 * which works when the package is served as it is laid out (a CDN, or node_modules served as files). A
 * bundler that moves simdnn's files elsewhere does not copy the CSV: import it as an asset
 * (`simdnn/data/digits.csv` is an export of the package) and pass its URL as `{url}`.
 */
export async function load(name: DatasetName, options?: DatasetOptions): Promise<Dataset> {
  const op = 'data.load';
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(DATASETS, name))
    throw new RangeError(`${op}: unknown dataset ${JSON.stringify(name)}; the built-in datasets are ${Object.keys(DATASETS).map((n) => `'${n}'`).join(', ')}. For a file of your own use data.readCsv(path, {target}).`);
  const { url, ...rest } = checkOptions(options, LOAD_KEYS, op);
  const info = DATASETS[name];
  const read = (source: string | UrlObject) => readCsv(source, { ...rest, target: info.target });
  if (url !== undefined) {
    // A URL as a URL object, so readCsv fetches it: a bundler's asset URL may be a data: URL, whose comma
    // would otherwise read as CSV text. A plain path stays a path (Node, Deno) or is relative to the page.
    if (typeof url !== 'string') return read(url);
    const page = (globalThis as { location?: { href?: string } }).location?.href;
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return read(new URL(url));
    return typeof page === 'string' ? read(new URL(url, page)) : readCsv(url, { ...rest, target: info.target, from: 'path' });
  }
  const tried: string[] = [];
  let first: unknown;
  for (const candidate of candidates(name)) {
    tried.push(candidate.href);
    try {
      return await read(candidate);
    } catch (e) {
      first ??= e;
    }
  }
  throw new Error(
    `${op}('${name}'): could not read the dataset from ${tried.join(' or ')} (${(first as Error)?.message ?? first}). ` +
      `It ships in the package as simdnn/data/${name}.csv; when a bundler has moved simdnn's files, copy that file to your assets ` +
      `and pass its URL: data.load('${name}', {url}).`,
    { cause: first },
  );
}

/** The URLs to try: beside the package's module, then (Node, Deno) the package found by name from wherever simdnn was bundled to. */
function candidates(name: DatasetName): URL[] {
  const out = [datasetUrl(name)];
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (out[0].protocol === 'file:' && typeof resolve === 'function') {
    try {
      const u = new URL(resolve(`simdnn/${DATASETS[name].file}`));
      if (u.href !== out[0].href) out.push(u);
    } catch {
      // not installed under that name: the first URL's error is the one to report
    }
  }
  return out;
}
