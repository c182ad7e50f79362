// int8 inference: the quantized dense layer and the quantizer of its input (see ABI.md).
//
// Numbers. Weights are int8 in [-127, 127], one scale per output column. Activations are "u7": bytes
// in [0, 127] with a scale and a zero point (x ≈ s·(q − z)). Seven bits, not eight, because the relaxed
// dot product (i32x4.relaxed_dot_i8x16_i7x16_add_s) is only deterministic when one operand keeps its
// top bit clear: x86 runs it as pmaddubsw, which reads that operand as unsigned, and other hardware as
// signed; in [0, 127] both agree, and pmaddubsw's 16-bit pair sums (≤ 2·127·127) never saturate. So
// every backend and both kernel builds produce the same integers, and the same floats after them.
//
// Packed weights (src/nn/quantize.ts packs them): k is padded with zeros to kp = roundup(k, 4) and the
// columns are cut into panels of 16 (the last one 4, 8, 12 or 16 wide: n padded to a multiple of 4
// with zero columns). The panel of column j0 starts at b + j0·kp; inside it, k-group g (k = 4g … 4g+3)
// of a panel w columns wide is w·4 bytes: w/4 vectors, vector q holding columns j0+4q … j0+4q+3, each
// as its 4 consecutive k values. One v128.load32_splat of 4 activation bytes against one such vector
// is 16 multiply-adds into 4 column sums.
//
// Epilogue, per element, in this order and in float32 (js/backend.ts's qgemm does the same):
//   v = f32(acc + bias[j]) · scale[j]            bias: int32 (the float bias and the zero-point term)
//   v = act(v)                                   identity, relu (max(v, 0)) or leakyRelu (v > 0 ? v : v·α)
//   out 0: C[i, j] = v (float32)
//   out 1: C[i, j] = clamp(nearest(v · outScale) + outZero, 0, 127) (a byte; NaN → outZero)
// No fused multiply-add anywhere in it, relaxed build included: one rounding per operation.
//
// A is read in place (rows of lda bytes, 4 bytes at a time: a row may be read up to 3 bytes past its
// end, where the packed weights are zero, so those bytes count for nothing whatever they hold; the
// allocator's tail pad covers the last row). No packing, no workspace, no statics: any row or
// 16-column tile of a product may run on any thread.
//
// Tiles (V8/x64 leaves 15 xmm registers; the relaxed dot needs a temporary where the machine has no
// VNNI): full 16-column panels run 2×16 (relaxed; one contiguous 64-byte step of B per k group, 8
// accumulators) and 1×16; partial panels run MR×8 and MR×4 (relaxed MR = 4). The plain build emulates
// the 4-wide dot with i32x4.dot_i16x8_s, which needs two accumulators per 4 columns: 1×16 and 2×8.
// Measured on the MNIST MLP at batch 1024 (interleaved A/B runs): 2×16 beat 4×8 by 3–8%, 5×8 lost
// ~10% (spills), and the epilogue in a function of its own (row16) beat it inlined by a few %.
// Trap: 2×16 is at the edge of the register file (8 accumulators, `one`, 2 splats, 4 B vectors: 15 live
// plus a temporary, one more than V8 leaves): see tile2x16Relaxed for the loop form that spills least.
import { U_IDENTITY, U_LEAKY_RELU, U_RELU } from './codes';

// @ts-ignore: decorator
@inline const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 4 : 2;
/** Rows per block: their A (MC·k bytes) stays in L2 while all of B passes (64: measured, vs 32 and 128). */
// @ts-ignore: decorator
@inline const MC: i32 = 64;

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/**
 * nearest(t) as int32 lanes for float32 t, NaN → 0 and t clamped to ±2^22 first (the u7 step clamps to
 * [0, 127] after, so the clamp changes nothing it returns). Cheaper than f32x4.nearest plus
 * i32x4.trunc_sat_f32x4_s (which V8 spells out in ~8 instructions for NaN and saturation): adding
 * 1.5·2^23 leaves t rounded half to even in the low mantissa bits. pmin/pmax, not min/max: one
 * instruction each, and NaN is gone by then.
 */
