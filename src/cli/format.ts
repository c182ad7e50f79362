// Text layout for the terminal: aligned tables, counts with thousands separators, durations, sizes.

/** Rows of cells as aligned columns; `right` says which columns are right-aligned (numbers). */
export function table(rows: string[][], right: (col: number) => boolean = (c) => c > 0, indent = '  ', gap = '  '): string {
  const cols = Math.max(...rows.map((r) => r.length));
  const w = Array.from({ length: cols }, (_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length)));
  return rows
    .map((r) => indent + r.map((c, j) => (right(j) ? c.padStart(w[j]) : c.padEnd(w[j]))).join(gap).trimEnd())
    .join('\n') + '\n';
}

/** 1234567 → "1,234,567" (no locale dependence). */
export function count(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 row", "1,797 rows": a grouped count and the word, plural unless the count is 1. */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : words}`;
}

/** A rate such as samples/s, rounded to 3 significant digits and grouped: 61,300. */
export function rate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '–';
  if (n < 100) return n.toPrecision(3);
  const digits = Math.floor(Math.log10(n)) + 1;
  const unit = 10 ** Math.max(0, digits - 3);
  return count(Math.round(n / unit) * unit);
}

export function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A metric value: 4 decimals, or 4 significant digits for large values (regression errors). */
export function metric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(4);
}

/** A list of names for a message: 'a', 'b' and 'c' (at most `max` shown). */
export function names(list: readonly string[], max = 8): string {
  const q = list.slice(0, max).map((s) => `'${s}'`);
  if (list.length > max) return `${q.join(', ')} … (${list.length} in all)`;
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/** One CSV field, quoted when it needs to be (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A float32 value with the digits that matter (7 significant), without trailing noise. */
export function f32(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v);
}
