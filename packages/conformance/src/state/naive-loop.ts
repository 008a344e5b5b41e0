/**
 * The loop a PyTorch user writes, without `tidy` (issue 16 §3), beside the same loop with `tidy`:
 *
 *   opt.zeroGrad(); const l = loss(model.forward(x), y); l.backward(); opt.step(); await l.item();
 *
 * The tidy loop's memory is exactly flat. The naive loop's forgotten tensors are freed by the
 * safety net (`FinalizationRegistry`), which can run because asynchronous reads let the event
 * loop turn now and then (core/src/yield.ts); backward() has already freed the saved tensors.
 * Its live bytes must stay below {@link NAIVE_BOUND} times the tidy loop's for the whole run.
 *
 * Steps: a short run in CI; `NABLA_SOAK_STEPS=20000` for the long soak (the 20,000 steps).
 */
import * as nb from '@nabla/core';
import * as nn from '@nabla/nn';
import { SGD } from '@nabla/optim';
import { held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';

/**
 * The naive loop's live bytes stay below this multiple of the tidy loop's (parameters, gradients,
 * momentum and data: about 11 KB here). The dead tensors are freed only by a full collection
 * (V8's minor collections keep a FinalizationRegistry's targets alive), and the engine starts
 * one when its own heap has grown enough, not when wasm memory has: the less JavaScript garbage
 * a step makes, the later it comes. Measured maxima over 20,000 steps, 2026-12-05: 5,200× on
 * cpu and 9,300× on wasm (the first full collection after 6,000-11,000 steps; before the
 * safety net was armed only outside scopes, whose registrations made garbage of their own,
 * 1,700× and 2,500-4,600×). Without the safety net the loop grows by about 8.7 KB a step,
 * 17,000× after 20,000 steps and 51,000× after 60,000 (the long soak); the short run stops only
 * once the net has freed a batch, which is the check that it works.
 */
export const NAIVE_BOUND = 16384;

const longSteps = Number(process.env.NABLA_SOAK_STEPS ?? 0);

function setup(seed: number) {
  nb.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(16, 32), new nn.ReLU(), new nn.Linear(32, 4));
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = nb.randn([32, 16]);
  const y = nb.randint(0, 4, [32]);
  const lossFn = new nn.CrossEntropyLoss();
  const dispose = () => {
    model.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
  };
  return { model, opt, x, y, lossFn, dispose };
}

/** Registers the soak cases; `name` is the backend under test (webgpu runs a short one). */
export function naiveLoopSuite(name: string): void {
  const short = name === 'webgpu' ? 150 : 3000;
  const steps = longSteps > 0 ? longSteps : short;
  describe(`the training loop without tidy (${steps} steps)`, () => {
    it('tidy loop: memory() exactly flat; naive loop: bounded, same losses', async () => {
      // This backend's own bytes: tensors forgotten by other backends' runs may be freed meanwhile.
      const bytes = () => nb.memory().backends[name].bytes;
      const base = bytes();
      const a = setup(5);
      const tidyLosses: number[] = [];
      const tidyStep = async () => {
        const l = nb.tidy(() => {
          a.opt.zeroGrad();
          const l = a.lossFn.forward(a.model.forward(a.x), a.y);
          l.backward();
          a.opt.step();
          return l;
        });
        tidyLosses.push(await l.item());
        l.dispose();
      };
      await tidyStep();
      await tidyStep();
      // held(): what other suites forgot may be freed meanwhile, which memory() alone would show
      const flat = held();
      for (let s = 2; s < Math.min(steps, 300); s++) await tidyStep();
      expect(held()).toEqual(flat);
      // What the tidy loop holds between steps: parameters, gradients, momentum buffers, data.
      const tidyBytes = 4 * (3 * a.model.parameters().reduce((n, p) => n + p.size, 0) + a.x.size + a.y.size);
      a.dispose();

      const b = setup(5);
      const naiveLosses: number[] = [];
      let maxBytes = 0;
      let live = nb.memory().tensors;
      let largestDrop = 0;
      // The safety net must run during the loop: at least once it frees many forgotten tensors at a
      // time (without it the count only grows, by about 8 a step). When the collector it waits for
      // comes is up to the engine, so a short run goes on (up to 20,000 steps) until it has seen that.
      const netRan = () => name === 'webgpu' || largestDrop > 100;
      let s = 0;
      for (; s < steps || (s < 20_000 && !netRan()); s++) {
        b.opt.zeroGrad();
        const l = b.lossFn.forward(b.model.forward(b.x), b.y);
        l.backward();
        b.opt.step();
        const v = await l.item();
        if (s < tidyLosses.length) naiveLosses.push(v);
        maxBytes = Math.max(maxBytes, bytes() - base);
        const now = nb.memory().tensors;
        largestDrop = Math.max(largestDrop, live - now);
        live = now;
      }
      // Same numbers as the tidy loop (memory management changes no result).
      expect(naiveLosses).toEqual(tidyLosses.slice(0, naiveLosses.length));
      expect(maxBytes, `peak ${maxBytes} bytes over ${s} steps; tidy ${tidyBytes}`).toBeLessThan(
        NAIVE_BOUND * tidyBytes,
      );
      expect(netRan(), `no finalizer ran in ${s} steps`).toBe(true);
      b.dispose();
    }, 600_000);
  });
}
