// `npm test`: everything, in order, with one totals line at the end.
//   1. build, if dist/index.js is missing or older than a source (src/, assembly/, build config)
//   2. unit tests: vitest (vitest.config.ts), counted through its Node API
//   3. runtime smoke suite (test/runtime/smoke.mjs) against the built dist/index.js in
//      Node, Deno and Chromium (with and without cross-origin isolation), and on the webgpu backend
//      (Node through the npm 'webgpu' package on SwiftShader, a Chromium page, Deno's navigator.gpu), and a
//      stress run of webgpu in Node (3 processes × 20 models)
// The last line printed is exactly `N passed, N failed` (`, N skipped` appended when something
// was skipped); the exit code is non-zero when anything failed or a suite could not run. The line
// before it names the Chromium the browser suites ran on (`chromium --version`).
// Env: CI (a missing chromium fails instead of skipping), CHROMIUM_PATH, SIMDNN_SKIP_BUILD=1,
// SIMDNN_DIST (bundle for the smoke suites, relative to the repo root).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webgpuEnv } from '../test/runtime/webgpu-env.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const at = (...p) => join(root, ...p);
const MARKER = '# simdnn-smoke '; // test/runtime/report.mjs
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** @type {{suite: string, passed: number, failed: number, skipped: number, note?: string, seconds?: number}[]} */
const results = [];

// Children run in their own process group so that a timeout can end a browser or worker tree
// with them; an interrupt of this script passes on to the groups it started.
const live = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const pid of live) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
    process.exit(130);
  });
}

/** Runs a child; resolves {code, out}. `tee` streams its output here too ('inherit': as is). */
function exec(cmd, args, { timeoutMs = 300_000, tee = true, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root, env: { ...process.env, ...env }, detached: true,
      stdio: tee === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid) live.add(child.pid);
    let out = '', timedOut = false;
    child.stdout?.on('data', (d) => { out += d; if (tee) process.stdout.write(d); });
    child.stderr?.on('data', (d) => { out += d; if (tee) process.stderr.write(d); });
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); live.delete(child.pid); resolve({ code: -1, out: out + String(e), error: e }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer); live.delete(child.pid);
      resolve({ code: code ?? -1, out, timedOut, signal });
    });
  });
}

const heading = (s) => console.log(`\n━━ ${s} ${'━'.repeat(Math.max(0, 70 - s.length))}`);
const secondsSince = (t0) => Math.round((performance.now() - t0) / 100) / 10;

