// Fused kernels: batch norm (train forward, backward; each optionally with ReLU), softmax
// cross-entropy (forward).
// Pointers are byte addresses.
import { sexp, slog, vexp } from './vmath';

/** Rows folded into float32 partial sums before they are added to the float64 totals. */
const BLOCK: i32 = 64;
/** Bytes of scratch the batch-norm kernels need per channel. */
export const BN_SCRATCH_PER_CHANNEL: i32 = 7 * 4 + 3 * 8;

// @ts-ignore: decorator
@inline function f32p(base: usize, i: i32): usize { return base + (<usize>i << 2); }
// @ts-ignore: decorator
@inline function f64p(base: usize, i: i32): usize { return base + (<usize>i << 3); }

/** relu's gradient, four lanes: `y` where `m > 0`, else +0 (a NaN `m` gives 0). */
// @ts-ignore: decorator
@inline function maskV(y: v128, m: v128): v128 { return v128.and(y, f32x4.gt(m, f32x4.splat(0))); }
// @ts-ignore: decorator
@inline function maskS(y: f32, m: f32): f32 { return m > 0 ? y : 0; }
/** relu on four lanes, as core's `v < 0 ? 0 : v` (NaN and -0 kept). */
// @ts-ignore: decorator
@inline function reluV(v: v128): v128 { return v128.andnot(v, f32x4.lt(v, f32x4.splat(0))); }
// @ts-ignore: decorator
@inline function reluS(v: f32): f32 { return v < 0 ? 0 : v; }

/**
 * Per-channel sums over N and L of `d = x - ctr[c]`: S += d, Q += d*d (train), or, with `y`,
 * S += y, Q += y*d, R += d (backward). Float32 partials over short runs, float64 totals, so
 * a channel with mean 1e4 and std 1e-1 keeps its variance (the shift makes d small).
 * `masked`: y is read as relu's gradient gives it, `m > 0 ? y : 0` with m at the same offset.
 * The flags are constants at every call site, so each variant compiles without the branches.
 */
// @ts-ignore: decorator
@inline function bnAccumulate(x: usize, y: usize, m: usize, n: i32, c: i32, cs: i32, l: i32, ctr: usize, ps: usize, pq: usize, pr: usize, S: usize, Q: usize, R: usize, withY: bool, masked: bool): void {
  memory.fill(S, 0, <usize>c << 3);
  memory.fill(Q, 0, <usize>c << 3);
  memory.fill(R, 0, <usize>c << 3);
  if (l == 1) {
    // (N, C): vectorize across channels, one row at a time
    for (let r0 = 0; r0 < n; r0 += BLOCK) {
      memory.fill(ps, 0, <usize>c << 2);
      memory.fill(pq, 0, <usize>c << 2);
      memory.fill(pr, 0, <usize>c << 2);
      const r1 = min(n, r0 + BLOCK);
      for (let r = r0; r < r1; r++) {
        const xr = x + (<usize>r * <usize>cs << 2);
        const yr = y + (<usize>r * <usize>cs << 2);
        const mr = m + (<usize>r * <usize>cs << 2);
        let j = 0;
        for (; j + 4 <= c; j += 4) {
          const off = <usize>j << 2;
          const d = f32x4.sub(v128.load(xr + off), v128.load(ctr + off));
          const e = withY ? (masked ? maskV(v128.load(yr + off), v128.load(mr + off)) : v128.load(yr + off)) : d;
          v128.store(ps + off, f32x4.add(v128.load(ps + off), e));
          v128.store(pq + off, f32x4.add(v128.load(pq + off), f32x4.mul(e, d)));
          if (withY) v128.store(pr + off, f32x4.add(v128.load(pr + off), d));
        }
        for (; j < c; j++) {
          const off = <usize>j << 2;
          const d = load<f32>(xr + off) - load<f32>(ctr + off);
          const e = withY ? (masked ? maskS(load<f32>(yr + off), load<f32>(mr + off)) : load<f32>(yr + off)) : d;
          store<f32>(ps + off, load<f32>(ps + off) + e);
          store<f32>(pq + off, load<f32>(pq + off) + e * d);
          if (withY) store<f32>(pr + off, load<f32>(pr + off) + d);
        }
      }
      for (let j = 0; j < c; j++) {
        store<f64>(f64p(S, j), load<f64>(f64p(S, j)) + <f64>load<f32>(f32p(ps, j)));
        store<f64>(f64p(Q, j), load<f64>(f64p(Q, j)) + <f64>load<f32>(f32p(pq, j)));
        if (withY) store<f64>(f64p(R, j), load<f64>(f64p(R, j)) + <f64>load<f32>(f32p(pr, j)));
      }
    }
    return;
  }
  // (N, C, L): each (n, c) is a contiguous run of L; vectorize along it
  for (let r = 0; r < n; r++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (<usize>r * <usize>cs + <usize>ch) * <usize>l << 2;
      const cs = load<f32>(f32p(ctr, ch));
      const cv = f32x4.splat(cs);
      let s: f64 = 0, q: f64 = 0, rr: f64 = 0;
      for (let i0 = 0; i0 < l; i0 += BLOCK * 4) {
        const i1 = min(l, i0 + BLOCK * 4);
        let vs = f32x4.splat(0), vq = vs, vr = vs;
        let i = i0;
        for (; i + 4 <= i1; i += 4) {
          const off = base + (<usize>i << 2);
          const d = f32x4.sub(v128.load(x + off), cv);
          const e = withY ? (masked ? maskV(v128.load(y + off), v128.load(m + off)) : v128.load(y + off)) : d;
          vs = f32x4.add(vs, e);
          vq = f32x4.add(vq, f32x4.mul(e, d));
          if (withY) vr = f32x4.add(vr, d);
        }
        let ts: f32 = f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1) + f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3);
        let tq: f32 = f32x4.extract_lane(vq, 0) + f32x4.extract_lane(vq, 1) + f32x4.extract_lane(vq, 2) + f32x4.extract_lane(vq, 3);
        let tr: f32 = f32x4.extract_lane(vr, 0) + f32x4.extract_lane(vr, 1) + f32x4.extract_lane(vr, 2) + f32x4.extract_lane(vr, 3);
        for (; i < i1; i++) {
          const off = base + (<usize>i << 2);
          const d = load<f32>(x + off) - cs;
          const e = withY ? (masked ? maskS(load<f32>(y + off), load<f32>(m + off)) : load<f32>(y + off)) : d;
          ts += e;
          tq += e * d;
          tr += d;
        }
        s += <f64>ts;
        q += <f64>tq;
        rr += <f64>tr;
      }
      store<f64>(f64p(S, ch), load<f64>(f64p(S, ch)) + s);
      store<f64>(f64p(Q, ch), load<f64>(f64p(Q, ch)) + q);
      store<f64>(f64p(R, ch), load<f64>(f64p(R, ch)) + rr);
    }
  }
}

