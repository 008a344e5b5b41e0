/**
 * ONNX nodes for the activations and LayerNorm (issue 17): Sigmoid, Tanh, LeakyRelu,
 * Softmax and LogSoftmax map to one ONNX op each; SiLU is Sigmoid + Mul; GELU is the `Gelu`
 * op from opset 20 (exact form) and its Erf/Tanh decomposition below; LayerNorm is
 * `LayerNormalization` (opset 17 and later).
 */
import { GELU, LayerNorm, LeakyReLU, LogSoftmax, type Module, Sigmoid, SiLU, Softmax, Tanh } from '@nabla/nn';
import type { Dim } from './schema.js';
import { tensorProto } from './schema.js';

/** The part of the export's graph builder these layers use. */
export interface LayerGraph {
  current: string;
  shape: Dim[];
  readonly initializers: ReturnType<typeof tensorProto>[];
  node(op: string, inputs: string[], output: string, name: string, attrs?: Record<string, unknown>): void;
  floatInit(name: string, dims: number[], values: () => Promise<Float32Array> | Float32Array): string;
}

/** The layer classes handled here. */
export const MORE_LAYERS = [Sigmoid, Tanh, LeakyReLU, SiLU, GELU, Softmax, LogSoftmax, LayerNorm] as const;

/** Names for the error message listing what the exporter supports. */
export const MORE_LAYER_NAMES = 'Sigmoid, Tanh, LeakyReLU, SiLU, GELU, Softmax, LogSoftmax, LayerNorm';

const fmt = (shape: readonly Dim[]) => `[${shape.join(', ')}]`;

const scalarsByGraph = new WeakMap<LayerGraph, Set<string>>();

/** A float scalar initializer, added once per graph and shared by name. */
function scalar(g: LayerGraph, value: number): string {
  const name = `const_${String(value).replace(/[^0-9a-z]/gi, '_')}`;
  const known = scalarsByGraph.get(g) ?? new Set<string>();
  scalarsByGraph.set(g, known);
  if (!known.has(name)) {
    known.add(name);
    g.initializers.push(tensorProto(name, [], Float32Array.of(value)));
  }
  return name;
}

function axisOf(g: LayerGraph, path: string, type: string, dim: number, opset: number): number {
  const rank = g.shape.length;
  const axis = dim < 0 ? dim + rank : dim;
  if (axis < 0 || axis >= rank)
    throw new Error(
      `exportOnnx: layer '${path}' (${type}(dim=${dim})) does not fit input shape ${fmt(g.shape)}`,
    );
  if (opset < 13 && axis !== rank - 1)
    throw new Error(
      `exportOnnx: layer '${path}' (${type}) over a dim other than the last needs opset 13 or later (before 13, ONNX ${type} flattens the trailing dims)`,
    );
  return axis;
}

/** Adds `m`'s nodes, writing its result to `out`. Returns false when `m` is not one of {@link MORE_LAYERS}. */
export function addMoreLayer(g: LayerGraph, path: string, m: Module, out: string, opset: number): boolean {
  const x = g.current;
  const at = (op: string) => `${path}/${op}`;
  if (m instanceof Sigmoid) g.node('Sigmoid', [x], out, at('Sigmoid'));
  else if (m instanceof Tanh) g.node('Tanh', [x], out, at('Tanh'));
  else if (m instanceof LeakyReLU)
    g.node('LeakyRelu', [x], out, at('LeakyRelu'), { alpha: { float: m.negativeSlope } });
  else if (m instanceof SiLU) {
    g.node('Sigmoid', [x], `${path}_sigmoid`, at('Sigmoid'));
    g.node('Mul', [x, `${path}_sigmoid`], out, at('Mul'));
  } else if (m instanceof GELU) {
    if (m.approximate === 'none' && opset >= 20) g.node('Gelu', [x], out, at('Gelu'));
    else if (m.approximate === 'none') {
      // 0.5 · x · (1 + erf(x / √2))
      g.node('Div', [x, scalar(g, Math.SQRT2)], `${path}_scaled`, at('Div'));
      g.node('Erf', [`${path}_scaled`], `${path}_erf`, at('Erf'));
      g.node('Add', [`${path}_erf`, scalar(g, 1)], `${path}_cdf2`, at('Add'));
      g.node('Mul', [x, `${path}_cdf2`], `${path}_xcdf2`, at('Mul'));
      g.node('Mul', [`${path}_xcdf2`, scalar(g, 0.5)], out, at('Mul_half'));
    } else {
      // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
      g.node('Mul', [x, x], `${path}_x2`, at('Mul_x2'));
      g.node('Mul', [`${path}_x2`, x], `${path}_x3`, at('Mul_x3'));
      g.node('Mul', [`${path}_x3`, scalar(g, 0.044715)], `${path}_cubic`, at('Mul_cubic'));
      g.node('Add', [x, `${path}_cubic`], `${path}_poly`, at('Add_poly'));
      g.node('Mul', [`${path}_poly`, scalar(g, Math.sqrt(2 / Math.PI))], `${path}_inner`, at('Mul_inner'));
      g.node('Tanh', [`${path}_inner`], `${path}_tanh`, at('Tanh'));
      g.node('Add', [`${path}_tanh`, scalar(g, 1)], `${path}_one_plus`, at('Add'));
      g.node('Mul', [x, scalar(g, 0.5)], `${path}_half_x`, at('Mul_half'));
      g.node('Mul', [`${path}_half_x`, `${path}_one_plus`], out, at('Mul'));
    }
  } else if (m instanceof Softmax || m instanceof LogSoftmax) {
    const type = m instanceof Softmax ? 'Softmax' : 'LogSoftmax';
    const axis = axisOf(g, path, type, m.dim, opset);
    g.node(type, [x], out, at(type), { axis: { int: axis } });
  } else if (m instanceof LayerNorm) {
    if (opset < 17)
      throw new Error(`exportOnnx: layer '${path}' (LayerNorm) needs opset 17 or later (LayerNormalization)`);
    const k = m.normalizedShape.length;
    const tail = g.shape.slice(g.shape.length - k);
    if (g.shape.length < k || tail.some((d, i) => typeof d === 'number' && d !== m.normalizedShape[i]))
      throw new Error(
        `exportOnnx: layer '${path}' (LayerNorm(${fmt(m.normalizedShape)})) gets input shape ${fmt(g.shape)}`,
      );
    const dims = [...m.normalizedShape];
    const size = dims.reduce((a, b) => a * b, 1);
    const key = (name: string) => (path ? `${path}.${name}` : name);
    const weight = m.weight;
    const bias = m.bias;
    const scale = g.floatInit(key('weight'), dims, async () =>
      weight ? ((await weight.data()) as Float32Array) : new Float32Array(size).fill(1),
    );
    const shift = g.floatInit(key('bias'), dims, async () =>
      bias ? ((await bias.data()) as Float32Array) : new Float32Array(size),
    );
    g.node('LayerNormalization', [x, scale, shift], out, at('LayerNormalization'), {
      axis: { int: -k },
      epsilon: { float: m.eps },
    });
  } else return false;
  return true;
}
