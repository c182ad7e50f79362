// Single-precision gemm: C[m×n] = act(op(A)·op(B) + bias + beta·C)  (see ABI.md).
//
// Design (BLIS-style; measured on V8/x64, which leaves 15 xmm registers to wasm code):
//   jc (NC columns) → pc (KC of k) → pack op(B) into k-major 8-wide zero-padded panels
//   → ic (MC rows) → pack op(A) into k-major MR-row panels → jr (B panels) → ir (A panels)
//   → MR×8 microkernel: 2·MR v128 accumulators, one load32_splat of A per row per k, C (or
//   beta·C + bias) loaded before and stored after the k loop, k not unrolled.
// Packing makes the transposed forms free: only packA/packB know the storage order (Bᵀ is
// packed with 4×4 shuffle transposes). MR = 6 with relaxed_madd (12 acc + 2 B + 1 splat = 15
// registers), 5 with mul+add (the product needs one more register; 6×8 spills there). Any
// spill in a k loop costs 30–50%, and so does unrolling k (it spills).
// Blocks are split evenly (k = 784 runs as 4 × 196), and a 1–3 row remainder is merged with
// the panel before it and split in two (6 + 2 rows → 4 + 4): fewer rows leave the FMA latency
// exposed. The last B panel is 4 wide when ≤ 4 columns remain; a partial panel is computed
// into a small tile in the workspace and merged.
// Thin shapes skip packing: small m reads A and B in place (one row streams B row by row; 2×16
// and narrower kernels, or dot products when B is stored [n×k]), n ≤ 16 reads A in place (it is
// used once or twice).
// Epilogue: bias and beta·C enter the accumulators, relu runs over each finished tile, other
// activations call f32_unary on each finished block of rows (still in cache).
// No statics are written and no memory is allocated: all scratch lives in `ws`, so row tiles
// of one product (same lda/ldc, own ws) may run on different threads at once.
// The relaxed-gemm module (gemm-relaxed.ts) is built with GEMM_IMPORTS_UNARY defined: there the
// epilogue calls the core module's f32_unary through an import, so that module holds no copy of the
// activations and no static data.
import { U_IDENTITY, U_RELU } from './codes';
import { f32_unary as localUnary } from './unary';

// @ts-ignore: decorator
@external("env", "f32_unary") declare function importedUnary(op: i32, n: i32, x: usize, y: usize, alpha: f32): void;

// @ts-ignore: decorator
@inline function f32_unary(op: i32, n: i32, x: usize, y: usize, alpha: f32): void {
  // @ts-ignore: compile-time constant (asconfig.json, target relaxed-gemm)
  if (isDefined(GEMM_IMPORTS_UNARY)) importedUnary(op, n, x, y, alpha);
  else localUnary(op, n, x, y, alpha);
}

// @ts-ignore: decorator
@inline const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
// @ts-ignore: decorator
@inline const KC: i32 = 256;
// @ts-ignore: decorator
@inline const MC: i32 = MR * 24;
// @ts-ignore: decorator
@inline const NC: i32 = 2048;
/** m below these: nothing packed (packing B costs more than it saves; measured). */
// @ts-ignore: decorator
@inline const SMALL_M_KN: i32 = 4 * MR;
// @ts-ignore: decorator
@inline const SMALL_M_NK: i32 = 4 * MR;
/** n at or below this: A is read in place instead of packed. */
// @ts-ignore: decorator
@inline const THIN_N: i32 = 16;

// Kernel flags, decided per kc block: the first block starts from beta·C + bias, later ones from
// the partial C; relu is applied on the last block.
// @ts-ignore: decorator
@inline const F_LOADC: i32 = 1;
// @ts-ignore: decorator
@inline const F_BIAS: i32 = 2;
// @ts-ignore: decorator
@inline const F_RELU: i32 = 4;

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** max(x, 0) lane-wise, NaN kept (like Math.max); no zero vector to keep in a register. */
// @ts-ignore: decorator
@inline function relu(x: v128): v128 {
  let negative = v128.andnot(i32x4.shr_s(x, 31), f32x4.ne(x, x));
  return v128.andnot(x, negative);
}

/**
 * Rows of the next row panel when `left` rows remain: MR, except that a remainder of 1–3 rows
 * is merged with the panel before it and split evenly (6 + 2 → 4 + 4): one- and two-row
 * kernels keep too few accumulators to cover the FMA latency.
 */
