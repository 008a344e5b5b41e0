/**
 * The backend registry, in a fresh module state (vitest isolates test files): no active
 * backend at first, priorities, `ready()`, lazy and once-only initialisation.
 */
import { createCpuBackend } from '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';

const named = (name: string) => () =>
  Object.create(createCpuBackend(), { name: { value: name } }) as nb.Backend;

describe('registry', () => {
  it('with no active backend, ops say how to start one', () => {
    // importing '@nabla/backend-cpu' registered 'cpu' but activated nothing
    expect(nb.listBackends()).toEqual(['cpu']);
    expect(() => nb.getBackend()).toThrow(
      'No backend is active. Call `await setBackend(name)` first (registered: cpu)',
    );
    expect(() => nb.zeros([1])).toThrow('No backend is active');
  });

  it('lists backends by priority and ready() picks the highest that starts', async () => {
    let brokenCalls = 0;
    nb.registerBackend(
      'fast-but-broken',
      () => {
        brokenCalls++;
        throw new Error('no device');
      },
      { priority: 10 },
    );
    nb.registerBackend('mid', named('mid'), { priority: 5 });
    nb.registerBackend('low', named('low'), { priority: -1 });
    expect(nb.listBackends()).toEqual(['fast-but-broken', 'mid', 'cpu', 'low']);
    expect(await nb.ready()).toBe('mid');
    expect(brokenCalls).toBe(1);
    expect(nb.getBackend().name).toBe('mid');
    expect(await nb.ready()).toBe('mid'); // already active: no new attempt
    expect(brokenCalls).toBe(1);
    expect(nb.zeros([1]).backend).toBe('mid');
  });

  it('initialises each backend once, even when asked concurrently', async () => {
    let calls = 0;
    nb.registerBackend('counted', async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return named('counted')();
    });
    const [a, b] = await Promise.all([nb.initBackend('counted'), nb.setBackend('counted')]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    expect(await nb.setBackend('counted')).toBe(a);
    expect(calls).toBe(1);
    expect(nb.getBackend()).toBe(a);
  });

  it('a failed start can be retried', async () => {
    let attempt = 0;
    nb.registerBackend('flaky', () => {
      if (++attempt === 1) throw new Error('first start fails');
      return named('flaky')();
    });
    await expect(nb.setBackend('flaky')).rejects.toThrow('first start fails');
    expect((await nb.setBackend('flaky')).name).toBe('flaky');
  });

  it('registering a name again replaces the factory (and deactivates the old instance)', async () => {
    await nb.setBackend('low');
    nb.registerBackend('low', named('low'), { priority: -1 });
    expect(() => nb.getBackend()).toThrow('No backend is active');
    const fresh = await nb.setBackend('low');
    expect(fresh.name).toBe('low');
  });

  it('ready() with nothing that starts reports every reason', async () => {
    const { registerBackend, ready } = nb;
    for (const name of nb.listBackends())
      registerBackend(name, () => Promise.reject(new Error(`${name} cannot start`)));
    const err = await ready().catch((e: Error) => e);
    expect(String(err)).toMatch(/^Error: No backend could start\. /);
    for (const name of ['cpu', 'mid', 'low', 'fast-but-broken'])
      expect(String(err)).toContain(`${name}: ${name} cannot start`);
  });
});
