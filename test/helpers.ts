import type { Backend } from '../src/core/backend.js';
import { JsBackend } from '../src/backend/js/backend.js';
import { HYPER, OPTIM, type OptimName } from '../src/core/optable.js';
import { WasmBackend } from '../src/backend/wasm/backend.js';
import { detectFeatures } from '../src/backend/features.js';
import type { BinaryName } from '../src/backend/wasm/binaries.js';
import { WasmThreadsBackend } from '../src/backend/threads/backend.js';
import { startWebGpu, type GpuEntry } from '../src/backend/webgpu/device.js';
// Where the kernel modules' bytes come from: init() has it installed; the backends made here directly need it too.
import '../src/runtime/kernels.js';

/** float32 machine epsilon (2^-23). */
export const EPS = 2 ** -23;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo = -1, hi = 1) => lo + (hi - lo) * next(),
    int: (n: number) => Math.floor(next() * n),
    array(n: number, lo = -1, hi = 1) {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * next();
      return x;
    },
  };
}

/** The sizes at SIMD tile edges the conformance suite walks through. */
export const EDGE_SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 127, 129];

export interface Candidate {
  name: string;
  make(): Promise<Backend>;
}

/**
 * Every backend to check against the js oracle, webgpu included where an adapter exists: the suites that
 * take them read results with `await backend.read(...)`, so the asynchronous backend runs the same tests.
 */
export async function candidates(): Promise<Candidate[]> {
  const f = await detectFeatures([], true);
  const list: Candidate[] = [];
  const wasm = (binary: BinaryName): Candidate => ({ name: `wasm(${binary})`, make: () => WasmBackend.create({ binary }) });
  if (f.simd) list.push(wasm('simd'));
  if (f.relaxedSimd) list.push(wasm('relaxed'));
  if (f.simd && f.threads) {
    list.push(wasm('simd-shared'));
    // 'fine' grain: every op with more than a few elements is split into tiles, at every thread count
    // (1 included), so the tile functions meet every tile edge; 3 threads oversubscribe this 2-core box.
    const binary: BinaryName = f.relaxedSimd ? 'relaxed-shared' : 'simd-shared';
    for (const threads of [1, 2, 3])
      list.push({
        name: `wasm-threads(${threads}, ${binary})`,
        make: async () => {
          const b = await WasmThreadsBackend.create({ binary, threads, grain: 'fine', workerUrl: await threadsWorkerUrl() });
          await b.startWorkers(); // now, not after its first 20 ms of work: every call is then split over the threads
          return b;
        },
      });
  }
  const { gpu } = await testGpu();
  if (gpu)
    list.push({
      name: 'webgpu',
      make: async () => {
        const r = await startWebGpu(gpu, true, 'node');
        if (!r.backend) throw new Error(`webgpu did not start: ${r.reason}`);
        return r.backend;
      },
    });
  return list;
}

/** An optimizer's `hyper` array from its named fields (the op table's layout), as the optimizers build it. */
export function hyper<K extends OptimName>(kind: K, fields: { readonly [F in (typeof OPTIM)[K]['hyper'][number]]: number }): number[] {
  const h = new Array<number>(OPTIM[kind].hyper.length).fill(NaN);
  const at = HYPER[kind] as Record<string, number>;
  for (const [f, v] of Object.entries(fields)) h[at[f]] = v as number;
  return h;
}

let gpuProbe: Promise<{ gpu: GpuEntry | null; reason: string }> | null = null;

/**
 * A WebGPU entry point for tests, with the reason when there is none: navigator.gpu where the runtime has
 * one, else (Node) `create()` from the npm 'webgpu' package (Dawn), which finds SwiftShader's Vulkan driver
 * through the environment vitest.config.ts sets up. Only an adapter that exists counts.
 *
 * Dawn's zero-initialisation of workgroup memory is turned off: SwiftShader compiles it one element at a
 * time (~5 s per kernel with a 1024-float tile), and the kernels never read workgroup memory they did not
 * write first (kernels.ts), so it changes no result. Browsers get the same switch on the command line
 * (test/runtime/browser.mjs).
 */
