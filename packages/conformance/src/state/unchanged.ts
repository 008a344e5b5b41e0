/** The shared assertion of the bad-input cases: the right error, and nothing changed. */
import type * as nb from '@nabla/core';
import { held } from '@nabla/test-kit';
import { expect } from 'vitest';

/**
 * Runs `fn` and asserts it throws an error whose message contains `message` (and is of class
 * `kind`), and that `memory()` and the values of `watched` tensors are exactly as before.
 */
export async function expectNoChange(
  watched: readonly nb.Tensor[],
  fn: () => unknown,
  message: string,
  kind: ErrorConstructor = Error,
): Promise<Error> {
  const values = await Promise.all(watched.map(async (t) => Array.from(await t.data())));
  const versions = watched.map((t) => t.version);
  // held(), not memory(): `fn` may await, and the collector may free an earlier test's leftovers
  const before = held();
  let caught: unknown = null;
  try {
    const r = fn();
    if (r instanceof Promise) await r;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected an error containing: ${message}`).toBeInstanceOf(kind);
  expect((caught as Error).message).toContain(message);
  expect(held()).toEqual(before);
  expect(watched.map((t) => t.version)).toEqual(versions);
  for (const [i, t] of watched.entries()) expect(Array.from(await t.data())).toEqual(values[i]);
  return caught as Error;
}
