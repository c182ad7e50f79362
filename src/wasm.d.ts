// The build (esbuild's binary loader; a Vite plugin under test) turns `import x from './k.wasm'` into the
// module's bytes, so the bundle carries its kernels and needs no path configuration.
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}

// Comlink ships its Node adapter without types next to the .mjs file.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(port: unknown): Endpoint;
}
