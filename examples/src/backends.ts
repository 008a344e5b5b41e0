/**
 * Starting the backend a run asked for. Backend packages are imported on demand, so the CLI
 * works with whichever of them are built, and says why one is not available.
 */
import { setBackend } from '@nabla/core';
import { backendManifests } from 'nabla/backends';
import { BACKENDS, closest, UsageError } from './options.js';

/** Package of each backend name, from the backends' manifests. */
const PACKAGES: Record<string, string> = Object.fromEntries(backendManifests.map((m) => [m.name, m.package]));
/** What `auto` tries, in order: every backend with a positive priority, highest first. */
const AUTO_ORDER = backendManifests
  .filter((m) => m.priority > 0)
  .sort((a, b) => b.priority - a.priority)
  .map((m) => m.name);

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
 * Activates `requested` (`auto`: the first of {@link AUTO_ORDER} that starts) and returns the name of the
 * backend in use and, when `auto` had to fall back, a note saying why.
 */
export async function selectBackend(requested: string): Promise<{ name: string; note?: string }> {
  if (!BACKENDS.includes(requested)) {
    const near = closest(requested, BACKENDS);
    throw new UsageError(
      `unknown backend '${requested}'${near ? ` (did you mean '${near}'?)` : ''}. Allowed: ${BACKENDS.join(', ')}`,
    );
  }
  if (requested !== 'auto') {
    await start(requested);
    return { name: requested };
  }
  const failures: string[] = [];
  for (const name of AUTO_ORDER) {
    try {
      await start(name);
      return failures.length ? { name, note: `${failures.join('; ')}; using ${name}` } : { name };
    } catch (err) {
      if (name === AUTO_ORDER[AUTO_ORDER.length - 1]) throw err;
      failures.push((err as Error).message);
    }
  }
  throw new BackendUnavailableError('no backend is available');
}
