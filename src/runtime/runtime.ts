import type { UrlObject, WasmModule } from '../core/platform.js';
import { checkOptions } from '../core/validate.js';
import type { Backend, BackendName } from '../core/backend.js';
import { detectFeatures, detectRuntime, nodeBuiltin, type Features, type RuntimeName } from '../backend/features.js';
import { JsBackend } from '../backend/js/backend.js';
import { WasmBackend } from '../backend/wasm/backend.js';
import type { WasmThreadsBackend } from '../backend/threads/backend.js';
import { MAX_THREADS, POOL_START_MS } from '../backend/threads/control.js';
import type { WebGpuBackend } from '../backend/webgpu/backend.js';
import type { WebGpuStart } from '../backend/webgpu/device.js';
import type { GpuEntry } from '../backend/webgpu/entry.js';
import type { BinaryName } from '../backend/wasm/binaries.js';
import { engine } from '../core/engine.js';
import { loadThreads, loadWebGpu } from './lazy.js';
import './kernels.js'; // installs where the kernel modules' bytes come from

/**
 * The options of init(). PyTorch and Keras pick their device and thread count with `torch.device` /
 * `torch.set_num_threads` and `tf.config`; TF.js with `tf.setBackend`.
 */
export interface InitOptions {
  /**
   * Which backend to run. Default 'auto': the fastest that works here (wasm-threads, wasm, js; webgpu
   * only with `webgpu: true`), with the reasons in info().notes. PyTorch: `torch.device`; TF.js: `tf.setBackend`.
   */
  backend?: 'auto' | BackendName;
  /** Use relaxed SIMD (fused multiply-add) where the engine validates it. Default true. No PyTorch/Keras equivalent (a build choice there). */
  relaxedSimd?: boolean;
  /**
   * The kernel module precompiled (`simdnn/kernels.wasm`), for runtimes that forbid compiling wasm bytes
   * at run time (Cloudflare Workers hand it over when you import the file). Default: none (simdnn compiles
   * the kernels itself). No PyTorch/Keras equivalent; TF.js: `setWasmPaths`.
   */
  module?: WasmModule;
  /**
   * The relaxed-SIMD gemm module precompiled (`simdnn/kernels-relaxed-gemm.wasm`), beside `module`: used
   * where relaxed SIMD is on. Without it such a runtime compiles it from bytes, or, where that is
   * forbidden, runs the core's plain SIMD gemm (info().notes says so). Default: none. No PyTorch/Keras equivalent; TF.js: `setWasmPaths`.
   */
  gemmModule?: WasmModule;
  /** Upper bound of the wasm memory in MiB. Default 4096. No PyTorch/Keras equivalent (TF's `memory_limit` of a logical device is the nearest). */
  maxMemoryMB?: number;
  /**
   * Warn on the console when the finalizer has to free a tensor that was never disposed. Default false.
   * TF.js: `tf.enableDebugMode` (which checks more); no PyTorch/Keras equivalent (they are garbage-collected).
   */
  debug?: boolean;
  /**
   * Threads that run kernels on the wasm-threads backend, the calling thread included (an integer in
   * 1..64). Default: the number of cores, at most 8. PyTorch: `torch.set_num_threads`; TF: `tf.config.threading.set_intra_op_parallelism_threads`.
   */
  threads?: number;
  /**
   * Where the wasm-threads worker script is. Default: `worker.js` beside the bundle (dist/worker.js).
   * Needed only when a build setup moves it (README: Bundlers). TF.js: `setWasmPaths` for its threaded build.
   */
  workerUrl?: string | UrlObject;
  /**
   * The WebGPU entry point for backend 'webgpu' (and 'auto'), instead of navigator.gpu: in Node, the object
   * `create([])` returns from the npm 'webgpu' package (an optional peer dependency of simdnn). Default:
   * navigator.gpu. No PyTorch/Keras equivalent (`torch.device('cuda')` finds its driver itself).
   */
  gpu?: GpuEntry;
  /**
   * Whether 'auto' may pick WebGPU. Default false. true: use it whenever a device starts, on a software
   * (fallback) adapter too. It is opt-in because reads are asynchronous on webgpu: `await t.data()`
   * works, while dataSync(), predictClasses(), getWeights() and save() throw there. PyTorch: choosing
   * `torch.device('cuda')` when available.
   */
  webgpu?: boolean;
}

