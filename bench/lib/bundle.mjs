// Bundle size: what a browser downloads to run each system, minified (as shipped) and gzipped (level 9).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const pkg = (name) => dirname(require.resolve(`${name}/package.json`));
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;

/** `loaded` names the files one page actually fetches (tfjs-wasm loads one of its three binaries). */
function measure(files, loaded = files.map((f) => f.path)) {
  const parts = files.filter((f) => existsSync(f.path)).map((f) => ({ name: relative(root, f.path), kind: f.kind, bytes: readFileSync(f.path).length, gzip: gz(f.path) }));
  const sum = (kind) => parts.filter((p) => !kind || p.kind === kind).reduce((s, p) => s + p.gzip, 0);
  return { parts, jsGzip: sum('js'), wasmGzip: sum('wasm'), totalGzip: sum(), loadedGzip: parts.filter((p) => loaded.includes(join(root, p.name))).reduce((s, p) => s + p.gzip, 0), missing: files.filter((f) => !existsSync(f.path)).map((f) => relative(root, f.path)) };
}

/**
 * simdnn as a page loads it, from dist/chunks.json (written by npm run build): the core (dist/index.js
 * and the chunks it imports statically, the wasm inlined) is what every page fetches to train and
 * predict on wasm; the optional parts (threads with dist/worker.js, webgpu, csv, storage) load on first
 * use and are reported apart. loadedGzip = coreGzip; threadsGzip = the threads part + worker (what a
 * cross-origin-isolated page adds for wasm-threads); totalGzip = everything shipped.
 */
function simdnnSizes() {
  const dist = join(root, 'dist');
  let manifest = null;
  try {
    manifest = JSON.parse(readFileSync(join(dist, 'chunks.json'), 'utf8'));
  } catch { /* a build from before the split: index.js is the whole library */ }
  const core = manifest?.core ?? ['index.js'];
  const worker = manifest?.worker ?? 'worker.js';
  const parts = Object.entries(manifest?.parts ?? {});
  const files = [...core, worker, ...parts.flatMap(([, fs]) => fs)].map((f) => ({ path: join(dist, f), kind: 'js' }));
  const m = measure(files, core.map((f) => join(dist, f)));
  const gzipOf = (fs) => m.parts.filter((p) => fs.some((f) => join(root, p.name) === join(dist, f))).reduce((s, p) => s + p.gzip, 0);
  const lazyGzip = Object.fromEntries(parts.map(([name, fs]) => [name, gzipOf(name === 'threads' ? [...fs, worker] : fs)]));
  return { ...m, coreGzip: m.loadedGzip, core: core.map((f) => `dist/${f}`), threadsGzip: lazyGzip.threads ?? gzipOf([worker]), lazyGzip };
}

/** {system: {parts, jsGzip, wasmGzip, totalGzip, loadedGzip}} in bytes (simdnn adds coreGzip, core, lazyGzip). */
export function bundleSizes() {
  const tfjs = pkg('@tensorflow/tfjs'), tfw = pkg('@tensorflow/tfjs-backend-wasm');
  return {
    // The wasm is inlined (base64) in the core, so its bytes are counted inside the JS.
    simdnn: simdnnSizes(),
    'tfjs-wasm': measure([
      { path: join(tfjs, 'dist/tf.min.js'), kind: 'js' },
      { path: join(tfw, 'dist/tf-backend-wasm.min.js'), kind: 'js' },
      { path: join(tfw, 'dist/tfjs-backend-wasm.wasm'), kind: 'wasm' },
      { path: join(tfw, 'dist/tfjs-backend-wasm-simd.wasm'), kind: 'wasm' },
      { path: join(tfw, 'dist/tfjs-backend-wasm-threaded-simd.wasm'), kind: 'wasm' },
    ], [join(tfjs, 'dist/tf.min.js'), join(tfw, 'dist/tf-backend-wasm.min.js'), join(tfw, 'dist/tfjs-backend-wasm-simd.wasm')]),
    'tfjs-cpu': measure([{ path: join(tfjs, 'dist/tf.min.js'), kind: 'js' }]),
    'brain.js': measure([{ path: join(pkg('brain.js'), 'browser.min.js'), kind: 'js' }]),
  };
}
