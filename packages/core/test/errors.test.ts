/** Bad input: every error names the op, the shapes or dtypes involved, and what to do. */
import '@nabla/backend-cpu';
import { registerCpuAlias } from '@nabla/conformance';
import * as nb from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nb.setBackend('cpu');
});

/** Runs `fn` in a scope so the tensors a failing test makes are freed. */
function throwsIn(fn: () => unknown, message: string | RegExp): void {
  nb.tidy(() => {
    expect(fn).toThrow(message);
  });
}

describe('shape mismatches name both shapes and the op', () => {
  it('broadcasting binary ops', () => {
    throwsIn(
      () => nb.zeros([2, 3]).add(nb.zeros([4])),
      'add: shapes [2, 3] and [4] cannot be broadcast (dimension 1 is 3 vs 4',
    );
    throwsIn(
      () => nb.zeros([5, 2]).mul(nb.zeros([3, 1, 3])),
      'mul: shapes [5, 2] and [3, 1, 3] cannot be broadcast',
    );
    throwsIn(() => nb.zeros([2]).lt(nb.zeros([3])), 'lt: shapes [2] and [3] cannot be broadcast');
    throwsIn(
      () => nb.where(nb.zeros([2], { dtype: 'int32' }), nb.zeros([3]), 0),
      'where: shapes [2] and [3] cannot be broadcast',
    );
  });

  it('matmul inner dimensions and batch dimensions', () => {
    throwsIn(
      () => nb.zeros([2, 3]).matmul(nb.zeros([4, 5])),
      'matmul: shapes [2, 3] and [4, 5] cannot be multiplied (2x3 and 4x5)',
    );
    throwsIn(
      () => nb.zeros([3]).matmul(nb.zeros([4])),
      'matmul: shapes [3] and [4] cannot be multiplied (inner dimensions 3 and 4 differ)', // the user's shapes
    );
    throwsIn(
      () => nb.zeros([2, 2, 3]).matmul(nb.zeros([3, 3, 4])),
      'matmul: shapes [2] and [3] cannot be broadcast',
    );
    throwsIn(
      () => nb.zeros([]).matmul(nb.zeros([2])),
      'matmul: both arguments need at least 1 dimension, got shapes [] and [2]',
    );
  });

  it('reshape, view, permute, expand, squeeze, transpose, slice', () => {
    throwsIn(
      () => nb.zeros([2, 3]).reshape([4, 4]),
      "reshape: shape '[4, 4]' is invalid for input of size 6 (input shape [2, 3])",
    );
    throwsIn(
      () => nb.zeros([2, 3]).reshape([4, -1]),
      "reshape: shape '[4, -1]' is invalid for input of size 6",
    );
    throwsIn(() => nb.zeros([2, 3]).reshape([-1, -1]), 'reshape: only one dimension can be inferred (-1)');
    throwsIn(
      () => nb.zeros([2, 3]).t().view([6]),
      'view: size and stride are not compatible with the input (shape [3, 2], strides [1, 3]: at least one dimension spans across two contiguous subspaces); use .reshape(...) instead',
    );
    throwsIn(
      () => nb.zeros([2, 3]).permute([0]),
      "permute: number of dims don't match (input has 2 dims, got 1: [0])",
    );
    throwsIn(() => nb.zeros([2, 3]).permute([1, 1]), 'permute: repeated dim in [1, 1]');
    throwsIn(
      () => nb.zeros([2, 3]).permute([0, 2]),
      'permute: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    throwsIn(
      () => nb.zeros([2, 3]).expand([2, 4]),
      'expand: the expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1. Target sizes: [2, 4]. Tensor sizes: [2, 3]',
    );
    throwsIn(
      () => nb.zeros([2, 3]).expand([3]),
      'expand: the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)',
    );
    throwsIn(
      () => nb.zeros([2, 3]).transpose(0, 2),
      'transpose: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    throwsIn(() => nb.zeros([2, 3]).slice(0, 0.5), 'slice: start and end must be integers, got 0.5');
    throwsIn(() => nb.zeros([2, 3]).squeeze(3), 'squeeze: dimension out of range');
    throwsIn(() => nb.zeros([2, 3]).flatten(1, 0), 'flatten: startDim (1) cannot come after endDim (0)');
  });

  it('reductions with a bad axis', () => {
    throwsIn(
      () => nb.zeros([2, 3]).sum(2),
      'sum: dimension out of range (expected to be in range of [-2, 1], but got 2)',
    );
    throwsIn(() => nb.zeros([2, 3]).mean([0, -2]), 'mean: dimension 0, -2 appears multiple times');
    throwsIn(() => nb.zeros([2, 3]).argmax(-3), 'argmax: dimension out of range');
    throwsIn(() => nb.zeros([0]).max(), 'max: cannot reduce over a zero-size dimension (input shape [0])');
  });

  it('concat, stack, gather shapes', () => {
    throwsIn(
      () => nb.concat([nb.zeros([2, 3]), nb.zeros([2, 4])], 0),
      'concat: sizes of tensors must match except in dimension 0: tensor 0 has shape [2, 3], tensor 1 has shape [2, 4]',
    );
    throwsIn(() => nb.concat([]), 'concat: expected a non-empty list of tensors');
    throwsIn(
      () => nb.concat([nb.ones([]), nb.ones([])]),
      'concat: zero-dimensional tensors cannot be concatenated; use stack',
    );
    throwsIn(
      () => nb.stack([nb.zeros([2]), nb.zeros([3])]),
      'stack: expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1',
    );
    throwsIn(
      () => nb.zeros([2, 3]).gather(1, nb.zeros([3, 1], { dtype: 'int32' })),
      'gather: index shape [3, 1] must match input shape [2, 3] in every dimension except dim 1',
    );
  });

  it('fused ops check their operands', () => {
    throwsIn(
      () => nb.linear(nb.zeros([2, 3]), nb.zeros([4, 5]), null),
      'mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)',
    );
    throwsIn(
      () => nb.linear(nb.zeros([2, 5]), nb.zeros([4, 5]), nb.zeros([3])),
      'linear: bias should have shape [4], got [3]',
    );
    throwsIn(
      () => nb.batchNormTrain(nb.zeros([2]), null, null, 1e-5),
      'expected 2D or 3D input (got 1D input)',
    );
    throwsIn(
      () => nb.batchNormTrain(nb.zeros([2, 3]), nb.ones([2]), null, 1e-5),
      'batchNormTrain: weight should have shape [3], got [2]',
    );
    throwsIn(() => {
      const [x, mean, variance] = [nb.zeros([2, 3]), nb.zeros([3]), nb.ones([3])];
      return nb.batchNormBackward(nb.ones([2, 3]), x, mean, variance, null, 1e-5, nb.ones([3, 2]));
    }, 'batchNormBackward: reluOutput should have shape [2, 3], got [3, 2]');
    throwsIn(
      () => nb.softmaxCrossEntropy(nb.zeros([4, 3]), nb.zeros([3], { dtype: 'int32' })),
      'Expected input batch_size (4) to match target batch_size (3).',
    );
    throwsIn(
      () => nb.softmaxCrossEntropy(nb.zeros([2, 3]), nb.tensor([0, 3], { dtype: 'int32' })),
      'softmaxCrossEntropy: index 3 at position 1 is out of bounds for dimension of size 3',
    );
    throwsIn(
      () =>
        nb.softmaxCrossEntropy(nb.zeros([2, 3]), nb.tensor([0, 1], { dtype: 'int32' }), {
          reduction: 'sum' as 'mean',
        }),
      "softmaxCrossEntropy: reduction must be 'none' or 'mean', got sum",
    );
  });

  it('creation', () => {
    throwsIn(() => nb.tensor([[1, 2], [3]]), 'tensor: ragged nested array: expected length 2 at [1], got 1');
    throwsIn(() => nb.tensor([1, 2, 3], { shape: [2, 2] }), 'tensor: shape [2, 2] needs 4 values, got 3');
    throwsIn(
      () => nb.zeros([2, -1]),
      'zeros: invalid shape [2, -1]: every dimension must be a non-negative integer',
    );
    throwsIn(
      () => nb.tensor([1.5], { dtype: 'int32' }),
      'tensor: value 1.5 at index 0 is not an integer, but dtype is int32',
    );
    throwsIn(() => nb.arange(0, 3, 0), 'arange: step must be non-zero and finite, got 0');
    throwsIn(() => nb.randint(3, 3, [2]), 'randint: expected integers low < high, got low=3, high=3');
  });
});

describe('dtype mismatches', () => {
  it('binary ops, where, concat, assign', () => {
    throwsIn(
      () => nb.zeros([2]).add(nb.zeros([2], { dtype: 'int32' })),
      'add: dtype mismatch: float32 and int32 (cast one with .float() or .int())',
    );
    throwsIn(
      () => nb.where(nb.zeros([2], { dtype: 'int32' }), nb.zeros([2]), nb.zeros([2], { dtype: 'int32' })),
      'where: dtype mismatch: float32 and int32',
    );
    throwsIn(
      () => nb.where(nb.zeros([2]), 1, 0),
      'where: condition must be int32 (a comparison result), got float32',
    );
    throwsIn(
      () => nb.concat([nb.zeros([2]), nb.zeros([2], { dtype: 'int32' })]),
      'concat: dtype mismatch: tensor 0 is float32, tensor 1 is int32',
    );
    throwsIn(
      () => nb.zeros([2]).assign(nb.zeros([2], { dtype: 'int32' })),
      'assign: dtype mismatch: target is float32, source is int32',
    );
  });

  it('float-only ops refuse int32', () => {
    const i = nb.ones([2, 2], { dtype: 'int32' });
    for (const [name, fn] of [
      ['exp', () => i.exp()],
      ['log', () => i.log()],
      ['div', () => i.div(i)],
      ['mean', () => i.mean()],
      ['matmul', () => i.matmul(i)],
      ['softmax', () => i.softmax(0)],
      ['var', () => i.var()],
    ] as const) {
      throwsIn(fn, `${name}: expected a float32 tensor, got int32 (cast with .float())`);
    }
    i.dispose();
    throwsIn(
      () => nb.tensor([1], { dtype: 'int32', requiresGrad: true }),
      'tensor: only float32 tensors can require gradients (got dtype int32)',
    );
  });
});

describe('indices', () => {
  it('gather and oneHot refuse float (non-integer) indices', () => {
    throwsIn(
      () => nb.zeros([2, 3]).gather(1, nb.tensor([[0.5], [1]])),
      'gather: index must be an int32 tensor, got float32 (non-integer indices are not allowed)',
    );
    throwsIn(() => nb.oneHot(nb.tensor([0, 1.5]), 3), 'oneHot: index must be an int32 tensor, got float32');
    throwsIn(
      () => nb.softmaxCrossEntropy(nb.zeros([2, 3]), nb.tensor([0, 1])),
      'softmaxCrossEntropy: expected int32 class-index targets, got float32',
    );
  });

  it('gather and oneHot refuse out-of-range indices, naming value, position and size', () => {
    const idx = (v: number[][]) => nb.tensor(v, { dtype: 'int32' });
    throwsIn(
      () => nb.zeros([2, 3]).gather(1, idx([[0], [3]])),
      'gather: index 3 at position 1 is out of bounds for dimension of size 3 (expected 0 <= index < 3)',
    );
    throwsIn(
      () => nb.zeros([2, 3]).gather(0, idx([[0, -1, 0]])),
      'gather: index -1 at position 1 is out of bounds for dimension of size 2',
    );
    throwsIn(
      () => nb.oneHot(nb.tensor([0, 4], { dtype: 'int32' }), 4),
      'oneHot: class values must be in [0, 4) (numClasses = 4), got 4 at position 1',
    );
    throwsIn(
      () => nb.oneHot(nb.tensor([-1], { dtype: 'int32' }), 4),
      'oneHot: class values must be in [0, 4) (numClasses = 4), got -1 at position 0',
    );
    throwsIn(
      () => nb.oneHot(nb.tensor([1], { dtype: 'int32' }), 1.5),
      'oneHot: numClasses must be a non-negative integer, got 1.5',
    );
  });
});

describe('backends', () => {
  it('an unknown backend name lists the registered ones', async () => {
    await expect(nb.setBackend('tpu')).rejects.toThrow("Unknown backend 'tpu'. Registered backends: cpu");
    await expect(nb.setBackend('tpu')).rejects.toThrow("import '@nabla/backend-tpu'");
    throwsIn(() => nb.zeros([1], { backend: 'gpu9' }), "Unknown backend 'gpu9'. Registered backends: cpu");
    throwsIn(() => nb.zeros([1]).to('gpu9'), "Unknown backend 'gpu9'");
  });

  it('a registered but unstarted backend says how to start it', () => {
    nb.registerBackend('lazy-cpu', async () => {
      throw new Error('never started in this test');
    });
    throwsIn(
      () => nb.zeros([1], { backend: 'lazy-cpu' }),
      "Backend 'lazy-cpu' is registered but not started: call `await initBackend('lazy-cpu')`",
    );
  });

  it('a backend that fails to start reports its reason', async () => {
    nb.registerBackend('broken', () => {
      throw new Error('no adapter here');
    });
    await expect(nb.setBackend('broken')).rejects.toThrow('no adapter here');
    expect(nb.getBackend().name).toBe('cpu'); // the active backend is unchanged
  });

  it('mixing two backends in one op names both', async () => {
    await registerCpuAlias('cpu-two');
    const a = nb.ones([2]);
    const b = nb.ones([2], { backend: 'cpu-two' });
    expect(b.backend).toBe('cpu-two');
    const msg = "tensors are on different backends, 'cpu' and 'cpu-two'";
    throwsIn(() => a.add(b), `add: ${msg}; move one with t.to('cpu') (a whole model with`);
    throwsIn(() => nb.where(a.gt(0), a, b), `where: ${msg}`);
    throwsIn(() => nb.concat([a, b]), `concat: ${msg}`);
    throwsIn(() => a.reshape([1, 2]).matmul(b.reshape([2, 1])), `matmul: ${msg}`);
    throwsIn(() => nb.linear(a.reshape([1, 2]), b.reshape([1, 2]), null), `linear: ${msg}`);
    throwsIn(() => a.assign(b), "assign: tensors are on different backends, 'cpu' and 'cpu-two'");
    const moved = b.to('cpu');
    expect([...(await a.add(moved).data())]).toEqual([2, 2]);
    for (const t of [a, b, moved]) t.dispose();
  });
});

describe('disposed tensors', () => {
  const dead = () => {
    const t = nb.ones([2, 2]);
    t.dispose();
    return t;
  };

  it('every use names the op and says the tensor was disposed', async () => {
    const live = nb.ones([2, 2]);
    const cases: [string, (t: nb.Tensor) => unknown][] = [
      ['add', (t) => t.add(1)],
      ['add', (t) => live.add(t)],
      ['mul', (t) => nb.mul(2, t)],
      ['exp', (t) => t.exp()],
      ['sum', (t) => t.sum()],
      ['max', (t) => t.max(0)],
      ['matmul', (t) => t.matmul(live)],
      ['reshape', (t) => t.reshape([4])],
      ['transpose', (t) => t.t()],
      ['permute', (t) => t.permute([1, 0])],
      ['expand', (t) => t.expand([3, 2, 2])],
      ['slice', (t) => t.slice(0, 1)],
      ['unsqueeze', (t) => t.unsqueeze(0)],
      ['gather', (t) => t.gather(0, nb.zeros([1, 2], { dtype: 'int32' }))],
      ['where', (t) => nb.where(live.gt(0), t, 0)],
      ['concat', (t) => nb.concat([live, t])],
      ['softmax', (t) => t.softmax(0)],
      ['clone', (t) => t.clone()],
      ['dataSync', (t) => t.dataSync()],
      ['backward', (t) => t.backward()],
      ['to', (t) => t.to('cpu')],
    ];
    const wrong: string[] = [];
    for (const [op, fn] of cases) {
      const expected = `${op}: tensor was disposed (shape [2, 2], float32)`;
      nb.tidy(() => {
        try {
          fn(dead());
          wrong.push(`${op}: did not throw`);
        } catch (err) {
          const message = (err as Error).message;
          if (!message.startsWith(expected)) wrong.push(`${op}: ${message}`);
        }
      });
    }
    expect(wrong).toEqual([]);
    const deadCond = live.gt(0);
    deadCond.dispose();
    throwsIn(() => nb.where(deadCond, 1, 0), 'where: tensor was disposed (shape [2, 2], int32)');
    await expect(dead().data()).rejects.toThrow('data: tensor was disposed');
    await expect(dead().item()).rejects.toThrow();
    expect(String(dead())).toBe('Tensor(disposed, shape=[2, 2], dtype=float32)');
    live.dispose();
  });
});

describe('autograd misuse', () => {
  it('backward on a non-scalar without a gradient', () => {
    const x = nb.ones([2, 2], { requiresGrad: true });
    throwsIn(
      () => x.mul(2).backward(),
      'backward: grad can be implicitly created only for scalar outputs (got shape [2, 2]); pass a gradient of the same shape: y.backward(grad)',
    );
    throwsIn(
      () => x.mul(2).backward(nb.ones([4])),
      'backward: gradient has shape [4] but the tensor has shape [2, 2]',
    );
    throwsIn(
      () => nb.ones([1]).backward(),
      'backward: element 0 of tensors does not require grad and does not have a grad_fn',
    );
    x.dispose();
  });

  it('a second backward through a freed graph', () => {
    const x = nb.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(
      "backward: trying to backward through the graph a second time (the tensors saved by 'sum'",
    );
    const z = x.square().sum();
    z.backward(undefined, { retainGraph: true });
    z.backward(); // allowed once more with retainGraph
    expect(() => z.backward()).toThrow('backward through the graph a second time');
    for (const t of [x, y, z]) t.dispose();
  });

  it('tidy refuses an async function', async () => {
    const before = nb.memory().tensors;
    expect(() =>
      nb.tidy(async () => {
        nb.ones([2]);
      }),
    ).toThrow('tidy: the function returned a Promise; tidy scopes must be synchronous');
    expect(nb.memory().tensors).toBe(before);
  });

  it('requiresGrad_ false on a non-leaf; clamp without bounds; item of many', async () => {
    const x = nb.ones([2], { requiresGrad: true });
    throwsIn(
      () => x.mul(2).requiresGrad_(false),
      'requiresGrad_: can only change requiresGrad of leaf tensors; use detach()',
    );
    throwsIn(() => x.clamp(), 'clamp: at least one of min or max must be given');
    await expect(x.item()).rejects.toThrow('item: a Tensor with 2 elements cannot be converted to a scalar');
    x.dispose();
  });

  it('manualSeed refuses a non-finite seed', () => {
    expect(() => nb.manualSeed(Number.NaN)).toThrow('manualSeed: seed must be a finite number, got NaN');
  });
});

describe('a failing op leaks nothing', () => {
  it('memory() is unchanged after each error, outside any tidy', () => {
    const f = nb.ones([2, 3]);
    const i = nb.tensor([[0, 5, 1]], { dtype: 'int32' });
    const iWide = i.expand([2, 3]);
    const w = nb.ones([4, 5]);
    const v4 = nb.ones([4]);
    const v5 = nb.ones([5]);
    const bad = nb.tensor([0, 9], { dtype: 'int32' });
    const ft = f.t();
    const failing: [string, () => unknown][] = [
      ['add', () => f.add(v4)],
      ['add number', () => f.add(i)],
      ['matmul', () => f.matmul(w)],
      ['gather', () => f.gather(1, iWide)],
      ['oneHot', () => nb.oneHot(i, 3)],
      ['linear', () => nb.linear(f, w, null)],
      ['softmaxCrossEntropy', () => nb.softmaxCrossEntropy(f, bad)],
      ['where', () => nb.where(i, f, v5)],
      ['concat', () => nb.concat([f, w])],
      ['reshape of a view', () => ft.reshape([4])],
      ['batchNormTrain', () => nb.batchNormTrain(f, v4, null, 1e-5)],
    ];
    const leaks: string[] = [];
    for (const [name, fn] of failing) {
      const before = nb.memory();
      expect(fn, name).toThrow();
      const after = nb.memory();
      if (after.tensors !== before.tensors || after.bytes !== before.bytes) {
        leaks.push(`${name}: ${after.tensors - before.tensors} tensors, ${after.bytes - before.bytes} bytes`);
      }
    }
    expect(leaks).toEqual([]);
    for (const t of [f, i, iWide, w, v4, v5, bad, ft]) t.dispose();
  });
});
