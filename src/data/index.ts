// The data layer's functions: clean and encode tables, scale features, shuffle, split, batch. The public
// `data` namespace (src/api/data.ts) adds readCsv, which loads the 'csv' part.
export { encodeRows, DEFAULT_NA_VALUES } from './csv.js';
export type {
  CsvSource, ReadCsvOptions, MissingStrategy, Task, Dataset, CsvReport, CsvEncoding, EncodedFeature, EncodeRowsOptions, RowValue, CsvProgress,
} from './csv.js';
export { standardize, minMaxScale, scalerFromJSON } from './scale.js';
export type { Scaler, ScalerJSON, StandardScalerJSON, MinMaxScalerJSON, MinMaxOptions } from './scale.js';
export { split, batches } from './split.js';
export type { SplitOptions, Split, Part, BatchOptions, Batch, Batches } from './split.js';
export { labelEncode, oneHot } from './encode.js';
export type { LabelEncoding } from './encode.js';
export { rng, shuffle } from '../core/random.js';
export type { Rng } from '../core/random.js';
