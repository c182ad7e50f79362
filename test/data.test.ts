// data: CSV reading and cleaning, label encoding, scalers, seeded shuffles, splits and batches.
// Everything that makes tensors runs on every backend that starts here; a backend whose kernels do
// not work yet is skipped with the reason in the suite name.
import fc from 'fast-check';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as sd from '../src/index.js';
import * as data from '../src/api/data.js';
import { lnOneMinus, sinCos, sinCosExact, sinOut } from '../src/core/libm.js';
import { apportion, groupByClass } from '../src/core/stratify.js';

const ref = JSON.parse(readFileSync(new URL('./fixtures/metrics-reference.json', import.meta.url), 'utf8'));
const DATA = new URL('../data/', import.meta.url);
const path = (f: string) => new URL(f, DATA).pathname;

/** Disposes every tensor in a Dataset / split / batch-like object. */
const free = (...v: unknown[]) => sd.dispose(v);

// ---- no tensors: the random stream and label encoding ----

describe('rng and shuffle', () => {
  it('gives the same stream for the same seed, on every platform (values locked)', () => {
    const r = data.rng(0);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([591558436, 2737234123, 107644106, 1338548054]);
    expect(Array.from(data.shuffle(10, 1))).toEqual([7, 3, 8, 1, 6, 4, 2, 9, 5, 0]);
    const a = data.rng(42), b = data.rng(42), c = data.rng(43);
    const sa = Array.from({ length: 50 }, () => a.uniform());
    expect(Array.from({ length: 50 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 50 }, () => c.uniform())).not.toEqual(sa);
    // seeds above 2^32 use their high bits too
    expect(data.rng(2 ** 40).nextUint32()).not.toBe(data.rng(0).nextUint32());
  });

  it('gives the same normal deviates on every engine (values locked)', () => {
    // normal() and fillNormal() take log, sin and cos from src/core/libm.ts, plain float64 arithmetic,
    // not from Math (whose last bit differs between engines and versions): these hold everywhere.
    const r = data.rng(0);
    expect([r.normal(), r.normal(), r.normal()]).toEqual([-0.35405374502954123, -0.4135533938253289, -0.08511597182028824]);
    const g = data.rng(12345).fillNormal(new Float64Array(100_001), 0.5, 2);
    const w = new Uint32Array(g.buffer);
    let h = 0x811c9dc5; // FNV-1a over the float64 bits
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 0x01000193) >>> 0;
    expect(h).toBe(3830901936);
  });

  it('libm log, sin and cos agree with Math to the last bit or one ulp', () => {
    // fdlibm's algorithms, as V8 runs them for Math.log (and Math.sin/cos where not built with glibc's):
    // identical there, within an ulp elsewhere.
    const ulp = (x: number) => {
      const f = new Float64Array([Math.abs(x)]);
      const b = new BigUint64Array(f.buffer);
      b[0] += 1n;
      return f[0] - Math.abs(x);
    };
    const r = data.rng(5);
    let same = 0, n = 0;
    for (let i = 0; i < 100_000; i++) {
      const t = r.nextUint32(), x = 1 - t / 2 ** 32, th = (2 * Math.PI * t) / 2 ** 32;
      const l = lnOneMinus(t);
      const c = sinCos(th), s = sinOut[0];
      // the branch-free path and the one that follows fdlibm's branches agree everywhere
      expect([sinCosExact(th), sinOut[0]]).toEqual([c, s]);
      for (const [got, want] of [[l, Math.log(x)], [s, Math.sin(th)], [c, Math.cos(th)]]) {
        n++;
        if (got === want) same++;
        else expect(Math.abs(got - want)).toBeLessThanOrEqual(ulp(want));
      }
    }
    expect(lnOneMinus(0)).toBe(0);
    expect(lnOneMinus(2 ** 31)).toBe(-Math.LN2);
    expect([sinCos(0), sinOut[0]]).toEqual([1, 0]);
    console.log(`libm against Math here: ${same} of ${n} identical, the rest within an ulp`);
  });

  it('uniform, normal and int have the right distributions', () => {
    const r = data.rng(7);
    const n = 200_000;
    let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      s += u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005);
    const g = r.fillNormal(new Float64Array(n));
    s = 0;
    for (const v of g) (s += v), (s2 += v * v);
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 1)).toBeLessThan(0.01);
    // fraction beyond 1.96σ ≈ 5%
    expect(Math.abs(g.filter((v) => Math.abs(v) > 1.96).length / n - 0.05)).toBeLessThan(0.003);
    // int: chi-square over 10 bins (9 dof; 99.9% quantile 27.9)
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[r.int(10)]++;
    expect(bins.reduce((acc, o) => acc + (o - 10_000) ** 2 / 10_000, 0)).toBeLessThan(27.9);
    expect(r.int(1)).toBe(0);
    const w = r.fillUniform(new Float32Array(1000), -2, 3);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...w)).toBeLessThan(3);
    const m = data.rng(1).normal(10, 0.001);
    expect(Math.abs(m - 10)).toBeLessThan(0.01);
  });

  it('fillNormal gives exactly the stream of repeated normal() calls, spare included', () => {
    // fillNormal is a flattened copy of normal()'s Box–Muller loop; any drift between the two would
    // change every seeded weight initialisation. Odd lengths and a pending spare exercise the edges.
    for (const [seed, lengths] of [[0, [401_408, 1]], [3, [7, 2, 0, 5]], [11, [1, 1, 1, 4]]] as [number, number[]][]) {
      const fast = data.rng(seed), slow = data.rng(seed);
      for (const len of lengths) {
        const mean = len % 2 ? 0.5 : 0, std = len % 3 ? 2 : 1;
        const got = fast.fillNormal(new Float64Array(len), mean, std);
        const want = Float64Array.from({ length: len }, () => slow.normal(mean, std));
        expect(got).toEqual(want);
        expect(fast.nextUint32()).toBe(slow.nextUint32()); // the state advanced identically
        expect(fast.normal()).toBe(slow.normal()); // and the spare, if any, was kept the same way
      }
    }
  });

  it('shuffle is a seeded permutation (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 2 ** 32 }), (n, seed) => {
        const p = data.shuffle(n, seed);
        expect(p.length).toBe(n);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(data.shuffle(n, seed)).toEqual(p);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects bad seeds and sizes', () => {
    expect(() => data.rng(-1)).toThrow(/seed must be a non-negative integer/);
    expect(() => data.rng(1.5)).toThrow(/seed/);
    expect(() => data.rng('7' as any)).toThrow(/seed.*got string/);
    expect(() => data.shuffle(-3, 0)).toThrow(/n must be a non-negative integer/);
    expect(() => data.shuffle(2.5, 0)).toThrow(/n must be/);
    expect(() => data.rng(0).int(0)).toThrow(/n must be an integer in 1..2\^32/);
  });
});

