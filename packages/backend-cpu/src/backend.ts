/**
 * The cpu backend: every kernel of the `Backend` interface, on typed arrays, synchronously.
 * This file unwraps and checks buffers (owner, liveness, dtype, size) and hands plain typed
 * arrays to the kernels in `kernels/`, which know nothing about buffers.
 */
import type {
  Backend,
  BackendBuffer,
  BackendCapabilities,
  BackendMemory,
  BatchNormShape,
  DType,
  FusedKernel,
  MatmulArgs,
  PointwiseArgs,
  PreparedKernel,
  ReduceOp,
  StridedView,
  TypedArray,
} from '@nabla/core';
import { CpuBuffer, checked, cpuBuffer, f32, i32 } from './buffer.js';
import { batchNormBackward, batchNormTrain } from './kernels/batchnorm.js';
import { codegenEnabled } from './kernels/codegen.js';
import { gather, scatterAdd } from './kernels/indexing.js';
import { linear, matmul } from './kernels/matmul.js';
import { type ArrayView, checkBounds, planPointwise, pointwise } from './kernels/pointwise.js';
import { reduce } from './kernels/reduce.js';
import { softmaxCrossEntropy } from './kernels/softmax-cross-entropy.js';

const FUSED: readonly FusedKernel[] = [
  'batchNormTrain',
  'batchNormBackward',
  'linear',
  'softmaxCrossEntropy',
];

function product(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`cpu backend: invalid shape [${shape}]`);
    n *= s;
  }
  return n;
}

function view(v: StridedView, what: string): ArrayView {
  return { data: cpuBuffer(v.buffer, what).data, offset: v.offset, strides: v.strides };
}

function checkCounts(kernel: string, counts: Record<string, number>): void {
  for (const name in counts) {
    const v = counts[name];
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`cpu ${kernel}: ${name} must be a count, got ${v}`);
  }
}

/** The cpu backend's implementation of {@link Backend}; create it with `createCpuBackend()`. */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly capabilities: BackendCapabilities = {
    fused: FUSED,
    readSync: true,
    fallbacks: [],
    // codegen false means a CSP forbids `new Function` and kernels run interpreted (slower).
    info: { threads: 1, simd: false, accumulate: 'float64', codegen: codegenEnabled() },
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

  fill(out: BackendBuffer, value: number): void {
    cpuBuffer(out, 'fill target').data.fill(value);
  }

  // ---- primitive kernels -------------------------------------------------------------

  pointwise(args: PointwiseArgs): void {
    const { inputs, outputs } = this.pointwiseViews(args);
    pointwise(args.program, inputs, args.scalars, outputs, args.shape);
  }

  /** The checked views of a pointwise call's inputs and its output arrays. */
  private pointwiseViews(args: PointwiseArgs): { inputs: ArrayView[]; outputs: TypedArray[] } {
    const { program, shape } = args;
    const n = product(shape);
    const what = `pointwise ${program.name}`;
    const outputs = args.outputs.map(
      (o, j) => checked(o, `${what} output ${j}`, program.outputDtypes[j], n).data,
    );
    if (args.inputs.length !== program.inputs.length || args.scalars.length !== program.scalars.length)
      throw new RangeError(
        `cpu ${what}: expected ${program.inputs.length} inputs and ${program.scalars.length} scalars, ` +
          `got ${args.inputs.length} and ${args.scalars.length}`,
      );
    const inputs = args.inputs.map((v, k) => {
      const x = view(v, `${what} input ${k}`);
      if (v.buffer.dtype !== program.inputs[k])
        throw new TypeError(`cpu ${what}: input ${k} must be ${program.inputs[k]}, got ${v.buffer.dtype}`);
      if (n > 0) checkBounds(x, shape, `${what} input ${k}`); // an empty shape reads nothing
      return x;
    });
    return { inputs, outputs };
  }

  // ---- compiled programs ----------------------------------------------------------------
  /**
   * Pointwise calls are checked and planned once (generated kernel, loop, collapsed strides);
   * each run hands the kernel the arrays the call's buffers hold then.
   */
  prepare(method: string, args: readonly unknown[]): PreparedKernel | null {
    if (method !== 'pointwise') return null;
    const call = args[0] as PointwiseArgs;
    const { inputs } = this.pointwiseViews(call);
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

  reduce(
    op: ReduceOp,
    x: BackendBuffer,
    out: BackendBuffer,
    outer: number,
    size: number,
    inner: number,
  ): void {
    checkCounts('reduce', { outer, size, inner });
    const xb = checked(x, 'reduce input', null, outer * size * inner, op);
    const arg = op === 'argmax' || op === 'argmin';
    const ob = checked(out, 'reduce output', arg ? 'int32' : null, outer * inner, op);
    reduce(op, xb.data, ob.data, outer, size, inner);
  }

  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, args: MatmulArgs): void {
    const { batch, m, n, k, strideA, strideB } = args;
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

  gather(
    x: BackendBuffer,
    index: BackendBuffer,
    out: BackendBuffer,
    outer: number,
    size: number,
    k: number,
    inner: number,
  ): void {
    checkCounts('gather', { outer, size, k, inner });
    const xb = checked(x, 'gather input', null, outer * size * inner);
    const ob = checked(out, 'gather output', xb.dtype, outer * k * inner);
    gather(xb.data, i32(index, 'gather index', outer * k * inner), ob.data, outer, size, k, inner);
  }

  scatterAdd(
    src: BackendBuffer,
    index: BackendBuffer,
    out: BackendBuffer,
    outer: number,
    size: number,
    k: number,
    inner: number,
  ): void {
    checkCounts('scatterAdd', { outer, size, k, inner });
    const sb = checked(src, 'scatterAdd source', null, outer * k * inner);
    const ob = checked(out, 'scatterAdd output', sb.dtype, outer * size * inner);
    scatterAdd(sb.data, i32(index, 'scatterAdd index', outer * k * inner), ob.data, outer, size, k, inner);
  }

  // ---- fused kernels -------------------------------------------------------------------

  batchNormTrain(
    x: BackendBuffer,
    gamma: BackendBuffer | null,
    beta: BackendBuffer | null,
    out: BackendBuffer,
    mean: BackendBuffer,
    variance: BackendBuffer,
    shape: BatchNormShape,
    eps: number,
  ): void {
    const { n, c, l } = shape;
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
    );
  }

  batchNormBackward(
    dy: BackendBuffer,
    x: BackendBuffer,
    mean: BackendBuffer,
    variance: BackendBuffer,
    gamma: BackendBuffer | null,
    dx: BackendBuffer,
    dgamma: BackendBuffer,
    dbeta: BackendBuffer,
    shape: BatchNormShape,
    eps: number,
  ): void {
    const { n, c, l } = shape;
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
    );
  }

  linear(
    x: BackendBuffer,
    w: BackendBuffer,
    bias: BackendBuffer | null,
    out: BackendBuffer,
    m: number,
    n: number,
    k: number,
    relu: boolean,
  ): void {
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

  softmaxCrossEntropy(
    logits: BackendBuffer,
    targets: BackendBuffer,
    loss: BackendBuffer,
    shift: BackendBuffer,
    logSum: BackendBuffer,
    rows: number,
    classes: number,
    ignoreIndex: number,
  ): void {
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

  async sync(): Promise<void> {}

  destroy(): void {
    this.destroyed = true;
  }
}

/** Creates a cpu backend instance. Importing the package also registers one as `'cpu'`. */
export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}
