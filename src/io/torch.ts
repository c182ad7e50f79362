// PyTorch's layout of an MLP, both ways. A torch.nn.Sequential numbers its modules 0, 1, 2, …, and its
// state dict names a Linear module's tensors '<index>.weight' ([out, in]: y = x·Wᵀ + b) and
// '<index>.bias'; activations and dropout are modules too (they take an index and hold no tensor).
// simdnn's linear layers keep W as [in, out] (y = x·W + b) and fuse their activation, so going from one
// to the other is a renaming, a transpose of each weight, and one module per fused activation.
import { checkOptions } from '../core/validate.js';
import type { Activation } from '../ops/linalg.js';
import { ACTIVATIONS } from '../core/optable.js';
import type { CustomLayerConfig, LayerActivation, LayerConfig } from '../nn/layers.js';
import type { HeaderTensor, ParsedSafetensors } from './safetensors.js';

/** torch.nn modules of our activations (the names and constructor arguments PyTorch prints). */
function torchActivation(a: string, alpha: number | undefined): { py: string; module: string; args?: Record<string, number> } | null {
  switch (a) {
    case 'linear': return null;
    case 'relu': return { py: 'nn.ReLU()', module: 'ReLU' };
    case 'leakyRelu': return { py: `nn.LeakyReLU(${alpha ?? 0.01})`, module: 'LeakyReLU', args: { negative_slope: alpha ?? 0.01 } };
    case 'elu': return { py: `nn.ELU(${alpha ?? 1})`, module: 'ELU', args: { alpha: alpha ?? 1 } };
    case 'gelu': return { py: 'nn.GELU()', module: 'GELU' };
    case 'sigmoid': return { py: 'nn.Sigmoid()', module: 'Sigmoid' };
    case 'tanh': return { py: 'nn.Tanh()', module: 'Tanh' };
    case 'silu': return { py: 'nn.SiLU()', module: 'SiLU' };
    case 'softmax': return { py: 'nn.Softmax(dim=-1)', module: 'Softmax', args: { dim: -1 } };
    case 'logSoftmax': return { py: 'nn.LogSoftmax(dim=-1)', module: 'LogSoftmax', args: { dim: -1 } };
    default: return undefined as never;
  }
}

/** One module of the equivalent torch.nn.Sequential. */
export interface TorchModule {
  module: string;
  args?: Record<string, number | boolean>;
}

export interface TorchLayout {
  /** Our parameter name → its name in the torch state dict. */
  names: Map<string, string>;
  modules: TorchModule[];
  /** The nn.Sequential as Python source, for the user to paste. */
  python: string;
}

/**
 * The torch.nn.Sequential equivalent of a topology: its modules, the Python that builds it, and the
 * state-dict name of each of our parameters. Throws for a layer PyTorch has no plain module for.
 */
export function torchLayout(layers: readonly (LayerConfig | CustomLayerConfig)[], op: string): TorchLayout {
  const names = new Map<string, string>();
  const modules: TorchModule[] = [];
  const py: string[] = [];
  const act = (a: string, alpha: number | undefined, i: number) => {
    const m = torchActivation(a, alpha);
    if (m === undefined) throw new Error(`${op}: layer ${i}'s activation '${a}' has no torch.nn module; the torch layout needs one.`);
    if (!m) return;
    modules.push({ module: m.module, ...(m.args ? { args: m.args } : {}) });
    py.push(m.py);
  };
  layers.forEach((c, i) => {
    switch (c.type) {
      case 'linear': {
        const l = c as Extract<LayerConfig, { type: 'linear' }>;
        const t = modules.length;
        names.set(`layers.${i}.weight`, `${t}.weight`);
        if (l.bias) names.set(`layers.${i}.bias`, `${t}.bias`);
        modules.push({ module: 'Linear', args: { in_features: l.inFeatures, out_features: l.outFeatures, bias: l.bias } });
        py.push(`nn.Linear(${l.inFeatures}, ${l.outFeatures}${l.bias ? '' : ', bias=False'})`);
        act(l.activation, l.alpha, i);
        break;
      }
      case 'activation': {
        const a = c as Extract<LayerConfig, { type: 'activation' }>;
        if (a.activation === 'linear') {
          modules.push({ module: 'Identity' });
          py.push('nn.Identity()');
        } else act(a.activation, a.alpha, i);
        break;
      }
      case 'dropout':
        modules.push({ module: 'Dropout', args: { p: (c as Extract<LayerConfig, { type: 'dropout' }>).rate } });
        py.push(`nn.Dropout(${(c as Extract<LayerConfig, { type: 'dropout' }>).rate})`);
        break;
      default:
        throw new Error(`${op}: layer ${i} is a '${c.type}' layer; the torch layout holds linear, activation and dropout layers only (save it in simdnn's layout).`);
    }
  });
  return { names, modules, python: `nn.Sequential(${py.join(', ')})` };
}

