/** The shared PyTorch-fixture helpers, reading this package's `test/fixtures/`. */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureReader } from '@nabla/conformance';

export {
  ATOL,
  backends,
  expectClose,
  type Fx,
  fromFx,
  intFromFx,
  RTOL,
  reportDifferences,
  useBackend,
} from '@nabla/conformance';

/** Reads `test/fixtures/<name>.json`. */
export const fixture = fixtureReader(dirname(fileURLToPath(import.meta.url)));
