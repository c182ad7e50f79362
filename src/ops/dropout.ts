import { record } from '../autograd/graph.js';
import type { Tensor } from '../core/tensor.js';
import { mul } from './elementwise.js';
import { assertTensor, backend, checkFiniteNumber, empty } from './util.js';

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the survivors by
 * 1/(1 − rate). The mask comes from a counter-based hash of (seed, offset + index), so the same seed and
 * offset give the same mask on every backend. Use it only while training.
 */
export function dropout(x: Tensor, rate: number, seed = 0, offset = 0): Tensor {
  const op = 'dropout';
  assertTensor(x, op);
  checkFiniteNumber(rate, op, 'rate');
  if (rate < 0 || rate >= 1) throw new RangeError(`${op}: rate must be in [0, 1), got ${rate}.`);
  const h = x.handle(op);
  const y = empty(x.shape);
  const mask = empty(x.shape);
  backend().dropout(x.size, h, y.handle(op), mask.handle(op), 1 - rate, seed >>> 0, offset >>> 0);
  record(y, op, [x], [mask], (dy, [mask]) => [mul(dy, mask)]);
  mask.dispose();
  return y;
}
