// WGSL building blocks shared by the kernels (kernels.ts): the NaN/Inf helpers, a float32 math library, and
// the switches over the op table's codes (unary_f, unary_d, binary_f), assembled from one snippet per op.
//
// Why not WGSL's own exp/log/tanh/pow: the spec allows exp 3 + 2|x| ulp, pow inherits exp2(y·log2 x), and
// tanh is "inherited from sinh/cosh" — measured on SwiftShader, exp(88) is off by ~30 ulp. These are ports of
// the wasm kernels' scalar library (assembly/vmath.ts: Cephes expf/logf/tanhf with Cody–Waite reduction, the
// Numerical Recipes erfc for gelu), so all backends agree with the js oracle to a few ulp.
//
// Traps, each found on a real implementation:
// - Compilers may treat float comparisons as if NaN did not exist (SwiftShader folds `x != x` to false).
//   Every NaN/Inf test here looks at the bits.
// - Compilers may reassociate: SwiftShader turns (1 + e) - 1 into e. Where an error term is computed
//   (Cody–Waite reductions, TwoSum), intermediate values pass through opq(v) = v·F_ONE, a multiplication by
//   a 1 the compiler cannot see (it comes from the uniform block), which pins the evaluation order. Other
//   compensations are replaced by formulas that need none (log1p by its own polynomial).
// - A NaN or Inf constant is a shader-creation error (`bitcast<f32>(0x7fc00000u)` is refused), so F_NAN
//   and F_INF are also built at run time: every kernel calls init_consts(P.one) first (the backend writes
//   1.0 into the `one` field that leads every uniform block).
// - WGSL may flush subnormals to zero (SwiftShader does), and `round(x + 1.5·2^23) - 1.5·2^23` may be
//   reassociated away, so the range reductions use round() and integer exponent arithmetic instead.
// - `select(a, b, c)` evaluates both sides; out-of-range loads are clamped by robust buffer access (no
//   fault), but the kernels still guard them so no garbage NaN is ever read.

import { BINARY_NAMES, UNARY_NAMES, type BinaryName, type UnaryName } from '../../core/optable.js';

export const PRELUDE = /* wgsl */ `
var<private> F_ONE: f32;
var<private> F_NAN: f32;
var<private> F_INF: f32;
fn init_consts(one: f32) {
  let z = bitcast<u32>(one) ^ 0x3f800000u; // 0, unknown to the compiler
  F_ONE = one;
  F_NAN = bitcast<f32>(0x7fc00000u | z);
  F_INF = bitcast<f32>(0x7f800000u | z);
}
/** v, evaluated where it stands (no reassociation across it). */
fn opq(v: f32) -> f32 { return v * F_ONE; }
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }
fn is_finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) < 0x7f800000u; }
/** A class index stored as a float: an integer in [0, count). */
fn is_index(v: f32, count: u32) -> bool {
  return is_finite(v) && v >= 0.0 && floor(v) == v && v < f32(count);
}
/** The element index of a 1-D launch of 256-wide workgroups over a grid folded into x and y. */
fn flat_id(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.y * nwg.x + wid.x) * 256u + lid; }
`;

