// The 'gemm' part, loaded on first use (src/runtime/kernels.ts): the relaxed-SIMD gemm module's bytes,
// inlined, for runtimes that cannot read dist/kernels-relaxed-gemm.wasm beside the bundle.
export { default as relaxedGemm } from '../../../build/simdnn.relaxed-gemm.wasm';
