/**
 * The wasm transcendental functions (assembly/vmath.ts), scalar and f32x4 versions, against
 * float64 over a sweep of float32 bit patterns covering the whole range (both signs,
 * subnormals, specials), in float32 ulps of the float64 result; specials must match exactly.
 * scripts/ulp-report.mjs runs the denser sweep whose numbers are in the README.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { measure } from '../scripts/ulp-report.mjs';

/** Largest error allowed per function, in ulps (the README's dense-sweep numbers, rounded up). */
const bounds: Record<string, number> = { exp: 1, log: 1, log1p: 2.5, tanh: 1.5, erf: 2.5, sigmoid: 2.5 };

describe('wasm vmath accuracy against float64', () => {
  it('every function within its bound, scalar and vector versions identical in error', () => {
    const report = measure(4099) as Record<string, { scalar: number; vector: number; vectorAt: number }>;
    console.log(
      `[vmath] max ulp: ${Object.entries(report)
        .map(([k, r]) => `${k} ${r.vector.toFixed(2)}`)
        .join(', ')}`,
    );
    for (const [name, bound] of Object.entries(bounds)) {
      expect(report[name].vector, `${name} (worst at ${report[name].vectorAt})`).toBeLessThanOrEqual(bound);
      expect(report[name].scalar, `${name} scalar`).toBe(report[name].vector);
    }
  }, 120_000);
});