/** What info() and init() return: the backend that runs, and why. */
export interface Info {
  /** The backend that runs. */
  backend: BackendName;
  /** Where simdnn runs. */
  runtime: RuntimeName;
  /** What the engine offers (SIMD, relaxed SIMD, threads, WebGPU). */
  features: Features;
  /** The kernel build in use ('simd', 'relaxed', …), or null on the js backend. */
  binary: BinaryName | null;
  /**
   * Threads that run kernels (the calling thread included): 1 unless the backend is wasm-threads, whose
   * workers start in the background (the count includes them meanwhile; 1 once they could not start).
   */
  threads: number;
  /** Why each faster option was left out, and anything else worth knowing. */
  notes: string[];
}

const KNOWN: readonly string[] = ['auto', 'js', 'wasm', 'wasm-threads', 'webgpu'];
const OPTION_KEYS = new Set(['backend', 'relaxedSimd', 'module', 'gemmModule', 'maxMemoryMB', 'debug', 'threads', 'workerUrl', 'gpu', 'webgpu']);
/** Default thread count cap: beyond ~8 threads an MLP's kernels stop scaling and memory bandwidth rules. */
const DEFAULT_MAX_THREADS = 8;

/** Cores this runtime reports (navigator.hardwareConcurrency, or os.availableParallelism() in Node). */
async function coreCount(): Promise<number> {
  const g = globalThis as any;
  let n = typeof g.navigator?.hardwareConcurrency === 'number' ? g.navigator.hardwareConcurrency : 0;
  if (!n && detectRuntime() === 'node') {
    try {
      const os = await nodeBuiltin(['node', 'os'].join(':'));
      n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    } catch {
      n = 1;
    }
  }
  return Math.max(1, Math.floor(n) || 1);
}

/** Why threads cannot run here, with the fix. */
function threadsUnavailable(f: Features): string {
  if (!f.crossOriginIsolated)
    return 'the page is not cross-origin isolated, so SharedArrayBuffer is unavailable: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
  if (!f.sharedArrayBuffer) return 'this runtime has no SharedArrayBuffer';
  return 'this engine cannot create a shared WebAssembly.Memory';
}
let current: Info | null = null;

/**
 * Starts the webgpu backend, loading its code first (the 'webgpu' part, a file of its own in the build:
 * pages that never ask for WebGPU never fetch it). Never throws: a part that fails to load is a reason.
 */
async function startGpu(gpu: GpuEntry | undefined, acceptFallback: boolean, runtime: string): Promise<WebGpuStart> {
  let part;
  try {
    part = await loadWebGpu('init');
  } catch (e) {
    return { backend: null, reason: (e as Error).message.replace(/^init: /, ''), notes: [] };
  }
  return part.startWebGpu(gpu, acceptFallback, runtime);
}

/**
 * Starts the runtime on the best backend that works here (or the one asked for) and returns info().
 * With 'auto' it never fails: without SIMD it runs the js backend and says why. Calling init() again
 * replaces the backend; tensors of the old one can no longer be used.
 */
export async function init(options: InitOptions = {}): Promise<Info> {
  checkInitOptions(options);
  const want = options.backend ?? 'auto';
  // The threads part is likely needed: start loading it now (a file read or a fetch), so that it overlaps
  // the feature probes and the kernels' compile instead of following them. A failure shows when awaited.
  if ((want === 'auto' || want === 'wasm-threads') && options.threads !== 1 && typeof SharedArrayBuffer === 'function') loadThreads('init').catch(() => {});
  const notes: string[] = [];
  const s = new Start(options, notes, await detectFeatures(notes, options.relaxedSimd !== false));
  const chosen = want === 'auto' ? await s.auto() : await s.named(want);
  if (chosen instanceof WasmBackend) {
    // The build that runs: a relaxed build whose relaxed gemm module failed runs the plain SIMD gemm.
    s.binary = chosen.build;
    notes.push(...chosen.notes);
  }
  if (options.threads !== undefined && chosen.name !== 'wasm-threads') notes.push(`the threads option applies to wasm-threads only; the '${chosen.name}' backend runs on one thread`);
  if (!s.features.threads) notes.push(`wasm-threads is unavailable: ${threadsUnavailable(s.features)} to allow threads`);

  engine.backend?.dispose();
  engine.resetCounters();
  engine.backend = chosen;
  engine.debug = !!options.debug;
  current = { backend: chosen.name, runtime: s.runtime, features: s.features, binary: s.binary, threads: s.threads, notes };
  return info();
}

