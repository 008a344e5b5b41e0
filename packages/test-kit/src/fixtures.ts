/** PyTorch fixture entries (`tools/fixtures/generate.py`) as tensors. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, tensor } from '@nabla/core';

/** A tensor as stored by tools/fixtures/generate.py. */
export interface Fx {
  shape: number[];
  data: number[];
}

/** A reader of `<dir>/fixtures/<name>.json`, for a test directory `dir`. */
export function fixtureReader(dir: string): <T = any>(name: string) => T {
  return (name) => JSON.parse(readFileSync(join(dir, 'fixtures', `${name}.json`), 'utf8'));
}

/** A float32 tensor from a fixture entry. */
export function fromFx(f: Fx, options: { requiresGrad?: boolean } = {}): Tensor {
  return tensor(new Float32Array(f.data), { shape: f.shape, requiresGrad: options.requiresGrad ?? false });
}

/** An int32 tensor from a fixture entry. */
export function intFromFx(f: Fx): Tensor {
  return tensor(new Int32Array(f.data), { shape: f.shape, dtype: 'int32' });
}

/**
 * A state dict from fixture entries: float32 tensors, except BatchNorm's `num_batches_tracked`,
 * an int32 scalar.
 */
export function stateFromFx(values: Record<string, Fx>): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      k.endsWith('num_batches_tracked')
        ? tensor(new Int32Array(v.data), { shape: [], dtype: 'int32' })
        : fromFx(v),
    ]),
  );
}
