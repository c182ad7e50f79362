import { COS2PI, SIN2PI } from '../math.js';
// The WGSL compute kernels of the webgpu backend, one entry per pipeline. Each kernel names its uniform
// fields (all 4-byte scalars, written in this order by the backend) and its storage buffers (bindings 1..k).
// Binding 0 is the uniform block, taken from the backend's per-batch uniform arena at a dynamic offset.
//
// Aliasing: WebGPU refuses a dispatch that binds one buffer twice when either binding is writable, yet the
// backend interface allows in-place calls (y = x, dx = dy, a gemm of x with itself). So a buffer is bound
// once, at its first slot, and every later slot that names it is remapped there: the uniform `map` holds,
// per slot, the binding that really holds it (3 bits each), and the bodies below read and write storage only
// through ld_<name>(i) / st_<name>(i, v), which moduleSource() generates (a uniform switch, the same branch
// for every invocation). The bodies are written with plain `name[i]` and rewritten mechanically.
//
// The kernels never read workgroup memory they did not write first, so Dawn's zero-initialisation of it
// (which SwiftShader compiles slowly) can be turned off without changing a result.
//
// Semantics follow the js oracle (src/backend/js/backend.ts, src/backend/math.ts) op by op; the comments
// say where the float32 evaluation order differs from the oracle's float64.
import { HYPER, LabelMode, OPTIM, Optim, Reduce, type OptimName } from '../../core/optable.js';
import { MATH, PRELUDE } from './wgsl.js';

export type FieldType = 'u32' | 'f32';

export interface KernelSpec {
  /** Cache key of the pipeline. */
  name: string;
  /** The uniform block after its leading `one: f32` (always 1.0; see wgsl.ts) and `map: u32` (aliasing). */
  fields: readonly (readonly [string, FieldType])[];
  storage: readonly string[];
  /** Needs the math library (wgsl.ts MATH). */
  math: boolean;
  /** The rest of the module: workgroup variables, helpers and `fn main`. */
  body: string;
}

/** Elementwise kernels run 256 invocations per workgroup over a grid folded into x and y. */
export const WG = 256;
/** gemm output tile (TILE×TILE per workgroup of 16×16 invocations, 4×4 each) and depth step. */
export const TILE = 64;
export const TK = 8;
/** transpose tile. */
export const TT = 16;
/** Invocations per row of softmax and cross-entropy. */
export const ROW_WG = 64;
/** Invocations per output of the wide reduction (one workgroup per output). */
export const RED_WG = 128;

const ELEM_ARGS = '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32';

const unary: KernelSpec = {
  name: 'unary',
  fields: [['n', 'u32'], ['op', 'u32'], ['alpha', 'f32']],
  storage: ['x', 'y'],
  math: true,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  if (i >= P.n) { return; }
  y[i] = unary_f(P.op, x[i], P.alpha);
}`,
};

const unaryGrad: KernelSpec = {
  name: 'unaryGrad',
  fields: [['n', 'u32'], ['op', 'u32'], ['alpha', 'f32']],
  storage: ['x', 'y', 'dy', 'dx'],
  math: true,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  if (i >= P.n) { return; }
  // The oracle rounds dy·f'(x) once; here f'(x) is rounded first (one extra half ulp).
  dx[i] = dy[i] * unary_d(P.op, x[i], y[i], P.alpha);
}`,
};

const binary: KernelSpec = {
  name: 'binary',
  fields: [
    ['total', 'u32'], ['rows', 'u32'], ['cols', 'u32'], ['op', 'u32'],
    ['as0', 'u32'], ['as1', 'u32'], ['as2', 'u32'], ['bs0', 'u32'], ['bs1', 'u32'], ['bs2', 'u32'],
  ],
  storage: ['a', 'b', 'y'],
  math: true,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  if (i >= P.total) { return; }
  let c = i % P.cols;
  let t = i / P.cols;
  let r = t % P.rows;
  let o = t / P.rows;
  y[i] = binary_f(P.op, a[o * P.as0 + r * P.as1 + c * P.as2], b[o * P.bs0 + r * P.bs1 + c * P.bs2]);
}`,
};

// fill / copy / affine / axpy in one pipeline (mode 0..3): they are all y = f(x, y) with two scalars.
const linear: KernelSpec = {
  name: 'linear',
  fields: [['n', 'u32'], ['mode', 'u32'], ['alpha', 'f32'], ['beta', 'f32']],
  storage: ['x', 'y'],
  math: false,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  let i = flat_id(wid, nwg, li);
  if (i >= P.n) { return; }
  switch P.mode {
    case 0u: { y[i] = P.beta; }
    case 1u: { y[i] = x[i]; }
    case 2u: { y[i] = P.alpha * x[i] + P.beta; }
    default: { y[i] = y[i] + P.alpha * x[i]; }
  }
}`,
};

