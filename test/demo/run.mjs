// The demo suite: `node test/demo/run.mjs` (after `npm run build`). Runs the edge example over real
// HTTP in Node and Deno, then the web demo end to end in Chromium, and prints `N passed, N failed`
// (the last line is the marker line scripts/test.mjs counts). Exit code 0 only when nothing failed.
// Options: --only edge|web. Env: CHROMIUM_PATH (default /usr/bin/chromium); CI (a missing chromium
// fails instead of being skipped).
import { existsSync } from 'node:fs';
import { createHarness } from './harness.mjs';
import { report } from '../runtime/report.mjs';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const t0 = performance.now();
const t = createHarness();
const figures = {};

// Whatever happens, end with a count rather than hang.
const watchdog = setTimeout(() => {
  console.log('FAIL demo suite: still running after 240 s');
  const r = t.totals();
  console.log(`${r.passed} passed, ${r.failed + 1} failed`);
  report('demo', { ...r, failed: r.failed + 1 });
  process.exit(1);
}, 240_000);
watchdog.unref();

const sd = await import('../../dist/index.js').catch((e) => {
  console.error(`dist/index.js could not be imported (run npm run build): ${e.message}`);
  return null;
});
if (sd) {
  await sd.init({ backend: 'auto' });
  if (only !== 'web') {
    console.log('# edge handler (Node and Deno over loopback HTTP)');
    const { edgeTests } = await import('./edge.mjs');
    await edgeTests(t, sd).catch((e) => t.check('edge suite', () => { throw e; }));
  }
  if (only !== 'edge') {
    console.log('# web demo (Chromium)');
    if (existsSync(chromiumPath)) {
      const { webTests } = await import('./web.mjs');
      await webTests(t, { executablePath: chromiumPath, figures }).catch((e) => t.check('web suite', () => { throw e; }));
    } else if (inCI) await t.check('web demo', () => { throw new Error(`chromium not found at ${chromiumPath}`); });
    else t.skip('web demo', `chromium not found at ${chromiumPath} (set CHROMIUM_PATH)`);
  }
} else await t.check('import dist/index.js', () => { throw new Error('run npm run build first'); });

const r = t.totals();
if (Object.keys(figures).length) console.log(`# figures: ${JSON.stringify(figures)}`);
console.log(`# ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
process.exitCode = report('demo', r);
clearTimeout(watchdog);
sd?.shutdown(); // the threads backend's workers
