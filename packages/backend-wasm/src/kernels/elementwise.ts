/** Unary, binary, where and fill: thin wrappers choosing the generated export by op and dtype. */
import type { BackendBuffer, BinaryOp, StridedView, UnaryOp } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';
import { collapse, runStrided } from './strided.js';

const sfx = (dtype: string) => (dtype === 'float32' ? 'f32' : 'i32');
const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** `out = op(x)`; `copy` between dtypes converts (float -> int truncates toward zero). */
export function unary(
  rt: Runtime,
  op: UnaryOp,
  x: StridedView,
  outB: BackendBuffer,
  shape: readonly number[],
): void {
  const out = own(outB, `unary ${op} output`);
  const inDt = own(x.buffer, `unary ${op} input`).dtype;
  if (inDt === out.dtype) {
    if (op === 'copy' && copyTransposed(rt, x, out, shape)) return;
    runStrided(rt, `un_${op}_${sfx(inDt)}`, [x], out, shape);
    return;
  }
  // dtype change: convert into the output, then (for ops other than copy) apply in place
  runStrided(rt, `cvt_${sfx(inDt)}_${sfx(out.dtype)}`, [x], out, shape);
  if (op !== 'copy') {
    const strides = contiguousStrides(shape);
    runStrided(rt, `un_${op}_${sfx(out.dtype)}`, [{ buffer: out, offset: 0, strides }], out, shape);
  }
}

/** `out = op(a, b)` with broadcasting through the views' strides. */
export function binary(
  rt: Runtime,
  op: BinaryOp,
  a: StridedView,
  b: StridedView,
  outB: BackendBuffer,
  shape: readonly number[],
): void {
  const out = own(outB, `binary ${op} output`);
  const da = own(a.buffer, `binary ${op} input a`).dtype;
  const db = own(b.buffer, `binary ${op} input b`).dtype;
  if (da !== db) throw new Error(`wasm backend: binary ${op} needs equal dtypes, got ${da} and ${db}`);
  const want = COMPARISONS.has(op) ? 'int32' : da;
  if (out.dtype !== want)
    throw new Error(`wasm backend: binary ${op} on ${da} writes ${want}, output is ${out.dtype}`);
  runStrided(rt, `bin_${op}_${sfx(da)}`, [a, b], out, shape);
}

/** `out = cond != 0 ? a : b`. */
export function where(
  rt: Runtime,
  cond: StridedView,
  a: StridedView,
  b: StridedView,
  outB: BackendBuffer,
  shape: readonly number[],
): void {
  const out = own(outB, 'where output');
  if (own(cond.buffer, 'where condition').dtype !== 'int32')
    throw new Error('wasm backend: where condition must be int32');
  runStrided(rt, 'where32', [cond, a, b], out, shape);
}

const bits = new DataView(new ArrayBuffer(4));

/** Fills the whole buffer with `value` (converted to the buffer's dtype). */
export function fill(rt: Runtime, outB: BackendBuffer, value: number): void {
  const out = own(outB, 'fill output');
  if (out.dtype === 'float32') bits.setFloat32(0, value, true);
  else bits.setInt32(0, Number.isFinite(value) ? Math.trunc(value) : 0, true);
  rt.call('fill32', out.ptr, out.size, bits.getInt32(0, true));
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d] as number;
  }
  return s;
}

/**
 * A copy whose innermost read is strided but whose next dim is unit-stride (a transpose, as
 * `contiguous()` of `t()` or a permute): tiled, one [rows, cols] plane at a time. Returns false
 * for every other layout.
 */
function copyTransposed(
  rt: Runtime,
  x: StridedView,
  out: ReturnType<typeof own>,
  shape: readonly number[],
): boolean {
  const { dims, strides } = collapse(shape, [x.strides]);
  const st = strides[0] as number[];
  const k = dims.length;
  if (k < 2 || k > 3 || st[k - 1] === 1 || st[k - 2] !== 1) return false;
  const [R, C] = [dims[k - 2] as number, dims[k - 1] as number];
  if (R * C < 256) return false;
  const src = own(x.buffer, 'copy input').ptr + x.offset * 4;
  const planes = k === 3 ? (dims[0] as number) : 1;
  const planeStride = k === 3 ? (st[0] as number) : 0;
  for (let p = 0; p < planes; p++) {
    rt.call('copy2d_tiled', src + p * planeStride * 4, out.ptr + p * R * C * 4, R, C, 1, st[k - 1] as number);
  }
  return true;
}