// @ts-ignore: decorator
@inline function panelRows(left: i32): i32 {
  if (left <= MR) return left;
  if (left < 2 * MR && left - MR < 4) return (left + 1) >> 1;
  return MR;
}

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// ---------------------------------------------------------------------------------------------
// Microkernel: R (≤ MR) rows × W (8 or 4) columns, all k in registers.
//   A(r, p) = ROWMAJ ? a + r·as + 4p : a + p·as + 4r     (as = byte stride)
//   B(p, 0..W) = b + p·bks                               (bks = 4W when packed, ldb·4 in place)
//   C(r, 0..W) = c + r·ldc                                (ldc in bytes)
// R, W, ROWMAJ are literals at every call site, so the inlined body folds to one variant.
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline function kbody(
  R: i32, W: i32, ROWMAJ: bool,
  kc: i32, a: usize, as: usize, b: usize, bks: usize,
  c: usize, ldc: usize, flags: i32, bias: usize,
): void {
  let z = f32x4.splat(0);
  let c0a = z, c0b = z, c1a = z, c1b = z, c2a = z, c2b = z;
  let c3a = z, c3b = z, c4a = z, c4b = z, c5a = z, c5b = z;
  let c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
  if (flags & F_LOADC) {
    c0a = v128.load(c);
    if (W == 8) c0b = v128.load(c, 16);
    if (R > 1) { c1a = v128.load(c1); if (W == 8) c1b = v128.load(c1, 16); }
    if (R > 2) { c2a = v128.load(c2); if (W == 8) c2b = v128.load(c2, 16); }
    if (R > 3) { c3a = v128.load(c3); if (W == 8) c3b = v128.load(c3, 16); }
    if (R > 4) { c4a = v128.load(c4); if (W == 8) c4b = v128.load(c4, 16); }
    if (R > 5) { c5a = v128.load(c5); if (W == 8) c5b = v128.load(c5, 16); }
  }
  if (flags & F_BIAS) {
    let ba = v128.load(bias);
    let bb = z;
    if (W == 8) bb = v128.load(bias, 16);
    c0a = f32x4.add(c0a, ba); c0b = f32x4.add(c0b, bb);
    c1a = f32x4.add(c1a, ba); c1b = f32x4.add(c1b, bb);
    c2a = f32x4.add(c2a, ba); c2b = f32x4.add(c2b, bb);
    c3a = f32x4.add(c3a, ba); c3b = f32x4.add(c3b, bb);
    c4a = f32x4.add(c4a, ba); c4b = f32x4.add(c4b, bb);
    c5a = f32x4.add(c5a, ba); c5b = f32x4.add(c5b, bb);
  }
  if (ROWMAJ) {
    let a0 = a, a1 = a + as, a2 = a1 + as, a3 = a2 + as, a4 = a3 + as, a5 = a4 + as;
    for (let p = kc; p > 0; p--) {
      let b0 = v128.load(b);
      let b1 = z;
      if (W == 8) b1 = v128.load(b, 16);
      b += bks;
      let av = v128.load32_splat(a0); a0 += 4;
      c0a = fma(av, b0, c0a); if (W == 8) c0b = fma(av, b1, c0b);
      if (R > 1) { av = v128.load32_splat(a1); a1 += 4; c1a = fma(av, b0, c1a); if (W == 8) c1b = fma(av, b1, c1b); }
      if (R > 2) { av = v128.load32_splat(a2); a2 += 4; c2a = fma(av, b0, c2a); if (W == 8) c2b = fma(av, b1, c2b); }
      if (R > 3) { av = v128.load32_splat(a3); a3 += 4; c3a = fma(av, b0, c3a); if (W == 8) c3b = fma(av, b1, c3b); }
      if (R > 4) { av = v128.load32_splat(a4); a4 += 4; c4a = fma(av, b0, c4a); if (W == 8) c4b = fma(av, b1, c4b); }
      if (R > 5) { av = v128.load32_splat(a5); a5 += 4; c5a = fma(av, b0, c5a); if (W == 8) c5b = fma(av, b1, c5b); }
    }
  } else {
    for (let p = kc; p > 0; p--) {
      let b0 = v128.load(b);
      let b1 = z;
      if (W == 8) b1 = v128.load(b, 16);
      b += bks;
      let av = v128.load32_splat(a);
      c0a = fma(av, b0, c0a); if (W == 8) c0b = fma(av, b1, c0b);
      if (R > 1) { av = v128.load32_splat(a, 4); c1a = fma(av, b0, c1a); if (W == 8) c1b = fma(av, b1, c1b); }
      if (R > 2) { av = v128.load32_splat(a, 8); c2a = fma(av, b0, c2a); if (W == 8) c2b = fma(av, b1, c2b); }
      if (R > 3) { av = v128.load32_splat(a, 12); c3a = fma(av, b0, c3a); if (W == 8) c3b = fma(av, b1, c3b); }
      if (R > 4) { av = v128.load32_splat(a, 16); c4a = fma(av, b0, c4a); if (W == 8) c4b = fma(av, b1, c4b); }
      if (R > 5) { av = v128.load32_splat(a, 20); c5a = fma(av, b0, c5a); if (W == 8) c5b = fma(av, b1, c5b); }
      a += as;
    }
  }
  v128.store(c, c0a);
  if (W == 8) v128.store(c, c0b, 16);
  if (R > 1) { v128.store(c1, c1a); if (W == 8) v128.store(c1, c1b, 16); }
  if (R > 2) { v128.store(c2, c2a); if (W == 8) v128.store(c2, c2b, 16); }
  if (R > 3) { v128.store(c3, c3a); if (W == 8) v128.store(c3, c3b, 16); }
  if (R > 4) { v128.store(c4, c4a); if (W == 8) v128.store(c4, c4b, 16); }
  if (R > 5) { v128.store(c5, c5a); if (W == 8) v128.store(c5, c5b, 16); }
}

