/**
 * Gradient checks: for every differentiable op, autograd's gradient of `Σ out · w` (w random)
 * against central finite differences of a float64 reference implementation of the same op,
 * over random shapes and broadcasts drawn by fast-check. Inputs avoid kinks (relu/abs at 0).
 */

import type { Tensor } from '@nabla/core';
import * as nb from '@nabla/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { assertClose, toRef } from './util.js';

/** One gradient check: inputs, the op under test, and its float64 reference. */
interface Case {
  label: string;
  inputs: R.Ref[];
  run: (ts: Tensor[]) => Tensor;
  ref: (rs: R.Ref[]) => R.Ref;
  /** Run forward and backward with fused kernels disabled. */
  composed?: boolean;
}

type Domain = 'any' | 'pos' | 'away';

/** Values for a domain: anywhere, positive (log, sqrt, pow bases), or away from 0 (kinks, divisors). */
function draw(r: () => number, shape: readonly number[], domain: Domain): R.Ref {
  if (domain === 'any') return R.randomRef(r, shape, -2, 2);
  if (domain === 'pos') return R.randomRef(r, shape, 0.5, 2);
  return R.map(R.randomRef(r, shape, 0.3, 2), (v) => (r() < 0.5 ? -v : v));
}

const dim = fc.integer({ min: 1, max: 3 });
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dim, { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 1, max: 1_000_000 });

/** Two shapes that broadcast: drop leading dims of a base shape and turn some dims to 1. */
const broadcastPair = shapeArb(0, 3).chain((base) =>
  fc
    .tuple(
      fc.constant(base),
      fc.nat({ max: base.length }),
      fc.nat({ max: base.length }),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
    )
    .map(
      ([b, da, db, oa, ob]) =>
        [b.map((d, i) => (oa[i] ? 1 : d)).slice(da), b.map((d, i) => (ob[i] ? 1 : d)).slice(db)] as const,
    ),
);

/** Shape with random axes (a subset) and keepDim. */
const reduceArb = shapeArb(1, 3).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.subarray(
      shape.map((_, i) => i),
      { minLength: 1 },
    ),
    fc.boolean(),
    seedArb,
  ),
);

function unaryCase(
  name: string,
  domain: Domain,
  run: (t: Tensor) => Tensor,
  f: (x: number) => number,
): [string, fc.Arbitrary<Case>] {
  return [
    name,
    fc.tuple(shapeArb(), seedArb).map(([s, seed]) => ({
      label: `${name} [${s}]`,
      inputs: [draw(R.rng(seed), s, domain)],
      run: ([x]) => run(x),
      ref: ([x]) => R.map(x, f),
    })),
  ];
}

