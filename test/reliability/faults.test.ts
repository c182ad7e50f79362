// Faults (issue 8) not covered elsewhere: out of memory, model-level interrupted save, hostile model
// files through load(). Worker crashes: test/threads.test.ts; divergence: test/train.test.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../../src/index.js';

let faults = 0;

describe('faults', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simdnn-faults-'));
  });
  afterAll(() => {
    sd.shutdown();
    rmSync(dir, { recursive: true, force: true });
    console.log(`faults injected: ${faults}`);
  });

  it('a tensor larger than the memory can grow to: clear error, runtime usable, nothing leaked', async () => {
    await sd.init({ backend: 'wasm', maxMemoryMB: 8 });
    const base = sd.memory();
    for (const make of [() => sd.zeros([4, 1024, 1024]), () => sd.tensor(new Float32Array(3 * 2 ** 20)), () => sd.mlp([2048, 2048]), () => sd.tidy(() => { const a = sd.zeros([1024, 1024]); return sd.add(a, a); })]) {
      faults++;
      expect(make).toThrow(/out of memory|memory/i);
      expect(sd.memory()).toMatchObject({ tensors: base.tensors, bytes: base.bytes });
      expect(sd.tidy(() => Array.from(sd.tensor([1, 2]).add(1).dataSync()))).toEqual([2, 3]);
    }
    const model = sd.mlp([4, 8, 2]);
    expect(model.predict([[1, 2, 3, 4]]).shape).toEqual([1, 2]);
    model.dispose();
  });

  it('an interrupted model save leaves the old file in place and no temporary file', async () => {
    await sd.init({ backend: 'wasm' });
    const path = join(dir, 'model.safetensors');
    const good = sd.mlp([3, 4, 2], { seed: 1 });
    await sd.saveFile(good, path);
    const before = readFileSync(path);
    // Fault 1: the model cannot be serialised (disposed) mid-way through a save.
    const dead = sd.mlp([3, 2]);
    dead.dispose();
    faults++;
    await expect(sd.saveFile(dead, path)).rejects.toThrow(/disposed/);
    // Fault 2: the rename target is a directory (the write succeeds, the rename fails).
    const dirTarget = join(dir, 'sub');
    (await import('node:fs')).mkdirSync(dirTarget);
    faults++;
    await expect(sd.saveFile(good, dirTarget)).rejects.toThrow();
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['model.safetensors', 'sub']);
    const back = await sd.load(path);
    expect(back.getWeights()).toEqual(good.getWeights());
    back.dispose();
    good.dispose();
  });

  it('hostile model files through load(): refused before any allocation', async () => {
    await sd.init({ backend: 'wasm', maxMemoryMB: 16 });
    const base = sd.memory();
    const m = sd.mlp([3, 4, 2]);
    const bytes = sd.save(m);
    m.dispose();
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const forge = (edit: (h: any) => void, lenOverride?: bigint) => {
      const h = structuredClone(header);
      edit(h);
      const hb = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + hb.length + bytes.length - 8 - n);
      new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(hb.length), true);
      out.set(hb, 8);
      out.set(bytes.subarray(8 + n), 8 + hb.length);
      return out;
    };
    const hostile: [string, Uint8Array][] = [
      ['header length 2^63', forge(() => {}, 2n ** 63n)],
      ['header length past the end', forge(() => {}, 1n << 20n)],
      ['2^40-element shape', forge((h) => { h['layers.0.weight'].shape = [2 ** 20, 2 ** 20]; })],
      ['offsets past the end', forge((h) => { h['layers.0.weight'].data_offsets = [0, 2 ** 31]; })],
      ['overlapping offsets', forge((h) => { h['layers.0.bias'].data_offsets = h['layers.0.weight'].data_offsets; })],
      ['huge layer in topology', forge((h) => { h.__metadata__.topology = JSON.stringify({ layers: [{ type: 'linear', inFeatures: 2 ** 20, outFeatures: 2 ** 20, activation: 'linear', bias: true }], seed: 0 }); })],
    ];
    for (const [name, file] of hostile) {
      faults++;
      const p = join(dir, `hostile-${faults}.safetensors`);
      writeFileSync(p, file);
      const rss = process.memoryUsage().rss;
      await expect(sd.load(p), name).rejects.toThrow(/load: /);
      expect(process.memoryUsage().rss - rss, name).toBeLessThan(64 * 2 ** 20);
      expect(sd.memory(), name).toMatchObject({ tensors: base.tensors, bytes: base.bytes });
    }
  });
});
