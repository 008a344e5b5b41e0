/** Matrix products: 1D, 2D and batched with broadcasting, with zero-copy transposed operands. */
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  formatShape,
  type Shape,
  sizeOf,
} from '../shape.js';
import { Tensor } from '../tensor.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { sumToShape } from './reduce.js';
import { contiguousCopy, expand, squeeze, transpose, unsqueeze } from './views.js';

interface Operand {
  tensor: Tensor;
  trans: boolean;
  batchStride: number;
  temporary: boolean;
}

/**
 * Describes `x` (shape `[...batch, r, c]`) to the kernel without copying when its last two
 * dims are row-major or transposed row-major and its batch dims step uniformly (or broadcast).
 */
function operand(x: Tensor, batchShape: Shape): Operand {
  const r = x.shape[x.rank - 2];
  const c = x.shape[x.rank - 1];
  const sr = x.strides[x.rank - 2];
  const sc = x.strides[x.rank - 1];
  const plain = (sc === 1 || c === 1) && (sr === c || r === 1);
  const trans = !plain && (sr === 1 || r === 1) && (sc === r || c === 1);
  const batch = sizeOf(batchShape);
  let batchStride = 0;
  let uniform = true;
  if (batch > 1) {
    const bStrides = broadcastStrides(x.shape.slice(0, -2), x.strides.slice(0, -2), batchShape);
    const expected = contiguousStrides(batchShape);
    const zero = bStrides.every((s, i) => s === 0 || batchShape[i] === 1);
    const step = r * c;
    const dense = bStrides.every((s, i) => batchShape[i] === 1 || s === expected[i] * step);
    uniform = zero || dense;
    batchStride = zero ? 0 : step;
  }
  if ((plain || trans) && uniform && x.offset === 0)
    return { tensor: x, trans, batchStride, temporary: false };
  const full = expand(x, [...batchShape, r, c]);
  const copy = contiguousCopy(full);
  if (full !== x) full.dispose();
  return { tensor: copy, trans: false, batchStride: batch > 1 ? r * c : 0, temporary: true };
}

function matmulNd(a: Tensor, b: Tensor): Tensor {
  const backend = sameBackend('matmul', a, b);
  const m = a.shape[a.rank - 2];
  const k = a.shape[a.rank - 1];
  const n = b.shape[b.rank - 1];
  if (b.shape[b.rank - 2] !== k) {
    throw new Error(
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${m}x${k} and ${b.shape[b.rank - 2]}x${n})`,
    );
  }
  // two matrices (the common case) have no batch dims to broadcast
  const batchShape =
    a.rank === 2 && b.rank === 2 ? [] : broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const out = Tensor.empty([...batchShape, m, n], 'float32', backend);
  if (out.size > 0) {
    if (k === 0) backend.kernels.fill({ out: out.storageFor('matmul').buffer, value: 0 });
    else {
      const oa = operand(a, batchShape);
      const ob = operand(b, batchShape);
      backend.kernels.matmul({
        a: oa.tensor.storageFor('matmul').buffer,
        b: ob.tensor.storageFor('matmul').buffer,
        out: out.storageFor('matmul').buffer,
        batch: sizeOf(batchShape),
        m,
        n,
        k,
        transA: oa.trans,
        transB: ob.trans,
        strideA: oa.batchStride,
        strideB: ob.batchStride,
      });
      if (oa.temporary) oa.tensor.dispose();
      if (ob.temporary) ob.tensor.dispose();
    }
  }
  const shapeA = a.shape;
  const shapeB = b.shape;
  return record(out, 'matmul', [a, b], [a, b], (g, [sa, sb], needs) => [
    needs[0] ? sumToShape(matmulNd(g, transpose(sb, -1, -2)), shapeA) : null,
    needs[1] ? sumToShape(matmulNd(transpose(sa, -1, -2), g), shapeB) : null,
  ]);
}

/**
 * Matrix product with PyTorch's rules: 1D·1D is a dot product, a 1D operand gains (and
 * then loses) a unit dimension, and leading batch dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a);
  requireFloat('matmul', b);
  if (a.rank === 0 || b.rank === 0) {
    throw new Error(
      `matmul: both arguments need at least 1 dimension, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  if (a.rank >= 2 && b.rank >= 2) return matmulNd(a, b);
  // Checked here, with the user's shapes, before any unit dimension is added (nothing to free on error).
  const k = a.shape[a.rank - 1];
  const kb = b.shape[b.rank === 1 ? 0 : b.rank - 2];
  if (k !== kb) {
    throw new Error(
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (inner dimensions ${k} and ${kb} differ)`,
    );
  }
  sameBackend('matmul', a, b);
  const a2 = a.rank === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.rank === 1 ? unsqueeze(b, -1) : b;
  let prod: Tensor;
  try {
    prod = matmulNd(a2, b2);
  } catch (err) {
    for (const t of [a2, b2]) if (t !== a && t !== b) t.dispose();
    throw err;
  }
  let out = prod;
  if (b.rank === 1) out = squeeze(out, -1);
  if (a.rank === 1) {
    const o = squeeze(out, a.rank === 1 && b.rank === 1 ? 0 : -2);
    if (out !== prod) out.dispose();
    out = o;
  }
  for (const t of [a2, b2, prod]) if (t !== a && t !== b && t !== out) t.dispose();
  return out;
}
