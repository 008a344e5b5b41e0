// Single-precision GEMM: C[m,n] = op(A)·op(B) (+ bias[n], ReLU) in the GotoBLAS/BLIS layout.
// B is packed into KC×8 column panels and A into 4×KC row panels, so every transpose form
// reaches the same 4×8 register-blocked micro-kernel through unit-stride loads.

/** Depth of one packed block: a 4×KC A panel plus a KC×8 B panel fit in L1 (8 KiB + 16 KiB). */
export const KC: i32 = 512;
/** Rows of A packed at once (MC×KC floats, 128 KiB, stays in L2). */
export const MC: i32 = 64;
/** Columns of B packed at once (KC×NC floats, 1 MiB, stays in L2). KC/MC/NC: best of a sweep here. */
export const NC: i32 = 512;
/** Bytes of scratch one sgemm call needs: packed B, packed A and a 4×8 edge tile. */
export const SCRATCH_BYTES: i32 = (KC * NC + MC * KC + 32) * 4;

/** Stores the 4×4 transpose of rows x0..x3 as four vectors `stride` bytes apart from `dst`. */
// @ts-ignore: decorator
@inline function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(t0, t1, 0, 2));
  v128.store(dst + stride, v128.shuffle<i64>(t0, t1, 1, 3));
  v128.store(dst + 2 * stride, v128.shuffle<i64>(t2, t3, 0, 2));
  v128.store(dst + 3 * stride, v128.shuffle<i64>(t2, t3, 1, 3));
}

/** Packs rows [pc, pc+kc) × columns [jc, jc+nc) of op(B) into 8-wide panels, zero-padded. */
function packB(b: usize, ldb: i32, transB: bool, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += 8) {
    const w = min(8, nc - j0);
    if (!transB && w == 8) {
      let src = b + ((<usize>pc * <usize>ldb + <usize>(jc + j0)) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += (<usize>ldb) << 2;
        dst += 32;
      }
    } else if (transB && w == 8) {
      // op(B)[p, j] = B[j, p]: eight rows of B, four p at a time, two 4×4 transposes
      const r0 = b + ((<usize>(jc + j0) * <usize>ldb + <usize>pc) << 2);
      const rs = <usize>ldb << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const off = r0 + (<usize>p << 2);
        transpose4(v128.load(off), v128.load(off + rs), v128.load(off + 2 * rs), v128.load(off + 3 * rs), dst, 32);
        const o4 = off + 4 * rs;
        transpose4(v128.load(o4), v128.load(o4 + rs), v128.load(o4 + 2 * rs), v128.load(o4 + 3 * rs), dst + 16, 32);
        dst += 128;
      }
      for (; p < kc; p++) {
        for (let q = 0; q < 8; q++) store<f32>(dst + (<usize>q << 2), load<f32>(r0 + <usize>q * rs + (<usize>p << 2)));
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let q = 0; q < 8; q++) {
          let v: f32 = 0;
          if (q < w) {
            const j = jc + j0 + q;
            v = transB
              ? load<f32>(b + ((<usize>j * <usize>ldb + <usize>(pc + p)) << 2))
              : load<f32>(b + ((<usize>(pc + p) * <usize>ldb + <usize>j) << 2));
          }
          store<f32>(dst + ((<usize>q) << 2), v);
        }
        dst += 32;
      }
    }
  }
}

/** Packs rows [ic, ic+mc) × depth [pc, pc+kc) of op(A) into 4-row panels, zero-padded. */
function packA(a: usize, lda: i32, transA: bool, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += 4) {
    const h = min(4, mc - i0);
    if (transA && h == 4) {
      // op(A)[i, p] = A[p, i]: four consecutive i are one unit-stride load
      let src = a + ((<usize>pc * <usize>lda + <usize>(ic + i0)) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        src += (<usize>lda) << 2;
        dst += 16;
      }
    } else if (!transA && h == 4) {
      const r0 = a + ((<usize>(ic + i0) * <usize>lda + <usize>pc) << 2);
      const rs = (<usize>lda) << 2;
      let p = 0;
      // 4×4 transposes: read four rows of four, write four columns of four
      for (; p + 4 <= kc; p += 4) {
        const off = (<usize>p) << 2;
        transpose4(v128.load(r0 + off), v128.load(r0 + rs + off), v128.load(r0 + 2 * rs + off), v128.load(r0 + 3 * rs + off), dst, 16);
        dst += 64;
      }
      for (; p < kc; p++) {
        const off = (<usize>p) << 2;
        store<f32>(dst, load<f32>(r0 + off));
        store<f32>(dst, load<f32>(r0 + rs + off), 4);
        store<f32>(dst, load<f32>(r0 + 2 * rs + off), 8);
        store<f32>(dst, load<f32>(r0 + 3 * rs + off), 12);
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < 4; r++) {
          let v: f32 = 0;
          if (r < h) {
            const i = ic + i0 + r;
            v = transA
              ? load<f32>(a + ((<usize>(pc + p) * <usize>lda + <usize>i) << 2))
              : load<f32>(a + ((<usize>i * <usize>lda + <usize>(pc + p)) << 2));
          }
          store<f32>(dst + ((<usize>r) << 2), v);
        }
        dst += 16;
      }
    }
  }
}

