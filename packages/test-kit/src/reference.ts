/** Float64 reference loops that several backends' kernel tests check against. */
import type { BinaryFn, MatmulArgs } from '@nabla/core';

/**
 * Float64 references of core's binary fns, written independently of the backends' renderers:
 * max and min propagate NaN (as `Math.max` does), comparisons give 1 or 0.
 */
export const refBinary: Readonly<Record<BinaryFn, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

/**
 * `out[z] = op(A[z]) · op(B[z])` in float64, plus `bias[j]` and a ReLU when given: the
 * batched, transposed matmul of `MatmulArgs` (strides 0 broadcast one matrix over the batch).
 */
export function refMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  args: Omit<MatmulArgs, 'a' | 'b' | 'out'>,
  epilogue: { bias?: ArrayLike<number>; relu?: boolean } = {},
): Float64Array {
  const { batch, m, n, k, transA, transB, strideA, strideB } = args;
  const out = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[z * strideA + (transA ? p * m + i : i * k + p)];
          const bv = b[z * strideB + (transB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        if (epilogue.bias) s += epilogue.bias[j];
        if (epilogue.relu && s < 0) s = 0;
        out[(z * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

/**
 * Per-row softmax cross-entropy in float64: the row maximum (the kernel's `shift`),
 * `log Σ exp(x - max)` (its `logSum`), their sum (log-sum-exp), and the loss
 * `lse - x[target]` (0 for a row whose target is `ignoreIndex`).
 */
export function refSoftmaxCrossEntropy(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  classes: number,
  ignoreIndex = -100,
): { max: number[]; logSum: number[]; lse: number[]; loss: number[] } {
  const out = { max: [] as number[], logSum: [] as number[], lse: [] as number[], loss: [] as number[] };
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, c) => logits[r * classes + c]);
    const mx = Math.max(...row);
    const z = Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    out.max.push(mx);
    out.logSum.push(z);
    out.lse.push(mx + z);
    out.loss.push(targets[r] === ignoreIndex ? 0 : mx + z - row[targets[r]]);
  }
  return out;
}
