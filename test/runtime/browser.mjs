// Chromium runner for the runtime smoke suite (after `npm run build`): `node test/runtime/browser.mjs`.
// Serves the repo root on 127.0.0.1 twice (two origins): once with COOP/COEP (cross-origin
// isolated: SharedArrayBuffer, threads) and once without (the runtime must fall back and say so),
// and runs test/runtime/index.html in each with the Debian chromium through playwright-core, then once
// more on the isolated origin with ?webgpu=1: the webgpu backend on SwiftShader (test/runtime/webgpu.mjs).
// Env: CHROMIUM_PATH (default /usr/bin/chromium), SIMDNN_DIST (bundle to test, relative to the
// repo root), SMOKE_TIMEOUT_MS (per page, default 120000).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { report } from './report.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const timeout = Number(process.env.SMOKE_TIMEOUT_MS || 120_000);
const dist = '/' + (process.env.SIMDNN_DIST || 'dist/index.js').replace(/^\.?\//, '');
// WebGPU: --enable-unsafe-webgpu gives a software adapter (SwiftShader) without a GPU. Dawn's zero-init of
// workgroup memory is turned off: SwiftShader compiles it slowly (seconds per kernel), and simdnn's kernels
// never read workgroup memory before writing it (src/backend/webgpu/kernels.ts).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--enable-dawn-features=disable_workgroup_init'];

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json',
  '.map': 'application/json', '.css': 'text/css', '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv', '.safetensors': 'application/octet-stream',
};

/** Static server over the repo root; `isolated` adds COOP/COEP to every response (workers too). */
function serve(isolated) {
  const server = createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    let path;
    try { path = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { path = null; }
    const file = path && resolve(root, '.' + path);
    if (!file || !(file + sep).startsWith(root)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    let st;
    try { st = statSync(file); } catch { st = null; }
    if (!st || !st.isFile() || req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found: ' + path);
      return;
    }
    headers['Content-Type'] = MIME[extname(file)] || 'application/octet-stream';
    headers['Content-Length'] = st.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

async function runPage(context, server, isolated, webgpu = false) {
  const tag = webgpu ? 'chromium webgpu' : isolated ? 'chromium' : 'chromium (no COOP/COEP)';
  const page = await context.newPage();
  const pageErrors = [];
  page.on('console', (m) => {
    const t = m.type();
    if (t === 'error') { console.error(`[${tag}] console.error: ${m.text()}`); }
    else if (t === 'warning') console.error(`[${tag}] console.warn: ${m.text()}`);
    else console.log(m.text().split('\n').map((l) => `[${tag}] ${l}`).join('\n'));
  });
  page.on('pageerror', (e) => { pageErrors.push(String(e)); console.error(`[${tag}] page error: ${e.stack || e}`); });
  page.on('requestfailed', (r) => console.error(`[${tag}] request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) console.error(`[${tag}] HTTP ${r.status()} ${r.url()}`); });
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/test/runtime/index.html?coi=${isolated ? 1 : 0}${webgpu ? '&webgpu=1' : ''}&dist=${encodeURIComponent(dist)}`;
  console.log(`# ${tag}: ${url}`);
  let r;
  try {
    await page.goto(url, { timeout });
    const handle = await page.waitForFunction(() => window.__result, null, { timeout, polling: 100 });
    r = await handle.jsonValue();
  } catch (e) {
    r = { passed: 0, failed: 1, failures: [{ name: 'page', message: `no result: ${e.message.split('\n')[0]}` }] };
    console.error(`[${tag}] ${e.message}`);
  }
  // An uncaught exception (a worker's, a rejected promise nobody awaited) fails the page even
  // when every case passed: the user would see it in their console.
  if (pageErrors.length) {
    r.failed++;
    (r.failures ??= []).push({ name: 'uncaught page errors', message: pageErrors.join('\n') });
  }
  await page.close();
  r.suite = tag;
  return r;
}

let code = 1;
if (!existsSync(executablePath)) {
  console.error(`chromium not found at ${executablePath} (set CHROMIUM_PATH, or apt-get install chromium)`);
  report('chromium', { passed: 0, failed: 1, failures: [{ name: 'launch', message: 'chromium not found' }] });
  process.exit(1);
}
const servers = [];
const profile = mkdtempSync(join(tmpdir(), 'simdnn-chromium-'));
let context;
try {
  servers.push(await serve(true), await serve(false));
  context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ARGS, timeout: 60_000 });
  const pw = createRequire(import.meta.url)('playwright-core/package.json').version;
  console.log(`# browser: Chromium ${context.browser()?.version() ?? 'unknown'} (playwright-core ${pw})`);
  const results = [];
  results.push(await runPage(context, servers[0], true));
  results.push(await runPage(context, servers[1], false));
  results.push(await runPage(context, servers[0], true, true));
  const total = { passed: 0, failed: 0, failures: [] };
  for (const r of results) {
    console.log(`# ${r.suite}: ${r.passed} passed, ${r.failed} failed`);
    total.passed += r.passed; total.failed += r.failed;
    total.failures.push(...(r.failures ?? []).map((f) => ({ ...f, name: `${r.suite}: ${f.name}` })));
  }
  code = report('chromium', total);
} catch (e) {
  console.error(`chromium: could not run: ${e?.stack ?? e}`);
  code = report('chromium', { passed: 0, failed: 1, failures: [{ name: 'launch', message: String(e?.message ?? e) }] });
} finally {
  await context?.close().catch(() => {});
  for (const s of servers) s.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
