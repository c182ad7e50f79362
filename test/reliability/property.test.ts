// Property tests (issue 8): ops on wasm against the js oracle over random shapes and values, and
// save → load round trips of random MLPs (bit-exact weights).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../../src/index.js';

const shape = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });
const vals = (n: number) => fc.array(fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Runs f on js and on wasm with the same data, and returns both outputs. */
async function both(f: () => sd.Tensor): Promise<[Float32Array, Float32Array]> {
  await sd.init({ backend: 'js' });
  const want = sd.tidy(() => f().dataSync());
  await sd.init({ backend: 'wasm' });
  const got = sd.tidy(() => f().dataSync());
  return [got, want];
}
function close(got: Float32Array, want: Float32Array, rel = 1e-4) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
    else expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(rel * (1 + Math.abs(want[i])));
  }
}

describe('ops on wasm match the js oracle', () => {
  afterAll(() => sd.shutdown());
  const runs = { numRuns: 60 };

  it('binary ops with broadcasting', async () => {
    const ops = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'equal'] as const;
    // b's shape: a's trailing axes with some set to 1 (broadcasts both ways when a's are 1 too).
    const arb = shape.chain((sa) =>
      fc.tuple(fc.constant(sa), fc.array(fc.boolean(), { minLength: sa.length, maxLength: sa.length }), fc.integer({ min: 0, max: sa.length - 1 }), fc.constantFrom(...ops))
        .chain(([sa, ones, drop, op]) => {
          const sb = sa.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
          return fc.tuple(fc.constant(sa), fc.constant(sb), vals(size(sa)), vals(size(sb)), fc.constant(op));
        }),
    );
    await fc.assert(fc.asyncProperty(arb, async ([sa, sb, va, vb, op]) => {
      const [got, want] = await both(() => (sd as any)[op](sd.tensor(va, sa), sd.tensor(vb.map((v) => (op === 'div' && Math.abs(v) < 0.1 ? 1 : v)), sb)));
      close(got, want);
    }), runs);
  });

  it('unary ops', async () => {
    const ops = ['relu', 'sigmoid', 'tanh', 'exp', 'abs', 'neg', 'square', 'softplus', 'gelu', 'sign'] as const;
    await fc.assert(fc.asyncProperty(shape.chain((s) => fc.tuple(fc.constant(s), vals(size(s)), fc.constantFrom(...ops))), async ([s, v, op]) => {
      const [got, want] = await both(() => (sd as any)[op](sd.tensor(v, s)));
      close(got, want);
    }), runs);
  });

  it('reductions over random axes', async () => {
    const ops = ['sum', 'mean', 'max', 'min', 'sumSquares', 'argmax', 'argmin'] as const;
    const arb = shape.chain((s) => fc.tuple(fc.constant(s), vals(size(s)), fc.integer({ min: -s.length, max: s.length - 1 }), fc.constantFrom(...ops), fc.boolean()));
    await fc.assert(fc.asyncProperty(arb, async ([s, v, axis, op, keep]) => {
      const [got, want] = await both(() => (sd as any)[op](sd.tensor(v, s), axis, keep));
      close(got, want);
    }), runs);
  });

  it('matmul in all four forms, and softmax / logSoftmax', async () => {
    const dim = fc.integer({ min: 1, max: 20 });
    const arb = fc.tuple(dim, dim, dim, fc.boolean(), fc.boolean()).chain(([m, k, n, ta, tb]) =>
      fc.tuple(fc.constant([m, k, n, ta, tb] as const), vals(m * k), vals(k * n)));
    await fc.assert(fc.asyncProperty(arb, async ([[m, k, n, ta, tb], va, vb]) => {
      const [got, want] = await both(() => sd.matmul(sd.tensor(va, ta ? [k, m] : [m, k]), sd.tensor(vb, tb ? [n, k] : [k, n]), { transposeA: ta, transposeB: tb }));
      close(got, want, 1e-4 * k);
      const [g2, w2] = await both(() => (m % 2 ? sd.softmax : sd.logSoftmax)(sd.tensor(va, [m, k])));
      close(g2, w2);
    }), runs);
  });
});

describe('save → load round trips of random MLPs', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
  });
  afterAll(() => sd.shutdown());
  it('weights and config survive bit for bit', () => {
    const acts = ['relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'leakyRelu', 'linear'] as const;
    const arb = fc.record({
      sizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 5 }),
      activation: fc.constantFrom(...acts),
      outputActivation: fc.constantFrom('linear', 'sigmoid', 'softmax', 'logSoftmax'),
      dropout: fc.constantFrom(0, 0.25),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    const base = sd.memory();
    fc.assert(fc.property(arb, (o) => {
      const m = sd.mlp(o.sizes, { activation: o.activation, outputActivation: o.outputActivation as any, dropout: o.dropout, seed: o.seed });
      const back = sd.loadBytes(sd.save(m));
      try {
        expect(back.config()).toEqual(m.config());
        const a = m.getWeights(), b = back.getWeights();
        expect(b.length).toBe(a.length);
        a.forEach((w, i) => expect(new Uint32Array(b[i].buffer)).toEqual(new Uint32Array(w.buffer)));
      } finally {
        m.dispose();
        back.dispose();
      }
    }), { numRuns: 80 });
    expect(sd.memory().tensors).toBe(base.tensors);
    expect(sd.memory().bytes).toBe(base.bytes);
  });
});
