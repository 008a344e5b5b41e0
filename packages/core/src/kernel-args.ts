/**
 * The argument checks of the `pointwise` and `reduce` kernels, one definition for every
 * backend: whatever depends only on the arguments (counts, dtypes, view ranks and reach,
 * output sizes) is checked here, so backends cannot disagree about what is an error, and a
 * wrong size fails before a kernel writes out of bounds. What a backend alone knows (whose
 * buffer it is, whether it is disposed, device limits) it checks itself, after these.
 *
 * These run on every kernel call: plain loops, and messages built only when throwing.
 */
import type {
  BackendBuffer,
  DType,
  PointwiseArgs,
  ReduceArgs,
  ReduceExpression,
  StridedView,
} from './backend.js';

/** Throws `kind` (Error, RangeError for sizes and counts, TypeError for dtypes) with the backend's prefix. */
function fail(backend: string, message: string, kind: ErrorConstructor = Error): never {
  throw new kind(`${backend} backend: ${message}`);
}

const isCount = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** Elements of `shape`, or -1 when a dimension is not a count. */
function elements(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d] as number;
    if (!isCount(s)) return -1;
    n *= s;
  }
  return n;
}

// The shapes a reduction's programs run over, refilled per call (no array per call).
const inputShape = [0, 0, 0];
const epilogueShape = [0, 0];

/**
 * Checks view `k` read over `shape` (of `total` elements): its dtype, one stride per
 * dimension, and (when anything is read) that every element it reads lies inside its buffer.
 * The message names it as `<kernel> <subject>: <part> <k>`, e.g. `pointwise add: input 1`.
 */
function checkView(
  backend: string,
  kernel: string,
  subject: string,
  part: string,
  k: number,
  v: StridedView,
  dtype: DType | undefined,
  shape: readonly number[],
  total: number,
): void {
  const b = v.buffer;
  if (b.dtype !== dtype || v.strides.length !== shape.length)
    fail(
      backend,
      `${kernel} ${subject}: ${part} ${k} is ${b.dtype} with ${v.strides.length} strides; ` +
        `the program reads ${dtype} over ${shape.length} dims`,
      TypeError,
    );
  if (total === 0) return; // an empty shape reads nothing
  let lo = v.offset;
  let hi = v.offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (v.strides[d] as number) * ((shape[d] as number) - 1);
    if (span < 0) lo += span;
    else hi += span;
  }
  if (!(lo >= 0 && hi < b.size && Number.isInteger(lo) && Number.isInteger(hi)))
    fail(
      backend,
      `${kernel} ${subject}: ${part} ${k} (offset ${v.offset}, strides [${v.strides}]) over shape ` +
        `[${shape}] reads elements ${lo}..${hi} of a buffer of ${b.size}`,
      RangeError,
    );
}

/**
 * Checks the arguments of a `pointwise` kernel call against its program: as many inputs,
 * scalars and outputs as the program has, each input of the program's dtype with one stride
 * per dimension of `shape` and reading only inside its buffer, each output of the program's
 * dtype holding at least `prod(shape)` elements, and a shape of the rank the program's
 * `E.index` reads need. Throws an `Error` whose message starts `<backend> backend: pointwise`.
 *
 * For backend authors: call it first in `kernels.pointwise` (and wherever a pointwise call is
 * prepared), then check what only the backend knows (buffer ownership, device limits). It
 * allocates nothing unless it throws.
 *
 * @param backend - the backend's label in messages, e.g. `'wasm'` or `'WebGPU'`.
 */
export function checkPointwiseArgs(args: PointwiseArgs, backend: string): void {
  const { program, shape, inputs, outputs } = args;
  const total = elements(shape);
  if (total < 0)
    fail(
      backend,
      `pointwise ${program.name}: shape [${shape}] has a dimension that is not a count`,
      RangeError,
    );
  if (inputs.length !== program.inputs.length || args.scalars.length !== program.scalars.length)
    fail(
      backend,
      `pointwise ${program.name}: expects ${program.inputs.length} inputs and ${program.scalars.length} scalars, ` +
        `got ${inputs.length} and ${args.scalars.length}`,
      RangeError,
    );
  if (outputs.length !== program.outputDtypes.length)
    fail(
      backend,
      `pointwise ${program.name}: writes ${program.outputDtypes.length} outputs, got ${outputs.length}`,
      RangeError,
    );
  if (shape.length < program.minRank)
    fail(
      backend,
      `pointwise ${program.name}: reads E.index(${program.minRank - 1}) over shape [${shape}]`,
      RangeError,
    );
  for (let k = 0; k < inputs.length; k++)
    checkView(
      backend,
      'pointwise',
      program.name,
      'input',
      k,
      inputs[k] as StridedView,
      program.inputs[k],
      shape,
      total,
    );
  for (let j = 0; j < outputs.length; j++) {
    const o = outputs[j] as BackendBuffer;
    const dtype = program.outputDtypes[j];
    if (o.dtype !== dtype || o.size < total)
      fail(
        backend,
        `pointwise ${program.name}: output ${j} must hold ${total} ${dtype}, got ${o.size} ${o.dtype}`,
        RangeError,
      );
  }
}

