import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Allocator, OutOfMemoryError } from '../src/backend/wasm/allocator.js';
import { rng } from './helpers.js';

describe('the wasm allocator', () => {
  const make = (maxPages = 64) => new Allocator(new WebAssembly.Memory({ initial: 1, maximum: maxPages }), 1000, maxPages * 65536);

  it('aligns every block to 16 bytes and leaves a tail pad between neighbours', () => {
    const a = make();
    const p = [1, 3, 4, 5, 0, 17].map((n) => [a.alloc(n), n] as const);
    for (const [ptr] of p) expect(ptr % 16).toBe(0);
    const sorted = [...p].sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][0] - sorted[i - 1][0]).toBeGreaterThanOrEqual(sorted[i - 1][1] * 4 + 16);
  });

  it('reuses and coalesces freed blocks, returning to its start after a random workload', () => {
    const a = make(256);
    const r = rng(3);
    const first = a.alloc(10);
    a.free(first);
    const live: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (live.length && r.next() < 0.5) a.free(live.splice(r.int(live.length), 1)[0]);
      else live.push(a.alloc(1 + r.int(5000)));
    }
    for (const p of live) a.free(p);
    expect(a.allocatedBytes).toBe(0);
    expect(a.liveBlocks).toBe(0);
    expect(a.alloc(10)).toBe(first); // everything merged back into the top
  });

  it('a repeating pattern stops growing the memory', () => {
    const a = make(256);
    const cycle = () => {
      const xs = [a.alloc(1000), a.alloc(50), a.alloc(7000), a.alloc(3)];
      a.free(xs[1]);
      const y = a.alloc(200);
      for (const p of [xs[0], xs[2], xs[3], y]) a.free(p);
    };
    cycle();
    const reserved = a.reservedBytes;
    for (let i = 0; i < 1000; i++) cycle();
    expect(a.reservedBytes).toBe(reserved);
    expect(a.allocatedBytes).toBe(0);
  });

  it('throws OutOfMemoryError past the maximum and can still allocate afterwards', () => {
    const a = make(4);
    const p = a.alloc(1000);
    expect(() => a.alloc(1 << 20)).toThrow(OutOfMemoryError);
    expect(() => a.alloc(1 << 20)).toThrow(/out of memory/);
    const q = a.alloc(1000);
    expect(q).toBeGreaterThan(p);
    a.free(p);
    a.free(q);
    expect(a.allocatedBytes).toBe(0);
  });

  it('rejects a free of an unknown block', () => {
    const a = make();
    expect(() => a.free(123456)).toThrow(/free of unknown block/);
  });
});