function binaryCase(
  name: string,
  da: Domain,
  db: Domain,
  run: (a: Tensor, b: Tensor) => Tensor,
  f: (a: number, b: number) => number,
): [string, fc.Arbitrary<Case>] {
  return [
    name,
    fc.tuple(broadcastPair, seedArb).map(([[sa, sb], seed]) => {
      const r = R.rng(seed);
      return {
        label: `${name} [${sa}]·[${sb}]`,
        inputs: [draw(r, sa, da), draw(r, sb, db)],
        run: ([a, b]) => run(a, b),
        ref: ([a, b]) => R.zip(a, b, f),
      };
    }),
  ];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const CASES: [string, fc.Arbitrary<Case>][] = [
  unaryCase(
    'neg',
    'any',
    (x) => x.neg(),
    (x) => -x,
  ),
  unaryCase('exp', 'any', (x) => x.exp(), Math.exp),
  unaryCase('log', 'pos', (x) => x.log(), Math.log),
  unaryCase('log1p', 'pos', (x) => x.log1p(), Math.log1p),
  unaryCase('sqrt', 'pos', (x) => x.sqrt(), Math.sqrt),
  unaryCase(
    'rsqrt',
    'pos',
    (x) => x.rsqrt(),
    (x) => 1 / Math.sqrt(x),
  ),
  unaryCase('abs', 'away', (x) => x.abs(), Math.abs),
  unaryCase(
    'relu',
    'away',
    (x) => x.relu(),
    (x) => Math.max(x, 0),
  ),
  unaryCase('sigmoid', 'any', (x) => x.sigmoid(), sigmoid),
  unaryCase('tanh', 'any', (x) => x.tanh(), Math.tanh),
  // Activations defined as pointwise programs (core/ops/activations.ts).
  unaryCase(
    'gelu',
    'any',
    (x) => nb.gelu(x),
    (x) => 0.5 * x * (1 + nb.erf64(x / Math.SQRT2)),
  ),
  unaryCase(
    'gelu tanh',
    'any',
    (x) => nb.gelu(x, { approximate: 'tanh' }),
    (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  ),
  unaryCase(
    'silu',
    'any',
    (x) => nb.silu(x),
    (x) => x * sigmoid(x),
  ),
  unaryCase(
    'leakyRelu',
    'away',
    (x) => nb.leakyRelu(x, 0.2),
    (x) => (x > 0 ? x : 0.2 * x),
  ),
  unaryCase(
    'square',
    'any',
    (x) => x.square(),
    (x) => x * x,
  ),
  unaryCase(
    'reciprocal',
    'away',
    (x) => x.reciprocal(),
    (x) => 1 / x,
  ),
  unaryCase(
    'clone',
    'any',
    (x) => x.clone(),
    (x) => x,
  ),
  unaryCase(
    'clamp(-0.5, 0.7)',
    'any',
    (x) => x.clamp(-0.5, 0.7),
    (x) => Math.min(Math.max(x, -0.5), 0.7),
  ),
  unaryCase(
    'clamp(min)',
    'any',
    (x) => x.clamp(0.2),
    (x) => Math.max(x, 0.2),
  ),
  unaryCase(
    'clamp(max)',
    'any',
    (x) => x.clamp(null, -0.1),
    (x) => Math.min(x, -0.1),
  ),
  unaryCase(
    'pow(x, 2.5)',
    'pos',
    (x) => x.pow(2.5),
    (x) => x ** 2.5,
  ),
  unaryCase(
    'sub(1, x)',
    'any',
    (x) => nb.sub(1, x),
    (x) => 1 - x,
  ),
  unaryCase(
    'div(1, x)',
    'away',
    (x) => nb.div(1, x),
    (x) => 1 / x,
  ),
  binaryCase(
    'add',
    'any',
    'any',
    (a, b) => a.add(b),
    (a, b) => a + b,
  ),
  binaryCase(
    'sub',
    'any',
    'any',
    (a, b) => a.sub(b),
    (a, b) => a - b,
  ),
  binaryCase(
    'mul',
    'any',
    'any',
    (a, b) => a.mul(b),
    (a, b) => a * b,
  ),
  binaryCase(
    'div',
    'any',
    'away',
    (a, b) => a.div(b),
    (a, b) => a / b,
  ),
  binaryCase(
    'pow',
    'pos',
    'any',
    (a, b) => a.pow(b),
    (a, b) => a ** b,
  ),
  binaryCase('maximum', 'any', 'any', (a, b) => a.maximum(b), Math.max),
  binaryCase('minimum', 'any', 'any', (a, b) => a.minimum(b), Math.min),
  [
    'where',
    fc.tuple(broadcastPair, seedArb).map(([[sa, sb], seed]) => {
      const r = R.rng(seed);
      const cond = R.randomIntRef(r, sa.length >= sb.length ? sa.map((d, i) => (i % 2 ? 1 : d)) : sb, 0, 1);
      return {
        label: `where [${cond.shape}] [${sa}] [${sb}]`,
        inputs: [draw(r, sa, 'any'), draw(r, sb, 'any')],
        run: ([a, b]) => nb.where(nb.tensor(Int32Array.from(cond.data), { shape: cond.shape }), a, b),
        ref: ([a, b]) => R.select(cond, a, b),
      };
    }),
  ],
  ...(['sum', 'mean', 'max', 'min'] as const).map((op): [string, fc.Arbitrary<Case>] => [
    op,
    reduceArb.map(([s, axes, keepDim, seed]) => ({
      label: `${op} [${s}] axes=${axes} keepDim=${keepDim}`,
      inputs: [draw(R.rng(seed), s, 'any')],
      run: ([x]) => x[op](axes, keepDim),
      ref: ([x]) => R.reduce(x, axes, keepDim, R.reducers[op]),
    })),
  ]),
  ...(['var', 'std'] as const).map((op): [string, fc.Arbitrary<Case>] => [
    op,
    fc
      .tuple(reduceArb, fc.constantFrom(0, 1))
      .filter(([[s, axes], c]) => R.sizeOf(axes.map((a) => s[a])) > c + 1)
      .map(([[s, axes, keepDim, seed], correction]) => ({
        label: `${op} [${s}] axes=${axes} correction=${correction}`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => x[op](axes, { correction, keepDim }),
        ref: ([x]) => {
          const v = R.reduce(x, axes, keepDim, R.reducers.variance(correction));
          return op === 'var' ? v : R.map(v, Math.sqrt);
        },
      })),
  ]),
  [
    'matmul',
    fc
      .tuple(
        fc.constantFrom<[number, number]>([1, 1], [2, 1], [1, 2], [2, 2], [3, 2], [2, 3], [4, 3]),
        dim,
        dim,
        dim,
        fc.boolean(),
        seedArb,
      )
      .map(([[ra, rb], m, k, n, bcast, seed]) => {
        const r = R.rng(seed);
        const sa = ra === 1 ? [k] : [...(ra >= 3 ? [2, ...(ra === 4 ? [bcast ? 1 : 2] : [])] : []), m, k];
        const sb = rb === 1 ? [k] : [...(rb === 3 ? [bcast ? 1 : 2] : []), k, n];
        return {
          label: `matmul [${sa}]·[${sb}]`,
          inputs: [draw(r, sa, 'any'), draw(r, sb, 'any')],
          run: ([a, b]) => a.matmul(b),
          ref: ([a, b]) => R.matmul(a, b),
        };
      }),
  ],
  [
    'matmul of transposed views',
    fc.tuple(dim, dim, dim, seedArb).map(([m, k, n, seed]) => {
      const r = R.rng(seed);
      return {
        label: `matmul aᵀ·bᵀ ${m}x${k}x${n}`,
        inputs: [draw(r, [k, m], 'any'), draw(r, [n, k], 'any')],
        run: ([a, b]) => a.t().matmul(b.t()),
        ref: ([a, b]) => R.matmul(R.transpose(a, 0, 1), R.transpose(b, 0, 1)),
      };
    }),
  ],
  [
    'reshape/flatten/view',
    fc.tuple(shapeArb(1, 3), seedArb).map(([s, seed]) => ({
      label: `reshape [${s}]`,
      inputs: [draw(R.rng(seed), s, 'any')],
      run: ([x]) =>
        x
          .reshape([-1])
          .view([1, R.sizeOf(s)])
          .flatten()
          .exp(),
      ref: ([x]) => R.map(R.reshape(x, [R.sizeOf(s)]), Math.exp),
    })),
  ],
  [
    'transpose/permute',
    fc.tuple(shapeArb(2, 3), seedArb).map(([s, seed]) => {
      const dims = s.map((_, i) => (i + 1) % s.length);
      return {
        label: `permute [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => x.permute(dims).transpose(0, -1).square(),
        ref: ([x]) => R.map(R.transpose(R.permute(x, dims), 0, s.length - 1), (v) => v * v),
      };
    }),
  ],
  [
    'expand',
    fc.tuple(broadcastPair, seedArb).map(([[sa, sb], seed]) => {
      const target = R.broadcastShape(sa, sb)!;
      return {
        label: `expand [${sa}] to [${target}]`,
        inputs: [draw(R.rng(seed), sa, 'any')],
        run: ([x]) => x.expand(target).mul(x),
        ref: ([x]) => R.zip(R.expand(x, target), x, (p, q) => p * q),
      };
    }),
  ],
  [
    'squeeze/unsqueeze',
    fc.tuple(shapeArb(0, 3), fc.nat(3), seedArb).map(([s, at, seed]) => {
      const d = at % (s.length + 1);
      return {
        label: `unsqueeze(${d}) [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => x.unsqueeze(d).tanh().squeeze(d).unsqueeze(0).squeeze(),
        ref: ([x]) =>
          R.reshape(
            R.map(x, Math.tanh),
            s.filter((v) => v !== 1),
          ),
      };
    }),
  ],
  [
    'slice',
    fc.tuple(shapeArb(1, 3), fc.nat(5), fc.nat(5), seedArb).map(([s, a, b, seed]) => {
      const d = a % s.length;
      const start = b % s[d];
      const end = Math.min(s[d], start + 1 + (a % 2));
      return {
        label: `slice(${d}, ${start}, ${end}) [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => x.slice(d, start, end).exp(),
        ref: ([x]) => R.map(R.slice(x, d, start, end), Math.exp),
      };
    }),
  ],
  [
    'concat',
    fc.tuple(shapeArb(1, 3), fc.nat(5), dim, seedArb).map(([s, a, extra, seed]) => {
      const d = a % s.length;
      const s2 = [...s];
      s2[d] = extra;
      const r = R.rng(seed);
      return {
        label: `concat(${d}) [${s}] [${s2}]`,
        inputs: [draw(r, s, 'any'), draw(r, s2, 'any')],
        run: (ts) => nb.concat([ts[0], ts[1], ts[0]], d),
        ref: (rs) => R.concat([rs[0], rs[1], rs[0]], d),
      };
    }),
  ],
  [
    'stack',
    fc.tuple(shapeArb(0, 2), fc.nat(5), seedArb).map(([s, a, seed]) => {
      const d = a % (s.length + 1);
      const r = R.rng(seed);
      const us = [...s.slice(0, d), 1, ...s.slice(d)];
      return {
        label: `stack(${d}) [${s}]`,
        inputs: [draw(r, s, 'any'), draw(r, s, 'any')],
        run: (ts) => nb.stack(ts, d),
        ref: (rs) =>
          R.concat(
            rs.map((x) => R.reshape(x, us)),
            d,
          ),
      };
    }),
  ],
  [
    'gather',
    fc.tuple(shapeArb(1, 3), fc.nat(5), dim, seedArb).map(([s, a, k, seed]) => {
      const d = a % s.length;
      const r = R.rng(seed);
      const is = [...s];
      is[d] = k + 1;
      const index = R.randomIntRef(r, is, 0, s[d] - 1);
      return {
        label: `gather(${d}) [${s}] index [${is}]`,
        inputs: [draw(r, s, 'any')],
        run: ([x]) => x.gather(d, nb.tensor(Int32Array.from(index.data), { shape: is })),
        ref: ([x]) => R.gather(x, d, index),
      };
    }),
  ],
  ...(['softmax', 'logSoftmax'] as const).map((op): [string, fc.Arbitrary<Case>] => [
    op,
    fc.tuple(shapeArb(1, 3), fc.nat(5), seedArb).map(([s, a, seed]) => {
      const d = a % s.length;
      return {
        label: `${op}(${d}) [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => x[op](d),
        ref: ([x]) => (op === 'softmax' ? R.softmax(x, d) : R.logSoftmax(x, d)),
      };
    }),
  ]),
  [
    'logSumExp',
    fc.tuple(shapeArb(1, 3), fc.nat(5), fc.boolean(), seedArb).map(([s, a, keepDim, seed]) => {
      const d = a % s.length;
      return {
        label: `logSumExp(${d}, ${keepDim}) [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) => nb.logSumExp(x, d, keepDim),
        ref: ([x]) => {
          const lse = R.logSumExp(x, d);
          return keepDim
            ? lse
            : R.reshape(
                lse,
                s.filter((_, i) => i !== d),
              );
        },
      };
    }),
  ],
  [
    'contiguous of a permuted view',
    fc.tuple(shapeArb(2, 3), seedArb).map(([s, seed]) => {
      const dims = s.map((_, i) => s.length - 1 - i);
      return {
        label: `contiguous [${s}]`,
        inputs: [draw(R.rng(seed), s, 'any')],
        run: ([x]) =>
          x
            .permute(dims)
            .contiguous()
            .reshape([-1])
            .mul(x.permute(dims).reshape([-1])),
        ref: ([x]) => {
          const p = R.reshape(R.permute(x, dims), [R.sizeOf(s)]);
          return R.zip(p, p, (u, v) => u * v);
        },
      };
    }),
  ],
  [
    'linear',
    fc
      .tuple(shapeArb(0, 2), dim, dim, fc.boolean(), fc.boolean(), seedArb)
      .map(([lead, inF, outF, bias, relu, seed]) => {
        const r = R.rng(seed);
        const inputs = [
          draw(r, [...lead, inF], 'any'),
          draw(r, [outF, inF], 'any'),
          ...(bias ? [draw(r, [outF], 'any')] : []),
        ];
        return {
          label: `linear [${lead},${inF}]→${outF} bias=${bias} relu=${relu}`,
          inputs,
          run: ([x, w, b]) => nb.linear(x, w, b ?? null, { relu }),
          ref: ([x, w, b]) => R.linear(x, w, b ?? null, relu),
        };
      }),
  ],
  [
    'batchNormTrain',
    fc
      .tuple(
        fc.integer({ min: 2, max: 4 }),
        dim,
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        fc.boolean(),
        seedArb,
      )
      .map(([n, c, l, affine, relu, seed]) => {
        const r = R.rng(seed);
        const shape = l === 0 ? [n, c] : [n, c, l];
        const inputs = [draw(r, shape, 'any'), ...(affine ? [draw(r, [c], 'pos'), draw(r, [c], 'any')] : [])];
        return {
          label: `batchNormTrain [${shape}] affine=${affine} relu=${relu}`,
          inputs,
          run: ([x, w, b]) => nb.batchNormTrain(x, w ?? null, b ?? null, 1e-3, { relu }).output,
          ref: ([x, w, b]) => {
            const y = R.batchNorm(x, w ?? null, b ?? null, 1e-3).output;
            return relu ? R.map(y, (v) => Math.max(v, 0)) : y;
          },
        };
      }),
  ],
  [
    'softmaxCrossEntropy',
    fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 4 }), fc.boolean(), seedArb)
      .map(([n, c, ignore, seed]) => {
        const r = R.rng(seed);
        const targets = Array.from({ length: n }, (_, i) => (ignore && i === 0 ? -100 : Math.floor(r() * c)));
        return {
          label: `softmaxCrossEntropy [${n}, ${c}] targets ${targets}`,
          inputs: [draw(r, [n, c], 'any')],
          run: ([x]) => nb.softmaxCrossEntropy(x, nb.tensor(Int32Array.from(targets)), { ignoreIndex: -100 }),
          ref: ([x]) => R.softmaxCrossEntropy(x, targets),
        };
      }),
  ],
];

// The fused ops once more on their composed path, so both paths are checked against float64.
for (const name of ['linear', 'batchNormTrain', 'softmaxCrossEntropy']) {
  const [, arb] = CASES.find(([n]) => n === name)!;
  CASES.push([
    `${name} (composed)`,
    arb.map((c) => ({ ...c, label: `${c.label} (composed)`, composed: true })),
  ]);
}

/** Σ ref(inputs) · w in float64. */
function weighted(c: Case, inputs: R.Ref[], w: R.Ref): number {
  const out = c.ref(inputs);
  let s = 0;
  for (let i = 0; i < out.data.length; i++) s += out.data[i] * w.data[i];
  return s;
}

/** Central differences of the float64 reference, one input element at a time. */
function numericGrads(c: Case, w: R.Ref, h = 1e-5): R.Ref[] {
  return c.inputs.map((input, k) => {
    const grad = new Float64Array(input.data.length);
    for (let j = 0; j < input.data.length; j++) {
      const shifted = (delta: number) =>
        c.inputs.map((x, i) =>
          i === k ? { shape: x.shape, data: x.data.map((v, q) => (q === j ? v + delta : v)) } : x,
        );
      grad[j] = (weighted(c, shifted(h), w) - weighted(c, shifted(-h), w)) / (2 * h);
    }
    return { shape: input.shape, data: grad };
  });
}

async function gradcheck(c: Case, seed: number): Promise<void> {
  const expectedOut = c.ref(c.inputs);
  const w = R.randomRef(R.rng(seed ^ 0x5bd1e995), expectedOut.shape, -1, 1);
  const leaves = c.inputs.map((x) =>
    nb.tensor(Float32Array.from(x.data), { shape: x.shape, requiresGrad: true }),
  );
  const forwardBackward = () =>
    nb.tidy(() => {
      const y = c.run(leaves);
      const weights = nb.tensor(Float32Array.from(w.data), { shape: w.shape });
      nb.tidy(() => y.mul(weights).sum().backward());
      return y;
    });
  const out = c.composed ? nb.composedOnly(forwardBackward) : forwardBackward();
  try {
    assertClose((await toRef(out)).data, expectedOut.data, { rtol: 1e-4, atol: 1e-5 }, `${c.label}: forward`);
    const numeric = numericGrads(c, w);
    for (const [k, leaf] of leaves.entries()) {
      if (!leaf.grad) throw new Error(`${c.label}: input ${k} got no gradient`);
      const g = await toRef(leaf.grad);
      if (g.shape.join() !== leaf.shape.join())
        throw new Error(
          `${c.label}: gradient of input ${k} has shape [${g.shape}], input has [${leaf.shape}]`,
        );
      assertClose(
        g.data,
        numeric[k].data,
        { rtol: 2e-3, atol: 2e-4 },
        `${c.label}: gradient of input ${k} vs float64 finite differences`,
      );
    }
  } finally {
    out.dispose();
    for (const l of leaves) l.dispose();
  }
}

/** Gradient of `Σ fn(x)` at `values`. */
async function gradAt(values: number[], fn: (x: Tensor) => Tensor): Promise<number[]> {
  const x = nb.tensor(values, { requiresGrad: true });
  nb.tidy(() => fn(x).sum().backward());
  const g = [...(await x.grad!.data())];
  x.dispose();
  return g;
}

/** The conventions at kinks and ties, which finite differences cannot check. */
function conventionsSuite(): void {
  describe('gradient conventions at kinks and ties', () => {
    it('relu and abs have gradient 0 at 0; clamp passes the gradient at its bounds', async () => {
      expect(await gradAt([-1, 0, 2], (x) => x.relu())).toEqual([0, 0, 1]);
      expect(await gradAt([-1, 0, 2], (x) => x.abs())).toEqual([-1, 0, 1]);
      expect(await gradAt([-1, 0, 1, 2], (x) => x.clamp(0, 1))).toEqual([0, 1, 1, 0]);
    });

    it('pow at a zero base or a zero exponent gives 0, not NaN (PyTorch)', async () => {
      const a = nb.tensor([0, 2, 0, 3], { requiresGrad: true });
      const b = nb.tensor([2, 0, 0, 2], { requiresGrad: true });
      nb.tidy(() => a.pow(b).sum().backward());
      assertClose(await a.grad!.data(), [0, 0, 0, 6], { rtol: 1e-5, atol: 0 }, 'd pow / d base');
      assertClose(
        await b.grad!.data(),
        [0, Math.log(2), 0, 9 * Math.log(3)],
        { rtol: 1e-5, atol: 0 },
        'd pow / d exponent',
      );
      assertClose(await gradAt([0, 1], (x) => x.pow(2)), [0, 2], { rtol: 1e-5, atol: 0 }, 'd x^2 / dx');
      a.dispose();
      b.dispose();
    });

    it('max/min reductions and maximum/minimum split ties evenly', async () => {
      expect(await gradAt([1, 3, 3], (x) => x.max())).toEqual([0, 0.5, 0.5]);
      expect(await gradAt([2, 2, 2, 5], (x) => x.min())).toEqual([1 / 3, 1 / 3, 1 / 3, 0].map(Math.fround));
      expect(await gradAt([1, 4, 4, 0], (x) => x.reshape([2, 2]).max(1))).toEqual([0, 1, 1, 0]);
      expect(await gradAt([1, 2, 3], (x) => x.maximum(2))).toEqual([0, 0.5, 1]);
      expect(await gradAt([1, 2, 3], (x) => x.minimum(2))).toEqual([1, 0.5, 0]);
    });
  });
}

/**
 * Registers one property-based gradient check per differentiable op. The runs are
 * reproducible (fixed seed); `NABLA_GRADCHECK_RUNS` and `NABLA_GRADCHECK_SEED` search deeper.
 */
export function gradcheckSuite(
  numRuns = Number(process.env.NABLA_GRADCHECK_RUNS ?? 12),
  seed = Number(process.env.NABLA_GRADCHECK_SEED ?? 42),
): void {
  conventionsSuite();
  describe('gradient checks (autograd vs float64 central differences)', () => {
    for (const [name, arb] of CASES) {
      it(name, async () => {
        await fc.assert(
          fc.asyncProperty(arb, seedArb, (c, seed) => gradcheck(c, seed)),
          { numRuns, seed },
        );
      });
    }
  });
}
