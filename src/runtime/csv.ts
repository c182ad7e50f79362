// data.readCsv: its work (loading, cleaning, encoding) is the 'csv' part, data/csv-read.ts, loaded on
// first use; so the entry point is here, in the runtime, which loads parts.
import type { CsvSource, Dataset, ReadCsvOptions } from '../data/csv.js';
import { loadCsv } from './lazy.js';

/**
 * Reads a CSV with a header row into a Dataset (x, y, column names, classes, a cleaning report and a
 * reusable encoding). `source` is
 * - a URL object, or a string starting with http:// or https:// — fetched (file: URLs are read as files);
 * - a File or Blob, or bytes (an ArrayBuffer, a Uint8Array, a Node Buffer from fs.readFileSync) — UTF-8;
 * - a string with a newline or a comma — the CSV text itself;
 * - any other string — a file path (Node and Deno; in a web page, a URL relative to the page).
 * `{from: 'string' | 'path' | 'url'}` overrides the guess. Quoted fields, a BOM, CRLF line ends and
 * empty lines are handled; field values are trimmed. Files, Blobs and responses are read in chunks,
 * each parsed as it arrives, so memory stays near the size of x rather than of the text;
 * `onProgress` reports how far the read has come.
 */
export async function readCsv(source: CsvSource, options?: ReadCsvOptions): Promise<Dataset> {
  return (await loadCsv('readCsv')).readCsv(source, options);
}
