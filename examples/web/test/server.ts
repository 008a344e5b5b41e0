/**
 * Serves the built page for the end-to-end test with `vite preview`, the server `npm run
 * preview` starts: the COOP/COEP headers come from vite.config.ts, so the test checks what
 * users get. Without `isolate`, the config file is left out (no headers): the page must then
 * say that wasm runs on one thread.
 */
import { dirname } from 'node:path';
import { preview } from 'vite';

/** Serves `dist` (the build folder) on 127.0.0.1 at a free port; resolves with the base URL and a closer. */
export async function serveStatic(
  dist: string,
  { isolate = true }: { isolate?: boolean } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await preview({
    root: dirname(dist),
    configFile: isolate ? undefined : false,
    logLevel: 'silent',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
  if (!url) throw new Error('vite preview did not report its address');
  return { url, close: () => server.close() };
}
