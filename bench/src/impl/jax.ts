/**
 * jax-js peer on its `wasm` device, written the way JAX is used: pure functions over pytrees,
 * `valueAndGrad` with the batch statistics as auxiliary output, the whole step under `jit`,
 * state threaded through (params, momentum, running stats in; new ones out). jax-js owns
 * arrays by reference count: every call consumes its arguments, `.ref` keeps one alive.
 *
 * jax-js is lazy, so a step ends with `blockUntilReady` on every new state array as well as
 * the readback the spec names; otherwise work whose result is never read would not be timed.
 */
import {
  blockUntilReady,
  init,
  type Array as JArray,
  jit,
  lax,
  nn,
  numpy as np,
  tree,
  valueAndGrad,
} from '@jax-js/jax';
import { linearInit, randint, randn, transpose2d } from '../data.js';
import { ADAM, BN, type CaseId, SGD, type Sizes } from '../spec.js';
import { versionOf } from '../versions.js';
import type { Impl, Prepared } from './types.js';

const VERSION = versionOf('@jax-js/jax') ?? 'unknown';

type Params = { w: JArray[]; b: JArray[]; gamma: JArray[]; beta: JArray[] };
type Running = { mean: JArray[]; var: JArray[] };

function initParams(widths: readonly number[]): { params: Params; running: Running } {
  const params: Params = { w: [], b: [], gamma: [], beta: [] };
  const running: Running = { mean: [], var: [] };
  for (let i = 0; i + 1 < widths.length; i++) {
    const { w, b } = linearInit(widths[i], widths[i + 1], 100 + i);
    // kernels stored [in, out], as Flax's Dense does
    params.w.push(np.array(transpose2d(w, widths[i + 1], widths[i])).reshape([widths[i], widths[i + 1]]));
    params.b.push(np.array(b));
    if (i + 2 < widths.length) {
      params.gamma.push(np.ones([widths[i + 1]]));
      params.beta.push(np.zeros([widths[i + 1]]));
      running.mean.push(np.zeros([widths[i + 1]]));
      running.var.push(np.ones([widths[i + 1]]));
    }
  }
  return { params, running };
}

/**
 * Training-mode BN over `axes` (keepdims, so `gamma`/`beta` must already broadcast); returns
 * the output and the gradient-stopped batch mean and biased variance.
 */
function bnTrain(h: JArray, gamma: JArray, beta: JArray, axes: number[]): [JArray, JArray, JArray] {
  const mean = np.mean(h.ref, axes, { keepdims: true });
  const variance = np.var_(h.ref, axes, { keepdims: true });
  const y = h
    .sub(mean.ref)
    .div(np.sqrt(variance.ref.add(BN.eps)))
    .mul(gamma)
    .add(beta);
  return [y, lax.stopGradient(mean), lax.stopGradient(variance)];
}

/** PyTorch's running-stat rule: r = (1-m)·r + m·batch, unbiased variance for `var`. */
function updateRunning(r: JArray, batch: JArray, scale: number): JArray {
  return r.mul(1 - BN.momentum).add(batch.reshape(r.shape).mul(BN.momentum * scale));
}

