// The page: controls, live charts, the drawing pad, the confusion matrix, model files, offline support.
// All of simdnn runs in trainer.js (a module worker); this thread only draws, so it never stalls.
import { LineChart } from './chart.js';
import { drawLrCurve } from './lrchart.js';
import { DrawPad } from './pad.js';

const $ = (id) => document.getElementById(id);
const pct = (v, digits = 1) => `${(v * 100).toFixed(digits)}%`;

/** What the page shows, in one place (the end-to-end test reads it as window.demo.state). */
const state = {
  phase: 'starting', // starting | idle | training | stopping | stopped | done | loaded | error
  epoch: 0, target: 0, epochs: [], testAccuracy: null, confusion: null, model: null,
  prediction: null, probabilities: null, predicting: false, heat: null, heatTimes: [], heatUpdates: 0, backend: null, info: null, offlineReady: false, cacheVersion: null, saved: false,
  error: null,
  lrFound: null, // {suggestion, steps, ms} after Find learning rate
  tune: null, // {trials, seconds, best, accuracy} after Auto-tune
  privacy: null, // {epsilon, target, delta, sigma, clip, batchSize} after a private run
  plainAccuracy: null, // the test accuracy of the last run trained without privacy (the private run's yardstick)
};

// ---- the worker and a tiny request/response layer over postMessage ----
const worker = new Worker(new URL('./trainer.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
function call(type, payload = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...payload }, transfer);
  });
}
worker.onmessage = ({ data: m }) => {
  if (m.id) {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(new Error(m.error));
  } else if (m.type === 'epoch') onEpoch(m);
  else if (m.type === 'trial') onTrial(m);
  else if (m.type === 'batch') lossChart.push('batch', m.x, m.loss);
};
worker.onerror = (e) => fail(`The training worker could not start${e.message ? `: ${e.message}` : ''}.`);

