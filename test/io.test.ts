// Model files: the safetensors writer and reader (exact layout, round trips, hostile input) and the
// storage helpers that run in Node (atomic file writes, reads, fetch).
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from '../src/io/safetensors.js';
import { downloadBytes } from '../src/io/storage.js';
import { fetchBytes, idbDelete, idbList, idbLoad, idbSave, readFileBytes, writeFileAtomic } from '../src/runtime/files.js';
import * as sd from '../src/index.js';
import { engine } from '../src/core/engine.js';
import { rng } from './helpers.js';

const enc = new TextEncoder();
const f32 = (...v: number[]) => Float32Array.from(v);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Builds a file by hand: 8-byte length, header text padded with spaces to `pad`, then `data`. */
function file(header: unknown, data: Uint8Array | number[] = [], { pad = 8, raw = false } = {}): Uint8Array {
  const text = enc.encode(raw ? (header as string) : JSON.stringify(header));
  const n = Math.ceil(text.length / pad) * pad;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}

/** Little-endian bytes of values written with a DataView setter. */
function le(size: number, set: (dv: DataView, at: number, v: number) => void, values: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((v, i) => set(dv, i * size, v));
  return Array.from(new Uint8Array(dv.buffer));
}
const f32le = (v: number[]) => le(4, (dv, at, x) => dv.setFloat32(at, x, true), v);

/**
 * A reader written from the format's description alone, sharing no code with src/io: what any
 * other safetensors reader would see in our files.
 */
function independentRead(bytes: Uint8Array) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const out: Record<string, { shape: number[]; values: number[] }> = {};
  for (const [name, info] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    expect(info.dtype).toBe('F32');
    const [b, e] = info.data_offsets;
    const values: number[] = [];
    for (let at = 8 + n + b; at < 8 + n + e; at += 4) values.push(dv.getFloat32(at, true));
    out[name] = { shape: info.shape, values };
  }
  return { n, header, out, metadata: header.__metadata__ };
}

function roundTrip(entries: SafetensorsEntry[], metadata: Record<string, string> = {}) {
  const bytes = encodeSafetensors(entries, metadata);
  const back = decodeSafetensors(bytes);
  expect([...back.tensors.keys()]).toEqual(entries.map((e) => e.name));
  for (const e of entries) {
    const t = back.tensors.get(e.name)!;
    expect(t.dtype).toBe('F32');
    expect(t.shape).toEqual(e.shape);
    expect(bits(t.data)).toEqual(bits(e.data));
  }
  expect(back.metadata).toEqual(metadata);
  return bytes;
}

describe('encodeSafetensors', () => {
  it('writes the exact bytes of a tiny known file', () => {
    const bytes = encodeSafetensors([{ name: 'w', shape: [2], data: f32(1, -2) }], { a: 'b' });
    const json = '{"__metadata__":{"a":"b"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 79 bytes
    const expected = [
      0x50, 0, 0, 0, 0, 0, 0, 0, // header length 80, u64 little-endian
      ...Array.from(json, (c) => c.charCodeAt(0)),
      0x20, // one space pads 79 to 80, a multiple of 8
      0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
      0x00, 0x00, 0x00, 0xc0, // -2.0f
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('writes an empty model as a header with empty metadata', () => {
    const bytes = encodeSafetensors([], {});
    expect(new TextDecoder().decode(bytes.subarray(8))).toBe('{"__metadata__":{}}     ');
    expect(Array.from(bytes.subarray(0, 8))).toEqual([24, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('pads the header to a multiple of 8 so that data starts 8-aligned, for every header length', () => {
    for (let len = 1; len <= 16; len++) {
      const bytes = encodeSafetensors([{ name: 'x'.repeat(len), shape: [1], data: f32(len) }], {});
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(n % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 4);
      expect(new DataView(bytes.buffer).getFloat32(8 + n, true)).toBe(len);
    }
  });

  it('is deterministic: equal inputs give equal bytes, whatever the metadata key order', () => {
    const r = rng(1);
    const entries = [{ name: 'a', shape: [3, 2], data: r.array(6) }, { name: 'b', shape: [2], data: r.array(2) }];
    const one = encodeSafetensors(entries, { x: '1', y: '2', '10': 'z' });
    const two = encodeSafetensors(entries.map((e) => ({ ...e, data: e.data.slice() })), { y: '2', '10': 'z', x: '1' });
    expect(Array.from(two)).toEqual(Array.from(one));
  });

  it('keeps the entry order in the header, even for integer-like names', () => {
    const names = ['b', '10', 'a', '2', '__proto__', 'layers.0.weight'];
    const bytes = encodeSafetensors(names.map((name, i) => ({ name, shape: [1], data: f32(i) })), {});
    const { header } = independentRead(bytes);
    const text = new TextDecoder().decode(bytes.subarray(8));
    const positions = names.map((n) => text.indexOf(`${JSON.stringify(n)}:{`));
    expect(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1]))).toBe(true);
    // offsets contiguous in entry order
    names.forEach((n, i) => {
      const info = Object.getOwnPropertyDescriptor(header, n)!.value;
      expect(info.data_offsets).toEqual([4 * i, 4 * i + 4]);
    });
  });

  it('is read by an independent reader exactly as written', () => {
    const r = rng(7);
    const entries = [
      { name: 'layers.0.weight', shape: [5, 3], data: r.array(15, -3, 3) },
      { name: 'layers.0.bias', shape: [3], data: r.array(3) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
      { name: 'scalar', shape: [], data: f32(Math.PI) },
    ];
    const meta = { format: 'simdnn', topology: JSON.stringify({ layers: [5, 3] }), 'ünïcødé ✓': 'ok "quoted"\n' };
    const bytes = encodeSafetensors(entries, meta);
    const { n, out, metadata } = independentRead(bytes);
    expect(n % 8).toBe(0);
    expect(metadata).toEqual(meta);
    for (const e of entries) {
      expect(out[e.name].shape).toEqual(e.shape);
      expect(out[e.name].values).toEqual(Array.from(e.data));
    }
  });

  it('refuses bad entries with messages that name them', () => {
    const ok = { name: 'w', shape: [2], data: f32(1, 2) };
    const cases: [unknown, unknown, RegExp][] = [
      [[ok, { ...ok }], {}, /two tensors are named 'w'/],
      [[{ ...ok, name: '' }], {}, /non-empty string name/],
      [[{ ...ok, name: '__metadata__' }], {}, /reserves it/],
      [[{ ...ok, shape: [3] }], {}, /shape \[3\] \(3 elements\) but 2 values/],
      [[{ ...ok, shape: [-2] }], {}, /non-negative integers/],
      [[{ ...ok, shape: [2.5] }], {}, /non-negative integers/],
      [[{ ...ok, shape: '2' }], {}, /needs a shape array/],
      [[{ ...ok, data: [1, 2] }], {}, /Float32Array/],
      [[{ ...ok, data: new Float64Array(2) }], {}, /Float32Array/],
      [[null], {}, /entry 0 must be/],
      ['w', {}, /array of/],
      [[ok], { n: 3 }, /metadata 'n' must be a string/],
      [[ok], null, /metadata must be an object/],
    ];
    for (const [entries, meta, msg] of cases) {
      expect(() => encodeSafetensors(entries as SafetensorsEntry[], meta as Record<string, string>)).toThrow(msg);
    }
  });

  it('writes views into a larger buffer with only their own values', () => {
    const big = f32(9, 1, 2, 3, 9);
    roundTrip([{ name: 'v', shape: [3], data: big.subarray(1, 4) }]);
  });
});

describe('round trips', () => {
  it('empty metadata, zero-size tensors, scalars', () => {
    roundTrip([]);
    roundTrip([{ name: 'z', shape: [0], data: new Float32Array(0) }]);
    roundTrip([
      { name: 'a', shape: [2, 0, 3], data: new Float32Array(0) },
      { name: 's', shape: [], data: f32(-7.25) },
      { name: 'z', shape: [0], data: new Float32Array(0) },
      { name: 'b', shape: [1, 1, 1], data: f32(3) },
    ]);
  });

  it('NaN (with payloads), ±Infinity, -0, subnormals and extremes bit-exactly', () => {
    const special = new Float32Array(12);
    const u = new Uint32Array(special.buffer);
    u.set([0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7f800000, 0xff800000, 0x80000000, 0x00000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff]);
    roundTrip([{ name: 'special', shape: [3, 4], data: special }]);
  });

  it('many tensors and metadata', () => {
    const r = rng(3);
    const entries: SafetensorsEntry[] = [];
    for (let i = 0; i < 300; i++) {
      const shape = Array.from({ length: r.int(4) }, () => r.int(5));
      const n = shape.reduce((a, b) => a * b, 1);
      entries.push({ name: `t${i}.${'x'.repeat(r.int(5))}`, shape, data: r.array(n, -1e6, 1e6) });
    }
    const meta: Record<string, string> = { __proto__x: 'a', '': 'empty key', 'json': '{"a":[1,2]}' };
    Object.defineProperty(meta, '__proto__', { value: 'not a prototype', enumerable: true });
    const back = decodeSafetensors(roundTrip(entries, meta));
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.metadata, '__proto__')?.value).toBe('not a prototype');
  });

  it('property: any names, shapes, values and metadata survive exactly', () => {
    const entry = fc.record({
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
      seed: fc.integer(),
    });
    fc.assert(fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), entry), { selector: ([n]) => n, maxLength: 8 }),
      // (fc.dictionary is slow with such keys; Object.fromEntries keeps '__proto__' a plain key)
      fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { selector: ([k]) => k, maxLength: 5 }),
      (list, metaPairs) => {
        const meta = Object.fromEntries(metaPairs);
        const entries = list.filter(([name]) => name !== '__metadata__').map(([name, { shape, seed }]) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = new Float32Array(n);
          const u = new Uint32Array(data.buffer);
          let s = seed >>> 0;
          for (let i = 0; i < n; i++) u[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // any bits, NaNs included
          return { name, shape, data };
        });
        roundTrip(entries, meta);
      },
    ), { numRuns: 200 });
  });
});

