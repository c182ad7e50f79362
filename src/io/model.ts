// Saving and loading whole models: one safetensors file holding the weights (readable by any
// safetensors reader) and, in its metadata, the topology, the preprocessing (scaler, class names,
// feature names, CSV encoding) and the simdnn version. Loading needs no code but this.
import { scalerFromJSON } from '../data/scale.js';
import { engine } from '../engine.js';
import { layerFromConfig, type LayerConfig } from '../nn/layers.js';
import { Sequential, type Preprocessing } from '../nn/model.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { downloadBytes, fetchBytes, idbLoad, idbSave, readFileBytes, writeFileAtomic, type IdbOptions } from './storage.js';

export const FORMAT = 'simdnn';
export const FORMAT_VERSION = '1';

/** The model as one safetensors file (bytes). */
export function save(model: Sequential): Uint8Array {
  if (!(model instanceof Sequential)) throw new TypeError(`save: expects a model (from mlp() or sequential()), got ${model === null ? 'null' : typeof model}.`);
  model.check('save');
  const names = model.parameterNames();
  const entries = model.parameters().map((p, i) => ({ name: names[i], shape: p.shape.slice(), data: p.dataSync() }));
  const pre = model.preprocessing;
  const preprocessing = {
    scaler: pre.scaler ? pre.scaler.toJSON() : null,
    classes: pre.classes ?? null,
    columns: pre.columns ?? null,
    target: pre.target ?? null,
    task: pre.task ?? null,
    encoding: pre.encoding ?? null,
  };
  return encodeSafetensors(entries, {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    topology: JSON.stringify(model.config()),
    preprocessing: JSON.stringify(preprocessing),
    weight_layout: 'linear layers: weight [in, out] (y = x @ weight + bias); torch.nn.Linear.weight is its transpose',
  });
}

export type ModelSource = Uint8Array | ArrayBuffer | Blob | string | URL;

/**
 * A model from bytes, a Blob/File, a URL (http, https, file) or a file path (Node, Deno). The file is
 * validated before anything is allocated from it; a corrupt or truncated file is a clear Error.
 */
export async function load(source: ModelSource): Promise<Sequential> {
  return loadBytes(await sourceBytes(source));
}

async function sourceBytes(source: ModelSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob === 'function' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL) return source.protocol === 'file:' ? readFileBytes(decodeURIComponent(source.pathname)) : fetchBytes(source);
  if (typeof source === 'string') return /^(https?|blob|data):/i.test(source) ? fetchBytes(source) : readFileBytes(source.replace(/^file:\/\//, ''));
  throw new TypeError(`load: expects bytes, a Blob/File, a URL or a file path, got ${source === null ? 'null' : typeof source}.`);
}

/** A model from the bytes of a saved file. */
export function loadBytes(bytes: Uint8Array): Sequential {
  engine.requireBackend();
  const { tensors, metadata } = decodeSafetensors(bytes, { label: 'load' });
  if (metadata.format !== FORMAT)
    throw new Error(`load: this safetensors file was not written by simdnn (metadata.format is ${metadata.format === undefined ? 'missing' : `'${metadata.format}'`}); it has no model topology to rebuild.`);
  const parse = (key: string) => {
    try {
      return JSON.parse(metadata[key] ?? 'null');
    } catch {
      throw new Error(`load: corrupt model file: the ${key} metadata is not valid JSON.`);
    }
  };
  const topology = parse('topology');
  if (!topology || !Array.isArray(topology.layers) || topology.layers.length === 0) throw new Error('load: corrupt model file: the topology metadata has no layers.');
  const layers = (topology.layers as LayerConfig[]).map((c, i) => {
    try {
      return layerFromConfig(c);
    } catch (e) {
      throw new Error(`load: corrupt model file: layer ${i}: ${(e as Error).message}`);
    }
  });
  let model: Sequential;
  try {
    model = new Sequential(layers, { seed: Number.isInteger(topology.seed) && topology.seed >= 0 ? topology.seed : 0 });
  } catch (e) {
    for (const l of layers) l.dispose();
    throw new Error(`load: corrupt model file: the layers do not fit together: ${(e as Error).message}`);
  }
  try {
    const names = model.parameterNames();
    const params = model.parameters();
    const weights = names.map((name, i) => {
      const t = tensors.get(name);
      if (!t) throw new Error(`load: corrupt model file: the weights lack '${name}'.`);
      if (t.shape.join() !== params[i].shape.join())
        throw new Error(`load: corrupt model file: '${name}' has shape [${t.shape.join(', ')}] but the topology needs [${params[i].shape.join(', ')}].`);
      return t.data;
    });
    if (tensors.size !== names.length) {
      const extra = [...tensors.keys()].filter((k) => !names.includes(k));
      throw new Error(`load: corrupt model file: unexpected tensors ${extra.map((k) => `'${k}'`).join(', ')} that the topology does not use.`);
    }
    model.setWeights(weights);
    const pre = parse('preprocessing') ?? {};
    const p: Preprocessing = {
      scaler: pre.scaler ? scalerFromJSON(pre.scaler) : null,
      classes: Array.isArray(pre.classes) ? pre.classes.map(String) : null,
      columns: Array.isArray(pre.columns) ? pre.columns.map(String) : null,
      target: typeof pre.target === 'string' ? pre.target : null,
      task: pre.task === 'classification' || pre.task === 'regression' ? pre.task : null,
      encoding: pre.encoding ?? null,
    };
    if (pre.scaler && scalerFeatures(p.scaler) !== model.inputSize)
      throw new Error(`load: corrupt model file: the scaler has ${scalerFeatures(p.scaler)} features but the model takes ${model.inputSize}.`);
    model.preprocessing = p;
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function scalerFeatures(s: unknown): number {
  return (s as { features: number }).features;
}

/** Writes the model to a file (Node, Deno) atomically: a crash mid-write leaves any old file intact. */
export async function saveFile(model: Sequential, path: string): Promise<void> {
  await writeFileAtomic(path, save(model));
}

/** Stores the model in the browser's IndexedDB under `key`. */
export async function saveIndexedDB(model: Sequential, key: string, options?: IdbOptions): Promise<void> {
  await idbSave(key, save(model), options);
}

/** A model stored with saveIndexedDB. */
export async function loadIndexedDB(key: string, options?: IdbOptions): Promise<Sequential> {
  return loadBytes(await idbLoad(key, options));
}

/** Offers the model as a file download (browsers). */
export function download(model: Sequential, filename = 'model.safetensors'): void {
  downloadBytes(save(model), filename);
}


