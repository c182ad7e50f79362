// Elementwise binary functions with broadcasting: out[o, r, c] = a[o·as0 + r·as1 + c·as2] ⊕ b[...].
//
// Strides are in elements; 0 broadcasts. The three axes are first merged where the strides allow it (a
// contiguous or fully broadcast operand collapses to one long row), then each row runs one of four SIMD
// loops chosen by the inner strides (1,1), (1,0), (0,1), (0,0); any other inner stride takes a scalar loop.
// Each op is compiled into its own copy of the loops (the op is a constant inside them).
import {
  B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_GREATER, B_GREATER_EQUAL, B_EQUAL, B_POW,
} from './codes';
import { kf, K_ONE } from './vmath';

@inline function vbinary(op: i32, a: v128, b: v128): v128 {
  if (op == B_ADD) return f32x4.add(a, b);
  if (op == B_SUB) return f32x4.sub(a, b);
  if (op == B_MUL) return f32x4.mul(a, b);
  if (op == B_DIV) return f32x4.div(a, b);
  // wasm min/max propagate NaN and order -0 < +0, exactly like Math.max/Math.min.
  if (op == B_MAX) return f32x4.max(a, b);
  if (op == B_MIN) return f32x4.min(a, b);
  // Comparisons give all-ones masks; and-ing with 1.0 turns them into 1.0 / 0.0 (NaN compares false).
  if (op == B_GREATER) return v128.and(f32x4.gt(a, b), kf(K_ONE));
  if (op == B_GREATER_EQUAL) return v128.and(f32x4.ge(a, b), kf(K_ONE));
  if (op == B_EQUAL) return v128.and(f32x4.eq(a, b), kf(K_ONE));
  return a;
}

/** Scalar form; pow goes through float64 Math.pow (JS semantics, ~0.5 ulp), rounded once to float32. */
@inline function sbinary(op: i32, a: f32, b: f32): f32 {
  if (op == B_POW) return <f32>Math.pow(<f64>a, <f64>b);
  return f32x4.extract_lane(vbinary(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

// One row of `cols` outputs; pa/pb/po are byte pointers.

@inline function rowVV(op: i32, cols: i32, pa: usize, pb: usize, po: usize): void {
  const end = po + (<usize>cols << 2);
  const da = pa - po, db = pb - po;
  let p = po;
  while (p + 64 <= end) {
    const a0 = v128.load(p + da), a1 = v128.load(p + da, 16), a2 = v128.load(p + da, 32), a3 = v128.load(p + da, 48);
    const b0 = v128.load(p + db), b1 = v128.load(p + db, 16), b2 = v128.load(p + db, 32), b3 = v128.load(p + db, 48);
    v128.store(p, vbinary(op, a0, b0));
    v128.store(p, vbinary(op, a1, b1), 16);
    v128.store(p, vbinary(op, a2, b2), 32);
    v128.store(p, vbinary(op, a3, b3), 48);
    p += 64;
  }
  while (p + 16 <= end) {
    v128.store(p, vbinary(op, v128.load(p + da), v128.load(p + db)));
    p += 16;
  }
  while (p < end) {
    store<f32>(p, sbinary(op, load<f32>(p + da), load<f32>(p + db)));
    p += 4;
  }
}

/** a varies along the row, b is one value (bFirst = false); or the mirror image (bFirst = true). */
@inline function rowVS(op: i32, cols: i32, pv: usize, s: f32, po: usize, sFirst: bool): void {
  const end = po + (<usize>cols << 2);
  const dv = pv - po;
  const vs = f32x4.splat(s);
  let p = po;
  while (p + 64 <= end) {
    const a0 = v128.load(p + dv), a1 = v128.load(p + dv, 16), a2 = v128.load(p + dv, 32), a3 = v128.load(p + dv, 48);
    v128.store(p, sFirst ? vbinary(op, vs, a0) : vbinary(op, a0, vs));
    v128.store(p, sFirst ? vbinary(op, vs, a1) : vbinary(op, a1, vs), 16);
    v128.store(p, sFirst ? vbinary(op, vs, a2) : vbinary(op, a2, vs), 32);
    v128.store(p, sFirst ? vbinary(op, vs, a3) : vbinary(op, a3, vs), 48);
    p += 64;
  }
  while (p + 16 <= end) {
    const a0 = v128.load(p + dv);
    v128.store(p, sFirst ? vbinary(op, vs, a0) : vbinary(op, a0, vs));
    p += 16;
  }
  while (p < end) {
    const v = load<f32>(p + dv);
    store<f32>(p, sFirst ? sbinary(op, s, v) : sbinary(op, v, s));
    p += 4;
  }
}

@inline function rowFill(cols: i32, v: f32, po: usize): void {
  const end = po + (<usize>cols << 2);
  const vv = f32x4.splat(v);
  let p = po;
  while (p + 64 <= end) {
    v128.store(p, vv); v128.store(p, vv, 16); v128.store(p, vv, 32); v128.store(p, vv, 48);
    p += 64;
  }
  while (p + 16 <= end) { v128.store(p, vv); p += 16; }
  while (p < end) { store<f32>(p, v); p += 4; }
}

@inline function rowStrided(op: i32, cols: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize): void {
  const ia = <usize>sa << 2, ib = <usize>sb << 2;
  for (let c = 0; c < cols; c++) {
    store<f32>(po, sbinary(op, load<f32>(pa), load<f32>(pb)));
    pa += ia; pb += ib; po += 4;
  }
}

@inline function binaryRows(
  op: i32, outer: i32, rows: i32, cols: i32,
  a: usize, as0: i32, as1: i32, as2: i32, b: usize, bs0: i32, bs1: i32, bs2: i32, out: usize,
): void {
  let po = out;
  const rowBytes = <usize>cols << 2;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      // Offsets in i32 then bytes: strides are non-negative and the tensors fit in 4 GiB.
      const pa = a + (<usize>(o * as0 + r * as1) << 2);
      const pb = b + (<usize>(o * bs0 + r * bs1) << 2);
      if (as2 == 1 && bs2 == 1) rowVV(op, cols, pa, pb, po);
      else if (as2 == 1 && bs2 == 0) rowVS(op, cols, pa, load<f32>(pb), po, false);
      else if (as2 == 0 && bs2 == 1) rowVS(op, cols, pb, load<f32>(pa), po, true);
      else if (as2 == 0 && bs2 == 0) rowFill(cols, sbinary(op, load<f32>(pa), load<f32>(pb)), po);
      else rowStrided(op, cols, pa, as2, pb, bs2, po);
      po += rowBytes;
    }
  }
}

@inline function powRows(
  outer: i32, rows: i32, cols: i32,
  a: usize, as0: i32, as1: i32, as2: i32, b: usize, bs0: i32, bs1: i32, bs2: i32, out: usize,
): void {
  // pow has no SIMD form worth its error (exp(b·log a) loses ~|b·log a| ulp); it is rare in models.
  let po = out;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      const pa = a + (<usize>(o * as0 + r * as1) << 2);
      const pb = b + (<usize>(o * bs0 + r * bs1) << 2);
      rowStrided(B_POW, cols, pa, as2, pb, bs2, po);
      po += <usize>cols << 2;
    }
  }
}

