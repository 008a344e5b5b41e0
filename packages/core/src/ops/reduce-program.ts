/**
 * Reductions whose input and epilogue are pointwise programs (kernels as data): the reduced
 * value is an expression of strided inputs, evaluated inside the reduce kernel, and the stored
 * value may be an expression of the reduced one. A count of matching rows or a sum followed by
 * a division is then one kernel call, with no intermediate tensor. Checks happen here, once,
 * so every backend raises the same errors before any kernel runs.
 */
import type { ReduceExpression, StridedView } from '../backend.js';
import type { PointwiseProgram } from '../expr/program.js';
import {
  broadcastShapes,
  broadcastStrides,
  formatShape,
  normalizeAxes,
  type Shape,
  sameShape,
  sizeOf,
} from '../shape.js';
import { Tensor } from '../tensor.js';
import { sameBackend } from './graph.js';
import { dense, expand, permute } from './views.js';

/** The epilogue of {@link reduceProgram}: input 0 is the reduced value, `inputs` are inputs 1... */
export interface ReduceEpilogue {
  readonly program: PointwiseProgram;
  /** Tensors that broadcast to the result's shape. */
  readonly inputs?: readonly Tensor[];
  readonly scalars?: readonly number[];
}

/** Options of {@link reduceProgram}. */
export interface ReduceProgramOptions {
  /** Axes of the inputs' broadcast shape to reduce (all by default). */
  readonly axis?: number | readonly number[];
  readonly keepDim?: boolean;
  /** A program applied to each reduced value before it is stored. */
  readonly epilogue?: ReduceEpilogue;
  /** Name used in errors (default: the program's). */
  readonly name?: string;
}

/** Which dims of the iteration shape form `outer`, `size` and `inner`, in memory order. */
interface Grouping {
  readonly outer: readonly number[];
  readonly size: readonly number[];
  readonly inner: readonly number[];
}

/** The stride walking `dims` (in order) as one dimension, or null when they cannot merge. */
function mergedStride(dims: readonly number[], shape: Shape, strides: readonly number[]): number | null {
  let stride: number | null = null;
  for (const d of dims) {
    if (shape[d] === 1) continue;
    if (stride !== null && stride !== strides[d] * shape[d]) return null;
    stride = strides[d];
  }
  return stride ?? 0;
}

/**
 * Views of `tensors` over the grouped shape (one stride per group; `groups` together list every
 * dim, in the order the kernel walks them). An input whose dims cannot merge within a group (a
 * stride-0 dim beside a walked one, or reduced dims that are not neighbours in memory) is
 * copied dense in that order first, as the plain reduce does. The copies go in `temps`.
 */
function groupedViews(
  name: string,
  tensors: readonly Tensor[],
  shape: Shape,
  groups: readonly (readonly number[])[],
  temps: Tensor[],
): StridedView[] {
  const views = new Array<StridedView>(tensors.length);
  for (let k = 0; k < tensors.length; k++) {
    const t = tensors[k];
    const strides = sameShape(t.shape, shape) ? t.strides : broadcastStrides(t.shape, t.strides, shape);
    const merged = mergeGroups(groups, shape, strides);
    if (merged !== null) {
      views[k] = t.viewFor(name, merged);
      continue;
    }
    const order = groups.flat();
    const expanded = expand(t, shape);
    const walked = permute(expanded, order);
    const copy = dense(walked);
    for (const v of [walked, expanded]) if (v !== copy && v !== t) v.dispose();
    temps.push(copy);
    // the copy's strides, back in the dims of `shape`
    const back = new Array<number>(shape.length);
    order.forEach((d, j) => {
      back[d] = copy.strides[j];
    });
    views[k] = copy.viewFor(name, mergeGroups(groups, shape, back) as number[]);
  }
  return views;
}

/** One stride per group, or null when a group's dims cannot merge. */
function mergeGroups(
  groups: readonly (readonly number[])[],
  shape: Shape,
  strides: readonly number[],
): number[] | null {
  const merged = new Array<number>(groups.length);
  for (let g = 0; g < groups.length; g++) {
    const stride = mergedStride(groups[g], shape, strides);
    if (stride === null) return null;
    merged[g] = stride;
  }
  return merged;
}

function checkProgram(
  name: string,
  what: string,
  program: PointwiseProgram,
  declared: readonly string[],
  scalars: readonly number[],
): void {
  if (program.outputDtypes.length !== 1)
    throw new Error(
      `${name}: the ${what} program must have one output, it has ${program.outputDtypes.length}`,
    );
  if (declared.length !== program.inputs.length)
    throw new Error(
      `${name}: the ${what} program expects ${program.inputs.length} inputs, got ${declared.length}`,
    );
  declared.forEach((dtype, k) => {
    if (dtype !== program.inputs[k])
      throw new Error(`${name}: ${what} input ${k} must be ${program.inputs[k]}, got ${dtype}`);
  });
  if (scalars.length !== program.scalars.length)
    throw new Error(
      `${name}: the ${what} program expects ${program.scalars.length} scalars, got ${scalars.length}`,
    );
  for (const s of scalars) {
    // Replays re-read only a pointwise call's top-level scalars, so these must be plain numbers.
    if (typeof s !== 'number') throw new Error(`${name}: ${what} scalars must be numbers, got ${typeof s}`);
  }
}

