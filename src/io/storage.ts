// Where a model's bytes go, in every runtime: the helpers shared by downloads (browsers, here: it is
// synchronous) and by the files, URLs and IndexedDB of storage-impl.ts, which a page loads only when it
// calls one of them (the 'storage' part; the entry points are in src/runtime/files.ts).

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

// ---- IndexedDB ---------------------------------------------------------------------------------

/** The options of the IndexedDB helpers. */
export interface IdbOptions {
  /** Database name. Default 'simdnn'. */
  dbName?: string;
  /** Object store name. Default 'models'. */
  store?: string;
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
