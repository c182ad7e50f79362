// Cold start: the time from launching a process to its exit, for a process that imports a library,
// initialises it, builds the 784-512-256-10 model and predicts one row (what a serverless or edge
// function pays on every cold start).
//
//   node bench/lib/cold.mjs <peer> <variant>   one launch (bench/run.mjs times these): prints the
//                                              process's CPU ms and its phases as JSON on stderr
//   node bench/lib/cold.mjs [--runs=N] [--only=id,…] [--baseline=DIR]
//                                              the cold-start bench on its own: N launches of each
//                                              system (default 9), interleaved, medians; bare node and
//                                              the harness without a library measured in the same run
//
// Systems: node (bare `node -e 0`), harness (this script and the peer module, no library: Node's ESM
// loader and the harness itself), simdnn-auto (init()), simdnn-wasm (init({backend: 'wasm'})),
// simdnn-load (init({backend: 'wasm'}), then load() of that model saved to a file instead of mlp(): what
// an edge function does), tfjs-wasm; with --baseline=DIR also base-auto, base-wasm and base-load
// (DIR/dist/index.js, e.g. a worktree of an older commit).
//
// Phases, from inside each launch (ms since the process started, performance.timeOrigin): `node`
// until this script runs, `harness` until the peer module is loaded, then import, init (of which: wasm compile and instantiate, timed by wrapping
// the WebAssembly API in this process, not inside the library), build, predict; `exit` is the rest of
// the wall time measured from outside (process teardown, and for simdnn-auto any worker it started).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);

if (args.length >= 2 && !args[0].startsWith('--')) await launch(args[0], args[1]);
else await bench();

/** One launch: `peer` is a module of bench/peers/; variant '-' loads it and runs nothing (the harness alone). */
async function launch(peer, variant) {
  const marks = { node: performance.now() };
  const wasm = { compile: 0, instantiate: 0 };
  // Time the WebAssembly API calls the library makes (sync and async forms).
  const wrap = (obj, key, kind, ctor = false) => {
    const f = obj[key];
    if (typeof f !== 'function') return;
    const timed = ctor
      ? new Proxy(f, { construct(t, a) { const s = performance.now(); try { return Reflect.construct(t, a); } finally { wasm[kind] += performance.now() - s; } } })
      : function (...a) {
          const s = performance.now();
          const r = f.apply(this, a);
          if (r && typeof r.then === 'function') return r.finally(() => (wasm[kind] += performance.now() - s));
          wasm[kind] += performance.now() - s;
          return r;
        };
    obj[key] = timed;
  };
  wrap(WebAssembly, 'compile', 'compile');
  wrap(WebAssembly, 'compileStreaming', 'compile');
  wrap(WebAssembly, 'Module', 'compile', true);
  wrap(WebAssembly, 'instantiate', 'instantiate');
  wrap(WebAssembly, 'Instance', 'instantiate', true);
  const mark = (name) => (marks[name] = performance.now());
  const { coldStart } = peer === 'simdnn-load' ? { coldStart: loadStart } : await import(`../peers/${peer}.mjs`);
  mark('ready');
  if (variant !== '-') {
    const n = await coldStart(variant, mark);
    if (n !== 10) throw new Error(`cold start of ${peer} ${variant}: expected 10 outputs, got ${n}`);
  }
  mark('end');
  // CPU time of the whole process (all its threads): steadier than wall time on a busy machine.
  const u = process.cpuUsage();
  process.stderr.write(`\n${JSON.stringify({ cpuMs: (u.user + u.system) / 1000, marks, wasm })}\n`);
  process.exit(0);
}

/** simdnn-load: the saved model (SIMDNN_COLD_MODEL) loaded from its file and asked for one row. */
async function loadStart(variant, mark) {
  const s = await import(process.env.SIMDNN_BENCH_DIST || fileURLToPath(new URL('../../dist/index.js', import.meta.url)));
  mark('import');
  await s.init({ backend: variant });
  mark('init');
  const model = s.loadBytes(readFileSync(process.env.SIMDNN_COLD_MODEL));
  mark('build');
  const out = model.predict(new Float32Array(784).fill(0.5)).dataSync();
  mark('predict');
  s.shutdown();
  return out.length;
}