describe('stratified sizes (shared by split and fit)', () => {
  it('apportions a total over classes by largest remainder: exact total, every share rounded up or down, ties by the seed', () => {
    const tied = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const got = apportion(new Array(20).fill(5), 10, new Array(20).fill(4), data.rng(seed))!;
      expect(got.reduce((a, b) => a + b)).toBe(10);
      expect(got.every((c) => c === 0 || c === 1)).toBe(true);
      tied.add(got.join(''));
      expect(apportion(new Array(20).fill(5), 10, new Array(20).fill(4), data.rng(seed))).toEqual(got);
    }
    expect(tied.size).toBeGreaterThan(1);
    // floors first, then the largest remainders: shares 2.8, 1.4 and 0.8 of 5 → 3, 1, 1
    for (let seed = 0; seed < 5; seed++) expect(apportion([14, 7, 4], 5, [14, 7, 4], data.rng(seed))).toEqual([3, 1, 1]);
    expect(apportion([16, 6, 3], 5, [16, 6, 3], data.rng(0))).toEqual([3, 1, 1]); // 3.2, 1.2, 0.6
    // a capped class passes its share on
    expect(apportion([10, 10], 15, [5, 10], data.rng(0))).toEqual([5, 10]);
    expect(apportion([10, 10, 10], 20, [0, 10, 10], data.rng(3))).toEqual([0, 10, 10]);
    // no room: null
    expect(apportion([3, 3], 5, [2, 2], data.rng(0))).toBeNull();
    // products past 2^53 are still exact (BigInt): 3e8 and 1e8 rows, 2e8 held out
    expect(apportion([3e8, 1e8], 2e8, [3e8, 1e8], data.rng(0))).toEqual([1.5e8, 0.5e8]);
    expect(apportion([3e8 + 1, 1e8], 2e8, [3e8 + 1, 1e8], data.rng(0))!.reduce((a, b) => a + b)).toBe(2e8);
  });

  it('groups rows by class, classes ascending, rows in order, without spreading them into a call', () => {
    const g = groupByClass(Int32Array.of(2, 0, 2, 1, 0), 5);
    expect(g.classes).toEqual([0, 1, 2]);
    expect(Array.from(g.rows)).toEqual([1, 4, 3, 0, 2]);
    expect(Array.from(g.start)).toEqual([0, 2, 3, 5]);
    const n = 300_000, big = groupByClass(new Float32Array(n), n);
    expect(big.classes).toEqual([0]);
    expect(big.rows[n - 1]).toBe(n - 1);
  });
});

describe('labelEncode', () => {
  it('sorts numeric labels numerically and text by code unit', () => {
    expect(data.labelEncode(['10', '2', '1', '2'])).toEqual({ indices: Float32Array.of(2, 1, 0, 1), classes: ['1', '2', '10'] });
    expect(data.labelEncode([3, 1, 3, -0.5]).classes).toEqual(['-0.5', '1', '3']);
    expect(data.labelEncode(['b', 'a', 'B', 'c', 'a'])).toEqual({ indices: Float32Array.of(2, 1, 0, 3, 1), classes: ['B', 'a', 'b', 'c'] });
    expect(data.labelEncode(['10', 'x', '9']).classes).toEqual(['10', '9', 'x']); // mixed: text order
    expect(data.labelEncode([]).classes).toEqual([]);
    expect(() => data.labelEncode([1, NaN])).toThrow(/value 1 is NaN/);
    expect(() => data.labelEncode('abc' as any)).toThrow(/must be an array/);
  });
});

describe('readCsv without a backend-specific part: errors before any tensor', () => {
  beforeAll(async () => {
    await sd.init({ backend: 'js' });
  });
  afterAll(() => sd.shutdown());

  const bad: [string, string, object | undefined, RegExp][] = [
    ['ragged row', 'a,b,c\n1,2,3\n4,5\n6,7,8\n', undefined, /row 3 \(counting the header as row 1\) has 2 fields but the header has 3 \(a, b, c\).*quote fields that contain ','/],
    ['too many fields', 'a,b\n1,2,3\n', undefined, /row 2 .*has 3 fields but the header has 2/],
    ['unknown target', 'a,b,c\n1,2,3\n', { target: 'price' }, /readCsv: no column 'price'; the columns are a, b, c/],
    ['target index out of range', 'a,b\n1,2\n', { target: 5 }, /target index 5 is out of range; the CSV has 2 columns/],
    ['unknown feature', 'a,b,c\n1,2,3\n', { features: ['a', 'z'] }, /no column 'z' \(in features\)/],
    ['target among the features', 'a,b,c\n1,2,3\n', { features: ['a', 'c'] }, /target 'c' is also listed in features/],
    ['empty text', '\n\n', { from: 'string' }, /the CSV is empty/],
    ['header only', 'a,b,c\n', undefined, /has a header \(a, b, c\) but no data rows/],
    ['duplicate column', 'a,b,a\n1,2,3\n', undefined, /names column 'a' twice \(columns 1 and 3\)/],
    ['unclosed quote', 'a,b\n"1,2\n3,4\n', undefined, /malformed.*close the quote/],
    ['semicolons with a comma delimiter', 'a;b;c\n1;2;3\n', { target: 'c', delimiter: ',' }, /no column 'c'.*pass the delimiter/],
    ['missing target, imputing', 'a,y\n1,0\n2,\n3,1\n', { missing: 'mean' }, /target 'y' is missing in 1 row \(first in row 3\); a target cannot be imputed: use missing: 'drop'/],
    ['all rows dropped', 'a,b,y\n1,,0\n,2,1\n', undefined, /every one of the 2 rows was dropped.*missing: 'median'/],
    ['all-missing column', 'a,b,y\n1,,0\n2,NA,1\n', { missing: 'mean' }, /column 'b' has no values.*features option/],
    ['missing: error', 'a,b,y\n1,2,0\n3,,1\n', { missing: 'error' }, /column 'b' is empty in row 3 \(counting the header as row 1\); use missing: 'drop'/],
    ['missing: error on text in a number column', 'a,y\n1,0\n2,1\nx,0\n4,1\n', { missing: 'error' }, /column 'a' is "x", which is not a number in row 4/],
    ['regression on a text target', 'a,y\n1,cat\n2,dog\n', { task: 'regression' }, /task is 'regression' but the target 'y' holds "cat" in row 2/],
    ['an id-like text column', 'id,y\n' + Array.from({ length: 60 }, (_, i) => `user${i},${i % 2}`).join('\n'), undefined, /column 'id' holds text with 60 distinct values.*leave it out/],
    ['categorical names the target', 'a,y\n1,0\n', { categorical: ['y'] }, /categorical names 'y', which is the target/],
    ['unknown option', 'a,y\n1,0\n', { tagret: 'y' }, /unknown option 'tagret'/],
    ['bad strategy', 'a,y\n1,0\n', { missing: 'zero' }, /missing must be one of 'drop', 'mean', 'median', 'mostFrequent', 'error'/],
    ['bad task', 'a,y\n1,0\n', { task: 'clustering' }, /task must be 'classification' or 'regression'/],
  ];
  it.each(bad)('%s → a clear error', async (_name, csv, options, message) => {
    const before = sd.memory().tensors;
    await expect(data.readCsv(csv, options as any)).rejects.toThrow(message);
    expect(sd.memory().tensors).toBe(before);
  });

  it('rejects sources it cannot read', async () => {
    await expect(data.readCsv(42 as any)).rejects.toThrow(/source must be CSV text, a file path, a URL or a File\/Blob; got number/);
    await expect(data.readCsv('/no/such/dir/missing.csv')).rejects.toThrow(/cannot read the file '\/no\/such\/dir\/missing.csv':.*ENOENT/);
    await expect(data.readCsv('a,b\n1,2', { from: 'ftp' as any })).rejects.toThrow(/from must be 'string', 'path' or 'url'/);
  });
});

// ---- everything that makes tensors, on every backend ----


