/** Where simdnn runs. */
export type RuntimeName = 'node' | 'deno' | 'browser' | 'worker' | 'unknown';

/** What the engine offers, as info().features reports it. */
export interface Features {
  /** WebAssembly with 128-bit SIMD validates here. */
  simd: boolean;
  /** Relaxed SIMD (fused multiply-add) validates here. */
  relaxedSimd: boolean;
  /** SharedArrayBuffer and shared WebAssembly.Memory can be used (threads are possible). */
  threads: boolean;
  /** SharedArrayBuffer exists (threads need it). */
  sharedArrayBuffer: boolean;
  /** The page is cross-origin isolated (always true outside browsers). */
  crossOriginIsolated: boolean;
  /** navigator.gpu exists. */
  webgpu: boolean;
}

const g = globalThis as any;

export function detectRuntime(): RuntimeName {
  if (typeof g.Deno?.version?.deno === 'string') return 'deno';
  if (typeof g.process?.versions?.node === 'string') return 'node';
  if (typeof g.window === 'object' && typeof g.document === 'object') return 'browser';
  if (typeof g.WorkerGlobalScope === 'function' && g instanceof g.WorkerGlobalScope) return 'worker';
  return 'unknown';
}

// Feature probes: one function each, a few dozen bytes. Validating them costs microseconds, where
// validating the kernel modules themselves (~120 KB) cost milliseconds at every start, and needed them
// decoded first. A probe that validates and a module that then fails to compile is still handled: the
// relaxed gemm falls back to the core's (backend.ts, compileBuild), and 'auto' falls back to js.
const v128Const = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
/** A module of one function () -> v128 whose body is `body` (under 128 bytes). */
function probe(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, body, end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: function 0 has type 0
    0x0a, code.length + 2, 0x01, code.length, ...code, // code section: one body
  ]);
}
/** 128-bit SIMD: v128.const, v128.const, i32x4.add (0xfd 0xae). */
export const SIMD_PROBE = probe([...v128Const, ...v128Const, 0xfd, 0xae, 0x01]);
/** Relaxed SIMD: three v128.const, f32x4.relaxed_madd (0xfd 0x105), the op the relaxed gemm is built on. */
export const RELAXED_SIMD_PROBE = probe([...v128Const, ...v128Const, ...v128Const, 0xfd, 0x85, 0x02]);

/**
 * A Node built-in module ('node:os', …): from process.getBuiltinModule (Node ≥ 20.16 and 22.3, Deno)
 * where it exists, synchronously, else by import(). The import() costs a few milliseconds at start-up
 * (the ESM loader wraps the module on first use; in a fresh worker thread, 5-10 ms), which is why.
 * The name is built by callers at run time so that web bundlers don't try to resolve it.
 */
export async function nodeBuiltin<T = any>(name: string): Promise<T> {
  const get = g.process?.getBuiltinModule;
  if (typeof get === 'function') {
    const m = get.call(g.process, name);
    if (m) return m as T;
  }
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name) as Promise<T>;
}

let relaxedFlagTried = false;

/**
 * Node 20's V8 has relaxed SIMD behind a flag; it is on by default in Chromium, Deno and Node ≥ 22.
 * Setting the flag only enables validation of the relaxed opcodes for modules compiled afterwards.
 * The module name is built at run time so that web bundlers don't try to resolve it.
 */
async function enableRelaxedSimdInNode(notes: string[]): Promise<void> {
  if (relaxedFlagTried || detectRuntime() !== 'node') return;
  relaxedFlagTried = true;
  try {
    const name = ['node', 'v8'].join(':');
    const v8 = await nodeBuiltin(name);
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(RELAXED_SIMD_PROBE)) notes.push('relaxed SIMD enabled in Node through the V8 flag --experimental-wasm-relaxed-simd');
  } catch {
    /* no node:v8: leave relaxed SIMD off */
  }
}

export async function detectFeatures(notes: string[], tryRelaxed: boolean): Promise<Features> {
  const hasWasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const simd = hasWasm && WebAssembly.validate(SIMD_PROBE);
  let relaxedSimd = false;
  if (simd && tryRelaxed) {
    relaxedSimd = WebAssembly.validate(RELAXED_SIMD_PROBE);
    if (!relaxedSimd) {
      await enableRelaxedSimdInNode(notes);
      relaxedSimd = WebAssembly.validate(RELAXED_SIMD_PROBE);
    }
  }
  const sharedArrayBuffer = typeof SharedArrayBuffer === 'function';
  const crossOriginIsolated = g.crossOriginIsolated === undefined ? true : g.crossOriginIsolated === true;
  let threads = false;
  if (sharedArrayBuffer && crossOriginIsolated && hasWasm) {
    try {
      new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
      threads = true;
    } catch {
      threads = false;
    }
  }
  const webgpu = typeof g.navigator === 'object' && g.navigator !== null && 'gpu' in g.navigator && !!g.navigator.gpu;
  return { simd, relaxedSimd, threads, sharedArrayBuffer, crossOriginIsolated, webgpu };
}
