/**
 * `@nabla/backend-cpu`: the pure TypeScript backend of Nabla. Importing the package
 * registers it as `'cpu'` (priority 1, the fallback when no faster backend starts);
 * `await setBackend('cpu')` activates it.
 * @packageDocumentation
 */
import { registerBackend } from '@nabla/core';
import { createCpuBackend } from './backend.js';
import { manifest } from './manifest.js';

// Registration lives in the entry module itself: bundlers keep it because the package's
// "sideEffects" names its entry files.
registerBackend(manifest.name, async () => createCpuBackend(), { priority: manifest.priority });

export { CpuBackend, createCpuBackend } from './backend.js';
export { manifest } from './manifest.js';
