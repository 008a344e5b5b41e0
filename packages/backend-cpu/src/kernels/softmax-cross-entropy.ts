/**
 * Fused softmax cross-entropy over rows of logits, stable for any logit magnitude: every
 * exponent is taken of `logit - rowMax` (≤ 0), and the loss is formed as
 * `(rowMax - logit[t]) + log(Σ exp)` so a huge common offset cancels before it can swallow
 * the small log term. The shift and the log-sum of shifted exponentials are saved for the
 * backward (a pointwise program in core).
 */

/**
 * `loss[r] = logSumExp(logits[r]) - logits[r, t_r]`, 0 for ignored rows; saves the row's
 * `shift[r]` (its maximum, 0 when -Infinity) and `logSum[r] = log Σ exp(logits[r] - shift[r])`.
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  loss: Float32Array,
  shiftOut: Float32Array,
  logSum: Float32Array,
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
    shiftOut[r] = shift;
    logSum[r] = logS;
    const t = targets[r];
    // Core rejects out-of-range targets first; one that reaches here gives NaN, as on every backend.
    loss[r] = t === ignoreIndex ? 0 : t >= 0 && t < classes ? shift - logits[base + t] + logS : Number.NaN;
  }
}
