/**
 * Fused softmax cross-entropy. Forward: one workgroup per row computes the row max, then
 * `Σ exp(x - max)`, giving `logSumExp` and `loss = logSumExp - x[target]` (0 for ignored
 * rows, NaN for an out-of-range target). Backward: one invocation per logit.
 * Parameters: rows, classes, ignoreIndex.
 */

import { workgroupReducers } from './reduce-wg.js';
import { flatEntry, PARAMS_HEADER, storage, WG } from './wgsl.js';

/** Invocations per row workgroup. */
export const CE_WG = 128;

/** Forward shader source. */
export const softmaxCrossEntropySource = `${PARAMS_HEADER}
${storage(1, 'logits', 'f32', false)}
${storage(2, 'targets', 'i32', false)}
${storage(3, 'loss', 'f32', true)}
${storage(4, 'lse', 'f32', true)}
${workgroupReducers(CE_WG)}
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
  for (var c = lid; c < C; c += ${CE_WG}u) { s += exp(logits[base + c] - rowMax); }
  let logSumExp = rowMax + log(wgSum(lid, s));
  if (lid == 0u) {
    let t = targets[row];
    lse[row] = logSumExp;
    if (t == pi(2u)) {
      loss[row] = 0.0;
    } else if (t < 0 || u32(t) >= C) {
      loss[row] = f32Nan();
    } else {
      loss[row] = logSumExp - logits[base + u32(t)];
    }
  }
}
`;

/** Backward shader source: `dlogits = g * (softmax - onehot)`, zero rows where ignored. */
export const softmaxCrossEntropyBackwardSource = `${PARAMS_HEADER}
${storage(1, 'logits', 'f32', false)}
${storage(2, 'targets', 'i32', false)}
${storage(3, 'lse', 'f32', false)}
${storage(4, 'gradLoss', 'f32', false)}
${storage(5, 'dlogits', 'f32', true)}
${flatEntry(WG)}
  let C = pu(1u);
  if (gid >= pu(0u) * C) { return; }
  let row = gid / C;
  let c = gid % C;
  let t = targets[row];
  if (t == pi(2u)) {
    dlogits[gid] = 0.0;
    return;
  }
  let p = exp(logits[gid] - lse[row]);
  dlogits[gid] = gradLoss[row] * (p - select(0.0, 1.0, i32(c) == t));
}
`;
