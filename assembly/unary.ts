// Elementwise unary functions and their gradients (codes in codes.ts, generated from the op table
// src/core/optable.ts; formulas in ABI.md). A new unary op is a line in vunary and vunaryGrad and a case in
// each dispatch switch below.
//
// One loop shape per op, specialised at compile time: each @inline loop is instantiated with a constant op,
// so the op switch disappears from the loop body. The scalar tail runs the same vector code on a splat, so
// an element's result never depends on where it sits in the array (thread tiles may split anywhere).
// A code the dispatch does not know traps (unreachable): the TypeScript side checks codes first, so a
// trap means a kernel lacks an op of the table, and the conformance suite fails on it.
import {
  U_IDENTITY, U_RELU, U_LEAKY_RELU, U_ELU, U_GELU, U_SIGMOID, U_TANH, U_EXP, U_LOG, U_SQRT, U_NEG, U_ABS,
  U_SQUARE, U_SOFTPLUS, U_RECIPROCAL, U_SIGN, U_SILU, unaryGradReadsX, unaryGradReadsY,
} from './codes';
import {
  vexp, vexpm1Neg, vgelu, vgeluGrad, vlog, vsigmoid, vsign, vsoftplus, vtanh, kf, K_ONE, K_TWO,
} from './vmath';

/**
 * f(x) for one vector; `alpha` is the leakyRelu slope / elu scale. The gemm epilogue calls f32_unary, so
 * fused activations give the same numbers as the standalone kernel.
 */
@inline function vunary(op: i32, x: v128, alpha: v128): v128 {
  const zero = f32x4.splat(0.0);
  if (op == U_RELU) return v128.andnot(x, f32x4.le(x, zero)); // NaN stays NaN, -0 becomes +0
  if (op == U_LEAKY_RELU) return v128.bitselect(x, f32x4.mul(x, alpha), f32x4.gt(x, zero));
  if (op == U_ELU) return v128.bitselect(x, f32x4.mul(alpha, vexpm1Neg(x)), f32x4.gt(x, zero));
  if (op == U_GELU) return vgelu(x);
  if (op == U_SIGMOID) return vsigmoid(x);
  if (op == U_TANH) return vtanh(x);
  if (op == U_EXP) return vexp(x);
  if (op == U_LOG) return vlog(x);
  if (op == U_SQRT) return f32x4.sqrt(x);
  if (op == U_NEG) return f32x4.neg(x);
  if (op == U_ABS) return f32x4.abs(x);
  if (op == U_SQUARE) return f32x4.mul(x, x);
  if (op == U_SOFTPLUS) return vsoftplus(x);
  if (op == U_RECIPROCAL) return f32x4.div(kf(K_ONE), x);
  if (op == U_SIGN) return vsign(x);
  if (op == U_SILU) return f32x4.mul(x, vsigmoid(x));
  return x; // identity
}

/**
 * dy·f'(x) for one vector, given x, y = f(x) and dy; only the operands the table says the derivative reads
 * (unaryGradReadsX/Y) are loaded, the others arrive as zeros. Conventions follow PyTorch (see ABI.md).
 */
@inline function vunaryGrad(op: i32, x: v128, y: v128, dy: v128, alpha: v128): v128 {
  const zero = f32x4.splat(0.0);
  const one = kf(K_ONE);
  if (op == U_RELU) return v128.and(dy, f32x4.gt(x, zero)); // relu'(0) = 0
  if (op == U_LEAKY_RELU) return v128.bitselect(dy, f32x4.mul(dy, alpha), f32x4.gt(x, zero));
  // elu'(x <= 0) = α·e^x, taken from x rather than y + α, which cancels for very negative x.
  if (op == U_ELU) return v128.bitselect(dy, f32x4.mul(dy, f32x4.mul(alpha, vexp(x))), f32x4.gt(x, zero));
  if (op == U_GELU) return f32x4.mul(dy, vgeluGrad(x));
  // sigmoid and tanh use the saved output, as PyTorch does; 1 - y is exact for y >= 0.5.
  if (op == U_SIGMOID) return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
  if (op == U_TANH) return f32x4.mul(dy, f32x4.mul(f32x4.sub(one, y), f32x4.add(one, y)));
  if (op == U_EXP) return f32x4.mul(dy, y);
  if (op == U_LOG) return f32x4.div(dy, x);
  if (op == U_SQRT) return f32x4.div(dy, f32x4.add(y, y));
  if (op == U_NEG) return f32x4.neg(dy);
  if (op == U_ABS) return f32x4.mul(dy, vsign(x)); // abs'(0) = 0
  if (op == U_SQUARE) return f32x4.mul(f32x4.mul(dy, x), kf(K_TWO)); // no early overflow of 2x
  if (op == U_SOFTPLUS) return f32x4.mul(dy, vsigmoid(x));
  if (op == U_RECIPROCAL) return f32x4.neg(f32x4.mul(f32x4.mul(dy, y), y)); // no early overflow of y²
  if (op == U_SIGN) return zero;
  if (op == U_SILU) {
    // silu' = σ(x)·(1 + x·σ(−x)): σ(x) and σ(−x) = 1 − σ(x) from one e^−|x|, so 1 − σ does not cancel.
    const e = vexp(f32x4.neg(f32x4.abs(x)));
    const q = f32x4.div(one, f32x4.add(one, e)), eq = f32x4.mul(e, q);
    const pos = f32x4.ge(x, zero);
    return f32x4.mul(dy, f32x4.mul(v128.bitselect(q, eq, pos), f32x4.add(one, f32x4.mul(x, v128.bitselect(eq, q, pos)))));
  }
  return dy; // identity
}