// @ts-ignore: decorator
@inline function roundToInt(t: v128): v128 {
  t = v128.and(t, f32x4.eq(t, t));
  t = f32x4.pmin(f32x4.pmax(t, f32x4.splat(-4194304)), f32x4.splat(4194304));
  return i32x4.sub(f32x4.add(t, f32x4.splat(12582912)), i32x4.splat(0x4b400000));
}

/** The float32 → u7 step of the epilogue and of q8_quantize, on 4 lanes: i32 lanes in [0, 127]. */
// @ts-ignore: decorator
@inline function toU7(v: v128, outScale: v128, outZero: v128): v128 {
  // The 16-bit saturating steps land in [0, 127] exactly as clamp(r + zero, 0, 127) would.
  let r = roundToInt(f32x4.mul(v, outScale));
  let h = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r, r), outZero);
  return i8x16.min_u(i8x16.narrow_i16x8_u(h, h), i8x16.splat(127));
}

/**
 * The epilogue of 4 columns (j … j+3, of which `nv` ≥ 1 are real) of one row: acc holds their int32
 * sums; writes them to the row at c (float32 or bytes).
 */
// @ts-ignore: decorator
@inline function finish(
  acc: v128, j: i32, nv: i32, c: usize, scale: usize, bias: usize,
  act: i32, alpha: v128, out: i32, outScale: v128, outZero: v128,
): void {
  let o = <usize>j << 2;
  let v = f32x4.mul(f32x4.convert_i32x4_s(i32x4.add(acc, v128.load(bias + o))), v128.load(scale + o));
  if (act == U_RELU) v = f32x4.pmax(f32x4.splat(0), v); // v > 0 ? v : +0, one instruction (no NaN here)
  else if (act == U_LEAKY_RELU) v = v128.bitselect(v, f32x4.mul(v, alpha), f32x4.gt(v, f32x4.splat(0)));
  else if (act != U_IDENTITY) unreachable();
  if (out == 0) {
    let p = c + o;
    if (nv >= 4) v128.store(p, v);
    else {
      v128.store32_lane(p, v, 0);
      if (nv > 1) v128.store32_lane(p, v, 1, 4);
      if (nv > 2) v128.store32_lane(p, v, 2, 8);
    }
  } else {
    let q = toU7(v, outScale, outZero);
    let p = c + <usize>j;
    if (nv >= 4) v128.store32_lane(p, q, 0);
    else {
      v128.store8_lane(p, q, 0);
      if (nv > 1) v128.store8_lane(p, q, 1, 1);
      if (nv > 2) v128.store8_lane(p, q, 2, 2);
    }
  }
}

/**
 * acc + the 4-wide dot products of int8 w with u7 a, per i32 lane. Not the fused
 * i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's baseline compiler (Liftoff, V8 11.3) gets that one wrong
 * (it returns 2·dot and drops the accumulator; TurboFan is right), and a function runs in Liftoff until
 * its optimised code is ready, so results would change from call to call. The pairs are summed as a
 * dot with `one` (i16 lanes of 1; the same as i32x4.extadd_pairwise_i16x8_s), made by the caller from a
 * run-time value so that it stays in a register: V8 loads extadd's constant from memory at every use,
 * which cost 10–18% (measured). On x64 without VNNI this is what V8 emits for the fused op anyway
 * (pmaddubsw, pmaddwd, paddd).
 */
// @ts-ignore: decorator
@inline function dot4(w: v128, a: v128, acc: v128, one: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a), one));
}

/** i16 lanes of 1 that binaryen cannot fold into a constant (n ≥ 0, so n >> 31 is 0). */
// @ts-ignore: decorator
@inline function ones(n: i32): v128 {
  return i16x8.splat(<i16>(1 + (n >> 31)));
}

/** Sum of the pair accumulators of the plain build: lanes (2c, 2c+1) of lo:hi hold column c's halves. */
// @ts-ignore: decorator
@inline function pairs(lo: v128, hi: v128): v128 {
  return i32x4.add(i32x4.shuffle(lo, hi, 0, 2, 4, 6), i32x4.shuffle(lo, hi, 1, 3, 5, 7));
}

