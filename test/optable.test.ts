// The op table (src/core/optable.ts) as the single source of the codes: the generated AssemblyScript codes
// are current, the kernels refuse what the table does not have, the optimizer kernels take the table's named
// `hyper` fields, and the TypeScript surface (functions, methods, layers, the CLI, autograd's saved tensors)
// follows the table. That every backend computes every op of the table is the conformance suite's job
// (test/conformance.test.ts).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOpTable, OUTPUT, renderAssemblyCodes, TABLE } from '../scripts/gen-optable.mjs';
import { detectFeatures } from '../src/backend/features.js';
import { WasmBackend } from '../src/backend/wasm/backend.js';
import { HIDDEN_ACTIVATIONS } from '../src/cli/defaults.js';
import { trainHelp } from '../src/cli/help.js';
import {
  ACTIVATIONS, BINARY, BINARY_NAMES, HYPER, LABEL_MODE, OPTIM, OPTIM_NAMES, PUBLIC_UNARY, REDUCE, UNARY, UNARY_NAMES,
  Unary, binaryApiName, checkCode, type UnaryDesc,
} from '../src/core/optable.js';
import * as sd from '../src/index.js';
import { Tensor } from '../src/core/tensor.js';

const root = new URL('../', import.meta.url);
const features = await detectFeatures([], true);

describe('the generated AssemblyScript codes', () => {
  it(`${OUTPUT} is what scripts/gen-optable.mjs makes of ${TABLE} (a stale copy fails: run npm run build)`, async () => {
    const want = renderAssemblyCodes(await loadOpTable());
    expect(readFileSync(new URL(OUTPUT, root), 'utf8')).toBe(want);
    expect(want.split('\n')[0]).toMatch(/^\/\/ GENERATED FILE — do not edit\. Written by scripts\/gen-optable\.mjs from src\/core\/optable\.ts/);
    for (const k of UNARY_NAMES) expect(want).toContain(` = ${Unary[k]};`);
  });

  it('is not kept in git (the build writes it)', () => {
    expect(readFileSync(new URL('.gitignore', root), 'utf8').split('\n')).toContain(OUTPUT);
  });

  it('the optimizer kernels take the named hyper fields of the table as their scalar arguments, in order', () => {
    const src = readFileSync(new URL('assembly/optim.ts', root), 'utf8');
    for (const kind of OPTIM_NAMES) {
      const m = new RegExp(`export function f32_${kind}_step\\(([^)]*)\\)`).exec(src);
      expect(m, `f32_${kind}_step`).not.toBe(null);
      // (n: i32, pointers: usize…, then the scalars: f64, and i32 for flags)
      const params = m![1].split(',').map((p) => p.split(':').map((t) => t.trim())).filter(([name]) => name);
      const scalars = params.filter(([name, type]) => name !== 'n' && type !== 'usize').map(([name]) => name);
      expect(scalars, kind).toEqual([...OPTIM[kind].hyper]);
    }
  });
});

describe('codes outside the table', () => {
  it('every family has dense codes from 0 (names by code match the table)', () => {
    for (const [names, table] of [[UNARY_NAMES, UNARY], [BINARY_NAMES, BINARY], [OPTIM_NAMES, OPTIM]] as const) {
      expect(names.length).toBe(Object.keys(table).length);
      names.forEach((k, i) => expect((table as any)[k].code).toBe(i));
    }
    expect(Object.values(REDUCE).map((d) => d.code).sort()).toEqual(Object.keys(REDUCE).map((_, i) => i));
    expect(Object.values(LABEL_MODE).map((d) => d.code).sort()).toEqual([0, 1]);
  });

  it('one check refuses them, naming the code and listing the table', () => {
    expect(() => checkCode('unary', UNARY_NAMES.length)).toThrow(new RegExp(`^simdnn internal error: unknown unary code ${UNARY_NAMES.length}; the op table \\(src/core/optable.ts\\) has 0 identity, 1 relu, `));
    expect(() => checkCode('activation', Unary.exp)).toThrow(/unknown activation code 7; .* has 0 identity, 1 relu, .*6 tanh/);
    expect(() => checkCode('optimizer', -1)).toThrow(/unknown optimizer code -1/);
    expect(() => checkCode('reduce', NaN)).toThrow(/unknown reduce code NaN/);
    for (const k of UNARY_NAMES) expect(() => checkCode('unary', Unary[k])).not.toThrow();
  });

  for (const binary of ['simd', ...(features.relaxedSimd ? ['relaxed' as const] : [])] as const)
    it(`trap in the wasm kernels of the '${binary}' build (unreachable), rather than writing nothing`, async () => {
      const b = await WasmBackend.create({ binary });
      const k = b.k as unknown as Record<string, (...a: number[]) => unknown>;
      const x = b.alloc(64), y = b.alloc(64), ws = b.alloc(1 << 14);
      b.write(x, new Float32Array(64).fill(1));
      const traps = (f: () => unknown) => expect(f).toThrow(/unreachable/);
      traps(() => k.f32_unary(UNARY_NAMES.length, 16, x as number, y as number, 0));
      traps(() => k.f32_unary_grad(99, 16, x as number, x as number, x as number, y as number, 0));
      traps(() => k.f32_binary(BINARY_NAMES.length, 1, 1, 16, x as number, 0, 0, 1, x as number, 0, 0, 1, y as number));
      traps(() => k.f32_reduce(Object.keys(REDUCE).length, 1, 16, 1, x as number, y as number));
      traps(() => k.f32_softmax_xent(2, 4, x as number, x as number, 2, y as number, y as number));
      traps(() => k.f32_softmax_xent_grad(2, 4, x as number, x as number, 2, x as number, y as number));
      // The gemm epilogue runs the unary kernel on its result (in the relaxed build, through the core's export).
      traps(() => k.f32_gemm_nn(4, 4, 4, x as number, 4, x as number, 4, y as number, 4, 0, UNARY_NAMES.length, 0, 0, ws as number));
      // The backend is still usable.
      b.unary(Unary.neg, 4, x, y, 0);
      expect(Array.from(b.readSync(y, 4))).toEqual([-1, -1, -1, -1]);
      b.dispose();
    });
});

