import { WebGpuBackend } from './backend.js';
import type { GpuEntry } from './entry.js';

export type { GpuEntry } from './entry.js';

/** Limits the kernels rely on (all at or below WebGPU's defaults, so any conforming adapter has them). */
const NEEDED: Record<string, number> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 16,
  maxComputeWorkgroupStorageSize: 4096,
  maxStorageBuffersPerShaderStage: 4,
  maxBindGroups: 1,
};

/**
 * Every GPU entry point startWebGpu was given, held for the life of the process. Dawn's Node binding (npm
 * `webgpu` 0.6.2, dawn.node) frees its Dawn instance when the JS object `create()` returned is collected,
 * but the adapters, devices, queues and buffers made from it share a helper that pumps the instance's
 * events (setImmediate → Instance::ProcessEvents) through a raw pointer to that instance; once the object
 * is collected the next pump reads freed memory: SIGSEGV, `pthread_mutex_lock: Assertion ... failed`,
 * `The futex facility returned an unexpected error code`, or a hang. A caller who writes
 * init({gpu: create([])}) keeps no reference, and collecting the device together with it is not safe
 * either (the order of native finalizers is not fixed). Holding the entry point is cheap (one Dawn
 * instance, ~0.1 MiB after the first) and does not keep Node from exiting. test/runtime/dawn-gpu-lifetime.mjs
 * shows the defect with the `webgpu` package alone. navigator.gpu is a global anyway.
 */
const entryPoints = new Set<object>();


export interface WebGpuStart {
  backend: WebGpuBackend | null;
  /** Why it did not start (null when it did). */
  reason: string | null;
  /** Lines for info().notes when it started. */
  notes: string[];
}

/**
 * Starts the webgpu backend on `gpu` (a GPU object: navigator.gpu, or in Node the object the npm `webgpu`
 * package's create([]) returns). A software adapter (SwiftShader, llvmpipe) is refused unless
 * `acceptFallback`. Never throws: a failure comes back as a reason.
 */
export async function startWebGpu(gpu: GpuEntry | undefined, acceptFallback: boolean, runtime: string): Promise<WebGpuStart> {
  const g = (gpu ?? (globalThis as any).navigator?.gpu) as GPU | undefined;
  const fail = (reason: string): WebGpuStart => ({ backend: null, reason, notes: [] });
  if (!g || typeof g.requestAdapter !== 'function') {
    if (gpu !== undefined) return fail('the gpu option is not a GPU object (it has no requestAdapter())');
    return fail(
      runtime === 'node'
        ? "Node has no navigator.gpu: pass a GPU object, e.g. init({backend: 'webgpu', gpu: create([])}) with create from the npm 'webgpu' package"
        : 'navigator.gpu is missing (no WebGPU in this runtime, or it is turned off)',
    );
  }
  entryPoints.add(g); // before the first call into it: requestAdapter already goes through Dawn's event pump
  let adapter: GPUAdapter | null;
  try {
    adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return fail(`requestAdapter() failed: ${(e as Error)?.message ?? e}`);
  }
  if (!adapter) return fail('no WebGPU adapter is available (no usable GPU driver, or WebGPU is blocked here)');
  const info = (adapter as any).info ?? {};
  const fallback = !!(info.isFallbackAdapter ?? (adapter as any).isFallbackAdapter);
  const name = [info.vendor, info.architecture, info.description].filter((s) => typeof s === 'string' && s).join(' ') || 'unnamed adapter';
  if (fallback && !acceptFallback)
    return fail(`the only adapter is a software (fallback) adapter (${name}), slower than wasm; init({webgpu: true}) or backend: 'webgpu' uses it anyway`);
  for (const [k, v] of Object.entries(NEEDED)) {
    const have = (adapter.limits as any)[k];
    if (typeof have === 'number' && have < v) return fail(`the adapter (${name}) lacks a needed limit: ${k} is ${have}, the kernels need ${v}`);
  }
  let backend: WebGpuBackend;
  try {
    backend = await WebGpuBackend.create({ adapter });
  } catch (e) {
    return fail(`the device did not start: ${(e as Error)?.message ?? e}`);
  }
  const c = backend.counters;
  return {
    backend,
    reason: null,
    notes: [`webgpu: adapter ${name}${fallback ? ' (software fallback adapter)' : ''}; ${c.pipelines} pipelines compiled in ${Math.round(c.compileMs)} ms`],
  };
}
