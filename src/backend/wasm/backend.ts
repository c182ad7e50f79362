import type { Backend, BackendStats, GemmArgs, QGemmArgs, Strides } from '../../core/backend.js';
import type { StreamState } from '../../core/random.js';
import { checkCode, HYPER, Optim, Unary } from '../../core/optable.js';
import { Allocator, Workspace } from './allocator.js';
import { buildName, buildParts, MAX_PAGES, moduleBytes, type BinaryName, type ModuleName } from './binaries.js';
import { GEMM_NAMES, KERNEL_NAMES, type KernelExports } from './exports.js';

export interface WasmOptions {
  /** Which build to run. */
  binary: BinaryName;
  /**
   * A precompiled core module (dist/kernels.wasm; edge runtimes that forbid compiling bytes at run
   * time). A relaxed build takes `gemmModule`, else compiles its relaxed gemm, else runs this module's gemm.
   */
  module?: WebAssembly.Module;
  /** The relaxed gemm module precompiled (dist/kernels-relaxed-gemm.wasm), beside `module`. */
  gemmModule?: WebAssembly.Module;
  /** Upper bound of the memory in MiB (default 4096, the wasm32 limit). */
  maxMemoryMB?: number;
}

/**
 * The compiled modules a backend runs (binaries.ts): the core, and the relaxed-SIMD gemm whose exports
 * replace the core's gemm (null: the core's own gemm runs). Workers instantiate the same pair.
 */
export interface KernelModules {
  core: WebAssembly.Module;
  gemm: WebAssembly.Module | null;
}

/** Values per f32_fill_normal call (WasmBackend.fillNormal). */
const FILL_CHUNK = 8192;

const compiled = new Map<string, Promise<WebAssembly.Module>>();

const gw = globalThis as any;
/**
 * Node and Deno compile and instantiate on the calling thread (new WebAssembly.Module, new
 * WebAssembly.Instance): with V8's lazy compilation that is only validation, ~1 ms for the core, where
 * the promises' answers wait for a task on the event loop, later still on a busy machine (cold start,
 * bench/lib/cold.mjs: compile 3–6 → 1.5 ms, instantiate 1.3 → 0.2 ms). Browsers refuse large synchronous
 * compiles on the page's main thread, so they keep the asynchronous forms.
 */
const syncWasm = typeof gw.Deno?.version?.deno === 'string' || typeof gw.process?.versions?.node === 'string';

/** Compiles a module, on a shared memory or not, once per process; later backends reuse it. */
export function compileModule(name: ModuleName, shared: boolean): Promise<WebAssembly.Module> {
  const key = shared ? `${name}-shared` : name;
  let m = compiled.get(key);
  if (!m) {
    const p = moduleBytes(name, shared).then((bytes) => (syncWasm ? new WebAssembly.Module(bytes) : WebAssembly.compile(bytes)));
    compiled.set(key, (m = p));
    // A failure is not kept: a later backend tries again (relaxed SIMD may have been enabled since).
    p.catch(() => compiled.get(key) === p && compiled.delete(key));
  }
  return m;
}

/**
 * The compiled modules of a build. `module` and `gemmModule` (init's options) stand in for the core and
 * the relaxed gemm. When the relaxed gemm does not compile here, the core's gemm runs instead and `note`
 * says so.
 */
export async function compileBuild(binary: BinaryName, module?: WebAssembly.Module, gemmModule?: WebAssembly.Module): Promise<{ modules: KernelModules; note: string | null }> {
  const { shared, relaxed } = buildParts(binary);
  // Both compiles start at once (in browsers V8 compiles in the background, so they overlap).
  const gemm = !relaxed ? null : gemmModule ? Promise.resolve(gemmModule) : compileModule('relaxed-gemm', shared);
  gemm?.catch(() => {}); // awaited below, or dropped when the core fails
  const core = module ?? (await compileModule('core', shared));
  if (!gemm) return { modules: { core, gemm: null }, note: null };
  try {
    return { modules: { core, gemm: await gemm }, note: null };
  } catch (e) {
    // A runtime handed the core precompiled likely forbids compiling: say how to hand the gemm over too.
    const hint = module ? "; pass it precompiled as init({ gemmModule }) ('simdnn/kernels-relaxed-gemm.wasm') to use it" : '';
    return { modules: { core, gemm: null }, note: relaxedFallback('compile', e) + hint };
  }
}

const relaxedFallback = (step: string, e: unknown) =>
  `the relaxed-SIMD gemm module did not ${step} (${(e as Error)?.message ?? e}): using the plain SIMD gemm of the core module`;