/**
 * `out = (x - ctr[c]) * A[c] + y * B[c] + C[c]` (the `y` term only when `withY`; y masked by
 * `m` as in {@link bnAccumulate} when `masked`), then relu when `relu`. Constant flags, as there.
 */
// @ts-ignore: decorator
@inline function bnApply(x: usize, y: usize, m: usize, out: usize, n: i32, c: i32, cs: i32, l: i32, ctr: usize, A: usize, B: usize, C: usize, withY: bool, masked: bool, relu: bool): void {
  if (l == 1) {
    for (let r = 0; r < n; r++) {
      const ro = <usize>r * <usize>cs << 2;
      let j = 0;
      for (; j + 4 <= c; j += 4) {
        const off = <usize>j << 2;
        let v = f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + ro + off), v128.load(ctr + off)), v128.load(A + off)), v128.load(C + off));
        if (withY) {
          const yv = masked ? maskV(v128.load(y + ro + off), v128.load(m + ro + off)) : v128.load(y + ro + off);
          v = f32x4.add(v, f32x4.mul(yv, v128.load(B + off)));
        }
        v128.store(out + ro + off, relu ? reluV(v) : v);
      }
      for (; j < c; j++) {
        const off = <usize>j << 2;
        let v = (load<f32>(x + ro + off) - load<f32>(ctr + off)) * load<f32>(A + off) + load<f32>(C + off);
        if (withY) {
          const ys = masked ? maskS(load<f32>(y + ro + off), load<f32>(m + ro + off)) : load<f32>(y + ro + off);
          v += ys * load<f32>(B + off);
        }
        store<f32>(out + ro + off, relu ? reluS(v) : v);
      }
    }
    return;
  }
  for (let r = 0; r < n; r++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (<usize>r * <usize>cs + <usize>ch) * <usize>l << 2;
      const cs = load<f32>(f32p(ctr, ch)), as = load<f32>(f32p(A, ch)), bs = load<f32>(f32p(B, ch)), zs = load<f32>(f32p(C, ch));
      const cv = f32x4.splat(cs), av = f32x4.splat(as), bv = f32x4.splat(bs), zv = f32x4.splat(zs);
      let i = 0;
      for (; i + 4 <= l; i += 4) {
        const off = base + (<usize>i << 2);
        let v = f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + off), cv), av), zv);
        if (withY) {
          const yv = masked ? maskV(v128.load(y + off), v128.load(m + off)) : v128.load(y + off);
          v = f32x4.add(v, f32x4.mul(yv, bv));
        }
        v128.store(out + off, relu ? reluV(v) : v);
      }
      for (; i < l; i++) {
        const off = base + (<usize>i << 2);
        let v = (load<f32>(x + off) - cs) * as + zs;
        if (withY) v += (masked ? maskS(load<f32>(y + off), load<f32>(m + off)) : load<f32>(y + off)) * bs;
        store<f32>(out + off, relu ? reluS(v) : v);
      }
    }
  }
}

