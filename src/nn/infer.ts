// Inference as direct backend calls. predict() needs no graph, no per-layer tensors and no per-op
// checks once the model is known to be well formed, so it runs the layers here: one gemm with its
// fused bias + activation per linear layer, one kernel per activation layer, over two scratch blocks
// that are freed before returning. At batch 1 the ops path spent about a quarter of its time in
// tensor bookkeeping; this path creates one tensor (the result). The math is the same kernels with
// the same arguments as the ops, so the results are the same bits.
import type { Backend } from '../backend/backend.js';
import type { UnaryCode } from '../backend/codes.js';
import { activationAlpha, activationCode } from '../ops/linalg.js';
import { ActivationLayer, Dropout, Linear, type Layer } from './layers.js';

/** Whether forwardDirect knows every layer (the built-in ones; anything else goes through the ops). */
export function canRunDirect(layers: readonly Layer[]): boolean {
  return layers.every((l) => l instanceof Linear || l instanceof ActivationLayer || l instanceof Dropout);
}

/** A layer that passes its input through unchanged at inference (dropout, a 'linear' activation). */
function passThrough(l: Layer): boolean {
  return l instanceof Dropout || (l instanceof ActivationLayer && l.activation === 'linear');
}

/**
 * Runs `layers` (inference: dropout is the identity) over `rows` rows of `inCols` features at handle
 * `x`, writing the last layer's output ([rows, out] row-major) to the handle `out`.
 */
export function forwardDirect(be: Backend, layers: readonly Layer[], x: unknown, rows: number, inCols: number, out: unknown): void {
  // The layers that compute, with their input widths; the others pass their input through.
  const steps: { layer: Layer; inCols: number; cols: number }[] = [];
  let cols = inCols;
  for (const layer of layers) {
    const next = layer.outFeatures(cols);
    if (!passThrough(layer)) steps.push({ layer, inCols: cols, cols: next });
    cols = next;
  }
  if (!steps.length) throw new Error('simdnn internal error: forwardDirect got a model without a computing layer.');
  // Intermediate outputs alternate between two scratch blocks as large as the widest of them.
  const widest = Math.max(0, ...steps.slice(0, -1).map((s) => s.cols));
  const scratch: unknown[] = [];
  try {
    for (let i = 0; i < Math.min(2, steps.length - 1); i++) scratch.push(be.alloc(rows * widest));
    let cur = x;
    steps.forEach(({ layer, inCols: k, cols: n }, i) => {
      const dst = i === steps.length - 1 ? out : scratch[i % 2];
      if (layer instanceof Linear) {
        be.gemm({
          m: rows, n, k, a: cur, transA: false, b: layer.weight.handle('predict'), transB: false, c: dst,
          bias: layer.bias ? layer.bias.handle('predict') : null, act: activationCode[layer.activation] as UnaryCode, alpha: activationAlpha(layer.activation, layer.alpha), beta: 0,
        });
      } else {
        const a = layer as ActivationLayer;
        if (a.activation === 'softmax' || a.activation === 'logSoftmax') be.softmax(rows, n, cur, dst, a.activation === 'logSoftmax');
        else be.unary(a.code!, rows * n, cur, dst, activationAlpha(a.activation, a.alpha));
      }
      cur = dst;
    });
  } finally {
    for (const h of scratch) be.free(h);
  }
}
