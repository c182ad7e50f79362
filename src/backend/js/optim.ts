import { HYPER, Optim } from '../../core/optable.js';

/**
 * Reference optimizer updates for the js backend (the oracle of assembly/optim.ts): each element is
 * computed in float64 from the stored float32 values and the float64 scalars, and every result (the
 * parameter and each state value) is rounded to float32 once when stored. The equations follow torch.optim;
 * the `hyper` fields are read by name through the op table's HYPER layouts (src/core/optable.ts, OPTIM).
 */
export function optimStepRef(kind: number, n: number, p: Float32Array, g: Float32Array, s1: Float32Array | null, s2: Float32Array | null, hyper: readonly number[]): void {
  if (n <= 0) return;
  const need = (s: Float32Array | null, size: number, what: string): Float32Array => {
    if (!s || s.length < size) throw new Error(`simdnn internal error: optimStep needs ${what} of ${size} floats`);
    return s;
  };
  switch (kind) {
    case Optim.sgd: {
      const H = HYPER.sgd;
      const lr = hyper[H.lr], mu = hyper[H.momentum], dampening = hyper[H.dampening], wd = hyper[H.weightDecay];
      const nesterov = hyper[H.nesterov], first = hyper[H.first], l1 = hyper[H.l1], gs = hyper[H.gscale];
      const buf = mu !== 0 ? need(s1, n, 'a momentum buffer') : null;
      for (let i = 0; i < n; i++) {
        const pi = p[i];
        let d = gs * g[i] + wd * pi + l1 * Math.sign(pi);
        if (buf) {
          const b = first ? d : mu * buf[i] + (1 - dampening) * d;
          buf[i] = b;
          d = nesterov ? d + mu * Math.fround(b) : Math.fround(b);
        }
        p[i] = pi - lr * d;
      }
      return;
    }
    case Optim.adam: {
      const H = HYPER.adam;
      const lr = hyper[H.lr], b1 = hyper[H.beta1], b2 = hyper[H.beta2], eps = hyper[H.eps], wd = hyper[H.weightDecay];
      const decoupled = hyper[H.decoupled], bc1 = hyper[H.bc1], bc2 = hyper[H.bc2], l1 = hyper[H.l1], gs = hyper[H.gscale];
      const amsgrad = hyper[H.amsgrad];
      const m = need(s1, n, 'the first moment');
      const v = need(s2, amsgrad ? 2 * n : n, amsgrad ? 'the second moment and its maximum' : 'the second moment');
      const stepSize = lr / bc1, sqrtBc2 = Math.sqrt(bc2), pf = 1 - lr * wd;
      for (let i = 0; i < n; i++) {
        let pi = p[i];
        let gi = gs * g[i] + l1 * Math.sign(pi);
        if (decoupled) pi *= pf;
        else gi += wd * pi;
        const mi = Math.fround(b1 * m[i] + (1 - b1) * gi);
        let vi = Math.fround(b2 * v[i] + (1 - b2) * gi * gi);
        m[i] = mi;
        v[i] = vi;
        if (amsgrad) {
          vi = Math.max(v[n + i], vi);
          v[n + i] = vi;
        }
        p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
      }
      return;
    }
    case Optim.rmsprop: {
      const H = HYPER.rmsprop;
      const lr = hyper[H.lr], alpha = hyper[H.alpha], eps = hyper[H.eps], wd = hyper[H.weightDecay];
      const mu = hyper[H.momentum], centered = hyper[H.centered], l1 = hyper[H.l1], gs = hyper[H.gscale];
      const sq = need(s1, n, 'the square average');
      const extra = (mu > 0 ? n : 0) + (centered ? n : 0);
      const s = extra ? need(s2, extra, 'the momentum buffer / gradient average') : null;
      const ga = mu > 0 ? n : 0; // gradient average after the momentum buffer
      for (let i = 0; i < n; i++) {
        const pi = p[i];
        const gi = gs * g[i] + wd * pi + l1 * Math.sign(pi);
        const si = Math.fround(alpha * sq[i] + (1 - alpha) * gi * gi);
        sq[i] = si;
        let avg: number;
        if (centered) {
          const gai = Math.fround(alpha * s![ga + i] + (1 - alpha) * gi);
          s![ga + i] = gai;
          avg = Math.sqrt(si - gai * gai) + eps;
        } else avg = Math.sqrt(si) + eps;
        if (mu > 0) {
          const b = Math.fround(mu * s![i] + gi / avg);
          s![i] = b;
          p[i] = pi - lr * b;
        } else p[i] = pi - (lr * gi) / avg;
      }
      return;
    }
    case Optim.adagrad: {
      const H = HYPER.adagrad;
      const clr = hyper[H.clr], eps = hyper[H.eps], wd = hyper[H.weightDecay], l1 = hyper[H.l1], gs = hyper[H.gscale];
      const sum = need(s1, n, 'the squared-gradient sum');
      for (let i = 0; i < n; i++) {
        const pi = p[i];
        const gi = gs * g[i] + wd * pi + l1 * Math.sign(pi);
        const si = Math.fround(sum[i] + gi * gi);
        sum[i] = si;
        p[i] = pi - (clr * gi) / (Math.sqrt(si) + eps);
      }
      return;
    }
    default:
      throw new Error(`simdnn internal error: unknown optimizer kind ${kind}`);
  }
}
