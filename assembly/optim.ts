// Fused optimizer updates (see ABI.md): one pass over (param, grad, state) per parameter tensor, following
// torch.optim's algorithms exactly (the js backend's optimStepRef is the float64 oracle of the same steps).
//
// Every kernel first forms the effective gradient
//     g ← gscale·g + weightDecay·p + l1·sign(p)
// (gscale: the global-norm clipping factor, 1 when not clipping; the weightDecay term is left out by
// AdamW, which decays the parameter instead), then applies its update. Scalars arrive as f64 (exactly the
// JS numbers) and are rounded to f32 once per call; everything that depends on the step count (Adam's
// bias corrections, Adagrad's decayed lr) is computed by the caller in float64.
//
// The scalar arguments of each kernel are the named `hyper` fields of its kind in the op table
// (src/core/optable.ts, OPTIM), with the same names and in the same order (test/optable.test.ts checks);
// the wasm backend passes them by name.
//
// Loops: an unrolled body of two vectors, a 4-lane body, and a one-lane tail that runs the same vector
// code on lane 0 (load32_splat / store32_lane), so the tail rounds exactly like the body. Plain mul+add
// only (never relaxed_madd): the simd and relaxed builds give bit-identical updates. The variant flags
// (momentum on/off, first step, nesterov, decoupled, amsgrad, centered) are constants inside each loop
// copy, so a loop carries no per-element branches.

// @ts-ignore: decorator
@inline function ld(ptr: usize, one: bool): v128 {
  return one ? v128.load32_splat(ptr) : v128.load(ptr);
}

// @ts-ignore: decorator
@inline function st(ptr: usize, x: v128, one: bool): void {
  if (one) v128.store32_lane(ptr, x, 0);
  else v128.store(ptr, x);
}

/** sign(p) as in torch.sign: −1, 0 or +1 (the 0 keeps its sign bit, which adds nothing). */
// @ts-ignore: decorator
@inline function vsign(p: v128): v128 {
  const one = v128.or(v128.and(p, i32x4.splat(0x80000000)), f32x4.splat(1.0)); // copysign(1, p)
  return v128.and(one, f32x4.ne(p, f32x4.splat(0.0)));
}

/** gscale·g + wd·p + l1·sign(p). */
// @ts-ignore: decorator
@inline function effGrad(g: v128, p: v128, gs: v128, wd: v128, l1: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(gs, g), f32x4.mul(wd, p)), f32x4.mul(l1, vsign(p)));
}

// ---------------------------------------------------------------------------------------------- SGD
//   g ← gscale·g + wd·p + l1·sign(p)
//   momentum > 0:  buf ← g on the first step, else buf ← μ·buf + (1 − dampening)·g
//                  d ← g + μ·buf (nesterov) or buf
//   p ← p − lr·d

// @ts-ignore: decorator
@inline function sgdAt(
  o: usize, p: usize, g: usize, buf: usize,
  lr: v128, mu: v128, omd: v128, wd: v128, l1: v128, gs: v128,
  MOM: bool, FIRST: bool, NESTEROV: bool, one: bool,
): void {
  const pv = ld(p + o, one);
  let d = effGrad(ld(g + o, one), pv, gs, wd, l1);
  if (MOM) {
    const b = FIRST ? d : f32x4.add(f32x4.mul(mu, ld(buf + o, one)), f32x4.mul(omd, d));
    st(buf + o, b, one);
    d = NESTEROV ? f32x4.add(d, f32x4.mul(mu, b)) : b;
  }
  st(p + o, f32x4.sub(pv, f32x4.mul(lr, d)), one);
}

// @ts-ignore: decorator
@inline function sgdLoop(
  n: i32, p: usize, g: usize, buf: usize,
  lr: v128, mu: v128, omd: v128, wd: v128, l1: v128, gs: v128,
  MOM: bool, FIRST: bool, NESTEROV: bool,
): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  while (o + 32 <= end) {
    sgdAt(o, p, g, buf, lr, mu, omd, wd, l1, gs, MOM, FIRST, NESTEROV, false);
    sgdAt(o + 16, p, g, buf, lr, mu, omd, wd, l1, gs, MOM, FIRST, NESTEROV, false);
    o += 32;
  }
  while (o + 16 <= end) {
    sgdAt(o, p, g, buf, lr, mu, omd, wd, l1, gs, MOM, FIRST, NESTEROV, false);
    o += 16;
  }
  while (o < end) {
    sgdAt(o, p, g, buf, lr, mu, omd, wd, l1, gs, MOM, FIRST, NESTEROV, true);
    o += 4;
  }
}

