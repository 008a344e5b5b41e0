/**
 * The bad-input suite (issue 16 §2): every case runs on every backend and must give the same
 * error (class and message) with parameters, versions and `memory()` unchanged.
 */
import * as nb from '@nabla/core';
import { fromSafetensors, loadSafetensors, SafetensorsError, toSafetensors } from '@nabla/interop';
import * as nn from '@nabla/nn';
import { Adam, SGD } from '@nabla/optim';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerCpuAlias } from '../backends.js';
import { expectNoChange } from './unchanged.js';

/** The other backend of the mixed-backend cases: an independent cpu instance. */
const OTHER = 'cpu-other';

/** Registers the bad-input cases for the backend named `name` (active while they run). */
export function badInputSuite(name: string): void {
  describe('bad inputs: one error, nothing changed', () => {
    const disposables: { dispose(): void }[] = [];
    const own = <T extends { dispose(): void }>(t: T): T => {
      disposables.push(t);
      return t;
    };
    /** The 2×3 leaf logits (taking gradients) of the cross-entropy cases, owned by the suite. */
    const crossEntropyLogits = () =>
      own(
        nb.tensor(
          [
            [1, 2, 3],
            [0.5, -1, 2],
          ],
          { requiresGrad: true },
        ),
      );
    beforeAll(async () => {
      await registerCpuAlias(OTHER);
      await nb.setBackend(name);
    });
    afterAll(() => {
      for (const d of disposables) d.dispose();
    });

    it('shapes: broadcasting, matmul (with the user shapes, 1-D operands included), reshape', async () => {
      const a = own(nb.ones([2, 3]));
      const b = own(nb.ones([4]));
      await expectNoChange([a, b], () => a.add(b), 'add: shapes [2, 3] and [4] cannot be broadcast');
      const c = own(nb.ones([4, 5]));
      await expectNoChange(
        [a, c],
        () => a.matmul(c),
        'matmul: shapes [2, 3] and [4, 5] cannot be multiplied (2x3 and 4x5)',
      );
      const v3 = own(nb.ones([3]));
      await expectNoChange(
        [v3, b],
        () => v3.matmul(b),
        'matmul: shapes [3] and [4] cannot be multiplied (inner dimensions 3 and 4 differ)',
      );
      await expectNoChange(
        [a, b],
        () => a.matmul(b),
        'matmul: shapes [2, 3] and [4] cannot be multiplied (inner dimensions 3 and 4 differ)',
      );
      await expectNoChange([a], () => a.reshape([4, 2]), 'reshape');
    });

    it("pointwise programs: E.index past the call's rank, a bad axis", async () => {
      const program = nb.pointwiseProgram('bad-index-rank', {
        inputs: ['float32'],
        outputs: [nb.E.add(nb.E.input(0), nb.E.cast(nb.E.index(2), 'float32'))],
      });
      const x = own(nb.ones([2, 3]));
      const out = own(nb.zeros([2, 3]));
      const message =
        'the program reads E.index(2), the coordinate along dim 2, but runs over shape [2, 3] of rank 2';
      await expectNoChange([x, out], () => nb.pointwise(program, [x]), `bad-index-rank: ${message}`);
      await expectNoChange([x, out], () => nb.pointwiseInto(program, [x], [], [out]), message);
      // checked before any call of the batch runs: the first, valid call leaves `out` alone too
      const fine = nb.pointwiseProgram('bad-index-fine', { inputs: ['float32'], outputs: [nb.E.input(0)] });
      await expectNoChange(
        [x, out],
        () =>
          nb.pointwiseIntoEach([
            { program: fine, inputs: [x], scalars: [], outputs: [out] },
            { program, inputs: [x], scalars: [], outputs: [out] },
          ]),
        message,
      );
      for (const axis of [-1, 0.5, Number.NaN])
        expect(() => nb.E.index(axis)).toThrow(
          new RangeError(`expr index: axis must be a non-negative integer, got ${axis}`),
        );
    });

    it('dtypes: float-only ops on int32, gradients on int32', async () => {
      const i = own(nb.ones([3], { dtype: 'int32' }));
      await expectNoChange([i], () => i.exp(), 'expected a float32 tensor, got int32');
      await expectNoChange(
        [],
        () => nb.tensor([1, 2], { dtype: 'int32', requiresGrad: true }),
        'only float32 tensors can require gradients',
      );
    });

    it('disposed tensors: ops, reads, backward, optimizer steps', async () => {
      const t = nb.ones([2]);
      t.dispose();
      await expectNoChange([], () => t.add(1), 'add: tensor was disposed (shape [2], float32)');
      await expectNoChange([], () => t.data(), 'data: tensor was disposed');
      const w = nb.ones([2, 2], { requiresGrad: true });
      const keepAlive = own(nb.ones([2], { requiresGrad: true }));
      const opt = new SGD([keepAlive, w], { lr: 0.1 });
      nb.tidy(() => keepAlive.mul(keepAlive).sum().backward());
      w.dispose();
      await expectNoChange(
        [keepAlive],
        () => opt.step(),
        'step: parameter 1 of group 0 (shape [2, 2]) was disposed',
      );
      keepAlive.zeroGrad();
    });

    it('backward twice: the message, and no leak', async () => {
      const x = own(nb.tensor([1, 2, 3], { requiresGrad: true }));
      const y = own(x.exp().sum());
      y.backward();
      await expectNoChange(
        [x, x.grad!],
        () => y.backward(),
        "backward: trying to backward through the graph a second time (the tensors saved by '",
      );
    });

    it('mixed backends: ops and loadStateDict refuse without writing anything', async () => {
      const here = own(nb.ones([2]));
      const there = own(nb.ones([2], { backend: OTHER }));
      await expectNoChange([here, there], () => here.add(there), 'add: tensors are on different backends');
      nb.manualSeed(3);
      const model = own(new nn.Linear(3, 2));
      const weight = own(nb.randn([2, 3])); // on this backend: would be copied first if nothing checked bias
      const bias = own(nb.randn([2], { backend: OTHER }));
      const m = model.stateDict();
      await expectNoChange(
        [m.weight, m.bias],
        () => model.loadStateDict({ weight, bias }),
        `backend mismatch for bias: the checkpoint's tensor is on '${OTHER}', the model's on '${name}'`,
      );
      const gone = nb.ones([2]);
      gone.dispose();
      await expectNoChange(
        [m.weight, m.bias],
        () => model.loadStateDict({ weight, bias: gone }),
        'the tensor for bias was disposed.',
      );
    });

    it('optimizer arguments and loadStateDict: the constructor checks, type and counts, before any change', async () => {
      const p = own(nb.tensor([1, 2], { requiresGrad: true }));
      await expectNoChange([p], () => new SGD([p], { lr: -0.1 }), 'Invalid learning rate: -0.1');
      await expectNoChange(
        [p],
        () => new Adam([p], { betas: [0.9, 1.5] }),
        'Invalid beta parameter at index 1: 1.5',
      );
      const q = own(nb.tensor([3], { requiresGrad: true }));
      const adam = own(new Adam([p, q], { lr: 0.01 }));
      nb.tidy(() => p.mul(p).sum().add(q.mul(q).sum()).backward());
      adam.step();
      const sd = adam.stateDict();
      const moments = [p, q].flatMap((t) => [adam.state.get(t)!.expAvg as nb.Tensor]);
      const watched = [p, q, ...moments];
      const g = sd.paramGroups[0];
      await expectNoChange(
        watched,
        () => adam.loadStateDict({ ...sd, paramGroups: [{ ...g, lr: -5 }] }),
        'Invalid learning rate: -5',
      );
      await expectNoChange(
        watched,
        () => adam.loadStateDict({ ...sd, paramGroups: [{ ...g, betas: [2, 2] }] }),
        'Invalid beta parameter at index 0: 2',
      );
      expect(adam.paramGroups[0].lr).toBe(0.01);
      const sgd = own(
        new SGD([own(nb.ones([2], { requiresGrad: true })), own(nb.ones([1], { requiresGrad: true }))], {
          lr: 0.1,
          momentum: 0.9,
        }),
      );
      await expectNoChange(
        watched,
        () => adam.loadStateDict(sgd.stateDict() as never),
        'loaded state dict is not for Adam: its parameter groups lack amsgrad, betas, eps (they have dampening, lr, momentum, nesterov, weightDecay)',
      );
      await expectNoChange(
        watched,
        () => adam.loadStateDict({ ...sd, paramGroups: [{ ...g, params: [0] }] }),
        "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
      );
      await expectNoChange(
        watched,
        () => adam.loadStateDict({ ...sd, state: { ...sd.state, 1: { ...sd.state[1], step: Number.NaN } } }),
        "loaded state 'step' of parameter 1 must be a non-negative integer, got NaN",
      );
      adam.loadStateDict(adam.stateDict()); // its own state round-trips
      expect(adam.state.get(p)!.step).toBe(1);
      p.zeroGrad();
      q.zeroGrad();
    });

    it('corrupt safetensors: a SafetensorsError and an untouched model', async () => {
      nb.manualSeed(4);
      const model = own(new nn.Linear(2, 2));
      const bytes = await toSafetensors(model.stateDict());
      const m = model.stateDict();
      const truncated = bytes.slice(0, bytes.length - 3);
      await expectNoChange(
        [m.weight, m.bias],
        () => loadSafetensors(model, truncated),
        'safetensors:',
        SafetensorsError as never,
      );
      const garbage = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 34, 120, 34, 58, 49, 125, 32]);
      await expectNoChange(
        [m.weight, m.bias],
        () => loadSafetensors(model, garbage),
        'safetensors:',
        SafetensorsError as never,
      );
      expect(() => fromSafetensors(new Uint8Array(3))).toThrow(SafetensorsError);
    });

    it('cross-entropy: (N, 1) targets name the target rank; probability targets follow PyTorch', async () => {
      const logits = crossEntropyLogits();
      const column = own(nb.tensor([[0], [1]], { dtype: 'int32' }));
      await expectNoChange(
        [logits],
        () => nn.functional.crossEntropy(logits, column),
        '0D or 1D target tensor expected, multi-target not supported', // PyTorch's words
      );
      const probs = own(
        nb.tensor([
          [0.2, 0.3, 0.5],
          [1, 0, 0],
        ]),
      );
      // PyTorch 1.13: F.cross_entropy(x, t) and with label_smoothing=0.1, and the gradient of the latter.
      expect(await own(nn.functional.crossEntropy(logits, probs)).item()).toBeCloseTo(1.424458622932434, 5);
      const smoothed = own(nn.functional.crossEntropy(logits, probs, { labelSmoothing: 0.1 }));
      expect(await smoothed.item()).toBeCloseTo(1.4394586086273193, 5);
      smoothed.backward();
      const grad = Array.from(await logits.grad!.data());
      const torchGrad = [-0.06165137, -0.02930243, 0.09095384, -0.37902147, 0.00288962, 0.37613183];
      for (const [i, v] of grad.entries()) expect(v).toBeCloseTo(torchGrad[i], 5);
      logits.zeroGrad();
    });

    it('cross-entropy: an out-of-range class target is an error on every backend', async () => {
      const logits = crossEntropyLogits();
      const targets = own(nb.tensor([0, 5], { dtype: 'int32' }));
      const message = 'softmaxCrossEntropy: index 5 at position 1 is out of bounds for dimension of size 3';
      if (nb.getBackend().readSync) {
        await expectNoChange([logits], () => nn.functional.crossEntropy(logits, targets), message);
        return;
      }
      // WebGPU cannot read the targets before the kernel: the kernel reports the bad row on the
      // device and the next read throws, naming the op, the position and the class count.
      const loss = own(nn.functional.crossEntropy(logits, targets));
      await expect(loss.item()).rejects.toThrow(
        'softmaxCrossEntropy: index at position 1 is out of bounds for dimension of size 3 (expected 0 <= index < 3)',
      );
      // reported once: later reads work
      expect(Array.from(await logits.data())).toEqual([1, 2, 3, 0.5, -1, 2]);
      const good = own(nn.functional.crossEntropy(logits, own(nb.tensor([0, 2], { dtype: 'int32' }))));
      expect(Number.isFinite(await good.item())).toBe(true);
    });

    it('.grad of a non-leaf warns once, like PyTorch', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const x = own(nb.ones([2], { requiresGrad: true }));
      const y = own(x.mul(2));
      expect(y.grad).toBeNull();
      expect(y.grad).toBeNull();
      const calls = warn.mock.calls.filter((c) => String(c[0]).includes('not a leaf Tensor'));
      expect(calls.length).toBeLessThanOrEqual(1); // once per process: an earlier backend may have used it
      expect(x.grad).toBeNull();
      warn.mockRestore();
    });
  });
}