import { micro } from './generated/micro';

/**
 * C[m,n] (row stride ldc) = op(A)·op(B), then + bias[n] and ReLU when given (bias = 0: none).
 * op(A)[i,p] is A[i*lda+p], or A[p*lda+i] when transA; op(B)[p,j] is B[p*ldb+j], or
 * B[j*ldb+p] when transB. `scratch` holds SCRATCH_BYTES, private to the calling thread.
 */
export function sgemm(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  lda: i32,
  ldb: i32,
  ldc: i32,
  transA: bool,
  transB: bool,
  bias: usize,
  relu: bool,
  scratch: usize,
  packedB: usize,
): void {
  const ldcb = (<usize>ldc) << 2;
  if (k == 0) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let v: f32 = bias != 0 ? load<f32>(bias + ((<usize>j) << 2)) : 0;
        if (relu && v < 0) v = 0;
        store<f32>(c + <usize>i * ldcb + ((<usize>j) << 2), v);
      }
    return;
  }
  const pB = scratch;
  const pA = pB + ((<usize>(KC * NC)) << 2);
  const edge = pA + ((<usize>(MC * KC)) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0,
        last = pc + kc >= k;
      // B comes prepacked (shared by the threads, see pack_b_blocks) or is packed here
      const pBb = packedB != 0 ? packedB + (packedOffset(jc, pc, k, nc) << 2) : pB;
      if (packedB == 0) packB(b, ldb, transB, pc, kc, jc, nc, pB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, lda, transA, ic, mc, pc, kc, pA);
        for (let jr = 0; jr < nc; jr += 8) {
          const w = min(8, nc - jr);
          const pb = pBb + ((<usize>(jr * kc)) << 2);
          const col = jc + jr;
          const biasp = bias != 0 ? bias + ((<usize>col) << 2) : 0;
          for (let ir = 0; ir < mc; ir += 4) {
            const h = min(4, mc - ir);
            const pa = pA + ((<usize>(ir * kc)) << 2);
            const cp = c + <usize>(ic + ir) * ldcb + ((<usize>col) << 2);
            if (h == 4 && w == 8) {
              micro(pa, pb, kc, cp, ldcb, first, last, biasp, relu);
            } else {
              // edge tile: compute into a private 4×8 buffer, then merge the valid part
              micro(pa, pb, kc, edge, 32, true, false, 0, false);
              for (let r = 0; r < h; r++)
                for (let q = 0; q < w; q++) {
                  const dst = cp + <usize>r * ldcb + ((<usize>q) << 2);
                  let v = load<f32>(edge + ((<usize>(r * 8 + q)) << 2));
                  if (!first) v += load<f32>(dst);
                  if (last) {
                    if (bias != 0) v += load<f32>(biasp + ((<usize>q) << 2));
                    if (relu && v < 0) v = 0;
                  }
                  store<f32>(dst, v);
                }
            }
          }
        }
      }
    }
  }
}

/** `batch` independent sgemm calls with element strides sa, sb, sc between matrices. */
export function sgemm_batched(
  a: usize,
  b: usize,
  c: usize,
  batch: i32,
  sa: i32,
  sb: i32,
  sc: i32,
  m: i32,
  n: i32,
  k: i32,
  lda: i32,
  ldb: i32,
  ldc: i32,
  transA: bool,
  transB: bool,
  bias: usize,
  relu: bool,
  scratch: usize,
  packedB: usize,
): void {
  for (let i = 0; i < batch; i++) {
    sgemm(
      a + ((<usize>i * <usize>sa) << 2),
      b + ((<usize>i * <usize>sb) << 2),
      c + ((<usize>i * <usize>sc) << 2),
      m,
      n,
      k,
      lda,
      ldb,
      ldc,
      transA,
      transB,
      bias,
      relu,
      scratch,
      packedB,
    );
  }
}

/** Element offset of block (jc, pc) in a whole-matrix packing of op(B) (jc blocks of k×NC). */
// @ts-ignore: decorator
@inline function packedOffset(jc: i32, pc: i32, k: i32, nc: i32): usize {
  return <usize>(jc / NC) * <usize>k * <usize>NC + <usize>pc * <usize>((nc + 7) & ~7);
}

/**
 * Packs blocks [first, first+count) of op(B) (flattened as jc-major, pc-minor) into `dst`,
 * laid out as sgemm reads them with `packedB = dst`: the threads of one product split this
 * once instead of each packing all of B for its rows.
 */
export function pack_b_blocks(b: usize, ldb: i32, transB: bool, n: i32, k: i32, dst: usize, first: i32, count: i32): void {
  const nPc = (k + KC - 1) / KC;
  for (let idx = first; idx < first + count; idx++) {
    const jc = (idx / nPc) * NC;
    const pc = (idx % nPc) * KC;
    if (jc >= n) return;
    const nc = min(NC, n - jc);
    packB(b, ldb, transB, pc, min(KC, k - pc), jc, nc, dst + (packedOffset(jc, pc, k, nc) << 2));
  }
}
