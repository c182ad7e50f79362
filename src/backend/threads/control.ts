// The control block: one region of the shared memory through which the calling thread hands kernel
// work to the workers, with Atomics and no messages. The main thread and every worker run the same
// claim loop (runClaimed) over it, so a tile means the same thing on every thread.
//
// Layout (Int32 word indices from the block's start; words that threads hammer sit on their own
// 64-byte line so claiming tiles does not invalidate the line the workers wait on):
//
//   line 0   GEN       job generation: bumped by the main thread to start a job; workers wait on it
//            OP        index of the export to call (KERNEL_NAMES order; < 0: test faults)
//            TILES     tiles in the job (≤ MAX_TILES)
//            WSARG     argument index that takes the running thread's own gemm workspace, or −1
//            SHUTDOWN  1: workers leave their loop
//            GROUPS    tile groups in the job (one per thread that owns tiles)
//   line 1   DONE      tiles finished in this job (the main thread waits for DONE == TILES)
//   line 2   ERROR     0, or 1 + the id of the first thread whose tile threw (its text is in ERRTEXT)
//            DEAD      0, or 1 + the id of a worker that exited (set by the worker's own exit hook)
//            ERRLEN    bytes of ERRTEXT used
//            SLEEPERS  workers blocked in Atomics.wait (the main thread skips notify when 0)
//            READY     workers that have entered their loop (the main thread splits work from the first on)
//   words 48…111       WS[id]: byte offset of thread id's gemm workspace (id 0 = the calling thread)
//   bytes 512…1023     ERRTEXT: UTF-8 message of the first tile error
//   words 256 + 16·g   CLAIM[g], one line per group g: (end << 16) | next, the group's unclaimed tiles
//                      [next, end): the owner claims next, a thief end − 1; 0 (closed) between jobs
//   bytes 5120…        ARGS: Float64 arguments, ARG_STRIDE per tile (tile t's call is
//                      OP(ARGS[t·ARG_STRIDE …])), exactly the numbers the main thread would pass
//
// Tiles are split into contiguous groups, group g belonging to thread g (the calling thread is 0). A
// thread claims its own group's tiles from the front first and then steals from the back of the others,
// so the same thread keeps touching the same part of the memory from one call to the next (on this
// machine's cores, data that moves between cores costs more than the work on it), a thief takes the
// tiles their owner would reach last, and a late or busy thread holds nobody up.
//
// Why claims are safe against a worker that wakes late, still looking at a finished job: a claim word
// carries both bounds, and a claim (at either end) succeeds only by compare-exchange from a value with
// next < end.
// Between jobs the words are 0 (nothing to claim); the main thread writes a job's arguments before it
// opens the words, and closes them only after every tile is counted in DONE. So a word with next < end
// always belongs to the open job, a successful claim is a tile of that job, and everything the tile
// needs (TILES, OP, ARGS) is read after the claim — that job cannot finish, nor its arguments change,
// before the tile is done. A late worker finds nothing or helps with the open job; it never runs a
// tile twice or with half-written arguments.
import { KERNEL_NAMES, type KernelExports } from '../wasm/exports.js';

export const GEN = 0, OP = 1, TILES = 2, WSARG = 3, SHUTDOWN = 4, GROUPS = 5;
export const DONE = 16;
export const ERROR = 32, DEAD = 33, ERRLEN = 34, SLEEPERS = 35, READY = 36;
export const WS = 48;
export const MAX_THREADS = 64;
/**
 * Milliseconds of kernel work that the workers would have shared, run on the calling thread, after which
 * they start (backend.ts). Starting costs the calling thread ~3 ms per worker (Node's `new Worker`,
 * measured on the 2-core EPYC) and each worker ~100 ms and tens of CPU ms before it answers, so work
 * that ends sooner never pays for them; training (seconds) pays it in its first steps.
 */
export const POOL_START_MS = 20;
export const ERRTEXT_BYTE = 512, ERRTEXT_BYTES = 512;
export const CLAIM = 256, CLAIM_STRIDE = 16;
export const ARGS_BYTE = (CLAIM + MAX_THREADS * CLAIM_STRIDE) * 4;
/** The most arguments of any export (f32_adam_step has 17). */
export const ARG_STRIDE = 17;
export const MAX_TILES = 256;
export const CONTROL_BYTES = ARGS_BYTE + MAX_TILES * ARG_STRIDE * 8;

/** Export index ↔ name; the worker looks exports up by index. */
export const OPS = KERNEL_NAMES;
export type KernelName = (typeof KERNEL_NAMES)[number];
export const opIndex = (name: KernelName): number => OPS.indexOf(name);

