// The op table: one descriptor per op, the single source of every code the backends share. The TypeScript
// side derives its enums, activation lists, Tensor methods and test tables from it; scripts/gen-optable.mjs
// writes assembly/codes.ts from it at build time (never edited by hand); the WGSL kernels get their codes
// from it when the shaders are assembled (src/backend/webgpu/wgsl.ts). So this file must stay free of
// runtime imports: the generator evaluates it on its own.
//
// Adding a unary op: an entry below, its float64 reference (src/backend/math.ts), its AssemblyScript
// kernel (assembly/unary.ts), its WGSL snippet (src/backend/webgpu/wgsl.ts), and its public function beside
// unaryOp (src/ops/unary.ts). Tensor methods, activation lists and the conformance tests follow the table.

/**
 * How closely a kernel's float32 result follows the js oracle (which computes in float64 and rounds once).
 * Every backend's tests use these bounds (TOLERANCE_ULP), stated here once with their reasons.
 */
export type Accuracy =
  /** Exact, or one correctly rounded float32 operation on exact values: 0 ulp. */
  | 'exact'
  /** One float32 product with a parameter the oracle holds in float64 (leakyRelu's slope): 1 ulp. */
  | 'scaled'
  /** One division or square root: correctly rounded in wasm and js, but WGSL only promises 2.5 ulp. */
  | 'ieee'
  /**
   * Polynomial approximations in float32 (Cephes-style exp, log, tanh): measured ≤ 3 ulp over 400k points
   * of [-30, 30] on wasm and webgpu.
   */
  | 'transcendental'
  /**
   * A fit with an error of its own near float32 resolution, evaluated in float32: gelu's erfc (Numerical
   * Recipes' erfcc, 1.2e-7 relative; the oracle uses the same fit in float64): measured ≤ 5 ulp.
   */
  | 'fitted'
  /**
   * pow: wasm rounds float64 Math.pow (0.5 ulp); WebGPU has no float64 and evaluates e^(b·log a) in float32
   * pieces, whose error grows with |b·log a|.
   */
  | 'pow';

/**
 * True for the classes whose kernels evaluate an approximation: a few ns per element rather than a few adds
 * (the threads backend splits them at a smaller grain), and derivatives made of terms that can cancel.
 */
export function isApproximation(a: Accuracy): boolean {
  return a === 'transcendental' || a === 'fitted' || a === 'pow';
}

/** Allowed error per accuracy class, in ulp of the oracle's result (reasons above). */
export const TOLERANCE_ULP: Readonly<Record<Accuracy, number>> = { exact: 0, scaled: 1, ieee: 3, transcendental: 4, fitted: 6, pow: 8 };

/**
 * What a unary op's derivative reads besides dy: the input x, the output y = f(x), both, or neither.
 * Autograd saves only those; backends may pass anything for the other (it is never read).
 */
export type GradReads = 'x' | 'y' | 'xy' | 'none';

export interface UnaryDesc {
  readonly code: number;
  /** One line: what f(x) is. */
  readonly doc: string;
  readonly accuracy: Accuracy;
  readonly grad: GradReads;
  /**
   * Fusable as the gemm epilogue's activation, and so a layer activation (identity is 'linear' there).
   * Costs nothing per op on the kernels' side: the epilogue calls the unary kernel.
   */
  readonly activation: boolean;
  /** The scalar parameter (the kernels' alpha), with its name in the public API and its default. */
  readonly param?: { readonly name: string; readonly default: number };
  /** Where f is defined: test inputs and gradient checks draw from it. */
  readonly domain: 'real' | 'positive';
  /** Relu-like (unbounded above, near zero below): layers default to He initialisation with it. */
  readonly he?: boolean;
  /** False for identity: no public function or Tensor method. */
  readonly api?: false;
}