/** Creates the jax-js implementation on its wasm device; throws when the device is missing. */
export async function createJax(): Promise<Impl> {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js init('wasm') returned only [${devices.join(', ')}]`);
  return {
    id: 'jax-wasm',
    library: `@jax-js/jax ${VERSION}`,
    info: {
      device: 'wasm',
      sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
      // jax-js builds its wasm thread pool from the web `Worker` global, which Node 20 lacks
      workerGlobal: typeof (globalThis as { Worker?: unknown }).Worker !== 'undefined',
    },
    notes: {
      '*': 'whole step under jit; lazy arrays, so every output is awaited with blockUntilReady; kernels [in,out]',
      W5: "compiled (jit); Adam written out (jax-js has no optimizer library); the step's bias corrections passed as arrays",
      W6: "compiled (jit); Adam written out (jax-js has no optimizer library); the step's bias corrections passed as arrays",
      W2a_2d: 'dx, dγ, dβ as the gradient of sum(BN(x)·dy) (the VJP with dy), under jit',
      W2b_3d: 'dx, dγ, dβ as the gradient of sum(BN(x)·dy) (the VJP with dy), under jit',
    },
    supports: (id) => (id === 'W2b_3d_channels_last' ? 'channels-first library: N,C,L is native' : true),
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
      return prepareW2(id, sizes);
    default:
      return prepareW3(id, sizes);
  }
}

function forward(p: Params, x: JArray, bn: (h: JArray, i: number) => JArray): JArray {
  let h = x;
  for (let i = 0; i < p.w.length; i++) {
    h = np.matmul(h, p.w[i]).add(p.b[i]);
    if (i < p.gamma.length) h = nn.relu(bn(h, i));
  }
  return h;
}

/**
 * A training step (W1: SGD with momentum; W5, W6: Adam) of the MLP at `widths`, the whole
 * step one jitted function; optimizer state is threaded through like the parameters.
 */
function prepareTrain(
  widths: readonly number[],
  batch: number,
  optimizer: 'sgd' | 'adam',
  xSeed: number,
  labelSeed: number,
): Prepared {
  const [inF, , , classes] = widths;
  let { params, running } = initParams(widths);
  // SGD: one momentum buffer per parameter; Adam: first and second moments
  let mom: Params = tree.map((p: JArray) => np.zerosLike(p.ref), params) as Params;
  let vel: Params = tree.map((p: JArray) => np.zerosLike(p.ref), params) as Params;
  const x = np.array(randn(batch * inF, xSeed)).reshape([batch, inF]);
  const labels = np.array(randint(batch, classes, labelSeed));

  const lossFn = (p: Params, xb: JArray, onehot: JArray): [JArray, Running] => {
    const stats: Running = { mean: [], var: [] };
    const logits = forward(p, xb, (h, i) => {
      const [y, m, v] = bnTrain(h, p.gamma[i], p.beta[i], [0]);
      stats.mean.push(m);
      stats.var.push(v);
      return y;
    });
    const loss = np.negative(np.mean(np.sum(nn.logSoftmax(logits, -1).mul(onehot), -1)));
    return [loss, stats];
  };
  const runningUpdate = (r: Running, stats: Running): Running => ({
    mean: r.mean.map((ri, i) => updateRunning(ri, stats.mean[i], 1)),
    var: r.var.map((ri, i) => updateRunning(ri, stats.var[i], batch / (batch - 1))),
  });
  const grad = (p: Params, xb: JArray, y: JArray) =>
    valueAndGrad(lossFn, { hasAux: true })(tree.ref(p), xb, nn.oneHot(y, classes));
  const sgdStep = jit((p: Params, m: Params, r: Running, xb: JArray, y: JArray) => {
    const [[loss, stats], grads] = grad(p, xb, y);
    // SGD with momentum, PyTorch's rule: buf = 0.9·buf + g; p -= lr·buf (buf starts at 0, so step 1 gives buf = g)
    const newMom = tree.map(
      (mi: JArray, g: JArray) => mi.mul(SGD.momentum).add(g),
      m,
      grads as Params,
    ) as Params;
    const newP = tree.map((pi: JArray, mi: JArray) => pi.sub(mi.mul(SGD.lr)), p, tree.ref(newMom)) as Params;
    return [loss, newP, newMom, runningUpdate(r, stats)] as [JArray, Params, Params, Running];
  });
  // Adam, PyTorch's rule: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
  // p -= (lr / bc1) · m / (√v / √bc2 + ε), with bc = 1 - β^t passed in as arrays (t changes every step)
  const adamStep = jit(
    (
      p: Params,
      m: Params,
      v: Params,
      r: Running,
      xb: JArray,
      y: JArray,
      stepSize: JArray,
      sqrtBc2: JArray,
    ) => {
      const [[loss, stats], grads] = grad(p, xb, y);
      const newM = tree.map(
        (mi: JArray, g: JArray) => mi.mul(ADAM.beta1).add(g.mul(1 - ADAM.beta1)),
        m,
        tree.ref(grads) as Params,
      ) as Params;
      const newV = tree.map(
        (vi: JArray, g: JArray) => vi.mul(ADAM.beta2).add(g.ref.mul(g).mul(1 - ADAM.beta2)),
        v,
        grads as Params,
      ) as Params;
      const newP = tree.map(
        (pi: JArray, mi: JArray, vi: JArray) =>
          pi.sub(mi.mul(stepSize.ref).div(np.sqrt(vi).div(sqrtBc2.ref).add(ADAM.eps))),
        p,
        tree.ref(newM),
        tree.ref(newV),
      ) as Params;
      stepSize.dispose();
      sqrtBc2.dispose();
      return [loss, newP, newM, newV, runningUpdate(r, stats)] as [JArray, Params, Params, Params, Running];
    },
  );
  let t = 0;
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      let loss: JArray;
      if (optimizer === 'sgd') {
        const [l, p, m, r] = sgdStep(params, mom, running, x.ref, labels.ref);
        [loss, params, mom, running] = [l, p, m, r];
      } else {
        t++;
        const stepSize = np.array(new Float32Array([ADAM.lr / (1 - ADAM.beta1 ** t)]));
        const sqrtBc2 = np.array(new Float32Array([Math.sqrt(1 - ADAM.beta2 ** t)]));
        const [l, p, m, v, r] = adamStep(params, mom, vel, running, x.ref, labels.ref, stepSize, sqrtBc2);
        [loss, params, mom, vel, running] = [l, p, m, v, r];
      }
      last = await loss.data();
      await blockUntilReady([params, mom, vel, running]);
    },
    dispose: () => {
      tree.dispose([params, mom, vel, running, x, labels]);
      sgdStep.dispose();
      adamStep.dispose();
    },
  };
}

function prepareW4(sizes: Sizes): Prepared {
  const { params, running } = initParams(sizes.mlp);
  const x = np.array(randn(sizes.w4Batch * sizes.mlp[0], 3)).reshape([sizes.w4Batch, sizes.mlp[0]]);
  const infer = jit((p: Params, r: Running, xb: JArray) =>
    forward(p, xb, (h, i) =>
      h
        .sub(r.mean[i])
        .div(np.sqrt(r.var[i].add(BN.eps)))
        .mul(p.gamma[i])
        .add(p.beta[i]),
    ),
  );
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      last = await infer(tree.ref(params), tree.ref(running), x.ref).data();
    },
    dispose: () => {
      tree.dispose([params, running, x]);
      infer.dispose();
    },
  };
}

function prepareW2(id: CaseId, sizes: Sizes): Prepared {
  const [n, c, l] = id === 'W2a_2d' ? [...sizes.w2a, 1] : sizes.w2b;
  const shape = id === 'W2a_2d' ? [n, c] : [n, c, l];
  const axes = id === 'W2a_2d' ? [0] : [0, 2];
  const pshape = id === 'W2a_2d' ? [c] : [c, 1];
  const x = np.array(randn(n * c * l, 4)).reshape(shape);
  const dy = np.array(randn(n * c * l, 5)).reshape(shape);
  const gamma = np.ones([c]);
  const beta = np.zeros([c]);
  let running: Running = { mean: [np.zeros([c])], var: [np.ones([c])] };
  const bnLoss = (xi: JArray, g: JArray, b: JArray, dyi: JArray): [JArray, Running] => {
    const [y, m, v] = bnTrain(xi, g.reshape(pshape), b.reshape(pshape), axes);
    return [np.sum(y.mul(dyi)), { mean: [m], var: [v] }];
  };
  const fwdBwd = jit((xi: JArray, g: JArray, b: JArray, dyi: JArray, r: Running) => {
    const [[, stats], [dx, dg, db]] = valueAndGrad(bnLoss, { argnums: [0, 1, 2], hasAux: true })(
      xi,
      g,
      b,
      dyi,
    );
    const newR: Running = {
      mean: [updateRunning(r.mean[0], stats.mean[0], 1)],
      var: [updateRunning(r.var[0], stats.var[0], (n * l) / (n * l - 1))],
    };
    return [dx, dg, db, newR] as [JArray, JArray, JArray, Running];
  });
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      const [dx, dg, db, r] = fwdBwd(x.ref, gamma.ref, beta.ref, dy.ref, running);
      running = r;
      last = await dg.data();
      await blockUntilReady([dx, db, running]);
      tree.dispose([dx, db]);
    },
    dispose: () => {
      tree.dispose([x, dy, gamma, beta, running]);
      fwdBwd.dispose();
    },
  };
}

function prepareW3(id: CaseId, sizes: Sizes): Prepared {
  const s = sizes.w3;
  const a = np.array(randn(s * s, 6)).reshape([s, s]);
  const b = np.array(randn(s * s, 7)).reshape([s, s]);
  const lhs = () => (id === 'W3_AtB' ? np.matrixTranspose(a.ref) : a.ref);
  const rhs = () => (id === 'W3_ABt' ? np.matrixTranspose(b.ref) : b.ref);
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      last = await np.matmul(lhs(), rhs()).data();
    },
    dispose: () => tree.dispose([a, b]),
  };
}