@inline function unaryLoop(op: i32, n: i32, x: usize, y: usize, alpha: f32): void {
  const va = f32x4.splat(alpha);
  const end = x + (<usize>n << 2);
  const d = y - x; // y = x + d for every element (wraps harmlessly when y < x)
  let p = x;
  while (p + 64 <= end) {
    const a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
    v128.store(p + d, vunary(op, a0, va));
    v128.store(p + d, vunary(op, a1, va), 16);
    v128.store(p + d, vunary(op, a2, va), 32);
    v128.store(p + d, vunary(op, a3, va), 48);
    p += 64;
  }
  while (p + 16 <= end) {
    v128.store(p + d, vunary(op, v128.load(p), va));
    p += 16;
  }
  while (p < end) {
    store<f32>(p + d, f32x4.extract_lane(vunary(op, v128.load32_splat(p), va), 0));
    p += 4;
  }
}

/** y[i] = f(x[i]) for i < n; y may equal x. `alpha` is the slope of leakyRelu and the scale of elu. */
export function f32_unary(op: i32, n: i32, x: usize, y: usize, alpha: f32): void {
  if (n <= 0) return;
  switch (op) {
    case U_IDENTITY: { if (x != y) memory.copy(y, x, <usize>n << 2); break; }
    case U_RELU: { unaryLoop(U_RELU, n, x, y, alpha); break; }
    case U_LEAKY_RELU: { unaryLoop(U_LEAKY_RELU, n, x, y, alpha); break; }
    case U_ELU: { unaryLoop(U_ELU, n, x, y, alpha); break; }
    case U_GELU: { unaryLoop(U_GELU, n, x, y, alpha); break; }
    case U_SIGMOID: { unaryLoop(U_SIGMOID, n, x, y, alpha); break; }
    case U_TANH: { unaryLoop(U_TANH, n, x, y, alpha); break; }
    case U_EXP: { unaryLoop(U_EXP, n, x, y, alpha); break; }
    case U_LOG: { unaryLoop(U_LOG, n, x, y, alpha); break; }
    case U_SQRT: { unaryLoop(U_SQRT, n, x, y, alpha); break; }
    case U_NEG: { unaryLoop(U_NEG, n, x, y, alpha); break; }
    case U_ABS: { unaryLoop(U_ABS, n, x, y, alpha); break; }
    case U_SQUARE: { unaryLoop(U_SQUARE, n, x, y, alpha); break; }
    case U_SOFTPLUS: { unaryLoop(U_SOFTPLUS, n, x, y, alpha); break; }
    case U_RECIPROCAL: { unaryLoop(U_RECIPROCAL, n, x, y, alpha); break; }
    case U_SIGN: { unaryLoop(U_SIGN, n, x, y, alpha); break; }
    case U_SILU: { unaryLoop(U_SILU, n, x, y, alpha); break; }
    default: unreachable();
  }
}

