/**
 * Running pointwise programs (kernels as data, see `expr/`) on tensors: the user-facing checks
 * (broadcasting, dtypes, backends, in-place overlap) happen here with PyTorch-style messages; the
 * kernel call's own arguments are checked by `checkPointwiseArgs` (kernel-args.ts) in every backend.
 * These are kernel calls, outside autograd: ops that need gradients record their own rule.
 */
import type { Backend, BackendBuffer, StridedView } from '../backend.js';
import { resolveScalars, type ScalarArg } from '../compile/hooks.js';
import type { PointwiseProgram } from '../expr/program.js';
import { replicateProgram } from '../expr/rebuild.js';
import { broadcastShapes, broadcastStrides, formatShape, type Shape, sameShape } from '../shape.js';
import type { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { backendOfAll } from './graph.js';

function checkOperands(
  name: string,
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
  storages: Storage[] | null,
): Backend {
  if (inputs.length !== program.inputs.length)
    throw new Error(`${name}: expected ${program.inputs.length} inputs, got ${inputs.length}`);
  if (scalars.length !== program.scalars.length)
    throw new Error(`${name}: expected ${program.scalars.length} scalars, got ${scalars.length}`);
  for (let k = 0; k < inputs.length; k++) {
    const t = inputs[k];
    const storage = t.storageFor(name); // a disposed input is reported under this op's name
    if (storages) storages[k] = storage;
    if (t.dtype !== program.inputs[k])
      throw new Error(`${name}: input ${k} must be ${program.inputs[k]}, got ${t.dtype}`);
  }
  return backendOfAll(name, inputs);
}

/** The shape a call runs over: the inputs broadcast together, of a rank the program can index. */
function iterationShape(name: string, program: PointwiseProgram, tensors: readonly Tensor[]): Shape {
  // shapes are never mutated, so the common case (every input of one shape) shares the first's
  let shape: Shape = tensors.length > 0 ? tensors[0].shape : [];
  for (let k = 1; k < tensors.length; k++) {
    const s = tensors[k].shape;
    if (!sameShape(shape, s)) shape = broadcastShapes(shape, s, name);
  }
  if (shape.length < program.minRank)
    throw new Error(
      `${name}: the program reads E.index(${program.minRank - 1}), the coordinate along dim ` +
        `${program.minRank - 1}, but runs over shape ${formatShape(shape)} of rank ${shape.length}`,
    );
  return shape;
}

/**
 * Evaluates `program` over `inputs` broadcast together and returns one new tensor per output.
 * `scalars` are the per-call values the program declares.
 */
export function pointwise(
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[] = [],
  name: string = program.name,
): Tensor[] {
  const backend = checkOperands(name, program, inputs, scalars, null);
  const shape = iterationShape(name, program, inputs);
  const dtypes = program.outputDtypes;
  const outs = new Array<Tensor>(dtypes.length);
  for (let j = 0; j < dtypes.length; j++) outs[j] = Tensor.empty(shape, dtypes[j], backend);
  run(backend, program, inputs, scalars, outs, shape, name);
  return outs;
}

/**
 * Evaluates `program` and stores its outputs in place into `outputs`: dense tensors of the
 * inputs' broadcast shape. An output may also be an input (an optimizer updating its
 * parameter) as long as that input is read whole, in order; anything else is an error.
 */
export function pointwiseInto(
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
  outputs: readonly Tensor[],
  name: string = program.name,
): void {
  const { backend, shape, touched, writes } = checkInto(program, inputs, scalars, outputs, name);
  run(backend, program, inputs, scalars, outputs, shape, name);
  for (let j = 0; j < writes; j++) touched[j].markModified();
}

/** One in-place call of {@link pointwiseIntoEach}: the arguments of {@link pointwiseInto}. */
export interface PointwiseCall {
  readonly program: PointwiseProgram;
  readonly inputs: readonly Tensor[];
  readonly scalars: readonly ScalarArg[];
  readonly outputs: readonly Tensor[];
}

/**
 * Runs independent in-place calls (an optimizer's update of each parameter) as few kernels as
 * it can: calls of one program over one shape run side by side in one kernel (the program
 * repeated, see {@link replicateProgram}), within the backend's buffer limit. The results are
 * those of {@link pointwiseInto} on each call in order, and each call is checked as it would
 * check it, before any kernel runs. Calls are independent when none writes memory another
 * reads or writes; when some are not, every call runs on its own, in order.
 */
export function pointwiseIntoEach(calls: readonly PointwiseCall[], name?: string): void {
  // Plain loops, identity keys, arrays sized up front: this runs once per optimizer step over
  // every parameter, mostly before V8 has optimized it.
  const checked = new Array<CheckedCall>(calls.length);
  const callsTouching = new Map<Storage, number>();
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    const c = checkInto(call.program, call.inputs, call.scalars, call.outputs, name ?? call.program.name);
    const touched = c.touched;
    for (let k = 0; k < touched.length; k++)
      callsTouching.set(touched[k], (callsTouching.get(touched[k]) ?? 0) + 1);
    checked[i] = { call, backend: c.backend, shape: c.shape, touched, writes: c.writes };
  }
  // independent: memory a call writes is touched by no other call
  let independent = true;
  for (let i = 0; independent && i < checked.length; i++) {
    const { touched, writes } = checked[i];
    for (let k = 0; k < writes; k++) if (callsTouching.get(touched[k]) !== 1) independent = false;
  }
  // calls that may share a kernel: one program, one shape, one backend (each alone if not independent)
  const groups: CheckedCall[][] = [];
  for (let i = 0; i < checked.length; i++) {
    const c = checked[i];
    let group: CheckedCall[] | undefined;
    for (let q = 0; independent && q < groups.length; q++) {
      const g = groups[q][0];
      if (g.call.program === c.call.program && g.backend === c.backend && sameShape(g.shape, c.shape)) {
        group = groups[q];
        break;
      }
    }
    if (group) group.push(c);
    else groups.push([c]);
  }
  for (let q = 0; q < groups.length; q++) {
    const group = groups[q];
    const { backend, shape } = group[0];
    const limit = backend.capabilities.maxPointwiseBuffers ?? Number.POSITIVE_INFINITY;
    let start = 0;
    while (start < group.length) {
      // as many calls as the backend can bind in one kernel (at least one)
      let end = start + 1;
      let bound = group[start].touched.length;
      while (end < group.length && bound + group[end].touched.length <= limit)
        bound += group[end++].touched.length;
      const first = group[start].call.program;
      const copies = end - start;
      const inputs = new Array<Tensor>(copies * first.inputs.length);
      const scalars = new Array<ScalarArg>(copies * first.scalars.length);
      const outputs = new Array<Tensor>(copies * first.outputDtypes.length);
      for (let i = start, ni = 0, ns = 0, no = 0; i < end; i++) {
        const call = group[i].call;
        for (let k = 0; k < call.inputs.length; k++) inputs[ni++] = call.inputs[k];
        for (let k = 0; k < call.scalars.length; k++) scalars[ns++] = call.scalars[k];
        for (let k = 0; k < call.outputs.length; k++) outputs[no++] = call.outputs[k];
      }
      run(backend, replicateProgram(first, copies), inputs, scalars, outputs, shape, name ?? first.name);
      for (let i = start; i < end; i++) {
        const { touched, writes } = group[i];
        for (let k = 0; k < writes; k++) touched[k].markModified();
      }
      start = end;
    }
  }
}

