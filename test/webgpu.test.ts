// The webgpu backend, where a WebGPU adapter exists (in Node: Dawn from the npm 'webgpu' package on
// SwiftShader, set up by vitest.config.ts; elsewhere each suite is skipped with the reason in its name):
//  1. kernel conformance against the js oracle, as test/kernels.test.ts and test/optim.test.ts do for the
//     synchronous backends, with asynchronous reads, at the gemm tile edges (1, 3, 4, 5, 15, 16, 17, 33, 65)
//     and guard values after every output;
//  2. what the backend itself promises: batching and ordering, the buffer pool, empty work, copied hyper
//     parameters;
//  3. the runtime on webgpu: init's rules, the API with `await data()`, fit → predict on iris, the figures
//     (dispatches per step, bytes read back per epoch, compile time), device loss and re-init.
//
// Tolerances: those of kernels.test.ts / optim.test.ts (stated there beside each check), plus what WGSL
// allows an implementation and the float32 evaluation order changes:
//  - WGSL may flush subnormals to zero (SwiftShader does): an absolute 2^-126 on every float comparison.
//  - x/y and sqrt are 2.5 ulp in WGSL (not correctly rounded): div, reciprocal and sqrt get 3 ulp, and every
//    tolerance that counted on an exact division gets 2 ulp more.
//  - exp/log/tanh/erf are the backend's own float32 library (wgsl.ts, ports of the wasm kernels' Cephes
//    code), not WGSL's builtins (whose spec allows 3 + 2|x| ulp): 4 ulp as for wasm; pow 8 ulp (it goes
//    through e^(b·log a) in float32 pieces where wasm calls Math.pow in float64).
//  - gemm, sums, softmax: float32 accumulation in another order than the oracle's float64, the same
//    bounds as kernels.test.ts.
//  - dropout masks and gatherRows, transpose, fill, copy, comparisons, max/min: exact.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { Binary, LabelMode, Optim, Reduce, Unary } from '../src/backend/codes.js';
import { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { startWebGpu } from '../src/backend/webgpu/device.js';
import { engine } from '../src/engine.js';
import * as sd from '../src/index.js';
import { EPS, mismatch, oracle, put, rng, testGpu, ulp } from './helpers.js';
import { SWIFTSHADER_ICD } from './runtime/webgpu-env.mjs';

// CI installs chromium, whose SwiftShader driver gives Node an adapter (vitest.config.ts): there a skip
// would hide a broken setup, so it fails instead.
if (!!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0' && existsSync(SWIFTSHADER_ICD))
  it('CI with chromium installed has a WebGPU adapter for Node', async () => {
    expect((await testGpu()).reason).toBe('');
  });

const GUARD = 8;
const SENTINEL = 12345.5;
const FTZ = 2 ** -126;
const { gpu, reason } = await testGpu();
const skip = gpu ? '' : ` (skipped: ${reason})`;
const js = oracle();

/** The js oracle's result of running `fn` on fresh uploads. */
function jsRun(n: number, fn: (b: Backend, out: unknown) => void): Float32Array {
  const o = js.alloc(n);
  fn(js, o);
  return js.readSync(o, n);
}

describe.skipIf(!gpu)(`webgpu kernels match the js oracle${skip}`, () => {
  let b: WebGpuBackend;
  beforeAll(async () => {
    const r = await startWebGpu(gpu!, true, 'node');
    if (!r.backend) throw new Error(`webgpu did not start: ${r.reason}`);
    b = r.backend;
  }, 120_000);
  afterAll(() => b?.dispose());

  /** An output buffer of n floats followed by GUARD sentinels. */
  function out(n: number): unknown {
    const h = b.alloc(n + GUARD);
    b.write(h, new Float32Array(n + GUARD).fill(SENTINEL));
    return h;
  }
  /** Reads n floats (and checks the guards after them). */
  async function got(h: unknown, n: number): Promise<Float32Array> {
    const all = await b.read(h, n + GUARD);
    for (let i = n; i < n + GUARD; i++) if (all[i] !== SENTINEL) throw new Error(`kernel wrote past the end of its output (index ${i} of ${n})`);
    return all.subarray(0, n);
  }
  /** Checks queue up and are awaited together: reads overlap instead of waiting one by one. */
  function checker() {
    const pending: Promise<void>[] = [];
    return {
      add(what: string, read: Promise<Float32Array>, want: Float32Array, tol: (i: number) => number): void {
        pending.push(read.then((g) => expect(mismatch(g, want, (i) => tol(i) + FTZ), what).toBe('')));
      },
      async done(): Promise<number> {
        await Promise.all(pending);
        return pending.length;
      },
    };
  }

  // ------------------------------------------------------------------------------------------ gemm
  it('gemm in all four forms at the tile edges, with bias, accumulation and every activation', async () => {
    const S = [1, 3, 4, 5, 15, 16, 17, 33, 65];
    const triples: [number, number, number][] = [];
    S.forEach((s, i) => {
      triples.push([s, s, s], [s, S[(i * 4 + 3) % 9], S[(i * 2 + 5) % 9]], [S[(i * 5 + 1) % 9], s, S[(i * 7 + 2) % 9]]);
    });
    triples.push([2, 3, 0], [1, 70, 130], [130, 65, 20], [64, 64, 64], [1, 1, 1000]);
    const LIP: Record<number, number> = { 0: 1, 1: 1, 2: 1, 3: 1, 4: 1.13, 5: 0.25, 6: 1 };
    const c = checker();
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const r = rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
      triples.forEach(([m, n, k], t) => {
        const act = t % 7;
        const alpha = act === 2 ? 0.1 : act === 3 ? 1.3 : 0;
        const withBias = t % 2 === 0, beta = (t % 3 === 1 ? 1 : 0) as 0 | 1;
        const A = r.array(m * k), B = r.array(k * n), bias = r.array(n), C0 = r.array(m * n);
        const want = jsRun(m * n, (be, o) => {
          be.write(o, C0);
          be.gemm({ m, n, k, a: put(be, A), transA: ta, b: put(be, B), transB: tb, c: o, bias: withBias ? put(be, bias) : null, act: act as any, alpha, beta });
        });
        const hc = out(m * n);
        b.write(hc, C0);
        b.gemm({ m, n, k, a: put(b, A), transA: ta, b: put(b, B), transB: tb, c: hc, bias: withBias ? put(b, bias) : null, act: act as any, alpha, beta });
        const tol = (idx: number) => {
          const i = Math.floor(idx / n), j = idx % n;
          let s = (withBias ? Math.abs(bias[j]) : 0) + (beta ? Math.abs(C0[idx]) : 0);
          for (let p = 0; p < k; p++) s += Math.abs(ta ? A[p * m + i] : A[i * k + p]) * Math.abs(tb ? B[j * k + p] : B[p * n + j]);
          return (k + 4) * EPS * s * LIP[act] + 6 * ulp(want[idx]) + 1e-7;
        };
        c.add(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} m=${m} n=${n} k=${k} act=${act} bias=${withBias} beta=${beta}`, got(hc, m * n), want, tol);
      });
    }
    expect(await c.done()).toBe(4 * triples.length);
  }, 120_000);

  // ------------------------------------------------------------------------------------------ unary
  const UNARY_ULP: Record<string, number> = {
    identity: 0, relu: 0, leakyRelu: 1, elu: 4, gelu: 4, sigmoid: 4, tanh: 4, exp: 4, log: 4, sqrt: 3,
    neg: 0, abs: 0, square: 0, softplus: 4, reciprocal: 3, sign: 0,
  };
  const SPECIAL = [0, -0, 1, -1, 1e-30, -1e-30, 88.7, -88.7, 89, -104, 1e30, -1e30, Infinity, -Infinity, NaN, 20, -20, 9, -9];
  const UNARY_SIZES = [0, 1, 3, 4, 5, 15, 16, 17, 33, 65, 257, 1000];
  function unaryInput(op: string, n: number, seed: number): Float32Array {
    const r = rng(seed);
    const lo = op === 'log' || op === 'sqrt' ? 0 : op === 'exp' || op === 'softplus' ? -30 : -10;
    const x = r.array(n, lo, op === 'exp' ? 30 : 10);
    for (let i = 0; i < n && i < SPECIAL.length; i += 3) x[i] = SPECIAL[(i / 3 + seed) % SPECIAL.length];
    return x;
  }

  it('unary: every code at edge sizes, with special values, and in place', async () => {
    const c = checker();
    for (const [op, code] of Object.entries(Unary)) {
      const alpha = op === 'leakyRelu' ? 0.02 : op === 'elu' ? 1.5 : 0;
      for (const n of UNARY_SIZES) {
        const x = unaryInput(op, n, n + code);
        const want = jsRun(n, (be, o) => be.unary(code, n, put(be, x), o, alpha));
        const tol = (i: number) => UNARY_ULP[op] * ulp(want[i]) + (UNARY_ULP[op] ? 2 * EPS * Math.min(1, Math.abs(x[i])) * 1e-6 : 0);
        const hx = put(b, x), hy = out(n);
        b.unary(code, n, hx, hy, alpha);
        c.add(`${op} n=${n}`, got(hy, n), want, tol);
        b.unary(code, n, hx, hx, alpha);
        c.add(`${op} in place n=${n}`, b.read(hx, n), want, tol);
      }
    }
    await c.done();
  }, 60_000);

  it('unary gradients: every code at edge sizes, and in place (dx over dy)', async () => {
    const c = checker();
    for (const [op, code] of Object.entries(Unary)) {
      const alpha = op === 'leakyRelu' ? 0.02 : op === 'elu' ? 1.5 : 0;
      for (const n of UNARY_SIZES) {
        const r = rng(100 + n);
        const x = unaryInput(op, n, n + code + 1).map((v) => (Number.isFinite(v) && Math.abs(v) < 50 ? v : r.uniform(0.1, 5)));
        const dy = r.array(n);
        const y = jsRun(n, (be, o) => be.unary(code, n, put(be, x), o, alpha));
        const want = jsRun(n, (be, o) => be.unaryGrad(code, n, put(be, x), put(be, y), put(be, dy), o, alpha));
        // kernels.test.ts's bound, with 2 ulp more for WGSL's inexact division and sqrt.
        const tol = (i: number) => (UNARY_ULP[op] * 2 + 5) * ulp(want[i]) + (op === 'gelu' ? 3e-7 * Math.abs(dy[i]) : 0);
        const hdx = out(n);
        b.unaryGrad(code, n, put(b, x), put(b, y), put(b, dy), hdx, alpha);
        c.add(`${op}' n=${n}`, got(hdx, n), want, tol);
        const hdy = put(b, dy);
        b.unaryGrad(code, n, put(b, x), put(b, y), hdy, hdy, alpha);
        c.add(`${op}' in place n=${n}`, b.read(hdy, n), want, tol);
      }
    }
    await c.done();
  }, 60_000);

  // ------------------------------------------------------------------------------------------ binary
  it('binary ops over every broadcast pattern at edge sizes, and in place', async () => {
    const r = rng(11);
    const c = checker();
    for (const [op, code] of Object.entries(Binary)) {
      for (const rows of [1, 3, 5]) for (const cols of [1, 4, 17, 65]) {
        const outer = (rows + cols) % 3 === 0 ? 2 : 1;
        const n = outer * rows * cols;
        const modes = { full: { s0: rows * cols, s1: cols, s2: 1, len: n }, row: { s0: 0, s1: 0, s2: 1, len: cols }, col: { s0: 0, s1: 1, s2: 0, len: rows }, scalar: { s0: 0, s1: 0, s2: 0, len: 1 }, outerRow: { s0: cols, s1: 0, s2: 1, len: outer * cols } };
        for (const [am, as] of Object.entries(modes)) for (const [bm, bs] of Object.entries(modes)) {
          const A = r.array(as.len, op === 'pow' ? 0.1 : -4, 4), B = r.array(bs.len, op === 'pow' ? -3 : -4, 4);
          if (op === 'equal') for (let i = 0; i < Math.min(A.length, B.length); i += 2) B[i] = A[i];
          if (op === 'div') for (let i = 0; i < B.length; i += 7) B[i] = 0;
          if (op === 'max' || op === 'min') A[0] = NaN;
          const want = jsRun(n, (be, o) => be.binary(code, outer, rows, cols, put(be, A), as, put(be, B), bs, o));
          const tol = (i: number) => (op === 'pow' ? 8 : op === 'div' ? 3 : 0) * ulp(want[i]);
          const hb = out(n);
          b.binary(code, outer, rows, cols, put(b, A), as, put(b, B), bs, hb);
          c.add(`${op} ${am}⊕${bm} outer=${outer} rows=${rows} cols=${cols}`, got(hb, n), want, tol);
          if (am === 'full') {
            const ha = put(b, A);
            b.binary(code, outer, rows, cols, ha, as, put(b, B), bs, ha);
            c.add(`${op} in place ${am}⊕${bm}`, b.read(ha, n), want, tol);
          }
        }
      }
    }
    await c.done();
  }, 60_000);

  it('pow follows Math.pow on signs, zeros, infinities and NaN', async () => {
    const vals = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, -8, Infinity, -Infinity, NaN, 1e-3, 7.5];
    const A: number[] = [], B: number[] = [];
    for (const a of vals) for (const e of vals) { A.push(a); B.push(e); }
    const n = A.length, s = { s0: 0, s1: n, s2: 1 };
    const want = jsRun(n, (be, o) => be.binary(Binary.pow, 1, 1, n, put(be, A), s, put(be, B), s, o));
    const hb = out(n);
    b.binary(Binary.pow, 1, 1, n, put(b, A), s, put(b, B), s, hb);
    expect(mismatch(await got(hb, n), want, (i) => 8 * ulp(want[i]) + FTZ)).toBe('');
  });

  // ------------------------------------------------------------------------------------------ reductions
  it('reductions over rows, columns and middle axes, both kernel shapes', async () => {
    const r = rng(12);
    const c = checker();
    for (const [op, code] of Object.entries(Reduce)) {
      for (const outer of [1, 3]) for (const n of [1, 3, 17, 65, 300]) for (const inner of [1, 4, 33]) {
        const x = r.array(outer * n * inner, -3, 3);
        if (n > 2 && (op === 'argmax' || op === 'argmin')) x[inner] = x[0];
        const want = jsRun(outer * inner, (be, o) => be.reduce(code, outer, n, inner, put(be, x), o));
        const tol = (i: number) => {
          if (!['sum', 'mean', 'sumSquares'].includes(op)) return 0;
          const o = Math.floor(i / inner), k = i % inner;
          let s = 0;
          for (let j = 0; j < n; j++) { const v = x[(o * n + j) * inner + k]; s += op === 'sumSquares' ? v * v : Math.abs(v); }
          return ((n + 2) * EPS * s) / (op === 'mean' ? n : 1) + 3 * ulp(want[i]);
        };
        const hb = out(outer * inner);
        b.reduce(code, outer, n, inner, put(b, x), hb);
        c.add(`${op} outer=${outer} n=${n} inner=${inner}`, got(hb, outer * inner), want, tol);
      }
      // A long axis (one workgroup per output, several strides each).
      const x = r.array(5000, -3, 3);
      x[4321] = 7;
      x[4999] = 7;
      const want = jsRun(1, (be, o) => be.reduce(code, 1, 5000, 1, put(be, x), o));
      const hb = out(1);
      b.reduce(code, 1, 5000, 1, put(b, x), hb);
      let s = 0;
      for (const v of x) s += op === 'sumSquares' ? v * v : Math.abs(v);
      c.add(`${op} n=5000`, got(hb, 1), want, () => (['sum', 'mean', 'sumSquares'].includes(op) ? (5002 * EPS * s) / (op === 'mean' ? 5000 : 1) : 0));
    }
    await c.done();
  }, 60_000);

  it('max, min, argmax and argmin propagate NaN like the oracle, on both kernel shapes', async () => {
    const c = checker();
    for (const n of [9, 300]) {
      const x = rng(n).array(n);
      x[1] = NaN;
      x[5] = NaN;
      for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
        const want = jsRun(1, (be, o) => be.reduce(Reduce[op], 1, n, 1, put(be, x), o));
        const hb = out(1);
        b.reduce(Reduce[op], 1, n, 1, put(b, x), hb);
        c.add(`${op} n=${n}`, got(hb, 1), want, () => 0);
      }
    }
    await c.done();
  });

  // ------------------------------------------------------------------------------------------ softmax, xent
  it('softmax and log-softmax along rows at edge sizes, special rows, and in place', async () => {
    const r = rng(13);
    const c = checker();
    for (const rows of [1, 2, 5]) for (const cols of [1, 3, 4, 5, 16, 17, 33, 65, 129]) for (const log of [false, true]) {
      const x = r.array(rows * cols, -20, 20);
      if (cols > 3) x[1] = 80;
      const want = jsRun(rows * cols, (be, o) => be.softmax(rows, cols, put(be, x), o, log));
      const tol = (i: number) => (log ? (cols + 8) * EPS * (Math.abs(want[i]) + 100) : (cols + 10) * EPS * Math.abs(want[i]) + 1e-30);
      const hx = put(b, x), hy = out(rows * cols);
      b.softmax(rows, cols, hx, hy, log);
      c.add(`rows=${rows} cols=${cols} log=${log}`, got(hy, rows * cols), want, tol);
      b.softmax(rows, cols, hx, hx, log);
      c.add(`in place rows=${rows} cols=${cols} log=${log}`, b.read(hx, rows * cols), want, tol);
    }
    // Rows with NaN, +Inf, all −Inf, and −Inf entries beside finite ones.
    const x = Float32Array.from([1, NaN, 2, 3, Infinity, 0, -Infinity, -Infinity, -Infinity, -Infinity, 2, 1]);
    for (const log of [false, true]) {
      const want = jsRun(12, (be, o) => be.softmax(4, 3, put(be, x), o, log));
      const hy = out(12);
      b.softmax(4, 3, put(b, x), hy, log);
      c.add(`special rows log=${log}`, got(hy, 12), want, (i) => 16 * EPS * Math.abs(want[i]));
    }
    await c.done();
  }, 60_000);

  it('fused softmax cross-entropy and its gradient, index and dense labels, in place', async () => {
    const r = rng(14);
    const c = checker();
    for (const rows of [1, 3, 17]) for (const cols of [1, 2, 3, 5, 10, 17, 65]) for (const mode of [LabelMode.index, LabelMode.dense]) {
      const z = r.array(rows * cols, -10, 10);
      const labels = new Float32Array(mode === LabelMode.index ? rows : rows * cols);
      if (mode === LabelMode.index) for (let i = 0; i < rows; i++) labels[i] = r.int(cols);
      else for (let i = 0; i < rows; i++) { let s = 0; for (let k = 0; k < cols; k++) s += labels[i * cols + k] = r.next(); for (let k = 0; k < cols; k++) labels[i * cols + k] /= s; }
      if (mode === LabelMode.index && rows > 2) labels[1] = cols; // out of range → NaN loss and gradient row
      const dy = r.array(rows, 0.1, 2);
      const jp = js.alloc(rows * cols), jl = js.alloc(rows), jd = js.alloc(rows * cols);
      js.softmaxXent(rows, cols, put(js, z), put(js, labels), mode, jp, jl);
      js.softmaxXentGrad(rows, cols, jp, put(js, labels), mode, put(js, dy), jd);
      const wp = js.readSync(jp, rows * cols), wl = js.readSync(jl, rows), wd = js.readSync(jd, rows * cols);
      const bp = out(rows * cols), bl = out(rows), bd = out(rows * cols);
      b.softmaxXent(rows, cols, put(b, z), put(b, labels), mode, bp, bl);
      c.add(`probs rows=${rows} cols=${cols} mode=${mode}`, got(bp, rows * cols), wp, (i) => (cols + 10) * EPS * Math.abs(wp[i]) + 1e-30);
      c.add(`loss rows=${rows} cols=${cols} mode=${mode}`, got(bl, rows), wl, () => (cols + 8) * EPS * 24);
      b.softmaxXentGrad(rows, cols, bp, put(b, labels), mode, put(b, dy), bd);
      c.add(`grad rows=${rows} cols=${cols} mode=${mode}`, got(bd, rows * cols), wd, () => (cols + 12) * EPS * 2);
      b.softmaxXentGrad(rows, cols, bp, put(b, labels), mode, put(b, dy), bp); // dlogits over probs
      c.add(`grad in place rows=${rows} cols=${cols} mode=${mode}`, got(bp, rows * cols), wd, () => (cols + 12) * EPS * 2);
    }
    await c.done();
  }, 60_000);

  // ------------------------------------------------------------------------------------------ data movement
  it('transpose, fill, copy, affine, axpy and gatherRows at edge sizes', async () => {
    const r = rng(15);
    const c = checker();
    for (const rows of [0, 1, 3, 5, 16, 17, 33]) for (const cols of [1, 3, 4, 17, 33]) {
      const x = r.array(rows * cols);
      const want = jsRun(rows * cols, (be, o) => be.transpose(rows, cols, put(be, x), o));
      const hb = out(rows * cols);
      b.transpose(rows, cols, put(b, x), hb);
      c.add(`transpose ${rows}x${cols}`, got(hb, rows * cols), want, () => 0);
    }
    for (const n of [0, 1, 3, 4, 5, 15, 16, 17, 33, 65, 1000]) {
      const x = r.array(n), y = r.array(n);
      const hf = out(n);
      b.fill(n, hf, -2.5);
      c.add(`fill n=${n}`, got(hf, n), new Float32Array(n).fill(-2.5), () => 0);
      const hc = out(n);
      b.copy(n, put(b, x), hc);
      c.add(`copy n=${n}`, got(hc, n), x, () => 0);
      const wa = jsRun(n, (be, o) => be.affine(n, put(be, x), o, 1.7, -0.3));
      const ha = out(n);
      b.affine(n, put(b, x), ha, 1.7, -0.3);
      c.add(`affine n=${n}`, got(ha, n), wa, (i) => ulp(wa[i]) + ulp(1.7 * x[i]));
      const wy = jsRun(n, (be, o) => { be.write(o, y); be.axpy(n, -0.7, put(be, x), o); });
      const by = put(b, y);
      b.axpy(n, -0.7, put(b, x), by);
      c.add(`axpy n=${n}`, b.read(by, n), wy, (i) => ulp(wy[i]) + ulp(0.7 * x[i]));
    }
    for (const [rows, cols, xr] of [[1, 1, 1], [5, 3, 7], [17, 33, 4], [65, 16, 65]]) {
      const x = r.array(xr * cols);
      const idx = Float32Array.from({ length: rows }, () => r.int(xr));
      const want = jsRun(rows * cols, (be, o) => be.gatherRows(rows, cols, put(be, x), put(be, idx), o));
      const hy = out(rows * cols);
      b.gatherRows(rows, cols, put(b, x), put(b, idx), hy);
      c.add(`gatherRows ${rows}x${cols} from ${xr}`, got(hy, rows * cols), want, () => 0);
    }
    await c.done();
  }, 60_000);

  it('dropout masks are bit-identical to the oracle (same counter-based hash), in place too', async () => {
    const c = checker();
    for (const n of [1, 5, 17, 1000]) for (const keep of [0, 0.3, 0.5, 0.9, 1]) for (const [seed, offset] of [[0, 0], [7, 12345], [0xdeadbeef, 0xfffffff0]]) {
      const x = rng(n + seed).array(n);
      const jm = js.alloc(n);
      const wy = jsRun(n, (be, o) => be.dropout(n, put(be, x), o, jm, keep, seed, offset));
      const wm = js.readSync(jm, n);
      const hy = out(n), hm = out(n);
      b.dropout(n, put(b, x), hy, hm, keep, seed, offset);
      c.add(`dropout y n=${n} keep=${keep} seed=${seed}`, got(hy, n), wy, () => 0);
      c.add(`dropout mask n=${n} keep=${keep} seed=${seed}`, got(hm, n), wm, () => 0);
      const hx = put(b, x), hm2 = out(n);
      b.dropout(n, hx, hx, hm2, keep, seed, offset);
      c.add(`dropout in place n=${n} keep=${keep}`, b.read(hx, n), wy, () => 0);
    }
    await c.done();
  }, 60_000);

  // ------------------------------------------------------------------------------------------ optimizers
  // optim.test.ts's kernel cases and tolerances (see the reasons there): float32 per element against the
  // oracle's float64, three steps, each from the oracle's previous state.
  const l1 = 0.003, gs = 0.7;
  const OPT: { name: string; kind: number; hyper: (t: number) => number[]; s1: (n: number) => number; s2: (n: number) => number }[] = [];
  for (const [mu, nest] of [[0, 0], [0.9, 0], [0.9, 1]])
    OPT.push({ name: `sgd momentum ${mu}${nest ? ' nesterov' : ''}`, kind: Optim.sgd, hyper: (t) => [0.05, mu, nest ? 0 : 0.2, 0.01, nest, t === 1 ? 1 : 0, l1, gs], s1: (n) => (mu ? n : 0), s2: () => 0 });
  for (const dec of [0, 1]) for (const ams of [0, 1])
    OPT.push({ name: `adam${dec ? 'w' : ''}${ams ? ' amsgrad' : ''}`, kind: Optim.adam, hyper: (t) => [0.01, 0.9, 0.999, 1e-8, 0.05, dec, 1 - 0.9 ** t, 1 - 0.999 ** t, l1, gs, ams], s1: (n) => n, s2: (n) => (ams ? 2 * n : n) });
  for (const mu of [0, 0.8]) for (const cen of [0, 1])
    OPT.push({ name: `rmsprop momentum ${mu}${cen ? ' centered' : ''}`, kind: Optim.rmsprop, hyper: () => [0.01, 0.9, 1e-8, 0.01, mu, cen, l1, gs], s1: (n) => n, s2: (n) => (mu ? n : 0) + (cen ? n : 0) });
  OPT.push({ name: 'adagrad', kind: Optim.adagrad, hyper: (t) => [0.1 / (1 + (t - 1) * 0.01), 1e-10, 0.01, l1, gs], s1: (n) => n, s2: () => 0 });

  it('optimStep: every kind and flag combination, three steps, at edge sizes', async () => {
    for (const kc of OPT) {
      const r = rng(kc.kind * 100 + kc.name.length);
      for (const n of [1, 3, 4, 5, 16, 17, 65, 1000]) {
        const n1 = kc.s1(n), n2 = kc.s2(n);
        let p: Float32Array = r.array(n, 0.5, 1).map((x) => (r.next() < 0.5 ? -x : x));
        if (n > 2) p[1] = 0;
        const sgn = p.map((x) => (x < 0 ? -1 : 1));
        let s1 = new Float32Array(n1), s2 = new Float32Array(n2);
        for (let t = 1; t <= 3; t++) {
          const g = r.array(n, 0.1, 2).map((x, i) => x * sgn[i]);
          const hyper = kc.hyper(t);
          const jp = put(js, p), j1 = n1 ? put(js, s1) : null, j2 = n2 ? put(js, s2) : null;
          js.optimStep(kc.kind as any, n, jp, put(js, g), j1, j2, hyper);
          const want = { p: js.readSync(jp, n), s1: j1 ? js.readSync(j1, n1) : new Float32Array(0), s2: j2 ? js.readSync(j2, n2) : new Float32Array(0) };
          const bp = out(n), bg = out(n), b1 = n1 ? out(n1) : null, b2 = n2 ? out(n2) : null;
          b.write(bp, p);
          b.write(bg, g);
          if (b1) b.write(b1, s1);
          if (b2) b.write(b2, s2);
          const h = hyper.slice();
          b.optimStep(kc.kind as any, n, bp, bg, b1, b2, h);
          h.fill(NaN); // the backend copied the values during the call
          const [gp, gg, g1, g2] = await Promise.all([got(bp, n), got(bg, n), b1 ? got(b1, n1) : new Float32Array(0), b2 ? got(b2, n2) : new Float32Array(0)]);
          const tolP = (i: number) => 2 * ulp(p[i]) + 2 * ulp(want.p[i]) + 16 * EPS * Math.abs(want.p[i] - p[i]) + FTZ;
          const tolS = (w: Float32Array) => (i: number) => 12 * EPS * Math.abs(w[i]) + FTZ;
          const ctx = `${kc.name} n=${n} step ${t}`;
          expect(Array.from(gg), `${ctx}: grad untouched`).toEqual(Array.from(g));
          expect(mismatch(gp, want.p, tolP), `${ctx}: param`).toBe('');
          expect(mismatch(g1, want.s1, tolS(want.s1)), `${ctx}: s1`).toBe('');
          expect(mismatch(g2, want.s2, tolS(want.s2)), `${ctx}: s2`).toBe('');
          p = want.p;
          s1 = want.s1;
          s2 = want.s2;
        }
      }
    }
  }, 60_000);

  // ------------------------------------------------------------------------------------------ the backend
  it('batches hundreds of dispatches per submission and keeps their order', async () => {
    const before = { ...b.counters };
    const x = put(b, new Float32Array(1000).fill(1)), y = put(b, new Float32Array(1000));
    for (let i = 0; i < 700; i++) b.axpy(1000, 1, x, y); // more than one batch (256 dispatches)
    const r = await b.read(y, 1000);
    expect(r.every((v) => v === 700)).toBe(true);
    const submits = b.counters.submits - before.submits;
    expect(b.counters.dispatches - before.dispatches).toBe(700);
    expect(submits).toBeLessThanOrEqual(5); // 700 / 256 → 3 batches (the read rides on the last)
    expect(b.counters.bytesRead - before.bytesRead).toBe(4000);
  });

  it('a write waits for the recorded kernels that use its buffer; a read sees everything before it', async () => {
    const src = put(b, [1, 2, 3, 4]), dst = b.alloc(4);
    b.copy(4, src, dst); // recorded, not yet submitted
    b.write(src, Float32Array.of(9, 9, 9, 9)); // must not overtake the copy
    const first = b.read(dst, 4);
    b.copy(4, src, dst); // after the read was issued: the read must not see it
    expect(Array.from(await first)).toEqual([1, 2, 3, 4]);
    expect(Array.from(await b.read(dst, 4))).toEqual([9, 9, 9, 9]);
    b.write(src, Float32Array.of(5, 6), 2); // at an offset
    expect(Array.from(await b.read(src, 4))).toEqual([9, 9, 5, 6]);
  });

  it('one buffer in several slots of a kernel (x·xᵀ, x⊙x in place, y += 2y, relu\' from y = x): bound once', async () => {
    const r = rng(21);
    const X = r.array(17 * 5);
    const want = jsRun(17 * 17, (be, o) => { const h = put(be, X); be.gemm({ m: 17, n: 17, k: 5, a: h, transA: false, b: h, transB: true, c: o, bias: null, act: 0, alpha: 0, beta: 0 }); });
    const hx = put(b, X), hc = out(17 * 17);
    b.gemm({ m: 17, n: 17, k: 5, a: hx, transA: false, b: hx, transB: true, c: hc, bias: null, act: 0, alpha: 0, beta: 0 });
    const c = checker();
    c.add('x·xᵀ', got(hc, 17 * 17), want, (i) => 9 * EPS * 5 + 6 * ulp(want[i]));
    const full = { s0: 85, s1: 5, s2: 1 };
    b.binary(Binary.mul, 1, 17, 5, hx, full, hx, full, hx);
    c.add('x⊙x in place', b.read(hx, 85), X.map((v) => Math.fround(v * v)), () => 0);
    const hy = put(b, X);
    b.axpy(85, 2, hy, hy);
    c.add('y += 2y', b.read(hy, 85), X.map((v) => Math.fround(3 * v)), (i) => ulp(3 * X[i]));
    const hr = put(b, X), hd = put(b, new Float32Array(85).fill(2));
    b.unaryGrad(Unary.relu, 85, hr, hr, hd, hd, 0);
    c.add("relu' with x = y and dx = dy", b.read(hd, 85), X.map((v) => (v > 0 ? 2 : 0)), () => 0);
    await c.done();
  });

  it('free returns buffers to the pool (no new GPUBuffer for a size seen before); stats count them', async () => {
    const s0 = b.stats();
    const h1 = b.alloc(1000);
    const created = b.counters.buffersCreated;
    expect(b.stats().allocatedBytes - s0.allocatedBytes).toBeGreaterThanOrEqual(4000);
    b.free(h1);
    expect(b.stats().allocatedBytes).toBe(s0.allocatedBytes);
    const h2 = b.alloc(990); // same bucket
    expect(b.counters.buffersCreated).toBe(created);
    expect((h2 as any).buffer).toBe((h1 as any).buffer);
    b.free(h2);
    b.free(h2); // twice: harmless
    expect(b.stats().reservedBytes).toBeGreaterThanOrEqual(b.stats().allocatedBytes);
  });

  it('empty work is accepted and does nothing; readSync says to await', async () => {
    const e = b.alloc(0), z = put(b, [7]);
    const d0 = b.counters.dispatches;
    b.unary(Unary.exp, 0, e, e, 0);
    b.binary(Binary.add, 0, 3, 3, e, { s0: 0, s1: 0, s2: 0 }, e, { s0: 0, s1: 0, s2: 0 }, e);
    b.gemm({ m: 0, n: 5, k: 3, a: e, transA: false, b: e, transB: false, c: e, bias: null, act: 0, alpha: 0, beta: 0 });
    b.reduce(Reduce.sum, 0, 5, 1, e, e);
    b.softmax(0, 4, e, e, false);
    b.softmaxXent(0, 4, e, e, 0, e, e);
    b.transpose(0, 3, e, e);
    b.fill(0, e, 1);
    b.dropout(0, e, e, e, 0.5, 1, 0);
    b.optimStep(Optim.adam, 0, e, e, e, e, [0.1, 0.9, 0.999, 1e-8, 0, 0, 0.1, 0.001, 0, 1, 0]);
    expect(b.counters.dispatches).toBe(d0);
    expect((await b.read(e, 0)).length).toBe(0);
    expect(Array.from(await b.read(z, 1))).toEqual([7]);
    expect(() => b.readSync(z, 1)).toThrow(/asynchronous.*await tensor\.data\(\)/);
  });
});

