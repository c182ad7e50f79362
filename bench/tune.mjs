// Hyperparameter search against scikit-learn's defaults, and the learning-rate finder's rule.
//
//   node bench/tune.mjs                 tune('auto') with a 60 s budget on one thread (wasm) on each table
//                                       of test/fixtures/tune/tables.json, scored on simdnn's test split,
//                                       next to MLPClassifier/MLPRegressor defaults on the same rows
//   node bench/tune.mjs --seconds 20    another budget;  --seeds 3: tune seeds 0..2 (median reported)
//   node bench/tune.mjs --only digits,wine
//   node bench/tune.mjs --finder        lrFinder: one-cycle test accuracy at minimum/10 and at the steepest
//                                       descent (4 seeds × widths 128, 256; 20 epochs), per table;
//                                       --smoothing 0.98: with another running average (default: lrFinder's)
//   node bench/tune.mjs --memory        memory after 1 and after 100 trials
//
// Build first (npm run build). The scikit-learn figures come from test/fixtures/tune/sklearn-mlp.json
// (made by sklearn_mlp.py on the rows of splits.json): no Python runs here. Wall-clock figures depend on
// the machine's load, printed beside them.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as sd from '../dist/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const fixtures = `${root}test/fixtures/tune/`;
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : process.argv[i + 1];
};
const flag = (name) => process.argv.includes(`--${name}`);
const tables = JSON.parse(readFileSync(`${fixtures}tables.json`, 'utf8'));
const splits = JSON.parse(readFileSync(`${fixtures}splits.json`, 'utf8'));
const sklearn = JSON.parse(readFileSync(`${fixtures}sklearn-mlp.json`, 'utf8'));
/** The reference figures the task quoted (measured on other splits), for the record. */
const QUOTED = { digits: 0.978, iris: 0.96, diabetes: 0.27 };
const only = arg('only', null)?.split(',');
const load = () => loadavg()[0].toFixed(1);
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f4 = (v) => (v === null || v === undefined ? '–' : v.toFixed(4));

await sd.init({ backend: 'wasm' });
console.log(`simdnn tune bench · ${sd.info().backend} (${sd.info().binary}), one thread · node ${process.version} · load ${load()} at start`);

/** A table's data and its split, checked against the split the scikit-learn figures were measured on. */
async function open(t) {
  const ds = await sd.data.readCsv(root + t.file, { target: t.target, task: t.task });
  const parts = sd.data.split(ds.x, ds.y, { test: splits.test, stratify: t.task === 'classification', seed: splits.seed });
  const want = splits.tables[t.name];
  if (JSON.stringify(Array.from(parts.indices.test)) !== JSON.stringify(want.test))
    throw new Error(`${t.name}: the test rows differ from test/fixtures/tune/splits.json (regenerate the fixtures: splits.mjs, then sklearn_mlp.py)`);
  return { ds, ...parts };
}

function testScore(model, t, test) {
  if (t.task === 'classification') return sd.metrics.accuracy(model.predictClasses(test.x), test.y);
  const p = model.predict(test.x);
  try {
    return sd.metrics.r2(p.dataSync(), test.y.dataSync());
  } finally {
    p.dispose();
  }
}

