/**
 * Fused linear layer: `out[m, n] = Σ_k x[m, k] · w[n, k] + bias[n]`, then ReLU. The weight
 * is used transposed, which the GEMM handles while packing, and the bias and ReLU run in the
 * GEMM's store epilogue, so the output is written once.
 */
import { gemm } from './matmul.js';

/** See the module comment; `x: [m, k]`, `w: [n, k]`, `bias: [n]` or null, `out: [m, n]`. */
export function linear(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  m: number,
  n: number,
  k: number,
  relu: boolean,
): void {
  gemm(x, 0, false, w, 0, true, out, 0, m, n, k, { bias, relu });
}
