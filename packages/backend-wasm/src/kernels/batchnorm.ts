/** Batch norm: training statistics and normalization, and the backward; channels split across threads. */
import type { BackendBuffer, BatchNormBackwardArgs, BatchNormShape, BatchNormTrainArgs } from '@nabla/core';
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
export function batchNormTrain(rt: Runtime, args: BatchNormTrainArgs): void {
  const { x, gamma, beta, out, mean, variance, shape: s, eps } = args;
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
export function batchNormBackward(rt: Runtime, args: BatchNormBackwardArgs): void {
  const { dy, x, mean, variance, gamma, dx, dgamma, dbeta, shape: s, eps } = args;
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
