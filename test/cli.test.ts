// The `simdnn` command line, run in-process through main() from the built bundle (dist/cli.js, which
// imports dist/index.js), plus one real run of bin/simdnn.mjs. Build first: npm run build.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p: string[]) => join(root, ...p);

/** Fails with the fix when dist/ is missing or older than the CLI sources. */
function checkBuilt(): void {
  const cli = at('dist', 'cli.js');
  if (!existsSync(cli) || !existsSync(at('dist', 'index.js'))) throw new Error('dist/cli.js or dist/index.js is missing: run `npm run build` first.');
  const newest = Math.max(statSync(at('src', 'cli.ts')).mtimeMs, ...readdirSync(at('src', 'cli')).map((f) => statSync(at('src', 'cli', f)).mtimeMs));
  if (statSync(cli).mtimeMs < newest) throw new Error('dist/cli.js is older than src/cli*: run `npm run build` again.');
}

type Main = (argv: string[], io?: Record<string, unknown>) => Promise<number>;
let main: Main;
let sd: any;
let dir: string;

beforeAll(async () => {
  checkBuilt();
  // Through file URLs, as a user's Node would load the package.
  ({ main } = await import(/* @vite-ignore */ pathToFileURL(at('dist', 'cli.js')).href));
  sd = await import(/* @vite-ignore */ pathToFileURL(at('dist', 'index.js')).href);
  dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], opts: { isTTY?: boolean; columns?: number } = {}): Promise<Run> {
  let out = '', err = '';
  const code = await main(args, {
    stdout: (s: string) => void (out += s),
    stderr: (s: string) => void (err += s),
    isTTY: opts.isTTY ?? false,
    columns: opts.columns ?? 100,
    cwd: root,
  });
  return { code, out, err };
}