const MATH_LIB = /* wgsl */ `
const LOG2E: f32 = 1.44269504088896341;
// ln2 split so that n·LN2_HI is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/** e^r - 1 for |r| <= ln2/2 (Cephes expf polynomial, ~1 ulp, also for tiny r). */
fn expm1_r(r: f32) -> f32 {
  var p = 1.9875691500e-4 * r + 1.3981999507e-3;
  p = p * r + 8.3333519073e-3;
  p = p * r + 4.1665795894e-2;
  p = p * r + 1.6666665459e-1;
  p = p * r + 5.0000001201e-1;
  return p * r * r + r;
}

/** m·2^k for k in [-152, 130], in two normal factors so that overflow gives Inf and underflow rounds once. */
fn scale2(m: f32, k: i32) -> f32 {
  let k1 = k >> 1u;
  let k2 = k - k1;
  return m * bitcast<f32>(u32(k1 + 127) << 23u) * bitcast<f32>(u32(k2 + 127) << 23u);
}

/** e^x, ~1 ulp; x > 88.72 → +Inf, x < -103.97 → 0. */
fn exp_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let xc = clamp(x, -104.0, 89.0);
  let n = round(xc * LOG2E);
  let r = opq(xc - n * LN2_HI) - n * LN2_LO; // xc - n·LN2_HI is exact (Sterbenz)
  return scale2(expm1_r(r) + 1.0, i32(n));
}

/**
 * e^(hi + lo)·2^bias for hi carrying most of the argument exactly and lo small: the reduction subtracts
 * n·ln2 from hi first, so the rounding of hi + lo never reaches the result.
 */
fn exp_hilo(hi: f32, lo: f32, bias: i32) -> f32 {
  let h = clamp(hi, -104.0, 89.0);
  let n = round((h + lo) * LOG2E);
  let r = opq(opq(h - n * LN2_HI) + lo) - n * LN2_LO;
  return scale2(expm1_r(r) + 1.0, i32(n) + bias);
}

/** e^(x - m) for x <= m with x - m taken exactly (TwoSum): softmax without the |x - m|/2 ulp loss. */
fn exp_sub(x: f32, m: f32) -> f32 {
  let d = opq(x - m);
  let bb = opq(d - x);
  var err = (x - opq(d - bb)) - (m + bb);
  if (!(d >= -104.0) || !is_finite(err)) { err = 0.0; }
  if (is_nan(d)) { return d; }
  return exp_hilo(d, err, 0);
}

/** e^x - 1 for x <= 0 (elu), accurate near 0; x < -17 → -1. */
fn expm1_neg(x: f32) -> f32 {
  let xc = clamp(x, -30.0, 0.0);
  let n = round(xc * LOG2E);
  let r = opq(xc - n * LN2_HI) - n * LN2_LO;
  let u = expm1_r(r);
  let s = bitcast<f32>(u32(i32(n) + 127) << 23u);
  return s * u + (s - 1.0);
}

/** Cephes logf: log(1 + m) = m + P(m)·m·m² - m²/2 for m in [sqrt(1/2) - 1, sqrt(2) - 1]. */
fn log_poly(m: f32) -> f32 {
  var p = 7.0376836292e-2 * m - 1.1514610310e-1;
  p = p * m + 1.1676998740e-1;
  p = p * m - 1.2420140846e-1;
  p = p * m + 1.4249322787e-1;
  p = p * m - 1.6668057665e-1;
  p = p * m + 2.0000714765e-1;
  p = p * m - 2.4999993993e-1;
  return p * m + 3.3333331174e-1;
}

/** log(1 + v) for v >= 0, ~1 ulp: the polynomial on v itself below sqrt(2) - 1 (1 + v is never rounded). */
fn log1p_pos(v: f32) -> f32 {
  if (v < 0.41421356237309505) {
    let z = v * v;
    return v + (log_poly(v) * v * z - z * 0.5);
  }
  return log_pos(1.0 + v);
}

/**
 * The pieces of log x for finite x > 0 (subnormals included, read from the bits):
 * (e, m, p·m·z, z) with log x = m + (p·m·z + e·LN2_LO - z/2) + e·LN2_HI (Cephes logf).
 */
fn log_parts(x: f32) -> vec4f {
  var bits = bitcast<u32>(x);
  var e: i32;
  if ((bits & 0x7f800000u) == 0u) {
    let v = f32(bits & 0x007fffffu); // x = v·2^-149, v normal and exact
    bits = bitcast<u32>(v);
    e = i32(bits >> 23u) - 126 - 149;
  } else {
    e = i32(bits >> 23u) - 126;
  }
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f000000u); // [0.5, 1)
  var ef = f32(e);
  if (m < 0.707106781186547524) {
    ef = ef - 1.0;
    m = m + m - 1.0;
  } else {
    m = m - 1.0;
  }
  let z = m * m;
  return vec4f(ef, m, log_poly(m) * m * z, z);
}

/** log of a finite positive x, ~1 ulp. */
fn log_pos(x: f32) -> f32 {
  let q = log_parts(x);
  let y = (q.z + q.x * LN2_LO) - q.w * 0.5;
  return (q.y + y) + q.x * LN2_HI;
}

/** Natural log: log(±0) = -Inf, log(<0) = NaN, log(+Inf) = +Inf. */
fn log_f(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if (is_nan(x) || b > 0x80000000u) { return F_NAN; }
  if ((b & 0x7fffffffu) == 0u) { return -F_INF; }
  if (b == 0x7f800000u) { return F_INF; }
  return log_pos(x);
}

/** 1 / (1 + e^-x), ~2 ulp; saturates to exactly 0 and 1. */
fn sigmoid_f(x: f32) -> f32 {
  let e = exp_f(-abs(x));
  let num = select(e, 1.0, x >= 0.0);
  return num / (1.0 + e);
}

fn tanh_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 0.625) {
    let z = a * a;
    var p = -5.70498872745e-3 * z + 2.06390887954e-2;
    p = p * z - 5.37397155531e-2;
    p = p * z + 1.33314422036e-1;
    p = p * z - 3.33332819422e-1;
    r = p * z * a + a;
  } else {
    // (1 - e)/(1 + e) with e = e^-2|x| <= 0.29: no cancellation; 2|x| = Inf gives exactly 1.
    let e = exp_f(-(a + a));
    r = (1.0 - e) / (1.0 + e);
  }
  return bitcast<f32>(bitcast<u32>(r) | (bitcast<u32>(x) & 0x80000000u));
}

/** log(1 + e^x) = max(x, 0) + log1p(e^-|x|), ~2 ulp. */
fn softplus_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  return max(x, 0.0) + log1p_pos(exp_f(-abs(x)));
}

/** e^-|x|·2^24 for silu: normal wherever x·e^-|x| is (0 beyond |x| = 104, NaN for NaN). */
fn silu_e(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a > 104.0) { return 0.0; }
  return exp_hilo(-a, 0.0, 24);
}

fn sign_f(x: f32) -> f32 {
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x; // ±0 and NaN pass through
}

// ---- gelu (exact erf form): x·Φ(x) -------------------------------------------------------------------------
const SQRT_HALF: f32 = 0.707106781186547524;

/** -a²/2 = hi + lo with hi exact: a split into 12 high bits and the rest, so ah² is exact. */
fn nhs_hi(a: f32) -> f32 {
  let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return ah * ah * -0.5;
}
fn nhs_lo(a: f32) -> f32 {
  let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let al = a - ah;
  return -(ah * al + al * al * 0.5);
}

/** erfc(a/√2)·2^bias for a >= 0 (Numerical Recipes erfcc, relative error < 1.2e-7), e^(-a²/2) from the split. */
fn erfc_half_sqrt2(a: f32, hi: f32, lo: f32, bias: i32) -> f32 {
  let z = a * SQRT_HALF;
  let t = 1.0 / (1.0 + z * 0.5);
  var p = 0.17087277 * t - 0.82215223;
  p = p * t + 1.48851587;
  p = p * t - 1.13520398;
  p = p * t + 0.27886807;
  p = p * t - 0.18628806;
  p = p * t + 0.09678418;
  p = p * t + 0.37409196;
  p = p * t + 1.00002368;
  p = p * t - 1.26551223;
  return t * exp_hilo(hi, lo + p, bias);
}

/** Φ(x) for x in [-0.5, 1]: 1/2 + x·S(x²), more accurate than the erfc form near 0. */
fn phi_small(x: f32) -> f32 {
  let u = x * x;
  var s = 5.367288622437627e-7 * u - 9.272786883229855e-6;
  s = s * u + 0.00011531892232596874;
  s = s * u - 0.001187287736684084;
  s = s * u + 0.009973550215363503;
  s = s * u - 0.06649038195610046;
  s = s * u + 0.3989422917366028;
  return 0.5 + x * s;
}

fn gelu_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (is_inf(x)) { return select(-0.0, x, x > 0.0); } // the limits: gelu(-Inf) = -0, gelu(+Inf) = +Inf
  if (x >= -0.5 && x <= 1.0) { return x * phi_small(x); }
  let a = min(abs(x), 30.0);
  // e = erfc(|x|/√2)·2^24, so a tail value stays normal until the last rounding.
  let he = erfc_half_sqrt2(a, nhs_hi(a), nhs_lo(a), 24) * 0.5;
  if (x < 0.0) { return max(x, -30.0) * he * 5.9604644775390625e-8; }
  return x * (1.0 - he * 5.9604644775390625e-8);
}

/** gelu'(x) = Φ(x) + x·φ(x). */
fn gelu_grad_f(x: f32) -> f32 {
  if (!is_finite(x)) { return F_NAN; }
  let a = min(abs(x), 30.0);
  let hi = nhs_hi(a);
  let lo = nhs_lo(a);
  let he = erfc_half_sqrt2(a, hi, lo, 0) * 0.5;
  var phi = select(1.0 - he, he, x < 0.0);
  if (x >= -0.5 && x <= 1.0) { phi = phi_small(x); }
  let dens = exp_hilo(hi, lo - 0.91893853320467274, 0); // e^(-x²/2 - log√(2π))
  return phi + clamp(x, -30.0, 30.0) * dens;
}

// ---- pow (JavaScript Math.pow semantics) -------------------------------------------------------------------

/** a·b = p + err exactly (Dekker, no FMA needed): both split into 12 high bits and the rest. */
fn two_prod_err(a: f32, b: f32, p: f32) -> f32 {
  let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let al = a - ah;
  let bh = bitcast<f32>(bitcast<u32>(b) & 0xfffff000u);
  let bl = b - bh;
  return (((ah * bh - p) + ah * bl) + al * bh) + al * bl;
}

fn pow_f(a: f32, b: f32) -> f32 {
  let ab = bitcast<u32>(b) & 0x7fffffffu;
  if (ab == 0u) { return 1.0; } // x^±0 = 1, even for NaN x
  if (is_nan(a) || is_nan(b)) { return F_NAN; }
  let aa = abs(a);
  // b is an odd integer (|b| >= 2^24 is always even).
  let bint = is_finite(b) && floor(b) == b;
  let odd = bint && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  let negBase = (bitcast<u32>(a) & 0x80000000u) != 0u;
  let sgn = select(1.0, -1.0, negBase && odd);
  if (is_inf(b)) {
    if (aa == 1.0) { return F_NAN; }
    if ((aa > 1.0) == (b > 0.0)) { return F_INF; }
    return 0.0;
  }
  if ((bitcast<u32>(a) & 0x7fffffffu) == 0u) { return sgn * select(F_INF, 0.0, b > 0.0); }
  if (is_inf(a)) { return sgn * select(0.0, F_INF, b > 0.0); }
  if (negBase && !bint) { return F_NAN; }
  // |a|^b = e^(b·log|a|) with log|a| = s + e1 and b·s = ph + pl carried in two floats.
  let q = log_parts(aa);
  let hi0 = q.x * LN2_HI; // exact
  let lo0 = q.y + ((q.z + q.x * LN2_LO) - q.w * 0.5);
  let s = opq(hi0 + lo0);
  let e1 = lo0 - opq(s - hi0); // Fast2Sum: |hi0| >= |lo0| or hi0 = 0
  let ph = b * s;
  if (ph > 89.0) { return sgn * F_INF; }
  if (ph < -104.0) { return sgn * 0.0; }
  let pl = two_prod_err(b, s, ph) + b * e1;
  return sgn * exp_hilo(ph, pl, 0);
}
`;