for (const name of ['js', 'wasm'] as const) {
  describe(`data on the ${name} backend`, () => {
    let start = 0;
    beforeAll(async () => {
      await sd.init({ backend: name });
    });
    afterAll(() => sd.shutdown());
    beforeEach(() => {
      start = sd.memory().tensors;
    });
    /** Checks that the test left no tensor alive. */
    const flat = () => expect(sd.memory().tensors, 'tensors left alive').toBe(start);

    describe('readCsv', () => {
      it('handles quotes, escaped quotes, a BOM, CRLF, empty lines, spaces and a missing final newline', async () => {
        const csv = '\uFEFFname, size ,"weight, kg",label\r\n"Smith, J",1.5,"2",yes\r\n\r\n"say ""hi""", 2 ,3.25e1,no\r\n   \r\nx,-.5,+4,yes';
        const d = await data.readCsv(csv);
        expect(d.target).toBe('label');
        expect(d.columns).toEqual(['name=Smith, J', 'name=say "hi"', 'name=x', 'size', 'weight, kg']);
        expect(d.x.arraySync()).toEqual([[1, 0, 0, 1.5, 2], [0, 1, 0, 2, 32.5], [0, 0, 1, -0.5, 4]]);
        expect(d.classes).toEqual(['no', 'yes']);
        expect(Array.from(d.y.dataSync())).toEqual([1, 0, 1]);
        expect(d.task).toBe('classification');
        expect(d.report.rows).toBe(3);
        expect(d.report.categorical).toEqual({ name: ['Smith, J', 'say "hi"', 'x'] });
        free(d);
        // the same with a trailing newline and LF endings
        const d2 = await data.readCsv('a,b\n1,2\n3,4\n');
        expect(d2.x.arraySync()).toEqual([[1], [3]]);
        expect(d2.task).toBe('classification');
        free(d2);
        // other delimiters are detected; the delimiter option fixes one
        const d3 = await data.readCsv('a;b;c\n1;2;0\n3;4;1\n');
        expect(d3.columns).toEqual(['a', 'b']);
        const d4 = await data.readCsv('a\tb\n1\t7.5\n3\t8.5\n', { delimiter: '\t' });
        expect(d4.task).toBe('regression');
        expect(Array.from(d4.y.dataSync())).toEqual([7.5, 8.5]);
        free(d3, d4);
        flat();
      });

      it('reads data/iris.csv: 150 rows, 4 features, 3 classes of 50', async () => {
        const d = await data.readCsv(path('iris.csv'));
        expect(d.x.shape).toEqual([150, 4]);
        expect(d.y.shape).toEqual([150]);
        expect(d.columns).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
        expect(d.target).toBe('species');
        expect(d.classes).toEqual(['setosa', 'versicolor', 'virginica']);
        expect(d.task).toBe('classification');
        const y = d.y.dataSync();
        expect([0, 1, 2].map((c) => y.filter((v) => v === c).length)).toEqual([50, 50, 50]);
        expect(Array.from(d.x.dataSync().subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
        expect(d.report).toMatchObject({ rows: 150, rowsRead: 150, dropped: 0, missing: {}, imputed: {}, categorical: {}, ignored: [] });
        free(d);
        flat();
      });

      it('reads data/digits.csv: 1797 × 64, classes 0–9 in numeric order', async () => {
        const d = await data.readCsv(path('digits.csv'), { target: 'digit' });
        expect(d.x.shape).toEqual([1797, 64]);
        expect(d.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        expect(d.task).toBe('classification');
        const text = readFileSync(path('digits.csv'), 'utf8').trim().split('\n');
        const y = d.y.dataSync();
        // class index = the digit itself
        for (const i of [0, 1, 500, 1796]) expect(y[i]).toBe(+text[i + 1].split(',')[64]);
        const x = d.x.dataSync();
        expect(Math.min(...x)).toBe(0);
        expect(Math.max(...x)).toBe(16);
        free(d);
        flat();
      });

      it('reads data/diabetes.csv as regression (442 × 10), with the scikit-learn scaler statistics', async () => {
        const d = await data.readCsv(path('diabetes.csv'));
        expect(d.x.shape).toEqual([442, 10]);
        expect(d.task).toBe('regression');
        expect(d.classes).toBeNull();
        expect(d.y.dataSync()[0]).toBe(151);
        expect(d.report.taskReason).toMatch(/214 distinct integers \(more than 20\)/);
        const s = data.standardize(d.x);
        const want = ref.scalers.diabetes;
        const p = s.params as { mean: Float32Array; std: Float32Array };
        for (let j = 0; j < 10; j++) {
          expect(Math.abs(p.mean[j] - want.mean[j])).toBeLessThanOrEqual(1e-6 * Math.abs(want.mean[j]));
          expect(Math.abs(p.std[j] - want.std[j])).toBeLessThanOrEqual(1e-6 * want.std[j]);
        }
        free(d);
        flat();
      });

      it('reads from a path, a file: URL, a Blob, a File and an http URL (fetch)', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'simdnn-csv-'));
        try {
          const file = join(dir, 'small.csv');
          writeFileSync(file, 'a,b,y\n1,2,0\n3,4,1\n');
          const byPath = await data.readCsv(file);
          expect(byPath.x.arraySync()).toEqual([[1, 2], [3, 4]]);
          const byUrl = await data.readCsv(pathToFileURL(file));
          const byUrlString = await data.readCsv(pathToFileURL(file).href);
          expect(byUrl.x.arraySync()).toEqual([[1, 2], [3, 4]]);
          expect(byUrlString.x.arraySync()).toEqual([[1, 2], [3, 4]]);
          free(byPath, byUrl, byUrlString);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        const blob = await data.readCsv(new Blob(['a,y\n1,0\n2,1\n']));
        const file = await data.readCsv(new File(['a,y\n5,0\n6,1\n'], 'x.csv', { type: 'text/csv' }));
        expect(blob.x.arraySync()).toEqual([[1], [2]]);
        expect(file.x.arraySync()).toEqual([[5], [6]]);
        free(blob, file);

        const fetch = vi.fn(async (url: string) => (url.endsWith('404.csv') ? new Response('nope', { status: 404, statusText: 'Not Found' }) : new Response('a,y\n7,0\n8,1\n')));
        vi.stubGlobal('fetch', fetch);
        try {
          const web = await data.readCsv('https://example.com/t.csv');
          expect(web.x.arraySync()).toEqual([[7], [8]]);
          const webObj = await data.readCsv(new URL('https://example.com/u.csv'));
          const forced = await data.readCsv('example.com/t.csv', { from: 'url' });
          expect(fetch.mock.calls.map((c) => String(c[0]))).toEqual(['https://example.com/t.csv', 'https://example.com/u.csv', 'example.com/t.csv']);
          free(web, webObj, forced);
          await expect(data.readCsv('https://example.com/404.csv')).rejects.toThrow(/fetching https:\/\/example.com\/404.csv failed with HTTP 404 Not Found/);
        } finally {
          vi.unstubAllGlobals();
        }
        // from: 'string' takes a one-line string as text, not a path
        await expect(data.readCsv('abc', { from: 'string' })).rejects.toThrow(/has a header \(abc\) but no data rows/);
        flat();
      });

      it('one-hot encodes text features and the categorical option; ignores unlisted columns', async () => {
        const csv = 'id,color,size,zip,y\n1,red,1,100,0\n2,blue,2,200,1\n3,red,3,100,1\n4,green,4,300,0\n';
        const d = await data.readCsv(csv, { features: ['color', 'size', 'zip'], categorical: ['zip'] });
        expect(d.columns).toEqual(['color=blue', 'color=green', 'color=red', 'size', 'zip=100', 'zip=200', 'zip=300']);
        expect(d.x.arraySync()).toEqual([
          [0, 0, 1, 1, 1, 0, 0],
          [1, 0, 0, 2, 0, 1, 0],
          [0, 0, 1, 3, 1, 0, 0],
          [0, 1, 0, 4, 0, 0, 1],
        ]);
        expect(d.report.ignored).toEqual(['id']);
        expect(d.report.categorical).toEqual({ color: ['blue', 'green', 'red'], zip: ['100', '200', '300'] });
        // numeric levels sort numerically
        const e = await data.readCsv('k,y\n10,0\n9,1\n100,0\n', { categorical: ['k'] });
        expect(e.columns).toEqual(['k=9', 'k=10', 'k=100']);
        free(d, e);
        flat();
      });

      it('picks the target by name, index or negative index, and the task sensibly', async () => {
        const csv = 'a,b,c\n1,2.5,0\n2,3.5,1\n3,4.5,0\n';
        const byName = await data.readCsv(csv, { target: 'b' });
        const byIndex = await data.readCsv(csv, { target: 1 });
        const byNeg = await data.readCsv(csv, { target: -2 });
        for (const d of [byName, byIndex, byNeg]) {
          expect(d.target).toBe('b');
          expect(d.task).toBe('regression');
          expect(d.columns).toEqual(['a', 'c']);
        }
        // integer labels: numeric class order (10 after 2), y = index into classes
        const cls = await data.readCsv('a,y\n1,10\n2,2\n3,1\n4,2.0\n');
        expect(cls.classes).toEqual(['1', '2', '10']);
        expect(Array.from(cls.y.dataSync())).toEqual([2, 1, 0, 1]);
        // task override
        const reg = await data.readCsv('a,y\n1,10\n2,2\n', { task: 'regression' });
        expect(reg.task).toBe('regression');
        const many = Array.from({ length: 30 }, (_, i) => `${i},${i}`).join('\n');
        const manyInts = await data.readCsv(`a,y\n${many}\n`);
        expect(manyInts.task).toBe('regression');
        const forcedCls = await data.readCsv(`a,y\n${many}\n`, { task: 'classification' });
        expect(forcedCls.classes!.length).toBe(30);
        free(byName, byIndex, byNeg, cls, reg, manyInts, forcedCls);
        flat();
      });

      const messy = ['a,b,color,y', '1,10,red,0', ',20,blue,1', '3,,red,0', '4,40,,1', 'oops,50,red,0', '6,60,blue,', '7,70,blue,1', '8,80,red,0'].join('\n');

      it("missing: 'drop' drops rows with missing or invalid values and reports them", async () => {
        const d = await data.readCsv(messy);
        // dropped: row a='' , b='', color='', a='oops' (invalid), y=''
        expect(d.report).toMatchObject({ rows: 3, rowsRead: 8, dropped: 5, missing: { a: 1, b: 1, color: 1, y: 1 }, invalid: { a: 1 }, imputed: {} });
        expect(d.x.arraySync()).toEqual([[1, 10, 0, 1], [7, 70, 1, 0], [8, 80, 0, 1]]);
        expect(Array.from(d.y.dataSync())).toEqual([0, 1, 0]);
        expect(d.report.notes.join('\n')).toMatch(/dropped 5 rows/);
        expect(d.encoding.features.map((f) => f.fill)).toEqual([null, null, null]);
        free(d);
        flat();
      });

      it("missing: 'mean' / 'median' / 'mostFrequent' impute and report", async () => {
        // a missing target cannot be imputed (an error, tested above): take that row out
        const labelled = messy.replace('6,60,blue,\n', '');
        const mean = await data.readCsv(labelled, { missing: 'mean' });
        // a over kept rows: present numbers 1,3,4,7,8 (blank and 'oops' imputed) → mean 4.6
        // b present: 10,20,40,50,70,80 → mean 45; color present: red×4, blue×2 → 'red'
        expect(mean.report).toMatchObject({ rows: 7, dropped: 0, imputed: { a: 2, b: 1, color: 1 }, invalid: { a: 1 } });
        const x = mean.x.arraySync() as number[][];
        expect(x[1][0]).toBeCloseTo(4.6, 5);
        expect(x[2][1]).toBe(45);
        expect(x[3].slice(2)).toEqual([0, 1]); // color imputed 'red'
        expect(mean.encoding.features.map((f) => f.fill)).toEqual([4.6, 45, 'red']);
        const median = await data.readCsv(labelled, { missing: 'median' });
        expect(median.encoding.features.map((f) => f.fill)).toEqual([4, 45, 'red']);
        const mode = await data.readCsv('a,y\n1,0\n2,1\n2,0\n3,1\n3,0\n,1\n', { missing: 'mostFrequent' });
        expect(mode.encoding.features[0].fill).toBe(2); // 2 and 3 tie: the smaller wins (scikit-learn)
        expect((mode.x.arraySync() as number[][])[5]).toEqual([2]);
        // custom missing tokens
        const na = await data.readCsv('a,y\n1,0\n-999,1\n3,0\n', { naValues: ['-999'], missing: 'median' });
        expect(na.report.imputed).toEqual({ a: 1 });
        expect((na.x.arraySync() as number[][])[1]).toEqual([2]);
        free(mean, median, mode, na);
        flat();
      });

      it('never lets NaN reach x (property over random messy tables and every strategy)', async () => {
        const cell = fc.oneof(fc.integer({ min: -50, max: 50 }).map(String), fc.constantFrom('', 'NA', '?', 'abc', '1e3', ' 7 ', '-', 'nan'));
        const table = fc.array(fc.tuple(cell, cell, fc.constantFrom('a', 'b', 'c', 'a', 'NA')), { minLength: 1, maxLength: 25 });
        await fc.assert(
          fc.asyncProperty(table, fc.constantFrom('drop', 'mean', 'median', 'mostFrequent', 'error'), async (rows, missing) => {
            const csv = 'p,q,y\n' + rows.map((r) => r.join(',')).join('\n');
            let d: data.Dataset;
            try {
              d = await data.readCsv(csv, { missing: missing as data.MissingStrategy });
            } catch (e) {
              expect((e as Error).message).toMatch(/^readCsv: /);
              return;
            }
            const x = d.x.dataSync();
            expect(x.every(Number.isFinite)).toBe(true);
            expect(d.y.dataSync().every(Number.isFinite)).toBe(true);
            expect(d.x.shape).toEqual([d.report.rows, d.columns.length]);
            free(d);
          }),
          { numRuns: 150 },
        );
        flat();
      });

      it('encodeRows re-encodes new rows exactly as the training data, from CSV text, objects or arrays', async () => {
        const csv = 'color,size,y\nred,1,0\nblue,,1\ngreen,3,0\nred,5,1\n';
        const d = await data.readCsv(csv, { missing: 'median' });
        // the encoding survives JSON (it travels in a saved model)
        const enc = JSON.parse(JSON.stringify(d.encoding));
        const again = data.encodeRows(enc, csv);
        expect(again.arraySync()).toEqual(d.x.arraySync());
        // columns in another order, no target, a missing size → the training median (3)
        const t = data.encodeRows(enc, 'size,color\n2,blue\n,red\n');
        expect(t.arraySync()).toEqual([[1, 0, 0, 2], [0, 0, 1, 3]]);
        const o = data.encodeRows(enc, [{ color: 'green', size: 4 }, { color: 'red', size: null }]);
        expect(o.arraySync()).toEqual([[0, 1, 0, 4], [0, 0, 1, 3]]);
        const a = data.encodeRows(JSON.stringify(enc) as any, [['blue', '7']]);
        expect(a.arraySync()).toEqual([[1, 0, 0, 7]]);
        const ig = data.encodeRows(enc, [{ color: 'purple', size: 1 }], { unknown: 'ignore' });
        expect(ig.arraySync()).toEqual([[0, 0, 0, 1]]);
        expect(() => data.encodeRows(enc, [{ color: 'purple', size: 1 }])).toThrow(/'color' is "purple" in row 0, a value the training data did not have \(it had blue, green, red\); pass \{unknown: 'ignore'\}/);
        expect(() => data.encodeRows(enc, 'colour,size\nred,1\n')).toThrow(/the rows have no column 'color'; the model needs color, size/);
        expect(() => data.encodeRows(enc, [['red']])).toThrow(/row 0 has 1 value but the model has 2 features \(color, size\)/);
        // a chunk of a larger table names its rows in the whole: firstRow is rows[0]'s number
        expect(() => data.encodeRows(enc, [['red', '1'], ['purple', '2']], { firstRow: 1002 })).toThrow(/'color' is "purple" in row 1003, a value/);
        expect(() => data.encodeRows(enc, [['red']], { firstRow: 7 })).toThrow(/row 7 has 1 value/);
        expect(() => data.encodeRows(enc, [['red', '1']], { firstRow: -1 })).toThrow(/firstRow must be a non-negative integer, got -1/);
        expect(() => data.encodeRows(enc, [{ size: 1 }])).toThrow(/row 0 has no 'color'/);
        expect(() => data.encodeRows({} as any, [])).toThrow(/encoding must be the encoding of a Dataset/);
        free(d, again, t, o, a, ig);
        // trained with 'drop': no fill value, so a missing field is an error
        const dropped = await data.readCsv(csv);
        expect(() => data.encodeRows(dropped.encoding, [{ color: 'red', size: '' }])).toThrow(
          /'size' is missing in row 0, and the training data was read with missing: 'drop', which leaves no value to fill in/,
        );
        expect(() => data.encodeRows(dropped.encoding, [{ color: 'red', size: 'big' }])).toThrow(/'size' is "big", not a number,/);
        free(dropped);
        flat();
      });
    });

    describe('scalers', () => {
      it('standardize matches scikit-learn on iris, centres and scales, and round-trips', async () => {
        const d = await data.readCsv(path('iris.csv'));
        const s = data.standardize(d.x);
        expect(s.kind).toBe('standard');
        expect(s.features).toBe(4);
        const p = s.params as { mean: Float32Array; std: Float32Array };
        const want = ref.scalers.iris;
        for (let j = 0; j < 4; j++) {
          expect(Math.abs(p.mean[j] - want.mean[j])).toBeLessThanOrEqual(1e-6 * want.mean[j]);
          expect(Math.abs(p.std[j] - want.std[j])).toBeLessThanOrEqual(1e-6 * want.std[j]);
        }
        const z = s.transform(d.x);
        const zs = z.dataSync();
        for (let j = 0; j < 4; j++) {
          let m = 0, v = 0;
          for (let i = 0; i < 150; i++) m += zs[i * 4 + j];
          m /= 150;
          for (let i = 0; i < 150; i++) v += (zs[i * 4 + j] - m) ** 2;
          expect(Math.abs(m)).toBeLessThan(1e-6);
          expect(Math.abs(Math.sqrt(v / 150) - 1)).toBeLessThan(1e-6);
        }
        const back = s.inverseTransform(z);
        const xs = d.x.dataSync(), bs = back.dataSync();
        for (let i = 0; i < xs.length; i++) expect(Math.abs(bs[i] - xs[i])).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(xs[i])));
        // a single row [4] works too
        const row = sd.tensor([5.1, 3.5, 1.4, 0.2]);
        const zr = s.transform(row);
        expect(zr.shape).toEqual([4]);
        expect(Array.from(zr.dataSync())).toEqual(Array.from(zs.subarray(0, 4)));
        free(d, z, back, row, zr);
        flat();
      });

      it('minMaxScale maps each column onto the range; a constant column goes to the middle', () => {
        const x = sd.tensor([[1, 10, 5], [2, 30, 5], [4, 20, 5]]);
        const s = data.minMaxScale(x);
        expect(s.kind).toBe('minmax');
        expect(s.range).toEqual([0, 1]);
        const y = s.transform(x);
        const want = [[0, 0, 0.5], [1 / 3, 1, 0.5], [1, 0.5, 0.5]];
        (y.arraySync() as number[][]).forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 6)));
        const s2 = data.minMaxScale(x, { range: [-1, 1] });
        const y2 = s2.transform(x);
        expect((y2.arraySync() as number[][]).map((r) => r.map((v) => +v.toFixed(6)))).toEqual([[-1, -1, 0], [-1 / 3, 1, 0].map((v) => +v.toFixed(6)), [1, 0, 0]]);
        const back = s2.inverseTransform(y2);
        (back.arraySync() as number[][]).forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo((x.arraySync() as number[][])[i][j], 5)));
        // a constant column under standardize: std 1, centred to 0
        const st = data.standardize(x);
        expect((st.params as any).std[2]).toBe(1);
        const z = st.transform(x);
        expect((z.arraySync() as number[][]).map((r) => r[2])).toEqual([0, 0, 0]);
        free(x, y, y2, back, z);
        flat();
      });

      it('toJSON → JSON → scalerFromJSON rebuilds the same scaler, bit for bit', async () => {
        const d = await data.readCsv(path('diabetes.csv'));
        for (const s of [data.standardize(d.x), data.minMaxScale(d.x, { range: [-2, 3] })]) {
          const json = JSON.parse(JSON.stringify(s));
          const r = data.scalerFromJSON(json);
          expect(r.kind).toBe(s.kind);
          expect(r.params).toEqual(s.params);
          expect(r.toJSON()).toEqual(s.toJSON());
          const a = s.transform(d.x), b = r.transform(d.x);
          expect(b.dataSync()).toEqual(a.dataSync());
          const fromString = data.scalerFromJSON(JSON.stringify(s.toJSON()));
          expect(fromString.toJSON()).toEqual(s.toJSON());
          free(a, b);
        }
        free(d);
        flat();
      });

      it('rejects NaN, the wrong width and bad parameters', () => {
        const x = sd.tensor([[1, 2], [3, NaN]]);
        expect(() => data.standardize(x)).toThrow(/x has NaN at row 1, column 1; clean the data first/);
        const ok = sd.tensor([[1, 2], [3, 4]]);
        const s = data.standardize(ok);
        const wide = sd.zeros([2, 3]);
        expect(() => s.transform(wide)).toThrow(/x \[2, 3\] does not match the scaler, which was fitted on 2 features/);
        const vec = sd.tensor([1, 2, 3]), none = sd.zeros([0, 3]);
        expect(() => data.standardize(vec)).toThrow(/x must be 2-D \[rows, features\]/);
        expect(() => data.standardize(none)).toThrow(/x has no rows/);
        expect(() => data.minMaxScale(ok, { range: [1, 0] })).toThrow(/range must be \[lo, hi\] with finite lo < hi/);
        expect(() => data.minMaxScale(ok, { rnage: [0, 1] } as any)).toThrow(/unknown option 'rnage'/);
        expect(() => data.standardize('x' as any)).toThrow(/standardize: x: data must be a number, an array of numbers or a typed array; got string/);
        expect(() => data.scalerFromJSON({ kind: 'robust' })).toThrow(/unknown scaler kind "robust"/);
        expect(() => data.scalerFromJSON({ kind: 'standard', mean: [0], std: [0] })).toThrow(/every std must be positive/);
        expect(() => data.scalerFromJSON({ kind: 'minmax', min: [0, 1], max: [1] })).toThrow(/min has 2 values but max has 1/);
        expect(() => data.scalerFromJSON('{oops')).toThrow(/not JSON/);
        free(x, ok, wide, vec, none);
        flat();
      });
    });

    describe('split', () => {
      const rows = (t: sd.Tensor) => t.arraySync() as number[][];

      it('splits 80/20 (and with validation), disjoint, covering every row, matching the indices', async () => {
        const d = await data.readCsv(path('iris.csv'));
        const s = data.split(d.x, d.y, { seed: 3 });
        expect(s.train.x.shape).toEqual([120, 4]);
        expect(s.test.x.shape).toEqual([30, 4]);
        expect(s.train.y.shape).toEqual([120]);
        expect(s.validation).toBeUndefined();
        const all = [...s.indices.train, ...s.indices.test].sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: 150 }, (_, i) => i));
        const X = rows(d.x), Y = d.y.dataSync();
        rows(s.test.x).forEach((r, i) => expect(r).toEqual(X[s.indices.test[i]]));
        Array.from(s.test.y.dataSync()).forEach((v, i) => expect(v).toBe(Y[s.indices.test[i]]));
        const v = data.split(d.x, d.y, { test: 0.2, validation: 0.1, seed: 3 });
        expect([v.train.x.shape[0], v.validation!.x.shape[0], v.test.x.shape[0]]).toEqual([105, 15, 30]);
        expect(new Set([...v.indices.train, ...v.indices.validation!, ...v.indices.test]).size).toBe(150);
        // no shuffle: train, validation, test in file order
        const ns = data.split(d.x, d.y, { test: 0.2, validation: 0.1, shuffle: false });
        expect(Array.from(ns.indices.test)).toEqual(Array.from({ length: 30 }, (_, i) => 120 + i));
        free(d, s, v, ns);
        flat();
      });

      it('is reproducible for a seed and differs across seeds', () => {
        const x = sd.tensor(Float32Array.from({ length: 200 }, (_, i) => i), [100, 2]);
        const y = sd.tensor(Float32Array.from({ length: 100 }, (_, i) => i % 4));
        const a = data.split(x, y, { seed: 11 }), b = data.split(x, y, { seed: 11 }), c = data.split(x, y, { seed: 12 });
        expect(a.indices).toEqual(b.indices);
        expect(a.train.x.dataSync()).toEqual(b.train.x.dataSync());
        expect(Array.from(c.indices.test)).not.toEqual(Array.from(a.indices.test));
        const sa = data.split(x, y, { seed: 5, stratify: true }), sb = data.split(x, y, { seed: 5, stratify: true });
        expect(sa.indices).toEqual(sb.indices);
        free(x, y, a, b, c, sa, sb);
        flat();
      });

      it('stratifies: each class keeps its share in every part (iris, digits)', async () => {
        const iris = await data.readCsv(path('iris.csv'));
        const s = data.split(iris.x, iris.y, { test: 0.2, stratify: true, seed: 1 });
        const count = (t: sd.Tensor, k: number) => Array.from({ length: k }, (_, c) => t.dataSync().filter((v) => v === c).length);
        expect(count(s.test.y, 3)).toEqual([10, 10, 10]);
        expect(count(s.train.y, 3)).toEqual([40, 40, 40]);
        const v = data.split(iris.x, iris.y, { test: 0.2, validation: 0.2, stratify: true, seed: 1 });
        expect(count(v.validation!.y, 3)).toEqual([10, 10, 10]);
        expect(count(v.train.y, 3)).toEqual([30, 30, 30]);

        const digits = await data.readCsv(path('digits.csv'));
        const all = count(digits.y, 10);
        const t = data.split(digits.x, digits.y, { test: 0.2, stratify: true, seed: 0 });
        expect(t.test.y.shape[0]).toBe(Math.ceil(0.2 * 1797));
        count(t.test.y, 10).forEach((c, k) => expect(Math.abs(c - (all[k] * 360) / 1797)).toBeLessThan(1));
        // unstratified splits drift further than that for some class (seed 0 here); stratified ones never do
        // stratify by an explicit label array (here the same labels)
        const e = data.split(iris.x, iris.y, { stratify: Array.from(iris.y.dataSync()), seed: 1 });
        expect(count(e.test.y, 3)).toEqual([10, 10, 10]);
        // one-hot y stratifies by its argmax
        const oh = data.oneHot(iris.y, 3);
        const o = data.split(iris.x, oh, { stratify: true, seed: 2 });
        expect(o.test.y.shape).toEqual([30, 3]);
        const perClass = o.test.y.sum(0);
        expect(perClass.arraySync()).toEqual([10, 10, 10]);
        free(iris, s, v, digits, t, e, oh, o, perClass);
        flat();
      });

      it('sizes stratified parts over all the classes: 20 classes × 5 rows at test 0.1 give 10 test rows, one from each of 10 classes', () => {
        const x = sd.zeros([100, 1]), y = sd.tensor(Float32Array.from({ length: 100 }, (_, i) => i % 20));
        const s = data.split(x, y, { test: 0.1, stratify: true, seed: 2 });
        const per = new Array(20).fill(0);
        for (const i of s.indices.test) per[i % 20]++;
        expect(s.test.y.shape[0]).toBe(10);
        expect(per.filter((c) => c === 1).length).toBe(10);
        expect(per.every((c) => c <= 1)).toBe(true);
        free(x, y, s);
        flat();
      });

      it('explains a stratified part that does not fit, and what to do', () => {
        const x = sd.zeros([30, 1]), y = sd.tensor(Float32Array.from({ length: 30 }, (_, i) => i % 10));
        const x20 = sd.zeros([20, 1]), y20 = sd.tensor(Float32Array.from({ length: 20 }, (_, i) => i % 10));
        expect(() => data.split(x20, y20, { test: 0.6, stratify: true })).toThrow(
          /^split: a stratified test part of 12 rows does not fit: each of the 10 classes keeps a row for train, which leaves room for 10 of the 20 rows\. Use a smaller test fraction, drop or merge the rare classes, or use stratify: false\.$/,
        );
        expect(() => data.split(x, y, { test: 0.6, validation: 0.1, stratify: true })).toThrow(/a stratified test part of 18 rows does not fit: each of the 10 classes keeps a row for train and one for validation, which leaves room for 10 of the 30 rows/);
        expect(() => data.split(x, y, { test: 0.1, validation: 0.6, stratify: true })).toThrow(
          /a stratified validation part of 18 rows does not fit: each of the 10 classes keeps a row for train, which leaves room for 17 of the 27 rows outside the test part\. Use a smaller validation fraction/,
        );
        free(x, y, x20, y20);
        flat();
      });

      it('rejects bad fractions, mismatched rows, too few rows and unstratifiable labels', () => {
        const x = sd.zeros([10, 2]), y = sd.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 2]), y9 = sd.zeros([9]);
        const yr = sd.tensor(Float32Array.from({ length: 10 }, (_, i) => i / 3));
        expect(() => data.split(x, y, { test: 0 })).toThrow(/test must be a fraction in \(0, 1\), got 0/);
        expect(() => data.split(x, y, { test: 1 })).toThrow(/test must be a fraction/);
        expect(() => data.split(x, y, { test: 20 })).toThrow(/test must be a fraction/);
        expect(() => data.split(x, y, { test: '0.2' as any })).toThrow(/got string/);
        expect(() => data.split(x, y, { validation: -0.1 })).toThrow(/validation must be a fraction/);
        expect(() => data.split(x, y, { test: 0.5, validation: 0.5 })).toThrow(/test \(0.5\) \+ validation \(0.5\) is 1, which leaves no rows to train on/);
        expect(() => data.split(x, y9)).toThrow(/x \[10, 2\] has 10 rows but y \[9\] has 9/);
        expect(() => data.split(x, y, { stratify: true })).toThrow(/class 2 has only 1 row; a stratified split into 2 parts needs at least 2 rows of every class/);
        expect(() => data.split(x, yr, { stratify: true })).toThrow(/value 0.3333.* at row 1 is not a class index.*use stratify: false/);
        expect(() => data.split(x, y, { stratify: true, shuffle: false })).toThrow(/stratify needs shuffle: true/);
        expect(() => data.split(x, y, { seed: -1 })).toThrow(/seed must be a non-negative integer/);
        expect(() => data.split(x, y, { tset: 0.2 } as any)).toThrow(/unknown option 'tset'/);
        const x1 = sd.zeros([1, 2]), y1 = sd.zeros([1]);
        expect(() => data.split(x1, y1)).toThrow(/1 row is too few for this split \(train 0, test 1\)/);
        expect(() => data.split({ data: [1, 2, 3], shape: [2, 2] }, y)).toThrow(/split: x: shape \[2, 2\] holds 4 values but the data has 3/);
        free(x, y, y9, yr, x1, y1);
        flat();
      });
    });

    describe('batches and oneHot', () => {
      it('yields batches in order, the last one short, or dropped; shuffled batches cover every row once', () => {
        const x = sd.tensor(Float32Array.from({ length: 300 }, (_, i) => i), [100, 3]);
        const y = sd.tensor(Float32Array.from({ length: 100 }, (_, i) => i));
        const it = data.batches(x, y, { batchSize: 32 });
        expect(it.length).toBe(4);
        const sizes: number[] = [], seen: number[] = [];
        for (const b of it) {
          sizes.push(b.x.shape[0]);
          expect(b.x.shape[1]).toBe(3);
          const ys = Array.from(b.y!.dataSync());
          expect(ys).toEqual(Array.from(b.indices));
          expect(b.x.dataSync()[0]).toBe(ys[0] * 3);
          seen.push(...ys);
          free(b);
        }
        expect(sizes).toEqual([32, 32, 32, 4]);
        expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
        const dl = data.batches(x, y, { batchSize: 32, dropLast: true });
        expect(dl.length).toBe(3);
        expect([...dl].map((b) => (free(b), b.x.shape[0]))).toEqual([32, 32, 32]);
        const sh = (seed: number) => {
          const out: number[] = [];
          for (const b of data.batches(x, y, { batchSize: 30, shuffle: true, seed })) {
            out.push(...b.y!.dataSync());
            free(b);
          }
          return out;
        };
        const s1 = sh(1);
        expect(s1).not.toEqual(seen);
        expect([...s1].sort((a, b) => a - b)).toEqual(seen);
        expect(sh(1)).toEqual(s1);
        expect(sh(2)).not.toEqual(s1);
        // y may be null (prediction)
        const only = [...data.batches(x, null, { batchSize: 64 })];
        expect(only.map((b) => [b.x.shape[0], b.y])).toEqual([[64, null], [36, null]]);
        free(only);
        // stopping early leaves nothing behind
        for (const b of data.batches(x, y, { batchSize: 10 })) {
          free(b);
          break;
        }
        free(x, y);
        flat();
      });

      it('rejects bad batch options', () => {
        const x = sd.zeros([5, 2]), y = sd.zeros([4]);
        expect(() => data.batches(x, null, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
        expect(() => data.batches(x, null, { batchSize: 2.5 })).toThrow(/batchSize must be a positive integer/);
        expect(() => data.batches(x, null, { batchSize: -4 })).toThrow(/batchSize must be a positive integer/);
        expect(() => data.batches(x, null, {} as any)).toThrow(/batchSize must be a positive integer, got undefined/);
        expect(() => data.batches(x, null, undefined as any)).toThrow(/options with a batchSize are required/);
        expect(() => data.batches(x, y, { batchSize: 2 })).toThrow(/x \[5, 2\] has 5 rows but y \[4\] has 4/);
        expect(() => data.batches(x, null, { batchSize: 2, shufle: true } as any)).toThrow(/unknown option 'shufle'/);
        free(x, y);
        flat();
      });

      it('oneHot builds [n, k] rows and checks the labels', () => {
        const l = sd.tensor([2, 0, 1]);
        const o = data.oneHot(l, 3);
        expect(o.arraySync()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
        const a = data.oneHot([1, 1], 2);
        expect(a.arraySync()).toEqual([[0, 1], [0, 1]]);
        expect(() => data.oneHot(l, 2)).toThrow(/label 2 at row 0 is not a class index in 0..1/);
        expect(() => data.oneHot([0.5], 2)).toThrow(/label 0.5 at row 0/);
        expect(() => data.oneHot(l, 0)).toThrow(/numClasses must be a positive integer/);
        free(l, o, a);
        flat();
      });
    });

    it('a whole pipeline (read, split, scale, batch) leaves memory() where it started', async () => {
      const before = sd.memory();
      const d = await data.readCsv(path('iris.csv'));
      const s = data.split(d.x, d.y, { stratify: true, seed: 4 });
      const scaler = data.standardize(s.train.x);
      const xs = scaler.transform(s.train.x);
      let rows = 0;
      for (const b of data.batches(xs, s.train.y, { batchSize: 16, shuffle: true })) {
        rows += b.x.shape[0];
        free(b);
      }
      expect(rows).toBe(120);
      free(d, s, xs);
      const after = sd.memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.bytes).toBe(before.bytes);
      expect(after.backend.allocatedBytes).toBe(before.backend.allocatedBytes);
    });
  });
}

