// The 'kernels' part, loaded on first use (src/runtime/kernels.ts): the core kernel module's bytes,
// inlined, for runtimes that cannot read dist/kernels.wasm beside the bundle (browsers, edge runtimes,
// a bundle re-bundled without it).
export { default as core } from '../../../build/simdnn.simd.wasm';
