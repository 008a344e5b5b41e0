// Vector transcendental functions (f32x4), for the kernels that are bound by exp.

/**
 * e^x on four lanes: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial (the
 * classic single-precision minimax coefficients), 2^n by building the exponent bits.
 * About 1 ulp; below -87.3 gives 0, above 88.7 gives +Infinity, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  const hi = f32x4.splat(88.72283), lo = f32x4.splat(-87.33654);
  const xc = f32x4.max(f32x4.min(x, hi), lo);
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // 2^n as 2^(n>>1) · 2^(n - n>>1): each factor stays a normal float for n in [-126, 128]
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), bias), 23);
  let y = f32x4.mul(f32x4.mul(p, s1), s2);
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, lo));
  return v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, hi));
}
