/** One program per structure of an update rule, built once. */
import type { PointwiseProgram } from '@nabla/core';

/**
 * Memoizes a rule's program builder by the key of its structure (its flags), so a step does
 * not rebuild the rule's expressions for every parameter.
 */
export function programsBy<A extends unknown[]>(
  keyOf: (...structure: A) => string,
  build: (...structure: A) => PointwiseProgram,
): (...structure: A) => PointwiseProgram {
  const built = new Map<string, PointwiseProgram>();
  return (...structure) => {
    const key = keyOf(...structure);
    let program = built.get(key);
    if (!program) {
      program = build(...structure);
      built.set(key, program);
    }
    return program;
  };
}
