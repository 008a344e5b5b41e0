/**
 * Fused ops (batch norm, linear, the cross-entropy forward) against their composition
 * (`composedOnly`) and against float64 references: forward values and gradients, plus the
 * |mean| >> std batch-norm accuracy case and batch norm's fused ReLU against batch norm then
 * relu, bit for bit. The optimizer rules are pointwise programs with one
 * path; `@nabla/optim`'s tests check them against float64 and PyTorch on every backend.
 */

import type { Tensor } from '@nabla/core';
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { assertClose, type Tol, toRef, toTensor } from './util.js';

const TOL: Tol = { rtol: 1e-4, atol: 1e-5 };

interface Run {
  outputs: R.Ref[];
  grads: (R.Ref | null)[];
}

/**
 * Evaluates `fn` on leaves made from `inputs` (null stays null), back-propagates
 * `Σ out[0] * gradOut`, and returns every output and each input's gradient.
 */
async function evaluate(
  fn: (xs: (Tensor | null)[]) => Tensor[],
  inputs: (R.Ref | null)[],
  gradOut: R.Ref,
  composed: boolean,
): Promise<Run> {
  const leaves = inputs.map((r) =>
    r ? nb.tensor(Float32Array.from(r.data), { shape: r.shape, requiresGrad: true }) : null,
  );
  const outs = nb.tidy(() => {
    const run = () => fn(leaves);
    const o = composed ? nb.composedOnly(run) : run();
    const seed = toTensor(gradOut);
    if (composed) nb.composedOnly(() => o[0].backward(seed));
    else o[0].backward(seed);
    return o;
  });
  const outputs = await Promise.all(outs.map(toRef));
  const grads = await Promise.all(leaves.map((l) => (l?.grad ? toRef(l.grad) : null)));
  for (const t of [...outs, ...leaves]) t?.dispose();
  return { outputs, grads };
}

/** Checks fused (default path) against composed and both against the reference outputs. */
async function fusedVsComposed(
  label: string,
  fn: (xs: (Tensor | null)[]) => Tensor[],
  inputs: (R.Ref | null)[],
  gradOut: R.Ref,
  expected: R.Ref[],
  tol: Tol = TOL,
): Promise<void> {
  const fused = await evaluate(fn, inputs, gradOut, false);
  const composed = await evaluate(fn, inputs, gradOut, true);
  expected.forEach((e, i) => {
    expect(fused.outputs[i].shape, `${label} output ${i} shape`).toEqual(e.shape);
    assertClose(fused.outputs[i].data, e.data, tol, `${label}: fused output ${i} vs float64`);
    assertClose(composed.outputs[i].data, e.data, tol, `${label}: composed output ${i} vs float64`);
  });
  inputs.forEach((r, i) => {
    if (!r) return;
    const f = fused.grads[i];
    const c = composed.grads[i];
    if (!f || !c) throw new Error(`${label}: input ${i} got no gradient (fused ${!!f}, composed ${!!c})`);
    assertClose(f.data, c.data, tol, `${label}: gradient of input ${i}, fused vs composed`);
  });
}

/** The bits of each float32 value (so -0, +0 and NaNs are told apart). */
async function bits(t: Tensor): Promise<number[]> {
  return Array.from(new Uint32Array(Float32Array.from(await t.data()).buffer));
}

/**
 * Batch norm with `relu: true` and batch norm followed by `relu()` on the active backend's own
 * path (`composed` runs both under `composedOnly`): output, statistics and every gradient, by
 * their bits. Channel 0 is constant, so its normalised value is exactly 0 and, with a
 * non-positive bias, so is its ReLU output: there dy is NaN, which relu's gradient must drop.
 */
