/**
 * Running pointwise programs (kernels as data, see `expr/`) on tensors: broadcasting, dtype and
 * backend checks happen here, once, so no backend can disagree about what is an error.
 * These are kernel calls, outside autograd: ops that need gradients record their own rule.
 */
import type { Backend } from '../backend.js';
import { resolveScalars, type ScalarArg } from '../compile/hooks.js';
import type { PointwiseProgram } from '../expr/program.js';
import { replicateProgram } from '../expr/rebuild.js';
import { broadcastShapes, broadcastStrides, formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { sameBackend } from './graph.js';

function checkOperands(
  name: string,
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
): Backend {
  if (inputs.length !== program.inputs.length)
    throw new Error(`${name}: expected ${program.inputs.length} inputs, got ${inputs.length}`);
  if (scalars.length !== program.scalars.length)
    throw new Error(`${name}: expected ${program.scalars.length} scalars, got ${scalars.length}`);
  inputs.forEach((t, k) => {
    t.storageFor(name); // a disposed input is reported under this op's name
    if (t.dtype !== program.inputs[k])
      throw new Error(`${name}: input ${k} must be ${program.inputs[k]}, got ${t.dtype}`);
  });
  const backend = sameBackend(name, ...inputs);
  return backend;
}

/** The shape a call runs over: the inputs broadcast together, of a rank the program can index. */
function iterationShape(name: string, program: PointwiseProgram, tensors: readonly Tensor[]): number[] {
  let shape: number[] = [];
  for (const t of tensors) shape = broadcastShapes(shape, t.shape, name);
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
  const backend = checkOperands(name, program, inputs, scalars);
  const shape = iterationShape(name, program, inputs);
  const outs = program.outputDtypes.map((dtype) => Tensor.empty(shape, dtype, backend));
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
  const { backend, shape } = checkInto(program, inputs, scalars, outputs, name);
  run(backend, program, inputs, scalars, outputs, shape, name);
  for (const storage of new Set(outputs.map((o) => o.storageFor(name)))) storage.markModified();
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
  const storagesOf = (ts: readonly Tensor[]) =>
    new Set(ts.map((t) => t.storageFor(name ?? 'pointwiseIntoEach')));
  const checked = calls.map((call) => {
    const { backend, shape } = checkInto(
      call.program,
      call.inputs,
      call.scalars,
      call.outputs,
      name ?? call.program.name,
    );
    return {
      call,
      backend,
      shape,
      written: storagesOf(call.outputs),
      touched: storagesOf([...call.inputs, ...call.outputs]),
    };
  });
  // independent: memory a call writes is touched by no other call
  const callsTouching = new Map<object, number>();
  for (const c of checked) for (const s of c.touched) callsTouching.set(s, (callsTouching.get(s) ?? 0) + 1);
  const independent = checked.every((c) => [...c.written].every((s) => callsTouching.get(s) === 1));
  // calls that may share a kernel: one program, one shape, one backend (each alone if not independent)
  const groups = new Map<string, typeof checked>();
  checked.forEach((c, i) => {
    const key = independent ? `${c.backend.name}|${c.call.program.key}|${c.shape.join(',')}` : String(i);
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    group.push(c);
  });
  for (const group of groups.values()) {
    const { backend, shape } = group[0];
    const limit = backend.capabilities.maxPointwiseBuffers ?? Number.POSITIVE_INFINITY;
    let start = 0;
    while (start < group.length) {
      // as many calls as the backend can bind in one kernel (at least one)
      let end = start + 1;
      let bound = group[start].touched.size;
      while (end < group.length && bound + group[end].touched.size <= limit)
        bound += group[end++].touched.size;
      const part = group.slice(start, end).map((c) => c.call);
      const program = replicateProgram(part[0].program, part.length);
      const outputs = part.flatMap((c) => c.outputs);
      const label = name ?? part[0].program.name;
      run(
        backend,
        program,
        part.flatMap((c) => c.inputs),
        part.flatMap((c) => c.scalars),
        outputs,
        shape,
        label,
      );
      for (const storage of new Set(outputs.map((o) => o.storageFor(label)))) storage.markModified();
      start = end;
    }
  }
}

/** The checks of {@link pointwiseInto}; returns the backend and the shape the call runs over. */
function checkInto(
  program: PointwiseProgram,
  inputs: readonly Tensor[],
  scalars: readonly ScalarArg[],
  outputs: readonly Tensor[],
  name: string,
): { backend: Backend; shape: number[] } {
  const backend = checkOperands(name, program, inputs, scalars);
  if (outputs.length !== program.outputDtypes.length)
    throw new Error(`${name}: expected ${program.outputDtypes.length} outputs, got ${outputs.length}`);
  const shape = iterationShape(name, program, inputs);
  outputs.forEach((o, j) => {
    o.storageFor(name);
    if (o.backendFor(name) !== backend)
      throw new Error(`${name}: output ${j} is on backend '${o.backend}', the inputs on '${backend.name}'`);
    if (o.dtype !== program.outputDtypes[j])
      throw new Error(`${name}: output ${j} must be ${program.outputDtypes[j]}, got ${o.dtype}`);
    if (!o.isDense) throw new Error(`${name}: output ${j} must own contiguous memory`);
    if (!sameShape(o.shape, shape))
      throw new Error(
        `${name}: output ${j} has shape ${formatShape(o.shape)}, the inputs broadcast to ${formatShape(shape)}`,
      );
    for (const t of inputs) {
      if (t.storageFor(name) === o.storageFor(name) && !(t.isDense && sameShape(t.shape, shape)))
        throw new Error(`${name}: output ${j} overlaps an input that is not read whole and in order`);
    }
  });
  return { backend, shape };
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
  backend.kernels.pointwise({
    program,
    inputs: inputs.map((t) => t.viewFor(name, broadcastStrides(t.shape, t.strides, shape))),
    scalars: resolveScalars(scalars),
    outputs: outputs.map((o) => o.storageFor(name).buffer),
    shape,
  });
}
