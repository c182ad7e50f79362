// simdnn: the public API.
import './methods.js';

export { init, info, memory, shutdown } from './runtime/runtime.js';
export { tidy, keep, dispose } from './core/scope.js';
export type { InitOptions, Info, MemoryInfo } from './runtime/runtime.js';
export type { Features, RuntimeName } from './backend/features.js';
export type { BackendName } from './core/backend.js';
export { Tensor } from './core/tensor.js';
export type { Shape, NestedArray } from './core/tensor.js';
export { tensor, zeros, ones, full, fullLike } from './ops/creation.js';
export type { TensorLike, TensorInput, ShapedArray } from './ops/creation.js';
// One function per public unary op of the op table (src/core/optable.ts).
export * from './ops/unary.js';
export { affine, scale, add, sub, mul, div, maximum, minimum, pow, greater, greaterEqual, equal } from './ops/elementwise.js';
export type { Operand } from './ops/elementwise.js';
export { matmul, dense } from './ops/linalg.js';
export type { MatmulOptions, Activation } from './ops/linalg.js';
export { sum, mean, max, min, argmax, argmin, sumSquares, softmax, logSoftmax, softmaxCrossEntropy } from './ops/reduce.js';
export type { Axis, Reduction } from './ops/reduce.js';
export { reshape, flatten, transpose, clone, detach, gatherRows } from './ops/shape.js';
export { broadcastTo } from './ops/elementwise.js';
export { grad, valueAndGrad, noGrad, isGradEnabled, backward } from './autograd/api.js';
export type { BackwardOptions } from './autograd/api.js';
export { dropout } from './ops/dropout.js';

// Models, training and evaluation.
export { mlp, sequential, Sequential } from './nn/model.js';
export type { MlpOptions, Preprocessing, ModelConfig, ScalerLike } from './nn/model.js';
export { layers, Layer, Linear, ActivationLayer, Dropout } from './nn/layers.js';
export { quantize, QuantizedSequential, QuantizedLinear } from './nn/quantize.js';
export type { QuantizeOptions, QLinearConfig } from './nn/quantize.js';
export type { LayerConfig, LayerActivation, LinearOptions, Init } from './nn/layers.js';
export * as losses from './nn/losses.js';
export type { LossName, LossOptions } from './nn/losses.js';
export { fit } from './train/fit.js';
export { evaluate } from './train/evaluate.js';
export type { FitOptions, History, EpochLogs, BatchLogs, Callbacks, EarlyStopping } from './train/fit.js';
export type { EvaluateOptions, EvaluateResult } from './train/evaluate.js';
export { lrFinder } from './train/lr-finder.js';
export type { LrFinderOptions, LrFinderResult } from './train/lr-finder.js';
export { tune, DEFAULT_SPACE, FIXED_DEFAULTS } from './train/tune.js';
export type { TuneOptions, TuneResult, TuneCallbacks, TuneMetric, TrialInfo, ModelBuilder, SearchSpace, TrialParams, Range, HiddenRange, TuneOptimizer } from './train/tune.js';
export * from './optim/index.js';
export { explain, quadrature } from './explain/explain.js';
export * as privacy from './api/privacy.js';
export type { PrivacyOptions } from './train/privacy.js';
export type { ExplainOptions, ExplainMethod, Explanation } from './explain/explain.js';

// Data, metrics, saving and loading.
export * as data from './api/data.js';
export * as metrics from './metrics.js';
export type { Dataset, ReadCsvOptions, CsvEncoding, CsvReport, MissingStrategy, Task, Scaler, ScalerJSON, Split, SplitOptions, Batch, BatchOptions, Rng } from './data/index.js';
export type { DatasetName, DatasetInfo, DatasetOptions } from './runtime/csv.js';
export type { MetricInput, PRFOptions, ClassificationReport, ReportOptions, LogLossOptions, R2Options } from './metrics.js';
export { save, loadBytes, download } from './io/model.js';
export { load, saveFile, saveIndexedDB, loadIndexedDB, writeFileAtomic, readFileBytes, fetchBytes, idbSave, idbLoad, idbDelete, idbList } from './runtime/files.js';
export type { ModelSource } from './runtime/files.js';
export type { SaveOptions, LoadOptions } from './io/model.js';
export type { TorchLoadOptions } from './io/torch.js';
export { encodeSafetensors, decodeSafetensors, downloadBytes } from './io/index.js';
export type { SafetensorsEntry, DecodedTensor, DecodedSafetensors, DecodeOptions, EncodeOptions, IdbOptions } from './io/index.js';
