import type { BinaryCode, LabelModeCode, OptimCode, ReduceCode, UnaryCode } from './optable.js';
import type { StreamState } from './random.js';

/** The backends simdnn can run on (see init and info). */
export type BackendName = 'js' | 'wasm' | 'wasm-threads' | 'webgpu';

/**
 * A backend's handle to the storage of one tensor: a byte offset into the shared WebAssembly.Memory
 * (wasm, wasm-threads), a Float32Array (js), a GPUBuffer (webgpu). Only its backend looks inside.
 */
export type Handle = unknown;

/**
 * Arguments of one gemm: C = act(op(A)·op(B) + bias + beta·C), op(X) = X or Xᵀ.
 * Sizes are of the product: op(A) is [m, k], op(B) is [k, n], C is [m, n]; all row-major and contiguous.
 */
export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  a: Handle;
  transA: boolean;
  b: Handle;
  transB: boolean;
  c: Handle;
  /** A vector of length n added to every row, or null. */
  bias: Handle | null;
  /** Activation applied last (Unary code; identity = none). */
  act: UnaryCode;
  /** Parameter of leakyRelu / elu. */
  alpha: number;
  /** 0: overwrite C; 1: accumulate into C (gradient accumulation). */
  beta: 0 | 1;
}

/**
 * Arguments of one int8 dense product (the js backend's src/backend/js/qgemm.ts is the reference):
 *   C[i, j] = epilogue(Σ_p A[i, p]·B[p, j] + bias[j])
 * A: "u7" bytes in [0, 127] (quantized activations), row i at byte i·lda; B: int8 weights in
 * [-127, 127], packed (packWeights in src/backend/js/qgemm.ts: k padded to a multiple of 4, columns in panels of
 * 16); bias: int32; scale: float32. Epilogue in float32, one rounding per step, no fused multiply-add:
 * v = f32(acc + bias[j])·scale[j], then act (identity, relu, leakyRelu with alpha), then either the
 * float32 v (out 'f32', C rows of ldc floats) or the byte clamp(nearest(v·outScale) + outZero, 0, 127)
 * (out 'u7', C rows of ldc bytes; nearest is round-half-even, NaN gives outZero). Every backend that has
 * it returns the same bits. Byte and int32 operands live in ordinary storage (alloc counts floats: 4
 * bytes each); write() and read() copy their bits unchanged (same-type typed-array copies preserve them).
 */
export interface QGemmArgs {
  m: number;
  n: number;
  k: number;
  a: Handle;
  lda: number;
  /** Packed weights: roundup(k, 4)·roundup(n, 4) bytes. */
  b: Handle;
  c: Handle;
  ldc: number;
  /** roundup(n, 4) float32 values (input scale × weight scale of each column). */
  scale: Handle;
  /** roundup(n, 4) int32 values. */
  bias: Handle;
  /** identity, relu or leakyRelu. */
  act: UnaryCode;
  /** leakyRelu's slope, as float32. */
  alpha: number;
  out: 'f32' | 'u7';
  /** out 'u7': 1 / the scale of the bytes written, as float32. */
  outScale: number;
  /** out 'u7': their zero point, an integer in [0, 127]. */
  outZero: number;
}

/**
 * Strided 3-D view used by binary ops: element (o, r, c) sits at o·s0 + r·s1 + c·s2.
 * A stride of 0 broadcasts that axis; the output is always contiguous [outer, rows, cols].
 */
export interface Strides {
  s0: number;
  s1: number;
  s2: number;
}

/**
 * The interface every backend implements. All sizes are in float32 elements; every method is a pure
 * function of its arguments plus the storage behind the handles. Methods may enqueue work (webgpu)
 * rather than run it: results are only observable through `read`/`readSync`, so an asynchronous backend
 * plugs in without changing any caller. Empty work (a zero size) must be accepted and do nothing.
 */
export interface Backend {
  readonly name: BackendName;
  /** True when `readSync` works (false for webgpu). */
  readonly canReadSync: boolean;

  /** Storage for `size` floats; contents undefined. Throws a clear Error when memory is exhausted. */
  alloc(size: number): Handle;
  free(handle: Handle): void;
  /** Copies `data` into the storage, starting at element `offset`. */
  write(handle: Handle, data: Float32Array, offset?: number): void;
  /** A copy of `size` floats from the storage. */
  readSync(handle: Handle, size: number): Float32Array;
  read(handle: Handle, size: number): Promise<Float32Array>;

