// Readable text for tensors, layers, models and optimizers: what toString(), print() and Node's
// console.log / util.inspect show. Values are laid out as NumPy prints arrays: one precision for the
// whole array, columns aligned, and past SUMMARY_THRESHOLD values only the first and last EDGE_ITEMS of
// each axis with '...' between. The core imports nothing from Node: util.inspect finds the method under
// the registered symbol below by itself, and Deno under its own.

/** The key util.inspect (console.log in Node) calls on an object to get its text. */
export const INSPECT_NODE: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;
/** The key Deno's console.log and Deno.inspect call. */
export const INSPECT_DENO: unique symbol = Symbol.for('Deno.customInspect') as never;

/** Arrays with more values than this are summarised (NumPy's default threshold). */
export const SUMMARY_THRESHOLD = 1000;
/** Values kept at each end of a summarised axis (NumPy's edgeitems). */
export const EDGE_ITEMS = 3;

/** Makes `proto`'s toString() what Node's and Deno's console.log show for its instances. */
export function inspectAs(proto: object): void {
  for (const key of [INSPECT_NODE, INSPECT_DENO])
    Object.defineProperty(proto, key, {
      value(this: { toString(): string }) {
        return this.toString();
      },
      configurable: true,
      writable: true,
    });
}

/** One formatter for every shown value: integers as "3.", else fixed with up to 4 decimals, or scientific for wide ranges. */
function numberFormat(values: ArrayLike<number>): (v: number) => string {
  let maxAbs = 0, minAbs = Infinity, integral = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
    if (!Number.isInteger(v)) integral = false;
  }
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (maxAbs >= 1e8 || (minAbs < 1e-4 && maxAbs > 0 && !integral) || (maxAbs / minAbs >= 1e3 && !integral && minAbs < 1e-3))
    return (v) => (Number.isFinite(v) ? v.toExponential(4) : special(v));
  if (integral) return (v) => (Number.isFinite(v) ? `${v}.` : special(v));
  // As NumPy: drop the trailing zeros that every value shares.
  let decimals = 0;
  for (let i = 0; i < values.length && decimals < 4; i++) {
    if (!Number.isFinite(values[i])) continue;
    const s = values[i].toFixed(4).replace(/0+$/, '');
    decimals = Math.max(decimals, s.length - s.indexOf('.') - 1);
  }
  // "2.5" and "1. " (not "1.0"): each value's own digits, padded to the common decimals so points align.
  return (v) => {
    if (!Number.isFinite(v)) return special(v);
    const full = v.toFixed(decimals);
    return full.replace(/0+$/, '').padEnd(full.length);
  };
}

/**
 * The values of an array of `shape` (row-major in `data`) as NumPy lays them out:
 * `[[ 1.5,  2. ],\n [-3. ,  4. ]]` — numbers right-aligned to one width, '...' where summarised.
 */
export function formatValues(data: ArrayLike<number>, shape: readonly number[]): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const summarise = size > SUMMARY_THRESHOLD;
  // The indices shown along one axis of length n.
  const shown = (n: number): (number | null)[] =>
    summarise && n > 2 * EDGE_ITEMS ? [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), null, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)] : Array.from({ length: n }, (_, i) => i);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  // First the values that will be shown, for the common format and width.
  const picked: number[] = [];
  const collect = (offset: number, d: number): void => {
    if (d === shape.length) return void picked.push(data[offset]);
    for (const i of shown(shape[d])) if (i !== null) collect(offset + i * strides[d], d + 1);
  };
  collect(0, 0);
  const fmt = numberFormat(picked);
  const width = picked.reduce((w, v) => Math.max(w, fmt(v).length), 0);
  const cell = (v: number) => fmt(v).padStart(width);
  if (shape.length === 0) return fmt(data[0]);
  const render = (offset: number, d: number, indent: string): string => {
    const idx = shown(shape[d]);
    if (d === shape.length - 1) return `[${idx.map((i) => (i === null ? '...' : cell(data[offset + i * strides[d]]))).join(', ')}]`;
    const gap = `,${'\n'.repeat(shape.length - d - 1)}${indent} `;
    return `[${idx.map((i) => (i === null ? '...' : render(offset + i * strides[d], d + 1, `${indent} `))).join(gap)}]`;
  };
  return render(0, 0, '');
}

/** A number with thousands separators (the same in every locale). */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