/**
 * out[o, r, c] (contiguous [outer, rows, cols]) = a[o·as0 + r·as1 + c·as2] ⊕ b[o·bs0 + r·bs1 + c·bs2].
 * Strides are in elements, 0 broadcasts; out may equal a full (contiguous, same-shape) operand.
 */
export function f32_binary(
  op: i32, outer: i32, rows: i32, cols: i32,
  a: usize, as0: i32, as1: i32, as2: i32, b: usize, bs0: i32, bs1: i32, bs2: i32, out: usize,
): void {
  if (outer <= 0 || rows <= 0 || cols <= 0) return;
  // Merge axes from the inside out wherever both operands allow it, so that contiguous and scalar operands
  // run as one long row instead of many short ones. An axis of size 1 merges with anything.
  if (cols == 1) { cols = rows; as2 = as1; bs2 = bs1; rows = 1; }
  if (rows == 1) { rows = outer; as1 = as0; bs1 = bs0; outer = 1; }
  if (as1 == cols * as2 && bs1 == cols * bs2) { cols *= rows; rows = outer; as1 = as0; bs1 = bs0; outer = 1; }
  if (outer > 1 && as0 == rows * as1 && bs0 == rows * bs1) { rows *= outer; outer = 1; }
  if (rows > 1 && as1 == cols * as2 && bs1 == cols * bs2) { cols *= rows; rows = 1; }
  switch (op) {
    case B_ADD: { binaryRows(B_ADD, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_SUB: { binaryRows(B_SUB, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_MUL: { binaryRows(B_MUL, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_DIV: { binaryRows(B_DIV, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_MAX: { binaryRows(B_MAX, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_MIN: { binaryRows(B_MIN, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_GREATER: { binaryRows(B_GREATER, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_GREATER_EQUAL: {
      binaryRows(B_GREATER_EQUAL, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break;
    }
    case B_EQUAL: { binaryRows(B_EQUAL, outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    case B_POW: { powRows(outer, rows, cols, a, as0, as1, as2, b, bs0, bs1, bs2, out); break; }
    default: unreachable(); // a code of the op table this kernel lacks
  }
}
