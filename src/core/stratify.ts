// Stratified sizes, shared by data.split and fit's validationSplit: rows grouped by class, and a
// number of rows apportioned over the classes so that the total is exact and each class's share is
// its fair share rounded up or down. Rounding each class on its own is the trap this avoids: 20
// classes of 5 rows at 10% would each round 0.5 up and hold out 20 rows instead of 10, and at 4 rows
// each would round 0.4 down to nothing. Plain loops over typed arrays: the row counts are the data's,
// so nothing here spreads an array into a call (a spread of ~125k values overflows the stack).
import type { Rng } from './random.js';

/**
 * The most rows a split, a batch or fit() can address. Row numbers travel to the backend's gather
 * kernels as float32, which holds every integer only up to 2^24: past it, row 16,777,217 would quietly
 * read row 16,777,216.
 */
export const MAX_ROWS = 2 ** 24;

/** Rows grouped by class label. */
export interface Groups {
  /** The labels in ascending order. */
  classes: number[];
  /** Row numbers, class after class; within a class in row order. */
  rows: Uint32Array;
  /** Class i's rows are rows[start[i]] .. rows[start[i + 1] - 1] (k + 1 entries). */
  start: Uint32Array;
}

/** Groups rows 0..n-1 by label (one group when labels is null). */
export function groupByClass(labels: ArrayLike<number> | null, n: number): Groups {
  if (!labels) return { classes: [0], rows: Uint32Array.from({ length: n }, (_, i) => i), start: Uint32Array.of(0, n) };
  const id = new Map<number, number>();
  const counts: number[] = [];
  const of = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let g = id.get(labels[i]);
    if (g === undefined) {
      id.set(labels[i], (g = counts.length));
      counts.push(0);
    }
    counts[g]++;
    of[i] = g;
  }
  const classes = [...id.keys()].sort((a, b) => a - b);
  const start = new Uint32Array(classes.length + 1);
  const next = new Uint32Array(counts.length); // write position per group id
  classes.forEach((c, i) => {
    const g = id.get(c)!;
    start[i + 1] = start[i] + counts[g];
    next[g] = start[i];
  });
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[next[of[i]]++] = i;
  return { classes, rows, start };
}

/**
 * Splits `total` rows over groups in proportion to `counts`, group i taking at most caps[i]: each group
 * gets the floor of its exact share counts[i]·total/n, and the rows left over go one each to the
 * largest remainders (scikit-learn's _approximate_mode; Hamilton's method), ties in a random order
 * drawn from r (one permutation, drawn every call, so a seed gives the same split everywhere). A group
 * at its cap passes its share on to the others. Shares are compared exactly, in integers (float
 * quotients would break some true ties at random and make others). Returns null when the caps leave
 * room for fewer than `total` rows.
 */
export function apportion(counts: ArrayLike<number>, total: number, caps: ArrayLike<number>, r: Rng): number[] | null {
  const k = counts.length;
  let n = 0;
  for (let i = 0; i < k; i++) n += counts[i];
  const rank = new Uint32Array(k);
  const perm = r.permutation(k);
  for (let j = 0; j < k; j++) rank[perm[j]] = j;
  const got: number[] = new Array(k);
  const rem: number[] = new Array(k);
  let left = total;
  for (let i = 0; i < k; i++) {
    let q: number;
    const p = counts[i] * total;
    if (n === 0) (q = 0), (rem[i] = 0);
    else if (p <= Number.MAX_SAFE_INTEGER) {
      rem[i] = p % n;
      q = (p - rem[i]) / n;
    } else {
      const bp = BigInt(counts[i]) * BigInt(total), bn = BigInt(n);
      q = Number(bp / bn);
      rem[i] = Number(bp % bn);
    }
    got[i] = Math.max(0, Math.min(q, caps[i]));
    left -= got[i];
  }
  // Every group with room is short of its share by rem/n (< 1), the same amount less for all of them
  // after each full round, so one sort fixes the order of every round.
  let open = Array.from({ length: k }, (_, i) => i).filter((i) => got[i] < caps[i]);
  open.sort((a, b) => rem[b] - rem[a] || rank[a] - rank[b]);
  while (left > 0) {
    open = open.filter((i) => got[i] < caps[i]);
    if (open.length === 0) return null;
    if (left < open.length) {
      for (let j = 0; j < left; j++) got[open[j]]++;
      break;
    }
    const each = Math.floor(left / open.length);
    for (const i of open) {
      const add = Math.min(each, caps[i] - got[i]);
      got[i] += add;
      left -= add;
    }
  }
  return got;
}
