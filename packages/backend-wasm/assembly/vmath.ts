// Transcendental functions on four float32 lanes (f32x4), and scalar versions that run the
// same code on lane 0, so a kernel's SIMD body and its scalar tail give identical results.
// Measured maximum errors against float64 over a dense sweep of every float32 range:
// scripts/ulp-report.mjs (numbers in the package README; test/vmath-ulp.test.ts keeps them).

/**
 * e^x on four lanes. Cody–Waite reduction x = n·ln2 + r, |r| <= ln2/2, with ln2 split into a
 * 9-bit head (n·head is exact) and a tail; e^r = 1 + r + r²·P(r) with P the classic degree-5
 * single-precision minimax fit; 2^n applied as two factors 2^(n>>1)·2^(n-(n>>1)), each a normal
 * float for n in [-150, 129], so subnormal results are rounded once (gradual underflow) and
 * results beyond the float32 range overflow to +Infinity naturally. x < -104 gives +0
 * (e^x < 2^-150), -Infinity gives 0, +Infinity gives +Infinity, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  const hi = f32x4.splat(89.0), lo = f32x4.splat(-104.0);
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
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), bias), 23);
  const y = f32x4.mul(f32x4.mul(p, s1), s2);
  // below -104 (and -Infinity) the result is +0; NaN fails the comparison and stays NaN
  return v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, lo));
}

/**
 * ln x on four lanes: x = 2^k·m with m in [√½, √2), f = m - 1, s = f/(2+f), and
 * ln(1+f) = 2·atanh(s) = f - f²/2 + s·(f²/2 + R(s²)) with R the atanh series to s⁹
 * (s² <= 0.0295, so the next term is below 1e-9); ln 2 split in two for the k·ln2 term.
 * Subnormals are scaled by 2^23 first; x < 0 or NaN gives NaN, ±0 gives -∞, +∞ stays.
 */
export function vlog(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, tiny);
  let ix = i32x4.add(xs, i32x4.splat(0x3f800000 - 0x3f3504f3));
  let k = i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(127));
  k = i32x4.sub(k, v128.and(tiny, i32x4.splat(23)));
  ix = i32x4.add(v128.and(ix, i32x4.splat(0x7fffff)), i32x4.splat(0x3f3504f3));
  const f = f32x4.sub(ix, f32x4.splat(1));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2), f));
  const z = f32x4.mul(s, s);
  let r = f32x4.add(f32x4.mul(z, f32x4.splat(<f32>(2.0 / 9.0))), f32x4.splat(<f32>(2.0 / 7.0)));
  r = f32x4.add(f32x4.mul(z, r), f32x4.splat(<f32>(2.0 / 5.0)));
  r = f32x4.add(f32x4.mul(z, r), f32x4.splat(<f32>(2.0 / 3.0)));
  r = f32x4.mul(z, r);
  const hfsq = f32x4.mul(f32x4.mul(f32x4.splat(0.5), f), f);
  const kf = f32x4.convert_i32x4_s(k);
  const lo = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, r)), f32x4.mul(kf, f32x4.splat(9.0580006145e-6)));
  let y = f32x4.sub(f32x4.mul(kf, f32x4.splat(6.9313812256e-1)), f32x4.sub(f32x4.sub(hfsq, lo), f));
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(f32x4.splat(NaN), y, v128.not(f32x4.ge(x, f32x4.splat(0))));
}

/**
 * ln(1 + x) on four lanes as ln(u)·x/(u - 1) with u = 1 + x rounded (the quotient corrects
 * u's rounding error); x itself where u == 1 (keeps -0 and subnormals). -1 gives -∞, below -1 NaN.
 */
export function vlog1p(x: v128): v128 {
  const one = f32x4.splat(1);
  const u = f32x4.add(one, x);
  let y = f32x4.mul(vlog(u), f32x4.div(x, f32x4.sub(u, one)));
  y = v128.bitselect(x, y, f32x4.eq(u, one));
  return v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
}

/**
 * tanh on four lanes: x + x³·P(x²) for |x| < 0.625 (P a least-squares fit, degree 4), else
 * sign(x)·(1 - 2/(e^{2|x|} + 1)) (±1 once e^{2|x|} overflows). Keeps -0 and NaN.
 */
export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(-0.0061049447394907475)), f32x4.splat(0.021003637462854385));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-0.053852494806051254));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(0.13332782685756683));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-0.333333283662796));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x2, x), p));
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/**
 * erf on four lanes: x·P(x²) for |x| < 1 (degree 6), else sign(x)·(1 - e^{Q(|x| - 2.5)}) with
 * Q a fit of ln erfc on [1, 3.93] (degree 8); ±1 beyond 3.93, where erf rounds to 1. Keeps NaN.
 */
export function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(7.882497448008507e-5)), f32x4.splat(-0.0008018855005502701));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(0.005189312156289816));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-0.02685432881116867));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(0.11283597350120544));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-0.3761262595653534));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(1.1283791065216064));
  const small = f32x4.mul(x, p);
  const z = f32x4.sub(f32x4.min(ax, f32x4.splat(3.93)), f32x4.splat(2.5));
  let q = f32x4.add(f32x4.mul(z, f32x4.splat(1.6242348692685482e-6)), f32x4.splat(-1.3290235074236989e-5));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(7.735961844446138e-5));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(-0.00042020902037620544));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(0.0021651957649737597));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(-0.01085845660418272));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(-0.9438936710357666));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(-5.352680683135986));
  q = f32x4.add(f32x4.mul(z, q), f32x4.splat(-7.806815147399902));
  let big = f32x4.sub(f32x4.splat(1), vexp(q));
  big = v128.bitselect(f32x4.splat(1), big, f32x4.gt(ax, f32x4.splat(3.93)));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // NaN fails both comparisons: take the small branch, which keeps it NaN
  return v128.bitselect(small, signed, v128.not(f32x4.ge(ax, f32x4.splat(1))));
}

/**
 * 1 / (1 + e^-x) on four lanes, from s = e^-|x| (never overflows): 1/(1+s) for x >= 0 and
 * s/(1+s) below, so results down to the subnormal range keep their digits. Keeps NaN.
 */
export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1);
  const s = vexp(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(one, s);
  return v128.bitselect(f32x4.div(one, d), f32x4.div(s, d), f32x4.ge(x, f32x4.splat(0)));
}

// ---- scalar versions: the vector code on lane 0 (bit-identical to the SIMD results) ----

/** e^x (see {@link vexp}). */
// @ts-ignore: decorator
@inline export function sexp(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }
/** ln x (see {@link vlog}). */
// @ts-ignore: decorator
@inline export function slog(x: f32): f32 { return f32x4.extract_lane(vlog(f32x4.splat(x)), 0); }
/** ln(1 + x) (see {@link vlog1p}). */
// @ts-ignore: decorator
@inline export function slog1p(x: f32): f32 { return f32x4.extract_lane(vlog1p(f32x4.splat(x)), 0); }
/** tanh x (see {@link vtanh}). */
// @ts-ignore: decorator
@inline export function stanh(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }
/** erf x (see {@link verf}). */
// @ts-ignore: decorator
@inline export function serf(x: f32): f32 { return f32x4.extract_lane(verf(f32x4.splat(x)), 0); }
/** 1 / (1 + e^-x) (see {@link vsigmoid}). */
// @ts-ignore: decorator
@inline export function ssigmoid(x: f32): f32 { return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0); }
