import { checkOptions } from '../core/validate.js';
import type { Backend, BackendName } from '../core/backend.js';
import { detectFeatures, detectRuntime, nodeBuiltin, type Features, type RuntimeName } from '../backend/features.js';
import { JsBackend } from '../backend/js/backend.js';
import { WasmBackend } from '../backend/wasm/backend.js';
import type { WasmThreadsBackend } from '../backend/threads/backend.js';
import { MAX_THREADS } from '../backend/threads/control.js';
import type { WebGpuBackend } from '../backend/webgpu/backend.js';
import type { GpuEntry, WebGpuStart } from '../backend/webgpu/device.js';
import type { BinaryName } from '../backend/wasm/binaries.js';
import { engine } from '../core/engine.js';
import { loadThreads, loadWebGpu } from './lazy.js';

export interface InitOptions {
  /** Which backend to run: 'auto' (default) picks the fastest that works here. */
  backend?: 'auto' | BackendName;
  /** Use relaxed SIMD (fused multiply-add) where the engine validates it (default true). */
  relaxedSimd?: boolean;
  /** A precompiled kernel module, for runtimes that forbid compiling wasm bytes at run time. */
  module?: WebAssembly.Module;
  /** Upper bound of the wasm memory in MiB (default 4096). */
  maxMemoryMB?: number;
  /** Warn on the console when the finalizer has to free a tensor that was never disposed. */
  debug?: boolean;
  /**
   * Threads that run kernels on the wasm-threads backend, the calling thread included (an integer in
   * 1..64; default: the number of cores, at most 8).
   */
  threads?: number;
  /**
   * Where the wasm-threads worker script is (default: `worker.js` beside the bundle, i.e. dist/worker.js).
   * Needed only when a build setup moves it.
   */
  workerUrl?: string | URL;
  /**
   * The WebGPU entry point for backend 'webgpu' (and 'auto'), instead of navigator.gpu: in Node, the object
   * `create([])` returns from the npm 'webgpu' package (an optional peer dependency of simdnn).
   */
  gpu?: GpuEntry;
  /**
   * Whether 'auto' may pick WebGPU (default false). true: use it whenever a device starts, on a software
   * (fallback) adapter too. It is opt-in because reads are asynchronous on webgpu: `await t.data()`
   * works, while dataSync(), predictClasses(), getWeights() and save() throw there.
   */
  webgpu?: boolean;
}

export interface Info {
  /** The backend that runs. */
  backend: BackendName;
  runtime: RuntimeName;
  features: Features;
  /** The kernel build in use ('simd', 'relaxed', …), or null on the js backend. */
  binary: BinaryName | null;
  /** Threads that run kernels (the calling thread included): 1 unless the backend is wasm-threads. */
  threads: number;
  /** Why each faster option was left out, and anything else worth knowing. */
  notes: string[];
}

