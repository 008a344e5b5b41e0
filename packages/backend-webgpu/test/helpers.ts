/** Shared setup of the WebGPU kernel tests: a device (or a loud skip), uploads and float64 checks. */
import { existsSync } from 'node:fs';
import {
  type BackendBuffer,
  type DType,
  E,
  type Expr,
  type PointwiseProgram,
  pointwiseProgram,
  type StridedView,
} from '@nabla/core';
import { expect } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../src/backend.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
// Point Vulkan at Debian chromium's SwiftShader when nothing else was chosen (must precede Dawn's start).
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

/** Opens a backend, or returns null after printing why the WebGPU tests are skipped. */
export async function openBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend | null> {
  try {
    return await createWebGpuBackend(options);
  } catch (err) {
    console.warn(
      `\n*** SKIPPING WebGPU tests: no adapter. ${(err as Error).message}\n` +
        '*** Run packages/backend-webgpu/scripts/ci-setup.sh to install a software Vulkan driver.\n',
    );
    return null;
  }
}

/** Uploads numbers as a new buffer. */
export function upload(b: WebGpuBackend, data: readonly number[], dtype: DType = 'float32'): BackendBuffer {
  const buf = b.alloc(data.length, dtype);
  b.write(buf, dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data));
  return buf;
}

/** A contiguous view with row-major strides for `shape` (or the given strides). */
export function view(buffer: BackendBuffer, strides: number[], offset = 0): StridedView {
  return { buffer, strides, offset };
}

/** Reads a buffer as plain numbers. */
export async function readAll(b: WebGpuBackend, buf: BackendBuffer): Promise<number[]> {
  return Array.from(await b.read(buf));
}

/** Elementwise closeness with relative and absolute tolerance; NaN matches NaN, ±Infinity must match exactly. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      expect(a, `${what}[${i}] should be NaN`).toBeNaN();
    } else if (!Number.isFinite(e)) {
      expect(a, `${what}[${i}]`).toBe(e);
    } else if (Math.abs(a - e) > atol + rtol * Math.abs(e)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Deterministic pseudo-random numbers in [lo, hi). */
export function seeded(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  };
}

/** `n` seeded numbers in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = seeded(seed);
  return Array.from({ length: n }, () => r(lo, hi));
}

/** Rounds through float32, as uploading does. */
export const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

/** Runs a pointwise program through the backend (the one elementwise kernel). */
export function pw(
  b: WebGpuBackend,
  program: PointwiseProgram,
  inputs: StridedView[],
  outputs: BackendBuffer | BackendBuffer[],
  shape: number[],
  scalars: number[] = [],
): void {
  b.kernels.pointwise({
    program,
    inputs,
    scalars,
    outputs: Array.isArray(outputs) ? outputs : [outputs],
    shape,
  });
}

/** A one-output program over float32 (or `dtype`) inputs. */
export function prog(
  name: string,
  arity: number,
  f: (...xs: Expr[]) => Expr,
  dtype: DType = 'float32',
): PointwiseProgram {
  const xs = Array.from({ length: arity }, (_, k) => E.input(k, dtype));
  return pointwiseProgram(`t-${name}`, { inputs: xs.map(() => dtype), outputs: [f(...xs)] });
}
