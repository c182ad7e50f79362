import { inspectAs } from '../core/format.js';
import { optionText } from './optimizer.js';
// Learning-rate schedules. fit() drives every schedule through the same three calls: begin() once with
// the shape of the run (fit awaits it: oneCycle's maxLr 'find' runs a range test there, through the
// run's findLr), lr(baseLr, {epoch, step}) at the start of every batch (step = global batch index
// from 0, epoch = epoch index from 0; optimizer.lr is set to the result), and endEpoch(logs) after each
// epoch (reduceOnPlateau watches the validation loss there). A hand-written loop can call the same.
// Semantics follow torch.optim.lr_scheduler (StepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR,
// ReduceLROnPlateau) evaluated in closed form; differences are noted beside each schedule.
import { checkOptions } from '../core/validate.js';
import { lrFindSettings, type LrCurve, type LrFindSettings } from './lr-find.js';

export type { LrCurve, LrFindSettings } from './lr-find.js';

/** The schedules simdnn has. */
export type ScheduleKind = 'constant' | 'step' | 'exponential' | 'cosine' | 'oneCycle' | 'reduceOnPlateau';
/** What a schedule counts: epochs (the rate changes at epoch boundaries) or batches. */
export type ScheduleUnit = 'epoch' | 'batch';

/** Where training is when a schedule is asked for a rate. */
export interface ScheduleTime {
  /** Epoch index, from 0. */
  epoch: number;
  /** Global batch index, from 0. */
  step: number;
}

/** What toJSON() gives and schedules.fromJSON() takes. */
export interface ScheduleJSON {
  /** Which schedule. */
  kind: ScheduleKind;
  /** Its options, defaults applied. */
  options: Record<string, unknown>;
}

/** What a training run looks like, told to a schedule before the first batch. */
export interface ScheduleRun {
  /** Epochs fit() will run. */
  epochs: number;
  /** Batches per epoch. */
  stepsPerEpoch: number;
  /** The rate lr() will be given (the optimizer's options.lr). */
  baseLr: number;
  /**
   * Runs a learning-rate range test for this run: a sweep on a copy of its model, on its training rows,
   * with its loss, optimizer kind and batch size, leaving the model and the optimizer as they were.
   * fit() provides it (the model, data and loss live in the train layer, above this one); a hand-written
   * loop that calls begin() may leave it out, and then a schedule that needs it says so.
   */
  findLr?(settings?: LrFindSettings): Promise<LrCurve>;
}

/**
 * A learning-rate schedule (from `schedules.*`), given to fit() as `schedule`: as a
 * `torch.optim.lr_scheduler` that fit steps for you, or a Keras `LearningRateSchedule`.
 */
export interface Schedule {
  /** Which schedule. */
  readonly kind: ScheduleKind;
  /** Whether the rate changes per epoch or per batch. */
  readonly unit: ScheduleUnit;
  /** The options after defaults, frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * Before the first batch of a run: forgets any earlier run and checks that the schedule covers this one
   * (oneCycle's totalSteps), throwing a clear Error if not.
   */
  begin(run: ScheduleRun): void | Promise<void>;
  /** The learning rate for the batch at `at`, given the optimizer's base rate (its options.lr). */
  lr(baseLr: number, at: ScheduleTime): number;
  /** After each epoch, with its mean training loss and, when there is validation data, its validation loss. */
  endEpoch(logs: { loss: number; valLoss?: number }): void;
  /** reduceOnPlateau only: the epoch's validation metric and the current rate → the rate to use next. */
  observe?(metric: number, currentLr: number): number;
  /** Forgets what observe() learnt (no-op for the stateless schedules). */
  reset(): void;
  /** The kind and options, for saving (schedules.fromJSON rebuilds it). */
  toJSON(): ScheduleJSON;
  /** oneCycle with maxLr 'find': the range test of the last begin() (null before it). */
  readonly found?: LrCurve | null;
  /** The kind and its options as one line, e.g. `Cosine(tMax=40, warmup=2, …)`. */
  toString(): string;
}

