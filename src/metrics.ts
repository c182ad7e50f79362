// Metrics as plain functions returning numbers, computed in float64 on the host. Every function takes
// (prediction, truth) in that order — the order of accuracy(predOrLogits, labels) — which is the
// reverse of scikit-learn's (y_true, y_pred). Inputs are Tensors (read with dataSync), arrays, nested
// arrays [[...], ...] or typed arrays. NaN in an input is an error, never a silent result.
import { checkOptions } from './core/validate.js';
import { Tensor } from './core/tensor.js';
import { isShapedArray, type ShapedArray } from './ops/creation.js';

type Flat = ArrayLike<number>;
/**
 * What the metrics take, by the input rule of every data argument (TensorInput): a Tensor, an array or
 * typed array ([n]), an array of rows ([n, k]), or a typed array with its shape ({data, shape}).
 */
export type MetricInput = Tensor | Flat | readonly (readonly number[] | Flat)[] | ShapedArray;

interface Mat {
  v: Flat;
  rows: number;
  cols: number;
  /** Rank 2 (rows of values) rather than a flat vector. */
  matrix: boolean;
  /** Came as float32 (a Tensor or Float32Array). */
  f32: boolean;
}

function toMat(x: unknown, op: string, name: string): Mat {
  if (isShapedArray(x)) {
    // Checked by the same rule as tensor(data, shape), but read on the host in float64.
    const { data, shape } = x;
    if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 2) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new RangeError(`${op}: ${name}.shape must be [n] or [n, k], got ${JSON.stringify(shape)}.`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (!data || typeof data.length !== 'number' || data.length !== size)
      throw new RangeError(`${op}: ${name}.shape [${shape.join(', ')}] holds ${size} values but ${name}.data has ${data && typeof data.length === 'number' ? data.length : 'none'}.`);
    return { v: data, rows: shape[0], cols: shape.length === 2 ? shape[1] : 1, matrix: shape.length === 2, f32: data instanceof Float32Array };
  }
  if (x instanceof Tensor) {
    if (x.rank === 0 || x.rank > 2) throw new RangeError(`${op}: ${name} must be [n] or [n, k], got a tensor of shape [${x.shape.join(', ')}].`);
    const v = x.dataSync();
    return { v, rows: x.shape[0], cols: x.rank === 2 ? x.shape[1] : 1, matrix: x.rank === 2, f32: true };
  }
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
    if (typeof (x as any)[0] === 'bigint') throw new TypeError(`${op}: ${name} is a BigInt array; convert to numbers first.`);
    const v = x as unknown as Flat;
    return { v, rows: v.length, cols: 1, matrix: false, f32: x instanceof Float32Array };
  }
  if (Array.isArray(x)) {
    if (x.length > 0 && typeof x[0] === 'object' && x[0] !== null) {
      const cols = (x[0] as Flat).length;
      const v = new Float64Array(x.length * cols);
      x.forEach((row, i) => {
        if (!row || typeof row !== 'object' || (row as Flat).length !== cols)
          throw new TypeError(`${op}: ${name} is ragged: row ${i} has ${row && typeof row === 'object' ? plural((row as Flat).length, 'value') : typeof row}, row 0 has ${cols}.`);
        for (let j = 0; j < cols; j++) v[i * cols + j] = num((row as Flat)[j], op, name, i);
      });
      return { v, rows: x.length, cols, matrix: true, f32: false };
    }
    x.forEach((e, i) => num(e, op, name, i));
    return { v: x as Flat, rows: x.length, cols: 1, matrix: false, f32: false };
  }
  throw new TypeError(`${op}: ${name} must be a Tensor, an array or a typed array, got ${x === null ? 'null' : typeof x}.`);
}

/** "1 row", "3 rows". */
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function num(e: unknown, op: string, name: string, i: number): number {
  if (typeof e !== 'number') throw new TypeError(`${op}: ${name} holds a ${typeof e} at row ${i}; values must be numbers.`);
  return e;
}

