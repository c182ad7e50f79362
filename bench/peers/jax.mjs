// jax-js (npm @jax-js/jax 0.1.25): a JAX-style array library whose kernels are generated at run time
// (wasm in Node; WebGPU and WebGL in browsers), with jit, grad and reference-counted arrays. Node 20 has
// no `navigator`, which its init('wasm') reads: the adapter sets `globalThis.navigator ??= {}` first.
//
// The same math as simdnn's run: dense 784-512-256-10, relu hidden layers with he-normal kernels,
// glorot-uniform logits, zero biases; mean softmax cross-entropy over the batch (one-hot labels);
// adam(lr, 0.9, 0.999, 1e-8) in torch's form — simdnn's defaults — batch 128, shuffled every epoch.
// jax-js has no training loop or optimizers of its own (those are @jax-js/optax, not measured here):
// fit() is the loop a jax user writes, one jit-compiled step (loss, valueAndGrad, the Adam update of
// every parameter) per batch, with the batch gathered on the device (np.take of the resident data).
//
// Ownership: every jax-js function consumes its array arguments (methods consume their receiver); `.ref`
// keeps one for another use. The step takes params and Adam state and returns the new ones.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const KEYS = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3'];
const SHAPES = { w1: [784, 512], b1: [512], w2: [512, 256], b2: [256], w3: [256, 10], b3: [10] };