// ------------------------------------------------------------------------------------------ validation

const fmt = (v: unknown) => (typeof v === 'number' ? String(v) : v === null ? 'null' : typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? 'an array' : typeof v);

function reader(op: string, options: unknown, known: readonly string[]) {
  if (options === undefined) options = {};
  const o = checkOptions(options, known, `schedules.${op}`) as Record<string, unknown>;
  const num = (key: string, def: number | undefined, test: (v: number) => boolean, what: string): number => {
    const v = o[key] === undefined ? def : o[key];
    if (v === undefined) throw new TypeError(`schedules.${op}: option ${key} is required (${what}).`);
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`schedules.${op}: ${key} must be ${what}, got ${fmt(v)}.`);
    return v;
  };
  const oneOf = <T extends string>(key: string, def: T, allowed: readonly T[]): T => {
    const v = o[key] === undefined ? def : o[key];
    if (typeof v !== 'string' || !allowed.includes(v as T))
      throw new RangeError(`schedules.${op}: ${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${fmt(v)}.`);
    return v as T;
  };
  return {
    num,
    posInt: (key: string, def?: number) => num(key, def, (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
    nonNegInt: (key: string, def?: number) => num(key, def, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    pos: (key: string, def?: number) => num(key, def, (v) => v > 0, 'a positive finite number'),
    nonNeg: (key: string, def?: number) => num(key, def, (v) => v >= 0, 'a finite number ≥ 0'),
    oneOf,
    unit: (def: ScheduleUnit) => oneOf<ScheduleUnit>('unit', def, ['epoch', 'batch']),
    bool: (key: string, def: boolean): boolean => {
      const v = o[key] === undefined ? def : o[key];
      if (typeof v !== 'boolean') throw new TypeError(`schedules.${op}: ${key} must be true or false, got ${fmt(v)}.`);
      return v;
    },
  };
}

function checkArgs(op: string, baseLr: number, at: ScheduleTime): void {
  if (typeof baseLr !== 'number' || !Number.isFinite(baseLr) || baseLr < 0)
    throw new RangeError(`schedules.${op}.lr: baseLr must be a finite number ≥ 0, got ${fmt(baseLr)}.`);
  if (typeof at !== 'object' || at === null) throw new TypeError(`schedules.${op}.lr: expects (baseLr, {epoch, step}), got ${fmt(at)}.`);
  for (const k of ['epoch', 'step'] as const)
    if (typeof at[k] !== 'number' || !Number.isInteger(at[k]) || at[k] < 0)
      throw new RangeError(`schedules.${op}.lr: ${k} must be an integer ≥ 0, got ${fmt(at[k])}.`);
}

function checkRun(op: string, run: ScheduleRun): void {
  if (typeof run !== 'object' || run === null) throw new TypeError(`schedules.${op}.begin: expects {epochs, stepsPerEpoch, baseLr}, got ${fmt(run)}.`);
  for (const k of ['epochs', 'stepsPerEpoch'] as const)
    if (typeof run[k] !== 'number' || !Number.isInteger(run[k]) || run[k] < 1) throw new RangeError(`schedules.${op}.begin: ${k} must be a positive integer, got ${fmt(run[k])}.`);
  if (typeof run.baseLr !== 'number' || !Number.isFinite(run.baseLr) || run.baseLr < 0) throw new RangeError(`schedules.${op}.begin: baseLr must be a finite number ≥ 0, got ${fmt(run.baseLr)}.`);
}

/**
 * A stateless schedule: lr is a function of the step or epoch count. `cover`, if given, checks that the
 * schedule covers a run (throwing a clear Error if not).
 */
function stateless(kind: ScheduleKind, unit: ScheduleUnit, options: Record<string, unknown>, f: (base: number, t: number) => number, cover?: (run: ScheduleRun) => void): Schedule {
  const frozen = Object.freeze({ ...options });
  const sched: Schedule = {
    kind,
    unit,
    options: frozen,
    begin(run: ScheduleRun) {
      checkRun(kind, run);
      cover?.(run);
    },
    lr(baseLr: number, at: ScheduleTime): number {
      checkArgs(kind, baseLr, at);
      return f(baseLr, unit === 'epoch' ? at.epoch : at.step);
    },
    endEpoch() {},
    reset() {},
    toJSON: () => ({ kind, options: { ...frozen } }),
    toString: () => optionText(kind, frozen),
  };
  inspectAs(sched); // console.log shows toString()
  return sched;
}

// ------------------------------------------------------------------------------------------- schedules

/** The optimizer's own rate, unchanged. */
export function constant(options?: Record<string, never>): Schedule {
  reader('constant', options, []);
  return stateless('constant', 'epoch', {}, (base) => base);
}

/** schedules.step's options (torch.optim.lr_scheduler.StepLR). */
export interface StepScheduleOptions {
  /** Epochs (or batches) between decays. Required, no default. PyTorch: `step_size`; Keras: `ExponentialDecay(decay_steps, staircase=True)`. */
  stepSize: number;
  /** Multiplier at each decay. Default 0.1. PyTorch: `gamma`; Keras: `decay_rate`. */
  gamma?: number;
  /** Whether t counts epochs or batches. Default 'epoch'. PyTorch: calling `scheduler.step()` per epoch or per batch. */
  unit?: ScheduleUnit;
}
/** torch StepLR: lr = base·gamma^⌊t/stepSize⌋, t counting epochs (or batches with unit: 'batch'). */
export function step(options: StepScheduleOptions): Schedule {
  const r = reader('step', options, ['stepSize', 'gamma', 'unit']);
  const stepSize = r.posInt('stepSize'), gamma = r.pos('gamma', 0.1), unit = r.unit('epoch');
  return stateless('step', unit, { stepSize, gamma, unit }, (base, t) => base * gamma ** Math.floor(t / stepSize));
}

/** schedules.exponential's options (torch.optim.lr_scheduler.ExponentialLR). */
export interface ExponentialScheduleOptions {
  /** Multiplier per epoch (or batch). Required, no default. PyTorch: `gamma`; Keras: `ExponentialDecay(decay_rate, decay_steps=1)`. */
  gamma: number;
  /** Whether t counts epochs or batches. Default 'epoch'. PyTorch: calling `scheduler.step()` per epoch or per batch. */
  unit?: ScheduleUnit;
}
/** torch ExponentialLR: lr = base·gamma^t. */
export function exponential(options: ExponentialScheduleOptions): Schedule {
  const r = reader('exponential', options, ['gamma', 'unit']);
  const gamma = r.pos('gamma'), unit = r.unit('epoch');
  return stateless('exponential', unit, { gamma, unit }, (base, t) => base * gamma ** t);
}

/** schedules.cosine's options (torch.optim.lr_scheduler.CosineAnnealingLR, with a linear warm-up). */
export interface CosineScheduleOptions {
  /** Length of the whole schedule, warm-up included, in epochs (or batches). Required, no default. PyTorch: `T_max` (+ the warm-up); Keras: `CosineDecay(decay_steps)`. */
  tMax: number;
  /** Warm-up length. Default 0. PyTorch: a `LinearLR` chained before (`SequentialLR`); Keras: `CosineDecay(warmup_steps)`. */
  warmup?: number;
  /** The rate at tMax and after. Default 0. PyTorch: `eta_min`; Keras: `alpha`·lr. */
  minLr?: number;
  /** Whether t counts epochs or batches. Default 'epoch'. PyTorch: calling `scheduler.step()` per epoch or per batch. */
  unit?: ScheduleUnit;
}
/**
 * Linear warm-up, then cosine annealing to minLr:
 *   t < warmup:           base·(t + 1)/(warmup + 1)   (rises towards base without a zero-rate step)
 *   warmup ≤ t < tMax:    minLr + (base − minLr)·(1 + cos(π·(t − warmup)/(tMax − warmup)))/2
 *   t ≥ tMax:             minLr                       (torch's CosineAnnealingLR would rise again)
 * With warmup 0 this is torch's CosineAnnealingLR(T_max = tMax, eta_min = minLr) for t ≤ tMax.
 */
export function cosine(options: CosineScheduleOptions): Schedule {
  const r = reader('cosine', options, ['tMax', 'warmup', 'minLr', 'unit']);
  const tMax = r.posInt('tMax'), warmup = r.nonNegInt('warmup', 0), minLr = r.nonNeg('minLr', 0), unit = r.unit('epoch');
  if (warmup >= tMax) throw new RangeError(`schedules.cosine: warmup (${warmup}) must be less than tMax (${tMax}); tMax counts the warm-up too.`);
  return stateless('cosine', unit, { tMax, warmup, minLr, unit }, (base, t) => {
    if (t < warmup) return (base * (t + 1)) / (warmup + 1);
    if (t >= tMax) return minLr;
    return minLr + ((base - minLr) * (1 + Math.cos((Math.PI * (t - warmup)) / (tMax - warmup)))) / 2;
  });
}

/** schedules.oneCycle's options (torch.optim.lr_scheduler.OneCycleLR; Keras has none built in). */
export interface OneCycleScheduleOptions {
  /**
   * Peak rate. Default: the optimizer's lr. 'find': the suggestion of a learning-rate range test that
   * fit() runs before the first batch (lrFinder, on a copy of the model and the training rows), kept in
   * `schedule.found`. PyTorch: `max_lr` (required there; fastai's `lr_find` is the range test).
   */
  maxLr?: number | 'find';
  /**
   * Batches (or epochs with unit: 'epoch') in the whole cycle: at least epochs × batches per epoch.
   * Default: exactly the run's length, taken from begin() (fit calls it). PyTorch: `total_steps`.
   */
  totalSteps?: number;
  /** Fraction of the cycle spent rising. Default 0.3. PyTorch: `pct_start`. */
  pctStart?: number;
  /** Initial rate = maxLr/divFactor. Default 25. PyTorch: `div_factor`. */
  divFactor?: number;
  /** Final rate = initial/finalDivFactor. Default 1e4. PyTorch: `final_div_factor`. */
  finalDivFactor?: number;
  /** How the rate moves within a phase: 'cos' or 'linear'. Default 'cos'. PyTorch: `anneal_strategy`. */
  anneal?: 'cos' | 'linear';
  /** Rise, fall back to the initial rate symmetrically, then annihilate. Default false. PyTorch: `three_phase`. */
  threePhase?: boolean;
  /** Whether totalSteps counts batches or epochs. Default 'batch' (as PyTorch, stepped per batch). */
  unit?: ScheduleUnit;
  /** With maxLr 'find': the range test's settings (minLr, maxLr, steps, smoothing). Default: lrFinder's. No PyTorch/Keras equivalent (fastai: `lr_find`'s arguments). */
  finder?: LrFindSettings;
}

/**
 * torch OneCycleLR, per batch: phase ends at pctStart·totalSteps − 1 and totalSteps − 1 (three-phase:
 * pctStart·T − 1, 2·pctStart·T − 2, T − 1), rate annealed between initial = maxLr/divFactor, maxLr and
 * min = initial/finalDivFactor. Momentum is not cycled (torch with cycle_momentum=False). A step at or past
 * totalSteps is an error (torch raises past it and extrapolates at it). Without totalSteps the cycle is
 * the run that begin() announces; with maxLr 'find', begin() runs the run's range test (ScheduleRun.findLr)
 * and peaks at its suggestion.
 */
export function oneCycle(options?: OneCycleScheduleOptions): Schedule {
  const r = reader('oneCycle', options, ['maxLr', 'totalSteps', 'pctStart', 'divFactor', 'finalDivFactor', 'anneal', 'threePhase', 'unit', 'finder']);
  const o = (options ?? {}) as Record<string, unknown>;
  const find = o.maxLr === 'find';
  if (typeof o.maxLr === 'string' && !find) throw new RangeError(`schedules.oneCycle: maxLr must be a positive finite number or 'find' (a range test picks it), got ${fmt(o.maxLr)}.`);
  const maxLr = o.maxLr === undefined || find ? undefined : r.pos('maxLr');
  const givenTotal = o.totalSteps === undefined ? undefined : r.posInt('totalSteps');
  const pctStart = r.num('pctStart', 0.3, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
  const divFactor = r.pos('divFactor', 25), finalDivFactor = r.pos('finalDivFactor', 1e4);
  const anneal = r.oneOf<'cos' | 'linear'>('anneal', 'cos', ['cos', 'linear']);
  const threePhase = r.bool('threePhase', false);
  const unit = r.unit('batch');
  if (o.finder !== undefined && !find) throw new TypeError("schedules.oneCycle: finder sets up the range test of maxLr: 'find'; give maxLr: 'find' too, or leave finder out.");
  const finder = find ? lrFindSettings(o.finder, 'schedules.oneCycle', 'finder') : undefined;
  const opts: Record<string, unknown> = { pctStart, divFactor, finalDivFactor, anneal, threePhase, unit };
  if (givenTotal !== undefined) opts.totalSteps = givenTotal;
  if (maxLr !== undefined) opts.maxLr = maxLr;
  if (find) {
    opts.maxLr = 'find';
    if (o.finder !== undefined) opts.finder = Object.freeze({ ...finder });
  }
  const frozen = Object.freeze(opts);
  const annealFn = anneal === 'cos'
    ? (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
    : (start: number, end: number, pct: number) => (end - start) * pct + start;
  // The cycle's length and peak: given, or set by begin() from the run (and its range test).
  let totalSteps = givenTotal;
  let found: LrCurve | null = null;

  const rate = (base: number, t: number): number => {
    if (totalSteps === undefined)
      throw new RangeError('schedules.oneCycle: without totalSteps the cycle takes its length from the run; call begin({epochs, stepsPerEpoch, baseLr}) first (fit does), or give totalSteps.');
    if (find && !found) throw new RangeError("schedules.oneCycle: maxLr 'find' has no rate before begin() has run the range test (fit does this before the first batch).");
    const T = totalSteps;
    if (t >= T)
      throw new RangeError(`schedules.oneCycle: ${unit} ${t} is past the cycle's totalSteps ${T} (${unit}s 0..${T - 1}); set totalSteps to at least epochs × batches per epoch.`);
    const peak = found ? found.suggestion : maxLr ?? base;
    const initial = peak / divFactor;
    const rates = [initial, peak, initial / finalDivFactor];
    // Phases as [end step, start rate, end rate] with rates 0 = initial, 1 = max, 2 = min.
    const phases: [number, number, number][] = threePhase
      ? [[pctStart * T - 1, 0, 1], [2 * pctStart * T - 2, 1, 0], [T - 1, 0, 2]]
      : [[pctStart * T - 1, 0, 1], [T - 1, 1, 2]];
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const [end, from, to] = phases[i];
      if (t <= end || i === phases.length - 1) {
        // A phase of zero length (torch divides by zero there) ends at its end rate.
        const pct = end === start ? 1 : (t - start) / (end - start);
        return annealFn(rates[from], rates[to], pct);
      }
      start = end;
    }
    return rates[2]; // unreachable
  };

  const self: Schedule = {
    kind: 'oneCycle',
    unit,
    options: frozen,
    begin(run: ScheduleRun) {
      checkRun('oneCycle', run);
      // The cycle must cover the run: a step past totalSteps has no rate.
      const need = unit === 'batch' ? run.epochs * run.stepsPerEpoch : run.epochs;
      if (givenTotal !== undefined && givenTotal < need)
        throw new RangeError(
          unit === 'batch'
            ? `schedules.oneCycle: totalSteps is ${givenTotal} but training runs ${need} batches (${run.epochs} epochs × ${run.stepsPerEpoch}); set totalSteps to at least ${need}.`
            : `schedules.oneCycle: totalSteps is ${givenTotal} epochs but training runs ${need}; set totalSteps to at least ${need}.`,
        );
      totalSteps = givenTotal ?? need;
      if (!find) return;
      found = null;
      if (typeof run.findLr !== 'function')
        throw new TypeError("schedules.oneCycle: maxLr 'find' runs a learning-rate range test on the run's model and data, which fit() provides; in a loop of your own, run lrFinder() and pass maxLr: its suggestion.");
      return run.findLr(finder).then((curve) => {
        if (!curve || typeof curve.suggestion !== 'number' || !(curve.suggestion > 0) || !Number.isFinite(curve.suggestion))
          throw new RangeError(`schedules.oneCycle: the range test suggested ${fmt(curve?.suggestion)}, not a positive rate.`);
        found = curve;
      });
    },
    lr(baseLr: number, at: ScheduleTime): number {
      checkArgs('oneCycle', baseLr, at);
      return rate(baseLr, unit === 'epoch' ? at.epoch : at.step);
    },
    endEpoch() {},
    reset() {},
    get found() {
      return found;
    },
    toJSON: () => ({ kind: 'oneCycle', options: { ...frozen } }),
    toString: () => optionText('oneCycle', frozen),
  };
  inspectAs(self); // console.log shows toString()
  return self;
}

/** schedules.reduceOnPlateau's options (torch ReduceLROnPlateau, Keras' ReduceLROnPlateau callback). */
export interface PlateauScheduleOptions {
  /** Multiplier when the metric stops improving. Default 0.1. PyTorch: `factor`; Keras: `factor`. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing. Default 10. PyTorch: `patience`; Keras: `patience`. */
  patience?: number;
  /** Least relative (or absolute) change that counts as an improvement. Default 1e-4. PyTorch: `threshold`; Keras: `min_delta` (absolute). */
  threshold?: number;
  /** Whether threshold is relative to the best value ('rel') or absolute ('abs'). Default 'rel'. PyTorch: `threshold_mode`; Keras: always absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** 'min' (a loss) or 'max' (an accuracy). Default 'min'. PyTorch: `mode`; Keras: `mode`. */
  mode?: 'min' | 'max';
  /** The rate never goes below this. Default 0. PyTorch: `min_lr`; Keras: `min_lr`. */
  minLr?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. PyTorch: `cooldown`; Keras: `cooldown`. */
  cooldown?: number;
  /** Reductions smaller than this are skipped. Default 1e-8. PyTorch: `eps`; no Keras equivalent. */
  eps?: number;
}
/**
 * torch ReduceLROnPlateau: observe(metric, lr) once per epoch; improvement means metric < best·(1 −
 * threshold) in 'min'/'rel' mode (> best·(1 + threshold) in 'max'; best ∓ threshold in 'abs'); after more
 * than `patience` epochs without one the rate becomes max(lr·factor, minLr), then `cooldown` epochs pass
 * before bad epochs count again. A NaN metric counts as no improvement. lr() returns the reduced rate
 * (the base rate until the first reduction).
 */
export function reduceOnPlateau(options?: PlateauScheduleOptions): Schedule {
  const r = reader('reduceOnPlateau', options, ['factor', 'patience', 'threshold', 'thresholdMode', 'mode', 'minLr', 'cooldown', 'eps']);
  const factor = r.num('factor', 0.1, (v) => v > 0 && v < 1, 'a number in (0, 1)');
  const patience = r.nonNegInt('patience', 10), threshold = r.nonNeg('threshold', 1e-4);
  const thresholdMode = r.oneOf<'rel' | 'abs'>('thresholdMode', 'rel', ['rel', 'abs']);
  const mode = r.oneOf<'min' | 'max'>('mode', 'min', ['min', 'max']);
  const minLr = r.nonNeg('minLr', 0), cooldown = r.nonNegInt('cooldown', 0), eps = r.nonNeg('eps', 1e-8);
  const frozen = Object.freeze({ factor, patience, threshold, thresholdMode, mode, minLr, cooldown, eps });

  let best = mode === 'min' ? Infinity : -Infinity;
  let bad = 0, cooling = 0;
  let current: number | null = null;
  /** The base rate of the run begin() announced (what lr() returns until the first reduction). */
  let runBase: number | null = null;
  const better = (a: number): boolean => {
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  };
  const self: Schedule = {
    kind: 'reduceOnPlateau',
    unit: 'epoch',
    options: frozen,
    begin(run: ScheduleRun) {
      checkRun('reduceOnPlateau', run);
      self.reset();
      runBase = run.baseLr;
    },
    endEpoch(logs: { loss: number; valLoss?: number }) {
      self.observe!(logs.valLoss ?? logs.loss, current ?? runBase ?? 0);
    },
    lr(baseLr: number, at: ScheduleTime): number {
      checkArgs('reduceOnPlateau', baseLr, at);
      return current ?? baseLr;
    },
    observe(metric: number, currentLr: number): number {
      if (typeof metric !== 'number') throw new TypeError(`schedules.reduceOnPlateau.observe: metric must be a number, got ${fmt(metric)}.`);
      if (typeof currentLr !== 'number' || !Number.isFinite(currentLr) || currentLr < 0)
        throw new RangeError(`schedules.reduceOnPlateau.observe: currentLr must be a finite number ≥ 0, got ${fmt(currentLr)}.`);
      if (better(metric)) {
        best = metric;
        bad = 0;
      } else bad++;
      if (cooling > 0) {
        cooling--;
        bad = 0;
      }
      let lr = currentLr;
      if (bad > patience) {
        const next = Math.max(currentLr * factor, minLr);
        if (currentLr - next > eps) lr = next;
        cooling = cooldown;
        bad = 0;
      }
      current = lr;
      return lr;
    },
    reset() {
      best = mode === 'min' ? Infinity : -Infinity;
      bad = 0;
      cooling = 0;
      current = null;
      runBase = null;
    },
    toJSON: () => ({ kind: 'reduceOnPlateau', options: { ...frozen } }),
    toString: () => optionText('reduceOnPlateau', frozen),
  };
  inspectAs(self);
  return self;
}

const FACTORIES: Record<ScheduleKind, (o: any) => Schedule> = { constant, step, exponential, cosine, oneCycle, reduceOnPlateau };

/** A schedule from toJSON()'s output (or its JSON text); reduceOnPlateau starts with fresh state. */
export function fromJSON(json: ScheduleJSON | string): Schedule {
  let j: unknown = json;
  if (typeof j === 'string') {
    try {
      j = JSON.parse(j);
    } catch (e) {
      throw new TypeError(`schedules.fromJSON: not valid JSON (${(e as Error).message}).`);
    }
  }
  if (typeof j !== 'object' || j === null) throw new TypeError(`schedules.fromJSON: expects {kind, options}, got ${fmt(j)}.`);
  const { kind, options } = j as { kind?: unknown; options?: unknown };
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(FACTORIES, kind))
    throw new RangeError(`schedules.fromJSON: unknown schedule kind ${JSON.stringify(kind)}; known kinds: ${Object.keys(FACTORIES).join(', ')}.`);
  return FACTORIES[kind as ScheduleKind](options ?? {});
}

/** Whether v is a schedule made by simdnn (fit checks its schedule option with it). */
export function isSchedule(v: unknown): v is Schedule {
  return typeof v === 'object' && v !== null && typeof (v as Schedule).lr === 'function' && typeof (v as Schedule).kind === 'string' && typeof (v as Schedule).unit === 'string';
}
