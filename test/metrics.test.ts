// metrics: checked against scikit-learn's documented examples, values worked out by hand, and reference
// values scikit-learn computed (test/fixtures/metrics-reference.json, written by metrics_reference.py).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sd from '../src/index.js';
import * as metrics from '../src/metrics.js';

const ref = JSON.parse(readFileSync(new URL('./fixtures/metrics-reference.json', import.meta.url), 'utf8'));
const close = (got: number, want: number, tol = 1e-12) => expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));

describe('metrics on plain arrays', () => {
  // sklearn's docstring examples, with the arguments swapped to (pred, truth).
  it('confusionMatrix: rows are the true class, columns the prediction (sklearn docstring)', () => {
    const yTrue = [2, 0, 2, 2, 0, 1], yPred = [0, 0, 2, 2, 0, 2];
    expect(metrics.confusionMatrix(yPred, yTrue)).toEqual([[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
    expect(metrics.confusionMatrix(yPred, yTrue, 4)).toEqual([[2, 0, 0, 0], [0, 0, 1, 0], [1, 0, 2, 0], [0, 0, 0, 0]]);
    expect(() => metrics.confusionMatrix(yPred, yTrue, 2)).toThrow(/class 2 appears but numClasses is 2/);
  });

  it('accuracy (sklearn docstring) and its input forms', () => {
    expect(metrics.accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
    expect(metrics.accuracy(Float32Array.of(0, 2, 1, 3), Int32Array.of(0, 1, 2, 3))).toBe(0.5);
    // logits [n, k] → argmax; one-hot labels → argmax.
    const logits = [[2, 1, 0], [0, 3, 1], [5, 0, 9], [0, 0, 1]];
    expect(metrics.accuracy(logits, [0, 1, 2, 1])).toBe(0.75);
    expect(metrics.accuracy(logits, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])).toBe(0.75);
    // one probability column: > 0.5 is class 1.
    expect(metrics.accuracy([[0.9], [0.2], [0.6], [0.4]], [1, 0, 0, 0])).toBe(0.75);
    expect(metrics.accuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 0])).toBe(0.75);
    // logits of a binary model: threshold 0.
    expect(metrics.accuracy([[2.1], [-0.3], [0.1], [-4]], [1, 0, 1, 0], { threshold: 0 })).toBe(1);
    // first maximum wins on ties, as argmax.
    expect(metrics.accuracy([[1, 1]], [0])).toBe(1);
  });

  it('precision, recall, f1 with every average (sklearn docstring)', () => {
    const yTrue = [0, 1, 2, 0, 1, 2], yPred = [0, 2, 1, 0, 0, 1];
    close(metrics.precision(yPred, yTrue), 2 / 9);
    close(metrics.precision(yPred, yTrue, { average: 'micro' }), 1 / 3);
    close(metrics.precision(yPred, yTrue, { average: 'weighted' }), 2 / 9);
    close(metrics.recall(yPred, yTrue), 1 / 3);
    close(metrics.recall(yPred, yTrue, { average: 'micro' }), 1 / 3);
    close(metrics.recall(yPred, yTrue, { average: 'weighted' }), 1 / 3);
    close(metrics.f1(yPred, yTrue), 0.26666666666666666);
    close(metrics.f1(yPred, yTrue, { average: 'micro' }), 1 / 3);
    close(metrics.f1(yPred, yTrue, { average: 'weighted' }), 0.26666666666666666);
  });

  it('binary average, zeroDivision and the labels option (by hand)', () => {
    // tp = 2, fp = 1, fn = 1 for class 1.
    const pred = [1, 1, 1, 0, 0], truth = [1, 1, 0, 1, 0];
    close(metrics.precision(pred, truth, { average: 'binary' }), 2 / 3);
    close(metrics.recall(pred, truth, { average: 'binary' }), 2 / 3);
    close(metrics.f1(pred, truth, { average: 'binary' }), 2 / 3);
    // class 0 as the positive one: tp 1, fp 1, fn 1.
    close(metrics.precision(pred, truth, { average: 'binary', positive: 0 }), 1 / 2);
    // class 2 is never predicted nor present: 0/0 → zeroDivision.
    expect(metrics.precision(pred, truth, { average: 'binary', positive: 2 })).toBe(0);
    expect(metrics.precision(pred, truth, { average: 'binary', positive: 2, zeroDivision: 1 })).toBe(1);
    // labels widens the macro average to absent classes.
    close(metrics.recall(pred, truth, { labels: [0, 1, 2] }), (1 / 2 + 2 / 3 + 0) / 3);
  });

  it('logLoss (sklearn docstring: spam/ham) and the binary column form', () => {
    // classes sorted: ham = 0, spam = 1
    const probs = [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]];
    close(metrics.logLoss(probs, [1, 0, 0, 1]), 0.21616187468057912);
    close(metrics.logLoss([0.9, 0.1, 0.2, 0.65], [1, 0, 0, 1]), 0.21616187468057912);
    close(metrics.logLoss([[0.9], [0.1], [0.2], [0.65]], [1, 0, 0, 1]), 0.21616187468057912);
    close(metrics.logLoss(probs, [[0, 1], [1, 0], [1, 0], [0, 1]]), 0.21616187468057912);
    // clipping: a certain, wrong prediction costs -log(eps).
    close(metrics.logLoss([[1, 0]], [1], { eps: 1e-15 }), -Math.log(1e-15));
    close(metrics.logLoss([[1, 0]], [1]), -Math.log(Number.EPSILON)); // 'auto' on float64 input
    close(metrics.logLoss(Float32Array.of(0), [1]), -Math.log(2 ** -23)); // 'auto' on float32 input
  });

  it('mse, mae, r2 (sklearn docstrings)', () => {
    const t = [3, -0.5, 2, 7], p = [2.5, 0.0, 2, 8];
    close(metrics.mse(p, t), 0.375);
    close(metrics.mae(p, t), 0.5);
    close(metrics.r2(p, t), 0.9486081370449679);
    const T = [[0.5, 1], [-1, 1], [7, -6]], P = [[0, 2], [-1, 2], [8, -5]];
    close(metrics.mse(P, T), 0.7083333333333334);
    close(metrics.mae(P, T), 0.75);
    close(metrics.r2(P, T), 0.9368005266622779);
    close(metrics.r2(P, T, { multioutput: 'varianceWeighted' }), 0.9382566585956417);
    expect(metrics.r2([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(metrics.r2([2, 2, 2], [1, 2, 3])).toBe(0);
    expect(metrics.r2([3, 2, 1], [1, 2, 3])).toBe(-3);
    expect(metrics.r2([-2, -2, -2], [-2, -2, -2])).toBe(1);
    expect(metrics.r2([-2, -2, -2 + 1e-8], [-2, -2, -2])).toBe(0);
    // [n] and [n, 1] are interchangeable.
    close(metrics.mse([[2.5], [0], [2], [8]], t), 0.375);
  });

  it('classificationReport prints the table as scikit-learn does (docstring example)', () => {
    const r = metrics.classificationReport([0, 0, 2, 2, 1], [0, 1, 2, 2, 2], { classNames: ['class 0', 'class 1', 'class 2'] });
    expect(r.text).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
    expect(r.accuracy).toBe(0.6);
    expect(r.classes.map((c) => c.support)).toEqual([1, 1, 3]);
    close(r.classes[2].recall, 2 / 3);
    close(r.macro.f1, (2 / 3 + 0 + 0.8) / 3);
    expect(r.confusion).toEqual([[1, 0, 0], [1, 0, 0], [0, 1, 2]]);
    // Python's rounding of exact ties (half to even), unlike toFixed: 9/16 → 0.562, 0.125 → 0.12, 0.375 → 0.38.
    const tie = metrics.classificationReport([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1], { digits: 3 });
    expect(tie.text).toContain('0.562');
  });

  describe.each(ref.classification.map((c: any, i: number) => [i, c]) as [number, any][])('against scikit-learn %s', (_i, c: any) => {
    it(`n = ${c.labels.length}, k = ${c.k}: accuracy, precision/recall/f1 (3 averages), confusion, logLoss, report`, () => {
      close(metrics.accuracy(c.probs, c.labels), c.accuracy);
      close(metrics.accuracy(c.pred, c.labels), c.accuracy);
      for (const avg of ['macro', 'micro', 'weighted'] as const) {
        close(metrics.precision(c.pred, c.labels, { average: avg }), c[`precision_${avg}`]);
        close(metrics.recall(c.pred, c.labels, { average: avg }), c[`recall_${avg}`]);
        close(metrics.f1(c.probs, c.labels, { average: avg }), c[`f1_${avg}`]);
      }
      expect(metrics.confusionMatrix(c.pred, c.labels, c.k)).toEqual(c.confusion);
      close(metrics.logLoss(c.probs, c.labels), c.logLoss, 1e-10);
      const r = metrics.classificationReport(c.pred, c.labels, { numClasses: c.k, digits: 3 });
      for (let j = 0; j < c.k; j++) {
        const want = c.report[String(j)];
        close(r.classes[j].precision, want.precision);
        close(r.classes[j].recall, want.recall);
        close(r.classes[j].f1, want['f1-score']);
        expect(r.classes[j].support).toBe(want.support);
      }
      close(r.macro.f1, c.report['macro avg']['f1-score']);
      close(r.weighted.precision, c.report['weighted avg'].precision);
      expect(r.text).toBe(c.reportText);
      if (c.k === 2) {
        close(metrics.f1(c.pred, c.labels, { average: 'binary' }), c.f1_binary);
        close(metrics.logLoss(c.probs.map((p: number[]) => p[1]), c.labels), c.logLoss_binary, 1e-10);
      }
    });
  });

  it.each(ref.regression.map((c: any) => [c.target[0].length, c]) as [number, any][])('against scikit-learn: regression with %s output(s)', (_k, c: any) => {
    close(metrics.mse(c.pred, c.target), c.mse);
    close(metrics.mae(c.pred, c.target), c.mae);
    close(metrics.r2(c.pred, c.target), c.r2);
    close(metrics.r2(c.pred, c.target, { multioutput: 'varianceWeighted' }), c.r2_vw);
  });

  it('rejects bad input with errors that say what is wrong', () => {
    expect(() => metrics.accuracy([0, 1], [0, 1, 1])).toThrow(/pred has 2 rows but labels have 3/);
    expect(() => metrics.accuracy([], [])).toThrow(/no rows/);
    expect(() => metrics.accuracy([0, NaN], [0, 1])).toThrow(/pred has NaN at row 1.*diverge/);
    expect(() => metrics.accuracy([[0.1, NaN]], [0])).toThrow(/NaN at row 0, column 1/);
    expect(() => metrics.accuracy([0, 1], [0, 1.5])).toThrow(/label 1.5 at row 1 is not a class index/);
    expect(() => metrics.accuracy([0, 1], [0, -1])).toThrow(/not a class index/);
    expect(() => metrics.accuracy([[1, 2], [3]], [0, 1])).toThrow(/ragged/);
    expect(() => metrics.accuracy('abc' as any, [0])).toThrow(/must be a Tensor, an array/);
    expect(() => metrics.accuracy([0], [0], { treshold: 0 } as any)).toThrow(/unknown option 'treshold'/);
    expect(() => metrics.f1([0], [0], { average: 'samples' as any })).toThrow(/average must be/);
    expect(() => metrics.logLoss([[2.0, -1.0]], [0])).toThrow(/outside \[0, 1\].*not logits/);
    expect(() => metrics.logLoss([[0.2, 0.2]], [0])).toThrow(/sum to 0.4, not 1/);
    expect(() => metrics.logLoss([[0.5, 0.5]], [2])).toThrow(/label 2 at row 0 is not a class index in 0..1/);
    expect(() => metrics.logLoss([0.5], [2])).toThrow(/not 0 or 1/);
    expect(() => metrics.mse([1, 2], [1, 2, 3])).toThrow(/pred is \[2\] but target is \[3\]/);
    expect(() => metrics.r2([1, NaN], [1, 2])).toThrow(/NaN/);
    expect(() => metrics.classificationReport([0, 3], [0, 1], { classNames: ['a', 'b'] })).toThrow(/class 3 appears but numClasses is 2/);
    // counts agree with their noun
    expect(() => metrics.accuracy([0], [0, 1])).toThrow(/pred has 1 row but labels have 2/);
    expect(() => metrics.accuracy([[1, 2], [3]], [0, 1])).toThrow(/row 1 has 1 value, row 0 has 2/);
    expect(() => metrics.classificationReport([0], [0], { classNames: ['a'], numClasses: 2 })).toThrow(/classNames has 1 name\./);
  });
});

describe('many classes: no k × k matrix past MAX_CONFUSION_CLASSES', () => {
  // An id read as a class label gives tens of thousands of classes: a dense confusion matrix of 25,000
  // classes is 625 million cells (5 GB as number[][]), which ended `simdnn train` with an out-of-memory
  // error. Past the limit the report leaves it out, says so, and the sparse counts carry the same data.
  const K = metrics.MAX_CONFUSION_CLASSES + 1;
  const n = 3 * K;
  // Row i: class i % K, predicted right for two thirds of the rows, else as the next class.
  const truth = Int32Array.from({ length: n }, (_, i) => i % K);
  const pred = Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? (truth[i] + 1) % K : truth[i]));

  it('classificationReport: confusion is null and the text says why; the scores are still there', () => {
    const rep = metrics.classificationReport(pred, truth, { numClasses: K });
    expect(rep.confusion).toBeNull();
    expect(rep.text).toMatch(/confusion matrix skipped: 2,049 classes would make a 2,049 × 2,049 matrix \(4,198,401 cells\), past the limit of 2,048 classes \(MAX_CONFUSION_CLASSES\); confusionCounts\(\) gives its non-zero cells/);
    expect(rep.classes).toHaveLength(K);
    close(rep.accuracy, metrics.accuracy(pred, truth));
    close(rep.macro.f1, metrics.f1(pred, truth, { labels: Array.from({ length: K }, (_, i) => i) }));
    // at the limit, the matrix is still made
    const small = Int32Array.from({ length: 10 }, (_, i) => i % 3);
    expect(metrics.classificationReport(small, small, { numClasses: metrics.MAX_CONFUSION_CLASSES }).confusion).toHaveLength(metrics.MAX_CONFUSION_CLASSES);
  });

  it('confusionMatrix refuses past the limit, naming confusionCounts', () => {
    expect(() => metrics.confusionMatrix(pred, truth)).toThrow(/confusionMatrix: 2,049 classes would make .* past the limit of 2,048 classes.*use confusionCounts\(\)/);
    expect(() => metrics.confusionMatrix([0], [0], 25_000)).toThrow(/25,000 classes would make a 25,000 × 25,000 matrix \(625,000,000 cells\)/);
  });

  it('confusionCounts: the non-zero cells, sorted, equal to the dense matrix (and no k × k at any k)', () => {
    const yTrue = [2, 0, 2, 2, 0, 1], yPred = [0, 0, 2, 2, 0, 2];
    const c = metrics.confusionCounts(yPred, yTrue);
    expect(c.numClasses).toBe(3);
    expect([...c.truth]).toEqual([0, 1, 2, 2]);
    expect([...c.pred]).toEqual([0, 2, 0, 2]);
    expect([...c.count]).toEqual([2, 1, 1, 2]);
    const dense = metrics.confusionMatrix(yPred, yTrue, 4);
    const fromCounts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    const c4 = metrics.confusionCounts(yPred, yTrue, 4);
    expect(c4.numClasses).toBe(4);
    c4.truth.forEach((t, i) => (fromCounts[t][c4.pred[i]] = c4.count[i]));
    expect(fromCounts).toEqual(dense);
    // 25,000 classes: one cell per (truth, pred) pair seen, however many classes there are
    const big = metrics.confusionCounts(pred, truth, 25_000);
    expect(big.numClasses).toBe(25_000);
    expect(big.count.reduce((a, b) => a + b, 0)).toBe(n);
    const pairs = new Set(Array.from(truth, (t, i) => `${t},${pred[i]}`));
    expect(big.truth.length).toBe(pairs.size);
    for (let i = 0; i < big.truth.length; i++) {
      expect(pairs.has(`${big.truth[i]},${big.pred[i]}`)).toBe(true);
      if (i) expect(big.truth[i] > big.truth[i - 1] || (big.truth[i] === big.truth[i - 1] && big.pred[i] > big.pred[i - 1])).toBe(true);
    }
    expect(() => metrics.confusionCounts([0, 5], [0, 1], 3)).toThrow(/confusionCounts: class 5 appears but numClasses is 3/);
  });
});

// Tensor inputs, on every backend that starts here.

for (const name of ['js', 'wasm'] as const) {
  describe(`metrics on Tensors, ${name} backend`, () => {
    beforeAll(async () => {
      await sd.init({ backend: name });
    });
    afterAll(() => sd.shutdown());

    it('reads logits, probabilities and labels from tensors, and allocates nothing', () => {
      const before = sd.memory().tensors;
      const logits = sd.tensor([[2, 1, 0], [0, 3, 1], [5, 0, 9], [0, 0, 1]]);
      const labels = sd.tensor([0, 1, 2, 1]);
      const oneHot = sd.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]);
      expect(metrics.accuracy(logits, labels)).toBe(0.75);
      expect(metrics.accuracy(logits, oneHot)).toBe(0.75);
      expect(metrics.confusionMatrix(logits, labels)).toEqual([[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
      const probs = sd.softmax(logits);
      const p = probs.arraySync() as number[][];
      close(metrics.logLoss(probs, labels), -(Math.log(p[0][0]) + Math.log(p[1][1]) + Math.log(p[2][2]) + Math.log(p[3][1])) / 4, 1e-6);
      const col = sd.tensor([[0.9], [0.2], [0.6], [0.4]]);
      const bin = sd.tensor([1, 0, 0, 0]);
      expect(metrics.accuracy(col, bin)).toBe(0.75);
      const p1 = sd.tensor([2.5, 0, 2, 8]), t1 = sd.tensor([3, -0.5, 2, 7]), p2 = sd.tensor([[2.5], [0], [2], [8]]);
      close(metrics.mse(p1, t1), 0.375);
      close(metrics.r2(p2, [3, -0.5, 2, 7]), 0.9486081370449679, 1e-7);
      sd.dispose([logits, labels, oneHot, probs, col, bin, p1, t1, p2]);
      // the metric functions created no tensors of their own
      expect(sd.memory().tensors).toBe(before);
    });

    it('rejects tensors of the wrong rank', () => {
      const t = sd.zeros([2, 2, 2]);
      expect(() => metrics.accuracy(t, [0, 1])).toThrow(/must be \[n\] or \[n, k\]/);
      t.dispose();
    });
  });
}
