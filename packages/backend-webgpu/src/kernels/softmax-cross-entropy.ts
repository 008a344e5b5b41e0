/**
 * Fused softmax cross-entropy forward: one workgroup per row computes the row max (the
 * shift; 0 when it is -Infinity), then `logSum = log Σ exp(x - shift)`, giving
 * `loss = (shift - x[target]) + logSum` (0 for ignored rows; NaN for an out-of-range target,
 * which is also reported in the device-error flags, so the next read throws: see
 * ../device-errors.ts; cpu and wasm reject it before the kernel). Shift and logSum are saved for the
 * backward, a pointwise program in core. Parameters: rows, classes, ignoreIndex.
 * exp and ln are the accurate `nb_exp`/`nb_log` of wgsl-math.ts.
 */

import { deviceErrorsDecl, reportBadTarget } from '../device-errors.js';
import type { Binding, Runtime } from '../runtime.js';
import { workgroupReducers } from './reduce-wg.js';
import { flatEntry, grid, PARAMS_HEADER, storage } from './wgsl.js';
import { WGSL_MATH } from './wgsl-math.js';

/** Invocations per row workgroup. */
export const CE_WG = 128;

/** Forward shader source. */
export const softmaxCrossEntropySource = `${PARAMS_HEADER}
${storage(1, 'logits', 'f32', false)}
${storage(2, 'targets', 'i32', false)}
${storage(3, 'loss', 'f32', true)}
${storage(4, 'shiftOut', 'f32', true)}
${storage(5, 'logSumOut', 'f32', true)}
${deviceErrorsDecl(6)}
${workgroupReducers(CE_WG)}
${WGSL_MATH}
${flatEntry(CE_WG)}
  let row = group;
  if (row >= pu(0u)) { return; }
  let C = pu(1u);
  let base = row * C;
  var mx = -f32Inf();
  for (var c = lid; c < C; c += ${CE_WG}u) {
    let v = logits[base + c];
    mx = select(max(mx, v), f32Nan(), isNan(v) || isNan(mx));
  }
  let rowMax = wgMax(lid, mx);
  let shift = select(rowMax, 0.0, rowMax == -f32Inf());
  var s = 0.0;
  for (var c = lid; c < C; c += ${CE_WG}u) { s += nb_exp(logits[base + c] - shift); }
  let logSum = nb_log(wgSum(lid, s));
  if (lid == 0u) {
    let t = targets[row];
    shiftOut[row] = shift;
    logSumOut[row] = logSum;
    if (t == pi(2u)) {
      loss[row] = 0.0;
    } else if (t < 0 || u32(t) >= C) {
      loss[row] = f32Nan();
      ${reportBadTarget('row', 'C')}
    } else {
      loss[row] = (shift - logits[base + u32(t)]) + logSum;
    }
  }
}
`;

/**
 * Encodes the forward; `bindings`: logits, targets, then loss, shift, logSum and the
 * device-error flags (written).
 */
export function softmaxCrossEntropy(
  rt: Runtime,
  maxPerDim: number,
  bindings: Binding[],
  rows: number,
  classes: number,
  ignoreIndex: number,
): void {
  if (rows === 0) return;
  rt.dispatch({
    source: softmaxCrossEntropySource,
    label: 'softmaxCrossEntropy',
    bindings,
    params: (w) => w.us([rows, classes]).i(ignoreIndex),
    groups: grid(rows, maxPerDim),
  });
}
