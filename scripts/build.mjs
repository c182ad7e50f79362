// Builds the package: AssemblyScript kernels → build/*.wasm (the core module and the relaxed-SIMD gemm
// module, see asconfig.json and assembly/ABI.md), copied to dist/kernels.wasm and
// dist/kernels-relaxed-gemm.wasm (read beside the bundle where files can be read, and exported as
// simdnn/kernels.wasm for runtimes that take precompiled modules); esbuild → dist/index.js (an ESM
// bundle split into the core and optional parts loaded on first use, the wasm inlined in two of them;
// dist/chunks.json lists the files) and dist/worker.js, tsc → dist/types/*.d.ts. Reproducible from the
// repository alone.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { generate as generateOpCodes } from './gen-optable.mjs';
import { wasmInline } from './wasm-inline.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const t0 = performance.now();

// assembly/codes.ts is generated from the op table (src/core/optable.ts) first; it is rewritten only when
// its text changes, so an unchanged table does not make the kernels stale.
if (await generateOpCodes(root)) console.log('build: assembly/codes.ts generated from src/core/optable.ts');

// The kernel modules are independent: compile them side by side (asc is single-threaded), and skip
// them when every build/*.wasm is newer than assembly/ and asconfig.json. Each target in asconfig.json
// names its entry file (`entry`, a key of ours that asc ignores): the core is assembly/index.ts, the
// relaxed gemm assembly/gemm-relaxed.ts. The shared-memory variants the threads backend needs are not
// built: the loader derives them from these bytes (src/backend/wasm/patch.ts).
const ascTargets = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')).targets;
const targets = Object.keys(ascTargets);
mkdirSync(join(root, 'build'), { recursive: true });
const newest = Math.max(statSync(join(root, 'asconfig.json')).mtimeMs, ...readdirSync(join(root, 'assembly')).map((f) => statSync(join(root, 'assembly', f)).mtimeMs));
const stale = targets.filter((t) => {
  const out = join(root, ascTargets[t].outFile);
  return !existsSync(out) || statSync(out).mtimeMs < newest;
});
const asc = (target) =>
  new Promise((resolve, reject) =>
    execFile(bin('asc'), [ascTargets[target].entry, '--target', target], { cwd: root }, (err, stdout, stderr) => {
      process.stdout.write(stdout);
      process.stderr.write(stderr);
      if (err) reject(new Error(`asc --target ${target} failed`));
      else resolve();
    }),
  );
await Promise.all(stale.map(asc));
if (!stale.length) console.log('build: kernels up to date (build/*.wasm newer than assembly/)');

rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });
// The kernel modules as files, under the names src/backend/wasm/binaries.ts (MODULE_FILES) reads.
const WASM_FILES = { simd: 'kernels.wasm', 'relaxed-gemm': 'kernels-relaxed-gemm.wasm' };
for (const t of targets) {
  if (!WASM_FILES[t]) throw new Error(`build: asconfig.json target '${t}' has no file name in dist/ (WASM_FILES)`);
  copyFileSync(join(root, ascTargets[t].outFile), join(root, 'dist', WASM_FILES[t]));
}
const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  plugins: [wasmInline()], // build/*.wasm → a string decoded at init (scripts/wasm-inline.mjs)
  charset: 'utf8', // keeps that string's characters raw (as \u escapes it would be 3–4× larger)
  external: ['node:*'],
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};
// The library, split: dist/index.js re-exports the core (one shared chunk, dist/chunk-<hash>.js), and
// each optional part behind a dynamic import() in src/runtime/lazy.ts (the files of src/runtime/parts/)
// is a file of its own, fetched on first use. Every chunk sits beside index.js and worker.js, so
// `new URL('./worker.js', import.meta.url)` still finds the worker from whichever chunk holds the
// threads code.
//
// One core chunk: esbuild puts a module in a shared chunk keyed by the set of entries that reach it, so
// a part reaching only some of the core would split the core into several small files by which part
// uses what. This plugin makes every part import the whole library (for no binding; nothing runs twice,
// it is the same module), so the core lands in one file.
const PARTS_DIR = join(root, 'src', 'runtime', 'parts');
const onePartCore = {
  name: 'simdnn-one-core-chunk',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]runtime[\\/]parts[\\/]\w+\.ts$/ }, (args) => {
      if (dirname(args.path) !== PARTS_DIR) return null;
      const source = readFileSync(args.path, 'utf8');
      return { contents: `import ${JSON.stringify(join(root, 'src', 'index.ts'))};\n${source}`, loader: 'ts', resolveDir: PARTS_DIR };
    });
  },
};
// papaparse is CommonJS: esbuild turns `import Papa from …` into a call at the importer's top level that
// runs papaparse's whole factory, i.e. at `import 'simdnn'` (src/data/csv.ts is in the core), though only
// the CSV functions use it: ~1 ms of every import (the fastest of 15 imports each way, 2-core EPYC). This plugin stands a proxy in for the
// default import that runs the factory on first use (Papa.parse is all the sources call). Only the
// bundle gets it; vitest runs the sources as written.
const lazyPapaparse = {
  name: 'simdnn-lazy-papaparse',
  setup(b) {
    b.onResolve({ filter: /^papaparse\/papaparse\.min\.js$/ }, (args) => (args.kind === 'import-statement' ? { path: 'papaparse', namespace: 'simdnn-lazy-cjs' } : null));
    b.onLoad({ filter: /.*/, namespace: 'simdnn-lazy-cjs' }, () => ({
      contents:
        "let papa = null;\n" +
        "const load = () => (papa ??= require('papaparse/papaparse.min.js'));\n" +
        "export default new Proxy({}, { get: (_, key) => { const v = load()[key]; return typeof v === 'function' ? v.bind(load()) : v; }, has: (_, key) => key in load() });\n",
      resolveDir: root,
      loader: 'js',
    }));
  },
};
const lib = await esbuild.build({
  ...common, plugins: [...common.plugins, onePartCore, lazyPapaparse], entryPoints: { index: join(root, 'src/index.ts') }, outdir: join(root, 'dist'),
  splitting: true, chunkNames: '[name]-[hash]', metafile: true, absWorkingDir: root,
});
const manifest = chunkManifest(lib.metafile);
writeFileSync(join(root, 'dist', 'chunks.json'), `${JSON.stringify(manifest, null, 1)}\n`);
await esbuild.build({ ...common, entryPoints: { worker: join(root, 'src/backend/threads/worker.ts') }, outdir: join(root, 'dist') });
// The CLI (bin/simdnn.mjs runs it): Node only. The library stays external, imported from ./index.js
// at run time, so the CLI adds no second copy of the runtime and shares it with the importer's.
const libraryEntry = join(root, 'src', 'index.ts');
const libraryExternal = {
  name: 'simdnn-library-external',
  setup(b) {
    b.onResolve({ filter: /(^|\/)index(\.js|\.ts)?$/ }, (args) => {
      if (!args.importer.startsWith(join(root, 'src'))) return null;
      const target = join(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      return target === libraryEntry || target === libraryEntry.replace(/\.ts$/, '') ? { path: './index.js', external: true } : null;
    });
  },
};
await esbuild.build({
  ...common, platform: 'node', plugins: [libraryExternal],
  entryPoints: { cli: join(root, 'src/cli.ts') }, outdir: join(root, 'dist'),
});

/**
 * dist/chunks.json: which files a page loads. `core`: dist/index.js and the chunks it imports statically
 * (all fetched when simdnn is imported), then the 'kernels' and 'gemm' parts, the inlined kernel modules
 * that init() loads wherever it cannot read `wasm` (every page that runs the wasm backends needs them);
 * `worker`: the wasm-threads worker script; `parts`: each optional part (named after its entry in
 * src/runtime/parts/) and the files it adds to the core; `wasm`: the kernel modules as files. Service
 * workers and tools read it instead of guessing hashed names (examples/web/sw.js, bench/lib/bundle.mjs).
 */
function chunkManifest(meta) {
  const dist = join(root, 'dist');
  const name = (out) => relative(dist, join(root, out)).split(sep).join('/');
  const outputs = Object.fromEntries(Object.entries(meta.outputs).filter(([f]) => f.endsWith('.js')).map(([f, o]) => [name(f), o]));
  const closure = (start, have = new Set()) => {
    const seen = new Set();
    const walk = (f) => {
      if (seen.has(f) || have.has(f)) return;
      seen.add(f);
      for (const i of outputs[f].imports) if (i.kind === 'import-statement' && !i.external) walk(name(i.path));
    };
    walk(start);
    return [...seen];
  };
  const core = closure('index.js');
  const parts = {};
  for (const [f, o] of Object.entries(outputs)) {
    const m = o.entryPoint?.match(/^src\/runtime\/parts\/(\w+)\.ts$/);
    if (m) parts[m[1]] = closure(f, new Set(core));
  }
  for (const kernels of ['kernels', 'gemm']) {
    if (!parts[kernels]) throw new Error(`build: the '${kernels}' part (src/runtime/parts/${kernels}.ts) is missing`);
    core.push(...parts[kernels]);
    delete parts[kernels];
  }
  const lazyFiles = new Set(Object.values(parts).flat());
  const stray = Object.keys(outputs).filter((f) => !core.includes(f) && !lazyFiles.has(f));
  if (stray.length) throw new Error(`build: ${stray.join(', ')} belong to neither the core nor a part in src/runtime/parts/; load optional code through src/runtime/lazy.ts`);
  return { core, worker: 'worker.js', parts, wasm: Object.values(WASM_FILES) };
}

run(bin('tsc'), ['-p', 'tsconfig.json', '--emitDeclarationOnly', '--outDir', 'dist/types']);
writeFileSync(join(root, 'dist', 'README.txt'), 'Generated by scripts/build.mjs (npm run build). Do not edit.\n');

const kb = (f) => (statSync(join(root, f)).size / 1024).toFixed(1);
const sumKb = (files) => (files.reduce((s, f) => s + statSync(join(root, 'dist', f)).size, 0) / 1024).toFixed(1);
const inlinedKernels = manifest.core.filter((f) => /^(kernels|gemm)-/.test(f));
const imported = manifest.core.filter((f) => !inlinedKernels.includes(f));
console.log(
  `build: core (dist/${imported.join(', dist/')}) ${sumKb(imported)} KiB, ` +
    `inlined kernels for runtimes without the .wasm files (dist/${inlinedKernels.join(', dist/')}) ${sumKb(inlinedKernels)} KiB, ` +
    `parts ${Object.entries(manifest.parts).map(([p, files]) => `${p} ${sumKb(files)} KiB`).join(', ')}, ` +
    `dist/worker.js ${kb('dist/worker.js')} KiB, dist/cli.js ${kb('dist/cli.js')} KiB, ` +
    `wasm ${targets.map((t) => `${t} ${kb(ascTargets[t].outFile)} KiB`).join(', ')} ` +
    `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);