/** Elementwise unary functions; the activation codes of the fused gemm epilogue are among them. */
export const UNARY = {
  identity: { code: 0, doc: 'x', accuracy: 'exact', grad: 'none', activation: true, domain: 'real', api: false },
  relu: { code: 1, doc: "max(x, 0); NaN propagates (torch.relu); relu'(0) = 0", accuracy: 'exact', grad: 'x', activation: true, domain: 'real', he: true },
  leakyRelu: { code: 2, doc: 'x for x > 0, else slope·x', accuracy: 'scaled', grad: 'x', activation: true, param: { name: 'slope', default: 0.01 }, domain: 'real', he: true },
  elu: { code: 3, doc: 'x for x > 0, else alpha·(eˣ − 1)', accuracy: 'transcendental', grad: 'x', activation: true, param: { name: 'alpha', default: 1 }, domain: 'real', he: true },
  gelu: { code: 4, doc: 'x·Φ(x), the exact (erf) GELU of torch.nn.GELU()', accuracy: 'fitted', grad: 'x', activation: true, domain: 'real', he: true },
  sigmoid: { code: 5, doc: '1/(1 + e⁻ˣ)', accuracy: 'transcendental', grad: 'y', activation: true, domain: 'real' },
  tanh: { code: 6, doc: 'hyperbolic tangent', accuracy: 'transcendental', grad: 'y', activation: true, domain: 'real' },
  exp: { code: 7, doc: 'eˣ', accuracy: 'transcendental', grad: 'y', activation: false, domain: 'real' },
  log: { code: 8, doc: 'natural logarithm', accuracy: 'transcendental', grad: 'x', activation: false, domain: 'positive' },
  sqrt: { code: 9, doc: 'square root', accuracy: 'ieee', grad: 'y', activation: false, domain: 'positive' },
  neg: { code: 10, doc: '−x', accuracy: 'exact', grad: 'none', activation: false, domain: 'real' },
  abs: { code: 11, doc: "|x|; abs'(0) = 0", accuracy: 'exact', grad: 'x', activation: false, domain: 'real' },
  square: { code: 12, doc: 'x²', accuracy: 'exact', grad: 'x', activation: false, domain: 'real' },
  softplus: { code: 13, doc: 'log(1 + eˣ), without overflow', accuracy: 'transcendental', grad: 'x', activation: false, domain: 'real' },
  reciprocal: { code: 14, doc: '1/x', accuracy: 'ieee', grad: 'y', activation: false, domain: 'real' },
  sign: { code: 15, doc: '−1, 0 or 1 (±0 and NaN pass through); its derivative is 0', accuracy: 'exact', grad: 'none', activation: false, domain: 'real' },
  silu: { code: 16, doc: 'x·σ(x), the SiLU (swish) of torch.nn.SiLU', accuracy: 'transcendental', grad: 'x', activation: true, domain: 'real', he: true },
} as const satisfies Record<string, UnaryDesc>;

export interface BinaryDesc {
  readonly code: number;
  readonly doc: string;
  readonly accuracy: Accuracy;
  /** The public function and Tensor method, where it differs from the key. */
  readonly api?: string;
}

/** Elementwise binary functions (with broadcasting). Comparisons give 1 or 0. */
export const BINARY = {
  add: { code: 0, doc: 'a + b', accuracy: 'exact' },
  sub: { code: 1, doc: 'a − b', accuracy: 'exact' },
  mul: { code: 2, doc: 'a·b', accuracy: 'exact' },
  div: { code: 3, doc: 'a/b', accuracy: 'ieee' },
  max: { code: 4, doc: 'the larger of a and b; NaN if either is NaN', accuracy: 'exact', api: 'maximum' },
  min: { code: 5, doc: 'the smaller of a and b; NaN if either is NaN', accuracy: 'exact', api: 'minimum' },
  greater: { code: 6, doc: '1 where a > b, else 0', accuracy: 'exact' },
  greaterEqual: { code: 7, doc: '1 where a ≥ b, else 0', accuracy: 'exact' },
  equal: { code: 8, doc: '1 where a = b, else 0', accuracy: 'exact' },
  pow: { code: 9, doc: 'aᵇ with Math.pow semantics', accuracy: 'pow' },
} as const satisfies Record<string, BinaryDesc>;

export interface ReduceDesc {
  readonly code: number;
  readonly doc: string;
  /** 'sum': accumulates (error grows with n); 'extreme': picks a value; 'index': picks an index. */
  readonly kind: 'sum' | 'extreme' | 'index';
}

/** Reductions over the middle axis of an [outer, n, inner] view. */
export const REDUCE = {
  sum: { code: 0, doc: 'Σ x', kind: 'sum' },
  mean: { code: 1, doc: 'Σ x / n', kind: 'sum' },
  max: { code: 2, doc: 'the largest value; the first NaN wins', kind: 'extreme' },
  min: { code: 3, doc: 'the smallest value; the first NaN wins', kind: 'extreme' },
  argmax: { code: 4, doc: 'index of the largest value (first on ties, or the first NaN), as a float (exact below 2^24)', kind: 'index' },
  argmin: { code: 5, doc: 'index of the smallest value (first on ties, or the first NaN)', kind: 'index' },
  sumSquares: { code: 6, doc: 'Σ x²', kind: 'sum' },
} as const satisfies Record<string, ReduceDesc>;

/** How labels are given to the fused softmax cross-entropy kernels. */
export const LABEL_MODE = {
  index: { code: 0, doc: 'one label per row: a class index stored as a float' },
  dense: { code: 1, doc: 'a [rows, cols] matrix of target probabilities (one-hot or soft)' },
} as const satisfies Record<string, { code: number; doc: string }>;

