// The wasm-threads backend: the single-thread wasm backend with its kernel calls split into tiles that
// the calling thread and n − 1 workers run at once on the one shared WebAssembly.Memory.
//
// The backend is usable at once, on the calling thread: it instantiates the kernels on the shared memory
// itself and starts no worker. The workers start in the background once kernels large enough to split
// have run for POOL_START_MS on the calling thread (a process that predicts a few rows never pays for a
// thread), and join the same memory when they are ready; until then, and for good if they cannot start,
// every kernel runs whole on the calling thread, as on the wasm backend (pool.ts, `state` below).
//
// WasmBackend's methods (size checks, empty-work skips, the optimizer's state pointers) stay as they
// are: this class hands WasmBackend a kernel table whose entries are tile functions. Each one decides
// whether the call is worth splitting (work below a measured grain stays on the calling thread, as a
// plain call of the export), and if so writes one argument row per tile into the control block —
// exactly the arguments of the same export over a sub-range, with sub-pointers and the same strides —
// and runs the job (Dispatcher.exec). Only gemm is overridden, because its tiles need one packing
// workspace per thread. While the cores are busy with other processes and calls run faster without the
// workers, the calling thread runs every tile itself (adapt.ts): the same tiles, so the same results.
//
// Tiling rules. Every output element is computed by exactly one tile, through the same kernel code path
// and in the same order as one call would, so with the default grain the results are bit-identical to
// the single-thread backend on the same kernel build (test/threads.test.ts checks this, for every
// kernel and for whole training runs):
//   gemm             rows of C, or columns of C when C is wider than tall (each extra tile re-packs
//                    the operand the split does not cut, B for rows and A for columns, so the split cuts
//                    the larger side), one tile per thread. Column tiles are whole multiples of 8 (the
//                    kernel's panel width) with the remainder in the last, so the kernel's 8/4/1-wide
//                    column edges fall where they would in one call; row tiles keep ≥ MIN_TILE_ROWS rows,
//                    so no tile takes the kernel's small-m path (which rounds differently) unless the
//                    whole product does. Each tile packs into its own thread's workspace.
//   elementwise      contiguous chunks, 16-element aligned so every chunk but the last is all SIMD body
//                    (unary, unaryGrad, fill, copy, affine, axpy, dropout with its counter offset moved
//                    to the chunk, optimizer steps with every state pointer moved).
//   binary           ranges of the outer axis, else of rows within each outer index, else of columns.
//   reduce           ranges of the outer axis (the inner axis is the kernel's stride too, so it stays whole).
//   softmax family   ranges of rows; gatherRows: ranges of rows.
//   transpose        not split (the kernel has no output stride to write a tile with).
//   q8_gemm          rows of C in 8-row units, or 16-column panels of the packed weights when C has
//                    fewer than 16 rows; q8_quantize: 16-aligned chunks (its output is bytes).
import type { GemmArgs } from '../../core/backend.js';
import { BINARY, BINARY_NAMES, Binary, UNARY, UNARY_NAMES, Unary, checkCode, isApproximation } from '../../core/optable.js';
import { Workspace, type Allocator } from '../wasm/allocator.js';
import { WasmBackend, type WasmOptions } from '../wasm/backend.js';
import type { KernelExports } from '../wasm/exports.js';
import {
  ARG_STRIDE, CONTROL_BYTES, Control, DEAD, DONE, ERRLEN, ERROR, GEN, MAX_THREADS, MAX_TILES, OP,
  POOL_START_MS, READY, SHUTDOWN, SLEEPERS, TILES, WS, WSARG, opIndex, type KernelName,
} from './control.js';
import { Adapt, type Shape } from './adapt.js';
import { keepAliveHint, keepsProcessAlive, startWorkers, workerScript, type PoolWorker, type WorkerScript } from './pool.js';
import type { WorkerSetup } from './worker.js';

export interface ThreadsOptions extends WasmOptions {
  /** Threads that run kernels, the calling thread included (1 … 64). */
  threads: number;
  /** The worker script (dist/worker.js); default: next to the bundle. */
  workerUrl?: string | URL;
  /**
   * Tile sizes: 'default' (measured), 'fine' (tiny tiles at every size, even on one thread; tests use
   * it), or default values overridden (benchmarks).
   */
  grain?: 'default' | 'fine' | Partial<Grain>;
  /** A wait that sees no tile finish for this long declares the backend dead (default 20000 ms). */
  stallMs?: number;
  /** How long idle workers spin before sleeping (default 300 µs). */
  spinMicros?: number;
  /** Tests: milliseconds allowed for the first worker to answer setup (default: pool.ts, HANDSHAKE_MS). */
  startTimeoutMs?: number;
}

/**
 * Where the workers stand: 'none' (one thread: there are none), 'idle' (not started yet), 'starting',
 * 'running' (every worker answered), 'failed' (they could not start: one thread for good).
 */
export type PoolState = 'none' | 'idle' | 'starting' | 'running' | 'failed';

