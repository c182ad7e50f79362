// brain.js 1.6.1 (NeuralNetwork, CPU; the last release line that installs on Node 20 without native
// builds — 2.0 betas pull gpu.js 2 / headless-gl). Variants:
//   'adam': praxis 'adam', learningRate 1e-3 (the optimizer the others run);
//   'sgd':  brain.js's defaults (learningRate 0.3, momentum 0.1), the path most brain.js users take.
//
// brain.js cannot run the same math as the others, and the table says so: it has no mini-batches
// (every sample is its own update), no softmax or cross-entropy (the output layer uses the hidden
// activation and the error is target − output, i.e. squared error), and its own uniform ±0.2 init.
// Its adam update calls Math.pow twice per weight per sample, which makes it very slow here; the
// harness therefore caps its training time and marks its accuracy as not comparable.
//
// fit(): net.train(data, {iterations: epochs}) — brain.js trains every sample once per iteration.
// Progress is observed by wrapping net.trainPattern (one counter increment per sample).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const STOP = Symbol('stop');

function options(variant) {
  return variant === 'adam'
    ? { praxis: 'adam', learningRate: 1e-3 }
    : { learningRate: 0.3, momentum: 0.1 };
}

export async function create(variant) {
  let brain, net, data, xTest, yTest, nTest;
  const newNet = () => new brain.NeuralNetwork({ hiddenLayers: [512, 256], activation: 'relu', ...options(variant) });
  const argmax = (o) => {
    let best = 0;
    for (let j = 1; j < o.length; j++) if (o[j] > o[best]) best = j;
    return best;
  };
  return {
    async init() {
      brain = require('brain.js');
      return `brain.js ${require('brain.js/package.json').version} NeuralNetwork (${variant === 'adam' ? 'praxis adam, lr 1e-3' : 'default sgd: lr 0.3, momentum 0.1'}; per-sample updates, squared error on relu outputs)`;
    },
    setData(d) {
      data = new Array(d.nTrain);
      for (let i = 0; i < d.nTrain; i++) {
        const output = new Array(10).fill(0);
        output[d.yTrain[i]] = 1;
        data[i] = { input: Array.from(d.xTrain.subarray(i * 784, (i + 1) * 784)), output };
      }
      xTest = d.xTest;
      yTest = d.yTest;
      nTest = d.nTest;
    },
    buildModel() {
      net = newNet();
    },
    async fit({ epochs, onBatch }) {
      const chunk = 4;
      const inner = net.trainPattern.bind(net);
      let count = 0;
      net.trainPattern = (value, logErrorRate) => {
        const r = inner(value, logErrorRate);
        if (++count % chunk === 0 && onBatch(chunk)) throw STOP;
        return r;
      };
      try {
        net.train(data, { iterations: epochs, errorThresh: 1e-9, log: false, ...options(variant) });
      } catch (e) {
        if (e !== STOP) throw e;
      } finally {
        delete net.trainPattern;
      }
    },
    async testAccuracy() {
      let hits = 0;
      for (let i = 0; i < nTest; i++) hits += argmax(net.run(xTest.subarray(i * 784, (i + 1) * 784))) === yTest[i] ? 1 : 0;
      return hits / nTest;
    },
    stepLoop: null, // train() is already a plain per-sample loop
    predict1(row) {
      return net.run(row);
    },
    predictBatch(rows, n) {
      let last;
      for (let i = 0; i < n; i++) last = net.run(rows.subarray(i * 784, (i + 1) * 784));
      return last;
    },
    gemm: null, // brain.js has no public matrix product
    dispose() {},
  };
}

export async function coldStart(variant) {
  const brain = require('brain.js');
  const net = new brain.NeuralNetwork({ hiddenLayers: [512, 256], activation: 'relu', ...options(variant) });
  net.sizes = [784, 512, 256, 10];
  net.initialize();
  return net.run(new Array(784).fill(0.5)).length;
}
