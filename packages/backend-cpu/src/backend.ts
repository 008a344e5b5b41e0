/**
 * The cpu backend: every kernel of the `Kernels` table, on typed arrays, synchronously.
 * This file unwraps and checks buffers (owner, liveness, dtype, size; for pointwise and reduce,
 * core's `checkPointwiseArgs`/`checkReduceArgs` check all but owner and liveness) and hands
 * plain typed arrays to the kernels in `kernels/`, which know nothing about buffers.
 */
import type {
  Backend,
  BackendBuffer,
  BackendCapabilities,
  BackendMemory,
  BatchNormBackwardArgs,
  BatchNormTrainArgs,
  DType,
  FillArgs,
  GatherArgs,
  KernelArgs,
  KernelName,
  Kernels,
  LinearArgs,
  MatmulArgs,
  PointwiseArgs,
  PreparedKernel,
  ReduceArgs,
  ReduceExpression,
  ScatterAddArgs,
  SoftmaxCrossEntropyArgs,
  TypedArray,
} from '@nabla/core';
import { checkPointwiseArgs, checkReduceArgs } from '@nabla/core';
import { CpuBuffer, checked, cpuBuffer, f32, i32 } from './buffer.js';
import { batchNormBackward, batchNormTrain } from './kernels/batchnorm.js';
import { codegenEnabled } from './kernels/codegen.js';
import { gather, scatterAdd } from './kernels/indexing.js';
import { linear, matmul } from './kernels/matmul.js';
import { type ArrayView, planPointwise, pointwise } from './kernels/pointwise.js';
import { type ProgramOperands, plainInput, reduceProgram } from './kernels/reduce-program.js';
import { softmaxCrossEntropy } from './kernels/softmax-cross-entropy.js';

/**
 * The array of a live cpu buffer, else the error of `cpuBuffer` for `<kernel> <subject> <part>
 * <k>` (e.g. `pointwise add input 1`): the label is built only then.
 */
function live(b: BackendBuffer, kernel: string, subject: string, part: string, k: number): TypedArray {
  return b instanceof CpuBuffer && !b.disposed
    ? b.data
    : cpuBuffer(b, `${kernel} ${subject} ${part} ${k}`).data;
}

function checkCounts(kernel: string, counts: Record<string, number>): void {
  for (const name in counts) {
    const v = counts[name];
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`cpu ${kernel}: ${name} must be a count, got ${v}`);
  }
}

/** The views of a pointwise call's inputs and its output arrays, checked. */
function pointwiseViews(args: PointwiseArgs): { inputs: ArrayView[]; outputs: TypedArray[] } {
  checkPointwiseArgs(args, 'cpu');
  const outputs: TypedArray[] = [];
  for (let j = 0; j < args.outputs.length; j++)
    outputs.push(live(args.outputs[j], 'pointwise', args.program.name, 'output', j));
  const inputs: ArrayView[] = [];
  for (let k = 0; k < args.inputs.length; k++) {
    const v = args.inputs[k];
    inputs.push({
      data: live(v.buffer, 'pointwise', args.program.name, 'input', k),
      offset: v.offset,
      strides: v.strides,
    });
  }
  return { inputs, outputs };
}

// The kernel table's entries: each checks and unwraps its buffers, then runs the typed-array
// kernel of `kernels/<family>.ts`.

function pointwiseKernel(args: PointwiseArgs): void {
  const { inputs, outputs } = pointwiseViews(args);
  pointwise(args.program, inputs, args.scalars, outputs, args.shape);
}

function fillKernel({ out, value }: FillArgs): void {
  cpuBuffer(out, 'fill target').data.fill(value);
}

/** A checked reduction (see `kernels/reduce-program.ts`); a plain one reduces the identity program of `x`. */
function reduceKernel(args: ReduceArgs): void {
  checkReduceArgs(args, 'cpu');
  const { op, out, outer, size, inner, epilogue } = args;
  const input =
    args.input === undefined
      ? plainInput(cpuBuffer(args.x as BackendBuffer, 'reduce input', op).data, size, inner)
      : programOperands(args.input, op, 'input', 0);
  const epi = epilogue === undefined ? null : programOperands(epilogue, op, 'epilogue input', 1);
  reduceProgram(op, cpuBuffer(out, 'reduce output', op).data, outer, size, inner, input, epi);
}

