/**
 * `save` / `load`: safetensors to and from files (Node) or bytes (anywhere). `node:fs` is
 * imported lazily, only when a path is given, so bundling for a browser pulls in nothing.
 */
import type { Module } from '@nabla/nn';
import { type LoadOptions, loadSafetensors, toSafetensors } from './state-dict.js';

/** What {@link load} reads: a file path (Node only) or the file's bytes. */
export type SafetensorsSource = string | Uint8Array | ArrayBuffer | Blob;

async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  // A computed specifier, marked for Vite and webpack, so browser bundlers neither follow
  // nor polyfill it; only Node resolves it, and only when a path is used.
  const specifier = 'node:fs/promises';
  try {
    return (await import(
      /* @vite-ignore */ /* webpackIgnore: true */ specifier
    )) as typeof import('node:fs/promises');
  } catch {
    throw new Error(
      'save/load with a path needs Node.js file access; in a browser pass or take bytes instead (Uint8Array, ArrayBuffer or Blob)',
    );
  }
}

/**
 * Serializes `module.stateDict()` as safetensors with PyTorch's names and dtypes and returns
 * the bytes. With `path` (Node), also writes them: first to a temporary file next to `path`,
 * then renamed over it, so a crash never leaves a half-written model at `path`.
 *
 * @example
 * await save(model, 'model.safetensors');          // Node
 * const blob = new Blob([await save(model)]);       // browser: offer blob for download
 */
export async function save(module: Module, path?: string): Promise<Uint8Array> {
  const bytes = await toSafetensors(module.stateDict());
  if (path === undefined) return bytes;
  const fs = await nodeFs();
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync(); // the data must be on disk before the rename makes it visible
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  return bytes;
}

/**
 * Loads safetensors weights into `module` in place, from a path (Node) or bytes
 * (`Uint8Array`, `ArrayBuffer`, `Blob`). Names, shapes and dtypes are all checked before
 * anything is copied, and every mismatch is listed in one error; a truncated or corrupt file
 * is a {@link SafetensorsError}. Works with files written by PyTorch's `safetensors`.
 */
export async function load(
  module: Module,
  source: SafetensorsSource,
  options: LoadOptions = {},
): Promise<void> {
  let bytes: Uint8Array;
  if (typeof source === 'string') bytes = new Uint8Array(await (await nodeFs()).readFile(source));
  else if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (typeof Blob !== 'undefined' && source instanceof Blob)
    bytes = new Uint8Array(await source.arrayBuffer());
  else throw new TypeError('load: expected a path, Uint8Array, ArrayBuffer or Blob');
  loadSafetensors(module, bytes, options);
}
