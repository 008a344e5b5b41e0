export { applyBinary, applyCast, applyUnary, erf64, evaluateAt } from './evaluate.js';
export {
  BINARY_FNS,
  type BinaryFn,
  COMPARISON_FNS,
  E,
  type Expr,
  type ExprLike,
  exprKey,
  FLOAT_ONLY_FNS,
  UNARY_FNS,
  type UnaryFn,
  walkExpr,
} from './expr.js';
export { type Instr, instrOperands, type PointwiseProgram, pointwiseProgram } from './program.js';
export { replicateProgram } from './rebuild.js';
