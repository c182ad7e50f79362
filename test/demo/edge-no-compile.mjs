// The edge handler as Cloudflare Workers runs it: the platform compiles the .wasm files the code imports
// (`import module from 'simdnn/kernels.wasm'`, at deploy time), and the code itself may not compile wasm
// bytes. Here every way to compile bytes throws what V8 throws there ("Wasm code generation disallowed
// by embedder"), after this script, standing in for the platform, compiled simdnn's exported modules.
//   node edge-no-compile.mjs <handler.mjs URL> <model file> <rows as JSON> [both|core]
// `simdnn/…` resolves from this file's folder: the package it is installed beside (or this repository).
// Prints one JSON line: {health, status, body, refused, notes}.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [handlerUrl, modelPath, rowsJson, which = 'both'] = process.argv.slice(2);
const file = (name) => readFileSync(fileURLToPath(import.meta.resolve(`simdnn/${name}`)));

// The platform's part. Workers run relaxed SIMD; Node 20 validates it only behind a V8 flag.
if (!WebAssembly.validate(file('kernels-relaxed-gemm.wasm'))) process.getBuiltinModule('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
const module = new WebAssembly.Module(file('kernels.wasm'));
const gemmModule = which === 'both' ? new WebAssembly.Module(file('kernels-relaxed-gemm.wasm')) : undefined;

// Node's own fetch classes compile a wasm HTTP parser on first use (undici's llhttp): the platform's
// machinery, not the code under test, so it is loaded before the door closes.
await new Request('http://edge/', { method: 'POST', body: '{}' }).json();
await new Response('{}').json();

// From here on, compiling bytes is refused.
let refused = 0;
const refuse = (api) => {
  refused++;
  return new WebAssembly.CompileError(`${api}(): Wasm code generation disallowed by embedder`);
};
const { instantiate } = WebAssembly;
WebAssembly.compile = async () => { throw refuse('WebAssembly.compile'); };
WebAssembly.compileStreaming = async () => { throw refuse('WebAssembly.compileStreaming'); };
WebAssembly.instantiateStreaming = async () => { throw refuse('WebAssembly.instantiateStreaming'); };
WebAssembly.instantiate = (source, imports) => (source instanceof WebAssembly.Module ? instantiate(source, imports) : Promise.reject(refuse('WebAssembly.instantiate')));
WebAssembly.Module = new Proxy(WebAssembly.Module, { construct() { throw refuse('WebAssembly.Module'); } });

const { createHandler } = await import(handlerUrl);
const sd = await import('simdnn');
const h = createHandler({ modelBytes: readFileSync(modelPath), module, gemmModule });
const health = await (await h.fetch(new Request('http://edge/health'))).json();
const res = await h.fetch(new Request('http://edge/predict', { method: 'POST', body: JSON.stringify({ rows: JSON.parse(rowsJson) }) }));
console.log(JSON.stringify({ health, status: res.status, body: await res.json(), refused, notes: sd.info().notes }));
