/**
 * `linear`: PyTorch's Linear layer as one op (`x · weightᵀ + bias`, optionally followed by
 * ReLU), computed by the backend's fused kernel where it has one, else by `matmul`.
 */
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkVector, hasFused, withDenseBuffers } from './fused-kernels.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { reshape } from './views.js';

/**
 * The shape checks of a Linear layer, with PyTorch's words: `weight` is `[out, in]`, x is
 * `(*, in)`, bias is `[out]` or null. Returns `[out, in]`.
 */
export function checkLinearShapes(x: Tensor, weight: Tensor, bias: Tensor | null): [number, number] {
  const op = 'linear';
  if (weight.rank !== 2)
    throw new Error(`${op}: weight must be 2D [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.rank === 0 || x.shape[x.rank - 1] !== inF) {
    const cols = x.rank === 0 ? 1 : x.shape[x.rank - 1];
    const rows = x.rank === 0 ? 1 : sizeOf(x.shape.slice(0, -1));
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${rows}x${cols} and ${inF}x${outF})`);
  }
  checkVector(op, 'bias', bias, outF);
  return [outF, inF];
}

/**
 * `x · weightᵀ + bias` (PyTorch's Linear layout: weight is `[out, in]`), optionally followed
 * by ReLU in the same kernel. x is `(*, in)`.
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: { relu?: boolean } = {},
): Tensor {
  const op = 'linear';
  requireFloat(op, x);
  const [outF, inF] = checkLinearShapes(x, weight, bias);
  const backend = bias ? sameBackend(op, x, weight, bias) : sameBackend(op, x, weight);
  const relu = options.relu ?? false;
  const outShape = x.shape.slice(0, -1); // the leading dims, then outF (pushed below)
  const rows = sizeOf(outShape); // not x.size / inF, which is 0 when inF is 0
  outShape.push(outF);
  let out: Tensor;
  if (hasFused(backend, 'linear') && inF > 0) {
    const y = Tensor.empty(outShape, 'float32', backend);
    if (y.size > 0) {
      withDenseBuffers(op, [x, weight, bias, y], (xb, wb, bb, yb) =>
        backend.kernels.linear!({ x: xb!, w: wb!, bias: bb, out: yb!, m: rows, n: outF, k: inF, relu }),
      );
    }
    out = y;
  } else {
    out = noGrad(() =>
      tidy(() => {
        let y = matmul(reshape(x, [rows, inF]), weight.t());
        if (bias) y = y.add(bias);
        if (relu) y = y.relu();
        return reshape(y, outShape);
      }),
    );
  }
  return record(
    out,
    op,
    [x, weight, bias],
    relu ? [x, weight, out] : [x, weight],
    (g, [sx, sw, so], needs) => {
      // a 2-D input (the common case) needs no row views: each view is a tensor to make and free
      const flat = sx.rank === 2;
      let g2 = flat ? g : reshape(g, [rows, outF]);
      if (relu) g2 = g2.mul((flat ? so : reshape(so, [rows, outF])).gt(0).float());
      const x2 = flat ? sx : reshape(sx, [rows, inF]);
      const dx = needs[0] ? matmul(g2, sw) : null;
      return [
        dx && !flat ? reshape(dx, sx.shape) : dx,
        needs[1] ? matmul(g2.t(), x2) : null,
        needs[2] ? sum(g2, 0) : null,
      ];
    },
  );
}
