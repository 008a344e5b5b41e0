/**
 * A minimal protocol-buffers writer: enough of the wire format to emit an ONNX ModelProto.
 * Wire types used: 0 (varint), 2 (length-delimited: bytes, strings, sub-messages, packed
 * repeated scalars) and 5 (32-bit: float). Messages are built bottom-up: a sub-message is
 * finished to bytes, then written into its parent as a length-delimited field.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Builds one message's bytes field by field. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /**
   * Appends a varint. Negative numbers are written as 64-bit two's complement (10 bytes),
   * which is how int32/int64 fields encode them.
   */
  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new Error(`protobuf: ${value} is not an integer that a varint can hold exactly`);
    }
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field (varint). */
  int(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.varint(typeof value === 'boolean' ? Number(value) : value);
    return this;
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.flushScratch();
    this.push(value);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A sub-message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64/int32 field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
    return this.bytes(field, b);
  }

  /** The message's bytes so far. */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
