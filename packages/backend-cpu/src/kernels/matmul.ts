/**
 * Matrix multiply and the fused linear layer (the same GEMM, weight transposed, bias and ReLU
 * in the store epilogue): a register-blocked GEMM in the GotoBLAS arrangement.
 *
 * `C = op(A) · op(B)` is cut into column blocks of `NC`, K blocks of `KC` and row blocks of
 * `MC`. For each block, B's `[KC, NC]` slice is packed into column panels of `NR` and A's `[MC, KC]` slice into row
 * panels of `MR`, both as float64, k-major, zero-padded to full panels. A generated
 * micro-kernel then keeps an `MR × NR` tile of C in local variables and walks the two panels
 * with unit stride: no branches, no index arithmetic beyond two running offsets, and no
 * float32→float64 conversions inside the loop. Packing is also where transposes are handled,
 * so all four (transA, transB) forms run the same inner loop at the same speed.
 *
 * Each tile is summed in float64; across K blocks the partial sums meet in C itself, so a
 * product with k > KC takes one float32 rounding per 256-deep block.
 *
 * The optional epilogue (bias per column, then ReLU) is applied when the last K block is
 * stored, which is what the fused `linear` kernel uses.
 */
import type { MatmulArgs } from '@nabla/core';
import { compile, kernelCache, noteKernel } from './codegen.js';

/** Rows of C per micro-tile. */
const MR = 4;
/** Columns of C per micro-tile. */
const NR = 8;
/** Depth of one packed block: KC·(MR+NR) doubles of panels stay in L1. */
const KC = 256;
/** Rows of A packed at once: MC·KC doubles (128 KiB) stay in L2. */
const MC = 64;
/** Columns of B packed at once: bounds the scratch panel at KC·NC doubles (2 MiB). */
const NC = 1024;

type MicroKernel = (
  ap: Float64Array,
  pa: number,
  bp: Float64Array,
  pb: number,
  kc: number,
  c: Float32Array,
  cBase: number,
  ldc: number,
  rows: number,
  cols: number,
  accumulate: boolean,
  bias: Float32Array | null,
  biasBase: number,
  relu: boolean,
) => void;

/**
 * Emits the `mr × nr` micro-kernel: accumulators `cRC` in locals, one unrolled
 * multiply-add per tile element per k, then a store that handles partial edge tiles.
 */
function generateMicroKernel(mr: number, nr: number): MicroKernel | null {
  const rs = [...Array(mr).keys()];
  const cs = [...Array(nr).keys()];
  const acc = rs.flatMap((r) => cs.map((c) => `c${r}${c}`));
  const body = `
    let ${acc.map((a) => `${a} = 0`).join(', ')};
    for (let p = 0; p < kc; p++) {
      ${rs.map((r) => `const a${r} = ap[pa + ${r}];`).join(' ')}
      ${cs.map((c) => `const b${c} = bp[pb + ${c}];`).join(' ')}
      ${rs.flatMap((r) => cs.map((c) => `c${r}${c} += a${r} * b${c};`)).join(' ')}
      pa += ${mr};
      pb += ${nr};
    }
    if (rows === ${mr} && cols === ${nr}) {
      ${rs
        .flatMap((r) =>
          cs.map(
            (c) => `{
        const at = cBase + ${r} * ldc + ${c};
        let v = c${r}${c};
        if (accumulate) v += cc[at];
        if (bias !== null) v += bias[biasBase + ${c}];
        if (relu && v < 0) v = 0;
        cc[at] = v;
      }`,
          ),
        )
        .join('\n')}
      return;
    }
    const tile = [${acc.join(', ')}];
    for (let r = 0; r < rows; r++) {
      const row = cBase + r * ldc;
      for (let c = 0; c < cols; c++) {
        let v = tile[r * ${nr} + c];
        if (accumulate) v += cc[row + c];
        if (bias !== null) v += bias[biasBase + c];
        if (relu && v < 0) v = 0;
        cc[row + c] = v;
      }
    }`;
  return compile<MicroKernel>(
    [
      'ap',
      'pa',
      'bp',
      'pb',
      'kc',
      'cc',
      'cBase',
      'ldc',
      'rows',
      'cols',
      'accumulate',
      'bias',
      'biasBase',
      'relu',
    ],
    body,
    `gemm-micro-${mr}x${nr}`,
  );
}

