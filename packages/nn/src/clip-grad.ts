/**
 * Gradient clipping, PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`:
 * both change the parameters' `.grad` in place and skip parameters without a gradient.
 */
import { full, noGrad, stack, type Tensor, tidy } from '@nabla/core';

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** The p of the p-norm (default 2); `Infinity` takes the largest absolute value. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite (default false). Reads the norm back. */
  errorIfNonfinite?: boolean;
}

function pNorm(g: Tensor, p: number): Tensor {
  if (p === Number.POSITIVE_INFINITY) return g.abs().max();
  if (p === 2) return g.square().sum().sqrt();
  if (p === 1) return g.abs().sum();
  return g
    .abs()
    .pow(p)
    .sum()
    .pow(1 / p);
}

function* withGrad(parameters: Iterable<Tensor>): Generator<Tensor> {
  for (const p of parameters) if (p.grad) yield p.grad;
}

/**
 * Scales the gradients so that their total norm (the norm of all of them concatenated) is at
 * most `maxNorm`: each is multiplied by `min(1, maxNorm / (total + 1e-6))`. Returns the total
 * norm before clipping as a scalar tensor (0 when no parameter has a gradient); read it with
 * `await norm.item()`. `normType: Infinity` uses the largest absolute gradient entry.
 */
export function clipGradNorm(
  parameters: Iterable<Tensor>,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Tensor {
  const normType = options.normType ?? 2;
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be positive, got ${normType}`);
  if (Number.isNaN(maxNorm)) throw new Error('clipGradNorm: maxNorm is NaN');
  const grads = [...withGrad(parameters)];
  if (grads.length === 0) return full([], 0);
  const total = noGrad(() =>
    tidy(() => {
      const norms = stack(grads.map((g) => pNorm(g, normType)));
      const totalNorm = normType === Number.POSITIVE_INFINITY ? norms.max() : pNorm(norms, normType);
      if (options.errorIfNonfinite && !Number.isFinite(totalNorm.itemSync())) {
        throw new Error(
          `The total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
            'To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`',
        );
      }
      const coef = totalNorm.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      for (const g of grads) g.assign(g.mul(coef));
      return totalNorm;
    }),
  );
  return total;
}

/** Clamps every gradient entry to `[-clipValue, clipValue]`, in place. */
export function clipGradValue(parameters: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new Error(`clipGradValue: clipValue must be non-negative, got ${clipValue}`);
  const grads = [...withGrad(parameters)];
  noGrad(() =>
    tidy(() => {
      for (const g of grads) g.assign(g.clamp(-clipValue, clipValue));
    }),
  );
}