// ---------------------------------------------------------------------------------------------
// Microkernels. R rows (literal) × W columns (16, 8 or 4; literal) over all k groups:
//   A(r, g) = a + r·lda + 4g (4 bytes, splat);  B(g) = b + g·bs (W/4 vectors)
// then the epilogue of each 4 columns. nv = real columns of the tile (the rest are zero padding).
// ---------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function tileRelaxed(
  R: i32, W: i32, groups: i32, a: usize, lda: usize, b: usize, bs: usize,
  c: usize, ldc: usize, j: i32, nv: i32, scale: usize, bias: usize,
  act: i32, alpha: f32, out: i32, outScale: f32, outZero: i32,
): void {
  let z = i32x4.splat(0);
  let one = ones(groups);
  let x0 = z, x1 = z, x2 = z, x3 = z, y0 = z, y1 = z, u0 = z, u1 = z, w0 = z, w1 = z;
  let a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  for (let g = groups; g > 0; g--) {
    let b0 = v128.load(b), b1 = z, b2 = z, b3 = z;
    if (W >= 8) b1 = v128.load(b, 16);
    if (W == 16) { b2 = v128.load(b, 32); b3 = v128.load(b, 48); }
    b += bs;
    let av = v128.load32_splat(a0); a0 += 4;
    x0 = dot4(b0, av, x0, one);
    if (W >= 8) x1 = dot4(b1, av, x1, one);
    if (W == 16) { x2 = dot4(b2, av, x2, one); x3 = dot4(b3, av, x3, one); }
    if (R > 1) { av = v128.load32_splat(a1); a1 += 4; y0 = dot4(b0, av, y0, one); if (W >= 8) y1 = dot4(b1, av, y1, one); }
    if (R > 2) { av = v128.load32_splat(a2); a2 += 4; u0 = dot4(b0, av, u0, one); if (W >= 8) u1 = dot4(b1, av, u1, one); }
    if (R > 3) { av = v128.load32_splat(a3); a3 += 4; w0 = dot4(b0, av, w0, one); if (W >= 8) w1 = dot4(b1, av, w1, one); }
  }
  if (W == 16) {
    row16(x0, x1, x2, x3, j, c, scale, bias, act, alpha, out, outScale, outZero); // one row, nv = 16
    return;
  }
  let sA = f32x4.splat(alpha), sO = f32x4.splat(outScale), zO = i16x8.splat(<i16>outZero);
  finish(x0, j, nv, c, scale, bias, act, sA, out, sO, zO);
  if (W >= 8 && nv > 4) finish(x1, j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO);
  if (R > 1) { c += ldc; finish(y0, j, nv, c, scale, bias, act, sA, out, sO, zO); if (W >= 8 && nv > 4) finish(y1, j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO); }
  if (R > 2) { c += ldc; finish(u0, j, nv, c, scale, bias, act, sA, out, sO, zO); if (W >= 8 && nv > 4) finish(u1, j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO); }
  if (R > 3) { c += ldc; finish(w0, j, nv, c, scale, bias, act, sA, out, sO, zO); if (W >= 8 && nv > 4) finish(w1, j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO); }
}

