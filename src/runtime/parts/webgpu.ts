// The 'webgpu' part, loaded on first use (src/runtime/lazy.ts): the WebGPU backend and its device start-up.
export { startWebGpu } from '../../backend/webgpu/device.js';
