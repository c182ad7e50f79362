// The safetensors format (https://github.com/huggingface/safetensors), written and read without a
// dependency:
//   [8 bytes]  N, the header's length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON: {"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets"}}
//              (offsets are [begin, end) relative to the first byte after the header), padded with
//              spaces; we pad to a multiple of 8 so that every tensor starts 8-aligned in the file
//   [rest]     the tensors' bytes, little-endian, row-major, contiguous, no holes
// A model file may come from anywhere, so the reader treats it as hostile: every size and offset is
// checked against the bytes actually present before anything is allocated from it.

/** A named tensor to write with encodeSafetensors. */
export interface SafetensorsEntry {
  /** The tensor's name in the file. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its values, row-major: written as F32, or I8 for an Int8Array (int8 models' weights). */
  data: Float32Array | Int8Array;
}

/** A tensor read by decodeSafetensors. */
export interface DecodedTensor {
  /** The dtype stored in the file; `data` holds the values converted to float32 whatever it was. */
  dtype: string;
  /** Its shape. */
  shape: number[];
  /** Its values as float32, row-major. */
  data: Float32Array;
}

/** What decodeSafetensors returns. */
export interface DecodedSafetensors {
  /** In the file's header order. */
  tensors: Map<string, DecodedTensor>;
  /** The file's __metadata__ (string to string). */
  metadata: Record<string, string>;
}

/** A file's bytes in any container: a Uint8Array (a Node Buffer too) or DataView at any offset, or a whole buffer. */
export type Bytes = Uint8Array | DataView | ArrayBuffer | SharedArrayBuffer;

/** The options of decodeSafetensors. */
export interface DecodeOptions {
  /** Largest header accepted, in bytes. Default 100,000,000 (the reference implementation's limit). */
  maxHeaderBytes?: number;
  /** Largest total number of elements over all tensors. Default 2^30 (4 GiB as float32). */
  maxElements?: number;
  /** Names the operation in error messages: `${label}: corrupt model file: …`. Default 'load'. */
  label?: string;
}

/** The options of encodeSafetensors. */
export interface EncodeOptions {
  /** Names the operation in error messages. Default 'save'. */
  label?: string;
}

const METADATA_KEY = '__metadata__';
const DEFAULT_MAX_HEADER = 100_000_000;
const DEFAULT_MAX_ELEMENTS = 2 ** 30;

// A typed array view of the host's memory is little-endian on every engine simdnn runs on; the
// DataView paths below keep the code right (if slower) on a big-endian host all the same.
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Reader = (dv: DataView, at: number) => number;

interface DtypeInfo { size: number; read: Reader }

// Every dtype is read through a DataView at any alignment: other writers (Python's safetensors sorts
// tensors by dtype size, but a BF16 tensor of odd length followed by an F32 one is legal) can leave
// a tensor at an offset that a Float32Array could not view.
const DTYPES: Record<string, DtypeInfo> = {
  F64: { size: 8, read: (dv, at) => dv.getFloat64(at, true) },
  F32: { size: 4, read: (dv, at) => dv.getFloat32(at, true) },
  F16: { size: 2, read: (dv, at) => halfToFloat(dv.getUint16(at, true)) },
  BF16: { size: 2, read: (dv, at) => bfloat16ToFloat(dv.getUint16(at, true)) },
  I64: { size: 8, read: (dv, at) => Number(dv.getBigInt64(at, true)) },
  I32: { size: 4, read: (dv, at) => dv.getInt32(at, true) },
  I16: { size: 2, read: (dv, at) => dv.getInt16(at, true) },
  I8: { size: 1, read: (dv, at) => dv.getInt8(at) },
  U64: { size: 8, read: (dv, at) => Number(dv.getBigUint64(at, true)) },
  U32: { size: 4, read: (dv, at) => dv.getUint32(at, true) },
  U16: { size: 2, read: (dv, at) => dv.getUint16(at, true) },
  U8: { size: 1, read: (dv, at) => dv.getUint8(at) },
  BOOL: { size: 1, read: (dv, at) => (dv.getUint8(at) !== 0 ? 1 : 0) },
};

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE binary16 → number, exactly (every half is a float32). NaN payloads survive. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) {
    // zero or subnormal: frac · 2^-24, computed exactly in float64
    const v = frac * 2 ** -24;
    return sign ? -v : v;
  }
  // normal: rebias 15 → 127; inf/NaN: all-ones exponent
  const e32 = exp === 0x1f ? 0xff : exp + 112;
  scratch.setUint32(0, (sign << 16) | (e32 << 23) | (frac << 13));
  return scratch.getFloat32(0);
}

