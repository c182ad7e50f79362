// `simdnn train --lr auto` (the range test, plotted) and `simdnn tune` (the search, its leaderboard, the
// saved model and the comparison with the defaults), run in-process through main() from the built bundle.
// Build first: npm run build.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p: string[]) => join(root, ...p);

type Main = (argv: string[], io?: Record<string, unknown>) => Promise<number>;
let main: Main;
let sd: any;
let dir: string;

beforeAll(async () => {
  const cli = at('dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first.');
  const newest = Math.max(...readdirSync(at('src', 'cli')).map((f) => statSync(at('src', 'cli', f)).mtimeMs), statSync(at('src', 'train', 'tune.ts')).mtimeMs);
  if (statSync(cli).mtimeMs < newest) throw new Error('dist/cli.js is older than the sources: run `npm run build` again.');
  ({ main } = await import(/* @vite-ignore */ pathToFileURL(cli).href));
  sd = await import(/* @vite-ignore */ pathToFileURL(at('dist', 'index.js')).href);
  dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-tune-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], opts: { isTTY?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s), isTTY: opts.isTTY ?? false, columns: 120, cwd: root });
  return { code, out, err };
}

const tmp = (name: string) => join(dir, name);

describe('simdnn train --lr auto', () => {
  it('runs the range test on the training rows, plots it, and trains one-cycle at the chosen rate', async () => {
    const r = await cli(['train', 'data/iris.csv', '--target', 'species', '--lr', 'auto', '--epochs', '40', '--batch-size', '16', '--out', tmp('auto.safetensors')]);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/adam lr auto \(range test, then one-cycle\)/);
    const m = /learning rate: range test of (\d+) steps from 1e-7/.exec(r.out);
    expect(m).not.toBe(null);
    // The plot: ten rows on a loss axis, the x axis with decades, the chosen rate's column.
    const plot = r.out.split('\n').filter((l) => l.includes('┤'));
    expect(plot).toHaveLength(10);
    expect(plot.every((l) => l.includes('│') || l.includes('•'))).toBe(true);
    expect(r.out).toMatch(/└─+\n\s+10⁻⁷ .*learning rate/);
    const chosen = /chosen ([\d.e-]+): a tenth of the rate at the smoothed loss's minimum \(([\d.e-]+)\)/.exec(r.out)!;
    expect(Number(chosen[1])).toBeCloseTo(Number(chosen[2]) / 10, 2);
    expect(Number(/accuracy\s+([\d.]+)/.exec(r.out)![1])).toBeGreaterThan(0.85);
  }, 60_000);

  it("the same curve as lrFinder() on the same training rows: the CLI's rate is the library's", async () => {
    const r = await cli(['train', 'data/iris.csv', '--target', 'species', '--lr', 'auto', '--epochs', '1', '--val', '0', '--batch-size', '16', '--quiet', '--out', tmp('auto2.safetensors')]);
    expect(r.code).toBe(0);
    await sd.init({ backend: 'auto' });
    const ds = await sd.data.readCsv(at('data', 'iris.csv'), { target: 'species' });
    const s = sd.data.split(ds.x, ds.y, { test: 0.2, stratify: true, seed: 0 });
    const model = sd.mlp([4, 128, 3], { seed: 0 });
    model.preprocessing = { scaler: sd.data.standardize(s.train.x) };
    const f = await sd.lrFinder(model, s.train.x, s.train.y, { loss: 'softmaxCrossEntropy', batchSize: 16, optimizer: sd.optimizers.adam(), seed: 0 });
    const loud = await cli(['train', 'data/iris.csv', '--target', 'species', '--lr', 'auto', '--epochs', '1', '--val', '0', '--batch-size', '16', '--out', tmp('auto3.safetensors')]);
    expect(loud.out).toContain(`chosen ${String(+f.suggestion.toPrecision(2))}:`);
    sd.dispose([model, ds.x, ds.y, s.train.x, s.train.y, s.test.x, s.test.y]);
  }, 60_000);
});