async function load() {
  globalThis.navigator ??= {};
  const jax = await import('@jax-js/jax');
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: init('wasm') started ${JSON.stringify(devices)}, no wasm device`);
  jax.defaultDevice('wasm');
  return jax;
}

/** Deterministic N(0, 1) values (Box–Muller on a 32-bit LCG): the same initial weights in every run. */
function normals(n, seed) {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function initParams(np, seed) {
  const he = (fin, fout, s) => normals(fin * fout, s).map((v) => v * Math.sqrt(2 / fin));
  const glorot = (fin, fout, s) => {
    const lim = Math.sqrt(6 / (fin + fout));
    return normals(fin * fout, s).map((v) => Math.max(-lim, Math.min(lim, v * lim / 2)));
  };
  const w = { w1: he(784, 512, seed), w2: he(512, 256, seed + 1), w3: glorot(256, 10, seed + 2) };
  const p = {};
  for (const k of KEYS) p[k] = k.startsWith('w') ? np.array(w[k]).reshape(SHAPES[k]) : np.zeros(SHAPES[k]);
  return p;
}

export async function create() {
  let jax, np, nn, params = null, m = null, v = null, t = 0, step = null, forward = null, infer = null;
  let X = null, Y = null, nTrain = 0, xTest = null, yTest = null, nTest = 0;
  const release = () => {
    for (const tree of [params, m, v]) if (tree) jax.tree.dispose(tree);
    params = m = v = null;
  };
  return {
    async init() {
      jax = await load();
      ({ numpy: np, nn } = jax);
      // The forward pass; it consumes p and x.
      forward = (p, x) => {
        const h1 = nn.relu(np.matmul(x, p.w1).add(p.b1));
        const h2 = nn.relu(np.matmul(h1, p.w2).add(p.b2));
        return np.matmul(h2, p.w3).add(p.b3);
      };
      // Inference as a jax user serves a model: the forward pass jit-compiled (one program per batch size).
      infer = jax.jit((p, x) => forward(p, x));
      const loss = (p, x, y) => nn.logSoftmax(forward(p, x), -1).mul(y).sum(-1).mean().mul(-1);
      const b1 = 0.9, b2 = 0.999;
      // One Adam step in torch's form, written as p ← p − a·m/(√v + e) with the bias corrections folded into
      // a = lr·√(1 − β2ᵗ)/(1 − β1ᵗ) and e = eps·√(1 − β2ᵗ), passed as arrays so the program compiles once.
      step = jax.jit((p, mIn, vIn, x, y, a, e) => {
        const [value, g] = jax.valueAndGrad(loss)(jax.tree.ref(p), x, y);
        const np2 = {}, nm = {}, nv = {};
        for (const k of KEYS) {
          const gk = g[k];
          nm[k] = mIn[k].mul(b1).add(gk.ref.mul(1 - b1));
          nv[k] = vIn[k].mul(b2).add(gk.ref.mul(gk).mul(1 - b2));
          np2[k] = p[k].sub(nm[k].ref.mul(a.ref).div(np.sqrt(nv[k].ref).add(e.ref)));
        }
        a.dispose();
        e.dispose();
        return [value, np2, nm, nv];
      });
      return `jax-js ${version()} wasm (jit-compiled step)`;
    },
    setData(d) {
      nTrain = d.nTrain;
      nTest = d.nTest;
      X = np.array(d.xTrain).reshape([d.nTrain, 784]);
      const oneHot = new Float32Array(d.nTrain * 10);
      for (let i = 0; i < d.nTrain; i++) oneHot[i * 10 + d.yTrain[i]] = 1;
      Y = np.array(oneHot).reshape([d.nTrain, 10]);
      xTest = d.xTest;
      yTest = d.yTest;
    },
    buildModel(seed) {
      release();
      params = initParams(np, seed);
      m = Object.fromEntries(KEYS.map((k) => [k, np.zeros(SHAPES[k])]));
      v = Object.fromEntries(KEYS.map((k) => [k, np.zeros(SHAPES[k])]));
      t = 0;
    },
    async fit({ epochs, batchSize, lr, onBatch }) {
      let seed = 1;
      for (let epoch = 0; epoch < epochs; epoch++) {
        // Shuffled every epoch (a fixed LCG, as the other adapters' own shuffles).
        const order = Int32Array.from({ length: nTrain }, (_, i) => i);
        for (let i = nTrain - 1; i > 0; i--) {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          const j = seed % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (let start = 0; start < nTrain; start += batchSize) {
          const idx = np.array(order.subarray(start, Math.min(nTrain, start + batchSize)), { dtype: np.int32 });
          const xb = np.take(X.ref, idx.ref, 0), yb = np.take(Y.ref, idx, 0);
          t++;
          const a = np.array(lr * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)), e = np.array(1e-8 * Math.sqrt(1 - 0.999 ** t));
          let value;
          [value, params, m, v] = step(params, m, v, xb, yb, a, e);
          // Reading the loss waits for the step, as the other systems' loops do each batch.
          await value.data();
          if (onBatch(Math.min(batchSize, nTrain - start))) return;
        }
      }
    },
    async testAccuracy() {
      const logits = infer(jax.tree.ref(params), np.array(xTest).reshape([nTest, 784]));
      const pred = await np.argmax(logits, -1).data();
      let hits = 0;
      for (let i = 0; i < nTest; i++) hits += pred[i] === yTest[i] ? 1 : 0;
      return hits / nTest;
    },
    predict1(row) {
      return infer(jax.tree.ref(params), np.array(row).reshape([1, 784])).dataSync();
    },
    predictBatch(rows, n) {
      return infer(jax.tree.ref(params), np.array(rows.subarray(0, n * 784)).reshape([n, 784])).dataSync();
    },
    /** One product through np.matmul: 'nn' A·B, 'nt' A·Bᵀ, 'tn' Aᵀ·B (a transposed view, as a jax user writes .T). The result is read (dataSync) to force it. */
    gemm(form, mm, n, k, fill) {
      const ta = form[0] === 't', tb = form[1] === 't';
      const a = np.array(fill(mm * k)).reshape(ta ? [k, mm] : [mm, k]);
      const b = np.array(fill(k * n)).reshape(tb ? [n, k] : [k, n]);
      return {
        run: () => void np.matmul(ta ? a.ref.transpose() : a.ref, tb ? b.ref.transpose() : b.ref).dataSync(),
        dispose: () => (a.dispose(), b.dispose()),
      };
    },
    dispose() {
      release();
      for (const arr of [X, Y]) arr?.dispose();
      X = Y = null;
    },
  };
}

export async function coldStart() {
  const jax = await load();
  const p = initParams(jax.numpy, 0);
  const { numpy: np, nn } = jax;
  const h1 = nn.relu(np.matmul(np.array(new Float32Array(784).fill(0.5)).reshape([1, 784]), p.w1).add(p.b1));
  const h2 = nn.relu(np.matmul(h1, p.w2).add(p.b2));
  return np.matmul(h2, p.w3).add(p.b3).dataSync().length;
}

/** The installed @jax-js/jax version (its package.json is not among its exports). */
function version() {
  const main = createRequire(import.meta.url).resolve('@jax-js/jax');
  return JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')).version;
}

/**
 * Bundle size as the other systems' rows count it, minified and gzipped (level 9): jax-js ships its ESM
 * unminified, so it is minified here with esbuild (code splitting on, as a page's bundler would keep
 * its dynamically imported WebGPU and WebGL backends apart). `loadedGzip`: the entry chunk and what it
 * imports statically (a page on the wasm device); `totalGzip`: every chunk. Its wasm is generated at run
 * time, so there is no .wasm file to count.
 */
export async function bundleSize() {
  const esbuild = await import('esbuild');
  const outdir = mkdtempSync(join(tmpdir(), 'jax-bundle-'));
  try {
    const r = await esbuild.build({
      entryPoints: [fileURLToPath(import.meta.resolve('@jax-js/jax'))], bundle: true, minify: true, format: 'esm', splitting: true,
      outdir: join(outdir, 'out'), metafile: true, logLevel: 'silent', platform: 'neutral', external: ['node:*'],
    });
    const outputs = r.metafile.outputs;
    const gz = (f) => gzipSync(readFileSync(join(process.cwd(), f)), { level: 9 }).length;
    const all = Object.keys(outputs).filter((f) => f.endsWith('.js'));
    const main = all.find((f) => outputs[f].entryPoint);
    const loaded = new Set();
    const walk = (f) => {
      if (loaded.has(f)) return;
      loaded.add(f);
      for (const i of outputs[f].imports) if (i.kind === 'import-statement' && !i.external) walk(i.path);
    };
    walk(main);
    const parts = all.map((f) => ({ name: f, kind: 'js', gzip: gz(f) }));
    return {
      parts, jsGzip: parts.reduce((a, p) => a + p.gzip, 0), wasmGzip: 0, totalGzip: parts.reduce((a, p) => a + p.gzip, 0),
      loadedGzip: parts.filter((p) => loaded.has(p.name)).reduce((a, p) => a + p.gzip, 0), missing: [],
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
