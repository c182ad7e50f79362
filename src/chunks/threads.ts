// The 'threads' part, loaded on first use (src/lazy.ts): the wasm-threads backend (tiling, dispatch,
// the worker pool and Comlink). Pages that cannot use threads (no cross-origin isolation) never fetch it.
import '../index.js'; // keeps the core in one shared chunk: see the build note in src/lazy.ts
export { WasmThreadsBackend } from '../backend/threads/backend.js';