// One non-inlined function per variant keeps each hot loop alone in its function, so V8's
// register allocator sees only it.
function k8r1(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(1, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8r2(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(2, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8r3(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(3, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8r4(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(4, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8r5(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(5, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8r6(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(6, 8, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k1(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(1, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k2(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(2, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k3(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(3, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k4(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(4, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k5(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(5, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k8k6(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(6, 8, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r1(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(1, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r2(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(2, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r3(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(3, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r4(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(4, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r5(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(5, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4r6(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(6, 4, true, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k1(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(1, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k2(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(2, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k3(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(3, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k4(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(4, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k5(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(5, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }
function k4k6(kc: i32, a: usize, as: usize, b: usize, bks: usize, c: usize, ldc: usize, f: i32, bias: usize): void { kbody(6, 4, false, kc, a, as, b, bks, c, ldc, f, bias); }

/** Runs the R×W variant (R ≤ MR; W is 8 or 4). */
function kernel(
  R: i32, W: i32, rowmaj: bool,
  kc: i32, a: usize, as: usize, b: usize, bks: usize,
  c: usize, ldc: usize, f: i32, bias: usize,
): void {
  if (W == 8) {
    if (rowmaj) {
      switch (R) {
        case 1: k8r1(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 2: k8r2(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 3: k8r3(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 4: k8r4(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 5: k8r5(kc, a, as, b, bks, c, ldc, f, bias); break;
        default: if (MR > 5) k8r6(kc, a, as, b, bks, c, ldc, f, bias); break;
      }
    } else {
      switch (R) {
        case 1: k8k1(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 2: k8k2(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 3: k8k3(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 4: k8k4(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 5: k8k5(kc, a, as, b, bks, c, ldc, f, bias); break;
        default: if (MR > 5) k8k6(kc, a, as, b, bks, c, ldc, f, bias); break;
      }
    }
  } else {
    if (rowmaj) {
      switch (R) {
        case 1: k4r1(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 2: k4r2(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 3: k4r3(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 4: k4r4(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 5: k4r5(kc, a, as, b, bks, c, ldc, f, bias); break;
        default: if (MR > 5) k4r6(kc, a, as, b, bks, c, ldc, f, bias); break;
      }
    } else {
      switch (R) {
        case 1: k4k1(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 2: k4k2(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 3: k4k3(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 4: k4k4(kc, a, as, b, bks, c, ldc, f, bias); break;
        case 5: k4k5(kc, a, as, b, bks, c, ldc, f, bias); break;
        default: if (MR > 5) k4k6(kc, a, as, b, bks, c, ldc, f, bias); break;
      }
    }
  }
  if (f & F_RELU) reluTile(R, W, c, ldc);
}

/**
 * relu over a finished R×W tile. Kept out of the microkernel on purpose: any use of the
 * accumulators after the k loop other than plain stores makes TurboFan hoist all the A splat
 * loads of an iteration above the FMAs, which spills 6×8 (half the speed).
 */
function reluTile(R: i32, W: i32, c: usize, ldc: usize): void {
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < W; j += 4) {
      let cj = c + (<usize>j << 2);
      v128.store(cj, relu(v128.load(cj)));
    }
    c += ldc;
  }
}

// Wide kernel for two rows: two accumulators per row (as in MR×8) would leave the FMA latency
// exposed, so each row gets 4 (16 columns). It fits in the 15 registers even when TurboFan
// hoists every load of an iteration above the FMAs (which it does when they are inlined into a
// bigger function). One row goes through gemv1.
// A(r, p) = a + r·rs + p·ks; B(p, 0..W) = b + p·bks.

function k2x16(
  kc: i32, a: usize, rs: usize, ks: usize, b: usize, bks: usize,
  c: usize, ldc: usize, f: i32, bias: usize,
): void {
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
  let c1 = c + ldc;
  if (f & F_LOADC) {
    x0 = v128.load(c); x1 = v128.load(c, 16); x2 = v128.load(c, 32); x3 = v128.load(c, 48);
    y0 = v128.load(c1); y1 = v128.load(c1, 16); y2 = v128.load(c1, 32); y3 = v128.load(c1, 48);
  }
  if (f & F_BIAS) {
    let b0 = v128.load(bias), b1 = v128.load(bias, 16), b2 = v128.load(bias, 32), b3 = v128.load(bias, 48);
    x0 = f32x4.add(x0, b0); x1 = f32x4.add(x1, b1); x2 = f32x4.add(x2, b2); x3 = f32x4.add(x3, b3);
    y0 = f32x4.add(y0, b0); y1 = f32x4.add(y1, b1); y2 = f32x4.add(y2, b2); y3 = f32x4.add(y3, b3);
  }
  let a1 = a + rs;
  for (let p = kc; p > 0; p--) {
    let b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32), b3 = v128.load(b, 48);
    b += bks;
    let av = v128.load32_splat(a);
    a += ks;
    x0 = fma(av, b0, x0); x1 = fma(av, b1, x1); x2 = fma(av, b2, x2); x3 = fma(av, b3, x3);
    av = v128.load32_splat(a1);
    a1 += ks;
    y0 = fma(av, b0, y0); y1 = fma(av, b1, y1); y2 = fma(av, b2, y2); y3 = fma(av, b3, y3);
  }
  v128.store(c, x0); v128.store(c, x1, 16); v128.store(c, x2, 32); v128.store(c, x3, 48);
  v128.store(c1, y0); v128.store(c1, y1, 16); v128.store(c1, y2, 32); v128.store(c1, y3, 48);
}

/** C(r, j) for r < R, j < nv from a kernel tile of width W (no C or bias in it yet). */
function mergeTile(tile: usize, W: i32, R: i32, nv: i32, c: usize, ldc: usize, f: i32, bias: usize): void {
  for (let r = 0; r < R; r++) {
    let t = tile + (<usize>(r * W) << 2);
    let cr = c + <usize>r * ldc;
    for (let j = 0; j < nv; j++) {
      let o = <usize>j << 2;
      let v = load<f32>(t + o);
      if (f & F_LOADC) v += load<f32>(cr + o);
      if (f & F_BIAS) v += load<f32>(bias + o);
      if (f & F_RELU) v = Mathf.max(v, 0);
      store<f32>(cr + o, v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------------

/**
 * op(B)[0..kc, 0..nc] into panels of 8 columns (the last one 4 wide when ≤ 4 columns remain),
 * each k-major and zero-padded; the panel starting at column j lies at dst + 4·j·kc.
 * TB: B is stored [n×k] (B(p, j) = src + j·ldb + 4p), else [k×n] (src + p·ldb + 4j).
 */
function packB(TB: bool, src: usize, ldb: usize, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += 8) {
    let rem = nc - jr;
    let W = rem > 4 ? 8 : 4;
    let nv = imin(W, rem);
    let d = dst + (<usize>(jr * kc) << 2);
    if (!TB) {
      let s = src + (<usize>jr << 2);
      if (nv == 8) {
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += ldb; d += 32;
        }
      } else if (nv == 4) {
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s));
          s += ldb; d += 16;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < W; j++) {
            store<f32>(d + (<usize>j << 2), j < nv ? load<f32>(s + (<usize>j << 2)) : 0);
          }
          s += ldb; d += <usize>W << 2;
        }
      }
    } else {
      let s0 = src + <usize>jr * ldb;
      let p = 0;
      if (nv == W) {
        // 4×4 transposes: four k values of W rows of B at a time.
        let s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
        let s4 = s3 + ldb, s5 = s4 + ldb, s6 = s5 + ldb, s7 = s6 + ldb;
        let wb = <usize>W << 2;
        for (; p + 4 <= kc; p += 4) {
          let o = <usize>p << 2;
          let r0 = v128.load(s0 + o), r1 = v128.load(s1 + o);
          let r2 = v128.load(s2 + o), r3 = v128.load(s3 + o);
          let t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
          let t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
          v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
          v128.store(d + wb, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
          v128.store(d + 2 * wb, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
          v128.store(d + 3 * wb, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
          if (W == 8) {
            r0 = v128.load(s4 + o); r1 = v128.load(s5 + o);
            r2 = v128.load(s6 + o); r3 = v128.load(s7 + o);
            t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5); t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
            t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5); t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
            v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5), 16);
            v128.store(d + wb, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
            v128.store(d + 2 * wb, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 16);
            v128.store(d + 3 * wb, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 16);
          }
          d += wb << 2;
        }
      }
      for (; p < kc; p++) {
        let o = <usize>p << 2;
        for (let j = 0; j < W; j++) {
          store<f32>(d + (<usize>j << 2), j < nv ? load<f32>(s0 + <usize>j * ldb + o) : 0);
        }
        d += <usize>W << 2;
      }
    }
  }
}

/**
 * op(A)[0..mc, 0..kc] into panels of panelRows() rows, each k-major:
 * A(r, p) of the panel at row ir lies at dst + 4·(ir·kc + p·R + r).
 * TA: A is stored [k×m] (A(i, p) = src + p·lda + 4i), else [m×k] (src + i·lda + 4p).
 */
function packA(TA: bool, src: usize, lda: usize, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0, R = 0; ir < mc; ir += R) {
    R = panelRows(mc - ir);
    let d = dst + (<usize>(ir * kc) << 2);
    let rb = <usize>R << 2;
    if (TA) {
      let s = src + (<usize>ir << 2);
      if (R == MR) {
        // Two overlapping 4-lane copies cover the MR (5 or 6) contiguous values.
        for (let p = 0; p < kc; p++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, (MR - 4) << 2), (MR - 4) << 2);
          s += lda; d += rb;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < R; r++) store<f32>(d + (<usize>r << 2), load<f32>(s + (<usize>r << 2)));
          s += lda; d += rb;
        }
      }
    } else {
      let s = src + <usize>ir * lda;
      let p = 0;
      if (R == MR) {
        // Rows 0..3 through 4×4 transposes, rows 4..MR-1 lane by lane, four k at a time.
        let s1 = s + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda;
        for (; p + 4 <= kc; p += 4) {
          let o = <usize>p << 2;
          let r0 = v128.load(s + o), r1 = v128.load(s1 + o);
          let r2 = v128.load(s2 + o), r3 = v128.load(s3 + o);
          let t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
          let t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
          v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
          v128.store(d + rb, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
          v128.store(d + 2 * rb, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
          v128.store(d + 3 * rb, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
          let r4 = v128.load(s4 + o);
          if (MR == 6) {
            let r5 = v128.load(s5 + o);
            let u0 = f32x4.shuffle(r4, r5, 0, 4, 1, 5), u1 = f32x4.shuffle(r4, r5, 2, 6, 3, 7);
            v128.store64_lane(d, u0, 0, 16);
            v128.store64_lane(d + rb, u0, 1, 16);
            v128.store64_lane(d + 2 * rb, u1, 0, 16);
            v128.store64_lane(d + 3 * rb, u1, 1, 16);
          } else {
            v128.store32_lane(d, r4, 0, 16);
            v128.store32_lane(d + rb, r4, 1, 16);
            v128.store32_lane(d + 2 * rb, r4, 2, 16);
            v128.store32_lane(d + 3 * rb, r4, 3, 16);
          }
          d += rb << 2;
        }
        s += <usize>p << 2;
      }
      for (let r = 0; r < R; r++) {
        let sr = s + <usize>r * lda;
        let dr = d + (<usize>r << 2);
        for (let q = p; q < kc; q++) {
          store<f32>(dr, load<f32>(sr));
          sr += 4; dr += rb;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Epilogues
// ---------------------------------------------------------------------------------------------

/** Activations other than identity and relu (those run inside the tiles) over finished rows: one call when the rows are contiguous. */
function applyAct(act: i32, alpha: f32, rows: i32, cols: i32, c: usize, ldc: i32): void {
  if (act == U_IDENTITY || act == U_RELU || rows <= 0 || cols <= 0) return;
  if (ldc == cols) {
    f32_unary(act, rows * cols, c, c, alpha);
  } else {
    let ldcb = <usize>ldc << 2;
    for (let r = 0; r < rows; r++) {
      let cr = c + <usize>r * ldcb;
      f32_unary(act, cols, cr, cr, alpha);
    }
  }
}

/** k = 0: C = act(bias + beta·C). */
function noK(m: i32, n: i32, c: usize, ldc: i32, bias: usize, act: i32, alpha: f32, beta: i32): void {
  let ldcb = <usize>ldc << 2;
  for (let i = 0; i < m; i++) {
    let cr = c + <usize>i * ldcb;
    for (let j = 0; j < n; j++) {
      let o = <usize>j << 2;
      let v: f32 = beta ? load<f32>(cr + o) : 0;
      if (bias) v += load<f32>(bias + o);
      if (act == U_RELU) v = Mathf.max(v, 0);
      store<f32>(cr + o, v);
    }
  }
  applyAct(act, alpha, m, n, c, ldc);
}

// ---------------------------------------------------------------------------------------------
// Thin m: no packing.
// ---------------------------------------------------------------------------------------------

/**
 * One row, op(B) stored [k×n] (a layer's forward at batch 1): c[0..n4) = a·B, streaming B once,
 * front to back, four rows of B per pass over c (which stays in L1), so the prefetcher sees four
 * sequential streams. B is a weight matrix that lives in L2/L3 between calls; 1×24 register
 * panels (the previous design) read it in 96-byte pieces a row apart and ran ~30% slower. Each
 * column sums in the same order as the panels do (C, + bias, then p = 0..k-1): same bits.
 * A(0, p) = a + p·ks; B(p, 0..n4) = b + p·ldb.
 */
function gemv1(n4: i32, k: i32, a: usize, ks: usize, b: usize, ldb: usize, c: usize, f: i32, bias: usize): void {
  let nb = <usize>n4 << 2;
  for (let j: usize = 0; j < nb; j += 16) {
    let v = f32x4.splat(0);
    if (f & F_LOADC) v = v128.load(c + j);
    if (f & F_BIAS) v = f32x4.add(v, v128.load(bias + j));
    v128.store(c + j, v);
  }
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    let s0 = v128.load32_splat(a), s1 = v128.load32_splat(a + ks);
    let s2 = v128.load32_splat(a + 2 * ks), s3 = v128.load32_splat(a + 3 * ks);
    a += ks << 2;
    let b0 = b, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
    b = b3 + ldb;
    for (let j: usize = 0; j < nb; j += 16) {
      let acc = v128.load(c + j);
      acc = fma(s0, v128.load(b0 + j), acc);
      acc = fma(s1, v128.load(b1 + j), acc);
      acc = fma(s2, v128.load(b2 + j), acc);
      acc = fma(s3, v128.load(b3 + j), acc);
      v128.store(c + j, acc);
    }
  }
  for (; p < k; p++) {
    let s0 = v128.load32_splat(a);
    a += ks;
    for (let j: usize = 0; j < nb; j += 16) v128.store(c + j, fma(s0, v128.load(b + j), v128.load(c + j)));
    b += ldb;
  }
  if (f & F_RELU)
    for (let j: usize = 0; j < nb; j += 16) v128.store(c + j, relu(v128.load(c + j)));
}

/**
 * Small m, op(B) stored [k×n] (nn, tn): nothing is packed; B is read in place, in k blocks so the
 * lines of a block stay in cache for the next panel and the next rows; 8/4-wide panels, then
 * the last (< 4) columns one by one over all of k.
 */
function smallM_kn(
  TA: bool, m: i32, n: i32, k: i32, a: usize, lda: usize, b: usize, ldb: usize,
  c: usize, ldc: usize, bias: usize, f0: i32, fr: i32,
): void {
  let n4 = n & ~3;
  let kcb = blockSize(k, KC, 4);
  if (m == 1) gemv1(n4, k, a, TA ? lda : 4, b, ldb, c, f0 | fr, bias);
  else for (let pc = 0; pc < k; pc += kcb) {
    let kc = imin(kcb, k - pc);
    let f = pc == 0 ? f0 : F_LOADC;
    if (pc + kc == k) f |= fr;
    let bp = b + <usize>pc * ldb;
    for (let ir = 0, R = 0; ir < m; ir += R) {
      R = panelRows(m - ir);
      let pa = TA ? a + <usize>pc * lda + (<usize>ir << 2) : a + <usize>ir * lda + (<usize>pc << 2);
      let cr = c + <usize>ir * ldc;
      let j = 0;
      // A(r, p) = pa + r·rs + p·ks
      let rs: usize = TA ? 4 : lda, ks: usize = TA ? lda : 4;
      if (R == 2) {
        for (; j + 16 <= n4; j += 16) {
          let o = <usize>j << 2;
          k2x16(kc, pa, rs, ks, bp + o, ldb, cr + o, ldc, f, bias + o);
          if (f & F_RELU) reluTile(2, 16, cr + o, ldc);
        }
      }
      for (; j + 8 <= n4; j += 8) {
        let o = <usize>j << 2;
        kernel(R, 8, !TA, kc, pa, lda, bp + o, ldb, cr + o, ldc, f, bias + o);
      }
      if (j < n4) {
        let o = <usize>j << 2;
        kernel(R, 4, !TA, kc, pa, lda, bp + o, ldb, cr + o, ldc, f, bias + o);
      }
    }
  }
  let f = f0 | fr;
  let as: usize = TA ? lda : 4;
  for (let j = n4; j < n; j++) {
    let o = <usize>j << 2;
    for (let r = 0; r < m; r++) {
      let s: f32 = 0;
      let ap = TA ? a + (<usize>r << 2) : a + <usize>r * lda;
      let bp = b + o;
      for (let p = 0; p < k; p++) {
        s += load<f32>(ap) * load<f32>(bp);
        ap += as; bp += ldb;
      }
      let co = c + <usize>r * ldc + o;
      if (f & F_LOADC) s += load<f32>(co);
      if (f & F_BIAS) s += load<f32>(bias + o);
      if (f & F_RELU) s = Mathf.max(s, 0);
      store<f32>(co, s);
    }
  }
}

/** Horizontal sums: [Σx0, Σx1, Σx2, Σx3]. */
// @ts-ignore: decorator
@inline function hsum4(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  let s01 = f32x4.add(f32x4.shuffle(x0, x1, 0, 4, 1, 5), f32x4.shuffle(x0, x1, 2, 6, 3, 7));
  let s23 = f32x4.add(f32x4.shuffle(x2, x3, 0, 4, 1, 5), f32x4.shuffle(x2, x3, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(s01, s23, 0, 1, 4, 5), f32x4.shuffle(s01, s23, 2, 3, 6, 7));
}

/** Tail (k mod 4) of four dot products, as a vector. */
// @ts-ignore: decorator
@inline function dotTail4(p: i32, k: i32, a: usize, b0: usize, b1: usize, b2: usize, b3: usize): v128 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  for (; p < k; p++) {
    let o = <usize>p << 2;
    let av = load<f32>(a + o);
    s0 += av * load<f32>(b0 + o); s1 += av * load<f32>(b1 + o);
    s2 += av * load<f32>(b2 + o); s3 += av * load<f32>(b3 + o);
  }
  let t = f32x4.replace_lane(f32x4.splat(s0), 1, s1);
  t = f32x4.replace_lane(t, 2, s2);
  return f32x4.replace_lane(t, 3, s3);
}

/**
 * Small m, op(B) stored [n×k] (nt, tt): dot products of R (1 or 2) contiguous A rows (row
 * stride ars) with 4 B rows, 4 k at a time (R·4 accumulators), then horizontal sums.
 */
// @ts-ignore: decorator
@inline function dotBody(
  R: i32, k: i32, a: usize, ars: usize, b: usize, ldb: usize,
  c: usize, ldc: usize, f: i32, bias: usize,
): void {
  let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
  let b0 = b, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
  let a1 = a + ars;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    let o = <usize>p << 2;
    let av = v128.load(a + o);
    let bv = v128.load(b0 + o);
    x0 = fma(av, bv, x0);
    let aw = R > 1 ? v128.load(a1 + o) : av;
    if (R > 1) y0 = fma(aw, bv, y0);
    bv = v128.load(b1 + o); x1 = fma(av, bv, x1); if (R > 1) y1 = fma(aw, bv, y1);
    bv = v128.load(b2 + o); x2 = fma(av, bv, x2); if (R > 1) y2 = fma(aw, bv, y2);
    bv = v128.load(b3 + o); x3 = fma(av, bv, x3); if (R > 1) y3 = fma(aw, bv, y3);
  }
  let r = hsum4(x0, x1, x2, x3);
  let q = R > 1 ? hsum4(y0, y1, y2, y3) : r;
  if (p < k) {
    r = f32x4.add(r, dotTail4(p, k, a, b0, b1, b2, b3));
    if (R > 1) q = f32x4.add(q, dotTail4(p, k, a1, b0, b1, b2, b3));
  }
  let c1 = c + ldc;
  if (f & F_LOADC) {
    r = f32x4.add(r, v128.load(c));
    if (R > 1) q = f32x4.add(q, v128.load(c1));
  }
  if (f & F_BIAS) {
    let bv = v128.load(bias);
    r = f32x4.add(r, bv);
    if (R > 1) q = f32x4.add(q, bv);
  }
  if (f & F_RELU) {
    r = relu(r);
    if (R > 1) q = relu(q);
  }
  v128.store(c, r);
  if (R > 1) v128.store(c1, q);
}

function dot1x4(k: i32, a: usize, b: usize, ldb: usize, c: usize, f: i32, bias: usize): void {
  dotBody(1, k, a, 0, b, ldb, c, 0, f, bias);
}

function dot2x4(k: i32, a: usize, ars: usize, b: usize, ldb: usize, c: usize, ldc: usize, f: i32, bias: usize): void {
  dotBody(2, k, a, ars, b, ldb, c, ldc, f, bias);
}

function dot1x1(k: i32, a: usize, b: usize, c: usize, f: i32, bias: usize): void {
  let x = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    let o = <usize>p << 2;
    x = fma(v128.load(a + o), v128.load(b + o), x);
  }
  let s = (f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1)) + (f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3));
  for (; p < k; p++) {
    let o = <usize>p << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  if (f & F_LOADC) s += load<f32>(c);
  if (f & F_BIAS) s += load<f32>(bias);
  if (f & F_RELU) s = Mathf.max(s, 0);
  store<f32>(c, s);
}

function smallM_nk(
  TA: bool, m: i32, n: i32, k: i32, a: usize, lda: usize, b: usize, ldb: usize,
  c: usize, ldc: usize, bias: usize, f: i32, ws: usize,
): void {
  let ars = lda;
  if (TA) {
    // Gather the m (< SMALL_M_NK) columns of the stored A into contiguous rows.
    for (let i = 0; i < m; i++) {
      let s = a + (<usize>i << 2);
      let d = ws + (<usize>(i * k) << 2);
      for (let p = 0; p < k; p++) {
        store<f32>(d, load<f32>(s));
        s += lda; d += 4;
      }
    }
    a = ws;
    ars = <usize>k << 2;
  }
  for (let i = 0; i < m; i += 2) {
    let ar = a + <usize>i * ars;
    let cr = c + <usize>i * ldc;
    let two = i + 1 < m;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let o = <usize>j << 2;
      if (two) dot2x4(k, ar, ars, b + <usize>j * ldb, ldb, cr + o, ldc, f, bias + o);
      else dot1x4(k, ar, b + <usize>j * ldb, ldb, cr + o, f, bias + o);
    }
    for (; j < n; j++) {
      let o = <usize>j << 2;
      dot1x1(k, ar, b + <usize>j * ldb, cr + o, f, bias + o);
      if (two) dot1x1(k, ar + ars, b + <usize>j * ldb, cr + ldc + o, f, bias + o);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

/** Size of ceil(total / max) equal blocks, rounded up to a multiple of `unit` (max is one). */
function blockSize(total: i32, max: i32, unit: i32): i32 {
  let nb = (total + max - 1) / max;
  let bs = (total + nb - 1) / nb;
  bs = (bs + unit - 1) / unit * unit;
  return imin(bs, max);
}

// @ts-ignore: decorator
@inline function alignWs(ws: usize): usize {
  return (ws + 63) & ~(<usize>63);
}

export function f32_gemm_workspace(m: i32, n: i32, k: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  // The largest need of the four forms: tt with small m gathers A's columns into rows; the
  // packed path holds one B block, one A block and an edge tile.
  let small = m < SMALL_M_NK ? (m * k) << 2 : 0;
  let packed = 0;
  if (m >= SMALL_M_NK || m >= SMALL_M_KN) {
    let kc = imin(k, KC);
    let nc = (imin(n, NC) + 7) & ~7;
    let mc = (imin(m, MC) + MR - 1) / MR * MR;
    packed = ((kc * nc) << 2) + ((mc * kc) << 2) + ((MR * 8) << 2);
  }
  return 64 + (small > packed ? small : packed);
}

// @ts-ignore: decorator
@inline function gemm(
  TA: bool, TB: bool,
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  bias: usize, act: i32, alpha: f32, beta: i32, ws: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    noK(m, n, c, ldc, bias, act, alpha, beta);
    return;
  }
  ws = alignWs(ws);
  let ldab = <usize>lda << 2, ldbb = <usize>ldb << 2, ldcb = <usize>ldc << 2;
  let f0 = (beta ? F_LOADC : 0) | (bias ? F_BIAS : 0);
  let fr = act == U_RELU ? F_RELU : 0;

  if (TB ? m < SMALL_M_NK : m < SMALL_M_KN) {
    if (TB) smallM_nk(TA, m, n, k, a, ldab, b, ldbb, c, ldcb, bias, f0 | fr, ws);
    else smallM_kn(TA, m, n, k, a, ldab, b, ldbb, c, ldcb, bias, f0, fr);
    applyAct(act, alpha, m, n, c, ldc);
    return;
  }

  let packedA = n > THIN_N;
  let kcMax = imin(k, KC);
  let wsB = ws;
  let wsA = wsB + (<usize>(kcMax * ((imin(n, NC) + 7) & ~7)) << 2);
  let mcp = (imin(m, MC) + MR - 1) / MR * MR;
  let tile = wsA + (<usize>(mcp * kcMax) << 2);

  // Blocks of (nearly) equal size: k = 784 runs as 4 × 196, not 3 × 256 + 16.
  let ncb = blockSize(n, NC, 8), kcb = blockSize(k, KC, 4), mcb = blockSize(m, MC, MR);
  for (let jc = 0; jc < n; jc += ncb) {
    let nc = imin(ncb, n - jc);
    for (let pc = 0; pc < k; pc += kcb) {
      let kc = imin(kcb, k - pc);
      let bsrc = TB ? b + <usize>jc * ldbb + (<usize>pc << 2) : b + <usize>pc * ldbb + (<usize>jc << 2);
      packB(TB, bsrc, ldbb, kc, nc, wsB);
      let last = pc + kc == k;
      let f = pc == 0 ? f0 : F_LOADC;
      if (last) f |= fr;
      for (let ic = 0; ic < m; ic += mcb) {
        let mc = imin(mcb, m - ic);
        let asrc = TA ? a + <usize>pc * ldab + (<usize>ic << 2) : a + <usize>ic * ldab + (<usize>pc << 2);
        if (packedA) packA(TA, asrc, ldab, mc, kc, wsA);
        let cblk = c + <usize>ic * ldcb + (<usize>jc << 2);
        for (let jr = 0; jr < nc; jr += 8) {
          let rem = nc - jr;
          let W = rem > 4 ? 8 : 4;
          let nv = imin(W, rem);
          let pb = wsB + (<usize>(jr * kc) << 2);
          let bks = <usize>W << 2;
          let bb = bias + (<usize>(jc + jr) << 2);
          let cj = cblk + (<usize>jr << 2);
          for (let ir = 0, R = 0; ir < mc; ir += R) {
            R = panelRows(mc - ir);
            let pa: usize, as: usize;
            let rowmaj = false;
            if (packedA) {
              pa = wsA + (<usize>(ir * kc) << 2);
              as = <usize>R << 2;
            } else if (TA) {
              pa = asrc + (<usize>ir << 2);
              as = ldab;
            } else {
              pa = asrc + <usize>ir * ldab;
              as = ldab;
              rowmaj = true;
            }
            let cp = cj + <usize>ir * ldcb;
            if (nv == W) {
              kernel(R, W, rowmaj, kc, pa, as, pb, bks, cp, ldcb, f, bb);
            } else {
              kernel(R, W, rowmaj, kc, pa, as, pb, bks, tile, bks, 0, 0);
              mergeTile(tile, W, R, nv, cp, ldcb, f, bb);
            }
          }
        }
        if (last) applyAct(act, alpha, mc, nc, cblk, ldc);
      }
    }
  }
}

export function f32_gemm_nn(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  bias: usize, act: i32, alpha: f32, beta: i32, ws: usize,
): void {
  gemm(false, false, m, n, k, a, lda, b, ldb, c, ldc, bias, act, alpha, beta, ws);
}

export function f32_gemm_nt(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  bias: usize, act: i32, alpha: f32, beta: i32, ws: usize,
): void {
  gemm(false, true, m, n, k, a, lda, b, ldb, c, ldc, bias, act, alpha, beta, ws);
}

export function f32_gemm_tn(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  bias: usize, act: i32, alpha: f32, beta: i32, ws: usize,
): void {
  gemm(true, false, m, n, k, a, lda, b, ldb, c, ldc, bias, act, alpha, beta, ws);
}

export function f32_gemm_tt(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  bias: usize, act: i32, alpha: f32, beta: i32, ws: usize,
): void {
  gemm(true, true, m, n, k, a, lda, b, ldb, c, ldc, bias, act, alpha, beta, ws);
}
