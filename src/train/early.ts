// Early stopping: watch one figure of the epoch logs, stop after `patience` epochs without improvement,
// and put back the weights of the best epoch at the end.
import type { Tensor } from '../core/tensor.js';
import type { Early, EpochLogs } from './options.js';

export class EarlyStopper {
  private best: number;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;
  /** The epoch (from 0) with the best value so far. */
  bestEpoch = 0;
  /** True once patience has run out. */
  stopped = false;
  private readonly higher: boolean;

  constructor(
    private readonly o: Early,
    private readonly params: readonly Tensor[],
  ) {
    this.higher = o.monitor === 'accuracy' || o.monitor === 'valAccuracy';
    this.best = this.higher ? -Infinity : Infinity;
  }

  /** Looks at an epoch's logs; keeps the weights of a new best (read asynchronously where reads are). */
  async observe(logs: EpochLogs): Promise<void> {
    const v = logs[this.o.monitor] as number;
    if (this.higher ? v > this.best + this.o.minDelta : v < this.best - this.o.minDelta) {
      this.best = v;
      this.wait = 0;
      this.bestEpoch = logs.epoch;
      if (this.o.restoreBest) {
        const sync = this.params.every((p) => p.storage?.backend.canReadSync);
        this.bestWeights = sync ? this.params.map((p) => p.dataSync()) : await Promise.all(this.params.map((p) => p.data()));
      }
    } else if (++this.wait >= this.o.patience) this.stopped = true;
  }

  /** The weights to put back when the last epoch was not the best, else null. */
  weightsToRestore(lastEpoch: number): Float32Array[] | null {
    return this.bestWeights && this.bestEpoch !== lastEpoch ? this.bestWeights : null;
  }
}
