// Register-tile helpers of the sgemm micro-kernel (not exported from the module).

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Writes one 8-wide row of the tile: accumulate into C unless first, epilogue when last. */
// @ts-ignore: decorator
@inline export function storeRow(c: usize, v0: v128, v1: v128, first: bool, last: bool, bias: usize, relu: bool): void {
  if (!first) {
    v0 = f32x4.add(v0, v128.load(c));
    v1 = f32x4.add(v1, v128.load(c, 16));
  }
  if (last) {
    if (bias != 0) {
      v0 = f32x4.add(v0, v128.load(bias));
      v1 = f32x4.add(v1, v128.load(bias, 16));
    }
    if (relu) {
      const z = f32x4.splat(0);
      v0 = f32x4.max(v0, z);
      v1 = f32x4.max(v1, z);
    }
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