describe('simdnn tune', () => {
  it('classification: searches, saves the best model, and compares it with the defaults on the test rows', async () => {
    const out = tmp('iris-tuned.safetensors');
    const r = await cli(['tune', 'data/iris.csv', '--target', 'species', '--trials', '6', '--epochs', '30', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^search   the default space \(1–2 hidden layers of 32–512, relu\|gelu\|silu\|tanh, lr 0\.0003–0\.03/m);
    expect(r.out).toMatch(/^tuned    6 trials in [\d.]+ s \(\d+ a minute\), 5-fold validation · best: trial \d+, hidden [\d-]+ · activation \w+ · lr [\d.e-]+ .* · 30 epochs · val acc 0\.\d{4}$/m);
    expect(r.out).toMatch(/^saved    .*iris-tuned\.safetensors \([\d.]+ KiB\), retrained on all 120 training rows/m);
    const acc = /^\s+accuracy\s+([\d.]+)\s+([\d.]+)$/m.exec(r.out)!;
    expect(Number(acc[1])).toBeGreaterThan(0.5);
    expect(Number(acc[2])).toBeGreaterThan(0.85);
    expect(r.out).toMatch(/^\s+F1 \(macro\)\s+[\d.]+\s+[\d.]+$/m);
    expect(r.out).toMatch(/default: 4-128-3 relu, adam 0\.001, batch 32, 30 epochs \(simdnn train's defaults\)/);
    // Elsewhere than a terminal: a line per new best on stderr, no control characters.
    expect(r.err).toMatch(/best so far: trial \d+, \d+ epochs, val acc 0\.\d{4} · hidden/);
    expect(r.err).not.toContain('\x1b[');
    // The saved model carries its preprocessing and predicts raw rows.
    const p = await cli(['predict', out, 'data/iris.csv']);
    expect(p.code).toBe(0);
    expect(p.err).toMatch(/accuracy\s+0\.9\d+/);
  }, 120_000);

  it('regression on a terminal: a live leaderboard redrawn in place, R² against the defaults', async () => {
    const r = await cli(['tune', 'data/diabetes.csv', '--target', 'progression', '--trials', '3', '--epochs', '9', '--val', '0.25', '--out', tmp('diabetes.safetensors')], { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/#\s+trial\s+epochs\s+val R²\s+configuration/);
    expect(r.err).toMatch(/\x1b\[\d+F/); // redrawn over the last drawing
    expect(r.out).toMatch(/0\.25 hold-out validation/);
    const r2 = /^\s+R²\s+(-?[\d.]+)\s+(-?[\d.]+)$/m.exec(r.out)!;
    expect(Number(r2[2])).toBeGreaterThan(0.2);
    expect(r.out).toMatch(/^\s+RMSE\s+[\d.]+\s+[\d.]+$/m);
  }, 120_000);

  it('bad options: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['tune', '--budget', '0'], /^simdnn tune: --budget must be a positive time such as 60s, 2m or 90, got '0'\.$/],
      [['tune', '--budget', 'soon'], /^simdnn tune: --budget must be a positive time such as 60s, 2m or 90, got 'soon'\.$/],
      [['tune', '--trials', '0'], /^simdnn tune: --trials must be an integer ≥ 1, got '0'\.$/],
      [['tune', '--folds', '1'], /^simdnn tune: --folds must be an integer in 2\.\.100, got '1'\.$/],
      [['tune', '--folds', '3', '--val', '0.2'], /^simdnn tune: give --folds or --val, not both\.$/],
      [['tune', '--test', '0'], /^simdnn tune: --test must be a fraction in \(0, 1\): the tuned and default models are compared on the test rows, got '0'\.$/],
      [['tune', '--budjet', '5s'], /^simdnn tune: unknown option '--budjet'; did you mean '--budget'\?/],
      [['tune', 'nope.csv'], /^simdnn tune: no such file 'nope\.csv'\.$/],
      [['train', '--lr', 'autom'], /^simdnn train: --lr must be a number, got 'autom'\.$/],
    ];
    for (const [args, want] of cases) {
      const r = await cli(args);
      expect([r.code, r.err.trim()], args.join(' ')).toEqual([2, expect.stringMatching(want)]);
    }
  });

  it('help: the main help names the command, and `simdnn help tune` lists its options', async () => {
    const main = await cli(['--help']);
    expect(main.out).toMatch(/simdnn tune \[data\.csv \| digits \| iris \| diabetes\] \[--budget 60s \| --trials N\]/);
    const h = await cli(['help', 'tune']);
    expect(h.code).toBe(0);
    for (const flag of ['--budget T', '--trials N', '--folds K', '--val F', '--epochs N', '--out FILE']) expect(h.out).toContain(flag);
    const t = await cli(['train', '--help']);
    expect(t.out).toMatch(/--lr X\s+learning rate \(default 0\.001\); 'auto': a range test/);
  });
});
