// The 'csv' part, loaded on first use (src/lazy.ts): data.readCsv's loading, cleaning and encoding.
import '../index.js'; // keeps the core in one shared chunk: see the build note in src/lazy.ts
export { readCsv } from '../data/csv-read.js';