function checkNaN(m: Mat, op: string, name: string): void {
  for (let i = 0; i < m.v.length; i++)
    if (Number.isNaN(m.v[i]))
      throw new RangeError(`${op}: ${name} has NaN at row ${Math.floor(i / m.cols)}${m.cols > 1 ? `, column ${i % m.cols}` : ''}; ${name === 'pred' ? 'the model produced NaN (did training diverge?)' : 'clean the data first'}.`);
}

function sameRows(a: Mat, b: Mat, op: string): number {
  if (a.rows !== b.rows) throw new RangeError(`${op}: pred has ${plural(a.rows, 'row')} but labels have ${b.rows}; give one prediction per example.`);
  if (a.rows === 0) throw new RangeError(`${op}: no rows to score.`);
  return a.rows;
}

const checkOpts = checkOptions;

// ---- classification ----

/** Options shared by the classification metrics. */
export interface ClassOptions {
  /**
   * The cut-off for single-column predictions ([n, 1], or [n] with values that are not all integers):
   * class 1 where pred > threshold. Default 0.5, for probabilities; use 0 for logits.
   */
  threshold?: number;
}

/**
 * Predicted class indices from class indices [n], logits or probabilities [n, k] (argmax; the first on
 * ties), or a single probability column [n, 1] / [n] thresholded into 0/1.
 */
function predClasses(pred: unknown, op: string, threshold: number): Int32Array {
  const m = toMat(pred, op, 'pred');
  checkNaN(m, op, 'pred');
  const out = new Int32Array(m.rows);
  if (m.cols > 1) {
    for (let i = 0; i < m.rows; i++) {
      let best = 0;
      for (let j = 1; j < m.cols; j++) if (m.v[i * m.cols + j] > m.v[i * m.cols + best]) best = j;
      out[i] = best;
    }
    return out;
  }
  let ints = !m.matrix;
  for (let i = 0; i < m.rows && ints; i++) if (!Number.isInteger(m.v[i])) ints = false;
  if (ints) {
    for (let i = 0; i < m.rows; i++) {
      if (m.v[i] < 0) throw new RangeError(`${op}: pred holds ${m.v[i]} at row ${i}; class indices must be non-negative integers.`);
      out[i] = m.v[i];
    }
  } else for (let i = 0; i < m.rows; i++) out[i] = m.v[i] > threshold ? 1 : 0;
  return out;
}

/** True class indices from [n] / [n, 1] integers or one-hot [n, k] rows (argmax). */
function trueClasses(labels: unknown, op: string): Int32Array {
  const m = toMat(labels, op, 'labels');
  checkNaN(m, op, 'labels');
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    if (m.cols > 1) {
      let best = 0;
      for (let j = 1; j < m.cols; j++) if (m.v[i * m.cols + j] > m.v[i * m.cols + best]) best = j;
      out[i] = best;
    } else {
      const c = m.v[i];
      if (!Number.isInteger(c) || c < 0 || c > 0x7fffffff)
        throw new RangeError(`${op}: label ${c} at row ${i} is not a class index; labels must be non-negative integers (or one-hot rows).`);
      out[i] = c;
    }
  }
  return out;
}

function classPair(pred: unknown, labels: unknown, op: string, threshold: unknown) {
  if (threshold !== undefined && (typeof threshold !== 'number' || !Number.isFinite(threshold)))
    throw new TypeError(`${op}: threshold must be a finite number, got ${String(threshold)}.`);
  const p = predClasses(pred, op, (threshold as number | undefined) ?? 0.5);
  const t = trueClasses(labels, op);
  if (p.length !== t.length) throw new RangeError(`${op}: pred has ${plural(p.length, 'row')} but labels have ${t.length}; give one prediction per example.`);
  if (p.length === 0) throw new RangeError(`${op}: no rows to score.`);
  return { p, t };
}

