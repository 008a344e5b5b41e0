/**
 * Side effect of importing the package: registers the cpu backend under `'cpu'` with
 * priority 1, so it is the fallback when no faster backend is registered or starts.
 */
import { registerBackend } from '@nabla/core';
import { createCpuBackend } from './cpu-backend.js';

registerBackend('cpu', async () => createCpuBackend(), { priority: 1 });
