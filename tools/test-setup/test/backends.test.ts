/** The test run finds the WebGPU driver itself and says which backends were not under test. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../../../packages/conformance/src/backends.js';
import { findVulkanDriver, skippedSummary } from '../backends.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('backends under test', () => {
  it.runIf(
    existsSync(SWIFTSHADER) &&
      process.env.VK_ICD_FILENAMES === SWIFTSHADER &&
      !process.env.NABLA_TEST_BACKENDS,
  )('webgpu is under test without VK_ICD_FILENAMES being set by hand (SwiftShader is found)', async () => {
    expect(await backendsUnderTest()).toEqual(expect.arrayContaining(['cpu', 'wasm', 'webgpu']));
  });

  it('an explicit VK_ICD_FILENAMES is left alone', () => {
    const env: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: '/somewhere/else.json' };
    expect(findVulkanDriver(env)).toBeNull();
    expect(env.VK_ICD_FILENAMES).toBe('/somewhere/else.json');
  });

  it('the summary names each missing backend once, with how to get it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-summary-'));
    try {
      expect(skippedSummary(dir)).toBeNull();
      for (const pid of [11, 12])
        writeFileSync(
          join(dir, `webgpu-${pid}.json`),
          JSON.stringify({ name: 'webgpu', reason: 'no adapter' }),
        );
      const line = skippedSummary(dir)!;
      expect(line.split('\n')).toHaveLength(1);
      expect(line.match(/'webgpu'/g)).toHaveLength(1);
      expect(line).toContain('no adapter');
      expect(line).toContain('apt-get install chromium libvulkan1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
