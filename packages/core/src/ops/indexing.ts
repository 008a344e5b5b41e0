/** Index ops: gather (and its adjoint), one-hot, concatenation and stacking. */
import { noGrad } from '../autograd.js';
import { activeCapture } from '../compile/hooks.js';
import { E } from '../expr/expr.js';
import { pointwiseProgram } from '../expr/program.js';
import { formatShape, normalizeAxis, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { fromHost, full } from './creation.js';
import { add, where } from './elementwise.js';
import { record, sameBackend } from './graph.js';
import { pointwise } from './pointwise.js';
import { dense, expand, slice, unsqueeze } from './views.js';

/**
 * Checks that every index lies in `[0, size)`. The check needs the values on the host, so
 * it runs where the backend reads synchronously (cpu, wasm); on WebGPU the kernels treat an
 * out-of-range index as reading 0 instead of crashing.
 */
export function checkIndexRange(index: Tensor, size: number, op: string, allow?: number): void {
  const backend = index.backendFor(op);
  if (!backend.readSync) return;
  // Inside a capture the values change per call: the replay checks its own indices first.
  const sink = activeCapture();
  if (sink) {
    sink.precheck(index, (t) => checkIndexRange(t, size, op, allow));
    return;
  }
  // Indices uploaded from the host and not written since: their range is known, no read-back.
  const known = index.storageFor(op).knownRange;
  if (known && known.min >= 0 && known.max < size) return;
  const values = index.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((v < 0 || v >= size) && v !== allow) {
      throw new Error(
        `${op}: index ${v} at position ${i} is out of bounds for dimension of size ${size} (expected 0 <= index < ${size})`,
      );
    }
  }
}

function requireIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') {
    throw new Error(
      `${op}: index must be an int32 tensor, got ${index.dtype} (non-integer indices are not allowed)`,
    );
  }
}

/**
 * @internal gather (`data` is x) or its adjoint scatterAdd (`data` is src, added into zeros) on
 * `[outer, size, inner]` views; no autograd. `out` has `outShape` (index's shape for gather);
 * `size` is the length along `dim` of the larger side: x for gather, out for scatterAdd.
 */
function indexKernel(
  kernel: 'gather' | 'scatterAdd',
  data: Tensor,
  index: Tensor,
  dim: number,
  outShape: Shape,
  op: string,
): Tensor {
  const backend = sameBackend(op, data, index);
  const ds = dense(data);
  const is = dense(index);
  const out = Tensor.empty(outShape, data.dtype, backend);
  if (out.size > 0) {
    const dataBuffer = ds.storageFor(op).buffer;
    const args = {
      index: is.storageFor(op).buffer,
      out: out.storageFor(op).buffer,
      outer: sizeOf(outShape.slice(0, dim)),
      k: index.shape[dim],
      inner: sizeOf(outShape.slice(dim + 1)),
    };
    if (kernel === 'gather') backend.kernels.gather({ ...args, x: dataBuffer, size: data.shape[dim] });
    else backend.kernels.scatterAdd({ ...args, src: dataBuffer, size: outShape[dim] });
  }
  if (ds !== data) ds.dispose();
  if (is !== index) is.dispose();
  return out;
}

/**
 * `out[..., j, ...] = x[..., index[..., j, ...], ...]` along `dim`, like `torch.gather`.
 * `index` is int32 with x's rank and x's sizes on every other dim.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('gather', index);
  const d = normalizeAxis(dim, x.rank, 'gather');
  if (index.rank !== x.rank || index.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new Error(
      `gather: index shape ${formatShape(index.shape)} must match input shape ${formatShape(x.shape)} in every dimension except dim ${d}`,
    );
  }
  checkIndexRange(index, x.shape[d], 'gather');
  const out = indexKernel('gather', x, index, d, index.shape, 'gather');
  const shape = x.shape;
  return record(out, 'gather', [x, null], [index], (g, [idx]) => [
    indexKernel('scatterAdd', g, idx, d, shape, 'gather'),
  ]);
}

/**
 * @internal `x` placed at `start` along `dim` of a zero tensor whose `dim` has size `total`
 * (the adjoint of slicing). Built from gather + where so no backend needs a strided write.
 */
