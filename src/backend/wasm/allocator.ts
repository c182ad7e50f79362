/**
 * The one allocator over the runtime's WebAssembly.Memory. It lives in JS (kernels never allocate) and
 * hands out 16-byte aligned blocks with a 16-byte tail pad, so SIMD loads at a tensor's tail may read
 * past the last element without touching a neighbour. Free blocks are kept sorted by address and
 * coalesced; the best fit is reused first, so a training loop that frees and allocates the same sizes
 * every step settles into a fixed set of blocks and the memory stops growing.
 */

const ALIGN = 16;
const PAGE = 65536;

export class OutOfMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

export class Allocator {
  private top: number;
  /** Free blocks sorted by address: [ptr, bytes] pairs. */
  private freeList: number[] = [];
  private sizes = new Map<number, number>();
  allocatedBytes = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes: number,
  ) {
    this.top = roundUp(base, ALIGN);
  }

  /** Bytes reserved for `floats` elements: aligned size plus the tail pad. */
  static blockBytes(floats: number): number {
    return roundUp(floats * 4, ALIGN) + ALIGN;
  }

  alloc(floats: number): number {
    const bytes = Allocator.blockBytes(floats);
    const ptr = this.takeFree(bytes) ?? this.takeTop(bytes);
    this.sizes.set(ptr, bytes);
    this.allocatedBytes += bytes;
    return ptr;
  }

  free(ptr: number): void {
    const bytes = this.sizes.get(ptr);
    if (bytes === undefined) throw new Error(`simdnn internal error: free of unknown block ${ptr}`);
    this.sizes.delete(ptr);
    this.allocatedBytes -= bytes;
    this.insertFree(ptr, bytes);
  }

  /** Bytes of memory the allocator has taken from the system. */
  get reservedBytes(): number {
    return this.memory.buffer.byteLength;
  }

  get liveBlocks(): number {
    return this.sizes.size;
  }

  private takeFree(bytes: number): number | undefined {
    const f = this.freeList;
    let best = -1;
    for (let i = 0; i < f.length; i += 2) {
      if (f[i + 1] >= bytes && (best < 0 || f[i + 1] < f[best + 1])) {
        best = i;
        if (f[i + 1] === bytes) break;
      }
    }
    if (best < 0) return undefined;
    const ptr = f[best];
    if (f[best + 1] === bytes) f.splice(best, 2);
    else {
      f[best] += bytes;
      f[best + 1] -= bytes;
    }
    return ptr;
  }

  private takeTop(bytes: number): number {
    // A free block that ends at the top can be extended instead of leaving a hole.
    const f = this.freeList;
    let ptr = this.top;
    if (f.length && f[f.length - 2] + f[f.length - 1] === this.top) {
      ptr = f[f.length - 2];
      f.length -= 2;
    }
    const end = ptr + bytes;
    if (end > this.maxBytes) {
      if (ptr !== this.top) this.insertFree(ptr, this.top - ptr);
      throw new OutOfMemoryError(
        `simdnn: out of memory: ${fmt(bytes)} requested with ${fmt(this.allocatedBytes)} in use; the wasm memory ` +
          `cannot grow past ${fmt(this.maxBytes)}. Dispose tensors you no longer need (tensor.dispose(), tidy()), ` +
          `use smaller batches, or pass a larger maxMemoryMB to init().`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow geometrically (at least 1/8 more) so a growing workload grows the memory rarely.
      const want = Math.min(Math.max(end, have + (have >>> 3)), this.maxBytes);
      try {
        this.memory.grow(Math.ceil((want - have) / PAGE));
      } catch {
        try {
          this.memory.grow(Math.ceil((end - have) / PAGE));
        } catch {
          if (ptr !== this.top) this.insertFree(ptr, this.top - ptr);
          throw new OutOfMemoryError(
            `simdnn: out of memory: the system refused to grow the wasm memory to ${fmt(end)} ` +
              `(${fmt(this.allocatedBytes)} in use). Dispose tensors you no longer need or use smaller batches.`,
          );
        }
      }
    }
    this.top = end;
    return ptr;
  }

  private insertFree(ptr: number, bytes: number): void {
    const f = this.freeList;
    // Binary search for the first block above ptr.
    let lo = 0, hi = f.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (f[mid * 2] < ptr) lo = mid + 1;
      else hi = mid;
    }
    let i = lo * 2;
    // Merge with the following block, then with the preceding one.
    if (i < f.length && ptr + bytes === f[i]) {
      bytes += f[i + 1];
      f.splice(i, 2);
    }
    if (i > 0 && f[i - 2] + f[i - 1] === ptr) {
      f[i - 1] += bytes;
      ptr = f[i - 2];
      bytes = f[i - 1];
      i -= 2;
    } else f.splice(i, 0, ptr, bytes);
    // A free block touching the top goes back to the top.
    if (ptr + bytes === this.top) {
      f.splice(i, 2);
      this.top = ptr;
    }
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function fmt(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * A gemm packing workspace: grown on demand (by half again at least, so a slowly growing need reallocates
 * rarely) and kept. The wasm backend holds one; the threads backend one per thread.
 */
export class Workspace {
  ptr = 0;
  bytes = 0;

  /** The workspace's address, at least `bytes` long; a grown one moves (the old block is freed first). */
  ensure(allocator: Allocator, bytes: number): number {
    if (bytes <= this.bytes) return this.ptr;
    const grown = Math.max(bytes, Math.ceil(this.bytes * 1.5));
    if (this.ptr) allocator.free(this.ptr);
    this.ptr = 0;
    this.bytes = 0;
    this.ptr = allocator.alloc(Math.ceil(grown / 4));
    this.bytes = grown;
    return this.ptr;
  }
}
