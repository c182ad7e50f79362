// Saving and loading whole models: one safetensors file holding the weights (readable by any
// safetensors reader) and, in its metadata, the topology, the preprocessing (scaler, class names,
// feature names, CSV encoding) and the simdnn version. Loading needs no code but this.
import { checkOptions } from '../core/validate.js';
import type { CsvEncoding } from '../data/csv.js';
import { scalerFromJSON, type Scaler } from '../data/scale.js';
import { engine } from '../core/engine.js';
import { checkLayerConfig, isLoadableLayerType, layerFromConfig, type CustomLayerConfig, type Layer, type LayerConfig } from '../nn/layers.js';
import { Sequential, type Preprocessing } from '../nn/model.js';
import { checkQLinearConfig, checkQuantizedLayer, int8Backend, isQuantizedConfig, QuantizedLinear, QuantizedSequential, type QLinearConfig, type QuantizedParts } from '../nn/quantize.js';
import { encodeSafetensors, parseSafetensors, type Bytes, type ParsedSafetensors, type SafetensorsEntry } from './safetensors.js';
import { fromTorchLayout, torchLayout, torchTopology, transposed, type TorchLoadOptions } from './torch.js';
import { downloadBytes } from './storage.js';

export const FORMAT = 'simdnn';
export const FORMAT_VERSION = '1';
/**
 * The version of files holding int8 layers (quantize()): a simdnn that reads only version 1 then says the
 * file comes from a newer simdnn, rather than that 'qlinear' is an unknown layer type.
 */
export const FORMAT_VERSION_INT8 = '2';

/** The options of save(). */
export interface SaveOptions {
  /**
   * 'simdnn' (default): our names (layers.{i}.weight) and layout (weight [in, out]). 'torch': a state
   * dict that torch.nn.Sequential(...).load_state_dict(safetensors.torch.load_file(path)) accepts:
   * modules numbered as in the nn.Sequential (one per fused activation too), weights [out, in]. The
   * Python that builds the nn.Sequential is in the metadata (torch_sequential), and load() reads the
   * file back exactly, preprocessing included.
   */
  layout?: 'simdnn' | 'torch';
}

/**
 * The model as one safetensors file (bytes). Refuses what load() would refuse, so that every file it
 * writes loads back: non-finite weights (a diverged model) and preprocessing that does not fit the
 * model (class or column counts, scaler width, a malformed encoding).
 */
export function save(model: Sequential, options: SaveOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) throw new TypeError(`save: expects a model (from mlp() or sequential()), got ${model === null ? 'null' : typeof model}.`);
  checkOptions(options, ['layout'], 'save');
  const layout = options.layout ?? 'simdnn';
  if (layout !== 'simdnn' && layout !== 'torch') throw new RangeError(`save: layout must be 'simdnn' or 'torch', got ${show(layout)}.`);
  model.check('save');
  if (model instanceof QuantizedSequential) {
    if (layout !== 'simdnn')
      throw new Error("save: layout 'torch' writes float weights for PyTorch, and this model's are int8: save the float model with {layout: 'torch'}, or this one without the option.");
    return saveQuantized(model);
  }
  model.layers.forEach((l, i) => {
    if (!isLoadableLayerType(l.type))
      throw new Error(
        `save: layer ${i} is a '${l.type}' layer, which load() could not rebuild: register its type with layers.register('${l.type}', (config) => new YourLayer(...)) ` +
          `(config is what its config() returns), here and in the program that loads the model.`,
      );
  });
  const names = model.parameterNames();
  const entries = model.parameters().map((p, i) => ({ name: names[i], shape: p.shape.slice(), data: p.dataSync() }));
  for (const e of entries) {
    const bad = nonFinite(e.data, e.shape);
    if (bad) throw new Error(`save: ${e.name} holds ${bad}; a model with non-finite weights cannot be saved (did training diverge? a lower learning rate helps).`);
  }
  const preprocessing = savedPreprocessing(model);
  const topology = JSON.stringify(model.config());
  if (layout === 'simdnn')
    return encodeSafetensors(entries, {
      format: FORMAT,
      format_version: FORMAT_VERSION,
      topology,
      preprocessing,
      weight_layout: 'linear layers: weight [in, out] (y = x @ weight + bias); torch.nn.Linear.weight is its transpose',
    });
  const t = torchLayout(model.config().layers, 'save');
  const torchEntries = entries.map((e) => {
    const name = t.names.get(e.name)!;
    return e.shape.length === 2 ? { name, shape: [e.shape[1], e.shape[0]], data: transposed(e.data, e.shape[0], e.shape[1]) } : { ...e, name };
  });
  return encodeSafetensors(torchEntries, {
    format: 'pt', // what safetensors.torch.save_file writes
    simdnn: FORMAT,
    format_version: FORMAT_VERSION,
    layout: 'torch',
    topology,
    preprocessing,
    torch_sequential: t.python,
    torch_modules: JSON.stringify(t.modules),
    weight_layout: 'torch: the state dict of the nn.Sequential in torch_sequential; Linear weight [out, in] (y = x @ weight.T + bias)',
  });
}


