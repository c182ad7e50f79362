// The build (an esbuild plugin; the same encoding as a Vite plugin under test, scripts/wasm-inline.mjs)
// turns `import x from './k.wasm'` into a function returning the module's bytes, decoded from a string
// in the bundle on the first call (the same array on every call: do not write to it). So the bundle
// carries its kernels, needs no path configuration, and decodes nothing until init() needs a module.
declare module '*.wasm' {
  const bytes: () => Uint8Array<ArrayBuffer>;
  export default bytes;
}

// Comlink ships its Node adapter without types next to the .mjs file.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(port: unknown): Endpoint;
}
