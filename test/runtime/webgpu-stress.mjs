// Stress run of the webgpu backend in Node (Dawn from the npm 'webgpu' package), after `npm run build`:
//   node test/runtime/webgpu-stress.mjs
// Three processes, one after the other, each training 4 rounds × 5 small MLPs (sgd, sgd + nesterov,
// adam, adamw, rmsprop; 32 rows, 10 full-batch epochs) on webgpu and reading every parameter back with
// `await p.data()`. Each model's weights must match the same training on the wasm backend, its loss must
// fall, and every process must exit by itself within its time limit. The last process starts a second
// device halfway.
//
// What it guards: dawn.node crashes once the GPU object `create()` returned is garbage-collected while its
// device lives on (SIGSEGV, `pthread_mutex_lock: Assertion ... failed`, `The futex facility returned an
// unexpected error code`, or a hang; see src/backend/webgpu/device.ts and dawn-gpu-lifetime.mjs). So the
// processes pass `create([...])` to init() and keep no reference, as users write it, and run with
// --expose-gc to collect after every model: without the backend's workaround they die within the first
// model. A process that crashes or hangs is killed at its limit and counts as a failure with its signal
// and output, never as a hang of `npm test`.
//
// Needs SwiftShader's Vulkan driver in the environment (webgpu-env.mjs, as webgpu-node.mjs). Without an
// adapter it reports itself skipped, or failed when CI is set. SIMDNN_DIST=path/to/bundle.js tests another
// bundle.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MARKER, report } from './report.mjs';
import { webgpuEnv } from './webgpu-env.mjs';

const suite = 'node-webgpu-stress';
const PROCESSES = 3, ROUNDS = 4;
/** Per process: a healthy one takes ~5 s on 2 busy cores (Dawn start, pipeline compile, 20 models). */
const LIMIT_MS = 45_000;
const RESULT = '# stress-model ';
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const root = fileURLToPath(new URL('../../', import.meta.url));

const OPTIMIZERS = {
  sgd: (o) => o.sgd({ lr: 0.1 }),
  nesterov: (o) => o.sgd({ lr: 0.1, momentum: 0.9, nesterov: true }),
  adam: (o) => o.adam({ lr: 0.01 }),
  adamw: (o) => o.adamw({ lr: 0.01, weightDecay: 0.01 }),
  rmsprop: (o) => o.rmsprop({ lr: 0.01 }),
};

// Weights: |webgpu − wasm| ≤ 1e-4·max(1, |wasm|), the smoke suite's tolerance for float32 results computed
// in another order. Ten steps of a 4-16-1 MLP carry float32 rounding of a few ulp per step (seen: ≤ 4e-7);
// a wrong or skipped optimizer step moves a weight by ~lr·|g|, 1e-3 or more.
const RTOL = 1e-4;
// The first epoch's loss (before any step) as webgpu.test.ts checks it against the js backend.
const LOSS0_RTOL = 1e-4;

async function child(index) {
  const sn = await import(pathToFileURL(resolve(root, process.env.SIMDNN_DIST || 'dist/index.js')).href);
  const { create } = await import('webgpu');
  const say = (o) => console.log(RESULT + JSON.stringify(o));
  // A regression task with a per-process seed: x in [-0.5, 0.5)^4, y = x0 + 2·x1 − x2·x3.
  let s = 7 + 1000 * index;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const rows = 32;
  const x = Array.from({ length: rows }, () => [r(), r(), r(), r()]);
  const y = x.map((v) => [v[0] + 2 * v[1] - v[2] * v[3]]);
  const train = async (name) => {
    const model = sn.mlp([4, 16, 1], { seed: 1 + index });
    const optimizer = OPTIMIZERS[name](sn.optimizers);
    const h = await model.fit(x, y, { loss: 'mse', optimizer, epochs: 10, batchSize: rows, seed: 1 });
    const weights = [];
    for (const p of model.parameters()) weights.push(await p.data());
    optimizer.dispose();
    model.dispose();
    return { loss: h.loss, weights };
  };

  await sn.init({ backend: 'wasm' });
  const want = {};
  for (const name of Object.keys(OPTIMIZERS)) want[name] = await train(name);

  // No reference to the GPU object stays here: the backend must hold it (see the header).
  const startGpu = () => sn.init({ backend: 'auto', webgpu: true, gpu: create(['enable-dawn-features=disable_workgroup_init']) });
  const info = await startGpu();
  if (info.backend !== 'webgpu') {
    say({ noAdapter: info.notes.find((n) => n.startsWith('webgpu')) ?? `init chose ${info.backend}` });
    return;
  }
  for (let round = 0; round < ROUNDS; round++) {
    // The last process replaces its device halfway (a second GPU object and device; the first device is
    // destroyed and its objects left to the collector).
    if (index === PROCESSES - 1 && round === ROUNDS / 2) {
      const again = await startGpu();
      if (again.backend !== 'webgpu') throw new Error(`the second init() did not start webgpu: ${again.notes.join('; ')}`);
    }
    for (const name of Object.keys(OPTIMIZERS)) {
      const got = await train(name), ref = want[name];
      const problems = [];
      let worst = 0;
      got.weights.forEach((w, i) => {
        if (w.length !== ref.weights[i].length) problems.push(`parameter ${i} has ${w.length} values, want ${ref.weights[i].length}`);
        else w.forEach((v, j) => {
          const err = Math.abs(v - ref.weights[i][j]) / Math.max(1, Math.abs(ref.weights[i][j]));
          if (!(err <= RTOL)) problems.push(`parameter ${i}[${j}] is ${v}, wasm ${ref.weights[i][j]}`); // also NaN
          else worst = Math.max(worst, err);
        });
      });
      const l0 = got.loss[0], l1 = got.loss.at(-1);
      if (!(l1 < l0)) problems.push(`the loss did not fall (${l0} → ${l1})`);
      if (!(Math.abs(l0 - ref.loss[0]) <= LOSS0_RTOL * Math.max(1, ref.loss[0]))) problems.push(`first loss ${l0}, wasm ${ref.loss[0]}`);
      say({ name: `process ${index + 1}, round ${round + 1}: ${name}`, ok: problems.length === 0, problem: problems.slice(0, 3).join('; '), worst, loss: [l0, l1] });
      globalThis.gc?.();
    }
  }
  sn.shutdown();
  globalThis.gc?.();
  say({ done: true });
}

