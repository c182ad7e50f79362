// The one WebGPU type of the public API (InitOptions.gpu), in a file of its own: the rest of the webgpu
// backend's declarations use the WebGPU types (GPUDevice, GPUBuffer, …) of @webgpu/types, a dev-only
// package, and the public declarations must not reach them (test/types.test.ts).

/**
 * What init({gpu}) takes: a WebGPU entry point (navigator.gpu, or in Node the object `create([])` returns
 * from the npm 'webgpu' package). Typed structurally so that users need no WebGPU type package.
 */
export interface GpuEntry {
  requestAdapter(options?: object): Promise<unknown>;
}
