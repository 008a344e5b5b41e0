/**
 * The command stream: kernels encode dispatches into one pending command encoder and
 * return at once; the encoder is submitted (flushed) when the host needs data back, when
 * the uniform arena is full, or on `sync()`. Shapes and scalars travel in a 256-byte
 * uniform slot per dispatch, so one pipeline serves every size.
 */

/** Bytes of one dispatch's uniform slot (also WebGPU's usual minUniformBufferOffsetAlignment). */
export const PARAM_SLOT_BYTES = 256;
/** Number of 32-bit words a kernel can read from its slot. */
export const PARAM_WORDS = PARAM_SLOT_BYTES / 4;
/** Dispatches encoded before a flush is forced (the uniform arena has this many slots). */
const SLOTS = 256;

import { DEVICE_ERROR_BYTES, DeviceErrors } from './device-errors.js';

const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x08; /* COPY_DST */
const MAP_READ_USAGE = 0x01 /* MAP_READ */ | 0x08; /* COPY_DST */
const MAP_WRITE_USAGE = 0x02 /* MAP_WRITE */ | 0x04; /* COPY_SRC */
const MAP_MODE_READ = 1;

/** Sequential writer of a dispatch's uniform words. */
export class ParamWriter {
  private index = 0;
  constructor(
    private readonly u32: Uint32Array,
    private readonly i32: Int32Array,
    private readonly f32: Float32Array,
    private readonly base: number,
  ) {}
  private next(): number {
    if (this.index >= PARAM_WORDS)
      throw new Error(`WebGPU backend: more than ${PARAM_WORDS} kernel parameters`);
    return this.base + this.index++;
  }
  /** Appends an unsigned integer. */
  u(v: number): this {
    this.u32[this.next()] = v >>> 0;
    return this;
  }
  /** Appends a signed integer. */
  i(v: number): this {
    this.i32[this.next()] = v | 0;
    return this;
  }
  /** Appends a float (rounded to float32). */
  f(v: number): this {
    this.f32[this.next()] = v;
    return this;
  }
  /** Appends several unsigned integers. */
  us(vs: readonly number[]): this {
    for (const v of vs) this.u(v);
    return this;
  }
}

/** One storage binding of a dispatch, in binding order (binding 0 is the uniform slot). */
export interface Binding {
  readonly buffer: GPUBuffer;
  /** True when the shader declares it `read_write`. */
  readonly write: boolean;
}

/** Everything needed for one dispatch. */
export interface DispatchSpec {
  readonly source: string;
  readonly label: string;
  readonly bindings: readonly Binding[];
  readonly params: (w: ParamWriter) => void;
  readonly groups: readonly [number, number, number];
}

/**
 * The bind groups of one prepared kernel call (see `Runtime.withBindGroups`), by dispatch
 * within the call: reused while the call binds the same buffers (uniform slots are dynamic
 * offsets, so a bind group does not depend on the slot).
 */
export type BindGroupCache = { layout: GPUBindGroupLayout; buffers: GPUBuffer[]; group: GPUBindGroup }[];

/** The pending command stream of one device, plus the pipeline cache. */
export class Runtime {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Bind-group and pipeline layouts by binding signature (one `r`/`w` per storage binding). */
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly arena: GPUBuffer;
  private readonly host = new ArrayBuffer(SLOTS * PARAM_SLOT_BYTES);
  private readonly hostU32 = new Uint32Array(this.host);
  private readonly hostI32 = new Int32Array(this.host);
  private readonly hostF32 = new Float32Array(this.host);
  private slotsUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Buffers to destroy once the commands that use them are submitted. */
  private destroyAfterSubmit: GPUBuffer[] = [];
  private lostMessage: string | null = null;
  private errorMessage: string | null = null;
  /** Counters for tests and `info`: `bindGroups` counts bind groups created. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, bindGroups: 0 };
  /** The bind groups of the prepared call being encoded, if any, and its next dispatch. */
  private cache: BindGroupCache | null = null;
  private cacheIndex = 0;
  /** Bad inputs kernels report on the device; checked by every read (see device-errors.ts). */
  readonly deviceErrors: DeviceErrors;