/**
 * Checks a program of a reduction: one output, no positions (`E.index`), and `inputs`
 * (program inputs from `skip` on) as views over `shape`.
 */
function checkExpression(
  backend: string,
  op: string,
  part: string,
  e: ReduceExpression,
  skip: number,
  shape: readonly number[],
  total: number,
): void {
  const p = e.program;
  if (p.outputDtypes.length !== 1)
    fail(
      backend,
      `reduce ${op}: the ${part} program ${p.name} must have one output, it has ${p.outputDtypes.length}`,
    );
  if (p.minRank > 0) fail(backend, `reduce ${op}: the ${part} program ${p.name} reads positions (E.index)`);
  if (e.inputs.length !== p.inputs.length - skip || e.scalars.length !== p.scalars.length)
    fail(
      backend,
      `reduce ${op}: the ${part} program ${p.name} expects ${p.inputs.length - skip} inputs and ` +
        `${p.scalars.length} scalars, got ${e.inputs.length} and ${e.scalars.length}`,
      RangeError,
    );
  const views = skip === 0 ? "the input program's input" : "the epilogue's input";
  for (let k = 0; k < e.inputs.length; k++)
    checkView(
      backend,
      'reduce',
      op,
      views,
      k + skip,
      e.inputs[k] as StridedView,
      p.inputs[k + skip],
      shape,
      total,
    );
}

/**
 * Checks the arguments of a `reduce` kernel call: a known op, counts for `outer`, `size` and
 * `inner`, a non-empty axis unless the op is `sum`, and either an input buffer `x` of at least
 * `outer * size * inner` elements or (sum, max and min only) an input program whose views read
 * inside their buffers; an epilogue only after an input program, its input 0 of the reduced
 * dtype; and an output of the dtype the call writes holding `outer * inner` elements. Throws an
 * `Error` whose message starts `<backend> backend: reduce`.
 *
 * For backend authors: call it first in `kernels.reduce`, then check what only the backend
 * knows. It allocates nothing unless it throws.
 *
 * @param backend - the backend's label in messages, e.g. `'wasm'` or `'WebGPU'`.
 */
export function checkReduceArgs(args: ReduceArgs, backend: string): void {
  const { op, out, outer, size, inner, input, epilogue } = args;
  if (op !== 'sum' && op !== 'max' && op !== 'min' && op !== 'argmax' && op !== 'argmin')
    fail(backend, `reduce: unknown op '${String(op)}'`);
  if (!isCount(outer) || !isCount(size) || !isCount(inner))
    fail(
      backend,
      `reduce ${op}: outer, size and inner must be counts, got ${outer}, ${size} and ${inner}`,
      RangeError,
    );
  if (size === 0 && op !== 'sum') fail(backend, `reduce ${op} over an empty axis`, RangeError);
  let want: DType | undefined;
  if (input === undefined && epilogue === undefined) {
    const x = args.x;
    if (x === undefined) fail(backend, `reduce ${op}: needs an input buffer or an input program`);
    const n = outer * size * inner;
    if (x.size < n)
      fail(
        backend,
        `reduce ${op}: input holds ${x.size} elements, [${outer}, ${size}, ${inner}] needs ${n}`,
        RangeError,
      );
    want = op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype;
  } else {
    if (op !== 'sum' && op !== 'max' && op !== 'min')
      fail(backend, `reduce ${op} takes no program (sum, max and min do)`);
    if (input === undefined) fail(backend, `reduce ${op}: an epilogue needs an input program`);
    if (args.x !== undefined)
      fail(backend, `reduce ${op}: takes an input buffer or an input program, not both`);
    inputShape[0] = outer;
    inputShape[1] = size;
    inputShape[2] = inner;
    checkExpression(backend, op, 'input', input, 0, inputShape, outer * size * inner);
    const reduced = input.program.outputDtypes[0];
    want = reduced;
    if (epilogue !== undefined) {
      if (epilogue.program.inputs[0] !== reduced)
        fail(backend, `reduce ${op}: the epilogue's input 0 must be ${reduced}`, TypeError);
      epilogueShape[0] = outer;
      epilogueShape[1] = inner;
      checkExpression(backend, op, 'epilogue', epilogue, 1, epilogueShape, outer * inner);
      want = epilogue.program.outputDtypes[0];
    }
  }
  const n = outer * inner;
  if (out.dtype !== want || out.size < n)
    fail(backend, `reduce ${op} writes ${n} ${want}, output is ${out.size} ${out.dtype}`, RangeError);
}
