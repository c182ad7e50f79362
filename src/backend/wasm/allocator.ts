/**
 * The one allocator over the runtime's WebAssembly.Memory. It lives in JS (kernels never allocate) and
 * hands out 16-byte aligned blocks with a 16-byte tail pad, so SIMD loads at a tensor's tail may read
 * past the last element without touching a neighbour. Freed blocks are coalesced with free neighbours
 * (a free block that reaches the top goes back to the top); the best fit (smallest free block that
 * fits, lowest address among equals) is reused first, so a training loop that frees and allocates the
 * same sizes every step settles into a fixed set of blocks and the memory stops growing.
 *
 * alloc and free cost O(log f) for f free blocks, whatever the number of live blocks: free blocks sit
 * in an AVL tree keyed by (size, address), and every block (live or free) is a record that knows its
 * neighbours in address order, so coalescing needs no search. The bookkeeping is in JS typed arrays,
 * never in the wasm memory: a kernel that overruns its block cannot corrupt it, and workers never see it.
 */

const ALIGN = 16;
const PAGE = 65536;
/** No record (an empty tree, no neighbour). */
const NIL = -1;
const FREE = 1;
const LIVE = 2;
/** Golden-ratio multiplier for the live table's hash: block addresses are evenly spaced, this spreads them. */
const HASH_MUL = 0x9e3779b1;

export class OutOfMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

export class Allocator {
  /** End of the last block; everything from here to maxBytes is unclaimed. Bytes. */
  private top: number;

  // Block records, one per live or free block, as parallel arrays indexed by record id. Addresses and
  // sizes are in 16-byte units so that a 4 GiB memory fits an Int32Array. Blocks tile [base, top) in
  // address order through prev/next; no free block touches the top (it is given back instead).
  private at = new Int32Array(64);
  private units = new Int32Array(64);
  private prev = new Int32Array(64);
  private next = new Int32Array(64);
  private state = new Uint8Array(64);
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  private height = new Int8Array(64);
  private records = 0;
  private spare: number[] = [];
  /** The block that ends at the top. */
  private last = NIL;
  /** Root of the free tree. */
  private root = NIL;
  private frees = 0;

  // Live blocks by address: open addressing with linear probing; keys are address units + 1 (0: empty).
  // Not a Map: V8 leaves a deleted Map entry in its bucket chain until the table is rebuilt, and with
  // ~10^5 live blocks that is rare, so freeing and reallocating the same address (what every predict
  // does) walks an ever longer chain: ~23 µs per set/delete pair at 200k entries. Deleting here shifts
  // the rest of the probe run back, leaving no tombstones.
  private keys = new Int32Array(1024);
  private vals = new Int32Array(1024);
  private hashShift = 32 - 10;
  private live = 0;

