/**
 * Accurate float32 transcendental functions in WGSL, for every kernel that needs exp, log,
 * log1p, tanh, erf or sigmoid. WGSL's built-in `exp`/`log` only promise an error of about
 * `3 + 2·|x|` ulp (and drivers use exactly that freedom: `exp2(x·log2e)`), which is far
 * from PyTorch's float32 on large arguments; these promise a few ulp over the whole range.
 *
 * Method (the same as the wasm backend's assembly/vmath.ts):
 * - `nb_exp`: Cody–Waite reduction `x = n·ln2 + r`, `|r| <= ln2/2`, ln 2 split into a 9-bit
 *   head (so `n·head` is exact) and a tail; `e^r = 1 + r + r²·P(r)` with P the classic
 *   degree-5 single-precision minimax fit; `2^n` applied as two normal factors, so results
 *   overflow to +∞ naturally and reach the subnormal range by one rounding (where the device
 *   keeps subnormals: WGSL lets it flush them to zero).
 * - `nb_log`: `x = 2^k·m`, `m` in [√½, √2), `ln m = 2·atanh(s)`, `s = (m-1)/(m+1)`, the atanh
 *   series to s⁹, ln 2 split in two for `k·ln2`. ±0 → -∞, x < 0 or NaN → NaN, +∞ → +∞.
 * - `nb_log1p`: the same atanh series on `f = x` itself near 0, `nb_log(1 + x)` elsewhere.
 * - `nb_tanh`: an odd polynomial below 0.625, else `sign(x)·(1 - 2/(e^{2|x|}+1))`.
 * - `nb_erf`: `x·P(x²)` below 1, else `sign(x)·(1 - e^{Q(|x|-2.5)})` (Q fits ln erfc), ±1 beyond 3.93.
 * - `nb_sigmoid`: from `s = e^{-|x|}`: `1/(1+s)` or `s/(1+s)`, never overflowing.
 *
 * Measured maximum errors (test/wgsl-math.test.ts, against float64) are in the package README.
 * The source is self-contained (its own NaN test and infinity), to be pasted into any shader.
 */
export const WGSL_MATH = `
fn nb_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nb_inf() -> f32 { let bits = 0x7f800000u; return bitcast<f32>(bits); }

fn nb_exp(x: f32) -> f32 {
  if (nb_isnan(x)) { return x; }
  if (x < -104.0) { return 0.0; }
  let xc = min(x, 89.0);
  let n = round(xc * 1.44269504);
  var r = xc - n * 0.693359375;
  r = r - n * -2.12194440e-4;
  var p = 1.9875691500e-4;
  p = p * r + 1.3981999507e-3;
  p = p * r + 8.3334519073e-3;
  p = p * r + 4.1665795894e-2;
  p = p * r + 1.6666665459e-1;
  p = p * r + 5.0000001201e-1;
  p = (p * (r * r) + r) + 1.0;
  let ni = i32(n);
  let n1 = ni >> 1u;
  let s1 = bitcast<f32>((n1 + 127) << 23u);
  let s2 = bitcast<f32>((ni - n1 + 127) << 23u);
  return (p * s1) * s2;
}

// k·ln2 + ln(1 + f) for f in [√½ - 1, √2 - 1): ln(1+f) = f - f²/2 + s·(f²/2 + R(s²)), s = f/(2+f)
fn nb_log_core(f: f32, kf: f32) -> f32 {
  let s = f / (2.0 + f);
  let z = s * s;
  var r = z * ${(2 / 9).toPrecision(9)} + ${(2 / 7).toPrecision(9)};
  r = z * r + ${(2 / 5).toPrecision(9)};
  r = z * r + ${(2 / 3).toPrecision(9)};
  r = z * r;
  let hfsq = 0.5 * f * f;
  let lo = s * (hfsq + r) + kf * 9.0580006145e-6;
  return kf * 6.9313812256e-1 - ((hfsq - lo) - f);
}

fn nb_log(x: f32) -> f32 {
  if (nb_isnan(x) || x < 0.0) { let bits = 0x7fc00000u; return bitcast<f32>(bits); }
  if (x == 0.0) { return -nb_inf(); }
  if (x == nb_inf()) { return x; }
  var xs = x;
  var k = 0;
  if (x < 1.17549435e-38) {
    xs = x * 8388608.0;
    k = -23;
  }
  var ix = bitcast<i32>(xs) + (0x3f800000 - 0x3f3504f3);
  k += (ix >> 23u) - 127;
  ix = (ix & 0x7fffff) + 0x3f3504f3;
  return nb_log_core(bitcast<f32>(ix) - 1.0, f32(k));
}

// Near 0, x itself is the f of nb_log_core (no rounding of 1 + x at all); elsewhere ln(1 + x)
// loses at most half an ulp of 1 + x. (Not the ln(u)·x/(u-1) trick: shader compilers may
// simplify (1 + x) - 1 to x.)
fn nb_log1p(x: f32) -> f32 {
  if (x > -0.29289323 && x < 0.41421357) { return nb_log_core(x, 0.0); }
  return nb_log(1.0 + x);
}

fn nb_tanh(x: f32) -> f32 {
  let ax = abs(x);
  if (!(ax >= 0.625)) {
    let x2 = x * x;
    var p = x2 * -0.0061049447394907475 + 0.021003637462854385;
    p = x2 * p - 0.053852494806051254;
    p = x2 * p + 0.13332782685756683;
    p = x2 * p - 0.333333283662796;
    return x + (x2 * x) * p;
  }
  let big = 1.0 - 2.0 / (nb_exp(ax + ax) + 1.0);
  return select(big, -big, x < 0.0);
}

fn nb_erf(x: f32) -> f32 {
  let ax = abs(x);
  if (!(ax >= 1.0)) {
    let x2 = x * x;
    var p = x2 * 7.882497448008507e-5 - 0.0008018855005502701;
    p = x2 * p + 0.005189312156289816;
    p = x2 * p - 0.02685432881116867;
    p = x2 * p + 0.11283597350120544;
    p = x2 * p - 0.3761262595653534;
    p = x2 * p + 1.1283791065216064;
    return x * p;
  }
  var big = 1.0;
  if (ax <= 3.93) {
    let z = ax - 2.5;
    var q = z * 1.6242348692685482e-6 - 1.3290235074236989e-5;
    q = z * q + 7.735961844446138e-5;
    q = z * q - 0.00042020902037620544;
    q = z * q + 0.0021651957649737597;
    q = z * q - 0.01085845660418272;
    q = z * q - 0.9438936710357666;
    q = z * q - 5.352680683135986;
    q = z * q - 7.806815147399902;
    big = 1.0 - nb_exp(q);
  }
  return select(big, -big, x < 0.0);
}

fn nb_sigmoid(x: f32) -> f32 {
  let s = nb_exp(-abs(x));
  let d = 1.0 + s;
  return select(s / d, 1.0 / d, x >= 0.0);
}
`;
