// Checks shared by every public function that takes an options object: it must be an object, and every
// key must be one the function knows (a typo such as {epoch: 3} must fail, not be ignored), with the
// nearest known name suggested.

/** A value, shown safely in a message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : String(v);
}

/**
 * `options` as a record: undefined is {}; anything but a plain object is a TypeError; a key outside
 * `known` is a TypeError naming it, the known ones and, for a typo, the one probably meant. `owner`
 * names a nested option object in messages ('earlyStopping').
 */
export function checkOptions(options: unknown, known: readonly string[], op: string, owner?: string): Record<string, any> {
  const where = owner ? `${op}: ${owner}` : `${op}: options`;
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError(`${where} must be an object, got ${show(options)}.`);
  for (const k of Object.keys(options))
    if (!known.includes(k)) {
      const near = closest(k, known);
      throw new TypeError(
        `${op}: ${owner ? `${owner} has an ` : ''}unknown option '${k}'${near ? ` (did you mean '${near}'?)` : ''}; known options: ${known.join(', ')}.`,
      );
    }
  return options as Record<string, any>;
}

/** The known name nearest to `name` by edit distance, when it is close enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | null {
  let best: string | null = null, bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: 'trian' is one from 'train'. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}
