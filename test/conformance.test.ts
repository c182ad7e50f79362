// The conformance suite: every backend (wasm builds, wasm-threads at 1, 2 and 3 threads with tiny tiles,
// webgpu where an adapter exists, and the js oracle itself) against the js oracle, which computes in float64
// and rounds once. The tables it walks come from the op table (src/core/optable.ts): every unary op forward
// and backward, every activation fused into gemm, every binary op, reduction, label mode and optimizer kind,
// so an op a backend lacks fails here (the wasm kernels trap on it, the WGSL ones write NaN). Results are read
// with `await backend.read(...)`, so the asynchronous webgpu backend runs the very same tests. Sizes sit at
// SIMD tile edges (below one tile, exactly one, multiples, one over), calls run in place too, and every output
// is followed by guard values that catch writes past its end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/core/backend.js';
import { JsBackend } from '../src/backend/js/backend.js';
import { UNARY_REF } from '../src/backend/math.js';
import {
  BINARY, BINARY_NAMES, Binary, LABEL_MODE_NAMES, LabelMode, OPTIM_NAMES, Optim, REDUCE, REDUCE_NAMES, Reduce,
  TOLERANCE_ULP, UNARY, UNARY_NAMES, Unary, checkCode, isApproximation, type Accuracy, type OptimName, type UnaryDesc, type UnaryName,
} from '../src/core/optable.js';
import { continueStream, rng as seeded, type StreamState } from '../src/core/random.js';
import { EDGE_SIZES, EPS, candidates, hyper, mismatch, put, rng, ulp, type Candidate } from './helpers.js';
import { packWeights, roundUp4 } from '../src/backend/js/qgemm.js';

// ================================================================================ tolerances
// One set for every backend, stated once. Per op, the accuracy class of the op table (TOLERANCE_ULP, whose
// reasons are written beside it); beyond that:
//  - FTZ: WGSL may flush subnormals to zero (SwiftShader does), so every comparison allows 2^-126 absolute.
//  - Derivatives: f' is often evaluated from the rounded y (σ' = y(1 − y), √x' = 0.5/y, (1/x)' = −y²), which
//    doubles y's error, then multiplied by dy; WGSL rounds f'(x) before that product and divides to 2.5 ulp:
//    (2·class + 5) ulp. The derivatives of approximated ops are sums of terms near 1 that cancel where f'
//    crosses zero (gelu' near −0.75, silu' near −1.28): there only an absolute bound means anything,
//    3e-7·|dy| (the float32 evaluation error of those terms).
//  - gemm: a float32 dot product of length k errs by at most γ_(k+2)·Σ|a||b| (plus the bias and C terms),
//    which the activation amplifies by its Lipschitz constant, then the activation's own class plus 2 ulp for
//    bias and C added to the float32 sum in another order than the oracle's.
//  - Sums (reductions, softmax, cross-entropy): float32 accumulation in another order than the oracle's
//    float64, n·ε relative to the sum of magnitudes; + 3 ulp for the final division and rounding.
//  - affine and axpy: one multiply-add, fused or not: 1 ulp of the result plus 1 ulp of the product.
//  - Optimizer steps: float32 with a few roundings per element where the oracle rounds once (see below).
//  - Data movement (transpose, fill, copy, gatherRows), dropout masks, comparisons, max/min: exact.
const FTZ = 2 ** -126;
const classUlp = (a: Accuracy) => TOLERANCE_ULP[a];
const isApprox = (op: UnaryName) => isApproximation(UNARY[op].accuracy);

const GUARD = 8;
const SENTINEL = 12345.5;

/** The largest |f'| of an activation on [-12, 12] (its Lipschitz constant there), from the oracle's f'. */
function lipschitz(op: UnaryName, alpha: number): number {
  const ref = UNARY_REF[op];
  let m = 0;
  for (let x = -12; x <= 12; x += 1 / 64) m = Math.max(m, Math.abs(ref.d(x, ref.f(x, alpha), alpha)));
  return m;
}

/** The parameter a test runs an op with: not its default, so a kernel that ignores it fails. */
const testAlpha = (op: UnaryName) => 1.5 * ((UNARY[op] as UnaryDesc).param?.default ?? 0);

/** Inputs of a unary op: uniform over its domain with special values every third element. */
const SPECIAL = [0, -0, 1, -1, 1e-30, -1e-30, 88.7, -88.7, 89, -104, 1e30, -1e30, Infinity, -Infinity, NaN, 20, -20, 9, -9];
function unaryInput(op: UnaryName, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = UNARY[op].domain === 'positive' ? r.array(n, 0, 10) : r.array(n, -10, 10);
  for (let i = 0; i < n && i < SPECIAL.length; i += 3) x[i] = SPECIAL[(i / 3 + seed) % SPECIAL.length];
  return x;
}

// ================================================================================ the suite

const js = new JsBackend();

/** The oracle's result of `fn` (run on js with its own uploads) in a fresh output of n floats. */
function oracle(n: number, fn: (be: Backend, out: unknown) => void): Float32Array {
  const o = js.alloc(n);
  fn(js, o);
  return js.readSync(o, n);
}

const list: Candidate[] = [{ name: 'js (the oracle, float32 storage)', make: async () => new JsBackend() }, ...(await candidates())];

