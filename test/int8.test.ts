// int8 inference end to end: quantize() on a trained digits model (accuracy within 0.5 points of float32),
// the same bits on every backend, record/replay of quantized predict, save/load round trips, hostile
// quantized files refused before anything is allocated, and bad input. The kernels themselves are checked
// bit for bit against the js oracle at tile edges in test/conformance.test.ts.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as sd from '../src/index.js';
import { engine } from '../src/core/engine.js';
import { JsBackend } from '../src/backend/js/backend.js';
import { useBackendForTests } from '../src/runtime/runtime.js';
import { encodeSafetensors, parseSafetensors } from '../src/io/safetensors.js';
import { initOptions, rng, testGpu, threadsAvailable } from './helpers.js';

const DIGITS = fileURLToPath(new URL('../data/digits.csv', import.meta.url));
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const accuracy = (pred: number[], y: Float32Array) => pred.reduce((s, p, i) => s + (p === y[i] ? 1 : 0), 0) / y.length;

/** The digits split and a float model trained on it (wasm), with its scaler attached. */
async function trainedDigits() {
  await sd.init({ backend: 'wasm' });
  const ds = await sd.data.readCsv(DIGITS, { target: 'digit' });
  const { train, test } = sd.data.split(ds.x, ds.y, { test: 0.3, stratify: true, seed: 3 });
  const model = sd.mlp([64, 128, 64, 10], { seed: 2 });
  model.preprocessing = { scaler: sd.data.standardize(train.x), classes: ds.classes, columns: ds.columns };
  await model.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', optimizer: sd.optimizers.adam({ lr: 2e-3 }), epochs: 25, batchSize: 32, seed: 1 });
  return {
    model, classes: ds.classes,
    xTrain: train.x.dataSync(), xTest: test.x.dataSync(), yTest: test.y.dataSync(), nTest: test.y.size,
  };
}

/** A file's header and data section, to be edited and put back together (hostile-file cases). */
function split(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.slice(8 + n) };
}
function join(header: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  out.set(data, 8 + n);
  return out;
}

