// unaryOp: every unary op of the table (src/core/optable.ts) through one forward call and one gradient rule.
// The public functions (./unary.ts) are unaryOp with a name; nn layers and dense() call it directly.
import { UNARY, Unary, type UnaryDesc, type UnaryName } from '../core/optable.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../core/tensor.js';
import { assertTensor, backend, empty } from './util.js';

/** y = f(x) for the unary op `name`; alpha is its parameter (leakyRelu's slope, elu's alpha). */
export function unaryOp(name: UnaryName, x: Tensor, alpha = 0): Tensor {
  assertTensor(x, name);
  const h = x.handle(name);
  const y = empty(x.shape);
  backend().unary(Unary[name], x.size, h, y.handle(name), alpha);
  // The rule keeps only what the derivative reads (the table's `grad`): x, y, both or neither.
  switch ((UNARY[name] as UnaryDesc).grad) {
    case 'x': return record(y, name, [x], [x], (dy, [x]) => [unaryGrad(name, x, null, dy, alpha)]);
    case 'y': return record(y, name, [x], [y], (dy, [y]) => [unaryGrad(name, null, y, dy, alpha)]);
    case 'xy': return record(y, name, [x], [x, y], (dy, [x, y]) => [unaryGrad(name, x, y, dy, alpha)]);
    case 'none': return record(y, name, [x], [], (dy) => [unaryGrad(name, null, null, dy, alpha)]);
  }
}

/**
 * dy·f'(x) for the unary op `name`, from x and y = f(x); either may be null when the table says the
 * derivative does not read it (the backend is then handed dy in its place, which it never reads).
 */
export function unaryGrad(name: UnaryName, x: Tensor | null, y: Tensor | null, dy: Tensor, alpha = 0): Tensor {
  const dx = empty(dy.shape);
  const hdy = dy.handle(name);
  backend().unaryGrad(Unary[name], dy.size, x ? x.handle(name) : hdy, y ? y.handle(name) : hdy, hdy, dx.handle(name), alpha);
  return dx;
}