describe('decodeSafetensors: other dtypes and layouts', () => {
  it('reads F16 exactly: normals, subnormals, ±0, ±Infinity, NaN, the extremes', () => {
    const halves = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0400, 0x8000, 0x0000, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00];
    const want = [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, -0, 0, 65504, -65504, Infinity, -Infinity, NaN];
    const data = le(2, (dv, at, v) => dv.setUint16(at, v, true), halves);
    const t = decodeSafetensors(file({ h: { dtype: 'F16', shape: [halves.length], data_offsets: [0, data.length] } }, data)).tensors.get('h')!;
    expect(t.dtype).toBe('F16');
    expect(Array.from(t.data)).toEqual(want);
    expect(Object.is(t.data[6], -0)).toBe(true);
  });

  it('reads BF16 as the top half of a float32', () => {
    const values = [1, -2.5, 3.140625, -0, Infinity, 1e38];
    const halves = values.map((v) => { const dv = new DataView(new ArrayBuffer(4)); dv.setFloat32(0, v); return dv.getUint16(0); });
    const data = le(2, (dv, at, v) => dv.setUint16(at, v, true), halves);
    const t = decodeSafetensors(file({ b: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 12] } }, data)).tensors.get('b')!;
    const expected = halves.map((h) => { const dv = new DataView(new ArrayBuffer(4)); dv.setUint16(0, h); return dv.getFloat32(0); });
    expect(Array.from(t.data)).toEqual(expected);
    expect(t.data[0]).toBe(1);
    expect(t.data[1]).toBe(-2.5);
    expect(Object.is(t.data[3], -0)).toBe(true);
    expect(t.shape).toEqual([2, 3]);
  });

  it('reads F64 rounded to float32, and integer dtypes as numbers', () => {
    const f64 = le(8, (dv, at, v) => dv.setFloat64(at, v, true), [0.1, -1e300, 5]);
    const i32 = le(4, (dv, at, v) => dv.setInt32(at, v, true), [-7, 2 ** 31 - 1]);
    const i64 = le(8, (dv, at, v) => dv.setBigInt64(at, BigInt(v), true), [-3, 2 ** 40]);
    const u8 = [0, 255];
    const bool = [0, 2];
    const data = [...f64, ...i32, ...i64, ...u8, ...bool];
    let at = 0;
    const span = (n: number) => [at, (at += n)];
    const header = {
      d: { dtype: 'F64', shape: [3], data_offsets: span(24) },
      i: { dtype: 'I32', shape: [2], data_offsets: span(8) },
      l: { dtype: 'I64', shape: [2], data_offsets: span(16) },
      u: { dtype: 'U8', shape: [2], data_offsets: span(2) },
      k: { dtype: 'BOOL', shape: [2], data_offsets: span(2) },
    };
    const { tensors } = decodeSafetensors(file(header, data));
    expect(Array.from(tensors.get('d')!.data)).toEqual([Math.fround(0.1), -Infinity, 5]);
    expect(Array.from(tensors.get('i')!.data)).toEqual([-7, Math.fround(2 ** 31 - 1)]);
    expect(Array.from(tensors.get('l')!.data)).toEqual([-3, 2 ** 40]);
    expect(Array.from(tensors.get('u')!.data)).toEqual([0, 255]);
    expect(Array.from(tensors.get('k')!.data)).toEqual([0, 1]);
    expect(tensors.get('d')!.dtype).toBe('F64');
  });

  it('reads F32 at unaligned offsets, from an unaligned view, and from an ArrayBuffer', () => {
    // An odd-length F16 tensor first leaves the F32 one 2 bytes past a 4-byte boundary.
    const data = [...le(2, (dv, at, v) => dv.setUint16(at, v, true), [0x3c00]), ...f32le([1.5, -0.25, 1e-40])];
    const bytes = file({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, x: { dtype: 'F32', shape: [3], data_offsets: [2, 14] } }, data, { pad: 1 });
    const check = (input: Uint8Array | ArrayBuffer) => {
      const { tensors } = decodeSafetensors(input);
      expect(Array.from(tensors.get('x')!.data)).toEqual([1.5, -0.25, Math.fround(1e-40)]);
      expect(Array.from(tensors.get('h')!.data)).toEqual([1]);
    };
    check(bytes);
    check(bytes.slice().buffer);
    for (let shift = 1; shift < 8; shift++) {
      const host = new Uint8Array(bytes.length + 16);
      host.set(bytes, shift);
      check(host.subarray(shift, shift + bytes.length));
    }
  });

  it("reads Node Buffers (from the shared pool, at any offset), DataViews, and files read with fs", async () => {
    const r = rng(11);
    const entries = [
      { name: 'layers.0.weight', shape: [5, 7], data: r.array(35) },
      { name: 'layers.0.bias', shape: [7], data: r.array(7) },
    ];
    const bytes = encodeSafetensors(entries, { k: 'v' });
    const check = (what: string, input: Uint8Array | ArrayBuffer | DataView) => {
      const { tensors, metadata } = decodeSafetensors(input);
      expect(metadata, what).toEqual({ k: 'v' });
      for (const e of entries) expect(bits(tensors.get(e.name)!.data), `${what}: ${e.name}`).toEqual(bits(e.data));
    };
    // A small Buffer is a window into Node's 8 KiB pool: its ArrayBuffer is larger than the file.
    const pooled = Buffer.from(bytes);
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    check('Buffer.from', pooled);
    for (let shift = 1; shift < 8; shift++) {
      const host = Buffer.alloc(bytes.length + 16, 0xee);
      host.set(bytes, shift);
      check(`Buffer subarray at ${shift}`, host.subarray(shift, shift + bytes.length));
      check(`DataView at ${shift}`, new DataView(host.buffer, host.byteOffset + shift, bytes.length));
    }
    const dir = await mkdtemp(join(tmpdir(), 'simdnn-decode-'));
    try {
      const path = join(dir, 'm.safetensors');
      writeFileSync(path, bytes);
      check('readFileSync', readFileSync(path));
      check('fs.promises.readFile', await readFile(path));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('returns copies: the result does not alias the input', () => {
    const bytes = encodeSafetensors([{ name: 'w', shape: [2], data: f32(1, 2) }], {});
    const { tensors } = decodeSafetensors(bytes);
    bytes.fill(0);
    expect(Array.from(tensors.get('w')!.data)).toEqual([1, 2]);
  });

  it('accepts a file without __metadata__, with whitespace in the header, in any tensor order', () => {
    const data = f32le([1, 2, 3]);
    const text = ' { "b" : {"dtype":"F32","shape":[1],"data_offsets":[8,12]},\n "a": {"shape":[2],"data_offsets":[0,8],"dtype":"F32","extra":1} }';
    const { tensors, metadata } = decodeSafetensors(file(text.trimStart(), data, { raw: true }));
    expect(metadata).toEqual({});
    expect([...tensors.keys()]).toEqual(['b', 'a']);
    expect(Array.from(tensors.get('a')!.data)).toEqual([1, 2]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([3]);
    expect(decodeSafetensors(file({ __metadata__: null })).metadata).toEqual({});
  });
});

describe('decodeSafetensors: corrupt and hostile files', () => {
  const good = encodeSafetensors([
    { name: 'layers.0.weight', shape: [2, 3], data: f32(1, 2, 3, 4, 5, 6) },
    { name: 'layers.0.bias', shape: [3], data: f32(-1, 0, 1) },
  ], { format: 'simdnn' });

  it('refuses the file truncated at every length, and with bytes appended', () => {
    for (let len = 0; len < good.length; len++) {
      expect(() => decodeSafetensors(good.subarray(0, len)), `length ${len}`).toThrow(/^load: corrupt model file: /);
    }
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1))).toThrow(
      "tensor 'layers.0.bias' claims bytes 24..36 but the file's data section has 35 bytes (truncated download?)",
    );
    expect(() => decodeSafetensors(good.subarray(0, 20))).toThrow(/header claims 176 bytes but only 12 follow/);
    expect(() => decodeSafetensors(new Uint8Array(0))).toThrow(/has 0 bytes/);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expect(() => decodeSafetensors(longer)).toThrow(/3 trailing bytes/);
    expect(decodeSafetensors(good).tensors.size).toBe(2);
  });

  it('property: any single corrupted byte gives an Error or a self-consistent result, never garbage', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
      const bytes = good.slice();
      bytes[at] = v;
      let result;
      try {
        result = decodeSafetensors(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^load: (corrupt|unsupported) model file: /);
        return;
      }
      for (const t of result.tensors.values()) {
        expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      }
    }), { numRuns: 2000 });
  });

  // [what, file bytes, message]
  const T = (shape: unknown, offsets: unknown, dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });
  const d8 = f32le([1, 2]);
  const headerLen = (n: bigint, total = 64) => {
    const b = new Uint8Array(total);
    new DataView(b.buffer).setBigUint64(0, n, true);
    b[8] = 0x7b;
    return b;
  };
  const hostile: [string, Uint8Array, RegExp][] = [
    ['header length 2^60', headerLen(2n ** 60n), /header claims 1152921504606846976 bytes but only 56 follow/],
    ['header length 2^64 - 1', headerLen(2n ** 64n - 1n), /header claims 18446744073709551615 bytes but only 56 follow/],
    ['header length 2^32', headerLen(2n ** 32n), /header claims 4294967296 bytes/],
    ['header length 0', headerLen(0n), /must hold at least '\{\}'/],
    ['header length 1', headerLen(1n), /must hold at least '\{\}'/],
    ['not starting with {', file('[1]', [], { raw: true }), /must begin with '\{'/],
    ['not JSON', file('{"a": nope}', [], { raw: true }), /not valid JSON/],
    ['JSON cut short', file('{"a": {"dtype":', [], { raw: true }), /not valid JSON/],
    ['invalid UTF-8', (() => { const b = file('{"\u00e9":1}', [], { raw: true }); b[10] = 0xff; return b; })(), /not valid UTF-8/],
    ['a JSON array (begins with { check passes on a nested array)', file('{}  ]', [], { raw: true }), /not valid JSON/],
    ['a tensor that is a number', file({ w: 3 }), /tensor 'w' must be \{dtype, shape, data_offsets\}, got number 3/],
    ['a tensor that is an array', file({ w: [1] }), /tensor 'w' must be .* got an array/],
    ['unknown dtype', file({ w: T([2], [0, 8], 'F8_E4M3') }, d8), /unsupported model file: tensor 'w' has dtype 'F8_E4M3'; simdnn reads F64, F32/],
    ['dtype that is not a string', file({ w: T([2], [0, 8], 4) }, d8), /no dtype string/],
    ['dtype missing', file({ w: { shape: [2], data_offsets: [0, 8] } }, d8), /no dtype string/],
    ['dtype named like an Object property', file({ w: T([2], [0, 8], 'constructor') }, d8), /has dtype 'constructor'/],
    ['negative dimension', file({ w: T([-2], [0, 8]) }, d8), /shape \[-2\]; dimensions must be non-negative integers/],
    ['fractional dimension', file({ w: T([0.5, 4], [0, 8]) }, d8), /non-negative integers/],
    ['dimension 1e300', file({ w: T([1e300], [0, 8]) }, d8), /non-negative integers/],
    ['dimension as a string', file({ w: T(['2'], [0, 8]) }, d8), /non-negative integers/],
    ['nested shape', file({ w: T([[2]], [0, 8]) }, d8), /non-negative integers/],
    ['shape not an array', file({ w: T(2, [0, 8]) }, d8), /no shape array/],
    ['huge shape', file({ w: T([2 ** 52, 2 ** 52], [0, 8]) }, d8), /more than the 1073741824 elements allowed/],
    ['huge shape that fits 2^53', file({ w: T([2 ** 40], [0, 8]) }, d8), /more than the 1073741824 elements allowed/],
    ['shape claiming more bytes than the offsets', file({ w: T([3], [0, 8]) }, d8), /tensor 'w' of shape \[3\] and dtype F32 needs 12 bytes but claims 8/],
    ['shape claiming fewer bytes than the offsets', file({ w: T([1], [0, 8]) }, d8), /needs 4 bytes but claims 8/],
    ['offsets past the end', file({ w: T([4], [0, 16]) }, d8), /claims bytes 0..16 but the file's data section has 8 bytes/],
    ['offsets far past the end', file({ w: T([2], [2 ** 53 - 9, 2 ** 53 - 1]) }, d8), /claims bytes 9007199254740983..9007199254740991/],
    ['offsets beyond 2^53', file({ w: T([2], [2 ** 60, 2 ** 60 + 8]) }, d8), /must be integers with 0 ≤ begin ≤ end/],
    ['negative offset', file({ w: T([2], [-8, 0]) }, d8), /must be integers/],
    ['end before begin', file({ w: T([0], [8, 0]) }, d8), /must be integers with 0 ≤ begin ≤ end/],
    ['fractional offset', file({ w: T([2], [0.5, 8.5]) }, d8), /must be integers/],
    ['offsets as strings', file({ w: T([2], ['0', '8']) }, d8), /must be integers/],
    ['three offsets', file({ w: T([2], [0, 8, 8]) }, d8), /needs data_offsets \[begin, end\], got \[0, 8, 8\]/],
    ['offsets missing', file({ w: { dtype: 'F32', shape: [2] } }, d8), /needs data_offsets/],
    ['overlapping entries', file({ a: T([2], [0, 8]), b: T([1], [4, 8]) }, d8), /tensor 'b' \(bytes 4..8\) overlaps tensor 'a' \(bytes 0..8\)/],
    ['the same bytes twice', file({ a: T([2], [0, 8]), b: T([2], [0, 8]) }, d8), /overlaps/],
    ['a zero-size tensor inside another', file({ a: T([2], [0, 8]), z: T([0], [4, 4]) }, d8), /overlaps/],
    ['a hole between entries', file({ a: T([1], [0, 4]), b: T([1], [8, 12]) }, f32le([1, 2, 3])), /bytes 4..8 of the data section belong to no tensor \(a hole before tensor 'b'\)/],
    ['a hole at the start', file({ b: T([1], [4, 8]) }, d8), /bytes 0..4 .* belong to no tensor/],
    ['bytes after the last tensor', file({ a: T([1], [0, 4]) }, d8), /the tensors end at byte 4 of the data section but it has 8 bytes \(4 trailing bytes\)/],
    ['duplicate tensor names', file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', d8, { raw: true }), /names 'w' twice/],
    ['duplicate names written differently', file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\\u0077" :{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}', d8, { raw: true }), /names 'w' twice/],
    ['duplicate metadata keys', file('{"__metadata__":{"a":"1","a":"2"}}', [], { raw: true }), /names 'a' twice/],
    ['duplicate fields in an entry', file('{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', d8, { raw: true }), /names 'dtype' twice/],
    ['metadata value a number', file({ __metadata__: { epochs: 3 } }), /metadata 'epochs' must be a string, got number 3/],
    ['metadata value an object', file({ __metadata__: { topology: { layers: [1] } } }), /metadata 'topology' must be a string, got an object/],
    ['metadata value null', file({ __metadata__: { a: null } }), /metadata 'a' must be a string, got null/],
    ['metadata an array', file({ __metadata__: ['a'] }), /'__metadata__' must be an object of strings, got an array/],
    ['metadata a string', file({ __metadata__: 'a' }), /'__metadata__' must be an object of strings/],
    ['deeply nested shape', file(`{"w":{"dtype":"F32","shape":${'['.repeat(100000)}${']'.repeat(100000)},"data_offsets":[0,8]}}`, d8, { raw: true }), /shape \[\[\[…\]\]\]; dimensions must be/],
  ];

  it.each(hostile)('refuses %s', (_what, bytes, msg) => {
    let thrown: unknown;
    try {
      decodeSafetensors(bytes);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(/^load: (corrupt|unsupported) model file: /);
    expect((thrown as Error).message).toMatch(msg);
  });

  it('refuses headers and element counts over the caps it is given', () => {
    expect(() => decodeSafetensors(good, { maxHeaderBytes: 64 })).toThrow(/header claims 176 bytes, more than the 64 allowed \(maxHeaderBytes\)/);
    expect(() => decodeSafetensors(good, { maxElements: 8 })).toThrow(/more than the 8 elements allowed in all/);
    expect(() => decodeSafetensors(good, { maxElements: 5 })).toThrow(/tensor 'layers.0.weight' has shape \[2, 3\], more than the 5 elements allowed/);
    expect(decodeSafetensors(good, { maxElements: 9, maxHeaderBytes: 176 }).tensors.size).toBe(2);
  });

  it('labels its errors with the caller', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), { label: 'loadModel' })).toThrow(/^loadModel: corrupt model file: /);
  });

  it('refuses inputs that are not bytes', () => {
    for (const x of [null, undefined, 'abc', [1, 2], new Float32Array(4), {}]) {
      expect(() => decodeSafetensors(x as Uint8Array)).toThrow(/^load: expected the file's bytes as a Uint8Array, DataView or ArrayBuffer/);
    }
    expect(() => decodeSafetensors(new Float32Array(4) as any)).toThrow(/got a Float32Array; .*new Uint8Array\(a\.buffer, a\.byteOffset, a\.byteLength\)/);
  });

  it('allocates nothing from a hostile shape: a claim of 2^30 elements in a tiny file fails fast', () => {
    const t0 = performance.now();
    const bytes = file({ w: T([2 ** 15, 2 ** 15], [0, 2 ** 32]) }, d8);
    expect(() => decodeSafetensors(bytes)).toThrow(/claims bytes 0..4294967296 but the file's data section has 8 bytes/);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe('writeFileAtomic and readFileBytes (Node)', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'simdnn-io-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });
  afterEach(() => { vi.restoreAllMocks(); });

  const listing = async (d = dir) => (await readdir(d)).sort();

  it('writes a new file, replaces it, and leaves no temporary file behind', async () => {
    const sub = await mkdtemp(join(dir, 'w-'));
    const path = join(sub, 'model.safetensors');
    await writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = i * 7;
    await writeFileAtomic(path, big);
    expect(Buffer.compare(await readFile(path), big)).toBe(0);
    await writeFileAtomic(path, new Uint8Array(0));
    expect((await readFile(path)).length).toBe(0);
    expect(await listing(sub)).toEqual(['model.safetensors']);
  });

  it('writes only the bytes of a view', async () => {
    const path = join(dir, 'view.bin');
    await writeFileAtomic(path, Uint8Array.of(9, 1, 2, 9).subarray(1, 3));
    expect(Array.from(await readFile(path))).toEqual([1, 2]);
  });

  it('round-trips a model through a file', async () => {
    const path = join(dir, 'rt.safetensors');
    const entries = [{ name: 'w', shape: [2, 2], data: f32(1, 2, 3, 4) }];
    await writeFileAtomic(path, encodeSafetensors(entries, { k: 'v' }));
    const bytes = await readFileBytes(path);
    expect(Object.prototype.toString.call(bytes)).toBe('[object Uint8Array]');
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get('w')!.data)).toEqual([1, 2, 3, 4]);
    expect(metadata).toEqual({ k: 'v' });
  });

  it('fails cleanly when the directory does not exist', async () => {
    const path = join(dir, 'no-such-dir', 'model.safetensors');
    await expect(writeFileAtomic(path, Uint8Array.of(1))).rejects.toThrow(/^writeFileAtomic: could not write '.*no-such-dir.*model.safetensors': .*ENOENT/);
  });

  it('a failed rename leaves what was there intact and no temporary file', async () => {
    // Renaming a file over a non-empty directory fails (EISDIR/ENOTEMPTY), even as root.
    const sub = await mkdtemp(join(dir, 'r-'));
    const target = join(sub, 'model.safetensors');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'old');
    await expect(writeFileAtomic(target, Uint8Array.of(1, 2))).rejects.toThrow(/could not write .* any file that was there is unchanged/);
    expect(await readFile(join(target, 'keep'), 'utf8')).toBe('old');
    expect(await listing(sub)).toEqual(['model.safetensors']);
  });

  // Failures injected into Node's FileHandle (the class writeFileAtomic's handle is an instance of).
  async function fileHandleProto() {
    const h = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(h);
    await h.close();
    return proto;
  }

  it('a write that fails halfway (disk full) leaves the old file intact and no temporary file', async () => {
    const sub = await mkdtemp(join(dir, 'f-'));
    const path = join(sub, 'model.safetensors');
    await writeFileAtomic(path, Uint8Array.of(7, 7, 7));
    const proto = await fileHandleProto();
    const realWrite = proto.write;
    vi.spyOn(proto, 'writeFile').mockImplementation(async function (this: any, data: any) {
      await realWrite.call(this, data.subarray(0, data.length >> 1)); // half of it lands on disk
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    await expect(writeFileAtomic(path, new Uint8Array(1000).fill(1))).rejects.toThrow(/ENOSPC/);
    expect(Array.from(await readFile(path))).toEqual([7, 7, 7]);
    expect(await listing(sub)).toEqual(['model.safetensors']);
  });

  it('a failed flush leaves the old file intact and no temporary file', async () => {
    const sub = await mkdtemp(join(dir, 's-'));
    const path = join(sub, 'model.safetensors');
    await writeFileAtomic(path, Uint8Array.of(5));
    const proto = await fileHandleProto();
    vi.spyOn(proto, 'sync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(writeFileAtomic(path, Uint8Array.of(6, 6))).rejects.toThrow(/EIO/);
    expect(Array.from(await readFile(path))).toEqual([5]);
    expect(await listing(sub)).toEqual(['model.safetensors']);
  });

  it('concurrent writers: the file ends up whole, as one of them wrote it', async () => {
    const sub = await mkdtemp(join(dir, 'c-'));
    const path = join(sub, 'model.safetensors');
    const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(200_000).fill(i + 1));
    await Promise.all(payloads.map((p) => writeFileAtomic(path, p)));
    const got = await readFile(path);
    expect(got.length).toBe(200_000);
    expect(got.every((b) => b === got[0])).toBe(true);
    expect(await listing(sub)).toEqual(['model.safetensors']);
  });

  it('refuses bad arguments', async () => {
    await expect(writeFileAtomic('', Uint8Array.of(1))).rejects.toThrow(/non-empty string/);
    await expect(writeFileAtomic(join(dir, 'x'), [1, 2] as unknown as Uint8Array)).rejects.toThrow(/expected the bytes as a Uint8Array, got Array/);
    await expect(writeFileAtomic(join(dir, 'x'), new Float32Array(2) as unknown as Uint8Array)).rejects.toThrow(/got Float32Array/);
  });

  it('readFileBytes: a missing file names the path', async () => {
    const path = join(dir, 'missing.safetensors');
    await expect(readFileBytes(path)).rejects.toThrow(`readFileBytes: no file at '${path}'.`);
    await expect(readFileBytes(dir)).rejects.toThrow(/could not read .*EISDIR/);
  });
});

