/** Shared plumbing for ops: recording autograd nodes and checking operands. */
import { type BackwardFn, type Edge, GradNode } from '../autograd.js';
import { formatShape } from '../shape.js';
import { needsGrad, type Tensor } from '../tensor.js';

/**
 * Attaches a backward rule to `out` when gradients are on and an input requires them.
 * `saved` tensors are kept alive (as aliases) until the graph is freed.
 */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly (Tensor | null)[],
  saved: readonly Tensor[],
  fn: BackwardFn,
): Tensor {
  if (!needsGrad(inputs)) return out;
  const edges = new Array<Edge>(inputs.length);
  for (let k = 0; k < inputs.length; k++) {
    const t = inputs[k];
    edges[k] = !t?.requiresGrad ? null : t.gradFn ? { node: t.gradFn } : { leaf: t };
  }
  const aliases = new Array<Tensor>(saved.length);
  for (let k = 0; k < saved.length; k++) aliases[k] = saved[k].alias();
  out.setGradFn(new GradNode(op, edges, aliases, fn));
  return out;
}

/** Throws unless every tensor lives on the same backend; returns that backend. */
export function sameBackend(op: string, ...tensors: Tensor[]) {
  return backendOfAll(op, tensors);
}

/** {@link sameBackend} over an array (no rest-argument copy on the per-op path). */
export function backendOfAll(op: string, tensors: readonly Tensor[]) {
  const backend = tensors[0].backendFor(op);
  for (let k = 1; k < tensors.length; k++) {
    const b = tensors[k].backendFor(op);
    if (b !== backend) {
      throw new Error(
        `${op}: tensors are on different backends, '${backend.name}' and '${b.name}'; move one with t.to('${backend.name}')` +
          ` (a whole model with \`await model.to('${backend.name}')\`, an optimizer's state with \`await opt.to('${backend.name}')\`)`,
      );
    }
  }
  return backend;
}

/** Throws unless the tensor is float32 (for ops that have no integer meaning). */
export function requireFloat(op: string, t: Tensor): void {
  t.storageFor(op); // a disposed input is reported under this op's name
  if (t.dtype !== 'float32')
    throw new Error(`${op}: expected a float32 tensor, got ${t.dtype} (cast with .float())`);
}

/** Throws unless the tensor has the given rank(s). */
export function requireRank(op: string, t: Tensor, ...ranks: number[]): void {
  if (!ranks.includes(t.rank)) {
    throw new Error(`${op}: expected a ${ranks.join('D or ')}D tensor, got shape ${formatShape(t.shape)}`);
  }
}