/** Instantiates one module; function imports not given are stubs that throw. */
async function instantiate(module: WebAssembly.Module, given: Record<string, unknown>): Promise<Record<string, unknown>> {
  const env: Record<string, unknown> = { ...given };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind === 'function' && !(imp.name in env))
      env[imp.name] = () => {
        throw new Error(`simdnn internal error: kernel called the import ${imp.module}.${imp.name}`);
      };
  }
  const imports = { env } as WebAssembly.Imports;
  const instance = syncWasm ? new WebAssembly.Instance(module, imports) : await WebAssembly.instantiate(module, imports);
  return instance.exports as Record<string, unknown>;
}

/**
 * Instantiates a build's modules on `memory`: the core, then the relaxed gemm (which imports the core's
 * f32_unary for its activation epilogue, and has no static data of its own: ABI.md). Throws when a module
 * fails; with `onGemmFailure`, a failing relaxed gemm is reported there and the core's gemm runs.
 */
export async function instantiateKernels(modules: KernelModules, memory: WebAssembly.Memory, onGemmFailure?: (e: unknown) => void): Promise<KernelExports> {
  const core = await instantiate(modules.core, { memory });
  const missing = KERNEL_NAMES.filter((n) => typeof core[n] !== 'function');
  if (missing.length)
    throw new Error(`simdnn: the kernel module lacks ${missing.join(', ')}; pass a module compiled from this version's kernels (or omit init's module option).`);
  if (!modules.gemm) return core as unknown as KernelExports;
  try {
    const gemm = await instantiate(modules.gemm, { memory, f32_unary: core.f32_unary });
    const lacks = GEMM_NAMES.filter((n) => typeof gemm[n] !== 'function');
    if (lacks.length) throw new Error(`simdnn internal error: the relaxed gemm module lacks ${lacks.join(', ')}`);
    const k: Record<string, unknown> = { ...core };
    for (const n of GEMM_NAMES) k[n] = gemm[n];
    return k as unknown as KernelExports;
  } catch (e) {
    if (!onGemmFailure) throw e;
    onGemmFailure(e);
    return core as unknown as KernelExports;
  }
}

/**
 * The single-thread SIMD backend. Handles are byte offsets into one WebAssembly.Memory; the JS allocator
 * owns that memory and the kernels only read and write where they are told. The threads backend reuses
 * all of this and overrides the kernels it splits into tiles.
 */
export class WasmBackend implements Backend {
  readonly name: 'wasm' | 'wasm-threads' = 'wasm';
  readonly canReadSync = true;
  /** The build that runs: a relaxed build whose relaxed gemm failed runs as the plain one ('simd', 'simd-shared'). */
  readonly build: BinaryName;
  /** What init() adds to info().notes about this backend's kernels (a relaxed gemm that fell back). */
  readonly notes: readonly string[];
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  readonly allocator: Allocator;
  private view: Float32Array;
  private readonly ws = new Workspace();
  /** 32 bytes for f32_fill_normal's generator state, allocated on first use and kept. */
  private rngState = 0;
  private disposed = false;

  protected constructor(binary: BinaryName, memory: WebAssembly.Memory, k: KernelExports, maxBytes: number, notes: readonly string[] = []) {
    this.build = binary;
    this.notes = notes;
    this.memory = memory;
    this.k = k;
    this.allocator = new Allocator(memory, k.heap_base(), maxBytes);
    this.view = new Float32Array(memory.buffer);
  }

  static async create(opts: WasmOptions): Promise<WasmBackend> {
    const { memory, exports, maxBytes, build, notes } = await WasmBackend.setup(opts);
    return new WasmBackend(build, memory, exports, maxBytes, notes);
  }

  /** The memory and the instantiated kernels; `build` is the one that runs (a relaxed build may fall back). */
  protected static async setup(opts: WasmOptions) {
    const { shared } = buildParts(opts.binary);
    const maxPages = Math.min(MAX_PAGES, Math.max(16, Math.floor(((opts.maxMemoryMB ?? 4096) * 1048576) / 65536)));
    const memory = new WebAssembly.Memory({ initial: 32, maximum: maxPages, shared } as WebAssembly.MemoryDescriptor);
    const { modules, note } = await compileBuild(opts.binary, opts.module, opts.gemmModule);
    const notes = note ? [note] : [];
    const exports = await instantiateKernels(modules, memory, (e) => {
      modules.gemm = null;
      notes.push(relaxedFallback('instantiate', e));
    });
    return { memory, exports, maxBytes: maxPages * 65536, modules, build: buildName(modules.gemm !== null, shared), notes };
  }

