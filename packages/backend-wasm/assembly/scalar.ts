// Scalar helpers of the pointwise kernels.

/** Integer division truncating toward zero; division by zero gives 0 instead of trapping. */
// @ts-ignore: decorator
@inline export function idiv(a: i32, b: i32): i32 {
  if (b == 0) return 0;
  if (b == -1) return -a; // i32.MIN_VALUE / -1 would trap
  return a / b;
}
