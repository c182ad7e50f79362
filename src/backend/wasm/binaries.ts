// The four builds of assembly/ (see asconfig.json), inlined into the bundle.
import simd from '../../../build/simdnn.simd.wasm';
import simdShared from '../../../build/simdnn.simd-shared.wasm';
import relaxed from '../../../build/simdnn.relaxed.wasm';
import relaxedShared from '../../../build/simdnn.relaxed-shared.wasm';

export type BinaryName = 'simd' | 'simd-shared' | 'relaxed' | 'relaxed-shared';

export const binaries: Record<BinaryName, Uint8Array<ArrayBuffer>> = {
  simd,
  'simd-shared': simdShared,
  relaxed,
  'relaxed-shared': relaxedShared,
};

/** Largest memory the kernel modules declare (4 GiB, the wasm32 limit), in 64 KiB pages. */
export const MAX_PAGES = 65536;