/** The transpose of a [rows, cols] row-major matrix. */
export function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * The file seen in simdnn's layout: each of our parameter names reads its torch tensor, weights
 * transposed to [in, out]. Tensors the mapping does not name stay under their own names (so the
 * checks that follow report them as unused).
 */
export function fromTorchLayout(file: ParsedSafetensors, names: ReadonlyMap<string, string>): ParsedSafetensors {
  const ours = new Map<string, string>(); // torch name → our name
  for (const [o, t] of names) ours.set(t, o);
  const tensors = new Map<string, HeaderTensor>();
  for (const [name, t] of file.tensors) {
    const o = ours.get(name);
    if (o && o.endsWith('.weight') && t.shape.length === 2) tensors.set(o, { ...t, shape: [t.shape[1], t.shape[0]] });
    else tensors.set(o ?? name, t);
  }
  return {
    tensors,
    metadata: file.metadata,
    dataBytes: file.dataBytes,
    read(name: string): Float32Array {
      const t = names.get(name) ?? name;
      const data = file.read(t);
      const h = file.tensors.get(t)!;
      return name.endsWith('.weight') && names.has(name) && h.shape.length === 2 ? transposed(data, h.shape[0], h.shape[1]) : data;
    },
    readInt8: (name: string) => file.readInt8(names.get(name) ?? name),
  };
}

/** The options of loading a PyTorch state dict (load with a topology). */
export interface TorchLoadOptions {
  /** The file is a PyTorch state dict of an nn.Sequential MLP (safetensors.torch.save_file). */
  from: 'torch';
  /**
   * The layer sizes [inputs, ...hidden, outputs]; checked against the weights' shapes (they define
   * the sizes anyway: give it to catch loading the wrong file).
   */
  architecture?: number[];
  /**
   * The activation after each Linear but the last (a state dict does not record activations): one
   * name for all, or one per hidden layer. Required when there is more than one Linear.
   */
  activation?: Activation | Activation[];
  /** The activation after the last Linear (default 'linear': logits or values, as most torch models end). */
  outputActivation?: LayerActivation;
  /** Slope of leakyRelu / alpha of elu. */
  alpha?: number;
}

const TORCH_KEYS = ['from', 'architecture', 'activation', 'outputActivation', 'alpha'];

/**
 * The topology of a foreign PyTorch state dict: its Linear weights in module order (any common prefix,
 * e.g. 'model.'), checked to chain, with the activations the options give. Returns the topology and
 * the name mapping for fromTorchLayout.
 */