/** The preprocessing metadata of a model, checked in the form load() reads it back. */
function savedPreprocessing(model: Sequential): string {
  const pre = model.preprocessing ?? {};
  const stringList = (v: unknown) => (Array.isArray(v) ? v.map((x) => (typeof x === 'number' && Number.isFinite(x) ? String(x) : x)) : v);
  const preprocessing = JSON.stringify({
    scaler: pre.scaler ? pre.scaler.toJSON() : null,
    classes: stringList(pre.classes ?? null), // numbers are written as their names: ['0', '1'] for [0, 1]
    columns: stringList(pre.columns ?? null),
    target: pre.target ?? null,
    task: pre.task ?? null,
    encoding: pre.encoding ?? null,
  });
  // Checked in the form load reads it (after the JSON round trip, where NaN becomes null).
  readPreprocessing(JSON.parse(preprocessing), model.inputSize, model.outputSize, 'model.preprocessing', (m) => new Error(`save: ${m}`));
  return preprocessing;
}

/**
 * An int8 model (quantize()) as one file: per quantized layer i, layers.{i}.weight as I8 [in, out],
 * layers.{i}.weight_scale F32 [out] and layers.{i}.bias F32 [out]; the input scale and zero point of each
 * layer in its topology entry ('qlinear'). The F32 tensors come first, so each starts 4-aligned.
 */
function saveQuantized(model: QuantizedSequential): Uint8Array {
  const preprocessing = savedPreprocessing(model);
  const floats: SafetensorsEntry[] = [], ints: SafetensorsEntry[] = [];
  model.layers.forEach((l, i) => {
    if (!(l instanceof QuantizedLinear)) return;
    const n = l.outFeatures(l.inFeatures);
    floats.push({ name: `layers.${i}.weight_scale`, shape: [n], data: l.weightScale });
    if (l.bias) floats.push({ name: `layers.${i}.bias`, shape: [n], data: l.bias });
    ints.push({ name: `layers.${i}.weight`, shape: [l.inFeatures, n], data: l.weights() });
  });
  return encodeSafetensors([...floats, ...ints], {
    format: FORMAT,
    format_version: FORMAT_VERSION_INT8,
    topology: JSON.stringify(model.config()),
    preprocessing,
    quantization: JSON.stringify({
      weights: 'int8 in [-127, 127], symmetric, one scale per output column: w = weight_scale[j] * weight[i, j]',
      activations: 'uint7 in [0, 127] per layer input: x = inputScale * (q - inputZero), static (calibrated)',
    }),
    weight_layout: 'qlinear layers: weight [in, out] as int8 (y = x @ (weight * weight_scale) + bias)',
  });
}

/** load()'s options: only for a PyTorch state dict (see TorchLoadOptions); simdnn's own files need none. */
export type LoadOptions = TorchLoadOptions;

/**
 * A model from the bytes of a saved file. Everything the file claims is checked before anything is
 * allocated: the topology against the tensors in the header (every linear layer's weight and bias
 * shapes, the chain of sizes, the number of parameters against the bytes present), the weights for
 * NaN and infinities, and the preprocessing against the model's inputs and outputs. A failure
 * leaves nothing allocated.
 */
