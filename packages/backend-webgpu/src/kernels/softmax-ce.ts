/**
 * Fused softmax cross-entropy. Forward: one workgroup per row computes the row max, then
 * `s = Σ exp(x - max)` (a tree sum over the workgroup), giving `logSumExp = max + ln s` and
 * `loss = (max - x[target]) + ln s` (0 for ignored rows, NaN for an out-of-range target).
 * Backward: one workgroup per row. exp and ln are the accurate `nb_exp`/`nb_log` of
 * wgsl-math.ts (WGSL's built-ins are off by up to 60 ulp for exp and 1700 for ln on SwiftShader).
 * Parameters: rows, classes, ignoreIndex.
 */

import { workgroupReducers } from './reduce-wg.js';
import { flatEntry, PARAMS_HEADER, storage } from './wgsl.js';
import { WGSL_MATH } from './wgsl-math.js';

/** Invocations per row workgroup. */
export const CE_WG = 128;

/** Forward shader source. */
export const softmaxCrossEntropySource = `${PARAMS_HEADER}
${storage(1, 'logits', 'f32', false)}
${storage(2, 'targets', 'i32', false)}
${storage(3, 'loss', 'f32', true)}
${storage(4, 'lse', 'f32', true)}
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
  var s = 0.0;
  for (var c = lid; c < C; c += ${CE_WG}u) { s += nb_exp(logits[base + c] - rowMax); }
  let logS = nb_log(wgSum(lid, s));
  let logSumExp = rowMax + logS;
  if (lid == 0u) {
    let t = targets[row];
    lse[row] = logSumExp;
    if (t == pi(2u)) {
      loss[row] = 0.0;
    } else if (t < 0 || u32(t) >= C) {
      loss[row] = f32Nan();
    } else {
      // (max - x[t]) + ln s keeps the loss's digits; (max + ln s) - x[t] would first round
      // the log-sum-exp to float32 (half an ulp of |lse|, not of the loss)
      loss[row] = (rowMax - logits[base + u32(t)]) + logS;
    }
  }
}
`;

/**
 * Backward shader source: `dlogits = g * (softmax - onehot)`, zero rows where ignored. The
 * saved log-sum-exp is rounded to float32, which scales every `exp(x - lse)` of a row by the
 * same factor `1 + δ` (|δ| up to half an ulp of |lse|: 4.8e-7 at |lse| ~ 8); dividing by the
 * row's sum of those exponentials cancels it (as the cpu and wasm backends do), so one
 * workgroup reduces each row.
 */
export const softmaxCrossEntropyBackwardSource = `${PARAMS_HEADER}
${storage(1, 'logits', 'f32', false)}
${storage(2, 'targets', 'i32', false)}
${storage(3, 'lse', 'f32', false)}
${storage(4, 'gradLoss', 'f32', false)}
${storage(5, 'dlogits', 'f32', true)}
${workgroupReducers(CE_WG)}
${WGSL_MATH}
${flatEntry(CE_WG)}
  let row = group;
  if (row >= pu(0u)) { return; }
  let C = pu(1u);
  let base = row * C;
  let l = lse[row];
  var s = 0.0;
  for (var c = lid; c < C; c += ${CE_WG}u) { s += nb_exp(logits[base + c] - l); }
  let k = gradLoss[row] / wgSum(lid, s);
  let t = targets[row];
  let ignored = t == pi(2u);
  let g = gradLoss[row];
  for (var c = lid; c < C; c += ${CE_WG}u) {
    let p = nb_exp(logits[base + c] - l);
    dlogits[base + c] = select(k * p - select(0.0, g, i32(c) == t), 0.0, ignored);
  }
}
`;