/**
 * Training batch norm forward over contiguous (N, CS, L), for the `c` channels starting at
 * the pointers (a thread's share; rows are CS*L apart): writes mean[c], the biased var[c]
 * and out = (x - mean) / sqrt(var + eps) * gamma + beta (gamma/beta = 0: not affine), then
 * relu when `relu` is nonzero. Sums are shifted by the channel's first element (exact when
 * values cluster far from 0).
 */
export function bn_train(x: usize, gamma: usize, beta: usize, out: usize, mean: usize, variance: usize,
    n: i32, c: i32, cs: i32, l: i32, eps: f64, scratch: usize, relu: i32): void {
  const ctr = scratch, A = ctr + (<usize>c << 2), B = A + (<usize>c << 2), C = B + (<usize>c << 2);
  const ps = C + (<usize>c << 2), pq = ps + (<usize>c << 2), pr = pq + (<usize>c << 2);
  const S = pr + (<usize>c << 2), Q = S + (<usize>c << 3), R = Q + (<usize>c << 3);
  for (let ch = 0; ch < c; ch++) store<f32>(f32p(ctr, ch), load<f32>(x + (<usize>ch * <usize>l << 2)));
  bnAccumulate(x, 0, 0, n, c, cs, l, ctr, ps, pq, pr, S, Q, R, false, false);
  const M = <f64>n * <f64>l;
  for (let ch = 0; ch < c; ch++) {
    const ds = load<f64>(f64p(S, ch)) / M;
    const mu = <f64>load<f32>(f32p(ctr, ch)) + ds;
    const v = Math.max(0, load<f64>(f64p(Q, ch)) / M - ds * ds);
    const is = 1 / Math.sqrt(v + eps);
    store<f32>(f32p(mean, ch), <f32>mu);
    store<f32>(f32p(variance, ch), <f32>v);
    // out = (x - shift) * A + C with C = beta - (mean - shift) * A in float64: x - shift is
    // exact for clustered data, so the float32 rounding of a large mean never reaches `out`
    const a = is * (gamma != 0 ? <f64>load<f32>(f32p(gamma, ch)) : 1);
    store<f32>(f32p(A, ch), <f32>a);
    store<f32>(f32p(C, ch), <f32>((beta != 0 ? <f64>load<f32>(f32p(beta, ch)) : 0) - ds * a));
  }
  if (relu) bnApply(x, 0, 0, out, n, c, cs, l, ctr, A, B, C, false, false, true);
  else bnApply(x, 0, 0, out, n, c, cs, l, ctr, A, B, C, false, false, false);
}

/**
 * Batch norm backward through the batch statistics (see the Backend interface):
 * invStd = 1/sqrt(var + eps), dbeta = Σ dy, dgamma = Σ dy * xhat,
 * dx = gamma*invStd/M * (M*dy - dbeta - xhat*dgamma). With `reluOut` nonzero (the forward's
 * ReLU'd output), dy is read as relu's gradient gives it: reluOut > 0 ? dy : 0.
 */
