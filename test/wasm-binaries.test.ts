// The kernel modules as the bundle carries them: the inline encoding (scripts/wasm-inline.mjs), the
// shared-memory variant derived at run time (src/backend/wasm/patch.ts), the relaxed gemm module (no
// static data, gemm exports only) and how the loader puts the two modules together.
import { describe, expect, it } from 'vitest';
import { decodeWasm, encodeWasm, WASM_TEXT_PREFIX, wasmModuleSource } from '../scripts/wasm-inline.mjs';
import { detectFeatures } from '../src/backend/features.js';
import { moduleBytes } from '../src/backend/wasm/binaries.js';
import { compileModule, instantiateKernels, WasmBackend } from '../src/backend/wasm/backend.js';
import { GEMM_NAMES, KERNEL_NAMES } from '../src/backend/wasm/exports.js';
import { sections, withSharedMemory } from '../src/backend/wasm/patch.js';
import { threadsAvailable } from './helpers.js';

const features = await detectFeatures([], true);
const threads = await threadsAvailable();

/** A module from its sections: [id, bytes][]. */
function wasm(...secs: [number, number[]][]): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const [id, body] of secs) out.push(id, body.length, ...body); // bodies < 128 bytes here
  return new Uint8Array(out);
}
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
/** Imports: env.memory with these limits (flag, min[, max]), after one function import. */
const withMemory = (...limits: number[]) =>
  wasm(
    [1, [0x01, 0x60, 0x00, 0x00]], // type 0: () -> ()
    [2, [0x02, ...name('env'), ...name('f'), 0x00, 0x00, ...name('env'), ...name('memory'), 0x02, ...limits]],
  );

