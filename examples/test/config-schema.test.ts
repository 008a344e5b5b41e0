/** configs/schema.json: what editors check configs against. It must be the code's schema and agree with the CLI. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config-schema.js';
import { EXAMPLES } from '../src/examples/index.js';
import { UsageError, validateConfig } from '../src/options.js';

const configsDir = join(import.meta.dirname, '..', 'configs');
const committed = JSON.parse(readFileSync(join(configsDir, 'schema.json'), 'utf8'));
const matchesSchema = new Ajv({ strict: true, allErrors: true }).compile(committed);

/** What the CLI says of a config: null when valid, else its message. */
function cliVerdict(config: Record<string, unknown>): string | null {
  try {
    validateConfig(config, EXAMPLES[(config.example as string) ?? 'spirals'].defaults, 'c.json');
    return null;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

describe('config schema', () => {
  it('is the code’s schema (run `npm run config-schema --workspace @nabla/examples` after changing options)', () => {
    expect(committed).toEqual(configSchema(EXAMPLES));
  });

  it('accepts every shipped config, each of which names it', () => {
    for (const name of Object.keys(EXAMPLES)) {
      const config = JSON.parse(readFileSync(join(configsDir, `${name}.json`), 'utf8'));
      expect(config.$schema).toBe('./schema.json');
      expect(matchesSchema(config), JSON.stringify(matchesSchema.errors)).toBe(true);
    }
  });

  const base = { example: 'spirals' };
  it.each([
    ['a partial config', { ...base, epochs: 3, optimizer: { lr: 0.1 } }, true],
    [
      'a schedule field without its type (the default type is cosine)',
      { ...base, schedule: { minLr: 0.001 } },
      true,
    ],
    [
      'another schedule type with its fields',
      { ...base, schedule: { type: 'step', stepSize: 2, gamma: 0.5 } },
      true,
    ],
    ['an unknown top-level key', { ...base, epoch: 3 }, false],
    ['an unknown optimizer', { ...base, optimizer: { name: 'rmsprop' } }, false],
    ['a negative learning rate', { ...base, optimizer: { lr: -1 } }, false],
    ['a fractional epoch count', { ...base, epochs: 2.5 }, false],
    ['a field of another schedule type', { ...base, schedule: { type: 'step', minLr: 0.1 } }, false],
    ["another example's model key", { ...base, model: { inputSize: 3 } }, false],
    ['a wrongly typed data value', { ...base, data: { noise: 'high' } }, false],
    ['an unknown backend', { ...base, backend: 'gpu' }, false],
  ])('and the CLI agree: %s', (_what, config, valid) => {
    expect(matchesSchema(config)).toBe(valid);
    expect(cliVerdict(config) === null).toBe(valid);
  });
});
