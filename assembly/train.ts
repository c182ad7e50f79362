// Kernels used by training besides the math: gathering a shuffled batch and inverted dropout.

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
