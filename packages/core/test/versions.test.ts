/**
 * The version counter through `pointwiseInto`, the in-place entry every kernels-as-data update
 * (optimizer rules, running statistics) goes through. On cpu now: wasm and webgpu gain pointwise
 * renderers in other branches, and the bump lives in core, so it covers them as they arrive.
 */
import '@nabla/backend-cpu';
import { E, pointwiseInto, pointwiseProgram, setBackend, tensor, tidy } from '@nabla/core';
import { beforeAll, expect, it } from 'vitest';

beforeAll(() => setBackend('cpu'));

const scaleInPlace = pointwiseProgram('scaleInPlace', {
  inputs: ['float32'],
  scalars: ['float32'],
  outputs: [E.mul(E.input(0), E.scalar(0))],
});

it('pointwiseInto bumps the version of what it writes; backward then refuses the saved tensor', async () => {
  const w = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  const x = tensor([[1], [1]]);
  const y = w.matmul(x).sum();
  expect(w.version).toBe(0);
  tidy(() => pointwiseInto(scaleInPlace, [w], [0.5], [w]));
  expect(w.version).toBe(1);
  expect(Array.from(await w.data())).toEqual([0.5, 1, 1.5, 2]);
  expect(() => y.backward()).toThrow(
    "backward: one of the variables needed for gradient computation has been modified by an inplace operation: [float32 [2, 2]], which is saved by 'matmul', is at version 1; expected version 0 instead.",
  );
  expect(w.grad).toBeNull();
  const view = w.t(); // views share the storage's counter
  expect(view.version).toBe(1);
  for (const t of [w, x, y, view]) t.dispose();
});
