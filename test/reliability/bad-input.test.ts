// Bad input, everywhere in the public API (issue 8): a table of wrong types, wrong shapes, empty
// inputs, NaN/Infinity, huge sizes, out-of-range labels and hyperparameters, malformed CSV and corrupt
// model files. Each case must throw an Error whose message names the function or the offending thing,
// and leave the runtime usable: a valid op works afterwards and memory() is back where it was.
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../../src/index.js';
import { encodeSafetensors } from '../../src/io/index.js';
import { initOptions, threadsAvailable } from '../helpers.js';

const backends = ['js', 'wasm', ...((await threadsAvailable()) ? ['wasm-threads' as const] : [])] as const;

type Case = [name: string, fn: () => unknown, message: RegExp];

/** Returns what fn threw (sync or async), or null. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    const r = fn();
    if (r && typeof (r as any).then === 'function') await r;
  } catch (e) {
    return e;
  }
  return null;
}

const X8 = Array.from({ length: 8 }, (_, i) => [i / 8, (i % 3) / 3, ((i * 5) % 7) / 7]);
const Y8 = Array.from({ length: 8 }, (_, i) => i % 2);
const GOOD_CSV = 'a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n';

/** Every fixture the cases use, made once per backend (cases must not create tensors themselves). */
function fixtures() {
  const a = sd.tensor([[1, 2, 3], [4, 5, 6]]);
  const b = sd.tensor([[1, 0], [0, 1], [1, 1]]);
  const v3 = sd.tensor([1, 2, 3]);
  const s = sd.tensor(5);
  const empty = sd.zeros([0, 3]);
  const badLabels = sd.tensor([0, 5]);
  const negLabels = sd.tensor([0, -1]);
  const fracLabels = sd.tensor([0, 0.5]);
  const nanLabels = sd.tensor([0, NaN]);
  const disposed = sd.tensor([1, 2]);
  disposed.dispose();
  const req = sd.tensor([[1, 2], [3, 4]]);
  req.requiresGrad = true;
  const x = sd.tensor(X8);
  const y = sd.tensor(Y8);
  const yBad = sd.tensor(Y8.map((v, i) => (i === 3 ? 7 : v)));
  const xInf = sd.tensor(X8.map((r, i) => (i === 2 ? [r[0], Infinity, r[2]] : r)));
  const xNaN = sd.tensor(X8.map((r, i) => (i === 4 ? [NaN, r[1], r[2]] : r)));
  const y5 = sd.tensor([0, 1, 0, 1, 0]);
  const model = sd.mlp([3, 4, 2], { seed: 1 });
  const dead = sd.mlp([3, 2]);
  dead.dispose();
  const bytes = sd.save(model);
  const a32 = sd.tensor([[1, 2], [3, 4], [5, 6]]);
  const empty1 = sd.zeros([0]);
  const scaler = sd.data.standardize(x);
  const mismatched = [sd.layers.linear(3, 4), sd.layers.linear(5, 2)];
  return { a32, empty1, scaler, mismatched, a, b, v3, s, empty, badLabels, negLabels, fracLabels, nanLabels, disposed, req, x, y, yBad, xInf, xNaN, y5, model, dead, bytes };
}
type F = ReturnType<typeof fixtures>;

/** A copy of the saved bytes with its JSON header edited (the length prefix fixed up). */
function editHeader(bytes: Uint8Array, edit: (h: any) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(h);
  const hb = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + hb.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(bytes.subarray(8 + n), 8 + hb.length);
  return out;
}

/** A copy of the saved bytes with one JSON metadata value (topology, preprocessing) edited. */
function editMetaJSON(bytes: Uint8Array, key: string, edit: (v: any) => void): Uint8Array {
  return editHeader(bytes, (h) => {
    const v = JSON.parse(h.__metadata__[key]);
    edit(v);
    h.__metadata__[key] = JSON.stringify(v);
  });
}

