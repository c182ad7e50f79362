// Fuzzing load(): random byte flips, truncations and extensions of a valid model file, and hostile
// JSON put anywhere in its header (the tensors' entries, the topology, the preprocessing). Every
// outcome must be a model that is exactly what the file says or an Error whose message starts with
// 'load: ', the backend must never be asked for more memory than the file could describe, and
// nothing may stay allocated. Timings are printed (medians), not asserted.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as sd from '../../src/index.js';
import { engine } from '../../src/core/engine.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

const CSV = 'num1,num2,color,label\n1,2,red,a\n3,4,green,b\n5,6,red,c\n7,8,green,a\n2,1,red,b\n4,3,green,c\n';

let good: Uint8Array;
let headerEnd: number;
const times = { refused: [] as number[], loaded: [] as number[] };
const outcomes = { refused: 0, loaded: 0 };

const median = (a: number[]) => (a.length ? a.slice().sort((x, y) => x - y)[a.length >> 1] : NaN);

/**
 * Loads `bytes` and checks the outcome. A model must hold exactly the weights the decoder reads from
 * the same bytes, all finite, and preprocessing that fits it; an error must be an Error naming load.
 */
function attempt(bytes: Uint8Array): void {
  const before = sd.memory();
  let asked = 0;
  const real = engine.newStorage.bind(engine);
  const spy = vi.spyOn(engine, 'newStorage').mockImplementation((n) => {
    asked += 4 * n;
    return real(n);
  });
  let outcome: unknown;
  const t0 = performance.now();
  try {
    outcome = sd.loadBytes(bytes);
  } catch (e) {
    outcome = e;
  } finally {
    spy.mockRestore();
  }
  const ms = performance.now() - t0;
  // Each weight takes at least one byte of the file (U8/I8/BOOL) and four as float32.
  expect(asked).toBeLessThanOrEqual(4 * bytes.length);
  if (!(outcome instanceof sd.Sequential)) {
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/^load: /);
    times.refused.push(ms);
    outcomes.refused++;
  } else {
    const m = outcome;
    try {
      const { tensors } = decodeSafetensors(bytes);
      const names = m.parameterNames();
      const weights = m.getWeights();
      expect(names.length).toBe(tensors.size);
      names.forEach((name, i) => {
        const t = tensors.get(name)!;
        expect(m.parameters()[i].shape).toEqual(t.shape);
        expect(new Uint32Array(weights[i].buffer)).toEqual(new Uint32Array(t.data.buffer));
        expect(weights[i].every(Number.isFinite)).toBe(true);
      });
      const { classes, columns, scaler, encoding } = m.preprocessing;
      if (classes) expect(classes.length).toBe(m.outputSize === 1 ? 2 : m.outputSize);
      if (columns) expect(columns.length).toBe(m.inputSize);
      if (scaler) expect((scaler as sd.Scaler).features).toBe(m.inputSize);
      if (encoding) expect((encoding as sd.CsvEncoding).columns.length).toBe(m.inputSize);
      const y = m.predict(new Float32Array(m.inputSize));
      expect(y.shape).toEqual([1, m.outputSize]);
      y.dispose();
    } finally {
      m.dispose();
    }
    times.loaded.push(ms);
    outcomes.loaded++;
  }
  const after = sd.memory();
  expect(after.tensors).toBe(before.tensors);
  expect(after.bytes).toBe(before.bytes);
}

/** The file's header as {tensors, topology, preprocessing, meta}, and back to bytes with the same data. */
function split(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const { __metadata__: meta, ...tensors } = h;
  const { topology, preprocessing, ...rest } = meta;
  return { n, doc: { tensors, topology: JSON.parse(topology), preprocessing: JSON.parse(preprocessing) } as Record<string, unknown>, rest };
}

