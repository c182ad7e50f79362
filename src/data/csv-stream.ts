// Streaming CSV: a source (text, bytes, Blob/File, URL or file path) read a chunk at a time and parsed
// by Papa Parse chunk by chunk, so that a large file never exists as one string, nor as one array of
// rows. readCsv (csv-read.ts) and `simdnn predict` (src/cli/predict.ts) read through it.
//
// It imports nothing of the runtime: the CLI bundle (which keeps the library external, see
// scripts/build.mjs) takes its own copy of this file and of Papa Parse, as it did before.
import type { BlobObject, UrlObject } from '../core/platform.js';
import Papa from 'papaparse/papaparse.min.js'; // not 'papaparse': see papaparse.d.ts

export type CsvStreamSource = string | UrlObject | BlobObject | ArrayBuffer | ArrayBufferView;

/** How far a read has come. */
export interface CsvProgress {
  /** Bytes of the source read so far (UTF-16 code units for a string of CSV text). */
  bytes: number;
  /** The size of the source, when known (a file, a Blob, bytes, text, an http response with Content-Length); else null. */
  total: number | null;
  /** Rows parsed so far, the header included. */
  rows: number;
}

/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;

/**
 * Characters (at most) decoded and handed to Papa Parse at a time. Papa splits its text into a string
 * per field, all alive until the rows are consumed: at 64 K characters that is a few hundred KB of
 * small strings, which die young in V8's young generation. At 1–2 MB per call they outgrow it, get
 * copied and promoted, and garbage collection took 5 of the 13 s that reading a 140 MB file took; a
 * decoded string of 1 MB or more also goes straight to the large-object space.
 */
const TEXT_CHARS = 1 << 16;

/** readCsv's onProgress is called about this often (bytes of the source). */
const PROGRESS_BYTES = 1 << 20;

/**
 * A line (a quoted field, usually: a missing closing quote) longer than this is an error rather than
 * something to keep joining: Papa re-parses the unfinished line with every chunk, so an unclosed quote
 * near the top of a large file would otherwise cost time quadratic in the file's size.
 */
const MAX_LINE_CHARS = 32 << 20;

/** An opened source: its size when known, and its text in pieces. Returning `chunks` early (a for-await loop that stops) closes a file or a stream. */
export interface TextSource {
  total: number | null;
  /** Bytes (or characters) read so far; advanced by `chunks`. */
  read: number;
  chunks: AsyncGenerator<string, void, undefined>;
}

/**
 * Opens `source` for reading as text. A string is CSV text, a path or a URL as readCsv documents
 * (`from` overrides the guess); bytes (ArrayBuffer, a typed array, a Node Buffer) and Blobs are UTF-8.
 * A byte-order mark is dropped.
 */
export async function openText(source: unknown, from: 'string' | 'path' | 'url' | undefined, op: string): Promise<TextSource> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (from !== undefined) throw new TypeError(`${op}: from: '${from}' does not apply to a File or Blob.`);
    return blobText(source, op);
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    if (from !== undefined) throw new TypeError(`${op}: from: '${from}' does not apply to bytes (an ArrayBuffer, typed array or Buffer).`);
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    return bytesText(bytes);
  }
  if (source instanceof URL) {
    if (from === 'string') throw new TypeError(`${op}: from: 'string' needs the CSV text as a string, got a URL.`);
    return source.protocol === 'file:' ? pathText(source, op) : fetchText(source.href, op);
  }
  if (typeof source !== 'string') {
    // A File/Blob from another realm, or a look-alike with .text().
    if (source && typeof (source as Blob).text === 'function' && from === undefined) {
      const s = source as Blob;
      return typeof s.stream === 'function' ? blobText(s, op) : stringText(await s.text());
    }
    throw new TypeError(
      `${op}: source must be CSV text, a file path, a URL or a File/Blob; got ${source === null ? 'null' : typeof source} (bytes are read too: an ArrayBuffer, a Uint8Array, a Buffer).`,
    );
  }
  const kind = from ?? guessKind(source);
  if (kind === 'string') return stringText(source);
  if (kind === 'url') return fetchText(source, op);
  return /^file:\/\//i.test(source) ? pathText(new URL(source), op) : pathText(source, op);
}

