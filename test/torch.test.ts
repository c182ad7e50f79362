// PyTorch interop, both ways, against fixtures PyTorch made (test/fixtures/torch_interop.py; the tests
// need no Python). Tolerance of the predictions: float32 throughout on both sides, but PyTorch and
// simdnn sum the products of a layer in different orders, so outputs agree to a few ulps of the
// values involved: 2e-6 relative to the largest output, far below any real difference.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { initOptions, rng } from './helpers.js';
import { MODEL, inputs } from './fixtures/simdnn_torch_layout.mjs';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const ref = JSON.parse(readFileSync(new URL('./fixtures/torch-interop.json', import.meta.url), 'utf8'));

function expectClose(got: Float32Array, want: number[][]) {
  const flat = want.flat();
  const scale = Math.max(...flat.map(Math.abs));
  expect(got.length).toBe(flat.length);
  flat.forEach((w, i) => expect(Math.abs(got[i] - w), `output ${i}: ${got[i]} vs PyTorch's ${w}`).toBeLessThanOrEqual(2e-6 * scale));
}

describe.each(['js', 'wasm'] as const)('PyTorch interop on %s', (backend) => {
  beforeAll(async () => {
    await sd.init(await initOptions(backend));
  });
  afterAll(() => sd.shutdown());

  it("loads a torch.nn.Sequential's state dict (safetensors.torch.save_file) and predicts what PyTorch predicted", async () => {
    const t = ref.torchMlp;
    const model = await sd.load(fixture('torch-mlp.safetensors'), { from: 'torch', architecture: t.architecture, activation: t.activation });
    expect(model.config().layers.map((l: any) => `${l.type}:${l.inFeatures ?? ''}`)).toEqual(['linear:8', 'linear:16', 'linear:12']);
    expectClose(model.predict(t.x).dataSync(), t.y);
    // The architecture is optional (the weights define it); the activation is not (the file lacks it).
    const again = await sd.load(fixture('torch-mlp.safetensors'), { from: 'torch', activation: 'relu' });
    expectClose(again.predict(t.x).dataSync(), t.y);
    model.dispose();
    again.dispose();
  });

  it('refuses what it cannot read, saying why and what to do, and allocates nothing', async () => {
    const bytes = fixture('torch-mlp.safetensors');
    const before = sd.memory();
    await expect(sd.load(bytes)).rejects.toThrow(/not written by simdnn .* If it is a PyTorch nn.Sequential's state dict, load it with \{from: 'torch', activation: 'relu'\}/);
    await expect(sd.load(bytes, { from: 'torch' })).rejects.toThrow(/3 Linear layers but a state dict does not record the activations between them; say which, e.g. \{ from: 'torch', activation: 'relu' \}/);
    await expect(sd.load(bytes, { from: 'torch', activation: 'relu', architecture: [8, 16, 10, 3] })).rejects.toThrow(/Linear layers are \[8, 16, 12, 3\], not the architecture \[8, 16, 10, 3\] given/);
    await expect(sd.load(bytes, { from: 'torch', activation: ['relu'] })).rejects.toThrow(/activation lists 1 activations, but there are 2 between the 3 Linear layers/);
    await expect(sd.load(bytes, { from: 'torch', activation: 'swish' as any })).rejects.toThrow(/unknown activation 'swish'/);
    await expect(sd.load(bytes, { from: 'torch', activation: 'relu', bias: true } as any)).rejects.toThrow(/unknown option 'bias'/);
    // A module that is not a Linear (a BatchNorm's running mean, a conv kernel) and layers that do not chain.
    const d = decodeSafetensors(bytes);
    const entries = [...d.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    const extra = encodeSafetensors([...entries, { name: '1.running_mean', shape: [16], data: new Float32Array(16) }], { format: 'pt' });
    await expect(sd.load(extra, { from: 'torch', activation: 'relu' })).rejects.toThrow(/'1.running_mean' is not the weight or bias of a module of one nn.Sequential/);
    const conv = encodeSafetensors([...entries, { name: '7.weight', shape: [3, 3, 3], data: new Float32Array(27) }], { format: 'pt' });
    await expect(sd.load(conv, { from: 'torch', activation: 'relu' })).rejects.toThrow(/'7.weight' has shape \[3, 3, 3\]; an nn.Linear weight is 2-D/);
    const gap = encodeSafetensors(entries.filter((e) => !e.name.startsWith('3.')), { format: 'pt' });
    await expect(sd.load(gap, { from: 'torch', activation: 'relu' })).rejects.toThrow(/'5.weight' takes 12 inputs but the Linear before it gives 16/);
    expect(sd.memory().tensors).toBe(before.tensors);
    expect(sd.memory().bytes).toBe(before.bytes);
  });

  it("writes a state dict PyTorch took with load_state_dict(strict=True): the same bytes as the fixture, PyTorch's keys and shapes, PyTorch's outputs", async () => {
    const r = ref.simdnnTorchLayout;
    expect(r.strictLoad).toBe(true);
    const model = sd.mlp(MODEL.sizes, MODEL.options as sd.MlpOptions);
    const bytes = sd.save(model, { layout: 'torch' });
    expect(Buffer.from(bytes).equals(fixture('simdnn-torch-layout.safetensors'))).toBe(true);
    const d = decodeSafetensors(bytes);
    expect(Object.fromEntries([...d.tensors].map(([k, t]) => [k, t.shape]))).toEqual(r.stateDictShapes);
    expect(d.metadata.torch_sequential).toBe(r.torchSequential);
    expectClose(model.predict(inputs()).dataSync(), r.y);
    model.dispose();
  });

  it('round trip: simdnn → torch layout → simdnn gives the same model, bit for bit, preprocessing included', async () => {
    const r = rng(2);
    const model = sd.mlp([5, 7, 4], { activation: 'leakyRelu', alpha: 0.2, seed: 9 });
    const x = sd.tensor(r.array(30 * 5), [30, 5]);
    model.preprocessing = { scaler: sd.data.standardize(x), classes: ['a', 'b', 'c', 'd'], columns: ['p', 'q', 'r', 's', 't'], task: 'classification' };
    const back = await sd.load(sd.save(model, { layout: 'torch' }));
    back.getWeights().forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(model.getWeights()[i])));
    expect(back.config()).toEqual(model.config());
    expect(back.preprocessing.classes).toEqual(['a', 'b', 'c', 'd']);
    expect(Array.from(back.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    // Only two layouts exist.
    expect(() => sd.save(model, { layout: 'onnx' as any })).toThrow(/layout must be 'simdnn' or 'torch'/);
    sd.dispose(x);
    model.dispose();
    back.dispose();
  });
});
