import { engine } from '../core/engine.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';

/**
 * A gradient rule: given the gradient of the op's output (and the tensors it saved), the gradient of
 * each input, or null for inputs that need none. `needs[i]` says whether input i wants a gradient at
 * all; a rule may skip the work for those that don't (a dense layer's first input is the data, and its
 * gradient is a whole gemm). Rules are written with the public ops, beside each op's forward pass
 * (src/ops/*.ts).
 */
export type Rule = (dy: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[];

type Source = { node: Node; leaf: null } | { node: null; leaf: Tensor } | null;

/**
 * One recorded op of the dynamic graph. A node holds the tensors its rule needs (sharing their storage,
 * so disposing or tidying the originals does not break backward) and where each input's gradient goes:
 * the node that produced the input, or a leaf tensor's .grad. Nodes are reference counted — by their
 * output tensor and by the nodes that consume them — so a graph nobody can reach any more (its tensors
 * disposed, no backward run) frees what it saved.
 */
export class Node {
  private refs = 1;
  released = false;

  /** Which inputs want a gradient (the rule's third argument). */
  readonly needs: readonly boolean[];

  constructor(
    readonly op: string,
    readonly shape: readonly number[],
    readonly sources: readonly Source[],
    private saved: Tensor[],
    readonly rule: Rule,
  ) {
    for (const s of sources) if (s?.node) s.node.refs++;
    this.needs = sources.map((s) => s !== null);
  }

  savedTensors(): readonly Tensor[] {
    if (this.released)
      throw new Error(
        `backward: the graph through '${this.op}' was already used by an earlier backward() and freed; ` +
          `run the forward pass again, or call backward({retainGraph: true}) the first time.`,
      );
    return this.saved;
  }

  /** Frees the saved tensors now (after backward); the node can no longer propagate. */
  free(): void {
    if (this.released) return;
    this.released = true;
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }

  /** Drops one reference; at zero the node frees its saved tensors and lets go of its inputs' nodes. */
  release(): void {
    if (--this.refs > 0) return;
    this.free();
    for (const s of this.sources) s?.node?.release();
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!engine.gradEnabled) return false;
  for (const t of inputs) if (t && tracked(t)) return true;
  return false;
}

/** Whether gradients flow into t: a result of recorded ops, or a leaf that requires (and, inside grad(), is asked for) one. */
function tracked(t: Tensor): boolean {
  if (t.node) return true;
  return t.requiresGrad && (engine.gradLeaves === null || engine.gradLeaves.has(t));
}

/** A second tensor on the same storage, outside any tidy scope, for the graph to hold. */
function retain(t: Tensor): Tensor {
  return new Tensor(t.shape, t.storage!, false);
}

/**
 * Records `out = op(inputs)` on the graph when any input requires a gradient. `save` lists the tensors
 * the rule reads (inputs or outputs); the rule receives them in that order.
 */
export function record(out: Tensor, op: string, inputs: readonly (Tensor | null | undefined)[], save: readonly Tensor[], rule: Rule): Tensor {
  if (!needsGrad(inputs)) return out;
  const sources: Source[] = inputs.map((t) => {
    if (!t || !tracked(t)) return null;
    return t.node ? { node: t.node as Node, leaf: null } : { node: null, leaf: t };
  });
  const node = new Node(op, out.shape, sources, save.map(retain), rule);
  out.node = node;
  out.held.owner = node;
  return out;
}

/** Options of backward(). */
export interface BackwardOptions {
  /** Gradient of the output (default: ones, which requires a scalar or single-element output). */
  gradient?: Tensor;
  /** Keep the graph for another backward() (default false: its saved tensors are freed). */
  retainGraph?: boolean;
}

/**
 * Reverse-mode differentiation from `y`: every leaf tensor with requiresGrad that y depends on gets
 * its gradient added to .grad (accumulating across calls until zeroGrad).
 */
export function backward(y: Tensor, options: BackwardOptions = {}): void {
  const op = 'backward';
  y.handle(op);
  if (!y.requiresGrad) throw new Error(`${op}: tensor #${y.id} does not require a gradient: no input of the ops that made it has requiresGrad = true.`);
  const root = y.node as Node | null;
  if (!root) return accumulate(y, makeSeed(y, options));
  // Topological order of the nodes reachable from y.
  const order: Node[] = [];
  const seen = new Set<Node>();
  const visit = (n: Node) => {
    // Iterative DFS: deep graphs (long training loops written by hand) must not overflow the stack.
    const stack: [Node, number][] = [[n, 0]];
    seen.add(n);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const src = top[0].sources;
      if (top[1] < src.length) {
        const s = src[top[1]++];
        if (s?.node && !seen.has(s.node)) {
          seen.add(s.node);
          stack.push([s.node, 0]);
        }
      } else {
        order.push(top[0]);
        stack.pop();
      }
    }
  };
  visit(root);
  for (const n of order) n.savedTensors(); // a freed graph fails here, before any work
  const grads = new Map<Node, Tensor>([[root, makeSeed(y, options)]]);
  const was = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      const dy = grads.get(node);
      if (!dy) continue;
      grads.delete(node);
      // The rule's temporaries die with its tidy scope; what it returns may alias dy or repeat a
      // tensor (add(x, x)), so every gradient gets its own Tensor object before dy is let go.
      let inGrads: (Tensor | null)[];
      try {
        const raw = tidy(() => node.rule(dy, node.savedTensors(), node.needs));
        inGrads = raw.map((g, k) => (g && (g === dy || raw.indexOf(g) < k) ? share(g) : g));
      } finally {
        dy.dispose();
      }
      node.sources.forEach((s, k) => {
        const g = inGrads[k];
        if (!g) return;
        if (!s) return g.dispose();
        if (s.leaf) return accumulate(s.leaf, g);
        const prev = grads.get(s.node!);
        grads.set(s.node!, prev ? sum(prev, g) : g);
      });
    }
  } finally {
    engine.gradEnabled = was;
    for (const g of grads.values()) g.dispose();
    if (!options.retainGraph) for (const n of order) n.free();
  }
}

