/**
 * Runs the one conformance suite on every backend that is built and starts here, and once
 * more on `cpu-primitives` (cpu without fused kernels), so core's composed paths run as a
 * minimal backend would see them.
 */
import { describe } from 'vitest';
import {
  backendsUnderTest,
  registerPrimitivesOnlyCpu,
  runConformance,
  skippedBackends,
} from '../src/index.js';

const names = await backendsUnderTest();
for (const [name, reason] of Object.entries(skippedBackends))
  console.warn(`[conformance] '${name}' not under test: ${reason}`);
if (!process.env.NABLA_TEST_BACKENDS || names.includes('cpu')) names.push(await registerPrimitivesOnlyCpu());

describe.each(names)('%s', (name) => {
  runConformance(name);
});
