// Where a model's bytes go, in every runtime: files (Node, Deno), URLs (everywhere), IndexedDB and
// downloads (browsers). The asynchronous functions here are entry points: their work is in
// storage-impl.ts, which a page loads only when it calls one (the 'storage' part, see src/lazy.ts).
// downloadBytes is synchronous and stays here, with the helpers both files use.
import { loadStorage } from '../lazy.js';

export const g = globalThis as any;

export type Runtime = 'node' | 'deno' | 'browser' | 'other';

export function runtime(): Runtime {
  // Deno first: it also defines `process` for Node compatibility.
  if (typeof g.Deno?.version?.deno === 'string') return 'deno';
  if (typeof g.process?.versions?.node === 'string') return 'node';
  if (typeof g.document === 'object' || typeof g.WorkerGlobalScope === 'function') return 'browser';
  return 'other';
}

export function checkBytes(fn: string, bytes: unknown): asserts bytes is Uint8Array {
  if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    throw new Error(`${fn}: expected the bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes === 'object' ? Object.prototype.toString.call(bytes).slice(8, -1) : typeof bytes}.`);
  }
}

/** A buffer that structured clone and Blob take as is: a plain ArrayBuffer, not shared memory. */
export function isPlainBuffer(buf: ArrayBufferLike): buf is ArrayBuffer {
  return Object.prototype.toString.call(buf) === '[object ArrayBuffer]';
}

/**
 * Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part: the bytes
 * go to a temporary file beside the target, are flushed to disk, and the temporary file is renamed
 * over the target (atomic on POSIX, replace-on-rename on Windows). On failure the temporary file is
 * removed and the old file is left as it was. Node and Deno; in a browser it throws and says what to
 * use instead.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return (await loadStorage('writeFileAtomic')).writeFileAtomic(path, bytes);
}

/** Reads a whole file (Node, Deno). A missing file gives an error that names the path. */
export async function readFileBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  return (await loadStorage('readFileBytes')).readFileBytes(path);
}

/** Fetches a URL's body as bytes. A response other than 2xx is an error naming the status and URL. */
export async function fetchBytes(url: string | URL, init?: RequestInit): Promise<Uint8Array<ArrayBuffer>> {
  return (await loadStorage('fetchBytes')).fetchBytes(url, init);
}

// ---- IndexedDB ---------------------------------------------------------------------------------

export interface IdbOptions {
  /** Database name. Default 'simdnn'. */
  dbName?: string;
  /** Object store name. Default 'models'. */
  store?: string;
}

/**
 * Stores bytes under `key` in IndexedDB (browsers), replacing what was there in one transaction: a
 * failed save leaves the previous value in place.
 */
export async function idbSave(key: string, bytes: Uint8Array, opts: IdbOptions = {}): Promise<void> {
  return (await loadStorage('idbSave')).idbSave(key, bytes, opts);
}

/** Reads the bytes stored under `key`; a missing key is an error that lists the stored keys. */
export async function idbLoad(key: string, opts: IdbOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  return (await loadStorage('idbLoad')).idbLoad(key, opts);
}

/** Removes `key`; resolves true if something was stored under it. */
export async function idbDelete(key: string, opts: IdbOptions = {}): Promise<boolean> {
  return (await loadStorage('idbDelete')).idbDelete(key, opts);
}

/** The keys stored in the IndexedDB store, sorted. */
export async function idbList(opts: IdbOptions = {}): Promise<string[]> {
  return (await loadStorage('idbList')).idbList(opts);
}

// ---- downloads ---------------------------------------------------------------------------------

/** Offers bytes to the user as a file download (browsers: Blob, object URL, a clicked link). */
export function downloadBytes(bytes: Uint8Array, filename = 'model.safetensors'): void {
  const fn = 'downloadBytes';
  checkBytes(fn, bytes);
  if (typeof filename !== 'string' || filename === '') throw new Error(`${fn}: the filename must be a non-empty string.`);
  const doc = g.document as Document | undefined;
  if (!doc?.createElement || typeof URL.createObjectURL !== 'function') {
    const rt = runtime();
    const hint = rt === 'node' || rt === 'deno' ? '; use writeFileAtomic(path, bytes) here' : '';
    throw new Error(`${fn}: downloads need a browser page with a document (this is ${rt})${hint}.`);
  }
  // A Blob part must not be a view of shared memory; copy in that case.
  const part = (isPlainBuffer(bytes.buffer) ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
  const url = URL.createObjectURL(new Blob([part], { type: 'application/octet-stream' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  (doc.body ?? doc.documentElement).appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Revoking at once can cancel the download in some browsers; give it time to start.
    setTimeout(() => URL.revokeObjectURL(url), 40_000);
  }
}
