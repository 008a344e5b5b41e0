/**
 * Programs rebuilt from programs: a program's outputs as expression trees again (to splice
 * one program into another, as compile's fusion does), and a program repeated side by side
 * (one kernel for several independent calls of it over the same shape).
 */
import { E, type Expr } from './expr.js';
import { type Instr, type PointwiseProgram, pointwiseProgram } from './program.js';

/** The output expressions of a program, rebuilt as trees over inputs and scalars offset by the given amounts. */
export function programExprs(
  program: PointwiseProgram,
  inputBase = 0,
  scalarBase = 0,
  inputs?: (k: number) => Expr,
): Expr[] {
  const built: Expr[] = [];
  const node = (ins: Instr): Expr => {
    switch (ins.op) {
      case 'input':
        return inputs ? inputs(ins.index) : E.input(inputBase + ins.index, ins.dtype);
      case 'scalar':
        return E.scalar(scalarBase + ins.index, ins.dtype);
      case 'const':
        return E.const(ins.value, ins.dtype);
      case 'index':
        return E.index(ins.axis); // the same iteration shape: fusion and replication keep it
      case 'unary':
        return { kind: 'unary', fn: ins.fn, x: built[ins.x], dtype: ins.dtype };
      case 'binary':
        return { kind: 'binary', fn: ins.fn, a: built[ins.a], b: built[ins.b], dtype: ins.dtype };
      case 'select':
        return { kind: 'select', cond: built[ins.cond], a: built[ins.a], b: built[ins.b], dtype: ins.dtype };
      case 'cast':
        return { kind: 'cast', x: built[ins.x], dtype: ins.dtype };
    }
  };
  for (const ins of program.instructions) built.push(node(ins));
  return program.outputs.map((i) => built[i]);
}

const replicas = new WeakMap<PointwiseProgram, Map<number, PointwiseProgram>>();

/**
 * `program` `copies` times side by side, as one program: copy c reads inputs
 * `[c·n, (c+1)·n)` and scalars `[c·s, (c+1)·s)` and writes outputs `[c·o, (c+1)·o)` (n, s, o:
 * the program's counts). Cached per program and count.
 */
export function replicateProgram(program: PointwiseProgram, copies: number): PointwiseProgram {
  if (!Number.isInteger(copies) || copies < 1)
    throw new Error(`replicateProgram: copies must be a positive integer, got ${copies}`);
  if (copies === 1) return program;
  let byCount = replicas.get(program);
  if (!byCount) {
    byCount = new Map();
    replicas.set(program, byCount);
  }
  const known = byCount.get(copies);
  if (known) return known;
  const [inputs, scalars] = [program.inputs.length, program.scalars.length];
  const copy = Array.from({ length: copies }, (_, c) => c);
  const made = pointwiseProgram(`${program.name}×${copies}`, {
    inputs: copy.flatMap(() => program.inputs),
    scalars: copy.flatMap(() => program.scalars),
    outputs: copy.flatMap((c) => programExprs(program, c * inputs, c * scalars)),
  });
  byCount.set(copies, made);
  return made;
}
