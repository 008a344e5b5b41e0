/**
 * Moving tensors to another backend in place: the objects stay (so modules, optimizers and
 * anything else holding them keep working), their memory moves. What `Module.to` and
 * `Optimizer.to` are built on; PyTorch's `module.to(device)`.
 */
import type { TypedArray } from './backend.js';
import { getInitializedBackend } from './registry.js';
import type { Tensor } from './tensor.js';

/**
 * Moves each tensor (and its `.grad`) to the started backend `name`, in place. Every value is
 * read before anything moves, so a failure (a disposed tensor, a backend that is not started,
 * a failed read) leaves every tensor where it was. Tensors already there are left alone; a
 * tensor listed twice moves once. Only leaves (parameters, buffers, state) can move: a
 * tensor produced by a differentiable op is part of a graph on its backend.
 * @returns how many tensors moved.
 */
export async function moveTensors(tensors: Iterable<Tensor>, name: string): Promise<number> {
  const target = getInitializedBackend(name);
  const all = new Set<Tensor>();
  for (const t of tensors) {
    all.add(t);
    if (t.grad) all.add(t.grad);
  }
  const moving: Tensor[] = [];
  for (const t of all) {
    if (t.backendFor('to') === target) continue;
    if (!t.isLeaf)
      throw new Error(
        `to: only leaf tensors (parameters, buffers, optimizer state) move in place; this one (shape [${t.shape}]) was computed by an op. Use t.to('${name}') for a copy`,
      );
    moving.push(t);
  }
  const values: TypedArray[] = await Promise.all(moving.map((t) => t.data()));
  if (moving.some((t) => t.isDisposed))
    throw new Error('to: a tensor was disposed while the values were being read; nothing moved');
  for (let i = 0; i < moving.length; i++) moving[i]._rehome(target, values[i]);
  return moving.length;
}