/**
 * The fraction of rows whose predicted class equals the label. pred: class indices [n], logits or
 * probabilities [n, k] (argmax), or one probability column [n, 1] (or [n] not all integers) against
 * 0/1 labels, thresholded at 0.5 (options.threshold; use 0 for logits). labels: class indices [n] or
 * one-hot [n, k].
 */
export function accuracy(predOrLogits: MetricInput, labels: MetricInput, options?: ClassOptions): number {
  const op = 'accuracy';
  const o = checkOpts(options, ['threshold'], op);
  const { p, t } = classPair(predOrLogits, labels, op, o.threshold);
  let ok = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) ok++;
  return ok / p.length;
}

function checkNumClasses(k: unknown, op: string): number | undefined {
  if (k === undefined) return undefined;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new TypeError(`${op}: numClasses must be a positive integer, got ${String(k)}.`);
  return k;
}

function countClasses(p: Int32Array, t: Int32Array, k: number | undefined, op: string): number {
  let m = 0;
  for (let i = 0; i < p.length; i++) m = Math.max(m, p[i], t[i]);
  if (k === undefined) return m + 1;
  if (m >= k) throw new RangeError(`${op}: class ${m} appears but numClasses is ${k}; labels and predictions must be below numClasses.`);
  return k;
}

/**
 * The most classes a dense confusion matrix is made for: k × k cells (number[][], 8 bytes a cell), 32
 * MB at 2,048 classes, while a target with 25,000 classes (an id read as a label) would need 5 GB and
 * end the process with an out-of-memory error. Past it, confusionMatrix throws and classificationReport
 * leaves `confusion` null (its text says so); confusionCounts gives the non-zero cells at any size.
 */
export const MAX_CONFUSION_CLASSES = 2048;

function matrix(p: Int32Array, t: Int32Array, k: number): number[][] {
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < p.length; i++) cm[t[i]][p[i]]++;
  return cm;
}

const fmtCount = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function tooManyClasses(k: number): string {
  return `${fmtCount(k)} classes would make a ${fmtCount(k)} × ${fmtCount(k)} matrix (${fmtCount(k * k)} cells), past the limit of ${fmtCount(MAX_CONFUSION_CLASSES)} classes (MAX_CONFUSION_CLASSES)`;
}

/**
 * The confusion matrix as scikit-learn's: cm[i][j] counts rows of true class i predicted as class j
 * (rows = truth, columns = prediction), for classes 0..numClasses-1 (default: the largest class
 * seen + 1). Note the argument order: (pred, labels). Dense, so at most MAX_CONFUSION_CLASSES classes;
 * confusionCounts gives the same counts sparsely, for any number of classes.
 */
export function confusionMatrix(pred: MetricInput, labels: MetricInput, numClasses?: number, options?: ClassOptions): number[][] {
  const op = 'confusionMatrix';
  const k = checkNumClasses(numClasses, op);
  const o = checkOpts(options, ['threshold'], op);
  const { p, t } = classPair(pred, labels, op, o.threshold);
  const classes = countClasses(p, t, k, op);
  if (classes > MAX_CONFUSION_CLASSES) throw new RangeError(`${op}: ${tooManyClasses(classes)}; use confusionCounts() for its non-zero cells.`);
  return matrix(p, t, classes);
}

/** The non-zero cells of a confusion matrix: cell i is count[i] rows of true class truth[i] predicted as pred[i]. */
export interface ConfusionCounts {
  /** Classes 0..numClasses-1 (default: the largest class seen + 1). */
  numClasses: number;
  /** The true class of each cell. */
  truth: Int32Array;
  /** The predicted class of each cell. */
  pred: Int32Array;
  /** How many rows fall in each cell. */
  count: Int32Array;
}

/**
 * The confusion matrix as its non-zero cells, sorted by true class then predicted class: at most one
 * cell per row scored, whatever the number of classes (confusionMatrix is dense and stops at
 * MAX_CONFUSION_CLASSES). Inputs as confusionMatrix.
 */
