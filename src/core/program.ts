// Record and replay. A function of tensors (a training step: forward, loss, backward; or a forward pass
// for predict) runs once through the ordinary ops and gradient rules while a recorder stands in front of
// the backend and keeps every call it makes, with its arguments. The backend contract makes each call a
// pure function of its handles and numbers (src/backend/backend.ts), so running the same calls again on
// the same handles repeats the step exactly, bit for bit, without the ops' shape checks, graph nodes,
// tensor objects or allocations. New data goes in by writing into the input tensors' storage before a
// replay; results are read from the output tensors' storage after it.
//
// Memory: every allocation made while recording comes from the program's arena. Storage released during
// the recording goes back to the arena and is reused by later allocations of the same size in the same
// step (so a step needs about as much memory as its live set, not the sum of its temporaries), and the
// replay reuses it in the same order. Nothing goes back to the backend until the program is disposed,
// because a replay writes into those blocks again: handing them to anyone else would let a replay
// overwrite their data.
//
// What may not be recorded: a step whose calls depend on the data (reading values back and branching on
// them). Reads during recording are allowed (validation does them) but are not replayed. The one value
// that legitimately changes from step to step inside the calls is the counter of the random streams
// (dropout masks, and the noise of private training: each step draws new ones); the recorder stores it
// relative to the step's starting counter and replay shifts it.
import type { Backend, BackendStats, GemmArgs, Handle, QGemmArgs, Strides } from './backend.js';
import type { BinaryCode, LabelModeCode, OptimCode, ReduceCode, UnaryCode } from './optable.js';
import { engine, type Storage, type StorageArena } from './engine.js';
import type { Tensor } from './tensor.js';

interface Call {
  fn: (...args: any[]) => void;
  args: unknown[];
  /** Calls that draw random numbers (dropout, addNormal): which argument is the counter, and its value relative to the step's start. */
  randomAt?: [number, number];
}

interface Block {
  size: number;
  /** The tensor storage on the block, while it is alive (null for a raw alloc()). */
  storage: Storage | null;
  live: boolean;
}

/** The memory of one program: blocks from the backend, reused while recording, returned on dispose. */
class Arena implements StorageArena {
  private readonly blocks = new Map<Handle, Block>();
  /** Released blocks by size, reused while recording. */
  private readonly spare = new Map<number, Handle[]>();
  recording = true;
  bytes = 0;

  constructor(private readonly be: Backend) {}

  alloc(size: number): Handle {
    const list = this.recording ? this.spare.get(size) : undefined;
    if (list && list.length) {
      const h = list.pop()!;
      this.blocks.get(h)!.live = true;
      return h;
    }
    const h = this.be.alloc(size);
    this.blocks.set(h, { size, storage: null, live: true });
    this.bytes += size * 4;
    return h;
  }

  bind(storage: Storage): void {
    this.blocks.get(storage.handle)!.storage = storage;
  }

  release(storage: Storage): void {
    this.freeHandle(storage.handle);
  }

  freeHandle(h: Handle): void {
    const b = this.blocks.get(h);
    if (!b || !b.live) return;
    b.live = false;
    b.storage = null;
    if (!this.recording) return; // kept: replays write here
    let list = this.spare.get(b.size);
    if (!list) this.spare.set(b.size, (list = []));
    list.push(h);
  }

  /**
   * Gives the memory back. Blocks still holding a live tensor (a result the caller kept) become ordinary
   * allocations of the backend, freed when that tensor is; the others are freed now.
   */
  dispose(): void {
    const alive = engine.backend === this.be;
    for (const [h, b] of this.blocks) {
      if (b.live && b.storage) b.storage.arena = null;
      else if (alive) this.be.free(h);
    }
    this.blocks.clear();
    this.spare.clear();
    this.bytes = 0;
  }
}

/** The backend as ops see it while recording: every call runs and is kept; memory comes from the arena. */
class Recorder implements Backend {
  readonly name;
  readonly canReadSync;
  readonly calls: Call[] = [];
  /** The optional int8 methods, present exactly when the backend has them (callers test for them). */
  readonly qgemm?: (args: QGemmArgs) => void;
  readonly qquantize?: (n: number, x: Handle, y: Handle, invScale: number, zero: number) => void;
  constructor(readonly inner: Backend, readonly arena: Arena, private readonly randomBase: number) {
    this.name = inner.name;
    this.canReadSync = inner.canReadSync;
    const { qgemm, qquantize } = inner;
    if (qgemm) this.qgemm = (args) => this.run(qgemm, [{ ...args }]);
    if (qquantize) this.qquantize = (n, x, y, invScale, zero) => this.run(qquantize, [n, x, y, invScale, zero]);
  }