/** The 784-512-256-10 model saved to a file (for simdnn-load); returns its path and a cleanup. */
async function savedModel() {
  const s = await import(fileURLToPath(new URL('../../dist/index.js', import.meta.url)));
  await s.init({ backend: 'wasm' });
  const model = s.mlp([784, 512, 256, 10], { seed: 0 });
  const dir = mkdtempSync(join(os.tmpdir(), 'simdnn-cold-'));
  const file = join(dir, 'mlp.safetensors');
  writeFileSync(file, s.save(model));
  model.dispose();
  s.shutdown();
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function bench() {
  const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const runs = Number(opt('runs') ?? 9);
  const only = opt('only')?.split(',');
  const baseline = opt('baseline');
  const self = fileURLToPath(import.meta.url);
  const systems = [
    { id: 'node', args: ['-e', '0'] },
    { id: 'harness', args: [self, 'simdnn', '-'] },
    { id: 'simdnn-auto', args: [self, 'simdnn', 'auto'] },
    { id: 'simdnn-wasm', args: [self, 'simdnn', 'wasm'] },
    { id: 'simdnn-load', args: [self, 'simdnn-load', 'wasm'] },
    { id: 'tfjs-wasm', args: [self, 'tfjs', 'wasm'] },
  ];
  if (baseline) {
    const dist = baseline.endsWith('.js') ? baseline : join(baseline, 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`--baseline: ${dist} does not exist (build that checkout first)`);
    const env = { SIMDNN_BENCH_DIST: dist };
    systems.splice(2, 0, { id: 'base-auto', args: [self, 'simdnn', 'auto'], env }, { id: 'base-wasm', args: [self, 'simdnn', 'wasm'], env }, { id: 'base-load', args: [self, 'simdnn-load', 'wasm'], env });
  }
  const chosen = systems.filter((s) => !only || only.includes(s.id) || s.id === 'node' || s.id === 'harness');
  const model = chosen.some((s) => s.args[1] === 'simdnn-load') ? await savedModel() : null;
  for (const s of chosen) s.env = { ...s.env, SIMDNN_COLD_MODEL: model?.file ?? '' };
  const load0 = os.loadavg()[0];
  const rows = Object.fromEntries(chosen.map((s) => [s.id, { wall: [], cpu: [], phases: [] }]));
  process.stderr.write(`cold start: ${runs} launches of each of ${chosen.map((s) => s.id).join(', ')}, interleaved\n`);
  for (let i = 0; i < runs; i++)
    for (const s of chosen) {
      const t = performance.now();
      const r = spawnSync(process.execPath, s.args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...s.env } });
      const wall = performance.now() - t;
      if (r.status !== 0) throw new Error(`${s.id} failed: ${r.stderr.toString().trim().split('\n').slice(-3).join(' | ')}`);
      const row = rows[s.id];
      row.wall.push(wall);
      const last = r.stderr.toString().trim().split('\n').pop();
      if (last?.startsWith('{')) {
        const o = JSON.parse(last);
        row.cpu.push(o.cpuMs);
        row.phases.push(phases(o, wall));
      }
    }
  const load1 = os.loadavg()[0];
  model?.done();
  const bare = median(rows.node.wall), harness = median(rows.harness.wall);
  const names = ['node', 'harness', 'import', 'init', '  compile', '  instantiate', 'build', 'predict', 'exit'];
  // build: mlp() (simdnn-load: load() of the saved file; tfjs: the layers model)
  const cols = chosen.map((s) => s.id);
  const pad = (v, w = 12) => String(v).padStart(w);
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(1) : '—');
  const lines = [`${'ms (median)'.padEnd(22)}${cols.map((c) => pad(c)).join('')}`];
  const row = (label, f) => lines.push(`${label.padEnd(22)}${cols.map((c) => pad(fmt(f(rows[c])))).join('')}`);
  row('wall, whole process', (r) => median(r.wall));
  row('  over bare node', (r) => median(r.wall) - bare);
  row('  over the harness', (r) => median(r.wall) - harness);
  // The fastest launch of each is the closest to an idle machine's figure when others load it.
  row('wall, fastest launch', (r) => Math.min(...r.wall));
  row('  over the fastest harness', (r) => Math.min(...r.wall) - Math.min(...rows.harness.wall));
  row('CPU, whole process', (r) => median(r.cpu));
  lines.push('phases (inside the process)');
  for (const n of names) row(`  ${n}`, (r) => median(r.phases.map((p) => p[n.trim()])));
  console.log(lines.join('\n'));
  console.log(`\n${runs} launches each; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${os.availableParallelism?.() ?? os.cpus().length} cores; Node ${process.version}`);
  if (Math.max(load0, load1) > (os.availableParallelism?.() ?? 2) * 0.75) console.log('the machine was busy: the wall figures carry its load; compare columns, not runs');
}

/** Phase durations of one launch from its marks (ms since process start) and the wall time measured outside. */
function phases({ marks: m, wasm }, wall) {
  const at = (k) => m[k];
  const span = (a, b) => (at(a) !== undefined && at(b) !== undefined ? at(b) - at(a) : NaN);
  return {
    node: m.node,
    harness: span('node', 'ready'),
    import: span('ready', 'import'),
    init: span(m.import !== undefined ? 'import' : 'ready', 'init'), // tfjs: import and init together
    compile: wasm.compile,
    instantiate: wasm.instantiate,
    build: span('init', 'build'),
    predict: span('build', 'predict'),
    exit: wall - m.end,
  };
}
