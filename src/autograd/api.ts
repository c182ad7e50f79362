import { engine } from '../core/engine.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';
import { backward, filledLike, type BackwardOptions } from './graph.js';

/** Runs fn without recording gradients (inference, metrics, manual parameter updates). */
export function noGrad<T>(fn: () => T): T {
  const was = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    return fn();
  } finally {
    engine.gradEnabled = was;
  }
}

/** Whether ops record the autograd graph right now (false inside noGrad()). */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}

function checkScalarFn(fn: unknown, op: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${op}: expects a function of tensors returning a single-value tensor, got ${typeof fn}.`);
}

/**
 * The value of f and its gradient with respect to each argument: valueAndGrad(f)(x, y) →
 * {value, grads: [df/dx, df/dy]}. f must return a single-value tensor. Only the arguments are
 * differentiated: tensors f closes over (a model's parameters) are constants here, so their .grad is
 * left alone and no work is spent on their gradients (as torch.autograd.grad). The gradient of a model's
 * output with respect to its input: valueAndGrad((x) => sum(model.forward(x)))(x). The arguments are not
 * changed (their .grad stays as it was) and every intermediate is freed.
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor) {
  checkScalarFn(f, 'valueAndGrad');
  return (...xs: Tensor[]): { value: Tensor; grads: Tensor[] } => {
    xs.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new TypeError(`valueAndGrad: argument ${i} must be a Tensor, got ${typeof x}.`);
      x.handle('valueAndGrad');
    });
    // Fresh leaves on the arguments' storage, so their own .grad is left alone.
    const leaves = xs.map((x) => {
      const l = new Tensor(x.shape, x.storage!, false);
      l.requiresGrad = true;
      return l;
    });
    const outer = engine.gradLeaves;
    engine.gradLeaves = new Set(leaves);
    try {
      const value = tidy(() => {
        const y = f(...leaves);
        if (!(y instanceof Tensor)) throw new TypeError(`valueAndGrad: f must return a Tensor, got ${typeof y}.`);
        if (y.size !== 1) throw new RangeError(`valueAndGrad: f must return a single value, got shape [${y.shape.join(', ')}]; reduce it (e.g. .sum() or .mean()).`);
        if (y.requiresGrad) backward(y);
        return y;
      });
      const grads = leaves.map((l) => {
        const g = l.grad ?? filledLike(l, 0);
        l.grad = null;
        return g;
      });
      const v = new Tensor(value.shape, value.storage!);
      value.dispose();
      return { value: v, grads: grads.map((g) => reScope(g)) };
    } finally {
      engine.gradLeaves = outer;
      for (const l of leaves) l.dispose();
    }
  };
}

/** The gradient of f with respect to each argument: grad(f)(x, y) → [df/dx, df/dy]. */
export function grad(f: (...xs: Tensor[]) => Tensor) {
  checkScalarFn(f, 'grad');
  const vg = valueAndGrad(f);
  return (...xs: Tensor[]): Tensor[] => {
    const { value, grads } = vg(...xs);
    value.dispose();
    return grads;
  };
}

/** The same storage as an ordinary (scoped) tensor, so grads returned inside tidy() are scoped. */
function reScope(t: Tensor): Tensor {
  const s = new Tensor(t.shape, t.storage!);
  t.dispose();
  return s;
}

/** Frees t.grad (the gradient backward() accumulated), so the next backward() starts from zero. */
export function zeroGrad(t: Tensor): void {
  t.grad?.dispose();
  t.grad = null;
}

export { backward };
export type { BackwardOptions };
