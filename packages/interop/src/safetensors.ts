/**
 * The safetensors container: an 8-byte little-endian header length N, N bytes of JSON
 * (`{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {..} }`), then
 * the raw little-endian tensor bytes, offsets relative to the start of that data section.
 *
 * This file knows bytes and typed arrays only (no tensors), so it is usable on its own and
 * every check on an untrusted file happens before any tensor is made.
 */

/** On-disk dtypes Nabla reads. I64 is narrowed to int32 when every value fits. */
export type SafetensorsDType = 'F32' | 'I32' | 'I64';

/** One tensor as raw host data. `data` is float32 for F32 and int32 for I32 and I64. */
export interface RawTensor {
  /** The dtype on disk (or to write). For `I64`, `data` holds the values as int32. */
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A decoded file: tensors by name, in file order, plus the optional string metadata. */
export interface DecodedSafetensors {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string> | null;
}

const ITEM_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** Headers beyond this are refused: a corrupted length must not make us allocate gigabytes. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Thrown for a file that is not valid safetensors; the message says what and where. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Serializes tensors to safetensors bytes. Tensors are written in the given order; the
 * header is padded with spaces so the data section starts 8-byte aligned (as the reference
 * writer does). `I64` entries take int32 `data` and widen it.
 */
export function encodeSafetensors(
  tensors: Iterable<[string, RawTensor]>,
  metadata: Record<string, string> | null = { format: 'pt' },
): Uint8Array {
  // No prototype: tensor names such as 'constructor' or '__proto__' must be plain keys.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) header.__metadata__ = metadata;
  const entries = [...tensors];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new Error(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (Object.hasOwn(header, name)) throw new Error(`safetensors: duplicate tensor name '${name}'`);
    if (sizeOf(t.shape) !== t.data.length) {
      throw new Error(`safetensors: '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    }
    const bytes = t.data.length * ITEM_SIZE[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    const n = t.data.length;
    const sameType = t.dtype === 'F32' ? t.data instanceof Float32Array : t.data instanceof Int32Array;
    if (t.dtype !== 'I64' && sameType && littleEndianHost) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, 4 * n), at); // already the on-disk bytes
    } else if (t.dtype === 'F32') for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    else if (t.dtype === 'I32') for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, t.data[i], true);
    else {
      for (let i = 0; i < n; i++) {
        const v = t.data[i];
        view.setInt32(at + 8 * i, v, true);
        view.setInt32(at + 8 * i + 4, v < 0 ? -1 : 0, true); // sign extension of the high word
      }
    }
    at += n * ITEM_SIZE[t.dtype];
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and checks the header; every structural problem is collected, then thrown together. */
function parseHeader(bytes: Uint8Array): {
  entries: HeaderEntry[];
  metadata: Record<string, string> | null;
  dataStart: number;
} {
  if (bytes.length < 8) {
    throw new SafetensorsError(
      `safetensors: file is ${bytes.length} bytes, too short for the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new SafetensorsError(
      `safetensors: header length ${n64} does not fit the file (${bytes.length} bytes; at most ${Math.min(MAX_HEADER_BYTES, bytes.length - 8)} available): truncated or not a safetensors file`,
    );
  }
  const n = Number(n64);
  if (n === 0) throw new SafetensorsError('safetensors: header length is 0');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError('safetensors: header JSON must be an object');
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const problems: string[] = [];
  let metadata: Record<string, string> | null = null;
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof raw !== 'object' ||
        raw === null ||
        Array.isArray(raw) ||
        Object.values(raw).some((v) => typeof v !== 'string')
      ) {
        problems.push(`'__metadata__' must be an object of strings`);
      } else metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== 'object' || e === null) {
      problems.push(`'${name}': entry must be an object with dtype, shape and data_offsets`);
      continue;
    }
    const { dtype, shape, data_offsets: offs } = e;
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) {
      problems.push(`'${name}': unknown dtype ${JSON.stringify(dtype)}`);
      continue;
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      problems.push(
        `'${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
      continue;
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegativeInt) || offs[1] < offs[0]) {
      problems.push(
        `'${name}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`,
      );
      continue;
    }
    const [begin, end] = offs as [number, number];
    const expected = sizeOf(shape) * ITEM_SIZE[dtype];
    if (end - begin !== expected) {
      problems.push(
        `'${name}': ${dtype} [${shape.join(', ')}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
      continue;
    }
    if (end > dataLength) {
      problems.push(
        `'${name}': data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes): truncated file`,
      );
      continue;
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // The format requires the data section to be covered exactly: no overlaps, no holes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin < covered)
      problems.push(`'${e.name}': data_offsets [${e.begin}, ${e.end}] overlap another tensor`);
    else if (e.begin > covered)
      problems.push(`bytes [${covered}, ${e.begin}) of the data section belong to no tensor`);
    covered = Math.max(covered, e.end);
  }
  if (problems.length === 0 && covered !== dataLength) {
    problems.push(
      `the data section has ${dataLength} bytes but the tensors cover ${covered}: extra or missing bytes`,
    );
  }
  if (problems.length) throw new SafetensorsError(`safetensors: invalid file:\n  ${problems.join('\n  ')}`);
  return { entries, metadata, dataStart };
}

/** Copies `count` items of `itemSize` bytes starting at `at`, converting from little-endian. */
function readF32(bytes: Uint8Array, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (littleEndianHost) new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * count));
  else {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * count);
    for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, true);
  }
  return out;
}

function readI32(bytes: Uint8Array, at: number, count: number): Int32Array {
  const out = new Int32Array(count);
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * count);
  for (let i = 0; i < count; i++) out[i] = v.getInt32(4 * i, true);
  return out;
}

/** I64 to int32; returns the index of the first value outside int32, or the array. */
function readI64(
  bytes: Uint8Array,
  at: number,
  count: number,
): Int32Array | { badIndex: number; value: bigint } {
  const out = new Int32Array(count);
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8 * count);
  for (let i = 0; i < count; i++) {
    const lo = v.getInt32(8 * i, true);
    const hi = v.getInt32(8 * i + 4, true);
    // In int32 range exactly when the high word is the sign extension of the low word.
    if (hi !== (lo < 0 ? -1 : 0)) return { badIndex: i, value: v.getBigInt64(8 * i, true) };
    out[i] = lo;
  }
  return out;
}

/**
 * Parses safetensors bytes into host arrays. Validates the header length, the JSON, each
 * entry's dtype/shape/offsets and that the tensors tile the data section exactly; reads F32,
 * I32 and I64 (narrowed to int32, an error if a value does not fit). Any other dtype is an
 * error naming the tensor. All problems found are reported in one {@link SafetensorsError}.
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { entries, metadata, dataStart } = parseHeader(bytes);
  const problems: string[] = [];
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    const count = sizeOf(e.shape);
    const at = dataStart + e.begin;
    if (e.dtype === 'F32')
      tensors.set(e.name, { dtype: 'F32', shape: e.shape, data: readF32(bytes, at, count) });
    else if (e.dtype === 'I32')
      tensors.set(e.name, { dtype: 'I32', shape: e.shape, data: readI32(bytes, at, count) });
    else if (e.dtype === 'I64') {
      const r = readI64(bytes, at, count);
      if (r instanceof Int32Array) tensors.set(e.name, { dtype: 'I64', shape: e.shape, data: r });
      else problems.push(`'${e.name}': I64 value ${r.value} at index ${r.badIndex} does not fit in int32`);
    } else {
      problems.push(`'${e.name}': dtype ${e.dtype} is not supported (Nabla reads F32, I32 and I64)`);
    }
  }
  if (problems.length) throw new SafetensorsError(`safetensors: cannot read:\n  ${problems.join('\n  ')}`);
  // Keep the header's order (JSON object order), which is how the file was written.
  return { tensors, metadata };
}
