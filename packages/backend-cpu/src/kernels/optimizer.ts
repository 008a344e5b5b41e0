/**
 * In-place optimizer updates with PyTorch's rules (`torch.optim.SGD`, `Adam`, `AdamW`).
 * Arithmetic runs in float64 per element and is stored back as float32.
 */
import type { AdamStepArgs, SgdStepArgs } from '@nabla/core';

/**
 * SGD: `g = grad + wd·p`; with momentum, `buf = firstStep ? g : momentum·buf + (1-dampening)·g`
 * and `g = nesterov ? g + momentum·buf : buf`; then `p -= lr·g`.
 */
export function sgdStep(
  param: Float32Array,
  grad: Float32Array,
  buf: Float32Array | null,
  args: SgdStepArgs,
): void {
  const { lr, momentum, dampening, weightDecay: wd, nesterov, firstStep } = args;
  const n = param.length;
  if (momentum === 0) {
    for (let i = 0; i < n; i++) param[i] -= lr * (grad[i] + wd * param[i]);
    return;
  }
  if (buf === null) throw new Error('cpu sgdStep: momentum is non-zero but no momentum buffer was given');
  const keep = 1 - dampening;
  for (let i = 0; i < n; i++) {
    const p = param[i];
    const g = grad[i] + wd * p;
    // Round the buffer to float32 before using it, as PyTorch stores it between the two steps.
    const b = Math.fround(firstStep ? g : momentum * buf[i] + keep * g);
    buf[i] = b;
    param[i] = p - lr * (nesterov ? g + momentum * b : b);
  }
}

/**
 * Adam/AdamW: L2 (`g += wd·p`) or decoupled (`p *= 1 - lr·wd`) decay; `m = β1·m + (1-β1)·g`;
 * `v = β2·v + (1-β2)·g²`; with amsgrad `vMax = max(vMax, v)` is used for `v̂`;
 * `p -= (lr / (1-β1^t)) · m / (sqrt(v̂) / sqrt(1-β2^t) + eps)`.
 */
export function adamStep(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
  args: AdamStepArgs,
): void {
  const { lr, beta1, beta2, eps, weightDecay: wd, decoupled, amsgrad, step } = args;
  if (!(step >= 1)) throw new RangeError(`cpu adamStep: step must be 1-based, got ${step}`);
  if (amsgrad && vMax === null) throw new Error('cpu adamStep: amsgrad needs a vMax buffer');
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const decay = decoupled ? 1 - lr * wd : 1;
  const l2 = decoupled ? 0 : wd;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const p = Math.fround(param[i] * decay);
    const g = grad[i] + l2 * p;
    const mi = Math.fround(beta1 * m[i] + (1 - beta1) * g);
    let vi = Math.fround(beta2 * v[i] + (1 - beta2) * g * g);
    m[i] = mi;
    v[i] = vi;
    if (vMax !== null && amsgrad) {
      if (vMax[i] > vi) vi = vMax[i];
      vMax[i] = vi;
    }
    param[i] = p - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
