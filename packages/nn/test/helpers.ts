/**
 * This package's PyTorch fixtures: `fixture(name)` reads `test/fixtures/<name>.json`; and what
 * the fixture tests share.
 */
import { fileURLToPath } from 'node:url';
import { backends, reportDifferences } from '@nabla/conformance';
import { type Fx, fixtureReader } from '@nabla/test-kit';
import { afterAll } from 'vitest';

export const fixture = fixtureReader(fileURLToPath(new URL('.', import.meta.url)));

/** The backends under test; after the file, their largest differences from PyTorch are reported as `label`. */
export async function backendsReporting(label: string): Promise<string[]> {
  afterAll(() => reportDifferences(label));
  return backends();
}

/** `[name, case]` rows for `it.each`, so that a title's `%s` names the fixture case. */
export function named<C extends { name: string }>(cases: readonly C[]): [string, C][] {
  return cases.map((c) => [c.name, c]);
}

/**
 * One forward and backward of a normalisation layer in a fixture: the input and upstream
 * gradient, and PyTorch's output and gradients (weight and bias: null without affine parameters).
 */
export interface NormPass {
  input: Fx;
  gradOutput: Fx;
  output: Fx;
  inputGrad: Fx;
  weightGrad: Fx | null;
  biasGrad: Fx | null;
}
