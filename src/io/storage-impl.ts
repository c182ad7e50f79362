// The work behind storage.ts's asynchronous functions: atomic file writes and reads (Node, Deno), URL
// fetches and IndexedDB. Loaded on first use as the 'storage' part (src/runtime/lazy.ts); storage.ts documents
// each function. No dependency; the same module loads in a browser, so Node's modules are imported
// only when needed and under a name that web bundlers cannot resolve ahead of time.
import { checkBytes, g, isPlainBuffer, runtime, type IdbOptions } from './storage.js';

function nodeModule(name: string): Promise<any> {
  // Built at run time so that Vite/webpack/esbuild leave the import alone in a browser bundle.
  const specifier = ['node', name].join(':');
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

function noFileSystem(fn: string): Error {
  return new Error(
    `${fn}: there is no file system here (${runtime()}); in a browser keep the bytes with idbSave(key, bytes) ` +
      `and read them back with idbLoad(key), save them as a download with downloadBytes(bytes, 'model.safetensors'), ` +
      'or fetch a served file with fetchBytes(url).',
  );
}

function randomSuffix(): string {
  const b = new Uint8Array(6);
  if (typeof g.crypto?.getRandomValues === 'function') g.crypto.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function checkPath(fn: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new Error(`${fn}: expected a file path (a non-empty string), got ${typeof path === 'string' ? 'an empty string' : typeof path}.`);
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fn = 'writeFileAtomic';
  checkPath(fn, path);
  checkBytes(fn, bytes);
  const rt = runtime();
  if (rt !== 'node' && rt !== 'deno') throw noFileSystem(fn);
  const target = path;
  // Same directory as the target, so that the rename never crosses file systems.
  const tmp = `${target}.tmp-${randomSuffix()}`;
  try {
    if (rt === 'deno') await denoWrite(tmp, target, bytes);
    else await nodeWrite(tmp, target, bytes);
  } catch (err) {
    throw new Error(`${fn}: could not write '${target}': ${errText(err)}; any file that was there is unchanged.`, { cause: err });
  }
}

async function nodeWrite(tmp: string, target: string, bytes: Uint8Array): Promise<void> {
  const fs = await nodeModule('fs/promises');
  let handle: any;
  try {
    // 'wx': fail rather than follow or clobber anything already at the temporary name.
    handle = await fs.open(tmp, 'wx');
    await handle.writeFile(bytes);
    // Flush before the rename: otherwise a crash can leave the new name pointing at empty blocks.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (err) {
    if (handle) await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await syncDirectory(fs, target);
}

/** Makes the rename itself durable (POSIX); directories cannot be opened this way on Windows. */
async function syncDirectory(fs: any, target: string): Promise<void> {
  let dir: any;
  try {
    const { dirname } = await nodeModule('path');
    dir = await fs.open(dirname(target), 'r');
    await dir.sync();
  } catch {
    /* best effort: the data is already in place */
  } finally {
    await dir?.close().catch(() => {});
  }
}

async function denoWrite(tmp: string, target: string, bytes: Uint8Array): Promise<void> {
  const Deno = g.Deno;
  let file: any;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true });
    // write() may write less than asked; loop until all is out.
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    if (typeof file.sync === 'function') await file.sync();
    file.close();
    file = undefined;
    await Deno.rename(tmp, target);
  } catch (err) {
    try { file?.close(); } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

export async function readFileBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const fn = 'readFileBytes';
  checkPath(fn, path);
  const rt = runtime();
  if (rt !== 'node' && rt !== 'deno') throw noFileSystem(fn);
  try {
    if (rt === 'deno') return await g.Deno.readFile(path);
    const fs = await nodeModule('fs/promises');
    const buf = await fs.readFile(path);
    // A plain Uint8Array view of the Buffer's memory: callers get one type in every runtime.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name;
    if (code === 'ENOENT' || code === 'NotFound') throw new Error(`${fn}: no file at '${path}'.`, { cause: err });
    throw new Error(`${fn}: could not read '${path}': ${errText(err)}`, { cause: err });
  }
}

export async function fetchBytes(url: string | URL, init?: RequestInit): Promise<Uint8Array<ArrayBuffer>> {
  const fn = 'fetchBytes';
  if (typeof g.fetch !== 'function') throw new Error(`${fn}: this runtime has no fetch().`);
  const href = typeof url === 'string' ? url : url?.href;
  let res: Response;
  try {
    res = await g.fetch(url, init);
  } catch (err) {
    throw new Error(`${fn}: could not fetch ${href}: ${errText(err)} (offline, wrong address, or blocked by CORS?)`, { cause: err });
  }
  if (!res.ok) {
    throw new Error(`${fn}: ${res.url || href} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; expected the model file's bytes.`);
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new Error(`${fn}: the download of ${href} broke off: ${errText(err)}`, { cause: err });
  }
}

function idbFactory(fn: string): IDBFactory {
  const idb = g.indexedDB as IDBFactory | undefined;
  if (!idb) {
    const rt = runtime();
    const hint = rt === 'node' || rt === 'deno' ? '; use writeFileAtomic(path, bytes) and readFileBytes(path) here' : '';
    throw new Error(`${fn}: IndexedDB is not available in this runtime (${rt})${hint}.`);
  }
  return idb;
}

function checkKey(fn: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new Error(`${fn}: the key must be a non-empty string, got ${typeof key === 'string' ? 'an empty string' : typeof key}.`);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Opens the database with the store in it, adding the store (a version upgrade) if it is missing. */
function openDb(fn: string, dbName: string, store: string, version?: number): Promise<IDBDatabase> {
  const idb = idbFactory(fn);
  return new Promise<IDBDatabase>((resolve, reject) => {
    const req = version === undefined ? idb.open(dbName) : idb.open(dbName, version);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    };
    req.onblocked = () => {
      reject(new Error(`${fn}: IndexedDB database '${dbName}' is held open by another tab at an older version; close other tabs of this app and try again.`));
    };
    req.onerror = () => reject(new Error(`${fn}: could not open IndexedDB database '${dbName}': ${req.error?.message ?? 'unknown error'}`, { cause: req.error }));
    req.onsuccess = () => {
      const db = req.result;
      // Let other tabs upgrade the database instead of blocking them forever.
      db.onversionchange = () => db.close();
      if (db.objectStoreNames.contains(store)) return resolve(db);
      const next = db.version + 1;
      db.close();
      openDb(fn, dbName, store, next).then(resolve, reject);
    };
  });
}

/** Runs one transaction on the store and resolves with `body`'s result once it has committed. */
async function withStore<T>(
  fn: string,
  opts: IdbOptions,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => Promise<T> | T,
): Promise<T> {
  const dbName = opts.dbName ?? 'simdnn';
  const storeName = opts.store ?? 'models';
  const db = await openDb(fn, dbName, storeName);
  try {
    // 'strict': the write is on disk when the promise resolves (browsers without the option ignore it).
    const tx = db.transaction(storeName, mode, { durability: 'strict' });
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
    });
    // Keep a rejection of `done` from going unhandled while `body` is still running.
    done.catch(() => {});
    const result = await body(tx.objectStore(storeName));
    await done;
    return result;
  } catch (err) {
    const e = err as DOMException;
    const quota = e?.name === 'QuotaExceededError' ? ' (the browser\'s storage quota is full: delete old models with idbDelete, or ask for navigator.storage.persist())' : '';
    throw new Error(`${fn}: IndexedDB '${dbName}/${storeName}' failed: ${e?.message ?? String(err)}${quota}`, { cause: err });
  } finally {
    db.close();
  }
}

