/**
 * The shared test kit: the backends under test, and the conformance suite every backend
 * runs unchanged (`runConformance(name)` inside a vitest file).
 */
export { backendsUnderTest, KNOWN_BACKENDS, skippedBackends } from './backends.js';