function cases(f: F, dir: string): Case[] {
  const { a, b, v3, s, empty, model, x, y } = f;
  const cut = (n: number) => f.bytes.subarray(0, n);
  const flip = (i: number) => {
    const c = f.bytes.slice();
    c[i] ^= 0xff;
    return c;
  };
  const csv = (text: string, o?: sd.ReadCsvOptions) => () => sd.data.readCsv(text, { from: 'string', ...o });
  return [
    // init (refused before the running backend is touched)
    ['init: options not an object', () => sd.init('wasm' as any), /init: options must be an object/],
    ['init: unknown option', () => sd.init({ backedn: 'js' } as any), /init: unknown option 'backedn'/],
    ['init: unknown backend', () => sd.init({ backend: 'tpu' as any }), /init: unknown backend 'tpu'/],
    ['init: maxMemoryMB 0', () => sd.init({ maxMemoryMB: 0 }), /init: maxMemoryMB/],
    ['init: maxMemoryMB NaN', () => sd.init({ maxMemoryMB: NaN }), /init: maxMemoryMB/],
    ['init: maxMemoryMB huge', () => sd.init({ maxMemoryMB: 1e9 }), /init: maxMemoryMB/],
    ['init: threads 0', () => sd.init({ threads: 0 }), /init: threads/],
    ['init: threads 2.5', () => sd.init({ threads: 2.5 }), /init: threads/],
    ['init: webgpu not boolean', () => sd.init({ webgpu: 'yes' as any }), /init: webgpu/],
    ['init: gpu not a GPU', () => sd.init({ gpu: {} as any }), /init: gpu/],

    // tensor creation
    ['tensor(null)', () => sd.tensor(null as any), /tensor: data must be/],
    ['tensor(string)', () => sd.tensor('abc' as any), /tensor: data must be/],
    ['tensor(object)', () => sd.tensor({ length: 2 } as any), /tensor: data must be/],
    ['tensor(undefined)', () => sd.tensor(undefined as any), /tensor: data must be/],
    ['tensor ragged rows', () => sd.tensor([[1, 2], [3]]), /tensor: ragged/],
    ['tensor ragged depth', () => sd.tensor([[1, 2], 3] as any), /tensor: ragged/],
    ['tensor string inside', () => sd.tensor([1, 'a'] as any), /tensor: expected a number/],
    ['tensor null inside', () => sd.tensor([1, null] as any), /tensor: expected a number/],
    ['tensor shape/size mismatch', () => sd.tensor([1, 2, 3], [2, 2]), /tensor: shape \[2, 2\] holds 4 values but the data has 3/],
    ['tensor negative size', () => sd.tensor([1], [-1]), /tensor: shape \[-1\] is invalid/],
    ['tensor fractional size', () => sd.tensor([1], [1.5]), /tensor: shape \[1.5\] is invalid/],
    ['tensor NaN size', () => sd.tensor([1], [NaN]), /tensor: shape .* is invalid/],
    ['tensor shape not an array', () => sd.tensor([1], 1 as any), /tensor: shape must be an array/],
    ['tensor BigInt64Array', () => sd.tensor(BigInt64Array.of(1n, 2n) as any), /tensor: BigInt/],
    ['zeros huge', () => sd.zeros([2 ** 16, 2 ** 16]), /full: shape \[65536, 65536\] has 4294967296 elements; the limit is 2\^30/],
    ['zeros Infinity', () => sd.zeros([Infinity]), /full: shape .* is invalid/],
    ['zeros string', () => sd.zeros('3' as any), /full: shape must be an array/],
    ['ones [2, -3]', () => sd.ones([2, -3]), /full: shape \[2,-3\] is invalid/],
    ['full value string', () => sd.full([2], 'a' as any), /full: value must be a number/],
    ['fullLike not a tensor', () => sd.fullLike(null as any, 1), /./],

    // elementwise
    ['add shapes', () => sd.add(a, b), /add: .*\[2, 3\].*\[3, 2\]/],
    ['sub shapes', () => sd.sub(a, f.nanLabels), /sub: .*\[2, 3\].*\[2\]/],
    ['mul string', () => sd.mul(a, 'x' as any), /mul: b must be a Tensor, got string/],
    ['div null', () => sd.div(null as any, a), /div: a must be a Tensor, got null/],
    ['pow array', () => sd.pow(a, [1, 2, 3] as any), /pow: b must be a Tensor, got an array/],
    ['maximum undefined', () => sd.maximum(a, undefined as any), /max(imum)?: b must be a Tensor, got undefined/],
    ['equal object', () => sd.equal(a, {} as any), /equal: b must be a Tensor, got object/],
    ['relu null', () => sd.relu(null as any), /relu: x must be a Tensor, got null/],
    ['exp array', () => sd.exp([1, 2] as any), /exp: x must be a Tensor, got an array/],
    ['sigmoid number', () => sd.sigmoid(3 as any), /sigmoid: x must be a Tensor, got number/],
    ['leakyRelu NaN slope', () => sd.leakyRelu(a, NaN), /leakyRelu: .*must be a finite number, got NaN/],
    ['elu Infinity alpha', () => sd.elu(a, Infinity), /elu: .*must be a finite number, got Infinity/],
    ['affine NaN', () => sd.affine(a, NaN), /affine: .*must be a finite number, got NaN/],
    ['affine beta string', () => sd.affine(a, 1, 'x' as any), /affine: .*must be a finite number/],
    ['scale string', () => sd.scale(a, 'x' as any), /(scale|affine): alpha must be a finite number, got x/],
    ['broadcastTo bad', () => sd.broadcastTo(a, [3, 3]), /broadcastTo: .*\[2, 3\] and \[3, 3\] cannot be broadcast/],
    ['broadcastTo not a tensor', () => sd.broadcastTo(3 as any, [3]), /broadcastTo: x must be a Tensor/],

    // linear algebra
    ['matmul inner mismatch', () => sd.matmul(a, a), /matmul: .*\[2, 3\].*\[2, 3\]/],
    ['matmul 1-D', () => sd.matmul(a, v3), /matmul: expects 2-D tensors/],
    ['matmul scalar', () => sd.matmul(s, s), /matmul: expects 2-D tensors/],
    ['matmul null', () => sd.matmul(a, null as any), /matmul: b must be a Tensor/],
    ['dense bias shape', () => sd.dense(a, b, v3), /dense: bias must have shape \[2\]/],
    ['dense activation', () => sd.dense(a, b, null, 'swish' as any), /dense: unknown activation 'swish'/],
    ['dense inner mismatch', () => sd.dense(b, b), /dense: .*\[3, 2\]/],
    ['dense alpha NaN', () => sd.dense(a, b, null, 'leakyRelu', NaN), /dense: .*alpha/],

    // reductions and softmax
    ['sum axis 2', () => sd.sum(a, 2), /sum: axis 2 is out of range for a tensor of rank 2/],
    ['mean axis -3', () => sd.mean(a, -3), /mean: axis -3 is out of range/],
    ['max axis 1.5', () => sd.max(a, 1.5), /max: axis 1.5 is out of range/],
    ['min axis string', () => sd.min(a, 'x' as any), /min: axis x is out of range/],
    ['sum repeated axes', () => sd.sum(a, [0, 0]), /sum: axis \[0,0\] repeats an axis/],
    ['argmax two axes', () => sd.argmax(a, [0, 1] as any), /argmax: /],
    ['max of an empty axis', () => sd.max(empty, 0), /max: cannot reduce an empty axis of \[0, 3\]/],
    ['argmin of an empty axis', () => sd.argmin(empty, 0), /argmin: cannot reduce an empty axis/],
    ['sumSquares null', () => sd.sumSquares(null as any), /sumSquares: x must be a Tensor/],
    ['softmax axis 0', () => sd.softmax(a, 0), /softmax: only the last axis is supported/],
    ['softmax scalar', () => sd.softmax(s), /softmax: needs at least one axis/],
    ['logSoftmax axis 5', () => sd.logSoftmax(a, 5), /logSoftmax: /],
    ['xent label out of range', () => sd.softmaxCrossEntropy(a, f.badLabels), /softmaxCrossEntropy: label 5 at row 1 is not a class index in 0..2/],
    ['xent negative label', () => sd.softmaxCrossEntropy(a, f.negLabels), /softmaxCrossEntropy: label -1 at row 1/],
    ['xent fractional label', () => sd.softmaxCrossEntropy(a, f.fracLabels), /softmaxCrossEntropy: label 0.5 at row 1/],
    ['xent NaN label', () => sd.softmaxCrossEntropy(a, f.nanLabels), /softmaxCrossEntropy: label NaN at row 1/],
    ['xent 1-D logits', () => sd.softmaxCrossEntropy(v3, f.badLabels), /softmaxCrossEntropy: logits must be 2-D/],
    ['xent rows mismatch', () => sd.softmaxCrossEntropy(a, v3), /softmaxCrossEntropy: /],
    ['xent reduction', () => sd.softmaxCrossEntropy(a, f.fracLabels, 'avg' as any), /softmaxCrossEntropy: /],
    ['losses.mse shapes', () => sd.losses.mse(a, b), /mse: /],
    ['losses.huber delta', () => sd.losses.huber(a, a, { delta: -1 }), /huber: .*delta/],
    ['losses.binaryCrossEntropy shapes', () => sd.losses.binaryCrossEntropy(a, v3), /binaryCrossEntropy: /],

    // shapes
    ['reshape size', () => sd.reshape(a, [4]), /reshape: cannot reshape \[2, 3\] \(6 values\) to \[4\]/],
    ['reshape two -1', () => sd.reshape(a, [-1, -1]), /reshape: only one size may be -1/],
    ['reshape -1 impossible', () => sd.reshape(a, [-1, 4]), /reshape: cannot infer the -1/],
    ['reshape string', () => sd.reshape(a, 'x' as any), /reshape: shape must be an array/],
    ['reshape NaN', () => sd.reshape(a, [NaN, 6]), /reshape: /],
    ['reshape method -2', () => a.reshape([-2, -3]), /reshape: /],
    ['transpose 1-D', () => sd.transpose(v3), /transpose: expects a 2-D tensor, got \[3\]/],
    ['flatten null', () => sd.flatten(null as any), /flatten: x must be a Tensor/],
    ['gatherRows out of range', () => sd.gatherRows(a, [5]), /gatherRows: index 5 at position 0 is not a row of x \(0..1\)/],
    ['gatherRows negative', () => sd.gatherRows(a, [0, -1]), /gatherRows: index -1 at position 1/],
    ['gatherRows fraction', () => sd.gatherRows(a, [0.5]), /gatherRows: index 0.5/],
    ['gatherRows NaN', () => sd.gatherRows(a, [NaN]), /gatherRows: index NaN/],
    ['gatherRows scalar', () => sd.gatherRows(s, [0]), /gatherRows: x must have at least one axis/],
    ['gatherRows indices string', () => sd.gatherRows(a, 'x' as any), /gatherRows: /],
    ['dropout rate 1', () => sd.dropout(a, 1), /dropout: rate must be in \[0, 1\)/],
    ['dropout rate NaN', () => sd.dropout(a, NaN), /dropout: rate/],

    // use after dispose
    ['relu of a disposed tensor', () => sd.relu(f.disposed), /relu: tensor #\d+ \[2\] was disposed/],
    ['add of a disposed tensor', () => sd.add(a, f.disposed), /add: tensor #\d+ \[2\] was disposed|add: .*disposed/],
    ['dataSync of a disposed tensor', () => f.disposed.dataSync(), /dataSync: tensor #\d+ \[2\] was disposed/],
    ['data of a disposed tensor', () => f.disposed.data(), /data: tensor #\d+ \[2\] was disposed/],
    ['reshape of a disposed tensor', () => f.disposed.reshape([2, 1]), /reshape: .*was disposed/],
    ['matmul of a disposed tensor', () => sd.matmul(f.disposed, b), /matmul: .*(was disposed|2-D)/],
    ['sum of a disposed tensor', () => sd.sum(f.disposed), /sum: .*was disposed/],
    ['clone of a disposed tensor', () => sd.clone(f.disposed), /clone: .*was disposed/],

    // tidy / autograd
    ['tidy not a function', () => sd.tidy('x' as any), /tidy: expects a function, got string/],
    ['tidy async', () => sd.tidy((async () => sd.add(a, a)) as any), /tidy: fn returned a Promise/],
    ['tidy rethrows and frees', () => sd.tidy(() => { sd.add(a, a); sd.relu(a); throw new Error('boom in user code'); }), /boom in user code/],
    ['grad not a function', () => sd.grad(3 as any), /grad: expects a function/],
    ['valueAndGrad not a function', () => sd.valueAndGrad(null as any), /valueAndGrad: expects a function/],
    ['grad argument not a tensor', () => sd.grad((t: sd.Tensor) => t.sum())(3 as any), /grad: argument 0 must be a Tensor|argument 0 must be a Tensor/],
    ['grad non-scalar output', () => sd.grad((t: sd.Tensor) => t.relu())(f.req), /must return a single value, got shape \[2, 2\]/],
    ['grad returns a number', () => sd.valueAndGrad((() => 3) as any)(f.req), /valueAndGrad: f must return a Tensor, got number/],
    ['grad user fn throws', () => sd.grad((t: sd.Tensor) => { t.mul(2); throw new Error('user fn failed'); })(f.req), /user fn failed/],
    ['backward without requiresGrad', () => sd.tidy(() => sd.sum(a).backward()), /backward: tensor #\d+ does not require a gradient/],
    ['backward non-scalar', () => sd.tidy(() => sd.mul(f.req, 2).backward()), /backward: the output has shape \[2, 2\]/],
    ['backward bad gradient', () => sd.tidy(() => sd.sum(f.req).backward({ gradient: a } as any)), /backward: gradient must be a tensor of the output's shape/],
    ['requiresGrad off an op result', () => sd.tidy(() => { sd.mul(f.req, 2).requiresGrad = false; }), /requiresGrad: tensor #\d+ is the result of an op/],

    // models and layers
    ['mlp no sizes', () => sd.mlp([] as any), /mlp: sizes must be an array/],
    ['mlp one size', () => sd.mlp([3]), /mlp: sizes must be an array/],
    ['mlp not an array', () => sd.mlp(3 as any), /mlp: sizes must be an array/],
    ['mlp zero width', () => sd.mlp([3, 0]), /mlp: sizes\[1\] must be a positive integer, got 0/],
    ['mlp fractional width', () => sd.mlp([3, 2.5]), /mlp: sizes\[1\] must be a positive integer, got 2.5/],
    ['mlp NaN width', () => sd.mlp([NaN, 2]), /mlp: sizes\[0\] must be a positive integer, got NaN/],
    ['mlp huge layer', () => sd.mlp([2 ** 16, 2 ** 16]), /(mlp|linear|Linear|full).*(2\^30|too large|limit)/],
    ['mlp unknown option', () => sd.mlp([3, 2], { hidden: 3 } as any), /mlp: unknown option 'hidden'/],
    ['mlp dropout 1', () => sd.mlp([3, 4, 2], { dropout: 1 }), /mlp: dropout must be a rate in \[0, 1\), got 1/],
    ['mlp activation', () => sd.mlp([3, 4, 2], { activation: 'swish' as any }), /swish/],
    ['mlp output activation', () => sd.mlp([3, 4, 2], { outputActivation: 'swish' as any }), /swish/],
    ['mlp init', () => sd.mlp([3, 2], { init: 'xavier' as any }), /xavier/],
    ['mlp seed', () => sd.mlp([3, 2], { seed: -1 }), /seed/],
    ['sequential empty', () => sd.sequential([]), /sequential: give a non-empty array of layers/],
    ['sequential not a layer', () => sd.sequential([3 as any]), /sequential: entry 0 is not a layer/],
    ['sequential chain mismatch', () => sd.sequential(f.mismatched), /(4|5).*(features|inputs|takes)|takes.*(4|5)/],
    ['layers.linear 0 inputs', () => sd.layers.linear(0, 3), /linear: .*positive integer/],
    ['layers.linear activation', () => sd.layers.linear(3, 3, { activation: 'bad' as any }), /linear: .*'bad'/],
    ['layers.dropout 1.5', () => sd.layers.dropout(1.5), /dropout: .*rate/],
    ['predict wrong features', () => model.predict(f.a32), /predict: the model takes 3 features per row, got x of shape \[3, 2\]/],
    ['predict string', () => model.predict('x' as any), /predict: |tensor: data must be/],
    ['predict ragged', () => model.predict([[1, 2, 3], [1]]), /predict: x: ragged nested array/],
    ['predict 3-D', () => model.predict([[[1, 2, 3]]] as any), /predict: the model takes 3 features per row/],
    ['predictClasses wrong features', () => model.predictClasses([[1, 2]]), /predict: the model takes 3 features/],
    ['forward null', () => model.forward(null as any), /forward: x must be a Tensor, got null/],
    ['setWeights count', () => model.setWeights([]), /setWeights: expected 4 arrays \(layers.0.weight/],
    ['setWeights size', () => model.setWeights([new Float32Array(1), new Float32Array(4), new Float32Array(8), new Float32Array(2)]), /setWeights: layers.0.weight needs 12 values/],
    ['predict on a disposed model', () => f.dead.predict([[1, 2, 3]]), /predict: the model was disposed/],
    ['fit on a disposed model', () => sd.fit(f.dead, x, y, { loss: 'mse' }), /fit: the model was disposed/],

    // fit / evaluate options and data
    ['fit no options', () => sd.fit(model, x, y, undefined as any), /fit: options are required/],
    ['fit unknown loss', () => sd.fit(model, x, y, { loss: 'xent' as any }), /unknown loss 'xent'/],
    ['fit epochs 0', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 0 }), /fit: epochs must be a positive integer, got 0/],
    ['fit epochs 1.5', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 1.5 }), /fit: epochs must be a positive integer, got 1.5/],
    ['fit epochs Infinity', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: Infinity }), /fit: epochs must be a positive integer/],
    ['fit batchSize NaN', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: NaN }), /fit: batchSize must be a positive integer, got NaN/],
    ['fit seed -1', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', seed: -1 }), /fit: seed must be a non-negative integer, got -1/],
    ['fit delta 0', () => sd.fit(model, x, y, { loss: 'huber', delta: 0 }), /fit: delta must be a positive finite number, got 0/],
    ['fit optimizer not one', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', optimizer: {} as any }), /fit: optimizer must come from optimizers/],
    ['fit both validations', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.2, validationData: [x, y] }), /fit: give validationSplit or validationData, not both/],
    ['fit validationSplit 0', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0 }), /fit: validationSplit must be a fraction in \(0, 1\)/],
    ['fit earlyStopping on valLoss without validation', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { monitor: 'valLoss' } }), /fit: earlyStopping monitors 'valLoss' but there is no validation data/],
    ['fit earlyStopping patience', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { patience: -2 } }), /patience/],
    // A monitor that is not one fit() records used to stop training quietly after `patience` epochs.
    ['fit earlyStopping monitor typo', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.25, earlyStopping: { monitor: 'valAcc' as any } }), /fit: earlyStopping.monitor must be one of 'loss', 'valLoss', 'accuracy', 'valAccuracy', got 'valAcc'; did you mean 'valAccuracy'\?/],
    ['fit earlyStopping monitor unknown', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.25, earlyStopping: { monitor: 'valF1' as any } }), /fit: earlyStopping.monitor must be one of .*, got 'valF1'\.$/],
    ['fit earlyStopping monitor snake case', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.25, earlyStopping: { monitor: 'val_loss' as any } }), /got 'val_loss'; did you mean 'valLoss'\?/],
    ['fit earlyStopping monitor not a string', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { monitor: 1 as any } }), /fit: earlyStopping.monitor must be one of .*, got 1\./],
    ['fit earlyStopping accuracy for a regression loss', () => sd.fit(model, x, y, { loss: 'mse', earlyStopping: { monitor: 'accuracy' } }), /fit: earlyStopping.monitor 'accuracy' needs a classification loss .*with 'mse' there is no accuracy. Monitor 'loss' instead/],
    ['fit earlyStopping valAccuracy for a regression loss', () => sd.fit(model, x, y, { loss: 'huber', validationSplit: 0.25, earlyStopping: { monitor: 'valAccuracy' } }), /monitor 'valAccuracy' needs a classification loss .*with 'huber' there is no accuracy. Monitor 'valLoss' instead/],
    ['fit earlyStopping unknown option', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { patiense: 3 } as any }), /fit: earlyStopping has an unknown option 'patiense' \(did you mean 'patience'\?\); known options: patience, restoreBest, monitor, minDelta/],
    ['fit earlyStopping minDelta negative', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { minDelta: -0.01 } }), /fit: earlyStopping.minDelta must be a finite number ≥ 0 .*got -0.01/],
    ['fit earlyStopping minDelta NaN', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { minDelta: NaN } }), /fit: earlyStopping.minDelta must be a finite number ≥ 0 .*got NaN/],
    ['fit earlyStopping restoreBest not boolean', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: { restoreBest: 'yes' as any } }), /fit: earlyStopping.restoreBest must be true or false, got 'yes'/],
    ['fit earlyStopping not an object', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', earlyStopping: 'valLoss' as any }), /fit: earlyStopping must be true, false or an object .*got 'valLoss'/],
    // validationSplit holds out round(n·frac) rows over all classes, and says why when it cannot.
    ['fit validationSplit rounds to no rows', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.05 }), /fit: validationSplit 0.05 of 8 rows is 0.4 rows, which rounds to none; use validationSplit ≥ 0.1 to hold out at least one row, or pass validationData/],
    ['fit validationSplit leaves a class no training row', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationSplit: 0.9 }), /fit: validationSplit 0.9 would hold out 7 of 8 rows, but each of the 2 classes keeps at least one row for training, so at most 6 can be held out; use validationSplit ≤ 0.7, or pass validationData/],
    ['fit label out of range', () => sd.fit(model, x, f.yBad, { loss: 'softmaxCrossEntropy' }), /label 7 at row 3 is not a class index in 0..1/],
    ['fit x Infinity', () => sd.fit(model, f.xInf, y, { loss: 'softmaxCrossEntropy' }), /x holds Infinity at row 2, column 1/],
    ['fit x NaN', () => sd.fit(model, f.xNaN, y, { loss: 'softmaxCrossEntropy' }), /x holds NaN at row 4, column 0/],
    ['fit rows mismatch', () => sd.fit(model, x, f.y5, { loss: 'softmaxCrossEntropy' }), /x has 8 rows but y has 5/],
    ['fit no rows', () => sd.fit(model, empty, f.empty1, { loss: 'mse' }), /fit: /],
    ['fit x plain ragged', () => sd.fit(model, [[1, 2, 3], [1]], [0, 1], { loss: 'softmaxCrossEntropy' }), /ragged/],
    ['fit validationData mismatched', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', validationData: [x, f.y5] }), /validation.*8 rows but y has 5|x has 8 rows but y has 5/],
    ['fit oneCycle too short', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 5, batchSize: 4, schedule: sd.schedules.oneCycle({ maxLr: 0.1, totalSteps: 3 }) }), /schedules.oneCycle: totalSteps is 3 but training runs 10 batches \(5 epochs × 2\); set totalSteps to at least 10/],
    ['fit callbacks throw', () => sd.fit(model, x, y, { loss: 'softmaxCrossEntropy', epochs: 2, callbacks: { onBatchEnd: () => { throw new Error('callback failed'); } } }), /callback failed/],
    ['evaluate unknown loss', () => sd.evaluate(model, x, y, { loss: 'nll' as any }), /unknown loss 'nll'/],
    ['evaluate wrong features', () => sd.evaluate(model, f.a32, y, { loss: 'softmaxCrossEntropy' }), /evaluate: the model takes 3 features per row/],
    ['evaluate label out of range', () => sd.evaluate(model, x, f.yBad, { loss: 'softmaxCrossEntropy' }), /label 7 at row 3/],
    ['evaluate batchSize 0', () => sd.evaluate(model, x, y, { loss: 'softmaxCrossEntropy', batchSize: 0 }), /batchSize must be a positive integer/],

    // optimizers and schedules
    ['sgd no options', () => sd.optimizers.sgd(undefined as any), /sgd: needs options with at least lr/],
    ['sgd lr NaN', () => sd.optimizers.sgd({ lr: NaN }), /sgd: lr must be/],
    ['sgd lr missing', () => sd.optimizers.sgd({} as any), /sgd: lr/],
    ['sgd nesterov without momentum', () => sd.optimizers.sgd({ lr: 0.1, nesterov: true }), /sgd: nesterov momentum requires momentum > 0/],
    ['sgd momentum -1', () => sd.optimizers.sgd({ lr: 0.1, momentum: -1 }), /sgd: momentum must be/],
    ['adam lr -1', () => sd.optimizers.adam({ lr: -1 }), /adam: lr must be a positive finite number, got -1/],
    ['adam lr Infinity', () => sd.optimizers.adam({ lr: Infinity }), /adam: lr must be/],
    ['adam betas 1', () => sd.optimizers.adam({ betas: [1, 0.9] }), /adam: betas\[0\] must be in \[0, 1\), got 1/],
    ['adam betas one entry', () => sd.optimizers.adam({ betas: [0.9] }), /adam: betas must be an array of two numbers/],
    ['adam unknown option', () => sd.optimizers.adam({ learningRate: 0.1 } as any), /adam: unknown option 'learningRate'/],
    ['adam options array', () => sd.optimizers.adam([] as any), /adam: options must be an object, got an array/],
    ['adamw weightDecay -1', () => sd.optimizers.adamw({ weightDecay: -1 }), /adamw: weightDecay must be/],
    ['rmsprop alpha 2', () => sd.optimizers.rmsprop({ alpha: 2 } as any), /rmsprop: /],
    ['adagrad eps -1', () => sd.optimizers.adagrad({ eps: -1 }), /adagrad: eps must be/],
    ['clipNorm -1', () => sd.optimizers.adam({ clipNorm: -1 } as any), /adam: clipNorm/],
    ['optimizerFromJSON garbage', () => sd.optimizerFromJSON('{nope'), /optimizers.fromJSON: not valid JSON/],
    ['optimizerFromJSON unknown kind', () => sd.optimizerFromJSON({ kind: 'lbfgs' } as any), /optimizers.fromJSON: unknown optimizer kind "lbfgs"/],
    ['optimizerFromJSON null', () => sd.optimizerFromJSON('null'), /optimizers.fromJSON: expects \{kind, options\}, got null/],
    ['step no options', () => sd.schedules.step(undefined as any), /schedules.step: /],
    ['step size 0', () => sd.schedules.step({ stepSize: 0, gamma: 0.5 } as any), /schedules.step: stepSize must be/],
    ['exponential gamma NaN', () => sd.schedules.exponential({ gamma: NaN }), /schedules.exponential: gamma must be/],
    ['cosine warmup ≥ tMax', () => sd.schedules.cosine({ tMax: 5, warmup: 5 } as any), /schedules.cosine: warmup \(5\) must be less than tMax \(5\)/],
    ['oneCycle maxLr not a number or find', () => sd.schedules.oneCycle({ maxLr: 'auto' } as any), /schedules.oneCycle: maxLr/],
    ['reduceOnPlateau factor 2', () => sd.schedules.reduceOnPlateau({ factor: 2 }), /schedules.reduceOnPlateau: factor must be/],
    ['constant unknown option', () => sd.schedules.constant({ lr: 1 } as any), /schedules.constant: unknown option 'lr'/],
    ['schedule lr bad time', () => sd.schedules.exponential({ gamma: 0.9 }).lr(0.1, { epoch: -1, step: 0 }), /schedules.exponential.lr: epoch must be an integer ≥ 0, got -1/],
    ['schedule lr NaN base', () => sd.schedules.exponential({ gamma: 0.9 }).lr(NaN, { epoch: 0, step: 0 }), /schedules.exponential.lr: baseLr must be/],
    ['scheduleFromJSON unknown', () => sd.scheduleFromJSON({ kind: 'warm' } as any), /schedules.fromJSON: unknown schedule kind "warm"/],

    // data
    ['readCsv ragged row', csv('a,b,c\n1,2,3\n4,5\n6,7,8\n'), /readCsv: .*(row|line) \d.*(2|fields|columns)/],
    ['readCsv row too long', csv('a,b,c\n1,2,3\n4,5,6,7\n'), /readCsv: .*(row|line) \d/],
    ['readCsv unterminated quote', csv('a,b,c\n1,"2,3\n4,5,6\n'), /readCsv: .*quote/i],
    ['readCsv empty', csv(''), /readCsv: /],
    ['readCsv only blank lines', csv('\n\n\r\n'), /readCsv: /],
    ['readCsv only a header', csv('a,b,c\n'), /readCsv: .*(no (data )?rows|empty)/],
    ['readCsv BOM + header only', csv('\uFEFFa,b,c\r\n\r\n'), /readCsv: .*(no (data )?rows|empty)/],
    ['readCsv target missing', csv(GOOD_CSV, { target: 'nope' }), /readCsv: .*'nope'/],
    ['readCsv target index', csv(GOOD_CSV, { target: 7 }), /readCsv: .*7/],
    ['readCsv feature missing', csv(GOOD_CSV, { features: ['a', 'zz'] }), /readCsv: .*'zz'/],
    ['readCsv missing strategy', csv(GOOD_CSV, { missing: 'ignore' as any }), /readCsv: missing must be one of .*ignore/],
    ['readCsv missing error', csv('a,b,label\n1,,x\n3,4,y\n', { missing: 'error' }), /readCsv: .*missing.*(row|line)/],
    ['readCsv task', csv(GOOD_CSV, { task: 'ranking' as any }), /readCsv: .*task/],
    ['readCsv unknown option', csv(GOOD_CSV, { header: false } as any), /readCsv: unknown option 'header'/],
    ['readCsv delimiter', csv(GOOD_CSV, { delimiter: '' }), /readCsv: .*delimiter/],
    ['readCsv duplicate header', csv('a,a,label\n1,2,x\n3,4,y\n'), /readCsv: .*'a'/],
    ['readCsv non-numeric regression target', csv('a,b,t\n1,2,x\n3,4,y\n', { task: 'regression' }), /readCsv: .*(regression|number)/],
    ['readCsv too many categories', csv('id,t\n' + Array.from({ length: 60 }, (_, i) => `k${i},${i % 2}`).join('\n'), { maxCategories: 5 }), /readCsv: .*(categor|levels)/],
    ['readCsv missing file', () => sd.data.readCsv(join(dir, 'no-such.csv')), /readCsv: .*no-such\.csv|no-such\.csv/],
    ['readCsv source number', () => sd.data.readCsv(3 as any), /readCsv: /],
    ['split rows mismatch', () => sd.data.split(x, f.y5), /split: x \[8, 3\] has 8 rows but y \[5\] has 5/],
    ['split test 1.5', () => sd.data.split(x, y, { test: 1.5 }), /split: test must be/],
    ['split test + validation ≥ 1', () => sd.data.split(x, y, { test: 0.5, validation: 0.5 }), /split: .*below 1|split: test \+ validation/],
    ['split unknown option', () => sd.data.split(x, y, { train: 0.8 } as any), /split: unknown option 'train'/],
    ['split x not data', () => sd.data.split('abc' as any, y), /split: x: data must be a number, an array of numbers or a typed array; got string/],
    ['split stratify fractional', () => sd.data.split(x, f.fracLabels, { stratify: true }), /split: /],
    ['split scalar', () => sd.data.split(s, s), /split: /],
    ['standardize null', () => sd.data.standardize(null as any), /standardize: x is missing; give a Tensor/],
    ['standardize 1-D', () => sd.data.standardize(v3), /standardize: /],
    ['standardize empty', () => sd.data.standardize(empty), /standardize: /],
    ['standardize NaN', () => sd.data.standardize(f.xNaN), /standardize: .*NaN/],
    ['scaler transform wrong width', () => f.scaler.transform(f.a32), /transform: .*3.*\[3, 2\]|transform: /],
    ['minMaxScale range', () => sd.data.minMaxScale(x, { range: [1, 0] } as any), /minMaxScale: /],
    ['scalerFromJSON garbage', () => sd.data.scalerFromJSON({ kind: 'robust' }), /scalerFromJSON: /],
    ['batches batchSize 0', () => sd.data.batches(x, y, { batchSize: 0 }), /batches: batchSize must be a positive integer/],
    ['batches no options', () => sd.data.batches(x, y, undefined as any), /batches: /],
    ['batches rows mismatch', () => sd.data.batches(x, f.y5, { batchSize: 2 }), /batches: x \[8, 3\] has 8 rows but y \[5\] has 5/],
    ['oneHot 0 classes', () => sd.data.oneHot([0, 1], 0), /oneHot: numClasses/],
    ['oneHot label too big', () => sd.data.oneHot([0, 5], 3), /oneHot: .*5/],
    ['oneHot NaN label', () => sd.data.oneHot([0, NaN], 3), /oneHot: .*NaN/],
    ['labelEncode string', () => sd.data.labelEncode('abc' as any), /labelEncode: /],
    ['encodeRows ragged', async () => { const ds = await sd.data.readCsv(GOOD_CSV, { from: 'string' }); try { return sd.data.encodeRows(ds.encoding, 'a,b\n1\n'); } finally { sd.dispose([ds.x, ds.y]); } }, /encodeRows: /],
    ['rng seed', () => sd.data.rng(-1), /rng: seed/],
    ['shuffle n', () => sd.data.shuffle(-1), /shuffle: /],

    // metrics
    ['accuracy length mismatch', () => sd.metrics.accuracy([0, 1, 1], [0, 1]), /accuracy: .*3.*2|accuracy: .*length/],
    ['accuracy empty', () => sd.metrics.accuracy([], []), /accuracy: .*(empty|no )/],
    ['accuracy NaN label', () => sd.metrics.accuracy([0, 1], [0, NaN]), /accuracy: .*NaN/],
    ['accuracy string', () => sd.metrics.accuracy('01' as any, [0, 1]), /accuracy: /],
    ['confusionMatrix label ≥ numClasses', () => sd.metrics.confusionMatrix([0, 1], [0, 5], 3), /confusionMatrix: .*5/],
    ['precision average', () => sd.metrics.precision([0, 1], [0, 1], { average: 'mean' as any }), /precision: average must be .*mean/],
    ['logLoss prob > 1', () => sd.metrics.logLoss([[0.5, 0.7], [0.5, 0.5]], [0, 1]), /logLoss: /],
    ['logLoss label out of range', () => sd.metrics.logLoss([[0.5, 0.5]], [3]), /logLoss: .*3/],
    ['mse length mismatch', () => sd.metrics.mse([1, 2], [1]), /mse: /],
    ['mae NaN', () => sd.metrics.mae([1, NaN], [1, 2]), /mae: .*NaN/],
    ['classificationReport names', () => sd.metrics.classificationReport([0, 1], [0, 1], { names: ['a'] } as any), /classificationReport: /],

    // save / load
    ['save not a model', () => sd.save('x' as any), /save: /],
    ['save disposed model', () => sd.save(f.dead), /save: the model was disposed|the model was disposed/],
    ['saveFile into a missing directory', () => sd.saveFile(model, join(dir, 'no', 'such', 'dir', 'm.safetensors')), /no[/\\]such[/\\]dir|ENOENT/],
    ['saveFile path not a string', () => sd.saveFile(model, 3 as any), /writeFileAtomic: |saveFile: |path/],
    ['loadBytes empty', () => sd.loadBytes(new Uint8Array(0)), /load: /],
    ['loadBytes not bytes', () => sd.loadBytes('model' as any), /load: /],
    ['loadBytes 7 bytes', () => sd.loadBytes(cut(7)), /load: .*(truncated|short|8 bytes)/],
    ['loadBytes truncated header', () => sd.loadBytes(cut(40)), /load: .*(truncated|header)/],
    ['loadBytes truncated data', () => sd.loadBytes(cut(f.bytes.length - 4)), /load: .*(truncated|data|bytes)/],
    ['loadBytes appended bytes', () => { const c = new Uint8Array(f.bytes.length + 4); c.set(f.bytes); return sd.loadBytes(c); }, /load: /],
    ['loadBytes header length huge', () => { const c = f.bytes.slice(); new DataView(c.buffer).setBigUint64(0, 2n ** 62n, true); return sd.loadBytes(c); }, /load: .*header/],
    ['loadBytes header not JSON', () => sd.loadBytes(flip(9)), /load: /],
    ['loadBytes hostile shape', () => sd.loadBytes(editHeader(f.bytes, (h) => { h['layers.0.weight'].shape = [2 ** 15, 2 ** 15]; })), /load: .*layers\.0\.weight/],
    ['loadBytes hostile offsets', () => sd.loadBytes(editHeader(f.bytes, (h) => { h['layers.0.weight'].data_offsets = [0, 2 ** 40]; })), /load: .*layers\.0\.weight/],
    ['loadBytes negative offsets', () => sd.loadBytes(editHeader(f.bytes, (h) => { h['layers.0.weight'].data_offsets = [-8, 40]; })), /load: .*layers\.0\.weight/],
    ['loadBytes dtype', () => sd.loadBytes(editHeader(f.bytes, (h) => { h['layers.0.weight'].dtype = 'Q4'; })), /load: .*(Q4|dtype)/],
    ['loadBytes not simdnn', () => sd.loadBytes(encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }])), /load: this safetensors file was not written by simdnn/],
    ['loadBytes topology not JSON', () => sd.loadBytes(editHeader(f.bytes, (h) => { h.__metadata__.topology = '{'; })), /load: corrupt model file: the topology metadata is not valid JSON/],
    ['loadBytes topology wrong', () => sd.loadBytes(editHeader(f.bytes, (h) => { h.__metadata__.topology = '{"layers":[{"type":"conv"}]}'; })), /load: /],
    ['loadBytes weight missing', () => sd.loadBytes(editHeader(f.bytes, (h) => { delete h['layers.2.bias']; delete h['layers.1.bias']; })), /load: .*(layers\.\d\.bias|trailing bytes)/],
    ['loadBytes weight shape mismatch', () => sd.loadBytes(editHeader(f.bytes, (h) => { h['layers.0.bias'].shape = [2, 2]; })), /load: .*layers\.0\.bias/],
    ['loadBytes bias not a boolean', () => sd.loadBytes(editMetaJSON(f.bytes, 'topology', (t) => { t.layers[0].bias = 'no'; })), /load: corrupt model file: topology layer 0: bias must be true or false, got "no"/],
    ['loadBytes topology declares a huge layer', () => sd.loadBytes(editMetaJSON(f.bytes, 'topology', (t) => { t.layers[0].outFeatures = 2 ** 20; t.layers[1].inFeatures = 2 ** 20; })), /load: corrupt model file: the topology needs \d+ weights but the file holds only \d+ bytes/],
    ['loadBytes NaN weight', () => { const { tensors, metadata } = sd.decodeSafetensors(f.bytes); tensors.get('layers.1.weight')!.data[1] = NaN; return sd.loadBytes(encodeSafetensors([...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), metadata)); }, /load: corrupt model file: 'layers\.1\.weight' holds NaN at \[0, 1\]/],
    ['loadBytes classes that do not fit the outputs', () => sd.loadBytes(editMetaJSON(f.bytes, 'preprocessing', (p) => { p.classes = ['a', 'b', 'c']; })), /load: corrupt model file: preprocessing\.classes has 3 names but the model has 2 outputs/],
    ['loadBytes a garbage encoding', () => sd.loadBytes(editMetaJSON(f.bytes, 'preprocessing', (p) => { p.encoding = 'garbage'; })), /load: corrupt model file: preprocessing\.encoding must be/],
    ['loadBytes a Float32Array', () => sd.loadBytes(new Float32Array(8) as any), /load: expected the file's bytes as a Uint8Array, DataView or ArrayBuffer, got a Float32Array/],
    ['load number', () => sd.load(123 as any), /load: expects bytes, a Blob\/File, a URL or a file path, got number/],
    ['load null', () => sd.load(null as any), /load: .*null/],
    ['load missing file', () => sd.load(join(dir, 'missing.safetensors')), /missing\.safetensors/],
    ['load a truncated Blob', () => sd.load(new Blob([cut(100)])), /load: /],
  ];
}

