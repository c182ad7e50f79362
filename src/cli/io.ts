// What the CLI writes to and reads from, injectable so that main() runs in-process in tests, and the
// error types that decide the exit code.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CliIO {
  /** Results: tables, metrics, prediction CSV. */
  stdout: (text: string) => void;
  /** Progress, notes and errors. */
  stderr: (text: string) => void;
  /** stderr is a terminal: draw a live progress bar rewritten with \r (else one plain line per epoch). */
  isTTY: boolean;
  /** Terminal width, for the progress bar. */
  columns: number;
  /** Relative paths resolve against this (default: process.cwd()). */
  cwd: string;
}

export function defaultIO(): CliIO {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    isTTY: !!process.stderr.isTTY,
    columns: process.stderr.columns || 80,
    cwd: process.cwd(),
  };
}

/** Bad arguments or input (options, files, columns, numbers): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit codes: 0 done, 1 failed while running (training, evaluation, writing), 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error as one line: the message without its stack, whitespace runs collapsed. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').trim() || (e instanceof Error ? e.name : 'unknown error');
}

/**
 * Runs `fn` and turns what it throws into a UsageError: for steps whose failures are the user's input
 * (reading a CSV, loading a model file), not a fault while running.
 */
export async function asInput<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(oneLine(e));
  }
}

/**
 * A file of the package (package.json, data/digits.csv) by its path from the package root: one level
 * up from dist/cli.js, where this code is bundled; two from src/cli/ when run from the sources.
 */
export function packageFile(rel: string): string {
  const here = [new URL(`../${rel}`, import.meta.url), new URL(`../../${rel}`, import.meta.url)].map((u) => fileURLToPath(u));
  return here.find((p) => existsSync(p)) ?? here[0];
}

let cachedVersion: string | undefined;

/** The package version, from its package.json. */
export function version(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = String(JSON.parse(readFileSync(packageFile('package.json'), 'utf8')).version ?? 'unknown');
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}
