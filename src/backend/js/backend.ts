import { checkCode, LabelMode, Reduce } from '../../core/optable.js';
import type { Backend, BackendStats, GemmArgs, QGemmArgs, Strides } from '../../core/backend.js';
import { BINARY_REF_BY_CODE, dropoutKeep, hash32, normalAt, UNARY_REF_BY_CODE } from '../math.js';
import { optimStepRef } from './optim.js';
import { qgemmRef, qquantizeRef } from './qgemm.js';

type H = Float32Array;

/**
 * The plain TypeScript backend: the oracle every other backend is tested against, and the last
 * fallback. It computes every element in float64 and rounds once when storing, so it is as accurate as
 * float32 output allows; it is written for clarity, not speed.
 */
export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly canReadSync = true;
  private allocated = 0;

  /**
   * `Float64Array` storage turns this into a float64 evaluator of the whole op library; the gradient
   * checks use it for central differences. Users always get float32.
   */
  constructor(private readonly Arr: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {}

  alloc(size: number): H {
    this.allocated += size * this.Arr.BYTES_PER_ELEMENT;
    return new this.Arr(size) as H;
  }
  free(h: unknown): void {
    this.allocated -= (h as H).length * this.Arr.BYTES_PER_ELEMENT;
  }
  write(h: unknown, data: Float32Array, offset = 0): void {
    (h as H).set(data, offset);
  }
  readSync(h: unknown, size: number): Float32Array {
    return (h as H).slice(0, size);
  }
  read(h: unknown, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(h, size));
  }

  gemm(g: GemmArgs): void {
    const { m, n, k, transA, transB, alpha, act, beta } = g;
    checkCode('activation', act);
    const f = UNARY_REF_BY_CODE[act].f;
    const a = g.a as H, b = g.b as H, c = g.c as H, bias = g.bias as H | null;
    const row = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        if (transB) for (let j = 0; j < n; j++) row[j] += av * b[j * k + p];
        else for (let j = 0, o = p * n; j < n; j++) row[j] += av * b[o + j];
      }
      for (let j = 0; j < n; j++) {
        let v = row[j];
        if (bias) v += bias[j];
        if (beta) v += c[i * n + j];
        c[i * n + j] = f(v, alpha);
      }
    }
  }

  unary(op: number, n: number, x: unknown, y: unknown, alpha: number): void {
    checkCode('unary', op);
    const f = UNARY_REF_BY_CODE[op].f;
    const xs = x as H, ys = y as H;
    for (let i = 0; i < n; i++) ys[i] = f(xs[i], alpha);
  }

  unaryGrad(op: number, n: number, x: unknown, y: unknown, dy: unknown, dx: unknown, alpha: number): void {
    checkCode('unary', op);
    const d = UNARY_REF_BY_CODE[op].d;
    const xs = x as H, ys = y as H, dys = dy as H, dxs = dx as H;
    for (let i = 0; i < n; i++) dxs[i] = dys[i] * d(xs[i], ys[i], alpha);
  }

  binary(op: number, outer: number, rows: number, cols: number, a: unknown, as: Strides, b: unknown, bs: Strides, out: unknown): void {
    checkCode('binary', op);
    const f = BINARY_REF_BY_CODE[op];
    const av = a as H, bv = b as H, ov = out as H;
    let o = 0;
    for (let i = 0; i < outer; i++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++, o++)
          ov[o] = f(av[i * as.s0 + r * as.s1 + c * as.s2], bv[i * bs.s0 + r * bs.s1 + c * bs.s2]);
  }

  reduce(op: number, outer: number, n: number, inner: number, x: unknown, out: unknown): void {
    checkCode('reduce', op);
    const xs = x as H, os = out as H;
    const R = Reduce;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => xs[(o * n + j) * inner + i];
        let r: number;
        switch (op) {
          case R.sum: case R.mean: { r = 0; for (let j = 0; j < n; j++) r += at(j); if (op === R.mean) r /= n; break; }
          case R.sumSquares: { r = 0; for (let j = 0; j < n; j++) r += at(j) * at(j); break; }
          case R.max: case R.min: {
            r = at(0);
            for (let j = 1; j < n && !Number.isNaN(r); j++) { const v = at(j); if (Number.isNaN(v) || (op === R.max ? v > r : v < r)) r = v; }
            break;
          }
          case R.argmax: case R.argmin: {
            let best = at(0), idx = 0;
            for (let j = 1; j < n && !Number.isNaN(best); j++) {
              const v = at(j);
              if (Number.isNaN(v) || (op === R.argmax ? v > best : v < best)) { best = v; idx = j; }
            }
            r = idx;
            break;
          }
          default: throw new Error(`simdnn internal error: the js backend lacks the reduce op ${op} of the op table`);
        }
        os[o * inner + i] = r;
      }
  }

  softmax(rows: number, cols: number, x: unknown, y: unknown, log: boolean): void {
    const xs = x as H, ys = y as H;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const lse = logSumExp(xs, o, cols);
      for (let c = 0; c < cols; c++) ys[o + c] = log ? xs[o + c] - lse : Math.exp(xs[o + c] - lse);
    }
  }

  softmaxXent(rows: number, cols: number, logits: unknown, labels: unknown, mode: number, probs: unknown, loss: unknown): void {
    checkCode('label mode', mode);
    const z = logits as H, t = labels as H, p = probs as H, l = loss as H;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const lse = logSumExp(z, o, cols);
      let v = 0;
      if (mode === LabelMode.index) {
        const k = t[r];
        v = Number.isInteger(k) && k >= 0 && k < cols ? lse - z[o + k] : NaN;
      } else {
        for (let c = 0; c < cols; c++) if (t[o + c] !== 0) v += t[o + c] * (lse - z[o + c]);
      }
      for (let c = 0; c < cols; c++) p[o + c] = Math.exp(z[o + c] - lse);
      l[r] = v;
    }
  }

  softmaxXentGrad(rows: number, cols: number, probs: unknown, labels: unknown, mode: number, dy: unknown, dlogits: unknown): void {
    checkCode('label mode', mode);
    const p = probs as H, t = labels as H, g = dy as H, d = dlogits as H;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const k = t[r];
      const valid = mode !== LabelMode.index || (Number.isInteger(k) && k >= 0 && k < cols);
      for (let c = 0; c < cols; c++) {
        const target = mode === LabelMode.index ? (c === k ? 1 : 0) : t[o + c];
        d[o + c] = valid ? g[r] * (p[o + c] - target) : NaN;
      }
    }
  }

  transpose(rows: number, cols: number, x: unknown, y: unknown): void {
    const xs = x as H, ys = y as H;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) ys[c * rows + r] = xs[r * cols + c];
  }
  fill(n: number, y: unknown, value: number): void {
    (y as H).fill(value, 0, n);
  }
  copy(n: number, x: unknown, y: unknown): void {
    (y as H).set((x as H).subarray(0, n));
  }
  affine(n: number, x: unknown, y: unknown, alpha: number, beta: number): void {
    const xs = x as H, ys = y as H;
    for (let i = 0; i < n; i++) ys[i] = alpha * xs[i] + beta;
  }
  axpy(n: number, alpha: number, x: unknown, y: unknown): void {
    const xs = x as H, ys = y as H;
    for (let i = 0; i < n; i++) ys[i] += alpha * xs[i];
  }

  gatherRows(rows: number, cols: number, x: unknown, idx: unknown, y: unknown): void {
    const xs = x as H, is = idx as H, ys = y as H;
    for (let r = 0; r < rows; r++) ys.set(xs.subarray(is[r] * cols, is[r] * cols + cols), r * cols);
  }
  dropout(n: number, x: unknown, y: unknown, mask: unknown, keep: number, seed: number, offset: number): void {
    const xs = x as H, ys = y as H, ms = mask as H;
    const scale = keep > 0 ? 1 / Math.fround(keep) : 0;
    for (let i = 0; i < n; i++) {
      ms[i] = dropoutKeep(seed, offset, i, keep) ? scale : 0;
      ys[i] = xs[i] * ms[i];
    }
  }
  addNormal(n: number, y: unknown, std: number, seed: number, offset: number): void {
    const ys = y as H, key = hash32(seed >>> 0);
    for (let i = 0; i < n; i++) ys[i] += std * normalAt(key, (offset + i) >>> 0);
  }
  optimStep(kind: number, n: number, param: unknown, grad: unknown, s1: unknown, s2: unknown, hyper: readonly number[]): void {
    checkCode('optimizer', kind);
    optimStepRef(kind, n, param as H, grad as H, s1 as H | null, s2 as H | null, hyper);
  }

  /** The int8 oracle (./qgemm.ts): exact integer sums, float32 epilogue. */
  qgemm(g: QGemmArgs): void {
    qgemmRef(g);
  }
  qquantize(n: number, x: unknown, y: unknown, invScale: number, zero: number): void {
    qquantizeRef(n, x, y, invScale, zero);
  }

  stats(): BackendStats {
    return { allocatedBytes: this.allocated, reservedBytes: this.allocated };
  }
  dispose(): void {}
}

/** log Σ e^x over a row: m + log1p(Σ_{i≠argmax} e^(x−m)), accurate even for confident rows. */
function logSumExp(x: H, o: number, n: number): number {
  let m = -Infinity, at = -1;
  for (let i = 0; i < n; i++) {
    const v = x[o + i];
    if (v !== v || v === Infinity) return v !== v ? v : NaN; // NaN or +Inf in the row: the row is NaN
    if (v > m) { m = v; at = i; }
  }
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < n; i++) if (i !== at) s += Math.exp(x[o + i] - m);
  return m + Math.log1p(s);
}
