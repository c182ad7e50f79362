// The one line a runner prints last, for scripts/test.mjs to count (it looks for the marker).
export const MARKER = '# simdnn-smoke ';

/** Prints the totals line and returns the exit code (0 only when nothing failed and something ran). */
export function report(suite, r, print = console.log) {
  const failed = r.failed + (r.passed + r.failed === 0 ? 1 : 0);
  print(`# ${suite}: ${r.passed} passed, ${r.failed} failed`);
  for (const f of r.failures ?? []) print(`#   FAILED ${f.name}: ${f.message.split('\n')[0]}`);
  print(MARKER + JSON.stringify({ suite, passed: r.passed, failed, skipped: r.skipped ?? 0 }));
  return failed > 0 ? 1 : 0;
}
