/**
 * The shared test kit: the backends under test, and the conformance suite every backend
 * runs unchanged (`runConformance(name)` inside a vitest file).
 */
export {
  backendsUnderTest,
  KNOWN_BACKENDS,
  registerCpuAlias,
  registerPrimitivesOnlyCpu,
  skippedBackends,
} from './backends.js';
export {
  ATOL,
  backends,
  expectClose,
  type Fx,
  fixtureReader,
  fromFx,
  intFromFx,
  RTOL,
  reportDifferences,
  useBackend,
} from './pytorch-fixtures.js';
export * as ref from './ref.js';
export { runConformance } from './suite/index.js';
export { assertClose, check, expectTensor, LAYOUTS, type Layout, type Tol, toTensor } from './suite/util.js';