  private run(fn: (...args: any[]) => void, args: unknown[]): void {
    this.calls.push({ fn, args });
    fn.apply(this.inner, args);
  }

  alloc(size: number): Handle {
    return this.arena.alloc(size);
  }
  free(handle: Handle): void {
    this.arena.freeHandle(handle);
  }
  write(handle: Handle, data: Float32Array, offset?: number): void {
    // A copy: the caller may reuse its array, and the replay must write what was written now.
    this.run(this.inner.write, [handle, data.slice(), offset]);
  }
  readSync(handle: Handle, size: number): Float32Array {
    return this.inner.readSync(handle, size);
  }
  read(handle: Handle, size: number): Promise<Float32Array> {
    return this.inner.read(handle, size);
  }
  gemm(args: GemmArgs): void {
    this.run(this.inner.gemm, [{ ...args }]);
  }
  unary(op: UnaryCode, n: number, x: Handle, y: Handle, alpha: number): void {
    this.run(this.inner.unary, [op, n, x, y, alpha]);
  }
  unaryGrad(op: UnaryCode, n: number, x: Handle, y: Handle, dy: Handle, dx: Handle, alpha: number): void {
    this.run(this.inner.unaryGrad, [op, n, x, y, dy, dx, alpha]);
  }
  binary(op: BinaryCode, outer: number, rows: number, cols: number, a: Handle, as: Strides, b: Handle, bs: Strides, out: Handle): void {
    this.run(this.inner.binary, [op, outer, rows, cols, a, { ...as }, b, { ...bs }, out]);
  }
  reduce(op: ReduceCode, outer: number, n: number, inner: number, x: Handle, out: Handle): void {
    this.run(this.inner.reduce, [op, outer, n, inner, x, out]);
  }
  softmax(rows: number, cols: number, x: Handle, y: Handle, log: boolean): void {
    this.run(this.inner.softmax, [rows, cols, x, y, log]);
  }
  softmaxXent(rows: number, cols: number, logits: Handle, labels: Handle, mode: LabelModeCode, probs: Handle, loss: Handle): void {
    this.run(this.inner.softmaxXent, [rows, cols, logits, labels, mode, probs, loss]);
  }
  softmaxXentGrad(rows: number, cols: number, probs: Handle, labels: Handle, mode: LabelModeCode, dy: Handle, dlogits: Handle): void {
    this.run(this.inner.softmaxXentGrad, [rows, cols, probs, labels, mode, dy, dlogits]);
  }
  transpose(rows: number, cols: number, x: Handle, y: Handle): void {
    this.run(this.inner.transpose, [rows, cols, x, y]);
  }
  fill(n: number, y: Handle, value: number): void {
    this.run(this.inner.fill, [n, y, value]);
  }
  copy(n: number, x: Handle, y: Handle): void {
    this.run(this.inner.copy, [n, x, y]);
  }
  affine(n: number, x: Handle, y: Handle, alpha: number, beta: number): void {
    this.run(this.inner.affine, [n, x, y, alpha, beta]);
  }
  axpy(n: number, alpha: number, x: Handle, y: Handle): void {
    this.run(this.inner.axpy, [n, alpha, x, y]);
  }
  gatherRows(rows: number, cols: number, x: Handle, idx: Handle, y: Handle): void {
    this.run(this.inner.gatherRows, [rows, cols, x, idx, y]);
  }
  dropout(n: number, x: Handle, y: Handle, mask: Handle, keep: number, seed: number, offset: number): void {
    const args = [n, x, y, mask, keep, seed, offset];
    this.calls.push({ fn: this.inner.dropout, args, randomAt: [6, (offset - this.randomBase) >>> 0] });
    this.inner.dropout(n, x, y, mask, keep, seed, offset);
  }
  addNormal(n: number, y: Handle, std: number, seed: number, offset: number): void {
    const args = [n, y, std, seed, offset];
    this.calls.push({ fn: this.inner.addNormal, args, randomAt: [4, (offset - this.randomBase) >>> 0] });
    this.inner.addNormal(n, y, std, seed, offset);
  }
  optimStep(kind: OptimCode, n: number, param: Handle, grad: Handle, s1: Handle | null, s2: Handle | null, hyper: readonly number[]): void {
    this.run(this.inner.optimStep, [kind, n, param, grad, s1, s2, hyper.slice()]);
  }
  stats(): BackendStats {
    return this.inner.stats();
  }
  dispose(): void {
    throw new Error('simdnn internal error: the backend cannot be disposed while a program is recorded.');
  }
}

