/** `.grad` of a non-leaf: null, with PyTorch's warning given once per process (this file is one). */
import '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { expect, it, vi } from 'vitest';

it('warns once, stays null, and leaves leaves alone', async () => {
  await nb.setBackend('cpu');
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const x = nb.ones([2], { requiresGrad: true });
  expect(x.grad).toBeNull(); // a leaf: no warning
  expect(warn).not.toHaveBeenCalled();
  const y = x.mul(2);
  expect(y.grad).toBeNull();
  expect(y.grad).toBeNull();
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0][0])).toContain(
    'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.',
  );
  y.sum().backward();
  expect(Array.from(await x.grad!.data())).toEqual([2, 2]);
  expect(warn).toHaveBeenCalledTimes(1);
  warn.mockRestore();
});
