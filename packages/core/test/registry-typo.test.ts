/** A mistyped backend name suggests the registered one instead of a package to install. */
import { describe, expect, it } from 'vitest';
import * as nb from '../src/index.js';

describe('unknown backend names', () => {
  it("'wsam' says: did you mean 'wasm'? (and names no package to install)", async () => {
    nb.registerBackend('wasm', async () => {
      throw new Error('not started in this test');
    });
    const err = await nb.setBackend('wsam').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^Unknown backend 'wsam'; did you mean 'wasm'\? Registered backends: .*wasm/,
    );
    expect(err?.message).not.toContain('@nabla/backend-wsam');
  });

  it('a short unrelated name is not "corrected"', async () => {
    nb.registerBackend('cpu-test', async () => {
      throw new Error('not started in this test');
    });
    await expect(nb.setBackend('tpu')).rejects.toThrow("import '@nabla/backend-tpu'");
  });
});