function guessKind(s: string): 'string' | 'path' | 'url' {
  if (/^https?:\/\//i.test(s)) return 'url';
  if (/^file:\/\//i.test(s)) return 'path';
  if (/[\r\n,]/.test(s)) return 'string';
  return 'path';
}

/** A TextSource whose generator advances its `read`. */
function makeSource(total: number | null, chunks: (src: TextSource) => AsyncGenerator<string, void, undefined>): TextSource {
  const src = { total, read: 0 } as TextSource;
  src.chunks = chunks(src);
  return src;
}

function stringText(text: string): TextSource {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return makeSource(text.length, async function* (src) {
    for (let i = 0; i < text.length; i += TEXT_CHARS) {
      const s = text.slice(i, i + TEXT_CHARS);
      src.read = Math.min(text.length, i + TEXT_CHARS);
      yield s;
    }
  });
}

/**
 * Decodes `bytes` (the next part of a UTF-8 stream) in pieces of at most TEXT_CHARS bytes, advancing
 * src.read from `before`. `last` ends the stream (a character cut at the end is then U+FFFD). The
 * TextDecoder is UTF-8 and drops a byte-order mark; with stream: true it keeps a character split
 * between two pieces whole.
 */
function* decodePieces(dec: TextDecoder, bytes: Uint8Array, src: TextSource, before: number, last: boolean): Generator<string> {
  for (let i = 0; i < bytes.length; i += TEXT_CHARS) {
    const end = Math.min(bytes.length, i + TEXT_CHARS);
    const s = dec.decode(bytes.subarray(i, end), { stream: !(last && end === bytes.length) });
    src.read = before + end;
    if (s) yield s;
  }
  if (last && bytes.length === 0) {
    const s = dec.decode();
    if (s) yield s;
  }
}

function bytesText(bytes: Uint8Array): TextSource {
  return makeSource(bytes.length, async function* (src) {
    yield* decodePieces(new TextDecoder(), bytes, src, 0, true);
  });
}

/** Text from a stream of bytes (a Blob's, a response's, a Deno file's). */
function streamText(stream: ReadableStream<Uint8Array>, total: number | null, fail: (e: unknown) => Error): TextSource {
  return makeSource(total, async function* (src) {
    const reader = stream.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          throw fail(e);
        }
        if (r.done) break;
        yield* decodePieces(dec, r.value, src, src.read, false);
      }
      yield* decodePieces(dec, new Uint8Array(0), src, src.read, true);
    } finally {
      // Stopping early (an error in the rows) cancels the stream, which closes a file or a connection.
      reader.cancel().catch(() => {});
    }
  });
}

function blobText(blob: Blob, op: string): TextSource {
  return streamText(blob.stream() as ReadableStream<Uint8Array>, blob.size, (e) => new Error(`${op}: reading the File or Blob failed: ${(e as Error).message}`));
}