function join(doc: Record<string, unknown>, rest: Record<string, string>, data: Uint8Array): Uint8Array {
  const header = { __metadata__: { ...rest, topology: JSON.stringify(doc.topology), preprocessing: JSON.stringify(doc.preprocessing) }, ...(doc.tensors as object) };
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** Every path to a value inside `x` (arrays: their first three items and the last). */
function paths(x: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length) out.push(prefix);
  if (Array.isArray(x)) {
    const idx = [...new Set([0, 1, 2, x.length - 1])].filter((i) => i >= 0 && i < x.length);
    for (const i of idx) paths(x[i], [...prefix, i], out);
  } else if (x && typeof x === 'object') {
    for (const k of Object.keys(x)) paths((x as Record<string, unknown>)[k], [...prefix, k], out);
  }
  return out;
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown, remove: boolean) {
  let o: any = root;
  for (const k of path.slice(0, -1)) o = o[k];
  const last = path[path.length - 1];
  if (remove) {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else o[last] = value;
}

describe('load() under random corruption and hostile metadata', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
    const ds = await sd.data.readCsv(CSV, { from: 'string', target: 'label' });
    const model = sd.mlp([ds.columns.length, 5, ds.classes!.length], { seed: 4 });
    model.preprocessing = { scaler: sd.data.standardize(ds.x), classes: ds.classes, columns: ds.columns, target: ds.target, task: ds.task, encoding: ds.encoding };
    good = sd.save(model);
    model.dispose();
    sd.dispose([ds.x, ds.y]);
    headerEnd = 8 + split(good).n;
  });
  afterAll(() => {
    console.log(
      `load fuzz: ${outcomes.loaded} loaded, ${outcomes.refused} refused; median ${median(times.loaded).toFixed(3)} ms to load, ` +
        `${median(times.refused).toFixed(3)} ms to refuse (max ${Math.max(...times.refused).toFixed(1)} ms), file ${good.length} bytes`,
    );
    sd.shutdown();
  });

  it('the unmodified file loads (the oracle agrees with itself)', () => {
    attempt(good);
    expect(outcomes.loaded).toBe(1);
  });

  it('byte flips anywhere (biased to the header), truncations and extensions', () => {
    const at = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: headerEnd - 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: good.length - 1 }) });
    const arb = fc.record({
      flips: fc.array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 0, maxLength: 4 }),
      cut: fc.option(fc.integer({ min: 0, max: good.length }), { freq: 4 }),
      extra: fc.option(fc.uint8Array({ minLength: 1, maxLength: 16 }), { freq: 6 }),
    });
    fc.assert(fc.property(arb, ({ flips, cut, extra }) => {
      let b = good.slice();
      for (const [i, v] of flips) b[i] = v;
      if (cut !== null) b = b.subarray(0, cut);
      if (extra !== null) {
        const longer = new Uint8Array(b.length + extra.length);
        longer.set(b);
        longer.set(extra, b.length);
        b = longer;
      }
      attempt(b);
    }), { numRuns: 400 });
  });

  it('hostile JSON in place of any value of the header, the topology or the preprocessing', () => {
    const { doc, rest, n } = split(good);
    const data = good.subarray(8 + n);
    const all = paths(doc);
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 53, 1e308, -1e308, 2 ** 20, '', 'no', 'NaN', null, true, [], {}, [2 ** 20, 2 ** 20], ['a'], { kind: 'standard' }),
    );
    // remove: one edit in five deletes the value instead (a missing field).
    const arb = fc.array(fc.record({ path: fc.constantFrom(...all), value: hostile, remove: fc.integer({ min: 0, max: 4 }).map((v) => v === 0) }), { minLength: 1, maxLength: 3 });
    fc.assert(fc.property(arb, (edits) => {
      const d = structuredClone(doc);
      for (const { path, value, remove } of edits) {
        try {
          setAt(d, path, value, remove);
        } catch {
          // an earlier edit removed or replaced this path's parent: skip
        }
      }
      attempt(join(d, rest, data));
    }), { numRuns: 400 });
  });

  it('whole metadata values replaced by random JSON or text', () => {
    const { doc, rest, n } = split(good);
    const data = good.subarray(8 + n);
    const arb = fc.record({
      key: fc.constantFrom('topology', 'preprocessing'),
      value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ maxLength: 40 })),
      raw: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ key, value, raw }) => {
      const d = structuredClone(doc);
      d[key] = value;
      const b = join(d, rest, data);
      if (raw && typeof value === 'string') {
        // the metadata string itself not JSON: rebuild with the raw text
        const s = split(b);
        const h = { __metadata__: { ...s.rest, topology: key === 'topology' ? value : JSON.stringify(d.topology), preprocessing: key === 'preprocessing' ? value : JSON.stringify(d.preprocessing) }, ...(d.tensors as object) };
        const text = new TextEncoder().encode(JSON.stringify(h));
        const out = new Uint8Array(8 + text.length + data.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
        out.set(text, 8);
        out.set(data, 8 + text.length);
        attempt(out);
      } else attempt(b);
    }), { numRuns: 200 });
  });

  it('the same model stored as F64 or BF16, in another tensor order, loads as what the decoder reads', () => {
    // Not hostile: other writers' choices. The oracle in attempt() compares with the decoder's values.
    const { tensors, metadata } = decodeSafetensors(good);
    for (const dtype of ['F64', 'BF16'] as const) {
      const size = dtype === 'F64' ? 8 : 2;
      const list = [...tensors].reverse();
      const header: Record<string, unknown> = { __metadata__: metadata };
      let offset = 0;
      for (const [name, t] of list) {
        header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size * t.data.length] };
        offset += size * t.data.length;
      }
      const text = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + text.length + offset);
      const dv = new DataView(out.buffer);
      dv.setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      let at = 8 + text.length;
      const f32 = new DataView(new ArrayBuffer(4));
      for (const [, t] of list) {
        for (const v of t.data) {
          if (dtype === 'F64') dv.setFloat64(at, v, true);
          else {
            f32.setFloat32(0, v);
            dv.setUint16(at, f32.getUint16(0), true); // the top half of the float32
          }
          at += size;
        }
      }
      const before = outcomes.loaded;
      attempt(out);
      expect(outcomes.loaded, dtype).toBe(before + 1);
    }
  });
});
