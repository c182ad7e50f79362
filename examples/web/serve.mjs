// Serves the web demo on localhost: `npm run demo:web` (after `npm run build`).
//   node examples/web/serve.mjs [--port 8080] [--host 127.0.0.1] [--no-isolation]
// The site is laid out as a static host would hold it:
//   /            examples/web/*   (the app shell, the training worker, the service worker)
//   /dist/*      dist/            (the library: index.js and its chunks, wasm inlined, the threads worker)
//   /data/*      data/            (digits.csv)
// Every response carries COOP/COEP (so the page is cross-origin isolated and may use threads) unless
// --no-isolation, which shows the single-thread fallback. sw.js is served with its VERSION set to a
// hash of the files it caches, so a rebuild of dist/ reaches an installed copy as an update.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./', import.meta.url));
const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json',
  '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.csv': 'text/csv; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
  '.wasm': 'application/wasm', '.safetensors': 'application/octet-stream',
};
// Never served: the server itself and the docs beside it.
const PRIVATE = new Set(['/serve.mjs', '/README.md']);

/** Maps a URL path to a file under one of the mounts, or null (outside them, or a private file). */
function resolvePath(site, pathname) {
  if (pathname.endsWith('/')) pathname += 'index.html';
  if (PRIVATE.has(pathname)) return null;
  for (const [prefix, dir] of site.mounts) {
    if (!pathname.startsWith(prefix)) continue;
    const file = resolve(dir, '.' + pathname.slice(prefix.length - 1));
    // resolve() has already collapsed any '..': the result must still be inside the mount.
    return (file + sep).startsWith(dir.endsWith(sep) ? dir : dir + sep) ? file : null;
  }
  return null;
}

/**
 * The files sw.js caches (its PRECACHE list), read from sw.js itself so the two never disagree. The
 * library's hashed chunks it caches are named in dist/chunks.json, which PRECACHE holds: a rebuild that
 * changes any chunk changes that file, and so the version.
 */
function precacheList(site) {
  const src = readFileSync(join(site.app, 'sw.js'), 'utf8');
  const m = src.match(/const PRECACHE = \[([\s\S]*?)\];/);
  return m ? [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]) : [];
}

/** A short hash of sw.js and every file it precaches; recomputed only when a size or mtime changes. */
function contentVersion(site) {
  const files = ['./sw.js', ...precacheList(site)].map((u) => resolvePath(site, new URL(u, 'http://x/').pathname)).filter(Boolean);
  const stats = files.map((f) => { try { const s = statSync(f); return `${f}:${s.size}:${s.mtimeMs}`; } catch { return `${f}:-`; } });
  const key = stats.join('|');
  if (key !== site.memo.key) {
    const h = createHash('sha256');
    for (const f of files) { try { h.update(readFileSync(f)); } catch { h.update('missing:' + f); } }
    site.memo = { key, version: h.digest('hex').slice(0, 12) };
  }
  return site.memo.version;
}

/**
 * Starts the server; resolves with {server, url}. `port` 0 picks a free one. `isolated` (default true)
 * adds Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy to every response. `appDir` serves
 * another copy of the app (the tests change one to see an update arrive).
 */
export function startServer({ port = 8080, host = '127.0.0.1', isolated = true, log = null, appDir = APP } = {}) {
  const app = resolve(appDir);
  const site = { app, mounts: [['/dist/', join(repo, 'dist')], ['/data/', join(repo, 'data')], ['/', app]], memo: { key: '', version: '' } };
  const server = createServer((req, res) => {
    const headers = { 'Cross-Origin-Resource-Policy': 'same-origin', 'X-Content-Type-Options': 'nosniff' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const fail = (status, text) => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text + '\n');
      log?.(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return fail(405, `method ${req.method} not allowed`);
    }
    let pathname;
    try { pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { return fail(400, 'bad URL'); }
    const file = pathname.includes('\0') ? null : resolvePath(site, pathname);
    let st = null;
    try { st = file && statSync(file); } catch { st = null; }
    if (!st || !st.isFile()) return fail(404, `not found: ${pathname}`);

    headers['Content-Type'] = MIME[extname(file)] || 'application/octet-stream';
    // Revalidate every time (cheap on localhost, and the service worker does the offline caching).
    headers['Cache-Control'] = 'no-cache';
    let body = null;
    if (file === join(app, 'sw.js')) {
      body = Buffer.from(readFileSync(file, 'utf8').replace(/const VERSION = '[^']*';/, `const VERSION = '${contentVersion(site)}';`));
      headers.ETag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    } else {
      headers.ETag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      headers['Last-Modified'] = new Date(st.mtimeMs).toUTCString();
    }
    if (req.headers['if-none-match'] === headers.ETag) {
      res.writeHead(304, headers).end();
      return;
    }
    headers['Content-Length'] = body ? body.length : st.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else if (body) res.end(body);
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
    log?.(`200 ${req.method} ${pathname}`);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const a = server.address();
      const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      ok({ server, url: `http://${shown === '0.0.0.0' || shown === '[::]' ? 'localhost' : shown}:${a.port}/` });
    });
  });
}

// ---- command line ----
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = { port: 8080, host: '127.0.0.1', isolated: true, verbose: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) { console.error(`${a} needs a value`); process.exit(2); }
      return v;
    };
    if (a === '--port' || a.startsWith('--port=')) {
      opts.port = Number(value());
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) { console.error('--port must be an integer in 0..65535'); process.exit(2); }
    } else if (a === '--host' || a.startsWith('--host=')) opts.host = value();
    else if (a === '--no-isolation') opts.isolated = false;
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node examples/web/serve.mjs [--port 8080] [--host 127.0.0.1] [--no-isolation] [--verbose]');
      process.exit(0);
    } else { console.error(`unknown argument ${a} (try --help)`); process.exit(2); }
  }
  if (!existsSync(join(repo, 'dist', 'index.js'))) {
    console.error('dist/index.js is missing: run `npm run build` first.');
    process.exit(1);
  }
  try {
    const { url } = await startServer({ ...opts, log: opts.verbose ? (l) => console.log(l) : null });
    console.log(`simdnn web demo: ${url}`);
    console.log(opts.isolated
      ? '  (served with COOP/COEP: cross-origin isolated, threads allowed)'
      : '  (served without COOP/COEP: single-thread fallback)');
    console.log('  Ctrl+C to stop');
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${opts.port} is in use: pick another with --port` : `could not start: ${e.message}`);
    process.exit(1);
  }
}
