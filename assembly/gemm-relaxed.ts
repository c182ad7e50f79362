// The relaxed-gemm module: the products alone, built with relaxed SIMD (gemm: f32x4.relaxed_madd,
// MR = 6, see gemm.ts; the int8 q8_gemm: i16x8.relaxed_dot_i8x16_i7x16_s, see qgemm.ts), instantiated
// next to the core module (index.ts, plain SIMD) on the same memory. The loader takes these six exports
// from it and everything else from the core (ABI.md).
//
// It is built with GEMM_IMPORTS_UNARY defined (asconfig.json), so gemm's activation epilogue calls
// the core's f32_unary through the import env.f32_unary instead of carrying a second copy of the
// activations. Its code then reaches no static data: the module has no data segments (a data segment
// would be written again at every instantiation, into memory the core or the allocator owns) and no
// heap_base of its own (the core's covers both).
export { f32_gemm_workspace, f32_gemm_nn, f32_gemm_nt, f32_gemm_tn, f32_gemm_tt } from './gemm';
export { q8_gemm } from './qgemm';