function checkInitOptions(options: InitOptions): void {
  checkOptions(options, [...OPTION_KEYS], 'init');
  const want = options.backend ?? 'auto';
  if (!KNOWN.includes(want))
    throw new RangeError(`init: unknown backend '${String(want)}'; use one of ${KNOWN.map((k) => `'${k}'`).join(', ')}.`);
  for (const key of ['module', 'gemmModule'] as const) {
    const m = options[key];
    if (m !== undefined && !(typeof WebAssembly === 'object' && m instanceof WebAssembly.Module)) {
      const file = key === 'module' ? 'kernels.wasm' : 'kernels-relaxed-gemm.wasm';
      const got = m === null ? 'null' : ArrayBuffer.isView(m) || m instanceof ArrayBuffer ? 'bytes' : typeof m;
      throw new TypeError(
        `init: ${key} must be a compiled WebAssembly.Module of simdnn's kernels, got ${got}. Import it from 'simdnn/${file}' where the platform ` +
          `compiles .wasm imports (Cloudflare Workers), or WebAssembly.compile its bytes; elsewhere leave it out: simdnn compiles the kernels itself.`,
      );
    }
  }
  if (options.gemmModule !== undefined && options.module === undefined)
    throw new TypeError("init: gemmModule goes with module (the core kernels, 'simdnn/kernels.wasm'); pass both, or neither.");
  if (options.maxMemoryMB !== undefined && (!Number.isFinite(options.maxMemoryMB) || options.maxMemoryMB < 1 || options.maxMemoryMB > 4096))
    throw new RangeError(`init: maxMemoryMB must be a number of MiB in 1..4096, got ${String(options.maxMemoryMB)}.`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > MAX_THREADS))
    throw new RangeError(`init: threads must be a positive integer (1..${MAX_THREADS}), got ${String(options.threads)}.`);
  if (options.workerUrl !== undefined && typeof options.workerUrl !== 'string' && !(options.workerUrl instanceof URL))
    throw new TypeError(`init: workerUrl must be a string or a URL, got ${typeof options.workerUrl}.`);
  if (options.gpu !== undefined && (typeof options.gpu !== 'object' || options.gpu === null || typeof (options.gpu as any).requestAdapter !== 'function'))
    throw new TypeError("init: gpu must be a GPU object (navigator.gpu, or create([]) from the npm 'webgpu' package in Node).");
  if (options.webgpu !== undefined && typeof options.webgpu !== 'boolean') throw new TypeError(`init: webgpu must be true or false, got ${typeof options.webgpu}.`);
}

/** One init(): what it found out, and how it starts each backend. Notes collect the reasons for info(). */
class Start {
  readonly runtime = detectRuntime();
  binary: BinaryName | null = null;
  threads = 1;
  private picked: BinaryName | null = null;

  constructor(
    private readonly o: InitOptions,
    private readonly notes: string[],
    readonly features: Features,
  ) {}

  /** The wasm kernel build: relaxed SIMD where the engine has it and the options allow. */
  private wasmBinary(): BinaryName {
    if (this.picked) return this.picked;
    if (this.o.relaxedSimd === false) this.notes.push('relaxed SIMD turned off by the relaxedSimd option');
    else if (!this.features.relaxedSimd) this.notes.push('relaxed SIMD is not available in this engine: using the plain SIMD kernels');
    return (this.picked = this.features.relaxedSimd && this.o.relaxedSimd !== false ? 'relaxed' : 'simd');
  }