/**
 * Fused optimizer updates (backend.optimStep), following torch.optim. Every kind first forms the effective
 * gradient g' = gscale·g + weightDecay·p + l1·sign(p) (AdamW leaves the weightDecay term out and multiplies p
 * by 1 − lr·weightDecay instead); gscale is the global-norm clipping factor (1 = none). Flags are 0 or 1.
 * Anything that depends on the step count t (of this parameter, from 1) is computed by the caller in float64.
 *
 * `hyper` lists the named scalars of backend.optimStep's `hyper` array in their order: callers write and
 * backends read them through HYPER (HYPER.adam.beta1 is the index of beta1), never by a bare index. The
 * wasm kernels (assembly/optim.ts) take the same scalars as arguments, in this order and with these names
 * (test/optable.test.ts checks). The optimizer reuses one `hyper` array for all its calls: a backend that
 * defers work (webgpu) must copy the values during the call.
 */
export const OPTIM = {
  sgd: {
    code: 0,
    doc: 'torch.optim.SGD; first = 1 on t = 1 (the momentum buffer starts as g\')',
    hyper: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'first', 'l1', 'gscale'],
    state: 's1: momentum buffer [n] (null when momentum = 0); s2: null',
  },
  adam: {
    code: 1,
    doc: 'torch.optim.Adam, and AdamW with decoupled = 1; bc1 = 1 − beta1^t, bc2 = 1 − beta2^t',
    hyper: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled', 'bc1', 'bc2', 'l1', 'gscale', 'amsgrad'],
    state: 's1: first moment m [n]; s2: second moment v [n], followed by max(v) [n] when amsgrad (2n)',
  },
  rmsprop: {
    code: 2,
    doc: 'torch.optim.RMSprop',
    hyper: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'l1', 'gscale'],
    state: 's1: square average [n]; s2: momentum buffer [n] when momentum > 0, followed by the gradient average [n] when centered (null when neither)',
  },
  adagrad: {
    code: 3,
    doc: 'torch.optim.Adagrad; clr = lr/(1 + (t − 1)·lrDecay); s1 starts at initialAccumulatorValue',
    hyper: ['clr', 'eps', 'weightDecay', 'l1', 'gscale'],
    state: 's1: sum of squares [n]; s2: null',
  },
} as const satisfies Record<string, { code: number; doc: string; hyper: readonly string[]; state: string }>;

// ---- derived: names, codes and types -----------------------------------------------------------------
// Derived values are marked pure so that a bundle that uses none of them (the threads worker) drops the table.

type Table = Record<string, { readonly code: number }>;
type Codes<T extends Table> = { readonly [K in keyof T]: T[K]['code'] };

function codesOf<T extends Table>(t: T): Codes<T> {
  const out: Record<string, number> = {};
  for (const [k, d] of Object.entries(t)) out[k] = d.code;
  return Object.freeze(out) as Codes<T>;
}

export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;
export type ReduceName = keyof typeof REDUCE;
export type LabelModeName = keyof typeof LABEL_MODE;
export type OptimName = keyof typeof OPTIM;

/** Code of each unary op by name (Unary.relu = 1). */
export const Unary: Codes<typeof UNARY> = /* @__PURE__ */ codesOf(UNARY);
export const Binary: Codes<typeof BINARY> = /* @__PURE__ */ codesOf(BINARY);
export const Reduce: Codes<typeof REDUCE> = /* @__PURE__ */ codesOf(REDUCE);
export const LabelMode: Codes<typeof LABEL_MODE> = /* @__PURE__ */ codesOf(LABEL_MODE);
export const Optim: Codes<typeof OPTIM> = /* @__PURE__ */ codesOf(OPTIM);

export type UnaryCode = (typeof Unary)[UnaryName];
export type BinaryCode = (typeof Binary)[BinaryName];
export type ReduceCode = (typeof Reduce)[ReduceName];
export type LabelModeCode = (typeof LabelMode)[LabelModeName];
export type OptimCode = (typeof Optim)[OptimName];

/** The unary ops with a public function and Tensor method (all but identity). */
export type PublicUnaryName = { [K in UnaryName]: (typeof UNARY)[K] extends { api: false } ? never : K }[UnaryName];
/** The public unary ops that take a parameter (leakyRelu's slope, elu's alpha). */
export type ParamUnaryName = { [K in UnaryName]: (typeof UNARY)[K] extends { param: object } ? K : never }[UnaryName];
/** The public name of each binary op (max → maximum). */
export type BinaryApiName<K extends BinaryName = BinaryName> = K extends BinaryName ? ((typeof BINARY)[K] extends { api: infer A extends string } ? A : K) : never;

