/**
 * The few ONNX messages the exporter writes, with their field numbers from onnx.proto
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** A node attribute: an int, a float (marked), or a list of ints. */
export type Attribute = { int: number } | { float: number } | { ints: number[] };

/** A dimension: a size, or a symbolic name such as `'batch'`. */
export type Dim = number | string;

/** TensorProto: dims (1), data_type (2), float_data (4), int64_data (7), name (8). */
export function tensorProto(
  name: string,
  dims: readonly number[],
  values: Float32Array | { int64: number[] },
): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, dims);
  if (values instanceof Float32Array) w.int(2, DataType.FLOAT).packedFloats(4, values);
  else w.int(2, DataType.INT64).packedInts(7, values.int64);
  return w.string(8, name);
}

/** AttributeProto: name (1), f (2), i (3), ints (8), type (20). */
function attributeProto(name: string, a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('float' in a) w.float(2, a.float).int(20, AttributeType.FLOAT);
  else if ('int' in a) w.int(3, a.int).int(20, AttributeType.INT);
  else w.packedInts(8, a.ints).int(20, AttributeType.INTS);
  return w;
}

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
export function nodeProto(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: Record<string, Attribute> = {},
): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, opType);
  for (const [k, a] of Object.entries(attributes)) w.message(5, attributeProto(k, a));
  return w;
}

/**
 * ValueInfoProto (name 1, type 2) of a float tensor: TypeProto.tensor_type (1) holds
 * elem_type (1) and shape (2); each TensorShapeProto.dim (1) has dim_value (1) or dim_param (2).
 */
export function floatValueInfo(name: string, shape: readonly Dim[]): ProtoWriter {
  const shapeW = new ProtoWriter();
  for (const d of shape) {
    shapeW.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().int(1, DataType.FLOAT).message(2, shapeW);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** GraphProto: node (1), name (2), initializer (5), input (11), output (12). */
export function graphProto(
  name: string,
  nodes: ProtoWriter[],
  initializers: ProtoWriter[],
  inputs: ProtoWriter[],
  outputs: ProtoWriter[],
): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of nodes) w.message(1, n);
  w.string(2, name);
  for (const t of initializers) w.message(5, t);
  for (const i of inputs) w.message(11, i);
  for (const o of outputs) w.message(12, o);
  return w;
}

/**
 * The IR version that goes with an opset of the default domain (from ONNX's versioning
 * table): runtimes refuse a model whose IR version is older than its opset needs.
 */
export function irVersionFor(opset: number): number {
  if (opset <= 12) return opset <= 11 ? 6 : 7;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/**
 * ModelProto: ir_version (1), producer_name (2), producer_version (3), graph (7),
 * opset_import (8: OperatorSetIdProto with domain 1, version 2).
 */
export function modelProto(graph: ProtoWriter, opset: number, producerVersion: string): Uint8Array {
  return new ProtoWriter()
    .int(1, irVersionFor(opset))
    .string(2, 'nabla')
    .string(3, producerVersion)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, opset))
    .finish();
}
