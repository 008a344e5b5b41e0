/**
 * Fused softmax cross-entropy over rows of logits, stable for any logit magnitude: every
 * exponent is taken of `logit - rowMax` (≤ 0), and the log-sum-exp is saved for backward so
 * it never recomputes the row's maximum or sum.
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
    const lse = shift + Math.log(s);
    logSumExp[r] = lse;
    const t = targets[r];
    loss[r] = checkTarget(t, r, classes, ignoreIndex) ? lse - logits[base + t] : 0;
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
    const g = gradLoss[r];
    const lse = logSumExp[r];
    for (let c = 0; c < classes; c++) dlogits[base + c] = g * Math.exp(logits[base + c] - lse);
    dlogits[base + t] -= g;
  }
}
