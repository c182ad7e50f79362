// What a new user meets first: the built-in datasets, readable printing, probabilities, one rule for
// data arguments, and the messages of a few common mistakes. Runs on the sources (js and wasm).
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { initOptions } from './helpers.js';

describe.each(['js', 'wasm'] as const)('usability on %s', (name) => {
  beforeAll(async () => {
    await sd.init(await initOptions(name));
  });
  afterAll(() => sd.shutdown());

  describe('data.load', () => {
    it('loads each shipped dataset by name with its target and size', async () => {
      for (const [n, info] of Object.entries(sd.data.DATASETS)) {
        const ds = await sd.data.load(n as sd.DatasetName);
        expect(ds.target).toBe(info.target);
        expect(ds.task).toBe(info.task);
        expect(ds.x.shape).toEqual([info.rows, info.features]);
        expect(ds.y.shape).toEqual([info.rows]);
        sd.dispose([ds.x, ds.y]);
      }
    });

    it('an unknown name or option is a clear error; {url} reads a copy elsewhere', async () => {
      await expect(sd.data.load('mnist' as any)).rejects.toThrow(/data\.load: unknown dataset "mnist"; the built-in datasets are 'digits', 'iris', 'diabetes'/);
      await expect(sd.data.load('iris', { target: 'x' } as any)).rejects.toThrow(/data\.load: unknown option 'target'/);
      const ds = await sd.data.load('iris', { url: sd.data.datasetUrl('iris') });
      expect(ds.classes).toEqual(['setosa', 'versicolor', 'virginica']);
      sd.dispose([ds.x, ds.y]);
      await expect(sd.data.load('iris', { url: new URL('file:///no/such/iris.csv') })).rejects.toThrow(/no\/such\/iris\.csv/);
      // A bundler's asset URL can be a data: URL (Vite inlines small files): fetched, not read as CSV text.
      const text = 'a,b,species\n1,2,x\n3,4,y\n';
      const inline = await sd.data.load('iris', { url: `data:text/csv;base64,${Buffer.from(text).toString('base64')}` });
      expect(inline.x.shape).toEqual([2, 2]);
      sd.dispose([inline.x, inline.y]);
      const byPath = await sd.data.load('iris', { url: new URL(sd.data.datasetUrl('iris').href).pathname });
      expect(byPath.x.shape).toEqual([150, 4]);
      sd.dispose([byPath.x, byPath.y]);
    });
  });

  describe('printing', () => {
    it('tensors print shape, dtype, backend and NumPy-style values', () => {
      const t = sd.tensor([[1, 2.5, -3], [4, 5, 6]]);
      const text = t.toString();
      expect(text).toBe(`Tensor(shape=[2, 3], dtype=float32, backend=${name})\n[[ 1. ,  2.5, -3. ],\n [ 4. ,  5. ,  6. ]]`);
      expect(inspect(t)).toBe(text);
      expect(sd.tensor([1, 2, 3]).toString().split('\n')[1]).toBe('[1., 2., 3.]');
      expect(sd.tensor(0.25).toString().split('\n')[1]).toBe('0.25');
      expect(sd.tensor([1e-7, 1]).toString().split('\n')[1]).toBe('[1.0000e-7, 1.0000e+0]');
      const big = sd.zeros([2000, 10]);
      const lines = big.toString().split('\n');
      expect(lines[1]).toBe('[[0., 0., 0., ..., 0., 0., 0.],');
      expect(lines).toContain(' ...,');
      expect(lines.length).toBe(1 + 7);
      const g = sd.tensor([1]);
      g.requiresGrad = true;
      expect(g.toString()).toMatch(/requiresGrad=true/);
      sd.dispose([t, big, g]);
      expect(t.toString()).toBe('Tensor(shape=[2, 3], dtype=float32, disposed)');
      const three = sd.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
      expect(three.toString().split('\n').slice(1).join('\n')).toBe('[[[1., 2.],\n  [3., 4.]],\n\n [[5., 6.],\n  [7., 8.]]]');
      three.dispose();
    });

    it('models, layers, optimizers and schedules print readably, under console.log too', () => {
      const m = sd.mlp([4, 8, 3], { dropout: 0.1, seed: 0 });
      const text = m.toString();
      expect(text).toBe('Sequential(4 → 3, 67 parameters)\n  (0) Linear(4 → 8, relu)\n  (1) Dropout(0.1)\n  (2) Linear(8 → 3)');
      expect(inspect(m)).toBe(text);
      expect(inspect(m.layers[0])).toBe('Linear(4 → 8, relu)');
      const adam = sd.optimizers.adam({ lr: 0.01 });
      expect(adam.toString()).toMatch(/^Adam\(lr=0\.01, .*betas=\[0\.9, 0\.999\]/);
      expect(inspect(adam)).toBe(adam.toString());
      const cos = sd.schedules.cosine({ tMax: 10 });
      expect(inspect(cos)).toMatch(/^Cosine\(tMax=10/);
      m.dispose();
      expect(m.toString()).toBe('Sequential(disposed)');
    });
  });

  describe('predictProba', () => {
    it('is the softmax of predict() for a classifier, through the recorded path, and frees everything', () => {
      const m = sd.mlp([4, 8, 3], { seed: 1 });
      const x = sd.tensor([[0.1, -0.2, 0.3, 0.4], [1, 2, 3, 4], [-1, 0, 1, 0.5]]);
      const before = sd.memory().tensors;
      for (let round = 0; round < 3; round++) {
        // round 0 records the program, later rounds replay it
        const logits = m.predict(x), p = m.predictProba(x);
        const ref = sd.softmax(logits, 1);
        expect(p.shape).toEqual([3, 3]);
        const pv = p.dataSync(), rv = ref.dataSync();
        // float32 softmax of the same logits: within a few ulps of 1.
        for (let i = 0; i < pv.length; i++) expect(Math.abs(pv[i] - rv[i])).toBeLessThan(1e-6);
        for (let r = 0; r < 3; r++) expect(pv[r * 3] + pv[r * 3 + 1] + pv[r * 3 + 2]).toBeCloseTo(1, 6);
        sd.dispose([logits, p, ref]);
      }
      const row = m.predictProba(Float32Array.of(1, 2, 3, 4));
      expect(row.shape).toEqual([1, 3]);
      row.dispose();
      expect(sd.memory().tensors).toBe(before);
      m.dispose();
      x.dispose();
    });

    it('is a sigmoid for one output, does not squash a softmax model twice, and refuses a regression model', () => {
      const bin = sd.mlp([2, 4, 1], { seed: 2 });
      const x = [[0.5, -1], [2, 3]];
      const logit = bin.predict(x).dataSync(), p = bin.predictProba(x).dataSync();
      for (let i = 0; i < 2; i++) expect(p[i]).toBeCloseTo(1 / (1 + Math.exp(-logit[i])), 6);
      const soft = sd.mlp([2, 4, 3], { seed: 3, outputActivation: 'softmax' });
      expect(Array.from(soft.predictProba(x).dataSync())).toEqual(Array.from(soft.predict(x).dataSync()));
      const reg = sd.mlp([2, 1]);
      reg.preprocessing = { task: 'regression' };
      expect(() => reg.predictProba(x)).toThrow(/predictProba: this is a regression model .*use predict\(\)/);
      for (const m of [bin, soft, reg]) m.dispose();
    });
  });

  describe('one input rule', () => {
    const rows = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
    const flat = Float32Array.from(rows.flat());
    const labels = [0, 1, 0, 1, 0];

    it('split, batches, scalers, oneHot and predict take a Tensor, nested arrays or {data, shape} alike', () => {
      const before = sd.memory().tensors;
      const tx = sd.tensor(rows), ty = sd.tensor(labels);
      const asTensor = sd.data.split(tx, ty, { seed: 3 });
      for (const input of [rows, { data: flat, shape: [5, 2] }] as sd.TensorInput[]) {
        const s = sd.data.split(input, labels, { seed: 3 });
        expect(s.train.x.arraySync()).toEqual(asTensor.train.x.arraySync());
        expect(s.test.y.arraySync()).toEqual(asTensor.test.y.arraySync());
        sd.dispose([s.train.x, s.train.y, s.test.x, s.test.y]);
        const bs = [...sd.data.batches(input, labels, { batchSize: 2 })];
        expect(bs.map((b) => b.x.shape[0])).toEqual([2, 2, 1]);
        for (const b of bs) sd.dispose([b.x, b.y!]);
        const sc = sd.data.standardize(input);
        const z = sc.transform(input);
        expect(z.shape).toEqual([5, 2]);
        z.dispose();
      }
      const oh = sd.data.oneHot({ data: [1, 0], shape: [2, 1] }, 2);
      expect(oh.arraySync()).toEqual([[0, 1], [1, 0]]);
      sd.dispose([oh, tx, ty, asTensor.train.x, asTensor.train.y, asTensor.test.x, asTensor.test.y]);
      const m = sd.mlp([2, 3], { seed: 0 });
      const pa = m.predict(rows), pb = m.predict({ data: flat, shape: [5, 2] });
      expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
      sd.dispose([pa, pb]);
      m.dispose();
      expect(sd.memory().tensors).toBe(before);
    });

    it('fit, evaluate and the metrics take {data, shape} too', async () => {
      const m = sd.mlp([2, 4, 2], { seed: 0 });
      const h = await m.fit({ data: flat, shape: [5, 2] }, labels, { loss: 'softmaxCrossEntropy', epochs: 2, batchSize: 5 });
      expect(h.epochs.length).toBe(2);
      const r = await m.evaluate({ data: flat, shape: [5, 2] }, { data: Float32Array.from(labels), shape: [5] }, { loss: 'softmaxCrossEntropy' });
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(sd.metrics.accuracy({ data: [0, 1, 1], shape: [3] }, [0, 1, 0])).toBeCloseTo(2 / 3, 12);
      expect(() => sd.metrics.accuracy({ data: [0, 1], shape: [3] }, [0, 1, 0])).toThrow(/accuracy: pred\.shape \[3\] holds 3 values but pred\.data has 2/);
      m.dispose();
    });
  });

  it('common mistakes get simdnn messages: a module that is not one, one feature', async () => {
    await expect(sd.init({ module: new Uint8Array(8) as any })).rejects.toThrow(/init: module must be a compiled WebAssembly\.Module of simdnn's kernels, got bytes/);
    await sd.init(await initOptions(name)); // still usable
    const sc = sd.data.standardize([[1], [2]]);
    expect(() => sc.transform([[1, 2]])).toThrow(/fitted on 1 feature; give \[rows, 1\]/);
    expect(() => sd.data.split([[1]], [0])).toThrow(/split: 1 row is too few/);
  });

  it('classificationReport takes a Dataset\'s classes even when typed string[] | null', async () => {
    const ds = await sd.data.load('iris');
    const names: string[] | null = ds.classes;
    const r = sd.metrics.classificationReport([0, 1, 2], [0, 1, 1], { classNames: names });
    expect(r.text).toMatch(/versicolor/);
    expect(sd.metrics.classificationReport([0, 1], [0, 1], { classNames: null }).text).toMatch(/^\s+precision/);
    sd.dispose([ds.x, ds.y]);
  });
});
