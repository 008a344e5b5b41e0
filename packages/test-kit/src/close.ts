import { expect } from 'vitest';

/**
 * Elementwise `|actual - expected| <= atol + rtol·|expected|`: NaN must match NaN, ±Infinity
 * must match exactly, and a NaN where a number is expected fails. `what` names the array in a
 * failure.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      expect(a, `${what}[${i}] should be NaN`).toBeNaN();
    } else if (!Number.isFinite(e)) {
      expect(a, `${what}[${i}]`).toBe(e);
    } else if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(
        `${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, rtol ${rtol}, atol ${atol})`,
      );
    }
  }
}