export function confusionCounts(pred: MetricInput, labels: MetricInput, numClasses?: number, options?: ClassOptions): ConfusionCounts {
  const op = 'confusionCounts';
  const k = checkNumClasses(numClasses, op);
  const o = checkOpts(options, ['threshold'], op);
  const { p, t } = classPair(pred, labels, op, o.threshold);
  const classes = countClasses(p, t, k, op);
  // Sort the rows by (truth, pred) and count runs: no k-sized structure at all.
  const order = Uint32Array.from({ length: p.length }, (_, i) => i).sort((a, b) => t[a] - t[b] || p[a] - p[b]);
  const truth: number[] = [], predicted: number[] = [], count: number[] = [];
  for (let i = 0; i < order.length; ) {
    const a = order[i];
    let j = i + 1;
    while (j < order.length && t[order[j]] === t[a] && p[order[j]] === p[a]) j++;
    truth.push(t[a]);
    predicted.push(p[a]);
    count.push(j - i);
    i = j;
  }
  return { numClasses: classes, truth: Int32Array.from(truth), pred: Int32Array.from(predicted), count: Int32Array.from(count) };
}

/** How per-class scores are averaged, as scikit-learn's `average`. */
export type Average = 'macro' | 'micro' | 'weighted' | 'binary';

/** The options of precision, recall and f1. */
export interface PRFOptions extends ClassOptions {
  /**
   * 'macro' (default): the unweighted mean over classes; 'weighted': weighted by each class's support;
   * 'micro': from the total counts (equals accuracy when every row has one label); 'binary': the score
   * of the class `positive` only (scikit-learn's default for binary tasks).
   */
  average?: Average;
  /** The classes to average over. Default: those in labels or pred (as scikit-learn). */
  labels?: number[];
  /** The value of a 0/0 score (a class never predicted, or never present). Default 0, as scikit-learn. */
  zeroDivision?: 0 | 1;
  /** The class scored by average: 'binary' (default 1). */
  positive?: number;
}

interface Counts {
  classes: number[];
  tp: number[];
  fp: number[];
  fn: number[];
  support: number[];
}

/**
 * class → its position in `classes` (-1: not scored). Classes are non-negative integers, nearly always
 * indices 0..k-1: an array lookup then, a Map only for labels far larger than the rows (a million
 * rows are scored three or four times over for one report).
 */
function classPositions(classes: readonly number[], rows: number): (c: number) => number {
  let max = -1;
  for (const c of classes) if (c > max) max = c;
  if (max <= 4 * (rows + classes.length) + 1024) {
    const pos = new Int32Array(max + 1).fill(-1);
    classes.forEach((c, i) => (pos[c] = i));
    return (c) => (c <= max ? pos[c] : -1);
  }
  const idx = new Map(classes.map((c, i) => [c, i]));
  return (c) => idx.get(c) ?? -1;
}

/** The classes in t or p, ascending. */
function presentClasses(p: Int32Array, t: Int32Array): number[] {
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, p[i], t[i]);
  if (max > 4 * p.length + 1024) return [...new Set<number>([...t, ...p])].sort((a, b) => a - b);
  const seen = new Uint8Array(max + 1);
  for (let i = 0; i < p.length; i++) seen[p[i]] = seen[t[i]] = 1;
  const out: number[] = [];
  for (let c = 0; c <= max; c++) if (seen[c]) out.push(c);
  return out;
}

function counts(p: Int32Array, t: Int32Array, classes: number[]): Counts {
  const idx = classPositions(classes, p.length);
  const z = () => new Array<number>(classes.length).fill(0);
  const tp = z(), fp = z(), fn = z(), support = z();
  for (let i = 0; i < p.length; i++) {
    const a = idx(t[i]), b = idx(p[i]);
    if (a >= 0) support[a]++;
    if (t[i] === p[i]) {
      if (a >= 0) tp[a]++;
    } else {
      if (b >= 0) fp[b]++;
      if (a >= 0) fn[a]++;
    }
  }
  return { classes, tp, fp, fn, support };
}

const ratio = (a: number, b: number, zero: number) => (b === 0 ? zero : a / b);