describe('inline encoding', () => {
  it('round-trips every byte value and survives as a template literal', () => {
    const all = new Uint8Array(512).map((_, i) => (i * 7) & 255);
    const text = encodeWasm(all);
    expect(text.length).toBe(all.length);
    expect([...decodeWasm(text)]).toEqual([...all]);
    // No character that a template literal reads differently (` \ $ and line ends) stays raw.
    expect(text).not.toMatch(/[`\\$\r\n\u2028\u2029]/);
    expect([...decodeWasm(new Function(`return \`${text}\`;`)())]).toEqual([...all]);
  });

  it('the generated module decodes on the first call only, and to the same array', async () => {
    const bytes = await moduleBytes('core');
    const src = wasmModuleSource(bytes);
    expect(src).toContain(WASM_TEXT_PREFIX);
    const mod = await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(src).toString('base64')}`);
    const first = mod.default();
    expect(first).toBeInstanceOf(Uint8Array);
    expect(mod.default()).toBe(first);
    expect(Buffer.from(first).equals(Buffer.from(bytes))).toBe(true);
  });

  it('moduleBytes gives the build/ files, loaded once', async () => {
    expect(await moduleBytes('core')).toBe(await moduleBytes('core'));
    for (const m of ['core', 'relaxed-gemm'] as const) expect([...(await moduleBytes(m)).subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
  });
});

describe('withSharedMemory', () => {
  it('flips the limits flag of the memory import and nothing else', async () => {
    for (const m of ['core', 'relaxed-gemm'] as const) {
      const plain = await moduleBytes(m);
      const shared = withSharedMemory(plain);
      expect(shared).not.toBe(plain);
      const diff: number[] = [];
      for (let i = 0; i < plain.length; i++) if (shared[i] !== plain[i]) diff.push(i);
      expect(shared.length).toBe(plain.length);
      expect(diff.length, m).toBe(1);
      expect([plain[diff[0]], shared[diff[0]]]).toEqual([0x01, 0x03]);
      const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
      expect(same(withSharedMemory(shared), shared)).toBe(true); // already shared: unchanged
      expect(same(await moduleBytes(m, true), shared)).toBe(true);
      expect(await moduleBytes(m, true)).toBe(await moduleBytes(m, true));
    }
  });

  it.runIf(features.simd)('the patched core validates and imports the same; only a shared memory fits it', async () => {
    const plain = await moduleBytes('core'), shared = await moduleBytes('core', true);
    expect(WebAssembly.validate(shared)).toBe(true);
    const a = new WebAssembly.Module(plain), b = new WebAssembly.Module(shared);
    expect(WebAssembly.Module.imports(b)).toEqual(WebAssembly.Module.imports(a));
    expect(WebAssembly.Module.exports(b)).toEqual(WebAssembly.Module.exports(a));
    const mem = (s: boolean) => new WebAssembly.Memory({ initial: 32, maximum: 1024, shared: s } as WebAssembly.MemoryDescriptor);
    await expect(WebAssembly.instantiate(a, { env: { memory: mem(true) } })).rejects.toThrow();
    await expect(WebAssembly.instantiate(b, { env: { memory: mem(false) } })).rejects.toThrow();
    const memory = mem(true);
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const k = await instantiateKernels({ core: b, gemm: null }, memory);
    // A kernel runs on the shared memory.
    const base = (k.heap_base() + 15) & ~15;
    k.f32_fill(8, base, 2.5);
    expect([...new Float32Array(memory.buffer, base, 8)]).toEqual(new Array(8).fill(2.5));
  });

  it.runIf(features.relaxedSimd && threads)('the relaxed gemm runs on a shared memory beside the shared core', async () => {
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 1024, shared: true } as WebAssembly.MemoryDescriptor);
    const k = await instantiateKernels({ core: await compileModule('core', true), gemm: await compileModule('relaxed-gemm', true) }, memory);
    const f = new Float32Array(memory.buffer);
    const base = (k.heap_base() + 63) & ~63;
    const n = 40, a = base, b = a + n * n * 4, c = b + n * n * 4, ws = c + n * n * 4;
    for (let i = 0; i < n * n; i++) {
      f[(a >> 2) + i] = (i % 7) - 3;
      f[(b >> 2) + i] = i % n === Math.floor(i / n) ? 1 : 0; // identity
    }
    k.f32_gemm_nn(n, n, n, a, n, b, n, c, n, 0, 6, 0, 0, ws); // act 6: tanh, through the core's f32_unary
    for (let i = 0; i < n * n; i++) expect(f[(c >> 2) + i]).toBeCloseTo(Math.tanh((i % 7) - 3), 6);
  });

  it('refuses layouts it does not know, with a clear error', () => {
    const err = /simdnn internal error: cannot mark the kernel module's memory shared/;
    expect(() => withSharedMemory(new Uint8Array([1, 2, 3]))).toThrow(err);
    expect(() => withSharedMemory(wasm([1, [0x01, 0x60, 0x00, 0x00]]))).toThrow(/expected one import section, found 0/);
    expect(() => withSharedMemory(withMemory(0x00, 0x02))).toThrow(/limits flag 0x0 /);
    expect(() => withSharedMemory(wasm([2, [0x01, ...name('env'), ...name('f'), 0x00, 0x00]]))).toThrow(/imports no memory/);
    expect(() => withSharedMemory(wasm([2, [0x01, ...name('env'), ...name('f'), 0x07, 0x00]]))).toThrow(/unknown kind 0x7/);
    expect(() => withSharedMemory(wasm([2, [0x05, ...name('env')]]))).toThrow(err); // truncated
    const ok = withSharedMemory(withMemory(0x01, 0x02, 0x10));
    expect(WebAssembly.validate(ok)).toBe(true);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(ok)).map((i) => i.kind)).toEqual(['function', 'memory']);
    expect(ok[ok.length - 3]).toBe(0x03);
  });
});

describe('the relaxed gemm module', () => {
  it('has no static data (it is instantiated again on the memory in use, in every worker)', async () => {
    const ids = sections(await moduleBytes('relaxed-gemm')).map((s) => s.id);
    expect(ids).not.toContain(11); // data
    expect(ids).not.toContain(12); // data count
    expect(sections(await moduleBytes('core')).map((s) => s.id)).toContain(11); // the core's tables, for contrast
  });

  it.runIf(features.relaxedSimd)('imports the memory and the core f32_unary, exports gemm only', async () => {
    const m = new WebAssembly.Module(await moduleBytes('relaxed-gemm'));
    expect(WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual(['env.f32_unary:function', 'env.memory:memory']);
    const ex = WebAssembly.Module.exports(m).map((e) => e.name).filter((n) => n !== '_start');
    expect(ex.sort()).toEqual([...GEMM_NAMES].sort());
  });

  it.runIf(features.relaxedSimd)("a 'relaxed' backend runs its gemm (MR = 6: other workspace sizes than the core's)", async () => {
    const simd = await WasmBackend.create({ binary: 'simd' }), relaxed = await WasmBackend.create({ binary: 'relaxed' });
    expect(relaxed.build).toBe('relaxed');
    expect(relaxed.notes).toEqual([]);
    expect(relaxed.k.f32_gemm_workspace(200, 64, 64)).not.toBe(simd.k.f32_gemm_workspace(200, 64, 64));
    expect(relaxed.k.f32_unary).toBeTypeOf('function');
    for (const n of KERNEL_NAMES) expect(relaxed.k[n], n).toBeTypeOf('function');
    simd.dispose();
    relaxed.dispose();
  });

  it.runIf(features.simd)('a relaxed gemm that fails falls back to the core gemm, with a note', async () => {
    // A module that compiles but lacks the gemm exports stands in for a relaxed gemm that cannot run.
    const empty = new WebAssembly.Module(wasm());
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 1024 });
    const core = await compileModule('core', false);
    await expect(instantiateKernels({ core, gemm: empty }, memory)).rejects.toThrow(/relaxed gemm module lacks f32_gemm_workspace/);
    const failures: unknown[] = [];
    const k = await instantiateKernels({ core, gemm: empty }, new WebAssembly.Memory({ initial: 32, maximum: 1024 }), (e) => failures.push(e));
    expect(failures.length).toBe(1);
    const plain = await instantiateKernels({ core, gemm: null }, new WebAssembly.Memory({ initial: 32, maximum: 1024 }));
    expect(k.f32_gemm_workspace(200, 64, 64)).toBe(plain.f32_gemm_workspace(200, 64, 64));
  });
});