async function fetchText(url: string, op: string): Promise<TextSource> {
  if (typeof fetch !== 'function') throw new Error(`${op}: cannot fetch ${url}: this runtime has no fetch(); read the file yourself and pass its text.`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${op}: could not fetch ${url} (${(e as Error).message}); check the address and your connection (a browser also needs CORS on that server).`);
  }
  if (!res.ok) throw new Error(`${op}: fetching ${url} failed with HTTP ${res.status} ${res.statusText}.`);
  if (!res.body) return stringText(await res.text());
  // Content-Length counts the bytes on the wire: the decoded size only when the body is not compressed.
  const length = res.headers.get('content-length');
  const total = length !== null && !res.headers.get('content-encoding') && /^\d+$/.test(length) ? Number(length) : null;
  return streamText(res.body, total, (e) => new Error(`${op}: reading ${url} failed: ${(e as Error).message}`));
}

async function pathText(path: string | URL, op: string): Promise<TextSource> {
  const shown = typeof path === 'string' ? path : path.href;
  const cannot = (e: unknown) => new Error(`${op}: cannot read the file '${shown}': ${(e as Error).message}`);
  const deno = (globalThis as any).Deno;
  if (deno && typeof deno.open === 'function') {
    let file: any;
    try {
      file = await deno.open(path, { read: true });
      const info = await file.stat();
      if (info.isDirectory) throw new Error('it is a directory');
      return streamText(file.readable, info.size, cannot);
    } catch (e) {
      file?.close?.();
      throw cannot(e);
    }
  }
  if ((globalThis as any).process?.versions?.node) {
    // A specifier web bundlers cannot see, so they leave Node's fs out of browser builds.
    const specifier = ['node', 'fs/promises'].join(':');
    const fs = await import(/* @vite-ignore */ specifier);
    let fh: any;
    let total: number;
    try {
      fh = await fs.open(path, 'r');
      total = (await fh.stat()).size;
    } catch (e) {
      await fh?.close();
      throw cannot(e);
    }
    return makeSource(total, async function* (src) {
      const dec = new TextDecoder();
      // Two buffers: the next read runs while the parser works on the last one's text.
      const bufs = [new Uint8Array(READ_BYTES), new Uint8Array(READ_BYTES)];
      let which = 0;
      try {
        let next: Promise<{ bytesRead: number }> = fh.read(bufs[which], 0, READ_BYTES, null);
        for (;;) {
          let n: number;
          try {
            n = (await next).bytesRead;
          } catch (e) {
            throw cannot(e);
          }
          if (n === 0) break;
          const buf = bufs[which];
          which ^= 1;
          next = fh.read(bufs[which], 0, READ_BYTES, null);
          next.catch(() => {}); // awaited on the next turn; this only keeps an early stop from an unhandled rejection
          yield* decodePieces(dec, buf.subarray(0, n), src, src.read, false);
        }
        yield* decodePieces(dec, new Uint8Array(0), src, src.read, true);
      } finally {
        await fh.close().catch(() => {});
      }
    });
  }
  // A web page (or worker): a relative path means a file next to the page, as fetch() resolves it.
  const here = (globalThis as any).location?.href;
  if (typeof path === 'string' && typeof here === 'string' && typeof fetch === 'function') return fetchText(new URL(path, here).href, op);
  throw new Error(
    `${op}: cannot read the path '${shown}' here: this runtime has no file system. In a browser pass a URL (a string starting with http(s):// or a URL object), a File/Blob, or the CSV text ({from: 'string'}).`,
  );
}

export interface StreamCsvOptions {
  op: string;
  /** The field delimiter; undefined or '' detects it from the first chunk (',', tab, '|' or ';'). */
  delimiter?: string;
  /**
   * Receives each chunk's complete rows in order, blank lines left out (lines that are empty or only
   * whitespace, as Papa's skipEmptyLines: 'greedy'). `first` is the number of rows before rows[0]:
   * the header is row 0. What it throws ends the read and is what streamCsv rejects with.
   */
  rows: (rows: string[][], first: number, delimiter: string) => void;
  progress?: (p: CsvProgress) => void;
}

/** Reads `src` through Papa Parse a chunk at a time; resolves with the number of rows (the header included). */
export async function streamCsv(src: TextSource, o: StreamCsvOptions): Promise<number> {
  const { op } = o;
  let failure: unknown = null;
  let failed = false;
  // Papa streams any object that looks like a Node readable stream: `data` events carry text, `end`
  // finishes. Driving it by hand keeps the reading ours (files, Blobs, fetch, bytes alike) and the
  // joining of lines split between chunks Papa's.
  const listeners: Record<string, ((arg?: unknown) => void) | undefined> = {};
  const input = {
    readable: true,
    read() {},
    on(event: string, fn: (arg?: unknown) => void) {
      listeners[event] = fn;
    },
    removeListener(event: string) {
      listeners[event] = undefined;
    },
    pause() {},
    resume() {},
  };
  let papaRows = 0; // rows Papa gave so far, blank lines included: its error rows count from here
  let rows = 0; // non-blank rows so far
  let fed = 0; // characters handed to Papa
  Papa.parse<string[], File>(input as unknown as File, {
    header: false,
    dynamicTyping: false,
    // Blank lines are left out below: 'greedy' here would join every row's fields to test it.
    skipEmptyLines: false,
    delimiter: o.delimiter ?? '',
    chunk: (res: Papa.ParseResult<string[]>) => {
      for (const e of res.errors) {
        if (e.code === 'UndetectableDelimiter') continue; // one column: the default ',' is right
        const where = e.row !== undefined && e.row !== null ? ` in row ${papaRows + e.row + 1} (counting the header as row 1)` : '';
        const fix = e.type === 'Quotes' ? '; close the quote or double any quote inside a quoted field ("")' : '';
        throw new Error(`${op}: the CSV is malformed${where}: ${e.message}${fix}.`);
      }
      const data = res.data;
      papaRows += data.length;
      let w = 0;
      for (let i = 0; i < data.length; i++) if (!blank(data[i])) data[w++] = data[i];
      data.length = w;
      if (fed - res.meta.cursor > MAX_LINE_CHARS)
        throw new Error(
          `${op}: the CSV is malformed: row ${papaRows + 1} (counting the header as row 1) runs on for more than ${MAX_LINE_CHARS >> 20} MiB without ending; ` +
            `a quoted field probably lacks its closing quote: close it, or double any quote inside a quoted field ("").`,
        );
      if (w === 0) return;
      const first = rows;
      rows += w;
      o.rows(data, first, res.meta.delimiter);
    },
    error: (e: unknown) => {
      if (!failed) (failed = true), (failure = e);
    },
    complete: () => {},
  });
  // Leaving the loop early (break, or a read error) returns the generator, which closes the source.
  let reported = 0;
  for await (const text of src.chunks) {
    fed += text.length;
    listeners.data?.(text);
    if (failed) break;
    if (o.progress && src.read - reported >= PROGRESS_BYTES) {
      reported = src.read;
      o.progress({ bytes: src.read, total: src.total, rows });
    }
  }
  if (!failed) listeners.end?.();
  if (failed) throw failure;
  o.progress?.({ bytes: src.read, total: src.total, rows });
  return rows;
}

function blank(row: string[]): boolean {
  for (let i = 0; i < row.length; i++) if (row[i].trim() !== '') return false;
  return true;
}
