// The kernel modules of assembly/ (see asconfig.json and assembly/ABI.md):
//   core          every export, gemm included (plain SIMD, MR = 5)
//   relaxed-gemm  gemm alone with relaxed SIMD (f32x4.relaxed_madd, MR = 6); instantiated after the
//                 core on the same memory, it replaces the core's five gemm exports and q8_gemm
// Their bytes come from the source the runtime installs (setModuleSource; src/runtime/kernels.ts): the
// .wasm files beside the bundle where the runtime can read them, else the copies inlined in the bundle.
// The shared-memory variant of a module (for the threads backend) is derived from the same bytes (patch.ts).
import { withSharedMemory } from './patch.js';

/**
 * A kernel build as the runtime names it (info().binary): 'simd' is the core module; 'relaxed' the core
 * with the relaxed-SIMD gemm; '-shared' the same on a shared memory (wasm-threads).
 */
export type BinaryName = 'simd' | 'simd-shared' | 'relaxed' | 'relaxed-shared';

/** One of the two modules that builds are made of. */
export type ModuleName = 'core' | 'relaxed-gemm';

/**
 * The file each module ships as, in dist/ beside the bundle and in the package (`simdnn/kernels.wasm`,
 * `simdnn/kernels-relaxed-gemm.wasm`): scripts/build.mjs copies build/*.wasm there under these names.
 */
export const MODULE_FILES: Readonly<Record<ModuleName, string>> = { core: 'kernels.wasm', 'relaxed-gemm': 'kernels-relaxed-gemm.wasm' };

/** Gives a module's plain bytes (a fresh array the caller may keep; nobody writes to it). */
export type ModuleSource = (name: ModuleName) => Promise<Uint8Array<ArrayBuffer>>;

let source: ModuleSource | null = null;
const plain = new Map<ModuleName, Promise<Uint8Array<ArrayBuffer>>>();
const sharedCopies = new Map<ModuleName, Promise<Uint8Array<ArrayBuffer>>>();

/** Where the bytes come from (the runtime sets it when it loads: src/runtime/kernels.ts). */
export function setModuleSource(s: ModuleSource): void {
  source = s;
}

/**
 * A module's bytes, loaded once (the same array each call: do not write to it); `shared`: with a shared
 * memory import. A failed load is not kept: a later call tries again.
 */
export function moduleBytes(name: ModuleName, shared = false): Promise<Uint8Array<ArrayBuffer>> {
  const cache = shared ? sharedCopies : plain;
  let p = cache.get(name);
  if (!p) {
    if (shared) p = moduleBytes(name).then(withSharedMemory);
    else if (source) p = source(name);
    else return Promise.reject(new Error("simdnn internal error: no source for the kernel modules' bytes (src/runtime/kernels.ts sets it when the runtime loads)"));
    const q = p;
    cache.set(name, q);
    q.catch(() => cache.get(name) === q && cache.delete(name));
  }
  return p;
}

/** What a build is made of: the core on a shared memory or not, and whether the relaxed gemm replaces the core's. */
export function buildParts(binary: BinaryName): { shared: boolean; relaxed: boolean } {
  return { shared: binary.endsWith('-shared'), relaxed: binary.startsWith('relaxed') };
}

/** The build made of these parts. */
export function buildName(relaxed: boolean, shared: boolean): BinaryName {
  return `${relaxed ? 'relaxed' : 'simd'}${shared ? '-shared' : ''}` as BinaryName;
}

/** Largest memory the kernel modules declare (4 GiB, the wasm32 limit), in 64 KiB pages. */
export const MAX_PAGES = 65536;
