// Kernels used by training besides the math: gathering a shuffled batch, inverted dropout, and the
// Gaussian noise of private training.
import { vlog } from './vmath';

/** y[r, :] = x[idx[r], :]; idx holds row numbers as f32 (validated by the caller). */
export function f32_gather_rows(rows: i32, cols: i32, x: usize, idx: usize, y: usize): void {
  const bytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const src = x + <usize>(<i32>load<f32>(idx + (<usize>r << 2))) * bytes;
    memory.copy(y + <usize>r * bytes, src, bytes);
  }
}

// lowbias32, the same hash as src/backend/math.ts (hash32), on one lane and on four.
// @ts-ignore: decorator
@inline function hash(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

// @ts-ignore: decorator
@inline function hash4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/**
 * Inverted dropout with a counter-based RNG: element i is kept when the top 24 bits of
 * hash(hash(seed) ^ hash(offset + i)), as a fraction of 2^24, fall below keep; mask = 1/keep or 0,
 * y = x·mask. Pure, so any thread (or the GPU) can produce any slice of the same mask.
 */
export function f32_dropout(n: i32, x: usize, y: usize, mask: usize, keep: f32, seed: u32, offset: u32): void {
  const key = hash(seed);
  const scale: f32 = keep > 0 ? <f32>1 / keep : 0;
  // Compare in the integer domain: u < keep ⇔ (h >>> 8) < keep·2^24 (keep·2^24 is exact for any f32 keep ≤ 1).
  const limit = <f64>keep * 16777216.0;
  let i = 0;
  if (limit >= 16777216.0) {
    for (; i < n; i++) {
      store<f32>(mask + (<usize>i << 2), scale);
      store<f32>(y + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * scale);
    }
    return;
  }
  const lim = <i32>Math.ceil(limit); // kept ⇔ (h >>> 8) < lim
  const vkey = i32x4.splat(key), vlim = i32x4.splat(lim), vscale = f32x4.splat(scale);
  let ctr = i32x4(offset, offset + 1, offset + 2, offset + 3);
  const four = i32x4.splat(4);
  for (; i + 4 <= n; i += 4) {
    const h = i32x4.shr_u(hash4(v128.xor(vkey, hash4(ctr))), 8);
    const m = v128.and(i32x4.lt_s(h, vlim), vscale);
    const p = <usize>i << 2;
    v128.store(mask + p, m);
    v128.store(y + p, f32x4.mul(v128.load(x + p), m));
    ctr = i32x4.add(ctr, four);
  }
  for (; i < n; i++) {
    const h = hash(key ^ hash(offset + <u32>i)) >>> 8;
    const m: f32 = <i32>h < lim ? scale : 0;
    store<f32>(mask + (<usize>i << 2), m);
    store<f32>(y + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * m);
  }
}

// cos(2πt) and sin(2πt)/t on [−½, ½] in powers of t² (src/backend/math.ts, COS2PI and SIN2PI).
const C0: f32 = 1.0;
const C1: f32 = -19.739208802178716;
const C2: f32 = 64.93939402266828;
const C3: f32 = -85.45681720669371;
const C4: f32 = 60.24464137187664;
const C5: f32 = -26.426256783374388;
const C6: f32 = 7.903536371318465;
const C7: f32 = -1.7143907110886711;
const C8: f32 = 0.282005968455791;
const C9: f32 = -0.03638284114254564;
const C10: f32 = 0.0037798342006800365;
const S0: f32 = 6.283185307179586;
const S1: f32 = -41.341702240399755;
const S2: f32 = 81.60524927607504;
const S3: f32 = -76.70585975306136;
const S4: f32 = 42.058693944897634;
const S5: f32 = -15.094642576822984;
const S6: f32 = 3.8199525848482803;
const S7: f32 = -0.7181223017785001;
const S8: f32 = 0.10422916220813978;
const S9: f32 = -0.012031585942120619;
const S10: f32 = 0.0011309237482517954;

// @ts-ignore: decorator
@inline function cos2pi(s: f32): f32 {
  return C0 + s * (C1 + s * (C2 + s * (C3 + s * (C4 + s * (C5 + s * (C6 + s * (C7 + s * (C8 + s * (C9 + s * C10)))))))));
}

// @ts-ignore: decorator
@inline function sin2piOverT(s: f32): f32 {
  return S0 + s * (S1 + s * (S2 + s * (S3 + s * (S4 + s * (S5 + s * (S6 + s * (S7 + s * (S8 + s * (S9 + s * S10)))))))));
}

// @ts-ignore: decorator
@inline function vpoly(s: v128, c0: f32, c1: f32, c2: f32, c3: f32, c4: f32, c5: f32, c6: f32, c7: f32, c8: f32, c9: f32, c10: f32): v128 {
  let p = f32x4.splat(c10);
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c9));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c8));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c7));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c6));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c5));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c4));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c3));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(c1));
  return f32x4.add(f32x4.mul(p, s), f32x4.splat(c0));
}

