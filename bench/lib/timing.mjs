// Clocks and statistics shared by the benchmark processes.
//
// Every timed region records wall time and this process's CPU time (user + system). On an idle
// machine the two agree for single-threaded work; on a busy one the wall figure drops with the share
// of the CPU the process got while the CPU-time figure stays close to what an idle machine would show,
// so the tables print both and say how loaded the machine was.
import { writeFileSync } from 'node:fs';

/** {wall, cpu} in ms since an arbitrary origin. */
export function clock() {
  const u = process.cpuUsage();
  return { wall: performance.now(), cpu: (u.user + u.system) / 1000 };
}

export function median(xs) {
  if (!xs.length) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Throughput of a stream of progress marks [{wall, cpu, done}] (done = work items completed so far,
 * cumulative), cut into consecutive windows of at least `minMs` wall time. The first `skip` marks are
 * warm-up and only open the first window. Returns per-window rates (items/s of wall and of CPU time).
 */
export function windows(marks, { skip = 0, minMs = 250 } = {}) {
  const wall = [], cpu = [];
  let open = marks[Math.min(skip, marks.length - 1)];
  for (let i = skip + 1; i < marks.length; i++) {
    const m = marks[i];
    if (m.wall - open.wall < minMs) continue;
    const items = m.done - open.done;
    wall.push((items / (m.wall - open.wall)) * 1000);
    cpu.push(m.cpu > open.cpu ? (items / (m.cpu - open.cpu)) * 1000 : NaN);
    open = m;
  }
  // A run too short for one full window: one window from the end of the warm-up to the last mark.
  if (!wall.length && marks.length > skip + 1) {
    const a = marks[Math.min(skip, marks.length - 2)], b = marks[marks.length - 1];
    if (b.wall > a.wall) wall.push(((b.done - a.done) / (b.wall - a.wall)) * 1000);
    if (b.cpu > a.cpu) cpu.push(((b.done - a.done) / (b.cpu - a.cpu)) * 1000);
  }
  return { wall, cpu: cpu.filter(Number.isFinite) };
}

/**
 * Median seconds per call of fn (and CPU seconds per call): `warm` warm-up calls, then `reps` calls
 * per sample with reps grown until a sample lasts at least sampleMs (sampleMs 0: one call per sample),
 * then `samples` samples. Stops adding samples (keeping at least minSamples) once capMs of wall time
 * has been spent.
 */
export function timeCall(fn, { samples = 5, sampleMs = 30, capMs = 4000, warm = 2, minSamples = 3 } = {}) {
  const t0 = performance.now();
  for (let i = 0; i < warm; i++) fn();
  let reps = 1;
  while (sampleMs > 0) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = performance.now() - t;
    if (dt >= sampleMs || reps >= 1 << 20 || performance.now() - t0 > capMs / 2) break;
    reps *= dt < sampleMs / 8 ? 4 : 2;
  }
  const wall = [], cpu = [];
  for (let s = 0; s < samples; s++) {
    const a = clock();
    for (let i = 0; i < reps; i++) fn();
    const b = clock();
    wall.push((b.wall - a.wall) / reps / 1000);
    cpu.push((b.cpu - a.cpu) / reps / 1000);
    if (s + 1 >= minSamples && performance.now() - t0 > capMs) break;
  }
  return { sec: median(wall), cpuSec: median(cpu), reps, samples: wall.length };
}

/** Peak resident set of this process so far (or since resetPeakRss), in MB (ru_maxrss = VmHWM on Linux). */
export function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024;
}

/** Resident set now, in MB. */
export function currentRssMB() {
  return process.memoryUsage.rss() / 1048576;
}

/** Resets the peak to the current RSS (Linux ≥ 4.0: `5` into /proc/self/clear_refs); false elsewhere. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** A seeded generator (mulberry32): the same split and orders on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
