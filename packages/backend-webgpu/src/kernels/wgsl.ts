/**
 * Pieces shared by every generated shader: the uniform parameter block, storage binding
 * declarations, the flat invocation index of a (possibly 2D) dispatch, and float constants
 * WGSL has no literals for.
 */
import type { DType } from '@nabla/core';
import { PARAM_WORDS } from '../runtime.js';

/** Invocations per workgroup of the one-thread-per-element kernels. */
export const WG = 256;

/** WGSL scalar type of a dtype. */
export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'float32' ? 'f32' : 'i32';
}

/** The uniform block at binding 0 and typed accessors for its words. */
export const PARAMS_HEADER = `
struct Params { w: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> params: Params;
fn pu(i: u32) -> u32 { return params.w[i / 4u][i % 4u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
// Not const: WGSL const-evaluation rejects inf and NaN, runtime bitcasts do not.
fn f32Inf() -> f32 { let bits = 0x7f800000u; return bitcast<f32>(bits); }
fn f32Nan() -> f32 { let bits = 0x7fc00000u; return bitcast<f32>(bits); }
// Compilers may assume finite math and fold \`x != x\` to false; the bit pattern cannot be folded.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

/**
 * A memo of generated shader sources: `cached(key, build)` runs `build` the first time it sees
 * `key` and returns the stored source after that. Each kernel file keeps its own.
 */
export function sourceCache(): (key: string, build: () => string) => string {
  const sources = new Map<string, string>();
  return (key, build) => {
    let src = sources.get(key);
    if (src === undefined) {
      src = build();
      sources.set(key, src);
    }
    return src;
  };
}

/** A storage binding declaration; `binding` counts from 1 (0 is the parameter block). */
export function storage(binding: number, name: string, type: string, write: boolean): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

/** Entry-point signature of a 1D-indexed kernel: `gid` is the flat invocation index. */
export function flatEntry(workgroupSize: number): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let group = wid.y * nwg.x + wid.x;
  let gid = group * ${workgroupSize}u + lid;`;
}

/**
 * Workgroup counts for `groups` workgroups: 1D while it fits in
 * maxComputeWorkgroupsPerDimension, 2D beyond (kernels recompute the flat index).
 */
export function grid(groups: number, maxPerDim: number): [number, number, number] {
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim)
    throw new Error(`WebGPU backend: ${groups} workgroups exceed the device's dispatch limit`);
  return [maxPerDim, y, 1];
}

/** A WGSL float literal of a JS number (finite values only). */
export function f32Literal(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
