// Starting and stopping the workers: one module worker per extra thread, in Node (worker_threads),
// Deno and browsers alike, set up through Comlink. Kernel work never goes through here (control.ts).
import * as Comlink from 'comlink';
// Static although only Node uses it: a few hundred bytes of plain JS with no Node import, and a dynamic
// import() here would become a chunk of its own in the split build (scripts/build.mjs).
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { nodeBuiltin } from '../features.js';
import type { WorkerApi, WorkerSetup } from './worker.js';

const g = globalThis as any;
const isNode = typeof g.process?.versions?.node === 'string' && typeof g.Deno === 'undefined';

/** How a worker ended, as the pool learned it from the worker's events. */
export type Death = string;

export interface PoolWorker {
  api: Comlink.Remote<WorkerApi>;
  /** Stops the worker (releases the Comlink proxy, terminates the thread). */
  terminate(): void;
  /** Tests: ends the thread as a crash would (its death is reported through onDeath). */
  kill(): void;
}

export interface SpawnOptions {
  /** The worker script (dist/worker.js); default: next to the bundle that holds this code. */
  url?: string | URL;
  /** Called once if the worker reports an error or exits while it is still wanted. */
  onDeath(why: Death): void;
  /** Milliseconds to wait for a worker to load and answer setup. */
  timeoutMs: number;
}

/**
 * The worker script: `new URL('./worker.js', import.meta.url)`, which in the bundle (dist/index.js)
 * points at dist/worker.js. Bundlers (webpack 5, Vite, Parcel, esbuild with the right plugin) recognise
 * the `new Worker(new URL('./worker.js', import.meta.url), …)` form in browserWorker() below and ship
 * the worker along; give `workerUrl` to init() when a setup moves it elsewhere.
 */
export function defaultWorkerUrl(): URL {
  return new URL('./worker.js', import.meta.url);
}

function browserWorker(url: string | URL | undefined): Worker {
  // Keep this literal form: it is what bundlers look for.
  if (url === undefined) return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Worker(url, { type: 'module' });
}

const nodeName = (m: string) => ['node', m].join(':'); // so web bundlers don't try to resolve it

/** Starts one worker and runs its Comlink setup; rejects (never hangs) when it cannot load. */
export async function spawnWorker(setup: WorkerSetup, opts: SpawnOptions): Promise<PoolWorker> {
  let wanted = true;
  let failed: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => {});
  const die = (why: string) => {
    failed(new Error(why));
    if (wanted) {
      wanted = false;
      opts.onDeath(why);
    }
  };
  let endpoint: Comlink.Endpoint;
  let stop: () => void;
  let unref = () => {};

  if (isNode) {
    const url = opts.url === undefined ? defaultWorkerUrl() : typeof opts.url === 'string' && !/^[a-z]+:/i.test(opts.url) ? opts.url : new URL(opts.url);
    if (url instanceof URL && url.protocol === 'file:') {
      const { existsSync } = await nodeBuiltin(nodeName('fs'));
      const { fileURLToPath } = await nodeBuiltin(nodeName('url'));
      if (!existsSync(fileURLToPath(url))) throw new Error(`the worker script ${url.href} does not exist (build it with \`npm run build\`, or pass init's workerUrl)`);
    }
    const { Worker } = await nodeBuiltin(nodeName('worker_threads'));
    const w = new Worker(url);
    w.on('error', (e: Error) => die(`worker ${setup.id} failed: ${e?.message ?? e}`));
    w.on('exit', (code: number) => die(`worker ${setup.id} exited (code ${code})`));
    endpoint = nodeEndpoint(w);
    stop = () => void w.terminate().catch(() => {});
    // A process that forgets shutdown() must still exit, so the worker must not keep it alive — but
    // only once it is set up (a pending `await init()` must keep the process alive), and only after
    // every listener is attached (adding the first 'message' listener refs the worker's port again).
    unref = () => w.unref();
  } else {
    if (typeof Worker !== 'function') throw new Error('this runtime has no Worker');
    const w = browserWorker(opts.url);
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault?.();
      die(`worker ${setup.id} failed: ${e.message || 'could not load the worker script (see the console)'}`);
    });
    w.addEventListener('messageerror', () => die(`worker ${setup.id}: a message could not be deserialised`));
    endpoint = w as unknown as Comlink.Endpoint;
    stop = () => w.terminate();
  }

  const api = Comlink.wrap<WorkerApi>(endpoint);
  const terminate = () => {
    wanted = false;
    try {
      api[Comlink.releaseProxy]();
    } catch {
      /* already released */
    }
    stop();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`worker ${setup.id} did not answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  });
  try {
    await Promise.race([api.setup(setup), failure, timeout]);
  } catch (e) {
    terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  unref();
  return { api, terminate, kill: () => stop() };
}
