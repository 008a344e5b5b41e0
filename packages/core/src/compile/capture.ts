/**
 * Recording one call of a function at the backend interface. While a capture runs, the
 * backend's kernel table and storage methods are wrapped: kernel calls run as usual and are
 * appended to a list with their argument objects (which hold the buffers they touch),
 * allocations and frees are noted with their position, and host reads are refused. `plan.ts` turns the recording into a replayable program.
 */
import type { Backend, BackendBuffer, KernelArgs, KernelName, TypedArray } from '../backend.js';
import { wrapKernels } from '../backend-methods.js';
import type { Tensor } from '../tensor.js';
import { type CaptureSink, setActiveCapture } from './hooks.js';

/** One recorded kernel call: the kernel, its argument object as passed, and per-call extras. */
export interface RecordedCall {
  readonly kind: 'call';
  readonly kernel: KernelName;
  readonly args: KernelArgs;
  /** Scalars to re-read on replay (the args object's `scalars` array), when the caller marked them. */
  readonly scalarThunks: readonly ((() => number) | null)[] | null;
}

/** A host-side write of data into a buffer: constant, or drawn again on replay. */
export interface RecordedWrite {
  readonly kind: 'write';
  readonly buffer: BackendBuffer;
  readonly data: TypedArray;
  readonly draw: (() => TypedArray) | null;
}

/** A host-side state change to make again on replay. */
export interface RecordedEffect {
  readonly kind: 'effect';
  readonly run: () => void;
}

/**
 * A host-side check of values the function computed itself (indices made inside it): a
 * replay runs it at the same point of the program, reading the values then, as eager code does.
 */
export interface RecordedCheck {
  readonly kind: 'check';
  readonly buffer: BackendBuffer;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly check: (t: Tensor) => void;
}

export type RecordedStep = RecordedCall | RecordedWrite | RecordedEffect | RecordedCheck;

/** A value the recording depends on (see `guardValue`). */
export interface Guard {
  readonly what: string;
  readonly read: () => unknown;
  readonly value: unknown;
}

/** A check a replay runs on (a view of) one of its arguments before any kernel. */
export interface Precheck {
  readonly buffer: BackendBuffer;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly check: (t: Tensor) => void;
}

/** A capture in progress on one backend. */
export class Recording implements CaptureSink {
  readonly steps: RecordedStep[] = [];
  readonly guards: Guard[] = [];
  readonly zeroedLeaves = new Set<object>();
  readonly rehandedStorages = new Set<object>();
  readonly prechecks: Precheck[] = [];
  /** Buffers allocated during the capture, with the index of the next step at that moment. */
  readonly allocatedAt = new Map<BackendBuffer, number>();
  /** Buffers freed during the capture, with the index of the next step at that moment. */
  readonly freedAt = new Map<BackendBuffer, number>();
  /** The original (unwrapped) kernels, by name. */
  readonly kernels = new Map<KernelName, (args: KernelArgs) => void>();
  /** The original (unwrapped) `write`. */
  write: Backend['write'] | null = null;
  private pendingScalars: readonly ((() => number) | null)[] | null = null;
  private pendingDraw: (() => TypedArray) | null = null;
  private readonly restore: (() => void)[] = [];
  /** Kernel calls in progress: a kernel that calls another method records only itself. */
  private depth = 0;
  /** True while the capture runs host code of its own (a precheck), which may read. */
  private suspended = false;

  constructor(readonly backend: Backend) {}

