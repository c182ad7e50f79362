// A layer of your own, trained with fit(). LayerNorm is not built into simdnn; here it is written with
// the public ops, and fit() trains it like any other layer: the first step runs the ops and records
// their kernel calls, later steps replay them at full speed (the gradients come from autograd's rules
// for each op). The data: the 1,797 handwritten digits of data/digits.csv.
// Run: node examples/custom-layer.mjs   (after npm run build)
import { pathToFileURL } from 'node:url';
import * as sd from '../dist/index.js'; // in your project: import * as sd from 'simdnn';

/** Layer normalisation over the features of each row (torch.nn.LayerNorm(width)): (x − mean)/√(var + eps)·γ + β. */
export class LayerNorm extends sd.Layer {
  type = 'layerNorm';
  constructor(width, { eps = 1e-5 } = {}) {
    super();
    this.width = width;
    this.eps = eps;
    this.gain = sd.layers.parameter([width], 'ones');
    this.shift = sd.layers.parameter([width], 'zeros');
  }
  get inFeatures() {
    return this.width;
  }
  params() {
    return [this.gain, this.shift];
  }
  paramNames() {
    return ['weight', 'bias'];
  }
  forward(x) {
    const centred = sd.sub(x, sd.mean(x, -1, true));
    const variance = sd.mean(sd.square(centred), -1, true);
    return sd.add(sd.mul(sd.div(centred, sd.sqrt(sd.add(variance, this.eps))), this.gain), this.shift);
  }
  outFeatures(n) {
    if (n !== this.width) throw new RangeError(`layerNorm: expects ${this.width} features, got ${n}.`);
    return n;
  }
  config() {
    return { type: 'layerNorm', width: this.width, eps: this.eps };
  }
}

export async function run({ backend = 'auto', log = console.log } = {}) {
  await sd.init({ backend });
  const data = await sd.data.readCsv(new URL('../data/digits.csv', import.meta.url), { target: 'digit' });
  const { train, test } = sd.data.split(data.x, data.y, { test: 0.2, stratify: true, seed: 0 });

  // 64 pixels → LayerNorm → 128 relu units → LayerNorm → 10 logits. The first LayerNorm stands in for a
  // scaler: it normalises each image by its own mean and spread.
  const model = sd.sequential([
    new LayerNorm(64),
    sd.layers.linear(64, 128, { activation: 'relu', seed: 1 }),
    new LayerNorm(128),
    sd.layers.linear(128, 10, { seed: 2 }),
  ]);
  log(model.summary());
  const history = await model.fit(train.x, train.y, {
    loss: 'softmaxCrossEntropy',
    optimizer: sd.optimizers.adam({ lr: 3e-3 }),
    epochs: 30,
    batchSize: 32,
    seed: 0,
  });
  const classes = model.predictClasses(test.x);
  const accuracy = sd.metrics.accuracy(classes, test.y);
  log(`loss ${history.loss[0].toFixed(3)} → ${history.loss.at(-1).toFixed(3)}; test accuracy ${accuracy.toFixed(4)}`);

  // Saving works as for any model; loading needs to know how to rebuild a 'layerNorm' from its config().
  sd.layers.register('layerNorm', (c) => new LayerNorm(c.width, { eps: c.eps }));
  const again = await sd.load(sd.save(model));
  const reloadedSame = again.predictClasses(test.x).every((c, i) => c === classes[i]);
  log(`saved and loaded: ${reloadedSame ? 'the same predictions' : 'DIFFERENT predictions'}`);
  again.dispose();
  model.dispose();
  sd.dispose([data.x, data.y, train.x, train.y, test.x, test.y]);
  return { accuracy, firstLoss: history.loss[0], lastLoss: history.loss.at(-1), reloadedSame };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
