/**
 * Fused training-mode batch norm over a contiguous `(N, C, L)` input, statistics per channel.
 *
 * Statistics use two passes in float64: the mean first, then the sum of squared deviations
 * from it. A one-pass `E[x²] - E[x]²` cancels catastrophically when |mean| >> std (inputs
 * around 1e4 with unit spread lose every digit in float32); the centred second pass does not.
 * Every pass walks memory in order, keeping one float64 accumulator per channel. Each pass
 * has an `L == 1` form, the `(N, C)` case, whose inner loop runs over channels: with the
 * generic nesting its inner loop would have length 1 and cost twice as much.
 *
 * The optional ReLU rides on the passes that already exist: the forward clamps each value as it
 * is stored, the backward masks dy as it reads it (twice, in both passes), so fusing costs no
 * extra walk over memory.
 */

/** Core's relu on the float32 value that would be stored: `v < 0 ? 0 : v` (NaN and -0 kept). */
function reluF32(v: number): number {
  const f = Math.fround(v);
  return f < 0 ? 0 : f;
}

/** Per-channel float64 sums of x over n and l, in memory order. */
function channelSum(x: Float32Array, n: number, c: number, l: number): Float64Array {
  const acc = new Float64Array(c);
  let q = 0;
  if (l === 1) {
    for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++, q++) acc[ch] += x[q];
    return acc;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let j = 0; j < l; j++, q++) s += x[q];
      acc[ch] += s;
    }
  }
  return acc;
}

/** Per-channel float64 sums of `(x - mu[c])²` over n and l, in memory order. */
function channelSquaredDeviation(
  x: Float32Array,
  n: number,
  c: number,
  l: number,
  mu: Float64Array,
): Float64Array {
  const acc = new Float64Array(c);
  let q = 0;
  if (l === 1) {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++, q++) {
        const d = x[q] - mu[ch];
        acc[ch] += d * d;
      }
    }
    return acc;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const m = mu[ch];
      let s = 0;
      for (let j = 0; j < l; j++, q++) {
        const d = x[q] - m;
        s += d * d;
      }
      acc[ch] += s;
    }
  }
  return acc;
}

/** `out = (x - center[c]) * scale[c] + shift[c]`, then relu when `relu`. */
function affinePerChannel(
  x: Float32Array,
  center: Float64Array,
  scale: Float64Array,
  shift: Float64Array,
  out: Float32Array,
  n: number,
  c: number,
  l: number,
  relu: boolean,
): void {
  let q = 0;
  if (l === 1) {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++, q++) {
        const v = (x[q] - center[ch]) * scale[ch] + shift[ch];
        out[q] = relu ? reluF32(v) : v;
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const m = center[ch];
      const s = scale[ch];
      const b = shift[ch];
      for (let j = 0; j < l; j++, q++) {
        const v = (x[q] - m) * s + b;
        out[q] = relu ? reluF32(v) : v;
      }
    }
  }
}

/**
 * Forward: writes `out` (ReLU'd when `relu`), `mean[c]` and the biased `variance[c]`; core never
 * passes an empty batch.
 */
export function batchNormTrain(
  x: Float32Array,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  out: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  n: number,
  c: number,
  l: number,
  eps: number,
  relu: boolean,
): void {
  const count = n * l;
  const mu = channelSum(x, n, c, l);
  for (let ch = 0; ch < c; ch++) mu[ch] /= count;
  const ss = channelSquaredDeviation(x, n, c, l, mu);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const biasedVar = ss[ch] / count;
    const inv = 1 / Math.sqrt(biasedVar + eps);
    mean[ch] = mu[ch];
    variance[ch] = biasedVar;
    // out = (x - mu) * inv * g + b, kept in centred form so the large mean cancels exactly.
    scale[ch] = inv * (gamma === null ? 1 : gamma[ch]);
    shift[ch] = beta === null ? 0 : beta[ch];
  }
  affinePerChannel(x, mu, scale, shift, out, n, c, l, relu);
}

/**
 * Closed-form backward through the batch statistics, with `invStd = 1/sqrt(variance + eps)`,
 * `xhat = (x - mean) * invStd`,
 * `M = N·L`: `dbeta = Σ dy`, `dgamma = Σ dy·xhat`, `dx = g·invStd/M · (M·dy - dbeta - xhat·dgamma)`.
 *
 * The saved mean is float32: at |mean| ≈ 1e4 its rounding (up to 5e-4) is a visible fraction
 * of a small std and would bias every xhat. The first pass therefore also sums x in float64;
 * when the saved mean is exactly the float32 rounding of that batch mean (as the forward
 * writes it), xhat uses the float64 mean instead. Σ dy·(x - mean) is corrected algebraically,
 * so this costs no extra pass.
 *
 * With `reluOut` (the forward's ReLU'd output), dy is read as relu's gradient gives it:
 * `reluOut > 0 ? dy : 0`.
 */
export function batchNormBackward(
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  gamma: Float32Array | null,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  n: number,
  c: number,
  l: number,
  eps: number,
  reluOut: Float32Array | null,
): void {
  // relu's gradient: dy where the output is > 0, else 0 (NaN outputs included)
  const dyAt = (q: number) => (reluOut === null || reluOut[q] > 0 ? dy[q] : 0);
  const sumDy = new Float64Array(c);
  const sumDyXc = new Float64Array(c); // Σ dy·(x - savedMean)
  const sumX = new Float64Array(c);
  let q = 0;
  if (l === 1) {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++, q++) {
        const g = dyAt(q);
        const v = x[q];
        sumDy[ch] += g;
        sumDyXc[ch] += g * (v - mean[ch]);
        sumX[ch] += v;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const m = mean[ch];
        let s = 0;
        let sx = 0;
        let xs = 0;
        for (let j = 0; j < l; j++, q++) {
          const g = dyAt(q);
          const v = x[q];
          s += g;
          sx += g * (v - m);
          xs += v;
        }
        sumDy[ch] += s;
        sumDyXc[ch] += sx;
        sumX[ch] += xs;
      }
    }
  }
  const count = n * l;
  const mu = new Float64Array(c);
  // dx = kc·(M·dy - Σdy - xhat·Σdy·xhat) = α·dy - β·(x - mu) - γ per channel.
  const alpha = new Float64Array(c);
  const beta = new Float64Array(c);
  const gammaTerm = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const exact = sumX[ch] / count;
    mu[ch] = count > 0 && Math.fround(exact) === mean[ch] ? exact : mean[ch];
    const inv = 1 / Math.sqrt(variance[ch] + eps);
    const sumDyXhat = (sumDyXc[ch] - (mu[ch] - mean[ch]) * sumDy[ch]) * inv;
    dbeta[ch] = sumDy[ch];
    dgamma[ch] = sumDyXhat;
    const kc = ((gamma === null ? 1 : gamma[ch]) * inv) / count;
    alpha[ch] = kc * count;
    beta[ch] = kc * inv * sumDyXhat;
    gammaTerm[ch] = kc * sumDy[ch];
  }
  q = 0;
  if (l === 1) {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++, q++)
        dx[q] = alpha[ch] * dyAt(q) - beta[ch] * (x[q] - mu[ch]) - gammaTerm[ch];
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const a = alpha[ch];
      const b = beta[ch];
      const m = mu[ch];
      const g = gammaTerm[ch];
      for (let j = 0; j < l; j++, q++) dx[q] = a * dyAt(q) - b * (x[q] - m) - g;
    }
  }
}