// ================================================================================ 3. the runtime on webgpu

function irisData() {
  const lines = readFileSync(new URL('../data/iris.csv', import.meta.url), 'utf8').trim().split(/\r?\n/).slice(1);
  const names: string[] = [];
  const x: number[][] = [], y: number[] = [];
  for (const l of lines) {
    const cells = l.split(',');
    const label = cells[cells.length - 1].trim();
    if (!names.includes(label)) names.push(label);
    x.push(cells.slice(0, 4).map(Number));
    y.push(names.indexOf(label));
  }
  // Standardised with the training rows' statistics; every 5th row is held out (stratified: the file is
  // sorted by class, 50 rows each).
  const test = (i: number) => i % 5 === 2;
  const mean = [0, 1, 2, 3].map((j) => x.filter((_, i) => !test(i)).reduce((s, r) => s + r[j], 0) / 120);
  const std = [0, 1, 2, 3].map((j) => Math.sqrt(x.filter((_, i) => !test(i)).reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / 120));
  const z = x.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
  const pick = (want: boolean) => ({ x: z.filter((_, i) => test(i) === want), y: y.filter((_, i) => test(i) === want) });
  return { train: pick(false), test: pick(true) };
}

async function accuracyOf(model: sd.Sequential, x: number[][], y: number[]): Promise<number> {
  const pred = model.predict(x);
  const p = await pred.data();
  pred.dispose();
  const k = p.length / y.length;
  let hits = 0;
  y.forEach((label, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    if (best === label) hits++;
  });
  return hits / y.length;
}

