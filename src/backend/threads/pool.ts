// Starting and stopping the workers: one module worker per extra thread, in Node and Deno
// (worker_threads) and browsers (Worker), set up through Comlink. Kernel work never goes through here
// (control.ts). The backend starts them in the background (backend.ts): nothing waits for them, and
// where the runtime allows it (worker_threads) neither they nor the timers here keep the process alive,
// so a process that is done exits even while they are still starting.
import * as Comlink from 'comlink';
// Static although only Node and Deno use it: a few hundred bytes of plain JS with no Node import, and a
// dynamic import() here would become a chunk of its own in the split build (scripts/build.mjs).
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { nodeBuiltin } from '../features.js';
import type { WorkerApi, WorkerSetup } from './worker.js';

const g = globalThis as any;
const isDeno = typeof g.Deno?.version?.deno === 'string';
const isNode = !isDeno && typeof g.process?.versions?.node === 'string';

/**
 * How long the workers may take, once created, to load their script and answer setup before none has:
 * then the script is taken not to be simdnn's worker. An unrelated file at the worker's URL (another
 * project's worker.js beside a bundle) loads fine and never answers, so only a timer ends that wait.
 * Measured on a 2-core machine busy with other work (load average 11–16): in Node the first answer came
 * after ~110 ms (median, 2 threads), and within 1.7 s with four extra busy loops, for 2, 8 or 64 threads;
 * a browser may also have to fetch the 9 KB script. 10 s is several times that; nothing waits for it
 * (kernels run on the calling thread meanwhile), and after it the backend stays on one thread and says
 * so in info().notes. Only the first answer is held to it: it
 * proves the script right. (Creating the workers is not timed: in Deno that alone took up to 43 s for
 * 64 workers under that load.)
 */
const HANDSHAKE_MS = 10_000;
/**
 * After the first worker answered (so the script is simdnn's), how long the others may still take: only
 * a busy machine delays them then (64 workers on 2 cores under the load above: all within 12.5 s).
 */
const REST_MS = 60_000;
/**
 * Deno's web Worker has no unref(): where simdnn has to use it (a worker script that is not a file:
 * URL), the workers keep the process alive. After this long without a kernel call it says so, once.
 */
const HINT_IDLE_MS = 5_000;

/** How a worker ended, as the pool learned it from the worker's events. */
export type Death = string;

export interface PoolWorker {
  api: Comlink.Remote<WorkerApi>;
  /** Stops the worker (releases the Comlink proxy, terminates the thread). */
  terminate(): void;
  /** Tests: ends the thread as a crash would (its death is reported through onDeath). */
  kill(): void;
  /** Whether this worker keeps the process alive until terminate() (a web Worker in Deno). */
  readonly keepsAlive: boolean;
}

export interface StartOptions {
  /** Called once if a worker reports an error or exits while it is still wanted; `answered`: after it had answered setup. */
  onDeath(why: Death, answered: boolean): void;
  /** Called with each worker as soon as it is created (so that it can be stopped before it answers). */
  onSpawn?(worker: PoolWorker): void;
  /** Tests: milliseconds to wait for the first answer instead of HANDSHAKE_MS. */
  handshakeMs?: number;
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
// Two letters at least, so that a Windows path (C:\…) reads as a path.
const hasScheme = (s: string) => /^[a-z][a-z0-9+.-]+:/i.test(s);

/** Where the workers come from (resolveUrl), checked: workerScript(). */
export interface WorkerScript {
  url: string | URL | undefined;
  href: string;
  /** Runs on node:worker_threads (a file, in Node or Deno), else as a web Worker. */
  file: boolean;
}

/**
 * Where the workers come from. Node and Deno: a file (path or file: URL) runs on node:worker_threads,
 * whose unref() lets a process that forgets shutdown() exit (Deno's web Worker has no unref()); a string
 * without a scheme is a path, as Node's Worker reads it. Anything else runs as a web Worker.
 */
function resolveUrl(url: string | URL | undefined): WorkerScript {
  if (!isNode && !isDeno) {
    let href = String(url ?? defaultWorkerUrl());
    try {
      href = new URL(href, g.location?.href).href;
    } catch {
      /* shown as given */
    }
    return { url, href, file: false };
  }
  const u = url === undefined ? defaultWorkerUrl() : typeof url === 'string' && !hasScheme(url) ? url : new URL(url);
  // In Node any URL goes to worker_threads too: its own error for one it cannot load is the clearest.
  return { url: u, href: String(u), file: isNode || typeof u === 'string' || u.protocol === 'file:' };
}

/** The fix, for every message about a worker script that did not start. */
const FIX =
  "copy simdnn's worker script (node_modules/simdnn/dist/worker.js, exported as 'simdnn/worker') beside your bundle, or pass its URL as " +
  'init({ workerUrl }); bundlers that follow new URL(..., import.meta.url) (Vite, webpack 5) copy it themselves, esbuild does not (README: Bundlers)';

interface Spawned {
  worker: PoolWorker;
  /** Resolves when the worker answered setup; rejects when it failed or exited first. */
  ready: Promise<unknown>;
}

/** Starts one worker and sends it setup without waiting for the answer. */
async function spawn(setup: WorkerSetup, where: WorkerScript, onDeath: (why: Death, answered: boolean) => void): Promise<Spawned> {
  let wanted = true, answered = false;
  let failed: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => {});
  const die = (why: string) => {
    failed(new Error(why));
    if (wanted) {
      wanted = false;
      onDeath(why, answered);
    }
  };
  let endpoint: Comlink.Endpoint;
  let stop: () => void;
  let unref = () => {};
  let keepsAlive = false;