// ---- readCsv as large files reach it: bytes, chunks, a million rows, id-like columns ----

describe('readCsv: the sources users pass, large files and id-like columns', () => {
  let dir = '';
  beforeAll(async () => {
    await sd.init({ backend: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'simdnn-csv-big-'));
  });
  afterAll(() => {
    sd.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads bytes (a Node Buffer from fs.readFileSync, a Uint8Array, an ArrayBuffer) as UTF-8, a BOM and a character cut between chunks included', async () => {
    // 'é' (2 bytes) starts at byte 65,535, so the 64 KiB pieces readCsv decodes cut it in two.
    const head = 'name,v,y\n';
    const long = 'a'.repeat(65_535 - head.length - ',1,0\n'.length);
    const text = `${head}${long},1,0\né,2,1\nü日本,3,0\n"é, ""q""",4,1\n`;
    expect(Buffer.byteLength(text.slice(0, text.indexOf('é')))).toBe(65_535);
    const file = join(dir, 'utf8.csv');
    writeFileSync(file, `\uFEFF${text}`);
    const buffer = readFileSync(file);
    const sources: [string, data.CsvSource][] = [
      ['Buffer', buffer],
      ['Uint8Array', new Uint8Array(buffer)],
      ['ArrayBuffer', buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)],
      ['path', file],
      ['Blob', new Blob([buffer])],
      ['text', text],
    ];
    for (const [what, src] of sources) {
      const d = await data.readCsv(src);
      expect(d.columns, what).toEqual([`name=${long}`, 'name=é', 'name=é, "q"', 'name=ü日本', 'v']);
      expect(d.x.arraySync(), what).toEqual([[1, 0, 0, 0, 1], [0, 1, 0, 0, 2], [0, 0, 0, 1, 3], [0, 0, 1, 0, 4]]);
      expect(Array.from(d.y.dataSync()), what).toEqual([0, 1, 0, 1]);
      free(d);
    }
    await expect(data.readCsv(buffer, { from: 'path' })).rejects.toThrow(/from: 'path' does not apply to bytes/);
  });

  it('parses text read in many chunks as one: quoted fields with delimiters, quotes and line breaks across chunk ends, CRLF', async () => {
    // 20,000 rows (about 900 KB): every 64 KiB piece ends somewhere inside a row, often inside a quoted field.
    const tags = ['a, "b"\r\nc', 'x\ny', 'plain'];
    const rows = Array.from({ length: 20_000 }, (_, i) => `"${tags[i % 3].replace(/"/g, '""')}","${i}",${(i * 0.25).toFixed(2)},${i % 2}`);
    const text = `tag,n,v,y\r\n${rows.join('\r\n')}\r\n`;
    for (const src of [text, new Blob([text])]) {
      const d = await data.readCsv(src);
      expect(d.columns).toEqual(['tag=a, "b"\r\nc', 'tag=plain', 'tag=x\ny', 'n', 'v']);
      expect(d.x.shape).toEqual([20_000, 5]);
      const x = d.x.dataSync(), y = d.y.dataSync();
      const onehot = [[1, 0, 0], [0, 0, 1], [0, 1, 0]];
      for (let i = 0; i < 20_000; i++) {
        const row = Array.from(x.subarray(i * 5, i * 5 + 5));
        if (row.join() !== [...onehot[i % 3], i, Math.fround(i * 0.25)].join() || y[i] !== i % 2) throw new Error(`row ${i}: ${row}, y ${y[i]}`);
      }
      free(d);
    }
  });

  it('reads a file of a million rows from its path, streaming, with progress', async () => {
    // About 17 MB: features a (eighths), b (negative integers), c (hundredths), label 0–4.
    const file = join(dir, 'million.csv');
    const N = 1_000_000;
    const a = (i: number) => (i % 1000) / 8, b = (i: number) => 0 - (i % 777), c = (i: number) => ((i * 7) % 10007) / 100;
    const fd = openSync(file, 'w');
    writeSync(fd, 'a,b,c,label\n');
    for (let start = 0; start < N; start += 50_000) {
      let s = '';
      for (let i = start; i < start + 50_000; i++) s += `${a(i)},${b(i)},${c(i)},${i % 5}\n`;
      writeSync(fd, s);
    }
    closeSync(fd);
    const size = statSync(file).size;

    const seen: data.CsvProgress[] = [];
    const d = await data.readCsv(file, { onProgress: (p) => seen.push(p) });
    expect(d.x.shape).toEqual([N, 3]);
    expect(d.classes).toEqual(['0', '1', '2', '3', '4']);
    expect(d.report).toMatchObject({ rows: N, rowsRead: N, dropped: 0, warnings: [] });
    const x = d.x.dataSync(), y = d.y.dataSync();
    for (const i of [0, 1, 12_345, 499_999, N - 1]) {
      expect(Array.from(x.subarray(i * 3, i * 3 + 3))).toEqual([a(i), b(i), c(i)].map(Math.fround));
      expect(y[i]).toBe(i % 5);
    }
    // The file arrives in pieces: progress about every MB, rising to the whole file.
    expect(seen.length).toBeGreaterThan(10);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].bytes).toBeGreaterThanOrEqual(seen[i - 1].bytes);
      expect(seen[i].rows).toBeGreaterThanOrEqual(seen[i - 1].rows);
    }
    expect(seen.every((p) => p.total === size)).toBe(true);
    expect(seen[seen.length - 1]).toEqual({ bytes: size, total: size, rows: N + 1 });
    free(d);
    await expect(data.readCsv(file, { onProgress: 5 as any })).rejects.toThrow(/onProgress must be a function, got number/);
  });

  it('warns when a classification target looks like an id (more than 20 classes, under 5 rows per class)', async () => {
    const ids = await data.readCsv(`a,id\n${Array.from({ length: 200 }, (_, i) => `${i % 7},user${i}`).join('\n')}\n`);
    expect(ids.task).toBe('classification');
    expect(ids.report.warnings).toEqual([
      "the target 'id' has 200 classes for 200 rows (1.0 per class): it looks like an id or a number rather than a class label; choose another target (and leave an id column out of the features)",
    ]);
    expect(ids.report.notes).toContain(`warning: ${ids.report.warnings[0]}`);
    // integers read as classes because task says so: regression is suggested
    const nums = await data.readCsv(`a,y\n${Array.from({ length: 100 }, (_, i) => `${i},${i * 3}`).join('\n')}\n`, { task: 'classification' });
    expect(nums.report.warnings[0]).toMatch(/^the target 'y' has 100 classes for 100 rows \(1\.0 per class\).*pass task: 'regression' if it is a quantity to predict/);
    // 25 classes of 6 rows, and the usual data sets: no warning
    const many = await data.readCsv(`a,y\n${Array.from({ length: 150 }, (_, i) => `${i},c${i % 25}`).join('\n')}\n`);
    const iris = await data.readCsv(path('iris.csv'));
    expect([many.report.warnings, iris.report.warnings]).toEqual([[], []]);
    free(ids, nums, many, iris);
  });

  it('id-like and numeric-looking feature columns: counts past the level dictionary, invalid values among many numbers', async () => {
    // 300 distinct ids: the per-column dictionary gives up at maxCategories, the count stays exact
    const ids = `id,y\n${Array.from({ length: 300 }, (_, i) => `k${i},${i % 2}`).join('\n')}\n`;
    await expect(data.readCsv(ids)).rejects.toThrow(/column 'id' holds text with 300 distinct values, too many to one-hot \(maxCategories is 50\)/);
    // ... and listed in categorical, it is encoded anyway
    const forced = await data.readCsv(ids, { categorical: ['id'] });
    expect(forced.columns).toHaveLength(300);
    // a numeric column of 100 distinct values and 3 stray words stays numeric; those rows are dropped
    const mixed = await data.readCsv(`v,y\n${Array.from({ length: 103 }, (_, i) => `${i < 100 ? i / 4 : 'oops'},${i % 2}`).join('\n')}\n`);
    expect(mixed.report).toMatchObject({ rows: 100, dropped: 3, invalid: { v: 3 } });
    expect(Array.from(mixed.x.dataSync().subarray(97, 100))).toEqual([24.25, 24.5, 24.75]);
    // mostly text with a few numbers: categorical, the numbers as written are levels
    const cat = await data.readCsv('v,y\nred,0\n1.0,1\nred,0\nblue,1\n1,0\n');
    expect(cat.columns).toEqual(['v=1', 'v=1.0', 'v=blue', 'v=red']);
    free(forced, mixed, cat);
  });
});