describe('fetchBytes', () => {
  let server: Server;
  let base: string;
  const body = encodeSafetensors([{ name: 'w', shape: [1], data: f32(42) }], {});
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/model.safetensors') res.writeHead(200).end(Buffer.from(body));
      else res.writeHead(404, 'Not Found').end('nope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => { await new Promise((r) => server.close(r)); });

  it('fetches bytes', async () => {
    const bytes = await fetchBytes(`${base}/model.safetensors`);
    expect(Array.from(bytes)).toEqual(Array.from(body));
    expect(decodeSafetensors(bytes).tensors.get('w')!.data[0]).toBe(42);
    expect((await fetchBytes(new URL('/model.safetensors', base))).length).toBe(body.length);
  });

  it('names the status and the URL of a failed response', async () => {
    await expect(fetchBytes(`${base}/missing`)).rejects.toThrow(`fetchBytes: ${base}/missing answered 404 Not Found`);
  });

  it('names the URL when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}/m`;
    await new Promise((r) => closed.close(r));
    await expect(fetchBytes(url)).rejects.toThrow(`fetchBytes: could not fetch ${url}`);
  });
});

describe('browser-only helpers in Node', () => {
  it('IndexedDB helpers say it is not available and what to use instead', async () => {
    const msg = /IndexedDB is not available in this runtime \(node\); use writeFileAtomic/;
    await expect(idbSave('m', Uint8Array.of(1))).rejects.toThrow(msg);
    await expect(idbLoad('m')).rejects.toThrow(msg);
    await expect(idbDelete('m')).rejects.toThrow(msg);
    await expect(idbList()).rejects.toThrow(msg);
    await expect(idbSave('', Uint8Array.of(1))).rejects.toThrow(/key must be a non-empty string/);
  });

  it('downloadBytes says it needs a browser page', () => {
    expect(() => downloadBytes(Uint8Array.of(1), 'm.safetensors')).toThrow(/downloads need a browser page .*this is node.*writeFileAtomic/);
  });
});