export function loadBytes(bytes: Bytes, options?: LoadOptions): Sequential {
  engine.requireBackend();
  if (options !== undefined && (typeof options !== 'object' || options === null || (options as { from?: unknown }).from !== 'torch'))
    throw new TypeError(`load: the options are for PyTorch state dicts, {from: 'torch', activation: 'relu', …}; simdnn's own files need none (got ${options === null ? 'null' : typeof options === 'object' ? `from: ${show((options as { from?: unknown }).from)}` : typeof options}).`);
  let file = parseSafetensors(bytes, { label: 'load' });
  const { metadata } = file;
  const corrupt = (m: string) => new Error(`load: corrupt model file: ${m}`);
  const ours = metadata.format === FORMAT || (metadata.simdnn === FORMAT && metadata.layout === 'torch');
  if (options && !ours) {
    // A foreign state dict: the topology comes from its Linear weights and the options.
    const t = torchTopology(file, options, corrupt);
    file = fromTorchLayout(file, t.names);
    const topology = readTopology({ layers: t.layers, seed: 0 }, file, corrupt);
    return build(topology, file, readPreprocessing(undefined, topology.inputs, topology.outputs, 'preprocessing', corrupt), corrupt);
  }
  if (!ours)
    throw new Error(
      `load: this safetensors file was not written by simdnn (metadata.format is ${metadata.format === undefined ? 'missing' : show(metadata.format)}); it has no model topology to rebuild.` +
        ([...file.tensors.keys()].some((k) => /(^|\.)\d+\.weight$/.test(k)) ? " If it is a PyTorch nn.Sequential's state dict, load it with {from: 'torch', activation: 'relu'} (its activation)." : ''),
    );
  if (metadata.format_version === FORMAT_VERSION_INT8 && metadata.format === FORMAT) return loadQuantized(file, corrupt);
  if (metadata.format_version !== FORMAT_VERSION)
    throw new Error(
      `load: this model file has format_version ${metadata.format_version === undefined ? '(missing)' : show(metadata.format_version)}; this simdnn reads version ${FORMAT_VERSION} (and ${FORMAT_VERSION_INT8} for int8 models)` +
        `${/^[0-9]+$/.test(metadata.format_version ?? '') && Number(metadata.format_version) > Number(FORMAT_VERSION_INT8) ? ' (the file comes from a newer simdnn: update simdnn to load it)' : ''}.`,
    );
  const parse = (key: string) => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]);
    } catch {
      throw corrupt(`the ${key} metadata is not valid JSON.`);
    }
  };
  const rawTopology = parse('topology');
  if (metadata.layout === 'torch') {
    // simdnn's model in PyTorch's names and layout: the same topology, renamed and transposed.
    if (!isPlainObject(rawTopology) || !Array.isArray(rawTopology.layers)) throw corrupt('the metadata has no topology.');
    let names: Map<string, string>;
    try {
      names = torchLayout(rawTopology.layers.map((c) => checkLayerConfig(c)), 'load').names;
    } catch (e) {
      throw corrupt(`topology: ${(e as Error).message}`);
    }
    file = fromTorchLayout(file, names);
  }
  const topology = readTopology(rawTopology, file, corrupt);
  const weightsOf = (names: readonly string[]) =>
    names.map((name) => {
      const data = file.read(name);
      const bad = nonFinite(data, file.tensors.get(name)!.shape);
      if (bad) throw corrupt(`'${name}' holds ${bad}; a model with non-finite weights predicts NaN or infinities.`);
      return data;
    });
  if (topology.custom) return loadCustom(topology, file, parse('preprocessing'), weightsOf, corrupt);
  return build(topology, file, readPreprocessing(parse('preprocessing'), topology.inputs, topology.outputs, 'preprocessing', corrupt), corrupt);
}

/**
 * The model of a checked topology (built-in layers) with the file's weights; frees what it built on failure.
 * Non-finite weights are looked for with the engine's own typed-array search first (anyNonFinite); the
 * value-by-value scan that words the error runs only when there is one.
 */
function build(topology: Topology, file: ParsedSafetensors, pre: Preprocessing, corrupt: (m: string) => Error): Sequential {
  const weights = topology.params.map(({ name }) => {
    const data = file.read(name);
    const bad = anyNonFinite(data) ? nonFinite(data, file.tensors.get(name)!.shape) : '';
    if (bad) throw corrupt(`'${name}' holds ${bad}; a model with non-finite weights predicts NaN or infinities.`);
    return data;
  });

  // Only allocation can fail from here on (out of memory): free whatever was built. Each linear layer
  // is built from its weights (topology.params lists them in layer order, weight then bias): drawing
  // random ones first and overwriting them cost a cold start several milliseconds per MB of weights.
  const layers: Layer[] = [];
  let model: Sequential;
  try {
    let p = 0;
    for (const c of topology.layers) {
      if (c.type !== 'linear') {
        layers.push(layerFromConfig(c));
        continue;
      }
      const lc = c as LayerConfig & { type: 'linear' };
      const weight = weights[p++];
      const bias = lc.bias ? weights[p++] : null;
      layers.push(layerFromConfig(c, 0, { weight, bias }));
    }
    if (p !== weights.length) throw new Error(`simdnn internal error: ${weights.length} tensors for ${p} linear parameters`);
    model = new Sequential(layers, { seed: topology.seed });
  } catch (e) {
    for (const l of layers) l.dispose();
    throw new Error(`load: could not build the model: ${(e as Error).message}`, { cause: e });
  }
  model.preprocessing = pre;
  return model;
}