  /** Wraps the backend's kernels and storage methods and makes this the active capture. */
  start(): void {
    const b = this.backend as unknown as Record<string, unknown>;
    const own = (name: string, replacement: unknown) => {
      const had = Object.hasOwn(b, name);
      const previous = b[name];
      b[name] = replacement;
      this.restore.push(() => {
        if (had) b[name] = previous;
        else delete b[name];
      });
    };
    this.restore.push(
      wrapKernels(this.backend, (name, original) => {
        this.kernels.set(name, original);
        return (args) => {
          if (this.depth > 0) return original(args);
          const scalarThunks = this.pendingScalars;
          this.pendingScalars = null;
          this.depth++;
          try {
            original(args);
            this.steps.push({ kind: 'call', kernel: name, args: args as KernelArgs, scalarThunks });
          } finally {
            this.depth--;
          }
        };
      }),
    );
    const alloc = (b.alloc as Backend['alloc']).bind(this.backend);
    // Storage calls run at depth > 0 too: what they call inside the backend is not a step.
    own('alloc', (size: number, dtype: BackendBuffer['dtype']) => {
      this.depth++;
      try {
        const buffer = alloc(size, dtype);
        this.allocatedAt.set(buffer, this.steps.length);
        return buffer;
      } finally {
        this.depth--;
      }
    });
    const dispose = (b.disposeBuffer as Backend['disposeBuffer']).bind(this.backend);
    own('disposeBuffer', (buffer: BackendBuffer) => {
      this.freedAt.set(buffer, this.steps.length);
      this.depth++;
      try {
        dispose(buffer);
      } finally {
        this.depth--;
      }
    });
    const write = (b.write as Backend['write']).bind(this.backend);
    this.write = write;
    own('write', (buffer: BackendBuffer, data: TypedArray) => {
      if (this.depth > 0) return write(buffer, data);
      const draw = this.pendingDraw;
      this.pendingDraw = null;
      this.depth++;
      try {
        write(buffer, data);
      } finally {
        this.depth--;
      }
      this.steps.push({ kind: 'write', buffer, data: data.slice(), draw });
    });
    const read = (b.read as Backend['read']).bind(this.backend);
    own('read', (buffer: BackendBuffer) => (this.suspended ? read(buffer) : this.hostRead('read')));
    if (this.backend.readSync) {
      const readSync = (b.readSync as NonNullable<Backend['readSync']>).bind(this.backend);
      own('readSync', (buffer: BackendBuffer) =>
        this.suspended ? readSync(buffer) : this.hostRead('readSync'),
      );
    }
    setActiveCapture(this);
  }

  /** Puts the backend's own methods back and ends the capture. */
  stop(): void {
    setActiveCapture(null);
    for (const undo of this.restore.reverse()) undo();
    this.restore.length = 0;
  }

  madeHere(buffer: object): boolean {
    return this.allocatedAt.has(buffer as BackendBuffer);
  }

  precheck(tensor: Tensor, check: (t: Tensor) => void): void {
    const { shape, strides, offset } = tensor;
    const buffer = tensor.storageFor('compile').buffer;
    // An argument's values are checked before the replay runs anything (`prechecks`); values
    // made inside the function are checked where they are made (the `check` step). Which
    // buffers are arguments is known once the capture ends, so both are noted.
    this.prechecks.push({ buffer, shape, strides, offset, check });
    this.steps.push({ kind: 'check', buffer, shape, strides, offset, check });
    // Checked now too, as eager code would, with the capture paused so the read is allowed.
    this.suspended = true;
    setActiveCapture(null);
    try {
      check(tensor);
    } finally {
      setActiveCapture(this);
      this.suspended = false;
    }
  }

  rehanded(storage: object): void {
    this.rehandedStorages.add(storage);
  }

  effect(run: () => void): void {
    this.steps.push({ kind: 'effect', run });
  }

  dynamicScalars(thunks: readonly ((() => number) | null)[]): void {
    this.pendingScalars = thunks;
  }

  dynamicData(draw: () => TypedArray): void {
    this.pendingDraw = draw;
  }

  guard(what: string, read: () => unknown, value: unknown): void {
    this.guards.push({ what, read, value });
  }

  /** The first host read refused during the capture (an async read's error would otherwise be lost). */
  violation: Error | null = null;

  hostRead(op: string): never {
    this.violation ??= new Error(
      `compile: '${op}' reads a tensor on the host inside a compiled function, which a replay cannot repeat. ` +
        'Move the read outside (call the compiled function, then read what it returns), or call the function eagerly.',
    );
    throw this.violation;
  }
}
