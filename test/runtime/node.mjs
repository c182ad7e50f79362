// Node runner for the runtime smoke suite: `node test/runtime/node.mjs` (after `npm run build`).
// SIMDNN_DIST=path/to/bundle.js (relative to the repo root) tests another bundle instead.
import { pathToFileURL, fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { run } from './smoke.mjs';
import { report } from './report.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = pathToFileURL(resolve(root, process.env.SIMDNN_DIST || 'dist/index.js')).href;
const suite = process.env.SIMDNN_SMOKE_NAME || 'node';

let code;
try {
  const sn = await import(dist);
  const r = await run(sn, (l) => console.log(l), { runtime: 'node' });
  code = report(suite, r);
} catch (e) {
  console.error(`${suite}: could not run the smoke suite against ${dist}:\n${e?.stack ?? e}`);
  code = report(suite, { passed: 0, failed: 1, failures: [{ name: 'load', message: String(e?.message ?? e) }] });
}
// Exit explicitly: a backend that left a worker or timer behind must not hang the run
// (and is not this suite's business to diagnose).
process.exit(code);
