// The web demo end to end in Debian's Chromium (headless, playwright-core): serve it with COOP/COEP,
// train in the worker, stop and resume, check the test accuracy and the confusion matrix, draw test
// digits on the canvas with the mouse, the integrated-gradients heat map over the drawing (live while
// drawing, its update time as the page measures it), save/download/upload the model, then reload with the
// network off and the server gone: load the saved model from IndexedDB, predict and see the heat map,
// train again. Ends with a screenshot (test-results/demo.png, not committed; examples/web/screenshot.png
// is a copy for the docs).
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../examples/web/serve.mjs';
import { assert } from './harness.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOT = fileURLToPath(new URL('../../test-results/demo.png', import.meta.url));
// Rows of the demo's test split (by index) drawn on the canvas.
const DRAWN = [45, 90, 135, 225];
const EPOCHS = 40;

/** The browser's own version and the driver's, for the log (a suite's result depends on both). */
function browserVersion(context) {
  const pw = createRequire(import.meta.url)('playwright-core/package.json').version;
  return `${context.browser()?.version() ?? 'unknown'} (playwright-core ${pw})`;
}

/** GETs url from Node: 'HTTP <status>', or 'failed: <why>' when nothing answers. */
async function fromNode(url) {
  try {
    const r = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(10_000) });
    await r.arrayBuffer();
    return `HTTP ${r.status}`;
  } catch (e) {
    return `failed: ${e.cause?.code ?? e.message}`;
  }
}

/**
 * A second loopback server that stays up, and a page of its own in the same browser context. Its
 * origin has no service worker, so the page's fetches go to the network: one that fails while Node
 * still gets an answer from that server means the browser's network is off (context.setOffline covers
 * every page of the context). A page of its own origin keeps CORS, COEP and local-network rules out of
 * the question.
 */
async function witness(context) {
  const server = createServer((req, res) =>
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end('<!doctype html><title>witness</title>'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const page = await context.newPage();
  await page.goto(url, { timeout: 30_000 });
  return {
    // A fresh query each time, and no-store: nothing may come from a cache.
    fromPage: () => page.evaluate(async () => {
      try {
        const r = await fetch(`/probe?${Date.now()}-${Math.random()}`, { cache: 'no-store' });
        return `HTTP ${r.status}`;
      } catch (e) {
        return `failed: ${e.message}`;
      }
    }),
    fromNode: () => fromNode(`${url}probe`),
    async close() {
      await page.close().catch(() => {});
      server.closeAllConnections?.();
      server.close();
    },
  };
}

const state = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.demo.state)));
const waitFor = (page, fn, arg, timeout) => page.waitForFunction(fn, arg, { timeout, polling: 50 });

/**
 * Draws a real digit: the row's 8×8 cells with at least `threshold` of 16 ink become horizontal mouse
 * strokes through the cell centres, on a grid whose cell is the pen's width, so neighbours touch.
 */
async function drawDigit(page, pixels, threshold = 5) {
  await page.click('#clear');
  const box = await page.locator('#pad').boundingBox();
  const cell = 18 * (box.width / 256); // the pad's pen is 18 canvas pixels wide
  const ox = box.x + (box.width - 8 * cell) / 2, oy = box.y + (box.height - 8 * cell) / 2;
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      if (pixels[r * 8 + c] < threshold) continue;
      let e = c;
      while (e + 1 < 8 && pixels[r * 8 + e + 1] >= threshold) e++;
      const y = oy + (r + 0.5) * cell;
      await page.mouse.move(ox + (c + 0.5) * cell, y);
      await page.mouse.down();
      await page.mouse.move(ox + (e + 0.5) * cell, y);
      await page.mouse.up();
      c = e;
    }
  }
  await waitFor(page, () => window.demo.state.prediction !== null && !window.demo.state.predicting, null, 10_000);
  const s = await state(page);
  const bars = await page.locator('#probs .fill').count();
  assert(bars === 10, `${bars} probability bars`);
  const sum = s.probabilities.reduce((a, b) => a + b, 0);
  assert(Math.abs(sum - 1) < 1e-3, `probabilities sum to ${sum}`);
  const shown = (await page.textContent('#prediction')).trim();
  assert(shown === String(s.prediction), `the page shows ${shown}, the state says ${s.prediction}`);
  return s.prediction;
}