function prf(pred: unknown, labels: unknown, options: unknown, op: string, which: 'precision' | 'recall' | 'f1'): number {
  const o = checkOpts(options, ['average', 'labels', 'zeroDivision', 'positive', 'threshold'], op);
  const average: Average = o.average ?? 'macro';
  if (!['macro', 'micro', 'weighted', 'binary'].includes(average))
    throw new RangeError(`${op}: average must be 'macro', 'micro', 'weighted' or 'binary', got ${JSON.stringify(average)}.`);
  const zero = o.zeroDivision ?? 0;
  if (zero !== 0 && zero !== 1) throw new RangeError(`${op}: zeroDivision must be 0 or 1.`);
  const { p, t } = classPair(pred, labels, op, o.threshold);
  let classes: number[];
  if (average === 'binary') {
    const pos = o.positive ?? 1;
    if (!Number.isInteger(pos) || pos < 0) throw new TypeError(`${op}: positive must be a class index, got ${String(pos)}.`);
    classes = [pos];
  } else if (o.labels !== undefined) {
    if (!Array.isArray(o.labels) || o.labels.length === 0 || !o.labels.every((c: unknown) => Number.isInteger(c) && (c as number) >= 0))
      throw new TypeError(`${op}: labels must be a non-empty array of class indices.`);
    classes = [...new Set<number>(o.labels)];
  } else {
    classes = presentClasses(p, t);
  }
  const c = counts(p, t, classes);
  const score = (tp: number, fp: number, fn: number) =>
    which === 'precision' ? ratio(tp, tp + fp, zero) : which === 'recall' ? ratio(tp, tp + fn, zero) : ratio(2 * tp, 2 * tp + fp + fn, zero);
  if (average === 'micro') {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    return score(sum(c.tp), sum(c.fp), sum(c.fn));
  }
  const per = classes.map((_, i) => score(c.tp[i], c.fp[i], c.fn[i]));
  if (average === 'binary') return per[0];
  if (average === 'weighted') {
    const total = c.support.reduce((x, y) => x + y, 0);
    if (total === 0) return zero;
    return per.reduce((s, v, i) => s + v * c.support[i], 0) / total;
  }
  return per.reduce((s, v) => s + v, 0) / per.length;
}

/** Precision tp / (tp + fp), averaged over classes (macro by default; see PRFOptions). */
export function precision(pred: MetricInput, labels: MetricInput, options?: PRFOptions): number {
  return prf(pred, labels, options, 'precision', 'precision');
}

/** Recall tp / (tp + fn), averaged over classes (macro by default; see PRFOptions). */
export function recall(pred: MetricInput, labels: MetricInput, options?: PRFOptions): number {
  return prf(pred, labels, options, 'recall', 'recall');
}

/** F1 = 2tp / (2tp + fp + fn) (the harmonic mean of precision and recall) per class, averaged (macro by default). */
export function f1(pred: MetricInput, labels: MetricInput, options?: PRFOptions): number {
  return prf(pred, labels, options, 'f1', 'f1');
}

/** Precision, recall and F1 of one class or one average. */
export interface ClassScores {
  /** Of the rows predicted as the class, the share that are it. */
  precision: number;
  /** Of the rows of the class, the share predicted as it. */
  recall: number;
  /** The harmonic mean of precision and recall. */
  f1: number;
  /** Rows of this class in labels (for averages: all rows). */
  support: number;
}

/** What classificationReport returns: per-class and averaged scores, the confusion matrix, and the text table. */
export interface ClassificationReport {
  /** One entry per class 0..k-1. */
  classes: (ClassScores & { name: string })[];
  /** The share of rows predicted right. */
  accuracy: number;
  /** The unweighted mean over the classes. */
  macro: ClassScores;
  /** The mean over the classes weighted by their support. */
  weighted: ClassScores;
  /**
   * The confusion matrix (rows = truth), or null past MAX_CONFUSION_CLASSES classes, where a dense
   * matrix would not fit in memory (the text then says so; confusionCounts gives its non-zero cells).
   */
  confusion: number[][] | null;
  /** The table as scikit-learn's classification_report prints it. */
  text: string;
}