async function tuneTables() {
  const seconds = Number(arg('seconds', 60));
  const seeds = Number(arg('seeds', 1));
  const rows = [];
  for (const t of tables) {
    if (only && !only.includes(t.name)) continue;
    const { ds, train, test } = await open(t);
    const scaler = sd.data.standardize(train.x);
    const runs = [];
    for (let seed = 0; seed < seeds; seed++) {
      const l0 = load();
      const r = await sd.tune('auto', train.x, train.y, {
        loss: t.task === 'classification' ? 'softmaxCrossEntropy' : 'mse', seconds, seed, refit: true, preprocessing: { scaler },
      });
      const score = testScore(r.model, t, test);
      runs.push({ seed, score, val: r.score, trials: r.trials, ms: r.ms, epochs: r.epochs, validation: r.validation, best: r.leaderboard[0], load: `${l0}→${load()}` });
      console.log(`  ${t.name} seed ${seed}: test ${f4(score)} (validation ${f4(r.score)}), ${r.trials} trials in ${(r.ms / 1000).toFixed(1)} s, best: ${r.leaderboard[0].summary}, ${r.leaderboard[0].epochs} epochs · load ${l0}→${load()}`);
      r.model.dispose();
    }
    const sk = sklearn.tables[t.name];
    rows.push({ t, sk, runs, score: median(runs.map((r) => r.score)), perMin: median(runs.map((r) => r.trials / (r.ms / 60000))) });
    sd.dispose([ds.x, ds.y, train.x, train.y, test.x, test.y]);
  }
  console.log(`\ntune('auto'), ${seconds} s budget, one thread; test split ${splits.test} (stratified for classes), seed ${splits.seed}; median over ${seeds} tune seed${seeds > 1 ? 's' : ''}`);
  console.log(`scikit-learn ${sklearn.sklearn} MLP defaults on the same rows, median (mean) over random_state ${sklearn.seeds.join(',')}; 'scaled': after a StandardScaler`);
  const head = ['table', 'tuned?', 'train/test', 'metric', 'sklearn default', 'sklearn scaled', 'quoted', 'simdnn tune', '≥ default', 'trials', 'trials/min', 'validation'];
  const body = rows.map(({ t, sk, runs, score, perMin }) => [
    t.name, t.tuned ? 'shipped' : 'new', `${sk.train}/${sk.test}`, sk.metric,
    `${f4(sk.default.median)} (${f4(sk.default.mean)})`, `${f4(sk.scaled.median)} (${f4(sk.scaled.mean)})`, QUOTED[t.name] === undefined ? '–' : String(QUOTED[t.name]),
    f4(score), score >= sk.default.median ? 'yes' : 'NO', runs.map((r) => r.trials).join('/'), perMin.toFixed(0),
    runs[0].validation.kind === 'folds' ? `${runs[0].validation.folds}-fold` : `hold-out ${runs[0].validation.fraction}`,
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  for (const r of [head, ...body]) console.log(r.map((c, j) => c.padEnd(w[j])).join('  '));
}

/** The suggestion rules of lrFinder, by what one-cycle training at each rate reaches on the test rows. */
async function finder() {
  const epochs = 20;
  const smoothing = arg('smoothing', undefined) === undefined ? undefined : Number(arg('smoothing'));
  console.log(`\nlrFinder (smoothing ${smoothing ?? 'default'}): one-cycle training for ${epochs} epochs (batch 32, adam) peaking at the suggestion, test accuracy; seeds 0..3 × hidden 128, 256`);
  const head = ['table', 'rule', 'mean', 'worst', 'rates (median)'];
  const body = [];
  for (const t of tables) {
    if (t.task !== 'classification' || (only && !only.includes(t.name))) continue;
    const { ds, train, test } = await open(t);
    const scaler = sd.data.standardize(train.x);
    const got = { 'minimum/10': [], steepest: [] }, rates = { 'minimum/10': [], steepest: [] };
    for (const seed of [0, 1, 2, 3])
      for (const hidden of [128, 256]) {
        const make = () => {
          const m = sd.mlp([ds.columns.length, hidden, ds.classes.length], { seed });
          m.preprocessing = { scaler };
          return m;
        };
        const probe = make();
        const f = await sd.lrFinder(probe, train.x, train.y, { loss: 'softmaxCrossEntropy', batchSize: 32, seed, ...(smoothing === undefined ? {} : { smoothing }) });
        probe.dispose();
        for (const [rule, lr] of [['minimum/10', f.suggestion], ['steepest', f.steepest]]) {
          const m = make();
          await m.fit(train.x, train.y, { loss: 'softmaxCrossEntropy', epochs, batchSize: 32, seed, schedule: sd.schedules.oneCycle({ maxLr: lr }) }).catch(() => null);
          got[rule].push(testScore(m, t, test));
          rates[rule].push(lr);
          m.dispose();
        }
      }
    for (const rule of Object.keys(got)) {
      const v = got[rule];
      body.push([t.name, rule, f4(v.reduce((a, b) => a + b) / v.length), f4(Math.min(...v)), median(rates[rule]).toPrecision(2)]);
    }
    sd.dispose([ds.x, ds.y, train.x, train.y, test.x, test.y]);
  }
  const w = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  for (const r of [head, ...body]) console.log(r.map((c, j) => c.padEnd(w[j])).join('  '));
}

/** Live tensors and bytes after 1 trial and after 100 (tiny models, so that 100 trials take seconds). */
async function memory() {
  const { ds, train } = await open(tables.find((t) => t.name === 'iris'));
  const space = { hidden: [[4], [6]], lr: { min: 1e-3, max: 1e-1 } };
  const after = async (trials) => {
    const r = await sd.tune(space, train.x, train.y, { loss: 'softmaxCrossEntropy', trials, epochs: 3, minEpochs: 1, validation: 0.2 });
    r.model.dispose();
    const m = sd.memory();
    return `${m.tensors} tensors, ${m.bytes} bytes, ${m.backend.allocatedBytes} allocated`;
  };
  console.log(`\nmemory after 1 trial: ${await after(1)}; after 100 trials: ${await after(100)}`);
  sd.dispose([ds.x, ds.y, train.x, train.y]);
}

if (flag('finder')) await finder();
else if (flag('memory')) await memory();
else await tuneTables();
console.log(`load ${load()} at the end`);
