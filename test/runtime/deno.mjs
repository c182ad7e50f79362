// Deno runner for the runtime smoke suite (after `npm run build`):
//   npx deno run --allow-read test/runtime/deno.mjs
// SIMDNN_DIST=path/to/bundle.js (relative to the repo root; needs --allow-env) tests another bundle.
import { DEFAULT_BACKENDS, run } from './smoke.mjs';
import { report } from './report.mjs';
import './webgpu.mjs';

let override;
try { override = Deno.env.get('SIMDNN_DIST'); } catch { /* no --allow-env: use dist/ */ }
const dist = new URL(override || 'dist/index.js', new URL('../../', import.meta.url)).href;

let code;
try {
  const sn = await import(dist);
  // Deno has navigator.gpu without flags; with an adapter (lavapipe/llvmpipe or SwiftShader on a machine
  // without a GPU) the webgpu backend runs the suite too.
  let adapter = null;
  try { adapter = await globalThis.navigator?.gpu?.requestAdapter(); } catch { /* no WebGPU here */ }
  const backends = adapter ? [...DEFAULT_BACKENDS, 'webgpu'] : DEFAULT_BACKENDS;
  if (!adapter) console.log('# webgpu: no adapter in this Deno: not run');
  const r = await run(sn, (l) => console.log(l), { runtime: 'deno', backends });
  code = report('deno', r);
} catch (e) {
  console.error(`deno: could not run the smoke suite against ${dist}:\n${e?.stack ?? e}`);
  code = report('deno', { passed: 0, failed: 1, failures: [{ name: 'load', message: String(e?.message ?? e) }] });
}
Deno.exit(code);