/**
 * Whether any value is NaN or ±∞: three searches by the engine's built-in includes() (SameValueZero finds
 * NaN), which at a cold start take about half the time of a JS loop over the values, still interpreted
 * then (1.5 against 3.4 ms for the 2 MB of a 784-512-256-10 model, medians of 12 processes). Not a wasm
 * reduction: a long kernel call right before a short process ends made V8 tier it up, and the exit
 * wait for that compile (~10 ms, bench/lib/cold.mjs).
 */
function anyNonFinite(data: Float32Array): boolean {
  return data.includes(NaN) || data.includes(Infinity) || data.includes(-Infinity);
}

/**
 * A model with layers of registered types: their parameters' names and shapes are known only once their
 * factories have built them, so the model is built first (the factories are the user's code, trusted
 * with the sizes they read), then held against the file, and freed if anything does not match.
 */
function loadCustom(topology: Topology, file: ParsedSafetensors, rawPre: unknown, weightsOf: (names: readonly string[]) => Float32Array[], corrupt: (m: string) => Error): Sequential {
  const layers: Layer[] = [];
  let model: Sequential | null = null;
  try {
    try {
      topology.layers.forEach((c) => layers.push(layerFromConfig(c)));
      model = new Sequential(layers, { seed: topology.seed });
    } catch (e) {
      throw new Error(`load: could not build the model: ${(e as Error).message}`, { cause: e });
    }
    const names = model.parameterNames(), params = model.parameters();
    names.forEach((name, i) => {
      const t = file.tensors.get(name);
      if (!t) throw corrupt(`the weights lack '${name}', which the model's layers need.`);
      if (t.shape.length !== params[i].rank || t.shape.some((d, j) => d !== params[i].shape[j]))
        throw corrupt(`'${name}' has shape [${t.shape.join(', ')}] but the layer needs [${params[i].shape.join(', ')}].`);
    });
    const wanted = new Set(names);
    const unused = [...file.tensors.keys()].filter((k) => !wanted.has(k));
    if (unused.length) throw corrupt(`unexpected tensors ${unused.slice(0, 5).map(quote).join(', ')}${unused.length > 5 ? ', …' : ''} that the model's layers do not use.`);
    const pre = readPreprocessing(rawPre, model.inputSize, model.outputSize, 'preprocessing', corrupt);
    model.setWeights(weightsOf(names));
    model.preprocessing = pre;
    return model;
  } catch (e) {
    if (model) model.dispose();
    else for (const l of layers) l.dispose();
    throw e;
  }
}

/**
 * An int8 model file (saveQuantized). Everything is checked before the backend allocates: the backend
 * has int8 kernels; the topology (qlinear, activation and dropout layers, a chain of sizes); the tensors
 * (names, dtypes, shapes, the bytes they need against the bytes present); then their values (weights in
 * [-127, 127], positive finite scales, finite biases) and the preprocessing.
 */
