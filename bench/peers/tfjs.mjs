// TensorFlow.js 4.22 (the union package @tensorflow/tfjs, as a Node user imports it), on the
// 'wasm' backend (@tensorflow/tfjs-backend-wasm: XNNPACK, its SIMD binary; one thread, since Node
// gives it no cross-origin-isolated worker pool) or on the plain JS 'cpu' backend.
//
// The same math as simdnn's run: dense 784-512-256-10, relu hidden layers with he-normal kernels,
// glorot-uniform logits, zero biases; mean softmax cross-entropy over the batch (one-hot labels);
// adam(lr, 0.9, 0.999, 1e-8) — simdnn's defaults — batch 128, shuffled every epoch.
//
// fit():      model.fit (tfjs-layers' training loop).
// stepLoop(): optimizer.minimize over a gathered batch, no tfjs-layers loop.

const silence = () => {
  // tfjs prints a banner suggesting tfjs-node (which needs a native download); keep stdout clean.
  const log = console.log, warn = console.warn;
  console.log = console.warn = () => {};
  return () => ((console.log = log), (console.warn = warn));
};

async function load(variant) {
  const restore = silence();
  try {
    const tf = await import('@tensorflow/tfjs');
    if (variant === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(variant))) throw new Error(`tf.setBackend('${variant}') failed`);
    await tf.ready();
    return tf;
  } finally {
    restore();
  }
}

function build(tf, seed) {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 512, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) }),
      tf.layers.dense({ units: 256, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
  return model;
}

export async function create(variant) {
  let tf, model, x, yOne, xTest, yTest, nTest, nTrain;
  const loss = (yTrue, logits) => tf.losses.softmaxCrossEntropy(yTrue, logits);
  return {
    async init() {
      tf = await load(variant);
      let simd = '';
      if (variant === 'wasm') {
        const has = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        simd = ` (SIMD ${has ? 'on' : 'OFF'}, threads ${mt ? 'on' : 'off'})`;
      }
      return `tfjs ${tf.version.tfjs} ${tf.getBackend()}${simd}`;
    },
    setData(d) {
      nTrain = d.nTrain;
      nTest = d.nTest;
      x = tf.tensor2d(d.xTrain, [d.nTrain, 784]);
      yOne = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(d.yTrain), 'int32'), 10).toFloat());
      xTest = tf.tensor2d(d.xTest, [d.nTest, 784]);
      yTest = d.yTest;
    },
    buildModel(seed) {
      model?.dispose();
      model = build(tf, seed);
    },
    async fit({ epochs, batchSize, lr, onBatch }) {
      model.compile({ optimizer: tf.train.adam(lr, 0.9, 0.999, 1e-8), loss });
      await model.fit(x, yOne, {
        epochs,
        batchSize,
        shuffle: true,
        verbose: 0,
        callbacks: {
          onBatchEnd: (_b, logs) => {
            if (onBatch(logs.size)) model.stopTraining = true;
          },
        },
      });
    },
    async testAccuracy() {
      const pred = tf.tidy(() => model.predict(xTest, { batchSize: 256 }).argMax(-1).dataSync());
      let hits = 0;
      for (let i = 0; i < nTest; i++) hits += pred[i] === yTest[i] ? 1 : 0;
      return hits / nTest;
    },
    async stepLoop({ batchSize, lr, order, onStep }) {
      const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
      try {
        for (let start = 0; ; start += batchSize) {
          if (start + batchSize > nTrain) start = 0;
          const idx = Int32Array.from(order.subarray(start, start + batchSize));
          tf.tidy(() => {
            const it = tf.tensor1d(idx, 'int32');
            const xb = tf.gather(x, it), yb = tf.gather(yOne, it);
            opt.minimize(() => loss(yb, model.apply(xb, { training: true })), false);
          });
          if (onStep(batchSize)) break;
        }
      } finally {
        opt.dispose();
      }
      return 'optimizer.minimize(() => loss(model.apply(x)))';
    },
    predict1(row) {
      return tf.tidy(() => model.predict(tf.tensor2d(row, [1, 784])).dataSync());
    },
    predictBatch(rows, n) {
      return tf.tidy(() => model.predict(tf.tensor2d(rows, [n, 784]), { batchSize: n }).dataSync());
    },
    /** One product through tf.matMul: 'nn' A·B, 'nt' A·Bᵀ, 'tn' Aᵀ·B (transposeA/B, no explicit transpose). */
    gemm(form, m, n, k, fill) {
      const ta = form[0] === 't', tb = form[1] === 't';
      const a = tf.tensor2d(fill(m * k), ta ? [k, m] : [m, k]);
      const b = tf.tensor2d(fill(k * n), tb ? [n, k] : [k, n]);
      return {
        run: () => tf.matMul(a, b, ta, tb).dispose(),
        dispose: () => (a.dispose(), b.dispose()),
      };
    },
    dispose() {
      model?.dispose();
      for (const t of [x, yOne, xTest]) t?.dispose();
    },
  };
}

export async function coldStart(variant, mark = () => {}) {
  const tf = await load(variant);
  mark('init'); // import and backend start together
  const model = build(tf, 0);
  mark('build');
  const out = tf.tidy(() => model.predict(tf.tensor2d(new Float32Array(784).fill(0.5), [1, 784])).dataSync());
  mark('predict');
  return out.length;
}