/**
 * The heat map of the digit on the pad: that it explains the predicted class, is complete (its cells add
 * up to the class's logit minus its logit on a blank pad, within 1% of the map's total |credit|: the
 * demo's 128 steps left at most 0.3% on every test digit, checked offline; relative to the sum itself
 * the bar would be arbitrary, as the credits of a scribble can cancel), gives cells without ink nothing (a
 * blank pad is the baseline), and is painted over the drawing.
 */
async function checkHeat(page) {
  const s = await state(page);
  const h = s.heat;
  assert(h, 'no heat map after drawing');
  assert(h.target === s.prediction, `the heat map explains class ${h.target}, the prediction is ${s.prediction}`);
  assert(h.values.length === 64, `${h.values.length} heat values`);
  const sum = h.values.reduce((a, b) => a + b, 0);
  const mass = h.values.reduce((a, b) => a + Math.abs(b), 0);
  assert(Math.abs(sum - h.delta) <= 0.01 * mass, `the heat map adds up to ${sum}, the logit changed by ${h.delta} (total |credit| ${mass})`);
  const inkless = h.values.filter((v, i) => h.pixels[i] === 0 && v !== 0);
  assert(inkless.length === 0, `cells without ink got credit: ${inkless.join(', ')}`);
  // The strongest cell, and the colour painted at its centre: blue (toward) for a positive value, orange
  // (against) for a negative one, so the map lies on the grid the model saw and its colours mean the sign.
  let top = 0;
  h.values.forEach((v, i) => { if (Math.abs(v) > Math.abs(h.values[top])) top = i; });
  const centre = [h.box.x + ((top % 8) + 0.5) * (h.box.side / 8), h.box.y + (Math.floor(top / 8) + 0.5) * (h.box.side / 8)].map(Math.floor);
  const painted = await page.evaluate(([cx, cy]) => {
    const c = document.getElementById('heat');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let toward = 0, against = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 24) (d[i + 2] > d[i] ? toward++ : against++);
    const at = Array.from(d.subarray((cy * c.width + cx) * 4, (cy * c.width + cx) * 4 + 4));
    return { toward, against, at, legend: !document.getElementById('heat-legend').hidden, cls: document.getElementById('heat-class').textContent };
  }, centre);
  assert(painted.toward + painted.against > 500, `the heat map painted ${painted.toward + painted.against} pixels`);
  const [r, , b, a] = painted.at;
  assert(a > 150 && (h.values[top] > 0 ? b > r : r > b), `the strongest cell (${top}, value ${h.values[top]}) is painted rgba(${painted.at.join(', ')}) at (${centre.join(', ')})`);
  assert(painted.legend && painted.cls === String(h.target), `legend shown ${painted.legend}, for class ${painted.cls}`);
  return { ...h, painted };
}

async function updateTests(t, context, problems) {
  const step = t.flow('web update');
  const copy = mkdtempSync(join(tmpdir(), 'simdnn-demo-app-'));
  let server, page;
  try {
    await context.setOffline(false);
    cpSync(fileURLToPath(new URL('../../examples/web/', import.meta.url)), copy, { recursive: true });
    let before;
    await step('first visit installs version A', async () => {
      ({ server } = await startServer({ port: 0, appDir: copy }));
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`page error (update): ${e.message}`));
      await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 30_000 });
      await waitFor(page, () => window.demo?.state.offlineReady, null, 30_000);
      before = (await state(page)).cacheVersion;
      assert(/^[0-9a-f]{12}$/.test(before), `cache version ${before}`);
    });
    await step('a changed file shows the update banner; Reload switches to version B', async () => {
      appendFileSync(join(copy, 'style.css'), '\n/* version B */\n');
      await page.reload();
      await waitFor(page, () => !document.getElementById('update').hidden, null, 30_000);
      await page.click('#update-btn');
      await waitFor(page, (old) => window.demo?.state.offlineReady && window.demo.state.cacheVersion !== old, before, 30_000);
      const names = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('simdnn-demo-')));
      const after = (await state(page)).cacheVersion;
      assert(names.length === 1 && names[0] === `simdnn-demo-${after}`, `caches after the update: ${names.join(', ')} (version ${after})`);
      const css = await page.evaluate(async () => (await (await caches.match('/style.css')).text()).includes('version B'));
      assert(css, 'the new cache holds the old style.css');
    });
  } finally {
    await page?.close().catch(() => {});
    if (server) { server.closeAllConnections?.(); server.close(); }
    rmSync(copy, { recursive: true, force: true });
  }
}