/** The options of classificationReport. */
export interface ReportOptions extends ClassOptions {
  /**
   * Names of classes 0..k-1 (e.g. dataset.classes); their count sets k. null (a regression Dataset's
   * classes) is the same as leaving it out: the classes are named 0..k-1.
   */
  classNames?: readonly string[] | null;
  /** The number of classes when classNames is not given (default: the largest class seen + 1). */
  numClasses?: number;
  /** Decimals in text (default 2). */
  digits?: number;
}

/**
 * Per-class precision, recall, F1 and support, with accuracy and the macro and weighted averages over
 * all k classes (as scikit-learn's classification_report with labels = 0..k-1), the confusion matrix
 * (up to MAX_CONFUSION_CLASSES classes; null beyond), and the same as a text table.
 */
export function classificationReport(pred: MetricInput, labels: MetricInput, options?: ReportOptions): ClassificationReport {
  const op = 'classificationReport';
  const o = checkOpts(options, ['classNames', 'numClasses', 'digits', 'threshold'], op);
  const digits = o.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new RangeError(`${op}: digits must be an integer in 0..15.`);
  let names: readonly string[] | undefined = o.classNames ?? undefined;
  if (names !== undefined && (!Array.isArray(names) || !names.every((s) => typeof s === 'string')))
    throw new TypeError(`${op}: classNames must be an array of strings.`);
  const { p, t } = classPair(pred, labels, op, o.threshold);
  const k = countClasses(p, t, names ? names.length : checkNumClasses(o.numClasses, op), op);
  if (names && o.numClasses !== undefined && o.numClasses !== names.length)
    throw new RangeError(`${op}: numClasses is ${o.numClasses} but classNames has ${plural(names.length, 'name')}.`);
  names ??= Array.from({ length: k }, (_, i) => String(i));
  const c = counts(p, t, Array.from({ length: k }, (_, i) => i));
  const classes = names.map((name, i) => ({
    name,
    precision: ratio(c.tp[i], c.tp[i] + c.fp[i], 0),
    recall: ratio(c.tp[i], c.tp[i] + c.fn[i], 0),
    f1: ratio(2 * c.tp[i], 2 * c.tp[i] + c.fp[i] + c.fn[i], 0),
    support: c.support[i],
  }));
  const n = p.length;
  const avg = (w: (i: number) => number, total: number): ClassScores => {
    const m = (key: 'precision' | 'recall' | 'f1') => (total === 0 ? 0 : classes.reduce((s, r, i) => s + r[key] * w(i), 0) / total);
    return { precision: m('precision'), recall: m('recall'), f1: m('f1'), support: n };
  };
  const acc = c.tp.reduce((a, b) => a + b, 0) / n;
  const macro = avg(() => 1, k);
  const weighted = avg((i) => c.support[i], n);

  // scikit-learn's layout: names right-aligned to the widest, then 9-wide columns.
  const width = names.reduce((w, s) => Math.max(w, s.length), Math.max('weighted avg'.length, digits));
  const pad = (s: string, w: number) => s.padStart(w);
  const fx = (v: number) => pad(fixed(v, digits), 9);
  const row = (label: string, r: ClassScores) => `${pad(label, width)}  ${fx(r.precision)} ${fx(r.recall)} ${fx(r.f1)} ${pad(String(r.support), 9)}\n`;
  let text = `${pad('', width)}  ${['precision', 'recall', 'f1-score', 'support'].map((h) => pad(h, 9)).join(' ')}\n\n`;
  classes.forEach((r) => (text += row(r.name, r)));
  text += `\n${pad('accuracy', width)}  ${pad('', 9)} ${pad('', 9)} ${fx(acc)} ${pad(String(n), 9)}\n`;
  text += row('macro avg', macro) + row('weighted avg', weighted);
  let confusion: number[][] | null = null;
  if (k <= MAX_CONFUSION_CLASSES) confusion = matrix(p, t, k);
  else text += `\nconfusion matrix skipped: ${tooManyClasses(k)}; confusionCounts() gives its non-zero cells.\n`;
  return { classes, accuracy: acc, macro, weighted, confusion, text };
}

