// Every gradient rule against central differences computed in float64 (the js backend with Float64Array
// storage evaluates the whole op library in double precision), then every backend's float32 autograd (js,
// wasm, wasm-threads, and webgpu where an adapter exists, all read with `await data()`) against the float64
// gradients. The unary ops and the dense activations come from the op table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import { JsBackend } from '../src/backend/js/backend.js';
import { ACTIVATIONS, PUBLIC_UNARY, UNARY, type UnaryDesc } from '../src/core/optable.js';
import { engine } from '../src/core/engine.js';
import { useBackendForTests } from '../src/runtime/runtime.js';
import { initOptions, rng, testGpu, threadsAvailable } from './helpers.js';

type Case = {
  name: string;
  shapes: number[][];
  f: (...xs: sd.Tensor[]) => sd.Tensor;
  /** Input generator (default uniform in [-2, 2]). */
  gen?: (r: ReturnType<typeof rng>, n: number, i: number) => Float64Array;
};

const posGen = (r: ReturnType<typeof rng>, n: number) => Float64Array.from({ length: n }, () => r.uniform(0.3, 3));
const awayFromZero = (r: ReturnType<typeof rng>, n: number) => Float64Array.from({ length: n }, () => (r.next() < 0.5 ? -1 : 1) * r.uniform(0.2, 2));

// Projections onto fixed random weights make every output element matter: f = Σ W ⊙ op(x).
let proj = 0;
function project(y: sd.Tensor): sd.Tensor {
  const r = rng(1000 + proj++);
  const w = sd.tensor(Float32Array.from({ length: y.size }, () => r.uniform(-1, 1)), y.shape);
  return sd.sum(sd.mul(y, w));
}

