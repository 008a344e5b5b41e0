import { getBackend, setBackend, tensor } from '@nabla/core';
import '@nabla/backend-cpu';
import { expect, it } from 'vitest';

it('importing nabla after a backend package keeps the active backend', async () => {
  const cpu = await setBackend('cpu');
  const n = await import('nabla');
  expect(getBackend()).toBe(cpu);
  expect(await n.setBackend('cpu')).toBe(cpu);
  const t = tensor([2, 3]).mul(2);
  expect(Array.from(t.dataSync())).toEqual([4, 6]);
  t.dispose();
});