/**
 * Reduces (`sum`, `max` or `min`) the single output of `program`, evaluated over `inputs`
 * broadcast together, over `options.axis` — as one kernel, never materializing the program's
 * values. With `options.epilogue`, each reduced value goes through that program (its input 0)
 * before it is stored, so a mean over a computed count is one kernel too.
 *
 * Outside autograd: the result has no gradient (use it under `noGrad` or for values that need
 * none, such as counts). Scalars are plain numbers (a compiled step replays them unchanged).
 *
 * @example
 * ```ts
 * // rows whose target is not -100, counted in one kernel
 * const keep = pointwiseProgram('kept', { inputs: ['int32'], outputs: [E.select(E.ne(E.input(0, 'int32'), E.const(-100, 'int32')), E.const(1), E.const(0))] });
 * const count = reduceProgram('sum', keep, [target]);
 * ```
 */
export function reduceProgram(
  op: 'sum' | 'max' | 'min',
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly number[] = [],
  options: ReduceProgramOptions = {},
): Tensor {
  const name = options.name ?? program.name;
  if (op !== 'sum' && op !== 'max' && op !== 'min')
    throw new Error(`${name}: reductions of a program are sum, max or min, not '${op as string}'`);
  for (const t of inputs) t.storageFor(name); // a disposed input is reported under this name
  if (program.minRank > 0)
    throw new Error(`${name}: the input program of a reduction cannot read positions (E.index)`);
  if (options.epilogue && options.epilogue.program.minRank > 0)
    throw new Error(`${name}: the epilogue program of a reduction cannot read positions (E.index)`);
  checkProgram(
    name,
    'input',
    program,
    inputs.map((t) => t.dtype),
    scalars,
  );
  let shape: readonly number[] = [];
  for (const t of inputs) if (!sameShape(shape, t.shape)) shape = broadcastShapes(shape, t.shape, name);
  const axes = normalizeAxes(options.axis, shape.length, name);
  const keepDim = options.keepDim ?? false;
  // kept: the dims not reduced, in order; outShape: the result's shape
  const kept: number[] = [];
  const outShape: number[] = [];
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      size *= shape[i];
      if (keepDim) outShape.push(1);
    } else {
      kept.push(i);
      outShape.push(shape[i]);
    }
  }
  if (size === 0 && op !== 'sum')
    throw new Error(`${name}: cannot reduce over a zero-size dimension (input shape ${formatShape(shape)})`);

  const reduced = program.outputDtypes[0];
  const epilogue = options.epilogue;
  const extra = epilogue?.inputs ?? [];
  if (epilogue !== undefined) {
    for (const t of extra) t.storageFor(name);
    checkProgram(
      name,
      'epilogue',
      epilogue.program,
      [reduced, ...extra.map((t) => t.dtype)],
      epilogue.scalars ?? [],
    );
    extra.forEach((t, k) => {
      if (!sameShape(broadcastShapes(outShape, t.shape, name), outShape))
        throw new Error(
          `${name}: epilogue input ${k + 1} of shape ${formatShape(t.shape)} does not broadcast to the result's ${formatShape(outShape)}`,
        );
    });
  }
  const backend = sameBackend(name, ...inputs, ...extra);
  const out = Tensor.empty(outShape, epilogue?.program.outputDtypes[0] ?? reduced, backend);
  if (out.size === 0) return out;

  // Reduced axes in one block keep memory order; otherwise kept dims go first and the
  // reduction runs over the tail (inner = 1), as the plain reduce does.
  const block = axes.length > 0 && axes[axes.length - 1] - axes[0] === axes.length - 1;
  const groups: Grouping = block
    ? { outer: kept.filter((i) => i < axes[0]), size: axes, inner: kept.filter((i) => i > axes[0]) }
    : { outer: kept, size: axes, inner: [] };
  // The result in memory is row-major over the kept dims, in order: epilogue views walk those.
  const keptShape = kept.map((i) => shape[i]);
  const keptGroups = [groups.outer, groups.inner].map((g) => g.map((i) => kept.indexOf(i)));

  const temps: Tensor[] = [];
  try {
    const input: ReduceExpression = {
      program,
      inputs: groupedViews(name, inputs, shape, [groups.outer, groups.size, groups.inner], temps),
      scalars: [...scalars],
    };
    let epi: ReduceExpression | undefined;
    if (epilogue !== undefined) {
      // drop the kept size-1 reduced dims so the views are over the kept shape
      const flat = extra.map((t) => {
        const strides = broadcastStrides(t.shape, t.strides, outShape);
        const keptStrides = keepDim ? strides.filter((_, d) => !axes.includes(d)) : strides;
        return new Tensor(t.storageFor(name), keptShape, keptStrides, t.offset);
      });
      try {
        epi = {
          program: epilogue.program,
          inputs: groupedViews(name, flat, keptShape, keptGroups, temps),
          scalars: [...(epilogue.scalars ?? [])],
        };
      } finally {
        for (const f of flat) f.dispose();
      }
    }
    backend.kernels.reduce({
      op,
      input,
      epilogue: epi,
      out: out.storageFor(name).buffer,
      outer: sizeOf(groups.outer.map((i) => shape[i])),
      size,
      inner: sizeOf(groups.inner.map((i) => shape[i])),
    });
  } catch (err) {
    out.dispose();
    throw err;
  } finally {
    for (const t of temps) t.dispose();
  }
  return out;
}