  gemm(args: GemmArgs): void;
  /** y = f(x); alpha parametrises leakyRelu/elu. In place (y === x) is allowed. */
  unary(op: UnaryCode, n: number, x: Handle, y: Handle, alpha: number): void;
  /**
   * dx = dy · f'(x), given x and y = f(x) (whichever the derivative needs; both must be valid).
   * In place (dx === dy) is allowed.
   */
  unaryGrad(op: UnaryCode, n: number, x: Handle, y: Handle, dy: Handle, dx: Handle, alpha: number): void;
  /** out[o, r, c] = a[o, r, c] ⊕ b[o, r, c] over strided views; out may alias a full (unbroadcast) input. */
  binary(op: BinaryCode, outer: number, rows: number, cols: number, a: Handle, as: Strides, b: Handle, bs: Strides, out: Handle): void;
  /** out[o, i] = reduce_j x[o, j, i] for the contiguous [outer, n, inner] view of x. n ≥ 1. */
  reduce(op: ReduceCode, outer: number, n: number, inner: number, x: Handle, out: Handle): void;
  /** Row-wise softmax (or log-softmax) of a [rows, cols] matrix. In place allowed. */
  softmax(rows: number, cols: number, x: Handle, y: Handle, log: boolean): void;
  /**
   * Fused softmax cross-entropy: probs = softmax(logits) and loss[r] = −Σ_c target[r, c]·log probs[r, c].
   * Index labels outside [0, cols) give a NaN loss for that row (callers validate first).
   */
  softmaxXent(rows: number, cols: number, logits: Handle, labels: Handle, mode: LabelModeCode, probs: Handle, loss: Handle): void;
  /** dlogits[r, c] = dy[r] · (probs[r, c] − target[r, c]). dlogits may alias probs. */
  softmaxXentGrad(rows: number, cols: number, probs: Handle, labels: Handle, mode: LabelModeCode, dy: Handle, dlogits: Handle): void;
  /** y = xᵀ for a [rows, cols] matrix; not in place. */
  transpose(rows: number, cols: number, x: Handle, y: Handle): void;
  fill(n: number, y: Handle, value: number): void;
  copy(n: number, x: Handle, y: Handle): void;
  /** y = alpha·x + beta, elementwise. In place allowed. */
  affine(n: number, x: Handle, y: Handle, alpha: number, beta: number): void;
  /** y += alpha·x. */
  axpy(n: number, alpha: number, x: Handle, y: Handle): void;

  /** y[r, :] = x[idx[r], :] for r < rows; x has `cols` columns; idx holds row numbers as floats (validated by callers). */
  gatherRows(rows: number, cols: number, x: Handle, idx: Handle, y: Handle): void;
  /**
   * Inverted dropout: mask[i] = 1/keep with probability keep, else 0, from a counter-based hash of
   * (seed, offset + i) that every backend computes identically; y = x·mask. y may equal x.
   */
  dropout(n: number, x: Handle, y: Handle, mask: Handle, keep: number, seed: number, offset: number): void;
  /**
   * y[i] += std·z(offset + i), z the counter-based Gaussian stream of `seed` (src/backend/math.ts,
   * normalAt: Box–Muller from hashes of the counter). Pure in the same sense as dropout: the same seed and
   * counters give the same noise, so replays and tiles draw exactly what one call would.
   */
  addNormal(n: number, y: Handle, std: number, seed: number, offset: number): void;
  /**
   * One fused optimizer update of n parameters from their gradient. s1/s2 are the optimizer's state
   * buffers (null when the kind needs fewer); `hyper` holds the kind's named scalars (the op table's OPTIM and HYPER,
   * src/core/optable.ts).
   */
  optimStep(kind: OptimCode, n: number, param: Handle, grad: Handle, s1: Handle | null, s2: Handle | null, hyper: readonly number[]): void;
  /**
   * Optional: y[0..n) = mean + std·N(0, 1), continuing the seeded stream `state` (src/core/random.ts)
   * exactly as Rng.fillNormal would, bit for bit, and leaving `state` as it would. Weight initialisation
   * calls it to fill parameters in place; without it, they are filled in JS and written.
   */
  fillNormal?(n: number, y: Handle, mean: number, std: number, state: StreamState): void;

  /**
   * Optional (int8 inference; absent on webgpu): the quantized dense product of QGemmArgs. m, n or k of 0
   * is no work; k ≤ 65536 and |bias| ≤ 2^31 − k·127² keep the int32 sums exact (callers check).
   */
  qgemm?(args: QGemmArgs): void;
  /**
   * Optional, with qgemm: n floats of x to u7 bytes at y: clamp(nearest(x·invScale) + zero, 0, 127),
   * the epilogue's 'u7' rounding (NaN gives zero). y must not overlap x.
   */
  qquantize?(n: number, x: Handle, y: Handle, invScale: number, zero: number): void;

  /** Allocator figures for memory(). */
  stats(): BackendStats;
  /** Releases everything the backend holds (workers, memory, device). */
  dispose(): void;
}

export interface BackendStats {
  /** Bytes currently allocated to live storage (including alignment and tail padding). */
  allocatedBytes: number;
  /** Bytes the backend has reserved from the system (wasm memory size, GPU pool). */
  reservedBytes: number;
}
