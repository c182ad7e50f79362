/** Reference (float64-per-element) optimizer updates for the js backend; see codes.ts, Optim. */
export function optimStepRef(kind: number, n: number, p: Float32Array, g: Float32Array, s1: Float32Array | null, s2: Float32Array | null, hyper: readonly number[]): void {
  throw new Error(`simdnn internal error: optimizer kind ${kind} is not implemented on the js backend`);
}