function loadQuantized(file: ParsedSafetensors, corrupt: (m: string) => Error): QuantizedSequential {
  int8Backend('load');
  const { metadata } = file;
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.topology ?? 'null');
  } catch {
    throw corrupt('the topology metadata is not valid JSON.');
  }
  if (!isPlainObject(raw) || !Array.isArray(raw.layers) || raw.layers.length === 0) throw corrupt('the metadata has no topology {"layers": [...], "seed": n}.');
  const extra = unknownKey(raw, ['layers', 'seed']);
  if (extra !== undefined) throw corrupt(`the topology has an unknown field ${show(extra)}; its fields are layers, seed.`);
  const seed = raw.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) throw corrupt(`the topology's seed must be a non-negative integer, got ${show(seed)}.`);
  const layers = (raw.layers as unknown[]).map((c, i) => {
    try {
      if (isPlainObject(c) && c.type === 'qlinear') return checkQLinearConfig(c);
      const l = checkLayerConfig(c);
      if (l.type !== 'activation' && l.type !== 'dropout') throw new Error(`a quantized model holds qlinear, activation and dropout layers, not '${show(l.type).replace(/^"|"$/g, '')}'.`);
      return l;
    } catch (e) {
      throw corrupt(`topology layer ${i}: ${(e as Error).message}`);
    }
  });
  const q = layers.filter(isQuantizedConfig);
  if (!q.length) throw corrupt('the topology has no qlinear layer, so the model has no weights and no input size.');
  let n = q[0].inFeatures, bytes = 0;
  const wanted = new Map<string, { dtype: string; shape: number[] }>();
  layers.forEach((c, i) => {
    if (!isQuantizedConfig(c)) return;
    if (c.inFeatures !== n) throw corrupt(`topology layer ${i} takes ${c.inFeatures} inputs but the layers before it give ${n}.`);
    wanted.set(`layers.${i}.weight`, { dtype: 'I8', shape: [c.inFeatures, c.outFeatures] });
    wanted.set(`layers.${i}.weight_scale`, { dtype: 'F32', shape: [c.outFeatures] });
    if (c.bias) wanted.set(`layers.${i}.bias`, { dtype: 'F32', shape: [c.outFeatures] });
    bytes += c.inFeatures * c.outFeatures + (c.bias ? 8 : 4) * c.outFeatures;
    n = c.outFeatures;
  });
  if (bytes > file.dataBytes) throw corrupt(`the topology needs ${bytes} bytes of weights but the file holds only ${file.dataBytes} bytes of tensor data.`);
  for (const [name, want] of wanted) {
    const t = file.tensors.get(name);
    if (!t) throw corrupt(`the weights lack '${name}', which the topology needs.`);
    if (t.dtype !== want.dtype) throw corrupt(`'${name}' is ${t.dtype}; an int8 model stores it as ${want.dtype}.`);
    if (t.shape.length !== want.shape.length || t.shape.some((d, j) => d !== want.shape[j])) throw corrupt(`'${name}' has shape [${t.shape.join(', ')}] but the topology needs [${want.shape.join(', ')}].`);
  }
  const unused = [...file.tensors.keys()].filter((k) => !wanted.has(k));
  if (unused.length) throw corrupt(`unexpected tensors ${unused.slice(0, 5).map(quote).join(', ')}${unused.length > 5 ? ', …' : ''} that the topology does not use.`);
  const parts = new Map<number, QuantizedParts>();
  layers.forEach((c, i) => {
    if (!isQuantizedConfig(c)) return;
    const p: QuantizedParts = { weight: file.readInt8(`layers.${i}.weight`), weightScale: file.read(`layers.${i}.weight_scale`), bias: c.bias ? file.read(`layers.${i}.bias`) : null };
    checkQuantizedLayer(c, p, (m) => corrupt(`topology layer ${i}: ${m}`));
    parts.set(i, p);
  });
  let pre: unknown;
  try {
    pre = metadata.preprocessing === undefined ? undefined : JSON.parse(metadata.preprocessing);
  } catch {
    throw corrupt('the preprocessing metadata is not valid JSON.');
  }
  const preprocessing = readPreprocessing(pre, q[0].inFeatures, n, 'preprocessing', corrupt);

  // Only allocation can fail from here on (out of memory): free whatever was built.
  const built: Layer[] = [];
  try {
    layers.forEach((c, i) => built.push(isQuantizedConfig(c) ? new QuantizedLinear(c, parts.get(i)!) : layerFromConfig(c)));
    const model = new QuantizedSequential(built, { seed });
    model.preprocessing = preprocessing;
    return model;
  } catch (e) {
    for (const l of built) l.dispose();
    throw new Error(`load: could not build the model: ${(e as Error).message}`, { cause: e });
  }
}

// ---- checks of what a file claims (pure: they allocate nothing on the backend) ----

