// How simdnn inlines its kernel modules (build/*.wasm) into JavaScript: `import bytes from './k.wasm'`
// becomes a small module whose default export is a function returning the module's bytes (a
// Uint8Array), decoded from a string the first time it is called (at init), never at import.
//
// The string holds one character per byte: a printable ASCII byte (0x20–0x7E) stands for itself,
// except ` \ $ (which a template literal would read differently); every other byte b is the character
// U+0100 + b. Decoding is `charCodeAt(i) & 255`: in Node (and Bun), Buffer.from(text, 'latin1') does that
// natively (it keeps the low byte of each UTF-16 unit), 10-20× faster than the loop on a cold start
// (0.3 ms against 4-8 for the core); the loop is the fallback, and runs in Deno, whose Buffer is written
// in JS and slower than the loop. Written raw in a UTF-8 bundle this is ~1.5 bytes per
// byte of wasm and gzips ~30% smaller than base64 (esbuild must run with charset: 'utf8', or it
// writes each of those characters as a \u escape).
//
// Used by scripts/build.mjs (esbuild), vitest.config.ts (Vite) and the scripts that bundle src/ on the
// fly (tests, benchmarks), so every path runs the same encoding. src/wasm.d.ts types the import.
import { readFile } from 'node:fs/promises';

const TICK = 0x60, BACKSLASH = 0x5c, DOLLAR = 0x24;

/** The template-literal body for these bytes (see the top of this file). */
export function encodeWasm(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    const chunk = bytes.subarray(i, i + 8192);
    const codes = new Array(chunk.length);
    for (let j = 0; j < chunk.length; j++) {
      const b = chunk[j];
      codes[j] = b >= 0x20 && b <= 0x7e && b !== TICK && b !== BACKSLASH && b !== DOLLAR ? b : 0x100 + b;
    }
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** The bytes back from encodeWasm's text. */
export function decodeWasm(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 255;
  return bytes;
}

/** Every module starts with `\0asm` and version 1: its encoding starts with this (bench/lib/profile.mjs finds inlined modules by it). */
export const WASM_TEXT_PREFIX = encodeWasm(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

/** The JavaScript module that `import x from './k.wasm'` loads (x() returns the bytes; src/wasm.d.ts). */
export function wasmModuleSource(bytes) {
  return (
    `const text = \`${encodeWasm(bytes)}\`;\n` +
    'let bytes = null;\n' +
    'export default function wasmBytes() {\n' +
    '  if (bytes === null) {\n' +
    '    const B = globalThis.Buffer;\n' +
    // A copy (one memcpy): the module's bytes own their ArrayBuffer (a Buffer may sit in a shared pool).
    // Checked on the magic number, whose first byte is the encoded character U+0100: a Buffer whose
    // latin1 does not keep low bytes falls back to the loop.
    "    if (typeof B === 'function' && typeof globalThis.process?.versions?.node === 'string' && globalThis.Deno === undefined) {\n" +
    "      const b = new Uint8Array(B.from(text, 'latin1'));\n" +
    '      if (b.length === text.length && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d) bytes = b;\n' +
    '    }\n' +
    '    if (bytes === null) {\n' +
    '      bytes = new Uint8Array(text.length);\n' +
    '      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 255;\n' +
    '    }\n' +
    '  }\n' +
    '  return bytes;\n' +
    '}\n'
  );
}

/** The esbuild plugin (in place of `loader: {'.wasm': 'binary'}`; give esbuild charset: 'utf8' too). */
export function wasmInline() {
  return {
    name: 'simdnn-wasm-inline',
    setup(build) {
      build.onLoad({ filter: /\.wasm$/ }, async (args) => ({
        contents: wasmModuleSource(await readFile(args.path)),
        loader: 'js',
        watchFiles: [args.path],
      }));
    },
  };
}

/** The same for Vite (vitest.config.ts); leaves `?init`, `?url` and the like to Vite. */
export function wasmInlineVite() {
  return {
    name: 'simdnn:wasm-inline',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith('.wasm')) return null;
      this.addWatchFile?.(id);
      return wasmModuleSource(await readFile(id));
    },
  };
}
