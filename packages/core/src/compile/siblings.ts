/**
 * Horizontal fusion of recorded pointwise kernels: calls of one program over one shape that do
 * not depend on each other (an optimizer's update of each parameter of a shape, the running
 * statistics of each batch-norm layer) become one kernel that runs the program once per call,
 * side by side: one launch where there were several. A call moves down to the later call it
 * joins, so everything it reads is ready there; nothing in between may touch its buffers. Its
 * per-call scalars are still read where it was (host effects in between, such as an optimizer
 * counting the next parameter's step, may change what later scalars read).
 */
import type { BackendBuffer, PointwiseArgs } from '../backend.js';
import type { PointwiseProgram } from '../expr/program.js';
import { replicateProgram } from '../expr/rebuild.js';
import { sameShape } from '../shape.js';
import { eachBuffer, touches } from './buffers.js';
import type { RecordedCall, RecordedStep } from './capture.js';
import { pointwiseArgs } from './fuse.js';

/** Neither call writes what the other reads or writes. */
function independent(a: PointwiseArgs, b: PointwiseArgs): boolean {
  const inputsOf = (p: PointwiseArgs) => new Set(p.inputs.map((v) => v.buffer));
  const [aIn, bIn] = [inputsOf(a), inputsOf(b)];
  if (a.outputs.some((o) => bIn.has(o) || b.outputs.includes(o))) return false;
  return !b.outputs.some((o) => aIn.has(o));
}

/**
 * What stays where a merged call was: nothing, or (when it re-reads scalars on every replay) an
 * effect that reads them there into a cache, with the thunks the merged call reads it through.
 */
function readScalarsHere(call: RecordedCall): {
  step: RecordedStep | null;
  thunks: ((() => number) | null)[] | null;
} {
  const read = call.scalarThunks;
  if (!read) return { step: null, thunks: null };
  const cache = new Array<number>(read.length).fill(0);
  const run = () => {
    for (let k = 0; k < read.length; k++) {
      const thunk = read[k];
      if (thunk) cache[k] = thunk();
    }
  };
  return { step: { kind: 'effect', run }, thunks: read.map((t, k) => (t ? () => cache[k] : null)) };
}

/**
 * Merges each pointwise call into the next call of the same program over the same shape when
 * the two are independent, the earlier one can move down to the later (no step in between
 * touches its buffers) and the merged kernel binds at most `maxBuffers` buffers. Returns the
 * new step list; the input list is not modified.
 */
export function mergeSiblings(
  steps: readonly RecordedStep[],
  maxBuffers = Number.POSITIVE_INFINITY,
): RecordedStep[] {
  const out = [...steps] as (RecordedStep | null)[];
  // the single-call program a merged call repeats, and how many calls it holds
  const group = new Map<number, { base: PointwiseProgram; copies: number }>();
  const groupOf = (i: number, args: PointwiseArgs) => group.get(i) ?? { base: args.program, copies: 1 };
  for (let i = 0; i < out.length; i++) {
    const a = pointwiseArgs(out[i]);
    if (!a) continue;
    const ga = groupOf(i, a);
    const mine = new Set<BackendBuffer>();
    eachBuffer(a, (x) => mine.add(x));
    for (let j = i + 1; j < out.length; j++) {
      const step = out[j];
      if (!step) continue;
      const b = pointwiseArgs(step);
      if (b && groupOf(j, b).base === ga.base && sameShape(a.shape, b.shape)) {
        const bound = new Set(mine);
        eachBuffer(b, (x) => bound.add(x));
        if (independent(a, b) && bound.size <= maxBuffers) {
          const gb = groupOf(j, b);
          const thunksOf = (s: RecordedCall, n: number) => s.scalarThunks ?? new Array(n).fill(null);
          const [sa, sb] = [out[i] as RecordedCall, step as RecordedCall];
          const { step: readHere, thunks: aThunks } = readScalarsHere(sa);
          out[i] = readHere;
          out[j] = {
            kind: 'call',
            kernel: 'pointwise',
            args: {
              program: replicateProgram(ga.base, ga.copies + gb.copies),
              inputs: [...a.inputs, ...b.inputs],
              scalars: [...a.scalars, ...b.scalars],
              outputs: [...a.outputs, ...b.outputs],
              shape: b.shape,
            },
            scalarThunks:
              aThunks || sb.scalarThunks
                ? [...(aThunks ?? new Array(a.scalars.length).fill(null)), ...thunksOf(sb, b.scalars.length)]
                : null,
          };
          group.set(j, { base: ga.base, copies: ga.copies + gb.copies });
        }
        break;
      }
      if (touches(step, mine)) break;
    }
  }
  return out.filter((s): s is RecordedStep => s !== null);
}
