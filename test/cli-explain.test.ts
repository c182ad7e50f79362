// `simdnn explain` and `simdnn train --explain`, run in-process through main() from the sources (the
// command is the library's explain() behind a CSV reader, so its numbers are checked against explain()
// called directly on the same rows; the library's own tests check the numbers themselves).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import * as sd from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
const tmp = (name: string) => join(dir, name);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, columns: 100, cwd: root });
  return { code, out, err };
}

/** A CSV file as header names and rows of fields. */
function csv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** The ranking lines of a table: feature names in order. */
function ranking(text: string): string[] {
  const start = text.indexOf('top features');
  return text.slice(start).split('\n').slice(1).map((l) => /^\s+\d+\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s).slice(0, 64);
}

const IRIS = 'data/iris.csv';
let iris: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-explain-'));
  iris = tmp('iris.safetensors');
  const r = await cli(['train', IRIS, '--target', 'species', '--epochs', '60', '--backend', 'wasm', '--out', iris, '-q']);
  expect(r.code, r.err).toBe(0);
}, 120_000);

afterAll(() => {
  sd.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('simdnn explain', () => {
  it('integrated gradients by default: a ranking, the first rows, and a CSV whose values are explain() on the same rows', async () => {
    const out = tmp('attr.csv');
    const r = await cli(['explain', iris, IRIS, '--rows', '20', '--out', out, '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/20 rows \(the first; --rows sets how many\) × 4 features/);
    expect(r.out).toMatch(/integrated gradients of each row's predicted class, 64 steps from a baseline of zero after the model's standard scaler/);
    expect(r.out).toMatch(/they add up to it \(within \d+\.\d\d% of a row's total \|attribution\|; more --steps for less\)/);
    const ranked = ranking(r.out);
    expect(ranked.sort()).toEqual(['petal_length', 'petal_width', 'sepal_length', 'sepal_width']);
    expect(r.out).toMatch(/first 3 rows: the largest attributions/);
    expect(r.out).toMatch(/^ {2}row 1 {2}→ setosa {3}\S+ [+−]/m);
    expect(r.out).toMatch(/wrote the attributions of 20 rows to /);

    const { header, rows } = csv(out);
    expect(header).toEqual(['row', 'class', 'sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(rows.length).toBe(20);
    expect(rows.map((x) => x[0])).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    // The same rows through the library: the file's first 20 rows, raw.
    const model = await sd.load(iris);
    const raw = readFileSync(join(root, IRIS), 'utf8').trim().split(/\r?\n/).slice(1, 21).map((l) => l.split(',').slice(0, 4).map(Number));
    const e = await sd.explain(model, raw);
    const classes = model.preprocessing.classes!;
    for (let i = 0; i < 20; i++) {
      expect(rows[i][1]).toBe(classes[e.targets[i]]);
      // The CSV holds 7 significant digits.
      for (let j = 0; j < 4; j++) expect(Number(rows[i][2 + j])).toBeCloseTo(e.row(i)[j], 6);
    }
    model.dispose();
  });

  it('--target explains one class for every row; --out - puts the CSV alone on stdout and the table on stderr', async () => {
    const r = await cli(['explain', iris, IRIS, '--rows', '5', '--target', 'virginica', '--out', '-', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('row,class,sepal_length,sepal_width,petal_length,petal_width');
    expect(lines.length).toBe(6);
    for (const l of lines.slice(1)) expect(l.split(',')[1]).toBe('virginica');
    expect(r.err).toMatch(/integrated gradients of the class 'virginica'/);
    expect(r.err).toMatch(/top features/);
  });

  it('gradient, gradient × input and permutation importance (labels from the target column the model names)', async () => {
    const g = await cli(['explain', iris, IRIS, '--method', 'gradient', '--rows', '10', '--out', tmp('g.csv'), '--backend', 'wasm']);
    const gx = await cli(['explain', iris, IRIS, '--method', 'gradientXInput', '--rows', '10', '--out', tmp('gx.csv'), '--backend', 'wasm']);
    expect([g.code, gx.code]).toEqual([0, 0]);
    expect(g.out).toMatch(/gradient of that class's logit/);
    // gradient × input is the input times the gradient (7 digits on each side).
    const a = csv(tmp('g.csv')).rows, b = csv(tmp('gx.csv')).rows;
    const raw = readFileSync(join(root, IRIS), 'utf8').trim().split(/\r?\n/).slice(1, 11).map((l) => l.split(',').slice(0, 4).map(Number));
    for (let i = 0; i < 10; i++) for (let j = 0; j < 4; j++) expect(Number(b[i][2 + j])).toBeCloseTo(raw[i][j] * Number(a[i][2 + j]), 4);

    const out = tmp('perm.csv');
    const p = await cli(['explain', iris, IRIS, '--method', 'permutation', '--rows', 'all', '--out', out, '--backend', 'wasm']);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/150 rows × 4 features/);
    expect(p.out).toMatch(/permutation importance: the drop in accuracy \(0\.\d{4} on these 150 rows\) when one feature's column is shuffled, mean ± std of 5 shuffles \(seed 0\)/);
    // On iris, the petals decide.
    expect(ranking(p.out).slice(0, 2).sort()).toEqual(['petal_length', 'petal_width']);
    const { header, rows } = csv(out);
    expect(header).toEqual(['statistic', 'sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(rows.map((x) => x[0])).toEqual(['importance', 'std']);
    // Seeded: the same again.
    const again = await cli(['explain', iris, IRIS, '--method', 'permutation', '--rows', 'all', '--out', tmp('perm2.csv'), '--backend', 'wasm']);
    expect(again.code).toBe(0);
    expect(readFileSync(tmp('perm2.csv'), 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('a one-output classifier: the first class is the negation of the second; one-hot columns keep their encoded names', async () => {
    // Two iris species and a text column: a binary model with one output, and a one-hot feature.
    const lines = readFileSync(join(root, IRIS), 'utf8').trim().split(/\r?\n/);
    const two = lines.slice(1).filter((l) => !l.trim().endsWith('setosa'));
    const text = ['sepal_length,sepal_width,petal_length,petal_width,tint,species', ...two.map((l, i) => {
      const c = l.split(',');
      return [...c.slice(0, 4), ['red', 'green', 'blue'][i % 3], c[4]].join(',');
    })].join('\n');
    const file = tmp('two.csv'), model = tmp('two.safetensors');
    writeFileSync(file, text);
    const t = await cli(['train', file, '--target', 'species', '--loss', 'binaryCrossEntropy', '--epochs', '40', '--backend', 'wasm', '--out', model, '-q']);
    expect(t.code, t.err).toBe(0);
    const a = await cli(['explain', model, file, '--rows', '8', '--target', 'versicolor', '--out', tmp('a.csv'), '--backend', 'wasm']);
    const b = await cli(['explain', model, file, '--rows', '8', '--target', 'virginica', '--out', tmp('b.csv'), '--backend', 'wasm']);
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    const A = csv(tmp('a.csv')), B = csv(tmp('b.csv'));
    const loaded = await sd.load(model);
    expect(A.header).toEqual(['row', 'class', ...loaded.preprocessing.columns!]);
    expect(A.header.slice(2)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'tint=blue', 'tint=green', 'tint=red']);
    loaded.dispose();
    for (let i = 0; i < 8; i++) {
      expect(A.rows[i][1]).toBe('versicolor');
      expect(B.rows[i][1]).toBe('virginica');
      for (let j = 2; j < A.header.length; j++) expect(Number(A.rows[i][j])).toBe(-Number(B.rows[i][j]));
    }
    // Without --target: the model's one output, the second class.
    const c = await cli(['explain', model, file, '--rows', '3', '--backend', 'wasm']);
    expect(c.out).toMatch(/integrated gradients of the class 'virginica' \(the model's one output\)/);
  });

  it('regression: the predicted value, no class column', async () => {
    const model = tmp('diabetes.safetensors');
    const t = await cli(['train', 'data/diabetes.csv', '--target', 'progression', '--epochs', '20', '--backend', 'wasm', '--out', model, '-q']);
    expect(t.code, t.err).toBe(0);
    const r = await cli(['explain', model, 'data/diabetes.csv', '--rows', '4', '--out', '-', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toBe('row,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6');
    expect(r.err).toMatch(/integrated gradients of the predicted value, [^]* the change in the prediction \(in the target's units\) from the baseline/);
    expect(r.err).not.toMatch(/→/);
  });

  it('bad usage and input: one line on stderr, exit 2', async () => {
    const noTarget = tmp('no-target.csv');
    writeFileSync(noTarget, readFileSync(join(root, IRIS), 'utf8').split(/\r?\n/).map((l) => l.split(',').slice(0, 4).join(',')).join('\n'));
    const noFeature = tmp('no-feature.csv');
    writeFileSync(noFeature, 'sepal_length,sepal_width,petal_length\n1,2,3\n');
    const cases: [string[], RegExp][] = [
      [['explain', iris], /needs a model file and a CSV file/],
      [['explain', iris, noTarget, '--method', 'permutation'], /permutation importance scores the model against labels, and '.*no-target\.csv' has no 'species' column/],
      [['explain', iris, IRIS, '--target', 'rose'], /--target 'rose' is not a class of the model \(it knows 'setosa', 'versicolor' and 'virginica'\)/],
      [['explain', iris, IRIS, '--method', 'gradient', '--steps', '8'], /--steps does not apply to --method gradient \(it is an option of --method ig\)/],
      [['explain', iris, IRIS, '--method', 'permutation', '--target', 'setosa'], /--target does not apply to --method permutation/],
      [['explain', iris, IRIS, '--method', 'shap'], /--method must be one of ig, gradient, gradientXInput, permutation, integratedGradients; got 'shap'/],
      [['explain', iris, IRIS, '--rows', '0'], /--rows must be an integer ≥ 1, got '0'/],
      [['explain', iris, noFeature], /lacks the feature column 'petal_width'/],
      [['explain', iris, IRIS, '--baseline', 'median'], /--baseline must be one of zeros, mean/],
      [['explain', iris, 'nope.csv'], /no such file 'nope\.csv'/],
      [['explain', iris, IRIS, '--out', tmp('missing/dir.csv')], /cannot write .* does not exist/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n').length).toBe(1);
    }
    expect(existsSync(tmp('missing'))).toBe(false);
  });

  it('is listed in the help, and `help explain` prints its options', async () => {
    const h = await cli(['--help']);
    expect(h.out).toMatch(/simdnn explain model\.safetensors data\.csv/);
    const e = await cli(['help', 'explain']);
    expect(e.code).toBe(0);
    for (const flag of ['--method', '--rows', '--target', '--out', '--steps', '--baseline', '--repeats']) expect(e.out).toContain(flag);
    expect((await cli(['explain', '--help'])).out).toBe(e.out);
  });
});

describe('simdnn train --explain', () => {
  it('adds the ten most important features (permutation importance on the test rows) to the report', async () => {
    const r = await cli(['train', '--epochs', '5', '--backend', 'wasm', '--out', tmp('digits.safetensors'), '-q', '--explain']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/feature importance on the test set \(360 rows\): the drop in accuracy when one feature's column is shuffled \(permutation importance, mean ± std of 5 shuffles; the 10 largest of 64\)/);
    const part = r.out.slice(r.out.indexOf('feature importance'));
    const lines = part.trim().split('\n').slice(1);
    expect(lines.length).toBe(10);
    const drops = lines.map((l) => Number(/^\s+\d+\s+p\d+\s+(-?[\d.e+-]+) ±/.exec(l)![1]));
    expect(drops.every((d, i) => i === 0 || d <= drops[i - 1])).toBe(true);
    expect(drops[0]).toBeGreaterThan(0);
    const plainRun = await cli(['train', '--epochs', '1', '--backend', 'wasm', '--out', tmp('d2.safetensors'), '-q']);
    expect(plainRun.out).not.toMatch(/feature importance/);
  }, 120_000);
});