export function placeAlong(x: Tensor, dim: number, start: number, total: number): Tensor {
  return noGrad(() => {
    const len = x.shape[dim];
    const shape = [...x.shape];
    shape[dim] = total;
    const pick = new Int32Array(total);
    const inside = new Int32Array(total);
    for (let j = 0; j < total; j++) {
      pick[j] = Math.min(Math.max(j - start, 0), Math.max(len - 1, 0));
      inside[j] = j >= start && j < start + len ? 1 : 0;
    }
    const along = shape.map((s, i) => (i === dim ? s : 1));
    const backend = x.backend;
    const pickT = fromHost(pick, along, { backend });
    const insideT = fromHost(inside, along, { backend });
    let result: Tensor;
    if (len === 0) {
      result = full(shape, 0, { dtype: x.dtype, backend });
    } else {
      const fullIndex = dense(pickT.expand(shape));
      const gathered = indexKernel('gather', x, fullIndex, dim, shape, 'slice');
      result = where(insideT, gathered, 0);
      fullIndex.dispose();
      gathered.dispose();
    }
    pickT.dispose();
    insideT.dispose();
    return result;
  });
}

/** Joins tensors along an existing `dim`; all other sizes must match. */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: expected a non-empty list of tensors');
  const first = tensors[0];
  if (first.rank === 0) throw new Error('concat: zero-dimensional tensors cannot be concatenated; use stack');
  const d = normalizeAxis(dim, first.rank, 'concat');
  sameBackend('concat', ...tensors);
  for (const [i, t] of tensors.entries()) {
    if (t.dtype !== first.dtype)
      throw new Error(`concat: dtype mismatch: tensor 0 is ${first.dtype}, tensor ${i} is ${t.dtype}`);
    if (t.rank !== first.rank || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new Error(
        `concat: sizes of tensors must match except in dimension ${d}: tensor 0 has shape ${formatShape(first.shape)}, tensor ${i} has shape ${formatShape(t.shape)}`,
      );
    }
  }
  const total = tensors.reduce((n, t) => n + t.shape[d], 0);
  const starts: number[] = [];
  let out = noGrad(() => {
    let acc: Tensor | null = null;
    let at = 0;
    for (const t of tensors) {
      starts.push(at);
      const placed = placeAlong(t, d, at, total);
      at += t.shape[d];
      if (acc === null) acc = placed;
      else {
        const next = add(acc, placed);
        acc.dispose();
        placed.dispose();
        acc = next;
      }
    }
    return acc!;
  });
  out = record(out, 'concat', tensors, [], (g) =>
    tensors.map((t, i) => slice(g, d, starts[i], starts[i] + t.shape[d]).contiguous()),
  );
  return out;
}

/** Joins same-shape tensors along a new `dim`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const d = normalizeAxis(dim, tensors[0].rank + 1, 'stack');
  for (const [i, t] of tensors.entries()) {
    if (t.rank !== tensors[0].rank || t.shape.some((s, k) => s !== tensors[0].shape[k])) {
      throw new Error(
        `stack: expects each tensor to be equal size, but got ${formatShape(tensors[0].shape)} at entry 0 and ${formatShape(t.shape)} at entry ${i}`,
      );
    }
  }
  const parts = tensors.map((t) => unsqueeze(t, d));
  const out = concat(parts, d);
  for (const p of parts) p.dispose();
  return out;
}

/**
 * One-hot encoding of int32 class indices: shape `[...index.shape, numClasses]`, int32.
 * `numClasses` defaults to `max(index) + 1`.
 */
export function oneHot(index: Tensor, numClasses?: number): Tensor {
  requireIndex('oneHot', index);
  if (numClasses === undefined) {
    const backend = index.backendFor('oneHot');
    if (!backend.readSync)
      throw new Error(`oneHot: pass numClasses explicitly on the '${backend.name}' backend`);
    numClasses = index.size ? Math.max(...index.dataSync()) + 1 : 0;
  }
  if (!Number.isInteger(numClasses) || numClasses < 0)
    throw new Error(`oneHot: numClasses must be a non-negative integer, got ${numClasses}`);
  const classes = numClasses;
  const checkClasses = (t: Tensor) => {
    if (!t.backendFor('oneHot').readSync) return;
    const values = t.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= classes) {
        throw new Error(
          `oneHot: class values must be in [0, ${classes}) (numClasses = ${classes}), got ${values[i]} at position ${i}`,
        );
      }
    }
  };
  // Inside a capture the values change per call: the replay checks its own first.
  const sink = activeCapture();
  if (sink) sink.precheck(index, checkClasses);
  else checkClasses(index);
  // `index[..., None] == c` where c is the element's position along the new last axis
  // (E.index): no tensor of class ids to allocate and upload on every call
  const program = pointwiseProgram('oneHot', {
    inputs: ['int32'],
    outputs: [E.eq(E.input(0, 'int32'), E.index(index.rank))],
  });
  return noGrad(() => {
    const column = unsqueeze(index, -1);
    const wide = expand(column, [...index.shape, classes]);
    const [out] = pointwise(program, [wide], [], 'oneHot');
    wide.dispose();
    column.dispose();
    return out;
  });
}