describe('the wasm allocator against a model', () => {
  type Op = { kind: 'alloc'; floats: number } | { kind: 'free'; pick: number } | { kind: 'bogus'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), floats: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30000 }) }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bogus' as const), pick: fc.nat() }) },
  );

  it('random alloc/free sequences: aligned, disjoint, contents kept, figures right, everything merges back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.array(op, { minLength: 10, maxLength: 300, size: 'max' }), fc.nat(), (base, ops, order) => {
        // 16 pages (1 MiB) against blocks of up to 120 KB: out-of-memory is reached in many runs.
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
        const a = new Allocator(memory, base, 16 * 65536);
        const first = Math.ceil(base / 16) * 16;
        const live: { ptr: number; floats: number; bytes: number; tag: number }[] = [];
        const dead: number[] = [];
        let tag = 0;
        let step = 0;
        const check = () => {
          let bytes = 0;
          const f32 = new Float32Array(memory.buffer); // re-derived: the memory may have grown
          const full = ++step % 8 === 0 || !live.length; // every element now and then, the ends always
          for (const b of live) {
            bytes += b.bytes;
            for (let i = 0; i < b.floats; i = full || i + 1 >= b.floats - 4 ? i + 1 : b.floats - 4)
              if (f32[b.ptr / 4 + i] !== b.tag + i) throw new Error(`block ${b.ptr} clobbered at ${i}`);
          }
          // Plain throws, not expect(): this runs after every step of every run.
          if (a.allocatedBytes !== bytes) throw new Error(`allocatedBytes ${a.allocatedBytes}, model ${bytes}`);
          if (a.liveBlocks !== live.length) throw new Error(`liveBlocks ${a.liveBlocks}, model ${live.length}`);
          if (a.reservedBytes !== memory.buffer.byteLength) throw new Error(`reservedBytes ${a.reservedBytes} ≠ ${memory.buffer.byteLength}`);
        };
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const before = { allocated: a.allocatedBytes, reserved: a.reservedBytes };
            let ptr: number;
            try {
              ptr = a.alloc(o.floats);
            } catch (e) {
              expect(e).toBeInstanceOf(OutOfMemoryError);
              expect(a.allocatedBytes).toBe(before.allocated);
              check();
              continue;
            }
            const bytes = Allocator.blockBytes(o.floats);
            expect(ptr % 16).toBe(0);
            expect(ptr).toBeGreaterThanOrEqual(first);
            expect(ptr + bytes).toBeLessThanOrEqual(a.reservedBytes); // the tail pad is inside the memory too
            for (const b of live) if (ptr < b.ptr + b.bytes && b.ptr < ptr + bytes) throw new Error(`${ptr}+${bytes} overlaps ${b.ptr}+${b.bytes}`);
            tag = (tag + 7919) % 1e6; // float32-exact patterns, distinct per block
            const v = new Float32Array(memory.buffer, ptr, o.floats);
            for (let i = 0; i < o.floats; i++) v[i] = tag + i;
            live.push({ ptr, floats: o.floats, bytes, tag });
          } else if (o.kind === 'free' && live.length) {
            const [b] = live.splice(o.pick % live.length, 1);
            a.free(b.ptr);
            dead.push(b.ptr);
          } else if (o.kind === 'bogus') {
            // A freed address not handed out again (a double free), or inside a live block (aligned when the block
            // has room, else not): refused, and nothing changes.
            const stale = o.pick % 2 ? dead.filter((p) => !live.some((b) => b.ptr === p)).slice(-20) : [];
            const inside = live.length ? live[o.pick % live.length] : undefined;
            const ptr = stale.length ? stale[o.pick % stale.length] : inside ? inside.ptr + (inside.bytes > 16 ? 16 : 8) : 12345;
            expect(() => a.free(ptr)).toThrow(/free of unknown block/);
          }
          check();
        }
        // Free the rest in a shuffled order.
        while (live.length) {
          const [b] = live.splice(order % live.length, 1);
          order = (order * 31 + 7) >>> 0;
          a.free(b.ptr);
        }
        check();
        expect(a.allocatedBytes).toBe(0);
        expect(a.liveBlocks).toBe(0);
        // One block spanning the whole memory from the first address fits without growing: nothing is left
        // fragmented.
        const reserved = a.reservedBytes;
        const whole = (reserved - first - 16) / 4;
        expect(a.alloc(whole)).toBe(first);
        expect(a.reservedBytes).toBe(reserved);
        expect(a.allocatedBytes).toBe(reserved - first);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the wasm allocator: work per call', () => {
  /**
   * `live` blocks with a hole between each two (every other block of a run freed), holes of random sizes
   * so the free blocks differ; then a predict-like cycle and hole reuse, recording the free-tree nodes
   * visited and live-table slots probed per call.
   */
  function workload(live: number) {
    const r = rng(11);
    const a = new Allocator(new WebAssembly.Memory({ initial: 1, maximum: 2048 }), 1024, 2048 * 65536);
    const ptrs: number[] = [];
    for (let i = 0; i < 2 * live; i++) ptrs.push(a.alloc(1 + r.int(40)));
    for (let i = 0; i < 2 * live; i += 2) a.free(ptrs[i]);
    expect(a.freeBlocks).toBe(live);
    let maxNodes = 0, probes = 0, calls = 0;
    const measure = <T>(fn: () => T): T => {
      const n0 = a.work.nodes, p0 = a.work.probes;
      const out = fn();
      maxNodes = Math.max(maxNodes, a.work.nodes - n0);
      probes += a.work.probes - p0;
      calls++;
      return out;
    };
    for (let step = 0; step < 300; step++) {
      // Larger than every hole: served from the top, and given back to it.
      const xs = [784, 512, 256, 10, 784 * 4].map((n) => measure(() => a.alloc(n)));
      for (const p of xs.reverse()) measure(() => a.free(p));
      // Fits holes: best fit takes one, freeing it merges it back.
      const ys = [1 + r.int(40), 1 + r.int(8), 3].map((n) => measure(() => a.alloc(n)));
      for (const p of ys) measure(() => a.free(p));
      // A live block (most often between two holes) freed and allocated again: blocks merge, then split.
      const i = 1 + 2 * r.int(live - 1);
      measure(() => a.free(ptrs[i]));
      ptrs[i] = measure(() => a.alloc(1 + r.int(40)));
    }
    expect(a.liveBlocks).toBe(live);
    return { maxNodes, meanProbes: probes / calls, freeBlocks: a.freeBlocks };
  }

  it('with 200k live blocks and 200k holes, alloc and free visit O(log n) free blocks, not n', () => {
    const big = workload(200_000), small = workload(2_000);
    // An AVL tree of n nodes is at most 1.44·log2(n + 2) high; one call descends it at most three times
    // (search, remove, insert the remainder; free: two removes and an insert).
    const bound = (n: number) => 3 * (Math.floor(1.4405 * Math.log2(n + 2)) + 1);
    expect(big.maxNodes).toBeLessThanOrEqual(bound(big.freeBlocks));
    // 100× the free blocks cost ~log(100) more, where a scan costs 100× more.
    expect(big.maxNodes / small.maxNodes).toBeLessThan(2.5);
    // Finding a live block by its address: ~1–2 slots at the table's load (≤ 1/2) with no tombstones.
    expect(big.meanProbes).toBeLessThan(3);
    expect(small.meanProbes).toBeLessThan(3);
  });
});
