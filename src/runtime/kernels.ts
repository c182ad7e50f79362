// Where the kernel modules' bytes come from (src/backend/wasm/binaries.ts). Two sources, the first that
// works:
//   1. the .wasm files beside the bundle (dist/kernels.wasm, dist/kernels-relaxed-gemm.wasm), read from
//      disk where this runtime reads files: Node, and Deno when it may read them (asked without a prompt);
//   2. the copies inlined in the bundle, in the 'kernels' and 'gemm' parts (src/runtime/parts/), loaded on
//      first use: browsers, edge runtimes, and a bundle re-bundled without the .wasm files. They need no
//      path configuration.
// The first costs nothing at import; the second keeps ~200 KB of module text out of the core chunk, whose
// parse every importer pays, and is parsed only by the runtimes that need it.
import { nodeBuiltin } from '../backend/features.js';
import { MODULE_FILES, setModuleSource, type ModuleName } from '../backend/wasm/binaries.js';
import { loadGemm, loadKernels } from './lazy.js';

const g = globalThis as any;
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** The module's file beside this code, or null where it is not there or cannot be read without asking. */
async function fromFile(name: ModuleName): Promise<Uint8Array<ArrayBuffer> | null> {
  let url: URL;
  try {
    url = new URL(`./${MODULE_FILES[name]}`, import.meta.url);
  } catch {
    return null; // no base URL (some bundlers rewrite import.meta)
  }
  if (url.protocol !== 'file:') return null;
  let bytes: Uint8Array | null = null;
  try {
    if (typeof g.Deno?.readFileSync === 'function') {
      // Deno would prompt for a permission it does not hold: read only what is granted already.
      if (g.Deno.permissions?.querySync?.({ name: 'read', path: url })?.state !== 'granted') return null;
      bytes = g.Deno.readFileSync(url);
    } else if (typeof g.process?.versions?.node === 'string') {
      const fs = await nodeBuiltin(['node', 'fs'].join(':'));
      const { fileURLToPath } = await nodeBuiltin(['node', 'url'].join(':'));
      bytes = fs.readFileSync(fileURLToPath(url));
    }
  } catch {
    return null; // not there (the bundle was moved without it): the inlined copy
  }
  if (!bytes || bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes![i] !== b)) return null;
  // Its own ArrayBuffer: a Buffer may be a view into a larger one.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? new Uint8Array(bytes.buffer)
    : new Uint8Array(bytes);
}

async function inlined(name: ModuleName): Promise<Uint8Array<ArrayBuffer>> {
  return name === 'core' ? (await loadKernels('init')).core() : (await loadGemm('init')).relaxedGemm();
}

// Installed when the runtime loads: every backend (and the test helpers, which import this file) then
// finds the bytes.
setModuleSource(async (name) => (await fromFile(name)) ?? inlined(name));
