/**
 * Nabla's own implementation, on any registered backend: `@nabla/nn` modules and
 * `@nabla/optim`'s SGD (W1) and Adam (W5, W6), exactly as a user writes them (PyTorch semantics, so no deviation from
 * the spec to note). Each step runs inside `tidy` so every intermediate is freed; parameters,
 * gradients, momentum buffers and running statistics are owned by the modules/optimizer.
 */
import * as core from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { Adam, type Optimizer, SGD } from '@nabla/optim';
import { linearInit, randint, randn } from '../data.js';
import { ADAM, BN, type CaseId, SGD as SGD_ARGS, type Sizes, smallMlpOf } from '../spec.js';
import { versionOf } from '../versions.js';
import { type Impl, type Prepared, SkipError, type StepCounters } from './types.js';

type Tensor = core.Tensor;

/**
 * Makes `backend` the active Nabla backend, importing its package (which registers it) first.
 * Throws `SkipError` when the package is not built or the backend cannot start here.
 */
export async function activateBackend(backend: string): Promise<void> {
  if (!core.listBackends().includes(backend)) {
    try {
      await import(`@nabla/backend-${backend}`);
    } catch (e) {
      throw new SkipError(`not built (@nabla/backend-${backend}: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (!core.listBackends().includes(backend)) {
    throw new SkipError(`@nabla/backend-${backend} loaded but registered no '${backend}' backend`);
  }
  try {
    await core.setBackend(backend);
  } catch (e) {
    throw new SkipError(`setBackend('${backend}') failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The W1 network; weights overwritten with the shared deterministic init so every library starts alike. */
export function makeMlp(widths: readonly number[]): Sequential {
  const [inF, h1, h2, out] = widths;
  const model = new Sequential(
    new Linear(inF, h1),
    new BatchNorm1d(h1, { eps: BN.eps, momentum: BN.momentum }),
    new ReLU(),
    new Linear(h1, h2),
    new BatchNorm1d(h2, { eps: BN.eps, momentum: BN.momentum }),
    new ReLU(),
    new Linear(h2, out),
  );
  [0, 3, 6].forEach((idx, i) => {
    const layer = model.at(idx) as Linear;
    const { w, b } = linearInit(widths[i], widths[i + 1], 100 + i);
    core.noGrad(() =>
      core.tidy(() => {
        layer.weight.assign(core.tensor(w, { shape: [widths[i + 1], widths[i]] }));
        layer.bias!.assign(core.tensor(b, { shape: [widths[i + 1]] }));
      }),
    );
  });
  return model;
}

/** The cases the compiled variants run (the training and inference steps). */
const COMPILED_CASES: readonly string[] = ['W1', 'W4', 'W5', 'W6'];

/** Creates the Nabla implementation on `backend` (`cpu`, `wasm`, `webgpu`). */
export async function createNabla(backend: string, compiled = false): Promise<Impl> {
  await activateBackend(backend);
  const b = core.getBackend();
  const info: Record<string, string | number | boolean> = {
    fused: core.fusedKernels(b).join(' ') || 'none',
    ...(b.capabilities.info ?? {}),
  };
  return {
    id: `nabla-${backend}${compiled ? '-compiled' : ''}`,
    library: `@nabla/core ${versionOf('@nabla/core') ?? 'unknown'}`,
    info,
    notes: {},
    supports: (id) => {
      if (id === 'W2b_3d_channels_last') return 'channels-first library: N,C,L is native';
      if (compiled && !COMPILED_CASES.includes(id)) return 'compiled variant covers W1, W4, W5, W6';
      return true;
    },
    prepare: async (id, sizes) => prepareNabla(id, sizes, compiled),
    countSteps,
    close: () => {
      // leave the backend alive: the process ends right after, and destroy() is optional
    },
  };
}

/** Eager (false), compiled (true), or compiled with these options (the warm-up script compares them). */
type Compiled = boolean | core.CompileOptions;

/** `fn` as the case runs it: itself, or compiled. */
function compiledIf<A extends unknown[], R>(fn: (...args: A) => R, compiled: Compiled): (...args: A) => R {
  if (compiled === false) return fn;
  return core.compile(fn, compiled === true ? {} : compiled);
}

/** One case on the active Nabla backend. Exported for the unit test, which runs it in-process. */
export function prepareNabla(id: CaseId, sizes: Sizes, compiled: Compiled = false): Prepared {
  switch (id) {
    case 'W1':
      return prepareTrain(sizes.mlp, sizes.w1Batch, 'sgd', 1, 2, compiled);
    case 'W5':
      return prepareTrain(sizes.w5.mlp, smallMlpOf(id, sizes).batch, 'adam', 8, 9, compiled);
    case 'W6':
      return prepareTrain(sizes.w6.mlp, smallMlpOf(id, sizes).batch, 'adam', 10, 11, compiled);
    case 'W4':
      return prepareW4(sizes, compiled);
    case 'W2a_2d':
    case 'W2b_3d':
      return prepareW2(id, sizes);
    case 'W3_AB':
    case 'W3_AtB':
    case 'W3_ABt':
      return prepareW3(id, sizes);
    default:
      throw new Error(`nabla: case ${id} is not defined for a channels-first library`);
  }
}

function disposeAll(ts: (Tensor | null | undefined)[]): void {
  for (const t of ts) if (t && !t.isDisposed) t.dispose();
}

/**
 * What the bench counts per step: the backend's calls while `steps` steps run, counted by
 * `countBackendCalls` (a wrapper around the backend, not an estimate), divided by `steps`.
 * Runs after the timed loop, so the wrapper costs the timed iterations nothing.
 */
export async function countSteps(prepared: Prepared, steps: number): Promise<StepCounters> {
  const counter = core.countBackendCalls(core.getBackend());
  try {
    for (let i = 0; i < steps; i++) await prepared.step();
    const s = counter.snapshot();
    const per = (n: number) => n / steps;
    const out: StepCounters = {
      calls: per(s.calls),
      kernels: per(s.kernels),
      allocs: per(s.allocs),
      frees: per(s.frees),
      by_method: Object.fromEntries(Object.entries(s.byMethod).map(([k, v]) => [k, per(v)])),
    };
    if ('dispatches' in s.device) out.dispatches = per(s.device.dispatches);
    if ('submits' in s.device) out.submits = per(s.device.submits);
    if ('bindGroups' in s.device) out.bind_groups = per(s.device.bindGroups);
    return out;
  } finally {
    counter.stop();
  }
}

/**
 * A training step of the W1 network shape at `widths`: zero grads, forward, cross-entropy,
 * backward, optimizer step (W1: SGD with momentum; W5, W6: Adam), loss read back.
 */
function prepareTrain(
  widths: readonly number[],
  batch: number,
  optimizer: 'sgd' | 'adam',
  xSeed: number,
  labelSeed: number,
  compiled: Compiled = false,
): Prepared {
  const [inF, , , classes] = widths;
  const model = makeMlp(widths);
  model.train();
  const x = core.tensor(randn(batch * inF, xSeed), { shape: [batch, inF] });
  const labels = core.tensor(randint(batch, classes, labelSeed), { shape: [batch], dtype: 'int32' });
  const lossFn = new CrossEntropyLoss();
  const opt: Optimizer =
    optimizer === 'sgd'
      ? new SGD(model.parameters(), { lr: SGD_ARGS.lr, momentum: SGD_ARGS.momentum })
      : new Adam(model.parameters(), {
          lr: ADAM.lr,
          betas: [ADAM.beta1, ADAM.beta2],
          eps: ADAM.eps,
          weightDecay: 0,
          amsgrad: false,
        });
  let last: ArrayLike<number> = [];
  const eager = (xb: Tensor, yb: Tensor): Tensor =>
    core.tidy(() => {
      opt.zeroGrad();
      const l = lossFn.forward(model.forward(xb), yb);
      l.backward();
      opt.step();
      return l;
    });
  const run = compiledIf(eager, compiled);
  return {
    step: async () => {
      const loss = run(x, labels);
      last = [await loss.item()];
      loss.dispose();
    },
    probe: () => last,
    dispose: () => {
      // the optimizer owns its state buffers; it has no dispose(), so free its state here
      const state = [...opt.state.values()].flatMap((s) => Object.values(s));
      disposeAll(state.filter((v): v is Tensor => v instanceof core.Tensor));
      disposeAll([x, labels, ...model.parameters(), ...model.buffers()]);
    },
  };
}

function prepareW4(sizes: Sizes, compiled: Compiled = false): Prepared {
  const model = makeMlp(sizes.mlp);
  model.eval();
  const x = core.tensor(randn(sizes.w4Batch * sizes.mlp[0], 3), { shape: [sizes.w4Batch, sizes.mlp[0]] });
  let last: ArrayLike<number> = [];
  const eager = (xb: Tensor): Tensor => core.noGrad(() => core.tidy(() => model.forward(xb)));
  const forward = compiledIf(eager, compiled);
  return {
    step: async () => {
      const logits = forward(x);
      last = await logits.data();
      logits.dispose();
    },
    probe: () => last,
    dispose: () => disposeAll([x, ...model.parameters(), ...model.buffers()]),
  };
}

function prepareW2(id: CaseId, sizes: Sizes): Prepared {
  const shape = id === 'W2a_2d' ? [...sizes.w2a] : [...sizes.w2b];
  const c = shape[1];
  const size = shape.reduce((p, d) => p * d, 1);
  const bn = new BatchNorm1d(c, { eps: BN.eps, momentum: BN.momentum });
  bn.train();
  const x = core.tensor(randn(size, 4), { shape, requiresGrad: true });
  const dy = core.tensor(randn(size, 5), { shape });
  const gamma = bn.weight;
  if (!gamma) throw new Error('nabla W2: BatchNorm1d was built without affine weights');
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      core.tidy(() => {
        x.zeroGrad();
        bn.zeroGrad();
        bn.forward(x).backward(dy);
      });
      last = await gamma.grad!.data();
    },
    dispose: () => disposeAll([x, dy, x.grad, ...bn.parameters(), ...bn.buffers()]),
  };
}

function prepareW3(id: CaseId, sizes: Sizes): Prepared {
  const s = sizes.w3;
  const a = core.tensor(randn(s * s, 6), { shape: [s, s] });
  const b = core.tensor(randn(s * s, 7), { shape: [s, s] });
  let last: ArrayLike<number> = [];
  return {
    probe: () => last,
    step: async () => {
      const c = core.tidy(() => {
        const lhs = id === 'W3_AtB' ? a.t() : a;
        const rhs = id === 'W3_ABt' ? b.t() : b;
        return lhs.matmul(rhs);
      });
      last = await c.data();
      c.dispose();
    },
    dispose: () => disposeAll([a, b]),
  };
}
