import type { Backend } from './backend.js';
import type { Tensor } from './tensor.js';

/** The storage behind one or more tensors (reshape shares it). Freed when the last tensor lets go. */
export interface Storage {
  handle: unknown;
  /** Elements. */
  size: number;
  backend: Backend;
  refs: number;
  /** The recorded program's memory this storage came from (released there, not to the backend), or null. */
  arena: StorageArena | null;
}

/** Where a recorded program keeps its memory (src/core/program.ts): released storage goes back to it. */
export interface StorageArena {
  bind(storage: Storage): void;
  release(storage: Storage): void;
}

/**
 * Where dense ops send the parts of their weight gradients while a private training step runs backward
 * (src/train/privacy.ts): x [rows, in] and dz [rows, out], the gradient at the layer's pre-activation.
 * The sink then forms per-sample norms from them and the clipped sums, instead of the op summing the
 * rows itself.
 */
export interface PerSampleSink {
  dense(x: Tensor, dz: Tensor, w: Tensor, bias: Tensor | null): void;
}

/** A recorder in front of the backend while a program is recorded (src/core/program.ts). */
export interface Recording {
  readonly backend: Backend;
  readonly arena: StorageArena;
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
  /**
   * While grad()/valueAndGrad() run their function: the leaves it differentiates with respect to. Other
   * leaves (a model's parameters) then count as constants: no graph is recorded for them, no gradient
   * is computed for them, and their .grad is left alone (as torch.autograd.grad).
   */
  gradLeaves: ReadonlySet<object> | null = null;
  /** While a private training step runs backward: the per-sample gradient sink (src/train/privacy.ts). */
  perSample: PerSampleSink | null = null;
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

  /** The recorder that ops send their backend calls to while a program is recorded, else null. */
  recording: Recording | null = null;

  /** Where ops send their calls: the backend, or the recorder in front of it while a program is recorded. */
  requireBackend(): Backend {
    if (!this.backend)
      throw new Error('simdnn is not initialised: call `await init()` first (it picks the fastest backend that works here).');
    return this.recording ? this.recording.backend : this.backend;
  }

  newId(): number {
    return this.nextId++;
  }

  newStorage(size: number): Storage {
    const target = this.requireBackend();
    const handle = target.alloc(size);
    this.liveStorages++;
    this.liveBytes += size * 4;
    // The storage belongs to the backend either way (its handle is the backend's); a recorded program's
    // arena only decides when the memory goes back.
    const arena = this.recording?.arena ?? null;
    const storage: Storage = { handle, size, backend: this.backend!, refs: 0, arena };
    arena?.bind(storage);
    return storage;
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
    if (storage.backend !== this.backend) return;
    if (storage.arena) storage.arena.release(storage);
    else storage.backend.free(storage.handle);
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
    this.recording = null;
  }
}

export const engine = new Engine();