/** Ops the gemm epilogue fuses; identity among them. */
export type ActivationOp = { [K in UnaryName]: (typeof UNARY)[K] extends { activation: true } ? K : never }[UnaryName];
/** The activations of dense layers and the fused gemm: 'linear' (identity) and every fusable op. */
export type Activation = 'linear' | Exclude<ActivationOp, 'identity'>;

/** The unary op of an activation name ('linear' → identity). */
export function activationOp(a: Activation): ActivationOp {
  return a === 'linear' ? 'identity' : a;
}

/** Every activation name, 'linear' first, in code order. */
export const ACTIVATIONS: readonly Activation[] = /* @__PURE__ */ (() =>
  Object.freeze((Object.keys(UNARY) as UnaryName[]).filter((k) => UNARY[k].activation).map((k) => (k === 'identity' ? 'linear' : k) as Activation)))();

/** The public unary ops, in code order. */
export const PUBLIC_UNARY: readonly PublicUnaryName[] = /* @__PURE__ */ (() =>
  Object.freeze((Object.keys(UNARY) as UnaryName[]).filter((k) => (UNARY[k] as UnaryDesc).api !== false) as PublicUnaryName[]))();

/** The public name of a binary op. */
export function binaryApiName<K extends BinaryName>(k: K): BinaryApiName<K> {
  return ((BINARY[k] as BinaryDesc).api ?? k) as BinaryApiName<K>;
}

/** The parameter an op runs with: the one given, else its default (0 for ops without one). */
export function paramOf(op: UnaryName, given?: number): number {
  return given ?? (UNARY[op] as UnaryDesc).param?.default ?? 0;
}

/** Index of each named scalar in an optimizer's `hyper` array: HYPER.adam.eps === 3. */
export const HYPER: { readonly [K in OptimName]: { readonly [F in (typeof OPTIM)[K]['hyper'][number]]: number } } = /* @__PURE__ */ (() => {
  const out: Record<string, Record<string, number>> = {};
  for (const [k, d] of Object.entries(OPTIM)) out[k] = Object.freeze(Object.fromEntries(d.hyper.map((f, i) => [f, i])));
  return Object.freeze(out) as any;
})();

/** The longest `hyper` array of any kind (an optimizer allocates one of this length and reuses it). */
export const HYPER_MAX: number = /* @__PURE__ */ (() => Math.max(...Object.values(OPTIM).map((d) => d.hyper.length)))();

// ---- lookups by code and the one check of codes ------------------------------------------------------

function byCode<T extends Table>(t: T): readonly (keyof T & string)[] {
  const out: string[] = [];
  for (const [k, d] of Object.entries(t)) {
    if (out[d.code] !== undefined) throw new Error(`simdnn internal error: op table code ${d.code} is used twice (${out[d.code]}, ${k})`);
    out[d.code] = k;
  }
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new Error(`simdnn internal error: op table codes skip ${i}`);
  return Object.freeze(out) as (keyof T & string)[];
}

/** Names by code: UNARY_NAMES[1] === 'relu'. Codes are dense from 0. */
export const UNARY_NAMES: readonly UnaryName[] = /* @__PURE__ */ byCode(UNARY);
export const BINARY_NAMES: readonly BinaryName[] = /* @__PURE__ */ byCode(BINARY);
export const REDUCE_NAMES: readonly ReduceName[] = /* @__PURE__ */ byCode(REDUCE);
export const LABEL_MODE_NAMES: readonly LabelModeName[] = /* @__PURE__ */ byCode(LABEL_MODE);
export const OPTIM_NAMES: readonly OptimName[] = /* @__PURE__ */ byCode(OPTIM);

const FAMILIES = {
  unary: UNARY_NAMES,
  binary: BINARY_NAMES,
  reduce: REDUCE_NAMES,
  'label mode': LABEL_MODE_NAMES,
  optimizer: OPTIM_NAMES,
  activation: /* @__PURE__ */ (() => UNARY_NAMES.map((k) => (UNARY[k].activation ? k : undefined)))(),
} as const satisfies Record<string, readonly (string | undefined)[]>;
export type CodeFamily = keyof typeof FAMILIES;

/**
 * The check every backend runs on a code before it dispatches (so an unknown code fails the same way on
 * all of them, with this text). Kernels still refuse codes they do not know (the wasm kernels trap, the
 * WGSL ones write NaN), but the check stops such a call first.
 */
export function checkCode(family: CodeFamily, code: number): void {
  if (FAMILIES[family][code] === undefined) {
    const known = FAMILIES[family].flatMap((k, i) => (k === undefined ? [] : [`${i} ${k}`])).join(', ');
    throw new Error(`simdnn internal error: unknown ${family} code ${String(code)}; the op table (src/core/optable.ts) has ${known}.`);
  }
}