/** bfloat16 is the top half of a float32. */
function bfloat16ToFloat(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : `${typeof x} ${preview(x)}`;
}

/**
 * A short rendering of a header value for a message. Not JSON.stringify: that recurses, and a
 * hostile header can nest arrays deeply enough to overflow the stack.
 */
function preview(x: unknown, depth = 0): string {
  if (Array.isArray(x)) {
    if (depth > 1) return '[…]';
    const items = x.slice(0, 8).map((v) => preview(v, depth + 1));
    return `[${items.join(', ')}${x.length > 8 ? ', …' : ''}]`;
  }
  if (typeof x === 'string') return x.length > 40 ? `${JSON.stringify(x.slice(0, 40))}…` : JSON.stringify(x);
  if (x !== null && typeof x === 'object') return '{…}';
  return String(x);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Shows a possibly hostile name in a message: quoted, escaped, cut short. */
function quote(name: string): string {
  const s = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  return `'${s.slice(1, -1)}'`;
}

function isFloat32Array(x: unknown): x is Float32Array {
  // instanceof fails across realms (an iframe, a vm context); the brand check does not.
  return Object.prototype.toString.call(x) === '[object Float32Array]';
}

function isInt8Array(x: unknown): x is Int8Array {
  return Object.prototype.toString.call(x) === '[object Int8Array]';
}

/**
 * Writes tensors and string metadata as one safetensors file. Tensors appear in the order given;
 * metadata keys are sorted, so equal inputs always give equal bytes. Data is stored as F32, an Int8Array
 * as I8 (put those last: a tensor after an odd number of bytes would not start 4-aligned, which
 * zero-copy readers want).
 */
export function encodeSafetensors(
  entries: readonly SafetensorsEntry[],
  metadata: Record<string, string> = {},
  options: EncodeOptions = {},
): Uint8Array<ArrayBuffer> {
  const label = options.label ?? 'save';
  if (!Array.isArray(entries)) throw new Error(`${label}: expected an array of {name, shape, data} entries, got ${typeName(entries)}.`);
  if (!isPlainObject(metadata)) throw new Error(`${label}: metadata must be an object of string values, got ${typeName(metadata)}.`);

  // The header is assembled by hand rather than from an object: JavaScript objects enumerate
  // integer-like keys ('0', '1') first, which would reorder tensors named that way.
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  const metaParts: string[] = [];
  for (const k of metaKeys) {
    const v = metadata[k];
    if (typeof v !== 'string') throw new Error(`${label}: metadata ${quote(k)} must be a string (JSON.stringify it first), got ${typeName(v)}.`);
    metaParts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  parts.push(`${JSON.stringify(METADATA_KEY)}:{${metaParts.join(',')}}`);

  const seen = new Set<string>();
  let offset = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!isPlainObject(e)) throw new Error(`${label}: entry ${i} must be {name, shape, data}, got ${typeName(e)}.`);
    const { name, shape, data } = e;
    if (typeof name !== 'string' || name === '') throw new Error(`${label}: entry ${i} needs a non-empty string name, got ${typeName(name)}.`);
    if (name === METADATA_KEY) throw new Error(`${label}: a tensor cannot be named '${METADATA_KEY}' (the format reserves it).`);
    if (seen.has(name)) throw new Error(`${label}: two tensors are named ${quote(name)}; names must be unique.`);
    seen.add(name);
    if (!Array.isArray(shape)) throw new Error(`${label}: tensor ${quote(name)} needs a shape array, got ${typeName(shape)}.`);
    let size = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${label}: tensor ${quote(name)} has shape [${shape.join(', ')}]; dimensions must be non-negative integers.`);
      size *= d;
    }
    const i8 = isInt8Array(data);
    if (!isFloat32Array(data) && !i8) throw new Error(`${label}: tensor ${quote(name)} needs its data as a Float32Array (or an Int8Array for I8), got ${typeName(data)}.`);
    if (data.length !== size) throw new Error(`${label}: tensor ${quote(name)} has shape [${shape.join(', ')}] (${size} elements) but ${data.length} values.`);
    const end = offset + (i8 ? 1 : 4) * size;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${i8 ? 'I8' : 'F32'}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const total = 8 + headerLen + offset;
  if (!Number.isSafeInteger(total)) throw new Error(`${label}: the model is too large to write as one file (${offset} bytes of weights).`);
  let out: Uint8Array<ArrayBuffer>;
  try {
    out = new Uint8Array(total);
  } catch (err) {
    throw new Error(`${label}: could not allocate ${total} bytes for the file (${(err as Error).message}).`, { cause: err });
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);

  let at = 8 + headerLen;
  for (const { data } of entries) {
    if (LITTLE_ENDIAN_HOST || isInt8Array(data)) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let j = 0; j < data.length; j++) dv.setFloat32(at + 4 * j, (data as Float32Array)[j], true);
    }
    at += data.byteLength;
  }
  return out;
}

interface Planned { name: string; dtype: string; info: DtypeInfo; shape: number[]; numel: number; begin: number; end: number }

/** One tensor as the header describes it; nothing of its data has been read. */
export interface HeaderTensor {
  dtype: string;
  shape: number[];
  /** The number of elements (the product of shape). */
  numel: number;
}

/**
 * A safetensors file whose header has been read and checked, its tensors not yet converted: what
 * load() needs to check a model's topology against the file before allocating anything.
 */
export interface ParsedSafetensors {
  /** In the file's header order. */
  tensors: Map<string, HeaderTensor>;
  metadata: Record<string, string>;
  /** Bytes in the data section (after the header): an upper bound on the elements it can hold. */
  dataBytes: number;
  /** A fresh float32 copy of a tensor's values (never a view of the input). */
  read(name: string): Float32Array;
  /** A fresh copy of an I8 tensor's bytes (throws for any other dtype). */
  readInt8(name: string): Int8Array;
}

/**
 * The bytes of `input` as a plain Uint8Array over exactly its own range. Node's Buffer is a Uint8Array
 * whose slice() is a view, not a copy, and whose memory is often a window into a larger ArrayBuffer
 * (the shared 8 KiB pool for small Buffers, and any Buffer may start at a non-zero byteOffset), so
 * nothing below may use `.buffer` without byteOffset or rely on slice() copying: a fresh Uint8Array
 * view of the same memory has the standard slice().
 */
function asBytes(input: unknown, label: string): Uint8Array {
  // Brand checks rather than instanceof, which fails for bytes from another realm.
  const brand = Object.prototype.toString.call(input);
  if (brand === '[object ArrayBuffer]' || brand === '[object SharedArrayBuffer]') return new Uint8Array(input as ArrayBuffer);
  if (brand === '[object Uint8Array]' || brand === '[object DataView]') {
    const v = input as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  if (ArrayBuffer.isView(input)) {
    throw new Error(
      `${label}: expected the file's bytes as a Uint8Array, DataView or ArrayBuffer, got a ${brand.slice(8, -1)}; ` +
        'for bytes held in another typed array pass new Uint8Array(a.buffer, a.byteOffset, a.byteLength).',
    );
  }
  throw new Error(`${label}: expected the file's bytes as a Uint8Array, DataView or ArrayBuffer, got ${typeName(input)}.`);
}

