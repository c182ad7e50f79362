// The `privacy` namespace of the public API: the accountant of differentially private training
// (fit's privacy option trains privately; these say what a run spends, or what noise a budget needs).
export { epsilon, noiseFor } from '../train/accountant.js';
export type { AccountingOptions } from '../train/accountant.js';