/** The value on a metrics table line such as "  accuracy           0.9778". */
function figure(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label.replace(/[()²]/g, (c) => `\\${c}`)}\\s+(-?[\\d.]+(?:e[+-]?\\d+)?)\\s*$`, 'm').exec(text);
  if (!m) throw new Error(`no '${label}' line in:\n${text}`);
  return Number(m[1]);
}

const tmp = (name: string) => join(dir, name);
const version = JSON.parse(readFileSync(at('package.json'), 'utf8')).version;

describe('simdnn: help, version, info', () => {
  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out.trim()).toBe(`simdnn ${version}`);
  });

  it('--help, no arguments and help <command> print usage', async () => {
    for (const args of [['--help'], [], ['help']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/simdnn train \[data\.csv \| digits \| iris \| diabetes\]/);
      expect(r.out).toMatch(/simdnn predict model\.safetensors data\.csv/);
    }
    const t = await cli(['help', 'train']);
    expect(t.out).toMatch(/--hidden N,N,\.\.\.\s+hidden layer sizes \(default 128/);
    expect((await cli(['train', '--help'])).out).toBe(t.out);
    expect((await cli(['predict', '-h'])).out).toMatch(/^Usage: simdnn predict/);
  });

  it('info names the backend and the features', async () => {
    const r = await cli(['info']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^backend\s+(wasm|js)/m);
    expect(r.out).toMatch(/^WebAssembly SIMD\s+(yes|no)/m);
    const j = await cli(['info', '--json', '--backend', 'js']);
    expect(JSON.parse(j.out)).toMatchObject({ version, backend: 'js' });
  });
});

describe('simdnn train', () => {
  it('trains on the built-in digits: header, per-epoch lines, metrics table, saved model that load() reads', async () => {
    const out = tmp('digits-short.safetensors');
    const r = await cli(['train', '--epochs', '3', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^simdnn .* · backend (wasm|js)/);
    expect(r.out).toMatch(/digits\.csv \(built-in\): 1,797 rows × 64 features, target 'digit': classification, 10 classes/);
    expect(r.out).toMatch(/split\s+train 1,293 · validation 144 · test 360, stratified, seed 0/);
    expect(r.out).toMatch(/64 → 128 relu → 10 · 9,610 parameters · softmaxCrossEntropy · adam lr 0\.001 · batch 32 · 3 epochs/);
    for (const label of ['accuracy', 'precision \\(macro\\)', 'recall \\(macro\\)', 'F1 \\(macro\\)', 'log-loss']) expect(r.out).toMatch(new RegExp(`^  ${label}\\s+\\d\\.\\d{4}$`, 'm'));
    expect(figure(r.out, 'accuracy')).toBeGreaterThan(0.85);
    expect(r.out).toMatch(/per class\n\s+precision\s+recall\s+f1-score\s+support/);
    expect(r.out).toMatch(/confusion matrix \(rows: true class, columns: predicted\)\n\s+0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s+8\s+9\n\s+0\s+\d+/);
    expect(r.out).toMatch(/training 3 epochs, 123 steps in [\d.]+ s · [\d,.]+ samples\/s on (wasm|js)/);
    expect(r.out).toMatch(/saved\s+.*digits-short\.safetensors \([\d.]+ KiB\)/);
    // Not a terminal: one plain line per epoch, no carriage returns.
    expect(r.err.trim().split('\n')).toHaveLength(3);
    expect(r.err).toMatch(/^epoch 1\/3  loss \d\.\d{4} acc \d\.\d{4}  val loss \d\.\d{4} acc \d\.\d{4}  [\d,.]+ samples\/s$/m);
    expect(r.err).not.toMatch(/\r/);

    const model = await sd.load(out);
    try {
      expect(model.inputSize).toBe(64);
      expect(model.outputSize).toBe(10);
      expect(model.preprocessing).toMatchObject({ classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], target: 'digit', task: 'classification' });
      expect(model.preprocessing.columns).toHaveLength(64);
      expect(model.preprocessing.encoding.features).toHaveLength(64);
      expect(model.preprocessing.scaler.kind).toBe('standard');
    } finally {
      model.dispose();
    }
  });

  it('reaches ≥ 0.97 test accuracy on digits with the defaults', async () => {
    const out = tmp('digits.safetensors');
    const r = await cli(['train', '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(''); // --quiet: no progress
    expect(r.out).not.toMatch(/^simdnn /m); // nor the header
    expect(r.out).toMatch(/training 30 epochs, 1,230 steps/);
    expect(figure(r.out, 'accuracy')).toBeGreaterThanOrEqual(0.97);
    expect(existsSync(out)).toBe(true);
  });

  it('--dp-epsilon trains with differential privacy and reports the ε spent beside the accuracy; the other --dp options need it', async () => {
    const out = tmp('digits-dp.safetensors');
    const r = await cli(['train', '--dp-epsilon', '3', '--lr', '0.003', '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    const m = /^privacy {2}\(ε = ([\d.]+), δ = 1e-5\)-differentially private: DP-SGD, per-sample gradients clipped to 1, noise σ = ([\d.]+)/m.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(3);
    expect(Number(m![1])).toBeGreaterThan(2.9);
    expect(figure(r.out, 'accuracy')).toBeGreaterThan(0.85);
    const bad = await cli(['train', '--dp-clip', '2']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--dp-delta and --dp-clip set up private training, which --dp-epsilon turns on/);
    const neg = await cli(['train', '--dp-epsilon', '0']);
    expect(neg.code).toBe(2);
    expect(neg.err).toMatch(/--dp-epsilon must be a positive number/);
    const delta = await cli(['train', '--dp-epsilon', '3', '--dp-delta', '0.01', '--epochs', '1', '--out', tmp('x.safetensors')]);
    expect(delta.code).toBe(1);
    expect(delta.err).toMatch(/privacy.delta 0.01 is not below 1\/n/);
  });

  it('draws a live progress bar with \\r on a terminal', async () => {
    const r = await cli(['train', '--epochs', '2', '--out', tmp('tty.safetensors')], { isTTY: true, columns: 120 });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\repoch 1\/2 █+░* loss \d\.\d{4} · [\d,.]+ samples\/s\x1b\[K/); // mid-epoch
    expect(r.err).toMatch(/\repoch 2\/2 █+ loss \d\.\d{4} acc \d\.\d{4} · val loss \d\.\d{4} acc \d\.\d{4} · [\d,.]+ samples\/s\x1b\[K\n/);
    expect(r.err.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('finishes the last line and says so when early stopping ends training', async () => {
    const r = await cli(['train', data('iris.csv'), '--epochs', '300', '--lr', '0.05', '--patience', '2', '--out', tmp('es.safetensors')]);
    expect(r.code, r.err).toBe(0);
    const m = /training (\d+) epochs \(stopped early; weights of epoch (\d+) restored\)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(r.err.trim().split('\n')).toHaveLength(Number(m![1]));
  });

  it('runs on the backend asked for', async () => {
    const r = await cli(['train', data('iris.csv'), '--backend', 'js', '--epochs', '5', '--out', tmp('js.safetensors')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^simdnn .* · backend js · /);
    expect(r.out).toMatch(/samples\/s on js\n/);
  });

  it('trains iris (text classes) and prints their names', async () => {
    const r = await cli(['train', data('iris.csv'), '--target', 'species', '--epochs', '100', '--out', tmp('iris.safetensors')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/target 'species': classification, 3 classes/);
    expect(r.out).toMatch(/^\s+setosa\s+versicolor\s+virginica$/m);
    expect(figure(r.out, 'accuracy')).toBeGreaterThanOrEqual(0.9);
  });

  it('saves the model before scoring it; counts agree with their noun (1 feature, 1 epoch)', async () => {
    const out = tmp('one-feature.safetensors');
    const r = await cli(['train', data('iris.csv'), '--features', 'petal_width', '--epochs', '1', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/iris\.csv: 150 rows × 1 feature, target 'species'/);
    expect(r.out).toMatch(/ · batch 32 · 1 epoch\n/);
    expect(r.out).toMatch(/\ntraining 1 epoch, \d+ steps in /);
    // saved, then scored: a failure in scoring (such as memory) cannot lose the trained model
    const saved = r.out.indexOf('\nsaved '), scored = r.out.indexOf('\ntest set (30 rows)');
    expect(saved).toBeGreaterThan(0);
    expect(scored).toBeGreaterThan(saved);
  });

  it('shows the read on a terminal: bytes of the file and rows, erased when done', async () => {
    const r = await cli(['train', data('iris.csv'), '--epochs', '1', '--out', tmp('tty-read.safetensors')], { isTTY: true, columns: 120 });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^\rreading data\/iris\.csv {2}[\d.]+ KiB of [\d.]+ KiB \(100%\) · 150 rows\x1b\[K\r\x1b\[K/);
  });

  it('warns on stderr, even with --quiet, when the target looks like an id', async () => {
    writeFileSync(tmp('ids.csv'), `a,id\n${Array.from({ length: 100 }, (_, i) => `${i % 9},${1000 + i * 7}`).join('\n')}\n`);
    const r = await cli(['train', tmp('ids.csv'), '--task', 'classification', '--epochs', '1', '--test', '0', '--val', '0', '-q', '--out', tmp('ids.safetensors')]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(
      "warning: the target 'id' has 100 classes for 100 rows (1.0 per class): it looks like an id or a number rather than a class label; " +
        'use --task regression if it is a quantity to predict, or choose another --target (and leave an id column out of --features)\n',
    );
  });

  it('trains diabetes as regression and prints MSE, MAE and R² in the original units', async () => {
    const out = tmp('diabetes.safetensors');
    const r = await cli(['train', data('diabetes.csv'), '--target', 'progression', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/target 'progression': regression/);
    expect(r.out).toMatch(/model\s+10 → 128 relu → 1 .* · mse ·/);
    const [mse, mae, r2] = [figure(r.out, 'MSE'), figure(r.out, 'MAE'), figure(r.out, 'R²')];
    expect(r2).toBeGreaterThanOrEqual(0.4);
    expect(mse).toBeGreaterThan(1000); // progression is 25..346: errors in its units, not standardized ones
    expect(mae).toBeGreaterThan(20);
    expect(figure(r.out, 'RMSE')).toBeCloseTo(Math.sqrt(mse), 1);
    // The saved model predicts in the original units.
    const model = await sd.load(out);
    try {
      const ds = await sd.data.readCsv(data('diabetes.csv'), { target: 'progression' });
      const pred = model.predict(ds.x);
      expect(sd.metrics.r2(pred, ds.y)).toBeGreaterThan(0.4);
      sd.dispose([ds.x, ds.y, pred]);
    } finally {
      model.dispose();
    }
  });
});

describe('simdnn predict', () => {
  let irisModel: string;
  beforeAll(async () => {
    irisModel = tmp('iris-predict.safetensors');
    const r = await cli(['train', data('iris.csv'), '--target', 'species', '--epochs', '100', '--out', irisModel, '--quiet']);
    expect(r.code, r.err).toBe(0);
  });

  it('writes class names and probabilities, and scores them when the target column is there', async () => {
    const out = tmp('pred.csv');
    const r = await cli(['predict', irisModel, data('iris.csv'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote 150 predictions to .*pred\.csv$/m);
    expect(r.out).toMatch(/metrics against 'species' \(150 rows\)/);
    expect(figure(r.out, 'accuracy')).toBeGreaterThan(0.85);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('prediction,prob_setosa,prob_versicolor,prob_virginica');
    expect(lines).toHaveLength(151);
    const first = lines[1].split(',');
    expect(first[0]).toBe('setosa');
    const p = first.slice(1).map(Number);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(p[0]).toBeGreaterThan(0.5);
  });

  it('prints the CSV alone on stdout (metrics on stderr), and needs no target column', async () => {
    const r = await cli(['predict', irisModel, data('iris.csv')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toBe('prediction,prob_setosa,prob_versicolor,prob_virginica');
    expect(r.out).not.toMatch(/accuracy/);
    expect(r.err).toMatch(/accuracy/);

    // Columns are matched by name: reordered, without the target, an extra column.
    const rows = 'id,petal_width,petal_length,sepal_width,sepal_length\n1,0.2,1.4,3.5,5.1\n2,2.3,5.4,3.0,6.2\n';
    writeFileSync(tmp('new.csv'), rows);
    const n = await cli(['predict', irisModel, tmp('new.csv')]);
    expect(n.code, n.err).toBe(0);
    expect(n.err).toBe('');
    expect(n.out.trim().split('\n').map((l) => l.split(',')[0])).toEqual(['prediction', 'setosa', 'virginica']);
  });

  it('shows the read on a terminal; one row is "1 prediction" scored on "1 row"', async () => {
    const r = await cli(['predict', irisModel, data('iris.csv'), '--out', tmp('tty-pred.csv')], { isTTY: true, columns: 120 });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^\rreading data\/iris\.csv {2}[\d.]+ KiB of [\d.]+ KiB \(100%\) · 150 rows\x1b\[K\r\x1b\[K$/);
    writeFileSync(tmp('one.csv'), 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n');
    const one = await cli(['predict', irisModel, tmp('one.csv'), '--out', tmp('one-pred.csv')]);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^wrote 1 prediction to .*one-pred\.csv$/m);
    expect(one.out).toMatch(/^metrics against 'species' \(1 row\)$/m);
  });

  it('names the row of the file in an error past the first chunk, and leaves no output file', async () => {
    const model = tmp('colors.safetensors');
    writeFileSync(tmp('colors.csv'), `color,size,y\n${Array.from({ length: 40 }, (_, i) => `${['red', 'blue'][i % 2]},${i},${i % 2}`).join('\n')}\n`);
    expect((await cli(['train', tmp('colors.csv'), '--epochs', '1', '-q', '--out', model])).code).toBe(0);
    // 30,000 rows (more than one 64 KiB chunk), then a color the model never saw
    const rows = Array.from({ length: 30_000 }, (_, i) => `${['red', 'blue'][i % 2]},${i % 40}`);
    rows.push('green,3');
    writeFileSync(tmp('colors-new.csv'), `color,size\n${rows.join('\n')}\n`);
    const r = await cli(['predict', model, tmp('colors-new.csv'), '--out', tmp('colors-pred.csv')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^simdnn predict: encodeRows: 'color' is "green" in row 30002, a value the training data did not have/);
    expect(readdirSync(dir).filter((f) => f.includes('colors-pred'))).toEqual([]);
  });

  it('a missing feature column is a clear error (exit 2)', async () => {
    writeFileSync(tmp('lacking.csv'), 'sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n');
    const r = await cli(['predict', irisModel, tmp('lacking.csv')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^simdnn predict: '.*lacking\.csv' lacks the feature column 'petal_width' that the model was trained on/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown class in the target column is a clear error (exit 2)', async () => {
    writeFileSync(tmp('badlabel.csv'), 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,rose\n');
    const r = await cli(['predict', irisModel, tmp('badlabel.csv')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/row 2 of .* has species 'rose', a class the model does not know \(it knows 'setosa', 'versicolor' and 'virginica'\)/);
  });

  it('takes a model built with the library: feature names without a CSV encoding', async () => {
    await sd.init();
    const ds = await sd.data.readCsv(data('iris.csv'), { target: 'species' });
    const model = sd.mlp([4, 16, 3], { seed: 1 });
    model.preprocessing = { scaler: sd.data.standardize(ds.x), classes: ds.classes, columns: ds.columns, target: 'species', task: 'classification' };
    await model.fit(ds.x, ds.y, { loss: 'softmaxCrossEntropy', epochs: 60, optimizer: sd.optimizers.adam({ lr: 0.01 }) });
    const file = tmp('library.safetensors');
    await sd.saveFile(model, file);
    model.preprocessing = {};
    await sd.saveFile(model, tmp('bare.safetensors'));
    sd.dispose([ds.x, ds.y]);
    model.dispose();

    const r = await cli(['predict', file, data('iris.csv'), '-o', tmp('lib.csv')]);
    expect(r.code, r.err).toBe(0);
    expect(figure(r.out, 'accuracy')).toBeGreaterThan(0.9);
    const bare = await cli(['predict', tmp('bare.safetensors'), data('iris.csv')]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^simdnn predict: the model file records no feature columns/);
  });

  it('round-trips a regression model: values in the original units and R²', async () => {
    const model = tmp('diabetes-predict.safetensors');
    expect((await cli(['train', data('diabetes.csv'), '--target', 'progression', '--out', model, '-q'])).code).toBe(0);
    const r = await cli(['predict', model, data('diabetes.csv'), '-o', tmp('d.csv')]);
    expect(r.code, r.err).toBe(0);
    expect(figure(r.out, 'R²')).toBeGreaterThan(0.4);
    const lines = readFileSync(tmp('d.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('prediction');
    expect(lines).toHaveLength(443);
    const v = lines.slice(1).map(Number);
    expect(v.every(Number.isFinite)).toBe(true);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean).toBeGreaterThan(100);
    expect(mean).toBeLessThan(200);
  });
});

describe('errors: one line on stderr, exit 2 for usage and input, 1 for failures', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown command', ['trian'], /^simdnn: unknown command 'trian'; did you mean 'train'\?/],
    ['an unknown top-level option', ['--bogus'], /^simdnn: unknown option '--bogus'/],
    ['an unknown option', ['train', '--epoch', '3'], /^simdnn train: unknown option '--epoch'; did you mean '--epochs'\?/],
    ['a bad number', ['train', '--epochs', 'ten'], /^simdnn train: --epochs must be a number, got 'ten'\.$/],
    ['a number out of range', ['train', '--epochs', '0'], /^simdnn train: --epochs must be an integer in 1\.\.1000000, got '0'\.$/],
    ['a negative learning rate', ['train', '--lr=-0.1'], /^simdnn train: --lr must be a positive number or 'auto', got '-0\.1'\.$/],
    ['a missing option value', ['train', '--lr'], /^simdnn train: option '--lr' needs a value\.$/],
    ['a value for a flag', ['train', '--quiet=yes'], /^simdnn train: option '--quiet' takes no value\.$/],
    ['a bad choice', ['train', '--optimizer', 'adamm'], /^simdnn train: --optimizer must be one of adam, adamw, sgd, rmsprop, adagrad; got 'adamm' \(did you mean 'adam'\?\)\.$/],
    ['bad hidden sizes', ['train', '--hidden', '64,x'], /^simdnn train: --hidden must be comma-separated positive integers/],
    ['a missing file', ['train', 'nope.csv'], /^simdnn train: no such file 'nope\.csv'\.$/],
    ['an unknown target column', ['train', 'data/iris.csv', '--target', 'colour'], /^simdnn train: readCsv: no column 'colour'; the columns are sepal_length, sepal_width, petal_length, petal_width, species\.$/],
    ['a loss for the wrong task', ['train', 'data/iris.csv', '--loss', 'mse'], /^simdnn train: --loss mse is for regression, but 'species' is a class label/],
    ['an output directory that does not exist', ['train', '--out', '/nonexistent-dir/m.safetensors'], /^simdnn train: cannot save to '\/nonexistent-dir\/m\.safetensors': the directory '\/nonexistent-dir' does not exist\.$/],
    ['too many arguments', ['train', 'a.csv', 'b.csv'], /^simdnn train: unexpected argument 'b\.csv'/],
    ['predict without files', ['predict'], /^simdnn predict: needs a model file and a CSV file/],
    ['predict with a missing model', ['predict', 'nope.safetensors', 'data/iris.csv'], /^simdnn predict: no such file 'nope\.safetensors'\.$/],
    ['predict with a file that is not a model', ['predict', 'data/iris.csv', 'data/iris.csv'], /^simdnn predict: load: corrupt model file/],
    ['early stopping without validation', ['train', '--patience', '3', '--val', '0'], /^simdnn train: --patience \(early stopping\) watches the validation loss; give --val > 0\.$/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 2`, async () => {
      const r = await cli(args);
      expect(r.code, r.err).toBe(2);
      expect(r.err.trim()).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toBe('');
    });
  }

  it('training that diverges: exit 1 with the message', async () => {
    const r = await cli(['train', 'data/diabetes.csv', '--lr', '1e9', '--quiet', '--out', tmp('diverged.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^simdnn train: fit: training diverged: the loss became (NaN|-?Infinity) at epoch 1, batch \d+/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(tmp('diverged.safetensors'))).toBe(false);
  });
});

describe('large inputs, in processes of their own', () => {
  /** node [flags] bin/simdnn.mjs args, or node [flags] --input-type=module -e script args. */
  const node = (flags: string[], args: string[], script?: string) =>
    new Promise<Run>((resolve) => {
      const argv = script ? [...flags, '--input-type=module', '-e', script, ...args] : [...flags, at('bin', 'simdnn.mjs'), ...args];
      execFile(process.execPath, argv, { cwd: dir, timeout: 240_000, maxBuffer: 1 << 24 }, (e, out, err) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) }),
      );
    });

  it('an id-like target of 25,000 classes: trains, saves, then scores without a 25,000 × 25,000 matrix', async () => {
    // Each of 25,000 users twice (a stratified split needs two rows a class). The confusion matrix
    // alone would be 5 GB; the process gets a 400 MB heap.
    const rows = Array.from({ length: 50_000 }, (_, i) => `${(Math.sin(i) * 3).toFixed(3)},${Math.cos(i * 7).toFixed(3)},u${i % 25_000}`);
    writeFileSync(tmp('users.csv'), `a,b,user\n${rows.join('\n')}\n`);
    const model = tmp('users.safetensors');
    const r = await node(['--max-old-space-size=400'], ['train', 'users.csv', '--epochs', '1', '--hidden', 'none', '--batch-size', '256', '--val', '0', '--test', '0.1', '--out', model]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^warning: the target 'user' has 25000 classes for 50000 rows \(2\.0 per class\): it looks like an id/m);
    expect(r.out).toMatch(/25,000 classes\n/);
    expect(r.out).toMatch(/saved\s+users\.safetensors/);
    expect(r.out).toMatch(/test set \(5,000 rows\)\n\s+accuracy\s+\d\.\d{4}\n[^]*\(25,000 classes: the per-class table and confusion matrix are shown for up to 12\)/);
    const m = await sd.load(model);
    expect(m.outputSize).toBe(25_000);
    m.dispose();
  }, 240_000);

  it('a million rows through a 96 MB heap: readCsv and `simdnn predict` stream (no array of rows, no whole text)', async () => {
    const N = 1_000_000;
    const line = (i: number) => `${(i % 1000) / 8},${0 - (i % 777)},${((i * 7) % 10007) / 100},${i % 5}`;
    const fd = openSync(tmp('million.csv'), 'w');
    writeSync(fd, 'a,b,c,label\n');
    for (let start = 0; start < N; start += 50_000) writeSync(fd, Array.from({ length: 50_000 }, (_, j) => line(start + j)).join('\n') + '\n');
    closeSync(fd);
    writeFileSync(tmp('thousand.csv'), `a,b,c,label\n${Array.from({ length: 1000 }, (_, i) => line(i * 997)).join('\n')}\n`);
    expect((await cli(['train', tmp('thousand.csv'), '--epochs', '1', '-q', '--out', tmp('million.safetensors')])).code).toBe(0);

    // The old reader held the text (17 MB) and an array per row (hundreds of MB) on the heap.
    const heap = ['--max-old-space-size=96'];
    const read = await node(heap, [pathToFileURL(at('dist', 'index.js')).href, tmp('million.csv')],
      "const sd = await import(process.argv[1]); await sd.init({ backend: 'wasm' }); const d = await sd.data.readCsv(process.argv[2]); console.log(d.x.shape.join(), d.classes.join())");
    expect(read.code, read.err).toBe(0);
    expect(read.out.trim()).toBe('1000000,3 0,1,2,3,4');

    const r = await node(heap, ['predict', 'million.safetensors', 'million.csv', '--out', 'million-pred.csv']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote 1,000,000 predictions to million-pred\.csv$/m);
    expect(r.out).toMatch(/^metrics against 'label' \(1,000,000 rows\)$/m);
    const text = readFileSync(tmp('million-pred.csv'), 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(N + 2); // header, a line per row, the final newline
    expect(lines[0]).toBe('prediction,prob_0,prob_1,prob_2,prob_3,prob_4');
    for (const l of [lines[1], lines[N]]) {
      const [pred, ...p] = l.split(',');
      expect(['0', '1', '2', '3', '4']).toContain(pred);
      expect(p.every((v) => /^[01]\.\d{6}$/.test(v))).toBe(true);
      expect(p.map(Number).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    }
  }, 240_000);
});

describe('bin/simdnn.mjs', () => {
  const node = (args: string[]) =>
    new Promise<Run>((resolve) => {
      execFile(process.execPath, [at('bin', 'simdnn.mjs'), ...args], { cwd: dir, timeout: 60_000 }, (e, out, err) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) }),
      );
    });

  it('runs `simdnn train --epochs 2` for real and saves model.safetensors in the working directory', async () => {
    const r = await node(['train', '--epochs', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/training 2 epochs/);
    expect(r.out).toMatch(/saved\s+model\.safetensors/);
    expect(r.err).toMatch(/^epoch 2\/2/m);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
  });

  it('exits with 2 on bad usage', async () => {
    const r = await node(['nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^simdnn: unknown command 'nope'/);
  });
});

function data(name: string): string {
  return at('data', name);
}
