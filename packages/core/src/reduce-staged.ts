/**
 * A reduction of programs run as three kernels over backend-private scratch: the fallback a
 * backend takes when it cannot render the programs into its reduction (no run-time code on
 * wasm, a binding limit on WebGPU). One definition, so the staged path means the same on both.
 */
import type { BackendBuffer, DType, Kernels, ReduceArgs, ReduceExpression, StridedView } from './backend.js';

/**
 * Runs `args` (a reduction whose input is a program) as the input program into `[outer, size,
 * inner]` scratch values, the plain reduction of `kernels`, then the epilogue: in place on
 * `out` when it keeps the reduced dtype, else from a second scratch. `scratch(elements, dtype)`
 * hands out backend-private memory (not a tensor); the caller frees it after the call.
 */
export function reduceStaged(
  kernels: Pick<Kernels, 'pointwise' | 'reduce'>,
  args: ReduceArgs & { readonly input: ReduceExpression },
  scratch: (elements: number, dtype: DType) => BackendBuffer,
): void {
  const { op, input, epilogue, out, outer, size, inner } = args;
  const reduced = input.program.outputDtypes[0];
  const want = epilogue?.program.outputDtypes[0] ?? reduced;
  const values = scratch(outer * size * inner, reduced);
  kernels.pointwise({ ...input, outputs: [values], shape: [outer, size, inner] });
  // an epilogue of the reduced dtype reads `out` through the identity view: in place is allowed
  const target = epilogue === undefined || want === reduced ? out : scratch(outer * inner, reduced);
  kernels.reduce({ op, x: values, out: target, outer, size, inner });
  if (epilogue !== undefined) {
    const acc: StridedView = { buffer: target, offset: 0, strides: [inner, 1] };
    kernels.pointwise({
      ...epilogue,
      inputs: [acc, ...epilogue.inputs],
      outputs: [out],
      shape: [outer, inner],
    });
  }
}
