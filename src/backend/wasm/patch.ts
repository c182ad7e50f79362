// The shared-memory variant of a kernel module, derived from its bytes at run time. A module that
// imports a shared memory differs from the plain one in a single byte: the limits flag of its memory
// import, 0x01 (minimum and maximum) against 0x03 (minimum, maximum, shared). So the bundle carries the
// plain modules only, and the threads backend compiles a copy with that byte set.

/** One section of a module: its id and where its contents lie (`start`, `end`: byte offsets). */
export interface Section {
  id: number;
  start: number;
  end: number;
}

const fail = (why: string): never => {
  throw new Error(`simdnn internal error: cannot mark the kernel module's memory shared: ${why}`);
};

/** Reads an unsigned LEB128 number at `p`: [value, offset after it]. */
function leb(bytes: Uint8Array, p: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= bytes.length) fail('a number runs past the end of the module');
    const b = bytes[p++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, p];
  }
  return fail('a number is longer than 5 bytes');
}

/** The sections of a module, in order; throws when the bytes are not a well-framed wasm module. */
export function sections(bytes: Uint8Array): Section[] {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || header.some((b, i) => bytes[i] !== b)) fail('the bytes do not start with the wasm magic and version 1');
  const out: Section[] = [];
  for (let p = 8; p < bytes.length; ) {
    const id = bytes[p];
    const [size, start] = leb(bytes, p + 1);
    const end = start + size;
    if (end > bytes.length) fail(`section ${id} runs past the end of the module`);
    out.push({ id, start, end });
    p = end;
  }
  return out;
}

/** Skips a name (length-prefixed bytes). */
function skipName(bytes: Uint8Array, p: number, end: number): number {
  const [len, q] = leb(bytes, p);
  if (q + len > end) fail('an import name runs past its section');
  return q + len;
}

/** Skips resizable limits (flag, minimum, and the maximum when the flag says so). */
function skipLimits(bytes: Uint8Array, p: number): number {
  const flag = bytes[p];
  if (flag > 0x07) fail(`unknown limits flag 0x${flag.toString(16)}`);
  let q = leb(bytes, p + 1)[1];
  if (flag & 1) q = leb(bytes, q)[1];
  return q;
}

/**
 * A copy of `bytes` (a module that imports one memory with a maximum) whose memory import is shared.
 * A module whose memory is shared already comes back as an unchanged copy. Throws, naming what it
 * found, for any other layout: no import section, no memory import or more than one, no maximum.
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const imports = sections(bytes).filter((s) => s.id === 2);
  if (imports.length !== 1) fail(`expected one import section, found ${imports.length}`);
  const { start, end } = imports[0];
  const [count, first] = leb(bytes, start);
  let flagAt = -1;
  let p = first;
  for (let i = 0; i < count; i++) {
    p = skipName(bytes, p, end); // module
    p = skipName(bytes, p, end); // field
    const kind = bytes[p++];
    switch (kind) {
      case 0x00: // function: type index
        p = leb(bytes, p)[1];
        break;
      case 0x01: // table: reference type, limits
        if (bytes[p] !== 0x70 && bytes[p] !== 0x6f) fail(`import ${i} is a table of unknown type 0x${bytes[p].toString(16)}`);
        p = skipLimits(bytes, p + 1);
        break;
      case 0x02: // memory: limits
        if (flagAt >= 0) fail('the module imports more than one memory');
        flagAt = p;
        p = skipLimits(bytes, p);
        break;
      case 0x03: // global: value type, mutability
        p += 2;
        break;
      case 0x04: // tag: attribute, type index
        p = leb(bytes, p + 1)[1];
        break;
      default:
        fail(`import ${i} has unknown kind 0x${kind.toString(16)}`);
    }
    if (p > end) fail('an import runs past its section');
  }
  if (p !== end) fail('the import section has bytes after its last import');
  if (flagAt < 0) fail('the module imports no memory');
  const flag = bytes[flagAt];
  if (flag !== 0x01 && flag !== 0x03)
    fail(`its memory import has limits flag 0x${flag.toString(16)} (expected 0x01: a 32-bit memory with a maximum)`);
  const out = new Uint8Array(bytes);
  out[flagAt] = 0x03;
  return out;
}