/** The fallback without code generation: the same tile computed with loops over a scratch array. */
function loopMicroKernel(mr: number, nr: number): MicroKernel {
  const tile = new Float64Array(mr * nr);
  return (ap, pa, bp, pb, kc, c, cBase, ldc, rows, cols, accumulate, bias, biasBase, relu) => {
    tile.fill(0);
    for (let p = 0; p < kc; p++, pa += mr, pb += nr) {
      for (let r = 0; r < mr; r++) {
        const a = ap[pa + r];
        for (let q = 0; q < nr; q++) tile[r * nr + q] += a * bp[pb + q];
      }
    }
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        const at = cBase + r * ldc + q;
        let v = tile[r * nr + q];
        if (accumulate) v += c[at];
        if (bias !== null) v += bias[biasBase + q];
        if (relu && v < 0) v = 0;
        c[at] = v;
      }
    }
  };
}

const microCache = kernelCache<string, MicroKernel>();

/** The micro-kernel, generated once per code-generation setting. */
function microKernel(): MicroKernel {
  let k = microCache.get('tile');
  if (k === undefined) {
    const generated = generateMicroKernel(MR, NR);
    noteKernel(generated !== null);
    k = generated ?? loopMicroKernel(MR, NR);
    microCache.set('tile', k);
  }
  return k;
}

/** One operand: `data[offset + i * rowStride + j * colStride]` is logical element (i, j). */
interface Operand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Packs rows `[i0, i0+mc)` × depth `[p0, p0+kc)` of A into MR-row panels, k-major, zero-padded. */
function packA(
  a: Operand,
  i0: number,
  mc: number,
  p0: number,
  kc: number,
  m: number,
  ap: Float64Array,
): void {
  const { data, offset, rowStride, colStride } = a;
  let q = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    for (let r = 0; r < MR; r++) {
      const i = i0 + ir + r;
      let dst = q + r;
      if (i < m && ir + r < mc) {
        let src = offset + i * rowStride + p0 * colStride;
        for (let p = 0; p < kc; p++, src += colStride, dst += MR) ap[dst] = data[src];
      } else {
        for (let p = 0; p < kc; p++, dst += MR) ap[dst] = 0;
      }
    }
    q += kc * MR;
  }
}

/** Packs depth `[p0, p0+kc)` × columns `[j0, j0+nc)` of B into NR-column panels, k-major, zero-padded. */
function packB(b: Operand, p0: number, kc: number, j0: number, nc: number, bp: Float64Array): void {
  const { data, offset, rowStride, colStride } = b;
  const n = j0 + nc;
  let q = 0;
  for (let jr = j0; jr < n; jr += NR) {
    for (let c = 0; c < NR; c++) {
      const j = jr + c;
      let dst = q + c;
      if (j < n) {
        let src = offset + p0 * rowStride + j * colStride;
        for (let p = 0; p < kc; p++, src += rowStride, dst += NR) bp[dst] = data[src];
      } else {
        for (let p = 0; p < kc; p++, dst += NR) bp[dst] = 0;
      }
    }
    q += kc * NR;
  }
}

/**
 * `m < MR` rows (a matrix-vector product, a batch of one through `linear`): a padded
 * micro-tile would waste most of its work and packing B would cost as much as the product,
 * so B is read in place: rows of B as axpy updates when they are contiguous, otherwise
 * (B transposed, as in `linear`) columns as dot products with four partial sums.
 */
function gemmFewRows(
  A: Operand,
  B: Operand,
  c: Float32Array,
  cOffset: number,
  m: number,
  n: number,
  k: number,
  bias: Float32Array | null,
  relu: boolean,
): void {
  const a = A.data;
  const b = B.data;
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const aRow = A.offset + i * A.rowStride;
    const as = A.colStride;
    if (B.colStride === 1) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[aRow + p * as];
        const row = B.offset + p * B.rowStride;
        for (let j = 0; j < n; j++) acc[j] += av * b[row + j];
      }
    } else {
      const k4 = k - (k % 4);
      for (let j = 0; j < n; j++) {
        const col = B.offset + j * B.colStride;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let p = 0;
        for (; p < k4; p += 4) {
          s0 += a[aRow + p * as] * b[col + p];
          s1 += a[aRow + (p + 1) * as] * b[col + p + 1];
          s2 += a[aRow + (p + 2) * as] * b[col + p + 2];
          s3 += a[aRow + (p + 3) * as] * b[col + p + 3];
        }
        for (; p < k; p++) s0 += a[aRow + p * as] * b[col + p];
        acc[j] = s0 + s1 + (s2 + s3);
      }
    }
    const out = cOffset + i * n;
    for (let j = 0; j < n; j++) {
      let v = acc[j];
      if (bias !== null) v += bias[j];
      if (relu && v < 0) v = 0;
      c[out + j] = v;
    }
  }
}

