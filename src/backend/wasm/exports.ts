/** The kernel module's exports (assembly/ABI.md). Pointers are byte offsets. */
export interface KernelExports {
  heap_base(): number;
  f32_gemm_workspace(m: number, n: number, k: number): number;
  f32_gemm_nn: GemmFn;
  f32_gemm_nt: GemmFn;
  f32_gemm_tn: GemmFn;
  f32_gemm_tt: GemmFn;
  f32_unary(op: number, n: number, x: number, y: number, alpha: number): void;
  f32_unary_grad(op: number, n: number, x: number, y: number, dy: number, dx: number, alpha: number): void;
  f32_binary(op: number, outer: number, rows: number, cols: number, a: number, as0: number, as1: number, as2: number, b: number, bs0: number, bs1: number, bs2: number, out: number): void;
  f32_reduce(op: number, outer: number, n: number, inner: number, x: number, out: number): void;
  f32_softmax(rows: number, cols: number, x: number, y: number, log: number): void;
  f32_softmax_xent(rows: number, cols: number, logits: number, labels: number, mode: number, probs: number, loss: number): void;
  f32_softmax_xent_grad(rows: number, cols: number, probs: number, labels: number, mode: number, dy: number, dlogits: number): void;
  f32_transpose(rows: number, cols: number, x: number, y: number): void;
  f32_fill(n: number, y: number, v: number): void;
  f32_copy(n: number, x: number, y: number): void;
  f32_affine(n: number, x: number, y: number, alpha: number, beta: number): void;
  f32_axpy(n: number, alpha: number, x: number, y: number): void;
  f32_gather_rows(rows: number, cols: number, x: number, idx: number, y: number): void;
  f32_dropout(n: number, x: number, y: number, mask: number, keep: number, seed: number, offset: number): void;
  f32_add_normal(n: number, y: number, std: number, seed: number, offset: number): void;
  // Optimizer steps (assembly/optim.ts); flags are 0 or 1, unused state pointers 0.
  f32_sgd_step(n: number, p: number, g: number, buf: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: number, first: number, l1: number, gscale: number): void;
  f32_adam_step(n: number, p: number, g: number, m: number, v: number, vmax: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: number, bc1: number, bc2: number, l1: number, gscale: number, amsgrad: number): void;
  f32_rmsprop_step(n: number, p: number, g: number, sq: number, buf: number, gavg: number, lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, centered: number, l1: number, gscale: number): void;
  f32_adagrad_step(n: number, p: number, g: number, sum: number, clr: number, eps: number, weightDecay: number, l1: number, gscale: number): void;
  /** Normal deviates continuing the seeded stream whose 32-byte state is at `state` (assembly/random.ts). */
  f32_fill_normal(n: number, y: number, state: number, mean: number, std: number): void;
  /** The int8 dense product (assembly/qgemm.ts); out 0: float32 C, 1: u7 bytes. */
  q8_gemm(m: number, n: number, k: number, a: number, lda: number, b: number, c: number, ldc: number, scale: number, bias: number, act: number, alpha: number, outScale: number, outZero: number, out: number): void;
  q8_quantize(n: number, x: number, y: number, invScale: number, zero: number): void;
}

export type GemmFn = (
  m: number, n: number, k: number,
  a: number, lda: number, b: number, ldb: number, c: number, ldc: number,
  bias: number, act: number, alpha: number, beta: number, ws: number,
) => void;

/** Every export the backend calls; a module lacking one is refused at init. */
export const KERNEL_NAMES: readonly (keyof KernelExports)[] = [
  'heap_base', 'f32_gemm_workspace', 'f32_gemm_nn', 'f32_gemm_nt', 'f32_gemm_tn', 'f32_gemm_tt', 'f32_unary', 'f32_unary_grad',
  'f32_binary', 'f32_reduce', 'f32_softmax', 'f32_softmax_xent', 'f32_softmax_xent_grad', 'f32_transpose', 'f32_fill', 'f32_copy',
  'f32_affine', 'f32_axpy', 'f32_gather_rows', 'f32_dropout', 'f32_add_normal',
  'f32_sgd_step', 'f32_adam_step', 'f32_rmsprop_step', 'f32_adagrad_step', 'f32_fill_normal',
  'q8_gemm', 'q8_quantize',
];

/** The exports of the relaxed gemm module (binaries.ts), which replace the core's. */
export const GEMM_NAMES: readonly (keyof KernelExports)[] = ['f32_gemm_workspace', 'f32_gemm_nn', 'f32_gemm_nt', 'f32_gemm_tn', 'f32_gemm_tt', 'q8_gemm'];
