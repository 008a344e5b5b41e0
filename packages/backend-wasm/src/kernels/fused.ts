/** Fused kernels: batch norm, softmax cross-entropy and the in-place optimizer steps. */
import type { AdamStepArgs, BackendBuffer, BatchNormShape, SgdStepArgs } from '@nabla/core';
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

/** Training batch-norm forward: out, mean[c], invStd[c]; channels split across threads. */
export function batchNormTrain(
  rt: Runtime,
  x: BackendBuffer,
  gamma: BackendBuffer | null,
  beta: BackendBuffer | null,
  out: BackendBuffer,
  mean: BackendBuffer,
  invStd: BackendBuffer,
  s: BatchNormShape,
  eps: number,
): void {
  if (s.n * s.l === 0)
    throw new Error(`wasm backend: batchNormTrain over an empty batch (n=${s.n}, l=${s.l})`);
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
    own(invStd, 'batchNorm invStd').ptr,
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
  invStd: BackendBuffer,
  gamma: BackendBuffer | null,
  dx: BackendBuffer,
  dgamma: BackendBuffer,
  dbeta: BackendBuffer,
  s: BatchNormShape,
): void {
  const per = rt.bnScratchPerChannel;
  const scratch = rt.scratch(s.c * per + 64);
  const [pdy, px] = [own(dy, 'batchNormBackward dy').ptr, own(x, 'batchNormBackward input').ptr];
  const [pm, pi, pg] = [
    own(mean, 'batchNormBackward mean').ptr,
    own(invStd, 'batchNormBackward invStd').ptr,
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

/** Per-row softmax cross-entropy and the saved log-sum-exp. */
export function softmaxCrossEntropy(
  rt: Runtime,
  logitsB: BackendBuffer,
  targetsB: BackendBuffer,
  lossB: BackendBuffer,
  lseB: BackendBuffer,
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  const logits = own(logitsB, 'softmaxCrossEntropy logits').ptr;
  const targets = own(targetsB, 'softmaxCrossEntropy targets');
  if (targets.dtype !== 'int32')
    throw new Error(`wasm backend: softmaxCrossEntropy targets must be int32, got ${targets.dtype}`);
  const loss = own(lossB, 'softmaxCrossEntropy loss').ptr;
  const lse = own(lseB, 'softmaxCrossEntropy logSumExp').ptr;
  const jobs = rowJobs(rt, rows, classes, (r, n) => [
    logits + r * classes * 4,
    targets.ptr + r * 4,
    loss + r * 4,
    lse + r * 4,
    n,
    classes,
    ignoreIndex,
  ]);
  rt.parallel('softmax_ce', jobs);
}

/** `dlogits = g * (softmax - onehot)`, zero rows for ignored targets. */
export function softmaxCrossEntropyBackward(
  rt: Runtime,
  logitsB: BackendBuffer,
  targetsB: BackendBuffer,
  lseB: BackendBuffer,
  gB: BackendBuffer,
  dlB: BackendBuffer,
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  const logits = own(logitsB, 'softmaxCrossEntropyBackward logits').ptr;
  const targets = own(targetsB, 'softmaxCrossEntropyBackward targets').ptr;
  const lse = own(lseB, 'softmaxCrossEntropyBackward logSumExp').ptr;
  const g = own(gB, 'softmaxCrossEntropyBackward gradLoss').ptr;
  const dl = own(dlB, 'softmaxCrossEntropyBackward dlogits').ptr;
  const jobs = rowJobs(rt, rows, classes, (r, n) => [
    logits + r * classes * 4,
    targets + r * 4,
    lse + r * 4,
    g + r * 4,
    dl + r * classes * 4,
    n,
    classes,
    ignoreIndex,
  ]);
  rt.parallel('softmax_ce_backward', jobs);
}

/** Splits `n` elements into per-thread ranges of whole SIMD groups: [start, count][]. */
function ranges(rt: Runtime, n: number): [number, number][] {
  const T = rt.threads;
  if (T < 2 || n < rt.threading.minParallelElements) return [[0, n]];
  const per = Math.ceil(n / T / 4) * 4;
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += per) out.push([s, Math.min(per, n - s)]);
  return out;
}

/** In-place SGD step (PyTorch's rule). */
export function sgdStep(
  rt: Runtime,
  paramB: BackendBuffer,
  gradB: BackendBuffer,
  bufB: BackendBuffer | null,
  a: SgdStepArgs,
): void {
  const p = own(paramB, 'sgdStep param');
  const g = own(gradB, 'sgdStep grad');
  if (g.size !== p.size)
    throw new Error(`wasm backend: sgdStep grad has ${g.size} elements, param ${p.size}`);
  const buf =
    a.momentum !== 0 ? own(bufB ?? failNull('sgdStep', 'momentum buffer'), 'sgdStep momentum buffer').ptr : 0;
  const jobs = ranges(rt, p.size).map(([s, n]) => [
    p.ptr + s * 4,
    g.ptr + s * 4,
    buf ? buf + s * 4 : 0,
    n,
    a.lr,
    a.momentum,
    a.dampening,
    a.weightDecay,
    a.nesterov ? 1 : 0,
    a.firstStep ? 1 : 0,
  ]);
  rt.parallel('sgd_step', jobs);
}

/** In-place Adam / AdamW step (PyTorch's rules). */
export function adamStep(
  rt: Runtime,
  paramB: BackendBuffer,
  gradB: BackendBuffer,
  mB: BackendBuffer,
  vB: BackendBuffer,
  vMaxB: BackendBuffer | null,
  a: AdamStepArgs,
): void {
  const p = own(paramB, 'adamStep param');
  const g = own(gradB, 'adamStep grad');
  const m = own(mB, 'adamStep m');
  const v = own(vB, 'adamStep v');
  if (g.size !== p.size)
    throw new Error(`wasm backend: adamStep grad has ${g.size} elements, param ${p.size}`);
  const vmax = a.amsgrad
    ? own(vMaxB ?? failNull('adamStep', 'vMax buffer (amsgrad)'), 'adamStep vMax').ptr
    : 0;
  const bc1 = 1 - a.beta1 ** a.step;
  const bc2 = 1 - a.beta2 ** a.step;
  const jobs = ranges(rt, p.size).map(([s, n]) => [
    p.ptr + s * 4,
    g.ptr + s * 4,
    m.ptr + s * 4,
    v.ptr + s * 4,
    vmax ? vmax + s * 4 : 0,
    n,
    a.lr,
    a.beta1,
    a.beta2,
    a.eps,
    a.weightDecay,
    a.decoupled ? 1 : 0,
    a.amsgrad ? 1 : 0,
    a.lr / bc1,
    1 / Math.sqrt(bc2),
  ]);
  rt.parallel('adam_step', jobs);
}

function failNull(kernel: string, what: string): never {
  throw new Error(`wasm backend: ${kernel} needs a ${what}, got null`);
}
