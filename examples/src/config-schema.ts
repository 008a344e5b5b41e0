/**
 * A JSON Schema for config files, built from the same lists the CLI validates against (the
 * optimizers, schedules, backends and each example's model and data keys), so editors complete
 * and check `configs/*.json` (`"$schema": "./schema.json"`). The CLI's own checks stay the
 * authority: they name the wrong key and suggest what is allowed, which a schema validator's
 * messages do not. `examples/configs/schema.json` is this function's output; a test keeps it so.
 */
import type { ExampleDef } from './example.js';
import { BACKENDS, OPTIMIZERS, SCHEDULE_KEYS } from './options.js';

type Schema = Record<string, unknown>;

const positiveInt = (description: string): Schema => ({ type: 'integer', minimum: 1, description });
const nonNegative = (description: string): Schema => ({ type: 'number', minimum: 0, description });

/** The schema of a model or data section: the example's keys, typed like its defaults. */
function section(defaults: Record<string, unknown>): Schema {
  const properties: Schema = {};
  for (const [key, value] of Object.entries(defaults)) {
    properties[key] = Array.isArray(value)
      ? { type: 'array', items: { type: 'integer', minimum: 1 }, default: value }
      : { type: typeof value === 'boolean' ? 'boolean' : 'number', default: value };
  }
  return { type: 'object', properties, additionalProperties: false };
}

const SCHEDULE_FIELDS: Record<string, Schema> = {
  stepSize: positiveInt('step: epochs between decays'),
  gamma: nonNegative('step: factor applied at each decay'),
  minLr: nonNegative('cosine: the learning rate at the last epoch'),
  pctStart: nonNegative('onecycle: fraction of the steps spent warming up'),
};

/** The JSON Schema (draft-07, what editors support best) for config files of these examples. */
export function configSchema(examples: Record<string, ExampleDef>): Schema {
  const schedules = Object.entries(SCHEDULE_KEYS).map(([type, keys]) => ({
    type: 'object',
    properties: {
      type: { const: type },
      ...Object.fromEntries(keys.filter((k) => k !== 'type').map((k) => [k, SCHEDULE_FIELDS[k]])),
    },
    additionalProperties: false,
  }));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'nabla-train config',
    description:
      'Any subset of a training run; flags win over NABLA_BACKEND, which wins over this file, which wins over the example defaults.',
    type: 'object',
    properties: {
      $schema: { type: 'string' },
      example: { enum: Object.keys(examples), description: 'which example this config is for' },
      backend: { enum: [...BACKENDS], description: 'auto: wasm where it starts, else cpu' },
      epochs: positiveInt('number of epochs'),
      batchSize: positiveInt('mini-batch size'),
      seed: { type: 'integer', minimum: 0, description: 'same seed and backend: same numbers' },
      optimizer: {
        type: 'object',
        properties: {
          name: { enum: [...OPTIMIZERS] },
          lr: nonNegative('learning rate'),
          momentum: nonNegative('SGD only'),
          weightDecay: nonNegative('L2 penalty (adamw: decoupled weight decay)'),
        },
        additionalProperties: false,
      },
      schedule: {
        description: 'learning-rate schedule; the fields allowed depend on type',
        anyOf: schedules,
      },
      model: { type: 'object', description: "the example's model settings" },
      data: { type: 'object', description: "the example's data settings" },
    },
    additionalProperties: false,
    // Each example's own model and data keys, where the file names its example.
    allOf: Object.entries(examples).map(([name, ex]) => ({
      if: { properties: { example: { const: name } }, required: ['example'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      then: { properties: { model: section(ex.defaults.model), data: section(ex.defaults.data) } },
    })),
  };
}
