// The 'csv' part, loaded on first use (src/runtime/lazy.ts): data.readCsv's loading, cleaning and encoding.
export { readCsv } from '../../data/csv-read.js';
