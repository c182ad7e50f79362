// Worker entry for the threads backend (dist/worker.js). Comlink sets the worker up — it receives the
// compiled kernel module and the runtime's shared WebAssembly.Memory and instantiates the kernels on
// it; kernel work itself is dispatched through a control block in shared memory, not messages.
import * as Comlink from 'comlink';
import { instantiateKernels } from '../wasm/backend.js';
import type { KernelExports } from '../wasm/exports.js';

let kernels: KernelExports | null = null;

const api = {
  async setup(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<number> {
    kernels = await instantiateKernels(module, memory);
    return kernels.heap_base();
  },
  ping(): string {
    return kernels ? 'ready' : 'idle';
  },
};
export type WorkerApi = typeof api;

async function endpoint(): Promise<Comlink.Endpoint> {
  const g = globalThis as any;
  if (typeof g.process?.versions?.node === 'string' && typeof g.Deno === 'undefined') {
    const name = ['node', 'worker_threads'].join(':');
    const { parentPort } = await import(/* @vite-ignore */ name);
    const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
    return nodeEndpoint(parentPort);
  }
  return g as Comlink.Endpoint;
}

endpoint().then((ep) => Comlink.expose(api, ep));
