/**
 * Takes the playground screenshot in the docs (docs/images/playground.png): builds the page,
 * serves it as `vite preview` does (COOP/COEP, so wasm gets threads), trains spirals briefly
 * in the headless chromium the end-to-end test uses, and captures a 1280×800 window.
 *
 *   npm run screenshot --workspace @nabla/web            # after `npm run build` at the root
 *   npm run screenshot --workspace @nabla/web -- out.png # somewhere else
 *
 * Plain JavaScript so that node runs it without a TypeScript loader.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_FLAGS, SWIFTSHADER_ICD } from '../../../tools/test-setup/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, '../../docs/images/playground.png'));
/** A short spirals run on wasm: the backend most browsers run fastest. */
const QUERY = 'dataset=spirals&backend=wasm&epochs=30&lr=0.02&batch=64&autotrain=1';

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  process.exit(1);
}

await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
const server = await preview({
  root: ROOT,
  logLevel: 'silent',
  preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
});
const url = server.resolvedUrls?.local[0];
const env = { ...process.env };
if (!env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  env,
  args: CHROMIUM_FLAGS,
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}?${QUERY}`);
  await page.waitForFunction(
    () => ['done', 'stopped', 'error'].includes(document.body.dataset.status ?? ''),
    null,
    {
      timeout: 120_000,
    },
  );
  const status = await page.textContent('#status');
  if ((await page.evaluate(() => document.body.dataset.status)) !== 'done')
    throw new Error(`page: ${status}`);
  await mkdir(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`${OUT}: ${status}`);
} finally {
  await browser.close();
  await server.close();
}
