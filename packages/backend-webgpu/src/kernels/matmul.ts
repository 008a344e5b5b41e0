/**
 * Batched matmul, tiled: each workgroup computes a `TM x TN` output tile, staging `TK`-deep
 * slices of A and B in workgroup memory; each invocation keeps an `RM x RN` register tile of
 * accumulators. Variants are generated for the transpose forms (they change only how tiles
 * are loaded, so loads stay coalesced), the tile size, the dtype and the epilogue
 * (bias, ReLU) that `linear` uses.
 */

import type { DType, MatmulArgs } from '@nabla/core';

/** The shape fields of a gemm: a matmul's arguments without its buffers (linear builds one too). */
export type GemmShape = Omit<MatmulArgs, 'a' | 'b' | 'out'>;

import type { Binding, Runtime } from '../runtime.js';
import { PARAMS_HEADER, sourceCache, storage, wgslType } from './wgsl.js';

/** A tile configuration. The workgroup is `(TN/RN) x (TM/RM)` invocations. */
export interface Tile {
  readonly tm: number;
  readonly tn: number;
  readonly tk: number;
  readonly rm: number;
  readonly rn: number;
}

/** Large tile for big products; small tile so small products do not waste most lanes. */
export const TILES = {
  large: { tm: 32, tn: 32, tk: 16, rm: 4, rn: 4 },
  small: { tm: 16, tn: 16, tk: 16, rm: 2, rn: 2 },
} as const satisfies Record<string, Tile>;

/** Picks the tile for an `m x n` output. */
export function pickTile(m: number, n: number): Tile {
  return m >= 32 && n >= 32 ? TILES.large : TILES.small;
}

/** What varies between matmul shaders. */
export interface MatmulVariant {
  readonly dtype: DType;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly bias: boolean;
  readonly relu: boolean;
  readonly tile: Tile;
}

const cached = sourceCache();

/** Shader source of a matmul variant. Parameters: M, N, K, strideA, strideB, batchBase. */
export function matmulSource(v: MatmulVariant): string {
  return cached(JSON.stringify(v), () => buildMatmulSource(v));
}

function buildMatmulSource(v: MatmulVariant): string {
  const { tm, tn, tk, rm, rn } = v.tile;
  const t = wgslType(v.dtype);
  const wx = tn / rn;
  const wy = tm / rm;
  const threads = wx * wy;
  const zero = t === 'f32' ? '0.0' : '0i';
  // Tile loads: consecutive invocations walk the stored matrix's contiguous dimension.
  const loadA = v.transA
    ? `let kk = e / ${tm}u; let i = e % ${tm}u; let gi = row0 + i; let gk = k0 + kk;
      var val = ${zero}; if (gi < M && gk < K) { val = a[aBase + gk * M + gi]; }`
    : `let i = e / ${tk}u; let kk = e % ${tk}u; let gi = row0 + i; let gk = k0 + kk;
      var val = ${zero}; if (gi < M && gk < K) { val = a[aBase + gi * K + gk]; }`;
  const loadB = v.transB
    ? `let j = e / ${tk}u; let kk = e % ${tk}u; let gj = col0 + j; let gk = k0 + kk;
      var val = ${zero}; if (gj < N && gk < K) { val = b[bBase + gj * K + gk]; }`
    : `let kk = e / ${tn}u; let j = e % ${tn}u; let gj = col0 + j; let gk = k0 + kk;
      var val = ${zero}; if (gj < N && gk < K) { val = b[bBase + gk * N + gj]; }`;
  const regs: string[] = [];
  for (let r = 0; r < rm; r++) regs.push(`    let a${r} = As[kk * ${tm}u + ty * ${rm}u + ${r}u];`);
  for (let c = 0; c < rn; c++) regs.push(`    let b${c} = Bs[kk * ${tn}u + tx * ${rn}u + ${c}u];`);
  for (let r = 0; r < rm; r++)
    for (let c = 0; c < rn; c++) regs.push(`    part[${r * rn + c}] += a${r} * b${c};`);
  let epilogue = 'acc[idx]';
  if (v.bias) epilogue = `${epilogue} + bias[gj]`;
  const reluLine = v.relu ? `      value = select(value, ${zero}, value < ${zero});` : '';
  const binds = [storage(1, 'a', t, false), storage(2, 'b', t, false)];
  if (v.bias) binds.push(storage(3, 'bias', t, false));
  binds.push(storage(binds.length + 1, 'out', t, true));
  return `${PARAMS_HEADER}
${binds.join('\n')}
var<workgroup> As: array<${t}, ${tk * tm}>;
var<workgroup> Bs: array<${t}, ${tk * tn}>;
@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z + pu(5u);
  let aBase = batch * pu(3u);
  let bBase = batch * pu(4u);
  let row0 = wid.y * ${tm}u;
  let col0 = wid.x * ${tn}u;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${wx}u + tx;
  var acc: array<${t}, ${rm * rn}>;
  var part: array<${t}, ${rm * rn}>;
  for (var k0 = 0u; k0 < K; k0 += ${tk}u) {
    for (var e = tid; e < ${tk * tm}u; e += ${threads}u) {
      ${loadA}
      As[kk * ${tm}u + i] = val;
    }
    for (var e = tid; e < ${tk * tn}u; e += ${threads}u) {
      ${loadB}
      Bs[kk * ${tn}u + j] = val;
    }
    workgroupBarrier();
    // each k-tile is summed on its own, then added to the total: a float32 dot product of
    // length K rounds like one of length tk + K/tk instead of K (K = 784: ~1e-6 -> ~1e-7)
    for (var kk = 0u; kk < ${tk}u; kk++) {
${regs.join('\n')}
    }
    for (var q = 0u; q < ${rm * rn}u; q++) {
      acc[q] += part[q];
      part[q] = ${zero};
    }
    workgroupBarrier();
  }
  let outBase = batch * M * N;
  for (var r = 0u; r < ${rm}u; r++) {
    let gi = row0 + ty * ${rm}u + r;
    for (var c = 0u; c < ${rn}u; c++) {
      let gj = col0 + tx * ${rn}u + c;
      let idx = r * ${rn}u + c;
      if (gi >= M || gj >= N) { continue; }
      var value = ${epilogue};
${reluLine}
      out[outBase + gi * N + gj] = value;
    }
  }
}
`;
}

/**
 * Encodes `out[b] = op(A[b]) · op(B[b])` (+ bias, ReLU); `bindings`: A, B, [bias], then out
 * (written). Batches beyond the per-dimension limit go in several dispatches, offset by batchBase.
 */
export function gemm(
  rt: Runtime,
  maxPerDim: number,
  label: string,
  bindings: Binding[],
  dtype: DType,
  args: GemmShape,
  bias: boolean,
  relu: boolean,
): void {
  const { batch, m, n, k } = args;
  if (batch === 0 || m === 0 || n === 0) return;
  const tile = pickTile(m, n);
  const gx = Math.ceil(n / tile.tn);
  const gy = Math.ceil(m / tile.tm);
  if (gx > maxPerDim || gy > maxPerDim) {
    throw new Error(
      `WebGPU backend: ${label} output [${m}, ${n}] needs more workgroups than the device allows`,
    );
  }
  const source = matmulSource({ dtype, transA: args.transA, transB: args.transB, bias, relu, tile });
  for (let base = 0; base < batch; base += maxPerDim) {
    const count = Math.min(maxPerDim, batch - base);
    rt.dispatch({
      source,
      label,
      bindings,
      params: (w) => w.us([m, n, k, args.strideA, args.strideB, base]),
      groups: [gx, gy, count],
    });
  }
}
