/** `toString()` of a tensor: PyTorch-like, abbreviated for large tensors. */
import type { Tensor } from './tensor.js';

const EDGE = 3;

/** @internal */
export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return `Tensor(disposed, shape=[${t.shape.join(', ')}], dtype=${t.dtype})`;
  const meta = `shape=[${t.shape.join(', ')}], dtype=${t.dtype}, backend=${t.backend}${t.requiresGrad ? ', requiresGrad=true' : ''}`;
  let values: ArrayLike<number>;
  try {
    values = t.dataSync();
  } catch {
    return `Tensor(<values on ${t.backend}: await t.data()>, ${meta})`;
  }
  const fmt = (v: number) => (t.dtype === 'int32' ? String(v) : formatFloat(v));
  const render = (dim: number, offset: number): string => {
    if (t.shape.length === 0) return fmt(values[0]);
    const n = t.shape[dim];
    let step = 1;
    for (let d = dim + 1; d < t.shape.length; d++) step *= t.shape[d];
    const idx = n > 2 * EDGE ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
    const parts = idx.map((i) =>
      i < 0
        ? '...'
        : dim === t.shape.length - 1
          ? fmt(values[offset + i])
          : render(dim + 1, offset + i * step),
    );
    const sep = dim === t.shape.length - 1 ? ', ' : `,\n${' '.repeat(8 + dim)}`;
    return `[${parts.join(sep)}]`;
  };
  return `Tensor(${render(0, 0)}, ${meta})`;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function formatFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return `${v}.`;
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(5)));
}
