// Kernel conformance: every backend against the js oracle (which computes in float64 and rounds once),
// kernel by kernel, at SIMD tile edges, with broadcasting, in place, and with guard values after every
// output to catch out-of-bounds writes. Tolerances are stated beside each check with their reason.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { Binary, LabelMode, Reduce, Unary } from '../src/backend/codes.js';
import { EDGE_SIZES, EPS, candidates, mismatch, oracle, put, rng, ulp } from './helpers.js';
import { continueStream, rng as seeded, type StreamState } from '../src/data/random.js';

const GUARD = 8;
const SENTINEL = 12345.5;
const list = await candidates();

/** An output buffer of n floats followed by GUARD sentinels. */
function out(b: Backend, n: number) {
  const h = b.alloc(n + GUARD);
  b.write(h, new Float32Array(n + GUARD).fill(SENTINEL));
  return h;
}
function read(b: Backend, h: unknown, n: number): Float32Array {
  const all = b.readSync(h, n + GUARD);
  for (let i = n; i < n + GUARD; i++) if (all[i] !== SENTINEL) throw new Error(`kernel wrote past the end of its output (index ${i} of ${n})`);
  return all.subarray(0, n);
}

const js = oracle();

describe.each(list.map((c) => [c.name, c] as const))('%s kernels match the js oracle', (_name, cand) => {
  let b: Backend;
  beforeAll(async () => {
    b = await cand.make();
  });

  // ---------------------------------------------------------------- gemm
  describe('gemm', () => {
    const L = EDGE_SIZES.length;
    const triples: [number, number, number][] = [];
    for (let i = 0; i < L; i++) {
      triples.push([EDGE_SIZES[i], EDGE_SIZES[i], EDGE_SIZES[i]]);
      triples.push([EDGE_SIZES[i], EDGE_SIZES[(i * 7 + 3) % L], EDGE_SIZES[(i * 5 + 1) % L]]);
      triples.push([EDGE_SIZES[(i * 3 + 2) % L], EDGE_SIZES[i], EDGE_SIZES[(i * 11 + 4) % L]]);
    }
    const r0 = rng(7);
    for (let i = 0; i < 12; i++) triples.push([1 + r0.int(200), 1 + r0.int(200), 1 + r0.int(300)]);
    triples.push([128, 10, 256], [1, 512, 784], [2, 3, 0]);
    // Lipschitz constant of each epilogue activation (how much it can amplify the product's error).
    const LIP: Record<number, number> = { 0: 1, 1: 1, 2: 1, 3: 1, 4: 1.13, 5: 0.25, 6: 1 };

    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} at tile edges, with bias, accumulation and every activation`, () => {
        const r = rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
        let checked = 0;
        for (const [m, n, k] of triples) {
          const act = r.int(7);
          const alpha = act === 2 ? 0.1 : act === 3 ? 1.3 : 0;
          const withBias = r.next() < 0.5, beta = (r.next() < 0.3 ? 1 : 0) as 0 | 1;
          const A = r.array(m * k), B = r.array(k * n), bias = r.array(n), C0 = r.array(m * n);
          const run = (be: Backend, guarded: boolean) => {
            const c = guarded ? out(be, m * n) : be.alloc(m * n);
            be.write(c, C0);
            be.gemm({ m, n, k, a: put(be, A), transA: ta, b: put(be, B), transB: tb, c, bias: withBias ? put(be, bias) : null, act: act as any, alpha, beta });
            return guarded ? read(be, c, m * n) : be.readSync(c, m * n);
          };
          const want = run(js, false), got = run(b, true);
          // Error bound of a float32 dot product of length k: γ_(k+2)·Σ|a||b| (plus the bias and C terms),
          // times the activation's Lipschitz constant, plus a few ulp for the activation itself.
          const tol = (idx: number) => {
            const i = Math.floor(idx / n), j = idx % n;
            let s = (withBias ? Math.abs(bias[j]) : 0) + (beta ? Math.abs(C0[idx]) : 0);
            for (let p = 0; p < k; p++) s += Math.abs(ta ? A[p * m + i] : A[i * k + p]) * Math.abs(tb ? B[j * k + p] : B[p * n + j]);
            return (k + 4) * EPS * s * LIP[act] + 4 * ulp(want[idx]) + 1e-7;
          };
          const msg = mismatch(got, want, tol);
          expect(msg, `m=${m} n=${n} k=${k} act=${act} bias=${withBias} beta=${beta}`).toBe('');
          checked++;
        }
        expect(checked).toBe(triples.length);
      });
    }
  });

  // ---------------------------------------------------------------- unary
  // Allowed error in ulp of the oracle's result: 0 where the kernel is one correctly rounded IEEE
  // operation (or exact), a few where it evaluates a polynomial approximation.
  const UNARY_ULP: Record<string, number> = {
    identity: 0, relu: 0, leakyRelu: 1, elu: 4, gelu: 4, sigmoid: 4, tanh: 4, exp: 4, log: 4, sqrt: 0,
    neg: 0, abs: 0, square: 0, softplus: 4, reciprocal: 0, sign: 0,
  };
  // Where the function's value can be tiny after cancellation the ulp of the result says nothing: an
  // absolute floor of 2 float32 epsilons times the input's scale covers it.
  const SPECIAL = [0, -0, 1, -1, 1e-30, -1e-30, 88.7, -88.7, 89, -104, 1e30, -1e30, Infinity, -Infinity, NaN, 20, -20, 9, -9];
  function unaryInput(op: string, n: number, seed: number): Float32Array {
    const r = rng(seed);
    const lo = op === 'log' || op === 'sqrt' ? 0 : op === 'exp' || op === 'softplus' ? -30 : -10;
    const hi = op === 'exp' ? 30 : 10;
    const x = r.array(n, lo, hi);
    for (let i = 0; i < n && i < SPECIAL.length; i += 3) x[i] = SPECIAL[(i / 3 + seed) % SPECIAL.length];
    return x;
  }
  for (const [op, code] of Object.entries(Unary)) {
    it(`unary ${op} at every edge size, with special values, and in place`, () => {
      const alpha = op === 'leakyRelu' ? 0.02 : op === 'elu' ? 1.5 : 0;
      for (const n of [...EDGE_SIZES, 1000]) {
        const x = unaryInput(op, n, n + code);
        const want = js.readSync((() => { const h = put(js, x); js.unary(code, n, h, h, alpha); return h; })(), n);
        const hx = put(b, x), hy = out(b, n);
        b.unary(code, n, hx, hy, alpha);
        const got = read(b, hy, n);
        const tol = (i: number) => UNARY_ULP[op] * ulp(want[i]) + (UNARY_ULP[op] ? 2 * EPS * Math.min(1, Math.abs(x[i])) * 1e-6 : 0);
        expect(mismatch(got, want, tol), `${op} n=${n}`).toBe('');
        b.unary(code, n, hx, hx, alpha); // in place
        expect(mismatch(b.readSync(hx, n), want, tol), `${op} in place n=${n}`).toBe('');
      }
    });
    it(`unary ${op} gradient`, () => {
      const alpha = op === 'leakyRelu' ? 0.02 : op === 'elu' ? 1.5 : 0;
      for (const n of [...EDGE_SIZES, 1000]) {
        const r = rng(100 + n);
        const x = unaryInput(op, n, n + code + 1).map((v) => (Number.isFinite(v) && Math.abs(v) < 50 ? v : r.uniform(0.1, 5)));
        const dy = r.array(n);
        const hy = put(js, x);
        js.unary(code, n, hy, hy, alpha);
        const y = js.readSync(hy, n);
        const hdx = put(js, new Float32Array(n));
        js.unaryGrad(code, n, put(js, x), put(js, y), put(js, dy), hdx, alpha);
        const want = js.readSync(hdx, n);
        const bdx = out(b, n);
        b.unaryGrad(code, n, put(b, x), put(b, y), put(b, dy), bdx, alpha);
        const got = read(b, bdx, n);
        // The derivative is dy times f'(x), and f' is often evaluated from the rounded y (σ' = y(1 − y),
        // (1/x)' = −y², √x' = 0.5/y): y's rounding, doubled by squares, plus the product's rounding →
        // (2·ulp(f) + 3) ulp. gelu' = Φ(x) + x·φ(x) crosses zero near x = −0.75, where only an absolute
        // bound means anything: 3e-7·|dy| (the float32 evaluation error of Φ and φ).
        const tol = (i: number) => (UNARY_ULP[op] * 2 + 3) * ulp(want[i]) + (op === 'gelu' ? 3e-7 * Math.abs(dy[i]) : 0);
        expect(mismatch(got, want, tol), `${op}' n=${n}`).toBe('');
        const hdy = put(b, dy); // in place: dx over dy
        b.unaryGrad(code, n, put(b, x), put(b, y), hdy, hdy, alpha);
        expect(mismatch(b.readSync(hdy, n), want, tol), `${op}' in place n=${n}`).toBe('');
      }
    });
  }

  // ---------------------------------------------------------------- binary
  it('binary ops over every broadcast pattern at edge sizes, and in place', () => {
    const r = rng(11);
    const sizes = [1, 3, 4, 5, 8, 9, 17, 33, 65];
    for (const [op, code] of Object.entries(Binary)) {
      for (const rows of sizes.slice(0, 5)) for (const cols of sizes) {
        const outer = (rows + cols) % 3 === 0 ? 2 : 1;
        const n = outer * rows * cols;
        // [outer, rows, cols] strides: full, row vector, column vector, scalar, per-outer row.
        const modes = { full: { s0: rows * cols, s1: cols, s2: 1, len: n }, row: { s0: 0, s1: 0, s2: 1, len: cols }, col: { s0: 0, s1: 1, s2: 0, len: rows }, scalar: { s0: 0, s1: 0, s2: 0, len: 1 }, outerRow: { s0: cols, s1: 0, s2: 1, len: outer * cols } };
        for (const [am, as] of Object.entries(modes)) for (const [bm, bs] of Object.entries(modes)) {
          const lo = op === 'pow' ? 0.1 : -4;
          const A = r.array(as.len, lo, 4), B = r.array(bs.len, op === 'pow' ? -3 : -4, 4);
          if (op === 'equal') for (let i = 0; i < Math.min(A.length, B.length); i += 2) B[i] = A[i];
          if (op === 'div') for (let i = 0; i < B.length; i += 7) B[i] = 0;
          if (op === 'max' || op === 'min') A[0] = NaN;
          const ho = put(js, new Float32Array(n));
          js.binary(code, outer, rows, cols, put(js, A), as, put(js, B), bs, ho);
          const want = js.readSync(ho, n);
          const hb = out(b, n);
          b.binary(code, outer, rows, cols, put(b, A), as, put(b, B), bs, hb);
          // add/sub/mul/div/max/min/comparisons are single IEEE operations: exact. pow: 4 ulp.
          const tol = (i: number) => (op === 'pow' ? 4 * ulp(want[i]) : 0);
          expect(mismatch(read(b, hb, n), want, tol), `${op} ${am}⊕${bm} outer=${outer} rows=${rows} cols=${cols}`).toBe('');
          if (am === 'full') {
            const ha = put(b, A);
            b.binary(code, outer, rows, cols, ha, as, put(b, B), bs, ha);
            expect(mismatch(b.readSync(ha, n), want, tol), `${op} in place ${am}⊕${bm}`).toBe('');
          }
        }
      }
    }
  });

  // ---------------------------------------------------------------- reductions
  it('reductions over rows, columns and middle axes at edge sizes', () => {
    const r = rng(12);
    const sizes = [1, 3, 4, 5, 8, 9, 16, 17, 33, 129];
    for (const [op, code] of Object.entries(Reduce)) {
      for (const outer of [1, 3, 5]) for (const n of sizes) for (const inner of [1, 4, 7, 33]) {
        const x = r.array(outer * n * inner, -3, 3);
        if (n > 2 && (op === 'argmax' || op === 'argmin')) x[inner] = x[0]; // ties: the first index wins
        const ho = put(js, new Float32Array(outer * inner));
        js.reduce(code, outer, n, inner, put(js, x), ho);
        const want = js.readSync(ho, outer * inner);
        const hb = out(b, outer * inner);
        b.reduce(code, outer, n, inner, put(b, x), hb);
        // Sums: the float32 summation bound n·ε·Σ|x| (ordering differs from the oracle). Max/min/arg: exact.
        const tol = (i: number) => {
          if (!['sum', 'mean', 'sumSquares'].includes(op)) return 0;
          const o = Math.floor(i / inner), k = i % inner;
          let s = 0;
          for (let j = 0; j < n; j++) { const v = x[(o * n + j) * inner + k]; s += op === 'sumSquares' ? v * v : Math.abs(v); }
          return (n + 2) * EPS * s / (op === 'mean' ? n : 1) + ulp(want[i]);
        };
        expect(mismatch(read(b, hb, outer * inner), want, tol), `${op} outer=${outer} n=${n} inner=${inner}`).toBe('');
      }
    }
  });

  it('max, min and argmax propagate NaN like the oracle', () => {
    const x = Float32Array.from([1, NaN, 3, 2, 5, 0, -1, 4, 9]);
    for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
      const ho = put(js, [0]);
      js.reduce(Reduce[op], 1, 9, 1, put(js, x), ho);
      const hb = out(b, 1);
      b.reduce(Reduce[op], 1, 9, 1, put(b, x), hb);
      expect(mismatch(read(b, hb, 1), js.readSync(ho, 1), () => 0), op).toBe('');
    }
  });

  // ---------------------------------------------------------------- softmax and cross-entropy
  it('softmax and log-softmax along rows at edge sizes, and in place', () => {
    const r = rng(13);
    for (const rows of [1, 2, 5]) for (const cols of EDGE_SIZES.filter((c) => c > 0)) for (const log of [false, true]) {
      const x = r.array(rows * cols, -20, 20);
      if (cols > 3) x[1] = 80; // a large logit: must not overflow
      const hj = put(js, x);
      js.softmax(rows, cols, hj, hj, log);
      const want = js.readSync(hj, rows * cols);
      const hx = put(b, x), hy = out(b, rows * cols);
      b.softmax(rows, cols, hx, hy, log);
      // Each output is exp of a difference divided by a sum of `cols` terms: (cols + 8)·ε relative for
      // softmax; for log-softmax the same error on the log-sum-exp, which is at most |max| + log(cols).
      const tol = (i: number) => (log ? (cols + 8) * EPS * (Math.abs(want[i]) + 100) : (cols + 8) * EPS * Math.abs(want[i]) + 1e-30);
      expect(mismatch(read(b, hy, rows * cols), want, tol), `rows=${rows} cols=${cols} log=${log}`).toBe('');
      b.softmax(rows, cols, hx, hx, log);
      expect(mismatch(b.readSync(hx, rows * cols), want, tol), `in place rows=${rows} cols=${cols} log=${log}`).toBe('');
    }
  });

  it('fused softmax cross-entropy and its gradient, with index and dense labels', () => {
    const r = rng(14);
    for (const rows of [1, 3, 8, 17]) for (const cols of [1, 2, 3, 4, 5, 9, 10, 17, 64, 65]) for (const mode of [LabelMode.index, LabelMode.dense]) {
      const z = r.array(rows * cols, -10, 10);
      const labels = new Float32Array(mode === LabelMode.index ? rows : rows * cols);
      if (mode === LabelMode.index) for (let i = 0; i < rows; i++) labels[i] = r.int(cols);
      else for (let i = 0; i < rows; i++) { let s = 0; for (let c = 0; c < cols; c++) s += labels[i * cols + c] = r.next(); for (let c = 0; c < cols; c++) labels[i * cols + c] /= s; }
      if (mode === LabelMode.index && rows > 2) labels[1] = cols; // out of range → NaN loss for that row
      const dy = r.array(rows, 0.1, 2);
      const jp = put(js, new Float32Array(rows * cols)), jl = put(js, new Float32Array(rows)), jd = put(js, new Float32Array(rows * cols));
      js.softmaxXent(rows, cols, put(js, z), put(js, labels), mode, jp, jl);
      js.softmaxXentGrad(rows, cols, jp, put(js, labels), mode, put(js, dy), jd);
      const bp = out(b, rows * cols), bl = out(b, rows), bd = out(b, rows * cols);
      b.softmaxXent(rows, cols, put(b, z), put(b, labels), mode, bp, bl);
      const probs = read(b, bp, rows * cols);
      b.softmaxXentGrad(rows, cols, bp, put(b, labels), mode, put(b, dy), bd);
      // loss = lse − z[label]: error of the lse, (cols + 8)·ε·(|max| + log cols), plus cancellation.
      expect(mismatch(read(b, bl, rows), js.readSync(jl, rows), () => (cols + 8) * EPS * 24), `loss rows=${rows} cols=${cols} mode=${mode}`).toBe('');
      expect(mismatch(probs, js.readSync(jp, rows * cols), (i) => (cols + 8) * EPS * Math.abs(probs[i]) + 1e-30), `probs rows=${rows} cols=${cols}`).toBe('');
      expect(mismatch(read(b, bd, rows * cols), js.readSync(jd, rows * cols), () => (cols + 10) * EPS * 2), `grad rows=${rows} cols=${cols} mode=${mode}`).toBe('');
      // In place: the gradient may overwrite the probabilities.
      b.softmaxXentGrad(rows, cols, bp, put(b, labels), mode, put(b, dy), bp);
      expect(mismatch(b.readSync(bp, rows * cols), js.readSync(jd, rows * cols), () => (cols + 10) * EPS * 2), `grad in place`).toBe('');
    }
  });

  // ---------------------------------------------------------------- data movement
  it('transpose, fill, copy, affine and axpy at edge sizes', () => {
    const r = rng(15);
    for (const rows of EDGE_SIZES) for (const cols of [1, 3, 4, 5, 8, 9, 17, 33]) {
      const x = r.array(rows * cols);
      const hj = put(js, new Float32Array(rows * cols));
      js.transpose(rows, cols, put(js, x), hj);
      const hb = out(b, rows * cols);
      b.transpose(rows, cols, put(b, x), hb);
      expect(mismatch(read(b, hb, rows * cols), js.readSync(hj, rows * cols), () => 0), `transpose ${rows}x${cols}`).toBe('');
    }
    for (const n of EDGE_SIZES) {
      const x = r.array(n), y = r.array(n);
      const hf = out(b, n);
      b.fill(n, hf, -2.5);
      expect(Array.from(read(b, hf, n))).toEqual(new Array(n).fill(-2.5));
      const hc = out(b, n);
      b.copy(n, put(b, x), hc);
      expect(mismatch(read(b, hc, n), x, () => 0)).toBe('');
      // affine and axpy: one multiply-add; with a fused multiply-add the kernel may round once instead of
      // twice, so 1 ulp of the result plus 1 ulp of the product.
      const ja = put(js, x);
      js.affine(n, ja, ja, 1.7, -0.3);
      const ha = out(b, n);
      b.affine(n, put(b, x), ha, 1.7, -0.3);
      const wa = js.readSync(ja, n);
      expect(mismatch(read(b, ha, n), wa, (i) => ulp(wa[i]) + ulp(1.7 * x[i])), `affine n=${n}`).toBe('');
      const jy = put(js, y);
      js.axpy(n, -0.7, put(js, x), jy);
      const by = put(b, y);
      b.axpy(n, -0.7, put(b, x), by);
      const wy = js.readSync(jy, n);
      expect(mismatch(b.readSync(by, n), wy, (i) => ulp(wy[i]) + ulp(0.7 * x[i])), `axpy n=${n}`).toBe('');
    }
  });

  // ---------------------------------------------------------------- weight initialisation
  describe('fillNormal', () => {
    /** The js oracle's numbers: Rng.fillNormal from `state`, and the state it leaves. */
    function oracleFill(state: StreamState, n: number, mean: number, std: number) {
      const r = seeded(0);
      continueStream(r, (s) => Object.assign(s, state));
      const want = r.fillNormal(new Float32Array(n), mean, std);
      let after!: StreamState;
      continueStream(r, (s) => (after = { ...s }));
      return { want, after };
    }
    function check(state: StreamState, n: number, mean: number, std: number, what: string) {
      if (!b.fillNormal) return;
      const { want, after } = oracleFill(state, n, mean, std);
      const h = out(b, n);
      const st = { ...state };
      b.fillNormal(n, h, mean, std, st);
      expect(mismatch(read(b, h, n), want, () => 0), `${what}: values`).toBe('');
      expect([st.a, st.b, st.c, st.d, st.hasSpare, st.hasSpare ? st.spare : 0], `${what}: state after`).toEqual([after.a, after.b, after.c, after.d, after.hasSpare, after.hasSpare ? after.spare : 0]);
    }
    const start = (seed: number): StreamState => {
      let s!: StreamState;
      continueStream(seeded(seed), (x) => (s = { ...x }));
      return s;
    };

    it('continues the seeded stream bit for bit at edge sizes, with and without a pending spare', () => {
      if (!b.fillNormal) return; // backends without it fill in JS (layers.ts)
      for (const n of [...EDGE_SIZES, 1000, 8191, 8192, 8193, 40_001])
        for (const spare of [false, true]) check({ ...start(n), hasSpare: spare, spare: spare ? -0.8125 : 0 }, n, n % 2 ? 0.25 : 0, n % 3 ? 0.05 : 1.5, `n=${n} spare=${spare}`);
    });

    it('matches to the last bit of float64 at the edges of every branch of log, sin and cos', () => {
      if (!b.fillNormal) return;
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
      const exact = (st: StreamState, what: string) => {
        for (const [n, hasSpare] of [[4, false], [3, true]] as const) {
          const s0 = { ...st, hasSpare };
          const r = seeded(0);
          continueStream(r, (s) => Object.assign(s, s0));
          const v = r.fillNormal(new Float64Array(n));
          for (let j = 0; j < n; j++) check(s0, n, -cut5(v[j]), 1, `${what}, n=${n}, value ${j}`);
        }
      };
      const r = rng(23);
      const draw = () => Math.floor(r.next() * 2 ** 32);
      let salt = 1;
      // θ near q·π/2 (the reductions' cancellation checks) and near π/4, 3π/4 (where the reduction changes:
      // fdlibm reduces nothing up to π/4's high word, 219 draws past π/4)
      for (let q = 0; q <= 4; q++) for (let dt = -300; dt <= 300; dt += q % 4 ? 1 : 3) exact(craft(draw(), (q * 2 ** 30 + dt + 2 ** 32) % 2 ** 32, salt++), `t2 = ${q}·2³⁰ + ${dt}`);
      for (const c of [2 ** 29, 3 * 2 ** 29]) for (let dt = -30; dt <= 260; dt++) exact(craft(draw(), c + dt, salt++), `t2 = ${c} + ${dt}`);
      // 1 - u near 2^-j (f within 2⁻²⁰ of 0 in the log), and u near 0 and 1
      for (let j = 1; j <= 31; j++) for (let dt = -6; dt <= 6; dt++) exact(craft((2 ** 32 - 2 ** (32 - j) + dt + 2 ** 32) % 2 ** 32, draw(), salt++), `t1 near 2³² - 2^${32 - j}`);
      for (let dt = 0; dt <= 40; dt++) exact(craft(dt, draw(), salt++), `t1 = ${dt}`), exact(craft(2 ** 32 - 1 - dt, draw(), salt++), `t1 = 2³² - 1 - ${dt}`);
      // and anywhere
      for (let i = 0; i < 2000; i++) exact(craft(draw(), draw(), salt++), 'random draws');
    });
  });
});

it('at least one accelerated backend is under test here', () => {
  expect(list.length).toBeGreaterThan(0);
});