/** A short, safe rendering of a value from a possibly hostile file, for messages. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

/** A tensor name from the file, quoted and cut short for a message. */
function quote(name: string): string {
  const s = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  return `'${s.slice(1, -1)}'`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function unknownKey(o: Record<string, unknown>, known: readonly string[]): string | undefined {
  return Object.keys(o).find((k) => !known.includes(k));
}

/** 'NaN at [3, 2] (and 4 more non-finite values)', or '' when every value is finite. */
function nonFinite(data: Float32Array, shape: readonly number[]): string {
  let first = -1, count = 0;
  for (let i = 0; i < data.length; i++) {
    // v - v is 0 for finite v and NaN for NaN and ±Infinity: one compare per value.
    const v = data[i];
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return '';
  const at: number[] = [];
  for (let i = shape.length - 1, r = first; i >= 0; i--) {
    at.unshift(r % shape[i]);
    r = Math.floor(r / shape[i]);
  }
  return `${data[first]} at [${at.join(', ')}]${count > 1 ? ` (and ${count - 1} more non-finite values)` : ''}`;
}

interface Topology {
  layers: (LayerConfig | CustomLayerConfig)[];
  /** True when a layer is of a registered type: the checks that need its sizes wait until it is built. */
  custom: boolean;
  seed: number;
  inputs: number;
  outputs: number;
  /** The tensors the layers need, in parameter order. */
  params: { name: string; shape: number[] }[];
}

/**
 * The topology metadata, checked field by field and against the header's tensors: nothing is built
 * from a claim that the file's own bytes do not back (a 300-byte file declaring a 2^20 × 2^20 layer
 * would otherwise allocate gigabytes before the weights were looked at).
 */
function readTopology(raw: unknown, file: ParsedSafetensors, corrupt: (m: string) => Error): Topology {
  if (raw === undefined) throw corrupt('the metadata has no topology.');
  if (!isPlainObject(raw)) throw corrupt(`the topology metadata must be an object {"layers": [...], "seed": n}, got ${show(raw)}.`);
  const extra = unknownKey(raw, ['layers', 'seed']);
  if (extra !== undefined) throw corrupt(`the topology has an unknown field ${show(extra)}; its fields are layers, seed.`);
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) throw corrupt('the topology metadata has no layers.');
  const seed = raw.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) throw corrupt(`the topology's seed must be a non-negative integer, got ${show(seed)}.`);
  const layers = (raw.layers as unknown[]).map((c, i) => {
    try {
      return checkLayerConfig(c);
    } catch (e) {
      throw corrupt(`topology layer ${i}: ${(e as Error).message}`);
    }
  });

  if (layers.some((c) => !isBuiltIn(c))) {
    // Each tensor must still belong to a layer of the topology, and fit in the file.
    for (const [name] of file.tensors) {
      const i = Number(name.split('.')[1]);
      if (!/^layers\.\d+\.[^.]+$/.test(name) || !(i < layers.length)) throw corrupt(`unexpected tensor ${quote(name)} that the topology does not use.`);
    }
    return { layers, custom: true, seed, inputs: 0, outputs: 0, params: [] };
  }
  const builtIn = layers as LayerConfig[];
  const first = builtIn.find((c) => c.type === 'linear');
  if (!first) throw corrupt('the topology has no linear layer, so the model has no weights and no input size.');
  const inputs = first.inFeatures;
  let n = inputs, total = 0;
  const params: Topology['params'] = [];
  builtIn.forEach((c, i) => {
    if (c.type !== 'linear') return;
    if (c.inFeatures !== n) throw corrupt(`topology layer ${i} takes ${c.inFeatures} inputs but the layers before it give ${n}.`);
    params.push({ name: `layers.${i}.weight`, shape: [c.inFeatures, c.outFeatures] });
    if (c.bias) params.push({ name: `layers.${i}.bias`, shape: [c.outFeatures] });
    total += c.inFeatures * c.outFeatures + (c.bias ? c.outFeatures : 0);
    n = c.outFeatures;
  });
  // Every value takes at least one byte of the data section (the smallest dtype), so a topology that
  // needs more values than that is refused before any tensor is looked at.
  if (total > file.dataBytes)
    throw corrupt(`the topology needs ${total} weights but the file holds only ${file.dataBytes} bytes of tensor data.`);

  const layerOf = (name: string) => Number(name.split('.')[1]);
  for (const p of params) {
    const t = file.tensors.get(p.name);
    const i = layerOf(p.name);
    const c = builtIn[i] as Extract<LayerConfig, { type: 'linear' }>;
    const what = `topology layer ${i} (linear ${c.inFeatures}→${c.outFeatures}${p.name.endsWith('.bias') ? ', bias: true' : ''})`;
    if (!t) throw corrupt(`the weights lack '${p.name}', which ${what} needs.`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j]))
      throw corrupt(`'${p.name}' has shape [${t.shape.join(', ')}] but ${what} needs [${p.shape.join(', ')}].`);
  }
  const wanted = new Set(params.map((p) => p.name));
  const unused = [...file.tensors.keys()].filter((k) => !wanted.has(k));
  if (unused.length) {
    const hint = unused.find((k) => /^layers\.\d+\.bias$/.test(k) && layers[layerOf(k)]?.type === 'linear');
    throw corrupt(
      `unexpected tensors ${unused.slice(0, 5).map(quote).join(', ')}${unused.length > 5 ? ', …' : ''} that the topology does not use` +
        `${hint ? ` (topology layer ${layerOf(hint)} says bias: false but the file has ${quote(hint)})` : ''}.`,
    );
  }
  return { layers, custom: false, seed, inputs, outputs: n, params };
}

