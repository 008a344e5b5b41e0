/** Fused kernels: batch-norm statistics and backward, the softmax cross-entropy forward. */
import type { BackendBuffer, BatchNormShape } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

const ptrOr0 = (b: BackendBuffer | null, what: string) => (b ? own(b, what).ptr : 0);

/**
 * Channel ranges for the batch-norm kernels: [c0, count] per thread, multiples of 4 so each
 * thread's scratch slice (c0 * per-channel bytes) stays 16-byte aligned.
 */
function channelJobs(rt: Runtime, s: BatchNormShape): [number, number][] {
  const T = rt.threads;
  if (T < 2 || s.n * s.c * s.l < rt.threading.minParallelElements / 4 || s.c < 2 * T) return [[0, s.c]];
  const per = Math.ceil(s.c / T / 4) * 4;
  const out: [number, number][] = [];
  for (let c0 = 0; c0 < s.c; c0 += per) out.push([c0, Math.min(per, s.c - c0)]);
  return out;
}

/** Training batch-norm forward: out, mean[c], biased variance[c]; channels split across threads. */
export function batchNormTrain(
  rt: Runtime,
  x: BackendBuffer,
  gamma: BackendBuffer | null,
  beta: BackendBuffer | null,
  out: BackendBuffer,
  mean: BackendBuffer,
  variance: BackendBuffer,
  s: BatchNormShape,
  eps: number,
): void {
  const per = rt.bnScratchPerChannel;
  const scratch = rt.scratch(s.c * per + 64);
  const [px, pg, pb] = [
    own(x, 'batchNorm input').ptr,
    ptrOr0(gamma, 'batchNorm weight'),
    ptrOr0(beta, 'batchNorm bias'),
  ];
  const [po, pm, pi] = [
    own(out, 'batchNorm output').ptr,
    own(mean, 'batchNorm mean').ptr,
    own(variance, 'batchNorm variance').ptr,
  ];
  const jobs = channelJobs(rt, s).map(([c0, cc]) => [
    px + c0 * s.l * 4,
    pg && pg + c0 * 4,
    pb && pb + c0 * 4,
    po + c0 * s.l * 4,
    pm + c0 * 4,
    pi + c0 * 4,
    s.n,
    cc,
    s.c,
    s.l,
    eps,
    scratch + c0 * per,
  ]);
  rt.parallel('bn_train', jobs);
}

/** Batch-norm backward: dx, dgamma, dbeta through the batch statistics; channels split across threads. */
export function batchNormBackward(
  rt: Runtime,
  dy: BackendBuffer,
  x: BackendBuffer,
  mean: BackendBuffer,
  variance: BackendBuffer,
  gamma: BackendBuffer | null,
  dx: BackendBuffer,
  dgamma: BackendBuffer,
  dbeta: BackendBuffer,
  s: BatchNormShape,
  eps: number,
): void {
  const per = rt.bnScratchPerChannel;
  const scratch = rt.scratch(s.c * per + 64);
  const [pdy, px] = [own(dy, 'batchNormBackward dy').ptr, own(x, 'batchNormBackward input').ptr];
  const [pm, pi, pg] = [
    own(mean, 'batchNormBackward mean').ptr,
    own(variance, 'batchNormBackward variance').ptr,
    ptrOr0(gamma, 'batchNormBackward weight'),
  ];
  const [pdx, pdg, pdb] = [
    own(dx, 'batchNormBackward dx').ptr,
    own(dgamma, 'batchNormBackward dgamma').ptr,
    own(dbeta, 'batchNormBackward dbeta').ptr,
  ];
  const jobs = channelJobs(rt, s).map(([c0, cc]) => [
    pdy + c0 * s.l * 4,
    px + c0 * s.l * 4,
    pm + c0 * 4,
    pi + c0 * 4,
    pg && pg + c0 * 4,
    pdx + c0 * s.l * 4,
    pdg + c0 * 4,
    pdb + c0 * 4,
    s.n,
    cc,
    s.c,
    s.l,
    eps,
    scratch + c0 * per,
  ]);
  rt.parallel('bn_backward', jobs);
}

/** Row split of a `[rows, classes]` job across threads. */
function rowJobs(
  rt: Runtime,
  rows: number,
  classes: number,
  make: (r0: number, n: number) => number[],
): number[][] {
  const T = rt.threads;
  if (T < 2 || rows * classes < rt.threading.minParallelElements || rows < T) return [make(0, rows)];
  const per = Math.ceil(rows / T);
  const jobs: number[][] = [];
  for (let r = 0; r < rows; r += per) jobs.push(make(r, Math.min(per, rows - r)));
  return jobs;
}

/** Per-row softmax cross-entropy, saving each row's shift (its maximum) and log Σ exp(row - shift). */
export function softmaxCrossEntropy(
  rt: Runtime,
  logitsB: BackendBuffer,
  targetsB: BackendBuffer,
  lossB: BackendBuffer,
  shiftB: BackendBuffer,
  logSumB: BackendBuffer,
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  const logits = own(logitsB, 'softmaxCrossEntropy logits').ptr;
  const targets = own(targetsB, 'softmaxCrossEntropy targets');
  if (targets.dtype !== 'int32')
    throw new Error(`wasm backend: softmaxCrossEntropy targets must be int32, got ${targets.dtype}`);
  const loss = own(lossB, 'softmaxCrossEntropy loss').ptr;
  const shift = own(shiftB, 'softmaxCrossEntropy shift').ptr;
  const logSum = own(logSumB, 'softmaxCrossEntropy logSum').ptr;
  const jobs = rowJobs(rt, rows, classes, (r, n) => [
    logits + r * classes * 4,
    targets.ptr + r * 4,
    loss + r * 4,
    shift + r * 4,
    logSum + r * 4,
    n,
    classes,
    ignoreIndex,
  ]);
  rt.parallel('softmax_ce', jobs);
}