export async function webTests(t, { executablePath = '/usr/bin/chromium', figures = {} } = {}) {
  const step = t.flow('web');
  const profile = mkdtempSync(join(tmpdir(), 'simdnn-demo-chromium-'));
  const downloads = mkdtempSync(join(tmpdir(), 'simdnn-demo-downloads-'));
  let context, server;
  const problems = [];
  try {
    const page = await step('serve the demo (COOP/COEP) and open it in Chromium', async () => {
      ({ server } = await startServer({ port: 0 }));
      const url = `http://127.0.0.1:${server.address().port}/`;
      context = await chromium.launchPersistentContext(profile, {
        executablePath, headless: true, args: ARGS, timeout: 60_000,
        viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1, acceptDownloads: true, downloadsPath: downloads,
      });
      figures.chromium = browserVersion(context);
      console.log(`# browser: Chromium ${figures.chromium}`);
      const p = context.pages()[0] ?? await context.newPage();
      p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      p.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
      await p.goto(url, { timeout: 30_000 });
      await waitFor(p, () => ['idle', 'error'].includes(window.demo?.state.phase), null, 30_000);
      const s = await state(p);
      assert(s.phase === 'idle', `the page did not start: ${s.error}`);
      return p;
    });

    await step('the page is cross-origin isolated and says which backend runs', async () => {
      assert(await page.evaluate(() => crossOriginIsolated), 'crossOriginIsolated is false');
      const s = await state(page);
      const pill = await page.textContent('#backend');
      assert(pill.includes(s.backend), `the backend pill "${pill}" does not name ${s.backend}`);
      figures.backend = `${s.backend}${s.info.binary ? ` (${s.info.binary})` : ''}`;
      figures.threadsPossible = s.info.features.threads;
    });

    await step('the service worker caches the app, the library and the data', async () => {
      await waitFor(page, () => window.demo.state.offlineReady, null, 30_000);
      const cached = await page.evaluate(async () => {
        const name = (await caches.keys()).find((k) => k.startsWith('simdnn-demo-'));
        return name ? (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname) : [];
      });
      // The library's hashed chunks: the core dist/index.js imports, and the parts the app uses offline.
      const chunks = JSON.parse(readFileSync(fileURLToPath(new URL('../../dist/chunks.json', import.meta.url)), 'utf8'));
      const library = [...chunks.core, ...chunks.parts.csv, ...chunks.parts.storage, ...chunks.parts.threads].map((f) => `/dist/${f}`);
      for (const f of ['/', '/app.js', '/trainer.js', '/dist/index.js', '/dist/worker.js', '/data/digits.csv', ...library])
        assert(cached.includes(f), `${f} is not cached (cached: ${cached.join(', ')})`);
    });

    let stoppedAt = 0;
    await step('train in the worker, stop part-way (the page stays responsive)', async () => {
      await page.fill('#epochs', String(EPOCHS));
      // Frame gaps on the page's thread while the worker trains.
      await page.evaluate(() => {
        window.__gap = 0;
        let last = performance.now();
        const tick = (now) => { window.__gap = Math.max(window.__gap, now - last); last = now; if (!window.__stopGaps) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
      });
      const t0 = Date.now();
      await page.click('#train');
      // Click Stop from inside the page as soon as epoch 3 is drawn: a round trip from here can take
      // longer than the rest of the run.
      await page.waitForFunction(() => {
        if (window.demo.state.epoch < 3) return false;
        document.getElementById('stop').click();
        return true;
      }, null, { timeout: 30_000, polling: 'raf' });
      await waitFor(page, () => ['stopped', 'done'].includes(window.demo.state.phase), null, 15_000);
      const s = await state(page);
      assert(s.phase === 'stopped', `training ended (${s.phase}) before Stop took effect`);
      stoppedAt = s.epoch;
      assert(stoppedAt >= 3 && stoppedAt < EPOCHS, `stopped at epoch ${stoppedAt}`);
      const points = Number(await page.getAttribute('#acc-chart path[data-series=test]', 'data-points'));
      assert(points === stoppedAt, `the accuracy chart has ${points} points for ${stoppedAt} epochs`);
      figures.stopMs = Date.now() - t0;
    });

    await step('resume continues the same model to the last epoch', async () => {
      assert((await page.textContent('#resume')).trim() === 'Resume', 'the button should read Resume');
      const t0 = Date.now();
      await page.click('#resume');
      await waitFor(page, () => window.demo.state.phase !== 'training', null, 60_000);
      const s = await state(page);
      assert(s.phase === 'done', `training ended as '${s.phase}'`);
      const epochs = s.epochs.map((e) => e.epoch);
      assert(JSON.stringify(epochs) === JSON.stringify(Array.from({ length: EPOCHS }, (_, i) => i + 1)), `epochs ${epochs.join(',')}`);
      // A fresh model would start again near ln 10 ≈ 2.3; the resumed one goes on from where it was.
      const after = s.epochs[stoppedAt].loss, first = s.epochs[0].loss;
      assert(after < 0.5 && after < first / 4, `the first epoch after Resume has loss ${after} (the first epoch had ${first}): not the same model`);
      figures.trainSeconds = s.seconds;
      figures.resumeMs = Date.now() - t0;
      figures.maxFrameGapMs = Math.round(await page.evaluate(() => { window.__stopGaps = true; return window.__gap; }));
      assert(figures.maxFrameGapMs < 2000, `the page's thread stalled for ${figures.maxFrameGapMs} ms while training`);
    });

    let accuracy = 0;
    await step('test accuracy ≥ 0.90 and a confusion matrix of the 360 test digits', async () => {
      const s = await state(page);
      accuracy = s.testAccuracy;
      figures.accuracy = accuracy;
      assert(accuracy >= 0.9, `test accuracy ${accuracy}`);
      const cells = await page.$$eval('#cm td', (tds) => tds.map((td) => Number(td.textContent)));
      assert(cells.length === 100, `${cells.length} cells`);
      const total = cells.reduce((a, b) => a + b, 0), diag = cells.filter((_, i) => i % 11 === 0).reduce((a, b) => a + b, 0);
      assert(total === 360 && Math.abs(diag / total - accuracy) < 1e-9, `matrix total ${total}, diagonal ${diag}`);
      assert((await page.textContent('#status')).includes(`${(accuracy * 100).toFixed(1)}%`), 'the status line shows the accuracy');
    });

    await step('draw digits from the test split with the mouse: predictions and probabilities', async () => {
      let right = 0;
      const seen = [];
      for (const i of DRAWN) {
        const { pixels, label } = await page.evaluate((i) => window.demo.sample(i), i);
        const p = await drawDigit(page, pixels);
        seen.push(`${label}→${p}`);
        if (p === label) right++;
      }
      figures.drawn = `${right}/${DRAWN.length} (${seen.join(' ')})`;
      assert(right >= DRAWN.length - 1, `only ${right} of ${DRAWN.length} drawn digits recognised: ${seen.join(', ')}`);
    });

    await step('the heat map: integrated gradients of the predicted class over the drawing, live while drawing', async () => {
      const h = await checkHeat(page);
      figures.heatPaintedPx = h.painted.toward + h.painted.against;
      // One slow stroke: the map updates while the button is still down, not only when the stroke ends.
      await page.click('#clear');
      const box = await page.locator('#pad').boundingBox();
      const before = (await state(page)).heatUpdates;
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
      await page.mouse.down();
      for (let i = 1; i <= 40; i++) {
        await page.mouse.move(box.x + box.width * 0.5 + 3 * Math.sin(i / 6), box.y + box.height * (0.15 + 0.7 * (i / 40)));
        await page.waitForTimeout(10);
      }
      const during = (await state(page)).heatUpdates - before;
      await page.mouse.up();
      await waitFor(page, () => !window.demo.state.predicting, null, 10_000);
      assert(during >= 3, `${during} heat-map updates during a stroke of 40 moves`);
      await checkHeat(page);
      const s = await state(page);
      figures.heatUpdatesPerStroke = s.heatUpdates - before;
      // The update time as the page measures it: request to the worker, integrated gradients (64 steps),
      // the reply, the map drawn. Reported, not asserted (a loaded machine would fail a timed assertion).
      figures.heatMedianMs = +s.heat.medianMs.toFixed(2);
      figures.heatWorkerMs = +s.heat.workerMs.toFixed(2);
      figures.heatSamples = s.heatTimes.length;
      const text = await page.textContent('#heat-info');
      assert(/update [\d.]+ ms \(median [\d.]+ ms over \d+\)/.test(text), `the page does not show the update time: ${text}`);
    });

    await step('save the model in IndexedDB', async () => {
      await page.click('#save');
      await waitFor(page, () => window.demo.state.saved, null, 10_000);
      const text = await page.textContent('#model-status');
      assert(text.includes('Saved'), text);
    });

    await step('download the model file and upload it again', async () => {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#download')]);
      assert(download.suggestedFilename() === 'digits-mlp.safetensors', download.suggestedFilename());
      const file = join(downloads, download.suggestedFilename());
      await download.saveAs(file);
      const size = statSync(file).size;
      assert(size > 10_000, `${size} bytes`);
      await page.setInputFiles('#upload', file);
      await waitFor(page, () => window.demo.state.phase === 'loaded', null, 10_000);
      const s = await state(page);
      assert(Math.abs(s.testAccuracy - accuracy) < 1e-9, `the uploaded model scores ${s.testAccuracy}, the trained one ${accuracy}`);
    });

    await step('offline: reload with the network off and the server stopped', async () => {
      // Offline is proven by what fails, not by navigator.onLine: after setOffline(true) and a reload,
      // Debian's Chromium 150 (playwright-core 1.65) kept it true although every request failed, and
      // such flags change between versions.
      const appUrl = `http://127.0.0.1:${server.address().port}/`;
      const w = await witness(context);
      try {
        const before = await w.fromPage();
        assert(before === 'HTTP 200', `while online, the witness page's fetch got ${before} (the probe must be able to succeed)`);
        await context.setOffline(true);
        server.closeAllConnections?.();
        await new Promise((r) => server.close(r));
        server = null;
        await page.reload({ timeout: 30_000 });
        await waitFor(page, () => ['idle', 'error'].includes(window.demo?.state.phase), null, 30_000);
        const s = await state(page);
        assert(s.phase === 'idle', `the page did not start offline: ${s.error}`);
        assert(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the reloaded page is not controlled by the service worker');
        const demo = await fromNode(appUrl);
        assert(demo.startsWith('failed'), `the demo's server still answers: ${demo}`);
        const browser = await w.fromPage(), node = await w.fromNode();
        assert(browser.startsWith('failed') && node === 'HTTP 200',
          `the network is not off: a fetch from a page no service worker controls got ${browser}, while Node got ${node} from the same server`);
        await waitFor(page, () => window.demo.state.offlineReady, null, 10_000);
        const pill = await page.textContent('#offline');
        assert(pill.includes('offline'), `offline pill: ${pill}`);
      } finally {
        await w.close();
      }
    });

    await step('offline: load the saved model from IndexedDB and predict a drawn digit', async () => {
      assert(!(await page.isDisabled('#load')), 'Load saved is disabled: the page does not see the saved model');
      await page.click('#load');
      await waitFor(page, () => window.demo.state.phase === 'loaded', null, 10_000);
      const s = await state(page);
      assert(Math.abs(s.testAccuracy - accuracy) < 1e-9, `the saved model scores ${s.testAccuracy}, expected ${accuracy}`);
      const { pixels, label } = await page.evaluate(() => window.demo.sample(45));
      const p = await drawDigit(page, pixels);
      assert(p === label, `drew a ${label}, the loaded model says ${p}`);
    });

    await step('offline: the heat map renders over the drawn digit', async () => {
      const h = await checkHeat(page);
      figures.offlineHeatMs = +h.ms.toFixed(2);
    });

    await step('offline: Find learning rate draws the range test and selects the rate it chose', async () => {
      await page.click('#find-lr');
      await waitFor(page, () => window.demo.state.lrFound !== null || /failed/.test(document.getElementById('auto-status').textContent), null, 60_000);
      const s = await state(page);
      assert(s.lrFound, `no range test result: ${await page.textContent('#auto-status')}`);
      const lr = s.lrFound.suggestion;
      assert(lr > 1e-5 && lr < 1, `suggested rate ${lr}`);
      const points = Number(await page.getAttribute('#lr-chart path[data-series=smoothed]', 'data-points'));
      assert(points === s.lrFound.steps && points >= 10, `the curve has ${points} points for ${s.lrFound.steps} steps`);
      const marked = Number(await page.getAttribute('#lr-chart line[data-suggestion]', 'data-suggestion'));
      assert(Math.abs(marked / lr - 1) < 0.05, `the chart marks ${marked}, the page chose ${lr}`);
      assert(Number(await page.inputValue('#lr')) === lr, `the learning-rate control reads ${await page.inputValue('#lr')}, not ${lr}`);
      figures.lrFound = lr;
      figures.lrFindMs = Math.round(s.lrFound.ms);
    });

    await step('offline: Auto-tune for 5 s shows a leaderboard and adopts a tuned model ≥ 0.90', async () => {
      await page.selectOption('#tune-budget', '5');
      const t0 = Date.now();
      await page.click('#auto-tune');
      // The leaderboard fills while the search runs.
      await waitFor(page, () => document.querySelectorAll('#leaderboard tbody tr').length > 0, null, 30_000);
      await waitFor(page, () => window.demo.state.phase !== 'tuning', null, 60_000);
      const s = await state(page);
      assert(s.tune, `auto-tune did not finish: ${await page.textContent('#auto-status')}`);
      assert(s.tune.trials >= 3, `${s.tune.trials} trials`);
      assert(s.tune.accuracy >= 0.9, `tuned test accuracy ${s.tune.accuracy}`);
      assert(s.testAccuracy === s.tune.accuracy, "the tuned model is the page's model");
      figures.tuneTrials = s.tune.trials;
      figures.tuneSeconds = +s.tune.seconds.toFixed(1);
      figures.tuneAccuracy = s.tune.accuracy;
      figures.tuneWallMs = Date.now() - t0;
    });

    await step('offline: train a new model to ≥ 0.90', async () => {
      await page.fill('#epochs', '20');
      await page.click('#train');
      await waitFor(page, () => window.demo.state.phase === 'done' && window.demo.state.epoch === 20, null, 60_000);
      const s = await state(page);
      figures.offlineAccuracy = s.testAccuracy;
      assert(s.testAccuracy >= 0.9, `test accuracy ${s.testAccuracy}`);
    });

    await step('offline: private training (DP-SGD at ε = 3): ε spent within the target, and the accuracy it cost', async () => {
      const plain = (await state(page)).testAccuracy;
      await page.selectOption('#lr', '0.003');
      await page.fill('#epochs', '30');
      await page.check('#private');
      await page.selectOption('#epsilon', '3');
      await page.click('#train');
      await waitFor(page, () => window.demo.state.phase === 'done' && window.demo.state.privacy !== null, null, 90_000);
      const s = await state(page);
      const p = s.privacy;
      assert(p.target === 3 && p.epsilon <= 3 * (1 + 1e-9) && p.epsilon > 2.5, `ε spent ${p.epsilon} for a target of ${p.target}`);
      assert(p.sigma > 0.5 && p.sigma < 5, `σ ${p.sigma}`);
      assert(s.testAccuracy >= 0.8, `private test accuracy ${s.testAccuracy}`);
      const text = await page.textContent('#status');
      assert(text.includes(`ε = ${p.epsilon.toFixed(2)} of 3`), `the status line should show ε: ${text}`);
      const cost = ((plain - s.testAccuracy) * 100).toFixed(1);
      assert(text.includes(`${cost} points below`) || text.includes(`${(-cost).toFixed(1)} points above`), `the status line should show the cost against ${plain}: ${text}`);
      figures.privateEpsilon = +p.epsilon.toFixed(3);
      figures.privateSigma = +p.sigma.toFixed(3);
      figures.privateAccuracy = s.testAccuracy;
      figures.privateCostPoints = +cost;
      // Back to an ordinary model for the drawing below.
      await page.uncheck('#private');
      await page.click('#train');
      await waitFor(page, () => window.demo.state.phase === 'done' && window.demo.state.privacy === null, null, 60_000);
    });

    await step('draw a 2 by hand, and take the screenshot (with its heat map)', async () => {
      // One continuous stroke, as a person draws a 2: an arc over the top, a diagonal, a base line.
      await page.click('#clear');
      const box = await page.locator('#pad').boundingBox();
      const k = box.width / 256, P = (x, y) => [box.x + x * k, box.y + y * k];
      const path = [];
      for (let a = 200; a <= 380; a += 12) path.push(P(128 + 46 * Math.cos((a * Math.PI) / 180), 92 + 40 * Math.sin((a * Math.PI) / 180)));
      for (let i = 1; i <= 8; i++) path.push(P(165 + (84 - 165) * (i / 8), 112 + (196 - 112) * (i / 8)));
      for (let i = 1; i <= 6; i++) path.push(P(84 + (180 - 84) * (i / 6), 196 + 2 * Math.sin(i)));
      await page.mouse.move(...path[0]);
      await page.mouse.down();
      for (const p of path.slice(1)) await page.mouse.move(...p);
      await page.mouse.up();
      await waitFor(page, () => window.demo.state.prediction !== null && !window.demo.state.predicting, null, 10_000);
      figures.handDrawn2 = (await state(page)).prediction;
      await checkHeat(page);
      await page.evaluate(() => document.activeElement?.blur());
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300); // bar transitions
      mkdirSync(fileURLToPath(new URL('../../test-results/', import.meta.url)), { recursive: true });
      await page.screenshot({ path: SHOT, fullPage: true });
      figures.screenshotKB = Math.round(statSync(SHOT).size / 1024);
    });

    await step('no uncaught errors on the page', () => {
      assert(problems.length === 0, problems.join(' | '));
    });

    // Updates, on a copy of the app at another origin: a changed file reaches an installed copy as a
    // new service worker; the page offers a reload, which switches to it and drops the old cache.
    if (context) await updateTests(t, context, problems);
    if (context) await t.check('web without COOP/COEP: single-thread fallback, and the page says why', async () => {
      const { server: plain } = await startServer({ port: 0, isolated: false });
      const p = await context.newPage();
      try {
        await p.goto(`http://127.0.0.1:${plain.address().port}/`, { timeout: 30_000 });
        await waitFor(p, () => ['idle', 'error'].includes(window.demo?.state.phase), null, 30_000);
        const s = await state(p);
        assert(s.phase === 'idle' && !(await p.evaluate(() => crossOriginIsolated)), `phase ${s.phase}`);
        assert(s.backend !== 'wasm-threads', `backend ${s.backend} without isolation`);
        const pill = await p.textContent('#isolation');
        assert(pill.includes('not cross-origin isolated'), `isolation pill: ${pill}`);
        figures.unisolatedBackend = s.backend;
      } finally {
        await p.close();
        plain.closeAllConnections?.();
        plain.close();
      }
    });
  } finally {
    await context?.close().catch(() => {});
    if (server) { server.closeAllConnections?.(); server.close(); }
    rmSync(profile, { recursive: true, force: true });
    rmSync(downloads, { recursive: true, force: true });
  }
}
