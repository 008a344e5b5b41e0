/** The backend in headless Chromium on navigator.gpu (SwiftShader without a GPU), via scripts/browser-smoke.mjs. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const script = fileURLToPath(new URL('../scripts/browser-smoke.mjs', import.meta.url));
if (!existsSync(CHROMIUM))
  console.warn(
    `\n*** SKIPPING WebGPU browser test: ${CHROMIUM} is missing (scripts/ci-setup.sh installs it)\n`,
  );

describe.skipIf(!existsSync(CHROMIUM))('webgpu in a browser', () => {
  it('registers, computes and refuses dataSync on navigator.gpu', async () => {
    const out = await new Promise<string>((resolve) => {
      execFile(process.execPath, [script], { timeout: 150_000 }, (_err, stdout, stderr) =>
        resolve(stdout + stderr),
      );
    });
    expect(out).toContain('"runtime":"navigator.gpu"');
    expect(out).toContain('"matmul":[7,10,15,22]');
    expect(out).toContain('"linear":[0,0]');
    expect(out).toMatch(/"ce":\[0\.693147/);
    expect(out).toContain('await t.data()');
  });
});
