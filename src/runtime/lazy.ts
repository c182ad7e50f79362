// The optional parts of simdnn that a page loads only when it uses them. In the build (scripts/build.mjs,
// esbuild with code splitting) each dynamic import() below becomes a file of its own beside
// dist/index.js, named after its entry in src/runtime/parts/ (webgpu-<hash>.js, csv-<hash>.js, …);
// dist/chunks.json lists which files each part needs. A plain `init(); mlp(); fit(); predict()` never
// fetches them. Only the runtime and the public API load parts: nothing below them imports this file
// (test/architecture.test.ts).
//
// The build keeps the core in one shared chunk (a plugin in scripts/build.mjs makes every part reach
// the whole core, so esbuild does not split the core by which part uses what).
import type * as CsvChunk from './parts/csv.js';
import type * as GemmChunk from './parts/gemm.js';
import type * as KernelsChunk from './parts/kernels.js';
import type * as StorageChunk from './parts/storage.js';
import type * as ThreadsChunk from './parts/threads.js';
import type * as WebGpuChunk from './parts/webgpu.js';

/**
 * A loader for one optional part: imports it once and shares the module. A failed load is not kept,
 * so a later call tries again (after a network error, say); its error names the function that needed
 * the part, the part, and the likely cause.
 */
function lazy<T>(part: string, load: () => Promise<T>): (op: string) => Promise<T> {
  let pending: Promise<T> | null = null;
  return (op) => {
    const p = (pending ??= load());
    return p.catch((e: unknown) => {
      if (pending === p) pending = null;
      throw chunkError(op, part, e);
    });
  };
}

function chunkError(op: string, part: string, e: unknown): Error {
  const why = e instanceof Error ? e.message : String(e);
  return new Error(
    `${op}: could not load simdnn's '${part}' part (${why}). simdnn loads it on first use from a file beside its main bundle ` +
      `(dist/${part}-<hash>.js next to dist/index.js; dist/chunks.json lists the files). Most likely dist/index.js was copied, ` +
      `served or re-bundled without the other dist/*.js files: ship the whole dist/ folder (or let your bundler follow simdnn's ` +
      `dynamic import()), or the file could not be fetched (offline, or a cache that holds an older build).`,
    { cause: e },
  );
}

/** WebGPU: the backend, its WGSL kernels and device start-up (init with backend 'webgpu' or webgpu: true). */
export const loadWebGpu: (op: string) => Promise<typeof WebGpuChunk> = lazy('webgpu', () => import('./parts/webgpu.js'));

/** Reading CSV into a Dataset: loading, parsing, cleaning, encoding (data.readCsv). */
export const loadCsv: (op: string) => Promise<typeof CsvChunk> = lazy('csv', () => import('./parts/csv.js'));

/** Files, URLs and IndexedDB (writeFileAtomic, readFileBytes, fetchBytes, idb*, load, saveFile, …IndexedDB). */
export const loadStorage: (op: string) => Promise<typeof StorageChunk> = lazy('storage', () => import('./parts/storage.js'));

/** The wasm-threads backend: tiling, dispatch, the worker pool (init with backend 'wasm-threads', or 'auto' where threads pay). */
export const loadThreads: (op: string) => Promise<typeof ThreadsChunk> = lazy('threads', () => import('./parts/threads.js'));

/**
 * The kernel modules' bytes, inlined (src/runtime/kernels.ts: where dist/*.wasm cannot be read). They are
 * listed with the core in dist/chunks.json: every page that runs the wasm backends loads them at init().
 */
export const loadKernels: (op: string) => Promise<typeof KernelsChunk> = lazy('kernels', () => import('./parts/kernels.js'));
export const loadGemm: (op: string) => Promise<typeof GemmChunk> = lazy('gemm', () => import('./parts/gemm.js'));