export function bn_backward(dy: usize, x: usize, mean: usize, variance: usize, gamma: usize,
    dx: usize, dgamma: usize, dbeta: usize, reluOut: usize, n: i32, c: i32, cs: i32, l: i32, eps: f64, scratch: usize): void {
  const ctr = scratch, A = ctr + (<usize>c << 2), B = A + (<usize>c << 2), C = B + (<usize>c << 2);
  const ps = C + (<usize>c << 2), pq = ps + (<usize>c << 2), pr = pq + (<usize>c << 2);
  const S = pr + (<usize>c << 2), Q = S + (<usize>c << 3), R = Q + (<usize>c << 3);
  memory.copy(ctr, mean, <usize>c << 2);
  if (reluOut != 0) bnAccumulate(x, dy, reluOut, n, c, cs, l, ctr, ps, pq, pr, S, Q, R, true, true);
  else bnAccumulate(x, dy, 0, n, c, cs, l, ctr, ps, pq, pr, S, Q, R, true, false);
  const M = <f64>n * <f64>l;
  for (let ch = 0; ch < c; ch++) {
    const is = 1 / Math.sqrt(<f64>load<f32>(f32p(variance, ch)) + eps);
    const g = gamma != 0 ? <f64>load<f32>(f32p(gamma, ch)) : 1;
    // the float32 saved mean is only the shift: the exact batch mean is mean + R/M, and
    // Σ dy (x - exact mean) = Q - (R/M) S, so |mean| >> std costs no accuracy here either
    const dm = load<f64>(f64p(R, ch)) / M;
    const db = load<f64>(f64p(S, ch));
    const dg = (load<f64>(f64p(Q, ch)) - dm * db) * is;
    store<f32>(f32p(dbeta, ch), <f32>db);
    store<f32>(f32p(dgamma, ch), <f32>dg);
    const k = g * is;
    const a = -k * is * dg / M;
    store<f32>(f32p(A, ch), <f32>a);
    store<f32>(f32p(B, ch), <f32>k);
    store<f32>(f32p(C, ch), <f32>(-k * db / M - a * dm));
  }
  if (reluOut != 0) bnApply(x, dy, reluOut, dx, n, c, cs, l, ctr, A, B, C, true, true, false);
  else bnApply(x, dy, 0, dx, n, c, cs, l, ctr, A, B, C, true, false, false);
}

/** Largest element of a row of floats (SIMD with a scalar tail). */
// @ts-ignore: decorator
@inline function rowMax(p: usize, len: i32): f32 {
  let i = 0;
  let best: f32 = -Infinity;
  if (len >= 4) {
    let v = v128.load(p);
    for (i = 4; i + 4 <= len; i += 4) v = f32x4.max(v, v128.load(p + (<usize>i << 2)));
    best = Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  }
  for (; i < len; i++) best = Mathf.max(best, load<f32>(p + (<usize>i << 2)));
  return best;
}

/** Adds the four float32 lanes of `p` to two float64x2 accumulators (exact, no rounding of p). */
// @ts-ignore: decorator
@inline function sumLanes64(acc: v128, p: v128): v128 {
  const lo = f64x2.promote_low_f32x4(p);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(p, p, 2, 3, 2, 3));
  return f64x2.add(acc, f64x2.add(lo, hi));
}

/**
 * Per-row softmax cross-entropy: loss[r] = logSumExp(row) - row[target] (0 when ignored),
 * saving shift[r] (the row maximum, 0 when it is -Infinity) and logSum[r] = log Σ exp(row - shift)
 * for the backward, which forms exp((row - shift) - logSum) without rounding a large lse.
 */
export function softmax_ce(logits: usize, targets: usize, loss: usize, shift: usize, logSum: usize, rows: i32, classes: i32, ignore: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = logits + (<usize>r * <usize>classes << 2);
    let mx = rowMax(row, classes);
    if (mx == -Infinity) mx = 0;
    const vm = f32x4.splat(mx);
    // the normaliser is summed in float64: a float32 sum of many classes would lose digits
    let vs = f64x2.splat(0);
    let j = 0;
    for (; j + 4 <= classes; j += 4) vs = sumLanes64(vs, vexp(f32x4.sub(v128.load(row + (<usize>j << 2)), vm)));
    let s64: f64 = f64x2.extract_lane(vs, 0) + f64x2.extract_lane(vs, 1);
    for (; j < classes; j++) s64 += <f64>sexp(load<f32>(row + (<usize>j << 2)) - mx);
    const ls = slog(<f32>s64);
    store<f32>(f32p(shift, r), mx);
    store<f32>(f32p(logSum, r), ls);
    const t = load<i32>(targets + (<usize>r << 2));
    let v: f32 = 0;
    // (max - x[t]) + ln s: each term keeps its digits, where (max + ln s) - x[t] would first
    // round the log-sum-exp to float32 (an error of half an ulp of |lse|, not of the loss)
    if (t != ignore) v = t >= 0 && t < classes ? (mx - load<f32>(row + (<usize>t << 2))) + ls : NaN;
    store<f32>(f32p(loss, r), v);
  }
}