// Every public unary op of the table, with its parameter's default and (where it has one) another value.
// Inputs stay away from the kinks at 0 (relu, abs, sign) and inside the op's domain.
const cases: Case[] = [
  ...PUBLIC_UNARY.flatMap((name): Case[] => {
    const d = UNARY[name] as UnaryDesc;
    const gen = d.domain === 'positive' ? posGen : awayFromZero;
    const one: Case = { name, shapes: [[3, 5]], f: (x) => project((sd as any)[name](x)), gen };
    if (!d.param) return [one];
    const p = d.param.default / 2 + 0.1;
    return [one, { name: `${name}(${d.param.name} ${p})`, shapes: [[7]], f: (x) => project((sd as any)[name](x, p)), gen }];
  }),
  { name: 'affine', shapes: [[4, 3]], f: (x) => project(sd.affine(x, -1.5, 2)) },
  { name: 'add (broadcast rows)', shapes: [[4, 3], [3]], f: (a, b) => project(sd.add(a, b)) },
  { name: 'sub (broadcast columns)', shapes: [[4, 3], [4, 1]], f: (a, b) => project(sd.sub(a, b)) },
  { name: 'sub (scalar first)', shapes: [[], [2, 3]], f: (a, b) => project(sd.sub(a, b)) },
  { name: 'mul (3-d broadcast)', shapes: [[2, 3, 4], [3, 1]], f: (a, b) => project(sd.mul(a, b)) },
  { name: 'mul (same tensor twice)', shapes: [[5]], f: (a) => project(sd.mul(a, a)) },
  { name: 'div', shapes: [[3, 4], [1, 4]], f: (a, b) => project(sd.div(a, b)), gen: (r, n, i) => (i === 1 ? posGen(r, n) : awayFromZero(r, n)) },
  { name: 'maximum', shapes: [[3, 4], [3, 4]], f: (a, b) => project(sd.maximum(a, b)) },
  { name: 'minimum (broadcast)', shapes: [[3, 4], [4]], f: (a, b) => project(sd.minimum(a, b)) },
  { name: 'pow', shapes: [[3, 2], [2]], f: (a, b) => project(sd.pow(a, b)), gen: posGen },
  { name: 'sum (all)', shapes: [[3, 4]], f: (x) => sd.sum(sd.square(x)) },
  { name: 'sum (axis 0)', shapes: [[3, 4]], f: (x) => project(sd.sum(x, 0)) },
  { name: 'sum (axes [0, 2], keepDims)', shapes: [[2, 3, 4]], f: (x) => project(sd.sum(x, [0, 2], true)) },
  { name: 'mean (axis -1)', shapes: [[3, 5]], f: (x) => project(sd.mean(x, -1)) },
  { name: 'max (axis 1)', shapes: [[4, 6]], f: (x) => project(sd.max(x, 1)) },
  { name: 'min (all)', shapes: [[4, 6]], f: (x) => sd.min(x) },
  { name: 'sumSquares (axis 0)', shapes: [[4, 3]], f: (x) => project(sd.sumSquares(x, 0)) },
  { name: 'softmax', shapes: [[3, 5]], f: (x) => project(sd.softmax(x)) },
  { name: 'logSoftmax', shapes: [[3, 5]], f: (x) => project(sd.logSoftmax(x)) },
  { name: 'softmaxCrossEntropy (indices, mean)', shapes: [[4, 5]], f: (z) => sd.softmaxCrossEntropy(z, sd.tensor([0, 4, 2, 2])) },
  { name: 'softmaxCrossEntropy (one-hot, sum)', shapes: [[2, 3]], f: (z) => sd.softmaxCrossEntropy(z, sd.tensor([[0, 1, 0], [0.2, 0.3, 0.5]]), 'sum') },
  { name: 'softmaxCrossEntropy (none)', shapes: [[3, 4]], f: (z) => project(sd.softmaxCrossEntropy(z, sd.tensor([3, 0, 1]), 'none')) },
  { name: 'matmul A·B', shapes: [[3, 4], [4, 5]], f: (a, b) => project(sd.matmul(a, b)) },
  { name: 'matmul A·Bᵀ', shapes: [[3, 4], [5, 4]], f: (a, b) => project(sd.matmul(a, b, { transposeB: true })) },
  { name: 'matmul Aᵀ·B', shapes: [[4, 3], [4, 5]], f: (a, b) => project(sd.matmul(a, b, { transposeA: true })) },
  { name: 'matmul Aᵀ·Bᵀ', shapes: [[4, 3], [5, 4]], f: (a, b) => project(sd.matmul(a, b, { transposeA: true, transposeB: true })) },
  ...ACTIVATIONS.map((act): Case => ({
    name: `dense (${act})`,
    shapes: [[5, 4], [4, 3], [3]],
    f: (x, w, b) => project(sd.dense(x, w, b, act)),
  })),
  { name: 'dense (no bias)', shapes: [[2, 3], [3, 2]], f: (x, w) => project(sd.dense(x, w, null, 'tanh')) },
  { name: 'reshape', shapes: [[2, 6]], f: (x) => project(sd.reshape(x, [3, 4]).square()) },
  { name: 'transpose', shapes: [[2, 5]], f: (x) => project(sd.transpose(x).exp()) },
  { name: 'clone', shapes: [[4]], f: (x) => project(sd.clone(x).tanh()) },
  { name: 'broadcastTo', shapes: [[3, 1]], f: (x) => project(sd.broadcastTo(x, [2, 3, 4])) },
  // The gradient with respect to a model's input (saliency, integrated gradients): its parameters are
  // closed over, so grad() treats them as constants.
  ...(['relu', 'tanh', 'gelu'] as const).map((activation): Case => ({
    name: `input gradient of an mlp (${activation}, dropout off, softmax output)`,
    shapes: [[5, 4]],
    f: (x) => {
      const m = sd.mlp([4, 6, 5, 3], { activation, dropout: 0.3, outputActivation: 'softmax', seed: 2 });
      try {
        return project(m.forward(x));
      } finally {
        m.dispose();
      }
    },
    gen: awayFromZero,
  })),
  { name: 'a small MLP with a shared weight', shapes: [[6, 4], [4, 4], [4]], f: (x, w, b) => sd.softmaxCrossEntropy(sd.dense(sd.dense(x, w, b, 'tanh'), w, b), sd.tensor([0, 1, 2, 3, 1, 0])) },
];

function inputs(c: Case, seed: number): Float64Array[] {
  const r = rng(seed);
  return c.shapes.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    return c.gen ? c.gen(r, n, i) : Float64Array.from({ length: n }, () => r.uniform(-2, 2));
  });
}

let float64Backend: JsBackend | null = null;
/** Installs a js backend with float64 storage: the float64 evaluator of the whole op library. */
function useFloat64(): void {
  useBackendForTests((float64Backend = new JsBackend(Float64Array)));
}