/**
 * v with `digits` decimals as Python's format(v, '.Nf'): the exact binary value rounded, with exact
 * ties going to the even digit (toFixed sends them up: 0.5625 → '0.563' where Python prints '0.562').
 */
function fixed(v: number, digits: number): string {
  const plain = v.toFixed(digits);
  if (!Number.isFinite(v)) return plain;
  // A tie is exactly …5000… after the last kept digit; a double that is not a tie differs from one
  // within its 17 significant digits, well inside 25 extra decimals for |v| ≤ 1e8.
  const exact = Math.abs(v).toFixed(Math.min(100, digits + 25));
  const dot = exact.indexOf('.');
  if (!/^50*$/.test(exact.slice(dot + 1 + digits))) return plain;
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const last = +kept[kept.length - 1];
  if (last % 2 === 0) return (v < 0 ? '-' : '') + kept; // round down to the even digit
  return plain;
}

/** The options of logLoss. */
export interface LogLossOptions {
  /** Probabilities are clipped to [eps, 1 − eps]. 'auto' (default): float32 epsilon (2⁻²³) for Tensors and Float32Arrays, else float64's, as scikit-learn's eps='auto'. */
  eps?: number | 'auto';
}

/**
 * The mean cross-entropy −Σ log p(true class) / n, as sklearn.metrics.log_loss. probs are
 * probabilities, not logits: [n, k] rows summing to 1 (a row off by more than 1e-3 is an error), or
 * for a binary task one column [n] / [n, 1] holding P(class 1). labels: class indices [n] or target
 * rows [n, k] (one-hot or soft).
 */
export function logLoss(probs: MetricInput, labels: MetricInput, options?: LogLossOptions): number {
  const op = 'logLoss';
  const o = checkOpts(options, ['eps'], op);
  const P = toMat(probs, op, 'probs');
  checkNaN(P, op, 'probs');
  let eps: number;
  if (o.eps === undefined || o.eps === 'auto') eps = P.f32 ? 2 ** -23 : Number.EPSILON;
  else if (typeof o.eps === 'number' && o.eps >= 0 && o.eps < 0.5) eps = o.eps;
  else throw new RangeError(`${op}: eps must be 'auto' or a number in [0, 0.5), got ${String(o.eps)}.`);
  const L = toMat(labels, op, 'labels');
  checkNaN(L, op, 'labels');
  const n = sameRows(P, L, op);
  for (let i = 0; i < P.v.length; i++)
    if (P.v[i] < 0 || P.v[i] > 1)
      throw new RangeError(`${op}: probs has ${P.v[i]} at row ${Math.floor(i / P.cols)}, outside [0, 1]; pass probabilities (softmax or sigmoid of the logits), not logits.`);
  const clip = (v: number) => Math.min(Math.max(v, eps), 1 - eps);
  let total = 0;
  if (P.cols === 1) {
    if (L.cols !== 1) throw new RangeError(`${op}: probs is one column (P(class 1)) but labels have ${L.cols} columns; give 0/1 labels [n].`);
    for (let i = 0; i < n; i++) {
      const y = L.v[i];
      if (y !== 0 && y !== 1) throw new RangeError(`${op}: label ${y} at row ${i} is not 0 or 1; a single probability column needs binary labels.`);
      total -= Math.log(clip(y ? P.v[i] : 1 - P.v[i]));
    }
    return total / n;
  }
  const k = P.cols;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += P.v[i * k + j];
    if (Math.abs(s - 1) > 1e-3)
      throw new RangeError(`${op}: the probabilities of row ${i} sum to ${s}, not 1; pass probabilities (softmax of the logits), not logits.`);
  }
  if (L.cols === 1) {
    for (let i = 0; i < n; i++) {
      const c = L.v[i];
      if (!Number.isInteger(c) || c < 0 || c >= k) throw new RangeError(`${op}: label ${c} at row ${i} is not a class index in 0..${k - 1}.`);
      total -= Math.log(clip(P.v[i * k + c]));
    }
  } else {
    if (L.cols !== k) throw new RangeError(`${op}: probs have ${k} columns but labels have ${L.cols}.`);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) if (L.v[i * k + j]) total -= L.v[i * k + j] * Math.log(clip(P.v[i * k + j]));
  }
  return total / n;
}

