import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES } from '../src/examples/index.js';
import { mergeConfig, type PartialConfig, type RunConfig } from '../src/options.js';
import type { ProgressSink } from '../src/progress.js';

/** A progress sink that records what was printed. */
export function captureSink(): ProgressSink & { text: () => string } {
  const parts: string[] = [];
  return { isTTY: false, write: (s) => void parts.push(s), text: () => parts.join('') };
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nabla-examples-'));
}

/** Small configurations that train in about a second each on the cpu backend. */
export const TINY: Record<string, PartialConfig> = {
  spirals: { epochs: 8, data: { perClass: 100 } },
  mnist: {
    epochs: 3,
    batchSize: 32,
    optimizer: { lr: 0.005 },
    model: { hidden: [64, 32] },
    data: { maxPerClass: 50, testCount: 200 },
  },
  batchnorm: {
    epochs: 3,
    batchSize: 32,
    model: { hidden: [32, 32] },
    data: { maxPerClass: 40, testCount: 100 },
  },
  sequence: { epochs: 8, optimizer: { lr: 0.03 }, data: { samples: 300 } },
  regression: { epochs: 15, data: { samples: 300 } },
  tabular: { epochs: 8, data: { samples: 1500 } },
};

/** The example's defaults with its tiny overrides (and any more). */
export function tinyConfig(name: string, more: PartialConfig = {}): RunConfig {
  return mergeConfig(mergeConfig(EXAMPLES[name].defaults, TINY[name]), more);
}
