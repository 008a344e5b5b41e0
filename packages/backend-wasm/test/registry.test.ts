import { getBackend, listBackends, setBackend, tensor } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

describe('registration', () => {
  it("registers 'wasm' on import and runs tensor ops through core", async () => {
    expect(listBackends()).toContain('wasm');
    await setBackend('wasm');
    expect(getBackend().name).toBe('wasm');
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([
      [5, 6],
      [7, 8],
    ]);
    const c = a.matmul(b).add(1);
    expect(await c.array()).toEqual([
      [20, 23],
      [44, 51],
    ]);
  });
});
