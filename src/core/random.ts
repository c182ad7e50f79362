// Seeded pseudo-random numbers for shuffling, splitting and weight initialisation.
//
// The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" generator from PractRand):
// 128 bits of state, 32-bit output, passes PractRand and BigCrush, and needs only 32-bit integer
// operations, which JS does exactly (`>>> 0` / `| 0` keep every intermediate a uint32/int32), so a
// seed gives the same integer stream in every engine. The seed is expanded into the state with
// splitmix32 so that nearby seeds (0, 1, 2, …) give unrelated streams. Normal deviates take log, sin and
// cos from libm.ts rather than Math, so they too are the same on every engine (and in the wasm kernel).
import { lnOneMinus, sinCos, sinOut } from './libm.js';

/** A seeded random stream. Not cryptographic. */
export interface Rng {
  /** The next raw 32-bit output, an integer in [0, 2³²). */
  nextUint32(): number;
  /** A float in [lo, hi) (default [0, 1)), with 32 random bits (a multiple of 2⁻³² before scaling). */
  uniform(lo?: number, hi?: number): number;
  /** A normal deviate with the given mean and standard deviation (default N(0, 1)), by Box–Muller. */
  normal(mean?: number, std?: number): number;
  /** An integer in [0, n), without modulo bias; n is an integer in [1, 2³²]. */
  int(n: number): number;
  /** Fills `out` with uniform values in [lo, hi) and returns it. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, lo?: number, hi?: number): T;
  /** Fills `out` with normal values (mean, std) and returns it; two values per Box–Muller draw. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean?: number, std?: number): T;
  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array;
  /** Shuffles an array or typed array in place (Fisher–Yates) and returns it. */
  shuffleInPlace<T extends { length: number; [i: number]: any }>(a: T): T;
}

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;
const TAU = 2 * Math.PI;

/**
 * A generator's whole state, as a kernel that continues the stream reads and writes it (assembly/random.ts,
 * f32_fill_normal): sfc32's words a, b, c, d (uint32) and the Box–Muller value kept for the next normal.
 */
export interface StreamState {
  a: number;
  b: number;
  c: number;
  d: number;
  spare: number;
  hasSpare: boolean;
}

const STREAM = Symbol('simdnn.rng.stream');

/**
 * Lends r's state to `fill` (which advances it, as fillNormal would) and takes the state back, so that
 * later draws continue the same stream. False when r is not one of rng()'s generators.
 */
export function continueStream(r: Rng, fill: (state: StreamState) => void): boolean {
  const own = (r as unknown as { [STREAM]?: (fill: (state: StreamState) => void) => void })[STREAM];
  if (typeof own !== 'function') return false;
  own(fill);
  return true;
}

export function checkSeed(seed: unknown, op: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER)
    throw new TypeError(`${op}: seed must be a non-negative integer (up to 2^53 - 1), got ${typeof seed === 'number' ? seed : typeof seed}.`);
  return seed;
}

/**
 * A seeded random stream (sfc32 seeded through splitmix32). The same seed gives the same sequence on
 * every platform, bit for bit: `normal` and `fillNormal` too, as they compute log, sin and cos in plain
 * float64 arithmetic (libm.ts) instead of Math's, whose last bit differs between engines and versions.
 *
 * @param seed a non-negative integer up to 2^53 - 1 (both 32-bit halves are used).
 */