  if (where.file) {
    const { Worker } = await nodeBuiltin(nodeName('worker_threads'));
    const w = new Worker(where.url);
    w.on('error', (e: Error) => die(`worker ${setup.id} failed: ${e?.message ?? e}`));
    w.on('exit', (code: number) => die(`worker ${setup.id} exited (code ${code})`));
    endpoint = nodeEndpoint(w);
    stop = () => void Promise.resolve(w.terminate()).catch(() => {});
    // A process that is done (or forgets shutdown()) must still exit, so the worker must not keep it
    // alive, from the start (nothing waits for it): unref'd once every listener is attached (adding the
    // first 'message' listener refs the worker's port again), i.e. after Comlink.wrap below.
    unref = () => w.unref();
  } else {
    if (typeof Worker !== 'function') throw new Error('this runtime has no Worker');
    const w = browserWorker(where.url);
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault?.();
      die(`worker ${setup.id} failed: ${e.message || `could not load the worker script ${where.href}`}; ${FIX}`);
    });
    w.addEventListener('messageerror', () => die(`worker ${setup.id}: a message could not be deserialised`));
    endpoint = w as unknown as Comlink.Endpoint;
    stop = () => w.terminate();
    keepsAlive = isDeno;
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
  const ready = Promise.race([api.setup(setup), failure]);
  ready.then(() => (answered = true), () => {}); // startWorkers reads it; a late rejection after a timeout is not unhandled
  unref();
  return { worker: { api, terminate, kill: () => stop(), keepsAlive }, ready };
}

/** Lets the process exit while a timer is pending (Node, Deno; a browser page has nothing to keep alive). */
function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  if (typeof g.Deno?.unrefTimer === 'function') g.Deno.unrefTimer(id);
  else (id as any)?.unref?.();
}

/**
 * Where the workers come from, checked before anything starts: throws, naming the fix, when the script
 * is a file that does not exist (a copy of the bundle without dist/worker.js, a wrong workerUrl).
 */
export async function workerScript(url: string | URL | undefined): Promise<WorkerScript> {
  const where = resolveUrl(url);
  if (where.file) {
    const { existsSync } = await nodeBuiltin(nodeName('fs'));
    const { fileURLToPath } = await nodeBuiltin(nodeName('url'));
    const u = where.url as string | URL;
    let exists = true;
    try {
      if (typeof u === 'string' || u.protocol === 'file:') exists = existsSync(typeof u === 'string' ? u : fileURLToPath(u));
    } catch {
      /* no read permission (Deno): the Worker reports it */
    }
    if (!exists) throw new Error(`the worker script ${where.href} does not exist (build it with \`npm run build\`, or ${FIX})`);
  }
  return where;
}

/** Whether workers from this script keep the process alive until they are terminated (web Workers in Deno). */
export function keepsProcessAlive(where: WorkerScript): boolean {
  return !where.file && isDeno;
}

/**
 * Starts one worker per setup (from a script workerScript() checked) and waits until each has answered;
 * rejects (never hangs) when a worker cannot load, fails, or none answers within HANDSHAKE_MS, and then
 * leaves none running. Neither the workers nor its timers keep the process alive.
 */
export async function startWorkers(setups: WorkerSetup[], where: WorkerScript, opts: StartOptions): Promise<PoolWorker[]> {
  const spawned: Spawned[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (const s of setups) {
      const one = await spawn(s, where, opts.onDeath);
      spawned.push(one);
      opts.onSpawn?.(one.worker);
    }
    const handshakeMs = opts.handshakeMs ?? HANDSHAKE_MS;
    await new Promise<void>((resolve, reject) => {
      let left = spawned.length;
      const arm = (ms: number, why: () => string) => {
        clearTimeout(timer);
        timer = setTimeout(() => reject(new Error(why())), ms);
        unrefTimer(timer);
      };
      arm(handshakeMs, () =>
        `the worker script ${where.href} did not answer within ${handshakeMs / 1000} s, so it is not simdnn's worker (or it could not load): ${FIX}`);
      for (const s of spawned)
        s.ready.then(() => {
          if (left === spawned.length) arm(REST_MS, () => `${left} of ${spawned.length} workers of ${where.href} did not answer within ${REST_MS / 1000} s after the first one did: is the machine overloaded?`);
          if (--left === 0) resolve();
        }, reject);
      if (left === 0) resolve();
    });
  } catch (e) {
    for (const s of spawned) s.worker.terminate();
    const msg = (e as Error)?.message ?? String(e);
    // A worker that failed to load or crashed: name the script too, unless the message does.
    throw new Error(msg.includes(where.href) ? msg : `${msg} (worker script ${where.href}; if that is not simdnn's worker, ${FIX})`);
  } finally {
    clearTimeout(timer);
  }
  return spawned.map((s) => s.worker);
}

/**
 * For workers that keep the process alive (keepsAlive): prints one line on stderr once no kernel ran
 * for HINT_IDLE_MS (`calls` counts kernel calls), so that a script that forgot shutdown() does not hang
 * without a word. Returns the function that cancels it (shutdown()).
 */
export function keepAliveHint(workers: number, calls: () => number): () => void {
  let last = calls(), since = Date.now();
  const id = setInterval(() => {
    const n = calls();
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= HINT_IDLE_MS) {
      clearInterval(id);
      console.error(`simdnn: ${workers} worker thread${workers === 1 ? '' : 's'} keep${workers === 1 ? 's' : ''} this process alive; call shutdown() when done`);
    }
  }, 1000);
  // The timer itself must not be what keeps the process alive.
  unrefTimer(id);
  return () => clearInterval(id);
}
