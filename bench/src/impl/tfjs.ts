/**
 * TensorFlow.js 4.x peer on its `cpu` (plain JS) and `wasm` (XNNPACK) backends, written with
 * core ops the way a user of tfjs-core would: dense weights `[in, out]` (tfjs's layout), BN
 * statistics from `tf.moments`, normalisation with `tf.batchNorm` (whose gradient flows
 * through mean and variance), `tf.train.momentum` (accum = 0.9·accum + g; p -= lr·accum,
 * identical to PyTorch's SGD with momentum and no dampening) for W1 and `tf.train.adam`
 * (bias-corrected moments, ε added to the corrected √v: PyTorch's rule) for W5 and W6.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { linearInit, nclToNlc, randint, randn, transpose2d } from '../data.js';
import { ADAM, BN, type CaseId, SGD, type Sizes } from '../spec.js';
import type { Impl, Prepared } from './types.js';

const require = createRequire(import.meta.url);

interface Mlp {
  dense: { w: tf.Variable; b: tf.Variable }[];
  bn: { gamma: tf.Variable; beta: tf.Variable; mean: tf.Variable; var: tf.Variable }[];
}

function makeMlp(widths: readonly number[]): Mlp {
  const dense = [];
  const bn = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const { w, b } = linearInit(widths[i], widths[i + 1], 100 + i);
    dense.push({
      w: tf.variable(tf.tensor2d(transpose2d(w, widths[i + 1], widths[i]), [widths[i], widths[i + 1]])),
      b: tf.variable(tf.tensor1d(b)),
    });
    if (i + 2 < widths.length) bn.push(makeBn(widths[i + 1]));
  }
  return { dense, bn };
}

function makeBn(c: number) {
  return {
    gamma: tf.variable(tf.ones([c])),
    beta: tf.variable(tf.zeros([c])),
    mean: tf.variable(tf.zeros([c]), false),
    var: tf.variable(tf.ones([c]), false),
  };
}

/** PyTorch's running-stat rule: r = (1-m)·r + m·batch, with the unbiased variance for `var`. */
function updateRunning(bn: Mlp['bn'][number], mean: tf.Tensor, variance: tf.Tensor, count: number): void {
  tf.tidy(() => {
    const m = BN.momentum;
    bn.mean.assign(tf.add(tf.mul(bn.mean, 1 - m), tf.mul(mean.reshape(bn.mean.shape), m)));
    const unbiased = tf.mul(variance.reshape(bn.var.shape), count / (count - 1));
    bn.var.assign(tf.add(tf.mul(bn.var, 1 - m), tf.mul(unbiased, m)));
  });
}

/** Forward of the W1 network; in training mode the batch statistics are kept in `stats`. */
function forward(mlp: Mlp, x: tf.Tensor2D, stats: tf.Tensor[] | null): tf.Tensor2D {
  let h: tf.Tensor = x;
  mlp.dense.forEach((d, i) => {
    h = tf.fused.matMul({ a: h, b: d.w, bias: d.b });
    const bn = mlp.bn[i];
    if (!bn) return;
    if (stats) {
      const { mean, variance } = tf.moments(h, 0);
      stats.push(tf.keep(mean), tf.keep(variance));
      h = tf.batchNorm(h, mean, variance, bn.beta, bn.gamma, BN.eps);
    } else {
      h = tf.batchNorm(h, bn.mean, bn.var, bn.beta, bn.gamma, BN.eps);
    }
    h = tf.relu(h);
  });
  return h as tf.Tensor2D;
}

function disposeAll(ts: tf.Tensor[]): void {
  for (const t of ts) t.dispose();
}

/** Creates the tfjs implementation on `backend`. */
export async function createTfjs(backend: 'cpu' | 'wasm'): Promise<Impl> {
  const info: Record<string, string | number | boolean> = {};
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(`${dir}/`);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
    info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    info.multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    info.threads = wasm.getThreadsCount();
  } else {
    if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
    await tf.ready();
    info.threads = 1;
  }
  const layout = 'channels-last library: N,C,L is transposed to N,L,C and back inside the timed region';
  return {
    id: `tfjs-${backend}`,
    library: `@tensorflow/tfjs ${tf.version.tfjs}`,
    info,
    notes: {
      '*': 'dense weights stored [in,out] (tfjs layout); Linear via tf.fused.matMul with bias',
      W1: 'labels one-hot encoded inside the step for tf.losses.softmaxCrossEntropy',
      W5: 'labels one-hot encoded inside the step; eager (tfjs has no capture/JIT)',
      W6: 'labels one-hot encoded inside the step; eager (tfjs has no capture/JIT)',
      W2b_3d: layout,
      W2b_3d_channels_last: 'N,L,C data, statistics over N and L, no transposes',
    },
    supports: () => true,
    prepare: async (id, sizes) => prepare(id, sizes),
  };
}

