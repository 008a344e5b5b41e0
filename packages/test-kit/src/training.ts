import { noGrad, type Tensor, tidy } from '@nabla/core';

/**
 * One step of PyTorch's Adam rule (betas 0.9, 0.999; eps 1e-8) in plain tensor ops, for tests
 * below @nabla/optim; `step` counts from 1. The optimizer itself is @nabla/optim's.
 */
export function adamUpdate(p: Tensor, g: Tensor, m: Tensor, v: Tensor, step: number, lr: number): void {
  noGrad(() =>
    tidy(() => {
      m.assign(m.mul(0.9).add(g.mul(0.1)));
      v.assign(v.mul(0.999).add(g.square().mul(0.001)));
      const denom = v
        .sqrt()
        .div(Math.sqrt(1 - 0.999 ** step))
        .add(1e-8);
      p.assign(p.sub(m.div(denom).mul(lr / (1 - 0.9 ** step))));
    }),
  );
}

/**
 * One optimizer step inside a memory scope: zero the gradients, `lossFn(model(x), y)`, back-
 * propagate, step; returns the loss (kept). Typed structurally, so nn and optim need not be
 * dependencies of the kit.
 */
export function trainingStep(
  model: { forward(x: Tensor): Tensor },
  lossFn: { forward(output: Tensor, target: Tensor): Tensor },
  opt: { zeroGrad(): void; step(): void },
  x: Tensor,
  y: Tensor,
): Tensor {
  return tidy(() => {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  });
}