  /** A Float32Array over the whole memory, re-derived after the memory grew. */
  protected f32(): Float32Array {
    if (this.view.byteLength !== this.memory.buffer.byteLength) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  alloc(size: number): number {
    return this.allocator.alloc(size);
  }
  free(h: unknown): void {
    if (!this.disposed) this.allocator.free(h as number);
  }
  write(h: unknown, data: Float32Array, offset = 0): void {
    this.f32().set(data, ((h as number) >>> 2) + offset);
  }
  readSync(h: unknown, size: number): Float32Array {
    const start = (h as number) >>> 2;
    return this.f32().slice(start, start + size);
  }
  read(h: unknown, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(h, size));
  }

  gemm(g: GemmArgs): void {
    const { m, n, k, transA, transB } = g;
    checkCode('activation', g.act);
    if (m === 0 || n === 0) return;
    const ws = this.ws.ensure(this.allocator, this.k.f32_gemm_workspace(m, n, k));
    const fn = transA ? (transB ? this.k.f32_gemm_tt : this.k.f32_gemm_tn) : transB ? this.k.f32_gemm_nt : this.k.f32_gemm_nn;
    fn(m, n, k, g.a as number, transA ? m : k, g.b as number, transB ? k : n, g.c as number, n, (g.bias as number | null) ?? 0, g.act, g.alpha, g.beta, ws);
  }
  unary(op: number, n: number, x: unknown, y: unknown, alpha: number): void {
    checkCode('unary', op);
    if (n > 0) this.k.f32_unary(op, n, x as number, y as number, alpha);
  }
  unaryGrad(op: number, n: number, x: unknown, y: unknown, dy: unknown, dx: unknown, alpha: number): void {
    checkCode('unary', op);
    if (n > 0) this.k.f32_unary_grad(op, n, x as number, y as number, dy as number, dx as number, alpha);
  }
  binary(op: number, outer: number, rows: number, cols: number, a: unknown, as: Strides, b: unknown, bs: Strides, out: unknown): void {
    checkCode('binary', op);
    if (outer * rows * cols > 0)
      this.k.f32_binary(op, outer, rows, cols, a as number, as.s0, as.s1, as.s2, b as number, bs.s0, bs.s1, bs.s2, out as number);
  }
  reduce(op: number, outer: number, n: number, inner: number, x: unknown, out: unknown): void {
    checkCode('reduce', op);
    if (outer * inner > 0) this.k.f32_reduce(op, outer, n, inner, x as number, out as number);
  }
  softmax(rows: number, cols: number, x: unknown, y: unknown, log: boolean): void {
    if (rows * cols > 0) this.k.f32_softmax(rows, cols, x as number, y as number, log ? 1 : 0);
  }
  softmaxXent(rows: number, cols: number, logits: unknown, labels: unknown, mode: number, probs: unknown, loss: unknown): void {
    checkCode('label mode', mode);
    if (rows > 0) this.k.f32_softmax_xent(rows, cols, logits as number, labels as number, mode, probs as number, loss as number);
  }
  softmaxXentGrad(rows: number, cols: number, probs: unknown, labels: unknown, mode: number, dy: unknown, dlogits: unknown): void {
    checkCode('label mode', mode);
    if (rows * cols > 0) this.k.f32_softmax_xent_grad(rows, cols, probs as number, labels as number, mode, dy as number, dlogits as number);
  }
  transpose(rows: number, cols: number, x: unknown, y: unknown): void {
    if (rows * cols > 0) this.k.f32_transpose(rows, cols, x as number, y as number);
  }
  fill(n: number, y: unknown, value: number): void {
    if (n > 0) this.k.f32_fill(n, y as number, value);
  }
  copy(n: number, x: unknown, y: unknown): void {
    if (n > 0 && x !== y) this.k.f32_copy(n, x as number, y as number);
  }
  affine(n: number, x: unknown, y: unknown, alpha: number, beta: number): void {
    if (n > 0) this.k.f32_affine(n, x as number, y as number, alpha, beta);
  }
  axpy(n: number, alpha: number, x: unknown, y: unknown): void {
    if (n > 0) this.k.f32_axpy(n, alpha, x as number, y as number);
  }

