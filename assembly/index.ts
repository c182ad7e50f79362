// The export table of the kernel module (see ABI.md). Every export is a pure function of
// (sizes, pointers); the JS side owns the memory and the allocator.
export * from './gemm';
export * from './unary';
export * from './binary';
export * from './reduce';
export * from './loss';
export * from './misc';
export * from './train';
export * from './optim';
export * from './random';
export * from './qgemm';

/** First byte above the module's static data: the JS allocator starts here. */
export function heap_base(): usize {
  return __heap_base;
}
