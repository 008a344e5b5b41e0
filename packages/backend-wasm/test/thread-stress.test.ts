/**
 * Threaded-wasm stress (issue 16 §3): random matmuls, batch norms, linears and 3-step training
 * runs over many seeds give bit-identical results with 1 and 2 threads, and integer targets are
 * never overwritten. A short run in CI; `NABLA_STRESS_SEEDS=200` for the long one.
 */
import * as nb from '@nabla/core';
import { SGD } from '@nabla/optim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';

const SEEDS = Number(process.env.NABLA_STRESS_SEEDS ?? 12);
const ONE = 'wasm-1-thread';
const TWO = 'wasm-2-threads';

/** A small deterministic generator for the case shapes (values come from nb.manualSeed). */
function dims(seed: number) {
  let s = seed * 2654435761;
  const next = (lo: number, hi: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return lo + (s % (hi - lo + 1));
  };
  return { next };
}

async function values(t: nb.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Runs every case for `seed` on `backend` and returns all results, flattened. */
async function runCase(backend: string, seed: number): Promise<Record<string, number[]>> {
  const { next } = dims(seed);
  const [m, k, n] = [next(1, 320), next(1, 320), next(1, 320)]; // large enough to split across threads
  const [rows, channels, length] = [next(2, 256), next(1, 64), next(1, 8)];
  const [batch, features, hidden, classes] = [next(2, 256), next(1, 128), next(2, 192), next(2, 12)];
  nb.manualSeed(seed);
  const out: Record<string, number[]> = {};
  const made = nb.withBackend(backend, () => ({
    a: nb.randn([m, k]),
    b: nb.randn([k, n]),
    bx: nb.randn([rows, channels, length]),
    bw: nb.rand([channels]),
    bb: nb.randn([channels]),
    x: nb.randn([batch, features]),
    y: nb.randint(0, classes, [batch]),
    w1: nb.randn([hidden, features], { std: 0.2 }),
    b1: nb.zeros([hidden]),
    g: nb.ones([hidden]),
    bt: nb.zeros([hidden]),
    w2: nb.randn([classes, hidden], { std: 0.2 }),
    b2: nb.zeros([classes]),
  }));
  const targets = await values(made.y);
  const mm = made.a.matmul(made.b);
  out.matmul = await values(mm);
  const bn = nb.batchNormTrain(made.bx, made.bw, made.bb, 1e-5);
  out.batchNorm = [...(await values(bn.output)), ...(await values(bn.mean)), ...(await values(bn.variance))];
  const lin = nb.linear(made.x, made.w1, made.b1);
  out.linear = await values(lin);
  for (const t of [mm, bn.output, bn.mean, bn.variance, lin]) t.dispose();

  const params = [made.w1, made.b1, made.g, made.bt, made.w2, made.b2];
  for (const p of params) p.requiresGrad = true;
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  out.losses = [];
  for (let step = 0; step < 3; step++) {
    const loss = nb.tidy(() => {
      for (const p of params) p.zeroGrad();
      const h = nb.linear(made.x, made.w1, made.b1);
      const { output } = nb.batchNormTrain(h, made.g, made.bt, 1e-5);
      const logits = nb.linear(output.relu(), made.w2, made.b2);
      const loss = nb.softmaxCrossEntropy(logits, made.y).mean();
      loss.backward();
      opt.step();
      return loss;
    });
    out.losses.push(...(await values(loss)));
    loss.dispose();
  }
  for (const [i, p] of params.entries()) out[`param${i}`] = await values(p);
  expect(await values(made.y)).toEqual(targets); // integer targets are never overwritten
  for (const t of Object.values(made)) t.dispose();
  opt.zeroGrad();
  opt.dispose();
  return out;
}

describe('threaded wasm: 1 and 2 threads agree bit for bit', () => {
  const backends: WasmBackend[] = [];
  beforeAll(async () => {
    nb.registerBackend(ONE, async () => {
      const b = await createWasmBackend({ threads: 1 });
      backends.push(b);
      return Object.create(b, { name: { value: ONE } }) as WasmBackend;
    });
    nb.registerBackend(TWO, async () => {
      const b = await createWasmBackend({ threads: 2 });
      backends.push(b);
      return Object.create(b, { name: { value: TWO } }) as WasmBackend;
    });
    await nb.initBackend(ONE);
    await nb.initBackend(TWO);
  });
  afterAll(() => {
    for (const b of backends) b.destroy();
  });

  it(`${SEEDS} seeds of matmul, batch norm, linear and 3 training steps`, async () => {
    const two = backends.find((b) => b.capabilities.info?.threads === 2);
    expect(two, 'a 2-thread wasm backend (shared memory) must start here').toBeDefined();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const a = await runCase(ONE, seed);
      const b = await runCase(TWO, seed);
      for (const key of Object.keys(a)) expect(b[key], `seed ${seed}: ${key}`).toEqual(a[key]);
    }
  }, 600_000);
});
