/**
 * Fused softmax cross-entropy over rows of logits, stable for any logit magnitude: every
 * exponent is taken of `logit - rowMax` (≤ 0), and the loss is formed as
 * `(rowMax - logit[t]) + log(Σ exp)` so a huge common offset cancels before it can swallow
 * the small log term. The log-sum-exp is saved for backward, which needs no row maximum.
 */

function checkTarget(t: number, r: number, classes: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (t < 0 || t >= classes) {
    throw new RangeError(
      `cpu softmaxCrossEntropy: target ${t} of row ${r} is outside [0, ${classes}) and is not ignoreIndex ${ignoreIndex}`,
    );
  }
  return true;
}

/** `loss[r] = logSumExp(logits[r]) - logits[r, t_r]`, 0 for ignored rows; saves `logSumExp[r]`. */
export function softmaxCrossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  loss: Float32Array,
  logSumExp: Float32Array,
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = logits[base + c];
      if (v > max || Number.isNaN(v)) max = v;
    }
    // All -Infinity (or no classes): keep max finite so the row does not become NaN via -Inf - -Inf.
    const shift = max === -Infinity ? 0 : max;
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[base + c] - shift);
    const logS = Math.log(s);
    logSumExp[r] = shift + logS;
    const t = targets[r];
    loss[r] = checkTarget(t, r, classes, ignoreIndex) ? shift - logits[base + t] + logS : 0;
  }
}

/** `dlogits[r, c] = g[r] · (softmax[r, c] - [c == t_r])`; zero rows for ignored targets. */
export function softmaxCrossEntropyBackward(
  logits: Float32Array,
  targets: Int32Array,
  logSumExp: Float32Array,
  gradLoss: Float32Array,
  dlogits: Float32Array,
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const t = targets[r];
    if (!checkTarget(t, r, classes, ignoreIndex)) {
      dlogits.fill(0, base, base + classes);
      continue;
    }
    // The saved log-sum-exp is float32, so exp(logit - lse) can be off by the rounding of
    // lse (relative 6e-8 of |lse|, which matters for large logits). Renormalising by the
    // sum of those exponentials cancels that error exactly at the cost of one more pass.
    const lse = logSumExp[r];
    let s = 0;
    for (let c = 0; c < classes; c++) {
      const v = Math.exp(logits[base + c] - lse);
      dlogits[base + c] = v;
      s += v;
    }
    const g = gradLoss[r];
    const k = g / s;
    for (let c = 0; c < classes; c++) dlogits[base + c] *= k;
    dlogits[base + t] -= g;
  }
}
