// Train/validation/test splits (optionally stratified) and mini-batches. Rows are gathered on the
// active backend; every function returns new tensors and leaves its inputs alone.
import { fmtShape } from '../ops/util.js';
import { Tensor } from '../core/tensor.js';
import { release, toTensor, type TensorInput } from '../ops/creation.js';
import { checkSeed, rng, type Rng } from '../core/random.js';
import { apportion, groupByClass, MAX_ROWS } from '../core/stratify.js';
import { checkOptions, checkRowsMatch, checkTensor, gatherRows, readSync, rowShape } from './util.js';

/** The options of data.split. */
export interface SplitOptions {
  /** Fraction of the rows for the test set, in (0, 1) (default 0.2). */
  test?: number;
  /** Fraction of all rows for a validation set, in (0, 1); test + validation must stay below 1. */
  validation?: number;
  /**
   * Keep each class's share the same in every part (as scikit-learn's train_test_split(stratify=y)).
   * true stratifies by y, which must hold class indices ([n] integers, or one-hot [n, k]); an array or
   * Tensor of class indices stratifies by those instead. Default false; for classification, true is
   * what you usually want, and it needs at least one row of each class per part.
   */
  stratify?: boolean | Tensor | ArrayLike<number>;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Shuffle before splitting (default true). false keeps the row order: train first, then validation, then test. */
  shuffle?: boolean;
}

/** One part of a split: its rows of x and y. */
export interface Part {
  /** The part's features. */
  x: Tensor;
  /** The part's targets. */
  y: Tensor;
}

/** What data.split returns. */
export interface Split {
  /** The rows to train on. */
  train: Part;
  /** The rows held out for testing. */
  test: Part;
  /** The validation rows, when options.validation was given. */
  validation?: Part;
  /** The original row numbers of each part, in the order of its rows. */
  indices: { train: Uint32Array; test: Uint32Array; validation?: Uint32Array };
}

const SPLIT_KEYS = ['test', 'validation', 'stratify', 'seed', 'shuffle'] as const;

function checkRows(n: number, op: string): void {
  if (n > MAX_ROWS)
    throw new RangeError(`${op}: x has ${n} rows, more than the ${MAX_ROWS} (2^24) that ${op} can address (the backend indexes rows with float32); use parts of at most ${MAX_ROWS} rows.`);
}

function fraction(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !(v > 0 && v < 1))
    throw new RangeError(`${op}: ${name} must be a fraction in (0, 1), got ${typeof v === 'number' ? v : typeof v}; e.g. ${name}: 0.2 for 20% of the rows.`);
  return v;
}

/**
 * Splits rows of x and y into train, test and (optionally) validation parts, shuffled with a seed.
 * Sizes: test = ceil(test·n), validation = ceil(validation·n), train = the rest (as scikit-learn rounds
 * the test size up). The returned tensors are new: dispose them (and x, y when no longer needed).
 */
export function split(x: TensorInput, y: TensorInput, options?: SplitOptions): Split {
  const op = 'split';
  const X = toTensor(x, op, 'x');
  let Y: { t: Tensor; own: boolean } | null = null;
  try {
    Y = toTensor(y, op, 'y');
    return splitTensors(X.t, Y.t, options, op);
  } finally {
    release(X, ...(Y ? [Y] : []));
  }
}