  private get hasSimd(): boolean {
    return this.features.simd || !!this.o.module;
  }

  /** The backend asked for by name; a backend that cannot run here is an Error saying why and what to use. */
  async named(want: BackendName): Promise<Backend> {
    const o = this.o;
    switch (want) {
      case 'js':
        return new JsBackend();
      case 'wasm':
        if (!this.hasSimd) throw new Error("init: the wasm backend needs WebAssembly SIMD, which this engine does not support; use backend: 'auto' or 'js'.");
        return this.wasm();
      case 'wasm-threads': {
        if (!this.features.threads) throw new Error(`init: the 'wasm-threads' backend cannot run here: ${threadsUnavailable(this.features)}. Use backend: 'auto' or 'wasm' for one thread.`);
        if (!this.hasSimd) throw new Error("init: the wasm-threads backend needs WebAssembly SIMD, which this engine does not support; use backend: 'auto' or 'js'.");
        try {
          return await this.wasmThreads(await this.threadCount());
        } catch (e) {
          throw new Error(`init: ${(e as Error).message}`);
        }
      }
      case 'webgpu': {
        const r = await startGpu(o.gpu, true, this.runtime);
        if (!r.backend) throw new Error(`init: the 'webgpu' backend cannot start here: ${r.reason}. Use backend: 'auto' (it falls back to wasm) or 'wasm'.`);
        this.notes.push(...r.notes);
        return r.backend;
      }
    }
  }

  /**
   * auto: webgpu as the webgpu option says, then wasm-threads when it pays, then wasm, then js.
   * wasm-threads pays when threads are possible here and more than one core is there to run them: it
   * splits only work that measured faster split (gemm from ~1 MFLOP, transcendental ops from ~4k
   * elements, streaming ops from ~128k; see src/backend/threads/backend.ts), and runs smaller work on
   * the calling thread as the wasm backend does, so it loses no more than a check per call.
   */
  async auto(): Promise<Backend> {
    const { o, notes } = this;
    // WebGPU only when asked for: on it, reads are asynchronous, so the synchronous conveniences
    // (dataSync, predictClasses, getWeights, save) would throw in code written for the other backends.
    if (o.webgpu !== true) notes.push("webgpu: not tried (opt in with init({webgpu: true}) or backend: 'webgpu'; its reads are asynchronous)");
    else {
      const r = await startGpu(o.gpu, true, this.runtime);
      if (r.backend) {
        notes.push(...r.notes);
        return r.backend;
      }
      notes.push(`webgpu: not used: ${r.reason}`);
    }
    if (this.hasSimd && this.features.threads) {
      const n = await this.threadCount();
      if (n > 1) {
        try {
          return await this.wasmThreads(n);
        } catch (e) {
          notes.push(`wasm-threads failed to start (${(e as Error).message}): using single-thread wasm`);
          this.threads = 1;
        }
      } else notes.push(`wasm-threads: ${o.threads === 1 ? 'threads: 1 was asked for' : 'this runtime reports one core'}: using single-thread wasm`);
    }
    if (!this.hasSimd) {
      notes.push(typeof WebAssembly === 'object' ? 'WebAssembly SIMD is not supported here: using the js backend' : 'WebAssembly is not available here: using the js backend');
      return new JsBackend();
    }
    try {
      return await this.wasm();
    } catch (e) {
      notes.push(`wasm backend failed to start (${(e as Error).message}): using js`);
      this.binary = null;
      return new JsBackend();
    }
  }

  private async wasm(): Promise<Backend> {
    this.binary = this.wasmBinary();
    return WasmBackend.create({ binary: this.binary, module: this.o.module, gemmModule: this.o.gemmModule, maxMemoryMB: this.o.maxMemoryMB });
  }

  private cores = 0;
  /** Threads to run: the option, else one per core (only the threads backends need the core count). */
  private async threadCount(): Promise<number> {
    if (this.o.threads !== undefined) return this.o.threads;
    this.cores = await coreCount();
    return Math.min(DEFAULT_MAX_THREADS, this.cores);
  }