export function rng(seed: number = 0): Rng {
  checkSeed(seed, 'rng');
  // splitmix32 (the 32-bit variant of Steele, Lea and Flood's SplitMix) to expand the seed.
  let s = (seed >>> 0) ^ Math.imul((seed / TWO32) >>> 0, 0x9e3779b9);
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = 1; // d is sfc32's counter
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next(); // let the state mix before the first output

  // Box–Muller yields two deviates per pair of uniforms; the second is kept for the next call.
  let spare = 0, hasSpare = false;
  const gauss = (): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    // r = √(−2 ln(1 − u)): 1 − u lies in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * lnOneMinus(next()));
    const cs = sinCos(TAU * next() * INV32);
    spare = r * sinOut[0];
    hasSpare = true;
    return r * cs;
  };

  const int = (n: number): number => {
    if (!(n >= 1 && n <= TWO32 && Number.isInteger(n))) throw new RangeError(`rng.int: n must be an integer in 1..2^32, got ${n}.`);
    // Rejection keeps every residue equally likely: draws at or above the largest multiple of n
    // below 2³² would favour the small residues.
    const limit = TWO32 - (TWO32 % n);
    let x = next();
    while (x >= limit) x = next();
    return x % n;
  };

  const fisherYates = <T extends { length: number; [i: number]: any }>(arr: T): T => {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  };

  return {
    nextUint32: next,
    uniform: (lo = 0, hi = 1) => lo + (hi - lo) * (next() * INV32),
    normal: (mean = 0, std = 1) => mean + std * gauss(),
    int,
    fillUniform(out, lo = 0, hi = 1) {
      // next() inlined over local copies of the state, as in fillNormal: a layer's glorot weights are
      // drawn at start-up in the interpreter, where a closure call per value cost ~0.4 µs (1–3 ms for a
      // 256×10 layer, measured cold in Node 20).
      const w = hi - lo, n = out.length;
      let a0 = a, b0 = b, c0 = c, d0 = d;
      for (let i = 0; i < n; i++) {
        const t = (((a0 + b0) | 0) + d0) | 0;
        d0 = (d0 + 1) | 0;
        a0 = b0 ^ (b0 >>> 9);
        b0 = (c0 + (c0 << 3)) | 0;
        c0 = (c0 << 21) | (c0 >>> 11);
        c0 = (c0 + t) | 0;
        out[i] = lo + w * ((t >>> 0) * INV32);
      }
      a = a0;
      b = b0;
      c = c0;
      d = d0;
      return out;
    },
    fillNormal(out, mean = 0, std = 1) {
      // The same stream as calling normal() out.length times, written as one flat loop over local
      // copies of the state: weight initialisation fills ~10⁶ values at start-up, before the JIT
      // has warmed up, and the closure calls per value cost several times the arithmetic.
      const n = out.length;
      let i = 0;
      if (n > 0 && hasSpare) {
        hasSpare = false;
        out[i++] = mean + std * spare;
      }
      if (i >= n) return out; // nothing left to draw: a spare not used stays pending
      const odd = ((n - i) & 1) === 1; // compared before the loop: after it, without feedback, it would deoptimise
      let a0 = a, b0 = b, c0 = c, d0 = d, last = 0;
      // Each step draws a pair and writes both values. With an odd count the last pair's second value
      // is written into the last slot first and then overwritten by its first, and becomes the spare:
      // the tail has no branch of its own, which the JIT would compile without type feedback (it is
      // reached only at the end) and leave by deoptimising.
      for (; i < n; i += 2) {
        let t = (((a0 + b0) | 0) + d0) | 0;
        d0 = (d0 + 1) | 0;
        a0 = b0 ^ (b0 >>> 9);
        b0 = (c0 + (c0 << 3)) | 0;
        c0 = (c0 << 21) | (c0 >>> 11);
        c0 = (c0 + t) | 0;
        const t1 = t >>> 0;
        t = (((a0 + b0) | 0) + d0) | 0;
        d0 = (d0 + 1) | 0;
        a0 = b0 ^ (b0 >>> 9);
        b0 = (c0 + (c0 << 3)) | 0;
        c0 = (c0 << 21) | (c0 >>> 11);
        c0 = (c0 + t) | 0;
        const r = Math.sqrt(-2 * lnOneMinus(t1));
        const cs = sinCos(TAU * (t >>> 0) * INV32);
        last = r * sinOut[0];
        out[Math.min(i + 1, n - 1)] = mean + std * last;
        out[i] = mean + std * (r * cs);
      }
      a = a0;
      b = b0;
      c = c0;
      d = d0;
      spare = last; // read only while hasSpare
      hasSpare = odd; // an odd count keeps the spare, as normal() would
      return out;
    },
    permutation(n: number) {
      if (!Number.isInteger(n) || n < 0 || n >= TWO32) throw new RangeError(`rng.permutation: n must be a non-negative integer, got ${n}.`);
      const p = new Uint32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      return fisherYates(p);
    },
    shuffleInPlace: fisherYates,
    [STREAM](fill: (state: StreamState) => void) {
      const st: StreamState = { a: a >>> 0, b: b >>> 0, c: c >>> 0, d: d >>> 0, spare, hasSpare };
      fill(st);
      a = st.a | 0;
      b = st.b | 0;
      c = st.c | 0;
      d = st.d | 0;
      spare = st.spare;
      hasSpare = st.hasSpare;
    },
  } as Rng;
}

/**
 * A seeded random permutation of 0..n-1: the row order for one shuffle. The same (n, seed) gives the
 * same order everywhere.
 */
export function shuffle(n: number, seed: number = 0): Uint32Array {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= TWO32)
    throw new TypeError(`shuffle: n must be a non-negative integer (the number of rows), got ${typeof n === 'number' ? n : typeof n}.`);
  checkSeed(seed, 'shuffle');
  return rng(seed).permutation(n);
}
