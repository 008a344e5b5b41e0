/**
 * Fused training-mode batch norm, forward and backward: one workgroup per channel of a
 * contiguous `(N, C, L)` input. Both kernels work on values shifted by the channel's
 * first element (`x - x0` is exact in float32 for nearby values): the shifted mean `ms`, then
 * the variance as a second pass over `((x - x0) - ms)²`, and `xhat` from the same shifted
 * terms. A float32 `mean` near 1e4 is only good to ~5e-4, far too coarse for a std of 0.01,
 * so `xhat` never goes through the stored mean; the backward recomputes `ms` from `x`. The
 * forward stores the mean and the biased variance; the backward forms invStd from the saved
 * variance and eps. Parameters: n, c, l, eps. The optional ReLU is a variant of each shader:
 * the forward clamps as it stores, the backward masks dy as it reads it (relu's gradient), so
 * it costs no pass of its own.
 */

import type { BatchNormShape } from '@nabla/core';
import type { Binding, Runtime } from '../runtime.js';
import { workgroupReducers } from './reduce-wg.js';
import { flatEntry, grid, PARAMS_HEADER, sourceCache, storage } from './wgsl.js';

/** Invocations per channel workgroup. */
export const BN_WG = 128;

const cached = sourceCache();

/** Shared prologue: channel index `ch`, element count `count`, and `at(j)` for the j-th element of the channel. */
const CHANNEL_PROLOGUE = `
  let C = pu(1u);
  let L = pu(2u);
  let ch = group;
  if (ch >= C) { return; }
  let count = pu(0u) * L;`;

/** Shifted channel mean: defines `x0` and `ms` (mean of `x - x0`). */
const SHIFTED_MEAN = `
  let x0 = x[at(ch, 0u)];
  var s = 0.0;
  for (var j = lid; j < count; j += ${BN_WG}u) { s += x[at(ch, j)] - x0; }
  let ms = wgSum(lid, s) / f32(count);`;

const AT = `fn at(ch: u32, j: u32) -> u32 {
  let C = pu(1u);
  let L = pu(2u);
  return ((j / L) * C + ch) * L + j % L;
}`;

/**
 * A per-channel shader: f32 storage bindings numbered from 1 (the read-only `inputs`, then the
 * written `outputs`), the channel prologue and shifted mean (so `body` sees `ch`, `count`,
 * `at`, `x0` and `ms`), then `body`, which must read `x`.
 */
function channelShader(inputs: readonly string[], outputs: readonly string[], body: string): string {
  const binds = [
    ...inputs.map((name, i) => storage(i + 1, name, 'f32', false)),
    ...outputs.map((name, i) => storage(inputs.length + i + 1, name, 'f32', true)),
  ];
  return `${PARAMS_HEADER}
${binds.join('\n')}
${workgroupReducers(BN_WG)}
${AT}
${flatEntry(BN_WG)}
${CHANNEL_PROLOGUE}
${SHIFTED_MEAN}${body}
}
`;
}

/** Forward shader; gamma and beta bindings exist only when present; `relu`: core's `v < 0 ? 0 : v` on the output. */
export function batchNormTrainSource(hasGamma: boolean, hasBeta: boolean, relu: boolean): string {
  return cached(`bn|${hasGamma}|${hasBeta}|${relu}`, () => {
    const scale = hasGamma ? 'invStd * gamma[ch]' : 'invStd';
    const shift = hasBeta ? ' + beta[ch]' : '';
    return channelShader(
      ['x', ...(hasGamma ? ['gamma'] : []), ...(hasBeta ? ['beta'] : [])],
      ['out', 'meanOut', 'varOut'],
      `
  var q = 0.0;
  for (var j = lid; j < count; j += ${BN_WG}u) { let d = (x[at(ch, j)] - x0) - ms; q += d * d; }
  let biasedVar = wgSum(lid, q) / f32(count);
  let invStd = 1.0 / sqrt(biasedVar + pf(3u));
  let a = ${scale};
  for (var j = lid; j < count; j += ${BN_WG}u) {
    let i = at(ch, j);
    let v = ((x[i] - x0) - ms) * a${shift};
    out[i] = ${relu ? 'select(v, 0.0, v < 0.0)' : 'v'};
  }
  if (lid == 0u) {
    meanOut[ch] = x0 + ms;
    varOut[ch] = biasedVar;
  }`,
    );
  });
}

/**
 * Backward shader (the saved mean is not bound: it is recomputed, shifted, from `x`):
 * `invStd = 1/sqrt(var + eps)`, `dbeta = Σdy`, `dgamma = Σ dy·xhat`,
 * `dx = γ·invStd/M·(M·dy − dbeta − xhat·dgamma)`. With `relu`, a `reluOut` binding follows the
 * inputs and dy is read as relu's gradient gives it: `reluOut > 0 ? dy : 0`.
 */
export function batchNormBackwardSource(hasGamma: boolean, relu: boolean): string {
  const dyAt = relu ? 'select(0.0, dy[i], reluOut[i] > 0.0)' : 'dy[i]';
  return cached(`bnb|${hasGamma}|${relu}`, () =>
    channelShader(
      ['dy', 'x', 'varIn', ...(hasGamma ? ['gamma'] : []), ...(relu ? ['reluOut'] : [])],
      ['dx', 'dgamma', 'dbeta'],
      `
  let invStd = 1.0 / sqrt(varIn[ch] + pf(3u));
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var j = lid; j < count; j += ${BN_WG}u) {
    let i = at(ch, j);
    let g = ${dyAt};
    sdy += g;
    sdyx += g * ((x[i] - x0) - ms) * invStd;
  }
  let sumDy = wgSum(lid, sdy);
  let sumDyXhat = wgSum(lid, sdyx);
  let m = f32(count);
  let k = ${hasGamma ? 'gamma[ch]' : '1.0'} * invStd / m;
  for (var j = lid; j < count; j += ${BN_WG}u) {
    let i = at(ch, j);
    let xhat = ((x[i] - x0) - ms) * invStd;
    dx[i] = k * (m * ${dyAt} - sumDy - xhat * sumDyXhat);
  }
  if (lid == 0u) {
    dgamma[ch] = sumDyXhat;
    dbeta[ch] = sumDy;
  }`,
    ),
  );
}

/**
 * Encodes the training forward (`source` from `batchNormTrainSource`; `bindings`: x, [gamma],
 * [beta], then out, mean, variance) or the backward (`batchNormBackwardSource`; dy, x,
 * variance, [gamma], [reluOut], then dx, dgamma, dbeta): one workgroup per channel.
 */
export function batchNorm(
  rt: Runtime,
  maxPerDim: number,
  label: 'batchNormTrain' | 'batchNormBackward',
  source: string,
  bindings: Binding[],
  shape: BatchNormShape,
  eps: number,
): void {
  rt.dispatch({
    source,
    label,
    bindings,
    params: (w) => w.us([shape.n, shape.c, shape.l]).f(eps),
    groups: grid(shape.c, maxPerDim),
  });
}