export function testGpu(): Promise<{ gpu: GpuEntry | null; reason: string }> {
  gpuProbe ??= (async () => {
    let gpu: GpuEntry | null = (globalThis as any).navigator?.gpu ?? null;
    if (!gpu) {
      try {
        const { create } = await import('webgpu');
        gpu = create(['enable-dawn-features=disable_workgroup_init']) as GpuEntry;
      } catch (e) {
        return { gpu: null, reason: `the npm 'webgpu' package does not load: ${(e as Error).message.split('\n')[0]}` };
      }
    }
    try {
      const adapter = await gpu.requestAdapter();
      if (!adapter) return { gpu: null, reason: 'no WebGPU adapter (is VK_ICD_FILENAMES set to a Vulkan driver, e.g. chromium\'s SwiftShader?)' };
    } catch (e) {
      return { gpu: null, reason: `requestAdapter() failed: ${(e as Error).message}` };
    }
    return { gpu, reason: '' };
  })();
  return gpuProbe;
}

/**
 * init() options that start `backend` under test: wasm-threads gets 2 threads, the worker built from the
 * sources and 'fine' tiles, so even the small tensors of the API and training tests are split over threads.
 */
export async function initOptions(backend: 'js' | 'wasm' | 'wasm-threads'): Promise<{ backend: typeof backend; threads?: number; workerUrl?: URL }> {
  if (backend !== 'wasm-threads') return { backend };
  WasmThreadsBackend.grainForTests = 'fine';
  WasmThreadsBackend.startAtOnceForTests = true; // every call split from the first: runs compared bit for bit never mix whole and tiled calls
  return { backend, threads: 2, workerUrl: await threadsWorkerUrl() };
}

/** Whether this runtime can run the wasm-threads backend (SharedArrayBuffer and shared wasm memory). */
export async function threadsAvailable(): Promise<boolean> {
  const f = await detectFeatures([], true);
  return f.simd && f.threads;
}

let workerUrl: Promise<URL> | null = null;

/**
 * The threads backend's worker script for tests that run from src/: the sources' worker.ts bundled the
 * way scripts/build.mjs bundles dist/worker.js, into .tmp/ under a content hash (so parallel test files
 * share one file and a stale dist/ never runs). Pass it as `workerUrl` to init() or the backend.
 */
export function threadsWorkerUrl(): Promise<URL> {
  workerUrl ??= (async () => {
    const [{ build }, fs, { createHash }, { fileURLToPath }, { wasmInline }] = await Promise.all([
      import('esbuild'), import('node:fs'), import('node:crypto'), import('node:url'), import('../scripts/wasm-inline.mjs'),
    ]);
    const root = new URL('../', import.meta.url);
    const out = await build({
      entryPoints: [fileURLToPath(new URL('src/backend/threads/worker.ts', root))],
      bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', plugins: [wasmInline()], charset: 'utf8',
      external: ['node:*'], mainFields: ['module', 'main'], write: false, logLevel: 'warning',
    });
    const code = out.outputFiles[0].contents;
    const dir = new URL('.tmp/test-worker/', root);
    fs.mkdirSync(dir, { recursive: true });
    const file = new URL(`worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`, dir);
    if (!fs.existsSync(file)) {
      const tmp = new URL(`${file.pathname.split('/').pop()}.${process.pid}.tmp`, dir);
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, file); // atomic: a parallel test file sees the whole script or none
    }
    return file;
  })();
  return workerUrl;
}

export const oracle = () => new JsBackend();

/** Uploads data to a backend, returning the handle. */
export function put(b: Backend, data: Float32Array | number[]): unknown {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  const h = b.alloc(arr.length);
  b.write(h, arr);
  return h;
}

export function ulp(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (!Number.isFinite(a)) return 0;
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * Compares got with want elementwise. tol(i) gives the allowed absolute error at i; NaN must match NaN and
 * infinities must match exactly. Returns a description of the first mismatches, or '' when they agree.
 */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, limit = 3): string {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < limit; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g) || !Number.isFinite(w) || !Number.isFinite(g)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w)) && !(g === w)) bad.push(`[${i}] got ${g}, want ${w}`);
      continue;
    }
    const t = tol(i);
    if (!(Math.abs(g - w) <= t)) bad.push(`[${i}] got ${g}, want ${w} (|diff| ${Math.abs(g - w).toExponential(2)} > tol ${t.toExponential(2)})`);
  }
  return bad.join('; ');
}
