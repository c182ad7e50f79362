import { moduleBytes } from './wasm/binaries.js';

export type RuntimeName = 'node' | 'deno' | 'browser' | 'worker' | 'unknown';

export interface Features {
  /** WebAssembly with 128-bit SIMD validates here. */
  simd: boolean;
  /** Relaxed SIMD (fused multiply-add) validates here. */
  relaxedSimd: boolean;
  /** SharedArrayBuffer and shared WebAssembly.Memory can be used (threads are possible). */
  threads: boolean;
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
    const v8 = await import(/* @vite-ignore */ /* webpackIgnore: true */ name);
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(moduleBytes('relaxed-gemm'))) notes.push('relaxed SIMD enabled in Node through the V8 flag --experimental-wasm-relaxed-simd');
  } catch {
    /* no node:v8: leave relaxed SIMD off */
  }
}

export async function detectFeatures(notes: string[], tryRelaxed: boolean): Promise<Features> {
  const hasWasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const simd = hasWasm && WebAssembly.validate(moduleBytes('core'));
  let relaxedSimd = false;
  if (simd && tryRelaxed) {
    relaxedSimd = WebAssembly.validate(moduleBytes('relaxed-gemm'));
    if (!relaxedSimd) {
      await enableRelaxedSimdInNode(notes);
      relaxedSimd = WebAssembly.validate(moduleBytes('relaxed-gemm'));
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
