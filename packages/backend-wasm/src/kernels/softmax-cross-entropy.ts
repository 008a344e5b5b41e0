/** Per-row softmax cross-entropy forward, rows split across threads. */
import type { SoftmaxCrossEntropyArgs } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

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
export function softmaxCrossEntropy(rt: Runtime, args: SoftmaxCrossEntropyArgs): void {
  const { logits: logitsB, targets: targetsB, loss: lossB, shift: shiftB, logSum: logSumB } = args;
  const { rows, classes, ignoreIndex } = args;
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
