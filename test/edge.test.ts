// What the edge and serverless path needs beyond the rest of the suite: load() builds layers from the
// file's weights (no random draw first), and init() takes the kernel modules precompiled and refuses
// anything else with the fix. (The exported .wasm files with compiling forbidden, and the packed package,
// are checked in the demo suite: test/demo/edge.mjs.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as sd from '../src/index.js';
import { engine } from '../src/core/engine.js';
import { moduleBytes } from '../src/backend/wasm/binaries.js';

afterAll(() => sd.shutdown());

describe('load() builds the layers from the file', () => {
  it('draws no random weights for the layers it reads (one write per parameter), and gives the saved values back', async () => {
    await sd.init({ backend: 'wasm' });
    // relu layers draw He-normal weights through the backend's fillNormal; the linear output layer draws
    // glorot-uniform ones in JS and writes them: both reach the backend, which is watched here.
    const model = sd.mlp([64, 48, 32, 10], { seed: 3 });
    const bytes = sd.save(model);
    const b = engine.backend!;
    const fill = vi.spyOn(b, 'fillNormal' as never);
    const write = vi.spyOn(b, 'write');
    const loaded = sd.loadBytes(bytes);
    expect(fill).not.toHaveBeenCalled();
    // One write per parameter: its values from the file, nothing written first and overwritten.
    expect(write).toHaveBeenCalledTimes(model.parameters().length);
    fill.mockRestore();
    write.mockRestore();
    const want = model.getWeights(), got = loaded.getWeights();
    expect(got.length).toBe(want.length);
    got.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(want[i])));
    const x = sd.tensor(new Float32Array(2 * 64).map((_, i) => Math.sin(i)), [2, 64]);
    const [g, w] = sd.tidy(() => [Array.from(loaded.predict(x).dataSync()), Array.from(model.predict(x).dataSync())]);
    expect(g).toEqual(w);
    sd.dispose(x);
    model.dispose();
    loaded.dispose();
    expect(sd.memory().tensors).toBe(0);
  });

  it('a file whose weights do not fit leaves nothing allocated', async () => {
    await sd.init({ backend: 'wasm' });
    const model = sd.mlp([4, 3, 2], { seed: 1 });
    const { tensors, metadata } = sd.decodeSafetensors(sd.save(model));
    model.dispose();
    // The second layer's bias one value short: refused before anything is built.
    const bad = sd.encodeSafetensors([...tensors].map(([name, v]) => ({ name, shape: name === 'layers.1.bias' ? [1] : v.shape, data: name === 'layers.1.bias' ? v.data.subarray(0, 1) : v.data })), metadata);
    expect(() => sd.loadBytes(bad)).toThrow(/load: corrupt model file: .*layers\.1\.bias/);
    expect(sd.memory().tensors).toBe(0);
  });
});

describe('init() with precompiled kernel modules', () => {
  const core = async () => new WebAssembly.Module(await moduleBytes('core'));

  it('refuses a module that is not a WebAssembly.Module, and gemmModule without module, naming the fix', async () => {
    await expect(sd.init({ backend: 'wasm', module: new Uint8Array(8) as never })).rejects.toThrow(
      /init: module must be a compiled WebAssembly\.Module of simdnn's kernels, got bytes\. Import it from 'simdnn\/kernels\.wasm'/,
    );
    await expect(sd.init({ backend: 'wasm', module: await core(), gemmModule: 'gemm' as never })).rejects.toThrow(/init: gemmModule must be a compiled WebAssembly\.Module of simdnn's kernels, got string\. Import it from 'simdnn\/kernels-relaxed-gemm\.wasm'/);
    const gemm = new WebAssembly.Module(await moduleBytes('relaxed-gemm'));
    await expect(sd.init({ backend: 'wasm', gemmModule: gemm })).rejects.toThrow(/init: gemmModule goes with module/);
    // The runtime stays usable.
    const info = await sd.init({ backend: 'wasm' });
    expect(info.backend).toBe('wasm');
  });

  it('runs on the modules given: the relaxed gemm with both, the core gemm with the core alone', async () => {
    const module = await core();
    const withBoth = await sd.init({ backend: 'wasm', module, gemmModule: new WebAssembly.Module(await moduleBytes('relaxed-gemm')) });
    expect(withBoth.binary).toBe(withBoth.features.relaxedSimd ? 'relaxed' : 'simd');
    const a = sd.tensor([[1, 2], [3, 4]]);
    expect(sd.matmul(a, a).arraySync()).toEqual([[7, 10], [15, 22]]);
    const plain = await sd.init({ backend: 'wasm', module, relaxedSimd: false });
    expect(plain.binary).toBe('simd');
  });

  it('the dist/*.wasm files the package exports are the kernels the bundle inlines', async () => {
    const dist = (f: string) => fileURLToPath(new URL(`../dist/${f}`, import.meta.url));
    // Built by npm run build (npm test builds first): the bytes init() reads in Node.
    expect(Buffer.from(readFileSync(dist('kernels.wasm'))).equals(Buffer.from(await moduleBytes('core')))).toBe(true);
    expect(Buffer.from(readFileSync(dist('kernels-relaxed-gemm.wasm'))).equals(Buffer.from(await moduleBytes('relaxed-gemm')))).toBe(true);
  });
});

describe('the seeded generator at start-up', () => {
  it('fillUniform draws the stream uniform() draws, value for value, and leaves the same state', () => {
    for (const [seed, n, lo, hi] of [[0, 0, 0, 1], [1, 1, -1, 1], [7, 2560, -0.14, 0.14], [2 ** 40 + 3, 1001, 5, 6]] as const) {
      const bulk = sd.data.rng(seed), one = sd.data.rng(seed);
      const got = bulk.fillUniform(new Float64Array(n), lo, hi);
      const want = Float64Array.from({ length: n }, () => one.uniform(lo, hi));
      expect(Array.from(got)).toEqual(Array.from(want));
      expect([bulk.nextUint32(), bulk.normal(), bulk.nextUint32()]).toEqual([one.nextUint32(), one.normal(), one.nextUint32()]);
    }
  });
});
