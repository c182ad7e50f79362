// The kernel modules of assembly/ (see asconfig.json and assembly/ABI.md), inlined into the bundle:
//   core          every export, gemm included (plain SIMD, MR = 5)
//   relaxed-gemm  gemm alone with relaxed SIMD (f32x4.relaxed_madd, MR = 6); instantiated after the
//                 core on the same memory, it replaces the core's five gemm exports and q8_gemm
// Each is decoded from the bundle the first time it is needed (src/wasm.d.ts), and its shared-memory
// variant (for the threads backend) is derived from the same bytes (patch.ts).
import coreBytes from '../../../build/simdnn.simd.wasm';
import relaxedGemmBytes from '../../../build/simdnn.relaxed-gemm.wasm';
import { withSharedMemory } from './patch.js';

/**
 * A kernel build as the runtime names it (info().binary): 'simd' is the core module; 'relaxed' the core
 * with the relaxed-SIMD gemm; '-shared' the same on a shared memory (wasm-threads).
 */
export type BinaryName = 'simd' | 'simd-shared' | 'relaxed' | 'relaxed-shared';

/** One of the two modules that builds are made of. */
export type ModuleName = 'core' | 'relaxed-gemm';

const decoders: Record<ModuleName, () => Uint8Array<ArrayBuffer>> = { core: coreBytes, 'relaxed-gemm': relaxedGemmBytes };
const sharedCopies = new Map<ModuleName, Uint8Array<ArrayBuffer>>();

/** A module's bytes (decoded on first use; the same array each call: do not write to it); `shared`: with a shared memory import. */
export function moduleBytes(name: ModuleName, shared = false): Uint8Array<ArrayBuffer> {
  if (!shared) return decoders[name]();
  let b = sharedCopies.get(name);
  if (!b) sharedCopies.set(name, (b = withSharedMemory(decoders[name]())));
  return b;
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
