import type { Backend } from './backend/backend.js';
import type { Tensor } from './tensor.js';

/** The storage behind one or more tensors (reshape shares it). Freed when the last tensor lets go. */
export interface Storage {
  handle: unknown;
  /** Elements. */
  size: number;
  backend: Backend;
  refs: number;
}

interface Held {
  storage: Storage;
  /** The tensor's id and shape, for the leak warning (its text is only built if a leak happens). */
  id: number;
  shape: readonly number[];
  /** The autograd node the tensor produced, released with it (see autograd/graph.ts). */
  owner: { release(): void } | null;
}

/**
 * Process-wide state: the active backend, the tidy scopes, the live-tensor counters, and the
 * finalizer net that frees tensors that were dropped without dispose().
 */
export type { Held };

export class Engine {
  backend: Backend | null = null;
  debug = false;
  /** False inside noGrad() and while backward() runs: ops record no graph. */
  gradEnabled = true;
  scopes: Tensor[][] = [];
  liveTensors = 0;
  liveStorages = 0;
  liveBytes = 0;
  /** Tensors the finalizer net reclaimed (they were never disposed). */
  reclaimed = 0;
  private nextId = 1;
  private readonly registry =
    typeof FinalizationRegistry === 'function'
      ? new FinalizationRegistry<Held>((held) => this.finalize(held))
      : null;

  requireBackend(): Backend {
    if (!this.backend)
      throw new Error('simdnn is not initialised: call `await init()` first (it picks the fastest backend that works here).');
    return this.backend;
  }

  newId(): number {
    return this.nextId++;
  }

  newStorage(size: number): Storage {
    const backend = this.requireBackend();
    const handle = backend.alloc(size);
    this.liveStorages++;
    this.liveBytes += size * 4;
    return { handle, size, backend, refs: 0 };
  }

  /** Called by the Tensor constructor; returns the finalizer record (the graph node hooks into it). */
  track(t: Tensor, storage: Storage, scoped: boolean): Held {
    storage.refs++;
    this.liveTensors++;
    const held: Held = { storage, id: t.id, shape: t.shape, owner: null };
    this.registry?.register(t, held, t);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope && scoped) scope.push(t);
    return held;
  }

  /** Called once per tensor by dispose(). */
  untrack(t: Tensor, storage: Storage): void {
    this.registry?.unregister(t);
    if (storage.backend !== this.backend) return; // counted by a backend that init() replaced
    this.liveTensors--;
    this.release(storage);
  }

  private release(storage: Storage): void {
    if (--storage.refs > 0) return;
    this.liveStorages--;
    this.liveBytes -= storage.size * 4;
    // Storage of a backend that init() replaced died with that backend.
    if (storage.backend === this.backend) storage.backend.free(storage.handle);
  }

  private finalize(held: Held): void {
    if (held.storage.backend !== this.backend) return;
    this.reclaimed++;
    this.liveTensors--;
    held.owner?.release();
    if (this.debug)
      console.warn(`simdnn: a tensor #${held.id} [${held.shape.join(', ')}] was garbage-collected without dispose(); the finalizer freed it. Use tidy() or dispose().`);
    this.release(held.storage);
  }

  /** Forgets every tensor of the old backend (they now throw a clear error when used). */
  resetCounters(): void {
    this.liveTensors = 0;
    this.liveStorages = 0;
    this.liveBytes = 0;
    this.scopes = [];
  }
}

export const engine = new Engine();
