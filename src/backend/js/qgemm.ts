// The int8 reference: the packed weight layout of assembly/qgemm.ts, and the js backend's qgemm and
// qquantize — the oracle the kernels are tested against bit for bit. Integer sums are exact here
// (JavaScript numbers hold them), and every float step is one float32 rounding (Math.fround), in the
// order the kernels take them (the contract: QGemmArgs in src/core/backend.ts).
import type { QGemmArgs } from '../../core/backend.js';
import { Unary } from '../../core/optable.js';

/** Column panel width of the packed weights. */
export const PANEL = 16;
/** Largest k whose int32 sums stay exact with |bias| ≤ 2^30 (65536·127² < 2^30). */
export const MAX_QK = 65536;
/** Largest |float bias / scale| kept as an int32 bias; beyond it the bias is clamped (it would swamp any product anyway). */
export const MAX_QBIAS = 2 ** 30;

/** x rounded up to a multiple of 4 (x < 2^31: the kernels' sizes are i32). */
export const roundUp4 = (x: number) => (x + 3) & ~3;

/** Bytes of packed weights for a k×n layer. */
export const packedBytes = (k: number, n: number) => roundUp4(k) * roundUp4(n);

/** Index of weight (p, j) in the packed bytes of a layer with k inputs and n outputs (see assembly/qgemm.ts). */
export function packedIndex(p: number, j: number, k: number, n: number): number {
  const kp = roundUp4(k);
  const j0 = j - (j % PANEL);
  const pw = Math.min(PANEL, roundUp4(n) - j0);
  return j0 * kp + (p >> 2) * pw * 4 + ((j - j0) >> 2) * 16 + (j & 3) * 4 + (p & 3);
}

/** int8 weights w [k, n] (row-major, [in, out]) in the packed layout, zero-padded. */
export function packWeights(w: Int8Array, k: number, n: number): Int8Array {
  const out = new Int8Array(packedBytes(k, n));
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[packedIndex(p, j, k, n)] = w[p * n + j];
  return out;
}

/** Round half to even, as f32x4.nearest: Math.round rounds halves up. */
export function nearestEven(t: number): number {
  const r = Math.round(t);
  return r - t === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The 'u7' rounding of the epilogue and of qquantize: a float32 value to a byte in [0, 127]. */
export function toU7(v: number, invScale: number, zero: number): number {
  const r = nearestEven(Math.fround(v * invScale));
  const q = (r !== r ? 0 : r) + zero; // NaN → 0, as i32x4.trunc_sat_f32x4_s
  return q < 0 ? 0 : q > 127 ? 127 : q;
}

/** A typed view of the bytes behind a js backend handle (a Float32Array). */
function view<T>(h: unknown, Ctor: new (b: ArrayBufferLike, off: number, len: number) => T, bytesPer: number): T {
  const f = h as Float32Array;
  if (!(f instanceof Float32Array)) throw new Error('simdnn internal error: int8 kernels need float32 storage (not the float64 evaluator)');
  return new Ctor(f.buffer, f.byteOffset, Math.floor(f.byteLength / bytesPer));
}

export function qgemmRef(g: QGemmArgs): void {
  const { m, n, k, lda, ldc } = g;
  if (m <= 0 || n <= 0) return;
  const a = view(g.a, Uint8Array, 1), b = view(g.b, Int8Array, 1);
  const scale = view(g.scale, Float32Array, 4), bias = view(g.bias, Int32Array, 4);
  const cf = g.out === 'f32' ? view(g.c, Float32Array, 4) : null;
  const cb = g.out === 'u7' ? view(g.c, Uint8Array, 1) : null;
  const alpha = Math.fround(g.alpha), outScale = Math.fround(g.outScale);
  const act = g.act;
  if (act !== Unary.identity && act !== Unary.relu && act !== Unary.leakyRelu) throw new Error(`simdnn internal error: qgemm fuses identity, relu or leakyRelu, not unary code ${act}`);
  const col = new Int8Array(k);
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < k; p++) col[p] = b[packedIndex(p, j, k, n)];
    for (let i = 0; i < m; i++) {
      let acc = 0;
      const ai = i * lda;
      for (let p = 0; p < k; p++) acc += a[ai + p] * col[p];
      let v = Math.fround(Math.fround(acc + bias[j]) * scale[j]);
      if (act === Unary.relu) v = v > 0 ? v : 0;
      else if (act === Unary.leakyRelu) v = v > 0 ? v : Math.fround(v * alpha);
      if (cf) cf[i * ldc + j] = v;
      else cb![i * ldc + j] = toU7(v, outScale, g.outZero);
    }
  }
}

export function qquantizeRef(n: number, x: unknown, y: unknown, invScale: number, zero: number): void {
  const xs = view(x, Float32Array, 4), ys = view(y, Uint8Array, 1);
  const s = Math.fround(invScale);
  for (let i = 0; i < n; i++) ys[i] = toU7(xs[i], s, zero);
}