// ---- the ops of the table ---------------------------------------------------------------------------------

type Snippet = string;

/**
 * Each unary op of the table (src/core/optable.ts) in WGSL: `f`, the body of a function of (x, alpha) that
 * returns f(x); `d`, the body of a function of (x, y, alpha) that returns f'(x), reading only what the table
 * says the derivative reads (y = f(x) as the oracle computes it). The mapped type makes an op of the table
 * without a snippet a type error.
 */
export const UNARY_WGSL: { readonly [K in UnaryName]: { readonly f: Snippet; readonly d: Snippet } } = {
  identity: { f: 'return x;', d: 'return 1.0;' },
  relu: { f: 'return select(0.0, x, x > 0.0 || is_nan(x)); // NaN propagates, as torch.relu', d: 'return select(0.0, 1.0, x > 0.0);' },
  leakyRelu: { f: 'return select(alpha * x, x, x > 0.0);', d: 'return select(alpha, 1.0, x > 0.0);' },
  elu: {
    f: 'if (is_nan(x)) { return x; }\n    return select(alpha * expm1_neg(x), x, x > 0.0);',
    d: 'if (is_nan(x)) { return x; }\n    return select(alpha * exp_f(x), 1.0, x > 0.0);',
  },
  gelu: { f: 'return gelu_f(x);', d: 'return gelu_grad_f(x);' },
  // sigmoid, tanh, exp, sqrt and reciprocal differentiate from the output, as PyTorch does.
  sigmoid: { f: 'return sigmoid_f(x);', d: 'return y * (1.0 - y);' },
  tanh: { f: 'return tanh_f(x);', d: 'return (1.0 - y) * (1.0 + y);' },
  exp: { f: 'return exp_f(x);', d: 'return y;' },
  log: { f: 'return log_f(x);', d: 'return 1.0 / x;' },
  sqrt: { f: 'return sqrt(x);', d: 'return 0.5 / y;' },
  neg: { f: 'return -x;', d: 'return -1.0;' },
  abs: { f: 'return abs(x);', d: 'return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);' },
  square: { f: 'return x * x;', d: 'return 2.0 * x;' },
  softplus: { f: 'return softplus_f(x);', d: 'return sigmoid_f(x);' },
  reciprocal: { f: 'return 1.0 / x;', d: 'return -(y * y);' },
  sign: { f: 'return sign_f(x);', d: 'return 0.0;' },
  // x·σ(x) and silu' = σ(x)·(1 + x·σ(−x)), with e = e^−|x|·2^24 (silu_e): σ(x) is subnormal below −87.3
  // where x·σ(x) is not, and a GPU may flush it to zero; σ(−x) = 1 − σ(x) comes from the same e, so it
  // does not cancel.
  silu: {
    f: 'let e = silu_e(x);\n    let d = 1.0 + e * 5.9604644775390625e-8;\n    if (x >= 0.0) { return x / d; }\n    return x * (e / d) * 5.9604644775390625e-8;',
    d:
      'let e = silu_e(x);\n    let d = 1.0 + e * 5.9604644775390625e-8;\n    let q = 1.0 / d;\n    let r = e / d;\n' +
      '    if (x >= 0.0) { return q * (1.0 + x * (r * 5.9604644775390625e-8)); }\n    return r * (1.0 + x * q) * 5.9604644775390625e-8;',
  },
};

