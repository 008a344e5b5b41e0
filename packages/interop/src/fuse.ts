/**
 * `fuseBatchNorm`: folds inference-mode BatchNorm1d into the Linear before it. With
 * s = γ / sqrt(running_var + eps) per output feature,
 *   W' = W · diag(s)  (row o scaled by s[o]),   b' = (b - running_mean) · s + β,
 * so Linear'(x) = BN(Linear(x)) for (N, features) inputs, one matmul instead of matmul + BN.
 */
import { noGrad, type Tensor, tidy } from '@nabla/core';
import { BatchNorm1d, Dropout, Flatten, Linear, type Module, ReLU, Sequential } from '@nabla/nn';

function foldable(linear: Module, next: Module | undefined): next is BatchNorm1d {
  return (
    linear instanceof Linear &&
    next instanceof BatchNorm1d &&
    next.trackRunningStats &&
    next.numFeatures === linear.outFeatures
  );
}

/** A new Linear computing `bn(linear(x))`. The computation stays on the tensors' backend. */
function fold(linear: Linear, bn: BatchNorm1d): Linear {
  const fused = new Linear(linear.inFeatures, linear.outFeatures);
  noGrad(() =>
    tidy(() => {
      let scale: Tensor = bn.runningVar!.add(bn.eps).rsqrt();
      if (bn.weight) scale = scale.mul(bn.weight);
      fused.weight.assign(linear.weight.mul(scale.unsqueeze(1)));
      let b: Tensor = bn.runningMean!.neg();
      if (linear.bias) b = b.add(linear.bias);
      b = b.mul(scale);
      if (bn.bias) b = b.add(bn.bias);
      fused.bias!.assign(b);
    }),
  );
  return fused;
}

/** An independent copy of a supported leaf layer (its own tensors, same values). */
function copyLayer(m: Module, path: string): Module {
  let copy: Module;
  if (m instanceof Linear) copy = new Linear(m.inFeatures, m.outFeatures, { bias: m.bias !== null });
  else if (m instanceof BatchNorm1d) {
    copy = new BatchNorm1d(m.numFeatures, {
      eps: m.eps,
      momentum: m.momentum,
      affine: m.affine,
      trackRunningStats: m.trackRunningStats,
    });
  } else if (m instanceof ReLU) copy = new ReLU();
  else if (m instanceof Dropout) copy = new Dropout(m.p);
  else if (m instanceof Flatten) copy = new Flatten(m.startDim, m.endDim);
  else {
    throw new Error(
      `fuseBatchNorm: cannot copy layer '${path}' (${m.constructor.name}); supported: Linear, BatchNorm1d, ReLU, Dropout, Flatten, Sequential`,
    );
  }
  copy.loadStateDict(m.stateDict());
  return copy;
}

function fuseSequential(seq: Sequential, prefix: string): Sequential {
  const out = new Sequential();
  const layers = [...seq];
  for (let i = 0; i < layers.length; i++) {
    const m = layers[i];
    const path = prefix ? `${prefix}.${i}` : String(i);
    const next = layers[i + 1];
    if (foldable(m, next)) {
      out.append(fold(m as Linear, next));
      i++; // the BatchNorm is consumed
    } else if (m instanceof Sequential) out.append(fuseSequential(m, path));
    else out.append(copyLayer(m, path));
  }
  return out;
}

/**
 * Returns a new model, in eval mode, in which every BatchNorm1d (with running statistics)
 * that directly follows a Linear of matching width is folded into that Linear. The input
 * model is not changed and shares no tensors with the result. Folding bakes in the
 * running statistics, so the model must be in eval mode; it assumes 2-D `(N, features)`
 * activations at the folded pairs (for `(N, C, L)` a BatchNorm1d normalizes dim 1, which a
 * Linear does not produce). Layer indices are renumbered: state-dict keys of the result
 * differ from the original's.
 *
 * @example
 * const fast = fuseBatchNorm(model.eval());
 * const y = fast.forward(x); // equals model.forward(x) within float32 rounding
 */
export function fuseBatchNorm(model: Sequential): Sequential {
  if (!(model instanceof Sequential)) {
    throw new TypeError(
      `fuseBatchNorm: expected a Sequential, got ${(model as object)?.constructor?.name ?? typeof model}`,
    );
  }
  const training = model.namedModules().filter(([, m]) => m.training);
  if (training.length) {
    throw new Error(
      `fuseBatchNorm: the model is in training mode (${training.map(([p, m]) => `'${p || '(root)'}' ${m.constructor.name}`).join(', ')}); ` +
        'folding uses the running statistics, so call model.eval() first',
    );
  }
  return fuseSequential(model, '').eval();
}