  allocatedBytes = 0;
  /** Free-tree nodes visited and live-table slots probed so far; tests read them to bound the work per call. */
  readonly work = { nodes: 0, probes: 0 };

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
    if (!(bytes >= ALIGN)) throw new Error(`simdnn internal error: alloc of ${floats} floats`);
    const u = bytes / ALIGN;
    let r = this.bestFit(u);
    if (r === NIL) r = this.takeTop(bytes);
    else {
      this.remove(r);
      if (this.units[r] > u) this.split(r, u);
    }
    this.state[r] = LIVE;
    this.tableAdd(this.at[r], r);
    this.allocatedBytes += bytes;
    return this.at[r] * ALIGN;
  }

  free(ptr: number): void {
    const r = ptr % ALIGN === 0 ? this.tableTake(ptr / ALIGN) : NIL;
    if (r === NIL) throw new Error(`simdnn internal error: free of unknown block ${ptr} (freed twice, or not from this allocator)`);
    this.allocatedBytes -= this.units[r] * ALIGN;
    let b = r;
    const n = this.next[b];
    if (n !== NIL && this.state[n] === FREE) {
      this.remove(n);
      this.absorb(b, n);
    }
    const p = this.prev[b];
    if (p !== NIL && this.state[p] === FREE) {
      this.remove(p);
      this.absorb(p, b);
      b = p;
    }
    if (this.next[b] === NIL) {
      // It reaches the top: the top comes down instead of keeping a free block there.
      this.top = this.at[b] * ALIGN;
      this.last = this.prev[b];
      if (this.last !== NIL) this.next[this.last] = NIL;
      this.drop(b);
    } else {
      this.state[b] = FREE;
      this.insert(b);
    }
  }

  /** Bytes of memory the allocator has taken from the system. */
  get reservedBytes(): number {
    return this.memory.buffer.byteLength;
  }

  get liveBlocks(): number {
    return this.live;
  }

  /** Free blocks below the top (holes between live blocks; neighbours are always merged). */
  get freeBlocks(): number {
    return this.frees;
  }

  /** Claims `bytes` at the top, growing the memory when it ends past the buffer. */
  private takeTop(bytes: number): number {
    const ptr = this.top;
    const end = ptr + bytes;
    if (end > this.maxBytes) {
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
          throw new OutOfMemoryError(
            `simdnn: out of memory: the system refused to grow the wasm memory to ${fmt(end)} ` +
              `(${fmt(this.allocatedBytes)} in use). Dispose tensors you no longer need or use smaller batches.`,
          );
        }
      }
    }
    // Only now, when nothing can throw: a failed alloc leaves no trace.
    const r = this.record();
    this.at[r] = ptr / ALIGN;
    this.units[r] = bytes / ALIGN;
    this.prev[r] = this.last;
    this.next[r] = NIL;
    if (this.last !== NIL) this.next[this.last] = r;
    this.last = r;
    this.top = end;
    return r;
  }

  /** Cuts block r (out of the tree) to u units; the rest becomes a free block after it. */
  private split(r: number, u: number): void {
    const rest = this.record(); // may reallocate the arrays: index this.* afresh below
    this.at[rest] = this.at[r] + u;
    this.units[rest] = this.units[r] - u;
    this.units[r] = u;
    const n = this.next[r]; // never NIL: a free block does not touch the top
    this.prev[rest] = r;
    this.next[rest] = n;
    this.next[r] = rest;
    if (n !== NIL) this.prev[n] = rest;
    else this.last = rest;
    this.state[rest] = FREE;
    this.insert(rest);
  }

  /** Block a takes in its next neighbour b (both out of the tree); b's record is dropped. */
  private absorb(a: number, b: number): void {
    this.units[a] += this.units[b];
    const n = this.next[b];
    this.next[a] = n;
    if (n !== NIL) this.prev[n] = a;
    else this.last = a;
    this.drop(b);
  }

  private record(): number {
    const r = this.spare.pop();
    if (r !== undefined) return r;
    if (this.records === this.at.length) {
      const cap = this.at.length * 2;
      this.at = grown(this.at, new Int32Array(cap));
      this.units = grown(this.units, new Int32Array(cap));
      this.prev = grown(this.prev, new Int32Array(cap));
      this.next = grown(this.next, new Int32Array(cap));
      this.state = grown(this.state, new Uint8Array(cap));
      this.left = grown(this.left, new Int32Array(cap));
      this.right = grown(this.right, new Int32Array(cap));
      this.height = grown(this.height, new Int8Array(cap));
    }
    return this.records++;
  }

  private drop(r: number): void {
    this.state[r] = 0;
    this.spare.push(r);
  }

  // ---- the free tree: AVL, ordered by (units, at) ----

  /** The smallest free block of at least u units, the lowest address among equals; NIL if none. */
  private bestFit(u: number): number {
    let n = this.root, best = NIL;
    while (n !== NIL) {
      this.work.nodes++;
      if (this.units[n] >= u) {
        best = n;
        n = this.left[n];
      } else n = this.right[n];
    }
    return best;
  }

  private insert(r: number): void {
    this.left[r] = NIL;
    this.right[r] = NIL;
    this.height[r] = 1;
    this.root = this.insertAt(this.root, r);
    this.frees++;
  }

  private remove(r: number): void {
    this.root = this.removeAt(this.root, r);
    this.frees--;
  }

  private before(a: number, b: number): boolean {
    return this.units[a] < this.units[b] || (this.units[a] === this.units[b] && this.at[a] < this.at[b]);
  }

  private insertAt(n: number, r: number): number {
    if (n === NIL) return r;
    this.work.nodes++;
    if (this.before(r, n)) this.left[n] = this.insertAt(this.left[n], r);
    else this.right[n] = this.insertAt(this.right[n], r);
    return this.balance(n);
  }

  private removeAt(n: number, r: number): number {
    if (n === NIL) throw new Error('simdnn internal error: a free block is missing from the allocator tree');
    this.work.nodes++;
    if (n === r) {
      const l = this.left[n], rt = this.right[n];
      if (l === NIL) return rt;
      if (rt === NIL) return l;
      let m = rt;
      while (this.left[m] !== NIL) m = this.left[m];
      this.right[m] = this.removeMin(rt);
      this.left[m] = l;
      return this.balance(m);
    }
    if (this.before(r, n)) this.left[n] = this.removeAt(this.left[n], r);
    else this.right[n] = this.removeAt(this.right[n], r);
    return this.balance(n);
  }

  private removeMin(n: number): number {
    this.work.nodes++;
    if (this.left[n] === NIL) return this.right[n];
    this.left[n] = this.removeMin(this.left[n]);
    return this.balance(n);
  }

  private h(n: number): number {
    return n === NIL ? 0 : this.height[n];
  }

  private fix(n: number): void {
    this.height[n] = 1 + Math.max(this.h(this.left[n]), this.h(this.right[n]));
  }

  private rotateRight(n: number): number {
    const l = this.left[n];
    this.left[n] = this.right[l];
    this.right[l] = n;
    this.fix(n);
    this.fix(l);
    return l;
  }

  private rotateLeft(n: number): number {
    const r = this.right[n];
    this.right[n] = this.left[r];
    this.left[r] = n;
    this.fix(n);
    this.fix(r);
    return r;
  }

  private balance(n: number): number {
    const l = this.left[n], r = this.right[n];
    const d = this.h(l) - this.h(r);
    if (d > 1) {
      if (this.h(this.left[l]) < this.h(this.right[l])) this.left[n] = this.rotateLeft(l);
      return this.rotateRight(n);
    }
    if (d < -1) {
      if (this.h(this.right[r]) < this.h(this.left[r])) this.right[n] = this.rotateRight(r);
      return this.rotateLeft(n);
    }
    this.fix(n);
    return n;
  }

  // ---- live blocks by address ----

  private slot(key: number): number {
    return Math.imul(key, HASH_MUL) >>> this.hashShift;
  }

  private tableAdd(at: number, r: number): void {
    if ((this.live + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const mask = this.keys.length - 1, key = at + 1;
    let i = this.slot(key);
    while (this.keys[i] !== 0) {
      this.work.probes++;
      i = (i + 1) & mask;
    }
    this.keys[i] = key;
    this.vals[i] = r;
    this.live++;
  }

  /** Removes the live block at `at` (16-byte units) and returns its record; NIL if there is none. */
  private tableTake(at: number): number {
    const keys = this.keys, vals = this.vals, mask = keys.length - 1, key = at + 1;
    let i = this.slot(key);
    for (;;) {
      this.work.probes++;
      const k = keys[i];
      if (k === 0) return NIL;
      if (k === key) break;
      i = (i + 1) & mask;
    }
    const r = vals[i];
    // Backward shift: an entry further along the run moves into the gap when the gap lies between its
    // home slot and where it sits, so every key stays reachable from its home without tombstones.
    let gap = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      if (((j - this.slot(keys[j])) & mask) >= ((j - gap) & mask)) {
        keys[gap] = keys[j];
        vals[gap] = vals[j];
        gap = j;
      }
    }
    keys[gap] = 0;
    this.live--;
    return r;
  }

  private rehash(cap: number): void {
    const oldKeys = this.keys, oldVals = this.vals;
    this.keys = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.hashShift = 32 - Math.log2(cap);
    const mask = cap - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j];
      if (key === 0) continue;
      let i = this.slot(key);
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = key;
      this.vals[i] = oldVals[j];
    }
  }
}

function grown<T extends Int32Array | Int8Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
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