  constructor(
    readonly device: GPUDevice,
    onLost?: (message: string) => void,
  ) {
    this.deviceErrors = new DeviceErrors(device);
    this.arena = device.createBuffer({
      size: SLOTS * PARAM_SLOT_BYTES,
      usage: UNIFORM_USAGE,
      label: 'nabla-params',
    });
    device.lost.then((info) => {
      this.lostMessage = `${info.reason ?? 'unknown'}: ${info.message || 'no message'}`;
      onLost?.(this.lostMessage);
    });
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      this.errorMessage ??= e.message;
    });
  }

  /** Throws when the device was lost or a previous command failed validation. */
  check(op: string): void {
    if (this.lostMessage !== null) {
      throw new Error(
        `WebGPU backend: the device was lost (${this.lostMessage}); '${op}' cannot run. Tensors on ` +
          "the lost device are gone: call resetWebGpuBackend() from '@nabla/backend-webgpu', then " +
          "await setBackend('webgpu') to open a new device.",
      );
    }
    if (this.errorMessage !== null) {
      const msg = this.errorMessage;
      this.errorMessage = null;
      throw new Error(`WebGPU backend: an earlier GPU command failed (${msg}); detected before '${op}'.`);
    }
  }

  /** True once the device is lost. */
  get lost(): boolean {
    return this.lostMessage !== null;
  }

  private layout(bindings: readonly Binding[]): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = bindings.map((b) => (b.write ? 'w' : 'r')).join('');
    let l = this.layouts.get(key);
    if (!l) {
      const compute = 0x4; // GPUShaderStage.COMPUTE
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: compute, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      bindings.forEach((b, i) => {
        entries.push({
          binding: i + 1,
          visibility: compute,
          buffer: { type: b.write ? 'storage' : 'read-only-storage' },
        });
      });
      const group = this.device.createBindGroupLayout({ entries, label: `nabla-${key}` });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, l);
    }
    return l;
  }

  /** The pipeline of a generated source, compiled once (the source fixes its binding layout). */
  private pipeline(source: string, label: string, layout: GPUPipelineLayout): GPUComputePipeline {
    let p = this.pipelines.get(source);
    if (!p) {
      const module = this.device.createShaderModule({ code: source, label });
      p = this.device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(source, p);
      this.stats.pipelines++;
    }
    return p;
  }

  private getEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'nabla' });
    return this.encoder;
  }

  private getPass(): GPUComputePassEncoder {
    this.pass ??= this.getEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Encodes one dispatch. Inputs that alias a written binding are read from a copy. */
  dispatch(spec: DispatchSpec): void {
    if (spec.groups[0] === 0 || spec.groups[1] === 0 || spec.groups[2] === 0) return;
    if (this.slotsUsed === SLOTS) this.flush();
    const written = spec.bindings.filter((b) => b.write).map((b) => b.buffer);
    const bindings = spec.bindings.map((b) => {
      if (b.write || !written.includes(b.buffer)) return b.buffer;
      return this.copyOf(b.buffer);
    });
    const slot = this.slotsUsed++;
    spec.params(new ParamWriter(this.hostU32, this.hostI32, this.hostF32, (slot * PARAM_SLOT_BYTES) / 4));
    const layout = this.layout(spec.bindings);
    const pipeline = this.pipeline(spec.source, spec.label, layout.pipeline);
    const group = this.bindGroup(layout.group, bindings);
    const pass = this.getPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [slot * PARAM_SLOT_BYTES]);
    pass.dispatchWorkgroups(spec.groups[0], spec.groups[1], spec.groups[2]);
    this.stats.dispatches++;
  }

  /**
   * Runs `encode` (one prepared kernel call) with its own bind groups: each of its dispatches
   * reuses the bind group it made last time while it binds the same buffers.
   */
  withBindGroups(cache: BindGroupCache, encode: () => void): void {
    this.cache = cache;
    this.cacheIndex = 0;
    try {
      encode();
    } finally {
      this.cache = null;
    }
  }

  private bindGroup(layout: GPUBindGroupLayout, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const cache = this.cache;
    const cached = cache?.[this.cacheIndex];
    if (cached && cached.layout === layout && sameBuffers(cached.buffers, buffers)) {
      this.cacheIndex++;
      return cached.group;
    }
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset: 0, size: PARAM_SLOT_BYTES } },
    ];
    buffers.forEach((buffer, i) => {
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    const group = this.device.createBindGroup({ layout, entries });
    this.stats.bindGroups++;
    if (cache) cache[this.cacheIndex++] = { layout, buffers: [...buffers], group };
    return group;
  }

  private copyOf(src: GPUBuffer): GPUBuffer {
    const tmp = this.device.createBuffer({
      size: src.size,
      usage: 0x80 | 0x04 | 0x08,
      label: 'nabla-alias-copy',
    });
    this.endPass();
    this.getEncoder().copyBufferToBuffer(src, 0, tmp, 0, src.size);
    this.destroyAfterSubmit.push(tmp);
    return tmp;
  }

  /**
   * Writes host bytes at the buffer's start, ordered after every pending dispatch: directly
   * when nothing is pending, else through a staging copy encoded in the stream (a plain
   * `queue.writeBuffer` would land before the pending commands that still use the buffer).
   */
  write(dst: GPUBuffer, data: ArrayBufferView): void {
    const bytes = data.byteLength;
    if (bytes === 0) return;
    const src = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, bytes);
    if (this.encoder === null) {
      this.device.queue.writeBuffer(dst, 0, src);
      return;
    }
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_WRITE_USAGE, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(src);
    staging.unmap();
    this.endPass();
    this.getEncoder().copyBufferToBuffer(staging, 0, dst, 0, bytes);
    this.destroyAfterSubmit.push(staging);
  }

  /** Destroys a buffer once the pending commands (which may use it) are submitted. */
  destroyLater(buffer: GPUBuffer): void {
    if (this.encoder === null) buffer.destroy();
    else this.destroyAfterSubmit.push(buffer);
  }

  /** Submits the pending commands. Uniform slots are reusable afterwards: queue order keeps them apart. */
  flush(): void {
    if (this.encoder === null) return;
    this.endPass();
    if (this.slotsUsed > 0)
      this.device.queue.writeBuffer(this.arena, 0, this.host, 0, this.slotsUsed * PARAM_SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slotsUsed = 0;
    this.stats.submits++;
    for (const b of this.destroyAfterSubmit) b.destroy();
    this.destroyAfterSubmit = [];
  }

  /** Copies `bytes` bytes of a buffer to the host, after all pending work. */
  async read(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, bytes);
    // Kernels' device-error flags ride along after the data when something may have reported.
    const reportingOp = this.deviceErrors.pending;
    const flagsAt = Math.ceil(size / 4) * 4;
    const staging = this.device.createBuffer({
      size: reportingOp === null ? size : flagsAt + DEVICE_ERROR_BYTES,
      usage: MAP_READ_USAGE,
      label: 'nabla-readback',
    });
    this.endPass();
    const encoder = this.getEncoder();
    encoder.copyBufferToBuffer(src, 0, staging, 0, size);
    if (reportingOp !== null) this.deviceErrors.copyInto(encoder, staging, flagsAt);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
    } catch (err) {
      staging.destroy();
      this.check('read');
      throw new Error(`WebGPU backend: reading a buffer back failed (${(err as Error).message})`);
    }
    const mapped = staging.getMappedRange();
    const out = mapped.slice(0, bytes);
    const flags =
      reportingOp === null ? null : new Uint32Array(mapped.slice(flagsAt, flagsAt + DEVICE_ERROR_BYTES));
    staging.unmap();
    staging.destroy();
    this.check('read');
    if (flags) this.deviceErrors.check(reportingOp!, flags);
    return out;
  }

  /** Resolves when all submitted work has finished. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check('sync');
  }

  /** Drops pending work and the pipeline cache. */
  destroy(): void {
    this.endPass();
    this.encoder = null;
    for (const b of this.destroyAfterSubmit) b.destroy();
    this.destroyAfterSubmit = [];
    this.pipelines.clear();
    this.layouts.clear();
    this.arena.destroy();
    this.deviceErrors.destroy();
  }
}

function sameBuffers(a: readonly GPUBuffer[], b: readonly GPUBuffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
