import type { Backend, BackendName } from './backend/backend.js';
import { detectFeatures, detectRuntime, type Features, type RuntimeName } from './backend/features.js';
import { JsBackend } from './backend/js/backend.js';
import { WasmBackend } from './backend/wasm/backend.js';
import type { BinaryName } from './backend/wasm/binaries.js';
import { engine } from './engine.js';
import { Tensor } from './tensor.js';

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
}

export interface Info {
  /** The backend that runs. */
  backend: BackendName;
  runtime: RuntimeName;
  features: Features;
  /** The kernel build in use ('simd', 'relaxed', …), or null on the js backend. */
  binary: BinaryName | null;
  /** Why each faster option was left out, and anything else worth knowing. */
  notes: string[];
}

const KNOWN: readonly string[] = ['auto', 'js', 'wasm', 'wasm-threads', 'webgpu'];
const OPTION_KEYS = new Set(['backend', 'relaxedSimd', 'module', 'maxMemoryMB', 'debug']);
let current: Info | null = null;

/**
 * Starts the runtime on the best backend that works here (or the one asked for) and returns info().
 * With 'auto' it never fails: without SIMD it runs the js backend and says why. Calling init() again
 * replaces the backend; tensors of the old one can no longer be used.
 */
export async function init(options: InitOptions = {}): Promise<Info> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`init: options must be an object, got ${options === null ? 'null' : typeof options}.`);
  for (const k of Object.keys(options))
    if (!OPTION_KEYS.has(k)) throw new TypeError(`init: unknown option '${k}'; known options: ${[...OPTION_KEYS].join(', ')}.`);
  const want = options.backend ?? 'auto';
  if (!KNOWN.includes(want))
    throw new RangeError(`init: unknown backend '${String(want)}'; use one of ${KNOWN.map((k) => `'${k}'`).join(', ')}.`);
  if (options.maxMemoryMB !== undefined && (!Number.isFinite(options.maxMemoryMB) || options.maxMemoryMB < 1 || options.maxMemoryMB > 4096))
    throw new RangeError(`init: maxMemoryMB must be a number of MiB in 1..4096, got ${String(options.maxMemoryMB)}.`);

  const notes: string[] = [];
  const features = await detectFeatures(notes, options.relaxedSimd !== false);
  const runtime = detectRuntime();
  let chosen: Backend;
  let binary: BinaryName | null = null;

  const wasmBinary = (): BinaryName => {
    if (options.relaxedSimd === false) notes.push('relaxed SIMD turned off by the relaxedSimd option');
    else if (!features.relaxedSimd) notes.push('relaxed SIMD is not available in this engine: using the plain SIMD kernels');
    return features.relaxedSimd && options.relaxedSimd !== false ? 'relaxed' : 'simd';
  };

  if (want === 'js') {
    chosen = new JsBackend();
  } else if (want === 'wasm') {
    if (!features.simd && !options.module)
      throw new Error('init: the wasm backend needs WebAssembly SIMD, which this engine does not support; use backend: \'auto\' or \'js\'.');
    binary = wasmBinary();
    chosen = await WasmBackend.create({ binary, module: options.module, maxMemoryMB: options.maxMemoryMB });
  } else if (want === 'wasm-threads' || want === 'webgpu') {
    throw new Error(`init: the '${want}' backend is not available in this version of simdnn; use 'wasm' or 'auto'.`);
  } else {
    // auto: webgpu only when asked (later), then wasm, then js.
    if (features.simd || options.module) {
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
    notes.push("wasm-threads: not available in this version; single-thread wasm is used");
  }
  if (!features.threads) {
    if (!features.sharedArrayBuffer) notes.push('no SharedArrayBuffer: threads are impossible here');
    else if (!features.crossOriginIsolated)
      notes.push('the page is not cross-origin isolated: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp to allow threads');
  }

  engine.backend?.dispose();
  engine.resetCounters();
  engine.backend = chosen;
  engine.debug = !!options.debug;
  current = { backend: chosen.name, runtime, features, binary, notes };
  return info();
}

/** What runs: the backend, the runtime, the detected features, and why anything was left out. */
export function info(): Info {
  if (!current) throw new Error('info: simdnn is not initialised: call `await init()` first.');
  return { ...current, features: { ...current.features }, notes: current.notes.slice() };
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

type TensorContainer = Tensor | TensorContainer[] | { [k: string]: TensorContainer } | unknown;

function collect(v: TensorContainer, out: Set<Tensor>, depth = 0): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth < 8 && v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, out, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor it created except those it returns (a tensor, or tensors inside
 * arrays or plain objects). fn must be synchronous: an async function would escape the scope.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`tidy: expects a function, got ${typeof fn}.`);
  const scope: Tensor[] = [];
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  engine.scopes.pop();
  if (result && typeof (result as any).then === 'function') {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy: fn returned a Promise; tidy() only works with synchronous functions (dispose tensors yourself in async code).');
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of scope) {
    if (keep.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/** Takes a tensor out of the enclosing tidy() scopes so it survives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of engine.scopes) {
    const i = s.indexOf(t);
    if (i >= 0) s.splice(i, 1);
  }
  return t;
}

/** Disposes every tensor in a tensor, array or object of tensors. */
export function dispose(v: TensorContainer): void {
  const s = new Set<Tensor>();
  collect(v, s);
  for (const t of s) t.dispose();
}

/** @internal Installs a backend directly (tests: the float64 js evaluator). */
export function useBackendForTests(b: Backend): void {
  engine.backend?.dispose();
  engine.resetCounters();
  engine.backend = b;
  current = { backend: b.name, runtime: detectRuntime(), features: { simd: false, relaxedSimd: false, threads: false, sharedArrayBuffer: false, crossOriginIsolated: false, webgpu: false }, binary: null, notes: ['installed by a test'] };
}
