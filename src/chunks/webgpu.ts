// The 'webgpu' part, loaded on first use (src/lazy.ts): the WebGPU backend and its device start-up.
import '../index.js'; // keeps the core in one shared chunk: see the build note in src/lazy.ts
export { startWebGpu } from '../backend/webgpu/device.js';
