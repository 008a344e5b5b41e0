import { E, pointwiseProgram } from '@nabla/core';
import { randInt, randomArray, rng } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { contiguousStrides, fixture, randomTrials } from './helpers.js';

const x0 = E.input(0);
const SUB = pointwiseProgram('t-sub', { inputs: ['float32', 'float32'], outputs: [E.sub(x0, E.input(1))] });
const ADD = pointwiseProgram('t-add', { inputs: ['float32', 'float32'], outputs: [E.add(x0, E.input(1))] });
const SQUARE = pointwiseProgram('t-square', { inputs: ['float32'], outputs: [E.mul(x0, x0)] });
const RELU = pointwiseProgram('t-relu', { inputs: ['float32'], outputs: [E.select(E.lt(x0, 0), 0, x0)] });
const COPY = pointwiseProgram('t-copy', { inputs: ['float32'], outputs: [x0] });

type F = ReturnType<typeof fixture>;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Float64 two-pass batch-norm statistics and output over (N, C, L). */
function bnReference(
  x: ArrayLike<number>,
  n: number,
  c: number,
  l: number,
  eps: number,
  g?: ArrayLike<number>,
  b?: ArrayLike<number>,
) {
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  const variance = new Float64Array(c);
  const out = new Float64Array(n * c * l);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) s += x[(i * c + ch) * l + j];
    const mu = s / (n * l);
    let ss = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) ss += (x[(i * c + ch) * l + j] - mu) ** 2;
    mean[ch] = mu;
    variance[ch] = ss / (n * l);
    invStd[ch] = 1 / Math.sqrt(ss / (n * l) + eps);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < l; j++) {
        const q = (i * c + ch) * l + j;
        out[q] = (x[q] - mu) * invStd[ch] * (g ? g[ch] : 1) + (b ? b[ch] : 0);
      }
  }
  return { mean, invStd, variance, out };
}

/** Batch-norm statistics composed from the backend's own primitives (reduce, strided binary). */
function bnComposed({ be, buf }: F, x: Float32Array, n: number, c: number, l: number, eps: number) {
  const perCl = be.alloc(c * l, 'float32');
  const sum = be.alloc(c, 'float32');
  const channelSum = (src: ReturnType<F['buf']>) => {
    be.kernels.reduce({ op: 'sum', x: src, out: perCl, outer: 1, size: n, inner: c * l });
    be.kernels.reduce({ op: 'sum', x: perCl, out: sum, outer: c, size: l, inner: 1 });
    return Array.from(be.readSync(sum), (v) => v / (n * l));
  };
  const xb = buf(x);
  const mean = channelSum(xb);
  const centred = be.alloc(x.length, 'float32');
  const meanBuf = buf(new Float32Array(mean));
  be.kernels.pointwise({
    program: SUB,
    inputs: [
      { buffer: xb, offset: 0, strides: contiguousStrides([n, c, l]) },
      { buffer: meanBuf, offset: 0, strides: [0, 1, 0] },
    ],
    scalars: [],
    outputs: [centred],
    shape: [n, c, l],
  });
  const sq = be.alloc(x.length, 'float32');
  be.kernels.pointwise({
    program: SQUARE,
    inputs: [{ buffer: centred, offset: 0, strides: [1] }],
    scalars: [],
    outputs: [sq],
    shape: [x.length],
  });
  const variance = channelSum(sq);
  void eps;
  return { mean, variance };
}

