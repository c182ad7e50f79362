// What node.mjs and deno.mjs share: the command line, the precompiled wasm modules, and a model file
// that is trained on first run when it is missing.
import * as sd from 'simdnn';
import { createHandler, initRuntime } from './handler.mjs';
import { DEFAULT_MODEL_PATH, trainDigits } from './train.mjs';

export const USAGE = `options:
  --port N       port to listen on (default 8787; 0 picks a free one)
  --host H       address to listen on (default 127.0.0.1)
  --model PATH   saved model to serve (default examples/edge/model.safetensors; trained if missing)
  --precompiled  compile simdnn's kernels (simdnn/kernels.wasm, simdnn/kernels-relaxed-gemm.wasm) first
                 and pass them to init({module, gemmModule}), as platforms that forbid compiling wasm
                 bytes at run time (Cloudflare Workers) do when you import the .wasm files
  --wasm PATH    the same with a kernel .wasm of your own (the core module only)`;

export function parseArgs(argv) {
  const o = { port: 8787, host: '127.0.0.1', model: DEFAULT_MODEL_PATH, wasm: null, precompiled: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') {
      o.port = Number(value());
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error('--port must be an integer in 0..65535');
    } else if (flag === '--host') o.host = value();
    else if (flag === '--model') o.model = value();
    else if (flag === '--wasm') o.wasm = value();
    else if (flag === '--precompiled') o.precompiled = true;
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

/**
 * simdnn's kernel modules compiled here, as a platform that imports .wasm files hands them over: the
 * package exports them as simdnn/kernels.wasm and simdnn/kernels-relaxed-gemm.wasm. The relaxed gemm
 * only where this engine validates relaxed SIMD (Node 20 needs a V8 flag that init() sets later).
 */
export async function precompiledKernels() {
  const bytes = (name) => sd.readFileBytes(decodeURIComponent(new URL(import.meta.resolve(`simdnn/${name}`)).pathname));
  const module = await WebAssembly.compile(await bytes('kernels.wasm'));
  const gemmBytes = await bytes('kernels-relaxed-gemm.wasm');
  return { module, gemmModule: WebAssembly.validate(gemmBytes) ? await WebAssembly.compile(gemmBytes) : undefined };
}

/** Starts the runtime (with the precompiled modules, if any), reads or trains the model, builds the handler. */
export async function prepare(opts, log = console.log) {
  let module, gemmModule;
  if (opts.precompiled) ({ module, gemmModule } = await precompiledKernels());
  else if (opts.wasm) module = new WebAssembly.Module(await sd.readFileBytes(opts.wasm));
  const { info } = await initRuntime({ module, gemmModule });
  let bytes;
  try {
    bytes = await sd.readFileBytes(opts.model);
  } catch {
    log(`no model at ${opts.model}: training one on data/digits.csv…`);
    const r = await trainDigits();
    r.model.dispose();
    bytes = r.bytes;
    try {
      await sd.writeFileAtomic(opts.model, bytes);
      log(`trained in ${r.seconds.toFixed(1)} s (test accuracy ${(r.accuracy * 100).toFixed(1)}%), saved ${opts.model}`);
    } catch (e) {
      log(`trained in ${r.seconds.toFixed(1)} s (test accuracy ${(r.accuracy * 100).toFixed(1)}%); not saved (${e.message.split(';')[0]}), serving it from memory`);
    }
  }
  const handler = createHandler({ modelBytes: bytes, module, gemmModule });
  // Load the model now rather than on the first request, so a bad file fails at startup.
  const health = await handler.fetch(new Request('http://localhost/health'));
  if (!health.ok) throw new Error((await health.json()).error);
  log(`serving a ${(await health.json()).model.inputs}-input model on ${info.backend}${info.binary ? ` (${info.binary})` : ''}${module ? ', precompiled module' : ''}`);
  return handler;
}