// Thread per output: best when there are many outputs or the reduced axis is short.
const REDUCE_SERIAL_BODY = /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let t = flat_id(wid, nwg, li);
  if (t >= P.outer * P.inner) { return; }
  let o = t / P.inner;
  let base = o * P.n * P.inner + t % P.inner;
  let op = P.op;
  if (op == ${Reduce.sum}u || op == ${Reduce.mean}u || op == ${Reduce.sumSquares}u) {
    var s = 0.0;
    for (var j = 0u; j < P.n; j++) {
      let v = x[base + j * P.inner];
      s += select(v, v * v, op == ${Reduce.sumSquares}u);
    }
    y[t] = select(s, s / f32(P.n), op == ${Reduce.mean}u);
    return;
  }
  // max/min/argmax/argmin: the first NaN wins and stops the scan; ties keep the first index.
  let isMax = op == ${Reduce.max}u || op == ${Reduce.argmax}u;
  var best = x[base];
  var idx = 0u;
  for (var j = 1u; j < P.n && !is_nan(best); j++) {
    let v = x[base + j * P.inner];
    if (is_nan(v) || (isMax && v > best) || (!isMax && v < best)) {
      best = v;
      idx = j;
    }
  }
  y[t] = select(best, f32(idx), op == ${Reduce.argmax}u || op == ${Reduce.argmin}u);
}`;

const reduceSerial: KernelSpec = {
  name: 'reduceSerial',
  fields: [['op', 'u32'], ['outer', 'u32'], ['n', 'u32'], ['inner', 'u32']],
  storage: ['x', 'y'],
  math: false,
  body: REDUCE_SERIAL_BODY,
};

// Workgroup per output: long reduced axes (a loss over a batch, a sum over all elements). Partial results
// combine in a tree; for max/min/arg the combine compares indices so that the result is what the oracle's
// left-to-right scan gives: the first NaN if any, else the extreme value at its first index.
const reduceWide: KernelSpec = {
  name: 'reduceWide',
  fields: [['op', 'u32'], ['outer', 'u32'], ['n', 'u32'], ['inner', 'u32']],
  storage: ['x', 'y'],
  math: false,
  body: /* wgsl */ `
const NONE: u32 = 0xffffffffu;
var<workgroup> sv: array<f32, ${RED_WG}>;
var<workgroup> si: array<u32, ${RED_WG}>;

/** Is (a, ai) the better candidate than (b, bi)? */
fn better(a: f32, ai: u32, b: f32, bi: u32, isMax: bool) -> bool {
  if (ai == NONE) { return false; }
  if (bi == NONE) { return true; }
  let an = is_nan(a);
  let bn = is_nan(b);
  if (an || bn) {
    if (an && bn) { return ai < bi; }
    return an;
  }
  if (a == b) { return ai < bi; }
  return select((a < b), (a > b), isMax);
}

