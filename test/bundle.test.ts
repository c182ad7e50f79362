// The built bundle's split (scripts/build.mjs, src/runtime/lazy.ts): dist/index.js imports the core; the webgpu,
// csv and storage parts are files of their own, fetched on first use, and dist/chunks.json names them
// all. A copy of dist/ without the parts still trains, and a missing part is an error that names it.
// Build first: npm run build.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

interface Manifest {
  core: string[];
  worker: string;
  parts: Record<string, string[]>;
}
let manifest: Manifest;
let tmp: string;

beforeAll(() => {
  if (!existsSync(join(dist, 'chunks.json'))) throw new Error('dist/chunks.json is missing: run `npm run build` first.');
  const newest = Math.max(...['src/runtime/lazy.ts', 'src/index.ts', 'scripts/build.mjs'].map((f) => statSync(join(root, f)).mtimeMs));
  if (statSync(join(dist, 'chunks.json')).mtimeMs < newest) throw new Error('dist/ is older than src/runtime/lazy.ts or scripts/build.mjs: run `npm run build` again.');
  manifest = JSON.parse(readFileSync(join(dist, 'chunks.json'), 'utf8'));
  tmp = mkdtempSync(join(tmpdir(), 'simdnn-bundle-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const read = (f: string) => readFileSync(join(dist, f), 'utf8');

describe('the split bundle', () => {
  it('chunks.json names every library file: the core, the worker and the csv, storage, threads and webgpu parts', () => {
    expect(manifest.core[0]).toBe('index.js');
    expect(manifest.worker).toBe('worker.js');
    expect(Object.keys(manifest.parts).sort()).toEqual(['csv', 'storage', 'threads', 'webgpu']);
    const listed = new Set([...manifest.core, manifest.worker, ...Object.values(manifest.parts).flat()]);
    const js = readdirSync(dist).filter((f) => f.endsWith('.js') && f !== 'cli.js');
    expect(js.filter((f) => !listed.has(f))).toEqual([]);
    for (const f of listed) expect(existsSync(join(dist, f)), f).toBe(true);
  });

  it('the core holds neither the WGSL kernels nor readCsv nor the IndexedDB code nor the thread pool, and imports the parts only dynamically', () => {
    const core = manifest.core.map(read).join('\n');
    expect(core).not.toMatch(/@compute\s*@workgroup_size/); // WGSL
    expect(core).not.toContain('the header was read as one column'); // readCsv's column resolution
    expect(core).not.toContain('onupgradeneeded'); // IndexedDB
    expect(core).not.toContain('worker.js'); // the thread pool finds its worker script beside itself
    for (const [part, files] of Object.entries(manifest.parts)) {
      const file = files[0];
      expect(core, part).toContain(`import("./${file}")`);
      expect(core.replace(`import("./${file}")`, ''), part).not.toContain(`./${file}`);
    }
    expect(read(manifest.parts.webgpu[0])).toMatch(/@compute/);
  });

  it('a copy of dist/ without the parts trains and predicts; a part it needs is an error that names it and the fix', () => {
    const dir = join(tmp, 'core-only');
    for (const f of [...manifest.core, manifest.worker]) cpSync(join(dist, f), join(dir, f));
    writeFileSync(join(dir, 'run.mjs'), `
      const sd = await import('./index.js');
      const out = {};
      const info = await sd.init({ backend: 'wasm' });
      const model = sd.mlp([2, 4, 1], { seed: 1 });
      const x = sd.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), y = sd.tensor([[0], [1], [1], [0]]);
      await sd.fit(model, x, y, { epochs: 2, batchSize: 4, loss: 'mse', optimizer: sd.optimizers.adam({ lr: 0.01 }) });
      out.predicted = model.predict(x).shape;
      out.backend = info.backend;
      out.encoded = sd.data.encodeRows({ format: 'simdnn.csv-encoding', version: 1, features: [{ name: 'a', kind: 'numeric', fill: 0 }], columns: ['a'], target: 't', task: 'regression', classes: null, missing: 'median', naValues: [''] }, 'a\\n1\\n').shape;
      out.saved = sd.save(model).byteLength > 0;
      try { await sd.data.readCsv('a,b\\n1,2\\n'); } catch (e) { out.csv = e.message; }
      try { await sd.idbList(); } catch (e) { out.storage = e.message; }
      const auto = await sd.init({ webgpu: true, threads: 2 });
      out.gpu = auto.notes.find((n) => n.startsWith('webgpu'));
      out.threads = auto.notes.find((n) => n.startsWith('wasm-threads'));
      out.autoBackend = auto.backend;
      sd.shutdown();
      console.log(JSON.stringify(out));
    `);
    const r = spawnSync(process.execPath, [join(dir, 'run.mjs')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ backend: 'wasm', predicted: [4, 1], encoded: [1, 1], saved: true });
    expect(out.csv).toMatch(/^readCsv: could not load simdnn's 'csv' part \(.*csv-.*\.js.*\)\. .*ship the whole dist\/ folder/);
    expect(out.storage).toMatch(/^idbList: could not load simdnn's 'storage' part/);
    expect(out.gpu).toMatch(/^webgpu: not used: could not load simdnn's 'webgpu' part/);
    expect(out.threads).toMatch(/^wasm-threads failed to start \(init: could not load simdnn's 'threads' part/);
    expect(out.autoBackend).toBe('wasm');
  });
});
