/** This package's PyTorch fixtures: `fixture(name)` reads `test/fixtures/<name>.json`. */
import { fileURLToPath } from 'node:url';
import { fixtureReader } from '@nabla/test-kit';

export const fixture = fixtureReader(fileURLToPath(new URL('.', import.meta.url)));