// The plain build: i32x4.dot_i16x8_s of the 4 activations (widened to 16 bits, twice) against 2
// columns' 4 weights (widened) gives (c, k0+k1), (c, k2+k3) per column: 2 accumulators per 4 columns,
// summed pairwise at the end.
// @ts-ignore: decorator
@inline function tilePlain(
  R: i32, W: i32, groups: i32, a: usize, lda: usize, b: usize, bs: usize,
  c: usize, ldc: usize, j: i32, nv: i32, scale: usize, bias: usize,
  act: i32, alpha: f32, out: i32, outScale: f32, outZero: i32,
): void {
  let z = i32x4.splat(0);
  // row 0: l0 h0 (cols 0-3), l1 h1 (4-7), l2 h2, l3 h3; row 1: m0 k0, m1 k1
  let l0 = z, h0 = z, l1 = z, h1 = z, l2 = z, h2 = z, l3 = z, h3 = z;
  let m0 = z, k0 = z, m1 = z, k1 = z;
  let a0 = a, a1 = a + lda;
  for (let g = groups; g > 0; g--) {
    let av = i16x8.extend_low_i8x16_u(v128.load32_splat(a0)); a0 += 4;
    let b0 = v128.load(b);
    let bl = i16x8.extend_low_i8x16_s(b0), bh = i16x8.extend_high_i8x16_s(b0);
    l0 = i32x4.add(l0, i32x4.dot_i16x8_s(bl, av)); h0 = i32x4.add(h0, i32x4.dot_i16x8_s(bh, av));
    let cv = z;
    if (R > 1) {
      cv = i16x8.extend_low_i8x16_u(v128.load32_splat(a1)); a1 += 4;
      m0 = i32x4.add(m0, i32x4.dot_i16x8_s(bl, cv)); k0 = i32x4.add(k0, i32x4.dot_i16x8_s(bh, cv));
    }
    if (W >= 8) {
      let b1 = v128.load(b, 16);
      bl = i16x8.extend_low_i8x16_s(b1); bh = i16x8.extend_high_i8x16_s(b1);
      l1 = i32x4.add(l1, i32x4.dot_i16x8_s(bl, av)); h1 = i32x4.add(h1, i32x4.dot_i16x8_s(bh, av));
      if (R > 1) { m1 = i32x4.add(m1, i32x4.dot_i16x8_s(bl, cv)); k1 = i32x4.add(k1, i32x4.dot_i16x8_s(bh, cv)); }
    }
    if (W == 16) {
      let b2 = v128.load(b, 32);
      bl = i16x8.extend_low_i8x16_s(b2); bh = i16x8.extend_high_i8x16_s(b2);
      l2 = i32x4.add(l2, i32x4.dot_i16x8_s(bl, av)); h2 = i32x4.add(h2, i32x4.dot_i16x8_s(bh, av));
      let b3 = v128.load(b, 48);
      bl = i16x8.extend_low_i8x16_s(b3); bh = i16x8.extend_high_i8x16_s(b3);
      l3 = i32x4.add(l3, i32x4.dot_i16x8_s(bl, av)); h3 = i32x4.add(h3, i32x4.dot_i16x8_s(bh, av));
    }
    b += bs;
  }
  if (W == 16) {
    row16(pairs(l0, h0), pairs(l1, h1), pairs(l2, h2), pairs(l3, h3), j, c, scale, bias, act, alpha, out, outScale, outZero); // one row, nv = 16
    return;
  }
  let sA = f32x4.splat(alpha), sO = f32x4.splat(outScale), zO = i16x8.splat(<i16>outZero);
  finish(pairs(l0, h0), j, nv, c, scale, bias, act, sA, out, sO, zO);
  if (W >= 8 && nv > 4) finish(pairs(l1, h1), j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO);
  if (R > 1) {
    c += ldc;
    finish(pairs(m0, k0), j, nv, c, scale, bias, act, sA, out, sO, zO);
    if (W >= 8 && nv > 4) finish(pairs(m1, k1), j + 4, nv - 4, c, scale, bias, act, sA, out, sO, zO);
  }
}

// @ts-ignore: decorator
@inline function tile(
  R: i32, W: i32, groups: i32, a: usize, lda: usize, b: usize, bs: usize,
  c: usize, ldc: usize, j: i32, nv: i32, scale: usize, bias: usize,
  act: i32, alpha: f32, out: i32, outScale: f32, outZero: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) tileRelaxed(R, W, groups, a, lda, b, bs, c, ldc, j, nv, scale, bias, act, alpha, out, outScale, outZero);
  else tilePlain(R, W, groups, a, lda, b, bs, c, ldc, j, nv, scale, bias, act, alpha, out, outScale, outZero);
}

/**
 * The epilogue of 16 finished columns of one row: a function of its own, so that the k loop before it
 * keeps its registers (inlined, it measured a few % slower).
 */
