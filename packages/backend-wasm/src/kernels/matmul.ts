/** Matrix products: batched matmul with transposes and the fused linear layer. */
import type { LinearArgs, MatmulArgs, PreparedKernel } from '@nabla/core';
import { own, type WasmBuffer } from '../buffer.js';
import type { Runtime } from '../runtime.js';

interface Gemm {
  a: number;
  b: number;
  c: number;
  batch: number;
  sa: number;
  sb: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  bias: number;
  relu: boolean;
}

/**
 * Average rows of C per share below which a product is not split further than one share per
 * thread: every share reads all of the packed B, so thin shares trade balance for memory
 * traffic (shareRows then makes the middle shares thinner and the outer ones thicker).
 */
const MIN_SHARE_ROWS = 16;

/** Runs a (batched) sgemm, splitting rows of C, or whole matrices, across threads. */
export function gemm(rt: Runtime, g: Gemm): void {
  const { m, n, k, batch } = g;
  if (m === 0 || n === 0 || batch === 0) return;
  const lda = g.transA ? m : k;
  const ldb = g.transB ? k : n;
  const T = rt.threads;
  const sc = m * n;
  const args = (a: number, c: number, nb: number, rows: number, b: number, t: number, packedB = 0) => [
    a,
    b,
    c,
    nb,
    g.sa,
    g.sb,
    sc,
    rows,
    n,
    k,
    lda,
    ldb,
    n,
    g.transA ? 1 : 0,
    g.transB ? 1 : 0,
    g.bias,
    g.relu ? 1 : 0,
    rt.gemmScratch[t] as number,
    packedB,
  ];
  const macs = m * n * k;
  // below the threshold (see threading.ts) one thread does the whole product
  const minMacs = rt.threading.minParallelMacs;
  if (T < 2 || macs * batch < minMacs) {
    rt.callWith('sgemm_batched', args(g.a, g.c, batch, m, g.b, 0));
    return;
  }
  if (batch >= T && macs < minMacs * 4) {
    // many small products: whole matrices per thread
    const per = Math.ceil(batch / T);
    const jobs: number[][] = [];
    for (let s = 0, t = 0; s < batch; s += per, t++) {
      jobs.push(
        args(g.a + s * g.sa * 4, g.c + s * sc * 4, Math.min(per, batch - s), m, g.b + s * g.sb * 4, t),
      );
    }
    rt.parallel('sgemm_batched', jobs);
    return;
  }
  // large products: the threads first pack op(B) once, together (blocks split between them),
  // then split rows of C (see shareRows) and read the shared packing. Rows go out in several
  // shares per thread, taken by whichever thread is free, so a thread that woke late or runs
  // slower (a worker trails the caller by 10-15% here) does less.
  const rows = shareRows(m, Math.max(T, Math.min(rt.maxShares, Math.floor(m / MIN_SHARE_ROWS))), T);
  const { kc: KC, nc: NC } = rt.gemmBlocking;
  const nBlocks = Math.ceil(n / NC) * Math.ceil(k / KC);
  const packed = rt.packScratch(k * Math.ceil(n / 8) * 8 * 4);
  const perBlock = Math.ceil(nBlocks / T);
  for (let i = 0; i < batch; i++) {
    const a0 = g.a + i * g.sa * 4;
    const b0 = g.b + i * g.sb * 4;
    const c0 = g.c + i * sc * 4;
    if (i === 0 || g.sb !== 0) {
      const packJobs: number[][] = [];
      for (let f = 0; f < nBlocks; f += perBlock) {
        packJobs.push([b0, ldb, g.transB ? 1 : 0, n, k, packed, f, Math.min(perBlock, nBlocks - f)]);
      }
      rt.parallel('pack_b_blocks', packJobs);
    }
    const jobs: number[][] = [];
    for (let t = 0, r = 0; t < rows.length; r += rows[t] as number, t++) {
      const a = g.transA ? a0 + r * 4 : a0 + r * lda * 4;
      jobs.push(args(a, c0 + r * n * 4, 1, rows[t] as number, b0, t, packed));
    }
    rt.parallel('sgemm_batched', jobs);
  }
}