// ---- charts ----
const lossChart = new LineChart($('loss-chart'), {
  title: 'Loss',
  series: [
    { key: 'batch', label: 'batches', color: '#9db3ea', width: 1, opacity: 0.8 },
    { key: 'train', label: 'train', color: '#2457d6', width: 2.2 },
    { key: 'test', label: 'test', color: '#e0712c', width: 2.2, dash: '5 3' },
  ],
});
const accChart = new LineChart($('acc-chart'), {
  title: 'Accuracy',
  yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(v * 100)}%`,
  series: [
    { key: 'train', label: 'train', color: '#2457d6', width: 2.2 },
    { key: 'test', label: 'test', color: '#e0712c', width: 2.2, dash: '5 3' },
  ],
});

function onEpoch(m) {
  state.epoch = m.epoch;
  state.target = m.target;
  state.epochs.push({ epoch: m.epoch, loss: m.loss, accuracy: m.accuracy, valLoss: m.valLoss, valAccuracy: m.valAccuracy, ms: m.ms, partial: m.partial });
  lossChart.setXMax(m.target);
  accChart.setXMax(m.target);
  lossChart.push('train', m.epoch, m.loss);
  lossChart.push('test', m.epoch, m.valLoss);
  accChart.push('train', m.epoch, m.accuracy);
  accChart.push('test', m.epoch, m.valAccuracy);
  $('bar').style.width = pct(m.epoch / m.target);
  const eps = m.epsilon === null || m.epsilon === undefined ? '' : ` · ε spent ${m.epsilon.toFixed(2)}`;
  setStatus(`Epoch ${m.epoch} of ${m.target} · loss ${m.loss.toFixed(3)} · test accuracy ${pct(m.valAccuracy)}${eps} · ${m.ms.toFixed(0)} ms per epoch`);
  // Watch the prediction of the current drawing change as the model learns.
  if (pad.lastRow) requestPrediction(pad.lastRow);
}

// ---- status and buttons ----
function setStatus(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}
function setModelStatus(text, error = false) {
  const s = $('model-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}
function fail(message) {
  state.phase = 'error';
  state.error = message;
  setStatus(message, true);
  refresh();
}

function refresh() {
  const p = state.phase;
  const busy = p === 'starting' || p === 'training' || p === 'stopping' || p === 'error' || p === 'finding' || p === 'tuning';
  const hasModel = state.model !== null;
  $('train').disabled = busy;
  $('stop').disabled = p !== 'training' && p !== 'tuning';
  $('find-lr').disabled = busy;
  $('auto-tune').disabled = busy;
  $('tune-budget').disabled = busy;
  $('resume').disabled = busy || !hasModel;
  $('resume').textContent = p === 'stopped' ? 'Resume' : `Train ${epochsSetting()} more`;
  $('save').disabled = busy || !hasModel;
  $('download').disabled = busy || !hasModel;
  $('load').disabled = busy || !state.saved;
  $('upload').disabled = busy;
  $('upload-label').classList.toggle('disabled', busy);
  for (const id of ['hidden', 'lr', 'batch', 'epochs', 'private', 'epsilon']) $(id).disabled = busy;
  document.body.dataset.phase = p;
}

const epochsSetting = () => Math.max(1, Math.min(1000, Math.round(Number($('epochs').value) || 30)));
const settings = () => ({
  hidden: $('hidden').value.split(',').map(Number),
  lr: Number($('lr').value),
  // The range test's rate is a one-cycle peak (lrFinder's suggestion): trained as one.
  oneCycle: $('lr').selectedOptions[0]?.dataset.found === 'true',
  batchSize: Number($('batch').value),
  epochs: epochsSetting(),
  epsilon: $('private').checked ? Number($('epsilon').value) : null,
});

/** The private run's line: ε spent against its target, and what privacy cost in test accuracy. */
function privacyText(p, accuracy) {
  const spent = `Private (DP-SGD): ε = ${p.epsilon.toFixed(2)} of ${p.target} spent (δ = ${p.delta}, σ = ${p.sigma.toFixed(2)}, clip ${p.clip}, batch ${p.batchSize})`;
  if (state.plainAccuracy === null) return `${spent}. Train once with the switch off to see what privacy costs in accuracy.`;
  const cost = (state.plainAccuracy - accuracy) * 100;
  return `${spent}. Cost: ${cost >= 0 ? `${cost.toFixed(1)} points below` : `${(-cost).toFixed(1)} points above`} the last run without privacy (${pct(state.plainAccuracy)}).`;
}

async function train(fresh) {
  const s = settings();
  if (fresh) {
    state.epochs = [];
    lossChart.reset(s.epochs);
    accChart.reset(s.epochs);
    renderConfusion(null);
    $('bar').style.width = '0';
    setStatus(`Training a ${[64, ...s.hidden, 10].join('→')} network…`);
  } else setStatus(state.phase === 'stopped' ? `Resuming at epoch ${state.epoch + 1}…` : 'Training further…');
  state.phase = 'training';
  setModelStatus('');
  refresh();
  try {
    const r = await call('train', { fresh, ...s });
    state.model = r.model;
    state.target = r.target;
    state.epoch = r.done;
    state.testAccuracy = r.accuracy;
    state.confusion = r.confusion;
    state.seconds = r.seconds;
    state.privacy = r.privacy;
    if (!r.privacy && !r.stopped) state.plainAccuracy = r.accuracy;
    state.phase = r.stopped ? 'stopped' : 'done';
    lossChart.setXMax(r.target);
    accChart.setXMax(r.target);
    const hits = r.confusion.reduce((s, row, i) => s + row[i], 0);
    setStatus((r.stopped
      ? `Stopped after epoch ${r.done} of ${r.target} · test accuracy ${pct(r.accuracy)} · Resume continues with the same model and optimizer.`
      : `Done: ${r.done} epochs in ${r.seconds.toFixed(1)} s · test accuracy ${pct(r.accuracy)} (${hits} of ${r.n} digits)`) + (r.privacy ? ` · ${privacyText(r.privacy, r.accuracy)}` : ''));
    renderConfusion(r);
    if (pad.lastRow) requestPrediction(pad.lastRow);
  } catch (e) {
    state.phase = state.model ? 'stopped' : 'idle';
    setStatus(`Training failed: ${e.message}`, true);
  }
  refresh();
}

$('train').onclick = () => train(true);
$('resume').onclick = () => train(false);
$('stop').onclick = () => {
  if (state.phase === 'tuning') {
    setAutoStatus('Stopping the search after this batch…');
    call('stop');
    return;
  }
  state.phase = 'stopping';
  setStatus('Stopping after this batch…');
  refresh();
  call('stop');
};
$('epochs').oninput = refresh;

// ---- choosing for the user: the learning-rate range test and a short search ----
function setAutoStatus(text, error = false) {
  const s = $('auto-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

$('find-lr').onclick = async () => {
  const s = settings();
  const before = state.phase;
  state.phase = 'finding';
  setAutoStatus(`Range test for a ${[64, ...s.hidden, 10].join('→')} network, batch ${s.batchSize}: the rate rises from 10⁻⁷ until the loss diverges…`);
  refresh();
  try {
    const f = await call('findLr', { hidden: s.hidden, batchSize: s.batchSize });
    drawLrCurve($('lr-chart'), f);
    const v = +f.suggestion.toPrecision(2);
    // The found rate joins the choices, selected: Train uses it as a one-cycle peak.
    const select = $('lr');
    select.querySelector('option[data-found]')?.remove();
    const opt = Object.assign(document.createElement('option'), { value: String(v), textContent: `${v} (found, one-cycle)` });
    opt.dataset.found = 'true';
    select.append(opt);
    select.value = String(v);
    state.lrFound = { suggestion: v, steps: f.lrs.length, ms: f.ms };
    setAutoStatus(`Range test: ${f.lrs.length} steps in ${(f.ms / 1000).toFixed(2)} s${f.stopped === 'diverged' ? ', stopped where the loss diverged' : ''}. Chosen ${v}, a tenth of the rate at the lowest loss (${+f.minimum.lr.toPrecision(2)}); it is now the learning rate above, and Train peaks a one-cycle schedule there.`);
  } catch (e) {
    setAutoStatus(`The range test failed: ${e.message}`, true);
  }
  state.phase = before === 'finding' ? 'idle' : before;
  refresh();
};

function renderLeaderboard(top) {
  const box = $('leaderboard');
  if (!top?.length) {
    box.innerHTML = '<div class="empty">Auto-tune lists the best trials here.</div>';
    return;
  }
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const h of ['#', 'val acc', 'epochs', 'configuration']) head.append(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  top.forEach((t, i) => {
    const tr = body.insertRow();
    for (const [v, num] of [[i + 1, true], [pct(t.score), true], [t.epochs, true], [t.summary, false]]) Object.assign(tr.insertCell(), { textContent: v, className: num ? 'num' : '' });
  });
  box.replaceChildren(table);
}
renderLeaderboard(null);
drawLrCurve($('lr-chart'), null);

function onTrial(m) {
  renderLeaderboard(m.top);
  $('bar').style.width = pct(Math.min(1, m.elapsed / m.seconds));
  const best = m.top[0];
  setAutoStatus(`Searching: ${m.trials} trials in ${m.elapsed.toFixed(0)} of ${m.seconds} s${best ? ` · best so far ${pct(best.score)} validation accuracy (${best.summary})` : ''}`);
}

$('auto-tune').onclick = async () => {
  const seconds = Number($('tune-budget').value);
  state.phase = 'tuning';
  state.tune = null;
  renderLeaderboard(null);
  $('bar').style.width = '0';
  setAutoStatus(`Searching for ${seconds} s: random configurations, the best third of each round trained further…`);
  refresh();
  try {
    const r = await call('tune', { seconds });
    state.model = r.model;
    state.testAccuracy = r.accuracy;
    state.confusion = r.confusion;
    state.epoch = 0;
    state.epochs = [];
    state.phase = 'done';
    state.tune = { trials: r.trials, seconds: r.seconds, best: r.best, accuracy: r.accuracy, stopped: r.stopped };
    renderConfusion(r);
    $('bar').style.width = '100%';
    setAutoStatus(`${r.stopped === 'aborted' ? 'Stopped' : 'Done'}: ${r.trials} trials in ${r.seconds.toFixed(1)} s (${r.validation.kind === 'folds' ? `${r.validation.folds}-fold` : 'hold-out'} validation). Best: ${r.best.summary}, ${r.best.epochs} epochs · retrained on all training digits: test accuracy ${pct(r.accuracy)}.`);
    setStatus(`The tuned ${r.model.sizes.join('→')} network is the model now · test accuracy ${pct(r.accuracy)} · draw a digit to try it.`);
    if (pad.lastRow) requestPrediction(pad.lastRow);
  } catch (e) {
    state.phase = state.model ? 'stopped' : 'idle';
    setAutoStatus(`Auto-tune failed: ${e.message}`, true);
  }
  refresh();
};

// ---- confusion matrix ----
function renderConfusion(r) {
  const box = $('cm');
  if (!r) {
    box.innerHTML = '<div class="empty">Train or load a model to see where it goes wrong.</div>';
    $('cm-info').textContent = 'Test digits by true class (rows) and prediction (columns), after training.';
    return;
  }
  const m = r.confusion;
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  head.append(document.createElement('th'));
  for (let j = 0; j < m.length; j++) head.append(Object.assign(document.createElement('th'), { textContent: j, scope: 'col' }));
  const body = table.createTBody();
  m.forEach((row, i) => {
    const tr = body.insertRow();
    tr.append(Object.assign(document.createElement('th'), { textContent: i, scope: 'row' }));
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const td = tr.insertCell();
      td.textContent = v;
      td.title = `true ${i}, predicted ${j}: ${v} of ${total}`;
      if (v > 0 && i === j) {
        td.className = 'hit';
        td.style.background = `rgba(36, 87, 214, ${0.35 + 0.65 * (v / total)})`;
      } else if (v > 0) {
        td.className = 'miss';
        td.style.background = `rgba(224, 113, 44, ${Math.min(1, 0.45 + (2 * v) / total)})`;
      }
    });
  });
  const cap = table.createCaption();
  cap.className = 'axis-label';
  cap.style.captionSide = 'bottom';
  cap.textContent = 'rows: true digit · columns: predicted digit';
  box.replaceChildren(table);
  const hits = m.reduce((s, row, i) => s + row[i], 0);
  $('cm-info').textContent = `${r.n} test digits the model never trained on: ${hits} right (${pct(r.accuracy)}), ${r.n - hits} wrong.`;
}
renderConfusion(null);

// ---- drawing and prediction ----
const probsBox = $('probs');
const bars = [];
for (let d = 0; d < 10; d++) {
  const label = Object.assign(document.createElement('span'), { className: 'd', textContent: d });
  const track = Object.assign(document.createElement('div'), { className: 'track' });
  const fill = Object.assign(document.createElement('div'), { className: 'fill' });
  fill.dataset.digit = d;
  track.append(fill);
  const p = Object.assign(document.createElement('span'), { className: 'p', textContent: '' });
  probsBox.append(label, track, p);
  bars.push({ label, track, fill, p });
}

function showProbabilities(probs) {
  const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
  bars.forEach((b, d) => {
    const v = probs ? probs[d] : 0;
    b.fill.style.width = pct(v);
    b.p.textContent = probs ? pct(v, v < 0.1 ? 1 : 0) : '';
    for (const e of [b.label, b.track, b.p]) e.classList.toggle('top', d === best);
  });
  $('prediction').textContent = best >= 0 ? String(best) : '–';
  $('confidence').textContent = best >= 0 ? `${pct(probs[best])} sure` : '';
  state.prediction = best >= 0 ? best : null;
  state.probabilities = probs;
}

const preview = $('preview').getContext('2d');
function showPreview(row) {
  const img = preview.createImageData(8, 8);
  for (let i = 0; i < 64; i++) {
    const v = row ? 255 - Math.round((row[i] / 16) * 225) : 255;
    img.data.set([v, v, v + (row && row[i] ? 6 : 0), 255], i * 4);
  }
  preview.putImageData(img, 0, 0);
}

// ---- the heat map: integrated gradients of the predicted class over the drawing ----
// Each cell of the 8×8 grid gets the share of the class's logit its ink brought (against a blank pad):
// blue where the ink pushed toward the predicted class, orange where it pushed against it, stronger with
// |share| (scaled by the largest; the square root lifts the small ones into view). The 8×8 cells are drawn
// as cells, unsmoothed, over the square of the drawing the grid covers (pad.box): each colour lies on the
// strokes whose ink that cell counted.
const heatCtx = $('heat').getContext('2d');
const cells = Object.assign(document.createElement('canvas'), { width: 8, height: 8 });
const cellsCtx = cells.getContext('2d');
const TOWARD = [36, 87, 214], AGAINST = [224, 113, 44];
const HEAT_TIMES = 200;

function showHeat(h, box) {
  heatCtx.clearRect(0, 0, heatCtx.canvas.width, heatCtx.canvas.height);
  $('heat-legend').hidden = !h;
  if (!h) return;
  $('heat-class').textContent = String(h.target);
  const max = Math.max(...h.values.map(Math.abs));
  if (!(max > 0) || !box) return;
  const img = cellsCtx.createImageData(8, 8);
  h.values.forEach((v, i) => {
    const s = Math.abs(v) / max;
    img.data.set([...(v > 0 ? TOWARD : AGAINST), Math.round(200 * Math.sqrt(s))], i * 4);
  });
  cellsCtx.putImageData(img, 0, 0);
  heatCtx.imageSmoothingEnabled = false;
  heatCtx.drawImage(cells, box.x, box.y, box.side, box.side);
}

/** Records one heat-map update: ms from the request to the map drawn, as this page measures it. */
function heatTiming(h, ms, row, box) {
  state.heatUpdates++;
  state.heatTimes.push(ms);
  if (state.heatTimes.length > HEAT_TIMES) state.heatTimes.shift();
  const sorted = [...state.heatTimes].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  state.heat = { target: h.target, steps: h.steps, pixels: Array.from(row), box, values: h.values, delta: h.delta, gap: h.gap, workerMs: h.ms, ms, medianMs: median };
  const sum = h.values.reduce((a, b) => a + b, 0);
  $('heat-info').textContent = `${h.steps} steps from a blank pad · Σ shares ${sum.toFixed(2)}, logit change ${h.delta.toFixed(2)} · update ${ms.toFixed(1)} ms (median ${median.toFixed(1)} ms over ${sorted.length})`;
}

// One prediction in flight at a time; the newest drawing wins.
let inFlight = false, queued = null;
async function requestPrediction(row, box = pad.lastBox) {
  state.predicting = true;
  if (inFlight) { queued = { row, box }; return; }
  inFlight = true;
  try {
    const heat = $('heat-on').checked;
    const t0 = performance.now();
    const r = await call('predict', { pixels: Array.from(row), heat });
    if (pad.lastRow) {
      if (r) {
        showProbabilities(r.probabilities);
        showHeat(r.heat ?? null, box);
        if (r.heat) heatTiming(r.heat, performance.now() - t0, row, box);
      } else $('confidence').textContent = 'train or load a model first';
    }
  } catch (e) {
    $('confidence').textContent = e.message;
  } finally {
    inFlight = false;
    if (queued) { const q = queued; queued = null; requestPrediction(q.row, q.box); }
    else state.predicting = false;
  }
}

const pad = new DrawPad($('pad'), {
  onChange(row) {
    pad.lastRow = row;
    pad.lastBox = pad.box;
    showPreview(row);
    if (row) requestPrediction(row);
    else {
      showProbabilities(null);
      showHeat(null);
      $('heat-info').textContent = '';
    }
  },
});
pad.lastRow = null;
pad.lastBox = null;
$('heat-on').onchange = () => {
  if (pad.lastRow) requestPrediction(pad.lastRow);
  if (!$('heat-on').checked) {
    showHeat(null);
    $('heat-info').textContent = '';
  }
};
showPreview(null);
showProbabilities(null);
$('clear').onclick = () => pad.clear();

// ---- model files: IndexedDB, download, upload ----
function adopted(r, from) {
  state.model = r.model;
  state.testAccuracy = r.accuracy;
  state.confusion = r.confusion;
  state.phase = 'loaded';
  state.epoch = 0;
  state.epochs = [];
  lossChart.reset(epochsSetting());
  accChart.reset(epochsSetting());
  $('bar').style.width = '0';
  renderConfusion(r);
  setStatus(`Loaded a ${r.model.sizes.join('→')} network from ${from} · test accuracy ${pct(r.accuracy)} · training it further starts a fresh optimizer.`);
  if (pad.lastRow) requestPrediction(pad.lastRow);
  refresh();
}

$('save').onclick = async () => {
  try {
    const r = await call('save');
    state.saved = true;
    setModelStatus(`Saved in this browser (IndexedDB, key '${r.key}', ${(r.bytes / 1024).toFixed(1)} KB).`);
  } catch (e) { setModelStatus(`Could not save: ${e.message}`, true); }
  refresh();
};
$('load').onclick = async () => {
  try {
    adopted(await call('loadSaved'), 'this browser (IndexedDB)');
    setModelStatus('Loaded the saved model.');
  } catch (e) { setModelStatus(`Could not load: ${e.message}`, true); }
};
$('download').onclick = async () => {
  try {
    const { bytes } = await call('exportBytes');
    // The library's helper (a Blob and a clicked link); loaded on first use only.
    const { downloadBytes } = await import('./dist/index.js');
    downloadBytes(bytes, 'digits-mlp.safetensors');
    setModelStatus(`Downloaded digits-mlp.safetensors (${(bytes.byteLength / 1024).toFixed(1)} KB, safetensors: PyTorch can read the weights).`);
  } catch (e) { setModelStatus(`Could not download: ${e.message}`, true); }
};
$('upload').onchange = async (ev) => {
  const file = ev.target.files?.[0];
  ev.target.value = '';
  if (!file) return;
  try {
    if (file.size > 64 * 1024 * 1024) throw new Error(`${file.name} is ${(file.size / 2 ** 20).toFixed(0)} MB; a digits model is a few dozen KB`);
    const bytes = await file.arrayBuffer();
    adopted(await call('loadBytes', { bytes, name: file.name }, [bytes]), file.name);
    setModelStatus(`Loaded ${file.name}.`);
  } catch (e) { setModelStatus(`Could not load ${file.name}: ${e.message}`, true); }
};

// ---- startup ----
async function startup() {
  refresh();
  try {
    const { info, data, saved } = await call('start');
    state.info = info;
    state.backend = info.backend;
    state.saved = saved;
    const b = $('backend');
    b.innerHTML = `backend <b>${info.backend}</b>${info.binary ? ` · ${info.binary.startsWith('relaxed') ? 'relaxed SIMD' : 'SIMD'}` : ''}`;
    b.title = info.notes.join('\n');
    const iso = $('isolation');
    if (info.backend === 'wasm-threads') {
      iso.textContent = `threads on · ${navigator.hardwareConcurrency ?? '?'} cores`;
      iso.className = 'pill good';
    } else if (info.features.threads) {
      iso.textContent = 'cross-origin isolated · threads possible';
      iso.className = 'pill';
    } else {
      iso.textContent = info.crossOriginIsolated ? 'single thread' : 'not cross-origin isolated · single thread';
      iso.className = 'pill warn';
    }
    iso.title = info.notes.join('\n');
    $('data-info').textContent = `${data.rows.toLocaleString('en')} handwritten digits (8×8 pixels): ${data.train.toLocaleString('en')} to train on, ${data.test} held out to test.`;
    state.phase = 'idle';
    setStatus(`Ready. Train a network (in a worker, on the ${info.backend} backend)${saved ? ', or load the one saved in this browser' : ''}.`);
  } catch (e) {
    fail(`Could not start: ${e.message}`);
  }
  refresh();
}

async function offlineSupport() {
  const pill = $('offline');
  const show = () => {
    if (!state.offlineReady) return;
    pill.textContent = navigator.onLine ? 'works offline' : 'offline · running from cache';
    pill.className = 'pill good';
    pill.title = `service worker cache ${state.cacheVersion}`;
  };
  addEventListener('online', show);
  addEventListener('offline', show);
  if (!('serviceWorker' in navigator)) {
    pill.textContent = 'no offline support here';
    pill.title = 'service workers need https or localhost';
    return;
  }
  try {
    const reg = await navigator.serviceWorker.register('./sw.js');
    // Updates: a new sw.js installs beside this one; offer a reload that switches over.
    let updating = false;
    const offer = (w) => {
      $('update').hidden = false;
      $('update-btn').onclick = () => { updating = true; w.postMessage({ type: 'skip-waiting' }); };
    };
    const watch = (w) => w?.addEventListener('statechange', () => { if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w); });
    // The update may have been found while this page loaded (installing), or before (waiting).
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    watch(reg.installing);
    reg.addEventListener('updatefound', () => watch(reg.installing));
    navigator.serviceWorker.addEventListener('controllerchange', () => { if (updating) location.reload(); });
    const active = (await navigator.serviceWorker.ready).active;
    const channel = new MessageChannel();
    const reply = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
    active.postMessage({ type: 'version' }, [channel.port2]);
    const v = await reply;
    state.cacheVersion = v.version;
    state.offlineReady = true;
    show();
  } catch (e) {
    pill.textContent = 'offline support failed';
    pill.title = e.message;
    pill.className = 'pill warn';
  }
}

window.demo = { state, call, sample: (index) => call('sample', { index }) };
startup();
offlineSupport();