/** Scratch panels, grown on demand and reused across calls (kernels run one at a time). */
let scratchA = new Float64Array(0);
let scratchB = new Float64Array(0);

/** Epilogue applied to the final result: `bias[col]` added, then ReLU. */
export interface Epilogue {
  readonly bias: Float32Array | null;
  readonly relu: boolean;
}

/**
 * One GEMM: `c[cOffset..] (m × n, row-major) = op(A) · op(B)` with `op(A): m × k`,
 * `op(B): k × n`, then the epilogue. `transA` means A is stored `[k, m]`; `transB` means B is
 * stored `[n, k]`.
 */
export function gemm(
  a: Float32Array,
  aOffset: number,
  transA: boolean,
  b: Float32Array,
  bOffset: number,
  transB: boolean,
  c: Float32Array,
  cOffset: number,
  m: number,
  n: number,
  k: number,
  epilogue: Epilogue = { bias: null, relu: false },
): void {
  if (m === 0 || n === 0) return;
  const { bias, relu } = epilogue;
  if (k === 0) {
    // An empty sum: zeros, then the epilogue.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let v = bias === null ? 0 : bias[j];
        if (relu && v < 0) v = 0;
        c[cOffset + i * n + j] = v;
      }
    }
    return;
  }
  const A: Operand = { data: a, offset: aOffset, rowStride: transA ? 1 : k, colStride: transA ? m : 1 };
  const B: Operand = { data: b, offset: bOffset, rowStride: transB ? 1 : n, colStride: transB ? k : 1 };
  if (m < MR) {
    gemmFewRows(A, B, c, cOffset, m, n, k, bias, relu);
    return;
  }
  const kcMax = Math.min(k, KC);
  const ncMax = Math.ceil(Math.min(n, NC) / NR) * NR;
  if (scratchB.length < kcMax * ncMax) scratchB = new Float64Array(kcMax * ncMax);
  const mcMax = Math.ceil(Math.min(m, MC) / MR) * MR;
  if (scratchA.length < kcMax * mcMax) scratchA = new Float64Array(kcMax * mcMax);
  const ap = scratchA;
  const bp = scratchB;
  const micro = microKernel();
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      const first = p0 === 0;
      const lastBlock = p0 + kc >= k;
      packB(B, p0, kc, j0, nc, bp);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(A, i0, mc, p0, kc, m, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          const pb = (jr / NR) * kc * NR;
          for (let ir = 0; ir < mc; ir += MR) {
            micro(
              ap,
              (ir / MR) * kc * MR,
              bp,
              pb,
              kc,
              c,
              cOffset + (i0 + ir) * n + j0 + jr,
              n,
              Math.min(MR, mc - ir),
              cols,
              !first,
              lastBlock ? bias : null,
              j0 + jr,
              lastBlock && relu,
            );
          }
        }
      }
    }
  }
}

/** Arguments of a batched matmul: the backend interface's, without the buffers. */
export type BatchedMatmul = Omit<MatmulArgs, 'a' | 'b' | 'out'>;

/** `out[b] = op(A[b]) · op(B[b])` for each batch entry; stride 0 broadcasts an operand. */
export function matmul(a: Float32Array, b: Float32Array, out: Float32Array, args: BatchedMatmul): void {
  const { batch, m, n, k, transA, transB, strideA, strideB } = args;
  const counts = { batch, m, n, k, strideA, strideB };
  for (const name in counts) {
    const v = counts[name as keyof typeof counts];
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`cpu matmul: ${name} must be a count, got ${v}`);
  }
  const needA = batch === 0 ? 0 : (batch - 1) * strideA + m * k;
  const needB = batch === 0 ? 0 : (batch - 1) * strideB + k * n;
  if (a.length < needA || b.length < needB || out.length < batch * m * n) {
    throw new RangeError(
      `cpu matmul: buffers too small for batch ${batch} of [${m}, ${k}]·[${k}, ${n}] ` +
        `(A ${a.length}/${needA}, B ${b.length}/${needB}, out ${out.length}/${batch * m * n})`,
    );
  }
  for (let i = 0; i < batch; i++) {
    gemm(a, i * strideA, transA, b, i * strideB, transB, out, i * m * n, m, n, k);
  }
}

/**
 * Fused linear layer: `out[m, n] = Σ_k x[m, k] · w[n, k] + bias[n]`, then ReLU. The weight
 * is used transposed, which the GEMM handles while packing, and the bias and ReLU run in the
 * GEMM's store epilogue, so the output is written once. `x: [m, k]`, `w: [n, k]`, `bias: [n]`
 * or null, `out: [m, n]`.
 */
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