// ---- whole models: load() from every kind of byte container, and what it refuses ----

/** The saved file with its header JSON edited (the length prefix fixed up, the data section kept). */
function editHeader(bytes: Uint8Array, edit: (h: any) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(h);
  return file(h, bytes.subarray(8 + n));
}

/** Edits the topology and preprocessing metadata as objects. */
function editMeta(bytes: Uint8Array, edit: (topology: any, preprocessing: any, meta: Record<string, string>) => void): Uint8Array {
  return editHeader(bytes, (h) => {
    const m = h.__metadata__;
    const topology = JSON.parse(m.topology), preprocessing = JSON.parse(m.preprocessing);
    edit(topology, preprocessing, m);
    m.topology = JSON.stringify(topology);
    m.preprocessing = JSON.stringify(preprocessing);
  });
}

/** The saved file with tensor values edited (re-encoded with the same metadata). */
function editWeights(bytes: Uint8Array, edit: (t: Map<string, Float32Array>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const data = new Map([...tensors].map(([k, t]) => [k, t.data]));
  edit(data);
  return encodeSafetensors([...tensors].map(([name, t]) => ({ name, shape: t.shape, data: data.get(name)! })), metadata);
}

const sameBits = (a: Float32Array[], b: Float32Array[]) => expect(b.map(bits)).toEqual(a.map(bits));

describe('load: the bytes in any container (a Node Buffer, a view at any offset, a DataView)', () => {
  let dir: string;
  let model: sd.Sequential;
  let bytes: Uint8Array;
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
    dir = await mkdtemp(join(tmpdir(), 'simdnn-load-'));
    model = sd.mlp([64, 128, 10], { seed: 1 });
    bytes = sd.save(model);
  });
  afterAll(async () => {
    model.dispose();
    sd.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  /** Loads `src` and checks the weights are the saved ones, bit for bit. */
  async function check(what: string, src: sd.ModelSource) {
    const back = await sd.load(src);
    try {
      expect(back.config(), what).toEqual(model.config());
      sameBits(model.getWeights(), back.getWeights());
    } finally {
      back.dispose();
    }
  }

  it('a file written with fs and read back with readFileSync and fs.promises.readFile', async () => {
    const path = join(dir, 'm.safetensors');
    writeFileSync(path, bytes);
    await check('readFileSync', readFileSync(path));
    await check('fs.promises.readFile', await readFile(path));
    await check('the path', path);
  });

  it("Buffer.from(save(m)), small Buffers from Node's shared pool, and views at odd offsets", async () => {
    await check('Buffer.from', Buffer.from(bytes));
    // A small model's file is a slice of the 8 KiB pool: the Buffer's memory starts past 0 and
    // its ArrayBuffer is larger than the file.
    const small = sd.mlp([3, 4, 2], { seed: 2 });
    try {
      const pooled = Buffer.from(sd.save(small));
      expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
      const back = sd.loadBytes(pooled);
      sameBits(small.getWeights(), back.getWeights());
      back.dispose();
      const { tensors } = decodeSafetensors(pooled);
      expect([...tensors.values()].map((t) => t.data.length)).toEqual([12, 4, 8, 2]);
    } finally {
      small.dispose();
    }
    for (const shift of [1, 3, 5, 6]) {
      const host = Buffer.alloc(bytes.length + 11, 0xee);
      host.set(bytes, shift); // every float32 now starts off a 4-byte boundary of the ArrayBuffer
      await check(`Buffer subarray at ${shift}`, host.subarray(shift, shift + bytes.length));
      const plain = new Uint8Array(host.buffer.slice(0));
      await check(`Uint8Array subarray at ${shift}`, plain.subarray(shift, shift + bytes.length));
      await check(`DataView at ${shift}`, new DataView(plain.buffer, shift, bytes.length));
    }
    await check('ArrayBuffer', bytes.slice().buffer);
    const shared = new SharedArrayBuffer(bytes.length);
    new Uint8Array(shared).set(bytes);
    await check('SharedArrayBuffer', shared);
  });

  it('decodeSafetensors returns each tensor, not a view of the whole input', () => {
    const host = Buffer.alloc(bytes.length + 9);
    host.set(bytes, 7);
    const { tensors } = decodeSafetensors(host.subarray(7, 7 + bytes.length));
    expect([...tensors.values()].map((t) => t.data.length)).toEqual([64 * 128, 128, 128 * 10, 10]);
    host.fill(0);
    expect(bits(tensors.get('layers.0.weight')!.data)).toEqual(bits(model.getWeights()[0])); // a copy
  });
});

/**
 * A simdnn model file made by hand: `layers` as the topology, one F32 tensor per [name, shape] with
 * small values, and `preprocessing` (null by default).
 */
function modelFile(layers: unknown[], tensors: [string, number[]][], preprocessing: unknown = null, extraMeta: Record<string, string> = {}): Uint8Array {
  const r = rng(5);
  const entries = tensors.map(([name, shape]) => ({ name, shape, data: r.array(shape.reduce((a, b) => a * b, 1)) }));
  return encodeSafetensors(entries, {
    format: 'simdnn', format_version: '1', topology: JSON.stringify({ layers, seed: 0 }), preprocessing: JSON.stringify(preprocessing), ...extraMeta,
  });
}
const lin = (inFeatures: number, outFeatures: number, more: object = {}) => ({ type: 'linear', inFeatures, outFeatures, activation: 'linear', bias: true, ...more });

/**
 * loadBytes(b) must throw an Error matching `msg` (and starting with `prefix`) without asking the
 * backend for any memory, leaving memory() as it was.
 */
function refusedUnallocated(what: string, b: Uint8Array, msg: RegExp, prefix = /^load: corrupt model file: /) {
  const before = sd.memory();
  const spy = vi.spyOn(engine, 'newStorage');
  let thrown: unknown;
  try {
    sd.loadBytes(b).dispose();
  } catch (e) {
    thrown = e;
  }
  spy.mockRestore();
  expect(thrown, `${what}: did not throw`).toBeInstanceOf(Error);
  expect((thrown as Error).message, what).toMatch(prefix);
  expect((thrown as Error).message, what).toMatch(msg);
  expect(spy, `${what}: backend memory was allocated`).not.toHaveBeenCalled();
  expect(sd.memory(), what).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
}

describe('load: what the file claims is checked before anything is allocated', () => {
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => sd.shutdown());

  it.each(['wasm', 'js'] as const)('a file under 1 KiB declaring 2^20 × 2^20 layers (%s)', async (backend) => {
    // maxMemoryMB bounds what a regression could take on wasm; the js backend has no such bound.
    await sd.init({ backend, maxMemoryMB: 64 });
    const hostile = modelFile(
      [lin(3, 2 ** 20, { activation: 'relu' }), lin(2 ** 20, 2 ** 20)],
      [['layers.0.weight', [3, 4]], ['layers.0.bias', [4]], ['layers.1.weight', [4, 2]], ['layers.1.bias', [2]]],
    );
    expect(hostile.length).toBeLessThan(1024);
    const declared = 3 * 2 ** 20 + 2 ** 20 + 2 ** 20 * 2 ** 20 + 2 ** 20; // weights and biases
    refusedUnallocated('huge', hostile, new RegExp(`the topology needs ${declared} weights but the file holds only 104 bytes of tensor data`));
  });

  it('every linear layer must match its tensors in the header, and the sizes must chain', async () => {
    await sd.init({ backend: 'wasm' });
    const W = (i: number, a: number, b: number): [string, number[]] => [`layers.${i}.weight`, [a, b]];
    const B = (i: number, b: number): [string, number[]] => [`layers.${i}.bias`, [b]];
    const cases: [string, Uint8Array, RegExp][] = [
      ['declared sizes larger than the tensor (within the bytes present)', modelFile([lin(2, 2)], [W(0, 1, 2), B(0, 2)]),
        /'layers\.0\.weight' has shape \[1, 2\] but topology layer 0 \(linear 2→2\) needs \[2, 2\]/],
      ['a transposed weight', modelFile([lin(3, 4)], [W(0, 4, 3), B(0, 4)]),
        /'layers\.0\.weight' has shape \[4, 3\] but topology layer 0 \(linear 3→4\) needs \[3, 4\]/],
      ['a bias of the wrong size', modelFile([lin(3, 4)], [W(0, 3, 4), B(0, 3)]),
        /'layers\.0\.bias' has shape \[3\] but topology layer 0 \(linear 3→4, bias: true\) needs \[4\]/],
      ['bias: true without a bias tensor', modelFile([lin(3, 4), lin(4, 2)], [W(0, 3, 4), B(0, 4), W(1, 4, 2)]),
        /the weights lack 'layers\.1\.bias', which topology layer 1 \(linear 4→2, bias: true\) needs/],
      ['bias: false with a bias tensor in the file', modelFile([lin(3, 4, { bias: false })], [W(0, 3, 4), B(0, 4)]),
        /unexpected tensors 'layers\.0\.bias' that the topology does not use \(topology layer 0 says bias: false but the file has 'layers\.0\.bias'\)/],
      ['a weight at the wrong layer index', modelFile([{ type: 'dropout', rate: 0 }, lin(3, 4)], [W(0, 3, 4), B(0, 4)]),
        /the weights lack 'layers\.1\.weight', which topology layer 1 \(linear 3→4\) needs/],
      ['tensors no layer uses', modelFile([lin(3, 4)], [W(0, 3, 4), B(0, 4), ['extra', [2]]]), /unexpected tensors 'extra'/],
      ['sizes that do not chain', modelFile([lin(3, 4), lin(5, 2)], [W(0, 3, 4), B(0, 4), W(1, 5, 2), B(1, 2)]),
        /topology layer 1 takes 5 inputs but the layers before it give 4/],
      ['no linear layer', modelFile([{ type: 'activation', activation: 'relu' }], []), /the topology has no linear layer/],
      ['no layers', modelFile([], []), /the topology metadata has no layers/],
      ['more weights declared than bytes present', modelFile([lin(100, 100)], [W(0, 3, 4)]), /the topology needs 10100 weights but the file holds only 48 bytes/],
      ['a topology that is an array', editHeader(modelFile([lin(1, 1)], [W(0, 1, 1), B(0, 1)]), (h) => { h.__metadata__.topology = '[1]'; }),
        /the topology metadata must be an object \{"layers": \[\.\.\.\], "seed": n\}, got an array/],
      ['an unknown topology field', editHeader(modelFile([lin(1, 1)], [W(0, 1, 1), B(0, 1)]), (h) => { h.__metadata__.topology = '{"layers":[],"sizes":[1]}'; }),
        /the topology has an unknown field "sizes"/],
      ['a layer after a layer that fails (nothing of the first is built)', modelFile([lin(3, 4), lin(4, 2 ** 16), lin(2 ** 16, 2 ** 16)], [W(0, 3, 4), B(0, 4)]),
        /the topology needs \d+ weights but the file holds only 64 bytes/],
    ];
    for (const [what, b, msg] of cases) refusedUnallocated(what, b, msg);
  });
});