describe('cpu fused batch norm', () => {
  it('matches the float64 reference and the primitive composition on random shapes', () => {
    randomTrials(41, 40, (r, f) => {
      const { be, buf } = f;
      const [n, c, l] = [randInt(r, 1, 6), randInt(r, 1, 5), randInt(r, 1, 4)];
      const affine = r() < 0.5;
      const x = randomArray(r, n * c * l, 'float32', 3) as Float32Array;
      const g = randomArray(r, c, 'float32', 2) as Float32Array;
      const b = randomArray(r, c, 'float32', 2) as Float32Array;
      const out = be.alloc(n * c * l, 'float32');
      const mean = be.alloc(c, 'float32');
      const variance = be.alloc(c, 'float32');
      be.kernels.batchNormTrain({
        x: buf(x),
        gamma: affine ? buf(g) : null,
        beta: affine ? buf(b) : null,
        out,
        mean,
        variance,
        shape: { n, c, l },
        eps: 1e-5,
        relu: false,
      });
      const ref = bnReference(x, n, c, l, 1e-5, affine ? g : undefined, affine ? b : undefined);
      expect(maxAbsDiff(be.readSync(mean), ref.mean)).toBeLessThan(1e-5);
      expect(maxAbsDiff(be.readSync(variance), ref.variance)).toBeLessThan(
        1e-5 * Math.max(1, ...ref.variance),
      );
      expect(maxAbsDiff(be.readSync(out), ref.out)).toBeLessThan(1e-4);
      const comp = bnComposed(f, x, n, c, l, 1e-5);
      expect(maxAbsDiff(be.readSync(mean), comp.mean)).toBeLessThan(1e-5);
      expect(maxAbsDiff(be.readSync(variance), comp.variance)).toBeLessThan(
        1e-3 * Math.max(1, ...comp.variance),
      );
    });
  });

  it('stays accurate for inputs around 1e4 with unit spread', () => {
    const r = rng(42);
    const { be, buf } = fixture();
    const [n, c, l] = [256, 3, 4];
    const x = Float32Array.from({ length: n * c * l }, () => 1e4 + (r() - 0.5) * 2);
    const out = be.alloc(x.length, 'float32');
    const mean = be.alloc(c, 'float32');
    const variance = be.alloc(c, 'float32');
    be.kernels.batchNormTrain({
      x: buf(x),
      gamma: null,
      beta: null,
      out,
      mean,
      variance,
      shape: { n, c, l },
      eps: 1e-5,
      relu: false,
    });
    const ref = bnReference(x, n, c, l, 1e-5);
    for (let ch = 0; ch < c; ch++) {
      expect(Math.abs(be.readSync(mean)[ch] - ref.mean[ch])).toBeLessThan(1e-3); // one float32 ulp at 1e4
      expect(Math.abs(be.readSync(variance)[ch] / ref.variance[ch] - 1)).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(be.readSync(out), ref.out)).toBeLessThan(1e-4);
    // The one-pass float32 formula E[x²]-E[x]² is useless here: the variance (~1/3) is below
    // the float32 resolution of E[x²] (~1e8, ulp 8), so it would come out as 0 or negative.
    let s = Math.fround(0);
    let s2 = Math.fround(0);
    for (let i = 0; i < n * l; i++) {
      const v = x[Math.floor(i / l) * c * l + (i % l)];
      s = Math.fround(s + v);
      s2 = Math.fround(s2 + Math.fround(v * v));
    }
    const naiveVar = Math.fround(s2 / (n * l)) - Math.fround(s / (n * l)) ** 2;
    expect(Math.abs(naiveVar - 1 / ref.invStd[0] ** 2)).toBeGreaterThan(0.1);
  });

  it('backward stays accurate for inputs around 1e4 with a small spread', () => {
    const r = rng(44);
    const { be, buf } = fixture();
    const [n, c, l] = [32, 2, 3];
    const size = n * c * l;
    const x = Float32Array.from({ length: size }, () => 1e4 + (r() - 0.5) * 0.2);
    const dy = randomArray(r, size, 'float32', 1) as Float32Array;
    const mean = be.alloc(c, 'float32');
    const variance = be.alloc(c, 'float32');
    const xb = buf(x);
    be.kernels.batchNormTrain({
      x: xb,
      gamma: null,
      beta: null,
      out: be.alloc(size, 'float32'),
      mean,
      variance,
      shape: { n, c, l },
      eps: 1e-5,
      relu: false,
    });
    const dx = be.alloc(size, 'float32');
    be.kernels.batchNormBackward({
      dy: buf(dy),
      x: xb,
      mean,
      variance,
      gamma: null,
      dx,
      dgamma: be.alloc(c, 'float32'),
      dbeta: be.alloc(c, 'float32'),
      shape: { n, c, l },
      eps: 1e-5,
      reluOutput: null,
    });
    // Float64 closed form with float64 statistics.
    const ref = bnReference(x, n, c, l, 1e-5);
    const want = new Float64Array(size);
    for (let ch = 0; ch < c; ch++) {
      let sd = 0;
      let sdx = 0;
      const xhat = (q: number) => (x[q] - ref.mean[ch]) * ref.invStd[ch];
      for (let i = 0; i < n; i++)
        for (let j = 0; j < l; j++) {
          const q = (i * c + ch) * l + j;
          sd += dy[q];
          sdx += dy[q] * xhat(q);
        }
      for (let i = 0; i < n; i++)
        for (let j = 0; j < l; j++) {
          const q = (i * c + ch) * l + j;
          want[q] = (ref.invStd[ch] / (n * l)) * (n * l * dy[q] - sd - xhat(q) * sdx);
        }
    }
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbsDiff(be.readSync(dx), want) / scale).toBeLessThan(1e-4);
  });

  it('backward matches central differences of the float64 forward', () => {
    const r = rng(43);
    const { be, buf } = fixture();
    for (const [n, c, l, affine] of [
      [4, 3, 1, true],
      [3, 2, 5, false],
      [2, 1, 3, true],
    ] as const) {
      const size = n * c * l;
      const x = randomArray(r, size, 'float32', 2) as Float32Array;
      const dy = randomArray(r, size, 'float32', 1) as Float32Array;
      const g = randomArray(r, c, 'float32', 2) as Float32Array;
      const bta = randomArray(r, c, 'float32', 2) as Float32Array;
      const eps = 1e-3;
      const mean = be.alloc(c, 'float32');
      const variance = be.alloc(c, 'float32');
      const xb = buf(x);
      be.kernels.batchNormTrain({
        x: xb,
        gamma: affine ? buf(g) : null,
        beta: null,
        out: be.alloc(size, 'float32'),
        mean,
        variance,
        shape: { n, c, l },
        eps,
        relu: false,
      });
      const dx = be.alloc(size, 'float32');
      const dgamma = be.alloc(c, 'float32');
      const dbeta = be.alloc(c, 'float32');
      be.kernels.batchNormBackward({
        dy: buf(dy),
        x: xb,
        mean,
        variance,
        gamma: affine ? buf(g) : null,
        dx,
        dgamma,
        dbeta,
        shape: { n, c, l },
        eps,
        reluOutput: null,
      });
      const loss = (xs: ArrayLike<number>, gs: ArrayLike<number>, bs: ArrayLike<number>) =>
        bnReference(xs, n, c, l, eps, gs, bs).out.reduce((acc, v, i) => acc + v * dy[i], 0);
      const ones = new Float64Array(c).fill(1);
      const gUsed = affine ? Float64Array.from(g) : ones;
      const h = 1e-4;
      const numeric = (v: Float64Array, i: number, fn: () => number) => {
        const old = v[i];
        v[i] = old + h;
        const up = fn();
        v[i] = old - h;
        const down = fn();
        v[i] = old;
        return (up - down) / (2 * h);
      };
      const x64 = Float64Array.from(x);
      const b64 = Float64Array.from(bta);
      const dxNum = Array.from(x64, (_, i) => numeric(x64, i, () => loss(x64, gUsed, b64)));
      expect(maxAbsDiff(be.readSync(dx), dxNum)).toBeLessThan(2e-3);
      const dgNum = Array.from(gUsed, (_, i) => numeric(gUsed, i, () => loss(x64, gUsed, b64)));
      const dbNum = Array.from(b64, (_, i) => numeric(b64, i, () => loss(x64, gUsed, b64)));
      expect(maxAbsDiff(be.readSync(dgamma), dgNum)).toBeLessThan(2e-3);
      expect(maxAbsDiff(be.readSync(dbeta), dbNum)).toBeLessThan(2e-3);
    }
  });
});

