// The entry points that read and write model files, URLs and IndexedDB. Their work is in the 'storage'
// part (io/storage-impl.ts), which a page loads only when it calls one of them; so they live here, in
// the runtime, which loads parts, rather than in io/ below it.
import type { BlobObject, FetchInit, UrlObject } from '../core/platform.js';
import type { Sequential } from '../nn/model.js';
import { loadBytes, save, type LoadOptions, type SaveOptions } from '../io/model.js';
import type { Bytes } from '../io/safetensors.js';
import type { IdbOptions } from '../io/storage.js';
import { loadStorage } from './lazy.js';

/** What load() reads a model from: its bytes, a Blob or File, a URL, or a file path (Node, Deno). */
export type ModelSource = Uint8Array | ArrayBuffer | SharedArrayBuffer | DataView | BlobObject | string | UrlObject;

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
export async function fetchBytes(url: string | UrlObject, init?: FetchInit): Promise<Uint8Array<ArrayBuffer>> {
  return (await loadStorage('fetchBytes')).fetchBytes(url, init);
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

/**
 * A model from bytes (a Uint8Array or Node Buffer at any offset, a DataView, an ArrayBuffer), a
 * Blob/File, a URL (http, https, file) or a file path (Node, Deno). The file is validated before
 * anything is allocated from it; a corrupt, truncated or hostile file is a clear Error.
 */
export async function load(source: ModelSource, options?: LoadOptions): Promise<Sequential> {
  return loadBytes(await sourceBytes(source), options);
}


async function sourceBytes(source: ModelSource): Promise<Bytes> {
  // Bytes go to the decoder as they are: it takes any view (brand checks, so other realms' too).
  const brand = Object.prototype.toString.call(source);
  if (brand === '[object Uint8Array]' || brand === '[object DataView]' || brand === '[object ArrayBuffer]' || brand === '[object SharedArrayBuffer]') return source as Bytes;
  if (typeof Blob === 'function' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL) return source.protocol === 'file:' ? readFileBytes(decodeURIComponent(source.pathname)) : fetchBytes(source);
  if (typeof source === 'string') return /^(https?|blob|data):/i.test(source) ? fetchBytes(source) : readFileBytes(source.replace(/^file:\/\//, ''));
  throw new TypeError(`load: expects bytes, a Blob/File, a URL or a file path, got ${source === null ? 'null' : ArrayBuffer.isView(source) ? `a ${brand.slice(8, -1)}` : typeof source}.`);
}

/** Writes the model to a file (Node, Deno) atomically: a crash mid-write leaves any old file intact. */
export async function saveFile(model: Sequential, path: string, options?: SaveOptions): Promise<void> {
  await writeFileAtomic(path, save(model, options));
}

/** Stores the model in the browser's IndexedDB under `key`. */
export async function saveIndexedDB(model: Sequential, key: string, options?: IdbOptions): Promise<void> {
  await idbSave(key, save(model), options);
}

/** A model stored with saveIndexedDB. */
export async function loadIndexedDB(key: string, options?: IdbOptions): Promise<Sequential> {
  return loadBytes(await idbLoad(key, options));
}