// ---- regression ----

function regPair(pred: unknown, target: unknown, op: string) {
  const P = toMat(pred, op, 'pred'), T = toMat(target, op, 'target');
  checkNaN(P, op, 'pred');
  checkNaN(T, op, 'target');
  // [n] and [n, 1] are the same thing here.
  if (P.rows !== T.rows || P.cols !== T.cols)
    throw new RangeError(`${op}: pred is [${P.rows}${P.matrix ? `, ${P.cols}` : ''}] but target is [${T.rows}${T.matrix ? `, ${T.cols}` : ''}]; they must match.`);
  if (P.rows === 0) throw new RangeError(`${op}: no rows to score.`);
  return { P, T, n: P.rows, k: P.cols };
}

/** Mean squared error over all values (for [n, k], the mean over outputs too, as scikit-learn's default). */
export function mse(pred: MetricInput, target: MetricInput): number {
  const { P, T } = regPair(pred, target, 'mse');
  let s = 0;
  for (let i = 0; i < P.v.length; i++) {
    const d = P.v[i] - T.v[i];
    s += d * d;
  }
  return s / P.v.length;
}

/** Mean absolute error over all values. */
export function mae(pred: MetricInput, target: MetricInput): number {
  const { P, T } = regPair(pred, target, 'mae');
  let s = 0;
  for (let i = 0; i < P.v.length; i++) s += Math.abs(P.v[i] - T.v[i]);
  return s / P.v.length;
}

/** The options of r2. */
export interface R2Options {
  /** For [n, k]: 'uniform' (default) averages the R² of the outputs; 'varianceWeighted' weights them by the target's variance. */
  multioutput?: 'uniform' | 'varianceWeighted';
}

/**
 * The coefficient of determination 1 − Σ(target − pred)² / Σ(target − mean(target))², as
 * sklearn.metrics.r2_score. Note the order: r2(pred, target). A constant target scores 1 when
 * predicted exactly, else 0 (scikit-learn's force_finite).
 */
export function r2(pred: MetricInput, target: MetricInput, options?: R2Options): number {
  const op = 'r2';
  const o = checkOpts(options, ['multioutput'], op);
  const mode = o.multioutput ?? 'uniform';
  if (mode !== 'uniform' && mode !== 'varianceWeighted') throw new RangeError(`${op}: multioutput must be 'uniform' or 'varianceWeighted'.`);
  const { P, T, n, k } = regPair(pred, target, op);
  const scores: number[] = [], tots: number[] = [], ress: number[] = [];
  for (let j = 0; j < k; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += T.v[i * k + j];
    mean /= n;
    let res = 0, tot = 0;
    for (let i = 0; i < n; i++) {
      const t = T.v[i * k + j], d = t - P.v[i * k + j], e = t - mean;
      res += d * d;
      tot += e * e;
    }
    scores.push(tot === 0 ? (res === 0 ? 1 : 0) : 1 - res / tot);
    tots.push(tot);
    ress.push(res);
  }
  if (mode === 'uniform' || k === 1) return scores.reduce((a, b) => a + b, 0) / k;
  const totAll = tots.reduce((a, b) => a + b, 0);
  if (totAll === 0) return ress.every((r) => r === 0) ? 1 : 0;
  return scores.reduce((s, v, j) => s + v * tots[j], 0) / totAll;
}
