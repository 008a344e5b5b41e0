/** JSON.stringify of tensors (and of state dicts) shows values, not internals. */
import '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nb.setBackend('cpu');
});

describe('Tensor.toJSON', () => {
  it('writes dtype, shape, backend and nested values', () => {
    const t = nb.tensor([
      [1, 2],
      [3, 4.5],
    ]);
    expect(JSON.parse(JSON.stringify(t))).toEqual({
      dtype: 'float32',
      shape: [2, 2],
      backend: 'cpu',
      values: [
        [1, 2],
        [3, 4.5],
      ],
    });
    t.dispose();
  });

  it('a state dict stringifies as data', () => {
    const w = nb.tensor([0.5, -1]);
    const n = nb.tensor([3], { dtype: 'int32' });
    const text = JSON.stringify({ weight: w, num_batches_tracked: n });
    expect(text).toBe(
      '{"weight":{"dtype":"float32","shape":[2],"backend":"cpu","values":[0.5,-1]},' +
        '"num_batches_tracked":{"dtype":"int32","shape":[1],"backend":"cpu","values":[3]}}',
    );
    expect(text).not.toContain('_storage');
    w.dispose();
    n.dispose();
  });

  it('a disposed tensor says so instead of throwing', () => {
    const t = nb.tensor([1]);
    t.dispose();
    expect(t.toJSON()).toEqual({ dtype: 'float32', shape: [1], backend: '', note: 'disposed' });
  });

  it('makes no tensors', () => {
    const t = nb.tensor([1, 2, 3]);
    const before = nb.memory().tensors;
    JSON.stringify(t);
    expect(nb.memory().tensors).toBe(before);
    t.dispose();
  });
});
