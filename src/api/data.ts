// The `data` namespace of the public API: read and clean tables, encode labels, scale features, shuffle,
// split, batch. readCsv comes from the runtime (it loads the 'csv' part on first use).
export * from '../data/index.js';
export { readCsv } from '../runtime/csv.js';
