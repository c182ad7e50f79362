import { ACTIVATIONS, type Activation } from '../core/optable.js';

// Defaults of `simdnn train`, shared by the command and its help text. Chosen for the built-in digits
// data (≥ 0.97 test accuracy); they also serve small tables such as iris and diabetes.
export const DEFAULTS = {
  hidden: [128],
  epochs: 30,
  lr: 1e-3,
  batchSize: 32,
  optimizer: 'adam',
  activation: 'relu',
  val: 0.1,
  test: 0.2,
  seed: 0,
  out: 'model.safetensors',
  backend: 'auto',
} as const;

/**
 * What --backend takes. Not webgpu: its results are read back asynchronously, and the CLI reads
 * predictions and metrics synchronously.
 */
export const BACKENDS = ['auto', 'wasm', 'wasm-threads', 'js'] as const;

/** What --activation takes: every hidden-layer activation of the op table (all the fusable ones but linear). */
export const HIDDEN_ACTIVATIONS = ACTIVATIONS.filter((a): a is Exclude<Activation, 'linear'> => a !== 'linear');