describe('load: values the model cannot use are refused, naming the field and the problem', () => {
  const CSV = 'num1,num2,color,label\n1,2,red,a\n3,4,green,b\n5,6,red,c\n7,8,green,a\n2,1,red,b\n4,3,green,c\n';
  let ds: sd.Dataset;
  let model: sd.Sequential;
  let good: Uint8Array;
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
    ds = await sd.data.readCsv(CSV, { from: 'string', target: 'label' });
    model = sd.mlp([ds.columns.length, 6, ds.classes!.length], { seed: 3 }); // 4 → 6 → 3
    model.preprocessing = { scaler: sd.data.standardize(ds.x), classes: ds.classes, columns: ds.columns, target: ds.target, task: ds.task, encoding: ds.encoding };
    good = sd.save(model);
  });
  afterAll(() => {
    model.dispose();
    sd.dispose([ds.x, ds.y]);
    sd.shutdown();
  });

  it('a good file with every kind of preprocessing loads back whole', () => {
    expect(ds.columns).toEqual(['num1', 'num2', 'color=green', 'color=red']);
    const back = sd.loadBytes(good);
    try {
      const { scaler, ...rest } = back.preprocessing;
      const { scaler: s0, ...want } = model.preprocessing;
      expect(rest).toEqual(want);
      expect(scaler!.toJSON()).toEqual(s0!.toJSON());
      const x = sd.data.encodeRows(back.preprocessing.encoding as sd.CsvEncoding, [{ num1: 2, num2: 5, color: 'green' }]);
      expect(Array.from(sd.tidy(() => back.predict(x).dataSync()))).toEqual(Array.from(sd.tidy(() => model.predict(x).dataSync())));
      x.dispose();
    } finally {
      back.dispose();
    }
  });

  const W = (i: number, a: number, b: number): [string, number[]] => [`layers.${i}.weight`, [a, b]];
  const B = (i: number, b: number): [string, number[]] => [`layers.${i}.bias`, [b]];
  const classifier64 = (pre: object) => modelFile([lin(64, 10)], [W(0, 64, 10), B(0, 10)], pre);
  const cases = (): [string, Uint8Array, RegExp][] => [
    // weights
    ['NaN in a weight', editWeights(good, (t) => { t.get('layers.0.weight')![5] = NaN; }), /'layers\.0\.weight' holds NaN at \[0, 5\]; a model with non-finite weights predicts NaN/],
    ['infinities in a bias', editWeights(good, (t) => { t.get('layers.1.bias')![0] = -Infinity; t.get('layers.1.bias')![2] = Infinity; }), /'layers\.1\.bias' holds -Infinity at \[0\] \(and 1 more non-finite values\)/],
    // class and column counts
    ['3 class names for a 10-output classifier', classifier64({ classes: ['a', 'b', 'c'] }), /preprocessing\.classes has 3 names but the model has 10 outputs \(one class per output\)/],
    ['5 column names for a 64-input model', classifier64({ columns: ['a', 'b', 'c', 'd', 'e'] }), /preprocessing\.columns has 5 names but the model takes 64 inputs/],
    ['1 class name for a one-output model', modelFile([lin(2, 1)], [W(0, 2, 1), B(0, 1)], { classes: ['yes'] }), /has 1 name but the model has 1 output \(a one-output classifier is binary: 2 class names\)/],
    ['2 class names for 3 outputs', editMeta(good, (t, p) => { p.classes = ['a', 'b']; }), /preprocessing\.classes has 2 names but the model has 3 outputs/],
    ['a class name that is a number', editMeta(good, (t, p) => { p.classes = [1, 'b', 'c']; }), /preprocessing\.classes\[0\] must be a string, got 1/],
    ['a class named twice', editMeta(good, (t, p) => { p.classes = ['a', 'a', 'c']; }), /preprocessing\.classes names "a" twice/],
    ['classes not an array', editMeta(good, (t, p) => { p.classes = 'abc'; }), /preprocessing\.classes must be an array of strings, got "abc"/],
    ['classes on a regression model', editMeta(good, (t, p) => { p.task = 'regression'; }), /preprocessing\.classes is set but task is 'regression'/],
    ['a column name that is an object', editMeta(good, (t, p) => { p.columns[1] = {}; }), /preprocessing\.columns\[1\] must be a string, got an object/],
    // topology values
    ['bias: "no"', editMeta(good, (t) => { t.layers[0].bias = 'no'; }), /topology layer 0: bias must be true or false, got "no"/],
    ['inFeatures as a string', editMeta(good, (t) => { t.layers[0].inFeatures = '4'; }), /topology layer 0: inFeatures must be a positive integer, got "4"/],
    ['outFeatures 0', editMeta(good, (t) => { t.layers[1].outFeatures = 0; }), /topology layer 1: outFeatures must be a positive integer, got 0/],
    ['an unknown activation', editMeta(good, (t) => { t.layers[0].activation = 'swish'; }), /topology layer 0: activation must be one of linear, relu, .*got "swish"/],
    ['softmax fused into a linear layer', editMeta(good, (t) => { t.layers[1].activation = 'softmax'; }), /topology layer 1: activation must be one of .*got "softmax"/],
    ['alpha that is not a number', editMeta(good, (t) => { t.layers[0].alpha = 'x'; }), /topology layer 0: alpha must be a finite number, got "x"/],
    ['a dropout rate of 2', editMeta(good, (t) => { t.layers.push({ type: 'dropout', rate: 2 }); }), /topology layer 2: rate must be a number in \[0, 1\), got 2/],
    ['an unknown layer field', editMeta(good, (t) => { t.layers[0].init = 'he'; }), /topology layer 0: a linear layer has an unknown field "init"; its fields are type, inFeatures/],
    ['an unknown layer type', editMeta(good, (t) => { t.layers.push({ type: 'conv' }); }), /topology layer 2: unknown layer type "conv"/],
    ['a layer that is a number', editMeta(good, (t) => { t.layers.push(7); }), /topology layer 2: a layer config must be an object/],
    ['a negative seed', editMeta(good, (t) => { t.seed = -1; }), /the topology's seed must be a non-negative integer, got -1/],
    // other preprocessing fields
    ['an unknown task', editMeta(good, (t, p) => { p.task = 'banana'; }), /preprocessing\.task must be 'classification', 'regression' or null, got "banana"/],
    ['a target that is a number', editMeta(good, (t, p) => { p.target = 5; }), /preprocessing\.target must be a string or null, got 5/],
    ['an unknown preprocessing field', editMeta(good, (t, p) => { p.labels = []; }), /preprocessing has an unknown field "labels"/],
    ['preprocessing that is an array', editHeader(good, (h) => { h.__metadata__.preprocessing = '[]'; }), /preprocessing must be an object, got an array/],
    ['preprocessing that is not JSON', editHeader(good, (h) => { h.__metadata__.preprocessing = '{"classes": ['; }), /the preprocessing metadata is not valid JSON/],
    ['a scaler of the wrong width', editMeta(good, (t, p) => { p.scaler.mean.pop(); p.scaler.std.pop(); }), /preprocessing\.scaler has 3 features but the model takes 4 inputs/],
    ['a scaler mean beyond float32', editMeta(good, (t, p) => { p.scaler.mean[0] = 1e39; }), /preprocessing\.scaler\.mean holds Infinity at \[0\] as float32/],
    ['a scaler std that is 0 as float32', editMeta(good, (t, p) => { p.scaler.std[1] = 1e-50; }), /preprocessing\.scaler: every std must be positive/],
    ['an unknown scaler kind', editMeta(good, (t, p) => { p.scaler.kind = 'robust'; }), /preprocessing\.scaler: unknown scaler kind "robust"/],
    // the CSV encoding
    ['an encoding that is a string', editMeta(good, (t, p) => { p.encoding = 'garbage'; }), /preprocessing\.encoding must be the encoding of a Dataset from readCsv \(an object\), got "garbage"/],
    ['an encoding of another format', editMeta(good, (t, p) => { p.encoding.format = 'pandas'; }), /preprocessing\.encoding\.format must be 'simdnn\.csv-encoding', got "pandas"/],
    ['an encoding version from the future', editMeta(good, (t, p) => { p.encoding.version = 2; }), /preprocessing\.encoding\.version 2 is not supported; this simdnn reads version 1/],
    ['encoding features that are not an array', editMeta(good, (t, p) => { p.encoding.features = {}; }), /preprocessing\.encoding\.features must be a non-empty array, got an object/],
    ['an encoded feature of an unknown kind', editMeta(good, (t, p) => { p.encoding.features[0].kind = 'date'; }), /preprocessing\.encoding\.features\[0\]\.kind must be 'numeric' or 'categorical', got "date"/],
    ['an encoded feature without a name', editMeta(good, (t, p) => { delete p.encoding.features[1].name; }), /preprocessing\.encoding\.features\[1\]\.name must be a string, got undefined/],
    ['a numeric fill that is text', editMeta(good, (t, p) => { p.encoding.features[0].fill = 'x'; }), /preprocessing\.encoding\.features\[0\]\.fill must be a finite float32 number or null, got "x"/],
    ['a numeric fill beyond float32', editMeta(good, (t, p) => { p.encoding.features[0].fill = 1e300; }), /features\[0\]\.fill must be a finite float32 number or null, got 1e\+300/],
    ['levels that are numbers', editMeta(good, (t, p) => { p.encoding.features[2].levels = [1, 2]; }), /preprocessing\.encoding\.features\[2\]\.levels\[0\] must be a string, got 1/],
    ['a categorical fill that is not a level', editMeta(good, (t, p) => { p.encoding.features[2].fill = 'blue'; }), /features\[2\]\.fill must be one of its levels or null, got "blue"/],
    ['encoding columns that miss one', editMeta(good, (t, p) => { p.encoding.columns.pop(); }), /preprocessing\.encoding\.columns has 3 names but its features make 4 columns/],
    ['an encoding of another width', editMeta(good, (t, p) => { p.encoding.features.shift(); p.encoding.columns.shift(); p.columns = null; }), /preprocessing\.encoding makes 3 input columns but the model takes 4 inputs/],
    ['an unknown missing strategy', editMeta(good, (t, p) => { p.encoding.missing = 'sometimes'; }), /preprocessing\.encoding\.missing must be one of drop, mean, median, mostFrequent, error, got "sometimes"/],
    ['naValues that are not an array', editMeta(good, (t, p) => { p.encoding.naValues = 'NA'; }), /preprocessing\.encoding\.naValues must be an array of strings, got "NA"/],
    ['columns that differ from the encoding', editMeta(good, (t, p) => { p.columns[0] = 'zzz'; }), /preprocessing\.columns differ from preprocessing\.encoding\.columns/],
    ['classes that differ from the encoding', editMeta(good, (t, p) => { p.classes = ['c', 'b', 'a']; }), /preprocessing\.classes differ from preprocessing\.encoding\.classes/],
  ];

  it('each is refused with a clear Error, before anything is allocated', () => {
    for (const [what, b, msg] of cases()) refusedUnallocated(what, b, msg);
  });

  it('a file from a newer format version says so', () => {
    // (version 2 is the int8 models' format: test/int8.test.ts)
    refusedUnallocated('format_version 3', editHeader(good, (h) => { h.__metadata__.format_version = '3'; }),
      /^load: this model file has format_version "3"; this simdnn reads version 1 \(and 2 for int8 models\) \(the file comes from a newer simdnn: update simdnn to load it\)\.$/, /^load: /);
    refusedUnallocated('no format_version', editHeader(good, (h) => { delete h.__metadata__.format_version; }), /format_version \(missing\)/, /^load: /);
  });

  it('save refuses what load would refuse, so every saved file loads back', () => {
    const m = sd.mlp([4, 6, 3], { seed: 1 });
    try {
      const w = m.getWeights();
      w[0][1 * 6 + 2] = NaN;
      m.setWeights(w);
      expect(() => sd.save(m)).toThrow(/^save: layers\.0\.weight holds NaN at \[1, 2\]; a model with non-finite weights cannot be saved \(did training diverge/);
      w[0][1 * 6 + 2] = 0.5;
      m.setWeights(w);
      m.preprocessing = { classes: ['a', 'b'] };
      expect(() => sd.save(m)).toThrow(/^save: model\.preprocessing\.classes has 2 names but the model has 3 outputs/);
      m.preprocessing = { columns: ['a', 'b', 'c'] };
      expect(() => sd.save(m)).toThrow(/^save: model\.preprocessing\.columns has 3 names but the model takes 4 inputs/);
      m.preprocessing = { encoding: { format: 'simdnn.csv-encoding' } };
      expect(() => sd.save(m)).toThrow(/^save: model\.preprocessing\.encoding\.version undefined is not supported/);
      // Class names given as numbers are written as their names.
      m.preprocessing = { classes: [0, 1, 2] as unknown as string[], task: 'classification' };
      const back = sd.loadBytes(sd.save(m));
      expect(back.preprocessing.classes).toEqual(['0', '1', '2']);
      back.dispose();
    } finally {
      m.dispose();
    }
  });

  it('a binary classifier (one output) with two class names round-trips', () => {
    const m = sd.mlp([2, 1], { seed: 1, outputActivation: 'sigmoid' });
    m.preprocessing = { classes: ['no', 'yes'], task: 'classification' };
    const back = sd.loadBytes(sd.save(m));
    expect(back.preprocessing.classes).toEqual(['no', 'yes']);
    back.dispose();
    m.dispose();
  });
});