const KNOWN: readonly string[] = ['auto', 'js', 'wasm', 'wasm-threads', 'webgpu'];
const OPTION_KEYS = new Set(['backend', 'relaxedSimd', 'module', 'maxMemoryMB', 'debug', 'threads', 'workerUrl', 'gpu', 'webgpu']);
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
  checkOptions(options, [...OPTION_KEYS], 'init');
  const want = options.backend ?? 'auto';
  if (!KNOWN.includes(want))
    throw new RangeError(`init: unknown backend '${String(want)}'; use one of ${KNOWN.map((k) => `'${k}'`).join(', ')}.`);
  if (options.maxMemoryMB !== undefined && (!Number.isFinite(options.maxMemoryMB) || options.maxMemoryMB < 1 || options.maxMemoryMB > 4096))
    throw new RangeError(`init: maxMemoryMB must be a number of MiB in 1..4096, got ${String(options.maxMemoryMB)}.`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > MAX_THREADS))
    throw new RangeError(`init: threads must be a positive integer (1..${MAX_THREADS}), got ${String(options.threads)}.`);
  if (options.workerUrl !== undefined && typeof options.workerUrl !== 'string' && !(options.workerUrl instanceof URL))
    throw new TypeError(`init: workerUrl must be a string or a URL, got ${typeof options.workerUrl}.`);
  if (options.gpu !== undefined && (typeof options.gpu !== 'object' || options.gpu === null || typeof (options.gpu as any).requestAdapter !== 'function'))
    throw new TypeError("init: gpu must be a GPU object (navigator.gpu, or create([]) from the npm 'webgpu' package in Node).");
  if (options.webgpu !== undefined && typeof options.webgpu !== 'boolean') throw new TypeError(`init: webgpu must be true or false, got ${typeof options.webgpu}.`);

  const notes: string[] = [];
  const features = await detectFeatures(notes, options.relaxedSimd !== false);
  const runtime = detectRuntime();
  let chosen: Backend;
  let binary: BinaryName | null = null;
  let threads = 1;

  let picked: BinaryName | null = null;
  const wasmBinary = (): BinaryName => {
    if (picked) return picked;
    if (options.relaxedSimd === false) notes.push('relaxed SIMD turned off by the relaxedSimd option');
    else if (!features.relaxedSimd) notes.push('relaxed SIMD is not available in this engine: using the plain SIMD kernels');
    return (picked = features.relaxedSimd && options.relaxedSimd !== false ? 'relaxed' : 'simd');
  };

  // Only the threads backends (asked for, or tried by 'auto') need the core count.
  const cores = options.threads === undefined && (want === 'wasm-threads' || want === 'auto') ? await coreCount() : 1;
  const wantThreads = options.threads ?? Math.min(DEFAULT_MAX_THREADS, cores);
  const threadsBackend = async (n: number): Promise<WasmThreadsBackend> => {
    const shared: BinaryName = wasmBinary() === 'relaxed' ? 'relaxed-shared' : 'simd-shared';
    const { WasmThreadsBackend } = await loadThreads('init');
    const b = await WasmThreadsBackend.create({ binary: shared, module: options.module, maxMemoryMB: options.maxMemoryMB, threads: n, workerUrl: options.workerUrl });
    binary = shared;
    threads = b.threads;
    notes.push(
      `wasm-threads: ${n} thread${n === 1 ? '' : 's'} run kernels (the calling thread and ${n - 1} worker${n === 2 ? '' : 's'})` +
        (options.threads !== undefined ? '' : `; by default one per core (${cores} reported), at most ${DEFAULT_MAX_THREADS}`),
    );
    if (runtime === 'browser')
      notes.push("wasm-threads on a page's main thread spins while workers finish (Atomics.wait is not allowed there): run training in a Worker to keep the page responsive");
    if (b.keepsProcessAlive)
      notes.push('wasm-threads: the worker script is not a file, so Deno runs web Workers, which keep the process alive (they have no unref()): call shutdown() when done');
    return b;
  };

  if (want === 'js') {
    chosen = new JsBackend();
  } else if (want === 'wasm') {
    if (!features.simd && !options.module)
      throw new Error('init: the wasm backend needs WebAssembly SIMD, which this engine does not support; use backend: \'auto\' or \'js\'.');
    binary = wasmBinary();
    chosen = await WasmBackend.create({ binary, module: options.module, maxMemoryMB: options.maxMemoryMB });
  } else if (want === 'wasm-threads') {
    if (!features.threads) throw new Error(`init: the 'wasm-threads' backend cannot run here: ${threadsUnavailable(features)}. Use backend: 'auto' or 'wasm' for one thread.`);
    if (!features.simd && !options.module)
      throw new Error("init: the wasm-threads backend needs WebAssembly SIMD, which this engine does not support; use backend: 'auto' or 'js'.");
    try {
      chosen = await threadsBackend(wantThreads);
    } catch (e) {
      throw new Error(`init: ${(e as Error).message}`);
    }
  } else if (want === 'webgpu') {
    const r = await startGpu(options.gpu, true, runtime);
    if (!r.backend) throw new Error(`init: the 'webgpu' backend cannot start here: ${r.reason}. Use backend: 'auto' (it falls back to wasm) or 'wasm'.`);
    chosen = r.backend;
    notes.push(...r.notes);
  } else {
    // auto: webgpu as the webgpu option says, then wasm-threads when it pays, then wasm, then js.
    // wasm-threads pays when threads are possible here and more than one core is there to run them: it
    // splits only work that measured faster split (gemm from ~1 MFLOP, transcendental ops from ~4k
    // elements, streaming ops from ~128k; see src/backend/threads/backend.ts), and runs smaller work on
    // the calling thread as the wasm backend does, so it loses no more than a check per call.
    let started: Backend | null = null;
    // WebGPU only when asked for: on it, reads are asynchronous, so the synchronous conveniences
    // (dataSync, predictClasses, getWeights, save) would throw in code written for the other backends.
    if (options.webgpu !== true) notes.push("webgpu: not tried (opt in with init({webgpu: true}) or backend: 'webgpu'; its reads are asynchronous)");
    else {
      const r = await startGpu(options.gpu, options.webgpu === true, runtime);
      if (r.backend) {
        started = r.backend;
        notes.push(...r.notes);
      } else notes.push(`webgpu: not used: ${r.reason}`);
    }
    if (!started && (features.simd || options.module) && features.threads) {
      if (wantThreads > 1) {
        try {
          started = await threadsBackend(wantThreads);
        } catch (e) {
          notes.push(`wasm-threads failed to start (${(e as Error).message}): using single-thread wasm`);
          threads = 1;
        }
      } else {
        notes.push(`wasm-threads: ${options.threads === 1 ? 'threads: 1 was asked for' : 'this runtime reports one core'}: using single-thread wasm`);
      }
    }
    if (started) {
      chosen = started;
    } else if (features.simd || options.module) {
      binary = wasmBinary();
      try {
        chosen = await WasmBackend.create({ binary, module: options.module, maxMemoryMB: options.maxMemoryMB });
      } catch (e) {
        notes.push(`wasm backend failed to start (${(e as Error).message}): using js`);
        binary = null;
        chosen = new JsBackend();
      }
    } else {
      notes.push(typeof WebAssembly === 'object' ? 'WebAssembly SIMD is not supported here: using the js backend' : 'WebAssembly is not available here: using the js backend');
      chosen = new JsBackend();
    }
  }
  if (chosen instanceof WasmBackend) {
    // The build that runs: a relaxed build whose relaxed gemm module failed runs the plain SIMD gemm.
    binary = chosen.build;
    notes.push(...chosen.notes);
  }
  if (options.threads !== undefined && chosen.name !== 'wasm-threads') notes.push(`the threads option applies to wasm-threads only; the '${chosen.name}' backend runs on one thread`);
  if (!features.threads) notes.push(`wasm-threads is unavailable: ${threadsUnavailable(features)} to allow threads`);

  engine.backend?.dispose();
  engine.resetCounters();
  engine.backend = chosen;
  engine.debug = !!options.debug;
  current = { backend: chosen.name, runtime, features, binary, threads, notes };
  return info();
}

/** What runs: the backend, the runtime, the detected features, and why anything was left out. */
export function info(): Info {
  if (!current) throw new Error('info: simdnn is not initialised: call `await init()` first.');
  const notes = current.notes.slice();
  const failure = engine.backend?.name === 'wasm-threads' ? (engine.backend as WasmThreadsBackend).failure : null;
  if (failure) notes.push(`wasm-threads is unusable: ${failure}; call init() again`);
  if (engine.backend?.name === 'webgpu' && (engine.backend as WebGpuBackend).isLost) notes.push('webgpu: the GPU device was lost; call init() again');
  return { ...current, features: { ...current.features }, notes };
}

export interface MemoryInfo {
  /** Tensors alive (not disposed and not yet reclaimed). */
  tensors: number;
  /** Bytes of tensor data alive (shared storage counted once). */
  bytes: number;
  /** Tensors the finalizer net freed because they were dropped without dispose(). */
  reclaimed: number;
  backend: { allocatedBytes: number; reservedBytes: number };
}

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