/** The operands of a checked program; `first` inputs of the program are not views (the epilogue's reduced value). */
function programOperands(e: ReduceExpression, op: string, part: string, first: number): ProgramOperands {
  const xs: TypedArray[] = [];
  const ps: number[] = [];
  const ss: (readonly number[])[] = [];
  for (let k = 0; k < e.inputs.length; k++) {
    const v = e.inputs[k];
    xs.push(live(v.buffer, 'reduce', op, part, k + first));
    ps.push(v.offset);
    ss.push(v.strides);
  }
  return { program: e.program, xs, ps, ss, scalars: e.scalars };
}

function matmulKernel(args: MatmulArgs): void {
  const { a, b, out, batch, m, n, k, strideA, strideB } = args;
  checkCounts('matmul', { batch, m, n, k, strideA, strideB });
  const needA = batch === 0 ? 0 : (batch - 1) * strideA + m * k;
  const needB = batch === 0 ? 0 : (batch - 1) * strideB + k * n;
  matmul(
    f32(a, `matmul A (batch ${batch}, [${m}, ${k}])`, needA),
    f32(b, `matmul B (batch ${batch}, [${k}, ${n}])`, needB),
    f32(out, `matmul output (batch ${batch}, [${m}, ${n}])`, batch * m * n),
    args,
  );
}

function gatherKernel({ x, index, out, outer, size, k, inner }: GatherArgs): void {
  checkCounts('gather', { outer, size, k, inner });
  const xb = checked(x, 'gather input', null, outer * size * inner);
  const ob = checked(out, 'gather output', xb.dtype, outer * k * inner);
  gather(xb.data, i32(index, 'gather index', outer * k * inner), ob.data, { outer, size, k, inner });
}

function scatterAddKernel({ src, index, out, outer, size, k, inner }: ScatterAddArgs): void {
  checkCounts('scatterAdd', { outer, size, k, inner });
  const sb = checked(src, 'scatterAdd source', null, outer * k * inner);
  const ob = checked(out, 'scatterAdd output', sb.dtype, outer * size * inner);
  scatterAdd(sb.data, i32(index, 'scatterAdd index', outer * k * inner), ob.data, {
    outer,
    size,
    k,
    inner,
  });
}

function batchNormTrainKernel(args: BatchNormTrainArgs): void {
  const { x, gamma, beta, out, mean, variance, eps, relu } = args;
  const { n, c, l } = args.shape;
  checkCounts('batchNormTrain', { n, c, l });
  const size = n * c * l;
  batchNormTrain(
    f32(x, `batchNormTrain input (${n}, ${c}, ${l})`, size),
    gamma === null ? null : f32(gamma, 'batchNormTrain gamma', c),
    beta === null ? null : f32(beta, 'batchNormTrain beta', c),
    f32(out, 'batchNormTrain output', size),
    f32(mean, 'batchNormTrain mean', c),
    f32(variance, 'batchNormTrain variance', c),
    n,
    c,
    l,
    eps,
    relu,
  );
}

function batchNormBackwardKernel(args: BatchNormBackwardArgs): void {
  const { dy, x, mean, variance, gamma, dx, dgamma, dbeta, reluOutput, eps } = args;
  const { n, c, l } = args.shape;
  checkCounts('batchNormBackward', { n, c, l });
  const size = n * c * l;
  batchNormBackward(
    f32(dy, `batchNormBackward dy (${n}, ${c}, ${l})`, size),
    f32(x, 'batchNormBackward x', size),
    f32(mean, 'batchNormBackward mean', c),
    f32(variance, 'batchNormBackward variance', c),
    gamma === null ? null : f32(gamma, 'batchNormBackward gamma', c),
    f32(dx, 'batchNormBackward dx', size),
    f32(dgamma, 'batchNormBackward dgamma', c),
    f32(dbeta, 'batchNormBackward dbeta', c),
    n,
    c,
    l,
    eps,
    reluOutput === null ? null : f32(reluOutput, 'batchNormBackward reluOutput', size),
  );
}

function linearKernel({ x, w, bias, out, m, n, k, relu }: LinearArgs): void {
  checkCounts('linear', { m, n, k });
  linear(
    f32(x, `linear input [${m}, ${k}]`, m * k),
    f32(w, `linear weight [${n}, ${k}]`, n * k),
    bias === null ? null : f32(bias, `linear bias [${n}]`, n),
    f32(out, `linear output [${m}, ${n}]`, m * n),
    m,
    n,
    k,
    relu,
  );
}

