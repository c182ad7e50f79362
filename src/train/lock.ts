// One trainer at a time per model: fit() and an in-place lrFinder() hold the model's layers while they
// step its weights; a second one would interleave its steps with the first's.
import type { Sequential } from '../nn/model.js';

/** Layers being trained, and by what. */
const busy = new WeakMap<object, string>();

/**
 * Holds the model's layers for `who`, or throws the Error `refusal(holder)` when something already
 * holds one of them; returns the release.
 */
export function hold(model: Sequential, who: string, refusal: (holder: string) => string): () => void {
  for (const l of model.layers) {
    const holder = busy.get(l);
    if (holder) throw new Error(refusal(holder));
  }
  for (const l of model.layers) busy.set(l, who);
  return () => {
    for (const l of model.layers) busy.delete(l);
  };
}
