import { checkCode, OPTIM_NAMES } from '../../core/optable.js';
import type { Backend, BackendStats, GemmArgs, Strides } from '../../core/backend.js';
import { hash32 } from '../math.js';
import { KERNELS, MAP_BITS, moduleSource, optimUniforms, TILE, TT, WG, type KernelSpec } from './kernels.js';

// GPUBufferUsage / GPUMapMode values (spec constants): the globals do not exist in Node (npm `webgpu`
// exports them separately), so the backend never reads them.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const SHADER_STAGE_COMPUTE = 0x4;

/** Dispatches recorded before the batch is submitted (each takes one uniform slot). */
const BATCH = 256;
/** Bytes the buffer pool keeps for reuse before it starts destroying returned buffers. */
const POOL_KEEP = 256 * 1024 * 1024;
/** The most workgroups along one grid axis (the WebGPU default limit). */
const MAX_GROUPS = 65535;

/**
 * A tensor's storage: a GPUBuffer from the pool (its capacity rounded up to a size bucket) and the floats
 * it was asked for. Only this backend looks inside.
 */
export class GpuHandle {
  constructor(
    readonly buffer: GPUBuffer,
    /** Unique per GPUBuffer (not per handle): keys the bind-group cache. */
    readonly id: number,
    /** Capacity in bytes (the pool bucket). */
    readonly bytes: number,
    /** Floats requested. */
    readonly size: number,
  ) {}
  freed = false;
}

interface Pooled {
  buffer: GPUBuffer;
  id: number;
  bytes: number;
}

/** Figures for the report and the tests: what the backend did since it started (or resetCounters()). */
export interface WebGpuCounters {
  /** Compute dispatches (kernel launches). */
  dispatches: number;
  /** queue.submit calls. */
  submits: number;
  /** read() calls and the bytes they copied back. */
  reads: number;
  bytesRead: number;
  /** write() calls and their bytes. */
  writes: number;
  bytesWritten: number;
  /** GPUBuffers created (pool misses). */
  buffersCreated: number;
  /** Pipelines compiled, and the milliseconds spent (at startup, or later for one compiled on demand). */
  pipelines: number;
  compileMs: number;
}

export interface WebGpuCreateOptions {
  /**
   * An adapter that was already requested. The GPU object it came from must stay referenced while the
   * device lives: in Node, dawn.node crashes once that object is collected (startWebGpu holds it, device.ts).
   */
  adapter: GPUAdapter;
  /** Compile every pipeline up front, in parallel (default true), so no kernel call compiles. */
  precompile?: boolean;
}

