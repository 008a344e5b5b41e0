/**
 * Fusion of recorded pointwise kernels: a kernel whose single output is a temporary read by
 * exactly one later pointwise kernel, over the same shape and in order, is folded into that
 * kernel (its expression replaces the input it fed). The temporary disappears with it: one
 * kernel, one pass over memory, one buffer less. Chains fold step by step (bias add,
 * activation, masks, scaling, a loss's elementwise tail).
 */
import type { BackendBuffer, PointwiseArgs, StridedView } from '../backend.js';
import { E } from '../expr/expr.js';
import { pointwiseProgram } from '../expr/program.js';
import { programExprs } from '../expr/rebuild.js';
import { sameShape } from '../shape.js';
import { touches } from './buffers.js';
import type { RecordedCall, RecordedStep } from './capture.js';

/** True when the view reads its buffer whole and in order over `shape`. */
function isIdentity(view: StridedView, shape: readonly number[]): boolean {
  if (view.offset !== 0) return false;
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && view.strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** The arguments of a recorded pointwise call; null for any other step. */
export function pointwiseArgs(step: RecordedStep | null): PointwiseArgs | null {
  return step?.kind === 'call' && step.kernel === 'pointwise' ? (step.args as PointwiseArgs) : null;
}

/**
 * Folds producer kernels into their single consumer where that is safe; returns the new step
 * list (the input list is not modified). `isTemporary` says which buffers no one outside the
 * recording sees; `maxBuffers` caps the distinct buffers a fused kernel binds (the device's
 * limit, see `BackendCapabilities.maxPointwiseBuffers`).
 */
export function fusePointwise(
  steps: readonly RecordedStep[],
  isTemporary: (b: BackendBuffer) => boolean,
  maxBuffers = Number.POSITIVE_INFINITY,
): RecordedStep[] {
  const out = [...steps] as (RecordedStep | null)[];
  // Readers of each buffer, by step index.
  const readers = new Map<BackendBuffer, number[]>();
  const note = (b: BackendBuffer, i: number) => {
    const list = readers.get(b) ?? [];
    if (list[list.length - 1] !== i) list.push(i);
    readers.set(b, list);
  };
  steps.forEach((step, i) => {
    const collect = (v: unknown): void => {
      if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return;
      if (Array.isArray(v)) v.forEach(collect);
      else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach(collect);
      else note(v as BackendBuffer, i);
    };
    if (step.kind === 'call') collect(step.args);
    else if (step.kind === 'write' || step.kind === 'check') note(step.buffer, i); // a check reads it
  });

  for (let p = 0; p < out.length; p++) {
    const producer = out[p];
    const pa = producer && pointwiseArgs(producer);
    if (!pa || pa.outputs.length !== 1) continue;
    const temp = pa.outputs[0];
    if (!isTemporary(temp)) continue;
    const users = (readers.get(temp) ?? []).filter((i) => i !== p);
    if (users.length !== 1) continue;
    const c = users[0];
    const consumer = out[c];
    const ca = consumer && pointwiseArgs(consumer);
    if (!ca || !sameShape(ca.shape, pa.shape) || ca.outputs.includes(temp)) continue;
    const fed = ca.inputs.map((v, k) => (v.buffer === temp ? k : -1)).filter((k) => k >= 0);
    if (fed.length === 0 || fed.some((k) => !isIdentity(ca.inputs[k], ca.shape))) continue;
    // Nothing between producer and consumer may touch what the producer reads.
    const producerInputs = new Set(pa.inputs.map((v) => v.buffer));
    let blocked = false;
    for (let i = p + 1; i < c && !blocked; i++) {
      const s = out[i];
      if (s && touches(s, producerInputs)) blocked = true;
    }
    // A consumer output written in place may only be read in order by the producer.
    for (const o of ca.outputs) {
      for (const v of pa.inputs) if (v.buffer === o && !isIdentity(v, pa.shape)) blocked = true;
    }
    if (blocked) continue;

    const kept = ca.inputs.map((_, k) => k).filter((k) => !fed.includes(k));
    // The fused kernel binds the consumer's other inputs, the producer's inputs and the outputs.
    const bound = new Set([
      ...kept.map((k) => ca.inputs[k].buffer),
      ...pa.inputs.map((v) => v.buffer),
      ...ca.outputs,
    ]);
    if (bound.size > maxBuffers) continue;
    const index = new Map(kept.map((k, n) => [k, n]));
    const base = kept.length;
    const [producerExpr] = programExprs(pa.program, base, ca.scalars.length);
    const exprs = programExprs(ca.program, 0, 0, (k) =>
      fed.includes(k) ? producerExpr : E.input(index.get(k)!, ca.program.inputs[k]),
    );
    const program = pointwiseProgram(`${ca.program.name}+${pa.program.name}`, {
      inputs: [...kept.map((k) => ca.program.inputs[k]), ...pa.program.inputs],
      scalars: [...ca.program.scalars, ...pa.program.scalars],
      outputs: exprs,
    });
    const args: PointwiseArgs = {
      program,
      inputs: [...kept.map((k) => ca.inputs[k]), ...pa.inputs],
      scalars: [...ca.scalars, ...pa.scalars],
      outputs: ca.outputs,
      shape: ca.shape,
    };
    const thunksOf = (s: RecordedCall, n: number) => s.scalarThunks ?? new Array(n).fill(null);
    const cs = consumer as RecordedCall;
    const ps = producer as RecordedCall;
    const scalarThunks =
      cs.scalarThunks || ps.scalarThunks
        ? [...thunksOf(cs, ca.scalars.length), ...thunksOf(ps, pa.scalars.length)]
        : null;
    out[c] = { kind: 'call', kernel: 'pointwise', args, scalarThunks };
    out[p] = null;
    // The fused kernel now reads the producer's inputs at step c.
    for (const v of pa.inputs) note(v.buffer, c);
  }
  return out.filter((s): s is RecordedStep => s !== null);
}