/** The gradient backward() starts from: options.gradient, or 1 for a single-value output. */
function makeSeed(y: Tensor, options: BackwardOptions): Tensor {
  const op = 'backward';
  let seed: Tensor;
  if (options.gradient) {
    const g = options.gradient;
    if (!(g instanceof Tensor) || g.size !== y.size || g.shape.join() !== y.shape.join())
      throw new RangeError(`${op}: gradient must be a tensor of the output's shape [${y.shape.join(', ')}].`);
    seed = new Tensor(g.shape, g.storage!, false);
  } else {
    if (y.size !== 1)
      throw new RangeError(`${op}: the output has shape [${y.shape.join(', ')}]; backward() without a gradient needs a single value (reduce it first, e.g. loss.mean()).`);
    seed = filledLike(y, 1);
  }
  return seed;
}

/** @internal A tensor of x's shape filled with `value`, outside tidy scopes. */
export function filledLike(x: Tensor, value: number): Tensor {
  const t = new Tensor(x.shape, engine.newStorage(x.size), false);
  engine.requireBackend().fill(x.size, t.handle('backward'), value);
  return t;
}

/** Another Tensor object on t's storage, outside tidy scopes. */
function share(t: Tensor): Tensor {
  return new Tensor(t.shape, t.storage!, false);
}

/** An unscoped tensor with storage of its own holding t's values; takes ownership of t. */
function exclusive(t: Tensor): Tensor {
  let own: Tensor;
  if (t.storage!.refs > 1) {
    own = new Tensor(t.shape, engine.newStorage(t.size), false);
    engine.requireBackend().copy(t.size, t.handle('backward'), own.handle('backward'));
  } else own = share(t);
  t.dispose();
  return own;
}

/** a + b, consuming both; in place into a when a's storage is its own. */
function sum(a: Tensor, b: Tensor): Tensor {
  const acc = exclusive(a);
  engine.requireBackend().axpy(acc.size, 1, b.handle('backward'), acc.handle('backward'));
  b.dispose();
  return acc;
}

/** leaf.grad += g, taking ownership of g. The gradient lives until zeroGrad or the leaf's dispose. */
function accumulate(leaf: Tensor, g: Tensor): void {
  if (leaf.isDisposed) return g.dispose();
  if (g.shape.join() !== leaf.shape.join()) throw new Error(`simdnn internal error: gradient shape [${g.shape}] for a tensor of shape [${leaf.shape}]`);
  leaf.grad = leaf.grad && !leaf.grad.isDisposed ? sum(leaf.grad, g) : exclusive(g);
}
