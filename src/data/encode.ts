import { isShapedArray, release, tensor, toTensor, type TensorInput } from '../ops/creation.js';
import { fmtShape } from '../ops/util.js';
import { Tensor } from '../core/tensor.js';
import { checkTensor, readSync, sortLabels } from './util.js';

/** What data.labelEncode returns: class indices and the class names in index order. */
export interface LabelEncoding {
  /** The class index of each value, as floats (what the losses and metrics take). */
  indices: Float32Array;
  /** The class names in index order, sorted naturally (numeric labels numerically, others by code unit). */
  classes: string[];
}

/**
 * Maps labels to class indices 0..k-1. Classes are sorted naturally: when every label is a number
 * ('2', '10', '-1.5') numerically, otherwise by UTF-16 code units ('Apple' < 'apple' < 'banana').
 * Numbers are labelled by their string form (String(3) is '3').
 */
export function labelEncode(values: readonly (string | number)[]): LabelEncoding {
  const op = 'labelEncode';
  if (!Array.isArray(values)) throw new TypeError(`${op}: values must be an array of strings or numbers, got ${values === null ? 'null' : typeof values}.`);
  const strs = values.map((v, i) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw new TypeError(`${op}: value ${i} is ${typeof v === 'number' ? v : typeof v}; labels must be strings or finite numbers.`);
  });
  const classes = sortLabels(strs);
  const index = new Map(classes.map((c, i) => [c, i]));
  const indices = new Float32Array(strs.length);
  for (let i = 0; i < strs.length; i++) indices[i] = index.get(strs[i])!;
  return { indices, classes };
}

/**
 * One-hot rows [n, numClasses] from class indices (a Tensor [n] or [n, 1], or an array). Each label
 * must be an integer in 0..numClasses-1.
 */
export function oneHot(labels: TensorInput, numClasses: number): Tensor {
  const op = 'oneHot';
  let values: ArrayLike<number>;
  // {data, shape} and nested arrays ([[2], [0]]) by the one input rule; a flat array is read as it is.
  if (isShapedArray(labels) || (Array.isArray(labels) && Array.isArray(labels[0]))) {
    const L = toTensor(labels, op, 'labels');
    try {
      return oneHot(L.t, numClasses);
    } finally {
      release(L);
    }
  }
  if (labels instanceof Tensor) {
    checkTensor(labels, op, 'labels');
    if (!(labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1)))
      throw new RangeError(`${op}: labels must be class indices of shape [n] (or [n, 1]), got ${fmtShape(labels.shape)}.`);
    values = readSync(labels, op);
  } else if (Array.isArray(labels) || ArrayBuffer.isView(labels)) {
    values = labels as ArrayLike<number>;
  } else {
    throw new TypeError(`${op}: labels must be a Tensor or an array of class indices, got ${labels === null ? 'null' : typeof labels}.`);
  }
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1)
    throw new TypeError(`${op}: numClasses must be a positive integer, got ${String(numClasses)}.`);
  const n = values.length;
  const out = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= numClasses)
      throw new RangeError(`${op}: label ${String(v)} at row ${i} is not a class index in 0..${numClasses - 1}; labels must be integers below numClasses.`);
    out[i * numClasses + v] = 1;
  }
  return tensor(out, [n, numClasses]);
}