function splitTensors(x: Tensor, y: Tensor, options: SplitOptions | undefined, op: string): Split {
  checkRowsMatch(x, y, op);
  const o = checkOptions(options, SPLIT_KEYS, op);
  const test = fraction(o.test ?? 0.2, op, 'test');
  const validation = o.validation === undefined ? 0 : fraction(o.validation, op, 'validation');
  if (test + validation >= 1)
    throw new RangeError(`${op}: test (${test}) + validation (${validation}) is ${test + validation}, which leaves no rows to train on; keep the sum below 1.`);
  const seed = checkSeed(o.seed ?? 0, op);
  const doShuffle = o.shuffle ?? true;
  if (typeof doShuffle !== 'boolean') throw new TypeError(`${op}: shuffle must be true or false, got ${typeof doShuffle}.`);

  const n = rowShape(x, op, 'x').rows;
  checkRows(n, op);
  const nTest = Math.ceil(test * n - 1e-9);
  const nVal = validation ? Math.ceil(validation * n - 1e-9) : 0;
  const nTrain = n - nTest - nVal;
  if (nTrain < 1 || nTest < 1 || (validation && nVal < 1))
    throw new RangeError(
      `${op}: ${n} row${n === 1 ? ' is' : 's are'} too few for this split (train ${nTrain}, ${validation ? `validation ${nVal}, ` : ''}test ${nTest}); every part needs at least one row.`,
    );

  const r = rng(seed);
  let parts: { train: Uint32Array; val: Uint32Array; test: Uint32Array };
  const strat = o.stratify ?? false;
  if (strat !== false) {
    if (!doShuffle) throw new RangeError(`${op}: stratify needs shuffle: true (a stratified split samples rows from each class).`);
    const labels = strat === true ? labelsOf(y, op, 'y') : labelsOf(strat, op, 'stratify');
    if (labels.length !== n) throw new RangeError(`${op}: stratify has ${labels.length} labels but x has ${n} rows.`);
    parts = stratified(labels, nTest, nVal, r, op);
  } else {
    const order = doShuffle ? r.permutation(n) : Uint32Array.from({ length: n }, (_, i) => i);
    parts = { train: order.subarray(0, nTrain), val: order.subarray(nTrain, nTrain + nVal), test: order.subarray(nTrain + nVal) };
  }

  const take = (idx: Uint32Array): Part => {
    const px = gatherRows(x, idx, op);
    try {
      return { x: px, y: gatherRows(y, idx, op) };
    } catch (e) {
      px.dispose();
      throw e;
    }
  };
  const out: Split = { train: take(parts.train), test: take(parts.test), indices: { train: parts.train.slice(), test: parts.test.slice() } };
  if (nVal) {
    out.validation = take(parts.val);
    out.indices.validation = parts.val.slice();
  }
  return out;
}

/** Class indices from y: [n] integers, [n, 1], or one-hot [n, k] (argmax per row). */
function labelsOf(v: unknown, op: string, name: string): Int32Array {
  let values: ArrayLike<number>, rows: number, k = 1;
  if (v instanceof Tensor) {
    checkTensor(v, op, name);
    if (v.rank === 2) k = v.shape[1];
    else if (v.rank !== 1) throw new RangeError(`${op}: to stratify, ${name} must hold class indices [n] or one-hot rows [n, k], got ${fmtShape(v.shape)}.`);
    rows = v.shape[0];
    values = readSync(v, op);
  } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    values = v as ArrayLike<number>;
    rows = values.length;
  } else {
    throw new TypeError(`${op}: stratify must be true, false, or the class labels (an array or Tensor), got ${v === null ? 'null' : typeof v}.`);
  }
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (k > 1) {
      let best = 0;
      for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
      out[i] = best;
      continue;
    }
    const c = values[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 0x7fffffff)
      throw new RangeError(
        `${op}: cannot stratify by ${name}: value ${c} at row ${i} is not a class index (a non-negative integer); ` +
          `stratify is for classification. For regression targets use stratify: false.`,
      );
    out[i] = c;
  }
  return out;
}

/**
 * Splits per class: each class's rows are shuffled, then dealt to test, validation and train in
 * proportion, with the part sizes fixed overall. The counts per class come from largest-remainder
 * rounding over the classes (stratify.ts, shared with fit's validationSplit), capped so that every
 * class keeps a row in train (and, with a validation part, one in validation).
 */
function stratified(labels: Int32Array, nTest: number, nVal: number, r: Rng, op: string) {
  const n = labels.length;
  const { classes, rows, start } = groupByClass(labels, n);
  const counts = classes.map((_, i) => start[i + 1] - start[i]);
  const partsNeeded = nVal ? 3 : 2;
  for (let i = 0; i < classes.length; i++)
    if (counts[i] < partsNeeded)
      throw new RangeError(
        `${op}: class ${classes[i]} has only ${counts[i]} row${counts[i] === 1 ? '' : 's'}; a stratified split into ${partsNeeded} parts needs at least ` +
          `${partsNeeded} rows of every class. Drop or merge the rare class, or use stratify: false.`,
      );
  // Test first (at most count − (parts − 1) each), then validation from what is left.
  const tCaps = counts.map((c) => c - (partsNeeded - 1));
  const tCounts = apportion(counts, nTest, tCaps, r);
  if (!tCounts) throw tooFew(op, 'test', nTest, `the ${n} rows`, tCaps, nVal ? 'a row for train and one for validation' : 'a row for train', classes.length);
  let vCounts = counts.map(() => 0);
  if (nVal) {
    const vCaps = counts.map((c, i) => c - tCounts[i] - 1);
    const v = apportion(counts, nVal, vCaps, r);
    if (!v) throw tooFew(op, 'validation', nVal, `the ${n - nTest} rows outside the test part`, vCaps, 'a row for train', classes.length);
    vCounts = v;
  }
  const train = new Uint32Array(n - nTest - nVal), val = new Uint32Array(nVal), test = new Uint32Array(nTest);
  let nt = 0, nv = 0, ns = 0;
  for (let i = 0; i < classes.length; i++) {
    const own = r.shuffleInPlace(rows.subarray(start[i], start[i + 1]));
    const t = tCounts[i], v = vCounts[i];
    for (let j = 0; j < own.length; j++) {
      if (j < t) test[ns++] = own[j];
      else if (j < t + v) val[nv++] = own[j];
      else train[nt++] = own[j];
    }
  }
  // Interleave the classes within each part.
  return { train: r.shuffleInPlace(train), val: r.shuffleInPlace(val), test: r.shuffleInPlace(test) };
}