/**
 * Minimum work per tile (elements, or flops for gemm) and the most tiles per thread. Work below two
 * tiles' worth runs as one call on the calling thread. From `node bench/threads.mjs --grain` on the
 * 2-core EPYC: a job costs ~2 µs while the workers spin and ~35 µs when one must be woken, and two
 * threads beat one from ~32k elements for streaming ops (affine: 15 → 11 µs at 64k), ~4k for tanh or
 * softmax, ~32k for adam, and ~1 MFLOP for gemm (96³: 35 → 25 µs; 64³: even). The streaming grain is
 * set a step above the crossover: a split that saves 5 µs is not worth a second thread being late.
 */
export interface Grain {
  /** Streaming ops: fill, copy, affine, axpy, cheap unary, binary, gather, dropout, reduce. */
  mem: number;
  /** Transcendental unary and unaryGrad, softmax and its loss. */
  math: number;
  /** Optimizer steps. */
  optim: number;
  /** gemm, in flops. */
  gemm: number;
  /** Largest gemm tile, in flops: bounds how long one tile runs (the stall watchdog relies on it). */
  gemmMaxTile: number;
  /** Largest elementwise tile, in elements. */
  maxTile: number;
  /** Chunk alignment in elements. */
  align: number;
  /** Tiles per thread for elementwise work (> 1 balances against a late or busy thread). */
  perThread: number;
  /** Tiles per thread for gemm (each extra tile re-packs one operand). */
  gemmPerThread: number;
  /** Fewest rows in a gemm row tile. */
  minRows: number;
  /** Run split calls alone on the calling thread while that is faster (adapt.ts); off: always shared. */
  adapt: boolean;
  /** Split work even when only the calling thread runs (tests: tiles without threads). */
  tileAtOne: boolean;
  /** Which side of C gemm splits ('auto': the rule below; the others are for measuring it). */
  split: 'auto' | 'rows' | 'cols';
}

/** Fewest rows in a gemm row tile: above the kernel's small-m cut (4·MR = 24 rows in assembly/gemm.ts). */
const MIN_TILE_ROWS = 32;

const GRAINS: Record<'default' | 'fine', Grain> = {
  default: { mem: 65536, math: 2048, optim: 16384, gemm: 1 << 19, gemmMaxTile: 2 ** 31, maxTile: 1 << 22, align: 16, perThread: 1, gemmPerThread: 1, minRows: MIN_TILE_ROWS, adapt: true, tileAtOne: false, split: 'auto' },
  fine: { mem: 1, math: 1, optim: 1, gemm: 1, gemmMaxTile: 2 ** 31, maxTile: 1 << 22, align: 1, perThread: 3, gemmPerThread: 3, minRows: 8, adapt: false, tileAtOne: true, split: 'auto' },
};

/**
 * Unary and binary codes whose kernels cost a few ns per element (isApproximation in the op table; the
 * rest are a few adds, compares or one division), and so take the smaller `math` grain.
 */
const MATH_UNARY = new Set<number>(UNARY_NAMES.filter((k) => isApproximation(UNARY[k].accuracy)).map((k) => Unary[k]));
const MATH_BINARY = new Set<number>(BINARY_NAMES.filter((k) => isApproximation(BINARY[k].accuracy)).map((k) => Binary[k]));

const g = globalThis as any;
// Looked up on first use: in Node, reading globalThis.performance loads perf_hooks (a dozen internal
// modules, ~1 ms), which a process that never times a split-worthy call should not pay at init().
const now = (): number => (typeof g.performance?.now === 'function' ? g.performance.now() : Date.now());

