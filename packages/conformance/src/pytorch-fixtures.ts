/**
 * Helpers for tests that compare against PyTorch fixtures (`tools/fixtures/generate.py`): the
 * backends to run on, and a tolerance check that records the largest difference per fixture
 * family (fixture loading and tensors from entries are the test kit's, re-exported here).
 * Shared by the nn and optim tests.
 */
import '@nabla/backend-cpu';
import { setBackend, type Tensor } from '@nabla/core';
import type { Fx } from '@nabla/test-kit';
import { expect } from 'vitest';
import { backendsUnderTest } from './backends.js';

// Fixture entries as tensors are the test kit's; re-exported for the suites that import them here.
export { type Fx, fixtureReader, fromFx, intFromFx } from '@nabla/test-kit';

/** The backends every test runs on (cpu always). */
export async function backends(): Promise<string[]> {
  return backendsUnderTest();
}

let current = '';

/** Activates `name` for the following test steps; differences are recorded per backend. */
export async function useBackend(name: string): Promise<void> {
  await setBackend(name);
  current = name;
}

export const RTOL = 1e-5;
export const ATOL = 1e-6;

const worst = new Map<string, number>();
/** Largest `|a - b| / (atol + rtol·|b|)` per family: the share of the tolerance used (<= 1 passes). */
const worstRatio = new Map<string, number>();

/**
 * Asserts `|a - b| <= atol + rtol·|b|` elementwise (NaN matches NaN) and records the largest
 * absolute difference under `family`.
 */
export async function expectClose(
  family: string,
  what: string,
  actual: Tensor,
  expected: Fx | number,
  tol: { rtol?: number; atol?: number } = {},
): Promise<void> {
  const rtol = tol.rtol ?? RTOL;
  const atol = tol.atol ?? ATOL;
  const exp = typeof expected === 'number' ? { shape: [], data: [expected] } : expected;
  expect(actual.shape, `${what}: shape`).toEqual(exp.shape);
  const got = await actual.data();
  let maxDiff = 0;
  let bad = -1;
  for (let i = 0; i < exp.data.length; i++) {
    const a = got[i];
    const b = Math.fround(exp.data[i]); // the reference is a float32 value
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    const d = Math.abs(a - b);
    const ratio = d === 0 ? 0 : d / (atol + rtol * Math.abs(b));
    if (!(ratio <= 1) && bad < 0) bad = i;
    if (!(ratio <= worstRatio.get(`${current} ${family}`)!)) worstRatio.set(`${current} ${family}`, ratio);
    if (d > maxDiff || Number.isNaN(d)) maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  const key = `${current} ${family}`;
  worst.set(key, Math.max(worst.get(key) ?? 0, maxDiff));
  if (bad >= 0) {
    expect.fail(
      `${what}: element ${bad} is ${got[bad]}, PyTorch has ${exp.data[bad]} (max |diff| ${maxDiff}, rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Prints the largest difference seen per family (for the report). */
export function reportDifferences(label: string): void {
  const lines = [...worst.entries()].map(
    ([k, v]) =>
      `  ${k}: ${v.toExponential(2)} (${((worstRatio.get(k) ?? 0) * 100).toFixed(0)}% of tolerance)`,
  );
  console.log(`[max |diff| vs PyTorch] ${label}\n${lines.join('\n')}`);
}