  gatherRows(rows: number, cols: number, x: unknown, idx: unknown, y: unknown): void {
    if (rows * cols > 0) this.k.f32_gather_rows(rows, cols, x as number, idx as number, y as number);
  }
  dropout(n: number, x: unknown, y: unknown, mask: unknown, keep: number, seed: number, offset: number): void {
    if (n > 0) this.k.f32_dropout(n, x as number, y as number, mask as number, keep, seed | 0, offset | 0);
  }
  addNormal(n: number, y: unknown, std: number, seed: number, offset: number): void {
    if (n > 0) this.k.f32_add_normal(n, y as number, std, seed | 0, offset | 0);
  }
  /**
   * `hyper` is read by name (the op table's HYPER layouts); the kernels take the same scalars as arguments
   * in the table's order. Packed state (s2) is split here into pointers.
   */
  optimStep(kind: number, n: number, param: unknown, grad: unknown, s1: unknown, s2: unknown, h: readonly number[]): void {
    checkCode('optimizer', kind);
    if (n <= 0) return;
    const p = param as number, g = grad as number, a = (s1 as number | null) ?? 0, b = (s2 as number | null) ?? 0;
    switch (kind) {
      case Optim.sgd: {
        const H = HYPER.sgd;
        this.k.f32_sgd_step(n, p, g, a, h[H.lr], h[H.momentum], h[H.dampening], h[H.weightDecay], h[H.nesterov], h[H.first], h[H.l1], h[H.gscale]);
        return;
      }
      case Optim.adam: {
        // s2 = [v | max v]
        const H = HYPER.adam;
        const ams = h[H.amsgrad];
        this.k.f32_adam_step(n, p, g, a, b, ams ? b + n * 4 : 0, h[H.lr], h[H.beta1], h[H.beta2], h[H.eps], h[H.weightDecay], h[H.decoupled], h[H.bc1], h[H.bc2], h[H.l1], h[H.gscale], ams);
        return;
      }
      case Optim.rmsprop: {
        // s2 = [momentum buffer if momentum > 0 | gradient average if centered]
        const H = HYPER.rmsprop;
        const mu = h[H.momentum], centered = h[H.centered];
        this.k.f32_rmsprop_step(n, p, g, a, mu > 0 ? b : 0, centered ? b + (mu > 0 ? n * 4 : 0) : 0, h[H.lr], h[H.alpha], h[H.eps], h[H.weightDecay], mu, centered, h[H.l1], h[H.gscale]);
        return;
      }
      case Optim.adagrad: {
        const H = HYPER.adagrad;
        this.k.f32_adagrad_step(n, p, g, a, h[H.clr], h[H.eps], h[H.weightDecay], h[H.l1], h[H.gscale]);
        return;
      }
      default:
        throw new Error(`simdnn internal error: the wasm backend lacks the optimizer ${kind} of the op table`);
    }
  }

  qgemm(g: QGemmArgs): void {
    const { m, n, k } = g;
    if (g.act !== Unary.identity && g.act !== Unary.relu && g.act !== Unary.leakyRelu)
      throw new Error(`simdnn internal error: qgemm fuses identity, relu or leakyRelu, not unary code ${g.act}`);
    if (m === 0 || n === 0) return;
    const out = g.out === 'u7' ? 1 : 0;
    this.k.q8_gemm(m, n, k, g.a as number, g.lda, g.b as number, g.c as number, g.ldc, g.scale as number, g.bias as number, g.act, g.alpha, out ? g.outScale : 0, out ? g.outZero : 0, out);
  }
  qquantize(n: number, x: unknown, y: unknown, invScale: number, zero: number): void {
    if (n > 0) this.k.q8_quantize(n, x as number, y as number, invScale, zero);
  }

  fillNormal(n: number, y: unknown, mean: number, std: number, state: StreamState): void {
    if (n <= 0) return;
    if (!this.rngState) this.rngState = this.allocator.alloc(8);
    const p = this.rngState, buf = this.memory.buffer; // after the alloc, which may grow the memory
    const w = new Uint32Array(buf, p, 8);
    w[0] = state.a;
    w[1] = state.b;
    w[2] = state.c;
    w[3] = state.d;
    w[6] = state.hasSpare ? 1 : 0;
    new Float64Array(buf, p + 16, 1)[0] = state.spare;
    // In chunks: a wasm function runs its first calls in the baseline compiler, whose SIMD code is several
    // times slower, until the optimised code V8 compiles in the background is ready, and a call already
    // running never switches. One long call at start-up would run entirely on the slow code.
    for (let i = 0; i < n; i += FILL_CHUNK) this.k.f32_fill_normal(Math.min(FILL_CHUNK, n - i), (y as number) + i * 4, p, mean, std);
    state.a = w[0];
    state.b = w[1];
    state.c = w[2];
    state.d = w[3];
    state.spare = new Float64Array(buf, p + 16, 1)[0];
    state.hasSpare = w[6] !== 0;
  }

  stats(): BackendStats {
    return { allocatedBytes: this.allocator.allocatedBytes, reservedBytes: this.allocator.reservedBytes };
  }
  dispose(): void {
    this.disposed = true;
  }
}
