// Worker entry for the threads backend (dist/worker.js). Comlink sets the worker up — it receives the
// compiled kernel modules (the core and, in a relaxed build, the relaxed gemm), the runtime's shared
// WebAssembly.Memory and where the control block is, and instantiates the kernels on that memory.
// After setup the worker leaves Comlink alone: it loops on the control block (control.ts), blocked in
// Atomics.wait or briefly spinning, and runs the tiles it claims by calling the wasm exports with the
// numbers it reads there. Its event loop is free again only after the main thread asks it to stop
// (SHUTDOWN), so the main thread ends it with terminate().
import * as Comlink from 'comlink';
import { nodeBuiltin } from '../features.js';
import { instantiateKernels } from '../wasm/backend.js';
import { Control, DEAD, DONE, GEN, READY, SHUTDOWN, SLEEPERS } from './control.js';

export interface WorkerSetup {
  /** The core kernel module, compiled for a shared memory. */
  module: WebAssembly.Module;
  /** The relaxed gemm module whose exports replace the core's gemm, or null (the main thread's choice). */
  gemmModule: WebAssembly.Module | null;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  control: number;
  /** This worker's thread id (1…n−1; the calling thread is 0). */
  id: number;
  /** How long to spin on the generation word after a job before sleeping in Atomics.wait. */
  spinMicros: number;
}

const g = globalThis as any;
const isNode = typeof g.process?.versions?.node === 'string' && typeof g.Deno === 'undefined';
const now = typeof g.performance?.now === 'function' ? () => g.performance.now() : () => Date.now();

let control: Control | null = null;
let running = false;

/** Test faults (WasmThreadsBackend._testFault): −1 ends this thread mid-job, −2 never finishes the tile. */
function fault(id: number, op: number): void {
  if (op === -1) {
    if (isNode) g.process.exit(70); // the 'exit' hook marks the worker dead
    markDead(id);
    g.close?.();
    throw new Error('simdnn test fault: worker exits');
  }
  // Blocks forever without burning a core; terminate() still ends it.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** Waits for the next generation and runs its tiles, until SHUTDOWN. */
function loop(ctl: Control, id: number, spinMicros: number): void {
  const c = ctl.i32;
  const onFault = (op: number) => fault(id, op);
  let seen = Atomics.load(c, GEN);
  // Counted in shared memory, not by the setup answer: a calling thread busy with kernels sees it at its
  // next call without returning to its event loop (the answer waits for that).
  Atomics.add(c, READY, 1);
  ctl.runClaimed(id, onFault); // a job may have started before this loop did
  const spinMs = spinMicros / 1000;
  for (;;) {
    let gen = Atomics.load(c, GEN);
    if (gen === seen) {
      // Spin first: in a training step the next kernel usually follows within microseconds, and a
      // futex wake-up costs tens of them. Then sleep until the main thread bumps GEN.
      const until = now() + spinMs;
      let i = 0;
      while ((gen = Atomics.load(c, GEN)) === seen) {
        if ((++i & 127) === 0 && now() > until) {
          Atomics.add(c, SLEEPERS, 1);
          Atomics.wait(c, GEN, seen);
          Atomics.sub(c, SLEEPERS, 1);
        }
      }
    }
    seen = gen;
    if (Atomics.load(c, SHUTDOWN)) return;
    ctl.runClaimed(id, onFault);
  }
}

/** Marks this worker dead in the control block and wakes the main thread (which then throws). */
function markDead(id: number): void {
  if (!control) return;
  Atomics.compareExchange(control.i32, DEAD, 0, id + 1);
  Atomics.notify(control.i32, DONE);
}

const api = {
  async setup(s: WorkerSetup): Promise<number> {
    if (running) throw new Error('simdnn internal error: worker set up twice');
    const kernels = await instantiateKernels({ core: s.module, gemm: s.gemmModule }, s.memory);
    const ctl = new Control(s.memory, s.control, kernels);
    control = ctl;
    running = true;
    // A worker thread that exits (process.exit in Node, an uncaught error) says so through the control
    // block: the main thread may be blocked in a wait and cannot see the 'exit' event then.
    if (isNode) g.process.on('exit', () => markDead(s.id));
    // Start looping after this call's reply has been posted (the loop blocks this event loop).
    setTimeout(() => {
      try {
        loop(ctl, s.id, s.spinMicros);
      } catch (e) {
        ctl.recordError(s.id, e);
        markDead(s.id);
        throw e;
      } finally {
        running = false;
      }
    }, 0);
    return kernels.heap_base();
  },
  ping(): string {
    return running ? 'running' : control ? 'stopped' : 'idle';
  },
};
export type WorkerApi = typeof api;

async function endpoint(): Promise<Comlink.Endpoint> {
  // A worker_threads worker (Node; Deno when the script is a file, see pool.ts) talks through parentPort,
  // a web Worker through its global scope. In Deno both exist, and only parentPort says which this is.
  if (typeof g.process?.versions?.node === 'string') {
    const name = ['node', 'worker_threads'].join(':');
    const { parentPort } = await nodeBuiltin(name);
    if (parentPort) {
      const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
      return nodeEndpoint(parentPort);
    }
  }
  return g as Comlink.Endpoint;
}

endpoint().then((ep) => Comlink.expose(api, ep));