describe('the TypeScript surface follows the table', () => {
  afterAll(() => sd.shutdown());

  it('one public function and one Tensor method per public unary op, none for identity', async () => {
    await sd.init({ backend: 'js' });
    expect(PUBLIC_UNARY).toEqual(UNARY_NAMES.filter((k) => k !== 'identity'));
    const x = sd.tensor([0.5, 2, 3]);
    for (const name of PUBLIC_UNARY) {
      expect(typeof (sd as any)[name], name).toBe('function');
      const viaFn = (sd as any)[name](x) as Tensor, viaMethod = (x as any)[name]() as Tensor;
      expect(Array.from(viaMethod.dataSync()), name).toEqual(Array.from(viaFn.dataSync()));
      sd.dispose([viaFn, viaMethod]);
    }
    expect('identity' in sd).toBe(false);
    // A parameter passes through the method: leakyRelu's slope, elu's alpha.
    const n = sd.tensor([-1]);
    for (const name of PUBLIC_UNARY.filter((k) => (UNARY[k] as UnaryDesc).param)) {
      const a = (n as any)[name](0.5) as Tensor, d = (n as any)[name]() as Tensor;
      expect(a.dataSync()[0], name).not.toBe(d.dataSync()[0]);
      sd.dispose([a, d]);
    }
    sd.dispose([x, n]);
  });

  it('one Tensor method per binary op, under its public name', async () => {
    await sd.init({ backend: 'js' });
    const a = sd.tensor([1, 5]), b = sd.tensor([3, 2]);
    for (const k of BINARY_NAMES) {
      const name = binaryApiName(k);
      expect(typeof (sd as any)[name], name).toBe('function');
      const m = (a as any)[name](b) as Tensor, f = (sd as any)[name](a, b) as Tensor;
      expect(Array.from(m.dataSync()), name).toEqual(Array.from(f.dataSync()));
      sd.dispose([m, f]);
    }
    sd.dispose([a, b]);
  });

  it('the activations of dense, layers and the CLI are the fusable ops of the table', async () => {
    await sd.init({ backend: 'js' });
    expect(ACTIVATIONS).toEqual(['linear', ...UNARY_NAMES.filter((k) => UNARY[k].activation && k !== 'identity')]);
    expect(HIDDEN_ACTIVATIONS).toEqual(ACTIVATIONS.filter((a) => a !== 'linear'));
    expect(trainHelp()).toContain(HIDDEN_ACTIVATIONS.join(' | '));
    const x = sd.tensor([[-1, 0.5]]), w = sd.tensor([[1], [2]]);
    for (const act of ACTIVATIONS) {
      const op = act === 'linear' ? 'identity' : act;
      const layer = act === 'linear' ? null : (sd.layers as any)[act]();
      expect(layer === null || layer.activation === act, act).toBe(true);
      const y = sd.dense(x, w, null, act);
      const want = sd.tidy(() => (op === 'identity' ? sd.matmul(x, w) : (sd as any)[op](sd.matmul(x, w))));
      expect(Array.from(y.dataSync()), act).toEqual(Array.from(want.dataSync()));
      sd.dispose([y, want]);
      layer?.dispose();
    }
    expect(() => sd.dense(x, w, null, 'exp' as any)).toThrow(`dense: unknown activation 'exp'; use one of ${ACTIVATIONS.join(', ')}.`);
    sd.dispose([x, w]);
  });

  it("autograd keeps only what a unary op's derivative reads (the table's grad): x, y, or nothing", async () => {
    await sd.init({ backend: 'js' });
    const x = sd.tensor([0.5, 1.5]);
    x.requiresGrad = true;
    for (const name of PUBLIC_UNARY) {
      const y = (sd as any)[name](x) as Tensor;
      const saved = (y as any).node.savedTensors() as Tensor[];
      const reads = (UNARY[name] as UnaryDesc).grad;
      const want = reads === 'x' ? [x] : reads === 'y' ? [y] : reads === 'xy' ? [x, y] : [];
      expect(saved.map((t) => t.storage), name).toEqual(want.map((t) => t.storage));
      y.dispose();
    }
    x.dispose();
    expect(sd.memory().tensors).toBe(0);
  });

  it('optimizers write hyper by name: each kind fills exactly its fields', () => {
    for (const kind of OPTIM_NAMES) expect(Object.keys(HYPER[kind])).toEqual([...OPTIM[kind].hyper]);
  });
});
