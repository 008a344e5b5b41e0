/**
 * The pointwise kernel: evaluates a program (core's kernels-as-data format) at every element.
 * This first version interprets the instruction list with core's reference semantics; the
 * code generator replaces the interpreter where `new Function` is allowed.
 */
import { evaluateAt, type PointwiseProgram, type TypedArray } from '@nabla/core';
import type { ArrayView } from './elementwise.js';

export function pointwise(
  program: PointwiseProgram,
  inputs: readonly ArrayView[],
  scalars: readonly number[],
  outputs: readonly TypedArray[],
  shape: readonly number[],
): void {
  const rank = shape.length;
  let total = 1;
  for (let d = 0; d < rank; d++) total *= shape[d];
  const at = inputs.map((v) => v.offset);
  const counter = new Array<number>(rank).fill(0);
  const values: number[] = [];
  const results: number[] = [];
  const read = (k: number) => inputs[k].data[at[k]];
  for (let q = 0; q < total; q++) {
    evaluateAt(program, read, scalars, values, results);
    for (let o = 0; o < outputs.length; o++) outputs[o][q] = results[o];
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d] < shape[d]) {
        for (let k = 0; k < inputs.length; k++) at[k] += inputs[k].strides[d];
        break;
      }
      counter[d] = 0;
      for (let k = 0; k < inputs.length; k++) at[k] -= inputs[k].strides[d] * (shape[d] - 1);
    }
  }
}
