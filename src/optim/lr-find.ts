// What a learning-rate range test is to a schedule: its settings (checked here, so that a schedule fails
// on a typo when it is made, not when fit() starts) and its outcome. The test itself runs in the train
// layer (src/train/lr-finder.ts), which has the model, the data and the recorded steps.
import { checkOptions, show } from '../core/validate.js';

/** A learning-rate range test's outcome, as much of it as a schedule needs (the train layer's lrFinder makes it). */
export interface LrCurve {
  /** The rates tried, rising exponentially, one per step. */
  lrs: number[];
  /** The training loss at each step. */
  losses: number[];
  /** The rate the test suggests. */
  suggestion: number;
}

/** Settings of a range test a schedule asks for (see lrFinder for their defaults). */
export interface LrFindSettings {
  /** Lowest rate tried. Default 1e-7 (fastai's `start_lr`). */
  minLr?: number;
  /** Highest rate tried; the test usually stops before, when the loss diverges. Default 10 (fastai's `end_lr`). */
  maxLr?: number;
  /** Rates tried, one training step each. Default 100 (fastai's `num_it`). */
  steps?: number;
  /** Weight of the running average of the loss, in [0, 1); 0 leaves the curve raw. Default 0.8 (fastai: 0.98). */
  smoothing?: number;
}

/**
 * The range test's defaults: fastai's lr_find range and length (1e-7 to 10 in 100 steps), but a lighter
 * running average than its 0.98. A running average of weight β lags by about β/(1 − β) steps, and 100
 * steps over 8 decades are 12 steps a decade: 0.98 averages over some 4 decades of rate, 0.8 over a third
 * of one. Measured on digits (`node bench/tune.mjs --finder [--smoothing 0.98]`: 8 runs of one-cycle
 * training at the suggestion), 0.98 put the curve's minimum twice as high (median suggestion 0.017
 * against 0.0079) and the runs reached a mean test accuracy of 0.971, worst 0.953, against 0.975, worst
 * 0.969 with 0.8; on iris 0.98 did a little better (0.967 against 0.963).
 */
export const LR_FIND_DEFAULTS: Readonly<Required<LrFindSettings>> = Object.freeze({ minLr: 1e-7, maxLr: 10, steps: 100, smoothing: 0.8 });

/** Range-test settings checked, defaults applied. `owner` names a nested option object in messages. */
export function lrFindSettings(options: unknown, op: string, owner?: string): Required<LrFindSettings> {
  const o = checkOptions(options, Object.keys(LR_FIND_DEFAULTS), op, owner) as Record<string, unknown>;
  const name = (k: string) => (owner ? `${owner}.${k}` : k);
  const num = (k: keyof LrFindSettings, test: (v: number) => boolean, what: string): number => {
    const v = o[k] === undefined ? LR_FIND_DEFAULTS[k] : o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`${op}: ${name(k)} must be ${what}, got ${show(v)}.`);
    return v;
  };
  const minLr = num('minLr', (v) => v > 0, 'a positive finite number');
  const maxLr = num('maxLr', (v) => v > 0, 'a positive finite number');
  if (!(maxLr > minLr)) throw new RangeError(`${op}: ${name('maxLr')} (${maxLr}) must be above ${name('minLr')} (${minLr}); the test sweeps from minLr up to maxLr.`);
  const steps = num('steps', (v) => Number.isInteger(v) && v >= 5, 'an integer ≥ 5 (the rates tried)');
  const smoothing = num('smoothing', (v) => v >= 0 && v < 1, 'a number in [0, 1) (the weight of the running average: 0 is none)');
  return { minLr, maxLr, steps, smoothing };
}