/** buf is unused (may be 0) when momentum is 0. nesterov, first: 0 or 1. */
export function f32_sgd_step(
  n: i32, p: usize, g: usize, buf: usize,
  lr: f64, momentum: f64, dampening: f64, weightDecay: f64, nesterov: i32, first: i32, l1: f64, gscale: f64,
): void {
  if (n <= 0) return;
  const vlr = f32x4.splat(<f32>lr), vmu = f32x4.splat(<f32>momentum), vomd = f32x4.splat(<f32>(1.0 - dampening));
  const vwd = f32x4.splat(<f32>weightDecay), vl1 = f32x4.splat(<f32>l1), vgs = f32x4.splat(<f32>gscale);
  if (momentum == 0) sgdLoop(n, p, g, buf, vlr, vmu, vomd, vwd, vl1, vgs, false, false, false);
  else if (first) {
    if (nesterov) sgdLoop(n, p, g, buf, vlr, vmu, vomd, vwd, vl1, vgs, true, true, true);
    else sgdLoop(n, p, g, buf, vlr, vmu, vomd, vwd, vl1, vgs, true, true, false);
  } else {
    if (nesterov) sgdLoop(n, p, g, buf, vlr, vmu, vomd, vwd, vl1, vgs, true, false, true);
    else sgdLoop(n, p, g, buf, vlr, vmu, vomd, vwd, vl1, vgs, true, false, false);
  }
}

// --------------------------------------------------------------------------------------- Adam / AdamW
//   adam:  g ← gscale·g + wd·p + l1·sign(p)
//   adamw: g ← gscale·g + l1·sign(p);  p ← p·(1 − lr·wd)
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  amsgrad: vmax ← max(vmax, v), used in place of v
//   p ← p − (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps)        (eps outside the root, after bias correction)
// bc1 = 1 − β1^t, bc2 = 1 − β2^t for this parameter's step t.

// @ts-ignore: decorator
@inline function adamAt(
  o: usize, p: usize, g: usize, m: usize, v: usize, vmax: usize,
  b1: v128, ob1: v128, b2: v128, ob2: v128, eps: v128, wd: v128, pf: v128, stepSize: v128, invSqrtBc2: v128,
  l1: v128, gs: v128, DECOUPLED: bool, AMS: bool, one: bool,
): void {
  let pv = ld(p + o, one);
  let gv: v128;
  if (DECOUPLED) {
    gv = f32x4.add(f32x4.mul(gs, ld(g + o, one)), f32x4.mul(l1, vsign(pv)));
    pv = f32x4.mul(pv, pf);
  } else {
    gv = effGrad(ld(g + o, one), pv, gs, wd, l1);
  }
  const mv = f32x4.add(f32x4.mul(b1, ld(m + o, one)), f32x4.mul(ob1, gv));
  let vv = f32x4.add(f32x4.mul(b2, ld(v + o, one)), f32x4.mul(ob2, f32x4.mul(gv, gv)));
  st(m + o, mv, one);
  st(v + o, vv, one);
  if (AMS) {
    vv = f32x4.max(ld(vmax + o, one), vv);
    st(vmax + o, vv, one);
  }
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), invSqrtBc2), eps);
  st(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(stepSize, mv), denom)), one);
}

// @ts-ignore: decorator
@inline function adamLoop(
  n: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize,
  b1: v128, ob1: v128, b2: v128, ob2: v128, eps: v128, wd: v128, pf: v128, stepSize: v128, invSqrtBc2: v128,
  l1: v128, gs: v128, DECOUPLED: bool, AMS: bool,
): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  while (o + 32 <= end) {
    adamAt(o, p, g, m, v, vmax, b1, ob1, b2, ob2, eps, wd, pf, stepSize, invSqrtBc2, l1, gs, DECOUPLED, AMS, false);
    adamAt(o + 16, p, g, m, v, vmax, b1, ob1, b2, ob2, eps, wd, pf, stepSize, invSqrtBc2, l1, gs, DECOUPLED, AMS, false);
    o += 32;
  }
  while (o + 16 <= end) {
    adamAt(o, p, g, m, v, vmax, b1, ob1, b2, ob2, eps, wd, pf, stepSize, invSqrtBc2, l1, gs, DECOUPLED, AMS, false);
    o += 16;
  }
  while (o < end) {
    adamAt(o, p, g, m, v, vmax, b1, ob1, b2, ob2, eps, wd, pf, stepSize, invSqrtBc2, l1, gs, DECOUPLED, AMS, true);
    o += 4;
  }
}