type AnyFn = (...a: number[]) => void;

/** Views of one control block (all threads build their own over the same bytes). */
export class Control {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly text: Uint8Array;
  private readonly fns: AnyFn[];

  constructor(memory: WebAssembly.Memory, readonly ptr: number, kernels: KernelExports) {
    // Shared buffers never detach and the block sits below the allocator's top when it is made, so
    // these views stay valid when the memory grows.
    const buf = memory.buffer;
    this.i32 = new Int32Array(buf, ptr, ARGS_BYTE >> 2);
    this.f64 = new Float64Array(buf, ptr + ARGS_BYTE, MAX_TILES * ARG_STRIDE);
    this.text = new Uint8Array(buf, ptr + ERRTEXT_BYTE, ERRTEXT_BYTES);
    this.fns = OPS.map((n) => (kernels as unknown as Record<string, AnyFn>)[n]);
  }

  /**
   * Claims tiles of the open job — its own group's first, from the front, then the other groups', from
   * the back — and runs them until none is left; returns how many it ran. `id` is the thread (0: the
   * calling thread): it picks the group to start from and the workspace WS[id] for gemm tiles. A tile
   * that throws is recorded (the first error wins) and still counted, so the job always completes.
   */
  runClaimed(id: number, fault?: (op: number) => void): number {
    const c = this.i32;
    const groups = Atomics.load(c, GROUPS);
    let ran = 0;
    for (let k = 0; k < groups; k++) {
      const word = CLAIM + ((id + k) % groups) * CLAIM_STRIDE;
      for (;;) {
        const w = Atomics.load(c, word);
        const next = w & 0xffff, end = w >>> 16;
        if (next >= end) break;
        const t = k === 0 ? next : end - 1;
        if (Atomics.compareExchange(c, word, w, k === 0 ? w + 1 : w - 0x10000) !== w) continue;
        const op = Atomics.load(c, OP);
        if (op < 0) {
          // Test faults (WasmThreadsBackend._testFault): only workers claim them; never counted as done.
          fault?.(op);
          return ran;
        }
        this.run(id, op, t);
        ran++;
        if (Atomics.add(c, DONE, 1) + 1 === Atomics.load(c, TILES)) Atomics.notify(c, DONE);
      }
    }
    return ran;
  }

  private run(id: number, op: number, t: number): void {
    const a = this.f64, o = t * ARG_STRIDE;
    const wsArg = Atomics.load(this.i32, WSARG);
    if (wsArg >= 0) a[o + wsArg] = Atomics.load(this.i32, WS + id);
    try {
      this.fns[op](a[o], a[o + 1], a[o + 2], a[o + 3], a[o + 4], a[o + 5], a[o + 6], a[o + 7], a[o + 8],
        a[o + 9], a[o + 10], a[o + 11], a[o + 12], a[o + 13], a[o + 14], a[o + 15], a[o + 16]);
    } catch (e) {
      this.recordError(id, e);
    }
  }

  /** Opens a job of `tiles` tiles in `groups` contiguous groups (arguments, OP, TILES already written). */
  open(tiles: number, groups: number): void {
    const c = this.i32;
    Atomics.store(c, GROUPS, groups);
    Atomics.store(c, DONE, 0);
    for (let g = 0; g < groups; g++) {
      const start = Math.floor((g * tiles) / groups), end = Math.floor(((g + 1) * tiles) / groups);
      Atomics.store(c, CLAIM + g * CLAIM_STRIDE, (end << 16) | start);
    }
  }

  /** Closes the claim words of the first `groups` groups (after the job, or when giving up on it). */
  close(groups = MAX_THREADS): void {
    for (let g = 0; g < groups; g++) Atomics.store(this.i32, CLAIM + g * CLAIM_STRIDE, 0);
  }

  recordError(id: number, e: unknown): void {
    if (Atomics.compareExchange(this.i32, ERROR, 0, id + 1) !== 0) return;
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const bytes = new TextEncoder().encode(msg).subarray(0, ERRTEXT_BYTES);
    // TextDecoder refuses views of shared memory: copy byte by byte.
    for (let i = 0; i < bytes.length; i++) this.text[i] = bytes[i];
    Atomics.store(this.i32, ERRLEN, bytes.length);
  }

  errorText(): string {
    const n = Atomics.load(this.i32, ERRLEN);
    return new TextDecoder().decode(this.text.slice(0, n));
  }
}
