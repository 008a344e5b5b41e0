/**
 * A small in-browser conformance check: the same ops (forward and backward, including the
 * fused entry points) run on `cpu` and on each other backend, and the results must agree.
 * It proves the packages load and compute in a real browser, where Node's Buffer, fs and
 * worker_threads do not exist.
 */
import {
  batchNormTrain,
  concat,
  Generator,
  linear,
  setBackend,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
  tidy,
  where,
} from '@nabla/core';

/** The outcome of one case on one backend. */
export interface SelfTestCase {
  backend: string;
  name: string;
  ok: boolean;
  /** Largest `|got - want| / (1 + |want|)` over the outputs. */
  maxError: number;
  error?: string;
}

function values(seed: number, n: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.normal());
}

/** Each case builds its inputs from fixed host data and returns the tensors to compare. */
const CASES: Record<string, () => Tensor[]> = {
  'matmul [5,7]x[7,3]': () => [
    tensor(values(1, 35), { shape: [5, 7] }).matmul(tensor(values(2, 21), { shape: [7, 3] })),
  ],
  'broadcast add/mul/div': () => {
    const a = tensor(values(3, 12), { shape: [3, 4] });
    const b = tensor(values(4, 4), { shape: [4] });
    return [a.add(b), a.mul(b), a.div(b.abs().add(0.5))];
  },
  'unary exp log sqrt tanh sigmoid': () => {
    const a = tensor(values(5, 16), { shape: [4, 4] });
    return [a.exp(), a.abs().add(0.1).log(), a.abs().sqrt(), a.tanh(), a.sigmoid()];
  },
  'reductions sum mean max argmax': () => {
    const a = tensor(values(6, 24), { shape: [2, 3, 4] });
    return [a.sum(1), a.mean([0, 2]), a.max(2), a.argmax(1).float(), a.sum()];
  },
  'softmax, transpose, slice, concat, gather, where': () => {
    const a = tensor(values(7, 12), { shape: [3, 4] });
    const idx = tensor(new Int32Array([3, 0, 1, 2, 2, 1]), { shape: [3, 2] });
    return [
      a.softmax(1),
      a.t().contiguous(),
      a.slice(1, 1, 3),
      concat([a, a.neg()], 0),
      a.gather(1, idx),
      where(a.gt(0), a, a.mul(0.1)),
    ];
  },
  'autograd through an MLP': () => {
    const x = tensor(values(8, 24), { shape: [6, 4] });
    const w = tensor(values(9, 20), { shape: [5, 4], requiresGrad: true });
    const b = tensor(values(10, 5), { shape: [5], requiresGrad: true });
    const y = tensor(new Int32Array([0, 4, 2, 1, 3, 0]), { shape: [6] });
    const loss = softmaxCrossEntropy(linear(x, w, b, { relu: true }), y).mean();
    loss.backward();
    // Gradients belong to their leaves, which tidy disposes: return copies.
    return [loss, (w.grad as Tensor).clone(), (b.grad as Tensor).clone()];
  },
  'batch norm forward and backward': () => {
    const x = tensor(values(11, 32), { shape: [8, 4], requiresGrad: true });
    const gamma = tensor(values(12, 4), { shape: [4], requiresGrad: true });
    const beta = tensor(values(13, 4), { shape: [4], requiresGrad: true });
    const { output, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5);
    output
      .mul(tensor(values(14, 32), { shape: [8, 4] }))
      .sum()
      .backward();
    return [output, mean, variance, ...[x.grad, gamma.grad, beta.grad].map((g) => (g as Tensor).clone())];
  },
};

async function run(backend: string, make: () => Tensor[]): Promise<Float32Array[]> {
  await setBackend(backend);
  const outs = tidy(() => make());
  try {
    return await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  } finally {
    for (const t of outs) t.dispose();
  }
}

/** Runs every case on `cpu` (the reference) and on each of `backends`. */
export async function selfTest(backends: string[], tolerance = 1e-4): Promise<SelfTestCase[]> {
  const results: SelfTestCase[] = [];
  for (const [name, make] of Object.entries(CASES)) {
    const want = await run('cpu', make);
    for (const backend of backends) {
      try {
        const got = await run(backend, make);
        let maxError = 0;
        for (let k = 0; k < want.length; k++) {
          if (got[k].length !== want[k].length)
            throw new Error(`output ${k}: ${got[k].length} values, cpu gave ${want[k].length}`);
          for (let i = 0; i < want[k].length; i++) {
            const e = Math.abs(got[k][i] - want[k][i]) / (1 + Math.abs(want[k][i]));
            maxError = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(maxError, e);
          }
        }
        results.push({ backend, name, ok: maxError <= tolerance, maxError });
      } catch (err) {
        results.push({
          backend,
          name,
          ok: false,
          maxError: Number.NaN,
          error: String((err as Error).message ?? err),
        });
      }
    }
  }
  await setBackend('cpu');
  return results;
}
