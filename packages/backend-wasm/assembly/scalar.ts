// Scalar helpers shared by the generated kernels.

/** float -> int32 the way a saturating cast does: truncate toward zero, clamp, NaN -> 0. */
// @ts-ignore: decorator
@inline export function f2i(x: f32): i32 {
  if (x != x) return 0;
  if (x >= <f32>2147483647) return i32.MAX_VALUE;
  if (x <= <f32>-2147483648) return i32.MIN_VALUE;
  return <i32>x;
}

/** Integer division truncating toward zero; division by zero gives 0 instead of trapping. */
// @ts-ignore: decorator
@inline export function idiv(a: i32, b: i32): i32 {
  if (b == 0) return 0;
  if (b == -1) return -a; // i32.MIN_VALUE / -1 would trap
  return a / b;
}

/** Integer power by squaring; negative exponents give 0 except for bases 1 and -1. */
export function ipow(a: i32, b: i32): i32 {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) != 0 ? -1 : 1) : 0;
  let r = 1;
  while (b != 0) {
    if ((b & 1) != 0) r *= a;
    a *= a;
    b >>= 1;
  }
  return r;
}
