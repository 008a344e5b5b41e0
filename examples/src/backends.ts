/**
 * Starting the backend a run asked for. Backend packages are imported on demand, so the CLI
 * works with whichever of them are built, and says why one is not available.
 */
import { setBackend } from '@nabla/core';
import { BACKENDS, UsageError } from './options.js';

const PACKAGES: Record<string, string> = {
  cpu: '@nabla/backend-cpu',
  wasm: '@nabla/backend-wasm',
  webgpu: '@nabla/backend-webgpu',
};

/** Why a backend could not start. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

async function start(name: string): Promise<void> {
  const pkg = PACKAGES[name];
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'
        ? `package ${pkg} is not built or not installed (run npm run build from the repository root)`
        : `importing ${pkg} failed: ${e.message.split('\n')[0]}`;
    throw new BackendUnavailableError(`backend '${name}' is unavailable: ${reason}`);
  }
  try {
    await setBackend(name);
  } catch (err) {
    throw new BackendUnavailableError(
      `backend '${name}' could not start: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * Activates `requested` (`auto`: wasm where it starts, else cpu) and returns the name of the
 * backend in use and, when `auto` had to fall back, a note saying why.
 */
export async function selectBackend(requested: string): Promise<{ name: string; note?: string }> {
  if (!(BACKENDS as readonly string[]).includes(requested)) {
    throw new UsageError(`unknown backend '${requested}'. Allowed: ${BACKENDS.join(', ')}`);
  }
  if (requested !== 'auto') {
    await start(requested);
    return { name: requested };
  }
  try {
    await start('wasm');
    return { name: 'wasm' };
  } catch (err) {
    await start('cpu');
    return { name: 'cpu', note: `${(err as Error).message}; using cpu` };
  }
}
