import { describe, expect, it } from 'vitest';
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