/** vmax is unused (may be 0) unless amsgrad. decoupled (AdamW), amsgrad: 0 or 1. */
export function f32_adam_step(
  n: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, decoupled: i32, bc1: f64, bc2: f64,
  l1: f64, gscale: f64, amsgrad: i32,
): void {
  if (n <= 0) return;
  const vb1 = f32x4.splat(<f32>beta1), vob1 = f32x4.splat(<f32>(1.0 - beta1));
  const vb2 = f32x4.splat(<f32>beta2), vob2 = f32x4.splat(<f32>(1.0 - beta2));
  const veps = f32x4.splat(<f32>eps), vwd = f32x4.splat(<f32>weightDecay), vpf = f32x4.splat(<f32>(1.0 - lr * weightDecay));
  const vstep = f32x4.splat(<f32>(lr / bc1)), vinv = f32x4.splat(<f32>(1.0 / Math.sqrt(bc2)));
  const vl1 = f32x4.splat(<f32>l1), vgs = f32x4.splat(<f32>gscale);
  if (decoupled) {
    if (amsgrad) adamLoop(n, p, g, m, v, vmax, vb1, vob1, vb2, vob2, veps, vwd, vpf, vstep, vinv, vl1, vgs, true, true);
    else adamLoop(n, p, g, m, v, vmax, vb1, vob1, vb2, vob2, veps, vwd, vpf, vstep, vinv, vl1, vgs, true, false);
  } else {
    if (amsgrad) adamLoop(n, p, g, m, v, vmax, vb1, vob1, vb2, vob2, veps, vwd, vpf, vstep, vinv, vl1, vgs, false, true);
    else adamLoop(n, p, g, m, v, vmax, vb1, vob1, vb2, vob2, veps, vwd, vpf, vstep, vinv, vl1, vgs, false, false);
  }
}

// -------------------------------------------------------------------------------------------- RMSprop
//   g ← gscale·g + wd·p + l1·sign(p)
//   sq ← α·sq + (1 − α)·g²;  centered: gavg ← α·gavg + (1 − α)·g, avg ← sqrt(sq − gavg²) + eps,
//   else avg ← sqrt(sq) + eps
//   momentum > 0: buf ← μ·buf + g/avg, p ← p − lr·buf;  else p ← p − lr·g/avg

// @ts-ignore: decorator
@inline function rmspropAt(
  o: usize, p: usize, g: usize, sq: usize, buf: usize, gavg: usize,
  lr: v128, a: v128, oa: v128, eps: v128, wd: v128, mu: v128, l1: v128, gs: v128,
  MOM: bool, CENTERED: bool, one: bool,
): void {
  const pv = ld(p + o, one);
  const gv = effGrad(ld(g + o, one), pv, gs, wd, l1);
  const s = f32x4.add(f32x4.mul(a, ld(sq + o, one)), f32x4.mul(oa, f32x4.mul(gv, gv)));
  st(sq + o, s, one);
  let avg: v128;
  if (CENTERED) {
    const ga = f32x4.add(f32x4.mul(a, ld(gavg + o, one)), f32x4.mul(oa, gv));
    st(gavg + o, ga, one);
    avg = f32x4.add(f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga))), eps);
  } else {
    avg = f32x4.add(f32x4.sqrt(s), eps);
  }
  if (MOM) {
    const b = f32x4.add(f32x4.mul(mu, ld(buf + o, one)), f32x4.div(gv, avg));
    st(buf + o, b, one);
    st(p + o, f32x4.sub(pv, f32x4.mul(lr, b)), one);
  } else {
    st(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(lr, gv), avg)), one);
  }
}