@inline function gradAt(op: i32, p: usize, dy: usize, dx: usize, y: usize, off: usize, va: v128): void {
  // p walks x; dy, dx, y are byte distances from x. Unneeded operands are never read.
  const xv = unaryGradReadsX(op) ? v128.load(p + off) : f32x4.splat(0.0);
  const yv = unaryGradReadsY(op) ? v128.load(p + y + off) : f32x4.splat(0.0);
  const dv = op != U_SIGN ? v128.load(p + dy + off) : f32x4.splat(0.0);
  v128.store(p + dx + off, vunaryGrad(op, xv, yv, dv, va));
}

@inline function gradLoop(op: i32, n: i32, x: usize, y: usize, dy: usize, dx: usize, alpha: f32): void {
  const va = f32x4.splat(alpha);
  const end = x + (<usize>n << 2);
  const oy = y - x, ody = dy - x, odx = dx - x;
  let p = x;
  // Each block loads all its inputs before storing, so dx may equal dy (or x, or y).
  while (p + 32 <= end) {
    const x0 = unaryGradReadsX(op) ? v128.load(p) : f32x4.splat(0.0);
    const x1 = unaryGradReadsX(op) ? v128.load(p, 16) : f32x4.splat(0.0);
    const y0 = unaryGradReadsY(op) ? v128.load(p + oy) : f32x4.splat(0.0);
    const y1 = unaryGradReadsY(op) ? v128.load(p + oy, 16) : f32x4.splat(0.0);
    const d0 = op != U_SIGN ? v128.load(p + ody) : f32x4.splat(0.0);
    const d1 = op != U_SIGN ? v128.load(p + ody, 16) : f32x4.splat(0.0);
    v128.store(p + odx, vunaryGrad(op, x0, y0, d0, va));
    v128.store(p + odx, vunaryGrad(op, x1, y1, d1, va), 16);
    p += 32;
  }
  while (p + 16 <= end) {
    gradAt(op, p, ody, odx, oy, 0, va);
    p += 16;
  }
  while (p < end) {
    const xv = unaryGradReadsX(op) ? v128.load32_splat(p) : f32x4.splat(0.0);
    const yv = unaryGradReadsY(op) ? v128.load32_splat(p + oy) : f32x4.splat(0.0);
    const dv = op != U_SIGN ? v128.load32_splat(p + ody) : f32x4.splat(0.0);
    store<f32>(p + odx, f32x4.extract_lane(vunaryGrad(op, xv, yv, dv, va), 0));
    p += 4;
  }
}

/** dx[i] = dy[i]·f'(x[i]) (y = f(x) given too); dx may equal dy. */
export function f32_unary_grad(op: i32, n: i32, x: usize, y: usize, dy: usize, dx: usize, alpha: f32): void {
  if (n <= 0) return;
  switch (op) {
    case U_IDENTITY: { if (dx != dy) memory.copy(dx, dy, <usize>n << 2); break; }
    case U_RELU: { gradLoop(U_RELU, n, x, y, dy, dx, alpha); break; }
    case U_LEAKY_RELU: { gradLoop(U_LEAKY_RELU, n, x, y, dy, dx, alpha); break; }
    case U_ELU: { gradLoop(U_ELU, n, x, y, dy, dx, alpha); break; }
    case U_GELU: { gradLoop(U_GELU, n, x, y, dy, dx, alpha); break; }
    case U_SIGMOID: { gradLoop(U_SIGMOID, n, x, y, dy, dx, alpha); break; }
    case U_TANH: { gradLoop(U_TANH, n, x, y, dy, dx, alpha); break; }
    case U_EXP: { gradLoop(U_EXP, n, x, y, dy, dx, alpha); break; }
    case U_LOG: { gradLoop(U_LOG, n, x, y, dy, dx, alpha); break; }
    case U_SQRT: { gradLoop(U_SQRT, n, x, y, dy, dx, alpha); break; }
    case U_NEG: { gradLoop(U_NEG, n, x, y, dy, dx, alpha); break; }
    case U_ABS: { gradLoop(U_ABS, n, x, y, dy, dx, alpha); break; }
    case U_SQUARE: { gradLoop(U_SQUARE, n, x, y, dy, dx, alpha); break; }
    case U_SOFTPLUS: { gradLoop(U_SOFTPLUS, n, x, y, dy, dx, alpha); break; }
    case U_RECIPROCAL: { gradLoop(U_RECIPROCAL, n, x, y, dy, dx, alpha); break; }
    case U_SIGN: { gradLoop(U_SIGN, n, x, y, dy, dx, alpha); break; }
    case U_SILU: { gradLoop(U_SILU, n, x, y, dy, dx, alpha); break; }
    default: unreachable();
  }
}