describe('cpu fused linear', () => {
  it('equals matmul(x, wᵀ) + bias, then relu, composed from primitives', () => {
    randomTrials(51, 40, (r, { be, buf }, trial) => {
      // The last trial crosses a GEMM column block, where the bias index must follow.
      const [m, n, k] =
        trial === 39 ? [3, 1030, 7] : [randInt(r, 0, 9), randInt(r, 1, 9), randInt(r, 0, 300)];
      const relu = r() < 0.5;
      const hasBias = r() < 0.7 || trial === 39;
      const x = buf(randomArray(r, m * k, 'float32', 1));
      const w = buf(randomArray(r, n * k, 'float32', 1));
      const bias = buf(randomArray(r, n, 'float32', 1));
      const fused = be.alloc(m * n, 'float32');
      be.kernels.linear({ x, w, bias: hasBias ? bias : null, out: fused, m, n, k, relu });

      const mm = be.alloc(m * n, 'float32');
      be.kernels.matmul({
        a: x,
        b: w,
        out: mm,
        batch: 1,
        m,
        n,
        k,
        transA: false,
        transB: true,
        strideA: 0,
        strideB: 0,
      });
      const withBias = be.alloc(m * n, 'float32');
      const biasView = { buffer: hasBias ? bias : buf(new Float32Array(n)), offset: 0, strides: [0, 1] };
      be.kernels.pointwise({
        program: ADD,
        inputs: [{ buffer: mm, offset: 0, strides: [n, 1] }, biasView],
        scalars: [],
        outputs: [withBias],
        shape: [m, n],
      });
      const composed = be.alloc(m * n, 'float32');
      be.kernels.pointwise({
        program: relu ? RELU : COPY,
        inputs: [{ buffer: withBias, offset: 0, strides: [n, 1] }],
        scalars: [],
        outputs: [composed],
        shape: [m, n],
      });
      expect(maxAbsDiff(be.readSync(fused), be.readSync(composed))).toBeLessThan(1e-5);
    });
  });
});