function row16(x0: v128, x1: v128, x2: v128, x3: v128, j: i32, c: usize, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void {
  let sA = f32x4.splat(al), sO = f32x4.splat(os), zO = i16x8.splat(<i16>oz);
  finish(x0, j, 16, c, s, bi, act, sA, out, sO, zO);
  finish(x1, j + 4, 12, c, s, bi, act, sA, out, sO, zO);
  finish(x2, j + 8, 8, c, s, bi, act, sA, out, sO, zO);
  finish(x3, j + 12, 4, c, s, bi, act, sA, out, sO, zO);
}

/**
 * Full 16-column panels, 2 rows (relaxed): one contiguous 64-byte step of B per k group. Both rows'
 * splats first, then B one vector at a time. With the 4 B vectors loaded first and the splats after
 * them (the earlier form), Node 20's TurboFan (V8 11.3) unrolls this loop 3× and keeps one accumulator
 * on the stack in every copy: a load and a store on its loop-carried chain in every k group. In this
 * form the first copy keeps it in a register (one store-to-load round trip fewer per 3 groups), which
 * measured 1.2× the whole batch-1024 predict (int8 1.62× → 1.94× float32). TurboFan picks the
 * instruction order itself, so this is what was measured, not a guarantee: look at the machine code
 * (node --print-wasm-code) after changing the loop. V8 15 (Deno 2.9) runs both forms at the same speed.
 */
// @ts-ignore: decorator
@inline function tile2x16Relaxed(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void {
  let z = i32x4.splat(0);
  let one = ones(g);
  let x0 = z, x1 = z, x2 = z, x3 = z, y0 = z, y1 = z, y2 = z, y3 = z;
  let a1 = a + lda;
  for (let k = g; k > 0; k--) {
    let av = v128.load32_splat(a), cv = v128.load32_splat(a1);
    a += 4; a1 += 4;
    let bq = v128.load(b);
    x0 = dot4(bq, av, x0, one); y0 = dot4(bq, cv, y0, one);
    bq = v128.load(b, 16);
    x1 = dot4(bq, av, x1, one); y1 = dot4(bq, cv, y1, one);
    bq = v128.load(b, 32);
    x2 = dot4(bq, av, x2, one); y2 = dot4(bq, cv, y2, one);
    bq = v128.load(b, 48);
    x3 = dot4(bq, av, x3, one); y3 = dot4(bq, cv, y3, one);
    b += bs;
  }
  row16(x0, x1, x2, x3, j, c, s, bi, act, al, out, os, oz);
  row16(y0, y1, y2, y3, j, c + ldc, s, bi, act, al, out, os, oz);
}

// One function per variant. Unlike gemm.ts's, the ones with a single call site (1×16, 2×16, 1×4) are
// inlined into q8_gemm by binaryen; keeping them apart (a second call site) measured 10–25% slower.
function t2x16(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { if (ASC_FEATURE_RELAXED_SIMD) tile2x16Relaxed(g, a, lda, b, bs, c, ldc, j, s, bi, act, al, out, os, oz); }
function t1x16(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { tile(1, 16, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t1x8(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { tile(1, 8, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t2x8(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { tile(2, 8, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t3x8(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { if (MR > 2) tile(3, 8, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t4x8(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { if (MR > 3) tile(4, 8, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t1x4(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { tile(1, 4, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t2x4(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { tile(2, 4, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t3x4(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { if (MR > 2) tile(3, 4, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }
function t4x4(g: i32, a: usize, lda: usize, b: usize, bs: usize, c: usize, ldc: usize, j: i32, nv: i32, s: usize, bi: usize, act: i32, al: f32, out: i32, os: f32, oz: i32): void { if (MR > 3) tile(4, 4, g, a, lda, b, bs, c, ldc, j, nv, s, bi, act, al, out, os, oz); }

/**
 * C[m×n] = epilogue(A[m×k] (u7, rows of lda bytes) · B (packed int8, see the top) + bias) — the
 * quantized dense layer. scale and bias hold n values each (float32, int32), read 4 at a time (pad them
 * to a multiple of 4). out = 0: C is float32 with rows of ldc floats; out = 1: C is u7 with rows of ldc
 * bytes, requantized with outScale (1 / the next layer's input scale) and outZero. act: identity, relu
 * or leakyRelu (alpha); any other code traps. k ≤ 65536 and |bias| ≤ 2^30 keep the int32 sums exact
 * (the caller checks).
 */
export function q8_gemm(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, c: usize, ldc: i32,
  scale: usize, bias: usize, act: i32, alpha: f32, outScale: f32, outZero: i32, out: i32,
): void {
  if (m <= 0 || n <= 0) return;
  let kp = (k + 3) & ~3;
  let groups = kp >> 2;
  let la = <usize>lda;
  let lc = out == 0 ? <usize>ldc << 2 : <usize>ldc;
  for (let i0 = 0; i0 < m; i0 += MC) {
    let mb = imin(MC, m - i0);
    let a0 = a + <usize>i0 * la, c0 = c + <usize>i0 * lc;
    for (let j0 = 0; j0 < n; j0 += 16) {
      let nv = imin(16, n - j0);
      let pw = (nv + 3) & ~3; // the panel's width in columns
      let bp = b + <usize>j0 * <usize>kp;
      let bs = <usize>pw << 2;
      if (nv == 16 && (mb == 1 || ASC_FEATURE_RELAXED_SIMD)) {
        // Full panels: 2 rows at a time (relaxed), then a last single row.
        let ci = c0, ai = a0, i = 0;
        if (ASC_FEATURE_RELAXED_SIMD) {
          for (; i + 2 <= mb; i += 2) {
            t2x16(groups, ai, la, bp, bs, ci, lc, j0, scale, bias, act, alpha, out, outScale, outZero);
            ai += la << 1;
            ci += lc << 1;
          }
        }
        if (i < mb) t1x16(groups, ai, la, bp, bs, ci, lc, j0, nv, scale, bias, act, alpha, out, outScale, outZero);
        continue;
      }
      // Halves of the panel: 8 columns, then 4 if the panel's width is 4 or 12.
      for (let h = 0; h < pw; h += 8) {
        let w = imin(8, pw - h);
        let jv = imin(w, nv - h);
        let bh = bp + (<usize>h << 2);
        let ci = c0, ai = a0;
        for (let i = 0; i < mb; i += MR) {
          let R = imin(MR, mb - i);
          if (w == 8) {
            if (R == 4) t4x8(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else if (R == 3) t3x8(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else if (R == 2) t2x8(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else t1x8(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
          } else {
            if (R == 4) t4x4(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else if (R == 3) t3x4(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else if (R == 2) t2x4(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
            else t1x4(groups, ai, la, bh, bs, ci, lc, j0 + h, jv, scale, bias, act, alpha, out, outScale, outZero);
          }
          ai += la * <usize>MR;
          ci += lc * <usize>MR;
        }
      }
    }
  }
}

/**
 * y[i] = clamp(nearest(x[i]·invScale) + zero, 0, 127) as bytes: float32 → u7 (NaN → zero, ±Inf → 127
 * or 0). y may not overlap x (bytes are written 4× faster than floats are read, in place would clobber).
 */
export function q8_quantize(n: i32, x: usize, y: usize, invScale: f32, zero: i32): void {
  if (n <= 0) return;
  let s = f32x4.splat(invScale), zv = i16x8.splat(<i16>zero);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    let p = x + (<usize>i << 2);
    let r0 = roundToInt(f32x4.mul(v128.load(p), s));
    let r1 = roundToInt(f32x4.mul(v128.load(p, 16), s));
    let r2 = roundToInt(f32x4.mul(v128.load(p, 32), s));
    let r3 = roundToInt(f32x4.mul(v128.load(p, 48), s));
    let h0 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zv);
    let h1 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r2, r3), zv);
    v128.store(y + <usize>i, i8x16.min_u(i8x16.narrow_i16x8_u(h0, h1), i8x16.splat(127)));
  }
  for (; i + 4 <= n; i += 4) v128.store32_lane(y + <usize>i, toU7(v128.load(x + (<usize>i << 2)), s, zv), 0);
  for (; i < n; i++) v128.store8_lane(y + <usize>i, toU7(v128.load32_zero(x + (<usize>i << 2)), s, zv), 0);
}
