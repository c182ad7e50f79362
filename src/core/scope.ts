// tidy() scopes, keep() and dispose(): the lifetime rules of tensors (DESIGN.md decision 3), used by
// every layer above the core.
import { engine } from './engine.js';
import { Tensor } from './tensor.js';

export type TensorContainer = Tensor | TensorContainer[] | { [k: string]: TensorContainer } | unknown;

function collect(v: TensorContainer, out: Set<Tensor>, depth = 0): void {
  if (v instanceof Tensor) out.add(v);
  else if (depth < 8 && v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, out, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor it created except those it returns (a tensor, or tensors inside
 * arrays or plain objects). fn must be synchronous: an async function would escape the scope.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`tidy: expects a function, got ${typeof fn}.`);
  const scope: Tensor[] = [];
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  engine.scopes.pop();
  if (result && typeof (result as any).then === 'function') {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy: fn returned a Promise; tidy() only works with synchronous functions (dispose tensors yourself in async code).');
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of scope) {
    if (keep.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/** Takes a tensor out of the enclosing tidy() scopes so it survives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of engine.scopes) {
    const i = s.indexOf(t);
    if (i >= 0) s.splice(i, 1);
  }
  return t;
}

/** Disposes every tensor in a tensor, array or object of tensors. */
export function dispose(v: TensorContainer): void {
  const s = new Set<Tensor>();
  collect(v, s);
  for (const t of s) t.dispose();
}
