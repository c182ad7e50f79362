import type { Backend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js/backend.js';
import { WasmBackend } from '../src/backend/wasm/backend.js';
import { detectFeatures } from '../src/backend/features.js';
import type { BinaryName } from '../src/backend/wasm/binaries.js';

/** float32 machine epsilon (2^-23). */
export const EPS = 2 ** -23;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo = -1, hi = 1) => lo + (hi - lo) * next(),
    int: (n: number) => Math.floor(next() * n),
    array(n: number, lo = -1, hi = 1) {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * next();
      return x;
    },
  };
}

/** The sizes at SIMD tile edges the conformance suite walks through. */
export const EDGE_SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 127, 129];

export interface Candidate {
  name: string;
  make(): Promise<Backend>;
}

/**
 * Every backend to check against the js oracle. Later backends (threads, webgpu) add themselves here,
 * and the whole suite runs on them unchanged.
 */
export async function candidates(): Promise<Candidate[]> {
  const f = await detectFeatures([], true);
  const list: Candidate[] = [];
  const wasm = (binary: BinaryName): Candidate => ({ name: `wasm(${binary})`, make: () => WasmBackend.create({ binary }) });
  if (f.simd) list.push(wasm('simd'));
  if (f.relaxedSimd) list.push(wasm('relaxed'));
  if (f.simd && f.threads) list.push(wasm('simd-shared'));
  return list;
}

export const oracle = () => new JsBackend();

/** Uploads data to a backend, returning the handle. */
export function put(b: Backend, data: Float32Array | number[]): unknown {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  const h = b.alloc(arr.length);
  b.write(h, arr);
  return h;
}

export function ulp(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (!Number.isFinite(a)) return 0;
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * Compares got with want elementwise. tol(i) gives the allowed absolute error at i; NaN must match NaN and
 * infinities must match exactly. Returns a description of the first mismatches, or '' when they agree.
 */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, limit = 3): string {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < limit; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g) || !Number.isFinite(w) || !Number.isFinite(g)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w)) && !(g === w)) bad.push(`[${i}] got ${g}, want ${w}`);
      continue;
    }
    const t = tol(i);
    if (!(Math.abs(g - w) <= t)) bad.push(`[${i}] got ${g}, want ${w} (|diff| ${Math.abs(g - w).toExponential(2)} > tol ${t.toExponential(2)})`);
  }
  return bad.join('; ');
}
