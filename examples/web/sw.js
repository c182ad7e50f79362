// The demo's service worker: after one visit the app, the library and the data come from a cache, so
// the page loads, trains and loads saved models (IndexedDB) with the network off.
//
// Versioning: every file below lives in one cache named after VERSION. A changed sw.js (a new
// VERSION) installs beside the running one and fills a new cache; the page then offers a reload,
// which activates it and deletes the old caches. examples/web/serve.mjs sets VERSION to a hash of
// these files when it serves sw.js, so any change (a rebuilt dist/ too) arrives as an update; on
// another static host, change VERSION by hand when you deploy.
//
// The library is split into files with hashed names (npm run build): dist/index.js, the core chunks
// it imports, and optional parts loaded on first use. dist/chunks.json lists them; install reads it
// and caches the core, the threads worker and the parts this app uses (LIBRARY_PARTS).
const VERSION = 'dev';
const PREFIX = 'simdnn-demo-';
const CACHE = PREFIX + VERSION;
const PRECACHE = [
  './',
  './index.html',
  './style.css',
  './app.js',
  './chart.js',
  './lrchart.js',
  './pad.js',
  './trainer.js',
  './manifest.webmanifest',
  './icon.svg',
  './dist/index.js',
  './dist/worker.js',
  './dist/chunks.json',
  './data/digits.csv',
];
// simdnn's optional parts the app uses: csv (data.readCsv), storage (IndexedDB save/load) and threads
// (init's 'auto' picks wasm-threads when the page is cross-origin isolated). Not webgpu: the app never
// asks for it (the fetch handler below still caches it if it ever loads).
const LIBRARY_PARTS = ['csv', 'storage', 'threads'];
const PRECACHED = new Set(PRECACHE.map((p) => new URL(p, self.registration.scope).href));
const DIST = new URL('./dist/', self.registration.scope).href;

/** The library files to cache besides PRECACHE, from dist/chunks.json (so no hashed name is written here). */
async function libraryFiles() {
  const res = await fetch('./dist/chunks.json', { cache: 'reload' });
  if (!res.ok) throw new Error(`dist/chunks.json: HTTP ${res.status} (run npm run build, and deploy all of dist/)`);
  const { core = [], worker, parts = {} } = await res.json();
  const missing = LIBRARY_PARTS.filter((p) => !parts[p]);
  if (missing.length) throw new Error(`dist/chunks.json has no part ${missing.join(', ')}: is dist/ from another simdnn version?`);
  return [...new Set([...core, ...(worker ? [worker] : []), ...LIBRARY_PARTS.flatMap((p) => parts[p])])].map((f) => './dist/' + f);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache, so a new version never stores an old copy of a file.
    const files = [...new Set([...PRECACHE, ...await libraryFiles()])];
    await cache.addAll(files.map((p) => new Request(p, { cache: 'reload' })));
    // The first install has nothing to replace: take over at once. Later versions wait for the page.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const msg = event.data ?? {};
  if (msg.type === 'skip-waiting') self.skipWaiting();
  else if (msg.type === 'version') {
    const port = event.ports[0];
    event.waitUntil(caches.open(CACHE).then((c) => c.keys()).then((keys) => port?.postMessage({ version: VERSION, files: keys.length })));
  }
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The page itself, with any query: the cached shell, so a reload works offline.
  const key = req.mode === 'navigate' && (url.pathname === new URL(self.registration.scope).pathname || url.pathname.endsWith('/index.html'))
    ? new URL('./index.html', self.registration.scope).href
    : url.origin + url.pathname;
  // The library's .js files (hashed chunk names, so a name always means the same bytes) are cached too:
  // those not precached (webgpu) on first use.
  const library = key.startsWith(DIST) && key.endsWith('.js');
  if (!PRECACHED.has(key) && !library) return; // anything else (source maps, other pages): the network as usual
  // Cache first: the cached set is one consistent version; updates come as a new service worker.
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(key);
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok) await cache.put(key, res.clone());
    return res;
  })());
});