/** Each binary op of the table: the body of a function of (a, b) that returns a ⊕ b. */
export const BINARY_WGSL: { readonly [K in BinaryName]: Snippet } = {
  add: 'return a + b;',
  sub: 'return a - b;',
  mul: 'return a * b;',
  div: 'return a / b;',
  max: 'if (is_nan(a) || is_nan(b)) { return F_NAN; }\n    if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); } // max(-0, +0) = +0\n    return select(b, a, a > b);',
  min: 'if (is_nan(a) || is_nan(b)) { return F_NAN; }\n    if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); } // min(-0, +0) = -0\n    return select(b, a, a < b);',
  greater: 'return select(0.0, 1.0, !is_nan(a) && !is_nan(b) && a > b);',
  greaterEqual: 'return select(0.0, 1.0, !is_nan(a) && !is_nan(b) && a >= b);',
  equal: 'return select(0.0, 1.0, !is_nan(a) && !is_nan(b) && a == b);',
  pow: 'return pow_f(a, b);',
};

/**
 * A WGSL switch over the codes of `names` (in code order). The default arm returns NaN: the backends check
 * codes before they dispatch (checkCode), so it only runs for an op a kernel lacks, and the NaN it writes
 * fails the conformance suite instead of passing x through unnoticed.
 */
function opSwitch(names: readonly string[], body: (name: string) => Snippet): string {
  const arms = names.map((k, code) => `    case ${code}u: { // ${k}\n    ${body(k)}\n    }`);
  return `  switch op {\n${arms.join('\n')}\n    default: { return F_NAN; }\n  }`;
}

const OPS = /* wgsl */ `
/** f(x) for a unary code of the op table; also the gemm epilogue. */
fn unary_f(op: u32, x: f32, alpha: f32) -> f32 {
${opSwitch(UNARY_NAMES, (k) => UNARY_WGSL[k as UnaryName].f)}
}

/** f'(x) for a unary code, from x and y = f(x) (whichever the op table says it reads). */
fn unary_d(op: u32, x: f32, y: f32, alpha: f32) -> f32 {
${opSwitch(UNARY_NAMES, (k) => UNARY_WGSL[k as UnaryName].d)}
}

/** a ⊕ b for a binary code of the op table. */
fn binary_f(op: u32, a: f32, b: f32) -> f32 {
${opSwitch(BINARY_NAMES, (k) => BINARY_WGSL[k as BinaryName])}
}
`;

/** The math library and the op switches (kernels that need them include it). */
export const MATH = MATH_LIB + OPS;