async function bnReluBitwise(
  shape: number[],
  affine: boolean,
  composed: boolean,
  r: () => number,
): Promise<void> {
  const c = shape[1];
  const x = R.randomRef(r, shape, -3, 3);
  const x3 = shape.length === 2 ? [...shape, 1] : shape;
  for (let i = 0; i < x.data.length; i++) if (Math.floor(i / x3[2]) % c === 0) x.data[i] = 1.5;
  const w = R.randomRef(r, [c], 0.5, 2);
  const b = R.randomRef(r, [c]);
  b.data[0] = -0.25;
  const dy = R.build(shape, (idx) => (idx[1] === 0 ? Number.NaN : 2 * r() - 1));
  const run = async (fused: boolean) => {
    const leaves = [x, w, b].map((t) =>
      nb.tensor(Float32Array.from(t.data), { shape: t.shape, requiresGrad: true }),
    );
    const [tx, tw, tb] = [leaves[0], affine ? leaves[1] : null, affine ? leaves[2] : null];
    const go = () => {
      const o = nb.batchNormTrain(tx, tw, tb, 1e-5, { relu: fused });
      const output = fused ? o.output : o.output.relu();
      nb.tidy(() => output.backward(toTensor(dy)));
      return { ...o, output, extra: fused ? [] : [o.output] };
    };
    const o = composed ? nb.composedOnly(go) : go();
    const grads = affine ? leaves : leaves.slice(0, 1);
    const got = await Promise.all([o.output, o.mean, o.variance, ...grads.map((l) => l.grad!)].map(bits));
    for (const t of [o.output, o.mean, o.variance, ...o.extra, ...leaves]) t.dispose();
    return got;
  };
  const [fusedBits, unfusedBits] = [await run(true), await run(false)];
  const names = ['output', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
  const label = `batchNormTrain relu [${shape}] affine=${affine}${composed ? ' (composed)' : ''}`;
  unfusedBits.forEach((u, i) => {
    expect(fusedBits[i], `${label}: ${names[i]}, fused vs batch norm then relu`).toEqual(u);
  });
  expect(
    fusedBits.slice(3).every((g) => g.every((v) => (v & 0x7f800000) !== 0x7f800000)),
    `${label}: gradients finite (NaN dy masked where the ReLU output is 0)`,
  ).toBe(true);
}

/** Registers the fused-op cases for the active backend. */
export function fusedSuite(): void {
  describe('fused ops: fused vs composed vs float64', () => {
    /**
     * Batch norm over `shapes`, affine or not, fused vs composed vs float64; with `relu`, also
     * bit for bit against batch norm then relu on both paths.
     */
    const batchNormCases = async (seed: number, shapes: number[][], relu: boolean) => {
      const r = R.rng(seed);
      for (const shape of shapes) {
        for (const affine of [true, false]) {
          const x = R.randomRef(r, shape, -3, 3);
          const w = affine ? R.randomRef(r, [shape[1]], 0.5, 2) : null;
          const b = affine ? R.randomRef(r, [shape[1]]) : null;
          const ref = R.batchNorm(x, w, b, 1e-5);
          await fusedVsComposed(
            `batchNormTrain${relu ? ' relu' : ''} [${shape}] affine=${affine}`,
            ([tx, tw, tb]) => {
              const o = nb.batchNormTrain(tx!, tw, tb, 1e-5, { relu });
              return [o.output, o.mean, o.variance];
            },
            [x, w, b],
            R.randomRef(r, shape),
            [relu ? R.map(ref.output, (v) => Math.max(v, 0)) : ref.output, ref.mean, ref.variance],
            { rtol: 1e-3, atol: 1e-4 },
          );
          if (relu) for (const composed of [false, true]) await bnReluBitwise(shape, affine, composed, r);
        }
      }
    };

    for (const [title, seed, lastShape, relu] of [
      [
        'batchNormTrain (N,C) and (N,C,L), with and without affine: outputs, statistics, gradients',
        81,
        [1, 2, 3],
        false,
      ],
      [
        'batchNormTrain with relu: fused vs composed vs float64, and bit for bit batch norm then relu',
        88,
        [2, 6, 7],
        true,
      ],
    ] as const) {
      it(title, () => batchNormCases(seed, [[8, 3], [4, 3, 5], [...lastShape]], relu));
    }

    it('batchNormTrain stays accurate when |mean| >> std (offset 1e4, std 0.05, a constant channel)', async () => {
      const r = R.rng(82);
      // Channel 0 spreads ±1, channel 1 has std ~0.05, channel 2 is constant (variance exactly 0).
      const spread = [1, 0.087, 0];
      const x = R.build([64, 3, 2], ([, c]) =>
        Math.fround(1e4 + spread[c] * (2 * r() - 1) + (c === 2 ? 3.25 : 0)),
      );
      const ref = R.batchNorm(x, null, null, 1e-5);
      // dx in float64 by the closed form: invStd/M · (M·dy − Σdy − xhat·Σ(dy·xhat)), M = N·L.
      const dy = R.randomRef(r, x.shape);
      const xhat = R.build(
        x.shape,
        ([i, c, j]) => (R.at(x, [i, c, j]) - ref.mean.data[c]) * ref.invStd.data[c],
      );
      const sumDy = R.reduce(dy, [0, 2], true, R.reducers.sum);
      const sumDyXhat = R.reduce(
        R.zip(dy, xhat, (p, q) => p * q),
        [0, 2],
        true,
        R.reducers.sum,
      );
      const m = 64 * 2;
      const dx = R.build(x.shape, (idx) => {
        const c = idx[1];
        return (
          (ref.invStd.data[c] / m) * (m * R.at(dy, idx) - sumDy.data[c] - R.at(xhat, idx) * sumDyXhat.data[c])
        );
      });
      for (const composed of [false, true]) {
        const leaf = nb.tensor(Float32Array.from(x.data), { shape: x.shape, requiresGrad: true });
        const run = () => {
          const o = nb.batchNormTrain(leaf, null, null, 1e-5);
          nb.tidy(() => o.output.backward(toTensor(dy)));
          return o;
        };
        const out = composed ? nb.composedOnly(run) : run();
        const label = composed ? 'composed' : 'fused';
        assertClose(await out.mean.data(), ref.mean.data, { rtol: 1e-6, atol: 0 }, `offset mean (${label})`);
        assertClose(
          await out.variance.data(),
          ref.variance.data,
          { rtol: 2e-3, atol: 0 },
          `offset variance (${label})`,
        );
        assertClose(
          await out.output.data(),
          ref.output.data,
          { rtol: 0, atol: 5e-3 },
          `offset output (${label})`,
        );
        assertClose(await leaf.grad!.data(), dx.data, { rtol: 1e-4, atol: 1e-3 }, `offset dx (${label})`);
        for (const t of [out.output, out.mean, out.variance, leaf]) t.dispose();
      }
    });

    it('linear with and without bias and ReLU, 2D and 3D input', async () => {
      const r = R.rng(83);
      for (const xs of [
        [6, 4],
        [2, 3, 4],
        [0, 4],
      ]) {
        for (const bias of [true, false]) {
          for (const relu of [false, true]) {
            const x = R.randomRef(r, xs);
            const w = R.randomRef(r, [5, 4]);
            const b = bias ? R.randomRef(r, [5]) : null;
            const expected = R.linear(x, w, b, relu);
            await fusedVsComposed(
              `linear [${xs}] bias=${bias} relu=${relu}`,
              ([tx, tw, tb]) => [nb.linear(tx!, tw!, tb, { relu })],
              [x, w, b],
              R.randomRef(r, expected.shape),
              [expected],
            );
          }
        }
      }
    });

    it('softmaxCrossEntropy with the default and a custom ignoreIndex, large logits', async () => {
      const r = R.rng(84);
      const targets = [0, 4, -100, 2, 2, 1];
      for (const [ignoreIndex, offset] of [
        [-100, 0],
        [2, 0],
        [-100, 500],
      ]) {
        const logits = R.map(R.randomRef(r, [6, 5], -3, 3), (v) => Math.fround(v + offset));
        const t = targets.map((v) => (v === -100 ? ignoreIndex : v));
        const expected = R.softmaxCrossEntropy(logits, t, ignoreIndex);
        await fusedVsComposed(
          `softmaxCrossEntropy ignore=${ignoreIndex} offset=${offset}`,
          ([tl]) => [nb.softmaxCrossEntropy(tl!, nb.tensor(Int32Array.from(t)), { ignoreIndex })],
          [logits],
          R.randomRef(r, [6]),
          [expected],
          { rtol: 1e-4, atol: 1e-4 },
        );
      }
    });

    it('fused ops read strided inputs (transposed weight, permuted input, sliced logits)', async () => {
      const r = R.rng(87);
      // Leaves are stored transposed/permuted; the op sees views, gradients flow back through them.
      const x = R.randomRef(r, [5, 4]);
      const w = R.randomRef(r, [3, 4]);
      const b = R.randomRef(r, [3]);
      await fusedVsComposed(
        'linear on views',
        ([tx, tw, tb]) => [nb.linear(tx!.t(), tw!.t(), tb, { relu: true })],
        [R.transpose(x, 0, 1), R.transpose(w, 0, 1), b],
        R.randomRef(r, [5, 3]),
        [R.linear(x, w, b, true)],
      );
      const xb = R.randomRef(r, [4, 3, 2]);
      const gamma = R.randomRef(r, [3], 0.5, 2);
      await fusedVsComposed(
        'batchNormTrain on a permuted input',
        ([tx, tw]) => [nb.batchNormTrain(tx!.permute([2, 1, 0]), tw, null, 1e-5).output],
        [R.permute(xb, [2, 1, 0]), gamma],
        R.randomRef(r, [4, 3, 2]),
        [R.batchNorm(xb, gamma, null, 1e-5).output],
        { rtol: 1e-3, atol: 1e-4 },
      );
      const logits = R.randomRef(r, [4, 6]);
      const targets = [4, 0, 2, 2];
      await fusedVsComposed(
        'softmaxCrossEntropy on sliced, transposed logits',
        ([tl]) => [
          nb.softmaxCrossEntropy(
            tl!.t().slice(1, 1, 6),
            nb.tensor(Int32Array.from([9, ...targets, 9])).slice(0, 1, 5),
          ),
        ],
        [R.transpose(logits, 0, 1)],
        R.randomRef(r, [4]),
        [R.softmaxCrossEntropy(R.slice(logits, 1, 1, 6), targets)],
      );
    });
  });
}
