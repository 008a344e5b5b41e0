/**
 * State safety on every backend: the version counter, bad inputs that must give one error and
 * change nothing, the naive training loop, backend switching and size checks (issues 16 and 19).
 */
import { setBackend } from '@nabla/core';
import { beforeAll, describe } from 'vitest';
import { backendsUnderTest } from '../src/index.js';
import { badInputSuite } from '../src/state/bad-inputs.js';
import { naiveLoopSuite } from '../src/state/naive-loop.js';
import { sizeSuite } from '../src/state/sizes.js';
import { switchingSuite } from '../src/state/switching.js';
import { versionSuite } from '../src/state/versions.js';

const names = await backendsUnderTest();

describe.each(names)('state safety: %s', (name) => {
  beforeAll(async () => {
    await setBackend(name);
  });
  versionSuite();
  badInputSuite(name);
  sizeSuite(name);
  switchingSuite(name);
  naiveLoopSuite(name);
});
