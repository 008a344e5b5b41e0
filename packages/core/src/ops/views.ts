/**
 * Shape ops. Most are views (new shape/strides over the same storage, no copy):
 * reshape where the strides allow it (as in PyTorch), transpose, permute, expand, squeeze,
 * unsqueeze, slice.
 */

import type { DType } from '../backend.js';
import { E } from '../expr/expr.js';
import { type PointwiseProgram, pointwiseProgram } from '../expr/program.js';
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  contiguousStrides,
  formatShape,
  isContiguous,
  normalizeAxis,
  type Shape,
  sizeOf,
  viewStrides,
} from '../shape.js';
import { Tensor } from '../tensor.js';
import { record } from './graph.js';
import { placeAlong } from './indexing.js';
import { pointwise } from './pointwise.js';
import { sumToShape } from './reduce.js';

function viewOf(x: Tensor, shape: Shape, strides: readonly number[], offset: number, op: string): Tensor {
  return new Tensor(x.storageFor(op), shape, strides, offset);
}

const COPY: Record<DType, PointwiseProgram> = {
  float32: pointwiseProgram('copy', { inputs: ['float32'], outputs: [E.input(0, 'float32')] }),
  int32: pointwiseProgram('copy', { inputs: ['int32'], outputs: [E.input(0, 'int32')] }),
};

/** @internal a row-major copy, outside autograd. */
export function contiguousCopy(x: Tensor, op = 'contiguous'): Tensor {
  x.storageFor(op);
  return pointwise(COPY[x.dtype], [x], [], op)[0];
}

/** @internal `x` itself when it is row-major over its whole storage, else a copy (no autograd). */
export function dense(x: Tensor): Tensor {
  return x.isDense ? x : contiguousCopy(x);
}

function resolveShape(shape: readonly number[], size: number, op: string, input: Shape): number[] {
  const inferred = shape.indexOf(-1);
  if (inferred !== shape.lastIndexOf(-1)) throw new Error(`${op}: only one dimension can be inferred (-1)`);
  const out = [...shape];
  if (inferred >= 0) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || size % known !== 0) {
      throw new Error(`${op}: shape '${formatShape(shape)}' is invalid for input of size ${size}`);
    }
    out[inferred] = size / known;
  }
  checkShape(out, op);
  if (sizeOf(out) !== size)
    throw new Error(
      `${op}: shape '${formatShape(shape)}' is invalid for input of size ${size} (input shape ${formatShape(input)})`,
    );
  return out;
}