/** True where Atomics.wait may block this thread (not on a browser page's main thread). */
function canBlock(i32: Int32Array): boolean {
  try {
    Atomics.wait(i32, 0, Atomics.load(i32, 0) + 1, 0); // "not-equal" at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

/** The control block and the workers: runs a job whose argument rows are written. */
class Dispatcher {
  ctl!: Control;
  workers: PoolWorker[] = [];
  failure: string | null = null;
  closing = false;
  state: PoolState;
  /** Whether work is split: a worker runs its loop (READY), or there are none to wait for (one thread). */
  live: boolean;
  /** Why the workers could not start ('failed'). */
  startError: string | null = null;
  /** Milliseconds of split-worthy work run whole on the calling thread before the workers started. */
  soloMs = 0;
  /** What start() needs: the workers' setups and script (set by create). */
  plan: { setups: WorkerSetup[]; where: WorkerScript; handshakeMs?: number } | null = null;
  private started: Promise<void> | null = null;
  private gen = 0;
  private blocking = true;
  /** Jobs run through the control block (work that was split). */
  jobs = 0;
  /** Kernel calls, split or not (check() runs first in each). */
  calls = 0;
  /** Cancels the keep-alive hint (pool.ts), where the workers keep the process alive. */
  stopHint: (() => void) | null = null;
  /** Jobs whose tiles the calling thread all ran itself (no worker came in time, or run alone). */
  soloJobs = 0;
  /** Jobs run alone on purpose (adapt.ts), without waking the workers. */
  aloneJobs = 0;
  readonly adapt = new Adapt();
  /** Per-thread gemm workspaces; WS[id] in the control block mirrors each one's address. */
  readonly ws: Workspace[] = [];

  constructor(
    readonly raw: KernelExports,
    readonly threads: number,
    readonly grain: Grain,
    readonly stallMs: number,
    readonly spinMicros: number,
  ) {
    this.state = threads > 1 ? 'idle' : 'none';
    this.live = threads === 1;
  }

  attach(ctl: Control): void {
    this.ctl = ctl;
    this.blocking = canBlock(ctl.i32);
    ctl.close();
  }

  /** Throws if the backend cannot run kernels any more. */
  check(): void {
    this.calls++;
    if (this.closing) throw new Error('simdnn: this wasm-threads backend was disposed (shutdown() or a later init() replaced it).');
    if (this.failure) throw new Error(`simdnn: the wasm-threads backend is unusable: ${this.failure}. Call init() again.`);
    if (this.live) {
      // A worker that exits while it takes part is a failure; one that never joined is the start's (start()).
      if (this.state !== 'none' && Atomics.load(this.ctl.i32, DEAD)) this.fail(`worker ${Atomics.load(this.ctl.i32, DEAD) - 1} exited`);
    } else if (this.state === 'starting' && Atomics.load(this.ctl.i32, READY) > 0) this.live = true;
  }

  /**
   * Runs a call that the workers would share, whole on the calling thread (they are not there yet), and
   * starts them once such calls have taken POOL_START_MS.
   */
  solo(run: () => void): void {
    if (this.state !== 'idle') return run();
    const t0 = now();
    run();
    this.soloMs += now() - t0;
    if (this.soloMs >= POOL_START_MS) this.start();
  }

  /** Starts the workers in the background (once); resolves when they run or could not start, never rejects. */
  start(): Promise<void> {
    if (this.started) return this.started;
    if (this.state !== 'idle' || !this.plan || this.closing) return (this.started = Promise.resolve());
    this.state = 'starting';
    const { setups, where, handshakeMs } = this.plan;
    this.started = startWorkers(setups, where, {
      handshakeMs,
      onSpawn: (w) => {
        if (this.closing) return w.terminate();
        this.workers.push(w);
        if (w.keepsAlive && !this.stopHint) this.stopHint = keepAliveHint(setups.length, () => this.calls);
      },
      onDeath: (why, answered) => {
        // One that never answered fails the start instead (the rejection below).
        if (answered && !this.closing && !this.failure && this.state !== 'failed') this.failure = why;
      },
    }).then(
      () => {
        if (this.closing) return;
        this.state = 'running';
        this.live = true;
      },
      (e: unknown) => {
        if (this.closing) return;
        // Back to one thread for good: no job goes through the control block any more, so the exits of
        // workers that had joined (DEAD) mean nothing now. startWorkers has terminated them.
        const n = setups.length;
        this.startError = `could not start ${n} worker${n === 1 ? '' : 's'}: ${(e as Error)?.message ?? e}`;
        this.state = 'failed';
        this.live = false;
        this.workers = [];
        this.stopHint?.();
        this.stopHint = null;
      },
    );
    return this.started;
  }

  fail(why: string): never {
    if (!this.failure) this.failure = why;
    this.ctl?.close();
    throw new Error(`simdnn: the wasm-threads backend is unusable: ${this.failure}. Call init() again.`);
  }

  /** Runs `tiles` calls of export `op` whose arguments are in rows 0 … tiles−1 of ARGS. */
  exec(op: number, tiles: number, wsArg = -1): void {
    const c = this.ctl.i32;
    this.jobs++;
    // Shared with the workers, or every tile on this thread (adapt.ts).
    let shape: Shape | undefined, alone = false;
    if (op >= 0 && this.workers.length > 0 && (this.grain.adapt || this.adapt.force !== null)) {
      const a = this.ctl.f64;
      shape = this.adapt.shape(`${op} ${tiles} ${a[0]} ${a[1]} ${a[2]} ${a[3]}`);
      alone = this.adapt.runAlone;
    }
    Atomics.store(c, OP, op);
    Atomics.store(c, WSARG, wsArg);
    Atomics.store(c, TILES, tiles);
    // One group of tiles per thread (fewer when there are fewer tiles; one when alone); opened after
    // everything above. Alone, GEN stays: the workers neither wake nor look at the job.
    const groups = alone ? 1 : Math.min(tiles, this.threads);
    this.ctl.open(tiles, groups);
    const t0 = shape ? now() : 0;
    if (alone) this.aloneJobs++;
    else {
      this.gen = (this.gen + 1) | 0;
      Atomics.store(c, GEN, this.gen);
      if (Atomics.load(c, SLEEPERS) > 0) Atomics.notify(c, GEN, Math.min(op >= 0 ? tiles - 1 : tiles, this.workers.length));
    }
    if (op >= 0 && this.ctl.runClaimed(0) === tiles) this.soloJobs++;
    this.waitDone(tiles);
    if (shape) this.adapt.record(shape, alone, now() - t0);
    this.ctl.close(groups);
    const err = Atomics.load(c, ERROR);
    if (err) {
      const text = this.ctl.errorText();
      Atomics.store(c, ERRLEN, 0);
      Atomics.store(c, ERROR, 0);
      throw new Error(`simdnn: a kernel tile failed on ${err === 1 ? 'the calling thread' : `worker ${err - 1}`}: ${text}`);
    }
  }

  private waitDone(tiles: number): void {
    const c = this.ctl.i32;
    let d = Atomics.load(c, DONE);
    if (d >= tiles) return;
    const start = now();
    let last = d, lastT = start, i = 0;
    const spinMs = this.blocking ? Math.min(0.2, this.spinMicros / 1000) : Infinity;
    for (;;) {
      d = Atomics.load(c, DONE);
      if (d >= tiles) return;
      if ((++i & 63) !== 0) continue;
      const dead = Atomics.load(c, DEAD);
      if (dead) this.fail(`worker ${dead - 1} exited during a kernel call`);
      const t = now();
      if (d !== last) {
        last = d;
        lastT = t;
      } else if (t - lastT > this.stallMs) {
        this.fail(`no kernel tile finished for ${Math.round(t - lastT)} ms (a worker stopped responding)`);
      }
      // A browser page's main thread may not block: it spins (bounded by the stall check above).
      if (t - start > spinMs) Atomics.wait(c, DONE, d, 2);
    }
  }

  /** Workspace for gemm tiles of every thread, at least `bytes` each; grown and kept. */
  ensureWorkspace(allocator: Allocator, bytes: number): void {
    for (let id = 0; id < this.threads; id++) {
      const ws = (this.ws[id] ??= new Workspace());
      const before = ws.ptr;
      if (ws.ensure(allocator, bytes) !== before) Atomics.store(this.ctl.i32, WS + id, ws.ptr);
    }
  }

  stop(): void {
    this.closing = true;
    if (this.ctl) {
      Atomics.store(this.ctl.i32, SHUTDOWN, 1);
      Atomics.add(this.ctl.i32, GEN, 1);
      Atomics.notify(this.ctl.i32, GEN);
    }
    this.stopHint?.();
    this.stopHint = null;
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}

/** Chunks of a contiguous range: [tiles, chunk] or null when the work stays whole. */
function chunking(n: number, grainOf: number, gr: Grain, threads: number): [number, number] | null {
  if (n < 2 * grainOf) return null;
  let tiles = Math.min(MAX_TILES, threads * gr.perThread, Math.floor(n / grainOf));
  tiles = Math.max(tiles, Math.ceil(n / gr.maxTile));
  if (tiles < 2) return null;
  const chunk = Math.ceil(Math.ceil(n / tiles) / gr.align) * gr.align;
  tiles = Math.ceil(n / chunk);
  return tiles < 2 || tiles > MAX_TILES ? null : [tiles, chunk];
}

/** Splits `units` into at most `tiles` contiguous ranges; the remainder goes to the last. */
function ranges(units: number, tiles: number): number[] {
  const r: number[] = [];
  for (let t = 0; t <= tiles; t++) r.push(Math.floor((t * units) / tiles));
  return r;
}

type Fn = (...a: number[]) => void;

/**
 * The kernel table WasmBackend calls: each entry is the tile function of one export (or the export
 * itself when splitting it makes no sense).
 */
function tiledKernels(d: Dispatcher): KernelExports {
  const raw = d.raw as unknown as Record<string, Fn>;
  const gr = d.grain, T = d.threads;
  const tiledOn = T > 1 || gr.tileAtOne;
  /** Chunked call of an export whose args[countArg] is an element count and args[ptrs] pointers. */
  const chunked = (name: KernelName, countArg: number, ptrs: readonly number[], grainOf: (args: number[]) => number, extra?: (row: Float64Array, o: number, i0: number) => void) => {
    const op = opIndex(name), fn = raw[name];
    return (...args: number[]) => {
      d.check();
      const n = args[countArg];
      const plan = tiledOn ? chunking(n, grainOf(args), gr, T) : null;
      if (!plan) return fn(...args);
      if (!d.live) return d.solo(() => fn(...args));
      const [tiles, chunk] = plan;
      const a = d.ctl.f64;
      for (let t = 0; t < tiles; t++) {
        const o = t * ARG_STRIDE, i0 = t * chunk;
        for (let j = 0; j < args.length; j++) a[o + j] = args[j];
        a[o + countArg] = Math.min(chunk, n - i0);
        for (const p of ptrs) if (args[p]) a[o + p] = args[p] + i0 * 4;
        extra?.(a, o, i0);
      }
      d.exec(op, tiles);
    };
  };
  /** Row-split call: args[rowsArg] rows; args[p] advances by stride(args)[k] floats per row. */
  const byRows = (name: KernelName, rowsArg: number, grainOf: (args: number[]) => number, ptrs: (args: number[]) => [number, number][]) => {
    const op = opIndex(name), fn = raw[name];
    return (...args: number[]) => {
      d.check();
      const rows = args[rowsArg];
      const plan = tiledOn && rows >= 2 ? chunking(rows * Math.max(1, workPerRow(name, args)), grainOf(args), gr, T) : null;
      if (!plan) return fn(...args);
      if (!d.live) return d.solo(() => fn(...args));
      const tiles = Math.min(plan[0], rows);
      const r = ranges(rows, tiles);
      const ps = ptrs(args);
      const a = d.ctl.f64;
      for (let t = 0; t < tiles; t++) {
        const o = t * ARG_STRIDE, r0 = r[t];
        for (let j = 0; j < args.length; j++) a[o + j] = args[j];
        a[o + rowsArg] = r[t + 1] - r0;
        for (const [p, stride] of ps) if (args[p]) a[o + p] = args[p] + r0 * stride * 4;
      }
      d.exec(op, tiles);
    };
  };
  const mem = () => gr.mem, math = () => gr.math, optim = () => gr.optim;

  const binaryOp = opIndex('f32_binary');
  const binary = (op: number, outer: number, rows: number, cols: number, a: number, as0: number, as1: number, as2: number, b: number, bs0: number, bs1: number, bs2: number, out: number) => {
    d.check();
    const total = outer * rows * cols;
    const grainOf = MATH_BINARY.has(op) ? gr.math : gr.mem;
    const plan = tiledOn ? chunking(total, grainOf, gr, T) : null;
    if (!plan) return raw.f32_binary(op, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out);
    if (!d.live) return d.solo(() => raw.f32_binary(op, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out));
    const want = Math.min(plan[0], MAX_TILES >> 1); // the row and column cases below make < 2·want tiles
    const A = d.ctl.f64;
    let t = 0;
    const row = (o0: number, no: number, r0: number, nr: number, c0: number, nc: number) => {
      const x = t++ * ARG_STRIDE;
      A[x] = op; A[x + 1] = no; A[x + 2] = nr; A[x + 3] = nc;
      A[x + 4] = a + (o0 * as0 + r0 * as1 + c0 * as2) * 4; A[x + 5] = as0; A[x + 6] = as1; A[x + 7] = as2;
      A[x + 8] = b + (o0 * bs0 + r0 * bs1 + c0 * bs2) * 4; A[x + 9] = bs0; A[x + 10] = bs1; A[x + 11] = bs2;
      A[x + 12] = out + ((o0 * rows + r0) * cols + c0) * 4;
    };
    if (outer >= want) {
      const r = ranges(outer, want);
      for (let i = 0; i < want; i++) row(r[i], r[i + 1] - r[i], 0, rows, 0, cols);
    } else if (outer * rows >= want) {
      const q = Math.ceil(want / outer);
      const r = ranges(rows, Math.min(q, rows));
      for (let o = 0; o < outer; o++) for (let i = 0; i + 1 < r.length; i++) if (r[i + 1] > r[i]) row(o, 1, r[i], r[i + 1] - r[i], 0, cols);
    } else {
      const q = Math.ceil(want / (outer * rows));
      const chunk = Math.ceil(Math.ceil(cols / q) / gr.align) * gr.align;
      for (let o = 0; o < outer; o++) for (let r0 = 0; r0 < rows; r0++) for (let c0 = 0; c0 < cols; c0 += chunk) row(o, 1, r0, 1, c0, Math.min(chunk, cols - c0));
    }
    if (t > MAX_TILES) throw new Error('simdnn internal error: too many binary tiles');
    d.exec(binaryOp, t);
  };

  const reduceOp = opIndex('f32_reduce');
  const reduce = (op: number, outer: number, n: number, inner: number, x: number, out: number) => {
    d.check();
    const plan = tiledOn && outer >= 2 ? chunking(outer * n * inner, gr.mem, gr, T) : null;
    if (!plan) return raw.f32_reduce(op, outer, n, inner, x, out);
    if (!d.live) return d.solo(() => raw.f32_reduce(op, outer, n, inner, x, out));
    const tiles = Math.min(plan[0], outer);
    const r = ranges(outer, tiles);
    const A = d.ctl.f64;
    for (let t = 0; t < tiles; t++) {
      const o = t * ARG_STRIDE;
      A[o] = op; A[o + 1] = r[t + 1] - r[t]; A[o + 2] = n; A[o + 3] = inner;
      A[o + 4] = x + r[t] * n * inner * 4; A[o + 5] = out + r[t] * inner * 4;
    }
    d.exec(reduceOp, tiles);
  };

  // Elements of work per row, for the row-split kernels.
  function workPerRow(name: KernelName, args: number[]): number {
    return name === 'f32_gather_rows' || name.startsWith('f32_softmax') ? args[1] : 1;
  }

  const k: Record<string, Fn> = { ...raw };
  const passThrough = (name: KernelName) => {
    const fn = raw[name];
    k[name] = (...args: number[]) => {
      d.check();
      return fn(...args);
    };
  };
  for (const name of ['f32_gemm_nn', 'f32_gemm_nt', 'f32_gemm_tn', 'f32_gemm_tt', 'f32_transpose'] as const) passThrough(name);
  k.f32_unary = chunked('f32_unary', 1, [2, 3], (a) => (MATH_UNARY.has(a[0]) ? gr.math : gr.mem));
  k.f32_unary_grad = chunked('f32_unary_grad', 1, [2, 3, 4, 5], (a) => (MATH_UNARY.has(a[0]) ? gr.math : gr.mem));
  k.f32_fill = chunked('f32_fill', 0, [1], mem);
  k.f32_copy = chunked('f32_copy', 0, [1, 2], mem);
  k.f32_affine = chunked('f32_affine', 0, [1, 2], mem);
  k.f32_axpy = chunked('f32_axpy', 0, [2, 3], mem);
  k.f32_dropout = chunked('f32_dropout', 0, [1, 2, 3], mem, (row, o, i0) => {
    row[o + 6] = (row[o + 6] + i0) | 0; // the mask of element i hashes (seed, offset + i)
  });
  k.f32_add_normal = chunked('f32_add_normal', 0, [1], () => gr.math, (row, o, i0) => {
    row[o + 4] = (row[o + 4] + i0) | 0; // the noise of element i hashes (seed, offset + i)
  });
  k.f32_sgd_step = chunked('f32_sgd_step', 0, [1, 2, 3], optim);
  k.f32_adam_step = chunked('f32_adam_step', 0, [1, 2, 3, 4, 5], optim);
  k.f32_rmsprop_step = chunked('f32_rmsprop_step', 0, [1, 2, 3, 4, 5], optim);
  k.f32_adagrad_step = chunked('f32_adagrad_step', 0, [1, 2, 3], optim);
  // int8 (assembly/qgemm.ts): rows of C, else (fewer than two tiles of rows: batch 1) 16-column panels of
  // the packed B. Integer sums are exact and the epilogue is per element, so any split gives the same bits.
  // int8 runs about twice the multiply-adds per second of float32 here, so the gemm grain counts double.
  const q8Op = opIndex('q8_gemm');
  k.q8_gemm = (m: number, n: number, kk: number, a: number, lda: number, b: number, c: number, ldc: number, scale: number, bias: number, act: number, alpha: number, outScale: number, outZero: number, out: number) => {
    d.check();
    const work = 2 * m * n * kk, grain = 2 * gr.gemm;
    const rows = m >= 2 * 8;
    const units = rows ? Math.floor(m / 8) : Math.ceil(n / 16);
    const tiles = tiledOn && work >= 2 * grain ? Math.min(MAX_TILES, units, Math.floor(work / grain), Math.max(T * gr.gemmPerThread, Math.ceil(work / gr.gemmMaxTile))) : 1;
    if (tiles < 2) return raw.q8_gemm(m, n, kk, a, lda, b, c, ldc, scale, bias, act, alpha, outScale, outZero, out);
    const r = ranges(units, tiles);
    const unit = rows ? 8 : 16, whole = rows ? m : n, esize = out ? 1 : 4, kp = (kk + 3) & ~3;
    const A = d.ctl.f64;
    for (let t = 0; t < tiles; t++) {
      const o = t * ARG_STRIDE;
      const s = r[t] * unit, e = t === tiles - 1 ? whole : r[t + 1] * unit;
      A[o] = rows ? e - s : m; A[o + 1] = rows ? n : e - s; A[o + 2] = kk;
      A[o + 3] = rows ? a + s * lda : a; A[o + 4] = lda;
      A[o + 5] = rows ? b : b + s * kp;
      A[o + 6] = c + (rows ? s * ldc : s) * esize; A[o + 7] = ldc;
      A[o + 8] = rows ? scale : scale + s * 4; A[o + 9] = rows ? bias : bias + s * 4;
      A[o + 10] = act; A[o + 11] = alpha; A[o + 12] = outScale; A[o + 13] = outZero; A[o + 14] = out;
    }
    d.exec(q8Op, tiles);
  };
  // q8_quantize writes bytes: the chunks advance x by 4 bytes per element and y by 1.
  const q8qOp = opIndex('q8_quantize');
  k.q8_quantize = (n: number, x: number, y: number, invScale: number, zero: number) => {
    d.check();
    const plan = tiledOn ? chunking(n, gr.mem, gr, T) : null;
    if (!plan) return raw.q8_quantize(n, x, y, invScale, zero);
    const [tiles, chunk] = plan;
    const A = d.ctl.f64;
    for (let t = 0; t < tiles; t++) {
      const o = t * ARG_STRIDE, i0 = t * chunk;
      A[o] = Math.min(chunk, n - i0); A[o + 1] = x + i0 * 4; A[o + 2] = y + i0; A[o + 3] = invScale; A[o + 4] = zero;
    }
    d.exec(q8qOp, tiles);
  };
  k.f32_binary = binary as Fn;
  k.f32_reduce = reduce as Fn;
  k.f32_softmax = byRows('f32_softmax', 0, math, (a) => [[2, a[1]], [3, a[1]]]);
  k.f32_softmax_xent = byRows('f32_softmax_xent', 0, math, (a) => [[2, a[1]], [3, a[4] ? a[1] : 1], [5, a[1]], [6, 1]]);
  k.f32_softmax_xent_grad = byRows('f32_softmax_xent_grad', 0, math, (a) => [[2, a[1]], [3, a[4] ? a[1] : 1], [5, 1], [6, a[1]]]);
  k.f32_gather_rows = byRows('f32_gather_rows', 0, mem, (a) => [[3, 1], [4, a[1]]]);
  return k as unknown as KernelExports;
}

export class WasmThreadsBackend extends WasmBackend {
  override readonly name = 'wasm-threads' as const;
  /** Threads that run kernels, the calling thread included. */
  readonly threads: number;
  private readonly d: Dispatcher;
  private readonly gemmOp: Record<string, number>;
  /** @internal Tests: the tile grain of backends that init() starts (their options have none). */
  static grainForTests: 'default' | 'fine' | undefined;
  /**
   * Tests: create() waits for the workers instead of starting them after POOL_START_MS of work. Fine tiles
   * round some products differently from one whole call (the relaxed gemm's row edges), so a test that
   * compares two runs must not have the workers join between them.
   */
  static startAtOnceForTests = false;

  private constructor(opts: ThreadsOptions, memory: WebAssembly.Memory, d: Dispatcher, maxBytes: number, notes: readonly string[]) {
    super(opts.binary, memory, tiledKernels(d), maxBytes, notes);
    this.d = d;
    this.threads = d.threads;
    this.gemmOp = { nn: opIndex('f32_gemm_nn'), nt: opIndex('f32_gemm_nt'), tn: opIndex('f32_gemm_tn'), tt: opIndex('f32_gemm_tt') };
  }

  /**
   * The backend, usable at once on the calling thread; its workers start later (POOL_START_MS, or
   * startWorkers()). Rejects with a clear Error when the worker script is a file that does not exist.
   */
  static override async create(opts: ThreadsOptions): Promise<WasmThreadsBackend> {
    const threads = opts.threads;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
      throw new RangeError(`wasm-threads: threads must be an integer in 1..${MAX_THREADS}, got ${String(threads)}`);
    if (!opts.binary.endsWith('-shared')) throw new Error(`wasm-threads: needs a shared-memory kernel build, not '${opts.binary}'`);
    let where: WorkerScript | null = null;
    if (threads > 1)
      try {
        where = await workerScript(opts.workerUrl);
      } catch (e) {
        throw new Error(`wasm-threads: could not start ${threads - 1} worker${threads === 2 ? '' : 's'}: ${(e as Error)?.message ?? e}`);
      }
    // Workers instantiate the same compiled modules (the core and, in a relaxed build, the relaxed gemm).
    const { memory, exports, maxBytes, modules, build, notes } = await WasmBackend.setup(opts);
    const gOpt = opts.grain ?? WasmThreadsBackend.grainForTests ?? 'default';
    const grain = typeof gOpt === 'string' ? GRAINS[gOpt] : { ...GRAINS.default, ...gOpt };
    const d = new Dispatcher(exports, threads, grain, opts.stallMs ?? 20_000, opts.spinMicros ?? 300);
    const b = new WasmThreadsBackend({ ...opts, binary: build }, memory, d, maxBytes, notes);
    // The control block on its own cache lines; allocated first, so it sits low in the memory.
    const raw = b.allocator.alloc((CONTROL_BYTES + 64) / 4);
    const ptr = (raw + 63) & ~63;
    new Int32Array(memory.buffer, ptr, CONTROL_BYTES >> 2).fill(0);
    d.attach(new Control(memory, ptr, exports));
    if (where)
      d.plan = {
        setups: Array.from({ length: threads - 1 }, (_, i) => ({ module: modules.core, gemmModule: modules.gemm, memory, control: ptr, id: i + 1, spinMicros: d.spinMicros })),
        where,
        handshakeMs: opts.startTimeoutMs,
      };
    b.keepsAlive = where !== null && keepsProcessAlive(where);
    if (where && WasmThreadsBackend.startAtOnceForTests) await b.startWorkers();
    return b;
  }

  /** Null while usable; else why not (a worker that took part died or stalled). init() again makes a fresh backend. */
  get failure(): string | null {
    const d = this.d;
    if (!d.failure && d.live && d.state !== 'none' && Atomics.load(d.ctl.i32, DEAD)) d.failure = `worker ${Atomics.load(d.ctl.i32, DEAD) - 1} exited`;
    return d.failure;
  }

  /** Where the workers stand (PoolState). */
  get pool(): PoolState {
    return this.d.state;
  }

  /** Why the workers could not start (pool 'failed'), else null: the backend then runs on the calling thread only. */
  get startError(): string | null {
    return this.d.startError;
  }

  /** Threads that run kernels now or will: `threads`, or 1 once the workers could not start. */
  get activeThreads(): number {
    return this.d.state === 'failed' ? 1 : this.threads;
  }

  /**
   * Starts the workers now instead of after POOL_START_MS of work (tests, benchmarks); resolves once they
   * run or could not start (pool, startError), never rejects. The process stays alive while it waits.
   */
  async startWorkers(): Promise<void> {
    const started = this.d.start();
    if (this.d.state !== 'starting') return started;
    const keep = setInterval(() => {}, 1 << 30);
    try {
      await started;
    } finally {
      clearInterval(keep);
    }
  }

  override gemm(g: GemmArgs): void {
    const d = this.d;
    d.check();
    checkCode('activation', g.act);
    const { m, n, k, transA: ta, transB: tb } = g;
    if (m === 0 || n === 0) return;
    const gr = d.grain, T = d.threads;
    const flops = 2 * m * n * k;
    if ((T === 1 && !gr.tileAtOne) || flops < 2 * gr.gemm) return super.gemm(g);
    // Split the side whose extra tiles re-pack less: rows re-pack B (k·n each), columns A (m·k).
    // Row tiles keep at least MIN_TILE_ROWS rows, so a tile never takes the kernel's small-m path
    // (different rounding) unless the whole product does; column tiles any multiple of 8.
    const rowTiles = Math.floor(m / gr.minRows), colTiles = Math.floor(n / 8);
    let rows = m >= n ? rowTiles >= 2 || colTiles < 2 : colTiles < 2;
    if (gr.split !== 'auto') rows = gr.split === 'rows';
    const cap = Math.min(MAX_TILES, Math.max(Math.floor(flops / gr.gemm), 1), Math.max(T * gr.gemmPerThread, Math.ceil(flops / gr.gemmMaxTile)));
    const tiles = Math.min(rows ? rowTiles : colTiles, cap);
    if (tiles < 2) return super.gemm(g);
    const units = Math.floor((rows ? m : n) / 8);
    const r = ranges(units, tiles);
    const span = (t: number) => [r[t] * 8, t === tiles - 1 ? (rows ? m : n) : r[t + 1] * 8] as const;
    // Every thread's workspace must fit the largest tile. Grown at the first call of a shape even while the
    // call still runs whole here (the workers have not joined yet): a training step then allocates nothing
    // after its first, whenever they join.
    let need = 0;
    for (let t = 0; t < tiles; t++) {
      const [s, e] = span(t);
      need = Math.max(need, rows ? this.k.f32_gemm_workspace(e - s, n, k) : this.k.f32_gemm_workspace(m, e - s, k));
    }
    if (d.state !== 'failed') d.ensureWorkspace(this.allocator, Math.max(need, 16));
    if (!d.live) return d.solo(() => super.gemm(g));
    const lda = ta ? m : k, ldb = tb ? k : n;
    const a = g.a as number, b = g.b as number, c = g.c as number, bias = (g.bias as number | null) ?? 0;
    const A = d.ctl.f64;
    for (let t = 0; t < tiles; t++) {
      const o = t * ARG_STRIDE;
      const [s, e] = span(t);
      A[o] = rows ? e - s : m;
      A[o + 1] = rows ? n : e - s;
      A[o + 2] = k;
      A[o + 3] = rows ? a + (ta ? s : s * lda) * 4 : a;
      A[o + 4] = lda;
      A[o + 5] = rows ? b : b + (tb ? s * ldb : s) * 4;
      A[o + 6] = ldb;
      A[o + 7] = c + (rows ? s * n : s) * 4;
      A[o + 8] = n;
      A[o + 9] = bias && !rows ? bias + s * 4 : bias;
      A[o + 10] = g.act;
      A[o + 11] = g.alpha;
      A[o + 12] = g.beta;
      A[o + 13] = 0; // WS[id] of the thread that runs it
    }
    d.exec(this.gemmOp[(ta ? 't' : 'n') + (tb ? 't' : 'n')], tiles, 13);
  }

  /** Kernel calls that were split over threads so far (the rest ran whole on the calling thread). */
  get jobs(): number {
    return this.d.jobs;
  }

  /** Split calls that ran alone on the calling thread because that was faster at the time (adapt.ts). */
  get aloneJobs(): number {
    return this.d.aloneJobs;
  }

  /**
   * @internal Test hook: every split call runs alone on the calling thread (true), shared (false), or
   * as its timings decide (null, the default).
   */
  _testAlone(on: boolean | null): void {
    this.d.adapt.force = on;
  }

  private keepsAlive = false;
  /** Whether the workers, once started, keep the process alive until shutdown() (web Workers in Deno: pool.ts). */
  get keepsProcessAlive(): boolean {
    return this.keepsAlive;
  }

  /** Workers created and not stopped (threads − 1 once they started, 0 before and after dispose()). */
  get workerCount(): number {
    return this.d.workers.length;
  }

  /**
   * @internal Test hook: a worker fails. 'exit': its thread exits in the middle of a job; 'hang': it never
   * finishes its tile; 'terminate': its thread is ended from outside between jobs (as a crash would).
   */
  _testFault(kind: 'exit' | 'hang' | 'terminate'): void {
    this.d.check();
    if (this.d.workers.length === 0 || !this.d.live) throw new Error('_testFault needs a running worker (await startWorkers())');
    if (kind === 'terminate') return this.d.workers[0].kill();
    // Negative op codes are claimed by workers only (the calling thread does not run them).
    this.d.exec(kind === 'exit' ? -1 : -2, 1);
  }

  override dispose(): void {
    this.d.stop();
    super.dispose();
  }
}