describe('load: a failed load frees everything it built', () => {
  afterAll(() => sd.shutdown());

  it('memory() is flat after many failed loads of every kind, out of memory mid-build included', async () => {
    // 16 MiB of wasm memory holds two or three 1024×1024 layers, not four: the build fails part-way.
    await sd.init({ backend: 'wasm', maxMemoryMB: 16 });
    const r = rng(3);
    const big = encodeSafetensors(
      [0, 1, 2, 3].flatMap((i) => [
        { name: `layers.${i}.weight`, shape: [1024, 1024], data: r.array(1024 * 1024, -0.01, 0.01) },
        { name: `layers.${i}.bias`, shape: [1024], data: new Float32Array(1024) },
      ]),
      { format: 'simdnn', format_version: '1', topology: JSON.stringify({ layers: [0, 1, 2, 3].map(() => lin(1024, 1024)), seed: 0 }), preprocessing: 'null' },
    );
    const m = sd.mlp([3, 4, 2], { seed: 1 });
    const good = sd.save(m);
    m.dispose();
    const W = (i: number, a: number, b: number): [string, number[]] => [`layers.${i}.weight`, [a, b]];
    const B = (i: number, b: number): [string, number[]] => [`layers.${i}.bias`, [b]];
    // The messages are checked elsewhere; here what matters is that nothing stays allocated.
    const failing: [string, Uint8Array, number][] = [
      ['out of memory at a later layer', big, 5], // 16 MB to decode each time: fewer rounds
      ['a bad second layer', editMeta(good, (t) => { t.layers[1].activation = 'swish'; }), 50],
      ['a huge second layer', modelFile([lin(3, 4), lin(4, 2 ** 16), lin(2 ** 16, 2 ** 16)], [W(0, 3, 4), B(0, 4)]), 50],
      ['a shape mismatch at the last layer', editHeader(good, (h) => { h['layers.1.weight'].shape = [2, 4]; }), 50],
      ['NaN weights', editWeights(good, (t) => { t.get('layers.1.weight')![0] = NaN; }), 50],
      ['class names that do not fit', editMeta(good, (t, p) => { p.classes = ['a', 'b', 'c']; }), 50],
      ['a garbage encoding', editMeta(good, (t, p) => { p.encoding = { format: 'simdnn.csv-encoding', version: 1, features: 7 }; }), 50],
      ['truncated', good.subarray(0, good.length - 3), 50],
    ];
    const base = sd.memory();
    for (const [what, b, rounds] of failing) {
      for (let i = 0; i < rounds; i++) expect(() => sd.loadBytes(b).dispose(), what).toThrow(/^load: /);
      const after = sd.memory();
      expect(after, what).toMatchObject({ tensors: base.tensors, bytes: base.bytes });
      expect(after.backend.allocatedBytes, what).toBe(base.backend.allocatedBytes);
    }
    expect(() => sd.loadBytes(big)).toThrow(/^load: could not build the model: simdnn: out of memory/);
    // Out of memory between a layer's weight and its bias (simulated: the second allocation fails).
    const real = engine.newStorage.bind(engine);
    let calls = 0;
    const spy = vi.spyOn(engine, 'newStorage').mockImplementation((n) => {
      if (++calls === 2) throw new Error('simdnn: out of memory (simulated)');
      return real(n);
    });
    expect(() => sd.loadBytes(good)).toThrow(/^load: could not build the model: simdnn: out of memory \(simulated\)/);
    spy.mockRestore();
    expect(calls).toBe(2);
    expect(sd.memory()).toMatchObject({ tensors: base.tensors, bytes: base.bytes });
    // and the runtime still loads and runs a model
    const back = sd.loadBytes(good);
    expect(back.predict([[1, 2, 3]]).shape).toEqual([1, 2]);
    back.dispose();
  });
});

