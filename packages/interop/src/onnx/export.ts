/**
 * `exportOnnx`: writes a Sequential of Linear, ReLU, BatchNorm1d, Dropout and Flatten as an
 * ONNX model with inference semantics (BatchNorm uses the running statistics, Dropout is
 * the identity), whatever the module's train/eval mode. Weights keep PyTorch's names.
 */
import { BatchNorm1d, Dropout, Flatten, Linear, type Module, ReLU, Sequential } from '@nabla/nn';
import { addMoreLayer, type LayerGraph, MORE_LAYER_NAMES, MORE_LAYERS } from './more-layers.js';
import type { ProtoWriter } from './protobuf.js';
import {
  type Attribute,
  type Dim,
  floatValueInfo,
  graphProto,
  modelProto,
  nodeProto,
  tensorProto,
} from './schema.js';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /**
   * The input's shape. A string is a symbolic (dynamic) dimension, e.g.
   * `['batch', 784]` accepts any batch size.
   */
  inputShape: readonly Dim[];
  /** ONNX opset of the default domain, 11 to 21 (default 13). */
  opset?: number;
  /** Graph input name (default `'input'`). */
  inputName?: string;
  /** Graph output name (default `'output'`). */
  outputName?: string;
}

const SUPPORTED = `Linear, ReLU, BatchNorm1d, Dropout, Flatten, ${MORE_LAYER_NAMES} and nested Sequential`;
const PRODUCER_VERSION = '0.1.0';

/** Leaves of nested Sequentials, with their dotted state-dict paths. */
function leaves(model: Module, prefix: string): [string, Module][] {
  if (!(model instanceof Sequential)) return [[prefix, model]];
  return [...model.namedChildren()].flatMap(([name, child]) =>
    leaves(child, prefix ? `${prefix}.${name}` : name),
  );
}