export async function idbSave(key: string, bytes: Uint8Array, opts: IdbOptions = {}): Promise<void> {
  const fn = 'idbSave';
  checkKey(fn, key);
  checkBytes(fn, bytes);
  // Structured clone copies a view's whole buffer; store exactly these bytes in a buffer of their own.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && isPlainBuffer(bytes.buffer)
    ? bytes
    : bytes.slice();
  await withStore(fn, opts, 'readwrite', (store) => {
    store.put(own, key);
  });
}

export async function idbLoad(key: string, opts: IdbOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const fn = 'idbLoad';
  checkKey(fn, key);
  const { value, keys } = await withStore(fn, opts, 'readonly', async (store) => {
    const value = await request(store.get(key));
    const keys = value === undefined ? await request(store.getAllKeys()) : [];
    return { value: value as unknown, keys };
  });
  if (value === undefined) {
    const names = keys.filter((k): k is string => typeof k === 'string');
    const have = names.length ? `it holds ${names.slice(0, 20).map((k) => `'${k}'`).join(', ')}${names.length > 20 ? ', …' : ''}` : 'it is empty';
    throw new Error(`${fn}: nothing is stored under '${key}' in IndexedDB '${opts.dbName ?? 'simdnn'}/${opts.store ?? 'models'}'; ${have}.`);
  }
  const brand = Object.prototype.toString.call(value);
  if (brand === '[object Uint8Array]') return value as Uint8Array<ArrayBuffer>;
  if (brand === '[object ArrayBuffer]') return new Uint8Array(value as ArrayBuffer);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer);
  if (typeof Blob === 'function' && value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  throw new Error(`${fn}: the value under '${key}' is a ${brand.slice(8, -1)}, not bytes; it was not stored by idbSave.`);
}

export async function idbDelete(key: string, opts: IdbOptions = {}): Promise<boolean> {
  const fn = 'idbDelete';
  checkKey(fn, key);
  return withStore(fn, opts, 'readwrite', async (store) => {
    const n = await request(store.count(key));
    store.delete(key);
    return n > 0;
  });
}

export async function idbList(opts: IdbOptions = {}): Promise<string[]> {
  const keys = await withStore('idbList', opts, 'readonly', (store) => request(store.getAllKeys()));
  return keys.filter((k): k is string => typeof k === 'string');
}