/** Same data, new shape (`-1` infers one dimension). Copies only when the layout requires it. */
/**
 * `x` under a new shape: a view when its strides allow one (as PyTorch's reshape: transposed,
 * expanded or sliced data often does), else a row-major copy.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(shape, x.size, 'reshape', x.shape);
  const strides = viewStrides(x.shape, x.strides, target);
  let out: Tensor;
  if (strides) out = viewOf(x, target, strides, x.offset, 'reshape');
  else {
    const copy = contiguousCopy(x, 'reshape');
    out = viewOf(copy, target, contiguousStrides(target), copy.offset, 'reshape');
    copy.dispose();
  }
  const inputShape = x.shape;
  return record(out, 'reshape', [x], [], (g) => [reshape(g, inputShape)]);
}

/** Like {@link reshape} but never copies: throws when the strides do not allow a view. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(shape, x.size, 'view', x.shape);
  if (!viewStrides(x.shape, x.strides, target)) {
    throw new Error(
      `view: size and stride are not compatible with the input (shape ${formatShape(x.shape)}, strides ${formatShape(x.strides)}: at least one dimension spans across two contiguous subspaces); use .reshape(...) instead`,
    );
  }
  return reshape(x, shape);
}

/** Merges dims `startDim..endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis(startDim, x.rank, 'flatten');
  const e = normalizeAxis(endDim, x.rank, 'flatten');
  if (s > e) throw new Error(`flatten: startDim (${startDim}) cannot come after endDim (${endDim})`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Reorders dimensions: `out.shape[i] = x.shape[dims[i]]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank) {
    throw new Error(
      `permute: number of dims don't match (input has ${x.rank} dims, got ${dims.length}: [${dims.join(', ')}])`,
    );
  }
  const rank = dims.length;
  const shape = new Array<number>(rank);
  const strides = new Array<number>(rank);
  const norm = new Array<number>(rank);
  for (let i = 0; i < rank; i++) norm[i] = normalizeAxis(dims[i], rank, 'permute');
  const inverse = new Array<number>(rank).fill(-1);
  for (let i = 0; i < rank; i++) {
    const d = norm[i];
    if (inverse[d] !== -1) throw new Error(`permute: repeated dim in [${dims.join(', ')}]`);
    inverse[d] = i;
    shape[i] = x.shape[d];
    strides[i] = x.strides[d];
  }
  const out = viewOf(x, shape, strides, x.offset, 'permute');
  return record(out, 'permute', [x], [], (g) => [permute(g, inverse)]);
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  x.storageFor('transpose');
  if (x.rank === 0) return permute(x, []);
  const a = normalizeAxis(dim0, x.rank, 'transpose');
  const b = normalizeAxis(dim1, x.rank, 'transpose');
  const dims = new Array<number>(x.rank);
  for (let i = 0; i < dims.length; i++) dims[i] = i;
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts size-1 dims (and new leading dims) to `shape` without copying; `-1` keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.rank) {
    throw new Error(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${x.rank})`,
    );
  }
  const lead = shape.length - x.rank;
  const outShape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const src = i - lead;
    const have = src >= 0 ? x.shape[src] : 1;
    const want = shape[i] === -1 && src >= 0 ? have : shape[i];
    if (!Number.isInteger(want) || want < 0)
      throw new Error(`expand: invalid size ${shape[i]} at dimension ${i}`);
    if (have !== want && have !== 1) {
      throw new Error(
        `expand: the expanded size of the tensor (${want}) must match the existing size (${have}) at non-singleton dimension ${i}. Target sizes: ${formatShape(shape)}. Tensor sizes: ${formatShape(x.shape)}`,
      );
    }
    outShape.push(want);
    strides.push(src >= 0 && have === want ? x.strides[src] : 0);
  }
  const out = viewOf(x, outShape, strides, x.offset, 'expand');
  const inputShape = x.shape;
  return record(out, 'expand', [x], [], (g) => [sumToShape(g, inputShape)]);
}

/** Removes size-1 dims (only `dim` when given; a no-op if that dim is not 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const d = normalizeAxis(dim, x.rank, 'squeeze');
  if (x.rank === 0 || x.shape[d] !== 1) return reshape(x, x.shape);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== d),
  );
}

/** Inserts a size-1 dim at `dim` (`-1` appends). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeAxis(dim, x.rank + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  const strides = [...x.strides];
  strides.splice(d, 0, d < x.rank ? x.strides[d] * x.shape[d] : 1);
  const out = viewOf(x, shape, strides, x.offset, 'unsqueeze');
  const inputShape = x.shape;
  return record(out, 'unsqueeze', [x], [], (g) => [reshape(g, inputShape)]);
}

/** Elements `start..end-1` along `dim` (Python-style negative and out-of-range bounds), as a view. */
export function slice(x: Tensor, dim: number, start = 0, end?: number): Tensor {
  const d = normalizeAxis(dim, x.rank, 'slice');
  const n = x.shape[d];
  const clampIndex = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new Error(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  const s = clampIndex(start);
  const e = Math.max(s, clampIndex(end ?? n));
  const shape = [...x.shape];
  shape[d] = e - s;
  const out = viewOf(x, shape, x.strides, x.offset + s * x.strides[d], 'slice');
  return record(out, 'slice', [x], [], (g) => [placeAlong(g, d, s, n)]);
}

/** A row-major tensor with the same values: `x` itself when already contiguous. */
export function contiguous(x: Tensor): Tensor {
  if (isContiguous(x.shape, x.strides)) return x;
  return clone(x);
}

/** A copy with its own memory; gradients flow through. */
export function clone(x: Tensor): Tensor {
  const out = contiguousCopy(x, 'clone');
  return record(out, 'clone', [x], [], (g) => [g]);
}

/** Copies `source`'s values into `target`'s memory in place (no autograd); `source` broadcasts to `target`'s shape. */
export function assign(target: Tensor, source: Tensor): void {
  if (target.dtype !== source.dtype)
    throw new Error(`assign: dtype mismatch: target is ${target.dtype}, source is ${source.dtype}`);
  if (!target.isDense) throw new Error('assign: the target must own contiguous memory (not a view)');
  const backend = target.backendFor('assign');
  if (source.backendFor('assign') !== backend) {
    throw new Error(`assign: tensors are on different backends, '${backend.name}' and '${source.backend}'`);
  }
  const shape = broadcastShapes(target.shape, source.shape, 'assign');
  if (shape.length !== target.rank || shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `assign: source shape ${formatShape(source.shape)} does not broadcast to target shape ${formatShape(target.shape)}`,
    );
  }
  if (target.size === 0) {
    target.markModified();
    return;
  }
  if (source.storageFor('assign') === target.storageFor('assign') && !source.isDense) {
    const copy = contiguousCopy(source); // reading and writing one buffer through different layouts would race
    assign(target, copy);
    copy.dispose();
    return;
  }
  const view = source.viewFor('assign', broadcastStrides(source.shape, source.strides, target.shape));
  backend.kernels.pointwise({
    program: COPY[target.dtype],
    inputs: [view],
    scalars: [],
    outputs: [target.storageFor('assign').buffer],
    shape: target.shape,
  });
  target.markModified();
}