  private async wasmThreads(n: number): Promise<WasmThreadsBackend> {
    const shared: BinaryName = this.wasmBinary() === 'relaxed' ? 'relaxed-shared' : 'simd-shared';
    const { WasmThreadsBackend } = await loadThreads('init');
    const o = this.o;
    const b = await WasmThreadsBackend.create({ binary: shared, module: o.module, gemmModule: o.gemmModule, maxMemoryMB: o.maxMemoryMB, threads: n, workerUrl: o.workerUrl });
    this.binary = shared;
    this.threads = b.threads;
    this.notes.push(
      `wasm-threads: ${n} thread${n === 1 ? '' : 's'} run kernels (the calling thread and ${n - 1} worker${n === 2 ? '' : 's'})` +
        (o.threads !== undefined ? '' : `; by default one per core (${this.cores} reported), at most ${DEFAULT_MAX_THREADS}`),
    );
    if (this.runtime === 'browser')
      this.notes.push("wasm-threads on a page's main thread spins while workers finish (Atomics.wait is not allowed there): run training in a Worker to keep the page responsive");
    if (b.keepsProcessAlive)
      this.notes.push('wasm-threads: the worker script is not a file, so Deno runs web Workers, which keep the process alive once started (they have no unref()): call shutdown() when done');
    return b;
  }
}

/** What runs: the backend, the runtime, the detected features, and why anything was left out. */
export function info(): Info {
  if (!current) throw new Error('info: simdnn is not initialised: call `await init()` first.');
  const notes = current.notes.slice();
  let threads = current.threads;
  if (engine.backend?.name === 'wasm-threads') {
    // Where its workers stand now: they start after init() returns (src/backend/threads/backend.ts).
    const b = engine.backend as WasmThreadsBackend;
    if (b.pool === 'idle')
      notes.push(
        `wasm-threads: the workers start in the background once kernels large enough to split have run for ${POOL_START_MS} ms; ` +
          'until they are ready every kernel runs on the calling thread (a process that predicts a few rows never starts them)',
      );
    if (b.pool === 'starting') notes.push('wasm-threads: the workers are starting; kernels run on the calling thread until they are ready');
    if (b.startError) notes.push(`wasm-threads: ${b.startError}; kernels run on the calling thread only`);
    threads = b.activeThreads;
    if (b.failure) notes.push(`wasm-threads is unusable: ${b.failure}; call init() again`);
  }
  if (engine.backend?.name === 'webgpu' && (engine.backend as WebGpuBackend).isLost) notes.push('webgpu: the GPU device was lost; call init() again');
  return { ...current, features: { ...current.features }, threads, notes };
}

/** What memory() returns. */
export interface MemoryInfo {
  /** Tensors alive (not disposed and not yet reclaimed). */
  tensors: number;
  /** Bytes of tensor data alive (shared storage counted once). */
  bytes: number;
  /** Tensors the finalizer net freed because they were dropped without dispose(). */
  reclaimed: number;
  /** Bytes in use and reserved by the backend. */
  backend: { allocatedBytes: number; reservedBytes: number };
}

/** Live tensors and the backend's memory: what a leak check compares before and after (as tf.memory()). */
export function memory(): MemoryInfo {
  const b = engine.backend;
  return {
    tensors: engine.liveTensors,
    bytes: engine.liveBytes,
    reclaimed: engine.reclaimed,
    backend: b ? b.stats() : { allocatedBytes: 0, reservedBytes: 0 },
  };
}

/** Releases the backend and its memory. init() starts it again. */
export function shutdown(): void {
  engine.backend?.dispose();
  engine.backend = null;
  engine.resetCounters();
  current = null;
}

/** @internal Installs a backend directly (tests: the float64 js evaluator). */
export function useBackendForTests(b: Backend): void {
  engine.backend?.dispose();
  engine.resetCounters();
  engine.backend = b;
  current = { backend: b.name, runtime: detectRuntime(), features: { simd: false, relaxedSimd: false, threads: false, sharedArrayBuffer: false, crossOriginIsolated: false, webgpu: false }, binary: null, threads: 1, notes: ['installed by a test'] };
}
