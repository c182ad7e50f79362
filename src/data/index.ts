// The `data` namespace: read and clean tables, encode labels, scale features, shuffle, split, batch.
export { readCsv, encodeRows, DEFAULT_NA_VALUES } from './csv.js';
export type {
  CsvSource, ReadCsvOptions, MissingStrategy, Task, Dataset, CsvReport, CsvEncoding, EncodedFeature, EncodeRowsOptions, RowValue, CsvProgress,
} from './csv.js';
export { standardize, minMaxScale, scalerFromJSON } from './scale.js';
export type { Scaler, ScalerJSON, StandardScalerJSON, MinMaxScalerJSON, MinMaxOptions } from './scale.js';
export { split, batches } from './split.js';
export type { SplitOptions, Split, Part, BatchOptions, Batch, Batches } from './split.js';
export { labelEncode, oneHot } from './encode.js';
export type { LabelEncoding } from './encode.js';
export { rng, shuffle } from './random.js';
export type { Rng } from './random.js';