/** The normal at element counter e of the stream `key`, one lane (src/backend/math.ts, normalAt). */
// @ts-ignore: decorator
@inline function normalOne(key: u32, e: u32): f32 {
  const h1 = hash(key ^ hash(e >>> 1));
  const h2 = hash(h1 ^ 0x9e3779b9);
  const u1: f32 = h1 == 0 ? <f32>1.1641532182693481e-10 : <f32>h1 * <f32>2.3283064365386963e-10;
  const t: f32 = <f32>(h2 >>> 8) * <f32>5.9604644775390625e-8 - <f32>0.5;
  const r = Mathf.sqrt(<f32>-2 * f32x4.extract_lane(vlog(f32x4.splat(u1)), 0));
  const s = t * t;
  return (e & 1) == 0 ? r * cos2pi(s) : r * t * sin2piOverT(s);
}

/**
 * y[i] += std·z(offset + i): Gaussian noise of the counter-based stream of `seed`, two normals per
 * Box–Muller draw (src/backend/math.ts, normalAt, is the reference). The body draws four pairs per
 * iteration (eight values) from an even counter; an odd start and the tail go one by one. Pure, so any
 * thread (or the GPU) can add any slice of the same noise.
 */
export function f32_add_normal(n: i32, y: usize, std: f32, seed: u32, offset: u32): void {
  const key = hash(seed);
  let i = 0;
  if ((offset & 1) != 0 && n > 0) {
    store<f32>(y, load<f32>(y) + std * normalOne(key, offset));
    i = 1;
  }
  const vkey = i32x4.splat(key), golden = i32x4.splat(0x9e3779b9), vstd = f32x4.splat(std);
  const inv32 = f32x4.splat(2.3283064365386963e-10), inv24 = f32x4.splat(5.9604644775390625e-8);
  const tiny = f32x4.splat(1.1641532182693481e-10), half = f32x4.splat(0.5), m2 = f32x4.splat(-2);
  const p0 = (offset + <u32>i) >>> 1;
  let pairs = i32x4(p0, p0 + 1, p0 + 2, p0 + 3);
  const four = i32x4.splat(4), low31 = i32x4.splat(0x7fffffff);
  for (; i + 8 <= n; i += 8) {
    // The pair of element counter e is (e mod 2^32) >>> 1: 31 bits, so the pair counter wraps at 2^31.
    const h1 = hash4(v128.xor(vkey, hash4(v128.and(pairs, low31))));
    const h2 = hash4(v128.xor(h1, golden));
    // h1 = 0 draws 2^-33 (not log 0); f32 of a u32 rounds, which only moves u1 within its last bit.
    const u1 = v128.bitselect(tiny, f32x4.mul(f32x4.convert_i32x4_u(h1), inv32), i32x4.eq(h1, i32x4.splat(0)));
    const t = f32x4.sub(f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(h2, 8)), inv24), half);
    const r = f32x4.sqrt(f32x4.mul(m2, vlog(u1)));
    const s = f32x4.mul(t, t);
    const zc = f32x4.mul(r, vpoly(s, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10));
    const zs = f32x4.mul(f32x4.mul(r, t), vpoly(s, S0, S1, S2, S3, S4, S5, S6, S7, S8, S9, S10));
    // Pairs 0..3 give elements (c0, s0, c1, s1) and (c2, s2, c3, s3).
    const lo = v128.shuffle<f32>(zc, zs, 0, 4, 1, 5);
    const hi = v128.shuffle<f32>(zc, zs, 2, 6, 3, 7);
    const p = y + (<usize>i << 2);
    v128.store(p, f32x4.add(v128.load(p), f32x4.mul(vstd, lo)));
    v128.store(p + 16, f32x4.add(v128.load(p + 16), f32x4.mul(vstd, hi)));
    pairs = i32x4.add(pairs, four);
  }
  for (; i < n; i++) {
    const p = y + (<usize>i << 2);
    store<f32>(p, load<f32>(p) + std * normalOne(key, offset + <u32>i));
  }
}