function prepare(id: CaseId, sizes: Sizes): Prepared {
  switch (id) {
    case 'W1':
      return prepareTrain(sizes.mlp, sizes.w1Batch, 'sgd', 1, 2);
    case 'W5':
      return prepareTrain(sizes.w5.mlp, sizes.w5.batch, 'adam', 8, 9);
    case 'W6':
      return prepareTrain(sizes.w6.mlp, sizes.w6.batch, 'adam', 10, 11);
    case 'W4':
      return prepareW4(sizes);
    case 'W2a_2d':
    case 'W2b_3d':
    case 'W2b_3d_channels_last':
      return prepareW2(id, sizes);
    default:
      return prepareW3(id, sizes);
  }
}

/** A training step (W1: SGD with momentum; W5, W6: Adam) of the MLP at `widths`. */
function prepareTrain(
  widths: readonly number[],
  batch: number,
  optimizer: 'sgd' | 'adam',
  xSeed: number,
  labelSeed: number,
): Prepared {
  const [inF, , , classes] = widths;
  const mlp = makeMlp(widths);
  const x = tf.tensor2d(randn(batch * inF, xSeed), [batch, inF]);
  const labels = tf.tensor1d(randint(batch, classes, labelSeed), 'int32');
  const opt =
    optimizer === 'sgd'
      ? tf.train.momentum(SGD.lr, SGD.momentum)
      : tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const vars = [...mlp.dense.flatMap((d) => [d.w, d.b]), ...mlp.bn.flatMap((b) => [b.gamma, b.beta])];
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      const stats: tf.Tensor[] = [];
      const loss = opt.minimize(
        () => {
          const logits = forward(mlp, x, stats);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits) as tf.Scalar;
        },
        true,
        vars,
      )!;
      mlp.bn.forEach((bn, i) => {
        updateRunning(bn, stats[2 * i], stats[2 * i + 1], batch);
      });
      disposeAll(stats);
      last = await loss.data();
      loss.dispose();
    },
    dispose: () => {
      opt.dispose();
      disposeAll([x, labels, ...vars, ...mlp.bn.flatMap((b) => [b.mean, b.var])]);
    },
  };
}

function prepareW4(sizes: Sizes): Prepared {
  const mlp = makeMlp(sizes.mlp);
  const x = tf.tensor2d(randn(sizes.w4Batch * sizes.mlp[0], 3), [sizes.w4Batch, sizes.mlp[0]]);
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      const logits = tf.tidy(() => forward(mlp, x, null));
      last = await logits.data();
      logits.dispose();
    },
    dispose: () =>
      disposeAll([x, ...mlp.dense.flatMap((d) => [d.w, d.b]), ...mlp.bn.flatMap((b) => Object.values(b))]),
  };
}

function prepareW2(id: CaseId, sizes: Sizes): Prepared {
  const [n, c, l] = id === 'W2a_2d' ? [...sizes.w2a, 1] : sizes.w2b;
  const shape = id === 'W2a_2d' ? [n, c] : id === 'W2b_3d' ? [n, c, l] : [n, l, c];
  let xData = randn(n * c * l, 4);
  let dyData = randn(n * c * l, 5);
  if (id === 'W2b_3d_channels_last') {
    // the same values as the N,C,L case, laid out channels-last before timing
    xData = nclToNlc(xData, n, c, l);
    dyData = nclToNlc(dyData, n, c, l);
  }
  const x = tf.tensor(xData, shape);
  const dy = tf.tensor(dyData, shape);
  const bn = makeBn(c);
  const statsAxes = id === 'W2a_2d' ? [0] : [0, 1];
  const transpose = id === 'W2b_3d';
  let stats: tf.Tensor[] = [];
  const grads = tf.grads((xi: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    const xt = transpose ? tf.transpose(xi, [0, 2, 1]) : xi;
    const { mean, variance } = tf.moments(xt, statsAxes);
    stats = [tf.keep(mean), tf.keep(variance)];
    const y = tf.batchNorm(xt, mean, variance, beta, gamma, BN.eps);
    return transpose ? tf.transpose(y, [0, 2, 1]) : y;
  });
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      const [dx, dgamma, dbeta] = grads([x, bn.gamma, bn.beta], dy);
      updateRunning(bn, stats[0], stats[1], n * l);
      disposeAll(stats);
      last = await dgamma.data();
      disposeAll([dx, dgamma, dbeta]);
    },
    dispose: () => disposeAll([x, dy, ...Object.values(bn)]),
  };
}

function prepareW3(id: CaseId, sizes: Sizes): Prepared {
  const s = sizes.w3;
  const a = tf.tensor2d(randn(s * s, 6), [s, s]);
  const b = tf.tensor2d(randn(s * s, 7), [s, s]);
  const ta = id === 'W3_AtB';
  const tb = id === 'W3_ABt';
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: () => {
      const c = tf.matMul(a, b, ta, tb);
      last = c.dataSync();
      c.dispose();
    },
    dispose: () => disposeAll([a, b]),
  };
}
