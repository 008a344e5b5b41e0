/**
 * In-place optimizer updates, one invocation per parameter element, following PyTorch's
 * `torch.optim.SGD` and `Adam`/`AdamW` rules. Bias corrections are computed on the host in
 * float64 and passed as scalars.
 */
import { flatEntry, PARAMS_HEADER, storage, WG } from './wgsl.js';

const cache = new Map<string, string>();

/**
 * SGD. Parameters: n, lr, momentum, dampening, weightDecay, nesterov, firstStep.
 * The momentum buffer binding exists only in the momentum variant.
 */
export function sgdSource(hasMomentum: boolean): string {
  const key = `sgd|${hasMomentum}`;
  let src = cache.get(key);
  if (src) return src;
  const binds = [storage(1, 'param', 'f32', true), storage(2, 'grad', 'f32', false)];
  if (hasMomentum) binds.push(storage(3, 'buf', 'f32', true));
  const momentum = hasMomentum
    ? `
  let mu = pf(2u);
  var b = g;
  if (pu(6u) == 0u) { b = mu * buf[i] + (1.0 - pf(3u)) * g; }
  buf[i] = b;
  g = select(b, g + mu * b, pu(5u) != 0u);`
    : '';
  src = `${PARAMS_HEADER}
${binds.join('\n')}
${flatEntry(WG)}
  let i = gid;
  if (i >= pu(0u)) { return; }
  let p = param[i];
  var g = grad[i];
  let wd = pf(4u);
  if (wd != 0.0) { g += wd * p; }${momentum}
  param[i] = p - pf(1u) * g;
}
`;
  cache.set(key, src);
  return src;
}

/**
 * Adam / AdamW. Parameters: n, lr, beta1, beta2, eps, weightDecay, decoupled,
 * stepSize (lr / (1 - beta1^t)), sqrtBc2 (sqrt(1 - beta2^t)), 1 - beta1, 1 - beta2 (computed in
 * float64: in float32, 1 - f32(0.999) is 1.3e-5 off, which biases every step). `vMax` only with amsgrad.
 */
export function adamSource(amsgrad: boolean): string {
  const key = `adam|${amsgrad}`;
  let src = cache.get(key);
  if (src) return src;
  const binds = [
    storage(1, 'param', 'f32', true),
    storage(2, 'grad', 'f32', false),
    storage(3, 'm', 'f32', true),
    storage(4, 'v', 'f32', true),
  ];
  if (amsgrad) binds.push(storage(5, 'vMax', 'f32', true));
  const vHat = amsgrad ? `let vh = max(vMax[i], vn);\n  vMax[i] = vh;` : 'let vh = vn;';
  src = `${PARAMS_HEADER}
${binds.join('\n')}
${flatEntry(WG)}
  let i = gid;
  if (i >= pu(0u)) { return; }
  let lr = pf(1u);
  let b1 = pf(2u);
  let b2 = pf(3u);
  let wd = pf(5u);
  var p = param[i];
  var g = grad[i];
  if (pu(6u) != 0u) {
    p = p * (1.0 - lr * wd);
  } else if (wd != 0.0) {
    g += wd * p;
  }
  let mn = b1 * m[i] + pf(9u) * g;
  let vn = b2 * v[i] + pf(10u) * g * g;
  m[i] = mn;
  v[i] = vn;
  ${vHat}
  let denom = sqrt(vh) / pf(8u) + pf(4u);
  param[i] = p - pf(7u) * mn / denom;
}
`;
  cache.set(key, src);
  return src;
}