/**
 * Reads a safetensors file. F32 data is copied bit-exactly; F64 (rounded to nearest), F16, BF16 and
 * the integer dtypes (I64/U64 beyond 2^53 lose precision; all integers above 2^24 round to float32)
 * are converted to float32; `dtype` keeps what the file said. Throws an Error naming the problem for
 * anything that is not a well-formed file, before allocating anything sized by the file's claims.
 * `input` may be any view of the bytes (a Buffer from Node's pool, a subarray at any offset, a DataView).
 */
export function decodeSafetensors(input: Bytes, options: DecodeOptions = {}): DecodedSafetensors {
  const file = parseSafetensors(input, options);
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, t] of file.tensors) tensors.set(name, { dtype: t.dtype, shape: t.shape.slice(), data: file.read(name) });
  return { tensors, metadata: file.metadata };
}

/**
 * Reads and checks a safetensors file's header and layout without converting any tensor: the sizes
 * and offsets are checked against the bytes present, so `read` allocates at most what the file holds
 * (×4 for the 1-byte dtypes, ×2 for the 2-byte ones, as float32).
 */
export function parseSafetensors(input: Bytes, options: DecodeOptions = {}): ParsedSafetensors {
  const label = options.label ?? 'load';
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const bad = (msg: string) => new Error(`${label}: corrupt model file: ${msg}`);
  const bytes = asBytes(input, label);
  const fileLen = bytes.length;
  if (fileLen < 8) throw bad(`the file has ${fileLen} bytes; a safetensors file starts with an 8-byte header length (empty or truncated download?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = dv.getBigUint64(0, true); // exact, for messages
  // Rounds above 2^53, where it is far too large anyway and the checks below refuse it.
  const headerLen = Number(claimed);
  if (headerLen > fileLen - 8) {
    throw bad(`the header claims ${claimed} bytes but only ${fileLen - 8} follow the 8-byte length (truncated download, or not a safetensors file?)`);
  }
  if (headerLen > maxHeader) throw bad(`the header claims ${headerLen} bytes, more than the ${maxHeader} allowed (maxHeaderBytes)`);
  if (headerLen < 2) throw bad(`the header has ${headerLen} bytes; it must hold at least '{}'`);
  if (bytes[8] !== 0x7b) throw bad(`the header must begin with '{' (byte 8 is 0x${bytes[8].toString(16).padStart(2, '0')}); not a safetensors file?`);

  let text: string;
  try {
    // slice, not subarray: browsers' TextDecoder refuses views of shared memory.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.slice(8, 8 + headerLen));
  } catch {
    throw bad('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw bad(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) throw bad(`the header must be a JSON object, got ${typeName(header)}`);
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw bad(`the header names ${quote(dup)} twice`);

  const metadata: Record<string, string> = {};
  const rawMeta = header[METADATA_KEY];
  // null: what the reference implementation reads as "no metadata" too.
  if (rawMeta !== undefined && rawMeta !== null) {
    if (!isPlainObject(rawMeta)) throw bad(`'${METADATA_KEY}' must be an object of strings, got ${typeName(rawMeta)}`);
    for (const [k, v] of Object.entries(rawMeta)) {
      if (typeof v !== 'string') throw bad(`metadata ${quote(k)} must be a string, got ${typeName(v)}`);
      // defineProperty, not `metadata[k] = v`: a key named '__proto__' must stay plain data.
      Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }

  const dataLen = fileLen - 8 - headerLen;
  const plan: Planned[] = [];
  let totalElements = 0;
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    const t = `tensor ${quote(name)}`;
    if (!isPlainObject(raw)) throw bad(`${t} must be {dtype, shape, data_offsets}, got ${typeName(raw)}`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype !== 'string') throw bad(`${t} has no dtype string (got ${typeName(dtype)})`);
    const info = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (!info) {
      throw new Error(`${label}: unsupported model file: ${t} has dtype ${quote(dtype)}; simdnn reads ${Object.keys(DTYPES).join(', ')}.`);
    }
    if (!Array.isArray(shape)) throw bad(`${t} has no shape array (got ${typeName(shape)})`);
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw bad(`${t} has shape ${preview(shape)}; dimensions must be non-negative integers`);
      }
    }
    let numel = shape.includes(0) ? 0 : 1;
    if (numel !== 0) {
      for (const d of shape) {
        numel *= d;
        if (numel > maxElements) throw bad(`${t} has shape [${shape.join(', ')}], more than the ${maxElements} elements allowed (maxElements)`);
      }
    }
    if (!Array.isArray(offsets) || offsets.length !== 2) throw bad(`${t} needs data_offsets [begin, end], got ${preview(offsets)}`);
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw bad(`${t} has data_offsets ${preview(offsets)}; they must be integers with 0 ≤ begin ≤ end`);
    }
    if (end > dataLen) {
      throw bad(`${t} claims bytes ${begin}..${end} but the file's data section has ${dataLen} bytes (truncated download?)`);
    }
    if (end - begin !== numel * info.size) {
      throw bad(`${t} of shape [${shape.join(', ')}] and dtype ${dtype} needs ${numel * info.size} bytes but claims ${end - begin} (bytes ${begin}..${end})`);
    }
    totalElements += numel;
    if (totalElements > maxElements) throw bad(`the tensors hold more than the ${maxElements} elements allowed in all (maxElements)`);
    plan.push({ name, dtype, info, shape: shape.slice(), numel, begin, end });
  }

  // The tensors must tile the data section exactly: no overlap (one byte read as two tensors), no
  // hole, nothing after the last one (what the reference implementation checks too).
  const order = plan.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: Planned | undefined;
  for (const p of order) {
    if (p.begin < expected) throw bad(`tensor ${quote(p.name)} (bytes ${p.begin}..${p.end}) overlaps tensor ${quote(prev!.name)} (bytes ${prev!.begin}..${prev!.end})`);
    if (p.begin > expected) throw bad(`bytes ${expected}..${p.begin} of the data section belong to no tensor (a hole before tensor ${quote(p.name)})`);
    expected = p.end;
    prev = p;
  }
  if (expected !== dataLen) {
    throw bad(`the tensors end at byte ${expected} of the data section but it has ${dataLen} bytes (${dataLen - expected} trailing bytes)`);
  }

  const base = 8 + headerLen;
  const byName = new Map(plan.map((p) => [p.name, p]));
  const tensors = new Map<string, HeaderTensor>(plan.map((p) => [p.name, { dtype: p.dtype, shape: p.shape.slice(), numel: p.numel }]));
  const read = (name: string): Float32Array => {
    const p = byName.get(name);
    if (!p) throw new Error(`${label}: the file has no tensor ${quote(name)}.`);
    const at = base + p.begin;
    const data = new Float32Array(p.numel);
    if (p.dtype === 'F32' && LITTLE_ENDIAN_HOST) {
      // A byte copy into the fresh array: right at any alignment of `at` (a Float32Array cannot view
      // an offset that is not a multiple of 4), bit-exact, and never aliasing the input.
      new Uint8Array(data.buffer).set(bytes.subarray(at, base + p.end));
    } else {
      const { size, read: get } = p.info;
      for (let i = 0; i < p.numel; i++) data[i] = get(dv, at + i * size);
    }
    return data;
  };
  const readInt8 = (name: string): Int8Array => {
    const p = byName.get(name);
    if (!p) throw new Error(`${label}: the file has no tensor ${quote(name)}.`);
    if (p.dtype !== 'I8') throw new Error(`${label}: tensor ${quote(name)} is ${p.dtype}, not I8.`);
    return new Int8Array(bytes.slice(base + p.begin, base + p.end).buffer);
  };
  return { tensors, metadata, dataBytes: dataLen, read, readInt8 };
}

/**
 * JSON.parse keeps the last of two equal keys silently; a header that names a tensor twice is
 * ambiguous, so look for that in any object. `text` is known to be valid JSON here.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) stack.push(new Set());       // {
    else if (c === 0x5b) stack.push(null);       // [
    else if (c === 0x7d || c === 0x5d) stack.pop(); // } ]
    else if (c === 0x22) {                       // "
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++; // skip escapes
      const keys = stack[stack.length - 1];
      if (!keys) continue;
      let j = i + 1;
      while (j < n && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      if (text[j] !== ':') continue; // a string value, not a key
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys.has(key)) return key;
      keys.add(key);
    }
  }
  return undefined;
}