let total = 0;

describe.each(backends)('bad input on %s', (backend) => {
  let f: F;
  let dir: string;
  beforeAll(async () => {
    await sd.init(await initOptions(backend));
    f = fixtures();
    dir = mkdtempSync(join(tmpdir(), 'simdnn-bad-'));
  });
  afterAll(() => {
    sd.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every case throws a clear Error and leaves the runtime usable, nothing leaked', async () => {
    const list = cases(f, dir);
    const failures: string[] = [];
    for (const [name, fn, re] of list) {
      if (process.env.SIMDNN_TRACE) writeSync(2, `case ${name}\n`);
      const before = sd.memory();
      const e = await thrown(fn);
      const after = sd.memory();
      if (!(e instanceof Error)) failures.push(`${name}: ${e === null ? 'did not throw' : `threw a non-Error ${String(e)}`}`);
      else if (!re.test(e.message)) failures.push(`${name}: message ${JSON.stringify(e.message)} does not match ${re}`);
      if (after.tensors !== before.tensors || after.bytes !== before.bytes)
        failures.push(`${name}: leaked ${after.tensors - before.tensors} tensors, ${after.bytes - before.bytes} bytes`);
      // The runtime still works.
      const ok = sd.tidy(() => Array.from(sd.add(f.a, 1).sum(1).dataSync()));
      if (ok.join() !== '9,18') failures.push(`${name}: a valid op after it gave ${ok}`);
      if (sd.info().backend !== backend) failures.push(`${name}: the backend changed to ${sd.info().backend}`);
    }
    total += list.length;
    console.log(`bad input on ${backend}: ${list.length} cases, ${failures.length} failures (running total ${total})`);
    expect(failures).toEqual([]);
  });

  it('malformed but readable CSV: BOM, CRLF, quotes, blank lines and padding read like the clean file', async () => {
    const clean = await sd.data.readCsv(GOOD_CSV, { from: 'string' });
    const messy = await sd.data.readCsv('\uFEFFa,"b",label\r\n\r\n 1 ,"2",x\r\n3,4,"y"\r\n\r\n"5",6,x\r\n7,8,y', { from: 'string' });
    try {
      expect(messy.columns).toEqual(clean.columns);
      expect(Array.from(messy.x.dataSync())).toEqual(Array.from(clean.x.dataSync()));
      expect(Array.from(messy.y.dataSync())).toEqual(Array.from(clean.y.dataSync()));
      expect(messy.classes).toEqual(clean.classes);
    } finally {
      sd.dispose([clean.x, clean.y, messy.x, messy.y]);
    }
  });
});