export interface RecordOptions {
  /** The random-stream counter the recorded step starts from (replays pass their own to run()). */
  randomOffset?: number;
}

/** Where a slot's handle sits in the calls: call i, argument j, and the key inside gemm's or qgemm's argument object. */
interface Site {
  call: number;
  arg: number;
  key: string | null;
}

/** The handles inside the argument objects of gemm and qgemm (their other fields are numbers that may equal a handle). */
const GEMM_HANDLES: readonly (keyof GemmArgs)[] = ['a', 'b', 'c', 'bias'];
const QGEMM_HANDLES: readonly (keyof QGemmArgs)[] = ['a', 'b', 'c', 'scale', 'bias'];

/** A recorded sequence of backend calls over fixed memory; run() repeats it. */
export class Program<T = unknown> {
  private disposed = false;
  private readonly slots: Site[][] = [];
  constructor(
    /** What the recorded function returned (its tensors live in the program's arena). */
    readonly result: T,
    private readonly be: Backend,
    private readonly calls: Call[],
    private readonly arena: Arena,
  ) {}

  /** Backend calls per run. */
  get length(): number {
    return this.calls.length;
  }

  /** Bytes of backend memory the program holds. */
  get bytes(): number {
    return this.arena.bytes;
  }

  /** True while the program can run: not disposed, and its backend is still the active one. */
  get valid(): boolean {
    return !this.disposed && engine.backend === this.be;
  }

  /**
   * Makes the storage of `t` (an input the recorded function read, or a result it returned) replaceable:
   * run() can then be given another handle of the same size in its place, so inputs are read and results
   * written where the caller wants them, without copies. Returns the slot's number.
   */
  slot(t: Tensor): number {
    const h = t.handle('program');
    const sites: Site[] = [];
    this.calls.forEach((c, i) =>
      c.args.forEach((a, j) => {
        if (a === h) sites.push({ call: i, arg: j, key: null });
        else if (j === 0 && (c.fn === this.be.gemm || c.fn === this.be.qgemm))
          for (const key of c.fn === this.be.gemm ? GEMM_HANDLES : QGEMM_HANDLES) if ((a as Record<string, unknown>)[key] === h) sites.push({ call: i, arg: 0, key });
      }),
    );
    this.slots.push(sites);
    return this.slots.length - 1;
  }

  /**
   * Repeats the recorded calls; random draws (dropout masks, noise) start at counter `randomOffset`, and slot i reads or
   * writes `handles[i]` (see slot()).
   */
  run(randomOffset = 0, handles?: readonly Handle[]): void {
    if (!this.valid)
      throw new Error(this.disposed ? 'simdnn internal error: a disposed program was run.' : 'simdnn internal error: a program of a replaced backend was run.');
    const be = this.be, calls = this.calls;
    if (handles)
      for (let k = 0; k < handles.length; k++)
        for (const s of this.slots[k]) {
          if (s.key) ((calls[s.call].args[0] as any)[s.key] = handles[k]);
          else calls[s.call].args[s.arg] = handles[k];
        }
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i];
      if (c.randomAt !== undefined) c.args[c.randomAt[0]] = (randomOffset + c.randomAt[1]) >>> 0;
      c.fn.apply(be, c.args);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.arena.dispose();
    this.calls.length = 0;
  }
}

/**
 * Runs fn once, for real, recording its backend calls into a Program that repeats them. fn must be
 * synchronous, and its calls must not depend on the values it computes (see the top of this file).
 * Tensors fn creates and keeps (its result) live in the program's memory; dispose them before or with
 * the program.
 */
export function record<T>(fn: () => T, options: RecordOptions = {}): Program<T> {
  if (engine.recording) throw new Error('simdnn internal error: programs cannot be recorded inside one another.');
  const be = engine.requireBackend();
  const arena = new Arena(be);
  const rec = new Recorder(be, arena, options.randomOffset ?? 0);
  engine.recording = { backend: rec, arena };
  // The program owns what fn returns: no enclosing tidy() scope may free it.
  const scopes = engine.scopes;
  engine.scopes = [];
  let result: T;
  try {
    result = fn();
    if (result && typeof (result as any).then === 'function') throw new TypeError('simdnn internal error: a recorded function must be synchronous.');
  } catch (e) {
    arena.recording = false;
    arena.dispose();
    throw e;
  } finally {
    engine.recording = null;
    engine.scopes = scopes;
  }
  arena.recording = false;
  return new Program(result, be, rec.calls, arena);
}