// @ts-ignore: decorator
@inline function rmspropLoop(
  n: i32, p: usize, g: usize, sq: usize, buf: usize, gavg: usize,
  lr: v128, a: v128, oa: v128, eps: v128, wd: v128, mu: v128, l1: v128, gs: v128,
  MOM: bool, CENTERED: bool,
): void {
  const end = <usize>n << 2;
  let o: usize = 0;
  while (o + 32 <= end) {
    rmspropAt(o, p, g, sq, buf, gavg, lr, a, oa, eps, wd, mu, l1, gs, MOM, CENTERED, false);
    rmspropAt(o + 16, p, g, sq, buf, gavg, lr, a, oa, eps, wd, mu, l1, gs, MOM, CENTERED, false);
    o += 32;
  }
  while (o + 16 <= end) {
    rmspropAt(o, p, g, sq, buf, gavg, lr, a, oa, eps, wd, mu, l1, gs, MOM, CENTERED, false);
    o += 16;
  }
  while (o < end) {
    rmspropAt(o, p, g, sq, buf, gavg, lr, a, oa, eps, wd, mu, l1, gs, MOM, CENTERED, true);
    o += 4;
  }
}

/** buf is unused (may be 0) when momentum is 0; gavg unless centered (0 or 1). */
export function f32_rmsprop_step(
  n: i32, p: usize, g: usize, sq: usize, buf: usize, gavg: usize,
  lr: f64, alpha: f64, eps: f64, weightDecay: f64, momentum: f64, centered: i32, l1: f64, gscale: f64,
): void {
  if (n <= 0) return;
  const vlr = f32x4.splat(<f32>lr), va = f32x4.splat(<f32>alpha), voa = f32x4.splat(<f32>(1.0 - alpha));
  const veps = f32x4.splat(<f32>eps), vwd = f32x4.splat(<f32>weightDecay), vmu = f32x4.splat(<f32>momentum);
  const vl1 = f32x4.splat(<f32>l1), vgs = f32x4.splat(<f32>gscale);
  if (momentum > 0) {
    if (centered) rmspropLoop(n, p, g, sq, buf, gavg, vlr, va, voa, veps, vwd, vmu, vl1, vgs, true, true);
    else rmspropLoop(n, p, g, sq, buf, gavg, vlr, va, voa, veps, vwd, vmu, vl1, vgs, true, false);
  } else {
    if (centered) rmspropLoop(n, p, g, sq, buf, gavg, vlr, va, voa, veps, vwd, vmu, vl1, vgs, false, true);
    else rmspropLoop(n, p, g, sq, buf, gavg, vlr, va, voa, veps, vwd, vmu, vl1, vgs, false, false);
  }
}

// -------------------------------------------------------------------------------------------- Adagrad
//   g ← gscale·g + wd·p + l1·sign(p);  sum ← sum + g²;  p ← p − clr·g/(sqrt(sum) + eps)
// clr = lr/(1 + (t − 1)·lrDecay) for this parameter's step t; sum starts at initialAccumulatorValue.

// @ts-ignore: decorator
@inline function adagradAt(
  o: usize, p: usize, g: usize, sum: usize, clr: v128, eps: v128, wd: v128, l1: v128, gs: v128, one: bool,
): void {
  const pv = ld(p + o, one);
  const gv = effGrad(ld(g + o, one), pv, gs, wd, l1);
  const s = f32x4.add(ld(sum + o, one), f32x4.mul(gv, gv));
  st(sum + o, s, one);
  st(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(clr, gv), f32x4.add(f32x4.sqrt(s), eps))), one);
}

export function f32_adagrad_step(
  n: i32, p: usize, g: usize, sum: usize, clr: f64, eps: f64, weightDecay: f64, l1: f64, gscale: f64,
): void {
  if (n <= 0) return;
  const vclr = f32x4.splat(<f32>clr), veps = f32x4.splat(<f32>eps), vwd = f32x4.splat(<f32>weightDecay);
  const vl1 = f32x4.splat(<f32>l1), vgs = f32x4.splat(<f32>gscale);
  const end = <usize>n << 2;
  let o: usize = 0;
  while (o + 32 <= end) {
    adagradAt(o, p, g, sum, vclr, veps, vwd, vl1, vgs, false);
    adagradAt(o + 16, p, g, sum, vclr, veps, vwd, vl1, vgs, false);
    o += 32;
  }
  while (o + 16 <= end) {
    adagradAt(o, p, g, sum, vclr, veps, vwd, vl1, vgs, false);
    o += 16;
  }
  while (o < end) {
    adagradAt(o, p, g, sum, vclr, veps, vwd, vl1, vgs, true);
    o += 4;
  }
}