function isBuiltIn(c: LayerConfig | CustomLayerConfig): c is LayerConfig {
  return c.type === 'linear' || c.type === 'activation' || c.type === 'dropout';
}

const PRE_KEYS = ['scaler', 'classes', 'columns', 'target', 'task', 'encoding'];
const MISSING = ['drop', 'mean', 'median', 'mostFrequent', 'error'];
const F32_MAX = 3.4028234663852886e38;

/** A list of strings, or an error naming `what`; `unique` refuses repeats. */
function strings(v: unknown, what: string, fail: (m: string) => Error, unique: boolean): string[] {
  if (!Array.isArray(v)) throw fail(`${what} must be an array of strings, got ${show(v)}.`);
  const seen = new Set<string>();
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw fail(`${what}[${i}] must be a string, got ${show(s)}.`);
    if (unique && seen.has(s)) throw fail(`${what} names ${show(s)} twice.`);
    seen.add(s);
  });
  return v.slice();
}

/**
 * The preprocessing metadata as a Preprocessing, checked against the model: class names one per
 * output (two for a single-output binary classifier), column names one per input, a scaler of the
 * model's width with finite float32 parameters, a well-formed CSV encoding that yields the model's
 * inputs. `where` names the object in messages ('preprocessing' in a file, 'model.preprocessing'
 * when saving).
 */
function readPreprocessing(raw: unknown, inputs: number, outputs: number, where: string, fail: (m: string) => Error): Preprocessing {
  if (raw === undefined || raw === null) return { scaler: null, classes: null, columns: null, target: null, task: null, encoding: null };
  if (!isPlainObject(raw)) throw fail(`${where} must be an object, got ${show(raw)}.`);
  const extra = unknownKey(raw, PRE_KEYS);
  if (extra !== undefined) throw fail(`${where} has an unknown field ${show(extra)}; its fields are ${PRE_KEYS.join(', ')}.`);
  const { scaler, classes, columns, target, task, encoding } = raw;

  if (task != null && task !== 'classification' && task !== 'regression')
    throw fail(`${where}.task must be 'classification', 'regression' or null, got ${show(task)}.`);
  if (target != null && typeof target !== 'string') throw fail(`${where}.target must be a string or null, got ${show(target)}.`);

  let names: string[] | null = null;
  if (classes != null) {
    names = strings(classes, `${where}.classes`, fail, true);
    if (task === 'regression') throw fail(`${where}.classes is set but task is 'regression'; a regression model has no classes.`);
    const want = outputs === 1 ? 2 : outputs;
    if (names.length !== want)
      throw fail(
        `${where}.classes has ${names.length} name${names.length === 1 ? '' : 's'} but the model has ${outputs} output${outputs === 1 ? '' : 's'}` +
          `${outputs === 1 ? ' (a one-output classifier is binary: 2 class names)' : ' (one class per output)'}.`,
      );
  }

  let cols: string[] | null = null;
  if (columns != null) {
    cols = strings(columns, `${where}.columns`, fail, false);
    if (cols.length !== inputs) throw fail(`${where}.columns has ${cols.length} name${cols.length === 1 ? '' : 's'} but the model takes ${inputs} input${inputs === 1 ? '' : 's'} (one column name per input).`);
  }

  let sc: Scaler | null = null;
  if (scaler != null) {
    try {
      sc = scalerFromJSON(scaler);
    } catch (e) {
      throw fail(`${where}.scaler: ${(e as Error).message.replace(/^scalerFromJSON: /, '')}`);
    }
    if (sc.features !== inputs) throw fail(`${where}.scaler has ${sc.features} feature${sc.features === 1 ? '' : 's'} but the model takes ${inputs} input${inputs === 1 ? '' : 's'}.`);
    // scalerFromJSON checks finiteness in float64; as float32 (what transform uses) 1e39 is Infinity.
    const p = sc.params as Record<string, Float32Array>;
    for (const [k, a] of Object.entries(p)) {
      const bad = nonFinite(a, [a.length]);
      if (bad) throw fail(`${where}.scaler.${k} holds ${bad} as float32; scaler values must be finite float32 numbers.`);
    }
    if (sc.range) {
      const [lo, hi] = sc.range;
      const { min, max } = p;
      for (let j = 0; j < min.length; j++) {
        const d = max[j] - min[j];
        if (!Number.isFinite(Math.fround(lo)) || !Number.isFinite(Math.fround(hi)) || (d > 0 && !Number.isFinite(Math.fround((hi - lo) / d))))
          throw fail(`${where}.scaler: feature ${j} maps [${min[j]}, ${max[j]}] onto [${lo}, ${hi}], a scale beyond float32.`);
      }
    }
  }

  let enc: unknown = null;
  if (encoding != null) {
    enc = readEncoding(encoding, inputs, `${where}.encoding`, fail);
    const e = enc as CsvEncoding;
    if (cols && (cols.length !== e.columns.length || cols.some((c, j) => c !== e.columns[j])))
      throw fail(`${where}.columns differ from ${where}.encoding.columns; both name the model's inputs.`);
    if (names && e.classes && (names.length !== e.classes.length || names.some((c, j) => c !== e.classes![j])))
      throw fail(`${where}.classes differ from ${where}.encoding.classes.`);
  }
  return { scaler: sc, classes: names, columns: cols, target: (target as string | null | undefined) ?? null, task: (task as Preprocessing['task']) ?? null, encoding: enc };
}