@compute @workgroup_size(${RED_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  init_consts(P.one);
  let t = wid.y * nwg.x + wid.x;
  if (t >= P.outer * P.inner) { return; } // uniform: the whole workgroup leaves
  let o = t / P.inner;
  let base = o * P.n * P.inner + t % P.inner;
  let op = P.op;
  let sums = op == ${Reduce.sum}u || op == ${Reduce.mean}u || op == ${Reduce.sumSquares}u;
  let isMax = op == ${Reduce.max}u || op == ${Reduce.argmax}u;
  var s = 0.0;
  var best = 0.0;
  var bi = NONE;
  for (var j = li; j < P.n; j += ${RED_WG}u) {
    let v = x[base + j * P.inner];
    if (sums) {
      s += select(v, v * v, op == ${Reduce.sumSquares}u);
    } else if (better(v, j, best, bi, isMax)) {
      best = v;
      bi = j;
    }
  }
  sv[li] = select(best, s, sums);
  si[li] = bi;
  workgroupBarrier();
  for (var w = ${RED_WG / 2}u; w > 0u; w >>= 1u) {
    if (li < w) {
      if (sums) {
        sv[li] = sv[li] + sv[li + w];
      } else if (better(sv[li + w], si[li + w], sv[li], si[li], isMax)) {
        sv[li] = sv[li + w];
        si[li] = si[li + w];
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    if (sums) {
      y[t] = select(sv[0], sv[0] / f32(P.n), op == ${Reduce.mean}u);
    } else {
      y[t] = select(sv[0], f32(si[0]), op == ${Reduce.argmax}u || op == ${Reduce.argmin}u);
    }
  }
}`,
};

// Row statistics shared by softmax and the fused cross-entropy, following the oracle's log-sum-exp
// (js/backend.ts): lse = m + log1p(Σ_{i≠at} e^(x_i − m)), where m is the row max and `at` its first index,
// so that a confident row keeps its tiny loss; a NaN or +Inf anywhere makes the row NaN, and an all −Inf row
// has lse = −Inf. One workgroup per row; the statistics come back workgroup-uniform.
const ROW_STATS = /* wgsl */ `
var<workgroup> red: array<f32, ${ROW_WG}>;
var<workgroup> redi: array<u32, ${ROW_WG}>;
var<workgroup> ustat: vec2f;

/** Row max and its first index; the index is 0xffffffff when the row holds a NaN or +Inf. */
fn row_max(base: u32, cols: u32, li: u32) -> vec2f {
  var m = -F_INF;
  var at = 0xfffffffeu; // none yet
  var bad = false;
  for (var c = li; c < cols; c += ${ROW_WG}u) {
    let v = src[base + c];
    if (is_nan(v) || bitcast<u32>(v) == 0x7f800000u) { bad = true; }
    if (v > m) { m = v; at = c; } // first index within this invocation's stride
  }
  red[li] = m;
  redi[li] = select(at, 0xffffffffu, bad);
  workgroupBarrier();
  for (var w = ${ROW_WG / 2}u; w > 0u; w >>= 1u) {
    if (li < w) {
      let a = red[li];
      let ai = redi[li];
      let b = red[li + w];
      let bi = redi[li + w];
      if (ai == 0xffffffffu || bi == 0xffffffffu) {
        redi[li] = 0xffffffffu;
      } else if (b > a || (b == a && bi < ai)) {
        red[li] = b;
        redi[li] = bi;
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) { ustat = vec2f(red[0], bitcast<f32>(redi[0])); }
  return workgroupUniformLoad(&ustat);
}

fn row_sum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var w = ${ROW_WG / 2}u; w > 0u; w >>= 1u) {
    if (li < w) { red[li] = red[li] + red[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u) { ustat = vec2f(red[0], 0.0); }
  return workgroupUniformLoad(&ustat).x;
}

/**
 * The row's log-sum-exp as (m, L) with lse = m + L, L = log1p(Σ_{i≠at} e^(x_i − m)) (L = 0 and m = NaN or
 * -Inf for the special rows, so that m + L is the oracle's lse), and S = 1 + Σ_{i≠at} e^(x_i − m) in .z.
 */
fn row_lse(base: u32, cols: u32, li: u32) -> vec3f {
  let mx = row_max(base, cols, li);
  let at = bitcast<u32>(mx.y);
  if (at == 0xffffffffu) { return vec3f(F_NAN, 0.0, F_NAN); }
  let m = mx.x;
  if (bitcast<u32>(m) == 0xff800000u) { return vec3f(m, 0.0, F_NAN); } // all −Inf
  var s = 0.0;
  for (var c = li; c < cols; c += ${ROW_WG}u) {
    if (c != at) { s += exp_sub(src[base + c], m); }
  }
  let t = row_sum(s, li);
  return vec3f(m, log1p_pos(t), 1.0 + t);
}
`;

const ROW_ARGS = '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32';

const softmax: KernelSpec = {
  name: 'softmax',
  fields: [['rows', 'u32'], ['cols', 'u32'], ['log', 'u32']],
  storage: ['src', 'y'],
  math: true,
  body: /* wgsl */ `${ROW_STATS}
@compute @workgroup_size(${ROW_WG})
fn main(${ROW_ARGS}) {
  init_consts(P.one);
  let row = wid.y * nwg.x + wid.x;
  if (row >= P.rows) { return; }
  let cols = P.cols;
  let base = row * cols;
  let st = row_lse(base, cols, li);
  let m = st.x;
  // Every invocation is past its reads of the row (the barriers in row_lse), so y may alias src.
  for (var c = li; c < cols; c += ${ROW_WG}u) {
    let v = src[base + c];
    // x − lse = (x − m) − L; e^(x − lse) = e^(x − m)/S. Special rows: NaN (as the oracle's x − lse).
    var r: f32;
    if (is_finite(m)) {
      r = select(exp_sub(v, m) / st.z, (v - m) - st.y, P.log != 0u);
    } else {
      r = F_NAN;
    }
    y[base + c] = r;
  }
}`,
};

const xent: KernelSpec = {
  name: 'xent',
  fields: [['rows', 'u32'], ['cols', 'u32'], ['mode', 'u32']],
  storage: ['src', 'labels', 'probs', 'loss'],
  math: true,
  body: /* wgsl */ `${ROW_STATS}
@compute @workgroup_size(${ROW_WG})
fn main(${ROW_ARGS}) {
  init_consts(P.one);
  let row = wid.y * nwg.x + wid.x;
  if (row >= P.rows) { return; }
  let cols = P.cols;
  let base = row * cols;
  let st = row_lse(base, cols, li);
  let m = st.x;
  let fin = is_finite(m);
  // lse − z = (m − z) + L: no cancellation of a large m.
  var part = 0.0;
  if (P.mode == ${LabelMode.dense}u) {
    for (var c = li; c < cols; c += ${ROW_WG}u) {
      let t = labels[base + c];
      if ((bitcast<u32>(t) & 0x7fffffffu) != 0u) { // the oracle skips t = 0 (no 0·Inf)
        part += t * select(F_NAN, (m - src[base + c]) + st.y, fin);
      }
    }
  }
  var total = 0.0;
  if (P.mode == ${LabelMode.dense}u) { total = row_sum(part, li); }
  if (li == 0u && P.mode == ${LabelMode.index}u) {
    let k = labels[row];
    total = F_NAN;
    if (is_index(k, cols) && fin) { total = (m - src[base + u32(k)]) + st.y; }
  }
  workgroupBarrier(); // every read of the row is done: probs may alias the logits
  for (var c = li; c < cols; c += ${ROW_WG}u) {
    probs[base + c] = select(F_NAN, exp_sub(src[base + c], m) / st.z, fin);
  }
  if (li == 0u) { loss[row] = total; }
}`,
};

const xentGrad: KernelSpec = {
  name: 'xentGrad',
  fields: [['total', 'u32'], ['cols', 'u32'], ['mode', 'u32']],
  storage: ['probs', 'labels', 'dy', 'dz'],
  math: false,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  if (i >= P.total) { return; }
  let r = i / P.cols;
  let c = i % P.cols;
  let p = probs[i];
  if (P.mode == ${LabelMode.index}u) {
    let k = labels[r];
    if (!is_index(k, P.cols)) {
      dz[i] = F_NAN;
      return;
    }
    dz[i] = dy[r] * (p - select(0.0, 1.0, u32(k) == c));
  } else {
    dz[i] = dy[r] * (p - labels[i]);
  }
}`,
};

const transpose: KernelSpec = {
  name: 'transpose',
  fields: [['rows', 'u32'], ['cols', 'u32'], ['row0', 'u32']],
  storage: ['x', 'y'],
  math: false,
  body: /* wgsl */ `
var<workgroup> tile: array<array<f32, ${TT + 1}>, ${TT}>;
@compute @workgroup_size(${TT}, ${TT})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = P.row0 + wid.y * ${TT}u + lid.y;
  let c = wid.x * ${TT}u + lid.x;
  if (r < P.rows && c < P.cols) { tile[lid.y][lid.x] = x[r * P.cols + c]; }
  workgroupBarrier();
  // Write row c of y (= column c of x), coalesced along r.
  let yr = wid.x * ${TT}u + lid.y;
  let yc = P.row0 + wid.y * ${TT}u + lid.x;
  if (yr < P.cols && yc < P.rows) { y[yr * P.rows + yc] = tile[lid.x][lid.y]; }
}`,
};

const gather: KernelSpec = {
  name: 'gather',
  fields: [['total', 'u32'], ['cols', 'u32'], ['xrows', 'u32']],
  storage: ['x', 'idx', 'y'],
  math: false,
  body: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  if (i >= P.total) { return; }
  let r = i / P.cols;
  let k = idx[r];
  // Callers validate indices; an invalid one (only possible where they could not read them) gives NaN.
  if (!is_index(k, P.xrows)) {
    y[i] = F_NAN;
    return;
  }
  y[i] = x[u32(k) * P.cols + i % P.cols];
}`,
};

/** lowbias32, as src/backend/math.ts hash32: u32 arithmetic wraps exactly like Math.imul(...) >>> 0. */
const HASH32 = /* wgsl */ `
fn hash32(v0: u32) -> u32 {
  var v = v0;
  v = v ^ (v >> 16u);
  v = v * 0x7feb352du;
  v = v ^ (v >> 15u);
  v = v * 0x846ca68bu;
  return v ^ (v >> 16u);
}
`;

const addNormal: KernelSpec = {
  name: 'addNormal',
  fields: [['n', 'u32'], ['hseed', 'u32'], ['offset', 'u32'], ['sigma', 'f32']],
  storage: ['y'],
  math: true,
  body: /* wgsl */ `
${HASH32}// cos(2πt) and sin(2πt)/t on [−½, ½] in powers of s = t² (src/backend/math.ts, COS2PI and SIN2PI).
fn cos2pi(s: f32) -> f32 {
  var p = ${COS2PI[10]};
${COS2PI.slice(0, 10).map((c) => `  p = p * s + ${c};`).reverse().join('\n')}
  return p;
}
fn sin2pi_t(s: f32) -> f32 {
  var p = ${SIN2PI[10]};
${SIN2PI.slice(0, 10).map((c) => `  p = p * s + ${c};`).reverse().join('\n')}
  return p;
}
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  let i = flat_id(wid, nwg, li);
  if (i >= P.n) { return; }
  // Box–Muller from two hashes of the pair's counter, as src/backend/math.ts normalAt.
  let e = P.offset + i;
  let h1 = hash32(P.hseed ^ hash32(e >> 1u));
  let h2 = hash32(h1 ^ 0x9e3779b9u);
  let u1 = select(f32(h1) * 2.3283064365386963e-10, 1.1641532182693481e-10, h1 == 0u);
  let t = f32(h2 >> 8u) * 5.9604644775390625e-8 - 0.5;
  let r = sqrt(-2.0 * log(u1));
  let s = t * t;
  let z = select(r * t * sin2pi_t(s), r * cos2pi(s), (e & 1u) == 0u);
  y[i] = y[i] + P.sigma * z;
}`,
};

const dropout: KernelSpec = {
  name: 'dropout',
  fields: [['n', 'u32'], ['hseed', 'u32'], ['offset', 'u32'], ['keep', 'f32'], ['scale', 'f32']],
  storage: ['x', 'y', 'mask'],
  math: false,
  body: /* wgsl */ `
${HASH32}@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  let i = flat_id(wid, nwg, li);
  if (i >= P.n) { return; }
  let h = hash32(P.hseed ^ hash32(P.offset + i));
  // 24 random bits times 2^-24 is exact in float32, so the comparison matches the oracle bit for bit.
  let m = select(0.0, P.scale, f32(h >> 8u) * 5.9604644775390625e-8 < P.keep);
  let v = x[i];
  mask[i] = m;
  y[i] = v * m;
}`,
};

// Fused optimizer updates (the op table's OPTIM). The backend derives each kind's uniforms from the named
// `hyper` fields in float64 (1 − beta etc.); the update itself runs in float32, where the oracle uses
// float64 per element: a few ulp of difference per step. Both sides name every value: OPTIM_UNIFORMS lists
// a kind's flags (u32 slots f0, f1, …) and scalars (f32 slots h0, h1, …), `derive` computes them, and the
// kernel's arm for the kind starts with a `let` per name bound to its slot.

type Uniforms = Record<string, number>;
interface OptimLayout {
  readonly flags: readonly string[];
  readonly scalars: readonly string[];
  /** The named uniform values from backend.optimStep's `hyper` (flags are read as value !== 0). */
  derive(h: readonly number[]): Uniforms;
}

export const OPTIM_UNIFORMS: { readonly [K in OptimName]: OptimLayout } = {
  sgd: {
    flags: ['momentumOn', 'nesterov', 'first'],
    scalars: ['lr', 'mu', 'omd', 'wd', 'l1', 'gs'],
    derive(h) {
      const H = HYPER.sgd;
      return {
        momentumOn: h[H.momentum] !== 0 ? 1 : 0, nesterov: h[H.nesterov], first: h[H.first],
        lr: h[H.lr], mu: h[H.momentum], omd: 1 - h[H.dampening], wd: h[H.weightDecay], l1: h[H.l1], gs: h[H.gscale],
      };
    },
  },
  adam: {
    flags: ['decoupled', 'amsgrad'],
    scalars: ['stepSize', 'b1', 'ob1', 'b2', 'ob2', 'eps', 'wd', 'pf', 'sqrtBc2', 'l1', 'gs'],
    derive(h) {
      const H = HYPER.adam;
      const lr = h[H.lr], b1 = h[H.beta1], b2 = h[H.beta2], wd = h[H.weightDecay];
      return {
        decoupled: h[H.decoupled], amsgrad: h[H.amsgrad],
        stepSize: lr / h[H.bc1], b1, ob1: 1 - b1, b2, ob2: 1 - b2, eps: h[H.eps], wd, pf: 1 - lr * wd,
        sqrtBc2: Math.sqrt(h[H.bc2]), l1: h[H.l1], gs: h[H.gscale],
      };
    },
  },
  rmsprop: {
    flags: ['momentumOn', 'centered'],
    scalars: ['lr', 'alpha', 'oa', 'eps', 'wd', 'mu', 'l1', 'gs'],
    derive(h) {
      const H = HYPER.rmsprop;
      const mu = h[H.momentum], alpha = h[H.alpha];
      return {
        momentumOn: mu > 0 ? 1 : 0, centered: h[H.centered],
        lr: h[H.lr], alpha, oa: 1 - alpha, eps: h[H.eps], wd: h[H.weightDecay], mu, l1: h[H.l1], gs: h[H.gscale],
      };
    },
  },
  adagrad: {
    flags: [],
    scalars: ['clr', 'eps', 'wd', 'l1', 'gs'],
    derive(h) {
      const H = HYPER.adagrad;
      return { clr: h[H.clr], eps: h[H.eps], wd: h[H.weightDecay], l1: h[H.l1], gs: h[H.gscale] };
    },
  },
};

const OPTIM_FLAG_SLOTS = Math.max(...Object.values(OPTIM_UNIFORMS).map((l) => l.flags.length));
const OPTIM_SCALAR_SLOTS = Math.max(...Object.values(OPTIM_UNIFORMS).map((l) => l.scalars.length));

/** The optim kernel's uniform values for one call, in its field order (n, kind, flags, scalars). */
export function optimUniforms(kind: OptimName, n: number, hyper: readonly number[]): number[] {
  const l = OPTIM_UNIFORMS[kind];
  const d = l.derive(hyper);
  const v = [n, Optim[kind]];
  for (let i = 0; i < OPTIM_FLAG_SLOTS; i++) v.push(i < l.flags.length && d[l.flags[i]] ? 1 : 0);
  for (let i = 0; i < OPTIM_SCALAR_SLOTS; i++) v.push(i < l.scalars.length ? d[l.scalars[i]] : 0);
  return v;
}

/** The update of each kind, in the names of its layout; p, g, s1, s2 are the buffers, pi = p[i], gi = g[i]. */
const OPTIM_WGSL: { readonly [K in OptimName]: string } = {
  sgd: /* wgsl */ `
      var d = gs * gi + wd * pi + l1 * sgn(pi);
      if (momentumOn) {
        var b = d;
        if (!first) { b = mu * s1[i] + omd * d; }
        s1[i] = b;
        d = select(b, d + mu * b, nesterov);
      }
      p[i] = pi - lr * d;`,
  adam: /* wgsl */ `
      // AdamW (decoupled) decays p instead of adding wd·p to g; amsgrad keeps max v after v in s2.
      var q = pi;
      var gg = gs * gi + l1 * sgn(pi);
      if (decoupled) { q = q * pf; } else { gg = gg + wd * pi; }
      let m = b1 * s1[i] + ob1 * gg;
      var v = b2 * s2[i] + ob2 * gg * gg;
      s1[i] = m;
      s2[i] = v;
      if (amsgrad) {
        v = max(s2[n + i], v);
        s2[n + i] = v;
      }
      p[i] = q - (stepSize * m) / (sqrt(v) / sqrtBc2 + eps);`,
  rmsprop: /* wgsl */ `
      // s2 = [momentum buffer if momentumOn | gradient average if centered]
      let gg = gs * gi + wd * pi + l1 * sgn(pi);
      let sq = alpha * s1[i] + oa * gg * gg;
      s1[i] = sq;
      var avg: f32;
      if (centered) {
        let ga = select(0u, n, momentumOn) + i;
        let gav = alpha * s2[ga] + oa * gg;
        s2[ga] = gav;
        avg = sqrt(sq - gav * gav) + eps;
      } else {
        avg = sqrt(sq) + eps;
      }
      if (momentumOn) {
        let b = mu * s2[i] + gg / avg;
        s2[i] = b;
        p[i] = pi - lr * b;
      } else {
        p[i] = pi - (lr * gg) / avg;
      }`,
  adagrad: /* wgsl */ `
      let gg = gs * gi + wd * pi + l1 * sgn(pi);
      let s = s1[i] + gg * gg;
      s1[i] = s;
      p[i] = pi - (clr * gg) / (sqrt(s) + eps);`,
};

/** One arm of the optim kernel: its named uniforms bound, then its update. */
function optimArm(kind: OptimName): string {
  const l = OPTIM_UNIFORMS[kind];
  const lets = [
    ...l.flags.map((f, i) => `      let ${f} = P.f${i} != 0u;`),
    ...l.scalars.map((f, i) => `      let ${f} = P.h${i};`),
  ];
  return `    case ${Optim[kind]}u: { // ${kind}\n${lets.join('\n')}${OPTIM_WGSL[kind]}\n    }`;
}

const optim: KernelSpec = {
  name: 'optim',
  fields: [
    ['n', 'u32'], ['kind', 'u32'],
    ...Array.from({ length: OPTIM_FLAG_SLOTS }, (_, i) => [`f${i}`, 'u32'] as const),
    ...Array.from({ length: OPTIM_SCALAR_SLOTS }, (_, i) => [`h${i}`, 'f32'] as const),
  ],
  storage: ['p', 'g', 's1', 's2'],
  math: false,
  body: /* wgsl */ `
fn sgn(x: f32) -> f32 {
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x;
}
@compute @workgroup_size(${WG})
fn main(${ELEM_ARGS}) {
  init_consts(P.one);
  let i = flat_id(wid, nwg, li);
  let n = P.n;
  if (i >= n) { return; }
  let pi = p[i];
  let gi = g[i];
  switch P.kind {
${(Object.keys(OPTIM) as OptimName[]).map(optimArm).join('\n')}
    // The backends check kinds before they dispatch; a kind this kernel lacked would leave p as NaN.
    default: { p[i] = F_NAN; }
  }
}`,
};

/**
 * C = act(op(A)·op(B) + bias + beta·C): 64×64 output tiles through workgroup memory, 4×4 outputs per
 * invocation, depth steps of TK. One pipeline serves all four forms (transA/transB are uniform branches
 * around the tile loads, free next to the arithmetic), which keeps the compile count down: SwiftShader
 * spends about a second per gemm pipeline.
 */
const gemm: KernelSpec = {
  name: 'gemm',
  fields: [['m', 'u32'], ['n', 'u32'], ['k', 'u32'], ['act', 'u32'], ['alpha', 'f32'], ['hasBias', 'u32'], ['beta', 'u32'], ['transA', 'u32'], ['transB', 'u32']],
  storage: ['a', 'b', 'c', 'bias'],
  math: true,
  body: /* wgsl */ `
var<workgroup> As: array<f32, ${TK * TILE}>;
var<workgroup> Bs: array<f32, ${TK * TILE}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  init_consts(P.one);
  let M = P.m;
  let N = P.n;
  let K = P.k;
  let ta = P.transA != 0u;
  let tb = P.transB != 0u;
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  // Invocation (tx, ty) owns rows ty + 16i and columns tx + 16j: reads of As broadcast, reads of Bs and
  // the stores of C are consecutive across tx.
  let tx = lid.x;
  let ty = lid.y;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    // Each of the 256 invocations loads ${(TK * TILE) / 256} elements of the ${TILE}×${TK} A tile and of the ${TK}×${TILE}
    // B tile, walking along the operand's contiguous axis so that neighbours read neighbouring addresses.
    for (var l = 0u; l < ${(TK * TILE) / 256}u; l++) {
      let e = li + l * 256u;
      var ii: u32;
      var kk: u32;
      if (ta) { kk = e / ${TILE}u; ii = e % ${TILE}u; } else { ii = e / ${TK}u; kk = e % ${TK}u; }
      let gi = row0 + ii;
      var gk = k0 + kk;
      var v = 0.0;
      if (gi < M && gk < K) { v = a[select(gi * K + gk, gk * M + gi, ta)]; }
      As[kk * ${TILE}u + ii] = v;
      var jj: u32;
      if (tb) { jj = e / ${TK}u; kk = e % ${TK}u; } else { kk = e / ${TILE}u; jj = e % ${TILE}u; }
      let gj = col0 + jj;
      gk = k0 + kk;
      var w = 0.0;
      if (gj < N && gk < K) { w = b[select(gk * N + gj, gj * K + gk, tb)]; }
      Bs[kk * ${TILE}u + jj] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      let o = kk * ${TILE}u;
      let bv = vec4f(Bs[o + tx], Bs[o + tx + 16u], Bs[o + tx + 32u], Bs[o + tx + 48u]);
      c0 += As[o + ty] * bv;
      c1 += As[o + ty + 16u] * bv;
      c2 += As[o + ty + 32u] * bv;
      c3 += As[o + ty + 48u] * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + ty + 16u * i;
    if (r >= M) { break; }
    var acc = c0;
    if (i == 1u) { acc = c1; } else if (i == 2u) { acc = c2; } else if (i == 3u) { acc = c3; }
    for (var j = 0u; j < 4u; j++) {
      let cc = col0 + tx + 16u * j;
      if (cc >= N) { break; }
      var v = acc[j];
      if (P.hasBias != 0u) { v += bias[cc]; }
      if (P.beta != 0u) { v += c[r * N + cc]; }
      c[r * N + cc] = unary_f(P.act, v, P.alpha);
    }
  }
}`,
};

export const KERNELS: readonly KernelSpec[] = [
  gemm, unary, unaryGrad, binary, linear, reduceSerial, reduceWide, softmax, xent, xentGrad, transpose, gather, dropout, addNormal, optim,
];

/** Bits per slot in the uniform `map` (see the top of this file). */
export const MAP_BITS = 3;

/**
 * Rewrites storage accesses of a kernel body: `name[e] = v;` → `st_name(e, v);`, other `name[e]` →
 * `ld_name(e)`, for the kernel's storage names (brackets balanced, writes end at the statement's `;`).
 */
function rewriteStorage(body: string, names: readonly string[]): string {
  let out = '';
  let i = 0;
  const isId = (ch: string | undefined) => !!ch && /[A-Za-z0-9_.]/.test(ch);
  while (i < body.length) {
    const name = names.find((n) => body.startsWith(`${n}[`, i) && !isId(body[i - 1]));
    if (!name) {
      out += body[i++];
      continue;
    }
    let j = i + name.length + 1, depth = 1;
    while (depth > 0) {
      if (body[j] === '[') depth++;
      else if (body[j] === ']') depth--;
      j++;
    }
    const index = rewriteStorage(body.slice(i + name.length + 1, j - 1), names);
    const rest = /^\s*=(?!=)/.exec(body.slice(j));
    if (rest) {
      let k = j + rest[0].length, d = 0;
      while (!(d === 0 && body[k] === ';')) {
        if ('([{'.includes(body[k])) d++;
        else if (')]}'.includes(body[k])) d--;
        k++;
      }
      out += `st_${name}(${index}, ${rewriteStorage(body.slice(j + rest[0].length, k).trim(), names)})`;
      i = k; // the ';' follows
    } else {
      out += `ld_${name}(${index})`;
      i = j;
    }
  }
  return out;
}

/** ld_/st_ accessors: slot s reads and writes the binding `map` names for it (only earlier slots can be). */
function accessors(names: readonly string[]): string {
  return names
    .map((n, s) => {
      if (s === 0) return `fn ld_${n}(i: u32) -> f32 { return ${n}[i]; }\nfn st_${n}(i: u32, v: f32) { ${n}[i] = v; }`;
      const sel = `(P.map >> ${MAP_BITS * s}u) & ${(1 << MAP_BITS) - 1}u`;
      const ld = names.slice(0, s).map((m, j) => `    case ${j}u: { return ${m}[i]; }`).join('\n');
      const st = names.slice(0, s).map((m, j) => `    case ${j}u: { ${m}[i] = v; }`).join('\n');
      return `fn ld_${n}(i: u32) -> f32 {\n  switch ${sel} {\n${ld}\n    default: { return ${n}[i]; }\n  }\n}\n` +
        `fn st_${n}(i: u32, v: f32) {\n  switch ${sel} {\n${st}\n    default: { ${n}[i] = v; }\n  }\n}`;
    })
    .join('\n');
}

/** The full WGSL module of a kernel. */
export function moduleSource(k: KernelSpec): string {
  const fields = [['one', 'f32'], ['map', 'u32'], ...k.fields].map(([n, t]) => `  ${n}: ${t},`).join('\n');
  const bindings = k.storage.map((s, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${s}: array<f32>;`).join('\n');
  return `// simdnn webgpu kernel '${k.name}' (generated by src/backend/webgpu/kernels.ts)
struct Params {
${fields}
}
@group(0) @binding(0) var<uniform> P: Params;
${bindings}
${accessors(k.storage)}
${PRELUDE}${k.math ? MATH : ''}${rewriteStorage(k.body, k.storage)}
`;
}
