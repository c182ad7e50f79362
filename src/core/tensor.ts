import { engine, type Held, type Storage } from './engine.js';
import { formatValues, inspectAs } from './format.js';

/** A tensor's sizes along each axis. */
export type Shape = readonly number[];

/** What the core knows of an autograd node (src/autograd/graph.ts): it is let go with its tensor. */
export interface GraphNode {
  release(): void;
}

/** Nested arrays of numbers, as accepted by tensor() and returned by array(). */
export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional float32 array that lives on the active backend. Free it with dispose() or create it
 * inside tidy(); a forgotten tensor is eventually reclaimed by a FinalizationRegistry, but memory() only
 * drops when that happens, so tests and loops should dispose explicitly.
 */
export class Tensor {
  /** Sizes along each axis. */
  readonly shape: Shape;
  /** The number of values (the product of the shape). */
  readonly size: number;
  /** A number unique to this tensor in the process (shown in error messages). */
  readonly id: number;
  /** @internal */
  storage: Storage | null;
  /**
   * @internal The autograd node that produced this tensor, while its graph is alive (a Node of
   * src/autograd/graph.ts; the core knows it only as something to release).
   */
  node: GraphNode | null = null;
  /** @internal */
  readonly held: Held;
  private _requiresGrad = false;
  /** The gradient accumulated by backward() (for tensors that require it). */
  grad: Tensor | null = null;

  /**
   * @internal Use tensor(), zeros() or an op to make tensors. `scoped = false` keeps the tensor out of
   * the enclosing tidy() scope (used for tensors the autograd graph holds on to).
   */
  constructor(shape: Shape, storage: Storage, scoped = true) {
    this.shape = Object.freeze(shape.slice());
    this.size = sizeOf(shape);
    this.id = engine.newId();
    this.storage = storage;
    this.held = engine.track(this, storage, scoped);
  }

  /**
   * Whether backward() computes a gradient for this tensor. Set it on leaf tensors (parameters, inputs);
   * results of ops on such tensors track their graph automatically.
   */
  get requiresGrad(): boolean {
    return this._requiresGrad || this.node !== null;
  }
  set requiresGrad(v: boolean) {
    if (this.node && !v) throw new Error(`requiresGrad: tensor #${this.id} is the result of an op and tracks its graph; use noGrad() or detach() instead.`);
    this._requiresGrad = !!v;
  }

  /** @internal True for tensors with requiresGrad set by the user (not produced by a recorded op). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** The number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether dispose() was called (the tensor can no longer be used). */
  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** @internal The backend handle, after checking the tensor can be used. */
  handle(op: string): unknown {
    const s = this.storage;
    if (!s) throw new Error(`${op}: tensor #${this.id} [${this.shape.join(', ')}] was disposed; it can no longer be used (keep it out of tidy() or dispose it later).`);
    if (s.backend !== engine.backend)
      throw new Error(`${op}: tensor #${this.id} belongs to the '${s.backend.name}' backend, which init() has since replaced; create the tensor again after init().`);
    return s.handle;
  }

  /** A copy of the values. Works on every backend (webgpu reads back asynchronously). */
  async data(): Promise<Float32Array> {
    const h = this.handle('data');
    return this.storage!.backend.read(h, this.size);
  }

  /** A copy of the values, synchronously; throws on backends that can only read asynchronously. */
  dataSync(): Float32Array {
    const h = this.handle('dataSync');
    const b = this.storage!.backend;
    if (!b.canReadSync) throw new Error(`dataSync: the '${b.name}' backend reads asynchronously; use \`await tensor.data()\` instead.`);
    return b.readSync(h, this.size);
  }

  /** The values as nested arrays shaped like the tensor. */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The values as nested arrays, synchronously (not on webgpu). */
  arraySync(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  /** Frees the storage (shared storage is freed with its last tensor). Disposing twice is harmless. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    this.held.owner?.release();
    this.held.owner = null;
    this.node = null;
    this.grad?.dispose();
    this.grad = null;
    engine.untrack(this, s);
  }

  /**
   * The tensor as text: its shape, dtype and backend, then its values laid out as NumPy prints arrays
   * (one precision for all, aligned columns; past 1000 values the first and last 3 of each axis, with
   * '...'). `console.log(t)` shows the same in Node and Deno. On a backend that reads asynchronously
   * (webgpu) the values are left out: `await t.data()` reads them.
   */
  toString(): string {
    const head = `shape=[${this.shape.join(', ')}], dtype=float32`;
    if (this.isDisposed) return `Tensor(${head}, disposed)`;
    const b = this.storage!.backend;
    const grad = this.requiresGrad ? ', requiresGrad=true' : '';
    if (!b.canReadSync) return `Tensor(${head}, backend=${b.name}${grad})\n(values on ${b.name}: read them with await t.data())`;
    return `Tensor(${head}, backend=${b.name}${grad})\n${formatValues(b.readSync(this.storage!.handle, this.size), this.shape)}`;
  }

  /** Prints toString() to the console (as TF.js' t.print()). */
  print(): void {
    console.log(this.toString());
  }
}
inspectAs(Tensor.prototype);

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function nest(data: Float32Array, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): NestedArray[] => {
    const n = shape[dim];
    if (dim === shape.length - 1) return Array.from(data.subarray(offset, offset + n));
    const stride = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) out.push(build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}
