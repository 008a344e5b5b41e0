/**
 * Safetensors for Nabla state dicts: PyTorch's key names, F32 for float32 tensors and I64
 * for `num_batches_tracked` (an int32 scalar in Nabla, int64 in PyTorch).
 */
import { type Tensor, tensor } from '@nabla/core';
import type { Module, StateDict } from '@nabla/nn';
import { decodeSafetensors, encodeSafetensors, type RawTensor, SafetensorsError } from './safetensors.js';

/** PyTorch stores these counters as int64; every other int32 tensor is written as I32. */
function isInt64InTorch(name: string): boolean {
  return name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
}

/**
 * Serializes a state dict (e.g. `module.stateDict()`) to safetensors bytes that
 * `safetensors.torch.load_file` reads into a PyTorch `load_state_dict`. Async because
 * values are read back from the tensors' backend (WebGPU cannot read synchronously).
 */
export async function toSafetensors(
  stateDict: StateDict,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<Uint8Array> {
  const entries: [string, RawTensor][] = [];
  for (const [name, t] of Object.entries(stateDict)) {
    const data = (await t.data()) as Float32Array | Int32Array;
    const dtype = t.dtype === 'float32' ? 'F32' : isInt64InTorch(name) ? 'I64' : 'I32';
    entries.push([name, { dtype, shape: [...t.shape], data }]);
  }
  return encodeSafetensors(entries, metadata);
}

/**
 * Parses safetensors bytes into new tensors on the current backend (F32 → float32; I32 and
 * I64 → int32). The caller owns the tensors. Throws {@link SafetensorsError} on a corrupt file.
 */
export function fromSafetensors(bytes: Uint8Array | ArrayBuffer): StateDict {
  const { tensors } = decodeSafetensors(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const out: StateDict = {};
  for (const [name, raw] of tensors) setOwn(out, name, makeTensor(raw));
  return out;
}

/** Defines `obj[key]` as an own property, so a name like `'__proto__'` stays a plain key. */
function setOwn(obj: StateDict, key: string, value: Tensor): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function makeTensor(raw: RawTensor): Tensor {
  return tensor(raw.data, { shape: raw.shape, dtype: raw.dtype === 'F32' ? 'float32' : 'int32' });
}

/** Options of {@link loadSafetensors}. */
export interface LoadOptions {
  /** Require the file's names to match the module's exactly (default true). Shapes and dtypes are always checked. */
  strict?: boolean;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Loads safetensors bytes into `module` in place. Every name, shape and dtype is checked
 * against `module.stateDict()` first and all mismatches are reported in one error; nothing
 * is copied unless every check passes. float32 tensors need F32; int32 tensors take I32 or I64.
 */
export function loadSafetensors(module: Module, bytes: Uint8Array, options: LoadOptions = {}): void {
  const strict = options.strict ?? true;
  const { tensors } = decodeSafetensors(bytes);
  const own = module.stateDict();
  const problems: string[] = [];
  const missing = Object.keys(own).filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !Object.hasOwn(own, k));
  if (strict && missing.length)
    problems.push(`missing from the file: ${missing.map((k) => `'${k}'`).join(', ')}`);
  if (strict && unexpected.length)
    problems.push(`not in the model: ${unexpected.map((k) => `'${k}'`).join(', ')}`);
  for (const [name, target] of Object.entries(own)) {
    const raw = tensors.get(name);
    if (!raw) continue;
    if (raw.shape.length !== target.shape.length || raw.shape.some((d, i) => d !== target.shape[i])) {
      problems.push(
        `'${name}': shape ${shapeText(raw.shape)} in the file, ${shapeText(target.shape)} in the model`,
      );
    }
    const ok = target.dtype === 'float32' ? raw.dtype === 'F32' : raw.dtype === 'I32' || raw.dtype === 'I64';
    if (!ok) problems.push(`'${name}': dtype ${raw.dtype} in the file, ${target.dtype} in the model`);
  }
  if (problems.length) {
    throw new SafetensorsError(
      `load: the file does not match ${module.constructor.name} (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
    );
  }
  const sd: StateDict = {};
  try {
    for (const [name, raw] of tensors) if (Object.hasOwn(own, name)) setOwn(sd, name, makeTensor(raw));
    module.loadStateDict(sd, { strict: false });
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}
