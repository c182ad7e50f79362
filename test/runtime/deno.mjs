// Deno runner for the runtime smoke suite (after `npm run build`):
//   npx deno run --allow-read test/runtime/deno.mjs
// SIMDNN_DIST=path/to/bundle.js (relative to the repo root; needs --allow-env) tests another bundle.
import { run } from './smoke.mjs';
import { report } from './report.mjs';

let override;
try { override = Deno.env.get('SIMDNN_DIST'); } catch { /* no --allow-env: use dist/ */ }
const dist = new URL(override || 'dist/index.js', new URL('../../', import.meta.url)).href;

let code;
try {
  const sn = await import(dist);
  const r = await run(sn, (l) => console.log(l), { runtime: 'deno' });
  code = report('deno', r);
} catch (e) {
  console.error(`deno: could not run the smoke suite against ${dist}:\n${e?.stack ?? e}`);
  code = report('deno', { passed: 0, failed: 1, failures: [{ name: 'load', message: String(e?.message ?? e) }] });
}
Deno.exit(code);