describe('quantize() on a trained digits model', () => {
  let d: Awaited<ReturnType<typeof trainedDigits>>;
  let q: sd.QuantizedSequential;
  let file: Uint8Array;
  /** The quantized model's outputs for the test rows on wasm: the bits every backend must give. */
  let reference: Float32Array;
  beforeAll(async () => {
    d = await trainedDigits();
    q = sd.quantize(d.model, { weights: 'int8', calibration: sd.tensor(d.xTrain.subarray(0, 300 * 64), [300, 64]) });
    file = sd.save(q);
    reference = q.predict(sd.tensor(d.xTest, [d.nTest, 64])).dataSync();
  }, 120_000);
  afterAll(() => sd.shutdown());

  it('is within 0.5 points of the float32 accuracy, and agrees with it on ≥ 98% of the test rows', () => {
    const x = sd.tensor(d.xTest, [d.nTest, 64]);
    const f = d.model.predictClasses(x), i8 = q.predictClasses(x);
    const accF = accuracy(f, d.yTest), accQ = accuracy(i8, d.yTest);
    expect(accF).toBeGreaterThan(0.93); // the float model learned the task
    expect(Math.abs(accQ - accF), `float32 ${accF}, int8 ${accQ}`).toBeLessThanOrEqual(0.005);
    expect(accuracy(i8, Float32Array.from(f))).toBeGreaterThanOrEqual(0.98);
    x.dispose();
  });

  it('replaces linear layers by int8 ones and keeps the rest (the float model is untouched)', () => {
    expect(q).toBeInstanceOf(sd.QuantizedSequential);
    expect(q.layers.map((l) => l.type)).toEqual(['qlinear', 'qlinear', 'qlinear']);
    expect(q.inputSize).toBe(64);
    expect(q.outputSize).toBe(10);
    expect(q.parameters()).toEqual([]);
    expect(q.preprocessing.classes).toEqual(d.classes);
    expect(q.summary()).toMatch(/int8 weights: 17024 \(16\.6 KiB; float32 would be 66\.5 KiB\)$/);
    const c = q.layers[0].config() as sd.QLinearConfig;
    expect(c).toMatchObject({ type: 'qlinear', inFeatures: 64, outFeatures: 128, activation: 'relu', bias: true });
    expect(c.inputZero).toBeGreaterThan(0); // standardized features are signed: a zero point inside [0, 127]
    expect((q.layers[1].config() as sd.QLinearConfig).inputZero).toBe(0); // after relu: all 128 levels above 0
    expect(d.model.predict(d.xTest.subarray(0, 64)).dataSync().every(Number.isFinite)).toBe(true);
  });

  it('predicts through the same API: raw rows (the scaler applied), one Float32Array row, nested arrays, 0 rows, evaluate', async () => {
    const row = d.xTest.subarray(5 * 64, 6 * 64);
    expect(bitsOf(q.predict(row).dataSync())).toEqual(bitsOf(reference.subarray(50, 60)));
    expect(bitsOf(q.predict([Array.from(row)]).dataSync())).toEqual(bitsOf(reference.subarray(50, 60)));
    expect(q.predict(sd.zeros([0, 64])).shape).toEqual([0, 10]);
    const x = sd.tensor(d.xTest, [d.nTest, 64]), y = sd.tensor(d.yTest, [d.nTest]);
    const r = await q.evaluate(x, y, { loss: 'softmaxCrossEntropy' });
    expect(r.accuracy).toBeCloseTo(accuracy(q.predictClasses(x), d.yTest), 10);
    x.dispose();
    y.dispose();
  });

  it('record/replay: the first predict of a batch size records the int8 calls, later ones replay them, the same bits as a plain forward pass', () => {
    const m = 37, x1 = d.xTest.subarray(0, m * 64), x2 = d.xTest.subarray(64 * 100, 64 * (100 + m));
    const product = vi.spyOn(sd.QuantizedLinear.prototype, 'product');
    const first = q.predict(sd.tensor(x1, [m, 64])).dataSync();
    const calls = product.mock.calls.length;
    expect(calls).toBe(3);
    const second = q.predict(sd.tensor(x2, [m, 64])).dataSync(); // a replay: no layer runs
    expect(product.mock.calls.length).toBe(calls);
    product.mockRestore();
    const plain = sd.tidy(() => q.forward(q.preprocessing.scaler!.transform(sd.tensor(x2, [m, 64]))).dataSync());
    expect(bitsOf(second)).toEqual(bitsOf(plain));
    expect(bitsOf(first)).toEqual(bitsOf(reference.subarray(0, m * 10)));
    expect(bitsOf(second)).toEqual(bitsOf(reference.subarray(1000, 1000 + m * 10)));
  });

  it('one layer at a time (float in, float out, as evaluate runs it) gives the bits of the chained bytes', () => {
    const x = sd.tensor(d.xTest.subarray(0, 64 * 20), [20, 64]);
    const y = sd.tidy(() => q.layers.reduce((h, l) => l.forward(h, { training: false, seed: 0, offset: 0 }), q.preprocessing.scaler!.transform(x)).dataSync());
    expect(bitsOf(y)).toEqual(bitsOf(reference.subarray(0, 200)));
    x.dispose();
  });

  it('saves to one file with I8 weights and F32 scales that loads back bit for bit (and saves to the same bytes)', () => {
    const parsed = parseSafetensors(file);
    expect(parsed.metadata).toMatchObject({ format: 'simdnn', format_version: '2' });
    expect(JSON.parse(parsed.metadata.quantization)).toMatchObject({ weights: expect.stringMatching(/^int8/), activations: expect.stringMatching(/^uint7/) });
    expect(parsed.tensors.get('layers.0.weight')).toMatchObject({ dtype: 'I8', shape: [64, 128] });
    expect(parsed.tensors.get('layers.0.weight_scale')).toMatchObject({ dtype: 'F32', shape: [128] });
    expect(parsed.tensors.get('layers.2.bias')).toMatchObject({ dtype: 'F32', shape: [10] });
    const again = sd.loadBytes(file);
    expect(again).toBeInstanceOf(sd.QuantizedSequential);
    expect(Buffer.from(sd.save(again)).equals(Buffer.from(file))).toBe(true);
    expect(bitsOf(again.predict(sd.tensor(d.xTest, [d.nTest, 64])).dataSync())).toEqual(bitsOf(reference));
    expect(again.preprocessing.classes).toEqual(d.classes);
    again.dispose();
    expect(() => sd.save(q, { layout: 'torch' })).toThrow(/layout 'torch' writes float weights for PyTorch, and this model's are int8/);
  });

  it('a file about a quarter of the float one (784-512-256-10: ≤ 0.27×)', () => {
    const f = sd.mlp([784, 512, 256, 10], { seed: 1 });
    const r = rng(3);
    const mq = sd.quantize(f, { weights: 'int8', calibration: sd.tensor(r.array(32 * 784, 0, 1), [32, 784]) });
    const ratio = sd.save(mq).length / sd.save(f).length;
    expect(ratio).toBeLessThanOrEqual(0.27);
    expect(ratio).toBeGreaterThan(0.25); // int8 is a quarter; the scales and biases add a little
    // No scaler: the recorded program reads its input in the quantizer's call and writes its output in the
    // last qgemm's: a replay must take the new row there and put the result in the new tensor.
    const rowA = r.array(784, 0, 1), rowB = r.array(784, 0, 1);
    const a = mq.predict(rowA).dataSync(), b = mq.predict(rowB).dataSync();
    const plain = (row: Float32Array) => sd.tidy(() => mq.forward(sd.tensor(row, [1, 784])).dataSync());
    expect(bitsOf(b)).toEqual(bitsOf(plain(rowB)));
    expect(bitsOf(a)).toEqual(bitsOf(plain(rowA)));
    expect(bitsOf(a)).not.toEqual(bitsOf(b));
    mq.dispose();
    f.dispose();
  });

  describe('hostile quantized files are refused before anything is allocated', () => {
    afterEach(() => vi.restoreAllMocks());
    const refused = (what: string, bytes: Uint8Array, msg: RegExp) => {
      const before = sd.memory();
      const spy = vi.spyOn(engine, 'newStorage');
      let thrown: unknown;
      try {
        sd.loadBytes(bytes).dispose();
      } catch (e) {
        thrown = e;
      }
      spy.mockRestore();
      expect(thrown, `${what}: did not throw`).toBeInstanceOf(Error);
      expect((thrown as Error).message, what).toMatch(/^load: /);
      expect((thrown as Error).message, what).toMatch(msg);
      expect(spy, `${what}: backend memory was allocated`).not.toHaveBeenCalled();
      expect(sd.memory(), what).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    };
    type H = Record<string, any>;
    const topo = (h: H) => JSON.parse(h.__metadata__.topology);
    const withTopo = (h: H, t: unknown) => ({ ...h, __metadata__: { ...h.__metadata__, topology: JSON.stringify(t) } });
    /** Edits the header (and optionally the data) of the good file. */
    const edit = (fn: (h: H, data: Uint8Array) => H | void) => {
      const { header, data } = split(file);
      return join(fn(header, data) ?? header, data);
    };
    const layer0 = (h: H, patch: object) => {
      const t = topo(h);
      t.layers[0] = { ...t.layers[0], ...patch };
      return withTopo(h, t);
    };
    const at = (h: H, name: string) => 8 * 0 + h[name].data_offsets[0];

    it.each([
      ['an inputScale of 0', () => edit((h) => layer0(h, { inputScale: 0 })), /topology layer 0: inputScale must be a positive float32 number/],
      ['a negative inputScale', () => edit((h) => layer0(h, { inputScale: -0.5 })), /inputScale must be a positive float32/],
      ['an inputScale beyond float32', () => edit((h) => layer0(h, { inputScale: 1e39 })), /inputScale must be a positive float32/],
      ['an inputScale that is not a float32 value', () => edit((h) => layer0(h, { inputScale: 0.1 })), /inputScale must be a positive float32/],
      ['an inputScale of null (NaN in JSON)', () => edit((h) => layer0(h, { inputScale: null })), /inputScale must be a positive float32/],
      ['an inputZero of 128', () => edit((h) => layer0(h, { inputZero: 128 })), /inputZero must be an integer in \[0, 127\]/],
      ['an inputZero of 1.5', () => edit((h) => layer0(h, { inputZero: 1.5 })), /inputZero must be an integer in \[0, 127\]/],
      ['an unknown field', () => edit((h) => layer0(h, { scale: 1 })), /a qlinear layer has an unknown field 'scale'; its fields are type, inFeatures/],
      ['more than 65536 inputs', () => edit((h) => layer0(h, { inFeatures: 70000 })), /inFeatures 70000 is above the 65536 an int8 layer takes/],
      ['a 2^22-wide layer in a small file', () => edit((h) => {
        const t = topo(h);
        t.layers[2].outFeatures = 2 ** 22;
        return withTopo(h, t);
      }), /the topology needs 302007808 bytes of weights but the file holds only \d+ bytes of tensor data/],
      ['a layer of more than 2^30 weights', () => edit((h) => layer0(h, { outFeatures: 2 ** 25 })), /topology layer 0: a 64×33554432 layer has more than the 2\^30 weights a layer may have/],
      ['sizes that do not chain', () => edit((h) => {
        const t = topo(h);
        t.layers[1].inFeatures = 127;
        return withTopo(h, t);
      }), /topology layer 1 takes 127 inputs but the layers before it give 128/],
      ['a float linear layer in an int8 file', () => edit((h) => {
        const t = topo(h);
        t.layers[2] = { type: 'linear', inFeatures: 64, outFeatures: 10, activation: 'linear', bias: true };
        return withTopo(h, t);
      }), /topology layer 2: a quantized model holds qlinear, activation and dropout layers, not 'linear'/],
      ['weights stored as U8', () => edit((h) => void (h['layers.0.weight'].dtype = 'U8')), /'layers\.0\.weight' is U8; an int8 model stores it as I8/],
      ['scales stored as I32', () => edit((h) => void (h['layers.1.weight_scale'].dtype = 'I32')), /'layers\.1\.weight_scale' is I32; an int8 model stores it as F32/],
      ['a transposed weight', () => edit((h) => void (h['layers.0.weight'].shape = [128, 64])), /'layers\.0\.weight' has shape \[128, 64\] but the topology needs \[64, 128\]/],
      ['a missing scale (under another name)', () => edit((h) => {
        const { ['layers.2.weight_scale']: t, ...rest } = h;
        return { ...rest, 'layers.2.scale': t };
      }), /the weights lack 'layers\.2\.weight_scale', which the topology needs/],
      ['a tensor the topology does not use', () => edit((h) => layer0(h, { bias: false })), /unexpected tensors 'layers\.0\.bias' that the topology does not use/],
      ['a weight of -128', () => edit((h, data) => void (data[at(h, 'layers.1.weight') + 77] = 0x80)), /topology layer 1: the int8 weight at \[1, 13\] is -128; weights are symmetric, in \[-127, 127\]/],
      ['a scale of 0', () => edit((h, data) => void new DataView(data.buffer).setFloat32(at(h, 'layers.0.weight_scale') + 8, 0, true)), /topology layer 0: the weight scale of column 2 is 0; scales must be positive and finite/],
      ['a NaN scale', () => edit((h, data) => void new DataView(data.buffer).setFloat32(at(h, 'layers.0.weight_scale'), NaN, true)), /the weight scale of column 0 is NaN/],
      ['an infinite bias', () => edit((h, data) => void new DataView(data.buffer).setFloat32(at(h, 'layers.2.bias') + 4, -Infinity, true)), /topology layer 2: the bias of column 1 is -Infinity/],
      ['scales whose product underflows float32', () => edit((h, data) => {
        new DataView(data.buffer).setFloat32(at(h, 'layers.0.weight_scale') + 12, 1e-30, true);
        return layer0(h, { inputScale: Math.fround(1e-20) });
      }), /column 3: the input scale times the weight scale .* is 0 in float32; the layer cannot be computed/],
      ['a scaler of the wrong width', () => edit((h) => {
        const p = JSON.parse(h.__metadata__.preprocessing);
        p.scaler.mean = p.scaler.mean.slice(0, 10);
        p.scaler.std = p.scaler.std.slice(0, 10);
        h.__metadata__.preprocessing = JSON.stringify(p);
      }), /scaler/],
      ['a truncated file', () => file.subarray(0, file.length - 100), /corrupt model file/],
    ] as [string, () => Uint8Array, RegExp][])('%s', (what, make, msg) => refused(what, make(), msg));

    it('the runtime stays usable: the good file still loads and predicts the same bits', () => {
      const m = sd.loadBytes(file);
      expect(bitsOf(m.predict(sd.tensor(d.xTest, [d.nTest, 64])).dataSync())).toEqual(bitsOf(reference));
      m.dispose();
    });
  });

  describe('bad input gets a clear Error and leaves memory() flat', () => {
    /** fn throws an Error of `type` matching msg, and leaves memory() as it was (inputs are made before it runs). */
    const flat = (fn: () => unknown, msg: RegExp, type: ErrorConstructor = Error) => {
      const before = sd.memory();
      let thrown: unknown;
      try {
        fn();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(type);
      expect((thrown as Error).message).toMatch(msg);
      expect(sd.memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    };
    it('no calibration data (activations need measured scales)', () => {
      flat(() => sd.quantize(d.model, { weights: 'int8' } as any), /quantize: calibration data is needed: .*Pass \{calibration: x\} with a few hundred rows of training features/);
      flat(() => sd.quantize(d.model, undefined as any), /weights must be 'int8' .*call quantize\(model, \{weights: 'int8', calibration: x\}\)/, RangeError);
    });
    it('NaN (or infinite) calibration values, naming the row and column', () => {
      const x = d.xTrain.slice(0, 10 * 64);
      x[3 * 64 + 5] = NaN;
      flat(() => sd.quantize(d.model, { weights: 'int8', calibration: x }), /calibration must be \[rows, 64\] .* got \[640\]/, RangeError); // a flat array is one row
      const nan = sd.tensor(x, [10, 64]);
      flat(() => sd.quantize(d.model, { weights: 'int8', calibration: nan }), /quantize: calibration holds NaN at row 3, column 5; give finite feature values/);
      x[3 * 64 + 5] = Infinity;
      const inf = sd.tensor(x, [10, 64]);
      flat(() => sd.quantize(d.model, { weights: 'int8', calibration: inf }), /calibration holds Infinity at row 3, column 5/);
      nan.dispose();
      inf.dispose();
    });
    it('calibration rows of the wrong width, or none', () => {
      const narrow = sd.zeros([4, 63]), none = sd.zeros([0, 64]);
      flat(() => sd.quantize(d.model, { weights: 'int8', calibration: narrow }), /quantize: calibration must be \[rows, 64\] with at least one row .* got \[4, 63\]/, RangeError);
      flat(() => sd.quantize(d.model, { weights: 'int8', calibration: none }), /got \[0, 64\]/, RangeError);
      narrow.dispose();
      none.dispose();
    });
    it('a layer it cannot quantize (a custom layer) is named, with the fix', () => {
      class Scale2 extends sd.Layer {
        readonly type = 'scale2';
        forward(x: sd.Tensor) {
          return sd.scale(x, 2);
        }
        outFeatures(n: number) {
          return n;
        }
        config() {
          return { type: 'scale2' };
        }
      }
      const m = sd.sequential([sd.layers.linear(64, 8, { activation: 'relu' }), new Scale2(), sd.layers.linear(8, 10)]);
      const calibration = sd.zeros([2, 64]);
      flat(() => sd.quantize(m, { weights: 'int8', calibration }), /quantize: layer 1 is a 'scale2' layer, which has no int8 form; quantize\(\) takes models of linear, activation and dropout layers/);
      m.dispose();
      calibration.dispose();
    });
    it('other weights than int8, unknown options, a quantized model, not a model', () => {
      const calibration = sd.zeros([1, 64]);
      flat(() => sd.quantize(d.model, { weights: 'int4', calibration } as any), /weights must be 'int8' \(the one kind there is\), got 'int4'/, RangeError);
      flat(() => sd.quantize(d.model, { weights: 'int8', calibrate: 1 } as any), /unknown option 'calibrate' \(did you mean 'calibration'\?\)/, TypeError);
      flat(() => sd.quantize(q, { weights: 'int8', calibration }), /the model is already quantized; quantize the float model it came from/);
      flat(() => sd.quantize({} as any, { weights: 'int8', calibration }), /expects a model/, TypeError);
      calibration.dispose();
    });
    it('training or differentiating a quantized model', async () => {
      const x = sd.tensor(d.xTrain.subarray(0, 64 * 8), [8, 64]), y = sd.zeros([8]);
      await expect(q.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 1 })).rejects.toThrow(/a quantized model runs inference only \(int8 has no gradients\): train the float model, then quantize it again/);
      expect(() => sd.grad((t: sd.Tensor) => sd.sum(q.forward(t)))(x)).toThrow(/gradients do not flow through int8 layers/);
      expect(() => q.forward(x, { training: true })).toThrow(/runs inference only/);
      x.dispose();
      y.dispose();
    });
    it('quantized and disposed models free their memory', () => {
      const calibration = sd.tensor(d.xTrain.subarray(0, 64 * 50), [50, 64]), x = sd.tensor(d.xTest.subarray(0, 64 * 3), [3, 64]);
      const before = sd.memory();
      const m = sd.quantize(d.model, { weights: 'int8', calibration });
      m.predict(d.xTest.subarray(0, 64)).dispose();
      m.predict(x).dispose();
      sd.loadBytes(sd.save(m)).dispose();
      m.dispose();
      expect(sd.memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
      calibration.dispose();
      x.dispose();
      expect(() => m.predict(d.xTest.subarray(0, 64))).toThrow(/the model was disposed/);
    });
  });

  // Last: it replaces the backend, which invalidates the float model of the tests above.
  const backends: ['js' | 'wasm' | 'wasm-threads', object][] = [['js', {}], ['wasm', { relaxedSimd: false }], ['wasm', { relaxedSimd: true }], ['wasm-threads', {}]];
  it.each(backends)('the same bits on %s %j (loaded from the file)', async (backend, extra) => {
    if (backend === 'wasm-threads' && !(await threadsAvailable())) return expect(backend).toBe('wasm-threads'); // no shared memory here
    await sd.init({ ...(await initOptions(backend)), ...extra });
    const m = sd.loadBytes(file);
    const x = sd.tensor(d.xTest, [d.nTest, 64]);
    expect(bitsOf(m.predict(x).dataSync())).toEqual(bitsOf(reference));
    // batch 1 through the row path, twice (record, then replay)
    for (const i of [7, 8]) expect(bitsOf(m.predict(d.xTest.subarray(i * 64, (i + 1) * 64)).dataSync())).toEqual(bitsOf(reference.subarray(i * 10, i * 10 + 10)));
    m.dispose();
    x.dispose();
    await sd.init({ backend: 'wasm' });
  }, 60_000);
});

describe('safetensors I8', () => {
  it('writes an Int8Array as I8 (its bytes as they are), reads it back exactly, and as float32 values', () => {
    const w = Int8Array.from([-127, -1, 0, 1, 127, 5]);
    const bytes = encodeSafetensors([{ name: 's', shape: [2], data: Float32Array.from([0.5, -2]) }, { name: 'w', shape: [2, 3], data: w }], { a: 'b' });
    const { header, data } = split(bytes);
    expect(header.w).toEqual({ dtype: 'I8', shape: [2, 3], data_offsets: [8, 14] });
    expect(header.s).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(Array.from(new Int8Array(data.buffer, data.byteOffset + 8, 6))).toEqual(Array.from(w));
    const p = parseSafetensors(bytes);
    expect(Array.from(p.readInt8('w'))).toEqual(Array.from(w));
    expect(Array.from(p.read('w'))).toEqual(Array.from(w));
    expect(() => p.readInt8('s')).toThrow(/tensor 's' is F32, not I8/);
    expect(() => encodeSafetensors([{ name: 'u', shape: [1], data: Uint8Array.of(1) as any }])).toThrow(/needs its data as a Float32Array \(or an Int8Array for I8\), got an object/);
  });
});

describe('a backend without int8 kernels (webgpu)', () => {
  afterAll(() => sd.shutdown());
  /** The js backend minus its int8 methods, standing in for webgpu (which has none; see the conformance suite). */
  const noInt8 = () => Object.assign(new JsBackend(), { qgemm: undefined, qquantize: undefined, name: 'webgpu' as const });

  it('quantize() and load() refuse with a clear Error naming the fix, before allocating', async () => {
    await sd.init({ backend: 'wasm' });
    const f = sd.mlp([6, 5, 3], { seed: 1 });
    const bytes = sd.save(sd.quantize(f, { weights: 'int8', calibration: sd.zeros([2, 6]) }));
    useBackendForTests(noInt8());
    const g = sd.mlp([6, 5, 3], { seed: 1 });
    const calibration = sd.zeros([2, 6]);
    const before = sd.memory();
    expect(() => sd.quantize(g, { weights: 'int8', calibration })).toThrow(
      /quantize: the webgpu backend has no int8 kernels; quantized models run on wasm, wasm-threads and js: init\(\{backend: 'wasm'\}\)/,
    );
    const spy = vi.spyOn(engine, 'newStorage');
    expect(() => sd.loadBytes(bytes)).toThrow(/load: the webgpu backend has no int8 kernels/);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(sd.memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(g.predict([[1, 2, 3, 4, 5, 6]]).shape).toEqual([1, 3]); // the float model still runs
  });

  it('the real webgpu backend refuses too (where a WebGPU adapter exists)', async () => {
    const { gpu } = await testGpu();
    if (!gpu) return expect(gpu).toBeNull();
    await sd.init({ backend: 'webgpu', gpu } as any);
    const g = sd.mlp([6, 5, 3], { seed: 1 });
    expect(() => sd.quantize(g, { weights: 'int8', calibration: sd.zeros([2, 6]) })).toThrow(/the webgpu backend has no int8 kernels/);
  }, 60_000);
});
