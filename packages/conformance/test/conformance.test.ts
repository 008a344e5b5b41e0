/** Runs the one conformance suite on every backend that is built and starts here. */
import { describe } from 'vitest';
import { backendsUnderTest, runConformance, skippedBackends } from '../src/index.js';

const names = await backendsUnderTest();
for (const [name, reason] of Object.entries(skippedBackends))
  console.warn(`[conformance] '${name}' not under test: ${reason}`);

describe.each(names)('%s', (name) => {
  runConformance(name);
});