export function torchTopology(file: ParsedSafetensors, options: TorchLoadOptions, corrupt: (m: string) => Error): { layers: LayerConfig[]; names: Map<string, string> } {
  const op = 'load';
  checkOptions(options, TORCH_KEYS, op);
  const found = new Map<number, { weight?: string; bias?: string }>();
  let prefix: string | null = null;
  for (const [name, t] of file.tensors) {
    const m = /^(.*?)(\d+)\.(weight|bias)$/.exec(name);
    if (!m || (prefix !== null && m[1] !== prefix))
      throw corrupt(
        `'${name}' is not the weight or bias of a module of one nn.Sequential${prefix !== null && m ? ` (the others start '${prefix}')` : ''}; ` +
          'simdnn reads the state dict of an nn.Sequential of nn.Linear layers, activations and dropout.',
      );
    prefix = m[1];
    const i = Number(m[2]);
    const e = found.get(i) ?? {};
    e[m[3] as 'weight' | 'bias'] = name;
    found.set(i, e);
    if (m[3] === 'weight' && t.shape.length !== 2) throw corrupt(`'${name}' has shape [${t.shape.join(', ')}]; an nn.Linear weight is 2-D [out, in] (other modules, such as normalisation or convolution layers, are not read).`);
  }
  const indices = [...found.keys()].sort((a, b) => a - b);
  if (!indices.length) throw corrupt('the state dict holds no tensors.');
  const sizes: number[] = [];
  const names = new Map<string, string>();
  const linears: { in: number; out: number; bias: boolean }[] = [];
  indices.forEach((idx, k) => {
    const e = found.get(idx)!;
    if (!e.weight) throw corrupt(`module ${idx} has a bias '${e.bias}' but no weight.`);
    const [out, inn] = file.tensors.get(e.weight)!.shape;
    if (e.bias) {
      const b = file.tensors.get(e.bias)!.shape;
      if (b.length !== 1 || b[0] !== out) throw corrupt(`'${e.bias}' has shape [${b.join(', ')}] but its weight '${e.weight}' has ${out} outputs.`);
    }
    if (k === 0) sizes.push(inn);
    else if (inn !== sizes[sizes.length - 1]) throw corrupt(`'${e.weight}' takes ${inn} inputs but the Linear before it gives ${sizes[sizes.length - 1]}; the layers do not chain.`);
    sizes.push(out);
    linears.push({ in: inn, out, bias: !!e.bias });
  });
  if (options.architecture !== undefined) {
    const a = options.architecture;
    if (!Array.isArray(a) || a.length !== sizes.length || a.some((n, i) => n !== sizes[i]))
      throw new RangeError(`${op}: the state dict's Linear layers are [${sizes.join(', ')}], not the architecture [${Array.isArray(a) ? a.join(', ') : String(a)}] given; is it the right file?`);
  }
  const hidden = linears.length - 1;
  const acts: string[] = Array.isArray(options.activation) ? options.activation.slice() : new Array(hidden).fill(options.activation);
  if (hidden > 0 && options.activation === undefined)
    throw new TypeError(`${op}: the state dict has ${linears.length} Linear layers but a state dict does not record the activations between them; say which, e.g. { from: 'torch', activation: 'relu' }.`);
  if (acts.length !== hidden) throw new RangeError(`${op}: activation lists ${acts.length} activations, but there are ${hidden} between the ${linears.length} Linear layers.`);
  acts.forEach((a) => {
    if (!(ACTIVATIONS as readonly string[]).includes(a)) throw new RangeError(`${op}: unknown activation '${String(a)}'; use one of ${ACTIVATIONS.join(', ')}.`);
  });
  const outAct = options.outputActivation ?? 'linear';
  const layers: LayerConfig[] = [];
  const alpha = options.alpha !== undefined ? { alpha: options.alpha } : {};
  linears.forEach((l, k) => {
    const last = k === hidden;
    const fused = last ? (outAct === 'softmax' || outAct === 'logSoftmax' ? 'linear' : outAct) : acts[k];
    if (!(ACTIVATIONS as readonly string[]).includes(fused)) throw new RangeError(`${op}: unknown outputActivation '${String(outAct)}'.`);
    const i = layers.length;
    const e = found.get(indices[k])!;
    names.set(`layers.${i}.weight`, e.weight!);
    if (e.bias) names.set(`layers.${i}.bias`, e.bias);
    layers.push({ type: 'linear', inFeatures: l.in, outFeatures: l.out, activation: fused as Activation, ...alpha, bias: l.bias });
    if (last && fused !== outAct) layers.push({ type: 'activation', activation: outAct });
  });
  return { layers, names };
}