function softmaxCrossEntropyKernel(args: SoftmaxCrossEntropyArgs): void {
  const { logits, targets, loss, shift, logSum, rows, classes, ignoreIndex } = args;
  checkCounts('softmaxCrossEntropy', { rows, classes });
  softmaxCrossEntropy(
    f32(logits, `softmaxCrossEntropy logits [${rows}, ${classes}]`, rows * classes),
    i32(targets, `softmaxCrossEntropy targets [${rows}]`, rows),
    f32(loss, 'softmaxCrossEntropy loss', rows),
    f32(shift, 'softmaxCrossEntropy shift', rows),
    f32(logSum, 'softmaxCrossEntropy logSum', rows),
    rows,
    classes,
    ignoreIndex,
  );
}

/** The cpu backend's implementation of {@link Backend}; create it with `createCpuBackend()`. */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly capabilities: BackendCapabilities = {
    readSync: true,
    fallbacks: [],
    // codegen false means a CSP forbids `new Function` and kernels run interpreted (slower).
    info: { threads: 1, simd: false, accumulate: 'float64', codegen: codegenEnabled() },
  };
  /** Every kernel, the optional fused ones included. */
  readonly kernels: Required<Kernels> = {
    pointwise: pointwiseKernel,
    fill: fillKernel,
    reduce: reduceKernel,
    matmul: matmulKernel,
    gather: gatherKernel,
    scatterAdd: scatterAddKernel,
    batchNormTrain: batchNormTrainKernel,
    batchNormBackward: batchNormBackwardKernel,
    linear: linearKernel,
    softmaxCrossEntropy: softmaxCrossEntropyKernel,
  };
  private bytes = 0;
  private buffers = 0;
  private destroyed = false;

  // ---- storage -------------------------------------------------------------------------

  alloc(size: number, dtype: DType): BackendBuffer {
    if (this.destroyed) throw new Error('cpu backend: used after destroy()');
    const b = new CpuBuffer(size, dtype);
    this.bytes += b.data.byteLength;
    this.buffers++;
    return b;
  }

  write(buffer: BackendBuffer, data: TypedArray): void {
    const b = cpuBuffer(buffer, 'write target');
    if ((data instanceof Int32Array ? 'int32' : 'float32') !== b.dtype) {
      throw new TypeError(
        `cpu write: ${data.constructor.name} data into a ${b.dtype} buffer (convert first)`,
      );
    }
    if (data.length > b.size) {
      throw new RangeError(
        `cpu write: ${data.length} elements do not fit a buffer of ${b.size} (${b.dtype})`,
      );
    }
    b.data.set(data);
  }

  async read(buffer: BackendBuffer): Promise<TypedArray> {
    return this.readSync(buffer);
  }

  readSync(buffer: BackendBuffer): TypedArray {
    return cpuBuffer(buffer, 'read source').data.slice();
  }

  disposeBuffer(buffer: BackendBuffer): void {
    const b = cpuBuffer(buffer, 'disposeBuffer argument');
    this.bytes -= b.data.byteLength;
    this.buffers--;
    b.disposed = true;
    b.data = b.dtype === 'float32' ? new Float32Array(0) : new Int32Array(0);
  }

  memory(): BackendMemory {
    return { buffers: this.buffers, bytes: this.bytes };
  }

  // ---- compiled programs ----------------------------------------------------------------
  /**
   * Pointwise calls are checked and planned once (generated kernel, loop, collapsed strides);
   * each run hands the kernel the arrays the call's buffers hold then.
   */
  prepare<K extends KernelName>(kernel: K, args: KernelArgs<K>): PreparedKernel | null {
    if (kernel !== 'pointwise') return null;
    const call = args as PointwiseArgs;
    const { inputs } = pointwiseViews(call);
    const run = planPointwise(
      call.program,
      inputs.map((v) => v.strides),
      call.shape,
    );
    const xs: TypedArray[] = inputs.map((v) => v.data);
    const ps = inputs.map((v) => v.offset);
    const outs: TypedArray[] = call.outputs.map((o) => (o as CpuBuffer).data);
    return {
      run: () => {
        if (!run) return;
        for (let k = 0; k < xs.length; k++) xs[k] = (call.inputs[k].buffer as CpuBuffer).data;
        for (let j = 0; j < outs.length; j++) outs[j] = (call.outputs[j] as CpuBuffer).data;
        run(outs, xs, ps, call.scalars);
      },
      release: () => {},
    };
  }

  async sync(): Promise<void> {}

  destroy(): void {
    this.destroyed = true;
  }
}

/** Creates a cpu backend instance. Importing the package also registers one as `'cpu'`. */
export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}
