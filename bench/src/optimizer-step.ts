/**
 * Time of one optimizer step alone (W5's or W6's network, its gradients from one backward
 * pass, then `opt.step()` over and over): the optimizer's own cost per step, outside the bench's
 * training step. Pin it to one core and compare V8's tiers to see what the per-call path costs
 * before V8 optimizes it (the bench's W5 window runs partly in the baseline tier):
 *
 *   taskset -c 0 node --import tsx --max-opt=1 src/optimizer-step.ts   # baseline tier (Sparkplug)
 *   taskset -c 0 node --import tsx src/optimizer-step.ts                # optimized (TurboFan)
 *
 * Options: `--backend wasm`, `--case W5|W6`, `--optimizer adam|sgd`, `--steps 2000`. Prints the
 * mean µs per step of three consecutive rounds.
 */
import { parseArgs } from 'node:util';
import * as core from '@nabla/core';
import { CrossEntropyLoss } from '@nabla/nn';
import { Adam, type Optimizer, SGD } from '@nabla/optim';
import { randint, randn } from './data.js';
import { activateBackend, makeMlp } from './impl/nabla.js';
import { ADAM, FULL_SIZES, SGD as SGD_ARGS, smallMlpOf } from './spec.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    case: { type: 'string', default: 'W5' },
    optimizer: { type: 'string', default: 'adam' },
    steps: { type: 'string', default: '2000' },
  },
});
const id = values.case as 'W5' | 'W6';
const steps = Number(values.steps);
if (id !== 'W5' && id !== 'W6') throw new Error(`--case must be W5 or W6, got ${id}`);
if (values.optimizer !== 'adam' && values.optimizer !== 'sgd')
  throw new Error(`--optimizer must be adam or sgd, got ${values.optimizer}`);
if (!Number.isInteger(steps) || steps < 100)
  throw new Error(`--steps must be an integer >= 100, got ${steps}`);

await activateBackend(values.backend);
const { mlp, batch } = smallMlpOf(id, FULL_SIZES);
const model = makeMlp(mlp);
model.train();
const x = core.tensor(randn(batch * mlp[0], 1), { shape: [batch, mlp[0]] });
const labels = core.tensor(randint(batch, mlp[3], 2), { shape: [batch], dtype: 'int32' });
const opt: Optimizer =
  values.optimizer === 'adam'
    ? new Adam(model.parameters(), { lr: ADAM.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps })
    : new SGD(model.parameters(), { lr: SGD_ARGS.lr, momentum: SGD_ARGS.momentum });
// gradients once; the steps below reuse them (the update's cost does not depend on their values)
core
  .tidy(() => {
    const loss = new CrossEntropyLoss().forward(model.forward(x), labels);
    loss.backward();
    return loss;
  })
  .dispose();

const rounds: string[] = [];
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) opt.step();
  rounds.push((((performance.now() - t0) / steps) * 1000).toFixed(1));
}
console.log(
  `${id} ${values.optimizer} step on ${values.backend}: ${rounds.join(' ')} µs per step (3 rounds)`,
);
process.exit(0);
