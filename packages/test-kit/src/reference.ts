/** Float64 reference loops that several backends' kernel tests check against. */
import type { MatmulArgs } from '@nabla/core';

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
