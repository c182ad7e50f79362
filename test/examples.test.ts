// The runnable examples (examples/*.mjs, on the built dist/index.js) give the numbers they promise.
// Build first: npm run build.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = async (name: string) => import(/* @vite-ignore */ pathToFileURL(join(root, 'examples', name)).href);
const quiet = () => {};
let dir: string;

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first.');
  dir = mkdtempSync(join(tmpdir(), 'simdnn-examples-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it('linear-regression.mjs recovers w ≈ 2, b ≈ 0, the least-squares solution', async () => {
    const r = await (await example('linear-regression.mjs')).run({ log: quiet });
    expect(Math.abs(r.w - 2)).toBeLessThan(0.1);
    expect(Math.abs(r.b)).toBeLessThan(0.1);
    // Full-batch gradient descent converges to the closed form (float32 against float64).
    expect(r.w).toBeCloseTo(r.wOls, 4);
    expect(r.b).toBeCloseTo(r.bOls, 4);
    // The training MSE is the noise variance, give or take the sample.
    expect(r.mse).toBeGreaterThan(0.5 * r.sigma ** 2);
    expect(r.mse).toBeLessThan(1.5 * r.sigma ** 2);
  });

  it('mlp-regression.mjs reaches a test MSE within 1.5× the noise variance', async () => {
    const r = await (await example('mlp-regression.mjs')).run({ log: quiet });
    expect(r.noiseVariance).toBeCloseTo(0.01, 12);
    expect(r.testMse).toBeLessThanOrEqual(1.5 * r.noiseVariance);
    // Below σ² on unseen data would be luck of the sample, far below would be a bug in the metric.
    expect(r.testMse).toBeGreaterThan(0.5 * r.noiseVariance);
  });

  it('custom-layer.mjs: a LayerNorm written with the public ops trains with fit to ≥ 0.97 on digits', async () => {
    const r = await (await example('custom-layer.mjs')).run({ log: quiet });
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 10);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(r.reloadedSame).toBe(true);
  });

  it('train-digits.mjs: ≥ 0.97 test accuracy, and the saved and loaded model predicts the same', async () => {
    const out = join(dir, 'digits.safetensors');
    const r = await (await example('train-digits.mjs')).run({ log: quiet, out });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(r.loadedAccuracy).toBe(r.accuracy);
    expect(r.digits).toEqual(['0', '1', '2']);
    expect(existsSync(out)).toBe(true);
  });
});
