// The `data` namespace of the public API: read and clean tables, load the built-in datasets, encode
// labels, scale features, shuffle, split, batch. readCsv and load come from the runtime (they load the
// 'csv' part on first use).
export * from '../data/index.js';
export { readCsv, load, DATASETS, datasetUrl } from '../runtime/csv.js';
export type { DatasetName, DatasetInfo, DatasetOptions } from '../runtime/csv.js';