/** Why a stratified part cannot have `want` rows, and what to do. */
function tooFew(op: string, part: string, want: number, from: string, caps: number[], keeps: string, k: number): RangeError {
  let room = 0;
  for (const c of caps) room += Math.max(0, c);
  return new RangeError(
    `${op}: a stratified ${part} part of ${want} rows does not fit: each of the ${k} classes keeps ${keeps}, which leaves room for ${room} ` +
      `of ${from}. Use a smaller ${part} fraction, drop or merge the rare classes, or use stratify: false.`,
  );
}

/** The options of data.batches. */
export interface BatchOptions {
  /** Rows per batch, a positive integer. */
  batchSize: number;
  /** Shuffle the rows (default false). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Leave out a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** One mini-batch from data.batches. */
export interface Batch {
  /** The batch's rows of x. */
  x: Tensor;
  /** The batch's rows of y, or null when y was null. */
  y: Tensor | null;
  /** The row numbers of the batch in x. */
  indices: Uint32Array;
}

/** What data.batches returns: iterate it for the batches of one pass. */
export interface Batches extends Iterable<Batch> {
  /** The number of batches one pass yields. */
  readonly length: number;
}

/**
 * Mini-batches of the rows of x and y (y may be null). Each batch is created when the iteration reaches
 * it and belongs to the caller: dispose batch.x and batch.y after use (or run the loop body in tidy()).
 * Stopping early leaves nothing behind. Iterating again yields the same batches in the same order;
 * pass a new seed per epoch for a new shuffle.
 */
export function batches(xIn: TensorInput, yIn: TensorInput | null, options: BatchOptions): Batches {
  const op = 'batches';
  // Plain data becomes tensors for the check here and again for each pass (freed when the pass ends), so
  // an abandoned iterable holds no memory.
  const X = toTensor(xIn, op, 'x');
  const Y = yIn !== null && yIn !== undefined ? toTensor(yIn, op, 'y') : null;
  let x: Tensor, y: Tensor | null;
  try {
    x = X.t;
    y = Y?.t ?? null;
    if (y) checkRowsMatch(x, y, op);
  } finally {
    release(X, ...(Y ? [Y] : []));
  }
  if (options === undefined) throw new TypeError(`${op}: options with a batchSize are required, e.g. {batchSize: 32}.`);
  const o = checkOptions(options, ['batchSize', 'shuffle', 'seed', 'dropLast'], op);
  const bs = o.batchSize;
  if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1)
    throw new RangeError(`${op}: batchSize must be a positive integer, got ${typeof bs === 'number' ? bs : typeof bs}.`);
  const doShuffle = o.shuffle ?? false, dropLast = o.dropLast ?? false;
  if (typeof doShuffle !== 'boolean') throw new TypeError(`${op}: shuffle must be true or false.`);
  if (typeof dropLast !== 'boolean') throw new TypeError(`${op}: dropLast must be true or false.`);
  const seed = checkSeed(o.seed ?? 0, op);
  const n = rowShape(x, op, 'x').rows;
  checkRows(n, op);
  const count = dropLast ? Math.floor(n / bs) : Math.ceil(n / bs);
  return {
    length: count,
    *[Symbol.iterator]() {
      const PX = X.own ? toTensor(xIn, op, 'x') : X;
      const PY = Y && Y.own ? toTensor(yIn!, op, 'y') : Y;
      try {
        const px = PX.t, py = PY?.t ?? null;
        const order = doShuffle ? rng(seed).permutation(n) : Uint32Array.from({ length: n }, (_, i) => i);
        for (let b = 0; b < count; b++) {
          const idx = order.slice(b * bs, Math.min(n, (b + 1) * bs));
          const bx = gatherRows(px, idx, op);
          let by: Tensor | null = null;
          try {
            by = py ? gatherRows(py, idx, op) : null;
          } catch (e) {
            bx.dispose();
            throw e;
          }
          yield { x: bx, y: by, indices: idx };
        }
      } finally {
        if (PX !== X) release(PX);
        if (PY && PY !== Y) release(PY);
      }
    },
  };
}