describe.each(list.map((c) => [c.name, c] as const))('%s conforms to the js oracle', (_name, cand) => {
  let b: Backend;
  /** Whether handles are byte offsets (wasm): then buffers can also start off 16-byte alignment. */
  let offsets = false;
  beforeAll(async () => {
    b = await cand.make();
    const h = b.alloc(1);
    offsets = typeof h === 'number';
    b.free(h);
  }, 120_000);
  afterAll(() => b?.dispose());

  /**
   * One test's buffers and checks: uploads and guarded outputs it frees at the end, and comparisons queued
   * as reads and awaited together (on webgpu, reads overlap instead of waiting one by one).
   */
  function session() {
    const held: unknown[] = [];
    const pending: Promise<void>[] = [];
    const alloc = (n: number) => {
      const h = b.alloc(n);
      held.push(h);
      return h;
    };
    return {
      put(data: Float32Array | number[]): unknown {
        const arr = data instanceof Float32Array ? data : Float32Array.from(data);
        const h = alloc(arr.length);
        b.write(h, arr);
        return h;
      },
      /** An output of n floats followed by GUARD sentinels. */
      out(n: number): unknown {
        const h = alloc(n + GUARD);
        b.write(h, new Float32Array(n + GUARD).fill(SENTINEL));
        return h;
      },
      /** n floats of h as they are now (and, for an output, that its guards are intact). */
      async read(h: unknown, n: number, guarded = true): Promise<Float32Array> {
        const all = await b.read(h, guarded ? n + GUARD : n);
        if (guarded) for (let i = n; i < n + GUARD; i++) if (all[i] !== SENTINEL) throw new Error(`a kernel wrote past the end of its output (index ${i} of ${n})`);
        return all.subarray(0, n);
      },
      /** Compares h (read now) with want: tol(i) is the allowed absolute error at i (FTZ added). */
      check(what: string, h: unknown, n: number, want: ArrayLike<number>, tol: (i: number) => number = () => 0, guarded = true): void {
        pending.push(this.read(h, n, guarded).then((g) => expect(mismatch(g, want, (i) => tol(i) + FTZ), what).toBe('')));
      },
      async done(): Promise<number> {
        try {
          await Promise.all(pending);
        } finally {
          for (const h of held) b.free(h);
        }
        return pending.length;
      },
    };
  }

  // ---------------------------------------------------------------------------------------------- unary
  describe('unary ops of the table', () => {
    for (const op of UNARY_NAMES) {
      const code = Unary[op], alpha = testAlpha(op), tolUlp = classUlp(UNARY[op].accuracy);
      it(`${op}: at every edge size, with special values, and in place (${UNARY[op].accuracy}: ${tolUlp} ulp)`, async () => {
        const s = session();
        for (const n of [...EDGE_SIZES, 1000, 40_001]) {
          const x = unaryInput(op, n, n + code);
          const want = oracle(n, (be, o) => be.unary(code, n, put(be, x), o, alpha));
          const tol = (i: number) => tolUlp * ulp(want[i]);
          const hx = s.put(x), hy = s.out(n);
          b.unary(code, n, hx, hy, alpha);
          s.check(`${op} n=${n}`, hy, n, want, tol);
          b.unary(code, n, hx, hx, alpha);
          s.check(`${op} in place n=${n}`, hx, n, want, tol, false);
        }
        await s.done();
      });

      const reads = (UNARY[op] as UnaryDesc).grad;
      it(`${op}': at every edge size and in place, reading ${reads === 'none' ? 'neither x nor y' : reads === 'xy' ? 'x and y' : `only ${reads}`}`, async () => {
        const s = session();
        for (const n of [...EDGE_SIZES, 1000]) {
          const r = rng(100 + n);
          const x = unaryInput(op, n, n + code + 1).map((v) => (Number.isFinite(v) && Math.abs(v) < 50 ? v : r.uniform(0.1, 5)));
          const dy = r.array(n);
          const y = oracle(n, (be, o) => be.unary(code, n, put(be, x), o, alpha));
          const want = oracle(n, (be, o) => be.unaryGrad(code, n, put(be, x), put(be, y), put(be, dy), o, alpha));
          const tol = (i: number) => (2 * tolUlp + 5) * ulp(want[i]) + (isApprox(op) ? 3e-7 * Math.abs(dy[i]) : 0);
          // What the table says the derivative does not read is NaN here: a kernel that reads it fails.
          const garbage = new Float32Array(n).fill(NaN);
          const bx = reads === 'x' || reads === 'xy' ? x : garbage, by = reads === 'y' || reads === 'xy' ? y : garbage;
          const hdx = s.out(n);
          b.unaryGrad(code, n, s.put(bx), s.put(by), s.put(dy), hdx, alpha);
          s.check(`${op}' n=${n}`, hdx, n, want, tol);
          const hdy = s.put(dy); // in place: dx over dy
          b.unaryGrad(code, n, s.put(bx), s.put(by), hdy, hdy, alpha);
          s.check(`${op}' in place n=${n}`, hdy, n, want, tol, false);
        }
        await s.done();
      });
    }
  });

  // ---------------------------------------------------------------------------------------------- gemm
  describe('gemm with every fused activation of the table', () => {
    const L = EDGE_SIZES.length;
    const triples: [number, number, number][] = [];
    for (let i = 0; i < L; i++) {
      triples.push([EDGE_SIZES[i], EDGE_SIZES[i], EDGE_SIZES[i]]);
      triples.push([EDGE_SIZES[i], EDGE_SIZES[(i * 7 + 3) % L], EDGE_SIZES[(i * 5 + 1) % L]]);
      triples.push([EDGE_SIZES[(i * 3 + 2) % L], EDGE_SIZES[i], EDGE_SIZES[(i * 11 + 4) % L]]);
    }
    const r0 = rng(7);
    for (let i = 0; i < 12; i++) triples.push([1 + r0.int(200), 1 + r0.int(200), 1 + r0.int(300)]);
    triples.push([128, 10, 256], [1, 512, 784], [2, 3, 0], [1, 1, 1000]);
    const acts = UNARY_NAMES.filter((k) => UNARY[k].activation);
    const lip = new Map(acts.map((k) => [k, lipschitz(k, testAlpha(k))]));

    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} at tile edges, with bias, accumulation and every activation`, async () => {
        const r = rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
        const s = session();
        const seen = new Set<string>();
        triples.forEach(([m, n, k], t) => {
          // Every activation at least once in each form (cycling), then at random.
          const op = t < acts.length ? acts[t] : acts[r.int(acts.length)];
          seen.add(op);
          const act = Unary[op], alpha = testAlpha(op);
          const withBias = r.next() < 0.5, beta = (r.next() < 0.3 ? 1 : 0) as 0 | 1;
          const A = r.array(m * k), B = r.array(k * n), bias = r.array(n), C0 = r.array(m * n);
          const want = oracle(m * n, (be, o) => {
            be.write(o, C0);
            be.gemm({ m, n, k, a: put(be, A), transA: ta, b: put(be, B), transB: tb, c: o, bias: withBias ? put(be, bias) : null, act, alpha, beta });
          });
          const hc = s.out(m * n);
          b.write(hc, C0);
          b.gemm({ m, n, k, a: s.put(A), transA: ta, b: s.put(B), transB: tb, c: hc, bias: withBias ? s.put(bias) : null, act, alpha, beta });
          const tol = (idx: number) => {
            const i = Math.floor(idx / n), j = idx % n;
            let sum = (withBias ? Math.abs(bias[j]) : 0) + (beta ? Math.abs(C0[idx]) : 0);
            for (let p = 0; p < k; p++) sum += Math.abs(ta ? A[p * m + i] : A[i * k + p]) * Math.abs(tb ? B[j * k + p] : B[p * n + j]);
            return (k + 4) * EPS * sum * lip.get(op)! + (classUlp(UNARY[op].accuracy) + 2) * ulp(want[idx]) + 1e-7;
          };
          s.check(`m=${m} n=${n} k=${k} act=${op} bias=${withBias} beta=${beta}`, hc, m * n, want, tol);
        });
        expect([...seen].sort()).toEqual([...acts].sort());
        expect(await s.done()).toBe(triples.length);
      }, 120_000);
    }
  });

  // ---------------------------------------------------------------------------------------------- binary
  describe('binary ops of the table', () => {
    for (const op of BINARY_NAMES) {
      const code = Binary[op], tolUlp = classUlp(BINARY[op].accuracy);
      it(`${op}: every broadcast pattern at edge sizes, and in place (${BINARY[op].accuracy}: ${tolUlp} ulp)`, async () => {
        const r = rng(11 + code);
        const s = session();
        const sizes = [1, 3, 4, 5, 8, 9, 17, 33, 65];
        for (const rows of sizes.slice(0, 5)) for (const cols of sizes) {
          const outer = (rows + cols) % 3 === 0 ? 2 : 1;
          const n = outer * rows * cols;
          // [outer, rows, cols] strides: full, row vector, column vector, scalar, per-outer row.
          const modes = { full: { s0: rows * cols, s1: cols, s2: 1, len: n }, row: { s0: 0, s1: 0, s2: 1, len: cols }, col: { s0: 0, s1: 1, s2: 0, len: rows }, scalar: { s0: 0, s1: 0, s2: 0, len: 1 }, outerRow: { s0: cols, s1: 0, s2: 1, len: outer * cols } };
          for (const [am, as] of Object.entries(modes)) for (const [bm, bs] of Object.entries(modes)) {
            const A = r.array(as.len, op === 'pow' ? 0.1 : -4, 4), B = r.array(bs.len, op === 'pow' ? -3 : -4, 4);
            if (op === 'equal') for (let i = 0; i < Math.min(A.length, B.length); i += 2) B[i] = A[i];
            if (op === 'div') for (let i = 0; i < B.length; i += 7) B[i] = 0;
            if (op === 'max' || op === 'min') A[0] = NaN;
            const want = oracle(n, (be, o) => be.binary(code, outer, rows, cols, put(be, A), as, put(be, B), bs, o));
            const tol = (i: number) => tolUlp * ulp(want[i]);
            const hb = s.out(n);
            b.binary(code, outer, rows, cols, s.put(A), as, s.put(B), bs, hb);
            s.check(`${op} ${am}⊕${bm} outer=${outer} rows=${rows} cols=${cols}`, hb, n, want, tol);
            if (am === 'full') {
              const ha = s.put(A);
              b.binary(code, outer, rows, cols, ha, as, s.put(B), bs, ha);
              s.check(`${op} in place ${am}⊕${bm}`, ha, n, want, tol, false);
            }
          }
        }
        await s.done();
      });
    }

    it('pow follows Math.pow on signs, zeros, infinities and NaN', async () => {
      const vals = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, -8, Infinity, -Infinity, NaN, 1e-3, 7.5];
      const A: number[] = [], B: number[] = [];
      for (const a of vals) for (const e of vals) { A.push(a); B.push(e); }
      const n = A.length, st = { s0: 0, s1: n, s2: 1 };
      const want = oracle(n, (be, o) => be.binary(Binary.pow, 1, 1, n, put(be, A), st, put(be, B), st, o));
      const s = session();
      const hb = s.out(n);
      b.binary(Binary.pow, 1, 1, n, s.put(A), st, s.put(B), st, hb);
      s.check('pow specials', hb, n, want, (i) => classUlp(BINARY.pow.accuracy) * ulp(want[i]));
      await s.done();
    });
  });

  // ---------------------------------------------------------------------------------------------- reductions
  describe('reductions of the table', () => {
    for (const op of REDUCE_NAMES) {
      const code = Reduce[op], kind = REDUCE[op].kind;
      /** The float32 summation bound for a sum, 0 for the exact picks. */
      const tolFor = (x: Float32Array, outer: number, n: number, inner: number, want: Float32Array) => (i: number) => {
        if (kind !== 'sum') return 0;
        const o = Math.floor(i / inner), k = i % inner;
        let sum = 0;
        for (let j = 0; j < n; j++) { const v = x[(o * n + j) * inner + k]; sum += op === 'sumSquares' ? v * v : Math.abs(v); }
        return ((n + 2) * EPS * sum) / (op === 'mean' ? n : 1) + 3 * ulp(want[i]);
      };
      it(`${op}: over rows, columns and middle axes at edge sizes, and one long axis`, async () => {
        const r = rng(12 + code);
        const s = session();
        for (const outer of [1, 3, 5]) for (const n of [1, 3, 4, 5, 8, 9, 16, 17, 33, 129, 300]) for (const inner of [1, 4, 7, 33]) {
          const x = r.array(outer * n * inner, -3, 3);
          if (n > 2 && kind === 'index') x[inner] = x[0]; // ties: the first index wins
          const want = oracle(outer * inner, (be, o) => be.reduce(code, outer, n, inner, put(be, x), o));
          const hb = s.out(outer * inner);
          b.reduce(code, outer, n, inner, s.put(x), hb);
          s.check(`${op} outer=${outer} n=${n} inner=${inner}`, hb, outer * inner, want, tolFor(x, outer, n, inner, want));
        }
        // A long axis: one workgroup per output on webgpu, several strides each.
        const x = r.array(5000, -3, 3);
        x[4321] = 7;
        x[4999] = 7;
        const want = oracle(1, (be, o) => be.reduce(code, 1, 5000, 1, put(be, x), o));
        const hb = s.out(1);
        b.reduce(code, 1, 5000, 1, s.put(x), hb);
        s.check(`${op} n=5000`, hb, 1, want, tolFor(x, 1, 5000, 1, want));
        await s.done();
      });
    }

    it('max, min, argmax and argmin propagate NaN like the oracle, on short and long axes', async () => {
      const s = session();
      for (const n of [9, 300]) {
        const x = rng(n).array(n);
        x[1] = NaN;
        x[5] = NaN;
        for (const op of REDUCE_NAMES.filter((k) => REDUCE[k].kind !== 'sum')) {
          const want = oracle(1, (be, o) => be.reduce(Reduce[op], 1, n, 1, put(be, x), o));
          const hb = s.out(1);
          b.reduce(Reduce[op], 1, n, 1, s.put(x), hb);
          s.check(`${op} n=${n}`, hb, 1, want);
        }
      }
      await s.done();
    });
  });

  // ---------------------------------------------------------------------------------------------- softmax, xent
  it('softmax and log-softmax along rows at edge sizes, special rows, and in place', async () => {
    const r = rng(13);
    const s = session();
    for (const rows of [1, 2, 5]) for (const cols of EDGE_SIZES.filter((c) => c > 0)) for (const log of [false, true]) {
      const x = r.array(rows * cols, -20, 20);
      if (cols > 3) x[1] = 80; // a large logit: must not overflow
      const want = oracle(rows * cols, (be, o) => be.softmax(rows, cols, put(be, x), o, log));
      // Each output is exp of a difference divided by a sum of `cols` terms; for log-softmax the same error on
      // the log-sum-exp, which is at most |max| + log(cols).
      const tol = (i: number) => (log ? (cols + 8) * EPS * (Math.abs(want[i]) + 100) : (cols + 10) * EPS * Math.abs(want[i]) + 1e-30);
      const hx = s.put(x), hy = s.out(rows * cols);
      b.softmax(rows, cols, hx, hy, log);
      s.check(`rows=${rows} cols=${cols} log=${log}`, hy, rows * cols, want, tol);
      b.softmax(rows, cols, hx, hx, log);
      s.check(`in place rows=${rows} cols=${cols} log=${log}`, hx, rows * cols, want, tol, false);
    }
    // Rows with NaN, +Inf, all −Inf, and −Inf entries beside finite ones.
    const x = Float32Array.from([1, NaN, 2, 3, Infinity, 0, -Infinity, -Infinity, -Infinity, -Infinity, 2, 1]);
    for (const log of [false, true]) {
      const want = oracle(12, (be, o) => be.softmax(4, 3, put(be, x), o, log));
      const hy = s.out(12);
      b.softmax(4, 3, s.put(x), hy, log);
      s.check(`special rows log=${log}`, hy, 12, want, (i) => 16 * EPS * Math.abs(want[i]));
    }
    await s.done();
  });

  it(`fused softmax cross-entropy and its gradient with every label mode (${LABEL_MODE_NAMES.join(', ')}), in place`, async () => {
    const r = rng(14);
    const s = session();
    for (const rows of [1, 3, 8, 17]) for (const cols of [1, 2, 3, 4, 5, 9, 10, 17, 64, 65]) for (const modeName of LABEL_MODE_NAMES) {
      const mode = LabelMode[modeName];
      const z = r.array(rows * cols, -10, 10);
      const labels = new Float32Array(mode === LabelMode.index ? rows : rows * cols);
      if (mode === LabelMode.index) for (let i = 0; i < rows; i++) labels[i] = r.int(cols);
      else for (let i = 0; i < rows; i++) { let t = 0; for (let c = 0; c < cols; c++) t += labels[i * cols + c] = r.next(); for (let c = 0; c < cols; c++) labels[i * cols + c] /= t; }
      if (mode === LabelMode.index && rows > 2) labels[1] = cols; // out of range → NaN loss and gradient row
      const dy = r.array(rows, 0.1, 2);
      const jp = js.alloc(rows * cols), jl = js.alloc(rows), jd = js.alloc(rows * cols);
      js.softmaxXent(rows, cols, put(js, z), put(js, labels), mode, jp, jl);
      js.softmaxXentGrad(rows, cols, jp, put(js, labels), mode, put(js, dy), jd);
      const wp = js.readSync(jp, rows * cols), wl = js.readSync(jl, rows), wd = js.readSync(jd, rows * cols);
      const ctx = `rows=${rows} cols=${cols} mode=${modeName}`;
      const bp = s.out(rows * cols), bl = s.out(rows), bd = s.out(rows * cols);
      b.softmaxXent(rows, cols, s.put(z), s.put(labels), mode, bp, bl);
      // loss = lse − z[label]: the error of the lse, (cols + 8)·ε·(|max| + log cols), plus cancellation.
      s.check(`probs ${ctx}`, bp, rows * cols, wp, (i) => (cols + 10) * EPS * Math.abs(wp[i]) + 1e-30);
      s.check(`loss ${ctx}`, bl, rows, wl, () => (cols + 8) * EPS * 24);
      b.softmaxXentGrad(rows, cols, bp, s.put(labels), mode, s.put(dy), bd);
      s.check(`grad ${ctx}`, bd, rows * cols, wd, () => (cols + 12) * EPS * 2);
      b.softmaxXentGrad(rows, cols, bp, s.put(labels), mode, s.put(dy), bp); // dlogits over probs
      s.check(`grad in place ${ctx}`, bp, rows * cols, wd, () => (cols + 12) * EPS * 2);
    }
    await s.done();
  });

  // ---------------------------------------------------------------------------------------------- data movement
  it('transpose, fill, copy, affine, axpy and gatherRows at edge sizes', async () => {
    const r = rng(15);
    const s = session();
    for (const rows of EDGE_SIZES) for (const cols of [1, 3, 4, 5, 8, 9, 17, 33]) {
      const x = r.array(rows * cols);
      const want = oracle(rows * cols, (be, o) => be.transpose(rows, cols, put(be, x), o));
      const hb = s.out(rows * cols);
      b.transpose(rows, cols, s.put(x), hb);
      s.check(`transpose ${rows}x${cols}`, hb, rows * cols, want);
    }
    for (const n of [...EDGE_SIZES, 1000]) {
      const x = r.array(n), y = r.array(n);
      const hf = s.out(n);
      b.fill(n, hf, -2.5);
      s.check(`fill n=${n}`, hf, n, new Float32Array(n).fill(-2.5));
      const hc = s.out(n);
      b.copy(n, s.put(x), hc);
      s.check(`copy n=${n}`, hc, n, x);
      const wa = oracle(n, (be, o) => be.affine(n, put(be, x), o, 1.7, -0.3));
      const ha = s.out(n);
      b.affine(n, s.put(x), ha, 1.7, -0.3);
      s.check(`affine n=${n}`, ha, n, wa, (i) => ulp(wa[i]) + ulp(1.7 * x[i]));
      const wy = oracle(n, (be, o) => { be.write(o, y); be.axpy(n, -0.7, put(be, x), o); });
      const by = s.put(y);
      b.axpy(n, -0.7, s.put(x), by);
      s.check(`axpy n=${n}`, by, n, wy, (i) => ulp(wy[i]) + ulp(0.7 * x[i]), false);
    }
    for (const [rows, cols, xr] of [[1, 1, 1], [5, 3, 7], [17, 33, 4], [65, 16, 65], [3, 129, 5], [64, 1, 9]]) {
      const x = r.array(xr * cols);
      const idx = Float32Array.from({ length: rows }, () => r.int(xr));
      const want = oracle(rows * cols, (be, o) => be.gatherRows(rows, cols, put(be, x), put(be, idx), o));
      const hy = s.out(rows * cols);
      b.gatherRows(rows, cols, s.put(x), s.put(idx), hy);
      s.check(`gatherRows ${rows}x${cols} from ${xr}`, hy, rows * cols, want);
    }
    await s.done();
  });

  it('dropout masks are bit-identical to the oracle (one counter-based hash), in place too', async () => {
    const s = session();
    for (const n of [1, 5, 16, 17, 1000]) for (const keep of [0, 0.3, 0.5, 0.9, 1]) for (const [seed, offset] of [[0, 0], [7, 12345], [0xdeadbeef, 0xfffffff0]]) {
      const x = rng(n + seed).array(n);
      const jm = js.alloc(n);
      const wy = oracle(n, (be, o) => be.dropout(n, put(be, x), o, jm, keep, seed, offset));
      const wm = js.readSync(jm, n);
      const hy = s.out(n), hm = s.out(n);
      b.dropout(n, s.put(x), hy, hm, keep, seed, offset);
      s.check(`dropout y n=${n} keep=${keep} seed=${seed}`, hy, n, wy);
      s.check(`dropout mask n=${n} keep=${keep} seed=${seed}`, hm, n, wm);
      const hx = s.put(x), hm2 = s.out(n);
      b.dropout(n, hx, hx, hm2, keep, seed, offset);
      s.check(`dropout in place n=${n} keep=${keep}`, hx, n, wy, () => 0, false);
    }
    await s.done();
  });

  it('addNormal adds the counter-based Gaussian stream of the oracle (Box–Muller in float32: within 2e-6·(1 + |z|)), tiled or not', async () => {
    const s = session();
    for (const n of [1, 3, 4, 5, 16, 17, 1000, 4099]) for (const [seed, offset, std] of [[0, 0, 1], [7, 12345, 0.5], [0xdeadbeef, 0xfffffff0, 3]]) {
      const y0 = rng(n + seed).array(n);
      const want = oracle(n, (be, o) => {
        be.write(o, y0);
        be.addNormal(n, o, std, seed, offset);
      });
      const h = s.put(y0);
      b.addNormal(n, h, std, seed, offset);
      // z = √(−2 ln u1)·cos(2πt), |z| ≤ 6.8: float32 log, sqrt and the cos polynomial leave a few 1e-7·(1 + |z|).
      // WGSL's log is only promised to 2^-21 absolute near u1 = 1, where √ amplifies it by 1/√(−2 ln u1) ≤ 1/|z|:
      // hence the second term, which matters only where |z| is small.
      const tol = (i: number) => {
        const z = Math.abs((want[i] - y0[i]) / std);
        return std * (2e-6 * (1 + z) + 2 ** -20 / Math.max(z, 2 ** -10)) + 2e-7 * Math.abs(y0[i]);
      };
      s.check(`addNormal n=${n} seed=${seed} offset=${offset}`, h, n, want, tol, false);
    }
    // Slices of one stream: two calls at offsets o and o + k draw what one call draws.
    const whole = s.put(new Float32Array(100)), a = s.put(new Float32Array(37)), c = s.put(new Float32Array(63));
    b.addNormal(100, whole, 1, 5, 1000);
    b.addNormal(37, a, 1, 5, 1000);
    b.addNormal(63, c, 1, 5, 1037);
    const [w, x1, x2] = await Promise.all([s.read(whole, 100, false), s.read(a, 37, false), s.read(c, 63, false)]);
    expect(Array.from(w)).toEqual([...x1, ...x2]);
    await s.done();
  });

  // ---------------------------------------------------------------------------------------------- optimizers
  describe('optimizer kinds of the table', () => {
    const l1 = 0.003, gs = 0.7;
    /** The kinds × flag combinations that select different kernel loops, with the state sizes they need. */
    const cases: { name: string; kind: OptimName; hyper: (t: number) => number[]; s1: (n: number) => number; s2: (n: number) => number }[] = [];
    for (const [mu, nest] of [[0, 0], [0.9, 0], [0.9, 1]])
      cases.push({
        name: `sgd momentum ${mu}${nest ? ' nesterov' : ''}`, kind: 'sgd', s1: (n) => (mu ? n : 0), s2: () => 0,
        hyper: (t) => hyper('sgd', { lr: 0.05, momentum: mu, dampening: nest ? 0 : 0.2, weightDecay: 0.01, nesterov: nest, first: t === 1 ? 1 : 0, l1, gscale: gs }),
      });
    for (const dec of [0, 1]) for (const ams of [0, 1])
      cases.push({
        name: `adam${dec ? 'w' : ''}${ams ? ' amsgrad' : ''}`, kind: 'adam', s1: (n) => n, s2: (n) => (ams ? 2 * n : n),
        hyper: (t) => hyper('adam', { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, decoupled: dec, bc1: 1 - 0.9 ** t, bc2: 1 - 0.999 ** t, l1, gscale: gs, amsgrad: ams }),
      });
    for (const mu of [0, 0.8]) for (const c of [0, 1])
      cases.push({
        name: `rmsprop momentum ${mu}${c ? ' centered' : ''}`, kind: 'rmsprop', s1: (n) => n, s2: (n) => (mu ? n : 0) + (c ? n : 0),
        hyper: () => hyper('rmsprop', { lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0.01, momentum: mu, centered: c, l1, gscale: gs }),
      });
    cases.push({
      name: 'adagrad', kind: 'adagrad', s1: (n) => n, s2: () => 0,
      hyper: (t) => hyper('adagrad', { clr: 0.1 / (1 + (t - 1) * 0.01), eps: 1e-10, weightDecay: 0.01, l1, gscale: gs }),
    });

    it('every kind of the table has cases', () => {
      expect([...new Set(cases.map((c) => c.kind))].sort()).toEqual([...OPTIM_NAMES].sort());
    });

    for (const kc of cases) {
      it(`${kc.name}: three steps at every tile edge, aligned and not; hyper copied during the call`, async () => {
        const r = rng(Optim[kc.kind] * 100 + kc.name.length);
        let checked = 0;
        for (const n of [...EDGE_SIZES, 1000]) {
          // Unaligned (4 bytes off 16) where handles are byte offsets (wasm): the kernels must accept it.
          for (const shift of offsets ? [false, true] : [false]) {
            const n1 = kc.s1(n), n2 = kc.s2(n);
            // |p| in [0.5, 1] (and one exact 0, for sign(0) = 0 of the L1 term), gradients with the sign of their
            // parameter: then no sum inside the kernels cancels (gscale·g, weightDecay·p and l1·sign(p) agree in
            // sign, and so do each state and its new term, since no parameter crosses zero in three small steps),
            // every float32 rounding stays relative to its result, and the tolerances below can be a few ulp.
            // Random signs, with cancellation, are covered end to end by test/optim.test.ts.
            let p: Float32Array = r.array(n, 0.5, 1).map((x) => (r.next() < 0.5 ? -x : x));
            if (n > 2) p[1] = 0;
            const sgn = p.map((x) => (x < 0 ? -1 : 1));
            let s1: Float32Array = new Float32Array(n1), s2: Float32Array = new Float32Array(n2);
            for (let t = 1; t <= 3; t++) {
              const g = r.array(n, 0.1, 2).map((x, i) => x * sgn[i]);
              const h = kc.hyper(t);
              const jp = put(js, p), j1 = n1 ? put(js, s1) : null, j2 = n2 ? put(js, s2) : null;
              js.optimStep(Optim[kc.kind], n, jp, put(js, g), j1, j2, h);
              const want = { p: js.readSync(jp, n), s1: j1 ? js.readSync(j1, n1) : new Float32Array(0), s2: j2 ? js.readSync(j2, n2) : new Float32Array(0) };
              const s = session();
              const buf = (data: Float32Array) => {
                const base = s.out(data.length + 1);
                const at = shift ? (base as number) + 4 : base;
                const all = new Float32Array(data.length + GUARD).fill(SENTINEL);
                all.set(data);
                b.write(at, all);
                return at;
              };
              const bp = buf(p), bg = buf(g), b1 = n1 ? buf(s1) : null, b2 = n2 ? buf(s2) : null;
              const hh = h.slice();
              b.optimStep(Optim[kc.kind], n, bp, bg, b1, b2, hh);
              hh.fill(NaN); // a backend that defers work must have copied the values during the call
              // float32 with a few roundings per element where the oracle rounds once in float64: a state value
              // may be off by ~10 roundings of its own size (g', its square, the products and the sum); the
              // parameter by its own rounding plus ~16 roundings of the update.
              const tolP = (i: number) => 2 * ulp(p[i]) + 2 * ulp(want.p[i]) + 16 * EPS * Math.abs(want.p[i] - p[i]);
              const tolS = (w: Float32Array) => (i: number) => 12 * EPS * Math.abs(w[i]);
              const ctx = `n=${n} shift=${shift} step ${t}`;
              s.check(`${ctx}: grad untouched`, bg, n, g);
              s.check(`${ctx}: param`, bp, n, want.p, tolP);
              if (b1) s.check(`${ctx}: s1`, b1, n1, want.s1, tolS(want.s1));
              if (b2) s.check(`${ctx}: s2`, b2, n2, want.s2, tolS(want.s2));
              await s.done();
              // Continue from the oracle's result so each step is compared from identical inputs.
              p = want.p; s1 = want.s1; s2 = want.s2;
              checked++;
            }
          }
        }
        expect(checked).toBeGreaterThanOrEqual((EDGE_SIZES.length + 1) * 3);
      }, 60_000);
    }
  });

  // ---------------------------------------------------------------------------------------------- codes
  it('refuses a code outside the op table with the one shared error, before any kernel runs', async () => {
    const s = session();
    const x = s.put([1, 2, 3, 4]), y = s.out(4);
    const message = (family: Parameters<typeof checkCode>[0], code: number) => {
      try {
        checkCode(family, code);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${family} code ${code} is in the table`);
    };
    const st = { s0: 0, s1: 4, s2: 1 };
    const bad = UNARY_NAMES.length;
    expect(() => b.unary(bad as any, 4, x, y, 0)).toThrow(message('unary', bad));
    expect(() => b.unaryGrad(-1 as any, 4, x, x, x, y, 0)).toThrow(message('unary', -1));
    expect(() => b.binary(BINARY_NAMES.length as any, 1, 1, 4, x, st, x, st, y)).toThrow(message('binary', BINARY_NAMES.length));
    expect(() => b.reduce(1.5 as any, 1, 4, 1, x, y)).toThrow(message('reduce', 1.5));
    expect(() => b.softmaxXent(1, 4, x, x, LABEL_MODE_NAMES.length as any, y, y)).toThrow(message('label mode', LABEL_MODE_NAMES.length));
    expect(() => b.softmaxXentGrad(1, 4, x, x, 7 as any, x, y)).toThrow(message('label mode', 7));
    expect(() => b.optimStep(OPTIM_NAMES.length as any, 4, x, x, null, null, [])).toThrow(message('optimizer', OPTIM_NAMES.length));
    // A unary op that is not an activation cannot be fused into gemm.
    const notFused = UNARY_NAMES.find((k) => !UNARY[k].activation)!;
    expect(() => b.gemm({ m: 1, n: 1, k: 4, a: x, transA: false, b: x, transB: true, c: y, bias: null, act: Unary[notFused] as any, alpha: 0, beta: 0 })).toThrow(message('activation', Unary[notFused]));
    // The output was never written, and the backend still works.
    s.check('untouched output', y, 4, new Float32Array(4).fill(SENTINEL), () => 0, false);
    b.unary(Unary.neg, 4, x, y, 0);
    s.check('usable after', y, 4, [-1, -2, -3, -4]);
    await s.done();
  });

  // ---------------------------------------------------------------------------------------------- fillNormal
  describe('fillNormal (weight initialisation in a kernel, where the backend has one; the others fill in JS)', () => {
    /** The js oracle's numbers: Rng.fillNormal from `state`, and the state it leaves. */
    function oracleFill(state: StreamState, n: number, mean: number, std: number) {
      const r = seeded(0);
      continueStream(r, (st) => Object.assign(st, state));
      const want = r.fillNormal(new Float32Array(n), mean, std);
      let after!: StreamState;
      continueStream(r, (st) => (after = { ...st }));
      return { want, after };
    }
    async function check(state: StreamState, n: number, mean: number, std: number, what: string) {
      const { want, after } = oracleFill(state, n, mean, std);
      const s = session();
      const h = s.out(n);
      const st = { ...state };
      b.fillNormal!(n, h, mean, std, st);
      s.check(`${what}: values`, h, n, want);
      await s.done();
      expect([st.a, st.b, st.c, st.d, st.hasSpare, st.hasSpare ? st.spare : 0], `${what}: state after`).toEqual([after.a, after.b, after.c, after.d, after.hasSpare, after.hasSpare ? after.spare : 0]);
    }
    const start = (seed: number): StreamState => {
      let st!: StreamState;
      continueStream(seeded(seed), (x) => (st = { ...x }));
      return st;
    };

    it('continues the seeded stream bit for bit at edge sizes, with and without a pending spare', async () => {
      if (!b.fillNormal) return expect(['js', 'webgpu'].some((k) => cand.name.startsWith(k))).toBe(true);
      for (const n of [...EDGE_SIZES, 1000, 8191, 8192, 8193, 40_001])
        for (const spare of [false, true]) await check({ ...start(n), hasSpare: spare, spare: spare ? -0.8125 : 0 }, n, n % 2 ? 0.25 : 0, n % 3 ? 0.05 : 1.5, `n=${n} spare=${spare}`);
    });

    it('matches to the last bit of float64 at the edges of every branch of log, sin and cos', async () => {
      if (!b.fillNormal) return expect(['js', 'webgpu'].some((k) => cand.name.startsWith(k))).toBe(true);
      // sfc32's next two outputs are a + b + d and then (b ^ b >>> 9) + 9c + d + 1: choosing a and c gives
      // any draws t1 (1 - u = 1 - t1/2³², the log's argument) and t2 (θ = 2π·t2/2³²). The 4-value fills
      // take the kernel's two-pair path, the 3-value fills (after a spare) its one-pair path.
      const INV9 = 0x38e38e39; // 9⁻¹ mod 2³²
      const craft = (t1: number, t2: number, salt: number): StreamState => {
        const bb = Math.imul(salt, 0x9e3779b9) >>> 0, d = (salt * 7 + 1) >>> 0;
        const c = Math.imul((t2 - ((bb ^ (bb >>> 9)) >>> 0) - d - 1) >>> 0, INV9) >>> 0;
        return { a: (t1 - bb - d) >>> 0, b: bb, c, d, spare: 0.375, hasSpare: false };
      };
      // Outputs are float32, which would hide a last-bit difference in the float64 values v = r·cos θ,
      // r·sin θ. So each value is checked once with mean = −(v with its low 5 bits cleared), std = 1: the
      // output is then the exact residual, and shows v's last bits.
      const f = new Float64Array(1), u = new BigUint64Array(f.buffer);
      const cut5 = (v: number) => ((f[0] = v), (u[0] &= ~31n), f[0]);
      const exact = async (st: StreamState, what: string) => {
        for (const [n, hasSpare] of [[4, false], [3, true]] as const) {
          const s0 = { ...st, hasSpare };
          const r = seeded(0);
          continueStream(r, (x) => Object.assign(x, s0));
          const v = r.fillNormal(new Float64Array(n));
          for (let j = 0; j < n; j++) await check(s0, n, -cut5(v[j]), 1, `${what}, n=${n}, value ${j}`);
        }
      };
      const r = rng(23);
      const draw = () => Math.floor(r.next() * 2 ** 32);
      let salt = 1;
      // θ near q·π/2 (the reductions' cancellation checks) and near π/4, 3π/4 (where the reduction changes:
      // fdlibm reduces nothing up to π/4's high word, 219 draws past π/4)
      for (let q = 0; q <= 4; q++) for (let dt = -300; dt <= 300; dt += q % 4 ? 1 : 3) await exact(craft(draw(), (q * 2 ** 30 + dt + 2 ** 32) % 2 ** 32, salt++), `t2 = ${q}·2³⁰ + ${dt}`);
      for (const c of [2 ** 29, 3 * 2 ** 29]) for (let dt = -30; dt <= 260; dt++) await exact(craft(draw(), c + dt, salt++), `t2 = ${c} + ${dt}`);
      // θ - q·π/2 near ±2⁻¹⁷ (≈ 5215 draws), where the kernel's two-pair path hands θ to the scalar path
      for (let q = 0; q <= 4; q++) for (const dt of [-5225, -5220, -5217, -5216, -5215, -5214, -5213, -5210, 5210, 5213, 5214, 5215, 5216, 5217, 5220, 5225]) {
        if (q * 2 ** 30 + dt >= 0 && q * 2 ** 30 + dt < 2 ** 32) await exact(craft(draw(), q * 2 ** 30 + dt, salt++), `t2 = ${q}·2³⁰ + ${dt}`);
      }
      // 1 - u near 2^-j (f within 2⁻²⁰ of 0 in the log), and u near 0 and 1
      for (let j = 1; j <= 31; j++) for (let dt = -6; dt <= 6; dt++) await exact(craft((2 ** 32 - 2 ** (32 - j) + dt + 2 ** 32) % 2 ** 32, draw(), salt++), `t1 near 2³² - 2^${32 - j}`);
      for (let dt = 0; dt <= 40; dt++) await exact(craft(dt, draw(), salt++), `t1 = ${dt}`), await exact(craft(2 ** 32 - 1 - dt, draw(), salt++), `t1 = 2³² - 1 - ${dt}`);
      // and anywhere
      for (let i = 0; i < 2000; i++) await exact(craft(draw(), draw(), salt++), 'random draws');
    }, 60_000);
  });

  // ---------------------------------------------------------------------------------------------- int8
  // The int8 dense product and its quantizer against the js oracle (src/backend/js/qgemm.ts): the sums are
  // exact integers and every float step of the epilogue is one float32 rounding in a fixed order, so every
  // backend must return the oracle's bits: the bytes of a 'u7' output and the float32 words of an 'f32' one,
  // exactly. Sizes sit at the kernels' edges: k around the 4-byte groups, n around the 4-, 8- and 16-column
  // tiles, m around the 1-row path, the 4-row tiles and the 64-row blocks; rows strided (lda > k, ldc > n),
  // pointers off alignment where handles are byte offsets (wasm), and every byte of the output region that
  // is not an output (row gaps, the guard after it) must keep its sentinel.
  describe('int8 qgemm and qquantize, bit for bit (webgpu has none: quantize() refuses it)', () => {
    const SENT = 0xa5;
    /** Bytes into a fresh buffer at byte `shift` (wasm only), the rest of the words filled with the sentinel. */
    function putBytes(held: unknown[], be: Backend, data: Uint8Array, shift = 0, guard = 16): unknown {
      const words = Math.ceil((shift + data.length + guard) / 4);
      const all = new Uint8Array(words * 4).fill(SENT);
      all.set(data, shift);
      const h = be.alloc(words);
      held.push(h);
      be.write(h, new Float32Array(all.buffer));
      return shift ? (h as number) + shift : h;
    }
    async function readBytes(be: Backend, h: unknown, shift: number, count: number): Promise<Uint8Array> {
      const base = shift ? (h as number) - shift : h;
      const words = await be.read(base, Math.ceil((shift + count) / 4));
      return new Uint8Array(words.buffer, words.byteOffset + shift, count);
    }
    const ACTS = [Unary.identity, Unary.relu, Unary.leakyRelu] as const;

    it('qgemm at tile edges: u7 and f32 outputs, every fused activation, strided and unaligned', async () => {
      if (!b.qgemm) {
        expect(b.name).toBe('webgpu');
        return;
      }
      const ks = [1, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 65, 129];
      const ns = [1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 31, 32, 33, 65];
      const ms = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 64, 65, 129];
      const cases: [number, number, number][] = [];
      ms.forEach((m, i) => ns.forEach((n, j) => cases.push([m, n, ks[(i * 5 + j * 3) % ks.length]])));
      ks.forEach((k, i) => cases.push([1 + (i % 5), 16 + (i % 3), k], [4, 8, k]));
      cases.push([1, 512, 784], [1, 10, 256], [70, 40, 300], [129, 17, 5], [2, 0, 5], [0, 3, 5], [3, 4, 0]);
      const r = rng(4242);
      let done = 0;
      for (const [t, [m, n, k]] of cases.entries()) {
        const out = t % 2 ? ('u7' as const) : ('f32' as const);
        const act = ACTS[Math.floor(t / 2) % 3];
        const lda = k + (t % 3 === 2 ? 5 : 0), ldc = n + (t % 4 === 3 ? 3 : 0);
        const shift = offsets && t % 5 === 4 ? 1 + (t % 3) : 0;
        const a = new Uint8Array(m * lda).map(() => r.int(128));
        const w = new Int8Array(k * n).map(() => r.int(255) - 127);
        const np = roundUp4(n);
        const scale = new Float32Array(np).map(() => Math.fround(1e-4 + r.next() * 1e-2));
        const bias = new Int32Array(np).map(() => r.int(2_000_000) - 1_000_000);
        if (n > 2) (bias[0] = 2 ** 30), (bias[1] = -(2 ** 30)); // the extremes of the contract
        const alpha = Math.fround(0.01 + r.next()), outScale = Math.fround(0.5 + r.next() * 2), outZero = r.int(128);
        const esize = out === 'u7' ? 1 : 4, cBytes = m * ldc * esize;
        const run = async (be: Backend, sh: number) => {
          const held: unknown[] = [];
          const hc = putBytes(held, be, new Uint8Array(cBytes).fill(SENT), out === 'u7' ? sh : 0);
          be.qgemm!({
            m, n, k, a: putBytes(held, be, a, sh), lda, b: putBytes(held, be, new Uint8Array(packWeights(w, k, n).buffer)), c: hc, ldc,
            scale: putBytes(held, be, new Uint8Array(scale.buffer)), bias: putBytes(held, be, new Uint8Array(bias.buffer)),
            act, alpha, out, outScale, outZero,
          });
          const got = (await readBytes(be, hc, out === 'u7' ? sh : 0, cBytes + 16)).slice();
          for (const h of held) be.free(h);
          return got;
        };
        const want = await run(js, 0);
        const got = await run(b, shift);
        let bad = -1;
        for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
        expect(bad, `m=${m} n=${n} k=${k} lda=${lda} ldc=${ldc} out=${out} act=${act} shift=${shift}: first differing byte ${bad} (${got[bad]} vs ${want[bad]})`).toBe(-1);
        done++;
      }
      expect(done).toBe(cases.length);
    });

    it('qquantize at every edge size: ties to even, NaN, infinities, signed zeros, saturation, unaligned output', async () => {
      if (!b.qquantize) {
        expect(b.name).toBe('webgpu');
        return;
      }
      const specials = [2.5, -2.5, 0.5, -0.5, 1.5, 126.5, 127.5, -0, 0, 1e-40, 3e38, -3e38, NaN, Infinity, -Infinity, 63.5, -63.5, 200, -200];
      const r = rng(99);
      for (const [invScale, zero] of [[1, 0], [1, 64], [Math.fround(127 / 3.7), 127], [Math.fround(0.37), 5]] as const)
        for (const n of [...EDGE_SIZES, 1000, 40_001]) {
          const x = r.array(n, -150 / invScale, 150 / invScale);
          for (let i = 0; i < n; i += 2) x[i] = invScale === 1 ? specials[(i / 2) % specials.length] : x[i];
          for (const shift of offsets ? [0, 3] : [0]) {
            const run = async (be: Backend, sh: number) => {
              const held: unknown[] = [];
              const hx = be.alloc(Math.max(1, n));
              held.push(hx);
              if (n) be.write(hx, x);
              const hy = putBytes(held, be, new Uint8Array(n).fill(SENT), sh);
              be.qquantize!(n, hx, hy, invScale, zero);
              const got = (await readBytes(be, hy, sh, n + 16)).slice();
              for (const h of held) be.free(h);
              return got;
            };
            const want = await run(js, 0), got = await run(b, shift);
            let bad = -1;
            for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
            expect(bad, `n=${n} invScale=${invScale} zero=${zero} shift=${shift}: byte ${bad} is ${got[bad]}, the oracle's ${want[bad]} (x = ${x[bad]})`).toBe(-1);
          }
        }
    });
  });
});

it('the accelerated backends are under test here (wasm at least; webgpu where an adapter exists)', () => {
  expect(list.some((c) => c.name.startsWith('wasm'))).toBe(true);
});