/** Runs one child to its end or its limit: { code, signal, timedOut, out }. */
function runChild(index) {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(index)], {
      cwd: root, env: { ...process.env, ...webgpuEnv() }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', timedOut = false;
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, LIMIT_MS);
    p.on('close', (code, signal) => { clearTimeout(timer); done({ code, signal, timedOut, out }); });
    p.on('error', (e) => { clearTimeout(timer); done({ code: -1, signal: null, timedOut: false, out: out + String(e) }); });
  });
}

async function parent() {
  const r = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const models = Object.keys(OPTIMIZERS).length * ROUNDS;
  for (let i = 0; i < PROCESSES; i++) {
    const t0 = performance.now();
    const c = await runChild(i);
    const ms = performance.now() - t0;
    const lines = c.out.split('\n').filter((l) => l.startsWith(RESULT)).map((l) => JSON.parse(l.slice(RESULT.length)));
    const skip = lines.find((l) => l.noAdapter);
    if (skip) {
      const why = `no WebGPU adapter: ${skip.noAdapter} (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`;
      console.log(`${suite}: ${why}`);
      if (inCI) { r.failed++; r.failures.push({ name: 'adapter', message: why }); }
      else r.skipped++;
      break;
    }
    let ran = 0, worst = 0;
    for (const l of lines.filter((l) => l.name)) {
      ran++;
      worst = Math.max(worst, l.worst);
      if (l.ok) r.passed++;
      else { r.failed++; r.failures.push({ name: l.name, message: l.problem }); console.log(`not ok - ${l.name}: ${l.problem}`); }
    }
    const finished = lines.some((l) => l.done) && c.code === 0 && !c.timedOut;
    console.log(`# process ${i + 1}: ${ran} of ${models} models in ${(ms / 1000).toFixed(1)} s, largest relative difference from wasm ${worst.toExponential(1)}` +
      (finished ? '' : `; ${c.timedOut ? `killed after ${LIMIT_MS / 1000} s (hung)` : `exited with ${c.signal ?? `code ${c.code}`}`}`));
    if (!finished) {
      const tail = c.out.split('\n').filter((l) => l && !l.startsWith(RESULT)).slice(-6).join(' | ');
      r.failed++;
      r.failures.push({ name: `process ${i + 1}`, message: `${c.timedOut ? `hung: killed after ${LIMIT_MS / 1000} s` : `died (${c.signal ?? `exit code ${c.code}`})`} after ${ran} of ${models} models; last output: ${tail || '(none)'}` });
      console.log(`not ok - process ${i + 1}: ${r.failures.at(-1).message}`);
    } else if (ran !== models) {
      r.failed++;
      r.failures.push({ name: `process ${i + 1}`, message: `reported ${ran} of ${models} models` });
    }
  }
  if (r.skipped && !r.failed) {
    console.log(`# ${suite}: skipped`);
    console.log(MARKER + JSON.stringify({ suite, passed: 0, failed: 0, skipped: 1 }));
    return 0;
  }
  return report(suite, r);
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]));
} else process.exit(await parent());
