// Option parsing on node:util's parseArgs, with one-line errors (exit 2) that name the option and,
// for a typo, the option that was probably meant.
import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** parseArgs in strict mode; its errors become UsageErrors prefixed with `cmd`. */
export function parse(cmd: string, argv: string[], options: Record<string, OptionSpec>, maxPositionals: number): Parsed {
  let r: Parsed;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    const err = e as Error & { code?: string };
    const name = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = name.startsWith('-') ? name : `--${name}`;
      const near = closest(flag.replace(/^-+/, '').split('=')[0], Object.keys(options));
      throw new UsageError(`${cmd}: unknown option '${flag}'${near ? `; did you mean '--${near}'?` : ''} (see ${cmd} --help).`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // name is '--lr', '--lr <value>' or '-q, --quiet': prefer the long form.
      const flag = (name.match(/--[\w-]+/) ?? name.match(/-[\w-]+/) ?? [name])[0];
      if (/does not take an argument/.test(err.message)) throw new UsageError(`${cmd}: option '${flag}' takes no value.`);
      if (/ambiguous/.test(err.message))
        throw new UsageError(`${cmd}: option '${flag}' needs a value; write a value starting with '-' as ${flag}=VALUE.`);
      throw new UsageError(`${cmd}: option '${flag}' needs a value.`);
    }
    throw new UsageError(`${cmd}: ${err.message.split('\n')[0]}`);
  }
  if (r.positionals.length > maxPositionals) {
    const extra = r.positionals.slice(maxPositionals).map((p) => `'${p}'`).join(', ');
    throw new UsageError(`${cmd}: unexpected argument${r.positionals.length - maxPositionals > 1 ? 's' : ''} ${extra} (see ${cmd} --help).`);
  }
  return r;
}

import { closest } from '../core/validate.js';

export { closest };

// ---- typed values; `raw` undefined means "not given" and yields the default ----

const NUM = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function number(cmd: string, flag: string, raw: string): number {
  const s = raw.trim();
  if (!NUM.test(s)) throw new UsageError(`${cmd}: --${flag} must be a number, got '${raw}'.`);
  return Number(s);
}

export function int(cmd: string, flag: string, raw: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return def;
  const v = number(cmd, flag, raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`${cmd}: --${flag} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`}, got '${raw}'.`);
  return v;
}

/** A number in [lo, hi] (or [lo, hi) with `openHi`), or > lo with `openLo`. */
export function real(
  cmd: string, flag: string, raw: string | undefined, def: number,
  range: { lo: number; hi: number; openLo?: boolean; openHi?: boolean; what?: string },
): number {
  if (raw === undefined) return def;
  const v = number(cmd, flag, raw);
  const { lo, hi, openLo, openHi } = range;
  const ok = Number.isFinite(v) && (openLo ? v > lo : v >= lo) && (openHi ? v < hi : v <= hi);
  if (!ok) {
    const what = range.what ?? `a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}`;
    throw new UsageError(`${cmd}: --${flag} must be ${what}, got '${raw}'.`);
  }
  return v;
}

export function choice<T extends string>(cmd: string, flag: string, raw: string | undefined, def: T, allowed: readonly T[]): T {
  if (raw === undefined) return def;
  const hit = allowed.find((a) => a.toLowerCase() === raw.trim().toLowerCase());
  if (hit) return hit;
  const near = closest(raw, allowed);
  throw new UsageError(`${cmd}: --${flag} must be one of ${allowed.join(', ')}; got '${raw}'${near ? ` (did you mean '${near}'?)` : ''}.`);
}

/** A comma-separated list of positive integers, e.g. --hidden 128,64; 'none' or '' is no entries. */
export function intList(cmd: string, flag: string, raw: string | undefined, def: number[]): number[] {
  if (raw === undefined) return def;
  const s = raw.trim();
  if (s === '' || s.toLowerCase() === 'none') return [];
  return s.split(',').map((part) => {
    const p = part.trim();
    if (!/^\d+$/.test(p) || Number(p) < 1)
      throw new UsageError(`${cmd}: --${flag} must be comma-separated positive integers such as 128,64 (or 'none'), got '${raw}'.`);
    return Number(p);
  });
}

/** A comma-separated list of names (column names). */
export function nameList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
