/**
 * The WebGPU kernel tests' own helpers: a device (or a loud skip) and pointwise programs; uploads,
 * closeness and the generator are the test kit's.
 */
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