describe.skipIf(!gpu)(`the runtime on webgpu${skip}`, () => {
  afterAll(() => sd.shutdown());

  it("init's rules: 'webgpu' needs a GPU object in Node; 'auto' uses WebGPU only with webgpu: true", async () => {
    await expect(sd.init({ backend: 'webgpu' })).rejects.toThrow(/cannot start here: Node has no navigator\.gpu.*create\(\[\]\)/);
    await expect(sd.init({ backend: 'webgpu', gpu: {} as any })).rejects.toThrow(/gpu must be a GPU object/);
    await expect(sd.init({ backend: 'auto', webgpu: 'yes' as any })).rejects.toThrow(/webgpu must be true or false/);
    const a = await sd.init({ backend: 'auto', gpu: gpu! });
    expect(a.backend).not.toBe('webgpu');
    expect(a.notes.join('\n')).toMatch(/webgpu: not tried \(opt in with init\(\{webgpu: true\}\)/);
    const off = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: false });
    expect(off.notes.join('\n')).toMatch(/webgpu: not tried/);
    const on = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: true });
    expect(on.backend).toBe('webgpu');
  });

  it('fit → predict on iris reaches the js backend\'s accuracy; dispatches per step, bytes per epoch and compile time', async () => {
    const { train, test } = irisData();
    let be: WebGpuBackend | null = null;
    const run = async () => {
      const model = sd.mlp([4, 16, 3], { seed: 3 });
      const optimizer = sd.optimizers.adam({ lr: 1e-2 });
      const steps: { dispatches: number; submits: number; ms: number }[] = [];
      const epochs: number[] = [];
      let last = performance.now(), d0 = be?.counters.dispatches ?? 0, s0 = be?.counters.submits ?? 0, r0 = be?.counters.bytesRead ?? 0;
      const h = await model.fit(train.x, train.y, {
        loss: 'softmaxCrossEntropy', optimizer, epochs: 40, batchSize: 16, seed: 3,
        callbacks: {
          onBatchEnd: () => {
            const now = performance.now();
            if (be) steps.push({ dispatches: be.counters.dispatches - d0, submits: be.counters.submits - s0, ms: now - last });
            last = now;
            d0 = be?.counters.dispatches ?? 0;
            s0 = be?.counters.submits ?? 0;
          },
          onEpochEnd: () => {
            epochs.push((be?.counters.bytesRead ?? 0) - r0);
            r0 = be?.counters.bytesRead ?? 0;
          },
        },
      });
      const acc = await accuracyOf(model, test.x, test.y);
      optimizer.dispose();
      model.dispose();
      return { h, acc, steps, epochs };
    };
    // The js oracle first, then the same training on webgpu (which the next test goes on using).
    await sd.init({ backend: 'js' });
    const j = await run();
    const info = await sd.init({ backend: 'auto', gpu: gpu!, webgpu: true });
    expect(info.backend).toBe('webgpu');
    expect(info.notes.join('\n')).toMatch(/webgpu: adapter .*pipelines compiled in \d+ ms/);
    be = engine.backend as WebGpuBackend;
    const g = await run();
    const bee = be;
    // The figure for the MLP of the design notes, 784-512-256-10 (relu, adam, index labels): one step's
    // dispatches and submissions, counted on a small batch (the count does not depend on its size).
    const big = sd.mlp([784, 512, 256, 10], { seed: 1 });
    const bx = sd.tensor(rng(1).array(16 * 784), [16, 784]), by = sd.tensor(Array.from({ length: 16 }, (_, i) => i % 10));
    const bigSteps: number[][] = [];
    let c0 = { ...bee.counters };
    const bigOpt = sd.optimizers.adam({ lr: 1e-3 });
    await big.fit(bx, by, {
      loss: 'softmaxCrossEntropy', optimizer: bigOpt, epochs: 1, batchSize: 8, seed: 1,
      callbacks: { onBatchEnd: () => { bigSteps.push([bee.counters.dispatches - c0.dispatches, bee.counters.submits - c0.submits]); c0 = { ...bee.counters }; } },
    });
    console.log(`MLP 784-512-256-10 on webgpu: ${bigSteps[1][0]} dispatches and ${bigSteps[1][1]} submission per training step`);
    // gather 2, forward 3 gemm, loss 2 (softmaxXent, mean), backward from the seed: fill 1, mean's rule 2
    // (scale, broadcast), softmaxXentGrad 1, layers 3 + 4 + 3 (the first layer's input needs no gradient),
    // tally 5, adam 6.
    expect(bigSteps[1]).toEqual([32, 1]);
    bigOpt.dispose();
    big.dispose();
    sd.dispose([bx, by]);
    console.log(
      `iris on webgpu: test accuracy ${g.acc.toFixed(3)} (js ${j.acc.toFixed(3)}), final loss ${g.h.loss.at(-1)!.toFixed(4)} (js ${j.h.loss.at(-1)!.toFixed(4)}); ` +
        `dispatches per step ${g.steps[1].dispatches}, submits per step ${g.steps[1].submits}, bytes read back per epoch ${g.epochs[1]}; ` +
        `compile ${Math.round(bee.counters.compileMs)} ms for ${bee.counters.pipelines} pipelines; first step ${g.steps[0].ms.toFixed(1)} ms, later steps ${(g.steps.slice(1).reduce((s, x) => s + x.ms, 0) / (g.steps.length - 1)).toFixed(1)} ms`,
    );
    expect(g.acc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(g.acc - j.acc)).toBeLessThanOrEqual(0.07);
    // Same seeds, same math: the first epoch's loss agrees to float32 noise, the last stays close.
    expect(Math.abs(g.h.loss[0] - j.h.loss[0])).toBeLessThan(1e-4 * Math.max(1, j.h.loss[0]));
    expect(Math.abs(g.h.loss.at(-1)! - j.h.loss.at(-1)!)).toBeLessThan(0.02);
    // One readback per epoch: the loss total (1 float) and the hits (1 float). (fit's data checks read x
    // and y once before the first epoch.)
    expect(g.epochs.slice(1)).toEqual(new Array(g.epochs.length - 1).fill(8));
    // relu MLP, index labels, adam: gather 2, forward 2 gemm, loss 2, seed 1, mean's rule 2,
    // softmaxXentGrad 1, backward 3 + 3 (no gradient for the data), tally 5, adam 4.
    expect(g.steps[1].dispatches).toBe(25);
    expect(g.steps[1].submits).toBe(1);
  }, 180_000);

  it('the API on webgpu: ops, autograd, await data(), a clear error from dataSync(); fit with validation and early stopping', async () => {
    if (engine.backend?.name !== 'webgpu') await sd.init({ backend: 'webgpu', gpu: gpu! }); // else the iris test's
    const a = sd.tensor([[1, 2], [3, 4]]);
    const c = sd.matmul(a, sd.tensor([[5, 6], [7, 8]])).add(1).relu();
    expect(Array.from(await c.data())).toEqual([20, 23, 44, 51]);
    const sm = sd.softmax(a);
    expect(await sm.array()).toEqual([[expect.closeTo(0.26894, 4), expect.closeTo(0.73106, 4)], [expect.closeTo(0.26894, 4), expect.closeTo(0.73106, 4)]]);
    expect(() => c.dataSync()).toThrow(/reads asynchronously; use `await tensor\.data\(\)`/);
    const picked = sd.gatherRows(a, sd.tensor([1, 0, 5])); // 5 is not a row: NaN on an async backend
    expect(Array.from(await picked.data())).toEqual([3, 4, 1, 2, NaN, NaN]);
    // Autograd: d/dw Σ (x·w)² = 2·xᵀ(x·w).
    const x = sd.tensor([[1, 2], [3, 4], [5, 6]]);
    const w = sd.tensor([[0.5], [-0.25]]);
    const { value, grads } = sd.valueAndGrad((ww: sd.Tensor) => sd.sum(sd.matmul(x, ww).square()))(w);
    expect((await value.data())[0]).toBeCloseTo(0 + 0.25 + 1, 6); // x·w = [0, 0.5, 1]
    expect(Array.from(await grads[0].data())).toEqual([2 * (0 + 1.5 + 5), 2 * (0 + 2 + 6)]);
    sd.dispose([a, c, sm, picked, x, w, value, grads]);
    // fit's paths that read: a validation split, early stopping that keeps the best weights, evaluate().
    const { train } = irisData();
    const model = sd.mlp([4, 8, 3], { seed: 2 });
    const optimizer = sd.optimizers.sgd({ lr: 2 });
    const h = await model.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', epochs: 30, batchSize: 16, validationSplit: 0.25, earlyStopping: { patience: 3 }, optimizer });
    expect(h.valLoss.length).toBe(h.epochs.length);
    const ev = await model.evaluate(train.x, train.y, { loss: 'softmaxCrossEntropy' });
    expect(ev.accuracy).toBeGreaterThan(0.6);
    if (h.stoppedEarly) expect(h.bestEpoch).toBeLessThan(h.epochs.length - 1);
    optimizer.dispose();
    model.dispose();
  });

  it('a lost device makes later calls throw a clear error; init() again starts a new one', async () => {
    await sd.init({ backend: 'webgpu', gpu: gpu! });
    const t = sd.tensor([1, 2, 3]);
    const be = engine.backend as WebGpuBackend;
    be.device.destroy(); // what a driver reset or a GPU unplug looks like from here
    await new Promise((r) => setTimeout(r, 50));
    expect(() => t.add(1)).toThrow(/the GPU device was lost.*init\(\) again/);
    await expect(t.data()).rejects.toThrow(/the GPU device was lost/);
    expect(sd.info().notes.join('\n')).toMatch(/device was lost/);
    const again = await sd.init({ backend: 'webgpu', gpu: gpu! });
    expect(again.backend).toBe('webgpu');
    const u = sd.tensor([1, 2, 3]).mul(2);
    expect(Array.from(await u.data())).toEqual([2, 4, 6]);
    u.dispose();
  });
});