/** Autograd gradients of c at the given inputs on the active backend, read with `await data()`. */
async function autograd(c: Case, xs: Float64Array[]): Promise<Float64Array[]> {
  proj = 0;
  const float64 = engine.backend === float64Backend;
  const grads = sd.tidy(() => {
    const ts = xs.map((x, i) => sd.tensor(Float32Array.from(x), c.shapes[i]));
    // Float32Array.from above rounds; on the float64 backend write the exact values back.
    if (float64) ts.forEach((t, i) => (t.storage!.backend as any).write(t.storage!.handle, xs[i]));
    return sd.grad(c.f)(...ts);
  });
  const out = await Promise.all(grads.map(async (g) => Float64Array.from(await g.data())));
  sd.dispose(grads);
  return out;
}

function valueAt(c: Case, xs: Float64Array[]): number {
  proj = 0;
  return sd.tidy(() => {
    const ts = xs.map((x, i) => {
      const t = sd.tensor(new Float32Array(x.length), c.shapes[i]);
      (t.storage!.backend as any).write(t.storage!.handle, x);
      return t;
    });
    return c.f(...ts).dataSync()[0];
  });
}

describe('gradient rules against float64 central differences', () => {
  afterAll(() => sd.shutdown());

  for (const c of cases) {
    it(c.name, async () => {
      useFloat64();
      const xs = inputs(c, 17);
      const g = await autograd(c, xs);
      expect(g.length).toBe(xs.length);
      for (let i = 0; i < xs.length; i++) {
        for (let j = 0; j < xs[i].length; j++) {
          const h = 1e-6 * Math.max(1, Math.abs(xs[i][j]));
          const plus = xs.map((x) => x.slice()), minus = xs.map((x) => x.slice());
          plus[i][j] += h;
          minus[i][j] -= h;
          const numeric = (valueAt(c, plus) - valueAt(c, minus)) / (2 * h);
          // Central differences have O(h²) truncation and O(ε/h) rounding error: ~1e-10·scale in float64.
          expect(Math.abs(g[i][j] - numeric), `d/dx${i}[${j}]: autograd ${g[i][j]}, numeric ${numeric}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(numeric)));
        }
      }
      expect(sd.memory().tensors).toBe(0);
    });
  }
});

const gpu = (await testGpu()).gpu;
const backends: ('js' | 'wasm' | 'wasm-threads' | 'webgpu')[] = ['js', 'wasm', ...((await threadsAvailable()) ? (['wasm-threads'] as const) : []), ...(gpu ? (['webgpu'] as const) : [])];

describe.each(backends)('float32 autograd on %s matches the float64 gradients', (backend) => {
  // The float64 gradients of every case first, then one backend for all of them (a webgpu start compiles
  // every pipeline: once per backend, not once per case).
  const wants = new Map<Case, Float64Array[]>();
  const inputsOf = (c: Case) => inputs(c, 23).map((x) => Float64Array.from(Float32Array.from(x)));
  beforeAll(async () => {
    useFloat64();
    for (const c of cases) wants.set(c, await autograd(c, inputsOf(c)));
    if (backend === 'webgpu') await sd.init({ backend, gpu: gpu! });
    else await sd.init(await initOptions(backend));
    expect(engine.backend?.name).toBe(backend);
  }, 120_000);
  afterAll(() => sd.shutdown());

  for (const c of cases) {
    it(c.name, async () => {
      const want = wants.get(c)!;
      const got = await autograd(c, inputsOf(c));
      // float32 forward and backward: a few ulp per op along the chain, relative to the gradient scale.
      for (let i = 0; i < want.length; i++) {
        const scale = Math.max(1, ...Array.from(want[i], Math.abs));
        for (let j = 0; j < want[i].length; j++)
          expect(Math.abs(got[i][j] - want[i][j]), `d/dx${i}[${j}]`).toBeLessThanOrEqual(2e-5 * scale);
      }
      expect(sd.memory().tensors).toBe(0);
    });
  }
});

describe('grad() differentiates only its arguments', () => {
  afterAll(() => sd.shutdown());
  it("a model's parameters used inside f are constants: their .grad stays as it was, and their gradient rules skip them", async () => {
    await sd.init({ backend: 'wasm' });
    const model = sd.mlp([3, 8, 2], { seed: 1 });
    const x = sd.tensor(rng(3).array(4 * 3), [4, 3]);
    const before = model.parameters().map((p) => p.grad);
    let gemms = 0;
    const be = sd.memory() && (model.parameters()[0].storage!.backend as any);
    const gemm = be.gemm;
    be.gemm = function (this: unknown, a: unknown) {
      gemms++;
      return gemm.call(this, a);
    };
    try {
      const [gx] = sd.grad((t) => sd.sum(model.forward(t)))(x);
      expect(gx.shape).toEqual([4, 3]);
      // 2 forward gemms, 2 backward gemms for the inputs of each layer (dx), none for dW.
      expect(gemms).toBe(4);
      gx.dispose();
    } finally {
      be.gemm = gemm;
    }
    expect(model.parameters().map((p) => p.grad)).toEqual(before);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    // backward() outside grad() still fills the parameters' .grad.
    sd.tidy(() => sd.backward(sd.sum(model.forward(x))));
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    model.zeroGrad();
    model.dispose();
    x.dispose();
    expect(sd.memory().tensors).toBe(0);
  });
});

describe('backward, accumulation and graph lifetime', () => {
  afterAll(() => sd.shutdown());

  it('accumulates into .grad across backward calls until zeroGrad', async () => {
    await sd.init({ backend: 'js' });
    const w = sd.tensor([1, 2, 3]);
    w.requiresGrad = true;
    sd.tidy(() => w.square().sum().backward());
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 4, 6]);
    sd.tidy(() => w.mul(3).sum().backward());
    expect(Array.from(w.grad!.dataSync())).toEqual([5, 7, 9]);
    w.zeroGrad();
    expect(w.grad).toBe(null);
    w.dispose();
    expect(sd.memory().tensors).toBe(0);
  });

  it('backward works after tidy() returned the loss (the graph keeps what it saved)', async () => {
    await sd.init({ backend: 'js' });
    const w = sd.tensor([[0.5, -1], [2, 0.25]]);
    w.requiresGrad = true;
    const loss = sd.tidy(() => sd.tensor([[1, 2]]).matmul(w).tanh().sum());
    loss.backward();
    const g = w.grad!.dataSync();
    const t0 = Math.tanh(0.5 + 4), t1 = Math.tanh(-1 + 0.5);
    expect(g[0]).toBeCloseTo(1 - t0 * t0, 6);
    expect(g[2]).toBeCloseTo(2 * (1 - t0 * t0), 6);
    expect(g[1]).toBeCloseTo(1 - t1 * t1, 6);
    expect(() => loss.backward()).toThrow(/already used by an earlier backward\(\)/);
    loss.dispose();
    w.dispose();
    expect(sd.memory().tensors).toBe(0);
    expect(sd.memory().bytes).toBe(0);
  });

  it('a graph that is never backpropagated frees what it saved when its tensors go', async () => {
    await sd.init({ backend: 'wasm' });
    const w = sd.tensor([1, 2, 3]);
    w.requiresGrad = true;
    const before = sd.memory();
    for (let i = 0; i < 50; i++) sd.tidy(() => { w.exp().mul(w).softmax().sum(); });
    expect(sd.memory().tensors).toBe(before.tensors);
    expect(sd.memory().bytes).toBe(before.bytes);
    w.dispose();
  });

  it('retainGraph allows a second backward; noGrad records nothing', async () => {
    await sd.init({ backend: 'js' });
    const x = sd.tensor([2]);
    x.requiresGrad = true;
    const y = x.square();
    y.backward({ retainGraph: true });
    y.backward();
    expect(x.grad!.dataSync()[0]).toBe(8);
    const z = sd.noGrad(() => x.square());
    expect(z.requiresGrad).toBe(false);
    expect(() => z.backward()).toThrow(/does not require a gradient/);
    sd.dispose([x, y, z]);
    expect(sd.memory().tensors).toBe(0);
  });

  it('grad() refuses non-scalar outputs and non-functions clearly', async () => {
    await sd.init({ backend: 'js' });
    const x = sd.tensor([1, 2]);
    expect(() => sd.grad((a) => a.square())(x)).toThrow(/must return a single value/);
    expect(() => sd.grad(42 as any)).toThrow(/expects a function/);
    expect(() => x.square().backward()).toThrow(/does not require a gradient/);
    x.dispose();
  });
});
