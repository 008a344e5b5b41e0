/** The multilayer perceptron most examples use. */
import { BatchNorm1d, Linear, type Module, ReLU, Sequential } from '@nabla/nn';

/**
 * `inputs → [Linear → (BatchNorm1d) → ReLU] per hidden width → Linear → outputs`. With batch
 * norm the hidden Linear layers keep their bias, as in most PyTorch code, although the
 * normalisation cancels it.
 */
export function mlp(inputs: number, hidden: number[], outputs: number, batchNorm: boolean): Sequential {
  const layers: Module[] = [];
  let width = inputs;
  for (const h of hidden) {
    layers.push(new Linear(width, h));
    if (batchNorm) layers.push(new BatchNorm1d(h));
    layers.push(new ReLU());
    width = h;
  }
  layers.push(new Linear(width, outputs));
  return new Sequential(...layers);
}