/** A state-dict style name: `'0.weight'`, or `'weight'` for a bare root layer. */
function key(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function shapeText(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

function productOrNull(dims: readonly Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

/** Collects nodes and initializers as layers are visited; tracks the running shape. */
class GraphBuilder {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  /** Deferred reads: nothing is read back until every layer has been checked. */
  readonly weights: (() => Promise<void>)[] = [];

  constructor(
    public current: string,
    public shape: Dim[],
  ) {}

  node(op: string, inputs: string[], output: string, name: string, attrs?: Record<string, Attribute>): void {
    this.nodes.push(nodeProto(op, inputs, [output], name, attrs));
    this.current = output;
  }

  /** Adds a float initializer whose values `values()` gives later (after all checks). */
  floatInit(name: string, dims: number[], values: () => Promise<Float32Array> | Float32Array): string {
    const slot = this.initializers.length;
    this.initializers.push(null as unknown as ProtoWriter);
    this.weights.push(async () => {
      this.initializers[slot] = tensorProto(name, dims, await values());
    });
    return name;
  }
}

async function read(t: { data(): Promise<unknown> }): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/** Weight [out, in] transposed to [in, out], for MatMul on inputs of rank > 2. */
async function transposed(t: Linear['weight']): Promise<Float32Array> {
  const [rows, cols] = t.shape;
  const w = await read(t);
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

function addLinear(g: GraphBuilder, path: string, m: Linear, out: string): void {
  const rank = g.shape.length;
  const last = g.shape[rank - 1];
  if (rank < 2 || (typeof last === 'number' && last !== m.inFeatures)) {
    throw new Error(
      `exportOnnx: layer '${path}' (Linear, in_features=${m.inFeatures}) gets input shape ${shapeText(g.shape)}`,
    );
  }
  const bias = m.bias;
  if (rank === 2) {
    // Gemm computes x · Wᵀ + b directly from PyTorch's [out, in] weight with transB=1.
    const inputs = [
      g.current,
      g.floatInit(key(path, 'weight'), [m.outFeatures, m.inFeatures], () => read(m.weight)),
    ];
    if (bias) inputs.push(g.floatInit(key(path, 'bias'), [m.outFeatures], () => read(bias)));
    g.node('Gemm', inputs, out, `${path}/Gemm`, { transB: { int: 1 } });
  } else {
    // Gemm is 2-D only; MatMul broadcasts over leading dims.
    const w = g.floatInit(key(path, 'weight_t'), [m.inFeatures, m.outFeatures], () => transposed(m.weight));
    const mm = bias ? `${path}/MatMul_out` : out;
    g.node('MatMul', [g.current, w], mm, `${path}/MatMul`);
    if (bias)
      g.node(
        'Add',
        [mm, g.floatInit(key(path, 'bias'), [m.outFeatures], () => read(bias))],
        out,
        `${path}/Add`,
      );
  }
  g.shape = [...g.shape.slice(0, -1), m.outFeatures];
}

function addBatchNorm(g: GraphBuilder, path: string, m: BatchNorm1d, out: string): void {
  const c = g.shape[1];
  if ((g.shape.length !== 2 && g.shape.length !== 3) || (typeof c === 'number' && c !== m.numFeatures)) {
    throw new Error(
      `exportOnnx: layer '${path}' (BatchNorm1d(${m.numFeatures})) gets input shape ${shapeText(g.shape)}; it needs (N, ${m.numFeatures}) or (N, ${m.numFeatures}, L)`,
    );
  }
  const C = m.numFeatures;
  const param = (t: Linear['bias'], name: string, fill: number) =>
    g.floatInit(key(path, name), [C], () => (t ? read(t) : new Float32Array(C).fill(fill)));
  const inputs = [
    g.current,
    param(m.weight, 'weight', 1),
    param(m.bias, 'bias', 0),
    param(m.runningMean, 'running_mean', 0),
    param(m.runningVar, 'running_var', 1),
  ];
  g.node('BatchNormalization', inputs, out, `${path}/BatchNormalization`, { epsilon: { float: m.eps } });
}

function addFlatten(g: GraphBuilder, path: string, m: Flatten, out: string): void {
  const rank = g.shape.length;
  const norm = (d: number) => (d < 0 ? d + rank : d);
  const start = norm(m.startDim);
  const end = norm(m.endDim);
  if (rank === 0 || start < 0 || end >= rank || start > end) {
    throw new Error(
      `exportOnnx: layer '${path}' (Flatten(${m.startDim}, ${m.endDim})) does not fit input shape ${shapeText(g.shape)}`,
    );
  }
  const before = g.shape.slice(0, start);
  const merged = g.shape.slice(start, end + 1);
  const after = g.shape.slice(end + 1);
  if (after.some((d) => typeof d !== 'number')) {
    throw new Error(
      `exportOnnx: layer '${path}' (Flatten): dimensions after end_dim must be fixed, got ${shapeText(g.shape)}`,
    );
  }
  // Reshape target: 0 copies a leading dim (symbolic ones too), -1 takes the merged size.
  const target = [...before.map(() => 0), -1, ...(after as number[])];
  g.initializers.push(tensorProto(key(path, 'shape'), [target.length], { int64: target }));
  g.node('Reshape', [g.current, key(path, 'shape')], out, `${path}/Reshape`);
  g.shape = [...before, productOrNull(merged) ?? `${path}_flat`, ...after];
}

/**
 * Exports `model` as ONNX (a ModelProto's bytes) for ONNX Runtime and other runtimes.
 * Linear becomes Gemm (transB=1) on 2-D inputs, MatMul + Add otherwise; BatchNorm1d becomes
 * BatchNormalization with its running statistics; ReLU → Relu; Dropout → Identity;
 * Flatten → Reshape. Any other layer is an error naming every unsupported one.
 *
 * @example
 * const bytes = await exportOnnx(model, { inputShape: ['batch', 784] });
 * await writeFile('model.onnx', bytes);
 */
export async function exportOnnx(model: Module, options: OnnxExportOptions): Promise<Uint8Array> {
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 11 || opset > 21) {
    throw new Error(`exportOnnx: opset must be an integer from 11 to 21, got ${opset}`);
  }
  const inputShape = [...options.inputShape];
  if (
    inputShape.some((d) =>
      typeof d === 'number' ? !Number.isInteger(d) || d < 0 : typeof d !== 'string' || d === '',
    )
  ) {
    throw new Error(
      `exportOnnx: inputShape must hold non-negative integers or dimension names, got ${JSON.stringify(options.inputShape)}`,
    );
  }
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const layers = leaves(model, '');
  const unsupported = layers.filter(
    ([, m]) => ![Linear, ReLU, BatchNorm1d, Dropout, Flatten, ...MORE_LAYERS].some((k) => m instanceof k),
  );
  if (unsupported.length) {
    const list = unsupported.map(([p, m]) => `'${p || '(root)'}' (${m.constructor.name})`).join(', ');
    throw new Error(
      `exportOnnx: unsupported layer${unsupported.length > 1 ? 's' : ''} ${list}; supported: ${SUPPORTED}`,
    );
  }
  for (const [p, m] of layers) {
    if (m instanceof BatchNorm1d && !m.trackRunningStats) {
      throw new Error(
        `exportOnnx: layer '${p}' (BatchNorm1d) has no running statistics (trackRunningStats: false), so inference depends on the batch; ONNX BatchNormalization needs them`,
      );
    }
  }
  const g = new GraphBuilder(inputName, inputShape);
  layers.forEach(([path, m], i) => {
    const out = i === layers.length - 1 ? outputName : `${path}_out`;
    if (m instanceof Linear) addLinear(g, path, m, out);
    else if (m instanceof BatchNorm1d) addBatchNorm(g, path, m, out);
    else if (m instanceof Flatten) addFlatten(g, path, m, out);
    else if (m instanceof ReLU) g.node('Relu', [g.current], out, `${path}/Relu`);
    else if (addMoreLayer(g as unknown as LayerGraph, path, m, out, opset)) return;
    else g.node('Identity', [g.current], out, `${path}/Identity`); // Dropout at inference
  });
  if (layers.length === 0) g.node('Identity', [inputName], outputName, 'Identity');
  await Promise.all(g.weights.map((readBack) => readBack()));
  const graph = graphProto(
    'nabla',
    g.nodes,
    g.initializers,
    [floatValueInfo(inputName, inputShape)],
    [floatValueInfo(outputName, g.shape)],
  );
  return modelProto(graph, opset, PRODUCER_VERSION);
}
