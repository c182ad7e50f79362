// Whether split kernel calls run shared with the workers or alone on the calling thread, from how long
// recurring calls take each way.
//
// On an idle machine a split call runs shared: the workers take tiles and the call finishes sooner.
// When other processes keep the cores busy, sharing can lose: a worker that is descheduled while it
// holds a tile stalls the call for a whole time slice, and a worker that spins between calls takes CPU
// time from the calling thread. The calling thread can always run every tile of a call itself (the
// tiles, and so the results, are the same), and then the workers sleep.
//
// Calls are told apart by their shape (export, tile count, leading arguments: a training step repeats
// the same few). Each shape keeps a running mean of its time shared and alone. Decisions are taken
// once per window of WINDOW calls, over the shapes the window used, so they rest on many calls and the
// workers go one way for a while:
//   sharing    while the window's shared means stay within SLOWER × the best they have had; after
//              SLOW_WINDOWS windows past that in a row (not a burst of other work), a trial (and if
//              sharing still wins, its times now become the best);
//   alone      after a trial in which alone beat shared by ALONE_GAIN; the workers sleep, and trials
//              come from time to time.
// A trial is two windows, the other way then the usual way, each starting its means afresh, so the two
// are compared on what the machine does now. Trials come FIRST_TRY calls after the way changed, then at
// intervals that double up to MAX_TRY while it stays (a machine that quietens is noticed within about a
// second of training).

/** Calls per decision. */
export const WINDOW = 16;
export const SLOWER = 1.25, SLOW_WINDOWS = 2, ALONE_GAIN = 0.9, FIRST_TRY = 64, MAX_TRY = 1024, MAX_SHAPES = 256;

export interface Shape {
  /** Running means (ms) of the call shared and alone; 0 until measured. */
  shared: number;
  alone: number;
  /** The lowest shared mean outside trials, or the shared mean of the last trial that kept sharing. */
  best: number;
  /** The window that last used it, and the trial in which each mean was last restarted. */
  window: number;
  sharedTrial: number;
  aloneTrial: number;
}

export class Adapt {
  /** The way calls run outside trials. */
  alone = false;
  /** Test hook: every call alone (true) or shared (false); null: decided here. */
  force: boolean | null = null;
  /** The running trial (0: none) and its window: 1 the other way, 2 the usual way. */
  private trial = 0;
  private phase = 0;
  private trials = 0;
  private windowNo = 1;
  private calls = 0;
  private sinceTrial = 0;
  private slow = 0;
  private every = FIRST_TRY;
  private used: Shape[] = [];
  private readonly shapes = new Map<string, Shape>();

  shape(key: string): Shape {
    let s = this.shapes.get(key);
    if (!s) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      this.shapes.set(key, (s = { shared: 0, alone: 0, best: 0, window: 0, sharedTrial: 0, aloneTrial: 0 }));
    }
    return s;
  }

  /** Whether the next call runs alone. */
  get runAlone(): boolean {
    return this.force ?? (this.phase === 1 ? !this.alone : this.alone);
  }

  /** Records a call of shape s that ran alone or shared in `ms`; at the end of a window, decides. */
  record(s: Shape, alone: boolean, ms: number): void {
    if (this.force !== null) return;
    let prev = alone ? s.alone : s.shared;
    if (this.trial !== 0 && (alone ? s.aloneTrial : s.sharedTrial) !== this.trial) {
      prev = 0;
      if (alone) s.aloneTrial = this.trial;
      else s.sharedTrial = this.trial;
    }
    // One call that was descheduled counts at most twice the mean.
    const mean = prev > 0 ? prev + (Math.min(ms, 2 * prev) - prev) * 0.25 : ms;
    if (alone) s.alone = mean;
    else {
      s.shared = mean;
      if (this.trial === 0) s.best = s.best > 0 ? Math.min(s.best, mean) : mean;
    }
    if (s.window !== this.windowNo) {
      s.window = this.windowNo;
      this.used.push(s);
    }
    if (++this.calls >= WINDOW) this.decide();
  }

  private decide(): void {
    let shared = 0, best = 0, bothShared = 0, bothAlone = 0;
    for (const s of this.used) {
      shared += s.shared;
      best += s.best;
      if (s.shared > 0 && s.alone > 0) {
        bothShared += s.shared;
        bothAlone += s.alone;
      }
    }
    this.sinceTrial += this.calls;
    this.calls = 0;
    this.windowNo++;
    if (this.phase === 1) this.phase = 2;
    else if (this.phase === 2) {
      const alone = bothAlone > 0 && bothAlone < ALONE_GAIN * bothShared;
      // Sharing still wins on a machine that got slower: its times now are the ones to keep.
      if (!alone) for (const s of this.used) s.best = s.shared;
      this.every = alone !== this.alone ? FIRST_TRY : Math.min(2 * this.every, MAX_TRY);
      this.alone = alone;
      this.trial = this.phase = this.sinceTrial = this.slow = 0;
    } else {
      this.slow = shared > SLOWER * best ? this.slow + 1 : 0;
      if (this.sinceTrial >= this.every && (this.alone || this.slow >= SLOW_WINDOWS)) {
        this.trial = ++this.trials;
        this.phase = 1;
      }
    }
    this.used.length = 0;
  }
}
