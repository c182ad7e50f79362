// The 'threads' part, loaded on first use (src/runtime/lazy.ts): the wasm-threads backend (tiling,
// dispatch, the worker pool and Comlink). Pages that cannot use threads (no cross-origin isolation) never fetch it.
export { WasmThreadsBackend } from '../../backend/threads/backend.js';