/** The result of {@link checkInto}. */
interface CheckedInto {
  readonly backend: Backend;
  readonly shape: Shape;
  /** Distinct storages of the outputs (the first `writes`), then of the inputs. */
  readonly touched: Storage[];
  readonly writes: number;
}

/** A call of {@link pointwiseIntoEach} after its checks. */
interface CheckedCall extends CheckedInto {
  readonly call: PointwiseCall;
}

/**
 * The checks of {@link pointwiseInto}; returns the backend, the shape the call runs over and
 * the memory the call writes and touches.
 */
function checkInto(
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
  outputs: readonly Tensor[],
  name: string,
): CheckedInto {
  const read = new Array<Storage>(inputs.length);
  const backend = checkOperands(name, program, inputs, scalars, read);
  if (outputs.length !== program.outputDtypes.length)
    throw new Error(`${name}: expected ${program.outputDtypes.length} outputs, got ${outputs.length}`);
  const shape = iterationShape(name, program, inputs);
  const touched: Storage[] = [];
  for (let j = 0; j < outputs.length; j++) {
    const o = outputs[j];
    const storage = o.storageFor(name);
    if (storage.backend !== backend)
      throw new Error(`${name}: output ${j} is on backend '${o.backend}', the inputs on '${backend.name}'`);
    if (o.dtype !== program.outputDtypes[j])
      throw new Error(`${name}: output ${j} must be ${program.outputDtypes[j]}, got ${o.dtype}`);
    if (!o.isDense) throw new Error(`${name}: output ${j} must own contiguous memory`);
    if (!sameShape(o.shape, shape))
      throw new Error(
        `${name}: output ${j} has shape ${formatShape(o.shape)}, the inputs broadcast to ${formatShape(shape)}`,
      );
    for (let k = 0; k < inputs.length; k++) {
      const t = inputs[k];
      if (read[k] === storage && !(t.isDense && sameShape(t.shape, shape)))
        throw new Error(`${name}: output ${j} overlaps an input that is not read whole and in order`);
    }
    if (!touched.includes(storage)) touched.push(storage);
  }
  const writes = touched.length;
  for (let k = 0; k < read.length; k++) if (!touched.includes(read[k])) touched.push(read[k]);
  return { backend, shape, touched, writes };
}

function run(
  backend: Backend,
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
  outputs: readonly Tensor[],
  shape: readonly number[],
  name: string,
): void {
  if (outputs[0].size === 0) return;
  const views = new Array<StridedView>(inputs.length);
  for (let k = 0; k < inputs.length; k++) {
    const t = inputs[k];
    views[k] = t.viewFor(
      name,
      sameShape(t.shape, shape) ? t.strides : broadcastStrides(t.shape, t.strides, shape),
    );
  }
  const buffers = new Array<BackendBuffer>(outputs.length);
  for (let j = 0; j < outputs.length; j++) buffers[j] = outputs[j].storageFor(name).buffer;
  backend.kernels.pointwise({
    program,
    inputs: views,
    scalars: resolveScalars(scalars),
    outputs: buffers,
    shape,
  });
}
