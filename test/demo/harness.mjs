// A few lines of test bookkeeping for the demo suites: named steps, timings, and flows in which a
// failed step marks the steps after it as failed without running them (they depend on it).

export function createHarness(print = console.log) {
  const results = [];
  const record = (name, ok, ms, message, skipped = false) => {
    results.push({ name, ok, skipped, ms, message });
    const time = ms === null ? '' : ` (${(ms / 1000).toFixed(1)} s)`;
    print(`${skipped ? 'skip' : ok ? 'ok  ' : 'FAIL'} ${name}${time}${message && (!ok || skipped) ? `: ${message}` : ''}`);
  };

  /** Runs fn as one test; resolves with its value, or undefined when it failed. */
  async function check(name, fn) {
    const t0 = performance.now();
    try {
      const v = await fn();
      record(name, true, performance.now() - t0);
      return v;
    } catch (e) {
      record(name, false, performance.now() - t0, String(e?.message ?? e).split('\n').slice(0, 3).join(' | '));
      return undefined;
    }
  }

  /** Steps that depend on each other: after the first failure the rest fail without running. */
  function flow(prefix) {
    let broken = null;
    const step = async (name, fn) => {
      const full = `${prefix}: ${name}`;
      if (broken) {
        record(full, false, null, `not run, "${broken}" failed`);
        return undefined;
      }
      let failed = false;
      const v = await check(full, async () => {
        try {
          return await fn();
        } catch (e) {
          failed = true;
          throw e;
        }
      });
      if (failed) broken = name;
      return v;
    };
    step.broken = () => broken;
    return step;
  }

  const skip = (name, why) => record(name, true, null, why, true);

  const totals = () => ({
    passed: results.filter((r) => r.ok && !r.skipped).length,
    failed: results.filter((r) => !r.ok).length,
    skipped: results.filter((r) => r.skipped).length,
    failures: results.filter((r) => !r.ok).map((r) => ({ name: r.name, message: r.message ?? '' })),
  });
  return { check, flow, skip, totals, results };
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e.length > 200 ? e.slice(0, 200) + '…' : e}, got ${a.length > 200 ? a.slice(0, 200) + '…' : a}`);
}