/** Size bucket of a request: powers of two up to 4 KiB, then steps of 1/8 of the power of two. */
function bucket(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return 2 ** Math.ceil(Math.log2(b));
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

/**
 * The WebGPU backend: every primitive is a WGSL compute kernel (kernels.ts). Kernel calls only record:
 * dispatches go into one compute pass of a pending command encoder, their scalars into a uniform arena,
 * and the batch is submitted when a read needs it, when a write would overtake it, or every BATCH
 * dispatches. Reads are asynchronous (mapAsync on a staging buffer); `readSync` is not available.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly canReadSync = false;
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** What the adapter says it is, for info().notes. */
  readonly adapterDescription: string;
  readonly isFallbackAdapter: boolean;
  readonly counters: WebGpuCounters = { dispatches: 0, submits: 0, reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, buffersCreated: 0, pipelines: 0, compileMs: 0 };

  private readonly slot: number;
  private readonly arena: ArrayBuffer;
  private readonly arenaU32: Uint32Array;
  private readonly arenaF32: Float32Array;
  private readonly arenaGpu: GPUBuffer;
  private used = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Ids of the buffers the pending (unsubmitted) batch touches. */
  private readonly pending = new Set<number>();

  private readonly layouts: GPUBindGroupLayout[] = [];
  private readonly pipelineLayouts: GPUPipelineLayout[] = [];
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly specs = new Map<string, KernelSpec>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();

  private nextId = 1;
  private readonly pool = new Map<number, Pooled[]>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private allocatedBytes = 0;
  /** Stand in for a null or remapped binding, one per slot (two bindings of one buffer are refused). */
  private readonly dummies: Pooled[] = [];

  private disposed = false;
  private lostInfo: { reason: string; message: string } | null = null;
  private readonly errors: string[] = [];

  private constructor(device: GPUDevice, adapter: GPUAdapter) {
    this.device = device;
    this.adapter = adapter;
    const info = (adapter as any).info ?? {};
    this.isFallbackAdapter = !!(info.isFallbackAdapter ?? (adapter as any).isFallbackAdapter);
    this.adapterDescription = [info.vendor, info.architecture, info.device, info.description].filter((s) => typeof s === 'string' && s).join(' ') || 'unknown adapter';
    this.slot = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
    this.arena = new ArrayBuffer(this.slot * BATCH);
    this.arenaU32 = new Uint32Array(this.arena);
    this.arenaF32 = new Float32Array(this.arena);
    this.arenaGpu = device.createBuffer({ size: this.slot * BATCH, usage: UNIFORM | COPY_DST, label: 'simdnn uniforms' });
    for (let i = 0; i < 4; i++) this.dummies.push({ buffer: device.createBuffer({ size: 16, usage: STORAGE, label: 'simdnn null binding' }), id: this.nextId++, bytes: 16 });
    for (let k = 0; k <= 4; k++) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }];
      for (let i = 1; i <= k; i++) entries.push({ binding: i, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'storage' } });
      const layout = device.createBindGroupLayout({ entries, label: `simdnn ${k} buffers` });
      this.layouts.push(layout);
      this.pipelineLayouts.push(device.createPipelineLayout({ bindGroupLayouts: [layout] }));
    }
    for (const k of KERNELS) this.specs.set(k.name, k);
    device.lost.then((info) => {
      if (!this.disposed) this.lostInfo = { reason: String(info.reason ?? 'unknown'), message: String(info.message ?? '') };
    });
    const onError = (ev: any) => {
      const msg = String(ev?.error?.message ?? ev?.message ?? ev);
      if (this.errors.length < 8) this.errors.push(msg.split('\n')[0]);
    };
    if (typeof (device as any).addEventListener === 'function') (device as any).addEventListener('uncapturederror', onError);
    else (device as any).onuncapturederror = onError;
  }

  /** Requests a device from the adapter (with its largest buffer limits) and compiles the kernels. */
  static async create(opts: WebGpuCreateOptions): Promise<WebGpuBackend> {
    const { adapter } = opts;
    const al = adapter.limits;
    const device = await adapter.requestDevice({
      label: 'simdnn',
      requiredLimits: { maxStorageBufferBindingSize: al.maxStorageBufferBindingSize, maxBufferSize: al.maxBufferSize },
    });
    const b = new WebGpuBackend(device, adapter);
    try {
      if (opts.precompile !== false) await b.compileAll();
    } catch (e) {
      b.dispose();
      throw e;
    }
    return b;
  }

  /** Compiles every kernel's pipeline (in parallel); a compile error throws with the compiler's message. */
  async compileAll(): Promise<void> {
    const t0 = performance.now();
    const todo = KERNELS.filter((k) => !this.pipelines.has(k.name));
    const made = await Promise.all(
      todo.map(async (k) => {
        const module = this.device.createShaderModule({ code: moduleSource(k), label: `simdnn ${k.name}` });
        try {
          return await this.device.createComputePipelineAsync({ layout: this.pipelineLayouts[k.storage.length], compute: { module, entryPoint: 'main' }, label: `simdnn ${k.name}` });
        } catch (e) {
          throw await this.compileError(k, module, e);
        }
      }),
    );
    todo.forEach((k, i) => this.pipelines.set(k.name, made[i]));
    this.counters.pipelines += todo.length;
    this.counters.compileMs += performance.now() - t0;
  }

  private async compileError(k: KernelSpec, module: GPUShaderModule, e: unknown): Promise<Error> {
    let detail = '';
    try {
      const info = await module.getCompilationInfo();
      detail = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
    } catch {
      /* no compilation info */
    }
    return new Error(`webgpu: the '${k.name}' kernel does not compile on this adapter (${this.adapterDescription}): ${detail || (e as Error)?.message || e}`);
  }

  private pipeline(k: KernelSpec): GPUComputePipeline {
    let p = this.pipelines.get(k.name);
    if (!p) {
      const t0 = performance.now();
      const module = this.device.createShaderModule({ code: moduleSource(k), label: `simdnn ${k.name}` });
      p = this.device.createComputePipeline({ layout: this.pipelineLayouts[k.storage.length], compute: { module, entryPoint: 'main' }, label: `simdnn ${k.name}` });
      this.pipelines.set(k.name, p);
      this.counters.pipelines++;
      this.counters.compileMs += performance.now() - t0;
    }
    return p;
  }

  // ------------------------------------------------------------------------------------------ state

  private check(op: string): void {
    if (this.lostInfo) {
      const { reason, message } = this.lostInfo;
      throw new Error(
        `webgpu: ${op}: the GPU device was lost (${reason}${message ? `: ${message}` : ''}); its tensors are gone. ` +
          "Call init() again to start a new device (or init({backend: 'wasm'})).",
      );
    }
    if (this.disposed) throw new Error(`webgpu: ${op}: this backend was disposed (init() or shutdown() replaced it).`);
  }

  /** A GPU error (validation, out of memory) reported since the last check, as an Error. */
  private takeError(op: string): Error | null {
    if (!this.errors.length) return null;
    const msg = this.errors.splice(0).join(' | ');
    return new Error(`webgpu: ${op}: the GPU reported an error: ${msg}`);
  }

  /** True once the device is lost or the backend disposed. */
  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  resetCounters(): void {
    for (const k of Object.keys(this.counters) as (keyof WebGpuCounters)[]) if (k !== 'pipelines' && k !== 'compileMs') this.counters[k] = 0;
  }

  // ------------------------------------------------------------------------------------------ memory

  alloc(size: number): GpuHandle {
    this.check('alloc');
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`webgpu: alloc: size must be a non-negative integer, got ${size}.`);
    const bytes = bucket(size * 4);
    const lim = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (bytes > lim)
      throw new Error(`webgpu: out of memory: a tensor of ${size} floats (${bytes} bytes) exceeds this device's largest storage buffer (${lim} bytes); use smaller batches or the wasm backend.`);
    let entry = this.pool.get(bytes)?.pop();
    if (entry) this.pooledBytes -= bytes;
    else {
      entry = { buffer: this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST }), id: this.nextId++, bytes };
      this.counters.buffersCreated++;
    }
    const h = new GpuHandle(entry.buffer, entry.id, bytes, size);
    this.allocatedBytes += bytes;
    return h;
  }

  free(handle: unknown): void {
    const h = handle as GpuHandle;
    if (this.disposed || h.freed) return;
    h.freed = true;
    this.allocatedBytes -= h.bytes;
    if (this.lostInfo) return;
    // Back to the pool. Reuse is safe without waiting for the GPU: later work is ordered after earlier work
    // on the queue, and write() submits the pending batch first when it touches this buffer.
    if (this.pooledBytes + h.bytes > POOL_KEEP) {
      if (this.pending.has(h.id)) this.flush();
      h.buffer.destroy();
      return;
    }
    let list = this.pool.get(h.bytes);
    if (!list) this.pool.set(h.bytes, (list = []));
    list.push({ buffer: h.buffer, id: h.id, bytes: h.bytes });
    this.pooledBytes += h.bytes;
  }

  write(handle: unknown, data: Float32Array, offset = 0): void {
    this.check('write');
    const h = handle as GpuHandle;
    if (data.length === 0) return;
    // queue.writeBuffer runs before any batch submitted later: a pending dispatch that touches this buffer
    // must be submitted first, or it would see the new data.
    if (this.pending.has(h.id)) this.flush();
    this.device.queue.writeBuffer(h.buffer, offset * 4, data.buffer, data.byteOffset, data.byteLength);
    this.counters.writes++;
    this.counters.bytesWritten += data.byteLength;
  }

  readSync(): Float32Array {
    throw new Error("webgpu: reads are asynchronous: use `await tensor.data()` (the webgpu backend cannot read synchronously).");
  }

  async read(handle: unknown, size: number): Promise<Float32Array> {
    this.check('read');
    const h = handle as GpuHandle;
    if (size <= 0) return new Float32Array(0);
    const bytes = size * 4;
    const cap = bucket(bytes);
    const staging = this.staging.get(cap)?.pop() ?? this.device.createBuffer({ size: cap, usage: MAP_READ | COPY_DST, label: 'simdnn readback' });
    // The copy rides in the same submission as the pending kernels.
    this.flush((enc) => enc.copyBufferToBuffer(h.buffer, 0, staging, 0, bytes));
    this.counters.reads++;
    this.counters.bytesRead += bytes;
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
    } catch (e) {
      this.check('read');
      throw this.takeError('read') ?? new Error(`webgpu: read: mapping the result failed: ${(e as Error)?.message ?? e}`);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    if (this.disposed) staging.destroy();
    else {
      let list = this.staging.get(cap);
      if (!list) this.staging.set(cap, (list = []));
      if (list.length < 4) list.push(staging);
      else staging.destroy();
    }
    const err = this.takeError('read');
    if (err) throw err;
    return out;
  }

  // ------------------------------------------------------------------------------------------ batching

  /** Submits the pending batch (with `extra` commands after it). Cheap when nothing is pending. */
  flush(extra?: (enc: GPUCommandEncoder) => void): void {
    if (!this.encoder && !extra) return;
    const enc = this.encoder ?? this.device.createCommandEncoder();
    this.pass?.end();
    if (this.used) this.device.queue.writeBuffer(this.arenaGpu, 0, this.arena, 0, this.used * this.slot);
    extra?.(enc);
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
    this.encoder = null;
    this.pass = null;
    this.used = 0;
    this.pending.clear();
  }

  /**
   * Records one dispatch of kernel k over `groups` workgroups (folded into a 2-D grid when above the
   * per-axis limit; the kernels recover the flat id) with the given uniform values and buffers.
   */
  private run(name: string, values: readonly number[], buffers: readonly (GpuHandle | Pooled | null)[], gx: number, gy = 1): void {
    const k = this.specs.get(name)!;
    if (this.used === BATCH) this.flush();
    const pipe = this.pipeline(k);
    // A buffer named in several slots is bound at the first and the others point there (kernels.ts).
    let map = 0;
    const bufs = buffers.map((b, s) => {
      const first = b ? buffers.findIndex((o) => o !== null && o.id === b.id) : s;
      map |= first << (MAP_BITS * s);
      return !b || first !== s ? this.dummies[s] : b;
    });
    const base = (this.used * this.slot) >>> 2;
    this.arenaF32[base] = 1; // `one`, see wgsl.ts
    this.arenaU32[base + 1] = map;
    k.fields.forEach(([, type], i) => {
      const v = values[i];
      if (type === 'f32') this.arenaF32[base + 2 + i] = v;
      else this.arenaU32[base + 2 + i] = v >>> 0;
    });
    let key = `${k.storage.length}`;
    for (const b of bufs) key += `,${b.id}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size > 4096) this.bindGroups.clear();
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arenaGpu, offset: 0, size: this.slot } }];
      bufs.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer } }));
      bg = this.device.createBindGroup({ layout: this.layouts[k.storage.length], entries });
      this.bindGroups.set(key, bg);
    }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    this.pass.setPipeline(pipe);
    this.pass.setBindGroup(0, bg, [this.used * this.slot]);
    this.pass.dispatchWorkgroups(gx, gy);
    for (const b of bufs) this.pending.add(b.id);
    this.used++;
    this.counters.dispatches++;
  }

  /** A 1-D launch of `count` invocations in workgroups of `wg`: (x, y) workgroup counts. */
  private grid(count: number, wg: number): [number, number] {
    const groups = Math.ceil(count / wg);
    if (groups <= MAX_GROUPS) return [groups, 1];
    const gy = Math.ceil(groups / MAX_GROUPS);
    return [Math.ceil(groups / gy), gy];
  }

  private elementwise(name: string, n: number, values: readonly number[], buffers: readonly (GpuHandle | null)[]): void {
    const [gx, gy] = this.grid(n, WG);
    this.run(name, values, buffers, gx, gy);
  }

  // ------------------------------------------------------------------------------------------ kernels

  gemm(g: GemmArgs): void {
    this.check('gemm');
    checkCode('activation', g.act);
    const { m, n, k } = g;
    if (m === 0 || n === 0) return;
    const gy = Math.ceil(m / TILE), gx = Math.ceil(n / TILE);
    if (gx > MAX_GROUPS || gy > MAX_GROUPS) throw new RangeError(`webgpu: gemm of ${m}×${n} is beyond the dispatch limit.`);
    this.run('gemm', [m, n, k, g.act, g.alpha, g.bias ? 1 : 0, g.beta, g.transA ? 1 : 0, g.transB ? 1 : 0], [g.a as GpuHandle, g.b as GpuHandle, g.c as GpuHandle, (g.bias as GpuHandle | null) ?? null], gx, gy);
  }

  unary(op: number, n: number, x: unknown, y: unknown, alpha: number): void {
    this.check('unary');
    checkCode('unary', op);
    if (n > 0) this.elementwise('unary', n, [n, op, alpha], [x as GpuHandle, y as GpuHandle]);
  }

  unaryGrad(op: number, n: number, x: unknown, y: unknown, dy: unknown, dx: unknown, alpha: number): void {
    this.check('unaryGrad');
    checkCode('unary', op);
    if (n > 0) this.elementwise('unaryGrad', n, [n, op, alpha], [x as GpuHandle, y as GpuHandle, dy as GpuHandle, dx as GpuHandle]);
  }

  binary(op: number, outer: number, rows: number, cols: number, a: unknown, as: Strides, b: unknown, bs: Strides, out: unknown): void {
    this.check('binary');
    checkCode('binary', op);
    const total = outer * rows * cols;
    if (total > 0) this.elementwise('binary', total, [total, rows, cols, op, as.s0, as.s1, as.s2, bs.s0, bs.s1, bs.s2], [a as GpuHandle, b as GpuHandle, out as GpuHandle]);
  }

  reduce(op: number, outer: number, n: number, inner: number, x: unknown, out: unknown): void {
    this.check('reduce');
    checkCode('reduce', op);
    const outs = outer * inner;
    if (outs === 0 || n <= 0) return;
    // One workgroup per output when the reduced axis is long and the outputs few (a loss over the batch,
    // a sum over everything); one invocation per output otherwise.
    if ((n >= 64 && outs <= 4096) || n >= 4096) {
      const [gx, gy] = this.grid(outs, 1);
      this.run('reduceWide', [op, outer, n, inner], [x as GpuHandle, out as GpuHandle], gx, gy);
    } else this.elementwise('reduceSerial', outs, [op, outer, n, inner], [x as GpuHandle, out as GpuHandle]);
  }

  softmax(rows: number, cols: number, x: unknown, y: unknown, log: boolean): void {
    this.check('softmax');
    if (rows * cols === 0) return;
    const [gx, gy] = this.grid(rows, 1);
    this.run('softmax', [rows, cols, log ? 1 : 0], [x as GpuHandle, y as GpuHandle], gx, gy);
  }

  softmaxXent(rows: number, cols: number, logits: unknown, labels: unknown, mode: number, probs: unknown, loss: unknown): void {
    this.check('softmaxXent');
    checkCode('label mode', mode);
    if (rows === 0) return;
    const [gx, gy] = this.grid(rows, 1);
    this.run('xent', [rows, cols, mode], [logits as GpuHandle, labels as GpuHandle, probs as GpuHandle, loss as GpuHandle], gx, gy);
  }

  softmaxXentGrad(rows: number, cols: number, probs: unknown, labels: unknown, mode: number, dy: unknown, dlogits: unknown): void {
    this.check('softmaxXentGrad');
    checkCode('label mode', mode);
    const total = rows * cols;
    if (total > 0) this.elementwise('xentGrad', total, [total, cols, mode], [probs as GpuHandle, labels as GpuHandle, dy as GpuHandle, dlogits as GpuHandle]);
  }

  transpose(rows: number, cols: number, x: unknown, y: unknown): void {
    this.check('transpose');
    if (rows * cols === 0) return;
    const gx = Math.ceil(cols / TT);
    if (gx > MAX_GROUPS) throw new RangeError(`webgpu: transpose of ${rows}×${cols} is beyond the dispatch limit.`);
    // Rows beyond one dispatch's reach are done in slices (row0 says where a slice starts).
    const sliceRows = MAX_GROUPS * TT;
    for (let r0 = 0; r0 < rows; r0 += sliceRows) {
      const gy = Math.ceil(Math.min(sliceRows, rows - r0) / TT);
      this.run('transpose', [rows, cols, r0], [x as GpuHandle, y as GpuHandle], gx, gy);
    }
  }

  fill(n: number, y: unknown, value: number): void {
    this.check('fill');
    if (n > 0) this.elementwise('linear', n, [n, 0, 0, value], [null, y as GpuHandle]);
  }

  copy(n: number, x: unknown, y: unknown): void {
    this.check('copy');
    if (n > 0 && x !== y) this.elementwise('linear', n, [n, 1, 0, 0], [x as GpuHandle, y as GpuHandle]);
  }

  affine(n: number, x: unknown, y: unknown, alpha: number, beta: number): void {
    this.check('affine');
    if (n > 0) this.elementwise('linear', n, [n, 2, alpha, beta], [x as GpuHandle, y as GpuHandle]);
  }

  axpy(n: number, alpha: number, x: unknown, y: unknown): void {
    this.check('axpy');
    if (n > 0) this.elementwise('linear', n, [n, 3, alpha, 0], [x as GpuHandle, y as GpuHandle]);
  }

  gatherRows(rows: number, cols: number, x: unknown, idx: unknown, y: unknown): void {
    this.check('gatherRows');
    const total = rows * cols;
    const hx = x as GpuHandle;
    if (total > 0) this.elementwise('gather', total, [total, cols, Math.floor(hx.size / cols)], [hx, idx as GpuHandle, y as GpuHandle]);
  }

  dropout(n: number, x: unknown, y: unknown, mask: unknown, keep: number, seed: number, offset: number): void {
    this.check('dropout');
    if (n <= 0) return;
    const k = Math.fround(keep);
    const scale = keep > 0 ? Math.fround(1 / k) : 0;
    this.elementwise('dropout', n, [n, hash32(seed >>> 0), offset >>> 0, k, scale], [x as GpuHandle, y as GpuHandle, mask as GpuHandle]);
  }

  addNormal(n: number, y: unknown, std: number, seed: number, offset: number): void {
    this.check('addNormal');
    if (n > 0) this.elementwise('addNormal', n, [n, hash32(seed >>> 0), offset >>> 0, Math.fround(std)], [y as GpuHandle]);
  }

  /** `hyper` is read by name (kernels.ts, OPTIM_UNIFORMS) and copied now: the caller reuses the array. */
  optimStep(kind: number, n: number, param: unknown, grad: unknown, s1: unknown, s2: unknown, h: readonly number[]): void {
    this.check('optimStep');
    checkCode('optimizer', kind);
    if (n <= 0) return;
    const v = optimUniforms(OPTIM_NAMES[kind], n, h);
    this.elementwise('optim', n, v, [param as GpuHandle, grad as GpuHandle, (s1 as GpuHandle | null) ?? null, (s2 as GpuHandle | null) ?? null]);
  }

  // ------------------------------------------------------------------------------------------ lifetime

  stats(): BackendStats {
    return { allocatedBytes: this.allocatedBytes, reservedBytes: this.allocatedBytes + this.pooledBytes };
  }

  dispose(): void {
    if (this.disposed) return;
    try {
      if (!this.lostInfo) this.flush();
    } catch {
      /* a lost device: nothing to submit to */
    }
    this.disposed = true;
    this.device.destroy(); // frees every buffer of the device: pool, staging, and the tensors still alive
    this.pool.clear();
    this.staging.clear();
    this.bindGroups.clear();
    this.pooledBytes = 0;
  }
}
