// Long runs (issue 8): 100,000 training steps and 1,000,000 predictions (1,000 predict() calls of a
// batch of 1,000 rows) with memory() sampled at intervals and asserted exactly flat after warm-up, and
// process RSS within 64 MiB of its post-warm-up value; the finalizer net reclaims forgotten tensors.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../../src/index.js';
import { rng } from '../helpers.js';

const RSS_SLACK = 64 * 2 ** 20;

describe('long runs on wasm', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
  });
  afterAll(() => sd.shutdown());

  it('100,000 training steps (fit, batch 8): memory() flat, RSS flat', async () => {
    const r = rng(1);
    const n = 800, epochs = 1000, batchSize = 8; // 100 steps an epoch × 1,000 epochs
    const x = sd.tensor(r.array(n * 4), [n, 4]);
    const y = sd.tensor(Array.from({ length: n }, () => r.int(3)));
    const model = sd.mlp([4, 8, 3], { seed: 2 });
    const base = sd.memory();
    const samples: { tensors: number; bytes: number; rss: number }[] = [];
    const h = await model.fit(x, y, {
      loss: 'softmaxCrossEntropy', optimizer: sd.optimizers.sgd({ lr: 0.01 }), epochs, batchSize, yieldEvery: 1e9,
      callbacks: { onEpochEnd: (e) => { if (e % 50 === 49) samples.push({ tensors: sd.memory().tensors, bytes: sd.memory().bytes, rss: process.memoryUsage().rss }); } },
    });
    expect(h.steps).toBe(100_000);
    expect(samples.length).toBe(20);
    const warm = samples[1];
    for (const s of samples.slice(1)) {
      expect(s.tensors).toBe(warm.tensors);
      expect(s.bytes).toBe(warm.bytes);
      expect(Math.abs(s.rss - warm.rss)).toBeLessThan(RSS_SLACK);
    }
    expect(sd.memory().tensors).toBe(base.tensors);
    expect(sd.memory().bytes).toBe(base.bytes);
    console.log(`long run: ${h.steps} steps, leaked ${sd.memory().bytes - base.bytes} bytes, RSS drift ${((samples.at(-1)!.rss - warm.rss) / 2 ** 20).toFixed(1)} MiB`);
    sd.dispose([x, y]);
    model.dispose();
  }, 120_000);

  it('1,000,000 predictions (1,000 calls × 1,000 rows): memory() flat, RSS flat', () => {
    const model = sd.mlp([4, 16, 3], { seed: 3 });
    const x = sd.tensor(rng(2).array(4000), [1000, 4]);
    const base = sd.memory();
    let warmRss = 0, rows = 0;
    for (let i = 0; i < 1000; i++) {
      const p = model.predict(x);
      rows += p.shape[0];
      p.dispose();
      if (i === 100) warmRss = process.memoryUsage().rss;
      if (i % 100 === 0) {
        expect(sd.memory().tensors).toBe(base.tensors);
        expect(sd.memory().bytes).toBe(base.bytes);
        if (i > 100) expect(Math.abs(process.memoryUsage().rss - warmRss)).toBeLessThan(RSS_SLACK);
      }
    }
    expect(rows).toBe(1_000_000);
    expect(sd.memory().bytes).toBe(base.bytes);
    model.dispose();
    x.dispose();
  }, 60_000);

  it('double dispose is harmless; use after dispose is a clear error', () => {
    const base = sd.memory();
    const t = sd.tensor([1, 2, 3]);
    t.dispose();
    t.dispose();
    sd.dispose([t, t]);
    expect(sd.memory().tensors).toBe(base.tensors);
    expect(() => t.add(1)).toThrow(/add: tensor #\d+ \[3\] was disposed; it can no longer be used/);
    const m = sd.mlp([2, 2]);
    m.dispose();
    m.dispose();
    expect(() => m.predict([[1, 2]])).toThrow(/predict: the model was disposed/);
    const kept = sd.tidy(() => sd.keep(sd.tensor([1])));
    kept.dispose();
    expect(sd.memory()).toMatchObject({ tensors: base.tensors, bytes: base.bytes });
  });

  // The finalizer net, in a child process where gc can be forced (node --expose-gc on the built bundle).
  it.runIf(existsSync(new URL('../../dist/index.js', import.meta.url)))('forgotten tensors are reclaimed by the finalizer net', () => {
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const script = `
      const sd = await import(${JSON.stringify(dist)});
      await sd.init({ backend: 'wasm' });
      (() => { for (let i = 0; i < 1000; i++) sd.tensor(new Float32Array(256)); })();
      const before = sd.memory().tensors;
      for (let i = 0; i < 20 && sd.memory().tensors > 0; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      console.log(JSON.stringify({ before, after: sd.memory().tensors, bytes: sd.memory().bytes, reclaimed: sd.memory().reclaimed }));
      sd.shutdown();`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(r.before).toBe(1000);
    expect(r.after).toBe(0);
    expect(r.bytes).toBe(0);
    expect(r.reclaimed).toBe(1000);
  });
});