describe('save and load: layers of the user\'s own types', () => {
  afterAll(() => sd.shutdown());

  /** A per-feature scale and shift, written with the public ops. */
  class Affine extends sd.Layer {
    readonly type = 'featureAffine';
    readonly scale: sd.Tensor;
    readonly shift: sd.Tensor;
    constructor(readonly width: number) {
      super();
      this.scale = sd.layers.parameter([width], 'ones');
      this.shift = sd.layers.parameter([width], 'zeros');
    }
    override get inFeatures() {
      return this.width;
    }
    override params() {
      return [this.scale, this.shift];
    }
    override paramNames() {
      return ['scale', 'shift'];
    }
    forward(x: sd.Tensor) {
      return sd.add(sd.mul(x, this.scale), this.shift);
    }
    outFeatures(n: number) {
      return n;
    }
    config() {
      return { type: 'featureAffine', width: this.width };
    }
  }

  it('save refuses an unregistered type, naming the fix; once registered the round trip is exact; a file that does not fit the built layer is refused and frees it', async () => {
    await sd.init({ backend: 'wasm' });
    const r = rng(4);
    const build = () => sd.sequential([new Affine(3), sd.layers.linear(3, 2, { seed: 1 })]);
    const model = build();
    model.setWeights(model.getWeights().map((w) => r.array(w.length)));
    expect(() => sd.save(model)).toThrow(/save: layer 0 is a 'featureAffine' layer, which load\(\) could not rebuild: register its type with layers.register\('featureAffine'/);
    sd.layers.register('featureAffine', (c) => new Affine(c.width as number));
    const bytes = sd.save(model);
    const again = await sd.load(bytes);
    expect(again.layers[0]).toBeInstanceOf(Affine);
    again.getWeights().forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(model.getWeights()[i])));
    const x = sd.tensor(r.array(4 * 3), [4, 3]);
    expect(Array.from(again.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    const before = sd.memory();
    // The file's scale has 4 values where the layer its topology describes has 3: the built layer does not fit.
    const decoded = decodeSafetensors(bytes);
    const wrong = encodeSafetensors(
      [...decoded.tensors].map(([name, t]) => (name === 'layers.0.scale' ? { name, shape: [4], data: new Float32Array(4) } : { name, shape: t.shape, data: t.data })),
      decoded.metadata,
    );
    await expect(sd.load(wrong)).rejects.toThrow(/load: corrupt model file: 'layers.0.scale' has shape \[4\] but the layer needs \[3\]/);
    // A topology whose sizes do not chain is refused when the model is built.
    const unchained = encodeSafetensors(
      [...decoded.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
      { ...decoded.metadata, topology: decoded.metadata.topology.replace('"width":3', '"width":4') },
    );
    await expect(sd.load(unchained)).rejects.toThrow(/load: could not build the model: .*expects 3 input features/);
    expect(sd.memory().tensors).toBe(before.tensors);
    expect(sd.memory().bytes).toBe(before.bytes);
    // Built-in type names cannot be taken.
    expect(() => sd.layers.register('linear', () => new Affine(1))).toThrow(/'linear' is a built-in layer type/);
    sd.dispose(x);
    model.dispose();
    again.dispose();
  });
});
