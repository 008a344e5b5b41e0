/**
 * Batch norm: training statistics and normalization, and the backward, each optionally fused
 * with ReLU; channels split across threads.
 */
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

/** A batch-norm kernel argument: a pointer to an (N, C, L) array, or to a [C] one (0 when absent). */
type ChannelArg = readonly [ptr: number, shape: 'ncl' | 'c'];

/**
 * Runs batch-norm export `kernel` over channel slices, across the pool: each job gets `args`
 * offset to its first channel c0, then n, its channel count, c, l, eps, its scratch slice and
 * `flags`.
 */
function parallelOverChannels(
  rt: Runtime,
  kernel: string,
  s: BatchNormShape,
  eps: number,
  args: readonly ChannelArg[],
  flags: readonly number[] = [],
): void {
  const per = rt.bnScratchPerChannel;
  const scratch = rt.scratch(s.c * per + 64);
  // indexed loops, no destructuring or spreads: this runs per call from the first training step
  const ranges = channelJobs(rt, s);
  const jobs: number[][] = [];
  for (let j = 0; j < ranges.length; j++) {
    const c0 = ranges[j][0];
    const job: number[] = [];
    for (let i = 0; i < args.length; i++) {
      const ptr = args[i][0];
      job.push(ptr && ptr + c0 * (args[i][1] === 'ncl' ? s.l : 1) * 4);
    }
    job.push(s.n, ranges[j][1], s.c, s.l, eps, scratch + c0 * per);
    for (let i = 0; i < flags.length; i++) job.push(flags[i]);
    jobs.push(job);
  }
  rt.parallel(kernel, jobs);
}

/** Training batch-norm forward: out (ReLU'd when `relu`), mean[c], biased variance[c]; channels split across threads. */
export function batchNormTrain(rt: Runtime, args: BatchNormTrainArgs): void {
  const { x, gamma, beta, out, mean, variance, shape: s, eps, relu } = args;
  parallelOverChannels(
    rt,
    'bn_train',
    s,
    eps,
    [
      [own(x, 'batchNorm input').ptr, 'ncl'],
      [ptrOr0(gamma, 'batchNorm weight'), 'c'],
      [ptrOr0(beta, 'batchNorm bias'), 'c'],
      [own(out, 'batchNorm output').ptr, 'ncl'],
      [own(mean, 'batchNorm mean').ptr, 'c'],
      [own(variance, 'batchNorm variance').ptr, 'c'],
    ],
    [relu ? 1 : 0],
  );
}

/**
 * Batch-norm backward: dx, dgamma, dbeta through the batch statistics, dy masked by
 * `reluOutput` when given; channels split across threads.
 */
export function batchNormBackward(rt: Runtime, args: BatchNormBackwardArgs): void {
  const { dy, x, mean, variance, gamma, dx, dgamma, dbeta, reluOutput, shape: s, eps } = args;
  parallelOverChannels(rt, 'bn_backward', s, eps, [
    [own(dy, 'batchNormBackward dy').ptr, 'ncl'],
    [own(x, 'batchNormBackward input').ptr, 'ncl'],
    [own(mean, 'batchNormBackward mean').ptr, 'c'],
    [own(variance, 'batchNormBackward variance').ptr, 'c'],
    [ptrOr0(gamma, 'batchNormBackward weight'), 'c'],
    [own(dx, 'batchNormBackward dx').ptr, 'ncl'],
    [own(dgamma, 'batchNormBackward dgamma').ptr, 'c'],
    [own(dbeta, 'batchNormBackward dbeta').ptr, 'c'],
    [ptrOr0(reluOutput, 'batchNormBackward reluOutput'), 'ncl'],
  ]);
}
