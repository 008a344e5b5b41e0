/**
 * `LayerNorm`: normalisation over the trailing dimensions of each sample (PyTorch's
 * `nn.LayerNorm`), with per-element `weight` and `bias` of `normalizedShape`.
 * Unlike BatchNorm there are no running statistics: train and eval compute the same thing.
 */
import { noGrad, ones, type Tensor, tidy, zeros } from '@nabla/core';
import { Module } from './module.js';

/** Options of {@link LayerNorm} (and of `functional.layerNorm`). */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale (`weight`, starts at 1) and shift (`bias`, starts at 0). Default true. */
  elementwiseAffine?: boolean;
}

function normalizeShape(normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(
        `LayerNorm: normalizedShape must hold non-negative integers, got [${shape.join(', ')}]`,
      );
  }
  return shape;
}

function checkInput(x: Tensor, shape: readonly number[]): void {
  const k = shape.length;
  const tail = x.shape.slice(x.rank - k);
  if (x.rank < k || tail.some((d, i) => d !== shape[i])) {
    throw new Error(
      `Given normalized_shape=[${shape.join(', ')}], expected input with shape [*, ${shape.join(', ')}], ` +
        `but got input of size[${x.shape.join(', ')}]`,
    );
  }
}

/**
 * Functional layer norm, PyTorch's `F.layer_norm`: `(x - mean) / sqrt(var + eps) · weight +
 * bias` with the mean and biased variance over the last `normalizedShape.length` dims.
 *
 * The statistics are taken after shifting each sample by one of its own values (detached:
 * the result does not depend on the shift), so inputs around 1e4 with a small spread keep
 * full precision; gradients flow through the statistics by autograd.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const shape = normalizeShape(normalizedShape);
  if (shape.length === 0) throw new Error('LayerNorm: normalizedShape must have at least one dimension');
  checkInput(x, shape);
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])))
      throw new Error(
        `layer_norm: ${name} has shape [${t.shape.join(', ')}], expected normalized_shape [${shape.join(', ')}]`,
      );
  }
  const features = shape.reduce((a, b) => a * b, 1);
  const rows = x.size / Math.max(1, features);
  return tidy(() => {
    const flat = x.reshape([rows, features]);
    const pivot = noGrad(() => flat.detach().slice(1, 0, 1));
    const shifted = flat.sub(pivot);
    const centered = shifted.sub(shifted.mean(1, true));
    const invStd = centered.square().mean(1, true).add(eps).rsqrt();
    let y = centered.mul(invStd).reshape(x.shape);
    if (weight) y = y.mul(weight);
    if (bias) y = y.add(bias);
    return y;
  });
}

/**
 * Applies layer normalisation over the trailing dims `normalizedShape` of the input:
 * `(x - E[x]) / sqrt(Var[x] + eps) · weight + bias`, the biased variance, per sample.
 * `weight` (ones) and `bias` (zeros) have shape `normalizedShape` when `elementwiseAffine`.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = normalizeShape(normalizedShape);
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    if (this.elementwiseAffine) {
      this.registerParameter('weight', ones(this.normalizedShape, { requiresGrad: true }));
      this.registerParameter('bias', zeros(this.normalizedShape, { requiresGrad: true }));
    }
  }

  /** Per-element scale of shape `normalizedShape`, or null without `elementwiseAffine`. */
  get weight(): Tensor | null {
    return this.getParameter('weight');
  }

  /** Per-element shift of shape `normalizedShape`, or null without `elementwiseAffine`. */
  get bias(): Tensor | null {
    return this.getParameter('bias');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    // Python's float repr: exponent form below 1e-4 ('1e-05'), plain decimals otherwise ('0.001').
    const eps =
      this.eps !== 0 && Math.abs(this.eps) < 1e-4
        ? this.eps.toExponential().replace(/e([+-])(\d)$/, 'e$10$2')
        : String(this.eps);
    const shape =
      this.normalizedShape.length === 1
        ? `(${this.normalizedShape[0]},)`
        : `(${this.normalizedShape.join(', ')})`;
    return `${shape}, eps=${eps}, elementwise_affine=${this.elementwiseAffine ? 'True' : 'False'}`;
  }
}
