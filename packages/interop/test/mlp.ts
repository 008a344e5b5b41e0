/** Test helpers: the MLP shared with tools/interop/torch_roundtrip.py, and fixture access. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensor } from '@nabla/core';
import { BatchNorm1d, Dropout, Linear, ReLU, Sequential } from '@nabla/nn';

/** The architecture of `make_model()` in torch_roundtrip.py; state-dict keys match PyTorch's. */
export function makeMlp(): Sequential {
  return new Sequential(
    new Linear(6, 16),
    new BatchNorm1d(16),
    new ReLU(),
    new Dropout(0.2),
    new Linear(16, 8),
    new BatchNorm1d(8),
    new ReLU(),
    new Linear(8, 3),
  );
}

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Bytes of `test/fixtures/<name>`. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir, name)));
}

/** A tensor as written to JSON by the fixture scripts. */
export interface Fx {
  shape: number[];
  data: number[];
}

/** Parsed `test/fixtures/<name>.json`. */
export function fixtureJson<T = Record<string, Fx>>(name: string): T {
  return JSON.parse(readFileSync(join(fixturesDir, `${name}.json`), 'utf8')) as T;
}

/** A float32 tensor from a fixture entry. */
export function fromFx(f: Fx): Tensor {
  return tensor(new Float32Array(f.data), { shape: f.shape });
}

/** Largest |a - b| over two equally long arrays (throws on a length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
