/** The whole conformance suite for one backend: `runConformance(name)` inside a vitest file. */
import { setBackend } from '@nabla/core';
import { afterAll, beforeAll, describe } from 'vitest';
import { elementwiseSuite } from './elementwise.js';
import { fusedSuite } from './fused.js';
import { gradcheckSuite } from './gradcheck.js';
import { indexingSuite } from './indexing.js';
import { matmulSuite } from './matmul.js';
import { memorySuite } from './memory.js';
import { pointwiseSuite } from './pointwise.js';
import { readbackSuite } from './readback.js';
import { reduceSuite } from './reduce.js';
import { reduceProgramSuite } from './reduce-program.js';
import { specialSuite } from './special.js';
import { caseMode } from './util.js';
import { viewsSuite } from './views.js';

/** The op cases that run through `check` (so also compiled): one call each, any order. */
const OP_SUITES = [
  elementwiseSuite,
  pointwiseSuite,
  reduceSuite,
  reduceProgramSuite,
  matmulSuite,
  viewsSuite,
  indexingSuite,
  specialSuite,
] as const;

/**
 * Registers every conformance case for the backend registered as `name` (its package must
 * be imported). Cases run with that backend active.
 */
export function runConformance(name: string): void {
  describe(`conformance: ${name}`, () => {
    beforeAll(async () => {
      await setBackend(name);
    });
    readbackSuite(name);
    for (const suite of OP_SUITES) suite();
    fusedSuite();
    gradcheckSuite();
    memorySuite(name);
  });
  // The same op cases once more through `compile`: captured, then checked on a replay.
  describe(`conformance, compiled: ${name}`, () => {
    beforeAll(async () => {
      await setBackend(name);
      caseMode.compiled = true;
    });
    afterAll(() => {
      caseMode.compiled = false;
    });
    for (const suite of OP_SUITES) suite();
  });
}