/**
 * A CSV encoding (readCsv's dataset.encoding) checked as thoroughly as encodeRows will rely on it:
 * a malformed one would otherwise fail at the first request, or encode rows wrongly.
 */
function readEncoding(e: unknown, inputs: number, where: string, fail: (m: string) => Error): CsvEncoding {
  if (!isPlainObject(e)) throw fail(`${where} must be the encoding of a Dataset from readCsv (an object), got ${show(e)}.`);
  if (e.format !== 'simdnn.csv-encoding') throw fail(`${where}.format must be 'simdnn.csv-encoding', got ${show(e.format)}.`);
  if (e.version !== 1) throw fail(`${where}.version ${show(e.version)} is not supported; this simdnn reads version 1.`);
  if (!Array.isArray(e.features) || e.features.length === 0) throw fail(`${where}.features must be a non-empty array, got ${show(e.features)}.`);
  let width = 0;
  e.features.forEach((fe: unknown, k: number) => {
    const at = `${where}.features[${k}]`;
    if (!isPlainObject(fe)) throw fail(`${at} must be an object {name, kind, ...}, got ${show(fe)}.`);
    if (typeof fe.name !== 'string') throw fail(`${at}.name must be a string, got ${show(fe.name)}.`);
    if (fe.kind === 'numeric') {
      if (fe.fill !== null && (typeof fe.fill !== 'number' || !(Math.abs(fe.fill) <= F32_MAX)))
        throw fail(`${at}.fill must be a finite float32 number or null, got ${show(fe.fill)}.`);
      width += 1;
    } else if (fe.kind === 'categorical') {
      const levels = strings(fe.levels, `${at}.levels`, fail, true);
      if (levels.length === 0) throw fail(`${at}.levels is empty; a categorical feature needs at least one level.`);
      if (fe.fill !== null && (typeof fe.fill !== 'string' || !levels.includes(fe.fill)))
        throw fail(`${at}.fill must be one of its levels or null, got ${show(fe.fill)}.`);
      width += levels.length;
    } else throw fail(`${at}.kind must be 'numeric' or 'categorical', got ${show(fe.kind)}.`);
  });
  const columns = strings(e.columns, `${where}.columns`, fail, false);
  if (columns.length !== width) throw fail(`${where}.columns has ${columns.length} names but its features make ${width} columns.`);
  if (width !== inputs) throw fail(`${where} makes ${width} input columns but the model takes ${inputs} inputs.`);
  if (typeof e.target !== 'string') throw fail(`${where}.target must be a string, got ${show(e.target)}.`);
  if (e.task !== 'classification' && e.task !== 'regression') throw fail(`${where}.task must be 'classification' or 'regression', got ${show(e.task)}.`);
  if (e.classes !== null) strings(e.classes, `${where}.classes`, fail, true);
  if (typeof e.missing !== 'string' || !MISSING.includes(e.missing)) throw fail(`${where}.missing must be one of ${MISSING.join(', ')}, got ${show(e.missing)}.`);
  strings(e.naValues, `${where}.naValues`, fail, false);
  return e as unknown as CsvEncoding;
}

/** Offers the model as a file download (browsers). */
export function download(model: Sequential, filename = 'model.safetensors'): void {
  downloadBytes(save(model), filename);
}