describe('cpu fused softmax cross-entropy', () => {
  /** Float64 reference: log-sum-exp minus the target logit. */
  function reference(
    logits: ArrayLike<number>,
    targets: Int32Array,
    rows: number,
    classes: number,
    ignore: number,
  ) {
    const loss: number[] = [];
    const grad: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: classes }, (_, c) => logits[r * classes + c]);
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      const ignored = targets[r] === ignore;
      loss.push(ignored ? 0 : lse - row[targets[r]]);
      row.forEach((v, c) => {
        grad.push(ignored ? 0 : Math.exp(v - lse) - (c === targets[r] ? 1 : 0));
      });
    }
    return { loss, grad };
  }

  it('matches the float64 reference and honours ignoreIndex; saves the shift and log-sum', () => {
    randomTrials(61, 40, (r, { be, buf }) => {
      const rows = randInt(r, 0, 7);
      const classes = randInt(r, 1, 9);
      const ignore = r() < 0.5 ? -100 : randInt(r, 0, classes - 1);
      const logits = randomArray(r, rows * classes, 'float32', 5) as Float32Array;
      const targets = Int32Array.from({ length: rows }, () =>
        r() < 0.2 ? ignore : randInt(r, 0, classes - 1),
      );
      const loss = be.alloc(rows, 'float32');
      const shift = be.alloc(rows, 'float32');
      const logSum = be.alloc(rows, 'float32');
      be.kernels.softmaxCrossEntropy({
        logits: buf(logits),
        targets: buf(targets),
        loss,
        shift,
        logSum,
        rows,
        classes,
        ignoreIndex: ignore,
      });
      const ref = reference(logits, targets, rows, classes, ignore);
      expect(maxAbsDiff(be.readSync(loss), ref.loss)).toBeLessThan(1e-5);
      const sh = be.readSync(shift);
      const lse = Array.from(be.readSync(logSum), (v, i) => v + sh[i]);
      for (let row = 0; row < rows; row++) {
        const vals = Array.from(logits.subarray(row * classes, (row + 1) * classes));
        expect(sh[row]).toBe(Math.max(...vals));
        expect(lse[row]).toBeCloseTo(
          Math.max(...vals) + Math.log(vals.reduce((a, v) => a + Math.exp(v - Math.max(...vals)), 0)),
          5,
        );
      }
    });
  });

  it('is stable for huge logits; an out-of-range target (which core rejects first) gives NaN', () => {
    const { be, buf } = fixture();
    const logits = buf(new Float32Array([1e4, 0, -1e4, 3e38, 3e38, -3e38]));
    const targets = buf(new Int32Array([1, 0]));
    const loss = be.alloc(2, 'float32');
    const shift = be.alloc(2, 'float32');
    const logSum = be.alloc(2, 'float32');
    const args = { logits, targets, loss, shift, logSum, rows: 2, classes: 3, ignoreIndex: -100 };
    be.kernels.softmaxCrossEntropy(args);
    expect(be.readSync(loss)[0]).toBeCloseTo(1e4, 0);
    expect(be.readSync(loss)[1]).toBeCloseTo(Math.LN2, 5);
    expect(be.readSync(logSum)[1]).toBeCloseTo(Math.LN2, 6);
    be.kernels.softmaxCrossEntropy({ ...args, targets: buf(new Int32Array([3, 0])) });
    expect(be.readSync(loss)[0]).toBeNaN();
  });
});