function newestMtime(path) {
  let st;
  try { st = statSync(path); } catch { return 0; }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file shows only as the folder's mtime
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

// ── 1. build ────────────────────────────────────────────────────────────────────────────────
async function build() {
  const dist = at('dist', 'index.js');
  const sources = ['src', 'assembly', 'scripts/build.mjs', 'scripts/gen-optable.mjs', 'scripts/wasm-inline.mjs', 'asconfig.json', 'tsconfig.json'];
  const newest = Math.max(...sources.map((s) => newestMtime(at(s))));
  const built = existsSync(dist) ? statSync(dist).mtimeMs : 0;
  if (process.env.SIMDNN_SKIP_BUILD === '1') { console.log('build: skipped (SIMDNN_SKIP_BUILD=1)'); return true; }
  if (built && built >= newest) { console.log('build: dist/index.js is up to date'); return true; }
  heading(built ? 'build (dist/index.js is older than its sources)' : 'build (no dist/index.js)');
  const t0 = performance.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await exec(npm, ['run', 'build'], { tee: 'inherit', timeoutMs: 600_000 });
  const seconds = secondsSince(t0);
  if (r.code !== 0 || !existsSync(dist)) {
    results.push({ suite: 'build', passed: 0, failed: 1, skipped: 0, seconds,
      note: r.timedOut ? 'timed out' : r.code !== 0 ? `npm run build exited ${r.code}` : 'no dist/index.js' });
    return false;
  }
  console.log(`build: done in ${seconds} s`);
  return true;
}

// ── 2. vitest ───────────────────────────────────────────────────────────────────────────────
// Vitest runs in a child (this script again, with --vitest-child) through its Node API, so the
// count sees what the JSON report hides: a failing beforeAll/afterAll or a file that does not
// import fails its suite while its tests read as skipped. Each such suite counts as one failure,
// as does each unhandled error. Its normal console output goes straight to the terminal.
async function vitestChild(countsFile) {
  const { startVitest } = await import('vitest/node');
  const t = { passed: 0, failed: 0, skipped: 0, problems: [] };
  let code = 1;
  try {
    const v = await startVitest('test', [], { run: true, watch: false, passWithNoTests: true });
    const walk = (task, path) => {
      const name = path ? `${path} > ${task.name}` : task.name;
      if (task.type === 'test') {
        const st = task.result?.state;
        if (st === 'pass') t.passed++;
        else if (st === 'fail') t.failed++;
        else t.skipped++; // skip, todo, or never run
        return st === 'fail';
      }
      let childFailed = false;
      for (const c of task.tasks ?? []) childFailed = walk(c, name) || childFailed;
      // A suite's own errors: hooks, collection (a file that throws on import).
      if (task.result?.errors?.length || (task.result?.state === 'fail' && !childFailed)) {
        t.failed++;
        t.problems.push(`${name}: ${String(task.result?.errors?.[0]?.message ?? 'failed').split('\n')[0]}`);
        return true;
      }
      return childFailed;
    };
    for (const file of v?.state.getFiles() ?? []) walk(file, '');
    const unhandled = v?.state.getUnhandledErrors() ?? [];
    for (const e of unhandled) t.problems.push(`unhandled error: ${String(e?.message ?? e).split('\n')[0]}`);
    t.failed += unhandled.length;
    if (!v) { t.failed++; t.problems.push('vitest did not start'); }
    await v?.close();
    code = t.failed ? 1 : 0;
  } catch (e) {
    console.error(e);
    t.failed++; t.problems.push(`vitest: ${e?.message ?? e}`);
  }
  writeFileSync(countsFile, JSON.stringify(t));
  process.exit(code);
}

async function vitest() {
  heading('unit tests (vitest)');
  const countsFile = at('.tmp', 'vitest-counts.json');
  mkdirSync(at('.tmp'), { recursive: true });
  rmSync(countsFile, { force: true });
  const t0 = performance.now();
  const r = await exec(process.execPath, [fileURLToPath(import.meta.url), '--vitest-child', countsFile],
    { tee: 'inherit', timeoutMs: 900_000 });
  const seconds = secondsSince(t0);
  let c;
  try { c = JSON.parse(readFileSync(countsFile, 'utf8')); } catch { c = null; }
  if (!c) {
    results.push({ suite: 'vitest', passed: 0, failed: 1, skipped: 0, seconds,
      note: r.timedOut ? 'timed out' : `exited ${r.code} without counts` });
    return;
  }
  const res = { suite: 'vitest', passed: c.passed, failed: c.failed, skipped: c.skipped, seconds };
  if (c.problems.length) {
    console.log(`vitest: failures outside tests (suites, hooks, imports, unhandled errors):`);
    for (const p of c.problems) console.log(`  ${p}`);
  }
  if (c.passed + c.failed + c.skipped === 0) res.note = 'no test files';
  if (r.code !== 0 && res.failed === 0) { res.failed = 1; res.note = `vitest exited ${r.code}`; }
  results.push(res);
}

// ── 3. runtime smoke suites ─────────────────────────────────────────────────────────────────
async function smoke(suite, cmd, args, opts = {}) {
  heading(`smoke: ${suite}`);
  const t0 = performance.now();
  const r = await exec(cmd, args, { timeoutMs: 240_000, ...opts });
  const seconds = secondsSince(t0);
  const line = r.out.split('\n').reverse().find((l) => l.startsWith(MARKER));
  let counts = null;
  try { counts = line && JSON.parse(line.slice(MARKER.length)); } catch { counts = null; }
  if (!counts) {
    const why = r.error ? `could not start: ${r.error.message}` : r.timedOut ? 'timed out' : `exited ${r.code} without a result`;
    results.push({ suite, passed: 0, failed: 1, skipped: 0, note: why, seconds });
    return;
  }
  const res = { suite, passed: counts.passed, failed: counts.failed, skipped: counts.skipped ?? 0, seconds };
  if (r.code !== 0 && res.failed === 0) { res.failed = 1; res.note = `exited ${r.code}`; }
  results.push(res);
}

function denoPath() {
  const local = at('node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
  return existsSync(local) ? local : 'deno';
}

/**
 * `chromium --version`, for the log: browser suites can pass on one Chromium and fail on the next. Stdout
 * only: Debian's /usr/bin/chromium is a shell script that may print noise of its own on stderr.
 */
function chromiumVersion() {
  try {
    return execFileSync(chromiumPath, ['--version'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch (e) {
    return `unknown (${chromiumPath} --version failed: ${String(e?.message ?? e).split('\n')[0]})`;
  }
}

// ── main ────────────────────────────────────────────────────────────────────────────────────
if (process.argv[2] === '--vitest-child') await vitestChild(process.argv[3]);
const t0 = performance.now();
let chromium = null; // its --version line, once the Chromium suites run
if (await build()) {
  await vitest();
  // Plain `node`, as a user runs it (on Node 20 the runtime turns relaxed SIMD on itself).
  await smoke('node', process.execPath, [at('test', 'runtime', 'node.mjs')]);
  // The webgpu backend in Node: Dawn (npm 'webgpu') on SwiftShader's Vulkan driver from chromium, found
  // through the environment webgpu-env.mjs gives (the Vulkan loader reads it at process start). Chromium
  // and Deno run their WebGPU cases inside their own suites.
  await smoke('node-webgpu', process.execPath, [at('test', 'runtime', 'webgpu-node.mjs')], { env: webgpuEnv() });
  // Three processes × 20 models on webgpu in Node, each killed at its own time limit (webgpu-stress.mjs).
  await smoke('node-webgpu-stress', process.execPath, [at('test', 'runtime', 'webgpu-stress.mjs')], { env: webgpuEnv() });
  // Only --allow-read, as a user would run it: a bundle that reads env vars or spawns anything
  // without asking must fail here, not on the user's machine.
  const denoEnv = process.env.SIMDNN_DIST ? ['--allow-env=SIMDNN_DIST'] : [];
  await smoke('deno', denoPath(), ['run', '--allow-read', ...denoEnv, at('test', 'runtime', 'deno.mjs')]);
  if (existsSync(chromiumPath)) {
    chromium = chromiumVersion();
    console.log(`\nchromium: ${chromium} (${chromiumPath})`);
    await smoke('chromium', process.execPath, [at('test', 'runtime', 'browser.mjs')]);
    // The examples where users run simdnn: the offline web demo in Chromium and the edge handler over HTTP.
    await smoke('demo', process.execPath, [at('test', 'demo', 'run.mjs')]);
  } else if (inCI) {
    heading('smoke: chromium');
    console.error(`chromium not found at ${chromiumPath}: required when CI is set (apt-get install chromium, or set CHROMIUM_PATH)`);
    results.push({ suite: 'chromium', passed: 0, failed: 1, skipped: 0, note: `chromium not found at ${chromiumPath}` });
  } else {
    heading('smoke: chromium');
    console.log(`skipped: chromium not found at ${chromiumPath} (set CHROMIUM_PATH; with CI set this fails)`);
    results.push({ suite: 'chromium', passed: 0, failed: 0, skipped: 1, note: `skipped: chromium not found at ${chromiumPath}` });
  }
}

heading(`summary (${secondsSince(t0)} s)`);
const width = Math.max(...results.map((r) => r.suite.length));
const total = { passed: 0, failed: 0, skipped: 0 };
for (const r of results) {
  total.passed += r.passed; total.failed += r.failed; total.skipped += r.skipped;
  const counts = `${r.passed} passed, ${r.failed} failed` + (r.skipped ? `, ${r.skipped} skipped` : '');
  const mark = r.failed ? 'FAIL' : !r.passed && r.skipped ? 'skip' : 'ok  ';
  console.log(`${mark} ${r.suite.padEnd(width)}  ${counts}${r.seconds !== undefined ? `  (${r.seconds} s)` : ''}${r.note ? `  — ${r.note}` : ''}`);
}
if (chromium) console.log(`chromium: ${chromium}`);
console.log(`${total.passed} passed, ${total.failed} failed` + (total.skipped ? `, ${total.skipped} skipped` : ''));
process.exitCode = total.failed > 0 ? 1 : 0;
