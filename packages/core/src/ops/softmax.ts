/** Softmax family, stable for large logits (the row maximum is subtracted first). */
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireFloat } from './graph.js';
import { max, sum } from './reduce.js';

function rowMax(x: Tensor, d: number): Tensor {
  // The shift cancels mathematically, so it carries no gradient.
  return noGrad(() => max(x.detach(), d, true));
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** `log(Σ exp(x))` along `dim`, computed without overflow. */
export function logSumExp(x: Tensor, dim: number, keepDim = false): Tensor {
  requireFloat('logSumExp', x);
  const d = normalizeAxis(dim, x.rank, 'logSumExp');
  return tidy(() => {
    // A finite shift keeps rows of all -inf at -inf (and +inf at +inf) instead of inf - inf = NaN.
    const m = rowMax(x, d).clamp(-FLOAT32_MAX, FLOAT32_MAX);
    const lse = sum(x.sub(m).exp(), d, true).log().add(m);
    return keepDim ? lse : lse.squeeze(d);
  });
}

/** `exp(x) / Σ exp(x)` along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  requireFloat('softmax', x);
  const d = normalizeAxis(dim, x.rank, 'softmax');
  return tidy(() => {
    const e = x.sub(rowMax(x, d)).exp();
    return e.div(sum(e, d, true));
  });
}

/**
 * `x - logSumExp(x)` along `dim`, as `(x - max) - log Σ exp(x - max)`: subtracting the shift
 * first keeps full precision at large logits (`1000 - 1000.3133` would round to float32's
 * 6e-5 spacing near 1000).
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  requireFloat('logSoftmax', x);
  const d = normalizeAxis(dim, x.rank, 'logSoftmax');
  return tidy(() => {
    const m = rowMax(x, d).clamp(-FLOAT32_MAX, FLOAT32_MAX);
    const shifted = x.sub(m);
    return shifted.sub(sum(shifted.exp(), d, true).log());
  });
}