/**
 * Rows of C per share: multiples of 4 (the micro-tile height; the last takes the remainder),
 * summing to m. The caller runs share 0 and then the unowned shares from the last, each worker
 * its own and then the unowned ones from the first (see ThreadPool.run), so the shares that run
 * last lie in the middle of the unowned ones. Those are made the smallest: the thread that
 * finishes first waits at most for a small share, not for an m/shares one.
 */
export function shareRows(m: number, shares: number, threads: number): number[] {
  const unowned = Math.max(0, shares - threads);
  // owned shares and the outer unowned ones weigh `unowned`, the middle ones 1 or 2
  const weights: number[] = [];
  let total = 0;
  for (let s = 0; s < shares; s++) {
    const j = s - threads;
    const w = j < 0 ? Math.max(1, unowned) : 1 + Math.abs(2 * j - (unowned - 1));
    weights.push(w);
    total += w;
  }
  const units = Math.ceil(m / 4);
  const rows: number[] = [];
  let cum = 0;
  let done = 0;
  for (let s = 0; s < shares; s++) {
    cum += weights[s] as number;
    const end = Math.round((units * cum) / total);
    if (end > done) rows.push(Math.min(4 * end, m) - 4 * done);
    done = end;
  }
  return rows;
}

/** `out[b] = op(A[b]) · op(B[b])` (see MatmulArgs). */
export function matmul(rt: Runtime, p: MatmulArgs): void {
  gemm(rt, matmulGemm(p));
}

function matmulGemm(p: MatmulArgs): Gemm {
  const a = own(p.a, 'matmul input A');
  const b = own(p.b, 'matmul input B');
  const out = own(p.out, 'matmul output');
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || out.dtype !== 'float32') {
    throw new Error(
      `wasm backend: matmul supports float32 only, got A ${a.dtype}, B ${b.dtype}, out ${out.dtype}`,
    );
  }
  return {
    a: a.ptr,
    b: b.ptr,
    c: out.ptr,
    batch: p.batch,
    sa: p.strideA,
    sb: p.strideB,
    m: p.m,
    n: p.n,
    k: p.k,
    transA: p.transA,
    transB: p.transB,
    bias: 0,
    relu: false,
  };
}

/** `out = x · wᵀ + bias`, then ReLU when asked: the bias and ReLU ride on the last C store. */
export function linear(rt: Runtime, args: LinearArgs): void {
  gemm(rt, linearGemm(args));
}

function linearGemm({ x: xB, w: wB, bias: biasB, out: outB, m, n, k, relu }: LinearArgs): Gemm {
  const x = own(xB, 'linear input');
  const w = own(wB, 'linear weight');
  const out = own(outB, 'linear output');
  const bias = biasB ? own(biasB, 'linear bias').ptr : 0;
  return {
    a: x.ptr,
    b: w.ptr,
    c: out.ptr,
    batch: 1,
    sa: 0,
    sb: 0,
    m,
    n,
    k,
    transA: false,
    transB: true,
    bias,
    relu,
  };
}

/**
 * A matmul or linear call resolved once for a compiled program: checked once, then each run
 * reads the buffers' current addresses (a program rebinds inputs and outputs) into its gemm.
 */
export function prepareGemm(
  rt: Runtime,
  call: { kernel: 'matmul'; args: MatmulArgs } | { kernel: 'linear'; args: LinearArgs },
): PreparedKernel {
  const ptr = (b: unknown) => (b as WasmBuffer).ptr;
  let g: Gemm;
  let bindOperands: () => void; // A and B (and a linear's bias): matmul and linear name them apart
  if (call.kernel === 'matmul') {
    const p = call.args;
    g = matmulGemm(p);
    bindOperands = () => {
      g.a = ptr(p.a);
      g.b = ptr(p.b);
    };
  } else {
    const p = call.args;
    g = linearGemm(p);
    bindOperands = () => {
      g.a = ptr(p.x);
      g.b = ptr(p.w);
      if (p.bias) g.bias = ptr(p.bias);
    };
  }
  return {
    run: () => {
      bindOperands();
      g.c = ptr(call.args.out);
      gemm(rt, g);
    },
    release: () => {},
  };
}
